/**
 * An object's unique field (SPEC §5.3): declared at creation or made unique later when the values
 * already are, enforced by the database on both providers (also under concurrent writes), and a
 * lookup by it with the usual visibility. Emails are compared without case.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrate, sqlitePath } from '../src/db/migrate.js';
import { prisma } from '../src/db/index.js';
import {
  UniqueCreateObjectDocument,
  UniqueCreateRecordDocument,
  UniqueLookupDocument,
  UniqueUpdateObjectDocument,
  UniqueUpdateRecordDocument,
  type UniqueCreateObjectMutationVariables,
  type UniqueUpdateObjectMutationVariables,
} from './generated/graphql.js';
import { createTestDatabase, DB, expectType, run, useTestApp, type TestWorkspace } from './helpers.js';
import { burst, tally, typedAll } from './support/concurrency.js';
import { createUser, setAccess } from './support/permissions.js';

const t = useTestApp();

const SKUS = 'custom_objects.parts';

const createObject = async (ws: TestWorkspace, input: UniqueCreateObjectMutationVariables['input']) =>
  (await run(ws.client, UniqueCreateObjectDocument, { input })).createObject;
const updateObject = async (ws: TestWorkspace, input: UniqueUpdateObjectMutationVariables['input']) =>
  (await run(ws.client, UniqueUpdateObjectDocument, { input })).updateObject;
const createRecord = async (ws: TestWorkspace, objectKey: string, properties: Record<string, unknown>) =>
  (await run(ws.client, UniqueCreateRecordDocument, { input: { objectKey, properties } })).createRecord;
const updateRecord = async (ws: TestWorkspace, id: string, properties: Record<string, unknown>) =>
  (await run(ws.client, UniqueUpdateRecordDocument, { input: { id, properties } })).updateRecord;
const lookup = async (ws: TestWorkspace, objectKey: string, value: string) =>
  (await run(ws.client, UniqueLookupDocument, { objectKey, value })).recordByUniqueValue;

async function created(ws: TestWorkspace, objectKey: string, properties: Record<string, unknown>): Promise<string> {
  return expectType(await createRecord(ws, objectKey, properties), 'CreateRecordSuccess').record.id;
}

/** `custom_objects.parts`: records named by a unique TEXT `sku`, with a NUMBER `code` and a BOOLEAN. */
async function partsWorkspace(uniqueKey: 'sku' | 'code' = 'sku'): Promise<TestWorkspace> {
  const ws = await t.workspace();
  const result = await createObject(ws, {
    key: 'parts',
    singularName: 'Part',
    pluralName: 'Parts',
    primaryProperty: 'sku',
    fields: [
      { key: 'sku', name: 'SKU', type: 'TEXT', required: true, unique: uniqueKey === 'sku' },
      { key: 'code', name: 'Code', type: 'NUMBER', unique: uniqueKey === 'code' },
      { key: 'spare', name: 'Spare', type: 'BOOLEAN' },
    ],
  });
  expectType(result, 'CreateObjectSuccess');
  return ws;
}

/** Makes the contact's `email` its unique field. */
async function uniqueEmails(ws: TestWorkspace) {
  const contact = (await ws.gql('{ object(key: "contact") { id } }')).data.object.id as string;
  return updateObject(ws, { id: contact, uniqueField: 'email' });
}

