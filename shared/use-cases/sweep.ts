import { randomUUID } from 'node:crypto';
import type { Position } from '../domain/position';
import { UnreadableRecordsError } from '../domain/errors';
import type { BrokerPosition, MarketData, OptionQuote } from '../ports';
import { Metric } from '../metric-names';
import { emptyReport, SweepState, type Mutable, type SweepDeps, type SweepReport } from './sweep/state';
import { learn } from './sweep/learn';
import { reconcile } from './sweep/reconcile';
import { evaluateAndAct, manageWorking, managePendingOpen, resend } from './sweep/act';
import { resetDailyLoss, trackDayPnl } from './sweep/daily-loss';
import { announceOpened } from './sweep/announce';
import { pollUntilDeadline } from './sweep/poll';
import { keepBrokerStops } from './sweep/broker-stop';

export type { SweepDeps, SweepReport } from './sweep/state';

const DEFAULT_SWEEP_LEASE_MS = 60_000;

/**
 * One sweep for one account, in the README's steps: take the account's sweep lease (or do nothing when
 * another sweep holds it); read live positions, the broker's positions, working orders and clock, and the
 * quotes; learn fills ({@link learn}); reconcile with the broker ({@link reconcile}); evaluate the exit
 * rules and act ({@link evaluateAndAct} and friends), every send spending one per-contract budget. Every
 * record change is also conditional on the version read, so even sweeps that overlapped (a lease that ran
 * out) never act twice on the same step (safety rule 5).
 */
export async function runSweep(deps: SweepDeps): Promise<SweepReport> {
  const started = Date.now();
  const report = emptyReport();

  // One sweep at a time acts for an account (the lease), and it reads the broker only once it holds it,
  // so its snapshot includes every order an earlier sweep sent: two sweeps can never each spend the same
  // contracts (two positions on one contract, the broker holding less than both). The conditional write
  // on each record's version stays as the second line of defence (rule 5).
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
    openCount = await sweepHoldingLease(deps, report);
    passMs = Date.now() - started;
    // Still holding the lease: the price-rule polls of a scheduled sweep (sweep/poll.ts).
    if (deps.poll) await pollUntilDeadline(deps, deps.poll, report, leaseUntilMs);
  } finally {
    await deps.lease
      .releaseSweepLease(deps.account.name, owner)
      .catch((err: unknown) =>
        deps.log.warn(`Releasing the sweep lease failed (it runs out): ${String(err)}`),
      );
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
    duration_ms: report.durationMs,
    polls: report.polls,
  });
  return report;
}

/** The sweep proper, once the lease is held; returns how many positions were open. */
async function sweepHoldingLease(deps: SweepDeps, report: Mutable<SweepReport>): Promise<number> {
  const s = new SweepState(deps, report);
  const snapshot = await readSnapshot(deps, s);
  const { live, brokerPositions, openOrders, clock, closedOrders, unreadable, prefetched } = snapshot;
  report.livePositions = live.length;
  report.marketOpen = clock.isOpen;
  s.init(brokerPositions, openOrders, clock, closedOrders ?? []);
  // The daily loss breaker's own switch ends at the next trading day's open (before anything acts).
  const control = await resetDailyLoss(s, snapshot.control);
  for (const u of unreadable) {
    s.alert(
      'unreadable_record',
      u.key,
      `${u.reason}; this position is not managed until the item is repaired`,
    );
  }

  // 1. Learn fills and resolve claims (opens and exits in flight); exit steps first: when lookups run
  // short, finishing closes matters more than learning opens.
  const byUrgency = [...live].sort((a, b) => learnRank(a) - learnRank(b));
  const learned = (await s.forEach(byUrgency, (p) => learn(s, p))).filter(
    (p): p is Position => p !== null && p.state !== 'closed',
  );
  announceOpened(s, live, learned);

  // 2. Reconcile with the broker before deciding anything.
  const positions = await reconcile(s, learned);

  // 3. Quotes for every position this sweep may act on: those prefetched, plus any missing.
  const resends = positions.filter((p) => s.resendDue.has(p.position_id));
  const working = positions.filter((p) => s.workingExit.has(p.position_id));
  const pending = positions.filter((p) => s.workingOpen.has(p.position_id));
  const open = positions.filter((p) => p.state === 'open');
  report.quotedSymbols = [
    ...new Set([...resends, ...working, ...pending, ...open].map((p) => p.option_symbol)),
  ];
  const first = await prefetched;
  const quotes = new Map(first.quotes);
  const missing = report.quotedSymbols.filter((sym) => !first.requested.has(sym));
  if (missing.length) {
    const more = await fetchQuotes(deps.marketData, missing).catch((err: unknown) => quoteReadFailed(s, err));
    for (const [sym, q] of more.quotes) quotes.set(sym, q);
  }

  // 4. Act: steps decided earlier first (resends, working orders, pending opens), then new decisions, all
  // spending one per-contract budget.
  const flatten = control?.flatten === true;
  await s.forEach(resends, (p) => resend(s, p, quotes.get(p.option_symbol)));
  await s.forEach(working, (p) => manageWorking(s, p, quotes.get(p.option_symbol), flatten));
  await s.forEach(pending, (p) => managePendingOpen(s, p, quotes.get(p.option_symbol), flatten));
  await s.forEach(open, (p) => evaluateAndAct(s, p, quotes.get(p.option_symbol), flatten));
  // Protective stops resting at the broker take what the exits left (README "Protective stops at the broker").
  await keepBrokerStops(s, live, unreadable.length > 0);
  await trackDayPnl(s, positions, quotes, control);
  await Promise.all(s.events);

  // The feed is down for this sweep when its read failed, or when every position that needed a price had none.
  if (report.quoteFeedFailed || (s.priced > 0 && s.unpriced === s.priced)) {
    s.alert(
      'quote_feed_down',
      '*',
      report.quoteFeedFailed
        ? 'the option quote read failed: price rules wait, time rules still act'
        : `no usable quote for any of ${s.priced} positions: price rules wait, time rules still act`,
    );
  }
  return open.length;
}

