import type { AccountConfig } from '../domain/account-config';
import { selectContract, type ChainContract } from '../domain/contract-selection';
import { InvalidRecommendationError, RiskLimitError, TransientError } from '../domain/errors';
import { resolveExitPlan, type ExitPlan, type ExitPlanInput } from '../domain/exit-plan';
import { addDays, newYorkTime, sessionCloseOf } from '../domain/market-time';
import { parseOccSymbol, type OccSymbol } from '../domain/occ';
import type { Position } from '../domain/position';
import type { Recommendation } from '../domain/recommendation';
import { sizePosition } from '../domain/sizing';
import {
  mergeProfileExitPlan,
  resolveProfile,
  type ProfileTimeRules,
  type StrategyProfile,
} from '../domain/strategy-profiles';
import type { MarketClock, MarketData, OptionChainEntry } from '../ports';
import type { BrokerSnapshot } from './broker-snapshot';

/**
 * Everything an opening order needs, decided once and stored on the claim: the contract (named by the
 * message or chosen by the account), the size, the exit plan and the profile's time rules. A retry of a
 * claimed recommendation reuses the claim's plan; it never chooses again.
 */
export interface PlannedOpen {
  readonly recommendation_id: string;
  readonly ticker: string;
  readonly option_symbol: string;
  readonly occ: OccSymbol;
  readonly action: 'BUY' | 'SELL';
  readonly num_contracts: number;
  readonly order_type: 'market' | 'limit';
  readonly limit_price: number | null;
  /** The per-share price the premium and buying-power checks use (limit, or ask for BUY / bid for SELL). */
  readonly price_per_share: number;
  readonly exit_plan: ExitPlan;
  readonly strategy: string | null;
  readonly time_rules: ProfileTimeRules | null;
  readonly selection: Record<string, unknown> | null;
  readonly sizing: Record<string, unknown> | null;
  /** The underlying's price when the plan was made (known when the account chose the contract). */
  readonly underlying_price: number | null;
}

/** The profile a recommendation uses: its `strategy`, else the account's default when one is needed. */
function profileFor(rec: Recommendation, account: AccountConfig): StrategyProfile | null {
  const needsProfile = rec.instrument_type !== undefined || rec.num_contracts === undefined;
  const name = rec.strategy ?? (needsProfile ? account.default_strategy : null);
  return name ? resolveProfile(name, account.strategy_profiles) : null;
}

/**
 * The exit plan a position opens with: the recommendation's `exit_plan` over the profile's (when one is
 * used) over the account's `exit_defaults` over the system defaults. The exit-plan lab resolves its plans
 * with this same function, so a plan means the same thing there as in production.
 */
export function openExitPlan(
  account: Pick<AccountConfig, 'exit_defaults'>,
  profile: Pick<StrategyProfile, 'exit_plan'> | null,
  exitPlan: ExitPlanInput | null | undefined,
): ExitPlan {
  return profile
    ? mergeProfileExitPlan(profile, account.exit_defaults, exitPlan)
    : resolveExitPlan(account.exit_defaults, exitPlan);
}

/**
 * Plans a fresh recommendation: resolves the profile, picks the contract from the underlying's chain when
 * the message gives `instrument_type`, and sizes it when the message has no `num_contracts`.
 * Refusals are permanent ({@link RiskLimitError} naming the filter or the sizing limit).
 */
