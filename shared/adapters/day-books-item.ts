/**
 * The day item `DAYPNL#<trading day>` of an account's partition (docs/BOOKS.md, "The day"): what
 * the store writes on it and how it reads it back. Per position its ABSOLUTE figures of the day in cents
 * (`day_pnl#<position_id>`, `realized#<position_id>`), set (never added) by each write that books something
 * new on the record's ledger, so a repeat is harmless and no id guard is needed; per contract its start-of-day
 * mark (`start_mark#<option_symbol>` = { bid, ask }), set once (`if_not_exists`). Top-level attributes rather
 * than maps: a nested SET fails on an item with no map yet (one of the older format, or none). Items written
 * before hold `realized_cents` (a sum) and `position_ids` (the ids it counted).
 */
import { emptyDayBooks, tradingDay, type DayBooks, type StartMark } from '../domain/daily-loss';
import { dayPnlOfPosition, realizedByDay } from '../domain/day-books';
import type { PositionLedger } from '../domain/ledger-events';
import type { Position } from '../domain/position';
import { ledgerOf } from '../domain/position-books';

const DAY_PNL_ATTR = 'day_pnl#';
const REALIZED_ATTR = 'realized#';
const START_MARK_ATTR = 'start_mark#';

/** The attribute of a contract's start mark. */
export const startMarkAttr = (symbol: string): string => `${START_MARK_ATTR}${symbol}`;

/** A stored start mark, or null when the attribute is not one. */
export function startMarkFrom(v: unknown): StartMark | null {
  if (v === null || typeof v !== 'object') return null;
  const { bid, ask } = v as { bid?: unknown; ask?: unknown };
  return typeof bid === 'number' && typeof ask === 'number' ? { bid, ask } : null;
}

/** The books of `day` from its item as read (undefined: no item, nothing booked). */
export function dayBooksFromItem(day: string, item: Record<string, unknown> | undefined): DayBooks {
  if (!item) return emptyDayBooks(day);
  const dayPnl = new Map<string, number>();
  const realized = new Map<string, number>();
  const startMarks = new Map<string, StartMark>();
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(DAY_PNL_ATTR) && typeof value === 'number') {
      dayPnl.set(name.slice(DAY_PNL_ATTR.length), value);
    } else if (name.startsWith(REALIZED_ATTR) && typeof value === 'number') {
      realized.set(name.slice(REALIZED_ATTR.length), value);
    } else if (name.startsWith(START_MARK_ATTR)) {
      const mark = startMarkFrom(value);
      if (mark) startMarks.set(name.slice(START_MARK_ATTR.length), mark);
    }
  }
  const ids = item.position_ids;
  return {
    day,
    day_pnl: dayPnl,
    realized,
    start_marks: startMarks,
    legacy_cents: typeof item.realized_cents === 'number' ? item.realized_cents : 0,
    legacy_ids: new Set(ids instanceof Set ? [...(ids as Set<string>)].map(String) : []),
  };
}

/** One position's figures of one trading day, cents. */
export interface DayFigure {
  readonly day: string;
  readonly day_pnl_cents: number;
  readonly realized_cents: number;
}

/** The trading days of the parts (fills, option events, fees) `after` holds and `before` does not. */
function newPartDays(before: PositionLedger, after: PositionLedger): Set<string> {
  const key = (kind: string, id: string, part: unknown) => `${kind}|${id}|${JSON.stringify(part)}`;
  const known = new Set<string>();
  for (const o of before.orders) for (const f of o.fills) known.add(key('f', o.client_order_id, f));
  for (const e of before.events) known.add(key('e', e.activity_id, e));
  for (const f of before.fees) known.add(key('c', f.activity_id, f));
  const days = new Set<string>();
  for (const o of after.orders) {
    for (const f of o.fills) if (!known.has(key('f', o.client_order_id, f))) days.add(f.day);
  }
  for (const e of after.events) if (!known.has(key('e', e.activity_id, e))) days.add(e.day);
  for (const f of after.fees) if (!known.has(key('c', f.activity_id, f))) days.add(f.day);
  return days;
}

