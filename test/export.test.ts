/**
 * `relate export records|associations` (SPEC §5.3), run as a user runs it (bin/relate.js): CSV
 * (RFC 4180 quoting) and NDJSON, id order, filters, clear failures, and writing with backpressure.
 *
 * Constant memory, argued rather than measured here (the benchmark measures a million rows): the
 * export reads keyset pages of EXPORT_PAGE rows by id and reads the next page only after the
 * stream took the last one — waiting for 'drain' whenever `write` returns false — so what it holds
 * is one page and the stream's buffer, however many rows there are. The test below checks that
 * second half: against a slow consumer the stream's buffer stays within one page of its
 * high-water mark instead of growing with the export. A few thousand rows make several pages.
 */
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { prisma } from '../src/db/index.js';
import { EXPORT_PAGE, exportRecords } from '../src/services/export.js';
import { encodeGlobalId } from '../src/services/ids.js';
import { describeRecord } from '../src/services/records.js';
import { useTestApp, type TestWorkspace } from './helpers.js';
import { createLabel, createRecord, link } from './support/fixtures.js';
import { relate } from './support/process.js';

const t = useTestApp();

const BOARDS = 'custom_objects.boards';
const BULK = 2_500;

/** RFC 4180, strictly: fields quoted or not, "" inside quotes, records ended by CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') (field += '"'), (i += 1);
      else quoted = false;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), (i += 1);
    else field += c;
  }
  if (field !== '' || row.length) throw new Error(`the last record has no CRLF: ${JSON.stringify(row)}`);
  return rows;
}

const ndjson = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

const gid = (id: number) => encodeGlobalId('Record', id);

let ws: TestWorkspace;
let workspace: string;
/** The boards' ids, ascending, and their properties as stored. */
let boards: { id: number; properties: Record<string, unknown> }[];
const exportCli = (args: string[]) => relate(['export', ...args], { DATABASE_URL: t.url });

/** Special values: every kind of text a CSV writer must quote, and some it must not. */
const TRICKY = [
  { serial: 'Q-1', name: 'Comma, inside', note: 'He said "hi", then left' },
  { serial: 'Q-2', name: 'Two\nlines', note: 'CRLF\r\ninside' },
  { serial: 'Q-3', name: '"Quoted"', note: '  spaces kept  ' },
  { serial: 'Q-4', name: 'Ünïcödé ✓ 日本', note: '' },
  { serial: 'Q-5', name: 'no note', length: 9.5, used: true },
];

beforeAll(async () => {
  ws = await t.workspace();
  workspace = encodeGlobalId('Workspace', ws.workspaceId);
  const created = await ws.gql(
    `mutation ($input: CreateObjectInput!) { createObject(input: $input) { __typename } }`,
    {
      input: {
        key: 'boards',
        singularName: 'Board',
        pluralName: 'Boards',
        primaryProperty: 'name',
        fields: [
          { key: 'name', name: 'Name', type: 'TEXT', required: true },
          { key: 'length', name: 'Length', type: 'NUMBER' },
          { key: 'used', name: 'Used', type: 'BOOLEAN' },
          { key: 'note', name: 'Note', type: 'TEXT' },
          { key: 'serial', name: 'Serial', type: 'TEXT', unique: true },
        ],
      },
    },
  );
  expect(created.data.createObject.__typename).toBe('CreateObjectSuccess');
  for (const properties of TRICKY) await createRecord(ws, BOARDS, properties);

  // Thousands more, in bulk: several export pages.
  const object = await prisma.objectModel.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: BOARDS } });
  await prisma.recordModel.createMany({
    data: Array.from({ length: BULK }, (_, i) => {
      const properties = { name: `Board ${i}`, length: i / 4, used: i % 2 === 0, serial: `S-${i}` };
      return {
        workspaceId: ws.workspaceId,
        objectId: object.id,
        properties: JSON.stringify(properties),
        uniqueValue: properties.serial,
        ...describeRecord(object, properties),
      };
    }),
  });
  boards = (await prisma.recordModel.findMany({ where: { objectId: object.id }, orderBy: { id: 'asc' } })).map((record) => ({
    id: record.id,
    properties: JSON.parse(record.properties),
  }));

  // Contacts (without a unique field) own boards; a few contacts are colleagues.
  const contacts: string[] = [];
  for (let i = 0; i < 5; i += 1) contacts.push((await createRecord(ws, 'contact', { firstName: `Owner ${i}` })).id);
  await createLabel(ws, { key: 'owner_board', firstObjectKey: 'contact', secondObjectKey: BOARDS, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Board' });
  await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
  await link(ws, contacts[0]!, contacts[1]!, ['colleague']);
  await link(ws, contacts[2]!, contacts[1]!, ['colleague']);
  const ownerBoard = await prisma.associationLabel.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'owner_board' } });
  const contactIds = contacts.map((id) => Number(Buffer.from(id, 'base64').toString().split(':')[1]));
  await prisma.association.createMany({
    data: boards.map((board, i) => ({
      workspaceId: ws.workspaceId,
      labelId: ownerBoard.id,
      firstRecordId: contactIds[i % contactIds.length]!,
      secondRecordId: board.id,
    })),
  });
  await link(ws, contacts[3]!, contacts[4]!, ['colleague']);

  // Another workspace with the same object key: never in this workspace's export.
  const other = await t.workspace();
  await other.gql(`mutation ($input: CreateObjectInput!) { createObject(input: $input) { __typename } }`, {
    input: { key: 'boards', singularName: 'Board', pluralName: 'Boards', primaryProperty: 'name', fields: [{ key: 'name', name: 'Name', type: 'TEXT' }] },
  });
  await createRecord(other, BOARDS, { name: 'Not ours' });
}, 120_000);

