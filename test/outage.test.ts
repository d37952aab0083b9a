/**
 * The database going away. PostgreSQL: the server under test reaches its database through a
 * TCP proxy of the test's own (test/support/proxy.ts), which the test stops — connections are
 * refused, open ones are cut mid-statement — and starts again. The machine's PostgreSQL server
 * itself is never touched. SQLite: a database file that cannot be created, then can.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DB, postgresDatabase } from './helpers.js';
import { relate, runNode, serverArgs, startServer, type RunningServer } from './support/process.js';
import { databaseProxy, type DatabaseProxy } from './support/proxy.js';

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function post(url: string, apiKey: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Answer['body'] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value (not undefined/false), or fails after `ms`. */
async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(100);
  }
}

/** The log lines at warn or error level. */
const loud = (output: string) => output.split('\n').filter((line) => /"level":"(warn|error)"/.test(line));

function expectUnavailable(answer: Answer) {
  expect(answer.status).toBe(503);
  expect(answer.retryAfter).toMatch(/^\d+$/);
  expect(answer.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
}

/** A database name of our own on the shared server: made by the server under test, dropped here. */
function ownDatabaseUrl(): { url: string; drop: () => Promise<void> } {
  return postgresDatabase(process.env.TEST_DATABASE_URL!, `relate_test_outage_${process.pid}_${randomBytes(4).toString('hex')}`);
}

describe.runIf(DB === 'postgresql')('started while the database is unreachable', () => {
  let db: ReturnType<typeof ownDatabaseUrl>;
  let proxy: DatabaseProxy;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    // The database does not exist yet either: the server creates it once it can reach the server.
    db = ownDatabaseUrl();
    proxy = await databaseProxy(db.url, { running: false });
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) await server.stop('SIGKILL');
    await proxy?.close();
    await db?.drop();
  });

  it('starts, logs one clear line, answers 503 until the database is back, then serves without a restart', async () => {
    server = await startServer({ DATABASE_URL: proxy.urlFor(db.url), NODE_ENV: 'development', LOG_LEVEL: 'debug' });
    const pid = server.child.pid;

    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toMatch(/^\d+$/);
    expectUnavailable(await post(server.url, 'rel_not_checked_while_down', '{ viewer { user { id } } }'));

    // Let a few background attempts fail: still one line, no stack trace.
    await sleep(2_500);
    const lines = loud(server.output());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"level":"warn"');
    expect(lines[0]).toContain('database unavailable at start');
    expect(lines[0]).toContain('connection refused');
    expect(lines[0]).not.toMatch(/\bat .*\.ts:\d+/);

    await proxy.start();
    await eventually(async () => (await fetch(`${server!.url}/ready`)).status === 200, 60_000).catch((error) => {
      throw new Error(`${error}\n${server!.output()}`);
    });
    // Created, migrated and seeded (development) once reachable; the demo key is printed then.
    const apiKey = await eventually(() => /\n {2}(rel_\S+)\n/.exec(server!.output())?.[1], 60_000);
    const answer = await post(server.url, apiKey, '{ viewer { workspace { name } } objects { key } }');
    expect(answer.status).toBe(200);
    expect(answer.body.data.viewer.workspace.name).toBe('Demo');
    expect(answer.body.data.objects.map((o: { key: string }) => o.key)).toContain('custom_objects.cars');
    // GraphiQL opens with the development key printed after the start, which works.
    const developmentKey = await eventually(() => /Development key[^\n]*\n\n {2}(rel_\S+)\n/.exec(server!.output())?.[1], 60_000);
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain(developmentKey);
    expect((await post(server.url, developmentKey, '{ viewer { workspace { name } } }')).body.data.viewer.workspace.name).toBe('Demo');
    // The same process all along.
    expect(server.child.exitCode).toBeNull();
    expect(server.child.pid).toBe(pid);
    expect(server.output()).toContain('"message":"database available"');
    expect(loud(server.output())).toHaveLength(1);
  });
});

