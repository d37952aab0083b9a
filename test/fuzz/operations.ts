/**
 * Operations derived from the schema itself. A target is every Mutation field, every Query field
 * with arguments, and every field with arguments of the object types reachable from Query
 * (Record.associations, Object.records, AssociationLabel.associations, AssociationGroup.records,
 * …), reached by the shortest path from Query. For each target this builds a document with one
 * variable per argument (on the path and on the target), a selection (`__typename`, every
 * union member with `... on Error { code message }`, leaf fields a level or two down), and a
 * fast-check arbitrary for the variables: input objects recursively from their input types,
 * enums from their values, and leaves from the hostile alphabets mixed with real values of the
 * fixture workspace, picked by the argument's name (`recordId` → record ids, `labelKeys` →
 * label keys, `first` → page sizes, `properties` → record properties, …).
 */
import fc from 'fast-check';
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import type { IntKind, Pools, StringKind } from './fixture.js';
import { idArb, intArb, isUnstorable, materialize, NODE_TYPES, propertiesArb, stringArb, wrongTypeArb, type NodeTypeName } from './hostile.js';

export interface Step {
  parent: GraphQLObjectType;
  field: GraphQLField<unknown, unknown>;
}

export interface VariableSpec {
  name: string;
  argument: GraphQLArgument;
  /** Index of the step (path…, target) whose field takes this argument. */
  step: number;
  /** Where the argument lives, for picking valid values: `Query.record`, `LinkRecordsInput`, … */
  owner: string;
}

export interface Target {
  /** `Mutation.linkRecords`, `Query.records`, `Record.associations`, … */
  id: string;
  operation: 'query' | 'mutation';
  /** The fields from the root to the target, the target last. */
  steps: Step[];
  variables: VariableSpec[];
  /** Admin-only mutations (their description says so): a USER key must never get their Success. */
  adminOnly: boolean;
  /** A counterexample names the target only. */
  [fc.toStringMethod]: () => string;
}

/** Every target of the schema: mutations, Query fields with arguments, nested fields with arguments. */
export function targetsOf(schema: GraphQLSchema): Target[] {
  const targets: Target[] = [];
  const make = (operation: Target['operation'], steps: Step[]): Target => {
    const last = steps.at(-1)!;
    const variables = steps.flatMap((step, index) =>
      step.field.args.map((argument) => ({ name: `v${index}_${argument.name}`, argument, step: index, owner: `${step.parent.name}.${step.field.name}` })),
    );
    const id = `${last.parent.name}.${last.field.name}`;
    return {
      id,
      [fc.toStringMethod]: () => id,
      operation,
      steps,
      variables,
      adminOnly: operation === 'mutation' && /admin only/i.test(last.field.description ?? ''),
    };
  };
  const mutation = schema.getMutationType();
  if (mutation) {
    for (const field of Object.values(mutation.getFields())) targets.push(make('mutation', [{ parent: mutation, field }]));
  }
  const query = schema.getQueryType()!;
  // Breadth-first from Query: each object type is reached by its shortest path.
  const seen = new Set<string>([query.name]);
  let frontier: { type: GraphQLObjectType; path: Step[] }[] = [{ type: query, path: [] }];
  while (frontier.length) {
    const next: typeof frontier = [];
    for (const { type, path } of frontier) {
      for (const field of Object.values(type.getFields())) {
        const steps = [...path, { parent: type, field }];
        if (field.args.length) targets.push(make('query', steps));
        const named = getNamedType(field.type);
        if (isObjectType(named) && !seen.has(named.name)) {
          seen.add(named.name);
          next.push({ type: named, path: steps });
        }
      }
    }
    frontier = next;
  }
  return targets;
}

// ---------------------------------------------------------------------------------------------
// Selections

const ERROR_INTERFACE = 'Error';

