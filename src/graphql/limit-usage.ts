import type { Context } from '../context.js';
import type { AnyRecord } from '../loaders/index.js';
import { recordLimitUsage, workspaceLimitUsage, type LimitUsage, type WorkspaceLimits } from '../services/limit-usage.js';
import { isRestricted } from '../services/viewer.js';
import { builder } from './builder.js';
import { AssociationLabelRef, ObjectRef, RecordRef } from './refs.js';

/** A usage row, with its record when the caller already holds it (Record.limitUsage). */
export type LimitUsageShape = LimitUsage & { record?: AnyRecord };

export const LimitUsageRef = builder.objectRef<LimitUsageShape>('LimitUsage').implement({
  description:
    'How much of one limit is used. Counts follow your visibility: records you cannot see are not counted. ' +
    'maxLabelsPerObjectPair comes with both objects, maxRecordsPerLabel with the label, maxAssociationsPerContact ' +
    'with the record, maxSecondPerFirst and maxFirstPerSecond with the label and the record.',
  fields: (t) => ({
    limit: t.string({
      description:
        'The limit: maxLabelsPerObjectPair, maxRecordsPerLabel, maxAssociationsPerContact, maxSecondPerFirst or maxFirstPerSecond.',
      resolve: (usage) => usage.limit,
    }),
    max: t.exposeInt('max', { description: 'The value of the limit.' }),
    current: t.exposeInt('current', { description: 'How much of it is used.' }),
    percent: t.exposeFloat('percent', {
      description: '100·current/max (100 for a limit of 0; over 100 when a limit was lowered below its usage).',
    }),
    label: t.field({
      type: AssociationLabelRef,
      nullable: true,
      description: 'For maxRecordsPerLabel, maxSecondPerFirst and maxFirstPerSecond: the label.',
      resolve: async (usage, _args, ctx) => (usage.labelId === null ? null : ((await ctx.loaders.label(usage.labelId)) ?? null)),
    }),
    firstObject: t.field({
      type: ObjectRef,
      nullable: true,
      description: 'For maxLabelsPerObjectPair: one of the two objects (the pair is unordered).',
      resolve: (usage, _args, ctx) => (usage.objectIds === null ? null : ctx.loaders.object(usage.objectIds[0])),
    }),
    secondObject: t.field({
      type: ObjectRef,
      nullable: true,
      description: 'For maxLabelsPerObjectPair: the other object (the same one for labels within one object).',
      resolve: (usage, _args, ctx) => (usage.objectIds === null ? null : ctx.loaders.object(usage.objectIds[1])),
    }),
    record: t.field({
      type: RecordRef,
      nullable: true,
      description: 'For maxAssociationsPerContact, maxSecondPerFirst and maxFirstPerSecond: the record.',
      resolve: (usage, _args, ctx) => usage.record ?? (usage.recordId === null ? null : ctx.loaders.record.load(usage.recordId)),
    }),
  }),
});

async function metadata(ctx: Context) {
  const [labels, objects] = await Promise.all([ctx.loaders.labels(), ctx.loaders.objects()]);
  return { labels: labels.list, objects: objects.byId };
}

/** Workspace.limitUsage: the limits closest to their maximum (admins). */
export async function workspaceUsage(ctx: Context, limits: WorkspaceLimits, first: number): Promise<LimitUsageShape[]> {
  return workspaceLimitUsage(ctx.viewer, { first, limits, ...(await metadata(ctx)) });
}

/**
 * Record.limitUsage, batched: the workspace's limits are read once per request, and the record's
 * counts per label and side once per page. A viewer who sees every record reads them from the
 * tallies (by key, whatever the records' degree); a restricted viewer counts the associations
 * with records they can see, with the request's group counts (shared with associationGroups).
 */
export async function recordUsage(ctx: Context, record: AnyRecord): Promise<LimitUsageShape[]> {
  const [counts, limits, meta] = await Promise.all([
    isRestricted(ctx.viewer) ? ctx.loaders.groupCounts.load({ recordId: record.id }) : ctx.loaders.tallyCounts.load(record.id),
    ctx.loaders.workspaceLimits(),
    metadata(ctx),
  ]);
  return recordLimitUsage(record, counts, { limits, ...meta }).map((usage) => ({ ...usage, record }));
}
