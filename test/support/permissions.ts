/**
 * Arrangement helpers for the permission and isolation suites: users with keys and record
 * access, records with owners, objects, labels and links — all through the API, each step
 * asserting it succeeded so a broken arrangement cannot make a test pass.
 */
import { encodeGlobalId, type NodeType } from '../../src/services/ids.js';
import type { GraphQLResponse, TestApp, TestWorkspace } from '../helpers.js';

export type Gql = TestWorkspace['gql'];
export type Access = 'ALL' | 'ASSIGNED' | 'NONE';

export const gid = (type: NodeType, id: number) => encodeGlobalId(type, id);
export const numericId = (globalId: string) => Number(Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]);

/** `data[field]` of a mutation response, failing unless its __typename is `typename`. */
export function ok<T = any>(response: GraphQLResponse, field: string, typename: string): T {
  const value = response.data?.[field];
  if (response.errors?.length || value?.__typename !== typename) {
    throw new Error(`${field}: expected ${typename}, got ${JSON.stringify(response)}`);
  }
  return value as T;
}

/**
 * A response as a client sees it, for comparing two answers: status, data and errors. The
 * statement count (`extensions.sqlStatements`, a test/benchmark diagnostic that production does
 * not send) is left out.
 */
export function answer(response: GraphQLResponse, replace: [string, string][] = []) {
  let text = JSON.stringify({ status: response.status, data: response.data ?? null, errors: response.errors ?? null });
  for (const [from, to] of replace) text = text.split(from).join(to);
  return JSON.parse(text) as { status: number; data: any; errors: any };
}

/** `data` of a query response, failing on any GraphQL error. */
export function data<T = any>(response: GraphQLResponse<T>): T {
  if (response.errors?.length || response.status !== 200 || !response.data) {
    throw new Error(`query failed: ${JSON.stringify(response)}`);
  }
  return response.data;
}

export interface TestUser {
  /** Global id. */
  id: string;
  apiKey: string;
  gql: Gql;
}

let emails = 0;

/** A user of the admin's workspace with an API key of its own. */
export async function createUser(t: TestApp, admin: Gql, role: 'ADMIN' | 'USER' = 'USER', name = 'Member'): Promise<TestUser> {
  const email = `user${++emails}.${process.pid}@example.com`;
  const created = ok(
    await admin(
      `mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename ... on CreateUserSuccess { user { id } } ... on Error { code message } } }`,
      { input: { name, email, role } },
    ),
    'createUser',
    'CreateUserSuccess',
  );
  const key = await createApiKey(admin, created.user.id);
  return { id: created.user.id, apiKey: key.apiKey, gql: t.gqlFor(key.apiKey) };
}

export async function createApiKey(admin: Gql, userId: string, name = 'Test key'): Promise<{ apiKey: string; id: string }> {
  const result = ok(
    await admin(
      `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on CreateApiKeySuccess { apiKey key { id } } ... on Error { code message } } }`,
      { input: { userId, name } },
    ),
    'createApiKey',
    'CreateApiKeySuccess',
  );
  return { apiKey: result.apiKey, id: result.key.id };
}

export const SET_PERMISSION = `mutation ($input: SetObjectPermissionInput!) {
  setObjectPermission(input: $input) {
    __typename
    ... on SetObjectPermissionSuccess { user { id objectPermissions { object { key } access } } }
    ... on Error { code message }
  }
}`;

export async function setAccess(admin: Gql, userId: string, objectKey: string, access: Access) {
  return ok(await admin(SET_PERMISSION, { input: { userId, objectKey, access } }), 'setObjectPermission', 'SetObjectPermissionSuccess');
}

export async function createRecord(gql: Gql, objectKey: string, properties: Record<string, unknown>, ownerId?: string | null): Promise<string> {
  const result = ok(
    await gql(
      `mutation ($input: CreateRecordInput!) { createRecord(input: $input) { __typename ... on CreateRecordSuccess { record { id } } ... on Error { code message } } }`,
      { input: { objectKey, properties, ...(ownerId === undefined ? {} : { ownerId }) } },
    ),
    'createRecord',
    'CreateRecordSuccess',
  );
  return result.record.id;
}

export const contact = (gql: Gql, firstName: string, ownerId?: string | null) => createRecord(gql, 'contact', { firstName }, ownerId);

/** A custom object `custom_objects.<name>` with one required TEXT field `name`; returns its global id and key. */
export async function createObject(admin: Gql, name: string): Promise<{ id: string; key: string }> {
  const result = ok(
    await admin(
      `mutation ($input: CreateObjectInput!) { createObject(input: $input) { __typename ... on CreateObjectSuccess { object { id key } } ... on Error { code message } } }`,
      {
        input: {
          key: name,
          singularName: name,
          pluralName: `${name}s`,
          primaryProperty: 'name',
          fields: [{ key: 'name', name: 'Name', type: 'TEXT', required: true }],
        },
      },
    ),
    'createObject',
    'CreateObjectSuccess',
  );
  return result.object;
}

export async function createLabel(
  admin: Gql,
  input: { key: string; firstObjectKey: string; secondObjectKey: string; type: 'SINGLE' | 'PAIR'; firstLabel: string; secondLabel?: string },
): Promise<{ id: string; key: string }> {
  const result = ok(
    await admin(
      `mutation ($input: CreateAssociationLabelInput!) { createAssociationLabel(input: $input) { __typename ... on CreateAssociationLabelSuccess { associationLabel { id key } } ... on Error { code message } } }`,
      { input },
    ),
    'createAssociationLabel',
    'CreateAssociationLabelSuccess',
  );
  return result.associationLabel;
}

export const LINK = `mutation ($input: LinkRecordsInput!) {
  linkRecords(input: $input) {
    __typename
    ... on LinkRecordsSuccess { created associations { id } }
    ... on Error { code message }
  }
}`;

export const UNLINK = `mutation ($input: UnlinkRecordsInput!) {
  unlinkRecords(input: $input) {
    __typename
    ... on UnlinkRecordsSuccess { removedCount }
    ... on Error { code message }
  }
}`;

/** Links two records; returns the global ids of the associations. */
export async function link(gql: Gql, firstRecordId: string, secondRecordId: string, labelKeys: string[]): Promise<string[]> {
  const result = ok(await gql(LINK, { input: { firstRecordId, secondRecordId, labelKeys } }), 'linkRecords', 'LinkRecordsSuccess');
  return result.associations.map((association: { id: string }) => association.id);
}

/** Display names of a connection's nodes. */
export const names = (connection: { edges: { node: { displayName: string } }[] }) =>
  connection.edges.map((edge) => edge.node.displayName).sort();
