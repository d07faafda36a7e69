/** The live view's text, from plain values. */
import { resolveExitPlan } from '../../shared/domain/exit-plan';
import { describeRules, positionRow } from '../../local/view-data';
import { renderView, switchState } from '../../local/view';
import { makePosition as position } from '../helpers/factories';

describe('positionRow', () => {
  it('marks an open long: P&L = realized + (mark - entry) x qty x 100', () => {
    const p = position({ side: 'long', state: 'open', quantity: 2, entry_price: 2.0, realized_pnl: 10 });
    expect(positionRow(p, 2.5)).toMatchObject({ qty: 2, entry: 2, mark: 2.5, pnl: 110, state: 'open' });
    expect(positionRow(p, 2.5).atBroker).toBe('—');
    const resting = {
      seq: 1,
      client_order_id: 'ops-main-s1-x',
      order_id: 'o1',
      type: 'stop' as const,
      stop_price: 1.6,
      limit_price: null,
      qty: 2,
      reason: 'stop_loss' as const,
      placed_at: '2026-11-24T15:00:00Z',
    };
    expect(positionRow({ ...p, broker_stop: resting }, 2.5).atBroker).toBe('stop 1.60 x2');
  });

  it('marks an open short the other way', () => {
    const p = position({ side: 'short', state: 'open', quantity: 1, entry_price: 3.0, realized_pnl: 0 });
    expect(positionRow(p, 3.5)!.pnl).toBe(-50);
  });

  it('shows a closed position with its close reason, exit price and realized P&L', () => {
    const p = position({
      state: 'closed',
      close_reason: 'trailing_stop',
      quantity: 0,
      original_quantity: 4,
      exit_price: 1.4,
      realized_pnl: -80,
    });
    expect(positionRow(p, null)).toMatchObject({
      qty: 4,
      mark: 1.4,
      pnl: -80,
      state: 'closed: trailing_stop',
      rules: '',
    });
  });
});

describe('describeRules', () => {
  it('lists the rules still active: a taken partial level disappears, the trail shows its stop', () => {
    const plan = resolveExitPlan({
      stop_loss_pct: 0.25,
      take_profit_pct: null,
      trailing_stop_pct: 0.2,
      partial_exits: [
        { gain_pct: 0.4, fraction: 0.5 },
        { gain_pct: 0.8, fraction: 0.25 },
      ],
      close_before_expiry_days: 1,
    });
    expect(
      describeRules(plan, { partial_exits_done: [0], trailing_stop_price: 2.4, breakeven_active: false }),
    ).toBe('SL 25% TRAIL 20% @2.40 PX +80%:25% EXP-1d');
  });
});

describe('renderView', () => {
  it("prints each account's queue, DLQ, positions and orders, a close's intent as —", () => {
    const text = renderView(
      {
        broker: 'simulator',
        simulatorUrl: 'http://127.0.0.1:1',
        seed: 1,
        sweepSeconds: 5,
        logPath: '.local/ops-pipeline.log',
        now: new Date('2026-11-24T15:00:00Z'),
      },
      [
        {
          name: 'main',
          queue: { visible: 1, inFlight: 2 },
          dlq: 3,
          positions: [
            {
              id: 'p1',
              symbol: 'GOOGL271217C00340000',
              side: 'long',
              qty: 2,
              entry: 2,
              mark: 2.5,
              pnl: 100,
              state: 'open',
              rules: 'SL 50%',
              atBroker: 'stop 1.00 x2',
            },
          ],
          orders: [
            {
              time: '2026-11-24T14:59:00.000Z',
              side: 'sell',
              qty: 2,
              symbol: 'GOOGL271217C00340000',
              intent: '—',
              status: 'filled',
              clientOrderId: 'ops-main-x1-p1',
              type: 'market',
            },
            {
              time: '2026-11-24T14:58:30.000Z',
              side: 'sell',
              qty: 2,
              symbol: 'GOOGL271217C00340000',
              intent: '—',
              status: 'canceled',
              clientOrderId: 'ops-main-s1-p1',
              type: 'stop 1.00',
            },
            {
              time: '2026-11-24T14:58:00.000Z',
              side: 'buy',
              qty: 2,
              symbol: 'GOOGL271217C00340000',
              intent: 'buy_to_open',
              status: 'filled',
              clientOrderId: 'ops-main-o-p1',
              type: 'market',
            },
          ],
          rejections: [
            {
              at: '2026-11-24T14:57:00.000Z',
              key: 'bad-1',
              reason: 'schema',
              detail: 'schema: action: invalid',
            },
          ],
          rejectionsTotal: 12,
          control: { trading_enabled: false, flatten: false, reason: 'manual stop' },
          sweeps: { runs: 7, failures: 0, throttled: 0, lastDurationMs: 12, lastError: null },
          openOrder: { invocations: 2, records: 3, failed: 1 },
        },
      ],
    );

    expect(text).toContain('■ main   queue 1 waiting / 2 in flight · DLQ 3');
    expect(text).toMatch(
      /p1 +GOOGL271217C00340000 +long +2 +2\.00 +2\.50 +100\.00 +open +SL 50% +stop 1\.00 x2/,
    );
    expect(text).toMatch(/STOP AT BROKER/);
    expect(text).toMatch(/14:58:30 +sell +2 +GOOGL271217C00340000 +— +canceled +ops-main-s1-p1 +stop 1\.00/);
    expect(text).toMatch(/14:59:00 +sell +2 +GOOGL271217C00340000 +— +filled +ops-main-x1-p1/);
    expect(text).toMatch(/14:58:00 +buy +2 +GOOGL271217C00340000 +buy_to_open +filled +ops-main-o-p1/);
    expect(text).toContain('14:57:00  bad-1  schema: action: invalid');
    expect(text).toContain('  trading DISABLED (no new openings): manual stop');
    expect(text).toContain('recent rejections (newest 1 of 12; all: npm run inject -- --rejections)');
  });
});

describe('switchState', () => {
  it('shows enabled, disabled with its reason, and flattening', () => {
    expect(switchState(null)).toBe('enabled');
    expect(switchState({ trading_enabled: true, flatten: false })).toBe('enabled');
    expect(switchState({ trading_enabled: false, flatten: false, reason: 'halt' })).toBe(
      'DISABLED (no new openings): halt',
    );
    expect(switchState({ trading_enabled: false, flatten: true })).toMatch(/^FLATTENING/);
  });
});
