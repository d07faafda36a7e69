import fc from 'fast-check';
import { parseAccountConfig } from '../../shared/domain/account-config';
import { RiskLimitError } from '../../shared/domain/errors';
import {
  checkSpreadRisk,
  payoffAtExpiry,
  spreadMaxLossAndProfit,
  spreadStructure,
  type RiskLeg,
} from '../../shared/domain/spread-risk';
import {
  closeLimitFromValue,
  netCloseValue,
  netOpenPrice,
  spreadGainFraction,
  spreadGainPerShare,
  type LegQuote,
} from '../../shared/domain/spread-pricing';

const EXP = '2027-06-18';
const leg = (
  side: 'buy' | 'sell',
  type: 'call' | 'put',
  strike: number,
  ratio_qty = 1,
  expiry = EXP,
): RiskLeg => ({
  side,
  ratio_qty,
  occ: { type, strike, expiry },
});
const account = (limits: Record<string, unknown> = {}) => parseAccountConfig({ name: 'main', limits });

function refusedLimit(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RiskLimitError);
    return (err as RiskLimitError).limit;
  }
  throw new Error('expected a refusal');
}

describe('spread structure and its maximum loss', () => {
  it('a debit vertical loses at most the debit paid and makes at most width - debit', () => {
    const legs = [leg('buy', 'call', 500), leg('sell', 'call', 505)];
    expect(spreadStructure(legs)).toEqual({ undefinedRisk: null, oneExpiry: true });
    expect(spreadMaxLossAndProfit(legs, 1.85)).toEqual({ maxLoss: 185, maxProfit: 315 });
  });

  it('a credit vertical loses at most width x 100 - credit and makes at most the credit', () => {
    const legs = [leg('sell', 'put', 480), leg('buy', 'put', 475)];
    expect(spreadMaxLossAndProfit(legs, -1.2)).toEqual({ maxLoss: 380, maxProfit: 120 });
  });

  it('an iron condor risks the wider wing less the credit', () => {
    const legs = [
      leg('buy', 'put', 470),
      leg('sell', 'put', 480),
      leg('sell', 'call', 520),
      leg('buy', 'call', 525),
    ];
    expect(spreadStructure(legs).undefinedRisk).toBeNull();
    expect(spreadMaxLossAndProfit(legs, -2)).toEqual({ maxLoss: 800, maxProfit: 200 });
  });

  it('a long straddle risks its debit with unbounded profit', () => {
    expect(spreadMaxLossAndProfit([leg('buy', 'call', 500), leg('buy', 'put', 500)], 12)).toEqual({
      maxLoss: 1200,
      maxProfit: Infinity,
    });
  });

  it('names undefined risk: short straddle, short strangle, naked short call or put, ratio spreads', () => {
    expect(spreadStructure([leg('sell', 'call', 500), leg('sell', 'put', 500)]).undefinedRisk).toBe(
      'short_straddle',
    );
    expect(spreadStructure([leg('sell', 'call', 520), leg('sell', 'put', 480)]).undefinedRisk).toBe(
      'short_strangle',
    );
    expect(spreadStructure([leg('buy', 'call', 500), leg('sell', 'call', 505, 2)]).undefinedRisk).toBe(
      'naked_short_call',
    );
    expect(spreadStructure([leg('sell', 'put', 480), leg('buy', 'call', 520)]).undefinedRisk).toBe(
      'naked_short_put',
    );
    expect(spreadMaxLossAndProfit([leg('buy', 'call', 500), leg('sell', 'call', 505, 2)], 0.5)?.maxLoss).toBe(
      Infinity,
    );
  });

  it('a long expiring before the short does not cover it', () => {
    expect(
      spreadStructure([leg('sell', 'call', 500, 1, '2027-06-18'), leg('buy', 'call', 505, 1, '2027-05-21')])
        .undefinedRisk,
    ).toBe('naked_short_call');
  });

  it('property: the maximum loss is never less than the loss at any price at expiry', () => {
    const legArb = fc.record({
      side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
      type: fc.constantFrom<'call' | 'put'>('call', 'put'),
      strike: fc.integer({ min: 1, max: 100 }).map((k) => k * 5),
      ratio: fc.integer({ min: 1, max: 3 }),
    });
    fc.assert(
      fc.property(
        fc.array(legArb, { minLength: 2, maxLength: 4 }),
        fc.integer({ min: -2000, max: 2000 }),
        fc.integer({ min: 0, max: 1000 }),
        (ls, netCents, price) => {
          const legs = ls.map((l) => leg(l.side, l.type, l.strike, l.ratio));
          const r = spreadMaxLossAndProfit(legs, netCents / 100)!;
          const pnl = payoffAtExpiry(legs, netCents / 100, price);
          expect(-pnl).toBeLessThanOrEqual(r.maxLoss + 1e-6);
          expect(pnl).toBeLessThanOrEqual(r.maxProfit + 1e-6);
        },
      ),
    );
  });
});

