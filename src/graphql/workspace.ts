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
      description: 'Labels between the same two objects (either order).',
    }),
    maxRecordsPerLabel: t.exposeInt('maxRecordsPerLabel', { description: 'Distinct records linked by one label.' }),
    maxAssociationsPerContact: t.exposeInt('maxAssociationsPerContact', {
      description: 'Contact↔contact associations one contact takes part in.',
    }),
  }),
});

export const WorkspaceRef = builder.prismaNode('Workspace', {
  id: { field: 'id' },
  // node(id) of an unknown id or another workspace's is null, not an error.
  nullable: true,
  findUnique: (id, ctx) => ({ id: nodeId(id) === ctx.viewer.workspaceId ? ctx.viewer.workspaceId : -1 }),
  fields: (t) => ({
    name: t.exposeString('name'),
    limits: t.field({ type: AssociationLimitsRef, resolve: (workspace) => workspace }),
    limitUsage: t.field({
      type: [LimitUsageRef],
      description:
        'The limits closest to their maximum first, across every kind (labels per object pair, records per label, ' +
        'associations per contact, labels\' own limits per direction per record); unused ones are left out. Admin only.',
      authScopes: { admin: true },
      args: { first: t.arg.int({ defaultValue: 20, description: 'How many (1 to 100).' }) },
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
      resolve: async ({ userId }, _args, ctx) => (await ctx.loaders.user.load(userId))!,
    }),
    workspace: t.prismaField({
      type: 'Workspace',
      resolve: (query, { workspaceId }) => prisma.workspace.findUniqueOrThrow({ ...query, where: { id: workspaceId } }),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({ type: ViewerRef, resolve: (_root, _args, ctx) => ctx.viewer }),
);

const UpdateAssociationLimitsInput = builder.inputType('UpdateAssociationLimitsInput', {
  fields: (t) => ({
    maxLabelsPerObjectPair: t.int(),
    maxRecordsPerLabel: t.int(),
    maxAssociationsPerContact: t.int(),
  }),
});

const UpdateAssociationLimitsSuccess = builder.objectRef<Workspace>('UpdateAssociationLimitsSuccess').implement({
  fields: (t) => ({ limits: t.field({ type: AssociationLimitsRef, resolve: (workspace) => workspace }) }),
});

builder.mutationField('updateAssociationLimits', (t) =>
  t.field({
    description: 'Changes the workspace limits (admin only). Lowering a limit below current usage blocks new links over it.',
    type: UpdateAssociationLimitsSuccess,
    errors: resultUnion('updateAssociationLimits'),
    args: { input: t.arg({ type: UpdateAssociationLimitsInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateLimits(ctx.viewer, input),
  }),
);
