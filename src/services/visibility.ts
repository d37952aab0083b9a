import { Prisma } from '../db/index.js';
import type { Viewer } from './viewer.js';
import { isAdmin, objectIdsWith } from './viewer.js';

/**
 * Which records a viewer may see, as a Prisma filter and as the same rule in SQL, so every
 * read (lists, counts, related records, node lookups) applies it inside the query.
 *
 * Visible = in the viewer's workspace, not of an object with access NONE, and, for objects
 * with access ASSIGNED, owned by the viewer.
 */
export function visibleRecordWhere(viewer: Viewer): Prisma.RecordModelWhereInput {
  const none = objectIdsWith(viewer, 'NONE');
  const assigned = objectIdsWith(viewer, 'ASSIGNED');
  const where: Prisma.RecordModelWhereInput = { workspaceId: viewer.workspaceId };
  const and: Prisma.RecordModelWhereInput[] = [];
  if (none.length) and.push({ objectId: { notIn: none } });
  if (assigned.length) and.push({ OR: [{ objectId: { notIn: assigned } }, { ownerId: viewer.userId }] });
  if (and.length) where.AND = and;
  return where;
}

/** The same rule as `visibleRecordWhere`, for raw SQL over a "Record" row aliased `alias`. */
export function visibleRecordSql(viewer: Viewer, alias: string): Prisma.Sql {
  const column = (name: string) => Prisma.raw(`${alias}."${name}"`);
  const parts: Prisma.Sql[] = [Prisma.sql`${column('workspaceId')} = ${viewer.workspaceId}`];
  const none = objectIdsWith(viewer, 'NONE');
  const assigned = objectIdsWith(viewer, 'ASSIGNED');
  if (none.length) parts.push(Prisma.sql`${column('objectId')} NOT IN (${Prisma.join(none)})`);
  if (assigned.length) {
    parts.push(
      Prisma.sql`(${column('objectId')} NOT IN (${Prisma.join(assigned)}) OR ${column('ownerId')} = ${viewer.userId})`,
    );
  }
  return Prisma.join(parts, ' AND ');
}

/**
 * What a viewer may see, as a key: viewers with the same key are answered alike. Admins see
 * everything, alike. A USER's answers depend on who it is (its own permissions are shown to it,
 * another user's are not; records of ASSIGNED objects are its own) and on its access per object.
 */
export function sightKey(viewer: Viewer): string {
  const scope = isAdmin(viewer) ? '*' : `${viewer.userId}:${[...viewer.access].sort().join(',')}`;
  return `${viewer.workspaceId}:${viewer.role}:${scope}`;
}
