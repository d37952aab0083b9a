/**
 * `npm run bench`: seeds data with `relate seed --scale`, starts the real server (one process,
 * production mode) and drives it over HTTP with autocannon at a fixed concurrency.
 * Reports requests/s, p50/p99 latency and SQL statements per request for Q1–Q3, M1 and the limit
 * usage reads L1–L2 (as the admin and as a restricted user), the bare-driver baseline for Q2, and
 * Q1–Q5 and L1–L2 at N and 10·N (Q4–Q5, graph exploration, only there), and the change feed at N
 * (webhooks, subscriptions and their cost to the write path: bench/feed.ts). Runs on SQLite, and on PostgreSQL when
 * BENCH_DATABASE_URL or TEST_DATABASE_URL is set.
 * Writes docs/benchmarks.md (keeping its import and export section, which `--import` measures).
 *
 * With `--import`, runs only the import and export section (bench/import.ts) at each size of
 * `--import-rows` (rows of the imported file, comma-separated) and adds or replaces that section in
 * the report, leaving the rest of it as it is. With `--feed`, likewise for the change feed's
 * section alone (bench/feed.ts), on a server at N that has run nothing before it. With `--explore`,
 * only Q4 and Q5 at N and 10·N (both seeded and warmed up as in the full run) and replaces only
 * those rows of each database's scale-flatness table, with a note saying so.
 *
 *   npm run bench -- [--n 50000] [--factor 10] [--duration 10] [--connections 16] [--only sqlite|postgresql] [--out FILE]
 *   npm run bench -- --import [--import-rows 100000,1000000] [--only sqlite|postgresql] [--out FILE]
 *   npm run bench -- --feed [--n 50000] [--duration 10] [--connections 16] [--feed-rounds 3] [--only sqlite|postgresql] [--out FILE]
 *   npm run bench -- --explore [--n 50000] [--factor 10] [--duration 10] [--connections 16] [--only sqlite|postgresql] [--out FILE]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { benchFeed, FEED_HEADING, feedSection, localPostgresPid, type FeedReport } from './feed.js';
import { benchImport, buildCli, existingSection, IMPORT_HEADING, importSection, replaceSection, type ImportReport } from './import.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: process.env.BENCH_N ?? '50000' },
    factor: { type: 'string', default: '10' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    only: { type: 'string' },
    workers: { type: 'string', default: 'auto' },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    import: { type: 'boolean', default: false },
    feed: { type: 'boolean', default: false },
    'feed-rounds': { type: 'string', default: '3' },
    explore: { type: 'boolean', default: false },
    'import-rows': { type: 'string', default: '100000,1000000' },
  },
});
const N = Number(values.n);
const FACTOR = Number(values.factor);
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const FEED_ROUNDS = Number(values['feed-rounds']);
if (!Number.isInteger(FEED_ROUNDS) || FEED_ROUNDS < 1) throw new Error(`--feed-rounds must be a whole number from 1; got "${values['feed-rounds']}"`);
const WORKERS = values.workers!;
const postgresServer = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

interface Seeded {
  workspaceId: string;
  adminApiKey: string;
  userApiKey: string;
  associations: number;
  hubContactId: string;
  typicalContactId: string;
  userContactId: string;
  quietContactIds: [string, string];
}

function spawnChild(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function finish(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    if (process.stderr.isTTY) process.stderr.write(chunk);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Waits for a `"url":"http://localhost:PORT/graphql"` line on the child's stderr. */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stderr!.on('data', (chunk) => {
      seen += chunk;
      const match = /"url":"(http:\/\/localhost:\d+\/graphql)"/.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.on('close', (code) => reject(new Error(`exited with ${code}: ${seen}`)));
  });
}

async function createDatabase(kind: 'sqlite' | 'postgresql') {
  const name = `relate_bench_${randomBytes(4).toString('hex')}`;
  if (kind === 'sqlite') {
    const file = join(tmpdir(), `${name}.db`);
    return { url: `file:${file}`, drop: async () => ['', '-wal', '-shm'].forEach((s) => rmSync(file + s, { force: true })) };
  }
  const admin = new pg.Client({ connectionString: postgresServer });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(postgresServer!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: postgresServer });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

const Q1 = `query Q1($id: ID!) { record(id: $id) { displayName associationGroups { relatedRole totalCount relatedObject { key }
  records(first: 10) { edges { node { id displayName properties } } } } } }`;
const Q2 = `query Q2 { records(objectKey: "contact", first: 50) { edges { node { displayName
  associations(first: 10) { edges { relatedRole relatedRecord { displayName object { key } } } } } } } }`;
