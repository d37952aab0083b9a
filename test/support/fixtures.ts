/**
 * Arrange helpers for the graph, statements and cascade/event suites: everything goes through
 * the public GraphQL mutations, and each helper fails loudly when a mutation does not succeed.
 */
import { prisma } from '../../src/db/index.js';
import type { TestWorkspace } from '../helpers.js';

const ERROR_FIELDS = '... on Error { code message }';

async function mutate<T = any>(ws: TestWorkspace, query: string, variables: Record<string, unknown>, field: string, typename: string): Promise<T> {
  const response = await ws.gql(query, variables);
  const value = response.data?.[field];
  if (response.errors?.length || value?.__typename !== typename) {
    throw new Error(`${field} failed: ${JSON.stringify(response.errors ?? value)}`);
  }
  return value as T;
}

export interface Ref {
  id: string;
  displayName: string;
}

export async function createRecord(ws: TestWorkspace, objectKey: string, properties: Record<string, unknown>): Promise<Ref> {
  const result = await mutate<{ record: Ref }>(
    ws,
    `mutation FixtureCreateRecord($input: CreateRecordInput!) {
      createRecord(input: $input) { __typename ... on CreateRecordSuccess { record { id displayName } } ${ERROR_FIELDS} }
    }`,
    { input: { objectKey, properties } },
    'createRecord',
    'CreateRecordSuccess',
  );
  return result.record;
}

export const createContact = (ws: TestWorkspace, firstName: string, lastName?: string) =>
  createRecord(ws, 'contact', lastName === undefined ? { firstName } : { firstName, lastName });

/** Many records, a few at a time (each is one createRecord request). */
export async function createRecords(ws: TestWorkspace, objectKey: string, properties: Record<string, unknown>[]): Promise<Ref[]> {
  const out: Ref[] = [];
  for (let i = 0; i < properties.length; i += 10) {
    out.push(...(await Promise.all(properties.slice(i, i + 10).map((p) => createRecord(ws, objectKey, p)))));
  }
  return out;
}

/** A custom object whose records are named by a required TEXT field `name`. */
export async function createNamedObject(ws: TestWorkspace, name: string, singularName: string, pluralName: string) {
  const result = await mutate<{ object: { id: string; key: string } }>(
    ws,
    `mutation FixtureCreateObject($input: CreateObjectInput!) {
      createObject(input: $input) { __typename ... on CreateObjectSuccess { object { id key } } ${ERROR_FIELDS} }
    }`,
    {
      input: {
        key: `custom_objects.${name}`,
        singularName,
        pluralName,
        primaryProperty: 'name',
        fields: [{ key: 'name', name: 'Name', type: 'TEXT', required: true }],
      },
    },
    'createObject',
    'CreateObjectSuccess',
  );
  return result.object;
}

export interface LabelRef {
  id: string;
  key: string;
}

export async function createLabel(
  ws: TestWorkspace,
  input: { key: string; firstObjectKey: string; secondObjectKey: string; type: 'SINGLE' | 'PAIR'; firstLabel: string; secondLabel?: string },
): Promise<LabelRef> {
  const result = await mutate<{ associationLabel: LabelRef }>(
    ws,
    `mutation FixtureCreateLabel($input: CreateAssociationLabelInput!) {
      createAssociationLabel(input: $input) {
        __typename ... on CreateAssociationLabelSuccess { associationLabel { id key } } ${ERROR_FIELDS}
      }
    }`,
    { input },
    'createAssociationLabel',
    'CreateAssociationLabelSuccess',
  );
  return result.associationLabel;
}

export interface LinkResult {
  created: boolean;
  associations: { id: string }[];
}

export function link(ws: TestWorkspace, firstRecordId: string, secondRecordId: string, labelKeys: string[]): Promise<LinkResult> {
  return mutate<LinkResult>(
    ws,
    `mutation FixtureLink($input: LinkRecordsInput!) {
      linkRecords(input: $input) { __typename ... on LinkRecordsSuccess { created associations { id } } ${ERROR_FIELDS} }
    }`,
    { input: { firstRecordId, secondRecordId, labelKeys } },
    'linkRecords',
    'LinkRecordsSuccess',
  );
}

export interface LinkItem {
  firstRecordId: string;
  secondRecordId: string;
  labelKeys: string[];
}

/** batchLinkRecords in chunks of 100; returns how many associations were created. */
export async function batchLink(ws: TestWorkspace, links: LinkItem[]): Promise<number> {
  let created = 0;
  for (let i = 0; i < links.length; i += 100) {
    const result = await mutate<{ createdCount: number }>(
      ws,
      `mutation FixtureBatchLink($input: BatchLinkRecordsInput!) {
        batchLinkRecords(input: $input) { __typename ... on BatchLinkRecordsSuccess { createdCount } ${ERROR_FIELDS} }
      }`,
      { input: { links: links.slice(i, i + 100) } },
      'batchLinkRecords',
      'BatchLinkRecordsSuccess',
    );
    created += result.createdCount;
  }
  return created;
}

