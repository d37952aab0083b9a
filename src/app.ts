import { randomUUID } from 'node:crypto';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { getOperationAST, GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_QUERY_ROWS, type Config } from './config.js';
import type { Context } from './context.js';
import { databaseReady, reportDatabaseError, requireDatabase } from './db/index.js';
import { RETRY_AFTER_SECONDS, serviceUnavailableError } from './db/errors.js';
import { countStatements, type StatementCounter } from './db/statements.js';
import { schema } from './graphql/index.js';
import { DEFAULT_INPUT_LIMITS } from './graphql/input-guard.js';
import { asksRecordDetail } from './graphql/look-ahead.js';
import { createLoaders } from './loaders/index.js';
import { authenticate } from './services/api-keys.js';
import { DomainError } from './services/errors.js';
import { uploadMaxBytes } from './services/import.js';
import { EXAMPLE_OPERATIONS, exampleTabs } from './examples.js';
import { logger } from './logger.js';
import { bodyLimit } from './plugins/body-limit.js';
import { corsOption } from './plugins/cors.js';
import { explorePage } from './plugins/explore.js';
import { unsupportedMediaType } from './plugins/media-type.js';
import { createMetrics } from './plugins/metrics.js';
import { queryGuards } from './plugins/query-guards.js';
import { sharedSubscriptionResults } from './plugins/shared-subscriptions.js';
import { createRateLimits, type RateLimitSettings } from './plugins/rate-limit.js';
import { tracing } from './plugins/tracing.js';
import { trustedDocuments as trustedDocumentsPlugin, type TrustedDocuments } from './plugins/trusted-documents.js';
import type { DemoExampleIds } from './services/demo.js';

/** Per-request values the HTTP layer hands to Yoga. */
interface ServerContext {
  counter?: StatementCounter;
}

export interface AppOptions {
  config: Pick<Config, 'production' | 'introspection' | 'reportStatements'> &
    Partial<Pick<Config, 'inputLimits' | 'maxBodyBytes' | 'maxQueryRows'>> &
    Partial<Pick<Config, 'metricsToken' | 'workers' | 'tracing' | 'corsOrigins' | 'webhooks'>> &
    RateLimitSettings;
  /**
   * An API key GraphiQL starts with (the demo admin key on a first start in development); a
   * function when the key comes later (the database was away at start).
   */
  graphiqlApiKey?: string | (() => string | undefined) | undefined;
  /** The demo records GraphiQL's example tabs name in their variables (read at start). */
  graphiqlExamples?: () => DemoExampleIds | undefined;
  /**
   * Documents clients may send by hash (RELATE_TRUSTED_DOCUMENTS_FILE). With mode `only` nothing
   * else runs, so GraphiQL, the explorer and introspection are off.
   */
  trustedDocuments?: TrustedDocuments | undefined;
}

/** Whether a request carries a valid API key (checked again, with throttling, by the context). */
async function hasValidKey(request: Request): Promise<boolean> {
  const key = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  if (!key) return false;
  try {
    return (await authenticate(key)) !== null;
  } catch {
    return false; // the database away: the context answers 503
  }
}

function unauthenticated(message: string) {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

/**
 * Yoga logs at `error` every error it hands to maskError, client errors included; maskError
 * itself logs what an operator must act on (unexpected errors, with their request id), so
 * Yoga's copies go to `debug`.
 */
const yogaLogger = {
  ...logger,
  error: (message: unknown, ...data: unknown[]) =>
    typeof message === 'string' ? logger.error(message, ...data) : logger.debug('masked error', { error: String(message) }),
};

/**
 * graphql-js reports variables that do not fit their types (`Int cannot represent …`) without a
 * code; every error a client sees carries one.
 */
function withCode(error: GraphQLError): GraphQLError {
  const code = /^Variable "\$/.test(error.message) ? 'BAD_USER_INPUT' : 'BAD_REQUEST';
  return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: { ...error.extensions, code } });
}