const Q3 = `query Q3($id: ID!) { record(id: $id) { displayName associations(first: 10) { edges { relatedRole relatedRecord {
  displayName associations(first: 10) { edges { relatedRole relatedRecord { displayName } } } } } } } }`;
const L1 = `query L1 { viewer { workspace { limitUsage(first: 20) { limit max current percent
  label { key } firstObject { key } secondObject { key } record { displayName } } } } }`;
const L2 = `query L2 { records(objectKey: "contact", first: 50) { edges { node { displayName
  limitUsage { limit max current percent label { key } } } } } }`;
const Q4 = `query Q4($id: ID!) { record(id: $id) { neighborhood(depth: 2, limit: 200) { truncated
  nodes { distance record { id displayName object { key } } } edges { id label { key } firstRecord { id } secondRecord { id } } } } }`;
const Q5 = `query Q5($from: ID!, $to: ID!) { path(from: $from, to: $to, maxHops: 6) { length
  records { id displayName object { key } } associations { id label { key } } } }`;
const LINK = `mutation M1link($a: ID!, $b: ID!) { linkRecords(input: { firstRecordId: $a, secondRecordId: $b, labelKeys: ["colleague"] }) {
  __typename ... on Error { code message } } }`;
const UNLINK = `mutation M1unlink($a: ID!, $b: ID!) { unlinkRecords(input: { firstRecordId: $a, secondRecordId: $b, labelKeys: ["colleague"] }) {
  __typename ... on Error { code message } } }`;

interface Measured {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  /** Mean latency (ms, fractional): the scale-flatness ratio uses it, p50 being whole ms. */
  mean: number;
  statements: number | null;
}

async function once(url: string, apiKey: string, query: string, variables: object) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { errors?: unknown; data?: Record<string, { __typename?: string }>; extensions?: { sqlStatements?: number } };
  const typename = body.data && Object.values(body.data)[0]?.__typename;
  if (body.errors || (typename && !typename.endsWith('Success'))) throw new Error(`request failed: ${JSON.stringify(body)}`);
  return body;
}

async function load(url: string, requests: { body: string }[], apiKey: string, duration = DURATION) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    requests: requests.map((request) => ({ method: 'POST', headers, body: request.body })),
  });
  if (result.errors || result.non2xx) throw new Error(`load run had ${result.errors} errors and ${result.non2xx} non-2xx`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.mean };
}

async function measure(name: string, url: string, apiKey: string, operations: { query: string; variables: object }[]): Promise<Measured> {
  const requests = operations.map((operation) => ({ body: JSON.stringify(operation) }));
  await load(url, requests, apiKey, 2); // warm-up
  // Statements in steady state (after the warm-up has filled each worker's metadata cache).
  let statements = 0;
  for (const operation of operations) statements += (await once(url, apiKey, operation.query, operation.variables)).extensions?.sqlStatements ?? 0;
  const result = await load(url, requests, apiKey);
  log(`${name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ${statements / operations.length} statements`);
  return { name, ...result, statements: statements / operations.length };
}

/**
 * Labels' own limits per direction, so that the limit usage reads have per-record limits to
 * rank: a company has at most 500 decision makers, a contact is the decision maker of at most
 * 500 companies, and a contact is the buyer in at most 500 deals (the seed's hubs reach 500).
 */
async function shapeLimits(url: string, apiKey: string) {
  const limits: [string, Record<string, number>][] = [
    ['decision_maker', { maxFirstPerSecond: 500, maxSecondPerFirst: 500 }],
    ['buyer', { maxFirstPerSecond: 500 }],
  ];
  for (const [key, values] of limits) {
    const { data } = await once(url, apiKey, 'query ($key: String) { associationLabel(key: $key) { id } }', { key });
    const id = (data as unknown as { associationLabel: { id: string } }).associationLabel.id;
    await once(
      url,
      apiKey,
      'mutation ($input: UpdateAssociationLabelInput!) { updateAssociationLabel(input: $input) { __typename ... on Error { code message } } }',
      { input: { id, ...values } },
    );
  }
}

/** What the exploration reads (Q4, Q5) start from, found through the API on each data set. */
interface Targets {
  /** A contact exactly 3 hops from the typical contact, with no more links than it. */
  threeHopsId: string;
  /** A contact exactly 4 hops from it, with no more links than it. */
  fourHopsId: string;
  /** A contact with no links: no path within 6 hops. */
  isolatedContactId: string;
}

/**
 * The path reads' ends. Q5 compares the same distance at N and 10·N (the first contact 3 or more
 * hops away, in id order, was 3 hops away at N and 4 at 10·N), and between contacts as linked as
 * the typical one, not hubs: most contacts are 4 or 5 hops from it, and those 3 hops away are
 * mostly hubs. Candidates come from the typical contact's neighbourhood (its nodes 3 hops out,
 * then their neighbours), in its order; a neighbourhood reads a record's first links only, so
 * each candidate's distance is checked with path, which is exact.
 */
