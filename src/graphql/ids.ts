import { decodeGlobalId, parseRowId, type NodeType } from '../services/ids.js';

/** Numeric id of a global id argument; null (so: not found) when it is not of that type. */
export const idOf = (type: NodeType, globalId: string | null | undefined): number | null =>
  globalId == null ? null : decodeGlobalId(globalId, type);

/** For prismaNode's findUnique: the numeric id Relay decoded, or an id that matches nothing. */
export const nodeId = (id: string): number => parseRowId(id) ?? -1;
