import { beforeAll, describe, expect, it } from 'vitest';
import {
  RecordsCreateDocument,
  RecordsCreateLabelDocument,
  RecordsCreateObjectDocument,
  RecordsCreateUserDocument,
  RecordsDeleteDocument,
  RecordsGetDocument,
  RecordsGetWithAssociationsDocument,
  RecordsLinkDocument,
  RecordsListDocument,
  RecordsOfObjectDocument,
  RecordsUpdateDocument,
  type RecordsCreateMutationVariables,
  type RecordsListQuery,
} from './generated/graphql.js';
import { expectType, run, useTestApp, type TestWorkspace } from './helpers.js';

const t = useTestApp();

const GEAR = 'custom_objects.gear';
const globalId = (type: string, id: number | string) => Buffer.from(`${type}:${id}`).toString('base64');

/** A workspace with a custom object `gear` that has one field of every type (`name` required, primary). */
async function gearWorkspace(): Promise<TestWorkspace> {
  const ws = await t.workspace();
  const { createObject } = await run(ws.client, RecordsCreateObjectDocument, {
    input: {
      key: 'gear',
      singularName: 'Gear',
      pluralName: 'Gear',
      primaryProperty: 'name',
      fields: [
        { key: 'name', name: 'Name', type: 'TEXT', required: true },
        { key: 'price', name: 'Price', type: 'NUMBER' },
        { key: 'used', name: 'Used', type: 'BOOLEAN' },
        { key: 'bought', name: 'Bought', type: 'DATE' },
        { key: 'sellerEmail', name: 'Seller email', type: 'EMAIL' },
        { key: 'sellerPhone', name: 'Seller phone', type: 'PHONE' },
        { key: 'website', name: 'Website', type: 'URL' },
      ],
    },
  });
  expectType(createObject, 'CreateObjectSuccess');
  return ws;
}

async function createRecord(ws: TestWorkspace, input: RecordsCreateMutationVariables['input']) {
  const { createRecord } = await run(ws.client, RecordsCreateDocument, { input });
  return expectType(createRecord, 'CreateRecordSuccess').record;
}

async function getRecord(ws: TestWorkspace, id: string) {
  return (await run(ws.client, RecordsGetDocument, { id })).record;
}

async function totalCount(ws: TestWorkspace, objectKey: string) {
  return (await run(ws.client, RecordsListDocument, { objectKey })).records.totalCount;
}

