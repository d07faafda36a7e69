/**
 * How `npm run report` prints a {@link PnlReport}: a table for people, CSV (one row per closed position,
 * the journal, for a spreadsheet) or JSON (everything, numbers unformatted).
 */
import type {
  JournalRow,
  PnlGroup,
  PnlReport,
  PositionLedgerReport,
  SpreadJournalRow,
  SpreadLedgerReport,
} from '../../shared/domain/pnl-report';

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
      [keyName, 'CLOSED', 'WON', 'LOST', 'REALIZED', 'FEES'],
      groups.map((g) => [
        g.key,
        String(g.closed),
        String(g.won),
        String(g.lost),
        money(g.realized_pnl_usd),
        money(g.fees_usd),
      ]),
      [false, true, true, true, true, true],
    ),
  ];
}

function describeRow(r: JournalRow | SpreadJournalRow): string {
  const what = 'option_symbol' in r ? r.option_symbol : `${r.structure} (${r.legs})`;
  return `${money(r.realized_pnl_usd)}  ${r.position_id}  ${what}  ${r.close_reason}  ${r.day}`;
}

/** The spreads section: one line per spread (live, or closed in the range), its money from its legs' ledgers. */
function spreadTable(rows: readonly SpreadJournalRow[]): string[] {
  if (rows.length === 0) return [];
  return [
    '',
    'Spreads (closed ones are in the totals above)',
    ...columns(
      ['SPREAD', 'STRUCTURE', 'LEGS', 'MULT', 'NET OPEN', 'REALIZED', 'FEES', 'STATE', 'CLOSE REASON'],
      rows.map((r) => [
        r.position_id,
        r.structure,
        r.legs,
        // A live spread holding less than it opened shows held/opened.
        r.state === 'closed' || r.held_multiple === r.multiple
          ? String(r.multiple)
          : `${r.held_multiple}/${r.multiple}`,
        r.net_open_per_share === null ? 'n/a' : price(r.net_open_per_share),
        money(r.realized_pnl_usd),
        money(r.fees_usd),
        r.state,
        r.close_reason ?? '—',
      ]),
      [false, false, false, true, true, true, true, false, false],
    ),
  ];
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
    `              fees ${money(closed.fees_usd)} · after fees ${money(closed.net_pnl_usd)} (from each position's ledger)`,
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
    ...spreadTable(report.spreads ?? []),
    '',
    `Open now      ${open.positions} positions, ${open.contracts} contracts · long premium paid ${money(open.long_premium_usd)}` +
      ` · short premium received ${money(open.short_premium_usd)}`,
  );
  const liveSpreads = (report.spreads ?? []).filter((r) => r.state !== 'closed').length;
  if (liveSpreads) {
    lines.push(
      `              and ${liveSpreads} live spread(s), not in the figures of this line (see Spreads)`,
    );
  }
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
  'fees_usd',
  'net_pnl_usd',
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

/** A price per share: two decimals, four when a part's average needs them. */
function price(x: number | null): string {
  if (x === null) return 'n/a';
  return Math.abs(x * 100 - Math.round(x * 100)) < 1e-9 ? x.toFixed(2) : x.toFixed(4);
}

/**
 * `--position ID` for a spread: the spread, then each leg's ledger as a single leg's (its orders and
 * fills, events, fees, books), indented, then the spread's books.
 */
