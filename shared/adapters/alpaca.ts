/**
 * The Alpaca adapter: implements {@link Broker} and {@link MarketData} with the real
 * `@alpacahq/alpaca-trade-api` v4 client (its `/rest` entry, no streaming code in the bundle).
 * The SDK ignores APCA_API_BASE_URL, so the adapter builds the API classes with explicit base paths
 * (see {@link resolveAlpacaEndpoints}). Every numeric string is parsed into a number here.
 */
import { marketData, trading } from '@alpacahq/alpaca-trade-api/rest';
import type { OrderRequest } from '../domain/orders';
import type { MlegOrderRequest } from '../domain/spread-orders';
import type { OptionFeed } from '../domain/account-config';
import type {
  Broker,
  BrokerAccount,
  BrokerActivity,
  BrokerOrder,
  BrokerPosition,
  MarketClock,
  MarketData,
  OptionQuote,
  OrderReplacement,
} from '../ports';
import { unreadableOf, withUnreadable, type Listing, type UnreadableEntry } from '../domain/broker-types';
import { DEFAULT_RETRY_POLICY, withRetries, type CallSpec, type RetryPolicy } from './alpaca-retry';
import type { BrokerRateLimiter } from './rate-limiter';
import { listOptionActivities } from './alpaca-activities';
import {
  isoOrNull,
  nullOn404,
  toChainEntry,
  type OptionChainEntry,
  type OptionChainFilters,
  optionalNumber,
  requiredNumber,
  toBrokerOrder,
  toBrokerOrders,
  toBrokerPosition,
  toOptionQuote,
} from './alpaca-mapping';

export {
  ALPACA_DATA_URL,
  ALPACA_LIVE_TRADING_URL,
  ALPACA_PAPER_TRADING_URL,
  resolveAlpacaEndpoints,
  type AlpacaEndpoints,
} from './alpaca-endpoints';

/** Options of {@link AlpacaAdapter}. */
export interface AlpacaAdapterOptions {
  readonly keyId: string;
  readonly secretKey: string;
  /** e.g. `https://paper-api.alpaca.markets` (no `/v2`). */
  readonly tradingBaseUrl: string;
  /** e.g. `https://data.alpaca.markets`. */
  readonly dataBaseUrl: string;
  /** Per-attempt deadline (the SDK aborts the fetch with an AbortController). @default 8000 */
  readonly timeoutMs?: number;
  /** Retries after the first try (GETs; POSTs only on 429). @default 2 */
  readonly maxRetries?: number;
  /** Overrides the rest of the retry policy (backoff base/cap, total wait budget). */
  readonly retryPolicy?: Partial<RetryPolicy>;
  /** A fetch implementation (default: the global fetch). */
  readonly fetchImpl?: typeof fetch;
  /**
   * Client-side rate limiter (see rate-limiter.ts): every attempt waits for it first, and every answer's
   * rate-limit headers are reported to it. @default none
   */
  readonly rateLimiter?: BrokerRateLimiter;
  /**
   * The option quote feed sent as `feed` on every option quote read (snapshots and chain): the account's
   * `market_data.feed`. @default 'indicative' (Alpaca's own default without an OPRA subscription)
   */
  readonly optionFeed?: OptionFeed;
  /** Waits between tries (backoff, Retry-After). @default real timers (tests pass a clock's sleep) */
  readonly retrySleep?: (ms: number) => Promise<void>;
}

/** Max symbols Alpaca accepts in one snapshots call. */
const MAX_SNAPSHOT_SYMBOLS = 100;

/** Page size and page cap of {@link AlpacaAdapter.listClosedOrders}. */
const CLOSED_ORDER_PAGE = 500;
const MAX_CLOSED_ORDER_PAGES = 10;

const OPENING_INTENTS = new Set(['buy_to_open', 'sell_to_open']);

