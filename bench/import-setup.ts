/**
 * The import benchmark's data (bench/import.ts runs this in a child process with DATABASE_URL set,
 * on a fresh database; nothing here is measured):
 *
 * - a workspace whose `contact` object has `email` as its unique field (declared before any
 *   record exists) and whose `maxRecordsPerLabel` is raised, through the same service as the
 *   `updateAssociationLimits` mutation, to the number of contacts: four labels then span all of
 *   them. `maxAssociationsPerContact` keeps its default of 10;
 * - C contacts, each with a unique email, loaded in bulk (multi-row INSERTs, as `relate seed
 *   --scale` does), their `uniqueValue` written as the record services write it;
 * - four contact↔contact labels, one per offset k = 1…4: contact i is linked to contact
 *   (i + k) mod C. Every contact is then in exactly 8 associations (4 as the first record, 4 as
 *   the second), under the default per-contact limit of 10, so every row passes every rule and
 *   each one is checked against a contact that is already near its limit. Two labels are SINGLE
 *   (stored with the lower id first, whatever order the file names them in), one is a PAIR and
 *   one a MANY_TO_ONE PAIR (a cardinality check on every row);
 * - `associations.csv`: the rows in a shuffled (deterministic) order, in the columns `relate
 *   export associations` writes and `relate import associations` reads; 9 rows in 10 name both
 *   records by object key and email, 1 in 10 by global id;
 * - `baseline.csv`: the same rows as the database stores them (record ids, the SINGLE labels' pairs
 *   ordered), for the bare-driver baselines.
 *
 *   DATABASE_URL=… tsx bench/import-setup.ts --rows R --dir DIR   → JSON on stdout
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { random } from '../src/cli/seed-scale.js';
import { closeDatabase, openDatabase, Prisma, prisma, provider } from '../src/db/index.js';
import { ASSOCIATION_COLUMNS, csvRow } from '../src/services/export.js';
import { encodeGlobalId } from '../src/services/ids.js';
import { createLabel, updateLimits } from '../src/services/labels.js';
import { updateObject } from '../src/services/objects.js';
import { describeRecord } from '../src/services/records.js';
import { adminViewer } from '../src/services/viewer.js';
import { createWorkspace } from '../src/services/workspaces.js';

export interface ImportSetup {
  workspaceId: string;
  rows: number;
  contacts: number;
  csv: string;
  baselineCsv: string;
  csvBytes: number;
  /** Rows of the file naming their records by global id (the others by object key and email). */
  byGlobalId: number;
}

/** The contacts a file of `rows` rows links: 4 associations per contact (8 per contact, both sides). */
const contactsFor = (rows: number) => Math.max(10, Math.ceil(rows / 4));

