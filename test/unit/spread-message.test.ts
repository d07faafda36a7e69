import {
  isSpreadRecommendation,
  parseRecommendation,
  parseRecommendationMessage,
} from '../../shared/domain/recommendation';
import { InvalidRecommendationError } from '../../shared/domain/errors';
import { parseAccountConfig } from '../../shared/domain/account-config';
import {
  readStoredExitPlan,
  resolveExitPlan,
  SYSTEM_EXIT_DEFAULTS,
  atExpiryOf,
} from '../../shared/domain/exit-plan';
import { contractFor, FAR_DAYS } from '../helpers/contracts';
import { recommendationBody } from '../helpers/recommendations';

const NOW = new Date();
const call = (strike: number) => contractFor('SPY', FAR_DAYS, 'C', strike, NOW);
const put = (strike: number) => contractFor('SPY', FAR_DAYS, 'P', strike, NOW);

function spreadBody(overrides: Record<string, unknown> = {}, omit: string[] = []): string {
  const base: Record<string, unknown> = {
    recommendation_id: 'sp-1',
    ticker: 'SPY',
    legs: [
      { option_symbol: call(500), side: 'buy', ratio_qty: 1 },
      { option_symbol: call(505), side: 'sell', ratio_qty: 1 },
    ],
    num_contracts: 2,
    order_type: 'limit',
    limit_price: 1.85,
  };
  const out = { ...base, ...overrides };
  for (const k of omit) delete out[k];
  return JSON.stringify(out);
}

/** The refusal's reason and message, for one assertion. */
function refusal(body: string): { reason: string; message: string } {
  try {
    parseRecommendationMessage(body, NOW);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRecommendationError);
    return { reason: (err as InvalidRecommendationError).reason, message: (err as Error).message };
  }
  throw new Error('expected a refusal');
}

