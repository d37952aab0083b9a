import type { Field, ObjectModel } from '../db/generated/sqlite/client.js';
import { encodeGlobalId } from '../services/ids.js';
import { createObject, deleteObject, updateObject } from '../services/objects.js';
import { builder } from './builder.js';
import { pageArgs } from './connection.js';
import { resultUnion } from './errors.js';
import { idOf, nodeId } from './ids.js';
import { labelsBetween } from './association-label.js';
import { AssociationLabelRef, ObjectRef } from './refs.js';
import { RecordConnectionRef, RecordFilterInput, recordConnection } from './record.js';

export const FieldTypeEnum = builder.enumType('FieldType', {
  values: ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'EMAIL', 'PHONE', 'URL'] as const,
});

const FieldRef = builder.objectRef<Field>('Field').implement({
  description: 'A typed property of an object’s records.',
  fields: (t) => ({
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    type: t.field({ type: FieldTypeEnum, resolve: (field) => field.type }),
    required: t.exposeBoolean('required'),
  }),
});

builder.node(ObjectRef, {
  description: 'A record type: the standard `contact`, or a custom object `custom_objects.<name>`.',
  id: { resolve: (object) => object.id },
  loadManyWithoutCache: async (ids, ctx) => {
    const objects = await ctx.loaders.objects();
    return ids.map((id) => objects.byId.get(nodeId(id)) ?? null);
  },
  fields: (t) => ({
    key: t.exposeString('key'),
    singularName: t.exposeString('singularName'),
    pluralName: t.exposeString('pluralName'),
    standard: t.exposeBoolean('standard'),
    primaryProperty: t.exposeString('primaryProperty', { description: 'The property that gives records their display name.' }),
    fields: t.field({ type: [FieldRef], resolve: (object, _args, ctx) => ctx.loaders.fields.load(object.id) }),
    records: t.field({
      type: RecordConnectionRef,
      args: { ...pageArgs(t.arg), filter: t.arg({ type: RecordFilterInput }) },
      resolve: (object, args, ctx) => recordConnection(ctx, object.id, args),
    }),
    associationLabels: t.field({
      type: [AssociationLabelRef],
      description: 'Labels that link this object (to `otherObjectKey` only, when given).',
      args: { otherObjectKey: t.arg.string() },
      resolve: (object, args, ctx) => labelsBetween(ctx, object.key, args.otherObjectKey),
    }),
  }),
});

builder.queryFields((t) => ({
  objects: t.field({
    type: [ObjectRef],
    resolve: async (_root, _args, ctx) => (await ctx.loaders.objects()).list,
  }),
  object: t.field({
    type: ObjectRef,
    nullable: true,
    args: { key: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => (await ctx.loaders.objects()).byKey.get(args.key) ?? null,
  }),
}));

const FieldInput = builder.inputType('FieldInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    name: t.string({ required: true }),
    type: t.field({ type: FieldTypeEnum, required: true }),
    required: t.boolean(),
  }),
});

const CreateObjectInput = builder.inputType('CreateObjectInput', {
  fields: (t) => ({
    key: t.string({ required: true, description: '`custom_objects.<snake_name>` (the prefix may be left out).' }),
    singularName: t.string({ required: true }),
    pluralName: t.string({ required: true }),
    primaryProperty: t.string({ required: true, description: 'The key of one of the fields.' }),
    fields: t.field({ type: [FieldInput], required: true }),
  }),
});

const UpdateObjectInput = builder.inputType('UpdateObjectInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    singularName: t.string(),
    pluralName: t.string(),
    addFields: t.field({ type: [FieldInput] }),
  }),
});

const DeleteObjectInput = builder.inputType('DeleteObjectInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

const objectSuccess = (name: string) =>
  builder.objectRef<ObjectModel>(name).implement({
    fields: (t) => ({ object: t.field({ type: ObjectRef, resolve: (object) => object }) }),
  });

const DeleteObjectSuccess = builder.objectRef<ObjectModel>('DeleteObjectSuccess').implement({
  fields: (t) => ({ deletedId: t.id({ resolve: (object) => encodeGlobalId('Object', object.id) }) }),
});

builder.mutationFields((t) => ({
  createObject: t.field({
    description: 'Creates a custom object (admin only).',
    type: objectSuccess('CreateObjectSuccess'),
    errors: resultUnion('createObject'),
    args: { input: t.arg({ type: CreateObjectInput, required: true }) },
    resolve: (_root, { input }, ctx) => createObject(ctx.viewer, input),
  }),
  updateObject: t.field({
    description: 'Renames an object or adds fields (admin only).',
    type: objectSuccess('UpdateObjectSuccess'),
    errors: resultUnion('updateObject'),
    args: { input: t.arg({ type: UpdateObjectInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateObject(ctx.viewer, { ...input, id: idOf('Object', input.id) }),
  }),
  deleteObject: t.field({
    description: 'Deletes a custom object without records or labels (admin only). `contact` cannot be deleted.',
    type: DeleteObjectSuccess,
    errors: resultUnion('deleteObject'),
    args: { input: t.arg({ type: DeleteObjectInput, required: true }) },
    resolve: (_root, { input }, ctx) => deleteObject(ctx.viewer, idOf('Object', input.id)),
  }),
}));
