/**
 * Property tests of the ledger (issue 23): applying any report twice changes nothing; distinct reports
 * in any order (once each order is known) give the same books; every figure is exact in cents; the
 * accounting invariants hold on every history; the days' P&L, marks chained, adds up to what was realized.
 */
import fc from 'fast-check';
import type { BrokerActivity, BrokerOrder } from '../../shared/domain/broker-types';
import { dayPnlOfPosition, realizedByDay } from '../../shared/domain/day-books';
import {
  applyActivity,
  applyOrderReport,
  emptyLedger,
  type FillActivity,
  type LedgerApplication,
  type LedgerOrderRole,
  type PositionLedger,
} from '../../shared/domain/ledger';
import {
  checkDayPnl,
  checkHoldingMatchesBroker,
  checkRealizedEqualsFills,
  checkReportIdempotent,
} from '../../shared/domain/ledger-invariants';
import { costShare, projectLedger } from '../../shared/domain/ledger-projection';
import type { PositionSide } from '../../shared/domain/position';
import { LEDGER_SYMBOL, makeOrderReport } from '../helpers/ledger-factories';

const RUNS = { numRuns: 150 };
const START = Date.parse('2026-06-01T13:30:00.000Z');

interface Part {
  readonly qty: number;
  readonly priceCents: number;
}
interface GenOrder {
  readonly role: LedgerOrderRole;
  readonly cid: string;
  readonly id: string;
  readonly parts: readonly Part[];
}
interface Scenario {
  readonly side: PositionSide;
  readonly orders: readonly GenOrder[];
  readonly feeCents: readonly number[];
  readonly expireRest: boolean;
  /** Minutes between consecutive parts (crosses nights and weekends). */
  readonly gaps: readonly number[];
}

const partsArb = (maxTotal: number) =>
  fc
    .array(fc.record({ qty: fc.integer({ min: 1, max: 4 }), priceCents: fc.integer({ min: 1, max: 900 }) }), {
      minLength: 1,
      maxLength: 3,
    })
    .map((ps) => {
      let left = maxTotal;
      return ps.flatMap((p) => {
        const qty = Math.min(p.qty, left);
        left -= qty;
        return qty > 0 ? [{ qty, priceCents: p.priceCents }] : [];
      });
    });

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    side: fc.constantFrom<PositionSide>('long', 'short'),
    open: partsArb(12),
    exits: fc.array(fc.tuple(fc.constantFrom<LedgerOrderRole>('exit', 'stop'), partsArb(12)), {
      maxLength: 3,
    }),
    feeCents: fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 2 }),
    expireRest: fc.boolean(),
    gaps: fc.array(fc.integer({ min: 1, max: 1_800 }), { minLength: 16, maxLength: 16 }),
  })
  .map(({ side, open, exits, feeCents, expireRest, gaps }) => {
    let held = open.reduce((n, p) => n + p.qty, 0);
    const orders: GenOrder[] = [{ role: 'open', cid: 'o', id: 'id-o', parts: open }];
    exits.forEach(([role, parts], i) => {
      const kept: Part[] = [];
      for (const p of parts) {
        const qty = Math.min(p.qty, held);
        held -= qty;
        if (qty > 0) kept.push({ qty, priceCents: p.priceCents });
      }
      if (kept.length) orders.push({ role, cid: `x${i}`, id: `id-x${i}`, parts: kept });
    });
    return { side, orders, feeCents, expireRest, gaps };
  });

const opening = (side: PositionSide) => (side === 'long' ? 'buy' : 'sell');
const closing = (side: PositionSide) => (side === 'long' ? 'sell' : 'buy');

type Step = { readonly label: string; readonly apply: (l: PositionLedger) => LedgerApplication };

