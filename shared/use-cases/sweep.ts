import { randomUUID } from 'node:crypto';
import type { AccountConfig } from '../domain/account-config';
import { evaluateExit, type ExitDecision } from '../domain/exit-rules';
import { buildCloseOrder, closableQty, exitClientOrderId } from '../domain/orders';
import {
  realizedPnl,
  type CloseReason,
  type ExitReason,
  type PendingExit,
  type Position,
} from '../domain/position';
import {
  BrokerRejectedError,
  ConcurrentUpdateError,
  DuplicateClientOrderIdError,
  PipelineError,
  UnreadableRecordsError,
} from '../domain/errors';
import type {
  Broker,
  BrokerOrder,
  BrokerPosition,
  MarketClock,
  MarketData,
  OptionQuote,
  PositionStore,
} from '../ports';
import { TERMINAL_ORDER_STATUSES } from '../ports';
import type { Log, MetricsSink } from '../observability';
import { Metric } from '../metric-names';

export interface SweepDeps {
  readonly account: AccountConfig;
  readonly broker: Broker;
  readonly marketData: MarketData;
  readonly store: PositionStore;
  readonly now: () => Date;
  readonly log: Log;
  readonly metrics: MetricsSink;
  /**
   * A claimed step (open or exit) without a recorded order is only resumed once the claim is older than
   * this: younger claims may belong to a sweep or delivery still running. @default 120000
   */
  readonly claimLeaseMs?: number;
  /** Positions processed concurrently. @default 8 */
  readonly concurrency?: number;
  /**
   * Order lookups (learning fills of orders no longer open) one sweep may make. Orders that ended are
   * normally learned from one listing of closed orders per sweep; a lookup is only the fallback for an
   * order the listing did not contain (or when the listing failed). The rest wait for the next sweep, so
   * a burst of fills never pushes a sweep past its request budget or its timeout, and the open positions'
   * exits are still evaluated. @default 20
   */
  readonly maxLookupsPerSweep?: number;
  /**
   * The contracts the previous sweep in this container quoted ({@link SweepReport.quotedSymbols}). Their
   * quotes are asked for at once, in parallel with the table and broker reads instead of after the first
   * of them: positions change little from one minute to the next. A contract not among them is quoted once
   * the lists arrive; a quote no longer needed is ignored. @default none (quotes wait for the first list)
   */
  readonly expectedSymbols?: readonly string[];
  /**
   * How long this sweep's lease lasts: longer than the sweep can run (on Lambda, the invocation's
   * remaining time plus a margin), so that it never runs out while the sweep still acts. A sweep that
   * dies without giving it back blocks the next ones only until then. @default 60000
   */
  readonly sweepLeaseMs?: number;
}

const DEFAULT_SWEEP_LEASE_MS = 60_000;

