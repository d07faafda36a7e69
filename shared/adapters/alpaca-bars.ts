/**
 * Historical option bars for the exit-plan lab, through the official SDK's market-data API
 * (`GET /v1beta1/options/bars`), paged through `next_page_token` and cached on disk one file per
 * symbol, timeframe and New York day (`.lab-cache/SYMBOL/TIMEFRAME/YYYY-MM-DD.json`, in Alpaca's own
 * response format), so a second run over the same trades makes no request. Today's (incomplete) day is
 * never cached.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { marketData } from '@alpacahq/alpaca-trade-api/rest';
import { addDays, newYorkTime } from '../domain/market-time';

export interface OptionBarsFetcherOptions {
  readonly keyId: string;
  readonly secretKey: string;
  /** @default https://data.alpaca.markets */
  readonly dataBaseUrl?: string;
  /** @default .lab-cache in the working directory */
  readonly cacheDir?: string;
  readonly timeoutMs?: number;
  /** For tests: what "today" is (New York date). @default the real clock */
  readonly now?: () => Date;
}

/** One symbol's bars over New York days `from`..`to` (inclusive). */
export interface BarsRequest {
  readonly symbol: string;
  readonly from: string;
  readonly to: string;
}

/** An Alpaca bars response (one symbol, one day, every page merged), with where it came from. */
export interface BarsPage {
  readonly source: string;
  readonly raw: { bars: Record<string, unknown[]>; next_page_token: null };
}

/** Fetches (or reads from the cache) the bars of each requested symbol and day. */
export class OptionBarsFetcher {
  private readonly api: marketData.OptionApi;
  private readonly cacheDir: string;
  private readonly now: () => Date;
  /** Requests made (pages), for the CLI's summary and tests. */
  requests = 0;

  constructor(opts: OptionBarsFetcherOptions) {
    this.api = new marketData.OptionApi(
      new marketData.Configuration({
        basePath: (opts.dataBaseUrl ?? 'https://data.alpaca.markets').replace(/\/+$/, ''),
        keyId: opts.keyId,
        secret: opts.secretKey,
        timeoutMs: opts.timeoutMs ?? 15_000,
      }),
    );
    this.cacheDir = opts.cacheDir ?? path.resolve('.lab-cache');
    this.now = opts.now ?? (() => new Date());
  }

  /** Every weekday of each request, oldest first; one response per symbol and day. */
  async fetch(requests: readonly BarsRequest[], timeframe: string): Promise<BarsPage[]> {
    const today = newYorkTime(this.now()).date;
    const out: BarsPage[] = [];
    for (const r of requests) {
      const last = r.to < today ? r.to : today;
      for (let day = r.from; day <= last; day = addDays(day, 1)) {
        if (isWeekend(day)) continue;
        out.push(await this.day(r.symbol, timeframe, day, day === today));
      }
    }
    return out;
  }

  private async day(symbol: string, timeframe: string, day: string, incomplete: boolean): Promise<BarsPage> {
    const file = path.join(this.cacheDir, symbol, timeframe, `${day}.json`);
    if (!incomplete && fs.existsSync(file)) {
      return { source: file, raw: JSON.parse(fs.readFileSync(file, 'utf8')) as BarsPage['raw'] };
    }
    const bars: unknown[] = [];
    let pageToken: string | undefined;
    // A New York day fits in [day 00:00 UTC, day+1 12:00 UTC): the session and both extended ones.
    const start = new Date(`${day}T00:00:00Z`);
    const end = new Date(`${addDays(day, 1)}T12:00:00Z`);
    do {
      this.requests++;
      const res = await this.api.optionBarsRaw({
        symbols: symbol,
        timeframe,
        start,
        end,
        limit: 10_000,
        sort: 'asc',
        ...(pageToken ? { pageToken } : {}),
      });
      const body = (await res.raw.json()) as {
        bars?: Record<string, unknown[]>;
        next_page_token?: string | null;
      };
      // Keep only the bars of this New York day: the window above overlaps the neighbours.
      for (const b of body.bars?.[symbol] ?? []) {
        const t = (b as { t?: unknown }).t;
        if (typeof t === 'string' && newYorkTime(new Date(t)).date === day) bars.push(b);
      }
      pageToken = body.next_page_token ?? undefined;
    } while (pageToken);
    const raw = { bars: { [symbol]: bars }, next_page_token: null };
    if (!incomplete) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(raw));
    }
    return { source: incomplete ? `Alpaca bars ${symbol} ${day}` : file, raw };
  }
}

function isWeekend(day: string): boolean {
  const d = new Date(`${day}T12:00:00Z`).getUTCDay();
  return d === 0 || d === 6;
}
