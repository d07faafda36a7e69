/**
 * The books' invariants, as pure checks the reliability soak (and any test) runs at rest: each record's
 * ledger quantity equals what the broker holds for it; realized P&L equals its fills less fees, to the
 * cent; the day's P&L equals that day's fills plus the marks' change; applying any broker report a second
 * time changes nothing. Each check recomputes its figure another way than the code it checks.
 */
import { realizedByDay, type DayMarks } from './day-books';
import type { LedgerApplication, PositionLedger } from './ledger-events';
import { CONTRACT_MULTIPLIER } from './ledger-events';
import { costShare, projectLedger } from './ledger-projection';
import { notionalCents } from './money';
import type { PositionSide } from './position';

export type AccountingInvariant =
  'holding_matches_broker' | 'realized_equals_fills' | 'day_pnl_equals_fills_and_marks' | 'report_idempotent';

/** One broken invariant, with what it saw. */
export interface AccountingViolation {
  readonly invariant: AccountingInvariant;
  readonly subject: string;
  readonly detail: string;
}

/** A record as the checks read it. */
export interface LedgerRecord {
  readonly position_id: string;
  readonly side: PositionSide;
  readonly ledger: PositionLedger;
}

const violation = (invariant: AccountingInvariant, subject: string, detail: string): AccountingViolation => ({
  invariant,
  subject,
  detail,
});

/**
 * At rest, the contracts the broker holds of `symbol` on `side` equal the sum of what the records'
 * ledgers leave held (counted here from the raw fills: opening fills less exit, stop and event parts).
 */
export function checkHoldingMatchesBroker(
  symbol: string,
  side: PositionSide,
  records: readonly LedgerRecord[],
  brokerQty: number,
): AccountingViolation[] {
  let expected = 0;
  for (const r of records) {
    if (r.side !== side || r.ledger.option_symbol !== symbol) continue;
    for (const o of r.ledger.orders) {
      if (o.role === 'share_flatten') continue;
      const q = o.fills.reduce((n, f) => n + f.qty, 0);
      expected += o.role === 'open' ? q : -q;
    }
    for (const e of r.ledger.events) expected -= e.contracts;
  }
  return expected === brokerQty
    ? []
    : [
        violation(
          'holding_matches_broker',
          `${symbol}:${side}`,
          `records' ledgers hold ${expected}, the broker ${brokerQty}`,
        ),
      ];
}

/** Every money figure of the ledger is a whole number of cents. */
function nonIntegerCents(ledger: PositionLedger): string[] {
  const bad: string[] = [];
  for (const o of ledger.orders) {
    for (const f of o.fills)
      if (!Number.isInteger(f.notional_cents)) bad.push(`${o.client_order_id}:${f.source}`);
    if (!Number.isInteger(o.filled_cents)) bad.push(o.client_order_id);
  }
  for (const e of ledger.events) {
    if (!Number.isInteger(e.value_cents) || !Number.isInteger(e.share_cost_cents)) bad.push(e.activity_id);
  }
  for (const f of ledger.fees) if (!Number.isInteger(f.cents)) bad.push(f.activity_id);
  return bad;
}

/**
 * Realized P&L equals the sum of the fills less fees, to the cent: the per-day parts add up to the
 * projection's total; a flat position realized exactly its exits less its entries (option events at
 * their value, delivered shares' sales less their cost) less fees; every figure is whole cents; and,
 * when given, the record's stored figure equals the ledger's.
 */
export function checkRealizedEqualsFills(
  r: LedgerRecord,
  storedRealizedCents?: number,
): AccountingViolation[] {
  const out: AccountingViolation[] = [];
  const bad = nonIntegerCents(r.ledger);
  if (bad.length)
    out.push(violation('realized_equals_fills', r.position_id, `not whole cents: ${bad.join(', ')}`));
  const proj = projectLedger(r.ledger, r.side);
  const byDay = [...realizedByDay(r.ledger, r.side).values()].reduce((n, c) => n + c, 0);
  if (byDay !== proj.realized_cents) {
    out.push(
      violation('realized_equals_fills', r.position_id, `days add to ${byDay}, total ${proj.realized_cents}`),
    );
  }
  if (proj.flat) {
    const sign = r.side === 'long' ? 1 : -1;
    let option = 0;
    let shares = 0;
    for (const o of r.ledger.orders) {
      const cents = o.fills.reduce((n, f) => n + f.notional_cents, 0);
      if (o.role === 'share_flatten') shares += o.side === 'sell' ? cents : -cents;
      else option += o.role === 'open' ? -sign * cents : sign * cents;
    }
    for (const e of r.ledger.events) {
      option += sign * e.value_cents;
      shares -= e.share_cost_cents;
    }
    const fees = r.ledger.fees.reduce((n, f) => n + f.cents, 0);
    const exact = option + shares - fees;
    if (exact !== proj.realized_cents) {
      out.push(
        violation(
          'realized_equals_fills',
          r.position_id,
          `flat: fills say ${exact}, books ${proj.realized_cents}`,
        ),
      );
    }
  }
  if (storedRealizedCents !== undefined && storedRealizedCents !== proj.realized_cents) {
    out.push(
      violation(
        'realized_equals_fills',
        r.position_id,
        `record says ${storedRealizedCents}, ledger ${proj.realized_cents}`,
      ),
    );
  }
  return out;
}