/** What one sweep did, for logs, tests and the local view. */
export interface SweepReport {
  readonly livePositions: number;
  readonly marketOpen: boolean;
  readonly ordersSent: Array<{
    position_id: string;
    client_order_id: string;
    qty: number;
    reason: ExitReason;
  }>;
  readonly closed: Array<{ position_id: string; reason: CloseReason }>;
  readonly alerts: Array<{ kind: string; symbol: string; detail: string }>;
  readonly held: Array<{ position_id: string; reason: string }>;
  readonly wouldClose: Array<{ position_id: string; reason: ExitReason; qty: number }>;
  readonly conflicts: number;
  readonly errors: Array<{ position_id: string; error: string }>;
  readonly durationMs: number;
  /** The contracts of the open positions this sweep evaluated (the next sweep's `expectedSymbols`). */
  readonly quotedSymbols: string[];
  /** Why this sweep did nothing (another sweep of the account held the lease); null when it ran. */
  readonly skipped: string | null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * One sweep for one account: take the account's sweep lease (or do nothing when another sweep holds it),
 * read live positions (a query), ask the broker once for positions, open orders and the clock, learn
 * fills, reconcile with the broker, evaluate exit rules, and send guarded, intent-free closing orders.
 * Every record change is also conditional on the version read, so even sweeps that overlapped (a lease
 * that ran out) never act twice on the same step (safety rule 5).
 */
export async function runSweep(deps: SweepDeps): Promise<SweepReport> {
  const started = Date.now();
  const report: Mutable<SweepReport> = {
    livePositions: 0,
    marketOpen: false,
    ordersSent: [],
    closed: [],
    alerts: [],
    held: [],
    wouldClose: [],
    conflicts: 0,
    errors: [],
    durationMs: 0,
    quotedSymbols: [],
    skipped: null,
  };

  // One sweep at a time acts for an account (the lease), and it reads the broker only once it holds it,
  // so its snapshot includes every order an earlier sweep sent: two sweeps can never each spend the same
  // contracts (two positions on one contract, the broker holding less than both). The conditional write
  // on each record's version stays as the second line of defence (rule 5).
  const owner = randomUUID();
  const nowMs = deps.now().getTime();
  const leased = await deps.store.acquireSweepLease(
    deps.account.name,
    owner,
    nowMs,
    nowMs + (deps.sweepLeaseMs ?? DEFAULT_SWEEP_LEASE_MS),
  );
  if (!leased) {
    report.skipped = 'another sweep of this account holds the sweep lease';
    report.durationMs = Date.now() - started;
    deps.log.info(`Sweep skipped: ${report.skipped}`);
    return report;
  }
  let openCount = 0;
  try {
    openCount = await sweepHoldingLease(deps, report);
  } finally {
    await deps.store
      .releaseSweepLease(deps.account.name, owner)
      .catch((err: unknown) =>
        deps.log.warn(`Releasing the sweep lease failed (it runs out): ${String(err)}`),
      );
  }

  report.durationMs = Date.now() - started;
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
  });
  return report;
}

/** The sweep proper, once the lease is held; returns how many positions were open. */
async function sweepHoldingLease(deps: SweepDeps, report: Mutable<SweepReport>): Promise<number> {
  const ctx = new SweepContext(deps, report);

  // Every read that depends on nothing else starts at once: the table's live positions and kill switch,
  // the broker's positions, open orders and clock. Quotes need only symbols: a warm container asks at once
  // for those the last sweep quoted (`expectedSymbols`); otherwise they are asked for as soon as the first
  // of two lists arrives: the table's open positions, or the broker's option holdings (only a contract the
  // broker holds can be evaluated: reconcile closes the others without a quote). Either list covers the
  // positions that will be evaluated; step 3 fetches any the prefetch missed.
  // An unreadable record stops only itself: the others are managed, and it is alerted on below.
  let unreadable: ReadonlyArray<{ key: string; reason: string }> = [];
  const liveRead = deps.store.listLive(deps.account.name).catch((err: unknown) => {
    if (!(err instanceof UnreadableRecordsError)) throw err;
    unreadable = err.unreadable;
    return err.readable as Position[];
  });
  const heldRead = deps.broker.listPositions();
  const prefetched = deps.expectedSymbols?.length
    ? fetchQuotes(deps.marketData, deps.expectedSymbols)
    : Promise.race([
        liveRead.then(openSymbols),
        heldRead.then((held) => [...new Set(held.filter(isOption).map((h) => h.symbol))]),
      ]).then((symbols) => fetchQuotes(deps.marketData, symbols));
  // Awaited in step 3; until then a failure must not surface as an unhandled rejection.
  prefetched.catch(() => undefined);
  // Orders that ended since the oldest step in flight, in one listing (paged), asked for only when some
  // live position has an order to learn. A failed listing costs nothing but lookups: learning falls back
  // to the capped per-order lookups.
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
  report.livePositions = live.length;
  report.marketOpen = clock.isOpen;
  ctx.init(brokerPositions, openOrders, clock, closedOrders ?? []);
  for (const u of unreadable) ctx.alertUnreadable(u.key, u.reason);

  // 1. Learn fills and resolve claims (opens and exits in flight).
  // Exit steps in flight first: when lookups run short, finishing closes matters more than learning opens.
  const byUrgency = [...live].sort((a, b) => learnRank(a) - learnRank(b));
  const learned = (await ctx.forEach(byUrgency, (p) => ctx.learn(p))).filter(
    (p): p is Position => p !== null && p.state !== 'closed',
  );

  // 2. Reconcile with the broker before deciding anything.
  const positions = await ctx.reconcile(learned);

  // 3. Quotes for the open positions, in batches (the adapter chunks by 100): those prefetched, plus any
  // position that became open in step 1 (a pending open that filled) on a contract not asked for yet.
  const open = positions.filter((p) => p.state === 'open');
  const first = await prefetched;
  const quotes = new Map(first.quotes);
  report.quotedSymbols = openSymbols(open);
  const missing = report.quotedSymbols.filter((s) => !first.requested.has(s));
  if (missing.length)
    for (const [s, q] of (await fetchQuotes(deps.marketData, missing)).quotes) quotes.set(s, q);

  // 4. Evaluate and act.
  await ctx.forEach(open, (p) =>
    ctx.evaluateAndAct(p, quotes.get(p.option_symbol), control?.flatten === true),
  );

  return open.length;
}

