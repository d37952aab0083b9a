import type { Association } from '../db/generated/sqlite/client.js';
import type { Context } from '../context.js';
import type { AssociationShape } from '../loaders/index.js';
import { linkRecords, unlinkRecords } from '../services/links.js';
import { ValidationError } from '../services/errors.js';
import { builder } from './builder.js';
import { resultUnion } from './errors.js';
import { idOf, nodeId } from './ids.js';
import { AssociationLabelRef, AssociationRef, RecordRef } from './refs.js';
import { UserRef } from './user.js';


async function fullRow(association: AssociationShape, ctx: Context) {
  if (association.createdAt !== undefined) return association as Association;
  return (await ctx.loaders.association.load(association.id))!;
}

builder.node(AssociationRef, {
  description: 'One link: two records under a label.',
  id: { resolve: (association) => association.id },
  // Visible when both its records are.
  loadManyWithoutCache: (ids, ctx) =>
    Promise.all(
      ids.map(async (id) => {
        const row = await ctx.loaders.association.load(nodeId(id));
        if (!row) return null;
        const [first, second] = await ctx.loaders.record.loadMany([row.firstRecordId, row.secondRecordId]);
        return first && second && !(first instanceof Error) && !(second instanceof Error) ? row : null;
      }),
    ),
  fields: (t) => ({
    label: t.field({
      type: AssociationLabelRef,
      description: 'The label that links the two records.',
      resolve: async (association, _args, ctx) => (await ctx.loaders.label(association.labelId))!,
    }),
    firstRecord: t.field({
      type: RecordRef,
      description: "The record on the label's first side (the one playing firstLabel).",
      resolve: async (association, _args, ctx) => (await ctx.loaders.record.load(association.firstRecordId))!,
    }),
    secondRecord: t.field({
      type: RecordRef,
      description: "The record on the label's second side (the one playing secondLabel).",
      resolve: async (association, _args, ctx) => (await ctx.loaders.record.load(association.secondRecordId))!,
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When the records were linked.',
      resolve: async (association, _args, ctx) => (await fullRow(association, ctx)).createdAt,
    }),
    createdBy: t.field({
      type: UserRef,
      nullable: true,
      description: 'The user who linked them; null when not known.',
      resolve: async (association, _args, ctx) => {
        const { createdById } = await fullRow(association, ctx);
        return createdById === null ? null : ctx.loaders.user.load(createdById);
      },
    }),
  }),
});

const FIRST_RECORD_ID =
  'One of the two records. For a label between two different objects the ids may come in either order; ' +
  'for a PAIR label within one object this one takes the first side.';
const SECOND_RECORD_ID = 'The other record; not the same as firstRecordId.';

const LinkRecordsInput = builder.inputType('LinkRecordsInput', {
  description: 'Two records and the labels to link them under.',
  fields: (t) => ({
    firstRecordId: t.id({ required: true, description: FIRST_RECORD_ID }),
    secondRecordId: t.id({ required: true, description: SECOND_RECORD_ID }),
    labelKeys: t.stringList({ required: true, description: 'One or more label keys (at most 10).' }),
  }),
});
const UnlinkRecordsInput = builder.inputType('UnlinkRecordsInput', {
  description: 'Two records and the labels to unlink them from.',
  fields: (t) => ({
    firstRecordId: t.id({ required: true, description: FIRST_RECORD_ID }),
    secondRecordId: t.id({ required: true, description: SECOND_RECORD_ID }),
    labelKeys: t.stringList({
      description: 'At most 10 label keys. Omitted: every label between the two records, in both directions.',
    }),
  }),
});
const BatchLinkRecordsInput = builder.inputType('BatchLinkRecordsInput', {
  description: 'Several links, made in order in one transaction.',
  fields: (t) => ({ links: t.field({ type: [LinkRecordsInput], required: true, description: '1 to 100 items.' }) }),
});
const BatchUnlinkRecordsInput = builder.inputType('BatchUnlinkRecordsInput', {
  description: 'Several unlinks, made in order in one transaction.',
  fields: (t) => ({ unlinks: t.field({ type: [UnlinkRecordsInput], required: true, description: '1 to 100 items.' }) }),
});

type Pair = { firstRecordId: string; secondRecordId: string };
const decodePair = <T extends Pair>(item: T) => ({
  ...item,
  firstRecordId: idOf('Record', item.firstRecordId),
  secondRecordId: idOf('Record', item.secondRecordId),
});

export const MAX_BATCH = 100;
function checkBatch(items: readonly unknown[], field: string) {
  if (items.length < 1 || items.length > MAX_BATCH) {
    throw new ValidationError(`${field} takes 1 to ${MAX_BATCH} items; got ${items.length}.`, field);
  }
}

type LinkResult = { associations: Association[]; createdCount: number };

