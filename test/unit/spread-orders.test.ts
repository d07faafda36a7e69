import {
  buildSpreadCloseOrder,
  buildSpreadLegCloseOrder,
  buildSpreadOpenOrder,
  mlegOrderBody,
  spreadLegExitClientOrderId,
} from '../../shared/domain/spread-orders';
import { spreadExpiryCloseDue } from '../../shared/domain/spread-expiry';
import { planSpreadClose } from '../../shared/domain/spread-close';
import type { HeldSpreadLeg } from '../../shared/domain/spread-types';

const L = 'SPY270618C00500000';
const S = 'SPY270618C00505000';

describe('spread orders', () => {
  it('opens as one mleg order with the explicit opening intent on every leg', () => {
    const order = buildSpreadOpenOrder(
      {
        recommendation_id: 'sp-1',
        legs: [
          { option_symbol: L, side: 'buy', ratio_qty: 1 },
          { option_symbol: S, side: 'sell', ratio_qty: 1 },
        ],
        multiple: 3,
        order_type: 'limit',
        limit_price: 1.854,
      },
      'main',
    );
    expect(mlegOrderBody(order)).toEqual({
      order_class: 'mleg',
      qty: '3',
      type: 'limit',
      time_in_force: 'day',
      limit_price: '1.85',
      client_order_id: 'ops-main-o-sp-1',
      legs: [
        { symbol: L, ratio_qty: '1', side: 'buy', position_intent: 'buy_to_open' },
        { symbol: S, ratio_qty: '1', side: 'sell', position_intent: 'sell_to_open' },
      ],
    });
    expect(mlegOrderBody(order)).not.toHaveProperty('symbol');
    expect(mlegOrderBody(order)).not.toHaveProperty('side');
  });

  it('a credit opens at a negative net limit; the same recommendation always gets the same client_order_id', () => {
    const input = {
      recommendation_id: 'sp-2',
      legs: [
        { option_symbol: S, side: 'sell' as const, ratio_qty: 1 },
        { option_symbol: L, side: 'buy' as const, ratio_qty: 1 },
      ],
      multiple: 1,
      order_type: 'limit' as const,
      limit_price: -1.2,
    };
    expect(mlegOrderBody(buildSpreadOpenOrder(input, 'main')).limit_price).toBe('-1.20');
    expect(buildSpreadOpenOrder(input, 'main').client_order_id).toBe(
      buildSpreadOpenOrder(input, 'main').client_order_id,
    );
  });

  it('closes the planned multiple as one mleg order with no position_intent on any leg', () => {
    const legs: HeldSpreadLeg[] = [
      { option_symbol: L, side: 'long', ratio_qty: 1 },
      { option_symbol: S, side: 'short', ratio_qty: 1 },
    ];
    const plan = planSpreadClose({
      spreadId: 'sp-1',
      legs,
      multiple: 3,
      wantedMultiple: 3,
      broker: [
        { symbol: L, side: 'long', qty: 3, qty_available: 2, avg_entry_price: 3, asset_class: 'us_option' },
        { symbol: S, side: 'short', qty: 3, qty_available: 3, avg_entry_price: 1, asset_class: 'us_option' },
      ],
    });
    const step = plan.steps[0];
    if (step.kind !== 'mleg') throw new Error('expected an mleg step');
    const body = mlegOrderBody(
      buildSpreadCloseOrder({ account: 'main', spreadId: 'sp-1', seq: 1, step, limitPrice: -1.75 }),
    );
    expect(body).toEqual({
      order_class: 'mleg',
      qty: '2',
      type: 'limit',
      time_in_force: 'day',
      limit_price: '-1.75',
      client_order_id: 'ops-main-x1-sp-1',
      legs: [
        { symbol: L, ratio_qty: '1', side: 'sell' },
        { symbol: S, ratio_qty: '1', side: 'buy' },
      ],
    });
    for (const leg of body.legs as object[]) expect(leg).not.toHaveProperty('position_intent');
  });

  it('a single-leg unwind step goes through buildCloseOrder: intent-free, clipped to what the broker holds', () => {
    const r = buildSpreadLegCloseOrder({
      step: { kind: 'single', option_symbol: S, side: 'buy', qty: 2, why: 'buy_back_orphaned_short' },
      broker: {
        symbol: S,
        side: 'short',
        qty: 1,
        qty_available: 1,
        avg_entry_price: 1,
        asset_class: 'us_option',
      },
      clientOrderId: spreadLegExitClientOrderId('main', 'sp-1', 2, 1),
    });
    expect(r).toEqual({
      ok: true,
      clipped: true,
      order: {
        symbol: S,
        qty: 1,
        side: 'buy',
        type: 'market',
        time_in_force: 'day',
        client_order_id: 'ops-main-x2l1-sp-1',
      },
    });
    expect(
      buildSpreadLegCloseOrder({
        step: { kind: 'single', option_symbol: S, side: 'buy', qty: 1, why: 'buy_back_orphaned_short' },
        broker: undefined,
        clientOrderId: 'x',
      }),
    ).toEqual({ ok: false, reason: 'broker_holds_nothing' });
  });

  it('refuses to build an mleg order of 1 or 5 legs or a zero net limit', () => {
    const leg = { option_symbol: L, side: 'buy' as const, ratio_qty: 1 };
    expect(() =>
      buildSpreadOpenOrder(
        { recommendation_id: 'r', legs: [leg], multiple: 1, order_type: 'market' },
        'main',
      ),
    ).toThrow(/2-4 legs/);
    expect(() =>
      buildSpreadOpenOrder(
        {
          recommendation_id: 'r',
          legs: [leg, { ...leg, option_symbol: S }],
          multiple: 1,
          order_type: 'limit',
          limit_price: 0,
        },
        'main',
      ),
    ).toThrow(/non-zero/);
  });
});

describe('spread expiry-day rule', () => {
  const legExpiries = ['2026-12-18', '2026-12-18'];
  const at = (iso: string, plan = {}, sessionClose?: Date) =>
    spreadExpiryCloseDue({ legExpiries, plan, now: new Date(iso), sessionClose }).due;

  it('closes from 15:10 New York time on the expiry day, not before, not on earlier days', () => {
    expect(at('2026-12-18T20:09:00Z')).toBe(false); // 15:09 EST
    expect(at('2026-12-18T20:10:00Z')).toBe(true); // 15:10 EST
    expect(at('2026-12-17T20:30:00Z')).toBe(false);
  });

  it('on an early-close day, from 50 minutes before the close', () => {
    expect(at('2026-12-18T17:09:00Z', {}, new Date('2026-12-18T18:00:00Z'))).toBe(false);
    expect(at('2026-12-18T17:10:00Z', {}, new Date('2026-12-18T18:00:00Z'))).toBe(true);
  });

  it('uses the earliest leg, and a plan with at_expiry other than close holds it', () => {
    expect(
      spreadExpiryCloseDue({
        legExpiries: ['2027-01-15', '2026-12-18'],
        plan: {},
        now: new Date('2026-12-18T20:10:00Z'),
      }).due,
    ).toBe(true);
    expect(at('2026-12-18T20:30:00Z', { at_expiry: 'do_not_exercise' })).toBe(false);
  });
});
