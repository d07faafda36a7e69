import { sizePosition, type SizePositionInput } from '../../shared/domain/sizing';
import type { ProfileSizing } from '../../shared/domain/strategy-profiles';

/** 2% of buying power, caps far away unless a test lowers one. */
const SIZING: ProfileSizing = {
  risk_budget_pct: 0.02,
  max_contracts_per_position: 1000,
  max_premium_at_risk: null,
  confidence_scaling: false,
};
const LIMITS = { max_contracts_per_order: 1000, max_premium_per_position: 1_000_000 };

function input(overrides: Partial<SizePositionInput> = {}): SizePositionInput {
  return {
    premiumPerShare: 1.5,
    optionsBuyingPower: 7500,
    sizing: SIZING,
    accountLimits: LIMITS,
    ...overrides,
  };
}

describe('sizePosition: contracts = floor(budget / (premium x 100))', () => {
  it.each([
    ['exactly one contract ($150 budget at $1.50)', 7500, 1.5, 1],
    ['just under two contracts ($299.98 at $1.50)', 14_999, 1.5, 1],
    ['exactly two contracts ($300 at $1.50)', 15_000, 1.5, 2],
    ['a price whose x 100 is inexact in floating point ($7 at $0.07)', 350, 0.07, 1],
    ['a sub-penny mid ($255 at $1.275)', 12_750, 1.275, 2],
  ])('%s', (_label, buyingPower, premium, contracts) => {
    // Act
    const result = sizePosition(input({ optionsBuyingPower: buyingPower, premiumPerShare: premium }));

    // Assert
    expect(result).toMatchObject({ ok: true, contracts, source: 'sized', capsApplied: [] });
  });

  it('reports the budget, cost per contract and total premium in dollars', () => {
    // Act
    const result = sizePosition(input({ optionsBuyingPower: 20_000 }));

    // Assert: 2% of $20,000 = $400 → 2 contracts at $150.
    expect(result).toEqual({
      ok: true,
      contracts: 2,
      source: 'sized',
      budget: 400,
      confidenceApplied: null,
      costPerContract: 150,
      totalPremium: 300,
      capsApplied: [],
    });
  });

  it.each([
    ['$120.00 budget', 6000, 'budget $120.00 buys 0 contracts at $1.50 x 100 ($150.00 per contract)'],
    ['a budget one cent under one contract', 7499.5, 'budget $149.99 buys 0 contracts at $1.50 x 100'],
    ['no buying power', 0, 'budget $0.00 buys 0 contracts'],
  ])('refuses zero contracts, never rounding up to 1: %s', (_label, buyingPower, reason) => {
    // Act
    const result = sizePosition(input({ optionsBuyingPower: buyingPower }));

    // Assert
    expect(result).toMatchObject({ ok: false, limit: 'budget', reason: expect.stringContaining(reason) });
  });

  it('says how the budget was derived when refusing', () => {
    // Act
    const result = sizePosition(input({ optionsBuyingPower: 6000 }));

    // Assert
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringContaining('budget = 2% of $6000.00 options buying power'),
    });
  });
});

describe('sizePosition: caps', () => {
  // $1.00 premium = $100 per contract; 2% of $100,000 = $2,000 → 20 contracts uncapped.
  const base = input({ premiumPerShare: 1, optionsBuyingPower: 100_000 });

  it.each<[string, Partial<SizePositionInput>, number, string, number]>([
    [
      'profile max_premium_at_risk',
      { sizing: { ...SIZING, max_premium_at_risk: 550 } },
      5,
      'max_premium_at_risk',
      2000,
    ],
    [
      'account max_premium_per_position',
      { accountLimits: { ...LIMITS, max_premium_per_position: 700 } },
      7,
      'max_premium_per_position',
      2000,
    ],
    [
      'account max_contracts_per_order',
      { accountLimits: { ...LIMITS, max_contracts_per_order: 3 } },
      3,
      'max_contracts_per_order',
      20,
    ],
    [
      'profile max_contracts_per_position',
      { sizing: { ...SIZING, max_contracts_per_position: 4 } },
      4,
      'max_contracts_per_position',
      20,
    ],
  ])('%s lowers the size and is recorded', (_label, change, contracts, cap, uncapped) => {
    // Act
    const result = sizePosition({ ...base, ...change });

    // Assert
    expect(result).toMatchObject({ ok: true, contracts, capsApplied: [{ cap, uncapped }] });
  });

  it('records every cap that bound, in order, when several do', () => {
    // Act
    const result = sizePosition({
      ...base,
      sizing: { ...SIZING, max_premium_at_risk: 1500, max_contracts_per_position: 12 },
      accountLimits: { max_premium_per_position: 1200, max_contracts_per_order: 10 },
    });

    // Assert: $2000 → $1500 → $1200 = 12 contracts → 10 per order (12 per position no longer binds).
    expect(result).toMatchObject({
      ok: true,
      contracts: 10,
      budget: 1200,
      capsApplied: [
        { cap: 'max_premium_at_risk', limit: 1500, uncapped: 2000 },
        { cap: 'max_premium_per_position', limit: 1200, uncapped: 1500 },
        { cap: 'max_contracts_per_order', limit: 10, uncapped: 12 },
      ],
    });
  });

  it('a premium cap too small for one contract is a refusal naming that cap', () => {
    // Act
    const result = sizePosition({ ...base, accountLimits: { ...LIMITS, max_premium_per_position: 99 } });

    // Assert
    expect(result).toMatchObject({
      ok: false,
      limit: 'max_premium_per_position',
      reason: expect.stringContaining('max_premium_per_position $99.00 buys 0 contracts at $1.00 x 100'),
    });
  });
});

