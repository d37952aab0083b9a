import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import { logger } from '../logger.js';
import type { KeyViewer } from '../services/api-keys.js';

/** Each setting's meaning is in Config; absent ones are off (as in the in-process test app). */
export type RateLimitSettings = Partial<Pick<Config, 'rateLimit' | 'authFailureLimit' | 'redisUrl' | 'redisPrefix' | 'trustProxy'>>;

/** What the context factory is given: the request, and in Node the socket it came on. */
export interface RequestSource {
  request: Request;
  req?: IncomingMessage;
}

/** Counts at the two points the context factory decides who is asking. */
export interface RateLimits {
  /**
   * A request with a valid key: counted against the key's budget. Throws the RATE_LIMITED error
   * when the key is over it, before anything executes.
   */
  admit(source: RequestSource, apiKey: string, viewer: KeyViewer): Promise<void>;
  /**
   * A request without a valid key: counted against the client address's budget of failed
   * authentications. Answers the error to throw: `refusal` itself (401), or RATE_LIMITED when the
   * address is over its budget. A valid key never comes here, so it is never refused for them.
   */
  failedAuthentication(source: RequestSource, refusal: GraphQLError): Promise<GraphQLError>;
  /** Puts the RateLimit headers on responses, and closes the Redis connection on dispose. */
  plugin: Plugin;
}

const WINDOW_SECONDS = 60;
/** Redis calls that take longer fall back to this process's own count (the insurance limiter). */
const REDIS_COMMAND_TIMEOUT_MS = 500;

/**
 * One budget: a fixed window of WINDOW_SECONDS counted by rate-limiter-flexible, in Redis when
 * there is one (with an in-memory insurance limiter that takes over while Redis is unreachable),
 * in memory otherwise.
 */
interface Budget {
  /** The quota policy's name in the RateLimit headers. */
  name: string;
  points: number;
  limiter: RateLimiterAbstract;
}

type HeaderFields = Record<string, string>;

/**
 * Header fields of draft-ietf-httpapi-ratelimit-headers-10 (September 2025): `RateLimit-Policy`
 * announces the quota (`q` requests per window of `w` seconds) and `RateLimit` what is left of it
 * (`r`) and the seconds until the window resets (`t`), both Structured Field lists of items named
 * by a String, e.g. `RateLimit-Policy: "default";q=6000;w=60` and `RateLimit: "default";r=5999;t=60`.
 * The older drafts' `RateLimit-Limit`/`-Remaining`/`-Reset` fields are not sent.
 */
function headersFor(budget: Budget, result: RateLimiterRes): HeaderFields {
  return {
    'RateLimit-Policy': `"${budget.name}";q=${budget.points};w=${WINDOW_SECONDS}`,
    RateLimit: `"${budget.name}";r=${result.remainingPoints};t=${secondsToReset(result)}`,
  };
}

function secondsToReset(result: RateLimiterRes): number {
  return Math.min(WINDOW_SECONDS, Math.max(1, Math.ceil(result.msBeforeNext / 1000)));
}

function rateLimited(message: string, budget: Budget, result: RateLimiterRes): GraphQLError {
  // Retry-After is the window's reset, as the draft asks (never earlier than `t`).
  const headers = { 'Retry-After': String(secondsToReset(result)), ...headersFor(budget, result) };
  return new GraphQLError(message, { extensions: { code: 'RATE_LIMITED', http: { status: 429, headers } } });
}

/**
 * Consumes one point. Answers the library's result either way (`refused` when over the budget),
 * or null when the count could not be made at all: then the request is let through, since a
 * limiter that cannot count must not take the API down with it.
 */
async function consume(budget: Budget, key: string): Promise<{ result: RateLimiterRes; refused: boolean } | null> {
  try {
    return { result: await budget.limiter.consume(key), refused: false };
  } catch (error) {
    if (error instanceof RateLimiterRes) return { result: error, refused: true };
    logger.warn('rate limit not counted', { budget: budget.name, error: error instanceof Error ? error.message : String(error) });
    return null;
  }
}

/** The first refusal of a window is logged (once, wherever the budget is counted), not every one. */
function firstRefusal(budget: Budget, result: RateLimiterRes): boolean {
  return result.consumedPoints === budget.points + 1;
}

/**
 * The client's address: the socket's peer, or with `trustProxy` proxies in front, the address the
 * outermost trusted proxy saw (each proxy appends its peer to `X-Forwarded-For`, so it is the
 * `trustProxy`-th entry from the right; entries further left are whatever the client sent).
 * In-process requests (no socket) share one address, `local`.
 */
