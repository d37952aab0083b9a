import type { RecordAccess, Role } from '../db/generated/sqlite/enums.js';
import { prisma, type Tx } from '../db/index.js';
import { issueApiKey } from './api-keys.js';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import { lockedTransaction } from './lock.js';
import { createContactObject, findObjectByKey } from './objects.js';
import { requireAdmin, type Viewer } from './viewer.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function checkUser(input: { name: string; email: string }) {
  const name = input.name.trim();
  if (!name || name.length > 200) throw new ValidationError('name must be 1 to 200 characters.', 'name');
  const email = input.email.trim().toLowerCase();
  if (!EMAIL.test(email)) throw new ValidationError('email must be an email address.', 'email');
  return { name, email };
}

/** A new workspace with its standard `contact` object, an admin user and the admin's API key. */
export async function createWorkspace(input: { name: string; adminName?: string; adminEmail?: string }) {
  const name = input.name.trim();
  if (!name || name.length > 200) throw new ValidationError('name must be 1 to 200 characters.', 'name');
  const admin = checkUser({ name: input.adminName ?? 'Admin', email: input.adminEmail ?? 'admin@example.com' });
  return prisma.$transaction(async (tx) => {
    const workspace = await tx.workspace.create({ data: { name } });
    await createContactObject(tx, workspace.id);
    const user = await tx.user.create({ data: { workspaceId: workspace.id, ...admin, role: 'ADMIN' } });
    const { plaintext } = await issueApiKey(tx, { workspaceId: workspace.id, userId: user.id, name: 'Admin key' });
    return { workspace, user, apiKey: plaintext };
  });
}

export async function createUser(db: Tx, workspaceId: number, input: { name: string; email: string; role?: Role | null }) {
  const data = checkUser(input);
  const clash = await db.user.findUnique({ where: { workspaceId_email: { workspaceId, email: data.email } } });
  if (clash) throw new ConflictError(`A user with email ${data.email} already exists in this workspace.`);
  return db.user.create({ data: { workspaceId, ...data, role: input.role ?? 'USER' } });
}

/** Adds a user to the viewer's workspace (admin only); a concurrent duplicate email is a ConflictError. */
export async function addUser(viewer: Viewer, input: { name: string; email: string; role?: Role | null }) {
  requireAdmin(viewer);
  return lockedTransaction(viewer.workspaceId, (tx) => createUser(tx, viewer.workspaceId, input));
}

export async function findUser(db: Tx, viewer: Viewer, id: number | null, field = 'userId') {
  const user = id === null ? null : await db.user.findFirst({ where: { id, workspaceId: viewer.workspaceId } });
  if (!user) throw new NotFoundError(`No user with that ${field}.`);
  return user;
}

export async function createApiKeyFor(viewer: Viewer, input: { userId: number | null; name: string }) {
  requireAdmin(viewer);
  const name = input.name.trim();
  if (!name || name.length > 200) throw new ValidationError('name must be 1 to 200 characters.', 'name');
  return prisma.$transaction(async (tx) => {
    const user = await findUser(tx, viewer, input.userId);
    return issueApiKey(tx, { workspaceId: viewer.workspaceId, userId: user.id, name });
  });
}

export async function revokeApiKey(viewer: Viewer, id: number | null) {
  requireAdmin(viewer);
  const key = id === null ? null : await prisma.apiKey.findFirst({ where: { id, workspaceId: viewer.workspaceId, revokedAt: null } });
  if (!key) throw new NotFoundError('No active API key with that id.');
  await prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
  return key;
}

export async function setObjectPermission(
  viewer: Viewer,
  input: { userId: number | null; objectKey: string; access: RecordAccess },
) {
  requireAdmin(viewer);
  return prisma.$transaction(async (tx) => {
    const user = await findUser(tx, viewer, input.userId);
    const object = await findObjectByKey(tx, viewer, input.objectKey);
    await tx.objectPermission.upsert({
      where: { userId_objectId: { userId: user.id, objectId: object.id } },
      create: { userId: user.id, objectId: object.id, access: input.access },
      update: { access: input.access },
    });
    return user;
  });
}
