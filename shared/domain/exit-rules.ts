/**
 * The exit rules' public API: {@link evaluateExit} (a pure function of position, quote and now) and its
 * helpers. Each rule lives in its own module under `exit-rules/` (stop loss, trailing, take profit and
 * partials, time rules); this file re-exports them so callers import from one place.
 */
export { evaluateExit } from './exit-rules/evaluate';
export { checkQuote, markPrice } from './exit-rules/quote';
export { readExitFields } from './exit-rules/fields';
export { partialExitQty } from './exit-rules/take-profit';
export {
  type ExitContext,
  type ExitDecision,
  type ExitEvaluation,
  type ExitFields,
  type ExitPricing,
  type HoldReason,
  type MarkMode,
  type QuoteCheck,
  type QuoteProblem,
  type RuleExitReason,
  type TrailingState,
} from './exit-rules/types';
