/**
 * One sweep for one account, as a one-way pipeline: take the account's sweep lease (or do nothing when
 * another sweep holds it); read a frozen snapshot; then
 *
 *   daily-loss reset → learn → reconcile → quotes → act → protective stops → day P&L → events
 *
 * each phase handing its typed outcome to the next, each under a named boundary (`SweepContext.step`):
 * a failed phase is reported and counted, and the later ones still run. Protective work (exits, stops)
 * comes before optional work (placements, events). Then, for a scheduled invocation, the price-rule
 * polls (poll.ts). Every record change is also conditional on the version read, so even sweeps that
 * overlapped never act twice on the same step (safety rule 5).
 */
import { randomUUID } from 'node:crypto';
import { Metric } from '../../metric-names';
import { act, NOTHING_ACTED } from './act';
import { SweepContext } from './context';
import { resetDailyLoss, trackDayPnl } from './day-pnl';
import { announceOpened } from './events';
import { learn, NOTHING_LEARNED } from './learn';
import { pollUntilDeadline } from './poll';
import { keepProtectiveStops } from './protective-stops';
import { reconcile } from './reconcile';
import { liveLegViews, sweepSpreads } from './spreads';
import { quotesFor, readSnapshot } from './snapshot';
import { emptyReport, type Mutable, type SweepDeps, type SweepReport } from './types';

const DEFAULT_SWEEP_LEASE_MS = 60_000;

export async function runSweep(deps: SweepDeps): Promise<SweepReport> {
  const started = Date.now();
  const report = emptyReport();

  // One sweep at a time acts for an account (the lease), and it reads the broker only once it holds it,
  // so its snapshot includes every order an earlier sweep sent.
  const owner = randomUUID();
  const nowMs = deps.now().getTime();
  const leaseUntilMs = nowMs + (deps.sweepLeaseMs ?? DEFAULT_SWEEP_LEASE_MS);
  const leased = await deps.lease.acquireSweepLease(deps.account.name, owner, nowMs, leaseUntilMs);
  if (!leased) {
    report.skipped = 'another sweep of this account holds the sweep lease';
    report.durationMs = Date.now() - started;
    deps.log.info(`Sweep skipped: ${report.skipped}`);
    return report;
  }
  let openCount = 0;
  let passMs = 0;
  try {
    const pass = await sweepHoldingLease(deps, report);
    openCount = pass.open;
    passMs = Date.now() - started;
    // Still holding the lease: the price-rule polls of a scheduled sweep (poll.ts), on the pass's broker clock.
    if (deps.poll) await pollUntilDeadline(deps, deps.poll, report, leaseUntilMs, pass.brokerOffsetMs);
  } finally {
    await releaseLease(deps, owner);
  }

  // The full pass's duration: the polls after it are counted apart (report.polls).
  report.durationMs = passMs;
  deps.metrics.durationMs(Metric.SweepDuration, report.durationMs);
  deps.metrics.count(Metric.OpenPositions, openCount);
  deps.log.info('Sweep finished', {
    live: report.livePositions,
    market_open: report.marketOpen,
    orders_sent: report.ordersSent.length,
    closed: report.closed.length,
    alerts: report.alerts.length,
    conflicts: report.conflicts,
    errors: report.errors.length,
    step_errors: report.stepErrors.length,
    deferred: report.deferred.length,
    duration_ms: report.durationMs,
    polls: report.polls,
  });
  return report;
}

/**
 * Gives the lease back; a failed release (a throttled write) is tried once more, so the next scheduled
 * sweep is not skipped for it. If both fail, the lease still runs out before the next scheduled sweep.
 */
async function releaseLease(deps: SweepDeps, owner: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.lease.releaseSweepLease(deps.account.name, owner);
      return;
    } catch (err) {
      if (attempt >= 2) {
        deps.log.warn(`Releasing the sweep lease failed (it runs out): ${String(err)}`);
        return;
      }
    }
  }
}

