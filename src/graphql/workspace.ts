import type { Workspace } from '../db/generated/sqlite/client.js';
import { prisma } from '../db/index.js';
import { updateLimits } from '../services/labels.js';
import { builder } from './builder.js';
import { resultUnion } from './errors.js';
import { nodeId } from './ids.js';
import { LimitUsageRef, workspaceUsage } from './limit-usage.js';
import { UserRef } from './user.js';

export const AssociationLimitsRef = builder.objectRef<Workspace>('AssociationLimits').implement({
  description: 'The association limits of a workspace (admins change them with updateAssociationLimits).',
  fields: (t) => ({
    maxLabelsPerObjectPair: t.exposeInt('maxLabelsPerObjectPair', {
      description: 'Labels between the same two objects, in either order (10 in a new workspace).',
    }),
    maxRecordsPerLabel: t.exposeInt('maxRecordsPerLabel', {
      description: 'Distinct records linked by one label, both sides counted (1000 in a new workspace).',
    }),
    maxAssociationsPerContact: t.exposeInt('maxAssociationsPerContact', {
      description: 'Contact↔contact associations one contact takes part in (10 in a new workspace).',
    }),
  }),
});

export const WorkspaceRef = builder.prismaNode('Workspace', {
  description: 'A tenant. Everything belongs to exactly one workspace, and nothing crosses workspaces.',
  id: { field: 'id' },
  // node(id) of an unknown id or another workspace's is null, not an error.
  nullable: true,
  findUnique: (id, ctx) => ({ id: nodeId(id) === ctx.viewer.workspaceId ? ctx.viewer.workspaceId : -1 }),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The name of the workspace.' }),
    limits: t.field({ type: AssociationLimitsRef, description: 'Its association limits.', resolve: (workspace) => workspace }),
    limitUsage: t.field({
      type: [LimitUsageRef],
      description:
        'The limits closest to their maximum first, across every kind (labels per object pair, records per label, ' +
        'associations per contact, labels\' own limits per direction per record); unused ones are left out. Admin only.',
      authScopes: { admin: true },
      args: { first: t.arg.int({ defaultValue: 20, description: 'How many entries, 1 to 100 (default 20).' }) },
      resolve: (workspace, args, ctx) => workspaceUsage(ctx, workspace, args.first ?? 20),
    }),
  }),
});

interface ViewerShape {
  userId: number;
  workspaceId: number;
}

const ViewerRef = builder.objectRef<ViewerShape>('Viewer').implement({
  description: 'Who the API key belongs to.',
  fields: (t) => ({
    user: t.field({
      type: UserRef,
      description: 'The user the API key belongs to.',
      resolve: async ({ userId }, _args, ctx) => (await ctx.loaders.user.load(userId))!,
    }),
    workspace: t.prismaField({
      type: 'Workspace',
      description: "The user's workspace: the only one this key reads and writes.",
      resolve: (query, { workspaceId }) => prisma.workspace.findUniqueOrThrow({ ...query, where: { id: workspaceId } }),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({ type: ViewerRef, description: 'Who you are: the user of your API key, and its workspace.', resolve: (_root, _args, ctx) => ctx.viewer }),
);

const UpdateAssociationLimitsInput = builder.inputType('UpdateAssociationLimitsInput', {
  description: 'New workspace limits, each a whole number from 0 to 1,000,000; a limit left out or null keeps its value.',
  fields: (t) => ({
    maxLabelsPerObjectPair: t.int({ description: 'Labels between the same two objects, in either order.' }),
    maxRecordsPerLabel: t.int({ description: 'Distinct records linked by one label, both sides counted.' }),
    maxAssociationsPerContact: t.int({ description: 'Contact↔contact associations one contact takes part in.' }),
  }),
});

const UpdateAssociationLimitsSuccess = builder.objectRef<Workspace>('UpdateAssociationLimitsSuccess').implement({
  description: 'The limits were changed.',
  fields: (t) => ({
    limits: t.field({ type: AssociationLimitsRef, description: 'The limits now in force.', resolve: (workspace) => workspace }),
  }),
});

builder.mutationField('updateAssociationLimits', (t) =>
  t.field({
    description:
      'Changes the workspace limits (admin only). Lowering a limit below current usage is allowed: existing links stay, ' +
      'new links over it are refused. Errors: FORBIDDEN, VALIDATION (a value outside 0 to 1,000,000).',
    type: UpdateAssociationLimitsSuccess,
    errors: resultUnion('updateAssociationLimits'),
    args: { input: t.arg({ type: UpdateAssociationLimitsInput, required: true, description: 'The limits to change.' }) },
    resolve: (_root, { input }, ctx) => updateLimits(ctx.viewer, input),
  }),
);
