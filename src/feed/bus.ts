import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import pg from 'pg';
import { databaseUrl, Prisma, provider, reader, whenDatabaseReady } from '../db/index.js';
import { inIds, timestamp } from '../db/reader.js';
import { CONNECT_TIMEOUT } from '../db/settings.js';
import { countStatements } from '../db/statements.js';
import type { AssociationEventRow } from '../loaders/association-events.js';
import { logger } from '../logger.js';
import { isRestricted, type Viewer } from '../services/viewer.js';
import { sightKey, visibleRecordSql } from '../services/visibility.js';
import { FEED_CHANNEL, localFeed, parseAnnouncement, type Announcement } from './events.js';

/**
 * The change feed's fan-out: every committed feed write, made by any process or server sharing
 * the database, reaches this process's subscribers (`subscribeToAssociationEvents`, the GraphQL
 * subscription) and its feed listeners (`onFeedCommitted`, the webhook dispatcher's wake-up).
 *
 * The database is the bus, so there is nothing to run beside it and nothing to lose between a
 * write and its announcement: an event is announced only if its transaction commits, in commit
 * order, and readers read the event log itself.
 * - PostgreSQL: one dedicated connection per process LISTENs on FEED_CHANNEL (recordEvents
 *   NOTIFYs the workspace id in the writing transaction, delivered at commit). It reconnects
 *   with backoff when it drops and never holds up the start: the server starts without the
 *   database, and the feed listens once it is back. After every (re)connection the subscribed
 *   workspaces are read again from their cursors, so what was committed meanwhile still arrives.
 * - SQLite: writers on one file take turns (BEGIN IMMEDIATE), so ids are committed in id order;
 *   a tail reads `id > last` every TAIL_INTERVAL (other processes on the same file), and right
 *   after this process commits (see pumpSoon). It runs only while someone listens.
 *
 * Ordering, and why no committed event is skipped. Ids come from a sequence, and on PostgreSQL a
 * transaction that took id 10 may commit after one that took 11: a reader that saw 11 and moved
 * its cursor past 10 would never see 10. That cannot happen within one workspace: every feed
 * write runs in lockedTransaction, which holds the workspace's advisory lock from before its
 * first INSERT until after its commit, so a workspace's events are numbered in the order they
 * commit, and when a reader sees one of a workspace's ids it sees every lower one. Hence one
 * cursor per subscribed workspace (the NOTIFY payload says which workspace to read), never one
 * across workspaces. (A gap window would guess how long a transaction may stay open; ids in the
 * payload would make the write path build them, and a reconnection would still need cursors.)
 * A subscriber also keeps the last id it received and takes only higher ones, so reading a batch
 * twice after a failure delivers nothing twice. Subscribers start after the newest event when they
 * subscribe: anything committed once the subscription is answered is delivered.
 *
 * Visibility is the viewer's, like every query (services/visibility.ts): one statement per batch
 * for each distinct restricted viewer, however many events and subscribers share it; viewers who
 * see every record cost none.
 */

/** How often SQLite's tail looks for other processes' events, while anyone listens. */
export const TAIL_INTERVAL = 200;
/** Events read per statement. */
const BATCH = 500;
/** Events a subscriber may have waiting (a client that stopped reading) before it is ended. */
export const MAX_QUEUED = 1_000;
/** Waits between attempts to (re)connect the LISTEN connection. */
const RECONNECT_DELAYS = [250, 1_000, 2_000, 5_000, 10_000];
/**
 * Pacing deliveries to many subscribers (see pumpSoon): from how many subscribers a delivery
 * counts, and how long the next read waits after one.
 */
const MANY_SUBSCRIBERS = 100;
const BROADCAST_PAUSE = 1_000;
/** Wait before reading again after a read failed (the database away). */
const RETRY_DELAY = 1_000;

/** An association event as a subscriber receives it: a row of the log, as queries read it, and more. */
export interface CommittedAssociationEvent extends AssociationEventRow {
  labelKey: string | null;
  /** The workspace's schemaVersion when the event was read: metadata (labels) is read at it. */
  schemaVersion: number;
}

/** Which events a subscriber wants; an id that exists nowhere (0) matches nothing. */
export interface FeedFilter {
  recordId?: number | undefined;
  labelKey?: string | undefined;
}

/** Ends a subscription whose client stopped reading: delivered as its last item, then it ends. */
export class SubscriberTooSlowError extends Error {
  constructor() {
    super(`More than ${MAX_QUEUED} events were waiting for this subscriber; subscribe again.`);
  }
}

