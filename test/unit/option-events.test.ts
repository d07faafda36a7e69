/**
 * Issue 16 part 2, the pure parts: which records the broker's option events end and why (Alpaca's signs:
 * OPASN +n on a short, OPEXC -n on a long, OPEXP the position's change), the P&L booked, the shares
 * delivered, the activity parsing and the configuration field.
 */
import { deliveredShares, matchOptionEvents } from '../../shared/domain/option-event-match';
import { toBrokerActivity } from '../../shared/adapters/alpaca-activities';
import { parseAccountConfig } from '../../shared/domain/account-config';
import { buildPnlReport } from '../../shared/domain/pnl-report';
import { TransientError } from '../../shared/domain/errors';
import { optionEventBooked } from '../../shared/domain/position-lifecycle';
import type { BrokerActivity } from '../../shared/domain/broker-types';
import type { Position } from '../../shared/domain/position';
import { makePosition } from '../helpers/factories';
import { FUTURE_PUT, FUTURE_SYMBOL } from '../helpers/recommendations';

const at = '2029-03-06T15:00:00.000Z';
const pos = (id: string, over: Partial<Position> = {}): Position =>
  makePosition({
    position_id: id,
    option_symbol: FUTURE_PUT,
    side: 'short',
    state: 'open',
    quantity: 2,
    original_quantity: over.quantity ?? 2,
    entry_price: 3,
    entry_time: at,
    created_at: at,
    ...over,
  });
let n = 0;
const act = (
  type: BrokerActivity['type'],
  qty: number,
  over: Partial<BrokerActivity> = {},
): BrokerActivity => ({
  id: `20290306200000000::${++n}`,
  type,
  date: '2029-03-06',
  symbol: FUTURE_PUT,
  qty,
  net_amount: 0,
  ...over,
});

describe('matchOptionEvents', () => {
  it('an assignment covering both shorts ends both, oldest first; fees go on the oldest', () => {
    const a = pos('a', { created_at: '2029-03-06T14:00:00.000Z' });
    const b = pos('b', { quantity: 1 });
    const m = matchOptionEvents(
      FUTURE_PUT,
      'short',
      [b, a],
      [act('OPASN', 3), act('FEE', 0, { net_amount: -1.5 })],
    );
    expect(m.map((x) => [x.position.position_id, x.reason, x.fees])).toEqual([
      ['a', 'assigned', 1.5],
      ['b', 'assigned', 0],
    ]);
  });

  it('a partial event ends the oldest position in full and the next in part (case 6: was left out)', () => {
    const m = matchOptionEvents(
      FUTURE_PUT,
      'short',
      [pos('a'), pos('b', { created_at: '2029-03-06T16:00:00.000Z' })],
      [act('OPASN', 3)],
    );
    expect(m.map((x) => [x.position.position_id, x.contracts, x.full])).toEqual([
      ['a', 2, true],
      ['b', 1, false],
    ]);
  });

  it('4 of 10 assigned: matches the 4 on the one record, not in full', () => {
    const asn = act('OPASN', 4);
    const m = matchOptionEvents(FUTURE_PUT, 'short', [pos('p', { quantity: 10 })], [asn]);
    expect(m).toEqual([
      expect.objectContaining({
        reason: 'assigned',
        contracts: 4,
        full: false,
        parts: [{ activity: asn, contracts: 4 }],
      }),
    ]);
  });

  it('counts what the ledgers hold (`held`), skips activities already booked, and stops at `limit`', () => {
    const first = act('OPASN', 4);
    const fee = act('FEE', 0, { net_amount: -1 });
    const second = act('OPASN', 3, { date: '2029-03-07' });
    const later = act('FEE', 0, { net_amount: -2, date: '2029-03-07' });
    const p = pos('p', { quantity: 10 });
    // The first event and its fee are on the ledger: only the second (and the fee of its day) is matched.
    const m = matchOptionEvents(FUTURE_PUT, 'short', [p], [first, fee, second, later], {
      held: () => 6,
      booked: new Set([first.id, fee.id]),
    });
    expect(m.map((x) => [x.contracts, x.full, x.fees, x.feeActivities.map((a) => a.id)])).toEqual([
      [3, false, 2, [later.id]],
    ]);
    // Reconcile's shortfall caps what the events may explain.
    const capped = matchOptionEvents(FUTURE_PUT, 'short', [p], [first], { limit: 3 });
    expect(capped.map((x) => [x.contracts, x.parts[0].contracts])).toEqual([[3, 3]]);
    // A ledger that holds nothing is never matched.
    expect(matchOptionEvents(FUTURE_PUT, 'short', [p], [first], { held: () => 0 })).toEqual([]);
  });

  it('ignores events of the wrong sign or type for the side, other contracts, and days before the position', () => {
    const short = [pos('s')];
    expect(matchOptionEvents(FUTURE_PUT, 'short', short, [act('OPEXP', -2)])).toEqual([]);
    expect(matchOptionEvents(FUTURE_PUT, 'short', short, [act('OPEXC', 2)])).toEqual([]);
    expect(
      matchOptionEvents(FUTURE_PUT, 'short', short, [act('OPASN', 2, { symbol: FUTURE_SYMBOL })]),
    ).toEqual([]);
    expect(matchOptionEvents(FUTURE_PUT, 'short', short, [act('OPASN', 2, { date: '2029-03-05' })])).toEqual(
      [],
    );
    const long = [pos('l', { side: 'long', option_symbol: FUTURE_SYMBOL })];
    expect(
      matchOptionEvents(FUTURE_SYMBOL, 'long', long, [act('OPASN', -2, { symbol: FUTURE_SYMBOL })]),
    ).toEqual([]);
    expect(
      matchOptionEvents(FUTURE_SYMBOL, 'long', long, [act('OPEXP', -2, { symbol: FUTURE_SYMBOL })]).map(
        (x) => x.reason,
      ),
    ).toEqual(['expired']);
  });
});

