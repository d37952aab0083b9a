import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate, sqlitePath } from '../src/db/migrate.js';
import { createTestDatabase, DB } from './helpers.js';
import { ROOT } from './support/process.js';

/** The SQL that creates prisma/models.prisma from nothing, for this provider. */
function schemaFromModels(): string {
  const provider = DB === 'sqlite' ? 'sqlite' : 'postgresql';
  return execFileSync(
    join(ROOT, 'node_modules/.bin/prisma'),
    ['migrate', 'diff', '--from-empty', '--to-schema-datamodel', `prisma/${provider}/schema.prisma`, '--script'],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: DB === 'sqlite' ? 'file:./unused.db' : process.env.TEST_DATABASE_URL! },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
}

/** Tables, columns (name, type, nullability, default) and indexes, in a comparable form. */
async function describeSchema(url: string): Promise<string[]> {
  if (DB === 'sqlite') {
    const db = new Database(sqlitePath(url), { readonly: true });
    try {
      const tables = db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'`)
        .all() as { name: string }[];
      return tables
        .flatMap(({ name }) => [
          ...(db.pragma(`table_info("${name}")`) as { name: string; type: string; notnull: number; dflt_value: string | null; pk: number }[]).map(
            (c) => `${name}.${c.name} ${c.type} ${c.notnull ? 'NOT NULL' : 'NULL'} ${c.dflt_value ?? ''} ${c.pk ? 'PK' : ''}`,
          ),
          ...(db.pragma(`index_list("${name}")`) as { name: string; unique: number }[]).map(
            (i) =>
              `${name} index ${i.unique ? 'unique ' : ''}(${(db.pragma(`index_info("${i.name}")`) as { name: string }[]).map((c) => c.name).join(', ')})`,
          ),
          ...(db.pragma(`foreign_key_list("${name}")`) as { table: string; from: string; to: string; on_delete: string }[]).map(
            (f) => `${name}.${f.from} -> ${f.table}.${f.to} ON DELETE ${f.on_delete}`,
          ),
        ])
        .sort();
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const columns = await client.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    const indexes = await client.query(`SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`);
    const keys = await client.query(
      `SELECT conrelid::regclass::text AS t, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'f'`,
    );
    return [
      ...columns.rows.map((c) => `${c.table_name}.${c.column_name} ${c.data_type} ${c.is_nullable} ${c.column_default ?? ''}`),
      ...indexes.rows.map((i) => `${i.tablename} ${i.indexdef}`),
      ...keys.rows.map((k) => `${k.t} ${k.def}`),
    ].sort();
  } finally {
    await client.end();
  }
}

async function applyScript(url: string, script: string) {
  if (DB === 'sqlite') {
    const db = new Database(sqlitePath(url));
    db.exec(script);
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(script);
  await client.end();
}

describe('migrations', () => {
  it('build exactly the schema that prisma/models.prisma describes', async () => {
    const migrated = await createTestDatabase();
    const fresh = await createTestDatabase();
    try {
      await migrate(migrated.url);
      await applyScript(fresh.url, schemaFromModels());
      expect(await describeSchema(migrated.url)).toEqual(await describeSchema(fresh.url));
    } finally {
      await migrated.drop();
      await fresh.drop();
    }
  }, 60_000);
});
