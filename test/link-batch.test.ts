/**
 * The link rules decided per batch (services/links.ts applyLinks): a batch costs the same
 * statements for 10 items as for 100, and an import's `onReject` reports a failing item and
 * writes the rest, counting earlier accepted items of the batch against the limits.
 */
import { describe, expect, it } from 'vitest';
import { prisma } from '../src/db/index.js';
import { countStatements } from '../src/db/statements.js';
import { DomainError, LimitExceededError, ObjectMismatchError, ValidationError } from '../src/services/errors.js';
import { decodeGlobalId } from '../src/services/ids.js';
import { lockedTransaction } from '../src/services/lock.js';
import { applyLinks, type LinkInput } from '../src/services/links.js';
import { adminViewer, type Viewer } from '../src/services/viewer.js';
import { DB, useTestApp, type TestWorkspace } from './helpers.js';
import { associationSnapshot, createContacts, createLabel as createGraphLabel, createObject, createRecords as createGraphRecords, linkOk, setLimits } from './support/graph.js';
import { expectWithinLimits, storedEvents } from './support/concurrency.js';
import { createLabel, createNamedObject, createRecords, globalId, type Ref } from './support/fixtures.js';

const t = useTestApp();

const CARS = 'custom_objects.cars';

interface Fixture {
  ws: TestWorkspace;
  contacts: Ref[];
  cars: Ref[];
}

