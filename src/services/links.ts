import type { Association, AssociationLabel, ObjectModel } from '../db/generated/sqlite/client.js';
import { Prisma, provider, type Tx } from '../db/index.js';
import { inIds, inTexts, timestamp, txRows } from '../db/reader.js';
import { recordEvents, type AssociationSnapshot, type FeedEvent } from '../feed/events.js';
import type { DeferredTallies } from './deferred-tallies.js';
import { DomainError, LimitExceededError, NotFoundError, ObjectMismatchError, ValidationError, atIndex } from './errors.js';
import { isContactLabel, LinkUsage, type LinkLabel, type TallySide, type WorkspaceLimits } from './link-rules.js';
import { lockedTransaction } from './lock.js';
import { isRestricted, type Viewer } from './viewer.js';
import { visibleRecordSql, visibleRecordWhere } from './visibility.js';

type LabelWithObjects = AssociationLabel & { firstObject: ObjectModel; secondObject: ObjectModel };

/**
 * Removes associations, writing one UNLINKED event each (feed/events.ts), and returns how many.
 * `more` are events of the same change, appended after them (a record's or label's deletion).
 */
export async function removeAssociations(
  tx: Tx,
  viewer: Viewer,
  where: Prisma.AssociationWhereInput,
  more: readonly FeedEvent[] = [],
): Promise<number> {
  const ids = (await tx.association.findMany({ where, select: { id: true }, orderBy: { id: 'asc' } })).map((row) => row.id);
  const snapshots = await associationSnapshots(tx, ids);
  if (ids.length) await tx.association.deleteMany({ where: { id: { in: ids } } });
  await recordEvents(tx, viewer, [...snapshots.map((association) => ({ action: 'UNLINKED' as const, association })), ...more]);
  return ids.length;
}

/**
 * What the UNLINKED events of these associations name (their label, both records with their
 * object keys), in id order: one statement, where Prisma's nested selects would take six.
 */
async function associationSnapshots(tx: Tx, ids: readonly number[]): Promise<AssociationSnapshot[]> {
  if (ids.length === 0) return [];
  const rows = await tx.$queryRaw<Record<string, unknown>[]>`
    SELECT a."id", l."id" AS "labelId", l."key", l."type", l."cardinality", l."firstLabel", l."secondLabel",
      fo."key" AS "firstObjectKey", so."key" AS "secondObjectKey",
      f."id" AS "firstId", f."displayName" AS "firstName", s."id" AS "secondId", s."displayName" AS "secondName"
    FROM "Association" a
    JOIN "AssociationLabel" l ON l."id" = a."labelId"
    JOIN "Object" fo ON fo."id" = l."firstObjectId"
    JOIN "Object" so ON so."id" = l."secondObjectId"
    JOIN "Record" f ON f."id" = a."firstRecordId"
    JOIN "Record" s ON s."id" = a."secondRecordId"
    WHERE ${inIds(provider, Prisma.sql`a."id"`, ids)}
    ORDER BY a."id"`;
  return rows.map((row) => ({
    id: Number(row.id),
    label: {
      id: Number(row.labelId),
      key: String(row.key),
      type: String(row.type),
      cardinality: String(row.cardinality),
      firstLabel: String(row.firstLabel),
      secondLabel: String(row.secondLabel),
      firstObject: { key: String(row.firstObjectKey) },
      secondObject: { key: String(row.secondObjectKey) },
    },
    firstRecord: { id: Number(row.firstId), displayName: String(row.firstName), object: { key: String(row.firstObjectKey) } },
    secondRecord: { id: Number(row.secondId), displayName: String(row.secondName), object: { key: String(row.secondObjectKey) } },
  }));
}

export interface PairInput {
  firstRecordId: number | null;
  secondRecordId: number | null;
}

