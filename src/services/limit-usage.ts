import type { AssociationLabel, ObjectModel, Workspace } from '../db/generated/sqlite/client.js';
import { Prisma, provider, reader } from '../db/index.js';
import { inIds } from '../db/reader.js';
import { ValidationError } from './errors.js';
import { directionBounds, type DirectionBound } from './label-limits.js';
import { CONTACT_KEY } from './objects.js';
import { requireAdmin, type Viewer } from './viewer.js';

/**
 * How close limits are to their maximum (SPEC §5.5): the workspace's limits across every kind,
 * closest first (admins), and what one record may still take (anyone who can see it).
 */

export type WorkspaceLimits = Pick<Workspace, 'maxLabelsPerObjectPair' | 'maxRecordsPerLabel' | 'maxAssociationsPerContact'>;

export interface LimitUsage {
  limit: 'maxLabelsPerObjectPair' | 'maxRecordsPerLabel' | 'maxAssociationsPerContact' | DirectionBound['limit'];
  max: number;
  current: number;
  /** 100·current/max; a limit of 0 is full (100). Over 100 when a limit was lowered below usage. */
  percent: number;
  labelId: number | null;
  /** The two objects of a maxLabelsPerObjectPair entry, the lower id first. */
  objectIds: [number, number] | null;
  recordId: number | null;
}

const KINDS: LimitUsage['limit'][] = ['maxLabelsPerObjectPair', 'maxRecordsPerLabel', 'maxAssociationsPerContact', 'maxSecondPerFirst', 'maxFirstPerSecond'];

function usage(limit: LimitUsage['limit'], max: number, current: number, of: Partial<Pick<LimitUsage, 'labelId' | 'objectIds' | 'recordId'>>): LimitUsage {
  return {
    limit,
    max,
    current,
    percent: max > 0 ? (100 * current) / max : 100,
    labelId: of.labelId ?? null,
    objectIds: of.objectIds ?? null,
    recordId: of.recordId ?? null,
  };
}

/**
 * Closest to the maximum first; among equals the larger count, then a fixed order (kind, label,
 * objects, record) that each kind's statement also sorts by, so its first rows are the right ones.
 */
function closestFirst(a: LimitUsage, b: LimitUsage): number {
  return (
    b.percent - a.percent ||
    b.current - a.current ||
    KINDS.indexOf(a.limit) - KINDS.indexOf(b.limit) ||
    (a.labelId ?? 0) - (b.labelId ?? 0) ||
    (a.objectIds?.[0] ?? 0) - (b.objectIds?.[0] ?? 0) ||
    (a.objectIds?.[1] ?? 0) - (b.objectIds?.[1] ?? 0) ||
    (a.recordId ?? 0) - (b.recordId ?? 0)
  );
}

const num = (value: unknown) => Number(value);

/** Labels whose two objects are both `contact`: the ones maxAssociationsPerContact counts. */
export function contactPairLabels(labels: readonly AssociationLabel[], objects: ReadonlyMap<number, ObjectModel>): AssociationLabel[] {
  return labels.filter(
    (label) => label.firstObjectId === label.secondObjectId && objects.get(label.firstObjectId)?.key === CONTACT_KEY,
  );
}

const MAX_USAGE_ENTRIES = 100;

/**
 * The workspace's limits closest to their maximum, at most `first` (1..100), across every kind.
 * Entries with no usage are left out. Admin only: an admin sees every record, so the counts are
 * the ones the limits are enforced on.
 *
 * Counting the associations of a large workspace takes seconds (at 500,000 contacts, two
 * million associations: every kind is a scan of them), so the usage is read from the tallies
 * that database triggers keep beside the associations (see prisma/models.prisma): one statement
 * per kind, each reading at most `first` entries of an index ordered by usage. Labels per object
 * pair come from the labels themselves.
 */
export async function workspaceLimitUsage(
  viewer: Viewer,
  input: { first: number; limits: WorkspaceLimits; labels: readonly AssociationLabel[]; objects: ReadonlyMap<number, ObjectModel> },
): Promise<LimitUsage[]> {
  requireAdmin(viewer);
  const { first, limits, labels } = input;
  if (!Number.isInteger(first) || first < 1 || first > MAX_USAGE_ENTRIES) {
    throw new ValidationError(`first must be from 1 to ${MAX_USAGE_ENTRIES}.`, 'first');
  }
  const entries: LimitUsage[] = [];

  // Labels per unordered object pair.
  const pairs = new Map<string, { objectIds: [number, number]; count: number }>();
  for (const label of labels) {
    const objectIds = [label.firstObjectId, label.secondObjectId].sort((a, b) => a - b) as [number, number];
    const key = objectIds.join(':');
    const pair = pairs.get(key) ?? { objectIds, count: 0 };
    pair.count += 1;
    pairs.set(key, pair);
  }
  for (const { objectIds, count } of pairs.values()) {
    entries.push(usage('maxLabelsPerObjectPair', limits.maxLabelsPerObjectPair, count, { objectIds }));
  }

  const [perLabel, perContact, perDirection] = await Promise.all([
    recordsPerLabel(labels, first),
    contactPairLabels(labels, input.objects).length ? associationsPerContact(viewer.workspaceId, first) : [],
    directionUsage(labels, first),
  ]);
  for (const row of perLabel) entries.push(usage('maxRecordsPerLabel', limits.maxRecordsPerLabel, row.current, { labelId: row.labelId }));
  for (const row of perContact) {
    entries.push(usage('maxAssociationsPerContact', limits.maxAssociationsPerContact, row.current, { recordId: row.recordId }));
  }
  entries.push(...perDirection);
  return entries.filter((entry) => entry.current > 0).sort(closestFirst).slice(0, first);
}

