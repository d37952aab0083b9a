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
  | 'ApiKey'
  | 'WebhookEndpoint'
  | 'WebhookDelivery'
  | 'ImportJob';

/**
 * The largest id a row can have: every id column is a 32-bit integer on PostgreSQL (`integer`),
 * and SQLite must answer the same. An id beyond it cannot exist, so it decodes to nothing and
 * answers like any other unknown id instead of reaching the database as an out-of-range value.
 */
export const MAX_ROW_ID = 2_147_483_647;

/** A row id written in decimal ("42"), or null for anything else: 0, signs, fractions, hex, too large. */
export function parseRowId(raw: string | undefined): number | null {
  if (!raw || !/^[1-9][0-9]{0,9}$/.test(raw)) return null;
  const id = Number(raw);
  return id <= MAX_ROW_ID ? id : null;
}

export function encodeGlobalId(type: NodeType, id: number): string {
  return Buffer.from(`${type}:${id}`, 'utf8').toString('base64');
}

/** The numeric id inside a global id of the given type, or null for anything else. */
export function decodeGlobalId(globalId: string, type: NodeType): number | null {
  const text = Buffer.from(globalId, 'base64').toString('utf8');
  const [prefix, raw, ...rest] = text.split(':');
  return prefix === type && rest.length === 0 ? parseRowId(raw) : null;
}

export function encodeCursor(workspaceId: number, id: number): string {
  return Buffer.from(`cursor:${workspaceId}:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, workspaceId: number): number | null {
  const match = /^cursor:([0-9]+):([0-9]+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || Number(match[1]) !== workspaceId) return null;
  return parseRowId(match[2]);
}
