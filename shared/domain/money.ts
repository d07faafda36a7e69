/**
 * Money arithmetic in one place. Amounts are dollars (or dollars per share) held as numbers; every
 * stored or sent amount is rounded to whole cents here, so two paths never round the same value apart.
 */

/** Rounds dollars (or dollars per share) to whole cents, halves upward (`Math.round`). */
export function roundToCents(dollars: number): number {
  return Math.round(dollars * 100) / 100;
}

/**
 * Dollars to whole cents (an integer), halves away from zero. The product is taken to 15 significant
 * digits first, so a binary rounding error (1.005 × 100 = 100.49999…) does not move a half cent down.
 */
export function centsOf(dollars: number): number {
  if (!Number.isFinite(dollars)) throw new RangeError(`not an amount of dollars: ${dollars}`);
  const exact = Number((dollars * 100).toPrecision(15));
  return Math.sign(exact) * Math.round(Math.abs(exact)) || 0;
}

/** Alias of {@link centsOf}, for call sites that read better with the direction in the name. */
export const dollarsToCents = centsOf;

/** Whole cents back to dollars (exact for any integer number of cents a position can reach). */
export function centsToDollars(cents: number): number {
  return cents / 100;
}

/**
 * Cents of `qty` units at `pricePerUnit` dollars, `multiplier` units of the underlying each (100 shares
 * an option contract, 1 for shares): the notional of a fill, rounded once.
 */
export function notionalCents(qty: number, pricePerUnit: number, multiplier: number): number {
  return centsOf(qty * multiplier * pricePerUnit);
}
