/**
 * A spread's prices from its legs' quotes (dollars per share, per multiple): what opening costs, what closing
 * yields now (the net executable value the exit rules use), the net limit of a closing mleg order, and gains
 * as shares of the spread's maximum profit and loss. Pure.
 */
import type { HeldSpreadLeg } from './spread-types';

/** Best bid and ask of one contract, per share. */
export interface LegQuote {
  readonly bid: number;
  readonly ask: number;
}

/** Result of a price: the number, or the leg whose quote cannot price it. */
export type SpreadPrice =
  { readonly ok: true; readonly perShare: number } | { readonly ok: false; readonly reason: string };

const cents = (x: number) => Math.round(x * 100) / 100;

function quoteOf(
  quotes: ReadonlyMap<string, LegQuote>,
  symbol: string,
  need: 'bid' | 'ask',
): number | string {
  const q = quotes.get(symbol);
  if (!q) return `no quote for ${symbol}`;
  const v = q[need];
  if (!Number.isFinite(v) || v < 0 || (need === 'ask' && v <= 0)) return `no usable ${need} for ${symbol}`;
  if (Number.isFinite(q.bid) && Number.isFinite(q.ask) && q.ask < q.bid) return `crossed quote for ${symbol}`;
  return v;
}

/**
 * What opening one multiple costs now, per share: the buys at their asks minus the sells at their bids
 * (positive = a net debit, negative = a net credit), as the mleg limit convention signs it.
 */
export function netOpenPrice(
  legs: ReadonlyArray<{
    readonly option_symbol: string;
    readonly side: 'buy' | 'sell';
    readonly ratio_qty: number;
  }>,
  quotes: ReadonlyMap<string, LegQuote>,
): SpreadPrice {
  let net = 0;
  for (const l of legs) {
    const p = quoteOf(quotes, l.option_symbol, l.side === 'buy' ? 'ask' : 'bid');
    if (typeof p === 'string') return { ok: false, reason: p };
    net += (l.side === 'buy' ? p : -p) * l.ratio_qty;
  }
  return { ok: true, perShare: cents(net) };
}

/**
 * The spread's net executable value, per share of one multiple: what closing it yields now. The long legs
 * are sold at their bids and the short legs bought back at their asks, so for a debit spread it is what
 * selling it brings (long bids - short asks) and for a credit spread it is minus what buying it back costs.
 * A long leg with no bid counts 0 (nothing to sell into); a short leg with no ask cannot be priced.
 */
export function netCloseValue(
  legs: readonly HeldSpreadLeg[],
  quotes: ReadonlyMap<string, LegQuote>,
): SpreadPrice {
  let net = 0;
  for (const l of legs) {
    if (l.side === 'long') {
      const q = quotes.get(l.option_symbol);
      if (!q) return { ok: false, reason: `no quote for ${l.option_symbol}` };
      if (Number.isFinite(q.ask) && Number.isFinite(q.bid) && q.ask < q.bid) {
        return { ok: false, reason: `crossed quote for ${l.option_symbol}` };
      }
      net += (Number.isFinite(q.bid) && q.bid > 0 ? q.bid : 0) * l.ratio_qty;
    } else {
      const p = quoteOf(quotes, l.option_symbol, 'ask');
      if (typeof p === 'string') return { ok: false, reason: p };
      net -= p * l.ratio_qty;
    }
  }
  return { ok: true, perShare: cents(net) };
}

/**
 * The net limit of a closing mleg order from the value it should get: the close receives the value (a
 * negative limit, a credit) or pays minus it (a positive limit, a debit). Rounded up to the cent, the
 * direction that keeps the close marketable (pay a little more, receive a little less).
 */
export function closeLimitFromValue(valuePerShare: number): number {
  const limit = -valuePerShare;
  return Math.ceil(Math.round(limit * 1e6) / 1e4) / 100;
}

/**
 * Gain of a spread now, per share of one multiple: the close value minus the net open price (a debit paid
 * is positive, a credit received negative). Signed: positive is a profit.
 */
export function spreadGainPerShare(netOpenPerShare: number, closeValuePerShare: number): number {
  return cents(closeValuePerShare - netOpenPerShare);
}

/**
 * Gain as the share the exit rules compare with `take_profit_pct` / `stop_loss_pct`. A debit spread: of the
 * debit paid (as a single leg's premium). A credit spread: a profit as a share of the maximum profit (the
 * credit), a loss as a share of the maximum loss (width x 100 - credit, per share here), so a 50% take profit
 * on a credit spread means half the credit kept. Null when the basis is 0 or unknown.
 */
export function spreadGainFraction(args: {
  readonly netOpenPerShare: number;
  readonly closeValuePerShare: number;
  /** Per share of one multiple (dollars / 100); needed for a credit spread's loss. */
  readonly maxLossPerShare: number | null;
}): number | null {
  const gain = args.closeValuePerShare - args.netOpenPerShare;
  if (args.netOpenPerShare > 0) return gain / args.netOpenPerShare;
  const credit = -args.netOpenPerShare;
  if (gain >= 0) return credit > 0 ? gain / credit : null;
  const maxLoss = args.maxLossPerShare;
  return maxLoss !== null && Number.isFinite(maxLoss) && maxLoss > 0 ? gain / maxLoss : null;
}
