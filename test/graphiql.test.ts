import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_OPERATIONS } from '../src/examples.js';
import { createTestDatabase } from './helpers.js';
import { startServer, type RunningServer } from './support/process.js';

/**
 * GraphiQL as a developer meets it (SPEC §4): in a real browser, against a real development
 * server, every example tab runs as it is — with the development key in its headers and, for the
 * Link tab, two demo contacts in its variables — after the first start and again after a
 * restart on the same database, when the key is a new one. The browser is the system's Chromium
 * (none is downloaded); without it the suite is skipped and says why.
 */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`\n[relate] ${CHROMIUM} not found: the GraphiQL browser tests are skipped (apt-get install chromium).\n`);
}

/** The tabs GraphiQL opens with, by operation name, in order. */
const TABS = EXAMPLE_OPERATIONS.map((text) => /^(?:query|mutation|subscription) (\w+)/m.exec(text)![1]!);
/** The subscription tab: its answer is a stream that stays open, shown event by event. */
const LIVE_TAB = 'LiveLinks';

/** Unlinks, then links, two demo contacts through the API (whatever they were): two events. */
async function relinkTwoContacts(url: string, key: string) {
  const post = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data;
  };
  const { records } = await post(`{ records(objectKey: "contact", first: 2) { edges { node { id } } } }`);
  const [first, second] = records.edges.map((edge: { node: { id: string } }) => edge.node.id);
  await post(`mutation ($a: ID!, $b: ID!) { unlinkRecords(input: { firstRecordId: $a, secondRecordId: $b, labelKeys: ["colleague"] }) { __typename } }`, { a: first, b: second });
  await post(`mutation ($a: ID!, $b: ID!) { linkRecords(input: { firstRecordId: $a, secondRecordId: $b, labelKeys: ["colleague"] }) { __typename } }`, { a: first, b: second });
}

const developmentKey = (output: string) => /Development key[^\n]*\n\n {2}(rel_\S+)\n/.exec(output)?.[1] ?? '';

/** The operation a request sent: in its body (POST), or in its URL (GET: GraphiQL's subscriptions). */
const operationOf = (response: Response): { operationName?: string; variables?: Record<string, unknown> } => {
  const body = response.request().postData();
  if (body) return JSON.parse(body);
  const params = new URL(response.url()).searchParams;
  const query = params.get('query');
  if (!query) return {};
  const operationName = params.get('operationName') || /\b(?:query|mutation|subscription)\s+(\w+)/.exec(query)?.[1];
  return { operationName, variables: JSON.parse(params.get('variables') || '{}') };
};

