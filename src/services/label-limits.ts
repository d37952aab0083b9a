import type { AssociationLabel } from '../db/generated/sqlite/client.js';
import { ValidationError } from './errors.js';

/**
 * Per-label limits per direction (SPEC §5.5). Under label L between objects A (first) and B
 * (second), one A record may be linked to at most `maxSecondPerFirst` B records, and one B
 * record to at most `maxFirstPerSecond` A records.
 *
 * Which values are allowed:
 * - each is null (no limit of its own) or a whole number from 1 to the workspace's
 *   `maxRecordsPerLabel`;
 * - a direction the cardinality already bounds to 1 takes no limit of its own: MANY_TO_ONE
 *   fixes `maxSecondPerFirst`, ONE_TO_ONE fixes both (they must stay null);
 * - a SINGLE label on one object has no sides: each record's partners under it are one count,
 *   so it has one limit, stored in both columns and reported as `maxSecondPerFirst`. Either
 *   field sets it; given both, they must be equal.
 * Lowering a limit below current usage is allowed: existing links stay, new ones over it are
 * refused. A later, lower `maxRecordsPerLabel` does not change a label's limits; both apply.
 */
export const DIRECTION_LIMITS = ['maxSecondPerFirst', 'maxFirstPerSecond'] as const;
export type DirectionLimit = (typeof DIRECTION_LIMITS)[number];

type LabelShape = Pick<AssociationLabel, 'key' | 'type' | 'cardinality' | 'firstObjectId' | 'secondObjectId'>;

/** A SINGLE label between records of one object: A–B is B–A, a record has no side. */
export const isSymmetric = (label: Pick<AssociationLabel, 'type' | 'firstObjectId' | 'secondObjectId'>) =>
  label.type === 'SINGLE' && label.firstObjectId === label.secondObjectId;

/**
 * A limit of a label on each record of one side: `first` bounds a first-side record's
 * associations under the label, `second` a second-side record's, `either` (a symmetric label) a
 * record's associations on either side.
 */
export interface DirectionBound {
  limit: DirectionLimit;
  max: number;
  side: 'first' | 'second' | 'either';
}

/** The direction limits a label has set. */
export function directionBounds(label: LabelShape & Pick<AssociationLabel, DirectionLimit>): DirectionBound[] {
  if (isSymmetric(label)) {
    return label.maxSecondPerFirst === null ? [] : [{ limit: 'maxSecondPerFirst', max: label.maxSecondPerFirst, side: 'either' }];
  }
  const bounds: DirectionBound[] = [];
  if (label.maxSecondPerFirst !== null) bounds.push({ limit: 'maxSecondPerFirst', max: label.maxSecondPerFirst, side: 'first' });
  if (label.maxFirstPerSecond !== null) bounds.push({ limit: 'maxFirstPerSecond', max: label.maxFirstPerSecond, side: 'second' });
  return bounds;
}

/** The refusal's message: who may have how many of what, under which label. */
export function directionMessage(label: Pick<AssociationLabel, 'key' | 'firstLabel' | 'secondLabel'>, bound: DirectionBound, current: number) {
  const role = bound.side === 'second' ? label.firstLabel : label.secondLabel;
  return `Under label "${label.key}" a record may have at most ${bound.max} "${role}" (${bound.limit}); this one already has ${current}.`;
}

export interface DirectionLimitsInput {
  maxSecondPerFirst?: number | null;
  maxFirstPerSecond?: number | null;
}

/**
 * The label's direction limits after `input` (undefined: unchanged, null: cleared), or a
 * ValidationError naming the field and the values it allows.
 */
export function nextDirectionLimits(
  label: LabelShape & Pick<AssociationLabel, DirectionLimit>,
  input: DirectionLimitsInput,
  maxRecordsPerLabel: number,
): Record<DirectionLimit, number | null> {
  const given = DIRECTION_LIMITS.filter((field) => input[field] !== undefined);
  if (isSymmetric(label) && given.length === 2 && input.maxSecondPerFirst !== input.maxFirstPerSecond) {
    throw new ValidationError(
      `Label "${label.key}" is SINGLE between records of one object: it has one limit for both directions. Give maxSecondPerFirst only, or equal values.`,
      'maxFirstPerSecond',
    );
  }
  for (const field of given) {
    const value = input[field]!;
    if (value === null) continue;
    const fixed =
      label.cardinality === 'ONE_TO_ONE' || (label.cardinality === 'MANY_TO_ONE' && field === 'maxSecondPerFirst');
    if (fixed) {
      throw new ValidationError(
        `Label "${label.key}" is ${label.cardinality}: its cardinality already limits ${field} to 1, so ${field} must be null.`,
        field,
      );
    }
    if (!Number.isInteger(value) || value < 1 || value > maxRecordsPerLabel) {
      throw new ValidationError(
        maxRecordsPerLabel < 1
          ? `${field} must be null while the workspace's maxRecordsPerLabel is ${maxRecordsPerLabel}.`
          : `${field} must be a whole number from 1 to ${maxRecordsPerLabel} (the workspace's maxRecordsPerLabel), or null for no limit of its own.`,
        field,
      );
    }
  }
  if (isSymmetric(label)) {
    const value = given.length ? input[given[0]!]! : label.maxSecondPerFirst;
    return { maxSecondPerFirst: value, maxFirstPerSecond: value };
  }
  return {
    maxSecondPerFirst: input.maxSecondPerFirst === undefined ? label.maxSecondPerFirst : input.maxSecondPerFirst,
    maxFirstPerSecond: input.maxFirstPerSecond === undefined ? label.maxFirstPerSecond : input.maxFirstPerSecond,
  };
}
