/**
 * Protective stops resting at the broker (`exit_execution.broker_stop`, issue 14): the sweep's side.
 *
 * - learn ({@link learnBrokerStop}, in `broker-stop-learn.ts`): find each position's resting stop among the
 *   open orders; a recorded stop that is no longer open ended: its fill is learned like any exit (close
 *   reason: the stop's rule), a cancel the pipeline did not ask for is alerted and the stop placed again.
 * - keep ({@link keepBrokerStop}): an open position with no resting stop gets one (qty from the exit
 *   budget, which already nets what working orders hold); one whose stop level moved by a tick or more, or
 *   whose qty changed, has it replaced (PATCH: a new order, a fresh deterministic id).
 * - free ({@link freeBrokerStop}): before any other exit is claimed the resting stop is cancelled and the
 *   cancel confirmed (its contracts go back to the budget); if it filled meanwhile the fill is learned and
 *   nothing else is sent. The sweep's own stop rule leaves the close to a resting stop that protects at
 *   least as well, and acts itself when there is none (safety rule 7).
 */
import type { ExitDecision } from '../../domain/exit-rules';
import {
  brokerStopChange,
  brokerStopTerms,
  buildProtectiveStopOrder,
  protectsAtLeast,
  type BrokerStop,
  type BrokerStopTerms,
} from '../../domain/broker-stop';
import { stopClientOrderId } from '../../domain/orders';
import type { ExitReason, Position } from '../../domain/position';
import { BrokerRejectedError, DuplicateClientOrderIdError } from '../../domain/errors';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder, type OptionQuote } from '../../ports';
import type { SweepState } from './state';
import {
  bookStopFill,
  bookedOf,
  cancelStop,
  recorded,
  restingIndex,
  seqOf,
  setResting,
} from './broker-stop-book';

export { learnBrokerStop } from './broker-stop-learn';

const STOP_REASONS: ReadonlySet<ExitReason> = new Set(['stop_loss', 'trailing_stop', 'breakeven']);

/** Whether the account keeps stops at the broker. */
function brokerStopsOn(s: SweepState): boolean {
  return s.account.exit_execution.broker_stop !== null;
}

/** This position's resting stop working at the broker now (per this sweep's reads and its own acts). */
function restingStop(s: SweepState, p: Position): BrokerOrder | undefined {
  return restingIndex(s).get(p.position_id)?.[0];
}

/** Per sweep: the open positions whose rules held, to have their resting stop kept true after the exits. */
const dueBySweep = new WeakMap<SweepState, Position[]>();

/** The act phase, for an `open` position whose rules hold: its resting stop is kept after every exit. */
export function queueBrokerStop(s: SweepState, p: Position): void {
  if (!brokerStopsOn(s) || p.state !== 'open' || p.pending_exit || p.quantity < 1) return;
  dueBySweep.set(s, [...(dueBySweep.get(s) ?? []), p]);
}

/**
 * The last act of a sweep, once every exit took its contracts from the budget: resting stops whose position
 * is gone (closed this sweep, or no longer live) are cancelled, so none outlives its position and holds
 * contracts another position needs; then each queued position's stop is placed or kept true with what is
 * left. `live`: the positions this sweep read; `partialRead`: some records were unreadable (then only the
 * stops of positions closed this sweep count as gone).
 */
export async function keepBrokerStops(
  s: SweepState,
  live: readonly Position[],
  partialRead: boolean,
): Promise<void> {
  const liveIds = new Set(live.map((p) => p.position_id));
  const closedIds = new Set(s.report.closed.map((c) => c.position_id));
  for (const [positionId, orders] of restingIndex(s)) {
    if (!closedIds.has(positionId) && (partialRead || liveIds.has(positionId))) continue;
    for (const o of orders) {
      await s.deps.broker.cancelOrder(o.id).catch((err: unknown) => {
        if (!(err instanceof BrokerRejectedError)) throw err;
      });
      s.report.cancelled.push({
        position_id: positionId,
        client_order_id: o.client_order_id,
        why: 'position gone',
      });
    }
    restingIndex(s).delete(positionId);
  }
  const due = dueBySweep.get(s) ?? [];
  await s.forEach(due, (p) => keepBrokerStop(s, p));
}

/**
 * Places the resting stop if the position has none, or replaces it when its level moved by a tick or more
 * or its qty differs. Every contract comes from the exit budget (a placement takes the position's qty; a
 * bigger replacement takes the difference).
 */
