/**
 * What other clients get while a long import holds its transaction (README, "Other requests
 * while an import runs"). In the default mode (onError ABORT) an associations import is one
 * transaction holding the workspace's write lock — on SQLite, the database's only write lock.
 * Two long imports, each seen in progress before reads and writes are sent over HTTP to this
 * file's server, in the importing workspace and in another one:
 * - an `importAssociations` job run by this server (seen by its live counts);
 * - `relate import associations` in another process (seen by the lock it holds).
 * Pinned: every read is answered at once (records, links, objects' fields, users); on PostgreSQL
 * other workspaces do not wait, nor do record writes of the importing one (its links wait for
 * its lock); on SQLite every write waits. A write that waits succeeds once the import commits or,
 * after waiting its limit (RELATE_STATEMENT_TIMEOUT, 10 s: on SQLite for the server's write
 * connection and the write lock together, counted from when it starts waiting), gets 503
 * SERVICE_UNAVAILABLE with Retry-After — never an internal error, never a longer wait. A server
 * started with a 1 s limit shows a write giving up while its own job runs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prisma } from '../src/db/index.js';
import { sqlitePath } from '../src/db/migrate.js';
import { encodeGlobalId } from '../src/services/ids.js';
import { DB, useTestApp, type TestWorkspace } from './helpers.js';
import { bulkContacts, createContact, createLabel, updateLimits } from './support/fixtures.js';
import { relate, startServer } from './support/process.js';

const t = useTestApp();
/** Rows of each import: enough for it to run a few seconds after it is seen in progress. */
const ROWS = 50_000;

let http: Server;
let base: string;
let dir: string;
beforeAll(async () => {
  http = createServer(t.app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'relate-import-contention-'));
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  name: string;
  kind: 'read' | 'write';
  workspace: 'importing' | 'other';
  status: number;
  /** Succeeded: data without errors, and a mutation's Success member. */
  ok: boolean;
  code: string | null;
  retryAfter: string | null;
  /** Milliseconds from sending to the whole answer. */
  ms: number;
  /** When it was answered (epoch ms). */
  at: number;
}

async function send(
  url: string,
  name: string,
  kind: Answer['kind'],
  workspace: Answer['workspace'],
  apiKey: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Answer> {
  const sent = Date.now();
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, any>; errors?: { extensions?: { code?: string } }[] };
  const at = Date.now();
  const result = body.data ? Object.values(body.data)[0] : undefined;
  const ok = !body.errors && result != null && (kind === 'read' || String(result.__typename).endsWith('Success'));
  const code = body.errors?.[0]?.extensions?.code ?? (ok ? null : (result?.code ?? null));
  return { name, kind, workspace, status: response.status, ok, code, retryAfter: response.headers.get('retry-after'), ms: at - sent, at };
}

interface Side {
  ws: TestWorkspace;
  /** Contacts for the writes sent during the imports (none of them imported). */
  spare: string[];
}

let importing: Side;
let other: Side;
/** The contacts the imports link, in id order. */
let chain: string[];

