/**
 * Webhooks (SPEC §5.2) through the API: the admin operations, safe targets, and what a receiver
 * gets — Standard Webhooks signatures, the body of every event type, retries with the same
 * webhook-id, FAILED after the schedule, redirects not followed, filters, disabled and deleted
 * endpoints, redelivery. The dispatcher runs in this process with a short schedule; the
 * process-level behaviour (crash, restart, several servers) is in webhook-delivery.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig, type WebhookSettings } from '../src/config.js';
import { prisma } from '../src/db/index.js';
import { startDispatcher, type Dispatcher } from '../src/feed/dispatcher.js';
import { ENDPOINT, useTestApp, type GraphQLResponse, type TestWorkspace } from './helpers.js';
import { contact, createLabel, createObject, createRecord, createUser, data, gid, link, ok, UNLINK, type Gql } from './support/permissions.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';

const t = useTestApp();
const SETTINGS: WebhookSettings = { allowPrivate: true, retryDelays: [100, 100, 100], timeout: 2_000 };
let allowing: App;
let dispatcher: Dispatcher;
let receiver: Receiver;

beforeAll(async () => {
  allowing = createApp({ config: { production: false, introspection: true, reportStatements: false, webhooks: SETTINGS } });
  dispatcher = startDispatcher({ settings: SETTINGS, pollInterval: 50 });
  receiver = await startReceiver();
});
afterAll(async () => {
  await dispatcher?.stop();
  await receiver?.close();
});

/** Operations through the app that allows private targets (as RELATE_WEBHOOK_ALLOW_PRIVATE=true). */
const through = (app: () => App, apiKey: string): Gql => async (query, variables) => {
  const response = await app().fetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) } as GraphQLResponse;
};

const ENDPOINT_FIELDS = 'id url description eventTypes enabled createdAt';
const CREATE = `mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename
  ... on CreateWebhookEndpointSuccess { secret webhookEndpoint { ${ENDPOINT_FIELDS} } }
  ... on ValidationError { field } ... on Error { code message } } }`;
const UPDATE = `mutation ($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { __typename
  ... on UpdateWebhookEndpointSuccess { webhookEndpoint { ${ENDPOINT_FIELDS} } }
  ... on ValidationError { field } ... on Error { code message } } }`;
const DELETE = `mutation ($input: DeleteWebhookEndpointInput!) { deleteWebhookEndpoint(input: $input) { __typename
  ... on DeleteWebhookEndpointSuccess { deletedId } ... on Error { code message } } }`;
const REDELIVER = `mutation ($input: RedeliverWebhookInput!) { redeliverWebhook(input: $input) { __typename
  ... on RedeliverWebhookSuccess { delivery { id status attempts nextAttemptAt } } ... on Error { code message } } }`;
const DELIVERIES = `query ($id: ID!, $status: WebhookDeliveryStatus) { node(id: $id) { ... on WebhookEndpoint {
  deliveries(first: 100, status: $status) { totalCount edges { node { id eventId eventType status attempts responseStatus lastAttemptAt nextAttemptAt createdAt } } } } } }`;

interface Setup {
  ws: TestWorkspace;
  /** The workspace admin through the allowing app. */
  admin: Gql;
  endpointId: string;
  secret: string;
  path: string;
}

let paths = 0;
/** A workspace with an endpoint on its own path of the receiver. */
async function setup(input: { eventTypes?: string[]; respond?: Receiver['respond'] } = {}): Promise<Setup> {
  const ws = await t.workspace();
  const admin = through(() => allowing, ws.apiKey);
  const path = `/hook-${++paths}`;
  const created = ok(await admin(CREATE, { input: { url: `${receiver.url}${path}`, eventTypes: input.eventTypes } }), 'createWebhookEndpoint', 'CreateWebhookEndpointSuccess');
  receiver.secrets.set(path, created.secret);
  if (input.respond) respondOn(path, input.respond);
  return { ws, admin, endpointId: created.webhookEndpoint.id, secret: created.secret, path };
}

