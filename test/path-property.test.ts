/**
 * Query.path against a plain breadth-first search in memory, on random graphs through HTTP: the
 * search may find the meeting of its two sides without reading a side's links (a hub's, most of
 * all), and must still answer exactly what reading every link gives, down to the tie-break
 * (lowest ids, then oldest associations) and the side it widens.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useTestApp, type TestWorkspace } from './helpers.js';
import { batchLink, createLabel, createRecords, updateLimits, type Ref } from './support/fixtures.js';
import { numericId } from './support/permissions.js';

const t = useTestApp();

const PATH = `query ($from: ID!, $to: ID!, $maxHops: Int, $labelKeys: [String!]) {
  path(from: $from, to: $to, maxHops: $maxHops, labelKeys: $labelKeys) { length records { id } associations { id } }
}`;

interface Link {
  id: number;
  label: string;
  first: number;
  second: number;
}

/**
 * The path search with every link read: two sides, each hop widening the side with fewer links
 * (as many: fewer records; as many: the starting side), each frontier record's links in
 * (record, association) order, a record reached by its first link; the meeting is the lowest
 * record the widened side reaches in the other's reach.
 */
function expectedPath(links: readonly Link[], from: number, to: number, maxHops: number, labels?: readonly string[]) {
  if (from === to) return { records: [from], associations: [] as number[] };
  const usable = labels ? links.filter((link) => labels.includes(link.label)) : links;
  const rowsOf = (ids: readonly number[]) =>
    usable
      .flatMap((link) => [
        ...(ids.includes(link.first) ? [{ recordId: link.first, relatedId: link.second, id: link.id }] : []),
        ...(ids.includes(link.second) ? [{ recordId: link.second, relatedId: link.first, id: link.id }] : []),
      ])
      .sort((a, b) => a.recordId - b.recordId || a.id - b.id);
  type Reached = { parent: number | null; association: number | null; distance: number };
  const sides = [from, to].map((start) => ({ reached: new Map<number, Reached>([[start, { parent: null, association: null, distance: 0 }]]), frontier: [start] }));
  for (let hops = 0; hops < maxHops; hops += 1) {
    const [a, b] = sides as [(typeof sides)[0], (typeof sides)[0]];
    if (a.frontier.length === 0 || b.frontier.length === 0) return null;
    const [da, db] = [rowsOf(a.frontier).length, rowsOf(b.frontier).length];
    const index = da * 1048576 + a.frontier.length <= db * 1048576 + b.frontier.length ? 0 : 1;
    const side = sides[index]!;
    const other = sides[1 - index]!;
    const next: number[] = [];
    let meeting: number | null = null;
    for (const row of rowsOf(side.frontier)) {
      if (side.reached.has(row.relatedId)) continue;
      side.reached.set(row.relatedId, { parent: row.recordId, association: row.id, distance: side.reached.get(row.recordId)!.distance + 1 });
      next.push(row.relatedId);
      if (other.reached.has(row.relatedId) && (meeting === null || row.relatedId < meeting)) meeting = row.relatedId;
    }
    if (meeting !== null) {
      const walk = (reached: Map<number, Reached>) => {
        const records: number[] = [];
        const associations: number[] = [];
        for (let at = reached.get(meeting!); at?.parent != null; at = reached.get(at.parent)) {
          records.push(at.parent);
          associations.push(at.association!);
        }
        return { records, associations };
      };
      const [there, back] = [walk(sides[0]!.reached), walk(sides[1]!.reached)];
      return { records: [...there.records.reverse(), meeting, ...back.records], associations: [...there.associations.reverse(), ...back.associations] };
    }
    side.frontier = next.sort((x, y) => x - y);
  }
  return null;
}

const labelSets = fc.constantFrom(['colleague'], ['manager'], ['colleague', 'manager']);

/**
 * A random graph: a few hubs linked among themselves, every other contact linked to one to three
 * of them, and a few links between those others. Searches between two of those meet where two
 * frontiers of a few hubs each are linked, the case where the meeting is found pair by pair.
 */
