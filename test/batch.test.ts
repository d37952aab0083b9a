import { beforeAll, describe, expect, it } from 'vitest';
import {
  BatchLinkDocument,
  BatchUnlinkDocument,
  type LinkRecordsInput,
  type UnlinkRecordsInput,
} from './generated/graphql.js';
import { expectType, run, useTestApp, type TestWorkspace } from './helpers.js';
import {
  associationSnapshot,
  createContacts,
  createLabel,
  createObject,
  createRecords,
  linkOk,
  recordState,
  setLimits,
  userOf,
} from './support/graph.js';

const t = useTestApp();

type Client = Pick<TestWorkspace, 'client'>;
const batchLink = async (ws: Client, links: LinkRecordsInput[]) =>
  (await run(ws.client, BatchLinkDocument, { input: { links } })).batchLinkRecords;
const batchUnlink = async (ws: Client, unlinks: UnlinkRecordsInput[]) =>
  (await run(ws.client, BatchUnlinkDocument, { input: { unlinks } })).batchUnlinkRecords;
const item = (firstRecordId: string, secondRecordId: string, labelKeys: string[]) => ({ firstRecordId, secondRecordId, labelKeys });
const missingRecordId = Buffer.from('Record:987654', 'utf8').toString('base64');

let ws: TestWorkspace;
let contacts: string[];
let cars: string[];

