/**
 * Import and export at scale for `npm run bench -- --import` (bench/run.ts): on each database,
 * for each size, `relate import associations` of a file of R rows between R/4 contacts named by a
 * unique email (bench/import-setup.ts makes the data), against a bare-driver baseline writing the
 * same rows with no checks, then `relate export associations` of what was imported.
 *
 * - The import and the export run as a user runs them: the compiled CLI (what `relate` runs once
 *   installed; built for the run into a folder of its own next to src/, so that sources edited
 *   meanwhile do not change what is measured), one process, its time from spawn to exit.
 * - Peak RSS: the CLI is started with a preloaded module that writes
 *   `process.resourceUsage().maxRSS` (getrusage's ru_maxrss, the kernel's high-water mark of the
 *   process's resident set) to a file in its 'exit' handler. The peak is then exact, whenever it
 *   happened; polling /proc/<pid>/status VmHWM from outside reads the same counter but only while
 *   the process lives, so its last reading can come before the end of the run.
 * - The database is set up once per size and cloned (a file copy on SQLite, CREATE DATABASE …
 *   TEMPLATE on PostgreSQL), so the import and each baseline start from the same state; the
 *   baselines' rows are checked to be the import's rows afterwards.
 * - Baselines, from rows held in memory (the file is parsed before the clock starts, and no email
 *   is resolved): on SQLite one prepared INSERT run for every row in one transaction (better-sqlite3,
 *   with the pragmas Relate sets); on PostgreSQL `COPY "Association" (…) FROM STDIN` through psql
 *   (libpq; `pg-copy-streams` is not installed, so node-postgres cannot speak COPY), and multi-row
 *   INSERTs through node-postgres in one transaction. The tally triggers on "Association" fire for
 *   the baselines as for the import: they are part of the table.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SQLITE_PRAGMAS } from '../src/db/adapters.js';
import type { ImportSetup } from './import-setup.js';

export type Kind = 'sqlite' | 'postgresql';

/** The issue's targets. */
export const TARGET_SHARE_OF_BASELINE = 0.3;
export const TARGET_RSS_MB = 300;

export interface Timed {
  seconds: number;
  rowsPerSecond: number;
}

export interface ProcessRun extends Timed {
  /** Peak resident set of the process, in MB (10^6 bytes). */
  rssMb: number;
}

export interface Baseline extends Timed {
  method: string;
}

export interface ImportRun {
  rows: number;
  contacts: number;
  csvBytes: number;
  byGlobalId: number;
  setupSeconds: number;
  /** The CLI's fixed cost: start, open the database, find the workspace, end (an export of a label that does not exist). */
  startupSeconds: number;
  /** null when `relate import associations` is not available. */
  import: (ProcessRun & { summary: Record<string, unknown> }) | null;
  /** The first is the one the target is judged against. */
  baselines: Baseline[];
  export: ProcessRun & { bytes: number; from: 'import' | 'baseline' };
}

export interface ImportReport {
  kind: Kind;
  runs: ImportRun[];
  /** The machine's 1-minute load average when this database's runs started and ended. */
  load: [number, number];
  /** PostgreSQL: the server settings that bound a bulk write (its cache and its checkpoints). */
  settings?: Record<string, string>;
}

export interface ImportOptions {
  root: string;
  /** The compiled CLI's entry (see buildCli). */
  cli: string;
  postgresServer?: string;
  log: (message: string) => void;
}

/** What the CLI runs with: its peak RSS is written to the file named by RELATE_BENCH_RSS_FILE at exit. */
const RSS_HOOK = `data:text/javascript,${encodeURIComponent(
  "import{writeFileSync}from'node:fs';process.on('exit',()=>writeFileSync(process.env.RELATE_BENCH_RSS_FILE,String(process.resourceUsage().maxRSS)))",
)}`;

const ASSOCIATION_COLUMNS = '"workspaceId", "labelId", "firstRecordId", "secondRecordId", "createdById"';

function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; stdin?: string; stdout?: number },
): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: [options.stdin ? 'pipe' : 'ignore', options.stdout ?? 'pipe', 'pipe'],
  });
  if (options.stdin) createReadStream(options.stdin).pipe(child.stdin!);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 }));
  });
}