const ITEM = 'custom_objects.outage_items';
const HUBS = 12;
const ITEMS = 40;
/** Each batch links one hub to GROUP items; every (hub, item) pair belongs to exactly one batch. */
const GROUP = 10;

describe.runIf(DB === 'postgresql')('the database disappearing under load', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: DatabaseProxy;
  let server: RunningServer;
  let apiKey: string;
  let hubs: string[] = [];
  let items: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    proxy = await databaseProxy(db.url);
    const created = await relate(['workspace', 'create', '--name', 'Outage'], { DATABASE_URL: db.url });
    expect(created.code).toBe(0);
    apiKey = JSON.parse(created.stdout).apiKey;
    server = await startServer({ DATABASE_URL: proxy.urlFor(db.url), NODE_ENV: 'production' });
    const must = async (query: string, variables: Record<string, unknown> = {}) => {
      const answer = await post(server.url, apiKey, query, variables);
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      return answer.body.data;
    };
    await must(
      `mutation { createObject(input: { key: "${ITEM}", singularName: "Item", pluralName: "Items", primaryProperty: "name",
        fields: [{ key: "name", name: "Name", type: TEXT }] }) { __typename } }`,
    );
    await must(`mutation { createAssociationLabel(input: { key: "holds", firstObjectKey: "contact", secondObjectKey: "${ITEM}",
      type: PAIR, firstLabel: "Holder", secondLabel: "Item" }) { __typename } }`);
    const create = `mutation ($objectKey: String!, $properties: JSONObject!) {
      createRecord(input: { objectKey: $objectKey, properties: $properties }) { ... on CreateRecordSuccess { record { id } } } }`;
    hubs = await Promise.all(
      Array.from({ length: HUBS }, async (_, i) => (await must(create, { objectKey: 'contact', properties: { firstName: `Hub ${i}` } })).createRecord.record.id),
    );
    items = await Promise.all(
      Array.from({ length: ITEMS }, async (_, i) => (await must(create, { objectKey: ITEM, properties: { name: `Item ${i}` } })).createRecord.record.id),
    );
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) await server.stop('SIGKILL');
    await proxy?.close();
    await db?.drop();
  });

  /** Batch b: hub b / (ITEMS / GROUP), items of group b % (ITEMS / GROUP). */
  const groups = ITEMS / GROUP;
  const batchOf = (b: number) => {
    const hub = hubs[Math.floor(b / groups)]!;
    const start = (b % groups) * GROUP;
    return items.slice(start, start + GROUP).map((item) => ({ firstRecordId: hub, secondRecordId: item, labelKeys: ['holds'] }));
  };
  const link = `mutation ($links: [LinkRecordsInput!]!) { batchLinkRecords(input: { links: $links }) {
    __typename ... on BatchLinkRecordsSuccess { createdCount } ... on Error { code message } } }`;

  it('answers data or 503 SERVICE_UNAVAILABLE (never 500), writes no batch in part, and resumes by itself', async () => {
    const pid = server.child.pid;
    const total = HUBS * groups;
    const outcomes: { batch: number; answer?: Answer; error?: unknown }[] = [];
    let next = 0;
    let cut = false;
    let cutAt = Number.POSITIVE_INFINITY;
    const worker = async () => {
      while (next < total) {
        const batch = next++;
        try {
          const answer = await post(server.url, apiKey, link, { links: batchOf(batch) });
          outcomes.push({ batch, answer });
          // A client told to come back later: a short pause, then the next batch.
          if (answer.status === 503) await sleep(300);
        } catch (error) {
          outcomes.push({ batch, error });
        }
      }
    };
    const storm = Promise.all(Array.from({ length: 6 }, worker));
    // Take the database away with requests in flight, once the storm is under way.
    await eventually(() => outcomes.length >= 15);
    await proxy.stop();
    cut = true;
    cutAt = outcomes.length;
    await sleep(2_000);
    await proxy.start();
    await storm;
    expect(cut).toBe(true);

    // Every request was answered: data, or 503 SERVICE_UNAVAILABLE with Retry-After.
    expect(outcomes.filter((outcome) => outcome.error)).toEqual([]);
    for (const { answer } of outcomes) {
      if (answer!.status === 200) {
        expect(answer!.body.data.batchLinkRecords).toEqual({ __typename: 'BatchLinkRecordsSuccess', createdCount: GROUP });
      } else {
        expectUnavailable(answer!);
      }
      expect(JSON.stringify(answer!.body)).not.toContain('INTERNAL_SERVER_ERROR');
    }
    const refused = outcomes.filter((outcome) => outcome.answer!.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(outcomes.slice(0, cutAt).some((outcome) => outcome.answer!.status === 200)).toBe(true);

    // Service resumes by itself, in the same process.
    await eventually(async () => (await fetch(`${server.url}/ready`)).status === 200);
    const hubsQuery = `query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Record { id
      associations(first: 100) { totalCount edges { relatedRecord { id } } }
      associationEvents(first: 1) { totalCount } } } }`;
    const read = async () => {
      const answer = await post(server.url, apiKey, hubsQuery, { ids: hubs });
      expect(answer.status).toBe(200);
      return answer.body.data.nodes as { id: string; associations: { totalCount: number; edges: { relatedRecord: { id: string } }[] }; associationEvents: { totalCount: number } }[];
    };
    const before = await read();

    // Nothing partial: each batch is there whole or not at all; what was acknowledged is there;
    // associations agree with the event log (one event per link, no-ops write none).
    const succeeded = new Set(outcomes.filter((o) => o.answer!.status === 200).map((o) => o.batch));
    let present = 0;
    for (let b = 0; b < total; b += 1) {
      const hub = before.find((node) => node.id === hubs[Math.floor(b / groups)])!;
      const linked = new Set(hub.associations.edges.map((edge) => edge.relatedRecord.id));
      const count = batchOf(b).filter((entry) => linked.has(entry.secondRecordId)).length;
      expect([0, GROUP], `batch ${b}`).toContain(count);
      if (succeeded.has(b)) expect(count, `acknowledged batch ${b}`).toBe(GROUP);
      if (count) present += 1;
    }
    expect(present).toBeGreaterThanOrEqual(succeeded.size);
    for (const hub of before) expect(hub.associationEvents.totalCount).toBe(hub.associations.totalCount);

    // Retrying what was refused (links are idempotent) completes the work.
    const pending = refused.map(({ batch }) => batch);
    const retry = async () => {
      for (let batch = pending.pop(); batch !== undefined; batch = pending.pop()) {
        const answer = await post(server.url, apiKey, link, { links: batchOf(batch) });
        expect(answer.status).toBe(200);
        expect(answer.body.data.batchLinkRecords.__typename).toBe('BatchLinkRecordsSuccess');
      }
    };
    await Promise.all(Array.from({ length: 4 }, retry));
    const after = await read();
    for (const hub of after) {
      expect(hub.associations.totalCount).toBe(ITEMS);
      expect(hub.associationEvents.totalCount).toBe(ITEMS);
    }

    expect(server.child.exitCode).toBeNull();
    expect(server.child.pid).toBe(pid);
    // The outage is one warning and one notice, not a line per request; nothing at error level.
    const output = server.output();
    expect(output).not.toContain('"level":"error"');
    expect(loud(output).filter((line) => line.includes('database unavailable'))).toHaveLength(1);
    expect(output).toContain('"message":"database available"');
  });

  it('a statement held up longer than RELATE_STATEMENT_TIMEOUT answers 503 SERVICE_UNAVAILABLE, on both pools', async () => {
    const slow = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'production', RELATE_STATEMENT_TIMEOUT: '1000' });
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      const page = `query ($id: ID!) { record(id: $id) { associations { totalCount } } }`;
      const first = await post(slow.url, apiKey, page, { id: hubs[0] });
      expect(first.status).toBe(200);
      const linkOne = `mutation ($a: ID!, $b: ID!) { unlinkRecords(input: { firstRecordId: $a, secondRecordId: $b, labelKeys: ["holds"] }) {
        __typename ... on UnlinkRecordsSuccess { removedCount } } }`;

      // Another session holds the association table: reads and writes of it wait on the lock.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE "Association" IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      // A read on the bare-driver pool…
      const read = await post(slow.url, apiKey, page, { id: hubs[0] });
      // …and a write transaction on Prisma's pool.
      const write = await post(slow.url, apiKey, linkOne, { a: hubs[0], b: items[0] });
      const elapsed = Date.now() - started;
      await blocker.query('ROLLBACK');

      for (const answer of [read, write]) {
        expectUnavailable(answer);
        expect(answer.body.errors![0]!.message).toContain('statement timeout');
      }
      expect(elapsed).toBeGreaterThanOrEqual(2_000);
      expect(elapsed).toBeLessThan(10_000);

      // Nothing was written by the timed-out transaction; the lock gone, both answer again.
      const again = await post(slow.url, apiKey, page, { id: hubs[0] });
      expect(again.status).toBe(200);
      expect(again.body.data.record.associations.totalCount).toBe(ITEMS);
      const unlinked = await post(slow.url, apiKey, linkOne, { a: hubs[0], b: items[0] });
      expect(unlinked.body.data.unlinkRecords).toEqual({ __typename: 'UnlinkRecordsSuccess', removedCount: 1 });
      // A timeout is the statement's, not an outage: reported as a warning, the database stays ready.
      expect((await fetch(`${slow.url}/ready`)).status).toBe(200);
      expect(slow.output()).not.toContain('database unavailable');
      expect(slow.output()).toContain('"message":"statement timeout"');
    } finally {
      await blocker.end();
      await slow.stop();
    }
  });
});

