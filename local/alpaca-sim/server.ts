/**
 * The Alpaca simulator's HTTP server (`node:http`, loopback only) and its programmatic control API.
 * One server answers both the trading paths (`/v2/...`, `/v3/...`) and the market-data paths
 * (`/v1beta1/...`, `/v2/stocks/...`), so tests point APCA_API_BASE_URL and APCA_API_DATA_URL at the same URL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { barsResponse, SimBarBook, SimBarsRequestError } from './bar-book';
import {
  activityJson,
  addActivity,
  listActivities,
  expireOption,
  optionEvent,
  settleExpiries,
} from './activities';
import { addDays, calendarV3, clockV3, legacyCalendar, legacyClock, newYorkClock, nyDateTime } from './clock';
import { isTradingDay } from './calendar';
import { exerciseInstruction, type ExerciseInstruction } from './exercise';
import {
  ALPACA_CODES,
  SimHttpError,
  accountJson,
  acceptMlegOrder,
  acceptOrder,
  addNotionalOrder,
  applyFill,
  applyMlegFill,
  endOrder,
  evaluateStop,
  isOpenOrder,
  marketablePrice,
  newAccount,
  notOpenError,
  orderJson,
  positionJson,
  replaceOrder,
  type SimAccount,
  type SimAccountOptions,
  type SimAccountSettings,
  type SimOrder,
} from './engine';
import {
  SimMarket,
  cents,
  mulberry32,
  type RandomWalkOptions,
  type SimChainInput,
  type SimContract,
  type SimContractInput,
  type SimQuote,
  type SimQuoteInput,
} from './market';
import { parseOcc } from './occ';
import { isMlegBody, mlegFill } from './mleg';
import { replaceMlegOrder } from './mleg-replace';
import {
  dueLiquidations,
  liquidatePosition,
  parseExpiryLiquidationBody,
  parseLiquidateBody,
  type ExpiryDayLiquidation,
} from './liquidation';

/** Options of the option events (`assign`, `exercise`, `expireContract`). */
export interface OptionEventOptions {
  /** Contracts (default: the whole position). */
  readonly qty?: number;
  /** Dollars charged with the event (a FEE activity on the contract). */
  readonly fee?: number;
}

/** How accepted orders fill: `immediate` (when marketable) or only through `fillOrder` (`manual`). */
export type FillMode = 'immediate' | 'manual';

/** Options of {@link startAlpacaSim}. */
export interface AlpacaSimOptions {
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Delay added to every request, ms. @default 0 */
  readonly latencyMs?: number;
  /** Requests per minute per API key; `null` disables the limit. @default 200 */
  readonly rateLimitPerMinute?: number | null;
  /**
   * Length of the fixed rate-limit window, ms: `rateLimitPerMinute` requests are allowed per window. Tests
   * scale it down (e.g. 200 per 2 s) to exercise the limit in seconds instead of minutes. @default 60000
   */
  readonly rateWindowMs?: number;
  /** @default 'immediate' */
  readonly fillMode?: FillMode;
  /** The broker's clock (order, quote and clock timestamps). Rate limiting and latency use wall time. */
  readonly now?: () => Date;
  /** Whether the market is open (a switch, not derived from the time). @default true */
  readonly marketOpen?: boolean;
  /**
   * Unknown API keys get a fresh account (with these settings) instead of a 401/403. Handy for local
   * mode; tests leave it off and call `addAccount`. @default false
   */
  readonly autoCreateAccounts?: boolean | SimAccountOptions;
  /** Seed of the PRNG `stepMarket()` uses when given none. @default 1 */
  readonly seed?: number;
  /**
   * How `DELETE /v2/orders/{id}` ends a working order while the market is open: `immediate` (canceled at
   * once) or `pending` (`pending_cancel`, still able to fill, until the next price move, `tick()` or
   * `settleCancels()`), as Alpaca does. @default 'immediate'
   */
  readonly cancelMode?: CancelMode;
  /**
   * When option events (OPASN, OPEXC, OPEXP, with their OPTRD and FEE lines) show in the activities
   * listing: `immediate`, or `next_trading_day` (paper: synced at the start of the next trading day, New
   * York midnight, while the position changes at once; AO "Behaviour the simulator must copy").
   * @default 'immediate'
   */
  readonly optionEventsSync?: OptionEventsSync;
  /**
   * `PATCH /v2/orders/{id}`: `immediate` (the old order is `replaced` at once) or `old_may_fill` (the old
   * order is `pending_replace` and can still fill until the next price move, `tick()` or `settleReplaces()`;
   * if it filled, the replacement is `rejected` and the old fills stand; AO "Behaviour the simulator must
   * copy"). @default 'immediate'
   */
  readonly replaceMode?: ReplaceMode;
  /**
   * Regulatory fees per option contract filled, by `activity_sub_type` (e.g. `{ ORF: 0.02295, OCC: 0.02 }`):
   * accrued on every option fill and charged once at the close (`expireDayOrders`) as one FEE activity
   * per sub type (AO "Behaviour the simulator must copy"; changelog 2026-11-06). @default none
   */
  readonly regulatoryFees?: Readonly<Record<string, number>>;
  /**
   * Refuse an order on a symbol the simulator does not know (no contract, quote, trade, stock price or
   * position): 422 `42210000` `asset "X" not found` (fixture user-422-asset-not-found). Off by default:
   * some pipeline tests (sweep-poll, broker-stop) send orders on symbols they never list. @default false
   */
  readonly strictAssets?: boolean;
  /**
   * Serve the control routes under `/_sim/` (faults and the market switch over HTTP, for `npm run fault`):
   * only to loopback callers, without API keys, never in the request log. Off by default; local mode turns
   * it on. See README.md beside this file. @default false
   */
  readonly controlApi?: boolean;
  /**
   * Alpaca's expiry-day liquidation (opt-in): from `atMinuteEt` New York (default 15:15) on a contract's
   * expiry day, every price move and `tick()` closes the chosen positions expiring that day at market
   * (liquidation.ts; local mode's random walk drives it).
   * @default none
   */
  readonly expiryDayLiquidation?: ExpiryDayLiquidation;
}

/** See {@link AlpacaSimOptions.cancelMode}. */
export type CancelMode = 'immediate' | 'pending';

/** See {@link AlpacaSimOptions.optionEventsSync}. */
export type OptionEventsSync = 'immediate' | 'next_trading_day';

/** See {@link AlpacaSimOptions.replaceMode}. */
export type ReplaceMode = 'immediate' | 'old_may_fill';

/** A fault to inject. Matching requests get the fault instead of (or after) the normal handling. */
export interface SimFault {
  /** HTTP method to match (any if omitted). */
  readonly method?: string;
  /** Exact pathname (`/v2/orders`) or a RegExp tested against the pathname (any if omitted). */
  readonly path?: string | RegExp;
  /** Query parameters the request must carry with exactly these values (any query if omitted). */
  readonly query?: Readonly<Record<string, string>>;
  /** Answer this status (with `body`, `headers`) instead of the real answer. */
  readonly status?: number;
  /** Body of the injected answer. @default `{ code, message }` naming the fault */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** How many requests it applies to. @default 1, or unlimited with `durationMs` */
  readonly times?: number;
  /**
   * Applies only until the simulator's clock (`now`) has moved this far past the injection, then clears
   * itself (checked on each request, so a test clock drives it). @default no end
   */
  readonly durationMs?: number;
  /** Only requests with this API key (any key if omitted). */
  readonly keyId?: string;
  /** Handle the request for real (the order IS placed), then destroy the socket: the client sees no reply. */
  readonly lostReply?: boolean;
  /** Handle the request for real, then answer `status` instead of the real answer (e.g. 500 after acting). */
  readonly afterAction?: boolean;
  /** Wait this long before handling (a slow broker; combine with a client timeout). */
  readonly delayMs?: number;
}

/** One request as the simulator received it. */
export interface SimRequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The parsed JSON body (undefined when none or not JSON). */
  readonly body: unknown;
  /** The body exactly as sent. */
  readonly rawBody: string;
  readonly keyId: string | null;
  /** Status answered (or that would have been answered, for a lost reply). 0 until answered. */
  status: number;
  /** ISO, wall time. */
  readonly time: string;
  faulted: boolean;
  lostReply: boolean;
}

