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
  type InsufficientQtyDetail,
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

/**
 * A 403 `insufficient qty available` carries in its body what holds the contracts (`available`,
 * `existing_qty`, `held_for_orders`, `related_orders`); the SDK keeps only code and message, so the body is
 * read again from the response it keeps (unread: the SDK read a clone). Anything else passes through.
 */
async function withRefusalBody(mapped: PipelineError, err: unknown): Promise<PipelineError> {
  if (!(mapped instanceof BrokerRejectedError) || mapped.status !== 403) return mapped;
  if (!/insufficient qty/i.test(mapped.message)) return mapped;
  let detail: InsufficientQtyDetail | undefined;
  try {
    const response = (err as { response?: { clone?: () => { text(): Promise<string> } } }).response;
    const text = response?.clone ? await response.clone().text() : '';
    detail = insufficientQtyOf(text ? (JSON.parse(text) as unknown) : null);
  } catch {
    detail = undefined;
  }
  if (!detail) return mapped;
  return new BrokerRejectedError(mapped.message, mapped.status, mapped.code, {
    cause: mapped.cause,
    insufficientQty: detail,
  });
}

/** The fields of a 403 `insufficient qty available` body; undefined when it has none of them. */
export function insufficientQtyOf(body: unknown): InsufficientQtyDetail | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const num = (v: unknown): number | null => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isFinite(n) ? n : null;
  };
  const related = Array.isArray(b.related_orders)
    ? b.related_orders.filter((x): x is string => typeof x === 'string' && x !== '')
    : [];
  const detail: InsufficientQtyDetail = {
    available: num(b.available),
    existingQty: num(b.existing_qty),
    heldForOrders: num(b.held_for_orders),
    relatedOrders: related,
  };
  const said =
    detail.available !== null ||
    detail.existingQty !== null ||
    detail.heldForOrders !== null ||
    related.length > 0;
  return said ? detail : undefined;
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
      if (!retryable || tries >= policy.maxRetries)
        throw await withRefusalBody(toPipelineError(err, spec), err);
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