/** Alpaca through the official SDK. One instance per account (key pair); reuse it across invocations. */
export class AlpacaAdapter implements Broker, MarketData {
  private readonly orders: trading.OrdersApi;
  private readonly positions: trading.PositionsApi;
  private readonly accounts: trading.AccountsApi;
  private readonly clock: trading.ClockApi;
  private readonly assets: trading.AssetsApi;
  private readonly activities: trading.AccountActivitiesApi;
  private readonly options: marketData.OptionApi;
  private readonly stocks: marketData.StockApi;
  private readonly policy: RetryPolicy;
  private readonly rateLimiter?: BrokerRateLimiter;
  private readonly feed: OptionFeed;
  private readonly retrySleep?: (ms: number) => Promise<void>;

  constructor(opts: AlpacaAdapterOptions) {
    const shared = {
      keyId: opts.keyId,
      secret: opts.secretKey,
      timeoutMs: opts.timeoutMs ?? 8000,
      fetchApi: opts.rateLimiter ? opts.rateLimiter.observingFetch(opts.fetchImpl) : opts.fetchImpl,
      // No `retry` and no `rateLimit` on purpose: see alpaca-retry.ts. The SDK then makes exactly one
      // attempt per call, so it can never re-send a POST.
    };
    const tradingConfig = new trading.Configuration({
      ...shared,
      basePath: opts.tradingBaseUrl.replace(/\/+$/, ''),
    });
    const dataConfig = new marketData.Configuration({
      ...shared,
      basePath: opts.dataBaseUrl.replace(/\/+$/, ''),
    });
    this.orders = new trading.OrdersApi(tradingConfig);
    this.positions = new trading.PositionsApi(tradingConfig);
    this.accounts = new trading.AccountsApi(tradingConfig);
    this.clock = new trading.ClockApi(tradingConfig);
    this.assets = new trading.AssetsApi(tradingConfig);
    this.activities = new trading.AccountActivitiesApi(tradingConfig);
    this.options = new marketData.OptionApi(dataConfig);
    this.stocks = new marketData.StockApi(dataConfig);
    this.rateLimiter = opts.rateLimiter;
    this.feed = opts.optionFeed ?? 'indicative';
    this.retrySleep = opts.retrySleep;
    this.policy = {
      ...DEFAULT_RETRY_POLICY,
      ...opts.retryPolicy,
      ...(opts.maxRetries === undefined ? {} : { maxRetries: opts.maxRetries }),
    };
  }

  private call<T>(spec: CallSpec, attempt: () => Promise<T>): Promise<T> {
    const limiter = this.rateLimiter;
    return withRetries(
      spec,
      {
        policy: this.policy,
        ...(limiter ? { beforeAttempt: () => limiter.acquire() } : {}),
        ...(this.retrySleep ? { sleep: this.retrySleep } : {}),
      },
      attempt,
    );
  }

  /** `GET /v2/clock`. */
  async getClock(): Promise<MarketClock> {
    const c = await this.call({ method: 'GET', path: '/v2/clock' }, () => this.clock.legacyClock());
    return {
      isOpen: c.isOpen === true,
      timestamp: isoOrNull(c.timestamp) ?? new Date().toISOString(),
      nextOpen: isoOrNull(c.nextOpen),
      nextClose: isoOrNull(c.nextClose),
    };
  }

  /** `GET /v2/account`. A missing `options_buying_power` reads as 0 (never more than the broker said). */
  async getAccount(): Promise<BrokerAccount> {
    const a = await this.call({ method: 'GET', path: '/v2/account' }, () => this.accounts.getAccount());
    return {
      status: String(a.status),
      tradingBlocked: a.tradingBlocked === true || a.accountBlocked === true,
      optionsBuyingPower: optionalNumber(a.optionsBuyingPower, 'options_buying_power') ?? 0,
      buyingPower: optionalNumber(a.buyingPower, 'buying_power') ?? 0,
      optionsTradingLevel: tradingLevelOf(a.optionsTradingLevel),
    };
  }

