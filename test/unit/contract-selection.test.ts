import {
  selectContract,
  SELECTION_FILTERS,
  type ChainContract,
  type SelectionFilter,
} from '../../shared/domain/contract-selection';
import { resolveProfile, type ProfileSelection } from '../../shared/domain/strategy-profiles';
import { CHAIN_NOW, CHAIN_SPOT, EXPIRY, OPTION_CHAIN, contract } from '../fixtures/option-chain';

/** Permissive targets so that a single test contract passes everything but the filter under test. */
const OPEN_SELECTION: ProfileSelection = {
  dte_min: 0,
  dte_max: 30,
  moneyness: 0,
  max_spread_pct_of_mid: 0.1,
  min_mid_price: 0.5,
  min_volume: 100,
  min_open_interest: 100,
  delta_min: 0.3,
  delta_max: 0.7,
};

/** A call that passes every filter of {@link OPEN_SELECTION} at {@link CHAIN_NOW}. */
const GOOD_CALL = contract({
  expiry: EXPIRY.mar20,
  type: 'call',
  strike: 200,
  bid: 4.0,
  ask: 4.2,
  delta: 0.5,
});

function excludedOnly(filter: SelectionFilter, n: number): Record<SelectionFilter, number> {
  return Object.fromEntries(SELECTION_FILTERS.map((f) => [f, f === filter ? n : 0])) as Record<
    SelectionFilter,
    number
  >;
}

describe('selectContract: known winners in the fixture chain', () => {
  it.each([
    ['day_trade', 'call', 'XYZ260305C00200000', 'min_mid'],
    ['day_trade', 'put', 'XYZ260304P00200000', 'spread'],
    ['swing_trade', 'call', 'XYZ260327C00203000', 'delta'],
    ['swing_trade', 'put', 'XYZ260320P00197000', 'volume'],
    ['conservative', 'call', 'XYZ260417C00194000', 'delta'],
    ['conservative', 'put', 'XYZ260417P00206000', 'delta'],
  ] as const)('%s %s picks %s (and the %s filter excluded a near miss)', (name, type, symbol, nearMiss) => {
    // Arrange
    const profile = resolveProfile(name);

    // Act
    const result = selectContract({
      chain: OPTION_CHAIN,
      underlyingPrice: CHAIN_SPOT,
      type,
      profile,
      now: CHAIN_NOW,
    });

    // Assert
    expect(result).toMatchObject({ ok: true, winner: { symbol } });
    expect(result.excludedCounts[nearMiss]).toBeGreaterThan(0);
  });

  it('records why the winner won: its score inputs, terms summing to the score, and the runner-up', () => {
    // Arrange
    const profile = resolveProfile('swing_trade');

    // Act
    const result = selectContract({
      chain: OPTION_CHAIN,
      underlyingPrice: CHAIN_SPOT,
      type: 'call',
      profile,
      now: CHAIN_NOW,
    });

    // Assert
    if (!result.ok) throw new Error(result.reason);
    expect(result.candidatesConsidered).toBe(3);
    expect(result.why).toMatchObject({
      underlyingPricePerShare: 200,
      strike: 203,
      expiry: '2026-03-27',
      dte: 23,
      dteRange: [7, 30],
      targetMoneyness: 0.015,
      bidPerShare: 3.6,
      askPerShare: 3.7,
      volume: 500,
      openInterest: 1000,
      delta: 0.42,
      runnerUp: { symbol: 'XYZ260320C00203000' },
    });
    expect(result.why.midPerShare).toBeCloseTo(3.65, 12);
    expect(result.why.moneyness).toBeCloseTo(0.015, 12);
    expect(result.why.spreadPctOfMid).toBeCloseTo(0.1 / 3.65, 12);
    // moneyness 0, spread 10 x 0.1/3.65, DTE 0.5 x |23 - 18.5| / 11.5
    expect(result.why.scoreTerms.moneyness).toBeCloseTo(0, 12);
    expect(result.why.scoreTerms.spread).toBeCloseTo(10 * (0.1 / 3.65), 12);
    expect(result.why.scoreTerms.dte).toBeCloseTo((0.5 * 4.5) / 11.5, 12);
    expect(result.score).toBeCloseTo(
      result.why.scoreTerms.moneyness + result.why.scoreTerms.spread + result.why.scoreTerms.dte,
      12,
    );
    expect(result.why.runnerUp!.score).toBeGreaterThan(result.score);
  });

  it('moneyness is measured the other way for puts: a put strike below spot is out of the money', () => {
    // Arrange: two puts equal but for the strike; swing wants 1.5% OTM = strike 197.
    const chain = [
      contract({ expiry: EXPIRY.mar20, type: 'put', strike: 203, bid: 3.0, ask: 3.1, delta: -0.4 }),
      contract({ expiry: EXPIRY.mar20, type: 'put', strike: 197, bid: 3.0, ask: 3.1, delta: -0.4 }),
    ];

    // Act
    const result = selectContract({
      chain,
      underlyingPrice: 200,
      type: 'put',
      profile: resolveProfile('swing_trade'),
      now: CHAIN_NOW,
    });

    // Assert
    expect(result).toMatchObject({ ok: true, winner: { strike: 197 } });
  });

  it('breaks a score tie by symbol, whatever the chain order', () => {
    // Arrange: DTE 0 and DTE 1 are equally far from day_trade's midpoint 0.5; quotes identical.
    const a = contract({ expiry: EXPIRY.today, type: 'call', strike: 200, bid: 3.0, ask: 3.1, delta: 0.5 });
    const b = contract({
      expiry: EXPIRY.tomorrow,
      type: 'call',
      strike: 200,
      bid: 3.0,
      ask: 3.1,
      delta: 0.5,
    });
    const profile = resolveProfile('day_trade');
    const base = { underlyingPrice: 200, type: 'call' as const, profile, now: CHAIN_NOW };

    // Act
    const forward = selectContract({ ...base, chain: [a, b] });
    const backward = selectContract({ ...base, chain: [b, a] });

    // Assert
    expect(forward).toMatchObject({ ok: true, winner: { symbol: 'XYZ260304C00200000' } });
    expect(backward).toMatchObject({ ok: true, winner: { symbol: 'XYZ260304C00200000' } });
  });
});

