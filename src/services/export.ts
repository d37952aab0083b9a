import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Prisma, prisma, reader } from '../db/index.js';
import { NotFoundError } from './errors.js';
import { encodeGlobalId } from './ids.js';
import { uniqueFieldOf } from './unique.js';

/**
 * Export of a workspace's records (one object) and associations, as CSV or NDJSON, for
 * `relate export`. The formats are the ones `relate import` reads (README, "Import and export").
 *
 * Constant memory, whatever the size: rows are read in keyset pages of EXPORT_PAGE by id (each
 * page one statement on an index, `id > last id of the page before`, so no page costs more than
 * the first and no offset grows), each page is written as one chunk, and the next page is read only
 * once the stream has taken it: when `write` returns false (its buffer is over its high-water
 * mark, e.g. a slow pipe) we wait for 'drain'. At any time the process holds one page of rows,
 * its text and the stream's buffer, plus the workspace's objects and labels.
 *
 * Ordered by id, so the same data always exports to the same bytes. Pages are separate
 * statements, not one snapshot: a row written during an export appears if its id is past the page
 * being read. Exports read every record of the workspace: they are an operator's tool, outside any
 * API key's visibility.
 */
export const EXPORT_PAGE = 1000;

export type ExportFormat = 'csv' | 'ndjson';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'ndjson'];

