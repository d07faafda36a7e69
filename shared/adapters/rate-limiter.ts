/**
 * Client-side rate limiting of broker requests, per container.
 *
 * Alpaca allows 200 requests per minute per API key, i.e. per account, across every container that uses
 * the key. Two mechanisms keep an account under it:
 * 1. A budget per container (`BROKER_REQUESTS_PER_MINUTE`, set by the stack from broker-rate-budget.ts so
 *    that the open-order function at its maximum concurrency plus the sweep stay under 200): a sliding
 *    window of send times, so no window of `windowMs` ever holds more than `requestsPerWindow` requests
 *    from this container.
 * 2. The broker's own account-wide view: every answer carries `X-Ratelimit-Remaining` / `-Reset`. When the
 *    account has nothing left (or the broker answers 429) every request of this container waits until the
 *    reset, plus jitter so that containers do not all come back at the same instant.
 *
 * The wait happens BEFORE an attempt starts (the adapter calls {@link BrokerRateLimiter.acquire} from its
 * retry loop), never inside the SDK's fetch, whose per-attempt timeout would otherwise count the wait.
 */
import { ConfigError } from '../domain/errors';
import type { RequestBudget } from '../ports';

/** Alpaca's documented limit for one API key, per minute. */
const BROKER_LIMIT_PER_MINUTE = 200;

/** Options of {@link BrokerRateLimiter}. */
export interface BrokerRateLimiterOptions {
  /** Requests this container may start in any window of `windowMs`; null: no budget, headers only. */
  readonly requestsPerWindow: number | null;
  /** Length of the window, ms. @default 60000 (tests scale it down, with the simulator's window) */
  readonly windowMs?: number;
  /** Upper bound of the random delay added after a reset, ms. @default 250 */
  readonly jitterMs?: number;
  /** Clock, ms. @default Date.now */
  readonly now?: () => number;
  /** [0, 1). @default Math.random */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What a limiter has done, for tests and the reliability figures. */
export interface RateLimiterStats {
  readonly acquired: number;
  /** Acquisitions that had to wait (budget or broker pause). */
  readonly waited: number;
  readonly totalWaitMs: number;
  /** Answers that told us to pause (429, or nothing remaining). */
  readonly pauses: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A per-container sliding-window limiter that also obeys the broker's rate-limit headers. */
export class BrokerRateLimiter implements RequestBudget {
  readonly requestsPerWindow: number | null;
  readonly windowMs: number;
  private readonly jitterMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Start times of the requests in the current window, oldest first. */
  private readonly sent: number[] = [];
  private blockedUntil = 0;
  private stats_ = { acquired: 0, waited: 0, totalWaitMs: 0, pauses: 0 };

  constructor(opts: BrokerRateLimiterOptions) {
    if (
      opts.requestsPerWindow !== null &&
      (!Number.isInteger(opts.requestsPerWindow) || opts.requestsPerWindow < 1)
    ) {
      throw new ConfigError(`requestsPerWindow must be a whole number ≥ 1, got ${opts.requestsPerWindow}`);
    }
    this.requestsPerWindow = opts.requestsPerWindow;
    this.windowMs = opts.windowMs ?? 60_000;
    this.jitterMs = opts.jitterMs ?? 250;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? defaultSleep;
  }

  get stats(): RateLimiterStats {
    return { ...this.stats_ };
  }

  /** Requests that may start now without waiting (Infinity without a budget; 0 while paused). */
  startableNow(): number {
    const now = this.now();
    if (now < this.blockedUntil) return 0;
    if (this.requestsPerWindow === null) return Infinity;
    const inWindow = this.sent.filter((t) => t > now - this.windowMs).length;
    return Math.max(0, this.requestsPerWindow - inWindow);
  }

  /** How long until one more request may start (0: now). */
  msUntilStartable(): number {
    const now = this.now();
    if (now < this.blockedUntil) return this.blockedUntil - now;
    if (this.startableNow() > 0) return 0;
    const oldest = this.sent.find((t) => t > now - this.windowMs) ?? now;
    return Math.max(0, oldest + this.windowMs - now);
  }

