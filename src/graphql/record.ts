import type { AssociationLabel } from '../db/generated/sqlite/client.js';
import type { Context } from '../context.js';
import { isWhole, type AnyRecord, type AssociationShape, type RecordListFilter, type RecordRow, type Side, type SideRow } from '../loaders/index.js';
import { encodeGlobalId } from '../services/ids.js';
import { parseProperties } from '../services/properties.js';
import { createRecord, deleteRecord, updateRecord } from '../services/records.js';
import { lookupValue, uniqueFieldOf, visibleRecordByUniqueValue } from '../services/unique.js';
import { AssociationEventConnectionRef, associationEvents } from './association-event.js';
import { AssociationLabelRef, AssociationRef, ObjectRef, RECORD_DETAIL_FIELDS, RecordRef } from './refs.js';
import { builder } from './builder.js';
import { connectionOf, connectionType, pageArgs, pageOf, type Edge, type PageArgs } from './connection.js';
import { resultUnion } from './errors.js';
import { idOf, nodeId } from './ids.js';
import { LimitUsageRef, recordUsage } from './limit-usage.js';
import { UserRef } from './user.js';

/**
 * Resolves a record detail, a field that a summary (see loaders) lacks: from the record itself,
 * or, for a summary, from the whole record read through the request's loader (batched).
 * Registers the field in RECORD_DETAIL_FIELDS, which decides whether a request reads summaries.
 */
function detail<T>(field: string, resolve: (record: RecordRow) => T) {
  RECORD_DETAIL_FIELDS.add(field);
  return (record: AnyRecord, _args: unknown, ctx: Context): T | Promise<T> => {
    if (isWhole(record)) return resolve(record);
    return ctx.loaders.record.load(record.id).then((whole) => {
      if (!whole) throw new Error(`record ${record.id} is no longer readable`);
      return resolve(whole);
    });
  };
}

builder.node(RecordRef, {
  description: 'An instance of an object (a contact, a car, …).',
  id: { resolve: (record) => record.id },
  // Without Pothos' per-request node cache: a cached node came back unbranded, so `node(id: X)` twice
  // (or with `nodes([X])`) failed to resolve the Node type. Our DataLoaders already cache per request.
  loadManyWithoutCache: (ids, ctx) => Promise.all(ids.map((id) => ctx.loaders.record.load(nodeId(id)))),
  fields: (t) => ({
    object: t.field({
      type: ObjectRef,
      description: 'The object it is a record of.',
      resolve: (record, _args, ctx) => ctx.loaders.object(record.objectId),
    }),
    displayName: t.exposeString('displayName', {
      description: "Its name: the primary property's value (contacts: first and last name, else email); empty when unset.",
    }),
    properties: t.field({
      type: 'JSONObject',
      description: "Its values by field key, each of its field's type.",
      resolve: detail('properties', (record) => parseProperties(record.properties)),
    }),
    owner: t.field({
      type: UserRef,
      nullable: true,
      description: 'The user it is assigned to; null when unassigned.',
      resolve: (record, _args, ctx) => (record.ownerId === null ? null : ctx.loaders.user.load(record.ownerId)),
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When it was created.',
      resolve: detail('createdAt', (record) => record.createdAt),
    }),
    updatedAt: t.field({
      type: 'DateTime',
      description: 'When it was last updated.',
      resolve: detail('updatedAt', (record) => record.updatedAt),
    }),
    associations: t.field({
      type: RecordAssociationConnectionRef,
      description: "This record's associations with records you can see, each seen from this record, oldest first.",
      args: {
        ...pageArgs(t.arg),
        labelKey: t.arg.string({ description: 'Only associations under this label.' }),
        objectKey: t.arg.string({ description: 'Only associations with records of this object.' }),
      },
      resolve: (record, args, ctx) => recordAssociations(ctx, record, args),
    }),
    associationGroups: t.field({
      type: [AssociationGroupRef],
      description: "Related records grouped by the role they play (the record page's Associations panel).",
      args: { objectKey: t.arg.string({ description: 'Only groups of records of this object.' }) },
      resolve: (record, args, ctx) => associationGroups(ctx, record, args.objectKey),
    }),
    limitUsage: t.field({
      type: [LimitUsageRef],
      description:
        'What this record may still take: its contact↔contact associations if it is a contact, and each own limit per ' +
        'direction of a label on its side. Counts only associations with records you can see.',
      resolve: (record, _args, ctx) => recordUsage(ctx, record),
    }),
    associationEvents: t.field({
      type: AssociationEventConnectionRef,
      description: 'History of links and unlinks of this record, newest first.',
      args: pageArgs(t.arg),
      resolve: (record, args, ctx) => associationEvents(ctx, record.id, args),
    }),
  }),
});

