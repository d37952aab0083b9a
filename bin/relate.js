#!/usr/bin/env node
// The `relate` command. Runs the compiled CLI (dist/, built on install and by `npm run build`)
// with plain node. In a checkout whose sources changed since the last build it runs them through
// tsx instead, so it never runs stale code; in production (NODE_ENV=production) dist is used as
// it is, and must have been built.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/index.js', import.meta.url);
const production = process.env.NODE_ENV === 'production';

if (existsSync(compiled) && (production || (await import('../scripts/build.mjs')).isCurrent())) {
  await import(compiled.href);
} else {
  // tsx is a development dependency: not there after `npm ci --omit=dev`.
  const tsx = production ? undefined : await import('tsx/esm/api').catch(() => undefined);
  if (!tsx) {
    process.stderr.write('relate: dist/ is missing or older than src/: run `npm run build`\n');
    process.exit(1);
  }
  tsx.register();
  await import('../src/cli/index.ts');
}