/** A running simulator. */
export interface AlpacaSim {
  /** `http://127.0.0.1:PORT`, for both APCA_API_BASE_URL and APCA_API_DATA_URL. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order. */
  readonly requests: SimRequestLogEntry[];
  /** Quotes, trades, contracts. */
  readonly market: SimMarket;
  close(): Promise<void>;
  /** Resolves once every request held by a `delayMs` fault has acted (local/alpaca-sim/README.md). */
  settleDelayed(): Promise<void>;

  addAccount(keyId: string, secret: string, opts?: SimAccountOptions): void;
  setAccount(keyId: string, patch: Partial<SimAccountSettings>): void;
  setQuote(symbol: string, quote: SimQuoteInput): SimQuote;
  setStockPrice(symbol: string, price: number): void;
  addContract(input: SimContractInput): SimContract;
  addChain(input: SimChainInput): SimContract[];
  /**
   * Opens or closes the market. With `durationMs`, only for that long on the simulator's clock: then it
   * reverts to the state it had before (checked on each request and tick, so a test clock drives it).
   */
  setMarketOpen(open: boolean, durationMs?: number): void;
  /** The market switch now, and a timed switch's end. */
  marketState(): SimMarketState;
  setFillMode(mode: FillMode): void;
  /** See {@link AlpacaSimOptions.cancelMode}. */
  setCancelMode(mode: CancelMode): void;
  /** Ends every `pending_cancel` order (`canceled`): the broker settling the cancels it accepted. */
  settleCancels(): void;
  /** See {@link AlpacaSimOptions.optionEventsSync}. */
  setOptionEventsSync(mode: OptionEventsSync): void;
  /** See {@link AlpacaSimOptions.replaceMode}. */
  setReplaceMode(mode: ReplaceMode): void;
  /** Settles every `pending_replace` order (see {@link AlpacaSimOptions.replaceMode}). */
  settleReplaces(): void;
  /** See {@link AlpacaSimOptions.regulatoryFees}. */
  setRegulatoryFees(fees: Readonly<Record<string, number>>): void;
  setLatency(ms: number): void;
  setRateLimit(perMinute: number | null): void;
  /** Caps every market-data page (snapshots, chain) at `n` items so clients must follow next_page_token. */
  setDataPageSize(n: number | null): void;

  /** Fills `qty` (default: the rest) at `price` (default: limit price, else ask/bid). Partial fills allowed. */
  fillOrder(orderId: string, opts?: { qty?: number; price?: number }): Record<string, unknown>;
  cancelOrder(orderId: string): void;
  /**
   * A notional order placed by hand (`qty: null`, `notional` dollars), resting until cancelled; returns
   * its REST shape. Real accounts can hold them (Alpaca's sample order object).
   */
  addNotionalOrder(
    keyId: string,
    o: { symbol: string; notional: number; side?: 'buy' | 'sell' },
  ): Record<string, unknown>;
  expireOrder(orderId: string): void;
  rejectOrder(orderId: string): void;
  /**
   * Ends the trading day (the close): option positions expiring today or earlier are settled (see
   * `settleExpiries`); every open `day` order expires; `gtc` orders rest on, except those on an option
   * contract that expires today or earlier (they expire with it).
   */
  expireDayOrders(): void;
  /**
   * A clock tick: runs a scheduled expiry-day liquidation that is due, settles expiries, re-evaluates stop
   * triggers and fills against the quotes and `now()`.
   */
  tick(): void;
  /**
   * Alpaca's risk desk closes `qty` (default: all) contracts of a held option position at market now (a long
   * sold at the bid, a short bought back at the ask) with an order of its own (a UUID client_order_id),
   * after cancelling the working orders that hold that contract (liquidation.ts). Returns the filled order.
   */
  liquidate(keyId: string, symbol: string, qty?: number): Record<string, unknown>;
  /** Turns the scheduled expiry-day liquidation on (see `expiryDayLiquidation`) or off (`null`). */
  setExpiryDayLiquidation(cfg: ExpiryDayLiquidation | null): void;
  /** Resolves once every request held by a `delayMs` fault has acted (call it before moving a test clock). */
  settleDelayed(): Promise<void>;
  /** Sets a position as if changed outside the pipeline (by hand, assignment, expiry). 0 removes it. */
  setPosition(keyId: string, symbol: string, signedQty: number, avgPrice: number): void;
  removePosition(keyId: string, symbol: string): void;
  /**
   * Assigns `qty` (default: all) contracts of a short option position now: the contracts go, 100 shares a
   * contract are delivered at the strike (a short put: bought; a short call: sold short), and OPASN + OPTRD
   * activities are written (with a FEE activity when `fee` is given).
   */
  assign(keyId: string, symbol: string, opts?: OptionEventOptions): void;
  /** Exercises a long option position now (OPEXC + OPTRD): a call buys the shares, a put sells them. */
  exercise(keyId: string, symbol: string, opts?: OptionEventOptions): void;
  /**
   * The OCC's expiry processing of one contract now, whatever its date (for tests that cannot wait for
   * the expiry day's close): OTM expires worthless (OPEXP); ITM by $0.01 or more is exercised / assigned.
   */
  expireContract(keyId: string, symbol: string, opts?: OptionEventOptions): void;
  /**
   * Runs expiry processing for every account: each option position whose expiry day's close has passed at
   * `now()` is settled as {@link expireContract}, booked at that close. `tick()` runs it too.
   */
  settleExpiries(): void;
  /** Non-trade activities of an account in Alpaca's REST shape, oldest first. */
  activities(keyId: string): Record<string, unknown>[];

  injectFault(fault: SimFault): void;
  /** Removes every fault, and ends a timed market switch (the market reverts). */
  clearFaults(): void;
  /** The faults still in force (expired ones dropped). */
  activeFaults(): SimActiveFault[];

  /** Orders of an account in Alpaca's REST shape, oldest first. */
  orders(keyId: string): Record<string, unknown>[];
  /** Positions of an account in Alpaca's REST shape. */
  positions(keyId: string): Record<string, unknown>[];
  /** Requests of one key on one method + path (a convenience over `requests`). */
  requestsTo(method: string, path: string | RegExp): SimRequestLogEntry[];
  /** Forgets everything: accounts, orders, positions, market, faults, the request log, rate-limit windows. */
  reset(): void;

  /** Moves every quoted symbol one random-walk step, then fills what became marketable. */
  stepMarket(rng?: () => number, volatility?: number): void;
  startRandomWalk(opts: RandomWalkOptions): void;
  stopRandomWalk(): void;
}

interface Routed {
  status: number;
  body?: unknown;
}

interface ActiveFault {
  readonly fault: SimFault;
  remaining: number;
  /** On the simulator's clock: when it clears itself (null: when its `times` are used up). */
  readonly untilMs: number | null;
}

/** A fault in force, as {@link AlpacaSim.activeFaults} and `GET /_sim/faults` list it. */
export interface SimActiveFault {
  readonly method: string | null;
  readonly path: string | null;
  readonly keyId: string | null;
  readonly status: number | null;
  /** Requests it still applies to (null: unlimited until `until`). */
  readonly remaining: number | null;
  /** ISO, on the simulator's clock; null when it ends only with its count. */
  readonly until: string | null;
}

/** The market switch as {@link AlpacaSim.marketState} reports it. */
export interface SimMarketState {
  readonly open: boolean;
  /** While a timed switch holds (setMarketOpen with a duration): when it reverts (ISO, simulator clock). */
  readonly until: string | null;
  /** What it reverts to then. */
  readonly thenOpen: boolean | null;
}

interface RateWindow {
  start: number;
  count: number;
}

const MAX_SNAPSHOT_SYMBOLS = 100;

