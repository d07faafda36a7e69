/**
 * What a spread does this sweep: at most one order (safety rule 4: one exit step, one order), chosen from
 * the broker's holdings on every leg (safety rule 3, per leg) — docs/SPREADS.md.
 *
 * - An exit step in flight: resent with its own client_order_id when the broker has no such order (looked
 *   up first, spread-learn.ts), or its working limit cancelled once older than `reprice_after_seconds` (the
 *   next sweep prices it again).
 * - Every leg held whole: the exit rules on the net executable value (spread-exit-rules.ts); a due exit is
 *   one mleg close for the multiple every leg's `qty_available` confirms, a limit at the net value.
 * - A leg gone: the unwind of `planSpreadClose`: orphaned shorts bought back first, then the shares an
 *   event delivered, then the orphaned longs; never an order on a leg the broker does not hold.
 */
import { deliveredHolding } from '../../domain/ledger';
import { BrokerRejectedError, DuplicateClientOrderIdError, PipelineError } from '../../domain/errors';
import { exitClientOrderId } from '../../domain/orders';
import type { OrderRequest } from '../../domain/orders';
import { planSpreadClose, type SpreadCloseStep } from '../../domain/spread-close';
import { evaluateSpreadExit } from '../../domain/spread-exit-rules';
import {
  spreadExitClaimed,
  spreadExitEnded,
  spreadExitSendFailed,
  spreadExitSent,
} from '../../domain/spread-lifecycle';
import {
  buildSpreadCloseOrder,
  buildSpreadLegCloseOrder,
  spreadLegExitClientOrderId,
} from '../../domain/spread-orders';
import type { MlegOrderRequest } from '../../domain/spread-orders';
import { closeLimitFromValue, netCloseValue, type LegQuote } from '../../domain/spread-pricing';
import {
  legProjection,
  spreadBooks,
  type SpreadExitReason,
  type SpreadPendingExit,
  type SpreadPosition,
} from '../../domain/spread-position';
import type { BrokerOrder, BrokerPosition } from '../../ports';
import type { SweepContext } from './context';
import { cancelSpreadOrder, noteUnconfirmedShares } from './spread-checks';
import { knownOrder } from './snapshot';

/** What the spread acts on this sweep. */
export interface SpreadActInput {
  readonly quotes: ReadonlyMap<string, LegQuote>;
  readonly flatten: boolean;
}

/** An order to send for a step, with the pending exit that records it. */
interface Planned {
  readonly exit: SpreadPendingExit;
  readonly send: () => Promise<BrokerOrder>;
}

/** Acts on one spread (its record as reconciled); returns the record as stored. */
export async function actOnSpread(
  s: SweepContext,
  sp: SpreadPosition,
  input: SpreadActInput,
): Promise<SpreadPosition> {
  if (sp.state !== 'open' && sp.state !== 'closing') return sp;
  if (sp.pending_exit) return inFlight(s, sp, input);
  if (!s.snap.clock.isOpen) return sp;
  const why = s.allowances.whyNoSend('protective');
  const planned = plan(s, sp, input);
  if (!planned) return noteUnconfirmedShares(s, sp);
  if (why) {
    s.defer(sp.position_id, `spread exit ${planned.exit.reason}`, why);
    return sp;
  }
  return send(s, sp, planned);
}

/** The exit step in flight: resend after a definite "no order", or cancel a stale limit to price it again. */
async function inFlight(s: SweepContext, sp: SpreadPosition, input: SpreadActInput): Promise<SpreadPosition> {
  const pe = sp.pending_exit!;
  if (pe.order_id === null) {
    const old = s.now().getTime() - Date.parse(pe.claimed_at) >= s.leaseMs;
    // spread-learn.ts looked it up this sweep and the broker has none: the same id is sent again.
    if ((pe.send_failed_at !== null || old) && !knownOrder(s.snap, pe.client_order_id)) {
      const again = rebuild(s, sp, pe, input);
      if (again) return resend(s, sp, again);
      // The broker has no such order and no longer confirms its terms: the step ends unsent, and the next
      // sweep plans again from what every leg holds now.
      return s.deps.spreads!.replaceSpread(sp, spreadExitEnded(sp, sp.legs, s.nowIso(), false));
    }
    return sp;
  }
  const order = knownOrder(s.snap, pe.client_order_id);
  if (!order || order.status === 'pending_cancel' || pe.order_type !== 'limit' || !pe.placed_at) return sp;
  const ageS = (s.now().getTime() - Date.parse(pe.placed_at)) / 1000;
  if (ageS < s.account.exit_execution.reprice_after_seconds) return sp;
  await cancelSpreadOrder(s, sp.position_id, pe.order_id, pe.client_order_id, 'reprice');
  return sp;
}

