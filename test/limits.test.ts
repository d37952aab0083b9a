import { describe, expect, it } from 'vitest';
import { LimitsGetDocument, LimitsUpdateDocument, type UpdateAssociationLimitsInput } from './generated/graphql.js';
import { expectType, run, useTestApp, type TestWorkspace } from './helpers.js';
import {
  associationSnapshot,
  createContacts,
  createLabel,
  createObject,
  createRecords,
  link,
  linkOk,
  labelCounts,
  recordState,
  setLimits,
  unlink,
  userOf,
} from './support/graph.js';

const t = useTestApp();

type Client = Pick<TestWorkspace, 'client'>;
const updateLimits = async (ws: Client, input: UpdateAssociationLimitsInput) =>
  (await run(ws.client, LimitsUpdateDocument, { input })).updateAssociationLimits;
const limitsOf = async (ws: Client) => (await run(ws.client, LimitsGetDocument, {})).viewer.workspace.limits;

/** Asserts a LimitExceededError with these details and returns it. */
async function expectLimit(
  result: Promise<Awaited<ReturnType<typeof link>>>,
  expected: { limit: string; max: number; current: number },
) {
  const error = expectType(await result, 'LimitExceededError');
  expect(error).toMatchObject({ code: 'LIMIT_EXCEEDED', ...expected });
  return error;
}

