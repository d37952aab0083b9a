import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import {
  getNullableType,
  isInputObjectType,
  isListType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLFieldResolver,
  type GraphQLInputType,
} from 'graphql';
import { ValidationError } from '../services/errors.js';

/**
 * The limits every argument of every field is held to before any resolver sees it. Each is a
 * setting (see config.ts); these are the defaults.
 */
export interface InputLimits {
  /** Characters in any one string: names, keys, search text, each property value. */
  maxStringLength: number;
  /** Items in any one list: batches, label keys, ids, fields. */
  maxListLength: number;
  /** A JSON input (record `properties`) as JSON text, in bytes. */
  maxJsonBytes: number;
  /** Nesting of a JSON input: the `properties` object itself is level 1. */
  maxJsonDepth: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxStringLength: 10_000,
  maxListLength: 100,
  maxJsonBytes: 64 * 1024,
  maxJsonDepth: 5,
};

/**
 * C0 control characters other than tab, newline and carriage return, and UTF-16 surrogates
 * without their pair (with the `u` flag a well-formed pair is one code point, so `\p{Cs}` only
 * matches a lone half). PostgreSQL refuses NUL in text and cannot encode a lone surrogate in
 * UTF-8, while SQLite stores both: refusing them here keeps the two databases alike.
 */
const UNSTORABLE = /[\0-\x08\x0B\x0C\x0E-\x1F]|\p{Cs}/u;

function nameOf(char: string): string {
  const code = char.charCodeAt(0);
  if (code === 0) return 'a NUL character';
  if (code < 0x20) return `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return 'an unpaired UTF-16 surrogate';
}

class InputChecker {
  /** The 0-based position in the first list on the way down (a batch item), for the error. */
  #index: number | null = null;

  constructor(readonly limits: InputLimits) {}

  fail(message: string, field: string): never {
    const error = new ValidationError(message, field);
    if (this.#index !== null) error.atIndex(this.#index);
    throw error;
  }

  string(value: string, field: string, what = field): void {
    if (value.length > this.limits.maxStringLength) {
      this.fail(`${what} is too long: at most ${this.limits.maxStringLength} characters.`, field);
    }
    const bad = UNSTORABLE.exec(value);
    if (bad) this.fail(`${what} contains ${nameOf(bad[0])}, which cannot be stored.`, field);
  }

  list(items: readonly unknown[], field: string, each: (item: unknown, field: string) => void): void {
    if (items.length > this.limits.maxListLength) {
      this.fail(`${field} takes at most ${this.limits.maxListLength} items.`, field);
    }
    items.forEach((item, i) => {
      const outermost = this.#index === null;
      if (outermost) this.#index = i;
      each(item, `${field}[${i}]`);
      if (outermost) this.#index = null;
    });
  }

  /** Keys and string values at any depth, the depth, and the size as JSON text. */
  json(value: unknown, field: string): void {
    const walk = (node: unknown, path: string, depth: number): void => {
      if (typeof node === 'string') return this.string(node, path);
      if (node === null || typeof node !== 'object') return;
      if (depth > this.limits.maxJsonDepth) {
        this.fail(`${field} is nested too deeply: at most ${this.limits.maxJsonDepth} levels.`, path);
      }
      if (Array.isArray(node)) return this.list(node, path, (item, itemPath) => walk(item, itemPath, depth + 1));
      for (const [key, child] of Object.entries(node)) {
        this.string(key, `${path}.${key}`, `A key in ${path}`);
        walk(child, `${path}.${key}`, depth + 1);
      }
    };
    walk(value, field, 1);
    const bytes = Buffer.byteLength(JSON.stringify(value));
    if (bytes > this.limits.maxJsonBytes) {
      this.fail(`${field} is too large: ${bytes} bytes as JSON, at most ${this.limits.maxJsonBytes}.`, field);
    }
  }

  /** A coerced argument value, by its GraphQL input type. */
  value(type: GraphQLInputType, value: unknown, field: string): void {
    if (value === null || value === undefined) return;
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      return this.list(value as unknown[], field, (item, itemField) => this.value(nullable.ofType, item, itemField));
    }
    if (isInputObjectType(nullable)) {
      const fields = nullable.getFields();
      for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
        const def = fields[name];
        if (def) this.value(def.type, child, field ? `${field}.${name}` : name);
      }
      return;
    }
    if (isScalarType(nullable)) {
      if (typeof value === 'string') return this.string(value, field);
      if (nullable.name.startsWith('JSON')) return this.json(value, field);
    }
  }
}

/**
 * The first reason the arguments break a rule, or null. The `input` argument of a mutation is
 * named by its fields (`properties.name`, `links[3].labelKeys[0]`), as the services name them.
 */
export function invalidArguments(
  args: readonly GraphQLArgument[],
  values: Record<string, unknown>,
  limits: InputLimits,
): ValidationError | null {
  const checker = new InputChecker(limits);
  try {
    for (const arg of args) checker.value(arg.type, values[arg.name], arg.name === 'input' ? '' : arg.name);
    return null;
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
}

const pluginName = 'inputGuard';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      inputGuard: InputGuardPlugin<Types>;
    }
  }
}

/**
 * The one validation layer at the edge: every field that takes arguments checks them against
 * the limits in its context (`inputLimits`) before its resolver runs. Listed after the errors
 * plugin, so a mutation answers the `ValidationError` member of its result union; any other
 * field a GraphQL error with code VALIDATION. Nothing it refuses reaches a service or the
 * database.
 */
export class InputGuardPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (Object.keys(fieldConfig.args).length === 0) return resolver;
    return guarded(resolver);
  }

  /** A subscription's arguments are checked when it subscribes, not at each event. */
  override wrapSubscribe(
    subscribe: GraphQLFieldResolver<unknown, Types['Context'], object> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> | undefined {
    if (!subscribe || Object.keys(fieldConfig.args).length === 0) return subscribe;
    return guarded(subscribe);
  }
}

function guarded<Context>(resolver: GraphQLFieldResolver<unknown, Context, object>): GraphQLFieldResolver<unknown, Context, object> {
  return (source, args, context, info) => {
    const field = info.parentType.getFields()[info.fieldName]!;
    const error = invalidArguments(field.args, args as Record<string, unknown>, (context as { inputLimits?: InputLimits }).inputLimits ?? DEFAULT_INPUT_LIMITS);
    if (error) throw error;
    return resolver(source, args, context, info);
  };
}

SchemaBuilder.registerPlugin(pluginName, InputGuardPlugin);

export default pluginName;
