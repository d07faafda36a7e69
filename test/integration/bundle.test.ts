/**
 * The deployed artifact, not the sources: both handlers are built exactly as the stack builds them
 * (lib/pipeline-function.ts PIPELINE_BUNDLING, incl. the slim Alpaca SDK alias), then each bundle runs in a
 * fresh Node process, as Lambda would, against the simulator and dynalite served by this test.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildBundles, type BuiltBundle } from '../../scripts/bench/bundle';
import { sentOrders, sqsEvent, sqsRecord, startPipeline, type Pipeline } from '../helpers/pipeline';
import { FUTURE_SYMBOL, recommendationBody } from '../helpers/recommendations';

const ROOT = resolve(__dirname, '../..');
let bundles: Record<string, BuiltBundle>;
let p: Pipeline;

beforeAll(async () => {
  const built = await buildBundles(mkdtempSync(join(tmpdir(), 'ops-bundles-')));
  bundles = Object.fromEntries(built.map((b) => [b.name, b]));
  p = await startPipeline();
  p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
}, 60_000);
afterAll(async () => {
  await p?.close();
});

// The child: load the bundle (its environment is parsed at load, like a cold start), invoke once, print.
const CHILD = `
const [file, event] = [process.argv[1], JSON.parse(process.argv[2])];
require(file).handler(event, { functionName: 'bundle-test', awsRequestId: 'r', getRemainingTimeInMillis: () => 30000 })
  .then((r) => process.stdout.write('\\nRESULT ' + JSON.stringify(r) + '\\n'), (e) => { console.error(e); process.exit(1); });
`;

function invokeBundle(file: string, event: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD, file, JSON.stringify(event)], {
      env: {
        PATH: process.env.PATH ?? '',
        // The bundles leave @aws-sdk/* to the runtime (Lambda ships it); here it comes from node_modules.
        NODE_PATH: join(ROOT, 'node_modules'),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...p.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bundle exited ${code}: ${err.slice(-1500)}`));
      // Powertools writes its JSON log lines to stdout too: the result is the marked line.
      const line = out.split('\n').find((l) => l.startsWith('RESULT ')) ?? '';
      try {
        resolvePromise(JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>);
      } catch {
        reject(new Error(`no result from the bundle: ${out.slice(-800)}`));
      }
    });
  });
}

describe('the built Lambda bundles', () => {
  it('are small: at most 400 KB each (minified, @aws-sdk external)', () => {
    for (const b of Object.values(bundles)) expect(b.bytes).toBeLessThanOrEqual(400 * 1024);
  });

  it('open-order: a BUY becomes one buy_to_open order; a bad message is refused with its reason', async () => {
    const res = await invokeBundle(
      bundles['open-order'].file,
      sqsEvent([
        sqsRecord(recommendationBody({ recommendation_id: 'bundle-1' }), { messageId: 'ok' }),
        sqsRecord(recommendationBody({ stop_loss: 0.2 }), { messageId: 'typo' }),
      ]),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'typo' }]);
    expect(sentOrders(p.sim)).toEqual([
      expect.objectContaining({ client_order_id: 'ops-main-o-bundle-1', position_intent: 'buy_to_open' }),
    ]);
    const [rejection] = await p.table.store.listRejections('main');
    expect(rejection.detail).toContain('Unrecognized key: "stop_loss"');
  });

  it('exit-evaluator: a sweep learns the fill through the bundled SDK classes', async () => {
    const report = await invokeBundle(bundles['exit-evaluator'].file, {});
    expect(report.errors).toEqual([]);
    expect(await p.table.store.get('main', 'bundle-1')).toMatchObject({
      state: 'open',
      quantity: 2,
      entry_price: 2.1,
    });
  });

  it('exit-evaluator: on a scheduled event the bundle polls the price rules and closes a crossing within the window', async () => {
    // The default sweep_poll_seconds (10): a window of 13 s after the full pass (the next sweep due 5 s later).
    const time = new Date(Date.now() - 60_000 + 5_000 + 13_000).toISOString();
    const run = invokeBundle(bundles['exit-evaluator'].file, { 'detail-type': 'Scheduled Event', time });
    await new Promise((r) => setTimeout(r, 3_000));
    p.sim.setQuote(FUTURE_SYMBOL, { bid: 0.5, ask: 0.6 }); // through the default 50 % stop (entry 2.10)
    const report = await run;
    // At least the poll that saw the crossing. Not exactly one: the bundle runs in its own process, whose
    // clock under `faketime` starts again at the faked date, so its window can hold a second poll.
    expect(report.polls).toBeGreaterThanOrEqual(1);
    expect(report.ordersSent).toEqual([
      expect.objectContaining({ position_id: 'bundle-1', reason: 'stop_loss' }),
    ]);
    const close = sentOrders(p.sim).find((o) => o.client_order_id === 'ops-main-x1-bundle-1');
    expect(close).toMatchObject({ side: 'sell', qty: '2', symbol: FUTURE_SYMBOL });
    expect(close).not.toHaveProperty('position_intent');
  }, 30_000);
});
