/**
 * Issue 23: which days' figures a replace sets on the day items (dayFiguresOf), and the figures. Pure: the
 * start mark is handed in, as the store reads it.
 */
import { dayFiguresOf } from '../../shared/adapters/day-books-item';
import type { Position } from '../../shared/domain/position';
import { bookActivities, bookOrder, booksOf } from '../../shared/domain/position-books';
import { makePosition } from '../helpers/factories';
import { makeActivity, makeOrderReport } from '../helpers/ledger-factories';

// The default position: a long of 10 bought at 2.00 on Monday 2026-06-01 (10:00 New York).
const TUESDAY = '2026-06-02T15:00:00.000Z';

/** `p` closed by an exit of 10 at `price` filled at `at`, written at `writtenAt`. */
function closed(p: Position, price: number, at: string, writtenAt = at): Position {
  const exit = makeOrderReport({
    id: 'x-1',
    client_order_id: 'ops-main-x1-rec-0001',
    side: 'sell',
    position_intent: null,
    qty: 10,
    filled_qty: 10,
    filled_avg_price: price,
    filled_at: at,
  });
  return {
    ...p,
    ...booksOf(p, bookOrder(p, 'exit', exit, at).ledger),
    state: 'closed',
    close_reason: 'take_profit',
    closed_at: writtenAt,
    updated_at: writtenAt,
  };
}

it('a close of a contract held overnight: its day P&L from the day’s start mark, its realized from cost', async () => {
  const p = makePosition();
  const asked: string[] = [];
  const figures = await dayFiguresOf(p, closed(p, 2.5, TUESDAY), (day) => {
    asked.push(day);
    return Promise.resolve(2.2);
  });
  expect(asked).toEqual(['2026-06-02']);
  // 10 x (2.50 - 2.20) x 100 on Tuesday's P&L; 10 x (2.50 - 2.00) x 100 realized.
  expect(figures).toEqual([{ day: '2026-06-02', day_pnl_cents: 30_000, realized_cents: 50_000 }]);
});

it('an exit filled Monday and learnt on Tuesday: Monday’s figure, and Tuesday’s (nothing held there) at 0', async () => {
  const p = makePosition();
  const figures = await dayFiguresOf(p, closed(p, 2.5, '2026-06-01T19:00:00.000Z', TUESDAY), () =>
    Promise.reject(new Error('no start mark is needed: opened and closed on Monday')),
  );
  expect(figures).toEqual([
    { day: '2026-06-01', day_pnl_cents: 50_000, realized_cents: 50_000 },
    { day: '2026-06-02', day_pnl_cents: 0, realized_cents: 0 },
  ]);
});

it('a fee of Monday booked on a record closed Monday sets Monday’s figures only', async () => {
  const p = closed(makePosition(), 2.5, '2026-06-01T19:00:00.000Z');
  const fee = bookActivities(p, [{ activity: makeActivity({ net_amount: -0.35 }) }], { at: TUESDAY });
  const next: Position = { ...p, ...booksOf(p, fee.ledger), updated_at: TUESDAY };
  expect(await dayFiguresOf(p, next, () => Promise.resolve(null))).toEqual([
    { day: '2026-06-01', day_pnl_cents: 49_965, realized_cents: 49_965 },
  ]);
});

it('nothing new booked and no close: no figure; an open that never filled: none either', async () => {
  const p = makePosition();
  expect(
    await dayFiguresOf(p, { ...p, flags: ['note'], updated_at: TUESDAY }, () => Promise.resolve(null)),
  ).toEqual([]);
  const never = makePosition({ state: 'submitting', quantity: 0, entry_price: null, open_order_id: null });
  const gone: Position = { ...never, state: 'closed', close_reason: 'open_rejected', updated_at: TUESDAY };
  expect(await dayFiguresOf(never, gone, () => Promise.resolve(null))).toEqual([]);
});