describe.runIf(DB === 'sqlite')('started while the SQLite file cannot be created', () => {
  it('answers 503 until it can, then migrates and serves without a restart', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'relate-outage-'));
    // A file where the database's folder should be: the database cannot be created.
    const blocked = join(folder, 'data');
    writeFileSync(blocked, '');
    const server = await startServer({ DATABASE_URL: `file:${join(blocked, 'relate.db')}`, NODE_ENV: 'development' });
    try {
      expect((await fetch(`${server.url}/ready`)).status).toBe(503);
      expectUnavailable(await post(server.url, 'rel_not_checked_while_down', '{ viewer { user { id } } }'));
      const lines = loud(server.output());
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('cannot create or open the SQLite database');

      rmSync(blocked);
      await eventually(async () => (await fetch(`${server.url}/ready`)).status === 200, 60_000);
      const apiKey = await eventually(() => /\n {2}(rel_\S+)\n/.exec(server.output())?.[1], 60_000);
      const answer = await post(server.url, apiKey, '{ viewer { workspace { name } } }');
      expect(answer.status).toBe(200);
      expect(answer.body.data.viewer.workspace.name).toBe('Demo');
      expect(server.child.exitCode).toBeNull();
    } finally {
      await server.stop();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

// Needs no database server: runs once, with the SQLite suites.
describe.runIf(DB === 'sqlite')('a DATABASE_URL that cannot name a database', () => {
  it('is not retried: the server exits at once with one line, never echoing the password', async () => {
    const result = await runNode(serverArgs(), {
      DATABASE_URL: 'postgresql://admin:s3cret@db.example/',
      PORT: '0',
      LOG_LEVEL: 'info',
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"level":"error","message":"cannot start: DATABASE_URL names no database');
    expect(result.stderr).not.toContain('s3cret');
  });
});