export function clientAddress({ request, req }: RequestSource, trustProxy: number): string {
  let address = req?.socket?.remoteAddress;
  if (trustProxy > 0) {
    const forwarded = (request.headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    const candidate = forwarded[Math.max(0, forwarded.length - trustProxy)];
    if (candidate && isIP(candidate)) address = candidate;
  }
  return address ? addressBucket(address) : 'local';
}

/**
 * What failed authentications are counted by: an IPv4 address, or an IPv6 address's /64 (one
 * host usually holds a whole /64, so counting single IPv6 addresses would be no throttle at all).
 */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = address.split('%')[0]!.toLowerCase().split('::');
  const groups = (part: string) => (part ? part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])) : []);
  const first = groups(head);
  const last = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? first : [...first, ...Array<string>(8 - first.length - last.length).fill('0'), ...last];
  return `${all
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

function createRedis(url: string): Redis {
  const redis = new Redis(url, {
    // rate-limiter-flexible's advice: fail at once while disconnected (the insurance limiter
    // answers) rather than queue commands until Redis is back.
    enableOfflineQueue: false,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  });
  // Log changes of state, not every reconnection attempt.
  let shared: boolean | null = null;
  redis.on('ready', () => {
    if (shared !== true) logger.info('rate limits are shared through Redis');
    shared = true;
  });
  redis.on('error', (error: Error) => {
    if (shared !== false) {
      logger.warn('Redis unavailable: rate limits are counted per process until it is back', { error: error.message });
    }
    shared = false;
  });
  return redis;
}

function budget(name: string, points: number, keyPrefix: string, redis: Redis | null): Budget {
  const duration = WINDOW_SECONDS;
  const memory = new RateLimiterMemory({ keyPrefix, points, duration });
  if (!redis) return { name, points, limiter: memory };
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points,
    duration,
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
    // A budget over its limit is refused from memory until its window ends: a client that keeps
    // hammering costs no Redis round trip.
    inMemoryBlockOnConsumed: points + 1,
  });
  return { name, points, limiter };
}

/** Which budget refused a request: an API key's, or a client address's failed authentications. */
export type RefusalKind = 'key' | 'auth-failure';

/**
 * Per-API-key rate limiting and failed-authentication throttling (`createApp` asks it at the two
 * points where its context factory knows who is asking). Budgets are fixed windows of a minute:
 * `rateLimit` requests per key, `authFailureLimit` failed authentications per client address.
 * `onRefused` hears of every 429 (the metrics count them).
 */
export function createRateLimits(settings: RateLimitSettings, onRefused: (kind: RefusalKind) => void = () => undefined): RateLimits {
  const { rateLimit = 0, authFailureLimit = 0, redisUrl, redisPrefix = 'relate', trustProxy = 0 } = settings;
  const redis = redisUrl && (rateLimit > 0 || authFailureLimit > 0) ? createRedis(redisUrl) : null;
  const perKey = rateLimit > 0 ? budget('default', rateLimit, `${redisPrefix}:rate:key`, redis) : null;
  const perAddress = authFailureLimit > 0 ? budget('failed-auth', authFailureLimit, `${redisPrefix}:rate:auth`, redis) : null;
  /** Headers for responses that are not refusals (those carry theirs in the error). */
  const pending = new WeakMap<Request, HeaderFields>();

  return {
    async admit(source, apiKey, viewer) {
      if (!perKey) return;
      // The key's id, as authentication found it: names the key without hashing it again, and
      // without writing anything the database matches a key on.
      const counted = await consume(perKey, String(viewer.apiKeyId));
      if (!counted) return;
      const { result, refused } = counted;
      if (!refused) {
        pending.set(source.request, headersFor(perKey, result));
        return;
      }
      onRefused('key');
      if (firstRefusal(perKey, result)) {
        logger.warn('rate limit exceeded', {
          key: apiKey.slice(0, 10), // the key's public prefix (ApiKey.prefix)
          workspaceId: viewer.workspaceId,
          userId: viewer.userId,
          limit: rateLimit,
        });
      }
      throw rateLimited(
        `Rate limit exceeded: at most ${rateLimit} requests per minute per API key. Retry after the time in Retry-After.`,
        perKey,
        result,
      );
    },

    async failedAuthentication(source, refusal) {
      if (!perAddress) return refusal;
      const address = clientAddress(source, trustProxy);
      const counted = await consume(perAddress, address);
      if (!counted) return refusal;
      const { result, refused } = counted;
      if (!refused) {
        pending.set(source.request, headersFor(perAddress, result));
        return refusal;
      }
      onRefused('auth-failure');
      if (firstRefusal(perAddress, result)) {
        logger.warn('too many failed authentications', { address, limit: authFailureLimit });
      }
      return rateLimited(
        `Too many failed authentications from this address: at most ${authFailureLimit} per minute. ` +
          'Requests with a valid API key are still served.',
        perAddress,
        result,
      );
    },

    plugin: {
      onResponse: ({ request, response }) => {
        const headers = pending.get(request);
        if (!headers) return;
        for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
      },
      onDispose: async () => {
        if (!redis) return;
        if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
        else redis.disconnect();
      },
    },
  };
}
