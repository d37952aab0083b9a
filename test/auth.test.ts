import { describe, expect, it } from 'vitest';
import { ViewerDocument } from './generated/graphql.js';
import { run, useTestApp } from './helpers.js';

const t = useTestApp();

describe('authentication', () => {
  it('answers 401 UNAUTHENTICATED without a key', async () => {
    const response = await t.post('{ viewer { user { id } } }', {}, null);
    expect(response.status).toBe(401);
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.data ?? null).toBeNull();
  });

  it('answers 401 UNAUTHENTICATED for a wrong key', async () => {
    const response = await t.post('{ viewer { user { id } } }', {}, 'rel_not-a-real-key');
    expect(response.status).toBe(401);
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('identifies the viewer from a valid key', async () => {
    const ws = await t.workspace('Acme');
    const { viewer } = await run(ws.client, ViewerDocument, {});
    expect(viewer.user.role).toBe('ADMIN');
    expect(viewer.workspace.name).toBe('Acme');
    expect(viewer.workspace.limits).toEqual({
      maxLabelsPerObjectPair: 10,
      maxRecordsPerLabel: 1000,
      maxAssociationsPerContact: 10,
    });
  });
});
