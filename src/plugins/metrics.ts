import cluster, { type Worker } from 'node:cluster';
import { createHash, timingSafeEqual } from 'node:crypto';
import { getOperationAST, type DocumentNode, type ExecutionResult, type OperationTypeNode } from 'graphql';
import { mapAsyncIterator, type Plugin } from 'graphql-yoga';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { poolStats } from '../db/pools.js';
import type { StatementCounter } from '../db/statements.js';
import type { RefusalKind } from './rate-limit.js';

export const METRICS_PATH = '/metrics';
export const DEFAULT_MAX_OPERATION_NAMES = 200;
/** Error codes are the server's own, but a bound costs nothing. */
const MAX_ERROR_CODES = 50;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

export interface MetricsOptions {
  /** The GraphQL endpoint's path: the requests measured. */
  graphqlEndpoint?: string;
  /** When set, GET /metrics answers 401 without `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** This process is one of RELATE_WORKERS: /metrics answers the sum over every worker. */
  cluster?: boolean;
  /** Distinct operation names given a series of their own (the rest are "other"). */
  maxOperationNames?: number;
}

export interface Metrics {
  plugin: Plugin<object, { counter?: StatementCounter }>;
  /** Counts a 429 (createRateLimits calls it). */
  rateLimitRefused: (kind: RefusalKind) => void;
}

/**
 * What each GraphQL request is labelled with, learnt as it goes: the operation from the parsed
 * document, and whether it got as far as execution (authenticated, valid).
 */
interface RequestState {
  start: number;
  /** Unknown until a document is parsed; null for an anonymous operation. */
  name?: string | null;
  type?: OperationTypeNode;
  executed: boolean;
  /** The result went through Yoga's result processing (its errors are counted there). */
  processed: boolean;
}

/**
 * The process's own metrics, shared by every app of the process: Node's defaults (CPU, memory,
 * event loop lag, GC) and the database pools, read at scrape time.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry) return processRegistry;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'relate_db_pool_connections',
    help: 'Connections of each database pool, by state (in_use, idle). SQLite: one connection per pool.',
    labelNames: ['pool', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { pool, stats } of poolStats()) {
        this.set({ pool, state: 'in_use' }, stats.inUse);
        this.set({ pool, state: 'idle' }, stats.idle);
      }
    },
  });
  new Gauge({
    name: 'relate_db_pool_waiting_requests',
    help: 'Requests waiting for a connection of each database pool (SQLite: queued behind a write transaction).',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { pool, stats } of poolStats()) this.set({ pool }, stats.waiting);
    },
  });
  new Gauge({
    name: 'relate_db_pool_max_connections',
    help: 'Connections each database pool may open.',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { pool, stats } of poolStats()) this.set({ pool }, stats.max);
    },
  });
  processRegistry = registry;
  return registry;
}

/**
 * A label that clients choose, bounded: the first `max` acceptable values get a series of their
 * own, for the life of the process; anything else is `fallback`. Only `admit` may take a slot.
 */
