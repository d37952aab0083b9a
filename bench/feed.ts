/**
 * The change feed's figures for `npm run bench` (bench/run.ts runs them on each database's server
 * at N, after the other operations): how soon and how fast webhooks arrive, how soon every one
 * of 1,000 subscribers gets each event, and what the feed costs the write path.
 *
 * Events are made on contacts created for the purpose (nothing else touches them): a pair is
 * linked, then unlinked, one request after the other, so a pair's events commit in the order its
 * requests answer. What arrives (a webhook, a subscription event) is matched to the request that
 * made it by its pair and its place among the pair's events by event id, so arrivals may come in
 * any order. Latency is from the moment the request's response arrived at the client to the
 * moment the webhook or the subscription event arrived, both read from the same clock in this
 * process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

/** Events of the sequential streams whose latency is measured. */
const SEQUENTIAL_EVENTS = 400;
/** Events of the webhook burst. */
const BURST_EVENTS = 2_000;
/**
 * Contacts the burst links, each to BURST_DEGREE others (the per-contact limit is 10 by default):
 * 100 pairs, as many as a batch request takes.
 */
const BURST_CONTACTS = 20;
const BURST_DEGREE = 10;
/** Open subscriptions. */
const SUBSCRIBERS = 1_000;
/** Record pages: one subscriber per record; the measured writes land on some of those records. */
const PAGES = SUBSCRIBERS;
/** Subscriptions opened at a time. */
const OPENING = 50;
/** How long arrivals may stall before what is missing is counted as missing. */
const STALL = 15_000;

/** The write path's configurations, from none of the feed to all of it. */
const CONFIGURATIONS = [
  { name: 'no feed', endpoint: false, subscribers: 'none' },
  { name: 'one endpoint', endpoint: true, subscribers: 'none' },
  { name: `one endpoint, ${SUBSCRIBERS.toLocaleString('en')} subscribers to another record`, endpoint: true, subscribers: 'filtered' },
  { name: `one endpoint, ${PAGES.toLocaleString('en')} record pages`, endpoint: true, subscribers: 'pages' },
  { name: `one endpoint, ${SUBSCRIBERS.toLocaleString('en')} subscribers to every event`, endpoint: true, subscribers: 'unfiltered' },
  // Again, to show how far the machine's pace drifted meanwhile: the ratios are against the mean of both.
  { name: 'no feed, again', endpoint: false, subscribers: 'none' },
] as const;

/** One round's requests/s of each configuration against the mean of that round's two without the feed. */
function ratios(round: readonly Throughput[]): (number | null)[] {
  const base = (round[0]!.rps + round.at(-1)!.rps) / 2;
  return round.map((run, i) => (i === 0 || i === round.length - 1 ? null : run.rps / base));
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

/**
 * A configuration over the rounds: the run of median requests/s (its latencies are that run's),
 * and its ratio to no feed, round by round: median, lowest, highest.
 */
function overRounds(rounds: readonly (readonly Throughput[])[], i: number) {
  const runs = rounds.map((round) => round[i]!);
  const run = runs.find((each) => each.rps === median(runs.map((r) => r.rps)))!;
  const shares = rounds.map((round) => ratios(round)[i]).filter((ratio): ratio is number => ratio != null);
  return { run, ratio: shares.length ? { median: median(shares), low: Math.min(...shares), high: Math.max(...shares) } : null };
}

export interface Throughput {
  rps: number;
  p50: number;
  p99: number;
}

export interface FeedOptions {
  /** The GraphQL URL of a server started with RELATE_WEBHOOK_ALLOW_PRIVATE=true. */
  url: string;
  adminApiKey: string;
  /** M1's pair: its second contact's event count tells how many events M1 made. */
  quietContactIds: [string, string];
  /** Measures M1 (link + unlink of the quiet pair) exactly as the other operations are measured. */
  measureM1: (name: string) => Promise<Throughput>;
  /** The benchmark's connections and seconds per measurement. */
  connections: number;
  duration: number;
  /** How many times the write path's configurations are measured, in turn (the figures are the median round's). */
  rounds: number;
  /** The server's process (its workers are its children): its CPU per request is logged (Linux). */
  serverPid?: number;
  /** The database server's process when it runs on this machine (PostgreSQL's postmaster): its CPU per request too. */
  databasePid?: number;
  log: (message: string) => void;
}

/**
 * Every process's name, parent and CPU seconds so far: its own, and its children's that have ended
 * and that it has waited for (Linux /proc; none elsewhere).
 */
function processes(): { pid: number; name: string; ppid: number; cpu: number; endedChildren: number }[] {
  const tick = 100; // USER_HZ on Linux
  let ids: string[];
  try {
    ids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return ids.flatMap((id) => {
    try {
      const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the name: state, ppid, …; utime, stime, cutime and cstime are fields 14 to 17 of the whole line.
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number) as [number, number, number, number];
      return [{ pid: Number(id), name, ppid: Number(fields[1]), cpu: (utime + stime) / tick, endedChildren: (cutime + cstime) / tick }];
    } catch {
      return []; // gone meanwhile
    }
  });
}

/**
 * CPU seconds used so far by a process and its children, those alive and those that have ended (a
 * database server's connections come and go; 0 where /proc is not).
 */
function processTreeCpu(pid: number): number {
  return sum(processes().map((each) => (each.pid === pid ? each.cpu + each.endedChildren : each.ppid === pid ? each.cpu : 0)));
}

/** PostgreSQL's postmaster, when it runs on this machine (its backends are its children). */
export function localPostgresPid(): number | undefined {
  const all = processes();
  const byPid = new Map(all.map((each) => [each.pid, each]));
  return all.find((each) => each.name === 'postgres' && byPid.get(each.ppid)?.name !== 'postgres')?.pid;
}

export interface Percentiles {
  p50: number;
  p99: number;
  count: number;
}

export interface FeedReport {
  webhookLatency: Percentiles;
  webhookBurst: {
    events: number;
    /** Seconds the burst's requests took. */
    writeSeconds: number;
    /** Webhooks not yet posted when the receiver was released, and the pace they came at. */
    backlog: number;
    deliveryRate: number;
  };
  webhooksReceived: number;
  webhookDuplicates: number;
  webhooksMissing: number;
  subscribers: number;
  subscriptionEvents: number;
  subscriptionLatency: Percentiles;
  /** Subscribers that got every event of the sequential stream, once and in order. */
  subscribersComplete: number;
  /** M1 and M1 on pairs: per round, each configuration (CONFIGURATIONS' order). */
  writePath: { name: string; rounds: Throughput[][] }[];
  /** CPU ms per request of both runs (warm-ups included), per round and configuration: the server's, and the subscribers' process's (when the server's pid is known). */
  cpu?: { server: number; subscribers: number; database?: number }[][];
  /** Per configuration with the feed: the events made while measured, and what arrived of them. */
  withFeed: {
    name: string;
    subscribers: 'filtered' | 'pages' | 'unfiltered' | 'none';
    events: number;
    /** Subscribers that had every event (unfiltered), those of their record (pages) or none (filtered: none was theirs). */
    subscribersRight: number;
    webhooksReceived: number;
    /** Seconds after the last run until every subscriber and the endpoint had every event (or arrivals stalled). */
    drainSeconds: number;
  }[];
}

// ---------------------------------------------------------------------------------------------
// The API.

async function graphql<T>(url: string, apiKey: string, query: string, variables: object = {}): Promise<T> {
  const send = () =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
  // A kept-alive connection the server closed as it went idle fails before anything was sent:
  // sent again once, on a new connection.
  const response = await send().catch((error: Error & { cause?: { code?: string } }) => {
    if (['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE'].includes(error.cause?.code ?? '')) return send();
    throw error;
  });
  const body = (await response.json()) as { data?: Record<string, { __typename?: string }>; errors?: unknown };
  const result = body.data && Object.values(body.data)[0];
  if (body.errors || (result?.__typename && !result.__typename.endsWith('Success'))) throw new Error(`request failed: ${JSON.stringify(body)}`);
  return body.data as T;
}

const LINK = `mutation ($a: ID!, $b: ID!) { linkRecords(input: { firstRecordId: $a, secondRecordId: $b, labelKeys: ["colleague"] }) {
  __typename ... on LinkRecordsSuccess { created } ... on Error { code message } } }`;
const UNLINK = `mutation ($a: ID!, $b: ID!) { unlinkRecords(input: { firstRecordId: $a, secondRecordId: $b, labelKeys: ["colleague"] }) {
  __typename ... on UnlinkRecordsSuccess { removedCount } ... on Error { code message } } }`;
const SELECTION = '{ id action at firstRecordId secondRecordId label { key } }';

type Action = 'LINKED' | 'UNLINKED';

const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);
/** The row id inside a global id ("AssociationEvent:42" in base64). */
const rowId = (globalId: string) => Number(Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]);