const graphs = fc.record({
  size: fc.integer({ min: 24, max: 48 }),
  hubs: fc.integer({ min: 2, max: 6 }),
  hubPairs: fc.array(fc.tuple(fc.nat(), fc.nat(), labelSets), { minLength: 0, maxLength: 8 }),
  memberships: fc.array(fc.array(fc.tuple(fc.nat(), labelSets), { minLength: 1, maxLength: 3 }), { minLength: 48, maxLength: 48 }),
  pairs: fc.array(fc.tuple(fc.nat(), fc.nat(), labelSets), { minLength: 0, maxLength: 12 }),
  queries: fc.array(
    fc.record({ from: fc.nat(), to: fc.nat(), maxHops: fc.integer({ min: 1, max: 6 }), labels: fc.constantFrom(undefined, ['colleague'], ['manager'], ['manager', 'colleague']) }),
    { minLength: 60, maxLength: 60 },
  ),
});

type Graph = typeof graphs extends fc.Arbitrary<infer G> ? G : never;

describe('Query.path agrees with a breadth-first search reading every link', () => {
  let count = 0;
  const build = async (graph: Graph) => {
    const ws: TestWorkspace = await t.workspace(`Paths ${(count += 1)}`);
    await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
    await createLabel(ws, { key: 'manager', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Employee' });
    await updateLimits(ws, { maxAssociationsPerContact: 200 }); // room for the hubs
    const people: Ref[] = await createRecords(ws, 'contact', Array.from({ length: graph.size }, (_, i) => ({ firstName: `P${i}` })));
    const seen = new Set<string>();
    const items: { firstRecordId: string; secondRecordId: string; labelKeys: string[] }[] = [];
    const add = (a: number, b: number, labelKeys: readonly string[]) => {
      const [x, y] = [a % graph.size, b % graph.size];
      const key = [Math.min(x, y), Math.max(x, y)].join('-');
      if (x === y || seen.has(key)) return;
      seen.add(key);
      items.push({ firstRecordId: people[x]!.id, secondRecordId: people[y]!.id, labelKeys: [...labelKeys] });
    };
    for (const [a, b, labelKeys] of graph.hubPairs) add(a % graph.hubs, b % graph.hubs, labelKeys);
    for (let i = graph.hubs; i < graph.size; i += 1) {
      for (const [hub, labelKeys] of graph.memberships[i]!) add(i, hub % graph.hubs, labelKeys);
    }
    for (const [a, b, labelKeys] of graph.pairs) add(a, b, labelKeys);
    if (items.length) await batchLink(ws, items);
    const links: Link[] = [];
    for (const person of people) {
      const response = await ws.gql(`query ($id: ID!) { record(id: $id) { associations(first: 100) { edges { node { id label { key } firstRecord { id } secondRecord { id } } } } } }`, {
        id: person.id,
      });
      expect(response.errors).toBeUndefined();
      for (const { node } of response.data.record.associations.edges) {
        links.push({ id: numericId(node.id), label: node.label.key, first: numericId(node.firstRecord.id), second: numericId(node.secondRecord.id) });
      }
    }
    const unique = [...new Map(links.map((link) => [link.id, link])).values()];
    return { ws, people, links: unique };
  };

  it('on random graphs with hubs, for random ends, hop limits and labels', async () => {
    let compared = 0;
    let found = 0;
    await fc.assert(
      fc.asyncProperty(graphs, async (graph) => {
        const { ws, people, links } = await build(graph);
        for (const query of graph.queries) {
          const [from, to] = [people[query.from % people.length]!, people[query.to % people.length]!];
          const response = await ws.gql(PATH, { from: from.id, to: to.id, maxHops: query.maxHops, labelKeys: query.labels });
          expect(response.errors).toBeUndefined();
          const got = response.data.path && {
            records: response.data.path.records.map((r: { id: string }) => numericId(r.id)),
            associations: response.data.path.associations.map((a: { id: string }) => numericId(a.id)),
          };
          const want = expectedPath(links, numericId(from.id), numericId(to.id), query.maxHops, query.labels);
          expect(got, JSON.stringify({ query, links })).toEqual(want);
          if (want) expect(response.data.path.length).toBe(want.associations.length);
          compared += 1;
          if (want && want.associations.length > 1) found += 1;
        }
      }),
      { numRuns: 8, seed: 20_251_201, endOnFailure: true },
    );
    // The comparison is not vacuous: most answers are paths of two hops or more.
    expect(compared).toBe(8 * 60);
    expect(found).toBeGreaterThan(compared / 4);
  }, 240_000);
});
