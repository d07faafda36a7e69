/**
 * Phase 1 of a sweep: learn what happened to the orders in flight (opens, exits, resting stops) and
 * resolve claims. The decisions are pure (`planLearn` in domain/learn-plan.ts, `planStopLearn` in
 * domain/resting-stop-plan.ts); this phase gathers their facts (a lookup by client order id when a
 * decision asks for it and the allowance has one left) and applies them. Nothing is sent here but the
 * cancel of a resting stop that outlived its contracts: a step the broker never saw is handed to the act
 * phase as due for a resend.
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
import { alertIfRefused, type SweepContext } from './context';
import { learnRestingStop } from './stop-learn';

/** Sweeps a step may stay `closing` with no working order before it is alerted as stuck. */
const STUCK_AFTER_SWEEPS = 3;

/** What learning handed forward. */
export interface Learned {
  /** The live records after learning, closed ones left out. */
  readonly positions: readonly Position[];
  /** Records whose change in this phase the snapshot may not show yet (not reconciled this sweep). */
  readonly changed: ReadonlySet<string>;
  /** Exit steps the broker never saw, due to be sent again (same id) in the act phase. */
  readonly resendDue: ReadonlySet<string>;
  /** Position id → its exit order working at the broker. */
  readonly workingExit: ReadonlyMap<string, BrokerOrder>;
  /** Position id → its opening order still working at the broker. */
  readonly workingOpen: ReadonlyMap<string, BrokerOrder>;
  /** Positions this phase closed. */
  readonly closed: ReadonlySet<string>;
}

/** One record's learning: the record after it, and what the act phase must know of it. */
interface LearnedOne {
  readonly position: Position | null;
  readonly changed: boolean;
  readonly resend?: boolean;
  readonly working?: { kind: 'open' | 'exit'; order: BrokerOrder };
}

export const NOTHING_LEARNED: Learned = {
  positions: [],
  changed: new Set(),
  resendDue: new Set(),
  workingExit: new Map(),
  workingOpen: new Map(),
  closed: new Set(),
};

/** Learns every live record; exit steps first (when lookups run short, finishing closes matters most). */
export async function learn(s: SweepContext, live: readonly Position[]): Promise<Learned> {
  const byUrgency = [...live].sort((a, b) => learnRank(a) - learnRank(b));
  const results = await s.forEach(byUrgency, (p) => learnOne(s, p));
  const positions: Position[] = [];
  const changed = new Set<string>();
  const resendDue = new Set<string>();
  const workingExit = new Map<string, BrokerOrder>();
  const workingOpen = new Map<string, BrokerOrder>();
  const closed = new Set<string>();
  results.forEach((r, i) => {
    const id = byUrgency[i].position_id;
    // A record whose learning failed (recorded in the report) waits for the next sweep.
    if (!r) return;
    if (r.changed) changed.add(id);
    if (r.resend) resendDue.add(id);
    if (r.working?.kind === 'exit') workingExit.set(id, r.working.order);
    if (r.working?.kind === 'open') workingOpen.set(id, r.working.order);
    if (!r.position || r.position.state === 'closed') closed.add(id);
    else positions.push(r.position);
  });
  return { positions, changed, resendDue, workingExit, workingOpen, closed };
}

async function learnOne(s: SweepContext, p: Position): Promise<LearnedOne> {
  if (p.state === 'open' && !p.pending_exit) return learnRestingStop(s, p);
  const lookedUp = new Map<string, BrokerOrder | null>();
  for (;;) {
    const step = planLearn(p, facts(s, lookedUp));
    if (step.kind !== 'lookup') {
      if (step.kind === 'resend') return { position: p, changed: false, resend: true };
      const position = await applyStep(s, p, step);
      return { position, changed: position !== p, working: step.working };
    }
    if (!s.allowances.takeLookup()) {
      if (step.ifSkipped) s.alert(step.ifSkipped.kind, p.option_symbol, step.ifSkipped.detail);
      return { position: p, changed: false };
    }
    lookedUp.set(step.clientOrderId, await s.deps.broker.getOrderByClientOrderId(step.clientOrderId));
  }
}

function facts(s: SweepContext, lookedUp: ReadonlyMap<string, BrokerOrder | null>): LearnFacts {
  return {
    now: s.now(),
    leaseMs: s.leaseMs,
    maxRecommendationAgeMs: s.account.limits.max_recommendation_age_minutes * 60_000,
    stuckAfterMs: STUCK_AFTER_SWEEPS * s.account.sweep_interval_minutes * 60_000,
    openOrders: s.snap.openOrderByClientId,
    endedOrders: s.snap.closedOrderByClientId,
    lookedUp,
  };
}

/** Carries out one settled decision: the write, the alert. Returns the record after it. */
async function applyStep(
  s: SweepContext,
  p: Position,
  step: Exclude<LearnStep, { kind: 'lookup' | 'resend' }>,
): Promise<Position | null> {
  if (step.kind === 'keep') {
    if (step.alert) s.alert(step.alert.kind, p.option_symbol, step.alert.detail);
    return p;
  }
  alertIfRefused(s, p, step.next);
  const stored = await s.deps.store.replace(p, step.next);
  if (step.closed) s.noteClosed(stored, step.closed);
  else logNote(s, p, stored, step.note);
  return stored;
}

function logNote(
  s: SweepContext,
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
    log.warn(`Exit order ${before.pending_exit?.client_order_id} ended unfilled; position stays open`);
  } else if (note === 'reduced') {
    log.info(
      `Position ${after.position_id} reduced by ${before.quantity - after.quantity} (${before.pending_exit?.reason}); ${after.quantity} left`,
    );
  }
}

/** Brings a position in line with its opening order (the act phase calls it for an order it cancelled). */
export function applyOpenOrder(s: SweepContext, p: Position, order: BrokerOrder): Promise<Position | null> {
  const step = openOrderStep(p, order, s.nowIso());
  return applyStep(s, p, step);
}

/**
 * Books an exit order that ended and ends the step. `repriced`: the order was cancelled by this pipeline
 * to be sent again at a new price.
 */
export function applyExitFill(
  s: SweepContext,
  p: Position,
  pe: PendingExit,
  order: BrokerOrder,
  opts: { repriced?: boolean } = {},
): Promise<Position | null> {
  return applyStep(s, p, exitFillStep(p, pe, order, s.nowIso(), opts));
}

function learnRank(p: Position): number {
  return p.state === 'closing' || p.pending_exit ? 0 : p.state === 'open' ? 2 : 1;
}
