import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers.js';
import { runNode, startServer, type RunningServer } from './support/process.js';

const runExample = (args: string[], env: Record<string, string>) =>
  runNode(['--import', 'tsx', 'examples/link-colleagues.ts', ...args], env);

describe('examples/link-colleagues.ts (typed SDK from codegen)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  let env: Record<string, string>;
  let ada: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development', LOG_LEVEL: 'info' });
    const apiKey = /\n {2}(rel_\S+)\n/.exec(server.output())![1]!;
    env = { RELATE_URL: `${server.url}/graphql`, RELATE_API_KEY: apiKey };
    const response = await fetch(env.RELATE_URL!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query: '{ records(objectKey: "contact", filter: { search: "ada@" }) { edges { node { id } } } }' }),
    });
    ada = ((await response.json()) as any).data.records.edges[0].node.id;
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('links every contact of a domain, and a re-run creates nothing new', async () => {
    const first = await runExample([ada, 'example.com'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // The demo has 8 contacts at example.com; Ada is linked as a colleague to two already.
    expect(first.stdout).toContain('7 contacts at example.com: 5 new links, 2 already linked');
    const again = await runExample([ada, 'example.com'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('7 contacts at example.com: 0 new links, 7 already linked');
  });

  it('reports a failing batch with the item index and exits non-zero', async () => {
    const failed = await runExample([ada, 'example.com', 'no_such_label'], env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('batch failed at item 0: NOT_FOUND');
  });
});
