import { beforeAll, describe, expect, it } from 'vitest';
import {
  LabelsCreateDocument,
  LabelsDeleteDocument,
  LabelsGetDocument,
  LabelsListDocument,
  LabelsOfObjectDocument,
  LabelsUpdateDocument,
  ViewerDocument,
  type CreateAssociationLabelInput,
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

const create = async (ws: TestWorkspace, input: CreateAssociationLabelInput) =>
  (await run(ws.client, LabelsCreateDocument, { input })).createAssociationLabel;
const update = async (ws: TestWorkspace, input: { id: string; firstLabel?: string | null; secondLabel?: string | null }) =>
  (await run(ws.client, LabelsUpdateDocument, { input })).updateAssociationLabel;
const remove = async (ws: TestWorkspace, id: string, force?: boolean) =>
  (await run(ws.client, LabelsDeleteDocument, { input: { id, force } })).deleteAssociationLabel;
const getLabel = async (ws: TestWorkspace, vars: { id?: string; key?: string; first?: number; after?: string }) =>
  (await run(ws.client, LabelsGetDocument, vars)).associationLabel;
const keys = async (ws: TestWorkspace, objectKey?: string, otherObjectKey?: string) =>
  (await run(ws.client, LabelsListDocument, { objectKey, otherObjectKey })).associationLabels.map((label) => label.key);

describe('createAssociationLabel', () => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await t.workspace('Labels');
    await createObject(ws, 'car');
    await createObject(ws, 'school');
  });

  it('creates a SINGLE label on one object: one name for both sides, key derived, MANY_TO_MANY by default', async () => {
    const result = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' }),
      'CreateAssociationLabelSuccess',
    );
    expect(result.associationLabel).toMatchObject({
      key: 'colleague',
      type: 'SINGLE',
      cardinality: 'MANY_TO_MANY',
      firstLabel: 'Colleague',
      secondLabel: 'Colleague',
      firstObject: { key: 'contact' },
      secondObject: { key: 'contact' },
      associationCount: 0,
      recordCount: 0,
    });
    const stored = await getLabel(ws, { key: 'colleague' });
    expect(stored?.id).toBe(result.associationLabel.id);
    expect(stored?.secondLabel).toBe('Colleague');
  });

  it('accepts a SINGLE label whose secondLabel repeats firstLabel, and rejects a different secondLabel', async () => {
    const same = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Sibling', secondLabel: 'Sibling' }),
      'CreateAssociationLabelSuccess',
    );
    expect(same.associationLabel).toMatchObject({ firstLabel: 'Sibling', secondLabel: 'Sibling', type: 'SINGLE' });

    const different = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend', secondLabel: 'Enemy' }),
      'ValidationError',
    );
    expect(different.code).toBe('VALIDATION');
    expect(different.field).toBe('secondLabel');
    expect(await getLabel(ws, { key: 'friend' })).toBeNull();
  });

  it('creates a PAIR label between two objects in the given order, key derived from both names', async () => {
    const result = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'custom_objects.car', type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' }),
      'CreateAssociationLabelSuccess',
    );
    expect(result.associationLabel).toMatchObject({
      key: 'owner_car',
      type: 'PAIR',
      cardinality: 'MANY_TO_MANY',
      firstLabel: 'Owner',
      secondLabel: 'Car',
      firstObject: { key: 'contact' },
      secondObject: { key: 'custom_objects.car' },
    });
  });

  it('derives "Manager"/"Employee" → manager_employee, and collisions get a numeric suffix', async () => {
    const input = { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Employee' } as const;
    const first = expectType(await create(ws, input), 'CreateAssociationLabelSuccess').associationLabel;
    const second = expectType(await create(ws, { ...input, secondObjectKey: 'custom_objects.school' }), 'CreateAssociationLabelSuccess').associationLabel;
    const third = expectType(await create(ws, { ...input, firstObjectKey: 'custom_objects.car', secondObjectKey: 'custom_objects.car' }), 'CreateAssociationLabelSuccess').associationLabel;
    expect([first.key, second.key, third.key]).toEqual(['manager_employee', 'manager_employee_2', 'manager_employee_3']);
    for (const label of [first, second, third]) expect(label.key).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
  });

  it('derives keys that match the key pattern from any names (punctuation, accents, leading digits)', async () => {
    const coFounder = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Co-Founder' }),
      'CreateAssociationLabelSuccess',
    ).associationLabel;
    expect(coFounder.key).toBe('co_founder');
    const accented = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'custom_objects.school', type: 'PAIR', firstLabel: 'Élève', secondLabel: 'École' }),
      'CreateAssociationLabelSuccess',
    ).associationLabel;
    expect(accented.key).toBe('eleve_ecole');
    const digits = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'custom_objects.car', type: 'PAIR', firstLabel: '2nd owner', secondLabel: 'Car' }),
      'CreateAssociationLabelSuccess',
    ).associationLabel;
    expect(digits.key).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
    expect(digits.key).toContain('2nd_owner_car');
  });

  it('keeps derived keys within 64 characters even with a collision suffix', async () => {
    const own = await t.workspace('Long keys');
    await setLimits(own, { maxLabelsPerObjectPair: 20 });
    const name = `9${'x'.repeat(80)}`;
    const created: string[] = [];
    for (let i = 0; i < 11; i += 1) {
      const label = expectType(
        await create(own, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: name }),
        'CreateAssociationLabelSuccess',
      ).associationLabel;
      created.push(label.key);
    }
    expect(new Set(created).size).toBe(11);
    for (const key of created) expect(key).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
  });

  it('takes an explicit key as given', async () => {
    const label = expectType(
      await create(ws, { key: 'buyer', firstObjectKey: 'custom_objects.car', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Car', secondLabel: 'Buyer' }),
      'CreateAssociationLabelSuccess',
    ).associationLabel;
    expect(label.key).toBe('buyer');
    expect(label.firstObject.key).toBe('custom_objects.car');
    const longest = `k${'0'.repeat(63)}`;
    const max = expectType(
      await create(ws, { key: longest, firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Longest key' }),
      'CreateAssociationLabelSuccess',
    ).associationLabel;
    expect(max.key).toBe(longest);
  });

  it.each(['Manager', '1abc', '_abc', 'has-dash', 'has space', 'ünïcode', '', `k${'0'.repeat(64)}`])(
    'rejects the explicit key %j with a ValidationError on field key',
    async (key) => {
      const before = await keys(ws);
      const result = expectType(
        await create(ws, { key, firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Bad key' }),
        'ValidationError',
      );
      expect(result.code).toBe('VALIDATION');
      expect(result.field).toBe('key');
      expect(await keys(ws)).toEqual(before);
    },
  );

  it('answers ConflictError for a key already taken in the workspace, and creates nothing', async () => {
    const before = await keys(ws);
    const result = expectType(
      await create(ws, { key: 'owner_car', firstObjectKey: 'contact', secondObjectKey: 'custom_objects.school', type: 'PAIR', firstLabel: 'Student', secondLabel: 'School' }),
      'ConflictError',
    );
    expect(result.code).toBe('CONFLICT');
    expect(await keys(ws)).toEqual(before);
    const stillCar = await getLabel(ws, { key: 'owner_car' });
    expect(stillCar?.secondObject.key).toBe('custom_objects.car');
  });

  it('allows the same key in another workspace (keys are unique per workspace)', async () => {
    const other = await t.workspace('Other labels');
    const label = expectType(
      await create(other, { key: 'owner_car', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Owner' }),
      'CreateAssociationLabelSuccess',
    ).associationLabel;
    expect(label.key).toBe('owner_car');
    expect((await getLabel(ws, { key: 'owner_car' }))?.secondObject.key).toBe('custom_objects.car');
  });

  it('answers NotFoundError for an unknown object, or an object of another workspace', async () => {
    const before = await keys(ws);
    const unknownFirst = expectType(
      await create(ws, { firstObjectKey: 'custom_objects.nope', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Ghost' }),
      'NotFoundError',
    );
    expect(unknownFirst.code).toBe('NOT_FOUND');
    const unknownSecond = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'custom_objects.nope', type: 'PAIR', firstLabel: 'A', secondLabel: 'B' }),
      'NotFoundError',
    );
    expect(unknownSecond.code).toBe('NOT_FOUND');

    const other = await t.workspace('Foreign objects');
    await createObject(other, 'boat');
    const foreign = await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'custom_objects.boat', type: 'PAIR', firstLabel: 'Skipper', secondLabel: 'Boat' });
    expect(expectType(foreign, 'NotFoundError').message).toBe(expectType(unknownSecond, 'NotFoundError').message.replace('nope', 'boat'));
    expect(await keys(ws)).toEqual(before);
  });

  it('stores an explicit cardinality', async () => {
    const oneToOne = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Spouse', cardinality: 'ONE_TO_ONE' }),
      'CreateAssociationLabelSuccess',
    ).associationLabel;
    expect(oneToOne.cardinality).toBe('ONE_TO_ONE');
    const manyToOne = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'custom_objects.school', type: 'PAIR', firstLabel: 'Student', secondLabel: 'School', cardinality: 'MANY_TO_ONE' }),
      'CreateAssociationLabelSuccess',
    ).associationLabel;
    expect(manyToOne.cardinality).toBe('MANY_TO_ONE');
    expect((await getLabel(ws, { key: manyToOne.key }))?.cardinality).toBe('MANY_TO_ONE');
  });

  it('requires a PAIR label to name its second side, and names of 1..100 characters', async () => {
    const before = await keys(ws);
    const missing = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Parent' }),
      'ValidationError',
    );
    expect(missing.field).toBe('secondLabel');
    const blank = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: '   ' }),
      'ValidationError',
    );
    expect(blank.field).toBe('firstLabel');
    expect(await keys(ws)).toEqual(before);
  });
});

