/**
 * Spreads managed by the sweep, end to end: the real open-order and exit-evaluator handlers, dynalite, the
 * Alpaca simulator over HTTP and the real SDK. Each test checks the raw request bodies the simulator
 * received: a close is one mleg order with no intent on any leg, never for more than every leg holds; a
 * leg gone (an early assignment, Alpaca's expiry-day sell-off of one leg) never leaves a short leg naked
 * by the pipeline's own orders, and is booked; the spread closed by the pipeline is flat on every leg.
 */
import { DynamoSpreadStore } from '../../shared/adapters/dynamo-spread-store';
import { spreadBooks, type SpreadPosition } from '../../shared/domain/spread-position';
import { spreadExitClaimed } from '../../shared/domain/spread-lifecycle';
import type { SweepReport } from '../../shared/use-cases/sweep';
import { spreadClosedEvent } from '../../shared/use-cases/emit-trade-event';
import { tradeEventSubject } from '../../shared/domain/trade-events';
import { contractFor } from '../helpers/contracts';
import {
  KEY_ID,
  SECRET,
  lambdaContext,
  loadOpenOrderHandlerWith,
  loadSweepHandlerWith,
  sentOrders,
  sqsEvent,
  sqsRecord,
  startPipeline,
  type Pipeline,
} from '../helpers/pipeline';
import { testClock, type TestClock } from '../helpers/test-clock';

jest.setTimeout(60_000);

let p: Pipeline;
let clock: TestClock;
let spreads: DynamoSpreadStore;
let LONG: string;
let SHORT: string;
let sweep: () => Promise<SweepReport>;

/** A Wednesday, 11:00 New York. */
const START = Date.parse('2026-12-02T16:00:00Z');

async function start(
  opts: { startMs?: number; daysToExpiry?: number; account?: Record<string, unknown> } = {},
) {
  clock = testClock(opts.startMs ?? START);
  p = await startPipeline({
    now: clock.now,
    account: {
      limits: { max_risk_per_spread: 2000, max_open_positions: 20, min_days_to_expiry: 0 },
      exit_defaults: { close_before_expiry_days: null, max_hold_minutes: null },
      ...opts.account,
    },
  });
  const days = opts.daysToExpiry ?? 60;
  LONG = contractFor('GOOGL', days, 'C', 340, clock.now());
  SHORT = contractFor('GOOGL', days, 'C', 350, clock.now());
  p.sim.setQuote(LONG, { bid: 5.0, ask: 5.2 });
  p.sim.setQuote(SHORT, { bid: 2.0, ask: 2.1 });
  p.sim.setStockPrice('GOOGL', 345);
  spreads = new DynamoSpreadStore(p.table.client, p.table.tableName, p.table.store);
  const handler = loadSweepHandlerWith(p, { now: clock.now, pollSleep: clock.sleep });
  sweep = () => handler();
}
afterEach(async () => {
  expectEveryOrderSafe();
  await p.close();
});

async function openVertical(over: Record<string, unknown> = {}): Promise<SpreadPosition> {
  const body = JSON.stringify({
    recommendation_id: 'sp-1',
    ticker: 'GOOGL',
    legs: [
      { option_symbol: LONG, side: 'buy', ratio_qty: 1 },
      { option_symbol: SHORT, side: 'sell', ratio_qty: 1 },
    ],
    num_contracts: 2,
    order_type: 'market',
    exit_plan: { stop_loss_pct: 0.5, take_profit_pct: 0.5 },
    created_at: clock.now().toISOString(),
    ...over,
  });
  const open = loadOpenOrderHandlerWith(p, { now: clock.now });
  const res = await open(sqsEvent([sqsRecord(body, { messageId: 'm1' })]), lambdaContext);
  expect(res.batchItemFailures).toEqual([]);
  await sweep();
  const sp = await spreads.getSpread('main', 'sp-1');
  expect(sp).toMatchObject({ state: 'open' });
  return sp!;
}

const get = async () => (await spreads.getSpread('main', 'sp-1'))!;
const qty = (symbol: string) => Number(p.sim.positions(KEY_ID).find((x) => x.symbol === symbol)?.qty ?? 0);
/** Every order the pipeline sent after the opening one, raw. */
const closes = () => sentOrders(p.sim).filter((o) => String(o.client_order_id).startsWith('ops-main-x'));
const kinds = (r: SweepReport) => r.alerts.map((a) => a.kind);

