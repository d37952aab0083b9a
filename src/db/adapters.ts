import { AsyncLocalStorage } from 'node:async_hooks';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import {
  DriverAdapterError,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlDriverAdapterFactory,
  type SqlQuery,
  type Transaction,
} from '@prisma/driver-adapter-utils';
import { logger } from '../logger.js';
import type { PoolSettings } from './client.js';
import { pgPoolStats, registerPool } from './pools.js';
import { forgetLargeArgs } from './debug-history.js';
import { recordStatement, traceStatement, type DbSystem } from './statements.js';

/**
 * Thrown when the write connection is not free within the wait limit: the same error as the
 * driver's for SQLite's write lock held by another process (SQLITE_BUSY), so it is answered the
 * same way (503 SERVICE_UNAVAILABLE with Retry-After).
 */
const lockTimeout = () =>
  new DriverAdapterError({
    kind: 'SocketTimeout',
    originalCode: 'SQLITE_BUSY',
    originalMessage: 'the database is busy: a write transaction held the connection longer than the wait limit',
  });

/** A FIFO lock: each holder waits for every earlier one to release it. */
class Lock {
  #tail: Promise<void> = Promise.resolve();
  /** Callers waiting for the lock, and whether it is held (read by the pool metrics). */
  waiting = 0;
  held = false;

  /**
   * Resolves with the release once every earlier holder has released it; rejects with
   * lockTimeout() if that has not happened by `deadline` (epoch ms). A caller that gave up keeps
   * its place in the queue and passes the lock on as soon as its turn comes.
   */
  acquire(deadline = Infinity): Promise<() => void> {
    this.waiting += 1;
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    let abandoned = false;
    let timer: NodeJS.Timeout | undefined;
    const ready = this.#tail.then(() => {
      clearTimeout(timer);
      if (abandoned) {
        release();
        return undefined;
      }
      this.waiting -= 1;
      this.held = true;
      return () => {
        this.held = false;
        release();
      };
    });
    this.#tail = this.#tail.then(() => next);
    if (deadline === Infinity) return ready as Promise<() => void>;
    return new Promise((resolve, reject) => {
      timer = setTimeout(() => {
        abandoned = true;
        this.waiting -= 1;
        reject(lockTimeout());
      }, Math.max(0, deadline - Date.now()));
      ready.then((granted) => granted && resolve(granted));
    });
  }
}

const statement = (sql: string): SqlQuery => ({ sql, args: [], argTypes: [] });

/**
 * The driver transaction under a Prisma interactive transaction, for statements that carry a
 * batch (an import's thousand rows as one JSON text or a few arrays). Run through the client,
 * each such statement is serialised to JSON with all its values, compiled by the query compiler
 * (WebAssembly) into a plan that holds them again, interpreted, and its rows mapped back: most of
 * the client's cost of an import, and most of the garbage its heap grows by. Sent to the driver
 * transaction, the same statement runs in the same transaction on the same connection, counted
 * and traced like every other statement (countingTransaction).
 *
 * `withDriverTransaction(begin)` notes the first transaction the adapter starts inside `begin`;
 * `bind(client)`, called by `begin` with the transaction's client before its first statement,
 * ties the two together; `driverTransactionOf(client)` finds it again. A client that was never
 * bound has none, and its statements go through Prisma.
 */
const starting = new AsyncLocalStorage<{ tx?: Transaction }>();
const driverTransactions = new WeakMap<object, Transaction>();

export function withDriverTransaction<T>(begin: (bind: (client: object) => void) => Promise<T>): Promise<T> {
  const slot: { tx?: Transaction } = {};
  return starting.run(slot, () =>
    begin((client) => {
      if (slot.tx) driverTransactions.set(client, slot.tx);
    }),
  );
}

export function driverTransactionOf(client: object): Transaction | undefined {
  return driverTransactions.get(client);
}

/** Notes `tx` as the transaction started inside withDriverTransaction, if it is the first. */
function started(tx: Transaction): Transaction {
  const slot = starting.getStore();
  if (slot && !slot.tx) slot.tx = tx;
  return tx;
}