/** The broker's holdings of each leg, capped by what the leg's ledger holds (another's contracts are never ours). */
function brokerView(s: SweepContext, sp: SpreadPosition): BrokerPosition[] {
  return sp.legs.flatMap((leg) => {
    const b = s.snap.brokerBySymbol.get(leg.option_symbol);
    if (!b) return [];
    const mine = legProjection(leg).held;
    const qty = b.side === leg.side ? Math.min(b.qty, mine) : b.qty;
    return [{ ...b, qty, qty_available: Math.min(b.qty_available, qty) }];
  });
}

/** The step this spread takes now, if any. */
function plan(s: SweepContext, sp: SpreadPosition, input: SpreadActInput): Planned | null {
  const books = spreadBooks(sp);
  const broker = brokerView(s, sp);
  const fullest = Math.max(...sp.legs.map((l, i) => Math.ceil(books.legs[i]!.held / l.ratio_qty)));
  const probe = planSpreadClose({
    spreadId: sp.position_id,
    legs: sp.legs,
    multiple: fullest,
    wantedMultiple: 0,
    broker,
  });
  let reason: SpreadExitReason;
  let value: number | null = null;
  if (probe.orphaned || !books.intact) {
    reason = 'orphan_unwind';
    // The whole multiples still held close as one mleg at their net value.
    const net = netCloseValue(sp.legs, input.quotes);
    value = net.ok ? net.perShare : null;
  } else {
    const d = evaluateSpreadExit({
      legs: sp.legs,
      plan: sp.exit_plan,
      netOpenPerShare: books.net_open_per_share ?? 0,
      maxLossPerShare: sp.max_loss_per_share,
      entryTime: sp.entry_time,
      quotes: input.quotes,
      now: s.brokerNow(),
      sessionClose: s.snap.sessionClose,
      flatten: input.flatten,
    });
    if (!d.due) {
      // Every leg ended by events, shares left: they are sold (or bought back) as the unwind's last step.
      return books.flat ? null : sharesStep(s, sp, 'orphan_unwind');
    }
    reason = d.reason;
    value = d.valuePerShare;
  }
  const closing = planSpreadClose({
    spreadId: sp.position_id,
    legs: sp.legs,
    multiple: fullest,
    wantedMultiple: fullest,
    broker,
  });
  for (const w of closing.waiting) {
    s.report.held.push({
      position_id: sp.position_id,
      reason: `${w.option_symbol} ${w.qty} waits: ${w.why}`,
    });
  }
  const step = closing.steps[0];
  // Delivered shares go before an orphaned long is sold (the long may be what covers them).
  if (!step || (step.kind === 'single' && step.side === 'sell')) {
    const shares = sharesStep(s, sp, reason);
    if (shares) return shares;
  }
  if (!step) {
    if (!books.flat && closing.steps.length === 0 && reason !== 'orphan_unwind') {
      s.alert(
        'close_blocked',
        sp.legs[0]!.option_symbol,
        `spread ${sp.position_id}: ${reason} due; no leg confirms a multiple available`,
      );
    }
    return null;
  }
  return stepOrder(s, sp, step, reason, value, input);
}

