/** Number and text helpers the exit rules share. */

// threshold hit "exactly" must tolerate rounding noise. 1e-9 is far below any meaningful price move.
export const EPS = 1e-9;

/** True for a finite number. */
export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** `v` when it is a positive finite number, else null. */
export function positiveOrNull(v: unknown): number | null {
  return isFiniteNumber(v) && v > 0 ? v : null;
}

/** Epoch ms of an ISO time string; null when absent or unparsable. */
export function parseTime(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

// Stops are persisted and logged: 3.00 * 0.8 is 2.4000000000000004 in doubles, stored as 2.4.
/** `x` rounded to 6 decimals. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** A fraction as a percentage with one decimal. */
export function pct(f: number): string {
  return `${(f * 100).toFixed(1)}%`;
}

const ZERO = 48; // '0'

/** A per-share price for a log line. */
export function px(p: number): string {
  // Up to two trailing zeros dropped (2.5000 → 2.50), as /0{1,2}$/ would, by hand (a regex costs more).
  const s = p.toFixed(4);
  let end = s.length;
  if (s.charCodeAt(end - 1) === ZERO) end--;
  if (end < s.length && s.charCodeAt(end - 1) === ZERO) end--;
  return end === s.length ? s : s.slice(0, end);
}
