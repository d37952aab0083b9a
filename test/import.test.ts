/**
 * `relate import records|associations` (SPEC §5.3), run as a user runs it (bin/relate.js) against
 * this file's database: CSV as RFC 4180 has it, bad files refused with nothing changed, dry runs,
 * abort and skip, the link rules decided by the API's own code (limits against earlier rows,
 * cardinality, permissions, events), idempotence, record upserts, and the round trip through
 * `relate export`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prisma } from '../src/db/index.js';
import { encodeGlobalId } from '../src/services/ids.js';
import { ImportFileError, importAssociations, importRecords, type ImportOptions, type ImportSummary } from '../src/services/import.js';
import { adminViewer } from '../src/services/viewer.js';
import { useTestApp, type TestWorkspace } from './helpers.js';
import { associationEventRows } from './support/events.js';
import { bulkContacts, COMPANIES, createLabel, createRecord, createUserWithKey, keyedByUniqueValues, link, updateLimits } from './support/fixtures.js';
import { numericId, setAccess } from './support/permissions.js';
import { relate, ROOT } from './support/process.js';

const t = useTestApp();
const ASSOCIATIONS_HEADER = 'firstRecordId,secondRecordId,labelKeys,firstObjectKey,firstUnique,secondObjectKey,secondUnique';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relate-import-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** Writes a file for the CLI to read; returns its path. */
function file(content: string | Buffer): string {
  const path = join(dir, `file-${++files}.csv`);
  writeFileSync(path, content);
  return path;
}

interface Output {
  code: number | null;
  stdout: string;
  stderr: string;
  json: { summary: Record<string, unknown>; rejected: { row: number; column: string | null; code: string; message: string }[] };
}

async function run(args: string[], env: Record<string, string> = {}): Promise<Output> {
  const result = await relate(['import', ...args], { DATABASE_URL: t.url, ...env });
  let json = undefined as unknown as Output['json'];
  if (result.stdout) json = JSON.parse(result.stdout);
  return { ...result, json };
}

interface Crm {
  ws: TestWorkspace;
  workspace: string;
  contacts: Record<'ada' | 'bob' | 'cy' | 'dee', string>;
}

/**
 * A workspace where contacts are named by a unique email and companies by a unique domain:
 * labels `colleague` (contact–contact, SINGLE) and `works_at` (contact → company, MANY_TO_ONE).
 */
async function crm(options: { records?: boolean } = {}): Promise<Crm> {
  const ws = await t.workspace();
  await keyedByUniqueValues(ws, [
    { key: 'employees', name: 'Employees', type: 'NUMBER' },
    { key: 'public', name: 'Public', type: 'BOOLEAN' },
  ]);
  await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
  const worksAt = await ws.gql(`mutation ($input: CreateAssociationLabelInput!) { createAssociationLabel(input: $input) { __typename } }`, {
    input: { key: 'works_at', firstObjectKey: 'contact', secondObjectKey: COMPANIES, type: 'PAIR', firstLabel: 'Employee', secondLabel: 'Employer', cardinality: 'MANY_TO_ONE' },
  });
  expect(worksAt.data.createAssociationLabel.__typename).toBe('CreateAssociationLabelSuccess');
  const contacts = {} as Crm['contacts'];
  if (options.records !== false) {
    for (const name of ['ada', 'bob', 'cy', 'dee'] as const) {
      contacts[name] = (await createRecord(ws, 'contact', { firstName: name[0]!.toUpperCase() + name.slice(1), email: `${name}@example.com` })).id;
    }
    await createRecord(ws, COMPANIES, { name: 'Acme', domain: 'acme.com' });
    await createRecord(ws, COMPANIES, { name: 'Globex', domain: 'globex.com' });
  }
  return { ws, workspace: encodeGlobalId('Workspace', ws.workspaceId), contacts };
}

/** The workspace's associations as `label: first -> second` by unique values, sorted. */
async function graph(workspaceId: number): Promise<string[]> {
  const rows = await prisma.association.findMany({ where: { workspaceId }, include: { label: true, firstRecord: true, secondRecord: true } });
  return rows.map((row) => `${row.label.key}: ${row.firstRecord.uniqueValue} -> ${row.secondRecord.uniqueValue}`).sort();
}

/** The workspace's records as `object unique: properties`, sorted. */
async function records(workspaceId: number): Promise<string[]> {
  const rows = await prisma.recordModel.findMany({ where: { workspaceId }, include: { object: true } });
  return rows.map((row) => `${row.object.key} ${row.uniqueValue}: ${JSON.stringify(JSON.parse(row.properties), Object.keys(JSON.parse(row.properties)).sort())}`).sort();
}

/** Everything an import could change in a workspace (plus the event log). */
async function state(workspaceId: number) {
  return { graph: await graph(workspaceId), records: await records(workspaceId), events: await prisma.associationEvent.count({ where: { workspaceId } }) };
}

const byEmail = (a: string, b: string, labels: string) => `,,${labels},contact,${a}@example.com,contact,${b}@example.com`;
const atCompany = (a: string, domain: string) => `,,works_at,contact,${a}@example.com,${COMPANIES},${domain}`;
const associations = (...rows: string[]) => `${ASSOCIATIONS_HEADER}\n${rows.join('\n')}\n`;

