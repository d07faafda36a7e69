/**
 * The simulator's market: quotes, last trades, option contracts (with greeks, volume and open interest),
 * stock prices, and a seeded random walk that moves them. Pure state and arithmetic, no HTTP.
 */
import { formatOcc, parseOcc } from './occ';

/** A two-sided quote, per share. */
export interface SimQuote {
  readonly bid: number;
  readonly ask: number;
  readonly bidSize: number;
  readonly askSize: number;
  /** When the quote was made (ISO). */
  readonly time: string;
}

/** Input of `setQuote`: sizes default to 10, time to the simulator's `now()`. */
export interface SimQuoteInput {
  readonly bid: number;
  readonly ask: number;
  readonly bidSize?: number;
  readonly askSize?: number;
  readonly time?: string | Date;
}

/** The last trade of a symbol, per share. */
export interface SimTrade {
  readonly price: number;
  readonly size: number;
  readonly time: string;
}

/** An option contract the simulator knows (for `/v2/options/contracts` and chain snapshots). */
export interface SimContract {
  readonly symbol: string;
  readonly underlying: string;
  readonly root: string;
  /** `YYYY-MM-DD`. */
  readonly expiry: string;
  readonly type: 'call' | 'put';
  readonly strike: number;
  readonly openInterest: number | null;
  /** Today's traded volume (contracts); shown as the snapshot's `dailyBar.v`. */
  readonly volume: number | null;
  readonly delta: number | null;
  readonly gamma: number | null;
  readonly theta: number | null;
  readonly vega: number | null;
  readonly rho: number | null;
  readonly impliedVolatility: number | null;
  readonly closePrice: number | null;
}

/** Input of `addContract`: the OCC symbol is enough; everything else is optional. */
export interface SimContractInput {
  readonly symbol: string;
  readonly openInterest?: number | null;
  readonly volume?: number | null;
  readonly delta?: number | null;
  readonly gamma?: number | null;
  readonly theta?: number | null;
  readonly vega?: number | null;
  readonly rho?: number | null;
  readonly impliedVolatility?: number | null;
  readonly closePrice?: number | null;
  /** Also quote the contract. */
  readonly quote?: SimQuoteInput;
}

/** Input of `addChain`: a grid of contracts priced with Black-Scholes from one implied volatility. */
export interface SimChainInput {
  readonly underlying: string;
  /** Per share; also becomes the stock's latest trade price. */
  readonly underlyingPrice: number;
  /** `YYYY-MM-DD` each. */
  readonly expiries: readonly string[];
  readonly strikes: readonly number[];
  /** @default ['call', 'put'] */
  readonly types?: readonly ('call' | 'put')[];
  /** Annualised implied volatility. @default 0.3 */
  readonly impliedVolatility?: number;
  /** Bid-ask spread as a fraction of the theoretical price (at least one cent each side). @default 0.04 */
  readonly spreadPct?: number;
  /** @default 500 */
  readonly openInterest?: number;
  /** @default 100 */
  readonly volume?: number;
  /** Risk-free rate. @default 0.04 */
  readonly rate?: number;
}

/** Options of the random walk. */
export interface RandomWalkOptions {
  /** PRNG seed; the same seed gives the same path. */
  readonly seed: number;
  /** @default 1000 */
  readonly intervalMs?: number;
  /** Standard deviation of each step's log-return of the mid. @default 0.01 */
  readonly volatility?: number;
}

/** A listed chain: how its contracts are quoted from the underlying. */
interface SimChain {
  readonly underlying: string;
  readonly impliedVolatility: number;
  readonly rate: number;
  readonly spreadPct: number;
  readonly symbols: Set<string>;
}

/** Years from `now` to `expiry`'s 4 pm New York (~21:00 UTC); a floor keeps same-day contracts priceable. */
function yearsTo(expiry: string, now: Date): number {
  return Math.max((Date.parse(`${expiry}T21:00:00Z`) - now.getTime()) / 31_557_600_000, 1 / 3650);
}

/** mulberry32: a tiny, fast, seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rounds a per-share price to whole cents. */
export function cents(price: number): number {
  return Math.round(price * 100) / 100;
}

