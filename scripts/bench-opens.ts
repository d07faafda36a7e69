/**
 * `npm run bench:opens` (issue 15): message sent → opening order at the broker, in the local stack (the
 * local SQS runner behaves like Lambda's event source mapping: long poll, batch of up to 10, the batching
 * window), with the Alpaca simulator adding 20 ms to every request. Recommendations are sent one at a time,
 * each after the previous one's order arrived (a trickle: the case the batching window delays); the first
 * two are the containers' cold starts and are reported apart.
 *
 *   npm run bench:opens [-- --window SECONDS] [-- --count N]     (window: the stack's, 0 s, by default)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { OPEN_ORDER_EVENT_SOURCE } from '../lib/broker-rate-budget';
import { localExpiries } from '../local/starting-market';
import { startLocalStack } from '../local/stack';
import { BENCH_OPENS_USAGE } from './bench/cli';
import { subBenchArgsOrExit } from './bench/sub-cli';

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const { numbers } = subBenchArgsOrExit(
    {
      numbers: {
        window: { default: OPEN_ORDER_EVENT_SOURCE.maxBatchingWindowSeconds, min: 0 },
        count: { default: 40, min: 3 },
      },
    },
    BENCH_OPENS_USAGE,
  );
  const { window: windowSeconds, count } = numbers;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-bench-opens-'));
  // One account that may hold every position the run opens.
  const cdkJson = path.join(dir, 'cdk.json');
  fs.writeFileSync(
    cdkJson,
    JSON.stringify({
      context: {
        accounts: [{ name: 'main', limits: { max_open_positions: 1000, max_contracts_per_order: 10 } }],
      },
    }),
  );
  const stack = await startLocalStack({
    broker: { kind: 'simulator' },
    accounts: ['main'],
    cdkJsonPath: cdkJson,
    stateDir: dir,
    writeState: false,
    sweepSeconds: 5,
    batchingWindowSeconds: windowSeconds,
    waitTimeSeconds: 20,
    randomWalk: false,
    simulatorLatencyMs: 20,
  });
  const sim = stack.sim!;
  const account = stack.accounts[0];
  const expiry = localExpiries(new Date())[1];
  const symbol = [...sim.market.contracts.values()].find(
    (c) => c.underlying === 'GOOGL' && c.expiry === expiry && c.type === 'call',
  )!.symbol;
  const latencies: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const id = `bench-open-${Date.now()}-${i}`;
      const body = JSON.stringify({
        recommendation_id: id,
        ticker: 'GOOGL',
        option_symbol: symbol,
        action: 'BUY',
        num_contracts: 1,
        order_type: 'market',
        created_at: new Date().toISOString(),
      });
      const from = sim.requests.length;
      const sentAt = Date.now();
      await stack.sqs.client.send(new SendMessageCommand({ QueueUrl: account.queueUrl, MessageBody: body }));
      const deadline = sentAt + 30_000;
      for (;;) {
        const hit = sim.requests
          .slice(from)
          .find(
            (r) =>
              r.method === 'POST' &&
              r.path === '/v2/orders' &&
              (r.body as { client_order_id?: string })?.client_order_id === `ops-main-o-${id}`,
          );
        if (hit) {
          latencies.push(Date.parse(hit.time) - sentAt);
          break;
        }
        if (Date.now() > deadline) throw new Error(`no order for ${id} within 30 s`);
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const cold = latencies.slice(0, 2);
  const warm = latencies.slice(2).sort((a, b) => a - b);
  console.log(
    `message sent → opening order at the simulator (20 ms a request), batching window ${windowSeconds} s, ` +
      `${count} recommendations one at a time`,
  );
  console.log(`first two (cold containers): ${cold.map((x) => `${x} ms`).join(', ')}`);
  console.log(
    `warm (${warm.length}): p50 ${pct(warm, 50)} ms, p95 ${pct(warm, 95)} ms, max ${warm[warm.length - 1]} ms`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
