/**
 * The simulator's own reading of OCC option symbols (ALPACA-OPTIONS.md "OCC option symbols"): a root of
 * 1-6 letters, or 1-5 letters plus one digit for an adjusted contract (`GOOGL1`), then the expiry as
 * YYMMDD, `C` or `P`, and the strike in thousandths of a dollar as 8 digits. Written for the simulator
 * alone so that it does not share a mistake with the production parser; a test compares the two.
 */

/** An OCC option symbol taken apart. */
export interface SimOccSymbol {
  readonly symbol: string;
  /** As written, adjustment digit included (`GOOGL1`). */
  readonly root: string;
  /** The root without its adjustment digit (`GOOGL`). */
  readonly underlying: string;
  /** `YYYY-MM-DD`. */
  readonly expiry: string;
  readonly type: 'call' | 'put';
  /** Dollars per share. */
  readonly strike: number;
}

/** The fixed-width tail after the root: YYMMDD + C|P + 8 strike digits. */
const TAIL_LENGTH = 6 + 1 + 8;

function isRoot(root: string): boolean {
  if (root.length < 1 || root.length > 6) return false;
  const letters = /\d$/.test(root) ? root.slice(0, -1) : root;
  return letters.length >= 1 && /^[A-Z]+$/.test(letters);
}

/** A real calendar date (2027-02-30 is not), years 2000-2099 as OCC's two digits allow. */
function calendarDate(yy: string, mm: string, dd: string): string | null {
  const y = 2000 + Number(yy);
  const m = Number(mm);
  const d = Number(dd);
  if (m < 1 || m > 12 || d < 1) return null;
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d > daysInMonth) return null;
  return `${y}-${mm}-${dd}`;
}

/** Parses an OCC option symbol; null when the symbol is not one (then the simulator treats it as a stock). */
export function parseOcc(symbol: string): SimOccSymbol | null {
  if (symbol.length <= TAIL_LENGTH) return null;
  const root = symbol.slice(0, symbol.length - TAIL_LENGTH);
  const tail = symbol.slice(symbol.length - TAIL_LENGTH);
  if (!isRoot(root) || !/^\d{6}[CP]\d{8}$/.test(tail)) return null;
  const expiry = calendarDate(tail.slice(0, 2), tail.slice(2, 4), tail.slice(4, 6));
  const strike = Number(tail.slice(7)) / 1000;
  if (expiry === null || strike === 0) return null;
  return {
    symbol,
    root,
    underlying: /\d$/.test(root) ? root.slice(0, -1) : root,
    expiry,
    type: tail[6] === 'C' ? 'call' : 'put',
    strike,
  };
}

/** Builds an OCC symbol from a root, an expiry `YYYY-MM-DD`, a type and a strike in dollars. */
export function formatOcc(root: string, expiry: string, type: 'call' | 'put', strike: number): string {
  const yymmdd = expiry.slice(2, 4) + expiry.slice(5, 7) + expiry.slice(8, 10);
  const thousandths = String(Math.round(strike * 1000)).padStart(8, '0');
  return `${root}${yymmdd}${type === 'call' ? 'C' : 'P'}${thousandths}`;
}
