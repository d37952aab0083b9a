import DataLoader from 'dataloader';
import type { Association, AssociationLabel, Field, ObjectModel, RecordModel, User } from '../db/generated/sqlite/client.js';
import { Prisma, provider, reader } from '../db/index.js';
import { idTable, inIds, timestamp } from '../db/reader.js';
import { isRestricted, type Viewer } from '../services/viewer.js';
import { visibleRecordSql } from '../services/visibility.js';
import { countAssociationEvents, loadAssociationEventPages, type AssociationEventPageKey, type AssociationEventRow } from './association-events.js';
import { countMutual, loadMutual, loadNeighbourhoods, type MutualKey, type Neighbourhood, type NeighbourhoodKey } from './graph.js';

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
  side: Side;
  /** The record on the other side, read with the row (whole, or a summary: see createLoaders). */
  related: AnyRecord;
}

export interface AssociationPageKey {
  recordId: number;
  /** Rows to fetch (the page size plus one, to learn whether there is a next page). */
  take: number;
  afterId: number;
  labelId?: number | undefined;
  relatedObjectId?: number | undefined;
  /** Only under one of these labels (graph exploration's filters). */
  labelIds?: readonly number[] | undefined;
  /** Only with records of one of these objects. */
  relatedObjectIds?: readonly number[] | undefined;
  /** Only this side (omitted: both). */
  side?: Side | undefined;
  /**
   * Of the first `take` rows, keep only those whose related record is one of these (graph
   * exploration's closing reads: links among records already found). The read stays `take` rows
   * deep; only the kept rows read their related record.
   */
  relatedIds?: readonly number[] | undefined;
}

/** What a read of association rows keeps, besides the records and the page. */
type RowFilter = Omit<AssociationPageKey, 'recordId' | 'take' | 'afterId'>;

/** The label conditions of a filter on association `alias` (empty, or starting with AND). */
function labelCondition(alias: string, filter: RowFilter): Prisma.Sql {
  const column = Prisma.raw(`${alias}."labelId"`);
  const parts: Prisma.Sql[] = [];
  if (filter.labelId !== undefined) parts.push(Prisma.sql` AND ${column} = ${filter.labelId}`);
  if (filter.labelIds !== undefined) parts.push(Prisma.sql` AND ${inIds(provider, column, filter.labelIds.length ? filter.labelIds : [-1])}`);
  return parts.length ? Prisma.join(parts, '') : Prisma.empty;
}

/** The related-object conditions of a filter on record `alias`, and whether there are any. */
function objectCondition(alias: string, filter: RowFilter): Prisma.Sql | null {
  const column = Prisma.raw(`${alias}."objectId"`);
  const parts: Prisma.Sql[] = [];
  if (filter.relatedObjectId !== undefined) parts.push(Prisma.sql` AND ${column} = ${filter.relatedObjectId}`);
  if (filter.relatedObjectIds !== undefined) {
    parts.push(Prisma.sql` AND ${inIds(provider, column, filter.relatedObjectIds.length ? filter.relatedObjectIds : [-1])}`);
  }
  return parts.length ? Prisma.join(parts, '') : null;
}

/** A key for the reads that share one statement shape. */
const shapeKey = (key: RowFilter & { take?: number; afterId?: number }) =>
  JSON.stringify([key.take, key.afterId, key.labelId, key.relatedObjectId, key.labelIds, key.relatedObjectIds, key.side, key.relatedIds]);

export interface AssociationPage {
  rows: SideRow[];
}

/** Which associations of a record a total counts. */
export type AssociationTotalKey = Omit<AssociationPageKey, 'take' | 'afterId'>;

/** An association as read from the side view (no timestamps) or as a whole row. */
export type AssociationShape = Pick<Association, 'id' | 'labelId' | 'firstRecordId' | 'secondRecordId'> &
  Partial<Pick<Association, 'createdAt' | 'createdById'>>;

