import Database from 'better-sqlite3';
import pg from 'pg';
import type { Provider } from '../config.js';
import { createHash } from 'node:crypto';
import type { ArgType, Transaction } from '@prisma/driver-adapter-utils';
import { Prisma, type PoolSettings, type Tx } from './client.js';
import { sqlitePath } from './migrate.js';
import { driverTransactionOf, SQLITE_PRAGMAS } from './adapters.js';
import { logger } from '../logger.js';
import { registerPool, pgPoolStats } from './pools.js';
import { recordStatement, traceStatement } from './statements.js';

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
  // Opened on first use: a server starts before its database file can be created.
  let db: Database.Database | undefined;
  const open = () => {
    if (!db) {
      const opened = new Database(sqlitePath(url));
      opened.exec(SQLITE_PRAGMAS);
      db = opened;
    }
    return db;
  };
  const statements = new Map<string, Database.Statement>();
  // One synchronous connection: never seen busy from another request.
  const unregister = registerPool('reader', () => ({ max: 1, inUse: 0, idle: db ? 1 : 0, waiting: 0 }));
  const run = async <T>(query: Prisma.Sql) => {
    const db = open();
    let statement = statements.get(query.sql);
    if (!statement) {
      statement = db.prepare(query.sql);
      if (statements.size > 500) statements.clear();
      statements.set(query.sql, statement);
    }
    return statement.all(...(query.values as unknown[])) as T[];
  };
  return {
    rows<T>(query: Prisma.Sql) {
      recordStatement();
      return traceStatement('sqlite', query.sql, () => run<T>(query));
    },
    async close() {
      unregister();
      db?.close();
    },
  };
}

/**
 * Timestamps stay text as the driver reads them (timestamp(3) on PostgreSQL, ISO or
 * `YYYY-MM-DD HH:MM:SS` text on SQLite, all UTC) and become Dates only when a resolver asks:
 * a page of related records carries two per row and rarely shows them.
 */
export function timestamp(value: unknown): Date {
  if (value instanceof Date) return value;
  const text = String(value).replace(' ', 'T');
  // PostgreSQL's text form of timestamp(3) carries no zone: it is UTC.
  return new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`);
}

const TIMESTAMP = 1114;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === TIMESTAMP ? (value: string) => value : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * A list of integers (the id lists of inIds and idTable) as PostgreSQL's array text, `{1,2,3}`,
 * which the statement casts: given the array, node-postgres would write that text itself,
 * turning, quoting and escaping each element in turn, for each list of each statement (a path
 * search's hop binds each frontier several times). Any other value is bound as it is.
 */
function arrayText(value: unknown): unknown {
  return Array.isArray(value) && value.every((item) => Number.isSafeInteger(item)) ? `{${value.join(',')}}` : value;
}

function postgresReader(url: string, settings: PoolSettings): Reader {
  // Generic plans: the statements are few and index-driven, with every list bound as one array,
  // so a plan made once per connection fits every execution. Left to choose, PostgreSQL kept
  // re-planning the association page statement on every execution (0.8 ms of bind each time).
  const pool = new pg.Pool({
    connectionString: url,
    max: settings.poolSize,
    types,
    options: '-c plan_cache_mode=force_generic_plan',
    connectionTimeoutMillis: settings.connectTimeout,
    // Sent with each new connection, like the Prisma pool's: no read runs longer.
    ...(settings.statementTimeout > 0 ? { statement_timeout: settings.statementTimeout } : {}),
  });
  // An idle connection the server closes (a restart, an administrator) must not take the
  // process down: the pool replaces it on the next query. An outage is reported once by the
  // database module, not per connection.
  pool.on('error', (error) => logger.debug('idle PostgreSQL connection lost', { error: error.message }));
  // Named statements: each connection parses and plans a statement text once. The texts do not
  // depend on how many ids a batch has (see idList), so there are few of them.
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (!name) {
      name = `relate_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      if (names.size > 1000) names.clear();
      names.set(text, name);
    }
    return name;
  };
  const unregister = registerPool('reader', () => pgPoolStats(pool, settings.poolSize));
  const run = async <T>(query: Prisma.Sql) =>
    (await pool.query({ name: nameOf(query.text), text: query.text, values: (query.values as unknown[]).map(arrayText) })).rows as T[];
  return {
    rows<T>(query: Prisma.Sql) {
      recordStatement();
      return traceStatement('postgresql', query.text, () => run<T>(query));
    },
    close: () => {
      unregister();
      return pool.end();
    },
  };
}

