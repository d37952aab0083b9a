/**
 * Graph exploration (SPEC §5.4): Record.neighborhood, Query.path and Record.mutualAssociations,
 * through HTTP, with visibility, validation, the batching rule and the cost guard.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_OPERATIONS } from '../src/examples.js';
import { seedDemo } from '../src/services/demo.js';
import { useTestApp, type TestWorkspace } from './helpers.js';
import { batchLink, createLabel, createNamedObject, createRecord, createRecords, link, updateLimits, type Ref } from './support/fixtures.js';
import { createUser, numericId, setAccess, type TestUser } from './support/permissions.js';

const t = useTestApp();
const CARS = 'custom_objects.cars';

let ws: TestWorkspace;
let other: TestWorkspace;
/**
 * Ann–Bob colleagues (1), Ann manages Cat (2), Bob–Cat colleagues (3), Cat manages Dan (4),
 * Dan–Eve colleagues (5), Eve–Fay colleagues (6), Ann owns the Tesla (7). Gus has no links.
 * The numbers are the associations' creation order.
 */
let ann: Ref, bob: Ref, cat: Ref, dan: Ref, eve: Ref, fay: Ref, gus: Ref, tesla: Ref;
const assoc: string[] = [];
/** A USER who sees the contacts they own (all but Cat) and every car. */
let member: TestUser;

const NEIGHBORHOOD = `query ($id: ID!, $depth: Int, $limit: Int, $labelKeys: [String!], $objectKeys: [String!]) {
  record(id: $id) {
    neighborhood(depth: $depth, limit: $limit, labelKeys: $labelKeys, objectKeys: $objectKeys) {
      nodes { distance record { id displayName } }
      edges { id label { key } firstRecord { displayName } secondRecord { displayName } }
      truncated
    }
  }
}`;

const PATH = `query ($from: ID!, $to: ID!, $maxHops: Int, $labelKeys: [String!]) {
  path(from: $from, to: $to, maxHops: $maxHops, labelKeys: $labelKeys) {
    length
    records { displayName }
    associations { id label { key } }
  }
}`;