/** A record's associations under one label on one side, as tallied (0: either side of a SINGLE label within one object). */
export interface TallyCount {
  labelId: number;
  side: 0 | Side;
  count: number;
}

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
export function sideRows(viewer: Viewer, recordIds: readonly number[], filter: RowFilter) {
  const label = labelCondition('a', filter);
  const halves: Prisma.Sql[] = [];
  if (filter.side !== 2) {
    halves.push(Prisma.sql`SELECT a."id", a."labelId", a."firstRecordId" AS "recordId", a."secondRecordId" AS "relatedId", 1 AS "side"
      FROM "Association" a WHERE ${inIds(provider, Prisma.sql`a."firstRecordId"`, recordIds)}${label}`);
  }
  if (filter.side !== 1) {
    halves.push(Prisma.sql`SELECT a."id", a."labelId", a."secondRecordId" AS "recordId", a."firstRecordId" AS "relatedId", 2 AS "side"
      FROM "Association" a WHERE ${inIds(provider, Prisma.sql`a."secondRecordId"`, recordIds)}${label}`);
  }
  const union = Prisma.sql`(${Prisma.join(halves, ' UNION ALL ')}) s`;
  const object = objectCondition('r', filter);
  if (!isRestricted(viewer) && object === null) return union;
  return Prisma.sql`${union}
    CROSS JOIN "Record" r
    WHERE r."id" = s."relatedId" AND ${visibleRecordSql(viewer, 'r')}${object ?? Prisma.empty}`;
}

/** A record as the API reads it: every column but `searchText` and `uniqueValue`, which only lookups read. */
export type RecordRow = Omit<RecordModel, 'searchText' | 'uniqueValue'>;

/** A record's columns, in the order a record tuple lists them. */
const RECORD_FIELDS = ['id', 'workspaceId', 'objectId', 'properties', 'displayName', 'ownerId', 'createdAt', 'updatedAt'] as const;
/** A record's columns of "Record" row `r`, to select. */
export const RECORD_COLUMNS = Prisma.raw(RECORD_FIELDS.map((field) => `r."${field}"`).join(', '));
/** A record from a row that selected RECORD_COLUMNS. */
export const recordOf = (row: Record<string, unknown>): RecordRow => new StoredRecord(RECORD_FIELDS.map((field) => row[field]));

/** Records read on the bare driver: `SELECT <record columns> FROM "Record" r WHERE <condition>`. */
async function readRecords(condition: Prisma.Sql): Promise<RecordRow[]> {
  return (await reader.rows(Prisma.sql`SELECT ${RECORD_COLUMNS} FROM "Record" r WHERE ${condition}`)).map(recordOf);
}

/** A "Record" row read on the bare driver; its timestamps are parsed when first read. */
class StoredRecord implements RecordRow {
  readonly id: number;
  readonly workspaceId: number;
  readonly objectId: number;
  readonly properties: string;
  readonly displayName: string;
  readonly ownerId: number | null;
  readonly #createdAt: unknown;
  readonly #updatedAt: unknown;

  /** From the values of RECORD_FIELDS, in order. */
  constructor(values: readonly unknown[]) {
    const [id, workspaceId, objectId, properties, displayName, ownerId, createdAt, updatedAt] = values;
    this.id = num(id);
    this.workspaceId = num(workspaceId);
    this.objectId = num(objectId);
    this.properties = String(properties);
    this.displayName = String(displayName);
    this.ownerId = ownerId === null ? null : num(ownerId);
    this.#createdAt = createdAt;
    this.#updatedAt = updatedAt;
  }