/** The quotes, trades and contracts of the simulated market. */
export class SimMarket {
  readonly quotes = new Map<string, SimQuote>();
  readonly trades = new Map<string, SimTrade>();
  readonly contracts = new Map<string, SimContract>();
  readonly stockPrices = new Map<string, SimTrade>();
  /** The chains `addChain` listed, by underlying: quoted together from the stock's price. */
  private readonly chains = new Map<string, SimChain>();
  /** Every trade of every symbol, oldest first. */
  readonly tradeLog = new Map<string, SimTrade[]>();
  /** Assets get stable ids so orders and positions can carry `asset_id`. */
  private readonly assetIds = new Map<string, string>();

  constructor(private readonly now: () => Date) {}

  assetId(symbol: string): string {
    let id = this.assetIds.get(symbol);
    if (!id) {
      id = crypto.randomUUID();
      this.assetIds.set(symbol, id);
    }
    return id;
  }

  /**
   * Quotes `symbol` by hand. A chain contract quoted this way leaves its chain: it is no longer quoted
   * from the underlying (a test or the demo sets its price) and walks on its own.
   */
  setQuote(symbol: string, q: SimQuoteInput): SimQuote {
    for (const chain of this.chains.values()) chain.symbols.delete(symbol);
    if (!(q.bid >= 0) || !(q.ask >= 0)) throw new Error(`setQuote ${symbol}: bid and ask must be >= 0`);
    if (q.ask > 0 && q.bid > q.ask) throw new Error(`setQuote ${symbol}: bid ${q.bid} above ask ${q.ask}`);
    const time = q.time === undefined ? this.now() : new Date(q.time);
    const quote: SimQuote = {
      bid: q.bid,
      ask: q.ask,
      bidSize: q.bidSize ?? 10,
      askSize: q.askSize ?? 10,
      time: time.toISOString(),
    };
    this.putQuote(symbol, quote);
    return quote;
  }

  /** Called with every quote the market makes (the bar recorder of `bar-book.ts` listens). */
  readonly quoteListeners: Array<(symbol: string, quote: SimQuote) => void> = [];

  private putQuote(symbol: string, quote: SimQuote): void {
    this.quotes.set(symbol, quote);
    for (const l of this.quoteListeners) l(symbol, quote);
  }

  recordTrade(symbol: string, price: number, size: number): void {
    const trade = { price, size, time: this.now().toISOString() };
    this.trades.set(symbol, trade);
    let log = this.tradeLog.get(symbol);
    if (!log) this.tradeLog.set(symbol, (log = []));
    log.push(trade);
  }

  /** True when the symbol is a known contract, quoted, traded or a stock with a price. */
  knows(symbol: string): boolean {
    return (
      this.contracts.has(symbol) ||
      this.quotes.has(symbol) ||
      this.trades.has(symbol) ||
      this.stockPrices.has(symbol)
    );
  }

  setStockPrice(symbol: string, price: number): void {
    this.stockPrices.set(symbol, { price, size: 100, time: this.now().toISOString() });
  }

  addContract(input: SimContractInput): SimContract {
    const c = parseOcc(input.symbol);
    if (!c) throw new Error(`addContract: ${input.symbol} is not an OCC option symbol`);
    const contract: SimContract = {
      symbol: c.symbol,
      underlying: c.underlying,
      root: c.root,
      expiry: c.expiry,
      type: c.type,
      strike: c.strike,
      openInterest: input.openInterest ?? null,
      volume: input.volume ?? null,
      delta: input.delta ?? null,
      gamma: input.gamma ?? null,
      theta: input.theta ?? null,
      vega: input.vega ?? null,
      rho: input.rho ?? null,
      impliedVolatility: input.impliedVolatility ?? null,
      closePrice: input.closePrice ?? null,
    };
    this.contracts.set(contract.symbol, contract);
    if (input.quote) this.setQuote(contract.symbol, input.quote);
    return contract;
  }

