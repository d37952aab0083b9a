import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers.js';
import { relate, startServer, type RunningServer } from './support/process.js';

/** `error` is for what an operator must act on; a client's mistakes are logged below it. */
describe('log levels', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  let apiKey: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const created = await relate(['workspace', 'create', '--name', 'Logs'], { DATABASE_URL: db.url });
    apiKey = JSON.parse(created.stdout).apiKey;
    server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'production', LOG_LEVEL: 'debug' });
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) await server.stop();
    await db?.drop();
  });

  const post = async (query: string, key: string | null = apiKey) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, body: (await response.json()) as { errors?: { extensions?: { code?: string } }[] } };
  };

  it('client errors (validation, unauthenticated) are answered with their code and logged below error', async () => {
    const codes = [
      (await post('{ records(objectKey: "contact", first: 1000) { totalCount } }')).body.errors?.[0]?.extensions?.code,
      (await post('{ viewer { user { id } } }', 'rel_wrong')).body.errors?.[0]?.extensions?.code,
      (await post('{ viewer { user { id } } }', null)).body.errors?.[0]?.extensions?.code,
      (await post('{ nope }')).body.errors?.[0]?.extensions?.code,
    ];
    expect(codes).toEqual(['VALIDATION', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'GRAPHQL_VALIDATION_FAILED']);
    const output = server.output();
    // The masked copies Yoga logs are there, at debug…
    expect(output).toContain('"level":"debug","message":"masked error"');
    // …and nothing reached error.
    expect(output).not.toContain('"level":"error"');
  });
});
