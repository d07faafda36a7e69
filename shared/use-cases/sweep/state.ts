import type { AccountConfig } from '../../domain/account-config';
import type { CloseReason, ExitReason, Position } from '../../domain/position';
import { BrokerRejectedError, ConcurrentUpdateError, PipelineError } from '../../domain/errors';
import type {
  Broker,
  BrokerOrder,
  BrokerPosition,
  MarketClock,
  MarketData,
  PositionStore,
  SweepLease,
  TradeEvents,
} from '../../ports';
import { TERMINAL_ORDER_STATUSES } from '../../ports';
import type { Log, MetricsSink } from '../../observability';
import { ALERT_METRICS, Metric, type AlertKind } from '../../metric-names';
import { ExitBudget } from './exit-budget';
import { sessionCloseOf } from '../../domain/market-time';
import type { TradeEvent } from '../../domain/trade-events';
import type { DayPnl } from '../../domain/daily-loss';
import { emitTradeEvent } from '../emit-trade-event';
import type { PollWindow } from './poll';

export interface SweepDeps {
  readonly account: AccountConfig;
  readonly broker: Broker;
  readonly marketData: MarketData;
  readonly store: PositionStore;
  /** One sweep at a time per account. */
  readonly lease: SweepLease;
  readonly now: () => Date;
  readonly log: Log;
  readonly metrics: MetricsSink;
  /**
   * A claimed step (open or exit) whose outcome is unknown (a timeout, a crashed sweep) is only resumed
   * once the claim is older than this: younger claims may belong to a sweep or delivery still running. A
   * step whose send ended with a definite broker answer is resumed by the next sweep at once. @default 120000
   */
  readonly claimLeaseMs?: number;
  /** Positions processed concurrently. @default 8 */
  readonly concurrency?: number;
  /**
   * Order lookups (learning fills of orders no longer open, confirming a contract is gone) one sweep may
   * make. Orders that ended are normally learned from one listing of closed orders per sweep; a lookup is
   * only the fallback. The rest wait for the next sweep, so a burst of fills never pushes a sweep past its
   * request budget or its timeout, and the open positions' exits are still evaluated. @default 20
   */
  readonly maxLookupsPerSweep?: number;
  /**
   * The contracts the previous sweep in this container quoted ({@link SweepReport.quotedSymbols}). Their
   * quotes are asked for at once, in parallel with the table and broker reads. @default none
   */
  readonly expectedSymbols?: readonly string[];
  /**
   * How long this sweep's lease lasts: longer than the sweep can run (on Lambda, the invocation's
   * remaining time plus a margin). A sweep that dies without giving it back blocks the next ones only
   * until then. @default 60000
   */
  readonly sweepLeaseMs?: number;
  /** Where closes and kill switch changes are announced (best effort). @default none */
  readonly tradeEvents?: TradeEvents;
  /** After the full pass, poll the price rules until then (sweep/poll.ts); absent: one pass. */
  readonly poll?: PollWindow;
}

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
  /** Working orders this sweep cancelled (to reprice, to make room for a bigger step, or on timeout). */
  readonly cancelled: Array<{ position_id: string; client_order_id: string; why: string }>;
  readonly closed: Array<{ position_id: string; reason: CloseReason }>;
  readonly alerts: Array<{ kind: AlertKind; symbol: string; detail: string }>;
  readonly held: Array<{ position_id: string; reason: string }>;
  readonly wouldClose: Array<{ position_id: string; reason: ExitReason; qty: number }>;
  readonly conflicts: number;
  readonly errors: Array<{ position_id: string; error: string }>;
  readonly durationMs: number;
  /** The contracts this sweep quoted (the next sweep's `expectedSymbols`). */
  readonly quotedSymbols: string[];
  /** True when the quote read failed (price rules waited; time rules still acted). */
  readonly quoteFeedFailed: boolean;
  /** Why this sweep did nothing (another sweep of the account held the lease); null when it ran. */
  readonly skipped: string | null;
  /** The account's P&L of the trading day at this sweep's quotes; null when it could not be computed. */
  readonly dayPnl: DayPnl | null;
  /** Price-rule polls made after the full pass (sweep/poll.ts); absent when the sweep did not poll. */
  readonly polls?: number;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function emptyReport(): Mutable<SweepReport> {
  return {
    livePositions: 0,
    marketOpen: false,
    ordersSent: [],
    cancelled: [],
    closed: [],
    alerts: [],
    held: [],
    wouldClose: [],
    conflicts: 0,
    errors: [],
    durationMs: 0,
    quotedSymbols: [],
    quoteFeedFailed: false,
    skipped: null,
    dayPnl: null,
  };
}