/** Each record the snapshot could not read: not managed until the item is repaired. */
function alertUnreadable(s: SweepContext): void {
  for (const u of s.snap.unreadable) {
    s.alert(
      'unreadable_record',
      u.key,
      `${u.reason}; this position is not managed until the item is repaired`,
    );
  }
}

/** The sweep proper, once the lease is held; returns how many positions were open, and the broker clock's offset. */
async function sweepHoldingLease(
  deps: SweepDeps,
  report: Mutable<SweepReport>,
): Promise<{ open: number; brokerOffsetMs: number }> {
  const snap = await readSnapshot(deps);
  const s = new SweepContext(deps, snap, report);
  report.livePositions = snap.live.length + snap.spreads.length;
  report.marketOpen = snap.clock.isOpen;
  alertUnreadable(s);

  // The daily loss breaker's own switch ends at the next trading day's open (before anything acts).
  const control = await s.step('daily-loss-reset', () => resetDailyLoss(s, snap.control), snap.control);
  const learned = await s.step('learn', () => learn(s, snap.live), NOTHING_LEARNED);
  announceOpened(s, snap.live, learned.positions);
  // Reconcile with the broker before deciding anything (when it fails, nothing acts on unreconciled records).
  const reconciled = await s.step('reconcile', () => reconcile(s, learned), {
    positions: [],
    closed: new Set<string>(),
  });
  const positions = reconciled.positions;

  const acting = positions.filter(
    (p) =>
      learned.resendDue.has(p.position_id) ||
      learned.workingExit.has(p.position_id) ||
      learned.workingOpen.has(p.position_id) ||
      p.state === 'open',
  );
  const symbols = [...new Set([...acting.map((p) => p.option_symbol), ...snap.spreadSymbols])];
  const quoted = await s.step('quotes', () => quotesFor(deps, snap, symbols), {
    requested: new Set<string>(),
    quotes: new Map(),
    failed: true,
  });
  report.quoteFeedFailed = quoted.failed;

  const acted = await s.step(
    'act',
    () =>
      act(s, {
        positions,
        resendDue: learned.resendDue,
        workingExit: learned.workingExit,
        workingOpen: learned.workingOpen,
        quotes: quoted.quotes,
        flatten: control?.flatten === true,
      }),
    NOTHING_ACTED,
  );
  // Spreads: protective work too (their exits are the sweep's alone: no resting stops for mleg).
  const spreadsDone = await s.step(
    'spreads',
    () =>
      sweepSpreads(s, { spreads: snap.spreads, quotes: quoted.quotes, flatten: control?.flatten === true }),
    { live: snap.spreads },
  );
  const closedIds = new Set(report.closed.map((c) => c.position_id));
  // Protective stops resting at the broker take what the exits left.
  await s.step(
    'protective-stops',
    () =>
      keepProtectiveStops(s, {
        live: snap.live,
        closedIds,
        partialRead: snap.unreadable.length > 0,
        stopsDue: acted.stopsDue,
      }),
    undefined,
  );
  const booked = [...positions, ...liveLegViews(spreadsDone.live)];
  await s.step('day-pnl', () => trackDayPnl(s, booked, quoted.quotes, control, closedIds), undefined);
  await s.step('events', () => s.eventsSettled(), undefined);

  // The feed is down for this sweep when its read failed, or when every position that needed a price had none.
  if (report.quoteFeedFailed || (acted.priced > 0 && acted.unpriced === acted.priced)) {
    s.alert(
      'quote_feed_down',
      '*',
      report.quoteFeedFailed
        ? 'the option quote read failed: price rules wait, time rules still act'
        : `no usable quote for any of ${acted.priced} positions: price rules wait, time rules still act`,
    );
  }
  const open = positions.filter((p) => p.state === 'open').length + spreadsDone.live.length;
  return { open, brokerOffsetMs: snap.brokerOffsetMs };
}