/** Rule 1 on the opening order's legs; no intent anywhere on a close; closes only on the spread's contracts. */
function expectEveryOrderSafe(): void {
  for (const o of sentOrders(p.sim)) {
    const opening = String(o.client_order_id).startsWith('ops-main-o-');
    const legs = (o.legs ?? []) as Array<Record<string, unknown>>;
    if (opening) {
      for (const l of legs) expect(['buy_to_open', 'sell_to_open']).toContain(l.position_intent);
      continue;
    }
    expect(o).not.toHaveProperty('position_intent');
    for (const l of legs) expect(l).not.toHaveProperty('position_intent');
    const symbols = legs.length ? legs.map((l) => l.symbol) : [o.symbol];
    for (const s of symbols) expect([LONG, SHORT, 'GOOGL']).toContain(s);
  }
}

describe('a spread managed on its net executable value', () => {
  it('learns the fill on every leg, then takes profit as one mleg close with no intent on any leg; books it to the cent', async () => {
    await start();
    const sp = await openVertical();
    const books = spreadBooks(sp);
    expect(books.legs.map((l) => l.held)).toEqual([2, 2]);
    expect(books.net_open_per_share).toBe(3.2); // the long's ask 5.20 less the short's bid 2.00

    // Executable net 7.00 − 2.10 = 4.90: a 53% gain on the 3.20 debit (the mids would say 5.05).
    p.sim.setQuote(LONG, { bid: 7.0, ask: 7.2 });
    const r = await sweep();
    expect(r.ordersSent).toEqual([
      expect.objectContaining({ client_order_id: 'ops-main-x1-sp-1', qty: 2, reason: 'take_profit' }),
    ]);
    expect(closes()).toEqual([
      {
        order_class: 'mleg',
        qty: '2',
        type: 'limit',
        limit_price: '-4.90',
        time_in_force: 'day',
        client_order_id: 'ops-main-x1-sp-1',
        legs: [
          { symbol: LONG, ratio_qty: '1', side: 'sell' },
          { symbol: SHORT, ratio_qty: '1', side: 'buy' },
        ],
      },
    ]);
    // While open, the day's P&L values the legs at their executable sides: (7.00 − 2.10 − 3.20) × 200 = +$340.
    expect(r.dayPnl).toMatchObject({ day_pnl_usd: 340 });
    const after = await sweep();
    const closed = await get();
    expect(closed).toMatchObject({ state: 'closed', close_reason: 'take_profit', pending_exit: null });
    // Closed: the day's books count it as realized, from the legs' day figures (the daily loss breaker's figure).
    expect(after.dayPnl).toMatchObject({ realized_usd: 340, unrealized_usd: 0, day_pnl_usd: 340 });
    // (4.90 − 3.20) × 2 × 100 = $340.00.
    expect(spreadBooks(closed).realized_before_fees_cents).toBe(34_000);
    const event = spreadClosedEvent(closed, 'take_profit', closed.closed_at!);
    expect(event).toMatchObject({
      type: 'spread_closed',
      realized_cents: 34_000,
      legs: [`long 1 ${LONG}`, `short 1 ${SHORT}`],
    });
    expect(tradeEventSubject(event)).toBe('[main] closed spread sp-1 (take_profit) +$340.00');
    expect([qty(LONG), qty(SHORT)]).toEqual([0, 0]);
    expect(closes()).toHaveLength(1);
  });

  it('a close is never sent for more than every leg holds available: a working order on one leg holds 1 of 2', async () => {
    await start();
    await openVertical();
    // Someone's working order holds one of the short leg's contracts.
    await fetch(`${p.sim.url}/v2/orders`, {
      method: 'POST',
      headers: {
        'APCA-API-KEY-ID': KEY_ID,
        'APCA-API-SECRET-KEY': SECRET,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        symbol: SHORT,
        qty: '1',
        side: 'buy',
        type: 'limit',
        limit_price: '0.05',
        time_in_force: 'day',
        client_order_id: 'by-hand-1',
      }),
    });
    p.sim.setQuote(LONG, { bid: 7.0, ask: 7.2 });
    await sweep();
    expect(closes()).toHaveLength(1);
    expect(closes()[0]).toMatchObject({ order_class: 'mleg', qty: '1' });
  });

  it('stops out on the net value, and two sweeps at once never close it twice', async () => {
    await start();
    await openVertical();
    p.sim.setQuote(LONG, { bid: 3.0, ask: 3.2 }); // 3.00 − 2.10 = 0.90: a 72% loss of the 3.20 debit
    const other = loadSweepHandlerWith(p, { now: clock.now, pollSleep: clock.sleep });
    const [a, b] = await Promise.all([sweep(), other()]);
    expect([...a.ordersSent, ...b.ordersSent]).toHaveLength(1);
    expect(closes()).toHaveLength(1);
    expect(closes()[0]).toMatchObject({ qty: '2', limit_price: '-0.90' });
  });
});

