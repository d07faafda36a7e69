/**
 * The stop resting at the broker, on the record: booking its fills, clearing it, and cancelling it with
 * the cancel confirmed. Used by the learn phase and by the act phase (freeing a stop for another exit).
 */
import type { BrokerStop } from '../../domain/broker-stop';
import type { Position } from '../../domain/position';
import {
  brokerStopCancelRequested,
  brokerStopCleared,
  brokerStopFilled,
} from '../../domain/position-lifecycle';
import { recordedStop, stopBookedOf, stopSeqOf } from '../../domain/resting-stop-plan';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder } from '../../ports';
import { alertIfRefused, type SweepContext } from './context';
import { cancelAndLookUp } from './broker-io';

/** Notes the position's resting stop after an act of this sweep (and logs it for the dashboard). */
export function noteResting(s: SweepContext, p: Position, order: BrokerOrder | undefined): void {
  s.allowances.setResting(p.position_id, order);
  // One line per change, with fields the dashboard's "stops resting at the broker" widget reads.
  s.deps.log.info(
    order
      ? `Position ${p.position_id} protected at the broker: ${order.type} at ${String(order.stop_price)}`
      : `Position ${p.position_id} has no stop resting at the broker`,
    {
      position_id: p.position_id,
      option_symbol: p.option_symbol,
      broker_stop: order ? 'resting' : 'gone',
      stop_price: order?.stop_price ?? null,
      qty: order ? order.qty - order.filled_qty : 0,
    },
  );
}

/**
 * Cancels a resting stop and looks it up: the order once it ended (cancelled, or filled before the cancel
 * landed), or null when the cancel is not confirmed yet; then (and when the request failed: it may still
 * have landed) the request is recorded on the position (`cancel_requested_at`), so the next sweep reads
 * the stop's end as ours. `recorded`: the record as it is after this.
 */
export async function cancelStop(
  s: SweepContext,
  p: Position,
  working: BrokerOrder,
  bs: BrokerStop,
): Promise<{ ended: BrokerOrder | null; recorded: Position }> {
  const noteRequested = () => s.deps.store.replace(p, brokerStopCancelRequested(p, bs, s.nowIso()));
  let ended: BrokerOrder | null;
  try {
    ended = await cancelAndLookUp(s, working.id, working.client_order_id);
  } catch (err) {
    await noteRequested().catch(() => undefined);
    throw err;
  }
  if (ended) {
    noteResting(s, p, undefined);
    return { ended, recorded: p };
  }
  s.deps.log.info(`Cancel of the resting stop ${working.client_order_id} not confirmed yet; next sweep`);
  return { ended: null, recorded: await noteRequested() };
}

/**
 * Books what the resting stop filled since it was last booked, like any exit (its stop's reason). An
 * order that ended is cleared from the record; one still working stays, with what is booked, so no part
 * is booked twice.
 */
export async function bookStopFill(
  s: SweepContext,
  p: Position,
  order: BrokerOrder,
  bs: BrokerStop,
): Promise<Position> {
  const delta = order.filled_qty - stopBookedOf(bs, order);
  const ended = TERMINAL_ORDER_STATUSES.has(order.status);
  const seq = Math.max(p.broker_stop_seq ?? 0, stopSeqOf(order));
  const working = ended
    ? null
    : { ...recordedStop(order, bs.reason, bs.placed_at), filled_booked: order.filled_qty };
  // The whole report: the ledger books what it adds to what it holds of this order, at its own price.
  const next = brokerStopFilled(p, order, bs.reason, s.nowIso(), { seq, working });
  alertIfRefused(s, p, next);
  const stored = await s.deps.store.replace(p, next);
  if (ended) noteResting(s, p, undefined);
  if (stored.state === 'closed') s.noteClosed(stored, bs.reason);
  else s.deps.log.info(`Resting stop of ${p.position_id} filled ${delta}; ${stored.quantity} left`);
  return stored;
}

/** The stop ended without anything left to book (or never reached the broker): cleared from the record. */
export function clearStop(s: SweepContext, p: Position, seq: number): Promise<Position> {
  return s.deps.store.replace(p, brokerStopCleared(p, s.nowIso(), seq));
}
