import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'graphql-yoga';

/** Where the page is served; its script, style sheet and Cytoscape.js are served below it. */
export const EXPLORE_PATH = '/explore';

const PAGE_FOLDER = new URL('../explore/', import.meta.url);

/**
 * Cytoscape.js adds this one rule to the page in a <style> element of its own; the policy allows
 * it by its hash, and no other inline style.
 */
const CYTOSCAPE_STYLE = '.__________cytoscape_container { position: relative; }';

/**
 * The page talks to /graphql with the key in a <meta> element: no inline script, no other origin.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  `style-src 'self' 'sha256-${createHash('sha256').update(CYTOSCAPE_STYLE).digest('base64')}'`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The graph explorer (SPEC §5.4), for development only: `GET /explore` serves a page that draws
 * a record's neighbourhood through the public API, with `apiKey()` (the key GraphiQL opens with)
 * written into it. Files are read at each request, so an edited page shows on reload.
 */
export function explorePage(apiKey: () => string | undefined): Plugin {
  const assets: Record<string, { file: string; type: string }> = {
    [`${EXPLORE_PATH}/explore.js`]: { file: fileURLToPath(new URL('explore.js', PAGE_FOLDER)), type: 'text/javascript' },
    [`${EXPLORE_PATH}/explore.css`]: { file: fileURLToPath(new URL('explore.css', PAGE_FOLDER)), type: 'text/css' },
    // From the installed package: the page loads nothing from anywhere else.
    [`${EXPLORE_PATH}/cytoscape.min.js`]: {
      file: createRequire(import.meta.url).resolve('cytoscape/dist/cytoscape.min.js'),
      type: 'text/javascript',
    },
  };
  const page = fileURLToPath(new URL('index.html', PAGE_FOLDER));
  return {
    onRequest: async ({ request, url, fetchAPI, endResponse }) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      const headers = { 'x-content-type-options': 'nosniff', 'content-security-policy': CONTENT_SECURITY_POLICY };
      if (url.pathname === EXPLORE_PATH || url.pathname === `${EXPLORE_PATH}/`) {
        const html = (await readFile(page, 'utf8')).replace('{{API_KEY}}', escapeHtml(apiKey() ?? ''));
        endResponse(
          new fetchAPI.Response(request.method === 'HEAD' ? null : html, {
            // A new key at each start: never cached.
            headers: { ...headers, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
          }),
        );
        return;
      }
      const asset = assets[url.pathname];
      if (!asset) return;
      endResponse(
        new fetchAPI.Response(request.method === 'HEAD' ? null : await readFile(asset.file), {
          headers: { ...headers, 'content-type': `${asset.type}; charset=utf-8`, 'cache-control': 'no-cache' },
        }),
      );
    },
  };
}
