/**
 * Issue 14, end to end: protective stops resting at the broker (`exit_execution.broker_stop`). Real
 * handlers, dynalite, the Alpaca simulator over HTTP and the real SDK. Every test checks the raw request
 * bodies: no position_intent on any protective or closing order, the recorded symbol, the reducing side,
 * and never more sold than held.
 */
import { onRequest } from '../helpers/alpaca-sim';
import { KEY_ID, sentOrders } from '../helpers/pipeline';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { FUTURE_SYMBOL } from '../helpers/recommendations';

// A hang guard only (no assertion here reads the wall clock): real handlers, dynalite and the simulator
// take many times longer on a loaded machine.
jest.setTimeout(120_000);

let h: ExitHarness;
async function start(exec: Record<string, unknown> = { broker_stop: 'stop' }) {
  h = await startExitHarness({
    claimLeaseSeconds: 120,
    account: {
      name: 'main',
      limits: { max_open_positions: 50 },
      exit_defaults: { close_before_expiry_days: 1, take_profit_pct: null },
      exit_execution: exec,
    },
  });
  h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
}
afterEach(async () => {
  if (!h) return;
  expectEveryReducingOrderSafe();
  h.expectEveryCloseSafe();
  h.expectNoShort();
  await h.close();
});

const STOP_ID = /^ops-main-s(\d+)-/;
/** Protective stop orders the client POSTed (raw bodies), oldest first. */
const stopPosts = () => sentOrders(h.p.sim).filter((o) => STOP_ID.test(String(o.client_order_id)));
/** PATCH requests (raw bodies), oldest first. */
const patches = () =>
  h.p.sim.requests
    .filter((r) => r.method === 'PATCH')
    .map((r) => JSON.parse(r.rawBody) as Record<string, unknown>);
/** The account's orders at the simulator, by client id prefix. */
const simOrders = (re: RegExp) => h.p.sim.orders(KEY_ID).filter((o) => re.test(String(o.client_order_id)));
const workingStop = () =>
  simOrders(STOP_ID).find(
    (o) => !['filled', 'canceled', 'replaced', 'expired', 'rejected'].includes(String(o.status)),
  );

/**
 * Rules 1-3 on every protective order and replacement: intent-free, the opening order's symbol, the
 * reducing side, gtc; and the contracts sold (fills of every sell) never exceed the contracts bought.
 */
function expectEveryReducingOrderSafe(): void {
  const opens = sentOrders(h.p.sim).filter((o) => /^ops-main-o-/.test(String(o.client_order_id)));
  for (const o of stopPosts()) {
    const positionId = String(o.client_order_id).replace(STOP_ID, '');
    const opening = opens.find((x) => x.client_order_id === `ops-main-o-${positionId}`);
    expect(o).not.toHaveProperty('position_intent');
    expect(o).toMatchObject({ symbol: opening!.symbol, side: 'sell', time_in_force: 'gtc' });
    expect(['stop', 'stop_limit']).toContain(o.type);
  }
  for (const body of patches()) {
    expect(body).not.toHaveProperty('position_intent');
    expect(String(body.client_order_id)).toMatch(STOP_ID);
  }
  const filled = (side: string) =>
    h.p.sim
      .orders(KEY_ID)
      .filter((o) => o.side === side)
      .reduce((n, o) => n + Number(o.filled_qty), 0);
  expect(filled('sell')).toBeLessThanOrEqual(filled('buy'));
}

