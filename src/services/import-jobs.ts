import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Prisma, prisma, provider, reader, reportDatabaseError, type Tx } from '../db/index.js';
import { timestamp } from '../db/reader.js';
import { logger } from '../logger.js';
import { DomainError } from './errors.js';
import { importAssociations, type ImportCounts, type ImportErrorMode, type ImportRowError } from './import.js';
import { isAdmin, type Viewer } from './viewer.js';

/**
 * Import jobs: `importAssociations` over GraphQL runs the import service in the background of
 * the server process that received the file, one job at a time per process (the others wait
 * QUEUED), and `importJob(id)` reads how it goes.
 *
 * What is stored, and when. The job's row holds its counters; its rejected rows are
 * ImportJobError rows (the first MAX_LISTED_ERRORS of them, in the order they were found).
 * - onError SKIP: each batch commits with the job's counters written in its own transaction
 *   (the service's onCommit), so the stored counters always count exactly what is committed;
 *   rejected rows are stored as they come, outside the batches' transactions.
 * - onError ABORT and dry runs: the whole file is one open transaction, which holds the
 *   workspace's write lock — and on SQLite the database's only write lock: nothing else can be
 *   written until it ends, by this process or any other. So the live counters and rejected rows
 *   are kept in this process's memory (importJob reads them from there while the job runs here)
 *   and stored when the transaction has ended. On PostgreSQL a second connection can write, so
 *   the heartbeat also stores the progress (rows read, rows rejected, rejected rows) for other
 *   processes and servers to read; created and existing counts are stored only once committed.
 *
 * Never silently half done. A process that runs a job holds a lease on it (`leaseOwner`,
 * `leaseUntil`), renewed by a heartbeat. Every server process sweeps, at start and then every
 * few seconds, for QUEUED or RUNNING jobs whose lease ran out — their process died — and ends
 * them FAILED with what was written: in SKIP mode the committed batches (their counters were
 * stored with them), in ABORT mode and dry runs nothing (the database rolled the transaction
 * back). A job of a live process is not touched: its lease is current. On SQLite a long ABORT
 * transaction keeps even the heartbeat from writing, so another process may end such a job when
 * the transaction is over and before its final write; that final write is made whatever the
 * status then (it is conditioned on the lease owner alone), and an ABORT import that commits
 * marks itself SUCCEEDED in its own transaction, so the stored status is never wrong for longer
 * than that instant. A server stopped with SIGTERM ends its jobs itself: the running one is
 * interrupted (ABORT: rolled back; SKIP: the committed batches stay) and ended FAILED, queued
 * ones FAILED without starting.
 *
 * Timestamps are compared in the database against values the process writes (never against the
 * database's clock), as the webhook dispatcher does.
 */

/** Rejected rows listed per job; beyond them they are counted (rejectedCount) but not listed. */
export const MAX_LISTED_ERRORS = 10_000;
/** Milliseconds a lease lasts without a heartbeat (RELATE_IMPORT_LEASE_SECONDS for tests). */
export const DEFAULT_LEASE = 30_000;

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
type Mode = 'ABORT' | 'SKIP';

