import { providerOf, type Provider } from '../config.js';
import { logger } from '../logger.js';
import { createPrismaClient, type Db } from './client.js';
import {
  DatabaseSetupError,
  DatabaseUnavailableError,
  DatabaseUrlError,
  databaseFailure,
  describeDatabaseError,
  describeTarget,
  type DatabaseFailure,
} from './errors.js';
import { migrate } from './migrate.js';
import { openReader, type Reader } from './reader.js';
import { CONNECT_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT } from './settings.js';
import { countStatements } from './statements.js';
import { Prisma } from './client.js';

export type { Db, Tx } from './client.js';
export { Prisma } from './client.js';

/**
 * The process's database. Set once by `openDatabase` or `startDatabase`; modules import `prisma`
 * (a live binding) rather than carrying the client through the GraphQL context.
 */
export let prisma: Db;
export let provider: Provider;
/** Bare-driver reads for the hot path (see reader.ts). */
export let reader: Reader;

export interface DatabaseOptions {
  /** Apply pending migrations first (default true); creates a missing PostgreSQL database. */
  migrate?: boolean;
  poolSize?: number;
  /** Milliseconds one PostgreSQL statement may run, on every connection (0: no limit). */
  statementTimeout?: number;
}

export { CONNECT_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT } from './settings.js';
/** Waits between background attempts to reach the database: 1 s, 2 s, 4 s, then every 5 s. */
const RETRY_DELAYS = [1_000, 2_000, 4_000, 5_000];
/** A request or readiness probe made while the database is away tries it at most this often. */
const PROBE_INTERVAL = 1_000;
/** …and waits at most this long for that attempt before answering 503. */
const PROBE_WAIT = 1_000;

/**
 * Availability. `openDatabase` (CLI, tests) fails when the database cannot be used; the server's
 * `startDatabase` does not: it keeps trying in the background while requests answer 503, and a
 * request that meets an unreachable database makes it check again, so service resumes by itself.
 */
type Status = 'closed' | 'starting' | 'ready' | 'unavailable';
let status: Status = 'closed';
let url = '';
let migratePending = false;
let attempt: Promise<boolean> | null = null;
let lastAttemptAt = 0;
let lastError: unknown = null;
let retries = 0;
let retryTimer: NodeJS.Timeout | undefined;
let readyCallbacks: (() => void | Promise<void>)[] = [];
/** Whether the failure of the first attempt is logged (another process may have said it). */
let reportStart = true;

function createClients(databaseUrl: string, options: DatabaseOptions) {
  url = databaseUrl;
  provider = providerOf(databaseUrl);
  const settings = {
    poolSize: options.poolSize ?? 10,
    statementTimeout: options.statementTimeout ?? DEFAULT_STATEMENT_TIMEOUT,
    connectTimeout: CONNECT_TIMEOUT,
  };
  prisma = createPrismaClient(databaseUrl, settings);
  reader = openReader(provider, databaseUrl, settings);
}

/** One cheap statement, counted for no request. */
function ping(): Promise<unknown> {
  return countStatements({ count: 0 }, () => reader.rows(Prisma.sql`SELECT 1`));
}

/** Migrates (once) and pings; the outcome moves the status. Never throws. */
function tryNow(): Promise<boolean> {
  if (attempt) return attempt;
  lastAttemptAt = Date.now();
  attempt = (async () => {
    try {
      if (migratePending) {
        await migrate(url);
        migratePending = false;
      }
      await ping();
      becomeReady();
      return true;
    } catch (error) {
      becomeUnavailable(error);
      return false;
    } finally {
      attempt = null;
    }
  })();
  return attempt;
}

function becomeReady() {
  if (status === 'closed') return;
  const was = status;
  status = 'ready';
  retries = 0;
  lastError = null;
  clearTimeout(retryTimer);
  retryTimer = undefined;
  if (was === 'unavailable') logger.info('database available', { database: describeTarget(url) });
  const callbacks = readyCallbacks;
  readyCallbacks = [];
  for (const callback of callbacks) {
    void Promise.resolve()
      .then(callback)
      .catch((error: unknown) => logger.error('failed after the database became available', { error: stackOf(error) }));
  }
}

/** What retrying can fix: the database away, or not creatable yet. */
const retryable = (error: unknown) => databaseFailure(error) !== null || error instanceof DatabaseSetupError;