  get createdAt() {
    return timestamp(this.#createdAt);
  }

  get updatedAt() {
    return timestamp(this.#updatedAt);
  }
}


/**
 * A record as read beside an association row when the operation asks for none of its details
 * (properties, timestamps): what a list cell or a graph hop shows. Half the columns of a
 * record, and most of its bytes, are details.
 */
export type RecordSummary = Pick<RecordRow, 'id' | 'workspaceId' | 'objectId' | 'displayName' | 'ownerId'>;
export type AnyRecord = RecordRow | RecordSummary;
export const isWhole = (record: AnyRecord): record is RecordRow => 'properties' in record;
/** Record columns read beside a page row, prefixed: `r."id" AS "rId"`, …. */
const relatedName = (field: string) => `r${field[0]!.toUpperCase()}${field.slice(1)}`;
const relatedColumns = (fields: readonly string[]) => Prisma.raw(fields.map((field) => `r."${field}" AS "${relatedName(field)}"`).join(', '));
const RELATED_COLUMNS = relatedColumns(RECORD_FIELDS);
const RELATED_NAMES = RECORD_FIELDS.map(relatedName);
const SUMMARY_COLUMNS = relatedColumns(['id', 'objectId', 'displayName', 'ownerId']);

function objectRow(raw: Record<string, unknown>): ObjectModel {
  return {
    id: num(raw.id),
    workspaceId: num(raw.workspaceId),
    key: String(raw.key),
    singularName: String(raw.singularName),
    pluralName: String(raw.pluralName),
    standard: Boolean(raw.standard),
    primaryProperty: String(raw.primaryProperty),
    createdAt: timestamp(raw.createdAt),
    updatedAt: timestamp(raw.updatedAt),
  };
}

function labelRow(raw: Record<string, unknown>): AssociationLabel {
  return {
    id: num(raw.id),
    workspaceId: num(raw.workspaceId),
    key: String(raw.key),
    type: raw.type as AssociationLabel['type'],
    cardinality: raw.cardinality as AssociationLabel['cardinality'],
    firstObjectId: num(raw.firstObjectId),
    secondObjectId: num(raw.secondObjectId),
    firstLabel: String(raw.firstLabel),
    secondLabel: String(raw.secondLabel),
    maxSecondPerFirst: raw.maxSecondPerFirst == null ? null : num(raw.maxSecondPerFirst),
    maxFirstPerSecond: raw.maxFirstPerSecond == null ? null : num(raw.maxFirstPerSecond),
    createdAt: timestamp(raw.createdAt),
    updatedAt: timestamp(raw.updatedAt),
  };
}

function fieldRow(raw: Record<string, unknown>): Field {
  return {
    id: num(raw.id),
    objectId: num(raw.objectId),
    key: String(raw.key),
    name: String(raw.name),
    type: raw.type as Field['type'],
    required: Boolean(raw.required),
    unique: Boolean(raw.unique),
    position: num(raw.position),
  };
}

function userRow(raw: Record<string, unknown>): User {
  return {
    id: num(raw.id),
    workspaceId: num(raw.workspaceId),
    name: String(raw.name),
    email: String(raw.email),
    role: raw.role as User['role'],
    createdAt: timestamp(raw.createdAt),
  };
}

function associationRow(raw: Record<string, unknown>): Association {
  return {
    id: num(raw.id),
    workspaceId: num(raw.workspaceId),
    labelId: num(raw.labelId),
    firstRecordId: num(raw.firstRecordId),
    secondRecordId: num(raw.secondRecordId),
    createdAt: timestamp(raw.createdAt),
    createdById: raw.createdById == null ? null : num(raw.createdById),
  };
}

/**
 * Pages of associations seen from each key's record. The related records come in the same
 * statement and are handed to `prime` (the request's record loader), so resolving
 * `relatedRecord` or a group's records never costs another statement, whatever was cached.
 */
export async function loadAssociationPages(
  viewer: Viewer,
  keys: readonly AssociationPageKey[],
  wholeRecords: boolean,
  prime: (record: RecordRow) => void,
): Promise<AssociationPage[]> {
  // Keys that differ only by record share one sub-select.
  const groups = groupBy(keys, shapeKey);
  // Every shape becomes one sub-select tagged with its index; all of them go in ONE statement,
  // so a record page with many groups still costs one round trip for this level. Only the
  // page's rows read their related record (CROSS JOIN: SQLite keeps the page as the outer loop
  // instead of scanning "Record").
  const shapes = [...groups.values()];
  const related = wholeRecords ? RELATED_COLUMNS : SUMMARY_COLUMNS;
  const selects = shapes.map((group, g) => {
    const { recordId: _recordId, take, afterId, ...filter } = group[0]!;
    const recordIds = [...new Set(group.map((key) => key.recordId))];
    return Prisma.sql`SELECT ${Prisma.raw(String(g))} AS "g", p."id", p."labelId", p."recordId", p."side", ${related}
      FROM (${firstRows(viewer, recordIds, filter, afterId, take)}) p
      CROSS JOIN "Record" r
      WHERE r."id" = p."relatedId"`;
  });
  const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
    SELECT * FROM (${Prisma.join(selects, ' UNION ALL ')}) pages ORDER BY "g", "recordId", "id"`);
  const byShapeAndRecord = new Map<string, AssociationPage>();
  const pageFor = (g: number, recordId: number) => {
    const key = `${g}:${recordId}`;
    let page = byShapeAndRecord.get(key);
    if (!page) byShapeAndRecord.set(key, (page = { rows: [] }));
    return page;
  };
  for (const raw of rows) {
    let related: AnyRecord;
    if (wholeRecords) prime((related = new StoredRecord(RELATED_NAMES.map((name) => raw[name]))));
    else {
      const ownerId = raw.rOwnerId;
      // Links never cross workspaces: the related record is in the viewer's.
      related = {
        id: num(raw.rId),
        workspaceId: viewer.workspaceId,
        objectId: num(raw.rObjectId),
        displayName: String(raw.rDisplayName),
        ownerId: ownerId === null ? null : num(ownerId),
      };
    }
    const recordId = num(raw.recordId);
    pageFor(num(raw.g), recordId).rows.push({
      id: num(raw.id),
      labelId: num(raw.labelId),
      recordId,
      side: num(raw.side) as Side,
      related,
    });
  }
  const shapeOf = new Map(shapes.flatMap((group, g) => group.map((key) => [key, g] as const)));
  return keys.map((key) => pageFor(shapeOf.get(key)!, key.recordId));
}

/**
 * The first `take` association rows after `afterId` of each record, over both sides (or one),
 * in id order, seen from that record. Each side reads its own covering index in id order and
 * stops after `take` entries, so a hub with thousands of links costs what a record with ten
 * does. PostgreSQL merges the two sides inside one LATERAL sub-select per record (a merge of two
 * index scans, cut at `take`); SQLite, which has no LATERAL, reads each side with a correlated
 * `IN (… LIMIT n)` per record and numbers the merged rows.
 */
function firstRows(viewer: Viewer, recordIds: number[], filter: RowFilter, afterId: number, take: number): Prisma.Sql {
  const values = idTable(provider, recordIds, 'v');
  const object = objectCondition('r', filter);
  const join = isRestricted(viewer) || object !== null;
  const sides: Side[] = filter.side === undefined ? [1, 2] : [filter.side];
  /** The relatedIds condition on the limited rows `alias`, after `glue` (empty without one). */
  const kept = (glue: Prisma.Sql, alias: string) =>
    filter.relatedIds === undefined
      ? Prisma.empty
      : Prisma.sql`${glue}${inIds(provider, Prisma.raw(`${alias}."relatedId"`), filter.relatedIds.length ? filter.relatedIds : [-1])}`;
  const columns = (side: Side) => ({
    own: Prisma.raw(side === 1 ? '"firstRecordId"' : '"secondRecordId"'),
    other: Prisma.raw(side === 1 ? '"secondRecordId"' : '"firstRecordId"'),
  });
  /** One side's rows of record `v.value`, in id order, at most `take`. */
  const limited = (side: Side, select: Prisma.Sql) => {
    const { own, other } = columns(side);
    const label = labelCondition('b', filter);
    const related = join ? Prisma.sql` AND r."id" = b.${other} AND ${visibleRecordSql(viewer, 'r')}${object ?? Prisma.empty}` : Prisma.empty;
    return Prisma.sql`SELECT ${select} FROM "Association" b${join ? Prisma.raw(' CROSS JOIN "Record" r') : Prisma.empty}
      WHERE b.${own} = v.value AND b."id" > ${afterId}${label}${related} ORDER BY b."id" LIMIT ${take}`;
  };
  if (provider === 'postgresql') {
    const merged = sides.map((side) => {
      const select = Prisma.sql`b."id", b."labelId", b.${columns(side).other} AS "relatedId", ${Prisma.raw(String(side))} AS "side"`;
      return Prisma.sql`(${limited(side, select)})`;
    });
    const lateral = merged.length === 1 ? merged[0]! : Prisma.sql`(${Prisma.join(merged, ' UNION ALL ')} ORDER BY "id" LIMIT ${take})`;
    return Prisma.sql`SELECT a."id", a."labelId", v.value AS "recordId", a."relatedId", a."side"
      FROM ${values} CROSS JOIN LATERAL ${lateral} a${kept(Prisma.sql` WHERE `, 'a')}`;
  }
  const halves = sides.map((side) => {
    const { other } = columns(side);
    return Prisma.sql`SELECT a."id", a."labelId", v.value AS "recordId", a.${other} AS "relatedId", ${Prisma.raw(String(side))} AS "side"
      FROM ${values} JOIN "Association" a ON a."id" IN (${limited(side, Prisma.sql`b."id"`)})`;
  });
  return Prisma.sql`SELECT "id", "labelId", "recordId", "relatedId", "side" FROM (
      SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s."recordId" ORDER BY s."id") AS "position"
      FROM (${Prisma.join(halves, ' UNION ALL ')}) s
    ) n WHERE n."position" <= ${take}${kept(Prisma.sql` AND `, 'n')}`;
}

/** Association totals of many records (and filters): one statement for all of them, grouped by shape. */
async function countAssociations(viewer: Viewer, keys: readonly AssociationTotalKey[]): Promise<number[]> {
  const shapes = groupBy(keys, shapeKey);
  const groups = [...shapes.values()];
  const selects = groups.map((group, g) => {
    const { recordId: _recordId, ...filter } = group[0]!;
    const recordIds = [...new Set(group.map((key) => key.recordId))];
    return Prisma.sql`SELECT ${Prisma.raw(String(g))} AS "g", s."recordId", COUNT(*) AS n
      FROM ${sideRows(viewer, recordIds, filter)}
      GROUP BY s."recordId"`;
  });
  const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
    SELECT * FROM (${Prisma.join(selects, ' UNION ALL ')}) counts`);
  const counts = new Map(rows.map((row) => [`${num(row.g)}:${num(row.recordId)}`, num(row.n)]));
  const shapeIndex = new Map([...shapes.keys()].map((shape, g) => [shape, g]));
  return keys.map((key) => counts.get(`${shapeIndex.get(shapeKey(key))}:${key.recordId}`) ?? 0);
}

