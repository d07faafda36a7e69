/**
 * What every phase of one sweep is handed: its dependencies, the frozen snapshot, the allowances it may
 * spend, and the report sink (alerts, closes, deferrals, events). The phases hand their results forward
 * as return values; this only collects what the sweep reports.
 */
import type { CloseReason, Position } from '../../domain/position';
import { ConcurrentUpdateError, PipelineError } from '../../domain/errors';
import { onBrokerClock } from '../../domain/market-time';
import type { TradeEvent } from '../../domain/trade-events';
import { LEDGER_REFUSED_FLAG } from '../../domain/position-books';
import { ALERT_METRICS, Metric, type AlertKind } from '../../metric-names';
import { emitTradeEvent, positionClosedEvent } from '../emit-trade-event';
import { SweepAllowances } from './allowances';
import type { Snapshot } from './snapshot';
import type { Mutable, SweepDeps, SweepReport } from './types';

export class SweepContext {
  readonly allowances: SweepAllowances;
  private readonly events: Array<Promise<void>> = [];

  constructor(
    readonly deps: SweepDeps,
    readonly snap: Snapshot,
    readonly report: Mutable<SweepReport>,
  ) {
    this.allowances = new SweepAllowances(snap, {
      account: deps.account.name,
      maxLookups: deps.maxLookupsPerSweep ?? 20,
      deadlineMs: deps.deadlineMs,
      requestBudget: deps.requestBudget,
      nowMs: () => deps.now().getTime(),
    });
  }

  get account() {
    return this.deps.account;
  }

  get leaseMs(): number {
    return this.deps.claimLeaseMs ?? 120_000;
  }

  now(): Date {
    return this.deps.now();
  }

  /**
   * The broker's time now (its clock read at the sweep's start, moved on by the function's clock): what
   * time rules, quote ages and order ages are judged on. Records are stamped with {@link now}.
   */
  brokerNow(): Date {
    return onBrokerClock(this.deps.now(), this.snap.brokerOffsetMs);
  }

  nowIso(): string {
    return this.deps.now().toISOString();
  }

  alert(kind: AlertKind, symbol: string, detail: string): void {
    this.report.alerts.push({ kind, symbol, detail });
    this.deps.metrics.count(ALERT_METRICS[kind]);
    this.deps.log.warn(`ALERT ${kind} ${symbol}: ${detail}`, { alert: kind, symbol, detail });
  }

  /** Work left for the next sweep (a deadline, the rate budget or a per-sweep cap). */
  defer(positionId: string, what: string, why: string): void {
    this.report.deferred.push({ position_id: positionId, what, why });
  }

  /** Publishes a trade event alongside the sweep's work (never fails it; see `emitTradeEvent`). */
  emit(event: TradeEvent): void {
    this.events.push(emitTradeEvent(this.deps, event));
  }

  /** Waits for every trade event this sweep published (each settles within its timeout). */
  async eventsSettled(): Promise<void> {
    await Promise.all(this.events);
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
    this.emit(positionClosedEvent(p, reason, this.nowIso()));
  }

  /**
   * Runs one named step of the sweep under a boundary: its failure is recorded in the report, counted in
   * the `sweep_step_errors` metric and logged, and the later steps still run (with `fallback`).
   */
  async step<T>(name: string, fn: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.report.stepErrors.push({ step: name, error: String((err as Error)?.message ?? err) });
      this.deps.metrics.count(Metric.SweepStepErrors, 1, { step: name });
      this.deps.log.error(`Sweep step ${name} failed; the later steps still run: ${String(err)}`, {
        step: name,
      });
      return fallback;
    }
  }

  /** Runs `fn` over items with bounded concurrency; a failure is recorded (and counted) for that position only. */
  async forEach<T>(items: readonly Position[], fn: (p: Position) => Promise<T>): Promise<Array<T | null>> {
    const out: Array<T | null> = new Array<T | null>(items.length).fill(null);
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

  /** Records a failure of one position's work (the others carry on). */
  positionFailed(p: Pick<Position, 'position_id'>, err: unknown): void {
    if (err instanceof ConcurrentUpdateError) {
      this.report.conflicts++;
      this.deps.log.info(`Position ${p.position_id} changed under this sweep; left to the other writer`);
      return;
    }
    this.report.errors.push({ position_id: p.position_id, error: String((err as Error)?.message ?? err) });
    this.deps.metrics.count(Metric.SweepPositionErrors);
    this.deps.log.warn(`Position ${p.position_id} left for the next sweep: ${(err as Error)?.message}`, {
      position_id: p.position_id,
      transient: err instanceof PipelineError ? err.transient : true,
    });
  }
}

/**
 * Alerts `ledger_refused` when `next` is the first record of the position whose ledger refused a broker
 * report (the record is flagged; its books may differ from the broker's until an operator looks).
 */
export function alertIfRefused(s: SweepContext, prev: Position, next: Position): void {
  if (next.flags.includes(LEDGER_REFUSED_FLAG) && !prev.flags.includes(LEDGER_REFUSED_FLAG)) {
    s.alert(
      'ledger_refused',
      prev.option_symbol,
      `${prev.position_id}: a broker report could not be booked on its ledger; check its orders against the broker`,
    );
  }
}