export async function planOpen(rec: Recommendation, deps: PlanOpenDeps): Promise<PlannedOpen> {
  const { account } = deps;
  const profile = profileFor(rec, account);
  let chosen: ChosenContract | null = null;
  let symbol = rec.option_symbol;
  let occ = rec.occ;
  if (symbol === undefined || occ === undefined) {
    if (!profile || !rec.instrument_type) {
      throw new InvalidRecommendationError('instrument_type needs a strategy profile', rec.recommendation_id);
    }
    chosen = await chooseContract(rec, rec.instrument_type, profile, deps);
    symbol = chosen.symbol;
    occ = chosen.occ;
  }

  const price =
    rec.order_type === 'limit' && rec.limit_price != null
      ? rec.limit_price
      : (chosen?.marketPrice ?? (await quotedPrice(rec, symbol, deps.snapshot)));

  let contracts = rec.num_contracts;
  let sizing: Record<string, unknown> | null = null;
  if (profile) {
    const sized = await sizeOpen(rec, profile, price, deps);
    contracts = sized.contracts;
    sizing = { ...sized };
  }
  if (contracts === undefined)
    throw new InvalidRecommendationError('num_contracts is required', rec.recommendation_id);

  return {
    recommendation_id: rec.recommendation_id,
    ticker: rec.ticker,
    option_symbol: symbol,
    occ,
    action: rec.action,
    num_contracts: contracts,
    order_type: rec.order_type,
    limit_price: rec.limit_price ?? null,
    price_per_share: price,
    exit_plan: openExitPlan(account, profile, rec.exit_plan),
    strategy: profile?.name ?? null,
    time_rules: profile?.time_rules ?? null,
    selection: chosen?.selection ?? null,
    sizing,
    underlying_price: chosen?.underlying ?? null,
  };
}

/** What {@link planOpen} reads. */
interface PlanOpenDeps {
  account: AccountConfig;
  marketData: MarketData;
  snapshot: BrokerSnapshot;
  now: Date;
  clock: MarketClock;
}

/** The contract the account chose from the chain, and why. */
interface ChosenContract {
  readonly symbol: string;
  readonly occ: OccSymbol;
  /** Ask for a BUY, bid for a SELL, per share. */
  readonly marketPrice: number;
  readonly underlying: number;
  readonly selection: Record<string, unknown>;
}

/** Picks the contract from the underlying's chain with the profile's selection (narrowed by the account). */
async function chooseContract(
  rec: Recommendation,
  instrumentType: 'CALL' | 'PUT',
  profile: StrategyProfile,
  deps: PlanOpenDeps,
): Promise<ChosenContract> {
  const { account, now } = deps;
  const type = instrumentType === 'CALL' ? 'call' : 'put';
  // The account's own minimum days to expiry narrows the profile's range, so selection never picks a
  // contract the risk check would then refuse.
  const dteMin = Math.max(profile.selection.dte_min, account.limits.min_days_to_expiry);
  const selectionProfile = { selection: { ...profile.selection, dte_min: dteMin } };
  if (dteMin > profile.selection.dte_max) {
    throw new RiskLimitError(
      `strategy ${profile.name} wants ${profile.selection.dte_min}-${profile.selection.dte_max} days to expiry; the account's min_days_to_expiry is ${account.limits.min_days_to_expiry}`,
      'contract_selection:dte',
      rec.recommendation_id,
    );
  }
  const today = newYorkTime(now).date;
  const [chain, underlyingPrice] = await Promise.all([
    deps.marketData.getOptionChain(rec.ticker, {
      type,
      expirationDateGte: addDays(today, dteMin),
      expirationDateLte: addDays(today, profile.selection.dte_max),
      includeOpenInterest: profile.selection.min_open_interest > 0,
    }),
    deps.marketData.getLatestStockPrice(rec.ticker),
  ]);
  const result = selectContract({
    chain: chain.map(toChainContract),
    underlyingPrice,
    type,
    profile: selectionProfile,
    now,
    sessionClose: sessionCloseOf(deps.clock),
    maxQuoteAgeSeconds: account.exit_execution.max_quote_age_seconds,
  });
  if (!result.ok) {
    throw new RiskLimitError(
      `contract selection (${profile.name}): ${result.reason}`,
      `contract_selection:${result.excludedBy}`,
      rec.recommendation_id,
    );
  }
  const symbol = result.winner.symbol;
  const parsed = parseOccSymbol(symbol);
  if (!parsed.ok) throw new TransientError(`chain returned a bad symbol: ${parsed.error}`);
  return {
    symbol,
    occ: parsed.value,
    marketPrice: rec.action === 'BUY' ? result.winner.ask : result.winner.bid,
    underlying: underlyingPrice,
    selection: {
      ...result.why,
      score: result.score,
      candidates: result.candidatesConsidered,
      excluded: result.excludedCounts,
    },
  };
}

