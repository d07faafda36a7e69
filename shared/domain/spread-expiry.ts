/**
 * The expiry-day rule for spreads: a spread still held on the expiry day of its earliest leg is closed as a
 * unit from 15:10 New York time (or 50 minutes before an earlier session close), ahead of Alpaca's expiry-day
 * liquidation (from about 15:15), which may close one leg alone. A plan whose `at_expiry` is not `close`
 * says otherwise and holds it. Pure.
 */
import { atExpiryOf, type ExitPlan } from './exit-plan';
import { daysUntil, newYorkTime } from './market-time';

/** 15:10 in New York, minutes of the day. */
export const SPREAD_EXPIRY_CLOSE_MINUTE_ET = 15 * 60 + 10;
/** Before an early close the same lead: 50 minutes (16:00 - 15:10). */
const LEAD_BEFORE_CLOSE_MS = 50 * 60_000;

/** Whether the spread must be closed now, and why (for the exit record). */
export function spreadExpiryCloseDue(args: {
  /** Expiry dates of the legs (`YYYY-MM-DD`). */
  readonly legExpiries: readonly string[];
  readonly plan: Pick<ExitPlan, 'at_expiry'>;
  readonly now: Date;
  /** The broker's close of today's session; absent = 16:00 assumed. */
  readonly sessionClose?: Date | null;
}): { readonly due: boolean; readonly reason: string } {
  if (args.legExpiries.length === 0) return { due: false, reason: 'no legs' };
  const earliest = [...args.legExpiries].sort()[0];
  const days = daysUntil(earliest, args.now);
  if (atExpiryOf(args.plan) !== 'close') {
    return { due: false, reason: `the plan holds it into expiry (at_expiry ${atExpiryOf(args.plan)})` };
  }
  if (days < 0) return { due: true, reason: `a leg expired on ${earliest}` };
  if (days > 0) return { due: false, reason: `the first leg expires in ${days} day(s)` };
  const minute = newYorkTime(args.now).minuteOfDay;
  const early =
    args.sessionClose !== undefined &&
    args.sessionClose !== null &&
    args.now.getTime() >= args.sessionClose.getTime() - LEAD_BEFORE_CLOSE_MS;
  if (minute >= SPREAD_EXPIRY_CLOSE_MINUTE_ET || early) {
    return {
      due: true,
      reason: `expiry day ${earliest}: closed as a unit before Alpaca's expiry-day liquidation`,
    };
  }
  return { due: false, reason: `expiry day: closes from 15:10 New York time` };
}
