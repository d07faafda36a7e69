import type { Clock } from '../ports';

/** The wall clock: what the Lambda entries hand the handlers; tests and simulations pass their own. */
export const systemClock: Clock = () => new Date();