describe('checkSpreadRisk', () => {
  const vertical = [leg('buy', 'call', 500), leg('sell', 'call', 505)];
  const base = {
    recommendation_id: 'sp-1',
    legs: vertical,
    multiple: 2,
    netOpenPerShare: 1.85,
    tradingLevel: 3,
  };

  it('passes a defined-risk spread within the limits and reports its risk for the record', () => {
    expect(checkSpreadRisk({ ...base, account: account() })).toMatchObject({ maxLoss: 370, maxProfit: 630 });
  });

  it('refuses an account below Level 3, or whose level the broker did not report', () => {
    expect(refusedLimit(() => checkSpreadRisk({ ...base, account: account(), tradingLevel: 2 }))).toBe(
      'options_trading_level',
    );
    expect(refusedLimit(() => checkSpreadRisk({ ...base, account: account(), tradingLevel: null }))).toBe(
      'options_trading_level',
    );
  });

  it('refuses undefined risk unless the account names the structure', () => {
    const strangle = {
      ...base,
      legs: [leg('sell', 'call', 520), leg('sell', 'put', 480)],
      netOpenPerShare: -3,
    };
    expect(refusedLimit(() => checkSpreadRisk({ ...strangle, account: account() }))).toBe('undefined_risk');
    expect(
      refusedLimit(() =>
        checkSpreadRisk({ ...strangle, account: account({ allow_undefined_risk: ['short_straddle'] }) }),
      ),
    ).toBe('undefined_risk');
    expect(
      checkSpreadRisk({ ...strangle, account: account({ allow_undefined_risk: ['short_strangle'] }) })
        .maxLoss,
    ).toBe(Infinity);
  });

  it('applies max_risk_per_spread to the defined maximum loss, and the premium limit to a debit', () => {
    expect(
      refusedLimit(() => checkSpreadRisk({ ...base, account: account({ max_risk_per_spread: 300 }) })),
    ).toBe('max_risk_per_spread');
    expect(
      refusedLimit(() => checkSpreadRisk({ ...base, account: account({ max_premium_per_position: 300 }) })),
    ).toBe('max_premium_per_position');
    expect(
      refusedLimit(() =>
        checkSpreadRisk({ ...base, multiple: 6, account: account({ max_contracts_per_order: 5 }) }),
      ),
    ).toBe('max_contracts_per_order');
  });

  it('refuses legs on different expiries (risk not computed)', () => {
    const calendar = [leg('sell', 'call', 500, 1, '2027-05-21'), leg('buy', 'call', 500, 1, '2027-06-18')];
    expect(refusedLimit(() => checkSpreadRisk({ ...base, legs: calendar, account: account() }))).toBe(
      'unsupported_structure',
    );
  });
});

describe('net executable prices', () => {
  const quotes = new Map<string, LegQuote>([
    ['L', { bid: 3.0, ask: 3.2 }],
    ['S', { bid: 1.1, ask: 1.25 }],
  ]);

  it('opening pays the asks of the buys less the bids of the sells', () => {
    expect(
      netOpenPrice(
        [
          { option_symbol: 'L', side: 'buy', ratio_qty: 1 },
          { option_symbol: 'S', side: 'sell', ratio_qty: 1 },
        ],
        quotes,
      ),
    ).toEqual({ ok: true, perShare: 2.1 });
  });

  it('a debit spread closes for the long bids less the short asks; a credit spread for minus its buy-back cost', () => {
    const debit = netCloseValue(
      [
        { option_symbol: 'L', side: 'long', ratio_qty: 1 },
        { option_symbol: 'S', side: 'short', ratio_qty: 1 },
      ],
      quotes,
    );
    expect(debit).toEqual({ ok: true, perShare: 1.75 });
    const credit = netCloseValue(
      [
        { option_symbol: 'L', side: 'short', ratio_qty: 1 },
        { option_symbol: 'S', side: 'long', ratio_qty: 1 },
      ],
      quotes,
    );
    expect(credit).toEqual({ ok: true, perShare: -2.1 });
    expect(closeLimitFromValue(1.75)).toBe(-1.75);
    expect(closeLimitFromValue(-2.1)).toBe(2.1);
    expect(closeLimitFromValue(-2.104)).toBe(2.11);
  });

  it('cannot price a short leg without an ask, or a crossed quote', () => {
    expect(
      netCloseValue(
        [{ option_symbol: 'S', side: 'short', ratio_qty: 1 }],
        new Map([['S', { bid: 1, ask: 0 }]]),
      ).ok,
    ).toBe(false);
    expect(
      netCloseValue(
        [{ option_symbol: 'L', side: 'long', ratio_qty: 1 }],
        new Map([['L', { bid: 2, ask: 1 }]]),
      ),
    ).toEqual({
      ok: false,
      reason: 'crossed quote for L',
    });
  });

  it('take profit on a credit is a share of the maximum profit; a loss a share of the maximum loss', () => {
    // Sold for 1.20 credit, 5 wide: max profit 1.20, max loss 3.80 per share.
    expect(spreadGainPerShare(-1.2, -0.6)).toBe(0.6);
    expect(
      spreadGainFraction({ netOpenPerShare: -1.2, closeValuePerShare: -0.6, maxLossPerShare: 3.8 }),
    ).toBeCloseTo(0.5);
    expect(
      spreadGainFraction({ netOpenPerShare: -1.2, closeValuePerShare: -3.1, maxLossPerShare: 3.8 }),
    ).toBeCloseTo(-0.5);
    // Bought for 1.85: a share of the debit, as a single leg's premium.
    expect(
      spreadGainFraction({ netOpenPerShare: 1.85, closeValuePerShare: 2.775, maxLossPerShare: 1.85 }),
    ).toBeCloseTo(0.5);
  });
});
