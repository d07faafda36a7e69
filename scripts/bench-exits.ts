/**
 * `npm run bench:exits` (issue 15): how long from a price crossing a stop to the closing order at the
 * broker, with the sweep's price-rule polls every 10 s against one pass a minute, and what polling costs
 * in broker requests a minute for 10, 100 and 1,000 positions.
 *
 * The exit-evaluator handler (source, in process) runs against the Alpaca simulator over HTTP (20 ms a
 * request) and dynalite, on a scaled clock shared by the handler and the simulator: real time while the
 * sweep works, a jump while it waits (between polls, and until the next scheduled minute). So a trial
 * covers minutes of the schedule in well under a second, and the waiting the figures measure is the
 * schedule's, not the machine's. The crossing falls at a random time (uniform over a minute) after a
 * scheduled sweep's start; the latency is the simulator's time stamp of the closing order minus it.
 *
 * `-- --bundle`: the same on the BUILT exit-evaluator bundle in real time (scripts/bench/bundled-exits.ts):
 * one minute, 20 positions crossing at random times in it (BENCH_EXIT_POSITIONS), about 2.5 minutes.
 */
import { performance } from 'node:perf_hooks';
import { BENCH_EXITS_USAGE } from './bench/cli';
import { subBenchArgsOrExit } from './bench/sub-cli';
import { createExitEvaluatorHandler } from '../shared/handlers/exit-evaluator';
import { SILENT_LOG } from '../shared/observability';
import { bundledExitLatencies } from './bench/bundled-exits';
import { startBenchEnv, type BenchEnv } from './bench/harness';
import { seedOpenPositions, seedSymbol } from './bench/seed';

const MINUTE = 60_000;
const TRIALS = Number(process.env.BENCH_EXIT_TRIALS ?? 40);

/** A clock that runs with real time and jumps forward on demand. */
function scaledClock() {
  let offset = 0;
  const ms = () => Date.now() + offset;
  return { ms, now: () => new Date(ms()), jumpTo: (t: number) => (offset += Math.max(0, t - ms())) };
}

/** The simulator (20 ms a request) and dynalite on `clock`, for one account polling every `pollSeconds`. */
function startEnv(pollSeconds: number | null, clock: ReturnType<typeof scaledClock>): Promise<BenchEnv> {
  return startBenchEnv({
    latencyMs: 20,
    rateLimitPerMinute: null,
    now: clock.now,
    // The bench env's quotes stay fresh for a day: the clock's jumps must not turn them stale.
    account: { name: 'exits', sweep_poll_seconds: pollSeconds },
  });
}

type Env = BenchEnv;

/** One container of the handler on the scaled clock; `onWait` runs when the clock is about to jump. */
function handlerOn(e: Env, clock: ReturnType<typeof scaledClock>, onWait: (until: number) => void) {
  return createExitEvaluatorHandler(e.lambdaEnv, {
    deps: async () => ({ broker: e.alpaca, marketData: e.alpaca, store: e.store, lease: e.store }),
    log: SILENT_LOG,
    now: clock.now,
    pollSleep: async (ms) => {
      const until = clock.ms() + ms;
      onWait(until);
      clock.jumpTo(until);
    },
  });
}

const scheduled = (t: number) => ({ 'detail-type': 'Scheduled Event', time: new Date(t).toISOString() });