/**
 * What one sweep knows and has spent: the broker snapshot it read (positions, working orders, orders that
 * ended), the per-contract exit budget, its lookups allowance, and the report it fills. The learn,
 * reconcile and act modules share it; nothing outlives the sweep.
 */
export class SweepState {
  readonly brokerBySymbol = new Map<string, BrokerPosition>();
  readonly openOrderByClientId = new Map<string, BrokerOrder>();
  /** Orders that ended, from this sweep's closed-order listing (empty when none was needed or it failed). */
  readonly closedOrderByClientId = new Map<string, BrokerOrder>();
  budget = new ExitBudget([]);
  clock!: MarketClock;
  /** The close of the session {@link clock} is in (null when closed): every position is judged against it. */
  sessionClose: Date | null = null;
  private lookups = 0;
  /** Positions whose record changed while learning fills in this sweep (not reconciled until the next). */
  readonly changedInLearn = new Set<string>();
  /** Exit steps the broker never saw, due to be sent again (same id) in the act phase. */
  readonly resendDue = new Set<string>();
  /** Position id → its exit order working at the broker. */
  readonly workingExit = new Map<string, BrokerOrder>();
  /** Position id → its opening order still working at the broker. */
  readonly workingOpen = new Map<string, BrokerOrder>();
  /** Trade events this sweep published, awaited before it ends (each settles within its timeout). */
  readonly events: Array<Promise<void>> = [];
  /** Evaluations that needed a price, and how many of them had no usable quote. */
  priced = 0;
  unpriced = 0;

  constructor(
    readonly deps: SweepDeps,
    readonly report: Mutable<SweepReport>,
  ) {}

  init(
    positions: BrokerPosition[],
    orders: BrokerOrder[],
    clock: MarketClock,
    closedOrders: readonly BrokerOrder[] = [],
  ): void {
    this.clock = clock;
    this.sessionClose = sessionCloseOf(clock);
    this.budget = new ExitBudget(positions);
    for (const p of positions) this.brokerBySymbol.set(p.symbol, p);
    for (const o of orders) this.openOrderByClientId.set(o.client_order_id, o);
    for (const o of closedOrders) {
      if (o.client_order_id && TERMINAL_ORDER_STATUSES.has(o.status))
        this.closedOrderByClientId.set(o.client_order_id, o);
    }
  }

  get account(): AccountConfig {
    return this.deps.account;
  }

  get leaseMs(): number {
    return this.deps.claimLeaseMs ?? 120_000;
  }

  now(): Date {
    return this.deps.now();
  }

  nowIso(): string {
    return this.deps.now().toISOString();
  }

  /**
   * What this sweep already knows of an order without asking: the open-orders read first, then the
   * closed-order listing. `undefined` means unknown (never "no such order": only a lookup can say that).
   */
  knownOrder(clientOrderId: string): BrokerOrder | undefined {
    return this.openOrderByClientId.get(clientOrderId) ?? this.closedOrderByClientId.get(clientOrderId);
  }

  /** Takes one order lookup from this sweep's allowance; false when it is spent (try next sweep). */
  takeLookup(): boolean {
    if (this.lookups >= (this.deps.maxLookupsPerSweep ?? 20)) return false;
    this.lookups++;
    return true;
  }