describe('createRecord', () => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await gearWorkspace();
  });

  it('stores properties of every field type and returns the record', async () => {
    const properties = {
      name: 'Longboard 9ft',
      price: 799.5,
      used: false,
      bought: '2024-02-29',
      sellerEmail: 'shop@example.com',
      sellerPhone: '+1 (555) 010-2030',
      website: 'https://surf.example.com/boards?id=9',
    };
    const record = await createRecord(ws, { objectKey: GEAR, properties });
    expect(record).toEqual({
      id: expect.any(String),
      displayName: 'Longboard 9ft',
      properties,
      owner: null,
      object: { key: GEAR },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await getRecord(ws, record.id)).toEqual(record);
  });

  it('accepts a date-time for a DATE field and 0 / true for NUMBER / BOOLEAN', async () => {
    const record = await createRecord(ws, {
      objectKey: GEAR,
      properties: { name: 'Leash', price: 0, used: true, bought: '2024-05-01T10:30:00Z' },
    });
    expect(record.properties).toEqual({ name: 'Leash', price: 0, used: true, bought: '2024-05-01T10:30:00Z' });
  });

  it.each([
    ['an unknown property', { name: 'X', colour: 'red' }, 'properties.colour'],
    ['a string for NUMBER', { name: 'X', price: '10' }, 'properties.price'],
    ['NaN-like text for NUMBER', { name: 'X', price: 'NaN' }, 'properties.price'],
    ['a string for BOOLEAN', { name: 'X', used: 'true' }, 'properties.used'],
    ['a number for BOOLEAN', { name: 'X', used: 1 }, 'properties.used'],
    ['free text for DATE', { name: 'X', bought: 'yesterday' }, 'properties.bought'],
    ['month 13 for DATE', { name: 'X', bought: '2024-13-01' }, 'properties.bought'],
    ['February 30th for DATE', { name: 'X', bought: '2024-02-30' }, 'properties.bought'],
    ['February 29th of a common year for DATE', { name: 'X', bought: '2023-02-29' }, 'properties.bought'],
    ['a number for DATE', { name: 'X', bought: 20240101 }, 'properties.bought'],
    ['a non-address for EMAIL', { name: 'X', sellerEmail: 'not-an-email' }, 'properties.sellerEmail'],
    ['letters for PHONE', { name: 'X', sellerPhone: 'call me' }, 'properties.sellerPhone'],
    ['a number for PHONE', { name: 'X', sellerPhone: 5550100 }, 'properties.sellerPhone'],
    ['an ftp address for URL', { name: 'X', website: 'ftp://example.com/file' }, 'properties.website'],
    ['a bare word for URL', { name: 'X', website: 'example' }, 'properties.website'],
    ['a number for TEXT', { name: 42 }, 'properties.name'],
    ['an object for TEXT', { name: { first: 'x' } }, 'properties.name'],
    ['a list for TEXT', { name: ['x'] }, 'properties.name'],
    ['a missing required property', { price: 10 }, 'properties.name'],
    ['an empty required property', { name: '' }, 'properties.name'],
    ['null for a required property', { name: null }, 'properties.name'],
    ['null for an optional property', { name: 'X', price: null }, 'properties.price'],
  ])('refuses %s with a ValidationError naming the field, and creates nothing', async (_case, properties, field) => {
    const before = await totalCount(ws, GEAR);
    const { createRecord } = await run(ws.client, RecordsCreateDocument, { input: { objectKey: GEAR, properties } });
    expect(createRecord).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field, index: null });
    expect(await totalCount(ws, GEAR)).toBe(before);
  });

  it('answers NotFoundError for an unknown object key', async () => {
    const { createRecord } = await run(ws.client, RecordsCreateDocument, {
      input: { objectKey: 'custom_objects.nope', properties: {} },
    });
    expect(createRecord).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  it('validates contact fields too (email and phone are typed)', async () => {
    const bad = await run(ws.client, RecordsCreateDocument, {
      input: { objectKey: 'contact', properties: { firstName: 'Ada', email: 'ada-at-example' } },
    });
    expect(bad.createRecord).toMatchObject({ __typename: 'ValidationError', field: 'properties.email' });
    const badPhone = await run(ws.client, RecordsCreateDocument, {
      input: { objectKey: 'contact', properties: { firstName: 'Ada', phone: 'none' } },
    });
    expect(badPhone.createRecord).toMatchObject({ __typename: 'ValidationError', field: 'properties.phone' });
  });
});

