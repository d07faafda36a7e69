/**
 * The documents agree with the code: every alarm has a runbook entry, every option the README and docs/
 * show for a local command is one the command accepts, the README's `main` account is cdk.json's, and
 * nothing points outside the repository or carries internal history in a heading.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONTROL_USAGE } from '../../local/control';
import { FAULT_USAGE } from '../../local/fault';
import { START_USAGE } from '../../local/start';
import {
  BENCH_EXITS_USAGE,
  BENCH_OPENS_USAGE,
  BENCH_STOPS_USAGE,
  BENCH_USAGE,
} from '../../scripts/bench/cli';
import { SOAK_USAGE } from '../../scripts/soak/cli';
import { ALERT_METRICS } from '../../shared/metric-names';
import { parseAccountConfig } from '../../shared/domain/account-config';
import { ORDER_COLUMN_TITLES, POSITION_COLUMN_TITLES } from '../../local/view';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
/** README.md and every document in docs/. */
const DOC_FILES = [
  'README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const docs = DOC_FILES.map((f) => [f, read(f)] as const);

describe('docs/RUNBOOK.md', () => {
  const runbook = read('docs/RUNBOOK.md');
  const headings = [...runbook.matchAll(/^### (.+)$/gm)].map((m) => m[1]);

  it('has an entry for every alarm the stack creates', () => {
    const ids = [...read('lib/account-pipeline.ts').matchAll(/'(\w+Alarm)'/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThanOrEqual(11);
    for (const id of ids) expect([id, headings.some((h) => h.startsWith(id))]).toEqual([id, true]);
  });

  it('has an entry for each alert kind a sweep raises', () => {
    for (const kind of [...Object.keys(ALERT_METRICS), 'sweep_position_errors']) {
      expect([kind, headings.some((h) => h.includes(`\`${kind}\``))]).toEqual([kind, true]);
    }
  });
});

describe('documented command lines', () => {
  /** Every `--option` on the lines of the docs that run `command`. */
  const optionsOf = (command: RegExp) => {
    const found = new Set<string>();
    for (const [, text] of docs) {
      for (const line of text.split('\n')) {
        const m = command.exec(line);
        if (!m) continue;
        // Up to the end of the command (a comment, a pipe or another command ends it).
        const rest = line.slice(m.index + m[0].length).split(/\s#|\||;|&&|`/)[0];
        for (const o of rest.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)) found.add(o[0]);
      }
    }
    return [...found];
  };

  it.each([
    ['npm start', /npm start\b( --)?/, START_USAGE],
    ['local/control.ts', /local\/control\.ts/, CONTROL_USAGE],
    ['npm run fault', /npm run fault\b( --)?/, FAULT_USAGE],
    ['npm run bench', /npm run bench(?![:\w-])( --)?/, BENCH_USAGE],
    ['npm run soak', /npm run soak\b( --)?/, SOAK_USAGE],
    ['npm run bench:stops', /npm run bench:stops\b( --)?/, BENCH_STOPS_USAGE],
    ['npm run bench:exits', /npm run bench:exits\b( --)?/, BENCH_EXITS_USAGE],
    ['npm run bench:opens', /npm run bench:opens\b( --)?/, BENCH_OPENS_USAGE],
  ])('%s: every option shown in the docs is in its usage', (_name, command, usage) => {
    const shown = optionsOf(command);
    for (const o of shown) expect([o, usage.includes(o)]).toEqual([o, true]);
  });

  it('npm run inject: every option shown in the docs is in its usage', () => {
    const usage = read('local/inject.ts');
    const shown = optionsOf(/npm run (--silent )?inject\b( --silent)?( --)?/);
    expect(shown).toEqual(expect.arrayContaining(['--sample', '--list-contracts', '--rejections']));
    for (const o of shown)
      expect([o, usage.includes(`  ${o}`) || usage.includes(`[${o}`)]).toEqual([o, true]);
  });
});

describe('captured live views', () => {
  /** The column titles of a header line of the view (cells are separated by two spaces or more). */
  const titles = (line: string) => line.trim().split(/ {2,}/);
  const captures = docs.flatMap(([file, text]) =>
    [...text.matchAll(/```text\n(ops-pipeline local mode[\s\S]*?)```/g)].map((m) => [file, m[1]] as const),
  );

  it('every captured view has the columns the view draws today', () => {
    expect(captures.map(([f]) => f)).toEqual(expect.arrayContaining(['docs/LOCAL-MODE.md']));
    for (const [file, capture] of captures) {
      const lines = capture.split('\n');
      const positions = lines.filter((l) => /^\s+POSITION\s/.test(l)).map(titles);
      const orders = lines.filter((l) => /^\s+TIME\s+SIDE\s/.test(l)).map(titles);
      expect([file, positions.length > 0, orders.length > 0]).toEqual([file, true, true]);
      for (const t of positions) expect([file, t]).toEqual([file, POSITION_COLUMN_TITLES]);
      for (const t of orders) expect([file, t]).toEqual([file, ORDER_COLUMN_TITLES]);
    }
  });
});

describe("docs/CONFIGURATION.md's account configuration table", () => {
  // Every field the schema accepts, with its default filled in: the table must list each, and nothing else.
  const parsed = parseAccountConfig({ name: 'main' }) as unknown as Record<string, unknown>;
  const nested = ['limits', 'exit_execution', 'market_data'];
  const schemaFields = Object.keys(parsed)
    .filter((k) => k !== 'resolved_exit_defaults')
    .flatMap((k) => (nested.includes(k) ? Object.keys(parsed[k] as object).map((f) => `${k}.${f}`) : [k]))
    .sort();
  const config = read('docs/CONFIGURATION.md');
  const section = config.slice(config.indexOf('## Fields'), config.indexOf('**Strategy profiles**'));
  const tableFields = [...section.matchAll(/^\| `([a-z_.]+)` \|/gm)].map((m) => m[1]).sort();

  it('lists every field of the schema, and only those', () => {
    expect(schemaFields.length).toBeGreaterThan(20);
    expect(tableFields).toEqual(schemaFields);
  });
});

/** cdk.json's account `main`, as shipped. */
const CDK_MAIN = (
  JSON.parse(read('cdk.json')) as { context: { accounts: Array<Record<string, unknown>> } }
).context.accounts.find((a) => a.name === 'main');

describe('one main configuration everywhere', () => {
  const readme = read('README.md');

  it("README's account section shows cdk.json's main, exactly", () => {
    const section = readme.slice(readme.indexOf('## One account'));
    const block = /```json\n([\s\S]*?)```/.exec(section);
    expect(block).not.toBeNull();
    expect(CDK_MAIN).toBeDefined();
    expect(JSON.parse(block![1])).toEqual(CDK_MAIN);
  });

  it('no document shows another account object named "main" (a JSON block with a name, limits or exit fields)', () => {
    for (const [file, text] of docs) {
      for (const m of text.matchAll(/```jsonc?\n([\s\S]*?)```/g)) {
        if (!/"name":\s*"main"/.test(m[1])) continue;
        // JSONC comments off; a block that still does not parse is a fragment, and must not name main.
        const body = m[1].replace(/\/\/.*$/gm, '');
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = undefined;
        }
        expect([file, parsed]).toEqual([file, CDK_MAIN]);
      }
    }
  });
});

describe('README and docs stay inside the repository and out of its history', () => {
  it.each(DOC_FILES)('%s points at nothing in ../shared', (file) => {
    expect(read(file)).not.toMatch(/\.\.\/shared\b/);
  });

  it.each(DOC_FILES)('%s has no "issue N" in a heading', (file) => {
    const headings = read(file)
      .split('\n')
      .filter((l) => /^#{1,6} /.test(l));
    expect(headings.filter((h) => /\bissues? #?\d+/i.test(h))).toEqual([]);
  });

  it('README fits one read (at most 200 lines)', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(200);
  });

  it("README's links to docs/ name files that exist", () => {
    for (const m of read('README.md').matchAll(/\]\((docs\/[^)#]+)/g)) {
      expect([m[1], fs.existsSync(path.join(ROOT, m[1]))]).toEqual([m[1], true]);
    }
  });
});
