/**
 * The terminal view of `npm start`: plain text tables redrawn in place with a few ANSI escapes (no TUI
 * library). {@link renderView} is pure, so the same text goes to the terminal, to docs and to tests.
 */
import * as path from 'node:path';
import type { AccountControl } from '../shared/ports';
import type { AccountView, OrderRow, PositionRow } from './view-data';
import { collectAccountView, readerFor } from './view-data';
import type { LocalStack } from './stack';

/** The first lines of the view. */
export interface ViewHeader {
  readonly broker: 'simulator' | 'paper';
  readonly simulatorUrl: string | null;
  readonly seed: number;
  readonly sweepSeconds: number;
  readonly logPath: string;
  readonly now: Date;
}

/** A column of a text table: header, width-free cell function, alignment. */
interface Column<T> {
  readonly title: string;
  readonly cell: (row: T) => string;
  readonly right?: boolean;
}

/** A table with columns as wide as their widest cell, two spaces apart. */
export function textTable<T>(rows: readonly T[], columns: readonly Column<T>[], indent = '  '): string[] {
  const cells = rows.map((r) => columns.map((c) => c.cell(r)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i].length)));
  const line = (values: readonly string[]) =>
    indent +
    values
      .map((v, i) => (columns[i].right ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), ...cells.map(line)];
}

const money = (x: number | null) => (x === null ? '—' : x.toFixed(2));
const price = (x: number | null) => (x === null ? '—' : x.toFixed(2));
const clock = (iso: string) => (iso.length >= 19 ? iso.slice(11, 19) : iso);

const POSITION_COLUMNS: Column<PositionRow>[] = [
  { title: 'POSITION', cell: (r) => r.id },
  { title: 'SYMBOL', cell: (r) => r.symbol },
  { title: 'SIDE', cell: (r) => r.side },
  { title: 'QTY', cell: (r) => String(r.qty), right: true },
  { title: 'ENTRY', cell: (r) => price(r.entry), right: true },
  { title: 'MARK', cell: (r) => price(r.mark), right: true },
  { title: 'P&L $', cell: (r) => money(r.pnl), right: true },
  { title: 'STATE', cell: (r) => r.state },
  { title: 'ACTIVE RULES', cell: (r) => r.rules },
  { title: 'STOP AT BROKER', cell: (r) => r.atBroker },
];

/** The position table's column titles, in order (docs/LOCAL-MODE.md's capture is checked against them). */
export const POSITION_COLUMN_TITLES = POSITION_COLUMNS.map((c) => c.title);

const ORDER_COLUMNS: Column<OrderRow>[] = [
  { title: 'TIME', cell: (r) => clock(r.time) },
  { title: 'SIDE', cell: (r) => r.side },
  { title: 'QTY', cell: (r) => String(r.qty), right: true },
  { title: 'SYMBOL', cell: (r) => r.symbol },
  { title: 'INTENT', cell: (r) => r.intent },
  { title: 'STATUS', cell: (r) => r.status },
  { title: 'CLIENT ORDER ID', cell: (r) => r.clientOrderId },
  { title: 'TYPE', cell: (r) => r.type },
];

/** The last-orders table's column titles, in order. */
export const ORDER_COLUMN_TITLES = ORDER_COLUMNS.map((c) => c.title);

