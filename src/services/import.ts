import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { withDriverTransaction } from '../db/adapters.js';
import { Prisma, prisma, provider, type Tx } from '../db/index.js';
import { inTexts, txRows } from '../db/reader.js';
import { DeferredTallies } from './deferred-tallies.js';
import { ConflictError, DomainError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { ASSOCIATION_COLUMNS } from './export.js';
import { decodeGlobalId } from './ids.js';
import { CheckedBytes, ImportFileError, importMaxBytes, readCsv, tooLarge, type CsvReader, type CsvRow } from './import-csv.js';
import { applyLinks, type LinkInput } from './links.js';
import { feedTransaction, lockedTransaction, lockObjectRecords } from './lock.js';
import { CUSTOM_PREFIX } from './objects.js';
import { validateProperties, type FieldDef } from './properties.js';
import { createRecordInTx, updateRecordInTx, type ObjectWithFields } from './records.js';
import { lookupValue, uniqueFieldOf, uniqueValueOf } from './unique.js';
import { accessTo, type Viewer } from './viewer.js';
import { visibleRecordSql } from './visibility.js';

export { DEFAULT_IMPORT_MAX_BYTES, ImportFileError, importMaxBytes, tooLarge, uploadMaxBytes } from './import-csv.js';

/**
 * `relate import records|associations` (SPEC §5.3): CSV files read as a stream, in batches of
 * IMPORT_BATCH rows, so memory stays flat whatever the file's size (one batch of rows and its
 * outcome; rejected rows are handed to `onRejected` as they are found, never kept).
 *
 * The rules are the API's, decided by the same code: links by `applyLinks` (links.ts) — limits
 * against the database and the rows before, cardinality, order, visibility, events — and records
 * by `createRecordInTx` / `updateRecordInTx` (records.ts). This file only reads rows, names
 * records and reports.
 *
 * Transactions:
 * - `onError: 'abort'` (the default) and dry runs: one transaction for the whole file, holding
 *   the workspace's write lock; every row is decided (so every rejection is reported), then it
 *   commits only if no row was rejected and it is not a dry run. A dry run's counts are those
 *   of the writes it rolled back. It counts its links in the usage tallies itself
 *   (deferred-tallies.ts).
 * - `onError: 'skip'`: one transaction per batch, each committing its good rows. The file is read
 *   once first, without writing, so that a bad file (ragged row, bad bytes, too large) is refused
 *   before any batch commits; a one-shot stream is spooled to a temporary file for that.
 *
 * One batch is read ahead: while batch k's statements run, batch k+1 is parsed and prepared
 * (`Plan.prepare`: what its rows say on their own, no database), so the importer's work and the
 * database's overlap instead of taking turns. Everything the database decides for batch k+1 (the
 * records it names, what batch k wrote, limits, duplicates) is read in its own turn, after batch
 * k's writes. What preparing used of the workspace (its objects, an object's fields) is as batch
 * k read it: batch k+1 reads it again in its turn and is prepared again if it changed (`run`).
 */
export const IMPORT_BATCH = 1000;

export type ImportErrorMode = 'abort' | 'skip';
export const IMPORT_ERROR_MODES: readonly ImportErrorMode[] = ['abort', 'skip'];

/** A rejected row. `row`: as a spreadsheet numbers it (header = 1); `code`: the API's error code. */
export interface ImportRowError {
  row: number;
  column: string | null;
  code: string;
  message: string;
}

export interface ImportCounts {
  /** Data rows read so far (blank lines aside); the file's total once it is read. */
  totalRows: number;
  /** Rows decided so far. */
  processedRows: number;
  /** Associations (records) created. */
  createdCount: number;
  /** Associations already there; records that existed and were updated. */
  existingCount: number;
  rejectedCount: number;
}

export interface ImportSummary extends ImportCounts {
  dryRun: boolean;
  onError: ImportErrorMode;
  /** Whether anything was committed. */
  written: boolean;
}

export interface ImportOptions {
  /** Whose permissions apply: USER keys import only what they could link or write. */
  viewer: Viewer;
  /** The CSV bytes; a function opening them, when they can be read twice (a file). */
  source: Readable | (() => Readable);
  /** Validate every row, write nothing. */
  dryRun?: boolean;
  /** 'abort' (default): nothing written if any row is rejected; 'skip': write the good rows. */
  onError?: ImportErrorMode;
  /** The file's size when known: a file over the maximum is refused before it is read. */
  totalBytes?: number;
  /** The largest file read, in bytes (default: RELATE_IMPORT_MAX_BYTES, else 1 GiB). */
  maxBytes?: number;
  onProgress?: (counts: ImportCounts & { bytesRead: number }) => void;
  /**
   * Each rejected row, in file order, as it is found. In 'skip' mode after its batch committed,
   * outside any transaction; otherwise while the import's one transaction is open (on SQLite,
   * do not write to the database from here: that transaction holds the write lock).
   */
  onRejected?: (error: ImportRowError) => void | Promise<void>;
  /** Called inside each transaction that commits rows, so a caller can store its progress atomically with them. */
  onCommit?: (tx: Tx, counts: ImportCounts) => Promise<void>;
  /** Rows per batch (default IMPORT_BATCH): tests make batches small to cross their boundaries with few rows. */
  batchSize?: number;
  /** Links an import on SQLite creates before it counts them in the usage tallies (deferred-tallies.ts); likewise for tests. */
  settleLinks?: number;
}

/** A large import runs in one transaction: it may take as long as the file needs. */
const TRANSACTION_TIMEOUT = 24 * 60 * 60 * 1000;

/**
 * While an import runs, V8 collects its old space once it has grown by half of what was live
 * after the last collection. Left to itself, when collecting is cheap (as here: a few
 * milliseconds, under 1 % of the time) V8 lets old space grow to 4 times what is live: an import
 * keeps about 26 MB live, but every batch's rows and statements are promoted before they die, so
 * the heap swung between 26 and 100+ MB and that, not anything kept, made most of the peak RSS
 * (100,000 rows on SQLite: 279 MB, 203 MB with this, the time within the machine's noise). The
 * setting is V8's (read after each collection) and is restored when no import is running.
 */
const HEAP_GROWING_PERCENT = 50;
let importsRunning = 0;

function boundHeapGrowth(): () => void {
  if (importsRunning++ === 0) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--importsRunning === 0) setFlagsFromString('--heap-growing-percent=0');
  };
}

