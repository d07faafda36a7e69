/**
 * A strategy profile's time rules applied to an open position (close by a time, no overnight, out on
 * expiry day, minutes before the session close), in New York time.
 */
import { daysUntil, minutesOfDay, newYorkTime } from './market-time';
import type { ProfileTimeRules } from './strategy-profiles';

/** What {@link evaluateProfileTimeRules} decided. */
export type TimeRuleDecision =
  | { readonly action: 'hold' }
  | {
      readonly action: 'close';
      readonly rule:
        | 'no_overnight'
        | 'expiry_day_close_by_time_et'
        | 'close_by_time_et'
        | 'close_minutes_before_session_close';
      /** Human-readable, for logs and the position's exit reason. */
      readonly detail: string;
    };

/**
 * Applies a profile's time rules to an open position. Pure: the caller passes `now` and the broker's
 * close of today's session (`sessionClose`, from its clock/calendar, so early closes count; `null` when
 * today is not a market day). Dates and times are New York's. Rules in order: `no_overnight` (opened on
 * an earlier New York date), `expiry_day_close_by_time_et`, then the earlier of `close_by_time_et` and
 * `close_minutes_before_session_close`.
 */
export function evaluateProfileTimeRules(args: {
  rules: ProfileTimeRules;
  now: Date;
  sessionClose: Date | null;
  /** Contract expiry, `YYYY-MM-DD`. */
  expiry: string;
  /** When the position was opened (filled). */
  openedAt: Date;
}): TimeRuleDecision {
  const { rules, now, sessionClose, expiry, openedAt } = args;
  const today = newYorkTime(now);
  const openedOn = newYorkTime(openedAt).date;
  if (rules.no_overnight && openedOn < today.date) {
    return {
      action: 'close',
      rule: 'no_overnight',
      detail: `opened ${openedOn}, now ${today.date} (New York)`,
    };
  }
  if (
    rules.expiry_day_close_by_time_et !== null &&
    daysUntil(expiry, now) <= 0 &&
    today.minuteOfDay >= minutesOfDay(rules.expiry_day_close_by_time_et)
  ) {
    return {
      action: 'close',
      rule: 'expiry_day_close_by_time_et',
      detail: `expires ${expiry}; ${rules.expiry_day_close_by_time_et} ET reached`,
    };
  }
  if (rules.close_by_time_et !== null && today.minuteOfDay >= minutesOfDay(rules.close_by_time_et)) {
    return { action: 'close', rule: 'close_by_time_et', detail: `${rules.close_by_time_et} ET reached` };
  }
  if (
    rules.close_minutes_before_session_close !== null &&
    sessionClose !== null &&
    newYorkTime(sessionClose).date === today.date &&
    now.getTime() >= sessionClose.getTime() - rules.close_minutes_before_session_close * 60_000
  ) {
    return {
      action: 'close',
      rule: 'close_minutes_before_session_close',
      detail: `${rules.close_minutes_before_session_close} min before the session close at ${sessionClose.toISOString()}`,
    };
  }
  return { action: 'hold' };
}
