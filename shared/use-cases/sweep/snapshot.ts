/**
 * The sweep's reads, made once at its start and frozen: the table's live positions and kill switch, the
 * broker's positions, open and recently closed orders and clock, and the quote prefetch. Every phase reads
 * it; none writes it (what a phase learns later travels in its outcome, or in the sweep's allowances).
 */
import type { Position } from '../../domain/position';
import type { SpreadPosition } from '../../domain/spread-position';
import { UnreadableRecordsError } from '../../domain/errors';
import { brokerClockOffsetMs, sessionCloseOf } from '../../domain/market-time';
import {
  TERMINAL_ORDER_STATUSES,
  type AccountControl,
  type BrokerOrder,
  type BrokerPosition,
  type MarketClock,
  type MarketData,
  type OptionQuote,
} from '../../ports';
import { unreadableOf, type UnreadableEntry } from '../../domain/broker-types';
import type { SweepDeps } from './types';

export interface QuoteRead {
  readonly requested: ReadonlySet<string>;
  readonly quotes: ReadonlyMap<string, OptionQuote>;
  /** True when the read failed (price rules wait; time rules still act). */
  readonly failed: boolean;
}

export interface Snapshot {
  readonly live: readonly Position[];
  /** The live spreads (the spread phase manages them; the single-leg phases leave their contracts alone). */
  readonly spreads: readonly SpreadPosition[];
  /** The contracts of the live spreads' legs. */
  readonly spreadSymbols: ReadonlySet<string>;
  readonly unreadable: ReadonlyArray<{ key: string; reason: string }>;
  /** Orders the broker listed that the adapter could not read (left out of the listings), by id. */
  readonly unreadableOrders: readonly UnreadableEntry[];
  readonly brokerBySymbol: ReadonlyMap<string, BrokerPosition>;
  readonly brokerPositions: readonly BrokerPosition[];
  readonly openOrders: readonly BrokerOrder[];
  readonly openOrderByClientId: ReadonlyMap<string, BrokerOrder>;
  /** Orders that ended, from this sweep's closed-order listing (empty when none was needed or it failed). */
  readonly closedOrderByClientId: ReadonlyMap<string, BrokerOrder>;
  readonly clock: MarketClock;
  /**
   * How far the broker's clock (`clock.timestamp`) is ahead of the function's: time rules, quote ages and
   * recommendation ages are judged on the broker's (`SweepContext.brokerNow`).
   */
  readonly brokerOffsetMs: number;
  /** The close of the session `clock` is in (null when closed): every position is judged against it. */
  readonly sessionClose: Date | null;
  readonly control: AccountControl | null;
  /** The quote prefetch (awaited by the quotes step). */
  readonly prefetched: Promise<QuoteRead>;
}

/**
 * What this sweep knows of an order without asking: the open-orders read first, then the closed-order
 * listing. `undefined` means unknown (never "no such order": only a lookup can say that).
 */
export function knownOrder(snap: Snapshot, clientOrderId: string): BrokerOrder | undefined {
  return snap.openOrderByClientId.get(clientOrderId) ?? snap.closedOrderByClientId.get(clientOrderId);
}

/**
 * Every read that depends on nothing else starts at once. Quotes need only symbols: they are asked for as
 * soon as the first of two lists arrives (the table's open positions, or the broker's option holdings). A
 * failed quote read is `no_quote` for the positions it concerns. An unreadable record stops only itself.
 */
export async function readSnapshot(deps: SweepDeps): Promise<Snapshot> {
  let unreadable: ReadonlyArray<{ key: string; reason: string }> = [];
  const liveRead = deps.store.listLive(deps.account.name).catch((err: unknown) => {
    if (!(err instanceof UnreadableRecordsError)) throw err;
    unreadable = err.unreadable;
    return err.readable as Position[];
  });
  const heldRead = deps.broker.listPositions();
  // The race keeps the quotes off the sweep's critical path (issue 22): asked for only once every list had
  // arrived, a warm sweep of 10 took 25 ms longer (40 → 65 ms), one of 1,000 36 ms (docs/BENCHMARKS.md).
  const prefetched = Promise.race([
    liveRead.then(openSymbols),
    heldRead.then((held) => [
      ...new Set(held.filter((h) => h.asset_class === 'us_option').map((h) => h.symbol)),
    ]),
  ])
    .then((symbols) => fetchQuotes(deps, symbols))
    .catch((err: unknown) => quoteReadFailed(deps, err));
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
  const spreadsRead = deps.spreads ? deps.spreads.listLiveSpreads(deps.account.name) : Promise.resolve([]);
  const [live, brokerPositions, openOrders, clock, control, closedOrders, spreads] = await Promise.all([
    liveRead,
    heldRead,
    deps.broker.listOpenOrders(),
    deps.broker.getClock(),
    deps.store.getControl(deps.account.name),
    closedRead,
    spreadsRead,
  ]);
  return freezeSnapshot({
    spreads,
    brokerOffsetMs: brokerClockOffsetMs(clock, deps.now()),
    live,
    unreadable,
    brokerPositions,
    openOrders,
    closedOrders: closedOrders ?? [],
    clock,
    control,
    prefetched,
  });
}

