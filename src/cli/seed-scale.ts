import { Prisma, prisma, provider } from '../db/index.js';
import { issueApiKey } from '../services/api-keys.js';
import { encodeGlobalId } from '../services/ids.js';
import { createObject } from '../services/objects.js';
import { createLabel } from '../services/labels.js';
import { describeRecord } from '../services/records.js';
import { adminViewer } from '../services/viewer.js';
import { createUser, createWorkspace } from '../services/workspaces.js';

/**
 * Benchmark data, loaded in bulk: N contacts, N/10 companies and N/10 deals, 8 labels of every
 * type and cardinality, about 4·N associations with a skewed degree distribution (most records
 * have 0–5 links, a few hubs reach the per-contact limit or 500 links under one label), and a restricted USER who owns every
 * tenth contact and sees only those (ASSIGNED) and no deals (NONE).
 *
 * Rows go in as multi-row INSERTs through Prisma's raw SQL (the same statement on both
 * databases), a few thousand rows per statement. Seeded links are an import, not user actions:
 * they write no association events.
 */

/** A small deterministic PRNG (mulberry32), so two runs with the same N build the same data. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Progress {
  #last = 0;
  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  tick(done: number) {
    const now = Date.now();
    if (done < this.total && now - this.#last < 200) return;
    this.#last = now;
    const share = this.total ? done / this.total : 1;
    if (process.stderr.isTTY) {
      const width = 30;
      const bar = '█'.repeat(Math.round(share * width)).padEnd(width, '░');
      process.stderr.write(`\r${this.label.padEnd(14)} ${bar} ${(share * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en')}/${this.total.toLocaleString('en')}`);
      if (done >= this.total) process.stderr.write('\n');
    } else if (done >= this.total) {
      process.stderr.write(`${this.label}: ${done.toLocaleString('en')} rows\n`);
    }
  }
}

type Value = string | number | Date | null;

async function insertRows(table: string, columns: string[], rows: Value[][], label: string): Promise<void> {
  // Stay under SQLite's 32,766 and PostgreSQL's 65,535 bind parameters per statement.
  const perStatement = Math.floor(30_000 / columns.length);
  const head = Prisma.raw(`INSERT INTO "${table}" (${columns.map((column) => `"${column}"`).join(', ')}) VALUES `);
  const progress = new Progress(label, rows.length);
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    await prisma.$executeRaw`${head}${Prisma.join(chunk.map((row) => Prisma.sql`(${Prisma.join(row)})`))}`;
    progress.tick(Math.min(start + perStatement, rows.length));
  }
}

/** Ids of the rows just inserted for a workspace and object, in insertion order. */
async function recordIds(workspaceId: number, objectId: number): Promise<number[]> {
  const rows = await prisma.recordModel.findMany({ where: { workspaceId, objectId }, select: { id: true }, orderBy: { id: 'asc' } });
  return rows.map((row) => row.id);
}

/** The most links one record takes under one label: the size of the busiest hubs. */
const HUB_LINKS = 500;

export interface ScaleResult {
  workspaceId: string;
  adminApiKey: string;
  userApiKey: string;
  contacts: number;
  records: number;
  associations: number;
  /** The contact with the most associations (the benchmark's worst-case record page). */
  hubContactId: string;
  /** A contact with a typical number of associations. */
  typicalContactId: string;
  /** A contact the restricted user owns (and so sees). */
  userContactId: string;
  /** Two contacts with room under every limit and no link between them (for link/unlink runs). */
  quietContactIds: [string, string];
}

