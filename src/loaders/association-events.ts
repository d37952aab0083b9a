import { Prisma, provider, reader } from '../db/index.js';
import { idTable, inIds, timestamp } from '../db/reader.js';
import { isRestricted, type Viewer } from '../services/viewer.js';
import { visibleRecordSql } from '../services/visibility.js';
import { groupBy, type Side } from './index.js';

/**
 * The association history of many records (`Record.associationEvents`), newest first: a page of
 * each record's events in one statement, and each total, when asked, in one more, whatever the
 * number of records. Only LINKED and UNLINKED events count (the log also holds label and record
 * events), and an event whose other record still exists but is hidden from the viewer is left
 * out, like that record. The viewer is the loader's, so a key never crosses visibilities.
 */

export interface AssociationEventRow {
  id: number;
  action: 'LINKED' | 'UNLINKED';
  labelId: number | null;
  firstRecordId: number;
  secondRecordId: number;
  actorId: number | null;
  at: Date;
}

export interface AssociationEventPageKey {
  recordId: number;
  /** Rows to fetch (the page size plus one, to learn whether there is a next page). */
  take: number;
  /** Only events older than this one (0: from the newest). */
  afterId: number;
}

const EVENT_COLUMNS = ['id', 'action', 'labelId', 'firstRecordId', 'secondRecordId', 'actorId', 'at'] as const;
const columnsOf = (alias: string) => Prisma.raw(EVENT_COLUMNS.map((column) => `${alias}."${column}"`).join(', '));

const num = (value: unknown) => Number(value);
const eventOf = (row: Record<string, unknown>): AssociationEventRow => ({
  id: num(row.id),
  action: row.action as AssociationEventRow['action'],
  labelId: row.labelId === null ? null : num(row.labelId),
  firstRecordId: num(row.firstRecordId),
  secondRecordId: num(row.secondRecordId),
  actorId: row.actorId === null ? null : num(row.actorId),
  at: timestamp(row.at),
});

/** Event `e`'s record on a side, and the one on the other side. */
const ownRecord = (side: Side) => Prisma.raw(side === 1 ? 'e."firstRecordId"' : 'e."secondRecordId"');
const otherRecord = (side: Side) => ownRecord(side === 1 ? 2 : 1);

/**
 * `"AssociationEvent" e … WHERE …`: the events a viewer may see with the record `own` picks on
 * one side, read from that side's index (workspaceId, <side>RecordId, id). The other record is
 * joined only for a restricted viewer: links never cross workspaces, so everyone else sees it.
 * A record is never linked to itself, so no event is seen twice from the same record.
 */
function sideEvents(viewer: Viewer, side: Side, own: (column: Prisma.Sql) => Prisma.Sql, indexed = Prisma.empty): Prisma.Sql {
  const restricted = isRestricted(viewer);
  const other = restricted ? Prisma.sql` LEFT JOIN "Record" o ON o."id" = ${otherRecord(side)}` : Prisma.empty;
  const visible = restricted ? Prisma.sql` AND (o."id" IS NULL OR (${visibleRecordSql(viewer, 'o')}))` : Prisma.empty;
  return Prisma.sql`"AssociationEvent" e${indexed}${other}
    WHERE e."workspaceId" = ${viewer.workspaceId} AND ${own(ownRecord(side))}
      AND e."action" IN ('LINKED', 'UNLINKED')${visible}`;
}

/**
 * The `take` newest events before `afterId` of each record, over both sides, with the record's
 * id as "recordId". Each side reads its own index backwards and stops after `take` entries, so a
 * record with a long history costs what a new one does: PostgreSQL merges the two sides in a
 * LATERAL sub-select per record. SQLite has no LATERAL, and it cannot look rows up by a correlated
 * `IN (… LIMIT n)` (it scanned the whole event log once per record), so each side walks its index
 * in a recursive chain, one seek per event (the newest one older than the last), then the rows are
 * read by id and the merged rows numbered.
 */
