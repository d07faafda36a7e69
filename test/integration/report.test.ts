/**
 * `npm run report` against a seeded dynalite table: through the local stack's state file (as while
 * `npm start` runs) and through POSITIONS_TABLE with the SDK's own endpoint variable (as in AWS), the
 * store's partition query and its `closedSince` filter, unreadable records, bad flags.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { readStateFile, writeStateFile } from '../../local/state-file';
import type { Position } from '../../shared/domain/position';
import type { PnlReport } from '../../shared/domain/pnl-report';
import { runReport } from '../../scripts/report';
import { startAlpacaSim } from '../../local/alpaca-sim';
import { simulatorKeys } from '../../local/mode';
import { makePosition } from '../helpers/factories';
import { minutesAfter, stoppedOutLedger } from '../helpers/ledger-factories';
import { startTestTable, type TestTable } from '../helpers/dynamo';

const NOW = new Date('2026-11-25T21:00:00.000Z');
const REPO = path.join(__dirname, '..', '..');

let t: TestTable;
let dir: string;
let statePath: string;

/** Claims a position as open, then writes `final` over it: the store's own item format, as the pipeline writes. */
async function seed(final: Partial<Position> & { position_id: string }): Promise<void> {
  const open = makePosition({ recommendation_id: final.position_id, ...final, state: 'open', version: 1 });
  await t.store.claim({ ...open, closed_at: null, close_reason: null });
  if (final.state && final.state !== 'open') await t.store.replace(open, makePosition({ ...open, ...final }));
}

const closedAt = (
  id: string,
  at: string,
  pnl: number,
  reason: Position['close_reason'],
  o: Partial<Position> = {},
) =>
  seed({
    position_id: id,
    state: 'closed',
    quantity: 0,
    original_quantity: 2,
    entry_price: 1.5,
    entry_time: '2026-11-24T15:00:00.000Z',
    closed_at: at,
    exit_price: 2,
    close_reason: reason,
    realized_pnl: pnl,
    ...o,
  });

