import type { AccountConfig } from './account-config';
import type { Recommendation } from './recommendation';
import { RiskLimitError, TransientError } from './errors';
import { daysUntil, minutesOfDay, newYorkTime } from './market-time';

/** What the static checks need besides the recommendation: when it was sent (SQS) and the current time. */
export interface StaticRiskInput {
  readonly rec: Recommendation;
  readonly account: AccountConfig;
  readonly now: Date;
  /** When SQS first received the message; used for the age limit when the message has no `created_at`. */
  readonly sentAt?: Date;
}

/**
 * Checks that need no broker or table: the kill switch in configuration, contracts per order, days to
 * expiry, age. Throws {@link RiskLimitError} (permanent: dead-letter) naming the limit.
 */
export function checkStaticLimits({ rec, account, now, sentAt }: StaticRiskInput): void {
  const limits = account.limits;
  const id = rec.recommendation_id;
  if (!limits.trading_enabled) {
    throw new RiskLimitError(
      `trading is disabled for account ${account.name} (limits.trading_enabled)`,
      'trading_disabled',
      id,
    );
  }
  if (rec.num_contracts > limits.max_contracts_per_order) {
    throw new RiskLimitError(
      `num_contracts ${rec.num_contracts} exceeds max_contracts_per_order ${limits.max_contracts_per_order}`,
      'max_contracts_per_order',
      id,
    );
  }
  const dte = daysUntil(rec.occ.expiry, now);
  if (dte < 0) {
    throw new RiskLimitError(`contract ${rec.option_symbol} expired on ${rec.occ.expiry}`, 'expired', id);
  }
  if (dte < limits.min_days_to_expiry) {
    throw new RiskLimitError(
      `contract ${rec.option_symbol} expires in ${dte} day(s); min_days_to_expiry is ${limits.min_days_to_expiry}`,
      'min_days_to_expiry',
      id,
    );
  }
  const age = recommendationAgeMinutes(rec, now, sentAt);
  if (age !== null && age > limits.max_recommendation_age_minutes) {
    throw new RiskLimitError(
      `recommendation is ${age.toFixed(1)} minutes old; max_recommendation_age_minutes is ${limits.max_recommendation_age_minutes}`,
      'max_age',
      id,
    );
  }
}

/** Minutes since `created_at` (or, without it, since SQS received the message); null when neither is known. */
export function recommendationAgeMinutes(rec: Recommendation, now: Date, sentAt?: Date): number | null {
  const origin = rec.created_at ? Date.parse(rec.created_at) : sentAt?.getTime();
  if (origin === undefined || Number.isNaN(origin)) return null;
  return Math.max(0, (now.getTime() - origin) / 60_000);
}

/**
 * Market hours and the optional entry window. Outside them a fresh recommendation WAITS: the error is
 * transient, so the message returns to the queue, until the age limit refuses it.
 */
export function checkTradingWindow(account: AccountConfig, marketOpen: boolean, now: Date): void {
  if (!marketOpen)
    throw new TransientError('market is closed (broker clock); will retry', { reason: 'market_closed' });
  const window = account.limits.entry_window;
  if (window) {
    const minute = newYorkTime(now).minuteOfDay;
    if (minute < minutesOfDay(window.start) || minute >= minutesOfDay(window.end)) {
      throw new TransientError(
        `outside the entry window ${window.start}-${window.end} America/New_York; will retry`,
        { reason: 'outside_entry_window' },
      );
    }
  }
}

/** Checks that need the broker and the table. */
export interface DynamicRiskInput {
  readonly rec: Recommendation;
  readonly account: AccountConfig;
  /** Live positions of the account now (not counting this recommendation). */
  readonly livePositions: number;
  /** From the runtime control item (kill switch); undefined when none is stored. */
  readonly controlTradingEnabled: boolean | undefined;
  /** Per share: the limit price, or the price a market order would pay (ask for BUY, bid for SELL). */
  readonly pricePerShare: number;
  readonly optionsBuyingPower: number;
}

/** Kill switch at run time, open positions, premium, buying power. Throws {@link RiskLimitError}. */
export function checkDynamicLimits(input: DynamicRiskInput): void {
  const { rec, account } = input;
  const id = rec.recommendation_id;
  if (input.controlTradingEnabled === false) {
    throw new RiskLimitError(
      `trading is switched off for account ${account.name} (kill switch)`,
      'kill_switch',
      id,
    );
  }
  if (input.livePositions >= account.limits.max_open_positions) {
    throw new RiskLimitError(
      `account ${account.name} has ${input.livePositions} live positions; max_open_positions is ${account.limits.max_open_positions}`,
      'max_open_positions',
      id,
    );
  }
  const premium = premiumDollars(rec.num_contracts, input.pricePerShare);
  if (premium > account.limits.max_premium_per_position) {
    throw new RiskLimitError(
      `premium $${premium.toFixed(2)} (${rec.num_contracts} x $${input.pricePerShare} x 100) exceeds max_premium_per_position $${account.limits.max_premium_per_position}`,
      'max_premium_per_position',
      id,
    );
  }
  if (rec.action === 'BUY' && premium > input.optionsBuyingPower) {
    throw new RiskLimitError(
      `premium $${premium.toFixed(2)} exceeds options buying power $${input.optionsBuyingPower.toFixed(2)}`,
      'options_buying_power',
      id,
    );
  }
}

/** Dollars: contracts x price per share x 100 shares per contract. */
export function premiumDollars(contracts: number, pricePerShare: number): number {
  return Math.round(contracts * pricePerShare * 100 * 100) / 100;
}
