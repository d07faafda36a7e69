/**
 * Step 1 of a sweep: learn what happened to the orders in flight (opens and exits) and resolve claims.
 * Nothing is sent here: a step the broker never saw is marked for a resend in the act phase, where the
 * exit budget and the quotes are known.
 */
import type { PendingExit, Position } from '../../domain/position';
import { claimAbandoned, claimReleased, exitEnded, openOrderLearned } from '../../domain/position-lifecycle';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder } from '../../ports';
import type { SweepState } from './state';
import { learnBrokerStop } from './broker-stop';

/** Sweeps a step may stay `closing` with no working order before it is alerted as stuck. */
const STUCK_AFTER_SWEEPS = 3;

export async function learn(s: SweepState, p: Position): Promise<Position | null> {
  const learned = await learnStep(s, p);
  if (learned !== p) s.changedInLearn.add(p.position_id);
  return learned;
}

function learnStep(s: SweepState, p: Position): Promise<Position | null> | Position {
  if (p.state === 'submitting') return learnSubmitting(s, p);
  if (p.state === 'pending') return learnPendingOpen(s, p);
  if (p.state === 'closing' || p.pending_exit) return learnExit(s, p);
  if (p.state === 'open') return learnBrokerStop(s, p);
  return p;
}

/** A claim whose opening order was never recorded: resolve it once the claiming delivery is surely gone. */
async function learnSubmitting(s: SweepState, p: Position): Promise<Position | null> {
  const age = s.now().getTime() - Date.parse(p.created_at);
  if (age < s.leaseMs) return p;
  const known = s.knownOrder(p.open_client_order_id);
  if (known) return applyOpenOrder(s, p, known);
  if (!s.takeLookup()) return p;
  const order = await s.deps.broker.getOrderByClientOrderId(p.open_client_order_id);
  if (order) return applyOpenOrder(s, p, order);
  // The open path refuses a recommendation older than max age, so after max age + lease nothing will send it.
  const maxAgeMs = s.account.limits.max_recommendation_age_minutes * 60_000;
  if (age < maxAgeMs + s.leaseMs) return p;
  return s.close(p, claimAbandoned(p, s.nowIso()));
}

async function learnPendingOpen(s: SweepState, p: Position): Promise<Position | null> {
  const known = s.knownOrder(p.open_client_order_id);
  if (!known && !s.takeLookup()) return p;
  const order = known ?? (await s.deps.broker.getOrderByClientOrderId(p.open_client_order_id));
  if (!order) {
    // Recorded as pending but unknown to the broker: should not happen; flag for an operator.
    s.alert('open_order_missing', p.option_symbol, `opening order ${p.open_client_order_id} not found`);
    return p;
  }
  if (!TERMINAL_ORDER_STATUSES.has(order.status)) s.workingOpen.set(p.position_id, order);
  return applyOpenOrder(s, p, order);
}

/** Brings a position in line with its opening order: filled so far, and whether it is over. */
export async function applyOpenOrder(
  s: SweepState,
  p: Position,
  order: BrokerOrder,
): Promise<Position | null> {
  const next = openOrderLearned(p, order, s.nowIso());
  if (samePosition(p, next)) return p;
  const stored = await s.deps.store.replace(p, next);
  if (stored.state === 'closed') s.noteClosed(stored, 'not_filled');
  else if (stored.state === 'open' && p.state !== 'open') {
    s.deps.log.info(
      `Position ${p.position_id} opened: ${order.filled_qty} contracts of ${p.option_symbol} at ${order.filled_avg_price}`,
    );
  }
  return stored;
}

/**
 * An exit step in flight: apply its fill when the order is done; note a working order (the act phase
 * manages it); mark a step the broker never saw for a resend (same id) — at once after a definite broker
 * answer, after the claim lease when the outcome is unknown.
 */
async function learnExit(s: SweepState, p: Position): Promise<Position | null> {
  const pe = p.pending_exit;
  if (!pe) return s.deps.store.replace(p, claimReleased(p, s.nowIso()));
  const working = s.openOrderByClientId.get(pe.client_order_id);
  if (working) {
    s.workingExit.set(p.position_id, working);
    return p;
  }
  const listed = s.closedOrderByClientId.get(pe.client_order_id);
  if (listed) return applyExitFill(s, p, pe, listed);
  const unknownOutcome = !pe.send_failed_at;
  if (unknownOutcome && s.now().getTime() - Date.parse(pe.claimed_at) < s.leaseMs) {
    noteIfStuck(s, p, pe);
    return p;
  }
  if (!s.takeLookup()) {
    noteIfStuck(s, p, pe);
    return p;
  }
  const order = await s.deps.broker.getOrderByClientOrderId(pe.client_order_id);
  if (order) {
    if (TERMINAL_ORDER_STATUSES.has(order.status)) return applyExitFill(s, p, pe, order);
    s.workingExit.set(p.position_id, order);
    return p;
  }
  // Claimed but the broker never saw it (crash before send, a refused request, or one lost on the way).
  s.resendDue.add(p.position_id);
  return p;
}

/** A step `closing` for several sweeps with no order at the broker is alerted (it should have been resent). */
function noteIfStuck(s: SweepState, p: Position, pe: PendingExit): void {
  const since = Date.parse(pe.first_claimed_at ?? pe.claimed_at);
  const limitMs = STUCK_AFTER_SWEEPS * s.account.sweep_interval_minutes * 60_000;
  if (s.now().getTime() - since >= limitMs) {
    s.alert(
      'closing_stuck',
      p.option_symbol,
      `${p.position_id} has been closing since ${pe.first_claimed_at ?? pe.claimed_at} with no working order`,
    );
  }
}

/**
 * The exit order ended (filled, partly filled and cancelled, expired, ...): book what filled and end the
 * step. `repriced`: the order was cancelled by this pipeline to be sent again at a new price.
 */
export async function applyExitFill(
  s: SweepState,
  p: Position,
  pe: PendingExit,
  order: BrokerOrder,
  opts: { repriced?: boolean } = {},
): Promise<Position | null> {
  const next = exitEnded(p, pe, order, s.nowIso(), opts);
  if (next.state === 'closed') {
    const stored = await s.deps.store.replace(p, next);
    s.noteClosed(stored, pe.reason);
    return stored;
  }
  const filled = p.quantity - next.quantity;
  if (filled === 0) {
    s.deps.log.warn(`Exit order ${pe.client_order_id} ended ${order.status} unfilled; position stays open`);
  } else {
    s.deps.log.info(`Position ${p.position_id} reduced by ${filled} (${pe.reason}); ${next.quantity} left`);
  }
  return s.deps.store.replace(p, next);
}

function samePosition(a: Position, b: Position): boolean {
  return (
    a.state === b.state &&
    a.quantity === b.quantity &&
    a.open_order_id === b.open_order_id &&
    a.entry_price === b.entry_price &&
    a.original_quantity === b.original_quantity
  );
}
