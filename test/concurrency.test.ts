/**
 * SPEC rule 14: no interleaving of concurrent requests may ever leave the data over a limit or
 * with a duplicate association. Each test fires its requests all at once (Promise.all; on
 * PostgreSQL they run on a pool of 20 connections), then checks the outcome exactly: how many
 * succeeded, that every other answer is the expected typed error (never a masked
 * INTERNAL_SERVER_ERROR), the final state as the API reports it, and the stored rows against
 * every limit (`expectWithinLimits`).
 */
import { describe, expect, it } from 'vitest';
import { prisma } from '../src/db/index.js';
import type { TestWorkspace } from './helpers.js';
import { useTestApp } from './helpers.js';
import {
  CREATE_LABEL,
  DELETE_LABEL,
  associationTotal,
  batchLink,
  burst,
  createLabel,
  createObject,
  createRecords,
  deleteRecord,
  expectWithinLimits,
  labelCounts,
  link,
  query,
  recordId,
  setLimits,
  storedAssociations,
  storedEvents,
  tally,
  typed,
  typedAll,
  unlink,
  type Typed,
} from './support/concurrency.js';

const t = useTestApp();

const linked = (result: Typed) => result.__typename === 'LinkRecordsSuccess';

/** LINKED events in the workspace's log. */
async function linkedEvents(ws: TestWorkspace) {
  return (await storedEvents(ws.workspaceId)).filter((event) => event.action === 'LINKED');
}

describe('concurrent duplicate links (rule 9 under rule 14)', () => {
  it('30 identical links store one association, answer created:true once, log one LINKED event', async () => {
    const ws = await t.workspace();
    const cars = await createObject(ws, 'cars');
    const owner = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: cars, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' });
    const [contact] = await createRecords(ws, 'contact', 1, 'Ann');
    const [car] = await createRecords(ws, cars, 1, 'Car');

    const results = typedAll(await burst(30, () => link(ws, contact!, car!, [owner])), 'linkRecords');

    expect(tally(results)).toEqual({ LinkRecordsSuccess: 30 });
    expect(results.filter((r) => r.created === true)).toHaveLength(1);
    const ids = new Set(results.map((r) => (r.associations as { id: string }[])[0]!.id));
    expect(ids.size).toBe(1);
    expect(await labelCounts(ws, owner)).toEqual({ associationCount: 1, recordCount: 2 });
    expect(await storedAssociations(ws.workspaceId, owner)).toHaveLength(1);
    expect(await linkedEvents(ws)).toHaveLength(1);
    await expectWithinLimits(ws.workspaceId);
  });

  it('30 links of one pair sent in either order, under a label between two objects, store one association', async () => {
    const ws = await t.workspace();
    const cars = await createObject(ws, 'cars');
    const owner = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: cars, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' });
    const [contact] = await createRecords(ws, 'contact', 1, 'Ann');
    const [car] = await createRecords(ws, cars, 1, 'Car');

    const results = typedAll(
      await burst(30, (i) => (i % 2 ? link(ws, car!, contact!, [owner]) : link(ws, contact!, car!, [owner]))),
      'linkRecords',
    );

    expect(tally(results)).toEqual({ LinkRecordsSuccess: 30 });
    expect(results.filter((r) => r.created === true)).toHaveLength(1);
    const rows = await storedAssociations(ws.workspaceId, owner);
    expect(rows.map((a) => [a.firstRecordId, a.secondRecordId])).toEqual([[recordId(contact!), recordId(car!)]]);
    expect(await linkedEvents(ws)).toHaveLength(1);
    await expectWithinLimits(ws.workspaceId);
  });

  it('a SINGLE label on one object: A–B and B–A sent 30 times in parallel store one association', async () => {
    const ws = await t.workspace();
    const colleague = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
    const [a, b] = await createRecords(ws, 'contact', 2, 'Pat');

    const results = typedAll(await burst(30, (i) => (i % 2 ? link(ws, b!, a!, [colleague]) : link(ws, a!, b!, [colleague]))), 'linkRecords');

    expect(tally(results)).toEqual({ LinkRecordsSuccess: 30 });
    expect(results.filter((r) => r.created === true)).toHaveLength(1);
    expect(new Set(results.map((r) => (r.associations as { id: string }[])[0]!.id)).size).toBe(1);
    expect(await labelCounts(ws, colleague)).toEqual({ associationCount: 1, recordCount: 2 });
    expect(await associationTotal(ws, a!)).toBe(1);
    expect(await associationTotal(ws, b!)).toBe(1);
    expect(await storedAssociations(ws.workspaceId, colleague)).toHaveLength(1);
    expect(await linkedEvents(ws)).toHaveLength(1);
    await expectWithinLimits(ws.workspaceId);
  });

  it('a PAIR label on one object: A→B and B→A sent 30 times in parallel store exactly two associations', async () => {
    const ws = await t.workspace();
    const manager = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Manager', secondLabel: 'Employee' });
    const [a, b] = await createRecords(ws, 'contact', 2, 'Pat');

    const results = typedAll(await burst(30, (i) => (i % 2 ? link(ws, b!, a!, [manager]) : link(ws, a!, b!, [manager]))), 'linkRecords');

    expect(tally(results)).toEqual({ LinkRecordsSuccess: 30 });
    expect(results.filter((r) => r.created === true)).toHaveLength(2);
    expect(await labelCounts(ws, manager)).toEqual({ associationCount: 2, recordCount: 2 });
    expect(await linkedEvents(ws)).toHaveLength(2);
    await expectWithinLimits(ws.workspaceId);
  });
});

