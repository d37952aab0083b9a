/**
 * SPEC rule 11 (deleting a record removes all its associations, both sides, in one
 * transaction) and rule 15 (every change to associations is in the append-only event log).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { prisma } from '../src/db/index.js';
import {
  EventsBatchUnlinkDocument,
  EventsDeleteLabelDocument,
  EventsDeleteRecordDocument,
  EventsLinkDocument,
  EventsOfRecordDocument,
  EventsRecordLinksDocument,
  EventsUnlinkDocument,
} from './generated/graphql.js';
import { expectType, run, useTestApp, type TestWorkspace } from './helpers.js';
import { createContact, createLabel, createNamedObject, createRecord, createUserWithKey, link, type Ref } from './support/fixtures.js';

const t = useTestApp();

const CARS = 'custom_objects.cars';

let ws: TestWorkspace;
let adminId: string;
let member: { client: TestWorkspace['client']; userId: string };
let labels: Record<'manager' | 'colleague' | 'owner' | 'friend', string>;

/** The number inside a global id. */
const numericId = (globalId: string) => Number(Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]);

async function eventsOf(record: Ref, args: { first?: number; after?: string } = {}) {
  const { record: found } = await run(ws.client, EventsOfRecordDocument, { id: record.id, first: 100, ...args });
  expect(found).not.toBeNull();
  return found!.associationEvents;
}

/** Events as "ACTION label first>second" strings, newest first. */
async function eventLines(record: Ref) {
  const events = await eventsOf(record);
  return events.edges.map(({ node }) => `${node.action} ${node.label?.key ?? '-'} ${node.firstRecordId}>${node.secondRecordId}`);
}

async function linksOf(record: Ref) {
  const { record: found } = await run(ws.client, EventsRecordLinksDocument, { id: record.id });
  return found;
}

