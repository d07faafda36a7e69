import fc from 'fast-check';
import { planSpreadClose, uncoveredShorts, type SpreadCloseStep } from '../../shared/domain/spread-close';
import type { BrokerPosition } from '../../shared/domain/broker-types';
import type { HeldSpreadLeg } from '../../shared/domain/spread-types';
import { formatOccSymbol, parseOccSymbol } from '../../shared/domain/occ';

const EXP = '2027-06-18';
const sym = (type: 'call' | 'put', strike: number, expiry = EXP) =>
  formatOccSymbol({ root: 'SPY', expiry, type, strike });
const held = (
  option_symbol: string,
  side: 'long' | 'short',
  qty: number,
  qty_available = qty,
): BrokerPosition => ({
  symbol: option_symbol,
  side,
  qty,
  qty_available,
  avg_entry_price: 1,
  asset_class: 'us_option',
});

const P470 = sym('put', 470);
const P480 = sym('put', 480);
const C520 = sym('call', 520);
const C525 = sym('call', 525);
const CONDOR: HeldSpreadLeg[] = [
  { option_symbol: P470, side: 'long', ratio_qty: 1 },
  { option_symbol: P480, side: 'short', ratio_qty: 1 },
  { option_symbol: C520, side: 'short', ratio_qty: 1 },
  { option_symbol: C525, side: 'long', ratio_qty: 1 },
];
const full = (n: number, avail = n) => CONDOR.map((l) => held(l.option_symbol, l.side, n, avail));

describe('planSpreadClose: every leg whole', () => {
  it('closes the wanted multiple as one mleg order', () => {
    const plan = planSpreadClose({
      spreadId: 'sp-1',
      legs: CONDOR,
      multiple: 3,
      wantedMultiple: 2,
      broker: full(3),
    });
    expect(plan.steps).toEqual([{ kind: 'mleg', multiple: 2, legs: CONDOR }]);
    expect(plan).toMatchObject({ orphaned: false, alerts: [], intactMultiple: 3 });
  });

  it('sends only the multiple every leg confirms available; nothing when a working order holds a leg', () => {
    const broker = full(3);
    broker[1] = held(P480, 'short', 3, 1);
    expect(
      planSpreadClose({ spreadId: 'sp-1', legs: CONDOR, multiple: 3, wantedMultiple: 3, broker }).steps,
    ).toEqual([{ kind: 'mleg', multiple: 1, legs: CONDOR }]);
    broker[1] = held(P480, 'short', 3, 0);
    const plan = planSpreadClose({ spreadId: 'sp-1', legs: CONDOR, multiple: 3, wantedMultiple: 3, broker });
    expect(plan.steps).toEqual([]);
    expect(plan.waiting).toContainEqual({ option_symbol: P480, qty: 3, why: 'held_by_orders' });
  });

  it('respects ratios: 1x2 legs close floor(available / ratio) multiples', () => {
    const legs: HeldSpreadLeg[] = [
      { option_symbol: C520, side: 'long', ratio_qty: 2 },
      { option_symbol: C525, side: 'short', ratio_qty: 1 },
    ];
    const plan = planSpreadClose({
      spreadId: 'sp-r',
      legs,
      multiple: 2,
      wantedMultiple: 2,
      broker: [held(C520, 'long', 4, 3), held(C525, 'short', 2)],
    });
    expect(plan.steps).toEqual([{ kind: 'mleg', multiple: 1, legs }]);
  });
});