describe('spread message: named legs', () => {
  it('parses a debit call vertical with its legs, multiple and net limit', () => {
    const rec = parseRecommendationMessage(spreadBody(), NOW);
    expect(isSpreadRecommendation(rec)).toBe(true);
    if (!isSpreadRecommendation(rec)) return;
    expect(rec).toMatchObject({ kind: 'spread', num_contracts: 2, order_type: 'limit', limit_price: 1.85 });
    expect(rec.legs?.map((l) => [l.option_symbol, l.side, l.ratio_qty, l.occ.strike])).toEqual([
      [call(500), 'buy', 1, 500],
      [call(505), 'sell', 1, 505],
    ]);
  });

  it('accepts a net credit as a negative limit and defaults ratio_qty to 1', () => {
    const rec = parseRecommendationMessage(
      spreadBody({
        limit_price: -1.2,
        legs: [
          { option_symbol: put(480), side: 'sell' },
          { option_symbol: put(475), side: 'buy' },
          { option_symbol: call(520), side: 'sell' },
          { option_symbol: call(525), side: 'buy' },
        ],
      }),
      NOW,
    );
    expect(isSpreadRecommendation(rec) && rec.legs?.map((l) => l.ratio_qty)).toEqual([1, 1, 1, 1]);
  });

  it('refuses more than 4 legs (and fewer than 2), naming the count', () => {
    const five = [480, 485, 490, 495, 500].map((k) => ({ option_symbol: call(k), side: 'buy' }));
    expect(refusal(spreadBody({ legs: five }))).toEqual({
      reason: 'spread_legs_count',
      message: 'legs: a spread has 2-4 legs (Alpaca mleg), got 5',
    });
    expect(refusal(spreadBody({ legs: [five[0]] })).reason).toBe('spread_legs_count');
  });

  it('refuses two legs on one contract', () => {
    const r = refusal(
      spreadBody({
        legs: [
          { option_symbol: call(500), side: 'buy' },
          { option_symbol: call(500), side: 'sell' },
        ],
      }),
    );
    expect(r.reason).toBe('spread_duplicate_contract');
    expect(r.message).toContain(`legs[1]: ${call(500)} is also legs[0]`);
  });

  it('refuses mixed underlyings', () => {
    const r = refusal(
      spreadBody({
        legs: [
          { option_symbol: call(500), side: 'buy' },
          { option_symbol: contractFor('QQQ', FAR_DAYS, 'C', 500, NOW), side: 'sell' },
        ],
      }),
    );
    expect(r.reason).toBe('spread_mixed_underlyings');
    expect(r.message).toMatch(/legs\[1\]: .* is on QQQ, legs\[0\] on SPY; a spread has one underlying/);
  });

  it('refuses ratios that are not whole, and ratios not in lowest terms', () => {
    const half = refusal(
      spreadBody({
        legs: [
          { option_symbol: call(500), side: 'buy', ratio_qty: 1.5 },
          { option_symbol: call(505), side: 'sell', ratio_qty: 1 },
        ],
      }),
    );
    expect(half).toEqual({
      reason: 'spread_ratio_not_whole',
      message: 'legs[0].ratio_qty: 1.5 is not a whole number of contracts from 1 to 100',
    });
    expect(
      refusal(
        spreadBody({
          legs: [
            { option_symbol: call(500), side: 'buy', ratio_qty: 0 },
            { option_symbol: call(505), side: 'sell' },
          ],
        }),
      ).reason,
    ).toBe('spread_ratio_not_whole');
    const doubled = refusal(
      spreadBody({
        legs: [
          { option_symbol: call(500), side: 'buy', ratio_qty: 2 },
          { option_symbol: call(505), side: 'sell', ratio_qty: 2 },
        ],
      }),
    );
    expect(doubled.reason).toBe('spread_ratio_not_reduced');
    expect(doubled.message).toContain('send 1:1 and multiply num_contracts by 2');
  });

  it('refuses unknown fields, on the message and on a leg', () => {
    expect(refusal(spreadBody({ colour: 'red' }))).toMatchObject({ reason: 'schema' });
    expect(refusal(spreadBody({ colour: 'red' })).message).toContain('colour');
    const leg = refusal(
      spreadBody({
        legs: [
          { option_symbol: call(500), side: 'buy', qty: 1 },
          { option_symbol: call(505), side: 'sell' },
        ],
      }),
    );
    expect(leg.reason).toBe('schema');
    expect(leg.message).toContain('legs.0');
  });

  it('refuses single-leg fields with the reason they do not belong', () => {
    expect(refusal(spreadBody({ action: 'BUY' })).message).toBe(
      'schema: action: not a field of a spread message (each leg names its side (legs[].side), or spread.side says buy or sell the structure)',
    );
    expect(refusal(spreadBody({ option_symbol: call(500) })).reason).toBe('schema');
  });

  it('refuses a leg on another ticker than the message, a bad OCC symbol and an expired leg', () => {
    expect(refusal(spreadBody({ ticker: 'QQQ' })).reason).toBe('ticker_mismatch');
    expect(
      refusal(
        spreadBody({
          legs: [
            { option_symbol: 'SPY', side: 'buy' },
            { option_symbol: call(505), side: 'sell' },
          ],
        }),
      ).reason,
    ).toBe('option_symbol');
    const old = contractFor('SPY', -3, 'C', 500, NOW);
    expect(
      refusal(
        spreadBody({
          legs: [
            { option_symbol: old, side: 'buy' },
            { option_symbol: call(505), side: 'sell' },
          ],
        }),
      ).reason,
    ).toBe('expired');
  });

  it('refuses a limit without a price, a zero net price, and a market order with one', () => {
    expect(refusal(spreadBody({ limit_price: null })).reason).toBe('spread_limit_price');
    expect(refusal(spreadBody({ limit_price: 0 })).reason).toBe('spread_limit_price');
    expect(refusal(spreadBody({ order_type: 'market' })).reason).toBe('spread_limit_price');
  });

  it('refuses legs and spread together, and checks created_at like a single leg', () => {
    expect(
      refusal(spreadBody({ spread: { strategy: 'straddle', side: 'buy', days_to_expiry: 30 } })).reason,
    ).toBe('spread_form');
    expect(refusal(spreadBody({ created_at: '2026-02-30T10:00:00Z' })).message).toBe(
      'schema: created_at: not a real date and time',
    );
    const future = new Date(NOW.getTime() + 3_600_000).toISOString();
    expect(refusal(spreadBody({ created_at: future })).reason).toBe('created_in_future');
  });
});

