/**
 * The warm-sweep cache that stays, the decode cache (docs/BENCHMARKS.md, "Caches kept and removed"): each
 * answer served from memory must equal the one computed afresh, and a changed input must be computed again.
 * Beside it, the fast paths that replaced slower code (trusted exit plans, px without a regex, the session
 * close of a clock) against their references.
 */
import fc from 'fast-check';
import { positionFromItem, toItem } from '../../shared/adapters/position-item';
import { readStoredExitPlan } from '../../shared/domain/exit-plan';
import { evaluateExit, readExitFields } from '../../shared/domain/exit-rules';
import { px } from '../../shared/domain/exit-rules/util';
import { daysUntil, newYorkTime, sessionCloseOf } from '../../shared/domain/market-time';
import { formatOccSymbol, parseOccSymbol } from '../../shared/domain/occ';
import { normalizeStoredPosition, type Position } from '../../shared/domain/position';
import { FACTORY_NOW, makeExitPlan, makePosition, makeQuoteAt } from '../helpers/factories';

const RUNS = { numRuns: 200 };

/** The position an item holds, decoded without any memo (the reference). */
function freshDecode(item: Record<string, unknown>): Position {
  const record = JSON.parse(item.record as string) as Record<string, unknown>;
  return normalizeStoredPosition({ ...record, version: item.version }, readStoredExitPlan);
}

function expectDeepFrozen(value: unknown, path = 'position'): void {
  if (value === null || typeof value !== 'object') return;
  expect({ path, frozen: Object.isFrozen(value) }).toEqual({ path, frozen: true });
  for (const [k, v] of Object.entries(value)) expectDeepFrozen(v, `${path}.${k}`);
}

const pctArb = (min: number, max: number) => fc.integer({ min, max }).map((p) => p / 100);
const centsArb = fc.integer({ min: 1, max: 400_000 }).map((c) => c / 100);

/** Positions with the fields a sweep reads and writes varied, nested objects included. */
const positionArb: fc.Arbitrary<Position> = fc
  .record({
    id: fc.string({ minLength: 1, maxLength: 12 }),
    state: fc.constantFrom('submitting', 'pending', 'open', 'closing', 'closed'),
    side: fc.constantFrom('long', 'short'),
    quantity: fc.integer({ min: 0, max: 50 }),
    entry: fc.option(centsArb, { nil: null }),
    peak: fc.option(centsArb, { nil: null }),
    breakeven: fc.boolean(),
    done: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
    flags: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
    pending: fc.option(
      fc.record({ seq: fc.integer({ min: 1, max: 9 }), qty: fc.integer({ min: 1, max: 9 }) }),
      { nil: null },
    ),
    stopLoss: fc.option(pctArb(1, 100), { nil: null }),
    partials: fc.option(
      fc.array(fc.record({ gain_pct: pctArb(1, 200), fraction: pctArb(1, 100) }), {
        minLength: 1,
        maxLength: 3,
      }),
      { nil: null },
    ),
    selection: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue()), { nil: null }),
    version: fc.integer({ min: 0, max: 1_000_000 }),
  })
  .map((a) =>
    makePosition({
      position_id: a.id,
      recommendation_id: a.id,
      state: a.state,
      side: a.side,
      quantity: a.quantity,
      entry_price: a.entry,
      peak_price: a.peak,
      breakeven_active: a.breakeven,
      partial_exits_done: a.done,
      flags: a.flags,
      pending_exit: a.pending && {
        seq: a.pending.seq,
        client_order_id: `ops-main-x-${a.id}-${a.pending.seq}`,
        qty: a.pending.qty,
        reason: 'stop_loss',
        claimed_at: FACTORY_NOW.toISOString(),
      },
      exit_plan: makeExitPlan({ stop_loss_pct: a.stopLoss, partial_exits: a.partials }),
      selection: a.selection,
      version: a.version,
    }),
  );