  /** Resolves when one more request may start; counts it. */
  async acquire(): Promise<void> {
    let waitedHere = false;
    for (;;) {
      const now = this.now();
      let waitMs = 0;
      if (now < this.blockedUntil) {
        waitMs = this.blockedUntil - now;
      } else {
        while (this.sent.length > 0 && this.sent[0] <= now - this.windowMs) this.sent.shift();
        if (this.requestsPerWindow === null || this.sent.length < this.requestsPerWindow) {
          if (this.requestsPerWindow === null) this.sent.length = 0;
          this.sent.push(now);
          this.stats_.acquired++;
          if (waitedHere) this.stats_.waited++;
          return;
        }
        // The oldest request leaves the window at sent[0] + windowMs; a little jitter spreads the waiters.
        waitMs = this.sent[0] + this.windowMs - now + 1 + Math.floor(this.random() * 10);
      }
      waitedHere = true;
      this.stats_.totalWaitMs += waitMs;
      await this.sleep(waitMs);
    }
  }

  /**
   * Reads one broker answer: a 429, or `X-Ratelimit-Remaining: 0`, pauses this container until
   * `X-Ratelimit-Reset` (unix seconds) or `Retry-After` (seconds), plus jitter. Without either header a
   * 429 pauses for one window share (windowMs / requestsPerWindow) with jitter.
   */
  observe(status: number, headers: { get(name: string): string | null }): void {
    const remaining = numberOrNull(headers.get('x-ratelimit-remaining'));
    if (status !== 429 && (remaining === null || remaining > 0)) return;
    const now = this.now();
    const retryAfter = numberOrNull(headers.get('retry-after'));
    const reset = numberOrNull(headers.get('x-ratelimit-reset'));
    let until: number;
    if (retryAfter !== null) until = now + Math.max(0, retryAfter) * 1000;
    else if (reset !== null) until = Math.max(now, reset * 1000);
    else until = now + Math.ceil(this.windowMs / (this.requestsPerWindow ?? BROKER_LIMIT_PER_MINUTE));
    until += Math.floor(this.random() * this.jitterMs);
    if (until > this.blockedUntil) {
      this.blockedUntil = until;
      this.stats_.pauses++;
    }
  }

  /** A fetch that reports every answer's status and headers to this limiter (it never waits itself). */
  observingFetch(fetchImpl: typeof fetch = fetch): typeof fetch {
    const observed: typeof fetch = async (input, init) => {
      const res = await fetchImpl(input, init);
      this.observe(res.status, res.headers);
      return res;
    };
    return observed;
  }
}

function numberOrNull(raw: string | null): number | null {
  if (raw === null || raw.trim() === '') return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

/**
 * The limiter a container uses, from `BROKER_REQUESTS_PER_MINUTE` (this function's share of the account's
 * 200/min; the stack always sets it from lib/broker-rate-budget.ts. Unset, e.g. in local tools: no
 * budget, only the broker's headers are obeyed) and `BROKER_RATE_WINDOW_MS` (default 60000; only tests
 * against a simulator with a scaled window change it). Throws {@link ConfigError} naming a bad variable.
 */
export function rateLimiterFromEnv(env: NodeJS.ProcessEnv): BrokerRateLimiter {
  const perMinute = intFromEnv(env, 'BROKER_REQUESTS_PER_MINUTE', null, 1, BROKER_LIMIT_PER_MINUTE);
  const windowMs = intFromEnv(env, 'BROKER_RATE_WINDOW_MS', 60_000, 100, 3_600_000);
  return new BrokerRateLimiter({ requestsPerWindow: perMinute, windowMs });
}

function intFromEnv<D extends number | null>(
  env: NodeJS.ProcessEnv,
  name: string,
  dflt: D,
  min: number,
  max: number,
): number | D {
  const raw = env[name]?.trim();
  if (!raw) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}
