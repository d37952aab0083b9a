import { describe, expect, it } from 'vitest';
import {
  UsersCreateDocument,
  UsersCreateKeyDocument,
  UsersCreateRecordDocument,
  UsersNodeDocument,
  UsersNodesDocument,
  UsersRevokeKeyDocument,
  UsersViewerDocument,
} from './generated/graphql.js';
import { prisma } from '../src/db/index.js';
import { expectType, run, useTestApp, type TestWorkspace } from './helpers.js';

const t = useTestApp();

const globalId = (type: string, id: number | string) => Buffer.from(`${type}:${id}`).toString('base64');

async function addUser(ws: TestWorkspace, email: string, role: 'ADMIN' | 'USER' = 'USER') {
  const { createUser } = await run(ws.client, UsersCreateDocument, { input: { name: `User ${email}`, email, role } });
  return expectType(createUser, 'CreateUserSuccess').user;
}

async function createKey(ws: TestWorkspace, userId: string, name = 'Key') {
  const { createApiKey } = await run(ws.client, UsersCreateKeyDocument, { input: { userId, name } });
  return expectType(createApiKey, 'CreateApiKeySuccess');
}

/** A USER with a key of its own. */
async function userWithKey(ws: TestWorkspace, email: string) {
  const user = await addUser(ws, email);
  const { apiKey } = await createKey(ws, user.id);
  return { user, apiKey, client: t.clientFor(apiKey), gql: t.gqlFor(apiKey) };
}

const userEmails = async (ws: TestWorkspace) =>
  (await prisma.user.findMany({ where: { workspaceId: ws.workspaceId }, orderBy: { id: 'asc' } })).map((u) => u.email);

describe('createUser', () => {
  it('creates a USER by default, and an ADMIN when asked; the email is normalised', async () => {
    const ws = await t.workspace();
    const { createUser } = await run(ws.client, UsersCreateDocument, {
      input: { name: '  Uma User ', email: ' Uma@Example.COM ' },
    });
    expect(createUser).toEqual({
      __typename: 'CreateUserSuccess',
      user: { id: expect.any(String), name: 'Uma User', email: 'uma@example.com', role: 'USER', objectPermissions: [] },
    });
    const admin = await addUser(ws, 'second-admin@example.com', 'ADMIN');
    expect(admin).toMatchObject({ email: 'second-admin@example.com', role: 'ADMIN' });
  });

  it('refuses a duplicate email (whatever its case) with a ConflictError', async () => {
    const ws = await t.workspace();
    await addUser(ws, 'dup@example.com');
    const before = await userEmails(ws);
    for (const email of ['dup@example.com', 'DUP@example.com']) {
      const { createUser } = await run(ws.client, UsersCreateDocument, { input: { name: 'Again', email } });
      expect(createUser).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
    }
    expect(await userEmails(ws)).toEqual(before);
  });

  it('allows the same email in two workspaces', async () => {
    const a = await t.workspace();
    const b = await t.workspace();
    await addUser(a, 'shared@example.com');
    expect((await addUser(b, 'shared@example.com')).email).toBe('shared@example.com');
  });

  it.each(['not-an-email', 'a@b', '@example.com', 'two words@example.com', ''])(
    'refuses the bad email %j with a ValidationError on email',
    async (email) => {
      const ws = await t.workspace();
      const before = await userEmails(ws);
      const { createUser } = await run(ws.client, UsersCreateDocument, { input: { name: 'Bad', email } });
      expect(createUser).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field: 'email' });
      expect(await userEmails(ws)).toEqual(before);
    },
  );

  it('refuses a blank name with a ValidationError on name', async () => {
    const ws = await t.workspace();
    const { createUser } = await run(ws.client, UsersCreateDocument, { input: { name: '   ', email: 'x@example.com' } });
    expect(createUser).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field: 'name' });
  });

  it('answers ConflictError (not an internal error) for the same email created twice at once', async () => {
    const ws = await t.workspace();
    const results = await Promise.all(
      Array.from({ length: 4 }, () => run(ws.client, UsersCreateDocument, { input: { name: 'Race', email: 'race@example.com' } })),
    );
    expect(results.map((r) => r.createUser.__typename).sort()).toEqual([
      'ConflictError',
      'ConflictError',
      'ConflictError',
      'CreateUserSuccess',
    ]);
    expect((await userEmails(ws)).filter((email) => email === 'race@example.com')).toHaveLength(1);
  });
});