describe('placement', () => {
  it('the sweep that learns the fill rests ONE gtc stop for the confirmed qty at the plan level on the grid', async () => {
    await start();
    // Entry 2.10 (the ask); stop_loss 25%: 1.575, aligned up (protective) to 1.60.
    await h.open({ recommendation_id: 'a', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    expect(stopPosts()).toEqual([
      {
        symbol: FUTURE_SYMBOL,
        qty: '2',
        side: 'sell',
        type: 'stop',
        time_in_force: 'gtc',
        stop_price: '1.6',
        client_order_id: 'ops-main-s1-a',
      },
    ]);
    expect(await h.get('a')).toMatchObject({
      broker_stop: {
        client_order_id: 'ops-main-s1-a',
        stop_price: 1.6,
        qty: 2,
        order_id: expect.any(String),
      },
    });
    // Further sweeps with nothing moving send nothing more.
    await h.sweep();
    await h.sweep();
    expect(stopPosts()).toHaveLength(1);
    expect(patches()).toHaveLength(0);
    expect(h.p.sim.positions(KEY_ID)[0]).toMatchObject({ qty: '2', qty_available: '0' });
  });
});

describe('(a) the pipeline is down: the resting stop closes the position', () => {
  it('no sweep runs, the bid falls through the stop, the broker sells; the next sweep learns stop_loss with P&L', async () => {
    await start();
    await h.open({ recommendation_id: 'a', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 1.5, ask: 1.6 });
    // No sweep: the broker alone closed it.
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(0);
    expect(simOrders(STOP_ID)).toEqual([
      expect.objectContaining({ status: 'filled', filled_qty: '2', filled_avg_price: '1.5' }),
    ]);
    const r = await h.sweep();
    expect(r.closed).toEqual([{ position_id: 'a', reason: 'stop_loss' }]);
    expect(r.alerts).toEqual([]);
    expect(r.ordersSent).toEqual([]);
    expect(await h.get('a')).toMatchObject({
      state: 'closed',
      close_reason: 'stop_loss',
      realized_pnl: -120, // (1.50 - 2.10) x 2 x 100
      exit_price: 1.5,
    });
    expect((await h.get('a'))!.broker_stop ?? null).toBeNull();
    expect(h.exitOrders()).toEqual([]);
  });
});

describe('(b) a take profit races the resting stop', () => {
  it('the stop fills while its cancel is on the way: the fill is learned and nothing more is sold', async () => {
    await start();
    await h.open({
      recommendation_id: 'b',
      num_contracts: 3,
      exit_plan: { stop_loss_pct: 0.25, take_profit_pct: 0.5 },
    });
    const stop = workingStop()!;
    h.mid(FUTURE_SYMBOL, 3.5); // bid 3.45 >= 3.15: take profit due
    h.p.sim.injectFault({ method: 'DELETE', path: /^\/v2\/orders\//, delayMs: 400 });
    // The stop fires the instant its cancel reaches the broker, before the broker acts on the cancel.
    let filledFirst = false;
    const stopListening = onRequest(h.p.sim, (req) => {
      if (req.method !== 'DELETE' || filledFirst) return;
      h.p.sim.fillOrder(String(stop.id), { price: 1.6 });
      filledFirst = true;
    });
    const r = await h.sweep();
    stopListening();
    expect(filledFirst).toBe(true);
    expect(h.p.sim.requests.find((x) => x.method === 'DELETE')?.status).toBe(422);
    expect(r.ordersSent).toEqual([]);
    expect(h.exitOrders()).toEqual([]);
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(0);
    expect(await h.get('b')).toMatchObject({
      state: 'closed',
      close_reason: 'stop_loss',
      realized_pnl: -150,
    });
    await h.sweep();
    expect(h.exitOrders()).toEqual([]);
  });

  it('without a race the take profit cancels the stop, waits for the cancel, then sells the freed qty', async () => {
    await start();
    await h.open({
      recommendation_id: 'c',
      num_contracts: 3,
      exit_plan: { stop_loss_pct: 0.25, take_profit_pct: 0.5 },
    });
    h.mid(FUTURE_SYMBOL, 3.5);
    const r = await h.sweep();
    expect(r.cancelled).toEqual([
      expect.objectContaining({ position_id: 'c', client_order_id: 'ops-main-s1-c' }),
    ]);
    expect(r.ordersSent).toEqual([
      expect.objectContaining({ position_id: 'c', qty: 3, reason: 'take_profit' }),
    ]);
    // The DELETE went out before the close.
    const order = h.p.sim.requests.map((x) => x.method + ' ' + x.path);
    expect(order.findIndex((x) => x.startsWith('DELETE'))).toBeLessThan(order.lastIndexOf('POST /v2/orders'));
    await h.sweep();
    expect(await h.get('c')).toMatchObject({ state: 'closed', close_reason: 'take_profit' });
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(0);
  });
});

describe('(c) a trailing stop ratchets at the broker', () => {
  it('three PATCHes (each at least one tick), none for a move under a tick; the fill at the last level', async () => {
    await start();
    await h.open({
      recommendation_id: 't',
      num_contracts: 2,
      exit_plan: { stop_loss_pct: 0.5, trailing_stop_pct: 0.2 },
    });
    // The trail starts at the entry: 2.10 x 0.8 = 1.68 → 1.70 (above the 1.05 stop loss).
    expect(stopPosts()).toEqual([expect.objectContaining({ stop_price: '1.7', qty: '2' })]);
    for (const m of [2.55, 3.05, 3.5]) {
      h.mid(FUTURE_SYMBOL, m);
      await h.sweep();
    }
    h.mid(FUTURE_SYMBOL, 3.54); // bid 3.49: 2.792 → 2.80, the level already resting: no PATCH
    await h.sweep();
    // bids 2.50, 3.00, 3.45: 2.00, 2.40, 2.76 → 2.80
    expect(patches()).toEqual([
      { client_order_id: 'ops-main-s2-t', stop_price: '2' },
      { client_order_id: 'ops-main-s3-t', stop_price: '2.4' },
      { client_order_id: 'ops-main-s4-t', stop_price: '2.8' },
    ]);
    expect(simOrders(STOP_ID).map((o) => o.status)).toEqual(['replaced', 'replaced', 'replaced', 'new']);
    expect(await h.get('t')).toMatchObject({
      broker_stop: { client_order_id: 'ops-main-s4-t', stop_price: 2.8, reason: 'trailing_stop' },
    });
    h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.75, ask: 2.85 }); // through 2.80: the broker sells at the bid
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(0);
    const r = await h.sweep();
    expect(r.closed).toEqual([{ position_id: 't', reason: 'trailing_stop' }]);
    expect(await h.get('t')).toMatchObject({ state: 'closed', exit_price: 2.75, realized_pnl: 130 });
    expect(h.exitOrders()).toEqual([]);
  });
});

describe('(d) broker_stop stop_limit', () => {
  it('puts the limit the slippage beyond the stop, on the tick grid; it fills when the bid is within it', async () => {
    await start({ broker_stop: 'stop_limit', broker_stop_limit_slippage_pct: 0.1 });
    await h.open({ recommendation_id: 'l', num_contracts: 1, exit_plan: { stop_loss_pct: 0.25 } });
    // stop 1.60; limit 1.60 x 0.9 = 1.44, down on the grid: 1.40.
    expect(stopPosts()).toEqual([
      expect.objectContaining({
        type: 'stop_limit',
        stop_price: '1.6',
        limit_price: '1.4',
        time_in_force: 'gtc',
      }),
    ]);
    h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 1.45, ask: 1.55 });
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(0);
    await h.sweep();
    expect(await h.get('l')).toMatchObject({ state: 'closed', close_reason: 'stop_loss' });
  });

  it('a triggered stop_limit that cannot fill (the bid gapped below its limit) is cancelled and the sweep closes', async () => {
    await start({ broker_stop: 'stop_limit', broker_stop_limit_slippage_pct: 0.1 });
    await h.open({ recommendation_id: 'g', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 1.2, ask: 1.3 });
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(2); // triggered, but a 1.40 limit does not fill at 1.20
    const r = await h.sweep();
    expect(r.cancelled).toEqual([expect.objectContaining({ client_order_id: 'ops-main-s1-g' })]);
    expect(r.ordersSent).toEqual([
      expect.objectContaining({ position_id: 'g', qty: 2, reason: 'stop_loss' }),
    ]);
    await h.sweep();
    expect(await h.get('g')).toMatchObject({ state: 'closed', close_reason: 'stop_loss' });
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(0);
  });
});