describe('rule 1: labels per object pair', () => {
  it('allows at most maxLabelsPerObjectPair labels per unordered object pair, in either direction', async () => {
    const ws = await t.workspace('Pair limit');
    await createObject(ws, 'car');
    for (let i = 1; i <= 10; i += 1) {
      // Half contact→car, half car→contact: they all count toward the same pair.
      const [first, second] = i % 2 ? ['contact', 'custom_objects.car'] : ['custom_objects.car', 'contact'];
      await createLabel(ws, { first, second, firstLabel: `Role ${i}`, secondLabel: `Other ${i}` });
    }
    for (const [first, second] of [
      ['contact', 'custom_objects.car'],
      ['custom_objects.car', 'contact'],
    ] as const) {
      const result = expectType(
        await create(ws, { firstObjectKey: first, secondObjectKey: second, type: 'PAIR', firstLabel: 'Eleventh', secondLabel: 'Label' }),
        'LimitExceededError',
      );
      expect(result).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'maxLabelsPerObjectPair', max: 10, current: 10 });
    }
    expect(await keys(ws, 'contact', 'custom_objects.car')).toHaveLength(10);
    // Other pairs have their own budget: contact↔contact and car↔car.
    await createLabel(ws, { first: 'contact', firstLabel: 'Friend' });
    await createLabel(ws, { first: 'custom_objects.car', firstLabel: 'Twin' });
    expect(await keys(ws)).toHaveLength(12);
  });

  it('follows a changed limit, and frees a slot when a label is deleted', async () => {
    const ws = await t.workspace('Pair limit changes');
    await setLimits(ws, { maxLabelsPerObjectPair: 2 });
    const a = await createLabel(ws, { first: 'contact', firstLabel: 'One' });
    await createLabel(ws, { first: 'contact', firstLabel: 'Two' });
    const over = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Three' }),
      'LimitExceededError',
    );
    expect(over).toMatchObject({ limit: 'maxLabelsPerObjectPair', max: 2, current: 2 });

    // Lowering below usage is allowed; creation stays blocked and reports the real usage.
    await setLimits(ws, { maxLabelsPerObjectPair: 1 });
    const below = expectType(
      await create(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Three' }),
      'LimitExceededError',
    );
    expect(below).toMatchObject({ max: 1, current: 2 });

    await setLimits(ws, { maxLabelsPerObjectPair: 2 });
    expectType(await remove(ws, a.id), 'DeleteAssociationLabelSuccess');
    const three = await createLabel(ws, { first: 'contact', firstLabel: 'Three' });
    expect(three.key).toBe('three');
    expect(await keys(ws)).toEqual(['two', 'three']);
  });
});

