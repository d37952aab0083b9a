/**
 * SPEC §5.2: `Subscription.associationEvents` over GraphQL over SSE, with the Authorization
 * header of queries. A subscriber receives the association events committed after it subscribed
 * (label and record events stay out), filtered by record and label, in commit order, and only
 * those whose records it may see; closing the stream removes the subscriber.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedSubscriberCount, MAX_QUEUED } from '../src/feed/bus.js';
import { LiveAssociationEventsDocument } from './generated/graphql.js';
import { ENDPOINT, useTestApp, type TestWorkspace } from './helpers.js';
import { contact, createLabel, createObject, createRecord, createUser, data, link, numericId, ok, setAccess, UNLINK, type TestUser } from './support/permissions.js';
import { subscribeOverSse, type SseSubscription } from './support/sse.js';

const t = useTestApp();

let ws: TestWorkspace;
let other: TestWorkspace;
let adminId: string;
/** A USER who sees only the contacts it owns (companies: all). */
let member: TestUser;
/** Contacts the member owns (visible to it), and contacts it does not (hidden from it). */
let ada: string, ben: string, cy: string, dee: string, acme: string;

const open: SseSubscription[] = [];

function subscribe(apiKey: string | null, variables: { recordId?: string; labelKey?: string } = {}) {
  return subscribeOverSse(t.app.fetch as never, ENDPOINT, LiveAssociationEventsDocument, variables, apiKey).then((subscription) => {
    open.push(subscription);
    return subscription;
  });
}

const unlink = async (gql: TestWorkspace['gql'], firstRecordId: string, secondRecordId: string) =>
  ok(await gql(UNLINK, { input: { firstRecordId, secondRecordId } }), 'unlinkRecords', 'UnlinkRecordsSuccess').removedCount as number;

/** "ACTION label first>second" with the records' names, for comparing sequences. */
function describeEvent(event: any, names: Record<string, string>) {
  return `${event.action} ${event.label?.key ?? '-'} ${names[event.firstRecordId] ?? event.firstRecordId}>${names[event.secondRecordId] ?? event.secondRecordId}`;
}

