import { randomBytes } from 'node:crypto';
import type { WebhookDelivery, WebhookEndpoint } from '../db/generated/sqlite/client.js';
import type { WebhookDeliveryStatus } from '../db/generated/sqlite/enums.js';
import { prisma } from '../db/index.js';
import { LimitExceededError, NotFoundError, ValidationError } from '../services/errors.js';
import { lockedTransaction } from '../services/lock.js';
import { requireAdmin, type Viewer } from '../services/viewer.js';
import { wakeDispatcher } from './dispatcher.js';
import { EVENT_TYPE_LIST } from './events.js';
import { checkTarget } from './targets.js';

/**
 * Webhook endpoints and their deliveries, for workspace admins. An endpoint receives the events
 * of its workspace whose type it lists (all when it lists none) from the moment it is created;
 * feed/events.ts writes its deliveries with each event, feed/dispatcher.ts posts them.
 */

/** Endpoints per workspace: each event is written once per endpoint that wants it. */
export const MAX_WEBHOOK_ENDPOINTS = 20;
const MAX_DESCRIPTION = 500;

/** "whsec_" and 32 random bytes in base64, as Standard Webhooks libraries expect a secret. */
export const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** The stored filter (",a,b," or "" for all) as a list. */
export const eventTypesOf = (stored: string): string[] => stored.split(',').filter(Boolean);

function storedEventTypes(types: readonly string[]): string {
  types.forEach((type) => {
    if (!(EVENT_TYPE_LIST as readonly string[]).includes(type)) {
      throw new ValidationError(`eventTypes: "${type}" is not an event type; use ${EVENT_TYPE_LIST.join(', ')}.`, 'eventTypes');
    }
  });
  const unique = [...new Set(types)].sort();
  return unique.length ? `,${unique.join(',')},` : '';
}

function descriptionOf(value: string | null | undefined): string | null {
  const text = value?.trim() ?? '';
  if (text.length > MAX_DESCRIPTION) throw new ValidationError(`description is at most ${MAX_DESCRIPTION} characters.`, 'description');
  return text || null;
}

export interface WebhookPolicy {
  /** RELATE_WEBHOOK_ALLOW_PRIVATE: loopback and private targets and plain http are allowed. */
  allowPrivate: boolean;
}

export interface CreateEndpointInput {
  url: string;
  eventTypes?: readonly string[] | null;
  description?: string | null;
}

export async function createEndpoint(viewer: Viewer, input: CreateEndpointInput, policy: WebhookPolicy) {
  requireAdmin(viewer);
  const eventTypes = storedEventTypes(input.eventTypes ?? []);
  const description = descriptionOf(input.description);
  const url = await checkTarget(input.url, policy.allowPrivate);
  const secret = newSecret();
  const endpoint = await lockedTransaction(viewer.workspaceId, async (tx) => {
    const current = await tx.webhookEndpoint.count({ where: { workspaceId: viewer.workspaceId } });
    if (current >= MAX_WEBHOOK_ENDPOINTS) {
      throw new LimitExceededError(
        `The workspace has ${current} webhook endpoints; the limit is ${MAX_WEBHOOK_ENDPOINTS}.`,
        'webhookEndpoints',
        MAX_WEBHOOK_ENDPOINTS,
        current,
      );
    }
    return tx.webhookEndpoint.create({ data: { workspaceId: viewer.workspaceId, url, description, eventTypes, secret } });
  });
  return { endpoint, secret };
}

async function findEndpoint(viewer: Viewer, id: number | null): Promise<WebhookEndpoint> {
  const endpoint = id === null ? null : await prisma.webhookEndpoint.findFirst({ where: { id, workspaceId: viewer.workspaceId } });
  if (!endpoint) throw new NotFoundError('No webhook endpoint with that id.');
  return endpoint;
}

export interface UpdateEndpointInput {
  id: number | null;
  url?: string | null;
  eventTypes?: readonly string[] | null;
  description?: string | null;
  enabled?: boolean | null;
}

export async function updateEndpoint(viewer: Viewer, input: UpdateEndpointInput, policy: WebhookPolicy) {
  requireAdmin(viewer);
  const data: Partial<Pick<WebhookEndpoint, 'url' | 'eventTypes' | 'description' | 'enabled'>> = {};
  if (input.eventTypes != null) data.eventTypes = storedEventTypes(input.eventTypes);
  if (input.description !== undefined) data.description = descriptionOf(input.description);
  if (input.enabled != null) data.enabled = input.enabled;
  const endpoint = await findEndpoint(viewer, input.id);
  if (input.url != null) data.url = await checkTarget(input.url, policy.allowPrivate);
  if (Object.keys(data).length === 0) return endpoint;
  const updated = await lockedTransaction(viewer.workspaceId, async (tx) => {
    const { count } = await tx.webhookEndpoint.updateMany({ where: { id: input.id!, workspaceId: viewer.workspaceId }, data });
    return count ? tx.webhookEndpoint.findUnique({ where: { id: input.id! } }) : null;
  });
  if (!updated) throw new NotFoundError('No webhook endpoint with that id.');
  // Re-enabled: its parked deliveries are due.
  if (data.enabled) wakeDispatcher();
  return updated;
}

export async function deleteEndpoint(viewer: Viewer, id: number | null): Promise<WebhookEndpoint> {
  requireAdmin(viewer);
  const endpoint = await findEndpoint(viewer, id);
  // Its deliveries go with it (ON DELETE CASCADE): nothing more is posted to it.
  const { count } = await prisma.webhookEndpoint.deleteMany({ where: { id: endpoint.id, workspaceId: viewer.workspaceId } });
  if (!count) throw new NotFoundError('No webhook endpoint with that id.');
  return endpoint;
}

/**
 * Sends a delivery again, whatever its status: it becomes PENDING and due now, with a new retry
 * schedule (attempts count from 0 again). The receiver gets the same webhook-id.
 */
export async function redeliver(viewer: Viewer, deliveryId: number | null): Promise<WebhookDelivery> {
  requireAdmin(viewer);
  const where = { id: deliveryId ?? -1, endpoint: { workspaceId: viewer.workspaceId } };
  const { count } = await prisma.webhookDelivery.updateMany({
    where,
    data: { status: 'PENDING', attempts: 0, nextAttemptAt: new Date() },
  });
  const delivery = count ? await prisma.webhookDelivery.findFirst({ where }) : null;
  if (!delivery) throw new NotFoundError('No webhook delivery with that id.');
  wakeDispatcher();
  return delivery;
}

export function listEndpoints(viewer: Viewer): Promise<WebhookEndpoint[]> {
  requireAdmin(viewer);
  return prisma.webhookEndpoint.findMany({ where: { workspaceId: viewer.workspaceId }, orderBy: { id: 'asc' } });
}

/** A page of an endpoint's deliveries, newest first: `take` rows with ids below `beforeId` (0: from the newest). */
export function deliveriesOf(endpointId: number, options: { status?: WebhookDeliveryStatus | null; beforeId: number; take: number }) {
  const where = { endpointId, ...(options.status ? { status: options.status } : {}) };
  return {
    rows: prisma.webhookDelivery.findMany({
      where: { ...where, ...(options.beforeId > 0 ? { id: { lt: options.beforeId } } : {}) },
      orderBy: { id: 'desc' },
      take: options.take,
    }),
    count: () => prisma.webhookDelivery.count({ where }),
  };
}
