import { BREAK, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import { RECORD_DETAIL_FIELDS, RecordRef } from './refs.js';

const asked = new WeakMap<DocumentNode, boolean>();

/**
 * Whether an operation selects any record detail (RECORD_DETAIL_FIELDS) anywhere, fragments
 * included. Decided once per parsed document, which Yoga caches per query text. Unused
 * fragments count too: reading more than needed is only slower, never wrong.
 */
export function asksRecordDetail(schema: GraphQLSchema, document: DocumentNode): boolean {
  let answer = asked.get(document);
  if (answer === undefined) {
    let found = false;
    const typeInfo = new TypeInfo(schema);
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          if (typeInfo.getParentType()?.name === RecordRef.name && RECORD_DETAIL_FIELDS.has(node.name.value)) {
            found = true;
            return BREAK;
          }
          return undefined;
        },
      }),
    );
    asked.set(document, (answer = found));
  }
  return answer;
}
