/**
 * Property-based tests over every surface of the schema (SPEC §5.1): for every mutation and
 * every field with arguments, operations with hostile arguments — control characters, unpaired
 * surrogates, huge and negative numbers, deep and wide JSON, very long strings, forged ids, ids
 * of another workspace — mixed with valid ones, sent over HTTP as an admin and as a restricted
 * USER. Every answer: no 5xx, no INTERNAL_SERVER_ERROR, an `extensions.code` on every error.
 * After every write and after each batch of runs: the graph's invariants (see invariants.ts).
 *
 * `npm test` runs a fixed seed and a bounded number of runs. `npm run fuzz` runs many more with a
 * random seed; a failure prints the seed and path, and `FUZZ_SEED=<seed> FUZZ_PATH=<path>`
 * replays it. `FUZZ_RUNS` sets the runs per property; `FUZZ_REPORT=<file>` records every failing
 * case there (JSON lines) instead of stopping at the first.
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/index.js';
import { useTestApp } from './helpers.js';
import { describeCase, problemsOf, send, succeeded, type Answer, type Role } from './fuzz/checks.js';
import { createFixture, createForeign, createTemplate, type Fixture, type Foreign, type Template } from './fuzz/fixture.js';
import { comparable, forgedCaseArb } from './fuzz/forged.js';
import { summarize } from './fuzz/hostile.js';
import { checkCounts, checkWorkspace, fingerprint, type Snapshot } from './fuzz/invariants.js';
import { generatedArb, render, targetsOf, type Generated, type Target } from './fuzz/operations.js';

const t = useTestApp();

const FUZZING = process.env.npm_lifecycle_event === 'fuzz' || process.env.FUZZ_RUNS !== undefined;
const RUNS = Number(process.env.FUZZ_RUNS ?? (FUZZING ? 200 : 10));
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : FUZZING ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : 20_240_611;
const PATH = process.env.FUZZ_PATH;
const REPORT = process.env.FUZZ_REPORT;
/** Shrinking re-sends operations: bounded, so a failing property still ends in reasonable time. */
const MAX_SHRINKS = FUZZING ? 200 : 25;
const TIMEOUT = FUZZING ? 24 * 3_600_000 : 120_000;

if (FUZZING) console.log(`[fuzz] seed ${SEED}, ${RUNS} runs per property (replay: FUZZ_SEED=${SEED} FUZZ_PATH=<path from the failure>)`);

const params = <T>(): fc.Parameters<T> => ({
  seed: SEED,
  numRuns: RUNS,
  ...(PATH ? { path: PATH } : {}),
  includeErrorInReport: true,
  reporter: (details) => {
    if (!details.failed) return;
    const replay = `replay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''} npm run fuzz -- -t '<test name>'`;
    throw new Error(`${replay}\n${fc.defaultReportMessage(details)}`);
  },
});

const targets = targetsOf(schema);
const mutations = targets.filter((target) => target.operation === 'mutation');
const reads = targets.filter((target) => target.operation === 'query');

let foreign: Foreign;
let template: Template;
/** The other workspaces, as they were before any fuzzing: nothing sent to a fixture may change them. */
let others: [number, string][];
let readFixture: Promise<Fixture> | undefined;

beforeAll(async () => {
  foreign = await createForeign(t);
  template = await createTemplate(t);
  others = await Promise.all([foreign.workspaceId, template.workspaceId].map(async (id): Promise<[number, string]> => [id, await fingerprint(id)]));
});

/** Failing cases of a property: thrown (fast-check shrinks and reports), or recorded with FUZZ_REPORT. */
function fail(cases: string[], record: object) {
  if (!cases.length) return;
  if (REPORT) {
    appendFileSync(REPORT, `${JSON.stringify({ db: process.env.RELATE_TEST_DB, ...record, cases })}\n`);
    return;
  }
  throw new Error(cases.join('\n'));
}

