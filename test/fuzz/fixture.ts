/**
 * The graph the fuzzer works on: a workspace with contacts and three custom objects, labels of
 * every type and cardinality, links, lowered limits (so the fuzzer meets them), a restricted
 * USER (ASSIGNED on cars, NONE on schools) and a spare API key. A template is arranged once per
 * file through the API (every step must succeed) and copied row for row for each property; the
 * template and a second, different workspace are where "ids from another workspace" come from.
 */
import { randomBytes } from 'node:crypto';
import { prisma } from '../../src/db/index.js';
import { hashApiKey } from '../../src/services/api-keys.js';
import type { TestApp, TestWorkspace } from '../helpers.js';
import { b64, type FieldShape, type NodeTypeName } from './hostile.js';

const ERRORS = '... on Error { code message }';

async function must<T = any>(ws: TestWorkspace, query: string, variables: Record<string, unknown>, field: string): Promise<T> {
  const response = await ws.gql(query, variables);
  const value = response.data?.[field];
  if (response.errors?.length || !value || !String(value.__typename).endsWith('Success')) {
    throw new Error(`fixture: ${field} failed: ${JSON.stringify(response.errors ?? value)}`);
  }
  return value as T;
}

const gid = (type: NodeTypeName, id: number) => b64(`${type}:${id}`);
const cursorFor = (workspaceId: number, id: number) => Buffer.from(`cursor:${workspaceId}:${id}`, 'utf8').toString('base64url');

export const CAR_FIELDS: FieldShape[] = [
  { key: 'name', type: 'TEXT' },
  { key: 'price', type: 'NUMBER' },
  { key: 'sold', type: 'BOOLEAN' },
  { key: 'registered', type: 'DATE' },
  { key: 'site', type: 'URL' },
  { key: 'dealerEmail', type: 'EMAIL' },
  { key: 'dealerPhone', type: 'PHONE' },
];
export const CONTACT_FIELDS: FieldShape[] = [
  { key: 'firstName', type: 'TEXT' },
  { key: 'lastName', type: 'TEXT' },
  { key: 'email', type: 'EMAIL' },
  { key: 'phone', type: 'PHONE' },
];

async function createObject(ws: TestWorkspace, name: string, singular: string, plural: string, fields: FieldShape[]) {
  await must(
    ws,
    `mutation ($input: CreateObjectInput!) { createObject(input: $input) { __typename ${ERRORS} } }`,
    {
      input: {
        key: `custom_objects.${name}`,
        singularName: singular,
        pluralName: plural,
        primaryProperty: 'name',
        fields: fields.map((field) => ({ key: field.key, name: field.key, type: field.type, required: field.key === 'name' })),
      },
    },
    'createObject',
  );
}

async function createRecord(ws: TestWorkspace, objectKey: string, properties: Record<string, unknown>, ownerId?: string): Promise<string> {
  const result = await must<{ record: { id: string } }>(
    ws,
    `mutation ($input: CreateRecordInput!) { createRecord(input: $input) { __typename ... on CreateRecordSuccess { record { id } } ${ERRORS} } }`,
    { input: { objectKey, properties, ...(ownerId ? { ownerId } : {}) } },
    'createRecord',
  );
  return result.record.id;
}

async function createLabel(ws: TestWorkspace, input: Record<string, unknown>): Promise<void> {
  await must(
    ws,
    `mutation ($input: CreateAssociationLabelInput!) { createAssociationLabel(input: $input) { __typename ${ERRORS} } }`,
    { input },
    'createAssociationLabel',
  );
}

async function createUser(ws: TestWorkspace, name: string, email: string, role: 'ADMIN' | 'USER'): Promise<string> {
  const result = await must<{ user: { id: string } }>(
    ws,
    `mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename ... on CreateUserSuccess { user { id } } ${ERRORS} } }`,
    { input: { name, email, role } },
    'createUser',
  );
  return result.user.id;
}

async function createKey(ws: TestWorkspace, userId: string, name: string): Promise<string> {
  const result = await must<{ apiKey: string }>(
    ws,
    `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on CreateApiKeySuccess { apiKey } ${ERRORS} } }`,
    { input: { userId, name } },
    'createApiKey',
  );
  return result.apiKey;
}

