/**
 * Issue 26 item 5: a 403 `insufficient qty available` on an exit. The body's fields (as Alpaca sends them,
 * numbers as strings), and the planner that sizes the next step and names the orders holding the contracts.
 */
import fc from 'fast-check';
import { insufficientQtyOf } from '../../shared/adapters/alpaca-retry';
import { BrokerRejectedError } from '../../shared/domain/errors';
import { holdingOrders, planInsufficientQty } from '../../shared/domain/working-order-plan';
import type { BrokerOrder } from '../../shared/ports';
import { ExitBudget } from '../../shared/use-cases/sweep/exit-budget';

const SYM = 'GOOGL270115C00340000';
const order = (o: Partial<BrokerOrder>): BrokerOrder => ({
  id: 'id-1',
  client_order_id: 'by-hand',
  symbol: SYM,
  qty: 1,
  filled_qty: 0,
  filled_avg_price: null,
  side: 'sell',
  type: 'limit',
  position_intent: null,
  time_in_force: 'day',
  limit_price: 50,
  status: 'new',
  created_at: '2026-12-03T15:00:00Z',
  filled_at: null,
  ...o,
});

describe('the 403 body', () => {
  it('reads the fields of the body Alpaca sends (a user-recorded 403, numbers as strings)', () => {
    const body = {
      available: '0',
      code: 40310000,
      existing_qty: '1',
      held_for_orders: '1',
      message: 'insufficient qty available for order (requested: 1, available: 0)',
      related_orders: ['503acd55-9a8c-477e-bb85-f10de42d80f3'],
      symbol: '',
    };
    expect(insufficientQtyOf(body)).toEqual({
      available: 0,
      existingQty: 1,
      heldForOrders: 1,
      relatedOrders: ['503acd55-9a8c-477e-bb85-f10de42d80f3'],
    });
  });
  it('is undefined for a body that says none of it (code and message only)', () => {
    expect(insufficientQtyOf({ code: 40310000, message: 'insufficient qty available' })).toBeUndefined();
    expect(insufficientQtyOf(null)).toBeUndefined();
    expect(insufficientQtyOf('text')).toBeUndefined();
  });
  it('a 403 with that message is an insufficient-qty refusal, with or without the body', () => {
    const msg = 'Alpaca POST /v2/orders rejected: HTTP 403: insufficient qty available for order';
    expect(new BrokerRejectedError(msg, 403).isInsufficientQty).toBe(true);
    expect(
      new BrokerRejectedError('HTTP 403: account is not authorized to trade', 403).isInsufficientQty,
    ).toBe(false);
    expect(new BrokerRejectedError(msg, 422).isInsufficientQty).toBe(false);
  });
});

describe('planInsufficientQty', () => {
  const fresh = (qty: number, available = qty) => ({ side: 'long' as const, qty, qty_available: available });

  it("names a person's order and ours apart, and sizes to what they leave", () => {
    const step = planInsufficientQty({
      symbol: SYM,
      side: 'long',
      fresh: fresh(3, 3), // qty_available lags
      openOrders: [
        order({ id: 'p', client_order_id: 'by-hand', qty: 1 }),
        order({ id: 'o', client_order_id: 'ops-main-s1-pos', qty: 2, filled_qty: 1 }),
        order({ id: 'buy', side: 'buy', qty: 5 }), // adds, holds nothing
        order({ id: 'other', symbol: 'OTHER', qty: 5 }),
      ],
      ourPrefix: 'ops-main-',
    });
    expect(step.available).toBe(1);
    expect(step.holders).toEqual([
      { id: 'p', client_order_id: 'by-hand', qty: 1, ours: false },
      { id: 'o', client_order_id: 'ops-main-s1-pos', qty: 1, ours: true },
    ]);
    expect(step.unlisted).toEqual([]);
  });

  it('believes the refusal when it says less, and lists the ids it named that are not open', () => {
    const step = planInsufficientQty({
      symbol: SYM,
      side: 'long',
      fresh: fresh(2),
      openOrders: [],
      refusal: { available: 0, existingQty: 2, heldForOrders: 2, relatedOrders: ['gone'] },
      ourPrefix: 'ops-main-',
    });
    expect(step).toEqual({ available: 0, holders: [], unlisted: ['gone'] });
  });

  it('nothing held, or held on the other side: nothing available', () => {
    const base = { symbol: SYM, side: 'long' as const, openOrders: [], ourPrefix: 'ops-main-' };
    expect(planInsufficientQty({ ...base, fresh: null }).available).toBe(0);
    expect(
      planInsufficientQty({ ...base, fresh: { side: 'short', qty: 2, qty_available: 2 } }).available,
    ).toBe(0);
  });

  it('property: never more than any figure the broker gave, never negative', () => {
    fc.assert(
      fc.property(
        fc.nat(10),
        fc.nat(10),
        fc.array(fc.record({ qty: fc.integer({ min: 1, max: 5 }), filled: fc.nat(5) }), { maxLength: 4 }),
        fc.option(fc.nat(10), { nil: null }),
        (qty, avail, orders, said) => {
          const openOrders = orders.map((o, i) =>
            order({ id: `o${i}`, qty: o.qty, filled_qty: Math.min(o.filled, o.qty) }),
          );
          const step = planInsufficientQty({
            symbol: SYM,
            side: 'long',
            fresh: fresh(qty, avail),
            openOrders,
            refusal: { available: said, existingQty: null, heldForOrders: null, relatedOrders: [] },
            ourPrefix: 'ops-main-',
          });
          const heldByOrders = holdingOrders(SYM, 'long', openOrders, 'ops-main-').reduce(
            (s, h) => s + h.qty,
            0,
          );
          expect(step.available).toBeGreaterThanOrEqual(0);
          expect(step.available).toBeLessThanOrEqual(Math.min(qty, avail));
          expect(step.available).toBeLessThanOrEqual(Math.max(0, qty - heldByOrders));
          if (said !== null) expect(step.available).toBeLessThanOrEqual(said);
        },
      ),
    );
  });
});

describe('ExitBudget and open orders', () => {
  it("what the snapshot's open orders hold is not available, even when qty_available lags", () => {
    const b = new ExitBudget(
      [{ symbol: SYM, side: 'long', qty: 3, qty_available: 3, avg_entry_price: 1, asset_class: 'us_option' }],
      [order({ qty: 2 })],
    );
    expect(b.available(SYM, 'long')).toBe(1);
    b.cap(SYM, 'long', 0);
    expect(b.available(SYM, 'long')).toBe(0);
  });
});
