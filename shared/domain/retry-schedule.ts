/**
 * When a recommendation that failed for a transient reason (429, 5xx, timeout, market closed, a claim in
 * flight) should come back. Left alone, it returns after the queue's visibility timeout (185 s in the
 * stack): once, or not at all, inside a recommendation's useful life (`max_recommendation_age_minutes`,
 * 3-5 minutes by default). Instead, the attempts the queue still allows are spread over the age that is left,
 * with a margin so the last one still arrives before the recommendation is too old. Pure.
 */
export interface RetryScheduleInput {
  /** Seconds since the recommendation was created (or first sent); null when unknown. */
  readonly ageSeconds: number | null;
  readonly maxAgeSeconds: number;
  /** How many times the queue has delivered the message so far (1 on the first delivery). */
  readonly receiveCount: number;
  /** Deliveries before the queue's redrive moves the message to the DLQ. */
  readonly maxReceiveCount: number;
}

const MIN_RETRY_DELAY_SECONDS = 5;
const MAX_RETRY_DELAY_SECONDS = 900;

/**
 * Seconds until the message should be delivered again, or null to leave the queue's visibility timeout
 * alone (no attempts left, age unknown, or already too old: the next delivery refuses it either way).
 */
export function retryDelaySeconds(input: RetryScheduleInput): number | null {
  const attemptsLeft = input.maxReceiveCount - input.receiveCount;
  if (attemptsLeft <= 0 || input.ageSeconds === null || !Number.isFinite(input.ageSeconds)) return null;
  const remaining = input.maxAgeSeconds - input.ageSeconds;
  if (remaining <= 0) return null;
  // 90%: the last attempt lands before the age limit rather than exactly on it.
  const delay = Math.floor((remaining / attemptsLeft) * 0.9);
  return Math.min(MAX_RETRY_DELAY_SECONDS, Math.max(MIN_RETRY_DELAY_SECONDS, delay));
}
