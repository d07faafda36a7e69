/**
 * Lambda entry of the open-order function (SQS recommendations → opening orders). The environment is
 * parsed at cold start: a bad ACCOUNT_CONFIG fails here, loudly, naming the field.
 */
import { systemClock } from '../../shared/adapters/system-clock';
import { createOpenOrderHandler } from '../../shared/handlers/open-order';

export const handler = createOpenOrderHandler(process.env, { now: systemClock });
