import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type App, type AppOptions } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { useTestApp, type TestWorkspace } from './helpers.js';
import { startServer, type RunningServer } from './support/process.js';

/**
 * Rate limits over HTTP. The in-process servers below share this file's database with the test
 * app of `useTestApp`, which has no limits and arranges what the limited servers are asked.
 */
const t = useTestApp();

const VIEWER = '{ viewer { user { id } } }';
const COUNT_CONTACTS = '{ records(objectKey: "contact") { totalCount } }';
const CREATE_CONTACT = `mutation { createRecord(input: { objectKey: "contact", properties: { firstName: "Over" } }) {
  __typename } }`;

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function post(url: string, query: string, options: { apiKey?: string | null; authorization?: string; forwardedFor?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  if (options.authorization) headers.authorization = options.authorization;
  if (options.forwardedFor) headers['x-forwarded-for'] = options.forwardedFor;
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query }) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

/** The RateLimit field of a response, parsed: remaining quota and seconds to reset. */
function rateLimitOf(answer: Answer, policy: string): { r: number; t: number } {
  const match = new RegExp(`^"${policy}";r=(\\d+);t=(\\d+)$`).exec(answer.headers.get('ratelimit') ?? '');
  expect(match, `RateLimit header: ${answer.headers.get('ratelimit')}`).not.toBeNull();
  return { r: Number(match![1]), t: Number(match![2]) };
}

