/**
 * Phase 3 of a sweep: act. Steps decided earlier first (resends, working orders, pending opens), then the
 * exit rules of the open positions, all spending one per-contract budget (`send-exit.ts`). The decisions
 * are pure (`evaluateExit`, `planWorkingExit`, `planPendingOpen`, `planStopFree`); this phase carries
 * them out. It hands forward the positions whose resting stop is due to be kept after the exits.
 */
import { evaluateExit, type ExitDecision } from '../../domain/exit-rules';
import { exitClientOrderId } from '../../domain/orders';
import type { ExitReason, PendingExit, Position } from '../../domain/position';
import {
  brokerStopCleared,
  exitClaimed,
  exitClaimRenewed,
  trailingAdvanced,
} from '../../domain/position-lifecycle';
import { planStopFree, stopBookedOf, stopSeqOf } from '../../domain/resting-stop-plan';
import {
  pendingOpenView,
  planPendingOpen,
  planWorkingExit,
  workingExitView,
  type RuleVerdict,
} from '../../domain/working-order-plan';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder, type OptionQuote } from '../../ports';
import type { SweepContext } from './context';
import { applyExitFill, applyOpenOrder } from './learn';
import { releaseClaim, sendStep } from './send-exit';
import { bookStopFill, cancelStop } from './stop-book';
import { cancelAndLookUp, rereadContract } from './broker-io';
import { keepExpiryInstruction } from './send-expiry-instruction';

const QUOTE_PROBLEMS = new Set(['no_quote', 'stale_quote', 'crossed_quote', 'bad_quote']);

/** What the act phase is handed. */
export interface ActInput {
  readonly positions: readonly Position[];
  readonly resendDue: ReadonlySet<string>;
  readonly workingExit: ReadonlyMap<string, BrokerOrder>;
  readonly workingOpen: ReadonlyMap<string, BrokerOrder>;
  readonly quotes: ReadonlyMap<string, OptionQuote>;
  /** The account control asks to flatten everything. */
  readonly flatten: boolean;
}

/** What the act phase hands forward. */
export interface Acted {
  /** Open positions whose rules held: their resting stop is kept true after the exits. */
  readonly stopsDue: readonly Position[];
  /** Evaluations that needed a price, and how many of them had no usable quote. */
  readonly priced: number;
  readonly unpriced: number;
}

export const NOTHING_ACTED: Acted = { stopsDue: [], priced: 0, unpriced: 0 };

/** Tallies of one act phase. */
class Tally {
  readonly stopsDue: Position[] = [];
  priced = 0;
  unpriced = 0;
}

export async function act(s: SweepContext, input: ActInput): Promise<Acted> {
  const t = new Tally();
  const { positions, quotes, flatten } = input;
  const q = (p: Position) => quotes.get(p.option_symbol);
  const resends = positions.filter((p) => input.resendDue.has(p.position_id));
  const working = positions.filter((p) => input.workingExit.has(p.position_id));
  const pending = positions.filter((p) => input.workingOpen.has(p.position_id));
  const open = positions.filter((p) => p.state === 'open');
  await s.forEach(resends, (p) => resend(s, p, q(p)));
  await s.forEach(working, (p) =>
    manageWorking(s, t, p, input.workingExit.get(p.position_id)!, q(p), flatten),
  );
  await s.forEach(pending, (p) =>
    managePendingOpen(s, t, p, input.workingOpen.get(p.position_id)!, q(p), flatten),
  );
  await s.forEach(open, (p) => evaluateAndAct(s, t, p, q(p), flatten));
  return { stopsDue: t.stopsDue, priced: t.priced, unpriced: t.unpriced };
}

/** The open positions of a poll whose price rule fired: the same act, nothing else. */
export async function actOnFired(
  s: SweepContext,
  positions: readonly Position[],
  quotes: ReadonlyMap<string, OptionQuote>,
): Promise<void> {
  const t = new Tally();
  await s.forEach(positions, (p) => evaluateAndAct(s, t, p, quotes.get(p.option_symbol), false));
}

/** The exit rules' verdict for a position now (flatten, an operator action, overrides them). */
function decide(s: SweepContext, p: Position, quote: OptionQuote | undefined, flatten: boolean) {
  const ev = evaluateExit(p, quote, s.brokerNow(), s.account.exit_execution, {
    sessionClose: s.snap.sessionClose,
  });
  const decision: ExitDecision = flatten
    ? {
        action: 'close',
        qty: p.quantity,
        reason: 'flatten',
        mark: ev.mark,
        detail: 'flatten requested by the account control',
      }
    : ev.decision;
  return { ev, decision };
}

function verdictOf(decision: ExitDecision): RuleVerdict {
  return decision.action === 'close'
    ? { action: 'close', qty: decision.qty, reason: decision.reason }
    : { action: 'hold' };
}

