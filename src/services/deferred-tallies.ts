import { Prisma, provider, type Tx } from '../db/index.js';
import { txRows } from '../db/reader.js';
import { isContactLabel, tallySides, type LinkLabel, type LinkUsage, type TallySide } from './link-rules.js';

/**
 * Links an import on SQLite creates before their tallies are counted in (`settle`). All at the
 * end, a million links raised the import's peak RSS from 256 to 315 MB (SQLite groups them in
 * memory); after every batch of 1,000 the import took a third longer.
 */
const SQLITE_SETTLE_LINKS = 100_000;

/** A new association, as a batch of links created it. */
export interface CreatedLink {
  id: number;
  label: LinkLabel;
  firstId: number;
  secondId: number;
}

/**
 * The usage tallies of an import's links, counted in by the import rather than by the triggers:
 * once before its transaction commits (PostgreSQL), or set-based every 100,000 links (SQLite).
 *
 * The triggers that keep the tallies (prisma/migrations/<provider>/0004_label_limits_and_tallies)
 * count each statement's new associations. An import in one transaction writes a thousand links
 * per statement, a record's in many of them: on PostgreSQL its tally rows would keep a version per
 * batch until the commit, in the table and in each of its indexes, and every later read and update
 * walk them (at 1,000,000 rows, 190 of 412 seconds); on SQLite the triggers run per row. So an
 * import's transaction puts its workspace in "TallyDeferral", and the insert triggers leave that
 * workspace's tallies alone. This ledger keeps what the import created: `applyLinks` loads the
 * tallies' rows and then, through `load`, what the transaction added to them, so its limits decide
 * from the same usage as with the triggers. Before the transaction commits, `flush` takes the
 * workspace out of "TallyDeferral" and counts all of its links in at once, as the PostgreSQL
 * trigger does for one statement ("association_tally_add", prisma/migrations/postgresql/
 * 0010_deferred_tallies). SQLite counts them in every SQLITE_SETTLE_LINKS links (`settle`), with
 * the same three statements (here).
 */
export class DeferredTallies {
  /** The associations created, as runs of consecutive ids: `firsts[i]` to `lasts[i]`. */
  private readonly firsts: number[] = [];
  private readonly lasts: number[] = [];
  /** "label:side" → associations added per record. */
  private readonly partners = new Map<string, Counts>();
  /** Records that joined each label. */
  private readonly labelRecords = new Map<number, number>();
  /** Contact associations added per contact. */
  private contacts = new Counts();
  /** Links created since the tallies last counted them in. */
  private pending = 0;
  private flushed = false;

  private constructor(
    private readonly workspaceId: number,
    private readonly settleLinks: number,
  ) {}

  /**
   * Defers the tallies of the links `tx` creates in the workspace, until `flush`. The caller holds
   * the workspace's write lock: nothing else changes its tallies meanwhile.
   */
  static async begin(tx: Tx, workspaceId: number, { settleLinks = SQLITE_SETTLE_LINKS } = {}): Promise<DeferredTallies> {
    await txRows(tx, Prisma.sql`INSERT INTO "TallyDeferral" ("workspaceId") VALUES (${workspaceId}) RETURNING "workspaceId"`);
    return new DeferredTallies(workspaceId, settleLinks);
  }

  /** Adds to `usage` what the transaction created that the tally rows do not count yet. */
  load(usage: LinkUsage, records: Iterable<readonly [labelId: number, recordId: number]>, labelIds: Iterable<number>, contactIds: Iterable<number>): void {
    for (const [labelId, recordId] of records) {
      for (const side of [0, 1, 2] as const) {
        const added = this.partners.get(`${labelId}:${side}`)?.get(recordId);
        if (added) usage.recordTally(labelId, recordId, side, added);
      }
    }
    for (const labelId of labelIds) {
      const joined = this.labelRecords.get(labelId);
      if (joined) usage.labelTally(labelId, joined);
    }
    for (const recordId of contactIds) {
      const added = this.contacts.get(recordId);
      if (added) usage.contactTally(recordId, added);
    }
  }

