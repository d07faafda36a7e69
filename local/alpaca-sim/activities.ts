/**
 * The simulator's non-trade activities (`GET /v2/account/activities[/{type}]`) and the option events that
 * write them: assignment (OPASN), exercise (OPEXC), expiry (OPEXP), with the share trade they deliver
 * (OPTRD) and fees (FEE). Shapes follow Alpaca's "Non-Trade Activities for Option Events" page: the option
 * activity's `qty` is the change of the option position (an assigned short of 2 reads `"2"`, an exercised
 * long of 2 reads `"-2"`), `net_amount` `"0"`; the OPTRD line carries the underlying's shares at the strike.
 */
import { newYorkClock, nyDateTime } from './clock';
import { coreClose } from './calendar';
import { cents, type SimMarket } from './market';
import { parseOcc } from './occ';
import { ALPACA_CODES, SimHttpError, invalid } from './order-terms';
import { endOrder, isOpenOrder, type SimAccount } from './engine';
import type { SimActivity } from './activity-types';

export type { SimActivity, SimActivityType } from './activity-types';

const KNOWN_TYPES = new Set<string>(['OPASN', 'OPEXC', 'OPEXP', 'OPTRD', 'FEE']);
/** Every non-trade type Alpaca documents (a filter naming another one is valid and simply matches nothing). */
const DOCUMENTED_TYPES = new Set<string>([
  ...KNOWN_TYPES,
  ...'FILL TRANS MISC ACATC ACATS CFEE CGD CSD CSW DIV DIVCGL DIVCGS DIVFEE DIVFT DIVNRA DIVROC DIVTW DIVTXEX INT INTNRA INTTW JNL JNLC JNLS MA NC OPCA OPCSH PTC PTR REORG SPIN SPLIT FOPT'.split(
    ' ',
  ),
]);

let seq = 0;

/** Writes an activity on the account. */
export function addActivity(
  account: SimAccount,
  now: Date,
  a: Pick<SimActivity, 'type' | 'symbol' | 'qty' | 'netAmount' | 'description'> & {
    price?: number | null;
    subType?: string;
  },
): SimActivity {
  const at = now.toISOString();
  const stamp = at.replace(/[-:TZ.]/g, '').slice(0, 17);
  const activity: SimActivity = {
    id: `${stamp}::${crypto.randomUUID()}`,
    date: newYorkClock(now).date,
    at,
    seq: ++seq,
    ...a,
    price: a.price ?? null,
  };
  account.activities.push(activity);
  return activity;
}

/** An activity in Alpaca's REST shape (numbers as strings). */
export function activityJson(a: SimActivity): Record<string, unknown> {
  return {
    id: a.id,
    activity_type: a.type,
    date: a.date,
    created_at: a.at,
    net_amount: String(cents(a.netAmount)),
    description: a.description,
    symbol: a.symbol,
    qty: String(a.qty),
    ...(a.price === null ? {} : { price: String(a.price) }),
    ...(a.subType === undefined ? {} : { activity_sub_type: a.subType }),
    status: 'executed',
  };
}

/** Parses `after`/`until`/`date`: a `YYYY-MM-DD` date compares with the booking date, else an instant. */
function bound(raw: string | null, name: string): { date: string } | { at: string } | null {
  if (raw === null || raw === '') return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) return { date: raw };
  const t = Date.parse(raw);
  if (!Number.isFinite(t)) throw invalid(`invalid ${name}: ${raw}`);
  return { at: new Date(t).toISOString() };
}

/**
 * `GET /v2/account/activities` (`activity_types`, `category`) or `/v2/account/activities/{type}`: `date`,
 * `after`, `until` (exclusive), `direction` (`desc` by default), `page_size` (≤ 100, default 100) and
 * `page_token` (the id of the last activity of the previous page).
 */