describe('updateAssociationLabel', () => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await t.workspace('Renames');
    await createObject(ws, 'car');
  });

  it('renames one side of a PAIR label and keeps key, objects, type and cardinality', async () => {
    const label = await createLabel(ws, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Owner', secondLabel: 'Car', cardinality: 'MANY_TO_ONE' });
    const renamed = expectType(await update(ws, { id: label.id, firstLabel: 'Driver' }), 'UpdateAssociationLabelSuccess').associationLabel;
    expect(renamed).toEqual({ ...label, firstLabel: 'Driver', updatedAt: renamed.updatedAt });
    const both = expectType(await update(ws, { id: label.id, firstLabel: 'Keeper', secondLabel: 'Vehicle' }), 'UpdateAssociationLabelSuccess').associationLabel;
    expect(both).toEqual({ ...label, firstLabel: 'Keeper', secondLabel: 'Vehicle', updatedAt: both.updatedAt });
    expect(await getLabel(ws, { id: label.id })).toMatchObject({ key: label.key, firstLabel: 'Keeper', secondLabel: 'Vehicle', cardinality: 'MANY_TO_ONE' });
  });

  it('renames both sides of a SINGLE label through firstLabel', async () => {
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Colleague' });
    const renamed = expectType(await update(ws, { id: label.id, firstLabel: 'Coworker' }), 'UpdateAssociationLabelSuccess').associationLabel;
    expect(renamed).toMatchObject({ key: 'colleague', type: 'SINGLE', firstLabel: 'Coworker', secondLabel: 'Coworker' });
    expect(await getLabel(ws, { key: 'colleague' })).toMatchObject({ firstLabel: 'Coworker', secondLabel: 'Coworker' });
  });

  it('shows the new names as the roles on record pages', async () => {
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Manager', secondLabel: 'Employee' });
    const [boss, worker] = await createContacts(ws, 2, 'Staff');
    await linkOk(ws, boss!, worker!, [label.key]);
    expectType(await update(ws, { id: label.id, firstLabel: 'Lead', secondLabel: 'Report' }), 'UpdateAssociationLabelSuccess');
    expect((await recordState(ws, boss!)).associations.edges.map((edge) => edge.relatedRole)).toEqual(['Report']);
    expect((await recordState(ws, worker!)).associations.edges.map((edge) => edge.relatedRole)).toEqual(['Lead']);
  });

  it('has no way to change key, objects, type or cardinality (not in the input)', async () => {
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Neighbour' });
    for (const field of ['key', 'type', 'cardinality', 'firstObjectKey', 'secondObjectKey']) {
      const response = await ws.gql(
        `mutation ($input: UpdateAssociationLabelInput!) { updateAssociationLabel(input: $input) { __typename } }`,
        { input: { id: label.id, [field]: field === 'type' ? 'PAIR' : field === 'cardinality' ? 'ONE_TO_ONE' : 'changed' } },
      );
      expect(response.errors?.length, field).toBeGreaterThan(0);
      expect(response.data?.updateAssociationLabel ?? null).toBeNull();
    }
    expect(await getLabel(ws, { id: label.id })).toMatchObject({ key: 'neighbour', type: 'SINGLE', cardinality: 'MANY_TO_MANY', firstObject: { key: 'contact' } });
  });

  it('rejects blank names, and answers NotFoundError for an unknown label or one of another workspace', async () => {
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Mentor', secondLabel: 'Mentee' });
    const blank = expectType(await update(ws, { id: label.id, secondLabel: '' }), 'ValidationError');
    expect(blank.field).toBe('secondLabel');
    expect(await getLabel(ws, { id: label.id })).toMatchObject({ firstLabel: 'Mentor', secondLabel: 'Mentee' });

    const other = await t.workspace('Foreign label');
    const foreign = await createLabel(other, { first: 'contact', firstLabel: 'Stranger' });
    expectType(await update(ws, { id: foreign.id, firstLabel: 'Hijacked' }), 'NotFoundError');
    expectType(await update(ws, { id: 'bm90LWFuLWlk', firstLabel: 'Nothing' }), 'NotFoundError');
    expect((await getLabel(other, { id: foreign.id }))?.firstLabel).toBe('Stranger');
  });
});

