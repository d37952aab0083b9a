import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers.js';
import { ROOT, runNode, startServer, type RunningServer } from './support/process.js';

/**
 * Production runs the compiled JavaScript with plain node: the build (`npm run build`, also run on
 * install) compiles src/ into dist/, and `node dist/server.js` serves, with no loader and no
 * wrapper process. This suite builds a folder of its own next to src/ (the CLI tests may be
 * running dist/ meanwhile) and runs the compiled CLI and server from it, in production mode.
 */
const OUT = `dist.test-${process.pid}`;

const sources = (folder: string): string[] =>
  readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(folder, entry.name)) : [join(folder, entry.name)],
  );

describe('the compiled server and CLI, with plain node in production', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  let apiKey: string;
  const production = () => ({ DATABASE_URL: db.url, NODE_ENV: 'production' });

  beforeAll(async () => {
    const built = await runNode(['scripts/build.mjs', '--outdir', OUT], {});
    expect(built.code, built.stderr).toBe(0);
    db = await createTestDatabase();
    const created = await runNode([`${OUT}/cli/index.js`, 'workspace', 'create', '--name', 'Compiled'], {
      ...production(),
      LOG_LEVEL: 'error',
    });
    expect(created.code, created.stderr).toBe(0);
    apiKey = (JSON.parse(created.stdout) as { apiKey: string }).apiKey;
    server = await startServer(production(), [`${OUT}/server.js`]);
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    rmSync(join(ROOT, OUT), { recursive: true, force: true });
  });

  it('compiles every source, the generated Prisma clients included, and copies the files read at run time', () => {
    const src = join(ROOT, 'src');
    const expected = sources(src).map((file) => relative(src, file).replace(/\.ts$/, '.js'));
    expect(expected).toContain('db/generated/postgresql/client.js');
    expect(expected).toContain('explore/index.html');
    expect(expected.filter((file) => !existsSync(join(ROOT, OUT, file)))).toEqual([]);
  });

  it('serves GraphQL, migrated by the compiled CLI, with no process of its own besides node', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query: '{ viewer { user { role } workspace { name } } objects { key } }' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      data: { viewer: { user: { role: 'ADMIN' }, workspace: { name: 'Compiled' } }, objects: [{ key: 'contact' }] },
    });
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    // No transpiler service or wrapper: the server is one plain node process.
    const pid = server.child.pid!;
    const children = `/proc/${pid}/task/${pid}/children`;
    if (existsSync(children)) expect(readFileSync(children, 'utf8').trim()).toBe('');
  });

  it('does not serve GraphiQL', async () => {
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('<html');
  });

  it('drains and stops on SIGTERM', async () => {
    const stopped = await server.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stdout + stopped.stderr).toContain('"stopped"');
  });
});
