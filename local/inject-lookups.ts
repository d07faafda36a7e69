/**
 * The read-only look-ups of `npm run inject`: the contracts the local market lists (`--list-contracts`),
 * so a named-contract recommendation can name one that exists, and every rejection the running stack
 * recorded for an account (`--rejections`), beyond the few the live view has room for.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoPositionStore } from '../shared/adapters/dynamo-position-store';
import { LOCAL_AWS_ENV } from './accounts';
import { simulatorKeys } from './mode';
import type { LocalStackState } from './state-file';

/** One listed contract with its quote (bid/ask null when unquoted). */
export interface ListedContract {
  readonly symbol: string;
  readonly underlying: string;
  readonly expiry: string;
  readonly type: 'call' | 'put';
  readonly strike: number;
  readonly bid: number | null;
  readonly ask: number | null;
  /** Calendar days from today to expiry. */
  readonly days: number;
  /** |strike / underlying price − 1|, for "nearest the money first". */
  readonly distance: number;
}

/** Filters of `--list-contracts`. */
export interface ContractFilter {
  readonly ticker?: string;
  readonly type?: 'call' | 'put';
  readonly minDays?: number;
}

/**
 * Lists the simulator's contracts over its HTTP API (Alpaca's GET /v2/options/contracts, option snapshots
 * and latest stock trades), with the account's simulated key. Sorted by expiry, calls before puts, nearest
 * the money first. Throws when the stack trades on Alpaca's paper API (no simulator to list).
 */
export async function listLocalContracts(
  state: LocalStackState,
  account: string,
  filter: ContractFilter,
  now: Date = new Date(),
): Promise<ListedContract[]> {
  if (!state.simulatorUrl) {
    throw new Error(
      "this npm start trades on Alpaca's paper API, not the simulator: list contracts with Alpaca's " +
        'GET /v2/options/contracts (https://docs.alpaca.markets/reference/get-options-contracts)',
    );
  }
  const keys = simulatorKeys(account);
  const get = async <T>(path: string, params: Record<string, string>): Promise<T> => {
    const url = `${state.simulatorUrl}${path}?${new URLSearchParams(params).toString()}`;
    const res = await fetch(url, {
      headers: { 'APCA-API-KEY-ID': keys.keyId, 'APCA-API-SECRET-KEY': keys.secretKey },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`the simulator answered ${res.status} to GET ${path}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  const today = now.toISOString().slice(0, 10);
  const gte = filter.minDays
    ? new Date(Date.parse(today) + filter.minDays * 86_400_000).toISOString().slice(0, 10)
    : today;
  const raw: Array<Record<string, unknown>> = [];
  let token: string | null = null;
  do {
    const page: { option_contracts?: Array<Record<string, unknown>>; next_page_token?: string | null } =
      await get('/v2/options/contracts', {
        status: 'active',
        expiration_date_gte: gte,
        limit: '1000',
        ...(filter.ticker ? { underlying_symbols: filter.ticker } : {}),
        ...(filter.type ? { type: filter.type } : {}),
        ...(token ? { page_token: token } : {}),
      });
    raw.push(...(page.option_contracts ?? []));
    token = page.next_page_token ?? null;
  } while (token);

  const symbols = raw.map((c) => String(c.symbol));
  const quotes = new Map<string, { bp?: number; ap?: number }>();
  for (let i = 0; i < symbols.length; i += 100) {
    const body = await get<{ snapshots?: Record<string, { latestQuote?: { bp?: number; ap?: number } }> }>(
      '/v1beta1/options/snapshots',
      { symbols: symbols.slice(i, i + 100).join(',') },
    );
    for (const [s, snap] of Object.entries(body.snapshots ?? {})) quotes.set(s, snap.latestQuote ?? {});
  }
  const underlyings = [...new Set(raw.map((c) => String(c.underlying_symbol)))];
  const prices = new Map<string, number>();
  if (underlyings.length > 0) {
    const t = await get<{ trades?: Record<string, { p?: number }> }>('/v2/stocks/trades/latest', {
      symbols: underlyings.join(','),
    });
    for (const [s, trade] of Object.entries(t.trades ?? {})) if (trade.p) prices.set(s, trade.p);
  }
  return raw
    .map((c) => {
      const strike = Number(c.strike_price);
      const underlying = String(c.underlying_symbol);
      const price = prices.get(underlying);
      const q = quotes.get(String(c.symbol));
      const expiry = String(c.expiration_date);
      return {
        symbol: String(c.symbol),
        underlying,
        expiry,
        type: c.type === 'put' ? ('put' as const) : ('call' as const),
        strike,
        bid: typeof q?.bp === 'number' ? q.bp : null,
        ask: typeof q?.ap === 'number' ? q.ap : null,
        days: Math.round((Date.parse(expiry) - Date.parse(today)) / 86_400_000),
        distance: price ? Math.abs(strike / price - 1) : 0,
      };
    })
    .sort(
      (a, b) =>
        a.underlying.localeCompare(b.underlying) ||
        a.expiry.localeCompare(b.expiry) ||
        a.type.localeCompare(b.type) ||
        a.distance - b.distance ||
        a.strike - b.strike,
    );
}

/** The report lines of `--list-contracts`: a table, or one symbol a line with `plain`. */
export function formatContracts(contracts: readonly ListedContract[], plain: boolean): string[] {
  if (plain) return contracts.map((c) => c.symbol);
  if (contracts.length === 0) return ['no contracts listed for that filter'];
  // Easier to read by strike; --plain keeps the nearest-the-money order, so `head -1` picks the closest.
  const byStrike = [...contracts].sort(
    (a, b) =>
      a.underlying.localeCompare(b.underlying) ||
      a.expiry.localeCompare(b.expiry) ||
      a.type.localeCompare(b.type) ||
      a.strike - b.strike,
  );
  const px = (x: number | null) => (x === null ? '—' : x.toFixed(2));
  const rows = byStrike.map((c) => [
    c.symbol,
    c.expiry,
    String(c.days),
    c.type,
    String(c.strike),
    px(c.bid),
    px(c.ask),
  ]);
  const head = ['SYMBOL', 'EXPIRY', 'DAYS', 'TYPE', 'STRIKE', 'BID', 'ASK'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((v, i) => (i >= 4 ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    line(head),
    ...rows.map(line),
    `${contracts.length} contract(s); --plain lists the symbols per expiry, calls then puts, nearest the money first`,
  ];
}

/** Every rejection the running local stack recorded for the account, newest first, one line each. */
export async function listLocalRejections(state: LocalStackState, account: string): Promise<string[]> {
  const client = new DynamoDBClient({
    endpoint: state.dynamoEndpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: {
      accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
    },
  });
  try {
    const all = await new DynamoPositionStore(client, state.tableName).listRejections(account);
    const sorted = [...all].sort((a, b) => b.at.localeCompare(a.at));
    return [
      `${sorted.length} rejection(s) recorded for account ${account}${sorted.length ? ', newest first' : ''}`,
      ...sorted.map((r) => {
        const detail = r.detail.startsWith(`${r.reason}:`) ? r.detail : `${r.reason}: ${r.detail}`;
        return `  ${r.at}  ${r.key}  ${detail}`;
      }),
    ];
  } finally {
    client.destroy();
  }
}
