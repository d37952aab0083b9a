/**
 * What each connection pool of the process holds right now, for the metrics endpoint. Pools
 * register themselves when they open and leave when they close; reading is only done at scrape
 * time, so nothing here costs a request anything.
 *
 * Two pools per process: `reader` (the bare-driver reads, reader.ts) and `prisma` (every Prisma
 * query and write transaction). On PostgreSQL both are pg pools. On SQLite each is one
 * connection: the reader's is synchronous (never seen busy from outside), and the Prisma one is
 * held for a whole write transaction, so its `waiting` is the requests queued behind writes.
 */
export interface PoolStats {
  /** Connections the pool may open. */
  max: number;
  inUse: number;
  idle: number;
  /** Requests waiting for a connection. */
  waiting: number;
}

const pools = new Map<string, () => PoolStats>();

/** Registers (or replaces) pool `name`; the function returned removes it again. */
export function registerPool(name: string, stats: () => PoolStats): () => void {
  pools.set(name, stats);
  return () => {
    if (pools.get(name) === stats) pools.delete(name);
  };
}

export function poolStats(): { pool: string; stats: PoolStats }[] {
  return [...pools].map(([pool, stats]) => ({ pool, stats: stats() }));
}

/** A pg.Pool's counts (`totalCount` includes idle connections). */
export function pgPoolStats(pool: { totalCount: number; idleCount: number; waitingCount: number }, max: number): PoolStats {
  return { max, inUse: pool.totalCount - pool.idleCount, idle: pool.idleCount, waiting: pool.waitingCount };
}
