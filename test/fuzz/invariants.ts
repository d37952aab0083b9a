/**
 * The graph's invariants, read straight from the database (and, for counts, through the API):
 * whatever the fuzzer sent, they must hold afterwards.
 */
import { createHash } from 'node:crypto';
import { prisma } from '../../src/db/index.js';
import { associationEventRows } from '../support/events.js';
import { b64, isUnstorable } from './hostile.js';

const LABEL_KEY = /^[a-z][a-z0-9_]{0,63}$/;
const OBJECT_KEY = /^(contact|custom_objects\.[a-z][a-z0-9_]{0,63})$/;

/** A stored string must hold no forbidden control, no unpaired surrogate, and no U+FFFD (the fuzzer never sends one: it is what a database makes of an unpaired surrogate). */
const unstorable = (text: string) => isUnstorable(text) || text.includes('\uFFFD');

function jsonStrings(value: unknown, out: string[] = []): string[] {
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    if (typeof item === 'string') out.push(item);
    else if (Array.isArray(item)) stack.push(...item);
    else if (item !== null && typeof item === 'object') {
      for (const [key, inner] of Object.entries(item)) {
        out.push(key);
        stack.push(inner);
      }
    }
  }
  return out;
}

export interface Snapshot {
  associations: Map<number, { labelId: number; firstRecordId: number; secondRecordId: number }>;
  labelIds: Set<number>;
}

export const emptySnapshot = (): Snapshot => ({ associations: new Map(), labelIds: new Set() });

async function load(workspaceId: number) {
  const where = { workspaceId };
  const [workspace, objects, fields, records, labels, associations, events, users, keys] = await Promise.all([
    prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId } }),
    prisma.objectModel.findMany({ where, orderBy: { id: 'asc' } }),
    prisma.field.findMany({ where: { object: { workspaceId } }, orderBy: { id: 'asc' } }),
    prisma.recordModel.findMany({ where, orderBy: { id: 'asc' } }),
    prisma.associationLabel.findMany({ where, orderBy: { id: 'asc' } }),
    prisma.association.findMany({ where, orderBy: { id: 'asc' } }),
    associationEventRows(where),
    prisma.user.findMany({ where, orderBy: { id: 'asc' } }),
    prisma.apiKey.findMany({ where, orderBy: { id: 'asc' } }),
  ]);
  return { workspace, objects, fields, records, labels, associations, events, users, keys };
}

/**
 * Checks one workspace. With `before` (the snapshot taken before one mutation), also checks the
 * limits that mutation had to respect — limits may be lowered below usage, so they bind only
 * what was added: new associations within maxRecordsPerLabel and maxAssociationsPerContact,
 * new labels within maxLabelsPerObjectPair.
 */
