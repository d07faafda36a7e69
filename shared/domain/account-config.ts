import * as z from 'zod/mini';
import { formatZodError } from './zod';
import { exitPlanSchema, resolveExitPlan, type ExitPlan } from './exit-plan';
import { ConfigError } from './errors';
import { accountProfilesSchema, resolveProfile } from './strategy-profiles';
import { UNDEFINED_RISK_STRUCTURES } from './spread-types';

/** `HH:MM` in the exchange's time zone (America/New_York). */
const hhmm = z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24h, America/New_York)'));

/** Risk limits, checked before any opening order. Defaults are deliberately small. */
const limitsSchema = z.strictObject({
  /** The kill switch: false stops every new opening order for the account. */
  trading_enabled: z._default(z.boolean(), true),
  max_contracts_per_order: z._default(z.int().check(z.gte(1), z.lte(10_000)), 10),
  max_open_positions: z._default(z.int().check(z.gte(0), z.lte(10_000)), 5),
  /** Dollars: contracts x price per share x 100. */
  max_premium_per_position: z._default(z.number().check(z.gt(0)), 5000),
  min_days_to_expiry: z._default(z.int().check(z.gte(0), z.lte(3650)), 1),
  max_recommendation_age_minutes: z._default(z.number().check(z.gt(0), z.lte(1440)), 5),
  /** Optional time-of-day window for new openings (America/New_York); off by default. */
  entry_window: z._default(z.nullable(z.strictObject({ start: hhmm, end: hhmm })), null),
  /** A resting limit open still unfilled after this many minutes is cancelled (its filled part is kept). */
  entry_order_timeout_minutes: z._default(z.number().check(z.gt(0), z.lte(1440)), 15),
  /**
   * Shares delivered by an assignment or exercise the sweep books are sold (bought back when short) with an
   * intent-free market order, never more than the broker confirms held. Off: they are only alerted.
   */
  flatten_assigned_shares: z._default(z.boolean(), false),
  /** Dollars: the day's loss at which the daily loss breaker switches openings off; `null` = no breaker. */
  max_daily_loss: z._default(z.nullable(z.number().check(z.gt(0), z.lte(100_000_000))), null),
  /** With the breaker tripped, also close every position through the guarded exit path. */
  flatten_on_daily_loss: z._default(z.boolean(), false),
  /**
   * Dollars: the most a spread may lose at its defined maximum (the debit paid, or width x 100 - credit),
   * times its multiple. The premium and position limits apply to spreads as well. @default 1000
   */
  max_risk_per_spread: z._default(z.number().check(z.gt(0), z.lte(100_000_000)), 1000),
  /**
   * Structures with undefined risk a spread may have, by name (see docs/SPREADS.md): `short_straddle`,
   * `short_strangle`, `naked_short_call`, `naked_short_put`. Empty (the default): every one is refused.
   */
  allow_undefined_risk: z._default(
    z.array(z.enum(UNDEFINED_RISK_STRUCTURES)).check(z.maxLength(UNDEFINED_RISK_STRUCTURES.length)),
    [],
  ),
});

/** How the exit evaluator prices positions and sends its orders. */
const exitExecutionSchema = z.strictObject({
  /** `mid` (default): (bid+ask)/2. `bid_ask`: the price a close would get (bid for a long, ask for a short). */
  mark: z._default(z.enum(['mid', 'bid_ask']), 'mid'),
  /** `market` (default) or `marketable_limit` (limit through the far side by `limit_slippage_pct`). */
  order_type: z._default(z.enum(['market', 'marketable_limit']), 'market'),
  limit_slippage_pct: z._default(z.number().check(z.gte(0), z.lte(1)), 0.05),
  /** A quote older than this (seconds) is stale: it never triggers an exit by itself. */
  max_quote_age_seconds: z._default(z.int().check(z.gte(1), z.lte(86_400)), 120),
  /**
   * A spread wider than this fraction of the mid makes every exit a limit at the executable side (bid for a
   * long, ask for a short), never market. `null` turns the guard off.
   */
  max_spread_pct: z._default(z.nullable(z.number().check(z.gt(0), z.lte(10))), 0.3),
  /** A working exit limit not filled after this many seconds is replaced at the current executable price. */
  reprice_after_seconds: z._default(z.int().check(z.gte(1), z.lte(3600)), 60),
  /** After this many replacements a working exit limit goes out as market (while the market is open). */
  max_reprices: z._default(z.int().check(z.gte(0), z.lte(100)), 3),
  /**
   * A protective order resting at the broker for each open position (README "Protective stops at the
   * broker"): `null` (default) leaves every stop to the sweep; `stop` or `stop_limit` keep one gtc order there.
   */
  broker_stop: z._default(z.nullable(z.enum(['stop', 'stop_limit'])), null),
  /** For `broker_stop: stop_limit`: the limit sits this fraction beyond the stop price, on the tick grid. */
  broker_stop_limit_slippage_pct: z._default(z.number().check(z.gte(0), z.lt(1)), 0.1),
});

