import { describe, expect, it } from 'vitest';
import {
  ObjectsCreateDocument,
  ObjectsCreateKeyDocument,
  ObjectsCreateLabelDocument,
  ObjectsCreateRecordDocument,
  ObjectsCreateUserDocument,
  ObjectsDeleteDocument,
  ObjectsGetDocument,
  ObjectsListDocument,
  ObjectsUpdateDocument,
  type CreateObjectInput,
} from './generated/graphql.js';
import { expectType, run, useTestApp, type TestWorkspace } from './helpers.js';

const t = useTestApp();

const CONTACT_FIELDS = [
  { key: 'firstName', name: 'First name', type: 'TEXT', required: false },
  { key: 'lastName', name: 'Last name', type: 'TEXT', required: false },
  { key: 'email', name: 'Email', type: 'EMAIL', required: false },
  { key: 'phone', name: 'Phone', type: 'PHONE', required: false },
];

const surfboards = (overrides: Partial<CreateObjectInput> = {}): CreateObjectInput => ({
  key: 'surfboards',
  singularName: 'Surfboard',
  pluralName: 'Surfboards',
  primaryProperty: 'model',
  fields: [
    { key: 'model', name: 'Model', type: 'TEXT', required: true },
    { key: 'length', name: 'Length', type: 'NUMBER' },
  ],
  ...overrides,
});

async function createObject(ws: TestWorkspace, input: CreateObjectInput) {
  const { createObject } = await run(ws.client, ObjectsCreateDocument, { input });
  return expectType(createObject, 'CreateObjectSuccess').object;
}

async function objectList(ws: TestWorkspace) {
  return (await run(ws.client, ObjectsListDocument, {})).objects;
}

/** A USER of the workspace with an API key of its own. */
async function userKey(ws: TestWorkspace, email = 'user@example.com') {
  const { createUser } = await run(ws.client, ObjectsCreateUserDocument, { input: { name: 'Uma', email, role: 'USER' } });
  const user = expectType(createUser, 'CreateUserSuccess').user;
  const { createApiKey } = await run(ws.client, ObjectsCreateKeyDocument, { input: { userId: user.id, name: 'Uma key' } });
  return t.clientFor(expectType(createApiKey, 'CreateApiKeySuccess').apiKey);
}

describe('objects and object queries', () => {
  it('lists the standard contact object with its four fields', async () => {
    const ws = await t.workspace();
    const objects = await objectList(ws);
    expect(objects).toEqual([
      {
        id: expect.any(String),
        key: 'contact',
        singularName: 'Contact',
        pluralName: 'Contacts',
        standard: true,
        primaryProperty: expect.any(String),
        fields: CONTACT_FIELDS,
      },
    ]);
    const { object } = await run(ws.client, ObjectsGetDocument, { key: 'contact' });
    expect(object).toEqual(objects[0]);
  });

  it('answers null for an unknown object key', async () => {
    const ws = await t.workspace();
    expect((await run(ws.client, ObjectsGetDocument, { key: 'custom_objects.nope' })).object).toBeNull();
    expect((await run(ws.client, ObjectsGetDocument, { key: 'nope' })).object).toBeNull();
  });

  it("does not show another workspace's objects", async () => {
    const a = await t.workspace();
    const b = await t.workspace();
    await createObject(a, surfboards());
    expect((await objectList(b)).map((o) => o.key)).toEqual(['contact']);
    expect((await run(b.client, ObjectsGetDocument, { key: 'custom_objects.surfboards' })).object).toBeNull();
  });
});

