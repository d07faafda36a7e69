/** The broker requests the sweep's phases share: a cancel confirmed by a lookup, a fresh read of one contract. */
import { BrokerRejectedError } from '../../domain/errors';
import { TERMINAL_ORDER_STATUSES, type BrokerOrder, type BrokerPosition } from '../../ports';
import type { SweepContext } from './context';

/**
 * Cancels a working order of ours and looks it up: the order once it ended (cancelled, or filled before
 * the cancel landed), null while the cancel is not confirmed (the next sweep learns the rest). A 422 (no
 * longer cancelable) is no error: the lookup says how it ended. Any other failure is thrown (the cancel
 * may still have landed).
 */
export async function cancelAndLookUp(
  s: SweepContext,
  orderId: string,
  clientOrderId: string,
): Promise<BrokerOrder | null> {
  try {
    await s.deps.broker.cancelOrder(orderId);
  } catch (err) {
    if (!(err instanceof BrokerRejectedError)) throw err;
  }
  const after = await s.deps.broker.getOrderByClientOrderId(clientOrderId);
  return after && TERMINAL_ORDER_STATUSES.has(after.status) ? after : null;
}

/** A fresh read of one contract: the sweep's holdings and exit budget follow it. */
export async function rereadContract(s: SweepContext, symbol: string): Promise<BrokerPosition | null> {
  const held = await s.deps.broker.getPosition(symbol);
  s.allowances.noteFresh(symbol, held);
  return held;
}