  /** Counts in a batch's new links, which `usage` decided (and counted the records that joined a label). */
  count(usage: LinkUsage, created: readonly CreatedLink[]): void {
    if (this.flushed) throw new Error('The deferred tallies were counted in already.');
    const labels = new Set<number>();
    this.pending += created.length;
    for (const { id, label, firstId, secondId } of created) {
      if (this.lasts.at(-1) === id - 1) {
        this.lasts[this.lasts.length - 1] = id;
      } else {
        this.firsts.push(id);
        this.lasts.push(id);
      }
      labels.add(label.id);
      const [firstSide, secondSide] = tallySides(label);
      this.partnersOn(label.id, firstSide).add(firstId, 1);
      this.partnersOn(label.id, secondSide).add(secondId, 1);
      if (isContactLabel(label)) {
        this.contacts.add(firstId, 1);
        this.contacts.add(secondId, 1);
      }
    }
    for (const labelId of labels) this.labelRecords.set(labelId, (this.labelRecords.get(labelId) ?? 0) + usage.joined(labelId));
  }

  private partnersOn(labelId: number, side: TallySide): Counts {
    const key = `${labelId}:${side}`;
    let counts = this.partners.get(key);
    if (!counts) this.partners.set(key, (counts = new Counts()));
    return counts;
  }

  /**
   * After each batch. SQLite counts the links in once `settleLinks` have piled up (a row is
   * updated in place there, so counting in more often costs no versions, and the ledger and
   * SQLite's grouping of the links stay small); PostgreSQL waits for `flush`.
   */
  async settle(tx: Tx): Promise<void> {
    if (provider === 'postgresql' || this.pending < this.settleLinks) return;
    await this.countIn(tx);
    this.pending = 0;
    this.firsts.length = 0;
    this.lasts.length = 0;
    this.partners.clear();
    this.labelRecords.clear();
    this.contacts = new Counts();
  }

  /** Counts every link created in the tallies, and ends the deferral: call it last, before commit. */
  async flush(tx: Tx): Promise<void> {
    this.flushed = true;
    await txRows(tx, Prisma.sql`DELETE FROM "TallyDeferral" WHERE "workspaceId" = ${this.workspaceId} RETURNING "workspaceId"`);
    await this.countIn(tx);
  }

