/**
 * The usage tallies (RecordLabelTally, LabelTally, ContactTally) that the limits and
 * `limitUsage` read instead of counting associations, against a recount from the association
 * table itself, after each kind of write users make: links, batch links, `relate import
 * associations` (many rows in one INSERT), unlinks, and the cascades of a record's and a label's
 * deletion. On PostgreSQL the triggers that keep them run once per statement over its transition
 * table, so a 1,000-row import batch updates each tally row once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma, prisma } from '../src/db/index.js';
import { encodeGlobalId } from '../src/services/ids.js';
import { importAssociations, type ImportOptions } from '../src/services/import.js';
import { adminViewer } from '../src/services/viewer.js';
import { DB, useTestApp, type TestWorkspace } from './helpers.js';
import { DELETE_LABEL, DELETE_RECORD, typed } from './support/concurrency.js';
import { batchLink, bulkContacts, COMPANIES, createLabel, createRecord, keyedByUniqueValues, link, unlink, updateLimits } from './support/fixtures.js';
import { relate } from './support/process.js';

const t = useTestApp();
const HEADER = 'firstRecordId,secondRecordId,labelKeys,firstObjectKey,firstUnique,secondObjectKey,secondUnique';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relate-tallies-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
interface ImportOutput {
  summary: { createdCount: number; existingCount: number; rejectedCount: number };
  rejected: { row: number; column: string | null; code: string; message: string }[];
}

/** `relate import associations` of these CSV rows, as a user runs it. */
async function importRows(ws: TestWorkspace, rows: string[], options: string[] = [], exitCode = 0): Promise<ImportOutput> {
  const path = join(dir, `file-${++files}.csv`);
  writeFileSync(path, `${HEADER}\n${rows.join('\n')}\n`);
  const result = await relate(['import', 'associations', '--workspace', encodeGlobalId('Workspace', ws.workspaceId), ...options, path], {
    DATABASE_URL: t.url,
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(exitCode);
  return JSON.parse(result.stdout);
}

const lines = (rows: { key: string; n: bigint | number }[]) => rows.map((row) => `${row.key}=${Number(row.n)}`).sort();

/** The stored tallies of a workspace, as `label:record:side=n`, `label=records` and `contact=n`. */
async function storedTallies(workspaceId: number) {
  return {
    perRecord: lines(
      await prisma.$queryRaw(Prisma.sql`
        SELECT t."labelId" || ':' || t."recordId" || ':' || t."side" AS "key", t."associations" AS "n"
        FROM "RecordLabelTally" t JOIN "AssociationLabel" l ON l."id" = t."labelId" WHERE l."workspaceId" = ${workspaceId}`),
    ),
    // A label whose last record went keeps its row at 0: it counts as none.
    perLabel: lines(
      await prisma.$queryRaw(Prisma.sql`
        SELECT '' || t."labelId" AS "key", t."records" AS "n"
        FROM "LabelTally" t JOIN "AssociationLabel" l ON l."id" = t."labelId" WHERE l."workspaceId" = ${workspaceId} AND t."records" <> 0`),
    ),
    perContact: lines(
      await prisma.$queryRaw(Prisma.sql`
        SELECT '' || "recordId" AS "key", "associations" AS "n" FROM "ContactTally" WHERE "workspaceId" = ${workspaceId}`),
    ),
  };
}

/** The same, counted from the associations (each association once per record it links). */
async function recount(workspaceId: number) {
  const ends = Prisma.sql`
    SELECT a."labelId", a."firstRecordId" AS "recordId",
           CASE WHEN l."type" = 'SINGLE' AND l."firstObjectId" = l."secondObjectId" THEN 0 ELSE 1 END AS "side",
           CASE WHEN l."firstObjectId" = l."secondObjectId" AND o."key" = 'contact' THEN 1 ELSE 0 END AS "contact"
    FROM "Association" a JOIN "AssociationLabel" l ON l."id" = a."labelId" JOIN "Object" o ON o."id" = l."firstObjectId"
    WHERE a."workspaceId" = ${workspaceId}
    UNION ALL
    SELECT a."labelId", a."secondRecordId",
           CASE WHEN l."type" = 'SINGLE' AND l."firstObjectId" = l."secondObjectId" THEN 0 ELSE 2 END,
           CASE WHEN l."firstObjectId" = l."secondObjectId" AND o."key" = 'contact' THEN 1 ELSE 0 END
    FROM "Association" a JOIN "AssociationLabel" l ON l."id" = a."labelId" JOIN "Object" o ON o."id" = l."firstObjectId"
    WHERE a."workspaceId" = ${workspaceId}`;
  return {
    perRecord: lines(
      await prisma.$queryRaw(Prisma.sql`
        SELECT e."labelId" || ':' || e."recordId" || ':' || e."side" AS "key", COUNT(*) AS "n" FROM (${ends}) e
        GROUP BY e."labelId", e."recordId", e."side"`),
    ),
    perLabel: lines(
      await prisma.$queryRaw(Prisma.sql`
        SELECT '' || e."labelId" AS "key", COUNT(DISTINCT e."recordId") AS "n" FROM (${ends}) e GROUP BY e."labelId"`),
    ),
    perContact: lines(
      await prisma.$queryRaw(Prisma.sql`
        SELECT '' || e."recordId" AS "key", COUNT(*) AS "n" FROM (${ends}) e WHERE e."contact" = 1 GROUP BY e."recordId"`),
    ),
  };
}

/**
 * The tallies equal the recount, and `Workspace.limitUsage` (what users read; at most 100 rows)
 * reports the recount's records per label and contact associations. Returns the recount.
 */
async function expectExactTallies(ws: TestWorkspace, { usage: readUsage = true } = {}) {
  const expected = await recount(ws.workspaceId);
  expect(await storedTallies(ws.workspaceId)).toEqual(expected);
  if (!readUsage) return expected;
  const response = await ws.gql(`{ viewer { workspace { limitUsage(first: 100) { limit current label { id } record { id } } } } }`);
  expect(response.errors).toBeUndefined();
  const usage = response.data.viewer.workspace.limitUsage as { limit: string; current: number; label: { id: string } | null; record: { id: string } | null }[];
  expect(usage.length).toBeLessThan(100); // nothing left off
  const numeric = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1];
  expect(
    usage
      .filter((u) => u.limit === 'maxRecordsPerLabel')
      .map((u) => `${numeric(u.label!.id)}=${u.current}`)
      .sort(),
  ).toEqual(expected.perLabel);
  expect(
    usage
      .filter((u) => u.limit === 'maxAssociationsPerContact')
      .map((u) => `${numeric(u.record!.id)}=${u.current}`)
      .sort(),
  ).toEqual(expected.perContact);
  return expected;
}

describe('usage tallies', () => {
  it('equal a recount from the associations after links, batch links, imports, unlinks and cascades', async () => {
    const ws = await t.workspace('Tallies');
    await updateLimits(ws, { maxAssociationsPerContact: 40 });
    await keyedByUniqueValues(ws);
    // A SINGLE label on one object (side 0), a PAIR on one object (sides 1 and 2, a record can be
    // on both), and one between two objects (no contact associations).
    await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
    await createLabel(ws, { key: 'manager', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Report' });
    await createLabel(ws, {
      key: 'works_at',
      firstObjectKey: 'contact',
      secondObjectKey: COMPANIES,
      type: 'PAIR',
      firstLabel: 'Employee',
      secondLabel: 'Employer',
    });
    const contacts: string[] = [];
    for (let i = 0; i < 24; i++) contacts.push((await createRecord(ws, 'contact', { firstName: `P${i}`, email: `p${i}@example.com` })).id);
    const acme = (await createRecord(ws, COMPANIES, { name: 'Acme', domain: 'acme.com' })).id;
    const globex = (await createRecord(ws, COMPANIES, { name: 'Globex', domain: 'globex.com' })).id;
    const email = (i: number) => `p${i}@example.com`;

    await link(ws, contacts[0]!, contacts[1]!, ['colleague', 'manager']);
    await link(ws, contacts[1]!, contacts[0]!, ['manager']); // contact 0 on both sides of manager
    await link(ws, contacts[5]!, contacts[2]!, ['colleague']); // stored lower id first
    await link(ws, contacts[0]!, acme, ['works_at']);
    await expectExactTallies(ws);

    expect(
      await batchLink(ws, [
        ...contacts.slice(2, 12).map((id, i) => ({ firstRecordId: contacts[0]!, secondRecordId: id, labelKeys: i % 2 ? ['colleague'] : ['colleague', 'manager'] })),
        ...contacts.slice(1, 8).map((id) => ({ firstRecordId: id, secondRecordId: globex, labelKeys: ['works_at'] })),
        { firstRecordId: contacts[2]!, secondRecordId: contacts[5]!, labelKeys: ['colleague'] }, // already there (as 5–2)
      ]),
    ).toBe(10 + 5 + 7);
    await expectExactTallies(ws);

    // One import: many rows per record and per label in one statement, records joining a label
    // in it on either side, rows that exist already, by email and by id.
    const rows: string[] = [];
    for (let i = 12; i < 24; i++) {
      rows.push(`,,colleague,contact,${email(i)},contact,${email((i + 1) % 24)}`);
      rows.push(`,,manager,contact,${email(i)},contact,${email(i - 10)}`);
      rows.push(`${contacts[i]},${i % 2 ? acme : globex},works_at,,,,`);
    }
    rows.push(`,,colleague,contact,${email(1)},contact,${email(0)}`); // exists as 0–1
    rows.push(`,,manager,contact,${email(13)},contact,${email(3)}`); // in this file already
    const imported = await importRows(ws, rows);
    expect(imported.summary).toMatchObject({ createdCount: 36, existingCount: 2, rejectedCount: 0 });
    const afterImport = await expectExactTallies(ws);
    expect(afterImport.perRecord.length).toBeGreaterThan(50);

    expect(await unlink(ws, contacts[1]!, contacts[0]!)).toBe(3); // every label between them, both directions
    expect(await unlink(ws, contacts[13]!, contacts[3]!, ['manager'])).toBe(1);
    await expectExactTallies(ws);

    // A record's deletion removes its associations on both sides in one statement.
    const removed = typed(await ws.gql(DELETE_RECORD, { input: { id: contacts[0]! } }), 'deleteRecord');
    expect(removed).toMatchObject({ __typename: 'DeleteRecordSuccess' });
    expect(removed.removedAssociations).toBeGreaterThan(10);
    await expectExactTallies(ws);

    // A label's deletion: its tallies go, the others' stay, contacts' shrink.
    const managerId = (await prisma.associationLabel.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'manager' } })).id;
    const labelGone = typed(
      await ws.gql(DELETE_LABEL, { input: { id: encodeGlobalId('AssociationLabel', managerId), force: true } }),
      'deleteAssociationLabel',
    );
    expect(labelGone).toMatchObject({ __typename: 'DeleteAssociationLabelSuccess' });
    const afterLabel = await expectExactTallies(ws);
    expect(afterLabel.perRecord.some((entry) => entry.startsWith(`${managerId}:`))).toBe(false);
    expect(await prisma.recordLabelTally.count({ where: { labelId: managerId } })).toBe(0);

    // Imported again after the cascades.
    const again = await importRows(ws, [
      ...contacts.slice(1, 12).map((id) => `${id},${acme},works_at,,,,`),
      `,,colleague,contact,${email(2)},contact,${email(5)}`, // exists
    ]);
    expect(again.summary).toMatchObject({ createdCount: 11, existingCount: 1, rejectedCount: 0 });
    const final = await expectExactTallies(ws);
    // works_at: contacts 1–7 and 12–23 from before (contact 0 went), 8–11 now, and both companies.
    expect(final.perLabel).toContain(`${await labelId(ws, 'works_at')}=${7 + 12 + 4 + 2}`);

    // The limits decide from these tallies: works_at is at 25 records, the new limit; colleague
    // (contacts 2, 5 and 12–23) is not.
    await updateLimits(ws, { maxRecordsPerLabel: 25 });
    const p24 = (await createRecord(ws, 'contact', { firstName: 'P24', email: email(24) })).id;
    const limited = await importRows(ws, [`${p24},${acme},works_at,,,,`, `,,colleague,contact,${email(24)},contact,${email(1)}`], ['--on-error', 'skip'], 1); // 1: rows were rejected
    expect(limited.summary).toMatchObject({ createdCount: 1, existingCount: 0, rejectedCount: 1 });
    expect(limited.rejected).toEqual([
      { row: 2, column: 'labelKeys', code: 'LIMIT_EXCEEDED', message: 'Label "works_at" already links 25 records; the limit is 25.' },
    ]);
    expect((await expectExactTallies(ws)).perLabel).toContain(`${await labelId(ws, 'colleague')}=16`);
  });

  it('stay exact when one statement removes hundreds of associations: those of a record, then of a label', async () => {
    const ws = await t.workspace('Tallies in bulk');
    await updateLimits(ws, { maxAssociationsPerContact: 1000 });
    await createLabel(ws, { key: 'ring', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Next', secondLabel: 'Previous' });
    await createLabel(ws, { key: 'near', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Near' });
    const people = await bulkContacts(ws, 800);
    const rows = people.flatMap((id, i) => [`${id},${people[(i + 1) % 800]},ring,,,,`, `${id},${people[(i + 2) % 800]},near,,,,`]);
    rows.push(...people.slice(1, 300).map((id) => `${people[0]},${id},ring,,,,`)); // the first one is there already
    expect((await importRows(ws, rows)).summary).toMatchObject({ createdCount: 1600 + 298, existingCount: 1, rejectedCount: 0 });
    await expectExactTallies(ws, { usage: false });

    const removed = typed(await ws.gql(DELETE_RECORD, { input: { id: people[0]! } }), 'deleteRecord');
    expect(removed).toMatchObject({ __typename: 'DeleteRecordSuccess', removedAssociations: 300 + 2 });
    await expectExactTallies(ws, { usage: false });

    const near = await labelId(ws, 'near');
    const labelGone = typed(await ws.gql(DELETE_LABEL, { input: { id: encodeGlobalId('AssociationLabel', near), force: true } }), 'deleteAssociationLabel');
    expect(labelGone).toMatchObject({ __typename: 'DeleteAssociationLabelSuccess', removedAssociations: 800 - 2 });
    const left = await expectExactTallies(ws, { usage: false });
    expect(left.perLabel).toEqual([`${await labelId(ws, 'ring')}=799`]);
  });

  it('are exact after an import whose rows name the same records batch after batch, and stay as they were after its dry run and its abort', async () => {
    const ws = await t.workspace('Tallies of an import in batches');
    await updateLimits(ws, { maxAssociationsPerContact: 40 });
    await keyedByUniqueValues(ws);
    await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
    await createLabel(ws, { key: 'manager', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Report' });
    await createLabel(ws, { key: 'works_at', firstObjectKey: 'contact', secondObjectKey: COMPANIES, type: 'PAIR', firstLabel: 'Employee', secondLabel: 'Employer' });
    const people = await bulkContacts(ws, 6);
    const acme = (await createRecord(ws, COMPANIES, { name: 'Acme', domain: 'acme.com' })).id;
    await link(ws, people[0]!, people[1]!, ['colleague', 'manager']); // tallies there before the import
    const before = await expectExactTallies(ws);

    // Every record in many batches of two rows, on both sides of manager, with links the file
    // made already and one the workspace had; on SQLite counted in the tallies every 5 links.
    const rows: string[] = [];
    for (let round = 1; round <= 3; round++) {
      for (let i = 0; i < 6; i++) {
        const j = (i + round) % 6;
        rows.push(`${people[i]},${people[j]},colleague;manager,,,,`, `${people[i]},${acme},works_at,,,,`);
      }
    }
    rows.push(`${people[1]},${people[0]},colleague,,,,`);
    const text = `${HEADER}\n${rows.join('\n')}\n`;
    const viewer = adminViewer(ws.workspaceId, ws.userId);
    const inTwos = (options: Partial<ImportOptions>) => importAssociations({ viewer, source: Readable.from([Buffer.from(text)]), batchSize: 2, settleLinks: 5, ...options });

    // colleague is SINGLE: i–j of round 3 is j–i of round 3 (6 pairs, 3 links), so 6 + 6 + 3
    // links, one there before and 0–1 again at the end; manager is a PAIR: 18 links, one there
    // before; works_at once per person, then 12 times again.
    const expected = { createdCount: 14 + 17 + 6, existingCount: 5 + 1 + 12, rejectedCount: 0 };
    expect(await inTwos({ dryRun: true })).toMatchObject({ ...expected, written: false });
    expect(await storedTallies(ws.workspaceId)).toEqual(before);
    await updateLimits(ws, { maxAssociationsPerContact: 9 }); // the last rows go over it: nothing is written
    const aborted = await inTwos({});
    expect(aborted).toMatchObject({ written: false });
    expect(aborted.rejectedCount).toBeGreaterThan(0);
    expect(await storedTallies(ws.workspaceId)).toEqual(before);

    await updateLimits(ws, { maxAssociationsPerContact: 40 });
    expect(await inTwos({})).toMatchObject({ ...expected, written: true });
    const after = await expectExactTallies(ws);
    expect(after.perRecord.length).toBeGreaterThan(before.perRecord.length + 20);
    // Tallies go on being kept after the import's transaction.
    await link(ws, people[0]!, people[4]!, ['manager']);
    expect(await unlink(ws, people[0]!, people[1]!)).toBe(2);
    await expectExactTallies(ws);
  });

  it.runIf(DB === 'postgresql')('are kept on PostgreSQL by statement-level triggers over transition tables, none per row', async () => {
    const triggers = await prisma.$queryRaw<{ tgname: string; row: boolean; events: number; newtable: string | null; oldtable: string | null }[]>(Prisma.sql`
      SELECT tgname::text AS "tgname", (tgtype & 1) = 1 AS "row", (tgtype & 28)::int AS "events",
             tgnewtable::text AS "newtable", tgoldtable::text AS "oldtable"
      FROM pg_trigger WHERE tgrelid = '"Association"'::regclass AND NOT tgisinternal ORDER BY tgname`);
    expect(triggers.filter((trigger) => trigger.row)).toEqual([]);
    // tgtype: 4 INSERT, 8 DELETE, 16 UPDATE. None on UPDATE: nothing updates an association.
    expect(triggers.filter((trigger) => trigger.tgname.includes('tally'))).toEqual([
      { tgname: 'Association_tally_delete', row: false, events: 8, newtable: null, oldtable: 'deleted' },
      { tgname: 'Association_tally_insert', row: false, events: 4, newtable: 'inserted', oldtable: null },
    ]);
  });
});

async function labelId(ws: TestWorkspace, key: string) {
  return (await prisma.associationLabel.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key } })).id;
}