/** The labels linking the most records. */
async function recordsPerLabel(labels: readonly AssociationLabel[], first: number) {
  if (labels.length === 0) return [];
  const ids = labels.map((label) => label.id);
  const rows = await reader.rows<{ labelId: unknown; n: unknown }>(Prisma.sql`
    SELECT t."labelId", t."records" AS n FROM "LabelTally" t
    WHERE ${inIds(provider, Prisma.sql`t."labelId"`, ids)} AND t."records" > 0
    ORDER BY t."records" DESC, t."labelId" LIMIT ${first}`);
  return rows.map((row) => ({ labelId: num(row.labelId), current: num(row.n) }));
}

/** The contacts with the most contact↔contact associations. */
async function associationsPerContact(workspaceId: number, first: number) {
  const rows = await reader.rows<{ recordId: unknown; n: unknown }>(Prisma.sql`
    SELECT t."recordId", t."associations" AS n FROM "ContactTally" t
    WHERE t."workspaceId" = ${workspaceId}
    ORDER BY t."associations" DESC, t."recordId" LIMIT ${first}`);
  return rows.map((row) => ({ recordId: num(row.recordId), current: num(row.n) }));
}

/** Tally sides: 1 first, 2 second, 0 either (a SINGLE label on one object). */
const TALLY_SIDE = { first: 1, second: 2, either: 0 } as const;

/**
 * The records closest to a label's own limit per direction: for each label and direction that
 * has one, its `first` busiest records on that side, all in one statement.
 */
async function directionUsage(labels: readonly AssociationLabel[], first: number): Promise<LimitUsage[]> {
  const bounds = labels.flatMap((label) => directionBounds(label).map((bound) => ({ label, bound })));
  if (bounds.length === 0) return [];
  // Each branch in its own sub-select: SQLite takes ORDER BY / LIMIT only at a compound's end.
  const selects = bounds.map(({ label, bound }, b) => Prisma.sql`SELECT * FROM (
      SELECT ${Prisma.raw(String(b))} AS "b", t."recordId", t."associations" AS n FROM "RecordLabelTally" t
      WHERE t."labelId" = ${label.id} AND t."side" = ${TALLY_SIDE[bound.side]}
      ORDER BY t."associations" DESC, t."recordId" LIMIT ${first}
    ) ${Prisma.raw(`top${b}`)}`);
  const rows = await reader.rows<{ b: unknown; recordId: unknown; n: unknown }>(Prisma.join(selects, ' UNION ALL '));
  return rows.map((row) => {
    const { label, bound } = bounds[num(row.b)]!;
    return usage(bound.limit, bound.max, num(row.n), { labelId: label.id, recordId: num(row.recordId) });
  });
}

/** A record's associations per label and side (0: either side of a SINGLE label within one object). */
export interface SideCount {
  labelId: number;
  side: 0 | 1 | 2;
  count: number;
}

/**
 * What one record may still take, from its association counts per label and side (counted
 * among the records the viewer can see): its contact↔contact associations if it is a contact,
 * and each own limit per direction of a label on its side, used or not. Records per label is
 * a label's figure, not a record's: Workspace.limitUsage reports it.
 */
export function recordLimitUsage(
  record: { id: number; objectId: number },
  counts: readonly SideCount[],
  input: { limits: WorkspaceLimits; labels: readonly AssociationLabel[]; objects: ReadonlyMap<number, ObjectModel> },
): LimitUsage[] {
  const countOf = (labelId: number, side?: 1 | 2) =>
    counts.filter((c) => c.labelId === labelId && (side === undefined || c.side === side)).reduce((sum, c) => sum + c.count, 0);
  const entries: LimitUsage[] = [];
  if (input.objects.get(record.objectId)?.key === CONTACT_KEY) {
    const current = contactPairLabels(input.labels, input.objects).reduce((sum, label) => sum + countOf(label.id), 0);
    entries.push(usage('maxAssociationsPerContact', input.limits.maxAssociationsPerContact, current, { recordId: record.id }));
  }
  for (const label of input.labels) {
    for (const bound of directionBounds(label)) {
      const onSide =
        bound.side === 'either' || bound.side === 'first' ? label.firstObjectId === record.objectId : label.secondObjectId === record.objectId;
      if (!onSide) continue;
      const current = countOf(label.id, bound.side === 'either' ? undefined : bound.side === 'first' ? 1 : 2);
      entries.push(usage(bound.limit, bound.max, current, { labelId: label.id, recordId: record.id }));
    }
  }
  return entries.sort(closestFirst);
}