/**
 * A list of ids as ONE bound parameter, so a statement's text is the same for 5 ids or 500:
 * `= ANY($n::int[])` on PostgreSQL, `IN (SELECT value FROM json_each(?))` on SQLite.
 */
export function inIds(provider: Provider, column: Prisma.Sql, ids: readonly number[]): Prisma.Sql {
  return provider === 'postgresql'
    ? Prisma.sql`${column} = ANY(${[...ids]}::int[])`
    : Prisma.sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;
}

/** A list of texts as ONE bound parameter, as `inIds` does for ids. */
export function inTexts(provider: Provider, column: Prisma.Sql, values: readonly string[]): Prisma.Sql {
  return provider === 'postgresql'
    ? Prisma.sql`${column} = ANY(${[...values]}::text[])`
    : Prisma.sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

/** The same list as a one-column table `alias(value)`, to join against. */
export function idTable(provider: Provider, ids: readonly number[], alias: string): Prisma.Sql {
  const name = Prisma.raw(alias);
  return provider === 'postgresql'
    ? Prisma.sql`unnest(${[...ids]}::int[]) AS ${name}(value)`
    : Prisma.sql`json_each(${JSON.stringify(ids)}) ${name}`;
}

export function openReader(provider: Provider, url: string, settings: PoolSettings): Reader {
  return provider === 'sqlite' ? sqliteReader(url) : postgresReader(url, settings);
}

/** How a bound value is typed for the driver adapters (they convert dates, and lists element by element). */
function argType(value: unknown): ArgType {
  if (Array.isArray(value)) return { ...argType(value.find((item) => item !== null && item !== undefined)), arity: 'list' };
  switch (typeof value) {
    case 'number':
      return { scalarType: Number.isInteger(value) ? 'int' : 'float', arity: 'scalar' };
    case 'bigint':
      return { scalarType: 'bigint', arity: 'scalar' };
    case 'boolean':
      return { scalarType: 'boolean', arity: 'scalar' };
    case 'string':
      return { scalarType: 'string', arity: 'scalar' };
    default:
      return { scalarType: value instanceof Date ? 'datetime' : 'unknown', arity: 'scalar' };
  }
}

/** Runs `query` on a driver transaction: its rows as objects by column name, values as the driver adapter gives them. */
async function driverRows<T>(tx: Transaction, query: Prisma.Sql): Promise<T[]> {
  // Integer lists as array text on PostgreSQL, as the reader binds them (arrayText): an import's
  // batch statements bind several lists of 1,000 ids each.
  const values = tx.provider === 'postgres' ? (query.values as unknown[]).map(arrayText) : (query.values as unknown[]);
  const { columnNames, rows } = await tx.queryRaw({
    sql: tx.provider === 'postgres' ? query.text : query.sql,
    args: values,
    argTypes: values.map(argType),
  });
  return rows.map((row) => {
    const object: Record<string, unknown> = {};
    for (const [i, name] of columnNames.entries()) object[name] = row[i];
    return object as T;
  });
}

/**
 * The rows of a statement in `tx`: sent to its driver transaction when it has one (an import's,
 * see withDriverTransaction in adapters.ts), else through Prisma. Either way the values are read
 * with Number/String/timestamp: the driver gives SQLite's integers as text.
 */
export function txRows<T = Record<string, unknown>>(tx: Tx, query: Prisma.Sql): Promise<T[]> {
  const driver = driverTransactionOf(tx);
  return driver ? driverRows<T>(driver, query) : tx.$queryRaw<T[]>(query);
}
