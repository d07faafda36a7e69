/**
 * Every change of a position record that is not a state transition, one named function each (issue 22):
 * the use cases never build the next record by object spread (a lint rule refuses it outside the domain).
 * {@link CHANGE_FIELDS} declares what each may change; a property test holds each to it. The transitions
 * (state moves) are in position-lifecycle.ts, which re-exports these.
 */
import type { BrokerOrder } from './broker-types';
import type { BrokerStop, ExpiryInstructionRecord, PendingExit, Position } from './position';
import { BOOKS_FIELDS, bookAdjustment, bookOrder, booksOf, flagsAfter } from './position-books';

/** The trailing state the exit rules carry from one evaluation to the next. */
export type TrailingFields = Pick<Position, 'peak_price' | 'trailing_stop_price' | 'breakeven_active'>;

/** Names of the changes (the functions below). */
export type ChangeName =
  | 'trailingAdvanced'
  | 'exitClaimRenewed'
  | 'exitAcknowledged'
  | 'exitSendFailed'
  | 'markedMissing'
  | 'missingCleared'
  | 'quantityReconciled'
  | 'exitFillsLearned'
  | 'brokerStopClaimed'
  | 'brokerStopAcknowledged'
  | 'brokerStopSynced'
  | 'brokerStopReplaced'
  | 'brokerStopCancelRequested'
  | 'brokerStopCleared'
  | 'storedAtVersion'
  | 'exitStepReplayed'
  | 'viewedAsOpen'
  | 'expiryInstructionRecorded';

/**
 * The fields each change may write. `updated_at` is the bookkeeping every stored change sets (listed where
 * it applies); `version` is the store's own (only {@link storedAtVersion} sets it).
 */
export const CHANGE_FIELDS: Readonly<Record<ChangeName, readonly (keyof Position)[]>> = Object.freeze({
  trailingAdvanced: ['peak_price', 'trailing_stop_price', 'breakeven_active', 'updated_at'],
  exitClaimRenewed: ['pending_exit', 'updated_at'],
  exitAcknowledged: ['pending_exit', 'updated_at'],
  exitSendFailed: ['pending_exit', 'updated_at'],
  markedMissing: ['missing_since', 'updated_at'],
  missingCleared: ['missing_since', 'updated_at'],
  quantityReconciled: ['ledger', 'quantity', 'flags', 'updated_at'],
  exitFillsLearned: [...BOOKS_FIELDS, 'flags', 'updated_at'],
  brokerStopClaimed: ['broker_stop', 'broker_stop_seq', 'updated_at'],
  brokerStopAcknowledged: ['broker_stop', 'updated_at'],
  brokerStopSynced: ['broker_stop', 'broker_stop_seq', 'updated_at'],
  brokerStopReplaced: ['broker_stop', 'broker_stop_seq', 'updated_at'],
  brokerStopCancelRequested: ['broker_stop', 'updated_at'],
  brokerStopCleared: ['broker_stop', 'broker_stop_seq', 'updated_at'],
  storedAtVersion: ['version'],
  exitStepReplayed: ['quantity', 'exit_seq', 'partial_exits_done'],
  viewedAsOpen: ['state', 'pending_exit'],
  expiryInstructionRecorded: ['expiry_instruction', 'updated_at'],
});

/** The flag a record gets when the broker confirms fewer contracts than it tracks. */
export const QTY_BELOW_TABLE_FLAG = 'broker_qty_below_table';

function stepOf(p: Position, change: ChangeName): PendingExit {
  if (!p.pending_exit) throw new Error(`${change}: ${p.position_id} has no exit step`);
  return p.pending_exit;
}

function stopOf(p: Position, change: ChangeName): BrokerStop {
  if (!p.broker_stop) throw new Error(`${change}: ${p.position_id} has no resting stop`);
  return p.broker_stop;
}

/** The exit rules moved the trailing peak, the trailing stop or armed the breakeven stop. */
export function trailingAdvanced(p: Position, trailing: TrailingFields, now: string): Position {
  return {
    ...p,
    peak_price: trailing.peak_price,
    trailing_stop_price: trailing.trailing_stop_price,
    breakeven_active: trailing.breakeven_active,
    updated_at: now,
  };
}

/** A claimed step that never reached the broker is claimed again (to be sent again) at `now`. */
export function exitClaimRenewed(p: Position, now: string): Position {
  const pe = stepOf(p, 'exitClaimRenewed');
  return {
    ...p,
    pending_exit: {
      ...pe,
      claimed_at: now,
      first_claimed_at: pe.first_claimed_at ?? pe.claimed_at,
      send_failed_at: null,
    },
    updated_at: now,
  };
}

/** The broker acknowledged the step's order: its id and terms are recorded on the step. */
export function exitAcknowledged(
  p: Position,
  placed: { qty: number; order_id: string; order_type: 'market' | 'limit'; limit_price: number | null },
  now: string,
): Position {
  const pe = stepOf(p, 'exitAcknowledged');
  return {
    ...p,
    pending_exit: {
      ...pe,
      qty: placed.qty,
      order_id: placed.order_id,
      order_type: placed.order_type,
      limit_price: placed.limit_price,
      placed_at: now,
      send_failed_at: null,
    },
    updated_at: now,
  };
}

