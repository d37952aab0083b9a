import { Prisma, provider, reader } from '../db/index.js';
import { inIds } from '../db/reader.js';
import { LimitExceededError } from '../services/errors.js';
import { isRestricted, type Viewer } from '../services/viewer.js';
import { visibleRecordSql } from '../services/visibility.js';
import { loadAssociationPages, RECORD_COLUMNS, recordOf, sideRows, type AnyRecord, type AssociationShape, type RecordRow, type Side, type SideRow } from './index.js';

/**
 * Graph exploration (SPEC §5.4): neighbourhoods, shortest paths and mutual links, read one
 * statement per hop whatever the data, with the viewer's visibility inside every statement: a
 * record the viewer may not see is read as no row, so it is neither a node nor a stepping
 * stone, and nothing counted or flagged depends on it.
 */

/** Links read of each record of a neighbourhood beyond the starting one (the starting one: `limit`). */
export const NEIGHBOUR_FANOUT = 20;
export const MAX_DEPTH = 3;
export const MAX_NEIGHBOURHOOD_LIMIT = 1000;
export const MAX_HOPS = 6;
/** Association rows a path search may read in all; a search that needs more is refused. */
export const PATH_SEARCH_ROWS = 100_000;

export interface NeighbourhoodArgs {
  depth: number;
  limit: number;
  labelIds?: readonly number[] | undefined;
  objectIds?: readonly number[] | undefined;
}

export interface NeighbourhoodKey extends NeighbourhoodArgs {
  /** The starting record (visible: the caller resolved it). */
  root: AnyRecord;
}

export interface NeighbourhoodNode {
  record: AnyRecord;
  distance: number;
}

export interface Neighbourhood {
  nodes: NeighbourhoodNode[];
  edges: AssociationShape[];
  truncated: boolean;
}

/** The association rows a neighbourhood can read at most: what the query guards count it as. */
export function neighbourhoodRows(limit: number): number {
  return limit + 1 + limit * (Math.min(limit, NEIGHBOUR_FANOUT) + 1);
}

/** The association a row was read from, as stored (first and second record). */
function associationOf(row: Pick<SideRow, 'id' | 'labelId' | 'recordId' | 'side'>, relatedId: number): AssociationShape {
  const [firstRecordId, secondRecordId] = row.side === 1 ? [row.recordId, relatedId] : [relatedId, row.recordId];
  return { id: row.id, labelId: row.labelId, firstRecordId, secondRecordId };
}

/** An association row of a path search, seen from the frontier record it was read for. */
interface PathRow {
  id: number;
  labelId: number;
  recordId: number;
  relatedId: number;
  side: Side;
}

/**
 * One hop of a path search, in one statement: reads every link (at most `take`) of one side's
 * frontier, and says which side it widened. A viewer who sees every record widens the side with
 * fewer links to read, summed from the tallies in the same statement (a frontier that reaches a
 * hub is left for last, and often never read); a restricted viewer the side with fewer records,
 * as the tallies count links it may not see and must not steer its search.
 */