export async function checkWorkspace(workspaceId: number, before?: Snapshot): Promise<{ violations: string[]; snapshot: Snapshot }> {
  const v: string[] = [];
  const db = await load(workspaceId);
  const { workspace } = db;
  const objects = new Map(db.objects.map((o) => [o.id, o]));
  const records = new Map(db.records.map((r) => [r.id, r]));
  const labels = new Map(db.labels.map((l) => [l.id, l]));
  const users = new Map(db.users.map((u) => [u.id, u]));
  const contact = db.objects.find((o) => o.key === 'contact');
  const fieldsOf = (objectId: number) => db.fields.filter((f) => f.objectId === objectId);

  // Limits are settings: non-negative integers a 32-bit column holds.
  for (const name of ['maxLabelsPerObjectPair', 'maxRecordsPerLabel', 'maxAssociationsPerContact'] as const) {
    const value = workspace[name];
    if (!Number.isInteger(value) || value < 0) v.push(`limit ${name} is ${value}`);
  }

  // Objects, fields, labels, records: well-formed and within the workspace.
  for (const object of db.objects) {
    if (!OBJECT_KEY.test(object.key)) v.push(`object ${object.id} has key ${JSON.stringify(object.key)}`);
    if (!fieldsOf(object.id).some((f) => f.key === object.primaryProperty)) {
      v.push(`object ${object.key}: primaryProperty ${JSON.stringify(object.primaryProperty)} is not one of its fields`);
    }
  }
  for (const label of db.labels) {
    if (!LABEL_KEY.test(label.key)) v.push(`label ${label.id} has key ${JSON.stringify(label.key)}`);
    if (!objects.has(label.firstObjectId) || !objects.has(label.secondObjectId)) v.push(`label ${label.key} links an object of another workspace`);
    if (label.type === 'SINGLE' && label.firstLabel !== label.secondLabel) v.push(`SINGLE label ${label.key} has two names`);
  }
  for (const record of db.records) {
    const object = objects.get(record.objectId);
    if (!object) v.push(`record ${record.id} is of an object of another workspace`);
    if (record.ownerId !== null && !users.has(record.ownerId)) v.push(`record ${record.id} is owned by a user of another workspace`);
    let properties: unknown;
    try {
      properties = JSON.parse(record.properties);
    } catch {
      v.push(`record ${record.id}: properties are not JSON`);
      continue;
    }
    if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) {
      v.push(`record ${record.id}: properties are not an object`);
      continue;
    }
    const keys = new Set(fieldsOf(record.objectId).map((f) => f.key));
    for (const key of Object.keys(properties)) if (!keys.has(key)) v.push(`record ${record.id} has unknown property ${JSON.stringify(key)}`);
    const texts = [...jsonStrings(properties), record.displayName, record.searchText];
    if (texts.some(unstorable)) v.push(`record ${record.id} stores an unstorable string: ${JSON.stringify(texts.find(unstorable)!.slice(0, 60))}`);
  }

  // No stored name, key or label holds a string §5.1 refuses.
  const stored: [string, string][] = [
    ['workspace name', workspace.name],
    ...db.objects.flatMap((o) => [['object key', o.key], ['object singularName', o.singularName], ['object pluralName', o.pluralName], ['object primaryProperty', o.primaryProperty]] as [string, string][]),
    ...db.fields.flatMap((f) => [['field key', f.key], ['field name', f.name]] as [string, string][]),
    ...db.labels.flatMap((l) => [['label key', l.key], ['label firstLabel', l.firstLabel], ['label secondLabel', l.secondLabel]] as [string, string][]),
    ...db.users.flatMap((u) => [['user name', u.name], ['user email', u.email]] as [string, string][]),
    ...db.keys.map((k) => ['API key name', k.name] as [string, string]),
  ];
  for (const [what, text] of stored) if (unstorable(text)) v.push(`${what} stores an unstorable string: ${JSON.stringify(text.slice(0, 60))}`);

  // Associations: records of the label's objects, in the label's workspace, stored in order.
  const outside = await prisma.association.count({
    where: {
      workspaceId: { not: workspaceId },
      OR: [{ firstRecordId: { in: [...records.keys()] } }, { secondRecordId: { in: [...records.keys()] } }],
    },
  });
  if (outside) v.push(`${outside} associations of other workspaces link records of this one`);
  for (const a of db.associations) {
    const label = labels.get(a.labelId);
    const first = records.get(a.firstRecordId);
    const second = records.get(a.secondRecordId);
    const where = `association ${a.id} (${label?.key ?? `label ${a.labelId}`}: ${a.firstRecordId} → ${a.secondRecordId})`;
    if (!label) v.push(`${where}: its label is not in the workspace`);
    if (!first || !second) v.push(`${where}: a record is not in the workspace`);
    if (a.firstRecordId === a.secondRecordId) v.push(`${where}: links a record to itself`);
    if (!label || !first || !second) continue;
    if (first.objectId !== label.firstObjectId || second.objectId !== label.secondObjectId) v.push(`${where}: records do not match the label's objects`);
    if (label.type === 'SINGLE' && label.firstObjectId === label.secondObjectId && a.firstRecordId > a.secondRecordId) {
      v.push(`${where}: a SINGLE label on one object is stored with the higher id first`);
    }
  }

  // Cardinality (immutable, so it binds every association).
  const byLabel = new Map<number, typeof db.associations>();
  for (const a of db.associations) byLabel.set(a.labelId, [...(byLabel.get(a.labelId) ?? []), a]);
  for (const [labelId, rows] of byLabel) {
    const label = labels.get(labelId);
    if (!label || label.cardinality === 'MANY_TO_MANY') continue;
    const symmetric = label.type === 'SINGLE' && label.firstObjectId === label.secondObjectId;
    const count = (pick: (a: (typeof rows)[number]) => number[]) => {
      const counts = new Map<number, number>();
      for (const a of rows) for (const id of pick(a)) counts.set(id, (counts.get(id) ?? 0) + 1);
      return [...counts].filter(([, n]) => n > 1);
    };
    const over = symmetric
      ? count((a) => [a.firstRecordId, a.secondRecordId])
      : label.cardinality === 'MANY_TO_ONE'
        ? count((a) => [a.firstRecordId])
        : [...count((a) => [a.firstRecordId]), ...count((a) => [a.secondRecordId])];
    for (const [id, n] of over) v.push(`label ${label.key} is ${label.cardinality} but record ${id} has ${n} partners under it`);
  }

  // Limits bind what the last mutation added.
  if (before) {
    const added = db.associations.filter((a) => !before.associations.has(a.id));
    const contactPair = (labelId: number) => {
      const label = labels.get(labelId);
      return !!label && !!contact && label.firstObjectId === contact.id && label.secondObjectId === contact.id;
    };
    for (const labelId of new Set(added.map((a) => a.labelId))) {
      const now = new Set((byLabel.get(labelId) ?? []).flatMap((a) => [a.firstRecordId, a.secondRecordId]));
      const then = new Set([...before.associations.values()].filter((a) => a.labelId === labelId).flatMap((a) => [a.firstRecordId, a.secondRecordId]));
      const joined = [...now].some((id) => !then.has(id));
      if (joined && now.size > workspace.maxRecordsPerLabel) {
        v.push(`label ${labels.get(labelId)?.key} now links ${now.size} records, over maxRecordsPerLabel ${workspace.maxRecordsPerLabel}`);
      }
    }
    const contactAssociations = db.associations.filter((a) => contactPair(a.labelId));
    for (const id of new Set(added.filter((a) => contactPair(a.labelId)).flatMap((a) => [a.firstRecordId, a.secondRecordId]))) {
      const n = contactAssociations.filter((a) => a.firstRecordId === id || a.secondRecordId === id).length;
      if (n > workspace.maxAssociationsPerContact) v.push(`contact ${id} takes part in ${n} contact associations, over maxAssociationsPerContact ${workspace.maxAssociationsPerContact}`);
    }
    // Per-label limits per direction (SPEC §5.5), where the label has them.
    for (const a of added) {
      const label = labels.get(a.labelId) as (Record<string, unknown> & { key: string; type: string; firstObjectId: number; secondObjectId: number }) | undefined;
      if (!label) continue;
      const limit = (name: string) => (typeof label[name] === 'number' ? (label[name] as number) : null);
      const rows = byLabel.get(a.labelId) ?? [];
      const check = (name: string, max: number | null, recordId: number, count: number) => {
        if (max !== null && count > max) v.push(`label ${label.key}: record ${recordId} has ${count} partners under it, over ${name} ${max}`);
      };
      if (label.type === 'SINGLE' && label.firstObjectId === label.secondObjectId) {
        const max = limit('maxSecondPerFirst') ?? limit('maxFirstPerSecond');
        for (const id of [a.firstRecordId, a.secondRecordId]) {
          check('maxSecondPerFirst', max, id, rows.filter((r) => r.firstRecordId === id || r.secondRecordId === id).length);
        }
      } else {
        check('maxSecondPerFirst', limit('maxSecondPerFirst'), a.firstRecordId, rows.filter((r) => r.firstRecordId === a.firstRecordId).length);
        check('maxFirstPerSecond', limit('maxFirstPerSecond'), a.secondRecordId, rows.filter((r) => r.secondRecordId === a.secondRecordId).length);
      }
    }
    for (const label of db.labels.filter((l) => !before.labelIds.has(l.id))) {
      const pair = [label.firstObjectId, label.secondObjectId].sort((x, y) => x - y).join(':');
      const n = db.labels.filter((l) => [l.firstObjectId, l.secondObjectId].sort((x, y) => x - y).join(':') === pair).length;
      if (n > workspace.maxLabelsPerObjectPair) v.push(`new label ${label.key}: ${n} labels between its objects, over maxLabelsPerObjectPair ${workspace.maxLabelsPerObjectPair}`);
    }
  }

  // The event log agrees with the associations: one LINKED per association, one UNLINKED once
  // it is gone, and per (label, first, second) LINKED − UNLINKED is 1 exactly when it exists.
  const existing = new Map(db.associations.map((a) => [a.id, a]));
  const byAssociation = new Map<number, { linked: number; unlinked: number; event: (typeof db.events)[number] }>();
  const net = new Map<string, number>();
  const missing = new Set<number>();
  for (const e of db.events) {
    const entry = byAssociation.get(e.associationId) ?? { linked: 0, unlinked: 0, event: e };
    if (e.action === 'LINKED') entry.linked += 1;
    else entry.unlinked += 1;
    byAssociation.set(e.associationId, entry);
    if (e.labelId !== null) {
      const key = `${e.labelId}:${e.firstRecordId}:${e.secondRecordId}`;
      net.set(key, (net.get(key) ?? 0) + (e.action === 'LINKED' ? 1 : -1));
      if (!labels.has(e.labelId)) v.push(`event ${e.id} names a label of another workspace`);
    }
    for (const id of [e.firstRecordId, e.secondRecordId]) if (!records.has(id)) missing.add(id);
  }
  if (missing.size) {
    const elsewhere = await prisma.recordModel.findMany({ where: { id: { in: [...missing] }, workspaceId: { not: workspaceId } }, select: { id: true } });
    for (const { id } of elsewhere) v.push(`an event names record ${id} of another workspace`);
  }
  for (const [associationId, { linked, unlinked, event }] of byAssociation) {
    const row = existing.get(associationId);
    if (linked !== 1) v.push(`association ${associationId} has ${linked} LINKED events`);
    if (unlinked > 1) v.push(`association ${associationId} has ${unlinked} UNLINKED events`);
    if (row && unlinked) v.push(`association ${associationId} exists but was logged UNLINKED`);
    if (!row && !unlinked) v.push(`association ${associationId} is gone but no UNLINKED event was logged`);
    if (row && (row.labelId !== event.labelId || row.firstRecordId !== event.firstRecordId || row.secondRecordId !== event.secondRecordId)) {
      v.push(`association ${associationId}: its events name another label or pair`);
    }
  }
  for (const a of db.associations) if (!byAssociation.has(a.id)) v.push(`association ${a.id} has no LINKED event`);
  const existingKeys = new Set(db.associations.map((a) => `${a.labelId}:${a.firstRecordId}:${a.secondRecordId}`));
  for (const [key, n] of net) {
    const expected = existingKeys.has(key) ? 1 : 0;
    if (n !== expected) v.push(`events of (label:first:second) ${key}: LINKED − UNLINKED = ${n}, but the association ${expected ? 'exists' : 'does not exist'}`);
  }

  return {
    violations: v,
    snapshot: {
      associations: new Map(db.associations.map((a) => [a.id, { labelId: a.labelId, firstRecordId: a.firstRecordId, secondRecordId: a.secondRecordId }])),
      labelIds: new Set(db.labels.map((l) => l.id)),
    },
  };
}

