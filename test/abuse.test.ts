/**
 * GraphQL abuse classes (SPEC §4 query guards, §5.1): alias overload, directive overload, field
 * duplication, circular fragments and fragment bombs, batched operation arrays, mutations over
 * GET. Each is refused before execution — an error with an `extensions.code`, a 4xx status under
 * the GraphQL over HTTP media type (`application/graphql-response+json`), no data — and nothing
 * it names is executed: no record is created. Field duplication may instead be answered, but
 * then as one field: duplicates never multiply the work.
 */
import { describe, expect, it } from 'vitest';
import { prisma } from '../src/db/index.js';
import { readAnswer, type Answer } from './fuzz/checks.js';
import { ENDPOINT, useTestApp, type TestWorkspace } from './helpers.js';

const t = useTestApp();

const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const MEDIA_TYPES = [GRAPHQL_RESPONSE, 'application/json'] as const;

type Reply = Answer;

async function request(ws: TestWorkspace, init: { method?: string; body?: unknown; search?: string; accept: string }): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${ws.apiKey}`, accept: init.accept };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await t.app.countedFetch(`${ENDPOINT}${init.search ?? ''}`, {
    method: init.method ?? 'POST',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return readAnswer(response);
}

const records = (ws: TestWorkspace) => prisma.recordModel.count({ where: { workspaceId: ws.workspaceId } });

/** Refused before execution: no data, every error with a code, a 4xx under the GraphQL over HTTP media type. */
function expectRefused(reply: Reply, accept: string, status?: number) {
  const context = `HTTP ${reply.status} ${reply.text.slice(0, 400)}`;
  expect(reply.body, context).toBeTypeOf('object');
  expect(reply.body.data ?? null, context).toBeNull();
  expect(reply.body.errors?.length, context).toBeGreaterThan(0);
  for (const error of reply.body.errors) {
    expect(error.extensions?.code, `an error without extensions.code: ${JSON.stringify(error)}`).toEqual(expect.any(String));
    expect(error.extensions?.code, context).not.toBe('INTERNAL_SERVER_ERROR');
  }
  if (status !== undefined) expect(reply.status, context).toBe(status);
  else if (accept === GRAPHQL_RESPONSE) {
    expect(reply.status, context).toBeGreaterThanOrEqual(400);
    expect(reply.status, context).toBeLessThan(500);
  } else expect([200, 400], context).toContain(reply.status);
}

/** Sends a document that must be refused, under both media types, and checks nothing was created. */
async function refuses(ws: TestWorkspace, query: string, variables?: Record<string, unknown>) {
  const before = await records(ws);
  for (const accept of MEDIA_TYPES) expectRefused(await request(ws, { body: { query, variables }, accept }), accept);
  expect(await records(ws)).toBe(before);
}

const CREATE = 'createRecord(input: $input) { __typename }';
const INPUT = { input: { objectKey: 'contact', properties: { firstName: 'Abuse' } } };

describe('GraphQL abuse', () => {
  it('alias overload: hundreds of aliases of a mutation or a field are refused, and none runs', async () => {
    const ws = await t.workspace();
    const mutation = Array.from({ length: 300 }, (_, i) => `a${i}: ${CREATE}`).join(' ');
    await refuses(ws, `mutation ($input: CreateRecordInput!) { ${mutation} }`, INPUT);
    const query = Array.from({ length: 300 }, (_, i) => `a${i}: viewer { user { id } }`).join(' ');
    await refuses(ws, `{ ${query} }`);
    const lists = Array.from({ length: 200 }, (_, i) => `a${i}: records(objectKey: "contact", first: 100) { totalCount }`).join(' ');
    await refuses(ws, `{ ${lists} }`);
  });

  it('directive overload: the same directive repeated on one field is refused, and the field does not run', async () => {
    const ws = await t.workspace();
    for (const count of [50, 1_000]) {
      await refuses(ws, `mutation ($input: CreateRecordInput!) { createRecord(input: $input) ${'@skip(if: false) '.repeat(count)}{ __typename } }`, INPUT);
      await refuses(ws, `mutation ($input: CreateRecordInput!) { createRecord(input: $input) ${'@include(if: true) '.repeat(count)}{ __typename } }`, INPUT);
      await refuses(ws, `{ viewer ${'@include(if: true) @skip(if: false) '.repeat(count / 2)}{ user { name } } }`);
    }
  });

  it('field duplication: a field repeated a thousand times is refused, or answered as one field', async () => {
    const ws = await t.workspace();
    // A mutation repeated: refused, or merged into one execution (GraphQL merges identical fields).
    const before = await records(ws);
    const repeated = await request(ws, {
      body: { query: `mutation ($input: CreateRecordInput!) { ${Array.from({ length: 300 }, () => CREATE).join(' ')} }`, variables: INPUT },
      accept: GRAPHQL_RESPONSE,
    });
    if (repeated.body?.data) {
      expect(repeated.body.errors ?? [], repeated.text).toEqual([]);
      expect(repeated.body.data.createRecord.__typename).toBe('CreateRecordSuccess');
      expect(await records(ws)).toBe(before + 1);
    } else {
      expectRefused(repeated, GRAPHQL_RESPONSE);
      expect(await records(ws)).toBe(before);
    }
    // A list field repeated: refused, or read once (no more SQL statements than one copy costs).
    const one = await request(ws, { body: { query: '{ records(objectKey: "contact", first: 100) { totalCount edges { node { displayName } } } }' }, accept: GRAPHQL_RESPONSE });
    expect(one.body.errors, one.text).toBeUndefined();
    const field = 'records(objectKey: "contact", first: 100) { totalCount edges { node { displayName } } }';
    const many = await request(ws, { body: { query: `{ ${Array.from({ length: 1_000 }, () => field).join(' ')} }` }, accept: GRAPHQL_RESPONSE });
    if (many.body?.data) {
      expect(many.body.errors ?? [], many.text).toEqual([]);
      expect(many.body.extensions.sqlStatements).toBeLessThanOrEqual(one.body.extensions.sqlStatements);
    } else expectRefused(many, GRAPHQL_RESPONSE);
    const leaf = await request(ws, { body: { query: `{ viewer { user { ${'name '.repeat(1_000)}} } }` }, accept: GRAPHQL_RESPONSE });
    if (leaf.body?.data) expect(leaf.body.data.viewer.user.name).toEqual(expect.any(String));
    else expectRefused(leaf, GRAPHQL_RESPONSE);
  });

  it('circular fragments are refused, in queries and in mutations, and nothing runs', async () => {
    const ws = await t.workspace();
    await refuses(ws, 'query { ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }');
    await refuses(ws, 'query { ...A } fragment A on Query { ...A }');
    await refuses(ws, `mutation ($input: CreateRecordInput!) { ...A } fragment A on Mutation { ${CREATE} ...B } fragment B on Mutation { ...A }`, INPUT);
    // A long cycle through many fragments.
    const chain = Array.from({ length: 200 }, (_, i) => `fragment F${i} on Query { __typename ...F${(i + 1) % 200} }`).join(' ');
    await refuses(ws, `query { ...F0 } ${chain}`);
  });

  it('fragment bombs (each fragment spreading the next twice) are refused quickly, and nothing runs', async () => {
    const ws = await t.workspace();
    const bomb = (type: string, leaf: string) => {
      let fragments = `fragment F30 on ${type} { ${leaf} }`;
      for (let i = 29; i >= 0; i -= 1) fragments += ` fragment F${i} on ${type} { ...F${i + 1} ...F${i + 1} }`;
      return fragments;
    };
    const started = Date.now();
    await refuses(ws, `query { ...F0 } ${bomb('Query', 'records(objectKey: "contact", first: 100) { totalCount }')}`);
    await refuses(ws, `mutation ($input: CreateRecordInput!) { ...F0 } ${bomb('Mutation', CREATE)}`, INPUT);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a batched array of operations is refused with 400, and none of them runs', async () => {
    const ws = await t.workspace();
    const operation = { query: `mutation ($input: CreateRecordInput!) { ${CREATE} }`, variables: INPUT };
    for (const length of [2, 1_000]) {
      const before = await records(ws);
      for (const accept of MEDIA_TYPES) {
        expectRefused(await request(ws, { body: Array.from({ length }, () => operation), accept }), accept, 400);
      }
      expect(await records(ws)).toBe(before);
    }
  });

  it('malformed requests are refused with a 4xx and a code, never a 5xx', async () => {
    const ws = await t.workspace();
    const before = await records(ws);
    const mutation = `mutation ($input: CreateRecordInput!) { ${CREATE} }`;
    const bodies: string[] = [
      '',
      '{"query": ',
      'null',
      '42',
      '"mutation { __typename }"',
      JSON.stringify({ query: 42 }),
      JSON.stringify({ query: null }),
      JSON.stringify({ query: ['{ __typename }'] }),
      JSON.stringify({ query: mutation, variables: 'input' }),
      JSON.stringify({ query: mutation, variables: [INPUT] }),
      JSON.stringify({ query: mutation, variables: INPUT, operationName: 'Nope' }),
      JSON.stringify({ query: mutation, variables: INPUT, operationName: 42 }),
      JSON.stringify({ query: mutation, variables: INPUT, extensions: 'x' }),
      JSON.stringify({ query: `${mutation}\u0000`, variables: INPUT }),
      JSON.stringify({ query: `mutation { createRecord(input: {objectKey: "contact", properties: {firstName: "\\uD800"}}) { __typename } }` }),
      // Duplicate keys: the last one wins in JSON.parse; still a well-formed request.
      `{"query": "{ __typename }", "query": ${JSON.stringify(mutation)}, "variables": {"input": {"objectKey": "contact", "properties": {"firstName": "\\u0000"}}}}`,
    ];
    for (const body of bodies) {
      for (const accept of MEDIA_TYPES) {
        const response = await t.app.countedFetch(ENDPOINT, {
          method: 'POST',
          headers: { authorization: `Bearer ${ws.apiKey}`, accept, 'content-type': 'application/json' },
          body,
        });
        const text = await response.text();
        const context = `${String(body).slice(0, 120)} → HTTP ${response.status} ${text.slice(0, 300)}`;
        expect(response.status, context).toBeLessThan(500);
        const parsed = JSON.parse(text);
        for (const error of parsed.errors ?? []) {
          expect(error.extensions?.code, context).toEqual(expect.any(String));
          expect(error.extensions?.code, context).not.toBe('INTERNAL_SERVER_ERROR');
        }
        if (parsed.data?.createRecord) expect(parsed.data.createRecord.__typename, context).not.toBe('CreateRecordSuccess');
      }
    }
    // Not UTF-8: refused, or read with U+FFFD in place of each bad byte (a string both databases store alike).
    const bad = new Uint8Array(
      Buffer.concat([
        Buffer.from('{"query": "mutation { createRecord(input: {objectKey: \\"contact\\", properties: {firstName: \\"'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('\\"}}) { record { displayName } } }"}'),
      ]),
    );
    const response = await t.app.countedFetch(ENDPOINT, {
      method: 'POST',
      headers: { authorization: `Bearer ${ws.apiKey}`, accept: GRAPHQL_RESPONSE, 'content-type': 'application/json' },
      body: bad,
    });
    const reply = JSON.parse(await response.text());
    expect(response.status).toBeLessThan(500);
    if (reply.data?.createRecord) expect(reply.data.createRecord.record.displayName).toBe('\uFFFD(\uFFFD');
    else for (const error of reply.errors) expect(error.extensions?.code).toEqual(expect.any(String));
    const created = reply.data?.createRecord ? 1 : 0;

    // Content types that are not JSON: refused with a GraphQL error and a code, like any refusal.
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      const response = await t.app.countedFetch(ENDPOINT, {
        method: 'POST',
        headers: { authorization: `Bearer ${ws.apiKey}`, accept: GRAPHQL_RESPONSE, 'content-type': contentType },
        body: JSON.stringify({ query: mutation, variables: INPUT }),
      });
      const { text, body } = await readAnswer(response);
      const context = `${contentType} → HTTP ${response.status} ${JSON.stringify(text.slice(0, 300))}`;
      expect(response.status, context).toBeGreaterThanOrEqual(400);
      expect(response.status, context).toBeLessThan(500);
      expect(body?.errors?.[0]?.extensions?.code, context).toEqual(expect.any(String));
    }
    expect(await records(ws)).toBe(before + created);
  });

  it('a mutation over GET is refused with 405, and does not run', async () => {
    const ws = await t.workspace();
    const before = await records(ws);
    const literal = 'createRecord(input: {objectKey: "contact", properties: {firstName: "Get"}}) { __typename }';
    const searches = [
      `?query=${encodeURIComponent(`mutation { ${literal} }`)}`,
      `?query=${encodeURIComponent(`mutation ($input: CreateRecordInput!) { ${CREATE} }`)}&variables=${encodeURIComponent(JSON.stringify(INPUT))}`,
      // The mutation picked by operationName out of a document that also holds a query.
      `?operationName=M&query=${encodeURIComponent(`query Q { __typename } mutation M { ${literal} }`)}`,
    ];
    for (const search of searches) {
      for (const accept of MEDIA_TYPES) expectRefused(await request(ws, { method: 'GET', search, accept }), accept, 405);
    }
    expect(await records(ws)).toBe(before);
    // Queries over GET still work.
    const query = await request(ws, { method: 'GET', search: `?query=${encodeURIComponent('{ viewer { user { name } } }')}`, accept: GRAPHQL_RESPONSE });
    expect(query.status).toBe(200);
    expect(query.body.data.viewer.user.name).toEqual(expect.any(String));
  });
});
