import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { AccountConfig } from '../shared/domain/account-config';
import { ConfigError } from '../shared/domain/errors';
import { AccountPipeline } from './account-pipeline';
import { AlarmTopic } from './alarm-topic';
import { PositionsTable } from './positions-table';
import { TradeEventsTopic } from './trade-events-topic';

/** One account to deploy: its validated configuration and the object the user wrote. */
export interface AccountDeployment {
  /** The validated account, defaults filled in (from `parseAccountList`). */
  readonly config: AccountConfig;
  /** The account object exactly as configured; functions receive and re-validate it. */
  readonly input: Readonly<Record<string, unknown>>;
}

/** Properties of {@link OpsPipelineStack}. */
export interface OpsPipelineStackProps extends StackProps {
  /** The accounts to deploy, one {@link AccountPipeline} each; names must be unique. */
  readonly accounts: readonly AccountDeployment[];
  /**
   * The deploy-time confirmation that accounts with `paper: false` may trade real money.
   * @default false
   */
  readonly allowLive?: boolean;
  /**
   * The deploy-time confirmation that live accounts may run on the `indicative` option feed.
   * @default false
   */
  readonly allowLiveIndicative?: boolean;
  /**
   * An address subscribed to the alarm topic.
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * An address subscribed to a topic of trade events (opens, closes, refusals, kill switch changes).
   * @default - no trade events topic
   */
  readonly tradeEventsEmail?: string;
  /**
   * The deploy-time confirmation that alarms may go nowhere: without `alarmEmail`, a stack with a live
   * account (`paper: false`) is refused unless this is set (paper accounts only get a warning).
   * @default false
   */
  readonly allowNoAlarmSubscriber?: boolean;
  /**
   * Emit a DynamoDB stream from the positions table.
   * @default false
   */
  readonly positionsTableStream?: boolean;
  /**
   * How long function logs are kept.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The whole pipeline in one stack: the shared positions table and alarm topic, and one
 * {@link AccountPipeline} per configured account. Adding an account is a configuration change.
 */
export class OpsPipelineStack extends Stack {
  /** The per-account pipelines, by account name. */
  readonly pipelines: ReadonlyMap<string, AccountPipeline>;

  constructor(scope: Construct, id: string, props: OpsPipelineStackProps) {
    super(scope, id, {
      description: 'ops-pipeline: trades US equity options at Alpaca from recommendations, per account',
      ...props,
    });
    if (props.accounts.length === 0) {
      throw new Error('OpsPipelineStack: accounts must list at least one account, got []');
    }
    const names = props.accounts.map((a) => a.config.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate !== undefined) {
      throw new Error(`OpsPipelineStack: account names must be unique, "${duplicate}" appears twice`);
    }

    // Before the accounts, so a refusal comes before the handlers are bundled.
    this.checkAlarmSubscriber(props);

    const positions = new PositionsTable(this, 'Positions', { stream: props.positionsTableStream });
    const alarms = new AlarmTopic(this, 'Alarms', { email: props.alarmEmail });
    const tradeEvents = props.tradeEventsEmail
      ? new TradeEventsTopic(this, 'TradeEvents', { email: props.tradeEventsEmail })
      : undefined;

    const pipelines = new Map<string, AccountPipeline>();
    for (const { config, input } of props.accounts) {
      // The construct ID is the account name: stable, so logical IDs never change when accounts are
      // added, removed or reordered.
      const pipeline = new AccountPipeline(this, `Account-${config.name}`, {
        account: config,
        accountInput: input,
        table: positions.table,
        liveIndexName: positions.liveIndexName,
        alarmTopic: alarms.topic,
        tradeEvents,
        allowLive: props.allowLive,
        allowLiveIndicative: props.allowLiveIndicative,
        logRetention: props.logRetention,
      });
      pipelines.set(config.name, pipeline);
      new CfnOutput(this, `${config.name}-RecommendationsQueueUrl`, {
        description: `Send ${config.name}'s recommendations here`,
        value: pipeline.queue.queueUrl,
      });
      new CfnOutput(this, `${config.name}-DeadLetterQueueUrl`, {
        description: `${config.name}'s refused or failed recommendations`,
        value: pipeline.deadLetterQueue.queueUrl,
      });
      new CfnOutput(this, `${config.name}-DashboardName`, { value: pipeline.dashboard.dashboardName });
      new CfnOutput(this, `${config.name}-OpenOrderLogGroup`, {
        value: pipeline.openOrderFunction.logGroup.logGroupName,
      });
      new CfnOutput(this, `${config.name}-ExitEvaluatorLogGroup`, {
        value: pipeline.exitEvaluatorFunction.logGroup.logGroupName,
      });
    }
    new CfnOutput(this, 'PositionsTableName', { value: positions.table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
    if (tradeEvents) new CfnOutput(this, 'TradeEventsTopicArn', { value: tradeEvents.topic.topicArn });
    this.pipelines = pipelines;
  }

  /**
   * Alarms that notify a topic nobody reads are no alarms: without `alarmEmail` synth warns, and refuses a
   * live account unless the deploy says it subscribes the topic some other way (`allowNoAlarmSubscriber`).
   */
  private checkAlarmSubscriber(props: OpsPipelineStackProps): void {
    if (props.alarmEmail) return;
    const live = props.accounts.filter((a) => !a.config.paper).map((a) => a.config.name);
    // A live account without -c allowLive=true is refused first, for that reason (AccountPipeline).
    if (live.length > 0 && !props.allowLive) return;
    if (live.length > 0 && !props.allowNoAlarmSubscriber) {
      throw new ConfigError(
        `Account${live.length > 1 ? 's' : ''} ${live.map((n) => `"${n}"`).join(', ')} ` +
          `trade${live.length > 1 ? '' : 's'} real money ("paper": false), but the alarm topic has no subscriber, ` +
          'so no alarm would reach anyone. Deploy with -c alarmEmail=you@example.com (and confirm the e-mail), or, ' +
          'if you subscribe the AlarmTopicArn output some other way, with -c allowNoAlarmSubscriber=true.',
      );
    }
    Annotations.of(this).addWarningV2(
      'ops-pipeline:no-alarm-subscriber',
      'The alarm topic has no subscriber: alarms fire but notify no one. Deploy with ' +
        '-c alarmEmail=you@example.com, or subscribe the AlarmTopicArn output after the deploy.',
    );
  }
}
