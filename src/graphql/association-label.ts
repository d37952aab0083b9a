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
  values: {
    SINGLE: { description: 'One name for both sides, e.g. "Colleague"; within one object, A–B and B–A are the same association.' },
    PAIR: { description: 'One name per side, e.g. "Manager" (first) and "Employee" (second).' },
  } as const,
});
export const CardinalityEnum = builder.enumType('Cardinality', {
  description: 'How many partners a record may have under a label; chosen at creation, immutable.',
  values: {
    MANY_TO_MANY: { description: 'Any number of partners on each side, within the limits (the default).' },
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
    type: t.field({ type: AssociationLabelTypeEnum, description: 'SINGLE or PAIR; immutable.', resolve: (label) => label.type }),
    cardinality: t.field({
      type: CardinalityEnum,
      description: 'How many partners a record may have under it; immutable.',
      resolve: (label) => label.cardinality,
    }),
    firstObject: t.field({
      type: ObjectRef,
      description: 'The object of the records on the first side; immutable.',
      resolve: (label, _args, ctx) => ctx.loaders.object(label.firstObjectId),
    }),
    secondObject: t.field({
      type: ObjectRef,
      description: 'The object of the records on the second side (may be the first one); immutable.',
      resolve: (label, _args, ctx) => ctx.loaders.object(label.secondObjectId),
    }),
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
      description: 'Its associations between records you can see, oldest first.',
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
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (label) => label.createdAt }),
    updatedAt: t.field({
      type: 'DateTime',
      description: 'When it was last updated.',
      resolve: (label) => label.updatedAt,
    }),
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
    description: 'Labels of the workspace, in creation order; with objectKey, those that link it (to otherObjectKey, when given).',
    args: {
      objectKey: t.arg.string({ description: 'Only labels that link this object.' }),
      otherObjectKey: t.arg.string({ description: 'Only labels that link this object too: with objectKey, labels between the two.' }),
    },
    resolve: (_root, args, ctx) => labelsBetween(ctx, args.objectKey, args.otherObjectKey),
  }),
  associationLabel: t.field({
    type: AssociationLabelRef,
    nullable: true,
    description: 'A label by id or by key; null when there is none (or when id and key name different labels).',
    args: {
      id: t.arg.id({ description: 'The id of the label.' }),
      key: t.arg.string({ description: 'The key of the label.' }),
    },
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
  description: 'A new label between two objects.',
  fields: (t) => ({
    key: t.string({
      description:
        'The internal name (^[a-z][a-z0-9_]{0,63}$), unique in the workspace and immutable; derived from the names when left out.',
    }),
    firstObjectKey: t.string({ required: true, description: 'The object of the records on the first side.' }),
    secondObjectKey: t.string({ required: true, description: 'The object of the records on the second side (may be the same).' }),
    type: t.field({ type: AssociationLabelTypeEnum, required: true, description: 'SINGLE or PAIR; immutable.' }),
    firstLabel: t.string({ required: true, description: 'The role of the record on the first side, 1 to 100 characters (trimmed).' }),
    secondLabel: t.string({
      description: 'The role of the record on the second side, 1 to 100 characters: required for PAIR; SINGLE labels use firstLabel for both sides.',
    }),
    cardinality: t.field({
      type: CardinalityEnum,
      description: 'Default MANY_TO_MANY. Immutable. A SINGLE label within one object cannot be MANY_TO_ONE.',
    }),
  }),
});
const UpdateAssociationLabelInput = builder.inputType('UpdateAssociationLabelInput', {
  description: 'Changes to a label; what is left out stays as it is.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The label to change.' }),
    firstLabel: t.string({ description: 'A new role name for the first side, 1 to 100 characters; for a SINGLE label, renames both sides.' }),
    secondLabel: t.string({ description: 'A new role name for the second side, 1 to 100 characters; for a SINGLE label, renames both sides.' }),
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
  description: 'The label to delete.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The id of the label.' }),
    force: t.boolean({ description: 'Also remove its associations (each logged), in one transaction. Default false.' }),
  }),
});

const labelSuccess = (name: string, description: string) =>
  builder.objectRef<AssociationLabel>(name).implement({
    description,
    fields: (t) => ({
      associationLabel: t.field({ type: AssociationLabelRef, description: 'The label as it is now.', resolve: (label) => label }),
    }),
  });
const DeleteAssociationLabelSuccess = builder
  .objectRef<{ label: AssociationLabel; removedAssociations: number }>('DeleteAssociationLabelSuccess')
  .implement({
    description: 'The label was deleted.',
    fields: (t) => ({
      deletedId: t.id({ description: 'The id the label had.', resolve: ({ label }) => encodeGlobalId('AssociationLabel', label.id) }),
      removedAssociations: t.exposeInt('removedAssociations', { description: 'Associations removed with it (0 without force).' }),
    }),
  });

builder.mutationFields((t) => ({
  createAssociationLabel: t.field({
    description:
      'Creates a label between two objects (admin only). Errors: FORBIDDEN, VALIDATION (names, key or cardinality), ' +
      'NOT_FOUND (an object key), LIMIT_EXCEEDED (maxLabelsPerObjectPair), CONFLICT (the key is taken).',
    type: labelSuccess('CreateAssociationLabelSuccess', 'The label was created.'),
    errors: resultUnion('createAssociationLabel'),
    args: { input: t.arg({ type: CreateAssociationLabelInput, required: true, description: 'The label to create.' }) },
    resolve: (_root, { input }, ctx) => createLabel(ctx.viewer, input),
  }),
  updateAssociationLabel: t.field({
    description:
      "Renames a label's sides and sets or clears its limits per direction (admin only). Key, objects, type and cardinality are immutable. " +
      'Lowering a limit below current usage is allowed: new links over it are refused. ' +
      'Errors: FORBIDDEN, VALIDATION (names or limits), NOT_FOUND (id).',
    type: labelSuccess('UpdateAssociationLabelSuccess', 'The label was changed.'),
    errors: resultUnion('updateAssociationLabel'),
    args: { input: t.arg({ type: UpdateAssociationLabelInput, required: true, description: 'The label and its changes.' }) },
    resolve: (_root, { input }, ctx) => updateLabel(ctx.viewer, { ...input, id: idOf('AssociationLabel', input.id) }),
  }),
  deleteAssociationLabel: t.field({
    description:
      'Deletes an unused label (admin only); LABEL_IN_USE otherwise, unless force is true. ' +
      'Errors: FORBIDDEN, VALIDATION, NOT_FOUND (id), LABEL_IN_USE (with the number of associations).',
    type: DeleteAssociationLabelSuccess,
    errors: resultUnion('deleteAssociationLabel'),
    args: { input: t.arg({ type: DeleteAssociationLabelInput, required: true, description: 'The label to delete.' }) },
    resolve: (_root, { input }, ctx) => deleteLabel(ctx.viewer, { ...input, id: idOf('AssociationLabel', input.id) }),
  }),
}));