/** An open position: evaluate its exit rules and, when one fires, claim the step and send it. */
async function evaluateAndAct(
  s: SweepContext,
  t: Tally,
  p: Position,
  quote: OptionQuote | undefined,
  flatten: boolean,
): Promise<void> {
  const now = s.now();
  const { ev, decision } = decide(s, p, quote, flatten);
  const trailing = {
    peak_price: ev.state.peak_price,
    trailing_stop_price: ev.state.trailing_stop_price,
    breakeven_active: ev.state.breakeven_active,
  };
  t.priced++;
  if (decision.action === 'hold') {
    s.report.held.push({ position_id: p.position_id, reason: decision.reason });
    if (QUOTE_PROBLEMS.has(decision.reason)) {
      t.unpriced++;
      s.deps.log.warn(`Holding ${p.position_id} (${p.option_symbol}): ${decision.detail}`);
    }
    const advanced = ev.stateChanged
      ? await s.deps.store.replace(p, trailingAdvanced(p, trailing, now.toISOString()))
      : p;
    // Held into expiry by its plan (at_expiry exercise / do_not_exercise): the instruction, when due.
    const cur = await keepExpiryInstruction(s, advanced);
    const exercised =
      cur.expiry_instruction?.instruction === 'exercise' && cur.expiry_instruction.outcome === 'sent';
    if (
      s.account.exit_execution.broker_stop !== null &&
      !exercised &&
      cur.state === 'open' &&
      !cur.pending_exit &&
      cur.quantity >= 1
    )
      t.stopsDue.push(cur);
    return;
  }
  const reason: ExitReason = decision.reason;
  if (!s.snap.clock.isOpen) {
    s.report.wouldClose.push({ position_id: p.position_id, reason, qty: decision.qty });
    s.deps.log.info(
      `Market closed: would close ${decision.qty} contracts of ${p.option_symbol} (${reason}); nothing sent`,
      { position_id: p.position_id, detail: decision.detail },
    );
    if (ev.stateChanged) await s.deps.store.replace(p, trailingAdvanced(p, trailing, now.toISOString()));
    return;
  }
  const noSend = s.allowances.whyNoSend('protective');
  if (noSend) {
    s.defer(p.position_id, `${reason} exit`, noSend);
    return;
  }
  // A protective stop resting at the broker holds the contracts: freed first (or it is the stop).
  const freed = await freeRestingStop(s, p, reason, quote);
  if (!freed) return;
  p = freed;
  if (s.allowances.budget.available(p.option_symbol, p.side) < 1) {
    s.alert(
      'close_blocked',
      p.option_symbol,
      `${reason}: broker confirms no available qty for ${p.position_id}`,
    );
    return;
  }
  const seq = p.exit_seq + 1;
  const pe: PendingExit = {
    seq,
    client_order_id: exitClientOrderId(p.account, p.position_id, seq),
    order_id: null,
    qty: decision.qty,
    reason,
    partial_level: decision.partialLevel ?? null,
    claimed_at: now.toISOString(),
    first_claimed_at: now.toISOString(),
  };
  s.deps.log.info(`Exit rule fired for ${p.position_id}: ${decision.detail}`, { reason, qty: decision.qty });
  // The claim: only one sweep can move this version to `closing` for step `seq` (safety rule 5).
  const claimed = await s.deps.store.replace(p, exitClaimed(p, pe, trailing, now.toISOString()));
  await sendStep(s, claimed, pe, quote);
}

/**
 * Before an exit step is claimed: the resting stop must not hold the contracts the step sells
 * (`planStopFree`). Returns the position to act on (contracts freed in the budget), or null when nothing
 * may be sent this sweep.
 */
async function freeRestingStop(
  s: SweepContext,
  p: Position,
  reason: ExitReason,
  quote: OptionQuote | undefined,
): Promise<Position | null> {
  const working = s.allowances.restingOf(p.position_id)[0];
  const step = planStopFree(p, reason, working, quote, s.account.exit_execution, s.nowIso());
  if (step.kind === 'go') return p;
  if (step.kind === 'hold') {
    s.report.held.push({ position_id: p.position_id, reason: step.reason });
    return null;
  }
  const { ended, recorded } = await cancelStop(s, p, step.order, step.stop);
  if (!ended) return null;
  if (ended.filled_qty > stopBookedOf(step.stop, ended)) {
    // It fired before the cancel landed: that is the exit; nothing more is sent on it now.
    await bookStopFill(s, recorded, ended, step.stop);
    return null;
  }
  s.allowances.budget.freed(p.option_symbol, p.side, ended.qty - ended.filled_qty);
  s.report.cancelled.push({
    position_id: p.position_id,
    client_order_id: ended.client_order_id,
    why: `resting stop freed for ${reason}`,
  });
  return s.deps.store.replace(
    recorded,
    brokerStopCleared(recorded, s.nowIso(), Math.max(recorded.broker_stop_seq ?? 0, stopSeqOf(ended))),
  );
}

