import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type FetchAPI, type Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { sightKey } from '../services/visibility.js';

/**
 * Subscriptions execute each event once per kind of subscriber, not once per subscriber.
 *
 * The change feed hands one event object to every subscriber of its workspace (feed/bus.ts), and
 * what a subscriber receives for it depends only on its operation (document, operation name,
 * variables) and on what its viewer may see. So the result of executing an event is kept beside
 * the event (a WeakMap: it goes when the event does), keyed by those, and every subscriber of
 * the same kind gets it without executing anything: with 1,000 subscribers to the same operation
 * an event is executed once instead of 1,000 times, and serialised once (Yoga writes a result with
 * its `stringify` when it has one). Each subscriber receives its own copy of the result's top
 * level, so what later hooks add to one (extensions) is not seen by the others, and a copy that
 * was changed is serialised on its own.
 *
 * This is graphql-js's own subscribe (createSourceEventStream, then an execute per event with the
 * event as root value) with that cache in between; every other hook still sees each subscriber's
 * results one by one.
 *
 * And a subscription's results are written to its SSE stream as they are ready, several to a write
 * (eventStream, below): after sharing the execution, a subscriber's cost is mostly its writes.
 */
export function sharedSubscriptionResults(): Plugin<Context> {
  const subscriptionRequests = new WeakSet<Request>();
  return {
    onSubscribe({ args, setSubscribeFn }) {
      setSubscribeFn(subscribeShared);
      const { request } = args.contextValue as { request?: Request };
      if (request) subscriptionRequests.add(request);
    },
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      // A subscription's stream of results: Yoga chose its SSE processor, the only one it has for
      // a subscription's stream (none when the request does not accept text/event-stream).
      if (resultProcessor && subscriptionRequests.has(request) && isAsyncIterable(result)) {
        setResultProcessor(eventStream, 'text/event-stream');
      }
    },
  };
}

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;
/** A result shared by subscribers: each gets a copy of it by `copy()`. */
interface Shared {
  copy(): ExecutionResult;
}
/** Per event: its results, by kind of subscriber (the result itself once it is known). */
const results = new WeakMap<object, Map<string, Shared | Promise<Shared>>>();

/** Whether a copy still holds exactly what the shared result holds (no hook changed it). */
function unchanged(copy: object, shared: object): boolean {
  const keys = Object.keys(copy);
  return keys.length === Object.keys(shared).length && keys.every((key) => (copy as never)[key] === (shared as never)[key]);
}

function share(result: ExecutionResult): Shared {
  let text: string | undefined;
  const stringify = (value: ExecutionResult) => (unchanged(value, result) ? (text ??= JSON.stringify(value)) : JSON.stringify(value));
  return { copy: () => Object.defineProperty({ ...result }, 'stringify', { value: stringify, enumerable: false }) };
}

async function subscribeShared(args: ExecutionArgs) {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source;
  let documentId = documentIds.get(args.document);
  if (documentId === undefined) documentIds.set(args.document, (documentId = (nextDocumentId += 1)));
  const { viewer } = args.contextValue as Context;
  const kind = `${documentId}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}\n${sightKey(viewer)}`;
  return mapAsyncIterator(source, (event: unknown) => {
    const execution = () => execute({ ...args, rootValue: event });
    if (typeof event !== 'object' || event === null) return execution();
    let byKind = results.get(event);
    if (!byKind) results.set(event, (byKind = new Map()));
    const shared = byKind.get(kind);
    // The first subscriber of its kind executes; the others take the result as it is, without
    // waiting on a promise (each wait is one more turn of the microtask queue per subscriber).
    if (shared && !(shared instanceof Promise)) return shared.copy();
    if (shared) return shared.then((done) => done.copy());
    const executing = Promise.resolve(execution()).then((result) => {
      const done = share(result);
      byKind.set(kind, done);
      return done;
    });
    byKind.set(kind, executing);
    return executing.then((done) => done.copy());
  });
}

// ---------------------------------------------------------------------------------------------
// GraphQL over SSE, a subscription's events gathered into one write.

/** How often an idle stream sends a comment, as Yoga's own SSE does (more often under tests). */
const PING_INTERVAL = process.env.NODE_ENV === 'test' ? 300 : 12_000;
const TURN_OVER = Symbol('turn over');
let turn: Promise<typeof TURN_OVER> | undefined;

