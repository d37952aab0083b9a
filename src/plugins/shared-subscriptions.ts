import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';
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
 */
export function sharedSubscriptionResults(): Plugin<Context> {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribeShared);
    },
  };
}

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;
/** A result shared by subscribers: each gets a copy of it by `copy()`. */
interface Shared {
  copy(): ExecutionResult;
}
/** Per event: its results, by kind of subscriber. */
const results = new WeakMap<object, Map<string, Promise<Shared>>>();

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
  return mapAsyncIterator(source, async (event: unknown) => {
    const execution = () => execute({ ...args, rootValue: event });
    if (typeof event !== 'object' || event === null) return execution();
    let byKind = results.get(event);
    if (!byKind) results.set(event, (byKind = new Map()));
    let shared = byKind.get(kind);
    if (!shared) byKind.set(kind, (shared = Promise.resolve(execution()).then(share)));
    return (await shared).copy();
  });
}