/**
 * A claimed step the broker never saw (learned in phase 1): look the order up once more (a slow request
 * may have landed since); while the market is closed the claim is released (the next session decides
 * again, at its own prices); otherwise renew the claim (of several sweeps exactly one wins), read the
 * contract again, and send with the same client_order_id, through the same budget as a first send.
 */
async function resend(s: SweepContext, p: Position, quote: OptionQuote | undefined): Promise<void> {
  const pe = p.pending_exit;
  if (!pe) return;
  if (s.snap.clock.isOpen) {
    const noSend = s.allowances.whyNoSend('protective');
    if (noSend) {
      s.defer(p.position_id, `${pe.reason} resend`, noSend);
      return;
    }
  }
  const late = await s.deps.broker.getOrderByClientOrderId(pe.client_order_id);
  if (late) {
    if (TERMINAL_ORDER_STATUSES.has(late.status)) await applyExitFill(s, p, pe, late);
    return;
  }
  if (!s.snap.clock.isOpen) {
    s.report.wouldClose.push({ position_id: p.position_id, reason: pe.reason, qty: pe.qty });
    s.deps.log.info(
      `Market closed: the ${pe.reason} step ${pe.client_order_id} that never reached the broker is released; decided again when the market opens`,
      { position_id: p.position_id },
    );
    await releaseClaim(s, p);
    return;
  }
  const claimed = await s.deps.store.replace(p, exitClaimRenewed(p, s.nowIso()));
  const renewed = claimed.pending_exit!;
  await rereadContract(s, p.option_symbol);
  s.deps.log.warn(`Exit step ${pe.client_order_id} never reached the broker; sending it again`, {
    position_id: p.position_id,
  });
  await sendStep(s, claimed, renewed, quote);
}

/**
 * A working exit order (`planWorkingExit` on the contracts it has not sold yet): cancelled for a bigger
 * or more protective step, or to reprice; what it filled is booked, then the rules decide again.
 */
async function manageWorking(
  s: SweepContext,
  t: Tally,
  p: Position,
  order: BrokerOrder,
  quote: OptionQuote | undefined,
  flatten: boolean,
): Promise<void> {
  const pe = p.pending_exit;
  if (!pe || !s.snap.clock.isOpen) return;
  const { decision } = decide(s, workingExitView(p, order), quote, flatten);
  const step = planWorkingExit(pe, order, verdictOf(decision), s.now().getTime(), s.account.exit_execution);
  if (step.kind === 'keep') return;
  const ended = await cancelAndConfirm(s, p, order, pe.client_order_id, step.why);
  if (!ended) return;
  if (ended.status === 'canceled')
    s.allowances.budget.freed(p.option_symbol, p.side, ended.qty - ended.filled_qty);
  const learned = await applyExitFill(s, p, pe, ended, { repriced: step.repriced });
  if (learned && learned.state === 'open') await evaluateAndAct(s, t, learned, quote, flatten);
}

/** A pending open (`planPendingOpen`): cancelled on timeout, for an exit due on its filled part, or to flatten. */
async function managePendingOpen(
  s: SweepContext,
  t: Tally,
  p: Position,
  order: BrokerOrder,
  quote: OptionQuote | undefined,
  flatten: boolean,
): Promise<void> {
  const step = planPendingOpen(p, order, {
    nowMs: s.brokerNow().getTime(),
    entryTimeoutMs: s.account.limits.entry_order_timeout_minutes * 60_000,
    marketOpen: s.snap.clock.isOpen,
    flatten,
    verdict: () => verdictOf(decide(s, pendingOpenView(p), quote, flatten).decision),
  });
  if (step.kind === 'keep') return;
  const ended = await cancelAndConfirm(s, p, order, p.open_client_order_id, step.why);
  if (!ended) return;
  const stored = await applyOpenOrder(s, p, ended);
  if (!stored || stored.state !== 'open' || !s.snap.clock.isOpen) return;
  // The snapshot may predate the fills: read the contract before sizing a close from it.
  await rereadContract(s, stored.option_symbol);
  await evaluateAndAct(s, t, stored, quote, flatten);
}

/** Cancels a working order of ours, reporting it once the cancel is confirmed (null: not yet). */
async function cancelAndConfirm(
  s: SweepContext,
  p: Position,
  order: BrokerOrder,
  clientOrderId: string,
  why: string,
): Promise<BrokerOrder | null> {
  const after = await cancelAndLookUp(s, order.id, clientOrderId);
  if (!after) {
    s.deps.log.info(`Cancel of ${clientOrderId} not confirmed yet; next sweep`);
    return null;
  }
  s.report.cancelled.push({ position_id: p.position_id, client_order_id: clientOrderId, why });
  s.deps.log.info(`Cancelled ${clientOrderId} (${why}): ${after.status}, ${after.filled_qty} filled`);
  return after;
}
