import type { Field, ObjectModel } from '../db/generated/sqlite/client.js';
import { prisma, type Tx } from '../db/index.js';
import { ForbiddenError, NotFoundError } from './errors.js';
import { CONTACT_KEY, findObjectByKey } from './objects.js';
import { parseProperties, validateProperties, type Properties } from './properties.js';
import { recordSnapshotSelect } from '../feed/events.js';
import { removeAssociations } from './links.js';
import { lockedTransaction, lockObjectRecords } from './lock.js';
import { uniqueConflict, uniqueValueOf } from './unique.js';
import { accessTo, isRestricted, type Viewer } from './viewer.js';
import { visibleRecordWhere } from './visibility.js';

interface ObjectLike {
  id: number;
  key: string;
  primaryProperty: string;
}

/** Display name (contacts: first + last name, else email) and the lower-cased search text. */
export function describeRecord(object: ObjectLike, properties: Properties): { displayName: string; searchText: string } {
  const text = (key: string) => {
    const value = properties[key];
    return value === undefined ? '' : String(value).trim();
  };
  const displayName =
    object.key === CONTACT_KEY
      ? [text('firstName'), text('lastName')].filter(Boolean).join(' ') || text('email')
      : text(object.primaryProperty);
  const searchText = [displayName, text('email'), text('phone')].filter(Boolean).join('\n').toLowerCase();
  return { displayName, searchText };
}

export async function findVisibleRecord(db: Tx, viewer: Viewer, id: number | null) {
  const record = id === null ? null : await db.recordModel.findFirst({ where: { id, ...visibleRecordWhere(viewer) } });
  if (!record) throw new NotFoundError('No record with that id.');
  return record;
}

async function checkOwner(db: Tx, viewer: Viewer, object: ObjectLike, ownerId: number | null | undefined) {
  if (ownerId === undefined || ownerId === null) return;
  const owner = await db.user.findFirst({ where: { id: ownerId, workspaceId: viewer.workspaceId } });
  if (!owner) throw new NotFoundError('No user with that ownerId.');
  if (accessTo(viewer, object.id) === 'ASSIGNED' && ownerId !== viewer.userId) {
    throw new ForbiddenError('You may only assign records of this object to yourself.');
  }
}

function checkWritable(viewer: Viewer, object: ObjectLike) {
  if (accessTo(viewer, object.id) === 'NONE') throw new ForbiddenError(`You have no access to ${object.key} records.`);
}

/** An object with its fields, read in the caller's transaction after `lockObjectRecords(tx, id, 'shared')`. */
export type ObjectWithFields = ObjectModel & { fields: Field[] };

export interface CreateRecordInput {
  objectKey: string;
  properties: Record<string, unknown>;
  ownerId?: number | null;
}

export interface UpdateRecordInput {
  id: number | null;
  properties?: Record<string, unknown> | null;
  ownerId?: number | null;
}

export function createRecord(viewer: Viewer, input: CreateRecordInput) {
  return prisma.$transaction((tx) => createRecordInTx(tx, viewer, input));
}

export function updateRecord(viewer: Viewer, input: UpdateRecordInput) {
  return prisma.$transaction((tx) => updateRecordInTx(tx, viewer, input));
}

/**
 * createRecord inside the caller's transaction (the import writes many records in one). Every
 * check happens before the one write, so a refused record leaves the transaction usable; only a
 * unique value taken concurrently fails at the write (a ConflictError). `object`, when the caller
 * has it (with its fields, read under the object's shared lock), saves reading it again.
 */
export async function createRecordInTx(tx: Tx, viewer: Viewer, input: CreateRecordInput, object?: ObjectWithFields) {
  const target = object ?? (await findObjectByKey(tx, viewer, input.objectKey));
  checkWritable(viewer, target);
  // A user who only sees their own records owns what they create.
  const ownerId = input.ownerId ?? (accessTo(viewer, target.id) === 'ASSIGNED' ? viewer.userId : null);
  await checkOwner(tx, viewer, target, ownerId);
  let fields = object?.fields;
  if (!fields) {
    await lockObjectRecords(tx, target.id, 'shared');
    fields = await tx.field.findMany({ where: { objectId: target.id } });
  }
  const properties = validateProperties(fields, input.properties);
  const data = {
    workspaceId: viewer.workspaceId,
    objectId: target.id,
    ownerId,
    properties: JSON.stringify(properties),
    uniqueValue: uniqueValueOf(fields, properties),
    ...describeRecord(target, properties),
  };
  return tx.recordModel.create({ data }).catch(uniqueConflict(target.key, fields));
}

/** updateRecord inside the caller's transaction; `object` as for createRecordInTx (the record's object). */
export async function updateRecordInTx(tx: Tx, viewer: Viewer, input: UpdateRecordInput, object?: ObjectWithFields) {
  const record = await findVisibleRecord(tx, viewer, input.id);
  let target = object?.id === record.objectId ? object : undefined;
  if (!target) {
    await lockObjectRecords(tx, record.objectId, 'shared');
    target = await tx.objectModel.findUniqueOrThrow({ where: { id: record.objectId }, include: { fields: true } });
  }
  checkWritable(viewer, target);
  await checkOwner(tx, viewer, target, input.ownerId);
  if (input.ownerId === null && accessTo(viewer, target.id) === 'ASSIGNED') {
    throw new ForbiddenError('You may only assign records of this object to yourself.');
  }
  const properties = validateProperties(target.fields, input.properties ?? {}, parseProperties(record.properties));
  const data = {
    ownerId: input.ownerId,
    properties: JSON.stringify(properties),
    uniqueValue: uniqueValueOf(target.fields, properties),
    ...describeRecord(target, properties),
  };
  return tx.recordModel.update({ where: { id: record.id }, data }).catch(uniqueConflict(target.key, target.fields));
}

/**
 * Deletes a record and, in the same transaction, every association it takes part in. Takes the
 * association lock first, so a concurrent link to the record either commits before (and is
 * removed and logged here) or runs after (and finds no record): never a foreign-key failure,
 * never an association removed by the cascade without its UNLINKED event.
 */
export async function deleteRecord(viewer: Viewer, id: number | null) {
  return lockedTransaction(viewer.workspaceId, async (tx) => {
    const record = await findVisibleRecord(tx, viewer, id);
    checkWritable(viewer, await tx.objectModel.findUniqueOrThrow({ where: { id: record.objectId } }));
    // Every association goes (and is logged), but the answer only counts those whose other record
    // the viewer can see: a hidden record is never counted (SPEC rule 12).
    const visible = visibleRecordWhere(viewer);
    const visibleCount = isRestricted(viewer)
      ? await tx.association.count({
          where: { OR: [{ firstRecordId: record.id, secondRecord: visible }, { secondRecordId: record.id, firstRecord: visible }] },
        })
      : null;
    const snapshot = await tx.recordModel.findUniqueOrThrow({ where: { id: record.id }, select: recordSnapshotSelect });
    const removed = await removeAssociations(
      tx,
      viewer,
      { workspaceId: viewer.workspaceId, OR: [{ firstRecordId: record.id }, { secondRecordId: record.id }] },
      [{ action: 'RECORD_DELETED', record: snapshot }],
    );
    await tx.recordModel.delete({ where: { id: record.id } });
    return { record, removedAssociations: visibleCount ?? removed };
  });
}
