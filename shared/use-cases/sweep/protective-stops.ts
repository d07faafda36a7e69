/**
 * Phase 4 of a sweep: the protective stops resting at the broker (`exit_execution.broker_stop`), once
 * every exit took its contracts from the budget. Stops whose position is gone are cancelled (each under
 * its own boundary: one failed cancel never stops the others, nor the later phases); then the due
 * positions' stops are replaced where their level or qty moved, then placed where there is none. Both are
 * capped per sweep (replacements by count, placements by the request budget and the deadline) and continue
 * next sweep, so due exits always come first and the sweep never waits on its limiter.
 */
import {
  brokerStopChange,
  buildProtectiveStopOrder,
  type BrokerStop,
  type BrokerStopTerms,
} from '../../domain/broker-stop';
import { stopClientOrderId } from '../../domain/orders';
import {
  brokerStopAcknowledged,
  brokerStopClaimed,
  brokerStopCleared,
  brokerStopReplaced,
} from '../../domain/position-lifecycle';
import type { Position } from '../../domain/position';
import {
  planStopKeep,
  recordedStop,
  stopBookedOf,
  stopSeqOf,
  stopsOfGonePositions,
} from '../../domain/resting-stop-plan';
import { BrokerRejectedError, DuplicateClientOrderIdError } from '../../domain/errors';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder } from '../../ports';
import type { SweepContext } from './context';
import { noteResting } from './stop-book';

export interface StopsInput {
  /** The records this sweep read (their ids: the positions still live). */
  readonly live: readonly Position[];
  /** Positions closed by this sweep's phases. */
  readonly closedIds: ReadonlySet<string>;
  /** Some records were unreadable: only the stops of positions closed this sweep count as gone. */
  readonly partialRead: boolean;
  /** Open positions whose rules held (from the act phase). */
  readonly stopsDue: readonly Position[];
}

export async function keepProtectiveStops(s: SweepContext, input: StopsInput): Promise<void> {
  const liveIds = new Set(input.live.map((p) => p.position_id));
  const resting = s.allowances.restingPositions().map((id) => [id, s.allowances.restingOf(id)] as const);
  const gone = stopsOfGonePositions(resting, liveIds, input.closedIds, input.partialRead);
  for (const { positionId, order } of gone) {
    try {
      await s.deps.broker.cancelOrder(order.id).catch((err: unknown) => {
        if (!(err instanceof BrokerRejectedError)) throw err;
      });
      s.allowances.setResting(positionId, undefined);
      s.report.cancelled.push({
        position_id: positionId,
        client_order_id: order.client_order_id,
        why: 'position gone',
      });
    } catch (err) {
      // Tried again next sweep (the stop is still listed among the open orders).
      s.positionFailed({ position_id: positionId }, err);
    }
  }
  if (s.account.exit_execution.broker_stop === null) return;
  // Each due position's step, decided once: replacements first, then placements (capped by the budget).
  const steps = new Map(
    input.stopsDue.map((p) => [
      p.position_id,
      planStopKeep(p, {
        exec: s.account.exit_execution,
        working: s.allowances.restingOf(p.position_id)[0],
        held: s.allowances.held(p.option_symbol),
        now: s.nowIso(),
      }),
    ]),
  );
  const stepOf = (p: Position) => steps.get(p.position_id)!;
  // Replacements that shrink a stop go first, and all of them before the others: a stop that holds more
  // of a contract than is left (reduced by hand) must release it before another stop on that contract is
  // replaced, or the broker refuses that one for the qty it holds (403).
  const replacing = input.stopsDue.filter((p) => stepOf(p).kind === 'replace');
  const shrinks = (p: Position) => {
    const step = stepOf(p);
    return step.kind === 'replace' && step.want < step.unfilled;
  };
  const replace = (p: Position) => {
    const step = stepOf(p);
    return step.kind === 'replace' ? replaceStop(s, p, step) : Promise.resolve();
  };
  await s.forEach(replacing.filter(shrinks), replace);
  await s.forEach(
    replacing.filter((p) => !shrinks(p)),
    replace,
  );
  await s.forEach(
    input.stopsDue.filter((p) => stepOf(p).kind === 'place'),
    (p) => {
      const step = stepOf(p);
      return step.kind === 'place' ? placeStop(s, p, step.terms) : Promise.resolve();
    },
  );
}

