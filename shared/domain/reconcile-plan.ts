/**
 * The decisions of the sweep's reconcile step, pure: records and the broker's positions in, what to do out.
 * `shared/use-cases/sweep/reconcile.ts` reads the broker again where a decision needs it and applies the
 * changes (record writes, alerts); nothing here reads or writes anything.
 */
import type { BrokerPosition } from './broker-types';
import { addDays, newYorkTime } from './market-time';
import { parseOccSymbol } from './occ';
import type { Position, PositionSide } from './position';
import { isTradingDay, tradingDayOfInstant } from './trading-calendar';

/** Contracts (and the side tracked) the positions read lacks, among those the settled records track. */
export interface MissingContracts {
  /** Contracts with at least one settled record. */
  readonly tracked: ReadonlySet<string>;
  /** Tracked contracts the read does not list on the tracked side. */
  readonly missing: ReadonlyMap<string, PositionSide>;
  /** Every tracked contract missing at once: a suspect read, closed on only once a later sweep agrees. */
  readonly allMissing: boolean;
}

/** Which tracked contracts a positions read lacks (`settled`: the records reconcile may adjust). */
export function findMissing(
  bySymbol: ReadonlyMap<string, readonly Position[]>,
  brokerBySymbol: ReadonlyMap<string, BrokerPosition>,
  settled: (group: readonly Position[]) => readonly Position[],
): MissingContracts {
  const tracked = new Set<string>();
  const missing = new Map<string, PositionSide>();
  for (const [symbol, ours] of bySymbol) {
    for (const side of ['long', 'short'] as const) {
      if (settled(ours.filter((p) => p.side === side)).length === 0) continue;
      tracked.add(symbol);
      const broker = brokerBySymbol.get(symbol);
      if (!broker || broker.side !== side) missing.set(symbol, side);
    }
  }
  return { tracked, missing, allMissing: missing.size > 0 && missing.size === tracked.size };
}

/** One settled record's share of what the broker holds on its contract and side. */
export interface Allocation {
  readonly position: Position;
  /** Contracts it keeps: its quantity, fewer (brought down), or 0 (none left for it). */
  readonly keep: number;
}

/**
 * Shares what the broker holds on a contract and side among the settled records: records in flux (an order
 * working) keep theirs first, then the oldest settled records keep their contracts first.
 */
export function allocateHeld(settled: readonly Position[], held: number, inFluxQty: number): Allocation[] {
  let budget = Math.max(0, held - inFluxQty);
  return [...settled]
    .sort((a, b) => a.created_at.localeCompare(b.created_at))
    .map((position) => {
      const keep = Math.min(position.quantity, budget);
      budget -= keep;
      return { position, keep };
    });
}

/** An alert reconcile raises about contracts the broker holds beyond the records. */
export interface UntrackedFinding {
  readonly kind: 'unexpected_short' | 'untracked_position';
  readonly symbol: string;
  readonly detail: string;
  /** No live record on the contract's side: the operator may want the record closed earlier restored. */
  readonly noRecord: boolean;
}

/** What the broker holds that no live record tracks, or more than they track: alerted, never traded. */
export function findUntracked(
  bySymbol: ReadonlyMap<string, readonly Position[]>,
  brokerBySymbol: ReadonlyMap<string, BrokerPosition>,
): UntrackedFinding[] {
  const out: UntrackedFinding[] = [];
  for (const [symbol, broker] of brokerBySymbol) {
    const sameSide = (bySymbol.get(symbol) ?? []).filter((p) => p.side === broker.side);
    const tracked = sameSide.reduce((n, p) => n + p.quantity, 0);
    if (sameSide.length === 0) {
      if (broker.side === 'short') {
        const detail = `broker holds ${broker.qty} short; the pipeline opened no short here`;
        out.push({ kind: 'unexpected_short', symbol, detail, noRecord: false });
      }
      const detail = `broker holds ${broker.qty} ${broker.side}; no live position in the table`;
      out.push({ kind: 'untracked_position', symbol, detail, noRecord: true });
    } else if (broker.qty > tracked && !sameSide.some((p) => p.state !== 'open')) {
      const detail = `broker holds ${broker.qty} ${broker.side}; the table tracks ${tracked}`;
      out.push({ kind: 'untracked_position', symbol, detail, noRecord: false });
    }
  }
  return out;
}

