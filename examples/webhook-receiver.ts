/**
 * A webhook receiver: verifies each request's Standard Webhooks signature with the endpoint's
 * secret (from createWebhookEndpoint), acts on each event once, and answers 2xx quickly.
 *
 *   WEBHOOK_SECRET=whsec_… PORT=8080 npx tsx examples/webhook-receiver.ts
 *
 * Delivery is at least once: a retry, a redelivery or a crash at the wrong moment sends the same
 * event again, always with the same `webhook-id`. So the receiver remembers the ids it has
 * handled and answers a repeat with 200 without handling it twice. Here they are kept in memory
 * (the last 10,000); a real receiver stores them where it stores its effect, in one transaction.
 *
 * Prints one JSON line per request: `{ "id", "type", "duplicate" }`, or `{ "rejected": reason }`.
 */
import { createServer } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

const secret = process.env.WEBHOOK_SECRET;
if (!secret?.startsWith('whsec_')) {
  process.stderr.write('WEBHOOK_SECRET must be the whsec_… secret createWebhookEndpoint answered\n');
  process.exit(2);
}
const webhook = new Webhook(secret);
/** Request bodies are small (one event); anything much larger is not from Relate. */
const MAX_BODY = 1024 * 1024;
const REMEMBERED = 10_000;
const handled = new Set<string>();

interface Event {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** What the receiver does with an event: here, print it. */
function handle(id: string, event: Event) {
  process.stdout.write(`${JSON.stringify({ id, type: event.type, timestamp: event.timestamp, data: event.data, duplicate: false })}\n`);
}

const server = createServer((req, res) => {
  if (req.method !== 'POST') return res.writeHead(405).end();
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY) req.destroy();
    else chunks.push(chunk);
  });
  req.on('end', () => {
    // Verify the raw body exactly as it arrived: parsing and re-serializing would change it.
    const body = Buffer.concat(chunks).toString('utf8');
    let event: Event;
    try {
      // Also refuses timestamps more than five minutes away (replays).
      event = webhook.verify(body, req.headers as Record<string, string>) as Event;
    } catch (error) {
      const reason = error instanceof WebhookVerificationError ? error.message : 'bad request';
      process.stdout.write(`${JSON.stringify({ rejected: reason })}\n`);
      return res.writeHead(400).end();
    }
    const id = req.headers['webhook-id'] as string;
    if (handled.has(id)) {
      process.stdout.write(`${JSON.stringify({ id, type: event.type, duplicate: true })}\n`);
      return res.writeHead(200).end();
    }
    handle(id, event);
    handled.add(id);
    if (handled.size > REMEMBERED) handled.delete(handled.values().next().value!);
    res.writeHead(204).end();
  });
});

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : process.env.PORT;
  process.stderr.write(`webhook receiver listening on http://${process.env.HOST ?? '127.0.0.1'}:${port}/\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
