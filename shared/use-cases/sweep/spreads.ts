/**
 * The sweep's spread phase (docs/SPREADS.md): each live spread, one after another, goes once through
 *
 *   learn (its opening and exit orders, on every leg's ledger) → reconcile (every leg against the broker)
 *   → act (at most one order: an exit on the net value, or the next step of an orphan's unwind)
 *
 * and hands its stored record on (the day's P&L counts its legs). A failure stops only that spread; two
 * sweeps never act on the same step (every change is conditional on the record's version).
 */
import { legAsPosition, legProjection, spreadBooks, type SpreadPosition } from '../../domain/spread-position';
import { evaluateSpreadExit } from '../../domain/spread-exit-rules';
import type { Position } from '../../domain/position';
import type { BrokerPosition, OptionQuote } from '../../ports';
import { Metric } from '../../metric-names';
import type { SweepContext } from './context';
import { actOnSpread } from './spread-act';
import { timeOutSpreadOpen } from './spread-checks';
import { spreadBooked } from '../../domain/spread-lifecycle';
import { spreadClosedEvent, spreadOpenedEvent } from '../emit-trade-event';
import { learnSpreadExit, learnSpreadOpen } from './spread-learn';
import { brokerHeldOf, reconcileSpread, SpreadReads } from './spread-reconcile';

export interface SpreadPhaseInput {
  readonly spreads: readonly SpreadPosition[];
  readonly quotes: ReadonlyMap<string, OptionQuote>;
  readonly flatten: boolean;
}

/** What the phase hands on: the spreads still live, as stored. */
export interface SpreadPhaseOutcome {
  readonly live: readonly SpreadPosition[];
}

export const NO_SPREADS: SpreadPhaseOutcome = { live: [] };

/** Manages every live spread of the account once. */
export async function sweepSpreads(s: SweepContext, input: SpreadPhaseInput): Promise<SpreadPhaseOutcome> {
  if (!s.deps.spreads || input.spreads.length === 0) return NO_SPREADS;
  const since = input.spreads.map((sp) => sp.created_at).sort()[0]!;
  const reads = new SpreadReads(s, new Date(Date.parse(since) - 60_000).toISOString());
  const suspect = suspectRead(s, input.spreads);
  if (suspect) {
    s.alert(
      'broker_snapshot_suspect',
      '*',
      'the positions read holds none of the contracts the spreads hold: a spread first seen short on it waits for the next read',
    );
  }
  const live: SpreadPosition[] = [];
  for (const sp of input.spreads) {
    try {
      const next = await manage(s, sp, input, reads, suspect);
      if (next.state === 'closed') noteSpreadClosed(s, next);
      else live.push(next);
    } catch (err) {
      s.positionFailed(sp, err);
      live.push(sp);
    }
  }
  return { live };
}

async function manage(
  s: SweepContext,
  sp0: SpreadPosition,
  input: SpreadPhaseInput,
  reads: SpreadReads,
  suspect: boolean,
): Promise<SpreadPosition> {
  let sp = await learnSpreadOpen(s, sp0);
  // Opened now (its fill learnt by this sweep): announced once, as a single leg's is.
  if (sp0.state !== 'open' && sp.state === 'open') {
    const opened = spreadOpenedEvent(sp, s.nowIso());
    if (opened) s.emit(opened);
  }
  if (sp.state === 'closed' || sp.state === 'submitting') return sp;
  await timeOutSpreadOpen(s, sp);
  if (sp.state === 'pending') return sp;
  sp = await learnSpreadExit(s, sp);
  if (sp.state === 'closed') return sp;
  // On a suspect read, a spread first seen short is only marked: a later read must agree before it acts.
  if (suspect && sp.orphaned_at === null) {
    return s.deps.spreads!.replaceSpread(
      sp,
      spreadBooked(sp, sp.legs, s.nowIso(), { orphaned_at: s.nowIso() }),
    );
  }
  // A leg whose order is still working is reconciled once that order ends (its fills may be in flight).
  if (!sp.pending_exit) sp = await reconcileSpread(s, sp, reads);
  if (sp.state === 'closed') return sp;
  return actOnSpread(s, sp, { quotes: input.quotes, flatten: input.flatten });
}

