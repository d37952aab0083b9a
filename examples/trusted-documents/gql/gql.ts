/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query FindContact($search: String!) {\n    records(objectKey: \"contact\", first: 1, filter: { search: $search }) {\n      edges { node { id displayName } }\n    }\n  }\n": typeof types.FindContactDocument,
    "\n  query RecordPage($id: ID!) {\n    record(id: $id) {\n      displayName\n      associationGroups {\n        relatedRole\n        totalCount\n        records(first: 10) { edges { node { displayName } } }\n      }\n    }\n  }\n": typeof types.RecordPageDocument,
};
const documents: Documents = {
    "\n  query FindContact($search: String!) {\n    records(objectKey: \"contact\", first: 1, filter: { search: $search }) {\n      edges { node { id displayName } }\n    }\n  }\n": types.FindContactDocument,
    "\n  query RecordPage($id: ID!) {\n    record(id: $id) {\n      displayName\n      associationGroups {\n        relatedRole\n        totalCount\n        records(first: 10) { edges { node { displayName } } }\n      }\n    }\n  }\n": types.RecordPageDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FindContact($search: String!) {\n    records(objectKey: \"contact\", first: 1, filter: { search: $search }) {\n      edges { node { id displayName } }\n    }\n  }\n"): typeof import('./graphql.js').FindContactDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RecordPage($id: ID!) {\n    record(id: $id) {\n      displayName\n      associationGroups {\n        relatedRole\n        totalCount\n        records(first: 10) { edges { node { displayName } } }\n      }\n    }\n  }\n"): typeof import('./graphql.js').RecordPageDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
