/**
 * Webhook delivery by real server processes on one database (SPEC §5.2): pending deliveries
 * survive a SIGKILL and go out after a restart; several servers (one of them with two workers)
 * deliver each event once in the common case; a server started without
 * RELATE_WEBHOOK_ALLOW_PRIVATE posts nothing to loopback, even to endpoints created while it was
 * allowed; and examples/webhook-receiver.ts verifies what a server sends and handles each event
 * once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers.js';
import { ROOT, startServer, type RunningServer } from './support/process.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';

type Gql = (query: string, variables?: Record<string, unknown>) => Promise<any>;

const RETRIES = Array.from({ length: 40 }, () => '0.2').join(',');
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let apiKey: string;
const running: RunningServer[] = [];
let receiver: Receiver;

const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.url,
  NODE_ENV: 'development',
  RELATE_RATE_LIMIT: '0',
  RELATE_WEBHOOK_ALLOW_PRIVATE: 'true',
  RELATE_WEBHOOK_TIMEOUT: '2',
  RELATE_WEBHOOK_RETRY_DELAYS: RETRIES,
  ...extra,
});

async function start(extra: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer(env(extra));
  running.push(server);
  return server;
}

function gqlOn(server: RunningServer): Gql {
  return async (query, variables = {}) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data: any; errors?: unknown };
    if (response.status !== 200 || body.errors) throw new Error(`${response.status} ${JSON.stringify(body)}`);
    return body.data;
  };
}

/** `data[field]` of a mutation, failing unless it is the Success member. */
async function mutate(gql: Gql, field: string, input: Record<string, unknown>, select = '__typename') {
  const type = field[0]!.toUpperCase() + field.slice(1);
  const result = (await gql(`mutation ($input: ${type}Input!) { ${field}(input: $input) { __typename ... on ${type}Success { ${select} } ... on Error { code message } } }`, { input }))[field];
  if (result.__typename !== `${type}Success`) throw new Error(`${field}: ${JSON.stringify(result)}`);
  return result;
}

const createEndpoint = async (gql: Gql, url: string, eventTypes: string[] = ['association.linked']) =>
  (await mutate(gql, 'createWebhookEndpoint', { url, eventTypes }, 'secret webhookEndpoint { id }')) as { secret: string; webhookEndpoint: { id: string } };

const DELIVERIES = `query ($id: ID!, $status: WebhookDeliveryStatus) { node(id: $id) { ... on WebhookEndpoint {
  deliveries(first: 100, status: $status) { totalCount edges { node { id eventId status attempts responseStatus } } } } } }`;
const deliveries = async (gql: Gql, id: string, status?: string) => (await gql(DELIVERIES, { id, status })).node.deliveries;

let items: string[] = [];
let pairs = 0;
/** `count` new links (under the SINGLE label `hooked` between `item` records), in one batch. */
async function links(gql: Gql, count: number) {
  const batch = Array.from({ length: count }, () => {
    const n = pairs++;
    // Distinct pairs (i, j) with i < j, in order.
    let i = 0;
    let rest = n;
    while (rest >= items.length - 1 - i) {
      rest -= items.length - 1 - i;
      i += 1;
    }
    return { firstRecordId: items[i]!, secondRecordId: items[i + 1 + rest]!, labelKeys: ['hooked'] };
  });
  const result = await mutate(gql, 'batchLinkRecords', { links: batch }, 'createdCount');
  expect(result.createdCount).toBe(count);
}

const ids = (requests: Receiver['requests'], path: string, status?: number) =>
  requests.filter((r) => r.path === path && (status === undefined || r.status === status)).map((r) => r.headers['webhook-id'] as string);

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startReceiver();
}, 120_000);
afterAll(async () => {
  for (const server of running) if (server.child.exitCode === null && server.child.signalCode === null) await server.stop('SIGKILL');
  await receiver?.close();
  await db?.drop();
});