/** Resolves when this turn of the event loop is over: one timer for every stream that waits on it. */
function turnOver(): Promise<typeof TURN_OVER> {
  return (turn ??= new Promise((resolve) =>
    setImmediate(() => {
      turn = undefined;
      resolve(TURN_OVER);
    }),
  ));
}

type Result = ExecutionResult & { stringify?: (result: ExecutionResult) => string };
/** What a result processor is given (Yoga does not export the type). */
type ResultProcessorInput = Parameters<NonNullable<Parameters<NonNullable<Plugin['onResultProcess']>>[0]['resultProcessor']>>[0];

/**
 * A result as Yoga serialises it: with its own `stringify` (a shared result's text), and without
 * what is internal to the server (an error's `http` and `unexpected` extensions, the result's `http`).
 */
function serialised(result: Result): string {
  const stringify = result.stringify ?? JSON.stringify;
  if (!result.errors?.length && !(result.extensions as { http?: unknown } | undefined)?.http) return stringify(result);
  const { http: _http, ...extensions } = (result.extensions ?? {}) as Record<string, unknown>;
  const errors = result.errors?.map((error) => {
    const json = typeof error.toJSON === 'function' ? error.toJSON() : error;
    const { http: _status, unexpected: _unexpected, ...rest } = (json.extensions ?? {}) as Record<string, unknown>;
    return { ...json, extensions: Object.keys(rest).length ? rest : undefined };
  });
  return stringify({ ...result, errors, extensions: Object.keys(extensions).length ? extensions : undefined });
}

const message = (result: Result) => `event: next\ndata: ${serialised(result)}\n\n`;

/**
 * GraphQL over SSE as Yoga's own processor writes it (a comment first and every PING_INTERVAL,
 * `event: next` per result, `event: complete` at the end: what GraphiQL and graphql-sse read), but
 * every result that is ready within the same turn of the event loop goes out as one chunk. The
 * change feed hands a subscriber the events it reads together all at once, and a subscriber's cost
 * is its socket writes (and the stream's work per chunk), not its events: with several events per
 * write, a subscriber costs a fraction of what it did per event.
 */
function eventStream(result: ResultProcessorInput, fetchAPI: FetchAPI): Response {
  const encoder = new fetchAPI.TextEncoder();
  const ping = encoder.encode(':\n\n');
  let iterator: AsyncIterator<Result>;
  let pinging: NodeJS.Timeout | undefined;
  /** A next() begun while gathering that was not ready when the turn ended: the next pull's first. */
  let pending: Promise<IteratorResult<Result>> | undefined;
  const stream = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      // First a comment: some browsers wait for a first chunk before they report the response.
      controller.enqueue(ping);
      pinging = setInterval(() => {
        if (controller.desiredSize === null) clearInterval(pinging);
        else if (controller.desiredSize > 0) controller.enqueue(ping);
      }, PING_INTERVAL);
      iterator = (result as AsyncIterable<Result>)[Symbol.asyncIterator]();
    },
    async pull(controller) {
      let text = '';
      try {
        let next = pending ?? iterator.next();
        pending = undefined;
        for (;;) {
          const step = await next;
          if (step.value != null) text += message(step.value);
          if (step.done) {
            clearInterval(pinging);
            controller.enqueue(encoder.encode(`${text}event: complete\ndata:\n\n`));
            controller.close();
            return;
          }
          next = iterator.next();
          if ((await Promise.race([next, turnOver()])) === TURN_OVER) {
            // Kept for the next pull; a failure is handled there, not reported as unhandled here.
            pending = next;
            next.catch(() => undefined);
            break;
          }
        }
      } catch (error) {
        clearInterval(pinging);
        if (text) controller.enqueue(encoder.encode(text));
        controller.error(error);
        return;
      }
      controller.enqueue(encoder.encode(text));
    },
    cancel(reason) {
      clearInterval(pinging);
      return iterator.return?.(reason).then(() => undefined);
    },
  });
  return new fetchAPI.Response(stream, {
    status: 200,
    headers: { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Cache-Control': 'no-cache', 'Content-Encoding': 'none' },
  });
}
