import type { ApiKey, User } from '../db/generated/sqlite/client.js';
import { prisma } from '../db/index.js';
import { encodeGlobalId } from '../services/ids.js';
import { addUser, createApiKeyFor, revokeApiKey, setObjectPermission } from '../services/workspaces.js';
import { builder } from './builder.js';
import { resultUnion } from './errors.js';
import { idOf, nodeId } from './ids.js';
import { ObjectRef } from './refs.js';

export const RoleEnum = builder.enumType('Role', {
  description: 'What a user may do in its workspace.',
  values: {
    ADMIN: { description: 'Sees every record, and alone manages objects, labels, limits, users, API keys and permissions.' },
    USER: { description: 'Reads and writes records and links them, within the record access of its object permissions.' },
  } as const,
});
export const RecordAccessEnum = builder.enumType('RecordAccess', {
  description: 'Which records of an object a USER sees: ALL, ASSIGNED (only records the user owns) or NONE.',
  values: {
    ALL: { description: 'Every record of the object (the default).' },
    ASSIGNED: { description: 'Only records the user owns; records it creates are its own.' },
    NONE: { description: 'No record of the object.' },
  } as const,
});

const ObjectPermissionRef = builder
  .objectRef<{ objectId: number; access: 'ALL' | 'ASSIGNED' | 'NONE' }>('ObjectPermission')
  .implement({
    description: "A user's access to the records of one object.",
    fields: (t) => ({
      object: t.field({
        type: ObjectRef,
        description: 'The object.',
        resolve: (permission, _args, ctx) => ctx.loaders.object(permission.objectId),
      }),
      access: t.field({
        type: RecordAccessEnum,
        description: 'Which of its records the user sees and may change.',
        resolve: (permission) => permission.access,
      }),
    }),
  });

export const UserRef = builder.prismaNode('User', {
  description: 'A member of the workspace; it acts through its API keys.',
  id: { field: 'id' },
  // node(id) of an unknown id or another workspace's is null, not an error.
  nullable: true,
  findUnique: (id, ctx) => ({ id: nodeId(id), workspaceId: ctx.viewer.workspaceId }),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The name of the user.' }),
    email: t.exposeString('email', { description: 'The email address, lower-cased; unique in the workspace.' }),
    role: t.field({ type: RoleEnum, description: 'ADMIN or USER.', resolve: (user) => user.role }),
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
    id: t.id({ description: 'The id of the key, for revokeApiKey.', resolve: (key) => encodeGlobalId('ApiKey', key.id) }),
    name: t.exposeString('name', { description: 'A name to tell keys apart.' }),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to recognise it.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When the key was created.', resolve: (key) => key.createdAt }),
  }),
});

const CreateUserInput = builder.inputType('CreateUserInput', {
  description: 'A new user of the workspace.',
  fields: (t) => ({
    name: t.string({ required: true, description: '1 to 200 characters (trimmed).' }),
    email: t.string({ required: true, description: 'An email address not yet used in the workspace (stored lower-cased).' }),
    role: t.field({ type: RoleEnum, description: 'Default USER.' }),
  }),
});
const CreateUserSuccess = builder.objectRef<User>('CreateUserSuccess').implement({
  description: 'The user was created.',
  fields: (t) => ({ user: t.field({ type: UserRef, description: 'The new user.', resolve: (user) => user }) }),
});
builder.mutationField('createUser', (t) =>
  t.field({
    description:
      'Adds a user to the workspace (admin only); give it a key with createApiKey. ' +
      'Errors: FORBIDDEN, VALIDATION (name or email), CONFLICT (the email is taken).',
    type: CreateUserSuccess,
    errors: resultUnion('createUser'),
    args: { input: t.arg({ type: CreateUserInput, required: true, description: 'The user to add.' }) },
    resolve: (_root, { input }, ctx) => addUser(ctx.viewer, input),
  }),
);

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  description: 'A new API key for a user.',
  fields: (t) => ({
    userId: t.id({ required: true, description: 'The user the key acts as.' }),
    name: t.string({ required: true, description: 'A name to tell keys apart, 1 to 200 characters (trimmed).' }),
  }),
});
const CreateApiKeySuccess = builder
  .objectRef<{ apiKey: ApiKey; plaintext: string }>('CreateApiKeySuccess')
  .implement({
    description: 'The key was created. Send it as `Authorization: Bearer <apiKey>`.',
    fields: (t) => ({
      apiKey: t.string({ description: 'The key itself: shown this once, never again.', resolve: (result) => result.plaintext }),
      key: t.field({ type: ApiKeyRef, description: 'The stored key: its id, name and prefix.', resolve: (result) => result.apiKey }),
    }),
  });
builder.mutationField('createApiKey', (t) =>
  t.field({
    description:
      'Creates an API key for a user (admin only); only its hash is stored. Errors: FORBIDDEN, VALIDATION (name), NOT_FOUND (userId).',
    type: CreateApiKeySuccess,
    errors: resultUnion('createApiKey'),
    args: { input: t.arg({ type: CreateApiKeyInput, required: true, description: 'The user and a name for the key.' }) },
    resolve: (_root, { input }, ctx) => createApiKeyFor(ctx.viewer, { userId: idOf('User', input.userId), name: input.name }),
  }),
);

const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', {
  description: 'The API key to revoke.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The id of an active key (ApiKey.id).' }) }),
});
const RevokeApiKeySuccess = builder.objectRef<ApiKey>('RevokeApiKeySuccess').implement({
  description: 'The key was revoked.',
  fields: (t) => ({
    revokedId: t.id({ description: 'The id of the revoked key.', resolve: (key) => encodeGlobalId('ApiKey', key.id) }),
  }),
});
builder.mutationField('revokeApiKey', (t) =>
  t.field({
    description:
      'Revokes an API key (admin only); it stops working with the next request. ' +
      'Errors: FORBIDDEN, VALIDATION, NOT_FOUND (no active key with that id, a revoked one included).',
    type: RevokeApiKeySuccess,
    errors: resultUnion('revokeApiKey'),
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true, description: 'The key to revoke.' }) },
    resolve: (_root, { input }, ctx) => revokeApiKey(ctx.viewer, idOf('ApiKey', input.id)),
  }),
);

const SetObjectPermissionInput = builder.inputType('SetObjectPermissionInput', {
  description: "A user's access to one object's records.",
  fields: (t) => ({
    userId: t.id({ required: true, description: 'The user.' }),
    objectKey: t.string({ required: true, description: 'The object, by key (e.g. `contact`).' }),
    access: t.field({ type: RecordAccessEnum, required: true, description: 'The access to give; ALL lifts a restriction.' }),
  }),
});
const SetObjectPermissionSuccess = builder.objectRef<User>('SetObjectPermissionSuccess').implement({
  description: 'The access was set.',
  fields: (t) => ({ user: t.field({ type: UserRef, description: 'The user, with its new permissions.', resolve: (user) => user }) }),
});
builder.mutationField('setObjectPermission', (t) =>
  t.field({
    description:
      "Sets a user's access to an object's records (admin only); it applies from the user's next request. An ADMIN sees every " +
      'record whatever is set. Errors: FORBIDDEN, VALIDATION, NOT_FOUND (userId or objectKey).',
    type: SetObjectPermissionSuccess,
    errors: resultUnion('setObjectPermission'),
    args: { input: t.arg({ type: SetObjectPermissionInput, required: true, description: 'The user, the object and the access.' }) },
    resolve: (_root, { input }, ctx) =>
      setObjectPermission(ctx.viewer, { ...input, userId: idOf('User', input.userId) }),
  }),
);
