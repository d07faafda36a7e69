import { parseRecommendation } from '../../shared/domain/recommendation';
import { InvalidRecommendationError, PipelineError, RiskLimitError } from '../../shared/domain/errors';
import { parseAccountConfig } from '../../shared/domain/account-config';
import { checkContractLimits, checkMessageLimits } from '../../shared/domain/risk';
import { badMessages } from '../helpers/bad-messages';
import { recommendationBody } from '../helpers/recommendations';

const NOW = new Date('2026-11-24T15:02:00Z');
const account = parseAccountConfig({ name: 'main' });

/** Parse + the static limits: what the open path does before touching the broker. */
function validate(body: string) {
  const rec = parseRecommendation(body, NOW);
  checkMessageLimits({ rec, account, now: NOW });
  checkContractLimits(contract(rec), account, NOW);
  return rec;
}

describe('parseRecommendation', () => {
  it('accepts the documented example message', () => {
    const rec = parseRecommendation(
      JSON.stringify({
        recommendation_id: 'sig-2026-11-24-0001',
        ticker: 'GOOGL',
        option_symbol: 'GOOGL271217C00340000',
        action: 'BUY',
        num_contracts: 10,
        order_type: 'market',
        limit_price: null,
        exit_plan: { stop_loss_pct: 0.25, take_profit_pct: 0.5, trailing_stop_pct: 0.2 },
        created_at: '2026-11-24T15:01:00Z',
      }),
      NOW,
    );
    expect(rec).toMatchObject({ recommendation_id: 'sig-2026-11-24-0001', action: 'BUY', num_contracts: 10 });
    expect(rec.occ).toMatchObject({ underlying: 'GOOGL', expiry: '2027-12-17', type: 'call', strike: 340 });
  });

  it('defaults order_type to market', () => {
    expect(parseRecommendation(recommendationBody({}, ['order_type', 'limit_price']), NOW).order_type).toBe(
      'market',
    );
  });

  it('accepts a limit order with a price and a SELL', () => {
    const rec = parseRecommendation(
      recommendationBody({ action: 'SELL', order_type: 'limit', limit_price: 3.2 }),
      NOW,
    );
    expect(rec).toMatchObject({ action: 'SELL', order_type: 'limit', limit_price: 3.2 });
  });

  it('accepts exit_plan fields set to null (rule off)', () => {
    const rec = parseRecommendation(
      recommendationBody({ exit_plan: { stop_loss_pct: null, partial_exits: [] } }),
      NOW,
    );
    expect(rec.exit_plan).toEqual({ stop_loss_pct: null, partial_exits: [] });
  });

  it.each(badMessages().map((m) => [m.name, m] as const))('refuses %s with a specific reason', (_name, m) => {
    let caught: unknown;
    try {
      validate(m.body);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PipelineError);
    expect((caught as PipelineError).transient).toBe(false);
    expect((caught as Error).message).toEqual(
      expect.stringMatching(m.expect instanceof RegExp ? m.expect : escape(m.expect)),
    );
  });

  it('names the recommendation_id in a schema refusal when the id itself is valid', () => {
    try {
      parseRecommendation(recommendationBody({ recommendation_id: 'sig-7', num_contracts: 0 }), NOW);
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidRecommendationError);
      expect((err as InvalidRecommendationError).recommendationId).toBe('sig-7');
    }
  });
});

