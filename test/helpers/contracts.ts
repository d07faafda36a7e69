/**
 * Test option contracts whose expiry comes from the test's clock, never from a fixed date: a suite that
 * names `GOOGL271217C...` starts closing for expiry (and refusing opens) once that date is near. The
 * suite must pass at any date (`faketime '2029-03-06 15:00:00' npx jest`).
 */
import { addDays, newYorkTime } from '../../shared/domain/market-time';
import { formatOccSymbol } from '../../shared/domain/occ';

/** How far ahead the long-dated contracts of the tests expire: never near expiry while a test runs. */
export const FAR_DAYS = 400;

/** The New York date `daysAhead` days after `now`'s New York date (`YYYY-MM-DD`). */
export function expiryIn(daysAhead: number, now: Date = new Date()): string {
  return addDays(newYorkTime(now).date, daysAhead);
}

/**
 * The OCC symbol of a `root` contract expiring `daysAhead` days after `now` (New York dates), e.g.
 * `contractFor('GOOGL', 400, 'C', 340, now)`. `now` defaults to the wall clock: the clock the simulator
 * and the Lambda entries read, which `faketime` moves for all of them.
 */
export function contractFor(
  root: string,
  daysAhead: number,
  type: 'C' | 'P',
  strike: number,
  now: Date = new Date(),
): string {
  return formatOccSymbol({
    root,
    expiry: expiryIn(daysAhead, now),
    type: type === 'C' ? 'call' : 'put',
    strike,
  });
}

/** The contracts of the reliability runs (the model and the burst): GOOGL 340 and 350 calls, a 300 put. */
export const RELIABILITY_CONTRACTS = [
  contractFor('GOOGL', FAR_DAYS, 'C', 340),
  contractFor('GOOGL', FAR_DAYS, 'C', 350),
  contractFor('GOOGL', FAR_DAYS, 'P', 300),
] as const;