beforeAll(async () => {
  t = await startTestTable();
  await closedAt('tp-1', '2026-11-24T16:00:00.000Z', 100, 'take_profit');
  await closedAt('sl-1', '2026-11-24T17:00:00.000Z', -250, 'stop_loss');
  await closedAt('tr-1', '2026-11-25T15:30:00.000Z', -40.25, 'trailing_stop', {
    entry_time: '2026-11-25T14:30:00.000Z',
  });
  await closedAt('old-1', '2026-10-01T16:00:00.000Z', 999, 'take_profit', {
    entry_time: '2026-10-01T15:00:00.000Z',
  });
  await seed({
    position_id: 'live-1',
    quantity: 3,
    entry_price: 2.5,
    entry_time: '2026-11-25T15:00:00.000Z',
  });
  await seed({ position_id: 'tiny-1', account: 'tiny', quantity: 7, entry_price: 9 });
  await closedAt('tiny-2', '2026-11-24T16:00:00.000Z', -5000, 'stop_loss', { account: 'tiny' });
  // An open item of the older one-attribute-per-field format holds `closed_at: null`.
  await DynamoDBDocumentClient.from(t.client).send(
    new PutCommand({
      TableName: t.tableName,
      Item: {
        pk: 'ACCT#main',
        sk: 'POS#legacy-open',
        live_account: 'main',
        account: 'main',
        position_id: 'legacy-open',
        ticker: 'GOOGL',
        option_symbol: 'GOOGL271217C00340000',
        side: 'short',
        state: 'open',
        quantity: 1,
        entry_price: 4,
        closed_at: null,
        exit_plan: { stop_loss_pct: 0.3 },
      },
    }),
  );
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-test-'));
  statePath = path.join(dir, 'state.json');
  writeStateFile(statePath, {
    pid: process.pid,
    startedAt: NOW.toISOString(),
    broker: 'simulator',
    sqsEndpoint: 'http://127.0.0.1:1',
    dynamoEndpoint: t.endpoint,
    simulatorUrl: null,
    tableName: t.tableName,
    logPath: path.join(dir, 'log'),
    accounts: { main: { queueUrl: 'q', dlqUrl: 'd' }, tiny: { queueUrl: 'q2', dlqUrl: 'd2' } },
  });
});
afterAll(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `fn` with the environment an AWS user has (table, region, credentials), its DynamoDB endpoint the
 * SDK's standard variable pointed at `table`'s dynalite: the CLI's AWS path, with nothing leaving the machine.
 */
async function withAwsEnv<T>(table: TestTable, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, {
    POSITIONS_TABLE: table.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  try {
    return await fn();
  } finally {
    process.env = saved;
  }
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

describe('npm run report against a seeded table', () => {
  it('reads the running local stack through its state file and reports the range', async () => {
    const c = capture();
    const run = await runReport(['--state', statePath, '--from', '2026-11-24', '--to', '2026-11-25'], c.io, {
      env: {},
      now: NOW,
    });

    expect(c.err).toEqual([]);
    expect(run.exitCode).toBe(0);
    const r = run.report!;
    expect(r.by_day).toEqual([
      { key: '2026-11-24', closed: 2, won: 1, lost: 1, realized_pnl_usd: -150, fees_usd: 0 },
      { key: '2026-11-25', closed: 1, won: 0, lost: 1, realized_pnl_usd: -40.25, fees_usd: 0 },
    ]);
    expect(r.by_reason.map((g) => g.key)).toEqual(['stop_loss', 'take_profit', 'trailing_stop']);
    expect(r.closed).toMatchObject({ count: 3, won: 1, lost: 2, realized_pnl_usd: -190.25 });
    expect(r.closed.largest_loss).toMatchObject({ position_id: 'sl-1', realized_pnl_usd: -250 });
    // Opened in the range: the three closed there and live-1 (10 contracts at 2.50); not old-1.
    expect(r.opened.count).toBe(4);
    // Open now: live-1 (long, 3 held × 2.50 × 100) and the legacy short (1 × 4.00 × 100); never tiny's.
    expect(r.open_now).toMatchObject({
      positions: 2,
      contracts: 4,
      long_premium_usd: 750,
      short_premium_usd: 400,
    });
    const text = c.out.join('\n');
    expect(text).toContain('read from the local stack (table ');
    expect(text).toContain('Fees          none booked (the pipeline books only');
  });

  it('shows the unrealized P&L of the positions still open, at the local simulator’s mids', async () => {
    const sim = await startAlpacaSim({ now: () => NOW });
    try {
      const keys = simulatorKeys('main');
      sim.addAccount(keys.keyId, keys.secretKey);
      sim.setQuote('GOOGL271217C00340000', { bid: 3.0, ask: 3.2 });
      const withSim = path.join(dir, 'state-sim.json');
      writeStateFile(withSim, { ...readStateFile(statePath), simulatorUrl: sim.url });
      const c = capture();
      const run = await runReport(['--state', withSim, '--to', '2026-11-25'], c.io, { env: {}, now: NOW });
      expect(run.exitCode).toBe(0);
      // live-1: long 3 @ 2.50, mark 3.10 → +180; legacy-open: short 1 @ 4.00 → +90.
      expect(c.out.join('\n')).toMatch(
        /^Unrealized +\$270\.00 on 2 open position\(s\) at the mid of their latest quotes \(the local simulator\)$/m,
      );
      // Without a quote source: said so, not a silent zero.
      const none = capture();
      await runReport(['--state', statePath, '--to', '2026-11-25'], none.io, { env: {}, now: NOW });
      expect(none.out.join('\n')).toMatch(/^Unrealized +not shown: no quotes/m);
    } finally {
      await sim.close();
    }
  });

  it('reads a table named by POSITIONS_TABLE through the SDK’s endpoint variable, as in AWS', async () => {
    const c = capture();
    const run = await withAwsEnv(t, () =>
      runReport(['--account', 'tiny', '--format', 'json', '--to', '2026-11-25'], c.io, { now: NOW }),
    );

    expect(run.exitCode).toBe(0);
    const r = JSON.parse(c.out.join('\n')) as PnlReport;
    expect(r.account).toBe('tiny');
    expect(r.closed).toMatchObject({ count: 1, realized_pnl_usd: -5000 });
    expect(r.open_now).toMatchObject({ positions: 1, contracts: 7, long_premium_usd: 6300 });
  });

  it('queries only the account’s partition, and with --from leaves out what closed before it', async () => {
    const all = await t.store.listPositions('main');
    const since = await t.store.listPositions('main', { closedSince: '2026-11-24T00:00:00.000Z' });

    expect(all.map((p) => p.position_id).sort()).toEqual([
      'legacy-open',
      'live-1',
      'old-1',
      'sl-1',
      'tp-1',
      'tr-1',
    ]);
    expect(since.map((p) => p.position_id).sort()).toEqual(['legacy-open', 'live-1', 'sl-1', 'tp-1', 'tr-1']);
  });

  it('writes the journal as CSV, one row per position closed in the range', async () => {
    const c = capture();
    await runReport(
      ['--state', statePath, '--format', 'csv', '--from', '2026-11-24', '--to', '2026-11-24'],
      c.io,
      { env: {}, now: NOW },
    );

    const lines = c.out.join('\n').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(['tp-1', 'sl-1']);
  });

  it('reports the readable records and names an unreadable one, exit status 1', async () => {
    const other = await startTestTable();
    try {
      await other.store.claim(makePosition({ position_id: 'fine' }));
      await DynamoDBDocumentClient.from(other.client).send(
        new PutCommand({
          TableName: other.tableName,
          Item: { pk: 'ACCT#main', sk: 'POS#broken', version: 1, record: '{"account":' },
        }),
      );
      const c = capture();
      const run = await withAwsEnv(other, () =>
        runReport(['--table', other.tableName, '--to', '2026-11-25'], c.io, { now: NOW }),
      );

      expect(run.exitCode).toBe(1);
      expect(c.err.join('\n')).toMatch(/ACCT#main POS#broken .*the report leaves them out/);
      expect(run.report!.open_now.positions).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('prints one position’s ledger with --position: orders, fills at their own prices, fees, books', async () => {
    const other = await startTestTable();
    try {
      const l = stoppedOutLedger();
      const open = makePosition({
        position_id: 'stp-1',
        recommendation_id: 'stp-1',
        quantity: 2,
        version: 1,
      });
      await other.store.claim({ ...open, closed_at: null, close_reason: null });
      await other.store.replace(
        open,
        makePosition({
          ...open,
          state: 'closed',
          quantity: 0,
          closed_at: minutesAfter(3),
          close_reason: 'stop_loss',
          ledger: l,
          realized_pnl: -110,
          exit_price: 1.55,
          fees: 0.65,
        }),
      );

      const c = capture();
      const run = await withAwsEnv(other, () =>
        runReport(['--table', other.tableName, '--position', 'stp-1'], c.io, { now: NOW }),
      );
      expect(c.err).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(run.position).toMatchObject({
        position_id: 'stp-1',
        stored_ledger: true,
        books: { held: 0, realized_before_fees_usd: -110, fees_usd: 0.65, realized_usd: -110.65 },
      });
      const text = c.out.join('\n');
      expect(text).toContain('stop  ops-main-s-rec-0001-1  sell  filled  qty 2  filled 2');
      expect(text).toMatch(/ 1 +1\.60 +\$160\.00 +2026-06-01T15:01:00\.000Z +2026-06-01 +report/);
      expect(text).toContain('realized -$110.00 before fees · fees $0.65 · -$110.65 after fees');

      const j = capture();
      await withAwsEnv(other, () =>
        runReport(['--table', other.tableName, '--position', 'stp-1', '--format', 'json'], j.io, {
          now: NOW,
        }),
      );
      expect(JSON.parse(j.out.join('\n'))).toEqual(run.position);

      const u = capture();
      const unknown = await withAwsEnv(other, () =>
        runReport(['--table', other.tableName, '--position', 'nope'], u.io, { now: NOW }),
      );
      expect(unknown.exitCode).toBe(2);
      expect(u.out).toEqual([]);
      expect(u.err.join('\n')).toMatch(/^report: account main has no position "nope" \(table /);
    } finally {
      await other.close();
    }
  });

  it.each([
    [['--format', 'xml'], /--format must be one of table, csv, json, got "xml"/],
    [['--from', '2026-13-01'], /--from needs a day as YYYY-MM-DD, got "2026-13-01"/],
    [['--from', '2026-11-25', '--to', '2026-11-24'], /--from 2026-11-25 is after --to 2026-11-24/],
    [['--acount', 'main'], /unknown argument "--acount"/],
    [['--account'], /--account needs a value/],
    [['--position'], /--position needs a value/],
    [['--position', 'x', '--format', 'csv'], /--position prints a table or json, not csv/],
    [['--position', 'x', '--from', '2026-11-24'], /--position prints the whole ledger/],
  ])('refuses %j with a clear error and the usage, exit status 2', async (argv, message) => {
    const c = capture();
    const run = await runReport(['--state', statePath, ...argv], c.io, { env: {}, now: NOW });

    expect(run.exitCode).toBe(2);
    expect(c.err.join('\n')).toMatch(message);
    expect(c.err.join('\n')).toContain('Usage: npm run report');
  });

  it('refuses an account the local stack does not run, and says where to look when no stack runs', async () => {
    const c = capture();
    expect((await runReport(['--state', statePath, '--account', 'nope'], c.io, { env: {} })).exitCode).toBe(
      2,
    );
    expect(c.err.join('\n')).toContain('the local stack runs no account "nope" (it runs: main, tiny)');

    const d = capture();
    const missing = path.join(dir, 'missing.json');
    expect((await runReport(['--state', missing], d.io, { env: {} })).exitCode).toBe(2);
    expect(d.err.join('\n')).toMatch(/no positions table to read: set POSITIONS_TABLE .* `npm start`/);
  });

  it('runs as `tsx scripts/report.ts --position`: a pre-ledger record read through its fields; unknown id exits 2', async () => {
    const tsx = path.join(REPO, 'node_modules', '.bin', 'tsx');
    const env = { ...process.env, POSITIONS_TABLE: '' };
    const { stdout } = await promisify(execFile)(
      tsx,
      ['scripts/report.ts', '--state', statePath, '--position', 'tp-1'],
      { cwd: REPO, env },
    );
    expect(stdout).toContain('Position tp-1 · account main');
    expect(stdout).toContain('written before the ledger');
    // 2 bought at 1.50 and closed for +$100: the ledger the record implies.
    expect(stdout).toMatch(/open {2}ops-main-o-rec-0001 {2}buy {2}legacy {2}qty 10 {2}filled 2/);
    expect(stdout).toMatch(/exit {2}legacy-exit-tp-1 {2}sell {2}legacy {2}qty 2 {2}filled 2/);
    expect(stdout).toMatch(/ 2 +2\.00 +\$400\.00 +2026-11-24T16:00:00\.000Z +2026-11-24 +legacy/);
    expect(stdout).toContain('realized $100.00 before fees · fees $0.00 · $100.00 after fees');

    const failed = await promisify(execFile)(
      tsx,
      ['scripts/report.ts', '--state', statePath, '--position', 'nope'],
      {
        cwd: REPO,
        env,
      },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toContain('report: account main has no position "nope"');
  });

  it('runs as `tsx scripts/report.ts`: --help prints the usage and exits 0', async () => {
    const { stdout } = await promisify(execFile)(
      path.join(REPO, 'node_modules', '.bin', 'tsx'),
      ['scripts/report.ts', '--help'],
      { cwd: REPO, env: { ...process.env, POSITIONS_TABLE: '' } },
    );
    expect(stdout).toContain('Usage: npm run report -- [--account NAME] [--from YYYY-MM-DD]');
  });
});
