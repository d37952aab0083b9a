import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type TextMapGetter } from '@opentelemetry/api';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const tracer = trace.getTracer('relate');

/** Probes and scrapes are not worth a trace each. */
const UNTRACED = new Set(['/health', '/ready', '/metrics']);

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/** Runs `wrapped` (sync or async) with `span` active, and ends the span after it. */
function within<T extends void | Promise<void>>(span: Span, wrapped: () => T, parent = context.active()): T {
  const fail = (error: unknown) => span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : undefined });
  let result: T;
  try {
    result = context.with(trace.setSpan(parent, span), wrapped);
  } catch (error) {
    fail(error);
    span.end();
    throw error;
  }
  // A promise, or one of whatwg-node's synchronous thenables.
  if (typeof (result as { then?: unknown } | undefined)?.then === 'function') {
    return (result as Promise<void>).then(
      () => span.end(),
      (error: unknown) => {
        fail(error);
        span.end();
        throw error;
      },
    ) as T;
  }
  span.end();
  return result;
}

/**
 * OpenTelemetry spans for each HTTP request (`POST /graphql`, a server span that continues a
 * caller's `traceparent`), and within it `graphql.parse`, `graphql.validate` and
 * `graphql.execute` (or `graphql.subscribe`). The SQL statements a request issues are spans of
 * their own (db/statements.ts), children of whichever of these is active: the execution, or the
 * HTTP request while the context (authentication) is built.
 *
 * Only added when tracing is configured (see telemetry/tracing.ts): without it, a request makes
 * no tracing call at all, and each SQL statement one no-op lookup.
 */
export function tracing(options: { graphqlEndpoint?: string } = {}): Plugin {
  const graphqlEndpoint = options.graphqlEndpoint ?? '/graphql';
  /** The HTTP span of each request, found again from its server context (Yoga's hooks get that). */
  const requestSpans = new WeakMap<Request, Span>();
  const httpSpans = new WeakMap<object, Span>();
  return {
    instrumentation: {
      request: ({ request }, wrapped) => {
        const url = new URL(request.url, 'http://localhost');
        if (UNTRACED.has(url.pathname)) return wrapped();
        const route = url.pathname === graphqlEndpoint ? graphqlEndpoint : undefined;
        const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
        const span = tracer.startSpan(
          route ? `${request.method} ${route}` : request.method,
          {
            kind: SpanKind.SERVER,
            attributes: {
              'http.request.method': request.method,
              'url.path': url.pathname,
              'url.scheme': url.protocol.replace(':', ''),
              ...(route ? { 'http.route': route } : {}),
              ...(request.headers.get('user-agent') ? { 'user_agent.original': request.headers.get('user-agent')! } : {}),
            },
          },
          parent,
        );
        requestSpans.set(request, span);
        return within(span, wrapped, parent);
      },
      parse: (_payload, wrapped) => within(tracer.startSpan('graphql.parse'), wrapped),
      validate: (_payload, wrapped) => within(tracer.startSpan('graphql.validate'), wrapped),
      execute: (_payload, wrapped) => within(tracer.startSpan('graphql.execute'), wrapped),
      subscribe: (_payload, wrapped) => within(tracer.startSpan('graphql.subscribe'), wrapped),
    },
    onRequest: ({ request, serverContext }) => {
      const span = requestSpans.get(request);
      if (span) httpSpans.set(serverContext, span);
    },
    onExecute: ({ args }) => {
      // Runs inside the execute instrumentation: the active span is `graphql.execute`.
      const span = trace.getActiveSpan();
      if (!span?.isRecording()) return;
      const operation = getOperationAST(args.document, args.operationName);
      const attributes = {
        'graphql.operation.type': operation?.operation ?? 'unknown',
        ...(operation?.name ? { 'graphql.operation.name': operation.name.value } : {}),
      };
      span.setAttributes(attributes);
      httpSpans.get(args.contextValue)?.setAttributes(attributes);
      return {
        onExecuteDone: ({ result }) => {
          if (!(Symbol.asyncIterator in result) && result.errors?.length) span.setStatus({ code: SpanStatusCode.ERROR });
        },
      };
    },
    onResultProcess: ({ result, serverContext }) => {
      // The errors as the client gets them (masked, with their codes), on the request's span.
      const span = httpSpans.get(serverContext);
      if (!span?.isRecording() || Symbol.asyncIterator in result) return;
      const codes = new Set<string>();
      for (const one of Array.isArray(result) ? result : [result]) {
        for (const error of one.errors ?? []) codes.add(String(error.extensions?.code ?? 'UNKNOWN'));
      }
      if (codes.size > 0) span.setAttribute('graphql.error.codes', [...codes]);
    },
    onResponse: ({ request, response, serverContext }) => {
      const span = httpSpans.get(serverContext) ?? requestSpans.get(request);
      if (!span) return;
      span.setAttribute('http.response.status_code', response.status);
      // Server spans: 5xx is an error of this server; 4xx is the client's.
      if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    },
  };
}
