/**
 * SPEC §5.5: per-label limits per direction (set, validated, enforced like the workspace limits,
 * under concurrency too) and the usage of every limit, for the workspace (admins) and for one
 * record (anyone who can see it), counted among the records the viewer can see.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_OPERATIONS } from '../src/examples.js';
import { seedDemo } from '../src/services/demo.js';
import {
  LabelLimitsBatchLinkDocument,
  LabelLimitsGetDocument,
  LabelLimitsRecordUsageDocument,
  LabelLimitsUpdateDocument,
  LabelLimitsWorkspaceUsageDocument,
  type LabelLimitsUsageFragment,
  type UpdateAssociationLabelInput,
} from './generated/graphql.js';
import { expectType, run, useTestApp, type TestWorkspace } from './helpers.js';
import {
  DELETE_LABEL,
  batchLink as batchLinkRaw,
  burst,
  createLabel as createLabelRaw,
  createObject as createObjectRaw,
  createRecords as createRecordsRaw,
  deleteRecord,
  expectWithinLimits,
  link as linkRaw,
  storedAssociations,
  tally,
  tallyProblems,
  typed,
  typedAll,
} from './support/concurrency.js';
import {
  associationSnapshot,
  createContacts,
  createLabel,
  createObject,
  createRecords,
  link,
  linkOk,
  setLimits,
  unlink,
  userOf,
} from './support/graph.js';
import { createRecord, setAccess } from './support/permissions.js';

const t = useTestApp();

type Client = Pick<TestWorkspace, 'client'>;

const updateLabel = async (ws: Client, input: UpdateAssociationLabelInput) =>
  (await run(ws.client, LabelLimitsUpdateDocument, { input })).updateAssociationLabel;
const limitsOf = async (ws: Client, key: string) => (await run(ws.client, LabelLimitsGetDocument, { key })).associationLabel!.limits;
const labelId = async (ws: Client, key: string) => (await run(ws.client, LabelLimitsGetDocument, { key })).associationLabel!.id;
async function setLabelLimits(ws: Client, id: string, limits: Omit<UpdateAssociationLabelInput, 'id'>) {
  return expectType(await updateLabel(ws, { id, ...limits }), 'UpdateAssociationLabelSuccess').associationLabel;
}
const recordUsage = async (ws: Client, id: string) => (await run(ws.client, LabelLimitsRecordUsageDocument, { id })).record!.limitUsage;
const workspaceUsage = async (ws: Client, first?: number) =>
  (await run(ws.client, LabelLimitsWorkspaceUsageDocument, { first })).viewer.workspace.limitUsage;

/** A usage row as a short string: "limit label/objects/record current/max percent%". */
function row(usage: LabelLimitsUsageFragment): string {
  const what = [
    usage.label?.key,
    usage.firstObject && `${usage.firstObject.key}+${usage.secondObject!.key}`,
    usage.record?.displayName,
  ].filter(Boolean);
  return `${usage.limit} ${what.join(' ')} ${usage.current}/${usage.max} ${Math.round(usage.percent * 100) / 100}%`;
}

/** Asserts a LimitExceededError with these details and returns it. */
async function expectLimit(
  result: Promise<Awaited<ReturnType<typeof link>>> | Awaited<ReturnType<typeof link>>,
  expected: { limit: string; max: number; current: number },
) {
  const error = expectType(await result, 'LimitExceededError');
  expect(error).toMatchObject({ code: 'LIMIT_EXCEEDED', ...expected });
  return error;
}

/** A workspace with companies and a "Decision maker"/"Account" label from contacts to companies. */
async function companies(name: string) {
  const ws = await t.workspace(name);
  await createObject(ws, 'company');
  const label = await createLabel(ws, {
    first: 'contact',
    second: 'custom_objects.company',
    firstLabel: 'Decision maker',
    secondLabel: 'Account',
    key: 'decision_maker',
  });
  return { ws, label };
}

