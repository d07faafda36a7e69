/**
 * The simulated market local mode starts with: option chains for a few underlyings (so recommendations
 * can name a contract or let the account's strategy profile pick one), quoted from Black-Scholes, and the
 * list the inject CLI's `--sample` draws from.
 */
import type { AlpacaSim, SimContract } from './alpaca-sim';

/** An underlying of the local market. */
export interface LocalUnderlying {
  readonly ticker: string;
  /** Per share. */
  readonly price: number;
  /** Annualised implied volatility of its chain. */
  readonly impliedVolatility: number;
  /** Distance between strikes, per share. */
  readonly strikeStep: number;
}

/**
 * Prices chosen so each builtin profile finds contracts, and INTC's are cheap enough for `tiny`
 * (max_premium_per_position 300).
 */
export const LOCAL_UNDERLYINGS: readonly LocalUnderlying[] = [
  { ticker: 'SPY', price: 600, impliedVolatility: 0.18, strikeStep: 5 },
  { ticker: 'AAPL', price: 230, impliedVolatility: 0.28, strikeStep: 2.5 },
  { ticker: 'GOOGL', price: 180, impliedVolatility: 0.32, strikeStep: 2.5 },
  { ticker: 'INTC', price: 30, impliedVolatility: 0.4, strikeStep: 0.5 },
];

/** Days to expiry of the listed expiries: next session (day trades), ~3 weeks (swing), ~6 weeks. */
const EXPIRY_OFFSETS_DAYS = [1, 21, 45] as const;

/** `YYYY-MM-DD` of `days` from `now`, moved forward to a weekday. */
function expiryAfter(now: Date, days: number): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days));
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** The expiries listed in the local market. */
export function localExpiries(now: Date): string[] {
  return [...new Set(EXPIRY_OFFSETS_DAYS.map((d) => expiryAfter(now, d)))];
}

/** Lists a chain per underlying (calls and puts, ±12% around the price) and sets the stock prices. */
export function seedLocalMarket(sim: AlpacaSim, now: Date = new Date()): SimContract[] {
  const out: SimContract[] = [];
  for (const u of LOCAL_UNDERLYINGS) {
    const atm = Math.round(u.price / u.strikeStep) * u.strikeStep;
    const count = Math.ceil((u.price * 0.12) / u.strikeStep);
    const strikes: number[] = [];
    for (let i = -count; i <= count; i++) strikes.push(Math.round((atm + i * u.strikeStep) * 100) / 100);
    out.push(
      ...sim.addChain({
        underlying: u.ticker,
        underlyingPrice: u.price,
        expiries: localExpiries(now),
        strikes,
        impliedVolatility: u.impliedVolatility,
      }),
    );
    sim.setStockPrice(u.ticker, u.price);
  }
  return out;
}
