import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadTrustedDocuments } from '../src/plugins/trusted-documents.js';
import { seedDemo } from '../src/services/demo.js';
import { ENDPOINT, createTestDatabase, useTestApp } from './helpers.js';
import { ROOT, runNode, serverArgs, startServer, type RunningServer } from './support/process.js';

/**
 * Trusted documents: a frontend's operations, generated with codegen's client preset, are sent
 * by hash and looked up in the manifest codegen writes (examples/trusted-documents). With
 * RELATE_TRUSTED_DOCUMENTS=only nothing else runs; by default anything runs, hashes too.
 */
const MANIFEST = 'examples/trusted-documents/gql/persisted-documents.json';
const manifest = JSON.parse(readFileSync(join(ROOT, MANIFEST), 'utf8')) as Record<string, string>;
/** The example's operations by name, with the hash codegen gave each (`sha256:<hex>`). */
const hashOf = (name: string) => Object.entries(manifest).find(([, document]) => document.startsWith(`query ${name}(`))![0];
const UNKNOWN_HASH = `sha256:${'0'.repeat(64)}`;
const INTROSPECTION = '{ __schema { queryType { name } } }';

const persisted = (hash: string, variables?: Record<string, unknown>) => ({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });

/** POSTs a JSON body (and a key, unless null) to a server's /graphql; the whole answer with its status. */
async function post(url: string, body: unknown, apiKey: string | null) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, ...((await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] }) };
}

const temporary = mkdtempSync(join(tmpdir(), 'relate-trusted-'));
afterAll(() => rmSync(temporary, { recursive: true, force: true }));
/** Writes a manifest file for a test; returns its path. */
function manifestFile(name: string, content: string): string {
  const path = join(temporary, name);
  writeFileSync(path, content);
  return path;
}

