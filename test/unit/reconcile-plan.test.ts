import fc from 'fast-check';
import type { BrokerPosition } from '../../shared/domain/broker-types';
import type { Position } from '../../shared/domain/position';
import {
  allocateHeld,
  findMissing,
  findUntracked,
  optionEventsDue,
  planGoneUnexplained,
  planShortfall,
} from '../../shared/domain/reconcile-plan';
import { makePosition } from '../helpers/factories';

const CALL = 'GOOGL280102C00340000';
const PUT = 'GOOGL280102P00300000';

function pos(id: string, quantity: number, createdAt: string, over: Partial<Position> = {}): Position {
  return makePosition({
    position_id: id,
    quantity,
    created_at: createdAt,
    option_symbol: CALL,
    side: 'long',
    ...over,
  });
}

function held(symbol: string, qty: number, side: 'long' | 'short' = 'long'): BrokerPosition {
  return { symbol, side, qty, qty_available: qty, avg_entry_price: 1, asset_class: 'us_option' };
}

const all = (g: readonly Position[]) => g;

describe('allocateHeld', () => {
  it('lets the oldest record keep its contracts first, whatever order they come in', () => {
    const young = pos('young', 3, '2026-06-01T15:00:00Z');
    const old = pos('old', 2, '2026-06-01T14:00:00Z');
    expect(allocateHeld([young, old], 3, 0).map((a) => [a.position.position_id, a.keep])).toEqual([
      ['old', 2],
      ['young', 1],
    ]);
  });

  it('serves records with a working order first: only what they leave is shared', () => {
    const a = pos('a', 2, '2026-06-01T14:00:00Z');
    expect(allocateHeld([a], 3, 2)[0].keep).toBe(1);
    expect(allocateHeld([a], 1, 2)[0].keep).toBe(0);
  });

  it('never hands out more than the broker holds beyond the records in flux, nor more than a record has', () => {
    const record = fc.record({
      quantity: fc.integer({ min: 1, max: 20 }),
      minute: fc.integer({ min: 0, max: 59 }),
    });
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 6 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 30 }),
        (records, brokerQty, fluxQty) => {
          const settled = records.map((r, i) =>
            pos(`p${i}`, r.quantity, `2026-06-01T14:${String(r.minute).padStart(2, '0')}:00Z`),
          );
          const plan = allocateHeld(settled, brokerQty, fluxQty);
          const total = plan.reduce((n, a) => n + a.keep, 0);
          const want = settled.reduce((n, p) => n + p.quantity, 0);
          expect(total).toBe(Math.min(want, Math.max(0, brokerQty - fluxQty)));
          for (const a of plan) expect(a.keep).toBeLessThanOrEqual(a.position.quantity);
          // Oldest first: once a record is short, every younger one keeps nothing.
          const shortAt = plan.findIndex((a) => a.keep < a.position.quantity);
          if (shortAt >= 0) for (const a of plan.slice(shortAt + 1)) expect(a.keep).toBe(0);
        },
      ),
    );
  });
});

describe('findMissing', () => {
  it('names the tracked contracts the read lacks on their side, and calls an empty read suspect', () => {
    const bySymbol = new Map([
      [CALL, [pos('c', 1, '2026-06-01T14:00:00Z')]],
      [PUT, [pos('p', 1, '2026-06-01T14:00:00Z', { option_symbol: PUT, side: 'short' })]],
    ]);
    const partial = findMissing(bySymbol, new Map([[CALL, held(CALL, 1)]]), all);
    expect([...partial.missing]).toEqual([[PUT, 'short']]);
    expect(partial.allMissing).toBe(false);
    // The put held long is not the short the record tracks.
    const wrongSide = findMissing(bySymbol, new Map([[PUT, held(PUT, 1, 'long')]]), all);
    expect(wrongSide.allMissing).toBe(true);
    expect(findMissing(bySymbol, new Map(), all).missing.size).toBe(2);
  });

  it('leaves out contracts with no settled record', () => {
    const bySymbol = new Map([[CALL, [pos('c', 1, '2026-06-01T14:00:00Z')]]]);
    const none = findMissing(bySymbol, new Map(), () => []);
    expect(none.tracked.size).toBe(0);
    expect(none.allMissing).toBe(false);
  });
});

describe('findUntracked', () => {
  it('flags a short no record opened (twice: unexpected and untracked) and more than the table tracks', () => {
    const bySymbol = new Map([[CALL, [pos('c', 2, '2026-06-01T14:00:00Z')]]]);
    const brokerBySymbol = new Map([
      [CALL, held(CALL, 3)],
      [PUT, held(PUT, 1, 'short')],
    ]);
    expect(findUntracked(bySymbol, brokerBySymbol).map((f) => [f.kind, f.symbol, f.noRecord])).toEqual([
      ['untracked_position', CALL, false],
      ['unexpected_short', PUT, false],
      ['untracked_position', PUT, true],
    ]);
  });

  it('says nothing while a record on the contract is in flux, or when the table tracks all of it', () => {
    const closing = pos('c', 2, '2026-06-01T14:00:00Z', { state: 'closing' });
    expect(findUntracked(new Map([[CALL, [closing]]]), new Map([[CALL, held(CALL, 3)]]))).toEqual([]);
    const open = pos('o', 3, '2026-06-01T14:00:00Z');
    expect(findUntracked(new Map([[CALL, [open]]]), new Map([[CALL, held(CALL, 3)]]))).toEqual([]);
  });
});

