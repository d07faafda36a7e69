/** The live view's text, from plain values. */
import { resolveExitPlan } from '../../shared/domain/exit-plan';
import { describeRules, positionRow, spreadRow } from '../../local/view-data';
import { LiveViewLoop, renderView, switchState } from '../../local/view';
import { makePosition as position } from '../helpers/factories';
import { bookedVertical, SPREAD_LONG, SPREAD_SHORT } from '../helpers/spread-factories';

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

describe('the view in an 80×24 terminal', () => {
  const header = {
    broker: 'simulator' as const,
    simulatorUrl: 'http://127.0.0.1:43125',
    seed: 20261124,
    sweepSeconds: 5,
    logPath: '.local/ops-pipeline.log',
    now: new Date('2026-11-24T15:00:00Z'),
  };
  const row = (i: number) => ({
    id: `pos-${i}-0123456789abcdef`,
    symbol: 'GOOGL271217C00340000',
    side: 'long' as const,
    qty: 2,
    entry: 2,
    mark: 2.5,
    pnl: 100 + i,
    state: i === 0 ? 'closed: trailing_stop' : 'open',
    rules: 'SL 25% TRAIL 20% @2.40 PX +80%:25% BE +10% MAX 390m EXP-1d',
    atBroker: 'stop 1.60 x2',
  });
  const account = (name: string, positions: number) => ({
    name,
    queue: { visible: 0, inFlight: 0 },
    dlq: 0,
    positions: Array.from({ length: positions }, (_, i) => row(i)),
    orders: [
      {
        time: '2026-11-24T14:59:00.000Z',
        side: 'sell',
        qty: 2,
        symbol: 'GOOGL271217C00340000',
        intent: '—',
        status: 'filled',
        clientOrderId: 'ops-main-x1-pos-1-0123456789abcdef',
        type: 'market',
      },
    ],
    rejections: [],
    rejectionsTotal: 0,
    control: null,
    sweeps: { runs: 7, failures: 0, throttled: 0, lastDurationMs: 12, lastError: null },
    openOrder: { invocations: 2, records: 3, failed: 1 },
    underlyings: [{ ticker: 'GOOGL', price: 181.37 }],
  });

  it('fits the width and height: nothing silently cut, the hidden columns named in a footer', () => {
    const text = renderView(header, [account('main', 3)], { columns: 80, rows: 24 });
    const lines = text.split('\n');
    for (const l of lines) expect([l, l.length <= 80]).toEqual([l, true]);
    expect(lines.length).toBeLessThanOrEqual(24);
    // The header is wrapped, not cut: every part of it is there.
    for (const part of ['ops-pipeline local mode', 'sweep every 5 s', '2026-11-24T15:00:00Z', 'Ctrl-C stops'])
      expect(text).toContain(part);
    // The columns a trader needs stay: P&L, state, rules (cut with … when long).
    const titles = lines
      .find((l) => /^\s+SYMBOL\s/.test(l))!
      .trim()
      .split(/ {2,}/);
    expect(titles).toEqual(
      expect.arrayContaining(['SYMBOL', 'QTY', 'MARK', 'P&L $', 'STATE', 'ACTIVE RULES']),
    );
    expect(text).toMatch(/GOOGL271217C00340000 +2 +2\.50 +101\.00 +open +SL 25% .*/);
    expect(text).toMatch(/\n… hidden \(narrow terminal\): STOP AT BROKER · POSITION · ENTRY · SIDE/);
    expect(text).toMatch(/enlarge the terminal$/);
    // The underlying's price.
    expect(text).toContain('underlying GOOGL 181.37');
  });

  it('too many lines for 24 rows: the rest are counted in the footer', () => {
    const text = renderView(header, [account('main', 10), account('tiny', 10)], { columns: 80, rows: 24 });
    const lines = text.split('\n');
    expect(lines).toHaveLength(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    const foot = lines.findIndex((l) => l.startsWith('… hidden (narrow terminal): '));
    expect(foot).toBeGreaterThan(10);
    expect(lines.slice(foot).join('\n')).toMatch(/ · \d+ more line\(s\) below · enlarge the terminal$/);
  });

  it('a wide terminal shows every column; no size (docs, a pipe) is the full view', () => {
    const wide = renderView(header, [account('main', 3)], { columns: 200, rows: 60 });
    expect(wide).not.toMatch(/hidden/);
    expect(wide).toMatch(/STOP AT BROKER/);
    expect(renderView(header, [account('main', 3)])).toMatch(/POSITION +SYMBOL/);
  });

  it('marks itself stale when its reads stop completing, with its clock still running (no timers: the test is the clock)', async () => {
    const frames: string[] = [];
    let release: (() => void) | null = null;
    let reads = 0;
    const read = (now: Date) => {
      reads++;
      const r = { header: { ...header, now }, accounts: [account('main', 1)] };
      // The first read answers at once; the second hangs (the local SQS paused) until released.
      if (reads !== 2) return Promise.resolve(r);
      return new Promise<typeof r>((resolve) => {
        release = () => resolve(r);
      });
    };
    const loop = new LiveViewLoop(
      read,
      (t) => frames.push(t),
      () => ({ columns: 80, rows: 24 }),
    );
    const at = (s: number) => new Date(Date.parse('2026-11-24T15:00:00Z') + s * 1000);
    await loop.tick(at(0));
    expect(frames.at(-1)).toContain('15:00:00Z');
    expect(frames.at(-1)).not.toContain('STALE');
    void loop.tick(at(1)); // the read that hangs
    void loop.tick(at(3));
    expect(frames.at(-1)).toContain('15:00:03Z');
    expect(frames.at(-1)).not.toContain('STALE');
    void loop.tick(at(20));
    expect(reads).toBe(2); // no second read piled on the hanging one
    const stale = frames.at(-1)!;
    expect(stale).toContain('15:00:20Z');
    expect(stale).toMatch(/STALE: nothing read for 20 s \(last at 15:00:00Z\)/);
    for (const l of stale.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    release!();
    await loop.tick(at(21));
    await loop.tick(at(22));
    expect(frames.at(-1)).not.toContain('STALE');
    expect(frames.at(-1)).toContain('15:00:22Z');
  });
});

describe('spreads in the view', () => {
  // Long 2 × 480 call at 3.10, short 2 × 490 call at 1.25: a 1.85 debit per share, 2 multiples held.
  const sp = { ...bookedVertical('sp-live-0123456789', false), ticker: 'SPY' };
  const quotes = new Map([
    [SPREAD_LONG, { bid: 4.0, ask: 4.1 }],
    [SPREAD_SHORT, { bid: 1.5, ask: 1.55 }],
  ]);

  it('values a spread at its net executable value: long bids less short asks, gain vs the net open', () => {
    const row = spreadRow(sp, quotes);
    // 4.00 − 1.55 = 2.45 now; (2.45 − 1.85) × 100 × 2 = +120.00; 0.60 / 1.85 of the debit.
    expect(row).toMatchObject({ multiple: 2, netOpen: 1.85, netNow: 2.45, gain: 120 });
    expect(row.gainPct).toBeCloseTo(0.6 / 1.85, 9);
    expect(row.legs).toEqual([
      { symbol: SPREAD_LONG, side: 'long', ratio: 1, held: 2 },
      { symbol: SPREAD_SHORT, side: 'short', ratio: 1, held: 2 },
    ]);
    expect(row.rules).toBe('SL 50% TP 50%');
  });

  it('shows no net value when a leg has no quote (not a guess from one leg)', () => {
    const row = spreadRow(sp, new Map([[SPREAD_LONG, { bid: 4.0, ask: 4.1 }]]));
    expect(row).toMatchObject({ netNow: null, gain: null, gainPct: null });
  });

  it('fits 80×24 with each spread’s legs indented beneath it', () => {
    const header = {
      broker: 'simulator' as const,
      simulatorUrl: 'http://127.0.0.1:43125',
      seed: 20261124,
      sweepSeconds: 5,
      logPath: '.local/ops-pipeline.log',
      now: new Date('2026-11-24T15:00:00Z'),
    };
    const account = {
      name: 'main',
      queue: { visible: 0, inFlight: 0 },
      dlq: 0,
      positions: [],
      spreads: [spreadRow(sp, quotes)],
      orders: [],
      rejections: [],
      rejectionsTotal: 0,
      control: null,
      sweeps: { runs: 7, failures: 0, throttled: 0, lastDurationMs: 12, lastError: null },
      openOrder: { invocations: 2, records: 3, failed: 1 },
    };
    const text = renderView(header, [account], { columns: 80, rows: 24 });
    const lines = text.split('\n');
    for (const l of lines) expect([l, l.length <= 80]).toEqual([l, true]);
    expect(lines.length).toBeLessThanOrEqual(24);
    const at = lines.findIndex((l) => /^\s+STRUCTURE\s/.test(l) || /^\s+SPREAD\s/.test(l));
    expect(lines[at + 1]).toMatch(/^ {2}vertical +2 +1\.85 +2\.45 +120\.00 +\+32% +open +SL 50% TP 50%$/);
    expect(lines[at + 2]).toBe(`      long  1× ${SPREAD_LONG}  held 2`);
    expect(lines[at + 3]).toBe(`      short 1× ${SPREAD_SHORT}  held 2`);
    // The id is the first column to go, and the footer says so.
    expect(text).toMatch(/\n… hidden \(narrow terminal\): SPREAD/);
    // A spread is a position: no "no positions yet" above it.
    expect(text).not.toContain('no positions yet');
    // Full width: every column, the id and the net open too.
    expect(renderView(header, [account])).toMatch(
      /sp-live-0123456789 +vertical +2 +1\.85 +2\.45 +120\.00 +\+32% +open +SL 50% TP 50%/,
    );
  });
});
