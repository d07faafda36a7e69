/**
 * `npm run lab -- --from-table --local` offline: the positions the local stack opened, replayed on the
 * bars its simulator recorded (`GET /v1beta1/options/bars` of local/alpaca-sim/bar-book.ts), with no Alpaca
 * keys (the environment is empty) and nothing but loopback. An entry price outside its bar is warned.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startAlpacaSim, type AlpacaSim } from '../../local/alpaca-sim';
import { simulatorKeys } from '../../local/mode';
import { STATE_FILE_NAME, writeStateFile } from '../../local/state-file';
import { addDays } from '../../shared/domain/market-time';
import { runLabCli } from '../../scripts/lab/cli';
import { startTestTable, type TestTable } from '../helpers/dynamo';
import { makePosition } from '../helpers/factories';

// The test's clock: a Monday; the contract expires that Wednesday; the lab runs that Friday.
const MONDAY = '2028-03-06';
const EXPIRY = addDays(MONDAY, 2);
const SYMBOL = `SPY${EXPIRY.slice(2).replace(/-/g, '')}C00500000`;
const at = (hhmm: string) => new Date(`${MONDAY}T${hhmm}:00.000Z`);

let sim: AlpacaSim;
let table: TestTable;
let dir: string;
let clock = at('14:30');

beforeAll(async () => {
  sim = await startAlpacaSim({ now: () => clock });
  const keys = simulatorKeys('main');
  sim.addAccount(keys.keyId, keys.secretKey, { cash: 100_000 });
  // Thirty minutes of quotes, four a minute: mids 2.00 at 15:00 rising a cent a minute.
  for (let m = 0; m < 30; m++) {
    for (let s = 0; s < 60; s += 15) {
      clock = new Date(at('15:00').getTime() + m * 60_000 + s * 1000);
      const mid = 2 + m / 100 + (s === 30 ? 0.02 : 0);
      sim.setQuote(SYMBOL, { bid: mid - 0.01, ask: mid + 0.01 });
    }
  }
  table = await startTestTable();
  const position = (id: string, entry: string, price: number) =>
    makePosition({
      position_id: id,
      option_symbol: SYMBOL,
      ticker: 'SPY',
      entry_time: at(entry).toISOString(),
      entry_price: price,
      quantity: 2,
      original_quantity: 2,
    });
  await table.store.claim(position('local-1', '15:05', 2.06));
  await table.store.claim(position('local-2', '15:10', 3.05));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-local-'));
  writeStateFile(path.join(dir, STATE_FILE_NAME), {
    pid: process.pid,
    startedAt: at('14:30').toISOString(),
    broker: 'simulator',
    sqsEndpoint: 'http://127.0.0.1:9',
    dynamoEndpoint: table.endpoint,
    simulatorUrl: sim.url,
    tableName: table.tableName,
    logPath: path.join(dir, 'ops-pipeline.log'),
    accounts: {},
  });
});

afterAll(async () => {
  await sim?.close();
  await table?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('replays the local positions on the simulator’s own bars, without Alpaca keys, and warns of an entry outside its bar', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const json = path.join(dir, 'out.json');
  const code = await runLabCli(
    [
      ...['--from-table', '--local', '--from', MONDAY, '--to', MONDAY],
      ...['--plans', path.resolve(__dirname, '../../examples/lab/plans.json')],
      ...['--json', json, '--html', path.join(dir, 'report.html')],
    ],
    {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: {},
      html: () => Promise.resolve('<!doctype html>'),
      stateDir: dir,
      now: () => new Date(`${addDays(MONDAY, 4)}T15:00:00Z`),
    },
  );
  expect({ code, err }).toEqual({ code: 0, err: [] });
  const text = out.join('\n');
  expect(text).toMatch(/^account main · 2 trade\(s\) · 4 plan\(s\) · 1Min bars from the local simulator$/m);
  expect(text).toMatch(/^bars: 3 symbol-day\(s\), 3 request\(s\) to the local simulator$/m);
  expect(text).toMatch(
    /^warning: local-2 SPY\d{6}C00500000: entry price 3\.05 is outside its bar's range 2\.10–2\.12 \(bar at 2028-03-06T15:10:00Z\)/m,
  );
  expect(text).not.toMatch(/local-1 .*outside/);
  expect(text).not.toMatch(/skipped/);

  // Every bars request went to the simulator, with the account's simulator keys.
  const barsCalls = sim.requests.filter((r) => r.path === '/v1beta1/options/bars');
  expect(barsCalls.length).toBe(3);
  expect(barsCalls.every((r) => r.keyId === simulatorKeys('main').keyId && r.status === 200)).toBe(true);

  // The bars are the quotes' mids, one a minute: 15:05 opens at 2.05, its high 2.07.
  const result = JSON.parse(fs.readFileSync(json, 'utf8')) as {
    plans: Array<{ plan: string; trades_detail: Array<{ trade_id: string; entry_price: number }> }>;
    warnings: Array<{ trade_id: string }>;
  };
  expect(result.warnings.map((w) => w.trade_id)).toEqual(['local-2']);
  for (const p of result.plans)
    expect(p.trades_detail.map((t) => t.trade_id)).toEqual(['local-1', 'local-2']);
});

it('the simulator answers bars in Alpaca’s shape: minute bars of the mids, aggregated on request', async () => {
  const keys = simulatorKeys('main');
  const get = async (query: string) => {
    const res = await fetch(`${sim.url}/v1beta1/options/bars?${query}`, {
      headers: { 'APCA-API-KEY-ID': keys.keyId, 'APCA-API-SECRET-KEY': keys.secretKey },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const one = await get(`symbols=${SYMBOL}&timeframe=1Min&start=${MONDAY}T15:05:00Z&end=${MONDAY}T15:07:00Z`);
  expect(one).toEqual({
    status: 200,
    body: {
      bars: {
        [SYMBOL]: [
          { t: `${MONDAY}T15:05:00Z`, o: 2.05, h: 2.07, l: 2.05, c: 2.05, v: 4, n: 4, vw: 2.055 },
          { t: `${MONDAY}T15:06:00Z`, o: 2.06, h: 2.08, l: 2.06, c: 2.06, v: 4, n: 4, vw: 2.065 },
        ],
      },
      next_page_token: null,
    },
  });
  const five = await get(`symbols=${SYMBOL}&timeframe=5Min&start=${MONDAY}T15:00:00Z`);
  const fiveBars = (five.body.bars as Record<string, Array<{ t: string; o: number; c: number; n: number }>>)[
    SYMBOL
  ];
  expect(fiveBars.map((b) => [b.t.slice(11, 16), b.o, b.c, b.n])).toEqual([
    ['15:00', 2, 2.04, 20],
    ['15:05', 2.05, 2.09, 20],
    ['15:10', 2.1, 2.14, 20],
    ['15:15', 2.15, 2.19, 20],
    ['15:20', 2.2, 2.24, 20],
    ['15:25', 2.25, 2.29, 20],
  ]);
  expect((await get(`symbols=${SYMBOL}&timeframe=7Week`)).status).toBe(422);
  expect((await get(`timeframe=1Min`)).status).toBe(400);
});
