/** The exit-plan lab's terminal table and JSON output. */
import type { LabResult } from './run-lab';

/** One row per plan, then the skipped trades (a trade is never dropped without a line saying so). */
export function formatLabTable(result: LabResult): string {
  const header = [
    'PLAN',
    'TRADES',
    'TOTAL P&L',
    'WIN RATE',
    'AVG TRADE',
    'WORST',
    'MAX DD',
    'AVG HOLD',
    'EXITS',
  ];
  const rows = result.plans.map((p) => [
    p.plan,
    String(p.trades),
    money(p.total_pnl),
    `${Math.round(p.win_rate * 100)}%`,
    money(p.avg_pnl),
    money(p.worst_pnl),
    money(p.max_drawdown),
    `${Math.round(p.avg_hold_minutes)} min`,
    Object.entries(p.exits_by_reason)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([r, n]) => `${r} ${n}`)
      .join(', ') || '—',
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  // Text columns left-aligned, numbers right-aligned.
  const left = new Set([0, 8]);
  const line = (r: string[]) =>
    r
      .map((c, i) => (left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const out = all.map(line);
  out.push(`fills: ${result.fill === 'next_open' ? "next bar's open" : 'at the triggering price'}`);
  for (const w of result.warnings) out.push(`warning: ${w.message}`);
  if (result.skipped.length) {
    out.push(`skipped ${result.skipped.length} trade(s) (not in the totals):`);
    for (const s of result.skipped) out.push(`  ${s.trade_id} ${s.option_symbol}: ${s.reason}`);
  }
  out.push(...spreadLines(result));
  return out.join('\n');
}

/**
 * Each replayed spread (in the totals above): how its net value was read, then per plan when and why it
 * exited, at what net value, and its P&L.
 */
function spreadLines(result: LabResult): string[] {
  const runs = result.spread_results ?? [];
  if (runs.length === 0) return [];
  const out = ['spreads (net value per share of one multiple; P&L = (exit − open) × 100 × multiple):'];
  for (const id of [...new Set(runs.map((r) => r.trade_id))]) {
    const mine = runs.filter((r) => r.trade_id === id);
    const first = mine[0]!;
    const pricing = mine.every((r) => r.priced_from === 'bid_ask')
      ? "net executable value from the bars' bid/ask"
      : "net value from the bars' closes for both sides (the bars carry no bid/ask)";
    out.push(
      `  ${id} ${first.legs} · open ${money(first.net_open_per_share)} × ${first.multiple} · ${pricing}`,
    );
    for (const r of mine) {
      const x = r.steps[0]!;
      out.push(
        `    ${r.plan}: ${x.reason} at ${x.decided_at}, net ${money(x.exit_price)} → P&L ${money(r.pnl)} (${x.detail})`,
      );
    }
  }
  return out;
}

/** `--json`: per plan its totals and every exit step of every trade; the skipped trades. */
export function labJson(result: LabResult): Record<string, unknown> {
  return {
    fill: result.fill,
    plans: result.plans.map((p) => ({
      ...p,
      trades_detail: result.results
        .filter((r) => r.plan === p.plan)
        .map((r) => ({
          trade_id: r.trade_id,
          option_symbol: r.option_symbol,
          side: r.side,
          entry_time: r.entry_time,
          entry_price: r.entry_price,
          qty: r.qty,
          pnl: r.pnl,
          hold_minutes: r.hold_minutes,
          exits: r.steps.map((s) => ({
            option_symbol: s.option_symbol,
            plan: s.plan,
            reason: s.reason,
            exit_time: s.exit_time,
            decided_at: s.decided_at,
            qty: s.qty,
            exit_price: s.exit_price,
            pnl: s.pnl,
          })),
        })),
    })),
    spreads: result.spread_results ?? [],
    skipped: result.skipped,
    warnings: result.warnings,
  };
}

function money(x: number): string {
  return x.toFixed(2);
}
