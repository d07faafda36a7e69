/**
 * The record's books (shared/domain/position-books.ts): the fields a transition writes are the ledger's
 * projection; a report the ledger refuses flags the record; a pre-ledger record gets a ledger from its fields.
 */
import { bookedQtyOf, ledgerOf, LEDGER_REFUSED_FLAG, projectionOf } from '../../shared/domain/position-books';
import { exitEnded, exitFillsLearned, quantityReconciled } from '../../shared/domain/position-lifecycle';
import { FACTORY_NOW, makePosition } from '../helpers/factories';
import { makeOrderReport } from '../helpers/ledger-factories';

const NOW = FACTORY_NOW.toISOString();
const step = {
  seq: 1,
  client_order_id: 'ops-main-x1-rec-0001',
  qty: 4,
  reason: 'take_profit' as const,
  claimed_at: NOW,
};
const closing = () =>
  makePosition({ quantity: 10, entry_price: 2, state: 'closing', exit_seq: 1, pending_exit: step });
const exitReport = (filled: number, price: number | null, status = 'partially_filled') =>
  makeOrderReport({
    client_order_id: step.client_order_id,
    symbol: closing().option_symbol,
    side: 'sell',
    qty: 4,
    filled_qty: filled,
    filled_avg_price: price,
    status,
  });

describe('position books', () => {
  it('a pre-ledger record’s ledger reproduces its fields', () => {
    const p = makePosition({ quantity: 6, original_quantity: 10, entry_price: 2, realized_pnl: 120 });
    expect(p.ledger).toBeUndefined();
    expect(projectionOf(p)).toMatchObject({ held: 6, opened: 10, realized_before_fees_cents: 12_000 });
    expect(ledgerOf(p).legacy_notes).toEqual([]);
  });

  it('a working exit’s fills are booked part by part at their own prices; the final report books the rest once', () => {
    const one = exitFillsLearned(closing(), exitReport(1, 3), NOW);
    expect(one).toMatchObject({ quantity: 9, realized_pnl: 100, state: 'closing' });
    expect(bookedQtyOf(one, step.client_order_id)).toBe(1);
    // The same report again books nothing: the record is returned as it was.
    expect(exitFillsLearned(one, exitReport(1, 3), NOW)).toBe(one);
    // 3 more at 2.50: cumulative 4 at an average of 2.625.
    const done = exitEnded(one, step, exitReport(4, 2.625, 'filled'), NOW);
    expect(done).toMatchObject({ quantity: 6, realized_pnl: 250, exit_price: 2.625, state: 'open' });
  });

  it('reconcile’s adjustment realizes nothing and stays out of the exit price', () => {
    const p = makePosition({ quantity: 10, entry_price: 2 });
    const down = quantityReconciled(p, 8, NOW);
    expect(down).toMatchObject({ quantity: 8, realized_pnl: 0 });
    const sold = exitEnded(
      { ...down, state: 'closing', pending_exit: step, exit_seq: 1 },
      step,
      exitReport(4, 3, 'filled'),
      NOW,
    );
    expect(sold).toMatchObject({ quantity: 4, realized_pnl: 400, exit_price: 3 });
  });

  it('a report on another contract is refused: nothing booked, the record flagged', () => {
    const wrong = { ...exitReport(2, 3), symbol: 'SPY280107C00500000' };
    const next = exitFillsLearned(closing(), wrong, NOW);
    expect(next.quantity).toBe(10);
    expect(next.flags).toContain(LEDGER_REFUSED_FLAG);
    // Flagged once: the same refusal again leaves the record as it is.
    expect(exitFillsLearned(next, wrong, NOW)).toBe(next);
  });
});
