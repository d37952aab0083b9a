/**
 * Helpers for the concurrency suite (SPEC rule 14): arrange through the API, fire many
 * requests at once, and check the stored state directly against every limit.
 */
import { expect } from 'vitest';
import { prisma } from '../../src/db/index.js';
import { associationEventRows } from './events.js';
import { decodeGlobalId } from '../../src/services/ids.js';
import type { GraphQLResponse, TestWorkspace } from '../helpers.js';

/** Every error member of a result union, with the fields the assertions need. */
export const ERROR_SELECTION = `
  ... on Error { code message }
  ... on LimitExceededError { limit max current index }
  ... on NotFoundError { index }
  ... on ValidationError { field index }
  ... on ConflictError { index }
  ... on ObjectMismatchError { index }
  ... on ForbiddenError { index }
  ... on LabelInUseError { associationCount index }
`;

export interface Typed {
  __typename: string;
  code?: string;
  message?: string;
  limit?: string;
  max?: number;
  current?: number;
  index?: number | null;
  [field: string]: unknown;
}

/**
 * The typed result of `data[field]`. Fails the test on anything else: a masked
 * INTERNAL_SERVER_ERROR (an unexpected failure, e.g. a unique or foreign-key violation that
 * escaped the limit checks), any other top-level error, or a non-200 status.
 */
export function typed(response: GraphQLResponse, field: string): Typed {
  if (response.errors?.length || response.status !== 200) {
    throw new Error(`"${field}" answered HTTP ${response.status} with errors: ${JSON.stringify(response.errors)}`);
  }
  const value = response.data?.[field] as Typed | undefined;
  if (!value?.__typename) throw new Error(`"${field}" has no typed result: ${JSON.stringify(response.data)}`);
  return value;
}

/** All results of a burst, each checked by `typed`. */
export const typedAll = (responses: GraphQLResponse[], field: string): Typed[] => responses.map((r) => typed(r, field));

/** How many results of each __typename (`LimitExceededError:maxRecordsPerLabel` for limits). */
export function tally(results: Typed[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) {
    const name = result.__typename === 'LimitExceededError' ? `LimitExceededError:${result.limit}` : result.__typename;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** Fires every request at once (none awaits another) and returns the responses in order. */
export function burst<T>(count: number, make: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => make(i)));
}

export const recordId = (globalId: string): number => {
  const id = decodeGlobalId(globalId, 'Record');
  if (id === null) throw new Error(`not a Record id: ${globalId}`);
  return id;
};

// ---------------------------------------------------------------------------------------------
// Arranging through the API (each step must succeed).

async function mutate(ws: TestWorkspace, field: string, inputType: string, input: unknown, selection: string) {
  const response = await ws.gql(
    `mutation ($input: ${inputType}!) { ${field}(input: $input) { __typename ${selection} ${ERROR_SELECTION} } }`,
    { input },
  );
  const result = typed(response, field);
  if (!result.__typename.endsWith('Success')) throw new Error(`${field} failed while arranging: ${JSON.stringify(result)}`);
  return result as any;
}

/** A custom object `custom_objects.<name>` with one required TEXT field `name`. */
export async function createObject(ws: TestWorkspace, name: string): Promise<string> {
  const result = await mutate(
    ws,
    'createObject',
    'CreateObjectInput',
    {
      key: `custom_objects.${name}`,
      singularName: name,
      pluralName: `${name}s`,
      primaryProperty: 'name',
      fields: [{ key: 'name', name: 'Name', type: 'TEXT', required: true }],
    },
    '... on CreateObjectSuccess { object { key } }',
  );
  return result.object.key;
}

export async function createRecord(ws: TestWorkspace, objectKey: string, properties: Record<string, unknown>): Promise<string> {
  const result = await mutate(ws, 'createRecord', 'CreateRecordInput', { objectKey, properties }, '... on CreateRecordSuccess { record { id } }');
  return result.record.id;
}

/** `count` records, created one after another (ids ascend with the index). */
export async function createRecords(ws: TestWorkspace, objectKey: string, count: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    ids.push(
      await createRecord(ws, objectKey, objectKey === 'contact' ? { firstName: prefix, lastName: String(i) } : { name: `${prefix} ${i}` }),
    );
  }
  return ids;
}

