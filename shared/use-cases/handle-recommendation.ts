import { openPosition, type Delivery, type OpenOutcome, type OpenPositionDeps } from './open-position';
import { openSpread, type SpreadOpenOutcome } from './open-spread';
import {
  InvalidRecommendationError,
  PipelineError,
  RecommendationRefusedError,
  RiskLimitError,
  isTransient,
} from '../domain/errors';
import { Metric } from '../metric-names';
import { isSpreadRecommendation, type AnyRecommendation } from '../domain/recommendation';
import { retryDelaySeconds } from '../domain/retry-schedule';
import { messageAgeSeconds } from '../domain/risk';
import type { RetryScheduler } from '../ports';
import { emitTradeEvent, positionOpenedEvent, spreadOpenedEvent } from './emit-trade-event';

/** How a transiently failed message is brought back sooner than the queue's visibility timeout. */
export interface RetryOptions {
  readonly scheduler: RetryScheduler;
  /** The queue's redrive maxReceiveCount. */
  readonly maxReceiveCount: number;
}

/**
 * One delivery of a parsed recommendation. Success acknowledges the message; a throw puts it in
 * `batchItemFailures`. A permanent refusal is logged with its specific reason, recorded in the table (so the
 * dead-letter path keeps the why), and rethrown so the queue's redrive moves the message to the DLQ after
 * maxReceiveCount — never silently acknowledged. A transient failure is rethrown to be retried, sooner than
 * the visibility timeout when `retry` is given.
 */
export async function handleRecommendation(
  rec: AnyRecommendation,
  delivery: Delivery,
  deps: OpenPositionDeps,
  retry?: RetryOptions,
): Promise<OpenOutcome | SpreadOpenOutcome> {
  try {
    if (isSpreadRecommendation(rec)) {
      if (!deps.spreads) refuseSpreadsNotEnabled(rec);
      const opened = await openSpread(rec, delivery, { ...deps, spreads: deps.spreads });
      deps.log.info(`Spread ${opened.spread.recommendation_id}: ${opened.kind}`, {
        ...logContext(delivery),
        recommendation_id: opened.spread.recommendation_id,
        state: opened.spread.state,
        order_id: opened.spread.open_order_id,
      });
      const event = spreadOpenedEvent(opened.spread, deps.now().toISOString());
      if (event && opened.kind !== 'duplicate') await emitTradeEvent(deps, event);
      return opened;
    }
    const outcome = await openPosition(rec, delivery, deps);
    deps.log.info(`Recommendation ${outcome.position.recommendation_id}: ${outcome.kind}`, {
      ...logContext(delivery),
      recommendation_id: outcome.position.recommendation_id,
      state: outcome.position.state,
      order_id: outcome.position.open_order_id,
    });
    // Filled at once (or found filled on a retry): opened now. Otherwise the sweep announces the fill it learns.
    const opened = positionOpenedEvent(outcome.position, deps.now().toISOString());
    if (opened && outcome.kind !== 'duplicate') await emitTradeEvent(deps, opened);
    return outcome;
  } catch (err) {
    if (isTransient(err)) await scheduleRetry(err, rec, delivery, deps, retry);
    else await recordRefusal(err, delivery, deps, rec.recommendation_id);
    throw err;
  }
}

/** A deployment without a spread store (a test's fake) cannot manage a spread: refused, dead-lettered. */
function refuseSpreadsNotEnabled(rec: AnyRecommendation): never {
  throw new InvalidRecommendationError(
    'spread recommendations need the spread store, which this deployment lacks',
    rec.recommendation_id,
    { reason: 'spreads_not_enabled' },
  );
}

/**
 * Logs, counts and records a permanent refusal of one delivery (a message that cannot be parsed, a risk
 * limit, a broker rejection). The record is keyed by the recommendation_id when one is known, else by the
 * SQS message id. Never throws: the caller rethrows the refusal itself.
 */
export async function recordRefusal(
  err: unknown,
  delivery: Delivery,
  deps: Pick<OpenPositionDeps, 'account' | 'store' | 'log' | 'metrics' | 'now' | 'tradeEvents'>,
  recommendationId?: string,
): Promise<void> {
  const reason = err instanceof PipelineError ? err.reason : 'unexpected_error';
  const id = recommendationId ?? recommendationIdOf(err);
  const context = logContext(delivery);
  // A refusal is the pipeline working (bad input, a limit): WARN, INFO when it was refused before; only an
  // unexpected error is an ERROR.
  const level =
    reason === 'unexpected_error' ? 'error' : err instanceof RecommendationRefusedError ? 'info' : 'warn';
  deps.log[level](`Recommendation refused (${reason}): ${(err as Error).message}`, {
    ...context,
    reason,
    recommendation_id: id,
    // Refused again: an earlier delivery was refused (or its order rejected) for this reason.
    ...(err instanceof RecommendationRefusedError ? { refused_before: true } : {}),
  });
  deps.metrics.count(Metric.RecommendationsRejected, 1, { reason: reason.split(':')[0] });
  const key = id ?? `msg:${delivery.messageId}`;
  const detail = (err as Error).message.slice(0, 2000);
  const at = deps.now().toISOString();
  await Promise.all([
    deps.store
      .recordRejection({
        account: deps.account.name,
        key,
        reason,
        detail,
        message_id: delivery.messageId,
        body_excerpt: delivery.bodyExcerpt,
        receive_count: delivery.receiveCount,
        at,
      })
      .catch((e) => deps.log.warn('Could not record the rejection', { ...context, error: String(e) })),
    emitTradeEvent(deps, {
      type: 'recommendation_refused',
      account: deps.account.name,
      key,
      reason,
      detail: detail.slice(0, 500),
      at,
    }),
  ]);
}

/** Logs a transient failure and asks the queue to bring the message back after the retry schedule's delay. */
async function scheduleRetry(
  err: unknown,
  rec: Pick<AnyRecommendation, 'created_at'>,
  delivery: Delivery,
  deps: OpenPositionDeps,
  retry: RetryOptions | undefined,
): Promise<void> {
  const context = logContext(delivery);
  const delay = retry
    ? retryDelaySeconds({
        ageSeconds: messageAgeSeconds(rec.created_at, delivery.sentAt?.getTime(), deps.now()),
        maxAgeSeconds: deps.account.limits.max_recommendation_age_minutes * 60,
        receiveCount: delivery.receiveCount,
        maxReceiveCount: retry.maxReceiveCount,
      })
    : null;
  deps.log.warn(`Recommendation will be retried: ${(err as Error).message}`, {
    ...context,
    reason: err instanceof PipelineError ? err.reason : 'unexpected_error',
    retry_in_seconds: delay,
  });
  if (retry && delay !== null) {
    await retry.scheduler
      .retryIn(delivery.receiptHandle, delay)
      .catch((e) => deps.log.warn('Could not reschedule the retry', { ...context, error: String(e) }));
  }
}

function recommendationIdOf(err: unknown): string | undefined {
  return err instanceof InvalidRecommendationError ||
    err instanceof RiskLimitError ||
    err instanceof RecommendationRefusedError
    ? err.recommendationId
    : undefined;
}

function logContext(delivery: Delivery) {
  return { message_id: delivery.messageId, receive_count: delivery.receiveCount };
}