describe('declaring a unique field', () => {
  it('createObject takes one unique field, shown on Field.unique', async () => {
    const ws = await t.workspace();
    const result = expectType(
      await createObject(ws, {
        key: 'boards',
        singularName: 'Board',
        pluralName: 'Boards',
        primaryProperty: 'name',
        fields: [
          { key: 'name', name: 'Name', type: 'TEXT', required: true },
          { key: 'serial', name: 'Serial', type: 'TEXT', unique: true },
        ],
      }),
      'CreateObjectSuccess',
    );
    expect(result.object.fields).toEqual([
      { key: 'name', type: 'TEXT', unique: false },
      { key: 'serial', type: 'TEXT', unique: true },
    ]);
  });

  it('refuses a second unique field, a BOOLEAN one, and the key "id" (VALIDATION, naming the field)', async () => {
    const ws = await t.workspace();
    const base = { key: 'things', singularName: 'Thing', pluralName: 'Things', primaryProperty: 'a' };
    expect(
      await createObject(ws, {
        ...base,
        fields: [
          { key: 'a', name: 'A', type: 'TEXT', unique: true },
          { key: 'b', name: 'B', type: 'EMAIL', unique: true },
        ],
      }),
    ).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION',
      message: 'An object has at most one unique field, and "a" is unique already.',
      field: 'fields.1.unique',
      index: 1,
    });
    expect(
      await createObject(ws, { ...base, fields: [{ key: 'a', name: 'A', type: 'BOOLEAN', unique: true }] }),
    ).toMatchObject({ __typename: 'ValidationError', field: 'fields.0.unique' });
    expect(
      await createObject(ws, { ...base, fields: [{ key: 'a', name: 'A', type: 'TEXT' }, { key: 'id', name: 'Id', type: 'TEXT' }] }),
    ).toMatchObject({ __typename: 'ValidationError', field: 'fields.1.key' });

    const parts = await partsWorkspace();
    const object = (await parts.gql(`{ object(key: "${SKUS}") { id } }`)).data.object.id as string;
    expect(await updateObject(parts, { id: object, uniqueField: 'code' })).toMatchObject({
      __typename: 'ValidationError',
      field: 'uniqueField',
      message: 'An object has at most one unique field, and "sku" is unique already.',
    });
    expect(await updateObject(parts, { id: object, addFields: [{ key: 'ean', name: 'EAN', type: 'TEXT', unique: true }] })).toMatchObject({
      __typename: 'ValidationError',
      field: 'addFields.0.unique',
    });
    expect(await updateObject(parts, { id: object, uniqueField: 'nope' })).toMatchObject({ __typename: 'ValidationError', field: 'uniqueField' });
    // Naming the unique field again changes nothing.
    expectType(await updateObject(parts, { id: object, uniqueField: 'sku' }), 'UpdateObjectSuccess');
  });

  it('a field added later may be unique', async () => {
    const ws = await t.workspace();
    expectType(
      await createObject(ws, { key: 'kits', singularName: 'Kit', pluralName: 'Kits', primaryProperty: 'name', fields: [{ key: 'name', name: 'Name', type: 'TEXT' }] }),
      'CreateObjectSuccess',
    );
    await created(ws, 'custom_objects.kits', { name: 'Old' });
    const object = (await ws.gql('{ object(key: "custom_objects.kits") { id } }')).data.object.id as string;
    const result = expectType(
      await updateObject(ws, { id: object, addFields: [{ key: 'code', name: 'Code', type: 'TEXT', unique: true }] }),
      'UpdateObjectSuccess',
    );
    expect(result.object.fields).toEqual([
      { key: 'name', unique: false },
      { key: 'code', unique: true },
    ]);
    await created(ws, 'custom_objects.kits', { name: 'New', code: 'K1' });
    expect(await createRecord(ws, 'custom_objects.kits', { name: 'Newer', code: 'K1' })).toMatchObject({ __typename: 'ConflictError' });
  });
});