async function side(name: string): Promise<Side> {
  const ws = await t.workspace(name);
  await createLabel(ws, { key: 'friend', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
  const spare = [];
  for (const person of ['Ada', 'Bob', 'Cy', 'Dee', 'Eve']) spare.push((await createContact(ws, person)).id);
  return { ws, spare };
}

beforeAll(async () => {
  importing = await side('Importing');
  other = await side('Elsewhere');
  // Each contact of the chain is linked to its neighbours by six labels in all (two at once below).
  await updateLimits(importing.ws, { maxRecordsPerLabel: 1_000_000, maxAssociationsPerContact: 20 });
  for (const key of ['next', 'prev', 'skip', 'own', 'own_too']) {
    await createLabel(importing.ws, { key, firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: key, secondLabel: `${key} of` });
  }
  chain = await bulkContacts(importing.ws, ROWS + 1);
});

/** A file linking each contact of the chain to the next under `label` (the first `rows` of them). */
const chainFile = (label: string, rows = ROWS) =>
  ['firstRecordId,secondRecordId,labelKeys', ...chain.slice(1, rows + 1).map((id, i) => `${chain[i]},${id},${label}`)].join('\n') + '\n';

/** Reads and writes in both workspaces, all at once, to the server at `url`; the writes link `spare[0]` to `spare[pick]`. */
function others(pick: number, url = base): Promise<Answer[]> {
  const RECORD = `query ($id: ID!) { record(id: $id) { displayName properties associations(first: 5) { totalCount } } }`;
  const LIST = `{ records(objectKey: "contact", first: 5) { totalCount edges { node { id displayName } } } }`;
  const FIELDS = `{ object(key: "contact") { key fields { key } } }`;
  const VIEWER = `{ viewer { user { name } } }`;
  const LINK = `mutation ($input: LinkRecordsInput!) { linkRecords(input: $input) { __typename ... on Error { code message } } }`;
  const CREATE = `mutation ($input: CreateRecordInput!) { createRecord(input: $input) { __typename ... on Error { code message } } }`;
  const requests: Promise<Answer>[] = [];
  for (const [workspace, s] of [['importing', importing], ['other', other]] as const) {
    const key = s.ws.apiKey;
    requests.push(
      send(url, 'record with associations', 'read', workspace, key, RECORD, { id: workspace === 'importing' ? chain[0] : s.spare[0] }),
      send(url, 'records list', 'read', workspace, key, LIST),
      send(url, 'object fields', 'read', workspace, key, FIELDS),
      send(url, 'viewer user', 'read', workspace, key, VIEWER),
      send(url, 'linkRecords', 'write', workspace, key, LINK, { input: { firstRecordId: s.spare[0], secondRecordId: s.spare[pick], labelKeys: ['friend'] } }),
      send(url, 'createRecord', 'write', workspace, key, CREATE, { input: { objectKey: 'contact', properties: { firstName: `During ${pick}` } } }),
    );
  }
  return Promise.all(requests);
}

/** Whether a request waits for the import's lock (answered once it commits, or a 503 after its limit). */
function waits(answer: Answer): boolean {
  if (answer.kind === 'read') return false;
  if (DB === 'postgresql') return answer.workspace === 'importing' && answer.name === 'linkRecords';
  return true;
}

/**
 * What every request got, against the end of the import (`end`: when it committed, or just
 * before), with `limit` the server's RELATE_STATEMENT_TIMEOUT. Requests that do not wait (every
 * read): answered while it ran. Requests that wait for its lock: answered once it committed, with
 * success, or before then with 503 SERVICE_UNAVAILABLE and Retry-After after waiting their limit
 * (SQLite: for the server's write connection and the write lock, counted from when the request
 * starts waiting; PostgreSQL: the statement timeout), never much longer. A server running an
 * import job shares its event loop with the job's parsing and checks, so a request may reach the
 * database seconds after it was sent: as late as the slowest read was answered, which the
 * bound allows for (plus 5 s). Every request: never an internal error.
 */
function check(answers: Answer[], end: number, where: string, limit = 10_000) {
  const describe = (answer: Answer) =>
    `${where}: ${answer.kind} ${answer.name} (${answer.workspace} workspace): HTTP ${answer.status}${answer.code ? ` ${answer.code}` : ''} after ${answer.ms} ms, ${answer.at - end} ms after the import's end`;
  console.log(answers.map((answer) => `[import-contention ${DB}] ${describe(answer)}`).join('\n'));
  const lag = Math.max(0, ...answers.filter((answer) => !waits(answer)).map((answer) => answer.ms));
  for (const answer of answers) {
    const line = describe(answer);
    expect(answer.code, line).not.toBe('INTERNAL_SERVER_ERROR');
    expect(answer.status, line).not.toBe(500);
    if (!waits(answer)) {
      expect(answer, line).toMatchObject({ status: 200, ok: true });
      expect(answer.at, `${line}: answered while the import ran`).toBeLessThan(end);
      continue;
    }
    expect(answer.ms, `${line}: waited not much longer than its limit`).toBeLessThan(limit + lag + 5_000);
    if (answer.ok) {
      expect(answer.at, `${line}: waited for the import`).toBeGreaterThanOrEqual(end - 100);
    } else {
      expect(answer, line).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '5' });
      expect(answer.ms, `${line}: gave up after its limit`).toBeGreaterThanOrEqual(limit - 1_000);
      expect(answer.at, `${line}: gave up while the import ran`).toBeLessThan(end);
    }
  }
}

