import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../src/graphql/index.js';

interface LintError {
  ruleName?: string;
  message: string;
  locations?: readonly { line: number; column: number }[];
}

// graphql-schema-linter is CommonJS without types: its Node API, as its CLI uses it.
const linter = createRequire(import.meta.url)('graphql-schema-linter') as {
  configuration: { Configuration: new (schema: unknown, options?: object) => { getRules(): unknown[] } };
  validator: { validateSchemaDefinition(schema: unknown, rules: unknown[], configuration: unknown): LintError[] };
};
const { Schema } = createRequire(import.meta.url)('graphql-schema-linter/lib/schema.js') as {
  Schema: new (definition: string, sourceMap: unknown) => unknown;
};
const { SourceMap } = createRequire(import.meta.url)('graphql-schema-linter/lib/source_map.js') as {
  SourceMap: new (files: Record<string, string>) => unknown;
};

/** Every violation of the linter's default rules (all of them, no options), one line each. */
function lint(sdl: string): string[] {
  const schema = new Schema(sdl, new SourceMap({ 'schema.graphql': sdl }));
  const configuration = new linter.configuration.Configuration(schema, {});
  return linter.validator
    .validateSchemaDefinition(schema, configuration.getRules(), configuration)
    .map((error) => `${error.locations?.[0]?.line ?? '?'}: ${error.message} (${error.ruleName ?? 'invalid'})`);
}

describe('the printed schema', () => {
  it('passes graphql-schema-linter with its default rules: every type, field, argument and enum value is described', () => {
    expect(lint(printedSchema())).toEqual([]);
  });

  it('is linted for real: an undescribed field is reported', () => {
    expect(lint('"The root."\ntype Query {\n  hello: String\n}\n')).toContain(
      '3: The field `Query.hello` is missing a description. (fields-have-descriptions)',
    );
  });
});
