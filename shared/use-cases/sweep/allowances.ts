/**
 * What one sweep may still spend, owned by the sweep and handed to the phases that spend it: the
 * per-contract exit budget (safety rule 3), the order lookups, the resting-stop replacements and
 * placements, the broker holdings it read again, its index of the stops resting at the broker, and its
 * deadline and request budget. Nothing here outlives the sweep; nothing else holds per-sweep state.
 */
import type { BrokerOrder, BrokerPosition, RequestBudget } from '../../ports';
import { indexRestingStops } from '../../domain/resting-stop-plan';
import { ExitBudget } from './exit-budget';
import type { Snapshot } from './snapshot';

/** Replacements (PATCH) of resting stops one sweep may send. */
export const MAX_STOP_REPLACEMENTS_PER_SWEEP = 20;
/** Requests kept back from the rate budget for the exits and cancels a placement must never delay. */
export const PLACEMENT_RESERVE = 30;

export interface AllowanceLimits {
  readonly account: string;
  readonly maxLookups: number;
  /** On the sweep's clock: nothing that sends starts after it. */
  readonly deadlineMs?: number;
  readonly requestBudget?: RequestBudget;
  readonly nowMs: () => number;
}

export class SweepAllowances {
  readonly budget: ExitBudget;
  private lookups = 0;
  private replacements = 0;
  private readonly fresh = new Map<string, BrokerPosition | null>();
  private readonly resting: Map<string, BrokerOrder[]>;

  constructor(
    private readonly snap: Snapshot,
    private readonly limits: AllowanceLimits,
  ) {
    this.budget = new ExitBudget(snap.brokerPositions, snap.openOrders);
    this.resting = indexRestingStops(limits.account, snap.openOrders);
  }

  /** What the broker holds of `symbol`: a fresh read of this sweep if any, else the snapshot. */
  held(symbol: string): BrokerPosition | undefined {
    if (this.fresh.has(symbol)) return this.fresh.get(symbol) ?? undefined;
    return this.snap.brokerBySymbol.get(symbol);
  }

  /** Records a fresh read of one contract: holdings and the exit budget follow it. */
  noteFresh(symbol: string, held: BrokerPosition | null): void {
    this.fresh.set(symbol, held);
    this.budget.refresh(symbol, held);
  }

  /** Takes one order lookup; false when they are spent (the rest wait for the next sweep). */
  takeLookup(): boolean {
    if (this.lookups >= this.limits.maxLookups) return false;
    this.lookups++;
    return true;
  }

  /** Takes one resting-stop replacement; false when this sweep's are spent. */
  takeReplacement(): boolean {
    if (this.replacements >= MAX_STOP_REPLACEMENTS_PER_SWEEP) return false;
    this.replacements++;
    return true;
  }

  /**
   * Why a step that sends must not start now: past the deadline, or (for optional work such as a new
   * resting stop) the request budget has no room left beyond the reserve for protective work. null: go.
   */
  whyNoSend(kind: 'protective' | 'optional'): string | null {
    const now = this.limits.nowMs();
    const deadline = this.limits.deadlineMs;
    if (deadline !== undefined && now >= deadline) return 'the invocation deadline is near';
    const budget = this.limits.requestBudget;
    if (!budget) return null;
    // Never wait on the limiter past the deadline.
    if (deadline !== undefined && now + budget.msUntilStartable() >= deadline)
      return 'the request budget has no room before the deadline';
    if (kind === 'optional' && budget.startableNow() <= PLACEMENT_RESERVE)
      return 'the request budget is spent';
    return null;
  }

  /** This position's resting stops working at the broker now (highest seq first), per reads and acts. */
  restingOf(positionId: string): readonly BrokerOrder[] {
    return this.resting.get(positionId) ?? [];
  }

  /** Every position id with a stop resting at the broker. */
  restingPositions(): string[] {
    return [...this.resting.keys()];
  }

  /** Notes the position's resting stop after an act (or a lookup) of this sweep. */
  setResting(positionId: string, order: BrokerOrder | undefined): void {
    if (order) this.resting.set(positionId, [order]);
    else this.resting.delete(positionId);
  }
}
