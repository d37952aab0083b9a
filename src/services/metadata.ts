import type { Tx } from '../db/index.js';

/**
 * Objects, fields and labels change rarely and are read by nearly every request. Every change
 * to them bumps the workspace's schemaVersion in the same transaction; readers cache them per
 * (workspace, version) (see loaders), and every request learns the current version with its
 * authentication. A committed change is therefore never read stale, in any process.
 */
export async function bumpSchemaVersion(tx: Tx, workspaceId: number): Promise<void> {
  await tx.workspace.update({ where: { id: workspaceId }, data: { schemaVersion: { increment: 1 } } });
}
