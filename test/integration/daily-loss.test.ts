/**
 * Issue 16, part 1 end to end: the daily loss breaker on dynalite and the Alpaca simulator. Positions open
 * through the real open-order handler; sweeps run through the real exit-evaluator handler (wall clock), or
 * through runSweep with a later clock for the next trading day. Quotes are moved by hand.
 */
import { parseAccountConfig } from '../../shared/domain/account-config';
import { newYorkTime } from '../../shared/domain/market-time';
import { Metric } from '../../shared/metric-names';
import { SILENT_LOG, type MetricsSink } from '../../shared/observability';
import { runSweep, type SweepReport } from '../../shared/use-cases/sweep';
import type { PositionStore } from '../../shared/ports';
import { runControl } from '../../local/control';
import { adapterFor } from '../helpers/alpaca-sim';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { lambdaContext, loadOpenOrderHandler, sqsEvent, sqsRecord, KEY_ID } from '../helpers/pipeline';
import { FUTURE_PUT, FUTURE_SYMBOL, recommendationBody } from '../helpers/recommendations';

jest.setTimeout(60_000);

/** No exit rule of its own fires while the price falls: only the breaker acts. */
const NO_EXITS = { stop_loss_pct: null, take_profit_pct: null, trailing_stop_pct: null };

let h: ExitHarness;
afterEach(async () => {
  h.expectEveryCloseSafe();
  await h.close();
});

async function start(limits: Record<string, unknown>) {
  h = await startExitHarness({
    claimLeaseSeconds: 0,
    account: { name: 'main', limits: { max_open_positions: 10, ...limits } },
  });
  h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
  h.p.sim.setQuote(FUTURE_PUT, { bid: 3.0, ask: 3.1 });
}

const kinds = (r: SweepReport) => r.alerts.map((a) => a.kind);
const today = () => newYorkTime(new Date()).date;

/** Delivers one recommendation to a fresh open-order container; returns the ids it failed. */
async function deliver(o: Record<string, unknown>): Promise<string[]> {
  const res = await loadOpenOrderHandler(h.p)(sqsEvent([sqsRecord(recommendationBody(o))]), lambdaContext);
  return res.batchItemFailures.map((f) => f.itemIdentifier);
}

/** One sweep through runSweep at `now` (a later trading day), counting metrics into `metrics`. */
function sweepAt(
  now: Date,
  metrics?: MetricsSink,
  store: PositionStore = h.p.table.store,
): Promise<SweepReport> {
  const broker = adapterFor(h.p.sim);
  return runSweep({
    account: parseAccountConfig(JSON.parse(h.p.env.ACCOUNT_CONFIG)),
    broker,
    marketData: broker,
    store,
    lease: h.p.table.store,
    now: () => now,
    log: SILENT_LOG,
    metrics: metrics ?? { count: () => undefined, durationMs: () => undefined, gauge: () => undefined },
  });
}

/** A long of 2 at 2.10 (the ask) whose exit rules never fire. */
async function openLong(id: string) {
  return h.open({ recommendation_id: id, num_contracts: 2, exit_plan: NO_EXITS });
}

/** Trips the breaker of a $300 limit: the long of 2 marked at bid 0.45 is -$330. */
async function tripWithLong(): Promise<SweepReport> {
  await openLong('a');
  h.mid(FUTURE_SYMBOL, 1.0); // bid 0.95: -$230, inside the limit
  const inside = await h.sweep();
  expect(inside.dayPnl).toMatchObject({ day: today(), day_pnl_usd: -230, unrealized_usd: -230 });
  expect(kinds(inside)).not.toContain('daily_loss');
  expect(await h.p.table.store.getControl('main')).toBeNull();
  h.mid(FUTURE_SYMBOL, 0.5); // bid 0.45: -$330
  return h.sweep();
}

const tomorrow = () => new Date(Date.now() + 24 * 3600_000);

