/** The pure parts of `npm run bench`: its arguments and what its exit status says about the targets. */

export const BENCH_USAGE = `Usage: npm run bench [-- --write]

  --write   also rewrite docs/BENCHMARKS.md with this run's figures (off by default: the doc is tracked)

Prints each figure as it is measured, then the table. Exit 1 when a target is MISSED, naming the figures.
Takes about 3-5 minutes on 2 cores.`;

/** Parsed bench arguments. */
export interface BenchArgs {
  readonly write: boolean;
  readonly help: boolean;
}

/** Parses `npm run bench` arguments; throws with the usage on an unknown one. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let write = false;
  let help = false;
  for (const a of argv) {
    if (a === '--write') write = true;
    else if (a === '--help' || a === '-h') help = true;
    else throw new Error(`unknown option ${a}\n\n${BENCH_USAGE}`);
  }
  return { write, help };
}

/** The exit status and closing message for the measured rows: 1 naming every MISSED figure, else 0. */
export function benchOutcome(
  rows: ReadonlyArray<{
    readonly figure: string;
    readonly value: string;
    readonly target: string;
    readonly verdict: string;
  }>,
): { exitCode: number; message: string } {
  const missed = rows.filter((r) => r.verdict === 'MISSED');
  if (missed.length === 0) return { exitCode: 0, message: `every target met (${rows.length} figures)` };
  return {
    exitCode: 1,
    message: [
      `${missed.length} target(s) MISSED:`,
      ...missed.map((r) => `  ${r.figure}: ${r.value} (target ${r.target})`),
    ].join('\n'),
  };
}
