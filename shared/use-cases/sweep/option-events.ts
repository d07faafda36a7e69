/**
 * The broker's own events in a sweep: the account's non-trade activities (OPASN, OPEXC, OPEXP, FEE) say
 * whether an option contract was assigned, exercised or expired. Read on two paths only, at most once per
 * sweep: when reconcile confirms a contract gone (an expired contract disappears from the broker, so expiry
 * reaches this path too), and when reconcile would bring a record down to fewer contracts than it holds (a
 * partial assignment: 4 of 10 short puts assigned). A sweep with neither makes no listing.
 *
 * The events are booked on the records' ledgers (`optionEventBooked`): the option leg at its intrinsic
 * value against the underlying's price, the delivered shares at their cost. The price is the underlying's
 * latest trade (`MarketData.getLatestStockPrice`), read once per underlying per sweep and only when an
 * exercise or assignment is booked; when it cannot be read the event is booked all the same, at the
 * strike (noted `valued_at_strike`). A record the events end in full closes with `assigned`, `exercised`
 * or `expired`; a partial event books its part and the rest stays open and managed. Delivered shares are
 * alerted (`assignment_shares`) and, with `limits.flatten_assigned_shares`, sold or bought back.
 */
import { DuplicateClientOrderIdError } from '../../domain/errors';
import { bookedActivityIds, type LedgerOptionEvent } from '../../domain/ledger';
import { matchOptionEvents, type OptionEventMatch } from '../../domain/option-event-match';
import { parseOccSymbol } from '../../domain/occ';
import { ledgerOf, projectionOf } from '../../domain/position-books';
import { optionEventBooked } from '../../domain/position-lifecycle';
import type { Position, PositionSide } from '../../domain/position';
import { MAX_CLIENT_ORDER_ID, type OrderRequest } from '../../domain/orders';
import type { BrokerActivity } from '../../ports';
import { alertIfRefused, type SweepContext } from './context';

/** How far before the oldest position's start the listing begins (booking dates are New York days). */
const LISTING_MARGIN_MS = 24 * 3600_000;

/**
 * Deterministic client_order_id of the order that flattens the shares a position's event delivered: the
 * first delivery `ops-<account>-sh-<id>`, a later one (a second partial assignment) `ops-<account>-sh<n>-<id>`.
 */
function sharesClientOrderId(account: string, positionId: string, n: number): string {
  const tag = n <= 1 ? 'sh' : `sh${n}`;
  return `ops-${account}-${tag}-${positionId}`.slice(0, MAX_CLIENT_ORDER_ID);
}

/** The shares one booking delivered (the events it added to the ledger), with what they were valued at. */
interface Delivery {
  readonly underlying: string;
  /** Signed: + bought (long shares), − sold (short shares). */
  readonly shares: number;
  readonly contracts: number;
  readonly strike: number;
  /** Per share, the underlying's price they are booked at; null: booked at the strike (no price). */
  readonly price: number | null;
  /** Delivering events on the ledger before this booking (names the flatten order). */
  readonly before: number;
}

/** The records a booking left, by id: the stored record, or null when its write failed (left alone). */
export type BookedRecords = ReadonlyMap<string, Position | null>;

/** One sweep's view of the option events: the listing and each underlying's price are read once. */
export class OptionEvents {
  private listing?: Promise<BrokerActivity[] | null>;
  private readonly prices = new Map<string, Promise<number | null>>();

  /** `positions`: the sweep's live positions (the listing starts before the oldest of them). */
  constructor(
    private readonly s: SweepContext,
    private readonly positions: readonly Position[],
  ) {}

  private read(): Promise<BrokerActivity[] | null> {
    const starts = this.positions.map((p) => Date.parse(p.entry_time ?? p.created_at));
    const oldest = Math.min(...starts.filter(Number.isFinite), this.s.now().getTime());
    const after = new Date(oldest - LISTING_MARGIN_MS).toISOString();
    this.listing ??= this.s.deps.broker.listActivities(after).catch((err: unknown) => {
      this.s.deps.log.warn(`Reading account activities failed; the option events wait: ${String(err)}`);
      return null;
    });
    return this.listing;
  }

  /** The underlying's latest trade, once per sweep; null when it cannot be read (booked at the strike). */
  private priceOf(underlying: string): Promise<number | null> {
    let price = this.prices.get(underlying);
    if (!price) {
      price = this.s.deps.marketData
        .getLatestStockPrice(underlying)
        .then((x) => (Number.isFinite(x) && x > 0 ? x : null))
        .catch((err: unknown) => {
          this.s.deps.log.warn(
            `The latest trade of ${underlying} could not be read; its option events are booked at the strike: ${String(err)}`,
          );
          return null;
        });
      this.prices.set(underlying, price);
    }
    return price;
  }

  /**
   * Books the settled positions of a contract the broker no longer holds from the activities (when every
   * tracked contract was missing, only those an earlier sweep saw missing too). Returns the records it
   * booked (closed, or open with the rest when the events explain only part of their contracts; null when
   * the write failed: a conflict leaves the record to the other writer), or null when the activities could
   * not be read (the positions wait for the next sweep rather than close unexplained).
   */
  async bookGone(
    symbol: string,
    side: PositionSide,
    positions: readonly Position[],
    allMissing: boolean,
  ): Promise<BookedRecords | null> {
    const settled = positions.filter((p) => !allMissing || p.missing_since);
    if (settled.length === 0) return new Map();
    return this.book(symbol, side, settled, undefined);
  }

  /**
   * Reconcile's bring-down path: the broker holds `shortfall` contracts fewer than the settled records on
   * the contract. Books the option events not yet on their ledgers for at most that many contracts (oldest
   * events to oldest records); what they do not explain is left for reconcile to bring down. null when the
   * activities could not be read.
   */
  bookShortfall(
    symbol: string,
    side: PositionSide,
    positions: readonly Position[],
    shortfall: number,
  ): Promise<BookedRecords | null> {
    return this.book(symbol, side, positions, shortfall);
  }