async function resolveRecords(tx: Tx, viewer: Viewer, input: PairInput) {
  if (input.firstRecordId !== null && input.firstRecordId === input.secondRecordId) {
    throw new ValidationError('A record cannot be linked to itself.', 'secondRecordId');
  }
  const ids = [input.firstRecordId, input.secondRecordId].filter((id): id is number => id !== null);
  const found = await tx.recordModel.findMany({
    where: { id: { in: ids }, ...visibleRecordWhere(viewer) },
    select: { id: true, objectId: true, displayName: true },
  });
  const first = found.find((record) => record.id === input.firstRecordId);
  const second = found.find((record) => record.id === input.secondRecordId);
  if (!first) throw new NotFoundError('No record with that firstRecordId.');
  if (!second) throw new NotFoundError('No record with that secondRecordId.');
  return { first, second };
}

async function resolveLabels(tx: Tx, viewer: Viewer, keys: readonly string[]): Promise<LabelWithObjects[]> {
  const unique = [...new Set(keys)];
  const labels = await tx.associationLabel.findMany({
    where: { workspaceId: viewer.workspaceId, key: { in: unique } },
    include: { firstObject: true, secondObject: true },
  });
  for (const key of unique) {
    if (!labels.some((label) => label.key === key)) throw new NotFoundError(`No association label with key "${key}".`);
  }
  return unique.map((key) => labels.find((label) => label.key === key)!);
}

/**
 * The (first, second) order a pair is stored in under a label (SPEC rule 8): the label's
 * object order for labels between two objects; the given order for a PAIR label on one object
 * (A→B and B→A differ); the lower id first for a SINGLE label on one object (A–B is B–A).
 */
export function orderPair(
  label: Pick<AssociationLabel, 'key' | 'type' | 'firstObjectId' | 'secondObjectId'>,
  a: { id: number; objectId: number },
  b: { id: number; objectId: number },
): [number, number] {
  if (label.firstObjectId === label.secondObjectId) {
    if (a.objectId !== label.firstObjectId || b.objectId !== label.firstObjectId) {
      throw new ObjectMismatchError(`Label "${label.key}" links two records of the same object; these records do not match it.`);
    }
    return label.type === 'SINGLE' && a.id > b.id ? [b.id, a.id] : [a.id, b.id];
  }
  if (a.objectId === label.firstObjectId && b.objectId === label.secondObjectId) return [a.id, b.id];
  if (b.objectId === label.firstObjectId && a.objectId === label.secondObjectId) return [b.id, a.id];
  throw new ObjectMismatchError(`The records do not match the objects of label "${label.key}".`);
}

function checkLabelKeys(keys: readonly string[] | null | undefined, required: boolean): void {
  if (keys && keys.length === 0 && required) throw new ValidationError('labelKeys must name at least one label.', 'labelKeys');
  if (keys && keys.length > 10) throw new ValidationError('labelKeys takes at most 10 labels.', 'labelKeys');
}

/** In a batch, a failing item's error names its index; a single mutation's error has none. */
const itemRunner = (batch: boolean) =>
  batch ? atIndex : <T>(_index: number, fn: () => Promise<T>): Promise<T> => fn();

export interface LinkInput extends PairInput {
  labelKeys: readonly string[];
}

export interface LinkOutcome {
  /** One per (item, label), in item order then label order: new or already there. */
  associations: Association[];
  /** New associations (each with its LINKED event). */
  createdCount: number;
  /** Associations that were already there, or made by an earlier item of the same call. */
  existingCount: number;
}

export interface ApplyLinksOptions {
  /** Errors carry the failing item's index (a batch mutation, an import). */
  batch?: boolean;
  /**
   * Given, a failing item is reported here (its index, its error) and nothing of it is written;
   * the items after it go on. Without it the first failing item throws, before anything is written.
   */
  onReject?: (index: number, error: Error) => void;
  /** The transaction's tallies are deferred (an import in one transaction): what it created is counted here. */
  tallies?: DeferredTallies | null;
}

