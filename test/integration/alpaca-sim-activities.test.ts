/**
 * The simulator's option events and non-trade activities (README "Assignment, exercise and expiry"):
 * shapes from Alpaca's "Non-Trade Activities for Option Events" page, read with the real SDK over HTTP.
 */
import { trading } from '@alpacahq/alpaca-trade-api/rest';
import {
  expiryCloseMs,
  formatOcc,
  isTradingDay,
  startAlpacaSim,
  type AlpacaSim,
} from '../../local/alpaca-sim';
import { KEY_ID, SECRET } from '../helpers/alpaca-sim';
import { contractFor, expiryIn } from '../helpers/contracts';

let sim: AlpacaSim;
let clock: { ms: number };
afterEach(async () => {
  await sim?.close();
});

async function start(startAt = Date.now()): Promise<trading.AccountActivitiesApi> {
  clock = { ms: startAt };
  sim = await startAlpacaSim({ rateLimitPerMinute: null, now: () => new Date(clock.ms) });
  sim.addAccount(KEY_ID, SECRET, { cash: 100_000 });
  return new trading.AccountActivitiesApi(
    new trading.Configuration({ basePath: sim.url, keyId: KEY_ID, secret: SECRET, timeoutMs: 5000 }),
  );
}

const held = (symbol: string) => Number(sim.positions(KEY_ID).find((p) => p.symbol === symbol)?.qty ?? 0);
const PUT = contractFor('GOOGL', 400, 'P', 300);
const CALL = contractFor('GOOGL', 400, 'C', 340);

describe('assignment and exercise on demand', () => {
  it('an assigned short put: the contracts go, 100 shares a contract are bought at the strike, OPASN + OPTRD', async () => {
    const api = await start();
    sim.setPosition(KEY_ID, PUT, -2, 3);
    sim.assign(KEY_ID, PUT, { fee: 0.5 });
    expect(held(PUT)).toBe(0);
    expect(held('GOOGL')).toBe(200);
    const raw = (await (await api.getAccountActivitiesRaw({ direction: 'asc' })).raw.json()) as Array<
      Record<string, unknown>
    >;
    expect(raw).toEqual([
      expect.objectContaining({
        activity_type: 'OPASN',
        symbol: PUT,
        qty: '2',
        net_amount: '0',
        status: 'executed',
        id: expect.stringMatching(/^\d{17}::[0-9a-f-]{36}$/),
        date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      }),
      expect.objectContaining({ activity_type: 'OPTRD', symbol: 'GOOGL', qty: '200', price: '300' }),
      expect.objectContaining({ activity_type: 'FEE', symbol: PUT, net_amount: '-0.5' }),
    ]);
    expect(raw[1].net_amount).toBe('-60000');
  });

  it('an assigned short call sells the shares short; a partial assignment leaves the rest', async () => {
    await start();
    sim.setPosition(KEY_ID, CALL, -3, 2);
    sim.assign(KEY_ID, CALL, { qty: 1 });
    expect(held(CALL)).toBe(-2);
    expect(held('GOOGL')).toBe(-100);
  });

  it('an exercised long call buys the shares (OPEXC qty is the position change, negative)', async () => {
    await start();
    sim.setPosition(KEY_ID, CALL, 2, 2);
    sim.exercise(KEY_ID, CALL);
    expect(held(CALL)).toBe(0);
    expect(held('GOOGL')).toBe(200);
    expect(sim.activities(KEY_ID)[0]).toMatchObject({ activity_type: 'OPEXC', qty: '-2' });
  });

  it('only a short is assigned and only a long exercised', async () => {
    await start();
    sim.setPosition(KEY_ID, CALL, 1, 2);
    expect(() => sim.assign(KEY_ID, CALL)).toThrow(/only a short/);
    sim.setPosition(KEY_ID, PUT, -1, 2);
    expect(() => sim.exercise(KEY_ID, PUT)).toThrow(/only a long/);
  });

  it('delivered shares can be sold with an intent-free market order, queued while the market is closed', async () => {
    await start();
    sim.setPosition(KEY_ID, PUT, -1, 3);
    sim.assign(KEY_ID, PUT);
    sim.setMarketOpen(false);
    sim.setStockPrice('GOOGL', 295);
    const orders = new trading.OrdersApi(
      new trading.Configuration({ basePath: sim.url, keyId: KEY_ID, secret: SECRET }),
    );
    const o = await orders.postOrder({
      postOrderRequest: { symbol: 'GOOGL', qty: '100', side: 'sell', type: 'market', timeInForce: 'day' },
    });
    expect(o.positionIntent).toBe('sell_to_close');
    expect(held('GOOGL')).toBe(100);
    sim.setMarketOpen(true);
    expect(held('GOOGL')).toBe(0);
  });
});

