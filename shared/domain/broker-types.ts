/**
 * What the broker reports, as plain values: orders, positions, the market clock, the account, quotes
 * and chain entries. They live in the domain so that domain rules (close sizing, exit decisions) can read
 * them without importing the ports that fetch them.
 */

/** Broker order, numbers parsed. */
export interface BrokerOrder {
  readonly id: string;
  readonly client_order_id: string;
  readonly symbol: string;
  readonly qty: number;
  readonly filled_qty: number;
  /** Per share; null until something filled. */
  readonly filled_avg_price: number | null;
  readonly side: 'buy' | 'sell';
  readonly type: string;
  readonly position_intent: string | null;
  readonly time_in_force: string;
  readonly limit_price: number | null;
  /** Per share, for `stop` / `stop_limit` (absent or null otherwise). */
  readonly stop_price?: number | null;
  /** new, accepted, pending_new, partially_filled, filled, canceled, expired, rejected, ... */
  readonly status: string;
  readonly created_at: string;
  readonly filled_at: string | null;
  /** `simple` (or absent) for a single-leg order; `mleg` for a multi-leg one (its side reads `""`). */
  readonly order_class?: string;
  /** An mleg order's legs, each an order of its own (fills per leg); absent for a single-leg order. */
  readonly legs?: readonly BrokerOrderLeg[];
}

/** One leg of an mleg order as the broker reports it. */
export interface BrokerOrderLeg {
  readonly id: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  /** Whole contracts per multiple of the parent. */
  readonly ratio_qty: number;
  /** As the broker saw it: specified or inferred per leg. */
  readonly position_intent: string | null;
  readonly qty: number;
  readonly filled_qty: number;
  readonly filled_avg_price: number | null;
  readonly status: string;
}

/** An entry of a broker listing the adapter could not read (e.g. a notional order, `qty: null`). */
export interface UnreadableEntry {
  /** The broker's id of the entry (`(no id)` when it had none). */
  readonly id: string;
  /** Why it could not be read (the bad field), for the alert. */
  readonly why: string;
}

/**
 * A listing that left out what it could not read: one unreadable entry never takes the listing down.
 * `unreadable` is non-enumerable (the array still compares and serialises as the plain list of what was
 * read); read it with {@link unreadableOf}.
 */
export type Listing<T> = T[] & { readonly unreadable?: readonly UnreadableEntry[] };

/** Attaches the entries left out to a listing (non-enumerable, see {@link Listing}). */
export function withUnreadable<T>(list: T[], unreadable: readonly UnreadableEntry[]): Listing<T> {
  Object.defineProperty(list, 'unreadable', { value: unreadable, enumerable: false });
  return list as Listing<T>;
}

/**
 * The entries a listing left out (none for a plain array). The sweep alerts `unreadable_order` for each
 * entry of an order listing, naming its id.
 */
export function unreadableOf(list: readonly unknown[] | null | undefined): readonly UnreadableEntry[] {
  const u = (list as { unreadable?: unknown } | null | undefined)?.unreadable;
  return Array.isArray(u) ? (u as UnreadableEntry[]) : [];
}

/** How many entries an activities listing skipped (types the filter should have excluded). */
export function skippedOf(list: readonly unknown[] | null | undefined): number {
  const n = (list as { skipped?: unknown } | null | undefined)?.skipped;
  return typeof n === 'number' ? n : 0;
}

/** Terminal order statuses: nothing more will fill. */
export const TERMINAL_ORDER_STATUSES: ReadonlySet<string> = new Set([
  'filled',
  'canceled',
  'expired',
  'rejected',
  'done_for_day',
  'replaced',
]);

/** Broker position, normalised: `qty` and `qty_available` are absolute contract counts; `side` gives the sign. */
export interface BrokerPosition {
  readonly symbol: string;
  readonly side: 'long' | 'short';
  readonly qty: number;
  /** Held minus what open orders reserve. */
  readonly qty_available: number;
  readonly avg_entry_price: number;
  readonly asset_class: string;
}

/** The broker's market clock. */
export interface MarketClock {
  readonly isOpen: boolean;
  /** Broker's current time (ISO). */
  readonly timestamp: string;
  readonly nextOpen: string | null;
  readonly nextClose: string | null;
}

/** The trading account, as far as opening decisions need it. */
export interface BrokerAccount {
  readonly status: string;
  readonly tradingBlocked: boolean;
  /** Dollars available for option purchases. */
  readonly optionsBuyingPower: number;
  readonly buyingPower: number;
  /**
   * `options_trading_level` (1 covered calls / cash-secured puts, 2 long calls and puts, 3 spreads); absent
   * or null when the broker did not say (a spread is then refused: the level is not assumed).
   */
  readonly optionsTradingLevel?: number | null;
}

/** Latest quote of one option contract. */
export interface OptionQuote {
  readonly symbol: string;
  /** Per share. */
  readonly bid: number;
  readonly ask: number;
  readonly bidSize: number;
  readonly askSize: number;
  /** When the quote was made (ISO). */
  readonly quoteTime: string;
  readonly lastPrice: number | null;
}

/** One contract of a chain, as contract selection needs it. Prices per share; null when unknown. */
export interface OptionChainEntry {
  readonly symbol: string;
  readonly underlying: string;
  /** `YYYY-MM-DD`. */
  readonly expiry: string;
  readonly type: 'call' | 'put';
  readonly strike: number;
  readonly bid: number | null;
  readonly ask: number | null;
  readonly bidSize: number | null;
  readonly askSize: number | null;
  /** ISO. */
  readonly quoteTime: string | null;
  readonly lastPrice: number | null;
  readonly delta: number | null;
  readonly impliedVolatility: number | null;
  /** Today's volume in contracts (the snapshot's daily bar). */
  readonly volume: number | null;
  /** Only with `includeOpenInterest`. */
  readonly openInterest: number | null;
}

/** The non-trade activity types the pipeline reads: option assignment, exercise, expiry, and fees. */
export const OPTION_ACTIVITY_TYPES = ['OPASN', 'OPEXC', 'OPEXP', 'FEE'] as const;
export type BrokerActivityType = (typeof OPTION_ACTIVITY_TYPES)[number];

/** One non-trade activity (`GET /v2/account/activities`), numbers parsed. */
export interface BrokerActivity {
  /** Alpaca's id (`YYYYMMDDHHMMSSmmm::uuid`). */
  readonly id: string;
  readonly type: BrokerActivityType;
  /** Booking date, `YYYY-MM-DD`. */
  readonly date: string;
  /** The option contract (OPASN/OPEXC/OPEXP; FEE when it names one); null when absent. */
  readonly symbol: string | null;
  /**
   * Signed as Alpaca reports it: the change of the option position (an assigned or expired short of 2
   * reads +2, an exercised or expired long of 2 reads -2); 0 when absent.
   */
  readonly qty: number;
  /** Dollars, signed (a fee is negative). */
  readonly net_amount: number;
}
