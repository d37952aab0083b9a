import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Webhook } from 'standardwebhooks';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from '../config.js';
import { Prisma, prisma, provider, reader, reportDatabaseError } from '../db/index.js';
import { timestamp } from '../db/reader.js';
import { logger } from '../logger.js';
import { encodeGlobalId } from '../services/ids.js';
import { onFeedCommitted } from './bus.js';
import { refusedLiteralHost, safeLookup } from './targets.js';

/**
 * Posts webhook deliveries (the outbox rows feed/events.ts writes with each event), in every
 * server process.
 *
 * A process claims a few due deliveries at a time — PENDING, due, of an enabled endpoint, and
 * not leased — by setting their `lockedUntil` (a lease of one attempt's timeout plus a margin),
 * posts them, and writes the batch's outcomes, which ends the leases. The claim is one statement
 * that also returns what the posts need (endpoint URL and secret, event payload), and the outcomes
 * are one more, so a batch costs two statements however many deliveries it holds. On PostgreSQL
 * both run on the bare driver's pool (db/reader.ts), as the hot reads do: through Prisma's query
 * engine a claim cost this process 0.5–0.7 ms of CPU, on the bare driver 0.15–0.2 ms, and under a
 * stream of writes every process claims up to 1 / CLAIM_GAP times a second. The claim is an
 * UPDATE over a `FOR UPDATE SKIP LOCKED` selection, so any number of processes and servers share
 * the work without waiting for each other and no delivery is attempted by two at once; on SQLite
 * the claim's UPDATE is a write transaction, and SQLite runs one at a time. A process that dies
 * mid-attempt leaves a lease that expires: the delivery is attempted again (at least once, never
 * lost). Posts reuse keep-alive connections to the receivers (createAgents).
 *
 * It wakes on every committed feed write of any process or server (feed/bus.ts onFeedCommitted:
 * this process's commits, PostgreSQL NOTIFY, SQLite's tail of the log) or when woken
 * (wakeDispatcher: a redelivery), and polls every POLL_INTERVAL otherwise, which is what picks
 * up retries that come due.
 *
 * Timestamps are compared in the database against values the process writes (never against the
 * database's own clock or column defaults), bound as parameters, or on SQLite written in the
 * driver adapter's own text form (sqliteTime), so that they compare as text.
 */

/** How often due deliveries are looked for when nothing wakes the dispatcher. */
export const POLL_INTERVAL = 1_000;
/**
 * The least time between two claims of one process. Every committed write wakes the dispatcher
 * (of every process), mostly to find nothing due; under a stream of writes this makes it look
 * once per CLAIM_GAP instead of once per commit, and delays a delivery by at most as much. A
 * claim and its outcomes are two writes, which on SQLite take their turn with the requests'
 * writes: at 10 ms, one endpoint cost a stream of links on SQLite 18 % of its requests/s (the
 * median of three rounds); at 50 ms, 9 % and 17 % in one run and none in another (benchmark,
 * docs/benchmarks.md). A write after a quiet spell is claimed at once, and a backlog (a full
 * batch) batch after batch.
 */
const CLAIM_GAP = 50;
/** Deliveries claimed (and posted concurrently) at a time by one process. */
export const BATCH_SIZE = 10;
/** The lease beyond the attempt's timeout: signing, connecting, writing the outcome. */
const LEASE_MARGIN = 5_000;
/** A retry waits its delay ±20 %, so endpoints that fail together do not retry together. */
const JITTER = 0.2;
/** Characters of lastError kept. */
const MAX_ERROR = 300;
export const USER_AGENT = 'Relate-Webhooks/1';

export interface DispatcherOptions {
  settings?: WebhookSettings;
  pollInterval?: number;
}

export interface Dispatcher {
  /** Looks for due deliveries now. */
  wake(): void;
  /** Stops claiming; resolves once the attempts in flight are written (each bounded by the timeout). */
  stop(): Promise<void>;
}

const running = new Set<Dispatcher>();

/** Wakes this process's dispatchers: something may be due now (e.g. on another process's NOTIFY). */
export function wakeDispatcher(): void {
  for (const dispatcher of running) dispatcher.wake();
}

interface Claimed {
  id: number;
  eventId: number;
  eventType: string;
  attempts: number;
  endpoint: { url: string; secret: string };
  event: { at: Date; payload: string | null };
}

interface ClaimedRow {
  id: number | bigint | string;
  eventId: number | bigint | string;
  eventType: string;
  attempts: number | bigint | string;
  url: string;
  secret: string;
  at: unknown;
  payload: string | null;
}

/** PostgreSQL: a time bound as ISO text with its zone, as the UTC timestamp(3) Prisma writes. */
const utc = (date: Date) => Prisma.sql`(${date.toISOString()}::timestamptz AT TIME ZONE 'UTC')::timestamp(3)`;