  /**
   * `POST /v2/orders`. Retried only on 429. On a TransientError (5xx, timeout, network) the order may or
   * may not exist: look it up with {@link getOrderByClientOrderId} before sending anything else.
   */
  async submitOrder(order: OrderRequest): Promise<BrokerOrder> {
    // The type already forbids closing intents; this guards plain-JS callers and casts.
    if (order.position_intent !== undefined && !OPENING_INTENTS.has(order.position_intent)) {
      throw new TypeError(
        `refusing to send position_intent ${String(order.position_intent)}: closes carry none`,
      );
    }
    if (!Number.isInteger(order.qty) || order.qty < 1) {
      throw new TypeError(`order qty must be a positive whole number of contracts, got ${order.qty}`);
    }
    const body: trading.PostOrderRequest = {
      symbol: order.symbol,
      qty: String(order.qty),
      side: order.side,
      type: order.type,
      timeInForce: order.time_in_force,
      clientOrderId: order.client_order_id,
      ...(order.limit_price === undefined ? {} : { limitPrice: String(order.limit_price) }),
      ...(order.stop_price === undefined ? {} : { stopPrice: String(order.stop_price) }),
      ...(order.position_intent === undefined ? {} : { positionIntent: order.position_intent }),
    };
    const placed = await this.call(
      { method: 'POST', path: '/v2/orders', clientOrderId: order.client_order_id },
      () => this.orders.postOrder({ postOrderRequest: body }),
    );
    return toBrokerOrder(placed);
  }

  /**
   * `POST /v2/orders` with `order_class: mleg`. Each leg's `position_intent` must be an opening one when
   * present (a closing mleg order carries none: the broker infers each leg's). Retried only on 429; after a
   * TransientError look the order up before anything else, as for {@link submitOrder}.
   */
  async submitMlegOrder(order: MlegOrderRequest): Promise<BrokerOrder> {
    for (const leg of order.legs) {
      if (leg.position_intent !== undefined && !OPENING_INTENTS.has(leg.position_intent)) {
        throw new TypeError(
          `refusing to send position_intent ${String(leg.position_intent)} on leg ${leg.symbol}: closes carry none`,
        );
      }
      if (!Number.isInteger(leg.ratio_qty) || leg.ratio_qty < 1) {
        throw new TypeError(`leg ${leg.symbol}: ratio_qty must be a positive whole number`);
      }
    }
    if (!Number.isInteger(order.qty) || order.qty < 1) {
      throw new TypeError(`mleg qty must be a positive whole multiple, got ${order.qty}`);
    }
    const body: trading.PostOrderRequest = {
      orderClass: 'mleg',
      qty: String(order.qty),
      type: order.type,
      timeInForce: order.time_in_force,
      clientOrderId: order.client_order_id,
      ...(order.limit_price === undefined ? {} : { limitPrice: order.limit_price.toFixed(2) }),
      legs: order.legs.map((l) => ({
        symbol: l.symbol,
        ratioQty: String(l.ratio_qty),
        side: l.side,
        ...(l.position_intent === undefined ? {} : { positionIntent: l.position_intent }),
      })),
    } as trading.PostOrderRequest;
    const placed = await this.call(
      { method: 'POST', path: '/v2/orders', clientOrderId: order.client_order_id },
      () => this.orders.postOrder({ postOrderRequest: body }),
    );
    return toBrokerOrder(placed);
  }

  /** `GET /v2/orders:by_client_order_id`; null on 404. */
  async getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null> {
    const o = await this.call({ method: 'GET', path: '/v2/orders:by_client_order_id' }, () =>
      this.orders.getOrderByClientOrderId({ clientOrderId }).catch(nullOn404),
    );
    return o === null ? null : toBrokerOrder(o);
  }

  /** `DELETE /v2/orders/{id}`. Retried only on 429. A filled/canceled order is a BrokerRejectedError (422). */
  async cancelOrder(orderId: string): Promise<void> {
    await this.call({ method: 'DELETE', path: '/v2/orders/{id}' }, async () => {
      // The SDK's deleteOrderByOrderID() never reads the 204, which leaves its per-attempt deadline timer
      // armed until it fires; reading the Raw response releases it.
      const r = await this.orders.deleteOrderByOrderIDRaw({ orderId });
      await r.value();
    });
  }

