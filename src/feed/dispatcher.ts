import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Webhook } from 'standardwebhooks';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from '../config.js';
import { prisma, provider, reportDatabaseError } from '../db/index.js';
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
 * posts them, and writes each outcome, which ends the lease. On PostgreSQL the claim is one
 * UPDATE over a `FOR UPDATE SKIP LOCKED` selection, so any number of processes and servers share
 * the work without waiting for each other and no delivery is attempted by two at once; on SQLite
 * the claim's write transaction is exclusive (BEGIN IMMEDIATE). A process that dies mid-attempt
 * leaves a lease that expires: the delivery is attempted again (at least once, never lost).
 *
 * It wakes on every committed feed write of any process or server (feed/bus.ts onFeedCommitted:
 * this process's commits, PostgreSQL NOTIFY, SQLite's tail of the log) or when woken
 * (wakeDispatcher: a redelivery), and polls every POLL_INTERVAL otherwise, which is what picks
 * up retries that come due.
 *
 * Timestamps are compared in the database against values the process writes (never against the
 * database's own clock or column defaults), through Prisma's client on SQLite.
 */

/** How often due deliveries are looked for when nothing wakes the dispatcher. */
export const POLL_INTERVAL = 1_000;
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
  endpoint: { url: string; secret: string; enabled: boolean };
  event: { at: Date; payload: string | null };
}

/** Claims up to `limit` due deliveries for `lease` milliseconds; returns them with their endpoint and event. */
async function claim(limit: number, lease: number): Promise<Claimed[]> {
  const now = new Date();
  const until = new Date(now.getTime() + lease);
  let ids: number[];
  if (provider === 'postgresql') {
    const rows = await prisma.$queryRaw<{ id: number }[]>`
      UPDATE "WebhookDelivery" SET "lockedUntil" = ${until}
      WHERE "id" IN (
        SELECT d."id" FROM "WebhookDelivery" d
        JOIN "WebhookEndpoint" e ON e."id" = d."endpointId" AND e."enabled"
        WHERE d."status" = 'PENDING' AND d."nextAttemptAt" <= ${now}
          AND (d."lockedUntil" IS NULL OR d."lockedUntil" < ${now})
        ORDER BY d."nextAttemptAt", d."id"
        LIMIT ${limit}
        FOR UPDATE OF d SKIP LOCKED)
      RETURNING "id"`;
    ids = rows.map((row) => Number(row.id));
  } else {
    ids = await prisma.$transaction(async (tx) => {
      const due = await tx.webhookDelivery.findMany({
        where: {
          status: 'PENDING',
          nextAttemptAt: { lte: now },
          OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }],
          endpoint: { enabled: true },
        },
        orderBy: [{ nextAttemptAt: 'asc' }, { id: 'asc' }],
        take: limit,
        select: { id: true },
      });
      if (due.length) await tx.webhookDelivery.updateMany({ where: { id: { in: due.map((row) => row.id) } }, data: { lockedUntil: until } });
      return due.map((row) => row.id);
    });
  }
  if (!ids.length) return [];
  return prisma.webhookDelivery.findMany({
    where: { id: { in: ids } },
    select: {
      id: true,
      eventId: true,
      eventType: true,
      attempts: true,
      endpoint: { select: { url: true, secret: true, enabled: true } },
      event: { select: { at: true, payload: true } },
    },
  });
}

/** The body of a delivery: the Standard Webhooks envelope around the event's stored data. */
export function bodyOf(delivery: Pick<Claimed, 'eventType' | 'event'>): string {
  return `{"type":${JSON.stringify(delivery.eventType)},"timestamp":${JSON.stringify(delivery.event.at.toISOString())},"data":${delivery.event.payload ?? '{}'}}`;
}

export type Outcome = { status: number } | { error: string };

/**
 * One POST, without following redirects, on an address the target rules allow, within `timeout`
 * milliseconds. Never throws.
 */
export function post(target: string, headers: Record<string, string>, body: string, timeout: number, allowPrivate: boolean): Promise<Outcome> {
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
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: safeLookup(allowPrivate),
        // A connection of its own: a pooled socket could be one opened under other rules.
        agent: false,
      },
      (res: IncomingMessage) => {
        // The status is the answer; the body is never read (a receiver could send one without end).
        finish({ status: res.statusCode ?? 0 });
        res.on('error', () => undefined);
        req.destroy();
      },
    );
    const timer = setTimeout(() => {
      finish({ error: `timed out after ${timeout} ms` });
      req.destroy();
    }, timeout);
    req.on('error', (error: NodeJS.ErrnoException) => finish({ error: error.message || error.code || 'connection failed' }));
    req.end(body);
  });
}

/** The wait before retry number `retry` (1-based) with jitter, or null when the schedule is over. */
export function retryDelay(delays: readonly number[], retry: number, random = Math.random): number | null {
  const base = delays[retry - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

async function attempt(delivery: Claimed, settings: WebhookSettings): Promise<void> {
  const { endpoint } = delivery;
  if (!endpoint.enabled) {
    // Disabled since the claim: park it again, unattempted.
    await prisma.webhookDelivery.updateMany({ where: { id: delivery.id }, data: { lockedUntil: null } });
    return;
  }
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
  const finishedAt = new Date();
  // updateMany: the delivery may have gone with its endpoint meanwhile.
  await prisma.webhookDelivery.updateMany({
    where: { id: delivery.id },
    data: {
      attempts,
      status: succeeded ? 'SUCCEEDED' : delay === null ? 'FAILED' : 'PENDING',
      responseStatus: 'status' in outcome ? outcome.status : null,
      lastError,
      lastAttemptAt: sentAt,
      nextAttemptAt: delay === null ? null : new Date(finishedAt.getTime() + delay),
      lockedUntil: null,
    },
  });
  if (!succeeded) {
    logger.debug('webhook attempt failed', { deliveryId: delivery.id, attempts, error: lastError, retry: delay !== null });
  }
}

/**
 * Starts this process's dispatcher: call once the database is usable; stop it before closing
 * the database.
 */
export function startDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const settings = options.settings ?? DEFAULT_WEBHOOK_SETTINGS;
  const pollInterval = options.pollInterval ?? POLL_INTERVAL;
  const lease = settings.timeout + LEASE_MARGIN;
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

  const loop = async () => {
    while (!stopped) {
      woken = false;
      let claimed: Claimed[] = [];
      try {
        claimed = await claim(BATCH_SIZE, lease);
        // Every attempt runs to its end (stop() waits for them); the first failure to write one is reported.
        const outcomes = await Promise.allSettled(claimed.map((delivery) => attempt(delivery, settings)));
        const failed = outcomes.find((outcome) => outcome.status === 'rejected');
        if (failed) throw failed.reason;
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
      if (stopped || (claimed.length === BATCH_SIZE && !failing) || woken) continue;
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