describe('planGoneUnexplained: option events arrive the next trading day on paper (issue 26 item 3)', () => {
  const LONG = { option_symbol: 'GOOGL261218C00340000', side: 'long' as const };
  const SHORT = { ...LONG, side: 'short' as const };
  const at = (iso: string) => new Date(iso);

  it('a short gone with no shares of its underlying delivered: closed at once (not an assignment)', () => {
    const step = planGoneUnexplained(
      { ...SHORT, missing_since: null },
      { now: at('2026-12-02T16:00:00Z'), allMissing: false, holdsShares: (u) => u !== 'GOOGL' },
    );
    expect(step).toEqual({ kind: 'close' });
  });
  it('a long before its expiry date: closed at once (nothing can explain it)', () => {
    expect(
      planGoneUnexplained(
        { ...LONG, missing_since: null },
        { now: at('2026-12-02T16:00:00Z'), allMissing: false, holdsShares: () => true },
      ),
    ).toEqual({
      kind: 'close',
    });
  });
  it('a short with shares delivered, or any contract on/after its expiry date: noted and alerted, then waits', () => {
    const wed = at('2026-12-02T16:00:00Z');
    expect(
      planGoneUnexplained(
        { ...SHORT, missing_since: null },
        { now: wed, allMissing: false, holdsShares: () => true },
      ),
    ).toEqual({
      kind: 'mark',
      awaitEvents: true,
    });
    const expiryDay = at('2026-12-18T22:00:00Z');
    expect(
      planGoneUnexplained(
        { ...LONG, missing_since: null },
        { now: expiryDay, allMissing: false, holdsShares: () => true },
      ),
    ).toEqual({
      kind: 'mark',
      awaitEvents: true,
    });
    const since = '2026-12-02T16:00:00.000Z';
    expect(
      planGoneUnexplained(
        { ...SHORT, missing_since: since },
        { now: at('2026-12-03T14:29:00Z'), allMissing: false, holdsShares: () => true },
      ).kind,
    ).toBe('wait');
    expect(
      planGoneUnexplained(
        { ...SHORT, missing_since: since },
        { now: at('2026-12-03T14:30:00Z'), allMissing: false, holdsShares: () => true },
      ).kind,
    ).toBe('close');
  });
  it('every tracked contract missing at once: a later sweep confirms before a close', () => {
    const now = at('2026-12-02T16:00:00Z');
    expect(
      planGoneUnexplained(
        { ...LONG, missing_since: null },
        { now, allMissing: true, holdsShares: () => true },
      ),
    ).toEqual({
      kind: 'mark',
      awaitEvents: false,
    });
    expect(
      planGoneUnexplained(
        { ...LONG, missing_since: '2026-12-02T15:59:00Z' },
        { now, allMissing: true, holdsShares: () => true },
      ).kind,
    ).toBe('close');
  });
  it("a Friday expiry: its activities are due at Monday's open, later over a holiday", () => {
    expect(optionEventsDue('2026-12-18T21:30:00Z', at('2026-12-21T14:29:00Z'))).toBe(false);
    expect(optionEventsDue('2026-12-18T21:30:00Z', at('2026-12-21T14:30:00Z'))).toBe(true);
    // Thursday 2026-12-24 → Friday 2026-12-25 is Christmas: Monday the 28th.
    expect(optionEventsDue('2026-12-24T17:00:00Z', at('2026-12-25T15:00:00Z'))).toBe(false);
    expect(optionEventsDue('2026-12-24T17:00:00Z', at('2026-12-28T14:30:00Z'))).toBe(true);
  });
  it('property: the wait always ends by the second calendar week after it began', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('2026-01-01'), max: Date.parse('2030-01-01') }), (t) => {
        const since = new Date(t).toISOString();
        expect(optionEventsDue(since, new Date(t + 8 * 86_400_000))).toBe(true);
        expect(optionEventsDue(since, new Date(t))).toBe(false);
      }),
    );
  });
});

describe('planShortfall: the broker holds fewer than the record and no activity explains it yet (issue 23 case 6)', () => {
  const LONG = { option_symbol: 'GOOGL261218C00340000', side: 'long' as const };
  const SHORT = { ...LONG, side: 'short' as const };
  const wed = new Date('2026-12-02T16:00:00Z');
  const since = '2026-12-02T16:00:00.000Z';

  it('nothing an option event can explain (a long before expiry, a short with no shares delivered): brought down', () => {
    expect(planShortfall({ ...LONG, missing_since: null }, { now: wed, holdsShares: () => true })).toEqual({
      kind: 'bring_down',
    });
    expect(planShortfall({ ...SHORT, missing_since: null }, { now: wed, holdsShares: () => false })).toEqual({
      kind: 'bring_down',
    });
  });
  it('a short with shares in the account (a partial assignment on paper): noted, waits, then brought down', () => {
    const shares = () => true;
    expect(planShortfall({ ...SHORT, missing_since: null }, { now: wed, holdsShares: shares }).kind).toBe(
      'mark',
    );
    const before = new Date('2026-12-03T14:29:00Z');
    expect(planShortfall({ ...SHORT, missing_since: since }, { now: before, holdsShares: shares }).kind).toBe(
      'wait',
    );
    const open = new Date('2026-12-03T14:30:00Z');
    expect(planShortfall({ ...SHORT, missing_since: since }, { now: open, holdsShares: shares }).kind).toBe(
      'bring_down',
    );
  });
  it('on or after the expiry date any contract waits for the activities', () => {
    const expiryDay = new Date('2026-12-18T22:00:00Z');
    expect(
      planShortfall({ ...LONG, missing_since: null }, { now: expiryDay, holdsShares: () => false }).kind,
    ).toBe('mark');
  });
});