async function loadGroupCounts(
  viewer: Viewer,
  keys: readonly { recordId: number; relatedObjectId?: number | undefined }[],
): Promise<GroupCount[][]> {
  const groups = new Map([...groupBy(keys, (key) => key.relatedObjectId)].map(([filter, group]) => [filter, group.map((key) => key.recordId)]));
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

/** Which records of an object a list shows (besides visibility). */
export interface RecordListFilter {
  objectId: number;
  /** Lowercase text the display name, email or phone contains. */
  search?: string | undefined;
  /** Only records linked to this one (which must itself be visible), optionally under one label. */
  associatedWith?: { recordId: number; labelId?: number | undefined } | undefined;
}

function recordListWhere(viewer: Viewer, filter: RecordListFilter): Prisma.Sql {
  const parts = [Prisma.sql`r."objectId" = ${filter.objectId}`, visibleRecordSql(viewer, 'r')];
  if (filter.search) {
    // LIKE wildcards in the term match themselves.
    const escaped = filter.search.replace(/[\\%_]/g, (c) => `\\${c}`);
    parts.push(Prisma.sql`r."searchText" LIKE ${`%${escaped}%`} ESCAPE '\\'`);
  }
  if (filter.associatedWith) {
    const { recordId, labelId } = filter.associatedWith;
    const label = labelId === undefined ? Prisma.empty : Prisma.sql` AND a."labelId" = ${labelId}`;
    parts.push(Prisma.sql`(EXISTS (SELECT 1 FROM "Association" a WHERE a."firstRecordId" = r."id" AND a."secondRecordId" = ${recordId}${label})
      OR EXISTS (SELECT 1 FROM "Association" a WHERE a."secondRecordId" = r."id" AND a."firstRecordId" = ${recordId}${label}))
      AND EXISTS (SELECT 1 FROM "Record" o WHERE o."id" = ${recordId} AND ${visibleRecordSql(viewer, 'o')})`);
  }
  return Prisma.join(parts, ' AND ');
}

/** A page of an object's records visible to the viewer, in id order, after `afterId`. */
function listRecords(viewer: Viewer, filter: RecordListFilter, afterId: number, take: number): Promise<RecordRow[]> {
  return readRecords(Prisma.sql`${recordListWhere(viewer, filter)} AND r."id" > ${afterId} ORDER BY r."id" LIMIT ${take}`);
}

async function countRecords(viewer: Viewer, filter: RecordListFilter): Promise<number> {
  const rows = await reader.rows<{ n: unknown }>(Prisma.sql`SELECT COUNT(*) AS n FROM "Record" r WHERE ${recordListWhere(viewer, filter)}`);
  return num(rows[0]?.n ?? 0);
}

export function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

function byId<T extends { id: number }>(ids: readonly number[], rows: T[]): (T | null)[] {
  const map = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => map.get(id) ?? null);
}

