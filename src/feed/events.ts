import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AssociationAction } from '../db/generated/sqlite/enums.js';
import { Prisma, provider, type Tx } from '../db/index.js';
import { txRows } from '../db/reader.js';
import { encodeGlobalId } from '../services/ids.js';
import type { Viewer } from '../services/viewer.js';

/**
 * The change feed's writer. Every event is a row of the association event log, written in the
 * transaction of the change it records, together with one webhook delivery per endpoint that
 * wants it (the outbox: a crash cannot lose a delivery the change committed) and, on PostgreSQL,
 * a NOTIFY that other processes and servers receive when — and only if — the transaction commits.
 */

export const EVENT_TYPES = {
  LINKED: 'association.linked',
  UNLINKED: 'association.unlinked',
  LABEL_CREATED: 'label.created',
  LABEL_UPDATED: 'label.updated',
  LABEL_DELETED: 'label.deleted',
  RECORD_DELETED: 'record.deleted',
} as const satisfies Record<AssociationAction, string>;

export type EventType = (typeof EVENT_TYPES)[AssociationAction];
export const EVENT_TYPE_LIST: readonly EventType[] = Object.values(EVENT_TYPES);

/** The PostgreSQL channel every committed feed write is announced on (payload: the workspace id). */
export const FEED_CHANNEL = 'relate_feed';

/** Committed feed writes of this process (argument: the workspace id), for local listeners. */
export const localFeed = new EventEmitter().setMaxListeners(0);

export interface RecordSnapshot {
  id: number;
  displayName: string;
  object: { key: string };
}

export interface LabelSnapshot {
  id: number;
  key: string;
  type: string;
  cardinality: string;
  firstLabel: string;
  secondLabel: string;
  firstObject: { key: string };
  secondObject: { key: string };
}

export interface AssociationSnapshot {
  id: number;
  label: LabelSnapshot;
  firstRecord: RecordSnapshot;
  secondRecord: RecordSnapshot;
}

/** What an event says, before the log gives it an id. */
export type FeedEvent =
  | { action: 'LINKED' | 'UNLINKED'; association: AssociationSnapshot }
  | { action: 'LABEL_CREATED' | 'LABEL_UPDATED' | 'LABEL_DELETED'; label: LabelSnapshot }
  | { action: 'RECORD_DELETED'; record: RecordSnapshot };

/** Prisma `select` for what a label snapshot needs. */
export const labelSnapshotSelect = {
  id: true,
  key: true,
  type: true,
  cardinality: true,
  firstLabel: true,
  secondLabel: true,
  firstObject: { select: { key: true } },
  secondObject: { select: { key: true } },
} as const;

/** Prisma `select` for what a record snapshot needs. */
export const recordSnapshotSelect = { id: true, displayName: true, object: { select: { key: true } } } as const;

const labelData = (label: LabelSnapshot) => ({
  id: encodeGlobalId('AssociationLabel', label.id),
  key: label.key,
  type: label.type,
  cardinality: label.cardinality,
  firstLabel: label.firstLabel,
  secondLabel: label.secondLabel,
  firstObjectKey: label.firstObject.key,
  secondObjectKey: label.secondObject.key,
});

const recordData = (record: RecordSnapshot) => ({
  id: encodeGlobalId('Record', record.id),
  objectKey: record.object.key,
  displayName: record.displayName,
});

/** The webhook body's `data` of an event: global ids, and everything needed once its rows are gone. */
export function eventData(viewer: Viewer, event: FeedEvent): Record<string, unknown> {
  const common = {
    workspaceId: encodeGlobalId('Workspace', viewer.workspaceId),
    actorId: encodeGlobalId('User', viewer.userId),
  };
  switch (event.action) {
    case 'LINKED':
    case 'UNLINKED':
      return {
        ...common,
        associationId: encodeGlobalId('Association', event.association.id),
        label: labelData(event.association.label),
        firstRecord: recordData(event.association.firstRecord),
        secondRecord: recordData(event.association.secondRecord),
      };
    case 'RECORD_DELETED':
      return { ...common, record: recordData(event.record) };
    default:
      return { ...common, label: labelData(event.label) };
  }
}

/** A log row's columns after its workspace, actor and time, in EVENT_COLUMNS order. */
type EventRow = [
  action: AssociationAction,
  labelId: number | null,
  labelKey: string | null,
  associationId: number | null,
  firstRecordId: number | null,
  secondRecordId: number | null,
  payload: string,
];

/**
 * The payload text of each event of one write: JSON.stringify(eventData(…)), the same text to the
 * byte, composed from the parts a batch repeats. A batch of links names a few labels and the
 * same workspace and actor thousands of times; building each event's object tree and encoding
 * every global id anew was most of what its events cost outside the database.
 */