export interface ImportJobRow {
  id: number;
  workspaceId: number;
  createdById: number | null;
  status: JobStatus;
  dryRun: boolean;
  onError: Mode;
  fileName: string | null;
  totalRows: number;
  processedRows: number;
  createdCount: number;
  existingCount: number;
  rejectedCount: number;
  failure: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface ListedError extends ImportRowError {
  /** 1-based order of rejection; what cursors page by. */
  position: number;
}

/** This process, as lease owner. */
const OWNER = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

function leaseMs(): number {
  const raw = process.env.RELATE_IMPORT_LEASE_SECONDS;
  const seconds = raw ? Number(raw) : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : DEFAULT_LEASE;
}

/** A job submitted to this process: its file (spooled to a temporary folder) and live state. */
interface LocalJob {
  id: number;
  viewer: Viewer;
  dryRun: boolean;
  onError: Mode;
  folder: string;
  file: string;
  status: JobStatus;
  counts: ImportCounts;
  /** Rejected rows found (listed ones), all kept while the job is local. */
  errors: ListedError[];
  /** How many of `errors` are stored (or handed to a write). */
  stored: number;
  /** The file streams the service opened, destroyed to interrupt it. */
  streams: Readable[];
}

const local = new Map<number, LocalJob>();
const queue: LocalJob[] = [];
let active: LocalJob | null = null;
let stopping = false;
/** Resolves when the job being run has ended (for stop). */
let activeDone: Promise<void> = Promise.resolve();

const modeOf = (mode: ImportErrorMode): Mode => (mode === 'skip' ? 'SKIP' : 'ABORT');
const serviceMode = (mode: Mode): ImportErrorMode => (mode === 'SKIP' ? 'skip' : 'abort');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Receives a file for import: spools it to a temporary file (so the upload's memory is freed
 * when the request ends), stores the job QUEUED and queues it in this process. Answers the job.
 */
export async function submitImportJob(
  viewer: Viewer,
  upload: { stream: () => ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>; name?: string | null },
  options: { dryRun?: boolean | null; onError?: ImportErrorMode | null },
): Promise<ImportJobRow> {
  const folder = await mkdtemp(join(tmpdir(), 'relate-import-job-'));
  const file = join(folder, 'import.csv');
  const dryRun = options.dryRun ?? false;
  const onError = modeOf(options.onError ?? 'abort');
  let row;
  try {
    await pipeline(Readable.from(upload.stream() as AsyncIterable<Uint8Array>), createWriteStream(file));
    row = await prisma.importJob.create({
      data: {
        workspaceId: viewer.workspaceId,
        createdById: viewer.userId,
        dryRun,
        onError,
        fileName: upload.name ? upload.name.slice(0, 255) : null,
        leaseOwner: OWNER,
        leaseUntil: new Date(Date.now() + leaseMs()),
      },
    });
  } catch (error) {
    // No job holds the file: it goes now.
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  const job: LocalJob = {
    id: row.id,
    viewer,
    dryRun,
    onError,
    folder,
    file,
    status: 'QUEUED',
    counts: { totalRows: 0, processedRows: 0, createdCount: 0, existingCount: 0, rejectedCount: 0 },
    errors: [],
    stored: 0,
    streams: [],
  };
  local.set(job.id, job);
  queue.push(job);
  next();
  return row as ImportJobRow;
}

/** Starts the next queued job when none runs. */
function next(): void {
  if (active || stopping) return;
  const job = queue.shift();
  if (!job) return;
  active = job;
  activeDone = runJob(job)
    .catch((error: unknown) => logger.error('import job: cannot record its end', { jobId: job.id, error: String(error) }))
    .finally(async () => {
      local.delete(job.id);
      active = null;
      await rm(job.folder, { recursive: true, force: true });
      next();
    });
}

/** Whether the job runs as one transaction that, on SQLite, keeps every other write waiting. */
const holdsWriteLock = (job: LocalJob) => provider === 'sqlite' && (job.dryRun || job.onError === 'ABORT');

/** The rejected rows not stored yet, taken for a write. */
function takeUnstored(job: LocalJob): ListedError[] {
  const taken = job.errors.slice(job.stored);
  job.stored = job.errors.length;
  return taken;
}

async function storeErrors(db: Tx | typeof prisma, jobId: number, errors: ListedError[]): Promise<void> {
  if (!errors.length) return;
  await db.importJobError.createMany({
    data: errors.map((error) => ({
      jobId,
      position: error.position,
      row: error.row,
      column: error.column,
      code: error.code,
      message: error.message,
    })),
  });
}

/** What the job wrote, in a sentence: counts are those stored with the committed batches. */
function writtenText(mode: Mode, dryRun: boolean, created: number, existing: number): string {
  if (dryRun) return 'Nothing was written (dry run).';
  if (mode === 'ABORT') return 'Nothing was written: the import ran in one transaction, which was rolled back.';
  return (
    `The batches committed before it stopped stay written: ${plural(created, 'association')} created, ` +
    `${plural(existing, 'row')} already linked (createdCount, existingCount). Import the file again to finish: what is there counts as existing.`
  );
}

async function runJob(job: LocalJob): Promise<void> {
  const lease = leaseMs();
  // FAILED too: on SQLite another process may have taken it for abandoned while a long
  // transaction of this one kept its lease from being renewed.
  const started = await prisma.importJob.updateMany({
    where: { id: job.id, leaseOwner: OWNER, status: { in: ['QUEUED', 'FAILED'] } },
    data: { status: 'RUNNING', startedAt: new Date(), leaseUntil: new Date(Date.now() + lease) },
  });
  if (started.count === 0) return; // its workspace was deleted meanwhile
  job.status = 'RUNNING';

  /** Counters of the last batch known committed (SKIP): the service reports progress after each commit. */
  let committed: ImportCounts = { ...job.counts };
  let candidate: ImportCounts | null = null;
  /** Writes outside the import's transactions, one at a time, in order. */
  let outside: Promise<void> = Promise.resolve();
  const writeOutside = (write: () => Promise<unknown>) => {
    outside = outside.then(write).then(
      () => undefined,
      (error: unknown) => {
        if (!reportDatabaseError(error)) logger.warn('import job: cannot store its progress', { jobId: job.id, error: String(error) });
      },
    );
  };

  const heartbeat = setInterval(() => {
    if (holdsWriteLock(job)) return; // it would only wait for the import's transaction
    const progress = job.onError === 'SKIP' && !job.dryRun ? {} : { totalRows: job.counts.totalRows, processedRows: job.counts.processedRows, rejectedCount: job.counts.rejectedCount };
    const errors = takeUnstored(job);
    writeOutside(async () => {
      const until = new Date(Date.now() + lease);
      const renewed = await prisma.importJob.updateMany({
        where: { id: job.id, leaseOwner: OWNER },
        data: { leaseUntil: until, ...progress },
      });
      if (renewed.count) await storeErrors(prisma, job.id, errors);
      // The jobs waiting behind it are alive too.
      if (queue.length) {
        await prisma.importJob.updateMany({ where: { id: { in: queue.map((queued) => queued.id) }, leaseOwner: OWNER, status: 'QUEUED' }, data: { leaseUntil: until } });
      }
    });
  }, Math.max(Math.floor(lease / 3), 50));

  let outcome: { status: JobStatus; failure: string | null; counts: Partial<ImportCounts> };
  try {
    const summary = await importAssociations({
      viewer: job.viewer,
      source: () => {
        const stream = createReadStream(job.file);
        job.streams.push(stream);
        if (stopping) stream.destroy(new Error('The server is stopping.'));
        return stream;
      },
      totalBytes: (await stat(job.file)).size,
      dryRun: job.dryRun,
      onError: serviceMode(job.onError),
      onProgress: (counts) => {
        job.counts = { totalRows: counts.totalRows, processedRows: counts.processedRows, createdCount: counts.createdCount, existingCount: counts.existingCount, rejectedCount: counts.rejectedCount };
        if (candidate) committed = candidate;
        candidate = null;
        // SKIP: progress comes after each batch committed, with its rejected rows reported: store them now.
        if (job.onError === 'SKIP' && !job.dryRun) {
          const errors = takeUnstored(job);
          if (errors.length) writeOutside(() => storeErrors(prisma, job.id, errors));
        }
      },
      onRejected: (error) => {
        const position = job.counts.rejectedCount + 1;
        job.counts = { ...job.counts, rejectedCount: position };
        if (position <= MAX_LISTED_ERRORS) job.errors.push({ ...error, position });
      },
      onCommit: async (tx, counts) => {
        candidate = counts;
        // ABORT: this is the one commit of the whole file; the job is done when it commits.
        const done = job.onError === 'ABORT' && !job.dryRun;
        await tx.importJob.updateMany({
          where: { id: job.id, leaseOwner: OWNER },
          data: {
            ...counts,
            leaseUntil: new Date(Date.now() + lease),
            ...(done ? { status: 'SUCCEEDED', finishedAt: new Date(), failure: null } : { status: 'RUNNING', failure: null }),
          },
        });
      },
    });
    job.counts = { totalRows: summary.totalRows, processedRows: summary.processedRows, createdCount: summary.createdCount, existingCount: summary.existingCount, rejectedCount: Math.max(summary.rejectedCount, job.counts.rejectedCount) };
    if (!job.dryRun && job.onError === 'ABORT' && summary.rejectedCount > 0) {
      outcome = {
        status: 'FAILED',
        failure: `${plural(summary.rejectedCount, 'row was', 'rows were')} rejected, so nothing was written (onError ABORT). Correct them, or import with onError SKIP to write the other rows.`,
        counts: { ...job.counts, createdCount: 0, existingCount: 0 },
      };
    } else {
      outcome = { status: 'SUCCEEDED', failure: null, counts: job.counts };
    }
  } catch (error) {
    const skip = job.onError === 'SKIP' && !job.dryRun;
    // SKIP: the stored counters are those of the committed batches; the rest never happened.
    const kept: Partial<ImportCounts> = skip ? {} : { totalRows: job.counts.totalRows, processedRows: job.counts.processedRows, rejectedCount: job.counts.rejectedCount, createdCount: 0, existingCount: 0 };
    const written = writtenText(job.onError, job.dryRun, committed.createdCount, committed.existingCount);
    let failure: string;
    if (stopping) {
      failure = `The server was stopped while the import ran. ${written}`;
    } else if (error instanceof DomainError) {
      failure = `${error.message}${/[.!?]$/.test(error.message) ? '' : '.'} ${written}`;
    } else if (reportDatabaseError(error)) {
      failure = `The database became unavailable while the import ran. ${written}`;
    } else {
      const reference = randomUUID();
      logger.error('import job failed', { jobId: job.id, reference, error: error instanceof Error ? error.stack : String(error) });
      failure = `The import failed unexpectedly (reference ${reference}). ${written}`;
    }
    outcome = { status: 'FAILED', failure, counts: kept };
  } finally {
    clearInterval(heartbeat);
  }
  await outside;
  const errors = takeUnstored(job);
  await prisma.$transaction(async (tx) => {
    // Conditioned on the owner alone: another process may have ended it while a SQLite
    // transaction of this one kept the heartbeat from writing (see above).
    const ended = await tx.importJob.updateMany({
      where: { id: job.id, leaseOwner: OWNER },
      data: { ...outcome.counts, status: outcome.status, failure: outcome.failure, finishedAt: new Date(), leaseUntil: null },
    });
    if (ended.count) await storeErrors(tx, job.id, errors); // none when its workspace was deleted meanwhile
  });
  job.status = outcome.status;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** A job row as the reader returns it (booleans, numbers and timestamps per driver). */
function rowOf(raw: Record<string, unknown>): ImportJobRow {
  const date = (value: unknown) => (value == null ? null : timestamp(value));
  return {
    id: Number(raw.id),
    workspaceId: Number(raw.workspaceId),
    createdById: raw.createdById == null ? null : Number(raw.createdById),
    status: raw.status as JobStatus,
    dryRun: raw.dryRun === true || raw.dryRun === 1 || raw.dryRun === 1n,
    onError: raw.onError as Mode,
    fileName: (raw.fileName as string | null) ?? null,
    totalRows: Number(raw.totalRows),
    processedRows: Number(raw.processedRows),
    createdCount: Number(raw.createdCount),
    existingCount: Number(raw.existingCount),
    rejectedCount: Number(raw.rejectedCount),
    failure: (raw.failure as string | null) ?? null,
    createdAt: timestamp(raw.createdAt),
    startedAt: date(raw.startedAt),
    finishedAt: date(raw.finishedAt),
  };
}

/** The job as it stands: stored, with this process's live state when it runs here. */
function withLive(row: ImportJobRow): ImportJobRow {
  const job = local.get(row.id);
  if (!job || row.status === 'SUCCEEDED' || row.status === 'FAILED') return row;
  return { ...row, status: job.status === 'QUEUED' ? row.status : job.status, ...job.counts };
}

/**
 * Jobs by id, as `viewer` may see them: only its workspace's, and a USER key only the jobs it
 * started (their rejected rows can name records of other users). Read on the reader connection:
 * on SQLite it is not held up by an import's open transaction.
 */
export async function importJobsByIds(viewer: Viewer, ids: readonly number[]): Promise<(ImportJobRow | null)[]> {
  const wanted = ids.filter((id) => id > 0);
  if (!wanted.length) return ids.map(() => null);
  const rows = await reader.rows(Prisma.sql`
    SELECT "id", "workspaceId", "createdById", "status", "dryRun", "onError", "fileName", "totalRows", "processedRows",
           "createdCount", "existingCount", "rejectedCount", "failure", "createdAt", "startedAt", "finishedAt"
    FROM "ImportJob"
    WHERE "id" IN (${Prisma.join(wanted)}) AND "workspaceId" = ${viewer.workspaceId}
      ${isAdmin(viewer) ? Prisma.empty : Prisma.sql`AND "createdById" = ${viewer.userId}`}`);
  const byId = new Map(rows.map((raw) => [Number(raw.id), withLive(rowOf(raw))]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** A page of a job's rejected rows after `afterPosition`, and how many are listed in all. */
export async function importJobErrors(
  job: ImportJobRow,
  afterPosition: number,
  take: number,
): Promise<{ rows: (ListedError & { id: number })[]; count: number }> {
  const live = local.get(job.id);
  if (live) {
    const rows = live.errors.filter((error) => error.position > afterPosition).slice(0, take);
    return { rows: rows.map((error) => ({ ...error, id: error.position })), count: live.errors.length };
  }
  const rows = await reader.rows(Prisma.sql`
    SELECT "position", "row", "column", "code", "message" FROM "ImportJobError"
    WHERE "jobId" = ${job.id} AND "position" > ${afterPosition} ORDER BY "position" LIMIT ${take}`);
  const [total] = await reader.rows<{ n: unknown }>(Prisma.sql`SELECT COUNT(*) AS "n" FROM "ImportJobError" WHERE "jobId" = ${job.id}`);
  return {
    rows: rows.map((raw) => ({
      id: Number(raw.position),
      position: Number(raw.position),
      row: Number(raw.row),
      column: (raw.column as string | null) ?? null,
      code: String(raw.code),
      message: String(raw.message),
    })),
    count: Number(total?.n ?? 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Recovery and shutdown

/** Why a job of a process that died ended, and what it wrote. */
function abandonedText(job: { status: string; onError: string; dryRun: boolean; processedRows: number; totalRows: number; createdCount: number; existingCount: number }): string {
  if (job.status === 'QUEUED') return 'The server that received the file stopped before the import started. Nothing was written.';
  const where = job.totalRows > 0 ? ` after ${plural(job.processedRows, 'row')} of ${job.totalRows}` : '';
  return `The server running the import stopped${where}. ${writtenText(job.onError as Mode, job.dryRun, job.createdCount, job.existingCount)}`;
}

/**
 * Ends FAILED every QUEUED or RUNNING job whose lease ran out (its process died), with what it
 * wrote. Jobs of this process are never touched. Answers how many it ended.
 */
export async function failAbandonedImportJobs(now = new Date()): Promise<number> {
  const stale = await prisma.importJob.findMany({
    where: { status: { in: ['QUEUED', 'RUNNING'] }, leaseUntil: { lt: now } },
    select: { id: true, status: true, onError: true, dryRun: true, processedRows: true, totalRows: true, createdCount: true, existingCount: true },
    take: 100,
  });
  let ended = 0;
  for (const job of stale) {
    if (local.has(job.id)) continue;
    const nothing = job.dryRun || job.onError === 'ABORT' || job.status === 'QUEUED';
    const done = await prisma.importJob.updateMany({
      where: { id: job.id, status: { in: ['QUEUED', 'RUNNING'] }, leaseUntil: { lt: now } },
      data: {
        status: 'FAILED',
        failure: abandonedText(job),
        finishedAt: new Date(),
        ...(nothing ? { createdCount: 0, existingCount: 0 } : {}),
      },
    });
    ended += done.count;
  }
  if (ended) logger.warn('import jobs of a stopped server ended FAILED', { count: ended });
  return ended;
}

export interface ImportJobs {
  /** Interrupts the running job and ends every job of this process FAILED; resolves once stored. */
  stop(): Promise<void>;
}

/**
 * Starts this process's sweep for jobs of dead processes: at once, then every third of a lease.
 * Call once the database is usable; stop it before closing the database.
 */
export function startImportJobs(): ImportJobs {
  stopping = false;
  const interval = Math.max(Math.floor(leaseMs() / 3), 50);
  let sweeping: Promise<void> = Promise.resolve();
  const sweep = () => {
    sweeping = failAbandonedImportJobs().then(
      () => undefined,
      (error: unknown) => {
        if (!reportDatabaseError(error)) logger.warn('import jobs: cannot sweep for jobs of stopped servers', { error: String(error) });
      },
    );
  };
  sweep();
  const timer = setInterval(() => void sweeping.then(sweep), interval);
  return {
    async stop() {
      clearInterval(timer);
      stopping = true;
      for (const stream of active?.streams ?? []) stream.destroy(new Error('The server is stopping.'));
      const queued = queue.splice(0);
      await Promise.all([sweeping, activeDone]);
      if (queued.length) {
        await prisma.importJob
          .updateMany({
            where: { id: { in: queued.map((job) => job.id) }, leaseOwner: OWNER, status: 'QUEUED' },
            data: { status: 'FAILED', failure: 'The server was stopped before the import started. Nothing was written.', finishedAt: new Date(), leaseUntil: null },
          })
          .catch((error: unknown) => logger.warn('import jobs: cannot end queued jobs', { error: String(error) }));
      }
      for (const job of queued) {
        local.delete(job.id);
        await rm(job.folder, { recursive: true, force: true });
      }
    },
  };
}
