import {
  ConflictError,
  DomainError,
  DuplicateValuesError,
  ERROR_CODES,
  ForbiddenError,
  LabelInUseError,
  LimitExceededError,
  NotFoundError,
  ObjectMismatchError,
  ValidationError,
} from '../services/errors.js';
import { builder, type Types } from './builder.js';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'What kind of expected failure an error is.',
  values: {
    VALIDATION: { description: 'The input breaks a rule: a format, a range, a length, a required value (ValidationError).' },
    NOT_FOUND: { description: 'Something the input names does not exist or is not visible to you (NotFoundError).' },
    FORBIDDEN: { description: 'Your role or record access does not allow it (ForbiddenError).' },
    LIMIT_EXCEEDED: { description: 'The change would go over an association limit or a cardinality (LimitExceededError).' },
    LABEL_IN_USE: { description: 'The label still has associations (LabelInUseError).' },
    OBJECT_MISMATCH: { description: "The records are not of the label's objects (ObjectMismatchError)." },
    CONFLICT: {
      description:
        'The change clashes with existing data: a taken key, email or unique value, an object still in use (ConflictError), ' +
        'duplicates that keep a field from becoming unique (DuplicateValuesError).',
    },
  } satisfies Record<(typeof ERROR_CODES)[number], { description: string }>,
});

export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'An expected failure, returned as a member of a mutation result union.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, in a sentence for people.' }),
    code: t.field({ type: ErrorCodeEnum, description: 'The kind of failure, for programs.', resolve: (error) => error.code }),
  }),
});

type ErrorFields<T> = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, T>) => object;

function errorType<T extends DomainError>(cls: new (...args: any[]) => T, description: string, fields?: ErrorFields<T>) {
  builder.objectType(cls as new (...args: any[]) => DomainError, {
    name: cls.name,
    description,
    interfaces: [ErrorInterface],
    isTypeOf: (value) => value instanceof cls,
    fields: (t) => ({
      index: t.int({
        nullable: true,
        description: 'For list and batch inputs: the 0-based index of the failing item.',
        resolve: (error) => error.index,
      }),
      ...fields?.(t as unknown as PothosSchemaTypes.ObjectFieldBuilder<Types, T>),
    }),
  });
}

errorType(ValidationError, 'The input is not valid; nothing was changed.', (t) => ({
  field: t.string({ nullable: true, description: 'The input field at fault, when there is one.', resolve: (e) => e.field }),
}));
errorType(NotFoundError, 'Something named by the input does not exist (or is not visible to you).');
errorType(ForbiddenError, 'Your role or record access does not allow this.');
errorType(LimitExceededError, 'The change would go over an association limit or a cardinality.', (t) => ({
  limit: t.string({ description: 'The setting (e.g. maxRecordsPerLabel) or the cardinality (e.g. ONE_TO_ONE).', resolve: (e) => e.limit }),
  max: t.int({ description: 'The maximum (1 for a cardinality).', resolve: (e) => e.max }),
  current: t.int({
    description: 'The count already there; equal to max when you cannot see every record, so hidden links are not revealed.',
    resolve: (e) => e.current,
  }),
}));
errorType(LabelInUseError, 'The label still has associations: unlink them or delete with force.', (t) => ({
  associationCount: t.int({ description: 'Associations still using the label.', resolve: (e) => e.associationCount }),
}));
errorType(ObjectMismatchError, "The records do not belong to the label's objects.");
errorType(ConflictError, 'The change conflicts with existing data (a taken key, email or unique value, an object still in use).');
errorType(DuplicateValuesError, "A field cannot become its object's unique field: records already share values of it (code CONFLICT).", (t) => ({
  // Nullable like ValidationError.field, so that one selection can ask both for `field`.
  field: t.string({ nullable: true, description: 'The key of the field.', resolve: (e) => e.field }),
  duplicateValues: t.int({ description: 'Distinct values held by more than one record.', resolve: (e) => e.duplicateValues }),
  duplicateRecords: t.int({ description: 'Records holding one of those values.', resolve: (e) => e.duplicateRecords }),
}));

const ERROR_CLASSES = [
  ValidationError,
  NotFoundError,
  ForbiddenError,
  LimitExceededError,
  LabelInUseError,
  ObjectMismatchError,
  ConflictError,
];

/**
 * Options for a mutation field: its result is the union `<Name>Result` of its success type and
 * every error type, so clients can handle any failure through `... on Error { code message }`.
 * `moreErrors`: error types that only this mutation answers.
 */
export function resultUnion(mutationName: string, moreErrors: (new (...args: any[]) => DomainError)[] = []) {
  const name = mutationName[0]!.toUpperCase() + mutationName.slice(1);
  return {
    types: [...ERROR_CLASSES, ...moreErrors],
    directResult: true as const,
    union: { name: `${name}Result`, description: `What ${mutationName} answers: ${name}Success, or an error type (each implements Error).` },
  };
}
