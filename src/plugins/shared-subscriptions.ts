import { Readable } from 'node:stream';
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type FetchAPI, type Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { sightKey } from '../services/visibility.js';

/**
 * Subscriptions execute each event once per kind of subscriber, not once per subscriber, and a
 * subscriber's events that arrive together travel as one item, written once for all its kind.
 *
 * The change feed hands one event object to every subscriber of its workspace (feed/bus.ts), and
 * what a subscriber receives for it depends only on its operation (document, operation name,
 * variables) and on what its viewer may see. So the result of executing an event is kept beside
 * the event (a WeakMap: it goes when the event does), keyed by those, and every subscriber of
 * the same kind gets it without executing anything: with 1,000 subscribers to the same operation
 * an event is executed once instead of 1,000 times, and serialised once.
 *
 * The bus hands a subscriber every event of a delivery at once. Over HTTP (GraphQL over SSE, the
 * only transport Yoga has for a subscription), a subscriber takes them all as one item of its
 * stream: the events' results already written as SSE messages, one chunk shared by every
 * subscriber that was handed the same events (the same kind, the same first and last event), its
 * bytes encoded once. So what a subscriber costs is per delivery, not per event, and it is one
 * write of a buffer that is already there. Results with errors are not gathered: each goes through
 * Yoga's hooks on its own (errors are masked there); results without errors pass those hooks
 * untouched (the hooks of a subscription's results here act on errors only).
 *
 * This is graphql-js's own subscribe (createSourceEventStream, then an execute per event with the
 * event as root value) with that cache in between.
 *
 * And a subscription's stream is written as Yoga's SSE writes it, but with the items that are ready
 * in the same turn of the event loop in one write (eventStream, below).
 */
