import { GraphQLError, Kind } from 'graphql';
import { ValidationError } from '../services/errors.js';
import { ASSOCIATION_COLUMNS } from '../services/export.js';
import { ImportFileError, uploadMaxBytes } from '../services/import.js';
import { importJobErrors, importJobsByIds, MAX_LISTED_ERRORS, submitImportJob, type ImportJobRow, type ListedError } from '../services/import-jobs.js';
import { builder } from './builder.js';
import { connectionOf, connectionType, pageArgs, pageOf } from './connection.js';
import { ErrorCodeEnum, resultUnion } from './errors.js';
import { idOf, nodeId } from './ids.js';

const COLUMNS = ASSOCIATION_COLUMNS.join(',');

/** What Yoga's multipart parser puts in place of a file variable. */
const isFile = (value: unknown): value is File =>
  typeof value === 'object' && value !== null && typeof (value as File).stream === 'function' && typeof (value as File).size === 'number';

builder.scalarType('Upload', {
  description:
    'A file, sent as a part of a GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec): ' +
    'a multipart/form-data POST with the fields operations, map and the file. Input only.',
  serialize: () => {
    throw new GraphQLError('Upload is an input type.');
  },
  parseValue: (value) => {
    if (!isFile(value)) {
      throw new GraphQLError('Upload takes a file part of a multipart request (see the GraphQL multipart request specification), not a value.');
    }
    return value;
  },
  parseLiteral: (node) => {
    throw new GraphQLError(`Upload takes a file part of a multipart request, not a literal ${node.kind === Kind.STRING ? 'string' : 'value'}.`);
  },
});

export const ImportJobStatusEnum = builder.enumType('ImportJobStatus', {
  description: 'Where an import job stands.',
  values: {
    QUEUED: { description: 'Received; waiting for the import before it on the same server to end.' },
    RUNNING: { description: 'Reading and deciding rows; the counts grow as it goes.' },
    SUCCEEDED: {
      description: 'Ran to its end: the good rows are written (SKIP), every row is (ABORT), or nothing is and the counts say what would be (dry run).',
    },
    FAILED: {
      description:
        'Ended without importing the file: a bad file, rows rejected under ABORT, or the server stopped. `failure` says why and what was written.',
    },
  } as const,
});

export const ImportErrorModeEnum = builder.enumType('ImportErrorMode', {
  description: 'What an import does with rows it rejects.',
  values: {
    ABORT: { description: 'Write nothing if any row is rejected (the whole file is one transaction). The default.' },
    SKIP: { description: 'Write the good rows, batch by batch, and list the rejected ones.' },
  } as const,
});

const RejectedRowRef = builder.objectRef<ListedError>('RejectedRow').implement({
  description: 'A row of an import file that was not imported, and why.',
  fields: (t) => ({
    row: t.exposeInt('row', { description: 'Its row number as a spreadsheet shows it: the header is row 1, the first data row is row 2.' }),
    column: t.exposeString('column', { nullable: true, description: 'The column at fault, when there is one.' }),
    code: t.field({
      type: ErrorCodeEnum,
      description: 'The kind of failure, the same code a linkRecords of that row would answer.',
      resolve: (error) => error.code as never,
    }),
    message: t.exposeString('message', { description: 'What is wrong with the row, in a sentence for people.' }),
  }),
});

const RejectedRowConnectionRef = connectionType<ListedError>('RejectedRow', RejectedRowRef);

const ImportJobRef = builder.objectRef<ImportJobRow>('ImportJob');

