/** Recommendation message builders shared by tests (valid by default; override any field). */
export const FUTURE_SYMBOL = 'GOOGL271217C00340000';
export const FUTURE_PUT = 'GOOGL271217P00300000';

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

/** The same, serialised as an SQS body. */
export function recommendationBody(overrides: Record<string, unknown> = {}, omit: string[] = []): string {
  return JSON.stringify(recommendation(overrides, omit));
}
