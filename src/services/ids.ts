/**
 * Opaque ids. Global object ids are Relay's base64("Type:id"); cursors are bound to the
 * workspace that issued them, so a cursor carried into another workspace is simply invalid.
 */
export type NodeType =
  | 'Workspace'
  | 'User'
  | 'Object'
  | 'Record'
  | 'AssociationLabel'
  | 'Association'
  | 'AssociationEvent'
  | 'ApiKey';

export function encodeGlobalId(type: NodeType, id: number): string {
  return Buffer.from(`${type}:${id}`, 'utf8').toString('base64');
}

/** The numeric id inside a global id of the given type, or null for anything else. */
export function decodeGlobalId(globalId: string, type: NodeType): number | null {
  const text = Buffer.from(globalId, 'base64').toString('utf8');
  const [prefix, raw, ...rest] = text.split(':');
  if (prefix !== type || rest.length > 0 || !raw || !/^[1-9][0-9]{0,14}$/.test(raw)) return null;
  return Number(raw);
}

export function encodeCursor(workspaceId: number, id: number): string {
  return Buffer.from(`cursor:${workspaceId}:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, workspaceId: number): number | null {
  const match = /^cursor:([0-9]+):([1-9][0-9]{0,14})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || Number(match[1]) !== workspaceId) return null;
  return Number(match[2]);
}
