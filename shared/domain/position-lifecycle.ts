/**
 * The position lifecycle, written down once: the states, the allowed transitions with their triggers, and
 * one pure function per transition. Each function returns the next record (with `updated_at`) and throws
 * {@link IllegalTransitionError} when the record's state may not take that transition. The open path and
 * the sweep both move records only through these functions.
 */
import { IllegalTransitionError } from './errors';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder } from './broker-types';
import {
  bookActivities,
  bookAdjustment,
  bookOrder,
  booksOf,
  flagsAfter,
  projectionOf,
  type ActivityPart,
} from './position-books';
import type { ActivityContext } from './ledger';
import {
  type BrokerStop,
  type OptionEventReason,
  type ExitReason,
  type OpenRefusal,
  type PendingExit,
  type Position,
  type PositionState,
} from './position';

// The record's other named changes (no state move): one function each, with the fields each may touch.
export * from './position-changes';

/** Names of the transitions (the functions below). */
export type TransitionName =
  | 'openOrderLearned'
  | 'openRefused'
  | 'claimAbandoned'
  | 'rejectionLearned'
  | 'exitClaimed'
  | 'exitEnded'
  | 'claimReleased'
  | 'closedOutside'
  | 'optionEventBooked'
  | 'brokerStopFilled';

/** One row of the table: `from` may move to `to` on `trigger`. */
export interface TransitionRule {
  readonly name: TransitionName;
  readonly from: PositionState;
  readonly to: PositionState;
  readonly trigger: string;
}

/** Every allowed transition. README's state diagram draws this table. */
export const TRANSITIONS: readonly TransitionRule[] = Object.freeze([
  {
    name: 'openOrderLearned',
    from: 'submitting',
    to: 'pending',
    trigger: 'opening order at the broker, not ended',
  },
  { name: 'openOrderLearned', from: 'submitting', to: 'open', trigger: 'opening order ended with fills' },
  {
    name: 'openOrderLearned',
    from: 'submitting',
    to: 'closed',
    trigger: 'opening order ended unfilled (not_filled)',
  },
  {
    name: 'openOrderLearned',
    from: 'pending',
    to: 'pending',
    trigger: 'opening order still working (fills so far)',
  },
  { name: 'openOrderLearned', from: 'pending', to: 'open', trigger: 'opening order ended with fills' },
  {
    name: 'openOrderLearned',
    from: 'pending',
    to: 'closed',
    trigger: 'opening order ended unfilled (not_filled)',
  },
  {
    name: 'openRefused',
    from: 'submitting',
    to: 'closed',
    trigger: 'the broker refused the open (open_rejected)',
  },
  {
    name: 'openRefused',
    from: 'submitting',
    to: 'closed',
    trigger: 'a permanent error before sending (not_sent)',
  },
  {
    name: 'claimAbandoned',
    from: 'submitting',
    to: 'closed',
    trigger: 'claim never reached the broker (not_sent)',
  },
  {
    name: 'rejectionLearned',
    from: 'closed',
    to: 'closed',
    trigger: 'not_filled was a broker rejection (open_rejected)',
  },
  { name: 'exitClaimed', from: 'open', to: 'closing', trigger: 'an exit rule fired: the step is claimed' },
  { name: 'exitEnded', from: 'closing', to: 'open', trigger: 'exit order ended, contracts left' },
  {
    name: 'exitEnded',
    from: 'closing',
    to: 'closed',
    trigger: 'exit order ended, nothing left (the step reason)',
  },
  // Records written by older versions may carry a step while `open`.
  { name: 'exitEnded', from: 'open', to: 'open', trigger: 'exit order ended, contracts left' },
  {
    name: 'exitEnded',
    from: 'open',
    to: 'closed',
    trigger: 'exit order ended, nothing left (the step reason)',
  },
  {
    name: 'claimReleased',
    from: 'closing',
    to: 'open',
    trigger: 'step not sent, rejected, or lost its claim',
  },
  // A step carried while `open` (records of older versions) is released the same way.
  { name: 'claimReleased', from: 'open', to: 'open', trigger: 'step not sent, rejected, or lost its claim' },
  {
    name: 'closedOutside',
    from: 'open',
    to: 'closed',
    trigger: 'broker holds none (closed_outside_pipeline)',
  },
  {
    name: 'optionEventBooked',
    from: 'open',
    to: 'closed',
    trigger: 'the broker assigned, exercised or expired the contracts (assigned, exercised, expired)',
  },
  {
    name: 'optionEventBooked',
    from: 'open',
    to: 'open',
    trigger: 'the broker assigned or exercised part of the contracts (the rest stays managed)',
  },
  {
    name: 'brokerStopFilled',
    from: 'open',
    to: 'open',
    trigger: 'the protective stop resting at the broker filled in part',
  },
  {
    name: 'brokerStopFilled',
    from: 'open',
    to: 'closed',
    trigger: 'the protective stop resting at the broker filled (its stop reason)',
  },
] satisfies TransitionRule[]);