export async function seedScale(n: number): Promise<ScaleResult> {
  const started = Date.now();
  const rand = random(n);
  const { workspace, user: admin, apiKey: adminApiKey } = await createWorkspace({
    name: `Scale ${n}`,
    adminName: 'Bench Admin',
    adminEmail: 'admin@bench.example.com',
  });
  // The per-label record limit is raised so that a label can span the whole data set; the
  // per-contact limit stays at its default so hubs meet it.
  await prisma.workspace.update({ where: { id: workspace.id }, data: { maxRecordsPerLabel: Math.max(1000, 2 * n) } });
  const viewer = adminViewer(workspace.id, admin.id);
  const limit = 10;

  const company = await createObject(viewer, {
    key: 'companies',
    singularName: 'Company',
    pluralName: 'Companies',
    primaryProperty: 'name',
    fields: [
      { key: 'name', name: 'Name', type: 'TEXT', required: true },
      { key: 'domain', name: 'Domain', type: 'TEXT' },
    ],
  });
  const deal = await createObject(viewer, {
    key: 'deals',
    singularName: 'Deal',
    pluralName: 'Deals',
    primaryProperty: 'name',
    fields: [
      { key: 'name', name: 'Name', type: 'TEXT', required: true },
      { key: 'amount', name: 'Amount', type: 'NUMBER' },
    ],
  });
  const contact = (await prisma.objectModel.findUniqueOrThrow({
    where: { workspaceId_key: { workspaceId: workspace.id, key: 'contact' } },
  }))!;

  const user = await createUser(prisma, workspace.id, { name: 'Restricted User', email: 'user@bench.example.com', role: 'USER' });
  await prisma.objectPermission.createMany({
    data: [
      { userId: user.id, objectId: contact.id, access: 'ASSIGNED' },
      { userId: user.id, objectId: deal.id, access: 'NONE' },
    ],
  });
  const { plaintext: userApiKey } = await issueApiKey(prisma, { workspaceId: workspace.id, userId: user.id, name: 'Bench user' });

  // Records.
  const now = new Date();
  const recordRow = (objectRef: typeof contact, properties: Record<string, string | number>, ownerId: number | null): Value[] => {
    const { displayName, searchText } = describeRecord(objectRef, properties);
    return [workspace.id, objectRef.id, JSON.stringify(properties), displayName, searchText, ownerId, now, now];
  };
  const recordColumns = ['workspaceId', 'objectId', 'properties', 'displayName', 'searchText', 'ownerId', 'createdAt', 'updatedAt'];
  const contactRows: Value[][] = [];
  for (let i = 0; i < n; i += 1) {
    contactRows.push(
      recordRow(
        contact,
        { firstName: `First${i}`, lastName: `Last${i}`, email: `contact${i}@example.com`, phone: `+1 555 ${String(i).padStart(7, '0')}` },
        i % 10 === 0 ? user.id : admin.id,
      ),
    );
  }
  await insertRows('Record', recordColumns, contactRows, 'contacts');
  const others = Math.max(1, Math.floor(n / 10));
  await insertRows(
    'Record',
    recordColumns,
    Array.from({ length: others }, (_, i) => recordRow(company, { name: `Company ${i}`, domain: `company${i}.example.com` }, admin.id)),
    'companies',
  );
  await insertRows(
    'Record',
    recordColumns,
    Array.from({ length: others }, (_, i) => recordRow(deal, { name: `Deal ${i}`, amount: 1000 + i }, admin.id)),
    'deals',
  );
  const contacts = await recordIds(workspace.id, contact.id);
  const companies = await recordIds(workspace.id, company.id);
  const deals = await recordIds(workspace.id, deal.id);

  // Labels: SINGLE and PAIR, same object and two objects, every cardinality.
  const label = (input: Parameters<typeof createLabel>[1]) => createLabel(viewer, input);
  const labels = {
    colleague: await label({ key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' }),
    manager: await label({ key: 'manager_employee', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Employee' }),
    spouse: await label({ key: 'spouse', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Spouse', cardinality: 'ONE_TO_ONE' }),
    employer: await label({ key: 'employer', firstObjectKey: 'contact', secondObjectKey: 'custom_objects.companies', type: 'PAIR', firstLabel: 'Employee', secondLabel: 'Employer', cardinality: 'MANY_TO_ONE' }),
    decisionMaker: await label({ key: 'decision_maker', firstObjectKey: 'contact', secondObjectKey: 'custom_objects.companies', type: 'PAIR', firstLabel: 'Decision maker', secondLabel: 'Account' }),
    buyer: await label({ key: 'buyer', firstObjectKey: 'custom_objects.deals', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Deal', secondLabel: 'Buyer' }),
    dealCompany: await label({ key: 'deal_company', firstObjectKey: 'custom_objects.deals', secondObjectKey: 'custom_objects.companies', type: 'PAIR', firstLabel: 'Deal', secondLabel: 'Company', cardinality: 'MANY_TO_ONE' }),
    parentDeal: await label({ key: 'parent_deal', firstObjectKey: 'custom_objects.deals', secondObjectKey: 'custom_objects.deals', type: 'PAIR', firstLabel: 'Parent deal', secondLabel: 'Child deal' }),
  };

  // Associations, respecting every rule: no duplicates, no self links, cardinalities and the
  // per-contact limit. Picks are skewed (index = n·r³): low indexes become hubs.
  const skewed = (ids: number[]) => ids[Math.floor(ids.length * rand() ** 3)]!;
  const uniform = (ids: number[]) => ids[Math.floor(ids.length * rand())]!;
  const contactLinks = new Map<number, number>();
  const degree = new Map<string, number>();
  const seen = new Set<string>();
  const usedFirst = new Map<number, Set<number>>();
  const usedSecond = new Map<number, Set<number>>();
  const rows: Value[][] = [];
  const add = (
    labelRow: { id: number; type: string; cardinality: string; firstObjectId: number; secondObjectId: number },
    a: number,
    b: number,
  ) => {
    if (a === b) return false;
    let [first, second] = [a, b];
    if (labelRow.type === 'SINGLE' && labelRow.firstObjectId === labelRow.secondObjectId && first > second) [first, second] = [second, first];
    const key = `${labelRow.id}:${first}:${second}`;
    if (seen.has(key)) return false;
    const firsts = usedFirst.get(labelRow.id) ?? new Set<number>();
    const seconds = usedSecond.get(labelRow.id) ?? new Set<number>();
    if (labelRow.cardinality === 'MANY_TO_ONE' && firsts.has(first)) return false;
    if (labelRow.cardinality === 'ONE_TO_ONE' && (firsts.has(first) || seconds.has(second) || firsts.has(second) || seconds.has(first))) return false;
    // Hubs stay near a fixed size whatever N is: a record takes at most HUB_LINKS links per label.
    const degreeKey = (id: number) => `${labelRow.id}:${id}`;
    if ((degree.get(degreeKey(first)) ?? 0) >= HUB_LINKS || (degree.get(degreeKey(second)) ?? 0) >= HUB_LINKS) return false;
    const contactPair = labelRow.firstObjectId === contact.id && labelRow.secondObjectId === contact.id;
    if (contactPair && ((contactLinks.get(first) ?? 0) >= limit || (contactLinks.get(second) ?? 0) >= limit)) return false;
    if (contactPair) {
      contactLinks.set(first, (contactLinks.get(first) ?? 0) + 1);
      contactLinks.set(second, (contactLinks.get(second) ?? 0) + 1);
    }
    seen.add(key);
    degree.set(degreeKey(first), (degree.get(degreeKey(first)) ?? 0) + 1);
    degree.set(degreeKey(second), (degree.get(degreeKey(second)) ?? 0) + 1);
    firsts.add(first);
    seconds.add(second);
    usedFirst.set(labelRow.id, firsts);
    usedSecond.set(labelRow.id, seconds);
    rows.push([workspace.id, labelRow.id, first, second, now, admin.id]);
    return true;
  };
  const fill = (count: number, pick: () => boolean) => {
    for (let made = 0, tries = 0; made < count && tries < count * 20; tries += 1) if (pick()) made += 1;
  };
  fill(Math.round(n * 1.0), () => add(labels.colleague, skewed(contacts), uniform(contacts)));
  fill(Math.round(n * 0.5), () => add(labels.manager, skewed(contacts), uniform(contacts)));
  fill(Math.round(n * 0.2), () => add(labels.spouse, uniform(contacts), uniform(contacts)));
  fill(Math.round(n * 0.8), () => add(labels.employer, uniform(contacts), skewed(companies)));
  fill(Math.round(n * 0.5), () => add(labels.decisionMaker, skewed(contacts), skewed(companies)));
  fill(Math.round(n * 0.8), () => add(labels.buyer, skewed(deals), skewed(contacts)));
  fill(others, () => add(labels.dealCompany, uniform(deals), skewed(companies)));
  fill(Math.round(n * 0.05), () => add(labels.parentDeal, skewed(deals), uniform(deals)));
  await insertRows('Association', ['workspaceId', 'labelId', 'firstRecordId', 'secondRecordId', 'createdAt', 'createdById'], rows, 'associations');

  await analyze();

  // Pick the benchmark's records: the busiest contact, a typical one, one the user owns.
  const links = new Map<number, number>();
  for (const row of rows) for (const id of [row[2] as number, row[3] as number]) links.set(id, (links.get(id) ?? 0) + 1);
  const byDegree = contacts.map((id) => [id, links.get(id) ?? 0] as const).sort((a, b) => b[1] - a[1]);
  const typical = byDegree.find(([, d]) => d === 4) ?? byDegree[Math.floor(byDegree.length / 2)]!;
  const quiet = contacts.filter((id) => (contactLinks.get(id) ?? 0) === 0).slice(-2);
  const owned = contacts.filter((_, i) => i % 10 === 0).sort((a, b) => (links.get(b) ?? 0) - (links.get(a) ?? 0))[0]!;
  const result: ScaleResult = {
    workspaceId: encodeGlobalId('Workspace', workspace.id),
    adminApiKey,
    userApiKey,
    contacts: n,
    records: n + 2 * others,
    associations: rows.length,
    hubContactId: encodeGlobalId('Record', byDegree[0]![0]),
    typicalContactId: encodeGlobalId('Record', typical[0]),
    userContactId: encodeGlobalId('Record', owned),
    quietContactIds: [encodeGlobalId('Record', quiet[0] ?? contacts.at(-2)!), encodeGlobalId('Record', quiet[1] ?? contacts.at(-1)!)],
  };
  process.stderr.write(`Seeded in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/**
 * Fresh planner statistics after a bulk load; on PostgreSQL also the visibility map (VACUUM),
 * without which the covering association indexes cannot be read index-only until autovacuum
 * gets to the new rows; on SQLite a checkpoint of the write-ahead log.
 */
async function analyze() {
  if (provider === 'postgresql') {
    await prisma.$executeRawUnsafe('VACUUM ANALYZE');
  } else {
    await prisma.$executeRawUnsafe('ANALYZE');
    // Move the bulk load out of the write-ahead log into the database file.
    await prisma.$queryRawUnsafe('PRAGMA wal_checkpoint(TRUNCATE)');
  }
}