/** New contacts, linked to nothing. */
async function newContacts(url: string, apiKey: string, count: number): Promise<string[]> {
  const tag = Date.now().toString(36);
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const data = await graphql<{ createRecord: { record: { id: string } } }>(
      url,
      apiKey,
      `mutation ($properties: JSONObject!) { createRecord(input: { objectKey: "contact", properties: $properties }) {
        __typename ... on CreateRecordSuccess { record { id } } ... on Error { code message } } }`,
      { properties: { firstName: 'Feed', lastName: `Lane ${tag}-${i}`, email: `feed-${tag}-${i}@example.com` } },
    );
    ids.push(data.createRecord.record.id);
  }
  return ids;
}

interface Made {
  pair: string;
  action: Action;
  /** When the response arrived (performance.now()). */
  answered: number;
}

/**
 * Makes `events` events (rounded up to whole link + unlink rounds) on one pair, each request sent
 * when the previous one answered.
 */
async function drive(url: string, apiKey: string, [a, b]: [string, string], events: number) {
  const made: Made[] = [];
  const pair = pairKey(a, b);
  const started = performance.now();
  while (made.length < events) {
    const linked = await graphql<{ linkRecords: { created: boolean } }>(url, apiKey, LINK, { a, b });
    if (!linked.linkRecords.created) throw new Error('a pair of the feed benchmark was already linked');
    made.push({ pair, action: 'LINKED', answered: performance.now() });
    const unlinked = await graphql<{ unlinkRecords: { removedCount: number } }>(url, apiKey, UNLINK, { a, b });
    if (unlinked.unlinkRecords.removedCount !== 1) throw new Error('a pair of the feed benchmark was not linked');
    made.push({ pair, action: 'UNLINKED', answered: performance.now() });
  }
  return { made, started, ended: performance.now() };
}

/**
 * Makes `events` events as fast as the server commits them: all of `pairs` linked in one batch
 * request, then unlinked in one, and again.
 */
async function burst(url: string, apiKey: string, pairs: [string, string][], events: number) {
  const made: Made[] = [];
  const items = pairs.map(([a, b]) => ({ firstRecordId: a, secondRecordId: b, labelKeys: ['colleague'] }));
  const started = performance.now();
  while (made.length < events) {
    const linked = await graphql<{ batchLinkRecords: { createdCount: number } }>(
      url,
      apiKey,
      `mutation ($links: [LinkRecordsInput!]!) { batchLinkRecords(input: { links: $links }) {
        __typename ... on BatchLinkRecordsSuccess { createdCount } ... on Error { code message } } }`,
      { links: items },
    );
    if (linked.batchLinkRecords.createdCount !== pairs.length) throw new Error('pairs of the feed benchmark were already linked');
    const linkedAt = performance.now();
    for (const [a, b] of pairs) made.push({ pair: pairKey(a, b), action: 'LINKED', answered: linkedAt });
    const unlinked = await graphql<{ batchUnlinkRecords: { removedCount: number } }>(
      url,
      apiKey,
      `mutation ($unlinks: [UnlinkRecordsInput!]!) { batchUnlinkRecords(input: { unlinks: $unlinks }) {
        __typename ... on BatchUnlinkRecordsSuccess { removedCount } ... on Error { code message } } }`,
      { unlinks: items },
    );
    if (unlinked.batchUnlinkRecords.removedCount !== pairs.length) throw new Error('pairs of the feed benchmark were not linked');
    const unlinkedAt = performance.now();
    for (const [a, b] of pairs) made.push({ pair: pairKey(a, b), action: 'UNLINKED', answered: unlinkedAt });
  }
  return { made, started, ended: performance.now() };
}

