import type { AssociationLabel } from '../db/generated/sqlite/client.js';
import { LimitExceededError } from './errors.js';
import { directionBounds, directionMessage, isSymmetric, type DirectionBound } from './label-limits.js';
import { CONTACT_KEY } from './objects.js';

/**
 * The limits of SPEC §2 (rules 2–4) and §5.5, decided in memory for a whole batch of links.
 *
 * `applyLinks` (links.ts) reads, once per batch, the usage of everything the batch touches from
 * the tallies the association triggers keep exact in the same transaction (RecordLabelTally,
 * LabelTally, ContactTally), and loads it here (in an import, with what the import wrote that the
 * tallies do not count yet: deferred-tallies.ts). Each new association is then checked against
 * that usage plus the associations accepted before it in the batch, and, once accepted, counted
 * in. A rejected item's associations are taken back out (mark/rollback), so they count for
 * nothing. The checks, their order, messages and figures are those of the per-pair counts they
 * replace:
 * 1. records per label: the pair's records not yet linked by the label would join it;
 * 2. contact↔contact associations of each contact (first, then second);
 * 3. cardinality: the sides it bounds to one partner;
 * 4. the label's own limits per direction.
 */

export type LinkLabel = Pick<
  AssociationLabel,
  | 'id'
  | 'key'
  | 'type'
  | 'cardinality'
  | 'firstObjectId'
  | 'secondObjectId'
  | 'firstLabel'
  | 'secondLabel'
  | 'maxSecondPerFirst'
  | 'maxFirstPerSecond'
> & { firstObject: { key: string }; secondObject: { key: string } };

export interface WorkspaceLimits {
  maxRecordsPerLabel: number;
  maxAssociationsPerContact: number;
}

/** A tally row's side: 1 first, 2 second, 0 either (a SINGLE label on one object). */
export type TallySide = 0 | 1 | 2;
const SIDE: Record<DirectionBound['side'], TallySide> = { either: 0, first: 1, second: 2 };

export const isContactLabel = (label: LinkLabel) => label.firstObject.key === CONTACT_KEY && label.secondObject.key === CONTACT_KEY;

/** The tally sides a new association counts on: its first record's, then its second's. */
export const tallySides = (label: LinkLabel): [TallySide, TallySide] => (isSymmetric(label) ? [0, 0] : [1, 2]);

export class LinkUsage {
  /** Distinct records per label. */
  private readonly labelRecords = new Map<number, number>();
  /** Distinct records per label, as loaded. */
  private readonly labelLoaded = new Map<number, number>();
  /** "label:record" of every record a label links. */
  private readonly linked = new Set<string>();
  /** "label:record:side" → the record's associations under the label on that side. */
  private readonly partners = new Map<string, number>();
  /** Contact↔contact associations per contact. */
  private readonly contacts = new Map<number, number>();
  /** How to undo what `accept` counted, newest last. */
  private readonly undo: (() => void)[] = [];

  constructor(private readonly limits: WorkspaceLimits) {}

  // What is loaded adds up: a tally row, and what the transaction wrote that its row does not
  // count yet (deferred-tallies.ts).

  /** Loads a RecordLabelTally row. */
  recordTally(labelId: number, recordId: number, side: TallySide, associations: number): void {
    if (associations <= 0) return;
    this.linked.add(`${labelId}:${recordId}`);
    const key = `${labelId}:${recordId}:${side}`;
    this.partners.set(key, (this.partners.get(key) ?? 0) + associations);
  }

  /** Loads a LabelTally row. */
  labelTally(labelId: number, records: number): void {
    this.labelRecords.set(labelId, (this.labelRecords.get(labelId) ?? 0) + records);
    this.labelLoaded.set(labelId, (this.labelLoaded.get(labelId) ?? 0) + records);
  }

  /** Loads a ContactTally row. */
  contactTally(recordId: number, associations: number): void {
    this.contacts.set(recordId, (this.contacts.get(recordId) ?? 0) + associations);
  }

  /** The records that joined a label since it was loaded, by the associations accepted. */
  joined(labelId: number): number {
    return (this.labelRecords.get(labelId) ?? 0) - (this.labelLoaded.get(labelId) ?? 0);
  }