describe('webhook delivery by server processes', () => {
  let server: RunningServer;
  let gql: Gql;
  /** Created while private targets were allowed, disabled until the last test. */
  let httpsLoopback: string;
  let plainHttp: string;
  let tls: Receiver;

  it('delivers every pending delivery after a SIGKILL and a restart', async () => {
    server = await start();
    apiKey = /\n {2}(rel_\S+)\n/.exec(server.output())![1]!;
    gql = gqlOn(server);
    const object = await mutate(gql, 'createObject', {
      key: 'item',
      singularName: 'Item',
      pluralName: 'Items',
      primaryProperty: 'name',
      fields: [{ key: 'name', name: 'Name', type: 'TEXT', required: true }],
    }, 'object { key }');
    await mutate(gql, 'createAssociationLabel', { key: 'hooked', firstObjectKey: object.object.key, secondObjectKey: object.object.key, type: 'SINGLE', firstLabel: 'Hooked' });
    items = [];
    for (let i = 0; i < 30; i += 1) {
      items.push((await mutate(gql, 'createRecord', { objectKey: object.object.key, properties: { name: `Item ${i}` } }, 'record { id }')).record.id);
    }
    tls = await startReceiver();
    httpsLoopback = (await createEndpoint(gql, `https://localhost:${tls.port}/`)).webhookEndpoint.id;
    await mutate(gql, 'updateWebhookEndpoint', { id: httpsLoopback, enabled: false });
    plainHttp = (await createEndpoint(gql, `${receiver.url}/plain`)).webhookEndpoint.id;
    await mutate(gql, 'updateWebhookEndpoint', { id: plainHttp, enabled: false });

    // The receiver is down (503): every delivery stays PENDING, retried every 0.2 s.
    let phase: 'down' | 'up' = 'down';
    receiver.respond = (request) => (request.path === '/crash' && phase === 'down' ? 503 : 200);
    const endpoint = await createEndpoint(gql, `${receiver.url}/crash`);
    receiver.secrets.set('/crash', endpoint.secret);
    await links(gql, 25);
    await receiver.until((requests) => new Set(ids(requests, '/crash')).size === 25, 20_000, 'a first attempt of each');
    await server.stop('SIGKILL');
    const attempted = new Set(ids(receiver.requests, '/crash'));
    expect(receiver.requests.filter((r) => r.path === '/crash').every((r) => r.verified && r.status === 503)).toBe(true);

    phase = 'up';
    server = await start();
    gql = gqlOn(server);
    // Leases of attempts in flight at the kill expire (timeout + margin), then those go too.
    await receiver.until((requests) => new Set(ids(requests, '/crash', 200)).size === 25, 30_000, 'every delivery after the restart');
    expect(new Set(ids(receiver.requests, '/crash', 200))).toEqual(attempted);
    await expect.poll(async () => (await deliveries(gql, endpoint.webhookEndpoint.id, 'SUCCEEDED')).totalCount, { timeout: 10_000 }).toBe(25);
    expect((await deliveries(gql, endpoint.webhookEndpoint.id, 'PENDING')).totalCount).toBe(0);
    await mutate(gql, 'deleteWebhookEndpoint', { id: endpoint.webhookEndpoint.id });
  });

  it('examples/webhook-receiver.ts verifies what a server sends, and handles a redelivered event once', async () => {
    const port = await freePort();
    const endpoint = await createEndpoint(gql, `http://127.0.0.1:${port}/`, []);
    const example = spawnExample(endpoint.secret, port);
    try {
      await example.listening;
      await links(gql, 3);
      await until(() => example.lines().filter((line) => line.type === 'association.linked').length === 3, 'three events at the example');
      const first = example.lines()[0];
      expect(first).toMatchObject({ id: expect.any(String), type: 'association.linked', duplicate: false, data: { label: { key: 'hooked' } } });
      expect(example.lines().every((line) => !line.rejected && !line.duplicate)).toBe(true);
      // Redelivered: the same webhook-id, recognised and not handled again.
      await expect.poll(async () => (await deliveries(gql, endpoint.webhookEndpoint.id, 'SUCCEEDED')).totalCount, { timeout: 10_000 }).toBe(3);
      const delivery = (await deliveries(gql, endpoint.webhookEndpoint.id)).edges[0].node;
      await mutate(gql, 'redeliverWebhook', { deliveryId: delivery.id });
      await until(() => example.lines().some((line) => line.duplicate), 'the duplicate');
      expect(example.lines().filter((line) => line.duplicate)).toEqual([{ id: delivery.eventId, type: 'association.linked', duplicate: true }]);
      // A forged request is refused.
      const forged = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { 'webhook-id': delivery.eventId, 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,Zm9yZ2Vk' },
        body: '{"type":"record.deleted","timestamp":"2020-01-01T00:00:00.000Z","data":{}}',
      });
      expect(forged.status).toBe(400);
      await until(() => example.lines().some((line) => line.rejected), 'the rejection');
    } finally {
      example.child.kill('SIGTERM');
      await mutate(gql, 'deleteWebhookEndpoint', { id: endpoint.webhookEndpoint.id });
    }
  });

  it('several servers (one with two workers) deliver each event once to a healthy receiver', async () => {
    const other = await start({ RELATE_WORKERS: '2' });
    const gqlOther = gqlOn(other);
    const endpoint = await createEndpoint(gql, `${receiver.url}/shared`);
    receiver.secrets.set('/shared', endpoint.secret);
    // Writes spread over the servers, so each process is woken by its own commits.
    for (let round = 0; round < 10; round += 1) await links(round % 2 ? gql : gqlOther, 10);
    await receiver.until((requests) => new Set(ids(requests, '/shared')).size === 100, 30_000, 'one hundred events');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sent = ids(receiver.requests, '/shared');
    const duplicates = sent.length - new Set(sent).size;
    console.log(`[webhooks] 3 dispatching processes, 100 events: ${sent.length} requests, ${duplicates} duplicates`);
    expect(receiver.requests.filter((r) => r.path === '/shared').every((r) => r.verified)).toBe(true);
    expect(duplicates).toBe(0);
    await expect.poll(async () => (await deliveries(gql, endpoint.webhookEndpoint.id, 'SUCCEEDED')).totalCount, { timeout: 10_000 }).toBe(100);
    await mutate(gql, 'deleteWebhookEndpoint', { id: endpoint.webhookEndpoint.id });
    // SIGTERM: the dispatchers stop and the servers exit cleanly.
    expect((await other.stop()).code).toBe(0);
    expect((await server.stop()).code).toBe(0);
  });

  it('a server without RELATE_WEBHOOK_ALLOW_PRIVATE posts nothing to loopback, even to endpoints created while it was allowed', async () => {
    const watched = await startReceiver();
    server = await start({ RELATE_WEBHOOK_ALLOW_PRIVATE: '', LOG_LEVEL: 'debug' });
    gql = gqlOn(server);
    // Creating one is refused now…
    const refused = (await gql(`mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename ... on ValidationError { field } } }`, {
      input: { url: `${watched.url}/` },
    })).createWebhookEndpoint;
    expect(refused).toEqual({ __typename: 'ValidationError', field: 'url' });
    // …and the endpoints made while it was allowed get nothing: plain http, and https to a name that resolves to loopback.
    for (const id of [httpsLoopback, plainHttp]) await mutate(gql, 'updateWebhookEndpoint', { id, enabled: true });
    const connectionsBefore = receiver.connections;
    await links(gql, 2);
    for (const id of [httpsLoopback, plainHttp]) {
      await expect
        .poll(async () => (await deliveries(gql, id)).edges.every((edge: any) => edge.node.attempts >= 2), { timeout: 10_000 })
        .toBe(true);
      const seen = (await deliveries(gql, id)).edges.map((edge: any) => edge.node);
      expect(seen).toHaveLength(2);
      for (const delivery of seen) expect(delivery).toMatchObject({ status: 'PENDING', responseStatus: null });
    }
    expect(tls.connections).toBe(0);
    expect(receiver.connections).toBe(connectionsBefore);
    expect(ids(receiver.requests, '/plain')).toEqual([]);
    expect(server.output()).toMatch(/refused: (127\.0\.0\.1|::1) is not a public address \(loopback\)/);
    expect(server.output()).toContain('refused: http: is not allowed');
    await tls.close();
    await watched.close();
  });
});

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function spawnExample(secret: string, port: number) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'examples/webhook-receiver.ts'], {
    cwd: ROOT,
    env: { ...process.env, WEBHOOK_SECRET: secret, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const listening = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => String(chunk).includes('listening') && resolve());
    child.on('exit', (code) => reject(new Error(`example receiver exited (${code})`)));
  });
  const lines = () => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  return { child, listening, lines };
}

async function until(predicate: () => boolean, what: string, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
