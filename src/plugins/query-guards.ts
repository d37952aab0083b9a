import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { DEFAULT_PAGE_SIZE } from '../graphql/connection.js';

/** Shape limits, checked on the document before it runs (depth: two hops need about 12). */
export const QUERY_LIMITS = {
  maxDepth: 15,
  maxAliases: 30,
  maxDirectives: 50,
  maxTokens: 5000,
} as const;

/**
 * How many rows a list without a page size (`associationGroups`, `objects`, `fields`, …) is
 * counted as: they are short by the limits on labels and objects.
 */
export const UNPAGED_LIST_ROWS = 10;

/**
 * A field whose reads follow a rule of their own (a neighbourhood, a path search) says what it
 * can read in its `extensions`: `rows`, and `lists`, the size each list of its result counts as.
 */
export interface FieldCostExtensions {
  rowsRead?: (args: Record<string, unknown>) => { rows: number; lists: number };
}

/** A refusal before execution: its own code, and what to change in the message. */
function refusal(code: string, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions, http: { status: 400 } } });
}

/** graphql-armor's checks, each refusing with a code of its own instead of a "Syntax Error". */
function armor(introspection: boolean): Plugin {
  const reject = (code: string, advice: string) => ({
    propagateOnRejection: false,
    onReject: [
      (_context: unknown, error: GraphQLError) => {
        throw refusal(code, `${error.message.replace(/^Syntax Error: /, '')} ${advice}`);
      },
    ],
  });
  return EnvelopArmorPlugin({
    maxDepth: { n: QUERY_LIMITS.maxDepth, ignoreIntrospection: true, ...reject('QUERY_TOO_DEEP', 'Select fewer nested levels.') },
    maxAliases: { n: QUERY_LIMITS.maxAliases, ...reject('TOO_MANY_ALIASES', 'Use fewer aliases, or send several requests.') },
    maxDirectives: { n: QUERY_LIMITS.maxDirectives, ...reject('TOO_MANY_DIRECTIVES', 'Use fewer directives.') },
    maxTokens: { n: QUERY_LIMITS.maxTokens, ...reject('TOO_MANY_TOKENS', 'Send a shorter document.') },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: !introspection },
  }) as Plugin;
}

/**
 * The rows an operation can read: for every list it selects, the product of the page sizes
 * (`first`, default 20) of the lists along its path, summed. A connection's `edges` are the
 * rows its `first` already counts; a list without a page size counts UNPAGED_LIST_ROWS, and
 * `nodes(ids)` its ids. SQL statements per request do not grow with pages (one per level), so
 * rows are what a request really costs.
 */
export function rowsRead(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): number {
  const operation = getOperationAST(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return 0;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  // Variables that do not coerce fail the execution itself, with the reason.
  if (coerced.errors) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let total = 0;
  /** `lists`: how many rows a list without a page size counts as at this level. */
  const visit = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, rows: number, spread: Set<string>, lists: number) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        const type = fragment && schema.getType(fragment.typeCondition.name.value);
        if (!fragment || spread.has(fragment.name.value) || !isCompositeType(type)) continue;
        visit(fragment.selectionSet, type, rows, new Set(spread).add(fragment.name.value), lists);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (isCompositeType(type)) visit(selection.selectionSet, type, rows, spread, lists);
      } else if (selection.selectionSet && (isObjectType(parent) || isInterfaceType(parent))) {
        const field = parent.getFields()[selection.name.value];
        if (!field) continue;
        const type = getNamedType(field.type);
        const cost = (field.extensions as FieldCostExtensions | undefined)?.rowsRead;
        if (cost) {
          // A field that reads by its own rule (graph exploration): its rows, and its lists' size.
          const read = cost(getArgumentValues(field, selection, coerced.coerced));
          total += rows * read.rows;
          if (isCompositeType(type)) visit(selection.selectionSet, type, rows, spread, read.lists);
          continue;
        }
        let factor = 1;
        if (field.args.some((arg) => arg.name === 'first')) {
          const args = getArgumentValues(field, selection, coerced.coerced);
          factor = typeof args.first === 'number' ? Math.max(args.first, 1) : DEFAULT_PAGE_SIZE;
        } else if (isListType(getNullableType(field.type)) && !parent.name.endsWith('Connection')) {
          const args = field.args.length ? getArgumentValues(field, selection, coerced.coerced) : {};
          factor = Array.isArray(args.ids) ? args.ids.length : lists;
        }
        const here = rows * factor;
        if (factor !== 1 || field.args.some((arg) => arg.name === 'first')) total += here;
        if (isCompositeType(type)) visit(selection.selectionSet, type, here, spread, UNPAGED_LIST_ROWS);
      }
    }
  };
  visit(operation.selectionSet, root, 1, new Set(), UNPAGED_LIST_ROWS);
  return total;
}

/** Refuses, before execution, an operation that could read more than `maxRows` rows. */
function rowLimit(maxRows: number): Plugin {
  return {
    onExecute: ({ args, setResultAndStopExecution }) => {
      const rows = rowsRead(args.schema, args.document, args.operationName, args.variableValues);
      if (rows <= maxRows) return;
      setResultAndStopExecution({
        errors: [
          refusal(
            'QUERY_TOO_COSTLY',
            `This operation could read ${rows} rows; the limit is ${maxRows}. ` +
              'Ask for smaller pages (first) or fewer nested lists, or page through them in several requests.',
            { rows, maxRows },
          ),
        ],
      });
    },
  };
}

/** Depth, aliases, directives, tokens and rows: every operation is held to them. */
export function queryGuards(options: { maxRows: number; introspection: boolean }): Plugin[] {
  return [armor(options.introspection), rowLimit(options.maxRows)];
}