const isBusy = (error: unknown) =>
  (error as { cause?: { originalCode?: string } } | undefined)?.cause?.originalCode?.startsWith('SQLITE_BUSY') ?? false;

/**
 * Retries a statement while another process holds SQLite's write lock, waiting between tries
 * without blocking the event loop, until `deadline` (epoch ms). SQLite's own busy timeout would
 * sleep inside the synchronous driver and stall every other request of the process meanwhile,
 * so the write connection has none (busy_timeout = 0).
 */
async function whileBusy<T>(fn: () => Promise<T>, deadline: number): Promise<T> {
  for (let wait = 1; ; wait = Math.min(wait * 2, 25)) {
    try {
      return await fn();
    } catch (error) {
      if (!isBusy(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait * (0.5 + Math.random())));
    }
  }
}

/**
 * Wraps a connected adapter so that every statement is counted for the current request (and
 * traced, when a trace is recorded). With `serialize` (SQLite: one connection), it also makes transactions exclusive:
 *
 * - the stock better-sqlite3 adapter runs statements from outside a transaction on the same
 *   connection while a transaction is open, so they would join it (and vanish on rollback);
 *   here every statement waits until the open transaction ends;
 * - transactions begin with `BEGIN IMMEDIATE`, taking SQLite's write lock up front, so two
 *   processes on one file serialize instead of failing at their first write.
 *
 * Serialized write transactions are what make limit checks safe on SQLite: a check and the
 * write it guards can never interleave with another request's.
 */
class CountingAdapter implements SqlDriverAdapter {
  readonly provider: SqlDriverAdapter['provider'];
  readonly adapterName: string;
  readonly #inner: SqlDriverAdapter;
  readonly #lock: Lock | undefined;
  readonly #system: DbSystem;
  readonly #unregister: () => void;
  /** Milliseconds a statement or transaction waits for the connection and SQLite's write lock, together. */
  readonly #wait: number;

  constructor(inner: SqlDriverAdapter, serialize: boolean, wait: number) {
    this.#inner = inner;
    this.#wait = wait;
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
    this.#system = inner.provider === 'postgres' ? 'postgresql' : 'sqlite';
    const lock = serialize ? new Lock() : undefined;
    this.#lock = lock;
    const pool = (inner as { underlyingDriver?: () => unknown }).underlyingDriver?.();
    this.#unregister = lock
      ? registerPool('prisma', () => ({ max: 1, inUse: lock.held ? 1 : 0, idle: lock.held ? 0 : 1, waiting: lock.waiting }))
      : pool instanceof pg.Pool
        ? registerPool('prisma', () => pgPoolStats(pool, pool.options.max ?? 10))
        : () => undefined;
  }

  #outside<T>(sql: string, fn: () => Promise<T>, args: readonly unknown[] = []): Promise<T> {
    recordStatement();
    return traceStatement(this.#system, sql, () => this.#serialized(fn).finally(() => forgetLargeArgs(args)));
  }

