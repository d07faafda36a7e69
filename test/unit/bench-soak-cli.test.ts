/** `npm run bench` and `npm run soak`: their arguments, the bench's exit status, the soak's progress line. */
import { benchOutcome, parseBenchArgs } from '../../scripts/bench/cli';
import { parseSoakArgs, progressLine, SOAK_DEFAULT_RUNS } from '../../scripts/soak/cli';

describe('npm run bench', () => {
  it('writes docs/BENCHMARKS.md only with --write', () => {
    expect(parseBenchArgs([])).toEqual({ write: false, help: false });
    expect(parseBenchArgs(['--write'])).toEqual({ write: true, help: false });
    expect(() => parseBenchArgs(['--wirte'])).toThrow('unknown option --wirte');
  });

  it('exits 1 naming each missed figure, 0 when every target is met', () => {
    const met = { figure: 'bundle size', value: '220 KB', target: '≤ 400 KB', verdict: 'met' };
    const info = { figure: 'sdk alone', value: '60 ms', target: '-', verdict: 'info' };
    const missed = { figure: 'sweep ratio', value: '3.4', target: '≤ 3', verdict: 'MISSED' };
    expect(benchOutcome([met, info])).toEqual({ exitCode: 0, message: 'every target met (2 figures)' });
    expect(benchOutcome([met, missed, info])).toEqual({
      exitCode: 1,
      message: '1 target(s) MISSED:\n  sweep ratio: 3.4 (target ≤ 3)',
    });
  });
});

describe('npm run soak', () => {
  it('defaults to 5,000 runs of 40 steps with a random (printed) seed; flags win over SOAK_* variables', () => {
    expect(parseSoakArgs([], {}, () => 0.5)).toMatchObject({
      runs: SOAK_DEFAULT_RUNS,
      minutes: null,
      maxCommands: 40,
      seed: 2 ** 30,
    });
    expect(
      parseSoakArgs(['--runs', '20', '--minutes', '1.5', '--seed', '42'], { SOAK_RUNS: '9', SOAK_SEED: '1' }),
    ).toMatchObject({ runs: 20, minutes: 1.5, seed: 42 });
    expect(parseSoakArgs([], { SOAK_RUNS: '9', SOAK_SEED: '3' })).toMatchObject({ runs: 9, seed: 3 });
  });

  it.each([
    [['--minutes', '0'], '--minutes needs a number'],
    [['--runs'], '--runs needs a value'],
    [['--fast'], 'unknown option --fast'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseSoakArgs(argv)).toThrow(message);
  });

  it('draws runs done, steps, faults, violations and the time left from the pace', () => {
    const line = progressLine(
      {
        runsDone: 250,
        runsTotal: 1000,
        steps: 6100,
        faults: 700,
        violations: 0,
        elapsedMs: 60_000,
        timeLeftMs: null,
      },
      8,
    );
    expect(line).toBe(
      '[##------] 250/1,000 runs · 6,100 steps · 700 faults · 0 violations · 1m00s elapsed · ~3m00s left',
    );
  });

  it('with --minutes, the time left is the nearer of the bound and the pace', () => {
    const p = { runsDone: 10, runsTotal: 5000, steps: 1, faults: 0, violations: 1, elapsedMs: 30_000 };
    expect(progressLine({ ...p, timeLeftMs: 90_000 }, 4)).toMatch(
      /^\[#---\] .* 1 violations · 30s elapsed · ~1m30s left$/,
    );
  });
});
