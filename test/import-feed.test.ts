/**
 * Imported links reach the change feed as linkRecords' do (SPEC §2, §5.2, §5.3): through
 * `relate import associations` (another process) and the `importAssociations` job (this server),
 * a receiver on loopback gets one signed `association.linked` webhook per created link — with
 * its records and label — and none for rows already linked or rejected, none for a dry run and
 * none for an aborted import; a subscriber to one imported record gets that record's new links.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import type { WebhookSettings } from '../src/config.js';
import { prisma } from '../src/db/index.js';
import { startDispatcher, type Dispatcher } from '../src/feed/dispatcher.js';
import { eventData, payloadWriter, type FeedEvent } from '../src/feed/events.js';
import { encodeGlobalId } from '../src/services/ids.js';
import type { Viewer } from '../src/services/viewer.js';
import { LiveAssociationEventsDocument } from './generated/graphql.js';
import { useTestApp, type GraphQLResponse, type TestWorkspace } from './helpers.js';
import { createContact, createLabel } from './support/fixtures.js';
import { data, gid, link, ok, type Gql } from './support/permissions.js';
import { relate } from './support/process.js';
import { subscribeOverSse, type SseSubscription } from './support/sse.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';

const t = useTestApp();
const SETTINGS: WebhookSettings = { allowPrivate: true, retryDelays: [100, 100, 100], timeout: 2_000 };
const HEADER = 'firstRecordId,secondRecordId,labelKeys';
const IMPORT = `mutation ($input: ImportAssociationsInput!) {
  importAssociations(input: $input) { __typename ... on ImportAssociationsSuccess { importJob { id } } ... on Error { code message } }
}`;
const JOB = `query ($id: ID!) { importJob(id: $id) { status totalRows processedRows createdCount existingCount rejectedCount failure } }`;
const DELIVERIES = `query ($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries(first: 100) { totalCount edges { node { eventId eventType } } } } } }`;

let app: App;
let http: Server;
let base: string;
let dispatcher: Dispatcher;
let receiver: Receiver;
let dir: string;
const streams: SseSubscription[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relate-import-feed-'));
  // A server that may post to loopback (RELATE_WEBHOOK_ALLOW_PRIVATE=true), over real HTTP.
  app = createApp({ config: { production: false, introspection: true, reportStatements: false, webhooks: SETTINGS } });
  http = createServer(app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  dispatcher = startDispatcher({ settings: SETTINGS, pollInterval: 50 });
  receiver = await startReceiver();
});
afterAll(async () => {
  await Promise.all(streams.map((stream) => stream.close()));
  await dispatcher?.stop();
  await receiver?.close();
  http?.closeAllConnections();
  await new Promise((resolve) => http?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Operations over HTTP to this file's server. */
const over = (apiKey: string): Gql => async (query, variables) => {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) } as GraphQLResponse;
};

type Names = 'ada' | 'bob' | 'cy' | 'dee' | 'eve' | 'fay';
interface Setup {
  ws: TestWorkspace;
  gql: Gql;
  people: Record<Names, string>;
  /** Display name by record id. */
  names: Record<string, string>;
  endpointId: string;
  path: string;
}