describe('createApiKey', () => {
  it('returns the plaintext key once with { id name prefix }, and the key works for its user', async () => {
    const ws = await t.workspace();
    const user = await addUser(ws, 'keyholder@example.com');
    const { createApiKey } = await run(ws.client, UsersCreateKeyDocument, { input: { userId: user.id, name: ' CI key ' } });
    const created = expectType(createApiKey, 'CreateApiKeySuccess');
    expect(created).toEqual({
      __typename: 'CreateApiKeySuccess',
      apiKey: expect.stringMatching(/^rel_\S{20,}$/),
      key: { id: expect.any(String), name: 'CI key', prefix: expect.any(String), createdAt: expect.any(String) },
    });
    expect(created.apiKey.startsWith(created.key.prefix)).toBe(true);
    expect(created.key.prefix.length).toBeLessThan(created.apiKey.length);
    // Only the hash is stored.
    const stored = await prisma.apiKey.findMany({ where: { userId: Number(Buffer.from(user.id, 'base64').toString().split(':')[1]) } });
    expect(JSON.stringify(stored)).not.toContain(created.apiKey);

    const { viewer } = await run(t.clientFor(created.apiKey), UsersViewerDocument, {});
    expect(viewer.user).toEqual({ id: user.id, name: user.name, email: 'keyholder@example.com', role: 'USER' });

    // A second key for the same user is different, and both work.
    const second = await createKey(ws, user.id, 'Second');
    expect(second.apiKey).not.toBe(created.apiKey);
    expect(second.key.id).not.toBe(created.key.id);
    expect((await run(t.clientFor(second.apiKey), UsersViewerDocument, {})).viewer.user.id).toBe(user.id);
    expect((await run(t.clientFor(created.apiKey), UsersViewerDocument, {})).viewer.user.id).toBe(user.id);
  });

  it('answers NotFoundError for an unknown, garbage or foreign user id', async () => {
    const a = await t.workspace();
    const b = await t.workspace();
    for (const userId of [globalId('User', 999999), 'garbage', globalId('User', b.userId), globalId('Workspace', a.workspaceId)]) {
      const { createApiKey } = await run(a.client, UsersCreateKeyDocument, { input: { userId, name: 'Key' } });
      expect(createApiKey).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    expect(await prisma.apiKey.count({ where: { userId: b.userId } })).toBe(1);
  });

  it('refuses a blank name', async () => {
    const ws = await t.workspace();
    const { createApiKey } = await run(ws.client, UsersCreateKeyDocument, {
      input: { userId: globalId('User', ws.userId), name: ' ' },
    });
    expect(createApiKey).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field: 'name' });
  });
});

