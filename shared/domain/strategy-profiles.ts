/**
 * Strategy profiles: per-account named bundles of contract-selection targets, position sizing, a default
 * exit plan and time-of-day rules. A recommendation that names an underlying and a direction (not a
 * contract) names a profile in `strategy`; the profile decides which contract and how many.
 *
 * Three profiles are built in ({@link BUILTIN_PROFILES}); an account may override any of their fields or
 * add its own profiles ({@link accountProfilesSchema}), merged by {@link resolveProfile}. The time rules are
 * applied by `profile-time-rules.ts`.
 */
import * as z from 'zod/mini';
import { formatZodError } from './zod';
import { exitPlanSchema, resolveExitPlan, type ExitPlan, type ExitPlanInput } from './exit-plan';
import { ConfigError, InvalidRecommendationError } from './errors';

/** `HH:MM` in the exchange's time zone (America/New_York). */
const hhmmEt = z
  .string()
  .check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24h, America/New_York)'));

/** Profile names: lowercase, so they can appear in logs, metrics and client_order_ids unchanged. */
const PROFILE_NAME_RE = /^[a-z][a-z0-9_]{0,31}$/;
const profileName = z
  .string()
  .check(
    z.regex(PROFILE_NAME_RE, 'expected 1-32 chars: a lowercase letter, then lowercase letters, digits or _'),
  );

const selectionShape = z.strictObject({
  /** Smallest days to expiry (New York calendar days, 0 = expires today). */
  dte_min: z.int().check(z.gte(0), z.lte(3650)),
  /** Largest days to expiry, inclusive. */
  dte_max: z.int().check(z.gte(0), z.lte(3650)),
  /**
   * Target moneyness as a signed fraction of the underlying's price: 0 = at the money, 0.015 = 1.5% out of
   * the money (a call's strike above spot, a put's below), -0.03 = 3% in the money.
   */
  moneyness: z.number().check(z.gte(-0.5), z.lte(0.5)),
  /** Widest accepted bid/ask spread as a fraction of the mid (0.1 = spread at most 10% of the mid). */
  max_spread_pct_of_mid: z.number().check(z.gt(0), z.lte(2)),
  /** Cheapest accepted mid, dollars per share. */
  min_mid_price: z.number().check(z.gte(0), z.lte(100_000)),
  /** Least accepted day volume, contracts; 0 turns the filter off (a missing volume then passes). */
  min_volume: z.int().check(z.gte(0)),
  /** Least accepted open interest, contracts; 0 turns the filter off. */
  min_open_interest: z.int().check(z.gte(0)),
  /** Smallest accepted absolute delta; null (with `delta_max` null) turns the delta filter off. */
  delta_min: z.nullable(z.number().check(z.gte(0), z.lte(1))),
  /** Largest accepted absolute delta; null = no upper bound. */
  delta_max: z.nullable(z.number().check(z.gte(0), z.lte(1))),
});

const sizingShape = z.strictObject({
  /** Share of the account's options buying power one position may spend (0.02 = 2%). */
  risk_budget_pct: z.number().check(z.gt(0), z.lte(1)),
  /** Most contracts one position of this profile may hold. */
  max_contracts_per_position: z.int().check(z.gte(1), z.lte(10_000)),
  /** Most premium one position may put at risk, dollars (contracts x price per share x 100); null = none. */
  max_premium_at_risk: z.nullable(z.number().check(z.gt(0))),
  /** When true, the budget is multiplied by the recommendation's `confidence` (0-1) when it gives one. */
  confidence_scaling: z.boolean(),
});

const timeRulesShape = z.strictObject({
  /** Close on every session day at or after this New York time. */
  close_by_time_et: z.nullable(hhmmEt),
  /**
   * Close this many minutes before the broker's session close (from its clock/calendar, so early closes
   * count). With `close_by_time_et` too, whichever comes first applies.
   */
  close_minutes_before_session_close: z.nullable(z.int().check(z.gte(0), z.lte(390))),
  /** Never hold across a session close: a position opened on an earlier New York date closes at once. */
  no_overnight: z.boolean(),
  /**
   * On the contract's expiry date, close at or after this New York time. Alpaca may liquidate expiring
   * positions from about 15:15 ET, so the pipeline should be out before that.
   */
  expiry_day_close_by_time_et: z.nullable(hhmmEt),
});