describe('making an existing field unique', () => {
  it('is refused while records share values (emails without case), with the counts, and changes nothing', async () => {
    const ws = await t.workspace();
    for (const email of ['ann@example.com', 'ANN@example.com', 'Ann@Example.com', 'bob@example.com', 'bob@example.com', 'cy@example.com']) {
      await created(ws, 'contact', { email });
    }
    await created(ws, 'contact', { firstName: 'No email' });
    await created(ws, 'contact', { firstName: 'No email either' });
    expect(await uniqueEmails(ws)).toEqual({
      __typename: 'DuplicateValuesError',
      code: 'CONFLICT',
      message: '"email" cannot be unique: 5 records share 2 value(s). Change or remove the duplicates first.',
      field: 'email',
      duplicateValues: 2,
      duplicateRecords: 5,
    });
    const fields = (await ws.gql('{ object(key: "contact") { fields { key unique } } }')).data.object.fields;
    expect(fields.every((field: { unique: boolean }) => !field.unique)).toBe(true);
    expect(await lookup(ws, 'contact', 'cy@example.com')).toBeNull();
  });

  it('succeeds once the values are unique: existing records are found by them', async () => {
    const ws = await t.workspace();
    const ann = await created(ws, 'contact', { firstName: 'Ann', email: 'Ann@Example.com' });
    const bob = await created(ws, 'contact', { firstName: 'Bob', email: 'bob@example.com' });
    await created(ws, 'contact', { firstName: 'Nobody' });
    const result = expectType(await uniqueEmails(ws), 'UpdateObjectSuccess');
    expect(result.object.fields.find((field) => field.key === 'email')).toEqual({ key: 'email', unique: true });

    expect(await lookup(ws, 'contact', 'ann@example.com')).toEqual({
      id: ann,
      displayName: 'Ann',
      properties: { firstName: 'Ann', email: 'Ann@Example.com' }, // the property keeps its case
    });
    expect((await lookup(ws, 'contact', 'BOB@EXAMPLE.COM'))?.id).toBe(bob);
    expect(await createRecord(ws, 'contact', { email: 'ANN@example.com' })).toEqual({
      __typename: 'ConflictError',
      code: 'CONFLICT',
      message: 'Another contact record already has this email: "email" is unique.',
    });
  });
});

describe('records of an object with a unique field', () => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await partsWorkspace();
  });

  it('refuses a taken value on create and update (CONFLICT); TEXT is case-sensitive', async () => {
    const first = await created(ws, SKUS, { sku: 'AB-1' });
    const second = await created(ws, SKUS, { sku: 'ab-1' });
    expect(await createRecord(ws, SKUS, { sku: 'AB-1' })).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
    expect(await updateRecord(ws, second, { sku: 'AB-1' })).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
    // Writing a record's own value again, or other properties, is no clash.
    expectType(await updateRecord(ws, first, { sku: 'AB-1', code: 7 }), 'UpdateRecordSuccess');
    expect((await lookup(ws, SKUS, 'ab-1'))?.id).toBe(second);
  });

  it('frees a value when a record changes it or is deleted', async () => {
    const record = await created(ws, SKUS, { sku: 'MOVE-1' });
    expectType(await updateRecord(ws, record, { sku: 'MOVE-2' }), 'UpdateRecordSuccess');
    const taker = await created(ws, SKUS, { sku: 'MOVE-1' });
    expect((await lookup(ws, SKUS, 'MOVE-1'))?.id).toBe(taker);
    expect((await lookup(ws, SKUS, 'MOVE-2'))?.id).toBe(record);
    await ws.gql('mutation ($id: ID!) { deleteRecord(input: { id: $id }) { __typename } }', { id: record });
    expect(await lookup(ws, SKUS, 'MOVE-2')).toBeNull();
    await created(ws, SKUS, { sku: 'MOVE-2' });
  });

  it('refuses a unique value over 255 characters (VALIDATION)', async () => {
    expect(await createRecord(ws, SKUS, { sku: 'x'.repeat(256) })).toMatchObject({ __typename: 'ValidationError', field: 'properties.sku' });
    await created(ws, SKUS, { sku: 'x'.repeat(255) });
  });

  it('records without a value never clash; a NUMBER is looked up by value', async () => {
    const numbers = await partsWorkspace('code');
    await created(numbers, SKUS, { sku: 'one' });
    await created(numbers, SKUS, { sku: 'two' });
    const coded = await created(numbers, SKUS, { sku: 'three', code: 1.5 });
    expect(await createRecord(numbers, SKUS, { sku: 'four', code: 1.5 })).toMatchObject({ __typename: 'ConflictError' });
    expect((await lookup(numbers, SKUS, '1.50'))?.id).toBe(coded);
    expect(await lookup(numbers, SKUS, 'one')).toBeNull();
  });

  it('lookups answer null for an unknown object, an object without a unique field and an unknown value', async () => {
    expect(await lookup(ws, 'custom_objects.nothing', 'AB-1')).toBeNull();
    expect(await lookup(ws, 'contact', 'AB-1')).toBeNull();
    expect(await lookup(ws, SKUS, 'no such sku')).toBeNull();
    expect(await lookup(ws, SKUS, '')).toBeNull();
  });

  it('values are unique per workspace: another workspace has its own, and cannot look ours up', async () => {
    const other = await partsWorkspace();
    const theirs = await created(other, SKUS, { sku: 'AB-1' });
    expect((await lookup(other, SKUS, 'AB-1'))?.id).toBe(theirs);
    expect((await lookup(ws, SKUS, 'AB-1'))?.id).not.toBe(theirs);
  });

  it('lookups follow record visibility', async () => {
    const owned = await created(ws, SKUS, { sku: 'SEEN-BY-ADMIN' });
    const user = await createUser(t, ws.gql);
    const asUser = (value: string) =>
      user.gql('query ($k: String!, $v: String!) { recordByUniqueValue(objectKey: $k, value: $v) { id } }', { k: SKUS, v: value });
    expect((await asUser('SEEN-BY-ADMIN')).data.recordByUniqueValue).toEqual({ id: owned });
    await setAccess(ws.gql, user.id, SKUS, 'ASSIGNED');
    expect((await asUser('SEEN-BY-ADMIN')).data.recordByUniqueValue).toBeNull();
    await setAccess(ws.gql, user.id, SKUS, 'NONE');
    expect((await asUser('SEEN-BY-ADMIN')).data.recordByUniqueValue).toBeNull();
  });
});

