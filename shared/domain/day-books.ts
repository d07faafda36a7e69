/**
 * The books of a New York trading day, from the ledgers: what each part (fill, option event, fee)
 * realized on the trading day it belongs to, and the day's P&L marked to market: the day's cash (fills,
 * events, fees) plus the change of what is held, from its mark at the start of the day (recorded by the
 * day's first sweep) to its mark now. A fill of Monday never counts on Tuesday; a contract held overnight
 * counts on Tuesday only by what its mark moved on Tuesday. Pure; money in integer cents.
 */
import { CONTRACT_MULTIPLIER, type PositionLedger } from './ledger-events';
import { costShare, projectLedger } from './ledger-projection';
import { notionalCents } from './money';
import type { PositionSide } from './position';

/** Marks per share a position's day is valued at. */
export interface DayMarks {
  /**
   * The option's mark at the start of the trading day, as the day's first sweep recorded it; null when
   * none was recorded (the average entry stands in, and the result says `start_mark_missing`).
   */
  readonly startMark: number | null;
  /** The option's mark now (the executable side); null when no usable quote (the result says `unpriced`). */
  readonly mark: number | null;
  /** The underlying's price at the start of the day, for delivered shares (default: their cost). */
  readonly shareStartMark?: number | null;
  /** The underlying's price now, for delivered shares (default: their cost). */
  readonly shareMark?: number | null;
}

/** One position's trading day. */
export interface PositionDayPnl {
  readonly day: string;
  /** What the day's parts realized at average cost (option leg and shares), less the day's fees. */
  readonly realized_cents: number;
  /** The day's cash: fills, the option events' values, delivered shares' cost, fees (signed). */
  readonly cash_cents: number;
  /** Contracts held at the start of the day and at its end (parts of later days left out). */
  readonly held_at_start: number;
  readonly held_at_end: number;
  /** What was held was worth at the start of the day and is worth now (signed: a short is a liability). */
  readonly start_value_cents: number;
  readonly end_value_cents: number;
  /** cash + end value − start value. */
  readonly day_pnl_cents: number;
  /** Contracts were held and no usable mark was given: valued without a move. */
  readonly unpriced: boolean;
  /** Contracts were held at the start and no start mark was recorded: the average entry stood in. */
  readonly start_mark_missing: boolean;
}

/** Cents realized per trading day (parts and fees of that day), every day the ledger touches. */
export function realizedByDay(ledger: PositionLedger, side: PositionSide): ReadonlyMap<string, number> {
  const days = new Map<string, number>();
  const add = (day: string, cents: number) => days.set(day, (days.get(day) ?? 0) + cents);
  const proj = projectLedger(ledger, side);
  for (const r of proj.reducing) add(r.day, r.realized_cents);
  for (const s of shareSales(ledger)) add(s.day, s.realized_cents);
  for (const f of ledger.fees) add(f.day, -f.cents);
  return days;
}

/** The delivered shares' sales (or buy-backs), each with what it realized against the shares' cost. */
function shareSales(ledger: PositionLedger): Array<{ day: string; realized_cents: number }> {
  const delivered = ledger.events.filter((e) => e.shares !== 0);
  const shares = delivered.reduce((n, e) => n + e.shares, 0);
  const cost = Math.abs(delivered.reduce((n, e) => n + e.share_cost_cents, 0));
  const sign = Math.sign(shares) || 1;
  const fills = ledger.orders
    .filter((o) => o.role === 'share_flatten')
    .flatMap((o) => o.fills.map((f) => ({ ...f, reduces: (o.side === 'sell') === sign > 0 })))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.source < b.source ? -1 : 1));
  let out = 0;
  return fills.map((f) => {
    const q = f.reduces ? f.qty : -f.qty;
    const c = costShare(cost, Math.abs(shares), out + q) - costShare(cost, Math.abs(shares), out);
    out += q;
    return {
      day: f.day,
      realized_cents: sign * ((f.reduces ? f.notional_cents : -f.notional_cents) - c) + 0,
    };
  });
}

/** The option leg's quantities and cash around day `day`. */
function optionLegOfDay(ledger: PositionLedger, sign: number, day: string) {
  let before = 0;
  let upTo = 0;
  let cash = 0;
  let openedBefore = 0;
  let entryBefore = 0;
  let openedToday = 0;
  let openToday = 0;
  const part = (qty: number, cents: number, partDay: string, opening: boolean) => {
    const signedQty = opening ? qty : -qty;
    if (partDay < day) before += signedQty;
    if (partDay <= day) upTo += signedQty;
    if (partDay === day) cash += opening ? -sign * cents : sign * cents;
    if (opening && partDay < day) [openedBefore, entryBefore] = [openedBefore + qty, entryBefore + cents];
    if (opening && partDay === day) [openedToday, openToday] = [openedToday + qty, openToday + cents];
  };
  for (const o of ledger.orders) {
    if (o.role === 'share_flatten') continue;
    for (const f of o.fills) part(f.qty, f.notional_cents, f.day, o.role === 'open');
  }
  for (const e of ledger.events) part(e.contracts, e.value_cents, e.day, false);
  const avg = (cents: number, qty: number) => (qty > 0 ? cents / (qty * CONTRACT_MULTIPLIER * 100) : 0);
  return {
    before,
    upTo,
    cash,
    entryAvg: avg(entryBefore + openToday, openedBefore + openedToday),
    todayAvg: openedToday > 0 ? avg(openToday, openedToday) : null,
  };
}

