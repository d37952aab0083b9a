import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { createApp } from './app.js';
import { loadConfig, type Config } from './config.js';
import { closeDatabase, startDatabase, whenDatabaseReady } from './db/index.js';
import { describeDatabaseError } from './db/errors.js';
import { countStatements, type StatementCounter } from './db/statements.js';
import { logger } from './logger.js';
import { aggregateWorkerMetrics } from './plugins/metrics.js';
import { loadTrustedDocuments, type TrustedDocuments } from './plugins/trusted-documents.js';
import { developmentKeys, type DemoExampleIds } from './services/demo.js';
import { closeFeedBus } from './feed/bus.js';
import { startDispatcher, type Dispatcher } from './feed/dispatcher.js';
import { startImportJobs, type ImportJobs } from './services/import-jobs.js';

/**
 * One process by default. With RELATE_WORKERS=N (or "auto": one per core) the primary migrates
 * and seeds, then forks N workers that share the port; SIGTERM drains every worker.
 *
 * The server starts whether or not the database is there: if it is not, it logs one line, answers
 * 503 (`/ready` and every GraphQL request) and keeps trying; once the database answers it is
 * migrated (created first if missing, when the role may), seeded on a first start in
 * development (with a development key for GraphiQL at every start), and served — without a restart.
 */

/** What retrying cannot fix (bad configuration, a broken migration): one line, then exit 1. */
function fail(error: unknown, url?: string): never {
  const line = url !== undefined ? describeDatabaseError(error, url) : error instanceof Error ? error.message : String(error);
  if (line) logger.error(`cannot start: ${line}`);
  else logger.error('cannot start', { error: error instanceof Error ? error.stack : String(error) });
  process.exit(1);
}

let config: Config;
/** The trusted documents' manifests, read once at start: a bad one stops the start. */
let trustedDocuments: TrustedDocuments | undefined;
try {
  config = loadConfig();
  const { mode, files } = config.trustedDocuments;
  if (files.length > 0) trustedDocuments = { mode, documents: loadTrustedDocuments(files) };
} catch (error) {
  fail(error);
}
const GRAPHIQL_KEY_ENV = 'RELATE_GRAPHIQL_API_KEY';
const GRAPHIQL_EXAMPLES_ENV = 'RELATE_GRAPHIQL_EXAMPLE_IDS';
/** Workers migrate too when the primary could not (the database was away when it started). */
const MIGRATE_ENV = 'RELATE_WORKER_MIGRATE';
/** How long a stopping server waits for its requests before it closes their connections and its database. */
const DRAIN_TIME = 10_000;
/** How long closing the database may take then (a connection still busy), before the process exits anyway. */
const CLOSE_TIME = 5_000;
/** The key GraphiQL and the explorer start with: in development, the demo admin's development key. */
let graphiqlApiKey: string | undefined = process.env[GRAPHIQL_KEY_ENV] || undefined;
/** The demo records GraphiQL's example tabs name in their variables (read by `seed`). */
let graphiqlExamples: DemoExampleIds | undefined = JSON.parse(process.env[GRAPHIQL_EXAMPLES_ENV] || 'null') ?? undefined;
/**
 * Spans exported over OTLP when an endpoint is configured, from before the server listens (the
 * primary of several workers serves nothing). Without an endpoint the SDK is not even loaded.
 */
const tracing =
  config.tracing && !(config.workers > 1 && cluster.isPrimary) ? (await import('./telemetry/tracing.js')).startTracing() : undefined;

async function open(migrate: boolean, reportStart = true): Promise<boolean> {
  try {
    return await startDatabase(config.databaseUrl, { migrate, reportStart, statementTimeout: config.statementTimeout });
  } catch (error) {
    fail(error, config.databaseUrl);
  }
}

/**
 * In development: the demo on a first start, and at every start a development key for its admin
 * that GraphiQL and the explorer open with (printed, so scripts can use it too), and the ids of
 * the demo records GraphiQL's example tabs name (`graphiqlExamples`).
 */
async function seed(): Promise<string | undefined> {
  if (config.production) return undefined;
  const keys = await developmentKeys();
  if (!keys) return undefined;
  graphiqlExamples = keys.exampleIds ?? undefined;
  if (keys.adminKey) {
    process.stdout.write(`\nCreated the "Demo" workspace. Its admin API key (shown once, keep it):\n\n  ${keys.adminKey}\n`);
  }
  process.stdout.write(
    `\nDevelopment key for the Demo admin (a new one at each start; the last one is revoked):\n\n  ${keys.developmentKey}\n\n` +
      (trustedDocuments?.mode === 'only'
        ? 'GraphiQL and the explorer are off: RELATE_TRUSTED_DOCUMENTS=only accepts trusted documents alone\n\n'
        : `GraphiQL opens with it at http://localhost:${config.port}/graphql and the explorer at http://localhost:${config.port}/explore\n\n`),
  );
  return keys.developmentKey;
}

function logListening(port: number) {
  logger.info('listening', { url: `http://localhost:${port}/graphql`, database: config.provider, workers: config.workers });
}

