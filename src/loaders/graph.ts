import { Prisma, provider, reader } from '../db/index.js';
import { idTable, inIds } from '../db/reader.js';
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
 * What looking for the two sides' meeting through the association's unique index (label, first
 * record, second record), pair by pair, is reckoned to cost against reading one link in a scan:
 * a meeting is looked for this way only where it costs less than reading the cheaper side.
 */
export const PROBE_COST = 4;

/** One hop of a path search: the side it widened, and either the links of that side's frontier or only those that meet the other side. */
interface Hop {
  index: 0 | 1;
  rows: PathRow[];
  /** The rows are exactly the links between the two frontiers (or none), not all of the widened side's. */
  meetingOnly: boolean;
  /** The widened side has more links than the search may still read, and they were not read. */
  tooMany: boolean;
}

const parseRow = (raw: Record<string, unknown>): PathRow => ({
  id: Number(raw.id),
  labelId: Number(raw.labelId),
  recordId: Number(raw.recordId),
  relatedId: Number(raw.relatedId),
  side: Number(raw.side) as Side,
});

/**
 * One hop of a path search, in one statement. A restricted viewer widens the side with fewer
 * records and reads all its links (at most `take`): the tallies count links it may not see, and
 * must not steer its search. A viewer who sees every record widens the side with fewer links to
 * read, from the tallies (the larger side's counted only until it outweighs the other), and first
 * looks for a meeting of the two frontiers: a link between them means the shortest path ends at
 * this hop, and those links alone decide it (see findPath). It looks pair by pair through the
 * unique index when that costs less than reading the cheaper side (two small frontiers, one of
 * them a hub: the hub's links are never read); otherwise it reads the side's links once, and
 * returns only those that land on the other frontier when there are any (at the last hop
 * allowed, only those in any case). Each part is gated by a LIMIT computed once from the tallies
 * before it runs, so a part not needed reads nothing on either database.
 */
