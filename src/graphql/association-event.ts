import { Prisma, reader } from '../db/index.js';
import { timestamp } from '../db/reader.js';
import type { Context } from '../context.js';
import { encodeGlobalId } from '../services/ids.js';
import { visibleRecordSql } from '../services/visibility.js';
import { AssociationLabelRef } from './association-label.js';
import { builder } from './builder.js';
import { connectionOf, connectionType, pageOf, type PageArgs } from './connection.js';
import { UserRef } from './user.js';

interface EventShape {
  id: number;
  action: 'LINKED' | 'UNLINKED';
  labelId: number | null;
  firstRecordId: number;
  secondRecordId: number;
  actorId: number | null;
  at: Date;
}

export const AssociationActionEnum = builder.enumType('AssociationAction', {
  description: 'What happened to an association.',
  values: {
    LINKED: { description: 'The records were linked.' },
    UNLINKED: { description: 'The records were unlinked: by an unlink, the deletion of a record, or a forced label deletion.' },
  } as const,
});

const AssociationEventRef = builder.objectRef<EventShape>('AssociationEvent').implement({
  description: 'One entry of the append-only association log.',
  fields: (t) => ({
    id: t.id({ description: 'The id of the event.', resolve: (event) => encodeGlobalId('AssociationEvent', event.id) }),
    action: t.field({ type: AssociationActionEnum, description: 'LINKED or UNLINKED.', resolve: (event) => event.action }),
    label: t.field({
      type: AssociationLabelRef,
      nullable: true,
      description: 'The label; null once it has been deleted.',
      resolve: async (event, _args, ctx) => (event.labelId === null ? null : ((await ctx.loaders.label(event.labelId)) ?? null)),
    }),
    firstRecordId: t.id({
      description: "The id of the record on the label's first side (it may since have been deleted).",
      resolve: (event) => encodeGlobalId('Record', event.firstRecordId),
    }),
    secondRecordId: t.id({
      description: "The id of the record on the label's second side (it may since have been deleted).",
      resolve: (event) => encodeGlobalId('Record', event.secondRecordId),
    }),
    actor: t.field({
      type: UserRef,
      nullable: true,
      description: 'The user who made the change; null when not known.',
      resolve: (event, _args, ctx) => (event.actorId === null ? null : ctx.loaders.user.load(event.actorId)),
    }),
    at: t.field({ type: 'DateTime', description: 'When it happened.', resolve: (event) => event.at }),
  }),
});

export const AssociationEventConnectionRef = connectionType<EventShape>('AssociationEvent', AssociationEventRef);

/**
 * Events of a record, newest first. An event whose other record still exists but is hidden
 * from the viewer is left out, like the record itself.
 */
export async function associationEvents(ctx: Context, recordId: number, args: PageArgs) {
  const page = pageOf(args, ctx);
  const from = Prisma.sql`"AssociationEvent" e
    LEFT JOIN "Record" o ON o."id" = CASE WHEN e."firstRecordId" = ${recordId} THEN e."secondRecordId" ELSE e."firstRecordId" END
    WHERE e."workspaceId" = ${ctx.viewer.workspaceId}
      AND e."action" IN ('LINKED', 'UNLINKED')
      AND (e."firstRecordId" = ${recordId} OR e."secondRecordId" = ${recordId})
      AND (o."id" IS NULL OR (${visibleRecordSql(ctx.viewer, 'o')}))`;
  const before = page.afterId > 0 ? Prisma.sql` AND e."id" < ${page.afterId}` : Prisma.empty;
  const rows = await reader.rows(Prisma.sql`
    SELECT e."id", e."action", e."labelId", e."firstRecordId", e."secondRecordId", e."actorId", e."at"
    FROM ${from}${before} ORDER BY e."id" DESC LIMIT ${page.take}`);
  const events: EventShape[] = rows.map((row) => ({
    id: Number(row.id),
    action: row.action as EventShape['action'],
    labelId: row.labelId === null ? null : Number(row.labelId),
    firstRecordId: Number(row.firstRecordId),
    secondRecordId: Number(row.secondRecordId),
    actorId: row.actorId === null ? null : Number(row.actorId),
    at: timestamp(row.at),
  }));
  const total = async () => Number((await reader.rows<{ n: unknown }>(Prisma.sql`SELECT COUNT(*) AS n FROM ${from}`))[0]?.n ?? 0);
  return connectionOf(events, page, ctx, total, (event) => ({ node: event }));
}