beforeAll(async () => {
  ws = await t.workspace('Events');
  const viewer = await ws.gql(`{ viewer { user { id } } }`);
  adminId = viewer.data.viewer.user.id;
  const created = await createUserWithKey(ws, 'Member', 'member@example.com', 'USER');
  member = { client: t.clientFor(created.apiKey), userId: created.userId };
  await createNamedObject(ws, 'cars', 'Car', 'Cars');
  labels = {
    manager: (await createLabel(ws, { key: 'manager', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Employee' })).id,
    colleague: (await createLabel(ws, { key: 'colleague', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' })).id,
    owner: (await createLabel(ws, { key: 'owner', firstObjectKey: 'contact', secondObjectKey: CARS, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' })).id,
    friend: (await createLabel(ws, { key: 'friend', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' })).id,
  };
});

describe('deleteRecord cascades to its associations (rule 11)', () => {
  it('removes every association of the record on both sides, logs one UNLINKED event each with the deleting user as actor', async () => {
    const ada = await createContact(ws, 'Ada');
    const ben = await createContact(ws, 'Ben');
    const cy = await createContact(ws, 'Cy');
    const dee = await createContact(ws, 'Dee');
    const car = await createRecord(ws, CARS, { name: 'Beetle' });
    await link(ws, ada.id, ben.id, ['manager', 'colleague']); // Ada first (twice)
    await link(ws, cy.id, ada.id, ['manager']); // Ada second
    await link(ws, dee.id, ada.id, ['colleague']); // SINGLE: stored Ada first (lower id)
    await link(ws, car.id, ada.id, ['owner']); // stored contact first
    await link(ws, ben.id, cy.id, ['colleague']); // not Ada's: must survive
    expect((await linksOf(ada))!.associations.totalCount).toBe(5);
    const before = Date.now();

    const { deleteRecord } = await run(member.client, EventsDeleteRecordDocument, { id: ada.id });
    const deleted = expectType(deleteRecord, 'DeleteRecordSuccess');
    expect(deleted).toMatchObject({ deletedId: ada.id, removedAssociations: 5 });

    // The record is gone, and no related record lists it any more.
    expect((await ws.gql(`query($id: ID!) { record(id: $id) { id } }`, { id: ada.id })).data).toEqual({ record: null });
    const benLinks = (await linksOf(ben))!;
    expect(benLinks.associations.totalCount).toBe(1);
    expect(benLinks.associations.edges.map((edge) => [edge.relatedRole, edge.relatedRecord.id])).toEqual([['Colleague', cy.id]]);
    expect(benLinks.associationGroups).toEqual([{ relatedRole: 'Colleague', totalCount: 1 }]);
    expect((await linksOf(cy))!.associations.edges.map((edge) => edge.relatedRecord.id)).toEqual([ben.id]);
    for (const orphan of [dee, car]) {
      const links = (await linksOf(orphan))!;
      expect(links.associations).toEqual({ totalCount: 0, edges: [] });
      expect(links.associationGroups).toEqual([]);
    }
    const related = await ws.gql(`query($id: ID!) { records(objectKey: "contact", filter: { associatedWith: { recordId: $id } }) { totalCount } }`, {
      id: ada.id,
    });
    expect(related.data.records.totalCount).toBe(0);
    // Nothing of it is left in the table either (both foreign keys).
    const adaId = numericId(ada.id);
    expect(await prisma.association.count({ where: { OR: [{ firstRecordId: adaId }, { secondRecordId: adaId }] } })).toBe(0);

    // One UNLINKED event per removed association, by the member, in stored order.
    const unlinked = new Map<string, { line: string; actor: unknown; at: string }>();
    for (const other of [ben, cy, dee, car]) {
      for (const { node } of (await eventsOf(other)).edges) {
        if (node.action !== 'UNLINKED') continue;
        unlinked.set(node.id, {
          line: `${node.label?.key} ${node.firstRecordId}>${node.secondRecordId}`,
          actor: node.actor,
          at: node.at,
        });
      }
    }
    expect([...unlinked.values()].map((event) => event.line).sort()).toEqual(
      [
        `manager ${ada.id}>${ben.id}`,
        `colleague ${ada.id}>${ben.id}`,
        `manager ${cy.id}>${ada.id}`,
        `colleague ${ada.id}>${dee.id}`,
        `owner ${ada.id}>${car.id}`,
      ].sort(),
    );
    for (const event of unlinked.values()) {
      expect(event.actor).toEqual({ id: member.userId, name: 'Member' });
      expect(Date.parse(event.at)).toBeGreaterThanOrEqual(before - 5_000);
    }
    expect(await prisma.associationEvent.count({ where: { action: 'UNLINKED', OR: [{ firstRecordId: adaId }, { secondRecordId: adaId }] } })).toBe(5);

    // Ben's log, newest first: the two removals, then his three links.
    const benLines = await eventLines(ben);
    expect(benLines.slice(0, 2).sort()).toEqual([`UNLINKED colleague ${ada.id}>${ben.id}`, `UNLINKED manager ${ada.id}>${ben.id}`]);
    expect(benLines.slice(2)).toEqual([
      `LINKED colleague ${ben.id}>${cy.id}`,
      `LINKED colleague ${ada.id}>${ben.id}`,
      `LINKED manager ${ada.id}>${ben.id}`,
    ]);

    // The label counts agree.
    const counts = await ws.gql(`{ associationLabels { key associationCount } }`);
    expect(Object.fromEntries(counts.data.associationLabels.map((label: any) => [label.key, label.associationCount]))).toMatchObject({
      manager: 0,
      owner: 0,
      colleague: 1,
    });
  });

  it('a record without associations deletes with removedAssociations 0 and logs only its RECORD_DELETED event', async () => {
    const loner = await createContact(ws, 'Loner');
    const eventsBefore = await prisma.associationEvent.count();
    const lastId = (await prisma.associationEvent.aggregate({ _max: { id: true } }))._max.id ?? 0;
    const { deleteRecord } = await run(ws.client, EventsDeleteRecordDocument, { id: loner.id });
    expect(expectType(deleteRecord, 'DeleteRecordSuccess')).toEqual({ __typename: 'DeleteRecordSuccess', deletedId: loner.id, removedAssociations: 0 });
    const logged = await prisma.associationEvent.findMany({ where: { id: { gt: lastId } }, orderBy: { id: 'asc' } });
    expect(await prisma.associationEvent.count()).toBe(eventsBefore + 1);
    expect(logged.map((event) => event.action)).toEqual(['RECORD_DELETED']);
  });

  it('deleting a record that does not exist (or is already deleted) changes nothing', async () => {
    const gone = await createContact(ws, 'Gone');
    const other = await createContact(ws, 'Other');
    await link(ws, gone.id, other.id, ['friend']);
    await run(ws.client, EventsDeleteRecordDocument, { id: gone.id });
    const eventsBefore = await prisma.associationEvent.count();
    const { deleteRecord } = await run(ws.client, EventsDeleteRecordDocument, { id: gone.id });
    expect(deleteRecord).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(await prisma.associationEvent.count()).toBe(eventsBefore);
  });
});

describe('the association event log (rule 15)', () => {
  let pia: Ref, quinn: Ref, van: Ref;

  beforeAll(async () => {
    pia = await createContact(ws, 'Pia');
    quinn = await createContact(ws, 'Quinn');
    van = await createRecord(ws, CARS, { name: 'Van' });
  });

  it('linkRecords writes one LINKED event per new association; a no-op link writes nothing', async () => {
    const before = Date.now();
    const first = expectType(
      (await run(ws.client, EventsLinkDocument, { input: { firstRecordId: quinn.id, secondRecordId: pia.id, labelKeys: ['manager', 'colleague'] } })).linkRecords,
      'LinkRecordsSuccess',
    );
    expect(first.created).toBe(true);
    const events = await eventsOf(pia);
    expect(events.totalCount).toBe(2);
    expect(events.edges.map(({ node }) => [node.action, node.label?.key, node.firstRecordId, node.secondRecordId])).toEqual([
      ['LINKED', 'colleague', pia.id, quinn.id], // SINGLE on one object: stored lower id first
      ['LINKED', 'manager', quinn.id, pia.id], // PAIR: stored as given
    ]);
    for (const { node } of events.edges) {
      expect(node.actor).toEqual({ id: adminId, name: expect.any(String) });
      expect(node.label?.id).toBe(labels[node.label!.key as keyof typeof labels]);
      expect(Date.parse(node.at)).toBeGreaterThanOrEqual(before - 5_000);
      expect(Date.parse(node.at)).toBeLessThanOrEqual(Date.now() + 5_000);
    }
    // The same events on the other record's page.
    expect((await eventsOf(quinn)).edges.map(({ node }) => node.id)).toEqual(events.edges.map(({ node }) => node.id));

    // Linking again (either order) creates nothing and logs nothing.
    for (const input of [
      { firstRecordId: quinn.id, secondRecordId: pia.id, labelKeys: ['manager', 'colleague'] },
      { firstRecordId: quinn.id, secondRecordId: pia.id, labelKeys: ['colleague'] },
      { firstRecordId: pia.id, secondRecordId: quinn.id, labelKeys: ['colleague'] },
    ]) {
      const again = expectType((await run(ws.client, EventsLinkDocument, { input })).linkRecords, 'LinkRecordsSuccess');
      expect(again.created).toBe(false);
    }
    expect((await eventsOf(pia)).totalCount).toBe(2);

    // Partly new: only the new association is logged.
    const partly = expectType(
      (await run(ws.client, EventsLinkDocument, { input: { firstRecordId: quinn.id, secondRecordId: pia.id, labelKeys: ['manager', 'friend'] } })).linkRecords,
      'LinkRecordsSuccess',
    );
    expect(partly.created).toBe(true);
    expect(await eventLines(pia)).toEqual([
      `LINKED friend ${pia.id}>${quinn.id}`,
      `LINKED colleague ${pia.id}>${quinn.id}`,
      `LINKED manager ${quinn.id}>${pia.id}`,
    ]);

    // Between two objects, given car first: logged in the label's order (contact first).
    await link(ws, van.id, pia.id, ['owner']);
    expect((await eventLines(pia))[0]).toBe(`LINKED owner ${pia.id}>${van.id}`);
    expect(await eventLines(van)).toEqual([`LINKED owner ${pia.id}>${van.id}`]);
  });

  it('a failed link (all or nothing) logs nothing', async () => {
    const before = (await eventsOf(pia)).totalCount;
    const { linkRecords } = await run(ws.client, EventsLinkDocument, {
      input: { firstRecordId: pia.id, secondRecordId: quinn.id, labelKeys: ['mentor_nope'] },
    });
    expect(linkRecords.__typename).toBe('NotFoundError');
    const mismatch = await run(ws.client, EventsLinkDocument, { input: { firstRecordId: pia.id, secondRecordId: van.id, labelKeys: ['colleague'] } });
    expect(mismatch.linkRecords.__typename).toBe('ObjectMismatchError');
    expect((await eventsOf(pia)).totalCount).toBe(before);
  });

  it('unlinkRecords writes one UNLINKED event per removed association; a no-op unlink writes nothing', async () => {
    const unlink = async (input: { firstRecordId: string; secondRecordId: string; labelKeys?: string[] }, client = ws.client) =>
      expectType((await run(client, EventsUnlinkDocument, { input })).unlinkRecords, 'UnlinkRecordsSuccess').removedCount;

    expect(await unlink({ firstRecordId: quinn.id, secondRecordId: pia.id, labelKeys: ['manager'] }, member.client)).toBe(1);
    let lines = await eventLines(pia);
    expect(lines[0]).toBe(`UNLINKED manager ${quinn.id}>${pia.id}`);
    const [latest] = (await eventsOf(pia)).edges;
    expect(latest!.node.actor).toEqual({ id: member.userId, name: 'Member' });
    const count = lines.length;

    // Nothing left to remove under that label, in either order: no event.
    expect(await unlink({ firstRecordId: quinn.id, secondRecordId: pia.id, labelKeys: ['manager'] })).toBe(0);
    expect(await unlink({ firstRecordId: pia.id, secondRecordId: quinn.id, labelKeys: ['manager'] })).toBe(0); // PAIR: pia→quinn never existed
    expect((await eventsOf(pia)).totalCount).toBe(count);

    // All labels between the two: the SINGLE ones, given in either order.
    expect(await unlink({ firstRecordId: quinn.id, secondRecordId: pia.id })).toBe(2);
    lines = await eventLines(pia);
    expect(lines.slice(0, 2).sort()).toEqual([`UNLINKED colleague ${pia.id}>${quinn.id}`, `UNLINKED friend ${pia.id}>${quinn.id}`]);
    expect(lines).toHaveLength(count + 2);

    // No-ops: single and batch.
    expect(await unlink({ firstRecordId: quinn.id, secondRecordId: pia.id })).toBe(0);
    const { batchUnlinkRecords } = await run(ws.client, EventsBatchUnlinkDocument, {
      input: { unlinks: [{ firstRecordId: pia.id, secondRecordId: quinn.id }, { firstRecordId: pia.id, secondRecordId: van.id, labelKeys: ['owner'] }] },
    });
    expect(expectType(batchUnlinkRecords, 'BatchUnlinkRecordsSuccess').removedCount).toBe(1); // only the car link was left
    lines = await eventLines(pia);
    expect(lines).toHaveLength(count + 3);
    expect(lines[0]).toBe(`UNLINKED owner ${pia.id}>${van.id}`);
    const { batchUnlinkRecords: again } = await run(ws.client, EventsBatchUnlinkDocument, {
      input: { unlinks: [{ firstRecordId: pia.id, secondRecordId: quinn.id }, { firstRecordId: van.id, secondRecordId: pia.id }] },
    });
    expect(expectType(again, 'BatchUnlinkRecordsSuccess').removedCount).toBe(0);
    expect((await eventsOf(pia)).totalCount).toBe(count + 3);
  });

  it('lists a record’s events newest first, paged with first/after', async () => {
    const all = await eventsOf(pia);
    expect(all.totalCount).toBe(8);
    expect(all.edges.map(({ node }) => node.action)).toEqual([
      'UNLINKED', 'UNLINKED', 'UNLINKED', 'UNLINKED', 'LINKED', 'LINKED', 'LINKED', 'LINKED',
    ]);
    const ids = all.edges.map(({ node }) => numericId(node.id));
    expect([...ids].sort((a, b) => b - a)).toEqual(ids); // newest (highest id) first
    const times = all.edges.map(({ node }) => Date.parse(node.at));
    for (let i = 1; i < times.length; i += 1) expect(times[i]!).toBeLessThanOrEqual(times[i - 1]!);

    const paged: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await eventsOf(pia, { first: 3, after });
      expect(page.totalCount).toBe(8);
      expect(page.pageInfo.hasPreviousPage).toBe(after !== undefined);
      paged.push(...page.edges.map(({ node }) => node.id));
      pages += 1;
      if (!page.pageInfo.hasNextPage) break;
      expect(page.edges).toHaveLength(3);
      after = page.pageInfo.endCursor!;
    }
    expect(pages).toBe(3);
    expect(paged).toEqual(all.edges.map(({ node }) => node.id));

    const bad = await ws.gql(`query($id: ID!) { record(id: $id) { associationEvents(first: 0) { totalCount } } }`, { id: pia.id });
    expect(bad.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  });

  it('events survive label deletion: label is null once the label is gone (force-deleted or deleted unused)', async () => {
    const temp = await createLabel(ws, { key: 'temp', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Lender', secondLabel: 'Borrower' });
    const spare = await createLabel(ws, { key: 'spare', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Spare' });
    const rae = await createContact(ws, 'Rae');
    const sol = await createContact(ws, 'Sol');
    await link(ws, rae.id, sol.id, ['temp', 'spare']);

    // In use: refused, nothing removed, nothing logged.
    const refused = (await run(ws.client, EventsDeleteLabelDocument, { id: temp.id })).deleteAssociationLabel;
    expect(refused).toMatchObject({ __typename: 'LabelInUseError', code: 'LABEL_IN_USE', associationCount: 1 });
    expect((await eventsOf(rae)).totalCount).toBe(2);

    // Forced: the association goes, logged by the admin; every event of the label keeps its record ids but loses the label.
    const forced = expectType((await run(ws.client, EventsDeleteLabelDocument, { id: temp.id, force: true })).deleteAssociationLabel, 'DeleteAssociationLabelSuccess');
    expect(forced).toMatchObject({ deletedId: temp.id, removedAssociations: 1 });
    expect((await linksOf(rae))!.associations.edges.map((edge) => edge.node.label.key)).toEqual(['spare']);
    let events = (await eventsOf(rae)).edges.map(({ node }) => node);
    expect(events.map((event) => [event.action, event.label?.key ?? null, event.firstRecordId, event.secondRecordId])).toEqual([
      ['UNLINKED', null, rae.id, sol.id],
      ['LINKED', 'spare', rae.id, sol.id],
      ['LINKED', null, rae.id, sol.id],
    ]);
    expect(events[0]!.actor).toEqual({ id: adminId, name: expect.any(String) });

    // Unlinked, then deleted while unused: the history stays too.
    await run(ws.client, EventsUnlinkDocument, { input: { firstRecordId: sol.id, secondRecordId: rae.id, labelKeys: ['spare'] } });
    expectType((await run(ws.client, EventsDeleteLabelDocument, { id: spare.id })).deleteAssociationLabel, 'DeleteAssociationLabelSuccess');
    events = (await eventsOf(sol)).edges.map(({ node }) => node);
    expect(events.map((event) => [event.action, event.label])).toEqual([
      ['UNLINKED', null],
      ['UNLINKED', null],
      ['LINKED', null],
      ['LINKED', null],
    ]);
    expect(await prisma.associationEvent.count({ where: { labelKey: { in: ['temp', 'spare'] }, action: { in: ['LINKED', 'UNLINKED'] } } })).toBe(4);
    // Each label's own events are in the log too: created, then deleted.
    const labelEvents = await prisma.associationEvent.findMany({
      where: { labelKey: { in: ['temp', 'spare'] }, action: { notIn: ['LINKED', 'UNLINKED'] } },
      orderBy: { id: 'asc' },
    });
    expect(labelEvents.map((event) => [event.action, event.labelKey])).toEqual([
      ['LABEL_CREATED', 'temp'],
      ['LABEL_CREATED', 'spare'],
      ['LABEL_DELETED', 'temp'],
      ['LABEL_DELETED', 'spare'],
    ]);
  });
});