describe('deleteAssociationLabel', () => {
  let ws: TestWorkspace;
  let adminId: string;
  beforeAll(async () => {
    ws = await t.workspace('Deletes');
    adminId = (await run(ws.client, ViewerDocument, {})).viewer.user.id;
  });

  it('deletes an unused label', async () => {
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Unused' });
    const result = expectType(await remove(ws, label.id), 'DeleteAssociationLabelSuccess');
    expect(result).toMatchObject({ deletedId: label.id, removedAssociations: 0 });
    expect(await getLabel(ws, { id: label.id })).toBeNull();
    expect(await getLabel(ws, { key: 'unused' })).toBeNull();
    expectType(await remove(ws, label.id), 'NotFoundError');
  });

  it('refuses a label in use with LabelInUseError and its association count, force false included', async () => {
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Busy' });
    const [a, b, c] = await createContacts(ws, 3, 'Busy');
    await linkOk(ws, a!, b!, [label.key]);
    await linkOk(ws, a!, c!, [label.key]);
    const before = await associationSnapshot(ws);
    for (const force of [undefined, false]) {
      const result = expectType(await remove(ws, label.id, force), 'LabelInUseError');
      expect(result).toMatchObject({ code: 'LABEL_IN_USE', associationCount: 2 });
    }
    expect(await associationSnapshot(ws)).toEqual(before);
    expect((await getLabel(ws, { id: label.id }))?.associationCount).toBe(2);
  });

  it('with force removes the label and its associations, logging an UNLINKED event for each', async () => {
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Doomed', secondLabel: 'Victim' });
    const keep = await createLabel(ws, { first: 'contact', firstLabel: 'Survivor' });
    const [a, b, c] = await createContacts(ws, 3, 'Force');
    await linkOk(ws, a!, b!, [label.key, keep.key]);
    await linkOk(ws, c!, a!, [label.key]);

    const result = expectType(await remove(ws, label.id, true), 'DeleteAssociationLabelSuccess');
    expect(result).toEqual({ __typename: 'DeleteAssociationLabelSuccess', deletedId: label.id, removedAssociations: 2 });
    expect(await getLabel(ws, { id: label.id })).toBeNull();

    const stateA = await recordState(ws, a!);
    expect(stateA.associations.edges.map((edge) => edge.node.label.key)).toEqual([keep.key]);
    const events = stateA.associationEvents.edges.map((edge) => edge.node);
    // Newest first: 2 UNLINKED (label gone: null), then 3 LINKED.
    expect(events.map((event) => event.action)).toEqual(['UNLINKED', 'UNLINKED', 'LINKED', 'LINKED', 'LINKED']);
    const unlinked = events.filter((event) => event.action === 'UNLINKED');
    expect(unlinked.every((event) => event.label === null && event.actor?.id === adminId)).toBe(true);
    expect(unlinked.map((event) => [event.firstRecordId, event.secondRecordId]).sort()).toEqual([[a, b], [c, a]].sort());
    expect((await recordState(ws, c!)).associations.totalCount).toBe(0);
    expect((await getLabel(ws, { id: keep.id }))?.associationCount).toBe(1);
  });

  it('answers NotFoundError for a label of another workspace and leaves it alone', async () => {
    const other = await t.workspace('Foreign delete');
    const foreign = await createLabel(other, { first: 'contact', firstLabel: 'Theirs' });
    expectType(await remove(ws, foreign.id, true), 'NotFoundError');
    expect(await getLabel(other, { id: foreign.id })).not.toBeNull();
  });
});

