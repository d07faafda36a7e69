/** Lambda entry of the exit-evaluator function (scheduled sweep of one account). */
import { systemClock } from '../../shared/adapters/system-clock';
import { createExitEvaluatorHandler } from '../../shared/handlers/exit-evaluator';

export const handler = createExitEvaluatorHandler(process.env, { now: systemClock });

/**
 * The factory of {@link handler}, exported from the bundle so that its test can run the bundled poll on
 * a clock of its own (its `now` and `pollSleep` overrides); Lambda calls only `handler`.
 */
export { createExitEvaluatorHandler };
