/**
 * The terminal view of `npm start`: plain text tables redrawn in place with a few ANSI escapes (no TUI
 * library). {@link renderView} is pure, so the same text goes to the terminal, to docs and to tests.
 */
import * as path from 'node:path';
import type { AccountControl } from '../shared/ports';
import type { AccountView, OrderRow, PositionRow, SpreadRow } from './view-data';
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
  /** Set when the data below stopped updating: the view's clock runs on, the banner says since when. */
  readonly stale?: { readonly lastReadAt: Date; readonly sinceMs: number };
}

/** A column of a text table: header, width-free cell function, alignment. */
interface Column<T> {
  readonly title: string;
  readonly cell: (row: T) => string;
  readonly right?: boolean;
  /** In a narrow terminal, columns with a drop rank go first, lowest rank first (none: always shown). */
  readonly drop?: number;
  /** In a narrow terminal, this column's cells are cut (with …) to what is left. */
  readonly shrink?: boolean;
}

/**
 * A table with columns as wide as their widest cell, two spaces apart. Given `width`, it fits: columns
 * with a drop rank are left out (lowest rank first) until the rest fit, then a `shrink` column's cells are
 * cut with …; the titles left out are added to `hidden`.
 */
export function textTable<T>(
  rows: readonly T[],
  allColumns: readonly Column<T>[],
  indent = '  ',
  width?: number,
  hidden?: Set<string>,
): string[] {
  let columns = [...allColumns];
  const widthsOf = (cols: readonly Column<T>[]) =>
    cols.map((c) => Math.max(c.title.length, ...rows.map((r) => c.cell(r).length)));
  const total = (ws: readonly number[]) =>
    indent.length + ws.reduce((a, b) => a + b, 0) + 2 * (ws.length - 1);
  if (width !== undefined) {
    const droppable = columns.filter((c) => c.drop !== undefined).sort((a, b) => a.drop! - b.drop!);
    while (total(widthsOf(columns)) > width && droppable.length > 0) {
      const gone = droppable.shift()!;
      columns = columns.filter((c) => c !== gone);
      hidden?.add(gone.title);
    }
  }
  let widths = widthsOf(columns);
  const shrinkAt = columns.findIndex((c) => c.shrink);
  if (width !== undefined && shrinkAt >= 0 && total(widths) > width) {
    widths = widths.map((w, i) =>
      i === shrinkAt ? Math.max(columns[i].title.length, w - (total(widths) - width)) : w,
    );
  }
  const cells = rows.map((r) => columns.map((c, i) => truncate(c.cell(r), widths[i])));
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
  { title: 'POSITION', cell: (r) => r.id, drop: 2 },
  { title: 'SYMBOL', cell: (r) => r.symbol },
  { title: 'SIDE', cell: (r) => r.side, drop: 4 },
  { title: 'QTY', cell: (r) => String(r.qty), right: true },
  { title: 'ENTRY', cell: (r) => price(r.entry), right: true, drop: 3 },
  { title: 'MARK', cell: (r) => price(r.mark), right: true },
  { title: 'P&L $', cell: (r) => money(r.pnl), right: true },
  { title: 'STATE', cell: (r) => r.state },
  { title: 'ACTIVE RULES', cell: (r) => r.rules, shrink: true },
  { title: 'STOP AT BROKER', cell: (r) => r.atBroker, drop: 1 },
];

/** The position table's column titles, in order (docs/LOCAL-MODE.md's capture is checked against them). */
export const POSITION_COLUMN_TITLES = POSITION_COLUMNS.map((c) => c.title);

const signedPct = (x: number | null) => (x === null ? '—' : `${x >= 0 ? '+' : ''}${Math.round(x * 100)}%`);

const SPREAD_COLUMNS: Column<SpreadRow>[] = [
  { title: 'SPREAD', cell: (r) => r.id, drop: 2 },
  { title: 'STRUCTURE', cell: (r) => r.structure },
  { title: 'MULT', cell: (r) => String(r.multiple), right: true },
  { title: 'NET OPEN', cell: (r) => price(r.netOpen), right: true, drop: 3 },
  { title: 'NET NOW', cell: (r) => price(r.netNow), right: true },
  { title: 'GAIN $', cell: (r) => money(r.gain), right: true },
  { title: 'GAIN %', cell: (r) => signedPct(r.gainPct), right: true, drop: 4 },
  { title: 'STATE', cell: (r) => r.state },
  { title: 'ACTIVE RULES', cell: (r) => r.rules, shrink: true },
];

/** The spread table's column titles, in order. */
export const SPREAD_COLUMN_TITLES = SPREAD_COLUMNS.map((c) => c.title);

