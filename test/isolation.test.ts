/**
 * Tenancy and visibility, generated from the schema (SPEC §2 rules 12 and 13).
 *
 * The schema is read by introspection through the API. Every Query and Mutation field that takes
 * an ID — as an argument, inside its `input`, in a list (`nodes(ids)`, batch links), or nested in
 * a filter (`filter.associatedWith.recordId`), and the same on nested fields such as
 * `Object.records` — is called with a probe id in that slot:
 *   - an id of the same type from ANOTHER workspace,
 *   - an id of the same type HIDDEN from a restricted user (records under ASSIGNED / NONE access,
 *     an association with a hidden record),
 *   - a random id of the same type that does not exist,
 * and the answers must be identical once the id text itself is replaced: another workspace's id
 * and a hidden id answer exactly like a missing one. Every other argument is built from the
 * introspected types, with values that exist in the caller's workspace so that the id decides.
 *
 * Each ID slot's node type comes from its name (`recordId` → Record, `userId` → User, …) or, for
 * the `id`-only ones, from an explicit table. A slot that is not classified fails the test, so a
 * field added later cannot be silently skipped.
 *
 * Cursors: a cursor issued in one workspace, used in another, answers exactly like a garbage
 * cursor, on every connection field.
 */
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NodeType } from '../src/services/ids.js';
import { ENDPOINT, useTestApp, type GraphQLResponse, type TestWorkspace } from './helpers.js';
import {
  answer,
  contact,
  createApiKey,
  createLabel,
  createObject,
  createRecord,
  createUser,
  data,
  gid,
  link,
  setAccess,
  type Gql,
  type TestUser,
} from './support/permissions.js';

const t = useTestApp();

// ---------------------------------------------------------------------------------------------
// Classification of ID slots
// ---------------------------------------------------------------------------------------------

type ProbeType = NodeType | 'any';

/** ID slots classified by their own name, wherever they appear. */
const BY_NAME: Record<string, ProbeType> = {
  recordId: 'Record',
  firstRecordId: 'Record',
  secondRecordId: 'Record',
  userId: 'User',
  ownerId: 'User',
  ids: 'any',
};

/** `id` slots (and any other exception), by coordinate: what the field acts on. */
const BY_COORDINATE: Record<string, ProbeType> = {
  'Query.node(id)': 'any',
  'Query.record(id)': 'Record',
  'Query.associationLabel(id)': 'AssociationLabel',
  'Mutation.updateRecord(input.id)': 'Record',
  'Mutation.deleteRecord(input.id)': 'Record',
  'Mutation.updateObject(input.id)': 'Object',
  'Mutation.deleteObject(input.id)': 'Object',
  'Mutation.updateAssociationLabel(input.id)': 'AssociationLabel',
  'Mutation.deleteAssociationLabel(input.id)': 'AssociationLabel',
  'Mutation.revokeApiKey(input.id)': 'ApiKey',
  'Mutation.updateWebhookEndpoint(input.id)': 'WebhookEndpoint',
  'Mutation.deleteWebhookEndpoint(input.id)': 'WebhookEndpoint',
  'Mutation.redeliverWebhook(input.deliveryId)': 'WebhookDelivery',
  'Query.importJob(id)': 'ImportJob',
  'Query.path(from)': 'Record',
  'Query.path(to)': 'Record',
  'Record.mutualAssociations(with)': 'Record',
};

/** Every type a global id can name: `node`/`nodes` are probed with each. */
const ALL_TYPES: NodeType[] = [
  'Record',
  'User',
  'Object',
  'AssociationLabel',
  'Association',
  'Workspace',
  'ApiKey',
  'AssociationEvent',
  'WebhookEndpoint',
  'WebhookDelivery',
  'ImportJob',
];
/** Those that `node` resolves (the others are never nodes, so they have no positive control). */
const NODE_TYPES = new Set<NodeType>(['Record', 'User', 'Object', 'AssociationLabel', 'Association', 'Workspace', 'WebhookEndpoint', 'WebhookDelivery', 'ImportJob']);