/** Every id of a workspace's rows, as global ids by type. */
async function idsOf(workspaceId: number): Promise<Record<NodeTypeName, string[]>> {
  const where = { workspaceId };
  const [records, users, objects, labels, associations, events, keys] = await Promise.all([
    prisma.recordModel.findMany({ where, select: { id: true }, orderBy: { id: 'asc' } }),
    prisma.user.findMany({ where, select: { id: true }, orderBy: { id: 'asc' } }),
    prisma.objectModel.findMany({ where, select: { id: true }, orderBy: { id: 'asc' } }),
    prisma.associationLabel.findMany({ where, select: { id: true }, orderBy: { id: 'asc' } }),
    prisma.association.findMany({ where, select: { id: true }, orderBy: { id: 'asc' } }),
    prisma.associationEvent.findMany({ where, select: { id: true }, orderBy: { id: 'asc' } }),
    prisma.apiKey.findMany({ where, select: { id: true, name: true }, orderBy: { id: 'asc' } }),
  ]);
  return {
    Record: records.map((row) => gid('Record', row.id)),
    User: users.map((row) => gid('User', row.id)),
    Object: objects.map((row) => gid('Object', row.id)),
    AssociationLabel: labels.map((row) => gid('AssociationLabel', row.id)),
    Association: associations.map((row) => gid('Association', row.id)),
    AssociationEvent: events.map((row) => gid('AssociationEvent', row.id)),
    ApiKey: keys.map((row) => gid('ApiKey', row.id)),
    Workspace: [gid('Workspace', workspaceId)],
  };
}

export interface Foreign {
  workspaceId: number;
  ids: string[];
  apiKey: string;
  objectKeys: string[];
  labelKeys: string[];
  cursors: string[];
}

/** The other workspace: a contact object, a custom object only it has, a label, a link, a USER with a key. */
export async function createForeign(t: TestApp): Promise<Foreign> {
  const ws = await t.workspace('Foreign');
  await createObject(ws, 'planes', 'Plane', 'Planes', [{ key: 'name', type: 'TEXT' }]);
  const pilot = await createRecord(ws, 'contact', { firstName: 'Amelia', lastName: 'Earhart', email: 'amelia@example.com' });
  const other = await createRecord(ws, 'contact', { firstName: 'Ada' });
  const plane = await createRecord(ws, 'custom_objects.planes', { name: 'Electra' });
  await createLabel(ws, { key: 'wing_plane', firstObjectKey: 'contact', secondObjectKey: 'custom_objects.planes', type: 'PAIR', firstLabel: 'Pilot', secondLabel: 'Plane' });
  await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
  const link = `mutation ($input: LinkRecordsInput!) { linkRecords(input: $input) { __typename ${ERRORS} } }`;
  await must(ws, link, { input: { firstRecordId: pilot, secondRecordId: plane, labelKeys: ['wing_plane'] } }, 'linkRecords');
  await must(ws, link, { input: { firstRecordId: pilot, secondRecordId: other, labelKeys: ['colleague'] } }, 'linkRecords');
  const userId = await createUser(ws, 'Foreign member', 'member@example.com', 'USER');
  const apiKey = await createKey(ws, userId, 'Foreign key');
  const ids = Object.values(await idsOf(ws.workspaceId)).flat();
  const firstRecord = await prisma.recordModel.findFirstOrThrow({ where: { workspaceId: ws.workspaceId }, orderBy: { id: 'asc' } });
  return {
    workspaceId: ws.workspaceId,
    ids,
    apiKey,
    objectKeys: ['custom_objects.planes'],
    labelKeys: ['wing_plane'],
    cursors: [cursorFor(ws.workspaceId, firstRecord.id)],
  };
}

export interface Pools {
  /** Real ids of the fixture workspace, by type (API keys: only the spare one). */
  ids: Record<NodeTypeName, string[]>;
  /** Ids that must answer as missing: another workspace's, deleted rows'. */
  otherIds: string[];
  strings: Record<StringKind, string[]>;
  ints: Record<IntKind, number[]>;
  fields: FieldShape[];
}

export type StringKind = 'any' | 'cursor' | 'objectKey' | 'labelKey' | 'newObjectKey' | 'newLabelKey' | 'fieldKey' | 'email' | 'search' | 'name';
export type IntKind = 'any' | 'first' | 'limit';

export interface Fixture {
  admin: { apiKey: string; userId: number };
  /** A USER who sees its own cars only and no schools. */
  user: { apiKey: string; userId: number };
  workspaceId: number;
  pools: Pools;
}

/** The workspace every fixture is copied from (never fuzzed itself: it is one more "other workspace"). */
export interface Template {
  workspaceId: number;
  /** Ids of rows deleted from it: they must answer as missing. */
  deletedIds: string[];
}

