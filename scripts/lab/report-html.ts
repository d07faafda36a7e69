/**
 * The lab's `--html` report: one self-contained page. Charts are Vega-Lite specs compiled to Vega and
 * rendered to SVG by Vega itself here, when the report is built, so the page has no script and needs no
 * network to open.
 */
import { newYorkTime } from '../../shared/domain/market-time';
import type { BarsBySymbol } from '../../shared/lab/bars';
import type { LabResult } from '../../shared/lab/run-lab';

/** Trades drawn one chart each; beyond this the page says how many were left out. */
export const MAX_TRADE_CHARTS = 60;

type VegaLiteSpec = Record<string, unknown>;

interface Renderers {
  compile(spec: VegaLiteSpec): { spec: unknown };
  toSvg(vegaSpec: unknown): Promise<string>;
}

// vega and vega-lite are ES modules (vega-canvas has a top-level await), so they are imported, not
// required. The names go through a variable: TypeScript's "node" resolution cannot read vega-lite's types.
async function loadRenderers(): Promise<Renderers> {
  const vegaName = 'vega';
  const vegaLiteName = 'vega-lite';
  const vega = (await import(vegaName)) as {
    parse(spec: unknown): unknown;
    View: new (
      runtime: unknown,
      opts: { renderer: string },
    ) => { toSVG(): Promise<string>; finalize(): void };
  };
  const vl = (await import(vegaLiteName)) as { compile(spec: VegaLiteSpec): { spec: unknown } };
  return {
    compile: (spec) => vl.compile(spec),
    toSvg: async (vegaSpec) => {
      const view = new vega.View(vega.parse(vegaSpec), { renderer: 'none' });
      try {
        return await view.toSVG();
      } finally {
        view.finalize();
      }
    },
  };
}

/** Builds the whole page. */
export async function buildHtmlReport(
  result: LabResult,
  bars: BarsBySymbol,
  title = 'Exit-plan lab',
): Promise<string> {
  const r = await loadRenderers();
  const svg = async (spec: VegaLiteSpec) => r.toSvg(r.compile(spec).spec);
  const sections: string[] = [];
  sections.push(`<h2>Equity by plan</h2><figure class="chart">${await svg(equitySpec(result))}</figure>`);

  const trades = uniqueTrades(result);
  sections.push('<h2>Trades</h2>');
  for (const t of trades.slice(0, MAX_TRADE_CHARTS)) {
    const series = bars.get(t.option_symbol) ?? [];
    sections.push(
      `<h3>${esc(t.trade_id)} · ${esc(t.option_symbol)} · ${t.side} ${t.qty} @ ${t.entry_price.toFixed(2)}</h3>` +
        `<figure class="chart">${await svg(tradeSpec(result, t, series))}</figure>`,
    );
  }
  if (trades.length > MAX_TRADE_CHARTS) {
    sections.push(`<p>${trades.length - MAX_TRADE_CHARTS} more trade(s) not drawn; see --json.</p>`);
  }
  const spreads = [...new Set((result.spread_results ?? []).map((r) => r.trade_id))];
  if (spreads.length) sections.push('<h2>Spreads (net value per share of one multiple)</h2>');
  for (const id of spreads.slice(0, MAX_TRADE_CHARTS)) {
    const first = (result.spread_results ?? []).find((r) => r.trade_id === id)!;
    const pricing = first.priced_from === 'bid_ask' ? 'from bid/ask' : 'from bar closes (no bid/ask)';
    sections.push(
      `<h3>${esc(id)} · ${esc(first.legs)} · ${first.multiple} @ ${first.net_open_per_share.toFixed(2)} · ${pricing}</h3>` +
        `<figure class="chart">${await svg(spreadSpec(result, id))}</figure>`,
    );
  }
  return page(title, summaryTable(result) + skippedList(result) + sections.join('\n'));
}