  private async book(
    symbol: string,
    side: PositionSide,
    positions: readonly Position[],
    limit: number | undefined,
  ): Promise<BookedRecords | null> {
    const activities = await this.read();
    if (activities === null) return null;
    const booked = new Set<string>();
    for (const p of positions) for (const id of bookedActivityIds(ledgerOf(p))) booked.add(id);
    const matches = matchOptionEvents(symbol, side, positions, activities, {
      held: (p) => projectionOf(p).held,
      booked,
      ...(limit === undefined ? {} : { limit }),
    });
    const out = new Map<string, Position | null>();
    if (matches.length === 0) return out;
    const occ = parseOccSymbol(symbol);
    const delivers = matches.some((m) => m.parts.some((x) => x.activity.type !== 'OPEXP'));
    const price = delivers && occ.ok ? await this.priceOf(occ.value.underlying) : null;
    const now = this.s.nowIso();
    const deliveries: { p: Position; m: OptionEventMatch; d: Delivery }[] = [];
    const stored = await this.s.forEach(
      matches.map((m) => m.position),
      async (p) => {
        const m = matches.find((x) => x.position.position_id === p.position_id)!;
        // Stored first (conditional on the version read): only the sweep that booked it acts on the shares.
        const parts = [...m.parts, ...m.feeActivities.map((activity) => ({ activity }))];
        const next = optionEventBooked(p, m.reason, parts, { at: now, underlyingPrice: price }, now);
        alertIfRefused(this.s, p, next);
        const after =
          next.state === 'closed' ? await this.s.close(p, next) : await this.s.deps.store.replace(p, next);
        const d = deliveryOf(p, after);
        if (d) deliveries.push({ p: after, m, d });
        return after;
      },
    );
    matches.forEach((m, i) => out.set(m.position.position_id, stored[i] ?? null));
    // One after the other, against one read of the shares held: the orders together never exceed it.
    const available = new Map<string, number>();
    for (const { p, m, d } of deliveries) await this.delivered(p, m, d, available);
    return out;
  }

  /** Alerts the shares a booked event delivered and, when configured, closes them. */
  private async delivered(
    p: Position,
    m: OptionEventMatch,
    d: Delivery,
    available: Map<string, number>,
  ): Promise<void> {
    const of = m.full ? `${d.contracts}` : `${d.contracts} of ${d.contracts + p.quantity}`;
    const valued =
      d.price === null
        ? `booked at the strike (no latest trade of ${d.underlying} could be read)`
        : `booked at ${d.price.toFixed(2)} a share (${d.underlying}'s latest trade)`;
    const rest = m.full ? '' : `; ${p.quantity} contracts stay open and managed`;
    const what = `${m.reason}: ${of} contracts delivered ${d.shares > 0 ? '+' : ''}${d.shares} ${d.underlying} shares at ${d.strike}, ${valued}${rest}`;
    if (!this.s.account.limits.flatten_assigned_shares) {
      this.s.alert('assignment_shares', p.option_symbol, `${what}; not tracked by the pipeline`);
      return;
    }
    const outcome = await this.flatten(p, d, available).catch(
      (err: unknown) => `not flattened: ${String(err)}`,
    );
    this.s.alert('assignment_shares', p.option_symbol, `${what}; ${outcome}`);
  }

  /**
   * Closes delivered shares with an intent-free market order (day) on the reducing side, for no more than
   * the broker confirms available in the underlying on that side less what this sweep already sent on it
   * (never through zero: never short).
   */
  private async flatten(p: Position, d: Delivery, available: Map<string, number>): Promise<string> {
    const side = d.shares > 0 ? 'long' : 'short';
    const key = `${d.underlying}:${side}`;
    if (!available.has(key)) {
      const held = await this.s.deps.broker.getPosition(d.underlying);
      available.set(key, held && held.side === side ? Math.floor(held.qty_available) : 0);
    }
    const left = available.get(key)!;
    const qty = Math.min(Math.abs(d.shares), left);
    if (qty <= 0) return `not flattened: the broker confirms no ${side} ${d.underlying} shares available`;
    available.set(key, left - qty);
    const order: OrderRequest = {
      symbol: d.underlying,
      qty,
      side: side === 'long' ? 'sell' : 'buy',
      type: 'market',
      time_in_force: 'day',
      client_order_id: sharesClientOrderId(this.s.account.name, p.position_id, d.before + 1),
    };
    try {
      await this.s.deps.broker.submitOrder(order);
    } catch (err) {
      if (err instanceof DuplicateClientOrderIdError)
        return `flatten order ${order.client_order_id} already sent`;
      throw err;
    }
    return `flatten order ${order.client_order_id} sent: ${order.side} ${qty}`;
  }
}

/** The shares the events `after` booked on the ledger (and `before` did not hold) delivered; null: none. */
function deliveryOf(before: Position, after: Position): Delivery | null {
  const had = ledgerOf(before).events;
  const ids = new Set(had.map((e) => e.activity_id));
  const fresh: LedgerOptionEvent[] = ledgerOf(after).events.filter(
    (e) => !ids.has(e.activity_id) && e.shares !== 0,
  );
  if (fresh.length === 0) return null;
  return {
    underlying: fresh[0].underlying,
    shares: fresh.reduce((n, e) => n + e.shares, 0),
    contracts: fresh.reduce((n, e) => n + e.contracts, 0),
    strike: fresh[0].strike,
    price: fresh[0].underlying_price,
    before: had.filter((e) => e.shares !== 0).length,
  };
}