describe('import associations', () => {
  it('links records named by unique value or id, and prints the summary and no rejected rows', async () => {
    const { ws, workspace, contacts } = await crm();
    const path = file(
      associations(
        byEmail('ada', 'bob', 'colleague'),
        `${contacts.cy},${contacts.dee},colleague,,,,`,
        atCompany('ADA', 'acme.com'), // emails compare without case
      ),
    );
    const result = await run(['associations', '--workspace', workspace, path]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.json).toEqual({
      summary: { totalRows: 3, processedRows: 3, createdCount: 3, existingCount: 0, rejectedCount: 0, dryRun: false, onError: 'abort', written: true },
      rejected: [],
    });
    expect(await graph(ws.workspaceId)).toEqual([
      'colleague: ada@example.com -> bob@example.com',
      'colleague: cy@example.com -> dee@example.com',
      'works_at: ada@example.com -> acme.com',
    ]);
  });

  it('reads RFC 4180: a BOM, CRLF, quoted fields with commas, quotes and line breaks, several labels per row', async () => {
    const { ws, workspace } = await crm();
    await createLabel(ws, { key: 'mentor', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Mentor', secondLabel: 'Mentee' });
    const text =
      '\uFEFF' +
      `"firstObjectKey","firstUnique",labelKeys,secondObjectKey,secondUnique\r\n` +
      `contact,"ada@example.com","colleague;mentor",contact,bob@example.com\r\n` +
      `contact,cy@example.com,"colleague",contact,"dee@example.com"\r\n`;
    const result = await run(['associations', '--workspace', workspace, file(text)]);
    expect(result.code).toBe(0);
    expect(result.json.summary).toMatchObject({ totalRows: 2, createdCount: 3, rejectedCount: 0 });
    expect(await graph(ws.workspaceId)).toEqual([
      'colleague: ada@example.com -> bob@example.com',
      'colleague: cy@example.com -> dee@example.com',
      'mentor: ada@example.com -> bob@example.com',
    ]);

    // Records whose unique values hold commas, quotes and a line break, named by them.
    const tricky = ['Comma, Inc.', 'The "Best" Co', 'Two\nlines'];
    for (const domain of tricky) await createRecord(ws, COMPANIES, { name: domain, domain });
    const quoted = (value: string) => `"${value.replaceAll('"', '""')}"`;
    const rows = ['bob', 'cy', 'dee'].map((name, i) => `,,works_at,contact,${name}@example.com,${COMPANIES},${quoted(tricky[i]!)}`);
    const second = await run(['associations', '--workspace', workspace, file(`${ASSOCIATIONS_HEADER}\r\n${rows.join('\r\n')}\r\n`)]);
    expect(second.code).toBe(0);
    expect(second.json.summary).toMatchObject({ totalRows: 3, createdCount: 3 });
    expect((await graph(ws.workspaceId)).filter((row) => row.startsWith('works_at'))).toEqual([
      'works_at: bob@example.com -> Comma, Inc.',
      'works_at: cy@example.com -> The "Best" Co',
      'works_at: dee@example.com -> Two\nlines',
    ]);
  });

  describe('a bad file is refused with a clear message (exit 2, nothing on stdout) and changes nothing, in either mode', () => {
    const good = [byEmail('ada', 'bob', 'colleague'), byEmail('cy', 'dee', 'colleague')];
    const both = ['abort', 'skip'];
    // Errors found in the header are the same in both modes; those found after good rows are
    // checked in both, since skip mode commits batch by batch (it reads the file through first).
    type Case = [mode: string, name: string, content: () => string | Buffer, message: string, env?: Record<string, string>];
    const cases: Case[] = [
      ['abort', 'a wrong header', () => `from,to,label\n${good[0]}\n`, `Unknown column "from" in the header of an associations file. The columns are: ${ASSOCIATIONS_HEADER}.`],
      ['abort', 'a header without labelKeys', () => `firstRecordId,secondRecordId\nx,y\n`, 'The header has no "labelKeys" column.'],
      ['abort', 'a header that names no second record', () => `firstRecordId,labelKeys,secondObjectKey\nx,y,z\n`, 'The header names no second record: it needs "secondRecordId", or "secondObjectKey" and "secondUnique".'],
      ['abort', 'a 0-byte file', () => '', 'The file is empty (0 bytes): it needs a header row.'],
      ['skip', 'a file over RELATE_IMPORT_MAX_BYTES', () => associations(...good), 'an import reads at most 100 bytes (RELATE_IMPORT_MAX_BYTES)', { RELATE_IMPORT_MAX_BYTES: '100' }],
      ...both.map((mode) => [mode, 'a ragged row (after good rows)', () => associations(...good, ',,colleague,contact,ada@example.com'), 'Row 4 has 5 fields; the header has 7.'] as Case),
      ...both.map((mode) => [mode, 'a quote left open', () => associations(...good, `,,colleague,contact,"ada@example.com,contact,bob@example.com`), 'Row 4 opens a quoted field that is never closed.'] as Case),
      ...both.map(
        (mode) =>
          [
            mode,
            'bytes that are not UTF-8 (after good rows)',
            () => Buffer.concat([Buffer.from(associations(...good)), Buffer.from(',,colleague,contact,'), Buffer.from([0xc3, 0x28]), Buffer.from('@example.com,contact,bob@example.com\n')]),
            'The file is not valid UTF-8: byte',
          ] as Case,
      ),
    ];
    it.each(cases)('--on-error %s: %s', async (mode, _case, content, message, env) => {
      const { ws, workspace } = await crm();
      const before = await state(ws.workspaceId);
      const result = await run(['associations', '--workspace', workspace, '--on-error', mode, file(content())], env);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^relate: /);
      expect(result.stderr).toContain(message);
      expect(result.code).toBe(2);
      expect(await state(ws.workspaceId)).toEqual(before);
    });

    it('a stream over the maximum is refused as its bytes are counted (no size given), and nothing is written', async () => {
      const { ws } = await crm();
      const before = await state(ws.workspaceId);
      const rows = Array.from({ length: 200 }, () => byEmail('ada', 'bob', 'colleague'));
      for (const onError of ['abort', 'skip'] as const) {
        const attempt = importAssociations({
          viewer: adminViewer(ws.workspaceId, ws.userId),
          source: Readable.from([Buffer.from(associations(...rows))]),
          maxBytes: 4096,
          onError,
        });
        await expect(attempt).rejects.toThrow('The file is over 4096 bytes; an import reads at most 4096 bytes (RELATE_IMPORT_MAX_BYTES).');
        await expect(attempt).rejects.toBeInstanceOf(ImportFileError);
      }
      expect(await state(ws.workspaceId)).toEqual(before);
    });

    it('names the byte and line of bytes that are not UTF-8', async () => {
      const { workspace } = await crm({ records: false });
      const head = Buffer.from(`${ASSOCIATIONS_HEADER}\n,,colleague,contact,`);
      const result = await run(['associations', '--workspace', workspace, file(Buffer.concat([head, Buffer.from([0xff]), Buffer.from('x,contact,y\n')]))]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`The file is not valid UTF-8: byte ${head.length} (line 2) is not part of a character`);
    });

    it('a 2 GB file is refused before it is read (a sparse file: no disk used)', async () => {
      const { ws, workspace } = await crm({ records: false });
      const path = file('');
      execFileSync('truncate', ['-s', '2G', path]);
      const started = Date.now();
      const result = await run(['associations', '--workspace', workspace, path]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`relate: The file is 2147483648 bytes; an import reads at most ${1024 ** 3} bytes (RELATE_IMPORT_MAX_BYTES).`);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(await graph(ws.workspaceId)).toEqual([]);
    });
  });

  it('usage errors exit 2: a missing file, an unknown --on-error, no workspace', async () => {
    const { workspace } = await crm({ records: false });
    const missing = await run(['associations', '--workspace', workspace, join(dir, 'nothing.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    const mode = await run(['associations', '--workspace', workspace, '--on-error', 'ignore', file(associations())]);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toContain('--on-error must be abort or skip');
    const noWorkspace = await run(['associations', '--workspace', encodeGlobalId('Workspace', 999_999), file(associations())]);
    expect(noWorkspace.code).toBe(2);
    expect(noWorkspace.stderr).toContain('relate: No workspace with that id.');
  });

  const mixed = () => [
    byEmail('ada', 'bob', 'colleague'),
    byEmail('ada', 'nobody', 'colleague'), // row 3: no such contact
    byEmail('cy', 'dee', 'nothing'), // row 4: no such label
    atCompany('bob', 'acme.com'),
  ];
  const mixedRejected = [
    { row: 3, column: 'secondUnique', code: 'NOT_FOUND', message: 'No contact record with email "nobody@example.com".' },
    { row: 4, column: 'labelKeys', code: 'NOT_FOUND', message: 'No association label with key "nothing".' },
  ];

  it('--on-error abort (the default): every row is checked and reported, and nothing is written (exit 1)', async () => {
    const { ws, workspace } = await crm();
    const before = await state(ws.workspaceId);
    const result = await run(['associations', '--workspace', workspace, file(associations(...mixed()))]);
    expect(result.code).toBe(1);
    expect(result.json).toEqual({
      summary: { totalRows: 4, processedRows: 4, createdCount: 2, existingCount: 0, rejectedCount: 2, dryRun: false, onError: 'abort', written: false },
      rejected: mixedRejected,
    });
    expect(await state(ws.workspaceId)).toEqual(before);
  });

  it('--on-error skip: the good rows are written, the others reported (exit 1)', async () => {
    const { ws, workspace } = await crm();
    const result = await run(['associations', '--workspace', workspace, '--on-error', 'skip', file(associations(...mixed()))]);
    expect(result.code).toBe(1);
    expect(result.json).toEqual({
      summary: { totalRows: 4, processedRows: 4, createdCount: 2, existingCount: 0, rejectedCount: 2, dryRun: false, onError: 'skip', written: true },
      rejected: mixedRejected,
    });
    expect(await graph(ws.workspaceId)).toEqual(['colleague: ada@example.com -> bob@example.com', 'works_at: bob@example.com -> acme.com']);
  });

  it('--dry-run checks every row and reports what would happen, writing nothing', async () => {
    const { ws, workspace } = await crm();
    const before = await state(ws.workspaceId);
    const clean = await run(['associations', '--workspace', workspace, '--dry-run', file(associations(byEmail('ada', 'bob', 'colleague'), atCompany('cy', 'globex.com')))]);
    expect(clean.code).toBe(0);
    expect(clean.json).toEqual({
      summary: { totalRows: 2, processedRows: 2, createdCount: 2, existingCount: 0, rejectedCount: 0, dryRun: true, onError: 'abort', written: false },
      rejected: [],
    });
    const bad = await run(['associations', '--workspace', workspace, '--dry-run', '--on-error', 'skip', file(associations(...mixed()))]);
    expect(bad.code).toBe(1);
    expect(bad.json.summary).toMatchObject({ createdCount: 2, rejectedCount: 2, dryRun: true, onError: 'skip', written: false });
    expect(bad.json.rejected).toEqual(mixedRejected);
    expect(await state(ws.workspaceId)).toEqual(before);
  });

  it('limits count the rows before in the same file: cardinality and maxAssociationsPerContact', async () => {
    const { ws, workspace } = await crm();
    await updateLimits(ws, { maxAssociationsPerContact: 2 });
    const rows = [
      atCompany('ada', 'acme.com'),
      atCompany('ada', 'globex.com'), // row 3: works_at is MANY_TO_ONE, ada has an employer (row 2)
      byEmail('ada', 'bob', 'colleague'),
      byEmail('ada', 'cy', 'colleague'),
      byEmail('ada', 'dee', 'colleague'), // row 6: ada's third contact association (rows 4 and 5)
      byEmail('bob', 'cy', 'colleague'),
    ];
    for (const mode of ['abort', 'skip']) {
      const result = await run(['associations', '--workspace', workspace, '--on-error', mode, '--dry-run', file(associations(...rows))]);
      expect(result.json.rejected).toEqual([
        { row: 3, column: 'labelKeys', code: 'LIMIT_EXCEEDED', message: 'Label "works_at" is MANY_TO_ONE: this record already has a linked record under it.' },
        { row: 6, column: 'labelKeys', code: 'LIMIT_EXCEEDED', message: 'A contact already takes part in 2 contact associations; the limit is 2.' },
      ]);
    }
    const result = await run(['associations', '--workspace', workspace, '--on-error', 'skip', file(associations(...rows))]);
    expect(result.code).toBe(1);
    expect(result.json.summary).toMatchObject({ createdCount: 4, rejectedCount: 2, written: true });
    expect(await graph(ws.workspaceId)).toEqual([
      'colleague: ada@example.com -> bob@example.com',
      'colleague: ada@example.com -> cy@example.com',
      'colleague: bob@example.com -> cy@example.com',
      'works_at: ada@example.com -> acme.com',
    ]);
  });

  it('writes a LINKED event per association created, by the importing user', async () => {
    const { ws, workspace } = await crm();
    const result = await run(['associations', '--workspace', workspace, file(associations(byEmail('ada', 'bob', 'colleague'), atCompany('cy', 'acme.com')))]);
    expect(result.code).toBe(0);
    const events = await associationEventRows({ workspaceId: ws.workspaceId });
    expect(events.map((event) => [event.action, event.labelKey, event.actorId])).toEqual([
      ['LINKED', 'colleague', ws.userId],
      ['LINKED', 'works_at', ws.userId],
    ]);
    const stored = await prisma.association.findMany({ where: { workspaceId: ws.workspaceId }, orderBy: { id: 'asc' } });
    expect(events.map((event) => event.associationId)).toEqual(stored.map((row) => row.id));
  });

  it('importing the same file again creates nothing: what is there counts as existing', async () => {
    const { ws, workspace } = await crm();
    const path = file(associations(byEmail('ada', 'bob', 'colleague;colleague'), byEmail('bob', 'ada', 'colleague'), atCompany('cy', 'acme.com')));
    const first = await run(['associations', '--workspace', workspace, path]);
    expect(first.json.summary).toMatchObject({ createdCount: 2, existingCount: 1, rejectedCount: 0 });
    const before = await state(ws.workspaceId);
    const second = await run(['associations', '--workspace', workspace, path]);
    expect(second.code).toBe(0);
    expect(second.json.summary).toMatchObject({ totalRows: 3, createdCount: 0, existingCount: 3, rejectedCount: 0, written: true });
    expect(await state(ws.workspaceId)).toEqual(before);
  });

  it('--api-key imports as that key\'s user: records its role cannot see are NOT_FOUND', async () => {
    const { ws, workspace } = await crm();
    const member = await createUserWithKey(ws, 'Member', `member.${ws.workspaceId}@example.com`);
    await setAccess(ws.gql, member.userId, COMPANIES, 'NONE');
    const rows = [byEmail('ada', 'bob', 'colleague'), atCompany('cy', 'acme.com')];
    const result = await run(['associations', '--api-key', member.apiKey, '--on-error', 'skip', file(associations(...rows))]);
    expect(result.code).toBe(1);
    expect(result.json.rejected).toEqual([{ row: 3, column: 'secondUnique', code: 'NOT_FOUND', message: `No ${COMPANIES} record with domain "acme.com".` }]);
    expect(await graph(ws.workspaceId)).toEqual(['colleague: ada@example.com -> bob@example.com']);
    const events = await associationEventRows({ workspaceId: ws.workspaceId });
    expect(events.map((event) => event.actorId)).toEqual([numericId(member.userId)]);

    // The same, by id: the record is hidden, so it is not found either.
    const acme = await prisma.recordModel.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, uniqueValue: 'acme.com' } });
    const byId = await run(['associations', '--api-key', member.apiKey, file(associations(`,${encodeGlobalId('Record', acme.id)},works_at,contact,dee@example.com,,`))]);
    expect(byId.json.rejected).toEqual([{ row: 2, column: 'secondRecordId', code: 'NOT_FOUND', message: 'No record with that secondRecordId.' }]);

    const other = await t.workspace();
    const elsewhere = await run(['associations', '--api-key', member.apiKey, '--workspace', encodeGlobalId('Workspace', other.workspaceId), file(associations())]);
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toContain('the API key belongs to another workspace');
  });
});

describe('import records', () => {
  it('upserts by the unique field: new records are created, existing ones updated with their properties merged', async () => {
    const { ws, workspace } = await crm({ records: false });
    await createRecord(ws, 'contact', { firstName: 'Ada', email: 'ada@example.com', phone: '+44 20 7946 0000' });
    const text = [
      'email,lastName,firstName',
      'ADA@example.com,Lovelace,', // an empty cell leaves firstName as it is; the email's case is the file's
      'grace@example.com,Hopper,Grace',
      'grace@example.com,,Amazing Grace', // the same value again: the later row updates the earlier one
      'not-an-email,X,Y', // row 5
      ',Nobody,Z', // row 6
    ].join('\n');
    const result = await run(['records', '--workspace', workspace, '--object', 'contact', '--on-error', 'skip', file(text)]);
    expect(result.code).toBe(1);
    expect(result.json).toEqual({
      summary: { totalRows: 5, processedRows: 5, createdCount: 1, existingCount: 2, rejectedCount: 2, dryRun: false, onError: 'skip', written: true },
      rejected: [
        { row: 5, column: 'email', code: 'VALIDATION', message: 'Property "email" must be an email address.' },
        { row: 6, column: 'email', code: 'VALIDATION', message: 'Every row needs a value of the unique field "email".' },
      ],
    });
    expect(await records(ws.workspaceId)).toEqual([
      'contact ada@example.com: {"email":"ADA@example.com","firstName":"Ada","lastName":"Lovelace","phone":"+44 20 7946 0000"}',
      'contact grace@example.com: {"email":"grace@example.com","firstName":"Amazing Grace","lastName":"Hopper"}',
    ]);
    const grace = await prisma.recordModel.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, uniqueValue: 'grace@example.com' } });
    expect(grace.displayName).toBe('Amazing Grace Hopper');

    // Again: nothing new, every row an existing record.
    const again = await run(['records', '--workspace', workspace, '--object', 'contact', file(text.split('\n').slice(0, 4).join('\n'))]);
    expect(again.json.summary).toMatchObject({ createdCount: 0, existingCount: 3, rejectedCount: 0 });
  });

  it('typed values: numbers and booleans parsed, wrong ones rejected with their column; an `id` column is ignored', async () => {
    const { ws, workspace } = await crm({ records: false });
    const text = 'id,domain,name,employees,public\nUmVjb3JkOjE=,acme.com,"Acme, Inc.",1200,true\n,globex.com,Globex,many,false\n,initech.com,Initech,3.5,maybe\n';
    const result = await run(['records', '--workspace', workspace, '--object', COMPANIES, file(text)]);
    expect(result.code).toBe(1);
    expect(result.json.rejected).toEqual([
      { row: 3, column: 'employees', code: 'VALIDATION', message: 'Property "employees" must be a number.' },
      { row: 4, column: 'public', code: 'VALIDATION', message: 'Property "public" must be true or false.' },
    ]);
    expect(await records(ws.workspaceId)).toEqual([]);
    const fixed = await run(['records', '--workspace', workspace, '--object', COMPANIES, file(text.replace('many', '80').replace('maybe', 'FALSE'))]);
    expect(fixed.code).toBe(0);
    expect(await records(ws.workspaceId)).toEqual([
      `${COMPANIES} acme.com: {"domain":"acme.com","employees":1200,"name":"Acme, Inc.","public":true}`,
      `${COMPANIES} globex.com: {"domain":"globex.com","employees":80,"name":"Globex","public":false}`,
      `${COMPANIES} initech.com: {"domain":"initech.com","employees":3.5,"name":"Initech","public":false}`,
    ]);
  });

  it('a value held by a record the user cannot see is a CONFLICT, as createRecord answers', async () => {
    const { ws, workspace } = await crm();
    const member = await createUserWithKey(ws, 'Member', `member.${ws.workspaceId}@example.com`);
    await setAccess(ws.gql, member.userId, 'contact', 'ASSIGNED');
    const result = await run(['records', '--api-key', member.apiKey, '--object', 'contact', file('email,firstName\nada@example.com,Mine\nzed@example.com,Zed\n')]);
    expect(result.code).toBe(1);
    expect(result.json.rejected).toEqual([
      { row: 2, column: 'email', code: 'CONFLICT', message: 'Another contact record already has this email: "email" is unique.' },
    ]);
    expect(result.json.summary).toMatchObject({ createdCount: 1, written: false });
  });

  it('refuses a file whose header is not the object\'s fields, and an object without a unique field', async () => {
    const { ws, workspace } = await crm({ records: false });
    const unknown = await run(['records', '--workspace', workspace, '--object', 'contact', file('email,nickname\na@b.co,A\n')]);
    expect(unknown.stderr).toContain('relate: Unknown column "nickname" in the header of contact records. The columns are: id,firstName,lastName,email,phone.');
    expect(unknown.code).toBe(2);
    const noKey = await run(['records', '--workspace', workspace, '--object', 'contact', file('firstName\nA\n')]);
    expect(noKey.stderr).toContain('The header has no "email" column');
    expect(noKey.code).toBe(2);
    await ws.gql(`mutation { createObject(input: { key: "notes", singularName: "Note", pluralName: "Notes", primaryProperty: "text", fields: [{ key: "text", name: "Text", type: TEXT }] }) { __typename } }`);
    const noUnique = await run(['records', '--workspace', workspace, '--object', 'custom_objects.notes', file('text\nhello\n')]);
    expect(noUnique.stderr).toContain('Object "custom_objects.notes" has no unique field');
    expect(noUnique.code).toBe(2);
    expect(await records(ws.workspaceId)).toEqual([]);
  });
});

