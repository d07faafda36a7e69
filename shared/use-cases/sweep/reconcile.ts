/**
 * Step 2 of a sweep: compare the table with the broker, per contract and side. The broker is the truth
 * for what exists; the table never makes it act. Only `open` positions are adjusted (pending and closing
 * ones are in flux), and one bad read never abandons a position: a contract missing from the snapshot is
 * read again on its own before its record is closed, and a snapshot in which every tracked contract is
 * missing at once closes nothing until a later sweep sees the same.
 */
import { spreadHeldSymbols } from './spreads';
import type { Position, PositionSide } from '../../domain/position';
import {
  closedOutside,
  markedMissing,
  missingCleared,
  quantityReconciled,
} from '../../domain/position-lifecycle';
import {
  allocateHeld,
  findMissing,
  findUntracked,
  planGoneUnexplained,
  planShortfall,
  type Allocation,
} from '../../domain/reconcile-plan';
import type { SweepContext } from './context';
import type { Learned } from './learn';
import { OptionEvents } from './option-events';
import { rereadContract } from './broker-io';
import { bookStopFill } from './stop-book';
import { bookedQtyOf } from '../../domain/position-books';

const SIDES: readonly PositionSide[] = ['long', 'short'];

/** What reconciling handed forward: the records to act on (closed ones left out), and those it closed. */
export interface Reconciled {
  readonly positions: readonly Position[];
  readonly closed: ReadonlySet<string>;
}

export async function reconcile(s: SweepContext, learned: Learned): Promise<Reconciled> {
  const positions = learned.positions;
  const changedInLearn = learned.changed;
  const closedBefore = new Set(s.report.closed.map((c) => c.position_id));
  const bySymbol = new Map<string, Position[]>();
  for (const p of positions) {
    const group = bySymbol.get(p.option_symbol);
    if (group) group.push(p);
    else bySymbol.set(p.option_symbol, [p]);
  }

  await alertUntracked(s, bySymbol);
  const events = new OptionEvents(s, positions);

  const settledOf = (group: readonly Position[]) =>
    group.filter((p) => p.state === 'open' && !p.pending_exit && !changedInLearn.has(p.position_id));
  // Contracts tracked by settled positions that the snapshot says the broker does not hold at all.
  const { missing, allMissing } = findMissing(bySymbol, s.snap.brokerBySymbol, settledOf);
  if (allMissing) {
    s.alert(
      'broker_snapshot_suspect',
      [...missing.keys()].join(','),
      `the broker's positions read lacks every tracked contract (${missing.size}); nothing is closed on one read`,
    );
  }
  // Each missing contract is read again on its own (bounded by the lookups allowance; the rest wait).
  const confirmedGone = new Set<string>();
  for (const [symbol, side] of missing) {
    if (!s.allowances.takeLookup()) continue;
    const fresh = await rereadContract(s, symbol);
    if (fresh && fresh.side === side) {
      s.alert(
        'broker_snapshot_suspect',
        symbol,
        `missing from the positions read, but the broker holds ${fresh.qty} ${fresh.side}`,
      );
    } else confirmedGone.add(symbol);
  }

  const out: Position[] = [];
  for (const [symbol, ours] of bySymbol) {
    for (const side of SIDES) {
      const group = ours.filter((p) => p.side === side);
      if (group.length === 0) continue;
      const settled = settledOf(group);
      const inFlux = group.filter((p) => !settled.includes(p));
      out.push(...inFlux);
      if (settled.length === 0) continue;
      // A position on this contract changed in this sweep's learning step after the broker was read:
      // whether the snapshot already counts that change is unknown, so no record is brought down against
      // it now. The next sweep compares a consistent snapshot; every order stays bounded by the budget.
      if (group.some((p) => changedInLearn.has(p.position_id))) {
        out.push(...settled);
        continue;
      }
      const broker = s.allowances.held(symbol);
      if (missing.has(symbol) && !(broker && broker.side === side)) {
        const gone = confirmedGone.has(symbol);
        out.push(...(await missingContract(s, symbol, side, settled, gone, allMissing, events)));
        continue;
      }
      const held = broker && broker.side === side ? broker.qty : 0;
      // Records in flux count what their ledgers expect, their working orders' fills included.
      const inFluxQty = inFlux.reduce((n, p) => n + expectedWithWorking(s, p), 0);
      const plan = allocateHeld(settled, held, inFluxQty);
      // The broker confirms every record as it is (almost every contract, almost every sweep): nothing to
      // write, so no await either.
      if (plan.every(isUnchanged)) {
        out.push(...plan.map((a) => a.position));
        continue;
      }
      // A fill may have landed between the positions read and the orders read: the working orders of this
      // contract are read again first, and only a mismatch they do not explain brings a record down.
      const reread = await rereadWorking(s, settled);
      if (reread) out.push(...reread);
      else {
        const replan = (after: readonly Position[]) => allocateHeld(after, held, inFluxQty);
        out.push(...(await bringDown(s, symbol, side, plan, events, replan)));
      }
    }
  }
  const closed = new Set(s.report.closed.map((c) => c.position_id).filter((id) => !closedBefore.has(id)));
  return { positions: out, closed };
}