/**
 * The figures a replace of `prev` by `next` sets: one per trading day that `next` books something new on (a
 * part of its ledger `prev` lacks; an event read on Saturday and dated Friday is Friday's) and, when the
 * record closes, today's (the trading day of `next.updated_at`); none when its ledger holds nothing (an open
 * that never filled). The day P&L is `dayPnlOfPosition` at the day's start mark
 * (`startMarkOf`, asked only for a day the position was held into) and without a mark now: exact once the
 * position holds nothing (closed), and skipped by readers while it is live (its ledger is read instead). An
 * earlier day without a start mark keeps the realized figure.
 */
export async function dayFiguresOf(
  prev: Position,
  next: Position,
  startMarkOf: (day: string) => Promise<number | null>,
): Promise<DayFigure[]> {
  const after = ledgerOf(next);
  const closing = prev.state !== 'closed' && next.state === 'closed';
  const newDays = newPartDays(ledgerOf(prev), after);
  if (!closing && newDays.size === 0) return [];
  const booksSomething =
    after.orders.some((o) => o.fills.length > 0) || after.events.length > 0 || after.fees.length > 0;
  if (!booksSomething) return [];
  const at = Date.parse(next.updated_at);
  const today = tradingDay(Number.isFinite(at) ? new Date(at) : new Date());
  const realized = realizedByDay(after, next.side);
  const out: DayFigure[] = [];
  for (const day of [...new Set([...newDays, ...(closing ? [today] : [])])].sort()) {
    const held = dayPnlOfPosition(after, next.side, day, { startMark: null, mark: null });
    const start = held.held_at_start !== 0 ? await startMarkOf(day) : null;
    const dayPnl =
      day === today || start !== null
        ? dayPnlOfPosition(after, next.side, day, { startMark: start, mark: null }).day_pnl_cents
        : (realized.get(day) ?? 0);
    out.push({ day, day_pnl_cents: dayPnl, realized_cents: realized.get(day) ?? 0 });
  }
  return out;
}

/** The UpdateItem expression that sets one position's figures of a day. */
export function dayFigureUpdate(positionId: string, f: DayFigure, nowIso: string) {
  return {
    UpdateExpression: 'SET #d = :d, #r = :r, updated_at = :now',
    ExpressionAttributeNames: {
      '#d': `${DAY_PNL_ATTR}${positionId}`,
      '#r': `${REALIZED_ATTR}${positionId}`,
    },
    ExpressionAttributeValues: { ':d': f.day_pnl_cents, ':r': f.realized_cents, ':now': nowIso },
  };
}

/**
 * Start marks per UpdateItem: DynamoDB caps an update expression at 4 KB (about 35 bytes a mark here), so
 * the first sweep of a day holding more contracts than this writes more than once.
 */
export const START_MARKS_PER_WRITE = 40;

/** The UpdateItem expressions that record start marks where none is recorded yet. */
export function startMarksUpdates(marks: ReadonlyMap<string, StartMark>) {
  const all = [...marks];
  const out: ReturnType<typeof startMarksUpdate>[] = [];
  for (let i = 0; i < all.length; i += START_MARKS_PER_WRITE) {
    out.push(startMarksUpdate(all.slice(i, i + START_MARKS_PER_WRITE)));
  }
  return out;
}

function startMarksUpdate(marks: ReadonlyArray<readonly [string, StartMark]>) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  marks.forEach(([symbol, mark], i) => {
    names[`#m${i}`] = startMarkAttr(symbol);
    values[`:m${i}`] = { bid: mark.bid, ask: mark.ask };
    sets.push(`#m${i} = if_not_exists(#m${i}, :m${i})`);
  });
  return {
    UpdateExpression: `SET ${sets.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}