describe('relate export records', () => {
  it('CSV: id, the unique field first, then the fields in order; every record in id order, quoted per RFC 4180', async () => {
    const result = await exportCli(['records', '--workspace', workspace, '--object', BOARDS]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [header, ...rows] = parseCsv(result.stdout);
    expect(header).toEqual(['id', 'serial', 'name', 'length', 'used', 'note']);
    expect(rows).toHaveLength(TRICKY.length + BULK);
    expect(rows.map((row) => row[0])).toEqual(boards.map((board) => gid(board.id)));
    const cell = (value: unknown) => (value === undefined ? '' : String(value));
    expect(rows).toEqual(
      boards.map((board) => [gid(board.id), ...['serial', 'name', 'length', 'used', 'note'].map((key) => cell(board.properties[key]))]),
    );
    // The bytes of the tricky rows, exactly.
    expect(result.stdout).toContain(`\r\n${gid(boards[0]!.id)},Q-1,"Comma, inside",,,"He said ""hi"", then left"\r\n`);
    expect(result.stdout).toContain(`\r\n${gid(boards[1]!.id)},Q-2,"Two\nlines",,,"CRLF\r\ninside"\r\n`);
    expect(result.stdout).toContain(`\r\n${gid(boards[2]!.id)},Q-3,"""Quoted""",,,  spaces kept  \r\n`);
    expect(result.stdout).toContain(`\r\n${gid(boards[4]!.id)},Q-5,no note,9.5,true,\r\n`);
    expect(result.stdout).not.toContain('Not ours');
  });

  it('NDJSON: one {id, properties} object per line, in id order', async () => {
    const result = await exportCli(['records', '--workspace', String(ws.workspaceId), '--object', BOARDS, '--format', 'ndjson']);
    expect(result.code).toBe(0);
    expect(result.stdout.endsWith('\n')).toBe(true);
    expect(ndjson(result.stdout)).toEqual(boards.map((board) => ({ id: gid(board.id), properties: board.properties })));
  });

  it('an object without records exports its header alone', async () => {
    const result = await exportCli(['records', '--workspace', workspace, '--object', 'contact']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\r\n')[0]).toBe('id,firstName,lastName,email,phone');
  });
});

describe('relate export associations', () => {
  const HEADER = ['firstRecordId', 'secondRecordId', 'labelKeys', 'firstObjectKey', 'firstUnique', 'secondObjectKey', 'secondUnique'];

  async function stored(labelKey?: string) {
    const rows = await prisma.association.findMany({
      where: { workspaceId: ws.workspaceId, ...(labelKey ? { label: { key: labelKey } } : {}) },
      orderBy: { id: 'asc' },
      include: { label: true, secondRecord: true },
    });
    return rows.map((row) => {
      const toBoard = row.label.key === 'owner_board';
      return [
        gid(row.firstRecordId),
        gid(row.secondRecordId),
        row.label.key,
        'contact',
        '',
        toBoard ? BOARDS : 'contact',
        toBoard ? JSON.parse(row.secondRecord.properties).serial : '',
      ];
    });
  }

  it('CSV: one association per row in id order, both records by id and by object key and unique value', async () => {
    const result = await exportCli(['associations', '--workspace', workspace]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [header, ...rows] = parseCsv(result.stdout);
    expect(header).toEqual(HEADER);
    expect(rows).toHaveLength(BULK + TRICKY.length + 3);
    expect(rows).toEqual(await stored());
    // Colleague links made before and after the bulk ones keep their place in id order.
    expect(rows[0]![2]).toBe('colleague');
    expect(rows.at(-1)![2]).toBe('colleague');
  });

  it('--label and --object keep one label, or the labels of one object', async () => {
    const colleagues = await exportCli(['associations', '--workspace', workspace, '--label', 'colleague']);
    expect(colleagues.code).toBe(0);
    expect(parseCsv(colleagues.stdout).slice(1)).toEqual(await stored('colleague'));
    const ofBoards = await exportCli(['associations', '--workspace', workspace, '--object', BOARDS]);
    expect(parseCsv(ofBoards.stdout).slice(1)).toEqual(await stored('owner_board'));
    const ofContacts = await exportCli(['associations', '--workspace', workspace, '--object', 'contact', '--label', 'colleague']);
    expect(parseCsv(ofContacts.stdout).slice(1)).toEqual(await stored('colleague'));
  });

  it('NDJSON: the same fields, labelKeys as a list, missing values null', async () => {
    const result = await exportCli(['associations', '--workspace', workspace, '--label', 'owner_board', '--format', 'ndjson']);
    expect(result.code).toBe(0);
    const lines = ndjson(result.stdout);
    expect(lines).toEqual(
      (await stored('owner_board')).map(([firstRecordId, secondRecordId, labelKey, firstObjectKey, , secondObjectKey, secondUnique]) => ({
        firstRecordId,
        secondRecordId,
        labelKeys: [labelKey],
        firstObjectKey,
        firstUnique: null,
        secondObjectKey,
        secondUnique,
      })),
    );
  });
});

describe('relate export failures: a message on stderr, a non-zero exit, nothing on stdout', () => {
  it.each([
    ['an unknown workspace', ['records', '--workspace', encodeGlobalId('Workspace', 999_999), '--object', BOARDS], 'No workspace with that id.'],
    ['an unknown object', ['records', '--workspace', 'W', '--object', 'custom_objects.nothing'], 'No object with key "custom_objects.nothing".'],
    ['an unknown label', ['associations', '--workspace', 'W', '--label', 'nothing'], 'No association label with key "nothing".'],
    ['an unknown object filter', ['associations', '--workspace', 'W', '--object', 'nothing'], 'No object with key "nothing".'],
    ['a missing --object', ['records', '--workspace', 'W'], '--object is required'],
    ['an unknown format', ['records', '--workspace', 'W', '--object', BOARDS, '--format', 'xml'], '--format must be csv or ndjson'],
    ['a malformed workspace id', ['associations', '--workspace', 'nope'], '--workspace must be a Workspace id'],
  ])('%s', async (_case, args, message) => {
    const result = await exportCli(args.map((arg) => (arg === 'W' ? workspace : arg)));
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`relate: ${message}`);
  });
});

describe('backpressure', () => {
  it('against a slow consumer, the stream holds at most its high-water mark and one page', async () => {
    const highWaterMark = 16 * 1024;
    let written = 0;
    let maxBuffered = 0;
    const out = new Writable({
      highWaterMark,
      write(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        setTimeout(done, 2); // a slow pipe
      },
    });
    const originalWrite = out.write.bind(out);
    let largestChunk = 0;
    out.write = ((chunk: string, ...rest: never[]) => {
      largestChunk = Math.max(largestChunk, Buffer.byteLength(chunk));
      const accepted = originalWrite(chunk, ...rest);
      maxBuffered = Math.max(maxBuffered, out.writableLength);
      return accepted;
    }) as typeof out.write;

    const count = await exportRecords(out, { workspaceId: ws.workspaceId, objectKey: BOARDS, format: 'csv' });
    expect(count).toBe(boards.length);
    expect(count).toBeGreaterThan(2 * EXPORT_PAGE);
    // Nothing was written past a full buffer: it never held more than its mark plus one page's
    // chunk, a fraction of the whole export.
    expect(maxBuffered).toBeLessThanOrEqual(highWaterMark + largestChunk);
    expect(largestChunk).toBeLessThan(written / 2);
  });
});
