/**
 * Position sizing: how many contracts a recommendation without `num_contracts` buys, and whether one with
 * `num_contracts` fits the caps. Pure. Contracts are whole numbers; prices are dollars per share; one
 * contract costs price x 100.
 */
import type { ProfileSizing } from './strategy-profiles';

/** The caps sizing honours; `buying_power` is the account's options buying power itself. */
export type SizingCap =
  | 'max_premium_at_risk'
  | 'max_premium_per_position'
  | 'max_contracts_per_order'
  | 'max_contracts_per_position'
  | 'buying_power';

/** A cap that bound: `limit` and `uncapped` are dollars for premium caps, contracts for contract caps. */
export interface AppliedCap {
  readonly cap: SizingCap;
  readonly limit: number;
  /** The value before this cap applied. */
  readonly uncapped: number;
}

/** Input of {@link sizePosition}. */
export interface SizePositionInput {
  /** The price the position is expected to open at (the winner's ask or mid), dollars per share. */
  readonly premiumPerShare: number;
  /** The account's options buying power, dollars (from the broker's account). */
  readonly optionsBuyingPower: number;
  /** The strategy profile's sizing rules. */
  readonly sizing: ProfileSizing;
  /** The account's risk limits that concern size. */
  readonly accountLimits: {
    readonly max_contracts_per_order: number;
    readonly max_premium_per_position: number;
  };
  /** The recommendation's confidence, 0-1; used only when `sizing.confidence_scaling` is on. */
  readonly confidence?: number | null;
  /** The recommendation's own `num_contracts`: checked against the caps, never resized. */
  readonly requestedContracts?: number | null;
}

/** The result of {@link sizePosition}. */
export type SizingResult =
  | {
      readonly ok: true;
      /** Whole contracts, >= 1. */
      readonly contracts: number;
      /** `sized`: computed from the budget; `requested`: the recommendation's num_contracts, checked. */
      readonly source: 'sized' | 'requested';
      /** Dollars the position may spend after confidence scaling and premium caps (null when requested). */
      readonly budget: number | null;
      /** The confidence the budget was multiplied by (null when not scaled). */
      readonly confidenceApplied: number | null;
      /** Dollars per contract: premium per share x 100. */
      readonly costPerContract: number;
      /** Dollars: contracts x cost per contract. */
      readonly totalPremium: number;
      /** The caps that lowered the size, in the order applied. */
      readonly capsApplied: readonly AppliedCap[];
    }
  | {
      readonly ok: false;
      /** One line a human can act on, with the numbers. */
      readonly reason: string;
      /** What refused it: a cap, `budget` (too small for one contract) or `input` (bad numbers). */
      readonly limit: SizingCap | 'budget' | 'input';
    };

/**
 * Sizes a position. Without `requestedContracts`:
 * 1. budget = optionsBuyingPower x `risk_budget_pct`, x confidence when `confidence_scaling` is on and a
 *    confidence is given (absent confidence: no scaling);
 * 2. the budget is capped by the profile's `max_premium_at_risk` and the account's `max_premium_per_position`;
 * 3. contracts = floor(budget / (premiumPerShare x 100)) — computed in hundredths of a cent, so $300 at
 *    $1.50 is exactly 2 — then capped by `max_contracts_per_order` and `max_contracts_per_position`;
 * 4. zero contracts is a refusal that says which dollar amount was too small; it is never rounded up to 1.
 *
 * With `requestedContracts` (the recommendation named `num_contracts`), that number is checked against
 * every cap and the buying power and refused with an explanation when over one; it is never shrunk. The
 * risk budget does not apply to it: the sender chose the size.
 */
export function sizePosition(input: SizePositionInput): SizingResult {
  const refused = invalidInput(input);
  if (refused) return refused;
  const { premiumPerShare, sizing, accountLimits } = input;
  const costUnits = toUnits(premiumPerShare * 100, 'round');
  const premiumCaps: Array<[SizingCap, number]> = [];
  if (sizing.max_premium_at_risk !== null)
    premiumCaps.push(['max_premium_at_risk', sizing.max_premium_at_risk]);
  premiumCaps.push(['max_premium_per_position', accountLimits.max_premium_per_position]);
  const costs: Costs = {
    costUnits,
    costPerContract: fromUnits(costUnits),
    price: `${perShare(premiumPerShare)} x 100`,
    premiumCaps,
    contractCaps: [
      ['max_contracts_per_order', accountLimits.max_contracts_per_order],
      ['max_contracts_per_position', sizing.max_contracts_per_position],
    ],
  };
  const requested = input.requestedContracts ?? null;
  return requested !== null ? checkRequested(input, requested, costs) : sizeFromBudget(input, costs);
}

/** What one contract costs and the caps that apply, computed once per sizing. */
interface Costs {
  readonly costUnits: number;
  readonly costPerContract: number;
  /** `$1.50 x 100`, for reasons. */
  readonly price: string;
  readonly premiumCaps: ReadonlyArray<[SizingCap, number]>;
  readonly contractCaps: ReadonlyArray<[SizingCap, number]>;
}

