import {
  applyMlegFill,
  inferLegIntent,
  mlegFill,
  mlegHeldForOrders,
  mlegOrderJson,
  validateMlegOrder,
  type MlegAccountView,
  type MlegPosition,
  type MlegQuote,
} from '../../local/alpaca-sim/mleg';
import { SimHttpError } from '../../local/alpaca-sim/order-terms';
import { buildSpreadOpenOrder, mlegOrderBody } from '../../shared/domain/spread-orders';

const L = 'SPY270618C00500000';
const S = 'SPY270618C00505000';

function view(
  positions: Record<string, number> = {},
  held: Record<string, number> = {},
  level = 3,
): MlegAccountView {
  return {
    optionsApprovedLevel: level,
    positionQty: (s) => positions[s] ?? 0,
    heldForOrders: (s) => held[s] ?? 0,
  };
}
const body = (o: Record<string, unknown> = {}) => ({
  order_class: 'mleg',
  qty: '2',
  type: 'limit',
  time_in_force: 'day',
  limit_price: '1.90',
  legs: [
    { symbol: L, ratio_qty: '1', side: 'buy', position_intent: 'buy_to_open' },
    { symbol: S, ratio_qty: '1', side: 'sell', position_intent: 'sell_to_open' },
  ],
  ...o,
});
function rejected(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SimHttpError);
    return { status: (err as SimHttpError).status, message: (err as Error).message };
  }
  throw new Error('expected a rejection');
}

