import { ConfigError, InvalidRecommendationError } from '../../shared/domain/errors';
import { SYSTEM_EXIT_DEFAULTS, type ExitPlanInput } from '../../shared/domain/exit-plan';
import { formatZodError } from '../../shared/domain/zod';
import {
  BUILTIN_PROFILES,
  accountProfilesSchema,
  mergeProfileExitPlan,
  profileTimeRulesSchema,
  resolveProfile,
  strategyProfileSchema,
  type AccountProfiles,
  type ProfileTimeRules,
} from '../../shared/domain/strategy-profiles';
import { evaluateProfileTimeRules } from '../../shared/domain/profile-time-rules';

describe('BUILTIN_PROFILES', () => {
  it.each(Object.keys(BUILTIN_PROFILES))('%s is a valid profile', (name) => {
    // Act
    const result = strategyProfileSchema.safeParse(BUILTIN_PROFILES[name as keyof typeof BUILTIN_PROFILES]);

    // Assert
    expect(result.success ? 'valid' : formatZodError(result.error)).toBe('valid');
  });

  it.each([
    ['day_trade', 0, 1, 0],
    ['swing_trade', 7, 30, 0.015],
    ['conservative', 21, 60, -0.03],
  ] as const)('%s targets DTE %i-%i at moneyness %d', (name, dteMin, dteMax, moneyness) => {
    // Act
    const profile = resolveProfile(name);

    // Assert
    expect(profile.selection).toMatchObject({ dte_min: dteMin, dte_max: dteMax, moneyness });
  });

  it('day_trade closes by 15:55 ET and never holds overnight; swing holds while DTE >= 3', () => {
    // Act
    const day = resolveProfile('day_trade');
    const swing = resolveProfile('swing_trade');

    // Assert
    expect(day.time_rules).toMatchObject({ close_by_time_et: '15:55', no_overnight: true });
    expect(swing.exit_plan.close_before_expiry_days).toBe(2);
    expect(swing.time_rules.no_overnight).toBe(false);
  });

  it('conservative has a tighter delta band and a smaller budget than swing_trade', () => {
    // Act
    const conservative = resolveProfile('conservative');
    const swing = resolveProfile('swing_trade');

    // Assert
    const band = (p: typeof swing) => p.selection.delta_max! - p.selection.delta_min!;
    expect(band(conservative)).toBeLessThan(band(swing));
    expect(conservative.sizing.risk_budget_pct).toBeLessThan(swing.sizing.risk_budget_pct);
  });

  it('cannot be changed by mutating a resolved profile', () => {
    // Arrange
    const profile = resolveProfile('day_trade') as { selection: { dte_max: number } };

    // Act
    profile.selection.dte_max = 99;

    // Assert
    expect(resolveProfile('day_trade').selection.dte_max).toBe(1);
  });
});

describe('resolveProfile', () => {
  it('merges an account override over the built-in field by field', () => {
    // Arrange
    const account: AccountProfiles = {
      day_trade: { selection: { dte_max: 2 }, sizing: { risk_budget_pct: 0.05 } },
    };

    // Act
    const profile = resolveProfile('day_trade', account);

    // Assert
    expect(profile).toMatchObject({
      name: 'day_trade',
      selection: { ...BUILTIN_PROFILES.day_trade.selection, dte_max: 2 },
      sizing: { ...BUILTIN_PROFILES.day_trade.sizing, risk_budget_pct: 0.05 },
      time_rules: BUILTIN_PROFILES.day_trade.time_rules,
    });
  });

  it('lets an override turn a built-in exit rule off with null and keeps the others', () => {
    // Act
    const profile = resolveProfile('day_trade', { day_trade: { exit_plan: { take_profit_pct: null } } });

    // Assert
    expect(profile.exit_plan).toEqual({
      stop_loss_pct: 0.25,
      take_profit_pct: null,
      close_before_expiry_days: null,
    });
  });

  it('resolves an account profile that extends a built-in (and sees the account override of that built-in)', () => {
    // Arrange
    const account: AccountProfiles = {
      swing_trade: { sizing: { max_contracts_per_position: 3 } },
      lotto: { extends: 'swing_trade', selection: { moneyness: 0.05 } },
    };

    // Act
    const profile = resolveProfile('lotto', account);

    // Assert
    expect(profile.name).toBe('lotto');
    expect(profile.selection.moneyness).toBe(0.05);
    expect(profile.selection.dte_min).toBe(7);
    expect(profile.sizing.max_contracts_per_position).toBe(3);
  });

  it('resolves a new complete profile without extends', () => {
    // Arrange
    const { description: _d, ...complete } = BUILTIN_PROFILES.conservative;

    // Act
    const profile = resolveProfile('leaps', {
      leaps: { ...complete, selection: { ...complete.selection, dte_max: 400 } },
    });

    // Assert
    expect(profile.selection.dte_max).toBe(400);
  });

  it('refuses an unknown name as an invalid recommendation, listing the names that exist', () => {
    // Act
    const act = () => resolveProfile('scalp', { lotto: { extends: 'day_trade' } });

    // Assert
    expect(act).toThrow(InvalidRecommendationError);
    expect(act).toThrow(
      'unknown strategy "scalp": expected one of conservative, day_trade, lotto, swing_trade',
    );
  });

  it.each<[string, AccountProfiles, string, string]>([
    [
      'a new profile missing a section',
      { leaps: { selection: { dte_min: 200 } } },
      'leaps',
      'strategy profile "leaps": ',
    ],
    [
      'an override that breaks dte order',
      { day_trade: { selection: { dte_min: 5 } } },
      'day_trade',
      'dte_min must be <= dte_max',
    ],
    ['extends an unknown profile', { lotto: { extends: 'yolo' } }, 'lotto', 'extends unknown profile "yolo"'],
    ['an extends cycle', { a: { extends: 'b' }, b: { extends: 'a' } }, 'a', 'extends cycle a -> b -> a'],
  ])('throws ConfigError for %s', (_label, account, name, message) => {
    // Act
    const act = () => resolveProfile(name, account);

    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(message);
  });
});