describe('maxRecordsPerLabel under concurrency', () => {
  it('one contact linked to 30 cars at once with the limit at 5: exactly 4 links succeed, 5 records linked', async () => {
    const ws = await t.workspace();
    await setLimits(ws, { maxRecordsPerLabel: 5 });
    const cars = await createObject(ws, 'cars');
    const owner = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: cars, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' });
    const [contact] = await createRecords(ws, 'contact', 1, 'Ann');
    const carIds = await createRecords(ws, cars, 30, 'Car');

    // The first link brings two records, each later one a single new car: 2 + 1 + 1 + 1 = 5.
    const results = typedAll(await burst(30, (i) => link(ws, contact!, carIds[i]!, [owner])), 'linkRecords');

    expect(tally(results)).toEqual({ LinkRecordsSuccess: 4, 'LimitExceededError:maxRecordsPerLabel': 26 });
    for (const r of results.filter((r) => !linked(r))) expect(r).toMatchObject({ code: 'LIMIT_EXCEEDED', max: 5, current: 5 });
    expect(await labelCounts(ws, owner)).toEqual({ associationCount: 4, recordCount: 5 });
    expect(await associationTotal(ws, contact!)).toBe(4);
    await expectWithinLimits(ws.workspaceId);
  });

  it('30 disjoint pairs at once with the limit at 5: exactly 2 links succeed, 4 records linked', async () => {
    const ws = await t.workspace();
    await setLimits(ws, { maxRecordsPerLabel: 5 });
    const cars = await createObject(ws, 'cars');
    const owner = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: cars, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' });
    const contacts = await createRecords(ws, 'contact', 30, 'Ann');
    const carIds = await createRecords(ws, cars, 30, 'Car');

    // Each link brings two new records: a third would make 6.
    const results = typedAll(await burst(30, (i) => link(ws, carIds[i]!, contacts[i]!, [owner])), 'linkRecords');

    expect(tally(results)).toEqual({ LinkRecordsSuccess: 2, 'LimitExceededError:maxRecordsPerLabel': 28 });
    expect(await labelCounts(ws, owner)).toEqual({ associationCount: 2, recordCount: 4 });
    expect(new Set((await storedAssociations(ws.workspaceId, owner)).flatMap((a) => [a.firstRecordId, a.secondRecordId])).size).toBe(4);
    await expectWithinLimits(ws.workspaceId);
  });
});

