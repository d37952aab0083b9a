import { createReadStream, createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import cliProgress from 'cli-progress';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_DATABASE_URL, loadConfig } from '../config.js';
import { closeDatabase, openDatabase, prisma } from '../db/index.js';
import { describeDatabaseError, describeTarget } from '../db/errors.js';
import { migrate } from '../db/migrate.js';
import { authenticate, issueApiKey } from '../services/api-keys.js';
import { seedDemo } from '../services/demo.js';
import { DomainError, NotFoundError } from '../services/errors.js';
import { EXPORT_FORMATS, exportAssociations, exportRecords, type ExportFormat } from '../services/export.js';
import { decodeGlobalId, encodeGlobalId, parseRowId, type NodeType } from '../services/ids.js';
import {
  IMPORT_ERROR_MODES,
  importAssociations,
  importMaxBytes,
  importRecords,
  tooLarge,
  type ImportErrorMode,
  type ImportOptions,
  type ImportSummary,
} from '../services/import.js';
import { adminViewer, type Viewer } from '../services/viewer.js';
import { createUser, createWorkspace } from '../services/workspaces.js';

const USAGE = `Usage: relate <command> [options]

Commands:
  migrate                                   apply pending database migrations
  workspace create --name NAME [--admin-name N] [--admin-email E]
                                            a workspace with its admin; prints { workspace, user, apiKey }
  user create --workspace ID --name N --email E [--role ADMIN|USER]
                                            prints { user }
  apikey create --user ID [--name N]        prints { apiKey } (the key is shown once)
  seed --demo                               the "Demo" workspace with sample data; prints its admin key
  seed --scale N                            benchmark data: N contacts and ~4·N associations
  schema print [--write]                    the GraphQL SDL (--write: to schema/schema.graphql)
  export records --workspace ID --object KEY [--format csv|ndjson]
                                            an object's records, to stdout (default csv)
  export associations --workspace ID [--label KEY] [--object KEY] [--format csv|ndjson]
                                            the workspace's associations (of one label, of one
                                            object's labels), to stdout
  import records --workspace ID --object KEY [--dry-run] [--on-error abort|skip] [--api-key KEY] FILE.csv
                                            upsert records by the object's unique field
  import associations --workspace ID [--dry-run] [--on-error abort|skip] [--api-key KEY] FILE.csv
                                            link records named by id or unique value; prints
                                            { summary, rejected } (exit 1 when rows were rejected)

The database is DATABASE_URL (default file:./data/relate.db); postgres:// selects PostgreSQL.`;

export class UsageError extends Error {}
/** A failure told in one line, without the usage text or a stack (bad configuration). */
class CliError extends Error {}