describe('accountProfilesSchema', () => {
  it('accepts overrides and new profiles', () => {
    // Act
    const result = accountProfilesSchema.safeParse({
      day_trade: { selection: { min_volume: 500 } },
      lotto: { extends: 'day_trade', sizing: { risk_budget_pct: 0.005 } },
    });

    // Assert
    expect(result.success).toBe(true);
  });

  it.each([
    ['a name that is not lowercase', { DayTrade: { extends: 'day_trade' } }, 'DayTrade'],
    ['an unknown field (typo)', { day_trade: { selection: { dte_maxx: 3 } } }, 'dte_maxx'],
    [
      'a profile that does not resolve',
      { day_trade: { selection: { dte_min: 5 } } },
      'dte_min must be <= dte_max',
    ],
  ])('refuses %s at parse time', (_label, raw, mention) => {
    // Act
    const result = accountProfilesSchema.safeParse(raw);

    // Assert
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(mention);
  });
});

describe('mergeProfileExitPlan', () => {
  it('layers system < account exit_defaults < profile exit_plan < recommendation exit_plan, field by field', () => {
    // Arrange: each layer sets one field the next layer leaves alone, and overrides one it sets.
    const account: ExitPlanInput = { stop_loss_pct: 0.4, trailing_stop_pct: 0.2, min_hold_minutes: 5 };
    const profile = { exit_plan: { stop_loss_pct: 0.3, take_profit_pct: 0.8, trailing_stop_pct: 0.15 } };
    const recommendation: ExitPlanInput = { take_profit_pct: 0.6 };

    // Act
    const plan = mergeProfileExitPlan(profile, account, recommendation);

    // Assert
    expect(plan).toEqual({
      ...SYSTEM_EXIT_DEFAULTS,
      stop_loss_pct: 0.3, // profile over account
      take_profit_pct: 0.6, // recommendation over profile
      trailing_stop_pct: 0.15, // profile over account
      min_hold_minutes: 5, // account only
      close_before_expiry_days: 1, // system only
    });
  });

  it.each<[string, ExitPlanInput, ExitPlanInput | null, ExitPlanInput | null, number | null]>([
    [
      'the recommendation turns a profile rule off with null',
      {},
      { stop_loss_pct: 0.3 },
      { stop_loss_pct: null },
      null,
    ],
    [
      'the profile turns an account rule off with null',
      { stop_loss_pct: 0.4 },
      { stop_loss_pct: null },
      null,
      null,
    ],
    [
      'the recommendation turns a rule back on over a profile null',
      {},
      { stop_loss_pct: null },
      { stop_loss_pct: 0.2 },
      0.2,
    ],
    ['a null recommendation exit_plan changes nothing', {}, { stop_loss_pct: 0.3 }, null, 0.3],
    ['an empty profile exit_plan falls through to the account', { stop_loss_pct: 0.4 }, {}, {}, 0.4],
  ])('%s', (_label, account, profilePlan, recommendation, stopLoss) => {
    // Act
    const plan = mergeProfileExitPlan({ exit_plan: profilePlan ?? {} }, account, recommendation);

    // Assert
    expect(plan.stop_loss_pct).toBe(stopLoss);
  });

  it("accepts the account's already resolved exit defaults as the account layer", () => {
    // Act
    const plan = mergeProfileExitPlan(
      resolveProfile('day_trade'),
      { ...SYSTEM_EXIT_DEFAULTS, take_profit_pct: 2 },
      {},
    );

    // Assert: day_trade's exit_plan sets take_profit_pct 0.5 and turns close_before_expiry_days off.
    expect(plan).toMatchObject({ stop_loss_pct: 0.25, take_profit_pct: 0.5, close_before_expiry_days: null });
  });
});

