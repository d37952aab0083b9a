/**
 * SPEC §5.2: an event committed by any process or server sharing the database reaches
 * subscribers on all of them — worker processes of one server (RELATE_WORKERS=2), and two
 * servers on one database (one PostgreSQL database; one SQLite file). Real server processes,
 * real SSE connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveAssociationEventsDocument } from './generated/graphql.js';
import { createTestDatabase } from './helpers.js';
import { startServer, type RunningServer } from './support/process.js';
import { subscribeOverSse, type SseSubscription } from './support/sse.js';

const developmentKey = (output: string) => /Development key[^\n]*\n\n {2}(rel_\S+)\n/.exec(output)![1]!;

/** A mutation or query on `server` with `apiKey`; fails on any error. */
async function gql(server: RunningServer, apiKey: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
}

const CREATE = `mutation ($name: String!) { createRecord(input: { objectKey: "contact", properties: { firstName: $name } }) {
  ... on CreateRecordSuccess { record { id } } } }`;
const LINK = `mutation ($a: ID!, $b: ID!) { linkRecords(input: { firstRecordId: $a, secondRecordId: $b, labelKeys: ["colleague"] }) {
  __typename ... on LinkRecordsSuccess { created } } }`;

/** Two new contacts (nothing else links them). */
async function pair(server: RunningServer, apiKey: string, name: string): Promise<[string, string]> {
  const first = await gql(server, apiKey, CREATE, { name: `${name} A` });
  const second = await gql(server, apiKey, CREATE, { name: `${name} B` });
  return [first.createRecord.record.id, second.createRecord.record.id];
}

const subscribe = (server: RunningServer, apiKey: string, variables: Record<string, unknown> = {}) =>
  subscribeOverSse(fetch, `${server.url}/graphql`, LiveAssociationEventsDocument, variables, apiKey);

/** The LINKED event of this pair, whatever else the subscriber receives first. */
async function linkedEventOf(subscription: SseSubscription, [a, b]: [string, string]) {
  for (;;) {
    const event = (await subscription.next(15_000)).data!.associationEvents;
    if (event.action === 'LINKED' && [a, b].includes(event.firstRecordId) && [a, b].includes(event.secondRecordId)) return event;
  }
}

describe('fan-out to the worker processes of one server (RELATE_WORKERS=2)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  let apiKey: string;
  const open: SseSubscription[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development', RELATE_WORKERS: '2' });
    apiKey = developmentKey(server.output());
  }, 120_000);
  afterAll(async () => {
    await Promise.all(open.map((subscription) => subscription.close()));
    await server?.stop();
    await db?.drop();
  });

  it('a link made on either worker reaches subscribers on both', { timeout: 90_000 }, async () => {
    // Each subscription is a connection of its own, and the primary hands connections to the
    // workers in turn: of four, each worker holds some, and every link is made on one of them.
    for (let i = 0; i < 4; i += 1) open.push(await subscribe(server, apiKey, { labelKey: 'colleague' }));
    for (const name of ['First', 'Second', 'Third']) {
      const records = await pair(server, apiKey, name);
      expect((await gql(server, apiKey, LINK, { a: records[0], b: records[1] })).linkRecords).toEqual({ __typename: 'LinkRecordsSuccess', created: true });
      const events = await Promise.all(open.map((subscription) => linkedEventOf(subscription, records)));
      expect(new Set(events.map((event) => event.id)).size).toBe(1);
    }
  });
});

describe('fan-out to two servers on one database', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: RunningServer;
  let b: RunningServer;
  /** The key the second server printed (its start revoked the first one's development key). */
  let apiKey: string;
  const open: SseSubscription[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development' });
    b = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development' });
    apiKey = developmentKey(b.output());
  }, 120_000);
  afterAll(async () => {
    await Promise.all(open.map((subscription) => subscription.close()));
    await a?.stop();
    await b?.stop();
    await db?.drop();
  });

  it('a link on server A reaches a subscriber on server B, and one on B a subscriber on A', { timeout: 90_000 }, async () => {
    const onA = await subscribe(a, apiKey, { labelKey: 'colleague' });
    const onB = await subscribe(b, apiKey, { labelKey: 'colleague' });
    open.push(onA, onB);

    const viaA = await pair(a, apiKey, 'Via A');
    await gql(a, apiKey, LINK, { a: viaA[0], b: viaA[1] });
    const [seenOnB, seenOnA] = await Promise.all([linkedEventOf(onB, viaA), linkedEventOf(onA, viaA)]);
    expect(seenOnB).toEqual(seenOnA);

    const viaB = await pair(b, apiKey, 'Via B');
    await gql(b, apiKey, LINK, { a: viaB[0], b: viaB[1] });
    expect((await linkedEventOf(onA, viaB)).id).toBe((await linkedEventOf(onB, viaB)).id);
  });

  it('a subscriber on B filtered by record receives a burst made on A in commit order', { timeout: 90_000 }, async () => {
    const [hub, other] = await pair(a, apiKey, 'Burst');
    const onB = await subscribe(b, apiKey, { recordId: hub });
    open.push(onB);
    const UNLINK = `mutation ($a: ID!, $b: ID!) { unlinkRecords(input: { firstRecordId: $a, secondRecordId: $b }) { __typename } }`;
    for (let i = 0; i < 5; i += 1) {
      await gql(a, apiKey, LINK, { a: hub, b: other });
      await gql(a, apiKey, UNLINK, { a: hub, b: other });
    }
    const actions = [];
    for (let i = 0; i < 10; i += 1) actions.push((await onB.next(15_000)).data!.associationEvents.action);
    expect(actions).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'LINKED' : 'UNLINKED')));
  });

  it('stopping a server completes its subscriptions, so it drains without waiting for them', { timeout: 60_000 }, async () => {
    const onA = await subscribe(a, apiKey);
    const started = Date.now();
    const stopped = await a.stop();
    expect(stopped.code).toBe(0);
    expect(await onA.completed()).toBe(true);
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
