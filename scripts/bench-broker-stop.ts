/**
 * `npm run bench:stops`: what protective stops resting at the broker (`exit_execution.broker_stop`, issue
 * 14) change, measured in the Alpaca simulator through the real exit-evaluator handler, adapters and SDK:
 *
 * 1. reaction time from the price crossing a position's stop to the closing order at the broker, with
 *    `broker_stop` off (the sweep sees it on its next run) and on (the resting order);
 * 2. the requests per sweep of keeping 100 stops true (replacements as trailing stops ratchet) while every
 *    price moves, beside the same sweeps with `broker_stop` off.
 *
 * Prints a Markdown section for docs/BENCHMARKS.md. Options: `--sweeps N` (part 2, default 30),
 * `--trials N` (part 1, default 10), `--seed N` (the price walk, default 14).
 */
import { mulberry32 } from '../local/alpaca-sim';
import { BENCH_STOPS_USAGE } from './bench/cli';
import { subBenchArgsOrExit } from './bench/sub-cli';
import { startBenchEnv, type BenchEnv } from './bench/harness';
import { seedOpenPositions, seedSymbol } from './bench/seed';

const POSITIONS = 100;
const SWEEP_INTERVAL_S = 60;

const round2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const max = (xs: number[]) => Math.max(...xs);

async function env(brokerStop: 'stop' | null): Promise<BenchEnv> {
  // No rate limit: part 2 counts requests, it does not throttle them (the first sweep with stops on places
  // 100 of them; see the notes).
  return startBenchEnv({
    rateLimitPerMinute: null,
    account: { exit_execution: { max_quote_age_seconds: 86_400, broker_stop: brokerStop } },
  });
}

/** Part 1, one trial: ms from the quote crossing the stop to the closing order reaching the broker. */
async function reactionTrial(brokerStop: 'stop' | null): Promise<number> {
  const e = await env(brokerStop);
  try {
    await seedOpenPositions(e, 1, 'react-');
    await e.sweep(); // trailing state recorded; with broker_stop on, the stop rests at 1.60
    const symbol = seedSymbol(0);
    const before = e.sim.requests.length;
    const t0 = Date.now();
    e.sim.setQuote(symbol, { bid: 1.5, ask: 1.6 }); // through the 1.60 trailing stop
    if (brokerStop === null) await e.sweep(); // the sweep that runs next (scheduling wait added apart)
    const order = e.sim
      .orders(e.keyId)
      .find((o) => o.side === 'sell' && ['filled', 'new', 'accepted'].includes(String(o.status)));
    if (!order) throw new Error('no closing order reached the broker');
    const at =
      brokerStop === null
        ? Date.parse(e.sim.requests.slice(before).find((r) => r.method === 'POST')!.time)
        : Date.parse(String(order.filled_at ?? order.updated_at));
    return Math.max(0, at - t0);
  } finally {
    await e.close();
  }
}

/** Part 2: requests per sweep over `sweeps` sweeps of 100 positions whose prices walk. */
async function costRun(brokerStop: 'stop' | null, sweeps: number, seed: number) {
  const e = await env(brokerStop);
  try {
    await seedOpenPositions(e, POSITIONS, 'cost-');
    const first = await e.sweep();
    const next = mulberry32(seed);
    const mids = Array.from({ length: POSITIONS }, () => 2.05);
    const totals: number[] = [];
    const patches: number[] = [];
    let closed = 0;
    for (let k = 0; k < sweeps; k++) {
      for (let i = 0; i < POSITIONS; i++) {
        // ±3 % a sweep with a slight upward drift: trailing stops ratchet now and then, some fire.
        mids[i] = Math.max(0.3, mids[i] * (1 + (next() - 0.45) * 0.06));
        e.sim.setQuote(seedSymbol(i), { bid: round2(mids[i] - 0.05), ask: round2(mids[i] + 0.05) });
      }
      const m = await e.sweep();
      totals.push(m.broker.total);
      patches.push(
        Object.entries(m.broker.byPath).reduce((n, [p, c]) => (p.startsWith('PATCH') ? n + c : n), 0),
      );
      closed += m.report.closed.length;
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      first: first.broker.total,
      firstWrites: first.table.writes,
      mean: mean(totals),
      max: max(totals),
      patches: mean(patches),
      maxPatches: max(patches),
      closed,
    };
  } finally {
    await e.close();
  }
}

async function main(): Promise<void> {
  const { numbers } = subBenchArgsOrExit(
    {
      numbers: {
        trials: { default: 10, min: 1 },
        sweeps: { default: 30, min: 1 },
        seed: { default: 14, min: 1 },
      },
    },
    BENCH_STOPS_USAGE,
  );
  const { trials, sweeps, seed } = numbers;
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < trials; i++) {
    off.push(await reactionTrial(null));
    on.push(await reactionTrial('stop'));
  }
  const costOff = await costRun(null, sweeps, seed);
  const costOn = await costRun('stop', sweeps, seed);
  const lines = [
    `## Protective stops at the broker (\`npm run bench:stops -- --trials ${trials} --sweeps ${sweeps} --seed ${seed}\`)`,
    '',
    `Measured ${new Date().toISOString()} in the simulator (no injected latency), through the exit-evaluator`,
    'handler, the real adapters and SDK, dynalite.',
    '',
    `**Reaction time**, price crossing a position's stop → the closing order at the broker (${trials} trials):`,
    '',
    '| `broker_stop` | measured (median / max) | plus the wait for the next sweep | total, expected / worst |',
    '| --- | --- | --- | --- |',
    `| off (the sweep) | ${median(off)} / ${max(off)} ms (one sweep of one position) | 0–${SWEEP_INTERVAL_S} s (uniform over the 1-min interval) | ≈ ${SWEEP_INTERVAL_S / 2} s / ${SWEEP_INTERVAL_S} s + the sweep |`,
    `| \`stop\` (the resting order) | ${median(on)} / ${max(on)} ms (the simulator triggers on the quote) | none: nothing of the pipeline runs | the broker's own trigger latency |`,
    '',
    `**Request cost of keeping ${POSITIONS} stops true** (every price walks ±3 % a sweep; ${sweeps} sweeps; trailing stop 20 %):`,
    '',
    '| `broker_stop` | first sweep: broker requests / table writes | broker requests per sweep after (mean / max) | of which PATCH (mean / max) | positions closed |',
    '| --- | --- | --- | --- | --- |',
    `| off | ${costOff.first} / ${costOff.firstWrites} | ${costOff.mean.toFixed(1)} / ${costOff.max} | 0 / 0 | ${costOff.closed} |`,
    `| \`stop\` | ${costOn.first} / ${costOn.firstWrites} | ${costOn.mean.toFixed(1)} / ${costOn.max} | ${costOn.patches.toFixed(1)} / ${costOn.maxPatches} | ${costOn.closed} |`,
  ];
  console.log(lines.join('\n'));
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`bench:stops: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