/** How to reach an instance of a type that has ID-taking (or cursor-taking) fields, in a workspace. */
type Entry = (fixtures: Fixtures, inner: string) => string;
const ENTRIES: Record<string, Entry> = {
  Query: (_f, inner) => inner,
  Object: (_f, inner) => `object(key: "contact") { ${inner} }`,
  Record: (f, inner) => `record(id: "${f.page}") { ${inner} }`,
  AssociationGroup: (f, inner) => `record(id: "${f.page}") { associationGroups { ${inner} } }`,
  AssociationLabel: (_f, inner) => `associationLabel(key: "spouse") { ${inner} }`,
  WebhookEndpoint: (_f, inner) => `webhookEndpoints { ${inner} }`,
  ImportJob: (f, inner) => `importJob(id: "${f.valid.ImportJob}") { ${inner} }`,
};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

interface Fixtures {
  ws: TestWorkspace;
  admin: Gql;
  /** A USER with ASSIGNED access to contacts and NONE to the vault object. */
  restricted: TestUser;
  /** An id of each type in this workspace, visible to both callers. */
  valid: Record<NodeType, string>;
  /** A second visible record (for the other side of a link). */
  valid2: string;
  /** A record with associations and events (entry point for Record fields). */
  page: string;
  /** Ids of each type hidden from `restricted`. */
  hidden: Partial<Record<NodeType, string[]>>;
}

