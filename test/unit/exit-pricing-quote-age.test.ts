/**
 * Issue 26, item 6: an exit limit is priced only from a quote within `max_quote_age_seconds` of `now` (the
 * broker's clock); otherwise market while the market is open, or nothing (wait) for a plan that forbids
 * market or while the market is closed.
 */
import fc from 'fast-check';
import { parseAccountConfig } from '../../shared/domain/account-config';
import {
  isFreshQuote,
  priceExitOrder,
  quoteAgeSeconds,
  type ExitPricingConfig,
} from '../../shared/domain/exit-pricing';

const NOW = new Date('2026-12-03T15:00:00.000Z');
const EXEC: ExitPricingConfig = {
  ...parseAccountConfig({ name: 't' }).exit_execution,
  order_type: 'marketable_limit',
  max_quote_age_seconds: 120,
};
const agedQuote = (ageSeconds: number) => ({
  bid: 2.0,
  ask: 2.1,
  quoteTime: new Date(NOW.getTime() - ageSeconds * 1000).toISOString(),
});
const base = { side: 'long' as const, exec: EXEC, repriceCount: 0, marketOpen: true, now: NOW };

describe('quote age', () => {
  it('measures seconds at now; unknown without a parsable time; skew in the future reads 0', () => {
    expect(quoteAgeSeconds(agedQuote(30), NOW)).toBe(30);
    expect(quoteAgeSeconds({ bid: 1, ask: 2 }, NOW)).toBeNull();
    expect(quoteAgeSeconds({ bid: 1, ask: 2, quoteTime: 'yesterday' }, NOW)).toBeNull();
    expect(quoteAgeSeconds(undefined, NOW)).toBeNull();
    expect(quoteAgeSeconds(agedQuote(-5), NOW)).toBe(0);
    expect(isFreshQuote(agedQuote(120), NOW, 120)).toBe(true);
    expect(isFreshQuote(agedQuote(121), NOW, 120)).toBe(false);
  });
});

describe('priceExitOrder with now', () => {
  it('prices the marketable limit from a fresh quote (as before)', () => {
    expect(priceExitOrder({ ...base, quote: agedQuote(10) })).toMatchObject({
      type: 'limit',
      limitPrice: 1.9,
    });
  });

  it('a stale quote (older than max_quote_age_seconds) never prices a limit: market while open', () => {
    const p = priceExitOrder({ ...base, quote: agedQuote(600) });
    expect(p).toEqual({
      type: 'market',
      limitPrice: null,
      why: 'quote 600s old > max_quote_age_seconds 120: market',
    });
  });

  it('a quote of unknown age or no quote: market while open', () => {
    expect(priceExitOrder({ ...base, quote: { bid: 2, ask: 2.1 } })?.type).toBe('market');
    expect(priceExitOrder({ ...base, quote: undefined })?.type).toBe('market');
  });

  it('a stale quote while the market is closed: nothing (a market order would be refused; wait)', () => {
    expect(priceExitOrder({ ...base, quote: agedQuote(600), marketOpen: false })).toBeNull();
  });

  it('a stale quote for a plan that forbids market: nothing (wait for a fresh quote)', () => {
    expect(priceExitOrder({ ...base, quote: agedQuote(600), marketAllowed: false })).toBeNull();
  });

  it('a plan that forbids market never gets market, even after max_reprices or with order_type market', () => {
    const p = priceExitOrder({
      ...base,
      exec: { ...EXEC, order_type: 'market' },
      quote: agedQuote(5),
      repriceCount: 99,
      marketAllowed: false,
    });
    expect(p).toMatchObject({ type: 'limit', limitPrice: 1.9 });
  });

  it('a stale wide quote is not used for a limit at the bid either', () => {
    const wide = { bid: 0.5, ask: 2.0, quoteTime: agedQuote(600).quoteTime };
    expect(priceExitOrder({ ...base, quote: wide })?.type).toBe('market');
  });

  it('property: no limit is ever priced from a quote older than max_quote_age_seconds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 121, max: 86_400 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom('long' as const, 'short' as const),
        fc.integer({ min: 0, max: 10 }),
        (age, marketOpen, marketAllowed, side, repriceCount) => {
          const p = priceExitOrder({
            ...base,
            side,
            repriceCount,
            marketOpen,
            marketAllowed,
            quote: agedQuote(age),
          });
          expect(p === null || p.type === 'market').toBe(true);
          if (p?.type === 'market') expect(marketOpen && marketAllowed).toBe(true);
        },
      ),
    );
  });
});

describe('priceExitOrder without now (callers not yet passing it)', () => {
  it('keeps the behaviour before issue 26: the quote is used whatever its age', () => {
    const { now: _now, ...old } = base;
    expect(priceExitOrder({ ...old, quote: agedQuote(600) })).toMatchObject({ type: 'limit' });
  });
});
