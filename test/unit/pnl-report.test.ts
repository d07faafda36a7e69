/** The P&L journal's arithmetic (shared/domain/pnl-report.ts) and its rendering, with plain records. */
import { applyActivity, applyOrderReport, emptyLedger } from '../../shared/domain/ledger';
import { buildPnlReport, feesNote, openExposure, positionLedgerReport } from '../../shared/domain/pnl-report';
import type { Position } from '../../shared/domain/position';
import { duration, money, renderCsv, renderPositionTable, renderTable } from '../../scripts/report/format';
import { makePosition } from '../helpers/factories';
import {
  LEDGER_NOW,
  LEDGER_SYMBOL,
  makeActivity,
  makeOrderReport,
  makeStopReport,
  minutesAfter,
  stoppedOutLedger,
} from '../helpers/ledger-factories';

const NOW = new Date('2026-11-25T21:00:00.000Z');
const ALL = { from: null, to: '2026-11-25' };

/** A long position filled at `entry` and closed at `closedAt` for `pnl` dollars. */
function closed(
  id: string,
  closedAt: string,
  pnl: number,
  reason: Position['close_reason'],
  o: Partial<Position> = {},
) {
  return makePosition({
    position_id: id,
    recommendation_id: id,
    state: 'closed',
    quantity: 0,
    original_quantity: 2,
    entry_price: 1.5,
    entry_time: '2026-11-24T15:00:00.000Z',
    created_at: '2026-11-24T14:59:00.000Z',
    closed_at: closedAt,
    exit_price: 2,
    close_reason: reason,
    realized_pnl: pnl,
    ...o,
  });
}

describe('buildPnlReport', () => {
  it('sums realized P&L by New York day: 03:30 UTC on the 24th is still the 23rd in New York', () => {
    const report = buildPnlReport(
      'main',
      [
        closed('a', '2026-11-24T03:30:00.000Z', -50, 'stop_loss', { entry_time: '2026-11-23T15:00:00.000Z' }),
        closed('b', '2026-11-24T16:00:00.000Z', 120.1, 'take_profit'),
        closed('c', '2026-11-24T20:00:00.000Z', 0.2, 'take_profit'),
      ],
      ALL,
      NOW,
    );

    expect(report.by_day).toEqual([
      { key: '2026-11-23', closed: 1, won: 0, lost: 1, realized_pnl_usd: -50, fees_usd: 0 },
      { key: '2026-11-24', closed: 2, won: 2, lost: 0, realized_pnl_usd: 120.3, fees_usd: 0 },
    ]);
    // In cents: 120.1 + 0.2 is 120.3 exactly, not 120.29999999999998.
    expect(report.closed.realized_pnl_usd).toBe(70.3);
  });

  it('groups by exit reason and computes win rate, average hold and the largest loss', () => {
    const report = buildPnlReport(
      'main',
      [
        closed('w1', '2026-11-24T16:00:00.000Z', 100, 'take_profit'), // held 60 min
        closed('l1', '2026-11-24T17:00:00.000Z', -250, 'stop_loss'), // 120 min
        closed('l2', '2026-11-24T15:30:00.000Z', -40, 'trailing_stop'), // 30 min
        closed('f1', '2026-11-24T15:30:00.000Z', 0, 'max_hold'), // 30 min
      ],
      ALL,
      NOW,
    );

    expect(report.by_reason.map((g) => [g.key, g.closed, g.realized_pnl_usd])).toEqual([
      ['max_hold', 1, 0],
      ['stop_loss', 1, -250],
      ['take_profit', 1, 100],
      ['trailing_stop', 1, -40],
    ]);
    expect(report.closed).toMatchObject({ count: 4, won: 1, lost: 2, flat: 1, win_rate: 0.25 });
    expect(report.closed.average_hold_minutes).toBe(60);
    expect(report.closed.largest_loss).toMatchObject({ position_id: 'l1', realized_pnl_usd: -250 });
    expect(report.closed.largest_win).toMatchObject({ position_id: 'w1' });
  });

  it('keeps only the range: closed before --from or after --to is out, by New York day', () => {
    const report = buildPnlReport(
      'main',
      [
        closed('before', '2026-11-23T20:59:00.000Z', 10, 'take_profit'),
        closed('first', '2026-11-24T05:00:00.000Z', 20, 'take_profit'), // 00:00 in New York
        closed('last', '2026-11-25T04:59:00.000Z', 30, 'take_profit'), // 23:59 on the 24th
        closed('after', '2026-11-25T05:00:00.000Z', 40, 'take_profit'),
      ],
      { from: '2026-11-24', to: '2026-11-24' },
      NOW,
    );

    expect(report.journal.map((r) => r.position_id)).toEqual(['first', 'last']);
    expect(report.closed.realized_pnl_usd).toBe(50);
  });

  it('counts positions opened in the range by fill day, and never-filled records apart, by reason', () => {
    const open = makePosition({ position_id: 'o', entry_time: '2026-11-24T15:00:00.000Z', quantity: 3 });
    const report = buildPnlReport(
      'main',
      [
        open,
        closed('c', '2026-11-24T16:00:00.000Z', 5, 'take_profit'),
        closed('old', '2026-11-24T16:00:00.000Z', 5, 'take_profit', {
          entry_time: '2026-11-20T15:00:00.000Z',
        }),
        closed('nf', '2026-11-24T16:00:00.000Z', 0, 'not_filled', { entry_price: null, entry_time: null }),
        closed('rj', '2026-11-24T16:00:00.000Z', 0, 'open_rejected', { entry_price: null, entry_time: null }),
      ],
      { from: '2026-11-24', to: '2026-11-25' },
      NOW,
    );

    // `open` (10 contracts at 2.00) and `c` (2 at 1.50) filled in the range; `old` filled before it.
    expect(report.opened).toEqual({ count: 2, contracts: 12, premium_usd: 2000 + 300 });
    expect(report.never_filled).toEqual({ count: 2, by_reason: { not_filled: 1, open_rejected: 1 } });
    expect(report.closed.count).toBe(2);
    expect(report.by_reason.map((g) => g.key)).toEqual(['take_profit']);
  });

  it('lists positions closed outside the pipeline but leaves them out of the win rate (no P&L booked)', () => {
    const report = buildPnlReport(
      'main',
      [
        closed('w', '2026-11-24T16:00:00.000Z', 10, 'take_profit'),
        closed('x', '2026-11-24T16:00:00.000Z', 0, 'closed_outside_pipeline'),
      ],
      ALL,
      NOW,
    );

    expect(report.closed).toMatchObject({
      count: 2,
      won: 1,
      lost: 0,
      flat: 0,
      win_rate: 1,
      outside_pipeline: 1,
    });
    expect(report.by_reason.map((g) => g.key)).toEqual(['closed_outside_pipeline', 'take_profit']);
  });

  it('ignores other accounts, says which fees are recorded, and has no rates when nothing closed', () => {
    const report = buildPnlReport(
      'main',
      [closed('t', '2026-11-24T16:00:00.000Z', -999, 'stop_loss', { account: 'tiny' })],
      ALL,
      NOW,
    );

    expect(report.closed).toMatchObject({
      count: 0,
      win_rate: null,
      average_hold_minutes: null,
      largest_loss: null,
    });
    expect(report.fees).toEqual({
      recorded: 'option_events_only',
      amount_usd: 0,
      positions: 0,
      note: expect.stringMatching(
        /^none booked .*commissions and regulatory fees of trades are not recorded/,
      ),
    });
    expect(report.open_now.positions).toBe(0);
    expect(report.generated_at).toBe(NOW.toISOString());
  });
});

