/**
 * The long run of the reliability model (issue 6): the same model as test/reliability/model.test.ts for
 * many more days, then the figures for docs/RELIABILITY.md.
 *
 *   npm run soak                                   # 5,000 days of up to 40 steps, random seed
 *   npm run soak -- --runs 20000 --max-commands 60 --seed 42
 *   npm run soak -- --burst                        # also the 1,000-recommendation burst, unscaled (60 s window)
 *   npm run soak -- --burst-only --burst-window-ms 3000
 *
 * Environment equivalents: SOAK_RUNS, SOAK_MAX_COMMANDS, SOAK_SEED. Exit code 1 on any violation, with
 * fast-check's report (seed, path and the shrunk list of actions to paste into regressions.test.ts).
 */
import { checkModel, formatFigures, startWorld } from '../test/reliability/model';
import { runBurst } from '../test/reliability/rate-limit';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

async function main() {
  const runs = Number(arg('runs') ?? process.env.SOAK_RUNS ?? 5000);
  const maxCommands = Number(arg('max-commands') ?? process.env.SOAK_MAX_COMMANDS ?? 40);
  const seedRaw = arg('seed') ?? process.env.SOAK_SEED;
  const seed = seedRaw === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(seedRaw);
  let failed = false;

  if (!flag('burst-only')) {
    const world = await startWorld();
    const started = Date.now();
    console.log(`model: ${runs} runs of up to ${maxCommands} steps, seed ${seed}`);
    try {
      await checkModel(world, { numRuns: runs, maxCommands, seed });
    } catch (err) {
      failed = true;
      // fast-check's report (seed, path, shrunk actions), then the invariant that broke.
      console.error(String(err instanceof Error ? err.message : err));
      const cause = (err as { cause?: unknown }).cause;
      if (cause) console.error(String(cause instanceof Error ? cause.message : cause));
    } finally {
      await world.close();
    }
    console.log(formatFigures(world.figures, Date.now() - started));
    console.log(JSON.stringify({ seed, ...world.figures }));
  }

  if (flag('burst') || flag('burst-only')) {
    const windowMs = Number(arg('burst-window-ms') ?? 60_000);
    console.log(`burst: 1,000 recommendations at once, rate window ${windowMs} ms`);
    const r = await runBurst({
      recommendations: 1000,
      windowMs,
      sweepEveryMs: Math.min(windowMs / 4, 15_000),
    });
    console.log(JSON.stringify(r, null, 2));
    console.log(
      `peak requests per ${windowMs === 60_000 ? 'minute' : `${windowMs} ms window`}: ${r.peakPerWindow} ` +
        `(limit 200), 429s: ${r.answered429}, lost: ${r.lost}`,
    );
    if (r.peakPerWindow > 200 || r.lost > 0) failed = true;
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