/**
 * Claims up to `limit` due deliveries for `lease` milliseconds and returns them with their
 * endpoint and event: one statement, so a delivery costs no read of its own and the endpoint's
 * URL and secret are those of the moment it was claimed (enabled, not deleted).
 */
async function claim(limit: number, lease: number): Promise<Claimed[]> {
  const now = new Date();
  const until = new Date(now.getTime() + lease);
  // The due deliveries of enabled endpoints, first due first.
  const due = (at: Prisma.Sql) => Prisma.sql`
    SELECT d."id" FROM "WebhookDelivery" d
    JOIN "WebhookEndpoint" e ON e."id" = d."endpointId" AND e."enabled"
    WHERE d."status" = 'PENDING' AND d."nextAttemptAt" <= ${at}
      AND (d."lockedUntil" IS NULL OR d."lockedUntil" < ${at})
    ORDER BY d."nextAttemptAt", d."id"
    LIMIT ${limit}`;
  const rows =
    provider === 'postgresql'
      ? await reader.rows<ClaimedRow>(Prisma.sql`
          WITH claimed AS (
            UPDATE "WebhookDelivery" SET "lockedUntil" = ${utc(until)}
            WHERE "id" IN (${due(utc(now))} FOR UPDATE OF d SKIP LOCKED)
            RETURNING "id", "eventId", "eventType", "attempts", "endpointId")
          SELECT c."id", c."eventId", c."eventType", c."attempts", e."url", e."secret", ev."at", ev."payload"
          FROM claimed c
          JOIN "WebhookEndpoint" e ON e."id" = c."endpointId"
          JOIN "AssociationEvent" ev ON ev."id" = c."eventId"`)
      : // One statement is one write transaction, exclusive on SQLite. RETURNING may read other
        // tables only through subqueries.
        await prisma.$queryRaw<ClaimedRow[]>`
          UPDATE "WebhookDelivery" SET "lockedUntil" = ${until}
          WHERE "id" IN (${due(Prisma.sql`${now}`)})
          RETURNING "id", "eventId", "eventType", "attempts",
            (SELECT "url" FROM "WebhookEndpoint" WHERE "id" = "endpointId") AS "url",
            (SELECT "secret" FROM "WebhookEndpoint" WHERE "id" = "endpointId") AS "secret",
            (SELECT "at" FROM "AssociationEvent" WHERE "id" = "eventId") AS "at",
            (SELECT "payload" FROM "AssociationEvent" WHERE "id" = "eventId") AS "payload"`;
  return rows
    .map((row) => ({
      id: Number(row.id),
      eventId: Number(row.eventId),
      eventType: row.eventType,
      attempts: Number(row.attempts),
      endpoint: { url: row.url, secret: row.secret },
      event: { at: timestamp(row.at), payload: row.payload },
    }))
    .sort((x, y) => x.id - y.id);
}

/** The body of a delivery: the Standard Webhooks envelope around the event's stored data. */
export function bodyOf(delivery: Pick<Claimed, 'eventType' | 'event'>): string {
  return `{"type":${JSON.stringify(delivery.eventType)},"timestamp":${JSON.stringify(delivery.event.at.toISOString())},"data":${delivery.event.payload ?? '{}'}}`;
}

export type Outcome = { status: number } | { error: string };

/** Most bytes of a response body read (and dropped) so that its connection can be used again. */
const MAX_DRAINED = 64 * 1024;
/** How long a response body may take to end before its connection is closed instead. */
const DRAIN_TIMEOUT = 1_000;
/**
 * How long an idle connection to a receiver is kept: below the 5 s many servers (Node's among
 * them) keep one open, so that a connection is rarely used just as the receiver closes it.
 */
const IDLE_TIMEOUT = 4_000;

/** Keep-alive connections to receivers, for the dispatchers sharing one set of target rules. */
export interface Agents {
  http: HttpAgent;
  https: HttpsAgent;
}

/**
 * Connections opened under the target rules `allowPrivate` stands for: each one's address was
 * checked by its own DNS lookup (safeLookup), so a pooled connection is one those rules allowed,
 * and reusing it spares every post a TCP (and TLS) handshake.
 */
export function createAgents(allowPrivate: boolean): Agents {
  // As many connections as posts at once (a batch), and as many kept idle.
  const options = { keepAlive: true, maxFreeSockets: BATCH_SIZE, timeout: IDLE_TIMEOUT, lookup: safeLookup(allowPrivate) };
  return { http: new HttpAgent(options), https: new HttpsAgent(options) };
}

/**
 * One POST, without following redirects, on an address the target rules allow, within `timeout`
 * milliseconds. Never throws. `agents` must have been created with the same `allowPrivate`;
 * without them, the post has a connection of its own.
 */