/** One subscriber: an async iterator of its events; `return()` (the client went away) removes it. */
class Subscription implements AsyncIterableIterator<CommittedAssociationEvent | SubscriberTooSlowError> {
  /** The highest id delivered (or, at first, the newest id when it subscribed). */
  lastId: number;
  private queue: (CommittedAssociationEvent | SubscriberTooSlowError)[] = [];
  private waiting: ((result: IteratorResult<CommittedAssociationEvent | SubscriberTooSlowError>) => void) | null = null;
  private ended = false;

  constructor(
    readonly viewer: Viewer,
    readonly filter: FeedFilter,
    fromId: number,
  ) {
    this.lastId = fromId;
  }

  wants(event: CommittedAssociationEvent): boolean {
    const { recordId, labelKey } = this.filter;
    return (
      event.id > this.lastId &&
      (recordId === undefined || event.firstRecordId === recordId || event.secondRecordId === recordId) &&
      (labelKey === undefined || event.labelKey === labelKey)
    );
  }

  /** Hands it the event; false when it takes none (ended, or had it already). */
  push(event: CommittedAssociationEvent): boolean {
    if (this.ended || event.id <= this.lastId) return false;
    this.lastId = event.id;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: event, done: false });
    } else if (this.queue.length < MAX_QUEUED) {
      this.queue.push(event);
    } else {
      this.queue = [new SubscriberTooSlowError()];
      this.end(false);
    }
    return true;
  }

  next(): Promise<IteratorResult<CommittedAssociationEvent | SubscriberTooSlowError>> {
    const value = this.queue.shift();
    if (value) return Promise.resolve({ value, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /**
   * Takes, at once, every event waiting (those of a delivery after the first that next() gave):
   * a subscriber's stream writes what it was handed together in one write (plugins/shared-subscriptions.ts).
   */
  drain(): (CommittedAssociationEvent | SubscriberTooSlowError)[] {
    const queued = this.queue;
    this.queue = [];
    return queued;
  }

  return(): Promise<IteratorResult<CommittedAssociationEvent | SubscriberTooSlowError>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops it: removed from the bus; what is queued is still read unless `drop`. */
  end(drop = true): void {
    if (this.ended) return;
    this.ended = true;
    if (drop) this.queue = [];
    removeSubscription(this);
    const resolve = this.waiting;
    this.waiting = null;
    resolve?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/**
 * A workspace's subscribers in this process, also by the record they follow, so that what a
 * delivery costs grows with the subscribers its events concern, not with all of them (1,000
 * record pages, each following its own record).
 */
class Audience {
  readonly all = new Set<Subscription>();
  /** Those that follow every record. */
  private readonly anyRecord = new Set<Subscription>();
  private readonly byRecord = new Map<number, Set<Subscription>>();

  add(subscription: Subscription): void {
    this.all.add(subscription);
    const { recordId } = subscription.filter;
    if (recordId === undefined) return void this.anyRecord.add(subscription);
    let followers = this.byRecord.get(recordId);
    if (!followers) this.byRecord.set(recordId, (followers = new Set()));
    followers.add(subscription);
  }

  /** False when it was not here. */
  delete(subscription: Subscription): boolean {
    if (!this.all.delete(subscription)) return false;
    const { recordId } = subscription.filter;
    if (recordId === undefined) return this.anyRecord.delete(subscription);
    const followers = this.byRecord.get(recordId);
    if (followers?.delete(subscription) && followers.size === 0) this.byRecord.delete(recordId);
    return true;
  }

  /** The records its subscribers follow, with their followers; null when one follows every record. */
  followed(): ReadonlyMap<number, ReadonlySet<Subscription>> | null {
    return this.anyRecord.size > 0 ? null : this.byRecord;
  }

  /** Those that may want some of these events: the followers of their records, and of every record. */
  concerned(events: readonly CommittedAssociationEvent[]): Set<Subscription> {
    if (this.byRecord.size === 0) return this.anyRecord;
    const concerned = new Set(this.anyRecord);
    for (const event of events) {
      for (const subscription of this.byRecord.get(event.firstRecordId) ?? []) concerned.add(subscription);
      for (const subscription of this.byRecord.get(event.secondRecordId) ?? []) concerned.add(subscription);
    }
    return concerned;
  }
}

/** Local subscribers, by workspace. */
const subscriptions = new Map<number, Audience>();
const feedListeners = new Set<(workspaceId: number) => void>();

/** How many subscribers this process holds (a gauge: it returns to 0 when every client has gone). */
export function feedSubscriberCount(): number {
  let count = 0;
  for (const audience of subscriptions.values()) count += audience.all.size;
  return count;
}

/**
 * Calls `listener` with the workspace id of committed feed writes, from any process or server
 * sharing the database (this process's writes, PostgreSQL NOTIFY, SQLite's tail): for every write,
 * once for several that SQLite's tail reads together. Returns the function that stops it.
 */
export function onFeedCommitted(listener: (workspaceId: number) => void): () => void {
  feedListeners.add(listener);
  sync();
  return () => {
    feedListeners.delete(listener);
    sync();
  };
}

/**
 * Subscribes a viewer to the association events (LINKED, UNLINKED) of its workspace that it may
 * see, from now on. Resolves once the subscriber is registered, so that anything committed after
 * the caller answers is delivered.
 */
export async function subscribeToAssociationEvents(
  viewer: Viewer,
  filter: FeedFilter,
): Promise<AsyncIterableIterator<CommittedAssociationEvent | SubscriberTooSlowError>> {
  const fromId = await detached(latestEventId);
  const subscription = new Subscription(viewer, filter, fromId);
  let audience = subscriptions.get(viewer.workspaceId);
  if (!audience) subscriptions.set(viewer.workspaceId, (audience = new Audience()));
  audience.add(subscription);
  if (provider === 'postgresql' && !cursors.has(viewer.workspaceId)) cursors.set(viewer.workspaceId, fromId);
  sync();
  return subscription;
}

function removeSubscription(subscription: Subscription): void {
  const { workspaceId } = subscription.viewer;
  const audience = subscriptions.get(workspaceId);
  if (!audience?.delete(subscription)) return;
  if (audience.all.size === 0) {
    subscriptions.delete(workspaceId);
    cursors.delete(workspaceId);
    dirty.delete(workspaceId);
    passedOver.delete(workspaceId);
  }
  sync();
}

/** Ends every subscription (their streams complete) and stops listening: a server shutting down. */
export async function closeFeedBus(): Promise<void> {
  for (const audience of [...subscriptions.values()]) for (const subscription of [...audience.all]) subscription.end(false);
  feedListeners.clear();
  stop();
  await pumping;
}

// ---------------------------------------------------------------------------------------------
// The one reader of this process.

let running = false;
let waitingForDatabase = false;
let listener: Listener | null = null;
let tailTimer: NodeJS.Timeout | undefined;
let retryTimer: NodeJS.Timeout | undefined;
/** SQLite: the last id the tail has handled (null: not read yet). */
let tailCursor: number | null = null;
/** PostgreSQL: per subscribed workspace, the last id read (see the ordering note above). */
const cursors = new Map<number, number>();
/** PostgreSQL: workspaces to read. */
const dirty = new Set<number>();
/**
 * PostgreSQL: workspaces with writes left unread since their last read (no subscriber here wanted
 * them), or that may have some (a reconnection): their next read asks for the followed records'
 * events only, so as not to read what was passed over. A workspace read after every write reads
 * what came after its cursor, and its subscribers take theirs (Subscription.wants).
 */
const passedOver = new Set<number>();
let tailDue = false;
let pumping: Promise<void> | null = null;
let pumpAgain = false;
let pumpScheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
/** When the next read may begin (performance.now()): see pumpSoon. */
let readAfter = 0;

/**
 * Work of the feed runs outside the request that happened to start it: its statements are not
 * that request's (statement counts, traces).
 */
function detached<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, () => countStatements({ count: 0 }, fn));
}

/** Starts the reader when someone listens, stops it when no one does. */
function sync(): void {
  const wanted = subscriptions.size > 0 || feedListeners.size > 0;
  if (wanted && !running) start();
  else if (!wanted && running) stop();
}

function start(): void {
  if (provider === undefined) {
    // Before the database is opened: start with it.
    if (!waitingForDatabase) {
      waitingForDatabase = true;
      whenDatabaseReady(() => {
        waitingForDatabase = false;
        sync();
      });
    }
    return;
  }
  running = true;
  localFeed.on('committed', onLocalCommit);
  if (provider === 'postgresql') {
    listener = detached(
      () =>
        new Listener({
          // This process's own writes were announced to it at commit (onLocalCommit): once is enough.
          notified: (announcement) => {
            if (!announcement.own) detached(() => committed(announcement));
          },
          connected: () =>
            detached(() => {
              for (const workspaceId of subscriptions.keys()) {
                dirty.add(workspaceId);
                passedOver.add(workspaceId);
              }
              pumpSoon();
            }),
        }),
    );
  } else {
    tailTimer = setInterval(() => detached(wakeTail), TAIL_INTERVAL);
    tailTimer.unref();
    // The first read at once: it sets where the tail starts, which must be before anything
    // committed after the subscriber that started it was answered.
    tailDue = true;
    detached(pump);
  }
}

function stop(): void {
  running = false;
  localFeed.off('committed', onLocalCommit);
  void listener?.close();
  listener = null;
  clearInterval(tailTimer);
  clearTimeout(retryTimer);
  clearImmediate(pumpScheduled as NodeJS.Immediate);
  clearTimeout(pumpScheduled as NodeJS.Timeout);
  tailTimer = retryTimer = pumpScheduled = undefined;
  tailCursor = null;
  tailDue = false;
  dirty.clear();
  passedOver.clear();
}

function onLocalCommit(announcement: Announcement): void {
  detached(() => (provider === 'postgresql' ? committed(announcement) : wakeTail()));
}

/**
 * PostgreSQL: a write committed (NOTIFY, or this process). Its workspace is read only if a
 * subscriber here may want what it wrote: one that follows every record, or one of the records
 * the write names. Events left unread stay behind the workspace's cursor and are read (and
 * passed over) with the next ones a subscriber wants.
 */
function committed({ workspaceId, recordIds }: Announcement): void {
  if (!running) return;
  fire(workspaceId);
  if (!cursors.has(workspaceId)) return;
  if (mayWant(workspaceId, recordIds)) {
    dirty.add(workspaceId);
    pumpSoon();
  } else {
    passedOver.add(workspaceId);
  }
}

/** Whether a subscriber of the workspace may want events of these records (null: of any). */
function mayWant(workspaceId: number, recordIds: readonly number[] | null): boolean {
  const followed = subscriptions.get(workspaceId)?.followed();
  if (followed === undefined) return false;
  return followed === null || recordIds === null || recordIds.some((id) => followed.has(id));
}

function wakeTail(): void {
  if (!running) return;
  tailDue = true;
  pumpSoon();
}

function fire(workspaceId: number): void {
  for (const listen of [...feedListeners]) {
    try {
      listen(workspaceId);
    } catch (error) {
      logger.error('change feed listener failed', { error: error instanceof Error ? error.stack : String(error) });
    }
  }
}

/**
 * Reads soon, not at once, so that events are delivered together. A subscriber costs per delivery,
 * not per event: its stream takes what it was handed together as one item and writes it in one
 * write (plugins/shared-subscriptions.ts). So
 * - a read waits for the end of this turn of the event loop (setImmediate: after the I/O
 *   callbacks that are ready), so that the writes committed in one turn are read together;
 * - after a delivery to many subscribers (MANY_SUBSCRIBERS), the next read waits BROADCAST_PAUSE:
 *   the events committed meanwhile are delivered together, each subscriber's in one write. What a
 *   delivery costs is mostly per subscriber, whatever it carries: a write to its connection, the
 *   reads of its stream, and as much again in the client. Paced at a quarter of a second (or four
 *   times what the delivery took), 1,000 subscribers to every event cost a stream of links a third
 *   of its requests on PostgreSQL (docs/benchmarks.md); at most one such delivery a second, the
 *   events reach them in batches up to a second old. An idle feed, or one with a few subscribers
 *   per event (a record's page), waits for nothing more than the end of the turn.
 */
function pumpSoon(): void {
  if (pumpScheduled) return;
  const run = () => {
    pumpScheduled = undefined;
    detached(pump);
  };
  const wait = readAfter - performance.now();
  pumpScheduled = wait > 1 ? setTimeout(run, wait).unref() : setImmediate(run);
}

/** Reads and delivers until nothing is due; one pass at a time, in order. */
function pump(): void {
  if (pumping) {
    pumpAgain = true;
    return;
  }
  pumping = (async () => {
    try {
      do {
        pumpAgain = false;
        if (provider === 'postgresql') await readWorkspaces();
        else if (tailDue) await readTail();
      } while (running && (pumpAgain || dirty.size > 0 || tailDue) && performance.now() >= readAfter);
      // What came meanwhile waits for its turn.
      if (running && (pumpAgain || dirty.size > 0 || tailDue)) pumpSoon();
    } catch (error) {
      logger.debug('change feed read failed; retrying', { error: error instanceof Error ? error.message : String(error) });
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => detached(pump), RETRY_DELAY);
      retryTimer.unref();
    } finally {
      pumping = null;
    }
  })();
}

const EVENT_COLUMNS = Prisma.raw(
  ['id', 'workspaceId', 'action', 'labelId', 'labelKey', 'firstRecordId', 'secondRecordId', 'actorId', 'at'].map((column) => `e."${column}"`).join(', '),
);

type LogRow = Record<string, unknown>;

const eventOf = (row: LogRow): CommittedAssociationEvent => ({
  id: Number(row.id),
  action: row.action as CommittedAssociationEvent['action'],
  labelId: row.labelId === null ? null : Number(row.labelId),
  labelKey: row.labelKey === null ? null : String(row.labelKey),
  firstRecordId: Number(row.firstRecordId),
  secondRecordId: Number(row.secondRecordId),
  actorId: row.actorId === null ? null : Number(row.actorId),
  at: timestamp(row.at),
  schemaVersion: Number(row.schemaVersion),
});

const isAssociationEvent = (row: LogRow) => row.action === 'LINKED' || row.action === 'UNLINKED';

async function latestEventId(): Promise<number> {
  const [row] = await reader.rows<{ id: unknown }>(Prisma.sql`SELECT MAX("id") AS "id" FROM "AssociationEvent"`);
  return Number(row?.id ?? 0);
}

/** PostgreSQL: each dirty workspace's association events after its cursor. */
async function readWorkspaces(): Promise<void> {
  for (const workspaceId of [...dirty]) {
    dirty.delete(workspaceId);
    const writesPassedOver = passedOver.delete(workspaceId);
    try {
      for (;;) {
        const cursor = cursors.get(workspaceId);
        if (cursor === undefined) break;
        // After writes passed over: only the followed records' events, when every subscriber
        // here follows one record.
        const followed = writesPassedOver ? subscriptions.get(workspaceId)?.followed() : null;
        const ids = followed ? [...followed.keys()] : [];
        const ofFollowed = followed
          ? Prisma.sql` AND (${inIds(provider, Prisma.sql`e."firstRecordId"`, ids)} OR ${inIds(provider, Prisma.sql`e."secondRecordId"`, ids)})`
          : Prisma.empty;
        const rows = await reader.rows<LogRow>(Prisma.sql`
          SELECT ${EVENT_COLUMNS}, w."schemaVersion" FROM "AssociationEvent" e JOIN "Workspace" w ON w."id" = e."workspaceId"
          WHERE e."workspaceId" = ${workspaceId} AND e."id" > ${cursor} AND e."action" IN ('LINKED', 'UNLINKED')${ofFollowed}
          ORDER BY e."id" LIMIT ${BATCH}`);
        if (rows.length === 0) break;
        await deliver(workspaceId, rows.map(eventOf));
        if (cursors.has(workspaceId)) cursors.set(workspaceId, Number(rows.at(-1)!.id));
        if (rows.length < BATCH) break;
      }
    } catch (error) {
      dirty.add(workspaceId);
      if (writesPassedOver) passedOver.add(workspaceId);
      throw error;
    }
  }
}

/** SQLite: every event after the tail's cursor, across workspaces (ids commit in order here). */
async function readTail(): Promise<void> {
  tailDue = false;
  tailCursor ??= await latestEventId();
  for (;;) {
    const after: number = tailCursor;
    const rows = await reader.rows<LogRow>(Prisma.sql`
      SELECT ${EVENT_COLUMNS}, w."schemaVersion" FROM "AssociationEvent" e JOIN "Workspace" w ON w."id" = e."workspaceId"
      WHERE e."id" > ${after} ORDER BY e."id" LIMIT ${BATCH}`);
    if (rows.length === 0 || !running) return;
    const byWorkspace = new Map<number, LogRow[]>();
    for (const row of rows) {
      const workspaceId = Number(row.workspaceId);
      byWorkspace.set(workspaceId, [...(byWorkspace.get(workspaceId) ?? []), row]);
    }
    for (const [workspaceId, written] of byWorkspace) {
      const events = written.filter(isAssociationEvent).map(eventOf);
      if (events.length && subscriptions.has(workspaceId)) await deliver(workspaceId, events);
    }
    tailCursor = Number(rows.at(-1)!.id);
    for (const workspaceId of byWorkspace.keys()) fire(workspaceId);
    if (rows.length < BATCH) return;
  }
}

/** Where a record stands for one viewer: absent from the map when it no longer exists. */
type Sight = Map<number, boolean>;

/**
 * An event a restricted viewer may see: none of its records is hidden from it (a record deleted
 * since hides nothing: the query `Record.associationEvents` shows those too), and at least one
 * still exists and is visible.
 */
function visibleIn(sight: Sight, event: CommittedAssociationEvent): boolean {
  const first = sight.get(event.firstRecordId);
  const second = sight.get(event.secondRecordId);
  return first !== false && second !== false && (first === true || second === true);
}

/** Hands a workspace's events (in id order) to its subscribers that want and may see them. */
async function deliver(workspaceId: number, events: readonly CommittedAssociationEvent[]): Promise<void> {
  const audience = subscriptions.get(workspaceId);
  if (!audience) return;
  const wanted = new Map<Subscription, CommittedAssociationEvent[]>();
  for (const subscription of audience.concerned(events)) {
    const mine = events.filter((event) => subscription.wants(event));
    if (mine.length) wanted.set(subscription, mine);
  }
  const restricted = new Map<string, { viewer: Viewer; recordIds: Set<number> }>();
  for (const [subscription, mine] of wanted) {
    if (!isRestricted(subscription.viewer)) continue;
    const key = sightKey(subscription.viewer);
    let group = restricted.get(key);
    if (!group) restricted.set(key, (group = { viewer: subscription.viewer, recordIds: new Set() }));
    for (const event of mine) group.recordIds.add(event.firstRecordId).add(event.secondRecordId);
  }
  const sights = new Map<string, Sight>();
  await Promise.all(
    [...restricted].map(async ([key, { viewer, recordIds }]) => {
      const rows = await reader.rows<{ id: unknown; visible: unknown }>(Prisma.sql`
        SELECT r."id", CASE WHEN ${visibleRecordSql(viewer, 'r')} THEN 1 ELSE 0 END AS "visible"
        FROM "Record" r WHERE ${inIds(provider, Prisma.sql`r."id"`, [...recordIds])}`);
      sights.set(key, new Map(rows.map((row) => [Number(row.id), Number(row.visible) === 1])));
    }),
  );
  let handed = 0;
  for (const [subscription, mine] of wanted) {
    const sight = isRestricted(subscription.viewer) ? sights.get(sightKey(subscription.viewer))! : null;
    let pushed = false;
    for (const event of mine) if ((!sight || visibleIn(sight, event)) && subscription.push(event)) pushed = true;
    if (pushed) handed += 1;
  }
  if (handed >= MANY_SUBSCRIBERS) readAfter = Math.max(readAfter, performance.now() + BROADCAST_PAUSE);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: the LISTEN connection.

interface ListenerHandlers {
  notified: (announcement: Announcement) => void;
  connected: () => void;
}

/** A connection of its own that LISTENs on FEED_CHANNEL, reconnecting with backoff. */
class Listener {
  private client: pg.Client | null = null;
  private closed = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly handlers: ListenerHandlers) {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: databaseUrl(), connectionTimeoutMillis: CONNECT_TIMEOUT, keepAlive: true });
    this.client = client;
    let lost = false;
    const drop = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = null;
      void client.end().catch(() => undefined);
      if (this.closed) return;
      const fields = { reason: error?.message ?? 'connection closed' };
      // One line per outage (the database module reports outages too); attempts after it: debug.
      if (this.failures === 0) logger.warn('change feed: LISTEN connection lost; reconnecting', fields);
      else logger.debug('change feed: LISTEN connection still unavailable', fields);
      this.retry();
    };
    client.on('error', drop);
    client.on('end', () => drop());
    client.on('notification', (message) => {
      if (message.channel !== FEED_CHANNEL) return;
      const announcement = parseAnnouncement(message.payload ?? '');
      if (announcement) this.handlers.notified(announcement);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${FEED_CHANNEL}`);
    } catch (error) {
      drop(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.closed || lost) {
      if (!lost) void client.end().catch(() => undefined);
      return;
    }
    if (this.failures > 0) logger.info('change feed: listening again');
    this.failures = 0;
    this.handlers.connected();
  }

  private retry(): void {
    const delay = RECONNECT_DELAYS[Math.min(this.failures, RECONNECT_DELAYS.length - 1)]!;
    this.failures += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delay);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
