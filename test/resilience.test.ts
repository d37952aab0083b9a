import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DB, useTestApp } from './helpers.js';

const t = useTestApp();

describe.runIf(DB === 'postgresql')('PostgreSQL connections closed by the server', () => {
  it('do not take the process down; the next requests are answered on new connections', async () => {
    const ws = await t.workspace();
    const query = '{ viewer { workspace { name } } objects { key } records(objectKey: "contact") { totalCount } }';
    expect((await ws.gql(query)).errors).toBeUndefined();
    const admin = new pg.Client({ connectionString: t.url });
    await admin.connect();
    const { rowCount } = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    await admin.end();
    expect(rowCount).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await ws.gql(query);
    expect(again.errors).toBeUndefined();
    expect(again.data.viewer.workspace.name).toBe('Workspace 1');
  });
});
