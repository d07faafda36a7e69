/**
 * Spread records with real ledgers, for the report, the live view and the lab's tests: a vertical whose
 * legs' fills are booked through {@link bookMlegOrder} from mleg order reports, as the sweep books them.
 */
import type { BrokerOrder } from '../../shared/domain/broker-types';
import type { LedgerOrderRole } from '../../shared/domain/ledger-events';
import { bookMlegOrder, newLegRecord, type SpreadPosition } from '../../shared/domain/spread-position';
import type { HeldSpreadLeg } from '../../shared/domain/spread-types';
import { makeExitPlan } from './factories';

export const SPREAD_LONG = 'SPY271217C00480000';
export const SPREAD_SHORT = 'SPY271217C00490000';

/** A bull call vertical: long 1 × 480 call, short 1 × 490 call per multiple. */
export const VERTICAL_LEGS: readonly HeldSpreadLeg[] = [
  { option_symbol: SPREAD_LONG, side: 'long', ratio_qty: 1 },
  { option_symbol: SPREAD_SHORT, side: 'short', ratio_qty: 1 },
];

/** A spread record just claimed (nothing booked): pass only the fields a test is about. */
export function makeSpread(overrides: Partial<SpreadPosition> = {}): SpreadPosition {
  const legs = overrides.legs ?? VERTICAL_LEGS.map(newLegRecord);
  return {
    kind: 'spread',
    account: 'main',
    position_id: 'sp-1',
    recommendation_id: overrides.position_id ?? 'sp-1',
    ticker: 'SPY',
    state: 'open',
    structure: 'vertical',
    strategy: null,
    requested_multiple: 2,
    open_client_order_id: `ops-main-o-${overrides.position_id ?? 'sp-1'}`,
    open_order_id: 'mleg-open-1',
    open_order_type: 'limit',
    open_limit_price: 1.9,
    max_loss_per_share: 1.85,
    max_profit_per_share: 8.15,
    exit_plan: makeExitPlan({ stop_loss_pct: 0.5, take_profit_pct: 0.5 }),
    exit_seq: 0,
    pending_exit: null,
    exit_reprices: 0,
    orphaned_at: null,
    entry_time: '2026-11-24T15:00:00.000Z',
    close_reason: null,
    closed_at: null,
    refusal: null,
    flags: [],
    created_at: '2026-11-24T14:59:00.000Z',
    updated_at: '2026-11-24T15:00:00.000Z',
    version: 1,
    ...overrides,
    legs,
  };
}

/** One leg of an mleg report: `qty` ordered, `filled` at `avg` per share. */
export interface MlegLegFill {
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly filled: number;
  readonly avg: number | null;
}

/** An mleg order report with the given legs (filled when every leg filled its qty). */
export function mlegReport(
  id: string,
  clientOrderId: string,
  legs: readonly MlegLegFill[],
  at: string,
): BrokerOrder {
  const done = legs.every((l) => l.filled === l.qty);
  return {
    id,
    client_order_id: clientOrderId,
    symbol: '',
    qty: legs[0]!.qty,
    filled_qty: Math.min(...legs.map((l) => l.filled)),
    filled_avg_price: null,
    side: 'buy',
    type: 'limit',
    position_intent: null,
    time_in_force: 'day',
    limit_price: null,
    status: done ? 'filled' : 'partially_filled',
    created_at: at,
    filled_at: done ? at : null,
    order_class: 'mleg',
    legs: legs.map((l, i) => ({
      id: `${id}-leg-${i + 1}`,
      symbol: l.symbol,
      side: l.side,
      ratio_qty: 1,
      position_intent: clientOrderId.includes('-o-')
        ? l.side === 'buy'
          ? 'buy_to_open'
          : 'sell_to_open'
        : null,
      qty: l.qty,
      filled_qty: l.filled,
      filled_avg_price: l.avg,
      status: l.filled === l.qty ? 'filled' : 'partially_filled',
    })),
  };
}

/** Books `order` on the spread's legs (throws on a refusal: a test's fills must book). */
export function booked(
  sp: SpreadPosition,
  role: LedgerOrderRole,
  order: BrokerOrder,
  at: string,
): SpreadPosition {
  const b = bookMlegOrder(sp, role, order, at);
  if (b.refused.length) throw new Error(`refused: ${b.refused.join('; ')}`);
  return { ...sp, legs: b.legs };
}

/**
 * The vertical opened 2 multiples (long 2 at 3.10, short 2 at 1.25: a 1.85 debit), then, when `closed`,
 * closed in two parts: long sold 1 at 4.00 then 1 at 4.05, short bought back 1 at 1.60 then 1 at 1.61.
 * Realized: long (4.00 + 4.05 − 6.20) × 100 = $185.00, short (2.50 − 3.21) × 100 = −$71.00: $114.00.
 */
export function bookedVertical(id: string, closed: boolean): SpreadPosition {
  let sp = makeSpread({ position_id: id, recommendation_id: id });
  sp = booked(
    sp,
    'open',
    mlegReport(
      `${id}-open`,
      `ops-main-o-${id}`,
      [
        { symbol: SPREAD_LONG, side: 'buy', qty: 2, filled: 2, avg: 3.1 },
        { symbol: SPREAD_SHORT, side: 'sell', qty: 2, filled: 2, avg: 1.25 },
      ],
      '2026-11-24T15:00:00.000Z',
    ),
    '2026-11-24T15:00:00.000Z',
  );
  if (!closed) return sp;
  const exit = (filled: number, longAvg: number, shortAvg: number, at: string) =>
    mlegReport(
      `${id}-x1`,
      `ops-main-x1-${id}`,
      [
        { symbol: SPREAD_LONG, side: 'sell', qty: 2, filled, avg: longAvg },
        { symbol: SPREAD_SHORT, side: 'buy', qty: 2, filled, avg: shortAvg },
      ],
      at,
    );
  sp = booked(sp, 'exit', exit(1, 4.0, 1.6, '2026-11-24T16:00:00.000Z'), '2026-11-24T16:00:00.000Z');
  sp = booked(sp, 'exit', exit(2, 4.025, 1.605, '2026-11-24T16:01:00.000Z'), '2026-11-24T16:01:00.000Z');
  return {
    ...sp,
    state: 'closed',
    close_reason: 'take_profit',
    closed_at: '2026-11-24T16:01:00.000Z',
    updated_at: '2026-11-24T16:01:00.000Z',
  };
}