async function fixture(name: string, contacts: number, cars: number): Promise<Fixture> {
  const ws = await t.workspace(name);
  await createNamedObject(ws, 'cars', 'Car', 'Cars');
  await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
  await createLabel(ws, { key: 'manager', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Employee' });
  await createLabel(ws, { key: 'owner', firstObjectKey: 'contact', secondObjectKey: CARS, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' });
  const contactRefs = await createRecords(ws, 'contact', Array.from({ length: contacts }, (_, i) => ({ firstName: `P${i}` })));
  const carRefs = await createRecords(ws, CARS, Array.from({ length: cars }, (_, i) => ({ name: `Car ${i}` })));
  return { ws, contacts: contactRefs, cars: carRefs };
}

const BATCH_LINK = `mutation LinkBatchMeasure($input: BatchLinkRecordsInput!) {
  batchLinkRecords(input: $input) { __typename ... on BatchLinkRecordsSuccess { createdCount associations { id } } ... on Error { code message } }
}`;

/** n items: half a ring of colleagues, half contact i owning car i. */
function ringItems(f: Fixture, n: number, offset = 0) {
  const items = [];
  for (let i = 0; i < n / 2; i += 1) {
    const k = offset + i;
    items.push({ firstRecordId: f.contacts[k % f.contacts.length]!.id, secondRecordId: f.contacts[(k + 1) % f.contacts.length]!.id, labelKeys: ['colleague'] });
    items.push({ firstRecordId: f.contacts[k % f.contacts.length]!.id, secondRecordId: f.cars[k % f.cars.length]!.id, labelKeys: ['owner'] });
  }
  return items;
}

describe('batchLinkRecords decides its items per batch', () => {
  it('costs the same statements for 10 items as for 100, new or already there', async () => {
    const f = await fixture('Statements', 120, 120);
    const measure = async (items: unknown[]) => {
      const started = performance.now();
      const response = await f.ws.gql(BATCH_LINK, { input: { links: items } });
      const ms = performance.now() - started;
      expect(response.errors).toBeUndefined();
      expect(response.data.batchLinkRecords.__typename).toBe('BatchLinkRecordsSuccess');
      return { statements: response.extensions!.sqlStatements as number, ms, createdCount: response.data.batchLinkRecords.createdCount as number };
    };
    // The first request after a schema change reads the objects and labels into the cache.
    await measure(ringItems(f, 2, 110));
    const ten = await measure(ringItems(f, 10));
    const hundred = await measure(ringItems(f, 100, 10));
    const again = await measure(ringItems(f, 100, 10));
    console.log(
      `[link-batch:${DB}] batchLinkRecords: 10 items → ${ten.statements} statements (${ten.ms.toFixed(0)} ms), ` +
        `100 items → ${hundred.statements} (${hundred.ms.toFixed(0)} ms), the same 100 again → ${again.statements} (${again.ms.toFixed(0)} ms)`,
    );
    // The request: authentication, the batch, the answer's loaders (which dataloader may split).
    expect(hundred.statements).toBeLessThanOrEqual(DB === 'sqlite' ? 11 : 12);
    expect(Math.abs(hundred.statements - ten.statements)).toBeLessThanOrEqual(1);
    expect(again.statements).toBeLessThan(hundred.statements);

    // The batch itself, exactly: the labels with the limits, the records, the existing
    // associations, the tallies, one INSERT, the events (the lock and NOTIFY on PostgreSQL).
    const viewer = adminViewer(f.ws.workspaceId, f.ws.userId);
    const counted = async (items: LinkInput[]) => {
      const counter = { count: 0 };
      const outcome = await countStatements(counter, () =>
        lockedTransaction(f.ws.workspaceId, (tx) => applyLinks(tx, viewer, items, { batch: true })),
      );
      return { statements: counter.count, outcome };
    };
    /** Contact i owns car i + d, for each d and i, in that order (d = 0 is the ring's). */
    const owners = (offsets: number[], count: number) =>
      offsets.flatMap((d) => f.contacts.map((contact, i) => item(contact.id, f.cars[(i + d) % f.cars.length]!.id, ['owner']))).slice(0, count);
    const small = await counted(owners([10], 10));
    const large = await counted(owners([1, 2, 3, 4, 5, 6, 7, 8, 9], 1000));
    const existing = await counted(owners([1, 2, 3, 4, 5, 6, 7, 8, 9], 1000));
    console.log(`[link-batch:${DB}] applyLinks: 10 items → ${small.statements} statements, 1,000 → ${large.statements}, the same 1,000 again → ${existing.statements}`);
    expect(small.outcome.createdCount).toBe(10);
    expect(large.outcome).toMatchObject({ createdCount: 1000, existingCount: 0 });
    expect(existing.outcome).toMatchObject({ createdCount: 0, existingCount: 1000 });
    // The transaction's start, the lock (PostgreSQL), labels, records, existing associations,
    // tallies, one INSERT, the event log and the endpoints (with NOTIFY on PostgreSQL).
    expect(small.statements).toBe(DB === 'sqlite' ? 8 : 9);
    expect(large.statements).toBe(small.statements);
    // All there: the start, the lock, labels, records, existing associations; nothing to count, write or log.
    expect(existing.statements).toBe(DB === 'sqlite' ? 4 : 5);
    expect(ten.createdCount).toBe(10);
    expect(hundred.createdCount).toBe(100);
    expect(again.createdCount).toBe(0);
  });
});

/** applyLinks as an import calls it: in the workspace's locked transaction, rejections reported. */
async function applyReporting(ws: TestWorkspace, items: LinkInput[], viewer: Viewer = adminViewer(ws.workspaceId, ws.userId)) {
  const rejected: { index: number; error: Error }[] = [];
  const outcome = await lockedTransaction(ws.workspaceId, (tx) =>
    applyLinks(tx, viewer, items, { batch: true, onReject: (index, error) => rejected.push({ index, error }) }),
  );
  return { outcome, rejected };
}

const item = (first: string, second: string, labelKeys: string[]): LinkInput => ({
  firstRecordId: decodeGlobalId(first, 'Record'),
  secondRecordId: decodeGlobalId(second, 'Record'),
  labelKeys,
});

/** "key:first>second" as associationSnapshot shows it. */
const shown = (key: string, first: string, second: string) => `${key}:${first}>${second}`;

const linkedEvents = async (ws: TestWorkspace) => (await storedEvents(ws.workspaceId)).filter((event) => event.action === 'LINKED');

describe('applyLinks with onReject (the import)', () => {
  it('reports a failing item with its index and error, and writes the others', async () => {
    const ws = await t.workspace('Reject in the middle');
    const [a, b, c, d] = await createContacts(ws, 4);
    await createObject(ws, 'car');
    const [car] = await createGraphRecords(ws, 'custom_objects.car', 1);
    await createGraphLabel(ws, { first: 'contact', firstLabel: 'Colleague', key: 'colleague' });
    await createGraphLabel(ws, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Owner', secondLabel: 'Car', key: 'owner' });
    await linkOk(ws, a!, b!, ['colleague']);
    const before = (await linkedEvents(ws)).length;

    const missing = globalId('Record', 999_999);
    const { outcome, rejected } = await applyReporting(ws, [
      item(a!, c!, ['colleague']),
      item(a!, missing, ['colleague']),
      item(b!, a!, ['colleague']), // already there (stored as a–b)
      item(c!, c!, ['colleague']),
      item(car!, d!, ['owner']),
      item(a!, d!, ['nope']),
      item(a!, d!, ['colleague', 'owner']), // the second label's objects do not match: nothing of it is written
      item(b!, c!, ['colleague', 'colleague']),
    ]);

    expect(rejected.map(({ index, error }) => [index, (error as DomainError).code, error.message])).toEqual([
      [1, 'NOT_FOUND', 'No record with that secondRecordId.'],
      [3, 'VALIDATION', 'A record cannot be linked to itself.'],
      [5, 'NOT_FOUND', 'No association label with key "nope".'],
      [6, 'OBJECT_MISMATCH', 'The records do not match the objects of label "owner".'],
    ]);
    for (const { index, error } of rejected) expect((error as DomainError).index).toBe(index);
    expect(rejected[1]!.error).toBeInstanceOf(ValidationError);
    expect((rejected[1]!.error as ValidationError).field).toBe('secondRecordId');
    expect(rejected[3]!.error).toBeInstanceOf(ObjectMismatchError);

    expect(outcome.createdCount).toBe(3);
    expect(outcome.existingCount).toBe(1);
    expect(outcome.associations).toHaveLength(4);
    const ids = (await associationSnapshot(ws)).sort();
    expect(ids).toEqual(
      [shown('colleague', a!, b!), shown('colleague', a!, c!), shown('owner', d!, car!), shown('colleague', b!, c!)].sort(),
    );
    // The associations come back in item order; the existing one as it is stored.
    const stored = await prisma.association.findMany({ where: { workspaceId: ws.workspaceId }, orderBy: { id: 'asc' } });
    const existingRow = stored[0]!;
    expect(outcome.associations[1]).toEqual(existingRow);
    expect(outcome.associations.map((row) => [row.firstRecordId, row.secondRecordId])).toEqual([
      [decodeGlobalId(a!, 'Record'), decodeGlobalId(c!, 'Record')],
      [decodeGlobalId(a!, 'Record'), decodeGlobalId(b!, 'Record')],
      [decodeGlobalId(d!, 'Record'), decodeGlobalId(car!, 'Record')],
      [decodeGlobalId(b!, 'Record'), decodeGlobalId(c!, 'Record')],
    ]);
    // One LINKED event per new association, none for the rejected items or the existing one.
    const events = await linkedEvents(ws);
    expect(events.length - before).toBe(3);
    await expectWithinLimits(ws.workspaceId);
  });

  it('counts the batch\'s earlier accepted items against every limit, and never the rejected ones', async () => {
    const ws = await t.workspace('Limits within a batch');
    const [p0, p1, p2, p3, p4, p5, p6] = await createContacts(ws, 7);
    await createObject(ws, 'car');
    const cars = await createGraphRecords(ws, 'custom_objects.car', 3);
    await createGraphLabel(ws, { first: 'contact', firstLabel: 'Colleague', key: 'colleague' });
    await createGraphLabel(ws, { first: 'contact', firstLabel: 'Spouse', key: 'spouse', cardinality: 'ONE_TO_ONE' });
    await createGraphLabel(ws, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Owner', secondLabel: 'Car', key: 'owner' });
    await setLimits(ws, { maxAssociationsPerContact: 2, maxRecordsPerLabel: 4 });

    const { outcome, rejected } = await applyReporting(ws, [
      item(p0!, p1!, ['colleague']), // 0: p0 has 1
      item(p0!, p2!, ['colleague']), // 1: p0 has 2
      item(p0!, p3!, ['colleague']), // 2: over maxAssociationsPerContact, counting items 0 and 1
      item(p4!, p5!, ['spouse', 'owner']), // 3: spouse accepted, then OBJECT_MISMATCH: the spouse link is taken back
      item(p4!, p6!, ['spouse']), // 4: p4 has no spouse (item 3 was rejected)
      item(p5!, p6!, ['spouse']), // 5: p6 has one now (item 4)
      item(p0!, cars[0]!, ['owner']), // 6: owner links 2 records
      item(p1!, cars[1]!, ['owner']), // 7: 4 records
      item(p2!, cars[2]!, ['owner']), // 8: would be 6 > 4
      item(p0!, cars[1]!, ['owner']), // 9: both records already linked by owner (in this batch): joins none
      item(p0!, p1!, ['colleague']), // 10: made by item 0: there already, at p0's limit all the same
    ]);

    const summary = rejected.map(({ index, error }) => {
      const limit = error as LimitExceededError;
      return error instanceof LimitExceededError ? [index, limit.limit, limit.max, limit.current] : [index, (error as DomainError).code];
    });
    expect(summary).toEqual([
      [2, 'maxAssociationsPerContact', 2, 2],
      [3, 'OBJECT_MISMATCH'],
      [5, 'ONE_TO_ONE', 1, 1],
      [8, 'maxRecordsPerLabel', 4, 4],
    ]);
    expect(rejected[0]!.error.message).toBe('A contact already takes part in 2 contact associations; the limit is 2.');
    expect(rejected[2]!.error.message).toBe('Label "spouse" is ONE_TO_ONE: this record already has a linked record under it.');
    expect(rejected[3]!.error.message).toBe('Label "owner" already links 4 records; the limit is 4.');
    expect(outcome.createdCount).toBe(6);
    expect(outcome.existingCount).toBe(1);
    expect(outcome.associations[6]).toEqual(outcome.associations[0]);
    expect((await associationSnapshot(ws)).sort()).toEqual(
      [
        shown('colleague', p0!, p1!),
        shown('colleague', p0!, p2!),
        shown('spouse', p4!, p6!),
        shown('owner', p0!, cars[0]!),
        shown('owner', p1!, cars[1]!),
        shown('owner', p0!, cars[1]!),
      ].sort(),
    );
    // The tallies the next batch reads count exactly what was written.
    await expectWithinLimits(ws.workspaceId);

    // A later batch sees them: the same refusals, from the database this time.
    const again = await applyReporting(ws, [item(p0!, p3!, ['colleague']), item(p5!, p4!, ['spouse']), item(p3!, cars[2]!, ['owner'])]);
    expect(again.rejected.map(({ index, error }) => [index, (error as LimitExceededError).limit, (error as LimitExceededError).current])).toEqual([
      [0, 'maxAssociationsPerContact', 2],
      [1, 'ONE_TO_ONE', 1],
      [2, 'maxRecordsPerLabel', 4],
    ]);
    expect(again.outcome.createdCount).toBe(0);
  });

  it('without onReject, the first failing item throws with its index and nothing is written', async () => {
    const ws = await t.workspace('All or nothing');
    const [a, b, c] = await createContacts(ws, 3);
    await createGraphLabel(ws, { first: 'contact', firstLabel: 'Spouse', key: 'spouse', cardinality: 'ONE_TO_ONE' });
    const viewer = adminViewer(ws.workspaceId, ws.userId);
    const attempt = lockedTransaction(ws.workspaceId, (tx) =>
      applyLinks(tx, viewer, [item(a!, b!, ['spouse']), item(c!, a!, ['spouse']), item(b!, b!, ['spouse'])], { batch: true }),
    );
    const error = await attempt.then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(LimitExceededError);
    expect(error).toMatchObject({ index: 1, limit: 'ONE_TO_ONE', max: 1, current: 1 });
    expect(await associationSnapshot(ws)).toEqual([]);
    expect(await linkedEvents(ws)).toEqual([]);

    // Not a batch: no index, as a single linkRecords.
    const single = await lockedTransaction(ws.workspaceId, (tx) => applyLinks(tx, viewer, [item(a!, a!, ['spouse'])])).catch((thrown: unknown) => thrown);
    expect(single).toBeInstanceOf(ValidationError);
    expect((single as ValidationError).index).toBeNull();
    expect(await lockedTransaction(ws.workspaceId, (tx) => applyLinks(tx, viewer, []))).toEqual({ associations: [], createdCount: 0, existingCount: 0 });
  });
});