describe('rule 2: maxRecordsPerLabel', () => {
  it('counts distinct records on both sides; records already in the label may still be linked together', async () => {
    const ws = await t.workspace('Records per label');
    await setLimits(ws, { maxRecordsPerLabel: 3 });
    await createLabel(ws, { first: 'contact', firstLabel: 'Manager', secondLabel: 'Employee', key: 'manager' });
    await createLabel(ws, { first: 'contact', firstLabel: 'Friend', key: 'friend' });
    const [a, b, c, d, e] = await createContacts(ws, 5);

    await linkOk(ws, a!, b!, ['manager']); // {a, b}
    await linkOk(ws, c!, b!, ['manager']); // {a, b, c}: c first, b second
    expect((await labelCounts(ws)).manager).toEqual({ associations: 2, records: 3 });

    // a and c are both in the label already: no record joins.
    expect((await linkOk(ws, a!, c!, ['manager'])).created).toBe(true);
    expect((await linkOk(ws, b!, a!, ['manager'])).created).toBe(true);

    const before = await associationSnapshot(ws);
    const joinsOne = await expectLimit(link(ws, a!, d!, ['manager']), { limit: 'maxRecordsPerLabel', max: 3, current: 3 });
    expect(joinsOne.message).toContain('manager');
    await expectLimit(link(ws, d!, a!, ['manager']), { limit: 'maxRecordsPerLabel', max: 3, current: 3 });
    expect(await associationSnapshot(ws)).toEqual(before);

    // Another label has its own budget.
    await linkOk(ws, d!, e!, ['friend']);
    await linkOk(ws, a!, d!, ['friend']);
    expect((await labelCounts(ws)).friend).toEqual({ associations: 2, records: 3 });
  });

  it('refuses a link that would bring two new records when only one slot is left', async () => {
    const ws = await t.workspace('Two joining');
    await setLimits(ws, { maxRecordsPerLabel: 3 });
    await createObject(ws, 'car');
    await createLabel(ws, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Owner', secondLabel: 'Car', key: 'owner' });
    const [a, b] = await createContacts(ws, 2);
    const [car1, car2] = await createRecords(ws, 'custom_objects.car', 2);
    await linkOk(ws, a!, car1!, ['owner']);
    await expectLimit(link(ws, b!, car2!, ['owner']), { limit: 'maxRecordsPerLabel', max: 3, current: 2 });
    // One new record fits: the car side counts like the contact side.
    await linkOk(ws, a!, car2!, ['owner']);
    await expectLimit(link(ws, b!, car1!, ['owner']), { limit: 'maxRecordsPerLabel', max: 3, current: 3 });
    expect((await labelCounts(ws)).owner).toEqual({ associations: 2, records: 3 });
  });
});

describe('rule 3: maxAssociationsPerContact', () => {
  it('counts contact↔contact associations (two labels between the same contacts count 2) on both sides', async () => {
    const ws = await t.workspace('Per contact');
    await setLimits(ws, { maxAssociationsPerContact: 2 });
    await createObject(ws, 'car');
    await createLabel(ws, { first: 'contact', firstLabel: 'Spouse', key: 'spouse' });
    await createLabel(ws, { first: 'contact', firstLabel: 'Manager', secondLabel: 'Employee', key: 'manager' });
    await createLabel(ws, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Owner', secondLabel: 'Car', key: 'owner' });
    const [a, b, c, d, e] = await createContacts(ws, 5);
    const cars = await createRecords(ws, 'custom_objects.car', 3);

    // a–b under two labels: a (and b) are at 2.
    const both = await linkOk(ws, a!, b!, ['spouse', 'manager']);
    expect(both.associations).toHaveLength(2);
    const before = await associationSnapshot(ws);
    await expectLimit(link(ws, a!, c!, ['spouse']), { limit: 'maxAssociationsPerContact', max: 2, current: 2 });
    // The full contact on the second side blocks too, in either order.
    await expectLimit(link(ws, c!, b!, ['manager']), { limit: 'maxAssociationsPerContact', max: 2, current: 2 });
    await expectLimit(link(ws, b!, a!, ['manager']), { limit: 'maxAssociationsPerContact', max: 2, current: 2 });
    expect(await associationSnapshot(ws)).toEqual(before);

    // Contact↔car links do not count, and do not make a contact full.
    for (const car of cars) await linkOk(ws, a!, car, ['owner']);
    await linkOk(ws, c!, d!, ['spouse']);
    await linkOk(ws, c!, e!, ['manager']);
    await expectLimit(link(ws, d!, c!, ['manager']), { limit: 'maxAssociationsPerContact', max: 2, current: 2 });
    expect((await recordState(ws, a!)).associations.totalCount).toBe(5);

    // Re-linking an existing association at the limit is fine.
    const again = await linkOk(ws, b!, a!, ['spouse']);
    expect(again.created).toBe(false);
    expect(again.associations[0]!.id).toBe(both.associations[0]!.id);

    // Unlinking frees a slot.
    await unlink(ws, a!, b!, ['manager']);
    expect((await linkOk(ws, a!, d!, ['spouse'])).created).toBe(true);
  });
});

describe('rule 4: cardinality', () => {
  it('MANY_TO_ONE: a first-side record has at most one second-side record; the second side may have many', async () => {
    const ws = await t.workspace('Many to one');
    await createObject(ws, 'school');
    await createLabel(ws, { first: 'contact', second: 'custom_objects.school', firstLabel: 'Student', secondLabel: 'School', key: 'student', cardinality: 'MANY_TO_ONE' });
    const [s1, s2, s3] = await createContacts(ws, 3);
    const [school1, school2] = await createRecords(ws, 'custom_objects.school', 2);

    await linkOk(ws, s1!, school1!, ['student']);
    await linkOk(ws, school1!, s2!, ['student']); // reversed ids, stored contact→school
    await linkOk(ws, s3!, school1!, ['student']);
    const over = await expectLimit(link(ws, s1!, school2!, ['student']), { limit: 'MANY_TO_ONE', max: 1, current: 1 });
    expect(over.message).toContain('student');
    await expectLimit(link(ws, school2!, s2!, ['student']), { limit: 'MANY_TO_ONE', max: 1, current: 1 });
    expect((await linkOk(ws, s1!, school1!, ['student'])).created).toBe(false);
    expect((await recordState(ws, school1!)).associations.totalCount).toBe(3);
    expect((await recordState(ws, school2!)).associations.totalCount).toBe(0);

    await unlink(ws, s1!, school1!, ['student']);
    expect((await linkOk(ws, s1!, school2!, ['student'])).created).toBe(true);
  });

  it('MANY_TO_ONE on a PAIR label of one object: each first-side record has one second-side record', async () => {
    const ws = await t.workspace('Reports to');
    await createLabel(ws, { first: 'contact', firstLabel: 'Employee', secondLabel: 'Manager', key: 'reports_to', cardinality: 'MANY_TO_ONE' });
    const [e1, e2, m1, m2] = await createContacts(ws, 4);
    await linkOk(ws, e1!, m1!, ['reports_to']);
    await linkOk(ws, e2!, m1!, ['reports_to']);
    await linkOk(ws, m1!, m2!, ['reports_to']); // the manager reports to someone too
    await expectLimit(link(ws, e1!, m2!, ['reports_to']), { limit: 'MANY_TO_ONE', max: 1, current: 1 });
  });

  it('ONE_TO_ONE between two objects: one partner per record on each side', async () => {
    const ws = await t.workspace('One to one');
    await createObject(ws, 'car');
    await createLabel(ws, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Keeper', secondLabel: 'Car', key: 'keeper', cardinality: 'ONE_TO_ONE' });
    const [a, b] = await createContacts(ws, 2);
    const [car1, car2] = await createRecords(ws, 'custom_objects.car', 2);
    await linkOk(ws, a!, car1!, ['keeper']);
    const before = await associationSnapshot(ws);
    await expectLimit(link(ws, a!, car2!, ['keeper']), { limit: 'ONE_TO_ONE', max: 1, current: 1 });
    await expectLimit(link(ws, b!, car1!, ['keeper']), { limit: 'ONE_TO_ONE', max: 1, current: 1 });
    await expectLimit(link(ws, car1!, b!, ['keeper']), { limit: 'ONE_TO_ONE', max: 1, current: 1 });
    expect(await associationSnapshot(ws)).toEqual(before);
    expect((await linkOk(ws, car1!, a!, ['keeper'])).created).toBe(false);
    await linkOk(ws, b!, car2!, ['keeper']);
  });

  it('ONE_TO_ONE on a SINGLE label of one object: each record has at most one partner, whichever the order', async () => {
    const ws = await t.workspace('Spouses');
    await createLabel(ws, { first: 'contact', firstLabel: 'Spouse', key: 'spouse', cardinality: 'ONE_TO_ONE' });
    const [a, b, c, d] = await createContacts(ws, 4);
    await linkOk(ws, a!, b!, ['spouse']);
    await expectLimit(link(ws, a!, c!, ['spouse']), { limit: 'ONE_TO_ONE', max: 1, current: 1 });
    await expectLimit(link(ws, c!, a!, ['spouse']), { limit: 'ONE_TO_ONE', max: 1, current: 1 });
    await expectLimit(link(ws, c!, b!, ['spouse']), { limit: 'ONE_TO_ONE', max: 1, current: 1 });
    await expectLimit(link(ws, b!, c!, ['spouse']), { limit: 'ONE_TO_ONE', max: 1, current: 1 });
    expect((await linkOk(ws, b!, a!, ['spouse'])).created).toBe(false);
    await linkOk(ws, d!, c!, ['spouse']);
  });

  it('ONE_TO_ONE on a PAIR label of one object: one partner per side, so a record may hold each role once', async () => {
    const ws = await t.workspace('Mentors');
    await createLabel(ws, { first: 'contact', firstLabel: 'Mentor', secondLabel: 'Mentee', key: 'mentor', cardinality: 'ONE_TO_ONE' });
    const [a, b, c] = await createContacts(ws, 3);
    await linkOk(ws, a!, b!, ['mentor']);
    await linkOk(ws, b!, c!, ['mentor']); // b is a mentee of a and the mentor of c
    await expectLimit(link(ws, a!, c!, ['mentor']), { limit: 'ONE_TO_ONE', max: 1, current: 1 });
    await expectLimit(link(ws, c!, b!, ['mentor']), { limit: 'ONE_TO_ONE', max: 1, current: 1 });
    await linkOk(ws, c!, a!, ['mentor']);
  });

  it('refuses MANY_TO_ONE for a SINGLE label on one object (it has no sides)', async () => {
    const ws = await t.workspace('No sides');
    const response = await ws.gql(
      `mutation { createAssociationLabel(input: { firstObjectKey: "contact", secondObjectKey: "contact", type: SINGLE, firstLabel: "Twin", cardinality: MANY_TO_ONE }) {
        __typename ... on ValidationError { field } } }`,
    );
    expect(response.data.createAssociationLabel).toEqual({ __typename: 'ValidationError', field: 'cardinality' });
  });

  it('a multi-label link hitting a cardinality on its second label links nothing', async () => {
    const ws = await t.workspace('Cardinality atomic');
    await createLabel(ws, { first: 'contact', firstLabel: 'Friend', key: 'friend' });
    await createLabel(ws, { first: 'contact', firstLabel: 'Spouse', key: 'spouse', cardinality: 'ONE_TO_ONE' });
    const [a, b, c] = await createContacts(ws, 3);
    await linkOk(ws, a!, b!, ['spouse']);
    const before = await associationSnapshot(ws);
    await expectLimit(link(ws, a!, c!, ['friend', 'spouse']), { limit: 'ONE_TO_ONE', max: 1, current: 1 });
    expect(await associationSnapshot(ws)).toEqual(before);
  });
});

describe('rule 5 and updateAssociationLimits', () => {
  it('lets an admin change limits; fields left out keep their value; other workspaces are not affected', async () => {
    const ws = await t.workspace('Change limits');
    const other = await t.workspace('Untouched limits');
    const changed = expectType(await updateLimits(ws, { maxRecordsPerLabel: 50 }), 'UpdateAssociationLimitsSuccess');
    expect(changed.limits).toEqual({ maxLabelsPerObjectPair: 10, maxRecordsPerLabel: 50, maxAssociationsPerContact: 10 });
    const all = expectType(
      await updateLimits(ws, { maxLabelsPerObjectPair: 3, maxAssociationsPerContact: 0, maxRecordsPerLabel: null }),
      'UpdateAssociationLimitsSuccess',
    );
    expect(all.limits).toEqual({ maxLabelsPerObjectPair: 3, maxRecordsPerLabel: 50, maxAssociationsPerContact: 0 });
    expect(await limitsOf(ws)).toEqual(all.limits);
    expect(await limitsOf(other)).toEqual({ maxLabelsPerObjectPair: 10, maxRecordsPerLabel: 1000, maxAssociationsPerContact: 10 });
  });

  it('answers ForbiddenError in the union for a USER, and changes nothing', async () => {
    const ws = await t.workspace('User limits');
    const member = await userOf(t, ws);
    const result = expectType(await updateLimits(member, { maxRecordsPerLabel: 1 }), 'ForbiddenError');
    expect(result.code).toBe('FORBIDDEN');
    expect(await limitsOf(ws)).toEqual({ maxLabelsPerObjectPair: 10, maxRecordsPerLabel: 1000, maxAssociationsPerContact: 10 });
    // Reading the limits is fine for a USER.
    expect((await limitsOf(member)).maxRecordsPerLabel).toBe(1000);
  });

  it.each([
    { maxLabelsPerObjectPair: -1 },
    { maxRecordsPerLabel: -5 },
    { maxAssociationsPerContact: -1 },
    { maxRecordsPerLabel: 7, maxAssociationsPerContact: -1 },
  ])('rejects negative values %j with a ValidationError and changes nothing', async (input) => {
    const ws = await t.workspace();
    const result = expectType(await updateLimits(ws, input), 'ValidationError');
    expect(result.code).toBe('VALIDATION');
    const negative = Object.entries(input).find(([, value]) => value < 0)![0];
    expect(result.field).toBe(negative);
    expect(await limitsOf(ws)).toEqual({ maxLabelsPerObjectPair: 10, maxRecordsPerLabel: 1000, maxAssociationsPerContact: 10 });
  });

  it('allows lowering a limit below current usage; new links over it are blocked, existing ones stay and re-link', async () => {
    const ws = await t.workspace('Lowered');
    await createLabel(ws, { first: 'contact', firstLabel: 'Friend', key: 'friend' });
    const [a, b, c, d] = await createContacts(ws, 4);
    const ab = await linkOk(ws, a!, b!, ['friend']);
    await linkOk(ws, a!, c!, ['friend']);
    await linkOk(ws, a!, d!, ['friend']); // a takes part in 3, the label links 4 records

    const lowered = expectType(await updateLimits(ws, { maxRecordsPerLabel: 2, maxAssociationsPerContact: 1 }), 'UpdateAssociationLimitsSuccess');
    expect(lowered.limits).toMatchObject({ maxRecordsPerLabel: 2, maxAssociationsPerContact: 1 });
    const before = await associationSnapshot(ws);
    expect(before).toHaveLength(3);

    // b and c are both in the label already: only the per-contact limit (b has 1) blocks.
    await expectLimit(link(ws, b!, c!, ['friend']), { limit: 'maxAssociationsPerContact', max: 1, current: 1 });
    await setLimits(ws, { maxAssociationsPerContact: 10 });
    const [e] = await createContacts(ws, 1, 'New');
    await expectLimit(link(ws, e!, b!, ['friend']), { limit: 'maxRecordsPerLabel', max: 2, current: 4 });
    await setLimits(ws, { maxAssociationsPerContact: 1 });

    const again = await linkOk(ws, b!, a!, ['friend']);
    expect(again).toMatchObject({ created: false });
    expect(again.associations[0]!.id).toBe(ab.associations[0]!.id);
    expect(await associationSnapshot(ws)).toEqual(before);

    // Unlinking is never blocked by a limit.
    expect(expectType(await unlink(ws, a!, d!), 'UnlinkRecordsSuccess').removedCount).toBe(1);
  });

  it('a limit of 0 blocks every new link of that kind', async () => {
    const ws = await t.workspace('Zero');
    await createObject(ws, 'car');
    await createLabel(ws, { first: 'contact', firstLabel: 'Friend', key: 'friend' });
    await createLabel(ws, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Owner', secondLabel: 'Car', key: 'owner' });
    await setLimits(ws, { maxAssociationsPerContact: 0 });
    const [a, b] = await createContacts(ws, 2);
    const [car] = await createRecords(ws, 'custom_objects.car', 1);
    await expectLimit(link(ws, a!, b!, ['friend']), { limit: 'maxAssociationsPerContact', max: 0, current: 0 });
    await linkOk(ws, a!, car!, ['owner']);
  });
});
