/** Reading a record's exit fields (plan, quantities, trailing state), whatever version wrote it. */
import {
  EXIT_PLAN_KEYS,
  SYSTEM_EXIT_DEFAULTS,
  exitPlanSchema,
  isReadExitPlan,
  type ExitPlan,
} from '../exit-plan';
import type { Position } from '../position';
import type { ExitFields } from './types';
import { isFiniteNumber, parseTime, positiveOrNull } from './util';

/**
 * Reads the exit-related fields of a record written by any version of the pipeline, never throwing:
 * a missing or invalid exit-plan field takes the system default (the rule `readStoredExitPlan` uses),
 * `original_quantity` ← `quantity`, `partial_exits_done` ← [], `breakeven_active` ← false, entry time
 * ← `created_at`. `partial_exits` keeps its stored order, because `partial_exits_done` indexes into it.
 * Read afresh each time: remembering the fields per position saved no measurable time at 1,000 positions
 * (docs/BENCHMARKS.md, "Caches kept and removed").
 */
export function readExitFields(position: Position): ExitFields {
  const p = position as Partial<Record<keyof Position, unknown>>;
  const quantity = isFiniteNumber(p.quantity) ? p.quantity : 0;
  const original = isFiniteNumber(p.original_quantity) ? Math.floor(p.original_quantity) : quantity;
  const done = Array.isArray(p.partial_exits_done)
    ? p.partial_exits_done.filter((i): i is number => Number.isInteger(i))
    : [];
  return {
    plan: readPlan(p.exit_plan),
    originalQuantity: Math.max(original, quantity),
    partialExitsDone: new Set(done),
    peakPrice: positiveOrNull(p.peak_price),
    trailingStopPrice: positiveOrNull(p.trailing_stop_price),
    breakevenActive: p.breakeven_active === true,
    entryTimeMs: parseTime(p.entry_time) ?? parseTime(p.created_at),
  };
}

/** Each field on its own: a valid stored value wins, a missing or invalid one takes the system default. */
function readPlan(raw: unknown): ExitPlan {
  // A plan the store read (every position a sweep evaluates) is complete, valid and frozen already.
  if (isReadExitPlan(raw)) return raw;
  const stored = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const out: Record<string, unknown> = { ...SYSTEM_EXIT_DEFAULTS };
  // Every field a plan may carry, `at_expiry` included (it has no system default: absent stays absent).
  for (const key of EXIT_PLAN_KEYS) {
    if (stored[key] === undefined) continue;
    const parsed = exitPlanSchema.safeParse({ [key]: stored[key] });
    if (parsed.success) out[key] = parsed.data[key] ?? null;
  }
  const partials = out.partial_exits as ExitPlan['partial_exits'];
  if (partials && partials.length === 0) out.partial_exits = null;
  return out as unknown as ExitPlan;
}