describe('planSpreadClose: a leg gone', () => {
  it('the short put assigned early: alerts orphan_leg, closes the intact rest, keeps the long put until nothing is short', () => {
    // One of two condors lost its short put to assignment.
    const broker = full(2);
    broker[1] = held(P480, 'short', 1);
    const plan = planSpreadClose({ spreadId: 'sp-ic', legs: CONDOR, multiple: 2, wantedMultiple: 0, broker });
    expect(plan.orphaned).toBe(true);
    expect(plan.alerts).toEqual([
      {
        type: 'orphan_leg',
        spread_id: 'sp-ic',
        legs: [{ option_symbol: P480, side: 'short', expected: 2, held: 1, oppositeSide: false }],
      },
    ]);
    // The short call has its own long call still (one orphan each): buy the short back first, the longs wait.
    expect(plan.steps).toEqual([
      { kind: 'single', option_symbol: C520, side: 'buy', qty: 1, why: 'buy_back_orphaned_short' },
      { kind: 'mleg', multiple: 1, legs: CONDOR },
    ]);
    expect(plan.waiting).toEqual(
      expect.arrayContaining([
        { option_symbol: P470, qty: 1, why: 'covers_a_short' },
        { option_symbol: C525, qty: 1, why: 'covers_a_short' },
      ]),
    );
  });

  it('the long call sold off by the broker: the naked short call is bought back first, nothing else yet', () => {
    const broker = full(1).filter((b) => b.symbol !== C525);
    const plan = planSpreadClose({ spreadId: 'sp-ic', legs: CONDOR, multiple: 1, wantedMultiple: 1, broker });
    expect(plan.steps).toEqual([
      { kind: 'single', option_symbol: P480, side: 'buy', qty: 1, why: 'buy_back_orphaned_short' },
      { kind: 'single', option_symbol: C520, side: 'buy', qty: 1, why: 'buy_back_orphaned_short' },
    ]);
    expect(plan.waiting).toEqual([{ option_symbol: P470, qty: 1, why: 'covers_a_short' }]);
  });

  it('once the shorts are gone, the remaining long is kept as a single leg (or sold)', () => {
    const broker = [held(P470, 'long', 1)];
    const kept = planSpreadClose({
      spreadId: 'sp-ic',
      legs: CONDOR,
      multiple: 1,
      wantedMultiple: 1,
      broker,
      orphanLong: 'keep',
    });
    expect(kept).toMatchObject({ steps: [], keep: [{ option_symbol: P470, qty: 1 }] });
    const sold = planSpreadClose({ spreadId: 'sp-ic', legs: CONDOR, multiple: 1, wantedMultiple: 1, broker });
    expect(sold.steps).toEqual([
      { kind: 'single', option_symbol: P470, side: 'sell', qty: 1, why: 'sell_orphaned_long' },
    ]);
  });

  it('a ratio spread whose extra longs cover an orphaned short: the mleg waits until the short is bought back', () => {
    // Long 2 C520 / short 1 C525 per multiple, 2 multiples; 2 long C520 are gone, so one multiple is intact
    // and one short C525 is orphaned but covered by the intact multiple's second long. Closing the intact
    // multiple before the buy-back fills would leave that short naked.
    const legs: HeldSpreadLeg[] = [
      { option_symbol: C520, side: 'long', ratio_qty: 2 },
      { option_symbol: C525, side: 'short', ratio_qty: 1 },
    ];
    const plan = planSpreadClose({
      spreadId: 'sp-x',
      legs,
      multiple: 2,
      wantedMultiple: 2,
      broker: [held(C520, 'long', 2), held(C525, 'short', 2)],
    });
    expect(plan.steps).toEqual([
      { kind: 'single', option_symbol: C525, side: 'buy', qty: 1, why: 'buy_back_orphaned_short' },
    ]);
    expect(plan.waiting).toEqual(
      expect.arrayContaining([
        { option_symbol: C520, qty: 2, why: 'not_safe_yet' },
        { option_symbol: C525, qty: 1, why: 'not_safe_yet' },
      ]),
    );
  });

  it('a leg the broker holds on the opposite side is never touched', () => {
    const broker = [...full(1).filter((b) => b.symbol !== C525), held(C525, 'short', 1)];
    const plan = planSpreadClose({ spreadId: 'sp-ic', legs: CONDOR, multiple: 1, wantedMultiple: 1, broker });
    expect(plan.steps.some((s) => s.kind === 'single' && s.option_symbol === C525)).toBe(false);
    expect(plan.alerts[0].legs).toContainEqual({
      option_symbol: C525,
      side: 'long',
      expected: 1,
      held: 0,
      oppositeSide: true,
    });
  });
});

