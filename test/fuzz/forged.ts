/**
 * The differential property for ids (SPEC §2 rule 13, §5.1): an id that decodes to anything but
 * a positive integer in the database's range, names another type, is garbage, was deleted or
 * belongs to another workspace answers exactly as an id that does not exist. Each case sends an
 * operation twice — with the forged id, then with a well-formed id of a row that does not
 * exist — every other argument valid, and compares the two answers.
 */
import fc from 'fast-check';
import { getNullableType, isInputObjectType, isListType, isScalarType, type GraphQLInputType } from 'graphql';
import type { Pools } from './fixture.js';
import { b64, FORGED_NUMBERS, NODE_TYPES, type NodeTypeName } from './hostile.js';
import { nodeTypeOf, valueArb, type Generated, type Target, type VariableSpec } from './operations.js';
import type { Answer } from './checks.js';

export interface IdSlot {
  variable: VariableSpec;
  /** Where the id sits inside the variable's value: input fields and list positions. */
  path: (string | number)[];
  /** The type the position expects; undefined for `node`/`nodes` (any type). */
  nodeType: NodeTypeName | undefined;
}

/** Every ID position among the target field's own arguments. */
export function idSlotsOf(target: Target): IdSlot[] {
  const last = target.steps.length - 1;
  const slots: IdSlot[] = [];
  const walk = (variable: VariableSpec, type: GraphQLInputType, path: (string | number)[], owner: string, name: string, depth: number) => {
    if (depth > 6) return;
    const nullable = getNullableType(type) as GraphQLInputType;
    if (isListType(nullable)) return walk(variable, nullable.ofType, [...path, 0], owner, name, depth + 1);
    if (isInputObjectType(nullable)) {
      for (const field of Object.values(nullable.getFields())) walk(variable, field.type, [...path, field.name], nullable.name, field.name, depth + 1);
      return;
    }
    if (isScalarType(nullable) && nullable.name === 'ID') {
      const generic = /^Query\.nodes?$/.test(owner);
      slots.push({ variable, path, nodeType: generic ? undefined : nodeTypeOf(name, owner) });
    }
  };
  for (const variable of target.variables.filter((v) => v.step === last)) walk(variable, variable.argument.type, [], variable.owner, variable.argument.name, 0);
  return slots;
}

const numberOf = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1] ?? '1';

/** A well-formed id of the slot's type that matches no row. */
export const missingId = (slot: IdSlot) => b64(`${slot.nodeType ?? 'Record'}:2147483000`);

/** Ids that must answer as missing at this slot. */
export function forgedIdArb(slot: IdSlot, pools: Pools): fc.Arbitrary<unknown> {
  const type = slot.nodeType ?? 'Record';
  const forgedNumbers = fc.constantFrom(...FORGED_NUMBERS).map((n) => b64(`${type}:${n}`));
  const realNumbers = (pools.ids[type].length ? pools.ids[type] : pools.ids.Record).map(numberOf);
  // Another type's name around a number that is a real row of this type (typed slots only:
  // `node` answers any Node type).
  const otherType = fc
    .tuple(fc.constantFrom(...NODE_TYPES.filter((t) => t !== type), 'Nope', 'record'), fc.constantFrom(...realNumbers))
    .map(([name, n]) => b64(`${name}:${n}`));
  const broken = fc.constantFrom(b64(type), b64(':1'), b64(`${type}:${realNumbers[0]}:1`), b64(`${type}::${realNumbers[0]}`), '', '====', '!!!!', 'null');
  return fc.oneof(
    { weight: 4, arbitrary: forgedNumbers },
    ...(slot.nodeType ? [{ weight: 2, arbitrary: otherType }] : []),
    { weight: 2, arbitrary: fc.constantFrom(...pools.otherIds) },
    { weight: 1, arbitrary: broken },
    { weight: 1, arbitrary: fc.base64String({ minLength: 4, maxLength: 24 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(0, -1, 2 ** 31, 1e20) },
  );
}

function setAt(container: unknown, path: (string | number)[], value: unknown): unknown {
  if (!path.length) return value;
  const [head, ...rest] = path;
  if (typeof head === 'number') {
    const list = Array.isArray(container) && container.length ? [...container] : [undefined];
    list[0] = setAt(list[0], rest, value);
    return list;
  }
  const object: Record<string, unknown> =
    container && typeof container === 'object' && !Array.isArray(container) ? { ...(container as Record<string, unknown>) } : {};
  object[head!] = setAt(object[head!], rest, value);
  return object;
}

export interface ForgedCase {
  slot: IdSlot;
  forged: unknown;
  /** The same variables with the forged id, and with the missing id. */
  withForged: Generated;
  withMissing: Generated;
}

/** Cases for a target: valid arguments everywhere, one ID position forged. */
export function forgedCaseArb(target: Target, pools: Pools): fc.Arbitrary<ForgedCase> | null {
  const slots = idSlotsOf(target);
  if (!slots.length) return null;
  const base = fc.record(
    Object.fromEntries(target.variables.map((v) => [v.name, valueArb(v.argument.type, v.owner, v.argument.name, pools, 'path')])),
  ) as fc.Arbitrary<Record<string, unknown>>;
  return fc
    .constantFrom(...slots)
    .chain((slot) => fc.record({ slot: fc.constant(slot), forged: forgedIdArb(slot, pools), base }))
    .map(({ slot, forged, base: values }) => {
      const build = (id: unknown): Generated => ({
        values: { ...values, [slot.variable.name]: setAt(values[slot.variable.name], slot.path, id) },
        inline: false,
      });
      return { slot, forged, withForged: build(forged), withMissing: build(missingId(slot)) };
    });
}

/** An answer as a client compares it: status, errors' messages and codes, and the data (for a mutation: the result's type, code and message). */
export function comparable(target: Target, answer: Answer, ids: unknown[]): string {
  const errors = Array.isArray(answer.body?.errors)
    ? answer.body.errors.map((e: any) => ({ message: e?.message, code: e?.extensions?.code, path: e?.path }))
    : null;
  let data = answer.body?.data ?? null;
  if (target.operation === 'mutation' && data) {
    const result = data[target.steps[0]!.field.name];
    data = result ? { __typename: result.__typename, code: result.code ?? null, message: result.message ?? null } : result;
  }
  let text = JSON.stringify({ status: answer.status, data, errors });
  for (const id of ids) {
    if (typeof id !== 'string' || !id) continue;
    text = text.split(JSON.stringify(id).slice(1, -1)).join('<id>');
  }
  return text;
}