/** Thrown to roll back a dry run or an aborted import; never escapes. */
class Rollback extends Error {}

/**
 * A transaction for import batches: the workspace's write lock when links are written (as
 * linkRecords takes it), no time limit but the statements', and committed events announced.
 */
function importTransaction<T>(workspaceId: number, lock: boolean, fn: (tx: Tx) => Promise<T>): Promise<T> {
  // Its batch statements go to the driver transaction (withDriverTransaction, db/adapters.ts).
  return withDriverTransaction((bind) =>
    (lock ? lockedTransaction : feedTransaction)(
      workspaceId,
      (tx) => {
        bind(tx);
        return fn(tx);
      },
      { timeout: TRANSACTION_TIMEOUT, maxWait: 60_000 },
    ),
  );
}

type Reject = (row: number, column: string | null, error: DomainError) => void;
type Rejection = Parameters<Reject>;

/**
 * What differs between the two imports: the header they read, the workspace's state their rows
 * are read with (`S`), and how a batch is written. Whether a batch prepared ahead is still good
 * is the driver's to decide (`run`), by the state's signature.
 */
interface Plan<S, P extends Prepared> {
  checkHeader(header: string[]): void;
  /** Takes the workspace's write lock (links do; record writes do not). */
  lockWorkspace: boolean;
  /** The state as read before the import (the first batch is prepared ahead with it); null: none. */
  initialState: S | null;
  /** Reads the state in a batch's turn, before anything else of the batch. */
  readState(tx: Tx): Promise<S>;
  /** The state, all that `prepare` uses of it, in a string: equal strings prepare rows alike. */
  signature(state: S): string;
  /**
   * What a batch's rows say on their own with `state`, decided while the batch before it is
   * written: it must not read the database.
   */
  prepare(rows: readonly CsvRow[], state: S): P;
  /**
   * Decides and writes a batch in `tx`, reporting each row it refuses (those `prepare` refused are
   * reported already). `tallies`: the transaction defers its usage tallies (links only).
   */
  apply(tx: Tx, rows: readonly CsvRow[], prepared: P, state: S, reject: Reject, tallies: DeferredTallies | null): Promise<{ created: number; existing: number }>;
}

