/**
 * Fill learning's decisions (step 1 of a sweep), pure like `evaluateExit`: a record and what the broker is
 * known to say of its order in, the change to make out. The sweep's learn step (use-cases/sweep/learn.ts)
 * gathers the facts, asks the broker by `client_order_id` when a decision says `lookup`, and applies the
 * change. Nothing here sends an order: a step the broker never saw is marked for a resend in the act phase,
 * where the exit budget and the quotes are known.
 */
import { TERMINAL_ORDER_STATUSES, type BrokerOrder } from './broker-types';
import type { CloseReason, PendingExit, Position } from './position';
import {
  claimAbandoned,
  claimReleased,
  exitEnded,
  exitFillsLearned,
  openOrderLearned,
} from './position-lifecycle';

/** What one sweep knows when it learns a record's order. */
export interface LearnFacts {
  readonly now: Date;
  /** A claim whose outcome is unknown is only resumed once it is older than this. */
  readonly leaseMs: number;
  /** The account's `max_recommendation_age_minutes`, in ms: after it plus the lease nothing sends a claimed open. */
  readonly maxRecommendationAgeMs: number;
  /** A step `closing` this long with no working order is alerted as stuck. */
  readonly stuckAfterMs: number;
  /** The sweep's open-orders read, by client order id. */
  readonly openOrders: ReadonlyMap<string, BrokerOrder>;
  /** The sweep's listing of orders that ended, by client order id. */
  readonly endedOrders: ReadonlyMap<string, BrokerOrder>;
  /** Answers to this record's lookups so far: `null` means the broker has no order with that id. */
  readonly lookedUp: ReadonlyMap<string, BrokerOrder | null>;
}

/** An alert the learn step raises for one record. */
export interface LearnAlert {
  readonly kind: 'open_order_missing' | 'closing_stuck';
  readonly detail: string;
}

/** An order still working at the broker, which the act phase manages. */
export interface WorkingOrder {
  readonly kind: 'open' | 'exit';
  readonly order: BrokerOrder;
}

/** What to do with one record. */
export type LearnStep =
  /** Leave the record as it is (maybe noting a working order or raising an alert). */
  | {
      readonly kind: 'keep';
      readonly working?: WorkingOrder;
      readonly alert?: LearnAlert;
    }
  /** Ask the broker for this order, then decide again; `ifSkipped` is raised when no lookup is left. */
  | { readonly kind: 'lookup'; readonly clientOrderId: string; readonly ifSkipped?: LearnAlert }
  /** Store `next` in place of the record. */
  | {
      readonly kind: 'write';
      readonly next: Position;
      /** Set when `next` is closed: the reason reported for it. */
      readonly closed?: CloseReason;
      readonly working?: WorkingOrder;
      /** What to log: the open filled, or an exit order that ended and left some contracts. */
      readonly note?: 'opened' | 'reduced' | 'unfilled';
    }
  /** The exit step's order never reached the broker: send it again (same id) in the act phase. */
  | { readonly kind: 'resend' };

/** A decision that needs no more facts. */
export type SettledStep = Extract<LearnStep, { kind: 'keep' | 'write' }>;

const KEEP: SettledStep = { kind: 'keep' };

/** The decision for a record in `submitting`, `pending` or `closing` (or with a step in flight). */
export function planLearn(p: Position, f: LearnFacts): LearnStep {
  if (p.state === 'submitting') return planSubmitting(p, f);
  if (p.state === 'pending') return planPendingOpen(p, f);
  if (p.state === 'closing' || p.pending_exit) return planExit(p, f);
  return KEEP;
}

/** The order the sweep knows of without asking: the open-orders read first, then the ended ones. */
function listed(f: LearnFacts, clientOrderId: string): BrokerOrder | undefined {
  return f.openOrders.get(clientOrderId) ?? f.endedOrders.get(clientOrderId);
}

/** A claim whose opening order was never recorded: resolved once the claiming delivery is surely gone. */
function planSubmitting(p: Position, f: LearnFacts): LearnStep {
  const age = f.now.getTime() - Date.parse(p.created_at);
  if (age < f.leaseMs) return KEEP;
  const id = p.open_client_order_id;
  const order = listed(f, id) ?? f.lookedUp.get(id);
  if (order) return openOrderStep(p, order, f.now.toISOString());
  if (order === undefined) return { kind: 'lookup', clientOrderId: id };
  // The open path refuses a recommendation older than max age, so after max age + lease nothing will send it.
  if (age < f.maxRecommendationAgeMs + f.leaseMs) return KEEP;
  const next = claimAbandoned(p, f.now.toISOString());
  return { kind: 'write', next, closed: next.close_reason ?? 'not_sent' };
}