describe('createObject', () => {
  it('normalises a bare snake name to custom_objects.<name> and stores the fields in order', async () => {
    const ws = await t.workspace();
    const object = await createObject(ws, surfboards());
    expect(object).toEqual({
      id: expect.any(String),
      key: 'custom_objects.surfboards',
      singularName: 'Surfboard',
      pluralName: 'Surfboards',
      standard: false,
      primaryProperty: 'model',
      fields: [
        { key: 'model', name: 'Model', type: 'TEXT', required: true },
        { key: 'length', name: 'Length', type: 'NUMBER', required: false },
      ],
    });
    const { object: fetched } = await run(ws.client, ObjectsGetDocument, { key: 'custom_objects.surfboards' });
    expect(fetched).toEqual(object);
    expect((await objectList(ws)).map((o) => o.key)).toEqual(['contact', 'custom_objects.surfboards']);
  });

  it('accepts a key that already has the custom_objects. prefix', async () => {
    const ws = await t.workspace();
    const object = await createObject(ws, surfboards({ key: 'custom_objects.surf_boards_2' }));
    expect(object.key).toBe('custom_objects.surf_boards_2');
  });

  it('accepts every field type', async () => {
    const ws = await t.workspace();
    const types = ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'EMAIL', 'PHONE', 'URL'] as const;
    const object = await createObject(ws, {
      key: 'everything',
      singularName: 'Thing',
      pluralName: 'Things',
      primaryProperty: 'f_text',
      fields: types.map((type) => ({ key: `f_${type.toLowerCase()}`, name: type, type })),
    });
    expect(object.fields.map((f) => f.type)).toEqual([...types]);
  });

  it.each([
    ['Surfboards'],
    ['surf-boards'],
    ['1boards'],
    [''],
    ['custom_objects.'],
    ['custom_objects.Surf'],
    ['contact'.padEnd(70, 'x')],
    ['other_prefix.surfboards'],
  ])('rejects the bad key %j with a ValidationError on key', async (key) => {
    const ws = await t.workspace();
    const before = await objectList(ws);
    const { createObject } = await run(ws.client, ObjectsCreateDocument, { input: surfboards({ key }) });
    expect(createObject).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field: 'key' });
    expect(await objectList(ws)).toEqual(before);
  });

  it('refuses a duplicate key with a ConflictError, with or without the prefix', async () => {
    const ws = await t.workspace();
    await createObject(ws, surfboards());
    const before = await objectList(ws);
    for (const key of ['surfboards', 'custom_objects.surfboards']) {
      const { createObject } = await run(ws.client, ObjectsCreateDocument, {
        input: surfboards({ key, singularName: 'Other', pluralName: 'Others' }),
      });
      expect(createObject).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
    }
    expect(await objectList(ws)).toEqual(before);
  });

  it('lets two workspaces use the same custom key', async () => {
    const a = await t.workspace();
    const b = await t.workspace();
    await createObject(a, surfboards());
    expect((await createObject(b, surfboards())).key).toBe('custom_objects.surfboards');
  });

  it('requires primaryProperty to be one of the fields', async () => {
    const ws = await t.workspace();
    const { createObject } = await run(ws.client, ObjectsCreateDocument, { input: surfboards({ primaryProperty: 'name' }) });
    expect(createObject).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field: 'primaryProperty' });
    expect((await objectList(ws)).map((o) => o.key)).toEqual(['contact']);
  });

  it('refuses duplicate field keys, naming the second one', async () => {
    const ws = await t.workspace();
    const { createObject } = await run(ws.client, ObjectsCreateDocument, {
      input: surfboards({
        fields: [
          { key: 'model', name: 'Model', type: 'TEXT' },
          { key: 'length', name: 'Length', type: 'NUMBER' },
          { key: 'model', name: 'Model again', type: 'NUMBER' },
        ],
      }),
    });
    expect(createObject).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field: 'fields.2.key', index: 2 });
    expect((await objectList(ws)).map((o) => o.key)).toEqual(['contact']);
  });

  it('refuses bad field keys and blank names', async () => {
    const ws = await t.workspace();
    const badKey = await run(ws.client, ObjectsCreateDocument, {
      input: surfboards({ fields: [{ key: 'model', name: 'Model', type: 'TEXT' }, { key: 'has space', name: 'X', type: 'TEXT' }] }),
    });
    expect(badKey.createObject).toMatchObject({ __typename: 'ValidationError', field: 'fields.1.key', index: 1 });
    const blankName = await run(ws.client, ObjectsCreateDocument, { input: surfboards({ singularName: '   ' }) });
    expect(blankName.createObject).toMatchObject({ __typename: 'ValidationError', field: 'singularName' });
    expect((await objectList(ws)).map((o) => o.key)).toEqual(['contact']);
  });

  it('answers ForbiddenError inside the union for a USER key, and creates nothing', async () => {
    const ws = await t.workspace();
    const user = await userKey(ws);
    const { createObject } = await run(user, ObjectsCreateDocument, { input: surfboards() });
    expect(createObject).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN', message: expect.any(String) });
    expect((await objectList(ws)).map((o) => o.key)).toEqual(['contact']);
  });
});