describe('fees', () => {
  it('sums the fees the broker booked on positions closed in the range, apart from realized P&L', () => {
    const report = buildPnlReport(
      'main',
      [
        closed('asn', '2026-11-24T16:00:00.000Z', 600, 'assigned', { fees: 1.25 }),
        closed('exp', '2026-11-24T17:00:00.000Z', -300, 'expired', { fees: 0.1 }),
        closed('old', '2026-11-10T17:00:00.000Z', 50, 'assigned', { fees: 9 }), // before the range
        closed('tp', '2026-11-24T18:00:00.000Z', 40, 'take_profit'),
      ],
      { from: '2026-11-20', to: '2026-11-30' },
      NOW,
    );
    expect(report.fees).toMatchObject({ amount_usd: 1.35, positions: 2 });
    expect(report.fees.note).toMatch(
      /^\$1\.35 booked by the broker on assignments, exercises and expiries \(2 positions\), apart from realized P&L/,
    );
    expect(report.closed.realized_pnl_usd).toBe(340);
    // Shown in the totals and per trade, and after them: 340 − 1.35.
    expect(report.closed).toMatchObject({ fees_usd: 1.35, net_pnl_usd: 338.65 });
    expect(report.journal.find((r) => r.position_id === 'asn')).toMatchObject({
      fees_usd: 1.25,
      net_pnl_usd: 598.75,
    });
    expect(report.by_reason.find((g) => g.key === 'assigned')).toMatchObject({ fees_usd: 1.25 });
  });
});