/** Uploads a file to importAssociations over HTTP; follows the job it answers. */
async function submit(content: string, onError: 'ABORT' | 'SKIP', url = base) {
  const form = new FormData();
  const operation = `mutation ($input: ImportAssociationsInput!) { importAssociations(input: $input) { __typename ... on ImportAssociationsSuccess { importJob { id } } } }`;
  form.set('operations', JSON.stringify({ query: operation, variables: { input: { file: null, onError } } }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new Blob([content], { type: 'text/csv' }), 'chain.csv');
  const upload = await fetch(`${url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${importing.ws.apiKey}` }, body: form });
  const id = ((await upload.json()) as any).data.importAssociations.importJob.id as string;
  const JOB = `query ($id: ID!) { importJob(id: $id) { status processedRows createdCount failure finishedAt } }`;
  const read = async () => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${importing.ws.apiKey}` },
      body: JSON.stringify({ query: JOB, variables: { id } }),
    });
    return ((await response.json()) as any).data.importJob;
  };
  return {
    /** Resolves once it runs, with rows decided and most still to go. */
    async seenRunning() {
      const started = Date.now();
      for (let current = await read(); !(current.status === 'RUNNING' && current.processedRows >= 2_000); current = await read()) {
        expect(current.status, JSON.stringify(current)).not.toMatch(/SUCCEEDED|FAILED/);
        expect(Date.now() - started).toBeLessThan(30_000);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async ended() {
      let done = await read();
      while (done.status === 'RUNNING' || done.status === 'QUEUED') {
        await new Promise((resolve) => setTimeout(resolve, 50));
        done = await read();
      }
      return done;
    },
  };
}

describe('requests during a long associations import (onError ABORT: one transaction)', () => {
  it('an importAssociations job run by this server', async () => {
    const job = await submit(chainFile('next'), 'ABORT');
    await job.seenRunning();
    const answers = await others(1);
    const done = await job.ended();
    expect(done).toMatchObject({ status: 'SUCCEEDED', processedRows: ROWS, createdCount: ROWS, failure: null });
    check(answers, new Date(done.finishedAt).getTime(), 'job');
  }, 90_000);

  it('with onError SKIP, writes take their turn between batches: none waits for the whole import', async () => {
    // Long enough that a write let in between batches lands well before the end on a loaded machine.
    const rows = 40_000;
    const job = await submit(chainFile('skip', rows), 'SKIP');
    await job.seenRunning();
    const answers = (await others(3)).filter((answer) => answer.kind === 'write');
    const done = await job.ended();
    expect(done).toMatchObject({ status: 'SUCCEEDED', processedRows: rows, createdCount: rows, failure: null });
    const end = new Date(done.finishedAt).getTime();
    for (const answer of answers) {
      const line = `skip job: ${answer.name} (${answer.workspace} workspace): HTTP ${answer.status} after ${answer.ms} ms, ${answer.at - end} ms after the import's end`;
      console.log(`[import-contention ${DB}] ${line}`);
      expect(answer, line).toMatchObject({ status: 200, ok: true });
      expect(answer.at, `${line}: answered while the import ran`).toBeLessThan(end);
    }
  }, 90_000);

  it('relate import associations in another process', async () => {
    const file = join(dir, 'chain.csv');
    writeFileSync(file, chainFile('prev'));
    const label = await prisma.associationLabel.findFirstOrThrow({ where: { workspaceId: importing.ws.workspaceId, key: 'prev' } });
    const watch = await watcher(importing.ws.workspaceId, label.id);
    try {
      let exited = false;
      const cli = relate(['import', 'associations', '--workspace', encodeGlobalId('Workspace', importing.ws.workspaceId), file], { DATABASE_URL: t.url }).finally(
        () => (exited = true),
      );
      // In progress: its lock seen held twice, 200 ms apart (not a migration's moment), nothing committed.
      for (let seen = 0; seen < 2; ) {
        seen = (await watch.held()) ? seen + 1 : 0;
        expect(exited, 'the import was not seen holding its lock').toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(await watch.linked()).toBe(0);
      const pending = others(2);
      // The commit, seen from another connection: after the last look that found nothing.
      let committed = Date.now();
      for (;;) {
        const looked = Date.now();
        if ((await watch.linked()) >= ROWS) break;
        expect(exited && (await watch.linked()) < ROWS, 'the import ended without committing').toBe(false);
        committed = looked;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const answers = await pending;
      const result = await cli;
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).summary).toMatchObject({ createdCount: ROWS, written: true });
      check(answers, committed, 'CLI');
    } finally {
      await watch.close();
    }
  }, 90_000);
});