const viewersOf = (fixture: Fixture): { role: Role; key: string; userId: number }[] => [
  { role: 'admin', key: fixture.admin.apiKey, userId: fixture.admin.userId },
  { role: 'user', key: fixture.user.apiKey, userId: fixture.user.userId },
];

/** The counts each viewer reads through the API, against the rows that viewer may see. */
async function countViolations(fixture: Fixture): Promise<string[]> {
  const found: string[] = [];
  for (const viewer of viewersOf(fixture)) {
    const keyWorks = (await send(t.app, viewer.key, { query: '{ viewer { user { id } } }' })).status === 200;
    if (!keyWorks) continue;
    const counts = await checkCounts(fixture.workspaceId, viewer.userId, (query, variables) =>
      send(t.app, viewer.key, { query, variables }).then((answer: Answer) => ({ status: answer.status, ...(answer.body ?? {}) })),
    );
    found.push(...counts.map((violation) => `${viewer.role}: ${violation}`));
  }
  return found;
}

/**
 * Runs generated operations of some targets against a fixture workspace: every answer checked,
 * after every write the workspace's invariants (and, after an error, that nothing changed);
 * after the batch, the invariants again, the API's counts (for writes; reads: that nothing
 * changed), and the other workspaces untouched.
 */
async function fuzz(fixture: Fixture, arbitrary: fc.Arbitrary<[Target, Generated][]>, { reads = false } = {}) {
  const viewers = viewersOf(fixture);
  const initial = await checkWorkspace(fixture.workspaceId);
  expect(initial.violations).toEqual([]);
  let snapshot: Snapshot = initial.snapshot;
  let print = await fingerprint(fixture.workspaceId);
  const violations = new Map<string, string>();

  const property = fc.asyncProperty(arbitrary, async (sequence) => {
    const cases: string[] = [];
    for (const [target, generated] of sequence) {
      const rendered = render(schema, target, generated);
      for (const viewer of viewers) {
        const answer = await send(t.app, viewer.key, rendered);
        const problems = problemsOf(target, rendered, answer, viewer.role);
        if (problems.length) cases.push(describeCase(target, rendered, viewer.role, answer, problems));
        if (target.operation !== 'mutation') continue;
        if (succeeded(target, answer)) {
          const result = await checkWorkspace(fixture.workspaceId, snapshot);
          snapshot = result.snapshot;
          for (const violation of result.violations) {
            if (!violations.has(violation)) violations.set(violation, describeCase(target, rendered, viewer.role, answer, [violation]));
          }
          print = await fingerprint(fixture.workspaceId);
        } else {
          const after = await fingerprint(fixture.workspaceId);
          if (after !== print) {
            const problem = 'an operation that failed changed the workspace';
            cases.push(describeCase(target, rendered, viewer.role, answer, [problem]));
            print = after;
            snapshot = (await checkWorkspace(fixture.workspaceId)).snapshot;
          }
        }
      }
    }
    fail(cases, { targets: sequence.map(([target]) => target.id) });
  });
  await fc.assert(property, params());

  // After the batch: the invariants, the counts each viewer reads, the other workspaces.
  const final = await checkWorkspace(fixture.workspaceId);
  for (const violation of final.violations) if (!violations.has(violation)) violations.set(violation, '(found after the batch)');
  if (reads) {
    if ((await fingerprint(fixture.workspaceId)) !== print) violations.set('reads changed the workspace', '');
  } else {
    for (const violation of await countViolations(fixture)) violations.set(violation, '(counts after the batch)');
  }
  for (const [id, before] of others) if ((await fingerprint(id)) !== before) violations.set(`another workspace (${id}) changed`, '');
  const found = [...violations].map(([violation, cause]) => `${violation}\n${cause}`);
  if (REPORT && found.length) fail(found, { invariants: true });
  else expect(found).toEqual([]);
}