/** True when the table allows `name` from `from` to `to`. */
export function isAllowed(name: TransitionName, from: PositionState, to: PositionState): boolean {
  return TRANSITIONS.some((t) => t.name === name && t.from === from && t.to === to);
}

function move(name: TransitionName, p: Position, next: Position): Position {
  if (!isAllowed(name, p.state, next.state)) {
    throw new IllegalTransitionError(name, p.state, next.state, p.position_id);
  }
  return next;
}

/**
 * The opening order as the broker reports it: filled so far, and whether it is over. The first fill's time
 * is kept (`entry_time` is set once). Both the open path and the sweep record broker orders through this.
 */
export function openOrderLearned(p: Position, order: BrokerOrder, now: string): Position {
  const b = bookOrder(p, 'open', order, now);
  const books = booksOf(p, b.ledger);
  const filled = books.quantity;
  const terminal = TERMINAL_ORDER_STATUSES.has(order.status);
  const entry = filled > 0 ? { entry_time: p.entry_time ?? order.filled_at ?? now } : {};
  const base = { ...p, ...books, flags: flagsAfter(p, b), open_order_id: order.id, updated_at: now };
  if (terminal && filled === 0) {
    return move('openOrderLearned', p, {
      ...base,
      state: 'closed',
      close_reason: 'not_filled',
      closed_at: now,
    });
  }
  if (terminal)
    return move('openOrderLearned', p, { ...base, ...entry, original_quantity: filled, state: 'open' });
  return move('openOrderLearned', p, { ...base, ...entry, state: 'pending' });
}

/**
 * The open was refused (the broker rejected it, or a permanent error stopped it before sending): the claim
 * closes with the refusal, which every later delivery reports.
 */
export function openRefused(
  p: Position,
  reason: 'open_rejected' | 'not_sent',
  refusal: OpenRefusal,
  flag: string,
  now: string,
  fields: Partial<Pick<Position, 'open_order_id' | 'quantity'>> = {},
): Position {
  return move('openRefused', p, {
    ...p,
    ...fields,
    state: 'closed',
    close_reason: reason,
    refusal,
    closed_at: now,
    updated_at: now,
    flags: [...p.flags, flag],
  });
}

/** The sweep closes a claim whose order never reached the broker once nothing can send it any more. */
export function claimAbandoned(p: Position, now: string): Position {
  return move('claimAbandoned', p, closedRecord(p, 'not_sent', [...p.flags], now));
}

/** A record closed `not_filled` whose order the broker had rejected: recorded as the refusal it was. */
export function rejectionLearned(p: Position, refusal: OpenRefusal, now: string): Position {
  if (p.close_reason !== 'not_filled') {
    throw new IllegalTransitionError(
      'rejectionLearned',
      `closed:${p.close_reason}`,
      'closed:open_rejected',
      p.position_id,
    );
  }
  return move('rejectionLearned', p, { ...p, close_reason: 'open_rejected', refusal, updated_at: now });
}

/**
 * An exit rule fired: the step is claimed (`closing`, `exit_seq` advanced) before its order is sent, with
 * the evaluation's trailing state.
 */
export function exitClaimed(
  p: Position,
  pe: PendingExit,
  trailing: Partial<Pick<Position, 'peak_price' | 'trailing_stop_price' | 'breakeven_active'>>,
  now: string,
): Position {
  return move('exitClaimed', p, {
    ...p,
    ...trailing,
    state: 'closing',
    exit_seq: pe.seq,
    pending_exit: pe,
    updated_at: now,
  });
}

/**
 * The step's exit order ended (filled, partly filled and cancelled, expired, ...): book what filled and end
 * the step; closed when nothing is left. `repriced`: cancelled by this pipeline to be sent at a new price.
 */
