import type { Prisma } from '../../src/db/index.js';
import { prisma } from '../../src/db/index.js';

/**
 * The association events (LINKED, UNLINKED) of the log, oldest first, with the fields every
 * association event has typed as present. The log also holds label and record events.
 */
export async function associationEventRows(where: Prisma.AssociationEventWhereInput) {
  const rows = await prisma.associationEvent.findMany({ where: { ...where, action: { in: ['LINKED', 'UNLINKED'] } }, orderBy: { id: 'asc' } });
  return rows.map((row) => ({
    ...row,
    labelKey: row.labelKey!,
    associationId: row.associationId!,
    firstRecordId: row.firstRecordId!,
    secondRecordId: row.secondRecordId!,
  }));
}