/** The option quote feeds Alpaca serves (`feed` on the snapshot and quote endpoints). */
export const OPTION_FEEDS = ['opra', 'indicative'] as const;
export type OptionFeed = (typeof OPTION_FEEDS)[number];

/**
 * Where option quotes come from. Alpaca defaults to `indicative` unless the account has an OPRA
 * subscription (changelog 2026-11-10); indicative prices are not the tradable market, so a live account on
 * `indicative` is an explicit deploy-time choice (`-c allowLiveIndicative=true`).
 */
const marketDataSchema = z.strictObject({
  /** Sent as `feed` on every option quote read. @default 'indicative' */
  feed: z._default(z.enum(OPTION_FEEDS), 'indicative'),
});

/**
 * One account, as users write it in `cdk.json` (`accounts` context) and as each function receives it in
 * `ACCOUNT_CONFIG`. Every field but `name` is optional; unknown fields are refused (typo protection).
 */
const accountConfigSchema = z.strictObject({
  /** Lowercase identifier, used in resource names and client_order_ids. */
  name: z
    .string()
    .check(
      z.regex(
        /^[a-z][a-z0-9-]{0,31}$/,
        'expected 1-32 chars: a lowercase letter, then lowercase letters, digits or -',
      ),
    ),
  /** Paper trading unless this is explicitly `false` (and the deploy confirms live trading). */
  paper: z._default(z.boolean(), true),
  /** Secrets Manager secret holding `{"APCA_API_KEY_ID": "...", "APCA_API_SECRET_KEY": "..."}`. */
  secret_name: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
  sweep_interval_minutes: z._default(z.int().check(z.gte(1), z.lte(60)), 1),
  /**
   * Seconds between the price-rule polls a scheduled sweep makes after its full pass, until shortly before
   * the next sweep is due (shared/use-cases/sweep/poll.ts); null: one pass per invocation. @default 10
   */
  sweep_poll_seconds: z._default(z.nullable(z.int().check(z.gte(2), z.lte(300))), 10),
  limits: z.prefault(limitsSchema, {}),
  exit_defaults: z.prefault(exitPlanSchema, {}),
  exit_execution: z.prefault(exitExecutionSchema, {}),
  /** Option market data: the quote feed (`opra` | `indicative`). */
  market_data: z.prefault(marketDataSchema, {}),
  /** Named strategy profiles: overrides of the builtins (day_trade, swing_trade, conservative) or new ones. */
  strategy_profiles: z._default(accountProfilesSchema, {}),
  /**
   * The profile used when a recommendation needs one (no option_symbol, or no num_contracts) and names none.
   * @default 'swing_trade'
   */
  default_strategy: z._default(
    z.string().check(z.regex(/^[a-z][a-z0-9_]{0,31}$/, 'expected a profile name')),
    'swing_trade',
  ),
});

type ParsedAccountConfig = z.infer<typeof accountConfigSchema>;

/** A validated account with every default filled in. */
export interface AccountConfig extends Omit<ParsedAccountConfig, 'secret_name'> {
  readonly secret_name: string;
  /** `exit_defaults` over the system defaults: the plan a recommendation without `exit_plan` gets. */
  readonly resolved_exit_defaults: ExitPlan;
}

/**
 * Validates one account object. Throws {@link ConfigError} naming the account and the bad field.
 */
export function parseAccountConfig(raw: unknown, where = 'account configuration'): AccountConfig {
  const result = accountConfigSchema.safeParse(raw);
  if (!result.success) {
    const name =
      raw && typeof raw === 'object' && 'name' in raw && typeof raw.name === 'string' ? ` "${raw.name}"` : '';
    throw new ConfigError(`Invalid ${where}${name}: ${formatZodError(result.error)}`);
  }
  const cfg = result.data;
  try {
    resolveProfile(cfg.default_strategy, cfg.strategy_profiles);
  } catch (err) {
    throw new ConfigError(`Invalid ${where} "${cfg.name}": default_strategy: ${(err as Error).message}`);
  }
  return {
    ...cfg,
    secret_name: cfg.secret_name ?? `ops-pipeline/alpaca/${cfg.name}`,
    resolved_exit_defaults: resolveExitPlan(cfg.exit_defaults),
  };
}

/** Validates a list of accounts: at least one, names unique. */
export function parseAccountList(raw: unknown, where = 'accounts'): AccountConfig[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError(`Invalid ${where}: expected a non-empty JSON array of account objects`);
  }
  const accounts = raw.map((a, i) => parseAccountConfig(a, `${where}[${i}]`));
  const seen = new Set<string>();
  for (const a of accounts) {
    if (seen.has(a.name)) throw new ConfigError(`Invalid ${where}: account name "${a.name}" appears twice`);
    seen.add(a.name);
  }
  return accounts;
}
