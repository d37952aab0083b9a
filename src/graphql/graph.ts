import type { Context } from '../context.js';
import {
  findPath,
  MAX_DEPTH,
  MAX_HOPS,
  MAX_NEIGHBOURHOOD_LIMIT,
  NEIGHBOUR_FANOUT,
  neighbourhoodRows,
  PATH_SEARCH_ROWS,
  type Neighbourhood,
  type NeighbourhoodNode,
  type PathIds,
} from '../loaders/graph.js';
import type { AnyRecord, AssociationShape } from '../loaders/index.js';
import { ValidationError } from '../services/errors.js';
import type { FieldCostExtensions } from '../plugins/query-guards.js';
import { builder } from './builder.js';
import { connectionOf, pageArgs, pageOf } from './connection.js';
import { idOf } from './ids.js';
import { RecordConnectionRef } from './record.js';
import { AssociationRef, RecordRef } from './refs.js';

/** Graph exploration (SPEC §5.4): Record.neighborhood, Record.mutualAssociations and Query.path. */

const DEFAULT_DEPTH = 1;
const DEFAULT_LIMIT = 200;
const DEFAULT_MAX_HOPS = 4;

function checkRange(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new ValidationError(`${field} must be from ${min} to ${max}.`, field);
  return value;
}

/** Ids of the labels (or objects) named; an unknown key matches nothing. Omitted: no filter. */
async function idsOf(known: Promise<{ byKey: Map<string, { id: number }> }> | { byKey: Map<string, { id: number }> }, keys?: readonly string[] | null) {
  if (keys == null) return undefined;
  const { byKey } = await known;
  return [...new Set(keys.map((key) => byKey.get(key)?.id ?? -1))].sort((a, b) => a - b);
}

const NeighborhoodNodeRef = builder.objectRef<NeighbourhoodNode>('NeighborhoodNode').implement({
  description: 'A record of a neighbourhood and how far it is from the starting record.',
  fields: (t) => ({
    record: t.field({ type: RecordRef, description: 'The record.', resolve: (node) => node.record }),
    distance: t.exposeInt('distance', { description: 'Hops from the starting record (0: the starting record itself).' }),
  }),
});

const NeighborhoodRef = builder.objectRef<Neighbourhood>('Neighborhood').implement({
  description: 'The records within some hops of a record, and the associations among them.',
  fields: (t) => ({
    nodes: t.field({
      type: [NeighborhoodNodeRef],
      description: 'The starting record first, then breadth-first: by distance, then in the order they were reached (links in creation order).',
      resolve: (neighbourhood) => neighbourhood.nodes,
    }),
    edges: t.field({
      type: [AssociationRef],
      description: 'The associations between two nodes, oldest first.',
      resolve: (neighbourhood) => neighbourhood.edges,
    }),
    truncated: t.exposeBoolean('truncated', {
      description: `True when records were left out: by the limit, or because a record had more links than were read (the starting record's first \`limit\`, any other's first ${NEIGHBOUR_FANOUT}).`,
    }),
  }),
});

const PathRef = builder.objectRef<{ ids: PathIds; records: AnyRecord[] }>('Path').implement({
  description: 'A shortest chain of associations from one record to another.',
  fields: (t) => ({
    length: t.int({ description: 'Associations along the path (0 when both ends are the same record).', resolve: (path) => path.ids.associations.length }),
    records: t.field({ type: [RecordRef], description: 'From the first record to the last, in order.', resolve: (path) => path.records }),
    associations: t.field({
      type: [AssociationRef],
      description: 'The association between each record and the next.',
      resolve: (path): AssociationShape[] => path.ids.associations,
    }),
  }),
});

const neighbourhoodCost: FieldCostExtensions & Record<string, unknown> = {
  rowsRead: (args) => {
    const limit = typeof args.limit === 'number' ? args.limit : DEFAULT_LIMIT;
    return { rows: neighbourhoodRows(Math.max(1, Math.min(limit, MAX_NEIGHBOURHOOD_LIMIT))), lists: Math.max(1, limit) };
  },
};
const pathCost: FieldCostExtensions & Record<string, unknown> = {
  rowsRead: (args) => ({ rows: PATH_SEARCH_ROWS, lists: (typeof args.maxHops === 'number' ? args.maxHops : DEFAULT_MAX_HOPS) + 1 }),
};