/** Contract-selection targets and quality filters of a profile. */
const profileSelectionSchema = selectionShape.check(
  z.refine((s) => s.dte_min <= s.dte_max, { message: 'dte_min must be <= dte_max', path: ['dte_min'] }),
  z.refine((s) => s.delta_min === null || s.delta_max === null || s.delta_min <= s.delta_max, {
    message: 'delta_min must be <= delta_max',
    path: ['delta_min'],
  }),
);

/** Position sizing of a profile. */
const profileSizingSchema = sizingShape;

/**
 * Profile-level time rules: exit rules that need the exchange's clock rather than prices. They use New
 * York time and the broker's session close (early closes, holidays), never the container's time zone.
 * "Hold while days to expiry >= N" is not here: it is the exit plan's `close_before_expiry_days` (N - 1).
 */
export const profileTimeRulesSchema = timeRulesShape.check(
  z.refine(
    (r) => !r.no_overnight || r.close_by_time_et !== null || r.close_minutes_before_session_close !== null,
    {
      message:
        'no_overnight needs close_by_time_et or close_minutes_before_session_close to say when to close',
      path: ['no_overnight'],
    },
  ),
);

/** A complete strategy profile (after merging builtins with an account's overrides). */
export const strategyProfileSchema = z.strictObject({
  /** One line for humans: what the profile is for. */
  description: z._default(z.string().check(z.maxLength(200)), ''),
  selection: profileSelectionSchema,
  sizing: profileSizingSchema,
  /** The profile's exit-plan layer: over the account's `exit_defaults`, under the recommendation's. */
  exit_plan: exitPlanSchema,
  time_rules: profileTimeRulesSchema,
});

/** Selection targets of a resolved profile. */
export type ProfileSelection = z.infer<typeof profileSelectionSchema>;
/** Sizing rules of a resolved profile. */
export type ProfileSizing = z.infer<typeof profileSizingSchema>;
/** Time rules of a resolved profile. */
export type ProfileTimeRules = z.infer<typeof profileTimeRulesSchema>;

/** A resolved profile: every section complete, plus the name it was resolved under. */
export interface StrategyProfile extends z.infer<typeof strategyProfileSchema> {
  readonly name: string;
}

/** The names of the built-in profiles. */
export type BuiltinProfileName = 'day_trade' | 'swing_trade' | 'conservative';

type ProfileDefinition = Omit<StrategyProfile, 'name'>;

/**
 * The built-in profiles. Deliberately small budgets; accounts tune them in `strategy_profiles`.
 * - `day_trade`: 0-1 DTE, at the money; closes by 15:55 ET (5 minutes before an early close), never
 *   overnight, and by 15:10 ET on expiry day; 2% of options buying power, confidence-scaled.
 * - `swing_trade`: 7-30 DTE, 1.5% out of the money; held while DTE >= 3; 3% of buying power.
 * - `conservative`: 21-60 DTE, 3% in the money, delta 0.60-0.85, tight spreads; 1% of buying power.
 */