/** Builds the CLI into a folder of its own next to src/ (where dist/ would be); returns its entry and a remover. */
export async function buildCli(root: string): Promise<{ cli: string; remove: () => void }> {
  const outdir = join(root, `dist.bench-${process.pid}`);
  const built = await run(process.execPath, ['scripts/build.mjs', '--outdir', outdir], { cwd: root });
  if (built.code !== 0) throw new Error(`build failed: ${built.stderr}`);
  return { cli: join(outdir, 'cli/index.js'), remove: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** Runs the CLI with the RSS hook; throws unless it exits 0. */
async function relate(options: ImportOptions, url: string, args: string[], stdout?: number) {
  const rssFile = join(tmpdir(), `relate-bench-rss-${randomBytes(4).toString('hex')}`);
  try {
    const result = await run(process.execPath, ['--import', RSS_HOOK, options.cli, ...args], {
      cwd: options.root,
      env: { DATABASE_URL: url, RELATE_BENCH_RSS_FILE: rssFile, LOG_LEVEL: 'warn' },
      stdout,
    });
    const maxRss = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : Number.NaN;
    return { ...result, rssMb: (maxRss * 1024) / 1e6 };
  } finally {
    rmSync(rssFile, { force: true });
  }
}

interface Db {
  url: string;
  name: string;
  drop: () => Promise<void>;
}

async function pgAdmin<T>(server: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database, or a copy of `template` (which nothing may be connected to). */
async function createDatabase(kind: Kind, options: ImportOptions, template?: Db): Promise<Db> {
  const name = `relate_bench_import_${randomBytes(4).toString('hex')}`;
  if (kind === 'sqlite') {
    const file = join(tmpdir(), `${name}.db`);
    if (template) {
      const from = template.url.slice('file:'.length);
      for (const suffix of ['', '-wal']) if (existsSync(from + suffix)) copyFileSync(from + suffix, file + suffix);
    }
    return { url: `file:${file}`, name, drop: async () => ['', '-wal', '-shm', '-journal'].forEach((s) => rmSync(file + s, { force: true })) };
  }
  const server = options.postgresServer!;
  await pgAdmin(server, (client) => client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template.name}"` : ''}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => pgAdmin(server, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** The association rows of a database, summed: equal sums and counts on two clones mean the same rows. */
/** The associations written, and the usage tallies they left: equal signatures, equal rows (as far as sums tell). */
async function signature(kind: Kind, url: string): Promise<string> {
  const sql = `SELECT
    (SELECT COUNT(*) FROM "Association") AS n, (SELECT SUM("labelId") FROM "Association") AS l,
    (SELECT SUM("firstRecordId") FROM "Association") AS f, (SELECT SUM("secondRecordId") FROM "Association") AS s,
    (SELECT COUNT(*) FROM "RecordLabelTally") AS rn, (SELECT SUM("recordId" * 3 + "side" + "associations" * 7) FROM "RecordLabelTally") AS rs,
    (SELECT SUM("records") FROM "LabelTally") AS lr,
    (SELECT COUNT(*) FROM "ContactTally") AS cn, (SELECT SUM("recordId" + "associations" * 7) FROM "ContactTally") AS cs`;
  if (kind === 'sqlite') {
    const db = new Database(url.slice('file:'.length), { readonly: true });
    try {
      return JSON.stringify(Object.values(db.prepare(sql).get() as object).map(String));
    } finally {
      db.close();
    }
  }
  return pgAdmin(url, async (client) => JSON.stringify(Object.values((await client.query(sql)).rows[0] as object).map(String)));
}

/** baseline.csv, parsed: one [workspaceId, labelId, firstRecordId, secondRecordId, createdById] per row. */
async function baselineRows(file: string): Promise<number[][]> {
  const rows: number[][] = [];
  let header = true;
  for await (const line of createInterface({ input: createReadStream(file) })) {
    if (header) header = false;
    else if (line) rows.push(line.split(',').map(Number));
  }
  return rows;
}

const timed = (rows: number, seconds: number): Timed => ({ seconds, rowsPerSecond: rows / seconds });

function sqliteBaseline(url: string, rows: number[][]): Baseline {
  const db = new Database(url.slice('file:'.length));
  try {
    db.exec(SQLITE_PRAGMAS);
    const insert = db.prepare(`INSERT INTO "Association" (${ASSOCIATION_COLUMNS}) VALUES (?, ?, ?, ?, ?)`);
    const started = performance.now();
    db.transaction(() => {
      for (const row of rows) insert.run(row);
    })();
    return { method: 'one prepared INSERT per row, one transaction (better-sqlite3)', ...timed(rows.length, (performance.now() - started) / 1000) };
  } finally {
    db.close();
  }
}

async function copyBaseline(options: ImportOptions, url: string, file: string, count: number): Promise<Baseline> {
  // psql's \timing times the statement alone, as the other baselines are timed with their connection open.
  const result = await run(
    'psql',
    [url, '-X', '-v', 'ON_ERROR_STOP=1', '-c', '\\timing on', '-c', `COPY "Association" (${ASSOCIATION_COLUMNS}) FROM STDIN WITH (FORMAT csv, HEADER true)`],
    { cwd: options.root, stdin: file },
  );
  const ms = /^Time: ([\d.]+) ms/m.exec(result.stdout);
  if (result.code !== 0 || !ms || !new RegExp(`^COPY ${count}$`, 'm').test(result.stdout)) throw new Error(`COPY failed: ${result.stdout} ${result.stderr}`);
  return { method: '`COPY … FROM STDIN` (psql, the statement timed by `\\timing`)', ...timed(count, Number(ms[1]) / 1000) };
}

async function insertBaseline(url: string, rows: number[][]): Promise<Baseline> {
  // 6,000 rows of 5 parameters: under PostgreSQL's 65,535 parameters per statement.
  const perStatement = 6000;
  return pgAdmin(url, async (client) => {
    const started = performance.now();
    await client.query('BEGIN');
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      const placeholders = chunk.map((_, i) => `($${i * 5 + 1}, $${i * 5 + 2}, $${i * 5 + 3}, $${i * 5 + 4}, $${i * 5 + 5})`);
      await client.query(`INSERT INTO "Association" (${ASSOCIATION_COLUMNS}) VALUES ${placeholders.join(', ')}`, chunk.flat());
    }
    await client.query('COMMIT');
    return { method: `multi-row INSERT, ${perStatement.toLocaleString('en')} rows per statement, one transaction (node-postgres)`, ...timed(rows.length, (performance.now() - started) / 1000) };
  });
}

async function benchSize(kind: Kind, rows: number, options: ImportOptions): Promise<ImportRun> {
  const { log } = options;
  const dir = mkdtempSync(join(tmpdir(), 'relate-bench-import-'));
  const databases: Db[] = [];
  try {
    const main = await createDatabase(kind, options);
    databases.push(main);
    const setupRun = await run(process.execPath, ['--import', 'tsx', 'bench/import-setup.ts', '--rows', String(rows), '--dir', dir], {
      cwd: options.root,
      env: { DATABASE_URL: main.url, LOG_LEVEL: 'warn' },
    });
    if (setupRun.code !== 0) throw new Error(`setup failed: ${setupRun.stderr}`);
    const setup = JSON.parse(setupRun.stdout) as ImportSetup;
    log(`${kind}: ${rows.toLocaleString('en')} rows between ${setup.contacts.toLocaleString('en')} contacts set up in ${setupRun.seconds.toFixed(1)} s`);
    const clones: Db[] = [];
    for (let i = 0; i < (kind === 'postgresql' ? 2 : 1); i += 1) {
      const clone = await createDatabase(kind, options, main);
      databases.push(clone);
      clones.push(clone);
    }

    // The CLI's fixed cost, included in every figure below.
    const startup = await relate(options, main.url, ['export', 'associations', '--workspace', setup.workspaceId, '--label', 'no_such_label']);
    if (!/no_such_label/.test(startup.stderr)) throw new Error(`the startup run did not answer as expected: ${startup.stderr.slice(0, 2000)}`);
    log(`${kind}: CLI startup ${startup.seconds.toFixed(2)} s`);

    // The import, on the set-up database.
    const imported = await relate(options, main.url, ['import', 'associations', '--workspace', setup.workspaceId, setup.csv]);
    let importRun: ImportRun['import'] = null;
    if (imported.code === 2 && /unknown command/.test(imported.stderr)) {
      log(`${kind}: \`relate import associations\` is not available: import not measured`);
    } else {
      const output = imported.stdout.trim() ? (JSON.parse(imported.stdout) as { summary?: Record<string, unknown> }) : {};
      const summary = output.summary ?? {};
      if (imported.code !== 0 || summary.createdCount !== rows) {
        throw new Error(`import exited ${imported.code} with ${JSON.stringify(summary)}: ${imported.stderr.slice(0, 2000)}`);
      }
      importRun = { ...timed(rows, imported.seconds), rssMb: imported.rssMb, summary };
      log(`${kind}: import ${importRun.rowsPerSecond.toFixed(0)} rows/s, ${importRun.seconds.toFixed(1)} s, peak RSS ${importRun.rssMb.toFixed(0)} MB`);
    }

    // The baselines, each on a clone of the same state.
    const data = await baselineRows(setup.baselineCsv);
    const baselines: Baseline[] =
      kind === 'sqlite'
        ? [sqliteBaseline(clones[0]!.url, data)]
        : [await copyBaseline(options, clones[0]!.url, setup.baselineCsv, rows), await insertBaseline(clones[1]!.url, data)];
    for (const baseline of baselines) log(`${kind}: baseline ${baseline.method}: ${baseline.rowsPerSecond.toFixed(0)} rows/s, ${baseline.seconds.toFixed(1)} s`);
    const expected = await signature(kind, clones[0]!.url);
    for (const clone of clones.slice(1)) if ((await signature(kind, clone.url)) !== expected) throw new Error('the baselines wrote different rows');
    if (importRun && (await signature(kind, main.url)) !== expected) throw new Error('the import left other associations or tallies than the baseline');

    // The export of what the import wrote (of the baseline's copy while there is no import).
    const exportFile = join(dir, 'export.csv');
    const fd = openSync(exportFile, 'w');
    let exported;
    try {
      exported = await relate(options, importRun ? main.url : clones[0]!.url, ['export', 'associations', '--workspace', setup.workspaceId], fd);
    } finally {
      closeSync(fd);
    }
    if (exported.code !== 0) throw new Error(`export exited ${exported.code}: ${exported.stderr.slice(0, 2000)}`);
    let lines = 0;
    for await (const chunk of createReadStream(exportFile)) for (const byte of chunk as Buffer) if (byte === 10) lines += 1;
    if (lines !== rows + 1) throw new Error(`the export has ${lines - 1} rows, expected ${rows}`);
    const exportRun = { ...timed(rows, exported.seconds), rssMb: exported.rssMb, bytes: statSync(exportFile).size, from: importRun ? ('import' as const) : ('baseline' as const) };
    log(`${kind}: export ${exportRun.rowsPerSecond.toFixed(0)} rows/s, ${exportRun.seconds.toFixed(1)} s, peak RSS ${exportRun.rssMb.toFixed(0)} MB`);

    return {
      rows,
      contacts: setup.contacts,
      csvBytes: setup.csvBytes,
      byGlobalId: setup.byGlobalId,
      setupSeconds: setupRun.seconds,
      startupSeconds: startup.seconds,
      import: importRun,
      baselines,
      export: exportRun,
    };
  } finally {
    for (const db of databases.reverse()) await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchImport(kind: Kind, sizes: number[], options: ImportOptions): Promise<ImportReport> {
  options.log(`── ${kind}: import and export`);
  const runs: ImportRun[] = [];
  const settings = kind === 'postgresql' ? await serverSettings(options.postgresServer!) : undefined;
  if (settings) options.log(`${kind}: server ${Object.entries(settings).map(([name, value]) => `${name} ${value}`).join(', ')}`);
  const start = loadavg()[0]!;
  for (const rows of sizes) runs.push(await benchSize(kind, rows, options));
  return { kind, runs, load: [start, loadavg()[0]!], settings };
}

/** The settings PostgreSQL's "Populating a Database" names for bulk loads, as the server has them. */
async function serverSettings(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const settings: Record<string, string> = {};
    for (const name of ['shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'maintenance_work_mem']) {
      const { rows } = await client.query<Record<string, string>>(`SHOW ${name}`);
      settings[name] = rows[0]![name]!;
    }
    return settings;
  } finally {
    await client.end();
  }
}

const title = (kind: Kind) => (kind === 'sqlite' ? 'SQLite' : 'PostgreSQL');
const n = (value: number) => value.toLocaleString('en');
const mb = (value: number) => value.toFixed(0);
const fixed = (value: number) => value.toFixed(value < 10 ? 2 : 1);
const pct = (value: number) => `${(value * 100).toFixed(0)} %`;

export const IMPORT_HEADING = '## Import and export';

/** The report's import and export section. */
export function importSection(reports: ImportReport[], produced: { command: string }): string[] {
  if (!reports.length) return [];
  const lines = [
    IMPORT_HEADING,
    '',
    `Produced by \`${produced.command}\` on ${new Date().toISOString().slice(0, 10)}, on a machine with ${cpus().length} cores ` +
      `(${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}. ` +
      `1-minute load average at the start and the end of each database's runs: ${reports.map((r) => `${title(r.kind)} ${r.load.map((l) => l.toFixed(1)).join(' → ')}`).join(', ')}` +
      (reports.some((r) => Math.max(...r.load) > cpus().length)
        ? ` — above the ${cpus().length} cores: other work shared the machine, so times and ratios are only indicative.`
        : '.'),
    '',
    '- **Data**: a workspace whose contacts have `email` as their unique field, R/4 contacts for a file of R rows, and four ' +
      'contact↔contact labels (two SINGLE, one PAIR, one MANY_TO_ONE PAIR), one per offset k = 1…4: contact i is linked to ' +
      'contact i + k (mod the number of contacts). Every contact is then in 8 associations, under the default ' +
      '`maxAssociationsPerContact` of 10, which stays as it is, so each row is checked against a contact near its limit. ' +
      'The workspace\'s `maxRecordsPerLabel` is raised (through the service behind `updateAssociationLimits`) from its default ' +
      'of 1,000 to the number of contacts, so that a label may span all of them: with the default, 4 labels could link at most ' +
      '4,000 contacts. Contacts are loaded in bulk (multi-row INSERTs, not measured).',
    '- **File**: the rows shuffled (seeded), in the columns `relate export associations` writes; 9 rows in 10 name both records ' +
      'by `contact` + email, 1 in 10 by global id. Every row is valid: the import creates every one.',
    '- **Import**: `relate import associations --workspace ID FILE.csv` as a user runs it (the compiled CLI, default ' +
      '`--on-error abort`: one transaction), one process, timed from spawn to exit: startup, parsing, resolving emails, every ' +
      'rule of `linkRecords`, the association events and the commit. Rows per second = rows ÷ that time. "CLI startup" is ' +
      'the fixed part of it, measured alone: the same CLI starting, opening the database and answering `relate export ' +
      'associations --label` of a label that does not exist.',
    '- **Peak RSS**: the CLI starts with a preloaded module that writes `process.resourceUsage().maxRSS` (getrusage\'s ' +
      '`ru_maxrss`, the kernel\'s high-water mark of the process\'s resident memory) at exit, so the peak is exact whenever it ' +
      'happened. Polling `/proc/<pid>/status` VmHWM from outside reads the same counter, but only while the process is alive: ' +
      'the last reading may miss the end of the run. MB are 10^6 bytes.',
    '- **Baseline**: the same rows written with no checks, from memory (record ids known, nothing resolved, no events; the ' +
      'connection already open, so only the writing is timed), on a ' +
      'copy of the same database (SQLite: a file copy; PostgreSQL: `CREATE DATABASE … TEMPLATE`); the rows it wrote are ' +
      'checked to be the import\'s. SQLite: one prepared INSERT for every row in one transaction (better-sqlite3, with ' +
      'Relate\'s pragmas). PostgreSQL: `COPY "Association" (…) FROM STDIN` through psql (`pg-copy-streams` is not installed, ' +
      'so node-postgres cannot send COPY), which the target is judged against, and multi-row INSERTs through node-postgres in ' +
      'one transaction. The usage-tally triggers on "Association" fire for the baselines: they are part of the table. The import counts its links in ' +
      'the tallies itself (src/services/deferred-tallies.ts); the tallies it leaves are checked to be the baseline\'s.',
    '- **Export**: `relate export associations --workspace ID` of the imported associations, CSV to a file, timed and measured the same way.',
    `- **Targets**: import throughput ≥ ${pct(TARGET_SHARE_OF_BASELINE)} of the baseline; import peak RSS ≤ ${TARGET_RSS_MB} MB whatever the file size.`,
    '',
  ];
  for (const report of reports) {
    const runs = report.runs;
    lines.push(
      `### ${title(report.kind)}`,
      '',
      '| rows | contacts | file MB | CLI startup s | import s | import rows/s | import peak RSS MB | ' +
        runs[0]!.baselines.map((_, i) => (i === 0 ? 'baseline rows/s' : `baseline ${i + 1} rows/s`)).join(' | ') +
        ' | import % of baseline | export s | export rows/s | export peak RSS MB |',
      `|${'---:|'.repeat(8 + runs[0]!.baselines.length + 3)}`,
      ...runs.map((r) => {
        const i = r.import;
        return (
          `| ${n(r.rows)} | ${n(r.contacts)} | ${fixed(r.csvBytes / 1e6)} | ${fixed(r.startupSeconds)} | ${i ? fixed(i.seconds) : '–'} | ${i ? n(Math.round(i.rowsPerSecond)) : '–'} | ` +
          `${i ? mb(i.rssMb) : '–'} | ${r.baselines.map((b) => n(Math.round(b.rowsPerSecond))).join(' | ')} | ` +
          `${i ? r.baselines.map((b) => pct(i.rowsPerSecond / b.rowsPerSecond)).join(' / ') : '–'} | ` +
          `${fixed(r.export.seconds)} | ${n(Math.round(r.export.rowsPerSecond))} | ${mb(r.export.rssMb)} |`
        );
      }),
      '',
      ...(report.settings
        ? [`Server settings: ${Object.entries(report.settings).map(([name, value]) => `\`${name}\` ${value}`).join(', ')}.`, '']
        : []),
      `Baseline${runs[0]!.baselines.length > 1 ? 's' : ''}: ${runs[0]!.baselines.map((b, i) => `${runs[0]!.baselines.length > 1 ? `(${i + 1}) ` : ''}${b.method}`).join('; ')}.`,
      '',
      ...verdict(report),
      '',
    );
  }
  return lines;
}

/** Whether the targets are met, from the figures. */
function verdict(report: ImportReport): string[] {
  const measured = report.runs.filter((r) => r.import);
  if (!measured.length) return ['The import was not measured (`relate import associations` was not available): the targets are not judged.'];
  const shares = measured.map((r) => ({ rows: r.rows, share: r.import!.rowsPerSecond / r.baselines[0]!.rowsPerSecond, rss: r.import!.rssMb }));
  const throughputMet = shares.every((s) => s.share >= TARGET_SHARE_OF_BASELINE);
  const rssMet = shares.every((s) => s.rss <= TARGET_RSS_MB);
  const sizes = shares.map((s) => n(s.rows)).join(' and ');
  const lines = [
    `Throughput: the import runs at ${shares.map((s) => `${pct(s.share)} (${n(s.rows)} rows)`).join(', ')} of the baseline: the target of ≥ ${pct(TARGET_SHARE_OF_BASELINE)} ` +
      `is **${throughputMet ? 'met' : 'not met'}**${shares.length > 1 ? ` at ${throughputMet ? 'every size' : shares.filter((s) => s.share < TARGET_SHARE_OF_BASELINE).map((s) => n(s.rows)).join(' and ') + ' rows'}` : ''}.`,
    `Memory: the import's peak RSS is ${shares.map((s) => `${mb(s.rss)} MB (${n(s.rows)} rows)`).join(', ')}: the target of ≤ ${TARGET_RSS_MB} MB is **${rssMet ? 'met' : 'not met'}** at ${sizes} rows.`,
  ];
  if (shares.length > 1) {
    const first = shares[0]!;
    const last = shares[shares.length - 1]!;
    lines.push(
      `From ${n(first.rows)} to ${n(last.rows)} rows (${(last.rows / first.rows).toFixed(0)}× the file) the peak RSS goes from ${mb(first.rss)} to ${mb(last.rss)} MB (×${(last.rss / first.rss).toFixed(2)}).`,
    );
  }
  return [lines.join(' ')];
}

/** The markdown with its import section replaced by `section` (or `section` added at the end when it has none). */
/** Replaces the section under `heading` (up to the next `## `) by `section`, or appends it. */
export function replaceSection(markdown: string, heading: string, section: string[]): string {
  const lines = markdown.replace(/\n+$/, '').split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) return [...lines, '', ...section].join('\n').replace(/\n+$/, '\n');
  let end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  if (end < 0) end = lines.length;
  return [...lines.slice(0, start), ...section, ...lines.slice(end)].join('\n').replace(/\n+$/, '\n');
}

/** The section under `heading` of a report, as it is (for a run that does not measure it). */
export function existingSection(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) return [];
  let end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  if (end < 0) end = lines.length;
  return lines.slice(start, end);
}