function configuration() {
  try {
    return loadConfig();
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

function idArg(value: string | undefined, type: NodeType, flag: string): number {
  if (!value) throw new UsageError(`--${flag} is required`);
  const id = /^[0-9]+$/.test(value) ? parseRowId(value) : decodeGlobalId(value, type);
  if (!id) throw new UsageError(`--${flag} must be a ${type} id`);
  return id;
}

const userJson = (user: { id: number; name: string; email: string; role: string }) => ({
  id: encodeGlobalId('User', user.id),
  name: user.name,
  email: user.email,
  role: user.role,
});

/** Runs `fn` with the database open (migrated first, a missing PostgreSQL database created). */
async function withDatabase<T>(fn: () => Promise<T>, options: { statementTimeout?: number } = {}): Promise<T> {
  const config = configuration();
  await openDatabase(config.databaseUrl, { statementTimeout: options.statementTimeout ?? config.statementTimeout });
  try {
    return await fn();
  } finally {
    await closeDatabase();
  }
}

export async function main(argv: string[]): Promise<number | void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
      workspace: { type: 'string' },
      user: { type: 'string' },
      'admin-name': { type: 'string' },
      'admin-email': { type: 'string' },
      demo: { type: 'boolean' },
      scale: { type: 'string' },
      write: { type: 'boolean' },
      object: { type: 'string' },
      label: { type: 'string' },
      format: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'on-error': { type: 'string' },
      'api-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  // `import` takes its file after the subcommand.
  const command = positionals.slice(0, positionals[0] === 'import' ? 2 : undefined).join(' ');
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  switch (command) {
    case 'migrate': {
      const { databaseUrl } = configuration();
      const { applied, createdDatabase } = await migrate(databaseUrl);
      if (createdDatabase) process.stderr.write(`Created the database ${describeTarget(databaseUrl)}.\n`);
      process.stderr.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Database is up to date.\n');
      return;
    }
    case 'workspace create': {
      if (!values.name) throw new UsageError('--name is required');
      const result = await withDatabase(() =>
        createWorkspace({ name: values.name!, adminName: values['admin-name'], adminEmail: values['admin-email'] }),
      );
      print({
        workspace: { id: encodeGlobalId('Workspace', result.workspace.id), name: result.workspace.name },
        user: userJson(result.user),
        apiKey: result.apiKey,
      });
      return;
    }
    case 'user create': {
      const workspaceId = idArg(values.workspace, 'Workspace', 'workspace');
      if (!values.name || !values.email) throw new UsageError('--name and --email are required');
      const role = (values.role ?? 'USER').toUpperCase();
      if (role !== 'ADMIN' && role !== 'USER') throw new UsageError('--role must be ADMIN or USER');
      const user = await withDatabase(async () => {
        const workspace = await prisma.workspace.findUnique({ where: { id: workspaceId } });
        if (!workspace) throw new UsageError('no workspace with that id');
        return createUser(prisma, workspaceId, { name: values.name!, email: values.email!, role });
      });
      print({ user: userJson(user) });
      return;
    }
    case 'apikey create': {
      const userId = idArg(values.user, 'User', 'user');
      const { plaintext } = await withDatabase(async () => {
        const user = await prisma.user.findUnique({ where: { id: userId } });
        if (!user) throw new UsageError('no user with that id');
        return issueApiKey(prisma, { workspaceId: user.workspaceId, userId, name: values.name ?? 'CLI key' });
      });
      print({ apiKey: plaintext });
      return;
    }
    case 'seed': {
      if (values.demo) {
        const result = await withDatabase(() => seedDemo());
        print({ workspace: { id: encodeGlobalId('Workspace', result.workspace.id), name: 'Demo' }, apiKey: result.apiKey });
        return;
      }
      if (values.scale !== undefined) {
        const { seedScale } = await import('./seed-scale.js');
        const n = Number(values.scale || 50_000);
        if (!Number.isInteger(n) || n < 10) throw new UsageError('--scale takes a whole number of contacts (at least 10)');
        // Bulk statements (and VACUUM) may take longer than a request's statement timeout.
        await withDatabase(() => seedScale(n), { statementTimeout: 0 });
        return;
      }
      throw new UsageError('seed needs --demo or --scale N');
    }
    case 'schema print': {
      const { printedSchema } = await import('../graphql/index.js');
      const sdl = printedSchema();
      if (values.write) {
        const file = join(dirname(fileURLToPath(import.meta.url)), '../../schema/schema.graphql');
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, `${sdl}\n`);
        process.stderr.write(`Wrote ${file.split('/').slice(-2).join('/')}\n`);
      } else {
        process.stdout.write(`${sdl}\n`);
      }
      return;
    }
    case 'export records':
    case 'export associations': {
      const workspaceId = idArg(values.workspace, 'Workspace', 'workspace');
      const format = (values.format ?? 'csv').toLowerCase() as ExportFormat;
      if (!EXPORT_FORMATS.includes(format)) throw new UsageError('--format must be csv or ndjson');
      if (command === 'export records' && !values.object) throw new UsageError('--object is required');
      if (command === 'export records' && values.label) throw new UsageError('--label applies to export associations');
      // The reader went away (`relate export … | head`): there is nothing more to write, and that
      // is not a failure. (Without a listener the 'error' event would end the process with a stack.)
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(0);
        process.stderr.write(`relate: cannot write the export (${error.message})\n`);
        process.exit(1);
      });
      await withDatabase(() =>
        command === 'export records'
          ? exportRecords(process.stdout, { workspaceId, objectKey: values.object!, format })
          : exportAssociations(process.stdout, { workspaceId, labelKey: values.label, objectKey: values.object, format }),
      ).catch((error: unknown) => {
        if ((error as { code?: unknown } | null)?.code !== 'EPIPE') throw error;
      });
      return;
    }
    case 'import records':
    case 'import associations': {
      const file = positionals[2];
      if (!file || positionals.length > 3) throw new UsageError('import takes one FILE.csv');
      const onError = (values['on-error'] ?? 'abort').toLowerCase() as ImportErrorMode;
      if (!IMPORT_ERROR_MODES.includes(onError)) throw new UsageError('--on-error must be abort or skip');
      if (command === 'import records' && !values.object) throw new UsageError('--object is required');
      if (command === 'import associations' && values.object) throw new UsageError('--object applies to import records');
      const workspaceId = values['api-key'] && !values.workspace ? null : idArg(values.workspace, 'Workspace', 'workspace');
      const maxBytes = (() => {
        try {
          return importMaxBytes();
        } catch (error) {
          throw new CliError((error as Error).message);
        }
      })();
      const size = await stat(file).then(
        (stats) => (stats.isFile() ? stats.size : null),
        () => null,
      );
      if (size === null) throw new UsageError(`cannot read ${file}: no such file`);
      // Refused before a byte is read, and before the database is opened.
      if (size > maxBytes) throw tooLarge(maxBytes, size);
      return withDatabase(async () => {
        const viewer = await importViewer(workspaceId, values['api-key']);
        return runImport(command === 'import records' ? 'records' : 'associations', {
          viewer,
          source: () => createReadStream(file),
          totalBytes: size,
          maxBytes,
          dryRun: values['dry-run'] ?? false,
          onError,
          objectKey: values.object,
        });
      }, { statementTimeout: 0 });
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/**
 * Whose rights an import uses: the API key's user (`--api-key`, with that user's permissions), or
 * else the workspace's first admin, as the CLI's other commands act.
 */
async function importViewer(workspaceId: number | null, apiKey: string | undefined): Promise<Viewer> {
  if (apiKey) {
    const viewer = await authenticate(apiKey);
    if (!viewer) throw new CliError('the API key is unknown or revoked');
    if (workspaceId !== null && viewer.workspaceId !== workspaceId) throw new CliError('the API key belongs to another workspace');
    return viewer;
  }
  const admin = await prisma.user.findFirst({ where: { workspaceId: workspaceId!, role: 'ADMIN' }, orderBy: { id: 'asc' } });
  if (!admin) throw new NotFoundError('No workspace with that id.');
  return adminViewer(admin.workspaceId, admin.id);
}

/**
 * Runs an import and prints `{ "summary": …, "rejected": [ … ] }` on stdout. Rejected rows are
 * spooled to a temporary file as they come (one JSON line each), so memory stays flat however
 * many there are, and stdout gets one whole document only once the import ended: a file refused
 * half-way prints nothing there. A progress bar goes to stderr when it is a terminal.
 * Exit status: 0 when the rows were written (or a dry run found nothing wrong), 1 when rows were rejected.
 */
async function runImport(
  kind: 'records' | 'associations',
  options: Omit<ImportOptions, 'onRejected' | 'onProgress'> & { objectKey?: string },
): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'relate-rejected-'));
  const spoolFile = join(dir, 'rejected.ndjson');
  const spool = createWriteStream(spoolFile);
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'import [{bar}] {percentage}% | {value}/{total} bytes | {rows} rows, {rejected} rejected', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(options.totalBytes ?? 0, 0, { rows: 0, rejected: 0 });
  let summary: ImportSummary;
  try {
    const common: ImportOptions = {
      ...options,
      onProgress: (counts) => bar?.update(counts.bytesRead, { rows: counts.processedRows, rejected: counts.rejectedCount }),
      onRejected: async (error) => {
        if (!spool.write(`${JSON.stringify(error)}\n`)) await once(spool, 'drain');
      },
    };
    summary = kind === 'records' ? await importRecords({ ...common, objectKey: options.objectKey! }) : await importAssociations(common);
    bar?.update(options.totalBytes ?? 0);
  } catch (error) {
    spool.destroy();
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    bar?.stop();
  }
  try {
    spool.end();
    await once(spool, 'finish');
    const out = (text: string) => (process.stdout.write(text) ? undefined : once(process.stdout, 'drain'));
    const indented = JSON.stringify(summary, null, 2).replaceAll('\n', '\n  ');
    await out(`{\n  "summary": ${indented},\n  "rejected": [`);
    let first = true;
    for await (const line of createInterface({ input: createReadStream(spoolFile), crlfDelay: Infinity })) {
      await out(`${first ? '' : ','}\n    ${line}`);
      first = false;
    }
    await out(`${first ? '' : '\n  '}]\n}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return summary.rejectedCount > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code ?? 0),
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof DomainError) {
      process.stderr.write(`relate: ${error.message}\n${error instanceof UsageError ? `\n${USAGE}\n` : ''}`);
      process.exit(2);
    }
    if (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`relate: ${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    if (error instanceof CliError) {
      process.stderr.write(`relate: ${error.message}\n`);
      process.exit(1);
    }
    // The database missing, refusing connections or refusing the credentials: one line.
    const line = describeDatabaseError(error, process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
    if (line) {
      process.stderr.write(`relate: ${line}\n`);
      process.exit(1);
    }
    process.stderr.write(`relate: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
