/**
 * Runs the BUILT exit-evaluator bundle in a fresh Node process (as Lambda would: one container, warm
 * invocations after the first), against the simulator and dynalite served by this process. Reports each
 * invocation's wall time and the child's peak RSS.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** What the child measured. */
export interface BundledSweepResult {
  /** Wall time of each invocation, ms (the first includes building the adapters: a cold start's share). */
  readonly wallMs: number[];
  /** CPU time of the child's process in each invocation, ms (user + system: what its work costs, I/O waits left out). */
  readonly cpuMs: number[];
  /** Positions each invocation held (all of them, when nothing fires). */
  readonly held: number[];
  /** Errors each invocation reported (must be 0). */
  readonly errors: number[];
  /** Peak resident set size of the child, KB (`process.resourceUsage().maxRSS`). */
  readonly maxRssKb: number;
  /** The same from `/proc/self/status` (VmHWM), KB, when available. */
  readonly vmHwmKb: number | null;
}

// Plain JS for the child: load the bundle, invoke its handler `runs` times, print one JSON line.
const CHILD = `
const { performance } = require('node:perf_hooks');
const fs = require('node:fs');
const [file, runs] = [process.argv[1], Number(process.argv[2])];
(async () => {
  const { handler } = require(file);
  const out = { wallMs: [], cpuMs: [], held: [], errors: [] };
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    const r = await handler();
    out.wallMs.push(performance.now() - t);
    const d = process.cpuUsage(c);
    out.cpuMs.push((d.user + d.system) / 1000);
    out.held.push(r.held.length);
    out.errors.push(r.errors.length);
  }
  out.maxRssKb = process.resourceUsage().maxRSS;
  let hwm = null;
  try { hwm = Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]); } catch {}
  out.vmHwmKb = hwm;
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** Spawns the child (asynchronously: this process must keep serving the simulator and dynalite). */
export function runBundledSweeps(
  bundleFile: string,
  env: Readonly<Record<string, string>>,
  runs: number,
  nodeArgs: readonly string[] = [],
): Promise<BundledSweepResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '-e', CHILD, bundleFile, String(runs)], {
      env: { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bundled sweep exited ${code}: ${stderr.slice(-2000)}`));
      try {
        resolvePromise(JSON.parse(stdout) as BundledSweepResult);
      } catch (err) {
        reject(
          new Error(`bundled sweep printed no result: ${stdout.slice(-500)} ${stderr.slice(-500)}`, {
            cause: err,
          }),
        );
      }
    });
  });
}
