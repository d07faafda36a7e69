/**
 * The plumbing of the stops resting at the broker shared by the sweep's learn and act steps: this sweep's
 * index of resting stops (from the open-orders read, kept current by its own acts), the record of a stop,
 * booking its fills, and cancelling it with the cancel confirmed.
 */
import type { BrokerStop } from '../../domain/broker-stop';
import type { Position } from '../../domain/position';
import { brokerStopFilled } from '../../domain/position-lifecycle';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder } from '../../ports';
import type { SweepState } from './state';

/** Per sweep: position id → its resting stops among the open orders, highest seq first. */
const restingBySweep = new WeakMap<SweepState, Map<string, BrokerOrder[]>>();

/** Per sweep: position id → its resting stops (client ids `ops-<account>-s<seq>-<id>`), highest seq first. */
export function restingIndex(s: SweepState): Map<string, BrokerOrder[]> {
  let index = restingBySweep.get(s);
  if (index) return index;
  index = new Map();
  const prefix = `ops-${s.account.name}-s`;
  for (const o of s.openOrderByClientId.values()) {
    if (!o.client_order_id.startsWith(prefix)) continue;
    const m = /^(\d+)-(.+)$/.exec(o.client_order_id.slice(prefix.length));
    if (!m) continue;
    index.set(m[2], [...(index.get(m[2]) ?? []), o]);
  }
  for (const list of index.values()) list.sort((a, b) => seqOf(b) - seqOf(a));
  restingBySweep.set(s, index);
  return index;
}

/** The placement / replacement number in a resting stop's client id. */
export function seqOf(o: Pick<BrokerOrder, 'client_order_id'>): number {
  return Number(/-s(\d+)-/.exec(o.client_order_id)?.[1] ?? 0);
}

/** Notes the position's resting stop after an act of this sweep (and logs it for the dashboard). */
export function setResting(s: SweepState, p: Position, order: BrokerOrder | undefined): void {
  const index = restingIndex(s);
  if (order) index.set(p.position_id, [order]);
  else index.delete(p.position_id);
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

/** A working order as the record of the position's resting stop. */
export function recorded(order: BrokerOrder, reason: BrokerStop['reason'], now: string): BrokerStop {
  return {
    seq: seqOf(order),
    client_order_id: order.client_order_id,
    order_id: order.id,
    type: order.type === 'stop_limit' ? 'stop_limit' : 'stop',
    stop_price: order.stop_price ?? 0,
    limit_price: order.limit_price,
    qty: order.qty - order.filled_qty,
    reason,
    placed_at: now,
  };
}

/**
 * Cancels a resting stop and looks it up: the order once it ended (cancelled, or filled before the cancel
 * landed), or null when the cancel is not confirmed yet (recorded; the next sweep learns the rest).
 */
export async function cancelStop(
  s: SweepState,
  p: Position,
  working: BrokerOrder,
  bs: BrokerStop,
): Promise<BrokerOrder | null> {
  // A cancel request that failed may still have landed (a lost reply): noted, so the next sweep reads
  // the stop's end as ours.
  const noteCancelRequested = async () => {
    await s.deps.store
      .replace(p, { ...p, broker_stop: { ...bs, cancel_requested_at: s.nowIso() }, updated_at: s.nowIso() })
      .catch(() => undefined);
  };
  const after = await s.cancelAndLookUp(working.id, working.client_order_id, noteCancelRequested);
  if (after) {
    setResting(s, p, undefined);
    return after;
  }
  s.deps.log.info(`Cancel of the resting stop ${working.client_order_id} not confirmed yet; next sweep`);
  s.changedInLearn.add(p.position_id);
  await s.deps.store.replace(p, {
    ...p,
    broker_stop: { ...bs, cancel_requested_at: s.nowIso() },
    updated_at: s.nowIso(),
  });
  return null;
}

/** Contracts of `order` already booked on the record (a stop fills in parts: each part is booked once). */
export function bookedOf(bs: BrokerStop | null, order: BrokerOrder): number {
  return bs && bs.client_order_id === order.client_order_id ? (bs.filled_booked ?? 0) : 0;
}

/**
 * Books what the resting stop filled since the last sweep, like any exit (its stop's reason, realized P&L
 * at the order's average price). An order that ended is cleared from the record; one still working stays,
 * with what is booked, so no part is booked twice.
 */
export async function bookStopFill(
  s: SweepState,
  p: Position,
  order: BrokerOrder,
  bs: BrokerStop,
): Promise<Position> {
  const delta = order.filled_qty - bookedOf(bs, order);
  const next = brokerStopFilled(p, { ...order, filled_qty: delta }, bs.reason, s.nowIso());
  const ended = TERMINAL_ORDER_STATUSES.has(order.status);
  const stored = await s.deps.store.replace(
    p,
    ended || next.state === 'closed'
      ? { ...next, broker_stop_seq: Math.max(p.broker_stop_seq ?? 0, seqOf(order)) }
      : {
          ...next,
          broker_stop: {
            ...recorded(order, bs.reason, bs.placed_at),
            filled_booked: order.filled_qty,
          },
          broker_stop_seq: Math.max(p.broker_stop_seq ?? 0, seqOf(order)),
        },
  );
  if (stored.state === 'closed') s.noteClosed(stored, bs.reason);
  else s.deps.log.info(`Resting stop of ${p.position_id} filled ${delta}; ${stored.quantity} left`);
  return stored;
}
