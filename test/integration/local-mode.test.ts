/**
 * Local mode end to end: the stack `npm start` runs (dynalite, fauxqs, the Alpaca simulator, the real
 * handler factories behind a Lambda-like SQS poller and a sweep timer), fed by the inject CLI run as a
 * child process, as a user runs it. Nothing here is mocked.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { RECOMMENDATIONS_MAX_RECEIVE_COUNT } from '../../lib/account-pipeline';
import { runInject } from '../../local/inject';
import { localExpiries } from '../../local/starting-market';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { renderStack } from '../../local/view';
import { httpReader, listAllPositions } from '../../local/view-data';

const ROOT = path.resolve(__dirname, '..', '..');
// Hang guards only (every wait below is for a condition): child processes start slowly on a loaded machine.
jest.setTimeout(120_000);
let stack: LocalStack;
let dir: string;
let stopped = false;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-local-mode-'));
  stack = await startLocalStack({
    broker: { kind: 'simulator' },
    stateDir: dir,
    // A sweep of `main` makes about six broker requests: every 3 s stays under the simulator's 200 a minute
    // per key for however long the suite runs, so the test's own reads are never refused with a 429.
    sweepSeconds: 3,
    // Longer than any batch takes on a loaded machine: a message still being handled never reappears (SQS
    // would redeliver it, rightly, and the counts below would double). The refused message's three
    // receives wait for it twice.
    visibilityTimeoutSeconds: 10,
    batchingWindowSeconds: 0.2,
    waitTimeSeconds: 1,
    claimLeaseSeconds: 5,
    randomWalk: { intervalMs: 500, volatility: 0.002 },
    consoleToLog: ['info', 'warn', 'debug'],
  });
});

afterAll(async () => {
  if (!stopped) await stack?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Polls `read` until `ok` holds, failing with `what` after `ms`. */
