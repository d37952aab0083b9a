import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { parse } from 'csv-parse';
import { ValidationError } from './errors.js';

/**
 * Reading an import file: bytes counted and capped, UTF-8 checked, CSV parsed by csv-parse
 * (RFC 4180: quoted fields with commas, quotes and line breaks, a UTF-8 BOM, CRLF or LF), one
 * row at a time. Nothing here knows what the rows mean; import.ts does.
 */

/** A file that cannot be imported at all (header, ragged row, encoding, size): nothing is written. */
export class ImportFileError extends ValidationError {
  constructor(
    message: string,
    /** The row (header = 1) or null when the file as a whole is at fault. */
    readonly row: number | null = null,
    column: string | null = null,
  ) {
    super(message, column);
  }
}

export const DEFAULT_IMPORT_MAX_BYTES = 1024 ** 3;
/** Uploads are held in the server's memory while they arrive: a lower limit than files read from disk. */
export const DEFAULT_UPLOAD_MAX_BYTES = 64 * 1024 ** 2;

function bytesSetting(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a whole number of bytes; got "${raw}".`);
  return value;
}

/** The largest file an import reads: RELATE_IMPORT_MAX_BYTES, default 1 GiB. */
export function importMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  return bytesSetting(env, 'RELATE_IMPORT_MAX_BYTES', DEFAULT_IMPORT_MAX_BYTES);
}

/**
 * The largest file `importAssociations` takes over HTTP: RELATE_IMPORT_UPLOAD_MAX_BYTES, default
 * 64 MiB, never more than an import reads. Larger files go through `relate import`.
 */
export function uploadMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  return Math.min(bytesSetting(env, 'RELATE_IMPORT_UPLOAD_MAX_BYTES', DEFAULT_UPLOAD_MAX_BYTES), importMaxBytes(env));
}

/** A file over the size an import reads: `bytes` its size when known, or how far reading got past the maximum. */
export const tooLarge = (max: number, size?: number) =>
  new ImportFileError(
    `The file is ${size === undefined ? `over ${max} bytes` : `${size} bytes`}; an import reads at most ${max} bytes (RELATE_IMPORT_MAX_BYTES).`,
  );

/** The first offset in `bytes` where a fresh fatal decoder fails (ignoring leading continuation bytes of a character begun before). */
function firstInvalidByte(bytes: Uint8Array): number {
  let start = 0;
  while (start < 3 && start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start += 1;
  const fails = (end: number) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, end), { stream: true });
      return false;
    } catch {
      return true;
    }
  };
  let low = start;
  let high = bytes.length;
  // The smallest end whose prefix fails; the invalid byte is the last one of that prefix.
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (fails(middle + 1)) high = middle;
    else low = middle + 1;
  }
  return Math.min(low, bytes.length - 1);
}

/**
 * Passes the bytes through unchanged, counting them against `maxBytes` and checking that they
 * are UTF-8 (a fatal streaming TextDecoder: a character split between chunks is fine, a
 * malformed one is an ImportFileError naming its byte offset and line).
 */
export class CheckedBytes extends Transform {
  bytes = 0;
  #lines = 1;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly maxBytes: number,
    private readonly onBytes?: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const before = this.bytes;
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return done(tooLarge(this.maxBytes));
    try {
      this.#decoder.decode(chunk, { stream: true });
    } catch {
      const offset = firstInvalidByte(chunk);
      return done(this.#invalid(before + offset, this.#lines + countLines(chunk.subarray(0, offset))));
    }
    this.#lines += countLines(chunk);
    this.onBytes?.(this.bytes);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.#decoder.decode();
    } catch {
      return done(this.#invalid(this.bytes, this.#lines, ' (the file ends inside a character)'));
    }
    done();
  }

  #invalid(offset: number, line: number, detail = '') {
    return new ImportFileError(`The file is not valid UTF-8: byte ${offset} (line ${line}) is not part of a character${detail}. Save it as UTF-8.`);
  }
}

function countLines(bytes: Uint8Array): number {
  let lines = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) lines += 1;
  return lines;
}

export interface CsvRow {
  /** As a spreadsheet numbers it: the header is row 1, the first data row row 2. */
  row: number;
  cells: string[];
}

export interface CsvReader {
  header: string[];
  /** The data rows in order, each with as many cells as the header (blank lines are skipped). */
  rows: AsyncIterable<CsvRow>;
  /** Bytes read so far. */
  bytesRead: () => number;
  /** Stops reading and closes the file (also when the rows were never read). */
  close: () => void;
}

/**
 * Opens a CSV file for reading: the header is read and checked by `checkHeader` (which throws an
 * ImportFileError), then the rows stream. A 0-byte file, a ragged row, a quote left open or bytes
 * that are not UTF-8 are ImportFileErrors, thrown when reached.
 */
export async function readCsv(
  source: Readable,
  options: { maxBytes: number; checkHeader: (header: string[]) => void; onBytes?: (bytes: number) => void },
): Promise<CsvReader> {
  const bytes = new CheckedBytes(options.maxBytes, options.onBytes);
  const parser = parse({ bom: true, relax_column_count: true });
  // pipeline destroys every stage with the first error, so any stage's error surfaces through
  // the parser's iterator; destroying the parser (we stop reading) closes the file.
  pipeline(source, bytes, parser, () => {});

  const records = parser[Symbol.asyncIterator]() as AsyncIterator<string[]>;
  let row = 0;
  const next = async (): Promise<string[] | null> => {
    try {
      const result = await records.next();
      if (result.done) return null;
      row += 1;
      return result.value;
    } catch (error) {
      // The parser's own count: records it parsed but we had not read yet are lost with the error.
      throw asFileError(error, Math.max(row, parser.info.records) + 1);
    }
  };

  const header = await next();
  if (!header) {
    throw new ImportFileError(bytes.bytes === 0 ? 'The file is empty (0 bytes): it needs a header row.' : 'The file has no header row.');
  }
  try {
    options.checkHeader(header);
  } catch (error) {
    parser.destroy();
    throw error;
  }
  const width = header.length;

  async function* rows(): AsyncGenerator<CsvRow> {
    try {
      for (let cells = await next(); cells; cells = await next()) {
        if (cells.length === 1 && cells[0] === '' && width > 1) continue; // a blank line
        if (cells.length !== width) {
          throw new ImportFileError(`Row ${row} has ${cells.length} fields; the header has ${width}.`, row);
        }
        yield { row, cells };
      }
    } finally {
      parser.destroy();
    }
  }
  return { header, rows: rows(), bytesRead: () => bytes.bytes, close: () => parser.destroy() };
}

/** csv-parse's refusals, said in the file's terms. */
const CSV_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'opens a quoted field that is never closed',
  INVALID_OPENING_QUOTE: 'has a quote inside an unquoted field (quote the whole field and double the quotes inside it)',
  CSV_INVALID_CLOSING_QUOTE: 'has text after the closing quote of a field (quote the whole field and double the quotes inside it)',
};

function asFileError(error: unknown, row: number): Error {
  if (error instanceof ImportFileError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !(code.startsWith('CSV_') || code.startsWith('INVALID_'))) return error as Error;
  const problem = CSV_PROBLEMS[code] ?? `is not valid CSV (${(error as Error).message})`;
  return new ImportFileError(`Row ${row} ${problem}.`, row);
}
