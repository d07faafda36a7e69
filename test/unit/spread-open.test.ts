import { planSpreadOpen } from '../../shared/domain/spread-open';
import { parseRecommendationMessage, type SpreadRecommendation } from '../../shared/domain/recommendation';
import { parseAccountConfig } from '../../shared/domain/account-config';
import { RiskLimitError } from '../../shared/domain/errors';
import { mlegOrderBody } from '../../shared/domain/spread-orders';
import { addDays, newYorkTime } from '../../shared/domain/market-time';
import { formatOccSymbol } from '../../shared/domain/occ';
import type { ChainContract } from '../../shared/domain/contract-selection';
import type { LegQuote } from '../../shared/domain/spread-pricing';

const NOW = new Date();
const EXPIRY = addDays(newYorkTime(NOW).date, 30);
const sym = (type: 'call' | 'put', strike: number) =>
  formatOccSymbol({ root: 'SPY', expiry: EXPIRY, type, strike });
const account = parseAccountConfig({ name: 'main' });

function spread(o: Record<string, unknown>): SpreadRecommendation {
  return parseRecommendationMessage(
    JSON.stringify({ recommendation_id: 'sp-o', ticker: 'SPY', ...o }),
    NOW,
  ) as SpreadRecommendation;
}

describe('planSpreadOpen', () => {
  const legs = [
    { option_symbol: sym('call', 500), side: 'buy' },
    { option_symbol: sym('call', 505), side: 'sell' },
  ];
  const quotes = new Map<string, LegQuote>([
    [sym('call', 500), { bid: 3.0, ask: 3.2 }],
    [sym('call', 505), { bid: 1.2, ask: 1.3 }],
  ]);

  it('a market debit vertical: judged at the executable net, opened as one mleg with intents on every leg', () => {
    const plan = planSpreadOpen({
      rec: spread({ legs, num_contracts: 2 }),
      account,
      tradingLevel: 3,
      quotes,
      now: NOW,
    });
    expect(plan).toMatchObject({ multiple: 2, netOpenPerShare: 2, risk: { maxLoss: 400, maxProfit: 600 } });
    expect(mlegOrderBody(plan.order)).toMatchObject({
      order_class: 'mleg',
      qty: '2',
      type: 'market',
      client_order_id: 'ops-main-o-sp-o',
      legs: [
        { symbol: sym('call', 500), side: 'buy', position_intent: 'buy_to_open' },
        { symbol: sym('call', 505), side: 'sell', position_intent: 'sell_to_open' },
      ],
    });
  });

  it('a limit is judged at its own net; the risk limits refuse with their names', () => {
    const rec = spread({ legs, num_contracts: 4, order_type: 'limit', limit_price: 3 });
    try {
      planSpreadOpen({ rec, account, tradingLevel: 3, quotes, now: NOW });
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(RiskLimitError);
      expect((err as RiskLimitError).limit).toBe('max_risk_per_spread'); // 4 x $300 > $1000
    }
    expect(() =>
      planSpreadOpen({ rec: spread({ legs, num_contracts: 1 }), account, tradingLevel: 2, quotes, now: NOW }),
    ).toThrow(/level 3/);
  });

  it('a spread to build takes its legs and prices from the chain', () => {
    const chain: ChainContract[] = [495, 500, 505, 510].flatMap((strike) =>
      (['call', 'put'] as const).map((type) => ({
        symbol: sym(type, strike),
        expiry: EXPIRY,
        type,
        strike,
        bid: 1,
        ask: 1.1,
      })),
    );
    const rec = spread({
      spread: { strategy: 'vertical', side: 'sell', type: 'put', width: 5, days_to_expiry: 30 },
      num_contracts: 1,
    });
    const plan = planSpreadOpen({
      rec,
      account,
      tradingLevel: 3,
      quotes: new Map(),
      chain,
      underlyingPrice: 501,
      now: NOW,
    });
    expect(plan.legs.map((l) => `${l.side} ${l.occ.type} ${l.occ.strike}`)).toEqual([
      'sell put 500',
      'buy put 495',
    ]);
    expect(plan.netOpenPerShare).toBe(0.1); // pays 1.10, receives 1.00: a net debit at these quotes
  });

  it('a market spread with an unpriced leg is refused, not guessed', () => {
    expect(() =>
      planSpreadOpen({
        rec: spread({ legs, num_contracts: 1 }),
        account,
        tradingLevel: 3,
        quotes: new Map(),
        now: NOW,
      }),
    ).toThrow(/needs every leg priced/);
  });
});