/** The broker's reports of a scenario: each order's registration read, reads after each part, FILLs, fees. */
function reportsOf(s: Scenario): { registrations: Step[]; rest: Step[]; times: string[] } {
  let t = START;
  let g = 0;
  const times: string[] = [];
  const registrations: Step[] = [];
  const rest: Step[] = [];
  for (const o of s.orders) {
    const side = o.role === 'open' ? opening(s.side) : closing(s.side);
    const total = o.parts.reduce((n, p) => n + p.qty, 0);
    const read = (filled: number, cents: number, status: string, at: string): BrokerOrder =>
      makeOrderReport({
        id: o.id,
        client_order_id: o.cid,
        side,
        qty: total,
        filled_qty: filled,
        filled_avg_price: filled > 0 ? cents / (filled * 100 * 100) : null,
        status,
        filled_at: status === 'filled' ? at : null,
      });
    const regAt = new Date(t).toISOString();
    registrations.push({
      label: `${o.cid} new`,
      apply: (l) => applyOrderReport(l, o.role, read(0, 0, 'new', regAt), regAt),
    });
    let cum = 0;
    let cumCents = 0;
    o.parts.forEach((p, i) => {
      t += s.gaps[g++ % s.gaps.length] * 60_000;
      const at = new Date(t).toISOString();
      times.push(at);
      cum += p.qty;
      cumCents += p.qty * p.priceCents * 100;
      const report = read(cum, cumCents, cum === total ? 'filled' : 'partially_filled', at);
      rest.push({ label: `${o.cid} read ${cum}`, apply: (l) => applyOrderReport(l, o.role, report, at) });
      const fill: FillActivity = {
        id: `${o.cid}-f${i}`,
        type: 'FILL',
        order_id: o.id,
        symbol: LEDGER_SYMBOL,
        side,
        qty: p.qty,
        price: p.priceCents / 100,
        transaction_time: at,
      };
      rest.push({ label: fill.id, apply: (l) => applyActivity(l, fill, { at }) });
    });
  }
  const lastAt = new Date(t).toISOString();
  const date = lastAt.slice(0, 10);
  s.feeCents.forEach((c, i) => {
    const fee: BrokerActivity = {
      id: `fee-${i}`,
      type: 'FEE',
      date,
      symbol: LEDGER_SYMBOL,
      qty: 0,
      net_amount: -c / 100,
    };
    rest.push({ label: fee.id, apply: (l) => applyActivity(l, fee, { at: lastAt }) });
  });
  return { registrations, rest, times };
}

/** The exact figures of a scenario, from its integer cents. */
function truth(s: Scenario) {
  const sum = (os: readonly GenOrder[]) => ({
    qty: os.flatMap((o) => o.parts).reduce((n, p) => n + p.qty, 0),
    cents: os.flatMap((o) => o.parts).reduce((n, p) => n + p.qty * p.priceCents * 100, 0),
  });
  const entry = sum(s.orders.filter((o) => o.role === 'open'));
  const exit = sum(s.orders.filter((o) => o.role !== 'open'));
  const sign = s.side === 'long' ? 1 : -1;
  const fees = s.feeCents.reduce((n, c) => n + c, 0);
  return {
    held: entry.qty - exit.qty,
    realized: sign * (exit.cents - costShare(entry.cents, entry.qty, exit.qty)) - fees + 0,
    entryCents: entry.cents,
    exitCents: exit.cents,
    fees,
  };
}

const run = (steps: readonly Step[], from = emptyLedger(LEDGER_SYMBOL)) =>
  steps.reduce((l, st) => st.apply(l).ledger, from);