builder.objectFields(RecordRef, (t) => ({
  neighborhood: t.field({
    type: NeighborhoodRef,
    description:
      `The records within \`depth\` hops of this one and the associations among them, breadth-first. ` +
      `Records you cannot see are neither nodes nor stepping stones. At most ${neighbourhoodRows(DEFAULT_LIMIT)} association rows ` +
      `are read at the default limit, whatever the data; the statements are one per hop.`,
    extensions: neighbourhoodCost,
    args: {
      depth: t.arg.int({ defaultValue: DEFAULT_DEPTH, description: `Hops from this record, 1 to ${MAX_DEPTH}.` }),
      labelKeys: t.arg.stringList({ description: 'Only associations under these labels (and only records they reach).' }),
      objectKeys: t.arg.stringList({ description: 'Only records of these objects (the starting record is always there).' }),
      limit: t.arg.int({ defaultValue: DEFAULT_LIMIT, description: `Most nodes returned, the starting record included: 1 to ${MAX_NEIGHBOURHOOD_LIMIT}.` }),
    },
    resolve: async (record, args, ctx) => {
      const depth = checkRange('depth', args.depth ?? DEFAULT_DEPTH, 1, MAX_DEPTH);
      const limit = checkRange('limit', args.limit ?? DEFAULT_LIMIT, 1, MAX_NEIGHBOURHOOD_LIMIT);
      const [labelIds, objectIds] = await Promise.all([idsOf(ctx.loaders.labels(), args.labelKeys), idsOf(ctx.loaders.objects(), args.objectKeys)]);
      return ctx.loaders.neighbourhood.load({ root: record, depth, limit, labelIds, objectIds });
    },
  }),
  mutualAssociations: t.field({
    type: RecordConnectionRef,
    description:
      'The records linked to both this record and `with` (under any labels), in creation order. Empty when `with` is ' +
      'missing or hidden from you.',
    args: { with: t.arg.id({ required: true, description: 'The other record.' }), ...pageArgs(t.arg) },
    resolve: async (record, args, ctx) => {
      const page = pageOf(args, ctx);
      const withId = idOf('Record', args.with) ?? -1;
      const rows = await ctx.loaders.mutual.load({ recordId: record.id, withId, take: page.take, afterId: page.afterId });
      return connectionOf(rows, page, ctx, () => ctx.loaders.mutualCount.load({ recordId: record.id, withId }), (row) => ({ node: row }));
    },
  }),
}));

builder.queryFields((t) => ({
  path: t.field({
    type: PathRef,
    nullable: true,
    description:
      'A shortest path from one record to another through records you can see, or null when there is none within ' +
      `maxHops (or either record is missing or hidden). Searches from both ends, one statement per hop. A search that ` +
      `would read more than ${PATH_SEARCH_ROWS} associations answers LIMIT_EXCEEDED: ask for fewer hops or name labels.`,
    extensions: pathCost,
    args: {
      from: t.arg.id({ required: true, description: 'The record to start from.' }),
      to: t.arg.id({ required: true, description: 'The record to reach.' }),
      maxHops: t.arg.int({ defaultValue: DEFAULT_MAX_HOPS, description: `Longest path looked for, 1 to ${MAX_HOPS}.` }),
      labelKeys: t.arg.stringList({ description: 'Only through associations under these labels.' }),
    },
    resolve: async (_root, args, ctx: Context) => {
      const maxHops = checkRange('maxHops', args.maxHops ?? DEFAULT_MAX_HOPS, 1, MAX_HOPS);
      const from = idOf('Record', args.from);
      const to = idOf('Record', args.to);
      if (from === null || to === null) return null;
      const ends = await ctx.loaders.record.loadMany([from, to]);
      if (ends.some((end) => end === null || end instanceof Error)) return null;
      const ids = await findPath(ctx.viewer, { from, to, maxHops, labelIds: await idsOf(ctx.loaders.labels(), args.labelKeys) });
      if (!ids) return null;
      const records = await ctx.loaders.record.loadMany(ids.recordIds);
      // A record of the path deleted meanwhile: the path is gone too.
      if (records.some((record) => record === null || record instanceof Error)) return null;
      return { ids, records: records as AnyRecord[] };
    },
  }),
}));
