/**
 * SYNTHETIC option bars in Alpaca's `GET /v1beta1/options/bars` format, made by the Alpaca simulator's
 * own random walk (`SimMarket.stepMarket`, seeded mulberry32): for the lab's bundled example and tests.
 * Not market data.
 */
import { mulberry32, SimMarket } from '../../local/alpaca-sim/market';

export interface SyntheticBarsOptions {
  readonly symbols: ReadonlyArray<{ readonly symbol: string; readonly start: number }>;
  /** First bar's time. */
  readonly from: Date;
  readonly bars: number;
  /** @default 60000 (1Min) */
  readonly barMs?: number;
  /** Random-walk steps per bar (the bar's open, high, low and close come from them). @default 6 */
  readonly stepsPerBar?: number;
  /** Standard deviation of one step's log-return. @default 0.006 */
  readonly volatility?: number;
  readonly seed: number;
}

/** An Alpaca bars response: `{ bars: { SYMBOL: [{ t, o, h, l, c, v, n, vw }] }, next_page_token: null }`. */
export function syntheticBars(opts: SyntheticBarsOptions): {
  bars: Record<string, Array<Record<string, number | string>>>;
  next_page_token: null;
} {
  let now = opts.from.getTime();
  const market = new SimMarket(() => new Date(now));
  const rng = mulberry32(opts.seed);
  const barMs = opts.barMs ?? 60_000;
  const steps = opts.stepsPerBar ?? 6;
  const out: Record<string, Array<Record<string, number | string>>> = {};
  for (const s of opts.symbols) {
    // A one-cent spread: the walk moves the mid; the bar is built from the mids.
    market.setQuote(s.symbol, { bid: cents(s.start - 0.005), ask: cents(s.start + 0.005) });
    out[s.symbol] = [];
  }
  const mid = (symbol: string) => {
    const q = market.quotes.get(symbol)!;
    return cents((q.bid + q.ask) / 2);
  };
  for (let i = 0; i < opts.bars; i++) {
    const t = new Date(opts.from.getTime() + i * barMs).toISOString().replace('.000Z', 'Z');
    const path = new Map(opts.symbols.map((s) => [s.symbol, [mid(s.symbol)]]));
    for (let k = 0; k < steps; k++) {
      now += barMs / steps;
      market.stepMarket(rng, opts.volatility ?? 0.006);
      for (const s of opts.symbols) path.get(s.symbol)!.push(mid(s.symbol));
    }
    for (const s of opts.symbols) {
      const p = path.get(s.symbol)!.slice(1);
      const volume = 1 + Math.floor(rng() * 40);
      out[s.symbol].push({
        t,
        o: p[0],
        h: Math.max(...p),
        l: Math.min(...p),
        c: p[p.length - 1],
        v: volume,
        n: Math.max(1, Math.floor(volume / 3)),
        vw: cents(p.reduce((a, b) => a + b, 0) / p.length),
      });
    }
  }
  return { bars: out, next_page_token: null };
}

function cents(x: number): number {
  return Math.round(x * 100) / 100;
}
