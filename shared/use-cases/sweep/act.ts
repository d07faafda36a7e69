/**
 * Steps 4-6 of a sweep: evaluate the exit rules and act. Every send, whatever path it comes from (a first
 * send, a resend of a step the broker never saw, a new step after a working order was cancelled, flatten,
 * time rules, partials), goes through {@link sendStep}: it takes its contracts from the one per-contract
 * budget and builds the order with `buildCloseOrder` (intent-free, recorded symbol, reducing side).
 */
import { evaluateExit, type ExitDecision } from '../../domain/exit-rules';
import { priceExitOrder } from '../../domain/exit-pricing';
import { buildCloseOrder, exitClientOrderId } from '../../domain/orders';
import type { ExitReason, PendingExit, Position } from '../../domain/position';
import { claimReleased, exitClaimed } from '../../domain/position-lifecycle';
import {
  BrokerRejectedError,
  DuplicateClientOrderIdError,
  PipelineError,
  TransientError,
} from '../../domain/errors';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder, type OptionQuote } from '../../ports';
import { Metric } from '../../metric-names';
import { applyExitFill, applyOpenOrder } from './learn';
import type { SweepState } from './state';
import { freeBrokerStop, queueBrokerStop } from './broker-stop';

const QUOTE_PROBLEMS = new Set(['no_quote', 'stale_quote', 'crossed_quote', 'bad_quote']);
/** Exit reasons that protect a position (they replace a working non-protective step at once). */
const PROTECTIVE: ReadonlySet<ExitReason> = new Set([
  'stop_loss',
  'trailing_stop',
  'breakeven',
  'expiry',
  'time_rule',
  'max_hold',
  'flatten',
]);

/** The exit rules' verdict for a position now (flatten, an operator action, overrides them). */
function decide(s: SweepState, p: Position, quote: OptionQuote | undefined, flatten: boolean) {
  const now = s.now();
  const ev = evaluateExit(p, quote, now, s.account.exit_execution, { sessionClose: s.sessionClose });
  const decision: ExitDecision = flatten
    ? {
        action: 'close',
        qty: p.quantity,
        reason: 'flatten',
        mark: ev.mark,
        detail: 'flatten requested by the account control',
      }
    : ev.decision;
  return { ev, decision };
}

/** An open position: evaluate its exit rules and, when one fires, claim the step and send it. */
export async function evaluateAndAct(
  s: SweepState,
  p: Position,
  quote: OptionQuote | undefined,
  flatten: boolean,
): Promise<void> {
  const now = s.now();
  const { ev, decision } = decide(s, p, quote, flatten);
  const trailing = {
    peak_price: ev.state.peak_price,
    trailing_stop_price: ev.state.trailing_stop_price,
    breakeven_active: ev.state.breakeven_active,
  };
  s.priced++;
  if (decision.action === 'hold') {
    s.report.held.push({ position_id: p.position_id, reason: decision.reason });
    if (QUOTE_PROBLEMS.has(decision.reason)) {
      s.unpriced++;
      s.deps.log.warn(`Holding ${p.position_id} (${p.option_symbol}): ${decision.detail}`);
    }
    const cur = ev.stateChanged
      ? await s.deps.store.replace(p, { ...p, ...trailing, updated_at: now.toISOString() })
      : p;
    queueBrokerStop(s, cur);
    return;
  }
  const reason: ExitReason = decision.reason;
  if (!s.clock.isOpen) {
    s.report.wouldClose.push({ position_id: p.position_id, reason, qty: decision.qty });
    s.deps.log.info(
      `Market closed: would close ${decision.qty} contracts of ${p.option_symbol} (${reason}); nothing sent`,
      { position_id: p.position_id, detail: decision.detail },
    );
    if (ev.stateChanged) await s.deps.store.replace(p, { ...p, ...trailing, updated_at: now.toISOString() });
    return;
  }
  // A protective stop resting at the broker holds the contracts: freed first (or it is the stop).
  const freed = await freeBrokerStop(s, p, decision, quote);
  if (!freed) return;
  p = freed;
  if (s.budget.available(p.option_symbol, p.side) < 1) {
    s.alert(
      'close_blocked',
      p.option_symbol,
      `${reason}: broker confirms no available qty for ${p.position_id}`,
    );
    return;
  }
  const seq = p.exit_seq + 1;
  const pe: PendingExit = {
    seq,
    client_order_id: exitClientOrderId(p.account, p.position_id, seq),
    order_id: null,
    qty: decision.qty,
    reason,
    partial_level: decision.partialLevel ?? null,
    claimed_at: now.toISOString(),
    first_claimed_at: now.toISOString(),
  };
  s.deps.log.info(`Exit rule fired for ${p.position_id}: ${decision.detail}`, { reason, qty: decision.qty });
  // The claim: only one sweep can move this version to `closing` for step `seq` (safety rule 5).
  const claimed = await s.deps.store.replace(p, exitClaimed(p, pe, trailing, now.toISOString()));
  await sendStep(s, claimed, pe, quote);
}

