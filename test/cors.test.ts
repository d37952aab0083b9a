import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { useTestApp, type TestWorkspace } from './helpers.js';

/**
 * Browsers over real HTTP: the preflight a browser sends before a POST with an API key, and the
 * POST itself, for each configuration of RELATE_CORS_ORIGINS.
 */
const t = useTestApp();
const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example.net';

const servers: { server: Server; app: App }[] = [];
afterAll(async () => {
  for (const { server, app } of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await app.dispose();
  }
});

/** An app configured from these environment variables, as the server would be, on a free port. */
async function serve(env: Record<string, string>): Promise<string> {
  const config = loadConfig({ ...env, RELATE_RATE_LIMIT: '100' });
  const app = createApp({ config: { ...config, reportStatements: false } });
  const server = createServer((req, res) => void app(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ server, app });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request (fetch would not send an Origin of our choosing as a browser does). */
function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/graphql`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What a browser sends before `fetch(url, { method: 'POST', headers: { Authorization, 'Content-Type': 'application/json' } })`. */
const preflight = (url: string, origin: string) =>
  send(url, 'OPTIONS', {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'authorization,content-type',
  });

const post = (url: string, origin: string, apiKey: string) =>
  send(url, 'POST', { origin, authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, JSON.stringify({ query: '{ viewer { user { id } } }' }));

const corsHeaders = (answer: Answer) => Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'));

/** A browser lets the page read the answer only when Access-Control-Allow-Origin names its origin. */
function expectAllowedPreflight(answer: Answer, origin: string) {
  expect(answer.status).toBe(204);
  expect(answer.headers['access-control-allow-origin']).toBe(origin);
  expect(answer.headers['access-control-allow-methods']).toBe('GET, POST');
  expect(answer.headers['access-control-allow-headers']?.split(/,\s*/)).toEqual(['authorization', 'content-type']);
  expect(answer.headers['access-control-max-age']).toBe('600');
  expect(answer.headers.vary).toMatch(/\bOrigin\b/);
  // Bearer keys, not cookies: credentials are never allowed.
  expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
}

function expectAllowedPost(answer: Answer, origin: string) {
  expect(answer.status).toBe(200);
  expect(JSON.parse(answer.body).data.viewer.user.id).toEqual(expect.any(String));
  expect(answer.headers['access-control-allow-origin']).toBe(origin);
  expect(answer.headers['access-control-expose-headers']).toBe('Retry-After, RateLimit, RateLimit-Policy');
  expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
}

/** Refused: no Access-Control-* header at all, so the browser stops at the preflight. */
function expectRefused(answer: Answer) {
  expect(corsHeaders(answer)).toEqual([]);
}

let ws: TestWorkspace;
beforeAll(async () => {
  ws = await t.workspace();
});

describe('RELATE_CORS_ORIGINS', () => {
  it('lets listed origins call the API, and no other', async () => {
    const url = await serve({ NODE_ENV: 'production', RELATE_CORS_ORIGINS: `${ALLOWED}, http://localhost:3000` });
    expectAllowedPreflight(await preflight(url, ALLOWED), ALLOWED);
    expectAllowedPreflight(await preflight(url, 'http://localhost:3000'), 'http://localhost:3000');
    expectAllowedPost(await post(url, ALLOWED, ws.apiKey), ALLOWED);

    for (const origin of [OTHER, 'null', `${ALLOWED}.evil.net`, 'http://app.example.com', 'http://localhost:3001']) {
      expectRefused(await preflight(url, origin));
      // The server still answers (it is the browser that withholds the answer from the page).
      const answer = await post(url, origin, ws.apiKey);
      expect(answer.status).toBe(200);
      expectRefused(answer);
    }
  });

  it('with one origin, refuses the others the same way', async () => {
    const url = await serve({ NODE_ENV: 'production', RELATE_CORS_ORIGINS: ALLOWED });
    expectAllowedPreflight(await preflight(url, ALLOWED), ALLOWED);
    expectRefused(await preflight(url, OTHER));
    expectRefused(await post(url, OTHER, ws.apiKey));
  });

  it('lets any origin call with *', async () => {
    const url = await serve({ NODE_ENV: 'production', RELATE_CORS_ORIGINS: '*' });
    expectAllowedPreflight(await preflight(url, OTHER), OTHER);
    expectAllowedPost(await post(url, OTHER, ws.apiKey), OTHER);
  });

  it('allows no origin in production by default', async () => {
    const url = await serve({ NODE_ENV: 'production' });
    expectRefused(await preflight(url, ALLOWED));
    const answer = await post(url, ALLOWED, ws.apiKey);
    expect(answer.status).toBe(200);
    expectRefused(answer);
  });

  it('allows any origin in development by default, unless set to none', async () => {
    const url = await serve({ NODE_ENV: 'development' });
    expectAllowedPreflight(await preflight(url, 'http://localhost:5173'), 'http://localhost:5173');
    expectAllowedPost(await post(url, 'http://localhost:5173', ws.apiKey), 'http://localhost:5173');
    const none = await serve({ NODE_ENV: 'development', RELATE_CORS_ORIGINS: 'none' });
    expectRefused(await preflight(none, 'http://localhost:5173'));
  });

  it('sends nothing to requests without an Origin (not from a browser page)', async () => {
    const url = await serve({ NODE_ENV: 'production', RELATE_CORS_ORIGINS: '*' });
    const answer = await send(url, 'POST', { authorization: `Bearer ${ws.apiKey}`, 'content-type': 'application/json' }, JSON.stringify({ query: '{ viewer { user { id } } }' }));
    expect(answer.status).toBe(200);
    expectRefused(answer);
  });

  it('accepts *, none, or exact origins, and says what is wrong with anything else', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).corsOrigins).toEqual([]);
    expect(loadConfig({}).corsOrigins).toBe('*');
    expect(loadConfig({ RELATE_CORS_ORIGINS: ' * ' }).corsOrigins).toBe('*');
    expect(loadConfig({ RELATE_CORS_ORIGINS: 'none' }).corsOrigins).toEqual([]);
    expect(loadConfig({ RELATE_CORS_ORIGINS: 'https://a.example.com,http://localhost:8080' }).corsOrigins).toEqual([
      'https://a.example.com',
      'http://localhost:8080',
    ]);
    for (const origin of ['https://a.example.com/', 'https://a.example.com/app', 'a.example.com', 'https://A.example.com', 'ftp://a.example.com', 'https://a.example.com:443']) {
      expect(() => loadConfig({ RELATE_CORS_ORIGINS: origin })).toThrow(`RELATE_CORS_ORIGINS must be *, none, or origins such as https://app.example.com`);
    }
  });
});
