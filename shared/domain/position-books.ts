/**
 * The record's books: its ledger (docs/BOOKS.md) and the fields projected from it. Quantity, entry, exit,
 * realized P&L and fees are never edited by a transition: a transition applies a broker report to the
 * ledger and takes these fields from {@link booksOf}, so every reader (sweep, report, events) reads figures
 * derived from the broker's fills.
 */
import type { BrokerActivity, BrokerOrder } from './broker-types';
import { applyActivity, applyOrderReport, type ActivityContext } from './ledger';
import type { LedgerApplication, LedgerOrderRole, PositionLedger } from './ledger-events';
import { ledgerFromLegacy } from './ledger-legacy';
import { applyReconcileAdjustment, projectLedger, type LedgerProjection } from './ledger-projection';
import type { Position } from './position';

/** The flag a record gets when a broker report could not be booked on its ledger (see the alert). */
export const LEDGER_REFUSED_FLAG = 'ledger_refused';

function isLedger(v: unknown, symbol: string): v is PositionLedger {
  if (v === null || typeof v !== 'object') return false;
  const l = v as Partial<PositionLedger>;
  return (
    l.ledger_version === 1 &&
    l.option_symbol === symbol &&
    Array.isArray(l.orders) &&
    Array.isArray(l.events) &&
    Array.isArray(l.fees)
  );
}

/** The record's ledger: the stored one, or (a record written before the ledger) the one its fields imply. */
export function ledgerOf(p: Position): PositionLedger {
  return isLedger(p.ledger, p.option_symbol) ? p.ledger : ledgerFromLegacy(p);
}

/** The projection of the record's ledger (its quantity, entry, realized P&L, fees, working orders). */
export function projectionOf(p: Position): LedgerProjection {
  return projectLedger(ledgerOf(p), p.side);
}

/** Contracts of the order `clientOrderId` the record's ledger has booked (0 when it holds none of it). */
export function bookedQtyOf(p: Position, clientOrderId: string): number {
  return ledgerOf(p).orders.find((o) => o.client_order_id === clientOrderId)?.filled_qty ?? 0;
}

/** The fields a ledger gives the record. */
export type BooksFields = Pick<
  Position,
  'ledger' | 'quantity' | 'entry_price' | 'exit_price' | 'realized_pnl' | 'fees'
>;

/** The names of {@link BooksFields}: the fields a change that books a report may write. */
export const BOOKS_FIELDS: readonly (keyof Position)[] = Object.freeze([
  'ledger',
  'quantity',
  'entry_price',
  'exit_price',
  'realized_pnl',
  'fees',
]);

/**
 * The record's fields as `ledger` gives them. `realized_pnl` is before fees (fees stay apart in `fees`,
 * as the record always kept them); an entry or exit price the ledger cannot give yet stays as it was.
 */
export function booksOf(p: Position, ledger: PositionLedger): BooksFields {
  const proj = projectLedger(ledger, p.side);
  return {
    ledger,
    quantity: proj.held,
    entry_price: proj.entry_price ?? p.entry_price ?? null,
    exit_price: proj.exit_price ?? p.exit_price ?? null,
    realized_pnl: proj.realized_before_fees_cents / 100,
    ...(proj.fees_cents !== 0 || p.fees !== undefined ? { fees: proj.fees_cents / 100 } : {}),
  };
}

/** What booking a report did: the next ledger and, when it refused the report, why. */
export interface Booking {
  readonly ledger: PositionLedger;
  readonly refused: string | null;
  readonly application: LedgerApplication;
}

function booking(application: LedgerApplication): Booking {
  const refused = application.note.startsWith('refused') ? application.note : null;
  return { ledger: application.ledger, refused, application };
}

/** Books an order of the position as the broker reported it (any status), under `role`. */
export function bookOrder(p: Position, role: LedgerOrderRole, order: BrokerOrder, at: string): Booking {
  return booking(applyOrderReport(ledgerOf(p), role, order, at));
}

/** An activity to book, with this position's part of it when it covers several positions. */
export interface ActivityPart {
  readonly activity: BrokerActivity;
  readonly contracts?: number;
}

/** Books broker activities (option events, fees) on the position; each idempotent by its id. */
export function bookActivities(
  p: Position,
  parts: readonly ActivityPart[],
  ctx: Omit<ActivityContext, 'contracts'>,
): Booking {
  let ledger = ledgerOf(p);
  let last: LedgerApplication = { ledger, booked: null, note: 'no_change' };
  const refusals: string[] = [];
  for (const part of parts) {
    const partCtx = part.contracts === undefined ? ctx : { ...ctx, contracts: part.contracts };
    last = applyActivity(ledger, part.activity, partCtx);
    if (last.note.startsWith('refused')) refusals.push(last.note);
    ledger = last.ledger;
  }
  return { ledger, refused: refusals.length ? refusals.join('; ') : null, application: last };
}

/**
 * Books reconcile's finding that the broker holds `qty` fewer contracts than the ledger leaves and no order
 * explains it: a reducing part at cost (nothing realized), once per finding.
 */
export function bookAdjustment(p: Position, kind: 'reconcile' | 'outside', qty: number, at: string): Booking {
  const ledger = ledgerOf(p);
  const n = ledger.orders.filter((o) => o.client_order_id.startsWith(`${kind}-${p.position_id}-`)).length;
  return booking(applyReconcileAdjustment(ledger, p.side, `${kind}-${p.position_id}-${n + 1}`, qty, at));
}

/** The record's flags with {@link LEDGER_REFUSED_FLAG} when the booking refused a report. */
export function flagsAfter(p: Position, b: Booking): readonly string[] {
  return b.refused && !p.flags.includes(LEDGER_REFUSED_FLAG) ? [...p.flags, LEDGER_REFUSED_FLAG] : p.flags;
}