/** What `Plan.prepare` makes of a batch: the rows it refused, in row order, and whatever else the plan needs. */
interface Prepared {
  rejections: Rejection[];
}

interface Batch<P> {
  rows: CsvRow[];
  /** Prepared ahead with the state whose signature is `signature`; null: there was none yet. */
  prepared: { signature: string; result: P } | null;
  /** The bytes read when its last row was: what its progress reports. */
  bytesRead: number;
}

async function* inBatches<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/**
 * The file's batches, prepared, one read ahead: once batch k is handed out, batch k+1 is read and
 * prepared while the caller writes batch k. Its error (a ragged row, bad bytes) is thrown where
 * it would have been without the read-ahead: when the caller asks for it, after batch k.
 */
async function* readAhead<P>(batches: AsyncIterable<CsvRow[]>, prepare: (rows: CsvRow[]) => Batch<P>): AsyncGenerator<Batch<P>> {
  const iterator = batches[Symbol.asyncIterator]();
  const read = () => {
    const next = iterator.next().then((result) => (result.done ? null : prepare(result.value)));
    // Awaited after the batch before it, if at all (the caller may stop first): never unhandled.
    next.catch(() => {});
    return next;
  };
  let next = read();
  for (let batch = await next; batch; batch = await next) {
    next = read();
    yield batch;
  }
}

