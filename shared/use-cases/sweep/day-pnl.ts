/**
 * The account's view in a sweep: the day's P&L and open exposure as metrics, and the daily loss breaker
 * (shared/domain/daily-loss.ts) acting on the account's kill switch, the same control item the operator
 * uses. No broker call: the figures come from the sweep's own reads and one small table item.
 */
import {
  breakerReset,
  breakerTrip,
  computeDayPnl,
  startMarksDue,
  tradingDay,
  type BreakerVerdict,
} from '../../domain/daily-loss';
import { openExposure } from '../../domain/pnl-report';
import type { Position } from '../../domain/position';
import { Metric } from '../../metric-names';
import type { AccountControl, OptionQuote } from '../../ports';
import type { SweepContext } from './context';

/**
 * At a new trading day's open, switches openings back on when the breaker switched them off on an earlier
 * day (never an operator's switch). Returns the control this sweep acts under.
 */
export async function resetDailyLoss(
  s: SweepContext,
  control: AccountControl | null,
): Promise<AccountControl | null> {
  const verdict = breakerReset(control, s.now(), s.snap.clock.isOpen);
  if (verdict.action !== 'reset') return control;
  try {
    return (await setSwitch(s, control, verdict)) ?? (await s.deps.store.getControl(s.account.name));
  } catch (err) {
    // Openings stay off a sweep longer; the next sweep tries again.
    s.deps.log.warn(`The daily loss breaker could not switch openings back on: ${String(err)}`);
    return control;
  }
}

/**
 * After acting: publishes the day's P&L and the open exposure, and trips the breaker when the day's loss
 * reached `limits.max_daily_loss` (openings off, an alert, and the next sweep flattens when configured).
 * `positions` are this sweep's live records (read from their ledgers); those it closed, those closed earlier
 * in the day, and any whose records a failed phase did not hand on, are counted through the day item's
 * per-position figures (a close's figure is written before its record, so it is there even when the
 * record's own write failed). The metric, the report and the
 * breaker read this one figure. The first sweep of a trading day with a usable quote for a contract held
 * since an earlier day records its start-of-day mark (one write, only then: the quiet path writes nothing).
 * A failure here is logged: the positions were managed already.
 */
export async function trackDayPnl(
  s: SweepContext,
  positions: readonly Position[],
  quotes: ReadonlyMap<string, OptionQuote>,
  control: AccountControl | null,
  closedNow: ReadonlySet<string>,
): Promise<void> {
  try {
    // Closed by this sweep (any phase so far): counted through the day item, which their close wrote first.
    const closed = new Set([...closedNow, ...s.report.closed.map((c) => c.position_id)]);
    const live = positions.filter((p) => !closed.has(p.position_id));
    const now = s.now();
    const day = tradingDay(now);
    const maxQuoteAgeSeconds = s.account.exit_execution.max_quote_age_seconds;
    let books = await s.deps.store.getDayBooks(s.account.name, day);
    const due = startMarksDue({ now, books, live, quotes, maxQuoteAgeSeconds });
    if (due.size > 0) {
      try {
        await s.deps.store.recordStartMarks(s.account.name, day, due);
        // A mark recorded meanwhile by another writer stands; this sweep uses the one it saw.
        books = { ...books, start_marks: new Map([...due, ...books.start_marks]) };
      } catch (err) {
        // The next sweep records them; this one values those positions from their entry.
        s.deps.log.warn(`The day's start marks could not be recorded: ${String(err)}`);
      }
    }
    const pnl = computeDayPnl({ now, books, live, quotes, maxQuoteAgeSeconds });
    const exposure = openExposure(live);
    s.deps.metrics.gauge(Metric.DayPnl, pnl.day_pnl_usd);
    s.deps.metrics.gauge(Metric.OpenPremium, exposure.long_premium_usd + exposure.short_premium_usd);
    s.report.dayPnl = pnl;
    const limits = s.account.limits;
    const verdict = breakerTrip({
      maxDailyLoss: limits.max_daily_loss,
      flattenOnLoss: limits.flatten_on_daily_loss,
      pnl,
      control,
    });
    if (verdict.action !== 'trip') return;
    // The switch changed since this sweep read it (an operator): theirs stands; the next sweep decides again.
    if (!(await setSwitch(s, control, verdict))) return;
    s.alert('daily_loss', '*', `${verdict.reason}; openings are off until the next trading day's open`);
  } catch (err) {
    s.deps.log.warn(`The day's P&L could not be computed this sweep: ${String(err)}`);
  }
}

/**
 * Writes the breaker's switch over `prev` (the control this sweep read) and announces it; null, writing
 * nothing, when the item changed since it was read.
 */
async function setSwitch(
  s: SweepContext,
  prev: AccountControl | null,
  verdict: Extract<BreakerVerdict, { next: unknown }>,
): Promise<AccountControl | null> {
  const control: AccountControl = { ...verdict.next, updated_at: s.nowIso(), reason: verdict.reason };
  if (!(await s.deps.store.replaceControl(s.account.name, prev, control))) {
    s.deps.log.info('The kill switch changed since this sweep read it; the daily loss breaker leaves it');
    return null;
  }
  s.deps.log.warn(`Kill switch set by the daily loss breaker: ${verdict.reason}`, {
    trading_enabled: control.trading_enabled,
    flatten: control.flatten,
  });
  s.emit({
    type: 'kill_switch_changed',
    account: s.account.name,
    trading_enabled: control.trading_enabled,
    flatten: control.flatten,
    set_by: 'daily_loss',
    reason: verdict.reason,
    at: control.updated_at!,
  });
  return control;
}
