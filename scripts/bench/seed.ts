/**
 * Seeding for the benchmark and the call-count test: position records written through the store's own
 * `claim` (so they have exactly the stored shape), and the matching broker positions and quotes in the
 * simulator.
 */
import type { AlpacaSim } from '../../local/alpaca-sim';
import { resolveExitPlan } from '../../shared/domain/exit-plan';
import { addDays, newYorkTime } from '../../shared/domain/market-time';
import { formatOccSymbol } from '../../shared/domain/occ';
import { FRESH_EXIT_STATE, type Position } from '../../shared/domain/position';
import type { PositionStore } from '../../shared/ports';

/** Contracts held per seeded position. */
export const SEED_QTY = 2;
/** Entry price per share of every seeded position; quotes are set around it so no exit rule fires. */
export const SEED_ENTRY = 2.0;

/** Days from the seeding clock to the seeded contracts' expiry: far enough that no expiry rule fires. */
const SEED_EXPIRY_DAYS = 400;
/** The default seeding clock: read once, so a run that crosses midnight keeps naming the same contracts. */
const LOADED_AT = new Date();

/**
 * A distinct OCC symbol per index: SPY calls expiring {@link SEED_EXPIRY_DAYS} days after `now` (New York
 * date), strikes 100.000, 100.500, ... Derived from the clock so a run at any date seeds live contracts.
 */
export function seedSymbol(index: number, now: Date = LOADED_AT): string {
  const expiry = addDays(newYorkTime(now).date, SEED_EXPIRY_DAYS);
  return formatOccSymbol({ root: 'SPY', expiry, type: 'call', strike: 100 + index * 0.5 });
}

/**
 * A long position opened an hour ago: 2 contracts at 2.00, stop loss 50 %, take profit 100 %, trailing
 * stop 20 % (so a first sweep records its peak; later sweeps at the same price write nothing).
 */
export function seedPosition(
  account: string,
  id: string,
  symbol: string,
  overrides: Partial<Position> = {},
): Position {
  const opened = new Date(Date.now() - 60 * 60_000).toISOString();
  return {
    account,
    position_id: id,
    recommendation_id: id,
    ticker: 'SPY',
    option_symbol: symbol,
    side: 'long',
    state: 'open',
    quantity: SEED_QTY,
    original_quantity: SEED_QTY,
    requested_quantity: SEED_QTY,
    open_client_order_id: `ops-${account}-o-${id}`,
    open_order_id: `order-${id}`,
    open_order_type: 'market',
    open_limit_price: null,
    entry_price: SEED_ENTRY,
    entry_time: opened,
    entry_underlying_price: null,
    exit_plan: resolveExitPlan({ stop_loss_pct: 0.5, take_profit_pct: 1.0, trailing_stop_pct: 0.2 }),
    ...FRESH_EXIT_STATE,
    created_at: opened,
    updated_at: opened,
    version: 1,
    // eslint-disable-next-line ops/no-position-spread -- a new record built from a seed's overrides, not a change
    ...overrides,
  };
}

/** Runs `fn` for 0..n-1 with at most `concurrency` in flight. */
export async function forEachIndex(
  n: number,
  concurrency: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

/** What {@link seedOpenPositions} needs. */
export interface SeedTarget {
  readonly store: PositionStore;
  readonly sim: AlpacaSim;
  readonly keyId: string;
  readonly account: string;
}

/**
 * `n` open positions on distinct contracts, ids `${prefix}0000...`: the records (through `claim`), the
 * broker's positions (`setPosition`) and a quote each (bid 2.00 / ask 2.10: a 2.5 % gain, no rule fires).
 */
export async function seedOpenPositions(t: SeedTarget, n: number, prefix = 'open-'): Promise<Position[]> {
  const out: Position[] = new Array(n);
  await forEachIndex(n, 32, async (i) => {
    const symbol = seedSymbol(i);
    const p = seedPosition(t.account, `${prefix}${String(i).padStart(5, '0')}`, symbol);
    const r = await t.store.claim(p);
    if (!r.claimed) throw new Error(`seed: ${p.position_id} already exists`);
    t.sim.setPosition(t.keyId, symbol, SEED_QTY, SEED_ENTRY);
    t.sim.setQuote(symbol, { bid: 2.0, ask: 2.1 });
    out[i] = p;
  });
  return out;
}

/**
 * `n` closed positions (taken profit yesterday) of `account`: history the sweep must never read. The
 * store writes them without the live-index attribute, exactly as a sweep leaves a closed position.
 */
export async function seedClosedPositions(
  store: PositionStore,
  account: string,
  n: number,
  prefix = 'closed-',
): Promise<void> {
  const yesterday = new Date(Date.now() - 86_400_000).toISOString();
  await forEachIndex(n, 48, async (i) => {
    const id = `${prefix}${String(i).padStart(6, '0')}`;
    const r = await store.claim(
      seedPosition(account, id, seedSymbol(i % 2000), {
        state: 'closed',
        quantity: 0,
        close_reason: 'take_profit',
        closed_at: yesterday,
        exit_price: 4.0,
        realized_pnl: 400,
        updated_at: yesterday,
        version: 3,
      }),
    );
    if (!r.claimed) throw new Error(`seed: ${id} already exists`);
  });
}