function boundedLabels(max: number, pattern: RegExp, fallback: string) {
  const seen = new Set<string>();
  return (value: string, admit: boolean): string => {
    if (seen.has(value)) return value;
    if (!admit || seen.size >= max || !pattern.test(value)) return fallback;
    seen.add(value);
    return value;
  };
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Prometheus metrics, served at GET /metrics in the text format:
 *
 * - `relate_graphql_request_duration_seconds{operation_name, operation_type}`: from the request's
 *   arrival at the GraphQL endpoint to its response (for a stream: to its first byte);
 * - `relate_graphql_request_sql_statements{operation_name, operation_type}`: SQL statements each
 *   request issued;
 * - `relate_graphql_errors_total{code}`: errors in responses, by `extensions.code`;
 * - `relate_rate_limit_refusals_total{kind}`: 429 answers, `key` or `auth-failure`;
 * - the database pools and Node's process metrics (`processMetrics`).
 *
 * A client names its operations, so names are bounded: a name takes a series of its own only
 * when it matches OPERATION_NAME and its request reached execution (authenticated, valid),
 * up to `maxOperationNames` per process; any other name is "other", an operation without a name
 * "anonymous", and a request refused before its document was parsed "unknown" (type "unknown").
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const labelNames = ['operation_name', 'operation_type'] as const;
  const duration = new Histogram({
    name: 'relate_graphql_request_duration_seconds',
    help: 'GraphQL requests: time from arrival to response, by operation.',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const statements = new Histogram({
    name: 'relate_graphql_request_sql_statements',
    help: 'GraphQL requests: SQL statements each one issued, by operation.',
    labelNames,
    buckets: [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'relate_graphql_errors_total',
    help: 'Errors in GraphQL responses, by extensions.code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'relate_rate_limit_refusals_total',
    help: 'Requests refused with 429: over an API key\'s rate limit (key), or too many failed authentications from one address (auth-failure).',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  for (const kind of ['key', 'auth-failure'] satisfies RefusalKind[]) refusals.inc({ kind }, 0);

  const operationName = boundedLabels(options.maxOperationNames ?? DEFAULT_MAX_OPERATION_NAMES, OPERATION_NAME, 'other');
  const errorCode = boundedLabels(MAX_ERROR_CODES, ERROR_CODE, 'OTHER');
  const countErrors = (result: ExecutionResult) => {
    for (const error of result.errors ?? []) {
      const code = error.extensions?.code;
      errors.inc({ code: typeof code === 'string' ? errorCode(code, true) : 'UNKNOWN' });
    }
  };
  // Not an async generator: a generator's return() waits for its pending next(), so a client that
  // closes a quiet subscription would never reach the source, which would keep its subscriber.
  const countedStream = (results: AsyncIterable<ExecutionResult>) =>
    mapAsyncIterator(results, (result) => {
      countErrors(result);
      return result;
    });

  // Started with the app, so that GC and event-loop figures cover the whole life of the process.
  const shared = processMetrics();
  const scrape = (() => {
    if (!options.cluster || !cluster.isWorker) return () => Registry.merge([shared, registry]).metrics();
    // The primary asks each serving worker for these registries.
    listenToPrimary([shared, registry]);
    return askPrimary;
  })();
  const token = options.token ? digest(options.token) : undefined;
  const graphqlEndpoint = options.graphqlEndpoint ?? '/graphql';
  const states = new WeakMap<object, RequestState>();

  const plugin: Metrics['plugin'] = {
    onRequest: async ({ request, url, serverContext, fetchAPI, endResponse }) => {
      if (url.pathname === graphqlEndpoint) {
        states.set(serverContext, { start: performance.now(), executed: false, processed: false });
        return;
      }
      if (url.pathname !== METRICS_PATH) return;
      const headers = { 'cache-control': 'no-store' };
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { ...headers, allow: 'GET, HEAD' } }));
        return;
      }
      if (token) {
        const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1];
        if (!given || !timingSafeEqual(digest(given), token)) {
          endResponse(
            new fetchAPI.Response('Send the metrics token: Authorization: Bearer <token>.\n', {
              status: 401,
              headers: { ...headers, 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' },
            }),
          );
          return;
        }
      }
      try {
        const text = await scrape();
        endResponse(
          new fetchAPI.Response(request.method === 'HEAD' ? null : text, {
            headers: { ...headers, 'content-type': registry.contentType },
          }),
        );
      } catch (error) {
        endResponse(
          new fetchAPI.Response(`Metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`, {
            status: 503,
            headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' },
          }),
        );
      }
    },
    onParse: ({ context }) => {
      const state = states.get(context);
      if (!state) return;
      return ({ result }) => {
        if (!result || result instanceof Error) return;
        const operation = getOperationAST(result as DocumentNode, context.params?.operationName);
        if (!operation) return;
        state.type = operation.operation;
        state.name = operation.name?.value ?? null;
      };
    },
    onExecute: ({ args }) => {
      const state = states.get(args.contextValue);
      if (state) state.executed = true;
    },
    onSubscribe: ({ args }) => {
      const state = states.get(args.contextValue);
      if (state) state.executed = true;
    },
    onResultProcess: ({ result, setResult, serverContext }) => {
      const state = states.get(serverContext);
      if (state) state.processed = true;
      if (Symbol.asyncIterator in result) setResult(countedStream(result));
      else for (const one of Array.isArray(result) ? result : [result]) countErrors(one);
    },
    onResponse: ({ response, serverContext }) => {
      const state = states.get(serverContext);
      if (!state) return;
      states.delete(serverContext);
      // Answered before Yoga made a result: the body limit's 413, an unreadable Content-Type's 415.
      if (!state.processed) {
        if (response.status === 413) errors.inc({ code: 'PAYLOAD_TOO_LARGE' });
        else if (response.status === 415) errors.inc({ code: 'UNSUPPORTED_MEDIA_TYPE' });
      }
      const labels = {
        operation_type: state.type ?? 'unknown',
        operation_name: state.type === undefined ? 'unknown' : state.name === null || state.name === undefined ? 'anonymous' : operationName(state.name, state.executed),
      };
      duration.observe(labels, (performance.now() - state.start) / 1000);
      const counter = serverContext.counter;
      if (counter) statements.observe(labels, counter.count);
    },
  };
  return { plugin, rateLimitRefused: (kind) => refusals.inc({ kind }) };
}

/**
 * RELATE_WORKERS > 1: the workers share one port, so a scrape reaches any one of them. The
 * worker that gets it asks the primary, which gathers the registries of every worker that serves
 * and sums them (prom-client's `AggregatorRegistry.aggregate`): one scrape, the whole server.
 * Histograms and counters add up; pool gauges are summed too (connections of the whole server).
 *
 * The primary asks only the workers that listen: a worker still starting has no registries and
 * would never answer (prom-client's own `clusterMetrics` asks every forked worker, so a scrape
 * during a start waited 5 s and failed), and it has served no request yet either.
 */
const ASK = 'relate:metrics?';
const ANSWER = 'relate:metrics';
const COLLECT = 'relate:metrics-collect';
const COLLECTED = 'relate:metrics-collected';
/** How long a scrape waits for the primary. */
const ANSWER_TIMEOUT_MS = 10_000;
/**
 * How long the primary waits for the workers: less than the scrape waits for it, with time to
 * answer, so that a worker that does not answer is named in the scrape's answer, not taken for
 * the primary not answering.
 */
const COLLECT_TIMEOUT_MS = ANSWER_TIMEOUT_MS - 2_000;
type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}
interface Collected {
  type: typeof COLLECTED;
  id: number;
  metrics?: MetricsJson[];
  error?: string;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

let asked = 0;
const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();

/** In a worker: answers the primary's requests for this process's registries, and gives askPrimary its answers. */
function listenToPrimary(registries: Registry[]): void {
  process.on('message', (message: Answer | { type?: string; id?: number } | null) => {
    if (message?.type === COLLECT) {
      const id = message.id ?? 0;
      Promise.all(registries.map((registry) => registry.getMetricsAsJSON())).then(
        (metrics) => process.send!({ type: COLLECTED, id, metrics } satisfies Collected),
        (error: unknown) => process.send!({ type: COLLECTED, id, error: messageOf(error) } satisfies Collected),
      );
      return;
    }
    if (message?.type !== ANSWER) return;
    const answer = message as Answer;
    const pending = waiting.get(answer.id);
    waiting.delete(answer.id);
    if (answer.error !== undefined) pending?.reject(new Error(answer.error));
    else pending?.resolve(answer.text ?? '');
  });
}

function askPrimary(): Promise<string> {
  const id = (asked += 1);
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('the primary process did not answer'));
    }, ANSWER_TIMEOUT_MS);
    waiting.set(id, {
      resolve: (text) => (clearTimeout(timer), resolve(text)),
      reject: (error) => (clearTimeout(timer), reject(error)),
    });
    process.send!({ type: ASK, id });
  });
}

