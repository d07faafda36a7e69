/**
 * Sending one claimed exit step, whatever path it comes from (a first send, a resend of a step the broker
 * never saw, a new step after a working order was cancelled, flatten, time rules, partials): it takes its
 * contracts from the one per-contract budget and builds the order with `buildCloseOrder` (intent-free,
 * recorded symbol, reducing side).
 */
import { priceExitOrder } from '../../domain/exit-pricing';
import { buildCloseOrder, exitClientOrderId } from '../../domain/orders';
import type { PendingExit, Position } from '../../domain/position';
import {
  claimReleased,
  exitAcknowledged,
  exitClaimed,
  exitSendFailed,
} from '../../domain/position-lifecycle';
import { planInsufficientQty } from '../../domain/working-order-plan';
import {
  BrokerRejectedError,
  DuplicateClientOrderIdError,
  PipelineError,
  TransientError,
} from '../../domain/errors';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder, type OptionQuote } from '../../ports';
import { Metric } from '../../metric-names';
import { rereadContract } from './broker-io';
import type { SweepContext } from './context';
import { applyExitFill } from './learn';

/**
 * Sends a claimed step: priced now (market, or a limit on the grid), sized by the exit budget, built by
 * `buildCloseOrder`. A step that cannot be priced or has nothing to sell releases its claim: the next
 * sweep decides again (a step is never left `closing` with no order).
 */
export async function sendStep(
  s: SweepContext,
  p: Position,
  pe: PendingExit,
  quote: OptionQuote | undefined,
  opts: { afterInsufficientQty?: boolean } = {},
): Promise<void> {
  const pricing = priceExitOrder({
    side: p.side,
    quote,
    exec: s.account.exit_execution,
    // `exit_reprices` counts cancels, this send included: the replacements before this one are one fewer.
    repriceCount: Math.max(0, (p.exit_reprices ?? 0) - 1),
    marketOpen: s.snap.clock.isOpen,
    // Only a quote within max_quote_age_seconds prices a limit; otherwise market while open.
    now: s.now(),
  });
  if (!pricing) {
    s.deps.log.warn(
      `No usable quote to price the ${pe.reason} exit of ${p.position_id}; decided again next sweep`,
    );
    await releaseClaim(s, p);
    return;
  }
  const held = s.allowances.held(p.option_symbol);
  const qty = held ? s.allowances.budget.take(p.option_symbol, p.side, pe.qty) : 0;
  // The budget is the authority on what is available (it knows this sweep's sends and freed orders).
  const built = buildCloseOrder({
    position: p,
    wantedQty: qty,
    broker: held ? { ...held, qty_available: qty } : undefined,
    clientOrderId: pe.client_order_id,
    limitPrice: pricing.limitPrice,
  });
  if (!built.ok) {
    s.alert(
      'close_blocked',
      p.option_symbol,
      `broker holds nothing to close for ${p.position_id}; no order sent`,
    );
    await releaseClaim(s, p);
    return;
  }
  const order = built.order;
  s.deps.log.info(
    `Submitting ${order.type} order to close ${order.qty} contracts of ${order.symbol} (${pe.reason}): ${pricing.why}`,
    { position_id: p.position_id, client_order_id: order.client_order_id, side: order.side },
  );
  let placed: BrokerOrder;
  try {
    placed = await s.deps.broker.submitOrder(order);
  } catch (err) {
    if (err instanceof BrokerRejectedError && err.isInsufficientQty) {
      await afterInsufficientQty(s, p, pe, order.qty, err, quote, opts.afterInsufficientQty === true);
      return;
    }
    placed = await afterFailedSend(s, p, pe, order.qty, err);
  }
  s.report.ordersSent.push({
    position_id: p.position_id,
    client_order_id: order.client_order_id,
    qty: order.qty,
    reason: pe.reason,
  });
  s.deps.metrics.count(Metric.ExitsSubmitted, 1, { reason: pe.reason });
  const withOrder = await s.deps.store.replace(
    p,
    exitAcknowledged(
      p,
      { qty: order.qty, order_id: placed.id, order_type: order.type, limit_price: order.limit_price ?? null },
      s.nowIso(),
    ),
  );
  if (TERMINAL_ORDER_STATUSES.has(placed.status))
    await applyExitFill(s, withOrder, withOrder.pending_exit!, placed);
}

/**
 * The send threw. The order may exist (a 500 after the broker acted, a lost reply): look it up. Found:
 * carry on with it. Refused (422/403): the step is over, the contracts go back to the budget. Otherwise
 * the claim stays; a definite broker answer (5xx/429/refused connection) is noted on the step so the next
 * sweep sends it again at once, while an unknown outcome waits for the claim lease.
 */
