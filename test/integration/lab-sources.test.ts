/**
 * Where the lab's inputs come from: Alpaca's historical option bars through the real SDK (paged, cached on
 * disk so a second run makes no request), and the positions the pipeline opened (dynalite).
 * Alpaca's bars endpoint cannot run here, so a small loopback stand-in answers it, in Alpaca's format.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { OptionBarsFetcher } from '../../shared/adapters/alpaca-bars';
import { addDays } from '../../shared/domain/market-time';
import { parseBarsResponses } from '../../shared/lab/bars';
import { tradesFromPositions } from '../../shared/lab/inputs';
import { startTestTable } from '../helpers/dynamo';
import { makePosition } from '../helpers/factories';

// The test's clock: a Monday; the contract expires that Wednesday; "today" is a week later.
const MONDAY = '2028-03-06';
const EXPIRY = addDays(MONDAY, 2);
const SYMBOL = `SPY${EXPIRY.slice(2).replace(/-/g, '')}C00500000`;
const TODAY = new Date(`${addDays(MONDAY, 7)}T15:00:00Z`);

interface Seen {
  symbols: string | null;
  timeframe: string | null;
  start: string | null;
  page: string | null;
  auth: string | undefined;
}

/** Answers GET /v1beta1/options/bars with three bars per day, in two pages. */
async function startBarsStub(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const q = (k: string) => u.searchParams.get(k);
    seen.push({
      symbols: q('symbols'),
      timeframe: q('timeframe'),
      start: q('start'),
      page: q('page_token'),
      auth: req.headers['apca-api-key-id'] as string | undefined,
    });
    if (u.pathname !== '/v1beta1/options/bars') {
      res.writeHead(404).end('{}');
      return;
    }
    const day = (q('start') ?? '').slice(0, 10);
    const bar = (hhmm: string, c: number) => ({
      t: `${day}T${hhmm}:00Z`,
      o: c,
      h: c,
      l: c,
      c,
      v: 1,
      n: 1,
      vw: c,
    });
    const body = q('page_token')
      ? { bars: { [q('symbols')!]: [bar('15:02', 2.2)] }, next_page_token: null }
      : { bars: { [q('symbols')!]: [bar('15:00', 2.0), bar('15:01', 2.1)] }, next_page_token: 'page-2' };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

describe('lab bars from Alpaca', () => {
  it('pages through next_page_token, caches per symbol/timeframe/day, and a second run makes no request', async () => {
    const stub = await startBarsStub();
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-cache-'));
    try {
      const make = () =>
        new OptionBarsFetcher({
          keyId: 'PKLAB',
          secretKey: 's',
          dataBaseUrl: stub.url,
          cacheDir,
          now: () => TODAY,
        });
      const first = make();
      const pages = await first.fetch([{ symbol: SYMBOL, from: MONDAY, to: EXPIRY }], '1Min');
      // Monday to Wednesday: 3 days x 2 pages.
      expect(first.requests).toBe(6);
      expect(stub.seen.map((s) => [s.symbols, s.timeframe, s.start?.slice(0, 10), s.page])).toEqual(
        [MONDAY, addDays(MONDAY, 1), EXPIRY].flatMap((d) => [
          [SYMBOL, '1Min', d, null],
          [SYMBOL, '1Min', d, 'page-2'],
        ]),
      );
      expect(stub.seen.every((s) => s.auth === 'PKLAB')).toBe(true);
      expect(fs.existsSync(path.join(cacheDir, SYMBOL, '1Min', `${MONDAY}.json`))).toBe(true);
      const bars = parseBarsResponses(pages).get(SYMBOL)!;
      expect(bars.map((b) => b.c)).toEqual([2.0, 2.1, 2.2, 2.0, 2.1, 2.2, 2.0, 2.1, 2.2]);

      const second = make();
      const again = await second.fetch([{ symbol: SYMBOL, from: MONDAY, to: EXPIRY }], '1Min');
      expect(second.requests).toBe(0);
      expect(stub.seen).toHaveLength(6);
      expect(parseBarsResponses(again).get(SYMBOL)).toEqual(bars);
    } finally {
      await stub.close();
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});

describe('lab trades from the positions table', () => {
  it('lists every position the account opened in the date range, open or closed, as trades', async () => {
    const table = await startTestTable();
    try {
      const at = (d: string) => `${d}T15:00:00.000Z`;
      const rows = [
        makePosition({
          position_id: 'a',
          entry_time: at(MONDAY),
          entry_price: 2.1,
          quantity: 0,
          original_quantity: 4,
        }),
        makePosition({
          position_id: 'b',
          entry_time: at(addDays(MONDAY, 1)),
          entry_price: 3,
          side: 'short',
          strategy: 'day_trade',
        }),
        makePosition({ position_id: 'c', entry_time: at(addDays(MONDAY, 9)), entry_price: 2 }),
        makePosition({ position_id: 'd', entry_time: null, entry_price: null, state: 'pending' }),
        makePosition({ account: 'other', position_id: 'e', entry_time: at(MONDAY), entry_price: 2 }),
      ];
      for (const p of rows)
        await table.store.claim({ ...p, state: p.position_id === 'a' ? 'closed' : p.state });
      const trades = tradesFromPositions(await table.store.listPositions('main'), MONDAY, addDays(MONDAY, 2));
      expect(trades).toEqual([
        expect.objectContaining({ id: 'a', side: 'long', entry_price: 2.1, qty: 4, entry_time: at(MONDAY) }),
        expect.objectContaining({ id: 'b', side: 'short', entry_price: 3, qty: 10, strategy: 'day_trade' }),
      ]);
    } finally {
      await table.close();
    }
  });
});
