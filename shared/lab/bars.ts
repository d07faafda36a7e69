/**
 * Option bars for the exit-plan lab, read from files (or pages) in exactly the format of Alpaca's
 * `GET /v1beta1/options/bars` response: `{ "bars": { "SYMBOL": [ { t, o, h, l, c, v, n, vw }, ... ] },
 * "next_page_token": ... }`. Every problem names the file and the entry.
 */
import { parseOccSymbol } from '../domain/occ';

/** One bar, as the lab uses it. `t` is Alpaca's timestamp (the bar's start), `tMs` the same in epoch ms. */
export interface LabBar {
  readonly t: string;
  readonly tMs: number;
  readonly o: number;
  readonly h: number;
  readonly l: number;
  readonly c: number;
  readonly v: number;
  /**
   * Bid and ask per share, when the bar carries them (`bp`, `ap`: not in Alpaca's bars; a spread's replay
   * prices its legs with them, else with the close).
   */
  readonly bp?: number;
  readonly ap?: number;
}

/** Bars per OCC symbol, each list in strictly increasing time. */
export type BarsBySymbol = Map<string, LabBar[]>;

/** A bad bars file (or page): the message names the file and the entry. */
export class BarsInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BarsInputError';
  }
}

/**
 * Validates one Alpaca bars response (`source` names it in errors: a file path or a page) and adds its
 * bars to `into`. Refuses a symbol that is not OCC, a bar with a missing or bad field, an impossible
 * bar (high below open/close, low above them, a price ≤ 0), and bars out of time order (within the
 * response, or before the last bar already held for the symbol).
 */
export function addBarsResponse(into: BarsBySymbol, raw: unknown, source: string): BarsBySymbol {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BarsInputError(`${source}: expected an object { "bars": { SYMBOL: [...] } }`);
  }
  const bars = (raw as { bars?: unknown }).bars;
  if (!bars || typeof bars !== 'object' || Array.isArray(bars)) {
    throw new BarsInputError(`${source}: "bars" must be an object of arrays keyed by option symbol`);
  }
  for (const [symbol, list] of Object.entries(bars as Record<string, unknown>)) {
    const occ = parseOccSymbol(symbol);
    if (!occ.ok)
      throw new BarsInputError(`${source}: bars.${symbol}: not an OCC option symbol (${occ.error})`);
    if (!Array.isArray(list))
      throw new BarsInputError(`${source}: bars.${symbol}: expected an array of bars`);
    const out = into.get(symbol) ?? [];
    list.forEach((b, i) => {
      const where = `${source}: bars.${symbol}[${i}]`;
      const bar = readBar(b, where);
      const prev = out[out.length - 1];
      if (prev && bar.tMs <= prev.tMs) {
        throw new BarsInputError(`${where}: bars out of order: t ${bar.t} is not after ${prev.t}`);
      }
      out.push(bar);
    });
    into.set(symbol, out);
  }
  return into;
}

/** Parses several responses (e.g. several `--bars` files, or the pages of one fetch) into one map. */
export function parseBarsResponses(responses: ReadonlyArray<{ source: string; raw: unknown }>): BarsBySymbol {
  const out: BarsBySymbol = new Map();
  for (const r of responses) addBarsResponse(out, r.raw, r.source);
  return out;
}

function readBar(raw: unknown, where: string): LabBar {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BarsInputError(`${where}: expected a bar object { t, o, h, l, c, v }`);
  }
  const b = raw as Record<string, unknown>;
  const t = b.t;
  const tMs = typeof t === 'string' ? Date.parse(t) : NaN;
  if (typeof t !== 'string' || Number.isNaN(tMs) || !/[zZ]|[+-]\d\d:?\d\d$/.test(t)) {
    throw new BarsInputError(`${where}: t must be an RFC 3339 time with a zone, got ${JSON.stringify(t)}`);
  }
  const price = (k: 'o' | 'h' | 'l' | 'c'): number => {
    const v = b[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new BarsInputError(`${where}: ${k} must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const [o, h, l, c] = [price('o'), price('h'), price('l'), price('c')];
  if (h < Math.max(o, c, l) || l > Math.min(o, c, h)) {
    throw new BarsInputError(
      `${where}: impossible bar o ${o} h ${h} l ${l} c ${c} (high/low do not bound it)`,
    );
  }
  const v = typeof b.v === 'number' && Number.isFinite(b.v) ? b.v : 0;
  if (b.bp === undefined && b.ap === undefined) return { t, tMs, o, h, l, c, v };
  const { bp, ap } = b;
  if (typeof bp !== 'number' || typeof ap !== 'number' || !(bp >= 0) || !(ap >= bp)) {
    throw new BarsInputError(
      `${where}: bp and ap (bid, ask) go together, 0 <= bp <= ap, got bp ${JSON.stringify(bp)} ap ${JSON.stringify(ap)}`,
    );
  }
  return { t, tMs, o, h, l, c, v, bp, ap };
}
