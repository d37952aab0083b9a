import type { Association, AssociationLabel, ObjectModel } from '../db/generated/sqlite/client.js';
import { Prisma, provider, type Tx } from '../db/index.js';
import { inIds } from '../db/reader.js';
import { recordEvents, type AssociationSnapshot, type FeedEvent } from '../feed/events.js';
import { DomainError, LimitExceededError, NotFoundError, ObjectMismatchError, ValidationError, atIndex } from './errors.js';
import { directionBounds, directionMessage, isSymmetric, type DirectionBound } from './label-limits.js';
import { lockedTransaction } from './lock.js';
import { CONTACT_KEY } from './objects.js';
import { isRestricted, type Viewer } from './viewer.js';
import { visibleRecordWhere } from './visibility.js';

type LabelWithObjects = AssociationLabel & { firstObject: ObjectModel; secondObject: ObjectModel };

/**
 * Removes associations, writing one UNLINKED event each (feed/events.ts), and returns how many.
 * `more` are events of the same change, appended after them (a record's or label's deletion).
 */
export async function removeAssociations(
  tx: Tx,
  viewer: Viewer,
  where: Prisma.AssociationWhereInput,
  more: readonly FeedEvent[] = [],
): Promise<number> {
  const ids = (await tx.association.findMany({ where, select: { id: true }, orderBy: { id: 'asc' } })).map((row) => row.id);
  const snapshots = await associationSnapshots(tx, ids);
  if (ids.length) await tx.association.deleteMany({ where: { id: { in: ids } } });
  await recordEvents(tx, viewer, [...snapshots.map((association) => ({ action: 'UNLINKED' as const, association })), ...more]);
  return ids.length;
}

/**
 * What the UNLINKED events of these associations name (their label, both records with their
 * object keys), in id order: one statement, where Prisma's nested selects would take six.
 */
async function associationSnapshots(tx: Tx, ids: readonly number[]): Promise<AssociationSnapshot[]> {
  if (ids.length === 0) return [];
  const rows = await tx.$queryRaw<Record<string, unknown>[]>`
    SELECT a."id", l."id" AS "labelId", l."key", l."type", l."cardinality", l."firstLabel", l."secondLabel",
      fo."key" AS "firstObjectKey", so."key" AS "secondObjectKey",
      f."id" AS "firstId", f."displayName" AS "firstName", s."id" AS "secondId", s."displayName" AS "secondName"
    FROM "Association" a
    JOIN "AssociationLabel" l ON l."id" = a."labelId"
    JOIN "Object" fo ON fo."id" = l."firstObjectId"
    JOIN "Object" so ON so."id" = l."secondObjectId"
    JOIN "Record" f ON f."id" = a."firstRecordId"
    JOIN "Record" s ON s."id" = a."secondRecordId"
    WHERE ${inIds(provider, Prisma.sql`a."id"`, ids)}
    ORDER BY a."id"`;
  return rows.map((row) => ({
    id: Number(row.id),
    label: {
      id: Number(row.labelId),
      key: String(row.key),
      type: String(row.type),
      cardinality: String(row.cardinality),
      firstLabel: String(row.firstLabel),
      secondLabel: String(row.secondLabel),
      firstObject: { key: String(row.firstObjectKey) },
      secondObject: { key: String(row.secondObjectKey) },
    },
    firstRecord: { id: Number(row.firstId), displayName: String(row.firstName), object: { key: String(row.firstObjectKey) } },
    secondRecord: { id: Number(row.secondId), displayName: String(row.secondName), object: { key: String(row.secondObjectKey) } },
  }));
}

export interface PairInput {
  firstRecordId: number | null;
  secondRecordId: number | null;
}

async function resolveRecords(tx: Tx, viewer: Viewer, input: PairInput) {
  if (input.firstRecordId !== null && input.firstRecordId === input.secondRecordId) {
    throw new ValidationError('A record cannot be linked to itself.', 'secondRecordId');
  }
  const ids = [input.firstRecordId, input.secondRecordId].filter((id): id is number => id !== null);
  const found = await tx.recordModel.findMany({
    where: { id: { in: ids }, ...visibleRecordWhere(viewer) },
    select: { id: true, objectId: true, displayName: true },
  });
  const first = found.find((record) => record.id === input.firstRecordId);
  const second = found.find((record) => record.id === input.secondRecordId);
  if (!first) throw new NotFoundError('No record with that firstRecordId.');
  if (!second) throw new NotFoundError('No record with that secondRecordId.');
  return { first, second };
}

