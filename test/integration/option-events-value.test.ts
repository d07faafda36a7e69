/**
 * Issue 23 cases 4 and 6, end to end: option events booked at their value, and a partial assignment booked.
 * Real handlers, dynalite, the Alpaca simulator over HTTP (its assignment, exercise, expiry and latest stock
 * trades), the real SDK. Each case failed on the code before it (d0b166a): an exercise or assignment was
 * booked with the option leg at 0, and a partial assignment was brought down at no P&L.
 */
import { KEY_ID, sentOrders } from '../helpers/pipeline';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { FUTURE_PUT, FUTURE_SYMBOL } from '../helpers/recommendations';
import { testClock, type TestClock } from '../helpers/test-clock';
import type { Position } from '../../shared/domain/position';
import type { SweepReport } from '../../shared/use-cases/sweep';

jest.setTimeout(60_000);

let h: ExitHarness;
let running = false;
async function start(limits: Record<string, unknown> = {}, clock?: TestClock) {
  h = await startExitHarness({
    ...(clock ? { clock, claimLeaseSeconds: 120 } : {}),
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
  for (const o of sharesOrders()) expect(o).not.toHaveProperty('position_intent');
  await h.close();
});

const TRADES = /^\/v2\/stocks\/[^/]+\/trades\/latest$/;
const priceReads = () => h.p.sim.requestsTo('GET', TRADES).length;
const alertsOf = (reports: readonly SweepReport[], kind: string) =>
  reports.flatMap((r) => r.alerts).filter((a) => a.kind === kind);
const sharesOrders = () =>
  sentOrders(h.p.sim).filter((o) => /^ops-main-sh\d*-/.test(String(o.client_order_id)));
/** The record's option events as its ledger booked them. */
const eventsOf = (p: Position | null) =>
  (p?.ledger?.events ?? []).map((e) => ({
    type: e.type,
    contracts: e.contracts,
    value_cents: e.value_cents,
    underlying_price: e.underlying_price,
    shares: e.shares,
    share_cost_cents: e.share_cost_cents,
  }));
/**
 * Sweeps until `id` is closed (at most 3; a contract gone while it was the only one tracked is closed on a
 * second sweep's agreement), with the reports.
 */
async function sweepUntilClosed(id: string): Promise<SweepReport[]> {
  const reports: SweepReport[] = [];
  for (let i = 0; i < 3; i++) {
    reports.push(await h.sweep());
    if ((await h.get(id))?.state === 'closed') break;
  }
  return reports;
}
/** No exit rule fires while the test moves nothing. */
const NO_EXITS = { stop_loss_pct: null, take_profit_pct: null, trailing_stop_pct: null };

describe('case 4: option events booked at their value', () => {
  it('an auto-exercised in-the-money long call is booked at its intrinsic value ((S−K)×100), not −premium: the daily loss breaker does not trip', async () => {
    await start({ max_daily_loss: 150 });
    await h.open({ recommendation_id: 'exc', num_contracts: 1, exit_plan: NO_EXITS }); // 1 at 2.10
    h.p.sim.setStockPrice('GOOGL', 345); // the 340 call is $5 in the money
    h.p.sim.expireContract(KEY_ID, FUTURE_SYMBOL); // the OCC's expiry processing exercises it
    const before = priceReads();
    const reports = await sweepUntilClosed('exc');
    const r = reports[reports.length - 1];
    const p = await h.get('exc');
    // Proceeds (345 − 340) × 100 = $500 against the $210 paid: +$290 (was booked −$210).
    expect(p).toMatchObject({ state: 'closed', close_reason: 'exercised', realized_pnl: 290, exit_price: 5 });
    expect(eventsOf(p)).toEqual([
      {
        type: 'OPEXC',
        contracts: 1,
        value_cents: 50_000,
        underlying_price: 345,
        shares: 100,
        share_cost_cents: 3_450_000,
      },
    ]);
    expect(r.dayPnl).toMatchObject({ realized_usd: 290 });
    expect(alertsOf([r], 'daily_loss')).toEqual([]);
    expect(priceReads() - before).toBe(1);
    expect(alertsOf([r], 'assignment_shares')).toEqual([
      expect.objectContaining({
        symbol: FUTURE_SYMBOL,
        detail: expect.stringContaining(
          "exercised: 1 contracts delivered +100 GOOGL shares at 340, booked at 345.00 a share (GOOGL's latest trade)",
        ),
      }),
    ]);
    expect(h.brokerQty('GOOGL')).toBe(100);
  });

  it('an assigned deep in-the-money short put is booked as the loss it is ((K−S)×100 buy-back cost), not a gain', async () => {
    await start({ max_daily_loss: 5000 });
    await h.open({
      recommendation_id: 'asn',
      option_symbol: FUTURE_PUT,
      action: 'SELL',
      num_contracts: 2,
      exit_plan: NO_EXITS,
    }); // sold 2 at 3.00: +$600 premium
    h.p.sim.setStockPrice('GOOGL', 250); // the 300 put is $50 in the money
    h.p.sim.assign(KEY_ID, FUTURE_PUT);
    const reports = await sweepUntilClosed('asn');
    const r = reports[reports.length - 1];
    const p = await h.get('asn');
    // Buy-back cost (300 − 250) × 200 = $10,000 against the $600 premium: −$9,400 (was booked +$600).
    expect(p).toMatchObject({
      state: 'closed',
      close_reason: 'assigned',
      realized_pnl: -9400,
      exit_price: 50,
    });
    expect(eventsOf(p)).toEqual([
      {
        type: 'OPASN',
        contracts: 2,
        value_cents: 1_000_000,
        underlying_price: 250,
        shares: 200,
        share_cost_cents: 5_000_000,
      },
    ]);
    // The breaker sees the true figure.
    expect(r.dayPnl).toMatchObject({ realized_usd: -9400 });
    expect(alertsOf([r], 'daily_loss')).toHaveLength(1);
    expect(alertsOf([r], 'assignment_shares')[0].detail).toContain(
      "assigned: 2 contracts delivered +200 GOOGL shares at 300, booked at 250.00 a share (GOOGL's latest trade)",
    );
  });

  it("when the underlying's price cannot be read the event is booked all the same, at the strike, noted", async () => {
    await start();
    await h.open({
      recommendation_id: 'np',
      option_symbol: FUTURE_PUT,
      action: 'SELL',
      num_contracts: 2,
      exit_plan: NO_EXITS,
    });
    h.p.sim.setStockPrice('GOOGL', 250);
    h.p.sim.injectFault({ method: 'GET', path: TRADES, status: 500, times: 20 });
    h.p.sim.assign(KEY_ID, FUTURE_PUT);
    const reports = await sweepUntilClosed('np');
    const r = reports[reports.length - 1];
    const p = await h.get('np');
    expect(p).toMatchObject({ state: 'closed', close_reason: 'assigned', realized_pnl: 600 });
    expect(eventsOf(p)).toEqual([
      expect.objectContaining({ value_cents: 0, underlying_price: null, share_cost_cents: 6_000_000 }),
    ]);
    expect(alertsOf([r], 'assignment_shares')[0].detail).toMatch(
      /booked at the strike \(no latest trade of GOOGL could be read\)/,
    );
    expect(reports.flatMap((x) => x.errors)).toEqual([]);
  });

  it("reads the underlying's price once per underlying per sweep, and only when an exercise or assignment is booked", async () => {
    await start();
    const short = (id: string) =>
      h.open({
        recommendation_id: id,
        option_symbol: FUTURE_PUT,
        action: 'SELL',
        num_contracts: 1,
        exit_plan: NO_EXITS,
      });
    await short('a');
    await short('b');
    await h.open({ recommendation_id: 'c', num_contracts: 1, exit_plan: NO_EXITS });
    h.p.sim.setStockPrice('GOOGL', 290);
    const quiet = priceReads();
    await h.sweep();
    expect(priceReads()).toBe(quiet);
    // An expiry alone books no exercise or assignment: no price read.
    h.p.sim.expireContract(KEY_ID, FUTURE_SYMBOL); // the 340 call is out of the money at 290
    const r1 = await h.sweep();
    expect(r1.closed).toEqual([expect.objectContaining({ position_id: 'c', reason: 'expired' })]);
    expect(priceReads()).toBe(quiet);
    // Two records assigned in one sweep: one read of GOOGL.
    h.p.sim.assign(KEY_ID, FUTURE_PUT);
    const r2 = await sweepUntilClosed('a');
    expect(
      r2
        .flatMap((x) => x.closed)
        .map((c) => [c.position_id, c.reason])
        .sort(),
    ).toEqual([
      ['a', 'assigned'],
      ['b', 'assigned'],
    ]);
    expect(priceReads() - quiet).toBe(1);
    for (const id of ['a', 'b']) expect(await h.get(id)).toMatchObject({ realized_pnl: 300 - 1000 });
  });
});

describe('case 6: a partial assignment is booked', () => {
  const tenShorts = (id: string) =>
    h.open({
      recommendation_id: id,
      option_symbol: FUTURE_PUT,
      action: 'SELL',
      num_contracts: 10,
      exit_plan: { stop_loss_pct: 0.5, take_profit_pct: null, trailing_stop_pct: null },
    }); // sold 10 at 3.00: $3,000 premium

  it('4 of 10 short puts assigned: the 4 reach realized P&L at their value, the record keeps 6 open and managed; the 6 bought back add to it', async () => {
    await start();
    await tenShorts('p10');
    h.p.sim.setStockPrice('GOOGL', 298); // $2 in the money: the 4 cost (300 − 298) × 400 = $800 to buy back
    h.p.sim.assign(KEY_ID, FUTURE_PUT, { qty: 4 });
    expect(h.brokerQty(FUTURE_PUT)).toBe(-6);
    const r = await h.sweep();
    const p = await h.get('p10');
    // The 4: $1,200 premium kept less the $800 they are worth: +$400 (was: brought down to 6 at no P&L).
    expect(p).toMatchObject({ state: 'open', quantity: 6, realized_pnl: 400 });
    expect(eventsOf(p)).toEqual([
      {
        type: 'OPASN',
        contracts: 4,
        value_cents: 80_000,
        underlying_price: 298,
        shares: 400,
        share_cost_cents: 11_920_000,
      },
    ]);
    expect(alertsOf([r], 'broker_qty_mismatch')).toEqual([]);
    expect(alertsOf([r], 'assignment_shares')).toEqual([
      expect.objectContaining({
        symbol: FUTURE_PUT,
        detail:
          "assigned: 4 of 10 contracts delivered +400 GOOGL shares at 300, booked at 298.00 a share (GOOGL's latest trade); 6 contracts stay open and managed; not tracked by the pipeline",
      }),
    ]);
    // A further sweep books nothing again (the activity is on the ledger) and brings nothing down.
    const again = await h.sweep();
    expect(alertsOf([again], 'broker_qty_mismatch')).toEqual([]);
    expect(await h.get('p10')).toMatchObject({ state: 'open', quantity: 6, realized_pnl: 400 });
    // The 6 left are managed: their stop loss buys them back.
    h.mid(FUTURE_PUT, 4.75);
    for (let i = 0; i < 3 && (await h.get('p10'))?.state !== 'closed'; i++) await h.sweep();
    const exits = h.exitOrders();
    expect(exits.map((o) => [o.side, o.qty])).toEqual([['buy', '6']]);
    const fill = h.p.sim.orders(KEY_ID).find((o) => o.client_order_id === exits[0].client_order_id)!;
    const buyBack = Number(fill.filled_avg_price);
    const closed = await h.get('p10');
    expect(closed).toMatchObject({ state: 'closed', quantity: 0 });
    expect(closed!.realized_pnl).toBeCloseTo(400 + Math.round(6 * (3 - buyBack) * 100), 2);
    expect(h.brokerQty(FUTURE_PUT)).toBe(0);
  });

  it('with flatten_assigned_shares the shares each partial assignment delivered are sold, intent-free, never more than held', async () => {
    await start({ flatten_assigned_shares: true });
    await tenShorts('fl');
    h.p.sim.setStockPrice('GOOGL', 300);
    h.p.sim.assign(KEY_ID, FUTURE_PUT, { qty: 4 });
    const r1 = await h.sweep();
    expect(await h.get('fl')).toMatchObject({ state: 'open', quantity: 6, realized_pnl: 1200 });
    expect(sharesOrders()).toEqual([
      {
        symbol: 'GOOGL',
        qty: '400',
        side: 'sell',
        type: 'market',
        time_in_force: 'day',
        client_order_id: 'ops-main-sh-fl',
      },
    ]);
    expect(alertsOf([r1], 'assignment_shares')[0].detail).toMatch(
      /^assigned: 4 of 10 contracts delivered \+400 GOOGL shares at 300, booked at 300\.00 a share .*; flatten order ops-main-sh-fl sent: sell 400$/,
    );
    expect(h.brokerQty('GOOGL')).toBe(0);
    await h.sweep();
    expect(sharesOrders()).toHaveLength(1);
    // Three more assigned; 100 of their 300 shares are sold by hand before the sweep sees it.
    h.p.sim.assign(KEY_ID, FUTURE_PUT, { qty: 3 });
    h.p.sim.setPosition(KEY_ID, 'GOOGL', 200, 300);
    const r2 = await h.sweep();
    expect(await h.get('fl')).toMatchObject({ state: 'open', quantity: 3, realized_pnl: 2100 });
    expect(sharesOrders().map((o) => [o.client_order_id, o.side, o.qty])).toEqual([
      ['ops-main-sh-fl', 'sell', '400'],
      ['ops-main-sh2-fl', 'sell', '200'],
    ]);
    expect(alertsOf([r2], 'assignment_shares')[0].detail).toMatch(
      /^assigned: 3 of 6 contracts delivered \+300/,
    );
    expect(h.brokerQty('GOOGL')).toBe(0);
  });

  it('two records on the contract, 4 of their 5 assigned: the oldest closes as assigned, the other keeps 1 open', async () => {
    await start();
    const short = (id: string, n: number) =>
      h.open({
        recommendation_id: id,
        option_symbol: FUTURE_PUT,
        action: 'SELL',
        num_contracts: n,
        exit_plan: NO_EXITS,
      });
    await short('old', 2);
    await short('young', 3);
    h.p.sim.setStockPrice('GOOGL', 300);
    h.p.sim.assign(KEY_ID, FUTURE_PUT, { qty: 4 });
    const r = await h.sweep();
    expect(await h.get('old')).toMatchObject({
      state: 'closed',
      close_reason: 'assigned',
      realized_pnl: 600,
    });
    expect(await h.get('young')).toMatchObject({ state: 'open', quantity: 1, realized_pnl: 600 });
    expect(alertsOf([r], 'broker_qty_mismatch')).toEqual([]);
    expect(alertsOf([r], 'closed_outside_pipeline')).toEqual([]);
    // The last one assigned later: the first activity is not booked again.
    h.p.sim.assign(KEY_ID, FUTURE_PUT);
    for (let i = 0; i < 2 && (await h.get('young'))?.state !== 'closed'; i++) await h.sweep();
    const young = await h.get('young');
    expect(young).toMatchObject({
      state: 'closed',
      close_reason: 'assigned',
      quantity: 0,
      realized_pnl: 900,
    });
    expect(young!.ledger!.events.map((e) => e.contracts)).toEqual([2, 1]);
  });

  describe('on paper the activities list the next trading day', () => {
    const ACTIVITIES = '/v2/account/activities';
    const kinds = (r: SweepReport) => r.alerts.map((a) => a.kind);

    it('the record waits (option_event_pending, nothing brought down), then the 4 are booked when the activity lists', async () => {
      await start();
      await tenShorts('pp');
      h.p.sim.setStockPrice('GOOGL', 300);
      h.p.sim.assign(KEY_ID, FUTURE_PUT, { qty: 4 }); // the position changes at once ...
      // ... the activity is not listed yet.
      h.p.sim.injectFault({ method: 'GET', path: ACTIVITIES, status: 200, body: [], times: 1 });
      const first = await h.sweep();
      expect(kinds(first)).toContain('option_event_pending');
      expect(kinds(first)).not.toContain('broker_qty_mismatch');
      expect(await h.get('pp')).toMatchObject({
        state: 'open',
        quantity: 10,
        realized_pnl: 0,
        missing_since: expect.any(String),
      });
      const next = await h.sweep(); // the activity has arrived
      expect(kinds(next)).not.toContain('broker_qty_mismatch');
      const p = await h.get('pp');
      expect(p).toMatchObject({ state: 'open', quantity: 6, realized_pnl: 1200 });
      expect(p!.missing_since ?? null).toBeNull();
    });

    it('still unexplained once the next trading day has begun: brought down; without shares delivered, at once', async () => {
      const clock = testClock(Date.parse('2026-12-02T16:00:00Z')); // a Wednesday, 11:00 New York
      await start({}, clock);
      await tenShorts('w');
      await clock.advance(60_000); // 'hand' is the younger record: the one brought down
      await tenShorts('hand');
      // 4 gone with shares in the account (an assignment?), but no activity ever says so.
      h.p.sim.setPosition(KEY_ID, FUTURE_PUT, -16, 3);
      h.p.sim.setPosition(KEY_ID, 'GOOGL', 400, 300);
      const first = await h.sweep();
      expect(kinds(first)).toContain('option_event_pending');
      expect(kinds(first)).not.toContain('broker_qty_mismatch');
      await clock.advance(Date.parse('2026-12-03T14:00:00Z') - clock.nowMs()); // Thursday 09:00 New York
      const early = kinds(await h.sweep());
      expect(early).not.toContain('broker_qty_mismatch');
      expect(early).not.toContain('option_event_pending'); // alerted once
      expect(await h.get('hand')).toMatchObject({ quantity: 10 });
      await clock.advance(Date.parse('2026-12-03T14:45:00Z') - clock.nowMs()); // the next trading day has begun
      const late = await h.sweep();
      expect(kinds(late)).toContain('broker_qty_mismatch');
      expect(await h.get('w')).toMatchObject({ state: 'open', quantity: 10 });
      expect(await h.get('hand')).toMatchObject({ state: 'open', quantity: 6, realized_pnl: 0 });
      // Bought back by hand with no shares in the account: brought down at the first sweep.
      h.p.sim.setPosition(KEY_ID, 'GOOGL', 0, 300);
      h.p.sim.setPosition(KEY_ID, FUTURE_PUT, -14, 3);
      const byHand = await h.sweep();
      expect(kinds(byHand)).toEqual(expect.arrayContaining(['broker_qty_mismatch']));
      expect(kinds(byHand)).not.toContain('option_event_pending');
      expect(await h.get('hand')).toMatchObject({ state: 'open', quantity: 4 });
    });
  });
});