describe('setting a label’s limits (updateAssociationLabel)', () => {
  it('sets, keeps and clears each direction; a rename in the same input applies with it', async () => {
    const { ws, label } = await companies('Set limits');
    expect(await limitsOf(ws, 'decision_maker')).toEqual({ maxSecondPerFirst: null, maxFirstPerSecond: null });

    const set = await setLabelLimits(ws, label.id, { maxFirstPerSecond: 1, maxSecondPerFirst: 5 });
    expect(set).toMatchObject({ key: 'decision_maker', limits: { maxSecondPerFirst: 5, maxFirstPerSecond: 1 } });
    // A field left out keeps its value; a rename alone changes no limit.
    const renamed = await setLabelLimits(ws, label.id, { firstLabel: 'Buyer', maxSecondPerFirst: 1000 });
    expect(renamed).toMatchObject({ firstLabel: 'Buyer', secondLabel: 'Account', limits: { maxSecondPerFirst: 1000, maxFirstPerSecond: 1 } });
    expect((await setLabelLimits(ws, label.id, { secondLabel: 'Company' })).limits).toEqual({ maxSecondPerFirst: 1000, maxFirstPerSecond: 1 });
    // null clears one direction.
    expect((await setLabelLimits(ws, label.id, { maxFirstPerSecond: null })).limits).toEqual({ maxSecondPerFirst: 1000, maxFirstPerSecond: null });
    expect(await limitsOf(ws, 'decision_maker')).toEqual({ maxSecondPerFirst: 1000, maxFirstPerSecond: null });
  });

  it('answers ForbiddenError to a USER and changes nothing; a USER reads the limits', async () => {
    const { ws, label } = await companies('User sets limits');
    await setLabelLimits(ws, label.id, { maxFirstPerSecond: 2 });
    const member = await userOf(t, ws);
    expect(expectType(await updateLabel(member, { id: label.id, maxFirstPerSecond: 1 }), 'ForbiddenError').code).toBe('FORBIDDEN');
    expect(await limitsOf(member, 'decision_maker')).toEqual({ maxSecondPerFirst: null, maxFirstPerSecond: 2 });
  });

  it.each([
    { input: { maxSecondPerFirst: 0 }, field: 'maxSecondPerFirst' },
    { input: { maxFirstPerSecond: -1 }, field: 'maxFirstPerSecond' },
    { input: { maxFirstPerSecond: 51 }, field: 'maxFirstPerSecond' },
    { input: { maxSecondPerFirst: 3, maxFirstPerSecond: 1_000_000 }, field: 'maxFirstPerSecond' },
  ])('refuses $input outside 1..maxRecordsPerLabel with a VALIDATION error stating the range; nothing changes', async ({ input, field }) => {
    const { ws, label } = await companies('Range');
    await setLimits(ws, { maxRecordsPerLabel: 50 });
    await setLabelLimits(ws, label.id, { maxSecondPerFirst: 7, maxFirstPerSecond: 8 });
    const error = expectType(await updateLabel(ws, { id: label.id, firstLabel: 'Renamed', ...input }), 'ValidationError');
    expect(error).toMatchObject({ code: 'VALIDATION', field });
    expect(error.message).toContain('from 1 to 50');
    expect(await run(ws.client, LabelLimitsGetDocument, { key: 'decision_maker' })).toMatchObject({
      associationLabel: { firstLabel: 'Decision maker', limits: { maxSecondPerFirst: 7, maxFirstPerSecond: 8 } },
    });
  });

  it('accepts the ends of the range: 1 and maxRecordsPerLabel', async () => {
    const { ws, label } = await companies('Range ends');
    await setLimits(ws, { maxRecordsPerLabel: 50 });
    expect((await setLabelLimits(ws, label.id, { maxSecondPerFirst: 1, maxFirstPerSecond: 50 })).limits).toEqual({
      maxSecondPerFirst: 1,
      maxFirstPerSecond: 50,
    });
  });

  it('MANY_TO_ONE fixes maxSecondPerFirst at 1 (VALIDATION); maxFirstPerSecond is free', async () => {
    const ws = await t.workspace('Many to one limits');
    await createObject(ws, 'school');
    const label = await createLabel(ws, { first: 'contact', second: 'custom_objects.school', firstLabel: 'Student', secondLabel: 'School', key: 'student', cardinality: 'MANY_TO_ONE' });
    for (const value of [1, 2]) {
      const error = expectType(await updateLabel(ws, { id: label.id, maxSecondPerFirst: value }), 'ValidationError');
      expect(error).toMatchObject({ field: 'maxSecondPerFirst' });
      expect(error.message).toContain('MANY_TO_ONE');
      expect(error.message).toContain('must be null');
    }
    expect((await setLabelLimits(ws, label.id, { maxFirstPerSecond: 30, maxSecondPerFirst: null })).limits).toEqual({
      maxSecondPerFirst: null,
      maxFirstPerSecond: 30,
    });
  });

  it('ONE_TO_ONE fixes both directions: any value is VALIDATION, null is accepted', async () => {
    const ws = await t.workspace('One to one limits');
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Mentor', secondLabel: 'Mentee', key: 'mentor', cardinality: 'ONE_TO_ONE' });
    for (const field of ['maxSecondPerFirst', 'maxFirstPerSecond'] as const) {
      const error = expectType(await updateLabel(ws, { id: label.id, [field]: 2 }), 'ValidationError');
      expect(error).toMatchObject({ field });
      expect(error.message).toContain('ONE_TO_ONE');
    }
    expect((await setLabelLimits(ws, label.id, { maxSecondPerFirst: null, maxFirstPerSecond: null })).limits).toEqual({
      maxSecondPerFirst: null,
      maxFirstPerSecond: null,
    });
  });

  it('a SINGLE label on one object has one limit: either field sets both, different values are VALIDATION, null clears both', async () => {
    const ws = await t.workspace('Symmetric limits');
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Colleague', key: 'colleague' });
    expect((await setLabelLimits(ws, label.id, { maxFirstPerSecond: 4 })).limits).toEqual({ maxSecondPerFirst: 4, maxFirstPerSecond: 4 });
    expect((await setLabelLimits(ws, label.id, { maxSecondPerFirst: 3 })).limits).toEqual({ maxSecondPerFirst: 3, maxFirstPerSecond: 3 });
    expect((await setLabelLimits(ws, label.id, { maxSecondPerFirst: 2, maxFirstPerSecond: 2 })).limits).toEqual({ maxSecondPerFirst: 2, maxFirstPerSecond: 2 });
    const error = expectType(await updateLabel(ws, { id: label.id, maxSecondPerFirst: 2, maxFirstPerSecond: 5 }), 'ValidationError');
    expect(error).toMatchObject({ field: 'maxFirstPerSecond' });
    expect(await limitsOf(ws, 'colleague')).toEqual({ maxSecondPerFirst: 2, maxFirstPerSecond: 2 });
    expect((await setLabelLimits(ws, label.id, { maxFirstPerSecond: null })).limits).toEqual({ maxSecondPerFirst: null, maxFirstPerSecond: null });
  });
});