describe('spread message: a structure to build', () => {
  const build = (spread: Record<string, unknown>) =>
    spreadBody({ spread, strategy: 'swing_trade' }, ['legs', 'limit_price', 'order_type']);

  it('parses each strategy with its parameters', () => {
    for (const spread of [
      { strategy: 'vertical', side: 'buy', type: 'call', width: 5, delta: 0.4, days_to_expiry: 30 },
      { strategy: 'straddle', side: 'buy', days_to_expiry: 7 },
      { strategy: 'strangle', side: 'buy', strikes_away: 2, days_to_expiry: 14 },
      { strategy: 'iron_condor', side: 'sell', width: 5, delta: 0.16, days_to_expiry: 45 },
      { strategy: 'iron_butterfly', side: 'sell', width: 10, days_to_expiry: 30 },
    ]) {
      const rec = parseRecommendationMessage(build(spread), NOW);
      expect(isSpreadRecommendation(rec) && rec.build).toEqual(spread);
      expect(rec).toMatchObject({ strategy: 'swing_trade', order_type: 'market' });
    }
  });

  it('refuses an unknown strategy, missing or misplaced parameters, and unknown fields', () => {
    expect(refusal(build({ strategy: 'butterfly', side: 'buy', days_to_expiry: 30 })).reason).toBe('schema');
    expect(refusal(build({ strategy: 'vertical', side: 'buy', width: 5, days_to_expiry: 30 })).message).toBe(
      'spread: type (call or put) is required for a vertical',
    );
    expect(refusal(build({ strategy: 'iron_condor', side: 'sell', days_to_expiry: 30 })).reason).toBe(
      'spread_build',
    );
    expect(refusal(build({ strategy: 'straddle', side: 'buy', width: 5, days_to_expiry: 30 })).reason).toBe(
      'spread_build',
    );
    expect(
      refusal(build({ strategy: 'strangle', side: 'buy', delta: 0.2, strikes_away: 1, days_to_expiry: 30 }))
        .message,
    ).toBe('spread: give delta or strikes_away, not both');
    expect(
      refusal(build({ strategy: 'straddle', side: 'buy', strikes_away: 1, days_to_expiry: 30 })).message,
    ).toContain('built at the money');
    expect(refusal(build({ strategy: 'straddle', side: 'buy', days_to_expiry: 30, dte: 3 })).reason).toBe(
      'schema',
    );
  });
});

describe('single-leg messages are parsed exactly as before', () => {
  it('parseRecommendationMessage gives the same answer as parseRecommendation', () => {
    for (const overrides of [{}, { action: 'SELL', order_type: 'limit', limit_price: 3.2 }]) {
      const body = recommendationBody({ recommendation_id: 'same-1', ...overrides });
      expect(parseRecommendationMessage(body, NOW)).toEqual(parseRecommendation(body, NOW));
    }
  });

  it('parseRecommendation still refuses a body with legs as an unknown field', () => {
    expect(() => parseRecommendation(spreadBody(), NOW)).toThrow(/schema: .*legs/);
  });
});

describe('exit_plan.at_expiry', () => {
  it('absent means close, and every existing plan resolves exactly as before', () => {
    expect(resolveExitPlan()).toEqual(SYSTEM_EXIT_DEFAULTS);
    expect(resolveExitPlan()).not.toHaveProperty('at_expiry');
    expect(readStoredExitPlan({ stop_loss_pct: 0.3 })).toEqual({
      ...SYSTEM_EXIT_DEFAULTS,
      stop_loss_pct: 0.3,
    });
    expect(atExpiryOf(resolveExitPlan())).toBe('close');
  });

  it('takes close, exercise or do_not_exercise, and keeps it through a stored plan', () => {
    const plan = resolveExitPlan({ at_expiry: 'do_not_exercise' });
    expect(atExpiryOf(plan)).toBe('do_not_exercise');
    expect(readStoredExitPlan(JSON.parse(JSON.stringify(plan))).at_expiry).toBe('do_not_exercise');
    expect(() => parseRecommendation(recommendationBody({ exit_plan: { at_expiry: 'sell' } }), NOW)).toThrow(
      /exit_plan\.at_expiry/,
    );
  });

  it('an account may default to any at_expiry, in its exit_defaults and in a profile', () => {
    expect(
      parseAccountConfig({ name: 'a', exit_defaults: { at_expiry: 'exercise' } }).resolved_exit_defaults,
    ).toMatchObject({ at_expiry: 'exercise' });
    expect(
      parseAccountConfig({
        name: 'a',
        strategy_profiles: { swing_trade: { exit_plan: { at_expiry: 'do_not_exercise' } } },
      }).strategy_profiles?.swing_trade?.exit_plan,
    ).toMatchObject({ at_expiry: 'do_not_exercise' });
    expect(() => parseAccountConfig({ name: 'a', exit_defaults: { at_expiry: 'sell' } })).toThrow(
      /exit_defaults\.at_expiry/,
    );
    expect(parseAccountConfig({ name: 'a', exit_defaults: { at_expiry: 'close' } }).limits).toMatchObject({
      max_risk_per_spread: 1000,
      allow_undefined_risk: [],
    });
  });

  it('allow_undefined_risk takes structures by name only', () => {
    expect(
      parseAccountConfig({ name: 'a', limits: { allow_undefined_risk: ['short_strangle'] } }).limits
        .allow_undefined_risk,
    ).toEqual(['short_strangle']);
    expect(() => parseAccountConfig({ name: 'a', limits: { allow_undefined_risk: ['everything'] } })).toThrow(
      /limits\.allow_undefined_risk/,
    );
  });
});
