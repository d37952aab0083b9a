import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_DATABASE_URL, loadConfig } from '../config.js';
import { closeDatabase, openDatabase, prisma } from '../db/index.js';
import { describeDatabaseError, describeTarget } from '../db/errors.js';
import { migrate } from '../db/migrate.js';
import { issueApiKey } from '../services/api-keys.js';
import { seedDemo } from '../services/demo.js';
import { DomainError } from '../services/errors.js';
import { EXPORT_FORMATS, exportAssociations, exportRecords, type ExportFormat } from '../services/export.js';
import { decodeGlobalId, encodeGlobalId, parseRowId, type NodeType } from '../services/ids.js';
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

export async function main(argv: string[]): Promise<void> {
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
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals.join(' ');
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
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
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