function serve() {
  const app = createApp({ config, trustedDocuments, graphiqlApiKey: () => graphiqlApiKey, graphiqlExamples: () => graphiqlExamples });
  /**
   * Requests being handled, until their handler is done: a client that goes away closes its
   * connection, but its request runs on (a write waiting for its turn at the workspace's lock),
   * and the database must stay open until it ends (see shutdown).
   */
  const handling = new Set<Promise<unknown>>();
  const server = createServer((req, res) => {
    const counter: StatementCounter = { count: 0 };
    const handled = Promise.resolve(countStatements(counter, () => app(req, res, { counter }))).then(
      () => undefined,
      () => undefined,
    );
    handling.add(handled);
    void handled.then(() => handling.delete(handled));
  });
  server.listen(config.port, () => {
    const address = server.address();
    // With RELATE_WORKERS the primary says so, once every worker listens.
    if (cluster.isPrimary) logListening(typeof address === 'object' && address ? address.port : config.port);
  });

  let stopping = false;
  // Every serving process posts webhooks, once its database is usable (feed/dispatcher.ts).
  let dispatcher: Dispatcher | undefined;
  // Every serving process runs the import jobs it receives and ends those of dead processes (services/import-jobs.ts).
  let importJobs: ImportJobs | undefined;
  whenDatabaseReady(() => {
    if (stopping) return;
    dispatcher = startDispatcher({ settings: config.webhooks });
    importJobs = startImportJobs();
  });
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (cluster.isPrimary) logger.info('shutting down: draining in-flight requests', { signal });
    // Subscriptions' streams complete, so their connections close like the others.
    const feedClosed = closeFeedBus();
    // Claims nothing more; attempts in flight finish (within RELATE_WEBHOOK_TIMEOUT) and are written.
    const dispatched = dispatcher?.stop();
    // The running import is interrupted and ended FAILED with what it wrote; queued ones FAILED.
    const imported = importJobs?.stop();
    // The drain's time: then open requests' connections are closed, and the database closes
    // whether or not every handler has ended.
    const drainOver = new Promise<void>((resolve) =>
      setTimeout(() => {
        logger.warn('requests still open after 10s; closing them');
        server.closeAllConnections();
        resolve();
      }, DRAIN_TIME).unref(),
    );
    server.close(async () => {
      await app.dispose(); // closes the rate limits' Redis connection
      await feedClosed;
      await dispatched;
      await imported;
      // Every connection is closed, but requests whose clients went away may still run: the
      // database closes once they end (closing it under them left the process waiting forever
      // for a connection Prisma never gave back), or once the drain's time is up.
      await Promise.race([Promise.all(handling), drainOver]);
      const closed = await Promise.race([closeDatabase().then(() => true), new Promise<false>((resolve) => setTimeout(resolve, CLOSE_TIME, false).unref())]);
      if (!closed) logger.warn(`database connections still busy after ${CLOSE_TIME / 1000}s; exiting without them`);
      await tracing?.shutdown(); // exports the last spans
      if (cluster.isPrimary) logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (config.workers <= 1) {
  if (await open(true)) {
    graphiqlApiKey = await seed();
  } else {
    whenDatabaseReady(async () => {
      graphiqlApiKey = await seed();
    });
  }
  serve();
} else if (cluster.isPrimary) {
  // GET /metrics on any worker answers the sum over every worker (plugins/metrics.ts).
  aggregateWorkerMetrics();
  const ready = await open(true);
  if (ready) {
    graphiqlApiKey = await seed();
    await closeDatabase();
  } else {
    // The workers migrate when the database is back; this process seeds then and tells them.
    whenDatabaseReady(async () => {
      const key = await seed();
      if (key) for (const worker of Object.values(cluster.workers ?? {})) worker?.send({ graphiqlApiKey: key, graphiqlExamples });
      await closeDatabase();
    });
  }
  // The server is up when every worker serves: until then a worker still starting gets no connections.
  let listening = 0;
  cluster.on('listening', (worker, address) => {
    logger.debug('worker listening', { worker: worker.id, url: `http://localhost:${address.port}/graphql` });
    listening += 1;
    if (listening === config.workers) logListening(address.port);
  });
  for (let i = 0; i < config.workers; i += 1) {
    cluster.fork({
      [GRAPHIQL_KEY_ENV]: graphiqlApiKey ?? '',
      [GRAPHIQL_EXAMPLES_ENV]: JSON.stringify(graphiqlExamples ?? null),
      [MIGRATE_ENV]: ready ? '' : '1',
    });
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down: draining in-flight requests', { signal, workers: config.workers });
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  cluster.on('exit', (worker, code) => {
    if (!stopping) {
      logger.error('worker exited; stopping', { worker: worker.id, code });
      stop('SIGTERM');
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) {
      logger.info('stopped');
      process.exit(stopping && code === 0 ? 0 : 1);
    }
  });
} else {
  process.on('message', (message: { graphiqlApiKey?: string; graphiqlExamples?: DemoExampleIds } | null) => {
    if (message?.graphiqlApiKey) graphiqlApiKey = message.graphiqlApiKey;
    if (message?.graphiqlExamples) graphiqlExamples = message.graphiqlExamples;
  });
  // When the primary could not reach the database it has said so: one line, not one per worker.
  const primaryFailed = process.env[MIGRATE_ENV] === '1';
  await open(primaryFailed, !primaryFailed);
  serve();
}