async function resolveLabels(tx: Tx, viewer: Viewer, keys: readonly string[]): Promise<LabelWithObjects[]> {
  const unique = [...new Set(keys)];
  const labels = await tx.associationLabel.findMany({
    where: { workspaceId: viewer.workspaceId, key: { in: unique } },
    include: { firstObject: true, secondObject: true },
  });
  for (const key of unique) {
    if (!labels.some((label) => label.key === key)) throw new NotFoundError(`No association label with key "${key}".`);
  }
  return unique.map((key) => labels.find((label) => label.key === key)!);
}

/**
 * The (first, second) order a pair is stored in under a label (SPEC rule 8): the label's
 * object order for labels between two objects; the given order for a PAIR label on one object
 * (A→B and B→A differ); the lower id first for a SINGLE label on one object (A–B is B–A).
 */
export function orderPair(
  label: Pick<AssociationLabel, 'key' | 'type' | 'firstObjectId' | 'secondObjectId'>,
  a: { id: number; objectId: number },
  b: { id: number; objectId: number },
): [number, number] {
  if (label.firstObjectId === label.secondObjectId) {
    if (a.objectId !== label.firstObjectId || b.objectId !== label.firstObjectId) {
      throw new ObjectMismatchError(`Label "${label.key}" links two records of the same object; these records do not match it.`);
    }
    return label.type === 'SINGLE' && a.id > b.id ? [b.id, a.id] : [a.id, b.id];
  }
  if (a.objectId === label.firstObjectId && b.objectId === label.secondObjectId) return [a.id, b.id];
  if (b.objectId === label.firstObjectId && a.objectId === label.secondObjectId) return [b.id, a.id];
  throw new ObjectMismatchError(`The records do not match the objects of label "${label.key}".`);
}

function checkLabelKeys(keys: readonly string[] | null | undefined, required: boolean): void {
  if (keys && keys.length === 0 && required) throw new ValidationError('labelKeys must name at least one label.', 'labelKeys');
  if (keys && keys.length > 10) throw new ValidationError('labelKeys takes at most 10 labels.', 'labelKeys');
}

interface Limits {
  maxRecordsPerLabel: number;
  maxAssociationsPerContact: number;
}

const count = (rows: { n: number | bigint }[]) => Number(rows[0]?.n ?? 0);

