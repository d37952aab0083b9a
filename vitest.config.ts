import { createRequire } from 'node:module';
import { configDefaults, defineConfig } from 'vitest/config';

// Node loads graphql's CommonJS build for every package; make the test runner's own imports use
// the same copy, or `instanceof GraphQLError` and schema checks see two different modules.
const graphqlEntry = createRequire(import.meta.url).resolve('graphql');

/**
 * Every suite runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL names a server
 * (CI always sets it). Each test file gets a database of its own.
 */
const postgres = process.env.TEST_DATABASE_URL;
if (!postgres) {
  console.warn('\n[relate] TEST_DATABASE_URL is not set: PostgreSQL suites are skipped; SQLite suites run.\n');
}

const common = {
  alias: [{ find: /^graphql$/, replacement: graphqlEntry }],
  include: ['test/**/*.test.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

/**
 * Suites that open no database (the printed schema, its lint, the docs against the code): their
 * answer is the same on either, so they run once, with the SQLite project, rather than paying a
 * test worker's start (seconds of CPU) twice for the same result.
 */
const withoutDatabase = ['test/schema.test.ts', 'test/schema-lint.test.ts', 'test/docs.test.ts'];

export default defineConfig({
  test: {
    // Two test files at a time even on two cores (vitest's default there is one): the suites spend
    // most of their time waiting on servers, child processes and the databases, not computing.
    maxWorkers: 2,
    projects: [
      { test: { ...common, name: 'sqlite', env: { RELATE_TEST_DB: 'sqlite' } } },
      ...(postgres ? [{ test: { ...common, name: 'postgresql', exclude: [...configDefaults.exclude, ...withoutDatabase], env: { RELATE_TEST_DB: 'postgresql' } } }] : []),
    ],
  },
});
