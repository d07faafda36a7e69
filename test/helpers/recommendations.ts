/** Recommendation message builders shared by tests (valid by default; override any field). */
import { parseRecommendation } from '../../shared/domain/recommendation';
import { contractFor, FAR_DAYS } from './contracts';

/** The default contract of the tests: a GOOGL 340 call, far from expiry at the test's clock. */
export const FUTURE_SYMBOL = contractFor('GOOGL', FAR_DAYS, 'C', 340);
/** A GOOGL call of another strike, expiring with {@link FUTURE_SYMBOL}. */
export const futureCall = (strike: number): string => contractFor('GOOGL', FAR_DAYS, 'C', strike);
/** A GOOGL 300 put expiring with {@link FUTURE_SYMBOL}. */
export const FUTURE_PUT = contractFor('GOOGL', FAR_DAYS, 'P', 300);

let seq = 0;

/** A valid recommendation object; `overrides` replace fields (use `undefined` via `omit` to drop one). */
export function recommendation(
  overrides: Record<string, unknown> = {},
  omit: string[] = [],
): Record<string, unknown> {
  const base: Record<string, unknown> = {
    recommendation_id: `rec-${process.pid}-${++seq}`,
    ticker: 'GOOGL',
    option_symbol: FUTURE_SYMBOL,
    action: 'BUY',
    num_contracts: 2,
    order_type: 'market',
    limit_price: null,
    exit_plan: { stop_loss_pct: 0.25, take_profit_pct: 0.5, trailing_stop_pct: 0.2 },
  };
  const out = { ...base, ...overrides };
  for (const k of omit) delete out[k];
  return out;
}

/**
 * A recommendation parsed at `now` (it must be valid), with the fields of an explicit-contract one
 * narrowed: the domain tests' input to the order builders and risk checks.
 */
export function parsedRecommendation(overrides: Record<string, unknown>, now: Date) {
  const r = parseRecommendation(recommendationBody(overrides), now);
  return { ...r, option_symbol: r.option_symbol!, num_contracts: r.num_contracts! };
}

/** The same, serialised as an SQS body. */
export function recommendationBody(overrides: Record<string, unknown> = {}, omit: string[] = []): string {
  return JSON.stringify(recommendation(overrides, omit));
}
