/**
 * Money arithmetic in one place. Amounts are dollars (or dollars per share) held as numbers; every
 * stored or sent amount is rounded to whole cents here, so two paths never round the same value apart.
 */

/** Rounds dollars (or dollars per share) to whole cents, halves upward (`Math.round`). */
export function roundToCents(dollars: number): number {
  return Math.round(dollars * 100) / 100;
}
