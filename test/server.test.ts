import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers.js';
import { startServer, type RunningServer } from './support/process.js';

const graphql = (url: string, query: string, apiKey?: string) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ query }),
  });

/** The keys a development start prints: the demo's admin key (first start only), then the development key. */
const printedKeys = (output: string): [string, string] => [
  /shown once, keep it\):\n\n {2}(rel_\S+)\n/.exec(output)?.[1] ?? '',
  /Development key[^\n]*\n\n {2}(rel_\S+)\n/.exec(output)?.[1] ?? '',
];

describe('first start on an empty database (development)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  let apiKey: string;
  let developmentKey: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development' });
    [apiKey, developmentKey] = printedKeys(server.output());
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) await server.stop('SIGKILL');
    await db?.drop();
  });

  it('creates and migrates the database, seeds the Demo workspace and prints its admin key once', async () => {
    expect(apiKey).toMatch(/^rel_/);
    const response = await graphql(
      server.url,
      '{ viewer { user { role } workspace { name } } objects { key } associationLabels { key type cardinality } records(objectKey: "contact") { totalCount } }',
      apiKey,
    );
    const { data } = (await response.json()) as { data: any };
    expect(data.viewer).toEqual({ user: { role: 'ADMIN' }, workspace: { name: 'Demo' } });
    expect(data.objects.map((o: { key: string }) => o.key)).toEqual(['contact', 'custom_objects.cars']);
    expect(data.records.totalCount).toBeGreaterThan(3);
    // One label of each kind: SINGLE and PAIR between contacts, PAIR contact↔custom, MANY_TO_ONE.
    expect(data.associationLabels).toEqual(
      expect.arrayContaining([
        { key: 'colleague', type: 'SINGLE', cardinality: 'MANY_TO_MANY' },
        { key: 'manager_employee', type: 'PAIR', cardinality: 'MANY_TO_MANY' },
        { key: 'owner_car', type: 'PAIR', cardinality: 'MANY_TO_MANY' },
        { key: 'primary_driver', type: 'PAIR', cardinality: 'MANY_TO_ONE' },
      ]),
    );
  });

  it('serves GraphiQL with a working development key for the demo admin in its headers and example operations', async () => {
    expect(developmentKey).toMatch(/^rel_/);
    expect(developmentKey).not.toBe(apiKey);
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('Relate');
    expect(html).toContain(developmentKey);
    expect(html).not.toContain(apiKey);
    expect(html).toContain('RecordPage');
    const { data } = (await (await graphql(server.url, '{ viewer { user { email role } workspace { name } } }', developmentKey)).json()) as { data: any };
    expect(data.viewer).toEqual({ user: { email: 'admin@demo.example.com', role: 'ADMIN' }, workspace: { name: 'Demo' } });
  });

  it('answers /health and /ready', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });

  it('answers 401 without a key', async () => {
    const response = await graphql(server.url, '{ viewer { user { id } } }');
    expect(response.status).toBe(401);
  });

  it('drains in-flight requests and exits cleanly on SIGTERM', async () => {
    // A request whose body is still on its way when SIGTERM arrives must still be answered.
    const body = JSON.stringify({ query: '{ objects { key } }' });
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
        `Authorization: Bearer ${apiKey}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const finished = server.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.write(body);
    await closed;
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    expect(reply).toContain('"key":"contact"');
    const { code, stderr } = await finished;
    expect(code).toBe(0);
    expect(stderr).toContain('"message":"stopped"');
  });

  it('after a restart: no new demo, a new development key in GraphiQL, the last one revoked, the admin key still valid', async () => {
    const again = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development' });
    try {
      const [adminKey, nextKey] = printedKeys(again.output());
      expect(again.output()).not.toContain('Created the "Demo" workspace');
      expect(adminKey).toBe('');
      expect(nextKey).toMatch(/^rel_/);
      expect(nextKey).not.toBe(developmentKey);
      expect(await (await fetch(`${again.url}/graphql`, { headers: { accept: 'text/html' } })).text()).toContain(nextKey);
      expect((await graphql(again.url, '{ viewer { user { id } } }', nextKey)).status).toBe(200);
      expect((await graphql(again.url, '{ viewer { user { id } } }', developmentKey)).status).toBe(401);
      expect((await graphql(again.url, '{ viewer { user { id } } }', apiKey)).status).toBe(200);
      const { data } = (await (await graphql(again.url, '{ records(objectKey: "contact") { totalCount } }', nextKey)).json()) as { data: any };
      expect(data.records.totalCount).toBe(8); // seeded once
    } finally {
      await again.stop('SIGTERM');
    }
  });
});

describe('start in production', () => {
  it('does not seed demo data or serve GraphiQL', async () => {
    const db = await createTestDatabase();
    const server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'production' });
    try {
      expect(server.output()).not.toContain('rel_');
      const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toContain('<html');
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});

describe('stopping while writes are in flight', () => {
  it('SIGTERM while writes whose clients went away still wait their turn: they finish, then the server closes its database and exits', async () => {
    const db = await createTestDatabase();
    const server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development' });
    try {
      const [apiKey] = printedKeys(server.output());
      const listed = (await (await graphql(server.url, '{ records(objectKey: "contact", first: 8) { edges { node { id } } } }', apiKey)).json()) as {
        data: { records: { edges: { node: { id: string } }[] } };
      };
      const ids = listed.data.records.edges.map((edge) => edge.node.id);
      // Writes to one workspace take turns (its write lock): most of these are still waiting when
      // their clients give up and the server is told to stop.
      const aborted = new AbortController();
      const writes = Array.from({ length: 60 }, (_, i) =>
        fetch(`${server.url}/graphql`, {
          method: 'POST',
          signal: aborted.signal,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: JSON.stringify({
            query: `mutation ($a: ID!, $b: ID!) { ${i % 2 ? 'unlinkRecords' : 'linkRecords'}(input: { firstRecordId: $a, secondRecordId: $b, labelKeys: ["colleague"] }) { __typename } }`,
            variables: { a: ids[i % 4]!, b: ids[4 + (i % 4)]! },
          }),
        }).catch(() => undefined),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      aborted.abort();
      await Promise.all(writes);
      const started = Date.now();
      const { code, stderr } = await server.stop('SIGTERM');
      expect(code).toBe(0);
      expect(stderr).toContain('"message":"stopped"');
      // Within the server's own bound for open requests (10 s), and no write failed on a closed database.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(stderr).not.toContain('"level":"error"');
    } finally {
      if (server.child.exitCode === null) await server.stop('SIGKILL');
      await db.drop();
    }
  }, 60_000);
});