describe('profileTimeRulesSchema', () => {
  it('refuses no_overnight without a time to close by', () => {
    // Act
    const result = profileTimeRulesSchema.safeParse({
      close_by_time_et: null,
      close_minutes_before_session_close: null,
      no_overnight: true,
      expiry_day_close_by_time_et: null,
    });

    // Assert
    expect(result.success ? '' : formatZodError(result.error)).toContain(
      'no_overnight needs close_by_time_et',
    );
  });

  it('refuses a time that is not HH:MM', () => {
    // Act
    const result = profileTimeRulesSchema.safeParse({
      ...BUILTIN_PROFILES.day_trade.time_rules,
      close_by_time_et: '3:55pm',
    });

    // Assert
    expect(result.success ? '' : formatZodError(result.error)).toContain('close_by_time_et: expected HH:MM');
  });
});

describe('evaluateProfileTimeRules (New York time, broker session close)', () => {
  const DAY = BUILTIN_PROFILES.day_trade.time_rules;
  const SWING = BUILTIN_PROFILES.swing_trade.time_rules;
  // Winter (EST, UTC-5) and summer (EDT, UTC-4) normal closes at 16:00 ET.
  const WINTER_CLOSE = '2026-03-04T21:00:00Z';
  const SUMMER_CLOSE = '2026-07-15T20:00:00Z';

  it.each<[string, string, ProfileTimeRules, string, string | null, string, string]>([
    [
      'day trade at 15:54 EST',
      'hold',
      DAY,
      '2026-03-04T20:54:00Z',
      WINTER_CLOSE,
      '2026-03-05',
      '2026-03-04T15:00:00Z',
    ],
    [
      'day trade at 15:55 EST',
      'close_by_time_et',
      DAY,
      '2026-03-04T20:55:00Z',
      WINTER_CLOSE,
      '2026-03-05',
      '2026-03-04T15:00:00Z',
    ],
    [
      'day trade at 15:54 EDT',
      'hold',
      DAY,
      '2026-07-15T19:54:00Z',
      SUMMER_CLOSE,
      '2026-07-16',
      '2026-07-15T14:00:00Z',
    ],
    [
      'day trade at 15:55 EDT',
      'close_by_time_et',
      DAY,
      '2026-07-15T19:55:00Z',
      SUMMER_CLOSE,
      '2026-07-16',
      '2026-07-15T14:00:00Z',
    ],
    // Day after Thanksgiving style early close at 13:00 ET.
    [
      'day trade at 12:54 ET before a 13:00 close',
      'hold',
      DAY,
      '2026-11-27T17:54:00Z',
      '2026-11-27T18:00:00Z',
      '2026-11-30',
      '2026-11-27T15:00:00Z',
    ],
    [
      'day trade at 12:55 ET before a 13:00 close',
      'close_minutes_before_session_close',
      DAY,
      '2026-11-27T17:55:00Z',
      '2026-11-27T18:00:00Z',
      '2026-11-30',
      '2026-11-27T15:00:00Z',
    ],
    // Opened at 15:58 ET (a close that did not go through), now 09:31 the next morning.
    [
      'day trade held overnight',
      'no_overnight',
      DAY,
      '2026-03-05T14:31:00Z',
      '2026-03-05T21:00:00Z',
      '2026-03-06',
      '2026-03-04T20:58:00Z',
    ],
    [
      'day trade on expiry day at 15:09 ET',
      'hold',
      DAY,
      '2026-03-04T20:09:00Z',
      WINTER_CLOSE,
      '2026-03-04',
      '2026-03-04T15:00:00Z',
    ],
    [
      'day trade on expiry day at 15:10 ET',
      'expiry_day_close_by_time_et',
      DAY,
      '2026-03-04T20:10:00Z',
      WINTER_CLOSE,
      '2026-03-04',
      '2026-03-04T15:00:00Z',
    ],
    [
      'swing at 15:59 ET, opened days ago',
      'hold',
      SWING,
      '2026-03-04T20:59:00Z',
      WINTER_CLOSE,
      '2026-03-20',
      '2026-02-27T15:00:00Z',
    ],
    [
      'swing on expiry day at 15:10 ET',
      'expiry_day_close_by_time_et',
      SWING,
      '2026-03-20T19:10:00Z',
      '2026-03-20T20:00:00Z',
      '2026-03-20',
      '2026-03-02T15:00:00Z',
    ],
  ])('%s → %s', (_label, expected, rules, now, close, expiry, openedAt) => {
    // Act
    const decision = evaluateProfileTimeRules({
      rules,
      now: new Date(now),
      sessionClose: close === null ? null : new Date(close),
      expiry,
      openedAt: new Date(openedAt),
    });

    // Assert
    expect(decision.action === 'hold' ? 'hold' : decision.rule).toBe(expected);
  });
});
