/**
 * The association state of a workspace as it is stored, read beside the server that owns the
 * database through a read-only connection of its own (no Prisma, no application code), and the
 * SPEC rules checked on it: for tests that must not trust the code under test, such as the
 * state a killed server left behind.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export interface RawReader {
  /** Every row of a SELECT. Write SQL that both SQLite and PostgreSQL accept; no parameters. */
  all: <T = Record<string, unknown>>(sql: string) => Promise<T[]>;
  close: () => Promise<void>;
}

export async function openRawReader(url: string): Promise<RawReader> {
  if (url.startsWith('file:')) {
    const db = new Database(url.slice('file:'.length), { readonly: true, fileMustExist: true });
    return {
      all: async <T>(sql: string) => db.prepare(sql).all() as T[],
      close: async () => void db.close(),
    };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
  return {
    all: async <T>(sql: string) => (await client.query(sql)).rows as T[],
    close: () => client.end(),
  };
}

/** A stored association as `labelKey:firstRecordId:secondRecordId` (ids in stored order). */
export const tripleKey = (labelKey: string, first: number, second: number) => `${labelKey}:${first}:${second}`;

export interface Stored {
  limits: { maxRecordsPerLabel: number; maxAssociationsPerContact: number; maxLabelsPerObjectPair: number };
  labels: {
    id: number;
    key: string;
    type: string;
    cardinality: string;
    firstObjectId: number;
    secondObjectId: number;
    firstObjectKey: string;
    secondObjectKey: string;
  }[];
  rows: { id: number; labelId: number; firstRecordId: number; secondRecordId: number }[];
  events: { id: number; action: string; labelId: number | null; associationId: number; firstRecordId: number; secondRecordId: number }[];
  records: Set<number>;
  /** Stored triples as `labelKey:first:second`. */
  present: Set<string>;
}

/** A workspace's limits, labels, associations, association events (LINKED, UNLINKED) and record ids, as stored. */
export async function readStored(raw: RawReader, workspaceId: number): Promise<Stored> {
  const [limits] = await raw.all<Stored['limits']>(
    `SELECT "maxRecordsPerLabel", "maxAssociationsPerContact", "maxLabelsPerObjectPair" FROM "Workspace" WHERE "id" = ${workspaceId}`,
  );
  const labels = await raw.all<Stored['labels'][number]>(
    `SELECT l."id", l."key", l."type", l."cardinality", l."firstObjectId", l."secondObjectId",
            f."key" AS "firstObjectKey", s."key" AS "secondObjectKey"
       FROM "AssociationLabel" l JOIN "Object" f ON f."id" = l."firstObjectId" JOIN "Object" s ON s."id" = l."secondObjectId"
      WHERE l."workspaceId" = ${workspaceId}`,
  );
  const rows = await raw.all<Stored['rows'][number]>(
    `SELECT "id", "labelId", "firstRecordId", "secondRecordId" FROM "Association" WHERE "workspaceId" = ${workspaceId} ORDER BY "id"`,
  );
  const events = await raw.all<Stored['events'][number]>(
    `SELECT "id", "action", "labelId", "associationId", "firstRecordId", "secondRecordId"
       FROM "AssociationEvent" WHERE "workspaceId" = ${workspaceId} AND "action" IN ('LINKED', 'UNLINKED') ORDER BY "id"`,
  );
  const records = new Set((await raw.all<{ id: number }>(`SELECT "id" FROM "Record" WHERE "workspaceId" = ${workspaceId}`)).map((r) => r.id));
  const keyById = new Map(labels.map((l) => [l.id, l.key]));
  const present = new Set(rows.map((r) => tripleKey(keyById.get(r.labelId)!, r.firstRecordId, r.secondRecordId)));
  return { limits: limits!, labels, rows, events, records, present };
}

/**
 * Rule 15 against the rows: per (label, first, second), LINKED − UNLINKED is 1 if stored and 0
 * if not; every stored row has its LINKED event (same id, same records), and no association id
 * is linked twice.
 */
export function eventProblems(s: Stored): string[] {
  const problems: string[] = [];
  const net = new Map<string, number>();
  const byAssociation = new Map<number, { net: number; last: Stored['events'][number] }>();
  for (const e of s.events) {
    const delta = e.action === 'LINKED' ? 1 : e.action === 'UNLINKED' ? -1 : NaN;
    if (Number.isNaN(delta)) problems.push(`event ${e.id} has action ${e.action}`);
    const triple = `${e.labelId}:${e.firstRecordId}:${e.secondRecordId}`;
    net.set(triple, (net.get(triple) ?? 0) + delta);
    const entry = byAssociation.get(e.associationId);
    if (e.action === 'LINKED' && entry) problems.push(`association ${e.associationId} is LINKED twice (event ${e.id})`);
    byAssociation.set(e.associationId, { net: (entry?.net ?? 0) + delta, last: e });
  }
  const stored = new Set<string>();
  for (const row of s.rows) {
    const triple = `${row.labelId}:${row.firstRecordId}:${row.secondRecordId}`;
    stored.add(triple);
    if (net.get(triple) !== 1) problems.push(`row ${row.id} (${triple}) is stored but its events net to ${net.get(triple) ?? 'nothing'}`);
    const entry = byAssociation.get(row.id);
    if (!entry || entry.net !== 1 || entry.last.action !== 'LINKED') {
      problems.push(`row ${row.id} has no matching LINKED event (net ${entry?.net ?? 'nothing'})`);
    } else if (`${entry.last.labelId}:${entry.last.firstRecordId}:${entry.last.secondRecordId}` !== triple) {
      problems.push(`row ${row.id} (${triple}) was logged as another association`);
    }
  }
  for (const [triple, n] of net) if (!stored.has(triple) && n !== 0) problems.push(`${triple} is not stored but its events net to ${n}`);
  for (const [id, entry] of byAssociation) {
    if (entry.net !== 0 && entry.net !== 1) problems.push(`association ${id}: events net to ${entry.net}`);
  }
  return problems;
}

/**
 * Rules 2–4, 8 and 14 on the rows: records per label, contact associations per contact,
 * cardinality, no duplicate (A–B is B–A for a SINGLE label on one object), no self-link, no
 * association to a missing record.
 */
export function limitProblems(s: Stored): string[] {
  const problems: string[] = [];
  const perContact = new Map<number, number>();
  for (const label of s.labels) {
    const rows = s.rows.filter((r) => r.labelId === label.id);
    const symmetric = label.type === 'SINGLE' && label.firstObjectId === label.secondObjectId;
    const records = new Set(rows.flatMap((r) => [r.firstRecordId, r.secondRecordId]));
    if (records.size > s.limits.maxRecordsPerLabel) problems.push(`${label.key} links ${records.size} records (max ${s.limits.maxRecordsPerLabel})`);
    const pairs = new Set<string>();
    const partners = new Map<string, number>();
    const bump = (side: string) => partners.set(side, (partners.get(side) ?? 0) + 1);
    for (const r of rows) {
      if (!s.records.has(r.firstRecordId) || !s.records.has(r.secondRecordId)) problems.push(`row ${r.id} points at a missing record`);
      if (r.firstRecordId === r.secondRecordId) problems.push(`row ${r.id} links a record to itself`);
      const pair = symmetric ? [r.firstRecordId, r.secondRecordId].sort((x, y) => x - y).join('-') : `${r.firstRecordId}>${r.secondRecordId}`;
      if (pairs.has(pair)) problems.push(`${label.key}: duplicate association ${pair}`);
      pairs.add(pair);
      if (symmetric) {
        bump(`any:${r.firstRecordId}`);
        bump(`any:${r.secondRecordId}`);
      } else {
        bump(`first:${r.firstRecordId}`);
        bump(`second:${r.secondRecordId}`);
      }
      if (label.firstObjectKey === 'contact' && label.secondObjectKey === 'contact') {
        for (const id of [r.firstRecordId, r.secondRecordId]) perContact.set(id, (perContact.get(id) ?? 0) + 1);
      }
    }
    if (label.cardinality !== 'MANY_TO_MANY') {
      for (const [side, n] of partners) {
        const bound = symmetric || label.cardinality === 'ONE_TO_ONE' || side.startsWith('first:');
        if (bound && n > 1) problems.push(`${label.key} (${label.cardinality}): ${side} has ${n} partners`);
      }
    }
  }
  for (const [id, n] of perContact) {
    const max = s.limits.maxAssociationsPerContact;
    if (n > max) problems.push(`contact ${id} takes part in ${n} contact associations (max ${max})`);
  }
  return problems;
}

/** Whether a new association (ids in stored order) would break a limit, the rows being within them. */
export function wouldExceed(s: Stored, labelKey: string, first: number, second: number): boolean {
  const label = s.labels.find((l) => l.key === labelKey)!;
  const rows = s.rows.filter((r) => r.labelId === label.id);
  const records = new Set(rows.flatMap((r) => [r.firstRecordId, r.secondRecordId]));
  if (records.size + [first, second].filter((id) => !records.has(id)).length > s.limits.maxRecordsPerLabel) return true;
  if (label.firstObjectKey === 'contact' && label.secondObjectKey === 'contact') {
    const contactLabels = new Set(s.labels.filter((l) => l.firstObjectKey === 'contact' && l.secondObjectKey === 'contact').map((l) => l.id));
    for (const id of [first, second]) {
      const n = s.rows.filter((r) => contactLabels.has(r.labelId) && (r.firstRecordId === id || r.secondRecordId === id)).length;
      if (n + 1 > s.limits.maxAssociationsPerContact) return true;
    }
  }
  const symmetric = label.type === 'SINGLE' && label.firstObjectId === label.secondObjectId;
  if (label.cardinality !== 'MANY_TO_MANY' && symmetric) {
    return rows.some((r) => [first, second].some((id) => r.firstRecordId === id || r.secondRecordId === id));
  }
  if (label.cardinality !== 'MANY_TO_MANY' && rows.some((r) => r.firstRecordId === first)) return true;
  return label.cardinality === 'ONE_TO_ONE' && rows.some((r) => r.secondRecordId === second);
}