/** A small selection of `type`: `__typename`, leaves, and objects `depth` levels down. */
export function selectionOf(schema: GraphQLSchema, type: GraphQLOutputType, depth: number): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (isUnionType(named)) {
    const members = named.getTypes().map((member) => {
      const isError = member.getInterfaces().some((i) => i.name === ERROR_INTERFACE);
      return `... on ${member.name} ${selectionOf(schema, member, isError ? 0 : depth)}`;
    });
    const error = schema.getType(ERROR_INTERFACE) ? ` ... on ${ERROR_INTERFACE} { code message }` : '';
    return `{ __typename${error} ${members.join(' ')} }`;
  }
  if (isInterfaceType(named)) {
    const leaves = Object.values(named.getFields())
      .filter((field) => !field.args.length && isLeafType(getNamedType(field.type)))
      .map((field) => field.name);
    return `{ __typename ${leaves.join(' ')} }`;
  }
  const parts = ['__typename'];
  for (const field of Object.values((named as GraphQLObjectType).getFields())) {
    if (field.args.length) continue;
    const fieldNamed = getNamedType(field.type);
    if (isLeafType(fieldNamed)) parts.push(field.name);
    else if (depth > 0) parts.push(`${field.name} ${selectionOf(schema, field.type, depth - 1)}`);
  }
  return `{ ${parts.join(' ')} }`;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** How strongly values lean to valid ones: path arguments must mostly resolve so the target runs. */
export type Bias = 'target' | 'path';

export const nodeTypeOf = (name: string, owner: string): NodeTypeName | undefined => {
  for (const text of [name, owner]) {
    const lower = text.toLowerCase().replace('owner', 'user');
    const found = NODE_TYPES.find((type) => lower.includes(type.toLowerCase()));
    if (found) return found;
  }
  return undefined;
};

export function stringKindOf(owner: string, name: string): StringKind {
  const path = `${owner}.${name}`;
  if (name === 'after') return 'cursor';
  if (/objectkey$/i.test(name) || path === 'Query.object.key') return 'objectKey';
  if (/labelkeys?$/i.test(name) || path === 'Query.associationLabel.key') return 'labelKey';
  if (path === 'CreateObjectInput.key') return 'newObjectKey';
  if (path === 'CreateAssociationLabelInput.key') return 'newLabelKey';
  if (path === 'FieldInput.key' || name === 'primaryProperty') return 'fieldKey';
  if (/email/i.test(name)) return 'email';
  if (name === 'search') return 'search';
  if (/(name|label)$/i.test(name)) return 'name';
  return 'any';
}

const intKindOf = (name: string): IntKind => (name === 'first' ? 'first' : /^max/.test(name) ? 'limit' : 'any');

/**
 * An arbitrary for a value of `type`, at `owner.name` (an argument or an input field). A required
 * value is mostly present, sometimes null or left out; an optional one is present, left out or null.
 */
export function valueArb(type: GraphQLInputType, owner: string, name: string, pools: Pools, bias: Bias, depth = 0, long = true): fc.Arbitrary<unknown> {
  const path = bias === 'path';
  if (isNonNullType(type)) {
    const inner = bareArb(type.ofType, owner, name, pools, bias, depth, long);
    if (path) return inner;
    return fc.oneof({ weight: 40, arbitrary: inner }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(undefined) });
  }
  return fc.oneof(
    { weight: path ? 1 : 5, arbitrary: bareArb(type, owner, name, pools, bias, depth, long) },
    { weight: path ? 1 : 2, arbitrary: fc.constant(undefined) },
    { weight: path ? 0 : 1, arbitrary: fc.constant(null) },
  );
}

