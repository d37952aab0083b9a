import DataLoader from 'dataloader';
import type { Association, AssociationLabel, Field, ObjectModel, RecordModel, User } from '../db/generated/sqlite/client.js';
import { Prisma, prisma, reader } from '../db/index.js';
import { isRestricted, type Viewer } from '../services/viewer.js';
import { visibleRecordSql, visibleRecordWhere } from '../services/visibility.js';

/**
 * Per-request batch loaders. Every reciprocal lookup of the association graph goes through
 * one of these, so a page of N records costs the same number of statements for any N.
 * Visibility is applied inside each query.
 */

/** Which side of an association the viewed record is on: 1 = first, 2 = second. */
export type Side = 1 | 2;

export interface SideRow {
  /** The association. */
  id: number;
  labelId: number;
  recordId: number;
  relatedId: number;
  side: Side;
  total: number;
}

export interface AssociationPageKey {
  recordId: number;
  /** Rows to fetch (the page size plus one, to learn whether there is a next page). */
  take: number;
  afterId: number;
  labelId?: number | undefined;
  relatedObjectId?: number | undefined;
  /** Only this side (omitted: both). */
  side?: Side | undefined;
}

export interface AssociationPage {
  rows: SideRow[];
  total: number;
}

/** An association as read from the side view (no timestamps) or as a whole row. */
export type AssociationShape = Pick<Association, 'id' | 'labelId' | 'firstRecordId' | 'secondRecordId'> &
  Partial<Pick<Association, 'createdAt' | 'createdById'>>;

export interface GroupCount {
  labelId: number;
  side: Side;
  count: number;
}

const num = (value: unknown) => Number(value);

/**
 * The association rows of `recordIds`, each seen from that record. The related record is
 * joined only when it decides something — visibility for a restricted viewer, or an object
 * filter: links never cross workspaces, so for everyone else the rows come from the two
 * covering indexes alone.
 */
function sideRows(viewer: Viewer, recordIds: number[], filter: Omit<AssociationPageKey, 'recordId' | 'take' | 'afterId'>) {
  const ids = Prisma.join(recordIds);
  const label = filter.labelId === undefined ? Prisma.empty : Prisma.sql` AND a."labelId" = ${filter.labelId}`;
  const halves: Prisma.Sql[] = [];
  if (filter.side !== 2) {
    halves.push(Prisma.sql`SELECT a."id", a."labelId", a."firstRecordId" AS "recordId", a."secondRecordId" AS "relatedId", 1 AS "side"
      FROM "Association" a WHERE a."firstRecordId" IN (${ids})${label}`);
  }
  if (filter.side !== 1) {
    halves.push(Prisma.sql`SELECT a."id", a."labelId", a."secondRecordId" AS "recordId", a."firstRecordId" AS "relatedId", 2 AS "side"
      FROM "Association" a WHERE a."secondRecordId" IN (${ids})${label}`);
  }
  const union = Prisma.sql`(${Prisma.join(halves, ' UNION ALL ')}) s`;
  if (!isRestricted(viewer) && filter.relatedObjectId === undefined) return union;
  const object = filter.relatedObjectId === undefined ? Prisma.empty : Prisma.sql` AND r."objectId" = ${filter.relatedObjectId}`;
  return Prisma.sql`${union}
    JOIN "Record" r ON r."id" = s."relatedId"
    WHERE ${visibleRecordSql(viewer, 'r')}${object}`;
}

/** Columns of the related record, read along with each page row. */
const RELATED_RECORD_COLUMNS = Prisma.sql`r."workspaceId" AS "rWorkspaceId", r."objectId" AS "rObjectId", r."properties" AS "rProperties",
  r."displayName" AS "rDisplayName", r."searchText" AS "rSearchText", r."ownerId" AS "rOwnerId",
  r."createdAt" AS "rCreatedAt", r."updatedAt" AS "rUpdatedAt"`;