async function keepBrokerStop(s: SweepState, p: Position): Promise<void> {
  const terms = brokerStopTerms(p, trailingOf(p), s.account.exit_execution);
  if (!terms) return;
  const working = restingStop(s, p);
  if (!working) {
    // A recorded stop the learning step could not resolve yet: wait for it (never two resting stops).
    if (p.broker_stop) return;
    await placeStop(s, p, terms);
    return;
  }
  const current = p.broker_stop ?? recorded(working, terms.reason, s.nowIso());
  const unfilled = working.qty - working.filled_qty;
  // Never more than the broker holds (a hand reduction the record does not know yet): a replacement is
  // checked like a new order, so it is sized as one.
  const held = s.brokerBySymbol.get(p.option_symbol);
  const want = Math.min(p.quantity, held && held.side === p.side ? held.qty : 0);
  if (want < 1) return; // nothing held for it: the learning step cancels such a stop
  if (!brokerStopChange({ ...current, qty: unfilled }, terms, want)) return;
  // Within the request budget: the rest wait for the next sweep (the sweep's own rules still watch them).
  if (!takeReplacement(s)) return;
  let qty = want;
  if (qty > unfilled) qty = unfilled + s.budget.take(p.option_symbol, p.side, qty - unfilled);
  const change = brokerStopChange({ ...current, qty: unfilled }, terms, qty);
  if (!change) return;
  await replaceStop(s, p, working, { ...current, reason: terms.reason }, change, qty - unfilled);
}

/** Replacements (PATCH) one sweep may send; placements, which protect what nothing protects, are not capped. */
const MAX_STOP_REPLACEMENTS_PER_SWEEP = 20;
const replacementsBySweep = new WeakMap<SweepState, number>();

function takeReplacement(s: SweepState): boolean {
  const n = replacementsBySweep.get(s) ?? 0;
  if (n >= MAX_STOP_REPLACEMENTS_PER_SWEEP) return false;
  replacementsBySweep.set(s, n + 1);
  return true;
}

function trailingOf(p: Position) {
  return {
    peak_price: p.peak_price ?? null,
    trailing_stop_price: p.trailing_stop_price ?? null,
    breakeven_active: p.breakeven_active === true,
  };
}

/** Claims the placement on the record (a lost reply is found by its id), then sends it. */
async function placeStop(s: SweepState, p: Position, terms: BrokerStopTerms): Promise<void> {
  const qty = s.budget.take(p.option_symbol, p.side, p.quantity);
  if (qty < 1) {
    s.deps.log.warn(`No confirmed qty to rest a stop for ${p.position_id}; the sweep's own stop protects it`);
    return;
  }
  const seq = (p.broker_stop_seq ?? 0) + 1;
  const order = buildProtectiveStopOrder({ position: p, qty, seq, terms });
  const now = s.nowIso();
  const claim: BrokerStop = {
    seq,
    client_order_id: order.client_order_id,
    order_id: null,
    type: terms.type,
    stop_price: terms.stop_price,
    limit_price: terms.limit_price,
    qty,
    reason: terms.reason,
    placed_at: now,
  };
  const claimed = await s.deps.store.replace(p, {
    ...p,
    broker_stop: claim,
    broker_stop_seq: seq,
    updated_at: now,
  });
  let placed: BrokerOrder | null;
  try {
    placed = await s.deps.broker.submitOrder(order);
  } catch (err) {
    placed = await afterRefusedStop(s, claimed, claim, qty, err);
    if (!placed) return;
  }
  s.deps.log.info(
    `Resting ${order.type} ${order.side} ${qty} ${p.option_symbol} at ${order.stop_price} for ${p.position_id}`,
    { client_order_id: order.client_order_id },
  );
  setResting(s, p, TERMINAL_ORDER_STATUSES.has(placed.status) ? undefined : placed);
  await s.deps.store.replace(claimed, {
    ...claimed,
    broker_stop: { ...claim, order_id: placed.id },
    updated_at: s.nowIso(),
  });
}

/** A placement that threw: found (a duplicate id), refused (alerted, cleared), or unknown (left claimed). */
async function afterRefusedStop(
  s: SweepState,
  p: Position,
  claim: BrokerStop,
  qty: number,
  err: unknown,
): Promise<BrokerOrder | null> {
  if (err instanceof DuplicateClientOrderIdError) {
    return s.deps.broker.getOrderByClientOrderId(claim.client_order_id);
  }
  if (!(err instanceof BrokerRejectedError)) throw err; // unknown outcome: the next sweep looks it up
  s.budget.giveBack(p.option_symbol, p.side, qty);
  s.alert('broker_stop_missing', p.option_symbol, `resting stop of ${p.position_id} refused: ${err.message}`);
  await s.deps.store.replace(p, { ...p, broker_stop: null, updated_at: s.nowIso() });
  return null;
}

