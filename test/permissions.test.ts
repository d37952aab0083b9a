import { beforeAll, describe, expect, it } from 'vitest';
import { prisma } from '../src/db/index.js';
import { useTestApp, type TestWorkspace } from './helpers.js';
import {
  LINK,
  SET_PERMISSION,
  UNLINK,
  answer,
  contact,
  createApiKey,
  createLabel,
  createObject,
  createRecord,
  createUser,
  data,
  gid,
  link,
  names,
  numericId,
  ok,
  setAccess,
  type Gql,
  type TestUser,
} from './support/permissions.js';

const t = useTestApp();

/**
 * One workspace, seen by four viewers:
 * - admin: everything;
 * - assigned: a USER with ASSIGNED access to contacts (owns "Mine One" and "Mine Two");
 * - none: a USER with NONE access to contacts;
 * - free: a USER without any entry (ALL).
 *
 * Links (made by the admin):
 *   Mine One –spouse– Mine Two          (visible to assigned)
 *   Mine One –spouse– Theirs One        (hidden: Theirs One is the admin's)
 *   Theirs One –spouse– Theirs Two      (hidden)
 *   Mine One –manager→ Theirs Two       (hidden; Mine One is the Manager)
 *   Theirs One –manager→ Mine One       (hidden; Mine One is the Employee)
 *   Mine One –owner_car→ Car One        (visible: cars are not restricted)
 *   Theirs One –owner_car→ Car One      (hidden)
 */
let ws: TestWorkspace;
let admin: Gql;
let assigned: TestUser;
let none: TestUser;
let free: TestUser;
const r = {} as Record<'mine1' | 'mine2' | 'theirs1' | 'theirs2' | 'car1', string>;
let car: { id: string; key: string };
const labels = {} as Record<'spouse' | 'manager' | 'ownerCar', { id: string; key: string }>;
const MISSING_RECORD = gid('Record', 987_654_321);