export async function unlink(ws: TestWorkspace, firstRecordId: string, secondRecordId: string, labelKeys?: string[]): Promise<number> {
  const result = await mutate<{ removedCount: number }>(
    ws,
    `mutation FixtureUnlink($input: UnlinkRecordsInput!) {
      unlinkRecords(input: $input) { __typename ... on UnlinkRecordsSuccess { removedCount } ${ERROR_FIELDS} }
    }`,
    { input: { firstRecordId, secondRecordId, ...(labelKeys ? { labelKeys } : {}) } },
    'unlinkRecords',
    'UnlinkRecordsSuccess',
  );
  return result.removedCount;
}

export async function updateLimits(ws: TestWorkspace, input: Record<string, number>) {
  await mutate(
    ws,
    `mutation FixtureLimits($input: UpdateAssociationLimitsInput!) {
      updateAssociationLimits(input: $input) { __typename ${ERROR_FIELDS} }
    }`,
    { input },
    'updateAssociationLimits',
    'UpdateAssociationLimitsSuccess',
  );
}

/** A USER of the workspace with an API key of its own. */
export async function createUserWithKey(ws: TestWorkspace, name: string, email: string, role: 'ADMIN' | 'USER' = 'USER') {
  const { user } = await mutate<{ user: { id: string } }>(
    ws,
    `mutation FixtureCreateUser($input: CreateUserInput!) {
      createUser(input: $input) { __typename ... on CreateUserSuccess { user { id } } ${ERROR_FIELDS} }
    }`,
    { input: { name, email, role } },
    'createUser',
    'CreateUserSuccess',
  );
  const { apiKey } = await mutate<{ apiKey: string }>(
    ws,
    `mutation FixtureCreateApiKey($input: CreateApiKeyInput!) {
      createApiKey(input: $input) { __typename ... on CreateApiKeySuccess { apiKey } ${ERROR_FIELDS} }
    }`,
    { input: { userId: user.id, name: `${name}'s key` } },
    'createApiKey',
    'CreateApiKeySuccess',
  );
  return { userId: user.id, apiKey };
}

/** The global id of a node type and numeric id (Relay's base64("Type:id")). */
export const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`, 'utf8').toString('base64');

/**
 * `count` contacts written straight to the database in one statement, in id order: the records
 * of a large import file, arranged in a second (the mutations would take minutes, and Prisma's
 * createMany, 1,000 rows at a time, about ten seconds of CPU for 50,000). The rows are numbered
 * by a recursive query, which both databases run; their dates are the contact object's own, a
 * value the database already holds in the format Prisma writes.
 */
export async function bulkContacts(ws: TestWorkspace, count: number): Promise<string[]> {
  const object = await prisma.objectModel.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'contact' } });
  const first = (await prisma.recordModel.aggregate({ _max: { id: true } }))._max.id ?? 0;
  await prisma.$executeRaw`
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${count})
    INSERT INTO "Record" ("workspaceId", "objectId", "properties", "displayName", "searchText", "createdAt", "updatedAt")
    SELECT o."workspaceId", o."id", '{"firstName":"P' || n.i || '"}', 'P' || n.i, 'p' || n.i, o."createdAt", o."createdAt"
    FROM n CROSS JOIN "Object" o WHERE o."id" = ${object.id}
    ORDER BY n.i`;
  const rows = await prisma.recordModel.findMany({ where: { workspaceId: ws.workspaceId, id: { gt: first } }, orderBy: { id: 'asc' }, select: { id: true } });
  return rows.map((row) => globalId('Record', row.id));
}

/** The companies object `keyedByUniqueValues` makes. */
export const COMPANIES = 'custom_objects.companies';

/**
 * Records named by a unique value of their own, as imports name them: contacts by `email`, and a
 * companies object (COMPANIES) by `domain`, with `name` and any `moreFields`.
 */
export async function keyedByUniqueValues(ws: TestWorkspace, moreFields: { key: string; name: string; type: string }[] = []): Promise<void> {
  const contactObject = (await ws.gql('{ object(key: "contact") { id } }')).data.object.id as string;
  await mutate(ws, `mutation ($input: UpdateObjectInput!) { updateObject(input: $input) { __typename ${ERROR_FIELDS} } }`, { input: { id: contactObject, uniqueField: 'email' } }, 'updateObject', 'UpdateObjectSuccess');
  await mutate(
    ws,
    `mutation ($input: CreateObjectInput!) { createObject(input: $input) { __typename ${ERROR_FIELDS} } }`,
    {
      input: {
        key: 'companies',
        singularName: 'Company',
        pluralName: 'Companies',
        primaryProperty: 'name',
        fields: [{ key: 'name', name: 'Name', type: 'TEXT', required: true }, { key: 'domain', name: 'Domain', type: 'TEXT', unique: true }, ...moreFields],
      },
    },
    'createObject',
    'CreateObjectSuccess',
  );
}
