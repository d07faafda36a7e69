import { buildSpreadLegs } from '../../shared/domain/spread-builders';
import type { ChainContract } from '../../shared/domain/contract-selection';
import type { SpreadBuildRequest } from '../../shared/domain/spread-message';
import { addDays, newYorkTime } from '../../shared/domain/market-time';
import { formatOccSymbol } from '../../shared/domain/occ';
import { spreadStructure } from '../../shared/domain/spread-risk';

const NOW = new Date();
const SPOT = 501;

function chainFor(
  days: number,
  strikes: number[] = [480, 485, 490, 495, 500, 505, 510, 515, 520],
): ChainContract[] {
  const expiry = addDays(newYorkTime(NOW).date, days);
  return strikes.flatMap((strike) =>
    (['call', 'put'] as const).map((type) => {
      const callDelta = Math.min(0.99, Math.max(0.01, 0.5 - (strike - SPOT) / 50));
      return {
        symbol: formatOccSymbol({ root: 'SPY', expiry, type, strike }),
        expiry,
        type,
        strike,
        bid: 2,
        ask: 2.1,
        delta: type === 'call' ? callDelta : callDelta - 1,
      };
    }),
  );
}
const CHAIN = [...chainFor(30), ...chainFor(60)];

function legsOf(request: Partial<SpreadBuildRequest> & Pick<SpreadBuildRequest, 'strategy' | 'side'>) {
  const r = buildSpreadLegs({
    request: { days_to_expiry: 30, ...request } as SpreadBuildRequest,
    chain: CHAIN,
    underlyingPrice: SPOT,
    now: NOW,
  });
  if (!r.ok) throw new Error(r.reason);
  return r.legs.map((l) => `${l.side} ${l.occ.type} ${l.occ.strike}`);
}

describe('buildSpreadLegs', () => {
  it('verticals: buy = debit (long the near strike), sell = credit, calls up and puts down', () => {
    expect(legsOf({ strategy: 'vertical', side: 'buy', type: 'call', width: 5 })).toEqual([
      'buy call 500',
      'sell call 505',
    ]);
    expect(legsOf({ strategy: 'vertical', side: 'sell', type: 'put', width: 10, strikes_away: 1 })).toEqual([
      'sell put 495',
      'buy put 485',
    ]);
  });

  it('straddles at the money and strangles out of it', () => {
    expect(legsOf({ strategy: 'straddle', side: 'buy' })).toEqual(['buy put 500', 'buy call 500']);
    expect(legsOf({ strategy: 'strangle', side: 'buy', strikes_away: 2 })).toEqual([
      'buy put 490',
      'buy call 510',
    ]);
  });

  it('a sold iron condor by delta and a sold iron butterfly are defined risk', () => {
    const condor = legsOf({ strategy: 'iron_condor', side: 'sell', width: 5, delta: 0.2 });
    expect(condor).toEqual(['buy put 480', 'sell put 485', 'sell call 515', 'buy call 520']);
    expect(legsOf({ strategy: 'iron_butterfly', side: 'sell', width: 10 })).toEqual([
      'buy put 490',
      'sell put 500',
      'sell call 500',
      'buy call 510',
    ]);
    const r = buildSpreadLegs({
      request: { strategy: 'iron_condor', side: 'sell', width: 5, delta: 0.2, days_to_expiry: 30 },
      chain: CHAIN,
      underlyingPrice: SPOT,
      now: NOW,
    });
    expect(r.ok && spreadStructure(r.legs).undefinedRisk).toBeNull();
  });

  it('picks the listed expiry nearest the target days, every leg from it', () => {
    const r = buildSpreadLegs({
      request: { strategy: 'straddle', side: 'buy', days_to_expiry: 50 },
      chain: CHAIN,
      underlyingPrice: SPOT,
      now: NOW,
    });
    expect(r.ok && r.expiry).toBe(addDays(newYorkTime(NOW).date, 60));
    expect(r.ok && new Set(r.legs.map((l) => l.occ.expiry)).size).toBe(1);
  });

  it('refuses a missing wing strike, a strike past the ladder, and a leg with no bid to sell into', () => {
    const miss = buildSpreadLegs({
      request: { strategy: 'vertical', side: 'buy', type: 'call', width: 7, days_to_expiry: 30 },
      chain: CHAIN,
      underlyingPrice: SPOT,
      now: NOW,
    });
    expect(miss).toEqual({ ok: false, reason: expect.stringMatching(/^no call at strike 507 expiring /) });
    const far = buildSpreadLegs({
      request: { strategy: 'strangle', side: 'buy', strikes_away: 9, days_to_expiry: 30 },
      chain: CHAIN,
      underlyingPrice: SPOT,
      now: NOW,
    });
    expect(far).toEqual({ ok: false, reason: 'no put listed 9 strike(s) out of the money from 500' });
    const noBid = CHAIN.map((c) => (c.type === 'call' && c.strike === 505 ? { ...c, bid: 0 } : c));
    const r = buildSpreadLegs({
      request: { strategy: 'vertical', side: 'buy', type: 'call', width: 5, days_to_expiry: 30 },
      chain: noBid,
      underlyingPrice: SPOT,
      now: NOW,
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/no usable quote to sell/);
  });
});
