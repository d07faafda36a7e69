/**
 * Orders of ours still working at the broker, decided purely: an exit order (keep it, cancel it to
 * reprice, cancel it for a bigger or more protective step) and a pending open (keep it, cancel it on
 * timeout, when an exit is due on its filled part, or on flatten). The sweep's act phase
 * (`use-cases/sweep/act.ts`) evaluates the exit rules on the views below and carries out the step.
 */
import type { AccountConfig } from './account-config';
import type { BrokerOrder } from './broker-types';
import type { ExitReason, PendingExit, Position } from './position';

/** Exit reasons that protect a position (they replace a working non-protective step at once). */
export const PROTECTIVE_REASONS: ReadonlySet<ExitReason> = new Set([
  'stop_loss',
  'trailing_stop',
  'breakeven',
  'expiry',
  'time_rule',
  'max_hold',
  'flatten',
]);

/**
 * The position as the exit rules should judge it while `order` works: open, no step in flight, and only
 * the contracts the order has not sold yet (a partial fill is already gone, not booked until it ends).
 */
export function workingExitView(p: Position, order: Pick<BrokerOrder, 'filled_qty'>): Position {
  return { ...p, state: 'open', pending_exit: null, quantity: Math.max(0, p.quantity - order.filled_qty) };
}

/** The filled part of a pending open, as the exit rules should judge it. */
export function pendingOpenView(p: Position): Position {
  return { ...p, state: 'open' };
}

/** What the exit rules say now, as far as a working order needs it. */
export type RuleVerdict =
  | { readonly action: 'hold' }
  | { readonly action: 'close'; readonly qty: number; readonly reason: ExitReason };

export type WorkingStep =
  | { readonly kind: 'keep' }
  /** Cancel (confirmed), book what it filled, then decide again; `repriced`: the step is sent again at a new price. */
  | { readonly kind: 'cancel'; readonly why: string; readonly repriced: boolean };

/**
 * A working exit order: a step due on more contracts than the order still has to sell, or a protective
 * step over a non-protective one, replaces it at once; a limit not filled within `reprice_after_seconds`
 * of its placement is repriced. `verdict` is the exit rules' verdict on {@link workingExitView}.
 */
export function planWorkingExit(
  pe: PendingExit,
  order: Pick<BrokerOrder, 'qty' | 'filled_qty' | 'type'>,
  verdict: RuleVerdict,
  nowMs: number,
  exec: Pick<AccountConfig['exit_execution'], 'reprice_after_seconds'>,
): WorkingStep {
  const remaining = Math.max(0, order.qty - order.filled_qty);
  const bigger =
    verdict.action === 'close' &&
    (verdict.qty > remaining ||
      (PROTECTIVE_REASONS.has(verdict.reason) && !PROTECTIVE_REASONS.has(pe.reason)));
  if (bigger) return { kind: 'cancel', why: `a bigger step is due (${verdict.reason})`, repriced: false };
  const isLimit = order.type === 'limit' || order.type === 'stop_limit';
  const placedAt = Date.parse(pe.placed_at ?? pe.claimed_at);
  if (isLimit && nowMs - placedAt >= exec.reprice_after_seconds * 1000)
    return { kind: 'cancel', why: 'not filled in time: repricing', repriced: true };
  return { kind: 'keep' };
}

export interface PendingOpenFacts {
  readonly nowMs: number;
  readonly entryTimeoutMs: number;
  readonly marketOpen: boolean;
  readonly flatten: boolean;
  /** The exit rules' verdict on {@link pendingOpenView} (only asked when part of the order filled). */
  readonly verdict: () => RuleVerdict;
}

/**
 * A pending open: a resting limit past `limits.entry_order_timeout_minutes` is cancelled; contracts that
 * already filled are protected at once (an exit due on them cancels the rest of the order), and flatten
 * cancels it.
 */
export function planPendingOpen(
  p: Pick<Position, 'quantity' | 'entry_price' | 'created_at'>,
  order: Pick<BrokerOrder, 'type' | 'created_at'>,
  f: PendingOpenFacts,
): WorkingStep {
  const ageMs = f.nowMs - Date.parse(order.created_at || p.created_at);
  if (order.type === 'limit' && ageMs >= f.entryTimeoutMs)
    return { kind: 'cancel', why: 'entry order timed out', repriced: false };
  const filledPart = p.quantity > 0 && (p.entry_price ?? 0) > 0;
  if (filledPart && f.marketOpen && f.verdict().action === 'close')
    return { kind: 'cancel', why: 'an exit is due on the filled part', repriced: false };
  if (f.flatten) return { kind: 'cancel', why: 'flatten', repriced: false };
  return { kind: 'keep' };
}