/** Rows written per INSERT. */
const INSERT_CHUNK = 1000;

type LinkRecord = { id: number; objectId: number; displayName: string };

/** One (label, pair) of an item, in the label's stored order. */
interface LinkPair {
  label: LinkLabel;
  first: LinkRecord;
  second: LinkRecord;
  key: string;
}

/** What an item asks for: its pairs, then (if any) the error its next step meets. */
interface ItemPlan {
  pairs: LinkPair[];
  error: DomainError | null;
}

const tripleKey = (labelId: number, firstId: number, secondId: number) => `${labelId}:${firstId}:${secondId}`;

/**
 * Decides and writes links inside `tx`; the caller holds the workspace lock (lockedTransaction).
 * Items are decided in order, each against the database and the items before it (limits,
 * cardinality, same-object order, visibility), with the errors linkRecords gives. Writes the
 * LINKED events of what it created.
 *
 * The rules are decided per batch, not per pair, so a batch costs a constant handful of
 * statements whatever its size: one read of the workspace's limits with the labels named, one of
 * the records (visible to the viewer), one of the existing associations among the batch's
 * (label, first, second) triples, one of the usage tallies of the labels and records that new
 * associations would touch (link-rules.ts decides in memory from those), then one INSERT per
 * 1,000 new associations and the events (recordEvents). Per item, the checks run in the order
 * they always have: label keys, self-link, the first then the second record, the labels, then
 * per label its objects, whether it exists already (returned as it is, not counted against a
 * limit), and the limits.
 */
export async function applyLinks(tx: Tx, viewer: Viewer, items: readonly LinkInput[], options: ApplyLinksOptions = {}): Promise<LinkOutcome> {
  const { batch = false, onReject, tallies = null } = options;
  if (items.length === 0) return { associations: [], createdCount: 0, existingCount: 0 };

  const { limits, labels } = await readLabels(tx, viewer, [...new Set(items.flatMap((item) => item.labelKeys ?? []))]);
  const ids = new Set<number>();
  for (const item of items) {
    if (item.firstRecordId !== null) ids.add(item.firstRecordId);
    if (item.secondRecordId !== null) ids.add(item.secondRecordId);
  }
  const records = await readRecords(tx, viewer, [...ids]);

  // What each item asks for; its first error stays in place, after the pairs before it.
  const plans = items.map((item): ItemPlan => {
    const pairs: LinkPair[] = [];
    try {
      checkLabelKeys(item.labelKeys, true);
      if (item.firstRecordId !== null && item.firstRecordId === item.secondRecordId) {
        throw new ValidationError('A record cannot be linked to itself.', 'secondRecordId');
      }
      const a = item.firstRecordId === null ? undefined : records.get(item.firstRecordId);
      const b = item.secondRecordId === null ? undefined : records.get(item.secondRecordId);
      if (!a) throw new NotFoundError('No record with that firstRecordId.');
      if (!b) throw new NotFoundError('No record with that secondRecordId.');
      const keys = [...new Set(item.labelKeys)];
      for (const key of keys) {
        if (!labels.has(key)) throw new NotFoundError(`No association label with key "${key}".`);
      }
      for (const key of keys) {
        const label = labels.get(key)!;
        const [firstId] = orderPair(label, a, b);
        const [first, second] = firstId === a.id ? [a, b] : [b, a];
        pairs.push({ label, first, second, key: tripleKey(label.id, first.id, second.id) });
      }
      return { pairs, error: null };
    } catch (error) {
      if (error instanceof DomainError) return { pairs, error };
      throw error;
    }
  });

  const wanted = plans.flatMap((plan) => plan.pairs);
  const existing = await readExisting(tx, wanted);
  const usage = new LinkUsage(limits);
  await readUsage(tx, usage, wanted.filter((pair) => !existing.has(pair.key)), tallies);

  // Decisions, in item order. A slot is an association already there, or the key of a new one.
  const slots: (Association | string)[] = [];
  const created: LinkPair[] = [];
  const createdKeys = new Set<string>();
  let existingCount = 0;
  for (const [index, plan] of plans.entries()) {
    const mark = usage.mark();
    const itemSlots: (Association | string)[] = [];
    const itemCreated: LinkPair[] = [];
    try {
      for (const pair of plan.pairs) {
        const found = existing.get(pair.key);
        if (found || createdKeys.has(pair.key)) {
          itemSlots.push(found ?? pair.key);
          continue;
        }
        try {
          usage.check(pair.label, pair.first.id, pair.second.id);
        } catch (error) {
          throw error instanceof LimitExceededError && isRestricted(viewer) ? error.withoutCount() : error;
        }
        usage.accept(pair.label, pair.first.id, pair.second.id);
        itemSlots.push(pair.key);
        itemCreated.push(pair);
      }
      if (plan.error) throw plan.error;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (batch) error.atIndex(index);
      if (!onReject) throw error;
      usage.rollback(mark);
      onReject(index, error);
      continue;
    }
    usage.commit();
    slots.push(...itemSlots);
    existingCount += itemSlots.length - itemCreated.length;
    created.push(...itemCreated);
    for (const pair of itemCreated) createdKeys.add(pair.key);
  }

  // The new associations, in decision order (their ids follow it), then their events.
  const inserted = await insertAssociations(tx, viewer, created);
  tallies?.count(
    usage,
    created.map((pair) => ({ id: inserted.get(pair.key)!.id, label: pair.label, firstId: pair.first.id, secondId: pair.second.id })),
  );
  const events: FeedEvent[] = created.map((pair) => ({
    action: 'LINKED',
    association: {
      id: inserted.get(pair.key)!.id,
      label: pair.label,
      firstRecord: { ...pair.first, object: pair.label.firstObject },
      secondRecord: { ...pair.second, object: pair.label.secondObject },
    },
  }));
  events.sort((x, y) => ('association' in x && 'association' in y ? x.association.id - y.association.id : 0));
  await recordEvents(tx, viewer, events);
  return {
    associations: slots.map((slot) => (typeof slot === 'string' ? inserted.get(slot)! : slot)),
    createdCount: created.length,
    existingCount,
  };
}