export const RecordConnectionRef = connectionType<AnyRecord>('Record', RecordRef);

export interface RecordAssociationEdge extends Edge<AssociationShape> {
  relatedRecord: AnyRecord;
  relatedRole: string;
}

const RecordAssociationConnectionRef = connectionType<AssociationShape, RecordAssociationEdge>(
  'RecordAssociation',
  AssociationRef,
  {
    edgeDescription: 'An association of the record, with the record on its other side and the role that record plays.',
    edgeFields: (t) => ({
      relatedRecord: t.field({
        type: RecordRef,
        description: 'The record on the other side.',
        resolve: (edge) => edge.relatedRecord,
      }),
      relatedRole: t.string({
        description: 'The name of the related record’s role, e.g. "Employee" on the manager’s page.',
        resolve: (edge) => edge.relatedRole,
      }),
    }),
  },
);

/** The role name of the record on the other side of a row. */
export const relatedRole = (label: AssociationLabel, side: Side) => (side === 1 ? label.secondLabel : label.firstLabel);
const asAssociation = (row: SideRow): AssociationShape =>
  row.side === 1
    ? { id: row.id, labelId: row.labelId, firstRecordId: row.recordId, secondRecordId: row.related.id }
    : { id: row.id, labelId: row.labelId, firstRecordId: row.related.id, secondRecordId: row.recordId };

/** Filters by key name a label or object; an unknown key matches nothing (id -1). */
async function filterIds(ctx: Context, labelKey?: string | null, objectKey?: string | null) {
  const labelId = labelKey == null ? undefined : ((await ctx.loaders.labels()).byKey.get(labelKey)?.id ?? -1);
  const relatedObjectId = objectKey == null ? undefined : ((await ctx.loaders.objects()).byKey.get(objectKey)?.id ?? -1);
  return { labelId, relatedObjectId };
}

async function recordAssociations(
  ctx: Context,
  record: AnyRecord,
  args: PageArgs & { labelKey?: string | null; objectKey?: string | null },
) {
  const page = pageOf(args, ctx);
  const filter = await filterIds(ctx, args.labelKey, args.objectKey);
  const [result, labels] = await Promise.all([
    ctx.loaders.associationPage.load({ recordId: record.id, take: page.take, afterId: page.afterId, ...filter }),
    ctx.loaders.labels(),
  ]);
  const total = () => ctx.loaders.associationTotal.load({ recordId: record.id, ...filter });
  return connectionOf(result.rows, page, ctx, total, (row) => ({
    node: asAssociation(row),
    relatedRecord: row.related,
    relatedRole: relatedRole(labels.byId.get(row.labelId)!, row.side),
  }));
}

interface GroupShape {
  recordId: number;
  label: AssociationLabel;
  /** Undefined for a SINGLE label on one object: the record may be on either side. */
  side: Side | undefined;
  relatedObjectId: number;
  totalCount: number;
}

async function associationGroups(ctx: Context, record: AnyRecord, objectKey?: string | null): Promise<GroupShape[]> {
  const { relatedObjectId } = await filterIds(ctx, null, objectKey);
  const [counts, labels] = await Promise.all([
    ctx.loaders.groupCounts.load({ recordId: record.id, relatedObjectId }),
    ctx.loaders.labels(),
  ]);
  const groups = new Map<string, GroupShape>();
  for (const { labelId, side, count } of counts) {
    const label = labels.byId.get(labelId)!;
    const symmetric = label.type === 'SINGLE' && label.firstObjectId === label.secondObjectId;
    const key = symmetric ? `${labelId}` : `${labelId}:${side}`;
    const group = groups.get(key);
    if (group) group.totalCount += count;
    else {
      groups.set(key, {
        recordId: record.id,
        label,
        side: symmetric ? undefined : side,
        relatedObjectId: side === 1 ? label.secondObjectId : label.firstObjectId,
        totalCount: count,
      });
    }
  }
  return [...groups.values()];
}

