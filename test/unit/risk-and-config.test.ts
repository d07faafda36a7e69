import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAccountConfig, parseAccountList } from '../../shared/domain/account-config';
import { checkDynamicLimits, checkTradingWindow } from '../../shared/domain/risk';
import { resolveExitPlan, SYSTEM_EXIT_DEFAULTS } from '../../shared/domain/exit-plan';
import { loadRuntimeConfig } from '../../shared/config';
import { ConfigError, RiskLimitError, TransientError } from '../../shared/domain/errors';
import { parsedRecommendation } from '../helpers/recommendations';
import { REPO_ROOT } from '../../local/accounts';

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

describe('exit liveness configuration (issue 12): exit_execution spread / reprice fields, entry order timeout', () => {
  const STATED_EXIT_EXECUTION = {
    mark: 'mid',
    order_type: 'market',
    limit_slippage_pct: 0.05,
    max_quote_age_seconds: 120,
    max_spread_pct: 0.3,
    reprice_after_seconds: 60,
    max_reprices: 3,
    broker_stop: null,
    broker_stop_limit_slippage_pct: 0.1,
  };

  it('defaults: max_spread_pct 0.3, reprice_after_seconds 60, max_reprices 3, entry_order_timeout_minutes 15', () => {
    const a = parseAccountConfig({ name: 'main' });
    expect(a.exit_execution).toEqual(STATED_EXIT_EXECUTION);
    expect(a.limits.entry_order_timeout_minutes).toBe(15);
  });

  it('a partial exit_execution keeps the other defaults; max_spread_pct null turns the guard off', () => {
    const a = parseAccountConfig({ name: 'main', exit_execution: { max_spread_pct: null, max_reprices: 0 } });
    expect(a.exit_execution).toEqual({ ...STATED_EXIT_EXECUTION, max_spread_pct: null, max_reprices: 0 });
    const b = parseAccountConfig({ name: 'main', limits: { entry_order_timeout_minutes: 2.5 } });
    expect(b.limits.entry_order_timeout_minutes).toBe(2.5);
  });

  it.each([
    [{ exit_execution: { max_spread_pct: 0 } }, /exit_execution.max_spread_pct/],
    [{ exit_execution: { max_spread_pct: 11 } }, /exit_execution.max_spread_pct/],
    [{ exit_execution: { reprice_after_seconds: 0 } }, /exit_execution.reprice_after_seconds/],
    [{ exit_execution: { reprice_after_seconds: 1.5 } }, /exit_execution.reprice_after_seconds/],
    [{ exit_execution: { max_reprices: -1 } }, /exit_execution.max_reprices/],
    [{ limits: { entry_order_timeout_minutes: 0 } }, /limits.entry_order_timeout_minutes/],
    [{ limits: { entry_order_timeout_minutes: 1441 } }, /limits.entry_order_timeout_minutes/],
  ])('refuses an out-of-range value %j, naming the field', (over, msg) => {
    expect(() => parseAccountConfig({ name: 'main', ...over })).toThrow(msg);
  });

  it('still refuses unknown fields beside the new ones (typo protection)', () => {
    expect(() => parseAccountConfig({ name: 'main', exit_execution: { max_spread: 0.3 } })).toThrow(
      /Unrecognized key: "max_spread"/,
    );
    expect(() => parseAccountConfig({ name: 'main', limits: { entry_order_timeout: 15 } })).toThrow(
      /Unrecognized key: "entry_order_timeout"/,
    );
  });

  it("cdk.json's main account spells them out at their defaults (and still validates)", () => {
    const cdk = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
      context: { accounts: Array<Record<string, Record<string, unknown>>> };
    };
    const main = cdk.context.accounts.find((a) => (a.name as unknown) === 'main')!;
    expect(main.exit_execution).toEqual(STATED_EXIT_EXECUTION);
    expect(main.limits.entry_order_timeout_minutes).toBe(15);
    expect(() => parseAccountList(cdk.context.accounts)).not.toThrow();
  });

  it("docs/CONFIGURATION.md's account table states each new field with the schema's default", () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'CONFIGURATION.md'), 'utf8');
    const defaults = parseAccountConfig({ name: 'main' });
    const stated = (field: string) =>
      new RegExp(`^\\| \`${field.replace(/\./g, '\\.')}\` \\| ([^|]+) \\|`, 'm').exec(readme)?.[1].trim();
    expect(stated('exit_execution.max_spread_pct')).toBe(String(defaults.exit_execution.max_spread_pct));
    expect(stated('exit_execution.reprice_after_seconds')).toBe(
      String(defaults.exit_execution.reprice_after_seconds),
    );
    expect(stated('exit_execution.max_reprices')).toBe(String(defaults.exit_execution.max_reprices));
    expect(stated('limits.entry_order_timeout_minutes')).toBe(
      String(defaults.limits.entry_order_timeout_minutes),
    );
  });
});

describe('protective stops at the broker (issue 14): exit_execution.broker_stop', () => {
  it('defaults to null (the sweep alone watches stops) and a 0.1 stop_limit slippage', () => {
    const a = parseAccountConfig({ name: 'main' });
    expect(a.exit_execution.broker_stop).toBeNull();
    expect(a.exit_execution.broker_stop_limit_slippage_pct).toBe(0.1);
  });

  it.each(['stop', 'stop_limit', null])('accepts broker_stop %j', (v) => {
    const a = parseAccountConfig({ name: 'main', exit_execution: { broker_stop: v } });
    expect(a.exit_execution.broker_stop).toBe(v);
  });

  it('keeps a stated slippage', () => {
    const a = parseAccountConfig({
      name: 'main',
      exit_execution: { broker_stop: 'stop_limit', broker_stop_limit_slippage_pct: 0.25 },
    });
    expect(a.exit_execution.broker_stop_limit_slippage_pct).toBe(0.25);
  });

  it.each([
    [{ broker_stop: 'trailing_stop' }, /exit_execution.broker_stop/],
    [{ broker_stop: true }, /exit_execution.broker_stop/],
    [{ broker_stop_limit_slippage_pct: -0.1 }, /exit_execution.broker_stop_limit_slippage_pct/],
    [{ broker_stop_limit_slippage_pct: 1 }, /exit_execution.broker_stop_limit_slippage_pct/],
    [{ broker_stops: 'stop' }, /Unrecognized key: "broker_stops"/],
  ])('refuses %j, naming the field', (exec, msg) => {
    expect(() => parseAccountConfig({ name: 'main', exit_execution: exec })).toThrow(msg);
  });

  it("docs/CONFIGURATION.md's account table states both fields with the schema's defaults", () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'CONFIGURATION.md'), 'utf8');
    expect(readme).toMatch(/^\| `exit_execution\.broker_stop` \| null \|/m);
    expect(readme).toMatch(/^\| `exit_execution\.broker_stop_limit_slippage_pct` \| 0\.1 \|/m);
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