async function afterFailedSend(
  s: SweepContext,
  p: Position,
  pe: PendingExit,
  qty: number,
  err: unknown,
): Promise<BrokerOrder> {
  if (err instanceof DuplicateClientOrderIdError || (err instanceof PipelineError && err.transient)) {
    const found = await s.deps.broker.getOrderByClientOrderId(pe.client_order_id).catch(() => null);
    if (found) return found;
    if (isDefiniteFailure(err)) {
      await s.deps.store.replace(p, exitSendFailed(p, s.nowIso())).catch(() => undefined);
    }
    throw err;
  }
  if (err instanceof BrokerRejectedError) {
    s.allowances.budget.giveBack(p.option_symbol, p.side, qty);
    s.deps.metrics.count(Metric.BrokerRejections);
    s.alert('exit_rejected', p.option_symbol, `${pe.reason} exit rejected: ${err.message}`);
    // The step is over (its client_order_id is spent); the position stays open for the next decision.
    await s.deps.store.replace(p, claimReleased(p, s.nowIso(), 'exit_rejected'));
  }
  throw err;
}

/**
 * A 403 `insufficient qty available`: something else holds the contracts (a person's order, or one of
 * ours the sweep did not count). The contract and the open orders are read again, the orders that hold
 * them are alerted by id (`exit_held_by_order`), the refused step is over, and the next step is sized to
 * what is available now (`planInsufficientQty`): sent at once when that is at least one contract, else
 * nothing is sent. A second refusal in the same sweep sends nothing more: never a 403 loop.
 */
async function afterInsufficientQty(
  s: SweepContext,
  p: Position,
  pe: PendingExit,
  qty: number,
  err: BrokerRejectedError,
  quote: OptionQuote | undefined,
  second: boolean,
): Promise<void> {
  s.allowances.budget.giveBack(p.option_symbol, p.side, qty);
  s.deps.metrics.count(Metric.BrokerRejections);
  const [fresh, openOrders] = await Promise.all([
    rereadContract(s, p.option_symbol),
    s.deps.broker.listOpenOrders(),
  ]);
  const step = planInsufficientQty({
    symbol: p.option_symbol,
    side: p.side,
    fresh,
    openOrders,
    refusal: err.insufficientQty,
    ourPrefix: `ops-${p.account}-`,
  });
  s.allowances.budget.cap(p.option_symbol, p.side, step.available);
  const who = [
    ...step.holders.map(
      (h) => `${h.id} (${h.ours ? 'ours' : "a person's"}, ${h.client_order_id}, holds ${h.qty})`,
    ),
    ...step.unlisted.map((id) => `${id} (named by the broker, not open now)`),
  ];
  const next = second ? 0 : Math.min(pe.qty, step.available);
  s.alert(
    'exit_held_by_order',
    p.option_symbol,
    `${pe.reason} exit of ${qty} for ${p.position_id} refused (insufficient qty): held by ${
      who.length ? who.join(', ') : 'no open order the broker lists'
    }; ${step.available} available${next > 0 ? `, sending ${next}` : ', nothing sent'}`,
  );
  const released = await s.deps.store.replace(p, claimReleased(p, s.nowIso(), 'exit_held_by_order'));
  if (next < 1 || s.allowances.whyNoSend('protective')) return;
  const seq = released.exit_seq + 1;
  const nextStep: PendingExit = {
    ...pe,
    seq,
    client_order_id: exitClientOrderId(p.account, p.position_id, seq),
    order_id: null,
    qty: next,
    claimed_at: s.nowIso(),
    first_claimed_at: s.nowIso(),
    send_failed_at: null,
  };
  const claimed = await s.deps.store.replace(released, exitClaimed(released, nextStep, {}, s.nowIso()));
  await sendStep(s, claimed, nextStep, quote, { afterInsufficientQty: true });
}

/** A broker answer that says the order was not taken: 5xx, 429, or a connection that was refused. */
function isDefiniteFailure(err: unknown): boolean {
  if (!(err instanceof TransientError)) return false;
  if (err.reason === 'rate_limited' || err.reason === 'broker_5xx') return true;
  let cause: unknown = err.cause;
  for (let i = 0; i < 4 && cause; i++) {
    if ((cause as { code?: unknown }).code === 'ECONNREFUSED') return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

export async function releaseClaim(s: SweepContext, p: Position): Promise<void> {
  await s.deps.store.replace(p, claimReleased(p, s.nowIso()));
}