interface Arrival {
  id: number;
  pair: string;
  action: Action;
  at: number;
}

/**
 * Matches arrivals to the requests that made them: per pair, the arrivals (first of each event
 * id) in event id order against the requests in the order they answered.
 */
function match(made: readonly Made[], arrivals: readonly Arrival[]) {
  const byPair = new Map<string, Arrival[]>();
  const seen = new Set<number>();
  let duplicates = 0;
  for (const arrival of arrivals) {
    if (seen.has(arrival.id)) {
      duplicates += 1;
      continue;
    }
    seen.add(arrival.id);
    byPair.set(arrival.pair, [...(byPair.get(arrival.pair) ?? []), arrival]);
  }
  for (const list of byPair.values()) list.sort((x, y) => x.id - y.id);
  const next = new Map<string, number>();
  const latencies: number[] = [];
  let missing = 0;
  let wrong = 0;
  for (const request of made) {
    const index = next.get(request.pair) ?? 0;
    next.set(request.pair, index + 1);
    const arrival = byPair.get(request.pair)?.[index];
    if (!arrival) missing += 1;
    else if (arrival.action !== request.action) wrong += 1;
    else latencies.push(arrival.at - request.answered);
  }
  if (wrong) throw new Error(`${wrong} arrivals do not match the requests that should have made them`);
  return { latencies, missing, duplicates };
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), count: sorted.length };
}

