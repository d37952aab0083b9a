import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DB, useTestApp } from './helpers.js';
import { relate } from './support/process.js';

const t = useTestApp();

describe('relate CLI', () => {
  it('workspace create prints { workspace, user, apiKey } and the key works', async () => {
    const result = await relate(['workspace', 'create', '--name', 'From CLI', '--admin-email', 'ops@example.com'], {
      DATABASE_URL: t.url,
    });
    expect(result.code).toBe(0);
    const created = JSON.parse(result.stdout);
    expect(created).toEqual({
      workspace: { id: expect.any(String), name: 'From CLI' },
      user: { id: expect.any(String), name: 'Admin', email: 'ops@example.com', role: 'ADMIN' },
      apiKey: expect.stringMatching(/^rel_/),
    });
    const viewer = await t.post('{ viewer { user { id } workspace { id name } } }', {}, created.apiKey);
    expect(viewer.data.viewer).toEqual({ user: { id: created.user.id }, workspace: created.workspace });
  });

  it('user create and apikey create give a USER a working key', async () => {
    const { stdout } = await relate(['workspace', 'create', '--name', 'Team'], { DATABASE_URL: t.url });
    const { workspace } = JSON.parse(stdout);
    const userResult = await relate(
      ['user', 'create', '--workspace', workspace.id, '--name', 'Uma', '--email', 'uma@example.com'],
      { DATABASE_URL: t.url },
    );
    expect(userResult.code).toBe(0);
    const { user } = JSON.parse(userResult.stdout);
    expect(user).toMatchObject({ name: 'Uma', email: 'uma@example.com', role: 'USER' });
    const keyResult = await relate(['apikey', 'create', '--user', user.id, '--name', 'script'], { DATABASE_URL: t.url });
    expect(keyResult.code).toBe(0);
    const { apiKey } = JSON.parse(keyResult.stdout);
    const viewer = await t.post('{ viewer { user { name role } workspace { name } } }', {}, apiKey);
    expect(viewer.data.viewer).toEqual({ user: { name: 'Uma', role: 'USER' }, workspace: { name: 'Team' } });
  });

  it('seed --demo creates the Demo workspace', async () => {
    const result = await relate(['seed', '--demo'], { DATABASE_URL: t.url });
    expect(result.code).toBe(0);
    const { apiKey } = JSON.parse(result.stdout);
    const response = await t.post('{ viewer { workspace { name } } associationLabels { key } }', {}, apiKey);
    expect(response.data.viewer.workspace.name).toBe('Demo');
    expect(response.data.associationLabels).toHaveLength(4);
  });

  it('migrate reports an up-to-date database', async () => {
    const result = await relate(['migrate'], { DATABASE_URL: t.url });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('up to date');
  });

  it('schema print prints the committed SDL', async () => {
    const result = await relate(['schema', 'print'], { DATABASE_URL: t.url });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('type Query {');
    expect(result.stdout.trim()).toBe(readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8').trim());
  });

  it('rejects bad usage with exit code 2 and the usage text', async () => {
    const missing = await relate(['workspace', 'create'], { DATABASE_URL: t.url });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--name is required');
    const unknown = await relate(['frobnicate'], { DATABASE_URL: t.url });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Usage: relate');
    const badUser = await relate(['apikey', 'create', '--user', 'nope'], { DATABASE_URL: t.url });
    expect(badUser.code).toBe(2);
    // An id no row can have (beyond the 32-bit id columns) is a usage error, not a database error.
    const tooLarge = await relate(['user', 'create', '--workspace', '99999999999', '--name', 'N', '--email', 'n@example.com'], { DATABASE_URL: t.url });
    expect(tooLarge.code).toBe(2);
    expect(tooLarge.stderr).toContain('--workspace must be a Workspace id');
  });
});

/** A local port nothing listens on: connections to it are refused. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** One line on stderr, starting "relate: ", and no stack trace. */
function expectOneLine(result: { code: number | null; stderr: string }, text: string | RegExp) {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^relate: /);
  expect(lines[0]).toMatch(text);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

// These need no database server: they run once, with the SQLite suites.
describe.runIf(DB === 'sqlite')('relate CLI: database errors in one line', () => {
  it('a refused connection', async () => {
    const port = await closedPort();
    const result = await relate(['workspace', 'create', '--name', 'X'], { DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/relate` });
    expectOneLine(result, `relate: cannot reach the database at 127.0.0.1:${port}/relate (connection refused)`);
  });

  it('a DATABASE_URL that names no database, or no usable one; never echoing its password', async () => {
    const cases: [string, RegExp][] = [
      ['mysql://root:s3cret@localhost/relate', /DATABASE_URL must start with file: \(SQLite\) or postgres/],
      ['postgres://', /DATABASE_URL names no host/],
      ['postgresql://admin:s3cret@db.example/', /DATABASE_URL names no database/],
      ['postgres://admin:s3cret@@@:::/x', /DATABASE_URL is not a valid URL/],
      ['file:/dev/null/relate.db', /cannot create or open the SQLite database \/dev\/null\/relate\.db/],
    ];
    for (const [url, message] of cases) {
      const result = await relate(['migrate'], { DATABASE_URL: url });
      expectOneLine(result, message);
      expect(result.stderr).not.toContain('s3cret');
    }
  });
});

describe.runIf(DB === 'postgresql')('relate migrate on PostgreSQL', () => {
  const server = process.env.TEST_DATABASE_URL ?? '';
  const unique = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const urlOf = (database: string, user?: string) => {
    const url = new URL(server);
    url.pathname = `/${database}`;
    if (user) url.username = user;
    return url.toString();
  };
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  it('creates a missing database, migrates it, and the other commands work on it', async () => {
    const name = unique('relate_test_created');
    try {
      const created = await relate(['migrate'], { DATABASE_URL: urlOf(name) });
      expect(created.code, created.stderr).toBe(0);
      expect(created.stderr).toContain(`Created the database`);
      expect(created.stderr).toMatch(/Applied: 0001_init/);
      const again = await relate(['migrate'], { DATABASE_URL: urlOf(name) });
      expect(again.stderr).toContain('up to date');
      expect(again.stderr).not.toContain('Created');
      const workspace = await relate(['workspace', 'create', '--name', 'Fresh'], { DATABASE_URL: urlOf(name) });
      expect(workspace.code).toBe(0);
      expect(JSON.parse(workspace.stdout).workspace.name).toBe('Fresh');
    } finally {
      await admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
  });

  it('a missing database the role may not create: one clear line', async () => {
    const role = unique('relate_test_nocreate');
    const name = unique('relate_test_missing');
    await admin((client) => client.query(`CREATE ROLE "${role}" LOGIN NOCREATEDB`));
    try {
      const result = await relate(['migrate'], { DATABASE_URL: urlOf(name, role) });
      expectOneLine(result, /does not exist and could not be created: the role in DATABASE_URL may not create databases/);
      const exists = await admin((client) => client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]));
      expect(exists.rowCount).toBe(0);
    } finally {
      await admin((client) => client.query(`DROP ROLE IF EXISTS "${role}"`));
    }
  });
});
