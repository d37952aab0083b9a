import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A date-time string at UTC, such as 2007-12-03T10:15:30Z, compliant with the `date-time` format outlined in section 5.6 of the RFC 3339 profile of the ISO 8601 standard for representation of dates and times using the Gregorian calendar. */
  DateTime: { input: string; output: string; }
  /** The `JSONObject` scalar type represents JSON objects as specified by [ECMA-404](http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf). */
  JSONObject: { input: { [key: string]: unknown }; output: { [key: string]: unknown }; }
  /** A file, sent as a part of a GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec): a multipart/form-data POST with the fields operations, map and the file. Input only. */
  Upload: { input: any; output: any; }
};

/** Records linked to a given record. */
export type AssociatedWithFilter = {
  /** Only records linked under this label. */
  labelKey?: InputMaybe<Scalars['String']['input']>;
  /** The record they are linked to; one you cannot see matches nothing. */
  recordId: Scalars['ID']['input'];
};

/** What happened to an association. */
export type AssociationAction =
  /** The records were linked. */
  | 'LINKED'
  /** The records were unlinked: by an unlink, the deletion of a record, or a forced label deletion. */
  | 'UNLINKED';

/** SINGLE: one name for both sides ("Colleague"). PAIR: one name per side ("Manager"/"Employee"). */
export type AssociationLabelType =
  /** One name per side, e.g. "Manager" (first) and "Employee" (second). */
  | 'PAIR'
  /** One name for both sides, e.g. "Colleague"; within one object, A–B and B–A are the same association. */
  | 'SINGLE';

/** Several links, made in order in one transaction. */
export type BatchLinkRecordsInput = {
  /** 1 to 100 items. */
  links: Array<LinkRecordsInput>;
};

/** Several unlinks, made in order in one transaction. */
export type BatchUnlinkRecordsInput = {
  /** 1 to 100 items. */
  unlinks: Array<UnlinkRecordsInput>;
};

/** How many partners a record may have under a label; chosen at creation, immutable. */
export type Cardinality =
  /** Any number of partners on each side, within the limits (the default). */
  | 'MANY_TO_MANY'
  /** Each first-side record has at most one second-side record under the label. */
  | 'MANY_TO_ONE'
  /** At most one partner per record on each side. */
  | 'ONE_TO_ONE';

/** A new API key for a user. */
export type CreateApiKeyInput = {
  /** A name to tell keys apart, 1 to 200 characters (trimmed). */
  name: Scalars['String']['input'];
  /** The user the key acts as. */
  userId: Scalars['ID']['input'];
};

/** A new label between two objects. */
export type CreateAssociationLabelInput = {
  /** Default MANY_TO_MANY. Immutable. A SINGLE label within one object cannot be MANY_TO_ONE. */
  cardinality?: InputMaybe<Cardinality>;
  /** The role of the record on the first side, 1 to 100 characters (trimmed). */
  firstLabel: Scalars['String']['input'];
  /** The object of the records on the first side. */
  firstObjectKey: Scalars['String']['input'];
  /** The internal name (^[a-z][a-z0-9_]{0,63}$), unique in the workspace and immutable; derived from the names when left out. */
  key?: InputMaybe<Scalars['String']['input']>;
  /** The role of the record on the second side, 1 to 100 characters: required for PAIR; SINGLE labels use firstLabel for both sides. */
  secondLabel?: InputMaybe<Scalars['String']['input']>;
  /** The object of the records on the second side (may be the same). */
  secondObjectKey: Scalars['String']['input'];
  /** SINGLE or PAIR; immutable. */
  type: AssociationLabelType;
};

/** A new custom object. */
export type CreateObjectInput = {
  /** Its fields, in order; one of them is the primary property. */
  fields: Array<FieldInput>;
  /** `custom_objects.<snake_name>` (the prefix may be left out). */
  key: Scalars['String']['input'];
  /** The name of several records, 1 to 200 characters (trimmed). */
  pluralName: Scalars['String']['input'];
  /** The key of one of the fields. */
  primaryProperty: Scalars['String']['input'];
  /** The name of one record, 1 to 200 characters (trimmed). */
  singularName: Scalars['String']['input'];
};

/** A new record. */
export type CreateRecordInput = {
  /** Its object, by key (e.g. `contact`). */
  objectKey: Scalars['String']['input'];
  /** The user it is assigned to. Omitted: nobody, or you when your access to the object is ASSIGNED. */
  ownerId?: InputMaybe<Scalars['ID']['input']>;
  /** Its values by field key, checked against the object's fields (no unknown keys, the right types, every required one); at most 64 KiB as JSON and 5 levels deep by default. */
  properties: Scalars['JSONObject']['input'];
};

