/**
 * What closing a spread may send now, from what the broker holds on each leg (safety rule 3, per leg). Pure.
 *
 * - Every leg whole: one mleg close for the multiple every leg's `qty_available` confirms on the reducing
 *   side (floor(available / ratio_qty), the least over the legs), at most the multiple wanted.
 * - A leg gone or short of its ratio (assigned early, closed by hand, liquidated): the spread is unwound.
 *   The whole multiples still held are "intact"; the contracts beyond them are orphans. Orphaned shorts are
 *   bought back first (single-leg, intent-free, at most what the broker holds); orphaned longs are sold (or
 *   kept as single-leg positions, `orphanLong: 'keep'`) only once no orphaned short is left; and an
 *   `orphan_leg` alert names the spread and the legs.
 * - A safety net over all of it: a step is planned only if no combination of the planned steps filling
 *   leaves more short contracts uncovered (per type, by longs expiring no earlier) than before. What waits
 *   is listed with why, for the next sweep.
 *
 * The plan never sends a leg the broker does not hold on the recorded side, never more than it holds
 * (nor more than the spread recorded), and never on the side that would open.
 */
import type { BrokerPosition } from './broker-types';
import type { HeldSpreadLeg } from './spread-types';
import { parseOccSymbol } from './occ';

/** Input of {@link planSpreadClose}. */
export interface SpreadCloseInput {
  readonly spreadId: string;
  /** The legs as opened (held side and ratio). */
  readonly legs: readonly HeldSpreadLeg[];
  /** Multiples the spread holds by its record. */
  readonly multiple: number;
  /** Multiples to close now (an exit of part or all); an orphaned spread is unwound whatever this says. */
  readonly wantedMultiple: number;
  /** The broker's positions (any listing; only the legs' symbols are read). */
  readonly broker: readonly BrokerPosition[];
  /** What becomes of an orphaned long leg once no orphaned short is left. @default 'close' */
  readonly orphanLong?: 'close' | 'keep';
}

/** One mleg close of whole multiples: each leg reduces ratio_qty x multiple. */
export interface MlegCloseStep {
  readonly kind: 'mleg';
  readonly multiple: number;
  readonly legs: readonly HeldSpreadLeg[];
}

/** One single-leg close of an orphaned contract. */
export interface SingleCloseStep {
  readonly kind: 'single';
  readonly option_symbol: string;
  /** The reducing side: buy back a short, sell a long. */
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly why: 'buy_back_orphaned_short' | 'sell_orphaned_long';
}

export type SpreadCloseStep = MlegCloseStep | SingleCloseStep;

/** A leg the broker holds differently from the record. */
export interface LegShortfall {
  readonly option_symbol: string;
  readonly side: 'long' | 'short';
  readonly expected: number;
  /** Held on the recorded side (0 when gone or on the opposite side). */
  readonly held: number;
  /** The broker holds this contract on the opposite side: never touched by the plan. */
  readonly oppositeSide: boolean;
}

/** The `orphan_leg` alert: the spread, and each leg not held in full. */
export interface OrphanLegAlert {
  readonly type: 'orphan_leg';
  readonly spread_id: string;
  readonly legs: readonly LegShortfall[];
}

/** Result of {@link planSpreadClose}. */
export interface SpreadClosePlan {
  /** Send these now (in order: buy-backs first). */
  readonly steps: readonly SpreadCloseStep[];
  /** Orphaned longs to keep as single-leg positions under the spread's plan. */
  readonly keep: ReadonlyArray<{ readonly option_symbol: string; readonly qty: number }>;
  /** Contracts that must wait (held by working orders, or a long that still covers a short). */
  readonly waiting: ReadonlyArray<{
    readonly option_symbol: string;
    readonly qty: number;
    readonly why: 'held_by_orders' | 'covers_a_short' | 'not_safe_yet';
  }>;
  /** Whole multiples every leg still holds. */
  readonly intactMultiple: number;
  readonly orphaned: boolean;
  readonly alerts: readonly OrphanLegAlert[];
}