const single = (target: Target, fixture: Fixture) =>
  fc.limitShrink(generatedArb(target, fixture.pools), MAX_SHRINKS).map((generated): [Target, Generated][] => [[target, generated]]);

describe('hostile input, derived from the schema', () => {
  it('has a target for every mutation and every field with arguments', () => {
    const ids = targets.map((target) => target.id);
    for (const field of Object.keys(schema.getMutationType()!.getFields())) expect(ids).toContain(`Mutation.${field}`);
    for (const [name, field] of Object.entries(schema.getQueryType()!.getFields())) if (field.args.length) expect(ids).toContain(`Query.${name}`);
    expect(ids).toEqual(expect.arrayContaining(['Record.associations', 'Record.associationEvents', 'Object.records', 'AssociationLabel.associations', 'AssociationGroup.records']));
  });

  for (const target of mutations) {
    it(`${target.id}: answers without 5xx or INTERNAL_SERVER_ERROR, and the graph's invariants hold`, async () => {
      const fixture = await createFixture(template, foreign);
      await fuzz(fixture, single(target, fixture));
    }, TIMEOUT);
  }

  for (const target of reads) {
    it(`${target.id}: answers without 5xx or INTERNAL_SERVER_ERROR`, async () => {
      readFixture ??= createFixture(template, foreign);
      const fixture = await readFixture;
      await fuzz(fixture, single(target, fixture), { reads: true });
    }, TIMEOUT);
  }

  it('after the reads, the counts each viewer reads agree with the rows', async () => {
    readFixture ??= createFixture(template, foreign);
    expect(await countViolations(await readFixture)).toEqual([]);
  });

  it('sequences of mutations keep the invariants', async () => {
    const fixture = await createFixture(template, foreign);
    const step = fc.oneof(...mutations.map((target) => generatedArb(target, fixture.pools).map((generated): [Target, Generated] => [target, generated])));
    await fuzz(fixture, fc.limitShrink(fc.array(step, { minLength: 2, maxLength: FUZZING ? 12 : 6 }), MAX_SHRINKS));
  }, TIMEOUT);

  it('forged ids, deleted ids and ids of another workspace answer exactly like ids that do not exist', async () => {
    const fixture = await createFixture(template, foreign);
    const cases = targets.flatMap((target) => {
      const arbitrary = forgedCaseArb(target, fixture.pools);
      return arbitrary ? [arbitrary.map((value) => ({ target, value }))] : [];
    });
    const viewers: [Role, string][] = [
      ['admin', fixture.admin.apiKey],
      ['user', fixture.user.apiKey],
    ];
    const property = fc.asyncProperty(fc.limitShrink(fc.oneof(...cases), MAX_SHRINKS), async ({ target, value }) => {
      const failures: string[] = [];
      const forged = render(schema, target, value.withForged);
      const missing = render(schema, target, value.withMissing);
      for (const [role, key] of viewers) {
        const a = await send(t.app, key, forged);
        const b = await send(t.app, key, missing);
        const ids = [value.forged, JSON.stringify(value.forged), missing.sent[value.slot.variable.name]];
        const left = comparable(target, a, [value.forged, ...ids]);
        const right = comparable(target, b, [value.forged, ...ids]);
        if (left !== right) {
          failures.push(
            [
              `${target.id} as ${role}: the forged id ${summarize(value.forged)} at ${value.slot.variable.argument.name}${value.slot.path.map((p) => `.${p}`).join('')} answers unlike a missing id`,
              `  operation: ${forged.query}`,
              `  variables: ${summarize(forged.variables)}`,
              `  forged answer:  ${left.slice(0, 600)}`,
              `  missing answer: ${right.slice(0, 600)}`,
            ].join('\n'),
          );
        }
      }
      fail(failures, { forged: target.id });
    });
    await fc.assert(property, { ...params(), numRuns: RUNS * 4 });
  }, TIMEOUT);
});