async function eventually<T>(what: string, read: () => Promise<T> | T, ok: (v: T) => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        path.join(ROOT, 'local', 'inject.ts'),
        ...args,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        timeout: 60_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function googlCall(strike: number): string {
  const expiry = localExpiries(new Date())[1];
  const c = [...stack.sim!.market.contracts.values()].find(
    (x) => x.underlying === 'GOOGL' && x.expiry === expiry && x.type === 'call' && x.strike === strike,
  );
  return c!.symbol;
}

const openOrdersSent = (keyId: string) =>
  stack
    .sim!.requestsTo('POST', '/v2/orders')
    .filter((r) => r.keyId === keyId)
    .map((r) => r.body as Record<string, unknown>);

describe('local mode', () => {
  it('the inject CLI validates, refuses the bad line with its reason, and the pipeline opens the rest: orders at the simulator, positions in the table', async () => {
    const main = stack.account('main');
    const recs = [
      {
        recommendation_id: 'lm-1',
        ticker: 'GOOGL',
        option_symbol: googlCall(180),
        action: 'BUY',
        num_contracts: 1,
      },
      {
        recommendation_id: 'lm-2',
        ticker: 'GOOGL',
        option_symbol: googlCall(185),
        action: 'BUY',
        num_contracts: 2,
      },
      { recommendation_id: 'lm-bad', ticker: 'GOOGL', option_symbol: googlCall(180), action: 'BUY_TO_OPEN' },
    ];
    const file = path.join(dir, 'recs.jsonl');
    fs.writeFileSync(file, recs.map((r) => JSON.stringify(r)).join('\n'));

    const cli = await runCli([file, '--sample', '2', '--seed', '7', '--state', stack.statePath]);

    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(1); // one message refused
    expect(cli.stdout).toContain('5 message(s): 4 valid, 1 refused');
    expect(cli.stdout).toMatch(/refused recs\.jsonl:3 \(lm-bad\): schema: .*action/);
    expect(cli.stdout).toContain(`sent 4 to ${main.queueUrl}`);

    const positions = await eventually(
      'four open positions in the table',
      () => listAllPositions(stack, 'main'),
      (ps) => ps.length === 4 && ps.every((p) => p.state === 'open'),
      90_000, // two suites on a loaded machine took longer than 30 s
    );
    expect(positions.map((p) => p.position_id).sort()).toEqual(
      expect.arrayContaining([
        'lm-1',
        'lm-2',
        expect.stringMatching(/^sample-/),
        expect.stringMatching(/^sample-/),
      ]),
    );
    expect(positions.find((p) => p.position_id === 'lm-2')).toMatchObject({ quantity: 2, side: 'long' });
    expect(await stack.account('main').store.get('main', 'lm-bad')).toBeNull();
    // Each message reached the handler once and was deleted: none came back.
    expect(main.openOrder).toMatchObject({ records: 4, failed: 0 });

    const orders = stack.sim!.orders(main.keyId);
    expect(orders.map((o) => o.client_order_id).sort()).toEqual(
      positions.map((p) => `ops-main-o-${p.position_id}`).sort(),
    );
    expect(orders.every((o) => o.status === 'filled')).toBe(true);
    expect(openOrdersSent(main.keyId).every((b) => b.position_intent === 'buy_to_open')).toBe(true);
    // tiny has its own simulated broker account: nothing reached it.
    expect(stack.sim!.orders(stack.account('tiny').keyId)).toEqual([]);
  });

  it('a message the handler refuses comes back after each visibility timeout and lands in the DLQ after max receives, its reason recorded', async () => {
    const tiny = stack.account('tiny');
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ recommendation_id: 'lm-dlq', ticker: 'INTC', option_symbol: 'INTC', action: 'BUY' }),
    );
    const out: string[] = [];

    const res = await runInject([file, '--account', 'tiny', '--send-invalid', '--state', stack.statePath], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    });

    expect(res.exitCode).toBe(1);
    expect(res.sent).toHaveLength(1);
    expect(out.join('\n')).toContain('(sent anyway: --send-invalid)');
    await eventually(
      'the message in the DLQ',
      () => stack.sqs.depth(tiny.dlqUrl),
      (d) => d.visible === 1,
      60_000,
    );
    expect(await stack.sqs.depth(tiny.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    const rejection = (await tiny.store.listRejections('tiny')).find((r) => r.key === 'lm-dlq');
    expect(rejection).toMatchObject({
      reason: 'option_symbol',
      message_id: res.sent[0].messageId,
      receive_count: RECOMMENDATIONS_MAX_RECEIVE_COUNT,
    });
    expect(tiny.openOrder.failed).toBe(RECOMMENDATIONS_MAX_RECEIVE_COUNT);
    expect(stack.sim!.orders(tiny.keyId)).toEqual([]);
  });

  it('the live view shows positions with marks and rules, orders with the intent sent, DLQ depth and rejections', async () => {
    const text = await renderStack(stack);

    expect(text).toMatch(/■ main .*DLQ 0/);
    expect(text).toMatch(/■ tiny .*DLQ 1/);
    expect(text).toMatch(/lm-2 +GOOGL\S+ +long +2 +\d+\.\d\d +\d+\.\d\d +-?\d+\.\d\d +open +SL 50% TP 100%/);
    expect(text).toMatch(/buy +2 +GOOGL\S+ +buy_to_open +filled +ops-main-o-lm-2/);
    expect(text).toMatch(/lm-dlq +option_symbol: /);
  });

  it("paper mode's REST reader (checked against the simulator) reads recent orders and marks", async () => {
    const main = stack.account('main');
    const reader = httpReader(
      { APCA_API_BASE_URL: stack.sim!.url, APCA_API_DATA_URL: stack.sim!.url },
      { keyId: main.keyId, secretKey: main.secretKey },
    );

    const orders = await reader.recentOrders(10);
    const marks = await reader.marks([googlCall(185)]);

    expect(orders).toHaveLength(4);
    expect(orders.every((o) => o.intent === 'buy_to_open' && o.clientOrderId.startsWith('ops-main-o-'))).toBe(
      true,
    );
    expect(marks.get(googlCall(185))).toBeGreaterThan(0);
  });

  it('inject --list-contracts lists what the simulator serves; a named contract picked from it opens', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const base = ['--state', stack.statePath];

    const listed = await runInject(
      ['--list-contracts', 'GOOGL', '--type', 'call', '--min-days', '7', '--plain', ...base],
      io,
    );

    expect(listed.exitCode).toBe(0);
    const expiry = localExpiries(new Date())[1];
    const listedCalls = [...stack.sim!.market.contracts.values()].filter(
      (c) => c.underlying === 'GOOGL' && c.type === 'call' && c.expiry >= expiry,
    );
    expect([...lines].sort()).toEqual(listedCalls.map((c) => c.symbol).sort());
    expect(lines[0]).toBe(googlCall(180)); // nearest the money (GOOGL at 180), nearest expiry first
    lines.length = 0;
    expect((await runInject(['--list-contracts', ...base], io)).exitCode).toBe(0);
    expect(lines.join('\n')).toMatch(/INTC +\d+ contracts/);
    lines.length = 0;
    expect((await runInject(['--list-contracts', 'TSLA', ...base], io)).exitCode).toBe(1);
    expect(lines.join('\n')).toContain('lists no contracts on TSLA');

    const file = path.join(dir, 'named.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        recommendation_id: 'lm-named',
        ticker: 'GOOGL',
        option_symbol: googlCall(180),
        action: 'BUY',
        num_contracts: 1,
      }),
    );
    lines.length = 0;
    const sent = await runInject([file, ...base], io);
    expect(sent.exitCode).toBe(0);
    await eventually(
      'the named contract opened',
      () => stack.account('main').store.get('main', 'lm-named'),
      (p) => p?.state === 'open',
    );
  });

  it('inject warns when created_at is older than the account accepts; --rejections lists every refusal', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const file = path.join(dir, 'old.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        recommendation_id: 'lm-old',
        ticker: 'GOOGL',
        option_symbol: googlCall(185),
        action: 'BUY',
        num_contracts: 1,
        created_at: new Date(Date.now() - 3 * 3600_000).toISOString(),
      }),
    );

    await runInject([file, '--state', stack.statePath], io);

    expect(lines.join('\n')).toContain(
      'warning old.json (lm-old): created_at is 3 h old; account main refuses recommendations older than 5 min',
    );
    await eventually(
      'the stale message refused',
      async () => (await stack.account('main').store.listRejections('main')).map((r) => r.key),
      (keys) => keys.includes('lm-old'),
    );
    lines.length = 0;
    expect((await runInject(['--rejections', '--state', stack.statePath], io)).exitCode).toBe(0);
    expect(lines[0]).toMatch(/^\d+ rejection\(s\) recorded for account main, newest first$/);
    expect(lines.join('\n')).toMatch(/lm-old +risk_limit:max_age: /);
  });

  it('the kill switch as the README writes it (no --table) acts on the running stack, and the view shows it', async () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'POSITIONS_TABLE'),
    );
    const control = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [
            path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
            path.join(ROOT, 'local', 'control.ts'),
            ...args,
          ],
          { cwd: ROOT, env, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        );
      });

    const off = await control([
      '--account',
      'main',
      '--disable',
      '--reason',
      'lunch',
      '--state',
      stack.statePath,
    ]);
    expect(off.stderr).toBe('');
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)).toMatchObject({
      account: 'main',
      trading_enabled: false,
      reason: 'lunch',
    });
    expect(await stack.account('main').store.getControl('main')).toMatchObject({ trading_enabled: false });
    expect(await renderStack(stack)).toContain('trading DISABLED (no new openings): lunch');

    expect((await control(['--account', 'main', '--enable', '--state', stack.statePath])).code).toBe(0);
    expect(await renderStack(stack)).toMatch(/■ main .*\n {2}trading enabled\n/);

    const help = await control(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npx tsx local\/control\.ts --account NAME/);

    const none = await control(['--account', 'main', '--status', '--state', path.join(dir, 'nothing.json')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/No running local stack found .*npm start.*--table TABLE/);
  }, 120_000);

  it('a second stack on the same state directory refuses to start, naming the running one', async () => {
    await expect(startLocalStack({ broker: { kind: 'simulator' }, stateDir: dir })).rejects.toThrow(
      `another npm start is already running (pid ${process.pid}, state in ${dir})`,
    );
    // The first one is untouched.
    expect(JSON.parse(fs.readFileSync(stack.statePath, 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('stop() closes everything: every port refuses connections and the state file is gone', async () => {
    const ports = [...stack.ports];
    expect(ports).toHaveLength(3);
    expect(fs.existsSync(stack.statePath)).toBe(true);

    await stack.stop();
    stopped = true;

    for (const port of ports) {
      await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    }
    expect(fs.existsSync(stack.statePath)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'npm-start.pid'))).toBe(false);
  }, 120_000); // closing fauxqs and dynalite takes seconds on a loaded machine
});

describe('npm start (the CLI process)', () => {
  it('Ctrl-C (SIGINT to the process group, as a terminal sends it) stops everything: exit 0, nothing left listening', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-local-cli-'));
    const child = spawn(
      process.execPath,
      // Exactly what `npm start` runs (package.json): node itself with tsx as a loader, no relaying parent.
      ['--import', 'tsx', path.join(ROOT, 'local', 'start.ts'), '--no-view', '--state-dir', stateDir],
      { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually(
        'the ready line',
        () => stdout,
        (s) => s.includes('local stack ready'),
        60_000,
      );
      const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as Record<
        string,
        string
      >;
      const ports = [state.sqsEndpoint, state.dynamoEndpoint, state.simulatorUrl].map((u) =>
        Number(new URL(u).port),
      );
      for (const port of ports) await expect(connect(port)).resolves.toBeUndefined();

      process.kill(-child.pid!, 'SIGINT');

      expect(await exited).toBe(0);
      expect(stdout).toContain('stopped: nothing is listening any more.');
      for (const port of ports) {
        await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      }
      expect(fs.existsSync(path.join(stateDir, 'state.json'))).toBe(false);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

function connect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