describe('simulator mleg rules', () => {
  it('accepts the body the pipeline sends to open a spread', () => {
    const order = buildSpreadOpenOrder(
      {
        recommendation_id: 'r',
        legs: [
          { option_symbol: L, side: 'buy', ratio_qty: 1 },
          { option_symbol: S, side: 'sell', ratio_qty: 1 },
        ],
        multiple: 2,
        order_type: 'limit',
        limit_price: 1.9,
      },
      'main',
    );
    const terms = validateMlegOrder(mlegOrderBody(order), view());
    expect(terms).toMatchObject({ qty: 2, type: 'limit', limitPrice: 1.9 });
    expect(terms.legs.map((l) => l.positionIntent)).toEqual(['buy_to_open', 'sell_to_open']);
  });

  it('infers each omitted intent from that leg’s position: a sell with no long opens a short on that leg', () => {
    const legs = [
      { symbol: L, ratio_qty: '1', side: 'sell' },
      { symbol: S, ratio_qty: '1', side: 'buy' },
    ];
    // Closing a long L / short S vertical: both close.
    expect(
      validateMlegOrder(body({ legs }), view({ [L]: 2, [S]: -2 })).legs.map((l) => l.positionIntent),
    ).toEqual(['sell_to_close', 'buy_to_close']);
    // The long leg already gone: the same intent-free order would OPEN a short on L.
    expect(validateMlegOrder(body({ legs }), view({ [S]: -2 })).legs.map((l) => l.positionIntent)).toEqual([
      'sell_to_open',
      'buy_to_close',
    ]);
    expect(inferLegIntent('buy', 0)).toBe('buy_to_open');
  });

  it('refuses a specified intent that differs from the inferred one (422)', () => {
    const legs = [
      { symbol: L, ratio_qty: '1', side: 'sell', position_intent: 'sell_to_close' },
      { symbol: S, ratio_qty: '1', side: 'buy' },
    ];
    expect(rejected(() => validateMlegOrder(body({ legs }), view()))).toEqual({
      status: 422,
      message: 'position intent mismatch, inferred: sell_to_open, specified: sell_to_close',
    });
  });

  it('refuses 1 or 5 legs, two legs on one contract, mixed underlyings, non-whole ratios, stop types', () => {
    const leg = (symbol: string) => ({ symbol, ratio_qty: '1', side: 'buy' });
    expect(rejected(() => validateMlegOrder(body({ legs: [leg(L)] }), view())).message).toBe(
      'mleg orders must have between 2 and 4 legs',
    );
    const five = [500, 505, 510, 515, 520].map((k) => leg(`SPY270618C00${k}000`));
    expect(rejected(() => validateMlegOrder(body({ legs: five }), view())).status).toBe(422);
    expect(rejected(() => validateMlegOrder(body({ legs: [leg(L), leg(L)] }), view())).message).toMatch(
      /duplicate leg/,
    );
    expect(
      rejected(() => validateMlegOrder(body({ legs: [leg(L), leg('QQQ270618C00505000')] }), view())).message,
    ).toMatch(/same underlying/);
    expect(
      rejected(() => validateMlegOrder(body({ legs: [leg(L), { ...leg(S), ratio_qty: '1.5' }] }), view()))
        .message,
    ).toMatch(/ratio_qty must be a positive integer/);
    expect(
      rejected(() => validateMlegOrder(body({ type: 'stop', stop_price: '1' }), view())).message,
    ).toMatch(/invalid order type for mleg/);
  });

  it('refuses an account below Level 3 (403)', () => {
    expect(rejected(() => validateMlegOrder(body(), view({}, {}, 2))).status).toBe(403);
  });

  it('a closing leg needs ratio x qty available, with what working orders hold taken out (403)', () => {
    const legs = [
      { symbol: L, ratio_qty: '1', side: 'sell' },
      { symbol: S, ratio_qty: '1', side: 'buy' },
    ];
    expect(
      rejected(() =>
        validateMlegOrder(body({ legs, limit_price: '-1.70' }), view({ [L]: 2, [S]: -2 }, { [S]: 1 })),
      ),
    ).toEqual({
      status: 403,
      message: 'insufficient qty available for order (requested: 2, available: 1)',
    });
  });

  it('fills all legs or none at the net price, a limit only at or better than its net', () => {
    const terms = validateMlegOrder(body(), view());
    const quotes = new Map<string, MlegQuote>([
      [L, { bid: 3.0, ask: 3.2 }],
      [S, { bid: 1.2, ask: 1.3 }],
    ]);
    expect(mlegFill(terms, 2, quotes)).toBeNull(); // net 2.00 > limit 1.90
    quotes.set(S, { bid: 1.35, ask: 1.45 });
    expect(mlegFill(terms, 2, quotes)).toEqual({
      netPrice: 1.85,
      legs: [
        { symbol: L, side: 'buy', qty: 2, price: 3.2 },
        { symbol: S, side: 'sell', qty: 2, price: 1.35 },
      ],
    });
    quotes.delete(S);
    expect(mlegFill(terms, 2, quotes)).toBeNull(); // one leg unpriceable: nothing fills
  });

  it('a credit limit (negative) fills when the net received is at least the credit', () => {
    const legs = [
      { symbol: S, ratio_qty: '1', side: 'sell' },
      { symbol: L, ratio_qty: '1', side: 'buy' },
    ];
    const terms = validateMlegOrder(body({ legs, limit_price: '-1.00' }), view());
    const quotes = new Map<string, MlegQuote>([
      [S, { bid: 3.0, ask: 3.1 }],
      [L, { bid: 1.8, ask: 1.9 }],
    ]);
    expect(mlegFill(terms, 1, quotes)?.netPrice).toBe(-1.1);
    quotes.set(L, { bid: 2.1, ask: 2.2 });
    expect(mlegFill(terms, 1, quotes)).toBeNull();
  });

  it('applies a fill per leg (ratio quantities), holds closing legs while working, reads back as Alpaca shows it', () => {
    const positions = new Map<string, MlegPosition>();
    applyMlegFill(positions, [
      { symbol: L, side: 'buy', qty: 4, price: 3.2 },
      { symbol: S, side: 'sell', qty: 2, price: 1.35 },
    ]);
    expect(positions.get(L)).toEqual({ qty: 4, avgPrice: 3.2 });
    expect(positions.get(S)).toEqual({ qty: -2, avgPrice: 1.35 });
    const closing = validateMlegOrder(
      body({
        type: 'market',
        limit_price: undefined,
        legs: [
          { symbol: L, ratio_qty: '2', side: 'sell' },
          { symbol: S, ratio_qty: '1', side: 'buy' },
        ],
      }),
      view({ [L]: 4, [S]: -2 }),
    );
    expect([...mlegHeldForOrders(closing, 1)]).toEqual([
      [L, 2],
      [S, 1],
    ]);
    applyMlegFill(positions, [
      { symbol: L, side: 'sell', qty: 4, price: 3 },
      { symbol: S, side: 'buy', qty: 2, price: 1.3 },
    ]);
    expect(positions.size).toBe(0);
    const json = mlegOrderJson({
      parent: { id: 'o1', client_order_id: 'c1' },
      terms: closing,
      filledQty: 0,
      legFills: new Map(),
      legIds: ['l1', 'l2'],
      status: 'new',
    });
    expect(json).toMatchObject({ side: '', position_intent: '', order_class: 'mleg', qty: '2' });
    expect((json.legs as Array<Record<string, unknown>>)[0]).toMatchObject({
      id: 'l1',
      asset_class: 'us_option',
      symbol: L,
      qty: '4',
      position_intent: 'sell_to_close',
    });
  });
});