class SweepContext {
  private brokerBySymbol = new Map<string, BrokerPosition>();
  private openOrderByClientId = new Map<string, BrokerOrder>();
  /** Orders that ended, from this sweep's closed-order listing (empty when none was needed or it failed). */
  private closedOrderByClientId = new Map<string, BrokerOrder>();
  /** Contracts per symbol the broker still lets this sweep close (decremented as orders go out). */
  private availableBySymbol = new Map<string, number>();
  private clock!: MarketClock;
  private lookups = 0;
  /** Positions whose record changed while learning fills in this sweep (not reconciled until the next). */
  private readonly changedInLearn = new Set<string>();

  constructor(
    private readonly deps: SweepDeps,
    private readonly report: Mutable<SweepReport>,
  ) {}

  init(
    positions: BrokerPosition[],
    orders: BrokerOrder[],
    clock: MarketClock,
    closedOrders: readonly BrokerOrder[] = [],
  ): void {
    this.clock = clock;
    for (const p of positions) {
      this.brokerBySymbol.set(p.symbol, p);
      this.availableBySymbol.set(p.symbol, Math.max(0, Math.min(p.qty, p.qty_available)));
    }
    for (const o of orders) this.openOrderByClientId.set(o.client_order_id, o);
    for (const o of closedOrders) {
      if (o.client_order_id && TERMINAL_ORDER_STATUSES.has(o.status))
        this.closedOrderByClientId.set(o.client_order_id, o);
    }
  }

  /**
   * What this sweep already knows of an order without asking: the open-orders read first, then the
   * closed-order listing. `undefined` means unknown (never "no such order": only a lookup can say that).
   */
  private knownOrder(clientOrderId: string): BrokerOrder | undefined {
    return this.openOrderByClientId.get(clientOrderId) ?? this.closedOrderByClientId.get(clientOrderId);
  }

  /** Takes one order lookup from this sweep's allowance; false when it is spent (try next sweep). */
  private takeLookup(): boolean {
    if (this.lookups >= (this.deps.maxLookupsPerSweep ?? 20)) return false;
    this.lookups++;
    return true;
  }

  private get lease(): number {
    return this.deps.claimLeaseMs ?? 120_000;
  }

  private now(): Date {
    return this.deps.now();
  }

