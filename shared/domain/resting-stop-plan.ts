/**
 * The stop resting at the broker, decided purely (the facts → step loop of `learn-plan.ts`): what the
 * sweep learns of it ({@link planStopLearn}), whether it must make room for another exit
 * ({@link planStopFree}), and how it is kept true after the exits ({@link planStopKeep}). The sweep's
 * phases (`use-cases/sweep/stop-learn.ts`, `protective-stops.ts`) gather the facts and carry out the step.
 */
import type { BidAsk } from './exit-pricing';
import {
  brokerStopChange,
  brokerStopTerms,
  protectsAtLeast,
  type BrokerStop,
  type BrokerStopTerms,
} from './broker-stop';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder, type BrokerPosition } from './broker-types';
import type { AccountConfig } from './account-config';
import { stopClientOrderId } from './orders';
import type { ExitReason, Position } from './position';

/** The placement / replacement number in a resting stop's client id (`ops-<account>-s<seq>-<id>`). */
export function stopSeqOf(o: Pick<BrokerOrder, 'client_order_id'>): number {
  return Number(/-s(\d+)-/.exec(o.client_order_id)?.[1] ?? 0);
}

/** Position id → its resting stops among `orders` (client ids `ops-<account>-s<seq>-<id>`), highest seq first. */
export function indexRestingStops(
  account: string,
  orders: Iterable<BrokerOrder>,
): Map<string, BrokerOrder[]> {
  const index = new Map<string, BrokerOrder[]>();
  const prefix = `ops-${account}-s`;
  for (const o of orders) {
    if (!o.client_order_id.startsWith(prefix)) continue;
    const m = /^(\d+)-(.+)$/.exec(o.client_order_id.slice(prefix.length));
    if (!m) continue;
    index.set(m[2], [...(index.get(m[2]) ?? []), o]);
  }
  for (const list of index.values()) list.sort((a, b) => stopSeqOf(b) - stopSeqOf(a));
  return index;
}