const AssociationGroupRef = builder.objectRef<GroupShape>('AssociationGroup').implement({
  description: 'The records related to a record under one label and role.',
  fields: (t) => ({
    label: t.field({ type: AssociationLabelRef, description: 'The label that links them.', resolve: (group) => group.label }),
    relatedRole: t.string({
      description: 'The group heading: the role the related records play, e.g. "Employee".',
      resolve: (group) => relatedRole(group.label, group.side ?? 1),
    }),
    relatedObject: t.field({
      type: ObjectRef,
      description: 'The object of the related records.',
      resolve: (group, _args, ctx) => ctx.loaders.object(group.relatedObjectId),
    }),
    totalCount: t.exposeInt('totalCount', { description: 'How many related records the group holds (records you can see).' }),
    records: t.field({
      type: RecordConnectionRef,
      description: 'The related records, in the order they were linked.',
      args: pageArgs(t.arg),
      resolve: async (group, args, ctx) => {
        const page = pageOf(args, ctx);
        const result = await ctx.loaders.associationPage.load({
          recordId: group.recordId,
          take: page.take,
          afterId: page.afterId,
          labelId: group.label.id,
          side: group.side,
        });
        return connectionOf(result.rows, page, ctx, group.totalCount, (row) => ({ node: row.related }));
      },
    }),
  }),
});

export const AssociatedWithFilterInput = builder.inputType('AssociatedWithFilter', {
  description: 'Records linked to a given record.',
  fields: (t) => ({
    recordId: t.id({ required: true, description: 'The record they are linked to; one you cannot see matches nothing.' }),
    labelKey: t.string({ description: 'Only records linked under this label.' }),
  }),
});

export const RecordFilterInput = builder.inputType('RecordFilter', {
  description: 'Which records a list shows; given together, both filters apply.',
  fields: (t) => ({
    search: t.string({ description: 'Text that the display name, email or phone contains, ignoring case.' }),
    associatedWith: t.field({ type: AssociatedWithFilterInput, description: 'Records linked to a given record.' }),
  }),
});

type RecordFilter = { search?: string | null; associatedWith?: { recordId: string; labelKey?: string | null } | null };

async function recordListFilter(ctx: Context, objectId: number, filter?: RecordFilter | null): Promise<RecordListFilter> {
  const search = filter?.search?.trim().toLowerCase() || undefined;
  if (!filter?.associatedWith) return { objectId, search };
  const { labelId } = await filterIds(ctx, filter.associatedWith.labelKey);
  return { objectId, search, associatedWith: { recordId: idOf('Record', filter.associatedWith.recordId) ?? -1, labelId } };
}

/** A page of an object's records visible to the viewer, in creation order. */
export async function recordConnection(ctx: Context, objectId: number, args: PageArgs & { filter?: RecordFilter | null }) {
  const page = pageOf(args, ctx);
  const filter = await recordListFilter(ctx, objectId, args.filter);
  const rows = await ctx.loaders.recordList(filter, page.afterId, page.take);
  return connectionOf(rows, page, ctx, () => ctx.loaders.recordCount(filter), (row) => ({ node: row }));
}

const EMPTY_CONNECTION = {
  edges: [],
  pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  totalCount: 0,
};

builder.queryFields((t) => ({
  record: t.field({
    type: RecordRef,
    nullable: true,
    description: 'A record by id; null when it does not exist or is not visible to you.',
    args: { id: t.arg.id({ required: true, description: 'The id of the record.' }) },
    resolve: (_root, args, ctx) => {
      const id = idOf('Record', args.id);
      return id === null ? null : ctx.loaders.record.load(id);
    },
  }),
  recordByUniqueValue: t.field({
    type: RecordRef,
    nullable: true,
    description:
      "A record by the value of its object's unique field (emails compared without case, numbers by value); null when the " +
      'object is unknown or has no unique field, or no record you can see has that value.',
    args: {
      objectKey: t.arg.string({ required: true, description: 'The object, by key (e.g. `contact`).' }),
      value: t.arg.string({ required: true, description: 'The value of its unique field (a number as text).' }),
    },
    resolve: async (_root, args, ctx) => {
      const object = (await ctx.loaders.objects()).byKey.get(args.objectKey);
      const field = object && uniqueFieldOf(await ctx.loaders.fields.load(object.id));
      const value = field ? lookupValue(field.type, args.value) : null;
      return object && value !== null ? visibleRecordByUniqueValue(ctx.viewer, object.id, value) : null;
    },
  }),
  records: t.field({
    type: RecordConnectionRef,
    description: 'The records of an object that you can see, in creation order; empty for an unknown object.',
    args: {
      objectKey: t.arg.string({ required: true, description: 'The object, by key (e.g. `contact`).' }),
      ...pageArgs(t.arg),
      filter: t.arg({ type: RecordFilterInput, description: 'Only the records that match.' }),
    },
    resolve: async (_root, args, ctx) => {
      const object = (await ctx.loaders.objects()).byKey.get(args.objectKey);
      if (!object) {
        pageOf(args, ctx); // bad arguments are reported even for an unknown object
        return EMPTY_CONNECTION;
      }
      return recordConnection(ctx, object.id, args);
    },
  }),
}));

