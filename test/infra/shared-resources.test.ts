/**
 * The shared parts: the positions table (built from shared/table-schema.ts), the alarm topic, the alarms
 * on every account, and the dashboards.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { POSITIONS_TABLE_SCHEMA } from '../../shared/table-schema';
import { ALERT_METRICS, Metric } from '../../shared/metric-names';
import { SWEEP_HEARTBEAT_PERIODS, type AccountPipeline } from '../../lib/account-pipeline';
import { logicalId, pipelineOf, synthesize } from './synth';

const { stack, template } = synthesize();
const main = pipelineOf(stack, 'main');
const tiny = pipelineOf(stack, 'tiny');
const topicRef = { Ref: Match.stringLikeRegexp('^AlarmsTopic') };
/** The account's heartbeat alarm: the only one on the exit evaluator's invocations. */
const heartbeatOf = (pipeline: AccountPipeline) => {
  const found = pipeline.alarms.filter((a) => a.node.id === 'SweepHeartbeatAlarm');
  expect(found).toHaveLength(1);
  return found[0];
};

describe('positions table', () => {
  it('is on-demand with point-in-time recovery and deletion protection', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('is retained when the stack is deleted or the table replaced', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('has the key schema and the sparse live-positions index of shared/table-schema.ts', () => {
    const { partitionKey, sortKey, liveIndex } = POSITIONS_TABLE_SCHEMA;
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: partitionKey.name, KeyType: 'HASH' },
        { AttributeName: sortKey.name, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
        { AttributeName: liveIndex.partitionKey.name, AttributeType: liveIndex.partitionKey.type },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: liveIndex.indexName,
          KeySchema: [
            { AttributeName: liveIndex.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: liveIndex.sortKey.name, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('has no stream by default and no hard-coded name', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: Match.absent(),
      TableName: Match.absent(),
    });
  });
});

describe('alarm topic', () => {
  it('is encrypted with a rotating key that CloudWatch may use', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            // Only this account's alarms, as on the topic policy (no confused deputy).
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });

  it('lets CloudWatch publish from this account and refuses non-TLS publishing', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });
});

describe('alarms', () => {
  /** An alarm on a Metrics Insights query over the pipeline's metrics. */
  const insightsAlarm = (expression: string, threshold: number) => ({
    Threshold: threshold,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Metrics: [Match.objectLike({ Expression: expression, ReturnData: true })],
  });

  it('notify the topic on alarm and on recovery, every one of them', () => {
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [topicRef],
      OKActions: [topicRef],
    });
  });

  it('treat missing data as not breaching, except the heartbeat, for which missing data is a missed sweep', () => {
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
    const breaching = alarms
      .filter(([, a]) => a.Properties.TreatMissingData === 'breaching')
      .map(([id]) => id);
    expect(breaching.sort()).toEqual([logicalId(heartbeatOf(main)), logicalId(heartbeatOf(tiny))].sort());
    for (const [, a] of alarms)
      expect(['breaching', 'notBreaching']).toContain(a.Properties.TreatMissingData);
  });

  it('fire when no sweep ran for 3 sweep intervals in a row, per account (the heartbeat)', () => {
    for (const [pipeline, interval] of [
      [main, 60],
      [tiny, 60],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Invocations',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(pipeline.exitEvaluatorFunction) } }],
        Statistic: 'Sum',
        Period: interval,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: SWEEP_HEARTBEAT_PERIODS,
        DatapointsToAlarm: SWEEP_HEARTBEAT_PERIODS,
        TreatMissingData: 'breaching',
        AlarmActions: [topicRef],
        OKActions: [topicRef],
      });
    }
  });

  it("the heartbeat's period is the account's sweep interval", () => {
    const { stack: s5, template: t5 } = synthesize({
      accounts: JSON.stringify([{ name: 'slow', sweep_interval_minutes: 5 }]),
    });
    t5.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocations',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: logicalId(pipelineOf(s5, 'slow').exitEvaluatorFunction) } },
      ],
      Period: 300,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it("fire on any message in each account's DLQ", () => {
    for (const pipeline of [main, tiny]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(pipeline.deadLetterQueue), 'QueueName'] } },
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('fire when the oldest recommendation reaches the account’s staleness limit', () => {
    for (const [pipeline, seconds] of [
      [main, 5 * 60],
      [tiny, 3 * 60],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(pipeline.queue), 'QueueName'] } },
        ],
        Threshold: seconds,
      });
    }
  });

  it('fire on errors and throttles of both functions', () => {
    for (const fn of [main.openOrderFunction, main.exitEvaluatorFunction]) {
      for (const metric of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn) } }],
          Statistic: 'Sum',
          Threshold: 1,
        });
      }
    }
  });

  it('fire when sweeps take 80% of their interval (48 s of 60), from the sweep metric', () => {
    template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      insightsAlarm(`SELECT MAX(${Metric.SweepDuration}) FROM "OpsPipeline" WHERE account = 'main'`, 48_000),
    );
  });

  it('fire on any unexpected_short or untracked_position the sweep reports, per account', () => {
    for (const account of ['main', 'tiny']) {
      for (const metric of [Metric.UnexpectedShort, Metric.UntrackedPosition]) {
        template.hasResourceProperties(
          'AWS::CloudWatch::Alarm',
          insightsAlarm(`SELECT SUM(${metric}) FROM "OpsPipeline" WHERE account = '${account}'`, 1),
        );
      }
    }
  });

  it('are twenty-three per account (the heartbeat, the failed sweep phase, the daily loss breaker, assignment shares and orphan legs among them)', () => {
    expect(main.alarms).toHaveLength(23);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 46);
  });

  it('every metric a sweep alert counts in has an alarm on it (one per alert kind, a typed list)', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const text = JSON.stringify(alarms);
    for (const metric of new Set(Object.values(ALERT_METRICS))) {
      expect(text).toContain(`SUM(${metric})`);
    }
    expect(text).toContain('SUM(sweep_position_errors)');
    expect(text).toContain('SUM(sweep_step_errors)');
  });
});