/**
 * A claimed step the broker never saw (learned in step 1): renew the claim (of several sweeps exactly one
 * wins), look the order up once more (a slow request may have landed since), read the contract again, and
 * send with the same client_order_id — through the same budget as a first send.
 */
export async function resend(s: SweepState, p: Position, quote: OptionQuote | undefined): Promise<void> {
  const pe = p.pending_exit;
  if (!pe) return;
  const renewed: PendingExit = {
    ...pe,
    claimed_at: s.nowIso(),
    first_claimed_at: pe.first_claimed_at ?? pe.claimed_at,
    send_failed_at: null,
  };
  const claimed = await s.deps.store.replace(p, {
    ...p,
    pending_exit: renewed,
    updated_at: renewed.claimed_at,
  });
  const late = await s.deps.broker.getOrderByClientOrderId(pe.client_order_id);
  if (late) {
    if (TERMINAL_ORDER_STATUSES.has(late.status)) await applyExitFill(s, claimed, renewed, late);
    return;
  }
  await s.rereadContract(p.option_symbol);
  s.deps.log.warn(`Exit step ${pe.client_order_id} never reached the broker; sending it again`, {
    position_id: p.position_id,
  });
  await sendStep(s, claimed, renewed, quote);
}

/**
 * Sends a claimed step: priced now (market, or a limit on the grid), sized by the exit budget, built by
 * `buildCloseOrder`. A step that cannot be priced or has nothing to sell releases its claim: the next
 * sweep decides again (a step is never left `closing` with no order).
 */
