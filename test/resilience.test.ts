import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { Prisma, prisma, reader } from '../src/db/index.js';
import { DB, useTestApp } from './helpers.js';

const t = useTestApp();

describe.runIf(DB === 'postgresql')('PostgreSQL connections closed by the server', () => {
  it('do not take the process down; the next requests are answered on new connections', async () => {
    const ws = await t.workspace();
    const query = '{ viewer { workspace { name } } objects { key } records(objectKey: "contact") { totalCount } }';
    expect((await ws.gql(query)).errors).toBeUndefined();
    const admin = new pg.Client({ connectionString: t.url });
    await admin.connect();
    const { rowCount } = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    await admin.end();
    expect(rowCount).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await ws.gql(query);
    expect(again.errors).toBeUndefined();
    expect(again.data.viewer.workspace.name).toBe('Workspace 1');
  });
});

describe.runIf(DB === 'postgresql')('PostgreSQL connections terminated mid-request', () => {
  it('answer 503 SERVICE_UNAVAILABLE with Retry-After, never an internal error; the next request is served', async () => {
    const ws = await t.workspace();
    const query = '{ records(objectKey: "contact") { totalCount edges { node { associations { totalCount } } } } }';
    expect((await ws.gql(query)).errors).toBeUndefined();
    const blocker = new pg.Client({ connectionString: t.url });
    await blocker.connect();
    try {
      // Hold the request on a lock, then terminate its connection as an administrator would.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE "Record" IN ACCESS EXCLUSIVE MODE');
      const held = t.app.fetch('http://relate.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.apiKey}` },
        body: JSON.stringify({ query }),
      });
      const waiting = async () =>
        (
          await blocker.query(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
          )
        ).rows.map((row: { pid: number }) => row.pid);
      let pids: number[] = [];
      for (let i = 0; i < 100 && pids.length === 0; i += 1) {
        pids = await waiting();
        if (!pids.length) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(pids.length).toBeGreaterThan(0);
      await blocker.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
      await blocker.query('ROLLBACK');
      const response = await held;
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors.map((error) => error.extensions.code)).toEqual(['SERVICE_UNAVAILABLE']);
    } finally {
      await blocker.end();
    }
    const again = await ws.gql(query);
    expect(again.status).toBe(200);
    expect(again.errors).toBeUndefined();
  });
});

describe.runIf(DB === 'postgresql')('the statement timeout', () => {
  it('is set on every connection of both pools (Prisma and the bare-driver reader), 10 s by default', async () => {
    const [viaPrisma] = await prisma.$queryRaw<{ statement_timeout: string }[]>`SHOW statement_timeout`;
    const [viaReader] = await reader.rows<{ statement_timeout: string }>(Prisma.sql`SHOW statement_timeout`);
    expect(viaPrisma!.statement_timeout).toBe('10s');
    expect(viaReader!.statement_timeout).toBe('10s');
    // Inside a write transaction too (its own connection from the pool).
    const inTransaction = await prisma.$transaction((tx) => tx.$queryRaw<{ statement_timeout: string }[]>`SHOW statement_timeout`);
    expect(inTransaction[0]!.statement_timeout).toBe('10s');
  });
});