/** A snapshot of broker reads made elsewhere (a poll's fresh reads): no table, no closed orders. */
export function freezeSnapshot(r: {
  live: readonly Position[];
  spreads?: readonly SpreadPosition[];
  unreadable?: ReadonlyArray<{ key: string; reason: string }>;
  brokerPositions: readonly BrokerPosition[];
  openOrders: readonly BrokerOrder[];
  closedOrders?: readonly BrokerOrder[];
  clock: MarketClock;
  /** The broker clock's offset from the function's (0: judged on the function's clock). */
  brokerOffsetMs?: number;
  control?: AccountControl | null;
  prefetched?: Promise<QuoteRead>;
}): Snapshot {
  // Read before the lists are copied (the adapter hangs what it could not read on the listing itself).
  const unreadableOrders = new Map<string, UnreadableEntry>();
  for (const u of [...unreadableOf(r.openOrders), ...unreadableOf(r.closedOrders)])
    unreadableOrders.set(u.id, u);
  const closed = new Map<string, BrokerOrder>();
  for (const o of r.closedOrders ?? []) {
    if (o.client_order_id && TERMINAL_ORDER_STATUSES.has(o.status)) closed.set(o.client_order_id, o);
  }
  return Object.freeze({
    live: Object.freeze([...r.live]),
    spreads: Object.freeze([...(r.spreads ?? [])]),
    spreadSymbols: new Set((r.spreads ?? []).flatMap((sp) => sp.legs.map((l) => l.option_symbol))),
    unreadable: Object.freeze([...(r.unreadable ?? [])]),
    unreadableOrders: Object.freeze([...unreadableOrders.values()]),
    brokerBySymbol: new Map(r.brokerPositions.map((p) => [p.symbol, p])),
    brokerPositions: Object.freeze([...r.brokerPositions]),
    openOrders: Object.freeze([...r.openOrders]),
    openOrderByClientId: new Map(r.openOrders.map((o) => [o.client_order_id, o])),
    closedOrderByClientId: closed,
    clock: r.clock,
    brokerOffsetMs: r.brokerOffsetMs ?? 0,
    sessionClose: sessionCloseOf(r.clock),
    control: r.control ?? null,
    prefetched: r.prefetched ?? Promise.resolve(NO_QUOTES),
  });
}

const NO_QUOTES: QuoteRead = { requested: new Set(), quotes: new Map(), failed: false };

function quoteReadFailed(deps: SweepDeps, err: unknown): QuoteRead {
  deps.log.warn(`Option quotes could not be read; price rules wait this sweep: ${String(err)}`);
  return { requested: new Set(), quotes: new Map(), failed: true };
}

/** The distinct contracts of the positions that are `open` (the only ones whose exit rules need a quote). */
function openSymbols(positions: readonly Position[]): string[] {
  return [...new Set(positions.filter((p) => p.state === 'open').map((p) => p.option_symbol))];
}

/** Quotes for `symbols` (no call when there are none), with the set that was asked for. */
export async function fetchQuotes(
  deps: { marketData: MarketData },
  symbols: readonly string[],
): Promise<QuoteRead> {
  const quotes = symbols.length
    ? await deps.marketData.getOptionQuotes(symbols)
    : new Map<string, OptionQuote>();
  return { requested: new Set(symbols), quotes, failed: false };
}

/**
 * The quotes for `symbols`: the prefetch, plus a read of any it missed. A failed read leaves those
 * positions unpriced (`failed`).
 */
export async function quotesFor(
  deps: SweepDeps,
  snap: Snapshot,
  symbols: readonly string[],
): Promise<QuoteRead> {
  const first = await snap.prefetched;
  const quotes = new Map(first.quotes);
  const missing = symbols.filter((sym) => !first.requested.has(sym));
  let failed = first.failed;
  if (missing.length) {
    const more = await fetchQuotes(deps, missing).catch((err: unknown) => quoteReadFailed(deps, err));
    failed ||= more.failed;
    for (const [sym, q] of more.quotes) quotes.set(sym, q);
  }
  return { requested: new Set([...first.requested, ...missing]), quotes, failed };
}

/** Margin for the difference between this clock (claims) and the broker's (orders' `created_at`). */
const CLOCK_SKEW_MARGIN_MS = 60_000;

/**
 * Where this sweep's closed-order listing starts: the earliest time an order still to be learned can have
 * been submitted, minus the clock-skew margin. null when no live position has such an order.
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
