import { prisma } from '../db/index.js';
import { issueApiKey } from './api-keys.js';
import { encodeGlobalId } from './ids.js';
import { createObject } from './objects.js';
import { createRecord } from './records.js';
import { createLabel, updateLabel } from './labels.js';
import { linkRecords } from './links.js';
import { adminViewer } from './viewer.js';
import { createWorkspace } from './workspaces.js';

const CONTACTS = [
  { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0001' },
  { firstName: 'Charles', lastName: 'Babbage', email: 'charles@example.com', phone: '+44 20 7946 0002' },
  { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com', phone: '+1 202 555 0103' },
  { firstName: 'Alan', lastName: 'Turing', email: 'alan@example.com', phone: '+44 20 7946 0004' },
  { firstName: 'Katherine', lastName: 'Johnson', email: 'katherine@example.com', phone: '+1 757 555 0105' },
  { firstName: 'Edsger', lastName: 'Dijkstra', email: 'edsger@example.com' },
  { firstName: 'Barbara', lastName: 'Liskov', email: 'barbara@example.com' },
  { email: 'linus@example.com' },
];

const CARS = [
  { name: 'Analytical Engine Roadster', make: 'Babbage & Co', year: 1843 },
  { name: 'Difference Coupé', make: 'Babbage & Co', year: 1822 },
  { name: 'COBOL Cruiser', make: 'Hopper Motors', year: 1959 },
];

const DEMO_NAME = 'Demo';
const DEMO_ADMIN_EMAIL = 'admin@demo.example.com';
const DEVELOPMENT_KEY_NAME = 'Development key (GraphiQL and the explorer)';
/** Two demo contacts the seed does not make colleagues (both report to Grace): GraphiQL's Link tab links them. */
const NEW_COLLEAGUES = ['Edsger Dijkstra', 'Barbara Liskov'] as const;

/** Global ids of demo records that GraphiQL's example tabs name in their variables. */
export interface DemoExampleIds {
  newColleagues: [string, string];
}

/**
 * The "Demo" workspace: contacts, one custom object (cars) and a label of each kind — SINGLE
 * and PAIR between contacts, a PAIR between contacts and cars, and a MANY_TO_ONE label — and a
 * limit of a label's own: a car has at most two owners (the Roadster has two already).
 */
export async function seedDemo() {
  const { workspace, user, apiKey } = await createWorkspace({
    name: DEMO_NAME,
    adminName: 'Demo Admin',
    adminEmail: DEMO_ADMIN_EMAIL,
  });
  const viewer = adminViewer(workspace.id, user.id);
  await createObject(viewer, {
    key: 'custom_objects.cars',
    singularName: 'Car',
    pluralName: 'Cars',
    primaryProperty: 'name',
    fields: [
      { key: 'name', name: 'Name', type: 'TEXT', required: true },
      { key: 'make', name: 'Make', type: 'TEXT' },
      { key: 'year', name: 'Year', type: 'NUMBER' },
    ],
  });
  const contacts = [];
  for (const properties of CONTACTS) contacts.push(await createRecord(viewer, { objectKey: 'contact', properties }));
  const cars = [];
  for (const properties of CARS) cars.push(await createRecord(viewer, { objectKey: 'custom_objects.cars', properties }));

  await createLabel(viewer, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
  await createLabel(viewer, {
    key: 'manager_employee',
    firstObjectKey: 'contact',
    secondObjectKey: 'contact',
    type: 'PAIR',
    firstLabel: 'Manager',
    secondLabel: 'Employee',
  });
  const ownerCar = await createLabel(viewer, {
    key: 'owner_car',
    firstObjectKey: 'contact',
    secondObjectKey: 'custom_objects.cars',
    type: 'PAIR',
    firstLabel: 'Owner',
    secondLabel: 'Car',
  });
  await createLabel(viewer, {
    key: 'primary_driver',
    firstObjectKey: 'custom_objects.cars',
    secondObjectKey: 'contact',
    type: 'PAIR',
    firstLabel: 'Driven car',
    secondLabel: 'Primary driver',
    cardinality: 'MANY_TO_ONE',
  });

  const [ada, charles, grace, alan, katherine, edsger, barbara] = contacts.map((record) => record.id);
  const [roadster, coupe, cruiser] = cars.map((record) => record.id);
  const link = (a: number | undefined, b: number | undefined, ...labelKeys: string[]) => ({
    firstRecordId: a!,
    secondRecordId: b!,
    labelKeys,
  });
  await linkRecords(viewer, [
    link(ada, charles, 'colleague'),
    link(alan, ada, 'colleague'),
    link(grace, katherine, 'colleague'),
    link(charles, ada, 'manager_employee'),
    link(grace, edsger, 'manager_employee'),
    link(grace, barbara, 'manager_employee'),
    link(charles, roadster, 'owner_car'),
    link(charles, coupe, 'owner_car'),
    link(ada, roadster, 'owner_car'),
    link(grace, cruiser, 'owner_car'),
    link(roadster, ada, 'primary_driver'),
    link(cruiser, grace, 'primary_driver'),
  ]);
  await updateLabel(viewer, { id: ownerCar.id, maxFirstPerSecond: 2 });
  return { workspace, user, apiKey };
}

/** Seeds the demo on an empty database (no workspace yet); returns its admin key, or null. */
export async function seedDemoIfEmpty(): Promise<string | null> {
  if ((await prisma.workspace.count()) > 0) return null;
  return (await seedDemo()).apiKey;
}

/**
 * In development, at every start: the demo seeded on an empty database, and a fresh key for the
 * demo admin that GraphiQL and the explorer open with, the previous one revoked, so they always
 * work after a restart and no old development key stays valid. `adminKey` is the demo's own
 * admin key when this start created it (shown once); `exampleIds` the demo records GraphiQL's
 * example tabs name. Null when there is no demo workspace.
 */
export async function developmentKeys(): Promise<{ developmentKey: string; adminKey: string | null; exampleIds: DemoExampleIds | null } | null> {
  const adminKey = await seedDemoIfEmpty();
  const admin = await prisma.user.findFirst({
    where: { email: DEMO_ADMIN_EMAIL, role: 'ADMIN', workspace: { name: DEMO_NAME } },
    orderBy: { id: 'asc' },
  });
  if (!admin) return null;
  const developmentKey = await prisma.$transaction(async (tx) => {
    await tx.apiKey.updateMany({ where: { userId: admin.id, name: DEVELOPMENT_KEY_NAME, revokedAt: null }, data: { revokedAt: new Date() } });
    return (await issueApiKey(tx, { workspaceId: admin.workspaceId, userId: admin.id, name: DEVELOPMENT_KEY_NAME })).plaintext;
  });
  return { developmentKey, adminKey, exampleIds: await exampleIds(admin.workspaceId) };
}

/** The demo records the example tabs name, or null when they are gone (the tabs then open without variables). */
async function exampleIds(workspaceId: number): Promise<DemoExampleIds | null> {
  const contacts = await prisma.recordModel.findMany({
    where: { workspaceId, object: { key: 'contact' }, displayName: { in: [...NEW_COLLEAGUES] } },
    orderBy: { id: 'asc' },
    select: { id: true, displayName: true },
  });
  const [first, second] = NEW_COLLEAGUES.map((name) => contacts.find((contact) => contact.displayName === name)?.id);
  if (first === undefined || second === undefined) return null;
  return { newColleagues: [encodeGlobalId('Record', first), encodeGlobalId('Record', second)] };
}