/** Limit of a step: the mleg at its net executable value; a single leg at its executable side. */
function stepOrder(
  s: SweepContext,
  sp: SpreadPosition,
  step: SpreadCloseStep,
  reason: SpreadExitReason,
  value: number | null,
  input: SpreadActInput,
): Planned | null {
  const seq = sp.exit_seq + 1;
  const now = s.nowIso();
  const marketAllowed = s.account.exit_execution.order_type === 'market';
  const escalate = marketAllowed && sp.exit_reprices >= s.account.exit_execution.max_reprices;
  if (step.kind === 'mleg') {
    if (value === null && !marketAllowed) {
      s.report.held.push({
        position_id: sp.position_id,
        reason: `${reason} waits: a leg has no usable quote for the net limit`,
      });
      return null;
    }
    const limit = value === null || escalate ? null : closeLimitFromValue(value);
    const order = buildSpreadCloseOrder({
      account: s.account.name,
      spreadId: sp.position_id,
      seq,
      step,
      limitPrice: limit,
    });
    return {
      exit: pending(seq, order.client_order_id, 'mleg', step.multiple, null, null, reason, order, now),
      send: () => s.deps.broker.submitMlegOrder(order),
    };
  }
  const legIndex = sp.legs.findIndex((l) => l.option_symbol === step.option_symbol);
  const q = input.quotes.get(step.option_symbol);
  const side = step.side === 'buy' ? q?.ask : q?.bid;
  const limit = escalate || !(side !== undefined && side > 0) ? (marketAllowed ? null : undefined) : side;
  if (limit === undefined) {
    s.report.held.push({
      position_id: sp.position_id,
      reason: `${step.why} waits: no quote for ${step.option_symbol}`,
    });
    return null;
  }
  const built = buildSpreadLegCloseOrder({
    step,
    broker: s.snap.brokerBySymbol.get(step.option_symbol),
    clientOrderId: spreadLegExitClientOrderId(s.account.name, sp.position_id, seq, legIndex),
    limitPrice: limit,
  });
  if (!built.ok) return null;
  const order = built.order;
  return {
    exit: pending(
      seq,
      order.client_order_id,
      'single',
      order.qty,
      step.option_symbol,
      order.side,
      reason,
      order,
      now,
    ),
    send: () => s.deps.broker.submitOrder(order),
  };
}

/** The sale (or buy-back) of shares an option event delivered to a leg, for what the broker confirms. */
function sharesStep(s: SweepContext, sp: SpreadPosition, reason: SpreadExitReason): Planned | null {
  for (const leg of sp.legs) {
    const d = deliveredHolding(leg.ledger);
    if (!d || d.shares === 0) continue;
    const underlying = leg.ledger.events.find((e) => e.shares !== 0)!.underlying;
    const held = s.snap.brokerBySymbol.get(underlying);
    const side = d.shares > 0 ? 'long' : 'short';
    const qty = held && held.side === side ? Math.min(Math.abs(d.shares), Math.floor(held.qty_available)) : 0;
    if (qty < 1) continue;
    const seq = sp.exit_seq + 1;
    const order: OrderRequest = {
      symbol: underlying,
      qty,
      side: side === 'long' ? 'sell' : 'buy',
      type: 'market',
      time_in_force: 'day',
      client_order_id: `${exitClientOrderId(s.account.name, sp.position_id, seq)}`.replace(
        `-x${seq}-`,
        `-x${seq}sh-`,
      ),
    };
    return {
      exit: pending(
        seq,
        order.client_order_id,
        'shares',
        qty,
        leg.option_symbol,
        order.side,
        reason,
        order,
        s.nowIso(),
      ),
      send: () => s.deps.broker.submitOrder(order),
    };
  }
  return null;
}

function pending(
  seq: number,
  clientOrderId: string,
  kind: SpreadPendingExit['kind'],
  qty: number,
  symbol: string | null,
  side: 'buy' | 'sell' | null,
  reason: SpreadExitReason,
  order: OrderRequest | MlegOrderRequest,
  now: string,
): SpreadPendingExit {
  return {
    seq,
    client_order_id: clientOrderId,
    order_id: null,
    kind,
    qty,
    option_symbol: symbol,
    side,
    reason,
    order_type: order.type === 'limit' ? 'limit' : 'market',
    limit_price: order.limit_price ?? null,
    claimed_at: now,
    placed_at: null,
    send_failed_at: null,
  };
}

