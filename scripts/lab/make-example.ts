/**
 * Writes the lab's bundled example: SYNTHETIC bars (the simulator's random walk, seed 20261129) for three
 * contracts over one morning, five trades on them (and one on a contract without bars, to show a skipped
 * trade), and three plans. `npx tsx scripts/lab/make-example.ts` rewrites examples/lab/ identically.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { syntheticBars } from './synthetic-bars';

const DIR = path.resolve(__dirname, '../../examples/lab');
const CALL = 'SPY261218C00600000';
const PUT = 'SPY261218P00580000';
const AAPL = 'AAPL261218C00235000';

const raw = syntheticBars({
  symbols: [
    { symbol: CALL, start: 4.2 },
    { symbol: PUT, start: 3.1 },
    { symbol: AAPL, start: 5.5 },
  ],
  from: new Date('2026-11-20T14:30:00Z'), // 09:30 New York
  bars: 240,
  seed: 20261129,
});
const bars = raw.bars;
const lines = Object.entries(bars).map(
  ([symbol, list]) =>
    `    ${JSON.stringify(symbol)}: [\n${list.map((b) => `      ${JSON.stringify(b)}`).join(',\n')}\n    ]`,
);
fs.mkdirSync(DIR, { recursive: true });
fs.writeFileSync(
  path.join(DIR, 'synthetic-bars.json'),
  `{\n  "_note": "SYNTHETIC data: made by the Alpaca simulator's random walk (scripts/lab/make-example.ts, seed 20261129), not market prices. Format: Alpaca GET /v1beta1/options/bars.",\n  "bars": {\n${lines.join(',\n')}\n  },\n  "next_page_token": null\n}\n`,
);
const trades = [
  { option_symbol: CALL, side: 'long', entry_time: '2026-11-20T14:35:00Z', qty: 4 },
  { option_symbol: PUT, side: 'long', entry_time: '2026-11-20T14:50:00Z', qty: 5 },
  { option_symbol: AAPL, side: 'long', entry_time: '2026-11-20T15:10:00Z', qty: 3 },
  { option_symbol: CALL, side: 'short', entry_time: '2026-11-20T15:30:00Z', qty: 2 },
  { option_symbol: PUT, side: 'long', entry_time: '2026-11-20T16:00:00Z', qty: 4, entry_price: 3.05 },
  { option_symbol: 'GOOGL261218C00300000', side: 'long', entry_time: '2026-11-20T15:00:00Z', qty: 2 },
];
fs.writeFileSync(path.join(DIR, 'trades.json'), `${JSON.stringify(trades, null, 2)}\n`);
const plans = {
  account_defaults: {},
  tight: { stop_loss_pct: 0.15, take_profit_pct: 0.25 },
  trail: {
    stop_loss_pct: 0.3,
    trailing_stop_pct: 0.12,
    trail_activation_pct: 0.08,
    partial_exits: [{ gain_pct: 0.15, fraction: 0.5 }],
  },
  time_boxed: { stop_loss_pct: 0.25, take_profit_pct: null, max_hold_minutes: 60 },
};
fs.writeFileSync(path.join(DIR, 'plans.json'), `${JSON.stringify(plans, null, 2)}\n`);
console.log(`wrote ${DIR}`);