function equitySpec(result: LabResult): VegaLiteSpec {
  const values = result.plans.flatMap((p) => [
    ...(p.equity.length ? [{ plan: p.plan, time: nyWall(p.equity[0].time), equity: 0 }] : []),
    ...p.equity.map((e) => ({ plan: p.plan, time: nyWall(e.time), equity: e.equity })),
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: CHART_WIDTH,
    height: 260,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', point: true },
    encoding: {
      x: timeAxis(
        values.map((v) => v.time),
        'exit time (New York)',
      ),
      y: { field: 'equity', type: 'quantitative', title: 'cumulative P&L ($)' },
      // The same plan → colour mapping as the trade charts.
      color: { field: 'plan', type: 'nominal', scale: { domain: result.plans.map((p) => p.plan) } },
    },
  };
}

type TradeRow = LabResult['results'][number];

function tradeSpec(
  result: LabResult,
  t: TradeRow,
  series: ReadonlyArray<{ t: string; h: number; l: number; c: number }>,
): VegaLiteSpec {
  const runs = result.results.filter((r) => r.trade_id === t.trade_id);
  const exits = runs.flatMap((r) =>
    r.steps.map((s) => ({ plan: s.plan, time: s.exit_time, price: s.exit_price, reason: s.reason })),
  );
  const lastExit = exits.reduce((m, e) => (e.time > m ? e.time : m), t.entry_time);
  // The path from a little before entry to a little after the last exit of any plan.
  const from = Date.parse(t.entry_time) - 15 * 60_000;
  const to = Date.parse(lastExit) + 15 * 60_000;
  const path = series
    .filter((b) => Date.parse(b.t) >= from && Date.parse(b.t) <= to)
    .map((b) => ({ time: nyWall(b.t), high: b.h, low: b.l, close: b.c }));
  // Each plan's stop and target, drawn across the chart (dashed: stop; dotted: target).
  const levels = runs.flatMap((r) => [
    ...(r.stop_level !== null ? [{ plan: r.plan, level: 'stop', price: r.stop_level }] : []),
    ...(r.target_level !== null ? [{ plan: r.plan, level: 'target', price: r.target_level }] : []),
  ]);
  const x = timeAxis(
    [nyWall(new Date(from).toISOString()), nyWall(new Date(to).toISOString())],
    'time (New York)',
  );
  const y = { field: 'price', type: 'quantitative', scale: { zero: false }, title: 'price' };
  const plans = { field: 'plan', type: 'nominal', scale: { domain: result.plans.map((p) => p.plan) } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: CHART_WIDTH,
    height: 220,
    layer: [
      {
        data: { values: path },
        mark: { type: 'area', opacity: 0.2, color: '#888' },
        encoding: {
          x,
          y: { field: 'low', type: 'quantitative', scale: { zero: false }, title: 'price' },
          y2: { field: 'high' },
        },
      },
      {
        data: { values: path },
        mark: { type: 'line', color: '#444' },
        encoding: { x, y: { field: 'close', type: 'quantitative' } },
      },
      {
        data: { values: levels },
        mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.8 },
        encoding: {
          y,
          color: plans,
          strokeDash: {
            field: 'level',
            type: 'nominal',
            scale: {
              domain: ['stop', 'target'],
              range: [
                [6, 3],
                [2, 2],
              ],
            },
            title: 'level',
          },
        },
      },
      {
        data: { values: [{ time: nyWall(t.entry_time), price: t.entry_price, what: 'entry' }] },
        mark: { type: 'point', shape: 'triangle-up', size: 260, filled: true, color: 'black' },
        encoding: { x, y },
      },
      {
        data: { values: exits.map((e) => ({ ...e, time: nyWall(e.time) })) },
        mark: { type: 'point', size: 260, filled: true, stroke: 'black', strokeWidth: 1, opacity: 0.9 },
        encoding: {
          x,
          y,
          color: plans,
          shape: { field: 'reason', type: 'nominal', title: 'exit' },
        },
      },
    ],
  };
}

/**
 * A spread's net value at each bar time (the longest of its plans' series: each stops at its exit), each
 * plan's stop (dashed) and target (dotted) as net values, and each plan's exit.
 */
export function spreadSpec(result: LabResult, tradeId: string): VegaLiteSpec {
  const runs = (result.spread_results ?? []).filter((r) => r.trade_id === tradeId);
  const longest = runs.reduce((a, b) => (b.series.length > a.series.length ? b : a), runs[0]!);
  const path = longest.series.flatMap((p) => (p.net === null ? [] : [{ time: nyWall(p.t), price: p.net }]));
  const levels = runs.flatMap((r) => [
    ...(r.stop_level !== null ? [{ plan: r.plan, level: 'stop', price: r.stop_level }] : []),
    ...(r.target_level !== null ? [{ plan: r.plan, level: 'target', price: r.target_level }] : []),
  ]);
  const exits = runs.flatMap((r) =>
    r.steps.map((s) => ({ plan: s.plan, time: nyWall(s.exit_time), price: s.exit_price, reason: s.reason })),
  );
  const x = timeAxis(
    path.map((p) => p.time),
    'time (New York)',
  );
  const y = { field: 'price', type: 'quantitative', scale: { zero: false }, title: 'net value' };
  const plans = { field: 'plan', type: 'nominal', scale: { domain: result.plans.map((p) => p.plan) } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: CHART_WIDTH,
    height: 220,
    layer: [
      { data: { values: path }, mark: { type: 'line', color: '#444', point: true }, encoding: { x, y } },
      {
        data: { values: levels },
        mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.8 },
        encoding: {
          y,
          color: plans,
          strokeDash: {
            field: 'level',
            type: 'nominal',
            scale: {
              domain: ['stop', 'target'],
              range: [
                [6, 3],
                [2, 2],
              ],
            },
            title: 'level',
          },
        },
      },
      {
        data: { values: exits },
        mark: { type: 'point', size: 260, filled: true, stroke: 'black', strokeWidth: 1, opacity: 0.9 },
        encoding: { x, y, color: plans, shape: { field: 'reason', type: 'nominal', title: 'exit' } },
      },
    ],
  };
}