interface LegState {
  readonly leg: HeldSpreadLeg;
  readonly type: 'call' | 'put' | null;
  readonly expiry: string;
  readonly expected: number;
  readonly held: number;
  available: number;
  readonly opposite: boolean;
}

/** The steps that may be sent now to close (part of) a spread; see the module comment. */
export function planSpreadClose(input: SpreadCloseInput): SpreadClosePlan {
  const states = input.legs.map((leg) => legState(leg, input.multiple, input.broker));
  const intact = Math.min(...states.map((s) => Math.floor(s.held / s.leg.ratio_qty)));
  const orphaned = states.some((s) => s.held !== intact * s.leg.ratio_qty);
  const leftover = (s: LegState) => (orphaned ? s.held - intact * s.leg.ratio_qty : 0);

  const out: Collected = { candidates: [], waiting: [], keep: [] };
  collectShortBuyBacks(states, leftover, out);
  collectMleg(
    states,
    input,
    orphaned ? intact : Math.min(Math.max(0, Math.floor(input.wantedMultiple)), intact),
    out,
  );
  collectOrphanedLongs(states, leftover, input.orphanLong ?? 'close', out);
  const { candidates, waiting, keep } = out;

  // The safety net: no combination of planned fills may uncover more shorts than are uncovered now.
  const steps: SpreadCloseStep[] = [];
  for (const step of candidates) {
    if (neverUncovers(states, [...steps, step])) steps.push(step);
    else
      for (const [symbol, qty] of touched(step))
        waiting.push({ option_symbol: symbol, qty, why: 'not_safe_yet' });
  }

  const shortfalls = states
    .filter((s) => s.held < s.expected)
    .map((s) => ({
      option_symbol: s.leg.option_symbol,
      side: s.leg.side,
      expected: s.expected,
      held: s.held,
      oppositeSide: s.opposite,
    }));
  return {
    steps,
    keep,
    waiting,
    intactMultiple: intact,
    orphaned,
    alerts: orphaned ? [{ type: 'orphan_leg', spread_id: input.spreadId, legs: shortfalls }] : [],
  };
}

type Waiting = SpreadClosePlan['waiting'][number];
interface Collected {
  readonly candidates: SpreadCloseStep[];
  readonly waiting: Waiting[];
  readonly keep: Array<SpreadClosePlan['keep'][number]>;
}

/** 1. Orphaned shorts: buy back what the broker confirms available. */
function collectShortBuyBacks(states: LegState[], leftover: (s: LegState) => number, out: Collected): void {
  for (const s of states) {
    const left = leftover(s);
    if (s.leg.side !== 'short' || left <= 0) continue;
    const qty = Math.min(left, s.available);
    if (qty > 0) {
      out.candidates.push({
        kind: 'single',
        option_symbol: s.leg.option_symbol,
        side: 'buy',
        qty,
        why: 'buy_back_orphaned_short',
      });
      s.available -= qty;
    }
    if (qty < left)
      out.waiting.push({ option_symbol: s.leg.option_symbol, qty: left - qty, why: 'held_by_orders' });
  }
}

/** 2. The intact multiples wanted, as one mleg order, for what every leg confirms available. */
function collectMleg(states: LegState[], input: SpreadCloseInput, wanted: number, out: Collected): void {
  const confirmed = Math.min(...states.map((s) => Math.floor(s.available / s.leg.ratio_qty)));
  const multiple = Math.min(wanted, confirmed);
  if (multiple >= 1) {
    out.candidates.push({ kind: 'mleg', multiple, legs: input.legs });
    for (const s of states) s.available -= multiple * s.leg.ratio_qty;
  }
  if (multiple >= wanted) return;
  for (const s of states) {
    const short = (wanted - multiple) * s.leg.ratio_qty;
    if (s.available < short) {
      out.waiting.push({
        option_symbol: s.leg.option_symbol,
        qty: short - Math.max(0, s.available),
        why: 'held_by_orders',
      });
    }
  }
}