describe('(e) a resting stop cancelled outside the pipeline', () => {
  it('is alerted and placed again; cancelled again as the price falls through, the sweep’s own stop fires', async () => {
    await start();
    await h.open({ recommendation_id: 'e', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    h.p.sim.cancelOrder(String(workingStop()!.id));
    const r1 = await h.sweep();
    expect(r1.alerts.map((a) => a.kind)).toEqual(['broker_stop_missing']);
    expect(stopPosts().map((o) => o.client_order_id)).toEqual(['ops-main-s1-e', 'ops-main-s2-e']);
    expect(workingStop()).toMatchObject({ client_order_id: 'ops-main-s2-e', qty: '2' });
    h.p.sim.cancelOrder(String(workingStop()!.id));
    h.mid(FUTURE_SYMBOL, 1.3);
    const r2 = await h.sweep();
    expect(r2.alerts.map((a) => a.kind)).toEqual(['broker_stop_missing']);
    expect(r2.ordersSent).toEqual([
      expect.objectContaining({ position_id: 'e', qty: 2, reason: 'stop_loss' }),
    ]);
    await h.sweep();
    expect(await h.get('e')).toMatchObject({ state: 'closed', close_reason: 'stop_loss' });
    expect(stopPosts()).toHaveLength(2);
  });
});

describe('the kill switch', () => {
  it('--flatten cancels each resting stop (confirmed) before closing, and sells no more than held', async () => {
    await start();
    await h.open({ recommendation_id: 'f1', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    await h.open({ recommendation_id: 'f2', num_contracts: 1, exit_plan: { stop_loss_pct: 0.4 } });
    expect(simOrders(STOP_ID).filter((o) => o.status === 'new')).toHaveLength(2);
    await h.p.table.store.putControl('main', { trading_enabled: false, flatten: true });
    const r = await h.sweep();
    expect(r.cancelled.map((c) => c.client_order_id).sort()).toEqual(['ops-main-s1-f1', 'ops-main-s1-f2']);
    expect(r.ordersSent.map((o) => [o.position_id, o.qty, o.reason]).sort()).toEqual([
      ['f1', 2, 'flatten'],
      ['f2', 1, 'flatten'],
    ]);
    await h.sweep();
    expect(await h.get('f1')).toMatchObject({ state: 'closed', close_reason: 'flatten' });
    expect(await h.get('f2')).toMatchObject({ state: 'closed', close_reason: 'flatten' });
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(0);
    expect(workingStop()).toBeUndefined();
  });
});

describe('a partial exit', () => {
  it('frees the stop, sells its part, and the stop rests again for what is left', async () => {
    await start();
    await h.open({
      recommendation_id: 'p',
      num_contracts: 4,
      exit_plan: { stop_loss_pct: 0.25, partial_exits: [{ gain_pct: 0.3, fraction: 0.5 }] },
    });
    h.mid(FUTURE_SYMBOL, 2.9); // bid 2.85 >= 2.73
    const r = await h.sweep();
    expect(r.ordersSent).toEqual([expect.objectContaining({ qty: 2, reason: 'partial_exit' })]);
    await h.sweep();
    expect(await h.get('p')).toMatchObject({ state: 'open', quantity: 2 });
    expect(workingStop()).toMatchObject({ client_order_id: 'ops-main-s2-p', qty: '2', stop_price: '1.6' });
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(2);
  });
});

describe('the request budget', () => {
  it('at most 20 replacements a sweep; the rest follow in the next sweep', async () => {
    await start();
    const ids = Array.from({ length: 22 }, (_, i) => `r${i}`);
    for (const id of ids) {
      await h.submit({
        recommendation_id: id,
        num_contracts: 1,
        exit_plan: { stop_loss_pct: 0.5, trailing_stop_pct: 0.2 },
      });
    }
    await h.sweep();
    expect(stopPosts()).toHaveLength(22);
    h.mid(FUTURE_SYMBOL, 2.55); // bid 2.50: every trail 1.70 → 2.00
    await h.sweep();
    expect(patches()).toHaveLength(20);
    await h.sweep();
    expect(patches()).toHaveLength(22);
    expect(
      simOrders(STOP_ID)
        .filter((o) => o.status === 'new')
        .map((o) => o.stop_price),
    ).toEqual(Array.from({ length: 22 }, () => '2'));
  }, 120_000); // 22 positions opened one at a time: a hang guard sized for a loaded machine
});

describe('broker_stop off', () => {
  it('places nothing at the broker (today’s behaviour)', async () => {
    await start({});
    await h.open({ recommendation_id: 'n', num_contracts: 1, exit_plan: { stop_loss_pct: 0.25 } });
    await h.sweep();
    expect(stopPosts()).toEqual([]);
    h.mid(FUTURE_SYMBOL, 1.3);
    const r = await h.sweep();
    expect(r.ordersSent).toEqual([expect.objectContaining({ reason: 'stop_loss' })]);
  });

  it('turned off while a stop rests: the next sweep cancels it (confirmed) and the sweep’s own stop protects', async () => {
    await start();
    await h.open({ recommendation_id: 'off', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    await h.sweep();
    expect(workingStop()).toMatchObject({ type: 'stop', qty: '2' });

    // The operator turns the feature off (a redeploy: new containers read the new configuration).
    const config = JSON.parse(h.p.env.ACCOUNT_CONFIG) as Record<string, unknown>;
    h.p.env.ACCOUNT_CONFIG = JSON.stringify({ ...config, exit_execution: {} });
    h.coldSweeps();
    const r = await h.sweep();
    expect(r.cancelled).toEqual([
      expect.objectContaining({ position_id: 'off', why: 'broker_stop turned off' }),
    ]);
    expect(r.alerts).toEqual([]);
    expect(workingStop()).toBeUndefined();
    const after = await h.p.table.store.get('main', 'off');
    expect(after).toMatchObject({ state: 'open', quantity: 2 });
    expect(after!.broker_stop ?? null).toBeNull();

    await h.sweep();
    expect(stopPosts()).toHaveLength(1); // never placed again
    h.mid(FUTURE_SYMBOL, 1.3);
    const fired = await h.sweep();
    expect(fired.ordersSent).toEqual([expect.objectContaining({ reason: 'stop_loss', qty: 2 })]);
  });
});