/** The delivered shares' quantities and cash around day `day`, and their average cost a share. */
function sharesOfDay(ledger: PositionLedger, day: string) {
  let before = 0;
  let upTo = 0;
  let cash = 0;
  let delivered = 0;
  let cost = 0;
  for (const e of ledger.events) {
    if (e.shares === 0) continue;
    if (e.day < day) before += e.shares;
    if (e.day <= day)
      [upTo, delivered, cost] = [upTo + e.shares, delivered + e.shares, cost + e.share_cost_cents];
    if (e.day === day) cash -= e.share_cost_cents;
  }
  for (const o of ledger.orders) {
    if (o.role !== 'share_flatten') continue;
    for (const f of o.fills) {
      const signed = o.side === 'sell' ? -f.qty : f.qty;
      if (f.day < day) before += signed;
      if (f.day <= day) upTo += signed;
      if (f.day === day) cash += o.side === 'sell' ? f.notional_cents : -f.notional_cents;
    }
  }
  return { before, upTo, cash, costAvg: delivered !== 0 ? cost / delivered / 100 : 0 };
}

/**
 * One position's P&L on trading day `day`, marked to market (see the module comment). Parts dated after
 * `day` are left out, so a past day can be recomputed (at the marks given for it).
 */
export function dayPnlOfPosition(
  ledger: PositionLedger,
  side: PositionSide,
  day: string,
  marks: DayMarks,
): PositionDayPnl {
  const sign = side === 'long' ? 1 : -1;
  const leg = optionLegOfDay(ledger, sign, day);
  const startMissing = leg.before !== 0 && marks.startMark === null;
  const start = marks.startMark ?? leg.entryAvg;
  const unpriced = leg.upTo !== 0 && marks.mark === null;
  // Without a mark, what is held is valued without a move: carried contracts at the start mark, the
  // day's new ones at what they cost.
  const carried = Math.min(leg.upTo, Math.max(leg.before, 0));
  const endValue = unpriced
    ? sign *
      (notionalCents(carried, start, CONTRACT_MULTIPLIER) +
        notionalCents(leg.upTo - carried, leg.todayAvg ?? start, CONTRACT_MULTIPLIER))
    : sign * notionalCents(leg.upTo, marks.mark ?? 0, CONTRACT_MULTIPLIER);
  const startValue = sign * notionalCents(leg.before, start, CONTRACT_MULTIPLIER);

  const sh = sharesOfDay(ledger, day);
  const shareStart = notionalCents(sh.before, marks.shareStartMark ?? sh.costAvg, 1);
  const shareEnd = notionalCents(sh.upTo, marks.shareMark ?? sh.costAvg, 1);

  const fees = ledger.fees.filter((f) => f.day === day).reduce((n, f) => n + f.cents, 0);
  const cash = leg.cash + sh.cash - fees;
  const startValueCents = startValue + shareStart;
  const endValueCents = endValue + shareEnd;
  return {
    day,
    realized_cents: realizedByDay(ledger, side).get(day) ?? 0,
    cash_cents: cash + 0,
    held_at_start: leg.before,
    held_at_end: leg.upTo,
    start_value_cents: startValueCents + 0,
    end_value_cents: endValueCents + 0,
    day_pnl_cents: cash + endValueCents - startValueCents + 0,
    unpriced,
    start_mark_missing: startMissing,
  };
}

/** A position as the account's day reads it. */
export interface DayBookEntry {
  readonly position_id: string;
  readonly ledger: PositionLedger;
  readonly side: PositionSide;
  readonly marks: DayMarks;
}

/** The account's trading day: the sum of its positions' days. */
export interface AccountDayPnl {
  readonly day: string;
  readonly realized_cents: number;
  readonly day_pnl_cents: number;
  /** Positions valued without a usable mark. */
  readonly unpriced: number;
  /** Positions held overnight without a recorded start mark. */
  readonly start_marks_missing: number;
  readonly positions: readonly (PositionDayPnl & { readonly position_id: string })[];
}

/**
 * The account's P&L on trading day `day`: every position that touched the day (closed ones included,
 * from their ledgers), so the breaker, the `day_pnl` metric and the report read the same figure.
 */
export function accountDayPnl(day: string, entries: readonly DayBookEntry[]): AccountDayPnl {
  const positions = entries.map((e) => ({
    position_id: e.position_id,
    ...dayPnlOfPosition(e.ledger, e.side, day, e.marks),
  }));
  return {
    day,
    realized_cents: positions.reduce((n, p) => n + p.realized_cents, 0),
    day_pnl_cents: positions.reduce((n, p) => n + p.day_pnl_cents, 0),
    unpriced: positions.filter((p) => p.unpriced).length,
    start_marks_missing: positions.filter((p) => p.start_mark_missing).length,
    positions,
  };
}