async function explorationTargets(url: string, seeded: Seeded): Promise<Targets> {
  const ask = async <T>(query: string, variables: object) => (await once(url, seeded.adminApiKey, query, variables)).data as unknown as T;
  type Node = { distance: number; record: { id: string; object: { key: string } } };
  const around = async (id: string, depth: number) =>
    (
      await ask<{ record: { neighborhood: { nodes: Node[] } } }>(
        'query ($id: ID!, $depth: Int) { record(id: $id) { neighborhood(depth: $depth, limit: 1000) { nodes { distance record { id object { key } } } } } }',
        { id, depth },
      )
    ).record.neighborhood.nodes.filter((node) => node.distance === depth);
  const links = async (id: string) =>
    (await ask<{ record: { associations: { totalCount: number } } }>('query ($id: ID!) { record(id: $id) { associations(first: 1) { totalCount } } }', { id }))
      .record.associations.totalCount;
  const hops = async (id: string) =>
    (
      await ask<{ path: { length: number } | null }>('query ($from: ID!, $to: ID!) { path(from: $from, to: $to, maxHops: 4) { length } }', {
        from: seeded.typicalContactId,
        to: id,
      })
    ).path?.length;
  const most = await links(seeded.typicalContactId);
  const fits = async (node: Node, distance: number) =>
    node.record.object.key === 'contact' && (await links(node.record.id)) <= most && (await hops(node.record.id)) === distance;
  const far = await around(seeded.typicalContactId, 3);
  let three: string | undefined;
  let four: string | undefined;
  for (const node of far) {
    if (!three && (await fits(node, 3))) three = node.record.id;
    if (four || (await hops(node.record.id)) !== 3) continue;
    for (const next of await around(node.record.id, 1)) {
      if (await fits(next, 4)) {
        four = next.record.id;
        break;
      }
    }
    if (three && four) break;
  }
  let isolated: string | undefined;
  for (let after: string | null = null; !isolated; ) {
    type Page = { records: { pageInfo: { endCursor: string; hasNextPage: boolean }; edges: { node: { id: string; associations: { totalCount: number } } }[] } };
    const { records }: Page = await ask<Page>(
      `query ($after: String) { records(objectKey: "contact", first: 100, after: $after) {
        pageInfo { endCursor hasNextPage } edges { node { id associations(first: 1) { totalCount } } } } }`,
      { after },
    );
    isolated = records.edges.find(({ node }) => node.associations.totalCount === 0)?.node.id;
    if (!records.pageInfo.hasNextPage) break;
    after = records.pageInfo.endCursor;
  }
  if (!three || !four || !isolated) throw new Error('no contact exactly 3 or 4 hops from the typical one and as linked as it, or none without links');
  log(`Q5 ends: typical contact ${seeded.typicalContactId}, 3 hops ${three}, 4 hops ${four}, no links ${isolated}`);
  return { threeHopsId: three, fourHopsId: four, isolatedContactId: isolated };
}

/** The exploration operations, on one data set. */
function explorations(seeded: Seeded, targets: Targets): [string, { query: string; variables: object }][] {
  const from = seeded.typicalContactId;
  return [
    ['Q4 neighbourhood, depth 2, typical contact', { query: Q4, variables: { id: seeded.typicalContactId } }],
    ['Q4 neighbourhood, depth 2, busiest contact', { query: Q4, variables: { id: seeded.hubContactId } }],
    ['Q5 path, 3 hops', { query: Q5, variables: { from, to: targets.threeHopsId } }],
    ['Q5 path, 4 hops', { query: Q5, variables: { from, to: targets.fourHopsId } }],
    ['Q5 path, none within 6', { query: Q5, variables: { from, to: targets.isolatedContactId } }],
  ];
}

/**
 * A fresh server compiles its hot paths, opens its pool connections and prepares and plans its
 * statements on each of them during its first thousands of requests: it is driven with every
 * read operation first, so that what is measured is the steady state.
 */
async function warmUp(url: string, seeded: Seeded, targets: Targets) {
  const operations = [
    { query: Q1, variables: { id: seeded.hubContactId } },
    { query: Q2, variables: {} },
    { query: Q3, variables: { id: seeded.hubContactId } },
    { query: L2, variables: {} },
  ];
  const asAdmin = [...operations, { query: L1, variables: {} }, ...explorations(seeded, targets).map(([, operation]) => operation)];
  for (const [apiKey, ops] of [[seeded.adminApiKey, asAdmin], [seeded.userApiKey, operations]] as const) {
    await load(url, ops.map((operation) => ({ body: JSON.stringify(operation) })), apiKey, 4);
  }
}