/** A working order as the record of the position's resting stop. */
export function recordedStop(order: BrokerOrder, reason: BrokerStop['reason'], now: string): BrokerStop {
  return {
    seq: stopSeqOf(order),
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

/** Contracts of `order` already booked on the record (a stop fills in parts: each part is booked once). */
export function stopBookedOf(bs: BrokerStop | null | undefined, order: BrokerOrder): number {
  return bs && bs.client_order_id === order.client_order_id ? (bs.filled_booked ?? 0) : 0;
}

/** How far a `replaced` chain is followed to find the order that ended (one sweep makes one replacement). */
const MAX_CHAIN = 3;

export interface StopLearnFacts {
  readonly now: string;
  /** The account keeps stops at the broker (`exit_execution.broker_stop` not null). */
  readonly brokerStopOn: boolean;
  /** The position's resting stops working now, highest seq first. */
  readonly resting: readonly BrokerOrder[];
  /** What the broker holds of the contract (per this sweep's reads). */
  readonly held: BrokerPosition | undefined;
  /** Orders the sweep already knows (its open and closed listings), by client order id. */
  readonly known: (clientOrderId: string) => BrokerOrder | undefined;
  /** Answers to this record's lookups so far: `null` means the broker has no order with that id. */
  readonly lookedUp: ReadonlyMap<string, BrokerOrder | null>;
  /** The resting stop this sweep cancelled, as it ended (the cancel confirmed). */
  readonly cancelled?: BrokerOrder;
}

export type StopLearnStep =
  /** Nothing to learn. */
  | { readonly kind: 'keep' }
  /** Ask the broker for this order, then plan again; when no lookup is left, wait (changed: not reconciled). */
  | { readonly kind: 'lookup'; readonly clientOrderId: string }
  /** Book what `order` filled beyond what the record booked. */
  | { readonly kind: 'book'; readonly order: BrokerOrder; readonly stop: BrokerStop }
  /** Cancel the resting stop (confirmed), then plan again with `cancelled`; `why` is reported. */
  | { readonly kind: 'cancel'; readonly order: BrokerOrder; readonly stop: BrokerStop; readonly why?: string }
  /** The record follows the broker: store `stop` as the position's resting stop (its seq with it). */
  | { readonly kind: 'sync'; readonly stop: BrokerStop; readonly seq: number }
  /** The order rests under an id the open-orders read missed: it holds the contracts; wait a sweep. */
  | { readonly kind: 'adopt'; readonly order: BrokerOrder }
  /** The stop ended (or never reached the broker): clear it; `seq` is the record's next counter. */
  | {
      readonly kind: 'clear';
      readonly seq: number;
      readonly alert?: string;
      /** True when the order never reached the broker (the same id is used again). */
      readonly neverPlaced?: boolean;
    };

/**
 * Step 1 for an `open` position with no exit in flight: the record follows the resting stop the broker
 * works, and a recorded stop that is no longer open is learned (filled: booked; cancelled outside: alerted
 * and cleared, so it is placed again); a stop whose contracts went outside the pipeline, or that rests
 * after `broker_stop` was turned off, is cancelled.
 */
export function planStopLearn(p: Position, f: StopLearnFacts): StopLearnStep {
  const bs = p.broker_stop ?? null;
  if (f.cancelled) {
    const rec = bs ?? recordedStop(f.cancelled, 'stop_loss', f.now);
    return planStopEnded(
      p,
      { ...rec, cancel_requested_at: rec.cancel_requested_at ?? f.now },
      f,
      f.cancelled,
    );
  }
  const [top] = f.resting;
  if (!top && !bs) return { kind: 'keep' };
  if (!top) return planStopEnded(p, bs!, f);
  const rec = bs ?? recordedStop(top, 'stop_loss', f.now);
  // A stop filling in part is booked as it goes.
  if (top.filled_qty > stopBookedOf(bs, top)) return { kind: 'book', order: top, stop: rec };
  const short = !f.held || f.held.side !== p.side || f.held.qty < p.quantity;
  if (short) {
    // Fewer contracts than the record while the stop rests unfilled: either it filled between the reads
    // (ours: learned), or the contracts went outside the pipeline; then it is cancelled, never outliving them.
    const fresh = f.lookedUp.get(top.client_order_id);
    if (fresh === undefined) return { kind: 'lookup', clientOrderId: top.client_order_id };
    if (fresh && TERMINAL_ORDER_STATUSES.has(fresh.status)) return planStopEnded(p, rec, f, fresh);
    if (fresh && fresh.filled_qty > stopBookedOf(rec, fresh))
      return { kind: 'book', order: fresh, stop: rec };
    return { kind: 'cancel', order: top, stop: rec };
  }
  if (!f.brokerStopOn) return { kind: 'cancel', order: top, stop: rec, why: 'broker_stop turned off' };
  if (bs && bs.client_order_id === top.client_order_id && bs.order_id === top.id) return { kind: 'keep' };
  const synced = {
    ...recordedStop(top, bs?.reason ?? 'stop_loss', f.now),
    ...(bs ? { placed_at: bs.placed_at } : {}),
  };
  return { kind: 'sync', stop: synced, seq: Math.max(p.broker_stop_seq ?? 0, stopSeqOf(top)) };
}

/** A recorded stop that is no longer open: find the order it ended as (following replacements). */
function planStopEnded(p: Position, bs: BrokerStop, f: StopLearnFacts, first?: BrokerOrder): StopLearnStep {
  let ended: BrokerOrder | null = null;
  let id = bs.client_order_id;
  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    const order = hop === 0 && first ? first : (f.known(id) ?? f.lookedUp.get(id));
    if (order === undefined) return { kind: 'lookup', clientOrderId: id };
    if (order === null) break;
    ended = order;
    if (order.status !== 'replaced') break;
    id = stopClientOrderId(p.account, p.position_id, stopSeqOf(order) + 1);
  }
  // A replacement that ended without a fill (or never appeared): the replaced order may have filled first.
  const replacedFill = replacedOrderFill(bs, ended, f);
  if (replacedFill) return replacedFill;
  // The placement never reached the broker: cleared, and the same id is used again (a late arrival is then
  // refused as a duplicate and found).
  if (!ended) return { kind: 'clear', seq: Math.max(0, bs.seq - 1), neverPlaced: true };
  if (!TERMINAL_ORDER_STATUSES.has(ended.status)) return { kind: 'adopt', order: ended };
  if (ended.filled_qty > stopBookedOf(bs, ended)) return { kind: 'book', order: ended, stop: bs };
  const seq = Math.max(p.broker_stop_seq ?? 0, stopSeqOf(ended));
  if (!bs.cancel_requested_at && ended.status !== 'replaced' && ended.filled_qty === 0) {
    return {
      kind: 'clear',
      seq,
      alert: `resting stop ${ended.client_order_id} of ${p.position_id} ended ${ended.status} without a fill; placed again`,
    };
  }
  return { kind: 'clear', seq };
}

/**
 * The record's stop replaced another order (`bs.replaced`) and ended without a fill beyond what was booked,
 * or the broker has no such order: look the replaced order up; book what it filled after the replace was
 * recorded (Alpaca: the old order can fill before the replace lands, and the new one is then rejected or
 * cancelled). undefined: nothing to learn from it (go on with the replacement as it ended).
 */
function replacedOrderFill(
  bs: BrokerStop,
  ended: BrokerOrder | null,
  f: StopLearnFacts,
): StopLearnStep | undefined {
  const replaced = bs.replaced;
  if (!replaced) return undefined;
  if (ended && (!TERMINAL_ORDER_STATUSES.has(ended.status) || ended.status === 'replaced')) return undefined;
  if (ended && ended.filled_qty > stopBookedOf(bs, ended)) return undefined;
  const old = f.known(replaced.client_order_id) ?? f.lookedUp.get(replaced.client_order_id);
  if (old === undefined) return { kind: 'lookup', clientOrderId: replaced.client_order_id };
  if (!old || old.filled_qty <= replaced.filled_booked) return undefined;
  return {
    kind: 'book',
    order: old,
    stop: {
      ...bs,
      client_order_id: old.client_order_id,
      order_id: old.id,
      filled_booked: replaced.filled_booked,
    },
  };
}

const STOP_REASONS: ReadonlySet<ExitReason> = new Set(['stop_loss', 'trailing_stop', 'breakeven']);

export type StopFreeStep =
  /** No resting stop holds the contracts: go on with the exit. */
  | { readonly kind: 'go' }
  /** Nothing may be sent this sweep (`reason` is reported as held). */
  | { readonly kind: 'hold'; readonly reason: 'broker_stop_unresolved' | 'broker_stop_working' }
  /** Cancel the resting stop (confirmed) first. */
  | { readonly kind: 'cancel'; readonly order: BrokerOrder; readonly stop: BrokerStop };

/**
 * Before an exit step is claimed: the resting stop must not hold the contracts the step sells. A stop
 * rule's close is left to a resting stop that protects at least as well (and, for a stop_limit, can still
 * fill); every other exit cancels it first.
 */
export function planStopFree(
  p: Position,
  reason: ExitReason,
  working: BrokerOrder | undefined,
  quote: BidAsk | undefined,
  exec: AccountConfig['exit_execution'],
  now: string,
): StopFreeStep {
  // A recorded stop the learning step could not resolve: it may be resting and holding the contracts.
  if (!working && p.broker_stop) return { kind: 'hold', reason: 'broker_stop_unresolved' };
  if (!working) return { kind: 'go' };
  if (STOP_REASONS.has(reason) && restingStopStillWorks(p, working, quote, exec))
    return { kind: 'hold', reason: 'broker_stop_working' };
  return { kind: 'cancel', order: working, stop: p.broker_stop ?? recordedStop(working, 'stop_loss', now) };
}

/**
 * True when the resting stop is the stop: at least as protective as the plan's level now, and (for a
 * stop_limit) its limit still reachable at the executable price, so the sweep sends no second close.
 */
export function restingStopStillWorks(
  p: Position,
  working: BrokerOrder,
  quote: BidAsk | undefined,
  exec: AccountConfig['exit_execution'],
): boolean {
  if (working.stop_price == null) return false;
  const terms = brokerStopTerms(p, trailingOf(p), {
    broker_stop: working.type === 'stop_limit' ? 'stop_limit' : 'stop',
    broker_stop_limit_slippage_pct: exec.broker_stop_limit_slippage_pct,
  });
  if (terms && !protectsAtLeast(p.side, working.stop_price, terms.stop_price)) return false;
  if (working.type !== 'stop_limit' || working.limit_price === null) return true;
  if (!quote) return true;
  // A triggered stop_limit whose limit is beyond the executable price will not fill: the sweep closes.
  return p.side === 'long' ? quote.bid >= working.limit_price : quote.ask <= working.limit_price;
}

export function trailingOf(p: Position) {
  return {
    peak_price: p.peak_price ?? null,
    trailing_stop_price: p.trailing_stop_price ?? null,
    breakeven_active: p.breakeven_active === true,
  };
}

export interface StopKeepFacts {
  readonly exec: AccountConfig['exit_execution'];
  /** The position's resting stop working now (undefined: none). */
  readonly working: BrokerOrder | undefined;
  readonly held: BrokerPosition | undefined;
  readonly now: string;
}

export type StopKeepStep =
  | { readonly kind: 'none'; readonly why: string }
  /** Place a new stop for up to the position's quantity (taken from the exit budget). */
  | { readonly kind: 'place'; readonly terms: BrokerStopTerms }
  /**
   * Replace the working stop: `want` contracts (never more than the broker holds); `unfilled` are already
   * held by it, the difference comes from the exit budget.
   */
  | {
      readonly kind: 'replace';
      readonly terms: BrokerStopTerms;
      readonly current: BrokerStop;
      readonly working: BrokerOrder;
      readonly unfilled: number;
      readonly want: number;
    };

/**
 * After the exits: an open position with no resting stop gets one; one whose level moved by a tick or
 * more, or whose qty differs, is replaced; a recorded stop the learning step could not resolve waits
 * (never two resting stops).
 */
export function planStopKeep(p: Position, f: StopKeepFacts): StopKeepStep {
  const terms = brokerStopTerms(p, trailingOf(p), f.exec);
  if (!terms) return { kind: 'none', why: 'no stop level' };
  const heldQty = f.held && f.held.side === p.side ? f.held.qty : 0;
  if (!f.working) {
    if (p.broker_stop) return { kind: 'none', why: 'recorded stop unresolved' };
    return { kind: 'place', terms };
  }
  const current = p.broker_stop ?? recordedStop(f.working, terms.reason, f.now);
  const unfilled = f.working.qty - f.working.filled_qty;
  const want = Math.min(p.quantity, heldQty);
  if (want < 1) return { kind: 'none', why: 'nothing held for it' };
  if (!brokerStopChange({ ...current, qty: unfilled }, terms, want)) return { kind: 'none', why: 'true' };
  return {
    kind: 'replace',
    terms,
    current: { ...current, reason: terms.reason },
    working: f.working,
    unfilled,
    want,
  };
}

/**
 * The resting stops of positions that are gone (closed this sweep, or no longer live; with a partial read
 * only those closed this sweep), to be cancelled so none outlives its position.
 */
export function stopsOfGonePositions(
  resting: Iterable<readonly [string, readonly BrokerOrder[]]>,
  liveIds: ReadonlySet<string>,
  closedIds: ReadonlySet<string>,
  partialRead: boolean,
): Array<{ positionId: string; order: BrokerOrder }> {
  const out: Array<{ positionId: string; order: BrokerOrder }> = [];
  for (const [positionId, orders] of resting) {
    if (!closedIds.has(positionId) && (partialRead || liveIds.has(positionId))) continue;
    for (const order of orders) out.push({ positionId, order });
  }
  return out;
}