beforeAll(async () => {
  ws = await t.workspace('Live');
  other = await t.workspace('Elsewhere');
  adminId = data(await ws.gql(`{ viewer { user { id } } }`)).viewer.user.id;
  for (const key of ['colleague', 'friend']) {
    await createLabel(ws.gql, { key, firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: key });
  }
  const company = await createObject(ws.gql, 'company');
  await createLabel(ws.gql, { key: 'employer', firstObjectKey: 'contact', secondObjectKey: company.key, type: 'PAIR', firstLabel: 'Employee', secondLabel: 'Employer' });
  await createLabel(other.gql, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
  member = await createUser(t, ws.gql, 'USER', 'Member');
  await setAccess(ws.gql, member.id, 'contact', 'ASSIGNED');
  ada = await contact(ws.gql, 'Ada', member.id);
  dee = await contact(ws.gql, 'Dee', member.id);
  ben = await contact(ws.gql, 'Ben');
  cy = await contact(ws.gql, 'Cy');
  acme = await createRecord(ws.gql, company.key, { name: 'Acme' });
});

afterAll(async () => {
  await Promise.all(open.map((subscription) => subscription.close()));
});

describe('Subscription.associationEvents over SSE', () => {
  it('receives a link made through another request, with every field of AssociationEvent, then its unlink', async () => {
    const live = await subscribe(ws.apiKey);
    expect(live.status).toBe(200);
    expect(live.contentType).toMatch(/^text\/event-stream/);
    const before = Date.now();
    await link(ws.gql, ada, ben, ['colleague']);
    const linked = await live.next();
    expect(linked).toEqual({
      data: {
        associationEvents: {
          id: expect.any(String),
          action: 'LINKED',
          label: { key: 'colleague', firstLabel: 'colleague', secondLabel: 'colleague' },
          firstRecordId: ada,
          secondRecordId: ben,
          actor: { id: adminId, name: expect.any(String) },
          at: expect.any(String),
        },
      },
    });
    expect(new Date(linked.data!.associationEvents.at).getTime()).toBeGreaterThanOrEqual(before - 1_000);
    // The same event as the log shows it through a query.
    const history = data(await ws.gql(`query ($id: ID!) { record(id: $id) { associationEvents(first: 1) { edges { node { id action } } } } }`, { id: ada }));
    expect(history.record.associationEvents.edges[0].node).toEqual({ id: linked.data!.associationEvents.id, action: 'LINKED' });

    expect(await unlink(ws.gql, ada, ben)).toBe(1);
    expect((await live.next()).data!.associationEvents).toMatchObject({ action: 'UNLINKED', firstRecordId: ada, secondRecordId: ben });
  });

  it('GET with the operation in the URL works too (GraphiQL subscribes so)', async () => {
    const live = await subscribeOverSse(t.app.fetch as never, ENDPOINT, LiveAssociationEventsDocument, { recordId: ada }, ws.apiKey, { method: 'GET' });
    open.push(live);
    expect(live.status).toBe(200);
    await link(ws.gql, ada, cy, ['colleague']);
    expect((await live.next()).data!.associationEvents).toMatchObject({ action: 'LINKED', label: { key: 'colleague' } });
    expect(await unlink(ws.gql, ada, cy)).toBe(1);
    expect((await live.next()).data!.associationEvents).toMatchObject({ action: 'UNLINKED' });
  });

  it('leaves out label and record events: only LINKED and UNLINKED arrive', async () => {
    const live = await subscribe(ws.apiKey);
    await createLabel(ws.gql, { key: 'mentor', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Mentor', secondLabel: 'Mentee' });
    const lone = await contact(ws.gql, 'Lone');
    ok(await ws.gql(`mutation ($id: ID!) { deleteRecord(input: { id: $id }) { __typename } }`, { id: lone }), 'deleteRecord', 'DeleteRecordSuccess');
    // A label created after the subscription began is resolved as it is now.
    await link(ws.gql, ada, dee, ['mentor']);
    expect((await live.next()).data!.associationEvents).toMatchObject({
      action: 'LINKED',
      label: { key: 'mentor', firstLabel: 'Mentor', secondLabel: 'Mentee' },
      firstRecordId: ada,
      secondRecordId: dee,
    });
    expect(await live.drain(300)).toEqual([]);
  });

  it('filters by recordId (either side) and by labelKey', async () => {
    const ofDee = await subscribe(ws.apiKey, { recordId: dee });
    const friends = await subscribe(ws.apiKey, { labelKey: 'friend' });
    const both = await subscribe(ws.apiKey, { recordId: dee, labelKey: 'friend' });
    await link(ws.gql, ben, cy, ['colleague']); // neither
    await link(ws.gql, ben, cy, ['friend']); // friends only
    await link(ws.gql, cy, dee, ['colleague']); // Dee's, stored Cy first or Dee first: either side counts
    await link(ws.gql, dee, ben, ['friend']); // all three
    const names = { [ben]: 'Ben', [cy]: 'Cy', [dee]: 'Dee' };
    const lines = async (live: SseSubscription, count: number) => {
      const out = [];
      for (let i = 0; i < count; i += 1) out.push(describeEvent((await live.next()).data!.associationEvents, names));
      return out.concat((await live.drain(300)).map((payload) => describeEvent(payload.data!.associationEvents, names)));
    };
    // A SINGLE label stores the lower id first.
    const pair = (a: string, b: string) => (numericId(a) < numericId(b) ? `${names[a]}>${names[b]}` : `${names[b]}>${names[a]}`);
    expect(await lines(ofDee, 2)).toEqual([`LINKED colleague ${pair(cy, dee)}`, `LINKED friend ${pair(dee, ben)}`]);
    expect(await lines(friends, 2)).toEqual([`LINKED friend ${pair(ben, cy)}`, `LINKED friend ${pair(dee, ben)}`]);
    expect(await lines(both, 1)).toEqual([`LINKED friend ${pair(dee, ben)}`]);
  });

  it('a subscriber to one record gets its next event after more events of other records than the feed reads at once', async () => {
    // Writes that name none of the records followed here are not read for (bus.ts: the write's
    // announcement names its records); the next one that names Ada's is read past all of them.
    const ofAda = await subscribe(ws.apiKey, { recordId: ada });
    const company = await createObject(ws.gql, 'branch');
    await createLabel(ws.gql, { key: 'branch_staff', firstObjectKey: 'contact', secondObjectKey: company.key, type: 'PAIR', firstLabel: 'Staff', secondLabel: 'Branch' });
    const people = await Promise.all(Array.from({ length: 20 }, (_, i) => contact(ws.gql, `Staff ${i}`)));
    const branches = await Promise.all(Array.from({ length: 30 }, (_, i) => createRecord(ws.gql, company.key, { name: `Branch ${i}` })));
    const pairs = people.flatMap((firstRecordId) => branches.map((secondRecordId) => ({ firstRecordId, secondRecordId, labelKeys: ['branch_staff'] })));
    for (let i = 0; i < pairs.length; i += 100) {
      const response = await ws.gql(`mutation ($links: [LinkRecordsInput!]!) { batchLinkRecords(input: { links: $links }) { __typename } }`, {
        links: pairs.slice(i, i + 100),
      });
      expect(data(response).batchLinkRecords.__typename).toBe('BatchLinkRecordsSuccess');
    }
    expect(pairs.length).toBeGreaterThan(500);
    expect(await ofAda.drain(300)).toEqual([]);
    await link(ws.gql, ada, branches[0]!, ['branch_staff']);
    const event = (await ofAda.next()).data!.associationEvents;
    expect([event.action, event.label.key, event.firstRecordId, event.secondRecordId]).toEqual(['LINKED', 'branch_staff', ada, branches[0]]);
    expect(await ofAda.drain(300)).toEqual([]);
  });

  it('a recordId that does not exist, is malformed or is of another workspace, and an unknown labelKey, match nothing', async () => {
    const elsewhere = await contact(other.gql, 'Far');
    const elsewhereToo = await contact(other.gql, 'Away');
    const subscriptions = await Promise.all([
      subscribe(ws.apiKey, { recordId: Buffer.from('Record:2147483647').toString('base64') }),
      subscribe(ws.apiKey, { recordId: 'not an id' }),
      subscribe(ws.apiKey, { recordId: Buffer.from(`Association:${numericId(ada)}`).toString('base64') }),
      subscribe(ws.apiKey, { recordId: elsewhere }),
      subscribe(ws.apiKey, { labelKey: 'no_such_label' }),
    ]);
    for (const live of subscriptions) expect(live.status).toBe(200);
    await link(other.gql, elsewhere, elsewhereToo, ['colleague']);
    await link(ws.gql, ada, cy, ['friend']);
    for (const live of subscriptions) expect(await live.drain(400)).toEqual([]);
  });

  it('arguments are held to the limits of every argument, at subscribe time', async () => {
    for (const labelKey of ['bad\u0000key', 'k'.repeat(10_001)]) {
      const live = await subscribe(ws.apiKey, { labelKey });
      expect(live.status).toBe(200);
      const payload = await live.next();
      expect(payload.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'VALIDATION' }) })]);
      expect(await live.completed()).toBe(true);
    }
  });
});