/** A new user of the workspace. */
export type CreateUserInput = {
  /** An email address not yet used in the workspace (stored lower-cased). */
  email: Scalars['String']['input'];
  /** 1 to 200 characters (trimmed). */
  name: Scalars['String']['input'];
  /** Default USER. */
  role?: InputMaybe<Role>;
};

/** A new webhook endpoint. */
export type CreateWebhookEndpointInput = {
  /** What the endpoint is for, at most 500 characters. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** The event types to receive (association.linked, association.unlinked, label.created, label.updated, label.deleted, record.deleted); empty or left out: every type. */
  eventTypes?: InputMaybe<Array<Scalars['String']['input']>>;
  /** An https URL (at most 2000 characters, no credentials) whose host resolves only to public addresses; plain http and private addresses only when the server allows them (RELATE_WEBHOOK_ALLOW_PRIVATE). */
  url: Scalars['String']['input'];
};

/** The label to delete. */
export type DeleteAssociationLabelInput = {
  /** Also remove its associations (each logged), in one transaction. Default false. */
  force?: InputMaybe<Scalars['Boolean']['input']>;
  /** The id of the label. */
  id: Scalars['ID']['input'];
};

/** The custom object to delete. */
export type DeleteObjectInput = {
  /** The id of the object. */
  id: Scalars['ID']['input'];
};

/** The record to delete. */
export type DeleteRecordInput = {
  /** The id of the record. */
  id: Scalars['ID']['input'];
};

/** The webhook endpoint to delete. */
export type DeleteWebhookEndpointInput = {
  /** The id of the endpoint. */
  id: Scalars['ID']['input'];
};

/** What kind of expected failure an error is. */
export type ErrorCode =
  /** The change clashes with existing data: a taken key, email or unique value, an object still in use (ConflictError), duplicates that keep a field from becoming unique (DuplicateValuesError). */
  | 'CONFLICT'
  /** Your role or record access does not allow it (ForbiddenError). */
  | 'FORBIDDEN'
  /** The label still has associations (LabelInUseError). */
  | 'LABEL_IN_USE'
  /** The change would go over an association limit or a cardinality (LimitExceededError). */
  | 'LIMIT_EXCEEDED'
  /** Something the input names does not exist or is not visible to you (NotFoundError). */
  | 'NOT_FOUND'
  /** The records are not of the label's objects (ObjectMismatchError). */
  | 'OBJECT_MISMATCH'
  /** The input breaks a rule: a format, a range, a length, a required value (ValidationError). */
  | 'VALIDATION';

/** A field of an object. */
export type FieldInput = {
  /** Matches ^[a-zA-Z][a-zA-Z0-9_]{0,63}$ and is unique in the object. */
  key: Scalars['String']['input'];
  /** The name shown to people, 1 to 200 characters (trimmed). */
  name: Scalars['String']['input'];
  /** Default false. A field added later to `contact` or to an object that has records cannot be required. */
  required?: InputMaybe<Scalars['Boolean']['input']>;
  /** What its values must be. */
  type: FieldType;
  /** Default false. True makes it the object's unique field: at most one per object, not BOOLEAN, values of at most 255 characters. */
  unique?: InputMaybe<Scalars['Boolean']['input']>;
};

/** The type of a field: what its values in a record's properties must be. */
export type FieldType =
  /** True or false. */
  | 'BOOLEAN'
  /** A string with a real calendar date, YYYY-MM-DD, or an ISO 8601 date-time. */
  | 'DATE'
  /** A string with an email address. */
  | 'EMAIL'
  /** A number. */
  | 'NUMBER'
  /** A string of 3 to 32 digits, spaces and ( ) - . characters, optionally after a leading +. */
  | 'PHONE'
  /** A string of at most 10,000 characters. */
  | 'TEXT'
  /** A string with an http or https URL. */
  | 'URL';

/** A CSV file of associations to import, and how. */
export type ImportAssociationsInput = {
  /** Decide every row and write nothing (default false). */
  dryRun?: InputMaybe<Scalars['Boolean']['input']>;
  /** The CSV file: a header row naming its columns among firstRecordId,secondRecordId,labelKeys,firstObjectKey,firstUnique,secondObjectKey,secondUnique (each record by its id, or by object key and unique value; labelKeys separated by ;), then one row per link. */
  file: Scalars['Upload']['input'];
  /** ABORT (default): nothing written if any row is rejected; SKIP: write the good rows. */
  onError?: InputMaybe<ImportErrorMode>;
};

/** What an import does with rows it rejects. */
export type ImportErrorMode =
  /** Write nothing if any row is rejected (the whole file is one transaction). The default. */
  | 'ABORT'
  /** Write the good rows, batch by batch, and list the rejected ones. */
  | 'SKIP';