  addChain(input: SimChainInput): SimContract[] {
    const iv = input.impliedVolatility ?? 0.3;
    const rate = input.rate ?? 0.04;
    const spreadPct = input.spreadPct ?? 0.04;
    const now = this.now();
    this.setStockPrice(input.underlying, input.underlyingPrice);
    const chain = this.chains.get(input.underlying) ?? {
      underlying: input.underlying,
      impliedVolatility: iv,
      rate,
      spreadPct,
      symbols: new Set<string>(),
    };
    this.chains.set(input.underlying, chain);
    const out: SimContract[] = [];
    for (const expiry of input.expiries) {
      const years = yearsTo(expiry, now);
      for (const strike of input.strikes) {
        for (const type of input.types ?? (['call', 'put'] as const)) {
          const g = blackScholes(type, input.underlyingPrice, strike, years, rate, iv);
          const symbol = formatOcc(input.underlying, expiry, type, strike);
          out.push(
            this.addContract({
              symbol,
              openInterest: input.openInterest ?? 500,
              volume: input.volume ?? 100,
              delta: round4(g.delta),
              gamma: round4(g.gamma),
              theta: round4(g.theta),
              vega: round4(g.vega),
              rho: round4(g.rho),
              impliedVolatility: iv,
              closePrice: cents(Math.max(g.price, 0.02)),
            }),
          );
          chain.symbols.add(symbol);
        }
      }
    }
    this.priceChain(input.underlying);
    return out;
  }

  /**
   * Quotes every contract of `underlying`'s chain from the stock's last price, free of static arbitrage:
   * for each expiry, call quotes never rise with the strike, put quotes never fall, and no bid is below
   * the contract's intrinsic value (so no ask is either). The theoretical price is Black-Scholes, floored
   * at intrinsic + half the spread; the bid and ask are then made monotone across strikes (a cumulative
   * minimum from the cheap side), which keeps both bounds. Returns the symbols quoted.
   */
  priceChain(underlying: string): string[] {
    const chain = this.chains.get(underlying);
    const spot = this.stockPrices.get(underlying)?.price;
    if (!chain || !(spot !== undefined && spot > 0)) return [];
    const now = this.now();
    // Group the chain's contracts by expiry and type.
    const groups = new Map<string, SimContract[]>();
    for (const symbol of chain.symbols) {
      const c = this.contracts.get(symbol);
      if (!c) continue;
      const key = `${c.expiry}|${c.type}`;
      const list = groups.get(key) ?? [];
      list.push(c);
      groups.set(key, list);
    }
    const quoted: string[] = [];
    for (const list of groups.values()) {
      const type = list[0].type;
      const years = yearsTo(list[0].expiry, now);
      // The cumulative minimum runs from the expensive end to the cheap one: calls by rising strike, puts
      // by falling strike (intrinsic value falls the same way, so the floor survives it).
      list.sort((a, b) => (type === 'call' ? a.strike - b.strike : b.strike - a.strike));
      let prevBid = Infinity;
      let prevAsk = Infinity;
      for (const c of list) {
        const intrinsic = type === 'call' ? Math.max(0, spot - c.strike) : Math.max(0, c.strike - spot);
        const bs = blackScholes(type, spot, c.strike, years, chain.rate, chain.impliedVolatility).price;
        const half = Math.max(0.01, cents((Math.max(bs, 0) * chain.spreadPct) / 2));
        const mid = Math.max(bs, intrinsic + half, 0.02);
        // Whole cents that keep the bounds: the bid rounds up to intrinsic, the ask above the bid.
        const floor = Math.ceil(intrinsic * 100 - 1e-9) / 100;
        let bid = Math.max(floor, Math.max(0, cents(mid - half)));
        let ask = Math.max(cents(mid + half), cents(bid + 0.01));
        bid = Math.min(bid, prevBid);
        ask = Math.min(ask, prevAsk);
        if (ask < bid) ask = bid;
        prevBid = bid;
        prevAsk = ask;
        this.putQuote(c.symbol, { bid, ask, bidSize: 10, askSize: 10, time: now.toISOString() });
        quoted.push(c.symbol);
      }
    }
    return quoted;
  }

  /**
   * Moves the market one step. A chain's underlying follows a log-normal random walk (standard deviation
   * `volatility / 10` per step: an option moves several times its stock) and its whole chain is quoted
   * again from it ({@link priceChain}), so the chain stays free of arbitrage. Every other quoted symbol
   * (a contract quoted by hand with `setQuote`, a stock quote) walks on its own: its mid by a log-normal
   * step of `volatility`, its spread (in cents) kept, prices at least one cent. Returns the symbols moved.
   */
  stepMarket(rng: () => number, volatility = 0.01): string[] {
    const moved: string[] = [];
    const time = this.now().toISOString();
    const inChain = new Set<string>();
    for (const underlying of [...this.chains.keys()].sort()) {
      const last = this.stockPrices.get(underlying);
      const chain = this.chains.get(underlying)!;
      for (const s of chain.symbols) inChain.add(s);
      if (!last) continue;
      const next = Math.max(0.01, cents(last.price * Math.exp((volatility / 10) * gaussian(rng))));
      this.stockPrices.set(underlying, { ...last, price: next, time });
      moved.push(...this.priceChain(underlying));
    }
    for (const symbol of [...this.quotes.keys()].sort()) {
      if (inChain.has(symbol)) continue;
      const q = this.quotes.get(symbol)!;
      const mid = (q.bid + q.ask) / 2;
      if (!(mid > 0)) continue;
      const spread = Math.max(0.01, q.ask - q.bid);
      const newMid = Math.max(0.01 + spread / 2, mid * Math.exp(volatility * gaussian(rng)));
      const bid = Math.max(0, cents(newMid - spread / 2));
      const ask = Math.max(bid + 0.01, cents(newMid + spread / 2));
      this.putQuote(symbol, { ...q, bid, ask: cents(ask), time });
      moved.push(symbol);
    }
    return moved;
  }

