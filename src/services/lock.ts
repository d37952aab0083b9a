import { prisma, provider, type Tx } from '../db/index.js';
import { committedAnnouncement, localFeed, type Announcement } from '../feed/events.js';

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
 * Record writes of one object against a change of its unique field (services/unique.ts). Every
 * create or update of a record takes the object's lock shared, so they never wait for each other;
 * making a field unique takes it exclusive, so it sees every committed record and no write can
 * read the fields before the change and commit after it. PostgreSQL only: SQLite's write
 * transactions are exclusive already.
 */
export async function lockObjectRecords(tx: Tx, objectId: number, mode: 'shared' | 'exclusive'): Promise<void> {
  if (provider !== 'postgresql') return;
  if (mode === 'shared') await tx.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock_shared(7320, ${objectId}::int)) AS l`;
  else await tx.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(7320, ${objectId}::int)) AS l`;
}

/** Time limits of a transaction, as Prisma takes them (ms). */
export interface TransactionTimes {
  timeout?: number;
  maxWait?: number;
}

/**
 * A transaction whose feed events, once it commits, are announced to this process's listeners
 * (feed/events.ts; other processes hear NOTIFY).
 */
export async function feedTransaction<T>(workspaceId: number, fn: (tx: Tx) => Promise<T>, times?: TransactionTimes): Promise<T> {
  let announcement: Announcement | null = null;
  const result = await prisma.$transaction(async (tx) => {
    const value = await fn(tx);
    announcement = committedAnnouncement(tx, workspaceId);
    return value;
  }, times);
  if (announcement) localFeed.emit('committed', announcement);
  return result;
}

/** A feed transaction holding the workspace's write lock from its first statement. */
export function lockedTransaction<T>(workspaceId: number, fn: (tx: Tx) => Promise<T>, times?: TransactionTimes): Promise<T> {
  return feedTransaction(
    workspaceId,
    async (tx) => {
      await lockWorkspace(tx, workspaceId);
      return fn(tx);
    },
    times,
  );
}