async function run<S, P extends Prepared>(options: ImportOptions, plan: Plan<S, P>): Promise<ImportSummary> {
  const dryRun = options.dryRun ?? false;
  const onError = options.onError ?? 'abort';
  if (!IMPORT_ERROR_MODES.includes(onError)) throw new ValidationError('onError must be abort or skip.', 'onError');
  const maxBytes = options.maxBytes ?? importMaxBytes();
  if (options.totalBytes !== undefined && options.totalBytes > maxBytes) throw tooLarge(maxBytes, options.totalBytes);
  const batched = onError === 'skip' && !dryRun;
  const counts: ImportCounts = { totalRows: 0, processedRows: 0, createdCount: 0, existingCount: 0, rejectedCount: 0 };
  const { viewer } = options;

  let spoolDir: string | null = null;
  let reader: CsvReader | undefined;
  const releaseHeap = boundHeapGrowth();
  try {
    let open = typeof options.source === 'function' ? options.source : null;
    if (batched) {
      if (!open) {
        spoolDir = await mkdtemp(join(tmpdir(), 'relate-import-'));
        const file = join(spoolDir, 'import.csv');
        // Checked as it is copied: a stream over the maximum stops here, not once on disk.
        await pipeline(options.source as Readable, new CheckedBytes(maxBytes), createWriteStream(file));
        open = () => createReadStream(file);
      }
      // Read the whole file once, writing nothing: a bad file is refused before any batch commits.
      const check = await readCsv(open(), { maxBytes, checkHeader: plan.checkHeader });
      for await (const _row of check.rows) counts.totalRows += 1;
    }
    let bytesRead = 0;
    const csv = (reader = await readCsv(open ? open() : (options.source as Readable), {
      maxBytes,
      checkHeader: plan.checkHeader,
      onBytes: (bytes) => (bytesRead = bytes),
    }));
    const counted = batched;

    const pending: ImportRowError[] = [];
    const reject: Reject = (row, column, error) => {
      counts.rejectedCount += 1;
      pending.push({ row, column, code: error.code, message: error.message });
    };
    const report = async (batch: Batch<P>) => {
      for (const error of pending.splice(0)) await options.onRejected?.(error);
      options.onProgress?.({ ...counts, bytesRead: batch.bytesRead });
    };
    /** The state as the last batch read it: what the next batch is prepared with ahead of its turn. */
    let last: { state: S; signature: string } | null =
      plan.initialState === null ? null : { state: plan.initialState, signature: plan.signature(plan.initialState) };
    const prepareAhead = (rows: CsvRow[]): Batch<P> => ({
      rows,
      prepared: last && { signature: last.signature, result: plan.prepare(rows, last.state) },
      bytesRead,
    });
    const applyBatch = async (tx: Tx, { rows, prepared }: Batch<P>, tallies: DeferredTallies | null = null) => {
      if (!counted) counts.totalRows += rows.length;
      const state = await plan.readState(tx);
      last = { state, signature: plan.signature(state) };
      // Prepared ahead with the state the batch before read: prepared again if it changed since.
      const result = prepared?.signature === last.signature ? prepared.result : plan.prepare(rows, state);
      for (const rejection of result.rejections) reject(...rejection);
      const { created, existing } = await plan.apply(tx, rows, result, state, reject, tallies);
      counts.processedRows += rows.length;
      counts.createdCount += created;
      counts.existingCount += existing;
    };
    const batches = () => readAhead(inBatches(csv.rows, options.batchSize ?? IMPORT_BATCH), prepareAhead);

    let written = false;
    if (batched) {
      for await (const batch of batches()) {
        await importTransaction(viewer.workspaceId, plan.lockWorkspace, async (tx) => {
          await applyBatch(tx, batch);
          await options.onCommit?.(tx, { ...counts });
        });
        written ||= counts.createdCount + counts.existingCount > 0;
        await report(batch);
      }
    } else {
      await importTransaction(viewer.workspaceId, plan.lockWorkspace, async (tx) => {
        // Links counted in the usage tallies by the import (deferred-tallies.ts): once, at the end,
        // on PostgreSQL, where one transaction would otherwise write a record's tally row in every
        // batch that links it; every so many links on SQLite, where the triggers run per row.
        const tallies = plan.lockWorkspace ? await DeferredTallies.begin(tx, viewer.workspaceId, { settleLinks: options.settleLinks }) : null;
        for await (const batch of batches()) {
          await applyBatch(tx, batch, tallies);
          await tallies?.settle(tx);
          await report(batch);
        }
        if (dryRun || counts.rejectedCount > 0) throw new Rollback();
        await tallies?.flush(tx);
        await options.onCommit?.(tx, { ...counts });
      }).then(
        () => (written = true),
        (error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        },
      );
    }
    options.onProgress?.({ ...counts, bytesRead });
    return { ...counts, dryRun, onError, written };
  } finally {
    // Closed even when its rows were never read (a transaction that could not start).
    reader?.close();
    releaseHeap();
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  }
}

/** The DomainError of a rejected item, or the unexpected error it is (rethrown). */
function domainError(error: Error): DomainError {
  if (error instanceof DomainError) return error;
  throw error;
}

// ---------------------------------------------------------------------------------------------
// Associations

type Side = 'first' | 'second';
const SIDES: readonly Side[] = ['first', 'second'];
const column = (side: Side, name: 'RecordId' | 'ObjectKey' | 'Unique') => `${side}${name}`;

function checkColumns(header: readonly string[], expected: readonly string[], what: string): Map<string, number> {
  const list = expected.join(',');
  const positions = new Map<string, number>();
  for (const [index, name] of header.entries()) {
    if (!expected.includes(name)) {
      throw new ImportFileError(`Unknown column "${name}" in the header of ${what}. The columns are: ${list}.`, 1, name || null);
    }
    if (positions.has(name)) throw new ImportFileError(`Column "${name}" appears twice in the header.`, 1, name);
    positions.set(name, index);
  }
  return positions;
}