export interface LabelInput {
  key?: string;
  firstObjectKey: string;
  secondObjectKey: string;
  type: 'SINGLE' | 'PAIR';
  firstLabel: string;
  secondLabel?: string;
  cardinality?: 'MANY_TO_MANY' | 'MANY_TO_ONE' | 'ONE_TO_ONE';
}

export const CREATE_LABEL = `mutation ($input: CreateAssociationLabelInput!) {
  createAssociationLabel(input: $input) {
    __typename
    ... on CreateAssociationLabelSuccess { associationLabel { id key } }
    ${ERROR_SELECTION}
  }
}`;

export async function createLabel(ws: TestWorkspace, input: LabelInput): Promise<string> {
  const result = await mutate(
    ws,
    'createAssociationLabel',
    'CreateAssociationLabelInput',
    input,
    '... on CreateAssociationLabelSuccess { associationLabel { key } }',
  );
  return result.associationLabel.key;
}

export async function setLimits(
  ws: TestWorkspace,
  limits: { maxLabelsPerObjectPair?: number; maxRecordsPerLabel?: number; maxAssociationsPerContact?: number },
): Promise<void> {
  await mutate(ws, 'updateAssociationLimits', 'UpdateAssociationLimitsInput', limits, '... on UpdateAssociationLimitsSuccess { limits { maxRecordsPerLabel } }');
}

// ---------------------------------------------------------------------------------------------
// The operations fired concurrently.

export const LINK = `mutation ($input: LinkRecordsInput!) {
  linkRecords(input: $input) {
    __typename
    ... on LinkRecordsSuccess { created associations { id label { key } firstRecord { id } secondRecord { id } } }
    ${ERROR_SELECTION}
  }
}`;

export const BATCH_LINK = `mutation ($input: BatchLinkRecordsInput!) {
  batchLinkRecords(input: $input) {
    __typename
    ... on BatchLinkRecordsSuccess { createdCount associations { id } }
    ${ERROR_SELECTION}
  }
}`;

export const DELETE_RECORD = `mutation ($input: DeleteRecordInput!) {
  deleteRecord(input: $input) {
    __typename
    ... on DeleteRecordSuccess { deletedId removedAssociations }
    ${ERROR_SELECTION}
  }
}`;

export const UNLINK = `mutation ($input: UnlinkRecordsInput!) {
  unlinkRecords(input: $input) {
    __typename
    ... on UnlinkRecordsSuccess { removedCount }
    ${ERROR_SELECTION}
  }
}`;

export const DELETE_LABEL = `mutation ($input: DeleteAssociationLabelInput!) {
  deleteAssociationLabel(input: $input) {
    __typename
    ... on DeleteAssociationLabelSuccess { deletedId removedAssociations }
    ${ERROR_SELECTION}
  }
}`;

export const unlink = (ws: TestWorkspace, firstRecordId: string, secondRecordId: string, labelKeys?: string[]) =>
  ws.gql(UNLINK, { input: { firstRecordId, secondRecordId, labelKeys } });

export const link = (ws: TestWorkspace, firstRecordId: string, secondRecordId: string, labelKeys: string[]) =>
  ws.gql(LINK, { input: { firstRecordId, secondRecordId, labelKeys } });

export const batchLink = (ws: TestWorkspace, links: { firstRecordId: string; secondRecordId: string; labelKeys: string[] }[]) =>
  ws.gql(BATCH_LINK, { input: { links } });

export const deleteRecord = (ws: TestWorkspace, id: string) => ws.gql(DELETE_RECORD, { input: { id } });

// ---------------------------------------------------------------------------------------------
// Reading the final state through the API.

export async function query<T = any>(ws: TestWorkspace, text: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await ws.gql<T>(text, variables);
  if (response.errors?.length || !response.data) throw new Error(`query failed: ${JSON.stringify(response.errors)}`);
  return response.data;
}

/** associationCount and recordCount of a label, as the API reports them. */
export async function labelCounts(ws: TestWorkspace, key: string): Promise<{ associationCount: number; recordCount: number }> {
  const data = await query(ws, 'query ($key: String) { associationLabel(key: $key) { associationCount recordCount } }', { key });
  return data.associationLabel;
}

/** How many associations a record takes part in (optionally only with records of one object). */
export async function associationTotal(ws: TestWorkspace, id: string, objectKey?: string): Promise<number> {
  const data = await query(
    ws,
    'query ($id: ID!, $objectKey: String) { record(id: $id) { associations(objectKey: $objectKey) { totalCount } } }',
    { id, objectKey },
  );
  return data.record.associations.totalCount;
}