describe('a write behind an import job of its own server', () => {
  it('gives up at the server\'s RELATE_STATEMENT_TIMEOUT (here 1 s) while the job runs: 503, not a wait for the job', async () => {
    const server = await startServer({ DATABASE_URL: t.url, NODE_ENV: 'production', RELATE_STATEMENT_TIMEOUT: '1000' });
    try {
      // Two labels a row: the import must outlast the limit by more than a request can lag behind
      // the job in the server's event loop (with one label it ended 1.9 s after the writes were
      // sent, and a write that reached its wait 0.9 s late got the lock at the commit: 200).
      const job = await submit(chainFile('own;own_too'), 'ABORT', server.url);
      await job.seenRunning();
      const answers = await others(4, server.url);
      const done = await job.ended();
      expect(done).toMatchObject({ status: 'SUCCEEDED', processedRows: ROWS, createdCount: 2 * ROWS, failure: null });
      const end = new Date(done.finishedAt).getTime();
      check(answers, end, 'job, 1 s limit', 1_000);
      // The import outlasted the limit: the writes that waited for it gave up while it ran (SQLite: all of them).
      const waited = answers.filter(waits);
      expect(waited.length).toBeGreaterThan(0);
      for (const answer of waited) expect(answer, `${answer.name} (${answer.workspace} workspace)`).toMatchObject({ status: 503, ok: false });
    } finally {
      await server.stop();
    }
  }, 90_000);
});

/**
 * Looks at the database from a connection of its own, as another client: whether the import's
 * lock is held (SQLite: the write lock, which a second connection cannot take; PostgreSQL: the
 * workspace's advisory lock), and how many links of the label are committed.
 */
async function watcher(workspaceId: number, labelId: number) {
  if (DB === 'sqlite') {
    const db = new Database(sqlitePath(t.url));
    db.pragma('busy_timeout = 0');
    const count = db.prepare(`SELECT COUNT(*) AS n FROM "Association" WHERE "labelId" = ?`);
    return {
      held: async () => {
        try {
          db.exec('BEGIN IMMEDIATE; ROLLBACK');
          return false;
        } catch (error) {
          if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
          return true;
        }
      },
      linked: async () => Number((count.get(labelId) as { n: number }).n),
      close: async () => db.close(),
    };
  }
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  return {
    held: async () =>
      // pg_locks is the whole server's: only this database's lock counts (other test files' databases have workspaces of the same ids).
      (
        await client.query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND classid = 7319 AND objid = $1 AND granted`,
          [workspaceId],
        )
      ).rows.length > 0,
    linked: async () => Number((await client.query(`SELECT COUNT(*) AS n FROM "Association" WHERE "labelId" = $1`, [labelId])).rows[0].n),
    close: () => client.end(),
  };
}