describe('selectContract: each filter excludes a contract that fails it', () => {
  const stale = new Date(CHAIN_NOW.getTime() - 121_000).toISOString();
  const fresh = new Date(CHAIN_NOW.getTime() - 119_000).toISOString();

  it.each<[string, Partial<ChainContract>, SelectionFilter]>([
    ['a put when a call is asked for', { type: 'put', delta: -0.5 }, 'type'],
    ['DTE above the range', { expiry: '2026-04-17' }, 'dte'],
    ['an expired contract (DTE -1)', { expiry: '2026-03-03' }, 'dte'],
    ['a zero bid', { bid: 0 }, 'quote'],
    ['an ask below the bid', { bid: 4.2, ask: 4.0 }, 'quote'],
    ['a non-finite ask', { ask: Number.NaN }, 'quote'],
    ['a quote older than 120 s', { quoteTime: stale }, 'quote'],
    ['an unparseable quote time', { quoteTime: 'yesterday' }, 'quote'],
    ['a mid below min_mid_price', { bid: 0.4, ask: 0.44 }, 'min_mid'],
    ['a spread over 10% of mid', { bid: 4.0, ask: 4.5 }, 'spread'],
    ['volume below the minimum', { volume: 99 }, 'volume'],
    ['unknown volume', { volume: undefined }, 'volume'],
    ['open interest below the minimum', { openInterest: 99 }, 'open_interest'],
    ['unknown open interest', { openInterest: undefined }, 'open_interest'],
    ['|delta| above delta_max', { delta: 0.71 }, 'delta'],
    ['|delta| below delta_min', { delta: 0.29 }, 'delta'],
    ['unknown delta', { delta: undefined }, 'delta'],
  ])('%s is excluded by the %s filter, which the refusal names', (_label, change, filter) => {
    // Arrange
    const chain = [{ ...GOOD_CALL, ...change }];

    // Act
    const result = selectContract({
      chain,
      underlyingPrice: 200,
      type: 'call',
      profile: { selection: OPEN_SELECTION },
      now: CHAIN_NOW,
    });

    // Assert
    expect(result).toMatchObject({ ok: false, excludedBy: filter, excludedCounts: excludedOnly(filter, 1) });
    if (!result.ok) expect(result.reason).toContain(`the ${filter} filter excluded the last 1 candidate`);
  });

  it('accepts the unmodified control contract (so each row above fails for its own change)', () => {
    // Act
    const result = selectContract({
      chain: [{ ...GOOD_CALL, quoteTime: fresh }],
      underlyingPrice: 200,
      type: 'call',
      profile: { selection: OPEN_SELECTION },
      now: CHAIN_NOW,
    });

    // Assert
    expect(result).toMatchObject({ ok: true, winner: { symbol: GOOD_CALL.symbol } });
  });

  it.each<[string, Partial<ProfileSelection>, Partial<ChainContract>]>([
    ['min_volume 0 accepts an unknown volume', { min_volume: 0 }, { volume: undefined }],
    [
      'min_open_interest 0 accepts an unknown open interest',
      { min_open_interest: 0 },
      { openInterest: undefined },
    ],
    [
      'delta bounds both null accept an unknown delta',
      { delta_min: null, delta_max: null },
      { delta: undefined },
    ],
    ['delta_max null means no upper bound', { delta_max: null }, { delta: 0.99 }],
  ])('%s', (_label, selectionChange, contractChange) => {
    // Act
    const result = selectContract({
      chain: [{ ...GOOD_CALL, ...contractChange }],
      underlyingPrice: 200,
      type: 'call',
      profile: { selection: { ...OPEN_SELECTION, ...selectionChange } },
      now: CHAIN_NOW,
    });

    // Assert
    expect(result.ok).toBe(true);
  });

  it('names the filter that excluded the LAST candidates and counts what every filter excluded', () => {
    // Arrange: swing puts, but with a delta band none of the 3 surviving puts is in.
    const swing = resolveProfile('swing_trade');
    const profile = { selection: { ...swing.selection, delta_min: 0.6, delta_max: 0.85 } };

    // Act
    const result = selectContract({
      chain: OPTION_CHAIN,
      underlyingPrice: CHAIN_SPOT,
      type: 'put',
      profile,
      now: CHAIN_NOW,
    });

    // Assert: 10 calls, 4 puts outside 7-30 DTE, 1 without volume, 1 with OI 50, the last 1 by delta.
    expect(result).toEqual({
      ok: false,
      excludedBy: 'delta',
      excludedCounts: {
        type: 10,
        dte: 4,
        quote: 0,
        min_mid: 0,
        spread: 0,
        volume: 1,
        open_interest: 1,
        delta: 1,
      },
      reason: expect.stringContaining(
        'the delta filter excluded the last 1 candidate(s) (|delta| outside 0.6-0.85',
      ),
    });
  });

  it('refuses an empty chain and a non-positive underlying price by name', () => {
    // Arrange
    const base = { type: 'call' as const, profile: { selection: OPEN_SELECTION }, now: CHAIN_NOW };

    // Act
    const empty = selectContract({ ...base, chain: [], underlyingPrice: 200 });
    const noPrice = selectContract({ ...base, chain: [GOOD_CALL], underlyingPrice: 0 });

    // Assert
    expect(empty).toMatchObject({ ok: false, excludedBy: 'empty_chain' });
    expect(noPrice).toMatchObject({ ok: false, excludedBy: 'underlying_price' });
  });
});