/** Resolves once `done()` holds, or once `progress()` has not changed for STALL ms. */
async function settle(done: () => boolean, progress: () => number): Promise<void> {
  let last = progress();
  let since = performance.now();
  while (!done()) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = progress();
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (performance.now() - since > STALL) {
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The webhook receiver: answers 204 to everything (at once, or when released while holding),
// notes what arrived and when.

interface Receiver {
  url: string;
  arrivals: Arrival[];
  /** Answers nothing until released. */
  hold: () => void;
  /** Answers what it held, and from now on at once; returns how many it held. */
  release: () => number;
  stop: () => Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const arrivals: Arrival[] = [];
  let held: ServerResponse[] | null = null;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const at = performance.now();
    const id = rowId(String(req.headers['webhook-id'] ?? ''));
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (held) held.push(res);
      else res.writeHead(204).end();
      const event = JSON.parse(body) as { type: string; data: { firstRecord?: { id: string }; secondRecord?: { id: string } } };
      const { firstRecord, secondRecord } = event.data;
      if (!firstRecord || !secondRecord) return; // not an association event
      const action = event.type === 'association.linked' ? 'LINKED' : 'UNLINKED';
      arrivals.push({ id, pair: pairKey(firstRecord.id, secondRecord.id), action, at });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    arrivals,
    hold: () => void (held ??= []),
    release: () => {
      const answered = held ?? [];
      held = null;
      for (const res of answered) res.writeHead(204).end();
      return answered.length;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------------------------------------
// Subscribers: GraphQL over SSE, each on a connection of its own, as a browser's EventSource.

/** What the write-path runs need of a subscriber: how many events it got, and whether it ended. */
interface Counting {
  readonly count: number;
  readonly ended: boolean;
}

export class Subscriber implements Counting {
  arrivals: Arrival[] = [];
  /** `next` messages received (all of them, also while not noting arrivals). */
  count = 0;
  errors = 0;
  ended = false;
  /** Whether arrivals are noted (parsed); otherwise messages are only counted. */
  noting = true;
  private buffer = '';
  private close: (() => void) | undefined;

  /** Subscribes to every event, or to those of one record. */
  open(url: string, apiKey: string, recordId?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const query = recordId
        ? `subscription ($recordId: ID) { associationEvents(recordId: $recordId) ${SELECTION} }`
        : `subscription { associationEvents ${SELECTION} }`;
      const body = JSON.stringify({ query, variables: { recordId } });
      const req = request(
        url,
        {
          method: 'POST',
          agent: false,
          headers: {
            accept: 'text/event-stream',
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${apiKey}`,
          },
        },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`subscription answered ${res.statusCode}`));
            res.resume();
            return;
          }
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => this.receive(chunk, performance.now()));
          res.on('close', () => (this.ended = true));
          resolve();
        },
      );
      req.on('error', (error) => {
        this.ended = true;
        reject(error);
      });
      this.close = () => req.destroy();
      req.end(body);
    });
  }

  private receive(chunk: string, at: number): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      if (!block.startsWith('event: next')) continue; // keep-alive comments, complete
      this.count += 1;
      if (!this.noting) continue;
      const data = block.slice(block.indexOf('data:') + 5);
      const payload = JSON.parse(data) as {
        data?: { associationEvents: { id: string; action: Action; firstRecordId: string; secondRecordId: string } };
        errors?: unknown;
      };
      const event = payload.data?.associationEvents;
      if (payload.errors || !event) {
        this.errors += 1;
        continue;
      }
      this.arrivals.push({ id: rowId(event.id), pair: pairKey(event.firstRecordId, event.secondRecordId), action: event.action, at });
    }
  }

  reset(noting: boolean): void {
    this.arrivals = [];
    this.count = 0;
    this.noting = noting;
  }

  stop(): void {
    this.close?.();
  }
}

/** One subscriber per entry: to that record's events, or (undefined) to every event; OPENING at a time. */
export async function openSubscribers(url: string, apiKey: string, recordIds: (string | undefined)[]): Promise<Subscriber[]> {
  const subscribers = recordIds.map(() => new Subscriber());
  for (let i = 0; i < subscribers.length; i += OPENING) {
    await Promise.all(subscribers.slice(i, i + OPENING).map((subscriber, j) => subscriber.open(url, apiKey, recordIds[i + j])));
  }
  return subscribers;
}

/** Messages between this process and its subscribers' process (bench/feed-subscribers.ts). */
export type ToSubscribers =
  | { type: 'open'; id: number; url: string; apiKey: string; recordIds: (string | null)[] }
  | { type: 'reset'; epoch: number }
  | { type: 'stop' };
export type FromSubscribers =
  | { type: 'opened'; id: number; error?: string }
  | { type: 'counts'; epoch: number; counts: number[]; ended: boolean[] };

/**
 * The write-path runs' subscribers, in a process of their own: reading 1,000 streams takes this
 * process's event loop from the load it drives (autocannon runs here), which would count the
 * clients' work as the feed's cost. Their counts come back every 50 ms (COUNTS_EVERY).
 */
class SubscriberProcess {
  private readonly child: ChildProcess;
  private readonly mirrors: { count: number; ended: boolean }[] = [];
  private epoch = 0;
  private opening = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private asked = 0;

  constructor() {
    this.child = fork(fileURLToPath(new URL('./feed-subscribers.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    this.child.on('message', (message: FromSubscribers) => {
      if (message.type === 'opened') {
        const waiting = this.opening.get(message.id);
        this.opening.delete(message.id);
        if (message.error) waiting?.reject(new Error(message.error));
        else waiting?.resolve();
      } else if (message.epoch === this.epoch) {
        message.counts.forEach((count, i) => {
          if (this.mirrors[i]) this.mirrors[i] = { count, ended: message.ended[i]! };
        });
      }
    });
  }

  private send(message: ToSubscribers): void {
    this.child.send(message);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async open(url: string, apiKey: string, recordIds: (string | undefined)[]): Promise<Counting[]> {
    const id = (this.asked += 1);
    const first = this.mirrors.length;
    await new Promise<void>((resolve, reject) => {
      this.opening.set(id, { resolve, reject });
      this.send({ type: 'open', id, url, apiKey, recordIds: recordIds.map((recordId) => recordId ?? null) });
    });
    const opened = recordIds.map((_, i): Counting => {
      const index = first + i;
      this.mirrors[index] = { count: 0, ended: false };
      const mirrors = this.mirrors;
      return {
        get count() {
          return mirrors[index]?.count ?? 0;
        },
        get ended() {
          return mirrors[index]?.ended ?? true;
        },
      };
    });
    return opened;
  }

  /** Every subscriber's count back to 0 (counts sent before it are passed over). */
  reset(): void {
    this.epoch += 1;
    for (const mirror of this.mirrors) mirror.count = 0;
    this.send({ type: 'reset', epoch: this.epoch });
  }

  /** Closes every subscriber. */
  stop(): void {
    if (this.mirrors.length === 0) return;
    // Counts sent before the stop find no subscriber here (the next ones open after it): ignored.
    this.mirrors.length = 0;
    this.send({ type: 'stop' });
  }

  close(): void {
    this.child.disconnect();
  }
}

/** Events of each record (both sides), as the API counts them: 20 records a request (aliases are limited). */
async function eventCounts(url: string, apiKey: string, recordIds: string[]): Promise<number[]> {
  if (recordIds.length > 20) {
    const counts: number[] = [];
    for (let i = 0; i < recordIds.length; i += 20) counts.push(...(await eventCounts(url, apiKey, recordIds.slice(i, i + 20))));
    return counts;
  }
  const fields = recordIds.map((_, i) => `r${i}: record(id: $r${i}) { associationEvents(first: 1) { totalCount } }`);
  const data = await graphql<Record<string, { associationEvents: { totalCount: number } }>>(
    url,
    apiKey,
    `query (${recordIds.map((_, i) => `$r${i}: ID!`).join(', ')}) { ${fields.join(' ')} }`,
    Object.fromEntries(recordIds.map((id, i) => [`r${i}`, id])),
  );
  return recordIds.map((_, i) => data[`r${i}`]!.associationEvents.totalCount);
}

/**
 * M1 as the benchmark measures it (the same connections, a 2 s warm-up, then the same duration),
 * except that each connection links and unlinks a pair no other connection holds meanwhile, so
 * every request commits an event. Pairs that a connection cut off at the end left linked are
 * unlinked after each run.
 */
async function measureM1OnPairs(
  url: string,
  apiKey: string,
  pairs: [string, string][],
  options: { connections: number; duration: number; madeEvents: () => Promise<number> },
) {
  const { connections, duration } = options;
  type Held = { pair?: { a: string; b: string } };
  const run = async (seconds: number) => {
    const free = pairs.map(([a, b]) => ({ a, b }));
    const held = new Set<{ a: string; b: string }>();
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
    const result = await autocannon({
      url,
      connections,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          headers,
          // A connection takes a free pair for its link and its unlink (the context lives until
          // its requests start over).
          setupRequest: (request, context) => {
            const pair = free.shift();
            if (!pair) throw new Error('more connections than pairs');
            held.add(pair);
            (context as Held).pair = pair;
            return { ...request, body: JSON.stringify({ query: LINK, variables: pair }) };
          },
        },
        {
          method: 'POST',
          headers,
          setupRequest: (request, context) => ({ ...request, body: JSON.stringify({ query: UNLINK, variables: (context as Held).pair }) }),
          onResponse: (_status, _body, context) => {
            const pair = (context as Held).pair!;
            held.delete(pair);
            free.push(pair);
          },
        },
      ],
    });
    if (result.errors || result.non2xx) throw new Error(`load run had ${result.errors} errors and ${result.non2xx} non-2xx`);
    // Requests cut off when the run ended may still be committing: once no more events come.
    for (let last = -1, now = await options.madeEvents(); now !== last; last = now, now = await options.madeEvents()) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (held.size) {
      await graphql(
        url,
        apiKey,
        `mutation ($unlinks: [UnlinkRecordsInput!]!) { batchUnlinkRecords(input: { unlinks: $unlinks }) {
          __typename ... on BatchUnlinkRecordsSuccess { removedCount } ... on Error { code message } } }`,
        { unlinks: [...held].map(({ a, b }) => ({ firstRecordId: a, secondRecordId: b, labelKeys: ['colleague'] })) },
      );
    }
    return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
  };
  await run(2);
  return run(duration);
}

const rounded = (value: number) => Math.round(value * 10) / 10;
const roundedPercentiles = (p: Percentiles): Percentiles => ({ p50: rounded(p.p50), p99: rounded(p.p99), count: p.count });
const sum = (values: Iterable<number>) => [...values].reduce((total, value) => total + value, 0);

// ---------------------------------------------------------------------------------------------

export async function benchFeed(options: FeedOptions): Promise<FeedReport> {
  const { url, adminApiKey: key, log } = options;
  // Each contact linked to the next BURST_DEGREE / 2 around a ring: BURST_DEGREE links each; one
  // more that record-filtered subscribers follow, linked by nothing measured.
  const contacts = await newContacts(url, key, BURST_CONTACTS + 1);
  const followed = contacts.pop()!;
  /**
   * Record pages: one subscriber to each of M1's pair, the ring's contacts and enough other new
   * contacts to make PAGES, so that each measured event goes to the two pages of its records.
   */
  const pageRecords = [...options.quietContactIds, ...contacts];
  pageRecords.push(...(await newContacts(url, key, PAGES - pageRecords.length)));
  const pairs: [string, string][] = [];
  for (let step = 1; step <= BURST_DEGREE / 2; step += 1) {
    contacts.forEach((contact, i) => pairs.push([contact, contacts[(i + step) % contacts.length]!]));
  }
  const single = pairs[0]!;
  /** Neighbours on the ring: as many pairs as contacts, each contact in two. */
  const ring = pairs.slice(0, BURST_CONTACTS);
  /** Events made so far on M1's pair and the ring (each ring event is one of two ring contacts'). */
  const madeEvents = async () => {
    const counts = await eventCounts(url, key, [options.quietContactIds[1], ...contacts]);
    return counts[0]! + sum(counts.slice(1)) / 2;
  };
  const receiver = await startReceiver();
  /** The write-path runs' subscribers (the latency run's are in this process: it times their arrivals). */
  const remote = new SubscriberProcess();
  /** The latency run's subscribers. */
  const local: Subscriber[] = [];
  /** The subscribers open now, wherever they run: what is counted. */
  const subscribers: Counting[] = [];
  let endpointId: string | undefined;
  const setEnabled = (enabled: boolean) =>
    graphql(url, key, `mutation ($id: ID!, $enabled: Boolean) { updateWebhookEndpoint(input: { id: $id, enabled: $enabled }) {
      __typename ... on Error { code message } } }`, { id: endpointId, enabled });
  const received = () => new Set(receiver.arrivals.map((arrival) => arrival.id)).size;
  const counted = () => sum(subscribers.map((subscriber) => subscriber.count));
  /** Opens one subscriber per page record; each is listening once its stream has begun. */
  const subscribePages = async () => {
    const started = performance.now();
    const pages = await remote.open(url, key, pageRecords);
    subscribers.push(...pages);
    log(`feed: ${pages.length} record pages subscribed after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
  /** Events of each page record, both of M1's pair counted by its second. */
  const pageEvents = async () => {
    const counts = await eventCounts(url, key, pageRecords.slice(1));
    return [counts[0]!, ...counts];
  };
  /**
   * Opens the subscribers, to every event or to those of one record, and makes one round of
   * events that each must get: all of them listen.
   */
  const subscribe = async <S extends Counting>(open: (recordIds: (string | undefined)[]) => Promise<S[]>, recordId?: string) => {
    const started = performance.now();
    const opened = await open(Array<string | undefined>(SUBSCRIBERS).fill(recordId));
    subscribers.push(...opened);
    const probe = await drive(url, key, recordId ? [recordId, contacts[0]!] : single, 2);
    await settle(() => subscribers.every((subscriber) => subscriber.count >= probe.made.length), counted);
    const listening = subscribers.filter((subscriber) => subscriber.count >= probe.made.length && !subscriber.ended).length;
    log(`feed: ${listening} of ${SUBSCRIBERS} subscriptions open and receiving after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (listening < SUBSCRIBERS) throw new Error(`only ${listening} of ${SUBSCRIBERS} subscriptions received events`);
    return opened;
  };
  /** Closes every subscriber: this process's one by one, the other process's all at once. */
  const closeSubscribers = () => {
    subscribers.length = 0;
    for (const subscriber of local.splice(0)) subscriber.stop();
    remote.stop();
  };
  const unsubscribe = async () => {
    closeSubscribers();
    // The server lets go of them as it sees the connections close.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  };

  try {
    const created = await graphql<{ createWebhookEndpoint: { webhookEndpoint: { id: string } } }>(
      url,
      key,
      `mutation ($url: String!) { createWebhookEndpoint(input: { url: $url, description: "benchmark receiver" }) {
        __typename ... on CreateWebhookEndpointSuccess { webhookEndpoint { id } } ... on Error { code message } } }`,
      { url: receiver.url },
    );
    endpointId = created.createWebhookEndpoint.webhookEndpoint.id;

    // 1. Webhooks: the latency of events made one at a time, then the pace of a burst.
    const sequential = await drive(url, key, single, SEQUENTIAL_EVENTS);
    await settle(() => received() >= sequential.made.length, received);
    const latencyMatch = match(sequential.made, receiver.arrivals);
    const webhookLatency = roundedPercentiles(percentiles(latencyMatch.latencies));
    log(`feed: webhook latency p50 ${webhookLatency.p50} ms, p99 ${webhookLatency.p99} ms (${sequential.made.length} events, one at a time)`);
    let duplicates = latencyMatch.duplicates;
    let missing = latencyMatch.missing;
    let delivered = received();

    // The receiver holds the first webhooks (each dispatcher waits for its batch's answers) while
    // the burst is written, so that what is measured next is the dispatchers' pace alone.
    receiver.arrivals.length = 0;
    receiver.hold();
    const burstRun = await burst(url, key, pairs, BURST_EVENTS);
    const releasedAt = performance.now();
    const backlog = burstRun.made.length - receiver.release();
    await settle(() => received() >= burstRun.made.length, received);
    const burstMatch = match(burstRun.made, receiver.arrivals);
    duplicates += burstMatch.duplicates;
    missing += burstMatch.missing;
    delivered += received();
    const lastArrival = Math.max(...receiver.arrivals.map((arrival) => arrival.at));
    const webhookBurst = {
      events: burstRun.made.length,
      writeSeconds: rounded((burstRun.ended - burstRun.started) / 1000),
      backlog,
      deliveryRate: Math.round(backlog / ((lastArrival - releasedAt) / 1000)),
    };
    log(
      `feed: webhook burst of ${webhookBurst.events} events written in ${webhookBurst.writeSeconds} s; once released, the ${backlog} not yet ` +
        `posted were delivered at ${webhookBurst.deliveryRate}/s; ${duplicates} duplicates, ${missing} missing so far`,
    );
    // Disabled, it costs what no endpoint does: events get deliveries for enabled endpoints only.
    await setEnabled(false);

    // 2. Subscriptions: the latency of events made one at a time, to every subscriber.
    local.push(...(await subscribe((recordIds) => openSubscribers(url, key, recordIds))));
    for (const subscriber of local) subscriber.reset(true);
    const stream = await drive(url, key, single, SEQUENTIAL_EVENTS);
    await settle(() => local.every((subscriber) => subscriber.count >= stream.made.length), counted);
    const latencies: number[] = [];
    let subscribersComplete = 0;
    for (const subscriber of local) {
      const { latencies: mine, missing: lost, duplicates: twice } = match(stream.made, subscriber.arrivals);
      latencies.push(...mine);
      const inOrder = subscriber.arrivals.every((arrival, i, all) => i === 0 || all[i - 1]!.id < arrival.id);
      if (!lost && !twice && !subscriber.errors && inOrder && subscriber.arrivals.length === stream.made.length) subscribersComplete += 1;
    }
    const subscriptionLatency = roundedPercentiles(percentiles(latencies));
    log(
      `feed: subscription latency p50 ${subscriptionLatency.p50} ms, p99 ${subscriptionLatency.p99} ms ` +
        `(${stream.made.length} events × ${SUBSCRIBERS} subscribers); ${subscribersComplete} subscribers got every event once, in order`,
    );
    await unsubscribe();

    // 3. The write path in each configuration, from no feed (no subscriber, no enabled endpoint)
    // to all of it; subscribers only count what they receive.
    const { connections, duration } = options;
    const m1Ring = async (name: string) => {
      const result = await measureM1OnPairs(url, key, ring, { connections, duration, madeEvents });
      log(`M1 on ${ring.length} pairs, ${name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms`);
      return result;
    };
    // The machine's pace drifts over minutes and one 10-second run can be off by 15 % either way: the
    // configurations are measured in turn, round after round, and each is judged by its median round.
    const rounds: (readonly [Throughput, Throughput])[][] = [];
    const cpu: NonNullable<FeedReport['cpu']> = [];
    const withFeed: FeedReport['withFeed'] = [];
    for (let round = 1; round <= options.rounds; round += 1) {
      log(`feed: write path, round ${round} of ${options.rounds}`);
      const runs: (readonly [Throughput, Throughput])[] = [];
      rounds.push(runs);
      const cpuOfRound: NonNullable<FeedReport['cpu']>[number] = [];
      cpu.push(cpuOfRound);
      for (const configuration of CONFIGURATIONS) {
        const { name, endpoint } = configuration;
        const unfiltered = configuration.subscribers === 'unfiltered';
        const pages = configuration.subscribers === 'pages';
        if (pages) await subscribePages();
        else if (configuration.subscribers !== 'none') await subscribe((recordIds) => remote.open(url, key, recordIds), unfiltered ? undefined : followed);
        remote.reset();
        receiver.arrivals.length = 0;
        if (endpoint) await setEnabled(true);
        const pagesBefore = pages ? await pageEvents() : [];
        const before = await madeEvents();
        // Where the time goes: the server's CPU per request, and how busy this process's event loop
        // was (it runs the load and the subscribers' connections: when it is busy, it is the limit).
        const cpuBefore = options.serverPid ? processTreeCpu(options.serverPid) : 0;
        const subscribersCpuBefore = remote.pid ? processTreeCpu(remote.pid) : 0;
        const databaseCpuBefore = options.databasePid ? processTreeCpu(options.databasePid) : 0;
        const loopBefore = performance.eventLoopUtilization();
        const pair = [await options.measureM1(`M1 link + unlink, ${name}`), await m1Ring(name)] as const;
        runs.push(pair);
        const loop = performance.eventLoopUtilization(loopBefore).utilization;
        if (options.serverPid) {
          const requests = sum(pair.map((run) => run.rps)) * (options.duration + 2);
          const used = {
            server: ((processTreeCpu(options.serverPid) - cpuBefore) * 1000) / requests,
            subscribers: ((processTreeCpu(remote.pid!) - subscribersCpuBefore) * 1000) / requests,
            ...(options.databasePid ? { database: ((processTreeCpu(options.databasePid) - databaseCpuBefore) * 1000) / requests } : {}),
          };
          cpuOfRound.push(used);
          log(
            `feed: ${name}: server CPU ${used.server.toFixed(2)} ms per request (both runs, warm-ups included); ` +
              `the subscribers' process ${used.subscribers.toFixed(2)} ms; ` +
              (used.database === undefined ? '' : `the database ${used.database.toFixed(2)} ms; `) +
              `the benchmark's own event loop busy ${(loop * 100).toFixed(0)} %`,
          );
        }
        const measured = performance.now();
        const events = (await madeEvents()) - before;
        // What each subscriber should get: every event, its page record's, or none.
        const pagesAfter = pages ? await pageEvents() : [];
        const expected = subscribers.map((_, i) => (unfiltered ? events : pages ? pagesAfter[i]! - pagesBefore[i]! : 0));
        if (endpoint) {
          await settle(
            () => received() >= events && subscribers.every((subscriber, i) => subscriber.count >= expected[i]!),
            () => counted() + receiver.arrivals.length,
          );
          const drainSeconds = rounded((performance.now() - measured) / 1000);
          const subscribersRight = subscribers.filter((subscriber, i) => subscriber.count === expected[i] && !subscriber.ended).length;
          const webhooksReceived = received();
          duplicates += receiver.arrivals.length - webhooksReceived;
          delivered += webhooksReceived;
          missing += Math.max(0, events - webhooksReceived);
          // Over the rounds: every event made and webhook received; the worst round's subscribers and drain.
          const seen = withFeed.find((entry) => entry.name === name);
          if (!seen) withFeed.push({ name, subscribers: configuration.subscribers, events, subscribersRight, webhooksReceived, drainSeconds });
          else {
            seen.events += events;
            seen.webhooksReceived += webhooksReceived;
            seen.subscribersRight = Math.min(seen.subscribersRight, subscribersRight);
            seen.drainSeconds = Math.max(seen.drainSeconds, drainSeconds);
          }
          const right = unfiltered ? 'every one' : pages ? 'those of their record' : 'none, rightly';
          log(
            `feed: ${events} events made with ${name}; the endpoint had ${webhooksReceived}` +
              (subscribers.length ? ` and ${subscribersRight} of ${subscribers.length} subscribers had ${right}` : '') +
              ` ${drainSeconds} s after the last run`,
          );
          await setEnabled(false);
        }
        if (subscribers.length) await unsubscribe();
      }
    }
    const writePath = [
      { name: 'M1 (as above: one pair)', rounds: rounds.map((runs) => runs.map((pair) => pair[0])) },
      { name: `M1 on ${ring.length} pairs, one per connection`, rounds: rounds.map((runs) => runs.map((pair) => pair[1])) },
    ];
    for (const row of writePath) {
      const shares = CONFIGURATIONS.flatMap(({ name }, i) => {
        const ratio = overRounds(row.rounds, i).ratio;
        return ratio ? [`${(ratio.median * 100).toFixed(0)} % (${(ratio.low * 100).toFixed(0)}–${(ratio.high * 100).toFixed(0)}) with ${name}`] : [];
      });
      log(`feed: ${row.name}, requests/s against no feed, median round (lowest–highest): ${shares.join('; ')}`);
    }
    return {
      webhookLatency,
      webhookBurst,
      webhooksReceived: delivered,
      webhookDuplicates: duplicates,
      webhooksMissing: missing,
      subscribers: SUBSCRIBERS,
      subscriptionEvents: stream.made.length,
      subscriptionLatency,
      subscribersComplete,
      writePath,
      ...(options.serverPid ? { cpu } : {}),
      withFeed,
    };
  } finally {
    closeSubscribers();
    if (endpointId) {
      await graphql(url, key, 'mutation ($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { __typename ... on Error { code message } } }', {
        id: endpointId,
      }).catch(() => undefined);
    }
    await receiver.stop();
    remote.close();
  }
}

/** How many rounds a report's write path was measured in. */
const roundsOf = (f: FeedReport) => f.writePath[0]!.rounds.length;

/** The report's "Change feed" section: what is measured, then a table per database. */
/** The heading of the change feed's section of the report. */
export const FEED_HEADING = '## Change feed';

export function feedSection(reports: { name: string; feed: FeedReport | undefined }[]): string[] {
  const measured = reports.filter((report): report is { name: string; feed: FeedReport } => report.feed !== undefined);
  if (!measured.length) return [];
  const lines = [
    FEED_HEADING,
    '',
    'Measured on the server at N after the operations above (its workers as above), started with `RELATE_WEBHOOK_ALLOW_PRIVATE=true` ' +
      'so that it posts to a receiver in the benchmark process (node:http, answering 204 at once). Events are made on 20 contacts created for it, linked and ' +
      'unlinked in pairs. Latency runs from the moment the link or unlink request\'s response reached the client to the moment the ' +
      'webhook request or the subscription event reached the receiver or the subscriber (one clock, in the benchmark process), each ' +
      'arrival matched to the request that made it by its record pair and event id.',
    '',
    `- **Webhook latency**: ${SEQUENTIAL_EVENTS} events made one after the other (each request sent when the previous one answered), one endpoint.`,
    `- **Webhook burst**: ${BURST_EVENTS.toLocaleString('en')} events made as fast as the server commits them (100 pairs linked in one ` +
      '`batchLinkRecords`, then unlinked in one `batchUnlinkRecords`, and again) while the receiver holds its first webhooks unanswered ' +
      '(each process\'s dispatcher waits for the answers to the batch it posted), then answers them: "then delivered per s" is the ' +
      'webhooks not yet posted at that moment over the time until the last one arrived, the dispatchers\' pace alone. The server runs ' +
      'with `RELATE_WEBHOOK_TIMEOUT=120` so that the held ones do not time out.',
    `- **Subscriptions**: ${SUBSCRIBERS.toLocaleString('en')} \`subscription { associationEvents { id action at firstRecordId secondRecordId label { key } } }\` ` +
      'without filters over GraphQL over SSE, each on a connection of its own and so spread over the server\'s workers; then ' +
      `${SEQUENTIAL_EVENTS} events made one after the other. Latency is over every event of every subscriber; "complete" counts the ` +
      'subscribers that got every event once, in order. The endpoint is disabled meanwhile.',
    '- **Write path**: requests/s with no subscriber and no enabled endpoint, then with the endpoint enabled (its receiver answering), ' +
      `then with ${SUBSCRIBERS.toLocaleString('en')} subscribers too: each to one record (\`recordId\`) that nothing measured links (each ` +
      `event goes to none of them); then ${PAGES.toLocaleString('en')} record pages, a subscriber to each of ${PAGES.toLocaleString('en')} contacts (\`recordId\`), ` +
      'among them every contact the measured requests link (each event goes to the two pages of its records, as when the records ' +
      'people have open are the ones being linked); then to every event (each event goes to all of them), and last with no feed again. Each is measured ' +
      'like M1 (the same connections, warm-up and duration), one after the other on the same server, and the whole sequence is measured ' +
      `${roundsOf(measured[0]!.feed)} times in turn (rounds): one run of 10 s can be off by 15 % either way as the machine\'s pace drifts. ` +
      'A round\'s "% of no feed" is against the mean of its first and last run; the table gives, per configuration, the run with the median ' +
      'requests/s and the median of the rounds\' percentages, with the lowest and highest in brackets. M1 as above races its connections on one pair, so most of its ' +
      'requests change nothing and make no event; the second row gives each connection a pair of its own, so that every request makes ' +
      'an event. These subscribers run in a process of their own, so that reading their streams does not hold up the load. ' +
      'The target: the feed costs the write path at most 20 %.',
    '- **Duplicates**: webhooks received more than once (the same `webhook-id`) over all of the above; **missing**: events no webhook brought.',
    '',
  ];
  for (const { name, feed: f } of measured) {
    const several = roundsOf(f) > 1;
    const withDatabase = f.cpu?.[0]?.[0]?.database !== undefined;
    const subscribers = f.subscribers.toLocaleString('en');
    lines.push(
      `### ${name}`,
      '',
      '| figure | value |',
      '|---|---:|',
      `| webhook latency p50 / p99 (ms) | ${f.webhookLatency.p50} / ${f.webhookLatency.p99} |`,
      `| webhook burst: events; written in (s); then delivered per s | ${f.webhookBurst.events.toLocaleString('en')}; ${f.webhookBurst.writeSeconds}; ${f.webhookBurst.deliveryRate} |`,
      `| webhooks received; duplicates; missing | ${f.webhooksReceived.toLocaleString('en')}; ${f.webhookDuplicates}; ${f.webhooksMissing} |`,
      `| subscription latency p50 / p99 (ms), ${subscribers} subscribers × ${f.subscriptionEvents} events | ${f.subscriptionLatency.p50} / ${f.subscriptionLatency.p99} |`,
      `| subscribers complete | ${f.subscribersComplete.toLocaleString('en')} of ${subscribers} |`,
      '',
      `| write path | ${f.writePath.map((row) => `${row.name}: req/s (p50 / p99 ms) | % of no feed`).join(' | ')} |`,
      `|---|${f.writePath.map(() => '---:|---:').join('|')}|`,
      ...CONFIGURATIONS.map((configuration, i) => {
        const cells = f.writePath.map((row) => {
          const { run, ratio } = overRounds(row.rounds, i);
          const percent = (share: number) => (share * 100).toFixed(0);
          const range = ratio && several ? ` (${percent(ratio.low)}–${percent(ratio.high)})` : '';
          return `${run.rps.toFixed(0)} (${run.p50} / ${run.p99}) | ${ratio ? `**${percent(ratio.median)} %**${range}` : '–'}`;
        });
        return `| ${configuration.name} | ${cells.join(' | ')} |`;
      }),
      '',
      ...(f.cpu
        ? [
            'CPU per request of both runs of each configuration (warm-ups included), median round: the server\'s processes, and the subscribers\' process (the clients, on the same two cores)' +
              (withDatabase ? ', and the database\'s (its server on the same two cores).' : '.'),
            '',
            `| configuration | server CPU ms / request | subscribers' process CPU ms / request |${withDatabase ? ' database CPU ms / request |' : ''}`,
            `|---|---:|---:|${withDatabase ? '---:|' : ''}`,
            ...CONFIGURATIONS.map(({ name }, i) => {
              const of = (side: 'server' | 'subscribers' | 'database') => median(f.cpu!.map((round) => round[i]![side] ?? 0)).toFixed(2);
              return `| ${name} | ${of('server')} | ${of('subscribers')} |${withDatabase ? ` ${of('database')} |` : ''}`;
            }),
            '',
          ]
        : []),
      ...f.withFeed.map(
        (run) =>
          `With ${run.name}, the runs made ${run.events.toLocaleString('en')} events${several ? ` over its ${roundsOf(f)} rounds` : ''}; the endpoint had received ` +
          `${run.webhooksReceived.toLocaleString('en')} webhooks ${run.drainSeconds} s after the last run${several ? ' (at most, of a round)' : ''}` +
          (run.subscribers === 'none'
            ? '.'
            : `, and ${run.subscribersRight.toLocaleString('en')} of ${(run.subscribers === 'pages' ? PAGES : SUBSCRIBERS).toLocaleString('en')} ` +
              `subscribers had ${{ unfiltered: 'every event', pages: 'every event of their record', filtered: 'none (none was theirs)' }[run.subscribers]}` +
              `${several ? ' in every round' : ''}.`),
      ),
      '',
    );
  }
  return lines;
}
