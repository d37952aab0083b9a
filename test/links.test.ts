import { beforeAll, describe, expect, it } from 'vitest';
import { ViewerDocument } from './generated/graphql.js';
import { expectType, run, useTestApp, type TestWorkspace } from './helpers.js';
import {
  associationSnapshot,
  createContacts,
  createLabel,
  createObject,
  createRecords,
  link,
  linkOk,
  recordState,
  unlink,
  userOf,
} from './support/graph.js';

const t = useTestApp();

/** A well-formed global id of a record that does not exist. */
const missingRecordId = Buffer.from('Record:987654', 'utf8').toString('base64');

const pairs = (associations: { firstRecord: { id: string }; secondRecord: { id: string } }[]) =>
  associations.map((association) => [association.firstRecord.id, association.secondRecord.id]);
const eventCount = async (ws: TestWorkspace, recordId: string) => (await recordState(ws, recordId)).associationEvents.totalCount;

let ws: TestWorkspace;
let adminId: string;

beforeAll(async () => {
  ws = await t.workspace('Links');
  adminId = (await run(ws.client, ViewerDocument, {})).viewer.user.id;
  await createObject(ws, 'car');
  await createObject(ws, 'school');
  await createLabel(ws, { first: 'contact', firstLabel: 'Spouse', key: 'spouse' });
  await createLabel(ws, { first: 'contact', firstLabel: 'Manager', secondLabel: 'Employee', key: 'manager' });
  await createLabel(ws, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Owner', secondLabel: 'Car', key: 'owner' });
  await createLabel(ws, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Buyer', secondLabel: 'Purchase', key: 'buyer' });
  await createLabel(ws, { first: 'custom_objects.car', second: 'contact', firstLabel: 'Car', secondLabel: 'Driver', key: 'driver' });
  await createLabel(ws, { first: 'contact', second: 'custom_objects.school', firstLabel: 'Student', secondLabel: 'School', key: 'student' });
});

describe('linkRecords', () => {
  it('links two records under one label, stores the label order, and logs a LINKED event', async () => {
    const [alice] = await createContacts(ws, 1, 'Alice');
    const [car] = await createRecords(ws, 'custom_objects.car', 1, 'Beetle');
    const result = await linkOk(ws, alice!, car!, ['owner']);
    expect(result.created).toBe(true);
    expect(result.associations).toHaveLength(1);
    expect(result.associations[0]!.label.key).toBe('owner');
    expect(pairs(result.associations)).toEqual([[alice, car]]);

    const fromAlice = await recordState(ws, alice!);
    expect(fromAlice.associations.edges.map((edge) => [edge.relatedRole, edge.relatedRecord.id])).toEqual([['Car', car]]);
    expect(fromAlice.associationEvents.edges.map((edge) => edge.node)).toMatchObject([
      { action: 'LINKED', label: { key: 'owner' }, firstRecordId: alice, secondRecordId: car, actor: { id: adminId } },
    ]);
    const fromCar = await recordState(ws, car!);
    expect(fromCar.associations.edges.map((edge) => [edge.relatedRole, edge.relatedRecord.id])).toEqual([['Owner', alice]]);
  });

  it('links under several labels at once, one association per label', async () => {
    const [bob] = await createContacts(ws, 1, 'Bob');
    const [car] = await createRecords(ws, 'custom_objects.car', 1, 'Golf');
    const result = await linkOk(ws, bob!, car!, ['owner', 'buyer', 'driver']);
    expect(result.created).toBe(true);
    expect(result.associations.map((association) => association.label.key)).toEqual(['owner', 'buyer', 'driver']);
    // driver is car→contact: stored in its own order.
    expect(pairs(result.associations)).toEqual([[bob, car], [bob, car], [car, bob]]);
    expect(new Set(result.associations.map((association) => association.id)).size).toBe(3);
    const roles = (await recordState(ws, bob!)).associations.edges.map((edge) => edge.relatedRole).sort();
    expect(roles).toEqual(['Car', 'Car', 'Purchase']);
    expect(await eventCount(ws, bob!)).toBe(3);
  });

  it('is idempotent: linking again answers created:false with the same associations and writes no event', async () => {
    const [carol] = await createContacts(ws, 1, 'Carol');
    const [car] = await createRecords(ws, 'custom_objects.car', 1, 'Mini');
    const first = await linkOk(ws, carol!, car!, ['owner', 'buyer']);
    const before = await associationSnapshot(ws);
    const again = await linkOk(ws, carol!, car!, ['owner', 'buyer']);
    expect(again.created).toBe(false);
    expect(again.associations.map((association) => association.id)).toEqual(first.associations.map((association) => association.id));
    expect(await associationSnapshot(ws)).toEqual(before);
    expect(await eventCount(ws, carol!)).toBe(2);

    // Partly new: created is true, the existing one keeps its id, one event more.
    const partly = await linkOk(ws, carol!, car!, ['owner', 'driver']);
    expect(partly.created).toBe(true);
    expect(partly.associations[0]!.id).toBe(first.associations[0]!.id);
    expect(await eventCount(ws, carol!)).toBe(3);
  });

  it('accepts the ids of a two-object label in either order and stores them in label order', async () => {
    const [dan] = await createContacts(ws, 1, 'Dan');
    const [car] = await createRecords(ws, 'custom_objects.car', 1, 'Polo');
    const reversed = await linkOk(ws, car!, dan!, ['owner']);
    expect(reversed.created).toBe(true);
    expect(pairs(reversed.associations)).toEqual([[dan, car]]);
    const straight = await linkOk(ws, dan!, car!, ['owner']);
    expect(straight.created).toBe(false);
    expect(straight.associations[0]!.id).toBe(reversed.associations[0]!.id);

    const driver = await linkOk(ws, dan!, car!, ['driver']);
    expect(pairs(driver.associations)).toEqual([[car, dan]]);
  });

  it('treats A–B and B–A as one association under a SINGLE label on one object', async () => {
    const [a, b] = await createContacts(ws, 2, 'Single');
    const ab = await linkOk(ws, a!, b!, ['spouse']);
    const ba = await linkOk(ws, b!, a!, ['spouse']);
    expect(ba.created).toBe(false);
    expect(ba.associations[0]!.id).toBe(ab.associations[0]!.id);
    expect((await recordState(ws, a!)).associations.totalCount).toBe(1);
    expect((await recordState(ws, b!)).associations.edges.map((edge) => [edge.relatedRole, edge.relatedRecord.id])).toEqual([['Spouse', a]]);
    expect(await eventCount(ws, a!)).toBe(1);
  });

  it('treats A→B and B→A as two associations under a PAIR label on one object', async () => {
    const [a, b] = await createContacts(ws, 2, 'Pair');
    const ab = await linkOk(ws, a!, b!, ['manager']);
    const ba = await linkOk(ws, b!, a!, ['manager']);
    expect(ba.created).toBe(true);
    expect(pairs(ab.associations)).toEqual([[a, b]]);
    expect(pairs(ba.associations)).toEqual([[b, a]]);
    expect(ba.associations[0]!.id).not.toBe(ab.associations[0]!.id);
    // On A's page B shows up twice: as A's Employee and as A's Manager.
    const roles = (await recordState(ws, a!)).associations.edges.map((edge) => [edge.relatedRole, edge.relatedRecord.id]);
    expect(roles.sort()).toEqual([['Employee', b], ['Manager', b]]);
    const again = await linkOk(ws, b!, a!, ['manager']);
    expect(again.created).toBe(false);
  });

  it('refuses to link a record to itself (ValidationError), under any label', async () => {
    const [a] = await createContacts(ws, 1, 'Self');
    for (const labelKeys of [['spouse'], ['manager'], ['spouse', 'manager']]) {
      const result = expectType(await link(ws, a!, a!, labelKeys), 'ValidationError');
      expect(result.code).toBe('VALIDATION');
    }
    expect((await recordState(ws, a!)).associations.totalCount).toBe(0);
    expect(await eventCount(ws, a!)).toBe(0);
  });

  it("answers ObjectMismatchError when the records do not match the label's objects", async () => {
    const [a, b] = await createContacts(ws, 2, 'Mismatch');
    const [car1, car2] = await createRecords(ws, 'custom_objects.car', 2, 'Mismatch car');
    const [school] = await createRecords(ws, 'custom_objects.school', 1, 'Mismatch school');
    const before = await associationSnapshot(ws);
    const cases: [string, string, string][] = [
      [a!, b!, 'owner'], // two contacts, contact→car label
      [car1!, car2!, 'owner'], // two cars
      [a!, car1!, 'spouse'], // contact↔contact label with a car
      [car1!, a!, 'manager'],
      [car1!, school!, 'student'], // car instead of contact
      [a!, school!, 'owner'], // school instead of car
    ];
    for (const [first, second, label] of cases) {
      const result = expectType(await link(ws, first, second, [label]), 'ObjectMismatchError');
      expect(result.code).toBe('OBJECT_MISMATCH');
    }
    expect(await associationSnapshot(ws)).toEqual(before);
  });

  it('answers NotFoundError for an unknown record, a malformed id, an unknown label key', async () => {
    const [a] = await createContacts(ws, 1, 'Missing');
    const [car] = await createRecords(ws, 'custom_objects.car', 1, 'Missing car');
    const before = await associationSnapshot(ws);
    expectType(await link(ws, a!, missingRecordId, ['owner']), 'NotFoundError');
    expectType(await link(ws, missingRecordId, car!, ['owner']), 'NotFoundError');
    expectType(await link(ws, a!, 'not-an-id', ['owner']), 'NotFoundError');
    const label = expectType(await link(ws, a!, car!, ['no_such_label']), 'NotFoundError');
    expect(label.message).toContain('no_such_label');
    expect(await associationSnapshot(ws)).toEqual(before);
  });

  it('answers an id or label of another workspace exactly like one that does not exist', async () => {
    const other = await t.workspace('Links elsewhere');
    const [foreignContact] = await createContacts(other, 1, 'Foreign');
    await createLabel(other, { first: 'contact', firstLabel: 'Secret', key: 'secret' });
    const [a, b] = await createContacts(ws, 2, 'Home');
    const before = await associationSnapshot(ws);

    const foreign = expectType(await link(ws, a!, foreignContact!, ['spouse']), 'NotFoundError');
    const missing = expectType(await link(ws, a!, missingRecordId, ['spouse']), 'NotFoundError');
    expect(foreign.message).toBe(missing.message);
    const foreignFirst = expectType(await link(ws, foreignContact!, a!, ['spouse']), 'NotFoundError');
    const missingFirst = expectType(await link(ws, missingRecordId, a!, ['spouse']), 'NotFoundError');
    expect(foreignFirst.message).toBe(missingFirst.message);

    const foreignLabel = expectType(await link(ws, a!, b!, ['secret']), 'NotFoundError');
    const missingLabel = expectType(await link(ws, a!, b!, ['nothing']), 'NotFoundError');
    expect(foreignLabel.message.replace('secret', 'X')).toBe(missingLabel.message.replace('nothing', 'X'));

    expect(await associationSnapshot(ws)).toEqual(before);
    expect(await associationSnapshot(other)).toEqual([]);
  });

  it('is all-or-nothing across several labels: one bad label links nothing', async () => {
    const [a] = await createContacts(ws, 1, 'Atomic');
    const [car] = await createRecords(ws, 'custom_objects.car', 1, 'Atomic car');
    const before = await associationSnapshot(ws);
    expectType(await link(ws, a!, car!, ['owner', 'no_such_label']), 'NotFoundError');
    expectType(await link(ws, a!, car!, ['owner', 'buyer', 'spouse']), 'ObjectMismatchError');
    expect(await associationSnapshot(ws)).toEqual(before);
    expect(await eventCount(ws, a!)).toBe(0);
    expect((await recordState(ws, car!)).associations.totalCount).toBe(0);
  });

  it('rejects an empty labelKeys list', async () => {
    const [a, b] = await createContacts(ws, 2, 'Empty');
    const result = expectType(await link(ws, a!, b!, []), 'ValidationError');
    expect(result.field).toBe('labelKeys');
    expect((await recordState(ws, a!)).associations.totalCount).toBe(0);
  });

  it('lets a USER (no permission entries: ALL) link and unlink; createdBy and the log name that user', async () => {
    const member = await userOf(t, ws, 'Linker');
    const [a, b] = await createContacts(ws, 2, 'ByUser');
    const linked = await linkOk(member, a!, b!, ['spouse']);
    expect(linked.created).toBe(true);
    const state = await recordState(ws, a!);
    expect(state.associationEvents.edges[0]!.node.actor?.id).toBe(member.userId);
    const response = await ws.gql<{ node: { createdBy: { id: string } | null } }>(
      'query ($id: ID!) { node(id: $id) { ... on Association { createdBy { id } } } }',
      { id: linked.associations[0]!.id },
    );
    expect(response.data?.node.createdBy?.id).toBe(member.userId);
    expect(expectType(await unlink(member, a!, b!, ['spouse']), 'UnlinkRecordsSuccess').removedCount).toBe(1);
    expect((await recordState(ws, a!)).associations.totalCount).toBe(0);
  });
});

describe('unlinkRecords', () => {
  it('removes the associations under the given labels only, logging an UNLINKED event each', async () => {
    const [a] = await createContacts(ws, 1, 'Unlink');
    const [car] = await createRecords(ws, 'custom_objects.car', 1, 'Unlink car');
    await linkOk(ws, a!, car!, ['owner', 'buyer', 'driver']);
    const result = expectType(await unlink(ws, a!, car!, ['owner', 'driver']), 'UnlinkRecordsSuccess');
    expect(result.removedCount).toBe(2);
    const state = await recordState(ws, a!);
    expect(state.associations.edges.map((edge) => edge.node.label.key)).toEqual(['buyer']);
    const events = state.associationEvents.edges.map((edge) => edge.node);
    expect(events.filter((event) => event.action === 'UNLINKED').map((event) => event.label?.key).sort()).toEqual(['driver', 'owner']);
    expect(events.filter((event) => event.action === 'UNLINKED').every((event) => event.actor?.id === adminId)).toBe(true);
  });

  it('accepts the two ids in either order for a two-object label', async () => {
    const [a] = await createContacts(ws, 1, 'Either');
    const [car] = await createRecords(ws, 'custom_objects.car', 1, 'Either car');
    await linkOk(ws, a!, car!, ['owner']);
    expect(expectType(await unlink(ws, car!, a!, ['owner']), 'UnlinkRecordsSuccess').removedCount).toBe(1);
    expect((await recordState(ws, a!)).associations.totalCount).toBe(0);
  });

  it('without labelKeys removes every association between the two records, and only those', async () => {
    const [a, b, c] = await createContacts(ws, 3, 'All');
    const [car] = await createRecords(ws, 'custom_objects.car', 1, 'All car');
    await linkOk(ws, a!, car!, ['owner', 'buyer', 'driver']);
    await linkOk(ws, a!, b!, ['spouse']);
    await linkOk(ws, b!, car!, ['owner']);
    const result = expectType(await unlink(ws, car!, a!), 'UnlinkRecordsSuccess');
    expect(result.removedCount).toBe(3);
    expect((await recordState(ws, a!)).associations.edges.map((edge) => edge.node.label.key)).toEqual(['spouse']);
    expect((await recordState(ws, b!)).associations.totalCount).toBe(2);
    expect((await recordState(ws, car!)).associations.edges.map((edge) => edge.relatedRecord.id)).toEqual([b]);

    // Between two contacts: a SINGLE label and a PAIR label in both directions all go.
    await linkOk(ws, a!, c!, ['spouse', 'manager']);
    await linkOk(ws, c!, a!, ['manager']);
    expect((await recordState(ws, c!)).associations.totalCount).toBe(3);
    const contacts = expectType(await unlink(ws, c!, a!), 'UnlinkRecordsSuccess');
    expect(contacts.removedCount).toBe(3);
    expect((await recordState(ws, c!)).associations.totalCount).toBe(0);
    expect((await recordState(ws, a!)).associations.edges.map((edge) => edge.node.label.key)).toEqual(['spouse']);
  });

  it('reads a PAIR label on one object in the given direction when the label is named', async () => {
    const [a, b] = await createContacts(ws, 2, 'Directed');
    await linkOk(ws, a!, b!, ['manager']);
    await linkOk(ws, b!, a!, ['manager']);
    expect(expectType(await unlink(ws, b!, a!, ['manager']), 'UnlinkRecordsSuccess').removedCount).toBe(1);
    const left = (await recordState(ws, a!)).associations.edges.map((edge) => edge.node);
    expect(pairs(left)).toEqual([[a, b]]);
  });

  it('removes a SINGLE same-object association given in either order', async () => {
    const [a, b] = await createContacts(ws, 2, 'Symmetric');
    await linkOk(ws, a!, b!, ['spouse']);
    expect(expectType(await unlink(ws, b!, a!, ['spouse']), 'UnlinkRecordsSuccess').removedCount).toBe(1);
    expect((await recordState(ws, a!)).associations.totalCount).toBe(0);
  });

  it('is idempotent: removing nothing answers removedCount 0 and writes no event', async () => {
    const [a, b] = await createContacts(ws, 2, 'Nothing');
    await linkOk(ws, a!, b!, ['spouse']);
    expect(expectType(await unlink(ws, a!, b!, ['spouse']), 'UnlinkRecordsSuccess').removedCount).toBe(1);
    const events = await eventCount(ws, a!);
    expect(expectType(await unlink(ws, a!, b!, ['spouse']), 'UnlinkRecordsSuccess').removedCount).toBe(0);
    expect(expectType(await unlink(ws, a!, b!), 'UnlinkRecordsSuccess').removedCount).toBe(0);
    expect(expectType(await unlink(ws, a!, b!, ['manager']), 'UnlinkRecordsSuccess').removedCount).toBe(0);
    expect(await eventCount(ws, a!)).toBe(events);
  });

  it('never deletes the label, even when its last association goes', async () => {
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Roommate', key: 'roommate' });
    const [a, b] = await createContacts(ws, 2, 'Room');
    await linkOk(ws, a!, b!, ['roommate']);
    expectType(await unlink(ws, a!, b!, ['roommate']), 'UnlinkRecordsSuccess');
    const response = await ws.gql('query { associationLabel(key: "roommate") { id associationCount } }');
    expect(response.data.associationLabel).toEqual({ id: label.id, associationCount: 0 });
    // Still usable.
    expect((await linkOk(ws, a!, b!, ['roommate'])).created).toBe(true);
  });

  it('answers errors like linkRecords (self, missing record, unknown label, mismatch) and removes nothing', async () => {
    const [a, b] = await createContacts(ws, 2, 'UnlinkErr');
    await linkOk(ws, a!, b!, ['spouse', 'manager']);
    const before = await associationSnapshot(ws);
    expectType(await unlink(ws, a!, a!), 'ValidationError');
    expectType(await unlink(ws, a!, missingRecordId), 'NotFoundError');
    expectType(await unlink(ws, a!, b!, ['spouse', 'no_such_label']), 'NotFoundError');
    expectType(await unlink(ws, a!, b!, ['spouse', 'owner']), 'ObjectMismatchError');
    expect(await associationSnapshot(ws)).toEqual(before);
  });
});
