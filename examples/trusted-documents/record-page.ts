/**
 * A frontend's record page, sent as a trusted document: the operations below are written with
 * codegen's client preset (`graphql()`), which also writes `gql/persisted-documents.json`, the
 * manifest of every operation by its SHA-256 hash. The server loads that manifest
 * (RELATE_TRUSTED_DOCUMENTS_FILE) and this script sends only the hashes — with
 * RELATE_TRUSTED_DOCUMENTS=only that is all the server accepts.
 *
 *   RELATE_URL=http://localhost:4000/graphql RELATE_API_KEY=rel_… \
 *     npx tsx examples/trusted-documents/record-page.ts <search>
 *
 * After changing an operation: `npm run codegen`, then deploy the new manifest with the server.
 */
import { graphql } from './gql/index.js';
import type { TypedDocumentString } from './gql/graphql.js';

const FindContact = graphql(`
  query FindContact($search: String!) {
    records(objectKey: "contact", first: 1, filter: { search: $search }) {
      edges { node { id displayName } }
    }
  }
`);

const RecordPage = graphql(`
  query RecordPage($id: ID!) {
    record(id: $id) {
      displayName
      associationGroups {
        relatedRole
        totalCount
        records(first: 10) { edges { node { displayName } } }
      }
    }
  }
`);

const url = process.env.RELATE_URL ?? 'http://localhost:4000/graphql';
const apiKey = process.env.RELATE_API_KEY ?? '';

/**
 * Sends an operation by its hash, the way Apollo's and urql's persisted-query links do: the
 * hash in `extensions.persistedQuery.sha256Hash`, no `query`. The generated document carries its
 * hash in `__meta__.hash`.
 */
async function execute<Result, Variables>(document: TypedDocumentString<Result, Variables>, variables: Variables): Promise<Result> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: document.__meta__!.hash } } }),
  });
  const body = (await response.json()) as { data?: Result; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length || !body.data) {
    const [error] = body.errors ?? [];
    throw new Error(`HTTP ${response.status}: ${error?.extensions?.code ?? 'ERROR'} ${error?.message ?? 'no data'}`);
  }
  return body.data;
}

const search = process.argv[2];
if (!search) {
  process.stderr.write('usage: record-page.ts <search>\n');
  process.exit(2);
}

try {
  const { records } = await execute(FindContact, { search });
  const contact = records.edges[0]?.node;
  if (!contact) {
    process.stdout.write(`no contact matches "${search}"\n`);
    process.exit(0);
  }
  const { record } = await execute(RecordPage, { id: contact.id });
  process.stdout.write(`${record?.displayName ?? contact.displayName}\n`);
  for (const group of record?.associationGroups ?? []) {
    const names = group.records.edges.map(({ node }) => node.displayName);
    process.stdout.write(`  ${group.relatedRole} (${group.totalCount}): ${names.join(', ')}\n`);
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
