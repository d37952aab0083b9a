/**
 * The operator docs stay true to the code: every setting the code reads is in docs/operations.md,
 * and the README points to the operator docs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'generated') return [];
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return /\.(ts|mjs|js)$/.test(name) ? [path] : [];
  });
}

/** Variables the server sets for its own worker processes: not settings. */
const INTERNAL = new Set(['RELATE_GRAPHIQL_API_KEY', 'RELATE_GRAPHIQL_EXAMPLE_IDS', 'RELATE_WORKER_MIGRATE']);
/** Settings read under their standard names. */
const STANDARD = ['PORT', 'DATABASE_URL', 'NODE_ENV', 'REDIS_URL', 'LOG_LEVEL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME'];

describe('docs', () => {
  it('docs/operations.md lists every setting the code reads', () => {
    const code = [...sources('src'), 'bin/relate.js'].map(read).join('\n');
    const relate = [...new Set(code.match(/\bRELATE_[A-Z0-9_]+\b/g) ?? [])].filter((name) => !INTERNAL.has(name));
    expect(relate.length).toBeGreaterThan(15);
    const operations = read('docs/operations.md');
    const missing = [...relate, ...STANDARD].filter((name) => !operations.includes(`\`${name}\``));
    expect(missing, 'settings missing from docs/operations.md').toEqual([]);
  });

  it('the README points to the operator docs', () => {
    const readme = read('README.md');
    for (const doc of ['docs/operations.md', 'docs/scaling.md', 'docs/observability.md', 'docs/benchmarks.md']) {
      expect(readme, doc).toContain(`](${doc})`);
    }
  });
});
