import type { FieldType } from '../db/generated/sqlite/enums.js';
import { ValidationError } from './errors.js';

export interface FieldDef {
  key: string;
  name: string;
  type: FieldType;
  required: boolean;
  /** The object's unique field (services/unique.ts); at most one per object. */
  unique?: boolean;
}

export type Properties = Record<string, string | number | boolean>;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ()\-.]{3,32}$/;
const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** A real calendar day: Date.parse rolls 2024-02-30 over to March 1st instead of refusing it. */
const isCalendarDate = (value: string) => {
  const day = value.slice(0, 10);
  const time = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === day;
};

function checkValue(field: FieldDef, value: unknown): string | number | boolean {
  const fail = (expected: string): never => {
    throw new ValidationError(`Property "${field.key}" must be ${expected}.`, `properties.${field.key}`);
  };
  switch (field.type) {
    case 'NUMBER':
      return typeof value === 'number' && Number.isFinite(value) ? value : fail('a number');
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : fail('true or false');
    case 'DATE':
      return typeof value === 'string' && DATE.test(value) && !Number.isNaN(Date.parse(value)) && isCalendarDate(value)
        ? value
        : fail('an ISO 8601 date (YYYY-MM-DD or a date-time)');
    case 'EMAIL':
      return typeof value === 'string' && EMAIL.test(value) ? value.trim() : fail('an email address');
    case 'PHONE':
      return typeof value === 'string' && PHONE.test(value.trim()) ? value.trim() : fail('a phone number');
    case 'URL': {
      if (typeof value === 'string' && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)) return value;
      return fail('an http(s) URL');
    }
    case 'TEXT':
      return typeof value === 'string' && value.length <= 10_000 ? value : fail('text (at most 10,000 characters)');
  }
}

/**
 * Validates properties against an object's fields. With `current` (an update) the input is
 * merged into it and a `null` removes a property. Unknown properties, wrong types and missing
 * required properties are VALIDATION errors.
 */
export function validateProperties(
  fields: readonly FieldDef[],
  input: Record<string, unknown>,
  current?: Properties,
): Properties {
  const byKey = new Map(fields.map((field) => [field.key, field]));
  const result: Properties = { ...current };
  for (const [key, value] of Object.entries(input)) {
    const field = byKey.get(key);
    if (!field) throw new ValidationError(`Unknown property "${key}".`, `properties.${key}`);
    if (value === null) {
      if (!current) throw new ValidationError(`Property "${key}" cannot be null.`, `properties.${key}`);
      delete result[key];
    } else {
      result[key] = checkValue(field, value);
    }
  }
  for (const field of fields) {
    if (field.required && (result[field.key] === undefined || result[field.key] === '')) {
      throw new ValidationError(`Property "${field.key}" is required.`, `properties.${field.key}`);
    }
  }
  return result;
}

export function parseProperties(json: string): Properties {
  return JSON.parse(json) as Properties;
}