function becomeUnavailable(error: unknown) {
  if (status === 'closed') return;
  const was = status;
  status = 'unavailable';
  lastError = error;
  // At start, what retrying cannot fix is the caller's to report (startDatabase throws it).
  if (was === 'starting' && (!retryable(error) || error instanceof DatabaseUrlError)) return;
  const reason = reasonOf(error);
  if (was === 'starting' && !reportStart) {
    logger.debug('database unavailable at start', { reason });
  } else if (was !== 'unavailable') {
    // One line per outage; the attempts that follow are debug.
    const expected = retryable(error);
    const fields = { database: describeTarget(url), reason, ...(expected ? {} : { error: stackOf(error) }) };
    if (expected) {
      logger.warn(
        was === 'starting'
          ? 'database unavailable at start: serving 503 until it is reachable (retrying in the background)'
          : 'database unavailable: serving 503 until it is reachable again (retrying in the background)',
        fields,
      );
    } else {
      logger.error('database check failed: serving 503, retrying in the background', fields);
    }
  } else {
    logger.debug('database still unavailable', { reason });
  }
  scheduleRetry();
}

function scheduleRetry() {
  if (retryTimer || status === 'closed') return;
  const delay = RETRY_DELAYS[Math.min(retries, RETRY_DELAYS.length - 1)]!;
  retries += 1;
  retryTimer = setTimeout(() => {
    retryTimer = undefined;
    void tryNow();
  }, delay);
  // Shutting down never waits for the next attempt.
  retryTimer.unref();
}

function reasonOf(error: unknown): string {
  return describeDatabaseError(error, url) ?? (error instanceof Error ? error.message.split('\n').filter(Boolean).pop()! : String(error));
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** An attempt now unless one ran within PROBE_INTERVAL; waits at most PROBE_WAIT for it. */
async function probe(): Promise<boolean> {
  if (!attempt && Date.now() - lastAttemptAt < PROBE_INTERVAL) return false;
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), PROBE_WAIT)));
  try {
    return await Promise.race([tryNow(), waited]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens the database and fails if it cannot be used (the CLI, tests): migrates unless told not
 * to (creating a missing PostgreSQL database), then runs one statement.
 */
export async function openDatabase(databaseUrl: string, options: DatabaseOptions = {}) {
  createClients(databaseUrl, options);
  status = 'starting';
  try {
    if (options.migrate ?? true) await migrate(databaseUrl);
    await ping();
  } catch (error) {
    await closeDatabase();
    throw error;
  }
  status = 'ready';
  return prisma;
}

/**
 * Opens the database for a server, which must start whether or not the database is there. Makes
 * one attempt (migrate unless told not to, then one statement) and resolves with its outcome;
 * after a failure it logs one line and keeps trying in the background (1 s, 2 s, 4 s, then every
 * 5 s, and whenever a request or /ready asks). Throws only for what retrying cannot fix: a
 * DATABASE_URL that names no database, or an unexpected error (a broken migration).
 */
export async function startDatabase(
  databaseUrl: string,
  options: DatabaseOptions & { reportStart?: boolean } = {},
): Promise<boolean> {
  createClients(databaseUrl, options);
  status = 'starting';
  reportStart = options.reportStart ?? true;
  migratePending = options.migrate ?? true;
  if (await tryNow()) return true;
  const error = lastError;
  if (error instanceof DatabaseUrlError || !retryable(error)) {
    await closeDatabase();
    throw error;
  }
  return false;
}

/**
 * The URL the database was opened with ('' before): for a connection of its own, such as the
 * change feed's LISTEN (feed/bus.ts), which must not hold one of the pools' connections forever.
 */
export function databaseUrl(): string {
  return url;
}

/** Runs `callback` once the database is usable (at once if it is). */
export function whenDatabaseReady(callback: () => void | Promise<void>): void {
  if (status === 'ready') void Promise.resolve().then(callback);
  else readyCallbacks.push(callback);
}

/**
 * For each request before it touches the database: passes when it is usable, or tries it once
 * more (at most every second); throws DatabaseUnavailableError (→ 503) otherwise.
 */
export async function requireDatabase(): Promise<void> {
  if (status === 'ready') return;
  if (status !== 'closed' && (await probe())) return;
  throw new DatabaseUnavailableError(
    status === 'closed' ? 'The database is closed.' : 'The database is not available. Retry later.',
  );
}

/** /ready: the database answers a statement now. */
export async function databaseReady(): Promise<boolean> {
  if (status === 'closed') return false;
  if (status !== 'ready') return probe();
  try {
    await ping();
    return true;
  } catch (error) {
    reportDatabaseError(error);
    return false;
  }
}

/**
 * Classifies an error a request met (see errors.ts). When the database seems gone, checks it
 * right away: requests are answered 503 without trying it until it is back.
 */
export function reportDatabaseError(error: unknown): DatabaseFailure | null {
  const failure = databaseFailure(error);
  if (failure === 'unavailable' && status === 'ready' && !attempt && Date.now() - lastAttemptAt >= PROBE_INTERVAL) {
    void tryNow();
  }
  return failure;
}

export async function closeDatabase(): Promise<void> {
  status = 'closed';
  clearTimeout(retryTimer);
  retryTimer = undefined;
  readyCallbacks = [];
  await attempt;
  await prisma?.$disconnect().catch(() => undefined);
  await reader?.close().catch(() => undefined);
}
