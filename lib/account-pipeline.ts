import * as path from 'node:path';
import { Annotations, Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  LogQueryWidget,
  MathExpression,
  TextWidget,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaFunctionTarget } from 'aws-cdk-lib/aws-events-targets';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { TradeEventsTopic } from './trade-events-topic';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AccountConfig } from '../shared/domain/account-config';
import { ConfigError } from '../shared/domain/errors';
import {
  ACCOUNT_DIMENSION,
  ALERT_METRICS,
  METRIC_NAMESPACE,
  Metric,
  type MetricName,
} from '../shared/metric-names';

/** A metric some sweep alert counts in: each has an alarm. */
type AlertMetric = (typeof ALERT_METRICS)[keyof typeof ALERT_METRICS];
import {
  ALPACA_REQUESTS_PER_MINUTE,
  OPEN_ORDER_EVENT_SOURCE,
  brokerRequestBudgets,
  exitEvaluatorRequestsPerMinute,
} from './broker-rate-budget';
import { PipelineFunction, grantAlpacaSecret, grantPositionsTable } from './pipeline-function';

/** Alpaca trading API for paper accounts. */
export const ALPACA_PAPER_API_URL = 'https://paper-api.alpaca.markets';
/** Alpaca trading API for live (real money) accounts. */
export const ALPACA_LIVE_API_URL = 'https://api.alpaca.markets';
/** Alpaca market data API (the same for paper and live). */
export const ALPACA_DATA_API_URL = 'https://data.alpaca.markets';

/** Lambda caps the whole environment at 4 KB; leave room for the other variables. */
const MAX_ACCOUNT_CONFIG_JSON_LENGTH = 3000;

/**
 * Open-order timeout: a full batch is 13 broker calls of a few hundred ms, plus retries. It must stay
 * below the claim lease (`CLAIM_LEASE_SECONDS`, 120 s by default, shared/config.ts), which stays below
 * the visibility timeout: a retried message then finds an abandoned claim resumable.
 */
export const OPEN_ORDER_TIMEOUT = Duration.seconds(30);
/** Lambda's guidance: visibility ≥ 6 × function timeout + batching window, so retries never overlap. */
const RECOMMENDATIONS_VISIBILITY_TIMEOUT = Duration.seconds(
  6 * OPEN_ORDER_TIMEOUT.toSeconds() + OPEN_ORDER_EVENT_SOURCE.maxBatchingWindowSeconds,
);
/**
 * Receives before a recommendation is dead-lettered: a transient failure (429, 5xx) gets two more
 * tries, about 3 minutes apart; a recommendation older than its staleness limit is refused anyway.
 */
export const RECOMMENDATIONS_MAX_RECEIVE_COUNT = 3;

/**
 * The sweep's timeout: 2 s short of its interval (Lambda's 15-minute cap beyond that). A polling sweep
 * stops on its own 5 s before the next one is due, measured from its scheduled time (sweep/poll.ts); the
 * timeout is the backstop, long enough for the polls to cover the minute.
 */
export function sweepTimeout(sweepIntervalMinutes: number): Duration {
  return Duration.seconds(Math.min(900, sweepIntervalMinutes * 60 - 2));
}

/**
 * Sweep intervals in a row without an invocation before the heartbeat alarm fires: one interval without a
 * datapoint can be the schedule's jitter or CloudWatch's delay, three cannot (3 minutes for a 1-minute sweep).
 */
export const SWEEP_HEARTBEAT_PERIODS = 3;

/** Where the handlers live, relative to this file. */
const DEFAULT_ENTRIES = {
  openOrder: path.join(__dirname, '..', 'lambdas', 'open-order', 'handler.ts'),
  exitEvaluator: path.join(__dirname, '..', 'lambdas', 'exit-evaluator', 'handler.ts'),
};

