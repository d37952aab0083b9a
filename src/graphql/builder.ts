import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import InputGuardPlugin from './input-guard.js';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import type PrismaTypes from '../db/generated/pothos-types.js';
import { getDatamodel } from '../db/generated/pothos-types.js';
import { prisma } from '../db/index.js';
import type { Context } from '../context.js';
import { isAdmin } from '../services/viewer.js';

export interface BuilderTypes {
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  AuthScopes: { admin: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
    /** A file part of a GraphQL multipart request (Yoga's File). */
    Upload: { Input: File; Output: never };
    ID: { Input: string; Output: string | number };
  };
}

/** The types `node(id)` resolves; every other global id resolves to nothing. */
const NODE_TYPES = new Set(['Workspace', 'User', 'Object', 'Record', 'AssociationLabel', 'Association', 'WebhookEndpoint', 'WebhookDelivery', 'ImportJob']);
/** A Node id that matches no row ("0" is never a valid numeric id). */
const NO_NODE = { typename: 'Record', id: '0' };

export const builder = new SchemaBuilder<BuilderTypes>({
  // The input guard after errors: what it refuses becomes a mutation's ValidationError member.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, InputGuardPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({ admin: isAdmin(ctx.viewer) }),
    unauthorizedError: () =>
      new GraphQLError('Only workspace admins may see this.', { extensions: { code: 'FORBIDDEN' } }),
  },
  errors: {},
  prisma: {
    client: () => prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    // node/nodes: an id that is malformed or names a type that is not a Node (an
    // AssociationEvent's or ApiKey's id, "Nope:1") answers null like an unknown id, instead of
    // a validation or masked internal error.
    decodeGlobalID: (globalID) => {
      const [typename, id, ...rest] = Buffer.from(globalID, 'base64').toString('utf8').split(':');
      return typename && id && rest.length === 0 && NODE_TYPES.has(typename) ? { typename, id } : NO_NODE;
    },
    cursorType: 'String',
    nodeTypeOptions: {
      description:
        'An object with a global id, which node(id) and nodes(ids) fetch: a workspace, user, object, record, label or association, ' +
        'for admins a webhook endpoint or delivery, and an import job.',
    },
    idFieldOptions: { description: 'The global id: opaque and stable; pass it as it is to node(id) and to id arguments.' },
    nodeQueryOptions: {
      description: 'Any object by its global id; null when it does not exist or is not visible to you.',
      args: { id: { description: 'A global id, as an `id` field returns it.' } },
    },
    nodesQueryOptions: {
      description: 'Objects by global id, in order; null for each that does not exist or is not visible.',
      args: { ids: { description: 'Global ids, as `id` fields return them (at most 100 by default).' } },
    },
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSONObject', JSONObjectResolver);

builder.queryType({ description: 'Reads. Everything is scoped to the workspace of your API key and to the records you may see.' });
builder.mutationType({
  description:
    'Writes. Each takes one `input` and answers a `<Name>Result` union: its `<Name>Success` type, or an error type ' +
    '(every one implements Error); nothing is changed when it answers an error.',
});

builder.subscriptionType({
  description:
    'Live events, over GraphQL over SSE (send `Accept: text/event-stream`) with the same Authorization header as queries. ' +
    'Each arrives once it is committed, from whichever process or server made it, in commit order.',
});

/** The builder's resolved schema types, for helpers that take Pothos builders. */
export type Types = PothosSchemaTypes.ExtendDefaultTypes<BuilderTypes>;
