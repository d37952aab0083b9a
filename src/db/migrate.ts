import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { providerOf, type Provider } from '../config.js';

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
}

export async function migrate(url: string): Promise<MigrateResult> {
  return providerOf(url) === 'sqlite' ? migrateSqlite(url) : migratePostgres(url);
}

export function sqlitePath(url: string): string {
  return url.replace(/^file:/, '').split('?')[0]!;
}

function migrateSqlite(url: string): MigrateResult {
  const path = sqlitePath(url);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
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

async function migratePostgres(url: string): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
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
    return { applied };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