/** A contract the broker no longer holds, unexplained by the activities read: what to do with its record. */
export type GoneStep =
  /** Closed `closed_outside_pipeline`. */
  | { readonly kind: 'close' }
  /** First seen gone: noted (`missing_since`); `awaitEvents`: an option event may explain it later (alert). */
  | { readonly kind: 'mark'; readonly awaitEvents: boolean }
  /** Still waiting for the activities that can explain it (no order, no close). */
  | { readonly kind: 'wait' };

/** New York minute of the regular open: the following trading day has begun by then. */
const OPEN_MINUTE = 9 * 60 + 30;

/**
 * Whether an option event can explain the contract going: any contract on or after its expiry date
 * (expiry, exercise, assignment), and a short one any day when the broker holds shares of its underlying
 * (an assignment delivers them at once, while its OPASN activity may come the next trading day). A short
 * gone with no shares delivered was closed by other means.
 */
export function optionEventPossible(
  p: Pick<Position, 'option_symbol' | 'side'>,
  now: Date,
  holdsShares: (underlying: string) => boolean,
): boolean {
  const occ = parseOccSymbol(p.option_symbol);
  if (!occ.ok) return false;
  if (newYorkTime(now).date >= occ.value.expiry) return true;
  return p.side === 'short' && holdsShares(occ.value.underlying);
}

/**
 * Whether the activities of the trading day `since` is in can have arrived by `now`: on paper, Alpaca
 * syncs non-trade activities (OPASN, OPEXC, OPEXP) at the start of the following trading day (taken as
 * that day's open, New York time).
 */
export function optionEventsDue(since: string, now: Date): boolean {
  let next = addDays(tradingDayOfInstant(since), 1);
  while (!isTradingDay(next)) next = addDays(next, 1);
  const t = newYorkTime(now);
  return t.date > next || (t.date === next && t.minuteOfDay >= OPEN_MINUTE);
}

/**
 * A settled record whose contract the broker confirms gone and the activities do not explain (yet). A
 * contract that an option event can explain ({@link optionEventPossible}) waits,
 * noted and alerted once, until the following trading day's activities can have arrived; then, still
 * unexplained, it is closed outside the pipeline. When every tracked contract went missing at once, a
 * record is closed only once an earlier sweep saw it missing too. `now` is the broker's clock.
 */
export function planGoneUnexplained(
  p: Pick<Position, 'option_symbol' | 'side' | 'missing_since'>,
  f: {
    readonly now: Date;
    readonly allMissing: boolean;
    /** The broker holds shares of `underlying` (per this sweep's reads). */
    readonly holdsShares: (underlying: string) => boolean;
  },
): GoneStep {
  const awaitEvents = optionEventPossible(p, f.now, f.holdsShares);
  if (!p.missing_since)
    return f.allMissing || awaitEvents ? { kind: 'mark', awaitEvents } : { kind: 'close' };
  if (awaitEvents && !optionEventsDue(p.missing_since, f.now)) return { kind: 'wait' };
  return { kind: 'close' };
}

/** What reconcile does with a settled record the broker holds fewer contracts of than it does. */
export type ShortfallStep =
  /** Brought down to what the broker confirms (nothing explains the difference, or it waited long enough). */
  | { readonly kind: 'bring_down' }
  /** An option event can explain it and its activities may not be in yet: noted and alerted, kept as is. */
  | { readonly kind: 'mark' }
  /** Noted earlier and the following trading day's activities cannot have arrived yet: kept as is. */
  | { readonly kind: 'wait' };

/**
 * A settled record the broker holds fewer contracts of than its ledger, once the option events listed are
 * booked (a partial assignment on paper lists the next trading day). A difference an option event can
 * explain ({@link optionEventPossible}: a short while the account holds the underlying's shares, anything
 * on or after the expiry day) waits, noted (`missing_since`) and alerted once, until the following
 * trading day's activities can have arrived; anything else, or still unexplained then, is brought down.
 * `now` is the broker's clock.
 */
export function planShortfall(
  p: Pick<Position, 'option_symbol' | 'side' | 'missing_since'>,
  f: {
    readonly now: Date;
    /** The broker holds shares of `underlying` (per this sweep's reads). */
    readonly holdsShares: (underlying: string) => boolean;
  },
): ShortfallStep {
  if (!optionEventPossible(p, f.now, f.holdsShares)) return { kind: 'bring_down' };
  if (!p.missing_since) return { kind: 'mark' };
  return optionEventsDue(p.missing_since, f.now) ? { kind: 'bring_down' } : { kind: 'wait' };
}