/** Where an import job stands. */
export type ImportJobStatus =
  /** Ended without importing the file: a bad file, rows rejected under ABORT, or the server stopped. `failure` says why and what was written. */
  | 'FAILED'
  /** Received; waiting for the import before it on the same server to end. */
  | 'QUEUED'
  /** Reading and deciding rows; the counts grow as it goes. */
  | 'RUNNING'
  /** Ran to its end: the good rows are written (SKIP), every row is (ABORT), or nothing is and the counts say what would be (dry run). */
  | 'SUCCEEDED';

/** Two records and the labels to link them under. */
export type LinkRecordsInput = {
  /** One of the two records. For a label between two different objects the ids may come in either order; for a PAIR label within one object this one takes the first side. */
  firstRecordId: Scalars['ID']['input'];
  /** One or more label keys (at most 10). */
  labelKeys: Array<Scalars['String']['input']>;
  /** The other record; not the same as firstRecordId. */
  secondRecordId: Scalars['ID']['input'];
};

/** Which records of an object a USER sees: ALL, ASSIGNED (only records the user owns) or NONE. */
export type RecordAccess =
  /** Every record of the object (the default). */
  | 'ALL'
  /** Only records the user owns; records it creates are its own. */
  | 'ASSIGNED'
  /** No record of the object. */
  | 'NONE';

/** Which records a list shows; given together, both filters apply. */
export type RecordFilter = {
  /** Records linked to a given record. */
  associatedWith?: InputMaybe<AssociatedWithFilter>;
  /** Text that the display name, email or phone contains, ignoring case. */
  search?: InputMaybe<Scalars['String']['input']>;
};

/** The delivery to send again. */
export type RedeliverWebhookInput = {
  /** The id of the delivery (WebhookDelivery.id). */
  deliveryId: Scalars['ID']['input'];
};

/** The API key to revoke. */
export type RevokeApiKeyInput = {
  /** The id of an active key (ApiKey.id). */
  id: Scalars['ID']['input'];
};

/** What a user may do in its workspace. */
export type Role =
  /** Sees every record, and alone manages objects, labels, limits, users, API keys and permissions. */
  | 'ADMIN'
  /** Reads and writes records and links them, within the record access of its object permissions. */
  | 'USER';

/** A user's access to one object's records. */
export type SetObjectPermissionInput = {
  /** The access to give; ALL lifts a restriction. */
  access: RecordAccess;
  /** The object, by key (e.g. `contact`). */
  objectKey: Scalars['String']['input'];
  /** The user. */
  userId: Scalars['ID']['input'];
};

/** Two records and the labels to unlink them from. */
export type UnlinkRecordsInput = {
  /** One of the two records. For a label between two different objects the ids may come in either order; for a PAIR label within one object this one takes the first side. */
  firstRecordId: Scalars['ID']['input'];
  /** At most 10 label keys. Omitted: every label between the two records, in both directions. */
  labelKeys?: InputMaybe<Array<Scalars['String']['input']>>;
  /** The other record; not the same as firstRecordId. */
  secondRecordId: Scalars['ID']['input'];
};

/** Changes to a label; what is left out stays as it is. */
export type UpdateAssociationLabelInput = {
  /** A new role name for the first side, 1 to 100 characters; for a SINGLE label, renames both sides. */
  firstLabel?: InputMaybe<Scalars['String']['input']>;
  /** The label to change. */
  id: Scalars['ID']['input'];
  /** First-side records one second-side record may be linked to: 1 to the workspace's maxRecordsPerLabel; null clears it. Not for ONE_TO_ONE labels. For a SINGLE label on one object, the same limit as maxSecondPerFirst. */
  maxFirstPerSecond?: InputMaybe<Scalars['Int']['input']>;
  /** Second-side records one first-side record may be linked to: 1 to the workspace's maxRecordsPerLabel; null clears it. Not for MANY_TO_ONE and ONE_TO_ONE labels, whose cardinality fixes it to 1. */
  maxSecondPerFirst?: InputMaybe<Scalars['Int']['input']>;
  /** A new role name for the second side, 1 to 100 characters; for a SINGLE label, renames both sides. */
  secondLabel?: InputMaybe<Scalars['String']['input']>;
};

/** New workspace limits, each a whole number from 0 to 1,000,000; a limit left out or null keeps its value. */
export type UpdateAssociationLimitsInput = {
  /** Contact↔contact associations one contact takes part in. */
  maxAssociationsPerContact?: InputMaybe<Scalars['Int']['input']>;
  /** Labels between the same two objects, in either order. */
  maxLabelsPerObjectPair?: InputMaybe<Scalars['Int']['input']>;
  /** Distinct records linked by one label, both sides counted. */
  maxRecordsPerLabel?: InputMaybe<Scalars['Int']['input']>;
};