describe('displayName', () => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await gearWorkspace();
  });

  it.each([
    [{ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' }, 'Ada Lovelace'],
    [{ firstName: 'Ada', email: 'ada@example.com' }, 'Ada'],
    [{ lastName: 'Lovelace', email: 'ada@example.com' }, 'Lovelace'],
    [{ email: 'ada@example.com', phone: '+44 20 7946 0000' }, 'ada@example.com'],
    [{ firstName: '  ', lastName: ' ', email: 'blank@example.com' }, 'blank@example.com'],
  ])('of a contact %j is %j', async (properties, displayName) => {
    expect((await createRecord(ws, { objectKey: 'contact', properties })).displayName).toBe(displayName);
  });

  it('of a custom record is its primary property, and follows updates', async () => {
    const record = await createRecord(ws, { objectKey: GEAR, properties: { name: 'Fish 5\'8"', price: 500 } });
    expect(record.displayName).toBe('Fish 5\'8"');
    const { updateRecord } = await run(ws.client, RecordsUpdateDocument, {
      input: { id: record.id, properties: { name: 'Twin fin' } },
    });
    expect(expectType(updateRecord, 'UpdateRecordSuccess').record.displayName).toBe('Twin fin');
  });

  it('of a contact follows updates, falling back to email when the names are removed', async () => {
    const record = await createRecord(ws, {
      objectKey: 'contact',
      properties: { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com' },
    });
    const { updateRecord } = await run(ws.client, RecordsUpdateDocument, {
      input: { id: record.id, properties: { firstName: null, lastName: null } },
    });
    expect(expectType(updateRecord, 'UpdateRecordSuccess').record).toMatchObject({
      displayName: 'grace@example.com',
      properties: { email: 'grace@example.com' },
    });
  });
});

describe('updateRecord', () => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await gearWorkspace();
  });

  it('merges properties into the record', async () => {
    const record = await createRecord(ws, { objectKey: GEAR, properties: { name: 'Wetsuit', price: 200 } });
    const { updateRecord } = await run(ws.client, RecordsUpdateDocument, {
      input: { id: record.id, properties: { price: 180, used: true } },
    });
    const updated = expectType(updateRecord, 'UpdateRecordSuccess').record;
    expect(updated).toEqual({
      ...record,
      properties: { name: 'Wetsuit', price: 180, used: true },
      updatedAt: expect.any(String),
    });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(record.updatedAt));
    expect(await getRecord(ws, record.id)).toEqual(updated);
  });

  it('removes a property given as null', async () => {
    const record = await createRecord(ws, { objectKey: GEAR, properties: { name: 'Wax', price: 3, used: false } });
    const { updateRecord } = await run(ws.client, RecordsUpdateDocument, {
      input: { id: record.id, properties: { price: null, used: true } },
    });
    expect(expectType(updateRecord, 'UpdateRecordSuccess').record.properties).toEqual({ name: 'Wax', used: true });
  });

  it('keeps everything when properties are omitted', async () => {
    const record = await createRecord(ws, { objectKey: GEAR, properties: { name: 'Fins', price: 60 } });
    const { updateRecord } = await run(ws.client, RecordsUpdateDocument, { input: { id: record.id } });
    expect(expectType(updateRecord, 'UpdateRecordSuccess').record.properties).toEqual({ name: 'Fins', price: 60 });
  });

  it.each([
    ['removing a required property', { name: null }, 'properties.name'],
    ['emptying a required property', { name: '' }, 'properties.name'],
    ['an unknown property', { colour: 'red' }, 'properties.colour'],
    ['removing an unknown property', { colour: null }, 'properties.colour'],
    ['a wrong type', { price: 'cheap' }, 'properties.price'],
  ])('refuses %s with a ValidationError, and changes nothing', async (_case, properties, field) => {
    const record = await createRecord(ws, { objectKey: GEAR, properties: { name: 'Board bag', price: 90 } });
    const { updateRecord } = await run(ws.client, RecordsUpdateDocument, {
      input: { id: record.id, properties: { price: 1, ...properties } },
    });
    expect(updateRecord).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field });
    expect(await getRecord(ws, record.id)).toEqual(record);
  });

  it('answers NotFoundError for an unknown, garbage or foreign record id', async () => {
    const other = await gearWorkspace();
    const foreign = await createRecord(other, { objectKey: GEAR, properties: { name: 'Foreign' } });
    for (const id of [globalId('Record', 999999), 'garbage', globalId('User', 1), foreign.id]) {
      const { updateRecord } = await run(ws.client, RecordsUpdateDocument, { input: { id, properties: { name: 'Mine' } } });
      expect(updateRecord).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    expect((await getRecord(other, foreign.id))?.properties).toEqual({ name: 'Foreign' });
  });
});

