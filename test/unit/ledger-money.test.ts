/** Whole cents for the ledger (shared/domain/money.ts centsOf, notionalCents). */
import { centsOf, centsToDollars, dollarsToCents, notionalCents } from '../../shared/domain/money';

it('rounds dollars to whole cents, halves away from zero despite binary error', () => {
  expect(centsOf(1.005)).toBe(101);
  expect(centsOf(-1.005)).toBe(-101);
  expect(centsOf(0.1 + 0.2)).toBe(30);
  expect(centsOf(-0)).toBe(0);
  expect(dollarsToCents(2.1)).toBe(210);
  expect(centsToDollars(-11_000)).toBe(-110);
});

it('refuses a value that is not an amount', () => {
  expect(() => centsOf(Number.NaN)).toThrow(/not an amount of dollars: NaN/);
});

it('gives a fill’s notional in cents: 3 contracts at an average 1.533333333 are $460.00', () => {
  expect(notionalCents(3, 1.533333333, 100)).toBe(46_000);
  expect(notionalCents(1, 1.6, 100)).toBe(16_000);
  expect(notionalCents(400, 301.25, 1)).toBe(12_050_000);
});