  /** The snapshot of one symbol in Alpaca's data-API shape (numbers as JSON numbers), or null if it has no data. */
  snapshot(symbol: string): Record<string, unknown> | null {
    const q = this.quotes.get(symbol);
    const t = this.trades.get(symbol);
    if (!q && !t) return null;
    const c = this.contracts.get(symbol);
    const snap: Record<string, unknown> = {};
    if (q) {
      snap.latestQuote = {
        ap: q.ask,
        as: q.askSize,
        ax: 'C',
        bp: q.bid,
        bs: q.bidSize,
        bx: 'C',
        c: 'A',
        t: q.time,
      };
    }
    if (t) snap.latestTrade = { c: 'I', p: t.price, s: t.size, t: t.time, x: 'C' };
    if (c && c.delta !== null) {
      snap.greeks = {
        delta: c.delta,
        gamma: c.gamma ?? 0,
        rho: c.rho ?? 0,
        theta: c.theta ?? 0,
        vega: c.vega ?? 0,
      };
    }
    if (c && c.impliedVolatility !== null) snap.impliedVolatility = c.impliedVolatility;
    if (c && c.volume !== null) {
      const px = t?.price ?? c.closePrice ?? (q ? cents((q.bid + q.ask) / 2) : 0);
      const day = `${(q?.time ?? t?.time ?? this.now().toISOString()).slice(0, 10)}T04:00:00Z`;
      snap.dailyBar = { c: px, h: px, l: px, n: c.volume > 0 ? 1 : 0, o: px, t: day, v: c.volume, vw: px };
    }
    return snap;
  }
}

/** A standard normal draw from two uniforms (Box-Muller). */
function gaussian(rng: () => number): number {
  const u = Math.max(rng(), Number.EPSILON);
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

function normCdf(x: number): number {
  // Abramowitz-Stegun 7.1.26 (error < 1.5e-7): plenty for a simulator.
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp((-x * x) / 2);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

function normPdf(x: number): number {
  return Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
}

/** Black-Scholes price and greeks (theta per day, vega and rho per 1 point). */
export function blackScholes(
  type: 'call' | 'put',
  spot: number,
  strike: number,
  years: number,
  rate: number,
  vol: number,
): { price: number; delta: number; gamma: number; theta: number; vega: number; rho: number } {
  const sqrtT = Math.sqrt(years);
  const d1 = (Math.log(spot / strike) + (rate + (vol * vol) / 2) * years) / (vol * sqrtT);
  const d2 = d1 - vol * sqrtT;
  const disc = Math.exp(-rate * years);
  const gamma = normPdf(d1) / (spot * vol * sqrtT);
  const vega = (spot * normPdf(d1) * sqrtT) / 100;
  if (type === 'call') {
    return {
      price: spot * normCdf(d1) - strike * disc * normCdf(d2),
      delta: normCdf(d1),
      gamma,
      theta: ((-spot * normPdf(d1) * vol) / (2 * sqrtT) - rate * strike * disc * normCdf(d2)) / 365,
      vega,
      rho: (strike * years * disc * normCdf(d2)) / 100,
    };
  }
  return {
    price: strike * disc * normCdf(-d2) - spot * normCdf(-d1),
    delta: normCdf(d1) - 1,
    gamma,
    theta: ((-spot * normPdf(d1) * vol) / (2 * sqrtT) + rate * strike * disc * normCdf(-d2)) / 365,
    vega,
    rho: (-strike * years * disc * normCdf(-d2)) / 100,
  };
}