/** In the cluster primary: answers the workers' requests for the whole server's metrics. */
export function aggregateWorkerMetrics(): void {
  const serving = new Set<Worker>();
  let collections = 0;
  const gathering = new Map<number, { pending: Set<Worker>; parts: MetricsJson[]; settle: (error?: Error) => void }>();
  const answered = (id: number, worker: Worker, metrics: MetricsJson[] = []) => {
    const gather = gathering.get(id);
    if (!gather?.pending.delete(worker)) return;
    gather.parts.push(...metrics);
    if (gather.pending.size === 0) gather.settle();
  };
  cluster.on('listening', (worker) => serving.add(worker));
  cluster.on('exit', (worker) => {
    serving.delete(worker);
    for (const id of gathering.keys()) answered(id, worker); // what it had counted left with it
  });

  const collect = (): Promise<string> => {
    const id = (collections += 1);
    const pending = new Set(serving);
    return new Promise<MetricsJson[]>((resolve, reject) => {
      const parts: MetricsJson[] = [];
      const timer = setTimeout(() => {
        const silent = [...pending].map((worker) => `worker ${worker.id} (pid ${worker.process.pid})`).join(', ');
        settle(new Error(`${silent} did not answer within ${COLLECT_TIMEOUT_MS / 1000} s`));
      }, COLLECT_TIMEOUT_MS);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        gathering.delete(id);
        if (error) reject(error);
        else resolve(parts);
      };
      gathering.set(id, { pending, parts, settle });
      if (pending.size === 0) settle();
      for (const worker of pending) worker.send({ type: COLLECT, id });
    }).then((parts) => AggregatorRegistry.aggregate(parts).metrics());
  };

  cluster.on('message', (worker, message: Collected | { type?: string; id?: number } | null) => {
    if (message?.type === COLLECTED) {
      const collected = message as Collected;
      if (collected.error !== undefined) gathering.get(collected.id)?.settle(new Error(collected.error));
      else answered(collected.id, worker, collected.metrics);
      return;
    }
    if (message?.type !== ASK) return;
    const id = message.id ?? 0;
    collect().then(
      (text) => worker.send({ type: ANSWER, id, text } satisfies Answer),
      (error: unknown) => worker.send({ type: ANSWER, id, error: messageOf(error) } satisfies Answer),
    );
  });
}
