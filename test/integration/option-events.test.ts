/**
 * Issue 16 part 2, end to end: assignment, exercise and expiry booked from Alpaca's non-trade activities.
 * Real handlers, dynalite, the Alpaca simulator over HTTP (its assignment, exercise and expiry), the real
 * SDK. Every closing order's raw body is checked (no position_intent, recorded symbol, reducing side).
 */
import { KEY_ID, sentOrders } from '../helpers/pipeline';
import { adapterFor, startTestSim } from '../helpers/alpaca-sim';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { FUTURE_PUT, FUTURE_SYMBOL, futureCall } from '../helpers/recommendations';
import type { SweepReport } from '../../shared/use-cases/sweep';

let h: ExitHarness;
let running = false;
async function start(limits: Record<string, unknown> = {}) {
  h = await startExitHarness({
    account: {
      name: 'main',
      limits: { max_open_positions: 50, ...limits },
      exit_defaults: { close_before_expiry_days: 1 },
    },
  });
  running = true;
  h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
  h.p.sim.setQuote(FUTURE_PUT, { bid: 3.0, ask: 3.1 });
}
afterEach(async () => {
  if (!running) return;
  running = false;
  h.expectEveryCloseSafe();
  await h.close();
});

const ACTIVITIES = '/v2/account/activities';
const activityCalls = () => h.p.sim.requestsTo('GET', ACTIVITIES).length;

/** Sweeps until `id` is closed (at most 3), with the activities calls each sweep made. */
async function sweepUntilClosed(id: string): Promise<{ reports: SweepReport[]; calls: number[] }> {
  const reports: SweepReport[] = [];
  const calls: number[] = [];
  for (let i = 0; i < 3; i++) {
    const before = activityCalls();
    reports.push(await h.sweep());
    calls.push(activityCalls() - before);
    if ((await h.get(id))?.state === 'closed') break;
  }
  return { reports, calls };
}

const shortPut = (id: string, n = 2) =>
  h.open({ recommendation_id: id, option_symbol: FUTURE_PUT, action: 'SELL', num_contracts: n });
const longCall = (id: string, n = 2) => h.open({ recommendation_id: id, num_contracts: n });
const alertsOf = (reports: SweepReport[], kind: string) =>
  reports.flatMap((r) => r.alerts).filter((a) => a.kind === kind);
const sharesOrders = () => sentOrders(h.p.sim).filter((o) => /^ops-main-sh-/.test(String(o.client_order_id)));

describe('an assigned short', () => {
  it('closes as `assigned` keeping its premium; the delivered shares are alerted with the contract named', async () => {
    await start();
    await shortPut('asn'); // sold 2 at the bid, 3.00
    h.p.sim.assign(KEY_ID, FUTURE_PUT, { fee: 1.25 });
    const { reports, calls } = await sweepUntilClosed('asn');
    expect(await h.get('asn')).toMatchObject({
      state: 'closed',
      close_reason: 'assigned',
      realized_pnl: 600,
      exit_price: 0,
      fees: 1.25,
    });
    expect(alertsOf(reports, 'assignment_shares')).toEqual([
      expect.objectContaining({
        symbol: FUTURE_PUT,
        detail: expect.stringMatching(
          /assigned: 2 contracts delivered \+200 GOOGL shares at 300, booked at the strike \(no latest trade of GOOGL could be read\); not tracked/,
        ),
      }),
    ]);
    expect(alertsOf(reports, 'closed_outside_pipeline')).toEqual([]);
    expect(Math.max(...calls)).toBe(1);
    expect(h.brokerQty('GOOGL')).toBe(200);
    expect(sharesOrders()).toEqual([]);
  });

  it('with flatten_assigned_shares: sold with one intent-free market order, never more than held, never again', async () => {
    await start({ flatten_assigned_shares: true });
    await shortPut('fl');
    h.p.sim.assign(KEY_ID, FUTURE_PUT);
    h.p.sim.setStockPrice('GOOGL', 295);
    // 50 of the 200 delivered shares are sold by hand before the sweep sees the assignment.
    h.p.sim.setPosition(KEY_ID, 'GOOGL', 150, 300);
    const { reports } = await sweepUntilClosed('fl');
    expect(await h.get('fl')).toMatchObject({ state: 'closed', close_reason: 'assigned' });
    expect(sharesOrders()).toEqual([
      {
        symbol: 'GOOGL',
        qty: '150',
        side: 'sell',
        type: 'market',
        time_in_force: 'day',
        client_order_id: 'ops-main-sh-fl',
      },
    ]);
    expect(alertsOf(reports, 'assignment_shares')[0].detail).toMatch(
      /flatten order ops-main-sh-fl sent: sell 150/,
    );
    expect(h.brokerQty('GOOGL')).toBe(0);
    await h.sweep();
    await h.sweep();
    expect(sharesOrders()).toHaveLength(1);
    h.expectNoShort();
  });
});