function expectRefused(answer: Answer, policy: string, quota: number) {
  expect(answer.status).toBe(429);
  expect(answer.body.data ?? null).toBeNull();
  expect(answer.body.errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED']);
  expect(answer.headers.get('ratelimit-policy')).toBe(`"${policy}";q=${quota};w=60`);
  const { r, t: reset } = rateLimitOf(answer, policy);
  expect(r).toBe(0);
  expect(reset).toBeGreaterThan(0);
  expect(reset).toBeLessThanOrEqual(60);
  // Retry-After: the window's reset, never earlier than the RateLimit field's.
  expect(Number(answer.headers.get('retry-after'))).toBe(reset);
}

const servers: { server: Server; app: App }[] = [];

/** An app with the given limits, served over HTTP on a free port. */
async function serve(config: Omit<AppOptions['config'], 'production' | 'introspection' | 'reportStatements'>) {
  const app = createApp({ config: { production: true, introspection: true, reportStatements: false, ...config } });
  const server = createServer((req, res) => void app(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ server, app });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterAll(async () => {
  for (const { server, app } of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await app.dispose();
  }
});

/** A second key of the workspace's admin, made through the API. */
async function secondKey(ws: TestWorkspace): Promise<{ id: string; apiKey: string }> {
  const viewer = await ws.gql(VIEWER);
  const created = await ws.gql(
    `mutation ($userId: ID!) { createApiKey(input: { userId: $userId, name: "second" }) {
      ... on CreateApiKeySuccess { apiKey key { id } } } }`,
    { userId: viewer.data.viewer.user.id },
  );
  return { id: created.data.createApiKey.key.id, apiKey: created.data.createApiKey.apiKey };
}

describe('per-API-key rate limit (RELATE_RATE_LIMIT)', () => {
  it('serves exactly the limit in a minute, with the remaining quota in RateLimit, then answers 429', async () => {
    const url = await serve({ rateLimit: 5 });
    const ws = await t.workspace();
    for (let i = 1; i <= 5; i += 1) {
      const answer = await post(url, VIEWER, { apiKey: ws.apiKey });
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      expect(answer.headers.get('ratelimit-policy')).toBe('"default";q=5;w=60');
      const { r, t: reset } = rateLimitOf(answer, 'default');
      expect(r).toBe(5 - i);
      expect(reset).toBeGreaterThan(0);
      expect(reset).toBeLessThanOrEqual(60);
      expect(answer.headers.get('retry-after')).toBeNull();
    }
    const sixth = await post(url, VIEWER, { apiKey: ws.apiKey });
    expectRefused(sixth, 'default', 5);
    expect(sixth.body.errors![0]!.message).toMatch(/5 requests per minute/);
    expectRefused(await post(url, VIEWER, { apiKey: ws.apiKey }), 'default', 5);
  });

  it('does not execute a mutation over the limit, and leaves other keys of the workspace their own budget', async () => {
    const url = await serve({ rateLimit: 5 });
    const ws = await t.workspace();
    const other = await secondKey(ws);
    const before = (await ws.gql(COUNT_CONTACTS)).data.records.totalCount;
    for (let i = 0; i < 4; i += 1) expect((await post(url, VIEWER, { apiKey: ws.apiKey })).status).toBe(200);
    const fifth = await post(url, CREATE_CONTACT, { apiKey: ws.apiKey });
    expect(fifth.body.data.createRecord.__typename).toBe('CreateRecordSuccess');
    expectRefused(await post(url, CREATE_CONTACT, { apiKey: ws.apiKey }), 'default', 5);
    expect((await ws.gql(COUNT_CONTACTS)).data.records.totalCount).toBe(before + 1);

    const otherAnswer = await post(url, COUNT_CONTACTS, { apiKey: other.apiKey });
    expect(otherAnswer.status).toBe(200);
    expect(otherAnswer.body.data.records.totalCount).toBe(before + 1);
    expect(rateLimitOf(otherAnswer, 'default').r).toBe(4);
  });

  it('is off with 0: no refusals and no RateLimit headers', async () => {
    const url = await serve({ rateLimit: 0 });
    const ws = await t.workspace();
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(url, VIEWER, { apiKey: ws.apiKey })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    expect(answers.some((answer) => answer.headers.has('ratelimit') || answer.headers.has('ratelimit-policy'))).toBe(false);
  });

  it('counts concurrent requests exactly', async () => {
    const url = await serve({ rateLimit: 7 });
    const ws = await t.workspace();
    const answers = await Promise.all(Array.from({ length: 12 }, () => post(url, VIEWER, { apiKey: ws.apiKey })));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(7);
    for (const refused of answers.filter((answer) => answer.status !== 200)) expectRefused(refused, 'default', 7);
  });
});

describe('failed authentications (RELATE_AUTH_FAILURE_LIMIT)', () => {
  it('are throttled per client address, and a valid key from that address is still served', async () => {
    const url = await serve({ rateLimit: 100, authFailureLimit: 4, trustProxy: 1 });
    const ws = await t.workspace();
    const revoked = await secondKey(ws);
    await ws.gql(`mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { __typename } }`, { id: revoked.id });
    const from = (forwardedFor: string) => ({ forwardedFor });

    // Missing, malformed, wrong and revoked keys: each is one failure, answered 401 until the budget is spent.
    const failures = [
      await post(url, VIEWER, from('203.0.113.7')),
      await post(url, VIEWER, { ...from('203.0.113.7'), authorization: 'Basic dXNlcjpwYXNz' }),
      await post(url, VIEWER, { ...from('203.0.113.7'), apiKey: 'rel_not-a-real-key' }),
      await post(url, VIEWER, { ...from('203.0.113.7'), apiKey: revoked.apiKey }),
    ];
    expect(failures.map((answer) => answer.status)).toEqual([401, 401, 401, 401]);
    expect(failures.map((answer) => answer.body.errors?.[0]?.extensions?.code)).toEqual(Array(4).fill('UNAUTHENTICATED'));
    expect(failures.map((answer) => answer.headers.get('ratelimit-policy'))).toEqual(Array(4).fill('"failed-auth";q=4;w=60'));
    expect(failures.map((answer) => rateLimitOf(answer, 'failed-auth').r)).toEqual([3, 2, 1, 0]);

    expectRefused(await post(url, VIEWER, { ...from('203.0.113.7'), apiKey: 'rel_another-guess' }), 'failed-auth', 4);
    expectRefused(await post(url, VIEWER, from('203.0.113.7')), 'failed-auth', 4);

    // A valid key from the same address is served, under its own per-key budget.
    const valid = await post(url, VIEWER, { ...from('203.0.113.7'), apiKey: ws.apiKey });
    expect(valid.status).toBe(200);
    expect(valid.body.data.viewer.user.id).toEqual(expect.any(String));
    expect(valid.headers.get('ratelimit-policy')).toBe('"default";q=100;w=60');
    // ... and does not lift the throttle for requests without one.
    expectRefused(await post(url, VIEWER, { ...from('203.0.113.7'), apiKey: revoked.apiKey }), 'failed-auth', 4);

    // Another address has its own budget.
    const elsewhere = await post(url, VIEWER, { ...from('203.0.113.8'), apiKey: 'rel_not-a-real-key' });
    expect(elsewhere.status).toBe(401);
    expect(rateLimitOf(elsewhere, 'failed-auth').r).toBe(3);
  });

  it('count the socket address and ignore X-Forwarded-For unless RELATE_TRUST_PROXY is set', async () => {
    const url = await serve({ authFailureLimit: 2 });
    expect((await post(url, VIEWER, { forwardedFor: '198.51.100.1' })).status).toBe(401);
    expect((await post(url, VIEWER, { forwardedFor: '198.51.100.2' })).status).toBe(401);
    expectRefused(await post(url, VIEWER, { forwardedFor: '198.51.100.3' }), 'failed-auth', 2);
  });

  it('behind a trusted proxy, count the address the proxy appended, not what the client claims', async () => {
    const url = await serve({ authFailureLimit: 2, trustProxy: 1 });
    expect((await post(url, VIEWER, { forwardedFor: '10.0.0.1, 198.51.100.20' })).status).toBe(401);
    expect((await post(url, VIEWER, { forwardedFor: '10.0.0.2, 198.51.100.20' })).status).toBe(401);
    expectRefused(await post(url, VIEWER, { forwardedFor: '10.0.0.3, 198.51.100.20' }), 'failed-auth', 2);
    // Two proxies: the client is the second entry from the right.
    const twoHops = await serve({ authFailureLimit: 2, trustProxy: 2 });
    expect((await post(twoHops, VIEWER, { forwardedFor: '1.1.1.1, 198.51.100.30, 10.0.0.9' })).status).toBe(401);
    expect((await post(twoHops, VIEWER, { forwardedFor: '2.2.2.2, 198.51.100.30, 10.0.0.8' })).status).toBe(401);
    expectRefused(await post(twoHops, VIEWER, { forwardedFor: '198.51.100.30, 10.0.0.7' }), 'failed-auth', 2);
    expect((await post(twoHops, VIEWER, { forwardedFor: '198.51.100.31, 10.0.0.7' })).status).toBe(401);
  });

  it('count an IPv6 client by its /64', async () => {
    const url = await serve({ authFailureLimit: 2, trustProxy: 1 });
    expect((await post(url, VIEWER, { forwardedFor: '2001:db8:1:2::1' })).status).toBe(401);
    expect((await post(url, VIEWER, { forwardedFor: '2001:0db8:0001:0002:ffff:0:0:9' })).status).toBe(401);
    expectRefused(await post(url, VIEWER, { forwardedFor: '2001:db8:1:2:abcd::7' }), 'failed-auth', 2);
    expect((await post(url, VIEWER, { forwardedFor: '2001:db8:1:3::1' })).status).toBe(401);
  });

  it('are not throttled with 0', async () => {
    const url = await serve({ authFailureLimit: 0 });
    const answers = await Promise.all(Array.from({ length: 15 }, () => post(url, VIEWER, { apiKey: 'rel_wrong' })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(15).fill(401));
    expect(answers.some((answer) => answer.headers.has('ratelimit'))).toBe(false);
  });
});

describe('configuration', () => {
  it('defaults to 6000 requests per key and 60 failed authentications per address a minute, in each process', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ rateLimit: 6000, authFailureLimit: 60, redisUrl: undefined, redisPrefix: 'relate', trustProxy: 0 });
    expect(loadConfig({ RELATE_RATE_LIMIT: '0', RELATE_AUTH_FAILURE_LIMIT: '5', RELATE_TRUST_PROXY: 'true' })).toMatchObject({
      rateLimit: 0,
      authFailureLimit: 5,
      trustProxy: 1,
    });
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379/2', RELATE_TRUST_PROXY: '2' })).toMatchObject({
      redisUrl: 'redis://cache:6379/2',
      trustProxy: 2,
    });
  });

  it('refuses bad values with a message that names the setting', () => {
    for (const value of ['-1', 'many', '1.5', '6e3x']) {
      expect(() => loadConfig({ RELATE_RATE_LIMIT: value })).toThrow(`RELATE_RATE_LIMIT must be a whole number of requests per minute (0 turns the limit off); got "${value}"`);
    }
    expect(() => loadConfig({ RELATE_AUTH_FAILURE_LIMIT: 'ten' })).toThrow(/^RELATE_AUTH_FAILURE_LIMIT must be a whole number/);
    expect(() => loadConfig({ REDIS_URL: 'http://user:secret@cache:6379' })).toThrow('REDIS_URL must start with redis:// or rediss://; got "http:…"');
    expect(() => loadConfig({ RELATE_TRUST_PROXY: 'maybe' })).toThrow(/^RELATE_TRUST_PROXY must be true, false or the number of proxies/);
  });
});

