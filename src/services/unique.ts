import type { FieldType } from '../db/generated/sqlite/enums.js';
import { Prisma, prisma, type Tx } from '../db/index.js';
import { ConflictError, DuplicateValuesError, ValidationError } from './errors.js';
import { lockObjectRecords } from './lock.js';
import { parseProperties, type FieldDef, type Properties } from './properties.js';
import type { Viewer } from './viewer.js';
import { visibleRecordWhere } from './visibility.js';

/**
 * An object's unique field: at most one per object, whose values no two of its records share
 * (contact `email`, a product's `sku`), so that a record can be named by it instead of its id.
 *
 * The database enforces it on both providers: every record keeps the normalised value in
 * "Record"."uniqueValue" (null when the object has no unique field or the record no value), under
 * a unique index on (objectId, uniqueValue), written in the same statement as its properties. Two
 * concurrent writes of one value cannot both commit, whatever the interleaving; the loser's
 * unique violation becomes a ConflictError (see `uniqueConflict`).
 *
 * Normalisation, the same for writes and lookups:
 * - EMAIL: lower-cased (addresses are matched without case, as CRMs deduplicate contacts; the
 *   property itself keeps the case it was given);
 * - NUMBER: the number's shortest form (`1.50` and `1.5` are one value);
 * - TEXT, URL, DATE, PHONE: the property exactly as stored (case-sensitive; PHONE is trimmed by
 *   validation, TEXT is not);
 * - an empty string is no value: records without a value never clash.
 */
export const UNIQUE_FIELD_TYPES: readonly FieldType[] = ['TEXT', 'NUMBER', 'DATE', 'EMAIL', 'PHONE', 'URL'];

/** Unique values are indexed: longer ones are refused (PostgreSQL caps an index entry near 2.7 kB). */
export const MAX_UNIQUE_LENGTH = 255;

export function checkUniqueType(field: Pick<FieldDef, 'key' | 'type'>, path: string): void {
  if (!UNIQUE_FIELD_TYPES.includes(field.type)) {
    throw new ValidationError(`A ${field.type} field cannot be unique ("${field.key}"); use TEXT, NUMBER, DATE, EMAIL, PHONE or URL.`, path);
  }
}

/** The normalised form of a value of a field of this type; null for no value. */
export function normaliseUnique(type: FieldType, value: string | number | boolean | undefined): string | null {
  if (value === undefined || value === '' || typeof value === 'boolean') return null;
  if (type === 'NUMBER') return typeof value === 'number' ? String(value) : null;
  const text = String(value);
  return type === 'EMAIL' ? text.toLowerCase() : text;
}

/** The unique field among an object's fields, if it has one. */
export const uniqueFieldOf = <F extends Pick<FieldDef, 'unique'>>(fields: readonly F[]): F | undefined =>
  fields.find((field) => field.unique);

/** A record's uniqueValue column: its unique field's normalised value, checked for length. */
export function uniqueValueOf(fields: readonly FieldDef[], properties: Properties): string | null {
  const field = uniqueFieldOf(fields);
  if (!field) return null;
  const value = normaliseUnique(field.type, properties[field.key]);
  if (value !== null && value.length > MAX_UNIQUE_LENGTH) {
    throw new ValidationError(
      `Property "${field.key}" is the object's unique field: at most ${MAX_UNIQUE_LENGTH} characters.`,
      `properties.${field.key}`,
    );
  }
  return value;
}

/**
 * The value a lookup names, normalised like the stored ones; null when no record can have it
 * (a NUMBER field looked up by text that is not a number, an empty string).
 */
export function lookupValue(type: FieldType, text: string): string | null {
  if (type === 'NUMBER') {
    const number = text.trim() === '' ? Number.NaN : Number(text);
    return Number.isFinite(number) ? String(number) : null;
  }
  return normaliseUnique(type, text);
}

/** Whether an error is the unique index on (objectId, uniqueValue) refusing a write. */
export function isUniqueValueViolation(error: unknown): boolean {
  const candidate = error as { code?: unknown; meta?: unknown } | null;
  return candidate?.code === 'P2002' && JSON.stringify(candidate.meta ?? {}).includes('uniqueValue');
}

/**
 * For `.catch` on a record write: a clash on the unique field becomes a ConflictError (the
 * transaction still rolls back); anything else is rethrown. The message says the value is taken,
 * never by which record: it may be one the writer cannot see.
 */
export function uniqueConflict(objectKey: string, fields: readonly FieldDef[]) {
  return (error: unknown): never => {
    if (!isUniqueValueViolation(error)) throw error;
    const key = uniqueFieldOf(fields)?.key ?? 'value';
    throw new ConflictError(`Another ${objectKey} record already has this ${key}: "${key}" is unique.`);
  };
}

/**
 * Makes an existing field an object's unique field, in the caller's transaction: refused with a
 * DuplicateValuesError (and nothing changed) when records already share a value, or with a
 * ValidationError when a value is too long to index; otherwise every record's uniqueValue is
 * written (500 per statement). Record writes of the object wait meanwhile (lockObjectRecords), so none can slip a
 * duplicate in, or a record without its uniqueValue, between the check and the change.
 *
 * Reads the object's records once, in pages, holding each distinct value in memory (about 100
 * bytes a record): an admin's one-off change, bounded by the object's size.
 */
export async function makeFieldUnique(tx: Tx, object: { id: number }, field: FieldDef & { id: number }): Promise<void> {
  await lockObjectRecords(tx, object.id, 'exclusive');
  const counts = new Map<string, number>();
  const updates: { id: number; value: string }[] = [];
  let tooLong = 0;
  let afterId = 0;
  for (;;) {
    const page = await tx.recordModel.findMany({
      where: { objectId: object.id, id: { gt: afterId } },
      orderBy: { id: 'asc' },
      take: 1000,
      select: { id: true, properties: true },
    });
    if (!page.length) break;
    for (const record of page) {
      const value = normaliseUnique(field.type, parseProperties(record.properties)[field.key]);
      if (value === null) continue;
      if (value.length > MAX_UNIQUE_LENGTH) tooLong += 1;
      counts.set(value, (counts.get(value) ?? 0) + 1);
      updates.push({ id: record.id, value });
    }
    afterId = page[page.length - 1]!.id;
  }
  let values = 0;
  let records = 0;
  for (const count of counts.values()) {
    if (count > 1) {
      values += 1;
      records += count;
    }
  }
  if (values > 0) throw new DuplicateValuesError(field.key, values, records);
  if (tooLong > 0) {
    throw new ValidationError(
      `${tooLong} record(s) have a "${field.key}" longer than ${MAX_UNIQUE_LENGTH} characters, too long for a unique field.`,
      'uniqueField',
    );
  }
  await tx.field.update({ where: { id: field.id }, data: { unique: true } });
  for (let i = 0; i < updates.length; i += 500) {
    const chunk = updates.slice(i, i + 500);
    const cases = Prisma.join(chunk.map(({ id, value }) => Prisma.sql`WHEN ${id} THEN ${value}`), ' ');
    await tx.$executeRaw`UPDATE "Record" SET "uniqueValue" = CASE "id" ${cases} END WHERE "id" IN (${Prisma.join(chunk.map(({ id }) => id))})`;
  }
}

/** The record of an object with this (normalised) unique value, if the viewer may see it. */
export function visibleRecordByUniqueValue(viewer: Viewer, objectId: number, value: string) {
  return prisma.recordModel.findFirst({ where: { objectId, uniqueValue: value, ...visibleRecordWhere(viewer) } });
}
