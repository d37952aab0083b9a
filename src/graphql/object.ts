import type { Field, ObjectModel } from '../db/generated/sqlite/client.js';
import { encodeGlobalId } from '../services/ids.js';
import { DuplicateValuesError } from '../services/errors.js';
import { createObject, deleteObject, updateObject } from '../services/objects.js';
import { builder } from './builder.js';
import { pageArgs } from './connection.js';
import { resultUnion } from './errors.js';
import { idOf, nodeId } from './ids.js';
import { labelsBetween } from './association-label.js';
import { AssociationLabelRef, ObjectRef } from './refs.js';
import { RecordConnectionRef, RecordFilterInput, recordConnection } from './record.js';

export const FieldTypeEnum = builder.enumType('FieldType', {
  description: "The type of a field: what its values in a record's properties must be.",
  values: {
    TEXT: { description: 'A string of at most 10,000 characters.' },
    NUMBER: { description: 'A number.' },
    BOOLEAN: { description: 'True or false.' },
    DATE: { description: 'A string with a real calendar date, YYYY-MM-DD, or an ISO 8601 date-time.' },
    EMAIL: { description: 'A string with an email address.' },
    PHONE: { description: 'A string of 3 to 32 digits, spaces and ( ) - . characters, optionally after a leading +.' },
    URL: { description: 'A string with an http or https URL.' },
  } as const,
});

const FieldRef = builder.objectRef<Field>('Field').implement({
  description: 'A typed property of an object’s records.',
  fields: (t) => ({
    key: t.exposeString('key', { description: "The property's key in a record's properties; immutable." }),
    name: t.exposeString('name', { description: 'The name shown to people.' }),
    type: t.field({ type: FieldTypeEnum, description: 'What its values must be.', resolve: (field) => field.type }),
    required: t.exposeBoolean('required', { description: 'True when every record must have a value (not an empty string).' }),
    unique: t.exposeBoolean('unique', {
      description:
        "True for the object's unique field (at most one): no two of its records share a value (emails compared without case), " +
        'and `recordByUniqueValue` finds a record by it.',
    }),
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
    key: t.exposeString('key', { description: 'The immutable key: `contact`, or `custom_objects.<snake_name>`.' }),
    singularName: t.exposeString('singularName', { description: 'The name of one record, e.g. "Car".' }),
    pluralName: t.exposeString('pluralName', { description: 'The name of several records, e.g. "Cars".' }),
    standard: t.exposeBoolean('standard', { description: 'True for the standard `contact` object, which cannot be deleted.' }),
    primaryProperty: t.exposeString('primaryProperty', {
      description: 'The property that gives records their display name (contacts: first and last name, else email).',
    }),
    fields: t.field({
      type: [FieldRef],
      description: "The fields of its records' properties, in the order they were added.",
      resolve: (object, _args, ctx) => ctx.loaders.fields.load(object.id),
    }),
    records: t.field({
      type: RecordConnectionRef,
      description: 'Its records that you can see, in creation order.',
      args: { ...pageArgs(t.arg), filter: t.arg({ type: RecordFilterInput, description: 'Only the records that match.' }) },
      resolve: (object, args, ctx) => recordConnection(ctx, object.id, args),
    }),
    associationLabels: t.field({
      type: [AssociationLabelRef],
      description: 'Labels that link this object (to `otherObjectKey` only, when given), in creation order.',
      args: { otherObjectKey: t.arg.string({ description: 'Only labels between this object and that one.' }) },
      resolve: (object, args, ctx) => labelsBetween(ctx, object.key, args.otherObjectKey),
    }),
  }),
});

builder.queryFields((t) => ({
  objects: t.field({
    type: [ObjectRef],
    description: 'Every object of the workspace, `contact` first, in creation order.',
    resolve: async (_root, _args, ctx) => (await ctx.loaders.objects()).list,
  }),
  object: t.field({
    type: ObjectRef,
    nullable: true,
    description: 'An object by key; null when there is none.',
    args: { key: t.arg.string({ required: true, description: 'The full key: `contact` or `custom_objects.<snake_name>`.' }) },
    resolve: async (_root, args, ctx) => (await ctx.loaders.objects()).byKey.get(args.key) ?? null,
  }),
}));