/** Crossing → closing order, ms on the scheduled clock, for `TRIALS` random crossing times. */
async function exitLatencies(pollSeconds: number | null): Promise<number[]> {
  const clock = scaledClock();
  const e = await startEnv(pollSeconds, clock);
  const symbol = seedSymbol(0);
  let crossing: { at: number; done: boolean } = { at: 0, done: true };
  const cross = (until: number) => {
    if (crossing.done || crossing.at > until) return;
    clock.jumpTo(crossing.at);
    e.sim.setQuote(symbol, { bid: 0.8, ask: 0.9 }); // through the seeded 50 % stop (entry 2.00)
    crossing.done = true;
  };
  const sweep = handlerOn(e, clock, cross);
  const out: number[] = [];
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      await seedOpenPositions(e, 1, `t${trial}-`);
      // A scheduled minute starts; the price crosses at a random time within the next minute.
      let t = Math.ceil((clock.ms() + 1) / MINUTE) * MINUTE;
      clock.jumpTo(t);
      crossing = { at: t + 500 + Math.random() * MINUTE, done: false };
      for (let k = 0; k < 5; k++) {
        if (k > 0) {
          cross(t);
          clock.jumpTo(t);
        }
        await sweep(scheduled(t));
        const exit = e.sim
          .orders(e.keyId)
          .find((o) => String(o.client_order_id).endsWith(`-t${trial}-00000`));
        if (exit && crossing.done) {
          out.push(Date.parse(String(exit.submitted_at ?? exit.created_at)) - crossing.at);
          break;
        }
        t += MINUTE;
      }
      await sweep(scheduled((t += MINUTE))); // learn the fill: the next trial starts from a flat book
    }
  } finally {
    await e.close();
  }
  return out;
}

/** Broker requests of one scheduled minute (the full pass and its polls) over `n` positions, none firing. */
async function requestsPerMinute(
  pollSeconds: number | null,
  n: number,
): Promise<{ total: number; snapshots: number }> {
  const clock = scaledClock();
  const e = await startEnv(pollSeconds, clock);
  try {
    await seedOpenPositions(e, n);
    const sweep = handlerOn(e, clock, () => undefined);
    const t = Math.ceil((clock.ms() + 1) / MINUTE) * MINUTE;
    clock.jumpTo(t);
    await sweep(scheduled(t)); // warm: records the trailing peaks once
    clock.jumpTo(t + MINUTE);
    const from = e.sim.requests.length;
    await sweep(scheduled(t + MINUTE));
    const mine = e.sim.requests.slice(from).filter((r) => r.keyId === e.keyId);
    return {
      total: mine.length,
      snapshots: mine.filter((r) => r.path === '/v1beta1/options/snapshots').length,
    };
  } finally {
    await e.close();
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const { flags } = subBenchArgsOrExit({ flags: ['bundle'] }, BENCH_EXITS_USAGE);
  const started = performance.now();
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (flags.has('bundle')) {
    const n = Number(process.env.BENCH_EXIT_POSITIONS ?? 20);
    console.log(
      `the built bundle, real time: ${n} positions, each crossing its stop at a random time in one minute`,
    );
    console.log('| sweep_poll_seconds | p50 | p95 | max | polls in the minute |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const poll of [10, null]) {
      const r = await bundledExitLatencies(poll, n);
      const l = [...r.latencies].sort((a, b) => a - b);
      const name = poll ?? 'null (one pass a minute)';
      console.log(`| ${name} | ${s(pct(l, 50))} | ${s(pct(l, 95))} | ${s(l[l.length - 1])} | ${r.polls} |`);
    }
    console.log(`\nrun time ${s(performance.now() - started)}`);
    return;
  }
  console.log(`price crossing a stop → closing order at the broker, ${TRIALS} random crossings each`);
  console.log('| sweep_poll_seconds | p50 | p95 | max |');
  console.log('| --- | --- | --- | --- |');
  for (const poll of [10, null]) {
    const l = (await exitLatencies(poll)).sort((a, b) => a - b);
    if (l.length < TRIALS) throw new Error(`only ${l.length} of ${TRIALS} crossings were closed`);
    console.log(
      `| ${poll ?? 'null (one pass a minute)'} | ${s(pct(l, 50))} | ${s(pct(l, 95))} | ${s(l[l.length - 1])} |`,
    );
  }
  console.log('\nbroker requests in one scheduled minute (full pass + polls), no rule firing');
  console.log('| positions | polling every 10 s (snapshot calls) | one pass (snapshot calls) |');
  console.log('| --- | --- | --- |');
  for (const n of [10, 100, 1000]) {
    const [a, b] = [await requestsPerMinute(10, n), await requestsPerMinute(null, n)];
    console.log(`| ${n} | ${a.total} (${a.snapshots}) | ${b.total} (${b.snapshots}) |`);
  }
  console.log(`\nrun time ${s(performance.now() - started)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