builder.node(ImportJobRef, {
  description:
    'An import of associations from a CSV file, run in the background of the server that received it. Visible to its ' +
    "workspace's admins and to the key's user who started it.",
  id: { resolve: (job) => job.id },
  loadManyWithoutCache: (ids, ctx) => importJobsByIds(ctx.viewer, ids.map(nodeId)),
  fields: (t) => ({
    status: t.field({ type: ImportJobStatusEnum, description: 'QUEUED, RUNNING, SUCCEEDED or FAILED.', resolve: (job) => job.status }),
    dryRun: t.exposeBoolean('dryRun', { description: 'True: every row is decided and nothing is written; the counts say what would be.' }),
    onError: t.field({ type: ImportErrorModeEnum, description: 'What it does with rejected rows.', resolve: (job) => job.onError }),
    fileName: t.exposeString('fileName', { nullable: true, description: 'The name the file was uploaded with.' }),
    totalRows: t.exposeInt('totalRows', { description: 'Data rows in the file (the header aside), as far as it is read.' }),
    processedRows: t.exposeInt('processedRows', { description: 'Rows decided so far.' }),
    createdCount: t.exposeInt('createdCount', {
      description: 'Associations created (for a dry run: that would be). After a failure: those that stay written.',
    }),
    existingCount: t.exposeInt('existingCount', { description: 'Associations the file names that were there already (re-importing a file counts them all here).' }),
    rejectedCount: t.exposeInt('rejectedCount', { description: 'Rows rejected, each listed in errors (the first 10,000).' }),
    failure: t.exposeString('failure', { nullable: true, description: 'When FAILED: why, and what was written.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When the file was received.', resolve: (job) => job.createdAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it started running.', resolve: (job) => job.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it SUCCEEDED or FAILED.', resolve: (job) => job.finishedAt }),
    errors: t.field({
      type: RejectedRowConnectionRef,
      description: `The rejected rows in the order they were found (the first ${MAX_LISTED_ERRORS.toLocaleString('en')}), growing while it runs.`,
      args: pageArgs(t.arg),
      resolve: async (job, args, ctx) => {
        const page = pageOf(args, ctx);
        const { rows, count } = await importJobErrors(job, page.afterId, page.take);
        return connectionOf(rows, page, ctx, count, (row) => ({ node: row }));
      },
    }),
  }),
});

builder.queryField('importJob', (t) =>
  t.field({
    type: ImportJobRef,
    nullable: true,
    description: "An import job by id; null when it does not exist, is another workspace's, or (USER keys) another user's.",
    args: { id: t.arg.id({ required: true, description: 'The id importAssociations answered.' }) },
    resolve: async (_root, { id }, ctx) => {
      const [job] = await importJobsByIds(ctx.viewer, [idOf('ImportJob', id) ?? -1]);
      return job ?? null;
    },
  }),
);

const ImportAssociationsInput = builder.inputType('ImportAssociationsInput', {
  description: 'A CSV file of associations to import, and how.',
  fields: (t) => ({
    file: t.field({
      type: 'Upload',
      required: true,
      description: `The CSV file: a header row naming its columns among ${COLUMNS} (each record by its id, or by object key and unique value; labelKeys separated by ;), then one row per link.`,
    }),
    dryRun: t.boolean({ description: 'Decide every row and write nothing (default false).' }),
    onError: t.field({ type: ImportErrorModeEnum, description: 'ABORT (default): nothing written if any row is rejected; SKIP: write the good rows.' }),
  }),
});

const ImportAssociationsSuccess = builder.objectRef<ImportJobRow>('ImportAssociationsSuccess').implement({
  description: 'The file was received and the import queued: follow it with importJob(id).',
  fields: (t) => ({
    importJob: t.field({ type: ImportJobRef, description: 'The job, QUEUED or already RUNNING.', resolve: (job) => job }),
  }),
});

builder.mutationField('importAssociations', (t) =>
  t.field({
    description:
      'Imports associations from a CSV file sent as a GraphQL multipart request, as a job run in the background: every rule of ' +
      'linkRecords applies (limits, also against earlier rows; cardinality; your record access; events), and links already there ' +
      'count as existing. Any key may import, a USER key only what it could link. Errors: VALIDATION (an empty or too large file). ' +
      'A bad file (header, ragged row, encoding) ends the job FAILED with the reason.',
    type: ImportAssociationsSuccess,
    errors: resultUnion('importAssociations'),
    args: { input: t.arg({ type: ImportAssociationsInput, required: true, description: 'The file and how to import it.' }) },
    resolve: async (_root, { input }, ctx) => {
      const max = uploadMaxBytes();
      if (input.file.size === 0) throw new ImportFileError('The file is empty: it needs a header row and at least one row.');
      if (input.file.size > max) throw new ValidationError(`The file is ${input.file.size} bytes; an upload may be at most ${max} bytes (RELATE_IMPORT_UPLOAD_MAX_BYTES); import larger files with relate import.`, 'file');
      return submitImportJob(ctx.viewer, input.file, {
        dryRun: input.dryRun,
        onError: input.onError === 'SKIP' ? 'skip' : 'abort',
      });
    },
  }),
);