const FieldInput = builder.inputType('FieldInput', {
  description: 'A field of an object.',
  fields: (t) => ({
    key: t.string({ required: true, description: 'Matches ^[a-zA-Z][a-zA-Z0-9_]{0,63}$ and is unique in the object.' }),
    name: t.string({ required: true, description: 'The name shown to people, 1 to 200 characters (trimmed).' }),
    type: t.field({ type: FieldTypeEnum, required: true, description: 'What its values must be.' }),
    required: t.boolean({
      description: 'Default false. A field added later to `contact` or to an object that has records cannot be required.',
    }),
    unique: t.boolean({
      description:
        "Default false. True makes it the object's unique field: at most one per object, not BOOLEAN, values of at most 255 characters.",
    }),
  }),
});

const CreateObjectInput = builder.inputType('CreateObjectInput', {
  description: 'A new custom object.',
  fields: (t) => ({
    key: t.string({ required: true, description: '`custom_objects.<snake_name>` (the prefix may be left out).' }),
    singularName: t.string({ required: true, description: 'The name of one record, 1 to 200 characters (trimmed).' }),
    pluralName: t.string({ required: true, description: 'The name of several records, 1 to 200 characters (trimmed).' }),
    primaryProperty: t.string({ required: true, description: 'The key of one of the fields.' }),
    fields: t.field({ type: [FieldInput], required: true, description: 'Its fields, in order; one of them is the primary property.' }),
  }),
});

const UpdateObjectInput = builder.inputType('UpdateObjectInput', {
  description: 'Changes to an object; what is left out stays as it is.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The object to change.' }),
    singularName: t.string({ description: 'A new name of one record, 1 to 200 characters (trimmed).' }),
    pluralName: t.string({ description: 'A new name of several records, 1 to 200 characters (trimmed).' }),
    addFields: t.field({ type: [FieldInput], description: 'Fields to add after the existing ones, with new keys.' }),
    uniqueField: t.string({
      description:
        "The key of an existing field to make the object's unique field (e.g. `email` of `contact`), when the object has none " +
        'and no two records share a value of it.',
    }),
  }),
});

const DeleteObjectInput = builder.inputType('DeleteObjectInput', {
  description: 'The custom object to delete.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The id of the object.' }) }),
});

const objectSuccess = (name: string, description: string) =>
  builder.objectRef<ObjectModel>(name).implement({
    description,
    fields: (t) => ({ object: t.field({ type: ObjectRef, description: 'The object as it is now.', resolve: (object) => object }) }),
  });

const DeleteObjectSuccess = builder.objectRef<ObjectModel>('DeleteObjectSuccess').implement({
  description: 'The object was deleted.',
  fields: (t) => ({
    deletedId: t.id({ description: 'The id the object had.', resolve: (object) => encodeGlobalId('Object', object.id) }),
  }),
});

builder.mutationFields((t) => ({
  createObject: t.field({
    description:
      'Creates a custom object (admin only). ' +
      'Errors: FORBIDDEN, VALIDATION (key, names, fields, more than one unique field, or primaryProperty), CONFLICT (the key is taken).',
    type: objectSuccess('CreateObjectSuccess', 'The object was created.'),
    errors: resultUnion('createObject'),
    args: { input: t.arg({ type: CreateObjectInput, required: true, description: 'The object to create.' }) },
    resolve: (_root, { input }, ctx) => createObject(ctx.viewer, input),
  }),
  updateObject: t.field({
    description:
      'Renames an object, adds fields or makes one field unique (admin only); existing fields do not change otherwise. ' +
      'Errors: FORBIDDEN, VALIDATION (names, fields, a second unique field, a value too long to be unique), NOT_FOUND (id), ' +
      'DuplicateValuesError (records share values of uniqueField).',
    type: objectSuccess('UpdateObjectSuccess', 'The object was changed.'),
    errors: resultUnion('updateObject', [DuplicateValuesError]),
    args: { input: t.arg({ type: UpdateObjectInput, required: true, description: 'The object and its changes.' }) },
    resolve: (_root, { input }, ctx) => updateObject(ctx.viewer, { ...input, id: idOf('Object', input.id) }),
  }),
  deleteObject: t.field({
    description:
      'Deletes a custom object without records or labels (admin only). `contact` cannot be deleted. ' +
      'Errors: FORBIDDEN, VALIDATION (the standard object), NOT_FOUND (id), CONFLICT (it still has records or labels).',
    type: DeleteObjectSuccess,
    errors: resultUnion('deleteObject'),
    args: { input: t.arg({ type: DeleteObjectInput, required: true, description: 'The object to delete.' }) },
    resolve: (_root, { input }, ctx) => deleteObject(ctx.viewer, idOf('Object', input.id)),
  }),
}));
