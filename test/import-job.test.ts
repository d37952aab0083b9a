/**
 * importAssociations over the GraphQL multipart request and importJob (SPEC §5.3): files sent
 * as a client sends them (multipart/form-data over real HTTP), jobs followed to their end —
 * counts, dry runs, ABORT and SKIP with rejected rows listed and paged, idempotence, USER keys,
 * workspace isolation, bad and oversized files — and a job that survives a SIGKILL of its server
 * as FAILED, with counts that match the associations in the database.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prisma } from '../src/db/index.js';
import { useTestApp, type TestWorkspace } from './helpers.js';
import { bulkContacts, createContact, createLabel, updateLimits } from './support/fixtures.js';
import { createUser, contact, setAccess, numericId } from './support/permissions.js';
import { startServer, type RunningServer } from './support/process.js';

const t = useTestApp();
const HEADER = 'firstRecordId,secondRecordId,labelKeys';
const IMPORT = `mutation ($input: ImportAssociationsInput!) {
  importAssociations(input: $input) {
    __typename
    ... on ImportAssociationsSuccess { importJob { id status dryRun onError fileName } }
    ... on Error { code message }
  }
}`;
const JOB = `query ($id: ID!, $first: Int, $after: String) {
  importJob(id: $id) {
    id status dryRun onError totalRows processedRows createdCount existingCount rejectedCount failure createdAt startedAt finishedAt
    errors(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { row column code message } } }
  }
}`;

let http: Server;
let local: string;
beforeAll(async () => {
  http = createServer(t.app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  local = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

interface Upload {
  dryRun?: boolean;
  onError?: 'ABORT' | 'SKIP';
  name?: string;
  /** Another server's base URL. */
  base?: string;
}

/** Sends a file as the GraphQL multipart request specification has it: operations, map, then the file part. */
async function upload(apiKey: string | null, content: string, options: Upload = {}) {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: IMPORT, variables: { input: { file: null, dryRun: options.dryRun, onError: options.onError } } }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new Blob([content], { type: 'text/csv' }), options.name ?? 'links.csv');
  const response = await fetch(`${options.base ?? local}/graphql`, {
    method: 'POST',
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    body: form,
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** Uploads and answers the job (failing unless the mutation succeeded). */
async function submit(apiKey: string, content: string, options: Upload = {}): Promise<string> {
  const { status, body } = await upload(apiKey, content, options);
  expect(status, JSON.stringify(body)).toBe(200);
  expect(body.data.importAssociations.__typename, JSON.stringify(body)).toBe('ImportAssociationsSuccess');
  return body.data.importAssociations.importJob.id;
}

async function readJob(apiKey: string, id: string, page: { first?: number; after?: string } = {}, base = local) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query: JOB, variables: { id, ...page } }),
  });
  const body = (await response.json()) as any;
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data.importJob;
}

