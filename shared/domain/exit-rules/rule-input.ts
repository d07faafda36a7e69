/** What every exit rule reads: one evaluation's position, plan, prices and trailing state. */
import type { ExitPlan } from '../exit-plan';
import type { Position, PositionSide } from '../position';
import type { ExitContext, ExitFields, RuleExitReason, TrailingState } from './types';

/** The prices and facts of one evaluation, computed once and read by each rule. */
export interface RuleInput {
  readonly position: Position;
  readonly side: PositionSide;
  readonly entry: number;
  readonly quantity: number;
  readonly plan: ExitPlan;
  readonly fields: ExitFields;
  readonly now: Date;
  readonly context: ExitContext;
  /** The mark (stops judge on it); null without a usable quote. */
  readonly mark: number | null;
  /** Gain at the mark; null without a mark. */
  readonly gain: number | null;
  /** Gain at the executable side (profit rules judge on it); null without one. */
  readonly profit: number | null;
  /** Trailing state after this evaluation's price. */
  readonly state: TrailingState;
  /** Minutes since entry; null without an entry time. */
  readonly heldMinutes: number | null;
  /** ` (mark x, entry y)` for detail lines, or empty. */
  readonly prices: string;
  /** ` (bid|ask x, entry y)` for detail lines, or empty. */
  readonly profitPrices: string;
}

/** A rule that fired: close `qty` for `reason`. */
export interface Candidate {
  readonly reason: RuleExitReason;
  readonly qty: number;
  readonly detail: string;
  readonly partialLevel?: number;
}
