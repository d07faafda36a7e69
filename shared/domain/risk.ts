import type { AccountConfig } from './account-config';
import type { Recommendation } from './recommendation';
import { RiskLimitError, TransientError } from './errors';
import { daysUntil, minutesOfDay, newYorkTime } from './market-time';
import type { OccSymbol } from './occ';
import { roundToCents } from './money';

/** What the message checks need besides the recommendation: when it was sent (SQS) and the current time. */
export interface MessageRiskInput {
  readonly rec: Recommendation;
  readonly account: AccountConfig;
  readonly now: Date;
  /** When SQS first received the message; used for the age limit when the message has no `created_at`. */
  readonly sentAt?: Date;
}

/**
 * Checks on the message alone: the kill switch in configuration and the age limit. Throws
 * {@link RiskLimitError} (permanent: dead-letter) naming the limit.
 */
export function checkMessageLimits({ rec, account, now, sentAt }: MessageRiskInput): void {
  const id = rec.recommendation_id;
  if (!account.limits.trading_enabled) {
    throw new RiskLimitError(
      `trading is disabled for account ${account.name} (limits.trading_enabled)`,
      'trading_disabled',
      id,
    );
  }
  const age = recommendationAgeMinutes(rec, now, sentAt);
  if (age !== null && age > account.limits.max_recommendation_age_minutes) {
    throw new RiskLimitError(
      `recommendation is ${age.toFixed(1)} minutes old; max_recommendation_age_minutes is ${account.limits.max_recommendation_age_minutes}`,
      'max_age',
      id,
    );
  }
}

/** The contract and size an opening order will carry (named by the message or chosen by the account). */
export interface ContractRiskInput {
  readonly recommendation_id: string;
  readonly option_symbol: string;
  readonly num_contracts: number;
  readonly occ: OccSymbol;
}

/** Checks on the contract and size: contracts per order, days to expiry. Throws {@link RiskLimitError}. */
export function checkContractLimits(order: ContractRiskInput, account: AccountConfig, now: Date): void {
  const limits = account.limits;
  const id = order.recommendation_id;
  if (order.num_contracts > limits.max_contracts_per_order) {
    throw new RiskLimitError(
      `num_contracts ${order.num_contracts} exceeds max_contracts_per_order ${limits.max_contracts_per_order}`,
      'max_contracts_per_order',
      id,
    );
  }
  const dte = daysUntil(order.occ.expiry, now);
  if (dte < 0) {
    throw new RiskLimitError(`contract ${order.option_symbol} expired on ${order.occ.expiry}`, 'expired', id);
  }
  if (dte < limits.min_days_to_expiry) {
    throw new RiskLimitError(
      `contract ${order.option_symbol} expires in ${dte} day(s); min_days_to_expiry is ${limits.min_days_to_expiry}`,
      'min_days_to_expiry',
      id,
    );
  }
}

/** Minutes since `created_at` (or, without it, since SQS received the message); null when neither is known. */
function recommendationAgeMinutes(rec: Recommendation, now: Date, sentAt?: Date): number | null {
  const seconds = messageAgeSeconds(rec.created_at, sentAt?.getTime(), now);
  return seconds === null ? null : seconds / 60;
}

/**
 * Seconds since a message's `created_at` when it has a valid one, else since SQS received it (`sentAtMs`);
 * null when neither is known. The one definition of a recommendation's age: the age limit and the retry
 * schedule both use it.
 */
export function messageAgeSeconds(
  createdAt: string | null | undefined,
  sentAtMs: number | undefined,
  now: Date,
): number | null {
  const created = createdAt ? Date.parse(createdAt) : NaN;
  const origin = Number.isNaN(created) ? sentAtMs : created;
  if (origin === undefined || !Number.isFinite(origin) || origin <= 0) return null;
  return Math.max(0, (now.getTime() - origin) / 1000);
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
  readonly rec: {
    readonly recommendation_id: string;
    readonly action: 'BUY' | 'SELL';
    readonly num_contracts: number;
  };
  readonly account: AccountConfig;
  /** Live positions of the account now (not counting this recommendation). */
  readonly livePositions: number;
  /** From the runtime control item (kill switch); undefined when none is stored. */
  readonly controlTradingEnabled: boolean | undefined;
  /** Who switched it: `daily_loss` (the breaker) refuses as `risk_limit:daily_loss`. */
  readonly controlSetBy?: string;
  /** Per share: the limit price, or the price a market order would pay (ask for BUY, bid for SELL). */
  readonly pricePerShare: number;
  readonly optionsBuyingPower: number;
}

/** Kill switch at run time, open positions, premium, buying power. Throws {@link RiskLimitError}. */
export function checkDynamicLimits(input: DynamicRiskInput): void {
  const { rec, account } = input;
  const id = rec.recommendation_id;
  if (input.controlTradingEnabled === false && input.controlSetBy === 'daily_loss') {
    throw new RiskLimitError(
      `openings are switched off for account ${account.name}: the day's loss reached limits.max_daily_loss`,
      'daily_loss',
      id,
    );
  }
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
  return roundToCents(contracts * pricePerShare * 100);
}
