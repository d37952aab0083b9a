/**
 * Arrange steps and state probes shared by the association suites (labels, links, limits,
 * batch). Everything goes through the GraphQL API, like a client would.
 */
import type { GraphQLClient } from 'graphql-request';
import {
  GraphAssociationsDocument,
  GraphCreateApiKeyDocument,
  GraphCreateLabelDocument,
  GraphCreateObjectDocument,
  GraphCreateRecordDocument,
  GraphCreateUserDocument,
  GraphLinkDocument,
  GraphRecordStateDocument,
  GraphUnlinkDocument,
  GraphUpdateLimitsDocument,
  type AssociationLabelType,
  type Cardinality,
  type GraphLabelFragment,
  type GraphLinkMutation,
  type GraphUnlinkMutation,
  type UpdateAssociationLimitsInput,
} from '../generated/graphql.js';
import { expectType, run, type TestApp, type TestWorkspace } from '../helpers.js';

type Client = Pick<TestWorkspace, 'client'>;

/** Creates `custom_objects.<name>` with one required TEXT field `name` (its primary property). */
export async function createObject(ws: Client, name: string): Promise<{ id: string; key: string }> {
  const { createObject } = await run(ws.client, GraphCreateObjectDocument, {
    input: {
      key: `custom_objects.${name}`,
      singularName: name,
      pluralName: `${name}s`,
      primaryProperty: 'name',
      fields: [{ key: 'name', name: 'Name', type: 'TEXT', required: true }],
    },
  });
  return expectType(createObject, 'CreateObjectSuccess').object;
}

/** Creates `count` records of an object (contacts get a firstName, custom records a name); ids in creation order. */
export async function createRecords(ws: Client, objectKey: string, count: number, prefix = 'R'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    const properties = objectKey === 'contact' ? { firstName: `${prefix}${i}` } : { name: `${prefix}${i}` };
    const { createRecord } = await run(ws.client, GraphCreateRecordDocument, { input: { objectKey, properties } });
    ids.push(expectType(createRecord, 'CreateRecordSuccess').record.id);
  }
  return ids;
}

export const createContacts = (ws: Client, count: number, prefix = 'C') => createRecords(ws, 'contact', count, prefix);

export interface LabelSpec {
  first: string;
  second?: string;
  type?: AssociationLabelType;
  firstLabel: string;
  secondLabel?: string | null;
  key?: string | null;
  cardinality?: Cardinality | null;
}

/** Creates a label (PAIR when a secondLabel is given, SINGLE otherwise) and returns it; fails on any error. */
export async function createLabel(ws: Client, spec: LabelSpec): Promise<GraphLabelFragment> {
  const { createAssociationLabel } = await run(ws.client, GraphCreateLabelDocument, {
    input: {
      firstObjectKey: spec.first,
      secondObjectKey: spec.second ?? spec.first,
      type: spec.type ?? (spec.secondLabel ? 'PAIR' : 'SINGLE'),
      firstLabel: spec.firstLabel,
      secondLabel: spec.secondLabel ?? null,
      key: spec.key ?? null,
      cardinality: spec.cardinality ?? null,
    },
  });
  return expectType(createAssociationLabel, 'CreateAssociationLabelSuccess').associationLabel;
}

export async function link(ws: Client, firstRecordId: string, secondRecordId: string, labelKeys: string[]): Promise<GraphLinkMutation['linkRecords']> {
  return (await run(ws.client, GraphLinkDocument, { input: { firstRecordId, secondRecordId, labelKeys } })).linkRecords;
}

/** Links and asserts success. */
export async function linkOk(ws: Client, firstRecordId: string, secondRecordId: string, labelKeys: string[]) {
  return expectType(await link(ws, firstRecordId, secondRecordId, labelKeys), 'LinkRecordsSuccess');
}

export async function unlink(
  ws: Client,
  firstRecordId: string,
  secondRecordId: string,
  labelKeys?: string[] | null,
): Promise<GraphUnlinkMutation['unlinkRecords']> {
  return (await run(ws.client, GraphUnlinkDocument, { input: { firstRecordId, secondRecordId, labelKeys } })).unlinkRecords;
}

export async function setLimits(ws: Client, input: UpdateAssociationLimitsInput) {
  const { updateAssociationLimits } = await run(ws.client, GraphUpdateLimitsDocument, { input });
  return expectType(updateAssociationLimits, 'UpdateAssociationLimitsSuccess').limits;
}

/** Every association of the workspace as "labelKey:firstId>secondId", sorted: compare whole states. */
export async function associationSnapshot(ws: Client): Promise<string[]> {
  const { associationLabels } = await run(ws.client, GraphAssociationsDocument, {});
  return associationLabels
    .flatMap((label) =>
      label.associations.edges.map(({ node }) => `${label.key}:${node.firstRecord.id}>${node.secondRecord.id}`),
    )
    .sort();
}

/** Per label key: associationCount and recordCount. */
export async function labelCounts(ws: Client): Promise<Record<string, { associations: number; records: number }>> {
  const { associationLabels } = await run(ws.client, GraphAssociationsDocument, {});
  return Object.fromEntries(
    associationLabels.map((label) => [label.key, { associations: label.associationCount, records: label.recordCount }]),
  );
}

/** A record's associations (seen from it) and its association events. */
export async function recordState(ws: Client, id: string) {
  const { record } = await run(ws.client, GraphRecordStateDocument, { id });
  if (!record) throw new Error(`record ${id} is not visible`);
  return record;
}

/** A USER of the workspace with an API key of its own. */
export async function userOf(t: TestApp, admin: Client, name = 'Member'): Promise<Client & { gql: TestWorkspace['gql']; userId: string }> {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${Math.random().toString(36).slice(2, 8)}@example.com`;
  const { createUser } = await run(admin.client, GraphCreateUserDocument, { input: { name, email, role: 'USER' } });
  const user = expectType(createUser, 'CreateUserSuccess').user;
  const { createApiKey } = await run(admin.client, GraphCreateApiKeyDocument, { input: { userId: user.id, name: `${name} key` } });
  const { apiKey } = expectType(createApiKey, 'CreateApiKeySuccess');
  return { client: t.clientFor(apiKey) as GraphQLClient, gql: t.gqlFor(apiKey), userId: user.id };
}
