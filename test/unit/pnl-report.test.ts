/** The P&L journal's arithmetic (shared/domain/pnl-report.ts) and its rendering, with plain records. */
import { buildPnlReport, feesNote, openExposure } from '../../shared/domain/pnl-report';
import type { Position } from '../../shared/domain/position';
import { duration, money, renderCsv, renderTable } from '../../scripts/report/format';
import { makePosition } from '../helpers/factories';

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
      { key: '2026-11-23', closed: 1, won: 0, lost: 1, realized_pnl_usd: -50 },
      { key: '2026-11-24', closed: 2, won: 2, lost: 0, realized_pnl_usd: 120.3 },
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
      /^\$1\.35 booked by the broker on assignments, exercises and expiries \(2 positions\), not in realized P&L;/,
    );
    expect(report.closed.realized_pnl_usd).toBe(340);
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
