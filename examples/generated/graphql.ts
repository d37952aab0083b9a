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
  /** Integers that will have a value of 0 or more. */
  NonNegativeInt: { input: number; output: number; }
};

export type AssociatedWithFilter = {
  /** Only records linked under this label. */
  labelKey?: InputMaybe<Scalars['String']['input']>;
  recordId: Scalars['ID']['input'];
};

export type AssociationAction =
  | 'LINKED'
  | 'UNLINKED';

/** SINGLE: one name for both sides ("Colleague"). PAIR: one name per side ("Manager"/"Employee"). */
export type AssociationLabelType =
  | 'PAIR'
  | 'SINGLE';

export type BatchLinkRecordsInput = {
  /** 1 to 100 items. */
  links: Array<LinkRecordsInput>;
};

export type BatchUnlinkRecordsInput = {
  /** 1 to 100 items. */
  unlinks: Array<UnlinkRecordsInput>;
};

export type Cardinality =
  /** No limit on partners (the default). */
  | 'MANY_TO_MANY'
  /** Each first-side record has at most one second-side record under the label. */
  | 'MANY_TO_ONE'
  /** At most one partner per record on each side. */
  | 'ONE_TO_ONE';

export type CreateApiKeyInput = {
  name: Scalars['String']['input'];
  userId: Scalars['ID']['input'];
};

export type CreateAssociationLabelInput = {
  /** Default MANY_TO_MANY. Immutable. */
  cardinality?: InputMaybe<Cardinality>;
  firstLabel: Scalars['String']['input'];
  firstObjectKey: Scalars['String']['input'];
  /** The internal name (^[a-z][a-z0-9_]{0,63}$); derived from the names when left out. */
  key?: InputMaybe<Scalars['String']['input']>;
  /** Required for PAIR; SINGLE labels use firstLabel for both sides. */
  secondLabel?: InputMaybe<Scalars['String']['input']>;
  secondObjectKey: Scalars['String']['input'];
  type: AssociationLabelType;
};

export type CreateObjectInput = {
  fields: Array<FieldInput>;
  /** `custom_objects.<snake_name>` (the prefix may be left out). */
  key: Scalars['String']['input'];
  pluralName: Scalars['String']['input'];
  /** The key of one of the fields. */
  primaryProperty: Scalars['String']['input'];
  singularName: Scalars['String']['input'];
};

export type CreateRecordInput = {
  objectKey: Scalars['String']['input'];
  ownerId?: InputMaybe<Scalars['ID']['input']>;
  properties: Scalars['JSONObject']['input'];
};

export type CreateUserInput = {
  email: Scalars['String']['input'];
  name: Scalars['String']['input'];
  /** Default USER. */
  role?: InputMaybe<Role>;
};

export type DeleteAssociationLabelInput = {
  /** Also remove its associations (each logged), in one transaction. */
  force?: InputMaybe<Scalars['Boolean']['input']>;
  id: Scalars['ID']['input'];
};

export type DeleteObjectInput = {
  id: Scalars['ID']['input'];
};

export type DeleteRecordInput = {
  id: Scalars['ID']['input'];
};

/** What kind of expected failure an error is. */
export type ErrorCode =
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'LABEL_IN_USE'
  | 'LIMIT_EXCEEDED'
  | 'NOT_FOUND'
  | 'OBJECT_MISMATCH'
  | 'VALIDATION';

export type FieldInput = {
  key: Scalars['String']['input'];
  name: Scalars['String']['input'];
  required?: InputMaybe<Scalars['Boolean']['input']>;
  type: FieldType;
};

export type FieldType =
  | 'BOOLEAN'
  | 'DATE'
  | 'EMAIL'
  | 'NUMBER'
  | 'PHONE'
  | 'TEXT'
  | 'URL';

export type LinkRecordsInput = {
  firstRecordId: Scalars['ID']['input'];
  /** One or more label keys (at most 10). */
  labelKeys: Array<Scalars['String']['input']>;
  secondRecordId: Scalars['ID']['input'];
};

/** Which records of an object a USER sees: ALL, ASSIGNED (only records the user owns) or NONE. */
export type RecordAccess =
  | 'ALL'
  | 'ASSIGNED'
  | 'NONE';

export type RecordFilter = {
  /** Records linked to a given record. */
  associatedWith?: InputMaybe<AssociatedWithFilter>;
  /** Case-insensitive match on display name, email or phone. */
  search?: InputMaybe<Scalars['String']['input']>;
};

export type RevokeApiKeyInput = {
  id: Scalars['ID']['input'];
};

export type Role =
  | 'ADMIN'
  | 'USER';

export type SetObjectPermissionInput = {
  access: RecordAccess;
  objectKey: Scalars['String']['input'];
  userId: Scalars['ID']['input'];
};

export type UnlinkRecordsInput = {
  firstRecordId: Scalars['ID']['input'];
  /** Omitted: every label between the two records. */
  labelKeys?: InputMaybe<Array<Scalars['String']['input']>>;
  secondRecordId: Scalars['ID']['input'];
};

export type UpdateAssociationLabelInput = {
  /** For a SINGLE label, renames both sides. */
  firstLabel?: InputMaybe<Scalars['String']['input']>;
  id: Scalars['ID']['input'];
  /** First-side records one second-side record may be linked to: 1 to the workspace's maxRecordsPerLabel; null clears it. Not for ONE_TO_ONE labels. For a SINGLE label on one object, the same limit as maxSecondPerFirst. */
  maxFirstPerSecond?: InputMaybe<Scalars['Int']['input']>;
  /** Second-side records one first-side record may be linked to: 1 to the workspace's maxRecordsPerLabel; null clears it. Not for MANY_TO_ONE and ONE_TO_ONE labels, whose cardinality fixes it to 1. */
  maxSecondPerFirst?: InputMaybe<Scalars['Int']['input']>;
  secondLabel?: InputMaybe<Scalars['String']['input']>;
};

export type UpdateAssociationLimitsInput = {
  maxAssociationsPerContact?: InputMaybe<Scalars['Int']['input']>;
  maxLabelsPerObjectPair?: InputMaybe<Scalars['Int']['input']>;
  maxRecordsPerLabel?: InputMaybe<Scalars['Int']['input']>;
};

export type UpdateObjectInput = {
  addFields?: InputMaybe<Array<FieldInput>>;
  id: Scalars['ID']['input'];
  pluralName?: InputMaybe<Scalars['String']['input']>;
  singularName?: InputMaybe<Scalars['String']['input']>;
};

export type UpdateRecordInput = {
  id: Scalars['ID']['input'];
  /** A user id, or null to unassign. */
  ownerId?: InputMaybe<Scalars['ID']['input']>;
  /** Merged into the record; a null removes a property. */
  properties?: InputMaybe<Scalars['JSONObject']['input']>;
};

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