describe('revokeApiKey', () => {
  it('makes the key answer 401 UNAUTHENTICATED on the very next request; revoking again is NotFoundError', async () => {
    const ws = await t.workspace();
    const user = await addUser(ws, 'revoked@example.com');
    const kept = await createKey(ws, user.id, 'Kept');
    const doomed = await createKey(ws, user.id, 'Doomed');
    expect((await t.post('{ viewer { user { id } } }', {}, doomed.apiKey)).status).toBe(200);

    const { revokeApiKey } = await run(ws.client, UsersRevokeKeyDocument, { input: { id: doomed.key.id } });
    expect(revokeApiKey).toEqual({ __typename: 'RevokeApiKeySuccess', revokedId: doomed.key.id });

    const response = await t.post('{ viewer { user { id } } }', {}, doomed.apiKey);
    expect(response.status).toBe(401);
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.data ?? null).toBeNull();
    // The user's other key still works.
    expect((await run(t.clientFor(kept.apiKey), UsersViewerDocument, {})).viewer.user.id).toBe(user.id);

    const again = await run(ws.client, UsersRevokeKeyDocument, { input: { id: doomed.key.id } });
    expect(again.revokeApiKey).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  it('lets an admin revoke their own key', async () => {
    const ws = await t.workspace();
    const admin = await addUser(ws, 'admin2@example.com', 'ADMIN');
    const own = await createKey(ws, admin.id);
    const { revokeApiKey } = await run(t.clientFor(own.apiKey), UsersRevokeKeyDocument, { input: { id: own.key.id } });
    expect(revokeApiKey.__typename).toBe('RevokeApiKeySuccess');
    expect((await t.post('{ viewer { user { id } } }', {}, own.apiKey)).status).toBe(401);
  });

  it('answers NotFoundError for an unknown, garbage or foreign key id, and revokes nothing', async () => {
    const a = await t.workspace();
    const b = await t.workspace();
    const foreign = await createKey(b, globalId('User', b.userId), 'Foreign');
    for (const id of [globalId('ApiKey', 999999), 'garbage', foreign.key.id, globalId('User', a.userId)]) {
      const { revokeApiKey } = await run(a.client, UsersRevokeKeyDocument, { input: { id } });
      expect(revokeApiKey).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    expect((await t.post('{ viewer { user { id } } }', {}, foreign.apiKey)).status).toBe(200);
  });
});

describe('admin-only user mutations with a USER key', () => {
  it('answer ForbiddenError inside the union and change nothing', async () => {
    const ws = await t.workspace();
    const { user, client } = await userWithKey(ws, 'plain@example.com');
    const adminKey = await createKey(ws, globalId('User', ws.userId), 'Admin spare');
    const before = await userEmails(ws);
    const keysBefore = await prisma.apiKey.count({ where: { workspaceId: ws.workspaceId, revokedAt: null } });

    const forbidden = { code: 'FORBIDDEN', message: expect.any(String) };
    expect((await run(client, UsersCreateDocument, { input: { name: 'X', email: 'x@example.com', role: 'ADMIN' } })).createUser).toEqual({
      __typename: 'ForbiddenError',
      ...forbidden,
    });
    // Not even a key for themselves.
    expect((await run(client, UsersCreateKeyDocument, { input: { userId: user.id, name: 'Mine' } })).createApiKey).toEqual({
      __typename: 'ForbiddenError',
      ...forbidden,
    });
    expect((await run(client, UsersRevokeKeyDocument, { input: { id: adminKey.key.id } })).revokeApiKey).toEqual({
      __typename: 'ForbiddenError',
      ...forbidden,
    });

    expect(await userEmails(ws)).toEqual(before);
    expect(await prisma.apiKey.count({ where: { workspaceId: ws.workspaceId, revokedAt: null } })).toBe(keysBefore);
    expect((await t.post('{ viewer { user { id } } }', {}, adminKey.apiKey)).status).toBe(200);
  });
});

describe('viewer', () => {
  it('returns the key’s user and workspace', async () => {
    const ws = await t.workspace('Viewer Co');
    const { viewer } = await run(ws.client, UsersViewerDocument, {});
    expect(viewer).toEqual({
      user: { id: globalId('User', ws.userId), name: 'Admin', email: expect.stringContaining('@example.com'), role: 'ADMIN' },
      workspace: {
        id: globalId('Workspace', ws.workspaceId),
        name: 'Viewer Co',
        limits: { maxLabelsPerObjectPair: 10, maxRecordsPerLabel: 1000, maxAssociationsPerContact: 10 },
      },
    });
    const plain = await userWithKey(ws, 'viewer-user@example.com');
    const { viewer: userViewer } = await run(plain.client, UsersViewerDocument, {});
    expect(userViewer).toEqual({
      user: { id: plain.user.id, name: plain.user.name, email: 'viewer-user@example.com', role: 'USER' },
      workspace: viewer.workspace,
    });
  });
});

describe('node(id)', () => {
  async function fixture() {
    const ws = await t.workspace('Node Co');
    const { createRecord } = await run(ws.client, UsersCreateRecordDocument, {
      input: { objectKey: 'contact', properties: { firstName: 'Nora', lastName: 'Node' } },
    });
    const recordId = expectType(createRecord, 'CreateRecordSuccess').record.id;
    const objectId = (await ws.gql<{ object: { id: string } }>('{ object(key: "contact") { id } }')).data!.object.id;
    return { ws, recordId, objectId, userId: globalId('User', ws.userId), workspaceId: globalId('Workspace', ws.workspaceId) };
  }

  it('resolves User, Workspace, Object and Record ids', async () => {
    const { ws, recordId, objectId, userId, workspaceId } = await fixture();
    const node = async (id: string) => (await run(ws.client, UsersNodeDocument, { id })).node;
    expect(await node(userId)).toEqual({ __typename: 'User', id: userId, email: expect.any(String), role: 'ADMIN' });
    expect(await node(workspaceId)).toEqual({ __typename: 'Workspace', id: workspaceId, name: 'Node Co' });
    expect(await node(objectId)).toEqual({ __typename: 'Object', id: objectId, key: 'contact' });
    expect(await node(recordId)).toEqual({ __typename: 'Record', id: recordId, displayName: 'Nora Node' });

    const { nodes } = await run(ws.client, UsersNodesDocument, { ids: [recordId, userId, objectId, workspaceId] });
    expect(nodes).toEqual([
      { __typename: 'Record', id: recordId },
      { __typename: 'User', id: userId },
      { __typename: 'Object', id: objectId },
      { __typename: 'Workspace', id: workspaceId },
    ]);
  });

  it("returns null for every kind of id from another workspace, exactly like a missing id", async () => {
    const mine = await fixture();
    const theirs = await fixture();
    for (const id of [theirs.userId, theirs.workspaceId, theirs.objectId, theirs.recordId]) {
      const response = await mine.ws.gql('query ($id: ID!) { node(id: $id) { id } }', { id });
      expect(response).toMatchObject({ status: 200, data: { node: null } });
      expect(response.errors).toBeUndefined();
    }
    const { nodes } = await run(mine.ws.client, UsersNodesDocument, {
      ids: [theirs.recordId, mine.recordId, theirs.userId, theirs.objectId, theirs.workspaceId],
    });
    expect(nodes).toEqual([null, { __typename: 'Record', id: mine.recordId }, null, null, null]);
  });

  it('returns null for unknown ids of each type and for garbage ids', async () => {
    const { ws } = await fixture();
    const ids = [
      ...['User', 'Workspace', 'Object', 'Record'].map((type) => globalId(type, 999999)),
      globalId('User', 0),
      globalId('Record', 'abc'),
      globalId('Nope', 1),
      'garbage',
      '',
    ];
    for (const id of ids) {
      const response = await ws.gql('query ($id: ID!) { node(id: $id) { id } }', { id });
      expect(response).toMatchObject({ status: 200, data: { node: null } });
      expect(response.errors).toBeUndefined();
    }
  });
});
