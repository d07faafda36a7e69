/**
 * `npm run bench:exits -- --bundle`: crossing → closing order on the BUILT exit-evaluator bundle, in real
 * time. One scheduled minute: `n` positions on distinct contracts, each crossing its stop at its own random
 * time in the minute; a fresh Node process runs the bundle for the minute's scheduled invocation (which
 * polls, or not) and then for the next minute's (one pass: it catches what crossed after the last poll).
 * About 65 s a run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildBundles } from './bundle';
import { startBenchEnv } from './harness';
import { seedOpenPositions, seedSymbol } from './seed';

const ROOT = resolve(__dirname, '../..');

// The child: the minute's scheduled invocation (Lambda's 58 s timeout as remaining time), then, at the next
// scheduled minute, that one's (a short remaining time: one pass).
const CHILD = `
const [file, t0] = [process.argv[1], Number(process.argv[2])];
const ev = (t) => ({ 'detail-type': 'Scheduled Event', time: new Date(t).toISOString() });
const ctx = (ms) => { const s = Date.now(); return { getRemainingTimeInMillis: () => ms - (Date.now() - s) }; };
(async () => {
  const { handler } = require(file);
  const first = await handler(ev(t0), ctx(58000 - (Date.now() - t0)));
  await new Promise((r) => setTimeout(r, Math.max(0, t0 + 60000 - Date.now())));
  const second = await handler(ev(t0 + 60000), ctx(4000));
  process.stdout.write('\\nRESULT ' + JSON.stringify({ polls: first.polls ?? 0, sent: first.ordersSent.length + second.ordersSent.length }) + '\\n');
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** Latencies (ms, wall clock) from each crossing to its closing order at the simulator. */
export async function bundledExitLatencies(
  pollSeconds: number | null,
  n: number,
): Promise<{ latencies: number[]; polls: number }> {
  const [bundle] = (await buildBundles(mkdtempSync(join(tmpdir(), 'bench-exits-')))).filter(
    (b) => b.name === 'exit-evaluator',
  );
  const e = await startBenchEnv({
    latencyMs: 20,
    rateLimitPerMinute: null,
    account: { name: 'bx', limits: { max_open_positions: 1000 }, sweep_poll_seconds: pollSeconds },
  });
  const sim = e.sim;
  try {
    await seedOpenPositions(e, n, 'bx-');
    const t0 = Date.now() + 2_000;
    const crossings = Array.from({ length: n }, () => t0 + 500 + Math.random() * 59_000);
    const timers = crossings.map((at, i) =>
      setTimeout(() => sim.setQuote(seedSymbol(i), { bid: 0.8, ask: 0.9 }), at - Date.now()),
    );
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(ROOT, 'node_modules'),
      ...e.lambdaEnv,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    await new Promise((r) => setTimeout(r, t0 - Date.now()));
    const result = await runChild(bundle.file, t0, env);
    timers.forEach(clearTimeout);
    const latencies = crossings.map((at, i) => {
      const id = `bx-${String(i).padStart(5, '0')}`;
      const req = sim.requests.find(
        (r) =>
          r.method === 'POST' &&
          r.path === '/v2/orders' &&
          String((r.body as { client_order_id?: unknown })?.client_order_id).endsWith(`-${id}`),
      );
      if (!req) throw new Error(`no closing order for ${id}`);
      return Date.parse(req.time) - at;
    });
    return { latencies, polls: result.polls };
  } finally {
    await e.close();
  }
}

function runChild(file: string, t0: number, env: Record<string, string>): Promise<{ polls: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD, file, String(t0)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bundled sweep exited ${code}: ${err.slice(-1500)}`));
      const line = out.split('\n').find((l) => l.startsWith('RESULT ')) ?? '';
      try {
        resolvePromise(JSON.parse(line.slice('RESULT '.length)) as { polls: number });
      } catch {
        reject(new Error(`no result from the bundle: ${out.slice(-800)}`));
      }
    });
  });
}