const CreateRecordInput = builder.inputType('CreateRecordInput', {
  description: 'A new record.',
  fields: (t) => ({
    objectKey: t.string({ required: true, description: 'Its object, by key (e.g. `contact`).' }),
    properties: t.field({
      type: 'JSONObject',
      required: true,
      description:
        "Its values by field key, checked against the object's fields (no unknown keys, the right types, every required one); " +
        'at most 64 KiB as JSON and 5 levels deep by default.',
    }),
    ownerId: t.id({
      description: 'The user it is assigned to. Omitted: nobody, or you when your access to the object is ASSIGNED.',
    }),
  }),
});
const UpdateRecordInput = builder.inputType('UpdateRecordInput', {
  description: 'Changes to a record; what is left out stays as it is.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The record to change.' }),
    properties: t.field({ type: 'JSONObject', description: 'Merged into the record; a null removes a property.' }),
    ownerId: t.id({ description: 'A user id, or null to unassign.' }),
  }),
});
const DeleteRecordInput = builder.inputType('DeleteRecordInput', {
  description: 'The record to delete.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The id of the record.' }) }),
});

const recordSuccess = (name: string, description: string) =>
  builder.objectRef<RecordRow>(name).implement({
    description,
    fields: (t) => ({ record: t.field({ type: RecordRef, description: 'The record as it is now.', resolve: (record) => record }) }),
  });

const DeleteRecordSuccess = builder
  .objectRef<{ record: RecordRow; removedAssociations: number }>('DeleteRecordSuccess')
  .implement({
    description: 'The record and its associations were deleted.',
    fields: (t) => ({
      deletedId: t.id({ description: 'The id the record had.', resolve: ({ record }) => encodeGlobalId('Record', record.id) }),
      removedAssociations: t.exposeInt('removedAssociations', {
        description: 'Associations removed with it, counting those with records you can see.',
      }),
    }),
  });

/** An optional id argument: omitted stays undefined, null stays null, anything else is decoded. */
const optionalId = (type: 'User', value: string | null | undefined) =>
  value === undefined ? undefined : value === null ? null : (idOf(type, value) ?? -1);

builder.mutationFields((t) => ({
  createRecord: t.field({
    description:
      'Creates a record of an object. Errors: VALIDATION (properties), NOT_FOUND (objectKey or ownerId), ' +
      'FORBIDDEN (no access to the object, or another owner than you under ASSIGNED access), ' +
      "CONFLICT (another record has its unique field's value).",
    type: recordSuccess('CreateRecordSuccess', 'The record was created.'),
    errors: resultUnion('createRecord'),
    args: { input: t.arg({ type: CreateRecordInput, required: true, description: 'The record to create.' }) },
    resolve: (_root, { input }, ctx) =>
      createRecord(ctx.viewer, { ...input, ownerId: optionalId('User', input.ownerId) }),
  }),
  updateRecord: t.field({
    description:
      "Changes a record's properties (merged) or owner. Errors: VALIDATION (properties), NOT_FOUND (id or ownerId), " +
      "FORBIDDEN (another owner than you, or none, under ASSIGNED access), CONFLICT (another record has its unique field's value).",
    type: recordSuccess('UpdateRecordSuccess', 'The record was changed.'),
    errors: resultUnion('updateRecord'),
    args: { input: t.arg({ type: UpdateRecordInput, required: true, description: 'The record and its changes.' }) },
    resolve: (_root, { input }, ctx) =>
      updateRecord(ctx.viewer, { ...input, id: idOf('Record', input.id), ownerId: optionalId('User', input.ownerId) }),
  }),
  deleteRecord: t.field({
    description:
      'Deletes a record and all its associations (both sides), in one transaction; each removal is logged as an UNLINKED event. ' +
      'Errors: VALIDATION, NOT_FOUND (id).',
    type: DeleteRecordSuccess,
    errors: resultUnion('deleteRecord'),
    args: { input: t.arg({ type: DeleteRecordInput, required: true, description: 'The record to delete.' }) },
    resolve: (_root, { input }, ctx) => deleteRecord(ctx.viewer, idOf('Record', input.id)),
  }),
}));