describe('concurrent writes (the database decides)', () => {
  const CREATE = `mutation ($input: CreateRecordInput!) {
    createRecord(input: $input) { __typename ... on CreateRecordSuccess { record { id } } ... on Error { code message } }
  }`;
  const UPDATE = `mutation ($input: UpdateRecordInput!) {
    updateRecord(input: $input) { __typename ... on UpdateRecordSuccess { record { id } } ... on Error { code message } }
  }`;

  it('20 creates of one value: exactly one succeeds, the others answer ConflictError, never an internal error', async () => {
    const ws = await t.workspace();
    expectType(await uniqueEmails(ws), 'UpdateObjectSuccess');
    const results = typedAll(
      await burst(20, (i) => ws.gql(CREATE, { input: { objectKey: 'contact', properties: { firstName: `C${i}`, email: i % 2 ? 'same@example.com' : 'SAME@example.com' } } })),
      'createRecord',
    );
    expect(tally(results)).toEqual({ CreateRecordSuccess: 1, ConflictError: 19 });
    expect(await prisma.recordModel.count({ where: { workspaceId: ws.workspaceId, uniqueValue: 'same@example.com' } })).toBe(1);
  });

  it('20 records updated to one value at once: exactly one takes it', async () => {
    const ws = await partsWorkspace();
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => created(ws, SKUS, { sku: `start-${i}` })));
    const results = typedAll(await burst(20, (i) => ws.gql(UPDATE, { input: { id: ids[i], properties: { sku: 'wanted' } } })), 'updateRecord');
    expect(tally(results)).toEqual({ UpdateRecordSuccess: 1, ConflictError: 19 });
    const winner = results.find((result) => result.__typename === 'UpdateRecordSuccess')!.record as { id: string };
    expect((await lookup(ws, SKUS, 'wanted'))?.id).toBe(winner.id);
  });

  it('making a field unique while duplicates are being written: the field and the stored values always agree', async () => {
    const ws = await t.workspace();
    const contact = (await ws.gql('{ object(key: "contact") { id } }')).data.object.id as string;
    const [unique, ...creates] = await Promise.all([
      ws.gql(`mutation ($input: UpdateObjectInput!) { updateObject(input: $input) { __typename } }`, { input: { id: contact, uniqueField: 'email' } }),
      ...Array.from({ length: 10 }, (_, i) => ws.gql(CREATE, { input: { objectKey: 'contact', properties: { firstName: `D${i}`, email: 'dup@example.com' } } })),
    ]);
    const outcome = typedAll([unique!], 'updateObject')[0]!.__typename;
    const made = tally(typedAll(creates, 'createRecord'));
    const stored = await prisma.recordModel.findMany({ where: { workspaceId: ws.workspaceId }, select: { id: true, properties: true, uniqueValue: true } });
    if (outcome === 'UpdateObjectSuccess') {
      // At most one create committed before the change (two would be duplicates), and then no
      // other could: exactly one has the value.
      expect(made).toEqual({ CreateRecordSuccess: 1, ConflictError: 9 });
      for (const record of stored) expect(record.uniqueValue).toBe(JSON.parse(record.properties).email?.toLowerCase() ?? null);
    } else {
      expect(outcome).toBe('DuplicateValuesError');
      expect(made).toEqual({ CreateRecordSuccess: 10 });
      expect(stored.every((record) => record.uniqueValue === null)).toBe(true);
    }
  });
});

