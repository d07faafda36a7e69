/**
 * Orders of ours still working at the broker, decided purely: an exit order (keep it, cancel it to
 * reprice, cancel it for a bigger or more protective step) and a pending open (keep it, cancel it on
 * timeout, when an exit is due on its filled part, or on flatten). The sweep's act phase
 * (`use-cases/sweep/act.ts`) evaluates the exit rules on the views below and carries out the step.
 */
import type { AccountConfig } from './account-config';
import type { BrokerOrder, BrokerPosition } from './broker-types';
import type { InsufficientQtyDetail } from './errors';
import type { ExitReason, PendingExit, Position } from './position';
import { bookedQtyOf } from './position-books';

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
 * the contracts the order has not sold yet (its fills the ledger has not booked yet are gone too).
 */
export function workingExitView(
  p: Position,
  order: Pick<BrokerOrder, 'filled_qty' | 'client_order_id'>,
): Position {
  const unbooked = Math.max(0, order.filled_qty - bookedQtyOf(p, order.client_order_id));
  return { ...p, state: 'open', pending_exit: null, quantity: Math.max(0, p.quantity - unbooked) };
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

/** An open order on a contract, on the side that reduces the holding: it holds contracts of it. */
export interface HoldingOrder {
  readonly id: string;
  readonly client_order_id: string;
  /** Contracts it still holds (not yet filled). */
  readonly qty: number;
  /** One of this pipeline's (its client_order_id carries the account's prefix), else a person's. */
  readonly ours: boolean;
}

/** The single-leg open orders on `symbol` that reduce a holding on `side` (what the broker holds for them). */
export function holdingOrders(
  symbol: string,
  side: 'long' | 'short',
  openOrders: readonly BrokerOrder[],
  ourPrefix: string,
): HoldingOrder[] {
  const reducing = side === 'long' ? 'sell' : 'buy';
  const out: HoldingOrder[] = [];
  for (const o of openOrders) {
    if (o.symbol !== symbol || o.side !== reducing || (o.legs && o.legs.length > 0)) continue;
    // An opening order (sell_to_open beside a long, buy_to_open beside a short) holds none of the position.
    if (o.position_intent && o.position_intent.endsWith('_to_open')) continue;
    const qty = Math.max(0, o.qty - o.filled_qty);
    if (qty > 0)
      out.push({
        id: o.id,
        client_order_id: o.client_order_id,
        qty,
        ours: o.client_order_id.startsWith(ourPrefix),
      });
  }
  return out;
}

/** What a 403 `insufficient qty available` on an exit, and the fresh reads after it, say. */
export interface InsufficientQtyFacts {
  readonly symbol: string;
  readonly side: 'long' | 'short';
  /** The contract read again after the refusal (null: nothing held). */
  readonly fresh: Pick<BrokerPosition, 'side' | 'qty' | 'qty_available'> | null;
  /** The open orders read again after the refusal. */
  readonly openOrders: readonly BrokerOrder[];
  /** The refusal's body, when it said (available, related_orders). */
  readonly refusal?: InsufficientQtyDetail;
  /** Our client_order_id prefix (`ops-<account>-`). */
  readonly ourPrefix: string;
}

export interface InsufficientQtyStep {
  /** Contracts the next step may sell: the least of every figure the broker gave (never more). */
  readonly available: number;
  /** The open orders that hold the contracts (ours or a person's). */
  readonly holders: readonly HoldingOrder[];
  /** Order ids the refusal named that the open-order read does not show (ended since, or unlisted). */
  readonly unlisted: readonly string[];
}

/**
 * After a 403 `insufficient qty available` on an exit: what is available (the least of the fresh read's
 * qty_available, what it holds less what open orders hold, and what the refusal said), and who holds the
 * rest. The next step is sized to `available` (0: nothing is sent; never a 403 loop).
 */
export function planInsufficientQty(f: InsufficientQtyFacts): InsufficientQtyStep {
  const holders = holdingOrders(f.symbol, f.side, f.openOrders, f.ourPrefix);
  const held = f.fresh && f.fresh.side === f.side ? f.fresh.qty : 0;
  const byOrders = held - holders.reduce((sum, h) => sum + h.qty, 0);
  const figures = [held, f.fresh && f.fresh.side === f.side ? f.fresh.qty_available : 0, byOrders];
  if (f.refusal?.available !== null && f.refusal?.available !== undefined) figures.push(f.refusal.available);
  const available = Math.max(0, Math.floor(Math.min(...figures)));
  const listed = new Set(holders.map((h) => h.id));
  const unlisted = (f.refusal?.relatedOrders ?? []).filter((id) => !listed.has(id));
  return { available, holders, unlisted };
}
