/**
 * Crash safety of writes (SPEC rules 10, 14, 15): a server killed with SIGKILL in the middle of
 * a storm of batch links and unlinks loses nothing it acknowledged and leaves nothing
 * half-applied. After a restart on the same database:
 * 1. every batch acknowledged as a success is fully there (links) or fully gone (unlinks);
 * 2. every batch — including those in flight at the kill — is all or nothing;
 * 3. the association rows agree with the event log;
 * 4. every limit still holds (associations per contact, records per label, cardinalities);
 * 5. the server serves normally.
 *
 * Every batch touches (label, first, second) triples that no other batch touches, so its effect
 * can be read off the stored rows afterwards. Limits are low enough that the storm runs into
 * them. The kill waits until link and unlink successes and a limit refusal were acknowledged,
 * then lands at a random moment within one request's time, while other batches are in flight.
 * The stored state is read raw, through a connection of the test's own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { random as seededRandom } from '../src/cli/seed-scale.js';
import { decodeGlobalId } from '../src/services/ids.js';
import { createTestDatabase } from './helpers.js';
import { startServer, type RunningServer } from './support/process.js';
import {
  eventProblems,
  limitProblems,
  openRawReader,
  readStored,
  tripleKey,
  wouldExceed,
  type RawReader,
} from './support/stored-associations.js';

const LIMITS = { maxAssociationsPerContact: 5, maxRecordsPerLabel: 18 };
const CONTACTS = 20;
const VESSELS = 12;
const CLIENTS = 6;
const VESSEL = 'custom_objects.crash_vessels';
const LABELS = {
  crash_friend: { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Crash friend' },
  crash_partner: { firstObjectKey: 'contact', secondObjectKey: 'contact', type: 'SINGLE', firstLabel: 'Crash partner', cardinality: 'ONE_TO_ONE' },
  crash_skipper: { firstObjectKey: 'contact', secondObjectKey: VESSEL, type: 'PAIR', firstLabel: 'Skipper', secondLabel: 'Vessel', cardinality: 'MANY_TO_ONE' },
  crash_crew: { firstObjectKey: VESSEL, secondObjectKey: 'contact', type: 'PAIR', firstLabel: 'Ship', secondLabel: 'Crew' },
} as const;
type LabelKey = keyof typeof LABELS;
/** Associations made before the storm, per label, for the unlink batches to remove. */
const PRELINK: Record<LabelKey, number> = { crash_friend: 6, crash_partner: 3, crash_skipper: 4, crash_crew: 8 };
/** And a few that no batch touches: they must come through the crash as they were. */
const KEEP: Record<LabelKey, number> = { crash_friend: 1, crash_partner: 1, crash_skipper: 1, crash_crew: 1 };

/** Seeded, so a failure can be replayed with CRASH_SEED=<seed> (timing still varies). */
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = seededRandom(SEED);
const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

interface RecordRef {
  gid: string;
  id: number;
}
/** One association as stored: ids in the label's stored order (lower id first for SINGLE). */
interface Triple {
  label: LabelKey;
  first: RecordRef;
  second: RecordRef;
}
const keyOf = (t: Triple) => tripleKey(t.label, t.first.id, t.second.id);

interface Item {
  firstRecordId: string;
  secondRecordId: string;
  labelKeys: string[];
}
type Outcome = 'unsent' | 'success' | 'refused' | 'lost';
interface Batch {
  kind: 'link' | 'unlink';
  triples: Triple[];
  items: Item[];
  outcome: Outcome;
}

/** Items for a set of triples: one item per pair of records (with all its labels), either order. */
function itemsOf(triples: Triple[]): Item[] {
  const byPair = new Map<string, { a: RecordRef; b: RecordRef; labels: LabelKey[] }>();
  for (const t of triples) {
    const [a, b] = t.first.id < t.second.id ? [t.first, t.second] : [t.second, t.first];
    const pair = byPair.get(`${a.id}-${b.id}`) ?? { a, b, labels: [] };
    pair.labels.push(t.label);
    byPair.set(`${a.id}-${b.id}`, pair);
  }
  return [...byPair.values()].map(({ a, b, labels }) => {
    const [x, y] = random() < 0.5 ? [a, b] : [b, a];
    return { firstRecordId: x.gid, secondRecordId: y.gid, labelKeys: labels };
  });
}