/**
 * The associations of a committed link that are still there when the response is rendered: a
 * concurrent delete of one of their records (or a forced label delete) may have removed them
 * in between, and an association must not be shown with a missing record or label.
 */
async function stillPresent(associations: Association[], ctx: Context): Promise<Association[]> {
  const keep = await Promise.all(
    associations.map(async (association) => {
      const [label, records] = await Promise.all([
        ctx.loaders.label(association.labelId),
        ctx.loaders.record.loadMany([association.firstRecordId, association.secondRecordId]),
      ]);
      return label !== undefined && records.every((record) => record !== null && !(record instanceof Error));
    }),
  );
  return associations.filter((_, index) => keep[index]);
}

const LinkRecordsSuccess = builder.objectRef<LinkResult>('LinkRecordsSuccess').implement({
  description: 'The records are linked under every label asked for.',
  fields: (t) => ({
    associations: t.field({
      type: [AssociationRef],
      description: 'One association per label, new or already there, in the order of labelKeys.',
      resolve: (result, _args, ctx) => stillPresent(result.associations, ctx),
    }),
    created: t.boolean({ description: 'True when at least one association is new.', resolve: (result) => result.createdCount > 0 }),
  }),
});
const BatchLinkRecordsSuccess = builder.objectRef<LinkResult>('BatchLinkRecordsSuccess').implement({
  description: 'Every item is linked.',
  fields: (t) => ({
    associations: t.field({
      type: [AssociationRef],
      description: 'The associations of every item, new or already there, in order.',
      resolve: (result, _args, ctx) => stillPresent(result.associations, ctx),
    }),
    createdCount: t.exposeInt('createdCount', { description: 'How many of them are new.' }),
  }),
});
const unlinkSuccess = (name: string, description: string) =>
  builder.objectRef<{ removedCount: number }>(name).implement({
    description,
    fields: (t) => ({
      removedCount: t.exposeInt('removedCount', { description: 'How many associations were removed; 0 when there were none.' }),
    }),
  });

builder.mutationFields((t) => ({
  linkRecords: t.field({
    description:
      'Links two records under one or more labels, all or nothing; each new association is logged. Linking an existing ' +
      'association is not an error. Errors: VALIDATION (a record linked to itself, 0 or over 10 labelKeys), ' +
      "NOT_FOUND (a record or label), OBJECT_MISMATCH (records not of the label's objects), LIMIT_EXCEEDED (a limit or the cardinality).",
    type: LinkRecordsSuccess,
    errors: resultUnion('linkRecords'),
    args: { input: t.arg({ type: LinkRecordsInput, required: true, description: 'The records and the labels.' }) },
    resolve: (_root, { input }, ctx) => linkRecords(ctx.viewer, [decodePair(input)]),
  }),
  unlinkRecords: t.field({
    description:
      'Removes the associations between two records (under the given labels, or all), all or nothing; each removal is logged. ' +
      "Removing nothing is not an error. Errors: VALIDATION, NOT_FOUND (a record or label), OBJECT_MISMATCH (records not of a label's objects).",
    type: unlinkSuccess('UnlinkRecordsSuccess', 'The records are unlinked.'),
    errors: resultUnion('unlinkRecords'),
    args: { input: t.arg({ type: UnlinkRecordsInput, required: true, description: 'The records and the labels.' }) },
    resolve: (_root, { input }, ctx) => unlinkRecords(ctx.viewer, [decodePair(input)]),
  }),
  batchLinkRecords: t.field({
    description:
      'Many linkRecords in one transaction: all or nothing; a failing item names its 0-based index. ' +
      'Errors: those of linkRecords, and VALIDATION for 0 or over 100 items.',
    type: BatchLinkRecordsSuccess,
    errors: resultUnion('batchLinkRecords'),
    args: { input: t.arg({ type: BatchLinkRecordsInput, required: true, description: 'The links to make.' }) },
    resolve: (_root, { input }, ctx) => {
      checkBatch(input.links, 'links');
      return linkRecords(ctx.viewer, input.links.map(decodePair), { batch: true });
    },
  }),
  batchUnlinkRecords: t.field({
    description:
      'Many unlinkRecords in one transaction: all or nothing; a failing item names its 0-based index. ' +
      'Errors: those of unlinkRecords, and VALIDATION for 0 or over 100 items.',
    type: unlinkSuccess('BatchUnlinkRecordsSuccess', 'Every item is unlinked.'),
    errors: resultUnion('batchUnlinkRecords'),
    args: { input: t.arg({ type: BatchUnlinkRecordsInput, required: true, description: 'The unlinks to make.' }) },
    resolve: (_root, { input }, ctx) => {
      checkBatch(input.unlinks, 'unlinks');
      return unlinkRecords(ctx.viewer, input.unlinks.map(decodePair), { batch: true });
    },
  }),
}));

