import * as z from 'zod/mini';
// English messages for every schema: configured once in ./zod.
import './zod';

/** The choices of `at_expiry`; `close` is the default. */
export const AT_EXPIRY_CHOICES = ['close', 'exercise', 'do_not_exercise'] as const;
export type AtExpiry = (typeof AT_EXPIRY_CHOICES)[number];

const fraction01Inclusive = z.number().check(z.gt(0), z.lte(1));

/** One partial-exit level: at `gain_pct` gain, close `fraction` of the ORIGINAL quantity. */
const partialExitSchema = z.strictObject({
  gain_pct: z.number().check(z.gt(0), z.lte(100)),
  fraction: fraction01Inclusive,
});

/**
 * Exit-plan fields as they appear in a recommendation's `exit_plan` and an account's `exit_defaults`.
 * Every field is optional (absent = take the default) and nullable (null = this rule is off).
 * Gains and losses are fractions of the entry premium, signed for the side.
 */
export const exitPlanSchema = z.strictObject({
  stop_loss_pct: z.optional(z.nullable(fraction01Inclusive)),
  take_profit_pct: z.optional(z.nullable(z.number().check(z.gt(0), z.lte(100)))),
  trailing_stop_pct: z.optional(z.nullable(z.number().check(z.gt(0), z.lt(1)))),
  trail_activation_pct: z.optional(z.nullable(z.number().check(z.gte(0), z.lte(100)))),
  partial_exits: z.optional(z.nullable(z.array(partialExitSchema).check(z.maxLength(10)))),
  breakeven_at_pct: z.optional(z.nullable(z.number().check(z.gt(0), z.lte(100)))),
  min_hold_minutes: z.optional(z.nullable(z.number().check(z.gte(0), z.lte(525_600)))),
  max_hold_minutes: z.optional(z.nullable(z.number().check(z.gt(0), z.lte(525_600)))),
  close_before_expiry_days: z.optional(z.nullable(z.int().check(z.gte(0), z.lte(365)))),
  /**
   * What happens to a position still held on its expiry day: `close` (the default, and every plan written
   * before this field existed) closes it; `exercise` / `do_not_exercise` use Alpaca's exercise endpoints for
   * a held long (see docs/SPREADS.md). Not nullable: it is a choice, not a rule that can be off.
   */
  at_expiry: z.optional(z.enum(AT_EXPIRY_CHOICES)),
});

/** Exit-plan overrides, as written by users. */
export type ExitPlanInput = z.infer<typeof exitPlanSchema>;

/** A fully resolved exit plan: every field present; `null` means the rule is off. */
export interface ExitPlan {
  readonly stop_loss_pct: number | null;
  readonly take_profit_pct: number | null;
  readonly trailing_stop_pct: number | null;
  readonly trail_activation_pct: number | null;
  readonly partial_exits: ReadonlyArray<{ readonly gain_pct: number; readonly fraction: number }> | null;
  readonly breakeven_at_pct: number | null;
  readonly min_hold_minutes: number | null;
  readonly max_hold_minutes: number | null;
  readonly close_before_expiry_days: number | null;
  /**
   * Absent = `close` (so every plan written before this field, and every resolved plan that never set it,
   * stays exactly as it was); read it with {@link atExpiryOf}.
   */
  readonly at_expiry?: AtExpiry;
}

/** A plan's `at_expiry`, `close` when it has none. */
export function atExpiryOf(plan: Pick<ExitPlan, 'at_expiry'>): AtExpiry {
  return plan.at_expiry ?? 'close';
}

/**
 * The project's conservative defaults, used where neither the recommendation nor the account says
 * otherwise: a 50% stop, a 100% take-profit, and out the day before expiry. Everything else is off
 * (`at_expiry` absent: `close`).
 */
export const SYSTEM_EXIT_DEFAULTS: ExitPlan = Object.freeze({
  stop_loss_pct: 0.5,
  take_profit_pct: 1.0,
  trailing_stop_pct: null,
  trail_activation_pct: null,
  partial_exits: null,
  breakeven_at_pct: null,
  min_hold_minutes: null,
  max_hold_minutes: null,
  close_before_expiry_days: 1,
});

/** Every plan field; `at_expiry` has no entry in the defaults (absent = close), so it is listed by hand. */
export const EXIT_PLAN_KEYS = [...Object.keys(SYSTEM_EXIT_DEFAULTS), 'at_expiry'] as Array<keyof ExitPlan>;

/**
 * Merges exit-plan layers, later layers winning field by field. A field that is present (even `null`)
 * overrides; an absent field falls through. `partial_exits: []` normalises to `null` (none).
 */
export function resolveExitPlan(...layers: Array<ExitPlanInput | undefined | null>): ExitPlan {
  const out: Record<string, unknown> = { ...SYSTEM_EXIT_DEFAULTS };
  for (const layer of layers) {
    if (!layer) continue;
    for (const key of EXIT_PLAN_KEYS) {
      if (Object.prototype.hasOwnProperty.call(layer, key) && layer[key] !== undefined) out[key] = layer[key];
    }
  }
  const partials = out.partial_exits as ExitPlan['partial_exits'];
  if (partials && partials.length === 0) out.partial_exits = null;
  else if (partials) out.partial_exits = [...partials].sort((a, b) => a.gain_pct - b.gain_pct);
  return out as unknown as ExitPlan;
}

/**
 * Reads an exit plan stored by any version of the pipeline; missing fields take the system defaults.
 * The answer is frozen and remembered as read ({@link isReadExitPlan}), so the exit rules need not
 * validate it again for every position on every sweep.
 */
export function readStoredExitPlan(stored: unknown): ExitPlan {
  if (!stored || typeof stored !== 'object') return sealPlan(resolveExitPlan());
  const parsed = exitPlanSchema.safeParse(
    Object.fromEntries(Object.entries(stored).filter(([k]) => (EXIT_PLAN_KEYS as string[]).includes(k))),
  );
  return sealPlan(parsed.success ? resolveExitPlan(parsed.data) : resolveExitPlan());
}

/** Plans {@link readStoredExitPlan} returned: complete, valid and frozen (so they stay valid). */
const READ_PLANS = new WeakSet<object>();

function sealPlan(plan: ExitPlan): ExitPlan {
  for (const level of plan.partial_exits ?? []) Object.freeze(level);
  if (plan.partial_exits) Object.freeze(plan.partial_exits);
  READ_PLANS.add(Object.freeze(plan));
  return plan;
}

/** Whether `value` is a plan {@link readStoredExitPlan} returned (and so needs no validation). */
export function isReadExitPlan(value: unknown): value is ExitPlan {
  return typeof value === 'object' && value !== null && READ_PLANS.has(value);
}
