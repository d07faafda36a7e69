/**
 * Issue 26, the sweep's side: what real Alpaca accounts do that the sweep mishandled, each end to end (the
 * real exit-evaluator handler, dynalite, the Alpaca simulator over HTTP, the real SDK).
 */
import { createExitEvaluatorHandler } from '../../shared/handlers/exit-evaluator';
import { SILENT_LOG } from '../../shared/observability';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { KEY_ID, SECRET } from '../helpers/pipeline';
import { FUTURE_PUT, FUTURE_SYMBOL } from '../helpers/recommendations';
import { testClock } from '../helpers/test-clock';

let h: ExitHarness;
async function start(exec: Record<string, unknown> = {}, exitPlan: Record<string, unknown> = {}) {
  h = await startExitHarness({
    claimLeaseSeconds: 120,
    account: {
      name: 'main',
      limits: { max_open_positions: 100 },
      exit_defaults: { close_before_expiry_days: 1, take_profit_pct: null, ...exitPlan },
      exit_execution: { order_type: 'market', ...exec },
    },
  });
  h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
}
afterEach(async () => {
  if (!h) return;
  h.expectEveryCloseSafe();
  h.expectNoShort();
  await h.close();
});

describe('item 7: time rules and quote ages run on the broker clock', () => {
  it("a function clock 10 minutes ahead of the broker's does not make a fresh quote stale", async () => {
    await start({ max_quote_age_seconds: 120 });
    await h.open({
      recommendation_id: 'skew',
      num_contracts: 2,
      exit_plan: { take_profit_pct: 0.5, stop_loss_pct: null },
    });
    h.mid(FUTURE_SYMBOL, 4.0); // quoted now, on the broker's clock: take-profit is due
    const skewMs = 10 * 60_000;
    const sweep = createExitEvaluatorHandler(h.p.env, {
      log: SILENT_LOG,
      now: () => new Date(Date.now() + skewMs),
    });
    const report = await sweep({}, undefined);
    expect(report.held).not.toContainEqual(expect.objectContaining({ reason: 'stale_quote' }));
    expect(h.exitOrders()).toHaveLength(1);
    expect(await h.get('skew')).toMatchObject({ pending_exit: { reason: 'take_profit', qty: 2 } });
  });
});

