import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  type Function as LambdaFunction,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../shared/metric-names';
import { liveIndexPk, positionPk } from '../shared/table-schema';

/** Properties of {@link PipelineFunction}. */
export interface PipelineFunctionProps {
  /** Path of the handler's TypeScript file (export `handler`). */
  readonly entry: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** `POWERTOOLS_SERVICE_NAME`: the `service` key of every log line and metric. */
  readonly serviceName: string;
  /** Maximum run time of one invocation. */
  readonly timeout: Duration;
  /** Environment variables besides the Powertools ones. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Memory; on Lambda it also buys CPU, which shortens cold starts.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Concurrent executions reserved for (and capping) the function.
   * @default - no reservation
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * How long the function's logs are kept.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * `POWERTOOLS_LOG_LEVEL` and the Lambda application log level.
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * How every pipeline function is bundled (the local esbuild). Exported so that `npm run bench` builds and
 * measures exactly these bundles (size, load time).
 */
export const PIPELINE_BUNDLING = {
  minify: true,
  sourceMap: true,
  target: 'node20',
  format: OutputFormat.CJS,
  // The Lambda Node.js runtime ships AWS SDK v3.
  externalModules: ['@aws-sdk/*'],
  // The Alpaca SDK's /rest entry is one pre-bundled file esbuild cannot trim: bundle the same
  // classes from its sources instead (lib/bundling/alpaca-rest-slim.mjs). Proven by test/integration/bundle.test.ts.
  esbuildArgs: { '--alias:@alpacahq/alpaca-trade-api/rest': './lib/bundling/alpaca-rest-slim.mjs' },
} as const satisfies BundlingOptions;

/**
 * One pipeline Lambda: a NodejsFunction bundled with the local esbuild (minified, source maps, Node 20
 * syntax so the same bundle runs on the Node 22 runtime and on Node 20 in tests), ARM64, structured
 * JSON logs in its own log group with a retention period, and its own role that starts with nothing but
 * writing to that log group. Everything else is granted by the helpers below.
 */
export class PipelineFunction extends Construct {
  /** The function. */
  readonly function: LambdaFunction;
  /** Its log group. */
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const timeoutSeconds = props.timeout.toSeconds();
    if (timeoutSeconds < 1 || timeoutSeconds > 900) {
      throw new Error(`PipelineFunction ${id}: timeout must be 1-900 seconds, got ${timeoutSeconds}`);
    }
    const logLevel = props.logLevel ?? 'INFO';

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: that managed policy may write to every log
    // group in the account; this one writes to its own.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.description}`,
    });
    this.logGroup.grantWrite(role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[logLevel],
      systemLogLevelV2: SystemLogLevel.INFO,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: logLevel,
        // Stack traces through the source map (esbuild's `sourceMap` alone does not turn this on).
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: PIPELINE_BUNDLING,
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime the project targets (bundles are built for node20 syntax and tested on ' +
        'Node 20 and 22); moving to a newer runtime is a deliberate, tested upgrade.',
    });
  }
}

/** DynamoDB item actions the pipeline uses; no Scan, no table administration. */
const TABLE_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

/**
 * Lets `fn` read and write the positions table's items of account `account` only, and query that
 * account's partition of the `indexName` index; tells it the table's name in `POSITIONS_TABLE`.
 *
 * Both statements carry `dynamodb:LeadingKeys`: on the table the partition key must be `ACCT#<account>`
 * (positions, kill switch, sweep lease, rejections: shared/table-schema.ts), on the index `<account>`.
 * `ForAllValues` also covers BatchGetItem/BatchWriteItem, where every key of the batch must match. Scan,
 * which has no leading key (and would pass a `ForAllValues` test on an empty set), is not granted. Scoped
 * to that one index rather than `table/index/*`, which is what `ITable.grantReadWriteData` would add.
 */
export function grantPositionsTable(
  fn: LambdaFunction,
  table: ITable,
  indexName: string,
  account: string,
): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: TABLE_ITEM_ACTIONS,
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [positionPk(account)] } },
    }),
  );
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: [`${table.tableArn}/index/${indexName}`],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [liveIndexPk(account)] } },
    }),
  );
  fn.addEnvironment('POSITIONS_TABLE', table.tableName);
}

/** Lets `fn` read the account's Alpaca secret and tells it the secret's name in `ALPACA_SECRET_ID`. */
export function grantAlpacaSecret(fn: LambdaFunction, secret: ISecret): void {
  secret.grantRead(fn);
  fn.addEnvironment('ALPACA_SECRET_ID', secret.secretName);
}
