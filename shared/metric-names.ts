/**
 * CloudWatch metric names (embedded metric format, via Powertools Metrics). The infrastructure wires
 * alarms and dashboards to exactly these names, so they live in one place.
 */
export const METRIC_NAMESPACE = 'OpsPipeline';
/** Every metric carries this dimension with the account name. */
export const ACCOUNT_DIMENSION = 'account';

export const Metric = {
  /** Opening orders accepted by the broker. */
  OrdersOpened: 'orders_opened',
  /** Recommendations refused (bad input or a risk limit) and sent to the dead-letter path. */
  RecommendationsRejected: 'recommendations_rejected',
  /** Orders the broker refused (422/403). */
  BrokerRejections: 'broker_rejections',
  /** Exit orders sent, with an extra `reason` dimension (stop_loss, take_profit, ...). */
  ExitsSubmitted: 'exits_submitted',
  /** Positions closed, any reason. */
  PositionsClosed: 'positions_closed',
  /** Alert: the broker holds a short the pipeline never opened. */
  UnexpectedShort: 'unexpected_short',
  /** Alert: the broker holds a contract the table does not know. */
  UntrackedPosition: 'untracked_position',
  /** Alert: the broker holds less than the table says (record brought down, flagged). */
  BrokerQtyMismatch: 'broker_qty_mismatch',
  /** Alert: a position closed outside the pipeline (no order sent). */
  ClosedOutsidePipeline: 'closed_outside_pipeline',
  /** Milliseconds one sweep took. */
  SweepDuration: 'sweep_duration_ms',
  /** Open positions seen by a sweep. */
  OpenPositions: 'open_positions',
  /** Alert: an exit rule fired but the broker confirms nothing available to close (no order sent). */
  CloseBlocked: 'close_blocked',
  /** Alert: the broker refused an exit order. */
  ExitRejected: 'exit_rejected',
  /** Alert: the quote read failed, or every position the sweep evaluated had no usable quote. */
  QuoteFeedDown: 'quote_feed_down',
  /** Alert: a position has been `closing` with no working order at the broker for 3 sweep intervals. */
  ClosingStuck: 'closing_stuck',
  /** Alert: a broker snapshot was not trusted (every tracked contract missing at once, or a partial reply). */
  BrokerSnapshotSuspect: 'broker_snapshot_suspect',
  /** Alert: a pending open's order is unknown to the broker. */
  OpenOrderMissing: 'open_order_missing',
  /**
   * Alert: shares were delivered by an assignment or exercise the sweep booked (the contract named); they
   * are not tracked by the pipeline (flattened only with `limits.flatten_assigned_shares`).
   */
  AssignmentShares: 'assignment_shares',
  /**
   * Alert: a spread's leg is not held in full (assigned early, closed by hand, liquidated by the broker):
   * the spread is unwound in the safe order (docs/SPREADS.md), the spread named.
   */
  OrphanLeg: 'orphan_leg',
  /** Per-position errors a sweep caught and left for the next sweep (the sweep itself "succeeded"). */
  SweepPositionErrors: 'sweep_position_errors',
  /** Steps of a sweep that failed as a whole (a named boundary caught it; the later steps still ran). */
  SweepStepErrors: 'sweep_step_errors',
  /**
   * Dollars realized (signed) by each position the sweep closes, its partial exits included (booked when it
   * closes): summed over a period it is that period's realized P&L.
   */
  RealizedPnl: 'realized_pnl',
  /**
   * The account's P&L of the New York trading day so far, dollars: realized by positions closed since the
   * day began plus unrealized at the sweep's quotes (executable side). A level, published once per sweep.
   */
  DayPnl: 'day_pnl',
  /**
   * Entry premium of the live positions, dollars (entry price × contracts held × 100, longs and shorts):
   * a level, published once per sweep.
   */
  OpenPremium: 'open_premium',
  /** Alert: the day's loss reached `limits.max_daily_loss`; the breaker switched openings off. */
  DailyLoss: 'daily_loss_breaker',
  /** Trade events that could not be published (best effort: the trade itself went on). */
  TradeEventsFailed: 'trade_events_failed',
} as const;

export type MetricName = (typeof Metric)[keyof typeof Metric];

/**
 * Every alert a sweep can raise. Each kind is counted in one metric (its own, except `unreadable_record`,
 * and `unreadable_order`, which an operator handles like an untracked position) and every such metric has an alarm.
 */
export const ALERT_METRICS = {
  unexpected_short: Metric.UnexpectedShort,
  untracked_position: Metric.UntrackedPosition,
  unreadable_record: Metric.UntrackedPosition,
  // An order at the broker the adapter cannot read (a notional order placed by hand, `qty: null`): left
  // out of the listing, never taking the sweep down; an operator handles it like an untracked position.
  unreadable_order: Metric.UntrackedPosition,
  broker_qty_mismatch: Metric.BrokerQtyMismatch,
  // A broker report the position's ledger cannot book (another contract, a side that does not reduce it, a
  // fill without a price): the books may now differ from the broker's, like a quantity mismatch.
  ledger_refused: Metric.BrokerQtyMismatch,
  closed_outside_pipeline: Metric.ClosedOutsidePipeline,
  close_blocked: Metric.CloseBlocked,
  exit_rejected: Metric.ExitRejected,
  // A 403 "insufficient qty available" on an exit: an open order (a person's, or ours) holds the contracts;
  // like close_blocked, the exit waits for what is available.
  exit_held_by_order: Metric.CloseBlocked,
  quote_feed_down: Metric.QuoteFeedDown,
  closing_stuck: Metric.ClosingStuck,
  broker_snapshot_suspect: Metric.BrokerSnapshotSuspect,
  open_order_missing: Metric.OpenOrderMissing,
  assignment_shares: Metric.AssignmentShares,
  orphan_leg: Metric.OrphanLeg,
  // A contract gone at the broker that an option event can explain, before the activities arrived (on
  // paper: the next trading day): alerted once, with the closed-outside alarm it would otherwise raise.
  option_event_pending: Metric.ClosedOutsidePipeline,
  daily_loss: Metric.DailyLoss,
  // The protective stop resting at the broker was cancelled, expired or refused outside this pipeline's
  // doing: like an exit rejection, the position depends on the sweep until it is placed again.
  broker_stop_missing: Metric.ExitRejected,
  // A plan's at_expiry exercise / do_not_exercise the broker refused, that failed, or that the close passed
  // before it was sent: like an exit rejection, the position's expiry is not what the plan asked.
  expiry_instruction_failed: Metric.ExitRejected,
} as const satisfies Record<string, MetricName>;

/** The kinds of alert a sweep raises (see {@link ALERT_METRICS}). */
export type AlertKind = keyof typeof ALERT_METRICS;
