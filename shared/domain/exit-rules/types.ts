/** The exit rules' value types: pricing options, decisions, trailing state, evaluation results. */
import type { ExitPlan } from '../exit-plan';
import type { ExitReason } from '../position';

/** How a quote becomes a price: `mid` = (bid+ask)/2; `bid_ask` = the side a close trades on. */
export type MarkMode = 'mid' | 'bid_ask';

/** The part of an account's `exit_execution` the rules need (structurally a subset of it). */
export interface ExitPricing {
  /** @default 'mid' */
  readonly mark: MarkMode;
  /** A quote older than this (seconds, relative to `now`) is stale. @default 120 */
  readonly max_quote_age_seconds: number;
}

/** Same defaults as `exitExecutionSchema`. */
export const DEFAULT_EXIT_PRICING: ExitPricing = Object.freeze({ mark: 'mid', max_quote_age_seconds: 120 });

/** Why a quote cannot be used to price a position. */
export type QuoteProblem = 'no_quote' | 'stale_quote' | 'crossed_quote' | 'bad_quote';

/** Why an evaluation decided to hold. */
export type HoldReason =
  | 'not_open'
  | 'no_quantity'
  | 'no_entry_price'
  | 'exit_pending'
  | QuoteProblem
  | 'min_hold'
  | 'no_rule_fired';

/** The reasons the rules can give; `flatten` is an operator action, never a rule. */
export type RuleExitReason = Exclude<ExitReason, 'flatten'>;

/** One decision per evaluation. `detail` is a human sentence for the operational log. */
export type ExitDecision =
  | { readonly action: 'hold'; readonly reason: HoldReason; readonly detail: string }
  | {
      readonly action: 'close';
      /** Whole contracts, 1 ≤ qty ≤ position.quantity. */
      readonly qty: number;
      /** The rules only give {@link RuleExitReason}s; `flatten` is for a use case's own operator decision. */
      readonly reason: ExitReason;
      /** Index into `exit_plan.partial_exits` when reason is `partial_exit`. */
      readonly partialLevel?: number;
      /** Per share; null when a time rule fired without a usable quote. */
      readonly mark: number | null;
      readonly detail: string;
    };

/** Trailing fields of the position record, as they should be after this evaluation. */
export interface TrailingState {
  /** Best mark since entry: peak for a long, trough for a short (per share). */
  readonly peak_price: number | null;
  /** Per share; null until the trailing stop is active. */
  readonly trailing_stop_price: number | null;
  readonly breakeven_active: boolean;
}

/** What the sweep knows beyond the position and the quote. */
export interface ExitContext {
  /** The broker's close of today's session (early closes count); null/absent when unknown or closed. */
  readonly sessionClose?: Date | null;
}

/** Result of {@link evaluateExit}. */
export interface ExitEvaluation {
  readonly decision: ExitDecision;
  /** Persist these fields (conditionally on the record's version) when `stateChanged`, whatever the decision. */
  readonly state: TrailingState;
  /** True when `state` differs from what the record holds. */
  readonly stateChanged: boolean;
  /** Price used for the price rules, per share; null when the quote was unusable. */
  readonly mark: number | null;
  /** Gain at `mark` as a fraction of entry, signed for the side; null without a mark. */
  readonly gain: number | null;
  /**
   * The price a close would get now (bid for a long, ask for a short), per share: what take profit, partial
   * exits, the trailing peak and breakeven activation are judged on. Null without a usable quote or when
   * that side is empty.
   */
  readonly executable: number | null;
}

/** Exit fields of a position with the derived values older records lack. */
export interface ExitFields {
  readonly plan: ExitPlan;
  /** Contracts the position opened with; never less than what is held now. */
  readonly originalQuantity: number;
  readonly partialExitsDone: ReadonlySet<number>;
  readonly peakPrice: number | null;
  readonly trailingStopPrice: number | null;
  readonly breakevenActive: boolean;
  /** Epoch ms of entry (`entry_time`, else `created_at`); null when neither parses. */
  readonly entryTimeMs: number | null;
}

/** Result of {@link checkQuote}. */
export type QuoteCheck =
  | { readonly ok: true; readonly mark: number }
  | { readonly ok: false; readonly problem: QuoteProblem; readonly detail: string };

// Gains and prices are doubles computed from cent prices: (1.21 - 1.10) / 1.10 is 0.0999...88, so a
