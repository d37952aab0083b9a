import type { AssociationLabelType, Cardinality } from '../db/generated/sqlite/enums.js';
import { prisma, type Tx } from '../db/index.js';
import { ConflictError, LabelInUseError, LimitExceededError, NotFoundError, ValidationError } from './errors.js';
import { nextDirectionLimits, type DirectionLimitsInput } from './label-limits.js';
import { labelSnapshotSelect, recordEvents } from '../feed/events.js';
import { removeAssociations } from './links.js';
import { lockedTransaction } from './lock.js';
import { bumpSchemaVersion } from './metadata.js';
import { findObjectByKey } from './objects.js';
import { requireAdmin, type Viewer } from './viewer.js';

export const LABEL_KEY = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_NAME = 100;

function labelName(value: string | null | undefined, field: string): string {
  const name = value?.trim() ?? '';
  if (!name || name.length > MAX_NAME) throw new ValidationError(`${field} must be 1 to ${MAX_NAME} characters.`, field);
  return name;
}

/** "Manager" / "Employee" → "manager_employee"; "Colleague" → "colleague". */
export function deriveLabelKey(firstLabel: string, secondLabel: string, type: AssociationLabelType): string {
  const source = type === 'SINGLE' ? firstLabel : `${firstLabel} ${secondLabel}`;
  const snake = source
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 56);
  // At most 56 characters, so a collision suffix (`_2`, …) keeps the key within 64.
  return /^[a-z]/.test(snake) ? snake : `label_${snake}`.slice(0, 56).replace(/_+$/, '');
}

async function uniqueKey(tx: Tx, workspaceId: number, base: string): Promise<string> {
  const taken = new Set(
    (
      await tx.associationLabel.findMany({
        where: { workspaceId, key: { startsWith: base } },
        select: { key: true },
      })
    ).map((label) => label.key),
  );
  if (!taken.has(base)) return base;
  for (let n = 2; ; n += 1) if (!taken.has(`${base}_${n}`)) return `${base}_${n}`;
}

export interface CreateLabelInput {
  key?: string | null;
  firstObjectKey: string;
  secondObjectKey: string;
  type: AssociationLabelType;
  firstLabel: string;
  secondLabel?: string | null;
  cardinality?: Cardinality | null;
}

export async function createLabel(viewer: Viewer, input: CreateLabelInput) {
  requireAdmin(viewer);
  const firstLabel = labelName(input.firstLabel, 'firstLabel');
  let secondLabel: string;
  if (input.type === 'SINGLE') {
    if (input.secondLabel != null && input.secondLabel.trim() !== firstLabel) {
      throw new ValidationError('A SINGLE label has one name: leave secondLabel out or equal to firstLabel.', 'secondLabel');
    }
    secondLabel = firstLabel;
  } else {
    secondLabel = labelName(input.secondLabel, 'secondLabel');
  }
  if (input.key != null && !LABEL_KEY.test(input.key)) {
    throw new ValidationError('key must match ^[a-z][a-z0-9_]{0,63}$.', 'key');
  }
  const cardinality = input.cardinality ?? 'MANY_TO_MANY';
  return lockedTransaction(viewer.workspaceId, async (tx) => {
    const firstObject = await findObjectByKey(tx, viewer, input.firstObjectKey);
    const secondObject = await findObjectByKey(tx, viewer, input.secondObjectKey);
    if (input.type === 'SINGLE' && firstObject.id === secondObject.id && cardinality === 'MANY_TO_ONE') {
      throw new ValidationError(
        'A SINGLE label between records of one object has no sides, so it cannot be MANY_TO_ONE; use ONE_TO_ONE or a PAIR label.',
        'cardinality',
      );
    }
    const workspace = await tx.workspace.findUniqueOrThrow({ where: { id: viewer.workspaceId } });
    const current = await tx.associationLabel.count({
      where: {
        workspaceId: viewer.workspaceId,
        OR: [
          { firstObjectId: firstObject.id, secondObjectId: secondObject.id },
          { firstObjectId: secondObject.id, secondObjectId: firstObject.id },
        ],
      },
    });
    if (current >= workspace.maxLabelsPerObjectPair) {
      throw new LimitExceededError(
        `There are already ${current} labels between ${firstObject.key} and ${secondObject.key}; the limit is ${workspace.maxLabelsPerObjectPair}.`,
        'maxLabelsPerObjectPair',
        workspace.maxLabelsPerObjectPair,
        current,
      );
    }
    let key: string;
    if (input.key != null) {
      key = input.key;
      const clash = await tx.associationLabel.findUnique({ where: { workspaceId_key: { workspaceId: viewer.workspaceId, key } } });
      if (clash) throw new ConflictError(`An association label with key "${key}" already exists.`);
    } else {
      key = await uniqueKey(tx, viewer.workspaceId, deriveLabelKey(firstLabel, secondLabel, input.type));
    }
    await bumpSchemaVersion(tx, viewer.workspaceId);
    const label = await tx.associationLabel.create({
      data: {
        workspaceId: viewer.workspaceId,
        key,
        type: input.type,
        cardinality,
        firstObjectId: firstObject.id,
        secondObjectId: secondObject.id,
        firstLabel,
        secondLabel,
      },
    });
    await recordEvents(tx, viewer, [{ action: 'LABEL_CREATED', label: { ...label, firstObject, secondObject } }]);
    return label;
  });
}