/**
 * The live spreads: one row each (net value now against net open, per share of one multiple), its legs
 * indented beneath it (side, ratio, contract, contracts held).
 */
function spreadLines(rows: readonly SpreadRow[], width: number | undefined, hidden: Set<string>): string[] {
  const [head, ...lines] = textTable(rows, SPREAD_COLUMNS, '  ', width, hidden);
  return [
    head,
    ...lines.flatMap((line, i) => [
      line,
      ...rows[i].legs.map((l) => `      ${l.side.padEnd(5)} ${l.ratio}× ${l.symbol}  held ${l.held}`),
    ]),
  ];
}

const ORDER_COLUMNS: Column<OrderRow>[] = [
  { title: 'TIME', cell: (r) => clock(r.time) },
  { title: 'SIDE', cell: (r) => r.side },
  { title: 'QTY', cell: (r) => String(r.qty), right: true },
  { title: 'SYMBOL', cell: (r) => r.symbol },
  { title: 'INTENT', cell: (r) => r.intent, drop: 2 },
  { title: 'STATUS', cell: (r) => r.status },
  { title: 'CLIENT ORDER ID', cell: (r) => r.clientOrderId, drop: 1 },
  { title: 'TYPE', cell: (r) => r.type, shrink: true },
];

/** The last-orders table's column titles, in order. */
export const ORDER_COLUMN_TITLES = ORDER_COLUMNS.map((c) => c.title);

/** The terminal's size; without it the view is drawn at full width (docs, tests of the content). */
export interface ViewFit {
  readonly columns: number;
  readonly rows: number;
}

/**
 * The whole view as text (no escapes). Given the terminal's size, it fits: long lines wrap at their
 * ` · ` separators (else are cut with …), table columns are dropped or cut (the footer names what is
 * hidden), and lines past the last row are left out (the footer says how many).
 */
export function renderView(header: ViewHeader, accounts: readonly AccountView[], fit?: ViewFit): string {
  const width = fit?.columns;
  const hidden = new Set<string>();
  const lines = viewLines(header, accounts, width, hidden);
  if (!fit) return lines.join('\n');
  const fitted = lines.flatMap((l) => wrap(l, fit.columns));
  const footer = (cut: number) => {
    const notes: string[] = [];
    if (hidden.size > 0) notes.push(`hidden (narrow terminal): ${[...hidden].join(' · ')}`);
    if (cut > 0) notes.push(`${cut} more line(s) below`);
    return notes.length > 0 ? wrap(`… ${notes.join(' · ')} · enlarge the terminal`, fit.columns) : [];
  };
  let foot = footer(0);
  if (fitted.length + foot.length > fit.rows) {
    // Lines past the last row are left out, and counted (the count can lengthen the footer once).
    let keep = Math.max(0, fit.rows - footer(fitted.length).length);
    foot = footer(fitted.length - keep);
    keep = Math.max(0, fit.rows - foot.length);
    foot = footer(fitted.length - keep);
    fitted.splice(keep);
  }
  return [...fitted, ...foot].join('\n');
}

/** `line` in lines of at most `width`: broken at ` · `, continuation lines indented; else cut with …. */
function wrap(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const parts = line.split(' · ');
  const indent = `${/^\s*/.exec(line)![0]}  `;
  const out: string[] = [];
  let cur = parts[0];
  for (const p of parts.slice(1)) {
    if (`${cur} · ${p}`.length <= width) cur = `${cur} · ${p}`;
    else {
      out.push(cur);
      cur = `${indent}${p}`;
    }
  }
  out.push(cur);
  return out.map((l) => truncate(l, width));
}

function viewLines(
  header: ViewHeader,
  accounts: readonly AccountView[],
  width: number | undefined,
  hidden: Set<string>,
): string[] {
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
    if (a.underlyings && a.underlyings.length > 0)
      out.push(`  underlying ${a.underlyings.map((u) => `${u.ticker} ${u.price.toFixed(2)}`).join(' · ')}`);
    out.push(
      ...(a.positions.length > 0
        ? textTable(a.positions, POSITION_COLUMNS, '  ', width, hidden)
        : a.spreads && a.spreads.length > 0
          ? []
          : ['  no positions yet']),
    );
    if (a.spreads && a.spreads.length > 0) out.push(...spreadLines(a.spreads, width, hidden));
    out.push(`  last orders`);
    out.push(
      ...(a.orders.length > 0 ? textTable(a.orders, ORDER_COLUMNS, '    ', width, hidden) : ['    none']),
    );
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
  if (header.stale) {
    out.splice(
      1,
      0,
      `STALE: nothing read for ${Math.round(header.stale.sinceMs / 1000)} s (last at ${header.stale.lastReadAt.toISOString().slice(11, 19)}Z): ` +
        'a read of the queue, the table or the broker is hanging; the figures below are from then',
    );
  }
  return out;
}

