/**
 * Issue 8 end to end: a recommendation that names only the underlying, the direction and a strategy is
 * turned into the profile's contract and size (from the simulator's chain), opened with buy_to_open, and
 * managed by the profile's exits.
 */
import {
  lambdaContext,
  loadOpenOrderHandler,
  loadSweepHandler,
  sentOrders,
  sqsEvent,
  sqsRecord,
  startPipeline,
  KEY_ID,
  type Pipeline,
} from '../helpers/pipeline';
import { addDays, newYorkTime } from '../../shared/domain/market-time';
import { formatOccSymbol } from '../../shared/domain/occ';

let p: Pipeline;
const today = newYorkTime(new Date()).date;
const inDays = (d: number) => addDays(today, d);

beforeEach(async () => {
  p = await startPipeline({
    optionsBuyingPower: 100_000,
    claimLeaseSeconds: 0,
    account: { name: 'main', limits: { max_premium_per_position: 5000, max_open_positions: 10 } },
  });
  p.sim.addChain({
    underlying: 'GOOGL',
    underlyingPrice: 200,
    expiries: [inDays(3), inDays(14), inDays(21), inDays(45)],
    strikes: [190, 195, 197.5, 200, 202.5, 205, 207.5, 210, 215],
  });
});
afterEach(async () => {
  await p.close();
});

const body = (o: Record<string, unknown>) =>
  JSON.stringify({ recommendation_id: 'u-1', ticker: 'GOOGL', action: 'BUY', ...o });

describe('contract selection through the open path', () => {
  it('a swing_trade CALL opens the profile contract with the sized quantity, buy_to_open', async () => {
    const res = await loadOpenOrderHandler(p)(
      sqsEvent([sqsRecord(body({ instrument_type: 'CALL', strategy: 'swing_trade' }))]),
      lambdaContext,
    );
    expect(res.batchItemFailures).toEqual([]);

    // 21 days sits nearest the 7-30 range's midpoint; 202.5 is nearest 1.5% out of the money (203).
    const expected = formatOccSymbol({ root: 'GOOGL', expiry: inDays(21), type: 'call', strike: 202.5 });
    const [order] = sentOrders(p.sim);
    expect(order).toMatchObject({ symbol: expected, side: 'buy', position_intent: 'buy_to_open' });

    // Size: 3% of $100,000 = $3,000 budget (the profile's max_premium_at_risk too) / (ask x 100), floored.
    // The simulator fills a market buy at the ask it quoted.
    const ask = Number(p.sim.orders(KEY_ID)[0].filled_avg_price);
    expect(Number(order.qty)).toBe(Math.min(10, Math.floor(3000 / (ask * 100))));

    const pos = await p.table.store.get('main', 'u-1');
    expect(pos).toMatchObject({
      option_symbol: expected,
      strategy: 'swing_trade',
      entry_underlying_price: 200,
      exit_plan: expect.objectContaining({
        stop_loss_pct: 0.4,
        take_profit_pct: 1,
        close_before_expiry_days: 2,
      }),
    });
    expect(pos!.selection).toMatchObject({ strike: 202.5, expiry: inDays(21) });
    expect(pos!.sizing).toMatchObject({ source: 'sized', contracts: Number(order.qty) });
  });

  it("the profile's exits apply: its 40% stop closes the position with an intent-free sell", async () => {
    await loadOpenOrderHandler(p)(
      sqsEvent([sqsRecord(body({ instrument_type: 'CALL', strategy: 'swing_trade', num_contracts: 2 }))]),
      lambdaContext,
    );
    const sweep = loadSweepHandler(p);
    await sweep();
    const pos = (await p.table.store.get('main', 'u-1'))!;
    expect(pos).toMatchObject({ state: 'open', quantity: 2 });
    const entry = pos.entry_price!;
    const stop = Math.round(entry * 0.55 * 100) / 100; // a 45% loss
    p.sim.setQuote(pos.option_symbol, { bid: stop - 0.05, ask: stop + 0.05 });
    const report = await sweep();
    expect(report.ordersSent).toEqual([expect.objectContaining({ reason: 'stop_loss', qty: 2 })]);
    await sweep();
    const closes = sentOrders(p.sim).filter((o) => String(o.client_order_id).includes('-x'));
    expect(closes).toEqual([expect.objectContaining({ symbol: pos.option_symbol, side: 'sell', qty: '2' })]);
    expect(closes[0]).not.toHaveProperty('position_intent');
    expect(p.sim.positions(KEY_ID)).toEqual([]);
  });

  it('refuses with the filter that excluded the last candidates when nothing fits', async () => {
    // conservative wants 21-60 days and 3% in the money with |delta| 0.60-0.85 and open interest >= 500:
    // make every contract illiquid so the open-interest filter excludes the last ones.
    await p.close();
    p = await startPipeline({ optionsBuyingPower: 100_000 });
    p.sim.addChain({
      underlying: 'GOOGL',
      underlyingPrice: 200,
      expiries: [inDays(30)],
      strikes: [190, 195, 200],
      openInterest: 10,
    });
    const res = await loadOpenOrderHandler(p)(
      sqsEvent([
        sqsRecord(body({ instrument_type: 'PUT', strategy: 'conservative' }), { messageId: 'none' }),
      ]),
      lambdaContext,
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'none' }]);
    expect(sentOrders(p.sim)).toEqual([]);
    const [rejection] = await p.table.store.listRejections('main');
    expect(rejection.reason).toBe('risk_limit:contract_selection:open_interest');
    expect(rejection.detail).toMatch(/open_interest filter excluded the last/);
  });

  it('sizing zero contracts is a refusal with the reason, never rounded up to 1', async () => {
    await p.close();
    p = await startPipeline({ optionsBuyingPower: 1_000 });
    p.sim.addChain({
      underlying: 'GOOGL',
      underlyingPrice: 200,
      expiries: [inDays(21)],
      strikes: [200, 202.5, 205],
    });
    const res = await loadOpenOrderHandler(p)(
      sqsEvent([
        sqsRecord(body({ instrument_type: 'CALL', strategy: 'swing_trade' }), { messageId: 'zero' }),
      ]),
      lambdaContext,
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'zero' }]);
    expect(sentOrders(p.sim)).toEqual([]);
    const [rejection] = await p.table.store.listRejections('main');
    expect(rejection.reason).toMatch(/^risk_limit:sizing:/);
    expect(rejection.detail).toMatch(/buys 0 contracts/);
  });
});