beforeAll(async () => {
  ws = await t.workspace('Batches');
  await createObject(ws, 'car');
  await createLabel(ws, { first: 'contact', firstLabel: 'Friend', key: 'friend' });
  await createLabel(ws, { first: 'contact', firstLabel: 'Manager', secondLabel: 'Employee', key: 'manager' });
  await createLabel(ws, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Owner', secondLabel: 'Car', key: 'owner' });
  contacts = await createContacts(ws, 10);
  cars = await createRecords(ws, 'custom_objects.car', 10, 'Car');
});

/** A fresh pair of contacts, so tests do not step on each other's associations. */
const fresh = (n: number) => createContacts(ws, n, 'Fresh');

describe('batchLinkRecords', () => {
  it('links every item and counts the new associations; existing ones count as not created', async () => {
    const [a, b, c] = await fresh(3);
    const first = expectType(
      await batchLink(ws, [item(a!, b!, ['friend']), item(b!, c!, ['friend', 'manager']), item(cars[0]!, a!, ['owner'])]),
      'BatchLinkRecordsSuccess',
    );
    expect(first.createdCount).toBe(4);
    expect(first.associations.map((x) => [x.label.key, x.firstRecord.id, x.secondRecord.id])).toEqual([
      ['friend', a, b],
      ['friend', b, c],
      ['manager', b, c],
      ['owner', a, cars[0]],
    ]);
    const events = (await recordState(ws, b!)).associationEvents.totalCount;
    expect(events).toBe(3);

    const second = expectType(
      await batchLink(ws, [item(b!, a!, ['friend']), item(c!, b!, ['manager']), item(a!, c!, ['friend'])]),
      'BatchLinkRecordsSuccess',
    );
    // b–a friend exists (SINGLE: either order); c→b manager is new (PAIR: other direction); a–c is new.
    expect(second.createdCount).toBe(2);
    expect(second.associations[0]!.id).toBe(first.associations[0]!.id);
    expect((await recordState(ws, b!)).associationEvents.totalCount).toBe(4);
  });

  it('answers createdCount 0 for a batch of existing associations, and repeated items are linked once', async () => {
    const [a, b] = await fresh(2);
    const once = expectType(await batchLink(ws, [item(a!, b!, ['friend']), item(b!, a!, ['friend'])]), 'BatchLinkRecordsSuccess');
    expect(once.createdCount).toBe(1);
    expect(once.associations.map((x) => x.id)).toEqual([once.associations[0]!.id, once.associations[0]!.id]);
    const again = expectType(await batchLink(ws, [item(a!, b!, ['friend'])]), 'BatchLinkRecordsSuccess');
    expect(again.createdCount).toBe(0);
    expect((await recordState(ws, a!)).associationEvents.totalCount).toBe(1);
  });

  it('takes 100 items', async () => {
    const links = contacts.flatMap((contact) => cars.map((car) => item(contact, car, ['owner'])));
    expect(links).toHaveLength(100);
    const result = expectType(await batchLink(ws, links), 'BatchLinkRecordsSuccess');
    expect(result.createdCount).toBe(100);
    expect((await recordState(ws, cars[9]!)).associations.totalCount).toBe(10);
    const removed = expectType(
      await batchUnlink(ws, links.map(({ firstRecordId, secondRecordId }) => ({ firstRecordId, secondRecordId, labelKeys: ['owner'] }))),
      'BatchUnlinkRecordsSuccess',
    );
    expect(removed.removedCount).toBe(100);
  });

  it('rejects 0 or 101 items with a ValidationError and changes nothing', async () => {
    const [a, b] = await fresh(2);
    const before = await associationSnapshot(ws);
    const empty = expectType(await batchLink(ws, []), 'ValidationError');
    expect(empty).toMatchObject({ code: 'VALIDATION', field: 'links' });
    const tooMany = await batchLink(ws, Array.from({ length: 101 }, () => item(a!, b!, ['friend'])));
    expect(expectType(tooMany, 'ValidationError')).toMatchObject({ code: 'VALIDATION', field: 'links' });
    expect(await associationSnapshot(ws)).toEqual(before);
    expect((await recordState(ws, a!)).associationEvents.totalCount).toBe(0);
  });

  it.each([
    ['an unknown record', 'NotFoundError', (a: string, _b: string) => item(a, missingRecordId, ['friend'])],
    ['an unknown label', 'NotFoundError', (a: string, b: string) => item(a, b, ['friend', 'no_such_label'])],
    ['a self-link', 'ValidationError', (a: string, _b: string) => item(a, a, ['friend'])],
    ['records of the wrong objects', 'ObjectMismatchError', (a: string, b: string) => item(a, b, ['owner'])],
    ['empty labelKeys', 'ValidationError', (a: string, b: string) => item(a, b, [])],
  ] as const)('is all-or-nothing: %s in the middle names its index and nothing is stored', async (_name, typename, bad) => {
    const [a, b, c, d] = await fresh(4);
    const before = await associationSnapshot(ws);
    const result = await batchLink(ws, [
      item(a!, b!, ['friend']),
      item(c!, a!, ['manager']),
      bad(c!, d!),
      item(d!, a!, ['friend']),
    ]);
    const error = expectType(result, typename);
    expect(error.index).toBe(2);
    expect(await associationSnapshot(ws)).toEqual(before);
    for (const id of [a!, b!, c!, d!]) expect((await recordState(ws, id)).associationEvents.totalCount).toBe(0);
  });

  it('names index 0 for a failing first item', async () => {
    const [a] = await fresh(1);
    const error = expectType(await batchLink(ws, [item(a!, a!, ['friend']), item(a!, contacts[0]!, ['friend'])]), 'ValidationError');
    expect(error.index).toBe(0);
  });

  it("answers an id of another workspace like a missing one, with the item's index", async () => {
    const other = await t.workspace('Batch elsewhere');
    const [foreign] = await createContacts(other, 1);
    const [a, b] = await fresh(2);
    const before = await associationSnapshot(ws);
    const error = expectType(await batchLink(ws, [item(a!, b!, ['friend']), item(a!, foreign!, ['friend'])]), 'NotFoundError');
    expect(error.index).toBe(1);
    const missing = expectType(await batchLink(ws, [item(a!, b!, ['friend']), item(a!, missingRecordId, ['friend'])]), 'NotFoundError');
    expect(error.message).toBe(missing.message);
    expect(await associationSnapshot(ws)).toEqual(before);
  });

  it('lets a USER run batches', async () => {
    const member = await userOf(t, ws, 'Batcher');
    const [a, b] = await fresh(2);
    expect(expectType(await batchLink(member, [item(a!, b!, ['friend'])]), 'BatchLinkRecordsSuccess').createdCount).toBe(1);
    expect(expectType(await batchUnlink(member, [{ firstRecordId: a!, secondRecordId: b! }]), 'BatchUnlinkRecordsSuccess').removedCount).toBe(1);
  });
});

describe('limits inside a batch', () => {
  it("counts the batch's own earlier items toward maxAssociationsPerContact", async () => {
    const own = await t.workspace('Batch per contact');
    await createLabel(own, { first: 'contact', firstLabel: 'Friend', key: 'friend' });
    await setLimits(own, { maxAssociationsPerContact: 2 });
    const [a, b, c, d] = await createContacts(own, 4);
    const error = expectType(
      await batchLink(own, [item(a!, b!, ['friend']), item(c!, a!, ['friend']), item(a!, d!, ['friend'])]),
      'LimitExceededError',
    );
    expect(error).toMatchObject({ index: 2, limit: 'maxAssociationsPerContact', max: 2, current: 2 });
    expect(await associationSnapshot(own)).toEqual([]);
    // Without the third item it fits.
    expect(expectType(await batchLink(own, [item(a!, b!, ['friend']), item(c!, a!, ['friend'])]), 'BatchLinkRecordsSuccess').createdCount).toBe(2);
  });

  it("counts the batch's own earlier items toward maxRecordsPerLabel and cardinality", async () => {
    const own = await t.workspace('Batch per label');
    await createObject(own, 'car');
    await createLabel(own, { first: 'contact', firstLabel: 'Friend', key: 'friend' });
    await createLabel(own, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Keeper', secondLabel: 'Car', key: 'keeper', cardinality: 'ONE_TO_ONE' });
    await setLimits(own, { maxRecordsPerLabel: 3 });
    const [a, b, c, d] = await createContacts(own, 4);
    const [car1, car2] = await createRecords(own, 'custom_objects.car', 2);

    const records = expectType(
      await batchLink(own, [item(a!, b!, ['friend']), item(b!, c!, ['friend']), item(a!, c!, ['friend']), item(c!, d!, ['friend'])]),
      'LimitExceededError',
    );
    expect(records).toMatchObject({ index: 3, limit: 'maxRecordsPerLabel', max: 3, current: 3 });

    await setLimits(own, { maxRecordsPerLabel: 1000 });
    const cardinality = expectType(
      await batchLink(own, [item(a!, car1!, ['keeper']), item(b!, car2!, ['keeper']), item(car1!, c!, ['keeper'])]),
      'LimitExceededError',
    );
    expect(cardinality).toMatchObject({ index: 2, limit: 'ONE_TO_ONE', max: 1, current: 1 });
    expect(await associationSnapshot(own)).toEqual([]);
  });
});

describe('batchUnlinkRecords', () => {
  it('removes every item, with or without labelKeys, and sums removedCount (nothing removed is fine)', async () => {
    const [a, b, c] = await fresh(3);
    await linkOk(ws, a!, b!, ['friend', 'manager']);
    await linkOk(ws, b!, c!, ['friend']);
    await linkOk(ws, a!, cars[1]!, ['owner']);
    const result = expectType(
      await batchUnlink(ws, [
        { firstRecordId: b!, secondRecordId: a! }, // both labels
        { firstRecordId: c!, secondRecordId: b!, labelKeys: ['friend'] },
        { firstRecordId: cars[1]!, secondRecordId: a!, labelKeys: ['owner'] },
        { firstRecordId: a!, secondRecordId: c! }, // nothing between them
      ]),
      'BatchUnlinkRecordsSuccess',
    );
    expect(result.removedCount).toBe(4);
    for (const id of [a!, b!, c!]) expect((await recordState(ws, id)).associations.totalCount).toBe(0);
    const again = expectType(await batchUnlink(ws, [{ firstRecordId: b!, secondRecordId: a! }]), 'BatchUnlinkRecordsSuccess');
    expect(again.removedCount).toBe(0);
    const events = (await recordState(ws, a!)).associationEvents.edges.map((edge) => edge.node.action);
    expect(events).toEqual(['UNLINKED', 'UNLINKED', 'UNLINKED', 'LINKED', 'LINKED', 'LINKED']);
  });

  it('rejects 0 or 101 items with a ValidationError and removes nothing', async () => {
    const [a, b] = await fresh(2);
    await linkOk(ws, a!, b!, ['friend']);
    const before = await associationSnapshot(ws);
    expect(expectType(await batchUnlink(ws, []), 'ValidationError')).toMatchObject({ field: 'unlinks' });
    const tooMany = Array.from({ length: 101 }, () => ({ firstRecordId: a!, secondRecordId: b! }));
    expect(expectType(await batchUnlink(ws, tooMany), 'ValidationError')).toMatchObject({ field: 'unlinks' });
    expect(await associationSnapshot(ws)).toEqual(before);
  });

  it('is all-or-nothing: a failing item names its index and earlier removals are undone', async () => {
    const [a, b, c] = await fresh(3);
    await linkOk(ws, a!, b!, ['friend']);
    await linkOk(ws, b!, c!, ['manager']);
    const before = await associationSnapshot(ws);
    const cases: [UnlinkRecordsInput, string][] = [
      [{ firstRecordId: a!, secondRecordId: missingRecordId }, 'NotFoundError'],
      [{ firstRecordId: a!, secondRecordId: c!, labelKeys: ['no_such_label'] }, 'NotFoundError'],
      [{ firstRecordId: c!, secondRecordId: c! }, 'ValidationError'],
      [{ firstRecordId: a!, secondRecordId: c!, labelKeys: ['owner'] }, 'ObjectMismatchError'],
    ];
    for (const [bad, typename] of cases) {
      const result = await batchUnlink(ws, [
        { firstRecordId: a!, secondRecordId: b!, labelKeys: ['friend'] },
        bad,
        { firstRecordId: b!, secondRecordId: c! },
      ]);
      expect(result.__typename).toBe(typename);
      expect((result as { index?: number | null }).index).toBe(1);
      expect(await associationSnapshot(ws)).toEqual(before);
    }
    expect((await recordState(ws, a!)).associationEvents.totalCount).toBe(1);
  });
});