/** An order placed by a person (the broker's own API, not the pipeline). */
async function placeByHand(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${h.p.sim.url}/v2/orders`, {
    method: 'POST',
    headers: { 'APCA-API-KEY-ID': KEY_ID, 'APCA-API-SECRET-KEY': SECRET, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe('item 5: a 403 "insufficient qty available" on an exit', () => {
  it('names the order that holds the contracts, sends the next step for what is available, never loops', async () => {
    await start();
    await h.open({
      recommendation_id: 'held',
      num_contracts: 2,
      exit_plan: { take_profit_pct: 0.5, stop_loss_pct: null },
    });
    // A person rests a sell of 1 of the 2 contracts, far above the market (it does not fill).
    const byHand = await placeByHand({
      symbol: FUTURE_SYMBOL,
      qty: '1',
      side: 'sell',
      type: 'limit',
      limit_price: '50.00',
      time_in_force: 'day',
      client_order_id: 'by-hand-1',
    });
    // The sweep's reads lag behind it (the position's qty_available, the open-order listing).
    const stale = h.p.sim
      .positions(KEY_ID)
      .map((x) => (x.symbol === FUTURE_SYMBOL ? { ...x, qty_available: x.qty } : x));
    h.p.sim.injectFault({ method: 'GET', path: '/v2/positions', status: 200, body: stale, times: 1 });
    h.p.sim.injectFault({
      method: 'GET',
      path: '/v2/orders',
      query: { status: 'open' },
      status: 200,
      body: [],
      times: 1,
    });
    h.mid(FUTURE_SYMBOL, 4.0); // take-profit is due
    const first = await h.sweep();
    const held = first.alerts.filter((a) => a.kind === 'exit_held_by_order');
    expect(held).toHaveLength(1);
    expect(held[0].detail).toContain(String(byHand.id));
    expect(held[0].detail).toContain("a person's");
    expect(first.alerts.map((a) => a.kind)).not.toContain('exit_rejected');
    // The refused step (2), then the next one sized to what is available (1), in the same sweep.
    expect(h.exitOrders().map((o) => o.qty)).toEqual(['2', '1']);
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(1);
    // Later sweeps send nothing more while the person's order holds the last contract: no 403 loop.
    await h.sweep();
    const third = await h.sweep();
    expect(h.exitOrders()).toHaveLength(2);
    expect(third.alerts.map((a) => a.kind)).not.toContain('exit_held_by_order');
    expect(h.p.sim.requestsTo('POST', '/v2/orders').filter((r) => r.status === 403)).toHaveLength(1);
  });
});

describe('item 2: a replace can lose a fill', () => {
  it('the replaced stop filled before the PATCH landed: its fill is booked, not closed_outside_pipeline', async () => {
    await start({ broker_stop: 'stop' });
    await h.open({
      recommendation_id: 't',
      num_contracts: 2,
      exit_plan: { stop_loss_pct: 0.5, trailing_stop_pct: 0.2 },
    });
    const first = h.p.sim.orders(KEY_ID).find((o) => o.client_order_id === 'ops-main-s1-t')!;
    expect(first).toMatchObject({ status: 'new', stop_price: '1.7' });
    // Alpaca answers the PATCH with the new order, but the old one fills first: the new one never works
    // (here the broker has no such order at all; a rejected or cancelled one is learned the same way).
    h.p.sim.injectFault({
      method: 'PATCH',
      path: `/v2/orders/${String(first.id)}`,
      status: 200,
      body: {
        ...first,
        id: '00000000-0000-4000-8000-00000000f00d',
        client_order_id: 'ops-main-s2-t',
        stop_price: '2',
        status: 'accepted',
        replaces: first.id,
      },
    });
    h.mid(FUTURE_SYMBOL, 2.55); // the trail moves the stop to 2.00: a PATCH
    await h.sweep();
    expect(await h.get('t')).toMatchObject({
      broker_stop: { client_order_id: 'ops-main-s2-t', replaced: { client_order_id: 'ops-main-s1-t' } },
    });
    h.p.sim.fillOrder(String(first.id), { price: 1.7 });
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(0);

    const report = await h.sweep();
    expect(report.alerts.map((a) => a.kind)).not.toContain('closed_outside_pipeline');
    const closed = await h.get('t');
    expect(closed).toMatchObject({ state: 'closed', quantity: 0 });
    expect(closed!.close_reason).not.toBe('closed_outside_pipeline');
    expect(closed!.realized_pnl).toBeCloseTo((1.7 - (closed!.entry_price ?? NaN)) * 2 * 100, 2);
  });
});

describe('item 3: on paper, option events arrive the next trading day', () => {
  const ACTIVITIES = '/v2/account/activities';
  const kinds = (r: { alerts: ReadonlyArray<{ kind: string }> }) => r.alerts.map((a) => a.kind);

  it('an assigned short whose activities are not synced yet waits (alert, no order), then is booked assigned', async () => {
    await start();
    h.p.sim.setQuote(FUTURE_PUT, { bid: 3.0, ask: 3.1 });
    await h.open({ recommendation_id: 'asn', option_symbol: FUTURE_PUT, action: 'SELL', num_contracts: 2 });
    await h.open({ recommendation_id: 'other', num_contracts: 1 }); // not every tracked contract goes
    const postsBefore = h.p.sim.requestsTo('POST', '/v2/orders').length;
    h.p.sim.assign(KEY_ID, FUTURE_PUT); // the position changes at once ...
    // ... the activities arrive the next trading day (paper): the listing does not show them yet.
    h.p.sim.injectFault({ method: 'GET', path: ACTIVITIES, status: 200, body: [], times: 1 });
    const first = await h.sweep();
    expect(kinds(first)).toContain('option_event_pending');
    expect(kinds(first)).not.toContain('closed_outside_pipeline');
    expect(await h.get('asn')).toMatchObject({ state: 'open', missing_since: expect.any(String) });
    expect(h.p.sim.requestsTo('POST', '/v2/orders')).toHaveLength(postsBefore); // no order on it

    const next = await h.sweep(); // the activities have arrived
    expect(kinds(next)).not.toContain('closed_outside_pipeline');
    expect(await h.get('asn')).toMatchObject({ state: 'closed', close_reason: 'assigned' });
  });

  it('still unexplained once the next trading day has begun: closed outside the pipeline', async () => {
    const clock = testClock(Date.parse('2026-12-02T16:00:00Z')); // a Wednesday, 11:00 New York
    h = await startExitHarness({
      claimLeaseSeconds: 120,
      clock,
      account: {
        name: 'main',
        limits: { max_open_positions: 100 },
        exit_defaults: { close_before_expiry_days: 1, take_profit_pct: null },
        exit_execution: { order_type: 'market' },
      },
    });
    h.p.sim.setQuote(FUTURE_PUT, { bid: 3.0, ask: 3.1 });
    await h.open({ recommendation_id: 'gone', option_symbol: FUTURE_PUT, action: 'SELL', num_contracts: 1 });
    h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
    await h.open({ recommendation_id: 'other', num_contracts: 1 }); // not every tracked contract goes
    // Gone with shares delivered (an assignment), but no activity ever says so.
    h.p.sim.removePosition(KEY_ID, FUTURE_PUT);
    h.p.sim.setPosition(KEY_ID, 'GOOGL', 100, 300);
    const first = await h.sweep();
    expect(kinds(first)).toContain('option_event_pending');
    expect(kinds(first)).not.toContain('closed_outside_pipeline');
    await clock.advance(Date.parse('2026-12-03T14:00:00Z') - clock.nowMs()); // Thursday 09:00 New York: the day's activities may not be in
    const early = kinds(await h.sweep());
    expect(early).not.toContain('closed_outside_pipeline');
    expect(early).not.toContain('option_event_pending'); // alerted once
    expect(await h.get('gone')).toMatchObject({ state: 'open' });
    await clock.advance(Date.parse('2026-12-03T14:45:00Z') - clock.nowMs()); // Thursday 09:45: the next trading day has begun
    const late = await h.sweep();
    expect(kinds(late)).toContain('closed_outside_pipeline');
    expect(await h.get('gone')).toMatchObject({ state: 'closed', close_reason: 'closed_outside_pipeline' });
  });

  it('a short closed by hand (no shares delivered, before expiry): closed outside at once', async () => {
    await start();
    h.p.sim.setQuote(FUTURE_PUT, { bid: 3.0, ask: 3.1 });
    await h.open({ recommendation_id: 'hand', option_symbol: FUTURE_PUT, action: 'SELL', num_contracts: 1 });
    await h.open({ recommendation_id: 'other', num_contracts: 1 });
    h.p.sim.removePosition(KEY_ID, FUTURE_PUT);
    const byHand = await h.sweep();
    expect(kinds(byHand)).not.toContain('option_event_pending');
    expect(await h.get('hand')).toMatchObject({ state: 'closed', close_reason: 'closed_outside_pipeline' });
  });
});