/**
 * Settled positions on a contract the broker's positions read did not list. Closed (no order: an
 * intent-free order here would OPEN a position) only once a single-contract read confirmed it gone, and,
 * when the whole read was empty of tracked contracts, only if an earlier sweep already saw it missing.
 */
async function missingContract(
  s: SweepContext,
  symbol: string,
  side: PositionSide,
  settled: Position[],
  confirmed: boolean,
  allMissing: boolean,
  events: OptionEvents,
): Promise<Position[]> {
  if (!confirmed) return settled;
  const now = s.nowIso();
  // Assigned, exercised or expired per the broker's activities: booked as such (unreadable: wait a sweep).
  const booked = await events.bookGone(symbol, side, settled, allMissing);
  if (booked === null) return settled;
  // Records the events ended in full (or whose write failed) are done; a partial event leaves the rest,
  // which nothing explains yet, to the unexplained path below.
  const rest = settled
    .map((p) => (booked.has(p.position_id) ? booked.get(p.position_id) : p))
    .filter((p): p is Position => !!p && p.state === 'open');
  // Records waiting for an option event's activities: nothing acts on them (the broker holds none).
  const waiting = new Set<string>();
  const closed = await s.forEach(rest, async (p) => {
    // Every tracked contract missing at once: confirmed by a later sweep before anything is closed. A
    // contract an option event can explain waits for the activities (on paper: the next trading day's).
    const step = planGoneUnexplained(p, {
      now: s.brokerNow(),
      allMissing,
      holdsShares: (underlying) => (s.allowances.held(underlying)?.qty ?? 0) > 0,
    });
    if (step.kind === 'wait') {
      waiting.add(p.position_id);
      return p;
    }
    if (step.kind === 'mark') {
      if (step.awaitEvents) {
        waiting.add(p.position_id);
        s.alert(
          'option_event_pending',
          symbol,
          `${p.position_id} (${p.quantity} ${side}) is gone at the broker and no assignment, exercise or expiry activity explains it yet; waiting for the next trading day's activities (no order sent on it)`,
        );
      }
      return s.deps.store.replace(p, markedMissing(p, now, s.brokerNow().toISOString()));
    }
    s.alert('closed_outside_pipeline', symbol, `table had ${p.quantity} ${side}; broker holds none for it`);
    const stored = await s.close(p, closedOutside(p, 'broker holds none', s.nowIso()));
    await s.deps.store
      .noteClosedOutside(p.account, { symbol, position_id: p.position_id, closed_at: now })
      .catch((err: unknown) => s.deps.log.warn(`Could not note the outside close: ${String(err)}`));
    return stored;
  });
  return closed.filter(
    (p): p is Position => p !== null && p.state !== 'closed' && !waiting.has(p.position_id),
  );
}

/**
 * What the broker should hold for a record in flux: its ledger's holding, plus the fills its working order
 * shows in this sweep's orders read that the ledger has not booked yet (a pending open's add, an exit's
 * take away).
 */
function expectedWithWorking(s: SweepContext, p: Position): number {
  const id = p.state === 'pending' ? p.open_client_order_id : p.pending_exit?.client_order_id;
  const working = id ? s.snap.openOrderByClientId.get(id) : undefined;
  if (!working || !id) return p.quantity;
  const unbooked = Math.max(0, working.filled_qty - bookedQtyOf(p, id));
  return p.state === 'pending' ? p.quantity + unbooked : Math.max(0, p.quantity - unbooked);
}

/**
 * Reads again, by client id, the resting stops of the settled records on a contract whose count differs,
 * and books what they filled since the ledger last booked them. Returns the records after it when a read
 * explained (part of) the difference: nobody is brought down this sweep, the next compares afresh; null
 * when nothing new filled (or no lookup was left: then nothing is brought down either).
 */
async function rereadWorking(s: SweepContext, settled: readonly Position[]): Promise<Position[] | null> {
  const withStop = settled.filter((p) => p.broker_stop);
  if (withStop.length === 0) return null;
  let explained = false;
  let unread = false;
  const after = await s.forEach(withStop, async (p) => {
    const bs = p.broker_stop!;
    if (!s.allowances.takeLookup()) {
      unread = true;
      return p;
    }
    const order = await s.deps.broker.getOrderByClientOrderId(bs.client_order_id);
    if (!order || order.filled_qty <= bookedQtyOf(p, bs.client_order_id)) return p;
    explained = true;
    return bookStopFill(s, p, order, bs);
  });
  if (!explained && !unread) return null;
  const byId = new Map(
    after.filter((p): p is Position => p !== null).map((p) => [p.position_id, p] as const),
  );
  return settled
    .map((p) => byId.get(p.position_id) ?? (withStop.includes(p) ? null : p))
    .filter((p): p is Position => p !== null && p.state !== 'closed');
}

