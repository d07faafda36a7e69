/**
 * A single leg's `exit_plan.at_expiry` (docs/MESSAGE.md "The exit plan"): `close` leaves it to the expiry
 * rule (`close_before_expiry_days`), as before; `exercise` / `do_not_exercise` hold a long into its expiry
 * day and send Alpaca's instruction (`POST /v2/positions/{symbol}/exercise` or `.../do-not-exercise`) once,
 * from {@link EXPIRY_INSTRUCTION_MINUTE_ET} until the session's close (Alpaca refuses both between the close
 * and midnight). A short has nothing to exercise: its plan is carried out as `close`. Pure.
 */
import { atExpiryOf } from './exit-plan';
import { daysUntil, newYorkTime } from './market-time';
import { parseOccSymbol } from './occ';
import type { ExpiryInstructionRecord, Position } from './position';

/** The instruction a plan sends at expiry (the `at_expiry` values other than `close`). */
export type ExpiryInstruction = ExpiryInstructionRecord['instruction'];

/**
 * 15:00 New York time: the instruction is sent from then on the expiry day, ahead of Alpaca's expiry-day
 * liquidation (from about 15:15) and with an hour before the close for a retry after a failed attempt.
 */
export const EXPIRY_INSTRUCTION_MINUTE_ET = 15 * 60;
/** Before an early close, the same lead: 60 minutes before the session's close. */
const LEAD_BEFORE_CLOSE_MS = 60 * 60_000;
/** The regular close, when the broker gives no session close (the market is closed). */
const REGULAR_CLOSE_MINUTE_ET = 16 * 60;

/**
 * The instruction `p`'s plan asks for at expiry: null for `close`, and for a short (nothing to exercise or
 * leave unexercised: the expiry rule closes it as for `close`).
 */
export function expiryInstructionOf(p: Pick<Position, 'side' | 'exit_plan'>): ExpiryInstruction | null {
  if (p.side !== 'long') return null;
  const choice = atExpiryOf(p.exit_plan);
  return choice === 'close' ? null : choice;
}

/** What the sweep does about a position's expiry instruction now ({@link planExpiryInstruction}). */
export type ExpiryInstructionStep =
  | { readonly kind: 'none' }
  | { readonly kind: 'wait'; readonly reason: string }
  | { readonly kind: 'send'; readonly instruction: ExpiryInstruction; readonly reason: string }
  | { readonly kind: 'missed'; readonly instruction: ExpiryInstruction; readonly reason: string };

/**
 * Whether to send the position's expiry instruction now: `send` on its expiry day from 15:00 New York time
 * (or 60 minutes before an earlier session close) while the market is open; `wait` before; `missed` once the
 * close has passed without it (the broker's own expiry processing then applies); `none` when the plan sends
 * none, the instruction was already recorded, or the expiry day is still ahead.
 */
export function planExpiryInstruction(args: {
  readonly position: Pick<Position, 'side' | 'exit_plan' | 'option_symbol' | 'expiry_instruction'>;
  readonly now: Date;
  /** The broker's close of today's session; null when the market is closed. */
  readonly sessionClose: Date | null;
  readonly marketOpen: boolean;
}): ExpiryInstructionStep {
  const { position, now, sessionClose, marketOpen } = args;
  const instruction = expiryInstructionOf(position);
  if (instruction === null || position.expiry_instruction) return { kind: 'none' };
  const occ = parseOccSymbol(String(position.option_symbol));
  if (!occ.ok) return { kind: 'none' };
  const days = daysUntil(occ.value.expiry, now);
  if (days > 0) return { kind: 'none' };
  if (days < 0) {
    return { kind: 'missed', instruction, reason: `the contract expired on ${occ.value.expiry}` };
  }
  const minute = newYorkTime(now).minuteOfDay;
  if (!marketOpen || sessionClose === null) {
    return minute >= REGULAR_CLOSE_MINUTE_ET
      ? {
          kind: 'missed',
          instruction,
          reason: `the session of the expiry day ${occ.value.expiry} has closed`,
        }
      : {
          kind: 'wait',
          reason: 'expiry day, market closed: sent while it is open, from 15:00 New York time',
        };
  }
  const due =
    minute >= EXPIRY_INSTRUCTION_MINUTE_ET || now.getTime() >= sessionClose.getTime() - LEAD_BEFORE_CLOSE_MS;
  return due
    ? { kind: 'send', instruction, reason: `expiry day ${occ.value.expiry}: at_expiry ${instruction}` }
    : { kind: 'wait', reason: `expiry day: ${instruction} is sent from 15:00 New York time` };
}
