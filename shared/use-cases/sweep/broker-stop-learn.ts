/**
 * Step 1 of a sweep for the stops resting at the broker (`exit_execution.broker_stop`): the record follows
 * the stop the broker works; a stop that ended is learned (its fill booked like any exit; a cancel nobody
 * here asked for alerted and the stop placed again by the act step); a stop whose contracts went outside
 * the pipeline, or that rests after `broker_stop` was turned off, is cancelled.
 */
import type { BrokerStop } from '../../domain/broker-stop';
import { stopClientOrderId } from '../../domain/orders';
import type { Position } from '../../domain/position';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder } from '../../ports';
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

/** How far a `replaced` chain is followed to find the order that ended (one sweep makes one replacement). */
const MAX_CHAIN = 3;

/**
 * Step 1 for an `open` position: the record follows the resting stop the broker works, and a recorded
 * stop that is no longer open is learned (filled: booked; cancelled outside: alerted and cleared). Returns
 * the position as it is now (closed when the stop closed it).
 */
export async function learnBrokerStop(s: SweepState, p: Position): Promise<Position> {
  const working = restingIndex(s).get(p.position_id) ?? [];
  const bs = p.broker_stop ?? null;
  if (working.length === 0 && !bs) return p;
  if (working.length > 0) {
    const [top] = working;
    // A stop filling in part is booked as it goes (the record changed: not reconciled this sweep).
    if (top.filled_qty > bookedOf(bs, top))
      return bookStopFill(s, p, top, bs ?? recorded(top, 'stop_loss', s.nowIso()));
    const held = s.brokerBySymbol.get(p.option_symbol);
    const short = !held || held.side !== p.side || held.qty < p.quantity;
    if (short) return stopOutlived(s, p, top, bs);
    if (s.account.exit_execution.broker_stop === null) return stopTurnedOff(s, p, top, bs);
    if (bs && bs.client_order_id === top.client_order_id && bs.order_id === top.id) return p;
    const seq = Math.max(p.broker_stop_seq ?? 0, seqOf(top));
    return s.deps.store.replace(p, {
      ...p,
      broker_stop: {
        ...recorded(top, bs?.reason ?? 'stop_loss', s.nowIso()),
        ...(bs ? { placed_at: bs.placed_at } : {}),
      },
      broker_stop_seq: seq,
      updated_at: s.nowIso(),
    });
  }
  return learnEndedStop(s, p, bs!);
}

/**
 * The positions read shows fewer contracts than the record while its stop rests unfilled: either the stop
 * filled between the reads (ours: learned), or the contracts went outside the pipeline; then the stop is
 * cancelled, so it never outlives them, and reconcile judges the record on a later snapshot.
 */
async function stopOutlived(
  s: SweepState,
  p: Position,
  top: BrokerOrder,
  bs: BrokerStop | null,
): Promise<Position> {
  const rec = bs ?? recorded(top, 'stop_loss', s.nowIso());
  if (!s.takeLookup()) {
    s.changedInLearn.add(p.position_id);
    return p;
  }
  const fresh = await s.deps.broker.getOrderByClientOrderId(top.client_order_id);
  if (fresh && TERMINAL_ORDER_STATUSES.has(fresh.status)) return learnEndedStop(s, p, rec, fresh);
  if (fresh && fresh.filled_qty > bookedOf(rec, fresh)) return bookStopFill(s, p, fresh, rec);
  return cancelThenLearn(s, p, top, rec);
}

/** Cancels the resting stop (confirmed) and learns how it ended; `why`: reported in `cancelled`. */
async function cancelThenLearn(
  s: SweepState,
  p: Position,
  top: BrokerOrder,
  rec: BrokerStop,
  why?: string,
): Promise<Position> {
  const ended = await cancelStop(s, p, top, rec);
  if (!ended) return p;
  if (why) s.report.cancelled.push({ position_id: p.position_id, client_order_id: top.client_order_id, why });
  return learnEndedStop(s, p, { ...rec, cancel_requested_at: s.nowIso() }, ended);
}

/**
 * `broker_stop` was turned off while this stop rested: nothing would keep it true any more (no ratchet, no
 * resize), so it is cancelled (confirmed) and the sweep's own rules protect the position from now on. A fill
 * that landed first is booked like any stop fill.
 */
async function stopTurnedOff(
  s: SweepState,
  p: Position,
  top: BrokerOrder,
  bs: BrokerStop | null,
): Promise<Position> {
  return cancelThenLearn(s, p, top, bs ?? recorded(top, 'stop_loss', s.nowIso()), 'broker_stop turned off');
}

/** A recorded stop that is no longer open: find the order it ended as (following replacements). */
async function learnEndedStop(
  s: SweepState,
  p: Position,
  bs: BrokerStop,
  first?: BrokerOrder,
): Promise<Position> {
  let ended: BrokerOrder | null = null;
  let id = bs.client_order_id;
  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    const known = hop === 0 && first ? first : s.knownOrder(id);
    if (!known && !s.takeLookup()) {
      s.changedInLearn.add(p.position_id); // unknown yet: never read as a close outside the pipeline
      return p;
    }
    const order = known ?? (await s.deps.broker.getOrderByClientOrderId(id));
    if (!order) break;
    ended = order;
    if (order.status !== 'replaced') break;
    id = stopClientOrderId(p.account, p.position_id, seqOf(order) + 1);
  }
  const now = s.nowIso();
  if (!ended) {
    // The placement never reached the broker: cleared, and the same id is used again (a late arrival is
    // then refused as a duplicate and found).
    return s.deps.store.replace(p, {
      ...p,
      broker_stop: null,
      broker_stop_seq: Math.max(0, bs.seq - 1),
      updated_at: now,
    });
  }
  if (!TERMINAL_ORDER_STATUSES.has(ended.status)) {
    // Working under an id the open-orders read did not list (it landed after the read): it holds the
    // contracts like any resting stop, so this sweep's exits free it first; the next sweep syncs the record.
    restingIndex(s).set(p.position_id, [ended]);
    s.changedInLearn.add(p.position_id);
    return p;
  }
  setResting(s, p, undefined);
  if (ended.filled_qty > bookedOf(bs, ended)) return bookStopFill(s, p, ended, bs);
  if (!bs.cancel_requested_at && ended.status !== 'replaced' && ended.filled_qty === 0) {
    s.alert(
      'broker_stop_missing',
      p.option_symbol,
      `resting stop ${ended.client_order_id} of ${p.position_id} ended ${ended.status} without a fill; placed again`,
    );
  }
  return s.deps.store.replace(p, {
    ...p,
    broker_stop: null,
    broker_stop_seq: Math.max(p.broker_stop_seq ?? 0, seqOf(ended)),
    updated_at: now,
  });
}
