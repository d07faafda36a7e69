import { ExitBudget } from '../../shared/use-cases/sweep/exit-budget';
import type { BrokerPosition } from '../../shared/ports';

const held = (
  symbol: string,
  qty: number,
  available = qty,
  side: 'long' | 'short' = 'long',
): BrokerPosition => ({
  symbol,
  side,
  qty,
  qty_available: available,
  avg_entry_price: 1,
  asset_class: 'us_option',
});

describe('ExitBudget: the one per-contract budget every exit send spends', () => {
  it('grants at most what the snapshot has available, on the held side only', () => {
    const b = new ExitBudget([held('A', 5, 3), held('S', 2, 2, 'short')]);
    expect(b.take('A', 'long', 10)).toBe(3);
    expect(b.take('A', 'long', 1)).toBe(0);
    expect(b.take('S', 'long', 1)).toBe(0); // the broker is short there: a SELL would add to it
    expect(b.take('X', 'long', 1)).toBe(0); // not held at all
  });

  it('a fresh read only ever lowers what is left after this sweep’s sends', () => {
    const b = new ExitBudget([held('A', 4)]);
    expect(b.take('A', 'long', 2)).toBe(2);
    b.refresh('A', held('A', 4)); // a read that predates the send must not give the 2 back
    expect(b.available('A', 'long')).toBe(2);
    b.refresh('A', held('A', 1));
    expect(b.available('A', 'long')).toBe(1);
    b.refresh('A', null);
    expect(b.available('A', 'long')).toBe(0);
  });

  it('a confirmed cancel of our working sell frees its unfilled contracts; a refused send gives back', () => {
    const b = new ExitBudget([held('A', 5, 1)]); // 4 held by our working order
    b.freed('A', 'long', 4);
    expect(b.available('A', 'long')).toBe(5);
    expect(b.take('A', 'long', 5)).toBe(5);
    b.giveBack('A', 'long', 2);
    expect(b.available('A', 'long')).toBe(2);
  });
});
