import { ValidationError } from '../services/errors.js';
import { decodeCursor, encodeCursor } from '../services/ids.js';
import type { Context } from '../context.js';
import type { ArgBuilder } from '@pothos/core';
import { builder, type Types } from './builder.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page {
  take: number;
  afterId: number;
  first: number;
}

/** Checks `first` (1..100, default 20) and decodes `after`. */
export function pageOf(args: PageArgs, ctx: Context): Page {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new ValidationError(`first must be from 1 to ${MAX_PAGE_SIZE}.`, 'first');
  }
  let afterId = 0;
  if (args.after != null) {
    const decoded = decodeCursor(args.after, ctx.viewer.workspaceId);
    if (decoded === null) throw new ValidationError('after is not a valid cursor.', 'after');
    afterId = decoded;
  }
  return { first, take: first + 1, afterId };
}

export interface Edge<Node> {
  /** The id the edge's cursor encodes (encoded only if the cursor is asked for). */
  cursorId: number;
  node: Node;
}

export interface ConnectionShape<Node, E extends Edge<Node> = Edge<Node>> {
  edges: E[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number | (() => Promise<number>);
}

/**
 * A connection from `take` = first + 1 rows ordered by id: the extra row only says there is a
 * next page.
 */
export function connectionOf<Row extends { id: number }, T extends object>(
  rows: Row[],
  page: Page,
  ctx: Context,
  totalCount: number | (() => Promise<number>),
  toEdge: (row: Row) => T,
) {
  const shown = rows.slice(0, page.first);
  const edges = shown.map((row) => {
    const edge = toEdge(row) as T & { cursorId: number };
    edge.cursorId = row.id;
    return edge;
  });
  const cursor = (row: Row | undefined) => (row ? encodeCursor(ctx.viewer.workspaceId, row.id) : null);
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > page.first,
      hasPreviousPage: page.afterId > 0,
      startCursor: cursor(shown[0]),
      endCursor: cursor(shown.at(-1)),
    },
    totalCount,
  };
}

export const pageArgs = (arg: ArgBuilder<Types>) => ({
  first: arg.int({
    description: `Page size, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}); outside that range a VALIDATION error.`,
  }),
  after: arg.string({
    description: "Start after this cursor (an edge's cursor or pageInfo.endCursor of this list); omitted: from the start.",
  }),
});

const PageInfoRef = builder.objectRef<ConnectionShape<unknown>['pageInfo']>('PageInfo').implement({
  description: 'Where a page sits in its list, and the cursors to read on from.',
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage', {
      description: 'True when more items follow this page: pass endCursor as `after` to read them.',
    }),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage', {
      description: 'True when this page was read with `after`, so items come before it.',
    }),
    startCursor: t.exposeString('startCursor', {
      nullable: true,
      description: 'The cursor of the first item of this page; null when the page is empty.',
    }),
    endCursor: t.exposeString('endCursor', {
      nullable: true,
      description: 'The cursor of the last item of this page, to pass as `after`; null when the page is empty.',
    }),
  }),
});

/**
 * Defines `<Name>Connection` and `<Name>Edge` (or the given edge name, description and extra
 * edge fields), described after the node type's name.
 */
export function connectionType<Node, E extends Edge<Node> = Edge<Node>>(
  name: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any object ref of Node
  nodeType: any,
  options: {
    edgeName?: string;
    edgeDescription?: string;
    edgeFields?: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, E>) => object;
  } = {},
) {
  const nodeName: string = nodeType.name;
  const EdgeRef = builder.objectRef<E>(options.edgeName ?? `${name}Edge`).implement({
    description: options.edgeDescription ?? `One ${nodeName} of a page, with its cursor.`,
    fields: (t) => ({
      cursor: t.string({
        description: 'The position of this item: pass it as `after` to read the items that follow it.',
        resolve: (edge, _args, ctx) => encodeCursor(ctx.viewer.workspaceId, edge.cursorId),
      }),
      node: t.field({ type: nodeType, description: `The ${nodeName} itself.`, resolve: (edge) => edge.node as never }),
      ...(options.edgeFields?.(t) as object),
    }),
  });
  return builder.objectRef<ConnectionShape<Node, E>>(`${name}Connection`).implement({
    description: `A page of a list of ${nodeName} items: the items, where the page sits, and how many there are in all.`,
    fields: (t) => ({
      edges: t.field({ type: [EdgeRef], description: 'The items of this page, in order.', resolve: (connection) => connection.edges }),
      pageInfo: t.field({
        type: PageInfoRef,
        description: 'Whether more items follow, and the cursors to read on from.',
        resolve: (connection) => connection.pageInfo,
      }),
      totalCount: t.int({
        description: 'All items matching, across pages.',
        resolve: (connection) =>
          typeof connection.totalCount === 'function' ? connection.totalCount() : connection.totalCount,
      }),
    }),
  });
}