async function runServer(url: string) {
  const child = spawnChild(['--import', 'tsx', 'src/server.ts'], {
    DATABASE_URL: url,
    PORT: '0',
    NODE_ENV: 'production',
    RELATE_REPORT_STATEMENTS: 'true',
    RELATE_WORKERS: WORKERS,
    // Measures throughput: the per-key rate limit (6000/min by default) would cap it, so it is
    // set too high to refuse anything; the limiter still counts every request, so its cost is in
    // the figures.
    RELATE_RATE_LIMIT: String(Number.MAX_SAFE_INTEGER),
    // The change feed's webhooks go to a receiver in this process, on the loopback address, which
    // holds some unanswered for a while (bench/feed.ts).
    RELATE_WEBHOOK_ALLOW_PRIVATE: 'true',
    RELATE_WEBHOOK_TIMEOUT: '120',
    LOG_LEVEL: 'info',
  });
  const endpoint = await listening(child);
  return { endpoint, pid: child.pid!, stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.on('close', r)); } };
}

async function seed(url: string, n: number): Promise<Seeded> {
  const started = Date.now();
  const { code, stdout, stderr } = await finish(spawnChild(['bin/relate.js', 'seed', '--scale', String(n)], { DATABASE_URL: url }));
  if (code !== 0) throw new Error(`seed failed: ${stderr}`);
  log(`seeded N=${n} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return JSON.parse(stdout) as Seeded;
}

/** One operation at N and at FACTOR·N, measured back to back. */
interface Flat {
  name: string;
  atN: Measured;
  at10N: Measured;
}

interface DatabaseReport {
  kind: string;
  seeded: Seeded;
  seedSeconds: number;
  bigSeedSeconds: number;
  results: Measured[];
  baseline: Measured;
  flat: Flat[];
  feed: FeedReport;
}

/** The baseline must give Relate's answer, or the ratio compares different work. */
async function sameAnswer(relateUrl: string, apiKey: string, baselineUrl: string) {
  const relate = await once(relateUrl, apiKey, Q2, {});
  const baseline = (await (await fetch(baselineUrl, { method: 'POST', body: '{}' })).json()) as { data: unknown };
  if (!isDeepStrictEqual(relate.data, baseline.data)) throw new Error('the baseline answers Q2 differently from Relate');
  log('baseline answers Q2 exactly as Relate does');
}

/** An operation measured at both sizes: its name, and its request on one data set. */
type Operation = [string, (s: Seeded, targets: Targets) => { query: string; variables: object }];

/** The exploration operations (Q4, Q5) as operations on either data set. */
const explorationOperations = (): Operation[] =>
  explorations({} as Seeded, {} as Targets).map(([name], index) => [name, (s, t) => explorations(s, t)[index]![1]]);

/** A server up, warmed up, on one seeded data set. */
interface Running {
  endpoint: string;
  seeded: Seeded;
  targets: Targets;
}

/**
 * Scale flatness: both sizes stay up, and each operation is measured at N and at 10·N back to
 * back, so the two runs share the machine's conditions.
 */
async function backToBack(ops: Operation[], small: Running, big: Running): Promise<Flat[]> {
  const flat: Flat[] = [];
  for (const [name, operation] of ops) {
    const atN = await measure(`${name} at N`, small.endpoint, small.seeded.adminApiKey, [operation(small.seeded, small.targets)]);
    const at10N = await measure(`${name} at ${FACTOR}·N`, big.endpoint, big.seeded.adminApiKey, [operation(big.seeded, big.targets)]);
    flat.push({ name, atN, at10N });
  }
  return flat;
}

async function benchDatabase(kind: 'sqlite' | 'postgresql'): Promise<DatabaseReport> {
  log(`── ${kind}: N = ${N}`);
  const databases = [await createDatabase(kind)];
  const servers: { stop: () => Promise<void> }[] = [];
  try {
    const db = databases[0]!;
    let started = Date.now();
    const seeded = await seed(db.url, N);
    const seedSeconds = (Date.now() - started) / 1000;
    const server = await runServer(db.url);
    servers.push(server);
    await shapeLimits(server.endpoint, seeded.adminApiKey);
    const targets = await explorationTargets(server.endpoint, seeded);
    await warmUp(server.endpoint, seeded, targets);
    const admin = seeded.adminApiKey;
    const user = seeded.userApiKey;
    const q1 = { query: Q1, variables: { id: seeded.hubContactId } };
    const q2 = { query: Q2, variables: {} };
    const q3 = { query: Q3, variables: { id: seeded.hubContactId } };
    const results: Measured[] = [];
    results.push(await measure('Q1 record page', server.endpoint, admin, [q1]));
    results.push(await measure('Q2 list page', server.endpoint, admin, [q2]));
    results.push(await measure('Q3 two hops', server.endpoint, admin, [q3]));
    results.push(await measure('L1 workspace limit usage', server.endpoint, admin, [{ query: L1, variables: {} }]));
    results.push(await measure('L2 list page limit usage', server.endpoint, admin, [{ query: L2, variables: {} }]));
    const pair = { a: seeded.quietContactIds[0], b: seeded.quietContactIds[1] };
    results.push(await measure('M1 link + unlink', server.endpoint, admin, [
      { query: LINK, variables: pair },
      { query: UNLINK, variables: pair },
    ]));
    const owned = seeded.userContactId;
    results.push(await measure('Q1 record page (restricted user)', server.endpoint, user, [{ query: Q1, variables: { id: owned } }]));
    results.push(await measure('Q2 list page (restricted user)', server.endpoint, user, [q2]));
    results.push(await measure('Q3 two hops (restricted user)', server.endpoint, user, [{ query: Q3, variables: { id: owned } }]));
    results.push(await measure('L2 list page limit usage (restricted user)', server.endpoint, user, [{ query: L2, variables: {} }]));

    const workspaceId = Number(Buffer.from(seeded.workspaceId, 'base64').toString().split(':')[1]);
    const base = spawnChild(['--import', 'tsx', 'bench/baseline.ts'], {
      DATABASE_URL: db.url,
      BENCH_WORKSPACE_ID: String(workspaceId),
      RELATE_WORKERS: WORKERS,
    });
    let baseline: Measured;
    try {
      const baseUrl = await listening(base);
      await sameAnswer(server.endpoint, admin, baseUrl);
      await load(baseUrl, [{ body: '{}' }], 'none', 2);
      const result = await load(baseUrl, [{ body: '{}' }], 'none');
      baseline = { name: 'Q2 bare driver (one SQL query)', ...result, statements: 1 };
      log(`baseline: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms`);
    } finally {
      base.kill('SIGTERM');
    }

    // Scale flatness (backToBack).
    const flat: DatabaseReport['flat'] = [];
    let bigSeedSeconds = 0;
    if (FACTOR > 1) {
      const big = await createDatabase(kind);
      databases.push(big);
      started = Date.now();
      const bigSeeded = await seed(big.url, N * FACTOR);
      bigSeedSeconds = (Date.now() - started) / 1000;
      const server10 = await runServer(big.url);
      servers.push(server10);
      await shapeLimits(server10.endpoint, bigSeeded.adminApiKey);
      const bigTargets = await explorationTargets(server10.endpoint, bigSeeded);
      await warmUp(server10.endpoint, bigSeeded, bigTargets);
      const ofHub = (s: Seeded) => ({ id: s.hubContactId });
      const none = () => ({});
      const ops: Operation[] = [
        ['Q1 record page', (s) => ({ query: Q1, variables: ofHub(s) })],
        ['Q2 list page', () => ({ query: Q2, variables: none() })],
        ['Q3 two hops', (s) => ({ query: Q3, variables: ofHub(s) })],
        ['L1 workspace limit usage', () => ({ query: L1, variables: none() })],
        ['L2 list page limit usage', () => ({ query: L2, variables: none() })],
        ...explorationOperations(),
      ];
      flat.push(...(await backToBack(ops, { endpoint: server.endpoint, seeded, targets }, { endpoint: server10.endpoint, seeded: bigSeeded, targets: bigTargets })));
    }
    // Last, so that nothing it leaves (its contacts, events and webhook deliveries) is in the figures above.
    const feed = await benchFeed({
      url: server.endpoint,
      adminApiKey: admin,
      quietContactIds: seeded.quietContactIds,
      measureM1: (name) => measure(name, server.endpoint, admin, [{ query: LINK, variables: pair }, { query: UNLINK, variables: pair }]),
      connections: CONNECTIONS,
      duration: DURATION,
      rounds: FEED_ROUNDS,
      log,
    });
    return { kind, seeded, seedSeconds, bigSeedSeconds, results, baseline, flat, feed };
  } finally {
    for (const server of servers) await server.stop();
    for (const db of databases) await db.drop();
  }
}

/** The exploration operations in the report's list of operations (`--explore` replaces these lines too). */
const EXPLORATION_ITEMS = [
  '- **Q4 neighbourhood**: `neighborhood(depth: 2, limit: 200)` with each node\'s record (id, name, object) and each edge\'s label and records (what the explorer page draws), of a typical contact and of the busiest one.',
  `- **Q5 path**: \`path(maxHops: 6)\` with its records and associations, from the typical contact to a contact exactly 3 hops away and to one exactly 4 hops away, each with no more links than the typical contact (found through the API when the data is seeded, so that each row compares the same distance at N and ${FACTOR}·N), and to a contact with no links (no path within 6).`,
];

const flatHeader = () => [
  `| operation | req/s at N | req/s at ${FACTOR}·N | p50 / p99 at N (ms) | p50 / p99 at ${FACTOR}·N (ms) | mean at N (ms) | mean at ${FACTOR}·N (ms) | statements at N / ${FACTOR}·N | ratio |`,
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];

const flatRow = (f: Flat) =>
  `| ${f.name} | ${f.atN.rps.toFixed(0)} | ${f.at10N.rps.toFixed(0)} | ${f.atN.p50} / ${f.atN.p99} | ${f.at10N.p50} / ${f.at10N.p99} | ` +
  `${f.atN.mean.toFixed(1)} | ${f.at10N.mean.toFixed(1)} | ${f.atN.statements} / ${f.at10N.statements} | ${(f.at10N.mean / f.atN.mean).toFixed(2)} |`;

function report(reports: DatabaseReport[]): string {
  const lines = [
    '# Benchmarks',
    '',
    `Produced by \`npm run bench -- --n ${N} --factor ${FACTOR} --duration ${DURATION} --connections ${CONNECTIONS} --workers ${WORKERS}\`` +
      ` on ${new Date().toISOString().slice(0, 10)}, on a machine with ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}),` +
      ` Node ${process.version}. The server runs in production mode with \`RELATE_WORKERS=${WORKERS}\` (the baseline with as many processes); autocannon drives it over HTTP with` +
      ` ${CONNECTIONS} connections for ${DURATION} s per operation after a 2 s warm-up, on the same machine. Each server is first` +
      ' driven with all read operations for 8 s (compiling, connecting and planning), so that what is measured is its steady state.',
    '',
    '- **Q1 record page**: the busiest contact, its `associationGroups` with the first 10 records of each group and their properties (name, email, phone).',
    '- **Q2 list page**: 50 contacts, each with `associations(first: 10)` → `relatedRecord { displayName object { key } }` and `relatedRole`.',
    '- **Q3 two hops**: the busiest contact → 10 related records → 10 of their related records each.',
    '- **M1**: `linkRecords` then `unlinkRecords` of the same pair (each request counted).',
    '- **L1 workspace limit usage**: `Workspace.limitUsage(first: 20)` with each entry\'s label, objects and record, with per-label limits set on `decision_maker` (both directions) and `buyer` (500 each).',
    '- **L2 list page limit usage**: 50 contacts, each with `limitUsage` (its contact associations and its labels\' own limits).',
    ...EXPLORATION_ITEMS,
    '- **restricted user**: a USER with ASSIGNED access to contacts (owns every tenth) and NONE to deals.',
    '- **SQL statements** per request include the one that authenticates the key, measured after the warm-up (objects and labels are then cached per worker until a schema change).',
    '- **Change feed**: webhooks, subscriptions and what they cost the write path, at N (its own section below).',
    '',
  ];
  for (const r of reports) {
    const q2 = r.results.find((result) => result.name === 'Q2 list page')!;
    lines.push(
      `## ${r.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`,
      '',
      `N = ${N.toLocaleString('en')} contacts, ${r.seeded.associations.toLocaleString('en')} associations (seeded in ${r.seedSeconds.toFixed(0)} s).`,
      '',
      '| operation | requests/s | p50 ms | p99 ms | SQL statements / request |',
      '|---|---:|---:|---:|---:|',
      ...[...r.results, r.baseline].map(
        (m) => `| ${m.name} | ${m.rps.toFixed(0)} | ${m.p50} | ${m.p99} | ${m.statements ?? '–'} |`,
      ),
      '',
      `Q2 throughput: **${((q2.rps / r.baseline.rps) * 100).toFixed(0)}%** of the bare-driver baseline.`,
      '',
    );
    if (r.flat.length) {
      lines.push(
        `Scale flatness: latency at N = ${N.toLocaleString('en')} and ${FACTOR}·N = ${(N * FACTOR).toLocaleString('en')} ` +
          `(${FACTOR}·N seeded in ${r.bigSeedSeconds.toFixed(0)} s), measured back to back with both servers up. ` +
          'The ratio is of mean latencies (p50 is reported in whole milliseconds).',
        '',
        ...flatHeader(),
        ...r.flat.map(flatRow),
        '',
      );
    }
  }
  lines.push(...feedSection(reports.map((r) => ({ name: r.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL', feed: r.feed }))));
  return lines.join('\n');
}

/** The change feed's section alone: a server at N, warmed up, then bench/feed.ts. */
async function benchFeedAlone(kind: 'sqlite' | 'postgresql'): Promise<FeedReport> {
  log(`── ${kind}: change feed at N = ${N}`);
  const db = await createDatabase(kind);
  let server: Awaited<ReturnType<typeof runServer>> | undefined;
  try {
    const seeded = await seed(db.url, N);
    server = await runServer(db.url);
    const { endpoint } = server;
    const admin = seeded.adminApiKey;
    await shapeLimits(endpoint, admin);
    await warmUp(endpoint, seeded, await explorationTargets(endpoint, seeded));
    const pair = { a: seeded.quietContactIds[0], b: seeded.quietContactIds[1] };
    return await benchFeed({
      url: endpoint,
      adminApiKey: admin,
      quietContactIds: seeded.quietContactIds,
      measureM1: (name) => measure(name, endpoint, admin, [{ query: LINK, variables: pair }, { query: UNLINK, variables: pair }]),
      connections: CONNECTIONS,
      duration: DURATION,
      rounds: FEED_ROUNDS,
      serverPid: server.pid,
      ...(kind === 'postgresql' && ['127.0.0.1', 'localhost'].includes(new URL(db.url).hostname) ? { databasePid: localPostgresPid() } : {}),
      log,
    });
  } finally {
    await server?.stop();
    await db.drop();
  }
}

interface ExploreReport {
  name: string;
  bigSeedSeconds: number;
  flat: Flat[];
}

/**
 * Q4 and Q5 alone at N and FACTOR·N: both sizes seeded, both servers up and warmed up with every
 * read operation as in the full run, then each exploration row measured back to back.
 */
async function benchExploreAlone(kind: 'sqlite' | 'postgresql'): Promise<ExploreReport> {
  log(`── ${kind}: exploration at N = ${N} and ${FACTOR}·N`);
  const databases: Awaited<ReturnType<typeof createDatabase>>[] = [];
  const servers: Awaited<ReturnType<typeof runServer>>[] = [];
  try {
    const sets: { url: string; seeded: Seeded; seconds: number }[] = [];
    for (const n of [N, N * FACTOR]) {
      const db = await createDatabase(kind);
      databases.push(db);
      const started = Date.now();
      const seeded = await seed(db.url, n);
      sets.push({ url: db.url, seeded, seconds: (Date.now() - started) / 1000 });
    }
    const running: Running[] = [];
    for (const set of sets) {
      const server = await runServer(set.url);
      servers.push(server);
      await shapeLimits(server.endpoint, set.seeded.adminApiKey);
      const targets = await explorationTargets(server.endpoint, set.seeded);
      await warmUp(server.endpoint, set.seeded, targets);
      running.push({ endpoint: server.endpoint, seeded: set.seeded, targets });
    }
    const flat = await backToBack(explorationOperations(), running[0]!, running[1]!);
    return { name: kind === 'sqlite' ? 'SQLite' : 'PostgreSQL', bigSeedSeconds: sets[1]!.seconds, flat };
  } finally {
    for (const server of servers) await server.stop();
    for (const db of databases) await db.drop();
  }
}

const isExplorationRow = (line: string) => /^\| Q[45] /.test(line);
const EXPLORE_NOTE = 'Q4 and Q5 in the table above were measured apart from the other rows, by ';

/**
 * The report with the Q4 and Q5 rows of one database's scale-flatness table replaced (where the
 * old ones were, or at the end of the table), a note under the table saying how they were
 * measured, and the Q4 and Q5 items of the list of operations describing them; the rest as it is.
 * A report without that database's section or table gets them, holding only these rows.
 */
function replaceExplorationRows(markdown: string, report: ExploreReport, note: string): string {
  const lines = markdown.replace(/\n+$/, '').split('\n');
  for (const item of EXPLORATION_ITEMS) {
    const at = lines.findIndex((line) => line.startsWith(item.slice(0, item.indexOf(':'))));
    if (at >= 0) lines[at] = item;
  }
  const heading = `## ${report.name}`;
  if (!lines.includes(heading)) {
    // The databases' sections come before the change feed's and the import's.
    const next = lines.findIndex((line) => line === FEED_HEADING || line === IMPORT_HEADING);
    const at = next < 0 ? lines.length : next;
    lines.splice(at, 0, ...(lines[at - 1] === '' ? [] : ['']), heading, '');
  }
  const start = lines.indexOf(heading);
  let end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  if (end < 0) end = lines.length;
  const section = lines.slice(start, end);
  const previousNote = section.findIndex((line) => line.startsWith(EXPLORE_NOTE));
  if (previousNote > 0) section.splice(previousNote - 1, 2); // with the blank line before it
  const rows = report.flat.map(flatRow);
  const header = section.findIndex((line) => line.startsWith('| operation | req/s at N |'));
  if (header < 0) {
    while (section.at(-1) === '') section.pop();
    section.push('', ...flatHeader(), ...rows, '', note, '');
  } else {
    let tableEnd = header + 2;
    while (tableEnd < section.length && section[tableEnd]!.startsWith('|')) tableEnd += 1;
    const table = section.slice(header + 2, tableEnd);
    const kept = table.filter((line) => !isExplorationRow(line));
    const first = table.findIndex(isExplorationRow);
    const at = first < 0 ? kept.length : first;
    section.splice(header + 2, table.length, ...kept.slice(0, at), ...rows, ...kept.slice(at), '', note);
  }
  lines.splice(start, end - start, ...section);
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

const kinds: ('sqlite' | 'postgresql')[] = ['sqlite'];
if (postgresServer) kinds.push('postgresql');
else log('BENCH_DATABASE_URL / TEST_DATABASE_URL not set: PostgreSQL is skipped');
const out = resolve(ROOT, values.out!);
const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
mkdirSync(dirname(out), { recursive: true });
if (values.import) {
  const sizes = values['import-rows']!.split(',').map(Number);
  if (!sizes.length || sizes.some((rows) => !Number.isInteger(rows) || rows < 10)) throw new Error('--import-rows takes whole numbers of rows (at least 10), comma-separated');
  const { cli, remove } = await buildCli(ROOT);
  const reports: ImportReport[] = [];
  try {
    for (const kind of kinds) {
      if (!values.only || values.only === kind) reports.push(await benchImport(kind, sizes, { root: ROOT, cli, postgresServer, log }));
    }
  } finally {
    remove();
  }
  const only = values.only ? ` --only ${values.only}` : '';
  const section = importSection(reports, { command: `npm run bench -- --import --import-rows ${sizes.join(',')}${only}` });
  writeFileSync(out, replaceSection(previous || '# Benchmarks\n', IMPORT_HEADING, section));
  process.stdout.write(`${section.join('\n')}\n`);
} else if (values.feed) {
  const reports: { name: string; feed: FeedReport }[] = [];
  for (const kind of kinds) {
    if (!values.only || values.only === kind) reports.push({ name: kind === 'sqlite' ? 'SQLite' : 'PostgreSQL', feed: await benchFeedAlone(kind) });
  }
  const only = values.only ? ` --only ${values.only}` : '';
  const [heading, ...rest] = feedSection(reports);
  const section = [
    heading!,
    '',
    `Measured alone by \`npm run bench -- --feed --n ${N} --duration ${DURATION} --connections ${CONNECTIONS} --feed-rounds ${FEED_ROUNDS} --workers ${WORKERS}${only}\`: ` +
      'the server at N ran nothing before it, so "M1" below is this section\'s own no-feed run, not the table above.',
    ...rest,
  ];
  writeFileSync(out, replaceSection(previous || '# Benchmarks\n', FEED_HEADING, section));
  process.stdout.write(`${section.join('\n')}\n`);
} else if (values.explore) {
  if (!(FACTOR > 1)) throw new Error('--explore compares N with FACTOR·N: --factor must be over 1');
  const only = values.only ? ` --only ${values.only}` : '';
  const command = `npm run bench -- --explore --n ${N} --factor ${FACTOR} --duration ${DURATION} --connections ${CONNECTIONS} --workers ${WORKERS}${only}`;
  let markdown = previous || '# Benchmarks\n';
  for (const kind of kinds) {
    if (values.only && values.only !== kind) continue;
    const result = await benchExploreAlone(kind);
    const note =
      `${EXPLORE_NOTE}\`${command}\` on ${new Date().toISOString().slice(0, 10)} (${cpus().length} cores; ` +
      `${FACTOR}·N seeded in ${result.bigSeedSeconds.toFixed(0)} s): both sizes seeded, both servers warmed up with every read operation, then each row measured at N and ${FACTOR}·N back to back.`;
    markdown = replaceExplorationRows(markdown, result, note);
    writeFileSync(out, markdown);
    process.stdout.write(`## ${result.name}\n\n${[...flatHeader(), ...result.flat.map(flatRow)].join('\n')}\n\n`);
  }
} else {
  const reports: DatabaseReport[] = [];
  for (const kind of kinds) if (!values.only || values.only === kind) reports.push(await benchDatabase(kind));
  const kept = existingSection(previous, IMPORT_HEADING);
  const markdown = report(reports) + (kept.length ? `\n${kept.join('\n')}` : '');
  writeFileSync(out, `${markdown.replace(/\n+$/, '')}\n`);
  process.stdout.write(`${markdown}\n`);
}