describe('dashboards', () => {
  const bodyOf = (account: string): string => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const bodies = dashboards.map((d) => JSON.stringify((d as { Properties: unknown }).Properties));
    const body = bodies.find((b) => b.includes(`# ops-pipeline: ${account} `));
    if (!body) throw new Error(`no dashboard for ${account}`);
    return body;
  };

  it('show opens, exits by reason, broker rejections, DLQ depth and sweep duration for each account', () => {
    for (const account of ['main', 'tiny']) {
      const body = bodyOf(account);
      expect(body).toContain(`SUM(${Metric.OrdersOpened})`);
      expect(body).toMatch(new RegExp(`SUM\\(${Metric.ExitsSubmitted}\\).*GROUP BY reason`));
      expect(body).toContain(`SUM(${Metric.BrokerRejections})`);
      expect(body).toContain('DLQ depth');
      expect(body).toContain(`MAX(${Metric.SweepDuration})`);
      expect(body).toContain(`WHERE account = '${account}'`);
    }
    expect(bodyOf('main')).toContain(logicalId(main.deadLetterQueue));
    expect(bodyOf('main')).not.toContain(logicalId(tiny.deadLetterQueue));
  });

  it('show which positions are protected at the broker and at what price (the resting-stop log lines)', () => {
    for (const account of ['main', 'tiny']) {
      const body = bodyOf(account);
      expect(body).toContain('Stops resting at the broker');
      expect(body).toContain('latest(stop_price) as price');
      expect(body).toContain("filter stop = 'resting'");
    }
  });

  it('show realized and day P&L, positions closed by reason, open positions and open premium per account', () => {
    // `SELECT <stat>(<metric>) FROM "OpsPipeline" WHERE account = '<account>'`, quotes escaped in the body.
    const query = (stat: string, metric: string, account: string) =>
      new RegExp(
        `SELECT ${stat}\\(${metric}\\) FROM [\\\\"]+OpsPipeline[\\\\"]+ WHERE account = '${account}'`,
      );
    for (const account of ['main', 'tiny']) {
      const body = bodyOf(account);
      expect(body).toMatch(query('SUM', Metric.RealizedPnl, account));
      expect(body).toMatch(query('MIN', Metric.DayPnl, account));
      expect(body).toMatch(
        new RegExp(`${query('SUM', Metric.PositionsClosed, account).source} GROUP BY reason`),
      );
      expect(body).toMatch(query('MAX', Metric.OpenPositions, account));
      expect(body).toMatch(query('MAX', Metric.OpenPremium, account));
      expect(body).toContain('Positions closed by reason');
      expect(body).toContain('Open exposure');
    }
  });

  it('list the account’s alarms', () => {
    for (const alarm of main.alarms) expect(bodyOf('main')).toContain(logicalId(alarm));
    expect(bodyOf('main')).not.toContain(logicalId(tiny.alarms[0]));
  });
});