/** A refusal of numbers that cannot be sized (price, buying power, confidence); null when they can. */
function invalidInput(input: SizePositionInput): SizingResult | null {
  const { premiumPerShare, optionsBuyingPower } = input;
  if (!Number.isFinite(premiumPerShare) || premiumPerShare <= 0) {
    return {
      ok: false,
      limit: 'input',
      reason: `premium per share ${premiumPerShare} is not a positive price`,
    };
  }
  if (!Number.isFinite(optionsBuyingPower) || optionsBuyingPower < 0) {
    return {
      ok: false,
      limit: 'input',
      reason: `options buying power ${optionsBuyingPower} is not a dollar amount`,
    };
  }
  const confidence = input.confidence ?? null;
  if (confidence !== null && !(confidence >= 0 && confidence <= 1)) {
    return { ok: false, limit: 'input', reason: `confidence ${confidence} is outside 0-1` };
  }
  return null;
}

/** The sender's `num_contracts`, checked against every cap and the buying power; never shrunk. */
function checkRequested(input: SizePositionInput, requested: number, costs: Costs): SizingResult {
  const { costUnits, costPerContract, price, premiumCaps, contractCaps } = costs;
  if (!Number.isInteger(requested) || requested < 1) {
    return { ok: false, limit: 'input', reason: `num_contracts ${requested} is not a whole number >= 1` };
  }
  for (const [cap, limit] of contractCaps) {
    if (requested > limit) {
      return { ok: false, limit: cap, reason: `num_contracts ${requested} is over ${cap} ${limit}` };
    }
  }
  const totalUnits = costUnits * requested;
  const total = fromUnits(totalUnits);
  for (const [cap, limit] of [
    ...premiumCaps,
    ['buying_power', input.optionsBuyingPower] as [SizingCap, number],
  ]) {
    if (totalUnits > toUnits(limit, 'floor')) {
      return {
        ok: false,
        limit: cap,
        reason: `num_contracts ${requested} at ${price} costs ${usd(total)}, over ${cap} ${usd(limit)}`,
      };
    }
  }
  return {
    ok: true,
    contracts: requested,
    source: 'requested',
    budget: null,
    confidenceApplied: null,
    costPerContract,
    totalPremium: total,
    capsApplied: [],
  };
}

/** Contracts the risk budget buys, after the premium caps and then the contract caps. */
function sizeFromBudget(input: SizePositionInput, costs: Costs): SizingResult {
  const { optionsBuyingPower, sizing } = input;
  const { costUnits, costPerContract, price, premiumCaps, contractCaps } = costs;
  const confidence = input.confidence ?? null;
  const capsApplied: AppliedCap[] = [];
  const scaled = sizing.confidence_scaling && confidence !== null;
  let budget = optionsBuyingPower * sizing.risk_budget_pct * (scaled ? confidence : 1);
  let budgetLimit: SizingCap | 'budget' = 'budget';
  for (const [cap, limit] of premiumCaps) {
    if (budget > limit) {
      capsApplied.push({ cap, limit, uncapped: budget });
      budget = limit;
      budgetLimit = cap;
    }
  }
  const affordable = Math.floor(toUnits(budget, 'floor') / costUnits);
  if (affordable < 1) {
    const what = budgetLimit === 'budget' ? `budget ${usd(budget)}` : `${budgetLimit} ${usd(budget)}`;
    const basis = `budget = ${pct(sizing.risk_budget_pct)} of ${usd(optionsBuyingPower)} options buying power${
      scaled ? ` x confidence ${confidence}` : ''
    }`;
    return {
      ok: false,
      limit: budgetLimit,
      reason: `${what} buys 0 contracts at ${price} (${usd(costPerContract)} per contract); ${basis}`,
    };
  }
  let contracts = affordable;
  for (const [cap, limit] of contractCaps) {
    if (contracts > limit) {
      capsApplied.push({ cap, limit, uncapped: contracts });
      contracts = limit;
    }
  }
  return {
    ok: true,
    contracts,
    source: 'sized',
    budget,
    confidenceApplied: scaled ? confidence : null,
    costPerContract,
    totalPremium: fromUnits(costUnits * contracts),
    capsApplied,
  };
}

// Integer hundredths of a cent: floating-point division (7 / 0.07 x 100) would otherwise floor 1 to 0.
const UNITS_PER_DOLLAR = 10_000;

function toUnits(dollars: number, mode: 'round' | 'floor'): number {
  const scaled = dollars * UNITS_PER_DOLLAR;
  // The 1e-6 absorbs representation error (0.07 x 100 x 10000 = 70000.00000000001) before flooring.
  return mode === 'round' ? Math.round(scaled) : Math.floor(scaled + 1e-6);
}

function fromUnits(units: number): number {
  return units / UNITS_PER_DOLLAR;
}

/** Dollars to whole cents, rounded down: a budget of $149.9998 shows as $149.99, never $150.00. */
function usd(dollars: number): string {
  return `$${(Math.floor(dollars * 100 + 1e-6) / 100).toFixed(2)}`;
}

/** $1.50, $0.065: cents at least, sub-penny digits when the price has them. */
function perShare(dollars: number): string {
  const fixed = dollars.toFixed(4).replace(/0{1,2}$/, '');
  return `$${fixed}`;
}

function pct(fraction: number): string {
  return `${Number((fraction * 100).toFixed(4))}%`;
}
