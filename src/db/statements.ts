import { AsyncLocalStorage } from 'node:async_hooks';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/** Counts the SQL statements issued on behalf of one request (or any other unit of work). */
export interface StatementCounter {
  count: number;
}

const storage = new AsyncLocalStorage<StatementCounter>();

export function countStatements<T>(counter: StatementCounter, fn: () => T): T {
  return storage.run(counter, fn);
}

export function recordStatement(): void {
  const counter = storage.getStore();
  if (counter) counter.count += 1;
}

/** `db.system` of the OpenTelemetry database conventions. */
export type DbSystem = 'sqlite' | 'postgresql';

const tracer = trace.getTracer('relate');
/** Statement text kept in a span: enough for the WHERE clause of Prisma's long column lists. */
const MAX_STATEMENT_LENGTH = 2048;

/**
 * Runs one statement in a span of its own, a child of the span that is active (the GraphQL
 * execution, or the HTTP request while the context is built). Statements outside a recorded
 * trace (no tracing set up, an unsampled request, startup pings and migrations) run as they are:
 * without a tracer provider the check is one no-op lookup. The text is the statement with its
 * placeholders, never the bound values.
 */
export function traceStatement<T>(system: DbSystem, sql: string, run: () => Promise<T>): Promise<T> {
  if (!trace.getActiveSpan()?.isRecording()) return run();
  const text = sql.trim();
  const operation = /^[A-Za-z]+/.exec(text)?.[0].toUpperCase() ?? system;
  const span = tracer.startSpan(operation, {
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system': system,
      'db.operation.name': operation,
      'db.statement': text.length > MAX_STATEMENT_LENGTH ? `${text.slice(0, MAX_STATEMENT_LENGTH)}…` : text,
    },
  });
  const end = (error?: unknown) => {
    // The kind of failure only: a driver's message may quote the values of the row.
    if (error !== undefined) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('error.type', errorType(error));
    }
    span.end();
  };
  try {
    return run().then(
      (result) => (end(), result),
      (error: unknown) => {
        end(error);
        throw error;
      },
    );
  } catch (error) {
    end(error);
    throw error;
  }
}

/** A driver error's code (SQLITE_BUSY, 23505, …) or the error's class: never its message. */
function errorType(error: unknown): string {
  const cause = (error as { cause?: { originalCode?: unknown; kind?: unknown } } | null)?.cause;
  if (typeof cause?.originalCode === 'string') return cause.originalCode;
  if (typeof cause?.kind === 'string') return cause.kind;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : typeof error;
}