/** Changes to an object; what is left out stays as it is. */
export type UpdateObjectInput = {
  /** Fields to add after the existing ones, with new keys. */
  addFields?: InputMaybe<Array<FieldInput>>;
  /** The object to change. */
  id: Scalars['ID']['input'];
  /** A new name of several records, 1 to 200 characters (trimmed). */
  pluralName?: InputMaybe<Scalars['String']['input']>;
  /** A new name of one record, 1 to 200 characters (trimmed). */
  singularName?: InputMaybe<Scalars['String']['input']>;
  /** The key of an existing field to make the object's unique field (e.g. `email` of `contact`), when the object has none and no two records share a value of it. */
  uniqueField?: InputMaybe<Scalars['String']['input']>;
};

/** Changes to a record; what is left out stays as it is. */
export type UpdateRecordInput = {
  /** The record to change. */
  id: Scalars['ID']['input'];
  /** A user id, or null to unassign. */
  ownerId?: InputMaybe<Scalars['ID']['input']>;
  /** Merged into the record; a null removes a property. */
  properties?: InputMaybe<Scalars['JSONObject']['input']>;
};

/** Changes to a webhook endpoint; what is left out stays as it is. */
export type UpdateWebhookEndpointInput = {
  /** A new description; null clears it. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** False pauses it: nothing is posted to it until it is enabled again. */
  enabled?: InputMaybe<Scalars['Boolean']['input']>;
  /** The event types to receive from now on; empty: every type. */
  eventTypes?: InputMaybe<Array<Scalars['String']['input']>>;
  /** The endpoint to change. */
  id: Scalars['ID']['input'];
  /** A new URL, under the same rules as at creation. */
  url?: InputMaybe<Scalars['String']['input']>;
};

/** Where a delivery stands. */
export type WebhookDeliveryStatus =
  /** Every attempt of the retry schedule failed; redeliverWebhook sends it again. */
  | 'FAILED'
  /** Not delivered yet: waiting for its first attempt or for a retry. */
  | 'PENDING'
  /** The endpoint answered 2xx. */
  | 'SUCCEEDED';

export type FindContactsQueryVariables = Exact<{
  search: Scalars['String']['input'];
}>;


export type FindContactsQuery = { __typename?: 'Query', records: { __typename?: 'RecordConnection', edges: Array<{ __typename?: 'RecordEdge', node: { __typename?: 'Record', id: string, displayName: string } }> } };

export type BatchLinkMutationVariables = Exact<{
  links: Array<LinkRecordsInput> | LinkRecordsInput;
}>;


export type BatchLinkMutation = { __typename?: 'Mutation', batchLinkRecords: { __typename: 'BatchLinkRecordsSuccess', createdCount: number, associations: Array<{ __typename?: 'Association', id: string }> } | { __typename: 'ConflictError', code: ErrorCode, message: string } | { __typename: 'ForbiddenError', code: ErrorCode, message: string } | { __typename: 'LabelInUseError', code: ErrorCode, message: string } | { __typename: 'LimitExceededError', code: ErrorCode, message: string, index?: number | null, limit: string, max: number, current: number } | { __typename: 'NotFoundError', code: ErrorCode, message: string, index?: number | null } | { __typename: 'ObjectMismatchError', code: ErrorCode, message: string, index?: number | null } | { __typename: 'ValidationError', code: ErrorCode, message: string, index?: number | null, field?: string | null } };


export const FindContactsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"FindContacts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"search"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"records"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"objectKey"},"value":{"kind":"StringValue","value":"contact","block":false}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"100"}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"search"},"value":{"kind":"Variable","name":{"kind":"Name","value":"search"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}}]}}]}}]}}]}}]} as unknown as DocumentNode<FindContactsQuery, FindContactsQueryVariables>;
export const BatchLinkDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"BatchLink"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"links"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"LinkRecordsInput"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"batchLinkRecords"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"links"},"value":{"kind":"Variable","name":{"kind":"Name","value":"links"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"BatchLinkRecordsSuccess"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createdCount"}},{"kind":"Field","name":{"kind":"Name","value":"associations"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ValidationError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"index"}},{"kind":"Field","name":{"kind":"Name","value":"field"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"NotFoundError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"index"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"LimitExceededError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"index"}},{"kind":"Field","name":{"kind":"Name","value":"limit"}},{"kind":"Field","name":{"kind":"Name","value":"max"}},{"kind":"Field","name":{"kind":"Name","value":"current"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ObjectMismatchError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"index"}}]}}]}}]}}]} as unknown as DocumentNode<BatchLinkMutation, BatchLinkMutationVariables>;