let paths = 0;
/** A workspace with six contacts, labels `friend` (SINGLE) and `mentor` (PAIR), and an endpoint for association.linked on its own path. */
async function setup(): Promise<Setup> {
  const ws = await t.workspace();
  const gql = over(ws.apiKey);
  const people = {} as Record<Names, string>;
  const names: Record<string, string> = {};
  for (const name of ['Ada', 'Bob', 'Cy', 'Dee', 'Eve', 'Fay']) {
    const { id } = await createContact(ws, name);
    people[name.toLowerCase() as Names] = id;
    names[id] = name;
  }
  await createLabel(ws, { key: 'friend', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
  await createLabel(ws, { key: 'mentor', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Mentor', secondLabel: 'Mentee' });
  const path = `/import-${++paths}`;
  const created = ok(
    await gql(`mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename
      ... on CreateWebhookEndpointSuccess { secret webhookEndpoint { id } } ... on Error { code message } } }`, {
      input: { url: `${receiver.url}${path}`, eventTypes: ['association.linked'] },
    }),
    'createWebhookEndpoint',
    'CreateWebhookEndpointSuccess',
  );
  receiver.secrets.set(path, created.secret);
  return { ws, gql, people, names, endpointId: created.webhookEndpoint.id, path };
}

const csv = (rows: string[][]) => [HEADER, ...rows.map((row) => row.join(','))].join('\r\n') + '\r\n';

interface Outcome {
  createdCount: number;
  existingCount: number;
  rejectedCount: number;
  /** Whether anything was committed. */
  written: boolean;
}
type Importer = (s: Setup, content: string, options?: { dryRun?: boolean; skip?: boolean }) => Promise<Outcome>;

let files = 0;
/** `relate import associations` as a user runs it, in its own process. */
const cli: Importer = async (s, content, options = {}) => {
  const file = join(dir, `links-${++files}.csv`);
  writeFileSync(file, content);
  const args = ['import', 'associations', '--workspace', encodeGlobalId('Workspace', s.ws.workspaceId), file];
  if (options.dryRun) args.push('--dry-run');
  if (options.skip) args.push('--on-error', 'skip');
  const result = await relate(args, { DATABASE_URL: t.url });
  expect(result.stderr).toBe('');
  const { summary } = JSON.parse(result.stdout);
  expect(result.code).toBe(summary.rejectedCount > 0 ? 1 : 0);
  return summary;
};

/** The importAssociations job: the file as a multipart upload, the job followed until it ends. */
const job: Importer = async (s, content, options = {}) => {
  const form = new FormData();
  const input = { file: null, dryRun: options.dryRun ?? false, onError: options.skip ? 'SKIP' : 'ABORT' };
  form.set('operations', JSON.stringify({ query: IMPORT, variables: { input } }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new Blob([content], { type: 'text/csv' }), 'links.csv');
  const response = await fetch(`${base}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${s.ws.apiKey}` }, body: form });
  const body = (await response.json()) as any;
  expect(body.data?.importAssociations?.__typename, JSON.stringify(body)).toBe('ImportAssociationsSuccess');
  const id = body.data.importAssociations.importJob.id;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const current = data(await s.gql(JOB, { id })).importJob;
    // FAILED: rows rejected under ABORT (nothing written); a dry run writes nothing either.
    if (current.status === 'SUCCEEDED' || current.status === 'FAILED') return { ...current, written: current.status === 'SUCCEEDED' && !options.dryRun };
    if (Date.now() > deadline) throw new Error(`import job did not end: ${JSON.stringify(current)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** The endpoint's deliveries as the API lists them: written with their events, in the same transaction. */
const deliveries = async (s: Setup) => data(await s.gql(DELIVERIES, { id: s.endpointId })).node.deliveries.totalCount as number;

/** `label first>second` by display names. */
const describeLink = (s: Setup, label: string, first: string, second: string) => `${label} ${s.names[first]}>${s.names[second]}`;

/**
 * Links a sentinel pair, waits until its webhook arrives, and answers every verified request on
 * the endpoint's path so far: by then the deliveries of earlier commits are known (listed with
 * their events) and those of this test arrived.
 */
async function settle(s: Setup, first: string, second: string): Promise<{ links: string[]; ids: string[]; requests: number }> {
  await link(s.gql, first, second, ['friend']);
  const expected = await deliveries(s);
  await receiver.until(
    (requests) => new Set(requests.filter((r) => r.path === s.path).map((r) => r.headers['webhook-id'])).size >= expected,
    15_000,
    `${expected} webhooks on ${s.path}`,
  );
  const requests = receiver.requests.filter((r) => r.path === s.path);
  expect(requests.every((r) => r.verified !== null && r.verified.type === 'association.linked'), 'every request verifies').toBe(true);
  const events = receiver.verified(s.path);
  for (const event of events) {
    expect(event.data.workspaceId).toBe(gid('Workspace', s.ws.workspaceId));
    expect(event.data.actorId).toBe(gid('User', s.ws.userId));
    expect(event.data.firstRecord).toEqual({ id: event.data.firstRecord.id, objectKey: 'contact', displayName: s.names[event.data.firstRecord.id] });
    expect(event.data.secondRecord).toEqual({ id: event.data.secondRecord.id, objectKey: 'contact', displayName: s.names[event.data.secondRecord.id] });
  }
  return {
    links: events.map((event) => describeLink(s, event.data.label.key, event.data.firstRecord.id, event.data.secondRecord.id)).sort(),
    ids: events.map((event) => event.data.associationId as string).sort(),
    requests: requests.length,
  };
}

/** The workspace's associations: `label first>second` and their global ids. */
async function stored(s: Setup) {
  const rows = await prisma.association.findMany({ where: { workspaceId: s.ws.workspaceId }, include: { label: true } });
  return {
    links: rows.map((row) => describeLink(s, row.label.key, gid('Record', row.firstRecordId), gid('Record', row.secondRecordId))).sort(),
    ids: rows.map((row) => gid('Association', row.id)).sort(),
  };
}

describe.each([
  ['relate import associations', cli],
  ['the importAssociations job', job],
] as const)('%s', (_name, importFile) => {
  it('sends one verified association.linked per created link, with its records and label; the same file again sends none', async () => {
    const s = await setup();
    const { ada, bob, cy, dee } = s.people;
    const file = csv([
      [ada, bob, 'friend'],
      [bob, cy, 'friend;mentor'],
      [cy, dee, 'mentor'],
    ]);
    expect(await importFile(s, file)).toMatchObject({ createdCount: 4, existingCount: 0, rejectedCount: 0, written: true });
    expect(await deliveries(s)).toBe(4);
    expect(await importFile(s, file)).toMatchObject({ createdCount: 0, existingCount: 4, rejectedCount: 0 });
    expect(await deliveries(s)).toBe(4);

    const got = await settle(s, s.people.eve, s.people.fay);
    expect(got.links).toEqual(['friend Ada>Bob', 'friend Bob>Cy', 'friend Eve>Fay', 'mentor Bob>Cy', 'mentor Cy>Dee']);
    expect(got.requests).toBe(5);
    // Each webhook names an association that is there: the ids are the stored links'.
    expect(got).toMatchObject(await stored(s));
  });

  it('skip mode: webhooks for the created links only — none for rows already linked or rejected; a subscriber to one record gets its new links', async () => {
    const s = await setup();
    const { ada, bob, cy, dee, eve, fay } = s.people;
    await link(s.gql, ada, bob, ['friend']);
    const live = await subscribeOverSse(fetch, `${base}/graphql`, LiveAssociationEventsDocument, { recordId: ada }, s.ws.apiKey);
    streams.push(live);
    expect(live.status).toBe(200);

    const missing = gid('Record', 999_999);
    const outcome = await importFile(
      s,
      csv([
        [ada, bob, 'friend'], // already linked
        [ada, cy, 'friend'],
        [ada, dee, 'nope'], // no such label
        [ada, missing, 'friend'], // no such record
        [dee, eve, 'friend;mentor'],
        [ada, eve, 'friend;nope'], // one unknown label rejects the row
      ]),
      { skip: true },
    );
    expect(outcome).toMatchObject({ createdCount: 3, existingCount: 1, rejectedCount: 3, written: true });
    expect(await deliveries(s)).toBe(1 + 3);

    const got = await settle(s, ada, fay);
    expect(got.links).toEqual(['friend Ada>Bob', 'friend Ada>Cy', 'friend Ada>Fay', 'friend Dee>Eve', 'mentor Dee>Eve']);
    expect(got.requests).toBe(5);
    expect(got).toMatchObject(await stored(s));

    // Ada's subscriber: the imported link, then the one made after the import — nothing between.
    const events = [];
    for (let i = 0; i < 2; i += 1) events.push((await live.next(15_000)).data!.associationEvents);
    expect(events.map((event) => `${event.action} ${describeLink(s, event.label.key, event.firstRecordId, event.secondRecordId)}`)).toEqual([
      'LINKED friend Ada>Cy',
      'LINKED friend Ada>Fay',
    ]);
    expect(events[0].actor).toMatchObject({ id: gid('User', s.ws.userId) });
    expect(await live.drain(300)).toEqual([]);
  });

  it('a dry run and an aborted import (a bad row, onError abort) send nothing and notify no subscriber', async () => {
    const s = await setup();
    const { ada, bob, cy, dee, eve, fay } = s.people;
    const live = await subscribeOverSse(fetch, `${base}/graphql`, LiveAssociationEventsDocument, { recordId: ada }, s.ws.apiKey);
    streams.push(live);
    const good = [
      [ada, bob, 'friend'],
      [cy, dee, 'friend;mentor'],
    ];
    expect(await importFile(s, csv(good), { dryRun: true })).toMatchObject({ createdCount: 3, rejectedCount: 0, written: false });
    expect(await importFile(s, csv([...good, [ada, eve, 'nope']]))).toMatchObject({ rejectedCount: 1, written: false });
    expect(await deliveries(s)).toBe(0);

    const got = await settle(s, ada, fay);
    expect(got.links).toEqual(['friend Ada>Fay']);
    expect(got.requests).toBe(1);
    expect((await stored(s)).links).toEqual(['friend Ada>Fay']);
    const first = (await live.next(15_000)).data!.associationEvents;
    expect(describeLink(s, first.label.key, first.firstRecordId, first.secondRecordId)).toBe('friend Ada>Fay');
    expect(await live.drain(300)).toEqual([]);
  });
});

describe('the payload text of a batch of link events', () => {
  it('is eventData as JSON.stringify writes it, to the byte, whatever the names hold', () => {
    const viewer = { workspaceId: 12, userId: 7 } as Viewer;
    const label = { id: 3, key: 'k"ey', type: 'SINGLE', cardinality: 'MANY_TO_MANY', firstLabel: 'A\\"', secondLabel: 'B\n', firstObject: { key: 'contact' }, secondObject: { key: 'co"mpany' } };
    const names = ['plain', 'quote " and \\ backslash', 'ünïcödé 日本', 'emoji 😀', 'control \u0001\n\t', 'lone \ud800 surrogate', '\u2028\u2029', ''];
    const payload = payloadWriter(viewer);
    const events: FeedEvent[] = [{ action: 'LABEL_CREATED', label }];
    for (const [i, first] of names.entries()) {
      for (const [j, second] of names.entries()) {
        events.push({
          action: 'LINKED',
          association: {
            id: 2_147_483_647 - i * names.length - j,
            label,
            firstRecord: { id: i + 1, displayName: first, object: { key: 'contact' } },
            secondRecord: { id: 1_000_000 + j, displayName: second, object: { key: 'co"mpany' } },
          },
        });
      }
    }
    for (const event of events) expect(payload(event)).toBe(JSON.stringify(eventData(viewer, event)));
  });
});
