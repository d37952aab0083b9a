import type { FieldType } from '../db/generated/sqlite/enums.js';
import { prisma, type Tx } from '../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import { lockedTransaction, lockObjectRecords } from './lock.js';
import { bumpSchemaVersion } from './metadata.js';
import type { FieldDef } from './properties.js';
import { checkUniqueType, makeFieldUnique, uniqueFieldOf } from './unique.js';
import { requireAdmin, type Viewer } from './viewer.js';

export const CONTACT_KEY = 'contact';
export const CUSTOM_PREFIX = 'custom_objects.';
const SNAKE = /^[a-z][a-z0-9_]{0,63}$/;
const FIELD_KEY = /^[a-zA-Z][a-zA-Z0-9_]{0,63}$/;

export const CONTACT_FIELDS: FieldDef[] = [
  { key: 'firstName', name: 'First name', type: 'TEXT', required: false },
  { key: 'lastName', name: 'Last name', type: 'TEXT', required: false },
  { key: 'email', name: 'Email', type: 'EMAIL', required: false },
  { key: 'phone', name: 'Phone', type: 'PHONE', required: false },
];

/** The standard `contact` object every workspace has. */
export async function createContactObject(db: Tx, workspaceId: number) {
  return db.objectModel.create({
    data: {
      workspaceId,
      key: CONTACT_KEY,
      singularName: 'Contact',
      pluralName: 'Contacts',
      standard: true,
      primaryProperty: 'firstName',
      fields: { create: CONTACT_FIELDS.map((field, position) => ({ ...field, position })) },
    },
  });
}

/** `surfboards` and `custom_objects.surfboards` both name the custom object `custom_objects.surfboards`. */
export function customObjectKey(key: string): string {
  const name = key.startsWith(CUSTOM_PREFIX) ? key.slice(CUSTOM_PREFIX.length) : key;
  if (!SNAKE.test(name)) {
    throw new ValidationError(
      `Custom object keys are "${CUSTOM_PREFIX}<snake_name>" with a name matching ^[a-z][a-z0-9_]{0,63}$.`,
      'key',
    );
  }
  return CUSTOM_PREFIX + name;
}

function requireText(value: string, field: string, max = 200): string {
  const trimmed = value.trim();
  if (!trimmed || trimmed.length > max) throw new ValidationError(`${field} must be 1 to ${max} characters.`, field);
  return trimmed;
}

export interface FieldInput {
  key: string;
  name: string;
  type: FieldType;
  required?: boolean | null;
  unique?: boolean | null;
}

/**
 * Checks new fields against each other and the object's existing ones: keys (`id` is the record's
 * own column in exports and imports), and at most one unique field in all.
 */
function checkFields(inputs: readonly FieldInput[], existing: readonly FieldDef[], path: string): FieldDef[] {
  const seen = new Set(existing.map((field) => field.key));
  let unique = uniqueFieldOf(existing)?.key;
  return inputs.map((input, index) => {
    const field = `${path}.${index}.key`;
    if (!FIELD_KEY.test(input.key)) {
      throw new ValidationError(`Field keys match ^[a-zA-Z][a-zA-Z0-9_]{0,63}$; got "${input.key}".`, field).atIndex(index);
    }
    if (input.key === 'id') throw new ValidationError('"id" is reserved for the record\'s id; choose another field key.', field).atIndex(index);
    if (seen.has(input.key)) throw new ValidationError(`Duplicate field key "${input.key}".`, field).atIndex(index);
    seen.add(input.key);
    const checked = { key: input.key, name: requireText(input.name, `${path}.${index}.name`), type: input.type, required: input.required ?? false };
    if (!input.unique) return checked;
    const uniquePath = `${path}.${index}.unique`;
    if (unique !== undefined) {
      throw new ValidationError(`An object has at most one unique field, and "${unique}" is unique already.`, uniquePath).atIndex(index);
    }
    checkUniqueType(checked, uniquePath);
    unique = input.key;
    return { ...checked, unique: true };
  });
}

export async function createObject(
  viewer: Viewer,
  input: { key: string; singularName: string; pluralName: string; primaryProperty: string; fields: FieldInput[] },
) {
  requireAdmin(viewer);
  const key = customObjectKey(input.key);
  const fields = checkFields(input.fields, [], 'fields');
  if (!fields.some((field) => field.key === input.primaryProperty)) {
    throw new ValidationError('primaryProperty must be the key of one of the fields.', 'primaryProperty');
  }
  const data = {
    workspaceId: viewer.workspaceId,
    key,
    singularName: requireText(input.singularName, 'singularName'),
    pluralName: requireText(input.pluralName, 'pluralName'),
    primaryProperty: input.primaryProperty,
    fields: { create: fields.map((field, position) => ({ ...field, position })) },
  };
  // The workspace's write lock makes check-then-create atomic: a concurrent duplicate key is a
  // ConflictError, not a unique-index violation.
  return lockedTransaction(viewer.workspaceId, async (tx) => {
    const clash = await tx.objectModel.findUnique({ where: { workspaceId_key: { workspaceId: viewer.workspaceId, key } } });
    if (clash) throw new ConflictError(`An object with key "${key}" already exists.`);
    await bumpSchemaVersion(tx, viewer.workspaceId);
    return tx.objectModel.create({ data });
  });
}