/**
 * Inserts the pairs' associations, by triple: one statement per INSERT_CHUNK rows, whose values
 * travel as one array (PostgreSQL) or one JSON text (SQLite), so no bind-parameter limit applies.
 * Prisma's createManyAndReturn would take a bound value per column and row and map every
 * returned row through its engine: several times slower at 1,000 rows.
 */
async function insertAssociations(tx: Tx, viewer: Viewer, pairs: readonly LinkPair[]): Promise<Map<string, Association>> {
  const inserted = new Map<string, Association>();
  const createdAt = new Date();
  for (let start = 0; start < pairs.length; start += INSERT_CHUNK) {
    const chunk = pairs.slice(start, start + INSERT_CHUNK);
    const rows =
      provider === 'postgresql'
        ? await txRows(tx, Prisma.sql`
            INSERT INTO "Association" ("workspaceId", "labelId", "firstRecordId", "secondRecordId", "createdAt", "createdById")
            SELECT ${viewer.workspaceId}::int, k."labelId", k."firstRecordId", k."secondRecordId", ${createdAt}::timestamp(3), ${viewer.userId}::int
            FROM unnest(${chunk.map((pair) => pair.label.id)}::int[], ${chunk.map((pair) => pair.first.id)}::int[], ${chunk.map((pair) => pair.second.id)}::int[])
              WITH ORDINALITY AS k("labelId", "firstRecordId", "secondRecordId", "n")
            ORDER BY k."n"
            RETURNING "id", "labelId", "firstRecordId", "secondRecordId"`)
        : await txRows(tx, Prisma.sql`
            INSERT INTO "Association" ("workspaceId", "labelId", "firstRecordId", "secondRecordId", "createdAt", "createdById")
            SELECT ${viewer.workspaceId}, json_extract(k.value, '$[0]'), json_extract(k.value, '$[1]'), json_extract(k.value, '$[2]'), ${createdAt}, ${viewer.userId}
            FROM json_each(${JSON.stringify(chunk.map((pair) => [pair.label.id, pair.first.id, pair.second.id]))}) k
            ORDER BY k.key
            RETURNING "id", "labelId", "firstRecordId", "secondRecordId"`);
    for (const row of rows) {
      const association: Association = {
        id: Number(row.id),
        workspaceId: viewer.workspaceId,
        labelId: Number(row.labelId),
        firstRecordId: Number(row.firstRecordId),
        secondRecordId: Number(row.secondRecordId),
        createdAt,
        createdById: viewer.userId,
      };
      inserted.set(tripleKey(association.labelId, association.firstRecordId, association.secondRecordId), association);
    }
  }
  return inserted;
}