function memo<T>(load: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= load());
}

interface Indexed<T extends { id: number; key: string }> {
  list: T[];
  byId: Map<number, T>;
  byKey: Map<string, T>;
}

const indexed = <T extends { id: number; key: string }>(rows: T[]): Indexed<T> => ({
  list: rows,
  byId: new Map(rows.map((row) => [row.id, row])),
  byKey: new Map(rows.map((row) => [row.key, row])),
});

const readObjects = async (workspaceId: number) =>
  indexed((await reader.rows(Prisma.sql`SELECT * FROM "Object" WHERE "workspaceId" = ${workspaceId} ORDER BY "id"`)).map(objectRow));
const readLabels = async (workspaceId: number) =>
  indexed(
    (await reader.rows(Prisma.sql`SELECT * FROM "AssociationLabel" WHERE "workspaceId" = ${workspaceId} ORDER BY "id"`)).map(labelRow),
  );

/**
 * Objects and labels of a workspace, shared by the requests of this process and keyed by the
 * workspace's schemaVersion, which every change to them bumps in its own transaction and every
 * request reads with its authentication (see services/metadata.ts): in steady state they cost no
 * statement at all, and a committed change is never served stale. Once read, they are handed
 * out as values rather than promises, so the hundreds of lookups of a page resolve in place.
 */
