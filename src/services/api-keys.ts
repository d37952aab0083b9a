import { createHash, randomBytes } from 'node:crypto';
import type { RecordAccess, Role } from '../db/generated/sqlite/enums.js';
import { Prisma, reader, type Tx } from '../db/index.js';
import type { Viewer } from './viewer.js';

const KEY_PREFIX = 'rel_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Creates a key for a user. The plaintext is returned once; only its hash is stored. */
export async function issueApiKey(db: Tx, input: { workspaceId: number; userId: number; name: string }) {
  const plaintext = KEY_PREFIX + randomBytes(24).toString('base64url');
  const apiKey = await db.apiKey.create({
    data: {
      workspaceId: input.workspaceId,
      userId: input.userId,
      name: input.name,
      prefix: plaintext.slice(0, KEY_PREFIX.length + 6),
      hash: hashApiKey(plaintext),
    },
  });
  return { apiKey, plaintext };
}

interface AuthRow {
  apiKeyId: number | bigint;
  userId: number | bigint;
  workspaceId: number | bigint;
  role: Role;
  schemaVersion: number | bigint;
  objectId: number | bigint | null;
  access: RecordAccess | null;
}

/** A viewer authenticated by an API key, and which key: what the key's rate limit counts by. */
export interface KeyViewer extends Viewer {
  apiKeyId: number;
}

/**
 * The viewer behind a bearer key, or null when the key is unknown or revoked. One statement:
 * the key, its user and the user's object permissions. Never cached, so a revocation takes
 * effect on the next request.
 */
export async function authenticate(key: string): Promise<KeyViewer | null> {
  if (!key.startsWith(KEY_PREFIX) || key.length > 200) return null;
  const rows = await reader.rows<AuthRow>(Prisma.sql`
    SELECT k."id" AS "apiKeyId", u."id" AS "userId", u."workspaceId", u."role", w."schemaVersion", p."objectId", p."access"
    FROM "ApiKey" k
    JOIN "User" u ON u."id" = k."userId"
    JOIN "Workspace" w ON w."id" = u."workspaceId"
    LEFT JOIN "ObjectPermission" p ON p."userId" = u."id"
    WHERE k."hash" = ${hashApiKey(key)} AND k."revokedAt" IS NULL`);
  const first = rows[0];
  if (!first) return null;
  const access = new Map<number, RecordAccess>();
  for (const row of rows) if (row.objectId !== null && row.access) access.set(Number(row.objectId), row.access);
  return {
    apiKeyId: Number(first.apiKeyId),
    userId: Number(first.userId),
    workspaceId: Number(first.workspaceId),
    role: first.role,
    schemaVersion: Number(first.schemaVersion),
    access: first.role === 'ADMIN' ? new Map() : access,
  };
}
