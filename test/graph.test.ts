/**
 * Reading the association graph (SPEC §1 "Roles read naturally from either side", §3 Record,
 * AssociationGroup, RecordAssociationEdge, Association, Node).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GraphReadAssociatedRecordsDocument,
  GraphReadAssociationDetailsDocument,
  GraphReadAssociationsDocument,
  GraphReadGroupsDocument,
  GraphReadIdsDocument,
  GraphReadNodeDocument,
  GraphReadNodesDocument,
  GraphReadTwoHopsDocument,
} from './generated/graphql.js';
import { execute, parse } from 'graphql';
import { schema } from '../src/graphql/index.js';
import { createLoaders } from '../src/loaders/index.js';
import { authenticate } from '../src/services/api-keys.js';
import { run, useTestApp, type TestWorkspace } from './helpers.js';
import { createContact, createLabel, createNamedObject, createRecord, globalId, link, type Ref } from './support/fixtures.js';

const t = useTestApp();

const CARS = 'custom_objects.cars';

let ws: TestWorkspace;
let other: TestWorkspace;
/** Mia manages Eli, Eli manages Zoe; Ann and Mia are colleagues; Mia owns the Tesla, Eli the Volvo. */
let mia: Ref, eli: Ref, zoe: Ref, ann: Ref, tesla: Ref, volvo: Ref;
/** Hub has five colleagues (pagination). */
let hub: Ref;
let hubColleagues: Ref[];
let managerOfZoe: string;
let teslaOwnership: string;
let labelIds: { manager: string; colleague: string; owner: string };

