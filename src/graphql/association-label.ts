import type { Association, AssociationLabel } from '../db/generated/sqlite/client.js';
import { prisma } from '../db/index.js';
import type { Context } from '../context.js';
import { encodeGlobalId } from '../services/ids.js';
import { createLabel, deleteLabel, updateLabel } from '../services/labels.js';
import { visibleRecordWhere } from '../services/visibility.js';
import { builder } from './builder.js';
import { connectionOf, connectionType, pageArgs, pageOf } from './connection.js';
import { resultUnion } from './errors.js';
import { idOf, nodeId } from './ids.js';
import { AssociationLabelRef, AssociationRef, ObjectRef } from './refs.js';

export const AssociationLabelTypeEnum = builder.enumType('AssociationLabelType', {
  description: 'SINGLE: one name for both sides ("Colleague"). PAIR: one name per side ("Manager"/"Employee").',
  values: ['SINGLE', 'PAIR'] as const,
});
export const CardinalityEnum = builder.enumType('Cardinality', {
  values: {
    MANY_TO_MANY: { description: 'No limit on partners (the default).' },
    MANY_TO_ONE: { description: 'Each first-side record has at most one second-side record under the label.' },
    ONE_TO_ONE: { description: 'At most one partner per record on each side.' },
  } as const,
});

const LabelLimitsRef = builder.objectRef<AssociationLabel>('LabelLimits').implement({
  description:
    "A label's own limits per direction; null: no limit of its own. Under a label between objects A (first) and B (second), " +
    'one A record may be linked to at most maxSecondPerFirst B records, and one B record to at most maxFirstPerSecond A records. ' +
    'A SINGLE label on one object has one limit for both (equal values). A direction the cardinality fixes to 1 ' +
    '(MANY_TO_ONE: maxSecondPerFirst; ONE_TO_ONE: both) has none of its own.',
  fields: (t) => ({
    maxSecondPerFirst: t.exposeInt('maxSecondPerFirst', {
      nullable: true,
      description: 'Second-side records one first-side record may be linked to.',
    }),
    maxFirstPerSecond: t.exposeInt('maxFirstPerSecond', {
      nullable: true,
      description: 'First-side records one second-side record may be linked to.',
    }),
  }),
});

builder.node(AssociationLabelRef, {
  description: 'The definition of a relationship between two objects (which may be the same object).',
  id: { resolve: (label) => label.id },
  loadManyWithoutCache: async (ids, ctx) => {
    const labels = await ctx.loaders.labels();
    return ids.map((id) => labels.byId.get(nodeId(id)) ?? null);
  },
  fields: (t) => ({
    key: t.exposeString('key', { description: 'The immutable internal name.' }),
    type: t.field({ type: AssociationLabelTypeEnum, resolve: (label) => label.type }),
    cardinality: t.field({ type: CardinalityEnum, resolve: (label) => label.cardinality }),
    firstObject: t.field({ type: ObjectRef, resolve: (label, _args, ctx) => ctx.loaders.object(label.firstObjectId) }),
    secondObject: t.field({ type: ObjectRef, resolve: (label, _args, ctx) => ctx.loaders.object(label.secondObjectId) }),
    firstLabel: t.exposeString('firstLabel', { description: 'The role of the record on the first side.' }),
    secondLabel: t.exposeString('secondLabel', { description: 'The role of the record on the second side.' }),
    limits: t.field({
      type: LabelLimitsRef,
      description: 'Its own limits per direction (admins set them with updateAssociationLabel).',
      resolve: (label) => label,
    }),
    associationCount: t.int({
      description: 'Associations under this label between records you can see.',
      resolve: (label, _args, ctx) => ctx.loaders.labelAssociationCount.load(label.id),
    }),
    recordCount: t.int({
      description: 'Distinct records linked by this label, among associations you can see.',
      resolve: (label, _args, ctx) => ctx.loaders.labelRecordCount.load(label.id),
    }),
    associations: t.field({
      type: AssociationConnectionRef,
      args: pageArgs(t.arg),
      resolve: async (label, args, ctx) => {
        const page = pageOf(args, ctx);
        const visible = visibleRecordWhere(ctx.viewer);
        const where = { labelId: label.id, firstRecord: visible, secondRecord: visible };
        const rows = await prisma.association.findMany({
          where: { ...where, id: { gt: page.afterId } },
          orderBy: { id: 'asc' },
          take: page.take,
        });
        return connectionOf(rows, page, ctx, () => prisma.association.count({ where }), (row) => ({ node: row }));
      },
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (label) => label.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (label) => label.updatedAt }),
  }),
});

const AssociationConnectionRef = connectionType<Association>('Association', AssociationRef);

export { AssociationLabelRef };

/** Labels that link `objectKey` (to `otherObjectKey` only, when given), in creation order. */
export async function labelsBetween(ctx: Context, objectKey?: string | null, otherObjectKey?: string | null) {
  const [{ list }, objects] = await Promise.all([ctx.loaders.labels(), ctx.loaders.objects()]);
  const objectId = objectKey == null ? undefined : (objects.byKey.get(objectKey)?.id ?? -1);
  const otherId = otherObjectKey == null ? undefined : (objects.byKey.get(otherObjectKey)?.id ?? -1);
  const touches = (label: AssociationLabel, a: number | undefined, b: number | undefined) =>
    (a === undefined || label.firstObjectId === a) && (b === undefined || label.secondObjectId === b);
  return list.filter((label) => touches(label, objectId, otherId) || touches(label, otherId, objectId));
}