describe('the underlying-only form (contract selection)', () => {
  const base = { recommendation_id: 'u-1', ticker: 'GOOGL', action: 'BUY' };

  it('accepts ticker + instrument_type + strategy (+ confidence), without option_symbol or num_contracts', () => {
    const rec = parseRecommendation(
      JSON.stringify({ ...base, instrument_type: 'PUT', strategy: 'day_trade', confidence: 0.7 }),
      NOW,
    );
    expect(rec).toMatchObject({ instrument_type: 'PUT', strategy: 'day_trade', confidence: 0.7 });
    expect(rec.occ).toBeUndefined();
    expect(rec.num_contracts).toBeUndefined();
  });

  it('keeps the original form working: option_symbol + num_contracts, no strategy', () => {
    const rec = parseRecommendation(recommendationBody({}), NOW);
    expect(rec.occ?.symbol).toBe(rec.option_symbol);
    expect(rec.strategy).toBeUndefined();
  });

  it.each([
    [
      'both option_symbol and instrument_type',
      { instrument_type: 'CALL', option_symbol: 'GOOGL271217C00340000' },
    ],
    ['neither option_symbol nor instrument_type', { strategy: 'day_trade' }],
  ])('refuses %s', (_n, extra) => {
    expect(() => parseRecommendation(JSON.stringify({ ...base, ...extra }), NOW)).toThrow(
      /exactly one of option_symbol or instrument_type/,
    );
  });

  it.each([
    ['an unknown instrument_type', { instrument_type: 'STOCK' }, /instrument_type/],
    ['a confidence above 1', { instrument_type: 'CALL', confidence: 1.2 }, /confidence/],
    ['a badly named strategy', { instrument_type: 'CALL', strategy: 'Day Trade' }, /strategy/],
  ])('refuses %s', (_n, extra, msg) => {
    expect(() => parseRecommendation(JSON.stringify({ ...base, ...extra }), NOW)).toThrow(msg);
  });
});

describe('checkMessageLimits and checkContractLimits', () => {
  const rec = (o: Record<string, unknown>) => parseRecommendation(recommendationBody(o), NOW);

  it('refuses more contracts than the per-order maximum', () => {
    const small = parseAccountConfig({ name: 'tiny', limits: { max_contracts_per_order: 3 } });
    expect(() => checkContractLimits(contract(rec({ num_contracts: 4 })), small, NOW)).toThrow(
      /num_contracts 4 exceeds max_contracts_per_order 3/,
    );
    expect(() =>
      checkMessageLimits({ rec: rec({ num_contracts: 3 }), account: small, now: NOW }),
    ).not.toThrow();
  });

  it('refuses a contract expiring within min_days_to_expiry (New York dates)', () => {
    // 2026-11-27 is a Friday; at 2026-11-26T04:00Z it is still Nov 25 in New York: 2 days out.
    const acct = parseAccountConfig({ name: 'main', limits: { min_days_to_expiry: 2 } });
    const r = parseRecommendation(recommendationBody({ option_symbol: 'GOOGL261127C00340000' }), NOW);
    expect(() => checkContractLimits(contract(r), acct, new Date('2026-11-26T04:00:00Z'))).not.toThrow();
    expect(() => checkContractLimits(contract(r), acct, new Date('2026-11-26T06:00:00Z'))).toThrow(
      /expires in 1 day\(s\); min_days_to_expiry is 2/,
    );
  });

  it('refuses a recommendation older than the maximum age, from created_at or else SQS SentTimestamp', () => {
    const old = rec({ created_at: '2026-11-24T14:50:00Z' });
    expect(() => checkMessageLimits({ rec: old, account, now: NOW })).toThrow(RiskLimitError);
    const noCreated = rec({});
    expect(() =>
      checkMessageLimits({ rec: noCreated, account, now: NOW, sentAt: new Date('2026-11-24T14:56:00Z') }),
    ).toThrow(/6.0 minutes old/);
    expect(() =>
      checkMessageLimits({ rec: noCreated, account, now: NOW, sentAt: new Date('2026-11-24T15:00:00Z') }),
    ).not.toThrow();
  });

  it('refuses everything when the account disables trading', () => {
    const off = parseAccountConfig({ name: 'main', limits: { trading_enabled: false } });
    expect(() => checkMessageLimits({ rec: rec({}), account: off, now: NOW })).toThrow(/trading is disabled/);
  });
});

/** The contract part of a message that names its symbol and size. */
function contract(rec: ReturnType<typeof parseRecommendation>) {
  return { ...rec, option_symbol: rec.option_symbol!, num_contracts: rec.num_contracts!, occ: rec.occ! };
}

function escape(s: string): RegExp {
  return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}
