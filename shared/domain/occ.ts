/**
 * OCC option symbols: ROOT (1-6 chars, letters, adjusted contracts may end in a digit) + YYMMDD +
 * C|P + strike x 1000 as 8 digits. `GOOGL271217C00340000` = GOOGL, 2027-12-17, call, strike 340.
 */
export interface OccSymbol {
  /** The full symbol, as given. */
  readonly symbol: string;
  /** Root as written in the symbol (e.g. `GOOGL`, `GOOGL1`). */
  readonly root: string;
  /** The underlying ticker the root refers to (root without the adjustment digit). */
  readonly underlying: string;
  /** Expiration date, `YYYY-MM-DD`. */
  readonly expiry: string;
  readonly type: 'call' | 'put';
  /** Strike price per share, dollars. */
  readonly strike: number;
}

const OCC_RE = /^([A-Z]{1,5}[A-Z0-9]?)(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/;

/** Result of {@link parseOccSymbol}: the parsed symbol, or the precise reason it is not one. */
export type OccParseResult = { ok: true; value: OccSymbol } | { ok: false; error: string };

/** Parses an OCC symbol, rejecting impossible dates (2027-02-30) and zero strikes. Pure. */
export function parseOccSymbol(symbol: string): OccParseResult {
  const m = OCC_RE.exec(symbol);
  if (!m) {
    return {
      ok: false,
      error: `"${truncate(symbol)}" is not an OCC option symbol (ROOT + YYMMDD + C|P + 8-digit strike, e.g. GOOGL271217C00340000)`,
    };
  }
  const [, root, yy, mm, dd, cp, strikeDigits] = m;
  const year = 2000 + Number(yy);
  const month = Number(mm);
  const day = Number(dd);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return { ok: false, error: `option symbol ${symbol} has an impossible expiry date 20${yy}-${mm}-${dd}` };
  }
  const strike = Number(strikeDigits) / 1000;
  if (strike <= 0) return { ok: false, error: `option symbol ${symbol} has a zero strike` };
  return {
    ok: true,
    value: {
      symbol,
      root,
      underlying: root.replace(/\d$/, ''),
      expiry: `${year}-${mm}-${dd}`,
      type: cp === 'C' ? 'call' : 'put',
      strike,
    },
  };
}

/** Builds an OCC symbol from its parts (the inverse of {@link parseOccSymbol}). */
export function formatOccSymbol(parts: {
  root: string;
  expiry: string;
  type: 'call' | 'put';
  strike: number;
}): string {
  const [y, m, d] = parts.expiry.split('-');
  const strike = String(Math.round(parts.strike * 1000)).padStart(8, '0');
  return `${parts.root}${y.slice(2)}${m}${d}${parts.type === 'call' ? 'C' : 'P'}${strike}`;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}