describe('maxAssociationsPerContact under concurrency', () => {
  it('a hub contact linked to 20 contacts at once with the limit at 3: exactly 3 succeed', async () => {
    const ws = await t.workspace();
    await setLimits(ws, { maxAssociationsPerContact: 3 });
    const friend = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
    const [hub, ...others] = await createRecords(ws, 'contact', 21, 'Kim');

    // Half of the requests name the hub second.
    const results = typedAll(
      await burst(20, (i) => (i % 2 ? link(ws, others[i]!, hub!, [friend]) : link(ws, hub!, others[i]!, [friend]))),
      'linkRecords',
    );

    expect(tally(results)).toEqual({ LinkRecordsSuccess: 3, 'LimitExceededError:maxAssociationsPerContact': 17 });
    for (const r of results.filter((r) => !linked(r))) expect(r).toMatchObject({ max: 3, current: 3 });
    expect(await associationTotal(ws, hub!, 'contact')).toBe(3);
    await expectWithinLimits(ws.workspaceId);
  });

  it('links under two labels at once (each adds 2) with the limit at 3: exactly one succeeds, failed ones keep nothing', async () => {
    const ws = await t.workspace();
    await setLimits(ws, { maxAssociationsPerContact: 3 });
    const friend = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
    const neighbour = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Neighbour' });
    const [hub, ...others] = await createRecords(ws, 'contact', 21, 'Kim');

    // After one success the hub has 2: a second request could add its first label (3) but not
    // its second (4), so it must fail whole, its first association rolled back.
    const results = typedAll(await burst(20, (i) => link(ws, hub!, others[i]!, [friend, neighbour])), 'linkRecords');

    expect(tally(results)).toEqual({ LinkRecordsSuccess: 1, 'LimitExceededError:maxAssociationsPerContact': 19 });
    expect(await associationTotal(ws, hub!, 'contact')).toBe(2);
    const rows = await storedAssociations(ws.workspaceId);
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((a) => a.labelId)).size).toBe(2);
    expect(await linkedEvents(ws)).toHaveLength(2);
    await expectWithinLimits(ws.workspaceId);
  });
});

describe('cardinality under concurrency', () => {
  it('ONE_TO_ONE: 15 contacts racing for one car and one contact racing for 15 cars: one winner each', async () => {
    const ws = await t.workspace();
    const cars = await createObject(ws, 'cars');
    const driver = await createLabel(ws, {
      firstObjectKey: 'contact', secondObjectKey: cars, type: 'PAIR', firstLabel: 'Driver', secondLabel: 'Car', cardinality: 'ONE_TO_ONE',
    });
    const contacts = await createRecords(ws, 'contact', 16, 'Lee');
    const carIds = await createRecords(ws, cars, 16, 'Car');
    const [lonelyCar, ...otherCars] = carIds;
    const [lonelyContact, ...otherContacts] = contacts;

    const results = typedAll(
      await burst(30, (i) =>
        i % 2 ? link(ws, otherContacts[i >> 1]!, lonelyCar!, [driver]) : link(ws, otherCars[i >> 1]!, lonelyContact!, [driver]),
      ),
      'linkRecords',
    );

    expect(tally(results)).toEqual({ LinkRecordsSuccess: 2, 'LimitExceededError:ONE_TO_ONE': 28 });
    expect(await associationTotal(ws, lonelyCar!)).toBe(1);
    expect(await associationTotal(ws, lonelyContact!)).toBe(1);
    expect(await labelCounts(ws, driver)).toEqual({ associationCount: 2, recordCount: 4 });
    await expectWithinLimits(ws.workspaceId);
  });

  it('MANY_TO_ONE: one contact racing for 15 companies gets one; one company takes all 15 contacts', async () => {
    const ws = await t.workspace();
    const companies = await createObject(ws, 'companies');
    const employer = await createLabel(ws, {
      firstObjectKey: 'contact', secondObjectKey: companies, type: 'PAIR', firstLabel: 'Employee', secondLabel: 'Employer', cardinality: 'MANY_TO_ONE',
    });
    const contacts = await createRecords(ws, 'contact', 16, 'Sam');
    const companyIds = await createRecords(ws, companies, 16, 'Co');
    const [jobSeeker, ...staff] = contacts;
    const [bigCo, ...otherCos] = companyIds;

    const results = typedAll(
      await burst(30, (i) => (i % 2 ? link(ws, jobSeeker!, otherCos[i >> 1]!, [employer]) : link(ws, bigCo!, staff[i >> 1]!, [employer]))),
      'linkRecords',
    );

    // The company side is not limited: all 15 staff links succeed; the job seeker gets one employer.
    expect(results.filter((r, i) => i % 2 === 0 && linked(r))).toHaveLength(15);
    expect(tally(results.filter((_, i) => i % 2 === 1))).toEqual({ LinkRecordsSuccess: 1, 'LimitExceededError:MANY_TO_ONE': 14 });
    expect(await associationTotal(ws, jobSeeker!)).toBe(1);
    expect(await associationTotal(ws, bigCo!)).toBe(15);
    await expectWithinLimits(ws.workspaceId);
  });

  it('ONE_TO_ONE SINGLE on one object: a chain and a star of competing links leave at most one partner each', async () => {
    const ws = await t.workspace();
    const spouse = await createLabel(ws, {
      firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Spouse', cardinality: 'ONE_TO_ONE',
    });
    const chain = await createRecords(ws, 'contact', 16, 'Chain');
    const [star, ...suitors] = await createRecords(ws, 'contact', 11, 'Star');

    // Chain: c0–c1, c1–c2, … (each record wanted twice); star: everyone wants `star`, in both orders.
    const pairs: [string, string][] = [
      ...chain.slice(1).map((id, i): [string, string] => (i % 2 ? [id, chain[i]!] : [chain[i]!, id])),
      ...suitors.map((id, i): [string, string] => (i % 2 ? [star!, id] : [id, star!])),
    ];
    const results = typedAll(await burst(pairs.length, (i) => link(ws, pairs[i]![0], pairs[i]![1], [spouse])), 'linkRecords');

    for (const r of results) expect(['LinkRecordsSuccess', 'LimitExceededError']).toContain(r.__typename);
    expect(results.filter((r) => r.__typename === 'LimitExceededError').every((r) => r.limit === 'ONE_TO_ONE')).toBe(true);
    expect(results.filter((r, i) => i >= chain.length - 1 && linked(r))).toHaveLength(1);
    expect(await associationTotal(ws, star!)).toBe(1);
    // Every success is stored; every refusal had a reason that still holds: one of its two
    // records has a partner.
    const rows = await storedAssociations(ws.workspaceId, spouse);
    expect(rows).toHaveLength(results.filter(linked).length);
    const partnered = new Set(rows.flatMap((a) => [a.firstRecordId, a.secondRecordId]));
    pairs.forEach(([a, b], i) => {
      if (!linked(results[i]!)) expect(partnered.has(recordId(a)) || partnered.has(recordId(b))).toBe(true);
    });
    await expectWithinLimits(ws.workspaceId);
  });
});