/** Sending the step failed for certain (it did not reach the broker): noted, so it is sent again soon. */
export function exitSendFailed(p: Position, now: string): Position {
  return { ...p, pending_exit: { ...stepOf(p, 'exitSendFailed'), send_failed_at: now }, updated_at: now };
}

/**
 * The broker's read lacks the contract and nothing explains it yet: the first sweep that saw it gone is
 * noted (`missing_since`, by default `now`; the option-event wait passes the broker's clock, since the
 * activities' days are the broker's), to be confirmed by a later sweep or explained by its activities.
 */
export function markedMissing(p: Position, now: string, since: string = now): Position {
  return { ...p, missing_since: since, updated_at: now };
}

/** The contract is at the broker again: the missing mark is cleared. */
export function missingCleared(p: Position, now: string): Position {
  return { ...p, missing_since: null, updated_at: now };
}

/**
 * The broker confirms fewer contracts than the record and no order explains it: the difference leaves the
 * ledger at cost (nothing realized: the price is unknown), once per finding; flagged. Never up.
 */
export function quantityReconciled(p: Position, keep: number, now: string): Position {
  if (!Number.isInteger(keep) || keep < 0 || keep > p.quantity) {
    throw new Error(`quantityReconciled: ${p.position_id} cannot go from ${p.quantity} to ${keep}`);
  }
  const b = bookAdjustment(p, 'reconcile', p.quantity - keep, now);
  const { ledger, quantity } = booksOf(p, b.ledger);
  return {
    ...p,
    ledger,
    quantity,
    flags: [...new Set([...flagsAfter(p, b), QTY_BELOW_TABLE_FLAG])],
    updated_at: now,
  };
}

/**
 * The step's exit order, still working, filled more since the ledger last booked it: the new part is booked
 * at its own price (quantity and P&L follow), the step goes on. Reconcile then expects what is left.
 */
export function exitFillsLearned(p: Position, order: BrokerOrder, now: string): Position {
  const b = bookOrder(p, 'exit', order, now);
  if (!b.application.booked && (!b.refused || flagsAfter(p, b) === p.flags)) return p;
  return { ...p, ...booksOf(p, b.ledger), flags: flagsAfter(p, b), updated_at: now };
}

/** A resting stop's placement is claimed (recorded before it is sent; its order id is not known yet). */
export function brokerStopClaimed(p: Position, claim: BrokerStop, now: string): Position {
  return { ...p, broker_stop: claim, broker_stop_seq: claim.seq, updated_at: now };
}

/** The broker acknowledged the claimed placement: its order id is recorded. */
export function brokerStopAcknowledged(p: Position, orderId: string, now: string): Position {
  return {
    ...p,
    broker_stop: { ...stopOf(p, 'brokerStopAcknowledged'), order_id: orderId },
    updated_at: now,
  };
}

/** The broker's working stop differs from the record (found under another id): the record follows it. */
export function brokerStopSynced(p: Position, stop: BrokerStop, seq: number, now: string): Position {
  return { ...p, broker_stop: stop, broker_stop_seq: seq, updated_at: now };
}

/** The resting stop was replaced at the broker (new price or quantity): the new order is recorded. */
export function brokerStopReplaced(p: Position, stop: BrokerStop, now: string): Position {
  return { ...p, broker_stop: stop, broker_stop_seq: stop.seq, updated_at: now };
}

/**
 * This pipeline asked the broker to cancel the resting stop `bs` (the record's, or the one found working):
 * noted, so the stop's end reads as ours.
 */
export function brokerStopCancelRequested(p: Position, bs: BrokerStop, now: string): Position {
  return { ...p, broker_stop: { ...bs, cancel_requested_at: now }, updated_at: now };
}

/**
 * No resting stop any more (refused, ended, freed for an exit, or never placed). `seq`: the client ids
 * used so far, when it changes (absent: left as it is).
 */
export function brokerStopCleared(p: Position, now: string, seq?: number): Position {
  return { ...p, broker_stop: null, ...(seq === undefined ? {} : { broker_stop_seq: seq }), updated_at: now };
}

/** The record as stored at `version` (the store's optimistic-concurrency counter). */
export function storedAtVersion(p: Position, version: number): Position {
  return { ...p, version };
}

/** The lab's replay takes an exit step of `qty` at once (no broker, no order, no clock). */
export function exitStepReplayed(p: Position, qty: number, partialLevel?: number): Position {
  return {
    ...p,
    quantity: p.quantity - qty,
    exit_seq: p.exit_seq + 1,
    partial_exits_done:
      partialLevel === undefined ? p.partial_exits_done : [...p.partial_exits_done, partialLevel],
  };
}

/**
 * Not a stored change: the record as the exit rules read it while its order works (`open`; with
 * `withoutStep`, its step set aside), to ask what they would decide now.
 */
export function viewedAsOpen(p: Position, opts: { withoutStep?: boolean } = {}): Position {
  return { ...p, state: 'open', ...(opts.withoutStep ? { pending_exit: null } : {}) };
}

/** The sweep sent (or tried, or missed) the position's expiry instruction: it is never sent again. */
export function expiryInstructionRecorded(
  p: Position,
  record: ExpiryInstructionRecord,
  now: string,
): Position {
  return { ...p, expiry_instruction: record, updated_at: now };
}