function chunks<T>(items: T[], min: number, max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const size = between(min, max);
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

const ERRORS = '... on Error { code message } ... on LimitExceededError { index limit max current }';
const BATCH_LINK = `mutation ($input: BatchLinkRecordsInput!) { batchLinkRecords(input: $input) {
  __typename ... on BatchLinkRecordsSuccess { createdCount } ${ERRORS} } }`;
const BATCH_UNLINK = `mutation ($input: BatchUnlinkRecordsInput!) { batchUnlinkRecords(input: $input) {
  __typename ... on BatchUnlinkRecordsSuccess { removedCount } ${ERRORS} } }`;
const LINK = `mutation ($input: LinkRecordsInput!) { linkRecords(input: $input) {
  __typename ... on LinkRecordsSuccess { created } ${ERRORS} } }`;

interface Answer {
  status: number;
  data?: any;
  errors?: unknown[];
}
async function post(url: string, apiKey: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

/** `data` of an operation that must succeed at the GraphQL level. */
async function data(url: string, apiKey: string, query: string, variables?: Record<string, unknown>): Promise<any> {
  const answer = await post(url, apiKey, query, variables);
  if (answer.status !== 200 || answer.errors || !answer.data) throw new Error(`${query}\nanswered ${JSON.stringify(answer)}`);
  return answer.data;
}

/** The result union of a mutation that must answer its success type. */
async function mutate(url: string, apiKey: string, field: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const result = (await data(url, apiKey, query, variables))[field];
  if (!String(result?.__typename).endsWith('Success')) throw new Error(`${field} failed: ${JSON.stringify(result)}`);
  return result;
}

describe('crash safety: SIGKILL in a storm of batch links and unlinks', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  const servers: RunningServer[] = [];
  let raw: RawReader | undefined;

  afterAll(async () => {
    await raw?.close();
    for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) await server.stop();
    await db?.drop();
  });

  it('loses nothing acknowledged, applies every batch whole or not at all, and keeps the log and the limits', async () => {
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, NODE_ENV: 'development' };
    const first = await startServer(env);
    servers.push(first);
    // The demo workspace's admin key is printed on stdout; the listen line comes on stderr.
    for (let i = 0; i < 100 && !/\n {2}(rel_\S+)\n/.test(first.output()); i += 1) await new Promise((r) => setTimeout(r, 20));
    const apiKey = /\n {2}(rel_\S+)\n/.exec(first.output())?.[1];
    expect(apiKey, first.output()).toMatch(/^rel_/);
    const key = apiKey!;
    let url = first.url;

    // --- Arrange through the API: an object, four labels, low limits, records, some links.
    const viewer = await data(url, key, '{ viewer { workspace { id } } }');
    const workspaceId = decodeGlobalId(viewer.viewer.workspace.id, 'Workspace')!;
    await mutate(url, key, 'createObject', `mutation ($input: CreateObjectInput!) { createObject(input: $input) { __typename ${ERRORS} } }`, {
      input: {
        key: VESSEL,
        singularName: 'Vessel',
        pluralName: 'Vessels',
        primaryProperty: 'name',
        fields: [{ key: 'name', name: 'Name', type: 'TEXT', required: true }],
      },
    });
    for (const [labelKey, input] of Object.entries(LABELS)) {
      await mutate(
        url,
        key,
        'createAssociationLabel',
        `mutation ($input: CreateAssociationLabelInput!) { createAssociationLabel(input: $input) { __typename ${ERRORS} } }`,
        { input: { key: labelKey, ...input } },
      );
    }
    await mutate(
      url,
      key,
      'updateAssociationLimits',
      `mutation ($input: UpdateAssociationLimitsInput!) { updateAssociationLimits(input: $input) { __typename ${ERRORS} } }`,
      { input: LIMITS },
    );
    const createRecord = async (objectKey: string, properties: Record<string, unknown>): Promise<RecordRef> => {
      const result = await mutate(
        url,
        key,
        'createRecord',
        `mutation ($input: CreateRecordInput!) { createRecord(input: $input) { __typename ... on CreateRecordSuccess { record { id } } ${ERRORS} } }`,
        { input: { objectKey, properties } },
      );
      return { gid: result.record.id, id: decodeGlobalId(result.record.id, 'Record')! };
    };
    // Created at once; sorted by id so that a seed picks the same triples again.
    const byId = (a: RecordRef, b: RecordRef) => a.id - b.id;
    const contacts = (await Promise.all(Array.from({ length: CONTACTS }, (_, i) => createRecord('contact', { firstName: 'Crash', lastName: `C${i}` })))).sort(byId);
    const vessels = (await Promise.all(Array.from({ length: VESSELS }, (_, i) => createRecord(VESSEL, { name: `Vessel ${i}` })))).sort(byId);

    // Every triple the storm may touch.
    const universe: Record<LabelKey, Triple[]> = { crash_friend: [], crash_partner: [], crash_skipper: [], crash_crew: [] };
    for (const [i, a] of contacts.entries()) {
      for (const b of contacts.slice(i + 1)) {
        const [low, high] = a.id < b.id ? [a, b] : [b, a];
        universe.crash_friend.push({ label: 'crash_friend', first: low, second: high });
        universe.crash_partner.push({ label: 'crash_partner', first: low, second: high });
      }
      for (const v of vessels) {
        universe.crash_skipper.push({ label: 'crash_skipper', first: a, second: v });
        universe.crash_crew.push({ label: 'crash_crew', first: v, second: a });
      }
    }
    // Links made before the storm, all in one batch, chosen within the limits: some for the
    // unlink batches to remove, some kept out of every batch.
    raw = await openRawReader(db.url);
    const model = await readStored(raw, workspaceId);
    await raw.close();
    raw = undefined;
    const prelinked: Triple[] = [];
    const kept: Triple[] = [];
    for (const label of Object.keys(universe) as LabelKey[]) {
      const labelId = model.labels.find((l) => l.key === label)!.id;
      let made = 0;
      for (const t of shuffle(universe[label])) {
        if (made === PRELINK[label] + KEEP[label]) break;
        if (wouldExceed(model, t.label, t.first.id, t.second.id)) continue;
        model.rows.push({ id: 0, labelId, firstRecordId: t.first.id, secondRecordId: t.second.id });
        (made < KEEP[label] ? kept : prelinked).push(t);
        made += 1;
      }
    }
    const before = await mutate(url, key, 'batchLinkRecords', BATCH_LINK, { input: { links: itemsOf([...kept, ...prelinked]) } });
    expect(before.createdCount).toBe(kept.length + prelinked.length);
    expect(prelinked.length, `seed ${SEED}`).toBe(Object.values(PRELINK).reduce((a, b) => a + b));
    expect(kept.length, `seed ${SEED}`).toBe(Object.values(KEEP).reduce((a, b) => a + b));
    const keptKeys = new Set(kept.map(keyOf));
    const prelinkedKeys = new Set([...prelinked, ...kept].map(keyOf));

    // --- The batches: each one's triples are its own.
    const unlinkBatches: Batch[] = chunks(shuffle([...prelinked]), 2, 3).map((triples) => ({
      kind: 'unlink',
      triples,
      items: itemsOf(triples),
      outcome: 'unsent',
    }));
    const rest = shuffle(Object.values(universe).flat().filter((t) => !prelinkedKeys.has(keyOf(t))));
    const linkBatches: Batch[] = chunks(rest.slice(0, 700), 2, 4)
      .slice(0, 160)
      .map((triples) => ({ kind: 'link', triples, items: itemsOf(triples), outcome: 'unsent' }));
    const queue = [...linkBatches];
    for (const batch of unlinkBatches) queue.splice(between(0, Math.min(queue.length, 3 * unlinkBatches.length)), 0, batch);

    // --- The storm, and the kill in the middle of it.
    const inFlight = new Set<Batch>();
    const unexpected: string[] = [];
    let next = 0;
    let acknowledged = 0;
    let killing = false;
    let killed = false;
    let inFlightAtKill = 0;
    let exited: Promise<{ code: number | null }> | undefined;
    const killAfter = between(6, 16);
    let latency = 0;
    let killDelay = 0;
    const count = (kind: Batch['kind'], outcome: Outcome) => queue.filter((b) => b.kind === kind && b.outcome === outcome).length;
    const kill = () => {
      if (killed) return;
      killed = true;
      inFlightAtKill = inFlight.size;
      exited = first.stop('SIGKILL');
    };
    const maybeKill = () => {
      if (killing || acknowledged < killAfter) return;
      if (count('link', 'success') < 2 || count('unlink', 'success') < 2 || count('link', 'refused') < 1) return;
      killing = true;
      // Anywhere within one request's time, so the kill can land at any step of a batch: before
      // it reached the server, in its transaction, between its commit and its answer.
      killDelay = Math.floor(Math.random() * (latency / acknowledged));
      setTimeout(kill, killDelay);
    };
    const client = async () => {
      while (!killed && next < queue.length) {
        const batch = queue[next++]!;
        inFlight.add(batch);
        batch.outcome = 'lost';
        const sent = Date.now();
        try {
          const answer =
            batch.kind === 'link'
              ? await post(url, key, BATCH_LINK, { input: { links: batch.items } })
              : await post(url, key, BATCH_UNLINK, { input: { unlinks: batch.items } });
          const result = answer.data?.[batch.kind === 'link' ? 'batchLinkRecords' : 'batchUnlinkRecords'];
          const n = batch.triples.length;
          const typed = answer.status === 200 && !answer.errors ? result?.__typename : undefined;
          if ((typed === 'BatchLinkRecordsSuccess' && result.createdCount === n) || (typed === 'BatchUnlinkRecordsSuccess' && result.removedCount === n)) {
            batch.outcome = 'success';
          } else if (batch.kind === 'link' && typed === 'LimitExceededError') {
            batch.outcome = 'refused';
          } else {
            batch.outcome = 'refused';
            unexpected.push(`${batch.kind} batch answered ${JSON.stringify(answer)}`);
          }
          acknowledged += 1;
          latency += Date.now() - sent;
          maybeKill();
        } catch (error) {
          // No answer: the server died with this batch in flight (or before it got there).
          if (!killed) unexpected.push(`${batch.kind} batch failed before the kill: ${String(error)}`);
        } finally {
          inFlight.delete(batch);
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    kill(); // if the storm ran out before the kill condition, the assertions below say so
    const exit = await exited!;

    const summary = {
      seed: SEED,
      killAfter,
      killDelay,
      inFlightAtKill,
      link: { success: count('link', 'success'), refused: count('link', 'refused'), lost: count('link', 'lost'), unsent: count('link', 'unsent') },
      unlink: { success: count('unlink', 'success'), lost: count('unlink', 'lost'), unsent: count('unlink', 'unsent') },
    };
    const info = JSON.stringify(summary);
    expect(unexpected, info).toEqual([]);
    expect(exit.code, info).toBeNull(); // killed by the signal, not exited
    // Not vacuous: the kill came after successes and limit refusals were acknowledged, with
    // batches still in flight and others never sent.
    expect(killing, `the storm ran out before the kill: ${info}`).toBe(true);
    expect(summary.link.success, info).toBeGreaterThanOrEqual(2);
    expect(summary.unlink.success, info).toBeGreaterThanOrEqual(2);
    expect(summary.link.refused, info).toBeGreaterThanOrEqual(1);
    expect(inFlightAtKill, info).toBeGreaterThanOrEqual(1);
    expect(summary.link.lost + summary.unlink.lost, info).toBeGreaterThanOrEqual(1);
    expect(summary.link.unsent + summary.unlink.unsent, info).toBeGreaterThanOrEqual(1);

    // --- Restart on the same database.
    const second = await startServer(env);
    servers.push(second);
    url = second.url;
    raw = await openRawReader(db.url);
    const stored = await readStored(raw, workspaceId);

    // (1) + (2): each batch whole or not at all; acknowledged ones as acknowledged; unsent ones untouched.
    const batchProblems: string[] = [];
    for (const [position, batch] of queue.entries()) {
      const present = batch.triples.filter((t) => stored.present.has(keyOf(t))).length;
      const n = batch.triples.length;
      const applied = batch.kind === 'link' ? present === n : present === 0;
      const untouched = batch.kind === 'link' ? present === 0 : present === n;
      const what = `${batch.kind} batch #${position} (${batch.outcome}, ${n} associations, ${present} stored)`;
      if (!applied && !untouched) batchProblems.push(`${what} is half-applied`);
      else if (batch.outcome === 'success' && !applied) batchProblems.push(`${what} was acknowledged but is lost`);
      else if ((batch.outcome === 'refused' || batch.outcome === 'unsent') && !untouched) batchProblems.push(`${what} was never applied but shows`);
    }
    expect(batchProblems, info).toEqual([]);
    // Nothing but the batches changed the storm's triples: the kept links are all there, and
    // nothing else is.
    const touched = new Set(queue.flatMap((b) => b.triples.map(keyOf)));
    const untouched = Object.values(universe)
      .flat()
      .filter((t) => !touched.has(keyOf(t)));
    expect(untouched.filter((t) => stored.present.has(keyOf(t))).map(keyOf).sort()).toEqual([...keptKeys].sort());

    // (3) The rows agree with the event log; (4) every limit holds, with the limits as set.
    expect(eventProblems(stored), info).toEqual([]);
    expect(stored.limits).toMatchObject(LIMITS);
    expect(limitProblems(stored), info).toEqual([]);

    // The API reads the same state.
    for (const label of Object.keys(LABELS)) {
      const { associationLabel } = await data(url, key, 'query ($key: String) { associationLabel(key: $key) { associationCount recordCount } }', { key: label });
      const id = stored.labels.find((l) => l.key === label)!.id;
      const rows = stored.rows.filter((r) => r.labelId === id);
      expect(associationLabel, label).toEqual({
        associationCount: rows.length,
        recordCount: new Set(rows.flatMap((r) => [r.firstRecordId, r.secondRecordId])).size,
      });
    }
    const involving = (id: number) => (r: { firstRecordId: number; secondRecordId: number }) => r.firstRecordId === id || r.secondRecordId === id;
    const totals = await Promise.all(
      [...contacts, ...vessels].map(async ({ id, gid }) => {
        const { record } = await data(
          url,
          key,
          'query ($id: ID!) { record(id: $id) { associations(first: 1) { totalCount } associationEvents(first: 1) { totalCount } } }',
          { id: gid },
        );
        return { id, associations: record.associations.totalCount, events: record.associationEvents.totalCount };
      }),
    );
    expect(totals, info).toEqual(
      [...contacts, ...vessels].map(({ id }) => ({
        id,
        associations: stored.rows.filter(involving(id)).length,
        events: stored.events.filter(involving(id)).length,
      })),
    );

    // (5) The restarted server serves normally: ready, reads, writes, and limits still refuse.
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    const pair = { firstRecordId: kept[0]!.second.gid, secondRecordId: kept[0]!.first.gid, labelKeys: [kept[0]!.label] };
    const unlinked = await mutate(url, key, 'batchUnlinkRecords', BATCH_UNLINK, { input: { unlinks: [pair] } });
    expect(unlinked.removedCount).toBe(1);
    const relinked = await mutate(url, key, 'batchLinkRecords', BATCH_LINK, { input: { links: [pair] } });
    expect(relinked.createdCount).toBe(1);
    const over = Object.values(universe)
      .flat()
      .find((t) => !stored.present.has(keyOf(t)) && wouldExceed(stored, t.label, t.first.id, t.second.id));
    expect(over, 'some link must be over a limit after the storm').toBeDefined();
    const overInput = { firstRecordId: over!.first.gid, secondRecordId: over!.second.gid, labelKeys: [over!.label] };
    const refused = (await data(url, key, LINK, { input: overInput })).linkRecords;
    expect(refused.__typename, JSON.stringify(refused)).toBe('LimitExceededError');
    const after = await readStored(raw, workspaceId);
    expect(after.events).toHaveLength(stored.events.length + 2);
    expect(after.rows).toHaveLength(stored.rows.length);
    expect(eventProblems(after)).toEqual([]);
    expect(limitProblems(after)).toEqual([]);

  });
});