export function post(target: string, headers: Record<string, string>, body: string, timeout: number, allowPrivate: boolean, agents?: Agents): Promise<Outcome> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return resolve({ error: 'invalid URL' });
    }
    if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return resolve({ error: `refused: ${url.protocol} is not allowed` });
    const literal = refusedLiteralHost(url, allowPrivate);
    if (literal) return resolve({ error: `refused: ${literal}` });
    let settled = false;
    let req: ClientRequest;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const https = url.protocol === 'https:';
    const send = () => {
      req = (https ? httpsRequest : httpRequest)(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup: safeLookup(allowPrivate),
          agent: agents ? (https ? agents.https : agents.http) : false,
        },
        (res: IncomingMessage) => {
          // The status is the answer. The body is read only so far as to keep the connection: one
          // that is long or slow (a receiver could send one without end) closes it instead.
          finish({ status: res.statusCode ?? 0 });
          res.on('error', () => undefined);
          if (!agents) return void req.destroy();
          let drained = 0;
          const drainTimer = setTimeout(() => req.destroy(), DRAIN_TIMEOUT);
          res.on('data', (chunk: Buffer) => {
            drained += chunk.length;
            if (drained > MAX_DRAINED) req.destroy();
          });
          res.on('close', () => clearTimeout(drainTimer));
        },
      );
      const sent = req;
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A kept connection the receiver closed meanwhile: the request never reached it, or is
        // sent again (at least once) on a connection of the pool or a new one.
        if (!settled && sent.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) return send();
        finish({ error: error.message || error.code || 'connection failed' });
      });
      req.end(body);
    };
    const timer = setTimeout(() => {
      finish({ error: `timed out after ${timeout} ms` });
      req.destroy();
    }, timeout);
    send();
  });
}

