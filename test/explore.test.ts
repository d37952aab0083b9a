import { existsSync } from 'node:fs';
import type { Core } from 'cytoscape';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { createTestDatabase } from './helpers.js';
import { startServer, type RunningServer } from './support/process.js';

/**
 * The graph explorer (SPEC §5.4): served in development only, and driven in a real browser
 * against a real server with the demo seeded. The browser is the system's Chromium (no browser
 * is downloaded); without it the browser suite is skipped and says why.
 */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`\n[relate] ${CHROMIUM} not found: the explorer's browser tests are skipped (apt-get install chromium).\n`);
}
/**
 * A file name to save the page to once a neighbourhood is drawn and expanded: the README's
 * docs/explore.png is made with RELATE_EXPLORE_SCREENSHOT=docs/explore.png.
 */
const SCREENSHOT = process.env.RELATE_EXPLORE_SCREENSHOT;

const appFor = (production: boolean) =>
  createApp({ config: { production, introspection: !production, reportStatements: false }, graphiqlApiKey: () => 'rel_test"<key>' });
const get = (app: ReturnType<typeof appFor>, path: string, method = 'GET') => app.fetch(`http://relate.test${path}`, { method });

describe('GET /explore', () => {
  it('serves the page in development with the key written in, escaped, never cached', async () => {
    const response = await get(appFor(false), '/explore');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).toContain('<meta name="relate-api-key" content="rel_test&quot;&lt;key&gt;">');
    expect(html).not.toContain('{{API_KEY}}');
  });

  it('serves its script, style sheet and Cytoscape.js from the server itself', async () => {
    const app = appFor(false);
    const html = await (await get(app, '/explore')).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets.sort()).toEqual(['/explore/cytoscape.min.js', '/explore/explore.css', '/explore/explore.js', '/graphql']);
    for (const path of assets.filter((asset) => asset.startsWith('/explore/'))) {
      const response = await get(app, path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(/^text\/(javascript|css); charset=utf-8$/);
      expect((await response.text()).length, path).toBeGreaterThan(100);
    }
    expect((await get(app, '/explore/cytoscape.min.js', 'HEAD')).status).toBe(200);
    expect((await get(app, '/explore/other.js')).status).toBe(404);
    expect((await get(app, '/explore', 'POST')).status).toBe(404);
  });

  it('answers 404 in production, for the page and its files', async () => {
    const app = appFor(true);
    for (const path of ['/explore', '/explore/explore.js', '/explore/cytoscape.min.js']) {
      const response = await get(app, path);
      expect(response.status, path).toBe(404);
      expect(await response.text()).not.toContain('rel_test');
    }
  });
});

