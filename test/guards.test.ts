import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { QUERY_LIMITS } from '../src/plugins/query-guards.js';
import { ENDPOINT, useTestApp } from './helpers.js';

const t = useTestApp();

/** `record { associations { edges { relatedRecord { … } } } }` nested `hops` times. */
function hops(count: number): string {
  let inner = 'displayName';
  for (let i = 0; i < count; i += 1) inner = `associations(first: 2) { edges { relatedRecord { ${inner} } } }`;
  return `query ($id: ID!) { record(id: $id) { ${inner} } }`;
}

describe('query guards', () => {
  it('allow two hops through the graph, and reject queries deeper than the depth limit or over the row limit, each with its own code', async () => {
    const ws = await t.workspace();
    const id = 'UmVjb3JkOjE=';
    const ok = await ws.gql(hops(2), { id });
    expect(ok.errors).toBeUndefined();
    // A narrow chain 18 levels deep: within the cost limit, over the depth limit.
    let chain = 'key';
    for (let i = 0; i < 8; i += 1) chain = `associationLabels { firstObject { ${chain} } }`;
    const deep = await ws.gql(`{ object(key: "contact") { ${chain} } }`);
    expect(deep.data ?? null).toBeNull();
    expect(deep.errors?.[0]?.message).toBe(`Query depth limit of ${QUERY_LIMITS.maxDepth} exceeded, found 18. Select fewer nested levels.`);
    expect(deep.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
    // Three hops of 100 edges each: a million rows, over the row limit.
    const wide = await ws.gql(hops(3).replaceAll('first: 2', 'first: 100'), { id });
    expect(wide.data ?? null).toBeNull();
    expect(wide.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COSTLY');
  });

  it('reject too many aliases and too many tokens', async () => {
    const ws = await t.workspace();
    const aliases = Array.from({ length: QUERY_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: objects { key }`).join(' ');
    const aliased = await ws.gql(`{ ${aliases} }`);
    expect(aliased.data ?? null).toBeNull();
    expect(aliased.errors?.[0]?.message).toBe(`Aliases limit of ${QUERY_LIMITS.maxAliases} exceeded, found ${QUERY_LIMITS.maxAliases + 1}. Use fewer aliases, or send several requests.`);
    expect(aliased.errors?.[0]?.extensions?.code).toBe('TOO_MANY_ALIASES');
    const fields = Array.from({ length: QUERY_LIMITS.maxTokens }, () => 'key').join(' ');
    const long = await ws.gql(`{ objects { ${fields} } }`);
    expect(long.data ?? null).toBeNull();
    expect(long.errors?.[0]?.message).toBe(`Token limit of ${QUERY_LIMITS.maxTokens} exceeded. Send a shorter document.`);
    expect(long.errors?.[0]?.extensions?.code).toBe('TOO_MANY_TOKENS');
  });

  it('reject first outside 1..100 with code VALIDATION, and return nothing else', async () => {
    const ws = await t.workspace();
    for (const first of [0, 101, -1]) {
      const response = await ws.gql('query ($first: Int) { records(objectKey: "contact", first: $first) { totalCount } }', { first });
      expect(response.data ?? null).toBeNull();
      expect(response.errors).toHaveLength(1);
      expect(response.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    }
  });

  it('turn introspection off when configured, and keep it on by default for GraphiQL', async () => {
    const ws = await t.workspace();
    const on = await ws.gql('{ __schema { queryType { name } } }');
    expect(on.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const closed = createApp({ config: { production: true, introspection: false, reportStatements: false } });
    const response = await closed.fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.apiKey}` },
      body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }),
    });
    const body = (await response.json()) as { data?: unknown; errors?: { message: string }[] };
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);
  });
});
