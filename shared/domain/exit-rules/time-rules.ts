/**
 * The rules about time, not price: a profile's time rules, close before expiry, max hold. They fire
 * without a usable quote (a position must not be carried into expiry because its quote is stale).
 */
import { expiryInstructionOf } from '../expiry-instruction';
import { daysUntil } from '../market-time';
import { parseOccSymbol } from '../occ';
import { evaluateProfileTimeRules } from '../profile-time-rules';
import { profileTimeRulesSchema } from '../strategy-profiles';
import type { Candidate, RuleInput } from './rule-input';

/** A rule's answer: a close, and/or a note on why it was skipped. */
export interface TimeRuleResult {
  readonly candidate: Candidate | null;
  readonly note: string | null;
}

// A strategy profile's time rules (close by 15:55 ET, no overnight, out on expiry day) are the profile's
// stop in time: like the stop, they fire during min_hold and without a quote.
/** The profile's time rules (`position.time_rules`) when one fires; null otherwise. */
export function profileTimeRule(input: RuleInput): Candidate | null {
  const { position, fields, now, context, quantity } = input;
  if (!position.time_rules) return null;
  const rules = profileTimeRulesSchema.safeParse(position.time_rules);
  const occ = parseOccSymbol(String(position.option_symbol));
  if (!rules.success || !occ.ok || fields.entryTimeMs === null) return null;
  const t = evaluateProfileTimeRules({
    rules: rules.data,
    now,
    sessionClose: context.sessionClose ?? null,
    expiry: occ.value.expiry,
    openedAt: new Date(fields.entryTimeMs),
  });
  return t.action === 'close'
    ? { reason: 'time_rule', qty: quantity, detail: `${t.rule}: ${t.detail}` }
    : null;
}

/**
 * `close_before_expiry_days`: close when expiry (New York days) is that close. A long whose plan's
 * `at_expiry` is `exercise` or `do_not_exercise` is held into expiry instead (the sweep sends that
 * instruction on the expiry day: expiry-instruction.ts); a short is closed whatever its `at_expiry`.
 */
export function expiryRule(input: RuleInput): TimeRuleResult {
  const { plan, position, now, quantity } = input;
  if (plan.close_before_expiry_days === null) return { candidate: null, note: null };
  const occ = parseOccSymbol(String(position.option_symbol));
  if (!occ.ok) return { candidate: null, note: `expiry rule skipped: ${occ.error}` };
  const days = daysUntil(occ.value.expiry, now);
  if (days > plan.close_before_expiry_days) return { candidate: null, note: null };
  const instruction = expiryInstructionOf({ side: position.side, exit_plan: plan });
  if (instruction !== null) {
    return { candidate: null, note: `held into expiry ${occ.value.expiry} (at_expiry ${instruction})` };
  }
  return {
    candidate: {
      reason: 'expiry',
      qty: quantity,
      detail: `expires ${occ.value.expiry}, ${days} day(s) away (New York) <= close_before_expiry_days ${plan.close_before_expiry_days}`,
    },
    note: null,
  };
}

/** `max_hold_minutes`: close once held that long. */
export function maxHoldRule(input: RuleInput): TimeRuleResult {
  const { plan, heldMinutes, quantity } = input;
  if (plan.max_hold_minutes === null) return { candidate: null, note: null };
  if (heldMinutes === null) return { candidate: null, note: 'max_hold skipped: no entry time' };
  if (heldMinutes < plan.max_hold_minutes) return { candidate: null, note: null };
  return {
    candidate: {
      reason: 'max_hold',
      qty: quantity,
      detail: `held ${heldMinutes.toFixed(1)} min >= max_hold ${plan.max_hold_minutes} min`,
    },
    note: null,
  };
}