/** Properties of {@link AccountPipeline}. */
export interface AccountPipelineProps {
  /** The validated account, defaults filled in. */
  readonly account: AccountConfig;
  /**
   * The account object as the user wrote it. Both functions receive it as JSON in `ACCOUNT_CONFIG` and
   * validate it again at cold start, so the schema's defaults live in one place: the code.
   */
  readonly accountInput: Readonly<Record<string, unknown>>;
  /** The positions table shared by all accounts. */
  readonly table: ITable;
  /** The table's index of live positions, which the sweep queries. */
  readonly liveIndexName: string;
  /** Where every alarm notifies. */
  readonly alarmTopic: ITopic;
  /**
   * Where both functions publish trade events (TRADE_EVENTS_TOPIC_ARN).
   * @default - none: trade events go nowhere
   */
  readonly tradeEvents?: TradeEventsTopic;
  /**
   * The deploy-time confirmation that an account with `paper: false` may trade real money.
   * @default false
   */
  readonly allowLive?: boolean;
  /**
   * The deploy-time confirmation that a live account (`paper: false`) may price its exits on the
   * `indicative` option feed (`market_data.feed`), whose prices are not the tradable market.
   * @default false
   */
  readonly allowLiveIndicative?: boolean;
  /**
   * How long function logs are kept.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * The open-order handler's source file.
   * @default lambdas/open-order/handler.ts
   */
  readonly openOrderEntry?: string;
  /**
   * The exit-evaluator handler's source file.
   * @default lambdas/exit-evaluator/handler.ts
   */
  readonly exitEvaluatorEntry?: string;
}

/**
 * Everything one account needs: its recommendations queue and DLQ, the open-order function they
 * trigger, the exit evaluator and its schedule, alarms and a dashboard. Each function may read this
 * account's secret, use this account's items of the positions table and (open-order) consume this
 * account's queue: nothing else.
 */
export class AccountPipeline extends Construct {
  /** Recommendations for this account; producers send here. */
  readonly queue: IQueue;
  /** Recommendations that failed `maxReceiveCount` times or were refused. */
  readonly deadLetterQueue: IQueue;
  /** Opens positions from recommendations. */
  readonly openOrderFunction: LambdaFunction;
  /** Sweeps open positions and sends exits. */
  readonly exitEvaluatorFunction: LambdaFunction;
  /** The alarms of this account. */
  readonly alarms: readonly Alarm[];
  /** Opens, exits, rejections, queues and sweeps of this account. */
  readonly dashboard: Dashboard;
  private readonly accountName: string;