export const LABELS = [
  { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' },
  { key: 'manager_employee', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Employee' },
  { key: 'spouse', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Spouse', cardinality: 'ONE_TO_ONE' },
  { key: 'mentor_mentee', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Mentor', secondLabel: 'Mentee', cardinality: 'MANY_TO_ONE' },
  { key: 'owner_car', firstObjectKey: 'contact', secondObjectKey: 'custom_objects.cars', type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' },
  { key: 'driver_car', firstObjectKey: 'contact', secondObjectKey: 'custom_objects.cars', type: 'PAIR', firstLabel: 'Driver', secondLabel: 'Driven car', cardinality: 'ONE_TO_ONE' },
  { key: 'student_school', firstObjectKey: 'custom_objects.schools', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'School', secondLabel: 'Student', cardinality: 'MANY_TO_ONE' },
  { key: 'sibling_car', firstObjectKey: 'custom_objects.cars', secondObjectKey: 'custom_objects.cars', type: 'SINGLE', firstLabel: 'Sibling car' },
] as const;

/**
 * The template through the API: objects with fields of every type, records with owners, labels of
 * each type and cardinality, links, lowered limits (so the fuzzer meets them within a few runs),
 * a USER with ASSIGNED access to cars and none to schools, a spare key, and a deleted record.
 */
export async function createTemplate(t: TestApp): Promise<Template> {
  const admin = await t.workspace();
  await Promise.all([
    createObject(admin, 'cars', 'Car', 'Cars', CAR_FIELDS),
    createObject(admin, 'schools', 'School', 'Schools', [{ key: 'name', type: 'TEXT' }]),
    createObject(admin, 'empty', 'Empty', 'Empties', [{ key: 'name', type: 'TEXT' }]),
  ]);
  const [userId, ottoId] = await Promise.all([
    createUser(admin, 'Uma User', 'uma@example.com', 'USER'),
    createUser(admin, 'Otto Owner', 'otto@example.com', 'USER'),
  ]);
  await Promise.all([createKey(admin, userId, 'Uma key'), createKey(admin, ottoId, 'Spare key')]);
  const contacts = await Promise.all([
    createRecord(admin, 'contact', { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0958' }),
    createRecord(admin, 'contact', { firstName: 'Charles', lastName: 'Babbage' }),
    createRecord(admin, 'contact', { firstName: 'Mary', lastName: 'Somerville' }),
    createRecord(admin, 'contact', { email: 'grace@example.com' }),
    createRecord(admin, 'contact', { firstName: 'Alan' }),
    createRecord(admin, 'contact', {}),
  ]);
  const cars = await Promise.all([
    createRecord(admin, 'custom_objects.cars', { name: 'Beetle', price: 1000, sold: false, registered: '2024-01-31' }, userId),
    createRecord(admin, 'custom_objects.cars', { name: 'Mini', site: 'https://example.com' }, userId),
    createRecord(admin, 'custom_objects.cars', { name: 'Model T', dealerEmail: 'dealer@example.com' }, ottoId),
    createRecord(admin, 'custom_objects.cars', { name: 'DeLorean', dealerPhone: '555-0100' }),
  ]);
  const schools = await Promise.all([
    createRecord(admin, 'custom_objects.schools', { name: 'Cambridge' }),
    createRecord(admin, 'custom_objects.schools', { name: 'Oxford' }),
  ]);
  for (const label of LABELS) await createLabel(admin, label);
  const [c1, c2, c3, c4, c5] = contacts as [string, string, string, string, string, string];
  const [car1, car2, car3] = cars as [string, string, string, string];
  const links = [
    [c1, c2, ['colleague']],
    [c1, c3, ['manager_employee']],
    [c2, c3, ['spouse']],
    [c1, c4, ['mentor_mentee']],
    [c5, c4, ['colleague', 'manager_employee']],
    [c1, car1, ['owner_car']],
    [c2, car3, ['owner_car']],
    [c3, car1, ['driver_car']],
    [schools[0]!, c1, ['student_school']],
    [car1, car2, ['sibling_car']],
  ].map(([firstRecordId, secondRecordId, labelKeys]) => ({ firstRecordId, secondRecordId, labelKeys }));
  await must(
    admin,
    `mutation ($input: BatchLinkRecordsInput!) { batchLinkRecords(input: $input) { __typename ${ERRORS} } }`,
    { input: { links } },
    'batchLinkRecords',
  );
  // Lowered limits: the fuzzer meets them within a few runs.
  await must(
    admin,
    `mutation ($input: UpdateAssociationLimitsInput!) { updateAssociationLimits(input: $input) { __typename ${ERRORS} } }`,
    { input: { maxLabelsPerObjectPair: 6, maxRecordsPerLabel: 6, maxAssociationsPerContact: 4 } },
    'updateAssociationLimits',
  );
  const permission = `mutation ($input: SetObjectPermissionInput!) { setObjectPermission(input: $input) { __typename ${ERRORS} } }`;
  await must(admin, permission, { input: { userId, objectKey: 'custom_objects.cars', access: 'ASSIGNED' } }, 'setObjectPermission');
  await must(admin, permission, { input: { userId, objectKey: 'custom_objects.schools', access: 'NONE' } }, 'setObjectPermission');

  // A deleted row: its id must answer as missing.
  const doomed = await createRecord(admin, 'contact', { firstName: 'Doomed' });
  await must(admin, `mutation ($input: DeleteRecordInput!) { deleteRecord(input: $input) { __typename ${ERRORS} } }`, { input: { id: doomed } }, 'deleteRecord');

  return { workspaceId: admin.workspaceId, deletedIds: [doomed] };
}

/**
 * A fresh fixture: a copy of the template, row for row, made directly in the database (building
 * one through the API takes a second or more; every property that writes gets its own), with new
 * API keys for the admin, the USER and the spare key.
 */
export async function createFixture(template: Template, foreign: Foreign): Promise<Fixture> {
  const keys = new Map<string, string>();
  const workspaceId = await prisma.$transaction(
    async (tx) => {
      const source = template.workspaceId;
      const where = { workspaceId: source };
      const { id: _w, ...workspace } = await tx.workspace.findUniqueOrThrow({ where: { id: source } });
      const w = (await tx.workspace.create({ data: { ...workspace, name: `${workspace.name} (copy)` } })).id;
      const users = new Map<number, number>();
      for (const { id, ...row } of await tx.user.findMany({ where, orderBy: { id: 'asc' } })) {
        users.set(id, (await tx.user.create({ data: { ...row, workspaceId: w } })).id);
      }
      const objects = new Map<number, number>();
      for (const { id, ...row } of await tx.objectModel.findMany({ where, orderBy: { id: 'asc' } })) {
        objects.set(id, (await tx.objectModel.create({ data: { ...row, workspaceId: w } })).id);
      }
      for (const { id: _f, ...row } of await tx.field.findMany({ where: { object: { workspaceId: source } }, orderBy: { id: 'asc' } })) {
        await tx.field.create({ data: { ...row, objectId: objects.get(row.objectId)! } });
      }
      for (const { id: _p, ...row } of await tx.objectPermission.findMany({ where: { user: { workspaceId: source } } })) {
        await tx.objectPermission.create({ data: { ...row, userId: users.get(row.userId)!, objectId: objects.get(row.objectId)! } });
      }
      const records = new Map<number, number>();
      for (const { id, ...row } of await tx.recordModel.findMany({ where, orderBy: { id: 'asc' } })) {
        const data = { ...row, workspaceId: w, objectId: objects.get(row.objectId)!, ownerId: row.ownerId === null ? null : users.get(row.ownerId)! };
        records.set(id, (await tx.recordModel.create({ data })).id);
      }
      const labels = new Map<number, number>();
      for (const { id, ...row } of await tx.associationLabel.findMany({ where, orderBy: { id: 'asc' } })) {
        const data = { ...row, workspaceId: w, firstObjectId: objects.get(row.firstObjectId)!, secondObjectId: objects.get(row.secondObjectId)! };
        labels.set(id, (await tx.associationLabel.create({ data })).id);
      }
      const associations = new Map<number, number>();
      for (const { id, ...row } of await tx.association.findMany({ where, orderBy: { id: 'asc' } })) {
        const data = {
          ...row,
          workspaceId: w,
          labelId: labels.get(row.labelId)!,
          firstRecordId: records.get(row.firstRecordId)!,
          secondRecordId: records.get(row.secondRecordId)!,
          createdById: row.createdById === null ? null : users.get(row.createdById)!,
        };
        associations.set(id, (await tx.association.create({ data })).id);
      }
      for (const { id: _e, ...row } of await tx.associationEvent.findMany({ where: { ...where, action: { in: ['LINKED', 'UNLINKED'] } }, orderBy: { id: 'asc' } })) {
        // Events of the deleted record's associations (none: it had none) would have no copy.
        if (row.associationId === null || !associations.has(row.associationId)) continue;
        await tx.associationEvent.create({
          data: {
            ...row,
            workspaceId: w,
            labelId: row.labelId === null ? null : labels.get(row.labelId)!,
            associationId: associations.get(row.associationId)!,
            firstRecordId: records.get(row.firstRecordId!)!,
            secondRecordId: records.get(row.secondRecordId!)!,
            actorId: row.actorId === null ? null : users.get(row.actorId)!,
          },
        });
      }
      for (const key of await tx.apiKey.findMany({ where: { ...where, revokedAt: null }, orderBy: { id: 'asc' } })) {
        const plaintext = `rel_${randomBytes(24).toString('base64url')}`;
        await tx.apiKey.create({
          data: { workspaceId: w, userId: users.get(key.userId)!, name: key.name, prefix: plaintext.slice(0, 10), hash: hashApiKey(plaintext) },
        });
        keys.set(key.name, plaintext);
      }
      return w;
    },
    { timeout: 60_000, maxWait: 60_000 },
  );

  const users = await prisma.user.findMany({ where: { workspaceId } });
  const userOf = (email: string) => users.find((u) => u.email === email)!.id;
  const adminId = users.find((u) => u.role === 'ADMIN')!.id;
  const ids = await idsOf(workspaceId);
  const spare = await prisma.apiKey.findMany({ where: { workspaceId, name: 'Spare key' }, select: { id: true } });
  ids.ApiKey = spare.map((key) => gid('ApiKey', key.id));
  const records = await prisma.recordModel.findMany({ where: { workspaceId }, select: { id: true }, orderBy: { id: 'asc' } });
  const associations = await prisma.association.findMany({ where: { workspaceId }, select: { id: true } });
  const w = workspaceId;
  const realCursors = [...records.slice(0, 3), ...associations.slice(0, 2)].map((row) => cursorFor(w, row.id));
  const templateIds = Object.values(await idsOf(template.workspaceId)).flat();

  const names = ['Ada', 'Manager', 'Employee', 'Boat', 'Boats', 'Colleague', '  padded  ', 'x'.repeat(100), 'x'.repeat(101), 'Ünïcödé'];
  const objectKeys = ['contact', 'custom_objects.cars', 'custom_objects.schools', 'custom_objects.empty'];
  const labelKeys = LABELS.map((label) => label.key);
  const strings: Record<StringKind, string[]> = {
    cursor: [
      ...realCursors,
      ...foreign.cursors,
      cursorFor(template.workspaceId, records[0]!.id),
      cursorFor(w, 0),
      Buffer.from(`cursor:${w}:2147483648`).toString('base64url'),
      Buffer.from(`cursor:${w}:99999999999999`).toString('base64url'),
      Buffer.from(`cursor:${w}:-1`).toString('base64url'),
      Buffer.from(`cursor:${w}:1.5`).toString('base64url'),
      Buffer.from(`cursor:${w}:0x10`).toString('base64url'),
      Buffer.from(`cursor:99999999999999999999:1`).toString('base64url'),
      ids.Record[0]!,
    ],
    objectKey: [...objectKeys, ...foreign.objectKeys, 'Contact', 'custom_objects.', 'cars', 'custom_objects.CARS'],
    labelKey: [...labelKeys, ...foreign.labelKeys, 'Colleague', 'colleague '],
    newObjectKey: ['custom_objects.boats', 'boats', 'custom_objects.Boats', 'custom_objects.b', `custom_objects.${'x'.repeat(64)}`, `custom_objects.${'x'.repeat(65)}`, 'custom_objects.cars', 'contact', 'custom_objects.a.b'],
    newLabelKey: ['new_label', 'a', 'x'.repeat(64), 'x'.repeat(65), 'colleague', '1abc', 'Upper', 'wing_plane'],
    fieldKey: ['name', 'price', 'firstName', 'email', 'new_field', 'x'.repeat(64), 'x'.repeat(65), 'Name', '1x', 'a-b'],
    email: ['new.user@example.com', 'uma@example.com', 'UMA@EXAMPLE.COM', 'member@example.com', 'a@b.c', 'no-at-sign', `${'x'.repeat(250)}@example.com`],
    search: ['ada', 'ADA', 'lovelace', '@example.com', '+44', 'beetle', 'a', '', '%', '_', 'amelia'],
    name: names,
    any: [],
  };
  strings.any = [...new Set([...objectKeys, ...labelKeys, ...names, 'firstName', 'ada'])];
  return {
    admin: { apiKey: keys.get('Admin key')!, userId: adminId },
    user: { apiKey: keys.get('Uma key')!, userId: userOf('uma@example.com') },
    workspaceId: w,
    pools: {
      ids,
      otherIds: [...foreign.ids, ...template.deletedIds, ...templateIds],
      strings,
      ints: { any: [0, 1, 2, 10], first: [1, 2, 5, 20, 100], limit: [0, 1, 2, 3, 5, 10, 1000] },
      fields: [...CONTACT_FIELDS, ...CAR_FIELDS],
    },
  };
}