export function sharedSubscriptionResults(): Plugin<Context> {
  const subscriptionRequests = new WeakSet<Request>();
  return {
    onSubscribe({ args, setSubscribeFn }) {
      const { request } = args.contextValue as { request?: Request };
      // Gathered items are for eventStream only: a subscription not requested over HTTP gets its results one by one.
      const gather = request !== undefined;
      setSubscribeFn((subscribeArgs) => subscribeShared(subscribeArgs, gather));
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

type Result = ExecutionResult & { stringify?: (result: ExecutionResult) => string };

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/** A result shared by the subscribers of one kind, for one event. */
class Shared {
  private text: string | undefined;
  private serialisedText: string | undefined;
  /** What a later chunk, by its last event, was written as: see gathered(). */
  readonly chunks = new Map<Shared, Chunk>();

  constructor(readonly result: Result) {}

  /** Whether it is written as it is (no hook has anything to do with it). */
  get clean(): boolean {
    return !this.result.errors?.length && !(this.result.extensions as { http?: unknown } | undefined)?.http;
  }

  /** It as JSON (a clean result is written as it is). */
  get json(): string {
    return (this.serialisedText ??= JSON.stringify(this.result));
  }

  /** Its SSE message, when it is clean. */
  get message(): string {
    return (this.text ??= next(this.json));
  }

  /**
   * A copy of its top level for one subscriber, for Yoga's hooks (what one adds, another does not
   * see); written with the shared text unless a hook changed it.
   */
  copy(): Result {
    const stringify = (value: ExecutionResult) => (unchanged(value, this.result) ? this.json : JSON.stringify(value));
    return Object.defineProperty({ ...this.result }, 'stringify', { value: stringify, enumerable: false });
  }
}

/** Whether a copy still holds exactly what the shared result holds (no hook changed it). */
function unchanged(copy: object, shared: object): boolean {
  const keys = Object.keys(copy);
  return keys.length === Object.keys(shared).length && keys.every((key) => (copy as never)[key] === (shared as never)[key]);
}

/** Per event: its results, by kind of subscriber (the result itself once it is known). */
const results = new WeakMap<object, Map<string, Shared | Promise<Shared>>>();

/** Several results written as SSE messages, shared by the subscribers that were handed them: encoded once. */
class Chunk {
  private encoded: Buffer | undefined;
  constructor(
    readonly text: string,
    /** How many results it holds. */
    readonly count: number,
  ) {}
  get bytes(): Buffer {
    return (this.encoded ??= Buffer.from(this.text));
  }
}

/** An item of a subscription's stream that is several results, already written: eventStream writes it as it is. */
const WRITTEN = Symbol('written');
type Item = Result & { [WRITTEN]?: Chunk };

/**
 * The chunk for a run of clean results that one subscriber was handed together. Subscribers of one
 * kind want the same events, so those that were handed the same first and last event (and as
 * many) were handed the same ones: they share the chunk.
 */
function gathered(run: readonly Shared[]): Item {
  const first = run[0]!;
  const last = run.at(-1)!;
  let chunk = first.chunks.get(last);
  if (!chunk || chunk.count !== run.length) {
    chunk = new Chunk(run.map((shared) => shared.message).join(''), run.length);
    first.chunks.set(last, chunk);
  }
  return { [WRITTEN]: chunk };
}

/** A subscription source that hands over at once what it already holds (feed/bus.ts's subscriptions). */
interface Drainable<T> extends AsyncIterator<T> {
  drain(): T[];
}
const isDrainable = (source: object): source is Drainable<unknown> => typeof (source as { drain?: unknown }).drain === 'function';

async function subscribeShared(args: ExecutionArgs, gather: boolean) {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source;
  let documentId = documentIds.get(args.document);
  if (documentId === undefined) documentIds.set(args.document, (documentId = (nextDocumentId += 1)));
  const { viewer } = args.contextValue as Context;
  const kind = `${documentId}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}\n${sightKey(viewer)}`;
  /** The event's shared result: the first subscriber of its kind executes, the others take it (without a promise once it is known). */
  const sharedOf = (event: object): Shared | Promise<Shared> => {
    let byKind = results.get(event);
    if (!byKind) results.set(event, (byKind = new Map()));
    const shared = byKind.get(kind);
    if (shared) return shared;
    const executing = Promise.resolve(execute({ ...args, rootValue: event })).then((result) => {
      const done = new Shared(result);
      byKind.set(kind, done);
      return done;
    });
    byKind.set(kind, executing);
    return executing;
  };
  const iterator = source[Symbol.asyncIterator]();
  if (gather && isDrainable(iterator)) return inDeliveries(iterator, sharedOf);
  return mapAsyncIterator(source, (event: unknown) => {
    if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
    const shared = sharedOf(event);
    return shared instanceof Shared ? shared.copy() : shared.then((done) => done.copy());
  });
}

/**
 * A subscriber's stream, an item per delivery: the clean results of the events it was handed
 * together as one written item; a result with errors as an item of its own, in its place.
 */
function inDeliveries(source: Drainable<unknown>, sharedOf: (event: object) => Shared | Promise<Shared>): AsyncIterableIterator<Item> {
  const ready: Item[] = [];
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (ready.length) return { value: ready.shift()!, done: false };
      const step = await source.next();
      if (step.done) return { value: undefined, done: true };
      // Every event's execution begins at once (they read what they need concurrently); they are taken in order.
      const handed = [step.value, ...source.drain()].map((event) => sharedOf(event as object));
      let run: Shared[] = [];
      for (let shared of handed) {
        if (!(shared instanceof Shared)) shared = await shared;
        if (shared.clean) {
          run.push(shared);
          continue;
        }
        if (run.length) ready.push(gathered(run));
        run = [];
        ready.push(shared.copy());
      }
      if (run.length) ready.push(gathered(run));
      return { value: ready.shift()!, done: false };
    },
    async return() {
      ready.length = 0;
      await source.return?.();
      return { value: undefined, done: true };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// GraphQL over SSE, the items that are ready together in one write.

/** How often an idle stream sends a comment, as Yoga's own SSE does (more often under tests). */
const PING_INTERVAL = process.env.NODE_ENV === 'test' ? 300 : 12_000;
const PING = Buffer.from(':\n\n');

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

/** An SSE `next` message carrying a result's JSON. */
const next = (json: string) => `event: next\ndata: ${json}\n\n`;
const message = (result: Result) => next(serialised(result));
const COMPLETE = 'event: complete\ndata:\n\n';

/** Streams with something to write at the end of this turn of the event loop: one timer for all. */
const dueStreams = new Set<EventStream>();
let flushing: NodeJS.Immediate | undefined;
function writeSoon(stream: EventStream): void {
  dueStreams.add(stream);
  flushing ??= setImmediate(() => {
    flushing = undefined;
    const due = [...dueStreams];
    dueStreams.clear();
    for (const each of due) each.flush();
  });
}

/**
 * A subscription's SSE body: a Node stream, which the server pipes to the socket (a web stream
 * would cost a read per chunk, and its promises). It pulls items while the socket takes what it
 * writes; when the client stops reading, it stops pulling, and the feed ends the subscriber once
 * too many events wait for it (feed/bus.ts).
 */
class EventStream extends Readable {
  private readonly results: AsyncIterator<Item>;
  private readonly pinging: NodeJS.Timeout;
  private parts: (string | Chunk)[] = [];
  private pulling = false;
  private wanted = true;
  private finished = false;
  private failure: unknown;

  constructor(result: AsyncIterable<Item>) {
    super();
    this.results = result[Symbol.asyncIterator]();
    // First a comment: some browsers wait for a first chunk before they report the response.
    this.push(PING);
    this.pinging = setInterval(() => {
      if (this.readableLength === 0 && !this.parts.length) this.push(PING);
    }, PING_INTERVAL);
  }

  override _read(): void {
    this.wanted = true;
    if (!this.pulling && !this.finished) void this.pull();
  }

  private async pull(): Promise<void> {
    this.pulling = true;
    try {
      while (this.wanted && !this.finished && !this.destroyed) {
        const step = await this.results.next();
        if (this.destroyed) return;
        const item = step.value as Item | undefined;
        if (item != null) this.parts.push(item[WRITTEN] ?? message(item));
        if (step.done) {
          this.finished = true;
          this.parts.push(COMPLETE);
        }
        writeSoon(this);
      }
    } catch (error) {
      this.finished = true;
      this.failure = error;
      writeSoon(this);
    } finally {
      this.pulling = false;
    }
  }

  /** Writes what is ready: one shared chunk as it is, several joined. */
  flush(): void {
    if (this.destroyed) return;
    const parts = this.parts;
    this.parts = [];
    if (parts.length) {
      const only = parts.length === 1 ? parts[0]! : undefined;
      const data = only instanceof Chunk ? only.bytes : Buffer.from(parts.map((part) => (part instanceof Chunk ? part.text : part)).join(''));
      if (!this.push(data)) this.wanted = false;
    }
    if (!this.finished) return;
    clearInterval(this.pinging);
    if (this.failure !== undefined) this.destroy(this.failure instanceof Error ? this.failure : new Error(String(this.failure)));
    else this.push(null);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearInterval(this.pinging);
    dueStreams.delete(this);
    const done = () => callback(error);
    if (this.finished) done();
    else Promise.resolve(this.results.return?.()).then(done, done);
  }
}

/**
 * GraphQL over SSE as Yoga's own processor writes it (a comment first and every PING_INTERVAL,
 * `event: next` per result, `event: complete` at the end: what GraphiQL and graphql-sse read), but
 * every item that is ready within the same turn of the event loop goes out as one write.
 */
function eventStream(result: ResultProcessorInput, fetchAPI: FetchAPI): Response {
  return new fetchAPI.Response(new EventStream(result as AsyncIterable<Item>) as unknown as BodyInit, {
    status: 200,
    headers: { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Cache-Control': 'no-cache', 'Content-Encoding': 'none' },
  });
}