/** A DateTime read through $queryRaw: a Date, or the stored text / epoch milliseconds. */
const asDate = (value: unknown): Date =>
  value instanceof Date ? value : new Date(typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : (value as string | number));

function relatedRecord(raw: Record<string, unknown>): RecordModel {
  return {
    id: num(raw.relatedId),
    workspaceId: num(raw.rWorkspaceId),
    objectId: num(raw.rObjectId),
    properties: String(raw.rProperties),
    displayName: String(raw.rDisplayName),
    searchText: String(raw.rSearchText),
    ownerId: raw.rOwnerId === null ? null : num(raw.rOwnerId),
    createdAt: asDate(raw.rCreatedAt),
    updatedAt: asDate(raw.rUpdatedAt),
  };
}

/**
 * Pages of associations seen from each key's record. The related records come in the same
 * statement and are handed to `prime` (the request's record loader), so resolving
 * `relatedRecord` or a group's records never costs another statement, whatever was cached.
 */
async function loadAssociationPages(
  viewer: Viewer,
  keys: readonly AssociationPageKey[],
  prime: (record: RecordModel) => void,
): Promise<AssociationPage[]> {
  // Keys that differ only by record share one statement.
  const groups = new Map<string, AssociationPageKey[]>();
  for (const key of keys) {
    const shape = JSON.stringify([key.take, key.afterId, key.labelId, key.relatedObjectId, key.side]);
    groups.set(shape, [...(groups.get(shape) ?? []), key]);
  }
  // Every shape becomes one sub-select tagged with its index; all of them go in ONE statement,
  // so a record page with many groups still costs one round trip for this level.
  const shapes = [...groups.values()];
  const selects = shapes.map((group, g) => {
    const { take, afterId, labelId, relatedObjectId, side } = group[0]!;
    const recordIds = [...new Set(group.map((key) => key.recordId))];
    const x = Prisma.raw(`x${g}`);
    // Window over the association rows only; the related records are read for the page's rows.
    return Prisma.sql`SELECT ${x}.*, ${RELATED_RECORD_COLUMNS} FROM (
        SELECT ${Prisma.raw(String(g))} AS "g", s."id", s."labelId", s."recordId", s."relatedId", s."side",
          COUNT(*) OVER (PARTITION BY s."recordId") AS "total",
          SUM(CASE WHEN s."id" > ${afterId} THEN 1 ELSE 0 END)
            OVER (PARTITION BY s."recordId" ORDER BY s."id" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS "position"
        FROM ${sideRows(viewer, recordIds, { labelId, relatedObjectId, side })}
      ) ${x}
      JOIN "Record" r ON r."id" = ${x}."relatedId"
      WHERE ${x}."id" > ${afterId} AND ${x}."position" <= ${take}`;
  });
  const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
    SELECT * FROM (${Prisma.join(selects, ' UNION ALL ')}) pages ORDER BY "g", "recordId", "id"`);
  const byShapeAndRecord = new Map<string, AssociationPage>();
  const pageFor = (g: number, recordId: number) => {
    const key = `${g}:${recordId}`;
    let page = byShapeAndRecord.get(key);
    if (!page) byShapeAndRecord.set(key, (page = { rows: [], total: 0 }));
    return page;
  };
  for (const raw of rows) {
    const row: SideRow = {
      id: num(raw.id),
      labelId: num(raw.labelId),
      recordId: num(raw.recordId),
      relatedId: num(raw.relatedId),
      side: num(raw.side) as Side,
      total: num(raw.total),
    };
    prime(relatedRecord(raw));
    const page = pageFor(num(raw.g), row.recordId);
    page.rows.push(row);
    page.total = row.total;
  }
  const pages = new Map<string, AssociationPage>();
  shapes.forEach((group, g) => {
    for (const key of group) pages.set(JSON.stringify(key), pageFor(g, key.recordId));
  });
  // A record whose page starts after its last row still needs its total.
  const missing = keys.filter((key) => pages.get(JSON.stringify(key))!.rows.length === 0 && key.afterId > 0);
  if (missing.length) {
    const totals = await countAssociations(viewer, missing);
    missing.forEach((key, i) => (pages.get(JSON.stringify(key))!.total = totals[i]!));
  }
  return keys.map((key) => pages.get(JSON.stringify(key))!);
}

/** Totals for keys whose page came back empty: one statement for all of them, grouped by shape. */
async function countAssociations(viewer: Viewer, keys: readonly AssociationPageKey[]): Promise<number[]> {
  const shapes = new Map<string, AssociationPageKey[]>();
  const shapeOf = (key: AssociationPageKey) => JSON.stringify([key.labelId, key.relatedObjectId, key.side]);
  for (const key of keys) shapes.set(shapeOf(key), [...(shapes.get(shapeOf(key)) ?? []), key]);
  const groups = [...shapes.values()];
  const selects = groups.map((group, g) => {
    const { labelId, relatedObjectId, side } = group[0]!;
    const recordIds = [...new Set(group.map((key) => key.recordId))];
    return Prisma.sql`SELECT ${Prisma.raw(String(g))} AS "g", s."recordId", COUNT(*) AS n
      FROM ${sideRows(viewer, recordIds, { labelId, relatedObjectId, side })}
      GROUP BY s."recordId"`;
  });
  const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
    SELECT * FROM (${Prisma.join(selects, ' UNION ALL ')}) counts`);
  const counts = new Map(rows.map((row) => [`${num(row.g)}:${num(row.recordId)}`, num(row.n)]));
  const shapeIndex = new Map([...shapes.keys()].map((shape, g) => [shape, g]));
  return keys.map((key) => counts.get(`${shapeIndex.get(shapeOf(key))}:${key.recordId}`) ?? 0);
}

