import { GraphQLError } from 'graphql';

/**
 * What a failed statement says about the database, as opposed to the request:
 *
 * - `unavailable`: the database cannot be reached or used right now (connection refused, reset or
 *   terminated, the server shutting down or starting up, too many connections, the database or
 *   its file missing or unwritable). The request is answered 503 and can be retried as it was.
 * - `timeout`: a statement ran longer than the statement timeout, or waited that long for a lock
 *   (SQLite: for the write lock). Also 503: the database is overloaded, not the request wrong.
 *
 * Everything else (null) is the request's own failure or a bug, and handled as before.
 */
export type DatabaseFailure = 'unavailable' | 'timeout';

/** Seconds a client is asked to wait (`Retry-After`) before retrying a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** Thrown while the database is not (yet) usable, instead of trying a statement. */
export class DatabaseUnavailableError extends Error {
  constructor(message = 'The database is not available.') {
    super(message);
    this.name = 'DatabaseUnavailableError';
  }
}

/** A DATABASE_URL that cannot name a database; the message never repeats the URL (passwords). */
export class DatabaseUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUrlError';
  }
}

/**
 * The database could not be prepared (a missing PostgreSQL database that may not be created);
 * the message is one line, fit for an operator. Retrying may help once someone has acted.
 */
export class DatabaseSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseSetupError';
  }
}

/** Prisma's codes: P1000 authentication, P1001 unreachable, P1003 no database, P1017 closed, … */
const PRISMA_CODES: Record<string, DatabaseFailure> = {
  P1000: 'unavailable',
  P1001: 'unavailable',
  P1002: 'unavailable',
  P1003: 'unavailable',
  P1010: 'unavailable',
  P1011: 'unavailable',
  P1017: 'unavailable',
  P2024: 'unavailable',
  P2037: 'unavailable',
  // SocketTimeout; the SQLite adapter reports SQLITE_BUSY (write lock not obtained) as this.
  P1008: 'timeout',
  // A transaction not started within its maxWait (the connection held by other transactions).
  P2028: 'timeout',
};

/** The driver adapters' error kinds (meta.driverAdapterError.cause.kind). */
const ADAPTER_KINDS: Record<string, DatabaseFailure> = {
  DatabaseNotReachable: 'unavailable',
  ConnectionClosed: 'unavailable',
  DatabaseDoesNotExist: 'unavailable',
  DatabaseAccessDenied: 'unavailable',
  AuthenticationFailed: 'unavailable',
  TlsConnectionError: 'unavailable',
  TooManyConnections: 'unavailable',
  SocketTimeout: 'timeout',
};

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** PostgreSQL SQLSTATEs (and SQLite result codes) that are about the server, not the statement. */
function codeFailure(code: string): DatabaseFailure | null {
  if (SOCKET_CODES.has(code)) return 'unavailable';
  if (code in PRISMA_CODES) return PRISMA_CODES[code]!;
  // 08xxx connection exception; 53xxx insufficient resources (disk full, out of memory, too many
  // connections); 57P01-57P03 admin/crash shutdown, cannot connect now; 3D000 no such database;
  // 28xxx invalid authorization.
  if (/^(08|53)[0-9A-Z]{3}$/.test(code) || /^57P0[1-3]$/.test(code) || code === '3D000' || /^28(000|P01)$/.test(code)) {
    return 'unavailable';
  }
  // 57014 statement timeout (or cancel); 55P03 lock timeout.
  if (code === '57014' || code === '55P03') return 'timeout';
  if (code.startsWith('SQLITE_BUSY')) return 'timeout';
  if (/^SQLITE_(CANTOPEN|IOERR|FULL|READONLY|NOTADB|CORRUPT)/.test(code)) return 'unavailable';
  return null;
}

/** Errors the pg driver raises without a code when its connection is gone. */
const LOST_CONNECTION =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Can't reach database server|Server has closed the connection|Cannot use a pool after calling end/;

/** Classifies an error thrown by Prisma, the pg driver or better-sqlite3; null: not a database failure. */
export function databaseFailure(error: unknown): DatabaseFailure | null {
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): DatabaseFailure | null => {
    if (!value || typeof value !== 'object' || seen.has(value) || depth > 8) return null;
    seen.add(value);
    if (value instanceof DatabaseUnavailableError) return 'unavailable';
    const candidate = value as {
      code?: unknown;
      originalCode?: unknown;
      kind?: unknown;
      message?: unknown;
      cause?: unknown;
      originalError?: unknown;
      meta?: { driverAdapterError?: unknown };
      errors?: unknown;
    };
    for (const code of [candidate.code, candidate.originalCode]) {
      if (typeof code === 'string') {
        const failure = codeFailure(code);
        if (failure) return failure;
      }
    }
    if (typeof candidate.kind === 'string' && candidate.kind in ADAPTER_KINDS) return ADAPTER_KINDS[candidate.kind]!;
    if (typeof candidate.message === 'string' && LOST_CONNECTION.test(candidate.message)) return 'unavailable';
    const nested = [candidate.cause, candidate.originalError, candidate.meta?.driverAdapterError];
    if (Array.isArray(candidate.errors)) nested.push(...candidate.errors);
    for (const inner of nested) {
      const failure = visit(inner, depth + 1);
      if (failure) return failure;
    }
    return null;
  };
  return visit(error, 0);
}