function newestEvents(viewer: Viewer, recordIds: readonly number[], afterId: number, take: number): Prisma.Sql {
  const values = idTable(provider, recordIds, 'v');
  const before = afterId > 0 ? Prisma.sql` AND e."id" < ${afterId}` : Prisma.empty;
  const newest = (side: Side, select: Prisma.Sql) =>
    Prisma.sql`SELECT ${select} FROM ${sideEvents(viewer, side, (column) => Prisma.sql`${column} = v.value`)}${before}
      ORDER BY e."id" DESC LIMIT ${take}`;
  if (provider === 'postgresql') {
    return Prisma.sql`SELECT v.value AS "recordId", ${columnsOf('p')} FROM ${values} CROSS JOIN LATERAL (
      (${newest(1, columnsOf('e'))}) UNION ALL (${newest(2, columnsOf('e'))}) ORDER BY "id" DESC LIMIT ${take}) p`;
  }
  const chains = ([1, 2] as const).map((side) => {
    const chain = Prisma.raw(`c${side}`);
    // Named: on its own the planner walked the primary key back from `id < …` instead.
    const index = Prisma.raw(` INDEXED BY "AssociationEvent_workspaceId_${side === 1 ? 'first' : 'second'}RecordId_id_idx"`);
    const next = (record: Prisma.Sql, older: Prisma.Sql) =>
      Prisma.sql`(SELECT e."id" FROM ${sideEvents(viewer, side, (column) => Prisma.sql`${column} = ${record}`, index)}${older} ORDER BY e."id" DESC LIMIT 1)`;
    return Prisma.sql`${chain}("recordId", "id", "n") AS (
      SELECT v.value, ${next(Prisma.sql`v.value`, before)}, 1 FROM ${values}
      UNION ALL
      SELECT c."recordId", ${next(Prisma.sql`c."recordId"`, Prisma.sql` AND e."id" < c."id"`)}, c."n" + 1 FROM ${chain} c WHERE c."id" IS NOT NULL AND c."n" < ${take})`;
  });
  const halves = ([1, 2] as const).map(
    (side) => Prisma.sql`SELECT c."recordId", ${columnsOf('p')} FROM ${Prisma.raw(`c${side}`)} c JOIN "AssociationEvent" p ON p."id" = c."id"`,
  );
  return Prisma.sql`WITH RECURSIVE ${Prisma.join(chains, ', ')}
    SELECT "recordId", ${columnsOf('n')} FROM (
      SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s."recordId" ORDER BY s."id" DESC) AS "position"
      FROM (${Prisma.join(halves, ' UNION ALL ')}) s
    ) n WHERE n."position" <= ${take}`;
}

/** Pages of events of many records: one statement, one sub-select per page shape (take, afterId). */
export async function loadAssociationEventPages(viewer: Viewer, keys: readonly AssociationEventPageKey[]): Promise<AssociationEventRow[][]> {
  const shapes = [...groupBy(keys, (key) => `${key.take}:${key.afterId}`).values()];
  const selects = shapes.map((group, g) => {
    const { take, afterId } = group[0]!;
    const recordIds = [...new Set(group.map((key) => key.recordId))];
    return Prisma.sql`SELECT ${Prisma.raw(String(g))} AS "g", page.* FROM (${newestEvents(viewer, recordIds, afterId, take)}) page`;
  });
  const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
    SELECT * FROM (${Prisma.join(selects, ' UNION ALL ')}) pages ORDER BY "g", "recordId", "id" DESC`);
  const pages = new Map<string, AssociationEventRow[]>();
  for (const row of rows) {
    const key = `${num(row.g)}:${num(row.recordId)}`;
    const page = pages.get(key);
    if (page) page.push(eventOf(row));
    else pages.set(key, [eventOf(row)]);
  }
  const shapeOf = new Map(shapes.flatMap((group, g) => group.map((key) => [key, g] as const)));
  return keys.map((key) => pages.get(`${shapeOf.get(key)}:${key.recordId}`) ?? []);
}

/** How many events each record has in all: one statement for all of them. */
export async function countAssociationEvents(viewer: Viewer, recordIds: readonly number[]): Promise<number[]> {
  const halves = ([1, 2] as const).map(
    (side) => Prisma.sql`SELECT ${ownRecord(side)} AS "recordId" FROM ${sideEvents(viewer, side, (column) => inIds(provider, column, recordIds))}`,
  );
  const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
    SELECT s."recordId", COUNT(*) AS n FROM (${Prisma.join(halves, ' UNION ALL ')}) s GROUP BY s."recordId"`);
  const counts = new Map(rows.map((row) => [num(row.recordId), num(row.n)]));
  return recordIds.map((id) => counts.get(id) ?? 0);
}