export async function findObject(db: Tx, viewer: Viewer, id: number | null) {
  const object = id === null ? null : await db.objectModel.findFirst({ where: { id, workspaceId: viewer.workspaceId } });
  if (!object) throw new NotFoundError('No object with that id.');
  return object;
}

export async function findObjectByKey(db: Tx, viewer: Viewer, key: string) {
  const object = await db.objectModel.findUnique({ where: { workspaceId_key: { workspaceId: viewer.workspaceId, key } } });
  if (!object) throw new NotFoundError(`No object with key "${key}".`);
  return object;
}

export async function updateObject(
  viewer: Viewer,
  input: {
    id: number | null;
    singularName?: string | null;
    pluralName?: string | null;
    addFields?: FieldInput[] | null;
    uniqueField?: string | null;
  },
) {
  requireAdmin(viewer);
  return prisma.$transaction(async (tx) => {
    const object = await findObject(tx, viewer, input.id);
    // Changes to one object's fields, and its records' writes, wait for each other: two requests
    // cannot each add a unique field (or a field of the same key) having read the fields before.
    await lockObjectRecords(tx, object.id, 'exclusive');
    const existing = await tx.field.findMany({ where: { objectId: object.id }, orderBy: { position: 'asc' } });
    const makeUnique = input.uniqueField == null ? undefined : existingUniqueCandidate(existing, input.uniqueField);
    const added = checkFields(input.addFields ?? [], makeUnique ? [...existing, { ...makeUnique, unique: true }] : existing, 'addFields');
    if (object.standard && added.some((field) => field.required)) {
      throw new ValidationError('Fields added to a standard object cannot be required.', 'addFields');
    }
    const withRecords = added.some((field) => field.required) && (await tx.recordModel.count({ where: { objectId: object.id }, take: 1 })) > 0;
    if (withRecords) throw new ValidationError('A required field cannot be added to an object that has records.', 'addFields');
    if (makeUnique && !makeUnique.unique) await makeFieldUnique(tx, object, makeUnique);
    await bumpSchemaVersion(tx, viewer.workspaceId);
    return tx.objectModel.update({
      where: { id: object.id },
      data: {
        singularName: input.singularName == null ? undefined : requireText(input.singularName, 'singularName'),
        pluralName: input.pluralName == null ? undefined : requireText(input.pluralName, 'pluralName'),
        fields: { create: added.map((field, index) => ({ ...field, position: existing.length + index })) },
      },
    });
  });
}

/** The existing field `uniqueField` names, if it may become (or already is) the unique field. */
function existingUniqueCandidate<F extends FieldDef>(existing: readonly F[], key: string): F {
  const field = existing.find((candidate) => candidate.key === key);
  if (!field) throw new ValidationError(`The object has no field "${key}".`, 'uniqueField');
  const unique = uniqueFieldOf(existing);
  if (unique && unique !== field) {
    throw new ValidationError(`An object has at most one unique field, and "${unique.key}" is unique already.`, 'uniqueField');
  }
  checkUniqueType(field, 'uniqueField');
  return field;
}

export async function deleteObject(viewer: Viewer, id: number | null) {
  requireAdmin(viewer);
  // Under the lock, no label can be created on the object between the check and the delete.
  return lockedTransaction(viewer.workspaceId, async (tx) => {
    const object = await findObject(tx, viewer, id);
    if (object.standard) throw new ValidationError(`The standard object "${object.key}" cannot be deleted.`, 'id');
    const records = await tx.recordModel.count({ where: { objectId: object.id } });
    if (records > 0) throw new ConflictError(`The object still has ${records} record(s); delete them first.`);
    const labels = await tx.associationLabel.count({
      where: { OR: [{ firstObjectId: object.id }, { secondObjectId: object.id }] },
    });
    if (labels > 0) throw new ConflictError(`The object is used by ${labels} association label(s); delete them first.`);
    await tx.objectModel.delete({ where: { id: object.id } });
    await bumpSchemaVersion(tx, viewer.workspaceId);
    return object;
  });
}