async function widen(
  viewer: Viewer,
  from: readonly number[],
  to: readonly number[],
  labelIds: readonly number[] | undefined,
  take: number,
): Promise<{ index: 0 | 1; rows: PathRow[] }> {
  const columns = Prisma.sql`s."id", s."labelId", s."recordId", s."relatedId", s."side"`;
  const parse = (raw: Record<string, unknown>): PathRow => ({
    id: Number(raw.id),
    labelId: Number(raw.labelId),
    recordId: Number(raw.recordId),
    relatedId: Number(raw.relatedId),
    side: Number(raw.side) as Side,
  });
  if (isRestricted(viewer)) {
    const index = to.length < from.length ? 1 : 0;
    const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
      SELECT ${columns} FROM ${sideRows(viewer, index === 0 ? from : to, { labelIds })} ORDER BY s."recordId", s."id" LIMIT ${take}`);
    return { index, rows: rows.map(parse) };
  }
  const degree = (ids: readonly number[]) => Prisma.sql`(SELECT COALESCE(SUM(t."associations"), 0) FROM "RecordLabelTally" t
    WHERE ${inIds(provider, Prisma.sql`t."recordId"`, ids)}${labelIds ? Prisma.sql` AND ${inIds(provider, Prisma.sql`t."labelId"`, labelIds.length ? labelIds : [-1])}` : Prisma.empty})`;
  // Fewer links first; as many, fewer records; as many, the starting side.
  const fromFirst = Prisma.sql`(${degree(from)} * 1048576 + ${from.length}) <= (${degree(to)} * 1048576 + ${to.length})`;
  if (provider === 'sqlite') {
    // SQLite cannot leave a side unread inside one statement (a condition on constants still
    // lets it walk that side's index), and a statement costs it no round trip: two statements.
    const [choice] = await reader.rows<{ fromFirst: unknown }>(Prisma.sql`SELECT ${fromFirst} AS "fromFirst"`);
    const index = Number(choice!.fromFirst) ? 0 : 1;
    const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
      SELECT ${columns} FROM ${sideRows(viewer, index === 0 ? from : to, { labelIds })} ORDER BY s."recordId", s."id" LIMIT ${take}`);
    return { index, rows: rows.map(parse) };
  }
  // PostgreSQL tests the choice once, before either side is read (a one-time filter): the other
  // side's scan never starts.
  const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
    SELECT * FROM (
      SELECT 0 AS "k", ${columns} FROM ${sideRows(viewer, from, { labelIds })} WHERE ${fromFirst}
      UNION ALL
      SELECT 1 AS "k", ${columns} FROM ${sideRows(viewer, to, { labelIds })} WHERE NOT ${fromFirst}
    ) w ORDER BY "recordId", "id" LIMIT ${take}`);
  if (rows.length === 0) return { index: 0, rows: [] };
  return { index: Number(rows[0]!.k) === 1 ? 1 : 0, rows: rows.map(parse) };
}

interface Search {
  nodes: Map<number, NeighbourhoodNode>;
  edges: Map<number, AssociationShape>;
  frontier: number[];
  truncated: boolean;
}

/**
 * Neighbourhoods of many records at once (a list page asking for each row's): breadth-first,
 * one statement per hop for all of them, plus one that reads the links among the farthest
 * nodes. Each hop reads, for every record of the frontier, its first links in creation order
 * (the starting record's first `limit`, any other's first NEIGHBOUR_FANOUT): a hub costs what
 * those links cost, never all of its links. Nodes come in breadth-first order (distance, then
 * the order they were reached in), so the same data always gives the same answer; `truncated`
 * says that the limit, or a record with more links than were read, left records out.
 */
export async function loadNeighbourhoods(
  viewer: Viewer,
  keys: readonly NeighbourhoodKey[],
  wholeRecords: boolean,
  prime: (record: RecordRow) => void,
): Promise<Neighbourhood[]> {
  const shapes = new Map<string, NeighbourhoodKey[]>();
  for (const key of keys) {
    const shape = JSON.stringify([key.depth, key.limit, key.labelIds, key.objectIds]);
    shapes.set(shape, [...(shapes.get(shape) ?? []), key]);
  }
  const results = new Map<NeighbourhoodKey, Neighbourhood>();
  await Promise.all(
    [...shapes.values()].map(async (group) => {
      const { depth, limit, labelIds, objectIds } = group[0]!;
      const searches = group.map((key): Search => ({
        nodes: new Map([[key.root.id, { record: key.root, distance: 0 }]]),
        edges: new Map(),
        frontier: [key.root.id],
        truncated: false,
      }));
      // Hops 1..depth find nodes; hop depth + 1 only reads the links among the farthest ones.
      // A search that can find no more (past its depth, or full and already truncated) only
      // closes: of the same first links it keeps those to its nodes, so only they read a record.
      for (let hop = 1; hop <= depth + 1; hop += 1) {
        const cap = hop === 1 ? limit : Math.min(limit, NEIGHBOUR_FANOUT);
        const closing = (search: Search) => hop > depth || (search.truncated && search.nodes.size >= limit);
        const finding = [...new Set(searches.filter((search) => !closing(search)).flatMap((search) => search.frontier))];
        const base = { take: cap + 1, afterId: 0, labelIds, relatedObjectIds: objectIds };
        const reads = [
          ...finding.map((recordId) => ({ search: null, key: { ...base, recordId } })),
          ...searches
            .filter((search) => closing(search))
            .flatMap((search) => {
              const relatedIds = [...search.nodes.keys()].sort((a, b) => a - b);
              return search.frontier.map((recordId) => ({ search, key: { ...base, recordId, relatedIds } }));
            }),
        ];
        if (reads.length === 0) break;
        const pages = await loadAssociationPages(
          viewer,
          reads.map((read) => read.key),
          wholeRecords,
          prime,
        );
        const rowsOf = new Map(reads.map((read, index) => [`${searches.indexOf(read.search!)}:${read.key.recordId}`, pages[index]!.rows]));
        for (const [s, search] of searches.entries()) {
          const next: number[] = [];
          const own = closing(search) ? s : -1;
          for (const recordId of search.frontier) {
            const rows = rowsOf.get(`${own}:${recordId}`)!;
            if (rows.length > cap && hop <= depth) search.truncated = true;
            for (const row of rows.slice(0, cap)) {
              const other = row.related.id;
              if (search.nodes.has(other)) {
                search.edges.set(row.id, associationOf(row, other));
              } else if (hop <= depth) {
                if (search.nodes.size >= limit) {
                  search.truncated = true;
                  continue;
                }
                search.nodes.set(other, { record: row.related, distance: hop });
                search.edges.set(row.id, associationOf(row, other));
                next.push(other);
              }
            }
          }
          search.frontier = next;
        }
      }
      group.forEach((key, index) => {
        const search = searches[index]!;
        results.set(key, {
          nodes: [...search.nodes.values()],
          edges: [...search.edges.values()].sort((a, b) => a.id - b.id),
          truncated: search.truncated,
        });
      });
    }),
  );
  return keys.map((key) => results.get(key)!);
}

interface Reached {
  /** The record one step closer to this side's start, and the association between them. */
  parent: number | null;
  association: AssociationShape | null;
  distance: number;
}

export interface PathIds {
  recordIds: number[];
  associations: AssociationShape[];
}

/**
 * A shortest path from one visible record to another within `maxHops`, or null. Searches from
 * both ends, one statement per hop, always widening the cheaper side (see widen); the hops of
 * both sides together never exceed `maxHops`. Among paths of the same length the one
 * through the lowest ids (then the oldest associations) wins, so the answer is stable.
 * A search that would read more than PATH_SEARCH_ROWS associations is refused (LIMIT_EXCEEDED)
 * rather than answered wrongly.
 */
export async function findPath(
  viewer: Viewer,
  input: { from: number; to: number; maxHops: number; labelIds?: readonly number[] | undefined },
): Promise<PathIds | null> {
  const { from, to, maxHops, labelIds } = input;
  if (from === to) return { recordIds: [from], associations: [] };
  const sides = [
    { reached: new Map<number, Reached>([[from, { parent: null, association: null, distance: 0 }]]), frontier: [from] },
    { reached: new Map<number, Reached>([[to, { parent: null, association: null, distance: 0 }]]), frontier: [to] },
  ];
  let read = 0;
  for (let hops = 0; hops < maxHops; hops += 1) {
    if (sides[0]!.frontier.length === 0 || sides[1]!.frontier.length === 0) return null;
    const remaining = PATH_SEARCH_ROWS - read;
    const { index, rows } = await widen(viewer, sides[0]!.frontier, sides[1]!.frontier, labelIds, remaining + 1);
    const side = sides[index]!;
    const other = sides[1 - index]!;
    if (rows.length > remaining) {
      throw new LimitExceededError(
        `Finding this path would read more than ${PATH_SEARCH_ROWS} associations. Ask for fewer hops (maxHops) or name labels (labelKeys).`,
        'pathSearchRows',
        PATH_SEARCH_ROWS,
        PATH_SEARCH_ROWS,
      );
    }
    read += rows.length;
    const next: number[] = [];
    let meeting: { node: number; length: number } | null = null;
    for (const row of rows) {
      const { recordId, relatedId } = row;
      if (side.reached.has(relatedId)) continue;
      const distance = side.reached.get(recordId)!.distance + 1;
      side.reached.set(relatedId, { parent: recordId, association: associationOf(row, relatedId), distance });
      next.push(relatedId);
      const there = other.reached.get(relatedId);
      if (there) {
        const length = distance + there.distance;
        if (!meeting || length < meeting.length || (length === meeting.length && relatedId < meeting.node)) meeting = { node: relatedId, length };
      }
    }
    if (meeting) {
      const walk = (reached: Map<number, Reached>) => {
        const records: number[] = [];
        const associations: AssociationShape[] = [];
        for (let at: Reached | undefined = reached.get(meeting.node); at?.parent != null; at = reached.get(at.parent)) {
          records.push(at.parent);
          associations.push(at.association!);
        }
        return { records, associations };
      };
      const fromSide = walk(sides[0]!.reached);
      const toSide = walk(sides[1]!.reached);
      return {
        recordIds: [...fromSide.records.reverse(), meeting.node, ...toSide.records],
        associations: [...fromSide.associations.reverse(), ...toSide.associations],
      };
    }
    side.frontier = next.sort((a, b) => a - b);
  }
  return null;
}

export interface MutualKey {
  recordId: number;
  withId: number;
  take: number;
  afterId: number;
}

/** The records linked to both `recordId` and `withId` (never those two), as one condition on record `r`. */
function mutualCondition(viewer: Viewer, recordId: number, withId: number): Prisma.Sql {
  const neighbours = (id: number) => Prisma.sql`SELECT s."relatedId" FROM ${sideRows(viewer, [id], {})}`;
  return Prisma.sql`r."id" IN (${neighbours(recordId)}) AND r."id" IN (${neighbours(withId)})
    AND r."id" <> ${recordId} AND r."id" <> ${withId} AND ${visibleRecordSql(viewer, 'r')}
    AND EXISTS (SELECT 1 FROM "Record" w WHERE w."id" = ${withId} AND ${visibleRecordSql(viewer, 'w')})`;
}

/**
 * Pages of mutual associations for many (record, other record) pairs: one statement for all,
 * each pair reading the links of its two records (the smaller side drives the plan).
 */
export async function loadMutual(viewer: Viewer, keys: readonly MutualKey[]): Promise<RecordRow[][]> {
  const selects = keys.map(
    (key, k) => Prisma.sql`SELECT * FROM (SELECT ${Prisma.raw(String(k))} AS "k", ${RECORD_COLUMNS} FROM "Record" r
      WHERE ${mutualCondition(viewer, key.recordId, key.withId)} AND r."id" > ${key.afterId}
      ORDER BY r."id" LIMIT ${key.take}) ${Prisma.raw(`m${k}`)}`,
  );
  const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`SELECT * FROM (${Prisma.join(selects, ' UNION ALL ')}) pages ORDER BY "k", "id"`);
  const pages: RecordRow[][] = keys.map(() => []);
  for (const row of rows) pages[Number(row.k)]!.push(recordOf(row));
  return pages;
}

/** How many records are linked to both records of each pair. */
export async function countMutual(viewer: Viewer, keys: readonly Pick<MutualKey, 'recordId' | 'withId'>[]): Promise<number[]> {
  const selects = keys.map(
    (key, k) => Prisma.sql`SELECT ${Prisma.raw(String(k))} AS "k", COUNT(*) AS n FROM "Record" r
      WHERE ${mutualCondition(viewer, key.recordId, key.withId)}`,
  );
  const rows = await reader.rows<{ k: unknown; n: unknown }>(Prisma.join(selects, ' UNION ALL '));
  const counts = new Map(rows.map((row) => [Number(row.k), Number(row.n)]));
  return keys.map((_, k) => counts.get(k) ?? 0);
}
