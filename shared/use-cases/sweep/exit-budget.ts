import type { BrokerOrder, BrokerPosition } from '../../ports';
import type { PositionSide } from '../../domain/position';
import { holdingOrders } from '../../domain/working-order-plan';

/**
 * The one per-contract budget every exit send spends (safety rule 3): first sends, resends, replacements
 * after a cancel, flatten, time rules and partials all take from it, so no path can sell what another
 * path of the same sweep already sold.
 *
 * It starts from the sweep's broker snapshot (held minus what working orders hold) and only ever goes down
 * by what this sweep sends, up by what a confirmed cancel of our own working order frees, and down again
 * when a fresh single-contract read shows less. What this sweep already sent is never forgotten: a fresh
 * read can lower the figure, never raise it above the snapshot minus the sends.
 */
export class ExitBudget {
  private readonly bySymbol = new Map<string, { side: PositionSide; qty: number }>();

  /**
   * `openOrders`: the snapshot's open orders. What they hold on the reducing side is never available, even
   * when the position's `qty_available` lags behind them (a 403 `insufficient qty available` otherwise).
   */
  constructor(snapshot: readonly BrokerPosition[], openOrders: readonly BrokerOrder[] = []) {
    for (const p of snapshot) {
      const held = holdingOrders(p.symbol, p.side, openOrders, '').reduce((sum, o) => sum + o.qty, 0);
      const qty = Math.max(0, Math.min(p.qty, p.qty_available, p.qty - held));
      this.bySymbol.set(p.symbol, { side: p.side, qty });
    }
  }

  /** Contracts of `symbol` on `side` this sweep may still close. */
  available(symbol: string, side: PositionSide): number {
    const b = this.bySymbol.get(symbol);
    return b && b.side === side ? b.qty : 0;
  }

  /**
   * Takes up to `wanted` contracts (synchronously, so concurrent workers of one sweep never both get the
   * same ones); returns how many were granted (0 when none).
   */
  take(symbol: string, side: PositionSide, wanted: number): number {
    const b = this.bySymbol.get(symbol);
    if (!b || b.side !== side) return 0;
    const granted = Math.max(0, Math.min(Math.floor(wanted), b.qty));
    b.qty -= granted;
    return granted;
  }

  /** The broker says at most `qty` are available now (a refusal's fresh reads): never more than that. */
  cap(symbol: string, side: PositionSide, qty: number): void {
    const b = this.bySymbol.get(symbol);
    if (b && b.side === side) b.qty = Math.max(0, Math.min(b.qty, qty));
  }

  /** Gives back contracts taken for an order that was never sent (or was refused). */
  giveBack(symbol: string, side: PositionSide, qty: number): void {
    const b = this.bySymbol.get(symbol);
    if (b && b.side === side && qty > 0) b.qty += qty;
  }

  /**
   * Our own working order on `symbol` was cancelled (confirmed) with `unfilledQty` left: the broker no
   * longer holds those contracts for it, so they are available again.
   */
  freed(symbol: string, side: PositionSide, unfilledQty: number): void {
    if (unfilledQty <= 0) return;
    const b = this.bySymbol.get(symbol);
    if (b && b.side !== side) return;
    if (b) b.qty += unfilledQty;
    else this.bySymbol.set(symbol, { side, qty: unfilledQty });
  }

  /**
   * A fresh single-contract read: the budget becomes the lower of what is left of the snapshot and what
   * the broker says is available now (null: nothing held).
   */
  refresh(symbol: string, fresh: BrokerPosition | null): void {
    const b = this.bySymbol.get(symbol);
    if (!fresh) {
      if (b) b.qty = 0;
      return;
    }
    const now = Math.max(0, Math.min(fresh.qty, fresh.qty_available));
    // Not in the snapshot: nothing was sent on it this sweep (take grants 0 there), so the fresh read is all.
    if (!b) this.bySymbol.set(symbol, { side: fresh.side, qty: now });
    else if (b.side !== fresh.side) b.qty = 0;
    else b.qty = Math.min(b.qty, now);
  }
}