/** Sizes (or checks the message's size) with the profile's sizing and the broker's buying power. */
async function sizeOpen(rec: Recommendation, profile: StrategyProfile, price: number, deps: PlanOpenDeps) {
  const brokerAccount = await deps.snapshot.account();
  const sized = sizePosition({
    premiumPerShare: price,
    optionsBuyingPower: brokerAccount.optionsBuyingPower,
    sizing: profile.sizing,
    accountLimits: deps.account.limits,
    confidence: rec.confidence ?? null,
    requestedContracts: rec.num_contracts ?? null,
  });
  if (!sized.ok) {
    throw new RiskLimitError(
      `sizing (${profile.name}): ${sized.reason}`,
      `sizing:${sized.limit}`,
      rec.recommendation_id,
    );
  }
  return sized;
}

/** The plan a claim already holds (a retry never re-plans). The price is re-read for the risk checks. */
export async function planFromClaim(
  claim: Position,
  rec: Recommendation,
  snapshot: BrokerSnapshot,
): Promise<PlannedOpen> {
  const parsed = parseOccSymbol(claim.option_symbol);
  if (!parsed.ok)
    throw new InvalidRecommendationError(`claimed symbol: ${parsed.error}`, claim.recommendation_id);
  const price =
    claim.open_order_type === 'limit' && claim.open_limit_price != null
      ? claim.open_limit_price
      : await quotedPrice(rec, claim.option_symbol, snapshot);
  return {
    recommendation_id: claim.recommendation_id,
    ticker: claim.ticker,
    option_symbol: claim.option_symbol,
    occ: parsed.value,
    action: claim.side === 'long' ? 'BUY' : 'SELL',
    num_contracts: claim.requested_quantity,
    order_type: claim.open_order_type,
    limit_price: claim.open_limit_price ?? null,
    price_per_share: price,
    exit_plan: claim.exit_plan,
    strategy: claim.strategy ?? null,
    time_rules: claim.time_rules ?? null,
    selection: claim.selection ?? null,
    sizing: claim.sizing ?? null,
    underlying_price: claim.entry_underlying_price ?? null,
  };
}

/** What a market order would pay now: the ask for a BUY, the bid for a SELL. */
async function quotedPrice(
  rec: Pick<Recommendation, 'action'>,
  symbol: string,
  snapshot: BrokerSnapshot,
): Promise<number> {
  const quote = await snapshot.quote(symbol);
  const price = quote ? (rec.action === 'BUY' ? quote.ask : quote.bid) : NaN;
  if (!quote || !Number.isFinite(price) || price <= 0) {
    throw new TransientError(
      `no usable quote for ${symbol}: cannot check the premium of a market order; will retry`,
      {
        reason: 'no_quote',
      },
    );
  }
  return price;
}

/** A chain entry as contract selection and the spread builders read it (a missing quote side is NaN). */
export function toChainContract(e: OptionChainEntry): ChainContract {
  return {
    symbol: e.symbol,
    expiry: e.expiry,
    type: e.type,
    strike: e.strike,
    bid: e.bid ?? NaN,
    ask: e.ask ?? NaN,
    ...(e.quoteTime ? { quoteTime: e.quoteTime } : {}),
    ...(e.volume !== null ? { volume: e.volume } : {}),
    ...(e.openInterest !== null ? { openInterest: e.openInterest } : {}),
    ...(e.delta !== null ? { delta: e.delta } : {}),
  };
}
