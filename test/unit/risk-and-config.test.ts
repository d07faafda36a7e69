import { parseAccountConfig, parseAccountList } from '../../shared/domain/account-config';
import { checkDynamicLimits, checkTradingWindow } from '../../shared/domain/risk';
import { resolveExitPlan, SYSTEM_EXIT_DEFAULTS } from '../../shared/domain/exit-plan';
import { loadRuntimeConfig } from '../../shared/config';
import { ConfigError, RiskLimitError, TransientError } from '../../shared/domain/errors';
import { parsedRecommendation } from '../helpers/recommendations';

const NOW = new Date('2026-11-24T15:02:00Z');
const rec = (o: Record<string, unknown> = {}) => parsedRecommendation(o, NOW);
const account = parseAccountConfig({
  name: 'main',
  limits: { max_open_positions: 2, max_premium_per_position: 1000 },
});
const base = {
  account,
  livePositions: 0,
  controlTradingEnabled: undefined,
  pricePerShare: 2,
  optionsBuyingPower: 10_000,
};

describe('checkDynamicLimits', () => {
  it('passes inside every limit', () => {
    expect(() => checkDynamicLimits({ ...base, rec: rec({ num_contracts: 5 }) })).not.toThrow();
  });
  it.each([
    ['the runtime kill switch', { controlTradingEnabled: false }, /kill switch/],
    ['max open positions', { livePositions: 2 }, /max_open_positions is 2/],
    [
      'max premium per position (5 x 2.01 x 100 = 1005)',
      { pricePerShare: 2.01 },
      /\$1005.00 .*exceeds max_premium_per_position \$1000/,
    ],
    ['options buying power', { optionsBuyingPower: 999.99 }, /exceeds options buying power \$999.99/],
  ])('refuses past %s', (_n, over, msg) => {
    expect(() => checkDynamicLimits({ ...base, ...over, rec: rec({ num_contracts: 5 }) })).toThrow(
      RiskLimitError,
    );
    expect(() => checkDynamicLimits({ ...base, ...over, rec: rec({ num_contracts: 5 }) })).toThrow(msg);
  });
  it('does not charge buying power for a SELL (premium is received)', () => {
    expect(() =>
      checkDynamicLimits({ ...base, optionsBuyingPower: 0, rec: rec({ action: 'SELL', num_contracts: 5 }) }),
    ).not.toThrow();
  });
});

describe('checkTradingWindow', () => {
  it('market closed is transient (the message waits)', () => {
    expect(() => checkTradingWindow(account, false, NOW)).toThrow(TransientError);
  });
  it('entry window uses New York time, off by default', () => {
    expect(() => checkTradingWindow(account, true, NOW)).not.toThrow();
    const windowed = parseAccountConfig({
      name: 'main',
      limits: { entry_window: { start: '09:45', end: '15:30' } },
    });
    expect(() => checkTradingWindow(windowed, true, new Date('2026-11-24T14:40:00Z'))).toThrow(
      /outside the entry window/,
    ); // 09:40 ET
    expect(() => checkTradingWindow(windowed, true, new Date('2026-11-24T14:50:00Z'))).not.toThrow(); // 09:50 ET
  });
});

describe('account configuration', () => {
  it('fills conservative defaults and the secret name', () => {
    const a = parseAccountConfig({ name: 'tiny' });
    expect(a).toMatchObject({
      paper: true,
      secret_name: 'ops-pipeline/alpaca/tiny',
      limits: { trading_enabled: true, max_contracts_per_order: 10, max_open_positions: 5 },
    });
    expect(a.resolved_exit_defaults).toEqual(SYSTEM_EXIT_DEFAULTS);
  });
  it('names the bad field, and refuses unknown fields', () => {
    expect(() => parseAccountConfig({ name: 'main', limits: { max_open_positions: -1 } })).toThrow(
      /"main".*limits.max_open_positions/,
    );
    expect(() => parseAccountConfig({ name: 'main', exit_default: {} })).toThrow(
      /Unrecognized key: "exit_default"/,
    );
    expect(() => parseAccountConfig({ name: 'Main' })).toThrow(/name/);
  });
  it('validates strategy profiles and the default strategy when the account is parsed', () => {
    expect(parseAccountConfig({ name: 'main' }).default_strategy).toBe('swing_trade');
    expect(() => parseAccountConfig({ name: 'main', default_strategy: 'scalping' })).toThrow(
      /default_strategy: .*scalping/,
    );
    const custom = parseAccountConfig({
      name: 'main',
      default_strategy: 'lotto',
      strategy_profiles: { lotto: { extends: 'day_trade', sizing: { risk_budget_pct: 0.005 } } },
    });
    expect(custom.strategy_profiles.lotto).toBeDefined();
    expect(() =>
      parseAccountConfig({
        name: 'main',
        strategy_profiles: { swing_trade: { selection: { dte_min: 40, dte_max: 10 } } },
      }),
    ).toThrow(/strategy_profiles/);
  });

  it('refuses duplicate account names and an empty list', () => {
    expect(() => parseAccountList([{ name: 'a' }, { name: 'a' }])).toThrow(/appears twice/);
    expect(() => parseAccountList([])).toThrow(/non-empty/);
  });
  it('loadRuntimeConfig names the missing variable and checks the account name', () => {
    expect(() => loadRuntimeConfig({ POSITIONS_TABLE: 't' })).toThrow(/ACCOUNT_NAME is required/);
    expect(() => loadRuntimeConfig({ ACCOUNT_NAME: 'main' })).toThrow(/POSITIONS_TABLE is required/);
    expect(() =>
      loadRuntimeConfig({ ACCOUNT_NAME: 'main', POSITIONS_TABLE: 't', ACCOUNT_CONFIG: '{' }),
    ).toThrow(ConfigError);
    expect(() =>
      loadRuntimeConfig({ ACCOUNT_NAME: 'main', POSITIONS_TABLE: 't', ACCOUNT_CONFIG: '{"name":"tiny"}' }),
    ).toThrow(/does not match ACCOUNT_NAME/);
    expect(loadRuntimeConfig({ ACCOUNT_NAME: 'main', POSITIONS_TABLE: 't' }).account.paper).toBe(true);
  });
});

describe('resolveExitPlan', () => {
  it('later layers win field by field; null turns a rule off; [] partials mean none', () => {
    const plan = resolveExitPlan(
      { stop_loss_pct: 0.6, min_hold_minutes: 30 },
      { stop_loss_pct: null, partial_exits: [] },
    );
    expect(plan).toMatchObject({
      stop_loss_pct: null,
      min_hold_minutes: 30,
      take_profit_pct: 1,
      partial_exits: null,
    });
  });
  it('sorts partial exit levels by gain', () => {
    const plan = resolveExitPlan({
      partial_exits: [
        { gain_pct: 0.5, fraction: 0.5 },
        { gain_pct: 0.2, fraction: 0.25 },
      ],
    });
    expect(plan.partial_exits?.map((p) => p.gain_pct)).toEqual([0.2, 0.5]);
  });
});
