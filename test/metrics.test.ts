import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type AppOptions } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase, DB, useTestApp, type TestWorkspace } from './helpers.js';
import { serverArgs, startServer, type RunningServer } from './support/process.js';

/**
 * GET /metrics through HTTP. Each app below has its own request metrics (the process metrics,
 * Node's and the database pools', are shared), so every count here is exact.
 */
const t = useTestApp();
const BASE = 'http://relate.test';
const TOKEN = 'metrics-token-for-tests';

type Labels = Record<string, string>;
interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample: ${line}`);
    const labels: Labels = {};
    for (const [, key, value] of match[2]?.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g) ?? []) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels` (0 when there is none). */
function valueOf(samples: Sample[], name: string, labels: Labels = {}): number {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

type Config = AppOptions['config'];
function metricsApp(config: Partial<Config> = {}): App {
  return createApp({ config: { production: true, introspection: true, reportStatements: true, metricsToken: TOKEN, ...config } });
}

async function scrape(app: App, authorization: string | null = `Bearer ${TOKEN}`): Promise<Sample[]> {
  const response = await app.fetch(`${BASE}/metrics`, { headers: authorization ? { authorization } : {} });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parse(await response.text());
}

async function post(app: App, query: string, apiKey: string | null, extra: Record<string, unknown> = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const response = await app.countedFetch(`${BASE}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, ...extra }) });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[]; extensions?: { sqlStatements?: number } } };
}

const DURATION = 'relate_graphql_request_duration_seconds_count';
const STATEMENTS_SUM = 'relate_graphql_request_sql_statements_sum';
const STATEMENTS_COUNT = 'relate_graphql_request_sql_statements_count';
const ERRORS = 'relate_graphql_errors_total';
const op = (operation_name: string, operation_type: string) => ({ operation_name, operation_type });

let ws: TestWorkspace;
beforeAll(async () => {
  ws = await t.workspace();
});

describe('GET /metrics', () => {
  it('asks for the token when RELATE_METRICS_TOKEN is set, and answers the Prometheus text format', async () => {
    const app = metricsApp();
    for (const authorization of [null, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const response = await app.fetch(`${BASE}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await response.text()).not.toContain('relate_');
    }
    const samples = await scrape(app);
    // Node's process metrics, and the two database pools (SQLite: one connection each).
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    const max = DB === 'sqlite' ? 1 : 20;
    for (const pool of ['reader', 'prisma']) {
      expect(valueOf(samples, 'relate_db_pool_max_connections', { pool })).toBe(max);
      const inUse = valueOf(samples, 'relate_db_pool_connections', { pool, state: 'in_use' });
      const idle = valueOf(samples, 'relate_db_pool_connections', { pool, state: 'idle' });
      expect(inUse + idle).toBeGreaterThan(0);
      expect(inUse + idle).toBeLessThanOrEqual(max);
      expect(valueOf(samples, 'relate_db_pool_waiting_requests', { pool })).toBe(0);
    }
    // Both kinds of refusal are there from the start, at 0.
    expect(valueOf(samples, 'relate_rate_limit_refusals_total', { kind: 'key' })).toBe(0);
    expect(valueOf(samples, 'relate_rate_limit_refusals_total', { kind: 'auth-failure' })).toBe(0);
    // HEAD answers the headers alone; other methods are refused.
    expect((await app.fetch(`${BASE}/metrics`, { method: 'HEAD', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await app.fetch(`${BASE}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
  });

  it('is open without a token', async () => {
    const app = metricsApp({ metricsToken: undefined });
    expect(valueOf(await scrape(app, null), 'relate_rate_limit_refusals_total', { kind: 'key' })).toBe(0);
  });

  it('times requests and counts their SQL statements by operation name and type', async () => {
    const app = metricsApp();
    const viewer = await post(app, 'query ViewerPage { viewer { user { id } } }', ws.apiKey);
    expect(viewer.status).toBe(200);
    await post(app, 'query ViewerPage { viewer { workspace { id } } }', ws.apiKey);
    const created = await post(app, 'mutation AddContact { createRecord(input: { objectKey: "contact", properties: { firstName: "Metric" } }) { __typename } }', ws.apiKey);
    expect(created.body.data.createRecord.__typename).toBe('CreateRecordSuccess');
    const anonymous = await post(app, '{ objects { key } }', ws.apiKey);
    // A document with two operations runs the one named by operationName.
    await post(app, 'query First { viewer { user { id } } } mutation Second { __typename }', ws.apiKey, { operationName: 'First' });

    const samples = await scrape(app);
    expect(valueOf(samples, DURATION, op('ViewerPage', 'query'))).toBe(2);
    expect(valueOf(samples, DURATION, op('AddContact', 'mutation'))).toBe(1);
    expect(valueOf(samples, DURATION, op('anonymous', 'query'))).toBe(1);
    expect(valueOf(samples, DURATION, op('First', 'query'))).toBe(1);
    expect(valueOf(samples, DURATION, op('Second', 'mutation'))).toBe(0);
    expect(valueOf(samples, 'relate_graphql_request_duration_seconds_sum', op('ViewerPage', 'query'))).toBeGreaterThan(0);
    // The statements histogram sees what the response reports.
    expect(valueOf(samples, STATEMENTS_COUNT, op('AddContact', 'mutation'))).toBe(1);
    expect(valueOf(samples, STATEMENTS_SUM, op('AddContact', 'mutation'))).toBe(created.body.extensions!.sqlStatements);
    expect(valueOf(samples, STATEMENTS_SUM, op('anonymous', 'query'))).toBe(anonymous.body.extensions!.sqlStatements);
    expect(anonymous.body.extensions!.sqlStatements).toBeGreaterThan(0);
    // Requests that are not GraphQL operations are not timed.
    expect(samples.filter((sample) => sample.name === DURATION).reduce((sum, sample) => sum + sample.value, 0)).toBe(5);
  });

  it('counts errors by extensions.code, and labels requests refused before execution', async () => {
    const app = metricsApp({ maxBodyBytes: 2000 });
    expect((await post(app, 'query WhoAmI { viewer { user { id } } }', null)).status).toBe(401);
    expect((await post(app, 'query WhoAmI { viewer { user { id } } }', 'rel_wrong')).status).toBe(401);
    expect((await post(app, 'query Broken { viewer { ', ws.apiKey)).body.errors![0].extensions.code).toBeDefined();
    const invalid = await post(app, 'query Invalid { viewer { nope } }', ws.apiKey);
    const tooLarge = await app.fetch(`${BASE}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.apiKey}` },
      body: JSON.stringify({ query: `query Big { viewer { user { id } } } # ${'x'.repeat(3000)}` }),
    });
    expect(tooLarge.status).toBe(413);
    const textPlain = await app.fetch(`${BASE}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(textPlain.status).toBe(415);

    const samples = await scrape(app);
    expect(valueOf(samples, ERRORS, { code: 'UNAUTHENTICATED' })).toBe(2);
    expect(valueOf(samples, ERRORS, { code: invalid.body.errors![0].extensions.code })).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, ERRORS, { code: 'PAYLOAD_TOO_LARGE' })).toBe(1);
    expect(valueOf(samples, ERRORS, { code: 'UNSUPPORTED_MEDIA_TYPE' })).toBe(1);
    const errorTotal = samples.filter((sample) => sample.name === ERRORS).reduce((sum, sample) => sum + sample.value, 0);
    expect(errorTotal).toBe(6);
    // An operation that never executed takes no name of its own: a client without a key cannot
    // fill the name slots. Unparsed ones are "unknown".
    expect(valueOf(samples, DURATION, op('other', 'query'))).toBe(3);
    expect(valueOf(samples, DURATION, op('unknown', 'unknown'))).toBe(3);
    expect(samples.some((sample) => sample.labels.operation_name === 'WhoAmI')).toBe(false);
    // Once it has executed, a name is known, and later refusals are counted under it.
    await post(app, 'query WhoAmI { viewer { user { id } } }', ws.apiKey);
    await post(app, 'query WhoAmI { viewer { user { id } } }', null);
    expect(valueOf(await scrape(app), DURATION, op('WhoAmI', 'query'))).toBe(2);
  });

  it('bounds operation names: the first 200 valid names have series of their own, the rest fold into "other"', async () => {
    const app = metricsApp();
    for (let i = 0; i < 230; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => post(app, `query Op${i + j} { __typename }`, ws.apiKey)));
    }
    // Names that are not plain identifiers of at most 64 characters never get one.
    const long = `Q${'x'.repeat(64)}`;
    await post(app, `query ${long} { __typename }`, ws.apiKey);
    const samples = await scrape(app);
    const names = new Set(samples.filter((sample) => sample.name === DURATION).map((sample) => sample.labels.operation_name));
    expect(names.size).toBe(201);
    expect(names.has('other')).toBe(true);
    expect(names.has(long)).toBe(false);
    expect(valueOf(samples, DURATION, op('other', 'query'))).toBe(31);
    // Names already known keep their series.
    await post(app, 'query Op7 { __typename }', ws.apiKey);
    expect(valueOf(await scrape(app), DURATION, op('Op7', 'query'))).toBe(2);
  });

  it('counts rate-limit refusals by kind', async () => {
    const app = metricsApp({ rateLimit: 2, authFailureLimit: 1 });
    const key = (await t.workspace()).apiKey;
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await post(app, '{ viewer { user { id } } }', key)).status);
    for (let i = 0; i < 3; i += 1) statuses.push((await post(app, '{ viewer { user { id } } }', 'rel_wrong')).status);
    expect(statuses).toEqual([200, 200, 429, 429, 401, 429, 429]);
    const samples = await scrape(app);
    expect(valueOf(samples, 'relate_rate_limit_refusals_total', { kind: 'key' })).toBe(2);
    expect(valueOf(samples, 'relate_rate_limit_refusals_total', { kind: 'auth-failure' })).toBe(2);
    expect(valueOf(samples, ERRORS, { code: 'RATE_LIMITED' })).toBe(4);
  });
});

describe('configuration', () => {
  it('reads RELATE_METRICS_TOKEN', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ RELATE_METRICS_TOKEN: 's3cret-Token_1' }).metricsToken).toBe('s3cret-Token_1');
    expect(() => loadConfig({ RELATE_METRICS_TOKEN: 'two words' })).toThrow('RELATE_METRICS_TOKEN must be printable ASCII without spaces');
  });
});

/** A GET on a connection of its own: the cluster hands new connections to its workers in turn. */
function getOnNewConnection(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers: { ...headers, connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('RELATE_WORKERS=2', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  let apiKey: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development', RELATE_WORKERS: '2', RELATE_METRICS_TOKEN: TOKEN });
    apiKey = /\n {2}(rel_\S+)\n/.exec(server.output())![1]!;
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('every scrape, whichever worker answers it, shows the requests of both', async () => {
    const query = encodeURIComponent('query Spread { viewer { user { id } } }');
    for (let i = 0; i < 10; i += 1) {
      const answer = await getOnNewConnection(`${server.url}/graphql?query=${query}`, { authorization: `Bearer ${apiKey}`, accept: 'application/json' });
      expect(answer.status).toBe(200);
    }
    for (let i = 0; i < 4; i += 1) {
      const scraped = await getOnNewConnection(`${server.url}/metrics`, { authorization: `Bearer ${TOKEN}` });
      expect(scraped.status, scraped.body).toBe(200);
      const samples = parse(scraped.body);
      expect(valueOf(samples, DURATION, op('Spread', 'query'))).toBe(10);
      // Two workers, each with its reader and Prisma pools.
      expect(valueOf(samples, 'relate_db_pool_max_connections', { pool: 'reader' })).toBe(DB === 'sqlite' ? 2 : 20);
    }
    expect((await getOnNewConnection(`${server.url}/metrics`)).status).toBe(401);
  });
});

describe('RELATE_WORKERS=2, one worker still starting', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServer(
      // At debug, the first worker's own "worker listening" line (with the URL) starts the test.
      { DATABASE_URL: db.url, NODE_ENV: 'development', RELATE_WORKERS: '2', RELATE_METRICS_TOKEN: TOKEN, RELATE_TEST_SLOW_WORKER_MS: '8000', LOG_LEVEL: 'debug' },
      serverArgs(['./test/support/slow-second-worker.mjs']),
    );
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('a scrape answers at once with the workers that serve, and with both once the second listens', async () => {
    const listening = () => server.output().split('\n').filter((line) => line.includes('"message":"worker listening"')).length;
    const scrape = async () => {
      const scraped = await getOnNewConnection(`${server.url}/metrics`, { authorization: `Bearer ${TOKEN}` });
      expect(scraped.status, scraped.body).toBe(200);
      return parse(scraped.body);
    };
    expect(listening()).toBe(1);
    // One worker's pools: the one still starting is not asked (it could not answer), so the scrape does not fail waiting for it.
    expect(valueOf(await scrape(), 'relate_db_pool_max_connections', { pool: 'reader' })).toBe(DB === 'sqlite' ? 1 : 10);
    expect(listening()).toBe(1);
    await expect.poll(listening, { timeout: 60_000, interval: 100 }).toBe(2);
    expect(valueOf(await scrape(), 'relate_db_pool_max_connections', { pool: 'reader' })).toBe(DB === 'sqlite' ? 2 : 20);
  }, 90_000);
});