describe('openExposure', () => {
  it('sums entry premium of live positions by side, apart from records awaiting a fill', () => {
    const exposure = openExposure([
      makePosition({ position_id: 'l', side: 'long', quantity: 3, entry_price: 2.5, realized_pnl: 40 }),
      makePosition({ position_id: 's', side: 'short', quantity: 2, entry_price: 1.1, state: 'closing' }),
      makePosition({ position_id: 'p', state: 'pending', entry_price: null, quantity: 0 }),
      closed('c', '2026-11-24T16:00:00.000Z', 10, 'take_profit'),
    ]);

    expect(exposure).toEqual({
      positions: 3,
      contracts: 5,
      long_premium_usd: 750,
      short_premium_usd: 220,
      awaiting_fill: 1,
      partial_realized_pnl_usd: 40,
    });
  });
});

describe('rendering', () => {
  const report = buildPnlReport(
    'main',
    [
      closed('a,1', '2026-11-24T16:00:00.000Z', -1234.5, 'stop_loss'),
      makePosition({ position_id: 'live', quantity: 1 }),
    ],
    ALL,
    NOW,
  );

  it('formats money and durations for people', () => {
    expect(money(-1234.5)).toBe('-$1,234.50');
    expect(money(0)).toBe('$0.00');
    expect(duration(12)).toBe('12m');
    expect(duration(125)).toBe('2h 05m');
    expect(duration(3000)).toBe('2d 2h');
  });

  it('prints every part of the report in the table, fees honestly', () => {
    const text = renderTable(report, 'table T');
    expect(text).toContain('account main · first record … 2026-11-25');
    expect(text).toMatch(
      /Closed +1 positions, realized -\$1,234\.50 · win rate 0% \(0 won, 1 lost, 0 flat\)/,
    );
    expect(text).toMatch(/Largest loss +-\$1,234\.50 {2}a,1/);
    expect(text).toContain(`Fees          ${feesNote(0, 0)}`);
    expect(text).toMatch(/2026-11-24 +1 +0 +1 +-\$1,234\.50/);
    expect(text).toMatch(/Open now +1 positions, 1 contracts · long premium paid \$200\.00/);
  });

  it('writes the journal as CSV, quoting a field with a comma', () => {
    const [header, row] = renderCsv(report).split('\n');
    expect(header.split(',')).toContain('realized_pnl_usd');
    expect(row.startsWith('2026-11-24,"a,1",GOOGL,')).toBe(true);
    expect(row).toContain(',stop_loss,-1234.5,');
  });
});

/**
 * A long of 2 bought at 2.10 (2026-06-01) whose resting stop filled 1 at 1.60, then 1 at 1.50, with a
 * $0.65 fee; its record's own money fields are stale (the average's -$105, no fees), so a report that reads
 * them instead of the ledger fails.
 */
function stoppedOut(): Position {
  const l = stoppedOutLedger();
  return makePosition({
    position_id: 'stopped',
    recommendation_id: 'stopped',
    state: 'closed',
    quantity: 0,
    original_quantity: 2,
    entry_price: 2.1,
    entry_time: LEDGER_NOW,
    closed_at: minutesAfter(3),
    close_reason: 'stop_loss',
    ledger: l,
    realized_pnl: -105,
    exit_price: 1.6,
    fees: 0,
  });
}

describe('the ledger’s figures (issue 23)', () => {
  const JUNE = { from: '2026-06-01', to: '2026-06-01' };

  it('reads realized P&L, fees and exit from each position’s ledger, in the totals and per trade', () => {
    const report = buildPnlReport('main', [stoppedOut()], JUNE, NOW);
    expect(report.journal).toEqual([
      expect.objectContaining({
        position_id: 'stopped',
        // Each part at its own price: (1.60 + 1.50 − 2 × 2.10) × 100 = −$110, not the average's −$105.
        realized_pnl_usd: -110,
        fees_usd: 0.65,
        net_pnl_usd: -110.65,
        exit_price: 1.55,
        entry_price: 2.1,
      }),
    ]);
    expect(report.closed).toMatchObject({ realized_pnl_usd: -110, fees_usd: 0.65, net_pnl_usd: -110.65 });
    expect(report.fees).toMatchObject({ amount_usd: 0.65, positions: 1 });
    expect(report.by_day).toEqual([
      { key: '2026-06-01', closed: 1, won: 0, lost: 1, realized_pnl_usd: -110, fees_usd: 0.65 },
    ]);

    const text = renderTable(report, 'table T');
    expect(text).toMatch(/Closed +1 positions, realized -\$110\.00/);
    expect(text).toContain('fees $0.65 · after fees -$110.65');
    expect(text).toMatch(/2026-06-01 +1 +0 +1 +-\$110\.00 +\$0\.65/);
    const [header, row] = renderCsv(report).split('\n');
    expect(header.endsWith(',realized_pnl_usd,hold_minutes,fees_usd,net_pnl_usd')).toBe(true);
    expect(row.endsWith(',-110,3,0.65,-110.65')).toBe(true);
  });

  it('counts a live position’s partial exits from its ledger', () => {
    let l = applyOrderReport(emptyLedger(LEDGER_SYMBOL), 'open', makeOrderReport(), LEDGER_NOW).ledger;
    l = applyOrderReport(
      l,
      'stop',
      makeStopReport({ filled_qty: 1, filled_avg_price: 1.6, status: 'partially_filled' }),
      minutesAfter(1),
    ).ledger;
    const live = makePosition({ quantity: 1, entry_price: 2.1, ledger: l, realized_pnl: 0 });
    expect(openExposure([live])).toMatchObject({ contracts: 1, partial_realized_pnl_usd: -50 });
  });
});