async function loadGroupCounts(
  viewer: Viewer,
  keys: readonly { recordId: number; relatedObjectId?: number | undefined }[],
): Promise<GroupCount[][]> {
  const groups = new Map<number | undefined, number[]>();
  for (const key of keys) groups.set(key.relatedObjectId, [...(groups.get(key.relatedObjectId) ?? []), key.recordId]);
  const counts = new Map<string, GroupCount[]>();
  await Promise.all(
    [...groups].map(async ([relatedObjectId, recordIds]) => {
      const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
        SELECT s."recordId", s."labelId", s."side", COUNT(*) AS n
        FROM ${sideRows(viewer, [...new Set(recordIds)], { relatedObjectId })}
        GROUP BY s."recordId", s."labelId", s."side"
        ORDER BY s."recordId", s."labelId", s."side"`);
      for (const recordId of recordIds) counts.set(JSON.stringify([recordId, relatedObjectId]), []);
      for (const row of rows) {
        counts
          .get(JSON.stringify([num(row.recordId), relatedObjectId]))!
          .push({ labelId: num(row.labelId), side: num(row.side) as Side, count: num(row.n) });
      }
    }),
  );
  return keys.map((key) => counts.get(JSON.stringify([key.recordId, key.relatedObjectId]))!);
}

function byId<T extends { id: number }>(ids: readonly number[], rows: T[]): (T | null)[] {
  const map = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => map.get(id) ?? null);
}

function memo<T>(load: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= load());
}

export function createLoaders(viewer: Viewer) {
  const objects = memo(async () => {
    const rows = await prisma.objectModel.findMany({ where: { workspaceId: viewer.workspaceId }, orderBy: { id: 'asc' } });
    return { list: rows, byId: new Map(rows.map((row) => [row.id, row])), byKey: new Map(rows.map((row) => [row.key, row])) };
  });
  const labels = memo(async () => {
    const rows = await prisma.associationLabel.findMany({ where: { workspaceId: viewer.workspaceId }, orderBy: { id: 'asc' } });
    return { list: rows, byId: new Map(rows.map((row) => [row.id, row])), byKey: new Map(rows.map((row) => [row.key, row])) };
  });
  const cacheKeyFn = (key: object) => JSON.stringify(key);
  const record = new DataLoader<number, RecordModel | null>(async (ids) =>
    byId(ids, await prisma.recordModel.findMany({ where: { id: { in: [...ids] }, ...visibleRecordWhere(viewer) } })),
  );

  return {
    /** Every object of the workspace (a handful), read once per request. */
    objects,
    /** Every association label of the workspace, read once per request. */
    labels,
    object: async (id: number): Promise<ObjectModel> => (await objects()).byId.get(id)!,
    label: async (id: number): Promise<AssociationLabel | undefined> => (await labels()).byId.get(id),
    fields: new DataLoader<number, Field[]>(async (objectIds) => {
      const rows = await prisma.field.findMany({ where: { objectId: { in: [...objectIds] } }, orderBy: { position: 'asc' } });
      return objectIds.map((id) => rows.filter((row) => row.objectId === id));
    }),
    /** Records visible to the viewer, by id (null: missing or hidden). */
    record,
    association: new DataLoader<number, Association | null>(async (ids) =>
      byId(ids, await prisma.association.findMany({ where: { id: { in: [...ids] }, workspaceId: viewer.workspaceId } })),
    ),
    user: new DataLoader<number, User | null>(async (ids) =>
      byId(ids, await prisma.user.findMany({ where: { id: { in: [...ids] }, workspaceId: viewer.workspaceId } })),
    ),
    associationPage: new DataLoader<AssociationPageKey, AssociationPage, string>(
      (keys) => loadAssociationPages(viewer, keys, (row) => record.prime(row.id, row)),
      { cacheKeyFn },
    ),
    groupCounts: new DataLoader<{ recordId: number; relatedObjectId?: number | undefined }, GroupCount[], string>(
      (keys) => loadGroupCounts(viewer, keys),
      { cacheKeyFn },
    ),
    /** Associations per label whose two records the viewer can see. */
    labelAssociationCount: new DataLoader<number, number>(async (labelIds) => {
      const rows = await reader.rows<{ labelId: unknown; n: unknown }>(Prisma.sql`
        SELECT a."labelId", COUNT(*) AS n FROM "Association" a
        JOIN "Record" f ON f."id" = a."firstRecordId"
        JOIN "Record" s ON s."id" = a."secondRecordId"
        WHERE a."labelId" IN (${Prisma.join([...labelIds])})
          AND ${visibleRecordSql(viewer, 'f')} AND ${visibleRecordSql(viewer, 's')}
        GROUP BY a."labelId"`);
      const counts = new Map(rows.map((row) => [num(row.labelId), num(row.n)]));
      return labelIds.map((id) => counts.get(id) ?? 0);
    }),
    /** Distinct records linked by each label, among those the viewer can see linked to a visible record. */
    labelRecordCount: new DataLoader<number, number>(async (labelIds) => {
      const rows = await reader.rows<{ labelId: unknown; n: unknown }>(Prisma.sql`
        SELECT linked."labelId", COUNT(*) AS n FROM (
          SELECT a."labelId", a."firstRecordId" AS "recordId" FROM "Association" a
            JOIN "Record" f ON f."id" = a."firstRecordId" JOIN "Record" s ON s."id" = a."secondRecordId"
            WHERE a."labelId" IN (${Prisma.join([...labelIds])}) AND ${visibleRecordSql(viewer, 'f')} AND ${visibleRecordSql(viewer, 's')}
          UNION
          SELECT a."labelId", a."secondRecordId" AS "recordId" FROM "Association" a
            JOIN "Record" f ON f."id" = a."firstRecordId" JOIN "Record" s ON s."id" = a."secondRecordId"
            WHERE a."labelId" IN (${Prisma.join([...labelIds])}) AND ${visibleRecordSql(viewer, 'f')} AND ${visibleRecordSql(viewer, 's')}
        ) linked
        GROUP BY linked."labelId"`);
      const counts = new Map(rows.map((row) => [num(row.labelId), num(row.n)]));
      return labelIds.map((id) => counts.get(id) ?? 0);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
