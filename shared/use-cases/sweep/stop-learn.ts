/**
 * Phase 1 for an `open` position with no exit in flight: the stop resting at the broker. The decision is
 * `planStopLearn` (domain/resting-stop-plan.ts); this gathers its facts (a lookup when it asks and the
 * allowance has one left) and carries out its step.
 */
import type { Position } from '../../domain/position';
import { brokerStopSynced } from '../../domain/position-lifecycle';
import { planStopLearn, type StopLearnFacts } from '../../domain/resting-stop-plan';
import type { BrokerOrder } from '../../ports';
import type { SweepContext } from './context';
import { knownOrder } from './snapshot';
import { bookStopFill, cancelStop, clearStop, noteResting } from './stop-book';

export interface StopLearned {
  readonly position: Position | null;
  /** The record changed, or what the broker did is not known yet: not reconciled this sweep. */
  readonly changed: boolean;
}

export async function learnRestingStop(s: SweepContext, p: Position): Promise<StopLearned> {
  const lookedUp = new Map<string, BrokerOrder | null>();
  let cancelled: BrokerOrder | undefined;
  let cur = p;
  for (;;) {
    const step = planStopLearn(cur, facts(s, cur, lookedUp, cancelled));
    switch (step.kind) {
      case 'keep':
        return { position: cur, changed: cur !== p };
      case 'lookup':
        if (!s.allowances.takeLookup()) return { position: cur, changed: true };
        lookedUp.set(step.clientOrderId, await s.deps.broker.getOrderByClientOrderId(step.clientOrderId));
        continue;
      case 'book':
        return { position: await bookStopFill(s, cur, step.order, step.stop), changed: true };
      case 'cancel': {
        const { ended, recorded } = await cancelStop(s, cur, step.order, step.stop);
        if (!ended) return { position: recorded, changed: true };
        if (step.why) {
          s.report.cancelled.push({
            position_id: p.position_id,
            client_order_id: step.order.client_order_id,
            why: step.why,
          });
        }
        cur = recorded;
        cancelled = ended;
        continue;
      }
      case 'sync':
        return {
          position: await s.deps.store.replace(cur, brokerStopSynced(cur, step.stop, step.seq, s.nowIso())),
          changed: true,
        };
      case 'adopt':
        // Working under an id the open-orders read did not list (it landed after the read): it holds the
        // contracts like any resting stop, so this sweep's exits free it first; the next sweep syncs it.
        s.allowances.setResting(p.position_id, step.order);
        return { position: cur, changed: true };
      case 'clear':
        if (!step.neverPlaced) noteResting(s, cur, undefined);
        if (step.alert) s.alert('broker_stop_missing', p.option_symbol, step.alert);
        return { position: await clearStop(s, cur, step.seq), changed: true };
    }
  }
}

function facts(
  s: SweepContext,
  p: Position,
  lookedUp: ReadonlyMap<string, BrokerOrder | null>,
  cancelled: BrokerOrder | undefined,
): StopLearnFacts {
  return {
    now: s.nowIso(),
    brokerStopOn: s.account.exit_execution.broker_stop !== null,
    resting: s.allowances.restingOf(p.position_id),
    held: s.allowances.held(p.option_symbol),
    known: (id) => knownOrder(s.snap, id),
    lookedUp,
    ...(cancelled ? { cancelled } : {}),
  };
}
