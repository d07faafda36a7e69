/**
 * Two checks of the spread phase that send nothing but a cancel: a working opening limit past its timeout,
 * and a spread left holding only shares the broker does not confirm (alerted once, flagged).
 */
import { BrokerRejectedError } from '../../domain/errors';
import { spreadBooked } from '../../domain/spread-lifecycle';
import { spreadBooks, type SpreadPosition } from '../../domain/spread-position';
import type { SweepContext } from './context';
import { knownOrder } from './snapshot';

/** The flag of a spread holding delivered shares (by its ledgers) that the broker does not confirm. */
export const SHARES_UNCONFIRMED_FLAG = 'shares_unconfirmed';

/**
 * A spread whose legs hold only shares an event delivered, which the broker does not confirm on that side
 * (sold by hand, or netted against another record's shares of the underlying): nothing is sent for them;
 * alerted once (`assignment_shares`) and flagged, for an operator.
 */
export async function noteUnconfirmedShares(s: SweepContext, sp: SpreadPosition): Promise<SpreadPosition> {
  if (sp.flags.includes(SHARES_UNCONFIRMED_FLAG)) return sp;
  const books = spreadBooks(sp);
  if (books.legs.some((p) => p.held > 0) || books.flat) return sp;
  s.alert(
    'assignment_shares',
    sp.ticker,
    `spread ${sp.position_id}: its legs' ledgers hold shares an option event delivered that the broker does not confirm on that side; nothing is sent for them`,
  );
  const flags = [...sp.flags, SHARES_UNCONFIRMED_FLAG];
  return s.deps.spreads!.replaceSpread(sp, spreadBooked(sp, sp.legs, s.nowIso(), { flags }));
}

/**
 * A working opening limit past `limits.entry_order_timeout_minutes` is cancelled (once the broker reports
 * it ended, spread-learn.ts books what filled: nothing closes the spread, a filled multiple is managed).
 */
export async function timeOutSpreadOpen(s: SweepContext, sp: SpreadPosition): Promise<void> {
  if (sp.open_order_type !== 'limit' || !sp.open_order_id) return;
  const order = knownOrder(s.snap, sp.open_client_order_id);
  if (!order || order.status === 'pending_cancel' || !s.snap.openOrderByClientId.has(sp.open_client_order_id))
    return;
  const ageMs = s.now().getTime() - Date.parse(sp.created_at);
  if (ageMs < s.account.limits.entry_order_timeout_minutes * 60_000) return;
  await cancelSpreadOrder(s, sp.position_id, sp.open_order_id, sp.open_client_order_id, 'entry_timeout');
}

/**
 * Asks the broker to cancel one of a spread's orders and reports it; an order that can no longer be
 * cancelled (filled or ended meanwhile: 422) is left for the next sweep to learn.
 */
export async function cancelSpreadOrder(
  s: SweepContext,
  positionId: string,
  orderId: string,
  clientOrderId: string,
  why: string,
): Promise<void> {
  try {
    await s.deps.broker.cancelOrder(orderId);
    s.report.cancelled.push({ position_id: positionId, client_order_id: clientOrderId, why });
  } catch (err) {
    if (!(err instanceof BrokerRejectedError)) throw err;
  }
}
