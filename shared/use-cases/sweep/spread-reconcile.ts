/**
 * Every leg of a spread against the broker (docs/SPREADS.md "A leg gone"). Where the broker holds less
 * than a leg's ledger leaves, the reports that explain it are booked first: an option event (assigned
 * early, exercised, expired) at its value, a fill of an order not the pipeline's (Alpaca's expiry-day
 * sell-off, a close by hand) at its price. A shortfall nothing explains is alerted at once (`orphan_leg`)
 * and booked at cost on the next sweep that still finds it (one read is not trusted), unless an option
 * event may still explain it. The orders that follow are decided from the broker's holdings, never from
 * these books (safety rule 3).
 */
import type { BrokerActivity, BrokerOrder, BrokerPosition } from '../../ports';
import { daysUntil } from '../../domain/market-time';
import { parseOccSymbol } from '../../domain/occ';
import { spreadBooked } from '../../domain/spread-lifecycle';
import {
  bookLegActivity,
  bookLegOrder,
  bookLegShortfall,
  legProjection,
  spreadBooks,
  type SpreadLegRecord,
  type SpreadPosition,
} from '../../domain/spread-position';
import type { SweepContext } from './context';
import { alertRefusals, bookedIdsOf } from './spread-learn';

/** The reads a spread's reconcile may need, made at most once per sweep (shared by every spread). */
export class SpreadReads {
  private activities?: Promise<BrokerActivity[]>;
  private closed?: Promise<BrokerOrder[]>;
  private readonly prices = new Map<string, Promise<number | null>>();

  constructor(
    private readonly s: SweepContext,
    /** The earliest instant any live spread was created. */
    private readonly since: string,
  ) {}

  optionActivities(): Promise<BrokerActivity[]> {
    this.activities ??= this.s.deps.broker.listActivities(this.since).catch(() => []);
    return this.activities;
  }

  closedOrders(): Promise<BrokerOrder[]> {
    this.closed ??= this.s.deps.broker.listClosedOrders(this.since).catch(() => []);
    return this.closed;
  }

  underlyingPrice(symbol: string): Promise<number | null> {
    let p = this.prices.get(symbol);
    if (!p) {
      p = this.s.deps.marketData.getLatestStockPrice(symbol).catch(() => null);
      this.prices.set(symbol, p);
    }
    return p;
  }
}

/** What the broker holds of a leg on its recorded side (0 when nothing, or the opposite side). */
export function brokerHeldOf(leg: SpreadLegRecord, broker: BrokerPosition | undefined): number {
  return broker && broker.side === leg.side ? Math.max(0, Math.floor(broker.qty)) : 0;
}

const OPTION_EVENTS = new Set(['OPASN', 'OPEXC', 'OPEXP']);

/** Reconciles one open spread with the broker; returns the record as stored. */
export async function reconcileSpread(
  s: SweepContext,
  sp: SpreadPosition,
  reads: SpreadReads,
): Promise<SpreadPosition> {
  const short = shortLegs(s, sp);
  if (short.length === 0) return sp;
  let legs = sp.legs;
  const refused: string[] = [];
  const at = s.nowIso();
  // 1. Option events on the short legs, each booked once (by activity id).
  const booked = bookedIdsOf(sp);
  const activities = (await reads.optionActivities()).filter(
    (a) => OPTION_EVENTS.has(a.type) && !booked.has(a.id) && short.some((l) => l.option_symbol === a.symbol),
  );
  for (const a of activities) {
    const leg = legs.find((l) => l.option_symbol === a.symbol)!;
    const held = legProjection(leg).held;
    const gap = held - brokerHeldOf(leg, s.snap.brokerBySymbol.get(leg.option_symbol));
    if (gap <= 0) continue;
    const price = a.type === 'OPEXP' ? null : await reads.underlyingPrice(sp.ticker);
    const b = bookLegActivity({ legs }, a, {
      at,
      underlyingPrice: price,
      contracts: Math.min(gap, Math.abs(a.qty)),
    });
    refused.push(...b.refused);
    legs = b.legs;
  }
  // 2. Fills of orders not the pipeline's on those legs (Alpaca's expiry-day sell-off, a close by hand).
  const ours = `ops-${s.account.name}-`;
  for (const leg of shortLegs(s, { legs })) {
    const reducing = leg.side === 'long' ? 'sell' : 'buy';
    const theirs = (await reads.closedOrders()).filter(
      (o) =>
        o.symbol === leg.option_symbol &&
        o.side === reducing &&
        o.filled_qty > 0 &&
        !o.client_order_id.startsWith(ours) &&
        !o.legs,
    );
    for (const o of theirs) {
      const b = bookLegOrder({ legs }, o, at);
      refused.push(...b.refused);
      legs = b.legs;
    }
  }
  // 3. What is still short: alerted at once; booked at cost once a later sweep confirms it.
  const still = shortLegs(s, { legs });
  let orphanedAt = sp.orphaned_at;
  const books = spreadBooks({ legs });
  if (orphanedAt === null && (still.length > 0 || !books.intact)) {
    orphanedAt = at;
    alertOrphan(s, sp, legs);
  } else if (still.length > 0 && orphanedAt !== null) {
    for (const leg of still) {
      if (mayStillBeAnEvent(s, leg)) continue;
      const gap = legProjection(leg).held - brokerHeldOf(leg, s.snap.brokerBySymbol.get(leg.option_symbol));
      const b = bookLegShortfall({ legs, position_id: sp.position_id }, leg.option_symbol, gap, at);
      refused.push(...b.refused);
      legs = b.legs;
    }
  }
  alertRefusals(s, sp, { legs, changed: true, refused });
  if (legs === sp.legs && orphanedAt === sp.orphaned_at) return sp;
  return s.deps.spreads!.replaceSpread(sp, spreadBooked(sp, legs, at, { orphaned_at: orphanedAt }));
}

/** The legs the broker holds less of than their ledgers leave (working orders' fills included). */
function shortLegs(s: SweepContext, sp: Pick<SpreadPosition, 'legs'>): SpreadLegRecord[] {
  return sp.legs.filter(
    (leg) => brokerHeldOf(leg, s.snap.brokerBySymbol.get(leg.option_symbol)) < legProjection(leg).held,
  );
}

/**
 * Whether an option event may still explain a leg gone: on or after its expiry (paper books expiries the
 * next trading day: three days are waited), or a short leg while the broker holds shares of the underlying
 * (an assignment delivers them at once; its OPASN may come the next trading day).
 */
function mayStillBeAnEvent(s: SweepContext, leg: SpreadLegRecord): boolean {
  const occ = parseOccSymbol(leg.option_symbol);
  if (!occ.ok) return false;
  const days = daysUntil(occ.value.expiry, s.brokerNow());
  if (days <= 0 && days >= -3) return true;
  if (leg.side !== 'short') return false;
  return s.snap.brokerBySymbol.has(occ.value.underlying);
}

/** The `orphan_leg` alert: the spread named, and each leg with what its ledger and the broker hold. */
export function alertOrphan(s: SweepContext, sp: SpreadPosition, legs: readonly SpreadLegRecord[]): void {
  const detail = legs
    .map((l) => {
      const b = brokerHeldOf(l, s.snap.brokerBySymbol.get(l.option_symbol));
      return `${l.side} ${l.option_symbol}: books ${legProjection(l).held}, broker ${b}`;
    })
    .join('; ');
  s.alert(
    'orphan_leg',
    sp.legs[0]!.option_symbol,
    `spread ${sp.position_id} (${sp.structure}) has a leg not held in full: ${detail}; unwinding, shorts first`,
  );
}