describe('a leg gone', () => {
  it('an early assignment of the short leg: booked, alerted orphan_leg, the delivered short shares bought back before the long is sold; flat on every leg', async () => {
    await start();
    await openVertical({ exit_plan: { stop_loss_pct: null, take_profit_pct: null } });
    p.sim.assign(KEY_ID, SHORT); // both short calls assigned: 200 GOOGL delivered short at 350
    expect(qty('GOOGL')).toBe(-200);
    const first = await sweep();
    expect(kinds(first)).toContain('orphan_leg');
    // The delivered shares are the spread's (its unwind buys them back): neither untracked nor unexpected.
    expect(kinds(first)).not.toContain('unexpected_short');
    expect(kinds(first)).not.toContain('untracked_position');
    const sp = await get();
    const shortLeg = sp.legs.find((l) => l.option_symbol === SHORT)!;
    expect(shortLeg.ledger.events.map((e) => [e.type, e.contracts, e.shares])).toEqual([['OPASN', 2, -200]]);
    // The first order: the short shares bought back (the long calls still cover them meanwhile).
    expect(closes()).toEqual([
      expect.objectContaining({ symbol: 'GOOGL', side: 'buy', qty: '200', type: 'market' }),
    ]);
    for (let i = 0; i < 4 && (await get()).state !== 'closed'; i++) await sweep();
    const sells = closes().filter((o) => o.symbol === LONG);
    expect(sells).toEqual([expect.objectContaining({ side: 'sell', qty: '2' })]);
    // Sold only after the buy-back filled.
    expect(closes().findIndex((o) => o.symbol === LONG)).toBeGreaterThan(
      closes().findIndex((o) => o.symbol === 'GOOGL'),
    );
    expect([qty(LONG), qty(SHORT), qty('GOOGL')]).toEqual([0, 0, 0]);
    expect(await get()).toMatchObject({ state: 'closed' });
  });

  it("Alpaca's expiry-day sell-off of the long leg: the naked short is bought back at once, nothing on the gone leg", async () => {
    // Expiry day, 15:16 New York: the pipeline was down at 15:10; Alpaca sold the long leg alone.
    const expiryDay = Date.parse('2026-12-04T15:00:00Z'); // Friday 10:00 New York
    await start({ startMs: expiryDay, daysToExpiry: 0 });
    await openVertical({ exit_plan: { stop_loss_pct: null, take_profit_pct: null } });
    await clock.advance(Date.parse('2026-12-04T20:16:00Z') - clock.nowMs());
    // Alpaca's own order (not the pipeline's id) sells the long leg alone, at the bid.
    p.sim.liquidate(KEY_ID, LONG);
    expect(qty(LONG)).toBe(0);
    const r = await sweep();
    expect(kinds(r)).toContain('orphan_leg');
    expect(closes()).toEqual([expect.objectContaining({ symbol: SHORT, side: 'buy', qty: '2' })]);
    for (let i = 0; i < 3 && (await get()).state !== 'closed'; i++) await sweep();
    expect([qty(LONG), qty(SHORT)]).toEqual([0, 0]);
    expect(closes().filter((o) => o.symbol === LONG)).toEqual([]);
    const sp = await get();
    expect(sp.state).toBe('closed');
    // The sell-off booked on the long leg at its price (5.00), not at cost.
    const longLeg = sp.legs.find((l) => l.option_symbol === LONG)!;
    const theirs = longLeg.ledger.orders.filter((o) => !o.client_order_id.startsWith('ops-main-'));
    expect(theirs.map((o) => [o.side, o.filled_qty, o.filled_cents])).toEqual([['sell', 2, 1_000_00]]);
  });

  it("with Alpaca's sell-off of short legs scheduled from 15:15, the pipeline's 15:10 close leaves it nothing to sell", async () => {
    const expiryDay = Date.parse('2026-12-04T15:00:00Z');
    await start({ startMs: expiryDay, daysToExpiry: 0 });
    p.sim.setExpiryDayLiquidation({ symbols: 'short_legs' });
    await openVertical({ exit_plan: { stop_loss_pct: null, take_profit_pct: null } });
    await clock.advance(Date.parse('2026-12-04T20:10:00Z') - clock.nowMs()); // 15:10
    await sweep(); // the close as a unit
    await clock.advance(60_000);
    await sweep(); // its fill learnt
    await clock.advance(5 * 60_000); // 15:16: the sell-off runs
    p.sim.setQuote(LONG, { bid: 5.0, ask: 5.2 });
    expect(await get()).toMatchObject({ state: 'closed', close_reason: 'expiry' });
    expect([qty(LONG), qty(SHORT)]).toEqual([0, 0]);
    const theirs = p.sim.orders(KEY_ID).filter((o) => !String(o.client_order_id).startsWith('ops-main-'));
    expect(theirs).toEqual([]);
  });

  it('on expiry day the spread is closed as a unit from 15:10 New York time', async () => {
    const expiryDay = Date.parse('2026-12-04T15:00:00Z');
    await start({ startMs: expiryDay, daysToExpiry: 0 });
    await openVertical({ exit_plan: { stop_loss_pct: null, take_profit_pct: null } });
    await clock.advance(Date.parse('2026-12-04T20:09:00Z') - clock.nowMs()); // 15:09
    await sweep();
    expect(closes()).toEqual([]);
    await clock.advance(60_000); // 15:10
    const r = await sweep();
    expect(r.ordersSent).toEqual([expect.objectContaining({ reason: 'expiry', qty: 2 })]);
    expect(closes()[0]).toMatchObject({ order_class: 'mleg', qty: '2' });
  });
});

