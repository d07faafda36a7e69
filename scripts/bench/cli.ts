/** The pure parts of `npm run bench`: its arguments and what its exit status says about the targets. */

export const BENCH_USAGE = `Usage: npm run bench [-- --write | --sweep]

  --write   also rewrite docs/BENCHMARKS.md with this run's figures (off by default: the doc is tracked);
            its hand-written sections, below the figures, are kept
  --sweep   only the sweep section (its calls, wall times and ratio; about a minute), to compare two
            versions of the code; never writes the doc

Prints each figure as it is measured, then the table. Exit 1 when a cost target (calls, sizes, memory)
is MISSED, naming the figures; timing misses (load times, wall-time ratios) are reported, not failing.
Takes about 3-5 minutes on 2 cores.`;

/** Parsed bench arguments. */
export interface BenchArgs {
  readonly write: boolean;
  readonly help: boolean;
  /** Only the sweep section (`--sweep`). */
  readonly sweepOnly: boolean;
}

/** Parses `npm run bench` arguments; throws with the usage on an unknown one. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let write = false;
  let help = false;
  let sweepOnly = false;
  for (const a of argv) {
    if (a === '--write') write = true;
    else if (a === '--sweep') sweepOnly = true;
    else if (a === '--help' || a === '-h') help = true;
    else throw new Error(`unknown option ${a}\n\n${BENCH_USAGE}`);
  }
  if (write && sweepOnly) throw new Error(`--write needs every section: not with --sweep\n\n${BENCH_USAGE}`);
  return { write, help, sweepOnly };
}

/** The line of docs/BENCHMARKS.md below which everything is hand-written: `--write` keeps it as it is. */
export const HAND_WRITTEN_MARKER =
  '<!-- Below this line: hand-written sections. `npm run bench -- --write` keeps them as they are. -->';

/**
 * The new docs/BENCHMARKS.md: the generated part, then the hand-written part of the file it replaces (from
 * {@link HAND_WRITTEN_MARKER} on; only the marker when the old file has none).
 */
export function withHandWritten(generated: string, existing: string | null): string {
  const at = existing?.indexOf(HAND_WRITTEN_MARKER) ?? -1;
  const kept = existing && at >= 0 ? existing.slice(at) : `${HAND_WRITTEN_MARKER}\n`;
  return `${generated.trimEnd()}\n\n${kept}`;
}

/** The exit status and closing message for the measured rows: 1 naming every MISSED figure, else 0. */
export function benchOutcome(
  rows: ReadonlyArray<{
    readonly figure: string;
    readonly value: string;
    readonly target: string;
    readonly verdict: string;
    /** `cost` (calls, sizes, memory: the default) fails the run when missed; `timing` is reported only. */
    readonly kind?: 'cost' | 'timing';
  }>,
): { exitCode: number; message: string } {
  const missed = rows.filter((r) => r.verdict === 'MISSED');
  const cost = missed.filter((r) => r.kind !== 'timing');
  const timing = missed.filter((r) => r.kind === 'timing');
  const list = (rs: typeof missed) => rs.map((r) => `  ${r.figure}: ${r.value} (target ${r.target})`);
  const lines: string[] = [];
  if (cost.length > 0) lines.push(`${cost.length} cost target(s) MISSED:`, ...list(cost));
  if (timing.length > 0)
    lines.push(
      `${timing.length} timing target(s) missed (reported, not failing: timings vary on a shared machine):`,
      ...list(timing),
    );
  if (missed.length === 0) return { exitCode: 0, message: `every target met (${rows.length} figures)` };
  if (cost.length === 0) lines.push(`every cost target met (${rows.length} figures)`);
  return { exitCode: cost.length > 0 ? 1 : 0, message: lines.join('\n') };
}

export const BENCH_STOPS_USAGE = `Usage: npm run bench:stops [-- --trials N] [--sweeps N] [--seed N]

  --trials N   reaction-time trials, broker_stop off and on (default 10)
  --sweeps N   sweeps of the 100-position request-cost run (default 30)
  --seed N     seed of the price walk (default 14)

Prints a Markdown section for docs/BENCHMARKS.md (copied there by hand). About 20 s.`;

export const BENCH_EXITS_USAGE = `Usage: npm run bench:exits [-- --bundle]

  --bundle   the crossing → order latency on the BUILT exit-evaluator bundle, in real time (about 130 s;
             BENCH_EXIT_POSITIONS positions, default 20)

Without it: price crossing a stop → closing order, polls every 10 s against one pass a minute, and the
broker requests a minute for 10, 100 and 1,000 positions (about 80 s). Figures go to docs/BENCHMARKS.md by hand.`;

export const BENCH_OPENS_USAGE = `Usage: npm run bench:opens [-- --window S] [--count N]

  --window S   batching window of the local SQS poller, seconds (default 0, as deployed)
  --count N    recommendations sent one at a time (default 40; the first two are cold starts)

Message sent → opening order in the local stack, the simulator adding 20 ms a request. About 30 s.`;

/** What a `bench:*` script accepts: number options (name → default and least value) and flags. */
export interface SubBenchSpec {
  readonly numbers?: Readonly<Record<string, { readonly default: number; readonly min: number }>>;
  readonly flags?: readonly string[];
}

/** Parsed `bench:*` arguments; `help` means print the usage and do nothing else. */
export interface SubBenchArgs {
  readonly help: boolean;
  readonly numbers: Readonly<Record<string, number>>;
  readonly flags: ReadonlySet<string>;
}

/**
 * Parses the arguments of `npm run bench:stops|exits|opens` (a bare `--`, as in `-- --window 5 -- --count 9`,
 * is skipped). Throws with the usage on an unknown option or a bad number, so a typo never runs a long bench.
 */
export function parseSubBenchArgs(argv: readonly string[], spec: SubBenchSpec, usage: string): SubBenchArgs {
  const numbers: Record<string, number> = {};
  for (const [name, n] of Object.entries(spec.numbers ?? {})) numbers[name] = n.default;
  const flags = new Set<string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    if (a === '--help' || a === '-h') help = true;
    else if ((spec.flags ?? []).includes(a.slice(2)) && a.startsWith('--')) flags.add(a.slice(2));
    else if (a.startsWith('--') && spec.numbers?.[a.slice(2)]) {
      const name = a.slice(2);
      const v = Number(argv[++i]);
      const min = spec.numbers[name].min;
      if (argv[i] === undefined || !Number.isFinite(v) || v < min || (min >= 1 && !Number.isInteger(v))) {
        throw new Error(
          `${a} expects ${min >= 1 ? `a whole number >= ${min}` : `a number >= ${min}`}\n\n${usage}`,
        );
      }
      numbers[name] = v;
    } else throw new Error(`unknown option ${a}\n\n${usage}`);
  }
  return { help, numbers, flags };
}
