/**
 * The ledger of a record written before the ledger existed, built from what the record knows: the open's
 * filled quantity at its entry price, the contracts it no longer holds at the price that reproduces its
 * `realized_pnl` to the cent, its fees, and the orders still working (a pending exit step, a resting stop
 * with what of it is booked) so the broker's next reports book only what came after. Never refuses a
 * record: what it cannot know exactly is said in `legacy_notes`.
 */
import { CONTRACT_MULTIPLIER, type LedgerFill, type LedgerOrder, type PositionLedger } from './ledger-events';
import { costShare } from './ledger-projection';
import { centsOf, notionalCents } from './money';
import { reducingSide } from './orders';
import type { Position } from './position';
import { tradingDayOfInstant } from './trading-calendar';

/** Client id of the exit that stands for every exit a pre-ledger record booked. */
export const legacyExitClientOrderId = (p: Pick<Position, 'position_id'>): string =>
  `legacy-exit-${p.position_id}`;

const NEVER_FILLED = new Set(['not_filled', 'not_sent', 'open_rejected']);

function validInstant(...candidates: Array<string | null | undefined>): string {
  for (const c of candidates) if (c && !Number.isNaN(new Date(c).getTime())) return new Date(c).toISOString();
  return new Date(0).toISOString();
}

/**
 * When a pre-ledger record's exits and fees are dated: a closed record's at its close (the day the old
 * day item counted them); a live record's at its entry, since the record does not say when its partial
 * exits happened and dating them at its last write could put an earlier day's loss on today's books.
 */
function legacyBookedAt(p: Position): string {
  return p.state === 'closed'
    ? validInstant(p.closed_at, p.updated_at, p.entry_time, p.created_at)
    : validInstant(p.entry_time, p.created_at);
}

function legacyFill(qty: number, cents: number, at: string): LedgerFill {
  return { qty, notional_cents: cents, at, day: tradingDayOfInstant(at), source: 'legacy' };
}

function order(
  fields: Pick<LedgerOrder, 'client_order_id' | 'order_id' | 'role' | 'side' | 'symbol' | 'qty' | 'status'>,
  fills: readonly LedgerFill[],
): LedgerOrder {
  return {
    ...fields,
    fills,
    filled_qty: fills.reduce((n, f) => n + f.qty, 0),
    filled_cents: fills.reduce((n, f) => n + f.notional_cents, 0),
  };
}

/** The open as the record knows it: its filled quantity at the entry price (nothing for an unfilled one). */
function legacyOpen(
  p: Position,
  notes: string[],
): { order: LedgerOrder; opened: number; entryCents: number } {
  const unfilled =
    p.state === 'submitting' || p.state === 'pending' || NEVER_FILLED.has(p.close_reason ?? '');
  let opened = unfilled ? 0 : Math.max(p.original_quantity, p.quantity, 0);
  if (!Number.isInteger(opened)) {
    notes.push(`original_quantity ${p.original_quantity} is not whole: ${Math.floor(opened)} booked`);
    opened = Math.floor(opened);
  }
  const entry = typeof p.entry_price === 'number' && p.entry_price >= 0 ? p.entry_price : null;
  if (opened > 0 && entry === null) notes.push('entry_price unknown: the open is booked at 0');
  const entryCents = opened > 0 ? notionalCents(opened, entry ?? 0, CONTRACT_MULTIPLIER) : 0;
  const entryAt = validInstant(p.entry_time, p.created_at);
  const open = order(
    {
      client_order_id: p.open_client_order_id || `legacy-open-${p.position_id}`,
      order_id: p.open_order_id ?? null,
      role: 'open',
      side: p.side === 'long' ? 'buy' : 'sell',
      symbol: p.option_symbol,
      qty: Math.max(p.requested_quantity, opened),
      // A claimed or pending open is still working: its next read books its fills.
      status: unfilled && !p.close_reason ? 'new' : 'legacy',
    },
    opened > 0 ? [legacyFill(opened, entryCents, entryAt)] : [],
  );
  return { order: open, opened, entryCents };
}

/**
 * The exits as the record knows them: the contracts it no longer holds, at the proceeds that reproduce
 * realized_pnl; a resting stop's booked part on the stop itself; an exit step in flight, working.
 */