describe('sizePosition: confidence scaling', () => {
  // $300 budget at $1.50 = 2 contracts unscaled.
  const base = input({ optionsBuyingPower: 15_000 });
  const scaling = { ...SIZING, confidence_scaling: true };

  it.each<[string, ProfileSizing, number | undefined, number, number | null]>([
    ['on, confidence 0.5 halves the budget', scaling, 0.5, 1, 0.5],
    ['on, confidence 1 leaves it', scaling, 1, 2, 1],
    ['on, no confidence given: no scaling', scaling, undefined, 2, null],
    ['off: confidence ignored', SIZING, 0.5, 2, null],
  ])('%s', (_label, sizing, confidence, contracts, confidenceApplied) => {
    // Act
    const result = sizePosition({ ...base, sizing, confidence });

    // Assert
    expect(result).toMatchObject({ ok: true, contracts, confidenceApplied });
  });

  it('a confidence that scales the budget below one contract is refused and says so', () => {
    // Act
    const result = sizePosition({ ...base, sizing: scaling, confidence: 0.4 });

    // Assert: $300 x 0.4 = $120.
    expect(result).toMatchObject({
      ok: false,
      limit: 'budget',
      reason: expect.stringMatching(/^budget \$120\.00 buys 0 contracts .* x confidence 0\.4$/),
    });
  });
});

describe('sizePosition: a recommendation that names num_contracts', () => {
  it('is used as given when within every cap, even above what the budget would buy', () => {
    // Act: the budget ($150) would buy 1.
    const result = sizePosition(input({ requestedContracts: 3 }));

    // Assert
    expect(result).toMatchObject({ ok: true, contracts: 3, source: 'requested', totalPremium: 450 });
  });

  it.each<[string, Partial<SizePositionInput>, string, string]>([
    [
      'max_contracts_per_order',
      { accountLimits: { ...LIMITS, max_contracts_per_order: 4 } },
      'max_contracts_per_order',
      'num_contracts 5 is over max_contracts_per_order 4',
    ],
    [
      'max_contracts_per_position',
      { sizing: { ...SIZING, max_contracts_per_position: 2 } },
      'max_contracts_per_position',
      'num_contracts 5 is over max_contracts_per_position 2',
    ],
    [
      'max_premium_per_position',
      { accountLimits: { ...LIMITS, max_premium_per_position: 700 } },
      'max_premium_per_position',
      'num_contracts 5 at $1.50 x 100 costs $750.00, over max_premium_per_position $700.00',
    ],
    [
      'max_premium_at_risk',
      { sizing: { ...SIZING, max_premium_at_risk: 600 } },
      'max_premium_at_risk',
      'num_contracts 5 at $1.50 x 100 costs $750.00, over max_premium_at_risk $600.00',
    ],
    ['buying power', { optionsBuyingPower: 749.99 }, 'buying_power', 'over buying_power $749.99'],
  ])('over %s is refused with the numbers, not shrunk', (_label, change, limit, reason) => {
    // Act
    const result = sizePosition({ ...input({ requestedContracts: 5 }), ...change });

    // Assert
    expect(result).toEqual({ ok: false, limit, reason: expect.stringContaining(reason) });
  });

  it('exactly at a premium cap is accepted', () => {
    // Act
    const result = sizePosition(
      input({ requestedContracts: 5, accountLimits: { ...LIMITS, max_premium_per_position: 750 } }),
    );

    // Assert
    expect(result).toMatchObject({ ok: true, contracts: 5 });
  });
});

describe('sizePosition: bad numbers are refused, not sized', () => {
  it.each<[string, Partial<SizePositionInput>]>([
    ['zero premium', { premiumPerShare: 0 }],
    ['NaN premium', { premiumPerShare: Number.NaN }],
    ['negative buying power', { optionsBuyingPower: -1 }],
    ['confidence above 1', { confidence: 1.5 }],
    ['fractional num_contracts', { requestedContracts: 1.5 }],
    ['zero num_contracts', { requestedContracts: 0 }],
  ])('%s', (_label, change) => {
    // Act
    const result = sizePosition(input(change));

    // Assert
    expect(result).toMatchObject({ ok: false, limit: 'input' });
  });
});