builder.queryFields((t) => ({
  associationLabels: t.field({
    type: [AssociationLabelRef],
    description: 'Labels of the workspace; with objectKey, those that link it (to otherObjectKey, when given).',
    args: { objectKey: t.arg.string(), otherObjectKey: t.arg.string() },
    resolve: (_root, args, ctx) => labelsBetween(ctx, args.objectKey, args.otherObjectKey),
  }),
  associationLabel: t.field({
    type: AssociationLabelRef,
    nullable: true,
    description: 'A label by id or by key.',
    args: { id: t.arg.id(), key: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const labels = await ctx.loaders.labels();
      const byId = args.id == null ? undefined : labels.byId.get(idOf('AssociationLabel', args.id) ?? -1);
      const byKey = args.key == null ? undefined : labels.byKey.get(args.key);
      if (args.id != null && args.key != null) return byId && byId === byKey ? byId : null;
      return byId ?? byKey ?? null;
    },
  }),
}));

const CreateAssociationLabelInput = builder.inputType('CreateAssociationLabelInput', {
  fields: (t) => ({
    key: t.string({ description: 'The internal name (^[a-z][a-z0-9_]{0,63}$); derived from the names when left out.' }),
    firstObjectKey: t.string({ required: true }),
    secondObjectKey: t.string({ required: true }),
    type: t.field({ type: AssociationLabelTypeEnum, required: true }),
    firstLabel: t.string({ required: true }),
    secondLabel: t.string({ description: 'Required for PAIR; SINGLE labels use firstLabel for both sides.' }),
    cardinality: t.field({ type: CardinalityEnum, description: 'Default MANY_TO_MANY. Immutable.' }),
  }),
});
const UpdateAssociationLabelInput = builder.inputType('UpdateAssociationLabelInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    firstLabel: t.string({ description: 'For a SINGLE label, renames both sides.' }),
    secondLabel: t.string(),
    maxSecondPerFirst: t.int({
      description:
        "Second-side records one first-side record may be linked to: 1 to the workspace's maxRecordsPerLabel; null clears it. " +
        'Not for MANY_TO_ONE and ONE_TO_ONE labels, whose cardinality fixes it to 1.',
    }),
    maxFirstPerSecond: t.int({
      description:
        "First-side records one second-side record may be linked to: 1 to the workspace's maxRecordsPerLabel; null clears it. " +
        'Not for ONE_TO_ONE labels. For a SINGLE label on one object, the same limit as maxSecondPerFirst.',
    }),
  }),
});
const DeleteAssociationLabelInput = builder.inputType('DeleteAssociationLabelInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    force: t.boolean({ description: 'Also remove its associations (each logged), in one transaction.' }),
  }),
});

const labelSuccess = (name: string) =>
  builder.objectRef<AssociationLabel>(name).implement({
    fields: (t) => ({ associationLabel: t.field({ type: AssociationLabelRef, resolve: (label) => label }) }),
  });
const DeleteAssociationLabelSuccess = builder
  .objectRef<{ label: AssociationLabel; removedAssociations: number }>('DeleteAssociationLabelSuccess')
  .implement({
    fields: (t) => ({
      deletedId: t.id({ resolve: ({ label }) => encodeGlobalId('AssociationLabel', label.id) }),
      removedAssociations: t.exposeInt('removedAssociations'),
    }),
  });

builder.mutationFields((t) => ({
  createAssociationLabel: t.field({
    description: 'Creates a label between two objects (admin only).',
    type: labelSuccess('CreateAssociationLabelSuccess'),
    errors: resultUnion('createAssociationLabel'),
    args: { input: t.arg({ type: CreateAssociationLabelInput, required: true }) },
    resolve: (_root, { input }, ctx) => createLabel(ctx.viewer, input),
  }),
  updateAssociationLabel: t.field({
    description:
      "Renames a label's sides and sets or clears its limits per direction (admin only). Key, objects, type and cardinality are immutable. " +
      'Lowering a limit below current usage is allowed: new links over it are refused.',
    type: labelSuccess('UpdateAssociationLabelSuccess'),
    errors: resultUnion('updateAssociationLabel'),
    args: { input: t.arg({ type: UpdateAssociationLabelInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateLabel(ctx.viewer, { ...input, id: idOf('AssociationLabel', input.id) }),
  }),
  deleteAssociationLabel: t.field({
    description: 'Deletes an unused label (admin only); LABEL_IN_USE otherwise, unless force is true.',
    type: DeleteAssociationLabelSuccess,
    errors: resultUnion('deleteAssociationLabel'),
    args: { input: t.arg({ type: DeleteAssociationLabelInput, required: true }) },
    resolve: (_root, { input }, ctx) => deleteLabel(ctx.viewer, { ...input, id: idOf('AssociationLabel', input.id) }),
  }),
}));