  /** Counts the links created (since the last `settle`) in the tallies. */
  private async countIn(tx: Tx): Promise<void> {
    if (this.firsts.length === 0) return;
    if (provider === 'postgresql') {
      // One statement for the whole file, as long as the file needs, like the import itself: not
      // under the statement time limit of a server running it as a job (at 1 s, a 50,000-link
      // import's count-in was cut off and the whole import rolled back).
      const [limit] = await txRows<{ value: string }>(tx, Prisma.sql`SELECT current_setting('statement_timeout') AS "value"`);
      await txRows(tx, Prisma.sql`SELECT set_config('statement_timeout', '0', true) AS "set"`);
      await txRows(tx, Prisma.sql`SELECT "association_tally_add"(${this.firsts}::int[], ${this.lasts}::int[]) IS NULL AS "done"`);
      await txRows(tx, Prisma.sql`SELECT set_config('statement_timeout', ${limit!.value}, true) AS "set"`);
      return;
    }
    // The runs first, then each run's ids by rowid.
    const runs = JSON.stringify(this.firsts.map((first, i) => [first, this.lasts[i]]));
    const inserted = Prisma.sql`(
      SELECT a."labelId", a."firstRecordId", a."secondRecordId", a."workspaceId"
      FROM json_each(${runs}) k CROSS JOIN "Association" a
      WHERE a."id" BETWEEN json_extract(k.value, '$[0]') AND json_extract(k.value, '$[1]'))`;
    const side = (other: 1 | 2) => Prisma.raw(`CASE WHEN l."type" = 'SINGLE' AND l."firstObjectId" = l."secondObjectId" THEN 0 ELSE ${other} END`);
    await txRows(tx, Prisma.sql`
      INSERT INTO "RecordLabelTally" ("labelId", "recordId", "side", "associations")
      SELECT s."labelId", s."recordId", s."side", COUNT(*) FROM (
        SELECT i."labelId", i."firstRecordId" AS "recordId", ${side(1)} AS "side" FROM ${inserted} i JOIN "AssociationLabel" l ON l."id" = i."labelId"
        UNION ALL
        SELECT i."labelId", i."secondRecordId", ${side(2)} FROM ${inserted} i JOIN "AssociationLabel" l ON l."id" = i."labelId"
      ) s
      WHERE true
      GROUP BY s."labelId", s."recordId", s."side"
      ON CONFLICT ("labelId", "recordId", "side") DO UPDATE SET "associations" = "associations" + excluded."associations"`);
    await txRows(tx, Prisma.sql`
      INSERT INTO "LabelTally" ("labelId", "records")
      SELECT added."labelId", COUNT(*) FROM (
        SELECT r."labelId", r."recordId", COUNT(*) AS "n" FROM (
          SELECT i."labelId", i."firstRecordId" AS "recordId" FROM ${inserted} i
          UNION ALL
          SELECT i."labelId", i."secondRecordId" FROM ${inserted} i
        ) r
        GROUP BY r."labelId", r."recordId"
      ) added
      WHERE (SELECT SUM(t."associations") FROM "RecordLabelTally" t WHERE t."labelId" = added."labelId" AND t."recordId" = added."recordId") = added."n"
      GROUP BY added."labelId"
      ON CONFLICT ("labelId") DO UPDATE SET "records" = "records" + excluded."records"`);
    await txRows(tx, Prisma.sql`
      INSERT INTO "ContactTally" ("recordId", "workspaceId", "associations")
      SELECT r."recordId", r."workspaceId", COUNT(*) FROM (
        SELECT i."firstRecordId" AS "recordId", i."workspaceId", i."labelId" FROM ${inserted} i
        UNION ALL
        SELECT i."secondRecordId", i."workspaceId", i."labelId" FROM ${inserted} i
      ) r
      JOIN "AssociationLabel" l ON l."id" = r."labelId"
      JOIN "Object" o ON o."id" = l."firstObjectId"
      WHERE l."secondObjectId" = l."firstObjectId" AND o."key" = 'contact'
      GROUP BY r."recordId", r."workspaceId"
      ON CONFLICT ("recordId") DO UPDATE SET "associations" = "associations" + excluded."associations"`);
  }
}

/**
 * A count per record id (a positive 32-bit integer), in an open-addressing table of two typed
 * arrays: 8 bytes a slot, at most half of them used. A `Map` of numbers took about 36 bytes an
 * entry, and an import of a million links between 250,000 contacts keeps 1.75 million counts.
 */
class Counts {
  private keys = new Int32Array(1024);
  private values = new Int32Array(1024);
  private shift = 32 - 10;
  private size = 0;

  /** Fibonacci hashing: the multiplication's top bits, which every bit of the key changes. */
  private slot(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }

  get(key: number): number {
    const mask = this.keys.length - 1;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const found = this.keys[i]!;
      if (found === key) return this.values[i]!;
      if (found === 0) return 0;
    }
  }

  add(key: number, n: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const found = this.keys[i]!;
      if (found === key) {
        this.values[i]! += n;
        return;
      }
      if (found === 0) {
        this.keys[i] = key;
        this.values[i] = n;
        this.size += 1;
        return;
      }
    }
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Int32Array(keys.length * 2);
    this.values = new Int32Array(keys.length * 2);
    this.shift -= 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.add(keys[i]!, values[i]!);
  }
}