beforeAll(async () => {
  ws = await t.workspace('Graph');
  other = await t.workspace('Elsewhere');
  await createNamedObject(ws, 'cars', 'Car', 'Cars');
  labelIds = {
    manager: (await createLabel(ws, { key: 'manager', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Employee' })).id,
    colleague: (await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' })).id,
    owner: (await createLabel(ws, { key: 'owner', firstObjectKey: 'contact', secondObjectKey: CARS, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' })).id,
  };
  mia = await createContact(ws, 'Mia', 'Manager');
  eli = await createContact(ws, 'Eli', 'Middle');
  zoe = await createContact(ws, 'Zoe', 'Junior');
  ann = await createContact(ws, 'Ann', 'Peer');
  tesla = await createRecord(ws, CARS, { name: 'Tesla' });
  volvo = await createRecord(ws, CARS, { name: 'Volvo' });
  await link(ws, mia.id, eli.id, ['manager']);
  managerOfZoe = (await link(ws, eli.id, zoe.id, ['manager'])).associations[0]!.id;
  await link(ws, ann.id, mia.id, ['colleague']); // stored with the lower id first: Mia–Ann
  teslaOwnership = (await link(ws, tesla.id, mia.id, ['owner'])).associations[0]!.id; // car first: stored as (Mia, Tesla)
  await link(ws, eli.id, volvo.id, ['owner']);
  hub = await createContact(ws, 'Hub', 'Person');
  hubColleagues = [];
  for (const name of ['P1', 'P2', 'P3', 'P4', 'P5']) {
    const peer = await createContact(ws, name);
    await link(ws, hub.id, peer.id, ['colleague']);
    hubColleagues.push(peer);
  }
});

async function associationsOf(record: Ref, args: { first?: number; after?: string; labelKey?: string; objectKey?: string } = {}) {
  const { record: found } = await run(ws.client, GraphReadAssociationsDocument, { id: record.id, ...args });
  expect(found).not.toBeNull();
  return found!.associations;
}

/** "relatedRole: displayName" of each edge, sorted. */
async function seenFrom(record: Ref, args: { labelKey?: string; objectKey?: string } = {}) {
  const connection = await associationsOf(record, args);
  return connection.edges.map((edge) => `${edge.relatedRole}: ${edge.relatedRecord.displayName}`).sort();
}

describe('Record.associations: each association seen from this record', () => {
  it('on the manager’s page the employee appears as "Employee", and on the employee’s page the manager as "Manager"', async () => {
    expect(await seenFrom(mia)).toEqual(['Car: Tesla', 'Colleague: Ann Peer', 'Employee: Eli Middle']);
    expect(await seenFrom(eli)).toEqual(['Car: Volvo', 'Employee: Zoe Junior', 'Manager: Mia Manager']);
    expect(await seenFrom(zoe)).toEqual(['Manager: Eli Middle']);
  });

  it('a SINGLE label reads the same from both sides', async () => {
    expect(await seenFrom(ann)).toEqual(['Colleague: Mia Manager']);
    const fromMia = (await associationsOf(mia, { labelKey: 'colleague' })).edges;
    expect(fromMia.map((edge) => [edge.relatedRole, edge.relatedRecord.id])).toEqual([['Colleague', ann.id]]);
  });

  it('between a contact and a custom object: the car appears as "Car" on the contact, the contact as "Owner" on the car', async () => {
    expect(await seenFrom(tesla)).toEqual(['Owner: Mia Manager']);
    expect(await seenFrom(volvo)).toEqual(['Owner: Eli Middle']);
    const [onCar] = (await associationsOf(tesla)).edges;
    expect(onCar!.relatedRecord).toEqual({ id: mia.id, displayName: 'Mia Manager', object: { key: 'contact' } });
    const [onContact] = (await associationsOf(mia, { objectKey: CARS })).edges;
    expect(onContact!.relatedRecord).toEqual({ id: tesla.id, displayName: 'Tesla', object: { key: CARS } });
  });

  it('the edge node is the association in its stored order, whichever side it is read from', async () => {
    const fromEli = (await associationsOf(eli, { labelKey: 'manager' })).edges;
    const fromZoe = (await associationsOf(zoe, { labelKey: 'manager' })).edges;
    const toZoe = fromEli.find((edge) => edge.relatedRecord.id === zoe.id)!;
    expect(toZoe.node).toEqual(fromZoe[0]!.node);
    expect(toZoe.node).toMatchObject({
      id: managerOfZoe,
      label: { key: 'manager', firstLabel: 'Manager', secondLabel: 'Employee' },
      firstRecord: { id: eli.id },
      secondRecord: { id: zoe.id },
    });
    // Linked with the car first, stored in the label's order: contact first.
    const [ownership] = (await associationsOf(tesla)).edges;
    expect(ownership!.node).toMatchObject({ id: teslaOwnership, firstRecord: { id: mia.id }, secondRecord: { id: tesla.id } });
  });

  it('filters by labelKey and by the related record’s objectKey', async () => {
    expect(await seenFrom(eli, { labelKey: 'manager' })).toEqual(['Employee: Zoe Junior', 'Manager: Mia Manager']);
    expect(await seenFrom(eli, { labelKey: 'owner' })).toEqual(['Car: Volvo']);
    expect(await seenFrom(eli, { objectKey: CARS })).toEqual(['Car: Volvo']);
    expect(await seenFrom(eli, { objectKey: 'contact' })).toEqual(['Employee: Zoe Junior', 'Manager: Mia Manager']);
    expect(await seenFrom(mia, { labelKey: 'colleague', objectKey: 'contact' })).toEqual(['Colleague: Ann Peer']);
    expect(await seenFrom(mia, { labelKey: 'owner', objectKey: 'contact' })).toEqual([]);
    expect((await associationsOf(eli, { labelKey: 'manager' })).totalCount).toBe(2);
    expect((await associationsOf(eli, { objectKey: CARS })).totalCount).toBe(1);
    // Unknown keys match nothing (they are not ignored).
    expect(await associationsOf(eli, { labelKey: 'no_such_label' })).toMatchObject({ totalCount: 0, edges: [] });
    expect(await associationsOf(eli, { objectKey: 'custom_objects.nothing' })).toMatchObject({ totalCount: 0, edges: [] });
  });

  it('pages with first/after: hasNextPage, cursors and totalCount across pages', async () => {
    const first = await associationsOf(hub, { first: 2 });
    expect(first.totalCount).toBe(5);
    expect(first.edges).toHaveLength(2);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(first.pageInfo.startCursor).toBe(first.edges[0]!.cursor);
    expect(first.pageInfo.endCursor).toBe(first.edges[1]!.cursor);

    const second = await associationsOf(hub, { first: 2, after: first.pageInfo.endCursor! });
    expect(second.totalCount).toBe(5);
    expect(second.edges).toHaveLength(2);
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });

    const third = await associationsOf(hub, { first: 2, after: second.pageInfo.endCursor! });
    expect(third.totalCount).toBe(5);
    expect(third.edges).toHaveLength(1);
    expect(third.pageInfo.hasNextPage).toBe(false);

    const seen = [...first.edges, ...second.edges, ...third.edges].map((edge) => edge.relatedRecord.id);
    expect(new Set(seen).size).toBe(5);
    expect([...seen].sort()).toEqual(hubColleagues.map((peer) => peer.id).sort());
    for (const edge of [...first.edges, ...second.edges, ...third.edges]) expect(edge.relatedRole).toBe('Colleague');

    // Past the end: no edges, and the total is still the total.
    const past = await associationsOf(hub, { first: 2, after: third.pageInfo.endCursor! });
    expect(past).toMatchObject({ totalCount: 5, edges: [], pageInfo: { hasNextPage: false } });

    // Exactly one page.
    const all = await associationsOf(hub, { first: 5 });
    expect(all.edges).toHaveLength(5);
    expect(all.pageInfo.hasNextPage).toBe(false);
  });

  it('paginates a filtered list with a filtered total', async () => {
    const page = await associationsOf(eli, { labelKey: 'manager', first: 1 });
    expect(page.totalCount).toBe(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const rest = await associationsOf(eli, { labelKey: 'manager', first: 1, after: page.pageInfo.endCursor! });
    expect(rest.totalCount).toBe(2);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect([page.edges[0]!.relatedRole, rest.edges[0]!.relatedRole].sort()).toEqual(['Employee', 'Manager']);
  });

  it('a related record (edge or group member) reads exactly like the record itself', async () => {
    const fields = 'id displayName properties createdAt updatedAt owner { id } object { key }';
    const { data: me } = await ws.gql(`{ viewer { user { id } } }`);
    const created = await ws.gql(
      `mutation($input: CreateRecordInput!) { createRecord(input: $input) { ... on CreateRecordSuccess { record { id } } } }`,
      { input: { objectKey: CARS, properties: { name: 'Owned car' }, ownerId: me.viewer.user.id } },
    );
    const car = created.data.createRecord.record.id as string;
    await link(ws, zoe.id, car, ['owner']);
    // Separate requests: the direct read must not come from the same request's cache.
    const direct = await ws.gql(`query($id: ID!) { record(id: $id) { ${fields} } }`, { id: car });
    const related = await ws.gql(
      `query($id: ID!) { record(id: $id) {
        associations(labelKey: "owner") { edges { relatedRecord { ${fields} } } }
        associationGroups(objectKey: "${CARS}") { records { edges { node { ${fields} } } } }
      } }`,
      { id: zoe.id },
    );
    expect(direct.data.record.owner).toEqual({ id: me.viewer.user.id });
    expect(direct.data.record.properties).toEqual({ name: 'Owned car' });
    expect(related.data.record.associations.edges.map((edge: any) => edge.relatedRecord)).toEqual([direct.data.record]);
    expect(related.data.record.associationGroups[0].records.edges.map((edge: any) => edge.node)).toEqual([direct.data.record]);
    await ws.gql(`mutation($id: ID!) { deleteRecord(input: { id: $id }) { __typename } }`, { id: car });
  });

  it('related records read without details (summaries) still answer details asked through fragments, or of a summary', async () => {
    const summaryFields = 'id displayName owner { id } object { key }';
    const allFields = `${summaryFields} properties createdAt updatedAt`;
    const ownedCars = (response: any) => response.data.record.associations.edges.map((edge: any) => edge.relatedRecord);
    const direct = (await ws.gql(`query($id: ID!) { record(id: $id) { ${allFields} } }`, { id: tesla.id })).data.record;
    const { properties, createdAt, updatedAt, ...summary } = direct;
    expect(properties).toEqual({ name: 'Tesla' });
    expect([createdAt, updatedAt].every((value: string) => Date.parse(value) > 0)).toBe(true);

    // No detail anywhere in the operation: related records are read as summaries.
    const lean = await ws.gql(`query($id: ID!) { record(id: $id) { associations(labelKey: "owner") { edges { relatedRecord { ${summaryFields} } } } } }`, {
      id: mia.id,
    });
    expect(ownedCars(lean)).toEqual([summary]);
    // Details inside a fragment: read whole.
    const whole = await ws.gql(
      `query($id: ID!) { record(id: $id) { associations(labelKey: "owner") { edges { relatedRecord { ...Details } } } } }
       fragment Details on Record { ${allFields} }`,
      { id: mia.id },
    );
    expect(ownedCars(whole)).toEqual([direct]);
    // …in the same statement as the summaries would have been: the look-ahead chose whole records.
    const again = await ws.gql(`query($id: ID!) { record(id: $id) { associations(labelKey: "owner") { edges { relatedRecord { ${summaryFields} } } } } }`, {
      id: mia.id,
    });
    expect(whole.extensions?.sqlStatements).toBe(again.extensions?.sqlStatements);

    // A detail asked of a summary (the document look-ahead leaves no way to this over HTTP; it is
    // the fallback) is read whole through the record loader.
    const viewer = (await authenticate(ws.apiKey))!;
    const result = await execute({
      schema,
      document: parse(`query($id: ID!) { record(id: $id) { associations(labelKey: "owner") { edges { relatedRecord { ${allFields} } } } } }`),
      variableValues: { id: mia.id },
      contextValue: { viewer, loaders: createLoaders(viewer, { wholeRelatedRecords: false }) },
    });
    expect(result.errors).toBeUndefined();
    expect(JSON.parse(JSON.stringify(result.data))).toEqual({ record: { associations: { edges: [{ relatedRecord: direct }] } } });
  });

  it('rejects first outside 1..100', async () => {
    for (const first of [0, 101]) {
      const response = await ws.gql(`query($id: ID!, $first: Int) { record(id: $id) { associations(first: $first) { totalCount } } }`, {
        id: eli.id,
        first,
      });
      expect(response.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    }
  });
});

describe('Record.associationGroups: the record page’s Associations panel', () => {
  async function groupsOf(record: Ref, args: { objectKey?: string; first?: number; after?: string } = {}) {
    const { record: found } = await run(ws.client, GraphReadGroupsDocument, { id: record.id, ...args });
    return found!.associationGroups;
  }
  const summary = (groups: Awaited<ReturnType<typeof groupsOf>>) =>
    groups
      .map((group) => ({
        label: group.label.key,
        relatedRole: group.relatedRole,
        relatedObject: group.relatedObject.key,
        totalCount: group.totalCount,
        records: group.records.edges.map((edge) => edge.node.displayName).sort(),
      }))
      .sort((a, b) => `${a.label}${a.relatedRole}`.localeCompare(`${b.label}${b.relatedRole}`));

  it('a PAIR label on one object gives separate "Manager" and "Employee" groups for a contact that is both', async () => {
    expect(summary(await groupsOf(eli))).toEqual([
      { label: 'manager', relatedRole: 'Employee', relatedObject: 'contact', totalCount: 1, records: ['Zoe Junior'] },
      { label: 'manager', relatedRole: 'Manager', relatedObject: 'contact', totalCount: 1, records: ['Mia Manager'] },
      { label: 'owner', relatedRole: 'Car', relatedObject: CARS, totalCount: 1, records: ['Volvo'] },
    ]);
  });

  it('groups read from either side, with the group heading naming the related records’ role', async () => {
    expect(summary(await groupsOf(mia))).toEqual([
      { label: 'colleague', relatedRole: 'Colleague', relatedObject: 'contact', totalCount: 1, records: ['Ann Peer'] },
      { label: 'manager', relatedRole: 'Employee', relatedObject: 'contact', totalCount: 1, records: ['Eli Middle'] },
      { label: 'owner', relatedRole: 'Car', relatedObject: CARS, totalCount: 1, records: ['Tesla'] },
    ]);
    expect(summary(await groupsOf(ann))).toEqual([
      { label: 'colleague', relatedRole: 'Colleague', relatedObject: 'contact', totalCount: 1, records: ['Mia Manager'] },
    ]);
    expect(summary(await groupsOf(tesla))).toEqual([
      { label: 'owner', relatedRole: 'Owner', relatedObject: 'contact', totalCount: 1, records: ['Mia Manager'] },
    ]);
  });

  it('a SINGLE label on one object is one group whichever side the record is stored on', async () => {
    // Stored lower id first: y is second with x and first with z.
    const x = await createContact(ws, 'Xavier');
    const y = await createContact(ws, 'Yara');
    const z = await createContact(ws, 'Zed');
    await link(ws, y.id, x.id, ['colleague']);
    await link(ws, y.id, z.id, ['colleague']);
    expect(summary(await groupsOf(y))).toEqual([
      { label: 'colleague', relatedRole: 'Colleague', relatedObject: 'contact', totalCount: 2, records: ['Xavier', 'Zed'] },
    ]);
    expect(summary(await groupsOf(x)).map((group) => [group.relatedRole, group.records])).toEqual([['Colleague', ['Yara']]]);
    expect(summary(await groupsOf(z)).map((group) => [group.relatedRole, group.records])).toEqual([['Colleague', ['Yara']]]);
    const groups = await groupsOf(hub);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ relatedRole: 'Colleague', totalCount: 5, label: { key: 'colleague' } });
  });

  it('filters by objectKey', async () => {
    expect(summary(await groupsOf(eli, { objectKey: CARS }))).toEqual([
      { label: 'owner', relatedRole: 'Car', relatedObject: CARS, totalCount: 1, records: ['Volvo'] },
    ]);
    expect(summary(await groupsOf(eli, { objectKey: 'contact' })).map((group) => group.relatedRole)).toEqual(['Employee', 'Manager']);
    expect(await groupsOf(eli, { objectKey: 'custom_objects.nothing' })).toEqual([]);
    expect(await groupsOf(zoe, { objectKey: CARS })).toEqual([]);
  });

  it('pages a group’s records with records(first, after) and keeps the group total', async () => {
    const [group] = await groupsOf(hub, { first: 2 });
    expect(group!.totalCount).toBe(5);
    expect(group!.records.totalCount).toBe(5);
    expect(group!.records.edges).toHaveLength(2);
    expect(group!.records.pageInfo.hasNextPage).toBe(true);
    const [next] = await groupsOf(hub, { first: 3, after: group!.records.pageInfo.endCursor! });
    expect(next!.records.edges).toHaveLength(3);
    expect(next!.records.pageInfo.hasNextPage).toBe(false);
    const ids = [...group!.records.edges, ...next!.records.edges].map((edge) => edge.node.id).sort();
    expect(ids).toEqual(hubColleagues.map((peer) => peer.id).sort());
  });
});

describe('records(filter: { associatedWith })', () => {
  const names = async (objectKey: string, recordId: string, labelKey?: string) => {
    const { records } = await run(ws.client, GraphReadAssociatedRecordsDocument, { objectKey, recordId, labelKey });
    expect(records.totalCount).toBe(records.edges.length);
    return records.edges.map((edge) => edge.node.displayName).sort();
  };

  it('lists the records linked to a record, from either side, optionally under one label', async () => {
    expect(await names('contact', eli.id)).toEqual(['Mia Manager', 'Zoe Junior']);
    expect(await names('contact', eli.id, 'manager')).toEqual(['Mia Manager', 'Zoe Junior']);
    expect(await names('contact', eli.id, 'colleague')).toEqual([]);
    expect(await names('contact', mia.id)).toEqual(['Ann Peer', 'Eli Middle']);
    expect(await names('contact', ann.id, 'colleague')).toEqual(['Mia Manager']);
    expect(await names(CARS, mia.id)).toEqual(['Tesla']);
    expect(await names('contact', tesla.id, 'owner')).toEqual(['Mia Manager']);
    expect(await names('contact', hub.id)).toEqual(['P1', 'P2', 'P3', 'P4', 'P5']);
  });

  it('matches nothing for an unknown record, an unknown label, or a record of another workspace', async () => {
    expect(await names('contact', globalId('Record', 999_999))).toEqual([]);
    expect(await names('contact', 'not-an-id')).toEqual([]);
    expect(await names('contact', eli.id, 'no_such_label')).toEqual([]);
    const { records } = await run(other.client, GraphReadAssociatedRecordsDocument, { objectKey: 'contact', recordId: eli.id });
    expect(records).toEqual({ totalCount: 0, edges: [] });
  });
});

describe('Association fields', () => {
  it('exposes label, firstRecord, secondRecord, createdAt and createdBy', async () => {
    const before = Date.now();
    const extra = await createContact(ws, 'Extra');
    await link(ws, zoe.id, extra.id, ['manager']);
    const { record } = await run(ws.client, GraphReadAssociationDetailsDocument, { recordId: extra.id, labelKey: 'manager' });
    const { viewer } = await run(ws.client, GraphReadIdsDocument, {});
    const [edge] = record!.associations.edges;
    expect(edge!.node).toMatchObject({
      label: { id: labelIds.manager, key: 'manager', firstLabel: 'Manager', secondLabel: 'Employee' },
      firstRecord: { id: zoe.id, displayName: 'Zoe Junior' },
      secondRecord: { id: extra.id, displayName: 'Extra' },
      createdBy: { id: viewer.user.id },
    });
    const createdAt = Date.parse(edge!.node.createdAt);
    expect(createdAt).toBeGreaterThanOrEqual(before - 5_000);
    expect(createdAt).toBeLessThanOrEqual(Date.now() + 5_000);
  });
});

describe('node and nodes', () => {
  it('resolve every Node type of the workspace, and nothing of another workspace or unknown', async () => {
    const { viewer, object } = await run(ws.client, GraphReadIdsDocument, {});
    const expected = [
      { id: viewer.workspace.id, __typename: 'Workspace', name: 'Graph' },
      { id: viewer.user.id, __typename: 'User', role: 'ADMIN' },
      { id: object!.id, __typename: 'Object', key: 'contact' },
      { id: mia.id, __typename: 'Record', displayName: 'Mia Manager' },
      { id: labelIds.manager, __typename: 'AssociationLabel', key: 'manager', firstLabel: 'Manager' },
      {
        id: managerOfZoe,
        __typename: 'Association',
        label: { key: 'manager' },
        firstRecord: { displayName: 'Eli Middle' },
        secondRecord: { displayName: 'Zoe Junior' },
      },
    ];
    for (const node of expected) {
      const { node: found } = await run(ws.client, GraphReadNodeDocument, { id: node.id });
      expect(found).toMatchObject(node);
    }
    const unknown = [
      globalId('Record', 999_999),
      globalId('Association', 999_999),
      globalId('AssociationLabel', 999_999),
      globalId('User', 999_999),
      globalId('Workspace', 999_999),
      globalId('Object', 999_999),
      globalId('Nope', 1),
      globalId('AssociationEvent', 1), // exists, but events are not Nodes
      globalId('ApiKey', 1),
      globalId('Field', 1),
      Buffer.from('Record:abc').toString('base64'),
      Buffer.from('Record:1:2').toString('base64'),
      'not-a-global-id',
      '',
    ];
    const { nodes } = await run(ws.client, GraphReadNodesDocument, { ids: [...expected.map((node) => node.id), ...unknown] });
    expect(nodes.slice(0, expected.length)).toMatchObject(expected);
    expect(nodes.slice(expected.length)).toEqual(unknown.map(() => null));
    for (const id of unknown) {
      const response = await ws.gql(`query($id: ID!) { node(id: $id) { id } }`, { id });
      expect(response.data).toEqual({ node: null });
    }

    // The same ids from another workspace: each answers exactly like an unknown id.
    const ids = expected.map((node) => node.id);
    const elsewhere = await run(other.client, GraphReadNodesDocument, { ids });
    expect(elsewhere.nodes).toEqual(ids.map(() => null));
    for (const id of ids) {
      const { node } = await run(other.client, GraphReadNodeDocument, { id });
      expect(node).toBeNull();
    }
    // ...while the other workspace resolves its own.
    const own = await run(other.client, GraphReadIdsDocument, {});
    const { nodes: ownNodes } = await run(other.client, GraphReadNodesDocument, {
      ids: [own.viewer.workspace.id, own.viewer.user.id, own.object!.id],
    });
    expect(ownNodes.map((node) => node?.__typename)).toEqual(['Workspace', 'User', 'Object']);
  });

  it('Record.node of another workspace is null through record(id) too', async () => {
    const response = await other.gql(`query($id: ID!) { record(id: $id) { id } }`, { id: mia.id });
    expect(response.data).toEqual({ record: null });
  });
});

describe('traversal', () => {
  it('follows two hops (record → related records → their related records) in one request', async () => {
    const { record } = await run(ws.client, GraphReadTwoHopsDocument, { id: mia.id });
    expect(record!.displayName).toBe('Mia Manager');
    const hop = Object.fromEntries(
      record!.associations.edges.map((edge) => [
        `${edge.relatedRole}: ${edge.relatedRecord.displayName}`,
        {
          totalCount: edge.relatedRecord.associations.totalCount,
          related: edge.relatedRecord.associations.edges.map((next) => `${next.relatedRole}: ${next.relatedRecord.displayName}`).sort(),
        },
      ]),
    );
    expect(hop).toEqual({
      'Employee: Eli Middle': { totalCount: 3, related: ['Car: Volvo', 'Employee: Zoe Junior', 'Manager: Mia Manager'] },
      'Colleague: Ann Peer': { totalCount: 1, related: ['Colleague: Mia Manager'] },
      'Car: Tesla': { totalCount: 1, related: ['Owner: Mia Manager'] },
    });
  });
});