/** Expected (domain) errors reach clients with their code; all others are masked and logged. */
function maskError(error: unknown, message: string, requestId: string): Error {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof DomainError) {
    return new GraphQLError(original.message, {
      nodes: error instanceof GraphQLError ? error.nodes : undefined,
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: original.code, ...(original.index !== null ? { index: original.index } : {}) },
    });
  }
  if (error instanceof GraphQLError && !(error.originalError && !(error.originalError instanceof GraphQLError))) {
    return error.extensions?.code ? error : withCode(error);
  }
  // The database away or too slow: 503 with Retry-After (the outage is logged once, in db/).
  const failure = reportDatabaseError(original);
  if (failure) {
    if (failure === 'timeout') logger.warn('statement timeout', { requestId, error: original instanceof Error ? original.message : String(original) });
    return serviceUnavailableError(failure, { requestId, path: error instanceof GraphQLError ? error.path : undefined });
  }
  logger.error('unexpected error', { requestId, error: original instanceof Error ? original.stack : String(original) });
  return new GraphQLError(message, {
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
  });
}

/**
 * Every operation gets its own batch loaders, made once its document is known: related records
 * are read as summaries when the operation shows none of their details.
 */
function loadersPlugin(): Plugin<Context & ServerContext> {
  return {
    onExecute: ({ args, extendContext }) => {
      const wholeRelatedRecords = asksRecordDetail(args.schema, args.document);
      extendContext({ loaders: createLoaders(args.contextValue.viewer, { wholeRelatedRecords }) });
    },
  };
}

/**
 * GET /ready: 200 when the database answers, else 503 with Retry-After. Yoga's useReadinessCheck
 * tests every request's URL against a URLPattern, which costs each GraphQL request more than
 * comparing its path.
 */
function readinessCheck(): Plugin {
  return {
    onRequest: ({ url, endResponse, fetchAPI }) => {
      if (url.pathname !== '/ready') return;
      return databaseReady().then((ready) =>
        endResponse(
          ready
            ? new fetchAPI.Response(null, { status: 200 })
            : new fetchAPI.Response(null, { status: 503, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } }),
        ),
      );
    },
  };
}

function statementsPlugin(): Plugin<Context & ServerContext> {
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: ({ result, setResult }) => {
        const counter = args.contextValue.counter;
        if (!counter || Symbol.asyncIterator in result) return;
        setResult({ ...result, extensions: { ...result.extensions, sqlStatements: counter.count } });
      },
    }),
  };
}

/** What the context factory provides; the loaders are added per operation (loadersPlugin). */
type RequestContext = Pick<Context, 'viewer' | 'inputLimits' | 'webhookPolicy'>;

export type App = YogaServerInstance<ServerContext, RequestContext> & {
  /** Fetch with SQL statements counted for the request (read back in `extensions.sqlStatements`). */
  countedFetch: (input: string, init?: RequestInit) => Promise<Response>;
};