  private partnersOf(labelId: number, recordId: number, side: DirectionBound['side']): number {
    return this.partners.get(`${labelId}:${recordId}:${SIDE[side]}`) ?? 0;
  }

  /** Throws the LimitExceededError a new association (label, first, second) would meet, if any. */
  check(label: LinkLabel, firstId: number, secondId: number): void {
    const { limits } = this;
    const joining = [firstId, secondId].filter((id) => !this.linked.has(`${label.id}:${id}`)).length;
    if (joining > 0) {
      const current = this.labelRecords.get(label.id) ?? 0;
      if (current + joining > limits.maxRecordsPerLabel) {
        throw new LimitExceededError(
          `Label "${label.key}" already links ${current} records; the limit is ${limits.maxRecordsPerLabel}.`,
          'maxRecordsPerLabel',
          limits.maxRecordsPerLabel,
          current,
        );
      }
    }

    if (isContactLabel(label)) {
      for (const recordId of [firstId, secondId]) {
        const current = this.contacts.get(recordId) ?? 0;
        if (current + 1 > limits.maxAssociationsPerContact) {
          throw new LimitExceededError(
            `A contact already takes part in ${current} contact associations; the limit is ${limits.maxAssociationsPerContact}.`,
            'maxAssociationsPerContact',
            limits.maxAssociationsPerContact,
            current,
          );
        }
      }
    }

    /** The records of this pair a bound on `side` applies to, each with the side to count. */
    const bounded = (side: DirectionBound['side']): [number, DirectionBound['side']][] =>
      side === 'either' ? [[firstId, 'either'], [secondId, 'either']] : [[side === 'first' ? firstId : secondId, side]];
    if (label.cardinality !== 'MANY_TO_MANY') {
      const checks = isSymmetric(label)
        ? bounded('either')
        : label.cardinality === 'MANY_TO_ONE'
          ? bounded('first')
          : [...bounded('first'), ...bounded('second')];
      for (const [recordId, side] of checks) {
        const current = this.partnersOf(label.id, recordId, side);
        if (current >= 1) {
          throw new LimitExceededError(
            `Label "${label.key}" is ${label.cardinality}: this record already has a linked record under it.`,
            label.cardinality,
            1,
            current,
          );
        }
      }
    }
    for (const bound of directionBounds(label)) {
      for (const [recordId, side] of bounded(bound.side)) {
        const current = this.partnersOf(label.id, recordId, side);
        if (current + 1 > bound.max) {
          throw new LimitExceededError(directionMessage(label, bound, current), bound.limit, bound.max, current);
        }
      }
    }
  }

  /** Counts a new association in, as the triggers will once it is written. */
  accept(label: LinkLabel, firstId: number, secondId: number): void {
    const [firstSide, secondSide] = tallySides(label);
    for (const [recordId, side] of [
      [firstId, firstSide],
      [secondId, secondSide],
    ] as const) {
      const linkedKey = `${label.id}:${recordId}`;
      if (!this.linked.has(linkedKey)) {
        this.linked.add(linkedKey);
        this.labelRecords.set(label.id, (this.labelRecords.get(label.id) ?? 0) + 1);
        this.undo.push(() => {
          this.linked.delete(linkedKey);
          this.labelRecords.set(label.id, this.labelRecords.get(label.id)! - 1);
        });
      }
      const partnerKey = `${linkedKey}:${side}`;
      this.partners.set(partnerKey, (this.partners.get(partnerKey) ?? 0) + 1);
      this.undo.push(() => this.partners.set(partnerKey, this.partners.get(partnerKey)! - 1));
      if (isContactLabel(label)) {
        this.contacts.set(recordId, (this.contacts.get(recordId) ?? 0) + 1);
        this.undo.push(() => this.contacts.set(recordId, this.contacts.get(recordId)! - 1));
      }
    }
  }

  /** A point to roll back to. */
  mark(): number {
    return this.undo.length;
  }

  /** Takes back out everything accepted since `mark`. */
  rollback(mark: number): void {
    while (this.undo.length > mark) this.undo.pop()!();
  }

  /** Forgets the undo log (the items before are final). */
  commit(): void {
    this.undo.length = 0;
  }
}
