/**
 * What a spread's orders did, learnt from the broker: the opening mleg order (its legs' fills on their
 * ledgers; the claim resumed or abandoned) and the exit step in flight (an mleg close, a single-leg close
 * of an orphan, or the sale of delivered shares). Each report is booked on the legs' ledgers, so a repeat
 * books nothing (safety rule 8); every change goes through spread-lifecycle.ts.
 */
import { bookedActivityIds } from '../../domain/ledger';
import { applyOrderReport } from '../../domain/ledger';
import {
  isTerminalStatus,
  spreadBooked,
  spreadClaimAbandoned,
  spreadExitEnded,
  spreadExitSent,
  spreadOpenLearned,
} from '../../domain/spread-lifecycle';
import {
  bookLegOrder,
  bookMlegOrder,
  type LegsBooking,
  type SpreadPendingExit,
  type SpreadPosition,
} from '../../domain/spread-position';
import type { BrokerOrder } from '../../ports';
import type { SweepContext } from './context';
import { knownOrder } from './snapshot';

/** The order `clientOrderId` as the snapshot knows it, else looked up (null: the broker has none). */
async function orderOf(s: SweepContext, clientOrderId: string): Promise<BrokerOrder | null> {
  return knownOrder(s.snap, clientOrderId) ?? (await s.deps.broker.getOrderByClientOrderId(clientOrderId));
}

/** Is the opening order still to be learnt (the record pending, or a leg's ledger shows it working)? */
function openStillWorking(sp: SpreadPosition): boolean {
  if (sp.state === 'pending' || sp.state === 'submitting') return true;
  return sp.legs.some((l) => {
    const o = l.ledger.orders.find((x) => x.client_order_id === sp.open_client_order_id);
    return o !== undefined && !isTerminalStatus(o.status);
  });
}

/**
 * Learns the opening order: a claim older than the lease is looked up (found: recorded; not found after
 * the message's age limit as well: closed `not_sent`), a pending or partly filled one is read again.
 */
export async function learnSpreadOpen(s: SweepContext, sp: SpreadPosition): Promise<SpreadPosition> {
  if (!openStillWorking(sp)) return sp;
  const age = s.now().getTime() - Date.parse(sp.created_at);
  if (sp.state === 'submitting' && age < s.leaseMs) return sp;
  const order = await orderOf(s, sp.open_client_order_id);
  if (!order) {
    const maxAgeMs = s.account.limits.max_recommendation_age_minutes * 60_000 + s.leaseMs;
    if (sp.state === 'submitting' && age >= maxAgeMs) {
      return s.deps.spreads!.replaceSpread(sp, spreadClaimAbandoned(sp, s.nowIso()));
    }
    if (sp.state === 'pending') {
      s.alert(
        'open_order_missing',
        sp.legs[0]!.option_symbol,
        `spread ${sp.position_id}: opening order unknown`,
      );
    }
    return sp;
  }
  const booked = bookMlegOrder(sp, 'open', order, s.nowIso());
  alertRefusals(s, sp, booked);
  const next = spreadOpenLearned(sp, order, booked.legs, s.nowIso());
  if (!booked.changed && next.state === sp.state && next.open_order_id === sp.open_order_id) return sp;
  return s.deps.spreads!.replaceSpread(sp, next);
}

/**
 * Learns the exit step in flight: its order's fills booked on the legs it names; when the order ended, the
 * step is cleared (and the spread closed when nothing is left on any leg). An order the broker does not
 * have is left to the send step (which looks it up before sending again).
 */
export async function learnSpreadExit(s: SweepContext, sp: SpreadPosition): Promise<SpreadPosition> {
  const pe = sp.pending_exit;
  if (!pe) return sp;
  if (pe.order_id === null && pe.send_failed_at === null) {
    // Outcome unknown (a crash, a timeout): only after the claim lease may it be looked up and resumed.
    if (s.now().getTime() - Date.parse(pe.claimed_at) < s.leaseMs) return sp;
  }
  const order = await orderOf(s, pe.client_order_id);
  if (!order) return sp;
  const booked = bookExitOrder(sp, pe, order, s.nowIso());
  alertRefusals(s, sp, booked);
  if (isTerminalStatus(order.status)) {
    const repriced = order.status === 'canceled' && pe.order_type === 'limit';
    const next = spreadExitEnded(sp, booked.legs, s.nowIso(), repriced);
    const stored = await s.deps.spreads!.replaceSpread(sp, next);
    if (order.status === 'rejected') {
      s.alert(
        'exit_rejected',
        sp.legs[0]!.option_symbol,
        `spread ${sp.position_id}: exit ${pe.seq} rejected`,
      );
    }
    return stored;
  }
  // A step resumed after a lost reply learns its order's id here.
  const withOrderId = pe.order_id === null ? spreadExitSent(sp, order, s.nowIso()) : sp;
  if (!booked.changed && withOrderId === sp) return sp;
  return s.deps.spreads!.replaceSpread(sp, spreadBooked(withOrderId, booked.legs, s.nowIso()));
}

/** Books an exit step's order on the legs: an mleg close on each leg, a single close or a share sale on its leg. */
export function bookExitOrder(
  sp: SpreadPosition,
  pe: SpreadPendingExit,
  order: BrokerOrder,
  at: string,
): LegsBooking {
  if (pe.kind === 'mleg') return bookMlegOrder(sp, 'exit', order, at);
  if (pe.kind === 'single') return bookLegOrder(sp, order, at);
  // Shares: on the leg whose option event delivered them.
  const refused: string[] = [];
  let changed = false;
  const legs = sp.legs.map((leg) => {
    if (leg.option_symbol !== pe.option_symbol) return leg;
    const a = applyOrderReport(leg.ledger, 'share_flatten', order, at);
    if (a.note.startsWith('refused')) refused.push(`${leg.option_symbol}: ${a.note}`);
    if (a.ledger === leg.ledger) return leg;
    changed = true;
    return { ...leg, ledger: a.ledger };
  });
  return { legs, changed, refused };
}

/** Alerts `ledger_refused` for a report a leg's ledger could not book (the first time per spread). */
export function alertRefusals(s: SweepContext, sp: SpreadPosition, booked: LegsBooking): void {
  for (const r of booked.refused) {
    s.alert('ledger_refused', sp.legs[0]!.option_symbol, `spread ${sp.position_id}: ${r}`);
  }
}

/** Activity ids already booked on any leg. */
export function bookedIdsOf(sp: SpreadPosition): Set<string> {
  const ids = new Set<string>();
  for (const l of sp.legs) for (const id of bookedActivityIds(l.ledger)) ids.add(id);
  return ids;
}