async function checkLimits(tx: Tx, limits: Limits, label: LabelWithObjects, firstId: number, secondId: number) {
  // Records per label: records not yet linked by this label would join it.
  const present = await tx.$queryRaw<{ id: number | bigint }[]>`
    SELECT "firstRecordId" AS id FROM "Association" WHERE "labelId" = ${label.id} AND "firstRecordId" IN (${firstId}, ${secondId})
    UNION
    SELECT "secondRecordId" AS id FROM "Association" WHERE "labelId" = ${label.id} AND "secondRecordId" IN (${firstId}, ${secondId})`;
  const joining = 2 - present.length;
  if (joining > 0) {
    const current = count(
      await tx.$queryRaw<{ n: number }[]>`
        SELECT COUNT(*) AS n FROM (
          SELECT "firstRecordId" FROM "Association" WHERE "labelId" = ${label.id}
          UNION
          SELECT "secondRecordId" FROM "Association" WHERE "labelId" = ${label.id}
        ) AS linked`,
    );
    if (current + joining > limits.maxRecordsPerLabel) {
      throw new LimitExceededError(
        `Label "${label.key}" already links ${current} records; the limit is ${limits.maxRecordsPerLabel}.`,
        'maxRecordsPerLabel',
        limits.maxRecordsPerLabel,
        current,
      );
    }
  }

  // Contact↔contact associations per contact.
  if (label.firstObject.key === CONTACT_KEY && label.secondObject.key === CONTACT_KEY) {
    for (const recordId of [firstId, secondId]) {
      const current = count(
        await tx.$queryRaw<{ n: number }[]>`
          SELECT COUNT(*) AS n FROM "Association" a
          JOIN "AssociationLabel" l ON l."id" = a."labelId"
          WHERE l."firstObjectId" = ${label.firstObjectId} AND l."secondObjectId" = ${label.firstObjectId}
            AND (a."firstRecordId" = ${recordId} OR a."secondRecordId" = ${recordId})`,
      );
      if (current + 1 > limits.maxAssociationsPerContact) {
        throw new LimitExceededError(
          `A contact already takes part in ${current} contact associations; the limit is ${limits.maxAssociationsPerContact}.`,
          'maxAssociationsPerContact',
          limits.maxAssociationsPerContact,
          current,
        );
      }
    }
  }

  // Cardinality, then the label's own limits per direction (label-limits.ts): each counts the
  // record's associations under the label on its side (either side for a symmetric label).
  const partners = (recordId: number, side: DirectionBound['side']) =>
    tx.association.count({
      where: {
        labelId: label.id,
        ...(side === 'first'
          ? { firstRecordId: recordId }
          : side === 'second'
            ? { secondRecordId: recordId }
            : { OR: [{ firstRecordId: recordId }, { secondRecordId: recordId }] }),
      },
    });
  /** The records of this pair a bound on `side` applies to, each with the side to count. */
  const bounded = (side: DirectionBound['side']): [number, DirectionBound['side']][] =>
    side === 'either' ? [[firstId, 'either'], [secondId, 'either']] : [[side === 'first' ? firstId : secondId, side]];
  if (label.cardinality !== 'MANY_TO_MANY') {
    const checks = isSymmetric(label)
      ? bounded('either')
      : label.cardinality === 'MANY_TO_ONE'
        ? bounded('first')
        : [...bounded('first'), ...bounded('second')];
    for (const [recordId, side] of checks) {
      const current = await partners(recordId, side);
      if (current >= 1) {
        throw new LimitExceededError(
          `Label "${label.key}" is ${label.cardinality}: this record already has a linked record under it.`,
          label.cardinality,
          1,
          current,
        );
      }
    }
  }
  for (const bound of directionBounds(label)) {
    for (const [recordId, side] of bounded(bound.side)) {
      const current = await partners(recordId, side);
      if (current + 1 > bound.max) {
        throw new LimitExceededError(directionMessage(label, bound, current), bound.limit, bound.max, current);
      }
    }
  }
}

/** In a batch, a failing item's error names its index; a single mutation's error has none. */
const itemRunner = (batch: boolean) =>
  batch ? atIndex : <T>(_index: number, fn: () => Promise<T>): Promise<T> => fn();

export interface LinkInput extends PairInput {
  labelKeys: readonly string[];
}

export interface LinkOutcome {
  /** One per (item, label), in item order then label order: new or already there. */
  associations: Association[];
  createdCount: number;
  existingCount: number;
}

export interface ApplyLinksOptions {
  /** Errors carry the failing item's index (a batch mutation, an import). */
  batch?: boolean;
  /**
   * Given, a failing item is reported here (its index, its error) and nothing of it is written;
   * the items after it go on. Without it the first failing item throws and the caller's
   * transaction writes nothing.
   */
  onReject?: (index: number, error: Error) => void;
}

/**
 * Decides and writes links inside `tx`; the caller holds the workspace lock (lockedTransaction).
 * Items are decided in order, each against the database and the items before it (limits,
 * cardinality, same-object order, visibility), with the errors linkRecords gives. Writes the
 * LINKED events of what it created.
 */