/**
 * A digest of everything of a workspace, to show that something did not change it (a failed
 * write, a read, a request to another workspace). A digest, not the rows: a fuzzed workspace may
 * hold thousands of records with large properties.
 */
export async function fingerprint(workspaceId: number): Promise<string> {
  const db = await load(workspaceId);
  const hash = createHash('sha256');
  const add = (table: string, rows: object[]) => {
    hash.update(`${table}:${rows.length}\n`);
    for (const row of rows) hash.update(`${JSON.stringify(row, (_k, value) => (typeof value === 'bigint' ? String(value) : value))}\n`);
  };
  add('workspace', [db.workspace]);
  add('objects', db.objects);
  add('fields', db.fields);
  add('records', db.records);
  add('labels', db.labels);
  add('associations', db.associations);
  add('events', db.events);
  add('users', db.users);
  add('keys', db.keys);
  return hash.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Counts through the API agree with rows

type Post = (query: string, variables?: Record<string, unknown>) => Promise<{ status: number; data?: any; errors?: unknown[] }>;

/** Which records a viewer sees: admins all; a USER by its ObjectPermission entries (none: ALL). */
async function visibleTo(workspaceId: number, userId: number) {
  const user = await prisma.user.findUniqueOrThrow({ where: { id: userId }, include: { objectPermissions: true } });
  const records = await prisma.recordModel.findMany({ where: { workspaceId } });
  if (user.role === 'ADMIN') return new Set(records.map((r) => r.id));
  const access = new Map(user.objectPermissions.map((p) => [p.objectId, p.access]));
  return new Set(
    records
      .filter((r) => {
        const a = access.get(r.objectId) ?? 'ALL';
        return a === 'ALL' || (a === 'ASSIGNED' && r.ownerId === userId);
      })
      .map((r) => r.id),
  );
}

/**
 * For one viewer: each object's `records.totalCount` and the edges of all its pages; each label's
 * `associationCount`, `recordCount` and `associations.totalCount`; each visible record's
 * `associations.totalCount`, the sum of its `associationGroups` and its `associationEvents`
 * count — all equal to what the rows say that viewer may see; hidden records answer null.
 */
export async function checkCounts(workspaceId: number, userId: number, post: Post): Promise<string[]> {
  const v: string[] = [];
  const visible = await visibleTo(workspaceId, userId);
  const [objects, records, labels, associations, events] = await Promise.all([
    prisma.objectModel.findMany({ where: { workspaceId } }),
    prisma.recordModel.findMany({ where: { workspaceId } }),
    prisma.associationLabel.findMany({ where: { workspaceId } }),
    prisma.association.findMany({ where: { workspaceId } }),
    associationEventRows({ workspaceId }),
  ]);
  const existingIds = new Set(records.map((r) => r.id));
  const seen = (a: { firstRecordId: number; secondRecordId: number }) => visible.has(a.firstRecordId) && visible.has(a.secondRecordId);
  const ask = async (query: string, variables: Record<string, unknown>) => {
    const response = await post(query, variables);
    if (response.status !== 200 || response.errors?.length || !response.data) {
      v.push(`count query failed: ${query.slice(0, 80)} → ${JSON.stringify(response).slice(0, 300)}`);
      return null;
    }
    return response.data;
  };

  for (const object of objects) {
    const expected = records.filter((r) => r.objectId === object.id && visible.has(r.id)).length;
    let after: string | null = null;
    let edges = 0;
    let total: number | null = null;
    for (let page = 0; page < 50; page += 1) {
      const data = await ask(
        'query Count($key: String!, $after: String) { records(objectKey: $key, first: 100, after: $after) { totalCount edges { cursor } pageInfo { hasNextPage endCursor } } }',
        { key: object.key, after },
      );
      if (!data) break;
      total ??= data.records.totalCount;
      edges += data.records.edges.length;
      if (!data.records.pageInfo.hasNextPage) break;
      after = data.records.pageInfo.endCursor;
    }
    if (total !== null && total !== expected) v.push(`records(${object.key}).totalCount is ${total}, rows say ${expected}`);
    if (total !== null && edges !== expected) v.push(`records(${object.key}) pages hold ${edges} edges, rows say ${expected}`);
  }

  const labelIds = labels.map((l) => b64(`AssociationLabel:${l.id}`));
  if (labelIds.length) {
    const data = await ask(
      'query Labels($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on AssociationLabel { id associationCount recordCount associations(first: 1) { totalCount } } } }',
      { ids: labelIds },
    );
    labels.forEach((label, i) => {
      const node = data?.nodes?.[i];
      if (!data) return;
      const rows = associations.filter((a) => a.labelId === label.id && seen(a));
      const recordCount = new Set(rows.flatMap((a) => [a.firstRecordId, a.secondRecordId])).size;
      if (!node) return v.push(`label ${label.key} answers null`);
      if (node.associationCount !== rows.length) v.push(`label ${label.key}: associationCount ${node.associationCount}, rows say ${rows.length}`);
      if (node.associations.totalCount !== rows.length) v.push(`label ${label.key}: associations.totalCount ${node.associations.totalCount}, rows say ${rows.length}`);
      if (node.recordCount !== recordCount) v.push(`label ${label.key}: recordCount ${node.recordCount}, rows say ${recordCount}`);
    });
  }

  for (let i = 0; i < records.length; i += 20) {
    const chunk = records.slice(i, i + 20);
    const data = await ask(
      'query Records($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Record { id associations(first: 1) { totalCount } associationGroups { totalCount } associationEvents(first: 1) { totalCount } } } }',
      { ids: chunk.map((r) => b64(`Record:${r.id}`)) },
    );
    if (!data) continue;
    chunk.forEach((record, j) => {
      const node = data.nodes[j];
      if (!visible.has(record.id)) {
        if (node !== null) v.push(`record ${record.id} is hidden from the viewer but nodes() returns it`);
        return;
      }
      if (!node) return v.push(`record ${record.id} is visible but nodes() returns null`);
      const mine = associations.filter((a) => (a.firstRecordId === record.id && visible.has(a.secondRecordId)) || (a.secondRecordId === record.id && visible.has(a.firstRecordId)));
      if (node.associations.totalCount !== mine.length) v.push(`record ${record.id}: associations.totalCount ${node.associations.totalCount}, rows say ${mine.length}`);
      const grouped = node.associationGroups.reduce((sum: number, group: { totalCount: number }) => sum + group.totalCount, 0);
      if (grouped !== mine.length) v.push(`record ${record.id}: associationGroups total ${grouped}, rows say ${mine.length}`);
      const logged = events.filter((e) => {
        if (e.firstRecordId !== record.id && e.secondRecordId !== record.id) return false;
        const other = e.firstRecordId === record.id ? e.secondRecordId : e.firstRecordId;
        return !existingIds.has(other) || visible.has(other);
      }).length;
      if (node.associationEvents.totalCount !== logged) v.push(`record ${record.id}: associationEvents.totalCount ${node.associationEvents.totalCount}, rows say ${logged}`);
    });
  }
  return v;
}