export function exitEnded(
  p: Position,
  pe: PendingExit,
  order: BrokerOrder,
  now: string,
  opts: { repriced?: boolean } = {},
): Position {
  const b = bookOrder(p, 'exit', order, now);
  const books = booksOf(p, b.ledger);
  const remaining = books.quantity;
  const partialDone =
    pe.reason === 'partial_exit' && pe.partial_level != null && order.filled_qty > 0
      ? [...new Set([...p.partial_exits_done, pe.partial_level])]
      : [...p.partial_exits_done];
  const base: Position = {
    ...p,
    ...books,
    flags: flagsAfter(p, b),
    partial_exits_done: partialDone,
    pending_exit: null,
    exit_reprices: opts.repriced ? (p.exit_reprices ?? 0) + 1 : 0,
    updated_at: now,
  };
  if (remaining <= 0) {
    return move('exitEnded', p, { ...base, state: 'closed', close_reason: pe.reason, closed_at: now });
  }
  return move('exitEnded', p, { ...base, state: 'open' });
}

/** The step ends without an order to learn from (not sent, rejected, or its claim lost): back to `open`. */
export function claimReleased(p: Position, now: string, flag?: string): Position {
  return move('claimReleased', p, {
    ...p,
    state: 'open',
    pending_exit: null,
    ...(flag ? { flags: [...new Set([...p.flags, flag])] } : {}),
    updated_at: now,
  });
}

/**
 * The protective stop resting at the broker ended with fills (it fired while or between sweeps): booked
 * like any exit, closed with the stop's reason when nothing is left; the record's resting stop is cleared.
 * `after`: the client ids used so far (`seq`) and, while part of the stop still works (and contracts are
 * left), the stop as now recorded (with what is booked of it).
 */
export function brokerStopFilled(
  p: Position,
  order: BrokerOrder,
  reason: ExitReason,
  now: string,
  after?: { readonly seq: number; readonly working?: BrokerStop | null },
): Position {
  const b = bookOrder(p, 'stop', order, now);
  const books = booksOf(p, b.ledger);
  const remaining = books.quantity;
  const base: Position = {
    ...p,
    ...books,
    flags: flagsAfter(p, b),
    broker_stop: remaining > 0 ? (after?.working ?? null) : null,
    ...(after ? { broker_stop_seq: after.seq } : {}),
    updated_at: now,
  };
  if (remaining <= 0) {
    return move('brokerStopFilled', p, { ...base, state: 'closed', close_reason: reason, closed_at: now });
  }
  return move('brokerStopFilled', p, { ...base, state: 'open' });
}

/** The broker holds none of the position's contracts: closed outside the pipeline, flagged with `why`. */
export function closedOutside(p: Position, why: string, now: string): Position {
  const held = projectionOf(p).held;
  // What the ledger still holds leaves the books at cost (nothing realized: the price is unknown).
  const b = held > 0 ? bookAdjustment(p, 'outside', held, now) : null;
  const booked = b ? { ...p, ...booksOf(p, b.ledger), flags: flagsAfter(p, b) } : p;
  return move(
    'closedOutside',
    p,
    closedRecord(booked, 'closed_outside_pipeline', [...new Set([...booked.flags, why])], now),
  );
}

function closedRecord(
  p: Position,
  reason: 'not_sent' | 'closed_outside_pipeline',
  flags: readonly string[],
  now: string,
): Position {
  return {
    ...p,
    state: 'closed',
    close_reason: reason,
    closed_at: now,
    exit_price: p.exit_price ?? null,
    pending_exit: null,
    flags,
    updated_at: now,
  };
}

/**
 * The broker's own events (assignment, exercise, expiry: non-trade activities, and FEE activities on the
 * contract) booked on the position's ledger: the option leg at its intrinsic value against the
 * underlying's price at the event (`ctx.underlyingPrice`), the delivered shares as a holding of their own
 * at their cost, the fees apart. Closed with `reason` when no contract is left; a partial event (4 of 10
 * assigned) books its part and the rest stays open and managed.
 */
export function optionEventBooked(
  p: Position,
  reason: OptionEventReason,
  parts: readonly ActivityPart[],
  ctx: Omit<ActivityContext, 'contracts'>,
  now: string,
): Position {
  const b = bookActivities(p, parts, ctx);
  const books = booksOf(p, b.ledger);
  const base: Position = { ...p, ...books, flags: flagsAfter(p, b), updated_at: now };
  if (books.quantity > 0) return move('optionEventBooked', p, { ...base, state: 'open' });
  return move('optionEventBooked', p, {
    ...base,
    state: 'closed',
    close_reason: reason,
    closed_at: now,
    pending_exit: null,
  });
}