/** A value of a nullable type, without null. */
function bareArb(type: GraphQLInputType, owner: string, name: string, pools: Pools, bias: Bias, depth: number, long: boolean): fc.Arbitrary<unknown> {
  const path = bias === 'path';
  if (isListType(type)) {
    // Items of a list are never huge: a hundred 1 MB strings say nothing one does not.
    const item = valueArb(type.ofType, owner, name, pools, bias, depth + 1, false);
    if (path) return fc.array(item, { minLength: 1, maxLength: 3 });
    // Long lists (around the 100-item limit, and 1,000) only at the top: not inside another list's items.
    return fc.oneof(
      { weight: 10, arbitrary: fc.array(item, { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.array(item, { minLength: 9, maxLength: 12 }) },
      { weight: long ? 1 : 0, arbitrary: fc.array(item, { minLength: 99, maxLength: 102 }) },
      { weight: long ? 1 : 0, arbitrary: item.map((value) => Array.from({ length: 1_000 }, () => value)) },
      { weight: 1, arbitrary: item },
    );
  }
  if (isInputObjectType(type)) {
    if (depth > 6) return fc.constant({});
    const fields = Object.values(type.getFields());
    const record = fc.record(
      Object.fromEntries(fields.map((field) => [field.name, valueArb(field.type, type.name, field.name, pools, bias, depth + 1, long)])),
    ) as fc.Arbitrary<Record<string, unknown>>;
    if (path) return record;
    return fc.oneof(
      { weight: 30, arbitrary: record },
      { weight: 1, arbitrary: record.map((value) => ({ ...value, notAField: 1 })) },
      { weight: 1, arbitrary: wrongTypeArb },
    );
  }
  const leaf = leafArb(type as GraphQLNamedType, owner, name, pools, path, long);
  return path ? leaf : fc.oneof({ weight: 30, arbitrary: leaf }, { weight: 1, arbitrary: wrongTypeArb });
}

function leafArb(type: GraphQLNamedType, owner: string, name: string, pools: Pools, path: boolean, long: boolean): fc.Arbitrary<unknown> {
  const validWeight = path ? 60 : undefined;
  if (isEnumType(type)) {
    const values = type.getValues().map((value) => value.name);
    const valid = fc.constantFrom(...values);
    if (path) return valid;
    return fc.oneof({ weight: 10, arbitrary: valid }, { weight: 1, arbitrary: fc.constantFrom('', values[0]!.toLowerCase(), `${values[0]}\u0000`, 'ADMIN ') });
  }
  if (!isScalarType(type)) throw new Error(`no arbitrary for ${type.name}`);
  switch (type.name) {
    case 'ID': {
      const nodeType = nodeTypeOf(name, owner);
      const real = nodeType ? pools.ids[nodeType] : Object.values(pools.ids).flat();
      const other = [...pools.otherIds, ...(nodeType ? NODE_TYPES.filter((t) => t !== nodeType).flatMap((t) => pools.ids[t].slice(0, 2)) : [])];
      return idArb(nodeType, real, other, validWeight, long);
    }
    case 'String':
      return stringArb(pools.strings[stringKindOf(owner, name)].length ? pools.strings[stringKindOf(owner, name)] : pools.strings.any, validWeight, long);
    case 'Int':
      return intArb(pools.ints[intKindOf(name)], validWeight);
    case 'Float':
      return intArb(pools.ints.any, validWeight);
    case 'Boolean':
      return fc.boolean();
    case 'JSONObject':
      return propertiesArb(pools.fields, pools.strings.name, long);
    default:
      return stringArb(pools.strings.any, validWeight, long);
  }
}

export interface Generated {
  /** Variable values by variable name (descriptions of large values, see hostile.ts). */
  values: Record<string, unknown>;
  /** Arguments written as literals in the document instead of variables, where they can be. */
  inline: boolean;
}

/** Variables for a target: target arguments hostile, path arguments mostly valid. */
export function generatedArb(target: Target, pools: Pools): fc.Arbitrary<Generated> {
  const last = target.steps.length - 1;
  const values = fc.record(
    Object.fromEntries(
      target.variables.map((variable) => [
        variable.name,
        valueArb(variable.argument.type, variable.owner, variable.argument.name, pools, variable.step === last ? 'target' : 'path'),
      ]),
    ),
  );
  return fc.record({ values, inline: fc.boolean() });
}

// ---------------------------------------------------------------------------------------------
// Documents

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** A GraphQL literal for a value of `type`, or null when it cannot be written as one. */
function literalOf(type: GraphQLInputType, value: unknown, depth = 0): string | null {
  if (depth > 500) return null;
  if (value === null) return 'null';
  const nullable = getNullableType(type) as GraphQLInputType;
  if (isListType(nullable) && !Array.isArray(value)) return literalOf(nullable.ofType, value, depth + 1);
  if (Array.isArray(value)) {
    const itemType = isListType(nullable) ? nullable.ofType : nullable;
    const items = value.map((item) => literalOf(itemType, item, depth + 1));
    return items.every((item) => item !== null) ? `[${items.join(', ')}]` : null;
  }
  switch (typeof value) {
    case 'string':
      return isEnumType(nullable) && NAME.test(value) ? value : JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : null;
    case 'boolean':
      return String(value);
    case 'object': {
      const entries = Object.entries(value as object);
      if (!entries.every(([key]) => NAME.test(key))) return null;
      const fieldType = (key: string) =>
        isInputObjectType(nullable) ? (nullable.getFields()[key]?.type ?? nullable) : nullable;
      const fields = entries.map(([key, item]) => {
        const literal = literalOf(fieldType(key), item, depth + 1);
        return literal === null ? null : `${key}: ${literal}`;
      });
      return fields.every((field) => field !== null) ? `{${fields.join(', ')}}` : null;
    }
    default:
      return null;
  }
}

export interface Rendered {
  query: string;
  variables: Record<string, unknown>;
  /** The variables that were sent as variables or literals (materialized), by name. */
  sent: Record<string, unknown>;
}

/** The document and variables for one generated case. */
export function render(schema: GraphQLSchema, target: Target, generated: Generated): Rendered {
  const sent: Record<string, unknown> = {};
  for (const variable of target.variables) {
    const value = generated.values[variable.name];
    if (value !== undefined) sent[variable.name] = materialize(value);
  }
  const declared: string[] = [];
  const variables: Record<string, unknown> = {};
  const argumentText = (step: number) => {
    const args = target.variables
      .filter((variable) => variable.step === step && variable.name in sent)
      .map((variable) => {
        const literal = generated.inline ? literalOf(variable.argument.type, sent[variable.name]) : null;
        if (literal !== null) return `${variable.argument.name}: ${literal}`;
        declared.push(`$${variable.name}: ${String(variable.argument.type)}`);
        variables[variable.name] = sent[variable.name];
        return `${variable.argument.name}: $${variable.name}`;
      });
    return args.length ? `(${args.join(', ')})` : '';
  };
  const last = target.steps.length - 1;
  const texts = target.steps.map((step, index) => `${step.field.name}${argumentText(index)}`);
  let body = `${texts[last]} ${selectionOf(schema, target.steps[last]!.field.type, 2)}`;
  for (let index = last - 1; index >= 0; index -= 1) body = `${texts[index]} { __typename ${body} }`;
  const header = declared.length ? `(${declared.join(', ')})` : '';
  return { query: `${target.operation} Fuzz${header} { ${body} }`, variables, sent };
}

// ---------------------------------------------------------------------------------------------
// What an answer must be

/** True when `value`, sent for `type`, holds a string no database may store (IDs excluded: those answer as missing). */
export function holdsUnstorable(type: GraphQLInputType, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  const nullable = getNullableType(type) as GraphQLInputType;
  if (isListType(nullable)) {
    return Array.isArray(value) ? value.some((item) => holdsUnstorable(nullable.ofType, item)) : holdsUnstorable(nullable.ofType, value);
  }
  if (isInputObjectType(nullable)) {
    if (typeof value !== 'object' || Array.isArray(value)) return false;
    const fields = nullable.getFields();
    return Object.entries(value as object).some(([key, item]) => fields[key] !== undefined && holdsUnstorable(fields[key]!.type, item));
  }
  if (isScalarType(nullable) && nullable.name === 'String') return typeof value === 'string' && isUnstorable(value);
  if (isScalarType(nullable) && nullable.name === 'JSONObject') return jsonHoldsUnstorable(value);
  return false;
}

export function jsonHoldsUnstorable(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    if (typeof item === 'string') {
      if (isUnstorable(item)) return true;
    } else if (Array.isArray(item)) {
      stack.push(...item);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, inner] of Object.entries(item)) {
        if (isUnstorable(key)) return true;
        stack.push(inner);
      }
    }
  }
  return false;
}

/** Whether the field of step `index` ran: every field above it answered a non-null value. */
export function reached(data: unknown, target: Target, index: number): boolean {
  let values: unknown[] = [data];
  for (let i = 0; i < index; i += 1) {
    const name = target.steps[i]!.field.name;
    values = values
      .flatMap((value) => (value && typeof value === 'object' ? [(value as Record<string, unknown>)[name]] : []))
      .flatMap((value) => (Array.isArray(value) ? value : [value]))
      .filter((value) => value !== null && value !== undefined);
  }
  return values.length > 0;
}