/** The event that ends all of `p`'s contracts (Alpaca's sign: +n ends a short, -n a long). */
const ending = (p: Position, reason: 'expired' | 'assigned' | 'exercised') => [
  {
    activity: act(
      reason === 'expired' ? 'OPEXP' : reason === 'assigned' ? 'OPASN' : 'OPEXC',
      p.side === 'short' ? p.quantity : -p.quantity,
    ),
  },
];

describe('optionEventBooked without the underlying price: the option leg at 0, the shares at the strike', () => {
  it.each([
    ['long', 'expired', -600],
    ['short', 'expired', 600],
    ['short', 'assigned', 600],
    ['long', 'exercised', -600],
  ] as const)('%s %s books %d on 2 contracts bought/sold at 3.00', (side, reason, pnl) => {
    const p = pos('p', { side });
    const next = optionEventBooked(p, reason, ending(p, reason), { at }, at);
    expect(next).toMatchObject({
      state: 'closed',
      close_reason: reason,
      realized_pnl: pnl,
      quantity: 0,
      exit_price: 0,
    });
    expect(next).not.toHaveProperty('fees');
  });

  it('records fees apart from the P&L, and refuses a record that is not open', () => {
    const p = pos('p');
    const fee = { activity: act('FEE', 0, { net_amount: -0.65 }) };
    expect(optionEventBooked(p, 'assigned', [...ending(p, 'assigned'), fee], { at }, at)).toMatchObject({
      realized_pnl: 600,
      fees: 0.65,
    });
    const closing = pos('p', { state: 'closing' });
    expect(() => optionEventBooked(closing, 'assigned', ending(closing, 'assigned'), { at }, at)).toThrow(
      /optionEventBooked/,
    );
  });
});

describe('deliveredShares', () => {
  it.each([
    ['short', 'P', 'assigned', 200],
    ['short', 'C', 'assigned', -200],
    ['long', 'C', 'exercised', 200],
    ['long', 'P', 'exercised', -200],
  ] as const)('%s %s %s: %d shares at the strike', (side, t, reason, shares) => {
    const symbol = t === 'P' ? FUTURE_PUT : FUTURE_SYMBOL;
    expect(deliveredShares(symbol, side, reason, 2)).toEqual({
      underlying: 'GOOGL',
      shares,
      strike: t === 'P' ? 300 : 340,
    });
  });

  it('an expiry delivers nothing', () => {
    expect(deliveredShares(FUTURE_PUT, 'short', 'expired', 2)).toBeNull();
  });
});

describe('toBrokerActivity (zod)', () => {
  const raw = {
    id: '20290306200000000::x',
    activity_type: 'OPASN',
    date: new Date('2029-03-06'),
    symbol: FUTURE_PUT,
    qty: '2',
    net_amount: '0',
  };
  it('parses Alpaca strings into numbers and the date into YYYY-MM-DD', () => {
    expect(toBrokerActivity(raw)).toEqual({
      id: raw.id,
      type: 'OPASN',
      date: '2029-03-06',
      symbol: FUTURE_PUT,
      qty: 2,
      net_amount: 0,
    });
  });
  it.each([
    [{ qty: 'two' }, /qty/],
    [{ activity_type: 'DIV' }, /activity_type/],
    [{ id: '' }, /id/],
  ])('refuses %j as a transient bad response naming the field', (over, msg) => {
    const err = (() => {
      try {
        return toBrokerActivity({ ...raw, ...over });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(msg);
  });
});

describe('limits.flatten_assigned_shares', () => {
  it('defaults to false and is validated like every field', () => {
    expect(parseAccountConfig({ name: 'main' }).limits.flatten_assigned_shares).toBe(false);
    expect(
      parseAccountConfig({ name: 'main', limits: { flatten_assigned_shares: true } }).limits,
    ).toMatchObject({
      flatten_assigned_shares: true,
    });
    expect(() => parseAccountConfig({ name: 'main', limits: { flatten_assigned_shares: 'yes' } })).toThrow(
      /limits.flatten_assigned_shares/,
    );
  });
});

const booked = (p: Position, reason: 'expired' | 'assigned' | 'exercised', when: string) =>
  optionEventBooked(p, reason, ending(p, reason), { at: when }, when);

describe('the P&L report shows the reasons', () => {
  it('assigned, exercised and expired records are booked trades, grouped under their reason', () => {
    const closedAt = '2029-03-06T21:00:00.000Z';
    const records = [
      booked(pos('asn'), 'assigned', closedAt),
      booked(pos('exp', { side: 'long' }), 'expired', closedAt),
      booked(pos('exc', { side: 'long', quantity: 1 }), 'exercised', closedAt),
    ];
    const report = buildPnlReport('main', records, { from: null, to: '2029-03-06' }, new Date(closedAt));
    expect(report.by_reason.map((g) => [g.key, g.closed, g.realized_pnl_usd])).toEqual([
      ['assigned', 1, 600],
      ['exercised', 1, -300],
      ['expired', 1, -600],
    ]);
    expect(report.closed).toMatchObject({ count: 3, won: 1, lost: 2, outside_pipeline: 0 });
  });
});
