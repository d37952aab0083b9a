import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startTracing, type Tracing } from '../src/telemetry/tracing.js';
import { createTestDatabase, DB, useTestApp, type TestWorkspace } from './helpers.js';
import { createContact } from './support/fixtures.js';
import { startServer } from './support/process.js';

/**
 * Spans through HTTP, exported to memory by the same SDK setup the server uses with OTLP. The
 * app of `useTestApp` has no tracing configured; `traced` has.
 */
const t = useTestApp();
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let traced: App;
let ws: TestWorkspace;

beforeAll(async () => {
  tracing = startTracing(exporter);
  traced = createApp({ config: { production: true, introspection: true, reportStatements: true, tracing: true } });
  ws = await t.workspace();
});
afterAll(async () => {
  await tracing?.shutdown();
});

/** POSTs an operation to the traced app; answers the response and the spans of its trace. */
async function tracedPost(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  await tracing.flush();
  exporter.reset();
  const response = await traced.countedFetch('http://relate.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.apiKey}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[]; extensions?: { sqlStatements?: number } };
  await tracing.flush();
  return { status: response.status, body, spans: exporter.getFinishedSpans() };
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) => spans.filter((span) => parentOf(span) === parent.spanContext().spanId);
const isSql = (span: ReadableSpan) => span.attributes['db.system'] !== undefined;

/** The span tree, as names: `POST /graphql > graphql.execute > SELECT`. */
function paths(spans: ReadableSpan[]): string[] {
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  const path = (span: ReadableSpan): string => {
    const parent = byId.get(parentOf(span) ?? '');
    return parent ? `${path(parent)} > ${span.name}` : span.name;
  };
  return [...new Set(spans.map(path))].sort();
}

describe('tracing', () => {
  it('gives a request a server span, with parse, validate and execute spans under it and the SQL statements under the execution', async () => {
    const contact = await createContact(ws, 'Traced');
    const { status, body, spans } = await tracedPost(
      `query RecordPage($id: ID!) { record(id: $id) { displayName associations(first: 5) { totalCount edges { relatedRole } } } }`,
      { id: contact.id },
    );
    expect(status).toBe(200);
    expect(body.data.record.displayName).toBe('Traced');

    // One trace, one root: the HTTP request.
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1);
    const roots = spans.filter((span) => parentOf(span) === undefined);
    expect(roots.map((span) => span.name)).toEqual(['POST /graphql']);
    const http = roots[0]!;
    expect(http.kind).toBe(SpanKind.SERVER);
    expect(http.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/graphql',
      'url.path': '/graphql',
      'http.response.status_code': 200,
      'graphql.operation.name': 'RecordPage',
      'graphql.operation.type': 'query',
    });

    const phases = childrenOf(spans, http).filter((span) => !isSql(span));
    expect(phases.map((span) => span.name).sort()).toEqual(['graphql.execute', 'graphql.parse', 'graphql.validate']);
    const execute = phases.find((span) => span.name === 'graphql.execute')!;
    expect(execute.attributes).toMatchObject({ 'graphql.operation.name': 'RecordPage', 'graphql.operation.type': 'query' });

    // Every SQL statement is a span: the key's authentication under the request (the context is
    // built before execution), the resolvers' under the execution.
    const sql = spans.filter(isSql);
    expect(sql).toHaveLength(body.extensions!.sqlStatements!);
    const underExecute = childrenOf(spans, execute);
    expect(underExecute.length).toBeGreaterThan(0);
    expect(underExecute.every(isSql)).toBe(true);
    expect(sql.every((span) => [http, execute].includes(spans.find((s) => s.spanContext().spanId === parentOf(span))!))).toBe(true);
    for (const span of sql) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.attributes['db.system']).toBe(DB);
      expect(span.name).toMatch(/^[A-Z]+$/);
      expect(span.attributes['db.operation.name']).toBe(span.name);
      expect(span.attributes['db.statement']).toEqual(expect.stringMatching(new RegExp(`^\\s*${span.name}\\b`, 'i')));
    }
    expect(paths(spans)).toEqual(
      expect.arrayContaining(['POST /graphql', 'POST /graphql > graphql.parse', 'POST /graphql > graphql.validate', 'POST /graphql > graphql.execute', 'POST /graphql > graphql.execute > SELECT']),
    );
  });

  it('traces the statements of write transactions, with their text but never their values', async () => {
    const secret = `Zanzibar-${Date.now()}`;
    const { body, spans } = await tracedPost(
      `mutation AddContact($name: String!) { createRecord(input: { objectKey: "contact", properties: { firstName: $name } }) {
        __typename ... on CreateRecordSuccess { record { displayName } } } }`,
      { name: secret },
    );
    expect(body.data.createRecord).toEqual({ __typename: 'CreateRecordSuccess', record: { displayName: secret } });
    const execute = spans.find((span) => span.name === 'graphql.execute')!;
    expect(execute.attributes).toMatchObject({ 'graphql.operation.name': 'AddContact', 'graphql.operation.type': 'mutation' });
    const writes = childrenOf(spans, execute).filter((span) => span.name === 'INSERT');
    expect(writes.length).toBeGreaterThan(0);
    const placeholder = DB === 'postgresql' ? '$1' : '?';
    expect(writes.some((span) => String(span.attributes['db.statement']).includes(placeholder))).toBe(true);
    for (const span of spans) expect(JSON.stringify(span.attributes)).not.toContain(secret);
  });

  it('continues the caller\'s trace (W3C traceparent)', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const { spans } = await tracedPost('query Me { viewer { user { id } } }', {}, { traceparent: `00-${traceId}-${parentId}-01` });
    const http = spans.find((span) => span.name === 'POST /graphql')!;
    expect(http.spanContext().traceId).toBe(traceId);
    expect(parentOf(http)).toBe(parentId);
    expect(spans.every((span) => span.spanContext().traceId === traceId)).toBe(true);
  });

  it('marks refused requests with their status and error codes', async () => {
    await tracing.flush();
    exporter.reset();
    const response = await traced.fetch('http://relate.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer rel_wrong' },
      body: JSON.stringify({ query: 'query Me { viewer { user { id } } }' }),
    });
    expect(response.status).toBe(401);
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    const http = spans.find((span) => span.name === 'POST /graphql')!;
    expect(http.attributes).toMatchObject({ 'http.response.status_code': 401, 'graphql.error.codes': ['UNAUTHENTICATED'] });
    // Parsed and validated, never executed.
    expect(spans.map((span) => span.name).filter((name) => name.startsWith('graphql.')).sort()).toEqual(['graphql.parse', 'graphql.validate']);
  });

  it('makes no spans for an app without tracing, nor for probes', async () => {
    await tracing.flush();
    exporter.reset();
    const untraced = await t.post('query Me { viewer { user { id } } }', {}, ws.apiKey);
    expect(untraced.status).toBe(200);
    expect((await traced.fetch('http://relate.test/health')).status).toBe(200);
    expect((await traced.fetch('http://relate.test/ready')).status).toBe(200);
    expect((await traced.fetch('http://relate.test/metrics')).status).toBe(200);
    await tracing.flush();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

/** An OTLP/HTTP collector that keeps what it is sent (JSON, as the HTTP exporter sends it). */
async function collector(): Promise<{ url: string; requests: { path: string; body: any }[]; close: () => Promise<void> }> {
  const requests: { path: string; body: any }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests.push({ path: req.url!, body: JSON.parse(body) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the server with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('exports its spans over OTLP/HTTP as service "relate", the last ones when it stops', async () => {
    const otlp = await collector();
    const db = await createTestDatabase();
    try {
      const server = await startServer({ DATABASE_URL: db.url, NODE_ENV: 'development', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url });
      const apiKey = /\n {2}(rel_\S+)\n/.exec(server.output())![1]!;
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ query: 'query Exported { viewer { user { id } } }' }),
      });
      expect(response.status).toBe(200);
      expect((await server.stop()).code).toBe(0);

      expect(otlp.requests.length).toBeGreaterThan(0);
      expect(otlp.requests.map((request) => request.path)).toEqual(otlp.requests.map(() => '/v1/traces'));
      const resourceSpans = otlp.requests.flatMap((request) => request.body.resourceSpans);
      const attributes = Object.fromEntries(
        resourceSpans[0].resource.attributes.map((attribute: { key: string; value: { stringValue?: string } }) => [attribute.key, attribute.value.stringValue]),
      );
      expect(attributes['service.name']).toBe('relate');
      const names = resourceSpans.flatMap((resource: any) => resource.scopeSpans.flatMap((scope: any) => scope.spans.map((span: any) => span.name)));
      expect(names).toEqual(expect.arrayContaining(['POST /graphql', 'graphql.parse', 'graphql.validate', 'graphql.execute', 'SELECT']));
    } finally {
      await db.drop();
      await otlp.close();
    }
  });
});

describe('configuration', () => {
  it('turns tracing on with an OTLP endpoint, as the OpenTelemetry variables say', () => {
    expect(loadConfig({}).tracing).toBe(false);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).toBe(true);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }).tracing).toBe(true);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toBe(false);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing).toBe(false);
  });
});