/** Claims the placement on the record (a lost reply is found by its id), then sends it. */
async function placeStop(s: SweepContext, p: Position, terms: BrokerStopTerms): Promise<void> {
  const noSend = s.allowances.whyNoSend('optional');
  if (noSend) {
    s.defer(p.position_id, 'resting stop placement', noSend);
    return;
  }
  const qty = s.allowances.budget.take(p.option_symbol, p.side, p.quantity);
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
  const claimed = await s.deps.store.replace(p, brokerStopClaimed(p, claim, now));
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
  noteResting(s, p, TERMINAL_ORDER_STATUSES.has(placed.status) ? undefined : placed);
  await s.deps.store.replace(claimed, brokerStopAcknowledged(claimed, placed.id, s.nowIso()));
}

/** A placement that threw: found (a duplicate id), refused (alerted, cleared), or unknown (left claimed). */
async function afterRefusedStop(
  s: SweepContext,
  p: Position,
  claim: BrokerStop,
  qty: number,
  err: unknown,
): Promise<BrokerOrder | null> {
  if (err instanceof DuplicateClientOrderIdError)
    return s.deps.broker.getOrderByClientOrderId(claim.client_order_id);
  if (!(err instanceof BrokerRejectedError)) throw err; // unknown outcome: the next sweep looks it up
  s.allowances.budget.giveBack(p.option_symbol, p.side, qty);
  s.alert('broker_stop_missing', p.option_symbol, `resting stop of ${p.position_id} refused: ${err.message}`);
  await s.deps.store.replace(p, brokerStopCleared(p, s.nowIso()));
  return null;
}

/** Replaces the working stop (PATCH: a new order, a fresh deterministic id), within this sweep's allowance. */
async function replaceStop(
  s: SweepContext,
  p: Position,
  step: Extract<ReturnType<typeof planStopKeep>, { kind: 'replace' }>,
): Promise<void> {
  const noSend = s.allowances.whyNoSend('protective');
  if (noSend) {
    s.defer(p.position_id, 'resting stop replacement', noSend);
    return;
  }
  // Within the per-sweep cap: the rest wait for the next sweep (the sweep's own rules still watch them).
  if (!s.allowances.takeReplacement()) {
    s.defer(p.position_id, 'resting stop replacement', 'this sweep made its replacements');
    return;
  }
  const { working, current, unfilled, terms } = step;
  let qty = step.want;
  if (qty > unfilled) qty = unfilled + s.allowances.budget.take(p.option_symbol, p.side, qty - unfilled);
  const change = brokerStopChange({ ...current, qty: unfilled }, terms, qty);
  if (!change) return;
  const extraQty = qty - unfilled;
  const seq = Math.max(p.broker_stop_seq ?? 0, current.seq, stopSeqOf(working)) + 1;
  const clientOrderId = stopClientOrderId(p.account, p.position_id, seq);
  let next: BrokerOrder;
  try {
    next = await s.deps.broker.replaceOrder(working.id, { ...change, client_order_id: clientOrderId });
  } catch (err) {
    if (extraQty > 0) s.allowances.budget.giveBack(p.option_symbol, p.side, extraQty);
    // 422: it filled or ended meanwhile (the next sweep learns it); 403: the qty is not available; a
    // duplicate id: an earlier attempt landed (the next sweep finds the new order among the open ones).
    if (err instanceof BrokerRejectedError || err instanceof DuplicateClientOrderIdError) {
      s.deps.log.warn(`Replacing the resting stop of ${p.position_id} refused: ${err.message}`);
      return;
    }
    throw err;
  }
  if (change.qty !== undefined && change.qty < working.qty - working.filled_qty) {
    s.allowances.budget.freed(p.option_symbol, p.side, working.qty - working.filled_qty - change.qty);
  }
  s.deps.log.info(
    `Resting stop of ${p.position_id} replaced: ${current.stop_price} → ${next.stop_price ?? '?'}, qty ${next.qty}`,
    { client_order_id: clientOrderId },
  );
  noteResting(s, p, TERMINAL_ORDER_STATUSES.has(next.status) ? undefined : next);
  // The replaced order may still fill before the replace lands (learned when this one ends unfilled).
  const replaced = {
    client_order_id: working.client_order_id,
    filled_booked: stopBookedOf(p.broker_stop, working),
  };
  await s.deps.store.replace(
    p,
    brokerStopReplaced(p, { ...recordedStop(next, current.reason, s.nowIso()), seq, replaced }, s.nowIso()),
  );
}