describe('positionLedgerReport and its table (--position)', () => {
  it('lists each order with its fills at their own prices and days, the fees, then the books', () => {
    const view = positionLedgerReport(stoppedOut());
    expect(view.stored_ledger).toBe(true);
    expect(view.orders.map((o) => [o.role, o.client_order_id, o.status, o.qty, o.filled_qty])).toEqual([
      ['open', 'ops-main-o-rec-0001', 'filled', 2, 2],
      ['stop', 'ops-main-s-rec-0001-1', 'filled', 2, 2],
    ]);
    expect(view.orders[1].fills.map((f) => [f.qty, f.price, f.notional_usd, f.day, f.source])).toEqual([
      [1, 1.6, 160, '2026-06-01', 'report'],
      [1, 1.5, 150, '2026-06-01', 'report'],
    ]);
    expect(view.fees).toEqual([
      { activity_id: '20260601200000000::fee-1', amount_usd: 0.65, day: '2026-06-01' },
    ]);
    expect(view.books).toMatchObject({
      held: 0,
      opened: 2,
      closed: 2,
      entry_price: 2.1,
      exit_price: 1.55,
      realized_before_fees_usd: -110,
      fees_usd: 0.65,
      realized_usd: -110.65,
      shares: null,
      working: [],
    });

    const text = renderPositionTable(view, 'table T');
    expect(text).toContain(`Position stopped · account main · long ${LEDGER_SYMBOL} · closed (stop_loss)`);
    expect(text).toContain('stop  ops-main-s-rec-0001-1  sell  filled  qty 2  filled 2');
    expect(text).toMatch(/ 1 +1\.60 +\$160\.00 +2026-06-01T15:01:00\.000Z +2026-06-01 +report/);
    expect(text).toMatch(/ 1 +1\.50 +\$150\.00 +2026-06-01T15:02:00\.000Z +2026-06-01 +report/);
    expect(text).toMatch(/\$0\.65 +2026-06-01 +20260601200000000::fee-1/);
    expect(text).toContain('held 0 (opened 2, closed 2) · entry 2.10 · exit 1.55');
    expect(text).toContain('realized -$110.00 before fees · fees $0.65 · -$110.65 after fees');
  });

  it('shows an exercise at its value, with the underlying’s price and the shares it delivered', () => {
    let l = applyOrderReport(emptyLedger(LEDGER_SYMBOL), 'open', makeOrderReport(), LEDGER_NOW).ledger;
    l = applyActivity(
      l,
      makeActivity({ id: '20260601210000000::opexc-1', type: 'OPEXC', qty: -2, net_amount: 0 }),
      { at: minutesAfter(60), underlyingPrice: 345 },
    ).ledger;
    const view = positionLedgerReport(
      makePosition({ ledger: l, quantity: 0, state: 'closed', close_reason: 'exercised' }),
    );
    // The 340 call exercised with the underlying at 345: (345 − 340) × 100 × 2 = $1,000 for the option leg.
    expect(view.events).toEqual([
      expect.objectContaining({
        type: 'OPEXC',
        contracts: 2,
        value_usd: 1000,
        underlying_price: 345,
        strike: 340,
        shares: 200,
        share_cost_usd: 69_000,
      }),
    ]);
    expect(view.books.shares).toEqual({ underlying: 'GOOGL', shares: 200, cost_usd: 69_000 });
    const text = renderPositionTable(view, 'table T');
    expect(text).toMatch(/OPEXC +2 +\$1,000\.00 +345\.00 +340\.00 +200 +\$69,000\.00 +2026-06-01/);
    expect(text).toContain('delivered shares held: 200 GOOGL, cost $69,000.00');
  });

  it('reads a record written before the ledger through the ledger its fields imply, and says so', () => {
    const legacy = makePosition({ quantity: 3, original_quantity: 3, entry_price: 2.5 });
    const view = positionLedgerReport(legacy);
    expect(view.stored_ledger).toBe(false);
    expect(view.books).toMatchObject({ held: 3, entry_price: 2.5 });
    expect(renderPositionTable(view, 'table T')).toContain('written before the ledger');
  });
});
