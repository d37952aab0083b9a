import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed operations for graphql-request, from the printed schema: the tests' operations
 * (test/operations) and the automation examples' (examples/operations); and, with the client
 * preset, a frontend's operations with their trusted-documents manifest (examples/trusted-documents).
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
    },
  },
};

const config: CodegenConfig = {
  overwrite: true,
  schema: 'schema/schema.graphql',
  generates: {
    'test/generated/graphql.ts': { documents: 'test/operations/**/*.graphql', ...common },
    'examples/generated/graphql.ts': { documents: 'examples/operations/**/*.graphql', ...common },
    // What a frontend team generates: `graphql()` with typed results, and persisted-documents.json
    // (SHA-256 hash → document), the manifest RELATE_TRUSTED_DOCUMENTS_FILE loads. Each document
    // carries its hash in `__meta__.hash`; clients send it as extensions.persistedQuery.sha256Hash.
    'examples/trusted-documents/gql/': {
      documents: 'examples/trusted-documents/*.ts',
      preset: 'client',
      presetConfig: { persistedDocuments: true, fragmentMasking: false },
      config: {
        documentMode: 'string',
        useTypeImports: true,
        enumsAsTypes: true,
        importExtension: '.js',
        scalars: common.config.scalars,
      },
    },
  },
};

export default config;