  /** Runs `fn` over items with bounded concurrency; a failure is recorded for that position only. */
  async forEach<T>(items: Position[], fn: (p: Position) => Promise<T>): Promise<Array<T | null>> {
    const out: Array<T | null> = new Array(items.length).fill(null);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        try {
          out[i] = await fn(items[i]);
        } catch (err) {
          if (err instanceof ConcurrentUpdateError) {
            this.report.conflicts++;
            this.deps.log.info(
              `Position ${items[i].position_id} changed under this sweep; left to the other writer`,
            );
          } else {
            this.report.errors.push({
              position_id: items[i].position_id,
              error: String((err as Error).message ?? err),
            });
            this.deps.log.warn(
              `Position ${items[i].position_id} left for the next sweep: ${(err as Error).message}`,
              {
                position_id: items[i].position_id,
                transient: err instanceof PipelineError ? err.transient : true,
              },
            );
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency ?? 8, items.length) }, worker));
    return out;
  }

  // ---------------------------------------------------------------- 1. learn fills

  async learn(p: Position): Promise<Position | null> {
    const learned = await this.learnStep(p);
    if (learned !== p) this.changedInLearn.add(p.position_id);
    return learned;
  }

  private async learnStep(p: Position): Promise<Position | null> {
    if (p.state === 'submitting') return this.learnSubmitting(p);
    if (p.state === 'pending') return this.learnPendingOpen(p);
    if (p.state === 'closing' || p.pending_exit) return this.learnExit(p);
    return p;
  }

  /** A claim whose opening order was never recorded: resolve it once the claiming delivery is surely gone. */
  private async learnSubmitting(p: Position): Promise<Position | null> {
    const age = this.now().getTime() - Date.parse(p.created_at);
    if (age < this.lease) return p;
    const known = this.knownOrder(p.open_client_order_id);
    if (known) return this.applyOpenOrder(p, known);
    if (!this.takeLookup()) return p;
    const order = await this.deps.broker.getOrderByClientOrderId(p.open_client_order_id);
    if (order) return this.applyOpenOrder(p, order);
    // The open path refuses a recommendation older than max age, so after max age + lease nothing will send it.
    const maxAgeMs = this.deps.account.limits.max_recommendation_age_minutes * 60_000;
    if (age < maxAgeMs + this.lease) return p;
    return this.close(p, 'not_sent', null, 'claim never reached the broker');
  }

  private async learnPendingOpen(p: Position): Promise<Position | null> {
    const known = this.knownOrder(p.open_client_order_id);
    if (!known && !this.takeLookup()) return p;
    const order = known ?? (await this.deps.broker.getOrderByClientOrderId(p.open_client_order_id));
    if (!order) {
      // Recorded as pending but unknown to the broker: should not happen; flag for an operator.
      this.alert('open_order_missing', p.option_symbol, `opening order ${p.open_client_order_id} not found`);
      return p;
    }
    return this.applyOpenOrder(p, order);
  }

  private async applyOpenOrder(p: Position, order: BrokerOrder): Promise<Position | null> {
    const now = this.now().toISOString();
    const filled = order.filled_qty;
    const terminal = TERMINAL_ORDER_STATUSES.has(order.status);
    const entry =
      filled > 0 && order.filled_avg_price !== null
        ? { entry_price: order.filled_avg_price, entry_time: p.entry_time ?? order.filled_at ?? now }
        : {};
    let next: Position;
    if (terminal && filled === 0) {
      next = {
        ...p,
        open_order_id: order.id,
        quantity: 0,
        state: 'closed',
        close_reason: 'not_filled',
        closed_at: now,
      };
    } else if (terminal) {
      next = {
        ...p,
        ...entry,
        open_order_id: order.id,
        quantity: filled,
        original_quantity: filled,
        state: 'open',
      };
    } else {
      next = { ...p, ...entry, open_order_id: order.id, quantity: filled, state: 'pending' };
    }
    if (samePosition(p, next)) return p;
    const stored = await this.deps.store.replace(p, { ...next, updated_at: now });
    if (stored.state === 'closed') this.noteClosed(stored, 'not_filled');
    else if (stored.state === 'open' && p.state !== 'open') {
      this.deps.log.info(
        `Position ${p.position_id} opened: ${filled} contracts of ${p.option_symbol} at ${order.filled_avg_price}`,
      );
    }
    return stored;
  }

  /** An exit step in flight: apply its fill when the order is done; resend it (same id) if it never left. */
  private async learnExit(p: Position): Promise<Position | null> {
    const pe = p.pending_exit;
    if (!pe) return this.deps.store.replace(p, { ...p, state: 'open', updated_at: this.now().toISOString() });
    const working = this.openOrderByClientId.get(pe.client_order_id);
    if (working) return p;
    const listed = this.closedOrderByClientId.get(pe.client_order_id);
    if (listed) return this.applyExitFill(p, pe, listed);
    if (!this.takeLookup()) return p;
    const order = await this.deps.broker.getOrderByClientOrderId(pe.client_order_id);
    if (order) {
      if (!TERMINAL_ORDER_STATUSES.has(order.status)) return p;
      return this.applyExitFill(p, pe, order);
    }
    // Claimed but the broker never saw it (crash before send, or the request was lost on the way).
    if (this.now().getTime() - Date.parse(pe.claimed_at) < this.lease) return p;
    await this.resendExit(p, pe);
    return null; // re-read next sweep
  }

  /**
   * Resends an exit step the broker never saw, with the same client_order_id. Like the first send it is
   * claimed first (a conditional write renews the step's claim: of several sweeps, exactly one wins), then
   * the order is looked up once more (a slow request may have landed since) and the broker's position in
   * that contract is read again: the sweep's opening snapshot may predate a fill (safety rule 3).
   */
  private async resendExit(p: Position, pe: PendingExit): Promise<void> {
    const renewed: PendingExit = {
      ...pe,
      claimed_at: this.now().toISOString(),
      first_claimed_at: pe.first_claimed_at ?? pe.claimed_at,
    };
    const claimed = await this.deps.store.replace(p, {
      ...p,
      pending_exit: renewed,
      updated_at: renewed.claimed_at,
    });
    const late = await this.deps.broker.getOrderByClientOrderId(pe.client_order_id);
    if (late) {
      if (TERMINAL_ORDER_STATUSES.has(late.status)) await this.applyExitFill(claimed, renewed, late);
      return;
    }
    const held = await this.deps.broker.getPosition(p.option_symbol);
    if (held) this.brokerBySymbol.set(p.option_symbol, held);
    else this.brokerBySymbol.delete(p.option_symbol);
    this.deps.log.warn(`Exit step ${pe.client_order_id} never reached the broker; sending it again`, {
      position_id: p.position_id,
    });
    await this.sendExit(claimed, renewed);
  }

  private async applyExitFill(p: Position, pe: PendingExit, order: BrokerOrder): Promise<Position | null> {
    const now = this.now().toISOString();
    const filled = Math.min(order.filled_qty, p.quantity);
    const price = order.filled_avg_price;
    const pnl =
      filled > 0 && price !== null && p.entry_price ? realizedPnl(p.side, p.entry_price, price, filled) : 0;
    const remaining = p.quantity - filled;
    const partialDone =
      pe.reason === 'partial_exit' && pe.partial_level != null && filled > 0
        ? [...new Set([...p.partial_exits_done, pe.partial_level])]
        : [...p.partial_exits_done];
    const base: Position = {
      ...p,
      quantity: remaining,
      realized_pnl: Math.round((p.realized_pnl + pnl) * 100) / 100,
      exit_price: price ?? p.exit_price ?? null,
      partial_exits_done: partialDone,
      pending_exit: null,
      updated_at: now,
    };
    if (remaining <= 0) {
      const stored = await this.deps.store.replace(p, {
        ...base,
        state: 'closed',
        close_reason: pe.reason,
        closed_at: now,
      });
      this.noteClosed(stored, pe.reason);
      return stored;
    }
    if (filled === 0) {
      this.deps.log.warn(
        `Exit order ${pe.client_order_id} ended ${order.status} unfilled; position stays open`,
      );
    } else {
      this.deps.log.info(`Position ${p.position_id} reduced by ${filled} (${pe.reason}); ${remaining} left`);
    }
    return this.deps.store.replace(p, { ...base, state: 'open' });
  }

  // ---------------------------------------------------------------- 2. reconcile

  /**
   * Compares the table with the broker, per contract. Only `open` positions are adjusted (pending and
   * closing ones are in flux). The broker is the truth for what exists; the table never makes it act.
   */
  async reconcile(positions: Position[]): Promise<Position[]> {
    const bySymbol = new Map<string, Position[]>();
    for (const p of positions) bySymbol.set(p.option_symbol, [...(bySymbol.get(p.option_symbol) ?? []), p]);

    for (const [symbol, broker] of this.brokerBySymbol) {
      const ours = bySymbol.get(symbol) ?? [];
      const sameSide = ours.filter((p) => p.side === broker.side);
      const tracked = sameSide.reduce((s, p) => s + p.quantity, 0);
      if (broker.side === 'short' && sameSide.length === 0) {
        this.alert(
          'unexpected_short',
          symbol,
          `broker holds ${broker.qty} short; the pipeline opened no short here`,
        );
      }
      if (sameSide.length === 0) {
        this.alert(
          'untracked_position',
          symbol,
          `broker holds ${broker.qty} ${broker.side}; no live position in the table`,
        );
      } else if (broker.qty > tracked && !sameSide.some((p) => p.state !== 'open')) {
        this.alert(
          'untracked_position',
          symbol,
          `broker holds ${broker.qty} ${broker.side}; the table tracks ${tracked}`,
        );
      }
    }

    const out: Position[] = [];
    for (const [symbol, ours] of bySymbol) {
      const broker = this.brokerBySymbol.get(symbol);
      for (const side of ['long', 'short'] as const) {
        const group = ours.filter((p) => p.side === side);
        if (group.length === 0) continue;
        // Only positions that were already open when this sweep read the broker are compared with it: a
        // pending open that filled (or an exit that completed) after that read would look "missing".
        const settled = group.filter(
          (p) => p.state === 'open' && !p.pending_exit && !this.changedInLearn.has(p.position_id),
        );
        const inFlux = group.filter((p) => !settled.includes(p));
        out.push(...inFlux);
        if (settled.length === 0) continue;
        // A position on this contract changed in this sweep's learning step (an open that filled, an exit
        // that ended) after the broker was read: whether the snapshot already counts that change is
        // unknown, so no record is brought down against it now. The next sweep compares a consistent
        // snapshot; meanwhile every order stays bounded by what the broker confirmed.
        if (group.some((p) => this.changedInLearn.has(p.position_id))) {
          out.push(...settled);
          continue;
        }
        const held = broker && broker.side === side ? broker.qty : 0;
        const fluxQty = inFlux.reduce((s, p) => s + p.quantity, 0);
        let budget = Math.max(0, held - fluxQty);
        // Oldest positions keep their contracts first; shortfall lands on the newest.
        const sorted = [...settled].sort((a, b) => a.created_at.localeCompare(b.created_at));
        const adjusted = await this.forEach(sorted, async (p) => {
          const keep = Math.min(p.quantity, budget);
          budget -= keep;
          if (keep === p.quantity) return p;
          if (keep === 0) {
            // An intent-free order here would OPEN a position (a short for a SELL): close the record, send nothing.
            this.alert(
              'closed_outside_pipeline',
              symbol,
              `table had ${p.quantity} ${side}; broker holds none for it`,
            );
            return this.close(p, 'closed_outside_pipeline', null, 'broker holds none');
          }
          this.alert(
            'broker_qty_mismatch',
            symbol,
            `table had ${p.quantity} ${side}; broker confirms ${keep}`,
          );
          return this.deps.store.replace(p, {
            ...p,
            quantity: keep,
            flags: [...new Set([...p.flags, 'broker_qty_below_table'])],
            updated_at: this.now().toISOString(),
          });
        });
        out.push(...adjusted.filter((p): p is Position => p !== null && p.state !== 'closed'));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- 3-4. evaluate and act

  async evaluateAndAct(p: Position, quote: OptionQuote | undefined, flatten: boolean): Promise<void> {
    const now = this.now();
    const sessionClose = this.clock.isOpen && this.clock.nextClose ? new Date(this.clock.nextClose) : null;
    const ev = evaluateExit(p, quote, now, this.deps.account.exit_execution, { sessionClose });
    let decision: ExitDecision = ev.decision;
    // Flatten (an operator action) closes everything through the same guarded path as the rules.
    if (flatten) {
      decision = {
        action: 'close',
        qty: p.quantity,
        reason: 'flatten',
        mark: ev.mark,
        detail: 'flatten requested by the account control',
      };
    }
    const trailing = {
      peak_price: ev.state.peak_price,
      trailing_stop_price: ev.state.trailing_stop_price,
      breakeven_active: ev.state.breakeven_active,
    };
    if (decision.action === 'hold') {
      this.report.held.push({ position_id: p.position_id, reason: decision.reason });
      if (['no_quote', 'stale_quote', 'crossed_quote', 'bad_quote'].includes(decision.reason)) {
        this.deps.log.warn(`Holding ${p.position_id} (${p.option_symbol}): ${decision.detail}`);
      }
      if (ev.stateChanged)
        await this.deps.store.replace(p, { ...p, ...trailing, updated_at: now.toISOString() });
      return;
    }
    const reason: ExitReason = decision.reason;
    if (!this.clock.isOpen) {
      this.report.wouldClose.push({ position_id: p.position_id, reason, qty: decision.qty });
      this.deps.log.info(
        `Market closed: would close ${decision.qty} contracts of ${p.option_symbol} (${reason}); nothing sent`,
        {
          position_id: p.position_id,
          detail: decision.detail,
        },
      );
      if (ev.stateChanged)
        await this.deps.store.replace(p, { ...p, ...trailing, updated_at: now.toISOString() });
      return;
    }
    // Safety rule 3: only what the broker confirms, on this contract and side, minus what this sweep already sent.
    const available = Math.min(
      closableQty(p, this.brokerBySymbol.get(p.option_symbol)),
      this.availableBySymbol.get(p.option_symbol) ?? 0,
    );
    const qty = Math.min(decision.qty, available);
    if (qty < 1) {
      this.alert(
        'close_blocked',
        p.option_symbol,
        `${reason}: broker confirms no available qty for ${p.position_id}`,
      );
      return;
    }
    this.availableBySymbol.set(p.option_symbol, (this.availableBySymbol.get(p.option_symbol) ?? 0) - qty);
    const seq = p.exit_seq + 1;
    const pe: PendingExit = {
      seq,
      client_order_id: exitClientOrderId(p.account, p.position_id, seq),
      order_id: null,
      qty,
      reason,
      partial_level: decision.partialLevel ?? null,
      claimed_at: now.toISOString(),
      first_claimed_at: now.toISOString(),
    };
    this.deps.log.info(`Exit rule fired for ${p.position_id}: ${decision.detail}`, { reason, qty });
    // The claim: only one sweep can move this version to `closing` for step `seq` (safety rule 5).
    let claimed: Position;
    try {
      claimed = await this.deps.store.replace(p, {
        ...p,
        ...trailing,
        state: 'closing',
        exit_seq: seq,
        pending_exit: pe,
        updated_at: now.toISOString(),
      });
    } catch (err) {
      this.availableBySymbol.set(p.option_symbol, (this.availableBySymbol.get(p.option_symbol) ?? 0) + qty);
      throw err;
    }
    await this.sendExit(claimed, pe, quote);
  }

  /** Sends the claimed exit step: intent-free, on the recorded symbol, reducing side, broker-confirmed qty. */
  private async sendExit(p: Position, pe: PendingExit, quote?: OptionQuote): Promise<void> {
    const broker = this.brokerBySymbol.get(p.option_symbol);
    const exec = this.deps.account.exit_execution;
    let limitPrice: number | null = null;
    if (exec.order_type === 'marketable_limit') {
      // Through the far side by the slippage allowance, so it fills like a market order but with a cap.
      const far = quote ? (p.side === 'long' ? quote.bid : quote.ask) : NaN;
      if (!Number.isFinite(far) || far <= 0) {
        this.deps.log.warn(
          `No usable quote to price a marketable limit for ${p.position_id}; will retry next sweep`,
        );
        return;
      }
      limitPrice =
        p.side === 'long'
          ? Math.max(0.01, far * (1 - exec.limit_slippage_pct))
          : far * (1 + exec.limit_slippage_pct);
    }
    const built = buildCloseOrder({
      position: p,
      wantedQty: pe.qty,
      broker,
      clientOrderId: pe.client_order_id,
      limitPrice,
    });
    if (!built.ok) {
      this.alert(
        'close_blocked',
        p.option_symbol,
        `broker holds nothing to close for ${p.position_id}; no order sent`,
      );
      await this.deps.store.replace(p, {
        ...p,
        state: 'open',
        pending_exit: null,
        updated_at: this.now().toISOString(),
      });
      return;
    }
    const order = built.order;
    this.deps.log.info(
      `Submitting ${order.type} order to close ${order.qty} contracts of ${order.symbol} (${pe.reason})`,
      { position_id: p.position_id, client_order_id: order.client_order_id, side: order.side },
    );
    let placed: BrokerOrder;
    try {
      placed = await this.deps.broker.submitOrder(order);
    } catch (err) {
      if (err instanceof DuplicateClientOrderIdError || (err instanceof PipelineError && err.transient)) {
        const found = await this.deps.broker.getOrderByClientOrderId(order.client_order_id).catch(() => null);
        if (!found) throw err; // the claim stays; the next sweep looks it up again before any resend
        placed = found;
      } else {
        if (err instanceof BrokerRejectedError) {
          this.deps.metrics.count(Metric.BrokerRejections);
          this.alert('exit_rejected', p.option_symbol, `${pe.reason} exit rejected: ${err.message}`);
          // The step is over (its client_order_id is spent); the position stays open for the next decision.
          await this.deps.store.replace(p, {
            ...p,
            state: 'open',
            pending_exit: null,
            flags: [...new Set([...p.flags, 'exit_rejected'])],
            updated_at: this.now().toISOString(),
          });
        }
        throw err;
      }
    }
    this.report.ordersSent.push({
      position_id: p.position_id,
      client_order_id: order.client_order_id,
      qty: order.qty,
      reason: pe.reason,
    });
    this.deps.metrics.count(Metric.ExitsSubmitted, 1, { reason: pe.reason });
    const withOrder = await this.deps.store.replace(p, {
      ...p,
      pending_exit: { ...pe, qty: order.qty, order_id: placed.id },
      updated_at: this.now().toISOString(),
    });
    if (TERMINAL_ORDER_STATUSES.has(placed.status))
      await this.applyExitFill(withOrder, withOrder.pending_exit!, placed);
  }

  // ---------------------------------------------------------------- helpers

  private async close(
    p: Position,
    reason: CloseReason,
    exitPrice: number | null,
    why: string,
  ): Promise<Position> {
    const now = this.now().toISOString();
    const stored = await this.deps.store.replace(p, {
      ...p,
      state: 'closed',
      close_reason: reason,
      closed_at: now,
      exit_price: exitPrice ?? p.exit_price ?? null,
      pending_exit: null,
      flags: reason === 'closed_outside_pipeline' ? [...new Set([...p.flags, why])] : [...p.flags],
      updated_at: now,
    });
    this.noteClosed(stored, reason);
    return stored;
  }

  private noteClosed(p: Position, reason: CloseReason): void {
    this.report.closed.push({ position_id: p.position_id, reason });
    this.deps.metrics.count(Metric.PositionsClosed, 1, { reason });
    this.deps.log.info(`Position ${p.position_id} closed: ${reason}`, {
      position_id: p.position_id,
      option_symbol: p.option_symbol,
      realized_pnl: p.realized_pnl,
    });
  }

  /** A live record that cannot be read: the pipeline cannot manage that position until someone fixes it. */
  alertUnreadable(key: string, reason: string): void {
    this.alert(
      'unreadable_record',
      key,
      `${reason}; this position is not managed until the item is repaired`,
    );
  }

  private alert(kind: string, symbol: string, detail: string): void {
    this.report.alerts.push({ kind, symbol, detail });
    const metric =
      kind === 'unexpected_short'
        ? Metric.UnexpectedShort
        : kind === 'untracked_position' || kind === 'unreadable_record'
          ? Metric.UntrackedPosition
          : kind === 'broker_qty_mismatch'
            ? Metric.BrokerQtyMismatch
            : kind === 'closed_outside_pipeline'
              ? Metric.ClosedOutsidePipeline
              : null;
    if (metric) this.deps.metrics.count(metric);
    this.deps.log.warn(`ALERT ${kind} ${symbol}: ${detail}`, { alert: kind, symbol, detail });
  }
}

/** The distinct contracts of the positions that are `open` (the only ones whose exit rules need a quote). */
function openSymbols(positions: readonly Position[]): string[] {
  return [...new Set(positions.filter((p) => p.state === 'open').map((p) => p.option_symbol))];
}

function isOption(p: BrokerPosition): boolean {
  return p.asset_class === 'us_option';
}

/** Quotes for `symbols` (no call when there are none), with the set that was asked for. */
async function fetchQuotes(
  marketData: MarketData,
  symbols: readonly string[],
): Promise<{ requested: ReadonlySet<string>; quotes: ReadonlyMap<string, OptionQuote> }> {
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

function samePosition(a: Position, b: Position): boolean {
  return (
    a.state === b.state &&
    a.quantity === b.quantity &&
    a.open_order_id === b.open_order_id &&
    a.entry_price === b.entry_price &&
    a.original_quantity === b.original_quantity
  );
}
