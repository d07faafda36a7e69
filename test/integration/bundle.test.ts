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

// A hang guard only (no assertion here reads the wall clock): real handlers, dynalite and the simulator
// take many times longer on a loaded machine.
jest.setTimeout(120_000);

const ROOT = resolve(__dirname, '../..');
let bundles: Record<string, BuiltBundle>;
let p: Pipeline;

beforeAll(async () => {
  const built = await buildBundles(mkdtempSync(join(tmpdir(), 'ops-bundles-')));
  bundles = Object.fromEntries(built.map((b) => [b.name, b]));
  p = await startPipeline();
  p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
}, 120_000);
afterAll(async () => {
  await p?.close();
});

// The child: load the bundle (its environment is parsed at load, like a cold start), invoke once, print.
const CHILD = `
const [file, event] = [process.argv[1], JSON.parse(process.argv[2])];
require(file).handler(event, { functionName: 'bundle-test', awsRequestId: 'r', getRemainingTimeInMillis: () => 30000 })
  .then((r) => process.stdout.write('\\nRESULT ' + JSON.stringify(r) + '\\n'), (e) => { console.error(e); process.exit(1); });
`;

/** The bundle's environment: the test's pipeline, @aws-sdk/* from node_modules (Lambda ships it). */
function childEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    NODE_PATH: join(ROOT, 'node_modules'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...p.env,
  };
}

/**
 * Runs `script` in a fresh Node process; resolves with the object on its `RESULT` line. Each `SLEEP ms`
 * line it prints is handed to `onSleep`, and the child goes on once `GO` comes back on its stdin.
 */
function runChild(
  script: string,
  args: string[],
  onSleep: (ms: number) => Promise<void> | void = () => undefined,
): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['-e', script, ...args], {
      env: childEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('SLEEP ')) continue;
        void Promise.resolve(onSleep(Number(line.slice('SLEEP '.length)))).then(
          () => child.stdin.write('GO\n'),
          (e: unknown) => {
            child.kill();
            reject(e instanceof Error ? e : new Error(String(e)));
          },
        );
      }
    });
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

function invokeBundle(file: string, event: unknown): Promise<Record<string, unknown>> {
  return runChild(CHILD, [file, JSON.stringify(event)]);
}

/**
 * The child of a polling invocation: the bundled exit-evaluator factory (what `handler` is built from) on
 * a clock of the child's own, which moves only when the poll sleeps; each sleep asks the test first
 * (SLEEP ms / GO). The scheduled event is dated on that clock, so the window is `windowMs` after the
 * child's start whatever the machine's load.
 */
const POLLING_CHILD = `
const readline = require('node:readline');
const [file, windowMs] = [process.argv[1], Number(process.argv[2])];
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
let nowMs = Date.now();
const pollSleep = async (ms) => {
  process.stdout.write('\\nSLEEP ' + ms + '\\n');
  await lines.next();
  nowMs += ms;
};
const handler = require(file).createExitEvaluatorHandler(process.env, { now: () => new Date(nowMs), pollSleep });
const event = { 'detail-type': 'Scheduled Event', time: new Date(nowMs - 60000 + 5000 + windowMs).toISOString() };
handler(event, { functionName: 'bundle-test', awsRequestId: 'r', getRemainingTimeInMillis: () => 30000 })
  .then((r) => process.stdout.write('\\nRESULT ' + JSON.stringify(r) + '\\n'), (e) => { console.error(e); process.exitCode = 1; })
  .finally(() => process.stdin.destroy());
`;

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
    // The default sweep_poll_seconds (10): a window of 13 s after the full pass (the next sweep due 5 s
    // later) holds exactly one poll, 10 s after the pass. The price crosses while the poll waits for it.
    const sleeps: number[] = [];
    const report = await runChild(POLLING_CHILD, [bundles['exit-evaluator'].file, '13000'], (ms) => {
      sleeps.push(ms);
      if (sleeps.length === 1) p.sim.setQuote(FUTURE_SYMBOL, { bid: 0.5, ask: 0.6 }); // through the 50 % stop
    });
    expect(sleeps).toEqual([10_000]);
    expect(report.polls).toBe(1);
    expect(report.ordersSent).toEqual([
      expect.objectContaining({ position_id: 'bundle-1', reason: 'stop_loss' }),
    ]);
    const close = sentOrders(p.sim).find((o) => o.client_order_id === 'ops-main-x1-bundle-1');
    expect(close).toMatchObject({ side: 'sell', qty: '2', symbol: FUTURE_SYMBOL });
    expect(close).not.toHaveProperty('position_intent');
  }, 60_000);
});