beforeAll(async () => {
  ws = await t.workspace('Permissions');
  admin = ws.gql;
  assigned = await createUser(t, admin, 'USER', 'Assigned');
  none = await createUser(t, admin, 'USER', 'Nothing');
  free = await createUser(t, admin, 'USER', 'Free');
  await setAccess(admin, assigned.id, 'contact', 'ASSIGNED');
  await setAccess(admin, none.id, 'contact', 'NONE');
  car = await createObject(admin, 'car');
  r.mine1 = await contact(admin, 'Mine One', assigned.id);
  r.mine2 = await contact(admin, 'Mine Two', assigned.id);
  r.theirs1 = await contact(admin, 'Theirs One', gid('User', ws.userId));
  r.theirs2 = await contact(admin, 'Theirs Two', null);
  r.car1 = await createRecord(admin, car.key, { name: 'Car One' });
  labels.spouse = await createLabel(admin, { key: 'spouse', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Spouse' });
  labels.manager = await createLabel(admin, {
    key: 'manager',
    firstObjectKey: 'contact',
    secondObjectKey: 'contact',
    type: 'PAIR',
    firstLabel: 'Manager',
    secondLabel: 'Employee',
  });
  labels.ownerCar = await createLabel(admin, {
    key: 'owner_car',
    firstObjectKey: 'contact',
    secondObjectKey: car.key,
    type: 'PAIR',
    firstLabel: 'Owner',
    secondLabel: 'Car',
  });
  await link(admin, r.mine1, r.mine2, ['spouse']);
  await link(admin, r.mine1, r.theirs1, ['spouse']);
  await link(admin, r.theirs1, r.theirs2, ['spouse']);
  await link(admin, r.mine1, r.theirs2, ['manager']);
  await link(admin, r.theirs1, r.mine1, ['manager']);
  await link(admin, r.mine1, r.car1, ['owner_car']);
  await link(admin, r.theirs1, r.car1, ['owner_car']);
});

const RECORDS = `query ($objectKey: String!, $filter: RecordFilter) {
  records(objectKey: $objectKey, filter: $filter) { totalCount edges { node { id displayName } } }
}`;

const RECORD_PAGE = `query ($id: ID!) {
  record(id: $id) {
    displayName
    associations(first: 50) { totalCount edges { relatedRole relatedRecord { displayName } node { label { key } } } }
    associationGroups { relatedRole totalCount records(first: 50) { totalCount edges { node { displayName } } } }
    associationEvents(first: 50) { totalCount edges { node { action firstRecordId secondRecordId } } }
  }
}`;

const LABEL = `query ($key: String!) {
  associationLabel(key: $key) {
    key associationCount recordCount
    associations(first: 50) { totalCount edges { node { firstRecord { displayName } secondRecord { displayName } } } }
  }
}`;

async function recordPage(gql: Gql, id: string) {
  const record = data(await gql(RECORD_PAGE, { id })).record;
  return {
    associations: (record.associations.edges as any[])
      .map((edge) => `${edge.node.label.key}:${edge.relatedRole}:${edge.relatedRecord.displayName}`)
      .sort(),
    associationsTotal: record.associations.totalCount as number,
    groups: (record.associationGroups as any[])
      .map((group) => `${group.relatedRole}=${group.totalCount}/${group.records.totalCount}:${names(group.records).join(',')}`)
      .sort(),
    events: (record.associationEvents.edges as any[]).map((edge) => [edge.node.firstRecordId, edge.node.secondRecordId].sort().join('+')).sort(),
    eventsTotal: record.associationEvents.totalCount as number,
  };
}

async function labelView(gql: Gql, key: string) {
  const label = data(await gql(LABEL, { key })).associationLabel;
  return {
    associationCount: label.associationCount as number,
    recordCount: label.recordCount as number,
    totalCount: label.associations.totalCount as number,
    pairs: (label.associations.edges as any[]).map((edge) => `${edge.node.firstRecord.displayName}|${edge.node.secondRecord.displayName}`).sort(),
  };
}

const pair = (a: string, b: string) => [a, b].sort().join('+');

describe('setObjectPermission and User.objectPermissions', () => {
  const PERMISSIONS = `query ($id: ID!) { node(id: $id) { ... on User { role objectPermissions { object { key } access } } } }`;

  it('stores one entry per user and object, readable by admins and by the user itself', async () => {
    const user = await createUser(t, admin);
    expect(data(await admin(PERMISSIONS, { id: user.id })).node.objectPermissions).toEqual([]);

    const set = await setAccess(admin, user.id, car.key, 'ASSIGNED');
    expect(set.user.objectPermissions).toEqual([{ object: { key: car.key }, access: 'ASSIGNED' }]);
    await setAccess(admin, user.id, 'contact', 'NONE');
    await setAccess(admin, user.id, car.key, 'NONE'); // an upsert, not a second entry
    const expected = [
      { object: { key: 'contact' }, access: 'NONE' },
      { object: { key: car.key }, access: 'NONE' },
    ];
    expect(data(await admin(PERMISSIONS, { id: user.id })).node.objectPermissions).toEqual(expected);
    const own = data(await user.gql(`{ viewer { user { objectPermissions { object { key } access } } } }`));
    expect(own.viewer.user.objectPermissions).toEqual(expected);
    // Another user's permissions are for admins only.
    const other = await user.gql(PERMISSIONS, { id: assigned.id });
    expect(other.data?.node ?? null).toBeNull();
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // And they take effect on the user's next request.
    expect(data(await user.gql(RECORDS, { objectKey: 'contact' })).records.totalCount).toBe(0);
    await setAccess(admin, user.id, 'contact', 'ALL');
    expect(data(await user.gql(RECORDS, { objectKey: 'contact' })).records.totalCount).toBe(4);
  });

  it('answers NotFoundError for an unknown object key or user, and ForbiddenError for USER keys', async () => {
    const unknownObject = await admin(SET_PERMISSION, { input: { userId: free.id, objectKey: 'custom_objects.nope', access: 'NONE' } });
    expect(unknownObject.data.setObjectPermission.__typename).toBe('NotFoundError');
    const unknownUser = await admin(SET_PERMISSION, { input: { userId: gid('User', 987_654), objectKey: 'contact', access: 'NONE' } });
    expect(unknownUser.data.setObjectPermission.__typename).toBe('NotFoundError');
    for (const user of [assigned, free]) {
      const response = await user.gql(SET_PERMISSION, { input: { userId: user.id, objectKey: 'contact', access: 'ALL' } });
      expect(response.data.setObjectPermission).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    }
    // Nothing changed: assigned still sees only its own contacts.
    expect(names(data(await assigned.gql(RECORDS, { objectKey: 'contact' })).records)).toEqual(['Mine One', 'Mine Two']);
  });

  it('leaves admins unrestricted even with an entry', async () => {
    const otherAdmin = await createUser(t, admin, 'ADMIN', 'Second admin');
    await setAccess(admin, otherAdmin.id, 'contact', 'NONE');
    expect(data(await admin(PERMISSIONS, { id: otherAdmin.id })).node.objectPermissions).toEqual([]);
    expect(data(await otherAdmin.gql(RECORDS, { objectKey: 'contact' })).records.totalCount).toBe(4);
  });
});

describe('record lists and lookups', () => {
  it('ASSIGNED sees only owned records; NONE sees none; no entry and admins see all', async () => {
    const view = async (gql: Gql) => {
      const { records } = data(await gql(RECORDS, { objectKey: 'contact' }));
      const object = data(await gql(`{ object(key: "contact") { records { totalCount edges { node { displayName } } } } }`));
      expect(names(object.object.records)).toEqual(names(records));
      expect(object.object.records.totalCount).toBe(records.totalCount);
      return { names: names(records), totalCount: records.totalCount };
    };
    expect(await view(assigned.gql)).toEqual({ names: ['Mine One', 'Mine Two'], totalCount: 2 });
    expect(await view(none.gql)).toEqual({ names: [], totalCount: 0 });
    const all = { names: ['Mine One', 'Mine Two', 'Theirs One', 'Theirs Two'], totalCount: 4 };
    expect(await view(free.gql)).toEqual(all);
    expect(await view(admin)).toEqual(all);
    // Other objects are not affected by a contact restriction.
    for (const gql of [assigned.gql, none.gql]) {
      expect(names(data(await gql(RECORDS, { objectKey: car.key })).records)).toEqual(['Car One']);
    }
  });

  it('record(id), node(id) and nodes(ids) answer null for a hidden record, exactly as for a missing one', async () => {
    const lookup = `query ($id: ID!, $ids: [ID!]!) { record(id: $id) { id } node(id: $id) { id } nodes(ids: $ids) { id } }`;
    for (const hidden of [r.theirs1, r.theirs2]) {
      const seen = await assigned.gql(lookup, { id: hidden, ids: [r.mine1, hidden] });
      const missing = await assigned.gql(lookup, { id: MISSING_RECORD, ids: [r.mine1, MISSING_RECORD] });
      expect(answer(seen)).toEqual(answer(missing));
      expect(seen.data).toEqual({ record: null, node: null, nodes: [{ id: r.mine1 }, null] });
      // Visible to the others.
      expect(data(await free.gql(lookup, { id: hidden, ids: [hidden] })).record).toEqual({ id: hidden });
      expect(data(await admin(lookup, { id: hidden, ids: [hidden] })).nodes).toEqual([{ id: hidden }]);
    }
    const noneView = await none.gql(lookup, { id: r.mine1, ids: [r.mine1, r.car1] });
    expect(noneView.data).toEqual({ record: null, node: null, nodes: [null, { id: r.car1 }] });
  });

  it('node and nodes resolve the same object several times in one request, for every Node type', async () => {
    const association = (await link(admin, r.mine1, r.mine2, ['spouse']))[0]!;
    const ids = [r.mine1, association, labels.spouse.id, car.id, assigned.id, gid('Workspace', ws.workspaceId)];
    const query = `query ($id: ID!) { a: node(id: $id) { __typename id } b: node(id: $id) { id } nodes(ids: [$id, $id]) { __typename id } }`;
    for (const id of ids) {
      const response = await admin(query, { id });
      expect(response.errors, id).toBeUndefined();
      expect(response.data.a.id).toBe(id);
      expect(response.data.b).toEqual({ id });
      expect(response.data.nodes).toEqual([response.data.a, response.data.a]);
    }
  });

  it('an association with a hidden record is not a node for that viewer', async () => {
    const ids = await link(admin, r.theirs1, r.mine1, ['manager']); // existing: returned, not created
    const query = `query ($id: ID!) { node(id: $id) { id ... on Association { firstRecord { displayName } } } }`;
    expect(data(await admin(query, { id: ids[0] })).node.firstRecord.displayName).toBe('Theirs One');
    const hidden = await assigned.gql(query, { id: ids[0] });
    const missing = await assigned.gql(query, { id: gid('Association', 987_654_321) });
    expect(answer(hidden)).toEqual(answer(missing));
    expect(hidden.data).toEqual({ node: null });
  });
});

describe('the association graph seen by a restricted viewer', () => {
  it('Record.associations, associationGroups and associationEvents leave hidden records out (edges and totals)', async () => {
    const full = await recordPage(admin, r.mine1);
    expect(full).toEqual({
      associations: [
        'manager:Employee:Theirs Two',
        'manager:Manager:Theirs One',
        'owner_car:Car:Car One',
        'spouse:Spouse:Mine Two',
        'spouse:Spouse:Theirs One',
      ],
      associationsTotal: 5,
      groups: ['Car=1/1:Car One', 'Employee=1/1:Theirs Two', 'Manager=1/1:Theirs One', 'Spouse=2/2:Mine Two,Theirs One'],
      events: [pair(r.mine1, r.car1), pair(r.mine1, r.mine2), pair(r.mine1, r.theirs1), pair(r.mine1, r.theirs1), pair(r.mine1, r.theirs2)].sort(),
      eventsTotal: 5,
    });
    expect(await recordPage(free.gql, r.mine1)).toEqual(full);
    expect(await recordPage(assigned.gql, r.mine1)).toEqual({
      associations: ['owner_car:Car:Car One', 'spouse:Spouse:Mine Two'],
      associationsTotal: 2,
      groups: ['Car=1/1:Car One', 'Spouse=1/1:Mine Two'],
      events: [pair(r.mine1, r.car1), pair(r.mine1, r.mine2)].sort(),
      eventsTotal: 2,
    });
  });

  it('a record of an unrestricted object only shows its visible partners', async () => {
    expect(await recordPage(admin, r.car1)).toMatchObject({ associationsTotal: 2, groups: ['Owner=2/2:Mine One,Theirs One'], eventsTotal: 2 });
    expect(await recordPage(assigned.gql, r.car1)).toEqual({
      associations: ['owner_car:Owner:Mine One'],
      associationsTotal: 1,
      groups: ['Owner=1/1:Mine One'],
      events: [pair(r.mine1, r.car1)],
      eventsTotal: 1,
    });
    expect(await recordPage(none.gql, r.car1)).toEqual({
      associations: [],
      associationsTotal: 0,
      groups: [],
      events: [],
      eventsTotal: 0,
    });
  });

  it('AssociationLabel counts and associations are per viewer: no count reveals a hidden record', async () => {
    expect(await labelView(admin, 'spouse')).toEqual({
      associationCount: 3,
      recordCount: 4,
      totalCount: 3,
      pairs: ['Mine One|Mine Two', 'Mine One|Theirs One', 'Theirs One|Theirs Two'],
    });
    expect(await labelView(assigned.gql, 'spouse')).toEqual({ associationCount: 1, recordCount: 2, totalCount: 1, pairs: ['Mine One|Mine Two'] });
    expect(await labelView(none.gql, 'spouse')).toEqual({ associationCount: 0, recordCount: 0, totalCount: 0, pairs: [] });

    expect(await labelView(admin, 'manager')).toMatchObject({ associationCount: 2, recordCount: 3, totalCount: 2 });
    expect(await labelView(assigned.gql, 'manager')).toEqual({ associationCount: 0, recordCount: 0, totalCount: 0, pairs: [] });

    expect(await labelView(admin, 'owner_car')).toMatchObject({ associationCount: 2, recordCount: 3, totalCount: 2 });
    expect(await labelView(assigned.gql, 'owner_car')).toEqual({ associationCount: 1, recordCount: 2, totalCount: 1, pairs: ['Mine One|Car One'] });
    expect(await labelView(none.gql, 'owner_car')).toEqual({ associationCount: 0, recordCount: 0, totalCount: 0, pairs: [] });
    expect(await labelView(free.gql, 'owner_car')).toEqual(await labelView(admin, 'owner_car'));

    // The same figures through associationLabels and Object.associationLabels.
    const list = data(await assigned.gql(`{ associationLabels { key associationCount recordCount } object(key: "contact") { associationLabels { key associationCount recordCount } } }`));
    const expected = [
      { key: 'spouse', associationCount: 1, recordCount: 2 },
      { key: 'manager', associationCount: 0, recordCount: 0 },
      { key: 'owner_car', associationCount: 1, recordCount: 2 },
    ];
    expect(list.associationLabels).toEqual(expected);
    expect(list.object.associationLabels).toEqual(expected);
  });

  it('records(filter: { associatedWith }) with a hidden record matches nothing, exactly like an unknown id', async () => {
    const filtered = (gql: Gql, recordId: string, labelKey?: string) =>
      gql(RECORDS, { objectKey: 'contact', filter: { associatedWith: { recordId, ...(labelKey ? { labelKey } : {}) } } });
    expect(names(data(await filtered(admin, r.mine1)).records)).toEqual(['Mine Two', 'Theirs One', 'Theirs Two']);
    expect(names(data(await filtered(assigned.gql, r.mine1)).records)).toEqual(['Mine Two']);
    expect(data(await filtered(assigned.gql, r.mine1)).records.totalCount).toBe(1);
    expect(names(data(await filtered(admin, r.theirs1)).records)).toEqual(['Mine One', 'Theirs Two']);
    expect(names(data(await filtered(admin, r.theirs1, 'manager')).records)).toEqual(['Mine One']);
    for (const labelKey of [undefined, 'spouse', 'manager']) {
      const hidden = await filtered(assigned.gql, r.theirs1, labelKey);
      const missing = await filtered(assigned.gql, MISSING_RECORD, labelKey);
      expect(answer(hidden)).toEqual(answer(missing));
      expect(hidden.data.records).toEqual({ totalCount: 0, edges: [] });
    }
    // Cars linked to a hidden contact: none for the restricted viewer.
    const cars = await assigned.gql(RECORDS, { objectKey: car.key, filter: { associatedWith: { recordId: r.theirs1 } } });
    expect(answer(cars)).toEqual(answer(await assigned.gql(RECORDS, { objectKey: car.key, filter: { associatedWith: { recordId: MISSING_RECORD } } })));
    expect(cars.data.records.totalCount).toBe(0);
  });
});

describe('mutations on hidden records', () => {
  const UPDATE = `mutation ($input: UpdateRecordInput!) { updateRecord(input: $input) { __typename ... on Error { code message } ... on UpdateRecordSuccess { record { id } } } }`;
  const DELETE = `mutation ($input: DeleteRecordInput!) { deleteRecord(input: $input) { __typename ... on Error { code message } ... on DeleteRecordSuccess { deletedId removedAssociations } } }`;

  it('link, unlink, update and delete answer NotFoundError with the message of a non-existent id', async () => {
    const before = await recordPage(admin, r.theirs1);
    const cases: [string, string, (id: string) => Record<string, unknown>][] = [
      [LINK, 'linkRecords', (id) => ({ input: { firstRecordId: r.mine2, secondRecordId: id, labelKeys: ['spouse'] } })],
      [LINK, 'linkRecords', (id) => ({ input: { firstRecordId: id, secondRecordId: r.mine2, labelKeys: ['spouse'] } })],
      [UNLINK, 'unlinkRecords', (id) => ({ input: { firstRecordId: r.mine1, secondRecordId: id } })],
      [UNLINK, 'unlinkRecords', (id) => ({ input: { firstRecordId: id, secondRecordId: r.mine1, labelKeys: ['spouse'] } })],
      [UPDATE, 'updateRecord', (id) => ({ input: { id, properties: { firstName: 'Hacked' } } })],
      [DELETE, 'deleteRecord', (id) => ({ input: { id } })],
    ];
    for (const [query, field, variables] of cases) {
      for (const hidden of [r.theirs1, r.theirs2]) {
        const seen = await assigned.gql(query, variables(hidden));
        const missing = await assigned.gql(query, variables(MISSING_RECORD));
        expect(answer(seen), field).toEqual(answer(missing));
        expect(seen.data[field], field).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      }
      // NONE: every contact is hidden.
      const noneSeen = await none.gql(query, variables(r.theirs1));
      expect(answer(noneSeen), field).toEqual(answer(await none.gql(query, variables(MISSING_RECORD))));
      expect(noneSeen.data[field].__typename, field).toBe('NotFoundError');
    }
    // Nothing changed.
    expect(await recordPage(admin, r.theirs1)).toEqual(before);
    expect(data(await admin(`query ($id: ID!) { record(id: $id) { displayName } }`, { id: r.theirs1 })).record.displayName).toBe('Theirs One');
  });

  it('a USER may link and unlink records it can see', async () => {
    const linked = ok(await assigned.gql(LINK, { input: { firstRecordId: r.mine2, secondRecordId: r.car1, labelKeys: ['owner_car'] } }), 'linkRecords', 'LinkRecordsSuccess');
    expect(linked.created).toBe(true);
    expect((await recordPage(admin, r.car1)).associations).toContain('owner_car:Owner:Mine Two');
    const again = ok(await assigned.gql(LINK, { input: { firstRecordId: r.car1, secondRecordId: r.mine2, labelKeys: ['owner_car'] } }), 'linkRecords', 'LinkRecordsSuccess');
    expect(again.created).toBe(false);
    const unlinked = ok(await assigned.gql(UNLINK, { input: { firstRecordId: r.mine2, secondRecordId: r.car1 } }), 'unlinkRecords', 'UnlinkRecordsSuccess');
    expect(unlinked.removedCount).toBe(1);
    expect((await recordPage(admin, r.car1)).associations).not.toContain('owner_car:Owner:Mine Two');
    // A USER without restrictions links anything in the workspace.
    const freeLink = ok(await free.gql(LINK, { input: { firstRecordId: r.theirs2, secondRecordId: r.car1, labelKeys: ['owner_car'] } }), 'linkRecords', 'LinkRecordsSuccess');
    expect(freeLink.created).toBe(true);
    expect(ok(await free.gql(UNLINK, { input: { firstRecordId: r.theirs2, secondRecordId: r.car1 } }), 'unlinkRecords', 'UnlinkRecordsSuccess').removedCount).toBe(1);
  });

  it("deleting a visible record removes all its associations but only counts the ones the viewer can see", async () => {
    const mine3 = await contact(admin, 'Mine Three', assigned.id);
    await link(admin, mine3, r.mine2, ['spouse']);
    await link(admin, mine3, r.theirs1, ['spouse']);
    await link(admin, r.theirs2, mine3, ['manager']);
    const deleted = ok(await assigned.gql(DELETE, { input: { id: mine3 } }), 'deleteRecord', 'DeleteRecordSuccess');
    expect(deleted.removedAssociations).toBe(1);
    // All three are gone, on both sides, each logged.
    expect((await recordPage(admin, r.theirs1)).associations).not.toContain('spouse:Spouse:Mine Three');
    const id = numericId(mine3);
    const events = await prisma.associationEvent.count({ where: { action: 'UNLINKED', OR: [{ firstRecordId: id }, { secondRecordId: id }] } });
    expect(events).toBe(3);
  });
});

describe('limits seen by a restricted viewer', () => {
  const LINK_WITH_LIMIT = `mutation ($input: LinkRecordsInput!) {
    linkRecords(input: $input) {
      __typename
      ... on LimitExceededError { code message limit max current index }
    }
  }`;
  const LIMITS = `mutation ($input: UpdateAssociationLimitsInput!) {
    updateAssociationLimits(input: $input) { __typename }
  }`;

  it('a refusal does not reveal how many hidden associations exist, and a single link names no index', async () => {
    // Mine One takes part in 4 contact associations; the ASSIGNED user sees only 1 of them.
    await admin(LIMITS, { input: { maxAssociationsPerContact: 2 } });
    try {
      const input = { firstRecordId: r.mine2, secondRecordId: r.mine1, labelKeys: ['manager'] };
      const asAdmin = data(await admin(LINK_WITH_LIMIT, { input })).linkRecords;
      expect(asAdmin).toMatchObject({ __typename: 'LimitExceededError', limit: 'maxAssociationsPerContact', max: 2, current: 4, index: null });
      expect(asAdmin.message).toContain('4');
      const asUser = data(await assigned.gql(LINK_WITH_LIMIT, { input })).linkRecords;
      expect(asUser).toEqual({
        __typename: 'LimitExceededError',
        code: 'LIMIT_EXCEEDED',
        message: 'The maxAssociationsPerContact limit of 2 is reached.',
        limit: 'maxAssociationsPerContact',
        max: 2,
        current: 2,
        index: null,
      });
    } finally {
      await admin(LIMITS, { input: { maxAssociationsPerContact: 10 } });
    }
  });
});

describe('admin-only mutations', () => {
  const ADMIN_ONLY: [string, string, () => Promise<Record<string, unknown>>][] = [
    ['createObject', 'CreateObjectInput', async () => ({ key: 'forbidden', singularName: 'F', pluralName: 'Fs', primaryProperty: 'name', fields: [{ key: 'name', name: 'Name', type: 'TEXT' }] })],
    ['updateObject', 'UpdateObjectInput', async () => ({ id: car.id, singularName: 'Renamed', addFields: [{ key: 'color', name: 'Color', type: 'TEXT' }] })],
    ['deleteObject', 'DeleteObjectInput', async () => ({ id: (await createObject(admin, `empty_${Date.now()}`)).id })],
    ['createAssociationLabel', 'CreateAssociationLabelInput', async () => ({ key: 'forbidden', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' })],
    ['updateAssociationLabel', 'UpdateAssociationLabelInput', async () => ({ id: labels.spouse.id, firstLabel: 'Renamed' })],
    ['deleteAssociationLabel', 'DeleteAssociationLabelInput', async () => ({ id: labels.spouse.id, force: true })],
    ['updateAssociationLimits', 'UpdateAssociationLimitsInput', async () => ({ maxRecordsPerLabel: 1, maxAssociationsPerContact: 1, maxLabelsPerObjectPair: 1 })],
    ['createUser', 'CreateUserInput', async () => ({ name: 'Intruder', email: 'intruder@example.com', role: 'ADMIN' })],
    ['createApiKey', 'CreateApiKeyInput', async () => ({ userId: gid('User', ws.userId), name: 'stolen' })],
    ['revokeApiKey', 'RevokeApiKeyInput', async () => ({ id: (await createApiKey(admin, gid('User', ws.userId))).id })],
    ['setObjectPermission', 'SetObjectPermissionInput', async () => ({ userId: assigned.id, objectKey: 'contact', access: 'ALL' })],
    ['createWebhookEndpoint', 'CreateWebhookEndpointInput', async () => ({ url: 'https://hooks.example.com/relate', eventTypes: [] })],
    ['updateWebhookEndpoint', 'UpdateWebhookEndpointInput', async () => ({ id: gid('WebhookEndpoint', (await endpoint()).id), enabled: true })],
    ['deleteWebhookEndpoint', 'DeleteWebhookEndpointInput', async () => ({ id: gid('WebhookEndpoint', (await endpoint()).id) })],
    ['redeliverWebhook', 'RedeliverWebhookInput', async () => ({ deliveryId: gid('WebhookDelivery', (await delivery()).id) })],
  ];
  /** A disabled endpoint of the workspace (written directly: nothing is ever posted to it). */
  const endpoint = () =>
    prisma.webhookEndpoint.create({ data: { workspaceId: ws.workspaceId, url: 'https://hooks.example.com/relate', secret: 'whsec_dGVzdA==', enabled: false } });
  /** A FAILED delivery of a logged event to such an endpoint. */
  const delivery = async () => {
    const event = await prisma.associationEvent.create({ data: { workspaceId: ws.workspaceId, action: 'LABEL_UPDATED', labelKey: 'spouse' } });
    return prisma.webhookDelivery.create({
      data: { endpointId: (await endpoint()).id, eventId: event.id, eventType: 'label.updated', status: 'FAILED', attempts: 1, nextAttemptAt: null },
    });
  };

  const snapshot = async () => ({
    graph: data(
      await admin(`{
        objects { key singularName fields { key } }
        associationLabels { key firstLabel secondLabel associationCount }
        viewer { workspace { limits { maxLabelsPerObjectPair maxRecordsPerLabel maxAssociationsPerContact } } }
      }`),
    ),
    users: await prisma.user.findMany({ where: { workspaceId: ws.workspaceId }, orderBy: { id: 'asc' } }),
    keys: await prisma.apiKey.findMany({ where: { workspaceId: ws.workspaceId }, orderBy: { id: 'asc' } }),
    permissions: await prisma.objectPermission.findMany({ orderBy: { id: 'asc' } }),
    webhooks: await prisma.webhookEndpoint.findMany({ where: { workspaceId: ws.workspaceId }, include: { deliveries: true }, orderBy: { id: 'asc' } }),
  });

  it('answer ForbiddenError in the result union for USER keys, and change nothing', async () => {
    const covered: string[] = [];
    for (const [field, inputType, input] of ADMIN_ONLY) {
      const variables = { input: await input() };
      const before = await snapshot();
      for (const user of [assigned, none, free]) {
        const response = await user.gql(
          `mutation ($input: ${inputType}!) { ${field}(input: $input) { __typename ... on Error { code message } } }`,
          variables,
        );
        expect(response.status, field).toBe(200);
        expect(response.errors, field).toBeUndefined();
        expect(response.data[field], field).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN', message: expect.any(String) });
      }
      expect(await snapshot(), field).toEqual(before);
      covered.push(field);
    }
    // Every admin-only mutation of the SPEC is in the list.
    expect(covered.sort()).toEqual(
      [
        'createApiKey', 'createAssociationLabel', 'createObject', 'createUser', 'deleteAssociationLabel', 'deleteObject',
        'revokeApiKey', 'setObjectPermission', 'updateAssociationLabel', 'updateAssociationLimits', 'updateObject',
        'createWebhookEndpoint', 'updateWebhookEndpoint', 'deleteWebhookEndpoint', 'redeliverWebhook',
      ].sort(),
    );
  });
});

describe('API key revocation', () => {
  it('takes effect on the next request (401)', async () => {
    const user = await createUser(t, admin);
    const second = await createApiKey(admin, user.id, 'second');
    const viewer = `{ viewer { user { id } } }`;
    expect(data(await user.gql(viewer)).viewer.user.id).toBe(user.id);
    expect(data(await t.post(viewer, {}, second.apiKey)).viewer.user.id).toBe(user.id);
    const revoked = ok(
      await admin(`mutation ($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename ... on RevokeApiKeySuccess { revokedId } ... on Error { code message } } }`, {
        input: { id: second.id },
      }),
      'revokeApiKey',
      'RevokeApiKeySuccess',
    );
    expect(revoked.revokedId).toBe(second.id);
    const after = await t.post(viewer, {}, second.apiKey);
    expect(after.status).toBe(401);
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(after.data ?? null).toBeNull();
    // The user's other key still works.
    expect(data(await user.gql(viewer)).viewer.user.id).toBe(user.id);
  });
});

describe('statement counts with a restricted viewer', () => {
  const LIST = `query ($first: Int!) {
    records(objectKey: "contact", first: $first) {
      edges { node {
        displayName
        associations(first: 10) { totalCount edges { relatedRole relatedRecord { displayName } } }
        associationGroups { relatedRole totalCount records(first: 5) { edges { node { displayName } } } }
      } }
    }
  }`;

  it('are the same for N = 5 and N = 50 as a USER with ASSIGNED access', async () => {
    const big = await t.workspace('Statements');
    const user = await createUser(t, big.gql, 'USER', 'Seller');
    await setAccess(big.gql, user.id, 'contact', 'ASSIGNED');
    const object = await createObject(big.gql, 'deal');
    await createLabel(big.gql, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
    await createLabel(big.gql, { key: 'boss', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Boss', secondLabel: 'Report' });
    await createLabel(big.gql, { key: 'deal', firstObjectKey: 'contact', secondObjectKey: object.key, type: 'PAIR', firstLabel: 'Buyer', secondLabel: 'Deal' });
    // The bulk is arranged directly in the database (through the API it takes seconds); the
    // statements counted are those of the query alone.
    const contactObject = (await prisma.objectModel.findFirst({ where: { workspaceId: big.workspaceId, key: 'contact' } }))!;
    const dealObject = (await prisma.objectModel.findFirst({ where: { workspaceId: big.workspaceId, key: object.key } }))!;
    const insert = async (objectId: number, ownerId: number | null, properties: Record<string, string>[]) =>
      (
        await prisma.recordModel.createManyAndReturn({
          data: properties.map((props) => ({
            workspaceId: big.workspaceId,
            objectId,
            ownerId,
            properties: JSON.stringify(props),
            displayName: Object.values(props)[0]!,
            searchText: Object.values(props)[0]!.toLowerCase(),
          })),
          select: { id: true },
        })
      )
        .map((row) => row.id)
        .sort((a, b) => a - b);
    const range = (n: number) => [...Array(n).keys()];
    const mine = await insert(contactObject.id, numericId(user.id), range(52).map((i) => ({ firstName: `Mine ${i}` })));
    const theirs = await insert(contactObject.id, big.userId, range(6).map((i) => ({ firstName: `Theirs ${i}` })));
    const deals = await insert(dealObject.id, null, range(6).map((i) => ({ name: `Deal ${i}` })));
    const labelIds = Object.fromEntries(
      (await prisma.associationLabel.findMany({ where: { workspaceId: big.workspaceId } })).map((label) => [label.key, label.id]),
    );
    const rows: { labelId: number; firstRecordId: number; secondRecordId: number }[] = [];
    const single = (labelId: number, a: number, b: number) => rows.push({ labelId, firstRecordId: Math.min(a, b), secondRecordId: Math.max(a, b) });
    mine.forEach((id, i) => {
      single(labelIds.colleague!, id, mine[(i + 1) % mine.length]!); // a ring: two visible colleagues each
      single(labelIds.colleague!, id, theirs[i % theirs.length]!); // hidden
      rows.push({ labelId: labelIds.boss!, firstRecordId: id, secondRecordId: theirs[i % theirs.length]! }); // hidden
      rows.push({ labelId: labelIds.boss!, firstRecordId: theirs[(i + 1) % theirs.length]!, secondRecordId: id }); // hidden
      rows.push({ labelId: labelIds.deal!, firstRecordId: id, secondRecordId: deals[i % deals.length]! });
    });
    await prisma.association.createMany({ data: rows.map((row) => ({ ...row, workspaceId: big.workspaceId, createdById: big.userId })) });

    const counts: Record<number, number> = {};
    for (const first of [5, 50]) {
      await user.gql(LIST, { first }); // warm the per-process objects/labels cache
      const response = await user.gql(LIST, { first });
      const edges = data(response).records.edges as any[];
      expect(edges).toHaveLength(first);
      for (const { node } of edges) {
        // Only visible partners: two colleagues (ring neighbours) and one deal.
        expect(node.associations.totalCount).toBe(3);
        expect(node.associations.edges.map((edge: any) => edge.relatedRecord.displayName).some((name: string) => name.startsWith('Theirs'))).toBe(false);
        expect(node.associationGroups.map((group: any) => `${group.relatedRole}=${group.totalCount}`).sort()).toEqual(['Colleague=2', 'Deal=1']);
      }
      counts[first] = response.extensions!.sqlStatements!;
    }
    console.log(`[statements] restricted viewer (ASSIGNED), records list with associations and groups: N=5 → ${counts[5]}, N=50 → ${counts[50]}`);
    expect(counts[50]).toBe(counts[5]);
    expect(counts[5]).toBeGreaterThan(0);
  });
});