class AlpacaSimServer implements AlpacaSim {
  readonly requests: SimRequestLogEntry[] = [];
  readonly market: SimMarket;
  url = '';
  port = 0;

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly accounts = new Map<string, SimAccount>();
  private readonly rate = new Map<string, RateWindow>();
  private faults: ActiveFault[] = [];
  private latencyMs: number;
  private rateLimit: number | null;
  private fillMode: FillMode;
  private marketOpen: boolean;
  /** A timed market switch: `marketOpen` holds until `untilMs`, then becomes `revertTo`. */
  private marketTimer: { untilMs: number; revertTo: boolean } | null = null;
  private readonly now: () => Date;
  private readonly rng: () => number;
  private walk: NodeJS.Timeout | null = null;
  private dataPageSize: number | null = null;
  /** Every quote as one-minute bars (`GET /v1beta1/options/bars`). */
  private readonly bars: SimBarBook;
  private cancelMode: CancelMode;
  private optionEventsSync: OptionEventsSync;
  private replaceMode: ReplaceMode;
  private regulatoryFees: Readonly<Record<string, number>>;
  private expiryLiquidation: ExpiryDayLiquidation | null;

  constructor(private readonly opts: AlpacaSimOptions) {
    this.cancelMode = opts.cancelMode ?? 'immediate';
    this.optionEventsSync = opts.optionEventsSync ?? 'immediate';
    this.replaceMode = opts.replaceMode ?? 'immediate';
    this.regulatoryFees = opts.regulatoryFees ?? {};
    this.expiryLiquidation = opts.expiryDayLiquidation ?? null;
    this.now = opts.now ?? (() => new Date());
    this.market = new SimMarket(this.now);
    this.bars = SimBarBook.recording(this.market);
    this.latencyMs = opts.latencyMs ?? 0;
    this.rateLimit = opts.rateLimitPerMinute === undefined ? 200 : opts.rateLimitPerMinute;
    this.fillMode = opts.fillMode ?? 'immediate';
    this.marketOpen = opts.marketOpen ?? true;
    this.rng = mulberry32(opts.seed ?? 1);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ message: `simulator error: ${String(err)}` }));
        }
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('simulator has no TCP address');
    this.port = addr.port;
    this.url = `http://127.0.0.1:${addr.port}`;
  }

  async close(): Promise<void> {
    this.stopRandomWalk();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await closed;
  }

  // ---- control API --------------------------------------------------------------------------------

  addAccount(keyId: string, secret: string, opts: SimAccountOptions = {}): void {
    this.accounts.set(keyId, newAccount(keyId, secret, opts, this.now()));
  }

  setAccount(keyId: string, patch: Partial<SimAccountSettings>): void {
    Object.assign(this.account(keyId), patch);
  }

  setQuote(symbol: string, quote: SimQuoteInput): SimQuote {
    const q = this.market.setQuote(symbol, quote);
    this.processFills();
    return q;
  }

  setStockPrice(symbol: string, price: number): void {
    this.market.setStockPrice(symbol, price);
  }

  addContract(input: SimContractInput): SimContract {
    const c = this.market.addContract(input);
    this.processFills();
    return c;
  }

  addChain(input: SimChainInput): SimContract[] {
    const cs = this.market.addChain(input);
    this.processFills();
    return cs;
  }

  setMarketOpen(open: boolean, durationMs?: number): void {
    if (durationMs !== undefined && !(Number.isFinite(durationMs) && durationMs > 0)) {
      throw new Error(`setMarketOpen: durationMs must be a positive number, got ${durationMs}`);
    }
    const revertTo = this.marketTimer?.revertTo ?? this.marketOpen;
    this.marketTimer =
      durationMs === undefined ? null : { untilMs: this.now().getTime() + durationMs, revertTo };
    this.marketOpen = open;
    this.processFills();
  }

  marketState(): SimMarketState {
    const open = this.isMarketOpen();
    const t = this.marketTimer;
    return {
      open,
      until: t ? new Date(t.untilMs).toISOString() : null,
      thenOpen: t ? t.revertTo : null,
    };
  }

  /** The market switch, after ending a timed switch whose time has come. */
  private isMarketOpen(): boolean {
    const t = this.marketTimer;
    if (t && this.now().getTime() >= t.untilMs) {
      this.marketTimer = null;
      this.marketOpen = t.revertTo;
    }
    return this.marketOpen;
  }

  setFillMode(mode: FillMode): void {
    this.fillMode = mode;
    this.processFills();
  }

  setCancelMode(mode: CancelMode): void {
    this.cancelMode = mode;
  }

  setOptionEventsSync(mode: OptionEventsSync): void {
    this.optionEventsSync = mode;
  }

  setReplaceMode(mode: ReplaceMode): void {
    this.replaceMode = mode;
  }

  setRegulatoryFees(fees: Readonly<Record<string, number>>): void {
    this.regulatoryFees = fees;
  }

  settleReplaces(): void {
    const now = this.now();
    for (const a of this.accounts.values()) {
      for (const old of a.orders) {
        // A replace accepted in old_may_fill mode and not settled yet (the old order may have filled since).
        if (old.filledAtReplace === undefined || old.replacedBy === null) continue;
        const next = a.orders.find((o) => o.id === old.replacedBy);
        const ts = now.toISOString();
        if (old.filledQty > (old.filledAtReplace ?? 0)) {
          // The old order filled first: its fills stand, the replacement is rejected.
          if (next && isOpenOrder(next)) endOrder(next, 'rejected', now);
          if (isOpenOrder(old)) endOrder(old, 'canceled', now);
          old.replacedBy = null;
          old.filledAtReplace = undefined;
          continue;
        }
        old.filledAtReplace = undefined;
        old.status = 'replaced';
        old.replacedAt = ts;
        old.updatedAt = ts;
        if (next && next.status === 'accepted') next.status = 'new';
      }
    }
  }

  settleCancels(): void {
    const now = this.now();
    for (const a of this.accounts.values()) {
      for (const o of a.orders) if (o.status === 'pending_cancel') endOrder(o, 'canceled', now);
    }
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  setRateLimit(perMinute: number | null): void {
    this.rateLimit = perMinute;
    this.rate.clear();
  }

  setDataPageSize(n: number | null): void {
    this.dataPageSize = n;
  }

  fillOrder(orderId: string, opts: { qty?: number; price?: number } = {}): Record<string, unknown> {
    const { account, order } = this.findOrder(orderId);
    if (order.mleg) {
      // Every leg together, each at its own side of the quote (buys at the ask, sells at the bid).
      const prices = new Map<string, number>();
      for (const l of order.mleg.legs) {
        const q = this.market.quotes.get(l.symbol);
        const px = l.side === 'buy' ? q?.ask : q?.bid;
        if (px === undefined || !(px > 0))
          throw new Error(`fillOrder ${orderId}: leg ${l.symbol} has no ${l.side === 'buy' ? 'ask' : 'bid'}`);
        prices.set(l.symbol, px);
      }
      this.fillMleg(account, order, opts.qty ?? order.qty - order.filledQty, prices);
      return orderJson(order);
    }
    const price = opts.price ?? order.limitPrice ?? this.sidePrice(order);
    if (price === null)
      throw new Error(`fillOrder ${orderId}: no price given and ${order.symbol} has no quote`);
    this.fill(account, order, opts.qty ?? order.qty - order.filledQty, price);
    return orderJson(order);
  }

  cancelOrder(orderId: string): void {
    endOrder(this.findOrder(orderId).order, 'canceled', this.now());
  }

  addNotionalOrder(
    keyId: string,
    o: { symbol: string; notional: number; side?: 'buy' | 'sell' },
  ): Record<string, unknown> {
    const order = addNotionalOrder(this.account(keyId), this.market, {
      symbol: o.symbol,
      notional: o.notional,
      side: o.side ?? 'buy',
      now: this.now(),
    });
    return orderJson(order);
  }

  expireOrder(orderId: string): void {
    endOrder(this.findOrder(orderId).order, 'expired', this.now());
  }

  rejectOrder(orderId: string): void {
    endOrder(this.findOrder(orderId).order, 'rejected', this.now());
  }

  expireDayOrders(): void {
    const today = newYorkDate(this.now());
    // The close settles the option positions expiring today (or earlier) too, and charges the day's fees.
    for (const a of this.accounts.values()) {
      this.withEvents(a, () => settleExpiries(a, this.market, this.now(), today));
      this.chargeFees(a);
    }
    for (const a of this.accounts.values()) {
      for (const o of a.orders) {
        if (!isOpenOrder(o)) continue;
        const contractEnds = (o.mleg ? o.mleg.legs.map((l) => l.symbol) : [o.symbol]).some((s) => {
          const occ = parseOcc(s);
          return occ !== null && occ.expiry <= today;
        });
        if (o.timeInForce === 'day' || contractEnds) endOrder(o, 'expired', this.now());
      }
    }
  }

  tick(): void {
    this.settleExpiries();
    this.processFills();
  }

  liquidate(keyId: string, symbol: string, qty?: number): Record<string, unknown> {
    const a = this.account(keyId);
    if (!this.isMarketOpen()) throw new Error(`liquidate ${symbol}: the market is closed`);
    const l = liquidatePosition(a, this.market, symbol, this.now(), qty);
    this.fill(a, l.order, l.qty, l.price);
    return orderJson(l.order);
  }

  setExpiryDayLiquidation(cfg: ExpiryDayLiquidation | null): void {
    this.expiryLiquidation = cfg;
  }

  /** The scheduled liquidation (market open only): each due position that has a price to close at. */
  private runExpiryDayLiquidation(): void {
    const cfg = this.expiryLiquidation;
    if (!cfg || !this.isMarketOpen()) return;
    for (const a of this.accounts.values()) {
      for (const symbol of dueLiquidations(a, cfg, this.now())) {
        const long = (a.positions.get(symbol)?.qty ?? 0) > 0;
        const q = this.market.quotes.get(symbol);
        if (!((long ? q?.bid : q?.ask) ?? 0)) continue; // no price: tried again on the next tick
        this.liquidate(a.keyId, symbol);
      }
    }
  }

  setPosition(keyId: string, symbol: string, signedQty: number, avgPrice: number): void {
    const a = this.account(keyId);
    if (!Number.isInteger(signedQty)) throw new Error(`setPosition: qty ${signedQty} is not an integer`);
    if (signedQty === 0) a.positions.delete(symbol);
    else a.positions.set(symbol, { symbol, qty: signedQty, avgPrice });
  }

  removePosition(keyId: string, symbol: string): void {
    this.account(keyId).positions.delete(symbol);
  }

  assign(keyId: string, symbol: string, opts: OptionEventOptions = {}): void {
    const a = this.account(keyId);
    this.withEvents(a, () => optionEvent(a, symbol, 'assign', this.now(), opts));
  }

  exercise(keyId: string, symbol: string, opts: OptionEventOptions = {}): void {
    const a = this.account(keyId);
    this.withEvents(a, () => optionEvent(a, symbol, 'exercise', this.now(), opts));
  }

  expireContract(keyId: string, symbol: string, opts: OptionEventOptions = {}): void {
    const a = this.account(keyId);
    this.withEvents(a, () => expireOption(a, this.market, symbol, this.now(), opts));
  }

  settleExpiries(): void {
    for (const a of this.accounts.values()) {
      this.withEvents(a, () => settleExpiries(a, this.market, this.now()));
    }
  }

  activities(keyId: string): Record<string, unknown>[] {
    return this.account(keyId).activities.map(activityJson);
  }

  injectFault(fault: SimFault): void {
    if (fault.durationMs !== undefined && !(Number.isFinite(fault.durationMs) && fault.durationMs > 0)) {
      throw new Error(`injectFault: durationMs must be a positive number, got ${fault.durationMs}`);
    }
    const untilMs = fault.durationMs === undefined ? null : this.now().getTime() + fault.durationMs;
    const remaining = fault.times ?? (untilMs === null ? 1 : Infinity);
    this.faults.push({ fault, remaining, untilMs });
  }

  clearFaults(): void {
    this.faults = [];
    if (this.marketTimer) {
      this.marketOpen = this.marketTimer.revertTo;
      this.marketTimer = null;
      this.processFills();
    }
  }

  activeFaults(): SimActiveFault[] {
    this.dropExpiredFaults();
    return this.faults.map(({ fault: f, remaining, untilMs }) => ({
      method: f.method?.toUpperCase() ?? null,
      path: f.path === undefined ? null : typeof f.path === 'string' ? f.path : f.path.source,
      keyId: f.keyId ?? null,
      status: f.status ?? null,
      remaining: Number.isFinite(remaining) ? remaining : null,
      until: untilMs === null ? null : new Date(untilMs).toISOString(),
    }));
  }

  private dropExpiredFaults(): void {
    const nowMs = this.now().getTime();
    this.faults = this.faults.filter((a) => a.untilMs === null || nowMs < a.untilMs);
  }

  orders(keyId: string): Record<string, unknown>[] {
    return this.account(keyId).orders.map(orderJson);
  }

  positions(keyId: string): Record<string, unknown>[] {
    const a = this.account(keyId);
    return [...a.positions.values()].map((p) => positionJson(a, this.market, p));
  }

  requestsTo(method: string, path: string | RegExp): SimRequestLogEntry[] {
    return this.requests.filter(
      (r) =>
        r.method === method.toUpperCase() && (typeof path === 'string' ? r.path === path : path.test(r.path)),
    );
  }

  reset(): void {
    this.accounts.clear();
    this.rate.clear();
    this.faults = [];
    this.dataPageSize = null;
    this.requests.length = 0;
    this.market.quotes.clear();
    this.market.trades.clear();
    this.market.contracts.clear();
    this.market.stockPrices.clear();
    this.market.tradeLog.clear();
  }

  stepMarket(rng?: () => number, volatility?: number): void {
    this.market.stepMarket(rng ?? this.rng, volatility);
    this.processFills();
  }

  startRandomWalk(opts: RandomWalkOptions): void {
    this.stopRandomWalk();
    const rng = mulberry32(opts.seed);
    this.walk = setInterval(() => this.stepMarket(rng, opts.volatility ?? 0.01), opts.intervalMs ?? 1000);
    this.walk.unref();
  }

  stopRandomWalk(): void {
    if (this.walk) clearInterval(this.walk);
    this.walk = null;
  }

  // ---- internals ----------------------------------------------------------------------------------

  private account(keyId: string): SimAccount {
    const a = this.accounts.get(keyId);
    if (!a) throw new Error(`no simulated account for key ${keyId}`);
    return a;
  }

  private findOrder(orderId: string): { account: SimAccount; order: SimOrder } {
    for (const account of this.accounts.values()) {
      const order = account.orders.find((o) => o.id === orderId);
      if (order) return { account, order };
    }
    throw new Error(`no simulated order ${orderId}`);
  }

  private sidePrice(order: SimOrder): number | null {
    const q = this.market.quotes.get(order.symbol);
    if (!q) return null;
    const px = order.side === 'buy' ? q.ask : q.bid;
    return px > 0 ? px : null;
  }

  /**
   * Whenever prices move or the clock ticks: triggers the stops the quotes reached (while the market is
   * open, in any fill mode), then, in immediate mode, fills every open order that is marketable, oldest first.
   */
  private processFills(): void {
    if (!this.isMarketOpen()) return;
    this.runExpiryDayLiquidation();
    const now = this.now();
    for (const account of this.accounts.values()) {
      for (const order of account.orders) {
        evaluateStop(order, this.market, now);
        this.tryFill(account, order);
      }
    }
    // A cancel or replace accepted before this move settles after it: what filled meanwhile stands.
    this.settleCancels();
    this.settleReplaces();
  }

  private tryFill(account: SimAccount, order: SimOrder): void {
    if (this.fillMode !== 'immediate' || !this.isMarketOpen() || !isOpenOrder(order)) return;
    if (order.notional !== null) return; // a notional order rests until cancelled (see addNotionalOrder)
    if (this.awaitsReplace(account, order)) return;
    if (order.mleg) {
      // All legs or none, at a net no worse than the limit (mleg.ts).
      const type = order.type === 'market' ? 'market' : 'limit';
      const remaining = order.qty - order.filledQty;
      const f = mlegFill(
        { type, limitPrice: order.limitPrice, legs: order.mleg.legs },
        remaining,
        this.market.quotes,
      );
      if (f) this.fillMleg(account, order, remaining, new Map(f.legs.map((l) => [l.symbol, l.price])));
      return;
    }
    const price = marketablePrice(order, this.market);
    if (price === null) return;
    this.fill(account, order, order.qty - order.filledQty, price);
  }

  /** A replacement whose old order is still `pending_replace`: it works only once that settles. */
  private awaitsReplace(account: SimAccount, order: SimOrder): boolean {
    if (order.replaces === null) return false;
    return account.orders.some((o) => o.id === order.replaces && o.filledAtReplace !== undefined);
  }

  /** Applies a fill and accrues the regulatory fees of the contracts it filled (charged at the close). */
  private fill(account: SimAccount, order: SimOrder, qty: number, price: number): void {
    const before = order.filledQty;
    applyFill(account, this.market, order, qty, price, this.now());
    const contracts = order.filledQty - before;
    if (contracts <= 0 || order.assetClass !== 'us_option') return;
    for (const [subType, perContract] of Object.entries(this.regulatoryFees)) {
      account.accruedFees.set(subType, (account.accruedFees.get(subType) ?? 0) + perContract * contracts);
    }
  }

  /** Fills an mleg order's legs together and accrues the regulatory fees of every leg's contracts. */
  private fillMleg(
    account: SimAccount,
    order: SimOrder,
    multiples: number,
    prices: ReadonlyMap<string, number>,
  ): void {
    const before = order.filledQty;
    applyMlegFill(account, this.market, order, multiples, prices, this.now());
    const filled = order.filledQty - before;
    const contracts = filled * (order.mleg?.legs.reduce((n, l) => n + l.ratioQty, 0) ?? 0);
    if (contracts <= 0) return;
    for (const [subType, perContract] of Object.entries(this.regulatoryFees)) {
      account.accruedFees.set(subType, (account.accruedFees.get(subType) ?? 0) + perContract * contracts);
    }
  }

  /** The close charges the day's accrued regulatory fees: one FEE activity per sub type. */
  private chargeFees(account: SimAccount): void {
    for (const [subType, dollars] of account.accruedFees) {
      const amount = cents(dollars);
      if (amount <= 0) continue;
      account.cash = cents(account.cash - amount);
      addActivity(account, this.now(), {
        type: 'FEE',
        symbol: '',
        qty: 0,
        netAmount: -amount,
        description: `${subType} fee`,
        subType,
      });
    }
    account.accruedFees.clear();
  }

  /**
   * With `optionEventsSync: 'next_trading_day'`, hides the option-event activities written since index
   * `from` until the start (New York midnight) of the next trading day after their booking date.
   */
  private deferOptionEvents(account: SimAccount, from: number): void {
    if (this.optionEventsSync !== 'next_trading_day') return;
    for (const a of account.activities.slice(from)) {
      if (a.visibleAt !== undefined || a.subType !== undefined) continue;
      let day = addDays(a.date, 1);
      while (!isTradingDay(day)) day = addDays(day, 1);
      a.visibleAt = new Date(nyDateTime(day, '00:00')).toISOString();
    }
  }

  /** Runs `act` on an account and defers the option events it wrote (see {@link deferOptionEvents}). */
  private withEvents<T>(account: SimAccount, act: () => T): T {
    const from = account.activities.length;
    const out = act();
    this.deferOptionEvents(account, from);
    return out;
  }

  /** Requests held by a `delayMs` fault that have not acted yet. */
  private delayedInFlight = 0;

  /**
   * Resolves once every request held by a `delayMs` fault has acted: a test that moves its clock forward
   * calls this first, since real time passing lets a slow request land (the broker acts within seconds,
   * never minutes after it was sent).
   */
  async settleDelayed(): Promise<void> {
    while (this.delayedInFlight > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private takeFault(
    method: string,
    path: string,
    query: URLSearchParams,
    keyId: string,
  ): { fault: SimFault; untilMs: number | null } | null {
    this.dropExpiredFaults();
    const i = this.faults.findIndex(
      ({ fault: f }) =>
        (f.keyId === undefined || f.keyId === keyId) &&
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (f.path === undefined || (typeof f.path === 'string' ? f.path === path : f.path.test(path))) &&
        (f.query === undefined || Object.entries(f.query).every(([k, v]) => query.get(k) === v)),
    );
    if (i < 0) return null;
    const active = this.faults[i];
    active.remaining -= 1;
    if (active.remaining <= 0) this.faults.splice(i, 1);
    return { fault: active.fault, untilMs: active.untilMs };
  }

  /** Counts the request against the key's window; returns the headers and whether it is over the limit. */
  private countRate(keyId: string): { headers: Record<string, string>; limited: boolean } {
    if (this.rateLimit === null) return { headers: {}, limited: false };
    const nowMs = Date.now();
    let w = this.rate.get(keyId);
    const windowMs = this.opts.rateWindowMs ?? 60_000;
    if (!w || nowMs - w.start >= windowMs) {
      w = { start: nowMs, count: 0 };
      this.rate.set(keyId, w);
    }
    w.count += 1;
    const limited = w.count > this.rateLimit;
    return {
      limited,
      headers: {
        'X-Ratelimit-Limit': String(this.rateLimit),
        'X-Ratelimit-Remaining': String(Math.max(0, this.rateLimit - w.count)),
        'X-Ratelimit-Reset': String(Math.ceil((w.start + windowMs) / 1000)),
      },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = decodeURIComponent(url.pathname);
    const rawBody = await readBody(req);
    let body: unknown = undefined;
    let malformed = false;
    if (rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        malformed = true;
      }
    }
    if (this.opts.controlApi && path.startsWith('/_sim/') && isLoopback(req.socket.remoteAddress)) {
      const answer = this.control(method, path, malformed ? MALFORMED : body);
      res.writeHead(answer.status, { 'Content-Type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(answer.body));
      return;
    }
    const keyHeader = req.headers['apca-api-key-id'];
    const keyId = typeof keyHeader === 'string' ? keyHeader : null;
    const entry: SimRequestLogEntry = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      body,
      rawBody,
      keyId,
      status: 0,
      time: new Date().toISOString(),
      faulted: false,
      lostReply: false,
    };
    this.requests.push(entry);

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      if (res.destroyed) return;
      const text = status === 204 || payload === undefined ? '' : JSON.stringify(payload);
      res.writeHead(status, {
        ...(text ? { 'Content-Type': 'application/json; charset=UTF-8' } : {}),
        'X-Request-ID': crypto.randomUUID().replace(/-/g, ''),
        ...headers,
      });
      res.end(text);
    };

    if (this.latencyMs > 0) await this.sleep(this.latencyMs);

    const secret = req.headers['apca-api-secret-key'];
    if (!keyId || typeof secret !== 'string' || !secret) {
      send(401, { code: ALPACA_CODES.unauthorized, message: 'request is not authorized' });
      return;
    }
    let account = this.accounts.get(keyId);
    if (!account && this.opts.autoCreateAccounts) {
      const o = this.opts.autoCreateAccounts === true ? {} : this.opts.autoCreateAccounts;
      this.addAccount(keyId, secret, o);
      account = this.accounts.get(keyId)!;
    }
    if (!account || account.secret !== secret) {
      // A wrong key or secret: 401 `unauthorized.` without a code, on trading and data paths alike
      // (fixture user-401-wrong-secret, a paper probe on GET /v2/account).
      send(401, { message: 'unauthorized.' });
      return;
    }

    const rate = this.countRate(keyId);
    if (rate.limited) {
      send(429, { code: ALPACA_CODES.rateLimited, message: 'rate limit exceeded' }, rate.headers);
      return;
    }

    const taken = this.takeFault(method, path, url.searchParams, keyId);
    const fault = taken?.fault ?? null;
    if (fault) entry.faulted = true;
    // An injected 429 with an end says, as Alpaca's headers do, when to come back: when the fault ends.
    const faultHeaders: Record<string, string> =
      fault?.status === 429 && taken?.untilMs != null
        ? { 'X-Ratelimit-Remaining': '0', 'X-Ratelimit-Reset': String(Math.ceil(taken.untilMs / 1000)) }
        : {};
    if (fault?.delayMs) {
      // Held before acting: counted until it acts (or answers), so a test can let late actions land.
      this.delayedInFlight++;
      await this.sleep(fault.delayMs);
      queueMicrotask(() => this.delayedInFlight--);
    }
    if (fault && fault.status !== undefined && !fault.afterAction && !fault.lostReply) {
      send(fault.status, fault.body ?? faultBody(fault.status), {
        ...rate.headers,
        ...faultHeaders,
        ...fault.headers,
      });
      return;
    }

    let routed: Routed;
    try {
      routed = malformed
        ? {
            status: 400,
            body: { code: ALPACA_CODES.malformedBody, message: 'request body format is invalid' },
          }
        : this.route(account, method, path, url.searchParams, body);
    } catch (err) {
      if (!(err instanceof SimHttpError)) throw err;
      routed = { status: err.status, body: { ...err.extra, code: err.code, message: err.message } };
    }

    if (fault?.lostReply) {
      entry.status = routed.status;
      entry.lostReply = true;
      req.socket.destroy();
      return;
    }
    if (fault && fault.status !== undefined) {
      send(fault.status, fault.body ?? faultBody(fault.status), {
        ...rate.headers,
        ...faultHeaders,
        ...fault.headers,
      });
      return;
    }
    send(routed.status, routed.body, { ...rate.headers, ...(fault?.headers ?? {}) });
  }

  /**
   * The control routes (`controlApi`): `GET /_sim/faults` (the faults in force and the market switch),
   * `POST /_sim/faults` (one fault, {@link parseControlFault}), `DELETE /_sim/faults` (clears every fault
   * and a timed market switch), `POST /_sim/market` (`{ open, durationMs? }`). Answers 400 with a message
   * naming the field on bad input, and the state after the change on success.
   */
  private control(method: string, path: string, body: unknown): Routed {
    const state = () => ({ faults: this.activeFaults(), market: this.marketState() });
    const bad = (message: string): Routed => ({ status: 400, body: { message } });
    if (body === MALFORMED) return bad('the body is not JSON');
    const key = `${method} ${path}`;
    if (key === 'GET /_sim/faults') return ok(state());
    if (key === 'DELETE /_sim/faults') {
      this.clearFaults();
      return ok(state());
    }
    if (key === 'POST /_sim/faults') {
      const parsed = parseControlFault(body);
      if (typeof parsed === 'string') return bad(parsed);
      this.injectFault(parsed);
      return ok(state());
    }
    if (key === 'POST /_sim/market') {
      const b = (body ?? {}) as Record<string, unknown>;
      if (typeof b.open !== 'boolean') return bad('open must be true or false');
      if (b.durationMs !== undefined && !isPositiveNumber(b.durationMs))
        return bad('durationMs must be a positive number of milliseconds');
      this.setMarketOpen(b.open, b.durationMs as number | undefined);
      return ok(state());
    }
    if (key === 'POST /_sim/liquidate') {
      const parsed = parseLiquidateBody(body);
      if (typeof parsed === 'string') return bad(parsed);
      try {
        return ok(this.liquidate(parsed.keyId, parsed.symbol, parsed.qty));
      } catch (err) {
        return bad(err instanceof Error ? err.message : String(err));
      }
    }
    if (key === 'POST /_sim/expiry-liquidation') {
      const parsed = parseExpiryLiquidationBody(body);
      if (typeof parsed === 'string') return bad(parsed);
      this.setExpiryDayLiquidation(parsed);
      return ok({ expiryDayLiquidation: parsed });
    }
    return { status: 404, body: { message: `no control route ${method} ${path}` } };
  }

  private route(a: SimAccount, method: string, path: string, q: URLSearchParams, body: unknown): Routed {
    const now = this.now();
    const m = (re: RegExp) => re.exec(path);
    let r: RegExpExecArray | null;
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /v2/account':
        return ok(accountJson(a, this.market));
      case 'GET /v2/clock':
        return ok(legacyClock(now, this.isMarketOpen()));
      case 'GET /v3/clock':
        return ok(clockV3(now, this.isMarketOpen()));
      case 'GET /v2/calendar':
        return ok(legacyCalendar(now, q.get('start'), q.get('end')));
      case 'POST /v2/orders':
        return { status: 200, body: this.submit(a, body) };
      case 'GET /v2/orders':
        return ok(this.listOrders(a, q));
      case 'DELETE /v2/orders': {
        const canceled = a.orders.filter(isOpenOrder);
        for (const o of canceled) endOrder(o, 'canceled', now);
        return { status: 207, body: canceled.map((o) => ({ id: o.id, status: 200 })) };
      }
      case 'GET /v2/orders:by_client_order_id': {
        const cid = q.get('client_order_id');
        const o = a.orders.find((x) => x.clientOrderId === cid);
        if (!o) throw notFound('order not found');
        return ok(orderJson(o));
      }
      case 'GET /v2/account/activities':
        return ok(listActivities(a, q, undefined, now));
      case 'GET /v2/positions':
        return ok([...a.positions.values()].map((p) => positionJson(a, this.market, p)));
      case 'GET /v2/options/contracts':
        return ok(this.listContracts(q));
      case 'GET /v1beta1/options/snapshots':
        return ok(this.snapshots(q));
      case 'GET /v1beta1/options/quotes/latest':
        return ok(this.latestQuotes(q));
      case 'GET /v1beta1/options/bars':
        return ok(this.optionBars(q));
      case 'GET /v2/stocks/trades/latest':
        return ok(this.latestStockTrades((q.get('symbols') ?? '').split(',').filter(Boolean)));
    }
    if ((r = m(/^\/v2\/account\/activities\/([^/]+)$/)) && method === 'GET') {
      return ok(listActivities(a, q, r[1], now));
    }
    if ((r = m(/^\/v3\/calendar\/([^/]+)$/)) && method === 'GET') {
      return ok(calendarV3(now, q.get('start'), q.get('end')));
    }
    if ((r = m(/^\/v2\/orders\/([^/]+)$/))) {
      const o = a.orders.find((x) => x.id === r![1]);
      if (!o) throw notFound('order not found');
      if (method === 'GET') return ok(orderJson(o));
      if (method === 'DELETE') return this.cancel(o);
      if (method === 'PATCH') return { status: 200, body: this.replace(a, o, body) };
    }
    if ((r = m(/^\/v2\/positions\/([^/]+)\/(exercise|do-not-exercise)$/)) && method === 'POST') {
      const symbol = this.contractSymbol(r[1]);
      const instruction = r[2] as ExerciseInstruction;
      return this.withEvents(a, () => exerciseInstruction(a, instruction, symbol, now));
    }
    if ((r = m(/^\/v2\/positions\/([^/]+)$/))) {
      const symbol = r[1].toUpperCase();
      const p = a.positions.get(symbol);
      if (!p) throw notFound('position does not exist');
      if (method === 'GET') return ok(positionJson(a, this.market, p));
      if (method === 'DELETE') return ok(this.closePosition(a, symbol, p.qty, q));
    }
    if ((r = m(/^\/v2\/options\/contracts\/([^/]+)$/)) && method === 'GET') {
      const c =
        this.market.contracts.get(r[1].toUpperCase()) ??
        [...this.market.contracts.values()].find((x) => this.market.assetId(x.symbol) === r![1]);
      if (!c) throw notFound('option contract not found');
      return ok(this.contractJson(c));
    }
    if ((r = m(/^\/v1beta1\/options\/snapshots\/([^/]+)$/)) && method === 'GET') {
      return ok(this.chain(r[1].toUpperCase(), q));
    }
    if ((r = m(/^\/v2\/stocks\/([^/]+)\/trades\/latest$/)) && method === 'GET') {
      const all = this.latestStockTrades([r[1].toUpperCase()]) as { trades: Record<string, unknown> };
      const trade = all.trades[r[1].toUpperCase()];
      if (!trade) throw notFound('no trade found');
      return ok({ symbol: r[1].toUpperCase(), trade });
    }
    throw notFound(`endpoint not found: ${method} ${path}`);
  }

  /** An OCC symbol, or the symbol of the contract with that asset id (`symbol_or_contract_id`). */
  private contractSymbol(raw: string): string {
    const up = decodeURIComponent(raw).toUpperCase();
    if (parseOcc(up)) return up;
    const c = [...this.market.contracts.values()].find((x) => this.market.assetId(x.symbol) === raw);
    return c?.symbol ?? up;
  }

  /** The recorded minute bars (`bar-book.ts`); a bad query answers as Alpaca does, `{ code, message }`. */
  private optionBars(q: URLSearchParams): Record<string, unknown> {
    try {
      return barsResponse(this.bars, q, this.now());
    } catch (err) {
      if (!(err instanceof SimBarsRequestError)) throw err;
      throw new SimHttpError(err.status, err.status === 400 ? 40010000 : 42210000, err.message);
    }
  }

  /**
   * `DELETE /v2/orders/{id}`: 204 when the cancel is accepted. A repeat cancel of an order already
   * `canceled` answers 200 with no body (fixture user-repeat-cancel-of-canceled-order, measured with the
   * market shut); any other ended order 422 (fixture user-422-cancel-of-filled-order). With
   * `cancelMode: 'pending'` and the market open, the order sits in `pending_cancel` (still working: it can
   * fill) until the next price move, `tick()` or `settleCancels()` ends it (AO "Behaviour the simulator must
   * copy"); a cancel of a `pending_cancel` order is accepted again (204).
   */
  private cancel(o: SimOrder): Routed {
    if (o.status === 'canceled') return { status: 200 };
    if (o.status === 'pending_cancel') return { status: 204 };
    if (!isOpenOrder(o)) throw notOpenError(o);
    if (this.cancelMode === 'pending' && this.isMarketOpen()) {
      o.status = 'pending_cancel';
      o.updatedAt = this.now().toISOString();
    } else endOrder(o, 'canceled', this.now());
    return { status: 204 };
  }

  private submit(a: SimAccount, body: unknown): Record<string, unknown> {
    const ctx = {
      now: this.now(),
      marketOpen: this.isMarketOpen(),
      strictAssets: this.opts.strictAssets === true,
    };
    const mleg = body !== null && typeof body === 'object' && isMlegBody(body as Record<string, unknown>);
    const order = mleg ? acceptMlegOrder(a, this.market, body, ctx) : acceptOrder(a, this.market, body, ctx);
    return this.afterAccept(a, order);
  }

  private replace(a: SimAccount, old: SimOrder, body: unknown): Record<string, unknown> {
    const ctx = { now: this.now(), marketOpen: this.isMarketOpen() };
    const order =
      old.mleg && body !== null && typeof body === 'object' && !Array.isArray(body)
        ? replaceMlegOrder(a, this.market, old, body as Record<string, unknown>, ctx, this.replaceMode)
        : replaceOrder(a, this.market, old, body, ctx, this.replaceMode);
    if (old.status === 'pending_replace') return orderJson(order); // settled later (settleReplaces)
    return this.afterAccept(a, order);
  }

  /** Alpaca answers with the order as accepted; triggers and fills happen right after, seen on the next read. */
  private afterAccept(a: SimAccount, order: SimOrder): Record<string, unknown> {
    const answer = orderJson(order);
    if (this.isMarketOpen()) {
      evaluateStop(order, this.market, this.now());
      this.tryFill(a, order);
    }
    if (isOpenOrder(order) && (order.status === 'accepted' || order.status === 'pending_new')) {
      order.status = 'new';
    }
    return answer;
  }

  private closePosition(
    a: SimAccount,
    symbol: string,
    held: number,
    q: URLSearchParams,
  ): Record<string, unknown> {
    let qty = Math.abs(held);
    if (q.get('qty')) qty = Number(q.get('qty'));
    else if (q.get('percentage')) qty = Math.floor((Math.abs(held) * Number(q.get('percentage'))) / 100);
    return this.submit(a, {
      symbol,
      qty: String(qty),
      side: held > 0 ? 'sell' : 'buy',
      type: 'market',
      time_in_force: 'day',
    });
  }

  private listOrders(a: SimAccount, q: URLSearchParams): unknown[] {
    const status = q.get('status') ?? 'open';
    const limit = clampInt(q.get('limit'), 50, 1, 500);
    const symbols = q.get('symbols')?.split(',').filter(Boolean);
    const side = q.get('side');
    const after = q.get('after');
    const until = q.get('until');
    let list = a.orders.filter((o) => {
      if (status === 'open' && !isOpenOrder(o)) return false;
      if (status === 'closed' && isOpenOrder(o)) return false;
      const own = o.mleg ? o.mleg.legs.map((l) => l.symbol) : [o.symbol];
      if (symbols && !own.some((s) => symbols.includes(s))) return false;
      if (side && o.side !== side) return false;
      if (after && o.createdAt <= new Date(after).toISOString()) return false;
      if (until && o.createdAt >= new Date(until).toISOString()) return false;
      return true;
    });
    list = q.get('direction') === 'asc' ? list : [...list].reverse();
    return list.slice(0, limit).map(orderJson);
  }

  private contractJson(c: SimContract): Record<string, unknown> {
    const today = this.now().toISOString().slice(0, 10);
    return {
      id: this.market.assetId(c.symbol),
      symbol: c.symbol,
      name: `${c.underlying} ${c.expiry} ${c.type === 'call' ? 'Call' : 'Put'} ${c.strike}`,
      status: 'active',
      tradable: true,
      expiration_date: c.expiry,
      root_symbol: c.root,
      underlying_symbol: c.underlying,
      underlying_asset_id: this.market.assetId(c.underlying),
      type: c.type,
      style: 'american',
      strike_price: String(c.strike),
      multiplier: '100',
      size: '100',
      open_interest: c.openInterest === null ? null : String(c.openInterest),
      open_interest_date: c.openInterest === null ? null : today,
      close_price: c.closePrice === null ? null : c.closePrice.toFixed(2),
      close_price_date: c.closePrice === null ? null : today,
    };
  }

  private filteredContracts(q: URLSearchParams, underlyings: string[] | null): SimContract[] {
    const type = q.get('type');
    const sGte = q.get('strike_price_gte');
    const sLte = q.get('strike_price_lte');
    const exp = q.get('expiration_date');
    const eGte = q.get('expiration_date_gte');
    const eLte = q.get('expiration_date_lte');
    const root = q.get('root_symbol');
    return [...this.market.contracts.values()]
      .filter(
        (c) =>
          (!underlyings || underlyings.includes(c.underlying)) &&
          (!type || c.type === type) &&
          (!sGte || c.strike >= Number(sGte)) &&
          (!sLte || c.strike <= Number(sLte)) &&
          (!exp || c.expiry === exp) &&
          (!eGte || c.expiry >= eGte) &&
          (!eLte || c.expiry <= eLte) &&
          (!root || c.root === root),
      )
      .sort((x, y) => (x.symbol < y.symbol ? -1 : x.symbol > y.symbol ? 1 : 0));
  }

  private listContracts(q: URLSearchParams): Record<string, unknown> {
    const underlyings = q.get('underlying_symbols')?.split(',').filter(Boolean) ?? null;
    const status = q.get('status');
    if (status && status !== 'active') return { option_contracts: [], next_page_token: null };
    const all = this.filteredContracts(q, underlyings);
    const { page, next } = paginate(all, (c) => c.symbol, q, 100, 10_000);
    return { option_contracts: page.map((c) => this.contractJson(c)), next_page_token: next };
  }

  private snapshots(q: URLSearchParams): Record<string, unknown> {
    checkFeed(q);
    const raw = q.get('symbols');
    if (!raw) throw new SimHttpError(400, ALPACA_CODES.invalidInput, 'missing symbols');
    const symbols = [
      ...new Set(
        raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    ];
    if (symbols.length > MAX_SNAPSHOT_SYMBOLS) {
      throw new SimHttpError(
        400,
        ALPACA_CODES.invalidInput,
        `invalid symbols: too many symbols (${symbols.length} > ${MAX_SNAPSHOT_SYMBOLS})`,
      );
    }
    const withData = symbols.filter((s) => this.market.snapshot(s) !== null).sort();
    const { page, next } = paginate(withData, (s) => s, q, 100, 1000, this.dataPageSize);
    return {
      snapshots: Object.fromEntries(page.map((s) => [s, this.market.snapshot(s)])),
      next_page_token: next,
    };
  }

  private chain(underlying: string, q: URLSearchParams): Record<string, unknown> {
    checkFeed(q);
    const symbols = new Set(this.filteredContracts(q, [underlying]).map((c) => c.symbol));
    // Quoted OCC symbols of this underlying that were never registered as contracts are part of the chain too.
    const type = q.get('type');
    for (const s of this.market.quotes.keys()) {
      const v = parseOcc(s);
      if (!v || v.underlying !== underlying || this.market.contracts.has(s)) continue;
      const sGte = q.get('strike_price_gte');
      const sLte = q.get('strike_price_lte');
      const eGte = q.get('expiration_date_gte');
      const eLte = q.get('expiration_date_lte');
      const exp = q.get('expiration_date');
      if (type && v.type !== type) continue;
      if ((sGte && v.strike < Number(sGte)) || (sLte && v.strike > Number(sLte))) continue;
      if ((eGte && v.expiry < eGte) || (eLte && v.expiry > eLte) || (exp && v.expiry !== exp)) continue;
      symbols.add(s);
    }
    const withData = [...symbols].filter((s) => this.market.snapshot(s) !== null).sort();
    const { page, next } = paginate(withData, (s) => s, q, 100, 1000, this.dataPageSize);
    return {
      snapshots: Object.fromEntries(page.map((s) => [s, this.market.snapshot(s)])),
      next_page_token: next,
    };
  }

  private latestQuotes(q: URLSearchParams): Record<string, unknown> {
    checkFeed(q);
    const symbols = (q.get('symbols') ?? '').split(',').filter(Boolean);
    const quotes: Record<string, unknown> = {};
    for (const s of symbols) {
      const snap = this.market.snapshot(s);
      if (snap?.latestQuote) quotes[s] = snap.latestQuote;
    }
    return { quotes };
  }

  private latestStockTrades(symbols: string[]): Record<string, unknown> {
    const trades: Record<string, unknown> = {};
    for (const s of symbols) {
      const t = this.market.stockPrices.get(s);
      if (t) trades[s] = { c: ['@'], i: 1, p: t.price, s: t.size, t: t.time, x: 'V', z: 'C' };
    }
    return { trades };
  }
}

/**
 * The option data `feed` parameter: `opra` or `indicative` (AO "Market data feed": the snapshot and quote
 * endpoints take it; without it Alpaca picks by subscription). Anything else: 400 (text: sim). Both feeds
 * answer the simulator's one market.
 */
function checkFeed(q: URLSearchParams): void {
  const feed = q.get('feed');
  if (feed !== null && feed !== 'opra' && feed !== 'indicative') {
    throw new SimHttpError(400, ALPACA_CODES.invalidInput, `invalid feed: ${feed}`);
  }
}

/** Stands for a request body that is not JSON (the control routes answer 400). */
const MALFORMED = Symbol('malformed');

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function isPositiveNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/**
 * A fault as `POST /_sim/faults` takes it (JSON): `{ status, method?, path?, pathPattern?, query?, body?,
 * headers?, times?, durationMs?, keyId? }`, `pathPattern` a RegExp source tested against the pathname.
 * Returns the fault, or a message naming what is wrong. Only answers are injected over HTTP (no lost
 * replies or delays): what an operator rehearses from the runbook.
 */
export function parseControlFault(body: unknown): SimFault | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'the body must be a JSON object';
  const b = body as Record<string, unknown>;
  const known = [
    'status',
    'method',
    'path',
    'pathPattern',
    'query',
    'body',
    'headers',
    'times',
    'durationMs',
    'keyId',
  ];
  const unknown = Object.keys(b).filter((k) => !known.includes(k));
  if (unknown.length > 0) return `unknown field(s) ${unknown.join(', ')} (known: ${known.join(', ')})`;
  if (typeof b.status !== 'number' || !Number.isInteger(b.status) || b.status < 200 || b.status > 599)
    return 'status must be an HTTP status from 200 to 599';
  for (const f of ['method', 'path', 'pathPattern', 'keyId'] as const) {
    if (b[f] !== undefined && (typeof b[f] !== 'string' || b[f] === ''))
      return `${f} must be a non-empty string`;
  }
  if (b.path !== undefined && b.pathPattern !== undefined) return 'give path or pathPattern, not both';
  let pattern: RegExp | undefined;
  if (typeof b.pathPattern === 'string') {
    try {
      pattern = new RegExp(b.pathPattern);
    } catch (err) {
      return `pathPattern is not a regular expression: ${(err as Error).message}`;
    }
  }
  const isStringMap = (v: unknown) =>
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string');
  if (b.query !== undefined && !isStringMap(b.query)) return 'query must be an object of strings';
  if (b.headers !== undefined && !isStringMap(b.headers)) return 'headers must be an object of strings';
  if (b.times !== undefined && !(Number.isInteger(b.times) && (b.times as number) >= 1))
    return 'times must be a whole number from 1';
  if (b.durationMs !== undefined && !isPositiveNumber(b.durationMs))
    return 'durationMs must be a positive number of milliseconds';
  if (b.times === undefined && b.durationMs === undefined) return 'give times, durationMs or both';
  return {
    status: b.status,
    ...(b.method !== undefined ? { method: b.method as string } : {}),
    ...(b.path !== undefined ? { path: b.path as string } : {}),
    ...(pattern ? { path: pattern } : {}),
    ...(b.query !== undefined ? { query: b.query as Record<string, string> } : {}),
    ...(b.body !== undefined ? { body: b.body } : {}),
    ...(b.headers !== undefined ? { headers: b.headers as Record<string, string> } : {}),
    ...(b.times !== undefined ? { times: b.times as number } : {}),
    ...(b.durationMs !== undefined ? { durationMs: b.durationMs } : {}),
    ...(b.keyId !== undefined ? { keyId: b.keyId as string } : {}),
  };
}

function ok(body: unknown): Routed {
  return { status: 200, body };
}

function notFound(message: string): SimHttpError {
  return new SimHttpError(404, ALPACA_CODES.notFound, message);
}

function faultBody(status: number): unknown {
  if (status === 429) return { code: ALPACA_CODES.rateLimited, message: 'rate limit exceeded' };
  return { code: status * 100_000, message: `injected fault: HTTP ${status}` };
}

function clampInt(raw: string | null, dflt: number, min: number, max: number): number {
  const n = raw === null ? dflt : Number.parseInt(raw, 10);
  if (!Number.isFinite(n)) return dflt;
  return Math.min(max, Math.max(min, n));
}

/** Keyset pagination over a sorted list: the page token is the (base64) key of the last item returned. */
function paginate<T>(
  sorted: T[],
  key: (t: T) => string,
  q: URLSearchParams,
  dflt: number,
  max: number,
  cap: number | null = null,
): { page: T[]; next: string | null } {
  const limit = Math.min(clampInt(q.get('limit'), dflt, 1, max), cap ?? Infinity);
  const token = q.get('page_token');
  const after = token ? Buffer.from(token, 'base64').toString('utf8') : null;
  const rest = after === null ? sorted : sorted.filter((t) => key(t) > after);
  const page = rest.slice(0, limit);
  const next =
    rest.length > limit ? Buffer.from(key(page[page.length - 1]), 'utf8').toString('base64') : null;
  return { page, next };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts an Alpaca simulator on 127.0.0.1 (an ephemeral port unless `port` is given). Close it with
 * `close()`. See {@link AlpacaSim} for the control API and README.md beside this file for the rules.
 */
export async function startAlpacaSim(opts: AlpacaSimOptions = {}): Promise<AlpacaSim> {
  const sim = new AlpacaSimServer(opts);
  await sim.listen();
  return sim;
}

function newYorkDate(d: Date): string {
  return newYorkClock(d).date;
}