describe('between full passes', () => {
  it("a spread's stop on the net value is sent by the next poll within the minute (no resting stop exists for mleg)", async () => {
    await start({ account: { sweep_poll_seconds: 2 } });
    await openVertical();
    const t0 = clock.nowMs();
    // A 7 s window: polls at 2 s and 4 s; the net value falls through the stop at 3 s.
    const nextDueMs = t0 + 7_000 + 5_000;
    clock.at(t0 + 3_000, () => p.sim.setQuote(LONG, { bid: 3.0, ask: 3.2 }));
    const handler = loadSweepHandlerWith(p, { now: clock.now, pollSleep: clock.sleep });
    const report = await handler({
      'detail-type': 'Scheduled Event',
      time: new Date(nextDueMs - 60_000).toISOString(),
    });
    expect(report.polls).toBe(2);
    expect(report.ordersSent).toEqual([
      expect.objectContaining({ position_id: 'sp-1', reason: 'stop_loss', qty: 2 }),
    ]);
    expect(closes()).toEqual([
      expect.objectContaining({ order_class: 'mleg', qty: '2', limit_price: '-0.90' }),
    ]);
  });
});

describe('one exit step, at most one order (safety rule 4)', () => {
  it('a lost reply to the mleg close: the next sweeps look it up and never send it again', async () => {
    await start();
    await openVertical();
    p.sim.setQuote(LONG, { bid: 7.0, ask: 7.2 });
    p.sim.injectFault({ method: 'POST', path: '/v2/orders', lostReply: true });
    await sweep().catch(() => undefined);
    expect(closes()).toHaveLength(1);
    await clock.advance(130_000); // past the claim lease
    await sweep();
    await sweep();
    expect(closes()).toHaveLength(1);
    expect(await get()).toMatchObject({ state: 'closed', close_reason: 'take_profit' });
  });

  it('a 503 before acceptance: the next sweep looks the order up, finds none, and sends the same id once', async () => {
    await start();
    await openVertical();
    p.sim.setQuote(LONG, { bid: 7.0, ask: 7.2 });
    p.sim.injectFault({ method: 'POST', path: '/v2/orders', status: 503 });
    await sweep();
    const first = await get();
    expect(first.pending_exit).toMatchObject({ seq: 1, order_id: null, send_failed_at: expect.any(String) });
    await sweep();
    const ids = sentOrders(p.sim)
      .map((o) => o.client_order_id)
      .filter((id) => String(id).startsWith('ops-main-x'));
    // The POST the 503 answered never reached the book; the one sent again used the same id.
    expect(ids).toEqual(['ops-main-x1-sp-1', 'ops-main-x1-sp-1']);
    expect(p.sim.requestsTo('GET', '/v2/orders:by_client_order_id').length).toBeGreaterThan(0);
    await sweep();
    expect(await get()).toMatchObject({ state: 'closed' });
  });

  it('a close limit that does not fill is cancelled after reprice_after_seconds and sent again at the new net value', async () => {
    await start({ account: { exit_execution: { reprice_after_seconds: 30 } } });
    await openVertical();
    p.sim.setQuote(LONG, { bid: 7.0, ask: 7.2 });
    p.sim.setFillMode('manual');
    await sweep();
    expect(closes().map((o) => o.limit_price)).toEqual(['-4.90']);
    await clock.advance(31_000);
    const r = await sweep();
    expect(r.cancelled).toEqual([
      expect.objectContaining({ client_order_id: 'ops-main-x1-sp-1', why: 'reprice' }),
    ]);
    p.sim.setQuote(LONG, { bid: 6.9, ask: 7.1 });
    p.sim.setFillMode('immediate');
    await sweep(); // learns the cancel
    await sweep(); // prices it again
    expect(closes().map((o) => [o.client_order_id, o.limit_price])).toEqual([
      ['ops-main-x1-sp-1', '-4.90'],
      ['ops-main-x2-sp-1', '-4.80'],
    ]);
  });
});

