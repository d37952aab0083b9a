import { createServer } from 'node:http';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { closeDatabase, openDatabase } from './db/index.js';
import { countStatements, type StatementCounter } from './db/statements.js';
import { logger } from './logger.js';
import { seedDemoIfEmpty } from './services/demo.js';

const config = loadConfig();
await openDatabase(config.databaseUrl);

let graphiqlApiKey: string | undefined;
if (!config.production) {
  const key = await seedDemoIfEmpty();
  if (key) {
    graphiqlApiKey = key;
    process.stdout.write(
      `\nCreated the "Demo" workspace. Its admin API key (shown once, keep it):\n\n  ${key}\n\n` +
        `GraphiQL opens with it at http://localhost:${config.port}/graphql\n\n`,
    );
  }
}

const app = createApp({ config, graphiqlApiKey });
const server = createServer((req, res) => {
  const counter: StatementCounter = { count: 0 };
  void countStatements(counter, () => app(req, res, { counter }));
});

server.listen(config.port, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info('listening', { url: `http://localhost:${port}/graphql`, database: config.provider });
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down: draining in-flight requests', { signal });
  const timer = setTimeout(() => {
    logger.warn('requests still open after 10s; closing them');
    server.closeAllConnections();
  }, 10_000);
  timer.unref();
  server.close(async () => {
    await closeDatabase();
    logger.info('stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
