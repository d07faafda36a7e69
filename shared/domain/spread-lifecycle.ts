/**
 * The spread record's changes, each a named function (the only way a spread record changes outside the
 * domain): the claim, what the opening order did, an exit step claimed / sent / ended, a report booked on
 * the legs, and the end. States as for single legs: submitting → pending → open ⇄ closing → closed.
 * The legs' figures are never written here: they are the legs' ledgers (spread-position.ts).
 */
import { TERMINAL_ORDER_STATUSES, type BrokerOrder } from './broker-types';
import type { CloseReason, OpenRefusal, PositionState } from './position';
import {
  spreadBooks,
  type SpreadExitReason,
  type SpreadLegRecord,
  type SpreadPendingExit,
  type SpreadPosition,
} from './spread-position';

/** Is this broker status one an order does not leave (the broker types' terminal statuses)? */
export function isTerminalStatus(status: string): boolean {
  return TERMINAL_ORDER_STATUSES.has(status);
}

function changed(sp: SpreadPosition, now: string, fields: Partial<SpreadPosition>): SpreadPosition {
  return { ...sp, ...fields, updated_at: now };
}

/**
 * The opening order as the broker reported it, its legs' fills already booked on `legs`: pending while it
 * works with nothing filled, open once a multiple filled (a working remainder still books later), closed
 * `not_filled` / `open_rejected` when it ended with nothing.
 */
export function spreadOpenLearned(
  sp: SpreadPosition,
  order: BrokerOrder,
  legs: readonly SpreadLegRecord[],
  now: string,
): SpreadPosition {
  const books = spreadBooks({ legs });
  const filledSome = books.opened_multiple > 0 || !books.flat;
  const ended = isTerminalStatus(order.status);
  let state: PositionState = sp.state === 'submitting' ? 'pending' : sp.state;
  if (filledSome && state === 'pending') state = 'open';
  if (!filledSome && ended) {
    const reason: CloseReason = order.status === 'rejected' ? 'open_rejected' : 'not_filled';
    const refusal: OpenRefusal | null =
      order.status === 'rejected'
        ? { reason: 'broker_rejected', detail: `the broker rejected order ${order.id} (status rejected)` }
        : sp.refusal;
    return changed(sp, now, {
      legs,
      open_order_id: order.id,
      state: 'closed',
      close_reason: reason,
      closed_at: now,
      refusal,
    });
  }
  return changed(sp, now, {
    legs,
    open_order_id: order.id,
    state,
    entry_time: sp.entry_time ?? (filledSome ? (order.filled_at ?? now) : null),
  });
}

/** The open was refused (a 4xx on the POST, or the claim was never sent): closed with the refusal kept. */
export function spreadOpenRefused(
  sp: SpreadPosition,
  reason: 'open_rejected' | 'not_sent',
  refusal: OpenRefusal,
  now: string,
): SpreadPosition {
  return changed(sp, now, { state: 'closed', close_reason: reason, closed_at: now, refusal });
}

/** Reports booked on the legs (fills of an order read, option events, a shortfall), and flags. */
export function spreadBooked(
  sp: SpreadPosition,
  legs: readonly SpreadLegRecord[],
  now: string,
  extra: { readonly orphaned_at?: string | null; readonly flags?: readonly string[] } = {},
): SpreadPosition {
  const next = changed(sp, now, {
    legs,
    ...(extra.orphaned_at !== undefined ? { orphaned_at: extra.orphaned_at } : {}),
    ...(extra.flags ? { flags: extra.flags } : {}),
  });
  return closeIfFlat(next, now, 'closed_outside_pipeline');
}

/** An exit step claimed (before its order is sent): one step at a time. */
export function spreadExitClaimed(sp: SpreadPosition, exit: SpreadPendingExit, now: string): SpreadPosition {
  if (sp.pending_exit)
    throw new Error(`spread ${sp.position_id} already has exit step ${sp.pending_exit.seq}`);
  return changed(sp, now, { state: 'closing', pending_exit: exit, exit_seq: exit.seq });
}

/** The exit step's order, as the broker acknowledged it. */
export function spreadExitSent(sp: SpreadPosition, order: BrokerOrder, now: string): SpreadPosition {
  if (!sp.pending_exit) return sp;
  return changed(sp, now, {
    pending_exit: { ...sp.pending_exit, order_id: order.id, placed_at: now, send_failed_at: null },
  });
}

/** The exit step's send ended with a definite "no order": the next sweep looks it up and sends again. */
export function spreadExitSendFailed(sp: SpreadPosition, now: string): SpreadPosition {
  if (!sp.pending_exit) return sp;
  return changed(sp, now, { pending_exit: { ...sp.pending_exit, send_failed_at: now } });
}

/**
 * The exit step's order ended (its fills booked on `legs`): the step is cleared; the spread closes (with
 * the step's reason) when nothing is held on any leg, else it is open again for the next decision.
 */
export function spreadExitEnded(
  sp: SpreadPosition,
  legs: readonly SpreadLegRecord[],
  now: string,
  repriced: boolean,
): SpreadPosition {
  const reason = sp.pending_exit?.reason ?? 'flatten';
  const next = changed(sp, now, {
    legs,
    pending_exit: null,
    state: 'open',
    exit_reprices: repriced ? sp.exit_reprices + 1 : sp.exit_reprices,
  });
  return closeIfFlat(next, now, reason);
}

/** A claim whose order never reached the broker, closed after its lease and the message's age. */
export function spreadClaimAbandoned(sp: SpreadPosition, now: string): SpreadPosition {
  return spreadOpenRefused(
    sp,
    'not_sent',
    { reason: 'not_sent', detail: `no order ${sp.open_client_order_id} reached the broker` },
    now,
  );
}

function closeIfFlat(
  sp: SpreadPosition,
  now: string,
  reason: CloseReason | SpreadExitReason,
): SpreadPosition {
  if (sp.state !== 'open' && sp.state !== 'closing') return sp;
  const books = spreadBooks(sp);
  const working = books.legs.some((p) => p.working.length > 0);
  if (!books.flat || working || sp.pending_exit) return sp;
  return { ...sp, state: 'closed', close_reason: reason, closed_at: now, updated_at: now };
}