describe.skipIf(!hasChromium)('the explorer in a browser (development server, demo workspace)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  /** Console errors and uncaught exceptions in the page: every test ends with none. */
  const problems: string[] = [];

  const idle = () => page.waitForFunction(() => document.body.dataset.busy === 'false');
  const names = () => page.evaluate(() => window.cy.nodes().map((node) => node.data('name') as string).sort());
  const status = () => page.locator('#status').textContent();

  /** Clicks a record in the graph where it is drawn, as a user would (with Shift held, if asked). */
  async function clickRecord(name: string, modifiers: ('Shift' | 'Alt')[] = []) {
    const box = (await page.locator('#graph').boundingBox())!;
    const at = await page.evaluate((wanted) => window.cy.nodes().filter((node) => node.data('name') === wanted)[0]?.renderedPosition(), name);
    expect(at, `${name} is drawn`).toBeDefined();
    for (const key of modifiers) await page.keyboard.down(key);
    await page.mouse.click(box.x + at!.x, box.y + at!.y);
    for (const key of modifiers) await page.keyboard.up(key);
    await idle();
  }

  async function search(text: string) {
    await page.getByLabel('Find a record').fill(text);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await idle();
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    // Reduced motion: the page then lays out without animation, so nodes stay where they are drawn.
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page: ${error.message}`));
  });
  afterAll(async () => {
    await browser?.close();
    if (server?.child.exitCode === null) await server.stop();
    await db?.drop();
  });

  it('opens with the demo key and lists the records to start from', async () => {
    await page.goto(`${server.url}/explore`);
    await idle();
    await expect.poll(() => page.locator('#results').textContent()).toContain('Ada Lovelace');
    expect(await page.locator('#results').textContent()).toContain('Analytical Engine Roadster');
    expect(await page.locator('#legend').textContent()).toBe('ContactCar');
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(problems).toEqual([]);
  });

  it("draws a contact's neighbourhood: its records coloured by object, its associations named by role", async () => {
    await search('Ada');
    await page.locator('.results .pick', { hasText: 'Ada Lovelace' }).click();
    await idle();
    expect(await names()).toEqual(['Ada Lovelace', 'Alan Turing', 'Analytical Engine Roadster', 'Charles Babbage']);
    const colours = await page.evaluate(() => Object.fromEntries(window.cy.nodes().map((node) => [node.data('name'), node.data('colour')])));
    expect(colours['Ada Lovelace']).toBe(colours['Alan Turing']);
    expect(colours['Ada Lovelace']).not.toBe(colours['Analytical Engine Roadster']);
    // Each association once, with the role of each side (a SINGLE label has one name for both).
    const edges = await page.locator('#edge-list li').allTextContents();
    expect(edges).toHaveLength(6);
    expect(edges).toEqual(
      expect.arrayContaining([
        'Charles Babbage (Manager) → Ada Lovelace (Employee)',
        'Charles Babbage (Owner) → Analytical Engine Roadster (Car)',
        'Ada Lovelace (Owner) → Analytical Engine Roadster (Car)',
        'Analytical Engine Roadster (Driven car) → Ada Lovelace (Primary driver)',
      ]),
    );
    expect(edges.filter((edge) => edge.endsWith(': Colleague'))).toHaveLength(2);
    expect(await status()).toContain('Ada Lovelace: 3 records within 1 hop');
    expect(page.url()).toMatch(/#record=/);
    expect(problems).toEqual([]);
  });

  it('expands a record when it is clicked, keeping what is drawn', async () => {
    await clickRecord('Charles Babbage');
    expect(await names()).toEqual(['Ada Lovelace', 'Alan Turing', 'Analytical Engine Roadster', 'Charles Babbage', 'Difference Coupé']);
    expect(await page.locator('#selection-name').textContent()).toBe('Charles Babbage (Contact)');
    expect(await page.locator('#edge-list li').count()).toBe(7);
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT });
    expect(problems).toEqual([]);
  });

  it('highlights the shortest path to a second record picked with Shift-click', async () => {
    await clickRecord('Alan Turing', ['Shift']);
    const onPath = await page.evaluate(() => ({
      records: window.cy.nodes('.on-path').map((node) => node.data('name') as string).sort(),
      associations: window.cy.edges('.on-path').length,
      faded: window.cy.elements('.faded').length,
    }));
    expect(onPath.records).toEqual(['Ada Lovelace', 'Alan Turing', 'Charles Babbage']);
    expect(onPath.associations).toBe(2);
    expect(onPath.faded).toBeGreaterThan(0);
    expect(await status()).toBe('Shortest path, 2 hops: Charles Babbage → Ada Lovelace → Alan Turing.');
    expect(problems).toEqual([]);
  });

  it('finds paths from the controls too, and says when there is none', async () => {
    await page.getByLabel('Path to', { exact: true }).selectOption({ label: 'Difference Coupé' });
    await page.getByRole('button', { name: 'Show path' }).click();
    await idle();
    expect(await status()).toBe('Shortest path, 1 hop: Charles Babbage → Difference Coupé.');
    await search('Grace');
    await page.getByRole('button', { name: 'Path from Charles Babbage to Grace Hopper' }).click();
    await idle();
    expect(await status()).toBe('No path between Charles Babbage and Grace Hopper within 6 hops.');
    expect(problems).toEqual([]);
  });

  it('shows the errors the API answers with in the page', async () => {
    await page.goto('about:blank');
    await page.goto(`${server.url}/explore#record=UmVjb3JkOjk5OTk5`);
    await idle();
    expect(await page.locator('#error').textContent()).toMatch(/no longer exists|not visible|cannot see/i);
    expect(problems).toEqual([]);
  });
});

/** What the callbacks that run in the page use of it (the project is typed without the DOM). */
declare const window: { cy: Core };
declare const document: { body: { dataset: { busy?: string } } };