async function arrange(app: ReturnType<typeof useTestApp>, name: string): Promise<Fixtures> {
  const ws = await app.workspace(name);
  const admin = ws.gql;
  const restricted = await createUser(app, admin, 'USER', 'Restricted');
  const vault = await createObject(admin, 'vault');
  await setAccess(admin, restricted.id, 'contact', 'ASSIGNED');
  await setAccess(admin, restricted.id, vault.key, 'NONE');
  const label = await createLabel(admin, { key: 'spouse', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Spouse' });
  await createLabel(admin, { key: 'keeper', firstObjectKey: 'contact', secondObjectKey: vault.key, type: 'PAIR', firstLabel: 'Keeper', secondLabel: 'Vault' });
  const mine1 = await contact(admin, 'Mine One', restricted.id);
  const mine2 = await contact(admin, 'Mine Two', restricted.id);
  const theirs = await contact(admin, 'Theirs', gid('User', ws.userId));
  const box = await createRecord(admin, vault.key, { name: 'Box' });
  const [visibleAssociation] = await link(admin, mine1, mine2, ['spouse']);
  const [hiddenAssociation] = await link(admin, theirs, mine1, ['spouse']);
  const [noneAssociation] = await link(admin, mine1, box, ['keeper']);
  const key = await createApiKey(admin, restricted.id, 'spare');
  // A webhook endpoint (a public IP literal: never posted to here) and a delivery of the label made after it.
  const endpoint = data(
    await admin(`mutation { createWebhookEndpoint(input: { url: "https://93.184.215.14/hook" }) { ... on CreateWebhookEndpointSuccess { webhookEndpoint { id } } } }`),
  ).createWebhookEndpoint.webhookEndpoint.id as string;
  await createLabel(admin, { key: 'hooked', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Hooked' });
  const deliveries = data(await admin(`{ webhookEndpoints { deliveries(first: 1) { edges { node { id } } } } }`));
  const events = data(await admin(`query ($id: ID!) { record(id: $id) { associationEvents(first: 1) { edges { node { id } } } } }`, { id: mine1 }));
  // An import job (a dry run that rejects its one row, so its errors connection has an item).
  const form = new FormData();
  form.set('operations', JSON.stringify({
    query: 'mutation ($input: ImportAssociationsInput!) { importAssociations(input: $input) { ... on ImportAssociationsSuccess { importJob { id } } } }',
    variables: { input: { file: null, dryRun: true } },
  }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new Blob([`firstRecordId,secondRecordId,labelKeys\n${mine1},${mine2},nope\n`], { type: 'text/csv' }), 'probe.csv');
  const uploaded = (await (await app.app.fetch(ENDPOINT, { method: 'POST', headers: { authorization: `Bearer ${ws.apiKey}` }, body: form })).json()) as any;
  const importJob = uploaded.data.importAssociations.importJob.id as string;
  for (let tries = 0; (await admin(`query ($id: ID!) { importJob(id: $id) { status } }`, { id: importJob })).data.importJob.status !== 'SUCCEEDED'; tries += 1) {
    if (tries > 200) throw new Error('the import job did not end');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    ws,
    admin,
    restricted,
    valid: {
      Record: mine1,
      User: restricted.id,
      Object: vault.id,
      AssociationLabel: label.id,
      Association: visibleAssociation!,
      Workspace: gid('Workspace', ws.workspaceId),
      ApiKey: key.id,
      AssociationEvent: events.record.associationEvents.edges[0].node.id,
      WebhookEndpoint: endpoint,
      WebhookDelivery: deliveries.webhookEndpoints[0].deliveries.edges[0].node.id,
      ImportJob: importJob,
    },
    valid2: mine2,
    page: mine1,
    hidden: { Record: [theirs, box], Association: [hiddenAssociation!, noneAssociation!] },
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the schema
// ---------------------------------------------------------------------------------------------

interface Slot {
  /** e.g. `Mutation.linkRecords(input.links.firstRecordId)` */
  coordinate: string;
  parent: GraphQLObjectType;
  field: GraphQLField<unknown, unknown>;
  /** Argument path; '[]' marks a list level. */
  path: string[];
  type: ProbeType | undefined;
}

const isRequired = (type: GraphQLInputType, defaultValue: unknown) => isNonNullType(type) && defaultValue === undefined;
const coordinateOf = (parent: string, field: string, path: string[]) => `${parent}.${field}(${path.filter((p) => p !== '[]').join('.')})`;

function classify(coordinate: string, leaf: string): ProbeType | undefined {
  return BY_COORDINATE[coordinate] ?? (leaf === 'id' ? undefined : BY_NAME[leaf]);
}

/** Every ID slot in a field's arguments, however deep. */
function idSlots(parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>): Slot[] {
  const slots: Slot[] = [];
  const walk = (type: GraphQLInputType, path: string[], seen: Set<string>) => {
    if (isNonNullType(type)) return walk(type.ofType, path, seen);
    if (isListType(type)) return walk(type.ofType, [...path, '[]'], seen);
    if (isScalarType(type) && type.name === 'ID') {
      const coordinate = coordinateOf(parent.name, field.name, path);
      const leaf = path.filter((p) => p !== '[]').at(-1)!;
      slots.push({ coordinate, parent, field, path, type: classify(coordinate, leaf) });
      return;
    }
    if (isInputObjectType(type) && !seen.has(type.name)) {
      for (const inner of Object.values(type.getFields())) walk(inner.type, [...path, inner.name], new Set([...seen, type.name]));
    }
  };
  for (const arg of field.args) walk(arg.type, [arg.name], new Set());
  return slots;
}

// ---------------------------------------------------------------------------------------------
// Building calls
// ---------------------------------------------------------------------------------------------

/** Values for scalar arguments by name: keys that exist in the caller's workspace. */
const STRING_BY_NAME: Record<string, string> = {
  objectKey: 'contact',
  firstObjectKey: 'contact',
  secondObjectKey: 'contact',
  otherObjectKey: 'contact',
  labelKey: 'spouse',
  labelKeys: 'spouse',
  key: 'spouse',
  name: 'Probe',
  email: 'probe@example.com',
  primaryProperty: 'firstName',
};

function scalarValue(typeName: string, name: string): unknown {
  switch (typeName) {
    case 'String':
      return STRING_BY_NAME[name] ?? 'probe';
    case 'Int':
      return name === 'first' ? 10 : 1;
    case 'Float':
      return 1;
    case 'Boolean':
      return false;
    case 'JSONObject':
      return {};
    case 'DateTime':
      return new Date(0).toISOString();
    default:
      throw new Error(`no default value for scalar ${typeName} (${name})`);
  }
}

interface CallPlan {
  slot: Slot;
  probe: string;
  fixtures: Fixtures;
}

/** An argument value: the probe on the probe path, defaults for what is required, nothing else. */
function buildValue(type: GraphQLInputType, name: string, rest: string[] | null, plan: CallPlan, path: string[]): unknown {
  if (isNonNullType(type)) return buildValue(type.ofType, name, rest, plan, path);
  if (isListType(type)) return [buildValue(type.ofType, name, rest && rest[0] === '[]' ? rest.slice(1) : rest, plan, [...path, '[]'])];
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const inner of Object.values(type.getFields())) {
      const onPath = rest !== null && rest[0] === inner.name;
      if (onPath || isRequired(inner.type, inner.defaultValue)) {
        value[inner.name] = buildValue(inner.type, inner.name, onPath ? rest.slice(1) : null, plan, [...path, inner.name]);
      }
    }
    return value;
  }
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isScalarType(type) && type.name === 'ID') {
    if (rest !== null && rest.length === 0) return plan.probe;
    // A required ID outside the probe path: a valid, visible id of its type.
    const coordinate = coordinateOf(plan.slot.parent.name, plan.slot.field.name, path);
    const kind = classify(coordinate, name);
    if (!kind || kind === 'any') throw new Error(`unclassified filler ID ${coordinate}`);
    return kind === 'Record' && name === 'secondRecordId' ? plan.fixtures.valid2 : plan.fixtures.valid[kind];
  }
  if (isScalarType(type)) return scalarValue(type.name, name);
  throw new Error(`cannot build a value of ${String(type)}`);
}

function buildArgs(plan: CallPlan): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const arg of plan.slot.field.args) {
    const onPath = plan.slot.path[0] === arg.name;
    if (onPath || isRequired(arg.type, arg.defaultValue)) {
      args[arg.name] = buildValue(arg.type, arg.name, onPath ? plan.slot.path.slice(1) : null, plan, [arg.name]);
    }
  }
  return args;
}

/** A selection of every field without required arguments, objects `depth` levels down. */
function selection(schema: GraphQLSchema, type: GraphQLOutputType | GraphQLNamedType, depth: number): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  // Members' fields are aliased by their type: the same name may have another type in another
  // member (ImportJob.status and WebhookDelivery.status), which one selection cannot ask for.
  const fields = (object: GraphQLObjectType | GraphQLInterfaceType, level: number, clashes = new Set<string>()) =>
    Object.values(object.getFields())
      .filter((field) => field.args.every((arg) => !isRequired(arg.type, arg.defaultValue)))
      .map((field) => {
        const name = clashes.has(field.name) ? `${object.name}_${field.name}: ${field.name}` : field.name;
        if (isLeafType(getNamedType(field.type))) return name;
        return level > 0 ? `${name} ${selection(schema, field.type, level - 1)}` : '';
      })
      .join(' ');
  if (isObjectType(named)) return `{ __typename ${fields(named, depth)} }`;
  if (isInterfaceType(named) || isUnionType(named)) {
    const own = isInterfaceType(named) ? fields(named, 0) : '';
    const possible = schema.getPossibleTypes(named);
    const typesOf = new Map<string, Set<string>>();
    for (const member of possible) {
      for (const field of Object.values(member.getFields())) typesOf.set(field.name, (typesOf.get(field.name) ?? new Set()).add(String(field.type)));
    }
    const clashes = new Set([...typesOf].filter(([, types]) => types.size > 1).map(([name]) => name));
    const members = possible.map((member) => `... on ${member.name} { __typename ${fields(member, depth, clashes)} }`);
    return `{ __typename ${own} ${members.join(' ')} }`;
  }
  throw new Error(`cannot select ${named.name}`);
}

function operation(schema: GraphQLSchema, plan: CallPlan): { query: string; variables: Record<string, unknown> } {
  const { parent, field } = plan.slot;
  const variables = buildArgs(plan);
  const defs = field.args.filter((arg) => arg.name in variables).map((arg) => `$${arg.name}: ${String(arg.type)}`);
  const call = `${field.name}(${Object.keys(variables).map((name) => `${name}: $${name}`).join(', ')}) ${selection(schema, field.type, 2)}`;
  if (parent.name === 'Mutation') return { query: `mutation Probe(${defs.join(', ')}) { ${call} }`, variables };
  const entry = ENTRIES[parent.name];
  if (!entry) throw new Error(`no entry point for ${parent.name}`);
  return { query: `query Probe(${defs.join(', ')}) { ${entry(plan.fixtures, call)} }`, variables };
}

// ---------------------------------------------------------------------------------------------
// What a "not found" answer looks like (so a probe cannot pass by failing for another reason)
// ---------------------------------------------------------------------------------------------

function assertNotFoundLike(response: GraphQLResponse, isMutation: boolean, label: string) {
  expect(response.status, label).toBe(200);
  expect(response.errors, `${label}: ${JSON.stringify(response.errors)}`).toBeUndefined();
  if (isMutation) {
    // A mutation names what it did not find.
    expect(Object.values(response.data ?? {})[0], label).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    return;
  }
  // A read: nothing but nulls and empty connections where the probed id decides.
  let markers = 0;
  const walk = (value: any, where: string): void => {
    if (value === null) {
      markers += 1;
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${where}[${i}]`));
    } else if (typeof value === 'object') {
      if (typeof value.__typename === 'string' && value.__typename.endsWith('Connection')) {
        expect(value.totalCount, `${label} at ${where}`).toBe(0);
        markers += 1;
      } else {
        for (const [key, inner] of Object.entries(value)) walk(inner, `${where}.${key}`);
      }
    }
  };
  walk(response.data, 'data');
  expect(markers, `${label}: ${JSON.stringify(response.data)}`).toBeGreaterThan(0);
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

let schema: GraphQLSchema;
let home: Fixtures;
let away: Fixtures;
const randomId = (type: NodeType) => gid(type, 100_000_000 + Math.floor(Math.random() * 800_000_000));

beforeAll(async () => {
  home = await arrange(t, 'Home');
  away = await arrange(t, 'Away');
  const introspection = data(await home.admin(getIntrospectionQuery()));
  schema = buildClientSchema(introspection as unknown as IntrospectionQuery);
});

/**
 * The fields of every type with an entry point, plus Query and Mutation. Subscription is probed
 * over its own transport in test/subscriptions.test.ts (another workspace's, a hidden and a
 * missing recordId each match nothing).
 */
function probedParents(): GraphQLObjectType[] {
  return Object.values(schema.getTypeMap()).filter(
    (type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__') && type.name !== 'Subscription',
  );
}

describe('every ID argument answers like a non-existent id for another workspace and for hidden records', () => {
  it('is classified (a new ID argument must be added to the tables)', () => {
    const slots = probedParents().flatMap((parent) => Object.values(parent.getFields()).flatMap((field) => idSlots(parent, field)));
    const unclassified = slots.filter((slot) => slot.type === undefined).map((slot) => slot.coordinate);
    expect(unclassified, 'ID slots without a node type: add them to BY_NAME or BY_COORDINATE').toEqual([]);
    const unreachable = [...new Set(slots.map((slot) => slot.parent.name))].filter((name) => name !== 'Mutation' && !ENTRIES[name]);
    expect(unreachable, 'types with ID-taking fields but no entry point in ENTRIES').toEqual([]);
    const coordinates = new Set(slots.map((slot) => slot.coordinate));
    const stale = Object.keys(BY_COORDINATE).filter((coordinate) => !coordinates.has(coordinate));
    expect(stale, 'BY_COORDINATE entries that match no field').toEqual([]);
    // The SPEC's ID-taking operations are all found.
    for (const coordinate of [
      'Query.node(id)',
      'Query.nodes(ids)',
      'Query.record(id)',
      'Query.records(filter.associatedWith.recordId)',
      'Query.associationLabel(id)',
      'Mutation.linkRecords(input.firstRecordId)',
      'Mutation.batchLinkRecords(input.links.secondRecordId)',
      'Mutation.batchUnlinkRecords(input.unlinks.firstRecordId)',
      'Mutation.createRecord(input.ownerId)',
      'Mutation.setObjectPermission(input.userId)',
      'Mutation.revokeApiKey(input.id)',
    ]) {
      expect(coordinates.has(coordinate), coordinate).toBe(true);
    }
  });

  it('for every Query and Mutation field (and nested field) that takes an ID', async () => {
    const slots = probedParents().flatMap((parent) => Object.values(parent.getFields()).flatMap((field) => idSlots(parent, field)));
    expect(slots.length).toBeGreaterThan(20);
    const covered: string[] = [];
    for (const slot of slots) {
      const types = slot.type === 'any' ? ALL_TYPES : [slot.type!];
      const isMutation = slot.parent.name === 'Mutation';
      for (const type of types) {
        const run = async (caller: Gql, probe: string) => {
          const { query, variables } = operation(schema, { slot, probe, fixtures: home });
          return { response: await caller(query, variables), query };
        };
        const label = `${slot.coordinate} [${type}]`;

        // The admin: another workspace's id and a missing one.
        const missing = randomId(type);
        const adminMissing = await run(home.admin, missing);
        assertNotFoundLike(adminMissing.response, isMutation, `${label} missing`);
        const adminOther = await run(home.admin, away.valid[type]);
        expect(answer(adminOther.response, [[away.valid[type], '<ID>']]), `${label} other workspace (admin)`).toEqual(
          answer(adminMissing.response, [[missing, '<ID>']]),
        );

        // A positive control for reads: a valid id of the type changes the answer, so the id decides.
        if (!isMutation && NODE_TYPES.has(type)) {
          const control = await run(home.admin, home.valid[type]);
          expect(control.response.errors, `${label} control`).toBeUndefined();
          expect(answer(control.response, [[home.valid[type], '<ID>']]), `${label} control`).not.toEqual(
            answer(adminMissing.response, [[missing, '<ID>']]),
          );
        }

        // The restricted user: another workspace's id, hidden ids of the type, a missing one.
        const restrictedMissing = await run(home.restricted.gql, missing);
        const expected = answer(restrictedMissing.response, [[missing, '<ID>']]);
        expect(restrictedMissing.response.status, label).toBe(200);
        const probes: [string, string][] = [
          ['other workspace', away.valid[type]],
          ...(home.hidden[type] ?? []).map((id, i): [string, string] => [`hidden #${i + 1}`, id]),
        ];
        for (const [kind, probe] of probes) {
          const seen = await run(home.restricted.gql, probe);
          expect(answer(seen.response, [[probe, '<ID>']]), `${label} ${kind} (restricted user)`).toEqual(expected);
        }
        covered.push(`${label}: admin {other, missing}; restricted {${probes.map(([kind]) => kind).join(', ')}, missing}`);
      }
    }
    console.log(`[isolation] ${covered.length} probes over ${slots.length} ID arguments:\n  ${covered.join('\n  ')}`);
    const withoutIds = [schema.getQueryType()!, schema.getMutationType()!].flatMap((root) =>
      Object.values(root.getFields())
        .filter((field) => idSlots(root, field).length === 0)
        .map((field) => `${root.name}.${field.name}`),
    );
    console.log(`[isolation] root fields without an ID argument (nothing to probe): ${withoutIds.join(', ')}`);
  });
});

