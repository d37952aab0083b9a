import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers.js';
import { startServer, type RunningServer } from './support/process.js';

/**
 * Two worker processes on one database: on SQLite that is two connections to one file, where
 * only SQLite's write lock (BEGIN IMMEDIATE) keeps a limit check and its write together.
 */
describe('RELATE_WORKERS=2', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  let gql: (query: string, variables?: object) => Promise<any>;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development', RELATE_WORKERS: '2' });
    const apiKey = /\n {2}(rel_\S+)\n/.exec(server.output())![1]!;
    gql = async (query, variables = {}) => {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ query, variables }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data: any; errors?: unknown };
      expect(body.errors).toBeUndefined();
      return body.data;
    };
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('keep a limit under parallel links spread over both workers, and lose no write', async () => {
    const create = `mutation ($name: String!) { createRecord(input: { objectKey: "contact", properties: { firstName: $name } }) {
      ... on CreateRecordSuccess { record { id } } } }`;
    const ids: string[] = (
      await Promise.all(Array.from({ length: 21 }, (_, i) => gql(create, { name: `Parallel ${i}` })))
    ).map((data) => data.createRecord.record.id);
    expect(new Set(ids).size).toBe(21);
    await gql(`mutation { createAssociationLabel(input: { key: "buddy", firstObjectKey: "contact", secondObjectKey: "contact",
      type: SINGLE, firstLabel: "Buddy" }) { __typename } }`);
    await gql(`mutation { updateAssociationLimits(input: { maxAssociationsPerContact: 3 }) { __typename } }`);
    const [hub, ...others] = ids;
    const link = `mutation ($a: ID!, $b: ID!) { linkRecords(input: { firstRecordId: $a, secondRecordId: $b, labelKeys: ["buddy"] }) {
      __typename ... on LimitExceededError { limit max current } } }`;
    const results = await Promise.all(others.map((other) => gql(link, { a: hub, b: other })));
    const outcomes = results.map((data) => data.linkRecords.__typename);
    expect(outcomes.filter((name) => name === 'LinkRecordsSuccess')).toHaveLength(3);
    expect(outcomes.filter((name) => name === 'LimitExceededError')).toHaveLength(17);
    const page = await gql(`query ($id: ID!) { record(id: $id) { associations { totalCount } } }`, { id: hub });
    expect(page.record.associations.totalCount).toBe(3);
    const all = await gql(`{ records(objectKey: "contact", filter: { search: "parallel" }) { totalCount } }`);
    expect(all.records.totalCount).toBe(21);
  });
});