describe('visibility per subscriber', () => {
  it('a USER key receives only events whose records it may see, and never another workspace’s', async () => {
    const mine = await subscribe(member.apiKey);
    const admin = await subscribe(ws.apiKey);
    const far = await contact(other.gql, 'Farther');
    const away = await contact(other.gql, 'Further');
    await link(other.gql, far, away, ['colleague']); // another workspace
    await link(ws.gql, ada, ben, ['friend']); // Ben exists and is hidden from the member
    const eve = await contact(ws.gql, 'Eve');
    await link(ws.gql, ben, eve, ['friend']); // both hidden
    await link(ws.gql, ada, acme, ['employer']); // Ada is the member's, companies are visible to all
    await link(ws.gql, ada, dee, ['friend']); // both the member's
    const names = { [ada]: 'Ada', [ben]: 'Ben', [eve]: 'Eve', [dee]: 'Dee', [acme]: 'Acme' };
    const seen = [(await mine.next()).data!.associationEvents, (await mine.next()).data!.associationEvents];
    expect(seen.map((event) => describeEvent(event, names))).toEqual(['LINKED employer Ada>Acme', 'LINKED friend Ada>Dee']);
    expect(await mine.drain(300)).toEqual([]);
    // The admin sees all four of its workspace's, in the same order.
    const all = [];
    for (let i = 0; i < 4; i += 1) all.push(describeEvent((await admin.next()).data!.associationEvents, names));
    expect(all).toEqual(['LINKED friend Ada>Ben', 'LINKED friend Ben>Eve', 'LINKED employer Ada>Acme', 'LINKED friend Ada>Dee']);
    expect(await admin.drain(300)).toEqual([]);
  });

  it('once a hidden record is deleted, its UNLINKED events reach the member like Record.associationEvents shows them', async () => {
    const hidden = await contact(ws.gql, 'Hidden');
    await link(ws.gql, ada, hidden, ['colleague']);
    const mine = await subscribe(member.apiKey, { recordId: ada });
    ok(await ws.gql(`mutation ($id: ID!) { deleteRecord(input: { id: $id }) { __typename } }`, { id: hidden }), 'deleteRecord', 'DeleteRecordSuccess');
    expect((await mine.next()).data!.associationEvents).toMatchObject({ action: 'UNLINKED', firstRecordId: ada, secondRecordId: hidden });
    const history = data(await member.gql(`query ($id: ID!) { record(id: $id) { associationEvents(first: 1) { edges { node { action secondRecordId } } } } }`, { id: ada }));
    expect(history.record.associationEvents.edges[0].node).toEqual({ action: 'UNLINKED', secondRecordId: hidden });
  });

  it('subscribers of one operation each get their own answer: what a USER may read of a user depends on who it is', async () => {
    // An event is executed once per kind of subscriber (plugins/shared-subscriptions.ts), never
    // shared between two USERs: a user's objectPermissions are readable by that user and admins only.
    const alice = await createUser(t, ws.gql, 'USER', 'Alice');
    const bob = await createUser(t, ws.gql, 'USER', 'Bob');
    const x = await contact(ws.gql, 'Xavier');
    const y = await contact(ws.gql, 'Yara');
    const query = `subscription ($recordId: ID) { associationEvents(recordId: $recordId) { action actor { name objectPermissions { access } } } }`;
    const listen = (apiKey: string) =>
      subscribeOverSse(t.app.fetch as never, ENDPOINT, query, { recordId: x }, apiKey).then((subscription) => (open.push(subscription), subscription));
    const [asBob, asAlice, asAdmin] = [await listen(bob.apiKey), await listen(alice.apiKey), await listen(ws.apiKey)];
    await link(alice.gql, x, y, ['colleague']);
    const own = { data: { associationEvents: { action: 'LINKED', actor: { name: 'Alice', objectPermissions: [] } } } };
    expect(await asAlice.next()).toEqual(own);
    expect(await asAdmin.next()).toEqual(own);
    const other = await asBob.next();
    expect(other.data).toEqual({ associationEvents: { action: 'LINKED', actor: null } });
    expect(other.errors).toEqual([expect.objectContaining({ path: ['associationEvents', 'actor', 'objectPermissions'] })]);
  });

  it('a record the member cannot see, as recordId, matches nothing', async () => {
    const mine = await subscribe(member.apiKey, { recordId: ben });
    await link(ws.gql, ben, dee, ['colleague']);
    await link(ws.gql, ben, acme, ['employer']);
    expect(await mine.drain(400)).toEqual([]);
  });
});