/** The whole view as text (no escapes). */
export function renderView(header: ViewHeader, accounts: readonly AccountView[]): string {
  const broker =
    header.broker === 'simulator'
      ? `Alpaca simulator ${header.simulatorUrl} (seed ${header.seed})`
      : 'Alpaca PAPER API (your keys)';
  const out: string[] = [
    `ops-pipeline local mode · ${broker} · sweep every ${header.sweepSeconds} s · ${header.now.toISOString().slice(0, 19)}Z`,
    `logs: ${header.logPath} · inject: npm run inject -- --sample 3 [--account tiny] · Ctrl-C stops`,
  ];
  for (const a of accounts) {
    const s = a.sweeps;
    out.push(
      '',
      `■ ${a.name}   queue ${a.queue.visible} waiting / ${a.queue.inFlight} in flight · DLQ ${a.dlq} · ` +
        `open-order ${a.openOrder.invocations} batches (${a.openOrder.records} msgs, ${a.openOrder.failed} returned) · ` +
        `sweeps ${s.runs}${s.lastDurationMs !== null ? ` (last ${s.lastDurationMs} ms)` : ''}` +
        `${s.failures ? `, ${s.failures} failed` : ''}${s.throttled ? `, ${s.throttled} throttled` : ''}`,
    );
    out.push(`  trading ${switchState(a.control)}`);
    if (s.lastError) out.push(`  last sweep error: ${s.lastError}`);
    out.push(...(a.positions.length > 0 ? textTable(a.positions, POSITION_COLUMNS) : ['  no positions yet']));
    out.push(`  last orders`);
    out.push(...(a.orders.length > 0 ? textTable(a.orders, ORDER_COLUMNS, '    ') : ['    none']));
    if (a.rejections.length > 0) {
      const total = a.rejectionsTotal ?? a.rejections.length;
      out.push(
        total > a.rejections.length
          ? `  recent rejections (newest ${a.rejections.length} of ${total}; all: npm run inject -- --rejections${a.name === 'main' ? '' : ` --account ${a.name}`})`
          : '  recent rejections',
      );
      for (const r of a.rejections) {
        const detail = r.detail.startsWith(`${r.reason}:`) ? r.detail : `${r.reason}: ${r.detail}`;
        out.push(`    ${clock(r.at)}  ${r.key}  ${truncate(detail, 160)}`);
      }
    }
  }
  return out.join('\n');
}

/** The kill switch as the view shows it. */
export function switchState(c: AccountControl | null | undefined): string {
  if (!c) return 'enabled';
  const why = c.reason ? `: ${c.reason}` : '';
  if (c.flatten) return `FLATTENING (openings stopped; the sweep closes every position)${why}`;
  return c.trading_enabled ? `enabled${why}` : `DISABLED (no new openings)${why}`;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** Reads the stack and renders one frame. */
export async function renderStack(stack: LocalStack): Promise<string> {
  const views = await Promise.all(
    stack.accounts.map((a) => collectAccountView(stack, a, readerFor(stack, a))),
  );
  return renderView(
    {
      broker: stack.broker,
      simulatorUrl: stack.sim?.url ?? null,
      seed: stack.settings.seed,
      sweepSeconds: stack.settings.sweepSeconds,
      logPath: displayPath(stack.log.path),
      now: new Date(),
    },
    views,
  );
}

/** A path relative to the working directory when it is inside it (`.local/ops-pipeline.log`). */
function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

const ESC = '\x1b[';

/** Redraws the view in the terminal's alternate screen every `intervalMs` until stopped. */
export function startLiveView(
  stack: LocalStack,
  out: NodeJS.WriteStream = process.stdout,
  intervalMs = 1000,
): { stop(): Promise<void> } {
  out.write(`${ESC}?1049h${ESC}?25l`);
  let drawing: Promise<void> | null = null;
  let stopped = false;
  let last = '';
  const draw = () => {
    if (drawing || stopped) return;
    drawing = renderStack(stack)
      .then((text) => {
        last = text;
        if (stopped) return;
        // 0 or undefined: not a terminal that knows its size.
        const width = out.columns || 160;
        const lines = text.split('\n').map((l) => (l.length > width ? l.slice(0, width) : l));
        out.write(`${ESC}H${lines.map((l) => `${l}${ESC}K`).join('\n')}\n${ESC}J`);
      })
      .catch((err: unknown) =>
        stack.log.write('WARN', 'view', `View refresh failed: ${(err as Error).message}`),
      )
      .finally(() => {
        drawing = null;
      });
  };
  draw();
  const timer = setInterval(draw, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await drawing;
      out.write(`${ESC}?25h${ESC}?1049l`);
      // Leave the last frame in the normal screen so the session's end state stays readable.
      if (last) out.write(`${last}\n`);
    },
  };
}
