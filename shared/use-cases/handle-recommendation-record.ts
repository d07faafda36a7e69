import type { SQSRecord } from 'aws-lambda';
import { openPosition, type OpenOutcome, type OpenPositionDeps } from './open-position';
import { InvalidRecommendationError, PipelineError, RiskLimitError, isTransient } from '../domain/errors';
import { Metric } from '../metric-names';
import { retryDelaySeconds } from '../domain/retry-schedule';
import { messageAgeSeconds } from '../domain/risk';
import type { RetryScheduler } from '../ports';

/** How a transiently failed message is brought back sooner than the queue's visibility timeout. */
export interface RetryOptions {
  readonly scheduler: RetryScheduler;
  /** The queue's redrive maxReceiveCount. */
  readonly maxReceiveCount: number;
}

/**
 * One SQS record of the open-order function. Success acknowledges the message; a throw puts it in
 * `batchItemFailures`. A permanent refusal is logged with its specific reason, recorded in the table (so the
 * dead-letter path keeps the why), and rethrown so the queue's redrive moves the message to the DLQ after
 * maxReceiveCount — never silently acknowledged. A transient failure is rethrown to be retried.
 */
export async function handleRecommendationRecord(
  record: SQSRecord,
  deps: OpenPositionDeps,
  retry?: RetryOptions,
): Promise<OpenOutcome> {
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1);
  const sent = Number(record.attributes?.SentTimestamp);
  const context = { message_id: record.messageId, receive_count: receiveCount };
  try {
    const outcome = await openPosition(
      {
        body: record.body,
        messageId: record.messageId,
        sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent) : undefined,
        receiveCount,
      },
      deps,
    );
    deps.log.info(`Recommendation ${outcome.position.recommendation_id}: ${outcome.kind}`, {
      ...context,
      recommendation_id: outcome.position.recommendation_id,
      state: outcome.position.state,
      order_id: outcome.position.open_order_id,
    });
    return outcome;
  } catch (err) {
    const reason = err instanceof PipelineError ? err.reason : 'unexpected_error';
    const recommendationId =
      err instanceof InvalidRecommendationError || err instanceof RiskLimitError
        ? err.recommendationId
        : undefined;
    if (isTransient(err)) {
      const delay = retry
        ? retryDelaySeconds({
            ageSeconds: ageSeconds(record, deps.now()),
            maxAgeSeconds: deps.account.limits.max_recommendation_age_minutes * 60,
            receiveCount,
            maxReceiveCount: retry.maxReceiveCount,
          })
        : null;
      deps.log.warn(`Recommendation will be retried: ${(err as Error).message}`, {
        ...context,
        reason,
        retry_in_seconds: delay,
      });
      if (retry && delay !== null) {
        await retry.scheduler
          .retryIn(record.receiptHandle, delay)
          .catch((e) => deps.log.warn('Could not reschedule the retry', { ...context, error: String(e) }));
      }
    } else {
      deps.log.error(`Recommendation refused (${reason}): ${(err as Error).message}`, {
        ...context,
        reason,
        recommendation_id: recommendationId,
      });
      deps.metrics.count(Metric.RecommendationsRejected, 1, { reason: reason.split(':')[0] });
      await deps.store
        .recordRejection({
          account: deps.account.name,
          key: recommendationId ?? `msg:${record.messageId}`,
          reason,
          detail: (err as Error).message.slice(0, 2000),
          message_id: record.messageId,
          body_excerpt: (record.body ?? '').slice(0, 1000),
          receive_count: receiveCount,
          at: deps.now().toISOString(),
        })
        .catch((e) => deps.log.warn('Could not record the rejection', { ...context, error: String(e) }));
    }
    throw err;
  }
}

/** The message's age (see {@link messageAgeSeconds}), reading `created_at` from the body when it can. */
function ageSeconds(record: SQSRecord, now: Date): number | null {
  let createdAt: string | undefined;
  try {
    const created = (JSON.parse(record.body) as { created_at?: unknown })?.created_at;
    if (typeof created === 'string') createdAt = created;
  } catch {
    // An unparsable body is never transient; the send time still gives an age.
  }
  return messageAgeSeconds(createdAt, Number(record.attributes?.SentTimestamp), now);
}

/** Option symbols named by the batch's bodies (best effort), so one snapshot call serves the whole batch. */
export function symbolsOfBatch(records: readonly SQSRecord[]): string[] {
  const out = new Set<string>();
  for (const r of records) {
    try {
      const body = JSON.parse(r.body) as { option_symbol?: unknown };
      if (typeof body?.option_symbol === 'string' && body.option_symbol.length <= 32)
        out.add(body.option_symbol);
    } catch {
      // Bad bodies are refused individually by the record handler.
    }
  }
  return [...out];
}