export function listActivities(
  account: SimAccount,
  q: URLSearchParams,
  pathType?: string,
  now?: Date,
): unknown[] {
  const nowIso = now?.toISOString();
  const types = pathType ? [pathType] : (q.get('activity_types')?.split(',').filter(Boolean) ?? null);
  for (const t of types ?? []) if (!DOCUMENTED_TYPES.has(t)) throw invalid(`invalid activity type: ${t}`);
  const category = q.get('category');
  if (category && category !== 'trade_activity' && category !== 'non_trade_activity') {
    throw invalid(`invalid category: ${category}`);
  }
  if (category && types) throw invalid('category cannot be used with activity_types');
  const direction = q.get('direction') ?? 'desc';
  if (direction !== 'asc' && direction !== 'desc') throw invalid(`invalid direction: ${direction}`);
  const sizeRaw = q.get('page_size');
  const size = sizeRaw === null ? 100 : Number(sizeRaw);
  if (!Number.isInteger(size) || size < 1 || size > 100) throw invalid('page_size must be 1 to 100');
  const date = q.get('date');
  const after = bound(q.get('after'), 'after');
  const until = bound(q.get('until'), 'until');
  const past = (a: SimActivity, b: { date: string } | { at: string }) =>
    'date' in b ? a.date > b.date : a.at > b.at;
  const before = (a: SimActivity, b: { date: string } | { at: string }) =>
    'date' in b ? a.date < b.date : a.at < b.at;
  let list = account.activities.filter(
    (a) =>
      (a.visibleAt === undefined || nowIso === undefined || a.visibleAt <= nowIso) &&
      (!types || types.includes(a.type)) &&
      category !== 'trade_activity' &&
      (!date || a.date === date.slice(0, 10)) &&
      (!after || past(a, after)) &&
      (!until || before(a, until)),
  );
  list.sort((x, y) => x.seq - y.seq);
  if (direction === 'desc') list.reverse();
  const token = q.get('page_token');
  if (token) {
    const i = list.findIndex((a) => a.id === token);
    list = i < 0 ? [] : list.slice(i + 1);
  }
  return list.slice(0, size).map(activityJson);
}

/** Moves cash and the underlying's share position for `shares` (signed) traded at `price`. */
function tradeShares(account: SimAccount, symbol: string, shares: number, price: number): void {
  const pos = account.positions.get(symbol);
  const held = pos?.qty ?? 0;
  const next = held + shares;
  if (next === 0) account.positions.delete(symbol);
  else if (held === 0 || Math.sign(held) === Math.sign(shares)) {
    const avg = (Math.abs(held) * (pos?.avgPrice ?? 0) + Math.abs(shares) * price) / Math.abs(next);
    account.positions.set(symbol, { symbol, qty: next, avgPrice: avg });
  } else if (Math.sign(next) === Math.sign(held)) pos!.qty = next;
  else account.positions.set(symbol, { symbol, qty: next, avgPrice: price });
  account.cash = cents(account.cash - shares * price);
}

/** How an option position ends outside trading. */
export type OptionEvent = 'assign' | 'exercise' | 'expire';

/**
 * Ends `qty` contracts (default: all) of an option position by assignment (a short), exercise (a long) or
 * expiry (either). Assignment and exercise deliver 100 shares a contract at the strike: a call buys them
 * for its holder and sells them for its writer, a put the reverse (so an assigned short put is long
 * shares, an assigned short call short shares). Writes the activities; a `fee` adds a FEE activity.
 */
