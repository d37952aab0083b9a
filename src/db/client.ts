import { providerOf } from '../config.js';
import { postgresAdapter, sqliteAdapter } from './adapters.js';
import { DEFAULT_STATEMENT_TIMEOUT } from './settings.js';
import { PrismaClient as PostgresClient } from './generated/postgresql/client.js';
import { Prisma, PrismaClient } from './generated/sqlite/client.js';

export { Prisma };
/**
 * Both generated clients have the same API (they come from one model source), so the code is
 * typed against the SQLite client and either one is used at runtime.
 */
export type Db = PrismaClient;
export type Tx = Prisma.TransactionClient;

const transactionOptions = { maxWait: 30_000, timeout: 30_000 };

export interface PoolSettings {
  poolSize: number;
  /** Milliseconds one statement may run on a PostgreSQL connection (0: no limit). */
  statementTimeout: number;
  /** Milliseconds to establish a PostgreSQL connection. */
  connectTimeout: number;
}

export function createPrismaClient(url: string, settings: PoolSettings): Db {
  if (providerOf(url) === 'sqlite') {
    // SQLite's waits for the write connection and lock end at the statement timeout too (10 s when it is off).
    const wait = settings.statementTimeout > 0 ? settings.statementTimeout : DEFAULT_STATEMENT_TIMEOUT;
    return new PrismaClient({ adapter: sqliteAdapter(url, wait), transactionOptions });
  }
  const client = new PostgresClient({ adapter: postgresAdapter(url, settings), transactionOptions });
  return client as unknown as Db;
}