describe('batches: the next one is read and prepared while one is written', () => {
  /**
   * An import in batches of two rows, run in-process (the CLI's batches are 1,000 rows): what it
   * reported, in order, and its summary. Progress lines leave totalRows out (skip mode knows it
   * from the start, abort mode counts it as it goes).
   */
  async function inTwos(ws: TestWorkspace, text: string, options: Partial<ImportOptions> & { objectKey?: string }, onRejected?: () => Promise<void>) {
    const events: string[] = [];
    const common: ImportOptions = {
      ...options,
      viewer: adminViewer(ws.workspaceId, ws.userId),
      source: Readable.from([Buffer.from(text)]),
      batchSize: 2,
      onProgress: (c) => events.push(`progress ${c.processedRows}: +${c.createdCount} =${c.existingCount} x${c.rejectedCount}`),
      onRejected: async (error) => {
        events.push(`row ${error.row} ${error.column} ${error.code}`);
        await onRejected?.();
      },
    };
    const summary: ImportSummary = options.objectKey ? await importRecords({ ...common, objectKey: options.objectKey }) : await importAssociations(common);
    return { summary, events };
  }

  it('associations: a row is decided against the links of the batches before it; rejections and progress come batch by batch, in order', async () => {
    const rows = [
      byEmail('ada', 'bob', 'colleague'), // batch 1
      atCompany('ada', 'acme.com'),
      byEmail('ada', 'bob', 'colleague'), // batch 2: there already (batch 1)
      `,,colleague,nope,x,contact,bob@example.com`, // row 5: refused without the database, reported after batch 1's progress
      atCompany('ada', 'globex.com'), // batch 3, row 6: works_at is MANY_TO_ONE, and batch 1 gave ada an employer
      byEmail('ada', 'cy', 'colleague'), // ada's second contact association
      byEmail('dee', 'ada', 'colleague'), // batch 4, row 8: ada's third (the limit is 2)
      byEmail('cy', 'dee', 'colleague'),
    ];
    const expected = [
      'progress 2: +2 =0 x0',
      'row 5 firstObjectKey NOT_FOUND',
      'progress 4: +2 =1 x1',
      'row 6 labelKeys LIMIT_EXCEEDED',
      'progress 6: +3 =1 x2',
      'row 8 labelKeys LIMIT_EXCEEDED',
      'progress 8: +4 =1 x3',
      'progress 8: +4 =1 x3',
    ];
    for (const options of [{ onError: 'abort' }, { onError: 'skip', dryRun: true }, { onError: 'skip' }] as const) {
      const { ws } = await crm();
      await updateLimits(ws, { maxAssociationsPerContact: 2 });
      const before = await state(ws.workspaceId);
      const { summary, events } = await inTwos(ws, associations(...rows), options);
      expect(events, JSON.stringify(options)).toEqual(expected);
      expect(summary).toMatchObject({ totalRows: 8, processedRows: 8, createdCount: 4, existingCount: 1, rejectedCount: 3 });
      if (options.onError === 'skip' && !('dryRun' in options)) {
        expect(summary.written).toBe(true);
        expect(await graph(ws.workspaceId)).toEqual([
          'colleague: ada@example.com -> bob@example.com',
          'colleague: ada@example.com -> cy@example.com',
          'colleague: cy@example.com -> dee@example.com',
          'works_at: ada@example.com -> acme.com',
        ]);
      } else {
        expect(summary.written).toBe(false);
        expect(await state(ws.workspaceId)).toEqual(before);
      }
    }
  });

  it('associations: records per label and a label\'s own limit count the links of the batches before it', async () => {
    const rows = [
      byEmail('ada', 'bob', 'mentor'), // batch 1: mentor links ada and bob
      byEmail('ada', 'cy', 'mentor'), // and cy
      byEmail('bob', 'dee', 'mentor'), // batch 2: and dee, its fourth record
      byEmail('ada', 'dee', 'mentor'), // row 5: ada's third mentee
      byEmail('cy', 'eve', 'mentor'), // batch 3, row 6: eve would be the label's fifth record
      byEmail('ada', 'bob', 'mentor'), // there already
      byEmail('dee', 'ada', 'mentor'), // batch 4
    ];
    // The same decisions whether the tallies are kept as each batch writes (skip: a transaction
    // per batch) or counted in at the end (abort and dry run: one transaction).
    for (const options of [{ onError: 'abort' }, { onError: 'abort', dryRun: true }, { onError: 'skip' }] as const) {
      const { ws } = await crm();
      await createRecord(ws, 'contact', { firstName: 'Eve', email: 'eve@example.com' });
      const mentor = await createLabel(ws, { key: 'mentor', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Mentor', secondLabel: 'Mentee' });
      const limited = await ws.gql(`mutation ($input: UpdateAssociationLabelInput!) { updateAssociationLabel(input: $input) { __typename } }`, {
        input: { id: mentor.id, maxSecondPerFirst: 2 },
      });
      expect(limited.data.updateAssociationLabel.__typename).toBe('UpdateAssociationLabelSuccess');
      await updateLimits(ws, { maxRecordsPerLabel: 4 });
      const rejected: string[] = [];
      const summary = await importAssociations({
        ...options,
        viewer: adminViewer(ws.workspaceId, ws.userId),
        source: Readable.from([Buffer.from(associations(...rows))]),
        batchSize: 2,
        onRejected: (error) => void rejected.push(`row ${error.row} ${error.code}: ${error.message}`),
      });
      expect(rejected, JSON.stringify(options)).toEqual([
        'row 5 LIMIT_EXCEEDED: Under label "mentor" a record may have at most 2 "Mentee" (maxSecondPerFirst); this one already has 2.',
        'row 6 LIMIT_EXCEEDED: Label "mentor" already links 4 records; the limit is 4.',
      ]);
      expect(summary).toMatchObject({ totalRows: 7, processedRows: 7, createdCount: 4, existingCount: 1, rejectedCount: 2, written: options.onError === 'skip' });
      expect(await graph(ws.workspaceId)).toEqual(
        options.onError === 'skip'
          ? ['mentor: ada@example.com -> bob@example.com', 'mentor: ada@example.com -> cy@example.com', 'mentor: bob@example.com -> dee@example.com', 'mentor: dee@example.com -> ada@example.com']
          : [],
      );
    }
  });

  it('associations: hundreds of contacts near their limit, batch after batch: the same rows refused whether the file commits in one transaction or per batch', async () => {
    // A ring of 700 contacts: each one's two links, then its links two apart. Each contact may
    // have 3: of the second round, rows i ≡ 0, 1 (mod 4) pass and the others meet a contact at
    // its limit, in batches of 100, after links of other batches.
    const { ws } = await crm({ records: false });
    await updateLimits(ws, { maxAssociationsPerContact: 3 });
    const people = await bulkContacts(ws, 700);
    const rows = [1, 2].flatMap((k) => people.map((id, i) => `${id},${people[(i + k) % 700]},colleague,,,,`));
    const refused = (summary: ImportSummary, rejected: string[]) => ({ ...summary, rejected });
    const runs = [];
    for (const options of [{ onError: 'abort' }, { onError: 'skip' }] as const) {
      const rejected: string[] = [];
      const summary = await importAssociations({
        ...options,
        viewer: adminViewer(ws.workspaceId, ws.userId),
        source: Readable.from([Buffer.from(associations(...rows))]),
        batchSize: 100,
        settleLinks: 250, // SQLite counts the links in the tallies every 3 batches
        onRejected: (error) => void rejected.push(`${error.row} ${error.code}`),
      });
      runs.push(refused(summary, rejected));
    }
    const [abort, skip] = runs;
    const expected = rows.map((_, index) => index).filter((index) => index >= 700 && (index - 700) % 4 >= 2);
    expect(abort!.rejected).toEqual(expected.map((index) => `${index + 2} LIMIT_EXCEEDED`));
    expect(abort).toMatchObject({ createdCount: 1050, existingCount: 0, rejectedCount: 350, written: false });
    expect(skip).toMatchObject({ createdCount: 1050, rejectedCount: 350, written: true, rejected: abort!.rejected });
  });

  it('records: a unique value a batch before created is an update in a later batch', async () => {
    const text = [
      'email,firstName',
      'grace@example.com,Grace', // batch 1
      'linus@example.com,Linus',
      'GRACE@example.com,Amazing Grace', // batch 2: the record batch 1 created
      'not-an-email,X', // row 5
      'linus@example.com,Linus T', // batch 3
      ',Z', // row 7
    ].join('\n');
    for (const onError of ['abort', 'skip'] as const) {
      const { ws } = await crm({ records: false });
      const { summary, events } = await inTwos(ws, text, { onError, objectKey: 'contact' });
      expect(events, onError).toEqual([
        'progress 2: +2 =0 x0',
        'row 5 email VALIDATION',
        'progress 4: +2 =1 x1',
        'row 7 email VALIDATION',
        'progress 6: +2 =2 x2',
        'progress 6: +2 =2 x2',
      ]);
      expect(summary).toMatchObject({ totalRows: 6, createdCount: 2, existingCount: 2, rejectedCount: 2, written: onError === 'skip' });
      expect(await records(ws.workspaceId)).toEqual(
        onError === 'skip'
          ? ['contact grace@example.com: {"email":"GRACE@example.com","firstName":"Amazing Grace"}', 'contact linus@example.com: {"email":"linus@example.com","firstName":"Linus T"}']
          : [],
      );
    }
  });

  it('skip: an object, record and label made between two batches name and link the rows of the next, though it was read before', async () => {
    const { ws } = await crm();
    const rows = [
      byEmail('ada', 'bob', 'colleague'), // batch 1
      byEmail('cy', 'dee', 'colleague'),
      byEmail('ada', 'cy', 'colleague'), // batch 2
      byEmail('ada', 'nobody', 'colleague'), // row 5: reported once batch 2 committed, after batch 3 was read; the vendor is made then
      `,,supplies,contact,ada@example.com,vendors,v1`, // batch 3
      `,,supplies,contact,bob@example.com,vendors,v1`,
    ];
    let made = false;
    const makeVendor = async () => {
      if (made) return;
      made = true;
      const created = await ws.gql(`mutation ($input: CreateObjectInput!) { createObject(input: $input) { __typename } }`, {
        input: { key: 'vendors', singularName: 'Vendor', pluralName: 'Vendors', primaryProperty: 'code', fields: [{ key: 'code', name: 'Code', type: 'TEXT', unique: true }] },
      });
      expect(created.data.createObject.__typename).toBe('CreateObjectSuccess');
      await createRecord(ws, 'custom_objects.vendors', { code: 'v1' });
      await createLabel(ws, { key: 'supplies', firstObjectKey: 'contact', secondObjectKey: 'custom_objects.vendors', type: 'PAIR', firstLabel: 'Customer', secondLabel: 'Supplier' });
    };
    const { summary, events } = await inTwos(ws, associations(...rows), { onError: 'skip' }, makeVendor);
    expect(events).toEqual(['progress 2: +2 =0 x0', 'row 5 secondUnique NOT_FOUND', 'progress 4: +3 =0 x1', 'progress 6: +5 =0 x1', 'progress 6: +5 =0 x1']);
    expect(summary).toMatchObject({ createdCount: 5, rejectedCount: 1, written: true });
    expect(await graph(ws.workspaceId)).toEqual([
      'colleague: ada@example.com -> bob@example.com',
      'colleague: ada@example.com -> cy@example.com',
      'colleague: cy@example.com -> dee@example.com',
      'supplies: ada@example.com -> v1',
      'supplies: bob@example.com -> v1',
    ]);
  });
});

describe('round trip', () => {
  it('export records and associations, import them into an empty workspace: the same graph', async () => {
    const source = await crm();
    const { ws, contacts } = source;
    await createRecord(ws, 'contact', { firstName: 'Quote "Q", Comma', lastName: 'Two\nlines', email: 'q@example.com' });
    await link(ws, contacts.ada, contacts.bob, ['colleague']);
    await link(ws, contacts.dee, contacts.cy, ['colleague']);
    const acme = (await prisma.recordModel.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, uniqueValue: 'acme.com' } })).id;
    await link(ws, contacts.ada, encodeGlobalId('Record', acme), ['works_at']);
    await link(ws, contacts.bob, encodeGlobalId('Record', acme), ['works_at']);

    const exported = async (args: string[]) => {
      const result = await relate(['export', ...args, '--workspace', source.workspace], { DATABASE_URL: t.url });
      expect(result.code).toBe(0);
      return file(result.stdout);
    };
    const contactsFile = await exported(['records', '--object', 'contact']);
    const companiesFile = await exported(['records', '--object', COMPANIES]);
    const associationsFile = await exported(['associations']);

    const target = await crm({ records: false });
    for (const [object, path] of [['contact', contactsFile], [COMPANIES, companiesFile]] as const) {
      const result = await run(['records', '--workspace', target.workspace, '--object', object, path]);
      expect(result.code).toBe(0);
    }
    const linked = await run(['associations', '--workspace', target.workspace, associationsFile]);
    expect(linked.code).toBe(0);
    expect(linked.json.summary).toMatchObject({ totalRows: 4, createdCount: 4, rejectedCount: 0 });

    expect(await records(target.ws.workspaceId)).toEqual(await records(ws.workspaceId));
    expect(await graph(target.ws.workspaceId)).toEqual(await graph(ws.workspaceId));
    expect(await graph(ws.workspaceId)).toHaveLength(4);
  }, 240_000);
});