export function optionEvent(
  account: SimAccount,
  symbol: string,
  event: OptionEvent,
  now: Date,
  opts: { qty?: number; fee?: number } = {},
): void {
  const occ = parseOcc(symbol);
  const pos = account.positions.get(symbol);
  if (!occ || !pos) throw new SimHttpError(404, ALPACA_CODES.notFound, `no option position in ${symbol}`);
  const held = Math.abs(pos.qty);
  const qty = opts.qty ?? held;
  if (!Number.isInteger(qty) || qty < 1 || qty > held) {
    throw new Error(`${event} ${symbol}: qty ${qty} must be a whole number from 1 to ${held}`);
  }
  const long = pos.qty > 0;
  if (event === 'assign' && long) throw new Error(`assign ${symbol}: only a short is assigned`);
  if (event === 'exercise' && !long) throw new Error(`exercise ${symbol}: only a long is exercised`);
  const change = long ? -qty : qty;
  if (held === qty) account.positions.delete(symbol);
  else pos.qty += change;
  const types = { assign: 'OPASN', exercise: 'OPEXC', expire: 'OPEXP' } as const;
  const text = { assign: 'Option Assignment', exercise: 'Option Exercise', expire: 'Option Expiry' };
  addActivity(account, now, {
    type: types[event],
    symbol,
    qty: change,
    netAmount: 0,
    description: text[event],
  });
  if (event !== 'expire') {
    // Shares bought (+) or sold (-) at the strike: the holder of a call buys, the holder of a put sells.
    const holderBuys = occ.type === 'call';
    const shares = 100 * qty * (long === holderBuys ? 1 : -1);
    tradeShares(account, occ.underlying, shares, occ.strike);
    addActivity(account, now, {
      type: 'OPTRD',
      symbol: occ.underlying,
      qty: shares,
      netAmount: -shares * occ.strike,
      price: occ.strike,
      description: 'Option Trade',
    });
  }
  if (opts.fee && opts.fee > 0) {
    account.cash = cents(account.cash - opts.fee);
    addActivity(account, now, { type: 'FEE', symbol, qty: 0, netAmount: -opts.fee, description: 'Fee' });
  }
  // Orders resting on a contract that is gone end with it (sim: expired on expiry, else canceled).
  if (!account.positions.has(symbol)) {
    const status = event === 'expire' ? 'expired' : 'canceled';
    for (const o of account.orders) {
      // An mleg order ends with it when it closes that contract (its hold is gone).
      const onIt = o.mleg
        ? o.mleg.legs.some((l) => l.symbol === symbol && l.positionIntent.endsWith('_to_close'))
        : o.symbol === symbol;
      if (onIt && isOpenOrder(o)) endOrder(o, status, now);
    }
  }
}

/** The instant of the close of a contract's expiry day (13:00 on an early close, else 16:00 New York). */
export function expiryCloseMs(expiry: string): number {
  return Date.parse(nyDateTime(expiry, coreClose(expiry)));
}

/** Contracts with a do-not-exercise instruction, per account (`exercise.ts` records them). */
const doNotExercise = new WeakMap<SimAccount, Set<string>>();

/** Records a do-not-exercise instruction: {@link expireOption} then expires the long (OPEXP). */
export function markDoNotExercise(account: SimAccount, symbol: string): void {
  const set = doNotExercise.get(account) ?? new Set<string>();
  set.add(symbol);
  doNotExercise.set(account, set);
}

/**
 * The OCC's expiry processing of one option position: $0.01 or more in the money (against the
 * underlying's last price, `setStockPrice`) is exercised (a long) or assigned (a short); anything else
 * (out of the money, at the money, or no underlying price known) expires worthless (OPEXP), and so does a
 * long with a do-not-exercise instruction ({@link markDoNotExercise}), in the money or not.
 */
export function expireOption(
  account: SimAccount,
  market: SimMarket,
  symbol: string,
  at: Date,
  opts: { qty?: number; fee?: number } = {},
): OptionEvent {
  const occ = parseOcc(symbol);
  const held = account.positions.get(symbol)?.qty ?? 0;
  const spot = occ ? market.stockPrices.get(occ.underlying)?.price : undefined;
  const itm =
    occ && spot !== undefined ? cents(occ.type === 'call' ? spot - occ.strike : occ.strike - spot) : 0;
  const dne = held > 0 && (doNotExercise.get(account)?.has(symbol) ?? false);
  const event: OptionEvent = itm >= 0.01 && !dne ? (held > 0 ? 'exercise' : 'assign') : 'expire';
  optionEvent(account, symbol, event, at, opts);
  if (!account.positions.has(symbol)) doNotExercise.get(account)?.delete(symbol);
  return event;
}

/**
 * Expiry processing ({@link expireOption}) of every option position whose expiry day's close has passed
 * at `now`, booked at that close; with `closingDay` (the close of that New York day is happening now),
 * every position expiring that day or earlier. Returns the symbols processed.
 */
export function settleExpiries(
  account: SimAccount,
  market: SimMarket,
  now: Date,
  closingDay?: string,
): string[] {
  const done: string[] = [];
  for (const p of [...account.positions.values()]) {
    const occ = parseOcc(p.symbol);
    if (!occ) continue;
    const close = expiryCloseMs(occ.expiry);
    if (closingDay === undefined ? now.getTime() < close : occ.expiry > closingDay) continue;
    expireOption(account, market, p.symbol, new Date(Math.min(close, now.getTime())));
    done.push(p.symbol);
  }
  return done;
}
