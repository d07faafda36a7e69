import fc from 'fast-check';
import {
  buildCloseOrder,
  buildOpenOrder,
  closableQty,
  exitClientOrderId,
  openClientOrderId,
} from '../../shared/domain/orders';
import type { BrokerPosition } from '../../shared/ports';
import { parsedRecommendation, FUTURE_SYMBOL } from '../helpers/recommendations';

const NOW = new Date('2026-11-24T15:02:00Z');
const rec = (o: Record<string, unknown> = {}) => parsedRecommendation(o, NOW);
const held = (o: Partial<BrokerPosition> = {}): BrokerPosition => ({
  symbol: FUTURE_SYMBOL,
  side: 'long',
  qty: 10,
  qty_available: 10,
  avg_entry_price: 2,
  asset_class: 'us_option',
  ...o,
});

describe('buildOpenOrder (safety rule 1: explicit opening intent)', () => {
  it('BUY opens a long with buy_to_open on the option symbol, day, whole contracts', () => {
    expect(buildOpenOrder(rec({ recommendation_id: 'sig-1', num_contracts: 3 }), 'main')).toEqual({
      symbol: FUTURE_SYMBOL,
      qty: 3,
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
      client_order_id: 'ops-main-o-sig-1',
      position_intent: 'buy_to_open',
    });
  });

  it('SELL opens a short with sell_to_open', () => {
    const o = buildOpenOrder(rec({ action: 'SELL' }), 'main');
    expect(o).toMatchObject({ side: 'sell', position_intent: 'sell_to_open' });
  });

  it('carries the limit price of a limit order', () => {
    expect(buildOpenOrder(rec({ order_type: 'limit', limit_price: 2.35 }), 'main')).toMatchObject({
      type: 'limit',
      limit_price: 2.35,
    });
  });

  it('client_order_id is deterministic, per account, and at most 128 chars', () => {
    const id = 'x'.repeat(64);
    expect(openClientOrderId('main', id)).toBe(openClientOrderId('main', id));
    expect(openClientOrderId('main', id)).not.toBe(openClientOrderId('tiny', id));
    expect(openClientOrderId('a'.repeat(32), id).length).toBeLessThanOrEqual(128);
    expect(exitClientOrderId('a'.repeat(32), id, 99).length).toBeLessThanOrEqual(128);
    expect(exitClientOrderId('main', 'p', 1)).not.toBe(exitClientOrderId('main', 'p', 2));
  });
});

describe('buildCloseOrder (safety rules 1-3)', () => {
  const long = { option_symbol: FUTURE_SYMBOL, side: 'long' as const };
  const short = { option_symbol: FUTURE_SYMBOL, side: 'short' as const };

  it('closes a long with an intent-free SELL on the recorded option symbol', () => {
    const r = buildCloseOrder({ position: long, wantedQty: 4, broker: held(), clientOrderId: 'c1' });
    expect(r).toEqual({
      ok: true,
      clipped: false,
      order: {
        symbol: FUTURE_SYMBOL,
        qty: 4,
        side: 'sell',
        type: 'market',
        time_in_force: 'day',
        client_order_id: 'c1',
      },
    });
    expect(r.ok && 'position_intent' in r.order).toBe(false);
  });

  it('closes a short with an intent-free BUY', () => {
    const r = buildCloseOrder({
      position: short,
      wantedQty: 2,
      broker: held({ side: 'short', qty: 2, qty_available: 2 }),
      clientOrderId: 'c2',
    });
    expect(r.ok && r.order).toMatchObject({ side: 'buy', qty: 2 });
    expect(r.ok && r.order.position_intent).toBeUndefined();
  });

  it('sends nothing when the broker holds nothing in that contract', () => {
    expect(buildCloseOrder({ position: long, wantedQty: 4, broker: undefined, clientOrderId: 'c' })).toEqual({
      ok: false,
      reason: 'broker_holds_nothing',
    });
  });

  it('sends nothing when the broker holds the opposite side (never flips through zero)', () => {
    const r = buildCloseOrder({
      position: long,
      wantedQty: 1,
      broker: held({ side: 'short' }),
      clientOrderId: 'c',
    });
    expect(r.ok).toBe(false);
  });

  it('sends nothing when the broker position is another symbol (e.g. the underlying)', () => {
    const r = buildCloseOrder({
      position: long,
      wantedQty: 1,
      broker: held({ symbol: 'GOOGL' }),
      clientOrderId: 'c',
    });
    expect(r.ok).toBe(false);
  });

  it('clips to the qty available (held minus what open orders reserve)', () => {
    const r = buildCloseOrder({
      position: long,
      wantedQty: 10,
      broker: held({ qty_available: 3 }),
      clientOrderId: 'c',
    });
    expect(r).toMatchObject({ ok: true, clipped: true, order: { qty: 3 } });
  });

  it('uses a limit price when given (marketable limit)', () => {
    const r = buildCloseOrder({
      position: long,
      wantedQty: 1,
      broker: held(),
      clientOrderId: 'c',
      limitPrice: 1.234,
    });
    expect(r.ok && r.order).toMatchObject({ type: 'limit', limit_price: 1.23 });
  });

  it('property: never more than available, never an intent, always the recorded symbol and reducing side', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'long' | 'short'>('long', 'short'),
        fc.constantFrom<'long' | 'short'>('long', 'short'),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 60 }),
        (side, brokerSide, qty, available, wanted) => {
          const broker = held({ side: brokerSide, qty, qty_available: Math.min(qty, available) });
          const r = buildCloseOrder({
            position: { option_symbol: FUTURE_SYMBOL, side },
            wantedQty: wanted,
            broker: qty === 0 ? undefined : broker,
            clientOrderId: 'c',
          });
          const cap = closableQty({ option_symbol: FUTURE_SYMBOL, side }, qty === 0 ? undefined : broker);
          if (!r.ok) return cap === 0 || wanted === 0;
          return (
            r.order.qty >= 1 &&
            r.order.qty <= cap &&
            r.order.qty <= wanted &&
            brokerSide === side &&
            r.order.position_intent === undefined &&
            r.order.symbol === FUTURE_SYMBOL &&
            r.order.side === (side === 'long' ? 'sell' : 'buy')
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
