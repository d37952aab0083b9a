import { request as httpRequest, createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppOptions } from '../src/app.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_QUERY_ROWS, loadConfig } from '../src/config.js';
import { prisma } from '../src/db/index.js';
import { DEFAULT_INPUT_LIMITS } from '../src/graphql/input-guard.js';
import { ENDPOINT, useTestApp, type TestWorkspace } from './helpers.js';
import { createContact, createLabel, createNamedObject, createUserWithKey, globalId, link } from './support/fixtures.js';

const t = useTestApp();

/** Characters one of the databases cannot store as the other does. */
const UNSTORABLE: [string, string][] = [
  ['NUL', '\u0000'],
  ['U+0001', '\u0001'],
  ['escape U+001B', '\u001b'],
  ['U+001F', '\u001f'],
  ['a lone high surrogate', '\ud800'],
  ['a lone low surrogate', '\udfff'],
];

/** An app of its own with some settings changed: posts operations with the given key. */
function appWith(settings: Partial<AppOptions['config']>, apiKey: string) {
  const app = createApp({ config: { production: false, introspection: true, reportStatements: false, ...settings } });
  return async (query: string, variables?: Record<string, unknown>) => {
    const response = await app.fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as any;
  };
}

const RESULT = '__typename ... on Error { code message } ... on ValidationError { field index }';

/** Rows of every kind, so "nothing changed" can be checked after each refusal. */
async function snapshot(workspaceId: number) {
  const where = { workspaceId };
  const [objects, records, labels, associations, events, users, keys] = await Promise.all([
    prisma.objectModel.count({ where }),
    prisma.recordModel.findMany({ where, select: { id: true, properties: true, displayName: true } }),
    prisma.associationLabel.findMany({ where, select: { id: true, firstLabel: true, secondLabel: true } }),
    prisma.association.count({ where }),
    prisma.associationEvent.count({ where }),
    prisma.user.findMany({ where, select: { id: true, name: true, email: true } }),
    prisma.apiKey.count({ where }),
  ]);
  return { objects, records, labels, associations, events, users, keys };
}