describe('updateObject', () => {
  it('renames an object and appends fields', async () => {
    const ws = await t.workspace();
    const created = await createObject(ws, surfboards());
    const { updateObject } = await run(ws.client, ObjectsUpdateDocument, {
      input: {
        id: created.id,
        singularName: 'Board',
        pluralName: 'Boards',
        addFields: [
          { key: 'shaper', name: 'Shaper', type: 'TEXT' },
          { key: 'website', name: 'Website', type: 'URL', required: true },
        ],
      },
    });
    const updated = expectType(updateObject, 'UpdateObjectSuccess').object;
    expect(updated).toEqual({
      ...created,
      singularName: 'Board',
      pluralName: 'Boards',
      fields: [
        ...created.fields,
        { key: 'shaper', name: 'Shaper', type: 'TEXT', required: false },
        { key: 'website', name: 'Website', type: 'URL', required: true },
      ],
    });
    expect((await run(ws.client, ObjectsGetDocument, { key: created.key })).object).toEqual(updated);
  });

  it('leaves names alone when they are omitted', async () => {
    const ws = await t.workspace();
    const created = await createObject(ws, surfboards());
    const { updateObject } = await run(ws.client, ObjectsUpdateDocument, { input: { id: created.id, pluralName: 'Boards' } });
    expect(expectType(updateObject, 'UpdateObjectSuccess').object).toEqual({ ...created, pluralName: 'Boards' });
  });

  it('adds optional fields to the standard contact object', async () => {
    const ws = await t.workspace();
    const contact = (await objectList(ws))[0]!;
    const { updateObject } = await run(ws.client, ObjectsUpdateDocument, {
      input: { id: contact.id, addFields: [{ key: 'birthday', name: 'Birthday', type: 'DATE' }] },
    });
    expect(expectType(updateObject, 'UpdateObjectSuccess').object.fields.map((f) => f.key)).toEqual([
      'firstName',
      'lastName',
      'email',
      'phone',
      'birthday',
    ]);
  });

  it('refuses a field key that already exists', async () => {
    const ws = await t.workspace();
    const created = await createObject(ws, surfboards());
    const { updateObject } = await run(ws.client, ObjectsUpdateDocument, {
      input: { id: created.id, singularName: 'Board', addFields: [{ key: 'length', name: 'Length 2', type: 'TEXT' }] },
    });
    expect(updateObject).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field: 'addFields.0.key' });
    expect((await run(ws.client, ObjectsGetDocument, { key: created.key })).object).toEqual(created);
  });

  it('refuses a required field on an object that has records, and changes nothing', async () => {
    const ws = await t.workspace();
    const created = await createObject(ws, surfboards());
    const { createRecord } = await run(ws.client, ObjectsCreateRecordDocument, {
      input: { objectKey: created.key, properties: { model: 'Fish' } },
    });
    expectType(createRecord, 'CreateRecordSuccess');
    const { updateObject } = await run(ws.client, ObjectsUpdateDocument, {
      input: { id: created.id, singularName: 'Board', addFields: [{ key: 'fins', name: 'Fins', type: 'NUMBER', required: true }] },
    });
    expect(updateObject).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field: 'addFields' });
    expect((await run(ws.client, ObjectsGetDocument, { key: created.key })).object).toEqual(created);
    // An optional field is still fine.
    const optional = await run(ws.client, ObjectsUpdateDocument, {
      input: { id: created.id, addFields: [{ key: 'fins', name: 'Fins', type: 'NUMBER' }] },
    });
    expect(expectType(optional.updateObject, 'UpdateObjectSuccess').object.fields).toHaveLength(3);
  });

  it('answers NotFoundError for an unknown id, a garbage id and an object of another workspace', async () => {
    const a = await t.workspace();
    const b = await t.workspace();
    const foreign = await createObject(b, surfboards());
    const unknown = Buffer.from('Object:999999').toString('base64');
    for (const id of [unknown, 'garbage', foreign.id]) {
      const { updateObject } = await run(a.client, ObjectsUpdateDocument, { input: { id, singularName: 'X' } });
      expect(updateObject).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    expect((await run(b.client, ObjectsGetDocument, { key: foreign.key })).object).toEqual(foreign);
  });

  it('answers ForbiddenError inside the union for a USER key, and changes nothing', async () => {
    const ws = await t.workspace();
    const created = await createObject(ws, surfboards());
    const user = await userKey(ws);
    const { updateObject } = await run(user, ObjectsUpdateDocument, {
      input: { id: created.id, singularName: 'Board', addFields: [{ key: 'x', name: 'X', type: 'TEXT' }] },
    });
    expect(updateObject).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN', message: expect.any(String) });
    expect((await run(ws.client, ObjectsGetDocument, { key: created.key })).object).toEqual(created);
  });
});