  /**
   * Cancels a working order of ours and looks it up: the order once it ended (cancelled, or filled before
   * the cancel landed), null while the cancel is not confirmed (the next sweep learns the rest). A 422 (no
   * longer cancelable) is no error: the lookup says how it ended. `onCancelFailed` runs before any other
   * failure of the cancel request is rethrown (the cancel may still have landed).
   */
  async cancelAndLookUp(
    orderId: string,
    clientOrderId: string,
    onCancelFailed?: () => Promise<void>,
  ): Promise<BrokerOrder | null> {
    try {
      await this.deps.broker.cancelOrder(orderId);
    } catch (err) {
      if (!(err instanceof BrokerRejectedError)) {
        await onCancelFailed?.();
        throw err;
      }
    }
    const after = await this.deps.broker.getOrderByClientOrderId(clientOrderId);
    return after && TERMINAL_ORDER_STATUSES.has(after.status) ? after : null;
  }

  /** A fresh read of one contract: the snapshot and the exit budget follow it. */
  async rereadContract(symbol: string): Promise<BrokerPosition | null> {
    const held = await this.deps.broker.getPosition(symbol);
    if (held) this.brokerBySymbol.set(symbol, held);
    else this.brokerBySymbol.delete(symbol);
    this.budget.refresh(symbol, held);
    return held;
  }

  /** Runs `fn` over items with bounded concurrency; a failure is recorded (and counted) for that position only. */
  async forEach<T>(items: Position[], fn: (p: Position) => Promise<T>): Promise<Array<T | null>> {
    const out: Array<T | null> = new Array(items.length).fill(null);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        try {
          out[i] = await fn(items[i]);
        } catch (err) {
          this.positionFailed(items[i], err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency ?? 8, items.length) }, worker));
    return out;
  }

  private positionFailed(p: Position, err: unknown): void {
    if (err instanceof ConcurrentUpdateError) {
      this.report.conflicts++;
      this.deps.log.info(`Position ${p.position_id} changed under this sweep; left to the other writer`);
      return;
    }
    this.report.errors.push({ position_id: p.position_id, error: String((err as Error).message ?? err) });
    this.deps.metrics.count(Metric.SweepPositionErrors);
    this.deps.log.warn(`Position ${p.position_id} left for the next sweep: ${(err as Error).message}`, {
      position_id: p.position_id,
      transient: err instanceof PipelineError ? err.transient : true,
    });
  }

  /** Stores `next` (a record a lifecycle transition closed) and reports the close. */
  async close(p: Position, next: Position): Promise<Position> {
    if (next.state !== 'closed' || !next.close_reason)
      throw new Error(`close: ${p.position_id} is not closed`);
    const stored = await this.deps.store.replace(p, next);
    this.noteClosed(stored, next.close_reason);
    return stored;
  }

  noteClosed(p: Position, reason: CloseReason): void {
    this.report.closed.push({ position_id: p.position_id, reason });
    this.deps.metrics.count(Metric.PositionsClosed, 1, { reason });
    this.deps.log.info(`Position ${p.position_id} closed: ${reason}`, {
      position_id: p.position_id,
      option_symbol: p.option_symbol,
      realized_pnl: p.realized_pnl,
    });
    if (p.realized_pnl !== 0) this.deps.metrics.gauge(Metric.RealizedPnl, p.realized_pnl);
    this.emit({
      type: 'position_closed',
      account: p.account,
      position_id: p.position_id,
      option_symbol: p.option_symbol,
      reason,
      realized_pnl: p.realized_pnl,
      at: this.nowIso(),
    });
  }

  /** Publishes a trade event alongside the sweep's work (never fails it; see `emitTradeEvent`). */
  emit(event: TradeEvent): void {
    this.events.push(emitTradeEvent(this.deps, event));
  }

  alert(kind: AlertKind, symbol: string, detail: string): void {
    this.report.alerts.push({ kind, symbol, detail });
    this.deps.metrics.count(ALERT_METRICS[kind]);
    this.deps.log.warn(`ALERT ${kind} ${symbol}: ${detail}`, { alert: kind, symbol, detail });
  }
}