export function payloadWriter(viewer: Viewer): (event: FeedEvent) => string {
  const common = `{"workspaceId":${JSON.stringify(encodeGlobalId('Workspace', viewer.workspaceId))},"actorId":${JSON.stringify(encodeGlobalId('User', viewer.userId))}`;
  const labels = new Map<LabelSnapshot, string>();
  const labelJson = (label: LabelSnapshot) => {
    let json = labels.get(label);
    if (json === undefined) labels.set(label, (json = JSON.stringify(labelData(label))));
    return json;
  };
  // recordData's keys, in its order.
  const recordJson = (record: RecordSnapshot) =>
    `{"id":"${encodeGlobalId('Record', record.id)}","objectKey":${JSON.stringify(record.object.key)},"displayName":${JSON.stringify(record.displayName)}}`;
  return (event) => {
    if (!('association' in event)) return JSON.stringify(eventData(viewer, event));
    const { association } = event;
    // eventData's keys, in its order; a base64 id needs no escaping.
    return `${common},"associationId":"${encodeGlobalId('Association', association.id)}","label":${labelJson(association.label)},"firstRecord":${recordJson(association.firstRecord)},"secondRecord":${recordJson(association.secondRecord)}}`;
  };
}

function eventRow(event: FeedEvent, payload: string): EventRow {
  if ('association' in event) {
    const { association } = event;
    return [event.action, association.label.id, association.label.key, association.id, association.firstRecord.id, association.secondRecord.id, payload];
  }
  if ('record' in event) return [event.action, null, null, null, event.record.id, null, payload];
  // A deleted label's events keep its key; its id goes with it (labelId is set null on delete).
  return [event.action, event.action === 'LABEL_DELETED' ? null : event.label.id, event.label.key, null, null, null, payload];
}

/** Log rows written per INSERT. */
const EVENT_CHUNK = 1000;

/**
 * Appends `rows` to the log in order (their ids follow it) and returns each one's id and action.
 * The rows travel as one JSON text: a statement
 * per EVENT_CHUNK rows, no bind-parameter limit, and none of the per-row work Prisma's
 * createManyAndReturn does (compiling a statement with every value, mapping every row back),
 * which made the events most of the cost of a large batch of links.
 */
async function insertEvents(tx: Tx, viewer: Viewer, rows: readonly EventRow[], at: Date): Promise<{ id: number; action: AssociationAction }[]> {
  const written: { id: number; action: AssociationAction }[] = [];
  for (let start = 0; start < rows.length; start += EVENT_CHUNK) {
    const chunk = JSON.stringify(rows.slice(start, start + EVENT_CHUNK));
    const returned =
      provider === 'postgresql'
        ? // One JSON text rather than an array per column, which node-postgres would write as an
          // array literal, escaping every quote of every payload in JavaScript; read as jsonb, so
          // that the server parses it once (as json, each ->> would parse its row again).
          await txRows<{ id: number | bigint | string; action: AssociationAction }>(tx, Prisma.sql`
            INSERT INTO "AssociationEvent" ("workspaceId", "action", "labelId", "labelKey", "associationId", "firstRecordId", "secondRecordId", "actorId", "payload", "at")
            SELECT ${viewer.workspaceId}::int, (e.value ->> 0)::"AssociationAction", (e.value ->> 1)::int, e.value ->> 2, (e.value ->> 3)::int, (e.value ->> 4)::int,
              (e.value ->> 5)::int, ${viewer.userId}::int, e.value ->> 6, ${at}::timestamp(3)
            FROM jsonb_array_elements(${chunk}::jsonb) WITH ORDINALITY AS e(value, n)
            ORDER BY e.n
            RETURNING "id", "action"::text AS "action"`)
        : await txRows<{ id: number | bigint | string; action: AssociationAction }>(tx, Prisma.sql`
            INSERT INTO "AssociationEvent" ("workspaceId", "action", "labelId", "labelKey", "associationId", "firstRecordId", "secondRecordId", "actorId", "payload", "at")
            SELECT ${viewer.workspaceId}, e.value ->> 0, e.value ->> 1, e.value ->> 2, e.value ->> 3, e.value ->> 4, e.value ->> 5, ${viewer.userId}, e.value ->> 6, ${at}
            FROM json_each(${chunk}) e
            ORDER BY e.key
            RETURNING "id", "action"`);
    for (const row of returned) written.push({ id: Number(row.id), action: row.action });
  }
  return written.sort((x, y) => x.id - y.id);
}

const committedWrites = new WeakSet<Tx>();

/**
 * Most records an announcement names. A write that names more (a big batch) is announced by its
 * workspace alone, and every process with subscribers in it reads it.
 */
const MAX_ANNOUNCED_RECORDS = 100;
/** Per transaction: the records its association events name (null: too many to name). */
const mentioned = new WeakMap<Tx, Set<number> | null>();

/** Notes the records `events` name in `tx`, and returns them (null: too many to name). */
function mention(tx: Tx, events: readonly FeedEvent[]): Set<number> | null {
  let records: Set<number> | null = mentioned.has(tx) ? mentioned.get(tx)! : new Set<number>();
  for (const event of events) {
    if (records === null || !('association' in event)) continue;
    records.add(event.association.firstRecord.id).add(event.association.secondRecord.id);
    if (records.size > MAX_ANNOUNCED_RECORDS) records = null;
  }
  mentioned.set(tx, records);
  return records;
}