describe('with REDIS_URL unreachable', () => {
  it('keeps serving, counting in the process until Redis is back', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const url = await serve({ rateLimit: 3, authFailureLimit: 2, redisUrl: `redis://127.0.0.1:${port}` });
    const ws = await t.workspace();
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await post(url, VIEWER, { apiKey: ws.apiKey }));
    expect(answers.slice(0, 3).map((answer) => rateLimitOf(answer, 'default').r)).toEqual([2, 1, 0]);
    expectRefused(answers[3]!, 'default', 3);
    expect((await post(url, VIEWER)).status).toBe(401);
    expect((await post(url, VIEWER)).status).toBe(401);
    expectRefused(await post(url, VIEWER), 'failed-auth', 2);
  });
});

// Redis for the tests that share limits: TEST_REDIS_URL, or one on this machine's default port.
const redisUrl = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const redisUp = await (async () => {
  const probe = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
})();
if (!redisUp) console.warn(`\n[relate] No Redis at ${redisUrl} (set TEST_REDIS_URL): the shared rate limit tests are skipped.\n`);

/** POSTs on a connection of its own, so that a cluster's workers take turns answering. */
function postOnNewConnection(url: string, query: string, apiKey: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query });
    const request = httpRequest(
      `${url}/graphql`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe.runIf(redisUp)('with REDIS_URL', () => {
  // A prefix of this run's own, so parallel test files and database projects never share counts.
  const prefix = `relate-test:${process.pid}:${randomBytes(4).toString('hex')}`;
  const started: RunningServer[] = [];
  // Servers of their own, on this file's database (keys are arranged through the test app).
  const env = (extra: Record<string, string>) => ({
    DATABASE_URL: t.url,
    NODE_ENV: 'production',
    REDIS_URL: redisUrl,
    RELATE_REDIS_PREFIX: prefix,
    ...extra,
  });
  /** Starts a server and waits until its rate limits count in Redis (`workers` processes). */
  const start = async (extra: Record<string, string>, workers = 1) => {
    const server = await startServer(env(extra));
    started.push(server);
    const deadline = Date.now() + 10_000;
    while (server.output().split('"rate limits are shared through Redis"').length - 1 < workers) {
      if (Date.now() > deadline) throw new Error(`Redis not connected:\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return server;
  };

  afterAll(async () => {
    for (const server of started) if (server.child.exitCode === null) await server.stop('SIGKILL');
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('two servers share each key budget and each address budget', async () => {
    const { apiKey } = await t.workspace();
    const limits = { RELATE_RATE_LIMIT: '6', RELATE_AUTH_FAILURE_LIMIT: '2' };
    const [first, second] = await Promise.all([start(limits), start(limits)]);

    const remaining: number[] = [];
    for (const server of [first, first, first, second, second, second]) {
      const answer = await post(server.url, VIEWER, { apiKey });
      expect(answer.status).toBe(200);
      remaining.push(rateLimitOf(answer, 'default').r);
    }
    expect(remaining).toEqual([5, 4, 3, 2, 1, 0]);
    expectRefused(await post(first.url, VIEWER, { apiKey }), 'default', 6);
    expectRefused(await post(second.url, VIEWER, { apiKey }), 'default', 6);

    expect((await post(first.url, VIEWER)).status).toBe(401);
    expect((await post(second.url, VIEWER)).status).toBe(401);
    expectRefused(await post(first.url, VIEWER), 'failed-auth', 2);

    const redis = new Redis(redisUrl);
    try {
      expect((await redis.keys(`${prefix}:rate:*`)).length).toBe(2);
    } finally {
      await redis.quit();
    }

    const stopped = await Promise.all([first.stop(), second.stop()]);
    expect(stopped.map((result) => result.code)).toEqual([0, 0]);
    const logs = stopped.map((result) => result.stderr).join('');
    // Client errors are warnings, once per window wherever the budget ran out; never errors.
    expect(logs.match(/"level":"warn","message":"rate limit exceeded"/g)).toHaveLength(1);
    expect(logs.match(/"level":"warn","message":"too many failed authentications"/g)).toHaveLength(1);
    expect(logs).not.toContain('"level":"error"');
  });

  it('RELATE_WORKERS=2 shares one budget between the workers', async () => {
    const { apiKey } = await t.workspace();
    const server = await start({ RELATE_RATE_LIMIT: '4', RELATE_WORKERS: '2' }, 2);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) statuses.push(await postOnNewConnection(server.url, VIEWER, apiKey));
    // Counted per worker, each would serve 4 of these 8 (connections alternate between workers).
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    expect((await server.stop()).code).toBe(0);
  });
});