describe('enforcing a label’s limits', () => {
  it('maxFirstPerSecond: one company has at most one decision maker, whichever order the ids come in', async () => {
    const { ws, label } = await companies('One decision maker');
    await setLabelLimits(ws, label.id, { maxFirstPerSecond: 1 });
    const [ann, bob, cy] = await createContacts(ws, 3);
    const [acme, globex] = await createRecords(ws, 'custom_objects.company', 2, 'Co');

    const first = await linkOk(ws, ann!, acme!, ['decision_maker']);
    const before = await associationSnapshot(ws);
    const refused = await expectLimit(link(ws, bob!, acme!, ['decision_maker']), { limit: 'maxFirstPerSecond', max: 1, current: 1 });
    expect(refused.message).toContain('decision_maker');
    expect(refused.message).toContain('"Decision maker"');
    await expectLimit(link(ws, acme!, cy!, ['decision_maker']), { limit: 'maxFirstPerSecond', max: 1, current: 1 });
    expect(await associationSnapshot(ws)).toEqual(before);

    // The other direction has no limit: one contact may be the decision maker of many companies.
    await linkOk(ws, ann!, globex!, ['decision_maker']);
    // Re-linking the existing association at the limit answers it, created: false.
    const again = await linkOk(ws, acme!, ann!, ['decision_maker']);
    expect(again).toMatchObject({ created: false, associations: [{ id: first.associations[0]!.id }] });
    // Unlinking frees the slot.
    await unlink(ws, ann!, acme!, ['decision_maker']);
    expect((await linkOk(ws, bob!, acme!, ['decision_maker'])).created).toBe(true);
  });

  it('maxSecondPerFirst: one contact is linked to at most two companies', async () => {
    const { ws, label } = await companies('Two accounts');
    await setLabelLimits(ws, label.id, { maxSecondPerFirst: 2 });
    const [ann, bob] = await createContacts(ws, 2);
    const [c1, c2, c3] = await createRecords(ws, 'custom_objects.company', 3, 'Co');
    await linkOk(ws, ann!, c1!, ['decision_maker']);
    await linkOk(ws, c2!, ann!, ['decision_maker']);
    const refused = await expectLimit(link(ws, ann!, c3!, ['decision_maker']), { limit: 'maxSecondPerFirst', max: 2, current: 2 });
    expect(refused.message).toContain('"Account"');
    // Companies may have many decision makers.
    await linkOk(ws, bob!, c1!, ['decision_maker']);
    await linkOk(ws, bob!, c3!, ['decision_maker']);
  });

  it('a SINGLE label on one object: the limit bounds each record’s partners on either side, reported as maxSecondPerFirst', async () => {
    const ws = await t.workspace('Symmetric enforcement');
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Colleague', key: 'colleague' });
    await setLabelLimits(ws, label.id, { maxSecondPerFirst: 2 });
    const [a, b, c, d] = await createContacts(ws, 4);
    await linkOk(ws, a!, b!, ['colleague']);
    await linkOk(ws, c!, a!, ['colleague']);
    await expectLimit(link(ws, a!, d!, ['colleague']), { limit: 'maxSecondPerFirst', max: 2, current: 2 });
    await expectLimit(link(ws, d!, a!, ['colleague']), { limit: 'maxSecondPerFirst', max: 2, current: 2 });
    await linkOk(ws, b!, c!, ['colleague']); // b and c have one partner each
    await expectLimit(link(ws, d!, b!, ['colleague']), { limit: 'maxSecondPerFirst', max: 2, current: 2 });
    await expectLimit(link(ws, c!, d!, ['colleague']), { limit: 'maxSecondPerFirst', max: 2, current: 2 });
    expect((await linkOk(ws, b!, a!, ['colleague'])).created).toBe(false);
  });

  it('a PAIR label on one object: each direction counts the record on its own side only', async () => {
    const ws = await t.workspace('Pair on one object');
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Manager', secondLabel: 'Employee', key: 'manager' });
    await setLabelLimits(ws, label.id, { maxSecondPerFirst: 1, maxFirstPerSecond: 2 });
    const [a, b, c, d] = await createContacts(ws, 4);
    await linkOk(ws, a!, b!, ['manager']); // a manages b
    await expectLimit(link(ws, a!, c!, ['manager']), { limit: 'maxSecondPerFirst', max: 1, current: 1 });
    await linkOk(ws, c!, b!, ['manager']); // b has two managers
    await expectLimit(link(ws, d!, b!, ['manager']), { limit: 'maxFirstPerSecond', max: 2, current: 2 });
    await linkOk(ws, b!, a!, ['manager']); // as a manager, b has no employee yet; a has no manager yet
  });

  it('batches and multi-label links are all or nothing: a failing item names its index, earlier items count', async () => {
    const { ws, label } = await companies('Batch limits');
    await createLabel(ws, { first: 'contact', second: 'custom_objects.company', firstLabel: 'Employee', secondLabel: 'Employer', key: 'employee' });
    await setLabelLimits(ws, label.id, { maxFirstPerSecond: 2 });
    const [a, b, c] = await createContacts(ws, 3);
    const [acme] = await createRecords(ws, 'custom_objects.company', 1, 'Co');
    await linkOk(ws, a!, acme!, ['decision_maker']);
    const before = await associationSnapshot(ws);

    const { batchLinkRecords } = await run(ws.client, LabelLimitsBatchLinkDocument, {
      input: {
        links: [
          { firstRecordId: b!, secondRecordId: acme!, labelKeys: ['employee'] },
          { firstRecordId: b!, secondRecordId: acme!, labelKeys: ['decision_maker'] },
          { firstRecordId: acme!, secondRecordId: c!, labelKeys: ['decision_maker'] },
        ],
      },
    });
    expect(expectType(batchLinkRecords, 'LimitExceededError')).toMatchObject({ index: 2, limit: 'maxFirstPerSecond', max: 2, current: 2 });
    expect(await associationSnapshot(ws)).toEqual(before);

    // Two decision makers fit: the same batch without its third item goes through.
    const { batchLinkRecords: ok } = await run(ws.client, LabelLimitsBatchLinkDocument, {
      input: { links: [{ firstRecordId: b!, secondRecordId: acme!, labelKeys: ['employee', 'decision_maker'] }] },
    });
    expect(expectType(ok, 'BatchLinkRecordsSuccess').createdCount).toBe(2);
    // A link of two labels whose second is full links neither.
    const full = await associationSnapshot(ws);
    await expectLimit(link(ws, c!, acme!, ['employee', 'decision_maker']), { limit: 'maxFirstPerSecond', max: 2, current: 2 });
    expect(await associationSnapshot(ws)).toEqual(full);
  });

  it('lowering a limit below usage is allowed: existing links stay and re-link; new ones are refused until usage drops', async () => {
    const { ws, label } = await companies('Lowered label limit');
    const [a, b, c, d] = await createContacts(ws, 4);
    const [acme] = await createRecords(ws, 'custom_objects.company', 1, 'Co');
    for (const contact of [a, b, c]) await linkOk(ws, contact!, acme!, ['decision_maker']);

    expect((await setLabelLimits(ws, label.id, { maxFirstPerSecond: 2 })).limits.maxFirstPerSecond).toBe(2);
    expect(await associationSnapshot(ws)).toHaveLength(3);
    await expectLimit(link(ws, d!, acme!, ['decision_maker']), { limit: 'maxFirstPerSecond', max: 2, current: 3 });
    expect((await linkOk(ws, a!, acme!, ['decision_maker'])).created).toBe(false);
    await unlink(ws, a!, acme!, ['decision_maker']);
    await expectLimit(link(ws, d!, acme!, ['decision_maker']), { limit: 'maxFirstPerSecond', max: 2, current: 2 });
    await unlink(ws, b!, acme!, ['decision_maker']);
    await linkOk(ws, d!, acme!, ['decision_maker']);
    // Cleared, the label takes any number again.
    await setLabelLimits(ws, label.id, { maxFirstPerSecond: null });
    await linkOk(ws, a!, acme!, ['decision_maker']);
    await linkOk(ws, b!, acme!, ['decision_maker']);
  });

  it('a restricted USER refused by a label limit learns the limit, not a count that includes hidden links', async () => {
    const { ws, label } = await companies('Redacted label limit');
    const member = await userOf(t, ws);
    await setAccess(ws.gql as never, member.userId, 'contact', 'ASSIGNED');
    const hidden = await createContacts(ws, 3, 'Hidden');
    const [acme] = await createRecords(ws, 'custom_objects.company', 1, 'Co');
    for (const contact of hidden) await linkOk(ws, contact, acme!, ['decision_maker']);
    await setLabelLimits(ws, label.id, { maxFirstPerSecond: 2 });
    const mine = await createRecord(ws.gql, 'contact', { firstName: 'Mine' }, member.userId);

    const asMember = await expectLimit(link(member, mine, acme!, ['decision_maker']), { limit: 'maxFirstPerSecond', max: 2, current: 2 });
    expect(asMember.message).not.toContain('3');
    // The admin, who sees every record, gets the real count.
    await expectLimit(link(ws, mine, acme!, ['decision_maker']), { limit: 'maxFirstPerSecond', max: 2, current: 3 });
  });
});

