import type { WebhookDelivery, WebhookEndpoint } from '../db/generated/sqlite/client.js';
import { prisma } from '../db/index.js';
import type { Context } from '../context.js';
import { EVENT_TYPE_LIST } from '../feed/events.js';
import {
  createEndpoint,
  deleteEndpoint,
  deliveriesOf,
  eventTypesOf,
  listEndpoints,
  MAX_WEBHOOK_ENDPOINTS,
  redeliver,
  updateEndpoint,
} from '../feed/webhooks.js';
import { encodeGlobalId } from '../services/ids.js';
import { isAdmin } from '../services/viewer.js';
import { builder } from './builder.js';
import { connectionOf, connectionType, pageArgs, pageOf } from './connection.js';
import { resultUnion } from './errors.js';
import { idOf, nodeId } from './ids.js';

const EVENT_TYPES_TEXT = EVENT_TYPE_LIST.join(', ');
const policy = (ctx: Context) => ctx.webhookPolicy ?? { allowPrivate: false };

export const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  description: 'Where a delivery stands.',
  values: {
    PENDING: { description: 'Not delivered yet: waiting for its first attempt or for a retry.' },
    SUCCEEDED: { description: 'The endpoint answered 2xx.' },
    FAILED: { description: 'Every attempt of the retry schedule failed; redeliverWebhook sends it again.' },
  } as const,
});

const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery');
const WebhookEndpointRef = builder.objectRef<WebhookEndpoint>('WebhookEndpoint');

builder.node(WebhookDeliveryRef, {
  description: 'One event for one webhook endpoint, and how posting it went (admins only).',
  id: { resolve: (delivery) => delivery.id },
  loadManyWithoutCache: async (ids, ctx) => {
    if (!isAdmin(ctx.viewer)) return ids.map(() => null);
    const rows = await prisma.webhookDelivery.findMany({
      where: { id: { in: ids.map(nodeId) }, endpoint: { workspaceId: ctx.viewer.workspaceId } },
    });
    return ids.map((id) => rows.find((row) => row.id === nodeId(id)) ?? null);
  },
  fields: (t) => ({
    eventId: t.id({
      description: 'The id of the event, also sent as the `webhook-id` header (the same on every attempt).',
      resolve: (delivery) => encodeGlobalId('AssociationEvent', delivery.eventId),
    }),
    eventType: t.exposeString('eventType', { description: `The event's type: ${EVENT_TYPES_TEXT}.` }),
    status: t.field({ type: WebhookDeliveryStatusEnum, description: 'PENDING, SUCCEEDED or FAILED.', resolve: (delivery) => delivery.status }),
    attempts: t.exposeInt('attempts', { description: 'Attempts made so far (since the last redelivery).' }),
    responseStatus: t.exposeInt('responseStatus', {
      nullable: true,
      description: "The HTTP status of the last attempt's answer; null before the first attempt or when none came (timeout, refused address, connection error).",
    }),
    lastAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the last attempt was made; null before the first.',
      resolve: (delivery) => delivery.lastAttemptAt,
    }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the next attempt is due; null once it has SUCCEEDED or FAILED.',
      resolve: (delivery) => delivery.nextAttemptAt,
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When the event was written.', resolve: (delivery) => delivery.createdAt }),
  }),
});

const WebhookDeliveryConnectionRef = connectionType<WebhookDelivery>('WebhookDelivery', WebhookDeliveryRef);

builder.node(WebhookEndpointRef, {
  description:
    "A URL the workspace's change feed is posted to (Standard Webhooks: signed POSTs, retried until a 2xx). Admins only.",
  id: { resolve: (endpoint) => endpoint.id },
  loadManyWithoutCache: async (ids, ctx) => {
    if (!isAdmin(ctx.viewer)) return ids.map(() => null);
    const rows = await prisma.webhookEndpoint.findMany({ where: { id: { in: ids.map(nodeId) }, workspaceId: ctx.viewer.workspaceId } });
    return ids.map((id) => rows.find((row) => row.id === nodeId(id)) ?? null);
  },
  fields: (t) => ({
    url: t.exposeString('url', { description: 'Where events are posted.' }),
    description: t.exposeString('description', { nullable: true, description: 'What the endpoint is for, as its admin wrote it.' }),
    eventTypes: t.stringList({
      description: `The event types it receives (${EVENT_TYPES_TEXT}); empty: every type.`,
      resolve: (endpoint) => eventTypesOf(endpoint.eventTypes),
    }),
    enabled: t.exposeBoolean('enabled', {
      description: 'False: nothing is posted to it; deliveries already pending wait until it is enabled again, and new events are not kept for it.',
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (endpoint) => endpoint.createdAt }),
    deliveries: t.field({
      type: WebhookDeliveryConnectionRef,
      description: 'Its deliveries, newest first; with status, only those in that state.',
      args: {
        ...pageArgs(t.arg),
        status: t.arg({ type: WebhookDeliveryStatusEnum, description: 'Only deliveries in this state.' }),
      },
      resolve: async (endpoint, args, ctx) => {
        const page = pageOf(args, ctx);
        const { rows, count } = deliveriesOf(endpoint.id, { status: args.status, beforeId: page.afterId, take: page.take });
        return connectionOf(await rows, page, ctx, count, (row) => ({ node: row }));
      },
    }),
  }),
});

builder.queryField('webhookEndpoints', (t) =>
  t.field({
    type: [WebhookEndpointRef],
    description: 'The webhook endpoints of the workspace, oldest first. Admin only.',
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => listEndpoints(ctx.viewer),
  }),
);

