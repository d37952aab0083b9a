/**
 * Expected failures. Each carries a code from one enum and becomes a typed member of a
 * mutation's result union (or a coded GraphQL error on queries). Anything else is unexpected
 * and masked.
 */
export const ERROR_CODES = [
  'VALIDATION',
  'NOT_FOUND',
  'FORBIDDEN',
  'LIMIT_EXCEEDED',
  'LABEL_IN_USE',
  'OBJECT_MISMATCH',
  'CONFLICT',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  /** The 0-based position of the failing item in a batch or list input. */
  index: number | null = null;

  atIndex(index: number): this {
    this.index ??= index;
    return this;
  }
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION';
  constructor(
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
}

export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
  constructor(message = 'Only workspace admins may do this.') {
    super(message);
  }
}

export class LimitExceededError extends DomainError {
  readonly code = 'LIMIT_EXCEEDED';
  constructor(
    message: string,
    /** The setting's name (e.g. maxRecordsPerLabel) or the cardinality (e.g. ONE_TO_ONE). */
    readonly limit: string,
    readonly max: number,
    readonly current: number,
  ) {
    super(message);
  }

  /**
   * The same refusal without the count, for a viewer who cannot see every record: limits are
   * enforced over all data, and the exact count would reveal how many hidden links exist.
   */
  withoutCount(): LimitExceededError {
    const redacted = new LimitExceededError(`The ${this.limit} limit of ${this.max} is reached.`, this.limit, this.max, this.max);
    redacted.index = this.index;
    return redacted;
  }
}

export class LabelInUseError extends DomainError {
  readonly code = 'LABEL_IN_USE';
  constructor(
    message: string,
    readonly associationCount: number,
  ) {
    super(message);
  }
}

export class ObjectMismatchError extends DomainError {
  readonly code = 'OBJECT_MISMATCH';
}

export class ConflictError extends DomainError {
  readonly code = 'CONFLICT';
}

/** A field cannot become unique: records of its object already share values of it. */
export class DuplicateValuesError extends DomainError {
  readonly code = 'CONFLICT';
  constructor(
    readonly field: string,
    /** Distinct values held by more than one record. */
    readonly duplicateValues: number,
    /** Records holding one of those values. */
    readonly duplicateRecords: number,
  ) {
    super(
      `"${field}" cannot be unique: ${duplicateRecords} records share ${duplicateValues} value(s). ` +
        'Change or remove the duplicates first.',
    );
  }
}

/** Runs one item of a list input, tagging any domain error with the item's index. */
export async function atIndex<T>(index: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof DomainError) error.atIndex(index);
    throw error;
  }
}
