/**
 * The simulator's historical bars: every quote the market makes (`SimMarket.quoteListeners`) is recorded
 * into one-minute bars of its mid, per symbol, so `GET /v1beta1/options/bars` can answer what the
 * simulator actually quoted (the exit-plan lab's `--local` replays the local stack's trades on them, with
 * no Alpaca keys and no network). Pure state and arithmetic; the route is one line in `server.ts`.
 *
 * Shape: Alpaca's `GET /v1beta1/options/bars` (`{ bars: { SYMBOL: [{ t, o, h, l, c, v, n, vw }] },
 * next_page_token }`, numbers as JSON numbers, `t` the bar's start). `v` and `n` count the quotes in the
 * bar (the simulator has no trade tape; Alpaca counts trades). One page: the answer holds every bar asked
 * for up to `limit` per symbol, and `next_page_token` is null.
 */
import type { SimMarket, SimQuote } from './market';

/** One bar, Alpaca's field names. */
export interface SimBar {
  t: string;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  n: number;
  vw: number;
}

/** Bars kept per symbol (a week of minutes); older ones are dropped first. */
export const MAX_BARS_PER_SYMBOL = 7 * 24 * 60;

const MINUTE = 60_000;

/** The minute bars of every quoted symbol, recorded as the market quotes. */
export class SimBarBook {
  private readonly bySymbol = new Map<string, SimBar[]>();

  /** Records every quote `market` makes from now on. */
  static recording(market: SimMarket): SimBarBook {
    const book = new SimBarBook();
    market.quoteListeners.push((symbol, q) => book.record(symbol, q));
    return book;
  }

  /** Adds one quote's mid to its minute's bar (a quote without a positive mid is not a price). */
  record(symbol: string, q: Pick<SimQuote, 'bid' | 'ask' | 'time'>): void {
    if (!(q.bid > 0) || !(q.ask > 0)) return;
    const mid = Math.round(((q.bid + q.ask) / 2) * 10_000) / 10_000;
    const ms = Date.parse(q.time);
    if (Number.isNaN(ms)) return;
    const start = rfc3339(Math.floor(ms / MINUTE) * MINUTE);
    const list = this.bySymbol.get(symbol) ?? [];
    this.bySymbol.set(symbol, list);
    const last = list[list.length - 1];
    if (last && last.t === start) {
      last.h = Math.max(last.h, mid);
      last.l = Math.min(last.l, mid);
      last.c = mid;
      last.vw = Math.round(((last.vw * last.n + mid) / (last.n + 1)) * 10_000) / 10_000;
      last.n += 1;
      last.v += 1;
      return;
    }
    // A quote stamped before the last bar (a test setting an old time) starts no bar out of order.
    if (last && start < last.t) return;
    list.push({ t: start, o: mid, h: mid, l: mid, c: mid, v: 1, n: 1, vw: mid });
    if (list.length > MAX_BARS_PER_SYMBOL) list.splice(0, list.length - MAX_BARS_PER_SYMBOL);
  }

  /** The bars of `symbol` starting in [fromMs, toMs), aggregated to `minutes` per bar, oldest first. */
  bars(symbol: string, fromMs: number, toMs: number, minutes = 1): SimBar[] {
    const out: SimBar[] = [];
    for (const b of this.bySymbol.get(symbol) ?? []) {
      const ms = Date.parse(b.t);
      if (ms < fromMs || ms >= toMs) continue;
      const start = rfc3339(Math.floor(ms / (minutes * MINUTE)) * minutes * MINUTE);
      const last = out[out.length - 1];
      if (last && last.t === start) {
        last.vw = Math.round(((last.vw * last.n + b.vw * b.n) / (last.n + b.n)) * 10_000) / 10_000;
        last.h = Math.max(last.h, b.h);
        last.l = Math.min(last.l, b.l);
        last.c = b.c;
        last.n += b.n;
        last.v += b.v;
      } else {
        out.push({ ...b, t: start });
      }
    }
    return out;
  }
}

/** `2028-03-06T15:10:00Z`, as Alpaca stamps a bar (whole seconds, no fraction). */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A bad request: Alpaca answers 400 / 422 with `{ code, message }`. */
export class SimBarsRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Minutes per bar of an Alpaca `timeframe` (`1Min`, `5Min`, `15T`, `1Hour`, `2H`, `1Day`, `1D`). */
export function timeframeMinutes(timeframe: string): number {
  const m = /^(\d+)(Min|T|Hour|H|Day|D)$/.exec(timeframe);
  if (!m || Number(m[1]) < 1) throw new SimBarsRequestError(422, `invalid timeframe: ${timeframe}`);
  const n = Number(m[1]);
  if (m[2] === 'Min' || m[2] === 'T') {
    if (n > 59) throw new SimBarsRequestError(422, `invalid timeframe: ${timeframe}`);
    return n;
  }
  if (m[2] === 'Hour' || m[2] === 'H') return n * 60;
  return n * 24 * 60;
}

/**
 * `GET /v1beta1/options/bars?symbols=A,B&timeframe=1Min&start=…&end=…&limit=…&sort=asc|desc`: the
 * recorded bars, Alpaca's shape. `start` defaults to the beginning of the record, `end` to now.
 */
export function barsResponse(book: SimBarBook, q: URLSearchParams, now: Date): Record<string, unknown> {
  const symbols = (q.get('symbols') ?? '').split(',').filter(Boolean);
  if (symbols.length === 0) throw new SimBarsRequestError(400, 'symbols is required');
  const timeframe = q.get('timeframe');
  if (!timeframe) throw new SimBarsRequestError(400, 'timeframe is required');
  const minutes = timeframeMinutes(timeframe);
  const time = (k: string, otherwise: number): number => {
    const v = q.get(k);
    if (v === null || v === '') return otherwise;
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) throw new SimBarsRequestError(400, `invalid ${k}: ${v}`);
    return ms;
  };
  const from = time('start', 0);
  const to = time('end', now.getTime() + 1);
  const limitRaw = q.get('limit');
  const limit = limitRaw === null ? 1000 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw new SimBarsRequestError(422, `invalid limit: ${limitRaw}`);
  const desc = q.get('sort') === 'desc';
  const bars: Record<string, SimBar[]> = {};
  for (const symbol of symbols) {
    let list = book.bars(symbol, from, to, minutes);
    if (desc) list = list.reverse();
    if (list.length) bars[symbol] = list.slice(0, limit);
  }
  return { bars, next_page_token: null };
}