// ---------------------------------------------------------------------------------------------
// Reading the stored rows directly.

export async function storedAssociations(workspaceId: number, labelKey?: string) {
  return prisma.association.findMany({
    where: { workspaceId, ...(labelKey ? { label: { key: labelKey } } : {}) },
    orderBy: { id: 'asc' },
  });
}

export async function storedEvents(workspaceId: number) {
  return associationEventRows({ workspaceId });
}

/**
 * Checks every rule 14 invariant on the stored rows of a workspace, whatever the test did:
 * - labels per unordered object pair ≤ maxLabelsPerObjectPair;
 * - distinct records per label ≤ maxRecordsPerLabel;
 * - contact↔contact associations per contact ≤ maxAssociationsPerContact;
 * - cardinality: MANY_TO_ONE ≤ 1 partner per first-side record, ONE_TO_ONE ≤ 1 per record on
 *   each side (either side for a SINGLE label on one object);
 * - a label's own limits: partners per first-side record ≤ maxSecondPerFirst, per second-side
 *   record ≤ maxFirstPerSecond (per record on either side for a SINGLE label on one object);
 * - no duplicate association (A–B and B–A count as one for a SINGLE label on one object);
 * - no association pointing at a record that does not exist;
 * - the event log matches: every stored association has one LINKED event more than UNLINKED,
 *   every removed one as many UNLINKED as LINKED (nothing vanished without an event);
 * - the usage tallies match the associations (`tallyProblems`).
 */
export async function expectWithinLimits(workspaceId: number): Promise<void> {
  const workspace = await prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId } });
  const labels = await prisma.associationLabel.findMany({ where: { workspaceId }, include: { firstObject: true, secondObject: true } });
  const associations = await storedAssociations(workspaceId);
  const records = new Set(
    (await prisma.recordModel.findMany({ where: { workspaceId }, select: { id: true } })).map((record) => record.id),
  );
  const problems: string[] = [];

  const perPair = new Map<string, number>();
  for (const label of labels) {
    const pair = [label.firstObjectId, label.secondObjectId].sort((a, b) => a - b).join('-');
    perPair.set(pair, (perPair.get(pair) ?? 0) + 1);
  }
  for (const [pair, n] of perPair) {
    if (n > workspace.maxLabelsPerObjectPair) problems.push(`${n} labels between objects ${pair} (max ${workspace.maxLabelsPerObjectPair})`);
  }

  const perContact = new Map<number, number>();
  const seen = new Set<string>();
  for (const label of labels) {
    const rows = associations.filter((a) => a.labelId === label.id);
    const symmetric = label.type === 'SINGLE' && label.firstObjectId === label.secondObjectId;
    const linked = new Set(rows.flatMap((a) => [a.firstRecordId, a.secondRecordId]));
    if (linked.size > workspace.maxRecordsPerLabel) {
      problems.push(`label ${label.key} links ${linked.size} records (max ${workspace.maxRecordsPerLabel})`);
    }
    const partners = new Map<string, number>();
    const bump = (key: string) => partners.set(key, (partners.get(key) ?? 0) + 1);
    for (const a of rows) {
      const pair = symmetric ? [a.firstRecordId, a.secondRecordId].sort((x, y) => x - y).join('-') : `${a.firstRecordId}>${a.secondRecordId}`;
      if (seen.has(`${label.id}:${pair}`)) problems.push(`duplicate association ${label.key} ${pair}`);
      seen.add(`${label.id}:${pair}`);
      if (!records.has(a.firstRecordId) || !records.has(a.secondRecordId)) {
        problems.push(`association ${a.id} points at a deleted record (${a.firstRecordId}, ${a.secondRecordId})`);
      }
      if (symmetric) {
        bump(`any:${a.firstRecordId}`);
        bump(`any:${a.secondRecordId}`);
      } else {
        bump(`first:${a.firstRecordId}`);
        bump(`second:${a.secondRecordId}`);
      }
      if (label.firstObject.key === 'contact' && label.secondObject.key === 'contact') {
        for (const id of [a.firstRecordId, a.secondRecordId]) perContact.set(id, (perContact.get(id) ?? 0) + 1);
      }
    }
    if (label.cardinality !== 'MANY_TO_MANY') {
      for (const [side, n] of partners) {
        const limited = symmetric || side.startsWith('first:') || label.cardinality === 'ONE_TO_ONE';
        if (limited && n > 1) problems.push(`label ${label.key} (${label.cardinality}): record ${side} has ${n} partners`);
      }
    }
    for (const [side, n] of partners) {
      const [name, max] = side.startsWith('second:') ? ['maxFirstPerSecond', label.maxFirstPerSecond] : ['maxSecondPerFirst', label.maxSecondPerFirst];
      if (max !== null && n > max) problems.push(`label ${label.key}: record ${side} has ${n} partners (${name} ${max})`);
    }
  }
  for (const [id, n] of perContact) {
    if (n > workspace.maxAssociationsPerContact) {
      problems.push(`contact ${id} has ${n} contact associations (max ${workspace.maxAssociationsPerContact})`);
    }
  }

  const balance = new Map<number, number>();
  for (const event of await storedEvents(workspaceId)) {
    balance.set(event.associationId, (balance.get(event.associationId) ?? 0) + (event.action === 'LINKED' ? 1 : -1));
  }
  const stored = new Set(associations.map((a) => a.id));
  for (const id of stored) if (balance.get(id) !== 1) problems.push(`association ${id} is stored but its events balance to ${balance.get(id) ?? 0}`);
  for (const [id, n] of balance) if (!stored.has(id) && n !== 0) problems.push(`association ${id} is gone but its events balance to ${n}`);

  problems.push(...(await tallyProblems(workspaceId)));
  expect(problems).toEqual([]);
}