/**
 * The sweep's reads, started together: the table's live positions and kill switch, the broker's positions,
 * open and recently closed orders and clock, and the quote prefetch (awaited later, in step 3).
 */
async function readSnapshot(deps: SweepDeps, s: SweepState) {
  // Every read that depends on nothing else starts at once: the table's live positions and kill switch,
  // the broker's positions, open orders and clock. Quotes need only symbols: a warm container asks at once
  // for those the last sweep quoted (`expectedSymbols`); otherwise they are asked for as soon as the first
  // of two lists arrives (the table's open positions, or the broker's option holdings). Step 3 fetches any
  // the prefetch missed. A failed quote read is `no_quote` for the positions it concerns: the rules that
  // need no price still act. An unreadable record stops only itself.
  let unreadable: ReadonlyArray<{ key: string; reason: string }> = [];
  const liveRead = deps.store.listLive(deps.account.name).catch((err: unknown) => {
    if (!(err instanceof UnreadableRecordsError)) throw err;
    unreadable = err.unreadable;
    return err.readable as Position[];
  });
  const heldRead = deps.broker.listPositions();
  const prefetched = (
    deps.expectedSymbols?.length
      ? fetchQuotes(deps.marketData, deps.expectedSymbols)
      : Promise.race([
          liveRead.then(openSymbols),
          heldRead.then((held) => [...new Set(held.filter(isOption).map((h) => h.symbol))]),
        ]).then((symbols) => fetchQuotes(deps.marketData, symbols))
  ).catch((err: unknown) => quoteReadFailed(s, err));
  // Orders that ended since the oldest step in flight, in one listing (paged), asked for only when some
  // live position has an order to learn. A failed listing costs nothing but lookups.
  const closedRead = liveRead
    .then((rows) => {
      const after = closedListingAfter(rows, deps.now(), deps.claimLeaseMs ?? 120_000);
      return after === null ? null : deps.broker.listClosedOrders(after);
    })
    .catch((err: unknown) => {
      deps.log.warn(`Listing closed orders failed; falling back to per-order lookups: ${String(err)}`);
      return null;
    });
  const [live, brokerPositions, openOrders, clock, control, closedOrders] = await Promise.all([
    liveRead,
    heldRead,
    deps.broker.listOpenOrders(),
    deps.broker.getClock(),
    deps.store.getControl(deps.account.name),
    closedRead,
  ]);
  return { live, brokerPositions, openOrders, clock, control, closedOrders, unreadable, prefetched };
}

type QuoteRead = { requested: ReadonlySet<string>; quotes: ReadonlyMap<string, OptionQuote> };

function quoteReadFailed(s: SweepState, err: unknown): QuoteRead {
  s.report.quoteFeedFailed = true;
  s.deps.log.warn(`Option quotes could not be read; price rules wait this sweep: ${String(err)}`);
  return { requested: new Set(), quotes: new Map() };
}

/** The distinct contracts of the positions that are `open` (the only ones whose exit rules need a quote). */
function openSymbols(positions: readonly Position[]): string[] {
  return [...new Set(positions.filter((p) => p.state === 'open').map((p) => p.option_symbol))];
}

function isOption(p: BrokerPosition): boolean {
  return p.asset_class === 'us_option';
}

/** Quotes for `symbols` (no call when there are none), with the set that was asked for. */
async function fetchQuotes(marketData: MarketData, symbols: readonly string[]): Promise<QuoteRead> {
  const quotes = symbols.length ? await marketData.getOptionQuotes(symbols) : new Map<string, OptionQuote>();
  return { requested: new Set(symbols), quotes };
}

/** Margin for the difference between this clock (claims) and the broker's (orders' `created_at`). */
const CLOCK_SKEW_MARGIN_MS = 60_000;

/**
 * Where this sweep's closed-order listing starts: the earliest time an order still to be learned can have
 * been submitted (a pending open's or a lapsed claim's `created_at`, an exit step's first claim), minus the
 * clock-skew margin. null when no live position has such an order (no listing at all).
 */
function closedListingAfter(live: readonly Position[], now: Date, leaseMs: number): string | null {
  let earliest = Infinity;
  for (const p of live) {
    let since: string | undefined;
    if (p.state === 'pending') since = p.created_at;
    else if (p.state === 'submitting') {
      if (now.getTime() - Date.parse(p.created_at) >= leaseMs) since = p.created_at;
    } else if (p.pending_exit) since = p.pending_exit.first_claimed_at ?? p.pending_exit.claimed_at;
    const t = since === undefined ? NaN : Date.parse(since);
    if (Number.isFinite(t)) earliest = Math.min(earliest, t);
  }
  return earliest === Infinity ? null : new Date(earliest - CLOCK_SKEW_MARGIN_MS).toISOString();
}

function learnRank(p: Position): number {
  return p.state === 'closing' || p.pending_exit ? 0 : p.state === 'open' ? 2 : 1;
}
