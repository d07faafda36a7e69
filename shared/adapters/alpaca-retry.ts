/**
 * How the Alpaca adapter retries and how it maps the SDK's errors onto the project's error types.
 *
 * The SDK's own retry and client-side rate limiter are left OFF (the adapter builds `Configuration`
 * objects without `retry` / `rateLimit`, so the transport makes exactly one attempt per call): the policy
 * lives here, in one visible place, because it differs by verb:
 * - GET: retried on 429, 5xx and network errors / timeouts.
 * - POST /v2/orders (and DELETE): retried ONLY on 429, when the broker provably did not act. A 5xx or a
 *   timeout may have placed the order; retrying could place a second one, so the caller looks the order
 *   up by its deterministic client_order_id instead.
 */
import { errors } from '@alpacahq/alpaca-trade-api/rest';
import {
  BrokerRejectedError,
  DuplicateClientOrderIdError,
  PipelineError,
  TransientError,
} from '../domain/errors';

/** Retry knobs. */
export interface RetryPolicy {
  /** Retries after the first attempt. @default 2 (3 tries) */
  readonly maxRetries: number;
  /** Base of the exponential backoff, ms. @default 250 */
  readonly baseDelayMs: number;
  /** Cap of one backoff delay, ms. @default 2000 */
  readonly maxDelayMs: number;
  /** Cap of the total time spent waiting between tries, ms. @default 5000 */
  readonly totalWaitMs: number;
}

/** The defaults: 3 tries, 250 ms doubling with full jitter, at most 5 s of waiting in all. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 250,
  maxDelayMs: 2000,
  totalWaitMs: 5000,
};

/** What one failed attempt means. */
interface Classified {
  readonly reason: 'rate_limited' | 'broker_5xx' | 'timeout' | 'network' | 'rejected';
  readonly status?: number;
  /** From Retry-After or X-Ratelimit-Reset, when the broker said how long to wait. */
  readonly retryAfterMs?: number;
}

function classify(err: unknown): Classified {
  if (err instanceof errors.ApiError) {
    if (err.status === 429) return { reason: 'rate_limited', status: 429, retryAfterMs: err.retryAfterMs };
    if (err.status >= 500 || err.status === 408) return { reason: 'broker_5xx', status: err.status };
    return { reason: 'rejected', status: err.status };
  }
  // Network failures usually arrive as the SDK's FetchError, but a fetch error from another realm (a test
  // runner's sandbox, a polyfill) skips that wrapping: look at the names rather than the classes.
  const e = err as { name?: unknown; cause?: { name?: unknown } } | undefined;
  const names = [e?.name, e?.cause?.name];
  return { reason: names.includes('TimeoutError') || names.includes('AbortError') ? 'timeout' : 'network' };
}

/** A call the adapter makes: verb and path (for error messages and the retry rule). */
export interface CallSpec {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  /** Set on order submission: a `client_order_id must be unique` 422 becomes DuplicateClientOrderIdError. */
  readonly clientOrderId?: string;
}

/** Turns an SDK error into the project's error types. Already-mapped errors pass through. */
function toPipelineError(err: unknown, spec: CallSpec): PipelineError {
  if (err instanceof PipelineError) return err;
  const what = `${spec.method} ${spec.path}`;
  const c = classify(err);
  if (err instanceof errors.ApiError && c.reason === 'rejected') {
    const message = err.message || `HTTP ${err.status}`;
    if (
      spec.clientOrderId !== undefined &&
      err.status === 422 &&
      /client_order_id must be unique/i.test(message)
    ) {
      return new DuplicateClientOrderIdError(spec.clientOrderId, { cause: err });
    }
    const code = err.code === undefined ? '' : ` (code ${err.code})`;
    return new BrokerRejectedError(
      `Alpaca ${what} rejected: HTTP ${err.status}${code}: ${message}`,
      err.status,
      err.code,
      {
        cause: err,
      },
    );
  }
  const cause = (err as { cause?: { message?: unknown } } | undefined)?.cause;
  const detail =
    err instanceof errors.ApiError
      ? `HTTP ${err.status}: ${err.message}`
      : `${err instanceof Error ? err.message : String(err)}${cause?.message ? `: ${String(cause.message)}` : ''}`;
  return new TransientError(`Alpaca ${what} failed (${c.reason}): ${detail}`, {
    reason: c.reason,
    cause: err,
  });
}

/** Options of {@link withRetries}. */
export interface RetryDeps {
  readonly policy: RetryPolicy;
  /** [0, 1) source for the jitter. @default Math.random */
  readonly random?: () => number;
  /** Awaited before every attempt (the client-side rate limiter), outside the attempt's own timeout. */
  readonly beforeAttempt?: () => Promise<void>;
  /** Waits between tries. @default real timers (tests pass a clock's sleep) */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds, the error is not retryable for this verb, the tries run out, or the
 * next wait would exceed the total wait budget; then throws the mapped error.
 */
export async function withRetries<T>(spec: CallSpec, deps: RetryDeps, attempt: () => Promise<T>): Promise<T> {
  const { policy } = deps;
  const random = deps.random ?? Math.random;
  let waited = 0;
  for (let tries = 0; ; tries++) {
    try {
      if (deps.beforeAttempt) await deps.beforeAttempt();
      return await attempt();
    } catch (err) {
      const c = classify(err);
      const retryable = c.reason === 'rate_limited' || (spec.method === 'GET' && c.reason !== 'rejected');
      if (!retryable || tries >= policy.maxRetries) throw toPipelineError(err, spec);
      const backoff = random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** tries);
      // Full jitter on top of the broker's own "come back at" so concurrent callers do not stampede.
      const delay =
        c.retryAfterMs !== undefined ? Math.max(0, c.retryAfterMs) + random() * policy.baseDelayMs : backoff;
      if (waited + delay > policy.totalWaitMs) throw toPipelineError(err, spec);
      await (deps.sleep ? deps.sleep(delay) : new Promise((resolve) => setTimeout(resolve, delay)));
      waited += delay;
    }
  }
}
