/**
 * The act phase's expiry instruction (`exit_plan.at_expiry` `exercise` / `do_not_exercise` on a long,
 * decided by `planExpiryInstruction`): on the expiry day from 15:00 New York time the sweep sends
 * `POST /v2/positions/{symbol}/exercise` or `.../do-not-exercise` once and records the outcome on the
 * position, so no later sweep sends it again. Confirmation: an exercise ends the contract at once (the
 * position goes; reconcile books the OPEXC as `exercised` through the option-event path), a
 * do-not-exercise is confirmed by the broker's 2xx (the contract then expires at the close: OPEXP).
 *
 * A refusal (403/422) is recorded and alerted (`expiry_instruction_failed`); nothing else is sent on it:
 * the contract is left to the broker's expiry processing (exercised automatically when $0.01 or more in the
 * money, else expired). A failure without an answer (5xx, timeout) is alerted and tried again by the next
 * sweep while before the close: sending either instruction twice does no harm (an exercised contract is no
 * longer held, and the sweep sends only while the broker holds the long). The close passing before it was
 * sent (the sweep was down) is recorded as `missed` and alerted once.
 */
import { BrokerRejectedError } from '../../domain/errors';
import { planExpiryInstruction, type ExpiryInstruction } from '../../domain/expiry-instruction';
import type { ExpiryInstructionRecord, Position } from '../../domain/position';
import { expiryInstructionRecorded } from '../../domain/position-lifecycle';
import type { SweepContext } from './context';

/** What the broker does with a contract whose instruction was not carried out. */
const LEFT_TO_BROKER =
  "the broker's expiry processing applies (exercised automatically when $0.01 or more in the money, else expired)";

/**
 * Sends the open position's expiry instruction when it is due (the exit rules held it). Returns the record
 * as stored (unchanged when nothing was due or the attempt must be made again).
 */
export async function keepExpiryInstruction(s: SweepContext, p: Position): Promise<Position> {
  const step = planExpiryInstruction({
    position: p,
    now: s.brokerNow(),
    sessionClose: s.snap.sessionClose,
    marketOpen: s.snap.clock.isOpen,
  });
  if (step.kind === 'none' || step.kind === 'wait') return p;
  if (step.kind === 'missed') {
    s.alert(
      'expiry_instruction_failed',
      p.option_symbol,
      `${p.position_id}: at_expiry ${step.instruction} was not sent before the close (${step.reason}); ${LEFT_TO_BROKER}`,
    );
    return record(s, p, step.instruction, 'missed', step.reason);
  }
  const held = s.allowances.held(p.option_symbol);
  if (!held || held.side !== 'long' || held.qty < 1) {
    // Gone or not long at the broker: reconcile explains it (an exercise by hand, an expiry); nothing sent.
    s.deps.log.info(`Expiry instruction for ${p.position_id} not sent: the broker holds no long in it`);
    return p;
  }
  const noSend = s.allowances.whyNoSend('protective');
  if (noSend) {
    s.defer(p.position_id, `at_expiry ${step.instruction}`, noSend);
    return p;
  }
  try {
    if (step.instruction === 'exercise') await s.deps.broker.exerciseOption(p.option_symbol);
    else await s.deps.broker.doNotExercise(p.option_symbol);
  } catch (err) {
    if (err instanceof BrokerRejectedError) {
      const detail = `${err.status} ${err.message}`;
      s.alert(
        'expiry_instruction_failed',
        p.option_symbol,
        `${p.position_id}: the broker refused at_expiry ${step.instruction} (${detail}); ${LEFT_TO_BROKER}`,
      );
      return record(s, p, step.instruction, 'refused', detail);
    }
    s.alert(
      'expiry_instruction_failed',
      p.option_symbol,
      `${p.position_id}: at_expiry ${step.instruction} failed without an answer (${String(err)}); the next sweep tries again before the close`,
    );
    return p;
  }
  // An exercised contract is gone at once: nothing of it is left for this sweep's exits or stops.
  if (step.instruction === 'exercise') s.allowances.noteFresh(p.option_symbol, null);
  s.deps.log.info(`Expiry instruction sent for ${p.position_id}: ${step.reason}`, {
    position_id: p.position_id,
    instruction: step.instruction,
  });
  return record(s, p, step.instruction, 'sent', step.reason);
}

function record(
  s: SweepContext,
  p: Position,
  instruction: ExpiryInstruction,
  outcome: ExpiryInstructionRecord['outcome'],
  detail: string,
): Promise<Position> {
  const at = s.nowIso();
  return s.deps.store.replace(p, expiryInstructionRecorded(p, { instruction, outcome, at, detail }, at));
}
