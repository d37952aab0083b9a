import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { closeDatabase, openDatabase } from './db/index.js';
import { countStatements, type StatementCounter } from './db/statements.js';
import { logger } from './logger.js';
import { seedDemoIfEmpty } from './services/demo.js';

/**
 * One process by default. With RELATE_WORKERS=N (or "auto": one per core) the primary migrates
 * and seeds, then forks N workers that share the port; SIGTERM drains every worker.
 */
const config = loadConfig();
const GRAPHIQL_KEY_ENV = 'RELATE_GRAPHIQL_API_KEY';

async function prepare(): Promise<string | undefined> {
  await openDatabase(config.databaseUrl);
  if (config.production) return undefined;
  const key = await seedDemoIfEmpty();
  if (!key) return undefined;
  process.stdout.write(
    `\nCreated the "Demo" workspace. Its admin API key (shown once, keep it):\n\n  ${key}\n\n` +
      `GraphiQL opens with it at http://localhost:${config.port}/graphql\n\n`,
  );
  return key;
}

function serve(graphiqlApiKey: string | undefined) {
  const app = createApp({ config, graphiqlApiKey });
  const server = createServer((req, res) => {
    const counter: StatementCounter = { count: 0 };
    void countStatements(counter, () => app(req, res, { counter }));
  });
  server.listen(config.port, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    if (cluster.isPrimary || cluster.worker?.id === 1) {
      logger.info('listening', { url: `http://localhost:${port}/graphql`, database: config.provider, workers: config.workers });
    }
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (cluster.isPrimary) logger.info('shutting down: draining in-flight requests', { signal });
    const timer = setTimeout(() => {
      logger.warn('requests still open after 10s; closing them');
      server.closeAllConnections();
    }, 10_000);
    timer.unref();
    server.close(async () => {
      await app.dispose(); // closes the rate limits' Redis connection
      await closeDatabase();
      if (cluster.isPrimary) logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (config.workers <= 1) {
  serve(await prepare());
} else if (cluster.isPrimary) {
  const key = await prepare();
  await closeDatabase();
  for (let i = 0; i < config.workers; i += 1) cluster.fork({ [GRAPHIQL_KEY_ENV]: key ?? '' });
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
  await openDatabase(config.databaseUrl, { migrate: false });
  serve(process.env[GRAPHIQL_KEY_ENV] || undefined);
}