describe('examples/', () => {
  it('examples/contacts.csv and examples/associations.csv import as the README says', async () => {
    const ws = await t.workspace();
    const workspace = encodeGlobalId('Workspace', ws.workspaceId);
    const contactObject = (await ws.gql('{ object(key: "contact") { id } }')).data.object.id as string;
    await ws.gql(`mutation ($id: ID!) { updateObject(input: { id: $id, uniqueField: "email" }) { __typename } }`, { id: contactObject });
    await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
    await createLabel(ws, { key: 'manager', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Report' });
    const contactsResult = await run(['records', '--workspace', workspace, '--object', 'contact', join(ROOT, 'examples/contacts.csv')]);
    expect(contactsResult.code).toBe(0);
    expect(contactsResult.json.summary.rejectedCount).toBe(0);
    const linked = await run(['associations', '--workspace', workspace, join(ROOT, 'examples/associations.csv')]);
    expect(linked.code).toBe(0);
    expect(linked.json.summary.createdCount).toBeGreaterThan(0);
    expect(linked.json.summary.createdCount).toBe(await prisma.association.count({ where: { workspaceId: ws.workspaceId } }));
    expect(readFileSync(join(ROOT, 'examples/associations.csv'), 'utf8').split(/\r?\n/)[0]).toBe('firstObjectKey,firstUnique,secondObjectKey,secondUnique,labelKeys');
  });
});