async function replaceStop(
  s: SweepState,
  p: Position,
  working: BrokerOrder,
  current: BrokerStop,
  change: { stop_price?: number; limit_price?: number; qty?: number },
  extraQty: number,
): Promise<void> {
  const seq = Math.max(p.broker_stop_seq ?? 0, current.seq, seqOf(working)) + 1;
  const clientOrderId = stopClientOrderId(p.account, p.position_id, seq);
  let next: BrokerOrder;
  try {
    next = await s.deps.broker.replaceOrder(working.id, { ...change, client_order_id: clientOrderId });
  } catch (err) {
    if (extraQty > 0) s.budget.giveBack(p.option_symbol, p.side, extraQty);
    // 422: it filled or ended meanwhile (the next sweep learns it); 403: the qty is not available; a
    // duplicate id: an earlier attempt landed (the next sweep finds the new order among the open ones).
    if (err instanceof BrokerRejectedError || err instanceof DuplicateClientOrderIdError) {
      s.deps.log.warn(`Replacing the resting stop of ${p.position_id} refused: ${err.message}`);
      return;
    }
    throw err;
  }
  if (change.qty !== undefined && change.qty < working.qty - working.filled_qty) {
    s.budget.freed(p.option_symbol, p.side, working.qty - working.filled_qty - change.qty);
  }
  s.deps.log.info(
    `Resting stop of ${p.position_id} replaced: ${current.stop_price} → ${next.stop_price ?? '?'}, qty ${next.qty}`,
    { client_order_id: clientOrderId },
  );
  setResting(s, p, TERMINAL_ORDER_STATUSES.has(next.status) ? undefined : next);
  await s.deps.store.replace(p, {
    ...p,
    broker_stop: { ...recorded(next, current.reason, s.nowIso()), seq },
    broker_stop_seq: seq,
    updated_at: s.nowIso(),
  });
}

/**
 * Before an exit step is claimed: the resting stop must not hold the contracts the step sells. A stop
 * rule's close is left to a resting stop that protects at least as well (and, for a stop_limit, can still
 * fill); every other exit cancels it first and waits for the cancel to be confirmed. Returns the position
 * to act on (contracts freed in the budget), or null when nothing may be sent this sweep.
 */
export async function freeBrokerStop(
  s: SweepState,
  p: Position,
  decision: Extract<ExitDecision, { action: 'close' }>,
  quote: OptionQuote | undefined,
): Promise<Position | null> {
  const working = restingStop(s, p);
  if (!working && p.broker_stop) {
    // A recorded stop the learning step could not resolve (its lookups ran out): it may be resting and
    // holding the contracts, so nothing is sent on them until the next sweep resolves it.
    s.report.held.push({ position_id: p.position_id, reason: 'broker_stop_unresolved' });
    return null;
  }
  if (!working) return p;
  if (STOP_REASONS.has(decision.reason) && stopStillWorks(s, p, working, quote)) {
    s.report.held.push({ position_id: p.position_id, reason: 'broker_stop_working' });
    return null;
  }
  const bs = p.broker_stop ?? recorded(working, 'stop_loss', s.nowIso());
  const after = await cancelStop(s, p, working, bs);
  if (!after) return null;
  if (after.filled_qty > bookedOf(bs, after)) {
    // It fired before the cancel landed: that is the exit; nothing more is sent on it now.
    await bookStopFill(s, p, after, bs);
    return null;
  }
  s.budget.freed(p.option_symbol, p.side, after.qty - after.filled_qty);
  s.report.cancelled.push({
    position_id: p.position_id,
    client_order_id: after.client_order_id,
    why: `resting stop freed for ${decision.reason}`,
  });
  return s.deps.store.replace(p, {
    ...p,
    broker_stop: null,
    broker_stop_seq: Math.max(p.broker_stop_seq ?? 0, seqOf(after)),
    updated_at: s.nowIso(),
  });
}

/**
 * True when the resting stop is the stop: at least as protective as the plan's level now, and (for a
 * stop_limit) its limit still reachable at the executable price, so the sweep sends no second close.
 */
function stopStillWorks(
  s: SweepState,
  p: Position,
  working: BrokerOrder,
  quote: OptionQuote | undefined,
): boolean {
  if (working.stop_price == null) return false;
  const terms = brokerStopTerms(p, trailingOf(p), {
    broker_stop: working.type === 'stop_limit' ? 'stop_limit' : 'stop',
    broker_stop_limit_slippage_pct: s.account.exit_execution.broker_stop_limit_slippage_pct,
  });
  if (terms && !protectsAtLeast(p.side, working.stop_price, terms.stop_price)) return false;
  if (working.type !== 'stop_limit' || working.limit_price === null) return true;
  if (!quote) return true;
  // A triggered stop_limit whose limit is beyond the executable price will not fill: the sweep closes.
  return p.side === 'long' ? quote.bid >= working.limit_price : quote.ask <= working.limit_price;
}