describe('deleteObject', () => {
  it('deletes an unused custom object and returns its id', async () => {
    const ws = await t.workspace();
    const created = await createObject(ws, surfboards());
    const { deleteObject } = await run(ws.client, ObjectsDeleteDocument, { input: { id: created.id } });
    expect(deleteObject).toEqual({ __typename: 'DeleteObjectSuccess', deletedId: created.id });
    expect((await run(ws.client, ObjectsGetDocument, { key: created.key })).object).toBeNull();
    expect((await objectList(ws)).map((o) => o.key)).toEqual(['contact']);
    // Deleting it again: it is gone.
    const again = await run(ws.client, ObjectsDeleteDocument, { input: { id: created.id } });
    expect(again.deleteObject).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    // The key is free again.
    expect((await createObject(ws, surfboards())).key).toBe(created.key);
  });

  it('refuses to delete the standard contact object', async () => {
    const ws = await t.workspace();
    const before = await objectList(ws);
    const { deleteObject } = await run(ws.client, ObjectsDeleteDocument, { input: { id: before[0]!.id } });
    expect(deleteObject).toMatchObject({ code: expect.stringMatching(/^(VALIDATION|CONFLICT|FORBIDDEN)$/) });
    expect(deleteObject.__typename).not.toBe('DeleteObjectSuccess');
    expect(await objectList(ws)).toEqual(before);
  });

  it('refuses an object that has records', async () => {
    const ws = await t.workspace();
    const created = await createObject(ws, surfboards());
    const { createRecord } = await run(ws.client, ObjectsCreateRecordDocument, {
      input: { objectKey: created.key, properties: { model: 'Fish' } },
    });
    expectType(createRecord, 'CreateRecordSuccess');
    const { deleteObject } = await run(ws.client, ObjectsDeleteDocument, { input: { id: created.id } });
    expect(deleteObject).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
    expect((await run(ws.client, ObjectsGetDocument, { key: created.key })).object).toEqual(created);
  });

  it('refuses an object that has association labels, on either side', async () => {
    const ws = await t.workspace();
    const boards = await createObject(ws, surfboards());
    const shops = await createObject(ws, surfboards({ key: 'shops', singularName: 'Shop', pluralName: 'Shops' }));
    const first = await run(ws.client, ObjectsCreateLabelDocument, {
      input: { firstObjectKey: 'contact', secondObjectKey: boards.key, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Board' },
    });
    expectType(first.createAssociationLabel, 'CreateAssociationLabelSuccess');
    const second = await run(ws.client, ObjectsCreateLabelDocument, {
      input: { firstObjectKey: shops.key, secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Customer' },
    });
    expectType(second.createAssociationLabel, 'CreateAssociationLabelSuccess');
    for (const object of [boards, shops]) {
      const { deleteObject } = await run(ws.client, ObjectsDeleteDocument, { input: { id: object.id } });
      expect(deleteObject).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
    }
    expect((await objectList(ws)).map((o) => o.key)).toEqual(['contact', boards.key, shops.key]);
  });

  it('answers NotFoundError for an object of another workspace', async () => {
    const a = await t.workspace();
    const b = await t.workspace();
    const foreign = await createObject(b, surfboards());
    const { deleteObject } = await run(a.client, ObjectsDeleteDocument, { input: { id: foreign.id } });
    expect(deleteObject).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect((await run(b.client, ObjectsGetDocument, { key: foreign.key })).object).toEqual(foreign);
  });

  it('answers ForbiddenError inside the union for a USER key, and deletes nothing', async () => {
    const ws = await t.workspace();
    const created = await createObject(ws, surfboards());
    const user = await userKey(ws);
    const { deleteObject } = await run(user, ObjectsDeleteDocument, { input: { id: created.id } });
    expect(deleteObject).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN', message: expect.any(String) });
    expect((await run(ws.client, ObjectsGetDocument, { key: created.key })).object).toEqual(created);
  });

  it('lets a USER read objects', async () => {
    const ws = await t.workspace();
    await createObject(ws, surfboards());
    const user = await userKey(ws);
    expect((await run(user, ObjectsListDocument, {})).objects).toEqual(await objectList(ws));
  });
});

describe('createObject under concurrency', () => {
  it('answers ConflictError (not an internal error) when the same key is created twice at once', async () => {
    const ws = await t.workspace();
    const results = await Promise.all(
      Array.from({ length: 4 }, () => run(ws.client, ObjectsCreateDocument, { input: surfboards() })),
    );
    const types = results.map((r) => r.createObject.__typename).sort();
    expect(types).toEqual(['ConflictError', 'ConflictError', 'ConflictError', 'CreateObjectSuccess']);
    expect((await objectList(ws)).map((o) => o.key)).toEqual(['contact', 'custom_objects.surfboards']);
  });
});
