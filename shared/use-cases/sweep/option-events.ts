/**
 * The broker's own events in a sweep: when reconcile confirms an option contract gone, the account's
 * non-trade activities (OPASN, OPEXC, OPEXP, FEE) say whether it was assigned, exercised or expired. At
 * most one listing per sweep, made only on that path (an expired contract disappears from the broker, so
 * expiry reaches this path too); a sweep with no contract gone makes none. Booked records close with
 * `assigned`, `exercised` or `expired` and their P&L (see `optionEventBooked`); delivered shares are
 * alerted (`assignment_shares`) and, with `limits.flatten_assigned_shares`, sold or bought back.
 */
import { DuplicateClientOrderIdError } from '../../domain/errors';
import { deliveredShares, matchOptionEvents, type DeliveredShares } from '../../domain/option-event-match';
import { optionEventBooked } from '../../domain/position-lifecycle';
import type { Position, PositionSide } from '../../domain/position';
import { MAX_CLIENT_ORDER_ID, type OrderRequest } from '../../domain/orders';
import type { BrokerActivity } from '../../ports';
import { alertIfRefused, type SweepContext } from './context';

/** How far before the oldest position's start the listing begins (booking dates are New York days). */
const LISTING_MARGIN_MS = 24 * 3600_000;

/** Deterministic client_order_id of the order that flattens the shares a position's event delivered. */
function sharesClientOrderId(account: string, positionId: string): string {
  return `ops-${account}-sh-${positionId}`.slice(0, MAX_CLIENT_ORDER_ID);
}

/** One sweep's view of the option events: the listing is read on first need, once. */
export class OptionEvents {
  private listing?: Promise<BrokerActivity[] | null>;

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
      this.s.deps.log.warn(`Reading account activities failed; gone contracts wait: ${String(err)}`);
      return null;
    });
    return this.listing;
  }

  /**
   * Books the settled positions of a contract the broker no longer holds from the activities (when every
   * tracked contract was missing, only those an earlier sweep saw missing too). Returns the ids it booked
   * (or tried to: a conflict leaves the record to the other writer), or null when the activities could not
   * be read (the positions wait for the next sweep rather than close unexplained).
   */
  async book(
    symbol: string,
    side: PositionSide,
    positions: Position[],
    allMissing: boolean,
  ): Promise<Set<string> | null> {
    const settled = positions.filter((p) => !allMissing || p.missing_since);
    if (settled.length === 0) return new Set();
    const activities = await this.read();
    if (activities === null) return null;
    const matches = matchOptionEvents(symbol, side, settled, activities);
    const now = this.s.nowIso();
    await this.s.forEach(
      matches.map((m) => m.position),
      async (p) => {
        const m = matches.find((x) => x.position.position_id === p.position_id)!;
        // Closed first (conditional on the version read): only the sweep that booked it acts on the shares.
        const parts = [...m.parts, ...m.feeActivities.map((activity) => ({ activity }))];
        const next = optionEventBooked(p, m.reason, parts, { at: now }, now);
        alertIfRefused(this.s, p, next);
        await this.s.close(p, next);
        const shares = deliveredShares(symbol, side, m.reason, p.quantity);
        if (shares) await this.delivered(p, m.reason, shares);
      },
    );
    return new Set(matches.map((m) => m.position.position_id));
  }

  /** Alerts the shares a booked event delivered and, when configured, closes them. */
  private async delivered(p: Position, reason: string, d: DeliveredShares): Promise<void> {
    const what = `${reason}: ${p.quantity} contracts delivered ${d.shares > 0 ? '+' : ''}${d.shares} ${d.underlying} shares at ${d.strike}`;
    if (!this.s.account.limits.flatten_assigned_shares) {
      this.s.alert('assignment_shares', p.option_symbol, `${what}; not tracked by the pipeline`);
      return;
    }
    const outcome = await this.flatten(p, d).catch((err: unknown) => `not flattened: ${String(err)}`);
    this.s.alert('assignment_shares', p.option_symbol, `${what}; ${outcome}`);
  }

  /**
   * Closes delivered shares with an intent-free market order (day) on the reducing side, for no more than
   * the broker confirms available in the underlying on that side (never through zero: never short).
   */
  private async flatten(p: Position, d: DeliveredShares): Promise<string> {
    const held = await this.s.deps.broker.getPosition(d.underlying);
    const side = d.shares > 0 ? 'long' : 'short';
    const available = held && held.side === side ? held.qty_available : 0;
    const qty = Math.min(Math.abs(d.shares), Math.floor(available));
    if (qty <= 0) return `not flattened: the broker confirms no ${side} ${d.underlying} shares available`;
    const order: OrderRequest = {
      symbol: d.underlying,
      qty,
      side: side === 'long' ? 'sell' : 'buy',
      type: 'market',
      time_in_force: 'day',
      client_order_id: sharesClientOrderId(this.s.account.name, p.position_id),
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
