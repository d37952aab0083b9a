import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { GraphQLClient } from 'graphql-request';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { App } from '../src/app.js';

/**
 * The app and the database layer, imported when a file's hooks first run rather than when this
 * module loads: the files that use only createTestDatabase (their server or CLI runs in a child
 * process) then never load them, which costs each such file about 2 s of CPU.
 */
const appModules = async () => ({
  app: await import('../src/app.js'),
  db: await import('../src/db/index.js'),
  workspaces: await import('../src/services/workspaces.js'),
});

export const DB = (process.env.RELATE_TEST_DB ?? 'sqlite') as 'sqlite' | 'postgresql';
export const ENDPOINT = 'http://relate.test/graphql';

/** A fresh database for one test file: a temporary SQLite file, or a new PostgreSQL database. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `relate_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  if (DB === 'sqlite') {
    const file = join(tmpdir(), `${name}.db`);
    return {
      url: `file:${file}`,
      drop: async () => {
        for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
      },
    };
  }
  const server = process.env.TEST_DATABASE_URL;
  if (!server) throw new Error('TEST_DATABASE_URL is needed for the PostgreSQL suites');
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return postgresDatabase(server, name);
}

/** The URL of database `name` on the PostgreSQL server `server`, and how to drop it. */
export function postgresDatabase(server: string, name: string): { url: string; drop: () => Promise<void> } {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown>; path?: (string | number)[] }[];
  extensions?: { sqlStatements?: number } & Record<string, unknown>;
}

export interface TestWorkspace {
  apiKey: string;
  workspaceId: number;
  userId: number;
  /** Typed operations through graphql-request (throws on GraphQL errors). */
  client: GraphQLClient;
  /** Any operation; returns the whole response with its HTTP status. */
  gql: <T = any>(query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse<T>>;
}

export interface TestApp {
  app: App;
  url: string;
  /** POST an operation with any key (or none); returns the whole response. */
  post: <T = any>(query: string, variables?: Record<string, unknown>, apiKey?: string | null) => Promise<GraphQLResponse<T>>;
  clientFor: (apiKey: string) => GraphQLClient;
  gqlFor: (apiKey: string) => TestWorkspace['gql'];
  /** A new workspace with its admin (arranged directly through the service layer). */
  workspace: (name?: string) => Promise<TestWorkspace>;
}

/** Registers hooks that give this test file its own database and app. */
export function useTestApp(): TestApp {
  const state = {} as TestApp & { drop: () => Promise<void> };
  let modules: Awaited<ReturnType<typeof appModules>>;
  beforeAll(async () => {
    modules = await appModules();
    const db = await createTestDatabase();
    state.drop = db.drop;
    state.url = db.url;
    await modules.db.openDatabase(db.url, { poolSize: 20 });
    state.app = modules.app.createApp({ config: { production: false, introspection: true, reportStatements: true } });
  });
  afterAll(async () => {
    await modules?.db.closeDatabase();
    await state.drop?.();
  });
  const post: TestApp['post'] = async (query, variables, apiKey) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    const response = await state.app.countedFetch(ENDPOINT, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return { status: response.status, ...((await response.json()) as object) };
  };
  const clientFor = (apiKey: string) =>
    new GraphQLClient(ENDPOINT, {
      fetch: ((input: string, init?: RequestInit) => state.app.countedFetch(String(input), init)) as typeof fetch,
      headers: { authorization: `Bearer ${apiKey}` },
    });
  const gqlFor = (apiKey: string) => (query: string, variables?: Record<string, unknown>) => post(query, variables, apiKey);
  let counter = 0;
  const workspace = async (name = `Workspace ${++counter}`) => {
    const created = await modules.workspaces.createWorkspace({ name, adminEmail: `admin${counter}@example.com` });
    return {
      apiKey: created.apiKey,
      workspaceId: created.workspace.id,
      userId: created.user.id,
      client: clientFor(created.apiKey),
      gql: gqlFor(created.apiKey),
    };
  };
  return Object.assign(state, { post, clientFor, gqlFor, workspace, get prisma() { return modules?.db.prisma; } });
}

/** Runs a typed operation; fails the test with the GraphQL errors if there are any. */
export async function run<R, V extends Record<string, unknown>>(
  client: GraphQLClient,
  document: TypedDocumentNode<R, V>,
  variables: V,
): Promise<R> {
  return client.request<R, V>({ document, variables } as never);
}

/** `data.<field>` of a mutation result, asserting its __typename. */
export function expectType<T extends { __typename?: string }, N extends string>(value: T, typename: N): Extract<T, { __typename?: N }> {
  if (value.__typename !== typename) {
    throw new Error(`expected ${typename}, got ${JSON.stringify(value)}`);
  }
  return value as Extract<T, { __typename?: N }>;
}
