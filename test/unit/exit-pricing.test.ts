import fc from 'fast-check';
import {
  alignToTick,
  priceExitOrder,
  spreadTooWide,
  type ExitPricingConfig,
} from '../../shared/domain/exit-pricing';
import { parseAccountConfig } from '../../shared/domain/account-config';

/** The schema's defaults: market orders, 30% spread guard, 3 reprices. */
const DEFAULT_EXEC: ExitPricingConfig = parseAccountConfig({ name: 't' }).exit_execution;
const LIMIT_EXEC: ExitPricingConfig = { ...DEFAULT_EXEC, order_type: 'marketable_limit' };

/** True when `price` sits on the US options grid ($0.05 below $3.00, $0.10 at/above), in whole cents. */
function onGrid(price: number): boolean {
  const cents = Math.round(price * 100);
  if (Math.abs(cents - price * 100) > 1e-6) return false;
  return cents < 300 ? cents % 5 === 0 : cents % 10 === 0;
}

describe('alignToTick', () => {
  it.each([
    [2.95, 'down', 2.95],
    [2.97, 'down', 2.95],
    [2.99, 'down', 2.95],
    [3.0, 'down', 3.0],
    [3.07, 'down', 3.0],
    [12.34, 'down', 12.3],
    [0.5, 'down', 0.5],
    [0.01, 'down', 0.05],
    [0, 'down', 0.05],
    [2.93, 'up', 2.95],
    [2.97, 'up', 3.0],
    [3.0, 'up', 3.0],
    [3.01, 'up', 3.1],
    [16.0, 'up', 16.0],
    [0.01, 'up', 0.05],
  ] as const)('%p rounded %s is %p', (input, direction, expected) => {
    expect(alignToTick(input, direction)).toBe(expected);
  });

  it('keeps a float-noisy grid price on its tick (2.95 never becomes 2.90 or 2.9499999)', () => {
    const noisy = 0.1 + 2.85; // 2.9500000000000002 in binary floating point
    expect(alignToTick(noisy, 'down')).toBe(2.95);
    expect(alignToTick(2.95 * 1, 'up')).toBe(2.95);
    expect(alignToTick(1.15, 'down')).toBe(1.15); // 1.15 * 100 = 114.99999999999999
  });

  it('refuses a negative or non-finite price with a clear error', () => {
    expect(() => alignToTick(-1, 'down')).toThrow(/finite price >= 0, got -1/);
    expect(() => alignToTick(Number.NaN, 'up')).toThrow(/got NaN/);
  });
});

describe('spreadTooWide', () => {
  it('compares (ask - bid) / mid with the limit', () => {
    expect(spreadTooWide({ bid: 0.5, ask: 16 }, 0.3)).toBe(true);
    expect(spreadTooWide({ bid: 1.0, ask: 1.2 }, 0.3)).toBe(false); // 0.2 / 1.1 = 0.18
    expect(spreadTooWide({ bid: 1.0, ask: 1.4 }, 0.3)).toBe(true); // 0.4 / 1.2 = 0.33
  });

  it('is off when the limit is null or there is no quote', () => {
    expect(spreadTooWide({ bid: 0.5, ask: 16 }, null)).toBe(false);
    expect(spreadTooWide(undefined, 0.3)).toBe(false);
  });

  it('calls a quote with nothing on it too wide', () => {
    expect(spreadTooWide({ bid: 0, ask: 0 }, 0.3)).toBe(true);
  });
});

