/** Lambda entry of the exit-evaluator function (scheduled sweep of one account). */
import { systemClock } from '../../shared/adapters/system-clock';
import { createExitEvaluatorHandler } from '../../shared/handlers/exit-evaluator';

export const handler = createExitEvaluatorHandler(process.env, { now: systemClock });
