import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError, parse } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';

/**
 * Trusted documents (persisted operations): frontends generate their operations with codegen's
 * client preset, whose `persisted-documents.json` maps each document's hash to its text; the
 * server loads those manifests at start and executes a request that names a hash as the
 * document the manifest holds for it.
 *
 * `only` accepts nothing else (an operation's text is refused before it is parsed); `allow`
 * accepts any operation and known hashes.
 */
export type TrustedDocumentsMode = 'allow' | 'only';

export interface TrustedDocuments {
  mode: TrustedDocumentsMode;
  /** Document text by hash, without a `sha256:` prefix (see `documentKey`). */
  documents: ReadonlyMap<string, string>;
}

/**
 * The client preset writes SHA-256 hashes as `sha256:<hex>` (the GraphQL over HTTP "persisted
 * documents" identifier); Apollo's and urql's persisted-query links send the bare hex. Both name
 * the same document.
 */
const documentKey = (hash: string) => hash.replace(/^sha256:/, '');

/**
 * Reads one or more manifests (`{ "<hash>": "<document>" }`). Anything that would make a start
 * serve the wrong documents — a file that cannot be read, is not such an object, holds a
 * document that does not parse, or gives one hash two documents — throws, in one line.
 */
export function loadTrustedDocuments(files: readonly string[]): Map<string, string> {
  const documents = new Map<string, string>();
  const from = new Map<string, string>();
  for (const file of files) {
    const fail = (problem: string) => new Error(`RELATE_TRUSTED_DOCUMENTS_FILE: ${file} ${problem}`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw fail(`cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    let manifest: unknown;
    try {
      manifest = JSON.parse(text);
    } catch (error) {
      throw fail(`is not JSON (${(error as Error).message})`);
    }
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
      throw fail('is not a manifest: expected a JSON object of hash → document, as codegen writes to persisted-documents.json');
    }
    const entries = Object.entries(manifest);
    if (entries.length === 0) throw fail('holds no documents');
    for (const [hash, document] of entries) {
      if (typeof document !== 'string' || hash === '') throw fail(`is not a manifest: "${hash}" must map to a document's text`);
      try {
        parse(document, { noLocation: true });
      } catch (error) {
        throw fail(`holds a document that does not parse under "${hash}" (${(error as Error).message.split('\n')[0]})`);
      }
      const key = documentKey(hash);
      const known = documents.get(key);
      if (known !== undefined && known !== document) throw fail(`gives "${hash}" a different document than ${from.get(key)}`);
      documents.set(key, document);
      from.set(key, file);
    }
  }
  return documents;
}

/**
 * The hash a request names: `documentId` (GraphQL over HTTP, in a JSON body or a GET query
 * string) or `extensions.persistedQuery.sha256Hash` (version 1, as Apollo's persisted queries
 * and Yoga's default read it).
 */
function requestedHash(params: GraphQLParams & { documentId?: unknown }, request: Request): string | null {
  if (typeof params.documentId === 'string') return params.documentId;
  if (request.method === 'GET') {
    const documentId = new URL(request.url).searchParams.get('documentId');
    if (documentId) return documentId;
  }
  const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)?.persistedQuery;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
}

const HOW = 'a trusted document\'s hash (`extensions.persistedQuery.sha256Hash` or `documentId`)';

/** Yoga's persisted operations, reading the hash where clients send it, with coded errors. */
export function trustedDocuments({ mode, documents }: TrustedDocuments): Plugin {
  return usePersistedOperations({
    allowArbitraryOperations: mode === 'allow',
    extractPersistedOperationId: requestedHash,
    getPersistedOperation: (hash) => documents.get(documentKey(hash)) ?? null,
    customErrors: {
      notFound: () =>
        new GraphQLError('No trusted document has this hash: regenerate the client, or deploy its persisted-documents.json with the server.', {
          extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 404 } },
        }),
      persistedQueryOnly: () =>
        new GraphQLError(`Only trusted documents are accepted here: send ${HOW} instead of the operation's text.`, {
          extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
        }),
      keyNotFound: () =>
        new GraphQLError(mode === 'only' ? `Send ${HOW}.` : `Send an operation (\`query\`) or ${HOW}.`, {
          extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
        }),
    },
  });
}