  async #serialized<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#lock) return fn();
    const deadline = Date.now() + this.#wait;
    const release = await this.#lock.acquire(deadline);
    try {
      return await whileBusy(fn, deadline);
    } finally {
      release();
    }
  }

  queryRaw(query: SqlQuery) {
    return this.#outside(query.sql, () => this.#inner.queryRaw(query), query.args);
  }

  executeRaw(query: SqlQuery) {
    return this.#outside(query.sql, () => this.#inner.executeRaw(query), query.args);
  }

  executeScript(script: string) {
    return this.#outside(script, () => this.#inner.executeScript(script));
  }

  getConnectionInfo() {
    return this.#inner.getConnectionInfo?.() ?? { supportsRelationJoins: false };
  }

  dispose() {
    this.#unregister();
    return this.#inner.dispose();
  }

  async startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    if (!this.#lock) return started(countingTransaction(await this.#inner.startTransaction(isolationLevel), this.#system));
    const deadline = Date.now() + this.#wait;
    const release = await this.#lock.acquire(deadline);
    try {
      await whileBusy(() => this.#inner.executeRaw(statement('BEGIN IMMEDIATE')), deadline);
    } catch (error) {
      release();
      throw error;
    }
    const inner = this.#inner;
    let open = true;
    const end = () => {
      if (open) release();
      open = false;
      return Promise.resolve();
    };
    // The engine sends COMMIT/ROLLBACK itself (usePhantomQuery: false); commit()/rollback() only
    // hand the connection to the next waiter.
    const tx: Transaction = {
      provider: inner.provider,
      adapterName: inner.adapterName,
      options: { usePhantomQuery: false },
      queryRaw: (query) => inner.queryRaw(query),
      executeRaw: (query) => inner.executeRaw(query),
      commit: end,
      rollback: end,
    };
    return started(countingTransaction(tx, this.#system));
  }
}

/** A transaction whose statements are counted (and traced). */
function countingTransaction(tx: Transaction, system: DbSystem): Transaction {
  return {
    provider: tx.provider,
    adapterName: tx.adapterName,
    options: tx.options,
    queryRaw: (query) => (recordStatement(), traceStatement(system, query.sql, () => tx.queryRaw(query).finally(() => forgetLargeArgs(query.args)))),
    executeRaw: (query) => (recordStatement(), traceStatement(system, query.sql, () => tx.executeRaw(query).finally(() => forgetLargeArgs(query.args)))),
    commit: () => tx.commit(),
    rollback: () => tx.rollback(),
  };
}

function wrapFactory(inner: SqlDriverAdapterFactory, serialize: boolean, wait: number, init?: string): SqlDriverAdapterFactory {
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    async connect() {
      const adapter = await inner.connect();
      if (init) await adapter.executeScript(init);
      return new CountingAdapter(adapter, serialize, wait);
    },
  };
}

export const SQLITE_PRAGMAS = [
  'PRAGMA journal_mode = WAL',
  'PRAGMA synchronous = NORMAL',
  'PRAGMA busy_timeout = 10000',
  'PRAGMA foreign_keys = ON',
  // The usage-tally triggers' transition rows: in memory rather than a temporary file per write
  // statement (about 25 times faster when many associations are removed one by one).
  'PRAGMA temp_store = MEMORY',
  // A 16 MB page cache (the default is 2 MB), allocated as pages are read. A large write
  // transaction (an import: associations, their tallies and events, each with its indexes) reads
  // and rewrites pages all over those tables; with 2 MB most of them were read back from the
  // write-ahead log for every statement, and the association INSERTs of a 100,000-row import took
  // twice as long (the same INSERTs alone, or the bench's baseline, barely change).
  'PRAGMA cache_size = -16384',
].join(';\n');

/**
 * `wait`: milliseconds a statement or transaction waits for the write connection (behind this
 * process's open transaction and those queued before it) and for SQLite's write lock (held by
 * another process), in all; then it fails as SQLITE_BUSY. The server passes
 * RELATE_STATEMENT_TIMEOUT.
 */
export function sqliteAdapter(url: string, wait: number): SqlDriverAdapterFactory {
  // No busy timeout on the write connection: whileBusy waits instead, off the event loop.
  return wrapFactory(new PrismaBetterSQLite3({ url }), true, wait, `${SQLITE_PRAGMAS};\nPRAGMA busy_timeout = 0`);
}

export function postgresAdapter(url: string, settings: PoolSettings): SqlDriverAdapterFactory {
  const pool = {
    connectionString: url,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeout,
    // Sent with each new connection: no statement of this pool runs longer.
    ...(settings.statementTimeout > 0 ? { statement_timeout: settings.statementTimeout } : {}),
  };
  // An idle connection the server closes is replaced on the next query; the outage, if it is
  // one, is reported once by the database module.
  return wrapFactory(
    new PrismaPg(pool, { onPoolError: (error) => logger.debug('idle PostgreSQL connection lost', { error: error.message }) }),
    false,
    Infinity,
  );
}