function noteSpreadClosed(s: SweepContext, sp: SpreadPosition): void {
  const reason = sp.close_reason ?? 'flatten';
  s.report.closed.push({ position_id: sp.position_id, reason });
  s.deps.metrics.count(Metric.PositionsClosed, 1, { reason });
  s.deps.log.info(`Spread ${sp.position_id} closed: ${reason}`, { position_id: sp.position_id });
  s.emit(spreadClosedEvent(sp, reason, s.nowIso()));
  if (reason === 'closed_outside_pipeline') {
    s.alert(
      'closed_outside_pipeline',
      sp.legs[0]!.option_symbol,
      `spread ${sp.position_id}: the broker holds none of its legs and nothing the pipeline sent closed them (booked at cost)`,
    );
  }
}

/**
 * The open spreads whose price rules (stop loss, take profit on the net value) fire at `quotes`: what a
 * poll acts on between full passes (time rules wait for the full pass).
 */
export function firedSpreads(
  spreads: readonly SpreadPosition[],
  quotes: ReadonlyMap<string, OptionQuote>,
  brokerNow: Date,
): SpreadPosition[] {
  return spreads.filter((sp) => {
    if (sp.state !== 'open' || sp.pending_exit) return false;
    const books = spreadBooks(sp);
    if (!books.intact || books.net_open_per_share === null) return false;
    const d = evaluateSpreadExit({
      legs: sp.legs,
      plan: sp.exit_plan,
      netOpenPerShare: books.net_open_per_share,
      maxLossPerShare: sp.max_loss_per_share,
      entryTime: sp.entry_time,
      quotes,
      now: brokerNow,
    });
    return d.due && (d.reason === 'stop_loss' || d.reason === 'take_profit');
  });
}

/** A poll's act on fired spreads, on its fresh reads (each spread's failure is its own). */
export async function actOnFiredSpreads(
  s: SweepContext,
  spreads: readonly SpreadPosition[],
  quotes: ReadonlyMap<string, OptionQuote>,
): Promise<void> {
  for (const sp of spreads) {
    try {
      await actOnSpread(s, sp, { quotes, flatten: false });
    } catch (err) {
      s.positionFailed(sp, err);
    }
  }
}

/**
 * A positions read that holds none of the contracts the open spreads' ledgers hold (while they hold some) is
 * not trusted at once, as the single-leg reconcile does not trust one missing every tracked contract: acting
 * on it would unwind every spread. Each spread is marked (`orphaned_at`) and acts only when a later read
 * agrees.
 */
function suspectRead(s: SweepContext, spreads: readonly SpreadPosition[]): boolean {
  const held = spreads
    .flatMap((sp) => (sp.state === 'open' ? sp.legs : []))
    .filter((l) => legProjection(l).held > 0);
  return held.length > 0 && held.every((l) => !s.snap.brokerBySymbol.has(l.option_symbol));
}

/** The live spreads' legs, as the per-contract books see them (the day's P&L, start marks). */
export function liveLegViews(spreads: readonly SpreadPosition[]): Position[] {
  return spreads
    .flatMap((sp) => sp.legs.map((l) => legAsPosition(sp, l)))
    .filter((p) => p.state !== 'closed');
}

/**
 * What the live spreads hold at the broker: their legs' contracts, and the underlying's shares when an
 * option event delivered some to a leg, or may have (a leg the broker holds less of than its ledger: an
 * assignment delivers shares at once, and this sweep's spread phase books it). The single-leg reconcile
 * leaves these to the spread phase: they are neither untracked nor an unexpected short.
 */
export function spreadHeldSymbols(
  spreads: readonly SpreadPosition[],
  brokerBySymbol: ReadonlyMap<string, BrokerPosition>,
): Set<string> {
  const out = new Set<string>();
  for (const sp of spreads) {
    for (const l of sp.legs) {
      out.add(l.option_symbol);
      const delivered = l.ledger.events.some((e) => e.shares !== 0);
      const gone = brokerHeldOf(l, brokerBySymbol.get(l.option_symbol)) < legProjection(l).held;
      if (delivered || gone) out.add(sp.ticker);
    }
  }
  return out;
}
