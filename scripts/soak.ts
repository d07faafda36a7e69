/**
 * The long run of the reliability model (issue 6): the same model as test/reliability/model.test.ts for
 * many more days, then the figures for docs/RELIABILITY.md.
 *
 *   npm run soak                                   # 5,000 days of up to 40 steps, random seed (~25-30 min)
 *   npm run soak -- --minutes 10                   # the same, but no run starts after 10 minutes
 *   npm run soak -- --runs 20000 --max-commands 60 --seed 42
 *   npm run soak -- --burst                        # also the 1,000-recommendation burst, unscaled (60 s window)
 *   npm run soak -- --burst-only --burst-window-ms 3000
 *
 * Environment equivalents: SOAK_RUNS, SOAK_MAX_COMMANDS, SOAK_SEED. Progress is redrawn on stderr. Exit code
 * 1 on any violation, with fast-check's report (seed, path and the shrunk list of actions to paste into
 * regressions.test.ts). --minutes only skips the runs that would start after the limit: the same seed
 * replays the same runs with or without it.
 */
import { adviseNodeVersion } from '../local/node-version';
// Before any AWS SDK client exists: one line of Node advice instead of the SDK's seven.
adviseNodeVersion();
import { checkModel, formatFigures, startWorld, type Figures, type World } from '../test/reliability/model';
import { runBurst } from '../test/reliability/rate-limit';
import fc from 'fast-check';
import { parseSoakArgs, progressLine, SOAK_USAGE } from './soak/cli';

const VIOLATIONS = [
  'duplicates',
  'oversells',
  'unintendedShorts',
  'intentViolations',
  'lost',
  'divergences',
  'liveness',
  // The books at rest (issue 23): ledger = broker, stored figures = ledger, a report twice = once.
  'holdingMismatches',
  'realizedMismatches',
  'dayPnlMismatches',
  'reportsNotIdempotent',
  // Spreads: no position beyond the live spreads' legs, no short left naked by the pipeline, flat when closed.
  'spreadUnintendedPosition',
  'nakedShortByPipeline',
  'spreadNotFlat',
] as const;

/** Redraws the progress line from the world's figures (merged after every run) until stopped. */
function startProgress(figures: Figures, runsTotal: number, deadline: number | null) {
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let lastPlain = 0;
  const draw = (final = false) => {
    const line = progressLine({
      runsDone: figures.runs,
      runsTotal,
      steps: figures.steps,
      faults: Object.values(figures.faults).reduce((a, b) => a + b, 0),
      violations: VIOLATIONS.reduce((a, k) => a + figures[k], 0),
      elapsedMs: Date.now() - started,
      timeLeftMs: deadline === null ? null : Math.max(0, deadline - Date.now()),
    });
    if (tty) process.stderr.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    // Not a terminal (CI, a log file): a line every 15 s instead of redrawing.
    else if (final || Date.now() - lastPlain >= 15_000) {
      lastPlain = Date.now();
      process.stderr.write(`${line}\n`);
    }
  };
  const timer = setInterval(draw, 500);
  return () => {
    clearInterval(timer);
    draw(true);
  };
}

/** fast-check's end of a check whose remaining runs were skipped for the time limit. */
function isTimeBoundStop(err: unknown): boolean {
  return (
    err instanceof Error &&
    /too many pre-condition failures/.test(err.message) &&
    /Skipped 1 time/.test(err.message)
  );
}

async function soakModel(
  world: World,
  runs: number,
  maxCommands: number,
  seed: number,
  minutes: number | null,
) {
  const deadline = minutes === null ? null : Date.now() + minutes * 60_000;
  // A time bound without touching the model: fast-check's global settings skip every run that would start
  // after the limit (the run in flight finishes), and with no skip tolerated the first skip ends the check
  // (as "too many pre-condition failures"; the model has no preconditions of its own). The same seed
  // replays the same runs with or without --minutes.
  if (minutes !== null) {
    fc.configureGlobal({
      ...fc.readConfigureGlobal(),
      skipAllAfterTimeLimit: minutes * 60_000,
      maxSkipsPerRun: 0,
    });
  }
  const stop = startProgress(world.figures, runs, deadline);
  try {
    await checkModel(world, { numRuns: runs, maxCommands, seed });
    return true;
  } catch (err) {
    if (deadline !== null && Date.now() >= deadline && isTimeBoundStop(err)) return true;
    stop();
    // fast-check's report (seed, path, shrunk actions), then the invariant that broke.
    console.error(String(err instanceof Error ? err.message : err));
    const cause = (err as { cause?: unknown }).cause;
    if (cause) console.error(String(cause instanceof Error ? cause.message : cause));
    return false;
  } finally {
    stop();
  }
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseSoakArgs(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`soak: ${(err as Error).message}`);
    return 2;
  }
  if (args.help) {
    console.log(SOAK_USAGE);
    return 0;
  }
  let failed = false;

  if (!args.burstOnly) {
    const world = await startWorld();
    const started = Date.now();
    const bound = [
      Number.isFinite(args.runs) ? `${args.runs} runs` : null,
      args.minutes !== null ? `${args.minutes} min` : null,
    ].filter(Boolean);
    console.log(`model: ${bound.join(' or ')} of up to ${args.maxCommands} steps, seed ${args.seed}`);
    try {
      failed = !(await soakModel(world, args.runs, args.maxCommands, args.seed, args.minutes));
    } finally {
      await world.close();
    }
    console.log(formatFigures(world.figures, Date.now() - started));
    // What the books' counted comparisons saw (delivered shares, unbooked option events), the first few.
    if (world.findings.length) {
      console.log(`books findings (counted, not violations; first ${world.findings.length}):`);
      for (const f of world.findings) console.log(`  ${f}`);
    }
    console.log(JSON.stringify({ seed: args.seed, ...world.figures }));
  }

  if (args.burst || args.burstOnly) {
    const windowMs = args.burstWindowMs;
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
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