/** The workspace's limits and the labels of `keys` that exist in it, by key: one statement. */
async function readLabels(tx: Tx, viewer: Viewer, keys: readonly string[]): Promise<{ limits: WorkspaceLimits; labels: Map<string, LinkLabel> }> {
  const keyFilter = inTexts(provider, Prisma.sql`l."key"`, keys);
  const rows = await txRows(tx, Prisma.sql`
    SELECT w."maxRecordsPerLabel", w."maxAssociationsPerContact",
      l."id", l."key", l."type", l."cardinality", l."firstObjectId", l."secondObjectId", l."firstLabel", l."secondLabel",
      l."maxSecondPerFirst", l."maxFirstPerSecond", fo."key" AS "firstObjectKey", so."key" AS "secondObjectKey"
    FROM "Workspace" w
    LEFT JOIN "AssociationLabel" l ON l."workspaceId" = w."id" AND ${keyFilter}
    LEFT JOIN "Object" fo ON fo."id" = l."firstObjectId"
    LEFT JOIN "Object" so ON so."id" = l."secondObjectId"
    WHERE w."id" = ${viewer.workspaceId}`);
  if (rows.length === 0) throw new Error(`Workspace ${viewer.workspaceId} does not exist.`);
  const limits = { maxRecordsPerLabel: Number(rows[0]!.maxRecordsPerLabel), maxAssociationsPerContact: Number(rows[0]!.maxAssociationsPerContact) };
  const labels = new Map<string, LinkLabel>();
  const orNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  for (const row of rows) {
    if (row.id === null || row.id === undefined) continue;
    labels.set(String(row.key), {
      id: Number(row.id),
      key: String(row.key),
      type: String(row.type) as LinkLabel['type'],
      cardinality: String(row.cardinality) as LinkLabel['cardinality'],
      firstObjectId: Number(row.firstObjectId),
      secondObjectId: Number(row.secondObjectId),
      firstLabel: String(row.firstLabel),
      secondLabel: String(row.secondLabel),
      maxSecondPerFirst: orNull(row.maxSecondPerFirst),
      maxFirstPerSecond: orNull(row.maxFirstPerSecond),
      firstObject: { key: String(row.firstObjectKey) },
      secondObject: { key: String(row.secondObjectKey) },
    });
  }
  return { limits, labels };
}

/** The records of `ids` the viewer may see, by id: one statement. */
async function readRecords(tx: Tx, viewer: Viewer, ids: readonly number[]): Promise<Map<number, LinkRecord>> {
  const records = new Map<number, LinkRecord>();
  if (ids.length === 0) return records;
  const rows = await txRows(tx, Prisma.sql`
    SELECT r."id", r."objectId", r."displayName" FROM "Record" r
    WHERE ${inIds(provider, Prisma.sql`r."id"`, ids)} AND ${visibleRecordSql(viewer, 'r')}`);
  for (const row of rows) {
    records.set(Number(row.id), { id: Number(row.id), objectId: Number(row.objectId), displayName: String(row.displayName) });
  }
  return records;
}