describe('migration 0007_unique_field', () => {
  /** Runs statements on the database at `url`. */
  async function exec(url: string, statements: string[]) {
    if (DB === 'sqlite') {
      const db = new Database(sqlitePath(url));
      for (const statement of statements) db.exec(statement);
      db.close();
      return;
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const statement of statements) await client.query(statement);
    await client.end();
  }

  it('applies to a database with records, duplicates included: no record has a unique value yet', async () => {
    const database = await createTestDatabase();
    try {
      await migrate(database.url);
      // Back to the schema before 0007, as an existing database has it …
      await exec(database.url, [
        'DROP INDEX "Record_objectId_uniqueValue_key"',
        'ALTER TABLE "Record" DROP COLUMN "uniqueValue"',
        'ALTER TABLE "Field" DROP COLUMN "unique"',
        `DELETE FROM "_prisma_migrations" WHERE "migration_name" = '0007_unique_field'`,
        // … with records that share emails.
        `INSERT INTO "Workspace" ("id", "name") VALUES (1, 'Existing')`,
        `INSERT INTO "Object" ("id", "workspaceId", "key", "singularName", "pluralName", "standard", "primaryProperty", "updatedAt")
           VALUES (1, 1, 'contact', 'Contact', 'Contacts', true, 'firstName', CURRENT_TIMESTAMP)`,
        `INSERT INTO "Field" ("objectId", "key", "name", "type", "required", "position") VALUES (1, 'email', 'Email', 'EMAIL', false, 0)`,
        ...[1, 2, 3].map(
          (i) => `INSERT INTO "Record" ("workspaceId", "objectId", "properties", "displayName", "searchText", "updatedAt")
             VALUES (1, 1, '{"email":"same@example.com"}', 'same@example.com', 'same@example.com', CURRENT_TIMESTAMP)`,
        ),
      ]);
      expect((await migrate(database.url)).applied).toEqual(['0007_unique_field']);
      const check = DB === 'sqlite' ? new Database(sqlitePath(database.url), { readonly: true }) : null;
      const query = async (sql: string) => {
        if (check) return check.prepare(sql).all();
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          return (await client.query(sql)).rows;
        } finally {
          await client.end();
        }
      };
      expect(await query('SELECT "uniqueValue" FROM "Record"')).toEqual([{ uniqueValue: null }, { uniqueValue: null }, { uniqueValue: null }]);
      expect((await query('SELECT "unique" FROM "Field"')).map((row: any) => Boolean(row.unique))).toEqual([false]);
      check?.close();
    } finally {
      await database.drop();
    }
  });
});