describe('label limits under concurrency (rule 14)', () => {
  it('30 concurrent links against a per-label limit of 3 leave exactly 3', async () => {
    const ws = await t.workspace();
    const companiesKey = await createObjectRaw(ws, 'companies');
    const key = await createLabelRaw(ws, { firstObjectKey: 'contact', secondObjectKey: companiesKey, type: 'PAIR', firstLabel: 'Decision maker', secondLabel: 'Account', key: 'decision_maker' });
    await setLabelLimits(ws, await labelId(ws, key), { maxFirstPerSecond: 3 });
    const contacts = await createRecordsRaw(ws, 'contact', 30, 'Ann');
    const [company] = await createRecordsRaw(ws, companiesKey, 1, 'Acme');

    const results = typedAll(await burst(30, (i) => linkRaw(ws, contacts[i]!, company!, [key])), 'linkRecords');

    expect(tally(results)).toEqual({ LinkRecordsSuccess: 3, 'LimitExceededError:maxFirstPerSecond': 27 });
    for (const result of results.filter((r) => r.__typename !== 'LinkRecordsSuccess')) {
      expect(result).toMatchObject({ code: 'LIMIT_EXCEEDED', max: 3, current: 3 });
    }
    expect(await storedAssociations(ws.workspaceId, key)).toHaveLength(3);
    await expectWithinLimits(ws.workspaceId);
  });

  it('15 concurrent batches of two links each to one record under a symmetric limit of 3: exactly one goes through', async () => {
    const ws = await t.workspace();
    const key = await createLabelRaw(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague', key: 'colleague' });
    await setLabelLimits(ws, await labelId(ws, key), { maxSecondPerFirst: 3 });
    const [hub, ...others] = await createRecordsRaw(ws, 'contact', 31, 'Pat');

    // Batch i links the hub to two records no other batch names, in either order: after one
    // batch the hub has 2, and any second batch would bring it to 4.
    const results = typedAll(
      await burst(15, (i) =>
        batchLinkRaw(ws, [
          { firstRecordId: hub!, secondRecordId: others[2 * i]!, labelKeys: [key] },
          { firstRecordId: others[2 * i + 1]!, secondRecordId: hub!, labelKeys: [key] },
        ]),
      ),
      'batchLinkRecords',
    );
    expect(tally(results)).toEqual({ BatchLinkRecordsSuccess: 1, 'LimitExceededError:maxSecondPerFirst': 14 });
    for (const result of results.filter((r) => r.__typename !== 'BatchLinkRecordsSuccess')) {
      expect(result).toMatchObject({ index: 1, max: 3, current: 3 });
    }
    expect(await storedAssociations(ws.workspaceId, key)).toHaveLength(2);
    await expectWithinLimits(ws.workspaceId);
  });
});

describe('Record.limitUsage', () => {
  it('lists a contact’s contact associations and each own label limit on its side, used or not, closest first', async () => {
    const { ws, label } = await companies('Record usage');
    await setLimits(ws, { maxAssociationsPerContact: 4 });
    const colleague = await createLabel(ws, { first: 'contact', firstLabel: 'Colleague', key: 'colleague' });
    await createLabel(ws, { first: 'contact', firstLabel: 'Manager', secondLabel: 'Employee', key: 'manager' });
    await createLabel(ws, { first: 'contact', second: 'custom_objects.company', firstLabel: 'Employee', secondLabel: 'Employer', key: 'employee' });
    await setLabelLimits(ws, label.id, { maxSecondPerFirst: 4, maxFirstPerSecond: 2 });
    await setLabelLimits(ws, colleague.id, { maxSecondPerFirst: 5 });
    const [ann, bob, cy] = await createContacts(ws, 3);
    const [acme, globex] = await createRecords(ws, 'custom_objects.company', 2, 'Co');
    await linkOk(ws, ann!, bob!, ['colleague', 'manager']);
    await linkOk(ws, cy!, ann!, ['manager']);
    await linkOk(ws, ann!, acme!, ['decision_maker', 'employee']); // contact↔company: not a contact association

    expect((await recordUsage(ws, ann!)).map(row)).toEqual([
      'maxAssociationsPerContact C1 3/4 75%',
      'maxSecondPerFirst decision_maker C1 1/4 25%',
      'maxSecondPerFirst colleague C1 1/5 20%',
    ]);
    // Ties (here at 0%) go by kind, then by label in creation order.
    expect((await recordUsage(ws, cy!)).map(row)).toEqual([
      'maxAssociationsPerContact C3 1/4 25%',
      'maxSecondPerFirst decision_maker C3 0/4 0%',
      'maxSecondPerFirst colleague C3 0/5 0%',
    ]);
    // A company takes part only in maxFirstPerSecond of the label it is the second object of.
    expect((await recordUsage(ws, acme!)).map(row)).toEqual(['maxFirstPerSecond decision_maker Co1 1/2 50%']);
    expect((await recordUsage(ws, globex!)).map(row)).toEqual(['maxFirstPerSecond decision_maker Co2 0/2 0%']);
    // Each row carries its label and record, not objects.
    expect((await recordUsage(ws, acme!))[0]).toMatchObject({ label: { key: 'decision_maker' }, record: { id: acme }, firstObject: null, secondObject: null });

    // An unlink and a deleted record free what they held at once.
    await unlink(ws, ann!, bob!, ['colleague']);
    expect(typed(await deleteRecord(ws, acme!), 'deleteRecord')).toMatchObject({ __typename: 'DeleteRecordSuccess' });
    expect((await recordUsage(ws, ann!)).map(row)).toEqual([
      'maxAssociationsPerContact C1 2/4 50%',
      'maxSecondPerFirst decision_maker C1 0/4 0%',
      'maxSecondPerFirst colleague C1 0/5 0%',
    ]);
  });

  it('reports a limit lowered below usage over 100%', async () => {
    const { ws, label } = await companies('Record over');
    const contacts = await createContacts(ws, 3);
    const [acme] = await createRecords(ws, 'custom_objects.company', 1, 'Co');
    for (const contact of contacts) await linkOk(ws, contact, acme!, ['decision_maker']);
    await setLabelLimits(ws, label.id, { maxFirstPerSecond: 2 });
    expect((await recordUsage(ws, acme!)).map(row)).toEqual(['maxFirstPerSecond decision_maker Co1 3/2 150%']);
  });

  it('counts only what the viewer can see: a restricted USER never learns a hidden count', async () => {
    const { ws, label } = await companies('Record usage visibility');
    await setLabelLimits(ws, label.id, { maxFirstPerSecond: 5 });
    const colleague = await createLabel(ws, { first: 'contact', firstLabel: 'Colleague', key: 'colleague' });
    await setLabelLimits(ws, colleague.id, { maxSecondPerFirst: 8 });
    const member = await userOf(t, ws);
    await setAccess(ws.gql as never, member.userId, 'contact', 'ASSIGNED');
    const hidden = await createContacts(ws, 3, 'Hidden');
    const mine = await createRecord(ws.gql, 'contact', { firstName: 'Mine' }, member.userId);
    const other = await createRecord(ws.gql, 'contact', { firstName: 'Also mine' }, member.userId);
    const [acme] = await createRecords(ws, 'custom_objects.company', 1, 'Co');
    for (const contact of [...hidden, mine]) await linkOk(ws, contact, acme!, ['decision_maker']);
    for (const contact of [...hidden, other]) await linkOk(ws, mine, contact, ['colleague']);

    expect((await recordUsage(ws, acme!)).map(row)).toEqual(['maxFirstPerSecond decision_maker Co1 4/5 80%']);
    expect((await recordUsage(member, acme!)).map(row)).toEqual(['maxFirstPerSecond decision_maker Co1 1/5 20%']);
    // A contact is on the first side of decision_maker, whose only limit bounds companies.
    expect((await recordUsage(ws, mine)).map(row)).toEqual([
      'maxSecondPerFirst colleague Mine 4/8 50%',
      'maxAssociationsPerContact Mine 4/10 40%',
    ]);
    expect((await recordUsage(member, mine)).map(row)).toEqual([
      'maxSecondPerFirst colleague Mine 1/8 12.5%',
      'maxAssociationsPerContact Mine 1/10 10%',
    ]);
    // A hidden record has no usage to read at all.
    expect((await run(member.client, LabelLimitsRecordUsageDocument, { id: hidden[0]! })).record).toBeNull();
  });
});

describe('Workspace.limitUsage', () => {
  it('lists every kind, closest to its maximum first, each with what it is about; unused limits are left out', async () => {
    const { ws, label } = await companies('Workspace usage');
    const other = await companies('Other workspace usage');
    await setLimits(ws, { maxLabelsPerObjectPair: 4, maxRecordsPerLabel: 10, maxAssociationsPerContact: 5 });
    const colleague = await createLabel(ws, { first: 'contact', firstLabel: 'Colleague', key: 'colleague' });
    await createLabel(ws, { first: 'contact', second: 'custom_objects.company', firstLabel: 'Employee', secondLabel: 'Employer', key: 'employee' });
    await setLabelLimits(ws, label.id, { maxFirstPerSecond: 2, maxSecondPerFirst: 3 });
    await setLabelLimits(ws, colleague.id, { maxSecondPerFirst: 8 });
    const [a, b, c, d] = await createContacts(ws, 4);
    const [acme, globex] = await createRecords(ws, 'custom_objects.company', 2, 'Co');
    await linkOk(ws, a!, b!, ['colleague']);
    await linkOk(ws, a!, c!, ['colleague']);
    await linkOk(ws, d!, a!, ['colleague']);
    await linkOk(ws, a!, acme!, ['decision_maker']);
    await linkOk(ws, b!, acme!, ['decision_maker']);
    await linkOk(ws, a!, globex!, ['decision_maker']);
    // The other workspace's usage never shows here.
    const [x, y, z] = await createContacts(other.ws, 3, 'X');
    const [otherCo] = await createRecords(other.ws, 'custom_objects.company', 1, 'OtherCo');
    for (const contact of [x, y, z]) await linkOk(other.ws, contact!, otherCo!, ['decision_maker']);

    expect((await workspaceUsage(ws)).map(row)).toEqual([
      'maxFirstPerSecond decision_maker Co1 2/2 100%',
      'maxSecondPerFirst decision_maker C1 2/3 66.67%',
      'maxAssociationsPerContact C1 3/5 60%',
      'maxLabelsPerObjectPair contact+custom_objects.company 2/4 50%',
      'maxFirstPerSecond decision_maker Co2 1/2 50%',
      'maxRecordsPerLabel decision_maker 4/10 40%',
      'maxRecordsPerLabel colleague 4/10 40%',
      'maxSecondPerFirst colleague C1 3/8 37.5%',
      'maxSecondPerFirst decision_maker C2 1/3 33.33%',
      'maxLabelsPerObjectPair contact+contact 1/4 25%',
      'maxAssociationsPerContact C2 1/5 20%',
      'maxAssociationsPerContact C3 1/5 20%',
      'maxAssociationsPerContact C4 1/5 20%',
      'maxSecondPerFirst colleague C2 1/8 12.5%',
      'maxSecondPerFirst colleague C3 1/8 12.5%',
      'maxSecondPerFirst colleague C4 1/8 12.5%',
    ]);
    expect((await workspaceUsage(ws, 3)).map(row)).toEqual([
      'maxFirstPerSecond decision_maker Co1 2/2 100%',
      'maxSecondPerFirst decision_maker C1 2/3 66.67%',
      'maxAssociationsPerContact C1 3/5 60%',
    ]);
    const [top] = await workspaceUsage(ws, 1);
    expect(top).toMatchObject({ limit: 'maxFirstPerSecond', max: 2, current: 2, percent: 100, label: { key: 'decision_maker' }, record: { id: acme } });
    const pair = (await workspaceUsage(ws)).find((usage) => usage.limit === 'maxLabelsPerObjectPair')!;
    expect(pair).toMatchObject({ label: null, record: null, firstObject: { key: 'contact' }, secondObject: { key: 'custom_objects.company' } });
  });

  it('stays exact through every kind of write: links, batches, unlinks, record and label deletes', async () => {
    const { ws, label } = await companies('Usage through writes');
    await setLimits(ws, { maxAssociationsPerContact: 20 });
    const colleague = await createLabel(ws, { first: 'contact', firstLabel: 'Colleague', key: 'colleague' });
    const manager = await createLabel(ws, { first: 'contact', firstLabel: 'Manager', secondLabel: 'Employee', key: 'manager' });
    await setLabelLimits(ws, label.id, { maxFirstPerSecond: 10, maxSecondPerFirst: 10 });
    await setLabelLimits(ws, colleague.id, { maxSecondPerFirst: 10 });
    await setLabelLimits(ws, manager.id, { maxSecondPerFirst: 10, maxFirstPerSecond: 10 });
    const [a, b, c, d] = await createContacts(ws, 4);
    const [acme, globex] = await createRecords(ws, 'custom_objects.company', 2, 'Co');
    /** The usage as Workspace.limitUsage reports it, after checking the tallies against the associations. */
    const usageNow = async () => {
      expect(await tallyProblems(ws.workspaceId)).toEqual([]);
      return (await workspaceUsage(ws, 100)).map(row);
    };

    await linkOk(ws, a!, b!, ['colleague', 'manager']);
    await linkOk(ws, b!, a!, ['manager']); // a is on both sides of manager
    const { batchLinkRecords } = await run(ws.client, LabelLimitsBatchLinkDocument, {
      input: {
        links: [
          { firstRecordId: c!, secondRecordId: a!, labelKeys: ['colleague', 'manager'] },
          { firstRecordId: a!, secondRecordId: acme!, labelKeys: ['decision_maker'] },
          { firstRecordId: globex!, secondRecordId: a!, labelKeys: ['decision_maker'] },
          { firstRecordId: d!, secondRecordId: acme!, labelKeys: ['decision_maker'] },
        ],
      },
    });
    expect(expectType(batchLinkRecords, 'BatchLinkRecordsSuccess').createdCount).toBe(5);
    expect(await usageNow()).toEqual([
      'maxAssociationsPerContact C1 5/20 25%',
      'maxLabelsPerObjectPair contact+contact 2/10 20%',
      'maxSecondPerFirst decision_maker C1 2/10 20%',
      'maxSecondPerFirst colleague C1 2/10 20%',
      'maxFirstPerSecond decision_maker Co1 2/10 20%',
      'maxFirstPerSecond manager C1 2/10 20%',
      'maxAssociationsPerContact C2 3/20 15%',
      'maxAssociationsPerContact C3 2/20 10%',
      'maxLabelsPerObjectPair contact+custom_objects.company 1/10 10%',
      'maxSecondPerFirst decision_maker C4 1/10 10%',
      'maxSecondPerFirst colleague C2 1/10 10%',
      'maxSecondPerFirst colleague C3 1/10 10%',
      'maxSecondPerFirst manager C1 1/10 10%',
      'maxSecondPerFirst manager C2 1/10 10%',
      'maxSecondPerFirst manager C3 1/10 10%',
      'maxFirstPerSecond decision_maker Co2 1/10 10%',
      'maxFirstPerSecond manager C2 1/10 10%',
      'maxRecordsPerLabel decision_maker 4/1000 0.4%',
      'maxRecordsPerLabel colleague 3/1000 0.3%',
      'maxRecordsPerLabel manager 3/1000 0.3%',
    ]);

    await unlink(ws, a!, b!, ['manager']); // a→b only
    await unlink(ws, b!, a!); // everything else between them
    expect(typed(await deleteRecord(ws, c!), 'deleteRecord')).toMatchObject({ __typename: 'DeleteRecordSuccess', removedAssociations: 2 });
    expect(await usageNow()).toEqual([
      'maxLabelsPerObjectPair contact+contact 2/10 20%',
      'maxSecondPerFirst decision_maker C1 2/10 20%',
      'maxFirstPerSecond decision_maker Co1 2/10 20%',
      'maxLabelsPerObjectPair contact+custom_objects.company 1/10 10%',
      'maxSecondPerFirst decision_maker C4 1/10 10%',
      'maxFirstPerSecond decision_maker Co2 1/10 10%',
      'maxRecordsPerLabel decision_maker 4/1000 0.4%',
    ]);

    const deleted = typed(await ws.gql(DELETE_LABEL, { input: { id: label.id, force: true } }), 'deleteAssociationLabel');
    expect(deleted).toMatchObject({ __typename: 'DeleteAssociationLabelSuccess', removedAssociations: 3 });
    expect(await usageNow()).toEqual(['maxLabelsPerObjectPair contact+contact 2/10 20%']);
  });

  it('has a default of 20 and refuses first outside 1..100 with VALIDATION (never clamped)', async () => {
    const ws = await t.workspace('Usage first');
    await setLimits(ws, { maxAssociationsPerContact: 100 });
    const [hub, ...others] = await createContacts(ws, 30);
    await createLabel(ws, { first: 'contact', firstLabel: 'Friend', key: 'friend' });
    const { batchLinkRecords } = await run(ws.client, LabelLimitsBatchLinkDocument, {
      input: { links: others.map((other) => ({ firstRecordId: hub!, secondRecordId: other, labelKeys: ['friend'] })) },
    });
    expect(expectType(batchLinkRecords, 'BatchLinkRecordsSuccess').createdCount).toBe(29);
    // One object pair, one label and 30 contacts have usage.
    expect(await workspaceUsage(ws, 100)).toHaveLength(32);
    const byDefault = await workspaceUsage(ws);
    expect(byDefault).toHaveLength(20);
    expect(byDefault.slice(0, 3).map(row)).toEqual([
      'maxAssociationsPerContact C1 29/100 29%',
      'maxLabelsPerObjectPair contact+contact 1/10 10%',
      'maxRecordsPerLabel friend 30/1000 3%',
    ]);
    for (const first of [0, -1, 101]) {
      const response = await ws.gql('query ($first: Int) { viewer { workspace { limitUsage(first: $first) { limit } } } }', { first });
      expect(response.data).toBeNull();
      expect(response.errors).toHaveLength(1);
      expect(response.errors![0]).toMatchObject({ extensions: { code: 'VALIDATION' } });
      expect(response.errors![0]!.message).toContain('1 to 100');
    }
  });

  it('is for admins: a USER gets FORBIDDEN and no figure', async () => {
    const { ws } = await companies('Usage forbidden');
    const member = await userOf(t, ws);
    const response = await member.gql('{ viewer { workspace { name limitUsage { limit current max } } } }');
    expect(response.data).toBeNull();
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(response)).not.toContain('current');
  });
});