describe('the manifests', () => {
  it("loads codegen's persisted-documents.json: each document under its hash without the sha256: prefix", () => {
    const documents = loadTrustedDocuments([join(ROOT, MANIFEST)]);
    expect(documents.size).toBe(Object.keys(manifest).length);
    for (const [hash, document] of Object.entries(manifest)) {
      expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(documents.get(hash.slice('sha256:'.length))).toBe(document);
    }
  });

  it('merges several files, and refuses one that gives a known hash another document', () => {
    const extra = manifestFile('extra.json', JSON.stringify({ abc: '{ viewer { user { id } } }' }));
    expect(loadTrustedDocuments([join(ROOT, MANIFEST), extra]).size).toBe(Object.keys(manifest).length + 1);
    const clash = manifestFile('clash.json', JSON.stringify({ [hashOf('FindContact').slice('sha256:'.length)]: '{ objects { key } }' }));
    expect(() => loadTrustedDocuments([join(ROOT, MANIFEST), clash])).toThrow(`RELATE_TRUSTED_DOCUMENTS_FILE: ${clash} gives`);
  });

  it.each([
    ['missing.json', null, 'cannot be read (ENOENT)'],
    ['broken.json', '{ "abc": ', 'is not JSON'],
    ['list.json', '["{ objects { key } }"]', 'is not a manifest'],
    ['numbers.json', '{ "abc": 1 }', 'is not a manifest: "abc" must map to a document\'s text'],
    ['empty.json', '{}', 'holds no documents'],
    ['syntax.json', '{ "abc": "{ objects { key }" }', 'holds a document that does not parse under "abc" (Syntax Error'],
  ])('refuses %s in one line', (name, content, problem) => {
    const path = content === null ? join(temporary, name) : manifestFile(name, content);
    const load = () => loadTrustedDocuments([path]);
    expect(load).toThrow(`RELATE_TRUSTED_DOCUMENTS_FILE: ${path} ${problem}`);
    try {
      load();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

describe('a start with a bad setting', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  const start = (env: Record<string, string>) =>
    runNode(serverArgs(), { DATABASE_URL: db.url, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info', ...env });

  it.each([
    [{ RELATE_TRUSTED_DOCUMENTS_FILE: 'no/such/manifest.json' }, 'RELATE_TRUSTED_DOCUMENTS_FILE: no/such/manifest.json cannot be read (ENOENT)'],
    [{ RELATE_TRUSTED_DOCUMENTS: 'only' }, 'RELATE_TRUSTED_DOCUMENTS=only needs RELATE_TRUSTED_DOCUMENTS_FILE'],
    [{ RELATE_TRUSTED_DOCUMENTS: 'sometimes', RELATE_TRUSTED_DOCUMENTS_FILE: MANIFEST }, 'RELATE_TRUSTED_DOCUMENTS must be allow or only; got "sometimes"'],
  ])('%o stops it with one line and status 1', async (env, line) => {
    const { code, stdout, stderr } = await start(env);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', message: expect.stringContaining(`cannot start: ${line}`) });
  });
});

describe('RELATE_TRUSTED_DOCUMENTS=only, with the example manifest (a real server)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  let url: string;
  let apiKey: string;
  /** A second manifest holding an introspection query, to show introspection is off, not just unlisted. */
  const introspectionHash = 'introspection';

  beforeAll(async () => {
    db = await createTestDatabase();
    const extra = manifestFile('introspection.json', JSON.stringify({ [introspectionHash]: INTROSPECTION }));
    server = await startServer({
      DATABASE_URL: db.url,
      NODE_ENV: 'development',
      RELATE_TRUSTED_DOCUMENTS: 'only',
      RELATE_TRUSTED_DOCUMENTS_FILE: `${MANIFEST},${extra}`,
    });
    url = `${server.url}/graphql`;
    apiKey = /Development key[^\n]*\n\n {2}(rel_\S+)\n/.exec(server.output())![1]!;
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) await server.stop();
    await db?.drop();
  });

  it('runs the example: the record page, by hash alone', async () => {
    const { code, stdout, stderr } = await runNode(['--import', 'tsx', 'examples/trusted-documents/record-page.ts', 'ada'], {
      RELATE_URL: url,
      RELATE_API_KEY: apiKey,
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        'Ada Lovelace',
        '  Colleague (2): Charles Babbage, Alan Turing',
        '  Manager (1): Charles Babbage',
        '  Car (1): Analytical Engine Roadster',
        '  Driven car (1): Analytical Engine Roadster',
        '',
      ].join('\n'),
    );
  });

  it('takes the hash as the client preset writes it, as bare hex, or as a documentId (POST or GET)', async () => {
    const hash = hashOf('FindContact');
    const expected = { status: 200, data: { records: { edges: [{ node: { id: expect.any(String), displayName: 'Grace Hopper' } }] } } };
    expect(await post(url, persisted(hash, { search: 'grace' }), apiKey)).toEqual(expected);
    expect(await post(url, persisted(hash.slice('sha256:'.length), { search: 'grace' }), apiKey)).toEqual(expected);
    expect(await post(url, { documentId: hash, variables: { search: 'grace' } }, apiKey)).toEqual(expected);
    const get = new URL(url);
    get.searchParams.set('documentId', hash);
    get.searchParams.set('variables', JSON.stringify({ search: 'grace' }));
    const response = await fetch(get, { headers: { authorization: `Bearer ${apiKey}` } });
    expect({ status: response.status, ...((await response.json()) as object) }).toEqual(expected);
  });

  it('refuses an operation sent as text, even with a known hash beside it: 400 PERSISTED_QUERY_ONLY', async () => {
    for (const body of [{ query: '{ viewer { user { id } } }' }, { query: manifest[hashOf('FindContact')], ...persisted(hashOf('FindContact'), { search: 'a' }) }]) {
      const answer = await post(url, body, apiKey);
      expect(answer).toEqual({
        status: 400,
        errors: [{ message: expect.stringContaining('Only trusted documents are accepted'), extensions: { code: 'PERSISTED_QUERY_ONLY' } }],
      });
      expect(answer.data).toBeUndefined();
    }
  });

  it('refuses an unknown hash: 404 PERSISTED_QUERY_NOT_FOUND', async () => {
    for (const body of [persisted(UNKNOWN_HASH), { documentId: UNKNOWN_HASH }]) {
      expect(await post(url, body, apiKey)).toEqual({
        status: 404,
        errors: [{ message: expect.stringContaining('No trusted document has this hash'), extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }],
      });
    }
    expect(await post(url, {}, apiKey)).toMatchObject({ status: 400, errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('still asks for an API key', async () => {
    expect(await post(url, persisted(hashOf('FindContact'), { search: 'grace' }), null)).toMatchObject({
      status: 401,
      errors: [{ extensions: { code: 'UNAUTHENTICATED' } }],
    });
  });

  it('serves no GraphiQL and no explorer', async () => {
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(page.status).toBeGreaterThanOrEqual(400);
    expect(await page.text()).not.toContain('<html');
    expect((await fetch(`${server.url}/explore`)).status).toBe(404);
    expect(server.output()).toContain('GraphiQL and the explorer are off');
  });

  it('refuses introspection, even from a trusted document', async () => {
    expect(await post(url, { query: INTROSPECTION }, apiKey)).toMatchObject({ status: 400, errors: [{ extensions: { code: 'PERSISTED_QUERY_ONLY' } }] });
    const answer = await post(url, persisted(introspectionHash), apiKey);
    expect(answer.data ?? null).toBeNull();
    expect(answer.errors?.[0]?.message).toMatch(/introspection/i);
    expect(answer.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('the default (RELATE_TRUSTED_DOCUMENTS unset or allow), with the example manifest', () => {
  useTestApp(); // this describe's database
  let app: App;
  let apiKey: string;
  const send = async (body: unknown) => {
    const response = await app.fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, ...((await response.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] }) };
  };

  beforeAll(async () => {
    apiKey = (await seedDemo()).apiKey;
    app = createApp({
      config: { production: false, introspection: true, reportStatements: false },
      trustedDocuments: { mode: 'allow', documents: loadTrustedDocuments([join(ROOT, MANIFEST)]) },
    });
  });

  it('runs any operation, and known hashes', async () => {
    expect(await send({ query: '{ viewer { workspace { name } } }' })).toEqual({ status: 200, data: { viewer: { workspace: { name: 'Demo' } } } });
    expect(await send(persisted(hashOf('FindContact'), { search: 'alan' }))).toMatchObject({
      status: 200,
      data: { records: { edges: [{ node: { displayName: 'Alan Turing' } }] } },
    });
    // A query beside a documentId runs as the query.
    expect(await send({ query: '{ objects { key } }', documentId: hashOf('FindContact') })).toMatchObject({ status: 200, data: { objects: [{ key: 'contact' }, { key: 'custom_objects.cars' }] } });
  });

  it('answers an unknown hash with 404 PERSISTED_QUERY_NOT_FOUND', async () => {
    expect(await send(persisted(UNKNOWN_HASH))).toMatchObject({ status: 404, errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] });
  });

  it('keeps introspection and, in development, GraphiQL', async () => {
    expect(await send({ query: INTROSPECTION })).toEqual({ status: 200, data: { __schema: { queryType: { name: 'Query' } } } });
    const page = await app.fetch(ENDPOINT, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
  });
});

describe('the generated example', () => {
  it('is what codegen writes today (client-preset output and manifest, and every other generated file)', async () => {
    const { code, stdout, stderr } = await runNode(['node_modules/@graphql-codegen/cli/cjs/bin.js', '--config', 'codegen.ts', '--check'], {});
    expect(`${stdout}${stderr}`).not.toContain('stale files');
    expect(code).toBe(0);
  });
});