  /**
   * `POST /v2/positions/{symbol}/exercise`: exercises every held contract of a long option now. Never
   * retried but on 429 (a 5xx or timeout may have exercised it: the position and the OPEXC activity tell).
   * BrokerRejectedError (403/422) when the broker refuses (nothing held long, between the close and midnight).
   */
  async exerciseOption(symbol: string): Promise<void> {
    await this.call({ method: 'POST', path: '/v2/positions/{symbol}/exercise' }, async () => {
      // Read the Raw response, as cancelOrder does, so the SDK's per-attempt deadline timer is released.
      const r = await this.positions.optionExerciseRaw({ symbolOrContractId: symbol });
      await r.value();
    });
  }

  /**
   * `POST /v2/positions/{symbol}/do-not-exercise`: asks the broker not to exercise an expiring long at
   * expiry (its 2xx answer is the confirmation). Retried only on 429; BrokerRejectedError (403/422) when
   * refused (nothing held long, between the close and midnight).
   */
  async doNotExercise(symbol: string): Promise<void> {
    await this.call({ method: 'POST', path: '/v2/positions/{symbol}/do-not-exercise' }, async () => {
      const r = await this.positions.optionDoNotExerciseRaw({ symbolOrContractId: symbol });
      await r.value();
    });
  }

  /**
   * `PATCH /v2/orders/{id}` (the SDK's `patchOrderByOrderId`): the new order the broker made. Retried only
   * on 429; after a TransientError look the new `client_order_id` up before replacing again.
   */
  async replaceOrder(orderId: string, change: OrderReplacement): Promise<BrokerOrder> {
    if (change.qty !== undefined && (!Number.isInteger(change.qty) || change.qty < 1)) {
      throw new TypeError(`replacement qty must be a positive whole number of contracts, got ${change.qty}`);
    }
    const body: trading.PatchOrderRequest = {
      clientOrderId: change.client_order_id,
      ...(change.qty === undefined ? {} : { qty: String(change.qty) }),
      ...(change.stop_price === undefined ? {} : { stopPrice: String(change.stop_price) }),
      ...(change.limit_price === undefined ? {} : { limitPrice: String(change.limit_price) }),
    };
    const placed = await this.call(
      { method: 'PATCH', path: '/v2/orders/{id}', clientOrderId: change.client_order_id },
      () => this.orders.patchOrderByOrderId({ orderId, patchOrderRequest: body }),
    );
    return toBrokerOrder(placed);
  }

  /**
   * `GET /v2/orders?status=open` (up to 500, oldest first). An order that cannot be read (a notional
   * order placed by hand, `qty: null`) is left out and named in the listing's `unreadable`
   * (`unreadableOf`): the sweep alerts `unreadable_order` for it; it never fails the listing.
   */
  async listOpenOrders(): Promise<Listing<BrokerOrder>> {
    const list = await this.call({ method: 'GET', path: '/v2/orders' }, () =>
      this.orders.getAllOrders({ status: 'open', limit: 500, direction: 'asc' }),
    );
    return toBrokerOrders(list);
  }