describe('owner', () => {
  let ws: TestWorkspace;
  let userId: string;
  beforeAll(async () => {
    ws = await gearWorkspace();
    const { createUser } = await run(ws.client, RecordsCreateUserDocument, {
      input: { name: 'Olive Owner', email: 'olive@example.com' },
    });
    userId = expectType(createUser, 'CreateUserSuccess').user.id;
  });

  it('is set from a User global id on create, changed and removed on update', async () => {
    const record = await createRecord(ws, { objectKey: 'contact', properties: { firstName: 'Owned' }, ownerId: userId });
    expect(record.owner).toEqual({ id: userId, email: 'olive@example.com' });
    const adminId = globalId('User', ws.userId);
    const changed = await run(ws.client, RecordsUpdateDocument, { input: { id: record.id, ownerId: adminId } });
    expect(expectType(changed.updateRecord, 'UpdateRecordSuccess').record.owner?.id).toBe(adminId);
    // Omitting ownerId keeps the owner.
    const kept = await run(ws.client, RecordsUpdateDocument, { input: { id: record.id, properties: { lastName: 'X' } } });
    expect(expectType(kept.updateRecord, 'UpdateRecordSuccess').record.owner?.id).toBe(adminId);
    const removed = await run(ws.client, RecordsUpdateDocument, { input: { id: record.id, ownerId: null } });
    expect(expectType(removed.updateRecord, 'UpdateRecordSuccess').record.owner).toBeNull();
  });

  it('answers NotFoundError for an unknown, garbage, non-user or foreign owner id, and changes nothing', async () => {
    const other = await t.workspace();
    const record = await createRecord(ws, { objectKey: 'contact', properties: { firstName: 'Nobody' } });
    const before = await totalCount(ws, 'contact');
    for (const ownerId of [globalId('User', 999999), 'garbage', record.id, globalId('User', other.userId)]) {
      const created = await run(ws.client, RecordsCreateDocument, {
        input: { objectKey: 'contact', properties: { firstName: 'X' }, ownerId },
      });
      expect(created.createRecord).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      const updated = await run(ws.client, RecordsUpdateDocument, { input: { id: record.id, ownerId } });
      expect(updated.updateRecord).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    expect(await totalCount(ws, 'contact')).toBe(before);
    expect(await getRecord(ws, record.id)).toEqual(record);
  });
});

describe('deleteRecord', () => {
  it('returns deletedId and removes every association on both sides', async () => {
    const ws = await gearWorkspace();
    const [a, b, c] = await Promise.all(
      ['A', 'B', 'C'].map((firstName) => createRecord(ws, { objectKey: 'contact', properties: { firstName } })),
    );
    const board = await createRecord(ws, { objectKey: GEAR, properties: { name: 'Board' } });
    const labels = [
      { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR' as const, firstLabel: 'Manager', secondLabel: 'Employee', key: 'manager' },
      { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE' as const, firstLabel: 'Friend', key: 'friend' },
      { firstObjectKey: 'contact', secondObjectKey: GEAR, type: 'PAIR' as const, firstLabel: 'Owner', secondLabel: 'Gear', key: 'owner' },
    ];
    for (const input of labels) {
      expectType((await run(ws.client, RecordsCreateLabelDocument, { input })).createAssociationLabel, 'CreateAssociationLabelSuccess');
    }
    const links = [
      { firstRecordId: a!.id, secondRecordId: b!.id, labelKeys: ['manager', 'friend'] },
      { firstRecordId: c!.id, secondRecordId: a!.id, labelKeys: ['manager'] },
      { firstRecordId: a!.id, secondRecordId: board.id, labelKeys: ['owner'] },
      { firstRecordId: b!.id, secondRecordId: c!.id, labelKeys: ['friend'] },
    ];
    for (const input of links) expectType((await run(ws.client, RecordsLinkDocument, { input })).linkRecords, 'LinkRecordsSuccess');

    const { deleteRecord } = await run(ws.client, RecordsDeleteDocument, { input: { id: a!.id } });
    expect(deleteRecord).toEqual({ __typename: 'DeleteRecordSuccess', deletedId: a!.id, removedAssociations: 4 });
    expect(await getRecord(ws, a!.id)).toBeNull();
    const after = async (id: string) => (await run(ws.client, RecordsGetWithAssociationsDocument, { id })).record!.associations;
    expect(await after(b!.id)).toEqual({ totalCount: 1, edges: [{ relatedRecord: { id: c!.id } }] });
    expect(await after(c!.id)).toEqual({ totalCount: 1, edges: [{ relatedRecord: { id: b!.id } }] });
    expect(await after(board.id)).toEqual({ totalCount: 0, edges: [] });

    const again = await run(ws.client, RecordsDeleteDocument, { input: { id: a!.id } });
    expect(again.deleteRecord).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  it('returns removedAssociations 0 for an unlinked record', async () => {
    const ws = await gearWorkspace();
    const record = await createRecord(ws, { objectKey: GEAR, properties: { name: 'Lonely' } });
    const { deleteRecord } = await run(ws.client, RecordsDeleteDocument, { input: { id: record.id } });
    expect(deleteRecord).toEqual({ __typename: 'DeleteRecordSuccess', deletedId: record.id, removedAssociations: 0 });
    expect(await totalCount(ws, GEAR)).toBe(0);
  });

  it('answers NotFoundError for a record of another workspace, and deletes nothing', async () => {
    const a = await gearWorkspace();
    const b = await gearWorkspace();
    const foreign = await createRecord(b, { objectKey: GEAR, properties: { name: 'Theirs' } });
    for (const id of [foreign.id, 'garbage', globalId('Record', 999999)]) {
      const { deleteRecord } = await run(a.client, RecordsDeleteDocument, { input: { id } });
      expect(deleteRecord).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    expect(await getRecord(b, foreign.id)).toEqual(foreign);
  });
});

describe('record(id)', () => {
  it('returns null for unknown, garbage, other-type and foreign ids', async () => {
    const a = await t.workspace();
    const b = await t.workspace();
    const mine = await createRecord(a, { objectKey: 'contact', properties: { firstName: 'Mine' } });
    const theirs = await createRecord(b, { objectKey: 'contact', properties: { firstName: 'Theirs' } });
    expect((await getRecord(a, mine.id))?.displayName).toBe('Mine');
    for (const id of [
      globalId('Record', 999999),
      globalId('Record', 0),
      globalId('Record', -1),
      globalId('Record', 'abc'),
      globalId('User', a.userId),
      'garbage',
      '',
      '!!!',
      theirs.id,
    ]) {
      const response = await a.gql('query ($id: ID!) { record(id: $id) { id } }', { id });
      expect(response).toMatchObject({ status: 200, data: { record: null } });
      expect(response.errors).toBeUndefined();
    }
  });
});

describe('records(objectKey) pagination', () => {
  let ws: TestWorkspace;
  const names: string[] = [];
  beforeAll(async () => {
    ws = await t.workspace();
    for (let i = 1; i <= 25; i++) {
      const name = `Person ${String(i).padStart(2, '0')}`;
      names.push(name);
      await createRecord(ws, { objectKey: 'contact', properties: { firstName: name } });
    }
  });

  it('returns the first 20 by default, in creation order, with pageInfo and totalCount', async () => {
    const { records } = await run(ws.client, RecordsListDocument, { objectKey: 'contact' });
    expect(records.totalCount).toBe(25);
    expect(records.edges.map((e) => e.node.displayName)).toEqual(names.slice(0, 20));
    expect(new Set(records.edges.map((e) => e.cursor)).size).toBe(20);
    expect(records.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: records.edges[0]!.cursor,
      endCursor: records.edges[19]!.cursor,
    });
  });

  it('walks every page with first/after without gaps or repeats', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { records }: RecordsListQuery = await run(ws.client, RecordsListDocument, { objectKey: 'contact', first: 7, after });
      pages++;
      expect(records.totalCount).toBe(25);
      expect(records.pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...records.edges.map((e) => e.node.displayName));
      expect(records.pageInfo.endCursor).toBe(records.edges.at(-1)?.cursor ?? null);
      if (!records.pageInfo.hasNextPage) break;
      after = records.pageInfo.endCursor!;
    }
    expect(pages).toBe(4);
    expect(seen).toEqual(names);
  });

  it('answers an empty last page after the final cursor', async () => {
    const { records: all } = await run(ws.client, RecordsListDocument, { objectKey: 'contact', first: 100 });
    expect(all.edges).toHaveLength(25);
    expect(all.pageInfo.hasNextPage).toBe(false);
    const { records } = await run(ws.client, RecordsListDocument, { objectKey: 'contact', after: all.pageInfo.endCursor });
    expect(records).toEqual({
      totalCount: 25,
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null },
    });
  });

  it('keeps working after the cursor record is deleted', async () => {
    const other = await t.workspace();
    const made = [];
    for (const firstName of ['P', 'Q', 'R']) made.push(await createRecord(other, { objectKey: 'contact', properties: { firstName } }));
    const { records: page1 } = await run(other.client, RecordsListDocument, { objectKey: 'contact', first: 1 });
    expectType((await run(other.client, RecordsDeleteDocument, { input: { id: made[0]!.id } })).deleteRecord, 'DeleteRecordSuccess');
    const { records: page2 } = await run(other.client, RecordsListDocument, {
      objectKey: 'contact',
      first: 1,
      after: page1.pageInfo.endCursor,
    });
    expect(page2.edges.map((e) => e.node.displayName)).toEqual(['Q']);
    expect(page2.totalCount).toBe(2);
  });

  it.each([0, 101, -1])('rejects first: %i with a VALIDATION error and nothing else', async (first) => {
    const response = await ws.gql('query ($first: Int) { records(objectKey: "contact", first: $first) { totalCount } }', { first });
    expect(response.data ?? null).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.extensions?.code).toBe('VALIDATION');
  });

  it.each([
    ['garbage', 'not-a-cursor'],
    ['a global id', globalId('Record', 1)],
    ['a cursor-looking string', Buffer.from('cursor:1:abc').toString('base64url')],
  ])('rejects %s as after with a VALIDATION error', async (_case, after) => {
    const response = await ws.gql('query ($after: String) { records(objectKey: "contact", after: $after) { totalCount } }', { after });
    expect(response.data ?? null).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.extensions?.code).toBe('VALIDATION');
  });

  it("rejects another workspace's cursor like a garbage one", async () => {
    const other = await t.workspace();
    await createRecord(other, { objectKey: 'contact', properties: { firstName: 'Other' } });
    const { records } = await run(other.client, RecordsListDocument, { objectKey: 'contact' });
    const response = await ws.gql('query ($after: String) { records(objectKey: "contact", after: $after) { totalCount } }', {
      after: records.pageInfo.endCursor,
    });
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  });

  it('answers an empty connection for an unknown object key', async () => {
    const { records } = await run(ws.client, RecordsListDocument, { objectKey: 'custom_objects.nothing' });
    expect(records).toEqual({
      totalCount: 0,
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
    const bad = await ws.gql('{ records(objectKey: "custom_objects.nothing", first: 0) { totalCount } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  });

  it('Object.records gives the same connection as records(objectKey)', async () => {
    for (const vars of [{}, { first: 5 }, { first: 3, filter: { search: 'person 1' } }]) {
      const { records } = await run(ws.client, RecordsListDocument, { objectKey: 'contact', ...vars });
      const { object } = await run(ws.client, RecordsOfObjectDocument, { key: 'contact', ...vars });
      expect(object?.records).toEqual(records);
      if (records.pageInfo.endCursor) {
        const next = { ...vars, after: records.pageInfo.endCursor };
        const { records: r2 } = await run(ws.client, RecordsListDocument, { objectKey: 'contact', ...next });
        const { object: o2 } = await run(ws.client, RecordsOfObjectDocument, { key: 'contact', ...next });
        expect(o2?.records).toEqual(r2);
      }
    }
    const bad = await ws.gql('{ object(key: "contact") { records(first: 101) { totalCount } } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  });
});

describe('records filter: search', () => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await gearWorkspace();
    const contacts = [
      { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@analytical.org', phone: '+44 20 7946 0001' },
      { firstName: 'Charles', lastName: 'Babbage', email: 'charles@engine.co.uk', phone: '+44 20 7946 0002' },
      { email: 'only.email@Example.com' },
      { firstName: 'Élodie', lastName: 'Durand' },
      { firstName: '100%', lastName: 'Percent' },
      { firstName: 'under_score' },
    ];
    for (const properties of contacts) await createRecord(ws, { objectKey: 'contact', properties });
    for (const name of ['Blue Fish', 'Red Gun', 'Green Fishy']) await createRecord(ws, { objectKey: GEAR, properties: { name } });
  });

  const search = async (objectKey: string, term: string) => {
    const { records } = await run(ws.client, RecordsListDocument, { objectKey, filter: { search: term } });
    expect(records.totalCount).toBe(records.edges.length);
    return records.edges.map((e) => e.node.displayName);
  };

  it.each([
    ['lovelace', ['Ada Lovelace']],
    ['LOVELACE', ['Ada Lovelace']],
    ['ada lovelace', ['Ada Lovelace']],
    ['ANALYTICAL.ORG', ['Ada Lovelace']],
    ['@engine', ['Charles Babbage']],
    ['7946 0002', ['Charles Babbage']],
    ['+44 20', ['Ada Lovelace', 'Charles Babbage']],
    ['example.com', ['only.email@Example.com']],
    ['ÉLODIE', ['Élodie Durand']],
    ['  babbage  ', ['Charles Babbage']],
    ['%', ['100% Percent']],
    ['_', ['under_score']],
    ['nobody', []],
  ])('search %j on contacts finds %j', async (term, expected) => {
    expect(await search('contact', term)).toEqual(expected);
  });

  it('an empty search returns everything', async () => {
    expect(await search('contact', '')).toHaveLength(6);
  });

  it('searches custom records by their primary property', async () => {
    expect(await search(GEAR, 'fish')).toEqual(['Blue Fish', 'Green Fishy']);
    expect(await search(GEAR, 'GUN')).toEqual(['Red Gun']);
  });

  it('paginates the filtered results with a filtered totalCount', async () => {
    const { records } = await run(ws.client, RecordsListDocument, { objectKey: 'contact', first: 1, filter: { search: '+44' } });
    expect(records.totalCount).toBe(2);
    expect(records.edges.map((e) => e.node.displayName)).toEqual(['Ada Lovelace']);
    expect(records.pageInfo.hasNextPage).toBe(true);
    const { records: next } = await run(ws.client, RecordsListDocument, {
      objectKey: 'contact',
      first: 1,
      after: records.pageInfo.endCursor,
      filter: { search: '+44' },
    });
    expect(next.edges.map((e) => e.node.displayName)).toEqual(['Charles Babbage']);
    expect(next.pageInfo.hasNextPage).toBe(false);
  });

  it('finds a record by its new name after an update', async () => {
    const record = await createRecord(ws, { objectKey: GEAR, properties: { name: 'Old Name' } });
    await run(ws.client, RecordsUpdateDocument, { input: { id: record.id, properties: { name: 'Shiny Quiver' } } });
    expect(await search(GEAR, 'old name')).toEqual([]);
    expect(await search(GEAR, 'quiver')).toEqual(['Shiny Quiver']);
  });
});

describe('variables inside a properties object', () => {
  it('are read like literal values (createRecord and updateRecord)', async () => {
    const ws = await t.workspace();
    const created = await ws.gql(
      `mutation ($name: String!, $email: String!) {
        createRecord(input: { objectKey: "contact", properties: { firstName: $name, email: $email } }) {
          ... on CreateRecordSuccess { record { id displayName properties } }
        }
      }`,
      { name: 'Vera', email: 'vera@example.com' },
    );
    expect(created.data.createRecord.record).toMatchObject({
      displayName: 'Vera',
      properties: { firstName: 'Vera', email: 'vera@example.com' },
    });
    const updated = await ws.gql(
      `mutation ($id: ID!, $last: String!) {
        updateRecord(input: { id: $id, properties: { lastName: $last } }) {
          ... on UpdateRecordSuccess { record { displayName } }
        }
      }`,
      { id: created.data.createRecord.record.id, last: 'Rubin' },
    );
    expect(updated.data.updateRecord.record.displayName).toBe('Vera Rubin');
  });
});
