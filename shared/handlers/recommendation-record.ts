/**
 * The SQS side of the open path: takes a record apart into its body and delivery facts, parses the
 * recommendation, and hands both to the use case. A body that does not parse is refused here (recorded with
 * its reason, then thrown so the record lands in `batchItemFailures`).
 */
import type { SQSRecord } from 'aws-lambda';
import { parseRecommendationMessage, type AnyRecommendation } from '../domain/recommendation';
import type { Delivery, OpenOutcome, OpenPositionDeps } from '../use-cases/open-position';
import type { SpreadOpenOutcome } from '../use-cases/open-spread';
import { handleRecommendation, recordRefusal, type RetryOptions } from '../use-cases/handle-recommendation';

/** The longest body excerpt kept with a refusal. */
const BODY_EXCERPT_CHARS = 1000;

/** The delivery facts of one SQS record (receive count, send time, receipt handle). */
export function deliveryOf(record: SQSRecord): Delivery {
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1);
  const sent = Number(record.attributes?.SentTimestamp);
  return {
    messageId: record.messageId,
    receiveCount: Number.isFinite(receiveCount) && receiveCount > 0 ? receiveCount : 1,
    ...(Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent) } : {}),
    receiptHandle: record.receiptHandle,
    bodyExcerpt: (record.body ?? '').slice(0, BODY_EXCERPT_CHARS),
  };
}

/**
 * One SQS record of the open-order function. Success acknowledges the message; a throw puts it in
 * `batchItemFailures` (see {@link handleRecommendation} for refusals and retries).
 */
export async function handleRecommendationRecord(
  record: SQSRecord,
  deps: OpenPositionDeps,
  retry?: RetryOptions,
): Promise<OpenOutcome | SpreadOpenOutcome> {
  const delivery = deliveryOf(record);
  let rec: AnyRecommendation;
  try {
    rec = parseRecommendationMessage(record.body, deps.now());
  } catch (err) {
    await recordRefusal(err, delivery, deps);
    throw err;
  }
  return handleRecommendation(rec, delivery, deps, retry);
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