/** The associations among the pairs' (label, first, second) triples, by triple: one statement. */
async function readExisting(tx: Tx, pairs: readonly LinkPair[]): Promise<Map<string, Association>> {
  const found = new Map<string, Association>();
  const unique = [...new Map(pairs.map((pair) => [pair.key, pair])).values()];
  if (unique.length === 0) return found;
  const labelIds = unique.map((pair) => pair.label.id);
  const firstIds = unique.map((pair) => pair.first.id);
  const secondIds = unique.map((pair) => pair.second.id);
  const rows =
    provider === 'postgresql'
      ? await txRows(tx, Prisma.sql`
          SELECT a."id", a."workspaceId", a."labelId", a."firstRecordId", a."secondRecordId", a."createdAt", a."createdById"
          FROM unnest(${labelIds}::int[], ${firstIds}::int[], ${secondIds}::int[]) AS k("labelId", "firstRecordId", "secondRecordId")
          JOIN "Association" a ON a."labelId" = k."labelId" AND a."firstRecordId" = k."firstRecordId" AND a."secondRecordId" = k."secondRecordId"`)
      : await txRows(tx, Prisma.sql`
          SELECT a."id", a."workspaceId", a."labelId", a."firstRecordId", a."secondRecordId", a."createdAt", a."createdById"
          FROM json_each(${JSON.stringify(unique.map((pair) => [pair.label.id, pair.first.id, pair.second.id]))}) k
          CROSS JOIN "Association" a
          WHERE a."labelId" = json_extract(k.value, '$[0]') AND a."firstRecordId" = json_extract(k.value, '$[1]')
            AND a."secondRecordId" = json_extract(k.value, '$[2]')`);
  for (const row of rows) {
    const association: Association = {
      id: Number(row.id),
      workspaceId: Number(row.workspaceId),
      labelId: Number(row.labelId),
      firstRecordId: Number(row.firstRecordId),
      secondRecordId: Number(row.secondRecordId),
      createdAt: timestamp(row.createdAt),
      createdById: row.createdById === null ? null : Number(row.createdById),
    };
    found.set(tripleKey(association.labelId, association.firstRecordId, association.secondRecordId), association);
  }
  return found;
}

/**
 * Loads into `usage` the tallies the limits of new associations `pairs` read — each record's
 * tally rows under the label, the labels' record counts, the contacts' contact associations —
 * in one statement. The triggers keep the tallies exact in the transaction that changes the
 * associations, and the workspace lock keeps them still until this one commits. Where the
 * transaction defers its tallies, what it created is added from `deferred`.
 */
