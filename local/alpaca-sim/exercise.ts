/**
 * `POST /v2/positions/{symbol_or_contract_id}/exercise` and `.../do-not-exercise` (AO "Expiry, exercise
 * and do-not-exercise"; SDK `PositionsApi.optionExercise` / `optionDoNotExercise`). Exercise ends a held
 * long now through the option-event machinery (OPEXC + the delivered shares); do-not-exercise records the
 * instruction, so the contract's expiry processing expires it (OPEXP) even in the money. Both need a held
 * long and are refused between the session's close and New York midnight.
 */
import { newYorkClock } from './clock';
import { coreClose, isTradingDay } from './calendar';
import { markDoNotExercise, optionEvent } from './activities';
import { parseOcc } from './occ';
import { ALPACA_CODES, SimHttpError } from './order-terms';
import type { SimAccount } from './engine';

/** Which of the two instructions a request is. */
export type ExerciseInstruction = 'exercise' | 'do-not-exercise';

/**
 * True from the close of New York trading day of `now` (16:00, or 13:00 on an early close) until midnight:
 * Alpaca refuses both instructions then.
 */
export function inCloseToMidnight(now: Date): boolean {
  const { date, minuteOfDay } = newYorkClock(now);
  if (!isTradingDay(date)) return false;
  const [h, m] = coreClose(date).split(':').map(Number);
  return minuteOfDay >= h * 60 + m;
}

/**
 * Acts on one instruction for `symbol` (an OCC symbol, already resolved from a contract id). 403 `40310000`
 * when no long is held in it; 422 `42210000` between the close and midnight. Answers 200 with no body
 * (sim: Alpaca documents no body).
 */
export function exerciseInstruction(
  account: SimAccount,
  instruction: ExerciseInstruction,
  symbol: string,
  now: Date,
): { status: number } {
  const pos = account.positions.get(symbol);
  if (!parseOcc(symbol) || !pos || pos.qty <= 0) {
    throw new SimHttpError(
      403,
      ALPACA_CODES.forbidden,
      `no long option position in ${symbol} to ${instruction}`,
    );
  }
  if (inCloseToMidnight(now)) {
    throw new SimHttpError(
      422,
      ALPACA_CODES.unprocessable,
      `${instruction} requests are not accepted between the market close and midnight`,
    );
  }
  if (instruction === 'exercise') optionEvent(account, symbol, 'exercise', now);
  else markDoNotExercise(account, symbol);
  return { status: 200 };
}
