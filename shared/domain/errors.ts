/**
 * Error hierarchy. A *permanent* error means "retrying the same input can never succeed" (the message
 * belongs in the dead-letter queue, with its reason); a *transient* one means "try again later"
 * (429, 5xx, timeouts, market closed). Handlers decide retry vs. dead-letter from the type alone.
 */
export class PipelineError extends Error {
  /** True when retrying the same work later may succeed. */
  readonly transient: boolean;
  /** Machine-readable reason, stable across releases (used in logs, metrics and DLQ annotations). */
  readonly reason: string;

  constructor(message: string, opts: { reason: string; transient: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PipelineError';
    this.reason = opts.reason;
    this.transient = opts.transient;
  }
}

/** The message itself is wrong: bad JSON, schema violation, inconsistent fields. Never retried. */
export class InvalidRecommendationError extends PipelineError {
  constructor(
    message: string,
    readonly recommendationId?: string,
    opts: { reason?: string; cause?: unknown } = {},
  ) {
    super(message, { reason: opts.reason ?? 'invalid_recommendation', transient: false, cause: opts.cause });
    this.name = 'InvalidRecommendationError';
  }
}

/** A valid message refused by the account's risk limits (kill switch, size, premium, age...). Never retried. */
export class RiskLimitError extends PipelineError {
  constructor(
    message: string,
    readonly limit: string,
    readonly recommendationId?: string,
  ) {
    super(message, { reason: `risk_limit:${limit}`, transient: false });
    this.name = 'RiskLimitError';
  }
}

/**
 * A recommendation whose open was refused before (the broker rejected its order, or its claim was closed
 * unsent): every delivery of it is refused again with the first refusal's reason, so the message reaches
 * the dead-letter queue instead of being acknowledged as a duplicate. Never retried.
 */
export class RecommendationRefusedError extends PipelineError {
  /** `message` is the first refusal's own message, so every delivery reports the same why. */
  constructor(
    message: string,
    readonly recommendationId: string,
    reason: string,
  ) {
    super(message, { reason, transient: false });
    this.name = 'RecommendationRefusedError';
  }
}

/** Try again later: the market is closed, the broker throttled us or failed, a reply was lost. */
export class TransientError extends PipelineError {
  constructor(message: string, opts: { reason?: string; cause?: unknown } = {}) {
    super(message, { reason: opts.reason ?? 'transient', transient: true, cause: opts.cause });
    this.name = 'TransientError';
  }
}

/** The broker refused an order for a reason that will not change on retry (422/403 with a code). */
export class BrokerRejectedError extends PipelineError {
  /** A 403 `insufficient qty available`: what the broker's body said holds the contracts (when it said). */
  readonly insufficientQty?: InsufficientQtyDetail;

  constructor(
    message: string,
    readonly status: number,
    readonly code?: number | string,
    opts: { cause?: unknown; insufficientQty?: InsufficientQtyDetail } = {},
  ) {
    super(message, { reason: 'broker_rejected', transient: false, cause: opts.cause });
    this.name = 'BrokerRejectedError';
    if (opts.insufficientQty) this.insufficientQty = opts.insufficientQty;
  }

  /** The broker refused a close for more than is available (403 `insufficient qty available`). */
  get isInsufficientQty(): boolean {
    return this.status === 403 && (!!this.insufficientQty || /insufficient qty/i.test(this.message));
  }
}

/**
 * The body of Alpaca's 403 `insufficient qty available for order` (its numbers are strings there): what
 * is available, what is held, what open orders hold, and those orders' ids. null: the body did not say.
 */
export interface InsufficientQtyDetail {
  readonly available: number | null;
  readonly existingQty: number | null;
  readonly heldForOrders: number | null;
  readonly relatedOrders: readonly string[];
}

/** The broker answered with a `client_order_id must be unique` rejection: the order already exists. */
export class DuplicateClientOrderIdError extends PipelineError {
  constructor(
    readonly clientOrderId: string,
    opts: { cause?: unknown } = {},
  ) {
    super(`client_order_id ${clientOrderId} already used at the broker`, {
      reason: 'duplicate_client_order_id',
      transient: false,
      cause: opts.cause,
    });
    this.name = 'DuplicateClientOrderIdError';
  }
}

/** Configuration (environment, ACCOUNT_CONFIG, CDK context) is invalid. Fails loudly at cold start. */
export class ConfigError extends PipelineError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { reason: 'config', transient: false, cause: opts.cause });
    this.name = 'ConfigError';
  }
}

/** True when `err` should be retried later rather than dead-lettered. Unknown errors count as transient. */
export function isTransient(err: unknown): boolean {
  if (err instanceof PipelineError) return err.transient;
  return true;
}

/** A conditional write lost a race (another sweep or delivery changed the record first). */
export class ConcurrentUpdateError extends PipelineError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { reason: 'concurrent_update', transient: true, cause: opts.cause });
    this.name = 'ConcurrentUpdateError';
  }
}

/**
 * Some live position items could not be read (a record that is not JSON: a hand edit gone wrong). Carries
 * the positions that could, so a sweep manages those and alerts on the rest instead of stopping every exit.
 */
export class UnreadableRecordsError<T = unknown> extends PipelineError {
  constructor(
    readonly readable: T[],
    readonly unreadable: ReadonlyArray<{ readonly key: string; readonly reason: string }>,
  ) {
    super(
      `${unreadable.length} position item(s) could not be read: ` +
        unreadable.map((u) => `${u.key} (${u.reason})`).join('; '),
      { reason: 'unreadable_records', transient: false },
    );
    this.name = 'UnreadableRecordsError';
  }
}

/**
 * A position record was asked to move between two states the lifecycle does not connect (a bug, never
 * retried): see `shared/domain/position-lifecycle.ts` for the table.
 */
export class IllegalTransitionError extends PipelineError {
  constructor(
    readonly transition: string,
    readonly from: string,
    readonly to: string,
    readonly positionId: string,
  ) {
    super(`illegal transition ${transition}: ${from} -> ${to} (position ${positionId})`, {
      reason: 'illegal_transition',
      transient: false,
    });
    this.name = 'IllegalTransitionError';
  }
}
