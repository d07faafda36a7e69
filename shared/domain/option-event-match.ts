/**
 * The broker's own events on an option contract (non-trade activities OPASN, OPEXC, OPEXP, FEE), matched
 * to the positions that held it: which records they end and why, the fees booked, and the shares an
 * assignment or exercise delivers. Pure; `shared/use-cases/sweep/option-events.ts` reads and books them.
 */
import type { BrokerActivity } from './broker-types';
import { newYorkTime } from './market-time';
import { parseOccSymbol } from './occ';
import type { OptionEventReason, Position, PositionSide } from './position';
import { roundToCents } from './money';

const REASON_OF = { OPASN: 'assigned', OPEXC: 'exercised', OPEXP: 'expired' } as const;

/** A position the activities explain in full or in part, with the reason and the fees to book on it. */
export interface OptionEventMatch {
  readonly position: Position;
  /** The event that ended its last contract matched (a partial match: the last part's). */
  readonly reason: OptionEventReason;
  /** Dollars (positive), FEE activities on the contract; all on the oldest position matched. */
  readonly fees: number;
  /** The events that ended its contracts, each with this position's part of it (booked on its ledger). */
  readonly parts: readonly { readonly activity: BrokerActivity; readonly contracts: number }[];
  /** The FEE activities on the contract (on the oldest position matched; none on the others). */
  readonly feeActivities: readonly BrokerActivity[];
  /** Contracts the events end on this position (the sum of `parts`). */
  readonly contracts: number;
  /** The events end every contract it holds (false: a partial event, the rest stays held and managed). */
  readonly full: boolean;
}

/** How {@link matchOptionEvents} counts what the positions hold and what is booked already. */
export interface MatchOptions {
  /** Contracts a position holds (the sweep passes its ledger's holding). @default its `quantity` */
  readonly held?: (p: Position) => number;
  /** Activity ids already booked on the positions' ledgers: those events and fees are not matched again. */
  readonly booked?: ReadonlySet<string>;
  /**
   * At most this many contracts in all (reconcile's shortfall: what the broker no longer holds of the
   * records). @default no limit (the contract is gone: every contract held)
   */
  readonly limit?: number;
}

/** The New York date a position began (its first fill, else its claim). */
function startDate(p: Position): string {
  return newYorkTime(new Date(p.entry_time ?? p.created_at)).date;
}

/**
 * Matches the contract's option events to the positions that held it on one side, oldest events to oldest
 * positions. An event counts for a side only when its qty reduces that side (+n ends a short, -n a long:
 * Alpaca's sign), only when booked on or after the position began, and only when no position's ledger
 * booked it already. A position is matched for the contracts the events cover: all it holds (`full`), or
 * part of them (a partial assignment: the rest stays held, and what nothing explains goes the
 * `closed_outside_pipeline` / `broker_qty_mismatch` way). At most `limit` contracts are matched in all.
 * FEE activities not booked yet, dated on or after the first event matched, go on the oldest position.
 */
export function matchOptionEvents(
  symbol: string,
  side: PositionSide,
  positions: readonly Position[],
  activities: readonly BrokerActivity[],
  opts: MatchOptions = {},
): OptionEventMatch[] {
  const heldOf = opts.held ?? ((p: Position) => p.quantity);
  const booked = opts.booked ?? new Set<string>();
  const sorted = [...positions]
    .filter((p) => heldOf(p) > 0)
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
  if (sorted.length === 0) return [];
  const since = startDate(sorted[0]);
  const onContract = activities.filter((a) => a.symbol === symbol && a.date >= since && !booked.has(a.id));
  const events = onContract
    .filter((a) => a.type !== 'FEE' && (side === 'short' ? a.qty > 0 : a.qty < 0))
    .filter((a) => a.type !== 'OPASN' || side === 'short')
    .filter((a) => a.type !== 'OPEXC' || side === 'long')
    .map((a) => ({
      activity: a,
      reason: REASON_OF[a.type as keyof typeof REASON_OF],
      left: Math.abs(a.qty),
    }));
  let budget = opts.limit ?? Infinity;
  const matched: Omit<OptionEventMatch, 'fees' | 'feeActivities'>[] = [];
  let e = 0;
  for (const p of sorted) {
    if (budget <= 0 || e >= events.length) break;
    const held = heldOf(p);
    let need = Math.min(held, budget);
    let reason: OptionEventReason | null = null;
    const parts: { activity: BrokerActivity; contracts: number }[] = [];
    while (need > 0 && e < events.length) {
      const take = Math.min(need, events[e].left);
      events[e].left -= take;
      need -= take;
      reason = events[e].reason;
      parts.push({ activity: events[e].activity, contracts: take });
      if (events[e].left === 0) e++;
    }
    const contracts = parts.reduce((n, x) => n + x.contracts, 0);
    if (contracts === 0 || reason === null) break;
    budget -= contracts;
    matched.push({ position: p, reason, parts, contracts, full: contracts >= held });
  }
  if (matched.length === 0) return [];
  const firstDate = matched[0].parts[0].activity.date;
  const feeActivities = onContract.filter((a) => a.type === 'FEE' && a.date >= firstDate);
  const fees = roundToCents(feeActivities.reduce((n, a) => n + Math.max(0, -a.net_amount), 0));
  return matched.map((m, i) => ({
    ...m,
    fees: i === 0 ? fees : 0,
    feeActivities: i === 0 ? feeActivities : [],
  }));
}

/** Shares an assignment or exercise of `contracts` delivered: signed (+ bought, - sold), at the strike. */
export interface DeliveredShares {
  readonly underlying: string;
  readonly shares: number;
  readonly strike: number;
}

/**
 * The shares an assignment or exercise delivers, 100 a contract at the strike: the holder of a call buys
 * them, the holder of a put sells them, the writer the reverse (an assigned short put is long shares, an
 * assigned short call short shares). null for an expiry or a symbol that is not OCC.
 */
export function deliveredShares(
  symbol: string,
  side: PositionSide,
  reason: OptionEventReason,
  contracts: number,
): DeliveredShares | null {
  const occ = parseOccSymbol(symbol);
  if (reason === 'expired' || !occ.ok) return null;
  const holderBuys = occ.value.type === 'call';
  const buys = side === 'long' ? holderBuys : !holderBuys;
  return {
    underlying: occ.value.underlying,
    shares: (buys ? 1 : -1) * 100 * contracts,
    strike: occ.value.strike,
  };
}
