/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type FindContactQueryVariables = Exact<{
  search: string;
}>;


export type FindContactQuery = { records: { edges: Array<{ node: { id: string, displayName: string } }> } };

export type RecordPageQueryVariables = Exact<{
  id: string;
}>;


export type RecordPageQuery = { record: { displayName: string, associationGroups: Array<{ relatedRole: string, totalCount: number, records: { edges: Array<{ node: { displayName: string } }> } }> } | null };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const FindContactDocument = new TypedDocumentString(`
    query FindContact($search: String!) {
  records(objectKey: "contact", first: 1, filter: {search: $search}) {
    edges {
      node {
        id
        displayName
      }
    }
  }
}
    `, {"hash":"sha256:850193f47751b426694a04bfe871e2473e6378ccce932f1340b1babb7cd59fc4"}) as unknown as TypedDocumentString<FindContactQuery, FindContactQueryVariables>;
export const RecordPageDocument = new TypedDocumentString(`
    query RecordPage($id: ID!) {
  record(id: $id) {
    displayName
    associationGroups {
      relatedRole
      totalCount
      records(first: 10) {
        edges {
          node {
            displayName
          }
        }
      }
    }
  }
}
    `, {"hash":"sha256:279f37a33753ffa22fcde2959cc7612d2872afdea099763bf2861face48875de"}) as unknown as TypedDocumentString<RecordPageQuery, RecordPageQueryVariables>;