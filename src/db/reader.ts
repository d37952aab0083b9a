import Database from 'better-sqlite3';
import pg from 'pg';
import type { Provider } from '../config.js';
import type { Prisma } from './client.js';
import { sqlitePath } from './migrate.js';
import { SQLITE_PRAGMAS } from './adapters.js';
import { recordStatement } from './statements.js';

/**
 * The hot read path: hand-written SQL (the association graph's batch queries, authentication)
 * run on the bare driver, not through Prisma's query engine, which would map every row and
 * column of a few-hundred-row page once more. Statements are written with Prisma.sql (the same
 * text for both databases, parameters bound) and counted like every other statement.
 *
 * SQLite: a second connection, which reads the last committed state (WAL) without waiting for
 * an open write transaction. PostgreSQL: a pool of its own.
 */
export interface Reader {
  rows<T = Record<string, unknown>>(query: Prisma.Sql): Promise<T[]>;
  close(): Promise<void>;
}

function sqliteReader(url: string): Reader {
  const db = new Database(sqlitePath(url));
  db.exec(SQLITE_PRAGMAS);
  const statements = new Map<string, Database.Statement>();
  return {
    async rows<T>(query: Prisma.Sql) {
      recordStatement();
      let statement = statements.get(query.sql);
      if (!statement) {
        statement = db.prepare(query.sql);
        if (statements.size > 500) statements.clear();
        statements.set(query.sql, statement);
      }
      return statement.all(...(query.values as unknown[])) as T[];
    },
    async close() {
      db.close();
    },
  };
}

/** timestamp(3) columns hold UTC without a zone: read them as UTC whatever the process's zone. */
const TIMESTAMP = 1114;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === TIMESTAMP ? (value: string) => new Date(`${value.replace(' ', 'T')}Z`) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

function postgresReader(url: string, poolSize: number): Reader {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types });
  return {
    async rows<T>(query: Prisma.Sql) {
      recordStatement();
      return (await pool.query({ text: query.text, values: query.values as unknown[] })).rows as T[];
    },
    close: () => pool.end(),
  };
}

export function openReader(provider: Provider, url: string, poolSize: number): Reader {
  return provider === 'sqlite' ? sqliteReader(url) : postgresReader(url, poolSize);
}