describe('an opening limit', () => {
  it('that does not fill is cancelled after entry_order_timeout_minutes and closed not_filled; no close is ever sent', async () => {
    await start({
      account: {
        limits: { max_risk_per_spread: 2000, min_days_to_expiry: 0, entry_order_timeout_minutes: 10 },
      },
    });
    const body = JSON.stringify({
      recommendation_id: 'sp-1',
      ticker: 'GOOGL',
      legs: [
        { option_symbol: LONG, side: 'buy', ratio_qty: 1 },
        { option_symbol: SHORT, side: 'sell', ratio_qty: 1 },
      ],
      num_contracts: 1,
      order_type: 'limit',
      limit_price: 2.5, // the executable net is 3.20: it rests
      created_at: clock.now().toISOString(),
    });
    const open = loadOpenOrderHandlerWith(p, { now: clock.now });
    expect((await open(sqsEvent([sqsRecord(body)]), lambdaContext)).batchItemFailures).toEqual([]);
    await sweep();
    expect(await get()).toMatchObject({ state: 'pending' });
    await clock.advance(11 * 60_000);
    const r = await sweep();
    expect(r.cancelled).toEqual([expect.objectContaining({ why: 'entry_timeout' })]);
    await sweep();
    expect(await get()).toMatchObject({ state: 'closed', close_reason: 'not_filled' });
    expect(closes()).toEqual([]);
    expect([qty(LONG), qty(SHORT)]).toEqual([0, 0]);
  });
});