interface CacheEntry<T> {
  promise: Promise<T>;
  value?: T;
}
const metadataCache = new Map<string, CacheEntry<unknown>>();
function cachedMetadata<T>(kind: 'objects' | 'labels', viewer: Viewer, read: () => Promise<T>): T | Promise<T> {
  const key = `${kind}:${viewer.workspaceId}:${viewer.schemaVersion}`;
  let entry = metadataCache.get(key) as CacheEntry<T> | undefined;
  if (!entry) {
    if (metadataCache.size > 2000) metadataCache.clear();
    const created: CacheEntry<T> = { promise: read() };
    created.promise.then(
      (value) => (created.value = value),
      () => metadataCache.delete(key),
    );
    metadataCache.set(key, (entry = created));
  }
  return entry.value ?? entry.promise;
}

export interface LoaderOptions {
  /**
   * Whether records read beside association rows are read whole (and primed into `record`), or
   * as summaries, when the operation shows none of their details. A detail asked of a summary
   * anyway is read through `record`, batched: correct either way, one statement more.
   */
  wholeRelatedRecords: boolean;
}

export function createLoaders(viewer: Viewer, { wholeRelatedRecords }: LoaderOptions = { wholeRelatedRecords: true }) {
  const objects = () => cachedMetadata('objects', viewer, () => readObjects(viewer.workspaceId));
  const labels = () => cachedMetadata('labels', viewer, () => readLabels(viewer.workspaceId));
  // Something created by a mutation earlier in this same request is newer than the request's
  // version: read it afresh (once per request) rather than answer without it.
  const freshObjects = memo(() => readObjects(viewer.workspaceId));
  const freshLabels = memo(() => readLabels(viewer.workspaceId));
  const cacheKeyFn = (key: object) => JSON.stringify(key);
  const record = new DataLoader<number, RecordRow | null>(async (ids) =>
    byId(ids, await readRecords(Prisma.sql`${inIds(provider, Prisma.sql`r."id"`, ids)} AND ${visibleRecordSql(viewer, 'r')}`)),
  );

  return {
    /** Every object of the workspace (a handful). */
    objects,
    /** Every association label of the workspace. */
    labels,
    object: (id: number): ObjectModel | Promise<ObjectModel> => {
      const known = objects();
      return (!(known instanceof Promise) && known.byId.get(id)) || (async () => (await known).byId.get(id) ?? (await freshObjects()).byId.get(id)!)();
    },
    label: (id: number): AssociationLabel | Promise<AssociationLabel | undefined> => {
      const known = labels();
      return (!(known instanceof Promise) && known.byId.get(id)) || (async () => (await known).byId.get(id) ?? (await freshLabels()).byId.get(id))();
    },
    fields: new DataLoader<number, Field[]>(async (objectIds) => {
      const rows = (
        await reader.rows<Record<string, unknown>>(Prisma.sql`
          SELECT * FROM "Field" WHERE ${inIds(provider, Prisma.sql`"objectId"`, objectIds)} ORDER BY "position", "id"`)
      ).map(fieldRow);
      return objectIds.map((id) => rows.filter((row) => row.objectId === id));
    }),
    /** Records visible to the viewer, by id (null: missing or hidden). */
    record,
    /** A page of an object's records; each is primed into `record`. */
    recordList: async (filter: RecordListFilter, afterId: number, take: number) => {
      const rows = await listRecords(viewer, filter, afterId, take);
      for (const row of rows) record.prime(row.id, row);
      return rows;
    },
    recordCount: (filter: RecordListFilter) => countRecords(viewer, filter),
    /** The workspace's limits, read once per request (they are not part of the cached metadata). */
    workspaceLimits: memo(async () => {
      const [row] = await reader.rows<Record<string, unknown>>(Prisma.sql`
        SELECT "maxLabelsPerObjectPair", "maxRecordsPerLabel", "maxAssociationsPerContact" FROM "Workspace" WHERE "id" = ${viewer.workspaceId}`);
      return {
        maxLabelsPerObjectPair: num(row!.maxLabelsPerObjectPair),
        maxRecordsPerLabel: num(row!.maxRecordsPerLabel),
        maxAssociationsPerContact: num(row!.maxAssociationsPerContact),
      };
    }),
    association: new DataLoader<number, Association | null>(async (ids) =>
      byId(
        ids,
        (
          await reader.rows<Record<string, unknown>>(Prisma.sql`
            SELECT * FROM "Association" WHERE ${inIds(provider, Prisma.sql`"id"`, ids)} AND "workspaceId" = ${viewer.workspaceId}`)
        ).map(associationRow),
      ),
    ),
    user: new DataLoader<number, User | null>(async (ids) =>
      byId(
        ids,
        (
          await reader.rows<Record<string, unknown>>(Prisma.sql`
            SELECT * FROM "User" WHERE ${inIds(provider, Prisma.sql`"id"`, ids)} AND "workspaceId" = ${viewer.workspaceId}`)
        ).map(userRow),
      ),
    ),
    associationPage: new DataLoader<AssociationPageKey, AssociationPage, string>(
      (keys) => loadAssociationPages(viewer, keys, wholeRelatedRecords, (row) => record.prime(row.id, row)),
      { cacheKeyFn },
    ),
    /** Totals for `Record.associations` and group connections, read only when asked for. */
    associationTotal: new DataLoader<AssociationTotalKey, number, string>((keys) => countAssociations(viewer, keys), { cacheKeyFn }),
    groupCounts: new DataLoader<{ recordId: number; relatedObjectId?: number | undefined }, GroupCount[], string>(
      (keys) => loadGroupCounts(viewer, keys),
      { cacheKeyFn },
    ),
    /**
     * Each record's associations per label and side as the tally triggers keep them (side 0: a
     * SINGLE label within one object): the exact counts for a viewer who sees every record, read
     * by primary key whatever the records' degree, one statement for a page.
     */
    tallyCounts: new DataLoader<number, TallyCount[]>(async (recordIds) => {
      const labelIds = (await labels()).list.map((label) => label.id);
      if (labelIds.length === 0) return recordIds.map(() => []);
      const rows = await reader.rows<Record<string, unknown>>(Prisma.sql`
        SELECT t."recordId", t."labelId", t."side", t."associations" AS n FROM "RecordLabelTally" t
        WHERE ${inIds(provider, Prisma.sql`t."labelId"`, labelIds)} AND ${inIds(provider, Prisma.sql`t."recordId"`, recordIds)}
          AND t."associations" > 0`);
      const counts = new Map(recordIds.map((id) => [id, [] as TallyCount[]]));
      for (const row of rows) {
        counts.get(num(row.recordId))?.push({ labelId: num(row.labelId), side: num(row.side) as TallyCount['side'], count: num(row.n) });
      }
      return recordIds.map((id) => counts.get(id)!);
    }),
    /** Pages of records' association events, newest first (`Record.associationEvents`). */
    associationEvents: new DataLoader<AssociationEventPageKey, AssociationEventRow[], string>(
      (keys) => loadAssociationEventPages(viewer, keys),
      { cacheKeyFn },
    ),
    /** Their totals, read only when asked for. */
    associationEventTotal: new DataLoader<number, number>((recordIds) => countAssociationEvents(viewer, recordIds)),
    /** Neighbourhoods of records (graph exploration): one statement per hop for a whole page. */
    neighbourhood: new DataLoader<NeighbourhoodKey, Neighbourhood, string>(
      (keys) => loadNeighbourhoods(viewer, keys, wholeRelatedRecords, (row) => record.prime(row.id, row)),
      { cacheKeyFn: ({ root, ...args }) => JSON.stringify([root.id, args.depth, args.limit, args.labelIds, args.objectIds]) },
    ),
    /** Pages of the records linked to both records of a pair; each is primed into `record`. */
    mutual: new DataLoader<MutualKey, RecordRow[], string>(
      async (keys) => {
        const pages = await loadMutual(viewer, keys);
        for (const row of pages.flat()) record.prime(row.id, row);
        return pages;
      },
      { cacheKeyFn },
    ),
    mutualCount: new DataLoader<Pick<MutualKey, 'recordId' | 'withId'>, number, string>((keys) => countMutual(viewer, keys), { cacheKeyFn }),
    /** Associations per label whose two records the viewer can see. */
    labelAssociationCount: new DataLoader<number, number>(async (labelIds) => {
      const rows = await reader.rows<{ labelId: unknown; n: unknown }>(Prisma.sql`
        SELECT a."labelId", COUNT(*) AS n FROM "Association" a
        JOIN "Record" f ON f."id" = a."firstRecordId"
        JOIN "Record" s ON s."id" = a."secondRecordId"
        WHERE ${inIds(provider, Prisma.sql`a."labelId"`, labelIds)}
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
            WHERE ${inIds(provider, Prisma.sql`a."labelId"`, labelIds)} AND ${visibleRecordSql(viewer, 'f')} AND ${visibleRecordSql(viewer, 's')}
          UNION
          SELECT a."labelId", a."secondRecordId" AS "recordId" FROM "Association" a
            JOIN "Record" f ON f."id" = a."firstRecordId" JOIN "Record" s ON s."id" = a."secondRecordId"
            WHERE ${inIds(provider, Prisma.sql`a."labelId"`, labelIds)} AND ${visibleRecordSql(viewer, 'f')} AND ${visibleRecordSql(viewer, 's')}
        ) linked
        GROUP BY linked."labelId"`);
      const counts = new Map(rows.map((row) => [num(row.labelId), num(row.n)]));
      return labelIds.map((id) => counts.get(id) ?? 0);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