describe('cursors', () => {
  it('a cursor from another workspace answers exactly like a garbage cursor, on every connection field', async () => {
    const fields = probedParents().flatMap((parent) =>
      Object.values(parent.getFields())
        .filter((field) => field.args.some((arg) => arg.name === 'after'))
        .map((field) => ({ parent, field })),
    );
    const unreachable = fields.filter(({ parent }) => !ENTRIES[parent.name]).map(({ parent, field }) => `${parent.name}.${field.name}`);
    expect(unreachable, 'connection fields without an entry point in ENTRIES').toEqual([]);
    expect(fields.length).toBeGreaterThanOrEqual(5);

    const covered: string[] = [];
    for (const { parent, field } of fields) {
      const call = (fixtures: Fixtures, after: string | null) => {
        const slot: Slot = { coordinate: `${parent.name}.${field.name}`, parent, field, path: ['__none__'], type: undefined };
        const plan: CallPlan = { slot, probe: '', fixtures };
        const variables: Record<string, unknown> = { ...buildArgs(plan), first: 1, ...(after === null ? {} : { after }) };
        const defs = field.args.filter((arg) => arg.name in variables).map((arg) => `$${arg.name}: ${String(arg.type)}`);
        const inner = `${field.name}(${Object.keys(variables).map((name) => `${name}: $${name}`).join(', ')}) { totalCount edges { cursor } pageInfo { endCursor hasNextPage } }`;
        return fixtures.admin(`query Cursor(${defs.join(', ')}) { ${ENTRIES[parent.name]!(fixtures, inner)} }`, variables);
      };
      const label = `${parent.name}.${field.name}`;
      const first = await call(home, null);
      const cursor = JSON.stringify(data(first)).match(/"endCursor":"([^"]+)"/)?.[1];
      expect(cursor, `${label}: a page in the home workspace has a cursor`).toBeDefined();
      // At home, the cursor works.
      const next = await call(home, cursor!);
      expect(next.errors, `${label} at home`).toBeUndefined();
      // Away, it is exactly a garbage cursor: a VALIDATION error.
      const away1 = await call(away, cursor!);
      const garbage = await call(away, 'garbage');
      expect(answer(away1, [[cursor!, '<CURSOR>']]), label).toEqual(answer(garbage, [['garbage', '<CURSOR>']]));
      expect(away1.errors?.[0]?.extensions?.code, label).toBe('VALIDATION');
      covered.push(label);
    }
    console.log(`[isolation] cursors checked on: ${covered.join(', ')}`);
  });
});
