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

/** A position the activities explain in full, with the reason and the fees to book on it. */
export interface OptionEventMatch {
  readonly position: Position;
  readonly reason: OptionEventReason;
  /** Dollars (positive), FEE activities on the contract; all on the oldest position matched. */
  readonly fees: number;
  /** The events that ended its contracts, each with this position's part of it (booked on its ledger). */
  readonly parts: readonly { readonly activity: BrokerActivity; readonly contracts: number }[];
  /** The FEE activities on the contract (on the oldest position matched; none on the others). */
  readonly feeActivities: readonly BrokerActivity[];
}

/** The New York date a position began (its first fill, else its claim). */
function startDate(p: Position): string {
  return newYorkTime(new Date(p.entry_time ?? p.created_at)).date;
}

/**
 * Matches the contract's option events to the positions that held it on one side, oldest events to oldest
 * positions. An event counts for a side only when its qty reduces that side (+n ends a short, -n a long:
 * Alpaca's sign), and only when booked on or after the position began. A position is matched only when
 * events cover every contract it held; its reason is the event that covered its last contract. Positions
 * not covered in full are left out (nothing explains them: they go the `closed_outside_pipeline` way).
 */
export function matchOptionEvents(
  symbol: string,
  side: PositionSide,
  positions: readonly Position[],
  activities: readonly BrokerActivity[],
): OptionEventMatch[] {
  const sorted = [...positions].sort((a, b) => a.created_at.localeCompare(b.created_at));
  if (sorted.length === 0) return [];
  const since = startDate(sorted[0]);
  const onContract = activities.filter((a) => a.symbol === symbol && a.date >= since);
  const events = onContract
    .filter((a) => a.type !== 'FEE' && (side === 'short' ? a.qty > 0 : a.qty < 0))
    .filter((a) => a.type !== 'OPASN' || side === 'short')
    .filter((a) => a.type !== 'OPEXC' || side === 'long')
    .map((a) => ({
      activity: a,
      reason: REASON_OF[a.type as keyof typeof REASON_OF],
      left: Math.abs(a.qty),
    }));
  const feeActivities = onContract.filter((a) => a.type === 'FEE');
  const fees = roundToCents(feeActivities.reduce((n, a) => n + Math.max(0, -a.net_amount), 0));
  const out: OptionEventMatch[] = [];
  let e = 0;
  for (const p of sorted) {
    let need = p.quantity;
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
    if (need > 0 || reason === null) break;
    const first = out.length === 0;
    out.push({
      position: p,
      reason,
      fees: first ? fees : 0,
      parts,
      feeActivities: first ? feeActivities : [],
    });
  }
  return out;
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