describe('positionFromItem: an unchanged item is decoded once', () => {
  it('a reused position equals a fresh decode of the same item, and is deeply frozen', () => {
    fc.assert(
      fc.property(positionArb, (p) => {
        const item = toItem(p);
        const first = positionFromItem(item);
        // The same item read again (as the next sweep reads it: equal strings, not the same objects).
        const again = positionFromItem({ ...item, record: `${item.record as string} `.trimEnd() });
        expect(again).toBe(first);
        expect(again).toEqual(freshDecode(item));
        expectDeepFrozen(again);
      }),
      RUNS,
    );
  });

  it('a changed version or record is decoded again, to what it now holds', () => {
    fc.assert(
      fc.property(positionArb, positionArb, (p, q) => {
        const item = toItem(p);
        const first = positionFromItem(item);
        // Same record, another version (a write that left the record as it was is still a write).
        const bumped: Record<string, unknown> = { ...item, version: p.version + 1 };
        const second = positionFromItem(bumped);
        expect(second).not.toBe(first);
        expect(second.version).toBe(p.version + 1);
        expect(second).toEqual(freshDecode(bumped));
        // Same keys and version, another record.
        const changed: Record<string, unknown> = {
          ...toItem({ ...q, account: p.account, position_id: p.position_id }),
          version: bumped.version,
        };
        const third = positionFromItem(changed);
        expect(third).toEqual(freshDecode(changed));
        if (changed.record !== bumped.record) expect(third).not.toBe(second);
      }),
      RUNS,
    );
  });

  it('items under different keys (another sort key, another account) each get a correct position', () => {
    const p = makePosition({ position_id: 'k1', version: 4 });
    const a = toItem(p);
    const b = { ...a, sk: 'POS#k2' };
    const c = {
      ...a,
      pk: 'ACCT#other',
      record: (a.record as string).replace('"quantity":10', '"quantity":3'),
    };
    expect(positionFromItem(a)).toEqual(freshDecode(a));
    expect(positionFromItem(b)).toEqual(freshDecode(b));
    expect(positionFromItem(c)).toEqual(freshDecode(c));
    expect(positionFromItem(c).quantity).toBe(3);
    expect(positionFromItem(a)).toEqual(freshDecode(a));
    expect(positionFromItem(a).quantity).toBe(10);
  });

  it('a broken record is refused every time it is read, and read once fixed', () => {
    const good = toItem(makePosition({ position_id: 'b1', version: 3 }));
    const broken = { ...good, record: '{"account":' };
    expect(() => positionFromItem(broken)).toThrow('record is not valid JSON');
    expect(() => positionFromItem(broken)).toThrow('record is not valid JSON');
    expect(positionFromItem(good)).toEqual(freshDecode(good));
    expect(() => positionFromItem(broken)).toThrow('record is not valid JSON');
  });

  it('stays right past its bound (thousands of items, then the first ones again)', () => {
    const items = Array.from({ length: 5000 }, (_, i) =>
      toItem(makePosition({ position_id: `n${i}`, quantity: (i % 7) + 1, version: i })),
    );
    for (const item of items) positionFromItem(item);
    for (const i of [0, 1, 2500, 4999]) expect(positionFromItem(items[i])).toEqual(freshDecode(items[i]));
  });
});

describe('readExitFields: a store position (frozen, its plan trusted) reads as a plain copy does', () => {
  it("a store position's fields (and its evaluation) equal those of a changeable copy, asked once or again", () => {
    fc.assert(
      fc.property(positionArb, centsArb, (p, price) => {
        const stored = positionFromItem(toItem(p));
        const copy = structuredClone(freshDecode(toItem(p))) as Position;
        const quote = makeQuoteAt(price, { symbol: p.option_symbol });
        for (let i = 0; i < 2; i++) {
          expect(readExitFields(stored)).toEqual(readExitFields(copy));
          expect(evaluateExit(stored, quote, FACTORY_NOW)).toEqual(evaluateExit(copy, quote, FACTORY_NOW));
        }
      }),
      RUNS,
    );
  });

  it('a position that changes is read as it now is', () => {
    const p = { ...makePosition({ peak_price: 2.5, partial_exits_done: [] }) } as {
      -readonly [K in keyof Position]: Position[K];
    };
    expect(readExitFields(p)).toMatchObject({ peakPrice: 2.5, partialExitsDone: new Set() });
    p.peak_price = 3;
    (p.partial_exits_done as number[]).push(0);
    expect(readExitFields(p)).toMatchObject({ peakPrice: 3, partialExitsDone: new Set([0]) });
  });
});

