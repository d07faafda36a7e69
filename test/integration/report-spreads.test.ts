/**
 * `npm run report` with spread records written through DynamoSpreadStore to dynalite: one line per spread
 * (its money from its legs' ledgers, to the cent), the closed ones in the totals, and `--position` for a
 * spread printing each leg's orders and fills.
 */
import { DynamoSpreadStore } from '../../shared/adapters/dynamo-spread-store';
import type { SpreadLedgerReport } from '../../shared/domain/pnl-report';
import { runReport } from '../../scripts/report';
import { makePosition } from '../helpers/factories';
import { startTestTable, type TestTable } from '../helpers/dynamo';
import { bookedVertical, makeSpread, SPREAD_LONG, SPREAD_SHORT } from '../helpers/spread-factories';

const NOW = new Date('2026-11-25T21:00:00.000Z');

let t: TestTable;

beforeAll(async () => {
  t = await startTestTable();
  const spreads = new DynamoSpreadStore(t.client, t.tableName, t.store);
  // Each spread claimed as the open path claims it, then its booked record written over it.
  for (const sp of [bookedVertical('sp-closed', true), bookedVertical('sp-live', false)]) {
    const claimed = makeSpread({ position_id: sp.position_id, recommendation_id: sp.position_id });
    await spreads.claimSpread(claimed);
    await spreads.replaceSpread(claimed, sp);
  }
  await spreads.claimSpread(
    makeSpread({
      position_id: 'sp-never',
      recommendation_id: 'sp-never',
      state: 'closed',
      close_reason: 'not_filled',
      closed_at: '2026-11-24T15:30:00.000Z',
    }),
  );
  // A single-leg position closed the same day: the totals hold both.
  const open = makePosition({ recommendation_id: 'single-1', state: 'open', version: 1 });
  await t.store.claim({ ...open, closed_at: null, close_reason: null });
  await t.store.replace(
    open,
    makePosition({
      ...open,
      state: 'closed',
      quantity: 0,
      original_quantity: 2,
      entry_price: 1.5,
      entry_time: '2026-11-24T15:00:00.000Z',
      closed_at: '2026-11-24T17:00:00.000Z',
      exit_price: 1,
      close_reason: 'stop_loss',
      realized_pnl: -100,
    }),
  );
});
afterAll(async () => {
  await t.close();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

const env = () => ({
  POSITIONS_TABLE: t.tableName,
  AWS_ENDPOINT_URL_DYNAMODB: t.endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
});

/** Runs the report with the SDK's environment pointed at the test table. */
async function report(argv: string[]) {
  const saved = { ...process.env };
  Object.assign(process.env, env());
  try {
    const c = capture();
    const run = await runReport(argv, c.io, { env: env(), now: NOW });
    return { ...c, run };
  } finally {
    process.env = saved;
  }
}

describe('npm run report with spreads', () => {
  it('prints one line per spread and counts a closed spread in the totals, to the cent from its legs', async () => {
    const { run, out, err } = await report(['--from', '2026-11-24', '--to', '2026-11-25']);

    expect(err).toEqual([]);
    expect(run.exitCode).toBe(0);
    const r = run.report!;
    expect(r.spreads.map((s) => s.position_id)).toEqual(['sp-closed', 'sp-live']);
    expect(r.spreads[0]).toMatchObject({
      structure: 'vertical',
      legs: `long 1 ${SPREAD_LONG}, short 1 ${SPREAD_SHORT}`,
      multiple: 2,
      held_multiple: 0,
      net_open_per_share: 1.85,
      state: 'closed',
      close_reason: 'take_profit',
      day: '2026-11-24',
      hold_minutes: 61,
      realized_pnl_usd: 114,
      fees_usd: 0,
      net_pnl_usd: 114,
    });
    expect(r.spreads[1]).toMatchObject({ state: 'open', multiple: 2, held_multiple: 2, realized_pnl_usd: 0 });
    // The closed spread is one trade of the totals: +114.00 with the single leg's −100.00.
    expect(r.closed).toMatchObject({ count: 2, won: 1, lost: 1, realized_pnl_usd: 14 });
    expect(r.closed.largest_win).toMatchObject({ position_id: 'sp-closed', realized_pnl_usd: 114 });
    expect(r.by_reason).toEqual([
      { key: 'stop_loss', closed: 1, won: 0, lost: 1, realized_pnl_usd: -100, fees_usd: 0 },
      { key: 'take_profit', closed: 1, won: 1, lost: 0, realized_pnl_usd: 114, fees_usd: 0 },
    ]);
    expect(r.never_filled).toEqual({ count: 1, by_reason: { not_filled: 1 } });
    const text = out.join('\n');
    expect(text).toMatch(
      /^ {2}sp-closed +vertical +long 1 SPY271217C00480000, short 1 SPY271217C00490000 +2 +1\.85 +\$114\.00 +\$0\.00 +closed +take_profit$/m,
    );
    expect(text).toMatch(/^ {2}sp-live +vertical +.* +2 +1\.85 +\$0\.00 +\$0\.00 +open +—$/m);
    expect(text).toMatch(/^ +and 1 live spread\(s\), not in the figures of this line \(see Spreads\)$/m);
    expect(text).toMatch(/^Largest win +\$114\.00 {2}sp-closed {2}vertical \(long 1 SPY/m);
  });

  it('--position on a spread prints each leg’s orders and fills from its ledger, then the spread’s books', async () => {
    const { run, out, err } = await report(['--position', 'sp-closed']);

    expect(err).toEqual([]);
    expect(run.exitCode).toBe(0);
    const view = run.position as SpreadLedgerReport;
    expect(view.kind).toBe('spread');
    expect(view.legs.map((l) => l.ledger.books.realized_before_fees_usd)).toEqual([185, -71]);
    expect(
      view.legs[0]!.ledger.orders.map((o) => [o.role, o.client_order_id, o.fills.map((f) => f.price)]),
    ).toEqual([
      ['open', 'ops-main-o-sp-closed', [3.1]],
      ['exit', 'ops-main-x1-sp-closed', [4, 4.05]],
    ]);
    expect(view.books).toEqual({ realized_before_fees_usd: 114, fees_usd: 0, realized_usd: 114 });
    const text = out.join('\n');
    expect(text).toContain('Spread sp-closed · account main · vertical on SPY · closed (take_profit)');
    expect(text).toContain('Multiple      2 opened, 0 held · net open 1.85 per share debit');
    expect(text).toContain(`Leg short 1 × ${SPREAD_SHORT}`);
    expect(text).toMatch(/^ {4}exit {2}ops-main-x1-sp-closed {2}buy {2}filled {2}qty 2 {2}filled 2/m);
    expect(text).toMatch(/^ +1 +1\.61 +\$161\.00 +2026-11-24T16:01:00\.000Z/m);
    expect(text).toContain('Spread books  realized $114.00 before fees · fees $0.00 · $114.00 after fees');
  });
});
