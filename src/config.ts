import { availableParallelism } from 'node:os';
import { DEFAULT_STATEMENT_TIMEOUT } from './db/settings.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from './graphql/input-guard.js';

export type Provider = 'sqlite' | 'postgresql';

export interface Config {
  port: number;
  databaseUrl: string;
  provider: Provider;
  production: boolean;
  /** Introspection (and so GraphiQL) can be switched off with RELATE_INTROSPECTION=false. */
  introspection: boolean;
  /** Adds `extensions.sqlStatements` to every response (tests and the benchmark read it). */
  reportStatements: boolean;
  /** HTTP worker processes (RELATE_WORKERS: a number, or "auto" for one per core). */
  workers: number;
  /** Milliseconds one PostgreSQL statement may run (RELATE_STATEMENT_TIMEOUT; 0: no limit). */
  statementTimeout: number;
  /** Strings, lists and JSON in every argument (RELATE_MAX_STRING_LENGTH, …). */
  inputLimits: InputLimits;
  /** Request body, in bytes (RELATE_MAX_BODY_BYTES): larger bodies are refused with 413. */
  maxBodyBytes: number;
  /** Rows a query may read, as the product of the page sizes along each path (RELATE_MAX_QUERY_ROWS). */
  maxQueryRows: number;
  /** Requests per minute per API key (RELATE_RATE_LIMIT; 0: no limit). */
  rateLimit: number;
  /** Failed authentications per minute per client address (RELATE_AUTH_FAILURE_LIMIT; 0: no limit). */
  authFailureLimit: number;
  /** Redis that shares the rate limits among every process and server (REDIS_URL); unset: per process. */
  redisUrl: string | undefined;
  /** Prefix of the rate limits' Redis keys (RELATE_REDIS_PREFIX). */
  redisPrefix: string;
  /** Proxies in front of the server whose X-Forwarded-For is believed (RELATE_TRUST_PROXY; 0: none). */
  trustProxy: number;
  /** Bearer token GET /metrics asks for (RELATE_METRICS_TOKEN); unset: /metrics is open. */
  metricsToken: string | undefined;
  /** Spans exported over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT or …_TRACES_ENDPOINT is set). */
  tracing: boolean;
  /** Browser origins allowed to call the API (RELATE_CORS_ORIGINS): exact origins, or '*' for any. */
  corsOrigins: string[] | '*';
  /**
   * Trusted documents: the manifests to load at start (RELATE_TRUSTED_DOCUMENTS_FILE, comma-separated)
   * and whether only their hashes are accepted (RELATE_TRUSTED_DOCUMENTS=only) or any operation too.
   */
  trustedDocuments: { mode: 'allow' | 'only'; files: string[] };
  /** Webhook delivery (RELATE_WEBHOOK_ALLOW_PRIVATE, RELATE_WEBHOOK_RETRY_DELAYS, RELATE_WEBHOOK_TIMEOUT). */
  webhooks: WebhookSettings;
}

export interface WebhookSettings {
  /** Loopback and private targets, and plain http, are allowed (for development and tests). */
  allowPrivate: boolean;
  /** Milliseconds to wait before each retry; its length is the number of retries. */
  retryDelays: number[];
  /** Milliseconds one attempt may take. */
  timeout: number;
}

/** Seconds between attempts: seven attempts over about seven hours. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS = [5, 30, 120, 600, 3600, 21600];
export const DEFAULT_WEBHOOK_TIMEOUT = 10;
export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  allowPrivate: false,
  retryDelays: DEFAULT_WEBHOOK_RETRY_DELAYS.map((seconds) => seconds * 1000),
  timeout: DEFAULT_WEBHOOK_TIMEOUT * 1000,
};

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_QUERY_ROWS = 500_000;

/**
 * A whole-number setting from `min` up, or its default when unset. `what` says what it counts in
 * the error a bad value gets.
 */
function intSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1, what = `a whole number of at least ${min}`): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be ${what}; got "${raw}"`);
  return value;
}

export const DEFAULT_DATABASE_URL = 'file:./data/relate.db';

export function providerOf(url: string): Provider {
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgresql';
  if (url.startsWith('file:')) return 'sqlite';
  throw new Error(
    `DATABASE_URL must start with file: (SQLite) or postgres:// / postgresql:// (PostgreSQL); got "${url.split(':')[0]}:…"`,
  );
}

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(value.toLowerCase());
}

function workersOf(value: string | undefined): number {
  if (!value) return 1;
  if (value === 'auto') return availableParallelism();
  const workers = Number(value);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new Error(`RELATE_WORKERS must be a number from 1 to 64, or "auto"; got "${value}"`);
  }
  return workers;
}

export const DEFAULT_RATE_LIMIT = 6000;
export const DEFAULT_AUTH_FAILURE_LIMIT = 60;

const perMinute = (env: NodeJS.ProcessEnv, name: string, fallback: number) =>
  intSetting(env, name, fallback, 0, 'a whole number of requests per minute (0 turns the limit off)');

function redisUrlOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!/^rediss?:\/\//.test(value)) {
    throw new Error(`REDIS_URL must start with redis:// or rediss://; got "${value.split(':')[0]}:…"`);
  }
  return value;
}

/** `false` (default), `true` (one proxy), or how many proxies stand in front of the server. */
function trustProxyOf(value: string | undefined): number {
  if (!value) return 0;
  if (/^(true|yes|on)$/i.test(value)) return 1;
  if (/^(false|no|off)$/i.test(value)) return 0;
  const hops = Number(value);
  if (!Number.isInteger(hops) || hops < 0 || hops > 10) {
    throw new Error(`RELATE_TRUST_PROXY must be true, false or the number of proxies in front of the server (0 to 10); got "${value}"`);
  }
  return hops;
}

function trustedDocumentsOf(mode: string | undefined, files: string | undefined): Config['trustedDocuments'] {
  const paths = (files ?? '').split(',').map((path) => path.trim()).filter(Boolean);
  const value = (mode || 'allow').toLowerCase();
  if (value !== 'allow' && value !== 'only') throw new Error(`RELATE_TRUSTED_DOCUMENTS must be allow or only; got "${mode}"`);
  if (value === 'only' && paths.length === 0) {
    throw new Error('RELATE_TRUSTED_DOCUMENTS=only needs RELATE_TRUSTED_DOCUMENTS_FILE: the persisted-documents.json manifests to accept');
  }
  return { mode: value, files: paths };
}

function metricsTokenOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!/^[\x21-\x7e]+$/.test(value)) throw new Error('RELATE_METRICS_TOKEN must be printable ASCII without spaces');
  return value;
}

/** The standard OpenTelemetry variables: an OTLP endpoint turns tracing on, unless the SDK is disabled. */
function tracingOf(env: NodeJS.ProcessEnv): boolean {
  if (flag(env.OTEL_SDK_DISABLED, false) || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/**
 * `*`, `none`, or a comma-separated list of exact origins (`https://app.example.com`, scheme,
 * host and port only). Unset: none in production, any origin in development.
 */
function corsOriginsOf(value: string | undefined, production: boolean): string[] | '*' {
  if (value === undefined || value.trim() === '') return production ? [] : '*';
  if (value.trim() === '*') return '*';
  if (value.trim().toLowerCase() === 'none') return [];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((origin) => {
      if (!/^https?:\/\//.test(origin) || !URL.canParse(origin) || new URL(origin).origin !== origin) {
        throw new Error(
          `RELATE_CORS_ORIGINS must be *, none, or origins such as https://app.example.com (scheme, host and port, no path), separated by commas; got "${origin}"`,
        );
      }
      return origin;
    });
}

/** `true` or `false` (also 1/0, yes/no, on/off); anything else stops the start. */
function strictFlag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(true|1|yes|on)$/i.test(raw)) return true;
  if (/^(false|0|no|off)$/i.test(raw)) return false;
  throw new Error(`${name} must be true or false; got "${raw}"`);
}