describe.skipIf(!hasChromium)('GraphiQL in a browser (development server, demo workspace)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let browser: Browser;
  /** One browser profile for both starts: what GraphiQL stored on the first is there on the second. */
  let context: BrowserContext;
  let server: RunningServer | undefined;
  /** The restart listens where the first start did, so the page has the same origin (and storage). */
  let port = '0';
  let firstKey = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    context = await browser.newContext({ viewport: { width: 1400, height: 900 }, reducedMotion: 'reduce' });
  });
  afterAll(async () => {
    await browser?.close();
    if (server?.child.exitCode === null) await server.stop();
    await db?.drop();
  });

  /** Opens GraphiQL, runs every tab with its Execute button and returns each tab's answer. */
  async function runEveryTab(url: string, key: string) {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    // Ready once it has read the schema (with the key it was served).
    const schemaRead = page.waitForResponse((candidate) => operationOf(candidate).operationName === 'IntrospectionQuery');
    await page.goto(`${url}/graphql`);
    expect((await schemaRead).status()).toBe(200);
    // After a restart GraphiQL restores the tabs it stored (it may add a copy of the last one).
    await expect.poll(() => page.locator('.graphiql-tab-button').allTextContents()).toEqual(expect.arrayContaining(TABS));
    const answers: Record<string, { status: number; authorization?: string; variables?: Record<string, unknown>; body: any }> = {};
    for (const name of TABS) {
      // Tabs are activated from the keyboard: the tab strip can be reordered by dragging, and a
      // pointer click on a tab that is still settling into place may land on its neighbour.
      await page.getByRole('tab').getByRole('button', { name, exact: true }).first().press('Enter');
      await expect.poll(() => page.locator('.graphiql-tab-active .graphiql-tab-button').textContent()).toBe(name);
      await expect.poll(() => page.locator('.graphiql-query-editor').textContent()).toMatch(new RegExp(`(query|mutation|subscription)\\s${name}\\b`));
      // On a loaded machine a click can land while the editor is still settling and start
      // nothing: click again (a query or the Link mutation repeated is harmless) until it runs.
      let response: Response | undefined;
      for (let attempt = 0; !response && attempt < 4; attempt += 1) {
        [response] = await Promise.all([
          page
            .waitForResponse(
              (candidate) => candidate.request().method() === (name === LIVE_TAB ? 'GET' : 'POST') && operationOf(candidate).operationName === name,
              { timeout: 20_000 },
            )
            .catch(() => undefined),
          page.getByRole('button', { name: /^Execute query/ }).click(),
        ]);
      }
      if (!response) throw new Error(`the ${name} tab never sent its operation`);
      if (name === LIVE_TAB) {
        // Subscribed over SSE (the response's headers are in; its body streams): a link made
        // elsewhere meanwhile shows up in the result pane.
        expect(response.headers()['content-type']).toMatch(/^text\/event-stream/);
        await relinkTwoContacts(url, key);
        await expect.poll(() => page.locator('.graphiql-response').textContent(), { timeout: 20_000 }).toMatch(/"action":\s*"(UN)?LINKED"/);
        answers[name] = {
          status: response.status(),
          authorization: response.request().headers().authorization,
          body: { data: { streamed: true } },
        };
        continue;
      }
      answers[name] = {
        status: response.status(),
        authorization: response.request().headers().authorization,
        variables: operationOf(response).variables,
        body: await response.json(),
      };
      // …and the result pane shows it.
      await expect.poll(() => page.locator('.graphiql-response').textContent()).toContain('"data"');
    }
    await page.close();
    expect(problems).toEqual([]);
    for (const name of TABS) {
      expect(answers[name]!.authorization, name).toBe(`Bearer ${key}`);
      expect(answers[name]!.status, `${name}: ${JSON.stringify(answers[name]!.body)}`).toBe(200);
      expect(answers[name]!.body.errors, name).toBeUndefined();
      expect(answers[name]!.body.data, name).toBeTruthy();
    }
    return answers;
  }

  it('after the first start: every tab runs, and Link links two demo contacts', { timeout: 240_000 }, async () => {
    server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development', PORT: port });
    port = new URL(server.url).port;
    const key = developmentKey(server.output());
    expect(key).toMatch(/^rel_/);
    firstKey = key;
    try {
      const answers = await runEveryTab(server.url, key);
      expect(answers.Viewer!.body.data.viewer.workspace.name).toBe('Demo');
      expect(answers.Link!.variables).toEqual({ first: expect.any(String), second: expect.any(String) });
      expect(answers.Link!.body.data.linkRecords).toMatchObject({ __typename: 'LinkRecordsSuccess', created: true });
    } finally {
      await server.stop();
    }
  });

  it('after a restart on the same database: a new key, and every tab still runs (Link again: created = false)', { timeout: 240_000 }, async () => {
    server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development', PORT: port });
    const key = developmentKey(server.output());
    expect(server.output()).not.toContain('Created the "Demo" workspace');
    expect(key).toMatch(/^rel_/);
    expect(key).not.toBe(firstKey);
    try {
      const answers = await runEveryTab(server.url, key);
      expect(answers.Link!.body.data.linkRecords).toMatchObject({ __typename: 'LinkRecordsSuccess', created: false });
    } finally {
      await server.stop();
    }
  });
});
