/**
 * The sweep's contracts: what it needs ({@link SweepDeps}), what it reports ({@link SweepReport}) and how a
 * scheduled invocation polls ({@link PollWindow}). Nothing here does anything.
 */
import type { AccountConfig } from '../../domain/account-config';
import type { CloseReason, ExitReason } from '../../domain/position';
import type { DayPnl } from '../../domain/daily-loss';
import type { SpreadExitReason } from '../../domain/spread-position';
import type {
  Broker,
  MarketData,
  PositionStore,
  RequestBudget,
  SpreadStore,
  SweepLease,
  TradeEvents,
} from '../../ports';
import type { Log, MetricsSink } from '../../observability';
import type { AlertKind } from '../../metric-names';

/** When and how one invocation polls. */
export interface PollWindow {
  /** On the sweep's clock (`deps.now`): the time by which every poll has ended. */
  readonly deadlineMs: number;
  /** Waits between polls. @default real timers (the reliability model moves its own clock) */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface SweepDeps {
  readonly account: AccountConfig;
  readonly broker: Broker;
  readonly marketData: MarketData;
  readonly store: PositionStore;
  /** Spread records; absent: the sweep has no spread phase (no spread can have been opened). */
  readonly spreads?: SpreadStore;
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
   * make; the rest wait for the next sweep. @default 20
   */
  readonly maxLookupsPerSweep?: number;
  /**
   * How long this sweep's lease lasts (the handler bounds it by the invocation's deadline and the next
   * scheduled sweep). A sweep that dies without giving it back blocks the next ones only until then.
   * @default 60000
   */
  readonly sweepLeaseMs?: number;
  /**
   * On the sweep's clock: the time by which this invocation must have stopped sending (the Lambda's
   * remaining time less a margin). No step that sends starts after it. @default none (no deadline)
   */
  readonly deadlineMs?: number;
  /** The broker request budget of this container: placements never wait on it. @default unlimited */
  readonly requestBudget?: RequestBudget;
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
    reason: ExitReason | SpreadExitReason;
  }>;
  /** Working orders this sweep cancelled (to reprice, to make room for a bigger step, or on timeout). */
  readonly cancelled: Array<{ position_id: string; client_order_id: string; why: string }>;
  readonly closed: Array<{ position_id: string; reason: CloseReason | SpreadExitReason }>;
  readonly alerts: Array<{ kind: AlertKind; symbol: string; detail: string }>;
  readonly held: Array<{ position_id: string; reason: string }>;
  readonly wouldClose: Array<{ position_id: string; reason: ExitReason; qty: number }>;
  readonly conflicts: number;
  readonly errors: Array<{ position_id: string; error: string }>;
  /** Steps of the sweep that failed as a whole (the later steps still ran), by step name. */
  readonly stepErrors: Array<{ step: string; error: string }>;
  /** Work left for the next sweep (deadline, rate budget or a per-sweep cap reached), by kind. */
  readonly deferred: Array<{ position_id: string; what: string; why: string }>;
  readonly durationMs: number;
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
    stepErrors: [],
    deferred: [],
    durationMs: 0,
    quoteFeedFailed: false,
    skipped: null,
    dayPnl: null,
  };
}