describe('label queries', () => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await t.workspace('Queries');
    await createObject(ws, 'car');
    await createObject(ws, 'school');
    await createLabel(ws, { first: 'contact', firstLabel: 'Spouse', key: 'spouse' });
    await createLabel(ws, { first: 'contact', second: 'custom_objects.car', firstLabel: 'Owner', secondLabel: 'Car', key: 'owner' });
    await createLabel(ws, { first: 'custom_objects.car', second: 'contact', firstLabel: 'Car', secondLabel: 'Driver', key: 'driver' });
    await createLabel(ws, { first: 'contact', second: 'custom_objects.school', firstLabel: 'Student', secondLabel: 'School', key: 'student' });
    await createLabel(ws, { first: 'custom_objects.car', firstLabel: 'Towed by', secondLabel: 'Tows', key: 'tow' });
  });

  it('associationLabels filters by object and other object, in either order', async () => {
    expect(await keys(ws)).toEqual(['spouse', 'owner', 'driver', 'student', 'tow']);
    expect(await keys(ws, 'contact')).toEqual(['spouse', 'owner', 'driver', 'student']);
    expect(await keys(ws, 'custom_objects.car')).toEqual(['owner', 'driver', 'tow']);
    expect(await keys(ws, 'contact', 'custom_objects.car')).toEqual(['owner', 'driver']);
    expect(await keys(ws, 'custom_objects.car', 'contact')).toEqual(['owner', 'driver']);
    expect(await keys(ws, 'contact', 'contact')).toEqual(['spouse']);
    expect(await keys(ws, 'custom_objects.school', 'custom_objects.car')).toEqual([]);
    expect(await keys(ws, 'custom_objects.nope')).toEqual([]);
  });

  it('Object.associationLabels lists the labels of that object', async () => {
    const { object } = await run(ws.client, LabelsOfObjectDocument, { key: 'custom_objects.car' });
    expect(object?.associationLabels.map((label) => label.key)).toEqual(['owner', 'driver', 'tow']);
    const { object: contact } = await run(ws.client, LabelsOfObjectDocument, { key: 'contact', otherObjectKey: 'custom_objects.school' });
    expect(contact?.associationLabels.map((label) => label.key)).toEqual(['student']);
  });

  it('associationLabel finds a label by id or key, and answers null for unknown or mismatched ones', async () => {
    const byKey = await getLabel(ws, { key: 'owner' });
    expect(byKey).toMatchObject({ key: 'owner', firstLabel: 'Owner', secondLabel: 'Car' });
    expect((await getLabel(ws, { id: byKey!.id }))?.key).toBe('owner');
    expect((await getLabel(ws, { id: byKey!.id, key: 'owner' }))?.key).toBe('owner');
    expect(await getLabel(ws, { id: byKey!.id, key: 'spouse' })).toBeNull();
    expect(await getLabel(ws, { key: 'nope' })).toBeNull();
    expect(await getLabel(ws, { id: 'bm9wZQ' })).toBeNull();
    expect(await getLabel(ws, {})).toBeNull();

    const other = await t.workspace('Query foreign');
    const foreign = await createLabel(other, { first: 'contact', firstLabel: 'Secret', key: 'secret' });
    expect(await getLabel(ws, { id: foreign.id })).toBeNull();
    expect(await getLabel(ws, { key: 'secret' })).toBeNull();
  });

  it('counts associations and distinct records, and pages through the associations', async () => {
    const [a, b, c, d] = await createContacts(ws, 4, 'Q');
    const [car1, car2] = await createRecords(ws, 'custom_objects.car', 2, 'Car');
    await linkOk(ws, a!, car1!, ['owner']);
    await linkOk(ws, a!, car2!, ['owner']);
    await linkOk(ws, b!, car1!, ['owner']);
    await linkOk(ws, c!, d!, ['spouse']);

    const owner = await getLabel(ws, { key: 'owner', first: 2 });
    expect(owner).toMatchObject({ associationCount: 3, recordCount: 4 });
    expect(owner!.associations.totalCount).toBe(3);
    expect(owner!.associations.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const firstPage = owner!.associations.edges.map((edge) => [edge.node.firstRecord.id, edge.node.secondRecord.id]);
    expect(firstPage).toEqual([[a, car1], [a, car2]]);
    const rest = await getLabel(ws, { key: 'owner', first: 2, after: owner!.associations.pageInfo.endCursor! });
    expect(rest!.associations.edges.map((edge) => [edge.node.firstRecord.id, edge.node.secondRecord.id])).toEqual([[b, car1]]);
    expect(rest!.associations.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(rest!.associations.edges[0]!.node.label.key).toBe('owner');

    expect(await getLabel(ws, { key: 'spouse' })).toMatchObject({ associationCount: 1, recordCount: 2 });
    expect(await getLabel(ws, { key: 'driver' })).toMatchObject({ associationCount: 0, recordCount: 0 });
  });
});