describe('the demo', () => {
  it('has a label with a limit of its own, and its GraphiQL tab shows the usage', async () => {
    const { apiKey } = await seedDemo();
    const operation = EXAMPLE_OPERATIONS.find((text) => text.includes('query LimitUsage'))!;
    const response = await t.post(operation, {}, apiKey);
    expect(response.errors).toBeUndefined();
    const { viewer, associationLabel, records } = response.data;
    expect(associationLabel).toEqual({
      key: 'owner_car',
      firstLabel: 'Owner',
      secondLabel: 'Car',
      limits: { maxSecondPerFirst: null, maxFirstPerSecond: 2 },
    });
    expect(viewer.workspace.limitUsage.map(row)).toEqual([
      'maxFirstPerSecond owner_car Analytical Engine Roadster 2/2 100%',
      'maxFirstPerSecond owner_car Difference Coupé 1/2 50%',
      'maxFirstPerSecond owner_car COBOL Cruiser 1/2 50%',
      'maxAssociationsPerContact Ada Lovelace 3/10 30%',
      'maxAssociationsPerContact Grace Hopper 3/10 30%',
      'maxLabelsPerObjectPair contact+contact 2/10 20%',
      'maxLabelsPerObjectPair contact+custom_objects.cars 2/10 20%',
      'maxAssociationsPerContact Charles Babbage 2/10 20%',
      'maxAssociationsPerContact Alan Turing 1/10 10%',
      'maxAssociationsPerContact Katherine Johnson 1/10 10%',
    ]);
    expect(records.edges.map(({ node }: any) => [node.displayName, node.limitUsage])).toEqual([
      ['Analytical Engine Roadster', [{ limit: 'maxFirstPerSecond', max: 2, current: 2, label: { key: 'owner_car' } }]],
      ['Difference Coupé', [{ limit: 'maxFirstPerSecond', max: 2, current: 1, label: { key: 'owner_car' } }]],
      ['COBOL Cruiser', [{ limit: 'maxFirstPerSecond', max: 2, current: 1, label: { key: 'owner_car' } }]],
    ]);
  });
});