describe('daily loss breaker', () => {
  it('a loss reaching the limit switches openings off (daily_loss), alerts once, and refuses recommendations as risk_limit:daily_loss', async () => {
    await start({ max_daily_loss: 300 });
    const tripped = await tripWithLong();
    expect(tripped.dayPnl).toMatchObject({ day_pnl_usd: -330 });
    expect(kinds(tripped)).toEqual(['daily_loss']);
    expect(await h.p.table.store.getControl('main')).toMatchObject({
      trading_enabled: false,
      flatten: false,
      set_by: 'daily_loss',
      daily_loss_day: today(),
    });
    // No flatten configured: the position stays, its exits still managed.
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(2);
    expect(h.exitOrders()).toEqual([]);

    expect(await deliver({ recommendation_id: 'after', option_symbol: FUTURE_PUT })).toHaveLength(1);
    expect(await h.p.table.store.getRejection('main', 'after')).toMatchObject({
      reason: 'risk_limit:daily_loss',
    });
    expect(h.brokerQty(FUTURE_PUT)).toBe(0);

    // Tripped once a day: later sweeps below the limit neither alert nor rewrite the switch again.
    const again = await h.sweep();
    expect(kinds(again)).toEqual([]);
  });

  it('with no limit configured nothing trips, however large the loss', async () => {
    await start({});
    await openLong('a');
    h.mid(FUTURE_SYMBOL, 0.1);
    const r = await h.sweep();
    expect(r.dayPnl!.day_pnl_usd).toBeLessThan(-300);
    expect(kinds(r)).toEqual([]);
    expect(await h.p.table.store.getControl('main')).toBeNull();
    expect(await deliver({ recommendation_id: 'ok', option_symbol: FUTURE_PUT })).toEqual([]);
  });

  it('with flatten_on_daily_loss the next sweep flattens through the guarded exits; the realized loss stays in the day', async () => {
    await start({ max_daily_loss: 100, flatten_on_daily_loss: true });
    await openLong('a');
    // A short put: sold at 3.00 (the bid); its ask 3.60 costs $60 to buy back a contract.
    await h.open({
      recommendation_id: 'b',
      option_symbol: FUTURE_PUT,
      action: 'SELL',
      num_contracts: 1,
      exit_plan: NO_EXITS,
    });
    h.mid(FUTURE_SYMBOL, 1.9); // long: (1.85 - 2.10) x 200 = -50
    h.mid(FUTURE_PUT, 3.55); // short: (3.00 - 3.60) x 100 = -60
    const tripped = await h.sweep();
    expect(tripped.dayPnl).toMatchObject({ day_pnl_usd: -110 });
    expect(kinds(tripped)).toEqual(['daily_loss']);
    expect(tripped.ordersSent).toEqual([]);
    expect(await h.p.table.store.getControl('main')).toMatchObject({ trading_enabled: false, flatten: true });

    const flattening = await h.sweep();
    expect(flattening.ordersSent.map((o) => o.reason).sort()).toEqual(['flatten', 'flatten']);
    await h.sweep(); // learns the fills
    expect(h.p.sim.positions(KEY_ID)).toEqual([]);
    const a = (await h.get('a'))!;
    const b = (await h.get('b'))!;
    expect([a.close_reason, b.close_reason]).toEqual(['flatten', 'flatten']);
    expect(
      h
        .exitOrders()
        .map((o) => o.side)
        .sort(),
    ).toEqual(['buy', 'sell']);
    h.expectNoShort();

    // Nothing is open now: the day's P&L is what the two closes realized, read from the day's total.
    const after = await h.sweep();
    expect(a.realized_pnl + b.realized_pnl).toBeLessThan(0);
    expect(after.dayPnl).toMatchObject({
      unrealized_usd: 0,
      realized_usd: Math.round((a.realized_pnl + b.realized_pnl) * 100) / 100,
    });
  });

  it('switches itself back on at the next trading day’s open, only when it switched itself off', async () => {
    await start({ max_daily_loss: 300 });
    await tripWithLong();
    h.mid(FUTURE_SYMBOL, 2.1); // the position recovered overnight: -$10 at the bid
    // Still today: stays off.
    await h.sweep();
    expect(await h.p.table.store.getControl('main')).toMatchObject({ trading_enabled: false });
    // Tomorrow, the market closed: stays off until the open.
    h.p.sim.setMarketOpen(false);
    await sweepAt(tomorrow());
    expect(await h.p.table.store.getControl('main')).toMatchObject({ trading_enabled: false });
    h.p.sim.setMarketOpen(true);
    const r = await sweepAt(tomorrow());
    expect(kinds(r)).not.toContain('daily_loss');
    expect(await h.p.table.store.getControl('main')).toMatchObject({
      trading_enabled: true,
      flatten: false,
      set_by: 'daily_loss',
      daily_loss_day: today(),
    });
    expect(await deliver({ recommendation_id: 'next-day', option_symbol: FUTURE_PUT })).toEqual([]);
  });

  it('an operator’s switch stays off the next day; an operator who re-enables the same day is not overruled', async () => {
    await start({ max_daily_loss: 300 });
    await tripWithLong();
    // The operator re-enables today: the loss is still past the limit, yet the breaker does not trip again.
    await runControl(h.p.table.store, { account: 'main', command: 'enable' });
    const r = await h.sweep();
    expect(r.dayPnl!.day_pnl_usd).toBe(-330);
    expect(kinds(r)).toEqual([]);
    expect(await h.p.table.store.getControl('main')).toMatchObject({
      trading_enabled: true,
      set_by: 'operator',
      daily_loss_day: today(),
    });
    // The operator switches it off: the next day's open leaves it off.
    await runControl(h.p.table.store, { account: 'main', command: 'disable', reason: 'done for the week' });
    h.mid(FUTURE_SYMBOL, 2.1);
    await sweepAt(tomorrow());
    expect(await h.p.table.store.getControl('main')).toMatchObject({
      trading_enabled: false,
      set_by: 'operator',
      reason: 'done for the week',
    });
    // Switched off by the operator, a refusal is the kill switch's, not the breaker's.
    await deliver({ recommendation_id: 'op', option_symbol: FUTURE_PUT });
    expect(await h.p.table.store.getRejection('main', 'op')).toMatchObject({
      reason: 'risk_limit:kill_switch',
    });
  });

  it('publishes day_pnl, open_premium, realized_pnl and counts the daily_loss alarm metric', async () => {
    await start({ max_daily_loss: 300 });
    await openLong('a');
    h.mid(FUTURE_SYMBOL, 0.5);
    const gauges: Array<[string, number]> = [];
    const counts: Record<string, number> = {};
    const metrics: MetricsSink = {
      count: (name, value = 1) => void (counts[name] = (counts[name] ?? 0) + value),
      durationMs: () => undefined,
      gauge: (name, value) => void gauges.push([name, value]),
    };
    await sweepAt(new Date(), metrics);
    expect(gauges).toEqual(
      expect.arrayContaining([
        [Metric.DayPnl, -330],
        [Metric.OpenPremium, 420],
      ]),
    );
    expect(counts[Metric.DailyLoss]).toBe(1);
    expect(counts[Metric.OpenPositions]).toBe(1);

    // Closed by hand at the broker's price: the close books its P&L in realized_pnl.
    await runControl(h.p.table.store, { account: 'main', command: 'flatten' });
    await sweepAt(new Date(), metrics);
    await sweepAt(new Date(), metrics);
    const a = (await h.get('a'))!;
    expect(a).toMatchObject({ state: 'closed', close_reason: 'flatten' });
    expect(gauges).toContainEqual([Metric.RealizedPnl, a.realized_pnl]);
  });

  it('an operator’s change landing while a sweep runs is never overwritten by the breaker', async () => {
    await start({ max_daily_loss: 300, flatten_on_daily_loss: false });
    await openLong('a');
    h.mid(FUTURE_SYMBOL, 0.5); // -$330: this sweep trips...
    const table = h.p.table.store;
    // ...but the operator flattens between the sweep's read of the switch and the breaker's write.
    const racing = new Proxy(table, {
      get(target, prop, receiver) {
        if (prop !== 'replaceControl') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<PositionStore['replaceControl']>) => {
          await runControl(table, { account: 'main', command: 'flatten', reason: 'operator flatten' });
          return target.replaceControl(...args);
        };
      },
    });
    const r = await sweepAt(new Date(), undefined, racing);
    expect(kinds(r)).not.toContain('daily_loss');
    expect(await table.getControl('main')).toMatchObject({
      trading_enabled: false,
      flatten: true,
      set_by: 'operator',
      reason: 'operator flatten',
    });
    // The next sweep flattens as the operator asked, and the breaker leaves the operator's switch alone.
    const next = await h.sweep();
    expect(next.ordersSent.map((o) => o.reason)).toEqual(['flatten']);
    expect(kinds(next)).not.toContain('daily_loss');
    expect(await table.getControl('main')).toMatchObject({ set_by: 'operator', flatten: true });
  });
});
