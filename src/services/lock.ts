import { prisma, provider, type Tx } from '../db/index.js';
import { localFeed, wroteEvents } from '../feed/events.js';

/**
 * Writes whose checks span rows — a limit, a cardinality, a unique key or email, "no records
 * left" before a delete — run in one transaction that first takes the workspace's write lock,
 * then checks, then writes:
 * - PostgreSQL: a transaction-scoped advisory lock per workspace, so the checks and writes of
 *   concurrent requests in one workspace never interleave (other workspaces are not blocked);
 * - SQLite: write transactions are already exclusive (BEGIN IMMEDIATE, one at a time; see
 *   db/adapters.ts), so there is nothing more to take.
 * Unique indexes (association label+pair, label key, object key, user email) back this up.
 */
export async function lockWorkspace(tx: Tx, workspaceId: number): Promise<void> {
  if (provider !== 'postgresql') return;
  await tx.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(7319, ${workspaceId}::int)) AS l`;
}

/**
 * A transaction holding the workspace's write lock. Once it commits, a write that recorded feed
 * events is announced to this process's listeners (feed/events.ts; other processes hear NOTIFY).
 */
export async function lockedTransaction<T>(workspaceId: number, fn: (tx: Tx) => Promise<T>): Promise<T> {
  let wrote = false;
  const result = await prisma.$transaction(async (tx) => {
    await lockWorkspace(tx, workspaceId);
    const value = await fn(tx);
    wrote = wroteEvents(tx);
    return value;
  });
  if (wrote) localFeed.emit('committed', workspaceId);
  return result;
}
