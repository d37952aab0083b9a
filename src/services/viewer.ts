import type { RecordAccess, Role } from '../db/generated/sqlite/enums.js';
import { ForbiddenError } from './errors.js';

/** Who is asking: the authenticated user, their workspace and their record access. */
export interface Viewer {
  userId: number;
  workspaceId: number;
  role: Role;
  /** The workspace's schemaVersion when the request began (keys the objects/labels cache). */
  schemaVersion: number;
  /** Objects with a restricted access (objects without an entry are ALL). Empty for admins. */
  access: ReadonlyMap<number, RecordAccess>;
}

/** The admin of a workspace acting from the server itself (seeding, the CLI). */
export function adminViewer(workspaceId: number, userId: number): Viewer {
  return { userId, workspaceId, role: 'ADMIN', schemaVersion: 0, access: new Map() };
}

export function isAdmin(viewer: Viewer): boolean {
  return viewer.role === 'ADMIN';
}

export function requireAdmin(viewer: Viewer): void {
  if (!isAdmin(viewer)) throw new ForbiddenError();
}

/** The viewer's access to an object's records (admins: ALL). */
export function accessTo(viewer: Viewer, objectId: number): RecordAccess {
  if (isAdmin(viewer)) return 'ALL';
  return viewer.access.get(objectId) ?? 'ALL';
}

/** A viewer who cannot see every record of the workspace. */
export function isRestricted(viewer: Viewer): boolean {
  return !isAdmin(viewer) && [...viewer.access.values()].some((access) => access !== 'ALL');
}

export function objectIdsWith(viewer: Viewer, access: RecordAccess): number[] {
  if (isAdmin(viewer)) return [];
  return [...viewer.access].filter(([, value]) => value === access).map(([objectId]) => objectId);
}
