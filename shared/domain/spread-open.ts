/**
 * The opening of a spread recommendation, decided in one pure step for the open path to call once it is
 * wired: the legs (named, or built from the chain), the static limits on each leg (days to expiry), the
 * net price the risk is judged at (the limit, or the executable net of the quotes for a market order), the
 * spread's risk limits, and the one opening mleg order. Throws {@link RiskLimitError} or
 * {@link InvalidRecommendationError} (reason `spread_build`, `spread_quote`, `spread_size`) naming the why.
 */
import type { AccountConfig } from './account-config';
import type { ChainContract } from './contract-selection';
import { InvalidRecommendationError, RiskLimitError } from './errors';
import { daysUntil } from './market-time';
import type { SpreadRecommendation } from './spread-message';
import { buildSpreadLegs } from './spread-builders';
import { buildSpreadOpenOrder, type MlegOpenRequest } from './spread-orders';
import { netOpenPrice, type LegQuote } from './spread-pricing';
import { checkSpreadRisk, type SpreadRisk } from './spread-risk';
import type { SpreadLeg } from './spread-types';

/** Input of {@link planSpreadOpen}. */
export interface SpreadOpenPlanInput {
  readonly rec: SpreadRecommendation;
  readonly account: AccountConfig;
  /** The broker's `options_trading_level`. */
  readonly tradingLevel: number | null | undefined;
  /** Quotes of the named legs (a built spread prices its legs from the chain). */
  readonly quotes: ReadonlyMap<string, LegQuote>;
  /** For a spread to build: the underlying's chain and price. */
  readonly chain?: readonly ChainContract[];
  readonly underlyingPrice?: number;
  /** The multiple the profile sized, when the message has no `num_contracts`. */
  readonly sizedMultiple?: number;
  readonly now: Date;
}

/** What {@link planSpreadOpen} decided. */
export interface SpreadOpenPlan {
  readonly legs: readonly SpreadLeg[];
  readonly multiple: number;
  /** Per share: positive debit, negative credit. */
  readonly netOpenPerShare: number;
  readonly risk: SpreadRisk;
  readonly order: MlegOpenRequest;
}

export function planSpreadOpen(input: SpreadOpenPlanInput): SpreadOpenPlan {
  const { rec, account, now } = input;
  const id = rec.recommendation_id;
  const { legs, quotes } = legsOf(input);
  const multiple = rec.num_contracts ?? input.sizedMultiple;
  if (multiple === undefined || !Number.isInteger(multiple) || multiple < 1) {
    throw new InvalidRecommendationError('the spread has no num_contracts and no sized multiple', id, {
      reason: 'spread_size',
    });
  }
  for (const leg of legs) {
    const dte = daysUntil(leg.occ.expiry, now);
    if (dte < account.limits.min_days_to_expiry) {
      throw new RiskLimitError(
        `leg ${leg.option_symbol} expires in ${dte} day(s); min_days_to_expiry is ${account.limits.min_days_to_expiry}`,
        'min_days_to_expiry',
        id,
      );
    }
  }
  const executable = netOpenPrice(legs, quotes);
  if (rec.order_type === 'market' && !executable.ok) {
    throw new InvalidRecommendationError(`a market spread needs every leg priced: ${executable.reason}`, id, {
      reason: 'spread_quote',
    });
  }
  // A limit is judged at its own net; a market order at what the quotes say it pays now.
  const net = rec.order_type === 'limit' ? rec.limit_price! : (executable as { perShare: number }).perShare;
  const risk = checkSpreadRisk({
    recommendation_id: id,
    legs,
    multiple,
    netOpenPerShare: net,
    account,
    tradingLevel: input.tradingLevel,
  });
  const order = buildSpreadOpenOrder(
    {
      recommendation_id: id,
      legs,
      multiple,
      order_type: rec.order_type,
      limit_price: rec.limit_price ?? null,
    },
    account.name,
  );
  return { legs, multiple, netOpenPerShare: net, risk, order };
}

function legsOf(input: SpreadOpenPlanInput): {
  legs: readonly SpreadLeg[];
  quotes: ReadonlyMap<string, LegQuote>;
} {
  const { rec } = input;
  if (rec.legs) return { legs: rec.legs, quotes: input.quotes };
  if (!rec.build || !input.chain || input.underlyingPrice === undefined) {
    throw new InvalidRecommendationError(
      'a spread to build needs the chain and the underlying price',
      rec.recommendation_id,
      {
        reason: 'spread_build',
      },
    );
  }
  const built = buildSpreadLegs({
    request: rec.build,
    chain: input.chain,
    underlyingPrice: input.underlyingPrice,
    now: input.now,
  });
  if (!built.ok) {
    throw new InvalidRecommendationError(`spread: ${built.reason}`, rec.recommendation_id, {
      reason: 'spread_build',
    });
  }
  const quotes = new Map<string, LegQuote>(input.chain.map((c) => [c.symbol, { bid: c.bid, ask: c.ask }]));
  return { legs: built.legs, quotes };
}