/** The kill switch as the view shows it. */
export function switchState(c: AccountControl | null | undefined): string {
  if (!c) return 'enabled';
  const why = c.reason ? `: ${c.reason}` : '';
  if (c.flatten) return `FLATTENING (openings stopped; the sweep closes every position)${why}`;
  return c.trading_enabled ? `enabled${why}` : `DISABLED (no new openings)${why}`;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : n <= 1 ? s.slice(0, n) : `${s.slice(0, n - 1)}…`;
}

/** Reads the stack: the header and every account's view, as of `now`. */
export async function readStack(
  stack: LocalStack,
  now: Date,
): Promise<{ header: ViewHeader; accounts: AccountView[] }> {
  const accounts = await Promise.all(
    stack.accounts.map((a) => collectAccountView(stack, a, readerFor(stack, a))),
  );
  return {
    header: {
      broker: stack.broker,
      simulatorUrl: stack.sim?.url ?? null,
      seed: stack.settings.seed,
      sweepSeconds: stack.settings.sweepSeconds,
      logPath: displayPath(stack.log.path),
      now,
    },
    accounts,
  };
}

/** Reads the stack and renders one frame (full width). */
export async function renderStack(stack: LocalStack): Promise<string> {
  const { header, accounts } = await readStack(stack, new Date());
  return renderView(header, accounts);
}

/** After this long without a completed read, the view says its figures are stale. */
export const STALE_AFTER_MS = 5000;

/**
 * The live view's loop, without timers or a terminal: each {@link tick} (the caller's clock) starts a
 * read unless one is still running, and draws. A read that hangs (the local SQS paused, a table or
 * broker not answering) leaves the last figures on screen, with the clock still running and a STALE
 * banner once no read has completed for `staleAfterMs`.
 */
export class LiveViewLoop {
  private reading: Promise<void> | null = null;
  private last: { header: ViewHeader; accounts: readonly AccountView[]; at: Date } | null = null;

  constructor(
    private readonly read: (now: Date) => Promise<{ header: ViewHeader; accounts: readonly AccountView[] }>,
    private readonly draw: (text: string) => void,
    private readonly size: () => ViewFit | undefined,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly staleAfterMs = STALE_AFTER_MS,
  ) {}

  /** The last frame drawn, full width (left on the normal screen when the view stops). */
  lastText(): string {
    return this.last ? renderView(this.last.header, this.last.accounts) : '';
  }

  /** Starts a read if none is running, and redraws what is known as of `now`. */
  tick(now: Date): Promise<void> {
    if (!this.reading) {
      this.reading = this.read(now)
        .then((r) => {
          this.last = { ...r, at: now };
          this.drawAt(now);
        })
        .catch((err: unknown) => this.onError(err))
        .finally(() => {
          this.reading = null;
        });
    }
    this.drawAt(now);
    return this.reading;
  }

  private drawAt(now: Date): void {
    if (!this.last) return;
    const since = now.getTime() - this.last.at.getTime();
    const header: ViewHeader = {
      ...this.last.header,
      now,
      ...(since >= this.staleAfterMs ? { stale: { lastReadAt: this.last.at, sinceMs: since } } : {}),
    };
    this.draw(renderView(header, this.last.accounts, this.size()));
  }
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
  let stopped = false;
  let lastFrame = '';
  const loop = new LiveViewLoop(
    (now) => readStack(stack, now),
    (text) => {
      if (stopped || text === lastFrame) return;
      lastFrame = text;
      out.write(
        `${ESC}H${text
          .split('\n')
          .map((l) => `${l}${ESC}K`)
          .join('\n')}\n${ESC}J`,
      );
    },
    // 0 or undefined: not a terminal that knows its size (drawn at full width).
    () => (out.columns && out.rows ? { columns: out.columns, rows: out.rows } : undefined),
    (err) => stack.log.write('WARN', 'view', `View refresh failed: ${(err as Error).message}`),
  );
  let pending: Promise<void> = loop.tick(new Date());
  const timer = setInterval(() => {
    pending = loop.tick(new Date());
  }, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      // A hanging read is not waited for: the last frame is what was read.
      await Promise.race([pending, new Promise((r) => setTimeout(r, 2000).unref())]);
      out.write(`${ESC}?25h${ESC}?1049l`);
      // Leave the last frame in the normal screen so the session's end state stays readable.
      const last = loop.lastText();
      if (last) out.write(`${last}\n`);
    },
  };
}