interface ObjectRef {
  id: number;
  key: string;
  unique: Pick<FieldDef, 'key' | 'type'> | undefined;
}

/** A side as the row names it: by id (left to applyLinks), or by object and unique value. */
type Named = { kind: 'id'; id: number | null } | { kind: 'unique'; object: ObjectRef; value: string };

/**
 * Links records named by each row. Columns (any order, those `relate export associations`
 * writes): `labelKeys` (`;`-separated), and for each side `firstRecordId` or `firstObjectKey` +
 * `firstUnique` (likewise `second…`). A side with both an object key and a unique value is named
 * by them (they hold across workspaces, ids do not); otherwise by its id.
 */
export function importAssociations(options: ImportOptions): Promise<ImportSummary> {
  const { viewer } = options;
  let at = new Map<string, number>();
  // Unique values are compared exactly as stored (TEXT keeps its spaces); the rest is trimmed.
  const cell = (cells: string[], name: string) => {
    const index = at.get(name);
    if (index === undefined) return '';
    return name.endsWith('Unique') ? cells[index]! : cells[index]!.trim();
  };
  /** Both records of every row, as the row names them with these objects (null: the row is refused). */
  const nameRows = (rows: readonly CsvRow[], objects: Map<string, ObjectRef>): Naming => {
    const rejections: Rejection[] = [];
    const named = rows.map(({ row, cells }): NamedRow | null => {
      const sides = {} as Record<Side, Named>;
      for (const side of SIDES) {
        const objectKey = cell(cells, column(side, 'ObjectKey'));
        const value = cell(cells, column(side, 'Unique'));
        const id = cell(cells, column(side, 'RecordId'));
        const fail = (name: string, error: DomainError) => (rejections.push([row, column(side, name as 'Unique'), error]), null);
        if (value !== '' || (objectKey !== '' && id === '')) {
          if (objectKey === '') return fail('ObjectKey', new ValidationError(`${column(side, 'Unique')} needs ${column(side, 'ObjectKey')}.`));
          if (value === '') return fail('Unique', new ValidationError(`${column(side, 'ObjectKey')} needs ${column(side, 'Unique')} (or give ${column(side, 'RecordId')} alone).`));
          const object = objects.get(objectKey) ?? objects.get(CUSTOM_PREFIX + objectKey);
          if (!object) return fail('ObjectKey', new NotFoundError(`No object with key "${objectKey}".`));
          if (!object.unique) return fail('Unique', new ValidationError(`Object "${object.key}" has no unique field to name its records by.`));
          const normalised = lookupValue(object.unique.type, value);
          if (normalised === null) return fail('Unique', notFoundByValue(object, value));
          sides[side] = { kind: 'unique', object, value: normalised };
        } else if (id !== '') {
          sides[side] = { kind: 'id', id: decodeGlobalId(id, 'Record') };
        } else {
          return fail('RecordId', new ValidationError(`No ${side} record: give ${column(side, 'RecordId')}, or ${column(side, 'ObjectKey')} and ${column(side, 'Unique')}.`));
        }
      }
      const labelKeys = cell(cells, 'labelKeys')
        .split(';')
        .map((key) => key.trim())
        .filter(Boolean);
      return { ...sides, labelKeys };
    });
    return { named, rejections };
  };

  const plan: Plan<Map<string, ObjectRef>, Naming> = {
    lockWorkspace: true,
    checkHeader(header) {
      at = checkColumns(header, ASSOCIATION_COLUMNS, 'an associations file');
      const expected = `The header is: ${ASSOCIATION_COLUMNS.join(',')} (each record by its id, or by object key and unique value).`;
      if (!at.has('labelKeys')) throw new ImportFileError(`The header has no "labelKeys" column. ${expected}`, 1);
      for (const side of SIDES) {
        if (!at.has(column(side, 'RecordId')) && !(at.has(column(side, 'ObjectKey')) && at.has(column(side, 'Unique')))) {
          throw new ImportFileError(
            `The header names no ${side} record: it needs "${column(side, 'RecordId')}", or "${column(side, 'ObjectKey')}" and "${column(side, 'Unique')}". ${expected}`,
            1,
          );
        }
      }
    },
    initialState: null,
    readState: (tx) => workspaceObjects(tx, viewer.workspaceId),
    signature: objectsSignature,
    prepare: nameRows,
    async apply(tx, rows, { named }, _objects, reject, tallies) {
      const wanted = new Map<ObjectRef, Set<string>>();
      for (const item of named) {
        for (const side of SIDES) {
          const name = item?.[side];
          if (name?.kind === 'unique') wanted.set(name.object, (wanted.get(name.object) ?? new Set()).add(name.value));
        }
      }
      // One statement per object: the records the viewer can see with these values.
      const found = new Map<ObjectRef, Map<string, number>>();
      for (const [object, values] of wanted) {
        const records = await txRows<{ id: number | bigint | string; uniqueValue: string }>(tx, Prisma.sql`
          SELECT r."id", r."uniqueValue" FROM "Record" r
          WHERE r."objectId" = ${object.id} AND ${inTexts(provider, Prisma.sql`r."uniqueValue"`, [...values])} AND ${visibleRecordSql(viewer, 'r')}`);
        found.set(object, new Map(records.map((record) => [record.uniqueValue, Number(record.id)])));
      }

      const items: LinkInput[] = [];
      const itemRows: { row: number; byUnique: Record<Side, boolean> }[] = [];
      for (const [index, item] of named.entries()) {
        if (!item) continue;
        const { row, cells } = rows[index]!;
        const ids = {} as Record<Side, number | null>;
        let missing = false;
        for (const side of SIDES) {
          const name = item[side];
          if (name.kind === 'id') ids[side] = name.id;
          else {
            const id = found.get(name.object)?.get(name.value);
            if (id === undefined) {
              reject(row, column(side, 'Unique'), notFoundByValue(name.object, cell(cells, column(side, 'Unique'))));
              missing = true;
              break;
            }
            ids[side] = id;
          }
        }
        if (missing) continue;
        items.push({ firstRecordId: ids.first, secondRecordId: ids.second, labelKeys: item.labelKeys });
        itemRows.push({ row, byUnique: { first: item.first.kind === 'unique', second: item.second.kind === 'unique' } });
      }

      const outcome = await applyLinks(tx, viewer, items, {
        batch: true,
        tallies,
        onReject: (index, error) => {
          const { row, byUnique } = itemRows[index]!;
          const failure = domainError(error);
          reject(row, linkErrorColumn(failure, byUnique), failure);
        },
      });
      return { created: outcome.createdCount, existing: outcome.existingCount };
    },
  };
  return run(options, plan);
}

