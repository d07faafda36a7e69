/**
 * The spread record's books: every leg's fills on that leg's ledger, by difference of the broker's
 * cumulative figures, so the same report twice (or an older one after a newer) changes nothing (rule 8).
 */
import fc from 'fast-check';
import type { BrokerOrder } from '../../shared/domain/broker-types';
import {
  bookMlegOrder,
  newLegRecord,
  spreadBooks,
  type SpreadLegRecord,
} from '../../shared/domain/spread-position';

const LONG = 'SPY270618C00500000';
const SHORT = 'SPY270618C00505000';
const AT = '2026-12-03T15:00:00.000Z';

function legs(): SpreadLegRecord[] {
  return [
    newLegRecord({ option_symbol: LONG, side: 'long', ratio_qty: 1 }),
    newLegRecord({ option_symbol: SHORT, side: 'short', ratio_qty: 2 }),
  ];
}

/** An mleg opening order's report: `filled` multiples at these leg prices. */
function report(filled: number, longPx: number, shortPx: number, status = 'partially_filled'): BrokerOrder {
  return {
    id: 'o-1',
    client_order_id: 'ops-main-o-sp',
    symbol: '',
    qty: 5,
    filled_qty: filled,
    filled_avg_price: null,
    side: 'buy',
    type: 'limit',
    position_intent: null,
    time_in_force: 'day',
    limit_price: 1,
    status,
    created_at: AT,
    filled_at: null,
    order_class: 'mleg',
    legs: [
      {
        id: 'l1',
        symbol: LONG,
        side: 'buy',
        ratio_qty: 1,
        position_intent: 'buy_to_open',
        qty: 5,
        filled_qty: filled,
        filled_avg_price: filled ? longPx : null,
        status,
      },
      {
        id: 'l2',
        symbol: SHORT,
        side: 'sell',
        ratio_qty: 2,
        position_intent: 'sell_to_open',
        qty: 10,
        filled_qty: 2 * filled,
        filled_avg_price: filled ? shortPx : null,
        status,
      },
    ],
  };
}

describe('spreadBooks over bookMlegOrder', () => {
  it('books each leg at its own price and derives the net per multiple', () => {
    const b = bookMlegOrder({ legs: legs() }, 'open', report(2, 5.2, 1.1, 'filled'), AT);
    const books = spreadBooks({ legs: b.legs });
    expect(books.legs.map((l) => l.held)).toEqual([2, 4]);
    expect(books.multiple).toBe(2);
    expect(books.intact).toBe(true);
    // 5.20 − 2 × 1.10 = 3.00 a share of one multiple.
    expect(books.net_open_per_share).toBe(3);
  });

  it('property: any order of cumulative reports, repeated or stale, books what the latest says, once', () => {
    const reportArb = fc.record({
      filled: fc.integer({ min: 0, max: 5 }),
      longC: fc.integer({ min: 1, max: 900 }),
      shortC: fc.integer({ min: 1, max: 900 }),
    });
    fc.assert(
      fc.property(
        fc.array(reportArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (rs, dupes) => {
          // Cumulative: fills never go down; each report's average is its own.
          let max = 0;
          let last = report(0, 0, 0);
          const seq = rs.map((r) => {
            // A report with no more filled than the last one says what the last one said.
            if (r.filled > max) last = report((max = r.filled), r.longC / 100, r.shortC / 100);
            return last;
          });
          const replayed = [...seq, ...dupes.map((i) => seq[i % seq.length]!)];
          let state = { legs: legs() as readonly SpreadLegRecord[] };
          for (const o of replayed) state = { legs: bookMlegOrder(state, 'open', o, AT).legs };
          const once = bookMlegOrder({ legs: legs() }, 'open', seq.at(-1)!, AT).legs;
          const a = spreadBooks(state);
          const b = spreadBooks({ legs: once });
          expect(a.legs.map((l) => [l.held, l.entry_cents])).toEqual(
            b.legs.map((l) => [l.held, l.entry_cents]),
          );
          expect(a.multiple).toBe(max);
        },
      ),
    );
  });
});
