/**
 * The batching rule: "a page of N records that asks for their associations, groups, related
 * records and label names must cost the same number of SQL statements for N = 5 and N = 50".
 * `extensions.sqlStatements` counts every statement of a request (authentication included).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalId } from '../src/services/ids.js';
import { DB, useTestApp, type TestWorkspace } from './helpers.js';
import { batchLink, createLabel, createNamedObject, createRecords, type LinkItem, type Ref } from './support/fixtures.js';

const t = useTestApp();

const CARS = 'custom_objects.cars';

/**
 * A ring of `size` contacts C00..: i and i+1 are colleagues (SINGLE), i manages i+2 (PAIR
 * Manager/Employee), i mentors i+3 (PAIR Mentor/Mentee): every contact has the same six
 * contact↔contact associations and the same six groups. Contact i owns car i; contact 0 also
 * owns `extraCars` more.
 */
interface Ring {
  ws: TestWorkspace;
  size: number;
  contacts: Ref[];
  /** Per contact display name: the sorted "Role: related name" it should see. */
  expected: Map<string, string[]>;
}

const idNumber = (eventId: string) => decodeGlobalId(eventId, 'AssociationEvent')!;

const name = (i: number) => `C${String(i).padStart(2, '0')} Ring`;

async function buildRing(label: string, size: number, extraCars: number): Promise<Ring> {
  const ws = await t.workspace(label);
  await createNamedObject(ws, 'cars', 'Car', 'Cars');
  await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
  await createLabel(ws, { key: 'manager', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Employee' });
  await createLabel(ws, { key: 'mentor', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Mentor', secondLabel: 'Mentee' });
  await createLabel(ws, { key: 'owner', firstObjectKey: 'contact', secondObjectKey: CARS, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' });

  const contacts = await createRecords(
    ws,
    'contact',
    Array.from({ length: size }, (_, i) => ({ firstName: name(i).split(' ')[0], lastName: 'Ring' })),
  );
  const byIndex = (i: number) => contacts.find((contact) => contact.displayName === name(((i % size) + size) % size))!;
  const cars = await createRecords(ws, CARS, Array.from({ length: size + extraCars }, (_, i) => ({ name: `Car ${i}` })));
  const carNamed = (i: number) => cars.find((car) => car.displayName === `Car ${i}`)!;

  const links: LinkItem[] = [];
  const expected = new Map<string, string[]>(contacts.map((contact) => [contact.displayName, []]));
  const see = (who: Ref, role: string, other: Ref) => expected.get(who.displayName)?.push(`${role}: ${other.displayName}`);
  for (let i = 0; i < size; i += 1) {
    const me = byIndex(i);
    links.push({ firstRecordId: me.id, secondRecordId: byIndex(i + 1).id, labelKeys: ['colleague'] });
    see(me, 'Colleague', byIndex(i + 1));
    see(byIndex(i + 1), 'Colleague', me);
    links.push({ firstRecordId: me.id, secondRecordId: byIndex(i + 2).id, labelKeys: ['manager'] });
    see(me, 'Employee', byIndex(i + 2));
    see(byIndex(i + 2), 'Manager', me);
    links.push({ firstRecordId: me.id, secondRecordId: byIndex(i + 3).id, labelKeys: ['mentor'] });
    see(me, 'Mentee', byIndex(i + 3));
    see(byIndex(i + 3), 'Mentor', me);
    links.push({ firstRecordId: carNamed(i).id, secondRecordId: me.id, labelKeys: ['owner'] });
    see(me, 'Car', carNamed(i));
  }
  for (let i = size; i < size + extraCars; i += 1) {
    links.push({ firstRecordId: byIndex(0).id, secondRecordId: carNamed(i).id, labelKeys: ['owner'] });
    see(byIndex(0), 'Car', carNamed(i));
  }
  expect(await batchLink(ws, links)).toBe(links.length);
  for (const list of expected.values()) list.sort();
  return { ws, size, contacts, expected };
}

const LIST_QUERY = /* GraphQL */ `
  query StatementsList($first: Int!) {
    records(objectKey: "contact", first: $first) {
      edges {
        node {
          displayName
          associations(first: 10) {
            totalCount
            edges {
              relatedRole
              relatedRecord { displayName object { key } }
              node { label { key firstLabel secondLabel } }
            }
          }
          associationGroups {
            relatedRole
            totalCount
            label { key }
            relatedObject { key }
            records(first: 5) { edges { node { displayName } } }
          }
        }
      }
    }
  }
`;

const RECORD_PAGE_QUERY = /* GraphQL */ `
  query StatementsRecordPage($id: ID!) {
    record(id: $id) {
      displayName
      object { key singularName }
      associationGroups {
        relatedRole
        totalCount
        label { key firstLabel secondLabel }
        relatedObject { key singularName }
        records(first: 10) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { node { id displayName object { key } } }
        }
      }
    }
  }
`;

const TWO_HOPS_QUERY = /* GraphQL */ `
  query StatementsTwoHops($id: ID!) {
    record(id: $id) {
      displayName
      associations(first: 10) {
        totalCount
        edges {
          relatedRole
          node { label { key } createdBy { id } }
          relatedRecord {
            displayName
            object { key }
            associations(first: 10) {
              totalCount
              edges { relatedRole relatedRecord { displayName } node { label { key } } }
            }
            associationGroups { relatedRole totalCount records(first: 3) { edges { node { displayName } } } }
          }
        }
      }
    }
  }
`;

/**
 * Statements of a request in steady state. Objects and labels are cached per process and schema
 * version, so the first request after a schema change reads them (two statements more); the
 * warm-up request measures that too.
 */
async function measure(ws: TestWorkspace, query: string, variables: Record<string, unknown>) {
  const warmUp = await ws.gql(query, variables);
  const response = await ws.gql(query, variables);
  expect(response.errors).toBeUndefined();
  expect(response.status).toBe(200);
  const statements = response.extensions?.sqlStatements;
  expect(typeof statements).toBe('number');
  expect(warmUp.extensions!.sqlStatements! - (statements as number)).toBeGreaterThanOrEqual(0);
  expect(warmUp.extensions!.sqlStatements! - (statements as number)).toBeLessThanOrEqual(2);
  expect(warmUp.data).toEqual(response.data);
  return { data: response.data, statements: statements as number };
}

let small: Ring;
let big: Ring;

beforeAll(async () => {
  small = await buildRing('Small ring', 5, 0);
  big = await buildRing('Big ring', 50, 30);
}, 120_000);

type ListNode = {
  displayName: string;
  associations: {
    totalCount: number;
    edges: { relatedRole: string; relatedRecord: { displayName: string; object: { key: string } }; node: { label: { key: string; firstLabel: string; secondLabel: string } } }[];
  };
  associationGroups: { relatedRole: string; totalCount: number; label: { key: string }; relatedObject: { key: string }; records: { edges: { node: { displayName: string } }[] } }[];
};

/** Every record of a list page sees exactly what the ring says it should. */
function checkListPage(ring: Ring, nodes: ListNode[], n: number) {
  expect(nodes).toHaveLength(n);
  const roleLabels: Record<string, [string, string, string]> = {
    Colleague: ['colleague', 'Colleague', 'Colleague'],
    Employee: ['manager', 'Manager', 'Employee'],
    Manager: ['manager', 'Manager', 'Employee'],
    Mentee: ['mentor', 'Mentor', 'Mentee'],
    Mentor: ['mentor', 'Mentor', 'Mentee'],
    Car: ['owner', 'Owner', 'Car'],
  };
  for (const node of nodes) {
    const expected = ring.expected.get(node.displayName)!;
    expect(expected, node.displayName).toBeDefined();
    expect(node.associations.totalCount).toBe(expected.length);
    const seen = node.associations.edges.map((edge) => `${edge.relatedRole}: ${edge.relatedRecord.displayName}`);
    expect(seen).toHaveLength(Math.min(10, expected.length));
    for (const item of seen) expect(expected).toContain(item);
    if (expected.length <= 10) expect([...seen].sort()).toEqual(expected);
    for (const edge of node.associations.edges) {
      const [key, firstLabel, secondLabel] = roleLabels[edge.relatedRole]!;
      expect(edge.node.label).toEqual({ key, firstLabel, secondLabel });
      expect(edge.relatedRecord.object.key).toBe(edge.relatedRole === 'Car' ? CARS : 'contact');
    }

    // Groups: one per role, each with its count and (up to 5 of) its records.
    const byRole = new Map<string, string[]>();
    for (const item of expected) {
      const [role, other] = item.split(': ') as [string, string];
      byRole.set(role, [...(byRole.get(role) ?? []), other]);
    }
    expect(node.associationGroups.map((group) => group.relatedRole).sort()).toEqual([...byRole.keys()].sort());
    for (const group of node.associationGroups) {
      const members = byRole.get(group.relatedRole)!;
      expect(group.totalCount).toBe(members.length);
      expect(group.label.key).toBe(roleLabels[group.relatedRole]![0]);
      expect(group.relatedObject.key).toBe(group.relatedRole === 'Car' ? CARS : 'contact');
      const names = group.records.edges.map((edge) => edge.node.displayName);
      expect(names).toHaveLength(Math.min(5, members.length));
      for (const other of names) expect(members).toContain(other);
    }
  }
}

describe('SQL statements per request do not grow with the page size or the data', () => {
  it('a list page of N records with associations, groups, related records and label names: same count for N = 5 and N = 50', async () => {
    const five = await measure(big.ws, LIST_QUERY, { first: 5 });
    const fifty = await measure(big.ws, LIST_QUERY, { first: 50 });
    const smallFive = await measure(small.ws, LIST_QUERY, { first: 5 });
    console.log(`[statements:${DB}] list page: N=5 → ${five.statements}, N=50 → ${fifty.statements} (small workspace N=5 → ${smallFive.statements})`);

    checkListPage(big, five.data.records.edges.map((edge: { node: ListNode }) => edge.node), 5);
    checkListPage(big, fifty.data.records.edges.map((edge: { node: ListNode }) => edge.node), 50);
    checkListPage(small, smallFive.data.records.edges.map((edge: { node: ListNode }) => edge.node), 5);

    expect(fifty.statements).toBe(five.statements);
    expect(smallFive.statements).toBe(five.statements);
    // A handful of batched reads, nowhere near one per record.
    expect(five.statements).toBeLessThan(20);
  });

  it('a list page whose association pages start after a cursor: still the same count for N = 5 and N = 50', async () => {
    // A cursor past every association of the workspace: each record's page is empty, yet its total is needed.
    const query = `query StatementsListAfter($first: Int!, $after: String) {
      records(objectKey: "contact", first: $first) {
        edges { node { displayName associations(first: 2, after: $after) { totalCount edges { relatedRole } pageInfo { hasNextPage } } } }
      }
    }`;
    const probe = await big.ws.gql(`query StatementsLastCursor($id: ID!) { record(id: $id) { associations(first: 100) { pageInfo { endCursor } } } }`, {
      id: big.contacts.find((contact) => contact.displayName === name(0))!.id,
    });
    const after = probe.data.record.associations.pageInfo.endCursor as string;
    const five = await measure(big.ws, query, { first: 5, after });
    const fifty = await measure(big.ws, query, { first: 50, after });
    console.log(`[statements:${DB}] list page after a cursor: N=5 → ${five.statements}, N=50 → ${fifty.statements}`);
    for (const { node } of fifty.data.records.edges) {
      expect(node.associations.edges).toEqual([]);
      expect(node.associations.totalCount).toBe(big.expected.get(node.displayName)!.length);
    }
    expect(fifty.statements).toBe(five.statements);
  });

  it('a list page of N records with their association events (page, cursors, totals): same count for N = 5 and N = 50', async () => {
    const query = `query StatementsListEvents($first: Int!) {
      records(objectKey: "contact", first: $first) {
        edges { node { id displayName associationEvents(first: 3) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { cursor node { id action label { key } actor { id } firstRecordId secondRecordId at } }
        } } }
      }
    }`;
    const five = await measure(big.ws, query, { first: 5 });
    const fifty = await measure(big.ws, query, { first: 50 });
    const smallFive = await measure(small.ws, query, { first: 5 });
    console.log(`[statements:${DB}] list page with associationEvents: N=5 → ${five.statements}, N=50 → ${fifty.statements} (small workspace N=5 → ${smallFive.statements})`);
    expect(fifty.statements).toBe(five.statements);
    expect(smallFive.statements).toBe(five.statements);
    // Authentication, the record page, the event pages, their totals and the actors.
    expect(five.statements).toBe(5);

    // Every link of the ring was logged once, as LINKED.
    for (const [ring, result] of [
      [big, fifty],
      [small, smallFive],
    ] as const) {
      for (const { node } of result.data.records.edges) {
        const events = node.associationEvents;
        const linked = ring.expected.get(node.displayName)!.length;
        expect(events.totalCount).toBe(linked);
        expect(events.edges).toHaveLength(Math.min(3, linked));
        expect(events.pageInfo.hasNextPage).toBe(linked > 3);
        expect(events.pageInfo.endCursor).toBe(events.edges.at(-1).cursor);
        const ids = events.edges.map((edge: any) => edge.node.id);
        expect(ids, 'newest first').toEqual([...ids].sort((a: string, b: string) => idNumber(b) - idNumber(a)));
        for (const { node: event } of events.edges) {
          expect(event.action).toBe('LINKED');
          expect([event.firstRecordId, event.secondRecordId]).toContain(node.id);
          expect(event.actor).not.toBeNull();
        }
      }
    }
  });

  it('the record page (groups with records(first: 10)) costs the same for a record with few or many related records', async () => {
    const run = async (ring: Ring) => {
      const id = ring.contacts.find((contact) => contact.displayName === name(0))!.id;
      return measure(ring.ws, RECORD_PAGE_QUERY, { id });
    };
    const few = await run(small);
    const many = await run(big);
    console.log(`[statements:${DB}] record page: 1 car → ${few.statements}, 31 cars → ${many.statements}`);
    expect(many.statements).toBe(few.statements);

    const groups = Object.fromEntries(
      many.data.record.associationGroups.map((group: any) => [group.relatedRole, group]),
    );
    expect(Object.keys(groups).sort()).toEqual(['Car', 'Colleague', 'Employee', 'Manager', 'Mentee', 'Mentor']);
    expect(groups.Car).toMatchObject({ totalCount: 31, relatedObject: { key: CARS, singularName: 'Car' }, label: { key: 'owner' } });
    expect(groups.Car.records.totalCount).toBe(31);
    expect(groups.Car.records.edges).toHaveLength(10);
    expect(groups.Car.records.pageInfo.hasNextPage).toBe(true);
    for (const edge of groups.Car.records.edges) expect(edge.node.object.key).toBe(CARS);
    expect(groups.Colleague.records.edges.map((edge: any) => edge.node.displayName).sort()).toEqual([name(1), name(49)]);
    expect(groups.Employee.records.edges.map((edge: any) => edge.node.displayName)).toEqual([name(2)]);
    expect(groups.Manager.records.edges.map((edge: any) => edge.node.displayName)).toEqual([name(48)]);
    expect(groups.Mentee.records.edges.map((edge: any) => edge.node.displayName)).toEqual([name(3)]);
    expect(groups.Mentor.records.edges.map((edge: any) => edge.node.displayName)).toEqual([name(47)]);
    expect(groups.Manager).toMatchObject({ totalCount: 1, label: { firstLabel: 'Manager', secondLabel: 'Employee' } });

    const smallGroups = Object.fromEntries(few.data.record.associationGroups.map((group: any) => [group.relatedRole, group]));
    expect(smallGroups.Car.records.edges.map((edge: any) => edge.node.displayName)).toEqual(['Car 0']);
    expect(smallGroups.Car.records.pageInfo.hasNextPage).toBe(false);
  });

  it('two hops (record → related records → their related records and groups) cost the same for small and large neighbourhoods', async () => {
    const run = async (ring: Ring) => {
      const id = ring.contacts.find((contact) => contact.displayName === name(0))!.id;
      return measure(ring.ws, TWO_HOPS_QUERY, { id });
    };
    const few = await run(small);
    const many = await run(big);
    console.log(`[statements:${DB}] two hops: 7 neighbours → ${few.statements}, 37 neighbours → ${many.statements}`);
    expect(many.statements).toBe(few.statements);

    for (const [ring, result] of [
      [small, few],
      [big, many],
    ] as const) {
      const record = result.data.record;
      expect(record.associations.totalCount).toBe(ring.expected.get(name(0))!.length);
      expect(record.associations.edges).toHaveLength(Math.min(10, ring.expected.get(name(0))!.length));
      const inverse: Record<string, string> = { Colleague: 'Colleague', Employee: 'Manager', Manager: 'Employee', Mentee: 'Mentor', Mentor: 'Mentee', Car: 'Owner' };
      for (const edge of record.associations.edges) {
        const neighbour = edge.relatedRecord;
        const back = neighbour.associations.edges.map((next: any) => `${next.relatedRole}: ${next.relatedRecord.displayName}`);
        // The neighbour sees record 0 back, under the inverse role.
        expect(back).toContain(`${inverse[edge.relatedRole]}: ${name(0)}`);
        if (neighbour.object.key === 'contact') {
          expect(neighbour.associations.totalCount).toBe(ring.expected.get(neighbour.displayName)!.length);
          expect([...back].sort()).toEqual(ring.expected.get(neighbour.displayName));
          expect(neighbour.associationGroups).toHaveLength(6);
        } else {
          expect(neighbour.associations.totalCount).toBe(1);
          expect(neighbour.associationGroups).toEqual([{ relatedRole: 'Owner', totalCount: 1, records: { edges: [{ node: { displayName: name(0) } }] } }]);
        }
      }
    }
  });

  it('limit usage: Record.limitUsage on a list page costs the same for N = 5 and N = 50; Workspace.limitUsage one statement per kind', async () => {
    const setLabelLimits = async (ring: Ring, key: string, limits: Record<string, number>) => {
      const label = (await ring.ws.gql('query StatementsLabelId($key: String) { associationLabel(key: $key) { id } }', { key })).data.associationLabel;
      const response = await ring.ws.gql(
        `mutation StatementsLabelLimits($input: UpdateAssociationLabelInput!) {
          updateAssociationLabel(input: $input) { __typename ... on Error { message } }
        }`,
        { input: { id: label.id, ...limits } },
      );
      expect(response.data.updateAssociationLabel.__typename).toBe('UpdateAssociationLabelSuccess');
    };
    for (const ring of [small, big]) {
      await setLabelLimits(ring, 'mentor', { maxSecondPerFirst: 3, maxFirstPerSecond: 4 });
      await setLabelLimits(ring, 'owner', { maxSecondPerFirst: 40 });
      await setLabelLimits(ring, 'colleague', { maxSecondPerFirst: 5 });
    }
    const listQuery = `query StatementsListUsage($first: Int!) {
      records(objectKey: "contact", first: $first) {
        edges { node { displayName limitUsage { limit max current percent label { key } record { displayName } } } }
      }
    }`;
    const five = await measure(big.ws, listQuery, { first: 5 });
    const fifty = await measure(big.ws, listQuery, { first: 50 });
    const smallFive = await measure(small.ws, listQuery, { first: 5 });
    console.log(`[statements:${DB}] list page with limitUsage: N=5 → ${five.statements}, N=50 → ${fifty.statements}`);
    expect(fifty.statements).toBe(five.statements);
    expect(smallFive.statements).toBe(five.statements);
    // Authentication, the page, the group counts and the workspace's limits.
    expect(five.statements).toBe(4);

    const nodes = fifty.data.records.edges.map((edge: { node: { displayName: string; limitUsage: any[] } }) => edge.node);
    expect(nodes).toHaveLength(50);
    for (const node of nodes) {
      const usage = Object.fromEntries(node.limitUsage.map((u: any) => [`${u.limit}:${u.label?.key ?? ''}`, `${u.current}/${u.max}`]));
      // Every ring contact: 2 colleagues, 2 manager links and 2 mentor links; one car, contact 0 thirty-one.
      expect(usage).toEqual({
        'maxAssociationsPerContact:': '6/10',
        'maxSecondPerFirst:colleague': '2/5',
        'maxSecondPerFirst:mentor': '1/3',
        'maxFirstPerSecond:mentor': '1/4',
        'maxSecondPerFirst:owner': node.displayName === name(0) ? '31/40' : '1/40',
      });
      for (const u of node.limitUsage) expect(u.record.displayName).toBe(node.displayName);
    }

    const workspaceQuery = `query StatementsWorkspaceUsage { viewer { workspace { limitUsage(first: 100) { limit current max } } } }`;
    const few = await measure(small.ws, workspaceQuery, {});
    const many = await measure(big.ws, workspaceQuery, {});
    console.log(`[statements:${DB}] Workspace.limitUsage: small → ${few.statements}, big → ${many.statements}`);
    // Authentication, the workspace, then one per kind: records per label, contacts, label limits.
    expect(many.statements).toBe(few.statements);
    expect(many.statements).toBe(5);
    const top = many.data.viewer.workspace.limitUsage[0];
    expect(top).toEqual({ limit: 'maxSecondPerFirst', current: 31, max: 40 });
  });
});