type NamedRow = { first: Named; second: Named; labelKeys: string[] };
/** A batch's rows named with the workspace's objects, and those refused in doing so (in row order). */
type Naming = { named: (NamedRow | null)[]; rejections: Rejection[] };

/** The workspace's objects, all that naming records uses of them, in a string: equal strings name records alike. */
const objectsSignature = (objects: Map<string, ObjectRef>) =>
  JSON.stringify(
    [...objects.values()].sort((a, b) => (a.key < b.key ? -1 : 1)).map(({ key, id, unique }) => [key, id, unique?.key, unique?.type]),
  );

/**
 * The workspace's objects by key, each with its unique field: one statement on the driver
 * transaction, read again for every batch (where Prisma's nested read took two statements and a
 * query compilation each time).
 */
async function workspaceObjects(tx: Tx, workspaceId: number): Promise<Map<string, ObjectRef>> {
  const rows = await txRows<{ id: number | bigint | string; key: string; uniqueKey: string | null; uniqueType: string | null }>(tx, Prisma.sql`
    SELECT o."id", o."key", f."key" AS "uniqueKey", f."type" AS "uniqueType"
    FROM "Object" o LEFT JOIN "Field" f ON f."objectId" = o."id" AND f."unique"
    WHERE o."workspaceId" = ${workspaceId}`);
  const objects = new Map<string, ObjectRef>();
  for (const row of rows) {
    const unique = row.uniqueKey === null ? undefined : { key: row.uniqueKey, type: row.uniqueType as FieldDef['type'] };
    objects.set(row.key, { id: Number(row.id), key: row.key, unique });
  }
  return objects;
}

