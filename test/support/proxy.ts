import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a database server, so a test can take "the database" away from the
 * server under test without touching the real one: `stop()` closes the listener (new connections
 * are refused) and destroys every open connection (in-flight statements fail, open transactions
 * are rolled back by the database); `start()` listens again on the same port.
 */
export interface DatabaseProxy {
  port: number;
  /** The target URL with its host and port replaced by the proxy's. */
  urlFor: (url: string) => string;
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /** Connections opened through the proxy since it was created. */
  connections: () => number;
  close: () => Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A proxy to `target` (host:port), initially stopped unless `running`. */
export async function databaseProxy(targetUrl: string, { running = true } = {}): Promise<DatabaseProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  const targetHost = target.hostname || '127.0.0.1';
  const port = await freePort();
  const sockets = new Set<Socket>();
  let opened = 0;
  let server: Server | null = null;

  const start = async () => {
    if (server) return;
    const listener = createServer((client) => {
      opened += 1;
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, '127.0.0.1', () => resolve());
    });
    server = listener;
  };

  const stop = async () => {
    const listener = server;
    server = null;
    const closed = listener ? new Promise((resolve) => listener.close(resolve)) : Promise.resolve();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closed;
  };

  if (running) await start();
  return {
    port,
    urlFor: (url) => {
      const proxied = new URL(url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(port);
      return proxied.toString();
    },
    start,
    stop,
    connections: () => opened,
    close: stop,
  };
}