describe('priceExitOrder', () => {
  const tight = { bid: 2.0, ask: 2.1 };
  const wide = { bid: 0.5, ask: 16.0 };

  it('sends market for order_type market with a tight quote', () => {
    const p = priceExitOrder({
      side: 'long',
      quote: tight,
      exec: DEFAULT_EXEC,
      repriceCount: 0,
      marketOpen: true,
    });
    expect(p).toMatchObject({ type: 'market', limitPrice: null });
  });

  it('sends market for order_type market with no quote (nothing to guard against)', () => {
    const p = priceExitOrder({
      side: 'long',
      quote: undefined,
      exec: DEFAULT_EXEC,
      repriceCount: 0,
      marketOpen: true,
    });
    expect(p).toMatchObject({ type: 'market' });
  });

  it('never sends market into a wide spread: a long sells at the bid, a short buys at the ask', () => {
    const long = priceExitOrder({
      side: 'long',
      quote: wide,
      exec: DEFAULT_EXEC,
      repriceCount: 0,
      marketOpen: true,
    });
    const short = priceExitOrder({
      side: 'short',
      quote: wide,
      exec: DEFAULT_EXEC,
      repriceCount: 0,
      marketOpen: true,
    });
    expect(long).toMatchObject({ type: 'limit', limitPrice: 0.5 });
    expect(short).toMatchObject({ type: 'limit', limitPrice: 16.0 });
  });

  it('aligns the wide-spread limit toward marketable (a sell down, a buy up)', () => {
    const q = { bid: 3.07, ask: 6.03 };
    expect(
      priceExitOrder({ side: 'long', quote: q, exec: DEFAULT_EXEC, repriceCount: 0, marketOpen: true }),
    ).toMatchObject({ limitPrice: 3.0 });
    expect(
      priceExitOrder({ side: 'short', quote: q, exec: DEFAULT_EXEC, repriceCount: 0, marketOpen: true }),
    ).toMatchObject({ limitPrice: 6.1 });
  });

  it('sends market into a wide spread when the guard is off', () => {
    const exec = { ...DEFAULT_EXEC, max_spread_pct: null };
    expect(
      priceExitOrder({ side: 'long', quote: wide, exec, repriceCount: 0, marketOpen: true }),
    ).toMatchObject({
      type: 'market',
    });
  });

  it('prices a marketable limit through the far side by limit_slippage_pct, on the grid', () => {
    // 2.00 * 0.95 = 1.90; 2.10 * 1.05 = 2.205 -> 2.25
    expect(
      priceExitOrder({ side: 'long', quote: tight, exec: LIMIT_EXEC, repriceCount: 0, marketOpen: true }),
    ).toEqual({
      type: 'limit',
      limitPrice: 1.9,
      why: expect.stringContaining('marketable limit') as string,
    });
    expect(
      priceExitOrder({ side: 'short', quote: tight, exec: LIMIT_EXEC, repriceCount: 0, marketOpen: true }),
    ).toMatchObject({ type: 'limit', limitPrice: 2.25 });
  });

  it('goes out as market after max_reprices while the market is open, even into a wide spread', () => {
    const args = { side: 'long' as const, quote: wide, exec: DEFAULT_EXEC, repriceCount: 3 };
    expect(priceExitOrder({ ...args, marketOpen: true })).toMatchObject({ type: 'market' });
    // Closed market: keep the limit at the bid (a market order would wait for the open at any price).
    expect(priceExitOrder({ ...args, marketOpen: false })).toMatchObject({ type: 'limit', limitPrice: 0.5 });
    expect(priceExitOrder({ ...args, repriceCount: 2, marketOpen: true })).toMatchObject({ type: 'limit' });
  });

  it('cannot price a needed limit without a usable executable side', () => {
    const base = { exec: LIMIT_EXEC, repriceCount: 0, marketOpen: true };
    expect(priceExitOrder({ ...base, side: 'long', quote: undefined })).toBeNull();
    expect(priceExitOrder({ ...base, side: 'long', quote: { bid: 0, ask: 0.1 } })).toBeNull();
    expect(priceExitOrder({ ...base, side: 'short', quote: { bid: 0, ask: 0 } })).toBeNull();
    expect(priceExitOrder({ ...base, side: 'long', quote: { bid: 2.5, ask: 2.0 } })).toBeNull(); // crossed
    // A short can still buy at the ask when the bid is empty (the spread guard makes it a limit at the ask).
    expect(
      priceExitOrder({ ...base, exec: DEFAULT_EXEC, side: 'short', quote: { bid: 0, ask: 0.1 } }),
    ).toMatchObject({
      type: 'limit',
      limitPrice: 0.1,
    });
  });

  it('floors a sell limit at 0.05 (the lowest valid price)', () => {
    const p = priceExitOrder({
      side: 'long',
      quote: { bid: 0.05, ask: 0.06 },
      exec: { ...LIMIT_EXEC, limit_slippage_pct: 0.5 },
      repriceCount: 0,
      marketOpen: true,
    });
    expect(p).toMatchObject({ type: 'limit', limitPrice: 0.05 });
  });

  describe('properties', () => {
    const centsArb = fc.integer({ min: 5, max: 5000 });
    const execArb: fc.Arbitrary<ExitPricingConfig> = fc.record({
      order_type: fc.constantFrom<'market' | 'marketable_limit'>('market', 'marketable_limit'),
      limit_slippage_pct: fc.integer({ min: 0, max: 100 }).map((p) => p / 100),
      max_spread_pct: fc.option(
        fc.integer({ min: 1, max: 200 }).map((p) => p / 100),
        { nil: null },
      ),
      max_reprices: fc.integer({ min: 0, max: 5 }),
    });
    const caseArb = fc.record({
      bidCents: centsArb,
      spreadCents: fc.integer({ min: 0, max: 2000 }),
      exec: execArb,
      repriceCount: fc.integer({ min: 0, max: 6 }),
      marketOpen: fc.boolean(),
    });

    it('a sell limit is never above the bid and always on the grid', () => {
      fc.assert(
        fc.property(caseArb, ({ bidCents, spreadCents, exec, repriceCount, marketOpen }) => {
          const quote = { bid: bidCents / 100, ask: (bidCents + spreadCents) / 100 };
          const p = priceExitOrder({ side: 'long', quote, exec, repriceCount, marketOpen });
          if (p === null) return false; // the bid is usable, so a price always exists
          if (p.type === 'market') return true;
          return p.limitPrice <= quote.bid && p.limitPrice >= 0.05 && onGrid(p.limitPrice);
        }),
        { numRuns: 500 },
      );
    });

    it('a buy limit is never below the ask and always on the grid', () => {
      fc.assert(
        fc.property(caseArb, ({ bidCents, spreadCents, exec, repriceCount, marketOpen }) => {
          const quote = { bid: bidCents / 100, ask: (bidCents + spreadCents) / 100 };
          const p = priceExitOrder({ side: 'short', quote, exec, repriceCount, marketOpen });
          if (p === null) return false;
          if (p.type === 'market') return true;
          return p.limitPrice >= quote.ask && onGrid(p.limitPrice);
        }),
        { numRuns: 500 },
      );
    });

    it('alignToTick stays on the grid within one tick of its input, on the asked side', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 5, max: 100_000 }),
          fc.constantFrom('down', 'up' as const),
          (c, dir) => {
            const price = c / 100;
            const out = alignToTick(price, dir);
            const ok = dir === 'down' ? out <= price && price - out < 0.1 : out >= price && out - price < 0.1;
            return ok && onGrid(out);
          },
        ),
        { numRuns: 1000 },
      );
    });
  });
});