const responders = new Map<string, Receiver['respond']>();
function respondOn(path: string, respond: Receiver['respond']) {
  responders.set(path, respond);
  receiver.respond = (request) => (responders.get(request.path) ?? (() => 200))(request);
}

const on = (path: string) => receiver.requests.filter((request) => request.path === path);
const deliveries = async (s: Setup, status?: string) =>
  data(await s.admin(DELIVERIES, { id: s.endpointId, status })).node.deliveries as { totalCount: number; edges: { node: any }[] };

describe('the admin API', () => {
  it('creates an endpoint with a whsec_ secret shown once, lists, updates and deletes it', async () => {
    const ws = await t.workspace();
    const admin = through(() => allowing, ws.apiKey);
    const created = ok(
      await admin(CREATE, { input: { url: `${receiver.url}/unused`, eventTypes: ['label.created', 'association.linked', 'label.created'], description: '  CRM sync ' } }),
      'createWebhookEndpoint',
      'CreateWebhookEndpointSuccess',
    );
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.webhookEndpoint).toEqual({
      id: expect.any(String),
      url: `${receiver.url}/unused`,
      description: 'CRM sync',
      eventTypes: ['association.linked', 'label.created'],
      enabled: true,
      createdAt: expect.any(String),
    });
    const id = created.webhookEndpoint.id;
    // The secret is never shown again.
    const listed = data(await admin(`{ webhookEndpoints { ${ENDPOINT_FIELDS} } }`));
    expect(listed.webhookEndpoints).toEqual([created.webhookEndpoint]);
    expect(JSON.stringify(data(await admin(`query ($id: ID!) { node(id: $id) { ... on WebhookEndpoint { ${ENDPOINT_FIELDS} } } }`, { id })))).not.toContain('whsec_');

    const updated = ok(
      await admin(UPDATE, { input: { id, url: `${receiver.url}/moved`, eventTypes: [], description: null, enabled: false } }),
      'updateWebhookEndpoint',
      'UpdateWebhookEndpointSuccess',
    );
    expect(updated.webhookEndpoint).toEqual({ ...created.webhookEndpoint, url: `${receiver.url}/moved`, eventTypes: [], description: null, enabled: false });
    // Left out: unchanged.
    const same = ok(await admin(UPDATE, { input: { id } }), 'updateWebhookEndpoint', 'UpdateWebhookEndpointSuccess');
    expect(same.webhookEndpoint).toEqual(updated.webhookEndpoint);

    expect(ok(await admin(DELETE, { input: { id } }), 'deleteWebhookEndpoint', 'DeleteWebhookEndpointSuccess')).toEqual({
      __typename: 'DeleteWebhookEndpointSuccess',
      deletedId: id,
    });
    expect(data(await admin(`{ webhookEndpoints { id } }`)).webhookEndpoints).toEqual([]);
    expect(data(await admin(`query ($id: ID!) { node(id: $id) { id } }`, { id })).node).toBeNull();
    for (const [query, input] of [
      [UPDATE, { id, enabled: true }],
      [DELETE, { id }],
      [REDELIVER, { deliveryId: gid('WebhookDelivery', 1) }],
    ] as const) {
      const field = /\{ (\w+)\(/.exec(query)![1]!;
      expect((await admin(query, { input })).data?.[field], field).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
  });

  it('refuses unknown event types, bad URLs and long descriptions with VALIDATION naming the field', async () => {
    const ws = await t.workspace();
    const admin = through(() => allowing, ws.apiKey);
    const cases: [Record<string, unknown>, string][] = [
      [{ url: `${receiver.url}/x`, eventTypes: ['association.linked', 'association.created'] }, 'eventTypes'],
      [{ url: 'not a url' }, 'url'],
      [{ url: 'ftp://example.com/hook' }, 'url'],
      [{ url: `http://user:secret@127.0.0.1:${receiver.port}/x` }, 'url'],
      [{ url: '' }, 'url'],
      [{ url: `https://example.com/${'x'.repeat(2000)}` }, 'url'],
      [{ url: `${receiver.url}/x`, description: 'x'.repeat(501) }, 'description'],
    ];
    for (const [input, field] of cases) {
      const answer = (await admin(CREATE, { input })).data?.createWebhookEndpoint;
      expect(answer, JSON.stringify(input).slice(0, 100)).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field });
    }
    const created = ok(await admin(CREATE, { input: { url: `${receiver.url}/x` } }), 'createWebhookEndpoint', 'CreateWebhookEndpointSuccess');
    const bad = (await admin(UPDATE, { input: { id: created.webhookEndpoint.id, eventTypes: ['nope'] } })).data?.updateWebhookEndpoint;
    expect(bad).toMatchObject({ __typename: 'ValidationError', field: 'eventTypes' });
    expect(bad.message).toContain('nope');
  });

  it('refuses private, loopback, link-local, metadata and plain-http targets unless private ones are allowed', async () => {
    const ws = await t.workspace();
    const strict = ws.gql; // the test app: RELATE_WEBHOOK_ALLOW_PRIVATE unset
    const refused = [
      `http://93.184.215.14/hook`,
      `https://127.0.0.1:${receiver.port}/hook`,
      `https://localhost:${receiver.port}/hook`,
      'https://[::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://[::ffff:7f00:1]/hook',
      'https://10.1.2.3/hook',
      'https://172.16.0.1/hook',
      'https://192.168.1.1/hook',
      'https://100.64.0.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[fd00:ec2::254]/hook',
      'https://[fe80::1]/hook',
      'https://0.0.0.0/hook',
      'https://224.0.0.1/hook',
      'https://255.255.255.255/hook',
      'https://192.0.2.1/hook',
      'https://no-such-host.invalid/hook',
    ];
    for (const url of refused) {
      const answer = (await strict(CREATE, { input: { url } })).data?.createWebhookEndpoint;
      expect(answer, url).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field: 'url' });
    }
    // A public address is accepted (an IP literal: no DNS needed).
    ok(await strict(CREATE, { input: { url: 'https://93.184.215.14/hook' } }), 'createWebhookEndpoint', 'CreateWebhookEndpointSuccess');
    // Allowed: loopback and plain http — but never the metadata service.
    const admin = through(() => allowing, ws.apiKey);
    ok(await admin(CREATE, { input: { url: `http://localhost:${receiver.port}/hook` } }), 'createWebhookEndpoint', 'CreateWebhookEndpointSuccess');
    for (const url of ['http://169.254.169.254/latest/meta-data', 'https://[fd00:ec2::254]/', 'http://0.0.0.0/']) {
      expect((await admin(CREATE, { input: { url } })).data?.createWebhookEndpoint, url).toMatchObject({ field: 'url' });
    }
    // An update is held to the same rules.
    const endpoint = data(await strict(`{ webhookEndpoints { id } }`)).webhookEndpoints[0].id;
    expect((await strict(UPDATE, { input: { id: endpoint, url: 'https://127.0.0.1/' } })).data?.updateWebhookEndpoint).toMatchObject({ field: 'url' });
  });

  it('is for admins only: USER keys get FORBIDDEN from every webhook operation, and node() hides endpoints and deliveries', async () => {
    const s = await setup();
    const member = await createUser(t, s.ws.gql, 'USER');
    const memberGql = through(() => allowing, member.apiKey);
    const a = await contact(s.ws.gql, 'Ada');
    const b = await contact(s.ws.gql, 'Bob');
    await createLabel(s.ws.gql, { key: 'friend', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
    await link(s.ws.gql, a, b, ['friend']);
    await receiver.until(() => on(s.path).length >= 2, 10_000, 'the label and link events');
    const delivery = (await deliveries(s)).edges[0]!.node.id;

    const list = await memberGql(`{ webhookEndpoints { id } }`);
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const nodes = await memberGql(`query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [s.endpointId, delivery] });
    expect(nodes.data).toEqual({ nodes: [null, null] });
    const operations: [string, string, Record<string, unknown>][] = [
      ['createWebhookEndpoint', CREATE, { url: `${receiver.url}/member` }],
      ['updateWebhookEndpoint', UPDATE, { id: s.endpointId, enabled: false }],
      ['deleteWebhookEndpoint', DELETE, { id: s.endpointId }],
      ['redeliverWebhook', REDELIVER, { deliveryId: delivery }],
    ];
    for (const [field, query, input] of operations) {
      const response = await memberGql(query, { input });
      expect(response.errors, field).toBeUndefined();
      expect(response.data?.[field], field).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN', message: expect.any(String) });
    }
    // Nothing changed: the endpoint is there, enabled, with its deliveries.
    const seen = data(await s.admin(`{ webhookEndpoints { id enabled } }`)).webhookEndpoints;
    expect(seen).toEqual([{ id: s.endpointId, enabled: true }]);
    // An admin's node() resolves both.
    const own = data(await s.admin(`query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, { ids: [s.endpointId, delivery] }));
    expect(own.nodes).toEqual([
      { __typename: 'WebhookEndpoint', id: s.endpointId },
      { __typename: 'WebhookDelivery', id: delivery },
    ]);
    // Another workspace's admin sees neither.
    const other = await t.workspace();
    expect(data(await other.gql(`query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [s.endpointId, delivery] })).nodes).toEqual([null, null]);
  });
});

describe('deliveries', () => {
  it('posts one delivery after another on the connection it keeps open to the receiver', async () => {
    const own = await startReceiver();
    try {
      const ws = await t.workspace();
      const admin = through(() => allowing, ws.apiKey);
      ok(await admin(CREATE, { input: { url: `${own.url}/kept`, eventTypes: ['association.linked'] } }), 'createWebhookEndpoint', 'CreateWebhookEndpointSuccess');
      await createLabel(ws.gql, { key: 'knows', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Knows' });
      const people = [];
      for (let i = 0; i < 7; i++) people.push(await contact(ws.gql, `Person ${i}`));
      // Each event once the previous one arrived: a kept connection serves the next.
      for (let i = 1; i < people.length; i++) {
        await link(ws.gql, people[0]!, people[i]!, ['knows']);
        await own.until((requests) => requests.length >= i, 10_000, `delivery ${i}`);
      }
      expect(own.requests.every((request) => request.status === 200)).toBe(true);
      expect(own.connections, 'connections for 6 deliveries made one after another').toBeLessThanOrEqual(2);
    } finally {
      await own.close();
    }
  });

  it('post a signed Standard Webhooks request: headers, body and the data of association.linked', async () => {
    const s = await setup({ eventTypes: ['association.linked'] });
    const ada = await contact(s.ws.gql, 'Ada');
    const company = await createObject(s.ws.gql, 'company');
    const acme = await createRecord(s.ws.gql, company.key, { name: 'Acme' });
    const label = await createLabel(s.ws.gql, { key: 'works_at', firstObjectKey: 'contact', secondObjectKey: company.key, type: 'PAIR', firstLabel: 'Employee', secondLabel: 'Employer' });
    const [association] = await link(s.ws.gql, ada, acme, ['works_at']);
    await receiver.until(() => on(s.path).length >= 1, 10_000, 'association.linked');
    const [request] = on(s.path);
    expect(request!.verified, 'the signature verifies with the secret').not.toBeNull();
    expect(request!.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Relate-Webhooks/1',
      'webhook-id': expect.any(String),
      'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]+=*$/),
    });
    expect(Math.abs(Number(request!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    const body = JSON.parse(request!.body);
    expect(body).toEqual({
      type: 'association.linked',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: {
        workspaceId: gid('Workspace', s.ws.workspaceId),
        actorId: gid('User', s.ws.userId),
        associationId: association,
        label: {
          id: label.id,
          key: 'works_at',
          type: 'PAIR',
          cardinality: 'MANY_TO_MANY',
          firstLabel: 'Employee',
          secondLabel: 'Employer',
          firstObjectKey: 'contact',
          secondObjectKey: company.key,
        },
        firstRecord: { id: ada, objectKey: 'contact', displayName: 'Ada' },
        secondRecord: { id: acme, objectKey: company.key, displayName: 'Acme' },
      },
    });
    // webhook-id is the event's global id, as the delivery and the record's history show it.
    const events = data(await s.ws.gql(`query ($id: ID!) { record(id: $id) { associationEvents { edges { node { id } } } } }`, { id: ada }));
    expect(request!.headers['webhook-id']).toBe(events.record.associationEvents.edges[0].node.id);
    const [delivery] = (await deliveries(s)).edges;
    await expect.poll(async () => (await deliveries(s)).edges[0]!.node.status).toBe('SUCCEEDED');
    expect((await deliveries(s)).edges[0]!.node).toMatchObject({
      eventId: request!.headers['webhook-id'],
      eventType: 'association.linked',
      attempts: 1,
      responseStatus: 200,
      lastAttemptAt: expect.any(String),
      nextAttemptAt: null,
    });
    expect(delivery).toBeDefined();
  });

  it('every event type arrives: links, unlinks, label create/update/delete with a forced delete, record delete with its cascade', async () => {
    const s = await setup();
    const [a, b, c] = [await contact(s.ws.gql, 'A'), await contact(s.ws.gql, 'B'), await contact(s.ws.gql, 'C')];
    const friend = await createLabel(s.ws.gql, { key: 'friend', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
    const rival = await createLabel(s.ws.gql, { key: 'rival', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Rival' });
    await link(s.ws.gql, a, b, ['friend']);
    await link(s.ws.gql, a, c, ['friend', 'rival']);
    ok(await s.ws.gql(UNLINK, { input: { firstRecordId: a, secondRecordId: b, labelKeys: ['friend'] } }), 'unlinkRecords', 'UnlinkRecordsSuccess');
    ok(
      await s.ws.gql(`mutation ($input: UpdateAssociationLabelInput!) { updateAssociationLabel(input: $input) { __typename } }`, { input: { id: rival.id, firstLabel: 'Nemesis' } }),
      'updateAssociationLabel',
      'UpdateAssociationLabelSuccess',
    );
    ok(
      await s.ws.gql(`mutation ($input: DeleteAssociationLabelInput!) { deleteAssociationLabel(input: $input) { __typename } }`, { input: { id: rival.id, force: true } }),
      'deleteAssociationLabel',
      'DeleteAssociationLabelSuccess',
    );
    ok(await s.ws.gql(`mutation ($input: DeleteRecordInput!) { deleteRecord(input: $input) { __typename } }`, { input: { id: c } }), 'deleteRecord', 'DeleteRecordSuccess');
    const expected = [
      'label.created friend',
      'label.created rival',
      'association.linked friend A–B',
      'association.linked friend A–C',
      'association.linked rival A–C',
      'association.unlinked friend A–B',
      'label.updated rival',
      'association.unlinked rival A–C',
      'label.deleted rival',
      'association.unlinked friend A–C',
      'record.deleted C',
    ];
    await receiver.until(() => on(s.path).length >= expected.length, 15_000, 'every event');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const got = receiver.verified(s.path).map((event) => {
      const d = event.data;
      if (event.type.startsWith('association.')) return `${event.type} ${d.label.key} ${d.firstRecord.displayName}–${d.secondRecord.displayName}`;
      if (event.type.startsWith('label.')) return `${event.type} ${d.label.key}`;
      return `${event.type} ${d.record.displayName}`;
    });
    expect(on(s.path).every((request) => request.verified)).toBe(true);
    expect(got.sort()).toEqual([...expected].sort());
    // The label's new names are in its update; a deleted record's event names it.
    const updated = receiver.verified(s.path).find((event) => event.type === 'label.updated')!;
    expect(updated.data.label).toMatchObject({ id: rival.id, firstLabel: 'Nemesis', secondLabel: 'Nemesis' });
    expect(receiver.verified(s.path).find((event) => event.type === 'record.deleted')!.data).toEqual({
      workspaceId: gid('Workspace', s.ws.workspaceId),
      actorId: gid('User', s.ws.userId),
      record: { id: c, objectKey: 'contact', displayName: 'C' },
    });
    expect(friend.id).toBeTruthy();
    // Every event has its own webhook-id, and each was delivered once.
    const ids = on(s.path).map((request) => request.headers['webhook-id']);
    expect(new Set(ids).size).toBe(expected.length);
  });

  it('retries a failing receiver with the same webhook-id until it answers 2xx', async () => {
    let attempts = 0;
    const s = await setup({ eventTypes: ['label.created'], respond: () => (++attempts <= 2 ? 500 : 204) });
    await createLabel(s.ws.gql, { key: 'flaky', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Flaky' });
    await receiver.until(() => on(s.path).length >= 3, 10_000, 'three attempts');
    const requests = on(s.path);
    expect(requests.map((request) => request.status)).toEqual([500, 500, 204]);
    expect(new Set(requests.map((request) => request.headers['webhook-id'])).size).toBe(1);
    expect(requests.every((request) => request.verified)).toBe(true);
    await expect.poll(async () => (await deliveries(s)).edges[0]!.node.status).toBe('SUCCEEDED');
    expect((await deliveries(s)).edges[0]!.node).toMatchObject({ attempts: 3, responseStatus: 204, nextAttemptAt: null });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(on(s.path)).toHaveLength(3);
  });

  it('gives up as FAILED once the schedule is exhausted, visible through deliveries(status:), and redeliverWebhook sends it again', async () => {
    let failing = true;
    const s = await setup({ eventTypes: ['label.created'], respond: () => (failing ? 503 : 200) });
    await createLabel(s.ws.gql, { key: 'down', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Down' });
    // One attempt and a retry per delay: 4.
    await receiver.until(() => on(s.path).length >= 4, 10_000, 'four attempts');
    await expect.poll(async () => (await deliveries(s, 'FAILED')).totalCount).toBe(1);
    const failed = (await deliveries(s, 'FAILED')).edges[0]!.node;
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 4, responseStatus: 503, nextAttemptAt: null, eventType: 'label.created' });
    expect((await deliveries(s, 'PENDING')).totalCount).toBe(0);
    expect((await deliveries(s, 'SUCCEEDED')).totalCount).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(on(s.path)).toHaveLength(4);

    failing = false;
    const redelivered = ok(await s.admin(REDELIVER, { input: { deliveryId: failed.id } }), 'redeliverWebhook', 'RedeliverWebhookSuccess');
    expect(redelivered.delivery).toMatchObject({ id: failed.id, status: 'PENDING', attempts: 0, nextAttemptAt: expect.any(String) });
    await receiver.until(() => on(s.path).length >= 5, 10_000, 'the redelivery');
    expect(new Set(on(s.path).map((request) => request.headers['webhook-id']))).toEqual(new Set([failed.eventId]));
    await expect.poll(async () => (await deliveries(s, 'SUCCEEDED')).totalCount).toBe(1);
    // A succeeded delivery can be sent again too.
    ok(await s.admin(REDELIVER, { input: { deliveryId: failed.id } }), 'redeliverWebhook', 'RedeliverWebhookSuccess');
    await receiver.until(() => on(s.path).length >= 6, 10_000, 'the second redelivery');
    expect(on(s.path).at(-1)!.headers['webhook-id']).toBe(failed.eventId);
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    const s = await setup({
      eventTypes: ['label.created'],
      respond: () => ({ status: 307, headers: { location: `${receiver.url}/redirected` } }),
    });
    await createLabel(s.ws.gql, { key: 'moved', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Moved' });
    await expect.poll(async () => (await deliveries(s, 'FAILED')).totalCount, { timeout: 10_000 }).toBe(1);
    expect((await deliveries(s, 'FAILED')).edges[0]!.node).toMatchObject({ attempts: 4, responseStatus: 307 });
    expect(on('/redirected')).toHaveLength(0);
  });

  it('holds event-type filters; disabled endpoints get nothing until enabled; deleted endpoints get nothing', async () => {
    const s = await setup({ eventTypes: ['label.created', 'record.deleted'] });
    const other = `/hook-${++paths}`;
    const second = ok(await s.admin(CREATE, { input: { url: `${receiver.url}${other}`, eventTypes: ['label.created'] } }), 'createWebhookEndpoint', 'CreateWebhookEndpointSuccess');
    receiver.secrets.set(other, second.secret);
    const a = await contact(s.ws.gql, 'A');
    const b = await contact(s.ws.gql, 'B');
    await createLabel(s.ws.gql, { key: 'one', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'One' });
    await link(s.ws.gql, a, b, ['one']);
    await receiver.until(() => on(s.path).length >= 1 && on(other).length >= 1, 10_000, 'label.created on both');

    // Disabled: nothing; its deliveries are not written either.
    ok(await s.admin(UPDATE, { input: { id: second.webhookEndpoint.id, enabled: false } }), 'updateWebhookEndpoint', 'UpdateWebhookEndpointSuccess');
    await createLabel(s.ws.gql, { key: 'two', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Two' });
    ok(await s.ws.gql(`mutation ($input: DeleteRecordInput!) { deleteRecord(input: $input) { __typename } }`, { input: { id: b } }), 'deleteRecord', 'DeleteRecordSuccess');
    await receiver.until(() => on(s.path).length >= 3, 10_000, 'label.created two and record.deleted');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.verified(s.path).map((event) => event.type).sort()).toEqual(['label.created', 'label.created', 'record.deleted']);
    expect(receiver.verified(other).map((event) => `${event.type} ${event.data.label.key}`)).toEqual(['label.created one']);

    // Deleted: nothing more, with its deliveries gone.
    ok(await s.admin(DELETE, { input: { id: s.endpointId } }), 'deleteWebhookEndpoint', 'DeleteWebhookEndpointSuccess');
    ok(await s.admin(UPDATE, { input: { id: second.webhookEndpoint.id, enabled: true } }), 'updateWebhookEndpoint', 'UpdateWebhookEndpointSuccess');
    await createLabel(s.ws.gql, { key: 'three', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Three' });
    await receiver.until(() => on(other).length >= 2, 10_000, 'label.created three on the re-enabled endpoint');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(on(s.path)).toHaveLength(3);
    expect(receiver.verified(other).map((event) => event.data.label.key)).toEqual(['one', 'three']);
    expect(await prisma.webhookDelivery.count({ where: { endpointId: Number(Buffer.from(s.endpointId, 'base64').toString().split(':')[1]) } })).toBe(0);
  });
});

describe('settings', () => {
  it('are read with their defaults, and a bad value stops the start with a line naming it', () => {
    expect(loadConfig({}).webhooks).toEqual({ allowPrivate: false, retryDelays: [5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000], timeout: 10_000 });
    expect(
      loadConfig({ RELATE_WEBHOOK_ALLOW_PRIVATE: 'true', RELATE_WEBHOOK_RETRY_DELAYS: '0.1, 2,60', RELATE_WEBHOOK_TIMEOUT: '2.5' }).webhooks,
    ).toEqual({ allowPrivate: true, retryDelays: [100, 2_000, 60_000], timeout: 2_500 });
    expect(loadConfig({ RELATE_WEBHOOK_RETRY_DELAYS: 'none' }).webhooks.retryDelays).toEqual([]);
    for (const [name, value] of [
      ['RELATE_WEBHOOK_ALLOW_PRIVATE', 'maybe'],
      ['RELATE_WEBHOOK_RETRY_DELAYS', '5,,30'],
      ['RELATE_WEBHOOK_RETRY_DELAYS', '5,-1'],
      ['RELATE_WEBHOOK_RETRY_DELAYS', '1e3'],
      ['RELATE_WEBHOOK_RETRY_DELAYS', '999999999'],
      ['RELATE_WEBHOOK_TIMEOUT', '0'],
      ['RELATE_WEBHOOK_TIMEOUT', '301'],
      ['RELATE_WEBHOOK_TIMEOUT', 'ten'],
    ]) {
      expect(() => loadConfig({ [name!]: value }), `${name}=${value}`).toThrow(new RegExp(`^${name} must be .*; got "${value}"`));
    }
  });
});