async function readUsage(tx: Tx, usage: LinkUsage, pairs: readonly LinkPair[], deferred: DeferredTallies | null): Promise<void> {
  if (pairs.length === 0) return;
  const tallies = new Map<string, [number, number]>();
  const labelIds = new Set<number>();
  const contactIds = new Set<number>();
  for (const { label, first, second } of pairs) {
    labelIds.add(label.id);
    for (const record of [first, second]) tallies.set(`${label.id}:${record.id}`, [label.id, record.id]);
    if (isContactLabel(label)) {
      contactIds.add(first.id);
      contactIds.add(second.id);
    }
  }
  const keys = [...tallies.values()];
  const contacts = [...contactIds];
  const recordTallies =
    provider === 'postgresql'
      ? Prisma.sql`
          SELECT 1 AS "kind", t."labelId", t."recordId", t."side", t."associations" AS "n"
          FROM unnest(${keys.map((key) => key[0])}::int[], ${keys.map((key) => key[1])}::int[]) AS k("labelId", "recordId")
          JOIN "RecordLabelTally" t ON t."labelId" = k."labelId" AND t."recordId" = k."recordId"`
      : // Naming all three primary-key columns reads the primary key (a WITHOUT ROWID table).
        Prisma.sql`
          SELECT 1 AS "kind", t."labelId", t."recordId", t."side", t."associations" AS "n"
          FROM json_each(${JSON.stringify(keys)}) k
          CROSS JOIN "RecordLabelTally" t
          WHERE t."labelId" = json_extract(k.value, '$[0]') AND t."recordId" = json_extract(k.value, '$[1]') AND t."side" IN (0, 1, 2)`;
  const rows = await txRows(tx, Prisma.sql`
    ${recordTallies}
    UNION ALL
    SELECT 2, "labelId", 0, 0, "records" FROM "LabelTally" WHERE ${inIds(provider, Prisma.sql`"labelId"`, [...labelIds])}
    UNION ALL
    SELECT 3, 0, "recordId", 0, "associations" FROM "ContactTally" WHERE ${inIds(provider, Prisma.sql`"recordId"`, contacts)}`);
  for (const row of rows) {
    const n = Number(row.n);
    switch (Number(row.kind)) {
      case 1:
        usage.recordTally(Number(row.labelId), Number(row.recordId), Number(row.side) as TallySide, n);
        break;
      case 2:
        usage.labelTally(Number(row.labelId), n);
        break;
      default:
        usage.contactTally(Number(row.recordId), n);
    }
  }
  deferred?.load(usage, keys, labelIds, contacts);
}

/**
 * Links each pair under each of its labels, all or nothing. Existing associations are returned
 * as they are (`created: false` when none was new); a failing item's error carries its index.
 */
export function linkRecords(viewer: Viewer, items: readonly LinkInput[], { batch = false } = {}): Promise<LinkOutcome> {
  return lockedTransaction(viewer.workspaceId, (tx) => applyLinks(tx, viewer, items, { batch }));
}

export interface UnlinkInput extends PairInput {
  labelKeys?: readonly string[] | null;
}

/**
 * Removes the associations between each pair: under the given labels, or under every label
 * when none is given. With labels, a pair is read exactly as linkRecords reads it, so
 * unlink(A, B) removes what link(A, B) made; without, every association between the two
 * records goes, in either direction. Removing nothing is not an error. All or nothing.
 */
export async function unlinkRecords(viewer: Viewer, items: readonly UnlinkInput[], { batch = false } = {}) {
  const runItem = itemRunner(batch);
  return lockedTransaction(viewer.workspaceId, async (tx) => {
    let removedCount = 0;
    for (const [index, input] of items.entries()) {
      await runItem(index, async () => {
        checkLabelKeys(input.labelKeys, false);
        const { first, second } = await resolveRecords(tx, viewer, input);
        const labels = input.labelKeys
          ? await resolveLabels(tx, viewer, input.labelKeys)
          : await tx.associationLabel.findMany({
              where: {
                workspaceId: viewer.workspaceId,
                OR: [
                  { firstObjectId: first.objectId, secondObjectId: second.objectId },
                  { firstObjectId: second.objectId, secondObjectId: first.objectId },
                ],
              },
              include: { firstObject: true, secondObject: true },
            });
        const pairs: Prisma.AssociationWhereInput[] = [];
        for (const label of labels) {
          const [firstRecordId, secondRecordId] = orderPair(label, first, second);
          pairs.push({ labelId: label.id, firstRecordId, secondRecordId });
          // Without labelKeys every association between the two goes, so a PAIR label on one
          // object loses both directions (A→B and B→A), as HubSpot's "remove all associations".
          if (!input.labelKeys && label.type === 'PAIR' && label.firstObjectId === label.secondObjectId) {
            pairs.push({ labelId: label.id, firstRecordId: secondRecordId, secondRecordId: firstRecordId });
          }
        }
        if (pairs.length) removedCount += await removeAssociations(tx, viewer, { OR: pairs });
      });
    }
    return { removedCount };
  });
}