describe('a sweep that died between its claim and its POST', () => {
  it('leaves the step to the claim lease; then it is looked up, found missing, and sent once with its own id', async () => {
    await start();
    await openVertical();
    const sp = await get();
    // What a sweep killed right after its conditional write leaves behind: the step claimed, no order.
    const claimedAt = clock.now().toISOString();
    await spreads.replaceSpread(
      sp,
      spreadExitClaimed(
        sp,
        {
          seq: 1,
          client_order_id: 'ops-main-x1-sp-1',
          order_id: null,
          kind: 'mleg',
          qty: 2,
          reason: 'stop_loss',
          order_type: 'market',
          limit_price: null,
          claimed_at: claimedAt,
          placed_at: null,
          send_failed_at: null,
        },
        claimedAt,
      ),
    );
    await sweep();
    expect(closes()).toEqual([]); // the claim may belong to a sweep still running
    await clock.advance(121_000);
    await sweep();
    expect(closes().map((o) => [o.client_order_id, o.qty])).toEqual([['ops-main-x1-sp-1', '2']]);
    expect(p.sim.requestsTo('GET', '/v2/orders:by_client_order_id').length).toBeGreaterThan(0);
    await sweep();
    await sweep();
    expect(closes()).toHaveLength(1);
    expect(await get()).toMatchObject({ state: 'closed', close_reason: 'stop_loss' });
  });
});

describe('the daily loss breaker', () => {
  it("counts a spread's legs: a loss past max_daily_loss trips it, and with flatten_on_daily_loss the spread is closed as a unit", async () => {
    await start({
      account: {
        limits: {
          max_risk_per_spread: 2000,
          min_days_to_expiry: 0,
          max_daily_loss: 100,
          flatten_on_daily_loss: true,
        },
      },
    });
    await openVertical({ exit_plan: { stop_loss_pct: null, take_profit_pct: null } });
    p.sim.setQuote(LONG, { bid: 4.4, ask: 4.6 }); // (4.40 − 2.10 − 3.20) × 200 = −$180
    const r = await sweep();
    expect(r.dayPnl).toMatchObject({ day_pnl_usd: -180 });
    expect(kinds(r)).toContain('daily_loss');
    await sweep(); // flatten
    expect(closes()).toEqual([expect.objectContaining({ order_class: 'mleg', qty: '2' })]);
    await sweep();
    expect(await get()).toMatchObject({ state: 'closed', close_reason: 'flatten' });
  });
});

describe('a positions read missing every leg', () => {
  it('is not trusted at once: nothing is sent; a later read that agrees books the spread closed outside the pipeline, still with no order', async () => {
    await start();
    await openVertical();
    p.sim.setPosition(KEY_ID, LONG, 0, 5.2);
    p.sim.setPosition(KEY_ID, SHORT, 0, 2.0);
    const first = await sweep();
    expect(kinds(first)).toContain('broker_snapshot_suspect');
    expect(await get()).toMatchObject({ state: 'open', orphaned_at: expect.any(String) });
    const second = await sweep();
    expect(kinds(second)).toContain('closed_outside_pipeline');
    const sp = await get();
    expect(sp).toMatchObject({ state: 'closed', close_reason: 'closed_outside_pipeline' });
    // Booked at cost: nothing realized that the broker did not report.
    expect(spreadBooks(sp).realized_before_fees_cents).toBe(0);
    expect(closes()).toEqual([]);
  });
});

describe('shares an assignment delivered to a leg, gone at the broker', () => {
  it('are never traded: the long leg is sold, then the spread is alerted once (assignment_shares) and flagged', async () => {
    await start();
    await openVertical({ exit_plan: { stop_loss_pct: null, take_profit_pct: null } });
    p.sim.assign(KEY_ID, SHORT); // 200 GOOGL short delivered
    p.sim.setPosition(KEY_ID, 'GOOGL', 0, 350); // bought back by hand before any sweep
    const reports: SweepReport[] = [];
    for (let i = 0; i < 5; i++) reports.push(await sweep());
    // No order on the shares; the orphaned long calls sold once no short option is left.
    expect(closes().filter((o) => o.symbol === 'GOOGL')).toEqual([]);
    expect(closes().filter((o) => o.symbol === LONG)).toEqual([
      expect.objectContaining({ side: 'sell', qty: '2' }),
    ]);
    const alerts = reports.flatMap((r) => r.alerts).filter((a) => a.kind === 'assignment_shares');
    expect(alerts).toHaveLength(1);
    expect((await get()).flags).toContain('shares_unconfirmed');
    expect([qty(LONG), qty(SHORT), qty('GOOGL')]).toEqual([0, 0, 0]);
  });
});