/**
 * What a committed feed write is announced with (NOTIFY's payload, and this process's
 * 'committed' event): its workspace and the records its association events name, so that a
 * process whose subscribers all follow other records need not read it, and the process that
 * wrote it. `"12@p"`: workspace 12, any record; `"12:5,9@p"`: records 5 and 9 only; `"12:@p"`: no
 * association event; `p` is the writing process's ORIGIN.
 */
export interface Announcement {
  workspaceId: number;
  /** null: any record may be concerned. */
  recordIds: readonly number[] | null;
  /** Whether this process wrote it (and so announced it to itself at commit, before NOTIFY). */
  own?: boolean;
}

/** This process among those that share the database: its NOTIFYs carry it. */
const ORIGIN = randomBytes(9).toString('base64url');

function announcement(workspaceId: number, records: Set<number> | null): string {
  return `${records === null ? workspaceId : `${workspaceId}:${[...records].join(',')}`}@${ORIGIN}`;
}

/** The announcement in a NOTIFY payload; null when it is not one. */
export function parseAnnouncement(payload: string): Announcement | null {
  const at = payload.lastIndexOf('@');
  const own = at >= 0 && payload.slice(at + 1) === ORIGIN;
  const [workspace, records] = (at >= 0 ? payload.slice(0, at) : payload).split(':', 2);
  const workspaceId = Number(workspace);
  if (!Number.isSafeInteger(workspaceId) || workspaceId <= 0) return null;
  if (records === undefined) return { workspaceId, recordIds: null, own };
  const recordIds = records === '' ? [] : records.split(',').map(Number);
  return { workspaceId, recordIds: recordIds.every((id) => Number.isSafeInteger(id) && id > 0) ? recordIds : null, own };
}

/** The announcement of what `tx` wrote to the feed, once it commits; null if it wrote nothing. */
export function committedAnnouncement(tx: Tx, workspaceId: number): Announcement | null {
  if (!committedWrites.has(tx)) return null;
  const records = mentioned.get(tx);
  return { workspaceId, recordIds: records ? [...records] : null };
}

/**
 * Appends events to the log, in order, in `tx`; writes a PENDING delivery for each enabled
 * endpoint of the workspace that wants each event; on PostgreSQL, announces the write on
 * FEED_CHANNEL (delivered at commit). Costs two statements, with or without endpoints.
 */
export async function recordEvents(tx: Tx, viewer: Viewer, events: readonly FeedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const records = mention(tx, events);
  const at = new Date();
  const payload = payloadWriter(viewer);
  const rows = await insertEvents(
    tx,
    viewer,
    events.map((event) => eventRow(event, payload(event))),
    at,
  );
  // The deliveries: one per enabled endpoint of the workspace that wants the event (its stored
  // filter is ",type,type,", or "" for every type), written by
  // the database in the same statement that reads the endpoints (and, on PostgreSQL, announces
  // the write), so an endpoint costs the write no statement of its own.
  const ids = rows.map((row) => row.id);
  const types = rows.map((row) => EVENT_TYPES[row.action]);
  if (provider === 'postgresql') {
    await txRows(tx, Prisma.sql`
      WITH "delivery" AS (
        INSERT INTO "WebhookDelivery" ("endpointId", "eventId", "eventType", "nextAttemptAt", "createdAt")
        SELECT e."id", v."eventId", v."eventType", ${at}::timestamp(3), ${at}::timestamp(3)
        FROM "WebhookEndpoint" e, unnest(${ids}::int[], ${types}::text[]) WITH ORDINALITY AS v("eventId", "eventType", "n")
        WHERE e."workspaceId" = ${viewer.workspaceId}::int AND e."enabled"
          AND (e."eventTypes" = '' OR strpos(e."eventTypes", ',' || v."eventType" || ',') > 0)
        ORDER BY e."id", v."n")
      SELECT count(*)::int AS "announced" FROM (SELECT pg_notify(${FEED_CHANNEL}, ${announcement(viewer.workspaceId, records)})) AS n`);
  } else {
    await txRows(tx, Prisma.sql`
      INSERT INTO "WebhookDelivery" ("endpointId", "eventId", "eventType", "nextAttemptAt", "createdAt")
      SELECT e."id", v.value ->> 0, v.value ->> 1, ${at}, ${at}
      FROM "WebhookEndpoint" e, json_each(${JSON.stringify(ids.map((id, i) => [id, types[i]]))}) v
      WHERE e."workspaceId" = ${viewer.workspaceId} AND e."enabled"
        AND (e."eventTypes" = '' OR instr(e."eventTypes", ',' || (v.value ->> 1) || ',') > 0)
      ORDER BY e."id", v.key`);
  }
  committedWrites.add(tx);
}