describe('order', () => {
  it('a burst of links and unlinks on one pair arrives in commit order', async () => {
    const live = await subscribe(ws.apiKey, { recordId: cy });
    const requests = Array.from({ length: 24 }, (_, i) =>
      i % 2 === 0 ? link(ws.gql, cy, acme, ['employer']) : unlink(ws.gql, cy, acme),
    );
    await Promise.all(requests);
    const history = data(
      await ws.gql(`query ($id: ID!) { record(id: $id) { associationEvents(first: 100) { edges { node { id action secondRecordId } } } } }`, { id: cy }),
    );
    const logged = history.record.associationEvents.edges
      .map((edge: any) => edge.node)
      .filter((node: any) => node.secondRecordId === acme)
      .reverse();
    expect(logged.length).toBeGreaterThan(0);
    const received = [];
    for (let i = 0; i < logged.length; i += 1) received.push((await live.next()).data!.associationEvents);
    expect(received.map((event) => event.id)).toEqual(logged.map((node: any) => node.id));
    // Links and unlinks of one pair alternate: a link of a linked pair and an unlink of an unlinked one write nothing.
    expect(received.map((event) => event.action)).toEqual(received.map((_, i) => (i % 2 === 0 ? 'LINKED' : 'UNLINKED')));
    expect(await live.drain(300)).toEqual([]);
  });
});

