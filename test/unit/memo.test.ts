import fc from 'fast-check';
import { memoize } from '../../shared/domain/memo';

describe('memoize', () => {
  it('answers as the function does, computing each remembered key once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 })), (keys) => {
        const calls = new Map<number, number>();
        const square = memoize((k: number) => {
          calls.set(k, (calls.get(k) ?? 0) + 1);
          return k * k;
        });
        for (const k of [...keys, ...keys]) expect(square(k)).toBe(k * k);
        for (const n of calls.values()) expect(n).toBe(1);
      }),
    );
  });

  it('past its bound starts again: still right, the old keys computed anew', () => {
    let computed = 0;
    const id = memoize(
      (k: number) => {
        computed++;
        return k;
      },
      { max: 3 },
    );
    for (const k of [1, 2, 3, 4, 1]) expect(id(k)).toBe(k);
    expect(computed).toBe(5); // 4 cleared the memory, so 1 is computed again
  });

  it('keys `remember` refuses are computed every time', () => {
    let computed = 0;
    const len = memoize(
      (s: string) => {
        computed++;
        return s.length;
      },
      { remember: (s) => s.length <= 3 },
    );
    expect([len('abc'), len('abc'), len('abcd'), len('abcd')]).toEqual([3, 3, 4, 4]);
    expect(computed).toBe(3);
  });

  it('remembers an undefined answer too', () => {
    let computed = 0;
    const nothing = memoize((_k: string) => {
      computed++;
      return undefined;
    });
    nothing('a');
    nothing('a');
    expect(computed).toBe(1);
  });
});