describe('parseOccSymbol: asked again, the same answer', () => {
  /** The parts a symbol is built from, and the symbol. */
  const partsArb = fc
    .record({
      root: fc.stringMatching(/^[A-Z]{1,5}[0-9]?$/),
      days: fc.integer({ min: 0, max: 36_000 }),
      type: fc.constantFrom<'call' | 'put'>('call', 'put'),
      strikeMills: fc.integer({ min: 1, max: 99_999_999 }),
    })
    .map(({ root, days, type, strikeMills }) => {
      const expiry = new Date(Date.UTC(2000, 0, 1) + days * 86_400_000).toISOString().slice(0, 10);
      const strike = strikeMills / 1000;
      return { root, expiry, type, strike, symbol: formatOccSymbol({ root, expiry, type, strike }) };
    });

  it('asked again, answers the same parts', () => {
    fc.assert(
      fc.property(partsArb, ({ root, expiry, type, strike, symbol }) => {
        for (let i = 0; i < 2; i++) {
          const r = parseOccSymbol(symbol);
          expect(r).toEqual({
            ok: true,
            value: { symbol, root, underlying: root.replace(/\d$/, ''), expiry, type, strike },
          });
        }
      }),
      RUNS,
    );
  });

  it('a refused symbol is refused again with the same reason', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const first = parseOccSymbol(s);
        fc.pre(!first.ok);
        expect(parseOccSymbol(s)).toEqual(first);
        expect(first.ok ? '' : first.error).toMatch(/OCC option symbol|impossible expiry|zero strike/);
      }),
      RUNS,
    );
    expect(parseOccSymbol('GOOGL270230C00340000')).toEqual({
      ok: false,
      error: 'option symbol GOOGL270230C00340000 has an impossible expiry date 2027-02-30',
    });
    expect(parseOccSymbol('GOOGL270230C00340000').ok).toBe(false);
  });
});

describe('daysUntil', () => {
  it('equals the day count computed from scratch, asked once or again', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -400, max: 4000 }),
        fc.integer({ min: 0, max: 2 * 365 * 24 * 60 }),
        (days, minutes) => {
          const now = new Date(Date.UTC(2026, 0, 1) + minutes * 60_000);
          const today = newYorkTime(now).date;
          const date = new Date(Date.parse(`${today}T00:00:00Z`) + days * 86_400_000)
            .toISOString()
            .slice(0, 10);
          expect(daysUntil(date, now)).toBe(days);
          expect(daysUntil(date, now)).toBe(days);
        },
      ),
      RUNS,
    );
  });
});

describe('sessionCloseOf: the session close of a clock', () => {
  it('answers each clock in any order as reading it afresh would', () => {
    const clockArb = fc.record({
      isOpen: fc.boolean(),
      timestamp: fc.constant(FACTORY_NOW.toISOString()),
      nextOpen: fc.constant(null),
      nextClose: fc.option(
        fc
          .integer({ min: 0, max: 1000 })
          .map((h) => new Date(FACTORY_NOW.getTime() + h * 3600_000).toISOString()),
        { nil: null },
      ),
    });
    fc.assert(
      fc.property(fc.array(clockArb, { minLength: 1, maxLength: 8 }), (clocks) => {
        for (const clock of [...clocks, ...clocks]) {
          const expected = clock.isOpen && clock.nextClose ? new Date(clock.nextClose) : null;
          expect(sessionCloseOf({ ...clock })).toEqual(expected);
        }
      }),
      RUNS,
    );
  });
});

describe('px: a price for a log line', () => {
  const byRegex = (p: number) => p.toFixed(4).replace(/0{1,2}$/, '');

  it('drops up to two trailing zeros, exactly as /0{1,2}$/ does, asked once or again', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -10_000_000, max: 10_000_000 }).map((c) => c / 10_000),
          fc.double(),
        ),
        (p) => {
          expect(px(p)).toBe(byRegex(p));
          expect(px(p)).toBe(byRegex(p));
        },
      ),
      { numRuns: 1000 },
    );
    expect([-0, 0, -0].map((p) => px(p) === byRegex(p))).toEqual([true, true, true]);
    expect([2, 2.5, 2.05, 2.0005, 0, 1e21, 1e100].map(px)).toEqual([
      '2.00',
      '2.50',
      '2.05',
      '2.0005',
      '0.00',
      '1e+21',
      '1e+1',
    ]);
  });
});