/** Missing and hidden records answer alike, as the API's lookups do. */
const notFoundByValue = (object: ObjectRef, value: string) =>
  new NotFoundError(`No ${object.key} record with ${object.unique!.key} "${value}".`);

/** The column a link rule's refusal points at: a record's (the way the row named it), else the labels. */
function linkErrorColumn(error: DomainError, byUnique: Record<Side, boolean>): string {
  for (const side of SIDES) {
    const named = error instanceof ValidationError ? error.field === column(side, 'RecordId') : error.message.includes(column(side, 'RecordId'));
    if (named) return column(side, byUnique[side] ? 'Unique' : 'RecordId');
  }
  return 'labelKeys';
}

// ---------------------------------------------------------------------------------------------
// Records

/** A cell as the property value the API would take: numbers and booleans parsed, the rest as text. */
function propertyValue(field: FieldDef, text: string): unknown {
  if (field.type === 'NUMBER') {
    const number = Number(text);
    return text.trim() !== '' && Number.isFinite(number) ? number : text;
  }
  if (field.type === 'BOOLEAN') {
    const word = text.trim().toLowerCase();
    return word === 'true' ? true : word === 'false' ? false : text;
  }
  return text;
}

/**
 * Upserts records of one object by its unique field. The header names field keys (any order,
 * any subset that includes the unique field; an `id` column, as exports write, is ignored: ids do
 * not hold across workspaces). A row whose unique value a record has updates that record (its
 * properties merged as updateRecord merges them; an empty cell leaves a property as it is),
 * otherwise it creates one. A value repeated in the file: the later row updates the record the
 * earlier one wrote.
 */