/** The wait before retry number `retry` (1-based) with jitter, or null when the schedule is over. */
export function retryDelay(delays: readonly number[], retry: number, random = Math.random): number | null {
  const base = delays[retry - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/** What an attempt leaves in its delivery's row. */
interface Result {
  id: number;
  attempts: number;
  status: 'SUCCEEDED' | 'FAILED' | 'PENDING';
  responseStatus: number | null;
  lastError: string | null;
  lastAttemptAt: Date;
  nextAttemptAt: Date | null;
}

async function attempt(delivery: Claimed, settings: WebhookSettings, agents: Agents): Promise<Result> {
  const { endpoint } = delivery;
  const body = bodyOf(delivery);
  const messageId = encodeGlobalId('AssociationEvent', delivery.eventId);
  const sentAt = new Date();
  let outcome: Outcome;
  try {
    const signature = new Webhook(endpoint.secret).sign(messageId, sentAt, body);
    outcome = await post(
      endpoint.url,
      {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      settings.timeout,
      settings.allowPrivate,
      agents,
    );
  } catch (error) {
    outcome = { error: error instanceof Error ? error.message : String(error) };
  }
  const attempts = delivery.attempts + 1;
  const succeeded = 'status' in outcome && outcome.status >= 200 && outcome.status < 300;
  const delay = succeeded ? null : retryDelay(settings.retryDelays, attempts);
  const lastError = succeeded
    ? null
    : 'error' in outcome
      ? outcome.error.slice(0, MAX_ERROR)
      : outcome.status >= 300 && outcome.status < 400
        ? `HTTP ${outcome.status} (redirects are not followed)`
        : `HTTP ${outcome.status}`;
  if (!succeeded) {
    logger.debug('webhook attempt failed', { deliveryId: delivery.id, attempts, error: lastError, retry: delay !== null });
  }
  return {
    id: delivery.id,
    attempts,
    status: succeeded ? 'SUCCEEDED' : delay === null ? 'FAILED' : 'PENDING',
    responseStatus: 'status' in outcome ? outcome.status : null,
    lastError,
    lastAttemptAt: sentAt,
    nextAttemptAt: delay === null ? null : new Date(Date.now() + delay),
  };
}

/** A time as the SQLite driver adapter stores it (ISO 8601 with an explicit UTC offset). */
const sqliteTime = (date: Date | null) => (date === null ? null : date.toISOString().replace('Z', '+00:00'));

/**
 * Writes a batch's results, which ends their leases: one statement for the batch. A delivery
 * whose endpoint went meanwhile (and its deliveries with it) matches no row.
 */
async function record(results: readonly Result[]): Promise<void> {
  if (results.length === 0) return;
  const column = <K extends keyof Result>(key: K) => results.map((result) => result[key]);
  const iso = (dates: (Date | null)[]) => dates.map((date) => date?.toISOString() ?? null);
  if (provider === 'postgresql') {
    // Times travel as ISO text with their zone, stored as the UTC timestamps Prisma writes.
    await reader.rows(Prisma.sql`
      UPDATE "WebhookDelivery" d SET "attempts" = r."attempts", "status" = r."status"::"WebhookDeliveryStatus",
        "responseStatus" = r."responseStatus", "lastError" = r."lastError",
        "lastAttemptAt" = (r."lastAttemptAt"::timestamptz AT TIME ZONE 'UTC')::timestamp(3),
        "nextAttemptAt" = (r."nextAttemptAt"::timestamptz AT TIME ZONE 'UTC')::timestamp(3), "lockedUntil" = NULL
      FROM unnest(${column('id')}::int[], ${column('attempts')}::int[], ${column('status')}::text[], ${column('responseStatus')}::int[],
        ${column('lastError')}::text[], ${iso(column('lastAttemptAt'))}::text[], ${iso(column('nextAttemptAt'))}::text[])
        AS r("id", "attempts", "status", "responseStatus", "lastError", "lastAttemptAt", "nextAttemptAt")
      WHERE d."id" = r."id"`);
    return;
  }
  const rows = results.map((result) => ({ ...result, lastAttemptAt: sqliteTime(result.lastAttemptAt), nextAttemptAt: sqliteTime(result.nextAttemptAt) }));
  await prisma.$executeRaw`
    UPDATE "WebhookDelivery" SET "attempts" = r.value ->> 'attempts', "status" = r.value ->> 'status',
      "responseStatus" = r.value ->> 'responseStatus', "lastError" = r.value ->> 'lastError',
      "lastAttemptAt" = r.value ->> 'lastAttemptAt', "nextAttemptAt" = r.value ->> 'nextAttemptAt', "lockedUntil" = NULL
    FROM json_each(${JSON.stringify(rows)}) r
    WHERE "WebhookDelivery"."id" = r.value ->> 'id'`;
}

/**
 * Starts this process's dispatcher: call once the database is usable; stop it before closing
 * the database.
 */
export function startDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const settings = options.settings ?? DEFAULT_WEBHOOK_SETTINGS;
  const pollInterval = options.pollInterval ?? POLL_INTERVAL;
  const lease = settings.timeout + LEASE_MARGIN;
  const agents = createAgents(settings.allowPrivate);
  let stopped = false;
  let woken = false;
  let timer: NodeJS.Timeout | undefined;
  let wakeUp: (() => void) | undefined;
  /** Whether the last failure was logged, so an outage is one line, not one per poll. */
  let failing = false;

  const sleep = () =>
    new Promise<void>((resolve) => {
      wakeUp = resolve;
      timer = setTimeout(resolve, pollInterval);
    }).finally(() => {
      clearTimeout(timer);
      wakeUp = undefined;
    });

  let lastClaim = 0;
  /** The last claim was a full batch: more are due, and they are claimed at once (a backlog is not paced). */
  let full = false;

  const loop = async () => {
    while (!stopped) {
      // Commits that come faster than CLAIM_GAP share a claim: one statement for several wake-ups.
      const gap = full ? 0 : lastClaim + CLAIM_GAP - Date.now();
      if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
      if (stopped) break;
      woken = false;
      lastClaim = Date.now();
      let claimed: Claimed[] = [];
      try {
        claimed = await claim(BATCH_SIZE, lease);
        // Every attempt runs to its end (stop() waits for them), bounded by the timeout; then the
        // batch's results are written together.
        await record(await Promise.all(claimed.map((delivery) => attempt(delivery, settings, agents))));
        failing = false;
      } catch (error) {
        // The database away is reported once, by the database module; anything else once per streak.
        if (reportDatabaseError(error)) {
          logger.debug('webhook dispatcher: database unavailable; retrying', { error: error instanceof Error ? error.message : String(error) });
        } else if (!failing) {
          logger.error('webhook dispatcher: cannot read or write deliveries; retrying', {
            error: error instanceof Error ? error.stack : String(error),
          });
        }
        failing = true;
      }
      // A full batch: more may be due. Woken meanwhile: look again.
      full = claimed.length === BATCH_SIZE && !failing;
      if (stopped || full || woken) continue;
      await sleep();
    }
  };

  const dispatcher: Dispatcher = {
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      running.delete(dispatcher);
      stopListening();
      wakeUp?.();
      await done;
      agents.http.destroy();
      agents.https.destroy();
    },
  };
  // Every committed feed write wakes it: this process's, and other processes' and servers'
  // (PostgreSQL NOTIFY, SQLite's tail of the log), so a delivery is sent at once by whichever
  // process claims it first, instead of at the next poll.
  const stopListening = onFeedCommitted(() => dispatcher.wake());
  running.add(dispatcher);
  const done = loop();
  return dispatcher;
}

