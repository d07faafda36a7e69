/**
 * One account's pipeline (cdk.json's accounts): queues, the open-order event source, the exit
 * evaluator and its schedule, function settings, and least-privilege IAM.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import {
  ALPACA_REQUESTS_PER_MINUTE,
  OPEN_ORDER_EVENT_SOURCE,
  brokerRequestBudgets,
  sustainableRecommendationsPerMinute,
  sweepRequestsPerMinute,
} from '../../lib/broker-rate-budget';
import {
  ALPACA_DATA_API_URL,
  ALPACA_PAPER_API_URL,
  RECOMMENDATIONS_MAX_RECEIVE_COUNT,
  sweepTimeout,
} from '../../lib/account-pipeline';
import type { PositionsTable } from '../../lib/positions-table';
import { METRIC_NAMESPACE } from '../../shared/metric-names';
import { liveIndexPk, positionPk } from '../../shared/table-schema';
import {
  actionsOf,
  arnOf,
  environmentOf,
  logicalId,
  pipelineOf,
  statementsOfRole,
  synthesize,
} from './synth';

const { stack, template } = synthesize();
const main = pipelineOf(stack, 'main');
const tiny = pipelineOf(stack, 'tiny');
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
const propsOf = (construct: IConstruct) => resources[logicalId(construct)].Properties;
const roleIdOf = (fn: { role?: IConstruct }) => logicalId(fn.role as IConstruct);
const positionsTable = (stack.node.findChild('Positions') as PositionsTable).table;

describe('recommendations queue and DLQ', () => {
  it('encrypts both queues at rest (SSE-SQS)', () => {
    expect(propsOf(main.queue).SqsManagedSseEnabled).toBe(true);
    expect(propsOf(main.deadLetterQueue).SqsManagedSseEnabled).toBe(true);
  });

  it('denies every non-TLS request on each of the four queues', () => {
    for (const queue of [main.queue, main.deadLetterQueue, tiny.queue, tiny.deadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it("redrives to the account's own DLQ after 3 receives", () => {
    expect(propsOf(main.queue).RedrivePolicy).toEqual({
      deadLetterTargetArn: arnOf(main.deadLetterQueue),
      maxReceiveCount: 3,
    });
    expect(propsOf(tiny.queue).RedrivePolicy.deadLetterTargetArn).toEqual(arnOf(tiny.deadLetterQueue));
  });

  it('has a visibility timeout of at least 6 × the open-order timeout plus the batching window', () => {
    const functionTimeout = propsOf(main.openOrderFunction).Timeout as number;
    const visibility = propsOf(main.queue).VisibilityTimeout as number;

    expect(visibility).toBeGreaterThanOrEqual(
      6 * functionTimeout + OPEN_ORDER_EVENT_SOURCE.maxBatchingWindowSeconds,
    );
  });

  it('long-polls (20 s receive wait)', () => {
    expect(propsOf(main.queue).ReceiveMessageWaitTimeSeconds).toBe(20);
  });

  it('keeps dead letters for 14 days', () => {
    expect(propsOf(main.deadLetterQueue).MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });
});

describe('open-order event source', () => {
  it("consumes the account's own queue, reporting batch item failures, within the rate budget", () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(main.queue),
      FunctionName: { Ref: logicalId(main.openOrderFunction) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('is the only trigger of each open-order function', () => {
    const mappings = template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { FunctionName: { Ref: logicalId(main.openOrderFunction) } },
    });
    expect(Object.keys(mappings)).toHaveLength(1);
  });
});

describe('rate budget arithmetic (the comment in broker-rate-budget.ts)', () => {
  it("costs main's worst-case sweep (5 positions every minute) 3 + 1 + 5 = 9 requests/minute", () => {
    expect(sweepRequestsPerMinute(5, 1)).toBe(9);
  });

  it('leaves room for 146 recommendations/minute in full batches and 47 in single ones', () => {
    expect(sustainableRecommendationsPerMinute(5, 1, OPEN_ORDER_EVENT_SOURCE.batchSize)).toBe(146);
    expect(sustainableRecommendationsPerMinute(5, 1, 1)).toBe(47);
  });

  it('keeps the requests in flight of two full batches far under one minute of budget', () => {
    const perBatch = OPEN_ORDER_EVENT_SOURCE.batchSize + 3;
    expect(OPEN_ORDER_EVENT_SOURCE.maxConcurrency * perBatch).toBe(26);
  });
});

describe('rate budget warning', () => {
  it('warns at synth when an account’s worst-case sweep would take over half of Alpaca’s budget', () => {
    const { stack: big } = synthesize({
      accounts: JSON.stringify([{ name: 'big', limits: { max_open_positions: 200 } }, { name: 'small' }]),
    });

    const warnings = Annotations.fromStack(big).findWarning('*', Match.stringLikeRegexp('requests/minute'));
    expect(warnings.map((w) => w.id)).toEqual(['/OpsPipeline/Account-big']);
    // 205 for the sweep, 20 for its polls (stretched to 12.5 s at 200 positions: 4 a minute × 5).
    expect(warnings[0].entry.data).toMatch(/"big".*225 of Alpaca's 200 requests\/minute/);
  });
});

describe('functions', () => {
  const functions = [
    main.openOrderFunction,
    main.exitEvaluatorFunction,
    tiny.openOrderFunction,
    tiny.exitEvaluatorFunction,
  ];

  it('run bundled handlers on Node.js 22, ARM64', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
    });
  });

  it('log structured JSON to their own log group, kept for a retention period', () => {
    for (const fn of functions) {
      const { LoggingConfig } = propsOf(fn);
      expect(LoggingConfig.LogFormat).toBe('JSON');
      const logGroup = resources[LoggingConfig.LogGroup.Ref];
      expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.Properties.RetentionInDays).toBeGreaterThan(0);
    }
  });

  it('receive the environment contract, for their own account', () => {
    for (const [fn, service] of [
      [main.openOrderFunction, 'open-order'],
      [main.exitEvaluatorFunction, 'exit-evaluator'],
    ] as const) {
      const env = environmentOf(template, logicalId(fn));
      expect(env).toEqual(
        expect.objectContaining({
          ACCOUNT_NAME: 'main',
          POSITIONS_TABLE: { Ref: logicalId(stack.node.findChild('Positions').node.findChild('Table')) },
          ALPACA_SECRET_ID: 'ops-pipeline/alpaca/main',
          APCA_API_BASE_URL: ALPACA_PAPER_API_URL,
          APCA_API_DATA_URL: ALPACA_DATA_API_URL,
          POWERTOOLS_SERVICE_NAME: service,
          POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
          POWERTOOLS_LOG_LEVEL: 'INFO',
        }),
      );
      expect(JSON.parse(env.ACCOUNT_CONFIG as string)).toMatchObject({ name: 'main', paper: true });
    }
  });
});

describe('retry schedule of transient failures', () => {
  it("gives the open-order function its own queue's URL and the redrive count, and the right to change visibility", () => {
    const env = environmentOf(template, logicalId(main.openOrderFunction));
    expect(env.RECOMMENDATIONS_QUEUE_URL).toEqual({ Ref: logicalId(main.queue) });
    expect(env.RECOMMENDATIONS_MAX_RECEIVE_COUNT).toBe(String(RECOMMENDATIONS_MAX_RECEIVE_COUNT));
    const sqs = statementsOfRole(template, roleIdOf(main.openOrderFunction)).filter((st) =>
      actionsOf(st).includes('sqs:ChangeMessageVisibility'),
    );
    expect(sqs.map((st) => st.Resource)).toEqual([arnOf(main.queue)]);
  });
});

describe('broker request budget per container (BROKER_REQUESTS_PER_MINUTE)', () => {
  it('gives open-order at max concurrency plus the sweep less than Alpaca’s 200/minute together', () => {
    const open = Number(
      environmentOf(template, logicalId(main.openOrderFunction)).BROKER_REQUESTS_PER_MINUTE,
    );
    const sweep = Number(
      environmentOf(template, logicalId(main.exitEvaluatorFunction)).BROKER_REQUESTS_PER_MINUTE,
    );
    // The sweep's 9 a minute plus its price-rule polls (every 10 s: 6 × 4), lib/broker-rate-budget.ts.
    expect({ open, sweep }).toEqual({ open: 73, sweep: 33 });
    expect(open * OPEN_ORDER_EVENT_SOURCE.maxConcurrency + sweep).toBeLessThanOrEqual(
      ALPACA_REQUESTS_PER_MINUTE,
    );
  });

  it('stays under the limit for any account size and sweep interval', () => {
    for (const n of [0, 5, 50, 500, 5000]) {
      for (const [interval, poll] of [
        [1, null],
        [1, 10],
        [5, 2],
        [60, 300],
      ] as const) {
        const b = brokerRequestBudgets(n, interval, poll);
        expect(b.openOrder).toBeGreaterThanOrEqual(1);
        expect(b.openOrder * OPEN_ORDER_EVENT_SOURCE.maxConcurrency + b.exitEvaluator).toBeLessThanOrEqual(
          ALPACA_REQUESTS_PER_MINUTE,
        );
      }
    }
  });
});

describe('exit evaluator and its schedule', () => {
  it('runs on a rate(1 minute) rule that targets the account’s own evaluator', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: arnOf(main.exitEvaluatorFunction),
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: arnOf(main.exitEvaluatorFunction),
    });
  });

  it('cannot pile up: one concurrent sweep, a timeout shorter than the interval, no late retries', () => {
    const props = propsOf(main.exitEvaluatorFunction);
    expect(props.ReservedConcurrentExecutions).toBe(1);
    expect(props.Timeout).toBeLessThan(60);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(main.exitEvaluatorFunction) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('keeps the timeout under the interval for any interval, within Lambda’s 15 minutes', () => {
    for (let minutes = 1; minutes <= 60; minutes++) {
      const seconds = sweepTimeout(minutes).toSeconds();
      expect(seconds).toBeLessThan(minutes * 60);
      expect(seconds).toBeLessThanOrEqual(900);
      expect(seconds).toBeGreaterThan(0);
    }
  });

  it('leaves the open-order function without reserved concurrency (the event source caps it)', () => {
    expect(propsOf(main.openOrderFunction).ReservedConcurrentExecutions).toBeUndefined();
  });
});

describe('least privilege', () => {
  const mainOpen = statementsOfRole(template, roleIdOf(main.openOrderFunction));
  const mainSweep = statementsOfRole(template, roleIdOf(main.exitEvaluatorFunction));
  const all = [...mainOpen, ...mainSweep];
  const text = (value: unknown) => JSON.stringify(value);

  it('gives the functions roles with no managed policies (not even AWSLambdaBasicExecutionRole)', () => {
    template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  it('grants nothing on Resource "*" and no wildcard actions', () => {
    for (const statement of all) {
      expect(statement.Resource).not.toBe('*');
      expect(text(statement.Resource)).not.toContain('"*"');
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
    }
  });

  it("lets main's functions read main's secret and not tiny's", () => {
    for (const statements of [mainOpen, mainSweep]) {
      const secret = statements.filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
      expect(secret).toHaveLength(1);
      expect(text(secret[0].Resource)).toContain(':secret:ops-pipeline/alpaca/main-??????');
      expect(text(statements)).not.toContain('ops-pipeline/alpaca/tiny');
    }
  });

  it("lets main's open-order consume main's queue only, and the evaluator no queue at all", () => {
    const sqs = mainOpen.filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
    expect(sqs).toHaveLength(1);
    expect(sqs[0].Resource).toEqual(arnOf(main.queue));
    expect(actionsOf(sqs[0])).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
    expect(actionsOf(sqs[0])).not.toContain('sqs:SendMessage');
    for (const other of [tiny.queue, tiny.deadLetterQueue, main.deadLetterQueue]) {
      expect(text(all)).not.toContain(logicalId(other));
    }
    expect(mainSweep.flatMap(actionsOf).filter((a) => a.startsWith('sqs:'))).toEqual([]);
  });

  const tableArn = arnOf(positionsTable);
  const indexArn = { 'Fn::Join': ['', [tableArn, '/index/live-positions']] };
  const dynamoOf = (statements: typeof all) =>
    statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));

  it('lets both use the table and its live-positions index, without Scan or table administration', () => {
    for (const statements of [mainOpen, mainSweep]) {
      const dynamo = dynamoOf(statements);
      expect(dynamo).toHaveLength(2);
      const onTable = dynamo.find((s) => text(s.Resource) === text(tableArn));
      expect(actionsOf(onTable!)).toEqual(
        expect.arrayContaining([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
        ]),
      );
      for (const s of dynamo) {
        expect(actionsOf(s)).not.toContain('dynamodb:Scan');
        expect(actionsOf(s)).not.toContain('dynamodb:DeleteTable');
        expect(text(s.Resource)).not.toContain('/index/*');
      }
      const onIndex = dynamo.find((s) => text(s.Resource) === text(indexArn));
      expect(actionsOf(onIndex!)).toEqual(['dynamodb:Query']);
    }
  });

  it("limits main's roles to main's items: LeadingKeys ACCT#main on the table, main on the index", () => {
    for (const statements of [mainOpen, mainSweep]) {
      const dynamo = dynamoOf(statements);
      expect(dynamo.map((s) => ({ Resource: s.Resource, Condition: s.Condition }))).toEqual(
        expect.arrayContaining([
          {
            Resource: tableArn,
            Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['ACCT#main'] } },
          },
          {
            Resource: indexArn,
            Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['main'] } },
          },
        ]),
      );
      // Every statement that reaches the table or index is conditioned: none grants the whole table.
      for (const s of dynamo) expect(s.Condition).toBeDefined();
    }
  });

  it("limits tiny's roles to tiny's items, and never names main's keys", () => {
    const tinyStatements = [
      ...statementsOfRole(template, roleIdOf(tiny.openOrderFunction)),
      ...statementsOfRole(template, roleIdOf(tiny.exitEvaluatorFunction)),
    ];
    const keys = dynamoOf(tinyStatements).flatMap(
      (s) => s.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'] as string[],
    );
    expect(keys.sort()).toEqual(['ACCT#tiny', 'ACCT#tiny', 'tiny', 'tiny']);
    expect(text(tinyStatements)).not.toContain('ACCT#main');
  });

  it('matches the key values the position store writes (table-schema is the one definition)', () => {
    const leading = dynamoOf(mainSweep).flatMap(
      (s) => s.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'] as string[],
    );
    expect(leading.sort()).toEqual([positionPk('main'), liveIndexPk('main')].sort());
  });

  it('lets each function write only its own log group', () => {
    const logs = mainOpen.filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
    expect(logs).toHaveLength(1);
    expect(logs[0].Resource).toEqual({
      'Fn::GetAtt': [propsOf(main.openOrderFunction).LoggingConfig.LogGroup.Ref, 'Arn'],
    });
  });

  it('lets only the schedule invoke the evaluator', () => {
    const permissions = template.findResources('AWS::Lambda::Permission', {
      Properties: { FunctionName: arnOf(main.exitEvaluatorFunction) },
    });
    expect(
      Object.values(permissions).map(
        (p) => (p as { Properties: { Principal: string } }).Properties.Principal,
      ),
    ).toEqual(['events.amazonaws.com']);
  });
});