export function createApp({ config, graphiqlApiKey, graphiqlExamples, trustedDocuments }: AppOptions): App {
  const trustedOnly = trustedDocuments?.mode === 'only';
  const introspection = config.introspection && !trustedOnly;
  /** GraphiQL and the explorer: development only, and never when only trusted documents run. */
  const developmentTools = !config.production && !trustedOnly;
  const inputLimits = config.inputLimits ?? DEFAULT_INPUT_LIMITS;
  const webhookPolicy = { allowPrivate: config.webhooks?.allowPrivate ?? false };
  const metrics = createMetrics({ token: config.metricsToken, cluster: (config.workers ?? 1) > 1 });
  const rateLimits = createRateLimits(config, metrics.rateLimitRefused);
  const yoga = createYoga<ServerContext, RequestContext>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    // bodyLimit (below) holds every body to its limit, by Content-Length or by counting. Yoga's own
    // limit (25 MB) would pipe every request's body through a counting stream besides, a cost in
    // each request's CPU, and refuse uploads the upload limit allows.
    maxRequestBodySize: false,
    landingPage: false,
    // Browsers: RELATE_CORS_ORIGINS (default: none in production, any origin in development).
    cors: corsOption(config.corsOrigins ?? (config.production ? [] : '*')),
    // GraphQL over HTTP's persisted documents name theirs in a `documentId` beside the usual fields.
    ...(trustedDocuments ? { extraParamNames: ['documentId'] } : {}),
    logging: yogaLogger,
    context: async (source) => {
      const header = source.request.headers.get('authorization');
      if (!header) {
        throw await rateLimits.failedAuthentication(source, unauthenticated('Missing API key: send "Authorization: Bearer <api key>".'));
      }
      await requireDatabase();
      const key = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
      const viewer = key ? await authenticate(key) : null;
      if (!key || !viewer) throw await rateLimits.failedAuthentication(source, unauthenticated('Invalid or revoked API key.'));
      await rateLimits.admit(source, key, viewer);
      return { viewer, inputLimits, webhookPolicy };
    },
    maskedErrors: {
      maskError: (error, message) => maskError(error, message, randomUUID()),
    },
    graphiql: !developmentTools
      ? false
      : () => {
          const apiKey = typeof graphiqlApiKey === 'function' ? graphiqlApiKey() : graphiqlApiKey;
          return {
            title: 'Relate',
            headers: apiKey ? JSON.stringify({ Authorization: `Bearer ${apiKey}` }, null, 2) : undefined,
            // Every start issues a new development key: tabs restored from the browser's storage
            // must take the headers served now, not a key revoked by a restart (nor keep keys there).
            shouldPersistHeaders: false,
            defaultTabs: exampleTabs(graphiqlExamples?.()),
            defaultQuery: EXAMPLE_OPERATIONS[0],
          };
        },
    // Loaded on the first GraphiQL page: its bundle holds about 35 MB, which a production server
    // (which never serves it) would otherwise keep from start to stop.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    plugins: [
      // First, so that their spans and timings hold every other plugin's work.
      ...(config.tracing ? [tracing()] : []),
      metrics.plugin,
      // The graph explorer (development only, like GraphiQL), with the key GraphiQL opens with.
      ...(!developmentTools ? [] : [explorePage(() => (typeof graphiqlApiKey === 'function' ? graphiqlApiKey() : graphiqlApiKey))]),
      // File uploads (importAssociations) up to RELATE_IMPORT_UPLOAD_MAX_BYTES, for valid keys only.
      bodyLimit(config.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, { maxBytes: uploadMaxBytes(), allowed: hasValidKey }),
      unsupportedMediaType(),
      ...(trustedDocuments ? [trustedDocumentsPlugin(trustedDocuments)] : []),
      rateLimits.plugin,
      loadersPlugin(),
      // A change-feed event is executed once per kind of subscriber, however many there are.
      sharedSubscriptionResults(),
      // Queries compiled once (and cached per document) execute several times faster than
      // graphql-js interprets them: it matters for list pages with hundreds of edges. Mutations
      // stay interpreted: graphql-jit drops variables inside scalar literals, such as
      // `properties: { firstName: $name }`, and mutations gain little from compiling.
      useGraphQlJit(
        { disableLeafSerialization: false },
        { enableIf: (args) => getOperationAST(args.document, args.operationName)?.operation === 'query' },
      ),
      ...queryGuards({ maxRows: config.maxQueryRows ?? DEFAULT_MAX_QUERY_ROWS, introspection }),
      ...(introspection ? [] : [{ onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule) } satisfies Plugin]),
      readinessCheck(),
      ...(config.reportStatements ? [statementsPlugin()] : []),
    ],
  });
  const countedFetch = async (input: string, init?: RequestInit) => {
    const counter: StatementCounter = { count: 0 };
    return countStatements(counter, async () => yoga.fetch(input, init ?? {}, { counter }));
  };
  return Object.assign(yoga, { countedFetch });
}
