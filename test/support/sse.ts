/**
 * A GraphQL over SSE client as a browser's EventSource or `curl -N` is one: POST the operation
 * with `Accept: text/event-stream` and read `event: next` / `event: complete` messages off the
 * stream. `fetch` is the in-process app's or the global one (a real server).
 */
import { print, type DocumentNode } from 'graphql';

export interface SseMessage {
  event: string;
  data: any;
}

export interface SseSubscription {
  status: number;
  contentType: string | null;
  /** The next `next` message's payload ({ data, errors }); fails after `timeout` ms. */
  next: (timeout?: number) => Promise<{ data?: any; errors?: any[] }>;
  /** Every `next` payload that arrives within `ms` (to show that nothing does). */
  drain: (ms: number) => Promise<{ data?: any; errors?: any[] }[]>;
  /** Whether the server sent `complete` (and the stream ended). */
  completed: () => Promise<boolean>;
  /** Closes the stream from the client's side, as a browser closing its EventSource. */
  close: () => Promise<void>;
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export async function subscribeOverSse(
  fetchFn: Fetch,
  url: string,
  query: string | DocumentNode,
  variables: Record<string, unknown> = {},
  apiKey?: string | null,
  { method = 'POST' }: { method?: 'GET' | 'POST' } = {},
): Promise<SseSubscription> {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const text = typeof query === 'string' ? query : print(query);
  // GET carries the operation in the URL, as GraphiQL sends subscriptions.
  const response =
    method === 'GET'
      ? await fetchFn(`${url}?${new URLSearchParams({ query: text, variables: JSON.stringify(variables) })}`, { headers, signal: controller.signal })
      : await fetchFn(url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ query: text, variables }),
          signal: controller.signal,
        });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const messages: SseMessage[] = [];
  let ended = false;
  const waiter: { wake: (() => void) | null } = { wake: null };
  // Read in the background: messages queue up until the test asks for them.
  const reading = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n').filter((line) => !line.startsWith(':'));
          if (lines.length === 0) continue; // a keep-alive ping
          const event = lines.find((line) => line.startsWith('event:'))?.slice(6).trim() ?? 'message';
          const data = lines
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          messages.push({ event, data: data ? JSON.parse(data) : null });
          waiter.wake?.();
        }
      }
    } catch {
      // aborted by close()
    } finally {
      ended = true;
      waiter.wake?.();
    }
  })();
  const waitFor = async (predicate: () => boolean, timeout: number) => {
    const deadline = Date.now() + timeout;
    while (!predicate() && !ended && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        waiter.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      waiter.wake = null;
    }
    return predicate();
  };
  const take = () => {
    const index = messages.findIndex((message) => message.event === 'next');
    return index < 0 ? undefined : messages.splice(index, 1)[0]!.data;
  };
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    next: async (timeout = 10_000) => {
      await waitFor(() => messages.some((message) => message.event === 'next'), timeout);
      const payload = take();
      if (!payload) throw new Error(`no event within ${timeout} ms (stream ${ended ? 'ended' : 'open'})`);
      return payload;
    },
    drain: async (ms) => {
      await waitFor(() => false, ms);
      const out = [];
      for (let payload = take(); payload; payload = take()) out.push(payload);
      return out;
    },
    completed: async () => {
      await waitFor(() => ended, 10_000);
      return messages.some((message) => message.event === 'complete');
    },
    close: async () => {
      controller.abort();
      await reader.cancel().catch(() => undefined);
      await reading;
    },
  };
}
