/**
 * Step 1 of a sweep: learn what happened to the orders in flight (opens and exits) and resolve claims.
 * The decisions are pure (`planLearn` in domain/learn-plan.ts); this module gathers their facts (one
 * lookup by client order id when a decision asks for it and the sweep's allowance has one left) and
 * applies them. Nothing is sent here: a step the broker never saw is marked for a resend in the act phase.
 */
import type { PendingExit, Position } from '../../domain/position';
import {
  exitFillStep,
  openOrderStep,
  planLearn,
  type LearnFacts,
  type LearnStep,
} from '../../domain/learn-plan';
import type { BrokerOrder } from '../../ports';
import type { SweepState } from './state';
import { learnBrokerStop } from './broker-stop';

/** Sweeps a step may stay `closing` with no working order before it is alerted as stuck. */
const STUCK_AFTER_SWEEPS = 3;

export async function learn(s: SweepState, p: Position): Promise<Position | null> {
  const learned = await learnStep(s, p);
  if (learned !== p) s.changedInLearn.add(p.position_id);
  return learned;
}

async function learnStep(s: SweepState, p: Position): Promise<Position | null> {
  if (p.state === 'open' && !p.pending_exit) return learnBrokerStop(s, p);
  const lookedUp = new Map<string, BrokerOrder | null>();
  for (;;) {
    const step = planLearn(p, facts(s, lookedUp));
    if (step.kind !== 'lookup') return applyStep(s, p, step);
    if (!s.takeLookup()) {
      if (step.ifSkipped) s.alert(step.ifSkipped.kind, p.option_symbol, step.ifSkipped.detail);
      return p;
    }
    lookedUp.set(step.clientOrderId, await s.deps.broker.getOrderByClientOrderId(step.clientOrderId));
  }
}

function facts(s: SweepState, lookedUp: ReadonlyMap<string, BrokerOrder | null>): LearnFacts {
  return {
    now: s.now(),
    leaseMs: s.leaseMs,
    maxRecommendationAgeMs: s.account.limits.max_recommendation_age_minutes * 60_000,
    stuckAfterMs: STUCK_AFTER_SWEEPS * s.account.sweep_interval_minutes * 60_000,
    openOrders: s.openOrderByClientId,
    endedOrders: s.closedOrderByClientId,
    lookedUp,
  };
}

/** Carries out one decision: the write, the working order noted, the alert, the resend marked. */
async function applyStep(s: SweepState, p: Position, step: LearnStep): Promise<Position | null> {
  if (step.kind === 'lookup') throw new Error(`learn: ${p.position_id} still needs a lookup`);
  if (step.kind === 'resend') {
    s.resendDue.add(p.position_id);
    return p;
  }
  if (step.working?.kind === 'open') s.workingOpen.set(p.position_id, step.working.order);
  if (step.working?.kind === 'exit') s.workingExit.set(p.position_id, step.working.order);
  if (step.kind === 'keep') {
    if (step.alert) s.alert(step.alert.kind, p.option_symbol, step.alert.detail);
    return p;
  }
  const stored = await s.deps.store.replace(p, step.next);
  if (step.closed) s.noteClosed(stored, step.closed);
  else logNote(s, p, stored, step.note);
  return stored;
}

function logNote(
  s: SweepState,
  before: Position,
  after: Position,
  note: 'opened' | 'reduced' | 'unfilled' | undefined,
) {
  const log = s.deps.log;
  if (note === 'opened') {
    log.info(
      `Position ${after.position_id} opened: ${after.quantity} contracts of ${after.option_symbol} at ${after.entry_price}`,
    );
  } else if (note === 'unfilled') {
    const id = before.pending_exit?.client_order_id;
    log.warn(`Exit order ${id} ended unfilled; position stays open`);
  } else if (note === 'reduced') {
    const reason = before.pending_exit?.reason;
    log.info(
      `Position ${after.position_id} reduced by ${before.quantity - after.quantity} (${reason}); ${after.quantity} left`,
    );
  }
}

/** Brings a position in line with its opening order (the act phase calls it for an order it cancelled). */
export function applyOpenOrder(s: SweepState, p: Position, order: BrokerOrder): Promise<Position | null> {
  return applyStep(s, p, openOrderStep(p, order, s.nowIso()));
}

/**
 * Books an exit order that ended and ends the step. `repriced`: the order was cancelled by this pipeline
 * to be sent again at a new price.
 */
export function applyExitFill(
  s: SweepState,
  p: Position,
  pe: PendingExit,
  order: BrokerOrder,
  opts: { repriced?: boolean } = {},
): Promise<Position | null> {
  return applyStep(s, p, exitFillStep(p, pe, order, s.nowIso(), opts));
}