/** Polls the job until `done` holds (by default: it has ended). */
async function until(apiKey: string, id: string, done = (job: any) => job.status === 'SUCCEEDED' || job.status === 'FAILED', base = local) {
  const deadline = Date.now() + 50_000;
  for (;;) {
    const job = await readJob(apiKey, id, { first: 100 }, base);
    if (job && done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} did not get there: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const csv = (rows: string[][]) => [HEADER, ...rows.map((row) => row.join(','))].join('\r\n') + '\r\n';
const associationsOf = (labelKey: string) => prisma.association.count({ where: { label: { key: labelKey } } });
const rowsOf = (job: any) => job.errors.edges.map((edge: any) => edge.node);

describe('importAssociations', () => {
  let ws: TestWorkspace;
  let c: string[];
  beforeAll(async () => {
    ws = await t.workspace();
    c = [];
    for (const name of ['Ada', 'Bob', 'Cy', 'Dee', 'Eve', 'Fay']) c.push((await createContact(ws, name)).id);
    await createLabel(ws, { key: 'friend', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
    await createLabel(ws, { key: 'mentor', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Mentor', secondLabel: 'Mentee' });
  });

  it('imports a file as a job: SUCCEEDED with its counts, the links there as linkRecords makes them; the same file again creates nothing', async () => {
    const file = csv([
      [c[0]!, c[1]!, 'friend'],
      [c[1]!, c[2]!, 'friend;mentor'],
    ]);
    const { body } = await upload(ws.apiKey, file, { name: 'friends.csv' });
    const submitted = body.data.importAssociations.importJob;
    expect(submitted).toMatchObject({ dryRun: false, onError: 'ABORT', fileName: 'friends.csv' });
    expect(['QUEUED', 'RUNNING', 'SUCCEEDED']).toContain(submitted.status);

    const job = await until(ws.apiKey, submitted.id);
    expect(job).toMatchObject({
      status: 'SUCCEEDED',
      totalRows: 2,
      processedRows: 2,
      createdCount: 3,
      existingCount: 0,
      rejectedCount: 0,
      failure: null,
      errors: { totalCount: 0, edges: [] },
    });
    expect(new Date(job.finishedAt).getTime()).toBeGreaterThanOrEqual(new Date(job.createdAt).getTime());
    const seen = await ws.gql(`query ($id: ID!) { record(id: $id) { associations(first: 10) { totalCount } } }`, { id: c[1] });
    expect(seen.data.record.associations.totalCount).toBe(3);
    // node(id) finds it too.
    const node = await ws.gql(`query ($id: ID!) { node(id: $id) { __typename ... on ImportJob { status } } }`, { id: job.id });
    expect(node.data.node).toEqual({ __typename: 'ImportJob', status: 'SUCCEEDED' });

    const again = await until(ws.apiKey, await submit(ws.apiKey, file));
    expect(again).toMatchObject({ status: 'SUCCEEDED', processedRows: 2, createdCount: 0, existingCount: 3, rejectedCount: 0 });
    expect(await associationsOf('friend')).toBe(2);
  });

  it('a dry run decides every row and writes nothing', async () => {
    const job = await until(ws.apiKey, await submit(ws.apiKey, csv([[c[3]!, c[4]!, 'friend'], [c[0]!, c[1]!, 'friend']]), { dryRun: true }));
    expect(job).toMatchObject({ status: 'SUCCEEDED', dryRun: true, totalRows: 2, processedRows: 2, createdCount: 1, existingCount: 1, rejectedCount: 0 });
    expect(await associationsOf('friend')).toBe(2);
  });

  const mixed = () =>
    csv([
      [c[3]!, c[4]!, 'friend'],
      [c[3]!, c[4]!, 'nope'],
      [c[4]!, 'Q29udGFjdDo5OTk5OTk=', 'friend'],
      [c[4]!, c[5]!, 'friend'],
      [c[5]!, c[5]!, 'mentor;nope2'],
    ]);

  it('ABORT: a rejected row means nothing is written; every rejected row is listed with its row, column, code and message, page by page', async () => {
    const job = await until(ws.apiKey, await submit(ws.apiKey, mixed()));
    expect(job).toMatchObject({ status: 'FAILED', onError: 'ABORT', totalRows: 5, processedRows: 5, createdCount: 0, existingCount: 0, rejectedCount: 3 });
    expect(job.failure).toMatch(/3 rows were rejected, so nothing was written/);
    expect(job.errors.totalCount).toBe(3);
    expect(rowsOf(job).map((error: any) => error.row)).toEqual([3, 4, 6]);
    for (const error of rowsOf(job)) {
      expect(error.code).toMatch(/^(VALIDATION|NOT_FOUND)$/);
      expect(error.message.length).toBeGreaterThan(5);
    }
    expect(await associationsOf('friend')).toBe(2);

    const first = await readJob(ws.apiKey, job.id, { first: 2 });
    expect(rowsOf(first)).toEqual(rowsOf(job).slice(0, 2));
    expect(first.errors.pageInfo.hasNextPage).toBe(true);
    const rest = await readJob(ws.apiKey, job.id, { first: 2, after: first.errors.pageInfo.endCursor });
    expect(rowsOf(rest)).toEqual(rowsOf(job).slice(2));
    expect(rest.errors.pageInfo.hasNextPage).toBe(false);
  });

  it('SKIP: the good rows are written and the rejected ones listed', async () => {
    const job = await until(ws.apiKey, await submit(ws.apiKey, mixed(), { onError: 'SKIP', name: 'mixed.csv' }));
    expect(job).toMatchObject({ status: 'SUCCEEDED', onError: 'SKIP', totalRows: 5, processedRows: 5, createdCount: 2, existingCount: 0, rejectedCount: 3, failure: null });
    expect(rowsOf(job).map((error: any) => error.row)).toEqual([3, 4, 6]);
    expect(await associationsOf('friend')).toBe(4);
  });

  it('a bad file ends the job FAILED with the reason; an empty file, or a value instead of a file, is a typed error and no job', async () => {
    const wrongHeader = await until(ws.apiKey, await submit(ws.apiKey, 'first,second,labels\r\na,b,c\r\n'));
    expect(wrongHeader.status).toBe('FAILED');
    expect(wrongHeader.failure).toMatch(/Unknown column "first"/);
    expect(wrongHeader.failure).toMatch(/Nothing was written/);

    const ragged = await until(ws.apiKey, await submit(ws.apiKey, `${HEADER}\n${c[0]},${c[1]},friend,extra\n`, { onError: 'SKIP' }));
    expect(ragged).toMatchObject({ status: 'FAILED', createdCount: 0 });

    const jobs = await prisma.importJob.count();
    const empty = await upload(ws.apiKey, '');
    expect(empty.body.data.importAssociations).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION' });
    const notAFile = await ws.gql(IMPORT, { input: { file: 'links.csv' } });
    expect(notAFile.errors?.[0]?.message).toMatch(/Upload takes a file part of a multipart request/);
    expect(await prisma.importJob.count()).toBe(jobs);
  });

  it('uploads larger than the ordinary 1 MiB body limit are received; without a valid key they are not', async () => {
    const rows = Array.from({ length: 32_000 }, () => [c[0]!, c[1]!, 'friend']);
    const big = csv(rows);
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const job = await until(ws.apiKey, await submit(ws.apiKey, big, { dryRun: true }));
    expect(job).toMatchObject({ status: 'SUCCEEDED', totalRows: 32_000, processedRows: 32_000, rejectedCount: 0 });
    expect(job.createdCount + job.existingCount).toBe(32_000);

    const anonymous = await upload(null, big);
    expect(anonymous.status).toBe(413);
    expect(anonymous.body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    const wrongKey = await upload('rel_wrong', big);
    expect(wrongKey.status).toBe(413);
  });

  it('an upload is held to RELATE_IMPORT_UPLOAD_MAX_BYTES (64 MiB by default) alone: a 30 MB file is received', async () => {
    // A file the job refuses at its header, so that receiving it is all this costs: a limit of
    // the HTTP layer below the upload limit (graphql-yoga's is 25 MB) would answer 413 instead.
    const large = `first,second,labels\r\n${'a,b,c\r\n'.repeat(4_300_000)}`;
    expect(large.length).toBeGreaterThan(30_000_000);
    const job = await until(ws.apiKey, await submit(ws.apiKey, large, { name: 'large.csv' }));
    expect(job).toMatchObject({ status: 'FAILED', createdCount: 0 });
    expect(job.failure).toMatch(/Unknown column "first"/);
  });

  it('a file over RELATE_IMPORT_UPLOAD_MAX_BYTES is a typed error and no job: larger files go through relate import', async () => {
    const jobs = await prisma.importJob.count();
    const content = csv([[c[0]!, c[1]!, 'friend']]);
    process.env.RELATE_IMPORT_UPLOAD_MAX_BYTES = String(content.length - 1);
    try {
      const over = await upload(ws.apiKey, content);
      expect(over.body.data.importAssociations).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION' });
      expect(over.body.data.importAssociations.message).toMatch(/RELATE_IMPORT_UPLOAD_MAX_BYTES/);
    } finally {
      delete process.env.RELATE_IMPORT_UPLOAD_MAX_BYTES;
    }
    expect(await prisma.importJob.count()).toBe(jobs);
  });

  it('USER keys import only what they could link, and read only their own jobs; admins read every job of the workspace', async () => {
    const admin = ws.gql;
    const member = await createUser(t, admin, 'USER', 'Member');
    const other = await createUser(t, admin, 'USER', 'Other');
    await setAccess(admin, member.id, 'contact', 'ASSIGNED');
    const mine1 = await contact(admin, 'Mine One', member.id);
    const mine2 = await contact(admin, 'Mine Two', member.id);
    const theirs = await contact(admin, 'Theirs', null);
    const id = await submit(member.apiKey, csv([[mine1, mine2, 'friend'], [mine1, theirs, 'friend']]), { onError: 'SKIP' });
    const job = await until(member.apiKey, id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', createdCount: 1, rejectedCount: 1 });
    expect(rowsOf(job)).toEqual([expect.objectContaining({ row: 3, code: 'NOT_FOUND' })]);
    expect(await prisma.association.count({ where: { firstRecordId: { in: [numericId(mine1), numericId(theirs)] }, secondRecordId: numericId(theirs) } })).toBe(0);

    expect((await readJob(ws.apiKey, id)).status).toBe('SUCCEEDED');
    expect(await readJob(other.apiKey, id)).toBeNull();
    const adminJob = await submit(ws.apiKey, csv([[c[0]!, c[1]!, 'friend']]), { dryRun: true });
    await until(ws.apiKey, adminJob);
    expect(await readJob(member.apiKey, adminJob)).toBeNull();
  });

  it("another workspace's job id answers exactly like a missing one", async () => {
    const id = await submit(ws.apiKey, csv([[c[0]!, c[1]!, 'friend']]), { dryRun: true });
    await until(ws.apiKey, id);
    const away = await t.workspace();
    const missing = Buffer.from('ImportJob:999999').toString('base64');
    for (const probe of [id, missing]) {
      expect(await readJob(away.apiKey, probe)).toBeNull();
      const node = await away.gql(`query ($id: ID!) { node(id: $id) { id } }`, { id: probe });
      expect(node).toMatchObject({ status: 200, data: { node: null } });
      expect(node.errors).toBeUndefined();
    }
  });
});

describe('an import job survives its server', () => {
  const running: RunningServer[] = [];
  afterAll(async () => {
    for (const server of running) if (server.child.exitCode === null && server.child.signalCode === null) await server.stop('SIGKILL');
  });
  const start = async (extra: Record<string, string> = {}) => {
    const server = await startServer({ DATABASE_URL: t.url, NODE_ENV: 'development', RELATE_RATE_LIMIT: '0', RELATE_IMPORT_LEASE_SECONDS: '1', ...extra });
    running.push(server);
    return server;
  };

  it('a SIGKILL mid-import ends the job FAILED after a restart, with the counts of what it wrote (SKIP: the committed batches; ABORT: nothing)', async () => {
    const ws = await t.workspace();
    await updateLimits(ws, { maxRecordsPerLabel: 1_000_000 });
    const people = await bulkContacts(ws, 20_001);
    await createLabel(ws, { key: 'next', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Before', secondLabel: 'After' });
    await createLabel(ws, { key: 'prev', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'After', secondLabel: 'Before' });
    const chain = (label: string) => csv(people.slice(1).map((id, i) => [people[i]!, id, label]));

    for (const [label, onError] of [['next', 'SKIP'], ['prev', 'ABORT']] as const) {
      const server = await start();
      const base = server.url;
      const id = await submit(ws.apiKey, chain(label), { onError, base });
      // Running, with rows decided (in ABORT mode only the server running it knows how many).
      await until(ws.apiKey, id, (job) => job.status === 'RUNNING' && job.processedRows >= 1000, base);
      await server.stop('SIGKILL');

      const restarted = await start();
      const job = await until(ws.apiKey, id, undefined, restarted.url);
      const written = await associationsOf(label);
      expect(job.status).toBe('FAILED');
      expect(job.failure).toMatch(/The server running the import stopped/);
      expect(job.createdCount).toBe(written);
      expect(job.processedRows).toBeLessThan(20_000);
      if (onError === 'SKIP') {
        expect(written).toBeGreaterThanOrEqual(1000);
        expect(written % 1000).toBe(0);
        expect(job.processedRows).toBe(written);
        expect(job.failure).toMatch(new RegExp(`${written} associations created`));
      } else {
        expect(written).toBe(0);
        expect(job.failure).toMatch(/Nothing was written: the import ran in one transaction/);
      }
      await restarted.stop('SIGTERM');
    }
  }, 180_000);
});