  /**
   * `GET /v2/orders?status=closed&after=…&direction=asc&limit=500`, following pages: each next page starts
   * 1 ms before the last order's `created_at` (`after` is exclusive and the parsed time is cut to
   * milliseconds, so orders sharing that instant are read again and deduplicated by id). At most
   * {@link MAX_CLOSED_ORDER_PAGES} pages; orders past them are absent (callers fall back to per-order lookups).
   */
  async listClosedOrders(afterIso: string): Promise<Listing<BrokerOrder>> {
    const out: BrokerOrder[] = [];
    const unreadable: UnreadableEntry[] = [];
    const seen = new Set<string>();
    let after = new Date(afterIso).toISOString();
    for (let page = 0; page < MAX_CLOSED_ORDER_PAGES; page++) {
      const list = await this.call({ method: 'GET', path: '/v2/orders' }, () =>
        this.orders.getAllOrders({ status: 'closed', after, direction: 'asc', limit: CLOSED_ORDER_PAGE }),
      );
      let added = 0;
      const read = toBrokerOrders(list);
      for (const o of read) {
        if (seen.has(o.id)) continue;
        seen.add(o.id);
        out.push(o);
        added++;
      }
      for (const u of unreadableOf(read)) {
        if (seen.has(u.id)) continue;
        seen.add(u.id);
        unreadable.push(u);
        added++;
      }
      // The page's last order, read or not, says where the next page starts.
      const last = list.length ? (isoOrNull(list[list.length - 1].createdAt) ?? '') : '';
      if (list.length < CLOSED_ORDER_PAGE || added === 0 || !last) break;
      const next = new Date(Date.parse(last) - 1).toISOString();
      if (next <= after) break; // a full page within one millisecond: no way forward
      after = next;
    }
    return withUnreadable(out, unreadable);
  }

  /**
   * `GET /v2/account/activities` (OPASN, OPEXC, OPEXP, FEE), paged: see `alpaca-activities.ts`. An entry
   * of another type (the filter should have excluded it) is skipped and counted (`skippedOf`).
   */
  listActivities(afterIso: string): Promise<BrokerActivity[]> {
    return listOptionActivities(afterIso, (q) =>
      this.call({ method: 'GET', path: '/v2/account/activities' }, () =>
        this.activities.getAccountActivities(q),
      ),
    );
  }

  /** `GET /v2/positions`, normalised (absolute quantities, `side`). */
  async listPositions(): Promise<BrokerPosition[]> {
    const list = await this.call({ method: 'GET', path: '/v2/positions' }, () =>
      this.positions.getAllOpenPositions(),
    );
    return list.map(toBrokerPosition).filter((p) => p.qty > 0);
  }

  /** `GET /v2/positions/{symbol}`; null when the broker holds nothing in that symbol. */
  async getPosition(symbol: string): Promise<BrokerPosition | null> {
    const p = await this.call({ method: 'GET', path: '/v2/positions/{symbol}' }, () =>
      this.positions.getOpenPosition({ symbolOrAssetId: symbol }).catch(nullOn404),
    );
    if (p === null) return null;
    const pos = toBrokerPosition(p);
    return pos.qty > 0 ? pos : null;
  }

  /**
   * Latest quotes from `GET /v1beta1/options/snapshots` (`feed` = the account's feed), in concurrent chunks of ≤ 100 symbols, each
   * following `next_page_token`. Symbols without a quote are absent from the map.
   */
  async getOptionQuotes(symbols: readonly string[]): Promise<Map<string, OptionQuote>> {
    const unique = [...new Set(symbols)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += MAX_SNAPSHOT_SYMBOLS) {
      chunks.push(unique.slice(i, i + MAX_SNAPSHOT_SYMBOLS));
    }
    const pages = await Promise.all(
      chunks.map((chunk) =>
        this.collectSnapshots('/v1beta1/options/snapshots', (pageToken) =>
          this.options.optionSnapshotsRaw({ symbols: chunk.join(','), feed: this.feed, pageToken }),
        ),
      ),
    );
    const out = new Map<string, OptionQuote>();
    for (const page of pages) {
      for (const [symbol, snap] of page) {
        const quote = toOptionQuote(symbol, snap);
        if (quote) out.set(symbol, quote);
      }
    }
    return out;
  }

