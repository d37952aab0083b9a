import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../src/graphql/index.js';

describe('schema/schema.graphql', () => {
  it('is the SDL printed from the code (run `npm run schema:print` after changing the schema)', () => {
    const committed = readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(`${printedSchema()}\n`);
  });
});