/**
 * Unrealized cents of what is held up to `day` (inclusive) or before it, at the marks: its value less
 * what it cost (the opening fills so far less the cost share the closes so far carried, at the ledger's
 * average; delivered shares likewise).
 */
function unrealizedAt(r: LedgerRecord, day: string, inclusive: boolean, mark: number, shareMark: number) {
  const within = (d: string) => (inclusive ? d <= day : d < day);
  const sign = r.side === 'long' ? 1 : -1;
  let opened = 0;
  let entryCents = 0;
  let openedWithin = 0;
  let openCentsWithin = 0;
  let closedWithin = 0;
  for (const o of r.ledger.orders) {
    if (o.role === 'share_flatten') continue;
    for (const f of o.fills) {
      if (o.role === 'open') [opened, entryCents] = [opened + f.qty, entryCents + f.notional_cents];
      if (!within(f.day)) continue;
      if (o.role === 'open')
        [openedWithin, openCentsWithin] = [openedWithin + f.qty, openCentsWithin + f.notional_cents];
      else closedWithin += f.qty;
    }
  }
  for (const e of r.ledger.events) if (within(e.day)) closedWithin += e.contracts;
  const held = openedWithin - closedWithin;
  const costHeld = openCentsWithin - costShare(entryCents, opened, closedWithin);
  const option = sign * (notionalCents(held, mark, CONTRACT_MULTIPLIER) - costHeld);

  let deliveredShares = 0;
  let deliveredCost = 0;
  let sharesWithin = 0;
  let costWithin = 0;
  for (const e of r.ledger.events) {
    if (e.shares === 0) continue;
    [deliveredShares, deliveredCost] = [deliveredShares + e.shares, deliveredCost + e.share_cost_cents];
    if (within(e.day))
      [sharesWithin, costWithin] = [sharesWithin + e.shares, costWithin + e.share_cost_cents];
  }
  const shareSign = Math.sign(deliveredShares) || 1;
  let reducedWithin = 0;
  for (const o of r.ledger.orders) {
    if (o.role !== 'share_flatten') continue;
    const reduces = (o.side === 'sell') === shareSign > 0;
    for (const f of o.fills) if (within(f.day)) reducedWithin += reduces ? f.qty : -f.qty;
  }
  const sharesHeld = sharesWithin - shareSign * reducedWithin;
  const shareCostHeld =
    costWithin - shareSign * costShare(Math.abs(deliveredCost), Math.abs(deliveredShares), reducedWithin);
  return option + notionalCents(sharesHeld, shareMark, 1) - shareCostHeld;
}

/**
 * The day's P&L a caller reported (the breaker's, the metric's) equals that day's realized parts plus the
 * change of unrealized P&L from the start-of-day marks to the marks now: the mark-to-market identity,
 * computed apart from `dayPnlOfPosition` (which sums cash and values). Checked only with both marks
 * known (and both share marks when the ledger has delivered shares).
 */
export function checkDayPnl(
  r: LedgerRecord,
  day: string,
  marks: DayMarks,
  reportedCents: number,
): AccountingViolation[] {
  const expected = expectedDayPnlCents(r, day, marks);
  return expected === null || expected === reportedCents
    ? []
    : [
        violation(
          'day_pnl_equals_fills_and_marks',
          `${r.position_id}:${day}`,
          `expected ${expected}, reported ${reportedCents}`,
        ),
      ];
}

/**
 * The record's P&L of `day` by the mark-to-market identity (that day's realized parts plus the change of
 * unrealized P&L from the start marks to the marks now), computed apart from `dayPnlOfPosition`; null
 * when a mark it needs is unknown (both option marks, and both share marks when shares were delivered).
 */
export function expectedDayPnlCents(r: LedgerRecord, day: string, marks: DayMarks): number | null {
  if (marks.startMark === null || marks.mark === null) return null;
  const hasShares = r.ledger.events.some((e) => e.shares !== 0);
  const shareStart = marks.shareStartMark ?? null;
  const shareNow = marks.shareMark ?? null;
  if (hasShares && (shareStart === null || shareNow === null)) return null;
  const realized = realizedByDay(r.ledger, r.side).get(day) ?? 0;
  const change =
    unrealizedAt(r, day, true, marks.mark, shareNow ?? 0) -
    unrealizedAt(r, day, false, marks.startMark, shareStart ?? 0);
  return realized + change;
}

/** Structural equality of plain ledger values (arrays, objects, primitives). */
export function sameLedger(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameLedger((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Applying a broker report a second time changes nothing: `apply` (one report's application) run on the
 * ledger it produced books nothing and returns an equal ledger.
 */
export function checkReportIdempotent(
  subject: string,
  ledger: PositionLedger,
  apply: (l: PositionLedger) => LedgerApplication,
): AccountingViolation[] {
  const once = apply(ledger).ledger;
  const twice = apply(once);
  if (twice.booked === null && sameLedger(once, twice.ledger)) return [];
  return [
    violation(
      'report_idempotent',
      subject,
      `second application: ${twice.note}, booked ${JSON.stringify(twice.booked)}`,
    ),
  ];
}
