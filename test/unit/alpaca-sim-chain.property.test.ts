/**
 * The simulator's option chains are free of static arbitrage, whatever the underlying, the volatility and
 * the random walk do: for each expiry, call quotes never rise with the strike, put quotes never fall, and
 * no contract is quoted below its intrinsic value against the underlying's current price.
 */
import fc from 'fast-check';
import { mulberry32, SimMarket } from '../../local/alpaca-sim/market';

const NOW = new Date('2028-03-06T15:00:00Z');
const EXPIRIES = ['2028-03-07', '2028-03-27', '2028-04-20'];

/** Every violation of the no-arbitrage bounds in `market`'s chain of `underlying` (empty when none). */
function violations(market: SimMarket, underlying: string): string[] {
  const spot = market.stockPrices.get(underlying)!.price;
  const out: string[] = [];
  const contracts = [...market.contracts.values()].filter((c) => c.underlying === underlying);
  for (const expiry of new Set(contracts.map((c) => c.expiry))) {
    for (const type of ['call', 'put'] as const) {
      const list = contracts
        .filter((c) => c.expiry === expiry && c.type === type)
        .sort((a, b) => a.strike - b.strike)
        .map((c) => ({ c, q: market.quotes.get(c.symbol)! }));
      for (const { c, q } of list) {
        const intrinsic = type === 'call' ? Math.max(0, spot - c.strike) : Math.max(0, c.strike - spot);
        if (q.bid < intrinsic - 1e-9)
          out.push(`${c.symbol} bid ${q.bid} below intrinsic ${intrinsic} (spot ${spot})`);
        if (q.ask < q.bid) out.push(`${c.symbol} ask ${q.ask} below bid ${q.bid}`);
      }
      for (let i = 1; i < list.length; i++) {
        const [lo, hi] = [list[i - 1], list[i]];
        // Calls: the higher strike is worth no more. Puts: no less.
        const [rich, cheap] = type === 'call' ? [lo, hi] : [hi, lo];
        for (const side of ['bid', 'ask'] as const) {
          if (cheap.q[side] > rich.q[side] + 1e-9)
            out.push(
              `${cheap.c.symbol} ${side} ${cheap.q[side]} above ${rich.c.symbol} ${side} ${rich.q[side]}`,
            );
        }
      }
    }
  }
  return out;
}

describe('simulated option chains', () => {
  it('the chain that broke: GOOGL at 180 (IV 0.32, 2.5 strikes), walked 200 steps at the local volatility', () => {
    const market = new SimMarket(() => NOW);
    const strikes = Array.from({ length: 19 }, (_, i) => 157.5 + i * 2.5);
    market.addChain({
      underlying: 'GOOGL',
      underlyingPrice: 180,
      expiries: EXPIRIES,
      strikes,
      impliedVolatility: 0.32,
    });
    const rng = mulberry32(1);
    for (let i = 0; i < 200; i++) {
      market.stepMarket(rng, 0.015);
      expect(violations(market, 'GOOGL')).toEqual([]);
    }
    // The underlying moved, and its chain with it.
    expect(market.stockPrices.get('GOOGL')!.price).not.toBe(180);
  });

  it('property: no arbitrage for any spot, volatility, strike grid and walk', () => {
    fc.assert(
      fc.property(
        fc.record({
          spot: fc.double({ min: 5, max: 800, noNaN: true }),
          iv: fc.double({ min: 0.05, max: 1.5, noNaN: true }),
          stepPct: fc.double({ min: 0.005, max: 0.05, noNaN: true }),
          count: fc.integer({ min: 2, max: 15 }),
          spreadPct: fc.double({ min: 0, max: 0.3, noNaN: true }),
          seed: fc.integer(),
          steps: fc.integer({ min: 0, max: 15 }),
          volatility: fc.double({ min: 0, max: 0.2, noNaN: true }),
        }),
        (p) => {
          const market = new SimMarket(() => NOW);
          const step = Math.max(0.5, Math.round(p.spot * p.stepPct * 2) / 2);
          const atm = Math.round(p.spot / step) * step;
          const strikes = Array.from(
            { length: 2 * p.count + 1 },
            (_, i) => atm + (i - p.count) * step,
          ).filter((k) => k > 0);
          market.addChain({
            underlying: 'XYZ',
            underlyingPrice: Math.round(p.spot * 100) / 100,
            expiries: EXPIRIES,
            strikes,
            impliedVolatility: p.iv,
            spreadPct: p.spreadPct,
          });
          expect(violations(market, 'XYZ')).toEqual([]);
          const rng = mulberry32(p.seed);
          for (let i = 0; i < p.steps; i++) {
            market.stepMarket(rng, p.volatility);
            expect(violations(market, 'XYZ')).toEqual([]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