function planPendingOpen(p: Position, f: LearnFacts): LearnStep {
  const id = p.open_client_order_id;
  const order = listed(f, id) ?? f.lookedUp.get(id);
  if (order === undefined) return { kind: 'lookup', clientOrderId: id };
  if (order === null) {
    // Recorded as pending but unknown to the broker: should not happen; flag for an operator.
    return { kind: 'keep', alert: { kind: 'open_order_missing', detail: `opening order ${id} not found` } };
  }
  const working: WorkingOrder | undefined = TERMINAL_ORDER_STATUSES.has(order.status)
    ? undefined
    : { kind: 'open', order };
  const step = openOrderStep(p, order, f.now.toISOString());
  return working ? { ...step, working } : step;
}

/**
 * Brings a position in line with its opening order: filled so far, and whether it is over. `keep` when
 * nothing the record holds would change.
 */
export function openOrderStep(p: Position, order: BrokerOrder, now: string): SettledStep {
  const next = openOrderLearned(p, order, now);
  if (samePosition(p, next)) return KEEP;
  if (next.state === 'closed') return { kind: 'write', next, closed: 'not_filled' };
  return p.state !== 'open' && next.state === 'open'
    ? { kind: 'write', next, note: 'opened' }
    : { kind: 'write', next };
}

/**
 * An exit step in flight: its fill once the order is done; a working order noted (the act phase manages
 * it); a step the broker never saw marked for a resend (same id), at once after a definite broker answer,
 * after the claim lease when the outcome is unknown.
 */
function planExit(p: Position, f: LearnFacts): LearnStep {
  const pe = p.pending_exit;
  if (!pe) return { kind: 'write', next: claimReleased(p, f.now.toISOString()) };
  const id = pe.client_order_id;
  const working = f.openOrders.get(id);
  if (working) return workingExitStep(p, working, f);
  const ended = f.endedOrders.get(id);
  if (ended) return exitFillStep(p, pe, ended, f.now.toISOString());
  const looked = f.lookedUp.get(id);
  if (looked === undefined) {
    const stuck = stuckAlert(p, pe, f);
    const unknownOutcome = !pe.send_failed_at;
    if (unknownOutcome && f.now.getTime() - Date.parse(pe.claimed_at) < f.leaseMs) {
      return stuck ? { kind: 'keep', alert: stuck } : KEEP;
    }
    return stuck
      ? { kind: 'lookup', clientOrderId: id, ifSkipped: stuck }
      : { kind: 'lookup', clientOrderId: id };
  }
  if (looked === null) return { kind: 'resend' };
  if (TERMINAL_ORDER_STATUSES.has(looked.status)) return exitFillStep(p, pe, looked, f.now.toISOString());
  return workingExitStep(p, looked, f);
}

/**
 * The step's order still works: noted for the act phase, and what it filled since the ledger last booked
 * it is booked now, each part at its own price and on its own day (reconcile then expects what is left).
 */
function workingExitStep(p: Position, order: BrokerOrder, f: LearnFacts): LearnStep {
  const working = { kind: 'exit', order } as const;
  const next = exitFillsLearned(p, order, f.now.toISOString());
  return next === p ? { kind: 'keep', working } : { kind: 'write', next, working };
}

/** A step `closing` for several sweeps with no order at the broker is alerted (it should have been resent). */
function stuckAlert(p: Position, pe: PendingExit, f: LearnFacts): LearnAlert | undefined {
  const since = pe.first_claimed_at ?? pe.claimed_at;
  if (f.now.getTime() - Date.parse(since) < f.stuckAfterMs) return undefined;
  return {
    kind: 'closing_stuck',
    detail: `${p.position_id} has been closing since ${since} with no working order`,
  };
}

/**
 * The exit order ended (filled, partly filled and cancelled, expired, ...): book what filled and end the
 * step. `repriced`: the order was cancelled by this pipeline to be sent again at a new price.
 */
export function exitFillStep(
  p: Position,
  pe: PendingExit,
  order: BrokerOrder,
  now: string,
  opts: { repriced?: boolean } = {},
): SettledStep {
  const next = exitEnded(p, pe, order, now, opts);
  if (next.state === 'closed') return { kind: 'write', next, closed: pe.reason };
  return { kind: 'write', next, note: next.quantity === p.quantity ? 'unfilled' : 'reduced' };
}

/** The fields an opening order's news can change: nothing to write when all are the same. */
function samePosition(a: Position, b: Position): boolean {
  return (
    a.state === b.state &&
    a.quantity === b.quantity &&
    a.open_order_id === b.open_order_id &&
    a.entry_price === b.entry_price &&
    a.original_quantity === b.original_quantity
  );
}