describe('permissions', () => {
  it('answers ForbiddenError in the result union for every label mutation from a USER key', async () => {
    const ws = await t.workspace('Label permissions');
    const member = await userOf(t, ws);
    const label = await createLabel(ws, { first: 'contact', firstLabel: 'Friend' });

    const created = (
      await run(member.client, LabelsCreateDocument, {
        input: { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Rival' },
      })
    ).createAssociationLabel;
    expect(expectType(created, 'ForbiddenError').code).toBe('FORBIDDEN');

    const updated = (await run(member.client, LabelsUpdateDocument, { input: { id: label.id, firstLabel: 'Enemy' } })).updateAssociationLabel;
    expect(expectType(updated, 'ForbiddenError').code).toBe('FORBIDDEN');

    for (const force of [undefined, true]) {
      const deleted = (await run(member.client, LabelsDeleteDocument, { input: { id: label.id, force } })).deleteAssociationLabel;
      expect(expectType(deleted, 'ForbiddenError').code).toBe('FORBIDDEN');
    }

    // The USER can still read labels, and nothing changed.
    expect((await run(member.client, LabelsListDocument, {})).associationLabels.map((l) => l.key)).toEqual(['friend']);
    expect(await getLabel(ws, { id: label.id })).toMatchObject({ firstLabel: 'Friend', secondLabel: 'Friend' });
  });
});