export async function applyLinks(tx: Tx, viewer: Viewer, items: readonly LinkInput[], options: ApplyLinksOptions = {}): Promise<LinkOutcome> {
  const { batch = false, onReject } = options;
  const runItem = itemRunner(batch);
  const limits = await tx.workspace.findUniqueOrThrow({ where: { id: viewer.workspaceId } });
  const associations: Association[] = [];
  const events: FeedEvent[] = [];
  let existingCount = 0;
  for (const [index, input] of items.entries()) {
    const itemAssociations: Association[] = [];
    const itemEvents: FeedEvent[] = [];
    let itemExisting = 0;
    try {
      await runItem(index, async () => {
        checkLabelKeys(input.labelKeys, true);
        const { first, second } = await resolveRecords(tx, viewer, input);
        for (const label of await resolveLabels(tx, viewer, input.labelKeys)) {
          const [firstRecordId, secondRecordId] = orderPair(label, first, second);
          const existing = await tx.association.findUnique({
            where: { labelId_firstRecordId_secondRecordId: { labelId: label.id, firstRecordId, secondRecordId } },
          });
          if (existing) {
            itemAssociations.push(existing);
            itemExisting += 1;
            continue;
          }
          await checkLimits(tx, limits, label, firstRecordId, secondRecordId).catch((error: unknown) => {
            throw error instanceof LimitExceededError && isRestricted(viewer) ? error.withoutCount() : error;
          });
          const association = await tx.association.create({
            data: { workspaceId: viewer.workspaceId, labelId: label.id, firstRecordId, secondRecordId, createdById: viewer.userId },
          });
          // The stored order puts each record on its side of the label: its object is that side's.
          const [firstRecord, secondRecord] = firstRecordId === first.id ? [first, second] : [second, first];
          itemEvents.push({
            action: 'LINKED',
            association: {
              id: association.id,
              label,
              firstRecord: { ...firstRecord, object: label.firstObject },
              secondRecord: { ...secondRecord, object: label.secondObject },
            },
          });
          itemAssociations.push(association);
        }
      });
    } catch (error) {
      if (!onReject || !(error instanceof DomainError)) throw error;
      // Temporary: the item's writes are undone by deleting them (decisions are not batched yet).
      const made = itemEvents.flatMap((event) => ('association' in event ? [event.association.id] : []));
      if (made.length) await tx.association.deleteMany({ where: { id: { in: made } } });
      onReject(index, error);
      continue;
    }
    associations.push(...itemAssociations);
    events.push(...itemEvents);
    existingCount += itemExisting;
  }
  await recordEvents(tx, viewer, events);
  return { associations, createdCount: events.length, existingCount };
}

/**
 * Links each pair under each of its labels, all or nothing. Existing associations are returned
 * as they are (`created: false` when none was new); a failing item's error carries its index.
 */
export function linkRecords(viewer: Viewer, items: readonly LinkInput[], { batch = false } = {}): Promise<LinkOutcome> {
  return lockedTransaction(viewer.workspaceId, (tx) => applyLinks(tx, viewer, items, { batch }));
}

export interface UnlinkInput extends PairInput {
  labelKeys?: readonly string[] | null;
}

/**
 * Removes the associations between each pair: under the given labels, or under every label
 * when none is given. With labels, a pair is read exactly as linkRecords reads it, so
 * unlink(A, B) removes what link(A, B) made; without, every association between the two
 * records goes, in either direction. Removing nothing is not an error. All or nothing.
 */
export async function unlinkRecords(viewer: Viewer, items: readonly UnlinkInput[], { batch = false } = {}) {
  const runItem = itemRunner(batch);
  return lockedTransaction(viewer.workspaceId, async (tx) => {
    let removedCount = 0;
    for (const [index, input] of items.entries()) {
      await runItem(index, async () => {
        checkLabelKeys(input.labelKeys, false);
        const { first, second } = await resolveRecords(tx, viewer, input);
        const labels = input.labelKeys
          ? await resolveLabels(tx, viewer, input.labelKeys)
          : await tx.associationLabel.findMany({
              where: {
                workspaceId: viewer.workspaceId,
                OR: [
                  { firstObjectId: first.objectId, secondObjectId: second.objectId },
                  { firstObjectId: second.objectId, secondObjectId: first.objectId },
                ],
              },
              include: { firstObject: true, secondObject: true },
            });
        const pairs: Prisma.AssociationWhereInput[] = [];
        for (const label of labels) {
          const [firstRecordId, secondRecordId] = orderPair(label, first, second);
          pairs.push({ labelId: label.id, firstRecordId, secondRecordId });
          // Without labelKeys every association between the two goes, so a PAIR label on one
          // object loses both directions (A→B and B→A), as HubSpot's "remove all associations".
          if (!input.labelKeys && label.type === 'PAIR' && label.firstObjectId === label.secondObjectId) {
            pairs.push({ labelId: label.id, firstRecordId: secondRecordId, secondRecordId: firstRecordId });
          }
        }
        if (pairs.length) removedCount += await removeAssociations(tx, viewer, { OR: pairs });
      });
    }
    return { removedCount };
  });
}