const MUTUAL = `query ($id: ID!, $with: ID!, $first: Int, $after: String) {
  record(id: $id) {
    mutualAssociations(with: $with, first: $first, after: $after) {
      totalCount
      edges { node { displayName } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

interface Shown {
  nodes: string[];
  edges: string[];
  truncated: boolean;
}

async function neighborhood(gql: TestWorkspace['gql'], record: Ref, variables: Record<string, unknown> = {}): Promise<Shown> {
  const response = await gql(NEIGHBORHOOD, { id: record.id, ...variables });
  expect(response.errors).toBeUndefined();
  const result = response.data.record.neighborhood;
  return {
    nodes: result.nodes.map((node: any) => `${node.distance} ${node.record.displayName}`),
    edges: result.edges.map((edge: any) => `${edge.firstRecord.displayName} ${edge.label.key} ${edge.secondRecord.displayName}`),
    truncated: result.truncated,
  };
}

const names = (refs: Ref[]) => refs.map((ref) => ref.displayName);

beforeAll(async () => {
  ws = await t.workspace('Exploration');
  other = await t.workspace('Elsewhere');
  await createNamedObject(ws, 'cars', 'Car', 'Cars');
  await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
  await createLabel(ws, { key: 'manager', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Employee' });
  await createLabel(ws, { key: 'owner', firstObjectKey: 'contact', secondObjectKey: CARS, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' });
  member = await createUser(t, ws.gql);
  await setAccess(ws.gql, member.id, 'contact', 'ASSIGNED');
  const contact = async (firstName: string, owner: string | null) => {
    const record = await createRecord(ws, 'contact', { firstName });
    if (owner) {
      const response = await ws.gql(`mutation ($input: UpdateRecordInput!) { updateRecord(input: $input) { __typename } }`, {
        input: { id: record.id, ownerId: owner },
      });
      expect(response.data.updateRecord.__typename).toBe('UpdateRecordSuccess');
    }
    return record;
  };
  ann = await contact('Ann', member.id);
  bob = await contact('Bob', member.id);
  cat = await contact('Cat', null); // hidden from the member
  dan = await contact('Dan', member.id);
  eve = await contact('Eve', member.id);
  fay = await contact('Fay', member.id);
  gus = await contact('Gus', member.id);
  tesla = await createRecord(ws, CARS, { name: 'Tesla' });
  for (const [first, second, label] of [
    [ann, bob, 'colleague'],
    [ann, cat, 'manager'],
    [bob, cat, 'colleague'],
    [cat, dan, 'manager'],
    [dan, eve, 'colleague'],
    [eve, fay, 'colleague'],
    [ann, tesla, 'owner'],
  ] as const) {
    assoc.push((await link(ws, first.id, second.id, [label])).associations[0]!.id);
  }
});

describe('Record.neighborhood', () => {
  it('gives the records within depth hops breadth-first, with their distance, and every association among them', async () => {
    expect(await neighborhood(ws.gql, ann)).toEqual({
      nodes: ['0 Ann', '1 Bob', '1 Cat', '1 Tesla'],
      edges: ['Ann colleague Bob', 'Ann manager Cat', 'Bob colleague Cat', 'Ann owner Tesla'],
      truncated: false,
    });
    expect(await neighborhood(ws.gql, ann, { depth: 2 })).toEqual({
      nodes: ['0 Ann', '1 Bob', '1 Cat', '1 Tesla', '2 Dan'],
      edges: ['Ann colleague Bob', 'Ann manager Cat', 'Bob colleague Cat', 'Cat manager Dan', 'Ann owner Tesla'],
      truncated: false,
    });
    expect((await neighborhood(ws.gql, ann, { depth: 3 })).nodes).toEqual(['0 Ann', '1 Bob', '1 Cat', '1 Tesla', '2 Dan', '3 Eve']);
    // From the other end, and for a record with no links.
    expect((await neighborhood(ws.gql, fay, { depth: 3 })).nodes).toEqual(['0 Fay', '1 Eve', '2 Dan', '3 Cat']);
    expect(await neighborhood(ws.gql, gus, { depth: 3 })).toEqual({ nodes: ['0 Gus'], edges: [], truncated: false });
  });

  it('is cut by the limit (the starting record included) and says so', async () => {
    expect(await neighborhood(ws.gql, ann, { limit: 3 })).toEqual({
      nodes: ['0 Ann', '1 Bob', '1 Cat'],
      edges: ['Ann colleague Bob', 'Ann manager Cat', 'Bob colleague Cat'],
      truncated: true,
    });
    expect(await neighborhood(ws.gql, ann, { limit: 1 })).toEqual({ nodes: ['0 Ann'], edges: [], truncated: true });
    expect((await neighborhood(ws.gql, ann, { limit: 4 })).truncated).toBe(false);
  });

  it('filters by label and by object: what is filtered out is not a stepping stone either', async () => {
    expect(await neighborhood(ws.gql, ann, { depth: 3, labelKeys: ['colleague'] })).toEqual({
      nodes: ['0 Ann', '1 Bob', '2 Cat'],
      edges: ['Ann colleague Bob', 'Bob colleague Cat'],
      truncated: false,
    });
    expect((await neighborhood(ws.gql, ann, { depth: 2, objectKeys: ['contact'] })).nodes).toEqual(['0 Ann', '1 Bob', '1 Cat', '2 Dan']);
    expect((await neighborhood(ws.gql, tesla, { depth: 2, objectKeys: [CARS] })).nodes).toEqual(['0 Tesla']);
    // An unknown key matches nothing.
    expect(await neighborhood(ws.gql, ann, { labelKeys: ['no_such_label'] })).toEqual({ nodes: ['0 Ann'], edges: [], truncated: false });
  });

  it('never shows, crosses or counts a record the viewer cannot see', async () => {
    // Cat is hidden: Dan and everything past him are out of reach, and the limit is not "cut" by Cat.
    expect(await neighborhood(member.gql, ann, { depth: 3 })).toEqual({
      nodes: ['0 Ann', '1 Bob', '1 Tesla'],
      edges: ['Ann colleague Bob', 'Ann owner Tesla'],
      truncated: false,
    });
    expect((await neighborhood(member.gql, ann, { depth: 3, limit: 3 })).truncated).toBe(false);
    expect((await neighborhood(ws.gql, ann, { depth: 3, limit: 3 })).truncated).toBe(true);
    expect(await neighborhood(member.gql, fay, { depth: 3 })).toEqual({
      nodes: ['0 Fay', '1 Eve', '2 Dan'],
      edges: ['Dan colleague Eve', 'Eve colleague Fay'],
      truncated: false,
    });
    // Another workspace's key cannot even reach the record.
    expect((await other.gql(NEIGHBORHOOD, { id: ann.id })).data.record).toBeNull();
  });

  it('refuses a depth or limit out of range with VALIDATION', async () => {
    for (const [variables, field] of [
      [{ depth: 0 }, 'depth'],
      [{ depth: 4 }, 'depth'],
      [{ limit: 0 }, 'limit'],
      [{ limit: 1001 }, 'limit'],
    ] as const) {
      const response = await ws.gql(NEIGHBORHOOD, { id: ann.id, ...variables });
      expect(response.errors?.[0]).toMatchObject({ extensions: { code: 'VALIDATION' } });
      expect(response.errors?.[0]?.message).toContain(field);
    }
  });
});

describe('Query.path', () => {
  const path = async (gql: TestWorkspace['gql'], from: Ref | string, to: Ref | string, variables: Record<string, unknown> = {}) => {
    const response = await gql(PATH, { from: typeof from === 'string' ? from : from.id, to: typeof to === 'string' ? to : to.id, ...variables });
    expect(response.errors).toBeUndefined();
    const found = response.data.path;
    return found && { length: found.length, records: found.records.map((r: any) => r.displayName), associations: found.associations.map((a: any) => a.id) };
  };

  it('finds a shortest path, in order, from either end', async () => {
    expect(await path(ws.gql, ann, eve)).toEqual({ length: 3, records: ['Ann', 'Cat', 'Dan', 'Eve'], associations: [assoc[1], assoc[3], assoc[4]] });
    expect(await path(ws.gql, eve, ann)).toEqual({ length: 3, records: ['Eve', 'Dan', 'Cat', 'Ann'], associations: [assoc[4], assoc[3], assoc[1]] });
    expect(await path(ws.gql, tesla, fay)).toBeNull(); // 5 hops: beyond the default maxHops, 4
    expect(await path(ws.gql, tesla, fay, { maxHops: 5 })).toEqual({
      length: 5,
      records: ['Tesla', 'Ann', 'Cat', 'Dan', 'Eve', 'Fay'],
      associations: [assoc[6], assoc[1], assoc[3], assoc[4], assoc[5]],
    });
    expect(await path(ws.gql, bob, bob)).toEqual({ length: 0, records: ['Bob'], associations: [] });
  });

  it('answers null beyond maxHops, between unconnected records, and through labels that do not connect them', async () => {
    expect(await path(ws.gql, ann, eve, { maxHops: 2 })).toBeNull();
    expect(await path(ws.gql, ann, eve, { maxHops: 3 })).not.toBeNull();
    expect(await path(ws.gql, ann, gus, { maxHops: 6 })).toBeNull();
    expect(await path(ws.gql, ann, eve, { labelKeys: ['colleague'] })).toBeNull();
    expect(await path(ws.gql, ann, cat, { labelKeys: ['colleague'] })).toEqual({
      length: 2,
      records: ['Ann', 'Bob', 'Cat'],
      associations: [assoc[0], assoc[2]],
    });
  });

  it('goes only through records the viewer can see, and answers a hidden or foreign end like a missing one', async () => {
    expect(await path(member.gql, ann, eve, { maxHops: 6 })).toBeNull(); // every path passes Cat
    expect(await path(member.gql, dan, fay)).toEqual({ length: 2, records: ['Dan', 'Eve', 'Fay'], associations: [assoc[4], assoc[5]] });
    expect(await path(member.gql, ann, cat)).toBeNull();
    expect(await path(other.gql, ann, bob)).toBeNull();
    expect(await path(ws.gql, ann, 'UmVjb3JkOjk5OTk5OQ==')).toBeNull(); // Record:999999
  });

  it('refuses maxHops out of range with VALIDATION', async () => {
    for (const maxHops of [0, 7]) {
      const response = await ws.gql(PATH, { from: ann.id, to: eve.id, maxHops });
      expect(response.errors?.[0]).toMatchObject({ extensions: { code: 'VALIDATION' } });
      expect(response.errors?.[0]?.message).toContain('maxHops must be from 1 to 6');
    }
  });
});

describe('Record.mutualAssociations', () => {
  const mutual = async (gql: TestWorkspace['gql'], record: Ref, withId: string, variables: Record<string, unknown> = {}) => {
    const response = await gql(MUTUAL, { id: record.id, with: withId, ...variables });
    expect(response.errors).toBeUndefined();
    const connection = response.data.record.mutualAssociations;
    return { total: connection.totalCount, names: connection.edges.map((e: any) => e.node.displayName), pageInfo: connection.pageInfo };
  };

  it('lists the records linked to both, in creation order, never the two themselves', async () => {
    expect(await mutual(ws.gql, ann, cat.id)).toMatchObject({ total: 1, names: ['Bob'] }); // Ann–Cat are linked too
    expect(await mutual(ws.gql, bob, cat.id)).toMatchObject({ total: 1, names: ['Ann'] });
    expect(await mutual(ws.gql, ann, dan.id)).toMatchObject({ total: 1, names: ['Cat'] });
    expect(await mutual(ws.gql, ann, gus.id)).toMatchObject({ total: 0, names: [] });
  });

  it('pages with first/after and counts across pages', async () => {
    const [p, q, ...created] = await createRecords(ws, 'contact', ['P', 'Q', 'M1', 'M2', 'M3'].map((firstName) => ({ firstName })));
    const shared = created.sort((a, b) => numericId(a.id) - numericId(b.id)); // created concurrently
    await batchLink(ws, shared.flatMap((m) => [
      { firstRecordId: p!.id, secondRecordId: m.id, labelKeys: ['colleague'] },
      { firstRecordId: m.id, secondRecordId: q!.id, labelKeys: ['manager'] },
    ]));
    const first = await mutual(ws.gql, p!, q!.id, { first: 2 });
    expect(first).toMatchObject({ total: 3, names: names(shared.slice(0, 2)), pageInfo: { hasNextPage: true } });
    const next = await mutual(ws.gql, p!, q!.id, { first: 2, after: first.pageInfo.endCursor });
    expect(next).toMatchObject({ total: 3, names: names(shared.slice(2)), pageInfo: { hasNextPage: false } });
  });

  it('counts and lists only what the viewer can see; a hidden or foreign `with` gives nothing', async () => {
    expect(await mutual(member.gql, ann, dan.id)).toMatchObject({ total: 0, names: [] }); // Cat is hidden
    expect(await mutual(member.gql, ann, cat.id)).toMatchObject({ total: 0, names: [] }); // so is `with`
    expect(await mutual(member.gql, dan, fay.id)).toMatchObject({ total: 1, names: ['Eve'] });
    expect((await other.gql(MUTUAL, { id: ann.id, with: cat.id })).data.record).toBeNull();
    const foreign = await createRecord(other, 'contact', { firstName: 'Stranger' });
    expect(await mutual(ws.gql, ann, foreign.id)).toMatchObject({ total: 0, names: [] });
  });
});

describe('cost: bounded by the request, never by the data', () => {
  it('a list page of neighbourhoods costs the same statements for 5 and 50 records; a path at most its hops plus a constant', async () => {
    const ring = await t.workspace('Ring');
    await createLabel(ring, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
    const people = await createRecords(ring, 'contact', Array.from({ length: 50 }, (_, i) => ({ firstName: `P${String(i).padStart(2, '0')}` })));
    await batchLink(ring, people.map((person, i) => ({ firstRecordId: person.id, secondRecordId: people[(i + 1) % 50]!.id, labelKeys: ['colleague'] })));
    const page = (first: number, depth: number) =>
      ring.gql(`query ($first: Int, $depth: Int) { records(objectKey: "contact", first: $first) { edges { node {
        displayName neighborhood(depth: $depth, limit: 50) { truncated nodes { distance record { displayName } } edges { label { key } } }
      } } } }`, { first, depth });
    await page(1, 1); // the workspace's objects and labels, read once and cached
    for (const depth of [1, 2, 3]) {
      const [small, large] = [await page(5, depth), await page(50, depth)];
      expect(small.errors).toBeUndefined();
      expect(large.errors).toBeUndefined();
      // Each record sees 2·depth others on the ring.
      expect(large.data.records.edges.every((edge: any) => edge.node.neighborhood.nodes.length === 1 + 2 * depth)).toBe(true);
      expect(small.extensions!.sqlStatements).toBe(large.extensions!.sqlStatements);
      // Authentication, the page, one per hop, one for the farthest nodes' links.
      expect(large.extensions!.sqlStatements).toBeLessThanOrEqual(depth + 3);
    }
    // The path between opposite ends of the ring is 25 hops: none within 6, found within 6 at 6 apart.
    for (const [to, maxHops, length] of [[25, 6, null], [6, 6, 6], [3, 3, 3]] as const) {
      const response = await ring.gql(PATH, { from: people[0]!.id, to: people[to]!.id, maxHops });
      expect(response.data.path?.length ?? null).toBe(length);
      // Authentication, the two ends, one per hop (the side's link counts, the meeting looked
      // for pair by pair, and its links, each read only when needed), the path's records.
      expect(response.extensions!.sqlStatements).toBeLessThanOrEqual(maxHops + 3);
    }
  });

  it('a hub’s neighbourhood (600 links, limit 100): its first links in link order, truncated, in the statements of a small one', async () => {
    const hubWs = await t.workspace('Hub');
    await createNamedObject(hubWs, 'cars', 'Car', 'Cars');
    await createLabel(hubWs, { key: 'owner', firstObjectKey: 'contact', secondObjectKey: CARS, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' });
    await updateLimits(hubWs, { maxRecordsPerLabel: 2000 });
    const hub = await createRecord(hubWs, CARS, { name: 'Fleet' });
    const owners = await createRecords(hubWs, 'contact', Array.from({ length: 600 }, (_, i) => ({ firstName: `O${i}` })));
    await batchLink(hubWs, owners.map((owner) => ({ firstRecordId: owner.id, secondRecordId: hub.id, labelKeys: ['owner'] })));
    const query = `query ($id: ID!) { record(id: $id) { neighborhood(limit: 100) { truncated nodes { record { displayName } } edges { id } } } }`;
    await hubWs.gql(query, { id: hub.id }); // the workspace's objects and labels, read once and cached
    const big = await hubWs.gql(query, { id: hub.id });
    const small = await hubWs.gql(query, { id: owners[0]!.id });
    expect(big.data.record.neighborhood.nodes).toHaveLength(100);
    expect(big.data.record.neighborhood.edges).toHaveLength(99);
    expect(big.data.record.neighborhood.truncated).toBe(true);
    // The first 99 owners in link order.
    expect(big.data.record.neighborhood.nodes.slice(1).map((n: any) => n.record.displayName)).toEqual(names(owners.slice(0, 99)));
    expect(small.data.record.neighborhood).toMatchObject({ truncated: false, nodes: [{}, { record: { displayName: 'Fleet' } }] });
    expect(big.extensions!.sqlStatements).toBe(small.extensions!.sqlStatements);
  });

  it('joins the query cost limit: a page of large neighbourhoods is refused before it runs', async () => {
    const response = await ws.gql(`{ records(objectKey: "contact", first: 100) { edges { node { neighborhood(limit: 1000) { truncated } } } } }`);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]).toMatchObject({ extensions: { code: 'QUERY_TOO_COSTLY' } });
    const one = await ws.gql(`query ($id: ID!) { record(id: $id) { neighborhood(limit: 1000) { truncated } } }`, { id: ann.id });
    expect(one.errors).toBeUndefined();
  });
});

describe('the demo', () => {
  it('GraphiQL’s Explore tab runs as it is and shows the first contact’s neighbourhood', async () => {
    const { apiKey } = await seedDemo();
    const operation = EXAMPLE_OPERATIONS.find((text) => text.includes('query Explore'))!;
    const response = await t.post(operation, {}, apiKey);
    expect(response.errors).toBeUndefined();
    const node = response.data.records.edges[0].node;
    expect(node.displayName).toBe('Ada Lovelace');
    const { nodes, edges, truncated } = node.neighborhood;
    expect(truncated).toBe(false);
    expect(nodes[0]).toMatchObject({ distance: 0, record: { displayName: 'Ada Lovelace', object: { key: 'contact' } } });
    expect(new Set(nodes.map((n: any) => n.distance))).toEqual(new Set([0, 1, 2]));
    expect(edges.length).toBeGreaterThanOrEqual(nodes.length - 1);
  });
});