export function renderSpreadTable(r: SpreadLedgerReport, source: string): string {
  const b = r.books;
  const net =
    r.net_open_per_share === null
      ? 'n/a (nothing filled)'
      : `${price(Math.abs(r.net_open_per_share))} per share ${r.net_open_per_share >= 0 ? 'debit' : 'credit'}`;
  const lines = [
    `Spread ${r.position_id} · account ${r.account} · ${r.structure} on ${r.ticker} · ${r.state}` +
      (r.close_reason ? ` (${r.close_reason})` : ''),
    `read from ${source} · entry ${r.entry_time ?? 'n/a'} · closed ${r.closed_at ?? 'n/a'}`,
    `Multiple      ${r.multiple} opened, ${r.held_multiple} held · net open ${net}`,
  ];
  for (const leg of r.legs) {
    lines.push('', `Leg ${leg.side} ${leg.ratio_qty} × ${leg.option_symbol}`);
    // The leg's ledger as a single leg's, from its orders on (its title lines are the spread's).
    const ledger = renderPositionTable(leg.ledger, source).split('\n');
    lines.push(...ledger.slice(ledger.indexOf('Orders')).map((l) => (l ? `  ${l}` : l)));
  }
  lines.push(
    '',
    `Spread books  realized ${money(b.realized_before_fees_usd)} before fees · fees ${money(b.fees_usd)} · ${money(b.realized_usd)} after fees (every leg's ledger)`,
  );
  return lines.join('\n');
}

/** `--position ID`: the record's ledger (each order and its fills, events, fees), then its books. */
export function renderPositionTable(r: PositionLedgerReport, source: string): string {
  const b = r.books;
  const lines = [
    `Position ${r.position_id} · account ${r.account} · ${r.side} ${r.option_symbol} · ${r.state}` +
      (r.close_reason ? ` (${r.close_reason})` : ''),
    `read from ${source} · entry ${r.entry_time ?? 'n/a'} · closed ${r.closed_at ?? 'n/a'}`,
  ];
  if (!r.stored_ledger) {
    lines.push("written before the ledger: its ledger is rebuilt from the record's fields");
  }
  for (const n of r.legacy_notes) lines.push(`  note: ${n}`);
  lines.push('', 'Orders');
  if (r.orders.length === 0) lines.push('  (none)');
  for (const o of r.orders) {
    lines.push(
      `  ${o.role}  ${o.client_order_id}  ${o.side}  ${o.status}  qty ${o.qty}  filled ${o.filled_qty}` +
        (o.order_id ? `  (broker id ${o.order_id})` : ''),
    );
    if (o.fills.length === 0) continue;
    lines.push(
      ...columns(
        ['    FILL QTY', 'PRICE', 'NOTIONAL', 'AT', 'TRADING DAY', 'SOURCE'],
        o.fills.map((f) => [`    ${f.qty}`, price(f.price), money(f.notional_usd), f.at, f.day, f.source]),
        [true, true, true, false, false, false],
      ),
    );
  }
  lines.push('', 'Option events');
  if (r.events.length === 0) lines.push('  (none)');
  else
    lines.push(
      ...columns(
        ['TYPE', 'CONTRACTS', 'VALUE', 'UNDERLYING', 'STRIKE', 'SHARES', 'SHARES COST', 'DAY', 'ACTIVITY'],
        r.events.map((e) => [
          e.type,
          String(e.contracts),
          money(e.value_usd),
          e.underlying_price === null ? 'unknown' : price(e.underlying_price),
          price(e.strike),
          String(e.shares),
          money(e.share_cost_usd),
          e.day,
          e.activity_id,
        ]),
        [false, true, true, true, true, true, true, false, false],
      ),
    );
  lines.push('', 'Fees');
  if (r.fees.length === 0) lines.push('  (none)');
  else
    lines.push(
      ...columns(
        ['AMOUNT', 'DAY', 'ACTIVITY'],
        r.fees.map((f) => [money(f.amount_usd), f.day, f.activity_id]),
        [true, false, false],
      ),
    );
  lines.push(
    '',
    `Books         held ${b.held} (opened ${b.opened}, closed ${b.closed}) · entry ${price(b.entry_price)} · exit ${price(b.exit_price)}`,
    `              realized ${money(b.realized_before_fees_usd)} before fees · fees ${money(b.fees_usd)} · ${money(b.realized_usd)} after fees`,
  );
  if (b.shares) {
    lines.push(
      `              delivered shares held: ${b.shares.shares} ${b.shares.underlying}, cost ${money(b.shares.cost_usd)}`,
    );
  }
  if (b.working.length) {
    lines.push(
      `              working: ${b.working.map((w) => `${w.client_order_id} (${w.remaining} left)`).join(', ')}`,
    );
  }
  return lines.join('\n');
}