/** Charts are drawn this wide and shrink with the page (CSS), so the report reads at 800 px. */
const CHART_WIDTH = 560;

/**
 * `iso` as New York's wall clock, written as if it were UTC, so a chart's UTC scale shows New York time
 * whatever the time zone of the machine that builds or opens the report.
 */
export function nyWall(iso: string): string {
  const d = new Date(iso);
  const { date, minuteOfDay } = newYorkTime(d);
  const hh = String(Math.floor(minuteOfDay / 60)).padStart(2, '0');
  const mm = String(minuteOfDay % 60).padStart(2, '0');
  const ss = String(d.getUTCSeconds()).padStart(2, '0');
  return `${date}T${hh}:${mm}:${ss}Z`;
}

/** A time axis in New York time on a 24-hour clock: `HH:MM`, with the date when the span crosses days. */
function timeAxis(times: readonly string[], title: string): Record<string, unknown> {
  const days = new Set(times.map((x) => x.slice(0, 10)));
  return {
    field: 'time',
    type: 'temporal',
    scale: { type: 'utc' },
    title,
    axis: { format: days.size > 1 ? '%b %d %H:%M' : '%H:%M', labelOverlap: true },
  };
}

function uniqueTrades(result: LabResult): TradeRow[] {
  const seen = new Map<string, TradeRow>();
  for (const r of result.results) if (!seen.has(r.trade_id)) seen.set(r.trade_id, r);
  return [...seen.values()];
}

function summaryTable(result: LabResult): string {
  const rows = result.plans
    .map(
      (p) =>
        `<tr><td>${esc(p.plan)}</td><td>${p.trades}</td><td>${p.total_pnl.toFixed(2)}</td>` +
        `<td>${Math.round(p.win_rate * 100)}%</td><td>${p.avg_pnl.toFixed(2)}</td><td>${p.worst_pnl.toFixed(2)}</td>` +
        `<td>${p.max_drawdown.toFixed(2)}</td><td>${Math.round(p.avg_hold_minutes)} min</td>` +
        `<td>${esc(
          Object.entries(p.exits_by_reason)
            .map(([k, n]) => `${k} ${n}`)
            .join(', '),
        )}</td></tr>`,
    )
    .join('');
  return (
    '<table><thead><tr><th>plan</th><th>trades</th><th>total P&amp;L</th><th>win rate</th><th>avg trade</th>' +
    `<th>worst</th><th>max drawdown</th><th>avg hold</th><th>exits</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p class="note">Fills: ${result.fill === 'next_open' ? "the next bar's open" : 'the price that triggered the exit'}. ` +
    'Each bar is replayed as open, adverse extreme, favourable extreme, close, with bid = ask = that price.</p>'
  );
}

function skippedList(result: LabResult): string {
  if (!result.skipped.length) return '';
  const items = result.skipped
    .map((s) => `<li>${esc(s.trade_id)} ${esc(s.option_symbol)}: ${esc(s.reason)}</li>`)
    .join('');
  return `<h2>Skipped trades (not in the totals)</h2><ul>${items}</ul>`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1rem auto;padding:0 1rem;max-width:75rem;color:#222}
table{border-collapse:collapse;width:100%;max-width:100%;font-size:.9rem}
td,th{border:1px solid #ccc;padding:.25rem .4rem;text-align:right;white-space:nowrap}
td:first-child,td:last-child,th:first-child,th:last-child{text-align:left}
td:last-child{white-space:normal}th{white-space:normal;vertical-align:bottom}
figure.chart{margin:.5rem 0 1.5rem;max-width:100%}figure.chart>svg{max-width:100%;height:auto}
.note{color:#555}
</style></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>
`;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
