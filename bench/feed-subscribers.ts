/**
 * The change-feed benchmark's write-path subscribers, in a process of their own (bench/feed.ts,
 * SubscriberProcess): opens them as asked, and sends their counts back while they change.
 */
import { openSubscribers, type FromSubscribers, type Subscriber, type ToSubscribers } from './feed.js';

const COUNTS_EVERY = 50;
const subscribers: Subscriber[] = [];
let epoch = 0;
let sent = '';

const send = (message: FromSubscribers) => process.send!(message);

process.on('message', (message: ToSubscribers) => {
  if (message.type === 'open') {
    openSubscribers(message.url, message.apiKey, message.recordIds.map((recordId) => recordId ?? undefined)).then(
      (opened) => {
        // They only count: the write-path runs compare counts, not arrival times.
        for (const subscriber of opened) subscriber.reset(false);
        subscribers.push(...opened);
        send({ type: 'opened', id: message.id });
      },
      (error: unknown) => send({ type: 'opened', id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
  } else if (message.type === 'reset') {
    epoch = message.epoch;
    for (const subscriber of subscribers) subscriber.reset(false);
    sent = '';
  } else {
    for (const subscriber of subscribers.splice(0)) subscriber.stop();
    sent = '';
  }
});

setInterval(() => {
  const counts = subscribers.map((subscriber) => subscriber.count);
  const ended = subscribers.map((subscriber) => subscriber.ended);
  const state = `${epoch}:${counts.join(',')}:${ended.map(Number).join('')}`;
  if (state === sent) return;
  sent = state;
  send({ type: 'counts', epoch, counts, ended });
}, COUNTS_EVERY);

process.on('disconnect', () => process.exit(0));
