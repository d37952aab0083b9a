import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed operations for graphql-request, from the printed schema: the tests' operations
 * (test/operations) and the automation examples' (examples/operations).
 * `npm run codegen` after changing an operation or the schema.
 */
const common = {
  plugins: ['typescript', 'typescript-operations', 'typed-document-node'],
  config: {
    // The API has a type named Record: emit operation types only, so TypeScript's Record stays usable.
    onlyOperationTypes: true,
    useTypeImports: true,
    enumsAsTypes: true,
    emitLegacyCommonJSImports: false,
    scalars: {
      ID: 'string',
      DateTime: 'string',
      JSONObject: '{ [key: string]: unknown }',
      NonNegativeInt: 'number',
    },
  },
};

const config: CodegenConfig = {
  overwrite: true,
  schema: 'schema/schema.graphql',
  generates: {
    'test/generated/graphql.ts': { documents: 'test/operations/**/*.graphql', ...common },
    'examples/generated/graphql.ts': { documents: 'examples/operations/**/*.graphql', ...common },
  },
};

export default config;
