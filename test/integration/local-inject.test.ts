/**
 * `npm run inject -- --sample-spread` against a local stack's pieces (the Alpaca simulator seeded with the
 * local market, fauxqs, a state file as `npm start` writes it): one debit call vertical built from the
 * chain the simulator lists, priced from its quotes, sent to the account's queue and valid for the
 * open-order function's parser (docs/LOCAL-MODE.md, docs/SPREADS.md "Named legs").
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startAlpacaSim, parseOcc, type AlpacaSim } from '../../local/alpaca-sim';
import { runInject, sampleSpreadRecommendation } from '../../local/inject';
import { simulatorKeys } from '../../local/mode';
import { seedLocalMarket } from '../../local/starting-market';
import { startLocalSqs, type LocalSqs } from '../../local/sqs-server';
import { writeStateFile } from '../../local/state-file';
import { parseRecommendationMessage } from '../../shared/domain/recommendation';

let sim: AlpacaSim;
let sqs: LocalSqs;
let dir: string;
let statePath: string;
let queueUrl: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-local-inject-'));
  sim = await startAlpacaSim({ rateLimitPerMinute: null });
  const keys = simulatorKeys('main');
  sim.addAccount(keys.keyId, keys.secretKey, { cash: 100_000 });
  seedLocalMarket(sim);
  sqs = await startLocalSqs();
  const q = await sqs.createAccountQueues('main', { visibilityTimeoutSeconds: 30, maxReceiveCount: 3 });
  queueUrl = q.queueUrl;
  statePath = path.join(dir, 'state.json');
  writeStateFile(statePath, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    broker: 'simulator',
    sqsEndpoint: sqs.endpoint,
    dynamoEndpoint: 'http://127.0.0.1:1',
    simulatorUrl: sim.url,
    tableName: 'unused',
    logPath: path.join(dir, 'log'),
    accounts: { main: { queueUrl: q.queueUrl, dlqUrl: q.dlqUrl } },
  });
});

afterAll(async () => {
  await sim?.close();
  await sqs?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const days = (expiry: string) => Math.round((Date.parse(expiry) - Date.now()) / 86_400_000);

describe('inject --sample-spread', () => {
  it("sends one debit call vertical from the simulator's chain: near the money, $5 wide, 30-45 days, limit = long ask - short bid", async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) };

    const res = await runInject(['--sample-spread', '--state', statePath], io);

    expect(lines.filter((l) => l.startsWith('ERR'))).toEqual([]);
    expect(res.exitCode).toBe(0);
    expect(res.sent.map((s) => s.source)).toEqual(['sample spread']);
    const got = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(got.Messages).toHaveLength(1);
    const body = JSON.parse(got.Messages![0].Body!) as {
      ticker: string;
      legs: Array<{ option_symbol: string; side: string; ratio_qty: number }>;
      num_contracts: number;
      order_type: string;
      limit_price: number;
      exit_plan: unknown;
    };
    // What the open-order function's first step accepts.
    expect(() => parseRecommendationMessage(got.Messages![0].Body!, new Date())).not.toThrow();
    expect(body).toMatchObject({
      num_contracts: 1,
      order_type: 'limit',
      exit_plan: { stop_loss_pct: 0.5, take_profit_pct: 0.5 },
    });
    const [long, short] = body.legs;
    expect([long.side, short.side, long.ratio_qty, short.ratio_qty]).toEqual(['buy', 'sell', 1, 1]);
    const l = parseOcc(long.option_symbol)!;
    const s = parseOcc(short.option_symbol)!;
    expect([l.type, s.type, l.underlying, s.underlying]).toEqual(['call', 'call', body.ticker, body.ticker]);
    expect(l.expiry).toBe(s.expiry);
    expect(days(l.expiry)).toBeGreaterThanOrEqual(30);
    expect(days(l.expiry)).toBeLessThanOrEqual(50); // 45 days, moved past a weekend
    expect(s.strike - l.strike).toBe(5);
    // Both listed by the simulator; the long the listed call of that expiry nearest the money.
    const listed = [...sim.market.contracts.values()].filter(
      (c) => c.underlying === body.ticker && c.type === 'call' && c.expiry === l.expiry,
    );
    expect(listed.map((c) => c.symbol)).toEqual(
      expect.arrayContaining([long.option_symbol, short.option_symbol]),
    );
    const spot = sim.market.stockPrices.get(body.ticker)!.price;
    const nearest = Math.min(...listed.map((c) => Math.abs(c.strike - spot)));
    expect(Math.abs(l.strike - spot)).toBe(nearest);
    const qLong = sim.market.quotes.get(long.option_symbol)!;
    const qShort = sim.market.quotes.get(short.option_symbol)!;
    expect(body.limit_price).toBe(Math.round((qLong.ask - qShort.bid) * 100) / 100);
    expect(body.limit_price).toBeGreaterThan(0);
  });

  it('is a usage error with --queue-url (it reads the local chain) or --rejections', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const r = await runInject(['--sample-spread', '--queue-url', 'https://sqs.example/q'], io);
    expect(r.exitCode).toBe(2);
    expect(lines.join('\n')).toContain('--sample-spread reads the local simulator');
    expect((await runInject(['--sample-spread', '--rejections'], io)).exitCode).toBe(2);
  });

  it('refuses to build one from a chain without a quoted $5-wide call pair', () => {
    const now = new Date('2027-01-04T15:00:00Z');
    const call = (strike: number, bid: number | null) => ({
      symbol: `SPY270212C00${strike}000`,
      underlying: 'SPY',
      expiry: '2027-02-12',
      type: 'call' as const,
      strike,
      bid,
      ask: bid === null ? null : bid + 0.1,
      days: 39,
      distance: Math.abs(strike / 600 - 1),
    });
    expect(() => sampleSpreadRecommendation([call(600, 3), call(610, 1)], { now })).toThrow(
      /no quoted call vertical/,
    );
    expect(() => sampleSpreadRecommendation([call(600, 3), call(605, null)], { now })).toThrow(
      /no quoted call vertical/,
    );
    expect(sampleSpreadRecommendation([call(600, 3), call(605, 1.5)], { now })).toMatchObject({
      limit_price: 1.6,
    });
  });
});