/** Seconds (fractions allowed) from `min` to `max`, as milliseconds; `setting` is the whole value, for the error. */
function seconds(raw: string, name: string, min: number, max: number, what: string, setting = raw): number {
  const value = /^\s*[0-9]+(\.[0-9]+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw new Error(`${name} must be ${what}; got "${setting}"`);
  return Math.round(value * 1000);
}

function webhooksOf(env: NodeJS.ProcessEnv): WebhookSettings {
  const delays = env.RELATE_WEBHOOK_RETRY_DELAYS;
  const timeout = env.RELATE_WEBHOOK_TIMEOUT;
  const week = 7 * 24 * 3600;
  return {
    allowPrivate: strictFlag(env, 'RELATE_WEBHOOK_ALLOW_PRIVATE', false),
    retryDelays:
      delays === undefined || delays.trim() === ''
        ? DEFAULT_WEBHOOK_SETTINGS.retryDelays
        : delays.trim().toLowerCase() === 'none'
          ? []
          : delays.split(',').map((part, i, all) => {
              if (all.length > 50) throw new Error(`RELATE_WEBHOOK_RETRY_DELAYS takes at most 50 delays; got ${all.length}`);
              return seconds(part, 'RELATE_WEBHOOK_RETRY_DELAYS', 0, week, 'seconds between attempts separated by commas (e.g. 5,30,120), each at most a week, or none', delays);
            }),
    timeout:
      timeout === undefined || timeout === ''
        ? DEFAULT_WEBHOOK_SETTINGS.timeout
        : seconds(timeout, 'RELATE_WEBHOOK_TIMEOUT', 0.1, 300, 'a number of seconds from 0.1 to 300'),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number; got "${env.PORT}"`);
  return {
    port,
    databaseUrl,
    provider: providerOf(databaseUrl),
    production: env.NODE_ENV === 'production',
    introspection: flag(env.RELATE_INTROSPECTION, true),
    reportStatements: flag(env.RELATE_REPORT_STATEMENTS, false),
    workers: workersOf(env.RELATE_WORKERS),
    statementTimeout: intSetting(env, 'RELATE_STATEMENT_TIMEOUT', DEFAULT_STATEMENT_TIMEOUT, 0, 'a whole number of milliseconds (0 turns it off)'),
    inputLimits: {
      maxStringLength: intSetting(env, 'RELATE_MAX_STRING_LENGTH', DEFAULT_INPUT_LIMITS.maxStringLength),
      maxListLength: intSetting(env, 'RELATE_MAX_LIST_LENGTH', DEFAULT_INPUT_LIMITS.maxListLength),
      maxJsonBytes: intSetting(env, 'RELATE_MAX_PROPERTIES_BYTES', DEFAULT_INPUT_LIMITS.maxJsonBytes),
      maxJsonDepth: intSetting(env, 'RELATE_MAX_PROPERTIES_DEPTH', DEFAULT_INPUT_LIMITS.maxJsonDepth),
    },
    maxBodyBytes: intSetting(env, 'RELATE_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    maxQueryRows: intSetting(env, 'RELATE_MAX_QUERY_ROWS', DEFAULT_MAX_QUERY_ROWS),
    rateLimit: perMinute(env, 'RELATE_RATE_LIMIT', DEFAULT_RATE_LIMIT),
    authFailureLimit: perMinute(env, 'RELATE_AUTH_FAILURE_LIMIT', DEFAULT_AUTH_FAILURE_LIMIT),
    redisUrl: redisUrlOf(env.REDIS_URL),
    redisPrefix: env.RELATE_REDIS_PREFIX || 'relate',
    trustProxy: trustProxyOf(env.RELATE_TRUST_PROXY),
    metricsToken: metricsTokenOf(env.RELATE_METRICS_TOKEN),
    tracing: tracingOf(env),
    corsOrigins: corsOriginsOf(env.RELATE_CORS_ORIGINS, env.NODE_ENV === 'production'),
    trustedDocuments: trustedDocumentsOf(env.RELATE_TRUSTED_DOCUMENTS, env.RELATE_TRUSTED_DOCUMENTS_FILE),
    webhooks: webhooksOf(env),
  };
}