/** 3. Orphaned longs: sold (or kept) only once no orphaned short is left at the broker. */
function collectOrphanedLongs(
  states: LegState[],
  leftover: (s: LegState) => number,
  orphanLong: 'close' | 'keep',
  out: Collected,
): void {
  const shortsLeft = states.some((s) => s.leg.side === 'short' && leftover(s) > 0);
  for (const s of states) {
    const left = leftover(s);
    if (s.leg.side !== 'long' || left <= 0) continue;
    if (shortsLeft) {
      out.waiting.push({ option_symbol: s.leg.option_symbol, qty: left, why: 'covers_a_short' });
    } else if (orphanLong === 'keep') {
      out.keep.push({ option_symbol: s.leg.option_symbol, qty: left });
    } else {
      const qty = Math.min(left, s.available);
      if (qty > 0) {
        out.candidates.push({
          kind: 'single',
          option_symbol: s.leg.option_symbol,
          side: 'sell',
          qty,
          why: 'sell_orphaned_long',
        });
        s.available -= qty;
      }
      if (qty < left)
        out.waiting.push({ option_symbol: s.leg.option_symbol, qty: left - qty, why: 'held_by_orders' });
    }
  }
}

function legState(leg: HeldSpreadLeg, multiple: number, broker: readonly BrokerPosition[]): LegState {
  const expected = leg.ratio_qty * Math.max(0, Math.floor(multiple));
  const p = broker.find((b) => b.symbol === leg.option_symbol);
  const same = p !== undefined && p.side === leg.side;
  const held = same ? Math.max(0, Math.min(expected, Math.floor(p.qty))) : 0;
  const available = same ? Math.max(0, Math.min(held, Math.floor(p.qty_available))) : 0;
  const occ = parseOccSymbol(leg.option_symbol);
  return {
    leg,
    type: occ.ok ? occ.value.type : null,
    expiry: occ.ok ? occ.value.expiry : '',
    expected,
    held,
    available,
    opposite: p !== undefined && !same && p.qty > 0,
  };
}

/** Contracts each step reduces, by symbol. */
function touched(step: SpreadCloseStep): Array<[string, number]> {
  return step.kind === 'single'
    ? [[step.option_symbol, step.qty]]
    : step.legs.map((l) => [l.option_symbol, l.ratio_qty * step.multiple]);
}

/**
 * Short contracts not covered, per type: shorts beyond the longs of their type that expire no earlier than
 * the latest short (the rule of `spread-risk.ts`). A leg whose symbol does not parse counts as uncovered.
 */
export function uncoveredShorts(
  holdings: ReadonlyArray<{
    readonly type: 'call' | 'put' | null;
    readonly expiry: string;
    readonly side: 'long' | 'short';
    readonly qty: number;
  }>,
): number {
  let total = 0;
  for (const type of ['call', 'put'] as const) {
    const shorts = holdings.filter((h) => h.type === type && h.side === 'short' && h.qty > 0);
    if (shorts.length === 0) continue;
    const last = shorts.map((h) => h.expiry).sort()[shorts.length - 1];
    const longs = holdings
      .filter((h) => h.type === type && h.side === 'long' && h.expiry >= last)
      .reduce((n, h) => n + h.qty, 0);
    total += Math.max(0, shorts.reduce((n, h) => n + h.qty, 0) - longs);
  }
  return total + holdings.filter((h) => h.type === null && h.side === 'short').reduce((n, h) => n + h.qty, 0);
}

function neverUncovers(states: readonly LegState[], steps: readonly SpreadCloseStep[]): boolean {
  const before = uncoveredShorts(
    states.map((s) => ({ type: s.type, expiry: s.expiry, side: s.leg.side, qty: s.held })),
  );
  for (let mask = 1; mask < 1 << steps.length; mask++) {
    const sold = new Map<string, number>();
    steps.forEach((step, i) => {
      if (mask & (1 << i))
        for (const [symbol, qty] of touched(step)) sold.set(symbol, (sold.get(symbol) ?? 0) + qty);
    });
    const after = states.map((s) => ({
      type: s.type,
      expiry: s.expiry,
      side: s.leg.side,
      qty: s.held - (sold.get(s.leg.option_symbol) ?? 0),
    }));
    if (uncoveredShorts(after) > before) return false;
  }
  return true;
}
