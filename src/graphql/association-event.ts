import type { Context } from '../context.js';
import type { AssociationEventRow } from '../loaders/association-events.js';
import { encodeGlobalId } from '../services/ids.js';
import { AssociationLabelRef } from './association-label.js';
import { builder } from './builder.js';
import { connectionOf, connectionType, pageOf, type PageArgs } from './connection.js';
import { UserRef } from './user.js';
import { SubscriberTooSlowError, subscribeToAssociationEvents, type CommittedAssociationEvent } from '../feed/bus.js';
import { createLoaders } from '../loaders/index.js';
import { idOf } from './ids.js';
import { GraphQLError } from 'graphql';

export const AssociationActionEnum = builder.enumType('AssociationAction', {
  description: 'What happened to an association.',
  values: {
    LINKED: { description: 'The records were linked.' },
    UNLINKED: { description: 'The records were unlinked: by an unlink, the deletion of a record, or a forced label deletion.' },
  } as const,
});

const AssociationEventRef = builder.objectRef<AssociationEventRow>('AssociationEvent').implement({
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

export const AssociationEventConnectionRef = connectionType<AssociationEventRow>('AssociationEvent', AssociationEventRef);

/** Events of a record, newest first (see loaders/association-events.ts for which ones). */
export async function associationEvents(ctx: Context, recordId: number, args: PageArgs) {
  const page = pageOf(args, ctx);
  const events = await ctx.loaders.associationEvents.load({ recordId, take: page.take, afterId: page.afterId });
  return connectionOf(events, page, ctx, () => ctx.loaders.associationEventTotal.load(recordId), (event) => ({ node: event }));
}

builder.subscriptionField('associationEvents', (t) =>
  t.field({
    type: AssociationEventRef,
    description:
      'Association events (LINKED, UNLINKED) of your workspace as they are committed, by any process or server, in commit ' +
      'order: those whose records you may see (an event whose other record still exists but is hidden from you is left ' +
      'out, as in Record.associationEvents). Starts with the next event. Over GraphQL over SSE: `Accept: text/event-stream`.',
    args: {
      recordId: t.arg.id({
        description: 'Only events of this record, on either side. A record that does not exist or that you cannot see matches nothing.',
      }),
      labelKey: t.arg.string({ description: 'Only events under this label, by key; a key no label has matches nothing.' }),
    },
    subscribe: (_root, args, ctx) =>
      subscribeToAssociationEvents(ctx.viewer, {
        recordId: args.recordId == null ? undefined : (idOf('Record', args.recordId) ?? 0),
        labelKey: args.labelKey ?? undefined,
      }) as Promise<AsyncIterable<CommittedAssociationEvent>>,
    resolve: (event, _args, ctx) => {
      if (event instanceof SubscriberTooSlowError) {
        throw new GraphQLError(event.message, { extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });
      }
      // Each event is read with loaders of its own, at the workspace's metadata version when it
      // was read (a label created or renamed since the subscription began is seen as it is now).
      // graphql-js executes a subscription's events one after the other, so this is the event's.
      ctx.loaders = createLoaders({ ...ctx.viewer, schemaVersion: event.schemaVersion });
      return event;
    },
  }),
);