/** An allocation that leaves its record as it is: it keeps its quantity and is not marked missing. */
function isUnchanged(a: Allocation): boolean {
  return a.keep === a.position.quantity && !a.position.missing_since;
}

/**
 * Brings records down to what the broker holds, per `plan` ({@link allocateHeld}: oldest positions keep
 * their contracts first). The account's option events come first: an assignment, exercise or expiry of
 * some of the contracts (4 of 10 short puts assigned) not yet on the records' ledgers is booked as such
 * (its P&L and delivered shares; the record keeps the rest, open and managed), and only what the events
 * do not explain is brought down, per `replan` of the records after them ({@link planShortfall}: a
 * difference an option event can explain waits for the next trading day's activities first). When a
 * booking's write failed, nothing more is brought down this sweep (the next compares afresh).
 */
async function bringDown(
  s: SweepContext,
  symbol: string,
  side: PositionSide,
  initial: readonly Allocation[],
  events: OptionEvents,
  replan: (after: readonly Position[]) => Allocation[],
): Promise<Position[]> {
  let plan = initial;
  const shortfall = initial.reduce((n, a) => n + Math.max(0, a.position.quantity - a.keep), 0);
  if (shortfall > 0) {
    const positions = initial.map((a) => a.position);
    const booked = await events.bookShortfall(symbol, side, positions, shortfall);
    if (booked && booked.size > 0) {
      const after = positions.map((p) => (booked.has(p.position_id) ? booked.get(p.position_id)! : p));
      const live = after.filter((p): p is Position => p !== null && p.state !== 'closed');
      if (after.some((p) => p === null)) return live;
      plan = replan(live);
    }
  }
  const keepOf = new Map(plan.map((a) => [a.position.position_id, a.keep]));
  const adjusted = await s.forEach(
    plan.map((a) => a.position),
    async (p) => {
      const keep = keepOf.get(p.position_id) ?? p.quantity;
      if (keep === p.quantity) {
        if (!p.missing_since) return p;
        return s.deps.store.replace(p, missingCleared(p, s.nowIso()));
      }
      // No activity explains the difference yet: one an option event can explain waits for the next
      // trading day's activities (on paper, a partial assignment lists then), noted and alerted once.
      const step = planShortfall(p, {
        now: s.brokerNow(),
        holdsShares: (underlying) => (s.allowances.held(underlying)?.qty ?? 0) > 0,
      });
      if (step.kind === 'wait') return p;
      if (step.kind === 'mark') {
        s.alert(
          'option_event_pending',
          symbol,
          `${p.position_id} (${p.quantity} ${side}): the broker confirms ${keep} and no assignment, exercise or expiry activity explains the other ${p.quantity - keep} yet; waiting for the next trading day's activities (nothing brought down, no order sent for them)`,
        );
        return s.deps.store.replace(p, markedMissing(p, s.nowIso(), s.brokerNow().toISOString()));
      }
      if (keep === 0) {
        // Held for others on this contract, none for this one (the snapshot lists the contract).
        s.alert(
          'closed_outside_pipeline',
          symbol,
          `table had ${p.quantity} ${side}; broker holds none for it`,
        );
        return s.close(p, closedOutside(p, 'broker holds none', s.nowIso()));
      }
      s.alert('broker_qty_mismatch', symbol, `table had ${p.quantity} ${side}; broker confirms ${keep}`);
      return s.deps.store.replace(p, quantityReconciled(p, keep, s.nowIso()));
    },
  );
  return adjusted.filter((p): p is Position => p !== null && p.state !== 'closed');
}

/** The broker holds what no live record tracks (or more than they track): alert, never trade it. */
async function alertUntracked(s: SweepContext, bySymbol: Map<string, Position[]>): Promise<void> {
  // What a live spread holds is the spread phase's (spread-reconcile.ts).
  const spreadHeld = spreadHeldSymbols(s.snap.spreads, s.snap.brokerBySymbol);
  const held = new Map([...s.snap.brokerBySymbol].filter(([symbol]) => !spreadHeld.has(symbol)));
  for (const f of findUntracked(bySymbol, held)) {
    s.alert(f.kind, f.symbol, f.noRecord ? `${f.detail}${await closedOutsideNote(s, f.symbol)}` : f.detail);
  }
}

/**
 * Names the record closed as `closed_outside_pipeline` on this contract earlier the same day, if any, so an
 * operator can restore it (the contract came back: the read that closed it was wrong, or it was rebought).
 */
async function closedOutsideNote(s: SweepContext, symbol: string): Promise<string> {
  const note = await s.deps.store.findClosedOutside(s.account.name, symbol).catch(() => null);
  if (!note) return '';
  const sameDay = s.now().getTime() - Date.parse(note.closed_at) < 24 * 3600_000;
  return sameDay
    ? `; record ${note.position_id} was closed as closed_outside_pipeline at ${note.closed_at}: restore it if the contracts are ours`
    : '';
}