describe('strings the databases cannot store alike', () => {
  let ws: TestWorkspace;
  let ada: string;
  let bob: string;
  let labelId: string;
  let userId: string;

  beforeAll(async () => {
    ws = await t.workspace();
    await createNamedObject(ws, 'boats', 'Boat', 'Boats');
    ada = (await createContact(ws, 'Ada')).id;
    bob = (await createContact(ws, 'Bob')).id;
    labelId = (await createLabel(ws, { key: 'friend', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' })).id;
    userId = (await createUserWithKey(ws, 'Member', 'member@example.com')).userId;
  });

  /** Every mutation input that takes a string, with the field the error must name. */
  const mutations = (bad: string): { name: string; query: string; input: () => Record<string, unknown>; field: string }[] => [
    {
      name: 'createRecord: a property value',
      query: 'mutation ($input: CreateRecordInput!) { createRecord(input: $input) { RESULT } }',
      input: () => ({ objectKey: 'contact', properties: { firstName: `Ad${bad}a` } }),
      field: 'properties.firstName',
    },
    {
      name: 'createRecord: a property key',
      query: 'mutation ($input: CreateRecordInput!) { createRecord(input: $input) { RESULT } }',
      input: () => ({ objectKey: 'contact', properties: { firstName: 'Ada', [`x${bad}`]: 'y' } }),
      field: `properties.x${bad}`,
    },
    {
      name: 'createRecord: a value nested in a property',
      query: 'mutation ($input: CreateRecordInput!) { createRecord(input: $input) { RESULT } }',
      input: () => ({ objectKey: 'contact', properties: { firstName: 'Ada', lastName: { deeper: [`x${bad}`] } } }),
      field: 'properties.lastName.deeper[0]',
    },
    {
      name: 'updateRecord: a property value',
      query: 'mutation ($input: UpdateRecordInput!) { updateRecord(input: $input) { RESULT } }',
      input: () => ({ id: ada, properties: { lastName: bad } }),
      field: 'properties.lastName',
    },
    {
      name: 'createRecord: the object key',
      query: 'mutation ($input: CreateRecordInput!) { createRecord(input: $input) { RESULT } }',
      input: () => ({ objectKey: `contact${bad}`, properties: { firstName: 'Ada' } }),
      field: 'objectKey',
    },
    {
      name: 'createObject: a name',
      query: 'mutation ($input: CreateObjectInput!) { createObject(input: $input) { RESULT } }',
      input: () => ({
        key: 'custom_objects.cars',
        singularName: `Car${bad}`,
        pluralName: 'Cars',
        primaryProperty: 'name',
        fields: [{ key: 'name', name: 'Name', type: 'TEXT' }],
      }),
      field: 'singularName',
    },
    {
      name: 'createObject: a field name',
      query: 'mutation ($input: CreateObjectInput!) { createObject(input: $input) { RESULT } }',
      input: () => ({
        key: 'custom_objects.cars',
        singularName: 'Car',
        pluralName: 'Cars',
        primaryProperty: 'name',
        fields: [{ key: 'name', name: `Na${bad}me`, type: 'TEXT' }],
      }),
      field: 'fields[0].name',
    },
    {
      name: 'createAssociationLabel: a label name',
      query: 'mutation ($input: CreateAssociationLabelInput!) { createAssociationLabel(input: $input) { RESULT } }',
      input: () => ({ firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Boss', secondLabel: `Wor${bad}ker` }),
      field: 'secondLabel',
    },
    {
      name: 'createAssociationLabel: the key',
      query: 'mutation ($input: CreateAssociationLabelInput!) { createAssociationLabel(input: $input) { RESULT } }',
      input: () => ({ key: `k${bad}`, firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Peer' }),
      field: 'key',
    },
    {
      name: 'updateAssociationLabel: a label name',
      query: 'mutation ($input: UpdateAssociationLabelInput!) { updateAssociationLabel(input: $input) { RESULT } }',
      input: () => ({ id: labelId, firstLabel: `Fr${bad}iend` }),
      field: 'firstLabel',
    },
    {
      name: 'linkRecords: a label key',
      query: 'mutation ($input: LinkRecordsInput!) { linkRecords(input: $input) { RESULT } }',
      input: () => ({ firstRecordId: ada, secondRecordId: bob, labelKeys: ['friend', `friend${bad}`] }),
      field: 'labelKeys[1]',
    },
    {
      name: 'batchLinkRecords: a label key of the second item',
      query: 'mutation ($input: BatchLinkRecordsInput!) { batchLinkRecords(input: $input) { RESULT } }',
      input: () => ({
        links: [
          { firstRecordId: ada, secondRecordId: bob, labelKeys: ['friend'] },
          { firstRecordId: bob, secondRecordId: ada, labelKeys: [`f${bad}`] },
        ],
      }),
      field: 'links[1].labelKeys[0]',
    },
    {
      name: 'createUser: the name',
      query: 'mutation ($input: CreateUserInput!) { createUser(input: $input) { RESULT } }',
      input: () => ({ name: `Eve${bad}`, email: 'eve@example.com' }),
      field: 'name',
    },
    {
      name: 'createUser: the e-mail',
      query: 'mutation ($input: CreateUserInput!) { createUser(input: $input) { RESULT } }',
      input: () => ({ name: 'Eve', email: `eve${bad}@example.com` }),
      field: 'email',
    },
    {
      name: 'createApiKey: the name',
      query: 'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { RESULT } }',
      input: () => ({ userId, name: `key${bad}` }),
      field: 'name',
    },
  ];

  for (const [what, bad] of UNSTORABLE) {
    it(`refuses ${what} in every mutation input with VALIDATION naming the field, and changes nothing`, async () => {
      const before = await snapshot(ws.workspaceId);
      for (const mutation of mutations(bad)) {
        const response = await ws.gql(mutation.query.replace('RESULT', RESULT), { input: mutation.input() });
        expect(response.status, mutation.name).toBe(200);
        expect(response.errors, mutation.name).toBeUndefined();
        const result = Object.values(response.data)[0] as { __typename: string; code: string; field: string; message: string };
        expect(result, mutation.name).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field: mutation.field });
        expect(result.message, mutation.name).toMatch(/cannot be stored/);
      }
      expect(await snapshot(ws.workspaceId)).toEqual(before);
    });

    it(`refuses ${what} in query arguments (search, label keys in filters, object keys) with code VALIDATION`, async () => {
      const queries: [string, Record<string, unknown>, string][] = [
        ['query ($s: String) { records(objectKey: "contact", filter: { search: $s }) { totalCount } }', { s: `a${bad}` }, 'filter.search'],
        [
          'query ($id: ID!, $k: String) { records(objectKey: "contact", filter: { associatedWith: { recordId: $id, labelKey: $k } }) { totalCount } }',
          { id: ada, k: `friend${bad}` },
          'filter.associatedWith.labelKey',
        ],
        ['query ($k: String!) { object(key: $k) { key } }', { k: `contact${bad}` }, 'key'],
        ['query ($k: String) { associationLabel(key: $k) { key } }', { k: `friend${bad}` }, 'key'],
        ['query ($id: ID!, $k: String) { record(id: $id) { associations(labelKey: $k) { totalCount } } }', { id: ada, k: bad }, 'labelKey'],
      ];
      for (const [query, variables, field] of queries) {
        const response = await ws.gql(query, variables);
        expect(response.status, query).toBe(200);
        expect(response.errors?.[0]?.extensions?.code, query).toBe('VALIDATION');
        expect(response.errors?.[0]?.message, query).toMatch(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')} contains .*cannot be stored`));
      }
    });
  }

  it('keeps tab, newline, carriage return and well-formed emoji (a surrogate pair) as given, on both databases', async () => {
    const text = 'line one\n\tline two\r\n😀 done';
    const response = await ws.gql(
      'mutation ($input: CreateRecordInput!) { createRecord(input: $input) { ... on CreateRecordSuccess { record { id properties displayName } } } }',
      { input: { objectKey: 'contact', properties: { firstName: text } } },
    );
    expect(response.data.createRecord.record.properties).toEqual({ firstName: text });
    const read = await ws.gql('query ($id: ID!) { record(id: $id) { properties } }', { id: response.data.createRecord.record.id });
    expect(read.data.record.properties.firstName).toBe(text);
    const found = await ws.gql('query ($s: String) { records(objectKey: "contact", filter: { search: $s }) { totalCount } }', { s: '😀 done' });
    expect(found.data.records.totalCount).toBe(1);
  });
});

describe('ids that decode to no possible row', () => {
  const forged: [string, string][] = [
    ['too large for the column', globalId('Record', 2_147_483_648)],
    ['far too large', globalId('Record', 99_999_999_999_999)],
    ['negative', Buffer.from('Record:-5').toString('base64')],
    ['fractional', Buffer.from('Record:1.5').toString('base64')],
    ['hex', Buffer.from('Record:0x10').toString('base64')],
    ['exponent', Buffer.from('Record:1e3').toString('base64')],
    ['empty number', Buffer.from('Record:').toString('base64')],
    ['zero', globalId('Record', 0)],
    ['another type name', globalId('Nope', 1)],
    ['not base64 at all', '%%%not-base64%%%'],
    ['empty', ''],
    ['a very long garbage string', 'A'.repeat(5000)],
  ];

  it('answer exactly like an id that does not exist: in queries, node/nodes, mutations and filters', async () => {
    const ws = await t.workspace();
    await createLabel(ws, { key: 'friend', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
    const ada = (await createContact(ws, 'Ada')).id;
    const missing = globalId('Record', 2_000_000_000);
    const operations: [string, (id: string) => Record<string, unknown>][] = [
      ['query ($id: ID!) { record(id: $id) { id } }', (id) => ({ id })],
      ['query ($id: ID!) { node(id: $id) { id } }', (id) => ({ id })],
      ['query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', (id) => ({ ids: [id, ada] })],
      ['query ($id: ID) { associationLabel(id: $id) { key } }', (id) => ({ id })],
      [
        'query ($id: ID!) { records(objectKey: "contact", filter: { associatedWith: { recordId: $id } }) { totalCount } }',
        (id) => ({ id }),
      ],
      ['query ($id: ID!) { records(objectKey: "contact", after: $id) { totalCount } }', (id) => ({ id })],
      ['mutation ($id: ID!, $b: ID!) { linkRecords(input: { firstRecordId: $id, secondRecordId: $b, labelKeys: ["friend"] }) { RESULT } }', (id) => ({ id, b: ada })],
      ['mutation ($id: ID!, $b: ID!) { unlinkRecords(input: { firstRecordId: $b, secondRecordId: $id }) { RESULT } }', (id) => ({ id, b: ada })],
      [
        'mutation ($id: ID!, $b: ID!) { batchLinkRecords(input: { links: [{ firstRecordId: $b, secondRecordId: $id, labelKeys: ["friend"] }] }) { RESULT } }',
        (id) => ({ id, b: ada }),
      ],
      ['mutation ($id: ID!) { updateRecord(input: { id: $id, properties: { lastName: "X" } }) { RESULT } }', (id) => ({ id })],
      ['mutation ($id: ID!) { deleteRecord(input: { id: $id }) { RESULT } }', (id) => ({ id })],
      ['mutation ($id: ID!) { createRecord(input: { objectKey: "contact", properties: { firstName: "Z" }, ownerId: $id }) { RESULT } }', (id) => ({ id })],
      ['mutation ($id: ID!) { deleteAssociationLabel(input: { id: $id }) { RESULT } }', (id) => ({ id })],
      ['mutation ($id: ID!) { deleteObject(input: { id: $id }) { RESULT } }', (id) => ({ id })],
      ['mutation ($id: ID!) { createApiKey(input: { userId: $id, name: "k" }) { RESULT } }', (id) => ({ id })],
      ['mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { RESULT } }', (id) => ({ id })],
      ['mutation ($id: ID!) { setObjectPermission(input: { userId: $id, objectKey: "contact", access: NONE }) { RESULT } }', (id) => ({ id })],
    ];
    const before = await snapshot(ws.workspaceId);
    for (const [template, variables] of operations) {
      const query = template.replace('RESULT', RESULT);
      const expected = await ws.gql(query, variables(missing));
      expect(JSON.stringify(expected), query).not.toContain('INTERNAL_SERVER_ERROR');
      for (const [what, id] of forged) {
        const response = await ws.gql(query, variables(id));
        expect(response.status, `${what}: ${query}`).toBe(expected.status);
        // Cursors name the field ("after is not a valid cursor"); everything else answers as for the missing id.
        expect(response.data, `${what}: ${query}`).toEqual(expected.data);
        expect(response.errors?.map((e) => e.extensions?.code), `${what}: ${query}`).toEqual(expected.errors?.map((e) => e.extensions?.code));
      }
    }
    expect(await snapshot(ws.workspaceId)).toEqual(before);
  });
});

describe('variables that do not fit their types', () => {
  it('answer BAD_USER_INPUT, in queries (compiled) and mutations alike, and run nothing', async () => {
    const ws = await t.workspace();
    const cases: [string, Record<string, unknown>][] = [
      ['query ($n: Int) { records(objectKey: "contact", first: $n) { totalCount } }', { n: 'x' }],
      ['query ($n: Int) { records(objectKey: "contact", first: $n) { totalCount } }', { n: 1e20 }],
      ['query ($n: Int) { records(objectKey: "contact", first: $n) { totalCount } }', { n: 1.5 }],
      ['query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: [null] }],
      ['mutation ($p: JSONObject!) { createRecord(input: { objectKey: "contact", properties: $p }) { __typename } }', { p: [1] }],
      ['mutation ($p: JSONObject!) { createRecord(input: { objectKey: "contact", properties: $p }) { __typename } }', { p: 'text' }],
      ['mutation ($i: LinkRecordsInput!) { linkRecords(input: $i) { __typename } }', { i: { firstRecordId: 1, labelKeys: 'x' } }],
    ];
    for (const [query, variables] of cases) {
      const response = await ws.gql(query, variables);
      expect(response.status, query).toBeLessThan(500);
      expect(response.data ?? null, query).toBeNull();
      expect(response.errors?.map((e) => e.extensions?.code), JSON.stringify(variables)).toEqual(['BAD_USER_INPUT']);
    }
    expect(await prisma.recordModel.count({ where: { workspaceId: ws.workspaceId } })).toBe(0);
  });
});

describe('size limits, at their boundaries', () => {
  it('strings: the default maximum length is accepted, one more character is VALIDATION', async () => {
    const ws = await t.workspace();
    const max = DEFAULT_INPUT_LIMITS.maxStringLength;
    const search = (s: string) => ws.gql('query ($s: String) { records(objectKey: "contact", filter: { search: $s }) { totalCount } }', { s });
    expect((await search('a'.repeat(max))).data.records.totalCount).toBe(0);
    const over = await search('a'.repeat(max + 1));
    expect(over.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(over.errors?.[0]?.message).toBe(`filter.search is too long: at most ${max} characters.`);
  });

  it('lists: the default maximum of items is accepted, one more is VALIDATION', async () => {
    const ws = await t.workspace();
    const max = DEFAULT_INPUT_LIMITS.maxListLength;
    const nodes = (count: number) => ws.gql('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: Array.from({ length: count }, (_, i) => globalId('Record', i + 1)) });
    expect((await nodes(max)).data.nodes).toHaveLength(max);
    const over = await nodes(max + 1);
    expect(over.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(over.errors?.[0]?.message).toBe(`ids takes at most ${max} items.`);
  });

  it('properties: the default size and depth are accepted up to the limit, and refused past it', async () => {
    const ws = await t.workspace();
    const create = (properties: unknown) =>
      ws.gql(`mutation ($input: CreateRecordInput!) { createRecord(input: $input) { ${RESULT} } }`, { input: { objectKey: 'contact', properties } });
    // Depth: 5 levels pass the guard (and then fail the field's type); 6 are refused by the guard.
    let nested: unknown = 'x';
    for (let i = 0; i < DEFAULT_INPUT_LIMITS.maxJsonDepth - 1; i += 1) nested = { a: nested };
    const atDepth = await create({ firstName: 'Ada', lastName: nested });
    expect(atDepth.data.createRecord).toMatchObject({ code: 'VALIDATION', message: 'Property "lastName" must be text (at most 10,000 characters).' });
    const tooDeep = await create({ firstName: 'Ada', lastName: { a: nested } });
    expect(tooDeep.data.createRecord).toMatchObject({
      code: 'VALIDATION',
      message: `properties is nested too deeply: at most ${DEFAULT_INPUT_LIMITS.maxJsonDepth} levels.`,
    });
    // Size: properties of exactly the maximum as JSON text are accepted; one byte more is not.
    const post = appWith({ inputLimits: { ...DEFAULT_INPUT_LIMITS, maxJsonBytes: 2_000 } }, ws.apiKey);
    const sized = async (bytes: number) => {
      const firstName = 'x'.repeat(bytes - JSON.stringify({ firstName: '' }).length);
      const mutation = `mutation ($input: CreateRecordInput!) { createRecord(input: $input) { ${RESULT} } }`;
      return (await post(mutation, { input: { objectKey: 'contact', properties: { firstName } } })).data.createRecord;
    };
    expect((await sized(2_000)).__typename).toBe('CreateRecordSuccess');
    expect(await sized(2_001)).toMatchObject({ __typename: 'ValidationError', field: 'properties', message: 'properties is too large: 2001 bytes as JSON, at most 2000.' });
    const count = await prisma.recordModel.count({ where: { workspaceId: ws.workspaceId } });
    expect(count).toBe(1);
  });

  it('every input limit is a setting, read from the environment with its default', async () => {
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({ inputLimits: DEFAULT_INPUT_LIMITS, maxBodyBytes: 1024 * 1024, maxQueryRows: 500_000 });
    const set = loadConfig({
      RELATE_MAX_STRING_LENGTH: '8',
      RELATE_MAX_LIST_LENGTH: '2',
      RELATE_MAX_PROPERTIES_BYTES: '1000',
      RELATE_MAX_PROPERTIES_DEPTH: '2',
      RELATE_MAX_BODY_BYTES: '4096',
      RELATE_MAX_QUERY_ROWS: '120',
    });
    expect(set).toMatchObject({ inputLimits: { maxStringLength: 8, maxListLength: 2, maxJsonBytes: 1000, maxJsonDepth: 2 }, maxBodyBytes: 4096, maxQueryRows: 120 });
    expect(() => loadConfig({ RELATE_MAX_LIST_LENGTH: '0' })).toThrow('RELATE_MAX_LIST_LENGTH must be a whole number of at least 1; got "0"');
    expect(() => loadConfig({ RELATE_MAX_BODY_BYTES: '1MB' })).toThrow('RELATE_MAX_BODY_BYTES must be a whole number of at least 1; got "1MB"');
    const ws = await t.workspace();
    const post = appWith({ inputLimits: set.inputLimits }, ws.apiKey);
    const search = 'query ($s: String) { records(objectKey: "contact", filter: { search: $s }) { totalCount } }';
    expect((await post(search, { s: 'abcdefgh' })).data.records.totalCount).toBe(0);
    expect((await post(search, { s: 'abcdefghi' })).errors[0].message).toBe('filter.search is too long: at most 8 characters.');
    const nodes = 'query ($ids: [ID!]!) { nodes(ids: $ids) { id } }';
    expect((await post(nodes, { ids: ['a', 'b'] })).data.nodes).toEqual([null, null]);
    expect((await post(nodes, { ids: ['a', 'b', 'c'] })).errors[0].message).toBe('ids takes at most 2 items.');
  });
});

describe('request body limit', () => {
  const bodyOf = (bytes: number, apiKey: string) => {
    const base = JSON.stringify({ query: '{ objects { key } }', extensions: { pad: '' } });
    return { body: JSON.stringify({ query: '{ objects { key } }', extensions: { pad: ' '.repeat(bytes - base.length) } }), apiKey };
  };

  it(`accepts a body of exactly the default ${DEFAULT_MAX_BODY_BYTES} bytes and answers 413 to one byte more, before executing it`, async () => {
    const ws = await t.workspace();
    const send = ({ body, apiKey }: { body: string; apiKey: string }) =>
      t.app.fetch(ENDPOINT, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body });
    const ok = bodyOf(DEFAULT_MAX_BODY_BYTES, ws.apiKey);
    expect(Buffer.byteLength(ok.body)).toBe(DEFAULT_MAX_BODY_BYTES);
    const accepted = await send(ok);
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as any).data.objects).toEqual([{ key: 'contact' }]);
    const refused = await send(bodyOf(DEFAULT_MAX_BODY_BYTES + 1, ws.apiKey));
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as any).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  describe('over a socket', () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      const app = createApp({ config: { production: false, introspection: true, reportStatements: false, maxBodyBytes: 10_000 } });
      server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    /** Sends `total` bytes in chunks without a Content-Length (or with one), and reads the answer. */
    const send = (apiKey: string, total: number, declare: boolean) =>
      new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
        let sent = 0;
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/graphql',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...(declare ? { 'content-length': total } : {}) },
          },
          (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sent }));
          },
        );
        req.on('error', reject);
        const head = '{"query":"{ objects { key } }","extensions":{"pad":"';
        req.write(head);
        sent += head.length;
        const pump = () => {
          while (sent < total - 3) {
            const size = Math.min(1000, total - 3 - sent);
            sent += size;
            if (!req.write(' '.repeat(size))) return void req.once('drain', pump);
          }
          req.end('"}}');
        };
        pump();
      });

    it('answers 413 to a chunked body as soon as it passes the limit, and serves one within it', async () => {
      const ws = await t.workspace();
      const small = await send(ws.apiKey, 9_000, false);
      expect(small.status).toBe(200);
      expect(JSON.parse(small.body).data.objects).toEqual([{ key: 'contact' }]);
      const large = await send(ws.apiKey, 5_000_000, false);
      expect(large.status).toBe(413);
      expect(JSON.parse(large.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('answers 413 from Content-Length alone', async () => {
      const ws = await t.workspace();
      const large = await send(ws.apiKey, 10_001, true).catch(() => null);
      // The server may close the socket before the rest of the body is written; what was answered is 413.
      if (large) expect(large.status).toBe(413);
      const declared = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.apiKey}` },
        body: JSON.stringify({ query: '{ objects { key } }', extensions: { pad: ' '.repeat(20_000) } }),
      });
      expect(declared.status).toBe(413);
    });
  });
});

describe('the cost model: rows a request can read', () => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await t.workspace();
    const contacts = [];
    for (let i = 0; i < 10; i += 1) contacts.push((await createContact(ws, `C${i}`)).id);
    await createLabel(ws, { key: 'friend', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
    for (let i = 1; i < contacts.length; i += 1) await link(ws, contacts[0]!, contacts[i]!, ['friend']);
  });

  it("serves a frontend's list page: 50 contacts with their first 10 associations and ids", async () => {
    const response = await ws.gql(`{ records(objectKey: "contact", first: 50) { edges { node { id displayName
      associations(first: 10) { totalCount edges { node { id } relatedRole relatedRecord { id displayName } } } } } } }`);
    expect(response.errors).toBeUndefined();
    expect(response.data.records.edges).toHaveLength(10);
  });

  it('serves the largest documented page: first 100, 20 association columns of 100, with ids and properties', async () => {
    const columns = Array.from(
      { length: 20 },
      (_, i) => `c${i}: associations(first: 100, labelKey: "friend") { totalCount edges { cursor node { id } relatedRecord { id displayName properties } } }`,
    ).join('\n');
    const response = await ws.gql(`{ records(objectKey: "contact", first: 100) { totalCount edges { node { id properties ${columns} } } } }`);
    expect(response.errors).toBeUndefined();
    expect(response.data.records.edges[0].node.c19.totalCount).toBe(9);
  });

  it('refuses three levels of 100 before executing, with its own code and what to reduce', async () => {
    const response = await ws.gql(`{ records(objectKey: "contact", first: 100) { edges { node {
      associations(first: 100) { edges { relatedRecord { associations(first: 100) { edges { relatedRecord { id } } } } } } } } } }`);
    expect(response.status).toBe(400);
    expect(response.data ?? null).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', rows: 1_010_100, maxRows: DEFAULT_MAX_QUERY_ROWS });
    expect(response.errors?.[0]?.message).toMatch(/could read 1010100 rows; the limit is 500000\. Ask for smaller pages \(first\)/);
    expect(response.errors?.[0]?.message).not.toMatch(/Syntax Error/);
  });

  it('serves an operation of exactly the default row limit, and refuses one page more; the limit is a setting', async () => {
    // 50 + 50·99 + 50·99·100 = 500,000 rows.
    const query = (top: number) => `{ records(objectKey: "contact", first: ${top}) { edges { node {
      associations(first: 99) { edges { relatedRecord { associations(first: 100) { totalCount } } } } } } } }`;
    expect((await ws.gql(query(50))).errors).toBeUndefined();
    const over = await ws.gql(query(51));
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', rows: 510_000, maxRows: 500_000 });
    const post = appWith({ maxQueryRows: 120 }, ws.apiKey);
    // 20 + 20·5 = 120; 21 + 21·5 = 126.
    const small = (top: number) => `{ records(objectKey: "contact", first: ${top}) { edges { node { associations(first: 5) { totalCount } } } } }`;
    expect((await post(small(20))).errors).toBeUndefined();
    expect((await post(small(21))).errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', rows: 126, maxRows: 120 });
  });

  it('counts page sizes given in variables, through fragments, and the ids of nodes()', async () => {
    const query = `query ($n: Int) { records(objectKey: "contact", first: $n) { edges { node { ...Columns } } } }
      fragment Columns on Record { associations(first: $n) { edges { relatedRecord { associations(first: $n) { totalCount } } } } }`;
    expect((await ws.gql(query, { n: 50 })).errors).toBeUndefined();
    const refused = await ws.gql(query, { n: 100 });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', rows: 1_010_100 });
    // nodes(ids) counts its ids: under a limit of 120, 4 ids with 29 associations each are
    // 4 + 116 = 120 rows; a fifth id makes 150.
    const post = appWith({ maxQueryRows: 120 }, ws.apiKey);
    const nodes = (count: number) =>
      post('query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Record { associations(first: 29) { totalCount } } } }', {
        ids: Array.from({ length: count }, (_, i) => globalId('Record', i + 1)),
      });
    expect((await nodes(4)).errors).toBeUndefined();
    expect((await nodes(5)).errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', rows: 150 });
  });
});
