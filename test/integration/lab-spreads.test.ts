/**
 * `npm run lab` on a trades file with a spread: run as the CLI runs (tsx, real Vega for the HTML), bars
 * from a file, one bar series per leg; the table, `--json` and the HTML report show the spread's net value.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoSpreadStore } from '../../shared/adapters/dynamo-spread-store';
import { runLabCli } from '../../scripts/lab/cli';
import { startTestTable } from '../helpers/dynamo';
import {
  bookedVertical,
  makeSpread,
  SPREAD_LONG,
  SPREAD_SHORT,
  VERTICAL_LEGS,
} from '../helpers/spread-factories';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const T = ['2026-11-24T15:00:00Z', '2026-11-24T15:01:00Z', '2026-11-24T15:02:00Z'];
const bar = (t: string, c: number, bp: number, ap: number) => ({ t, o: c, h: c, l: c, c, v: 1, bp, ap });

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-spreads-'));
  const write = (name: string, value: unknown) =>
    fs.writeFileSync(path.join(dir, name), JSON.stringify(value));
  write('trades.json', [
    {
      legs: VERTICAL_LEGS,
      net_open_per_share: 1.85,
      max_loss_per_share: 1.85,
      entry_time: T[0],
      multiple: 2,
    },
  ]);
  write('plans.json', { tp50: { take_profit_pct: 0.5, stop_loss_pct: null }, sl20: { stop_loss_pct: 0.2 } });
  write('bars.json', {
    bars: {
      [SPREAD_LONG]: [bar(T[0]!, 3.05, 3.0, 3.1), bar(T[1]!, 2.6, 2.5, 2.7), bar(T[2]!, 4.2, 4.1, 4.3)],
      [SPREAD_SHORT]: [bar(T[0]!, 1.22, 1.2, 1.25), bar(T[1]!, 1.05, 1.0, 1.1), bar(T[2]!, 1.25, 1.2, 1.3)],
    },
  });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('npm run lab with a spread', () => {
  it('replays the spread per plan on its legs’ bid/ask, in the totals, the JSON and the HTML chart', () => {
    const f = (name: string) => path.join(dir, name);
    const run = spawnSync(
      TSX,
      [
        'scripts/lab.ts',
        ...['--trades', f('trades.json'), '--plans', f('plans.json'), '--bars', f('bars.json')],
        ...['--json', f('out.json'), '--html', f('report.html')],
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('account main · 0 trade(s) · 1 spread(s) · 2 plan(s) · bars from 1 file(s)');
    // tp50: 4.10 − 1.30 = 2.80 at 15:02, (2.80 − 1.85) × 200 = 190. sl20: 2.50 − 1.10 = 1.40 at 15:01
    // (a 24% loss of the debit), (1.40 − 1.85) × 200 = −90.
    expect(run.stdout).toMatch(/^tp50 +1 +190\.00 /m);
    expect(run.stdout).toMatch(/^sl20 +1 +-90\.00 /m);
    expect(run.stdout).toContain("open 1.85 × 2 · net executable value from the bars' bid/ask");
    expect(run.stdout).toMatch(
      /^ {4}tp50: take_profit at 2026-11-24T15:02:00\.000Z, net 2\.80 → P&L 190\.00/m,
    );
    expect(run.stdout).toMatch(/^ {4}sl20: stop_loss at 2026-11-24T15:01:00\.000Z, net 1\.40 → P&L -90\.00/m);

    const out = JSON.parse(fs.readFileSync(f('out.json'), 'utf8')) as {
      spreads: Array<{ plan: string; series: Array<{ net: number | null }>; target_level: number | null }>;
    };
    expect(out.spreads.map((s) => [s.plan, s.series.map((p) => p.net)])).toEqual([
      ['tp50', [1.75, 1.4, 2.8]],
      ['sl20', [1.75, 1.4]],
    ]);
    const html = fs.readFileSync(f('report.html'), 'utf8');
    expect(html).toContain('<h2>Spreads (net value per share of one multiple)</h2>');
    expect(html).toMatch(
      /<h3>trade-1 · long 1 SPY271217C00480000, short 1 SPY271217C00490000 · 2 @ 1\.85 · from bid\/ask<\/h3><figure class="chart"><svg/,
    );
  });

  it('--from-table reads the spreads the pipeline opened, with their net open and multiple from their legs', async () => {
    const table = await startTestTable();
    const saved = { ...process.env };
    try {
      const spreads = new DynamoSpreadStore(table.client, table.tableName, table.store);
      const claimed = makeSpread({ position_id: 'sp-open', recommendation_id: 'sp-open' });
      await spreads.claimSpread(claimed);
      await spreads.replaceSpread(claimed, bookedVertical('sp-open', false));
      Object.assign(process.env, {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      });
      const f = (name: string) => path.join(dir, name);
      const out: string[] = [];
      const err: string[] = [];
      const code = await runLabCli(
        [
          ...['--from-table', '--from', '2026-11-24', '--to', '2026-11-24'],
          ...['--table', table.tableName, '--endpoint', table.endpoint],
          ...['--plans', f('plans.json'), '--bars', f('bars.json')],
          ...['--json', f('table.json'), '--html', f('table.html')],
        ],
        {
          out: (l) => out.push(l),
          err: (l) => err.push(l),
          env: {},
          html: () => Promise.resolve('<!doctype html>'),
        },
      );
      expect(err).toEqual([]);
      expect(code).toBe(0);
      const text = out.join('\n');
      expect(text).toContain('0 trade(s) · 1 spread(s)');
      // The record's fills: long 2 at 3.10, short 2 at 1.25, so 1.85 × 2, as in the file above.
      expect(text).toContain(`sp-open long 1 ${SPREAD_LONG}, short 1 ${SPREAD_SHORT} · open 1.85 × 2`);
      expect(text).toMatch(/^tp50 +1 +190\.00 /m);
    } finally {
      process.env = saved;
      await table.close();
    }
  });
});