export async function importRecords(options: ImportOptions & { objectKey: string }): Promise<ImportSummary> {
  const { viewer } = options;
  const found = await prisma.objectModel.findUnique({
    where: { workspaceId_key: { workspaceId: viewer.workspaceId, key: options.objectKey } },
    include: { fields: { orderBy: { position: 'asc' } } },
  });
  if (!found) throw new NotFoundError(`No object with key "${options.objectKey}".`);
  if (accessTo(viewer, found.id) === 'NONE') throw new ForbiddenError(`You have no access to ${found.key} records.`);
  const unique = uniqueFieldOf(found.fields);
  if (!unique) {
    throw new ValidationError(
      `Object "${found.key}" has no unique field: records are imported by it. Declare one first (updateObject with uniqueField).`,
      'objectKey',
    );
  }
  let columns: (string | null)[] = [];

  /** Each row's properties and unique value, as the object's fields read them (null: the row is refused). */
  const parseRows = (rows: readonly CsvRow[], object: ObjectWithFields): Parsing => {
    const byKey = new Map(object.fields.map((field) => [field.key, field]));
    const keyField = { ...byKey.get(unique.key)!, required: true };
    const rejections: Rejection[] = [];
    const parsed = rows.map(({ row, cells }): ParsedRow | null => {
      const properties: Record<string, unknown> = {};
      for (const [index, key] of columns.entries()) {
        const text = cells[index]!;
        const field = key === null ? undefined : byKey.get(key);
        if (field && text !== '') properties[field.key] = propertyValue(field, text);
      }
      if (properties[unique.key] === undefined) {
        rejections.push([row, unique.key, new ValidationError(`Every row needs a value of the unique field "${unique.key}".`, `properties.${unique.key}`)]);
        return null;
      }
      try {
        // The unique value exactly as the record will store it (validated, then normalised).
        const value = uniqueValueOf([keyField], validateProperties([keyField], { [unique.key]: properties[unique.key] }))!;
        return { row, properties, value };
      } catch (error) {
        rejections.push([row, unique.key, domainError(error as Error)]);
        return null;
      }
    });
    return { parsed, rejections };
  };

  const plan: Plan<ObjectWithFields, Parsing> = {
    lockWorkspace: false,
    checkHeader(header) {
      const keys = found.fields.map((field) => field.key);
      const positions = checkColumns(header, ['id', ...keys], `${found.key} records`);
      if (!positions.has(unique.key)) {
        throw new ImportFileError(`The header has no "${unique.key}" column: ${found.key} records are matched by their unique field "${unique.key}". The columns are: id,${keys.join(',')}.`, 1);
      }
      columns = header.map((name) => (name === 'id' ? null : name));
    },
    initialState: found,
    async readState(tx) {
      // The object's records are locked exclusively (PostgreSQL; SQLite has one writer): no
      // other write can take a unique value between the batch's read of the values and its
      // writes, which would fail on the unique index and, on PostgreSQL, abort the transaction.
      await lockObjectRecords(tx, found.id, 'exclusive');
      return tx.objectModel.findUniqueOrThrow({ where: { id: found.id }, include: { fields: true } });
    },
    signature: fieldsSignature,
    prepare: parseRows,
    async apply(tx, _rows, { parsed }, object, reject) {
      const values = [...new Set(parsed.flatMap((item) => (item ? [item.value] : [])))];
      const existing = new Map<string, { id: number; visible: boolean }>();
      if (values.length) {
        const records = await tx.$queryRaw<{ id: number | bigint; uniqueValue: string; visible: number | bigint | boolean }[]>`
          SELECT r."id", r."uniqueValue", CASE WHEN ${visibleRecordSql(viewer, 'r')} THEN 1 ELSE 0 END AS "visible"
          FROM "Record" r WHERE r."objectId" = ${object.id} AND ${inTexts(provider, Prisma.sql`r."uniqueValue"`, values)}`;
        for (const record of records) existing.set(record.uniqueValue, { id: Number(record.id), visible: Number(record.visible) === 1 });
      }

      let created = 0;
      let updated = 0;
      for (const item of parsed) {
        if (!item) continue;
        const match = existing.get(item.value);
        try {
          if (match && !match.visible) {
            // As createRecord answers: the value is taken, never saying by which record.
            throw new ConflictError(`Another ${object.key} record already has this ${unique.key}: "${unique.key}" is unique.`);
          }
          if (match) {
            await updateRecordInTx(tx, viewer, { id: match.id, properties: item.properties }, object);
            updated += 1;
          } else {
            const record = await createRecordInTx(tx, viewer, { objectKey: object.key, properties: item.properties }, object);
            existing.set(item.value, { id: record.id, visible: true });
            created += 1;
          }
        } catch (error) {
          const failure = domainError(error as Error);
          const field = failure instanceof ValidationError ? failure.field : null;
          reject(item.row, field?.startsWith('properties.') ? field.slice('properties.'.length) : failure instanceof ConflictError ? unique.key : field, failure);
        }
      }
      return { created, existing: updated };
    },
  };
  return run(options, plan);
}

type ParsedRow = { row: number; properties: Record<string, unknown>; value: string };
/** A batch's rows parsed with an object's fields, and those refused in doing so (in row order). */
type Parsing = { parsed: (ParsedRow | null)[]; rejections: Rejection[] };

/** The object's fields, all they say, in a string: equal strings parse rows alike. */
const fieldsSignature = (object: ObjectWithFields) => JSON.stringify([...object.fields].sort((a, b) => a.id - b.id));