describe('ledger properties', () => {
  it('books nothing when any report is applied a second time, at any point of a history', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { registrations, rest } = reportsOf(s);
        let l = emptyLedger(LEDGER_SYMBOL);
        for (const st of [...registrations, ...rest]) {
          expect(checkReportIdempotent(st.label, l, st.apply)).toEqual([]);
          l = st.apply(l).ledger;
        }
        // Every report again, after the whole history: still nothing.
        for (const st of [...registrations, ...rest]) expect(st.apply(l).booked).toBeNull();
      }),
      RUNS,
    );
  });

  it('gives the exact books whatever order distinct reports arrive in, once each order is known', () => {
    fc.assert(
      fc.property(
        scenarioArb.chain((s) => {
          const { rest } = reportsOf(s);
          return fc.tuple(
            fc.constant(s),
            fc.shuffledSubarray(rest, { minLength: rest.length, maxLength: rest.length }),
          );
        }),
        ([s, shuffled]) => {
          const { registrations } = reportsOf(s);
          const l = run(shuffled, run(registrations));
          const p = projectLedger(l, s.side);
          const t = truth(s);
          expect({
            held: p.held,
            realized: p.realized_cents,
            entry: p.entry_cents,
            exit: p.exit_cents,
            fees: p.fees_cents,
          }).toEqual({
            held: t.held,
            realized: t.realized,
            entry: t.entryCents,
            exit: t.exitCents,
            fees: t.fees,
          });
          // Every part ended up booked from its own FILL: nothing learnt from reads is left.
          expect(l.orders.flatMap((o) => o.fills).every((f) => f.source !== 'report')).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('keeps the accounting invariants on every history, reads only or reads and FILLs', () => {
    fc.assert(
      fc.property(scenarioArb, fc.boolean(), (s, withFills) => {
        const { registrations, rest } = reportsOf(s);
        const steps = withFills ? rest : rest.filter((st) => !st.label.includes('-f'));
        const l = run(steps, run(registrations));
        const r = { position_id: 'p', side: s.side, ledger: l };
        const t = truth(s);
        expect(checkRealizedEqualsFills(r, t.realized)).toEqual([]);
        expect(checkHoldingMatchesBroker(LEDGER_SYMBOL, s.side, [r], t.held)).toEqual([]);
        expect(checkHoldingMatchesBroker(LEDGER_SYMBOL, s.side, [r], t.held + 1)).toHaveLength(1);
      }),
      RUNS,
    );
  });

  it('adds the days’ marked P&L, marks chained, up to what was realized once flat; each day checks out', () => {
    fc.assert(
      fc.property(
        scenarioArb,
        fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 12, maxLength: 12 }),
        (s, markCents) => {
          const { registrations, rest } = reportsOf(s);
          let l = run(rest, run(registrations));
          const r0 = projectLedger(l, s.side);
          if (r0.held > 0 && s.expireRest) {
            const date = l.orders.flatMap((o) => o.fills).reduce((d, f) => (f.day > d ? f.day : d), '');
            const exp: BrokerActivity = {
              id: 'exp',
              type: 'OPEXP',
              date,
              symbol: LEDGER_SYMBOL,
              qty: s.side === 'long' ? -r0.held : r0.held,
              net_amount: 0,
            };
            l = applyActivity(l, exp, { at: `${date}T21:00:00.000Z` }).ledger;
          }
          const proj = projectLedger(l, s.side);
          const days = [
            ...new Set([
              ...realizedByDay(l, s.side).keys(),
              ...l.orders.flatMap((o) => o.fills.map((f) => f.day)),
            ]),
          ].sort();
          const r = { position_id: 'p', side: s.side, ledger: l };
          let start: number | null = null;
          let total = 0;
          days.forEach((day, i) => {
            const mark = markCents[i % markCents.length] / 100;
            const d = dayPnlOfPosition(l, s.side, day, { startMark: start, mark });
            if (start !== null)
              expect(checkDayPnl(r, day, { startMark: start, mark }, d.day_pnl_cents)).toEqual([]);
            total += d.day_pnl_cents;
            start = mark;
          });
          if (proj.flat) expect(total).toBe(proj.realized_cents);
        },
      ),
      RUNS,
    );
  });
});

describe('ledger properties: option events and delivered shares', () => {
  const PUT = LEDGER_SYMBOL.replace(/C(\d{8})$/, 'P$1');
  const eventArb = fc.record({
    kind: fc.constantFrom(
      'long_call_exercised',
      'short_put_assigned',
      'short_call_assigned',
      'long_put_exercised',
    ),
    qty: fc.integer({ min: 1, max: 8 }),
    premiumCents: fc.integer({ min: 1, max: 3_000 }),
    assignedShare: fc.integer({ min: 1, max: 8 }),
    underlyingCents: fc.integer({ min: 20_000, max: 50_000 }),
    priceUnknown: fc.boolean(),
    sells: fc.array(
      fc.record({
        qty: fc.integer({ min: 1, max: 500 }),
        priceCents: fc.integer({ min: 20_000, max: 50_000 }),
      }),
      {
        maxLength: 3,
      },
    ),
    buyBackCents: fc.integer({ min: 1, max: 5_000 }),
    marks: fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 4, maxLength: 4 }),
    shareMarks: fc.array(fc.integer({ min: 20_000, max: 50_000 }), { minLength: 4, maxLength: 4 }),
  });

  it('keeps realized = fills − fees to the cent, the day identity, and the days adding up, through events and shares', () => {
    fc.assert(
      fc.property(eventArb, (e) => {
        const side: PositionSide = e.kind.startsWith('long') ? 'long' : 'short';
        const symbol = e.kind.includes('put') ? PUT : LEDGER_SYMBOL;
        const days = ['2026-06-01', '2026-06-02', '2026-06-03', '2026-06-04'];
        let l = applyOrderReport(
          emptyLedger(symbol),
          'open',
          makeOrderReport({
            symbol,
            side: opening(side),
            qty: e.qty,
            filled_qty: e.qty,
            filled_avg_price: e.premiumCents / 100,
          }),
          `${days[0]}T15:00:00.000Z`,
        ).ledger;
        const k = Math.min(e.assignedShare, e.qty);
        const type = e.kind.includes('exercised') ? 'OPEXC' : 'OPASN';
        const event: BrokerActivity = {
          id: 'ev',
          type,
          date: days[1],
          symbol,
          qty: side === 'long' ? -k : k,
          net_amount: 0,
        };
        l = applyActivity(l, event, {
          underlyingPrice: e.priceUnknown ? null : e.underlyingCents / 100,
          contracts: k,
          at: `${days[1]}T21:00:00.000Z`,
        }).ledger;
        // The rest of the contracts bought or sold back on day 3.
        if (e.qty > k) {
          const rest = makeOrderReport({
            id: 'x',
            client_order_id: 'x',
            symbol,
            side: closing(side),
            qty: e.qty - k,
            filled_qty: e.qty - k,
            filled_avg_price: e.buyBackCents / 100,
          });
          l = applyOrderReport(l, 'exit', rest, `${days[2]}T15:00:00.000Z`).ledger;
        }
        // Some of the delivered shares sold (or bought back) on day 3, the rest on day 4.
        const held = Math.abs(deliveredHoldingShares(l));
        let left = held;
        const shareSide = deliveredHoldingShares(l) > 0 ? 'sell' : 'buy';
        e.sells.forEach((s, i) => {
          const q = Math.min(s.qty, left);
          if (q === 0) return;
          left -= q;
          const order = makeOrderReport({
            id: `sh${i}`,
            client_order_id: `sh${i}`,
            symbol: 'GOOGL',
            side: shareSide,
            qty: q,
            filled_qty: q,
            filled_avg_price: s.priceCents / 100,
          });
          l = applyOrderReport(l, 'share_flatten', order, `${days[2]}T16:0${i}:00.000Z`).ledger;
        });
        if (left > 0) {
          const order = makeOrderReport({
            id: 'shz',
            client_order_id: 'shz',
            symbol: 'GOOGL',
            side: shareSide,
            qty: left,
            filled_qty: left,
            filled_avg_price: e.shareMarks[3] / 100,
          });
          l = applyOrderReport(l, 'share_flatten', order, `${days[3]}T16:00:00.000Z`).ledger;
        }
        const r = { position_id: 'p', side, ledger: l };
        const proj = projectLedger(l, side);
        expect(proj.flat).toBe(true);
        expect(checkRealizedEqualsFills(r)).toEqual([]);
        let total = 0;
        let startMark: number | null = null;
        let shareStartMark: number | null = null;
        days.forEach((day, i) => {
          const marks = {
            startMark,
            mark: e.marks[i] / 100,
            shareStartMark,
            shareMark: e.shareMarks[i] / 100,
          };
          const d = dayPnlOfPosition(l, side, day, marks);
          if (startMark !== null) expect(checkDayPnl(r, day, marks, d.day_pnl_cents)).toEqual([]);
          total += d.day_pnl_cents;
          [startMark, shareStartMark] = [marks.mark, marks.shareMark];
        });
        expect(total).toBe(proj.realized_cents);
      }),
      RUNS,
    );
  });
});

function deliveredHoldingShares(l: PositionLedger): number {
  return l.events.reduce((n, e) => n + e.shares, 0);
}
