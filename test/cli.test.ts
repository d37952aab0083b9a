import { describe, expect, it } from 'vitest';
import { useTestApp } from './helpers.js';
import { relate } from './support/process.js';

const t = useTestApp();

describe('relate CLI', () => {
  it('workspace create prints { workspace, user, apiKey } and the key works', async () => {
    const result = await relate(['workspace', 'create', '--name', 'From CLI', '--admin-email', 'ops@example.com'], {
      DATABASE_URL: t.url,
    });
    expect(result.code).toBe(0);
    const created = JSON.parse(result.stdout);
    expect(created).toEqual({
      workspace: { id: expect.any(String), name: 'From CLI' },
      user: { id: expect.any(String), name: 'Admin', email: 'ops@example.com', role: 'ADMIN' },
      apiKey: expect.stringMatching(/^rel_/),
    });
    const viewer = await t.post('{ viewer { user { id } workspace { id name } } }', {}, created.apiKey);
    expect(viewer.data.viewer).toEqual({ user: { id: created.user.id }, workspace: created.workspace });
  });

  it('user create and apikey create give a USER a working key', async () => {
    const { stdout } = await relate(['workspace', 'create', '--name', 'Team'], { DATABASE_URL: t.url });
    const { workspace } = JSON.parse(stdout);
    const userResult = await relate(
      ['user', 'create', '--workspace', workspace.id, '--name', 'Uma', '--email', 'uma@example.com'],
      { DATABASE_URL: t.url },
    );
    expect(userResult.code).toBe(0);
    const { user } = JSON.parse(userResult.stdout);
    expect(user).toMatchObject({ name: 'Uma', email: 'uma@example.com', role: 'USER' });
    const keyResult = await relate(['apikey', 'create', '--user', user.id, '--name', 'script'], { DATABASE_URL: t.url });
    expect(keyResult.code).toBe(0);
    const { apiKey } = JSON.parse(keyResult.stdout);
    const viewer = await t.post('{ viewer { user { name role } workspace { name } } }', {}, apiKey);
    expect(viewer.data.viewer).toEqual({ user: { name: 'Uma', role: 'USER' }, workspace: { name: 'Team' } });
  });

  it('seed --demo creates the Demo workspace', async () => {
    const result = await relate(['seed', '--demo'], { DATABASE_URL: t.url });
    expect(result.code).toBe(0);
    const { apiKey } = JSON.parse(result.stdout);
    const response = await t.post('{ viewer { workspace { name } } associationLabels { key } }', {}, apiKey);
    expect(response.data.viewer.workspace.name).toBe('Demo');
    expect(response.data.associationLabels).toHaveLength(4);
  });

  it('migrate reports an up-to-date database', async () => {
    const result = await relate(['migrate'], { DATABASE_URL: t.url });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('up to date');
  });

  it('schema print prints the committed SDL', async () => {
    const result = await relate(['schema', 'print'], { DATABASE_URL: t.url });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('type Query {');
    expect(result.stdout).toContain('linkRecords(input: LinkRecordsInput!): LinkRecordsResult!');
  });

  it('rejects bad usage with exit code 2 and the usage text', async () => {
    const missing = await relate(['workspace', 'create'], { DATABASE_URL: t.url });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--name is required');
    const unknown = await relate(['frobnicate'], { DATABASE_URL: t.url });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Usage: relate');
    const badUser = await relate(['apikey', 'create', '--user', 'nope'], { DATABASE_URL: t.url });
    expect(badUser.code).toBe(2);
  });
});
