import type { ApiKey, User } from '../db/generated/sqlite/client.js';
import { prisma } from '../db/index.js';
import { encodeGlobalId } from '../services/ids.js';
import { addUser, createApiKeyFor, revokeApiKey, setObjectPermission } from '../services/workspaces.js';
import { builder } from './builder.js';
import { resultUnion } from './errors.js';
import { idOf, nodeId } from './ids.js';
import { ObjectRef } from './refs.js';

export const RoleEnum = builder.enumType('Role', { values: ['ADMIN', 'USER'] as const });
export const RecordAccessEnum = builder.enumType('RecordAccess', {
  description: 'Which records of an object a USER sees: ALL, ASSIGNED (only records the user owns) or NONE.',
  values: ['ALL', 'ASSIGNED', 'NONE'] as const,
});

const ObjectPermissionRef = builder
  .objectRef<{ objectId: number; access: 'ALL' | 'ASSIGNED' | 'NONE' }>('ObjectPermission')
  .implement({
    fields: (t) => ({
      object: t.field({ type: ObjectRef, resolve: (permission, _args, ctx) => ctx.loaders.object(permission.objectId) }),
      access: t.field({ type: RecordAccessEnum, resolve: (permission) => permission.access }),
    }),
  });

export const UserRef = builder.prismaNode('User', {
  id: { field: 'id' },
  // node(id) of an unknown id or another workspace's is null, not an error.
  nullable: true,
  findUnique: (id, ctx) => ({ id: nodeId(id), workspaceId: ctx.viewer.workspaceId }),
  fields: (t) => ({
    name: t.exposeString('name'),
    email: t.exposeString('email'),
    role: t.field({ type: RoleEnum, resolve: (user) => user.role }),
    objectPermissions: t.field({
      type: [ObjectPermissionRef],
      description:
        'Restricted objects of this user; objects without an entry are ALL. Admins see everything. Readable by admins and by the user.',
      authScopes: (user, _args, ctx) => (user.id === ctx.viewer.userId ? true : { admin: true }),
      resolve: (user) =>
        user.role === 'ADMIN' ? [] : prisma.objectPermission.findMany({ where: { userId: user.id }, orderBy: { objectId: 'asc' } }),
    }),
  }),
});

const ApiKeyRef = builder.objectRef<ApiKey>('ApiKey').implement({
  description: 'An API key. Its secret is shown once, when it is created.',
  fields: (t) => ({
    id: t.id({ resolve: (key) => encodeGlobalId('ApiKey', key.id) }),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to recognise it.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (key) => key.createdAt }),
  }),
});

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    email: t.string({ required: true }),
    role: t.field({ type: RoleEnum, description: 'Default USER.' }),
  }),
});
const CreateUserSuccess = builder.objectRef<User>('CreateUserSuccess').implement({
  fields: (t) => ({ user: t.field({ type: UserRef, resolve: (user) => user }) }),
});
builder.mutationField('createUser', (t) =>
  t.field({
    description: 'Adds a user to the workspace (admin only).',
    type: CreateUserSuccess,
    errors: resultUnion('createUser'),
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: (_root, { input }, ctx) => addUser(ctx.viewer, input),
  }),
);

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    userId: t.id({ required: true }),
    name: t.string({ required: true }),
  }),
});
const CreateApiKeySuccess = builder
  .objectRef<{ apiKey: ApiKey; plaintext: string }>('CreateApiKeySuccess')
  .implement({
    fields: (t) => ({
      apiKey: t.string({ description: 'The key itself: shown this once, never again.', resolve: (result) => result.plaintext }),
      key: t.field({ type: ApiKeyRef, resolve: (result) => result.apiKey }),
    }),
  });
builder.mutationField('createApiKey', (t) =>
  t.field({
    description: 'Creates an API key for a user (admin only).',
    type: CreateApiKeySuccess,
    errors: resultUnion('createApiKey'),
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => createApiKeyFor(ctx.viewer, { userId: idOf('User', input.userId), name: input.name }),
  }),
);

const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', { fields: (t) => ({ id: t.id({ required: true }) }) });
const RevokeApiKeySuccess = builder.objectRef<ApiKey>('RevokeApiKeySuccess').implement({
  fields: (t) => ({ revokedId: t.id({ resolve: (key) => encodeGlobalId('ApiKey', key.id) }) }),
});
builder.mutationField('revokeApiKey', (t) =>
  t.field({
    description: 'Revokes an API key (admin only); it stops working with the next request.',
    type: RevokeApiKeySuccess,
    errors: resultUnion('revokeApiKey'),
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => revokeApiKey(ctx.viewer, idOf('ApiKey', input.id)),
  }),
);

const SetObjectPermissionInput = builder.inputType('SetObjectPermissionInput', {
  fields: (t) => ({
    userId: t.id({ required: true }),
    objectKey: t.string({ required: true }),
    access: t.field({ type: RecordAccessEnum, required: true }),
  }),
});
const SetObjectPermissionSuccess = builder.objectRef<User>('SetObjectPermissionSuccess').implement({
  fields: (t) => ({ user: t.field({ type: UserRef, resolve: (user) => user }) }),
});
builder.mutationField('setObjectPermission', (t) =>
  t.field({
    description: "Sets a user's access to an object's records (admin only).",
    type: SetObjectPermissionSuccess,
    errors: resultUnion('setObjectPermission'),
    args: { input: t.arg({ type: SetObjectPermissionInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      setObjectPermission(ctx.viewer, { ...input, userId: idOf('User', input.userId) }),
  }),
);