function legacyExits(p: Position, opened: number, entryCents: number, notes: string[]): LedgerOrder[] {
  const closing = reducingSide(p.side);
  const sign = p.side === 'long' ? 1 : -1;
  const exitAt = legacyBookedAt(p);
  const orders: LedgerOrder[] = [];
  // What no longer counts: exits booked, and for a closed record whatever quantity it still shows.
  const held = p.state === 'closed' ? 0 : Math.min(Math.max(0, Math.floor(p.quantity)), opened);
  const closedQty = opened - held;
  const realizedCents = centsOf(p.realized_pnl);
  // Exits' proceeds (long) or cost (short) that reproduce realized_pnl: sign × (exit − cost share).
  const exitCents = costShare(entryCents, opened, closedQty) + sign * realizedCents;
  if (p.state === 'closed' && Math.floor(p.quantity) > 0 && opened > 0) {
    notes.push(`closed with quantity ${p.quantity} on the record: booked as closed at no further P&L`);
  }
  if (closedQty === 0 && realizedCents !== 0) {
    notes.push('realized_pnl with nothing closed: booked as a 0-qty exit');
  }
  // A resting stop still working keeps what of it is booked, so its next read books only the rest.
  const bs = p.broker_stop;
  const stopBooked = bs ? Math.min(Math.max(0, bs.filled_booked ?? 0), closedQty) : 0;
  // The order it replaced keeps its booked part too: the replaced order may still report fills.
  const replacedBooked = bs?.replaced
    ? Math.min(Math.max(0, bs.replaced.filled_booked), closedQty - stopBooked)
    : 0;
  const otherQty = closedQty - stopBooked - replacedBooked;
  const share = (qty: number) => (closedQty > 0 ? Math.round((exitCents * qty) / closedQty) : 0);
  const stopCents = share(stopBooked);
  const replacedCents = share(replacedBooked);
  if (stopBooked > 0 && otherQty > 0) {
    notes.push(`resting stop's ${stopBooked} booked and earlier exits share the exits' proceeds pro rata`);
  }
  const common = { side: closing, symbol: p.option_symbol } as const;
  if (otherQty > 0 || exitCents - stopCents - replacedCents !== 0) {
    const fields = {
      ...common,
      client_order_id: legacyExitClientOrderId(p),
      order_id: null,
      role: 'exit' as const,
    };
    orders.push(
      order({ ...fields, qty: otherQty, status: 'legacy' }, [
        legacyFill(otherQty, exitCents - stopCents - replacedCents, exitAt),
      ]),
    );
  }
  if (bs?.replaced && replacedBooked > 0) {
    const fields = {
      ...common,
      client_order_id: bs.replaced.client_order_id,
      order_id: null,
      role: 'stop' as const,
    };
    orders.push(
      order({ ...fields, qty: replacedBooked, status: 'replaced' }, [
        legacyFill(replacedBooked, replacedCents, exitAt),
      ]),
    );
  }
  if (bs) {
    const fields = {
      ...common,
      client_order_id: bs.client_order_id,
      order_id: bs.order_id,
      role: 'stop' as const,
    };
    orders.push(
      order(
        { ...fields, qty: bs.qty, status: 'accepted' },
        stopBooked > 0 ? [legacyFill(stopBooked, stopCents, exitAt)] : [],
      ),
    );
  }
  // An exit step in flight has booked nothing yet: its next read books what it filled.
  const pe = p.pending_exit;
  if (pe && pe.client_order_id !== bs?.client_order_id) {
    const fields = {
      ...common,
      client_order_id: pe.client_order_id,
      order_id: pe.order_id ?? null,
      role: 'exit' as const,
    };
    orders.push(order({ ...fields, qty: pe.qty, status: 'accepted' }, []));
  }
  return orders;
}

/** The ledger a pre-ledger record stands for (see the module comment). */
export function ledgerFromLegacy(p: Position): PositionLedger {
  const notes: string[] = [];
  const open = legacyOpen(p, notes);
  const exits = legacyExits(p, open.opened, open.entryCents, notes);
  const feeAt = legacyBookedAt(p);
  const fees =
    typeof p.fees === 'number' && p.fees !== 0
      ? [
          {
            activity_id: `legacy-fees-${p.position_id}`,
            cents: centsOf(p.fees),
            day: tradingDayOfInstant(feeAt),
            at: feeAt,
          },
        ]
      : [];
  return {
    ledger_version: 1,
    option_symbol: p.option_symbol,
    orders: [open.order, ...exits],
    events: [],
    fees,
    legacy_notes: notes,
  };
}
