import { availableParallelism } from 'node:os';

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
  };
}