async function sendStep(
  s: SweepState,
  p: Position,
  pe: PendingExit,
  quote: OptionQuote | undefined,
): Promise<void> {
  const pricing = priceExitOrder({
    side: p.side,
    quote,
    exec: s.account.exit_execution,
    // `exit_reprices` counts cancels, this send included: the replacements before this one are one fewer.
    repriceCount: Math.max(0, (p.exit_reprices ?? 0) - 1),
    marketOpen: s.clock.isOpen,
  });
  if (!pricing) {
    s.deps.log.warn(
      `No usable quote to price the ${pe.reason} exit of ${p.position_id}; decided again next sweep`,
    );
    await releaseClaim(s, p);
    return;
  }
  const held = s.brokerBySymbol.get(p.option_symbol);
  const qty = held ? s.budget.take(p.option_symbol, p.side, pe.qty) : 0;
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
    placed = await afterFailedSend(s, p, pe, order.qty, err);
  }
  s.report.ordersSent.push({
    position_id: p.position_id,
    client_order_id: order.client_order_id,
    qty: order.qty,
    reason: pe.reason,
  });
  s.deps.metrics.count(Metric.ExitsSubmitted, 1, { reason: pe.reason });
  const withOrder = await s.deps.store.replace(p, {
    ...p,
    pending_exit: {
      ...pe,
      qty: order.qty,
      order_id: placed.id,
      order_type: order.type,
      limit_price: order.limit_price ?? null,
      placed_at: s.nowIso(),
      send_failed_at: null,
    },
    updated_at: s.nowIso(),
  });
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
  s: SweepState,
  p: Position,
  pe: PendingExit,
  qty: number,
  err: unknown,
): Promise<BrokerOrder> {
  if (err instanceof DuplicateClientOrderIdError || (err instanceof PipelineError && err.transient)) {
    const found = await s.deps.broker.getOrderByClientOrderId(pe.client_order_id).catch(() => null);
    if (found) return found;
    if (isDefiniteFailure(err)) {
      await s.deps.store
        .replace(p, { ...p, pending_exit: { ...pe, send_failed_at: s.nowIso() }, updated_at: s.nowIso() })
        .catch(() => undefined);
    }
    throw err;
  }
  if (err instanceof BrokerRejectedError) {
    s.budget.giveBack(p.option_symbol, p.side, qty);
    s.deps.metrics.count(Metric.BrokerRejections);
    s.alert('exit_rejected', p.option_symbol, `${pe.reason} exit rejected: ${err.message}`);
    // The step is over (its client_order_id is spent); the position stays open for the next decision.
    await s.deps.store.replace(p, claimReleased(p, s.nowIso(), 'exit_rejected'));
  }
  throw err;
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

async function releaseClaim(s: SweepState, p: Position): Promise<void> {
  await s.deps.store.replace(p, claimReleased(p, s.nowIso()));
}

/**
 * A position whose exit order works at the broker. A limit not filled after `reprice_after_seconds` is
 * cancelled and sent again at the current executable price (market after `max_reprices`); a bigger step
 * (a protective exit over a take profit or partial, a larger close) cancels it at once instead of waiting
 * behind it. The cancel is confirmed (the order looked up, ended) before anything is sent, and what
 * filled meanwhile is learned first; a working sell holds its contracts, which the cancel frees.
 */
export async function manageWorking(
  s: SweepState,
  p: Position,
  quote: OptionQuote | undefined,
  flatten: boolean,
): Promise<void> {
  const order = s.workingExit.get(p.position_id);
  const pe = p.pending_exit;
  if (!order || !pe || !s.clock.isOpen) return;
  const remaining = Math.max(0, order.qty - order.filled_qty);
  const { decision } = decide(s, { ...p, state: 'open', pending_exit: null }, quote, flatten);
  const bigger =
    decision.action === 'close' &&
    (decision.qty > remaining || (PROTECTIVE.has(decision.reason) && !PROTECTIVE.has(pe.reason)));
  const isLimit = order.type === 'limit' || order.type === 'stop_limit';
  const placedAt = Date.parse(pe.placed_at ?? pe.claimed_at);
  const stale =
    isLimit && s.now().getTime() - placedAt >= s.account.exit_execution.reprice_after_seconds * 1000;
  if (!bigger && !stale) return;
  const why = bigger
    ? `a bigger step is due (${decision.action === 'close' ? decision.reason : ''})`
    : 'not filled in time: repricing';
  const ended = await cancelAndConfirm(s, p, order, pe.client_order_id, why);
  if (!ended) return;
  if (ended.status === 'canceled') s.budget.freed(p.option_symbol, p.side, ended.qty - ended.filled_qty);
  const learned = await applyExitFill(s, p, pe, ended, { repriced: stale && !bigger });
  if (learned && learned.state === 'open') await evaluateAndAct(s, learned, quote, flatten);
}

/**
 * A pending open: a resting limit past `limits.entry_order_timeout_minutes` is cancelled; contracts that
 * already filled are protected at once (an exit due on them cancels the rest of the order and closes
 * them), not only once the order ends.
 */
export async function managePendingOpen(
  s: SweepState,
  p: Position,
  quote: OptionQuote | undefined,
  flatten: boolean,
): Promise<void> {
  const order = s.workingOpen.get(p.position_id);
  if (!order) return;
  const ageMs = s.now().getTime() - Date.parse(order.created_at || p.created_at);
  const timedOut = order.type === 'limit' && ageMs >= s.account.limits.entry_order_timeout_minutes * 60_000;
  const filledPart = p.quantity > 0 && (p.entry_price ?? 0) > 0;
  const exitDue =
    filledPart &&
    s.clock.isOpen &&
    decide(s, { ...p, state: 'open' }, quote, flatten).decision.action === 'close';
  if (!timedOut && !exitDue && !flatten) return;
  const why = timedOut ? 'entry order timed out' : exitDue ? 'an exit is due on the filled part' : 'flatten';
  const ended = await cancelAndConfirm(s, p, order, p.open_client_order_id, why);
  if (!ended) return;
  const stored = await applyOpenOrder(s, p, ended);
  if (!stored || stored.state !== 'open' || !s.clock.isOpen) return;
  // The snapshot may predate the fills: read the contract before sizing a close from it.
  await s.rereadContract(stored.option_symbol);
  await evaluateAndAct(s, stored, quote, flatten);
}

/**
 * Cancels a working order of ours and looks it up: returns it once it has ended (cancelled, or filled
 * before the cancel landed), or null when the cancel is not confirmed yet (the next sweep learns the rest).
 */
async function cancelAndConfirm(
  s: SweepState,
  p: Position,
  order: BrokerOrder,
  clientOrderId: string,
  why: string,
): Promise<BrokerOrder | null> {
  const after = await s.cancelAndLookUp(order.id, clientOrderId);
  if (!after) {
    s.deps.log.info(`Cancel of ${clientOrderId} not confirmed yet; next sweep`);
    return null;
  }
  s.report.cancelled.push({ position_id: p.position_id, client_order_id: clientOrderId, why });
  s.deps.log.info(`Cancelled ${clientOrderId} (${why}): ${after.status}, ${after.filled_qty} filled`);
  return after;
}