describe('expiry', () => {
  it('an OTM long expiring closes as `expired` with its premium lost', async () => {
    await start();
    await longCall('otm'); // bought 2 at the ask, 2.10
    h.p.sim.setStockPrice('GOOGL', 300); // the 340 call is out of the money
    h.p.sim.expireContract(KEY_ID, FUTURE_SYMBOL);
    const { reports } = await sweepUntilClosed('otm');
    expect(await h.get('otm')).toMatchObject({
      state: 'closed',
      close_reason: 'expired',
      realized_pnl: -420,
    });
    expect(alertsOf(reports, 'assignment_shares')).toEqual([]);
    expect(h.brokerQty('GOOGL')).toBe(0);
    h.expectNoShort();
  });

  it('an expired short keeps its premium', async () => {
    await start();
    await shortPut('kept', 1); // sold 1 at 3.00
    h.p.sim.setStockPrice('GOOGL', 340); // the 300 put is out of the money
    h.p.sim.expireContract(KEY_ID, FUTURE_PUT);
    await sweepUntilClosed('kept');
    expect(await h.get('kept')).toMatchObject({
      state: 'closed',
      close_reason: 'expired',
      realized_pnl: 300,
    });
  });
});

describe('an exercised long', () => {
  it('closes as `exercised` (the option leg at 0: the premium is the cost of the shares) and alerts the shares', async () => {
    await start();
    await longCall('exc', 1);
    h.p.sim.exercise(KEY_ID, FUTURE_SYMBOL);
    const { reports } = await sweepUntilClosed('exc');
    expect(await h.get('exc')).toMatchObject({
      state: 'closed',
      close_reason: 'exercised',
      realized_pnl: -210,
    });
    expect(alertsOf(reports, 'assignment_shares')).toEqual([
      expect.objectContaining({
        symbol: FUTURE_SYMBOL,
        detail: expect.stringContaining('+100 GOOGL shares at 340'),
      }),
    ]);
    expect(h.brokerQty('GOOGL')).toBe(100);
  });
});

describe('the activities call', () => {
  it('a missing contract with no activity still closes as closed_outside_pipeline', async () => {
    await start();
    await longCall('hand');
    h.p.sim.removePosition(KEY_ID, FUTURE_SYMBOL);
    const { reports, calls } = await sweepUntilClosed('hand');
    expect(await h.get('hand')).toMatchObject({ state: 'closed', close_reason: 'closed_outside_pipeline' });
    expect(alertsOf(reports, 'closed_outside_pipeline')).toHaveLength(1);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('is never made while no contract disappears', async () => {
    await start();
    await longCall('a');
    await shortPut('b');
    for (let i = 0; i < 3; i++) await h.sweep();
    expect(activityCalls()).toBe(0);
  });

  it('is made once in a sweep where two contracts disappear (one assigned, one expired)', async () => {
    await start();
    h.p.sim.setQuote(futureCall(350), { bid: 1.0, ask: 1.1 });
    await h.open({ recommendation_id: 'stays', option_symbol: futureCall(350), num_contracts: 1 });
    await longCall('c1', 1);
    await shortPut('p1', 1);
    h.p.sim.assign(KEY_ID, FUTURE_PUT);
    h.p.sim.expireContract(KEY_ID, FUTURE_SYMBOL);
    const before = activityCalls();
    const r = await h.sweep();
    expect(activityCalls() - before).toBe(1);
    expect(r.closed.map((c) => [c.position_id, c.reason]).sort()).toEqual([
      ['c1', 'expired'],
      ['p1', 'assigned'],
    ]);
    expect(await h.get('stays')).toMatchObject({ state: 'open' });
  });
});

describe('the adapter reads the activities through the SDK', () => {
  it('follows page_token oldest first across pages (150 activities: 2 pages), OPASN/OPEXC/OPEXP/FEE only', async () => {
    const sim = await startTestSim({ rateLimitPerMinute: null });
    try {
      for (let i = 0; i < 75; i++) {
        sim.setPosition(KEY_ID, FUTURE_PUT, -1, 3);
        sim.assign(KEY_ID, FUTURE_PUT, { fee: 0.01 }); // OPASN + OPTRD + FEE
      }
      const list = await adapterFor(sim).listActivities(new Date(Date.now() - 3600_000).toISOString());
      expect(list).toHaveLength(150);
      expect(new Set(list.map((a) => a.type))).toEqual(new Set(['OPASN', 'FEE']));
      expect(list[0]).toMatchObject({ type: 'OPASN', symbol: FUTURE_PUT, qty: 1, net_amount: 0 });
      expect(list[1]).toMatchObject({ type: 'FEE', net_amount: -0.01 });
      const pages = sim.requestsTo('GET', ACTIVITIES);
      expect(pages.map((r) => [r.query.direction, r.query.page_size, r.query.activity_types])).toEqual([
        ['asc', '100', 'OPASN,OPEXC,OPEXP,FEE'],
        ['asc', '100', 'OPASN,OPEXC,OPEXP,FEE'],
      ]);
      expect(pages[1].query.page_token).toBe(list[99].id);
    } finally {
      await sim.close();
    }
  });
});