const OFFSETS = [
  { k: 1, label: { key: 'colleague', type: 'SINGLE', firstLabel: 'Colleague' } },
  { k: 2, label: { key: 'manager_employee', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Employee' } },
  { k: 3, label: { key: 'mentee_mentor', type: 'PAIR', firstLabel: 'Mentee', secondLabel: 'Mentor', cardinality: 'MANY_TO_ONE' } },
  { k: 4, label: { key: 'referral', type: 'SINGLE', firstLabel: 'Referral' } },
] as const;

async function write(out: WriteStream, chunk: string) {
  if (!out.write(chunk)) await once(out, 'drain');
}

async function close(out: WriteStream) {
  out.end();
  await once(out, 'finish');
}

async function main() {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, dir: { type: 'string' } } });
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1 || !values.dir) throw new Error('usage: --rows R --dir DIR');
  const contactCount = contactsFor(rows);
  await openDatabase(process.env.DATABASE_URL!, { statementTimeout: 0 });
  try {
    const { workspace, user: admin } = await createWorkspace({ name: `Import ${rows}`, adminName: 'Bench Admin', adminEmail: 'admin@bench.example.com' });
    const viewer = adminViewer(workspace.id, admin.id);
    const contactObject = await prisma.objectModel.findUniqueOrThrow({ where: { workspaceId_key: { workspaceId: workspace.id, key: 'contact' } } });
    await updateObject(viewer, { id: contactObject.id, uniqueField: 'email' });
    await updateLimits(viewer, { maxRecordsPerLabel: contactCount });
    const contact = await prisma.objectModel.findUniqueOrThrow({ where: { id: contactObject.id }, include: { fields: true } });
    const labels = [];
    for (const { label } of OFFSETS) labels.push(await createLabel(viewer, { ...label, firstObjectKey: 'contact', secondObjectKey: 'contact' }));

    // Contacts, in bulk; emails are unique and already lower case (their normalised form).
    const email = (i: number) => `contact${i}@example.com`;
    const now = new Date();
    const columns = Prisma.raw(
      'INSERT INTO "Record" ("workspaceId", "objectId", "properties", "displayName", "searchText", "uniqueValue", "ownerId", "createdAt", "updatedAt") VALUES ',
    );
    const perStatement = Math.floor(30_000 / 9);
    for (let start = 0; start < contactCount; start += perStatement) {
      const chunk = [];
      for (let i = start; i < Math.min(start + perStatement, contactCount); i += 1) {
        const properties = { firstName: `First${i}`, lastName: `Last${i}`, email: email(i) };
        const { displayName, searchText } = describeRecord(contact, properties);
        chunk.push(Prisma.sql`(${workspace.id}, ${contact.id}, ${JSON.stringify(properties)}, ${displayName}, ${searchText}, ${email(i)}, ${admin.id}, ${now}, ${now})`);
      }
      await prisma.$executeRaw`${columns}${Prisma.join(chunk)}`;
    }
    const ids = (
      await prisma.recordModel.findMany({ where: { workspaceId: workspace.id, objectId: contact.id }, select: { id: true }, orderBy: { id: 'asc' } })
    ).map((row) => row.id);
    if (ids.length !== contactCount) throw new Error(`inserted ${ids.length} contacts, expected ${contactCount}`);

    // Planner statistics for the fresh contacts; on SQLite the load moves out of the write-ahead log.
    if (provider === 'postgresql') await prisma.$executeRawUnsafe('VACUUM ANALYZE');
    else {
      await prisma.$executeRawUnsafe('ANALYZE');
      await prisma.$queryRawUnsafe('PRAGMA wal_checkpoint(TRUNCATE)');
    }

    // The rows: (contact i, offset index o) for every pair, shuffled (Fisher–Yates, seeded).
    const all = contactCount * OFFSETS.length;
    const order = new Uint32Array(all);
    for (let i = 0; i < all; i += 1) order[i] = i;
    const rand = random(rows);
    for (let i = all - 1; i > 0; i -= 1) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const csv = join(values.dir, 'associations.csv');
    const baselineCsv = join(values.dir, 'baseline.csv');
    const file = createWriteStream(csv);
    const baseline = createWriteStream(baselineCsv);
    await write(file, csvRow(ASSOCIATION_COLUMNS));
    await write(baseline, 'workspaceId,labelId,firstRecordId,secondRecordId,createdById\n');
    let byGlobalId = 0;
    let text = '';
    let bare = '';
    for (let r = 0; r < rows; r += 1) {
      const pick = order[r]!;
      const i = Math.floor(pick / OFFSETS.length);
      const o = pick % OFFSETS.length;
      const j = (i + OFFSETS[o]!.k) % contactCount;
      const label = labels[o]!;
      if (r % 10 === 9) {
        byGlobalId += 1;
        text += csvRow([encodeGlobalId('Record', ids[i]!), encodeGlobalId('Record', ids[j]!), label.key, '', '', '', '']);
      } else {
        text += csvRow(['', '', label.key, 'contact', email(i), 'contact', email(j)]);
      }
      const [first, second] = label.type === 'SINGLE' && ids[j]! < ids[i]! ? [ids[j]!, ids[i]!] : [ids[i]!, ids[j]!];
      bare += `${workspace.id},${label.id},${first},${second},${admin.id}\n`;
      if (text.length > 1 << 16) {
        await write(file, text);
        await write(baseline, bare);
        text = '';
        bare = '';
      }
    }
    await write(file, text);
    await write(baseline, bare);
    await close(file);
    await close(baseline);
    const result: ImportSetup = {
      workspaceId: encodeGlobalId('Workspace', workspace.id),
      rows,
      contacts: contactCount,
      csv,
      baselineCsv,
      csvBytes: file.bytesWritten,
      byGlobalId,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await closeDatabase();
  }
}

await main();