describe('planSpreadClose properties', () => {
  const strikes = [470, 480, 500, 520, 525];
  const legsArb = fc
    .uniqueArray(
      fc.record({
        // Mostly calls on one expiry, so that legs cover each other (ratio spreads, orphans covered by
        // another multiple's long) often enough for the safety net to matter.
        type: fc.constantFrom<'call' | 'put'>('call', 'call', 'call', 'put'),
        strike: fc.constantFrom(...strikes),
        expiry: fc.constantFrom(EXP, EXP, EXP, '2027-07-16'),
        side: fc.constantFrom<'long' | 'short'>('long', 'short'),
        ratio: fc.integer({ min: 1, max: 3 }),
      }),
      { minLength: 2, maxLength: 4, selector: (l) => `${l.type}${l.strike}${l.expiry}` },
    )
    .map((ls) =>
      ls.map((l) => ({ option_symbol: sym(l.type, l.strike, l.expiry), side: l.side, ratio_qty: l.ratio })),
    );
  const scenario = legsArb.chain((legs) =>
    fc.record({
      legs: fc.constant(legs),
      multiple: fc.integer({ min: 1, max: 4 }),
      wanted: fc.integer({ min: 0, max: 5 }),
      orphanLong: fc.constantFrom<'close' | 'keep'>('close', 'keep'),
      broker: fc.tuple(
        ...legs.map((l) =>
          fc.record({
            state: fc.constantFrom('same', 'same', 'same', 'same', 'gone', 'opposite'),
            qty: fc.integer({ min: 0, max: 14 }),
            held: fc.integer({ min: 0, max: 14 }),
            symbol: fc.constant(l.option_symbol),
            side: fc.constant(l.side),
          }),
        ),
      ),
    }),
  );

  function brokerOf(s: {
    broker: Array<{ state: string; qty: number; held: number; symbol: string; side: 'long' | 'short' }>;
  }) {
    return s.broker
      .filter((b) => b.state !== 'gone' && b.qty > 0)
      .map((b) =>
        held(
          b.symbol,
          b.state === 'same' ? b.side : b.side === 'long' ? 'short' : 'long',
          b.qty,
          Math.min(b.qty, b.held),
        ),
      );
  }

  const reduced = (steps: readonly SpreadCloseStep[]) => {
    const out = new Map<string, { qty: number; side: 'buy' | 'sell' }[]>();
    for (const step of steps) {
      const parts: Array<[string, number, 'buy' | 'sell']> =
        step.kind === 'single'
          ? [[step.option_symbol, step.qty, step.side]]
          : step.legs.map((l) => [
              l.option_symbol,
              l.ratio_qty * step.multiple,
              l.side === 'long' ? 'sell' : 'buy',
            ]);
      for (const [symbol, qty, side] of parts) out.set(symbol, [...(out.get(symbol) ?? []), { qty, side }]);
    }
    return out;
  };

  it('never a close larger than a leg holds available, never on the opening side, never a leg not held', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const broker = brokerOf(s);
        const plan = planSpreadClose({
          spreadId: 'p',
          legs: s.legs,
          multiple: s.multiple,
          wantedMultiple: s.wanted,
          broker,
          orphanLong: s.orphanLong,
        });
        for (const [symbol, parts] of reduced(plan.steps)) {
          const leg = s.legs.find((l) => l.option_symbol === symbol)!;
          const pos = broker.find((b) => b.symbol === symbol);
          expect(pos?.side).toBe(leg.side);
          const total = parts.reduce((n, p) => n + p.qty, 0);
          expect(total).toBeLessThanOrEqual(
            Math.min(pos!.qty, pos!.qty_available, leg.ratio_qty * s.multiple),
          );
          for (const p of parts) expect(p.side).toBe(pos!.side === 'long' ? 'sell' : 'buy');
          for (const p of parts) expect(p.qty).toBeGreaterThan(0);
        }
        for (const step of plan.steps)
          if (step.kind === 'mleg') expect(step.multiple).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 500 },
    );
  });

  it('never leaves a short naked: whatever subset of the planned orders fills, no more shorts are uncovered than before', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const broker = brokerOf(s);
        const plan = planSpreadClose({
          spreadId: 'p',
          legs: s.legs,
          multiple: s.multiple,
          wantedMultiple: s.wanted,
          broker,
          orphanLong: s.orphanLong,
        });
        const holding = (sold: Map<string, number>) =>
          s.legs.map((l) => {
            const pos = broker.find((b) => b.symbol === l.option_symbol && b.side === l.side);
            const occ = parseOccSymbol(l.option_symbol);
            const qty = Math.min(pos?.qty ?? 0, l.ratio_qty * s.multiple) - (sold.get(l.option_symbol) ?? 0);
            return {
              type: occ.ok ? occ.value.type : null,
              expiry: occ.ok ? occ.value.expiry : '',
              side: l.side,
              qty,
            };
          });
        const before = uncoveredShorts(holding(new Map()));
        for (let mask = 0; mask < 1 << plan.steps.length; mask++) {
          const chosen = plan.steps.filter((_, i) => mask & (1 << i));
          const sold = new Map<string, number>();
          for (const [symbol, parts] of reduced(chosen))
            sold.set(
              symbol,
              parts.reduce((n, p) => n + p.qty, 0),
            );
          expect(uncoveredShorts(holding(sold))).toBeLessThanOrEqual(before);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a whole spread with every leg available closes the wanted multiple in one mleg order', () => {
    fc.assert(
      fc.property(
        legsArb,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        (legs, multiple, wanted) => {
          const broker = legs.map((l) => held(l.option_symbol, l.side, l.ratio_qty * multiple));
          const plan = planSpreadClose({ spreadId: 'p', legs, multiple, wantedMultiple: wanted, broker });
          expect(plan.steps).toEqual([{ kind: 'mleg', multiple: Math.min(multiple, wanted), legs }]);
          expect(plan.alerts).toEqual([]);
        },
      ),
    );
  });
});
