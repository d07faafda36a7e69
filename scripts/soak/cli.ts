/** The pure parts of `npm run soak`: its arguments and the progress line it redraws. */

export const SOAK_DEFAULT_RUNS = 5000;

export const SOAK_USAGE = `Usage: npm run soak -- [--runs N] [--minutes M] [--max-commands K] [--seed S] [--burst | --burst-only]

  --runs N          random days to run (default ${SOAK_DEFAULT_RUNS}, about 25-30 min on 2 cores); SOAK_RUNS
  --minutes M       start no run after M minutes (the one in flight finishes); the seed replays the same runs
  --max-commands K  steps per day, at most (default 40); SOAK_MAX_COMMANDS
  --seed S          seed (default random, printed); SOAK_SEED
  --burst           also the 1,000-recommendation burst, unscaled (60 s window)
  --burst-only      only the burst; --burst-window-ms MS sets its window

Invariants: safety (duplicates, oversells, unintended shorts, intents), no message lost, table = broker
after convergence, liveness, and the books at rest (issue 23): each contract's ledger holdings = the
broker's, stored realized P&L / fees / quantity = the ledger's to the cent, a broker report applied twice =
once. The day P&L identity is not checked yet (the day's P&L is being rewired onto the ledger).
Progress (runs, steps, faults, violations so far, time left) is redrawn on stderr.
Exit 1 on any violation, with fast-check's report (seed, path, shrunk actions).`;

/** Parsed soak arguments. */
export interface SoakArgs {
  readonly runs: number;
  readonly minutes: number | null;
  readonly maxCommands: number;
  readonly seed: number;
  readonly burst: boolean;
  readonly burstOnly: boolean;
  readonly burstWindowMs: number;
  readonly help: boolean;
}

/** Parses `npm run soak` arguments (flags win over SOAK_* variables); throws on a bad one. */
export function parseSoakArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
  random: () => number = Math.random,
): SoakArgs {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') flags.add('help');
    else if (a === '--burst' || a === '--burst-only') flags.add(a.slice(2));
    else if (['--runs', '--minutes', '--max-commands', '--seed', '--burst-window-ms'].includes(a)) {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n\n${SOAK_USAGE}`);
      values[a.slice(2)] = v;
    } else throw new Error(`unknown option ${a}\n\n${SOAK_USAGE}`);
  }
  const num = (name: string, raw: string | undefined, dflt: number, min: number) => {
    if (raw === undefined) return dflt;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min) throw new Error(`--${name} needs a number ≥ ${min}, got "${raw}"`);
    return v;
  };
  const minutesRaw = values.minutes;
  const minutes = minutesRaw === undefined ? null : num('minutes', minutesRaw, 0, 0.01);
  const runs = num('runs', values.runs ?? env.SOAK_RUNS, SOAK_DEFAULT_RUNS, 1);
  const seedRaw = values.seed ?? env.SOAK_SEED;
  return {
    runs: Math.floor(runs),
    minutes,
    maxCommands: Math.floor(num('max-commands', values['max-commands'] ?? env.SOAK_MAX_COMMANDS, 40, 1)),
    seed: seedRaw === undefined ? Math.floor(random() * 2 ** 31) : Math.floor(num('seed', seedRaw, 0, 0)),
    burst: flags.has('burst'),
    burstOnly: flags.has('burst-only'),
    burstWindowMs: num('burst-window-ms', values['burst-window-ms'], 60_000, 100),
    help: flags.has('help'),
  };
}

/** What the progress line shows. */
export interface SoakProgress {
  readonly runsDone: number;
  readonly runsTotal: number;
  readonly steps: number;
  readonly faults: number;
  readonly violations: number;
  readonly elapsedMs: number;
  /** Epoch-free: ms left before --minutes is up, or null without it. */
  readonly timeLeftMs: number | null;
}

const duration = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

/**
 * One progress line: a bar of runs (or of time, when only --minutes bounds the soak), the counts so far and
 * the time left (the smaller of the time bound and the estimate from the runs' pace).
 */
export function progressLine(p: SoakProgress, width = 24): string {
  const byRuns = Number.isFinite(p.runsTotal) ? p.runsDone / p.runsTotal : null;
  const byTime = p.timeLeftMs !== null ? p.elapsedMs / (p.elapsedMs + p.timeLeftMs) : null;
  const fraction = Math.min(1, Math.max(byRuns ?? 0, byTime ?? 0));
  const filled = Math.round(fraction * width);
  const estimate =
    byRuns !== null && p.runsDone > 0 ? (p.elapsedMs / p.runsDone) * (p.runsTotal - p.runsDone) : null;
  const left = [estimate, p.timeLeftMs].filter((x): x is number => x !== null);
  const runs = Number.isFinite(p.runsTotal)
    ? `${p.runsDone.toLocaleString('en-US')}/${p.runsTotal.toLocaleString('en-US')} runs`
    : `${p.runsDone.toLocaleString('en-US')} runs`;
  return (
    `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${runs} · ${p.steps.toLocaleString('en-US')} steps · ` +
    `${p.faults.toLocaleString('en-US')} faults · ${p.violations} violations · ${duration(p.elapsedMs)} elapsed` +
    (left.length > 0 ? ` · ~${duration(Math.min(...left))} left` : '')
  );
}