/**
 * Where the usage tallies kept by the database's triggers (RecordLabelTally, LabelTally,
 * ContactTally) differ from what the stored associations of a workspace say they must be.
 */
export async function tallyProblems(workspaceId: number): Promise<string[]> {
  const labels = await prisma.associationLabel.findMany({ where: { workspaceId }, include: { firstObject: true } });
  const associations = await storedAssociations(workspaceId);
  const labelIds = labels.map((label) => label.id);
  const expected = { perRecord: new Map<string, number>(), perLabel: new Map<number, Set<number>>(), perContact: new Map<number, number>() };
  const bump = (map: Map<string | number, number>, key: string | number) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const a of associations) {
    const label = labels.find((l) => l.id === a.labelId)!;
    const symmetric = label.type === 'SINGLE' && label.firstObjectId === label.secondObjectId;
    bump(expected.perRecord, `${a.labelId}:${a.firstRecordId}:${symmetric ? 0 : 1}`);
    bump(expected.perRecord, `${a.labelId}:${a.secondRecordId}:${symmetric ? 0 : 2}`);
    const linked = expected.perLabel.get(a.labelId) ?? new Set<number>();
    linked.add(a.firstRecordId).add(a.secondRecordId);
    expected.perLabel.set(a.labelId, linked);
    if (label.firstObjectId === label.secondObjectId && label.firstObject.key === 'contact') {
      bump(expected.perContact, a.firstRecordId);
      bump(expected.perContact, a.secondRecordId);
    }
  }
  const text = (map: Map<string | number, number>) => [...map].map(([key, n]) => `${key}=${n}`).sort();
  const problems: string[] = [];
  const compare = (what: string, stored: string[], wanted: string[]) => {
    const extra = stored.filter((entry) => !wanted.includes(entry));
    const missing = wanted.filter((entry) => !stored.includes(entry));
    if (extra.length || missing.length) problems.push(`${what}: stored ${JSON.stringify(extra)} instead of ${JSON.stringify(missing)}`);
  };
  const perRecord = await prisma.recordLabelTally.findMany({ where: { labelId: { in: labelIds } } });
  compare(
    'RecordLabelTally',
    perRecord.map((t) => `${t.labelId}:${t.recordId}:${t.side}=${t.associations}`).sort(),
    text(expected.perRecord),
  );
  const perLabel = await prisma.labelTally.findMany({ where: { labelId: { in: labelIds } } });
  compare(
    'LabelTally',
    perLabel.filter((t) => t.records !== 0).map((t) => `${t.labelId}=${t.records}`).sort(),
    text(new Map([...expected.perLabel].map(([labelId, records]) => [labelId, records.size]))),
  );
  const perContact = await prisma.contactTally.findMany({ where: { workspaceId } });
  compare('ContactTally', perContact.map((t) => `${t.recordId}=${t.associations}`).sort(), text(expected.perContact));
  return problems;
}