/** Claims the step on the record (conditional on its version: two sweeps never both send), then sends it. */
async function send(s: SweepContext, sp: SpreadPosition, p: Planned): Promise<SpreadPosition> {
  const claimed = await s.deps.spreads!.replaceSpread(sp, spreadExitClaimed(sp, p.exit, s.nowIso()));
  return resend(s, claimed, p);
}

async function resend(s: SweepContext, sp: SpreadPosition, p: Planned): Promise<SpreadPosition> {
  const pe = p.exit;
  try {
    const order = await p.send();
    s.report.ordersSent.push({
      position_id: sp.position_id,
      client_order_id: pe.client_order_id,
      qty: pe.qty,
      reason: pe.reason,
    });
    return s.deps.spreads!.replaceSpread(sp, spreadExitSent(sp, order, s.nowIso()));
  } catch (err) {
    if (err instanceof DuplicateClientOrderIdError) return sp; // it exists: the next sweep learns it
    if (err instanceof BrokerRejectedError) {
      s.alert(
        'exit_rejected',
        sp.legs[0]!.option_symbol,
        `spread ${sp.position_id}: ${pe.reason} exit rejected: ${err.message}`,
      );
      return s.deps.spreads!.replaceSpread(sp, spreadExitEnded(sp, sp.legs, s.nowIso(), false));
    }
    if (err instanceof PipelineError && err.transient) {
      return s.deps.spreads!.replaceSpread(sp, spreadExitSendFailed(sp, s.nowIso()));
    }
    throw err;
  }
}

/** The order of a step in flight, rebuilt from what its claim recorded (same id, same terms). */
function rebuild(
  s: SweepContext,
  sp: SpreadPosition,
  pe: SpreadPendingExit,
  input: SpreadActInput,
): Planned | null {
  const limit = pe.limit_price;
  if (pe.kind === 'mleg') {
    const order = buildSpreadCloseOrder({
      account: s.account.name,
      spreadId: sp.position_id,
      seq: pe.seq,
      step: { kind: 'mleg', multiple: pe.qty, legs: sp.legs },
      limitPrice: limit,
    });
    // Never more than every leg confirms now.
    const probe = planSpreadClose({
      spreadId: sp.position_id,
      legs: sp.legs,
      multiple: pe.qty,
      wantedMultiple: pe.qty,
      broker: brokerView(s, sp),
    });
    const mleg = probe.steps.find((x) => x.kind === 'mleg');
    if (!mleg || mleg.multiple < pe.qty) return null;
    return { exit: pe, send: () => s.deps.broker.submitMlegOrder(order) };
  }
  if (pe.kind === 'single' && pe.option_symbol && pe.side) {
    const built = buildSpreadLegCloseOrder({
      step: {
        kind: 'single',
        option_symbol: pe.option_symbol,
        side: pe.side,
        qty: pe.qty,
        why: 'buy_back_orphaned_short',
      },
      broker: s.snap.brokerBySymbol.get(pe.option_symbol),
      clientOrderId: pe.client_order_id,
      limitPrice: limit,
    });
    return built.ok && built.order.qty === pe.qty
      ? { exit: pe, send: () => s.deps.broker.submitOrder(built.order) }
      : null;
  }
  if (pe.kind === 'shares' && pe.option_symbol && pe.side) {
    const leg = sp.legs.find((l) => l.option_symbol === pe.option_symbol);
    const underlying = leg?.ledger.events.find((e) => e.shares !== 0)?.underlying;
    const held = underlying ? s.snap.brokerBySymbol.get(underlying) : undefined;
    const side = pe.side === 'sell' ? 'long' : 'short';
    if (!underlying || !held || held.side !== side || Math.floor(held.qty_available) < pe.qty) return null;
    const order: OrderRequest = {
      symbol: underlying,
      qty: pe.qty,
      side: pe.side,
      type: 'market',
      time_in_force: 'day',
      client_order_id: pe.client_order_id,
    };
    return { exit: pe, send: () => s.deps.broker.submitOrder(order) };
  }
  void input;
  return null;
}
