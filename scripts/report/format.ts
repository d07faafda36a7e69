/**
 * How `npm run report` prints a {@link PnlReport}: a table for people, CSV (one row per closed position,
 * the journal, for a spreadsheet) or JSON (everything, numbers unformatted).
 */
import type { JournalRow, PnlGroup, PnlReport } from '../../shared/domain/pnl-report';

/** The output formats `--format` accepts. */
export const REPORT_FORMATS = ['table', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** `1234.5` → `$1,234.50`, `-632` → `-$632.00`. */
export function money(usd: number): string {
  const abs = Math.abs(usd).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `${usd < 0 ? '-' : ''}$${abs}`;
}

/** Minutes as `2d 3h`, `4h 05m` or `12m`. */
export function duration(minutes: number): string {
  const m = Math.round(minutes);
  if (m >= 1440) return `${Math.floor(m / 1440)}d ${Math.floor((m % 1440) / 60)}h`;
  if (m >= 60) return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
  return `${m}m`;
}

const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;

/** Left-aligned text columns, right-aligned numeric ones, two spaces apart, indented by two. */
function columns(
  header: readonly string[],
  rows: readonly string[][],
  numeric: readonly boolean[],
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    `  ${cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

function groupTable(title: string, keyName: string, groups: readonly PnlGroup[]): string[] {
  if (groups.length === 0) return [title, '  (none)'];
  return [
    title,
    ...columns(
      [keyName, 'CLOSED', 'WON', 'LOST', 'REALIZED'],
      groups.map((g) => [g.key, String(g.closed), String(g.won), String(g.lost), money(g.realized_pnl_usd)]),
      [false, true, true, true, true],
    ),
  ];
}

function describeRow(r: JournalRow): string {
  return `${money(r.realized_pnl_usd)}  ${r.position_id}  ${r.option_symbol}  ${r.close_reason}  ${r.day}`;
}

/** The report for people. `source` says where the records were read (`local stack, table ...`). */
export function renderTable(report: PnlReport, source: string): string {
  const { opened, never_filled: never, closed, open_now: open } = report;
  const range = `${report.range.from ?? 'first record'} … ${report.range.to}`;
  const neverDetail = Object.entries(never.by_reason)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const rate =
    closed.win_rate === null
      ? 'win rate n/a (no closed position with booked P&L)'
      : `win rate ${pct(closed.win_rate)} (${closed.won} won, ${closed.lost} lost, ${closed.flat} flat)`;
  const lines = [
    `P&L journal · account ${report.account} · ${range} (New York trading days)`,
    `read from ${source} · generated ${report.generated_at}`,
    '',
    `Opened        ${opened.count} positions, ${opened.contracts} contracts, entry premium ${money(opened.premium_usd)}` +
      (never.count ? ` · never filled ${never.count} (${neverDetail})` : ''),
    `Closed        ${closed.count} positions, realized ${money(closed.realized_pnl_usd)} · ${rate}`,
    `Average hold  ${closed.average_hold_minutes === null ? 'n/a' : duration(closed.average_hold_minutes)}`,
    `Largest loss  ${closed.largest_loss ? describeRow(closed.largest_loss) : 'none'}`,
    `Largest win   ${closed.largest_win ? describeRow(closed.largest_win) : 'none'}`,
    `Fees          ${report.fees.note}`,
  ];
  if (closed.outside_pipeline) {
    lines.push(
      `Note          ${closed.outside_pipeline} closed outside the pipeline: no P&L booked, left out of the win rate, hold and largest`,
    );
  }
  lines.push(
    '',
    ...groupTable('Realized P&L by day (New York)', 'DAY', report.by_day),
    '',
    ...groupTable('Realized P&L by exit reason', 'REASON', report.by_reason),
    '',
    `Open now      ${open.positions} positions, ${open.contracts} contracts · long premium paid ${money(open.long_premium_usd)}` +
      ` · short premium received ${money(open.short_premium_usd)}`,
  );
  if (open.awaiting_fill || open.partial_realized_pnl_usd) {
    lines.push(
      `              ${open.awaiting_fill} awaiting a fill · ${money(open.partial_realized_pnl_usd)} realized by partial exits of live positions`,
    );
  }
  return lines.join('\n');
}

const CSV_COLUMNS = [
  'day',
  'position_id',
  'ticker',
  'option_symbol',
  'side',
  'contracts',
  'entry_time',
  'entry_price',
  'closed_at',
  'exit_price',
  'close_reason',
  'realized_pnl_usd',
  'hold_minutes',
] as const satisfies ReadonlyArray<keyof JournalRow>;

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function csvField(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The journal: a header and one row per position closed in the range, oldest first. */
export function renderCsv(report: PnlReport): string {
  return [
    CSV_COLUMNS.join(','),
    ...report.journal.map((r) => CSV_COLUMNS.map((c) => csvField(r[c])).join(',')),
  ].join('\n');
}

/** Everything, as JSON. */
export function renderJson(report: PnlReport): string {
  return JSON.stringify(report, null, 2);
}