const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  description: 'A new webhook endpoint.',
  fields: (t) => ({
    url: t.string({
      required: true,
      description:
        'An https URL (at most 2000 characters, no credentials) whose host resolves only to public addresses; ' +
        'plain http and private addresses only when the server allows them (RELATE_WEBHOOK_ALLOW_PRIVATE).',
    }),
    eventTypes: t.stringList({ description: `The event types to receive (${EVENT_TYPES_TEXT}); empty or left out: every type.` }),
    description: t.string({ description: 'What the endpoint is for, at most 500 characters.' }),
  }),
});
const UpdateWebhookEndpointInput = builder.inputType('UpdateWebhookEndpointInput', {
  description: 'Changes to a webhook endpoint; what is left out stays as it is.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The endpoint to change.' }),
    url: t.string({ description: 'A new URL, under the same rules as at creation.' }),
    eventTypes: t.stringList({ description: 'The event types to receive from now on; empty: every type.' }),
    description: t.string({ description: 'A new description; null clears it.' }),
    enabled: t.boolean({ description: 'False pauses it: nothing is posted to it until it is enabled again.' }),
  }),
});
const DeleteWebhookEndpointInput = builder.inputType('DeleteWebhookEndpointInput', {
  description: 'The webhook endpoint to delete.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The id of the endpoint.' }) }),
});
const RedeliverWebhookInput = builder.inputType('RedeliverWebhookInput', {
  description: 'The delivery to send again.',
  fields: (t) => ({ deliveryId: t.id({ required: true, description: 'The id of the delivery (WebhookDelivery.id).' }) }),
});

const CreateWebhookEndpointSuccess = builder
  .objectRef<{ endpoint: WebhookEndpoint; secret: string }>('CreateWebhookEndpointSuccess')
  .implement({
    description: 'The endpoint was created; events from now on are posted to it.',
    fields: (t) => ({
      webhookEndpoint: t.field({ type: WebhookEndpointRef, description: 'The new endpoint.', resolve: (result) => result.endpoint }),
      secret: t.exposeString('secret', {
        description: 'The signing secret (`whsec_…`) to verify its requests with: shown this once, never again.',
      }),
    }),
  });
const UpdateWebhookEndpointSuccess = builder.objectRef<WebhookEndpoint>('UpdateWebhookEndpointSuccess').implement({
  description: 'The endpoint was changed.',
  fields: (t) => ({
    webhookEndpoint: t.field({ type: WebhookEndpointRef, description: 'The endpoint as it is now.', resolve: (endpoint) => endpoint }),
  }),
});
const DeleteWebhookEndpointSuccess = builder.objectRef<WebhookEndpoint>('DeleteWebhookEndpointSuccess').implement({
  description: 'The endpoint was deleted, with its deliveries.',
  fields: (t) => ({
    deletedId: t.id({ description: 'The id the endpoint had.', resolve: (endpoint) => encodeGlobalId('WebhookEndpoint', endpoint.id) }),
  }),
});
const RedeliverWebhookSuccess = builder.objectRef<WebhookDelivery>('RedeliverWebhookSuccess').implement({
  description: 'The delivery is PENDING and due now.',
  fields: (t) => ({
    delivery: t.field({ type: WebhookDeliveryRef, description: 'The delivery as it is now.', resolve: (delivery) => delivery }),
  }),
});

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    description:
      'Creates a webhook endpoint (admin only) and answers its signing secret, once. ' +
      `Errors: FORBIDDEN, VALIDATION (url, eventTypes or description), LIMIT_EXCEEDED (${MAX_WEBHOOK_ENDPOINTS} endpoints per workspace).`,
    type: CreateWebhookEndpointSuccess,
    errors: resultUnion('createWebhookEndpoint'),
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true, description: 'The endpoint to create.' }) },
    resolve: (_root, { input }, ctx) => createEndpoint(ctx.viewer, input, policy(ctx)),
  }),
  updateWebhookEndpoint: t.field({
    description:
      'Changes a webhook endpoint (admin only): its URL, event types, description, or whether it is enabled. ' +
      'Errors: FORBIDDEN, VALIDATION (url, eventTypes or description), NOT_FOUND (id).',
    type: UpdateWebhookEndpointSuccess,
    errors: resultUnion('updateWebhookEndpoint'),
    args: { input: t.arg({ type: UpdateWebhookEndpointInput, required: true, description: 'The endpoint and its changes.' }) },
    resolve: (_root, { input }, ctx) => updateEndpoint(ctx.viewer, { ...input, id: idOf('WebhookEndpoint', input.id) }, policy(ctx)),
  }),
  deleteWebhookEndpoint: t.field({
    description: 'Deletes a webhook endpoint and its deliveries (admin only); nothing more is posted to it. Errors: FORBIDDEN, NOT_FOUND (id).',
    type: DeleteWebhookEndpointSuccess,
    errors: resultUnion('deleteWebhookEndpoint'),
    args: { input: t.arg({ type: DeleteWebhookEndpointInput, required: true, description: 'The endpoint to delete.' }) },
    resolve: (_root, { input }, ctx) => deleteEndpoint(ctx.viewer, idOf('WebhookEndpoint', input.id)),
  }),
  redeliverWebhook: t.field({
    description:
      'Sends a delivery again, whatever its status (admin only): it becomes PENDING and due now, with a new retry schedule, ' +
      'and the receiver gets the same webhook-id. Errors: FORBIDDEN, NOT_FOUND (deliveryId).',
    type: RedeliverWebhookSuccess,
    errors: resultUnion('redeliverWebhook'),
    args: { input: t.arg({ type: RedeliverWebhookInput, required: true, description: 'The delivery to send again.' }) },
    resolve: (_root, { input }, ctx) => redeliver(ctx.viewer, idOf('WebhookDelivery', input.deliveryId)),
  }),
}));