describe('maxLabelsPerObjectPair under concurrency', () => {
  it('15 labels created at once between two objects (both orders) with the limit at 3: exactly 3 exist', async () => {
    const ws = await t.workspace();
    await setLimits(ws, { maxLabelsPerObjectPair: 3 });
    const schools = await createObject(ws, 'schools');

    const results = typedAll(
      await burst(15, (i) =>
        ws.gql(CREATE_LABEL, {
          input:
            i % 2
              ? { firstObjectKey: schools, secondObjectKey: 'contact', type: 'PAIR', firstLabel: `School ${i}`, secondLabel: `Student ${i}` }
              : { firstObjectKey: 'contact', secondObjectKey: schools, type: 'PAIR', firstLabel: `Student ${i}`, secondLabel: `School ${i}` },
        }),
      ),
      'createAssociationLabel',
    );

    expect(tally(results)).toEqual({ CreateAssociationLabelSuccess: 3, 'LimitExceededError:maxLabelsPerObjectPair': 12 });
    for (const r of results.filter((r) => r.__typename !== 'CreateAssociationLabelSuccess')) expect(r).toMatchObject({ max: 3, current: 3 });
    const data = await query(ws, 'query ($o: String) { associationLabels(objectKey: "contact", otherObjectKey: $o) { key } }', { o: schools });
    expect(data.associationLabels).toHaveLength(3);
    expect(await prisma.associationLabel.count({ where: { workspaceId: ws.workspaceId } })).toBe(3);
    await expectWithinLimits(ws.workspaceId);
  });

  it('10 labels with one explicit key at once: one is created, the rest answer ConflictError', async () => {
    const ws = await t.workspace();
    const results = typedAll(
      await burst(10, (i) =>
        ws.gql(CREATE_LABEL, { input: { key: 'buddy', firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: `Buddy ${i}` } }),
      ),
      'createAssociationLabel',
    );
    expect(tally(results)).toEqual({ CreateAssociationLabelSuccess: 1, ConflictError: 9 });
    expect(await prisma.associationLabel.count({ where: { workspaceId: ws.workspaceId } })).toBe(1);
  });

  it('8 labels with one name and derived keys at once: all are created, each with its own key', async () => {
    const ws = await t.workspace();
    const results = typedAll(
      await burst(8, () => ws.gql(CREATE_LABEL, { input: { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Mentor' } })),
      'createAssociationLabel',
    );
    expect(tally(results)).toEqual({ CreateAssociationLabelSuccess: 8 });
    const keys = results.map((r) => (r.associationLabel as { key: string }).key).sort();
    expect(keys).toEqual(['mentor', 'mentor_2', 'mentor_3', 'mentor_4', 'mentor_5', 'mentor_6', 'mentor_7', 'mentor_8']);
    await expectWithinLimits(ws.workspaceId);
  });
});

describe('batches under concurrency (all-or-nothing)', () => {
  it('12 batches of 3 links at once with maxRecordsPerLabel 11: exactly 3 succeed, failed batches store nothing', async () => {
    const ws = await t.workspace();
    await setLimits(ws, { maxRecordsPerLabel: 11 });
    const cars = await createObject(ws, 'cars');
    const owner = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: cars, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' });
    const [hub] = await createRecords(ws, 'contact', 1, 'Hub');
    const carIds = await createRecords(ws, cars, 36, 'Car');
    const batches = Array.from({ length: 12 }, (_, b) => carIds.slice(3 * b, 3 * b + 3));

    // Records: 4, 7, 10 after three batches; a fourth batch fits its first link (11) but not
    // its second (12), so it must fail at index 1 and keep nothing.
    const results = typedAll(
      await burst(12, (b) => batchLink(ws, batches[b]!.map((car, i) => (i % 2 ? { firstRecordId: car, secondRecordId: hub!, labelKeys: [owner] } : { firstRecordId: hub!, secondRecordId: car, labelKeys: [owner] })))),
      'batchLinkRecords',
    );

    expect(tally(results)).toEqual({ BatchLinkRecordsSuccess: 3, 'LimitExceededError:maxRecordsPerLabel': 9 });
    for (const r of results) {
      if (r.__typename === 'BatchLinkRecordsSuccess') expect(r.createdCount).toBe(3);
      else expect(r).toMatchObject({ index: 1, max: 11, current: 11 });
    }
    expect(await labelCounts(ws, owner)).toEqual({ associationCount: 9, recordCount: 10 });
    const stored = new Set((await storedAssociations(ws.workspaceId, owner)).map((a) => a.secondRecordId));
    results.forEach((r, b) => {
      const expected = r.__typename === 'BatchLinkRecordsSuccess';
      for (const car of batches[b]!) expect(stored.has(recordId(car))).toBe(expected);
    });
    expect(await linkedEvents(ws)).toHaveLength(9);
    await expectWithinLimits(ws.workspaceId);
  });

  it('batches on two limits at once (records per label and associations per contact): never over either', async () => {
    const ws = await t.workspace();
    await setLimits(ws, { maxRecordsPerLabel: 9, maxAssociationsPerContact: 4 });
    const friend = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
    const people = await createRecords(ws, 'contact', 12, 'Pat');

    // 20 batches of 3 random-ish pairs among 12 contacts: they compete for both limits.
    const batches = Array.from({ length: 20 }, (_, b) =>
      [0, 1, 2].map((i) => {
        const x = (b * 7 + i * 5) % 12;
        const y = (x + 1 + ((b + i * 3) % 11)) % 12;
        return { firstRecordId: people[x]!, secondRecordId: people[y]!, labelKeys: [friend] };
      }),
    );
    const results = typedAll(await burst(20, (b) => batchLink(ws, batches[b]!)), 'batchLinkRecords');

    for (const r of results) expect(['BatchLinkRecordsSuccess', 'LimitExceededError']).toContain(r.__typename);
    expect(results.some((r) => r.__typename === 'BatchLinkRecordsSuccess')).toBe(true);
    const created = results.reduce((sum, r) => sum + ((r.createdCount as number | undefined) ?? 0), 0);
    const rows = await storedAssociations(ws.workspaceId, friend);
    expect(rows).toHaveLength(created);
    // Every pair of a successful batch is stored; a failed batch left nothing of its own.
    const key = (a: number, b: number) => [a, b].sort((x, y) => x - y).join('-');
    const stored = new Set(rows.map((a) => key(a.firstRecordId, a.secondRecordId)));
    const succeeded = new Set(
      results.flatMap((r, b) => (r.__typename === 'BatchLinkRecordsSuccess' ? batches[b]!.map((l) => key(recordId(l.firstRecordId), recordId(l.secondRecordId))) : [])),
    );
    expect([...stored].sort()).toEqual([...succeeded].sort());
    await expectWithinLimits(ws.workspaceId);
  });

  it('20 batches of the same 5 pairs (shuffled) at once: 5 associations, 5 created in all', async () => {
    const ws = await t.workspace();
    const colleague = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
    const people = await createRecords(ws, 'contact', 6, 'Pat');
    const pairs = [0, 1, 2, 3, 4].map((i) => [people[i]!, people[i + 1]!] as const);

    const results = typedAll(
      await burst(20, (b) =>
        batchLink(
          ws,
          pairs.map((_, i) => {
            const [x, y] = pairs[(i + b) % pairs.length]!;
            return b % 2 ? { firstRecordId: y, secondRecordId: x, labelKeys: [colleague] } : { firstRecordId: x, secondRecordId: y, labelKeys: [colleague] };
          }),
        ),
      ),
      'batchLinkRecords',
    );

    expect(tally(results)).toEqual({ BatchLinkRecordsSuccess: 20 });
    expect(results.reduce((sum, r) => sum + (r.createdCount as number), 0)).toBe(5);
    expect(await storedAssociations(ws.workspaceId, colleague)).toHaveLength(5);
    expect(await linkedEvents(ws)).toHaveLength(5);
    await expectWithinLimits(ws.workspaceId);
  });
});

describe('links racing record deletion', () => {
  it('links to a record being deleted either succeed (and are removed with it) or answer NotFound', async () => {
    const ws = await t.workspace();
    const cars = await createObject(ws, 'cars');
    const owner = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: cars, type: 'PAIR', firstLabel: 'Owner', secondLabel: 'Car' });
    const friend = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
    await setLimits(ws, { maxAssociationsPerContact: 100 });
    const ROUNDS = 4;
    const LINKS = 12;
    const victims = await createRecords(ws, 'contact', ROUNDS, 'Victim');
    const carIds = await createRecords(ws, cars, LINKS, 'Car');
    const friends = await createRecords(ws, 'contact', LINKS, 'Friend');

    // Each round: 2×12 links to the victim, with its deletion fired in the middle of them.
    for (const victim of victims) {
      const responses = await burst(2 * LINKS + 1, (i) => {
        if (i === LINKS) return deleteRecord(ws, victim!);
        const j = i > LINKS ? i - 1 : i;
        return j % 2 ? link(ws, carIds[j >> 1]!, victim!, [owner]) : link(ws, victim!, friends[j >> 1]!, [friend]);
      });
      const deleted = typed(responses[LINKS]!, 'deleteRecord');
      const links = responses.filter((_, i) => i !== LINKS).map((r) => typed(r, 'linkRecords'));

      expect(deleted.__typename).toBe('DeleteRecordSuccess');
      for (const r of links) expect(['LinkRecordsSuccess', 'NotFoundError']).toContain(r.__typename);
      // Every link that reported a new association was removed (and counted) by the delete.
      expect(deleted.removedAssociations).toBe(links.filter((r) => r.created === true).length);
      const id = recordId(victim!);
      expect(await prisma.association.count({ where: { OR: [{ firstRecordId: id }, { secondRecordId: id }] } })).toBe(0);
      expect(await query(ws, 'query ($id: ID!) { record(id: $id) { id } }', { id: victim })).toEqual({ record: null });
    }
    expect(await prisma.association.count({ where: { workspaceId: ws.workspaceId } })).toBe(0);
    await expectWithinLimits(ws.workspaceId);
  });

  it('linking two records while both are deleted leaves no association and only typed answers', async () => {
    const ws = await t.workspace();
    const friend = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Friend' });
    const people = await createRecords(ws, 'contact', 20, 'Pat');

    // Pairs (0,1), (2,3), …: each pair is linked 3 times while one side is deleted.
    const responses = await burst(40, (i) => {
      const pair = i >> 2;
      const [a, b] = [people[2 * pair]!, people[2 * pair + 1]!];
      return i % 4 === 2 ? deleteRecord(ws, i % 8 === 2 ? a : b) : link(ws, i % 2 ? b : a, i % 2 ? a : b, [friend]);
    });
    responses.forEach((response, i) => {
      const r = typed(response, i % 4 === 2 ? 'deleteRecord' : 'linkRecords');
      expect(['LinkRecordsSuccess', 'DeleteRecordSuccess', 'NotFoundError']).toContain(r.__typename);
    });
    expect(await prisma.association.count({ where: { workspaceId: ws.workspaceId } })).toBe(0);
    await expectWithinLimits(ws.workspaceId);
  });
});

describe('links racing label deletion and unlinks', () => {
  it('links under a label being force-deleted either succeed (and are removed with it) or answer NotFound', async () => {
    const ws = await t.workspace();
    const cars = await createObject(ws, 'cars');
    const contacts = await createRecords(ws, 'contact', 20, 'Ann');
    const carIds = await createRecords(ws, cars, 20, 'Car');
    for (let round = 0; round < 3; round += 1) {
      const owner = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: cars, type: 'PAIR', firstLabel: `Owner ${round}`, secondLabel: 'Car' });
      const { associationLabel } = await query(ws, 'query ($key: String) { associationLabel(key: $key) { id } }', { key: owner });

      const responses = await burst(21, (i) =>
        i === 10 ? ws.gql(DELETE_LABEL, { input: { id: associationLabel.id, force: true } }) : link(ws, contacts[i % 20]!, carIds[(i + round) % 20]!, [owner]),
      );
      const deleted = typed(responses[10]!, 'deleteAssociationLabel');
      const links = responses.filter((_, i) => i !== 10).map((r) => typed(r, 'linkRecords'));

      expect(deleted.__typename).toBe('DeleteAssociationLabelSuccess');
      for (const r of links) expect(['LinkRecordsSuccess', 'NotFoundError']).toContain(r.__typename);
      expect(deleted.removedAssociations).toBe(links.filter((r) => r.created === true).length);
      expect(await prisma.association.count({ where: { workspaceId: ws.workspaceId } })).toBe(0);
    }
    await expectWithinLimits(ws.workspaceId);
  });

  it('links and unlinks of the same pairs at once leave no duplicate and a log that matches the rows', async () => {
    const ws = await t.workspace();
    const colleague = await createLabel(ws, { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Colleague' });
    const people = await createRecords(ws, 'contact', 4, 'Pat');
    const pairs = [[0, 1], [1, 2], [2, 3]] as const;

    const responses = await burst(36, (i) => {
      const [x, y] = pairs[i % 3]!;
      const [a, b] = i % 2 ? [people[y]!, people[x]!] : [people[x]!, people[y]!];
      return i % 4 < 2 ? link(ws, a, b, [colleague]) : unlink(ws, a, b, i % 8 < 4 ? [colleague] : undefined);
    });
    responses.forEach((response, i) => {
      const r = typed(response, i % 4 < 2 ? 'linkRecords' : 'unlinkRecords');
      expect(['LinkRecordsSuccess', 'UnlinkRecordsSuccess']).toContain(r.__typename);
    });
    // Per pair: associations created minus removed equals what is stored (0 or 1).
    const rows = await storedAssociations(ws.workspaceId, colleague);
    expect(rows.length).toBeLessThanOrEqual(3);
    const created = responses.filter((_, i) => i % 4 < 2).filter((r) => typed(r, 'linkRecords').created === true).length;
    const removed = responses.filter((_, i) => i % 4 >= 2).reduce((sum, r) => sum + (typed(r, 'unlinkRecords').removedCount as number), 0);
    expect(created - removed).toBe(rows.length);
    await expectWithinLimits(ws.workspaceId);
  });
});