describe('selectContract: days to expiry use New York dates and the broker session', () => {
  const expiring = contract({
    expiry: '2026-03-05',
    type: 'call',
    strike: 200,
    bid: 3.0,
    ask: 3.1,
    delta: 0.5,
  });
  const dteOneOnly = { ...OPEN_SELECTION, dte_min: 1, dte_max: 1 };
  const dteZeroOnly = { ...OPEN_SELECTION, dte_min: 0, dte_max: 0 };

  it.each([
    // 03:30Z on 03-05 is 22:30 on 03-04 in New York: still one day to go (UTC would say 0).
    ['22:30 ET on 03-04 (03:30Z on 03-05)', 'DTE 1', '2026-03-05T03:30:00Z', dteOneOnly, true],
    // 05:30Z on 03-05 is 00:30 on 03-05 in New York: expires today.
    ['00:30 ET on 03-05 (05:30Z)', 'DTE 1', '2026-03-05T05:30:00Z', dteOneOnly, false],
    ['00:30 ET on 03-05 (05:30Z)', 'DTE 0', '2026-03-05T05:30:00Z', dteZeroOnly, true],
  ])(
    'at %s the 2026-03-05 contract passes a %s-only filter: %s',
    (_when, _filter, iso, selection, passes) => {
      // Act
      const result = selectContract({
        chain: [expiring],
        underlyingPrice: 200,
        type: 'call',
        profile: { selection },
        now: new Date(iso),
      });

      // Assert
      expect(result.ok ? 'selected' : result.excludedBy).toBe(passes ? 'selected' : 'dte');
    },
  );

  it.each([
    ['15:29 ET on a normal day', '2026-03-05T20:29:00Z', null, true],
    [
      '15:30 ET on a normal day (Alpaca refuses openings in expiring contracts)',
      '2026-03-05T20:30:00Z',
      null,
      false,
    ],
    ['12:29 ET before a 13:00 early close', '2026-03-05T17:29:00Z', '2026-03-05T18:00:00Z', true],
    ['12:30 ET before a 13:00 early close', '2026-03-05T17:30:00Z', '2026-03-05T18:00:00Z', false],
  ])('a contract expiring today at %s is selectable: %s', (_label, iso, close, passes) => {
    // Act
    const result = selectContract({
      chain: [{ ...expiring, quoteTime: iso }],
      underlyingPrice: 200,
      type: 'call',
      profile: { selection: dteZeroOnly },
      now: new Date(iso),
      sessionClose: close === null ? null : new Date(close),
    });

    // Assert
    expect(result.ok ? 'selected' : result.excludedBy).toBe(passes ? 'selected' : 'dte');
  });
});