export const BUILTIN_PROFILES: Readonly<Record<BuiltinProfileName, ProfileDefinition>> = deepFreeze({
  day_trade: {
    description: 'Intraday, 0-1 DTE at the money; flat before the close',
    selection: {
      dte_min: 0,
      dte_max: 1,
      moneyness: 0,
      max_spread_pct_of_mid: 0.1,
      min_mid_price: 0.2,
      min_volume: 100,
      min_open_interest: 100,
      delta_min: 0.35,
      delta_max: 0.65,
    },
    sizing: {
      risk_budget_pct: 0.02,
      max_contracts_per_position: 10,
      max_premium_at_risk: 2000,
      confidence_scaling: true,
    },
    // close_before_expiry_days is off: with 0-1 DTE the system default (1) would close at once; the
    // time rules below take the position out the same day instead.
    exit_plan: { stop_loss_pct: 0.25, take_profit_pct: 0.5, close_before_expiry_days: null },
    time_rules: {
      close_by_time_et: '15:55',
      close_minutes_before_session_close: 5,
      no_overnight: true,
      expiry_day_close_by_time_et: '15:10',
    },
  },
  swing_trade: {
    description: 'Days to weeks, 7-30 DTE, slightly out of the money',
    selection: {
      dte_min: 7,
      dte_max: 30,
      moneyness: 0.015,
      max_spread_pct_of_mid: 0.1,
      min_mid_price: 0.5,
      min_volume: 50,
      min_open_interest: 200,
      delta_min: 0.25,
      delta_max: 0.55,
    },
    sizing: {
      risk_budget_pct: 0.03,
      max_contracts_per_position: 10,
      max_premium_at_risk: 3000,
      confidence_scaling: true,
    },
    // Hold while days to expiry >= 3: exit once DTE <= 2.
    exit_plan: { stop_loss_pct: 0.4, take_profit_pct: 1.0, close_before_expiry_days: 2 },
    time_rules: {
      close_by_time_et: null,
      close_minutes_before_session_close: null,
      no_overnight: false,
      expiry_day_close_by_time_et: '15:10',
    },
  },
  conservative: {
    description: 'Weeks, 21-60 DTE, in the money, tight spreads and a small budget',
    selection: {
      dte_min: 21,
      dte_max: 60,
      moneyness: -0.03,
      max_spread_pct_of_mid: 0.05,
      min_mid_price: 1,
      min_volume: 20,
      min_open_interest: 500,
      delta_min: 0.6,
      delta_max: 0.85,
    },
    sizing: {
      risk_budget_pct: 0.01,
      max_contracts_per_position: 5,
      max_premium_at_risk: 2000,
      confidence_scaling: false,
    },
    exit_plan: { stop_loss_pct: 0.3, take_profit_pct: 0.6, close_before_expiry_days: 7 },
    time_rules: {
      close_by_time_et: null,
      close_minutes_before_session_close: null,
      no_overnight: false,
      expiry_day_close_by_time_et: '15:10',
    },
  },
});

/**
 * One account's entry in `strategy_profiles`: any subset of a profile's fields. Under a built-in name it
 * overrides that profile field by field; under a new name it either `extends` another profile (built-in
 * or the account's own) or gives every section in full. Whole profiles are validated after merging.
 */
const profileOverrideSchema = z.strictObject({
  /** The profile this one starts from; default: the built-in of the same name, if any. */
  extends: z.optional(profileName),
  description: z.optional(z.string().check(z.maxLength(200))),
  selection: z.optional(z.partial(selectionShape)),
  sizing: z.optional(z.partial(sizingShape)),
  /** Exit-plan fields over the base profile's, field by field; `null` turns a rule off. */
  exit_plan: z.optional(exitPlanSchema),
  time_rules: z.optional(z.partial(timeRulesShape)),
});

/** An override as written in the account configuration. */
export type ProfileOverride = z.infer<typeof profileOverrideSchema>;

/** An account's profiles (name → override). Each one must resolve to a valid profile. */
export const accountProfilesSchema = z.record(profileName, profileOverrideSchema).check(
  z.superRefine((profiles, ctx) => {
    for (const name of Object.keys(profiles)) {
      try {
        resolveProfile(name, profiles);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: (err as Error).message,
          path: [name],
          input: profiles[name],
        });
      }
    }
  }),
);

/** An account's `strategy_profiles`, as validated by {@link accountProfilesSchema}. */
export type AccountProfiles = Readonly<Record<string, ProfileOverride>>;

/** True when `name` is a built-in profile. */
function isBuiltinProfileName(name: string): name is BuiltinProfileName {
  return Object.prototype.hasOwnProperty.call(BUILTIN_PROFILES, name);
}