/** The associations CSV columns, in order (also the NDJSON fields). */
export const ASSOCIATION_COLUMNS = [
  'firstRecordId',
  'secondRecordId',
  'labelKeys',
  'firstObjectKey',
  'firstUnique',
  'secondObjectKey',
  'secondUnique',
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a double quote, CR or LF, with its
 * quotes doubled; otherwise as it is.
 */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One CSV record with its CRLF line break (RFC 4180). */
export const csvRow = (values: readonly string[]) => `${values.map(csvField).join(',')}\r\n`;

/** Writes a chunk, waiting for 'drain' when the stream asks us to (backpressure). */
async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

/** Resolves once everything written so far has been handed to the system. */
const flushed = (out: Writable) => new Promise<void>((resolve, reject) => out.write('', (error) => (error ? reject(error) : resolve())));

/**
 * The keyset-page loop both exports share: reads pages of EXPORT_PAGE rows by id (`readPage`
 * gets the last id written, 0 at first), writes each page as one chunk (waiting for 'drain'),
 * stops after a short page, and resolves once everything is handed to the system. Returns the
 * number of rows written.
 */
async function exportPages<Row extends { id: unknown }>(
  out: Writable,
  readPage: (afterId: number) => Promise<Row[]>,
  formatRows: (rows: Row[]) => string,
): Promise<number> {
  let count = 0;
  let afterId = 0;
  for (;;) {
    const page = await readPage(afterId);
    if (!page.length) break;
    await write(out, formatRows(page));
    count += page.length;
    afterId = Number(page[page.length - 1]!.id);
    if (page.length < EXPORT_PAGE) break;
  }
  await flushed(out);
  return count;
}

async function findWorkspace(workspaceId: number) {
  const workspace = await prisma.workspace.findUnique({ where: { id: workspaceId }, select: { id: true } });
  if (!workspace) throw new NotFoundError('No workspace with that id.');
  return workspace;
}

/** A property as one CSV field: text as it is, numbers in JSON's form, true/false; empty when unset. */
const cell = (value: unknown) => (value === undefined || value === null ? '' : String(value));

/**
 * Every record of one object. CSV: a header `id` then the field keys (the unique field first,
 * then the others in their order), one row per record. NDJSON: `{"id", "properties"}` per line.
 * Ids are global ids. Returns the number of records written.
 */
export async function exportRecords(
  out: Writable,
  options: { workspaceId: number; objectKey: string; format: ExportFormat },
): Promise<number> {
  await findWorkspace(options.workspaceId);
  const object = await prisma.objectModel.findUnique({
    where: { workspaceId_key: { workspaceId: options.workspaceId, key: options.objectKey } },
    include: { fields: { orderBy: { position: 'asc' } } },
  });
  if (!object) throw new NotFoundError(`No object with key "${options.objectKey}".`);
  const unique = uniqueFieldOf(object.fields);
  const keys = [...(unique ? [unique.key] : []), ...object.fields.filter((field) => field !== unique).map((field) => field.key)];
  if (options.format === 'csv') await write(out, csvRow(['id', ...keys]));

  return exportPages(
    out,
    (afterId) =>
      reader.rows<{ id: unknown; properties: unknown }>(Prisma.sql`
        SELECT "id", "properties" FROM "Record"
        WHERE "workspaceId" = ${options.workspaceId} AND "objectId" = ${object.id} AND "id" > ${afterId}
        ORDER BY "id" LIMIT ${EXPORT_PAGE}`),
    (page) => {
      let chunk = '';
      for (const row of page) {
        const id = encodeGlobalId('Record', Number(row.id));
        if (options.format === 'csv') {
          const properties = JSON.parse(String(row.properties)) as Record<string, unknown>;
          chunk += csvRow([id, ...keys.map((key) => cell(properties[key]))]);
        } else {
          // The stored properties are JSON already, on one line (JSON.stringify escapes newlines).
          chunk += `{"id":${JSON.stringify(id)},"properties":${String(row.properties)}}\n`;
        }
      }
      return chunk;
    },
  );
}

/**
 * Every association of the workspace (or of one label, or of the labels of one object), one per
 * row, in id order: the two records
 * (global ids, in the label's order), the label's key, and for each side its object's key and the
 * record's unique value (normalised; empty when its object has no unique field or it has no value),
 * so that the file can also be imported into a workspace where the records have other ids.
 * NDJSON: the same fields per line, `labelKeys` as an array, missing values null.
 * Returns the number of associations written.
 */
export async function exportAssociations(
  out: Writable,
  options: { workspaceId: number; labelKey?: string | null; objectKey?: string | null; format: ExportFormat },
): Promise<number> {
  await findWorkspace(options.workspaceId);
  const [labels, objects] = await Promise.all([
    prisma.associationLabel.findMany({ where: { workspaceId: options.workspaceId } }),
    prisma.objectModel.findMany({ where: { workspaceId: options.workspaceId }, select: { id: true, key: true } }),
  ]);
  let selected = labels;
  if (options.labelKey != null) {
    selected = selected.filter((label) => label.key === options.labelKey);
    if (!selected.length) throw new NotFoundError(`No association label with key "${options.labelKey}".`);
  }
  if (options.objectKey != null) {
    const object = objects.find((candidate) => candidate.key === options.objectKey);
    if (!object) throw new NotFoundError(`No object with key "${options.objectKey}".`);
    selected = selected.filter((label) => label.firstObjectId === object.id || label.secondObjectId === object.id);
  }
  const objectKeys = new Map(objects.map((object) => [object.id, object.key]));
  const byId = new Map(
    labels.map((label) => [label.id, { key: label.key, first: objectKeys.get(label.firstObjectId)!, second: objectKeys.get(label.secondObjectId)! }]),
  );
  if (options.format === 'csv') await write(out, csvRow(ASSOCIATION_COLUMNS));

  // Every label: no filter. Otherwise the selected ones, and 0, which no label has: SQL has no empty IN ().
  const labelFilter =
    selected.length === labels.length ? Prisma.empty : Prisma.sql` AND a."labelId" IN (${Prisma.join([0, ...selected.map((label) => label.id)])})`;
  return exportPages(
    out,
    (afterId) =>
      reader.rows<Record<'id' | 'labelId' | 'firstRecordId' | 'secondRecordId' | 'firstUnique' | 'secondUnique', unknown>>(Prisma.sql`
        SELECT a."id", a."labelId", a."firstRecordId", a."secondRecordId", f."uniqueValue" AS "firstUnique", s."uniqueValue" AS "secondUnique"
        FROM "Association" a
        JOIN "Record" f ON f."id" = a."firstRecordId"
        JOIN "Record" s ON s."id" = a."secondRecordId"
        WHERE a."workspaceId" = ${options.workspaceId} AND a."id" > ${afterId}${labelFilter}
        ORDER BY a."id" LIMIT ${EXPORT_PAGE}`),
    (page) => {
      let chunk = '';
      for (const row of page) {
        const label = byId.get(Number(row.labelId))!;
        const values = {
          firstRecordId: encodeGlobalId('Record', Number(row.firstRecordId)),
          secondRecordId: encodeGlobalId('Record', Number(row.secondRecordId)),
          labelKeys: [label.key],
          firstObjectKey: label.first,
          firstUnique: row.firstUnique === null ? null : String(row.firstUnique),
          secondObjectKey: label.second,
          secondUnique: row.secondUnique === null ? null : String(row.secondUnique),
        };
        chunk +=
          options.format === 'csv'
            ? csvRow(ASSOCIATION_COLUMNS.map((column) => (column === 'labelKeys' ? values.labelKeys.join(';') : (values[column] ?? ''))))
            : `${JSON.stringify(values)}\n`;
      }
      return chunk;
    },
  );
}