  constructor(scope: Construct, id: string, props: AccountPipelineProps) {
    super(scope, id);
    const { account, accountInput } = props;
    this.accountName = account.name;
    if (accountInput.name !== account.name) {
      throw new Error(
        `AccountPipeline ${id}: accountInput.name must match account.name "${account.name}", got ${JSON.stringify(accountInput.name)}`,
      );
    }
    if (!account.paper && !props.allowLive) {
      throw new ConfigError(
        `Account "${account.name}" has "paper": false (live trading with real money), but this deploy did not ` +
          `confirm live trading. Deploy with -c allowLive=true to confirm, or set "paper": true.`,
      );
    }
    if (!account.paper && account.market_data.feed === 'indicative' && !props.allowLiveIndicative) {
      throw new ConfigError(
        `Account "${account.name}" is live ("paper": false) on the "indicative" option feed ` +
          `(market_data.feed, the default), whose prices are not the tradable market. Set ` +
          `"market_data": {"feed": "opra"} (needs Alpaca's OPRA subscription), or deploy with ` +
          `-c allowLiveIndicative=true to confirm.`,
      );
    }
    const accountConfigJson = JSON.stringify(accountInput);
    if (accountConfigJson.length > MAX_ACCOUNT_CONFIG_JSON_LENGTH) {
      throw new Error(
        `Account "${account.name}": its configuration is ${accountConfigJson.length} characters of JSON; ` +
          `functions receive it in an environment variable, limited here to ${MAX_ACCOUNT_CONFIG_JSON_LENGTH}`,
      );
    }
    this.warnIfSweepCrowdsOutOpens(account);

    // The secret is created by the operator (see the README), never by the stack: only its name is here.
    const secret = Secret.fromSecretNameV2(this, 'AlpacaSecret', account.secret_name);
    const environment = {
      ACCOUNT_NAME: account.name,
      ACCOUNT_CONFIG: accountConfigJson,
      APCA_API_BASE_URL: account.paper ? ALPACA_PAPER_API_URL : ALPACA_LIVE_API_URL,
      APCA_API_DATA_URL: ALPACA_DATA_API_URL,
    };
    // Each function's share of the account's 200 requests/minute (client-side budget per container).
    const budgets = brokerRequestBudgets(
      account.limits.max_open_positions,
      account.sweep_interval_minutes,
      account.sweep_poll_seconds,
    );

    // --- Recommendations → open-order -------------------------------------------------------------
    const deadLetterQueue = new Queue(this, 'RecommendationsDlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const queue = new Queue(this, 'Recommendations', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: RECOMMENDATIONS_VISIBILITY_TIMEOUT,
      receiveMessageWaitTime: Duration.seconds(20),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: RECOMMENDATIONS_MAX_RECEIVE_COUNT },
    });

    const openOrder = new PipelineFunction(this, 'OpenOrder', {
      entry: props.openOrderEntry ?? DEFAULT_ENTRIES.openOrder,
      description: `ops-pipeline ${account.name}: opens positions from recommendations`,
      serviceName: 'open-order',
      timeout: OPEN_ORDER_TIMEOUT,
      environment: { ...environment, BROKER_REQUESTS_PER_MINUTE: String(budgets.openOrder) },
      logRetention: props.logRetention,
    });
    grantAlpacaSecret(openOrder.function, secret);
    grantPositionsTable(openOrder.function, props.table, props.liveIndexName, account.name);
    // Transient failures (429, 5xx, market closed) come back on a schedule that fits the recommendation's
    // age limit instead of after the full visibility timeout (shared/domain/retry-schedule.ts). The
    // ChangeMessageVisibility permission comes with the event source's consume grant below.
    openOrder.function.addEnvironment('RECOMMENDATIONS_QUEUE_URL', queue.queueUrl);
    openOrder.function.addEnvironment(
      'RECOMMENDATIONS_MAX_RECEIVE_COUNT',
      String(RECOMMENDATIONS_MAX_RECEIVE_COUNT),
    );
    // Grants this function consume access to this queue only. Batch size, window and concurrency keep
    // the account inside Alpaca's 200 requests/minute: see broker-rate-budget.ts for the arithmetic.
    openOrder.function.addEventSource(
      new SqsEventSource(queue, {
        batchSize: OPEN_ORDER_EVENT_SOURCE.batchSize,
        maxBatchingWindow: Duration.seconds(OPEN_ORDER_EVENT_SOURCE.maxBatchingWindowSeconds),
        maxConcurrency: OPEN_ORDER_EVENT_SOURCE.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    // --- Schedule → exit evaluator ----------------------------------------------------------------
    const interval = Duration.minutes(account.sweep_interval_minutes);
    const exitEvaluator = new PipelineFunction(this, 'ExitEvaluator', {
      entry: props.exitEvaluatorEntry ?? DEFAULT_ENTRIES.exitEvaluator,
      description: `ops-pipeline ${account.name}: sweeps open positions and sends exits`,
      serviceName: 'exit-evaluator',
      // Two sweeps never overlap: each ends before the next is due, and a sweep that fires while
      // another still runs is throttled rather than run beside it.
      timeout: sweepTimeout(account.sweep_interval_minutes),
      reservedConcurrentExecutions: 1,
      environment: { ...environment, BROKER_REQUESTS_PER_MINUTE: String(budgets.exitEvaluator) },
      logRetention: props.logRetention,
    });
    grantAlpacaSecret(exitEvaluator.function, secret);
    grantPositionsTable(exitEvaluator.function, props.table, props.liveIndexName, account.name);
    // A throttled or failed sweep is not worth running late: the next one is at most an interval away.
    exitEvaluator.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: interval });
    new Rule(this, 'SweepSchedule', {
      description: `ops-pipeline ${account.name}: runs the exit sweep every ${account.sweep_interval_minutes} min`,
      schedule: Schedule.rate(interval),
      targets: [
        new LambdaFunctionTarget(exitEvaluator.function, { retryAttempts: 0, maxEventAge: interval }),
      ],
    });

    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;
    this.openOrderFunction = openOrder.function;
    this.exitEvaluatorFunction = exitEvaluator.function;
    if (props.tradeEvents) {
      for (const fn of [openOrder.function, exitEvaluator.function]) {
        fn.addEnvironment('TRADE_EVENTS_TOPIC_ARN', props.tradeEvents.topic.topicArn);
        props.tradeEvents.grantPublish(fn);
      }
    }
    this.alarms = this.createAlarms(account, props.alarmTopic);
    this.dashboard = this.createDashboard(account);
    this.dashboard.addWidgets(brokerStopWidget(exitEvaluator.logGroup.logGroupName));
  }

  /** A Metrics Insights query over one of the pipeline's metrics for this account, whatever its other dimensions. */
  private accountMetric(
    metric: MetricName,
    stat: 'SUM' | 'MAX' | 'MIN' | 'AVG',
    period: Duration,
    groupBy?: string,
  ): MathExpression {
    return new MathExpression({
      expression:
        `SELECT ${stat}(${metric}) FROM "${METRIC_NAMESPACE}" WHERE ${ACCOUNT_DIMENSION} = '${this.accountName}'` +
        (groupBy ? ` GROUP BY ${groupBy}` : ''),
      usingMetrics: {},
      period,
      label: groupBy ? '' : metric,
    });
  }

  private createAlarms(account: AccountConfig, topic: ITopic): Alarm[] {
    const action = new SnsAction(topic);
    const alarms: Alarm[] = [];
    const alarm = (
      id: string,
      description: string,
      metric: IMetric,
      threshold: number,
      options: {
        evaluationPeriods?: number;
        datapointsToAlarm?: number;
        comparisonOperator?: ComparisonOperator;
        treatMissingData?: TreatMissingData;
      } = {},
    ): void => {
      const created = new Alarm(this, id, {
        alarmDescription: `ops-pipeline ${account.name}: ${description}`,
        metric,
        threshold,
        comparisonOperator:
          options.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        datapointsToAlarm: options.datapointsToAlarm,
        treatMissingData: options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      alarms.push(created);
    };
    const fiveMinutes = Duration.minutes(5);
    const interval = Duration.minutes(account.sweep_interval_minutes);

    alarm(
      'DlqMessagesAlarm',
      'recommendations are in the dead-letter queue (refused or failed 3 times); read them, then redrive or purge',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      1,
    );
    const maxAgeSeconds = account.limits.max_recommendation_age_minutes * 60;
    alarm(
      'OldestRecommendationAlarm',
      `the oldest queued recommendation is older than the staleness limit (${maxAgeSeconds} s): opens are not keeping up`,
      this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
      maxAgeSeconds,
    );
    alarm(
      'OpenOrderErrorsAlarm',
      'the open-order function failed whole batches (crash, timeout or every record failing)',
      this.openOrderFunction.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      1,
    );
    alarm(
      'OpenOrderThrottlesAlarm',
      'the open-order function was throttled (account concurrency exhausted?)',
      this.openOrderFunction.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
      1,
    );
    // One failed sweep is retried by the next; alarm when failures persist (2 of the last 3 periods).
    alarm(
      'ExitEvaluatorErrorsAlarm',
      'sweeps keep failing: open positions are not being watched for exits',
      this.exitEvaluatorFunction.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      1,
      { evaluationPeriods: 3, datapointsToAlarm: 2 },
    );
    alarm(
      'ExitEvaluatorThrottlesAlarm',
      'a sweep was due while the previous one still ran (throttled by reserved concurrency 1)',
      this.exitEvaluatorFunction.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
      1,
    );
    // The heartbeat: every other alarm needs a sweep to report something, so a schedule that was disabled
    // or deleted, or a sweep that never starts, would be silent while positions go unmanaged. Lambda counts
    // every invocation that starts (a throttled one is not counted); missing data is a missed sweep.
    alarm(
      'SweepHeartbeatAlarm',
      `no sweep ran for ${SWEEP_HEARTBEAT_PERIODS} sweep intervals in a row (${SWEEP_HEARTBEAT_PERIODS * account.sweep_interval_minutes} min): ` +
        'open positions are not being watched; is the schedule enabled and the function there?',
      this.exitEvaluatorFunction.metricInvocations({ period: interval, statistic: 'Sum' }),
      1,
      {
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.BREACHING,
        evaluationPeriods: SWEEP_HEARTBEAT_PERIODS,
        datapointsToAlarm: SWEEP_HEARTBEAT_PERIODS,
      },
    );
    const sweepThresholdMs = Math.round(interval.toMilliseconds() * 0.8);
    alarm(
      'SweepDurationAlarm',
      `sweeps take over 80% of the ${account.sweep_interval_minutes}-minute interval (${sweepThresholdMs} ms)`,
      this.accountMetric(Metric.SweepDuration, 'MAX', interval),
      sweepThresholdMs,
      { evaluationPeriods: 3, datapointsToAlarm: 2 },
    );
    // One alarm per alert metric (the typed list in shared/metric-names.ts): a sweep that "succeeds" while
    // failing every position still pages someone.
    const alerts: Record<AlertMetric, [id: string, description: string, perSweep?: boolean]> = {
      [Metric.UnexpectedShort]: [
        'UnexpectedShortAlarm',
        'the broker holds a short position the pipeline never opened',
      ],
      [Metric.UntrackedPosition]: [
        'UntrackedPositionAlarm',
        'the broker holds a contract the positions table does not know (or whose record cannot be read)',
      ],
      [Metric.BrokerQtyMismatch]: [
        'BrokerQtyMismatchAlarm',
        'the broker holds less than the positions table says',
      ],
      [Metric.ClosedOutsidePipeline]: [
        'ClosedOutsidePipelineAlarm',
        'a position was closed outside the pipeline',
      ],
      [Metric.CloseBlocked]: [
        'CloseBlockedAlarm',
        'an exit rule fired but the broker confirms nothing available to close (no order sent)',
      ],
      [Metric.ExitRejected]: ['ExitRejectedAlarm', 'the broker refused an exit order'],
      [Metric.ClosingStuck]: [
        'ClosingStuckAlarm',
        'a position has been closing for 3 sweep intervals with no working order at the broker',
      ],
      [Metric.BrokerSnapshotSuspect]: [
        'BrokerSnapshotSuspectAlarm',
        'a broker positions read was not trusted (every tracked contract missing at once, or a partial reply)',
      ],
      [Metric.DailyLoss]: [
        'DailyLossAlarm',
        "the day's loss reached limits.max_daily_loss: the breaker switched openings off until the next trading day",
      ],
      [Metric.OpenOrderMissing]: [
        'OpenOrderMissingAlarm',
        'a pending opening order is unknown to the broker',
      ],
      [Metric.AssignmentShares]: [
        'AssignmentSharesAlarm',
        'an assignment or exercise delivered shares the pipeline does not track (the contract is named)',
      ],
      [Metric.OrphanLeg]: [
        'OrphanLegAlarm',
        "a spread's leg is not held in full (assigned early, closed by hand, liquidated): the spread is unwound, shorts first",
      ],
      // Counted once per sweep: it alarms after 3 sweeps in a row, not on one bad read.
      [Metric.QuoteFeedDown]: [
        'QuoteFeedDownAlarm',
        'the option quote feed failed or was stale for 3 sweeps in a row (price rules wait; time rules still act)',
        true,
      ],
    };
    for (const [metric, [id, description, perSweep]] of Object.entries(alerts)) {
      if (perSweep) {
        alarm(id, description, this.accountMetric(metric as AlertMetric, 'SUM', interval), 1, {
          evaluationPeriods: 3,
          datapointsToAlarm: 3,
        });
      } else alarm(id, description, this.accountMetric(metric as AlertMetric, 'SUM', fiveMinutes), 1);
    }
    alarm(
      'SweepPositionErrorsAlarm',
      'sweeps keep failing on some positions (each error is left for the next sweep)',
      this.accountMetric(Metric.SweepPositionErrors, 'SUM', fiveMinutes),
      1,
      { evaluationPeriods: 3, datapointsToAlarm: 2 },
    );
    alarm(
      'SweepStepErrorsAlarm',
      'a whole phase of the sweep failed (learn, reconcile, act, protective stops, day P&L or events); the later phases still ran',
      this.accountMetric(Metric.SweepStepErrors, 'SUM', fiveMinutes),
      1,
      { evaluationPeriods: 3, datapointsToAlarm: 2 },
    );
    return alarms;
  }

  private createDashboard(account: AccountConfig): Dashboard {
    const fiveMinutes = Duration.minutes(5);
    const interval = Duration.minutes(account.sweep_interval_minutes);
    const dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(12) });
    dashboard.addWidgets(
      new TextWidget({
        markdown:
          `# ops-pipeline: ${account.name} (${account.paper ? 'paper' : 'LIVE'})\n` +
          `Sweep every ${account.sweep_interval_minutes} min. Kill switch: the account's item in the positions table.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Opens',
        left: [
          this.accountMetric(Metric.OrdersOpened, 'SUM', fiveMinutes),
          this.accountMetric(Metric.RecommendationsRejected, 'SUM', fiveMinutes),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Exits by reason',
        left: [this.accountMetric(Metric.ExitsSubmitted, 'SUM', fiveMinutes, 'reason')],
        width: 8,
      }),
      new GraphWidget({
        title: 'Broker rejections',
        left: [this.accountMetric(Metric.BrokerRejections, 'SUM', fiveMinutes)],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Recommendation queues',
        left: [
          this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: 'DLQ depth',
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
          this.queue.metricApproximateNumberOfMessagesVisible({
            label: 'queued',
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
        ],
        right: [
          this.queue.metricApproximateAgeOfOldestMessage({
            label: 'oldest (s)',
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Sweep duration (ms)',
        left: [this.accountMetric(Metric.SweepDuration, 'MAX', interval)],
        right: [this.accountMetric(Metric.OpenPositions, 'MAX', interval)],
        leftAnnotations: [{ value: interval.toMilliseconds(), label: 'interval' }],
        width: 8,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 8, height: 6 }),
    );
    // P&L and exposure, per account. The report (`npm run report`) has the same figures from the table.
    const hour = Duration.hours(1);
    dashboard.addWidgets(
      new GraphWidget({
        title: 'P&L ($)',
        left: [
          this.accountMetric(Metric.RealizedPnl, 'SUM', hour),
          // The lowest the day's P&L went in each interval: what a daily loss limit watches.
          this.accountMetric(Metric.DayPnl, 'MIN', interval),
        ],
        leftAnnotations: [{ value: 0 }],
        width: 8,
      }),
      new GraphWidget({
        title: 'Positions closed by reason',
        left: [this.accountMetric(Metric.PositionsClosed, 'SUM', hour, 'reason')],
        stacked: true,
        width: 8,
      }),
      new GraphWidget({
        title: 'Open exposure',
        left: [this.accountMetric(Metric.OpenPositions, 'MAX', interval)],
        right: [this.accountMetric(Metric.OpenPremium, 'MAX', interval)],
        width: 8,
      }),
    );
    return dashboard;
  }

  /** Warns (at synth) when the worst-case sweep would leave less than half of Alpaca's budget for opens. */
  private warnIfSweepCrowdsOutOpens(account: AccountConfig): void {
    const perMinute = exitEvaluatorRequestsPerMinute(
      account.limits.max_open_positions,
      account.sweep_interval_minutes,
      account.sweep_poll_seconds,
    );
    if (perMinute > ALPACA_REQUESTS_PER_MINUTE / 2) {
      Annotations.of(this).addWarningV2(
        'ops-pipeline:sweep-rate',
        `Account "${account.name}": a sweep of ${account.limits.max_open_positions} positions every ` +
          `${account.sweep_interval_minutes} min (with its polls) can cost ${perMinute} of Alpaca's ${ALPACA_REQUESTS_PER_MINUTE} ` +
          'requests/minute; lengthen sweep_interval_minutes or lower max_open_positions',
      );
    }
  }
}

/**
 * Which positions are protected at the broker and at what price (`exit_execution.broker_stop`): the
 * latest resting-stop line the sweep logged for each position, from the exit evaluator's log group.
 */
function brokerStopWidget(logGroupName: string): LogQueryWidget {
  return new LogQueryWidget({
    title: 'Stops resting at the broker (latest per position)',
    logGroupNames: [logGroupName],
    queryLines: [
      'filter ispresent(broker_stop)',
      'stats latest(broker_stop) as stop, latest(stop_price) as price, latest(@timestamp) as at by position_id, option_symbol',
      "filter stop = 'resting'",
      'sort at desc',
      'limit 50',
    ],
    width: 24,
    height: 6,
  });
}
