import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { providerOf, type Provider } from '../config.js';
import { checkPostgresUrl, DatabaseSetupError, describeDatabaseError, describeTarget } from './errors.js';
import { CONNECT_TIMEOUT } from './settings.js';

/**
 * Applies prisma/migrations/<provider>/<name>/migration.sql in name order and records each in
 * Prisma's `_prisma_migrations` table, so the Prisma CLI agrees on machines where it can run.
 * (Prisma's own schema engine cannot drive PostgreSQL through a driver adapter in 6.x.)
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function migrationsFor(provider: Provider): Migration[] {
  const folder = join(root, 'prisma/migrations', provider);
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(folder, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

export interface MigrateResult {
  applied: string[];
  /** A missing PostgreSQL database was created first. */
  createdDatabase?: boolean;
}

export async function migrate(url: string): Promise<MigrateResult> {
  return providerOf(url) === 'sqlite' ? migrateSqlite(url) : migratePostgres(url);
}

export function sqlitePath(url: string): string {
  return url.replace(/^file:/, '').split('?')[0]!;
}

function migrateSqlite(url: string): MigrateResult {
  const path = sqlitePath(url);
  let db: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatabaseSetupError(`cannot create or open the SQLite database ${path} (${reason})`, { cause: error });
  }
  try {
    db.pragma('busy_timeout = 10000');
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" TEXT PRIMARY KEY NOT NULL,
      "checksum" TEXT NOT NULL,
      "finished_at" DATETIME,
      "migration_name" TEXT NOT NULL,
      "logs" TEXT,
      "rolled_back_at" DATETIME,
      "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
      "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
    )`);
    const applied: string[] = [];
    const apply = db.transaction((migration: Migration) => {
      const done = db
        .prepare(`SELECT 1 FROM "_prisma_migrations" WHERE "migration_name" = ? AND "finished_at" IS NOT NULL`)
        .get(migration.name);
      if (done) return;
      db.exec(migration.sql);
      db.prepare(
        `INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "applied_steps_count")
         VALUES (?, ?, current_timestamp, ?, 1)`,
      ).run(randomUUID(), migration.checksum, migration.name);
      applied.push(migration.name);
    });
    // IMMEDIATE: two processes starting on one new file take turns instead of both migrating.
    for (const migration of migrationsFor('sqlite')) apply.immediate(migration);
    return { applied };
  } finally {
    db.close();
  }
}

const connectionCode = (error: unknown) => (error as { code?: unknown } | null)?.code;

async function connectPostgres(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

const quoteIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Creates the database a PostgreSQL URL names, through the server's maintenance database
 * (`postgres`, or `template1` where there is none) and the same role. Fails with one line when
 * the role may not create databases. False: another process created it meanwhile.
 */
async function createDatabase(url: string): Promise<boolean> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const target = describeTarget(url);
  let admin: pg.Client | undefined;
  let lastError: unknown;
  let adminUrl = url;
  for (const maintenance of ['postgres', 'template1']) {
    const next = new URL(url);
    next.pathname = `/${maintenance}`;
    adminUrl = next.toString();
    try {
      admin = await connectPostgres(adminUrl);
      break;
    } catch (error) {
      lastError = error;
      if (connectionCode(error) !== '3D000') break;
    }
  }
  if (!admin) {
    const reason = describeDatabaseError(lastError, adminUrl) ?? (lastError instanceof Error ? lastError.message : String(lastError));
    throw new DatabaseSetupError(`the database ${target} does not exist and could not be created (${reason})`, { cause: lastError });
  }
  try {
    await admin.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
    return true;
  } catch (error) {
    const code = connectionCode(error);
    // Created meanwhile by another process starting on the same URL.
    if (code === '42P04' || code === '23505') return false;
    const reason =
      code === '42501' ? 'the role in DATABASE_URL may not create databases' : error instanceof Error ? error.message : String(error);
    throw new DatabaseSetupError(`the database ${target} does not exist and could not be created: ${reason}`, { cause: error });
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function migratePostgres(url: string): Promise<MigrateResult> {
  checkPostgresUrl(url);
  let client: pg.Client;
  let createdDatabase = false;
  try {
    client = await connectPostgres(url);
  } catch (error) {
    if (connectionCode(error) !== '3D000') throw error;
    createdDatabase = await createDatabase(url);
    client = await connectPostgres(url);
  }
  try {
    await client.query('BEGIN');
    // One migrator at a time per database, whatever number of processes start together.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('relate:migrate'))`);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const { rows } = await client.query<{ migration_name: string }>(
      `SELECT "migration_name" FROM "_prisma_migrations" WHERE "finished_at" IS NOT NULL`,
    );
    const done = new Set(rows.map((row) => row.migration_name));
    const applied: string[] = [];
    for (const migration of migrationsFor('postgresql')) {
      if (done.has(migration.name)) continue;
      await client.query(migration.sql);
      await client.query(
        `INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "applied_steps_count")
         VALUES ($1, $2, now(), $3, 1)`,
        [randomUUID(), migration.checksum, migration.name],
      );
      applied.push(migration.name);
    }
    await client.query('COMMIT');
    return { applied, ...(createdDatabase ? { createdDatabase } : {}) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