/** The names a recommendation's `strategy` may use for this account, sorted. */
function profileNames(accountProfiles?: AccountProfiles | null): string[] {
  return [...new Set([...Object.keys(BUILTIN_PROFILES), ...Object.keys(accountProfiles ?? {})])].sort();
}

/**
 * The profile a recommendation's `strategy` names: the built-in (if any) with the account's override
 * merged over it field by field (`extends` chains followed). Pure.
 *
 * @throws InvalidRecommendationError (reason `unknown_strategy`) when neither the built-ins nor the
 *   account define `name` — the message lists the names that exist.
 * @throws ConfigError when the account's override is broken (unknown `extends`, a cycle, a new profile
 *   with missing fields, or a merged profile that fails validation, e.g. dte_min > dte_max).
 */
export function resolveProfile(name: string, accountProfiles?: AccountProfiles | null): StrategyProfile {
  const profiles = accountProfiles ?? {};
  if (!isBuiltinProfileName(name) && !Object.prototype.hasOwnProperty.call(profiles, name)) {
    throw new InvalidRecommendationError(
      `unknown strategy "${name}": expected one of ${profileNames(profiles).join(', ')}`,
      undefined,
      { reason: 'unknown_strategy' },
    );
  }
  const merged = mergeOverrides(name, profiles, []);
  const result = strategyProfileSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(`strategy profile "${name}": ${formatZodError(result.error)}`);
  }
  return { name, ...result.data };
}

function mergeOverrides(name: string, profiles: AccountProfiles, seen: string[]): Record<string, unknown> {
  if (seen.includes(name)) {
    throw new ConfigError(`strategy profile "${seen[0]}": extends cycle ${[...seen, name].join(' -> ')}`);
  }
  const override = Object.prototype.hasOwnProperty.call(profiles, name) ? profiles[name] : undefined;
  let base: Record<string, unknown> | undefined;
  if (override?.extends !== undefined) {
    const parent = override.extends;
    if (!isBuiltinProfileName(parent) && !Object.prototype.hasOwnProperty.call(profiles, parent)) {
      throw new ConfigError(
        `strategy profile "${name}": extends unknown profile "${parent}" (known: ${profileNames(profiles).join(', ')})`,
      );
    }
    // A profile that extends its own built-in name means "the built-in", not itself.
    base =
      parent === name
        ? (BUILTIN_PROFILES[name as BuiltinProfileName] as unknown as Record<string, unknown>)
        : mergeOverrides(parent, profiles, [...seen, name]);
  } else if (isBuiltinProfileName(name)) {
    base = BUILTIN_PROFILES[name] as unknown as Record<string, unknown>;
  }
  if (!override) return structuredClone(base ?? {});
  const out: Record<string, unknown> = structuredClone(base ?? {});
  if (override.description !== undefined) out.description = override.description;
  for (const section of ['selection', 'sizing', 'exit_plan', 'time_rules'] as const) {
    const layer = override[section];
    if (layer === undefined) continue;
    const merged: Record<string, unknown> = { ...((out[section] as Record<string, unknown>) ?? {}) };
    // Present keys win, including null (a rule turned off); absent or undefined keys fall through.
    for (const [key, value] of Object.entries(layer)) if (value !== undefined) merged[key] = value;
    out[section] = merged;
  }
  return out;
}

/**
 * The exit plan a position opened under `profile` gets. Layers, later winning field by field:
 * system defaults < the account's `exit_defaults` < the profile's `exit_plan` < the recommendation's
 * `exit_plan`. A field present as `null` turns that rule off; an absent field falls through. Pure.
 */
export function mergeProfileExitPlan(
  profile: Pick<StrategyProfile, 'exit_plan'>,
  accountExitDefaults: ExitPlanInput | ExitPlan | null | undefined,
  recommendationExitPlan: ExitPlanInput | null | undefined,
): ExitPlan {
  // resolveExitPlan copies before sorting, so a resolved (readonly) plan is safe to pass as a layer.
  return resolveExitPlan(
    accountExitDefaults as ExitPlanInput | null | undefined,
    profile.exit_plan,
    recommendationExitPlan,
  );
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
