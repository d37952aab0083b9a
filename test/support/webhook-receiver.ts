import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request a test receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body, when the signature verified with the receiver's secret. */
  verified: { type: string; timestamp: string; data: any } | null;
  status: number;
}

export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  /** TCP connections accepted (a refused target never connects). */
  connections: number;
  /** Secrets to verify with, by path (`/` when there is one endpoint). */
  secrets: Map<string, string>;
  /** The status to answer a request with (default 200); a function may count attempts. */
  respond: (request: Omit<Received, 'status'>) => number | { status: number; headers: Record<string, string> };
  /** Requests that verified, on a path (all paths when omitted). */
  verified: (path?: string) => NonNullable<Received['verified']>[];
  /** Resolves once `predicate` holds over the requests (polls every 25 ms; fails after `timeout`). */
  until: (predicate: (requests: Received[]) => boolean, timeout?: number, what?: string) => Promise<void>;
  close: () => Promise<void>;
}

/** A webhook receiver on loopback that checks Standard Webhooks signatures and records everything. */
export async function startReceiver(port = 0): Promise<Receiver> {
  const receiver = {
    requests: [] as Received[],
    connections: 0,
    secrets: new Map<string, string>(),
    respond: (() => 200) as Receiver['respond'],
  } as Receiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const secret = receiver.secrets.get(path) ?? receiver.secrets.get('/');
      let verified: Received['verified'] = null;
      try {
        if (secret) verified = new Webhook(secret).verify(body, req.headers as Record<string, string>) as Received['verified'];
      } catch {
        verified = null;
      }
      const request = { path, headers: req.headers, body, verified };
      const answer = receiver.respond(request);
      const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
      receiver.requests.push({ ...request, status });
      res.writeHead(status, headers).end('ok');
    });
  });
  server.on('connection', () => (receiver.connections += 1));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}`;
  receiver.verified = (path) =>
    receiver.requests.filter((r) => (path === undefined || r.path === path) && r.verified).map((r) => r.verified!);
  receiver.until = async (predicate, timeout = 20_000, what = 'the expected requests') => {
    const deadline = Date.now() + timeout;
    while (!predicate(receiver.requests)) {
      if (Date.now() > deadline) {
        throw new Error(`receiver: ${what} did not arrive within ${timeout} ms; got ${receiver.requests.length}: ${JSON.stringify(receiver.requests.map((r) => [r.path, r.status, r.verified?.type]))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