export async function findLabel(db: Tx, viewer: Viewer, id: number | null) {
  const label = id === null ? null : await db.associationLabel.findFirst({ where: { id, workspaceId: viewer.workspaceId } });
  if (!label) throw new NotFoundError('No association label with that id.');
  return label;
}

/**
 * Renames a label (for a SINGLE label, firstLabel names both sides) and sets or clears its
 * direction limits (see label-limits.ts), in one transaction under the workspace's write lock,
 * so a concurrent link checks against either the old limits or the new ones.
 */
export async function updateLabel(
  viewer: Viewer,
  input: { id: number | null; firstLabel?: string | null; secondLabel?: string | null } & DirectionLimitsInput,
) {
  requireAdmin(viewer);
  return lockedTransaction(viewer.workspaceId, async (tx) => {
    const label = await findLabel(tx, viewer, input.id);
    const firstLabel = input.firstLabel == null ? label.firstLabel : labelName(input.firstLabel, 'firstLabel');
    const secondLabel = input.secondLabel == null ? label.secondLabel : labelName(input.secondLabel, 'secondLabel');
    let names = { firstLabel, secondLabel };
    if (label.type === 'SINGLE') {
      // One name for both sides: either field renames the label.
      if (input.firstLabel != null && input.secondLabel != null && firstLabel !== secondLabel) {
        throw new ValidationError('A SINGLE label has one name: give firstLabel only.', 'secondLabel');
      }
      const name = input.firstLabel != null ? firstLabel : secondLabel;
      names = { firstLabel: name, secondLabel: name };
    }
    const { maxRecordsPerLabel } = await tx.workspace.findUniqueOrThrow({ where: { id: viewer.workspaceId } });
    const limits = nextDirectionLimits(label, input, maxRecordsPerLabel);
    await bumpSchemaVersion(tx, viewer.workspaceId);
    const { firstObject, secondObject, ...updated } = await tx.associationLabel.update({
      where: { id: label.id },
      data: { ...names, ...limits },
      include: { firstObject: { select: { key: true } }, secondObject: { select: { key: true } } },
    });
    await recordEvents(tx, viewer, [{ action: 'LABEL_UPDATED', label: { ...updated, firstObject, secondObject } }]);
    return updated;
  });
}

/**
 * Deletes a label that no association uses. With `force`, removes its associations too (each
 * one logged), in the same transaction.
 */
export async function deleteLabel(viewer: Viewer, input: { id: number | null; force?: boolean | null }) {
  requireAdmin(viewer);
  return lockedTransaction(viewer.workspaceId, async (tx) => {
    const label = await findLabel(tx, viewer, input.id);
    const inUse = await tx.association.count({ where: { labelId: label.id } });
    if (inUse > 0 && !input.force) {
      throw new LabelInUseError(
        `Label "${label.key}" is used by ${inUse} association(s): unlink them, or delete with force: true.`,
        inUse,
      );
    }
    const snapshot = await tx.associationLabel.findUniqueOrThrow({ where: { id: label.id }, select: labelSnapshotSelect });
    const removedAssociations = await removeAssociations(tx, viewer, { labelId: label.id }, [{ action: 'LABEL_DELETED', label: snapshot }]);
    await tx.associationLabel.delete({ where: { id: label.id } });
    await bumpSchemaVersion(tx, viewer.workspaceId);
    return { label, removedAssociations };
  });
}

export async function updateLimits(
  viewer: Viewer,
  input: { maxLabelsPerObjectPair?: number | null; maxRecordsPerLabel?: number | null; maxAssociationsPerContact?: number | null },
) {
  requireAdmin(viewer);
  for (const [field, value] of Object.entries(input)) {
    if (value != null && (!Number.isInteger(value) || value < 0 || value > 1_000_000)) {
      throw new ValidationError(`${field} must be a whole number from 0 to 1,000,000.`, field);
    }
  }
  return prisma.workspace.update({
    where: { id: viewer.workspaceId },
    data: {
      maxLabelsPerObjectPair: input.maxLabelsPerObjectPair ?? undefined,
      maxRecordsPerLabel: input.maxRecordsPerLabel ?? undefined,
      maxAssociationsPerContact: input.maxAssociationsPerContact ?? undefined,
    },
  });
}