  /**
   * The option chain of an underlying from `GET /v1beta1/options/snapshots/{underlying}` (all pages),
   * plus open interest from `GET /v2/options/contracts` when asked. Sorted by symbol.
   */
  async getOptionChain(underlying: string, filters: OptionChainFilters = {}): Promise<OptionChainEntry[]> {
    const day = (d?: string) => (d === undefined ? undefined : new Date(`${d}T00:00:00Z`));
    const snaps = await this.collectSnapshots('/v1beta1/options/snapshots/{underlying}', (pageToken) =>
      this.options.optionChainRaw({
        underlyingSymbol: underlying,
        feed: this.feed,
        type: filters.type,
        strikePriceGte: filters.strikePriceGte,
        strikePriceLte: filters.strikePriceLte,
        expirationDate: day(filters.expirationDate),
        expirationDateGte: day(filters.expirationDateGte),
        expirationDateLte: day(filters.expirationDateLte),
        rootSymbol: filters.rootSymbol,
        limit: 1000,
        pageToken,
      }),
    );
    const openInterest = filters.includeOpenInterest ? await this.openInterest(underlying, filters) : null;
    const out: OptionChainEntry[] = [];
    for (const [symbol, s] of snaps) {
      const entry = toChainEntry(symbol, s, openInterest?.get(symbol) ?? null);
      if (entry) out.push(entry);
    }
    return out.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  }

  /** Latest trade price of a stock (`GET /v2/stocks/{symbol}/trades/latest`), per share. */
  async getLatestStockPrice(symbol: string): Promise<number> {
    const r = await this.call({ method: 'GET', path: '/v2/stocks/{symbol}/trades/latest' }, () =>
      this.stocks.stockLatestTradeSingle({ symbol }),
    );
    return requiredNumber(r.trade?.p, 'trade.p');
  }

  private async openInterest(underlying: string, f: OptionChainFilters): Promise<Map<string, number>> {
    const day = (d?: string) => (d === undefined ? undefined : new Date(`${d}T00:00:00Z`));
    const out = new Map<string, number>();
    const seen = new Set<string>();
    let pageToken: string | undefined;
    for (;;) {
      const r = await this.call({ method: 'GET', path: '/v2/options/contracts' }, () =>
        this.assets.getOptionsContracts({
          underlyingSymbols: underlying,
          type: f.type,
          strikePriceGte: f.strikePriceGte,
          strikePriceLte: f.strikePriceLte,
          expirationDate: day(f.expirationDate),
          expirationDateGte: day(f.expirationDateGte),
          expirationDateLte: day(f.expirationDateLte),
          rootSymbol: f.rootSymbol,
          limit: 10_000,
          pageToken,
        }),
      );
      for (const c of r.optionContracts ?? []) {
        const oi = optionalNumber(c.openInterest, 'open_interest');
        if (oi !== null) out.set(c.symbol, oi);
      }
      const next = r.nextPageToken ?? undefined;
      if (!next || seen.has(next)) return out;
      seen.add(next);
      pageToken = next;
    }
  }

  /**
   * Every page of a snapshots endpoint. The SDK's `value()` parses market data with lossless-json, so
   * that 64-bit trade ids keep every digit; the adapter reads only prices, sizes, times and greeks from
   * snapshots (all exact as doubles), so it parses the body with the native `JSON.parse` instead: several
   * times faster (docs/BENCHMARKS.md), and the same values through the SDK's own model mapping.
   */
  private async collectSnapshots(
    path: string,
    page: (pageToken: string | undefined) => Promise<{ raw: Response }>,
  ): Promise<Map<string, marketData.OptionSnapshot>> {
    const out = new Map<string, marketData.OptionSnapshot>();
    const seen = new Set<string>();
    let pageToken: string | undefined;
    for (;;) {
      const r = await this.call({ method: 'GET', path }, async () => {
        const text = await (await page(pageToken)).raw.text();
        return marketData.OptionSnapshotsRespFromJSON(text === '' ? {} : JSON.parse(text));
      });
      for (const [symbol, snap] of Object.entries(r.snapshots ?? {})) out.set(symbol, snap);
      const next = r.nextPageToken ?? undefined;
      if (!next || seen.has(next)) return out;
      seen.add(next);
      pageToken = next;
    }
  }
}

/**
 * `options_trading_level` (0-3; Alpaca sends a number or a numeric string) as a whole number; null when
 * absent or unreadable: a spread then is refused (the level is never assumed), a single leg never is.
 */
function tradingLevelOf(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : null;
}