async function widen(
  viewer: Viewer,
  from: readonly number[],
  to: readonly number[],
  labelIds: readonly number[] | undefined,
  remaining: number,
  last: boolean,
): Promise<Hop> {
  const columns = Prisma.sql`s."id", s."labelId", s."recordId", s."relatedId", s."side"`;
  if (isRestricted(viewer)) {
    const index = to.length < from.length ? 1 : 0;
    const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
      SELECT ${columns} FROM ${sideRows(viewer, index === 0 ? from : to, { labelIds })} ORDER BY s."recordId", s."id" LIMIT ${remaining + 1}`);
    return { index, rows: rows.map(parseRow), meetingOnly: false, tooMany: rows.length > remaining };
  }
  const labels = (column: string) =>
    labelIds ? Prisma.sql` AND ${inIds(provider, Prisma.raw(column), labelIds.length ? labelIds : [-1])}` : Prisma.empty;
  const tallies = (ids: readonly number[]) =>
    Prisma.sql`"RecordLabelTally" t WHERE ${inIds(provider, Prisma.sql`t."recordId"`, ids)}${labels('t."labelId"')}`;
  // The meeting is looked for from the frontier with fewer records: for each of its records'
  // labels (their tallies), one probe per record of the other frontier and direction.
  const driverFirst = from.length <= to.length;
  const [driver, probed] = driverFirst ? [from, to] : [to, from];
  // What each side's links cost, from the tallies: the driver's exactly (s), the other side's only
  // as far as it takes to know that it costs more (a running sum, read until it passes the
  // driver's), and exactly only when it does not. A hub's thousand neighbours are not summed
  // against a side of a few links.
  const probedLinks = Prisma.sql`COALESCE(
      (SELECT w."run" FROM (SELECT SUM(t."associations") OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS "run" FROM ${tallies(probed)}) w
        WHERE w."run" > s."links" LIMIT 1),
      (SELECT COALESCE(SUM(t."associations"), 0) FROM ${tallies(probed)}))`;
  const [a, b] = driverFirst ? [Prisma.sql`s."links"`, probedLinks] : [probedLinks, Prisma.sql`s."links"`];
  // One lookup per probe in a scalar subquery, which neither database unfolds into a join: a
  // join lets the planner read the hub's links instead, the very read the probe is to avoid. The
  // lookup asks only whether the pair is linked, which the unique index (label, first record,
  // second record) answers alone; asked for the association's id, PostgreSQL would rather read
  // a covering index by one of the two records, all of a hub's links for each probe. The id is
  // read for the pairs that are linked, few.
  const probe = (direction: 1 | 2) => {
    const [near, far] = direction === 1 ? ['firstRecordId', 'secondRecordId'] : ['secondRecordId', 'firstRecordId'];
    const pair = Prisma.sql`FROM "Association" a WHERE a."labelId" = t."labelId" AND a.${Prisma.raw(`"${near}"`)} = t."recordId" AND a.${Prisma.raw(`"${far}"`)} = o."value"`;
    return Prisma.sql`SELECT p."id", p."labelId", p."firstRecordId", p."secondRecordId" FROM (
        SELECT CASE WHEN EXISTS (SELECT 1 ${pair}) THEN (SELECT a."id" ${pair}) END AS "id",
          t."labelId", t."recordId" AS ${Prisma.raw(`"${near}"`)}, o."value" AS ${Prisma.raw(`"${far}"`)}
        FROM "RecordLabelTally" t CROSS JOIN ${idTable(provider, probed, 'o')}
        WHERE ${inIds(provider, Prisma.sql`t."recordId"`, driver)}${labels('t."labelId"')} AND t."side" <> ${direction === 1 ? 2 : 1}
      ) p WHERE p."id" IS NOT NULL`;
  };
  // The widened side's links, read once (in no order: they are sorted here, and a read cut by its
  // LIMIT is refused whole); at the last hop allowed, not at all where the probes said no. Each
  // says whether it reaches the other frontier: a subquery in the select list, which both
  // databases run once as a lookup table (a join here could be planned as a nested loop over the
  // two lists, and the other frontier may hold thousands of records). Links that reach it end
  // the path at this hop, and they alone are returned.
  const read = (ids: readonly number[], others: readonly number[], k: 0 | 1) => {
    const open = Prisma.sql`c."fromFirst" = ${k === 0 ? 1 : 0} AND c."cheaper" <= ${remaining} AND NOT EXISTS (SELECT 1 FROM m)${last ? Prisma.sql` AND c."probe" = 0` : Prisma.empty}`;
    return Prisma.sql`SELECT * FROM (SELECT ${Prisma.raw(String(k + 2))} AS "kind", ${columns},
        CASE WHEN s."relatedId" IN (SELECT f."value" FROM ${idTable(provider, others, 'f')}) THEN 1 ELSE 0 END AS "hit"
      FROM ${sideRows(viewer, ids, { labelIds })}
      LIMIT (SELECT CASE WHEN ${open} THEN ${remaining + 1} ELSE 0 END FROM c)) ${Prisma.raw(`r${k}`)}`;
  };
  // Fewer links first; as many, fewer records; as many, the starting side.
  const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
    WITH s AS MATERIALIZED (
      SELECT COALESCE(SUM(t."associations"), 0) AS "links", COUNT(*) AS "tallies" FROM ${tallies(driver)}
    ), d AS MATERIALIZED (
      SELECT ${a} AS "a", ${b} AS "b", s."tallies" * ${probed.length * PROBE_COST} AS "probes" FROM s
    ), c AS MATERIALIZED (
      SELECT e."fromFirst", e."cheaper", CASE WHEN e."probes" < e."cheaper" THEN 1 ELSE 0 END AS "probe" FROM (
        SELECT x."fromFirst", x."probes", CASE WHEN x."fromFirst" = 1 THEN x."a" ELSE x."b" END AS "cheaper" FROM (
          SELECT d."a", d."b", d."probes", CASE WHEN d."a" * 1048576 + ${from.length} <= d."b" * 1048576 + ${to.length} THEN 1 ELSE 0 END AS "fromFirst" FROM d
        ) x
      ) e
    ), m AS MATERIALIZED (
      SELECT * FROM (${probe(1)} UNION ALL ${probe(2)}) p LIMIT (SELECT CASE WHEN c."probe" = 1 THEN 1000000000 ELSE 0 END FROM c)
    ), l AS MATERIALIZED (
      ${read(from, to, 0)} UNION ALL ${read(to, from, 1)}
    )
    SELECT 0 AS "kind", c."fromFirst" AS "id", c."cheaper" AS "labelId", c."probe" AS "recordId", (SELECT COUNT(*) FROM l) AS "relatedId", 0 AS "side" FROM c
    UNION ALL SELECT 1, m."id", m."labelId", m."firstRecordId", m."secondRecordId", 0 FROM m
    UNION ALL SELECT 4, l."id", l."labelId", l."recordId", l."relatedId", l."side" FROM l WHERE l."hit" = 1${
      last ? Prisma.empty : Prisma.sql`
    UNION ALL SELECT l."kind", l."id", l."labelId", l."recordId", l."relatedId", l."side" FROM l WHERE NOT EXISTS (SELECT 1 FROM l WHERE l."hit" = 1)`
    }`);
  const head = rows.find((row) => Number(row.kind) === 0)!;
  const rest = rows.filter((row) => row !== head);
  const index = Number(head.id) === 1 ? 0 : 1;
  const cheaper = Number(head.labelId);
  const frontier = new Set(index === 0 ? from : to);
  const met = rest.filter((row) => Number(row.kind) === 1);
  if (met.length > 0) {
    // A link between the two frontiers, as read from the widened side's record.
    const rowsMet = met.map((raw): PathRow => {
      const [first, second] = [Number(raw.recordId), Number(raw.relatedId)];
      const fromFirstRecord = frontier.has(first);
      return {
        id: Number(raw.id),
        labelId: Number(raw.labelId),
        recordId: fromFirstRecord ? first : second,
        relatedId: fromFirstRecord ? second : first,
        side: fromFirstRecord ? 1 : 2,
      };
    });
    rowsMet.sort((a, b) => a.recordId - b.recordId || a.id - b.id);
    return { index, rows: rowsMet, meetingOnly: true, tooMany: false };
  }
  const linksRead = Number(head.relatedId);
  const byRecord = (a: PathRow, b: PathRow) => a.recordId - b.recordId || a.id - b.id;
  const hit = rest.filter((row) => Number(row.kind) === 4).map(parseRow);
  if (hit.length > 0) return { index, rows: hit.sort(byRecord), meetingOnly: true, tooMany: linksRead > remaining };
  const probedAll = Number(head.recordId) === 1;
  if (last && probedAll) return { index, rows: [], meetingOnly: true, tooMany: false };
  const links = rest.filter((row) => Number(row.kind) === 2 || Number(row.kind) === 3).map(parseRow);
  return { index, rows: links.sort(byRecord), meetingOnly: last, tooMany: cheaper > remaining || linksRead > remaining };
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
 * through the lowest ids (then the oldest associations) wins, so the answer is stable: the
 * meeting record is the lowest of those the widened side reaches in the other's frontier, and
 * each record's step back towards its end is its lowest neighbour one step closer, by the oldest
 * association between them. A hop that finds the two frontiers linked therefore needs those
 * links only, and widen reads no more when it can find them alone.
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
    const { index, rows, meetingOnly, tooMany } = await widen(viewer, sides[0]!.frontier, sides[1]!.frontier, labelIds, remaining, hops === maxHops - 1);
    const side = sides[index]!;
    const other = sides[1 - index]!;
    if (tooMany) {
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
    if (meetingOnly) return null; // the last hop allowed, and the frontiers do not meet
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