describe('expiry at the close of the expiry day', () => {
  // A trading day at least a week after the test clock's date (its contracts expire there).
  const expiryDay = (now: Date) => {
    let n = 7;
    while (!isTradingDay(expiryIn(n, now))) n++;
    return expiryIn(n, now);
  };

  it('an OTM position still held after the close is removed and OPEXP written; before the close it stays', async () => {
    const api = await start();
    const day = expiryDay(new Date(clock.ms));
    const symbol = formatOcc('GOOGL', day, 'call', 500);
    sim.setStockPrice('GOOGL', 300);
    sim.setPosition(KEY_ID, symbol, 1, 1.2);
    clock.ms = expiryCloseMs(day) - 60_000; // a minute before the close: still held
    sim.tick();
    expect(held(symbol)).toBe(1);
    clock.ms = expiryCloseMs(day) + 60_000;
    sim.tick();
    const list = await api.getAccountActivities({ activityTypes: ['OPEXP'] });
    expect(held(symbol)).toBe(0);
    expect(list).toEqual([expect.objectContaining({ activityType: 'OPEXP', symbol, qty: '-1' })]);
    expect(list[0].date?.toISOString().slice(0, 10)).toBe(day);
  });

  it('ITM by $0.01 or more: a long is auto-exercised, a short assigned; out of the money expires', async () => {
    await start();
    const day = expiryDay(new Date(clock.ms));
    const occ = (t: 'call' | 'put', k: number) => formatOcc('GOOGL', day, t, k);
    sim.setStockPrice('GOOGL', 300.01);
    sim.setPosition(KEY_ID, occ('call', 300), 1, 1); // ITM by 0.01: exercised, +100 shares
    sim.setPosition(KEY_ID, occ('put', 310), -1, 1); // ITM short put: assigned, +100 shares
    sim.setPosition(KEY_ID, occ('put', 300), 1, 1); // OTM put: expires
    sim.setPosition(KEY_ID, occ('call', 300.01), -1, 1); // at the money: expires
    clock.ms = expiryCloseMs(day) + 1000;
    sim.settleExpiries();
    const types = sim.activities(KEY_ID).filter((a) => a.activity_type !== 'OPTRD');
    expect(types.map((a) => [a.activity_type, a.symbol])).toEqual([
      ['OPEXC', occ('call', 300)],
      ['OPASN', occ('put', 310)],
      ['OPEXP', occ('put', 300)],
      ['OPEXP', occ('call', 300.01)],
    ]);
    expect(held('GOOGL')).toBe(200);
    expect(sim.positions(KEY_ID).map((p) => p.symbol)).toEqual(['GOOGL']);
  });

  it('the close (expireDayOrders) settles the contracts expiring that day, not later ones', async () => {
    await start();
    const day = expiryDay(new Date(clock.ms));
    const expiring = formatOcc('GOOGL', day, 'put', 200);
    const later = formatOcc('GOOGL', expiryIn(30, new Date(`${day}T12:00:00Z`)), 'put', 200);
    sim.setPosition(KEY_ID, expiring, -1, 1);
    sim.setPosition(KEY_ID, later, -1, 1);
    clock.ms = expiryCloseMs(day);
    sim.expireDayOrders();
    expect([held(expiring), held(later)]).toEqual([0, -1]);
    expect(sim.activities(KEY_ID)).toEqual([
      expect.objectContaining({ activity_type: 'OPEXP', symbol: expiring, qty: '1' }),
    ]);
  });
});

describe('GET /v2/account/activities paging and filters', () => {
  it('newest first by default; page_size and page_token (the last id) walk the list; asc reverses', async () => {
    const api = await start();
    for (let i = 0; i < 5; i++) {
      sim.setPosition(KEY_ID, CALL, -1, 2);
      clock.ms += 1000;
      sim.assign(KEY_ID, CALL);
    }
    const all = await api.getAccountActivities({ activityTypes: ['OPASN'] });
    expect(all).toHaveLength(5);
    expect(all[0].id! > all[4].id!).toBe(true);
    const p1 = await api.getAccountActivities({ activityTypes: ['OPASN'], pageSize: 2, direction: 'asc' });
    const p2 = await api.getAccountActivities({
      activityTypes: ['OPASN'],
      pageSize: 2,
      direction: 'asc',
      pageToken: p1[1].id,
    });
    expect([...p1, ...p2].map((a) => a.id)).toEqual(
      [...all]
        .reverse()
        .slice(0, 4)
        .map((a) => a.id),
    );
    const byType = await api.getAccountActivitiesByActivityType({ activityType: 'OPTRD' });
    expect(byType).toHaveLength(5);
    const after = await api.getAccountActivities({
      activityTypes: ['OPASN'],
      after: new Date(clock.ms - 2500), // the last three, 1 s apart (exclusive bound)
    });
    expect(after).toHaveLength(3);
  });

  it('an unknown activity type or a page_size over 100 is a 422', async () => {
    await start();
    const get = (q: string) =>
      fetch(`${sim.url}/v2/account/activities?${q}`, {
        headers: { 'APCA-API-KEY-ID': KEY_ID, 'APCA-API-SECRET-KEY': SECRET },
      });
    expect((await get('activity_types=NOPE')).status).toBe(422);
    expect((await get('page_size=101')).status).toBe(422);
    expect((await get('activity_types=DIV')).status).toBe(200);
  });
});
