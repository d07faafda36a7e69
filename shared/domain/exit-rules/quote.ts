/** Pricing a position from a quote, and refusing a quote that cannot be trusted. */
import type { OptionQuote } from '../broker-types';
import type { PositionSide } from '../position';
import { DEFAULT_EXIT_PRICING, type ExitPricing, type MarkMode, type QuoteCheck } from './types';
import { isFiniteNumber, positiveOrNull, px } from './util';

/**
 * The price of a position from a quote: `mid` = (bid+ask)/2; `bid_ask` = bid for a long (what selling
 * gets), ask for a short (what buying back costs). Null when that price is not a positive finite number.
 */
export function markPrice(side: PositionSide, quote: OptionQuote, mode: MarkMode): number | null {
  if (mode === 'bid_ask') return positiveOrNull(side === 'long' ? quote.bid : quote.ask);
  return positiveOrNull((quote.bid + quote.ask) / 2);
}

/**
 * Checks a quote for `symbol` at `now` and prices it. A missing, malformed, stale (older than
 * `max_quote_age_seconds`), crossed (bid > ask) or non-positive quote is refused with the reason.
 */
export function checkQuote(
  symbol: string,
  side: PositionSide,
  quote: OptionQuote | undefined | null,
  now: Date,
  pricing: ExitPricing = DEFAULT_EXIT_PRICING,
): QuoteCheck {
  if (!quote) return { ok: false, problem: 'no_quote', detail: `no quote for ${symbol}` };
  const { bid, ask } = quote;
  if (quote.symbol !== symbol) {
    return { ok: false, problem: 'bad_quote', detail: `quote is for ${quote.symbol}, not ${symbol}` };
  }
  if (!isFiniteNumber(bid) || !isFiniteNumber(ask) || bid < 0 || ask <= 0) {
    return { ok: false, problem: 'bad_quote', detail: `unusable quote bid ${bid} ask ${ask}` };
  }
  const quotedAt = Date.parse(quote.quoteTime);
  if (Number.isNaN(quotedAt)) {
    return {
      ok: false,
      problem: 'bad_quote',
      detail: `unparsable quote time ${JSON.stringify(quote.quoteTime)}`,
    };
  }
  const ageSeconds = (now.getTime() - quotedAt) / 1000;
  // A quote slightly in the future is clock skew between Alpaca and us, not a reason to distrust it.
  if (ageSeconds > pricing.max_quote_age_seconds) {
    return {
      ok: false,
      problem: 'stale_quote',
      detail: `quote is ${Math.round(ageSeconds)}s old > max ${pricing.max_quote_age_seconds}s`,
    };
  }
  if (bid > ask) {
    return { ok: false, problem: 'crossed_quote', detail: `crossed quote bid ${px(bid)} > ask ${px(ask)}` };
  }
  const mark = markPrice(side, quote, pricing.mark);
  if (mark === null) {
    return {
      ok: false,
      problem: 'bad_quote',
      detail: `no positive ${pricing.mark} price (bid ${px(bid)}, ask ${px(ask)})`,
    };
  }
  return { ok: true, mark };
}