/** The GraphQL error a request gets for a database failure: HTTP 503 with `Retry-After`. */
export function serviceUnavailableError(
  failure: DatabaseFailure,
  options: { requestId?: string; path?: readonly (string | number)[] | undefined } = {},
): GraphQLError {
  const message =
    failure === 'timeout'
      ? 'The database did not answer in time (statement timeout). Retry later.'
      : 'The database is not available. Retry later.';
  return new GraphQLError(message, {
    path: options.path,
    extensions: {
      code: 'SERVICE_UNAVAILABLE',
      ...(options.requestId ? { requestId: options.requestId } : {}),
      http: { status: 503, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
    },
  });
}

/** Host, port and database of a URL, without user or password: safe for logs and messages. */
export function describeTarget(url: string): string {
  if (url.startsWith('file:')) return url.replace(/^file:/, '').split('?')[0]!;
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
    return `${host}:${parsed.port || 5432}${parsed.pathname || ''}`;
  } catch {
    return 'the configured database';
  }
}

/**
 * Checks a PostgreSQL URL before a driver sees it (the pg driver accepts nearly anything and
 * then fails obscurely, or quotes the URL with its password).
 */
export function checkPostgresUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError('DATABASE_URL is not a valid URL (expected postgresql://user:password@host:port/database)');
  }
  if (!parsed.hostname && !parsed.searchParams.get('host')) {
    throw new DatabaseUrlError('DATABASE_URL names no host (expected postgresql://user:password@host:port/database)');
  }
  if (parsed.pathname.length <= 1) {
    throw new DatabaseUrlError('DATABASE_URL names no database (expected postgresql://user:password@host:port/database)');
  }
}

/**
 * One line for an operator: why the database cannot be used. Null when the error is not a
 * database failure (a bug: report it with its stack).
 */
export function describeDatabaseError(error: unknown, url: string): string | null {
  if (error instanceof DatabaseUrlError || error instanceof DatabaseSetupError) return error.message;
  const target = describeTarget(url);
  const codes = collect(error);
  const has = (...wanted: string[]) => wanted.some((code) => codes.has(code));
  if (has('ECONNREFUSED', 'DatabaseNotReachable', 'P1001')) return `cannot reach the database at ${target} (connection refused)`;
  if (has('ENOTFOUND', 'EAI_AGAIN')) return `cannot reach the database at ${target} (host not found)`;
  if (has('ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH')) return `cannot reach the database at ${target} (timed out)`;
  if (has('3D000', 'DatabaseDoesNotExist', 'P1003')) return `the database ${target} does not exist`;
  if (has('28P01', '28000', 'AuthenticationFailed', 'DatabaseAccessDenied', 'P1000', 'P1010')) {
    return `the database at ${target} refused the credentials in DATABASE_URL`;
  }
  if (has('57P03')) return `the database at ${target} is starting up or shutting down`;
  if (has('SQLITE_CANTOPEN')) return `cannot open the SQLite database ${target}`;
  if (has('EACCES', 'EPERM', 'EROFS', 'SQLITE_READONLY')) return `cannot write the SQLite database ${target} (permission denied)`;
  const failure = databaseFailure(error);
  if (failure) {
    const reason = error instanceof Error ? error.message.split('\n').filter(Boolean).pop() : String(error);
    return `the database at ${target} is not available (${reason})`;
  }
  return null;
}

/** Every code, kind and SQLSTATE found on an error and its causes. */
function collect(error: unknown): Set<string> {
  const codes = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number) => {
    if (!value || typeof value !== 'object' || seen.has(value) || depth > 8) return;
    seen.add(value);
    const candidate = value as Record<string, unknown> & { meta?: { driverAdapterError?: unknown } };
    for (const key of ['code', 'originalCode', 'kind'] as const) {
      if (typeof candidate[key] === 'string') codes.add(candidate[key] as string);
    }
    for (const inner of [candidate.cause, candidate.originalError, candidate.meta?.driverAdapterError]) visit(inner, depth + 1);
    if (Array.isArray(candidate.errors)) for (const inner of candidate.errors) visit(inner, depth + 1);
  };
  visit(error, 0);
  return codes;
}
