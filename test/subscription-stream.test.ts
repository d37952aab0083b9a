/**
 * A subscription's SSE stream as the change feed's plugin writes it: what Yoga's own SSE writes
 * (GraphiQL and graphql-sse read it), byte for byte, with the results that are ready together in
 * one chunk. A schema of its own, so that the stream is all that is compared.
 */
import { GraphQLError } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { sharedSubscriptionResults } from '../src/plugins/shared-subscriptions.js';
import { adminViewer, type Viewer } from '../src/services/viewer.js';

const schema = createSchema<{ viewer: Viewer }>({
  typeDefs: 'type Query { ok: Boolean } type Subscription { ticks: Int! }',
  resolvers: {
    Subscription: {
      ticks: {
        // Four events ready at once; the last one's field fails, with an error extension that is the server's own.
        subscribe: async function* () {
          for (const n of [1, 2, 3, -1]) yield { n };
        },
        resolve: (event: { n: number }) => {
          if (event.n < 0) throw new GraphQLError('no more ticks', { extensions: { code: 'NO_MORE', http: { status: 418 } } });
          return event.n;
        },
      },
    },
  },
});

async function stream(plugins: Plugin[]) {
  const yoga = createYoga({ schema, plugins, logging: false, context: () => ({ viewer: adminViewer(1, 1) }) });
  const response = await yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'subscription { ticks }' }),
  });
  // The body is the stream the server pipes to the socket: each of its chunks is one write.
  const body = response.body as unknown as NodeJS.ReadableStream;
  const chunks: string[] = [];
  await new Promise((resolve, reject) => {
    body.on('data', (chunk: Uint8Array) => chunks.push(Buffer.from(chunk).toString()));
    body.on('end', resolve);
    body.on('error', reject);
  });
  return { status: response.status, headers: Object.fromEntries(response.headers), text: chunks.join(''), chunks: chunks.length };
}

describe('a subscription over SSE', () => {
  it('is written as Yoga writes it, with the results that are ready together in one chunk', async () => {
    const own = await stream([]);
    const gathered = await stream([sharedSubscriptionResults() as Plugin]);
    expect(own.text).toBe(
      ':\n\n' +
        'event: next\ndata: {"data":{"ticks":1}}\n\n' +
        'event: next\ndata: {"data":{"ticks":2}}\n\n' +
        'event: next\ndata: {"data":{"ticks":3}}\n\n' +
        'event: next\ndata: {"errors":[{"message":"no more ticks","locations":[{"line":1,"column":16}],"path":["ticks"],"extensions":{"code":"NO_MORE"}}],"data":null}\n\n' +
        'event: complete\ndata:\n\n',
    );
    expect({ ...gathered, chunks: undefined }).toEqual({ ...own, chunks: undefined });
    expect(own.chunks).toBeGreaterThanOrEqual(5);
    expect(gathered.chunks).toBeLessThanOrEqual(3);
  });
});