describe('authentication', () => {
  it('without a key, or with a wrong one, a subscription is refused as a query is', async () => {
    for (const apiKey of [null, 'rel_not_a_key']) {
      const query = await t.post(`{ viewer { user { id } } }`, {}, apiKey);
      const response = await t.app.fetch(ENDPOINT, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
        body: JSON.stringify({ query: 'subscription { associationEvents { id } }' }),
      });
      expect(response.status).toBe(401);
      expect(query.status).toBe(401);
      // The refusal as an SSE message, then the end of the stream.
      const text = await response.text();
      const payload = JSON.parse(/^event: next\ndata: (.*)$/m.exec(text)![1]!);
      expect(payload).toEqual({ errors: query.errors });
      expect(query.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
      expect(text).toMatch(/event: complete\n/);
    }
  });
});

describe('delivery', () => {
  /** Opens a subscription in-process. */
  async function rawResponse(variables: Record<string, unknown> = {}) {
    const response = await t.app.fetch(`http://localhost${ENDPOINT}`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${ws.apiKey}` },
      body: JSON.stringify({ query: 'subscription ($recordId: ID) { associationEvents(recordId: $recordId) { id action } }', variables }),
    });
    expect(response.status).toBe(200);
    return response;
  }

  const batchLink = async (links: { firstRecordId: string; secondRecordId: string; labelKeys: string[] }[]) => {
    const response = await ws.gql(`mutation ($links: [LinkRecordsInput!]!) { batchLinkRecords(input: { links: $links }) { __typename } }`, { links });
    expect(data(response).batchLinkRecords.__typename).toBe('BatchLinkRecordsSuccess');
  };

  it('the events of one write reach a subscriber in one write', async () => {
    const shop = await createObject(ws.gql, 'shop');
    await createLabel(ws.gql, { key: 'customer', firstObjectKey: 'contact', secondObjectKey: shop.key, type: 'PAIR', firstLabel: 'Customer', secondLabel: 'Shop' });
    const shops = await Promise.all(Array.from({ length: 5 }, (_, i) => createRecord(ws.gql, shop.key, { name: `Shop ${i}` })));
    const response = await rawResponse({ recordId: ben });
    // The body is the stream the server pipes to the socket: each of its chunks is one write.
    const body = response.body as unknown as NodeJS.ReadableStream;
    const writes: string[] = [];
    body.on('data', (chunk: Buffer) => writes.push(chunk.toString()));
    try {
      await batchLink(shops.map((secondRecordId) => ({ firstRecordId: ben, secondRecordId, labelKeys: ['customer'] })));
      await expect.poll(() => writes.filter((write) => write.includes('event: next')), { timeout: 10_000 }).toHaveLength(1);
      const messages = writes.find((write) => write.includes('event: next'))!.split('\n\n').filter((message) => message && message !== ':');
      expect(messages).toHaveLength(5);
      for (const message of messages) expect(message).toMatch(/^event: next\ndata: \{"data":\{"associationEvents":\{"id":"[^"]+","action":"LINKED"\}\}\}$/);
      // Nothing else came after them: no event was written twice or late.
      expect(await new Promise((resolve) => setTimeout(() => resolve(writes.filter((write) => write.includes('event: next')).length), 500))).toBe(1);
    } finally {
      (body as unknown as { destroy(): void }).destroy();
    }
  });

  it(`a subscriber that stops reading is ended once more than ${MAX_QUEUED} events wait for it (SUBSCRIBER_TOO_SLOW), after those it had`, async () => {
    const shelf = await createObject(ws.gql, 'shelf');
    await createLabel(ws.gql, { key: 'shelved', firstObjectKey: 'contact', secondObjectKey: shelf.key, type: 'PAIR', firstLabel: 'Reader', secondLabel: 'Shelf' });
    const readers = await Promise.all(Array.from({ length: 16 }, (_, i) => contact(ws.gql, `Reader ${i}`)));
    const shelves = await Promise.all(Array.from({ length: 100 }, (_, i) => createRecord(ws.gql, shelf.key, { name: `Shelf ${i}` })));
    const subscribers = feedSubscriberCount();
    const reader = (await rawResponse()).body!.getReader();
    const decoder = new TextDecoder();
    // It reads nothing while more events than a subscriber may have waiting are committed.
    for (const firstRecordId of readers) await batchLink(shelves.map((secondRecordId) => ({ firstRecordId, secondRecordId, labelKeys: ['shelved'] })));
    // Then what it reads ends (were it not ended, this would wait for ever), and the feed holds it no more.
    let text = '';
    for (let read = await reader.read(); !read.done; read = await reader.read()) text += decoder.decode(read.value, { stream: true });
    expect(feedSubscriberCount()).toBeLessThanOrEqual(subscribers);
    const messages = text.split('\n\n').filter((message) => message && !message.startsWith(':'));
    expect(messages.at(-1)).toBe('event: complete\ndata:');
    const last = JSON.parse(messages.at(-2)!.replace(/^event: next\ndata: /, ''));
    expect(last.errors).toEqual([expect.objectContaining({ extensions: { code: 'SUBSCRIBER_TOO_SLOW' } })]);
    // What it was sent before: events in commit order, each once, fewer than were committed.
    const ids = messages.slice(0, -2).map((message) => numericId(JSON.parse(message.replace(/^event: next\ndata: /, '')).data.associationEvents.id));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThan(readers.length * shelves.length - MAX_QUEUED);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('closing', () => {
  it('closing the stream removes the subscriber (in-process and over a real connection)', async () => {
    await Promise.all(open.splice(0).map((subscription) => subscription.close()));
    await expect.poll(() => feedSubscriberCount()).toBe(0);

    const live = await subscribe(ws.apiKey);
    expect(feedSubscriberCount()).toBe(1);
    await live.close();
    await expect.poll(() => feedSubscriberCount()).toBe(0);

    const server: Server = createServer(t.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
      const overHttp = await Promise.all([1, 2, 3].map(() => subscribeOverSse(fetch, url, LiveAssociationEventsDocument, {}, ws.apiKey)));
      expect(feedSubscriberCount()).toBe(3);
      await link(ws.gql, dee, cy, ['friend']);
      for (const subscription of overHttp) expect((await subscription.next()).data!.associationEvents.action).toBe('LINKED');
      await Promise.all(overHttp.map((subscription) => subscription.close()));
      await expect.poll(() => feedSubscriberCount(), { timeout: 5_000 }).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
