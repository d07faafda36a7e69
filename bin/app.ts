#!/usr/bin/env node
/**
 * The CDK app: the only place that reads context. It validates the configuration and builds the stack.
 *
 *   npx cdk synth                                   accounts from cdk.json
 *   npx cdk synth -c accounts='[{"name":"main"}]'   accounts from the command line (a JSON string)
 *   npx cdk deploy -c allowLive=true                confirms accounts with "paper": false
 *   npx cdk deploy -c allowLiveIndicative=true      confirms live accounts on the indicative option feed
 *   npx cdk deploy -c alarmEmail=ops@example.com    subscribes an address to the alarm topic (without it synth
 *                                                   warns, and refuses a live account unless
 *                                                   -c allowNoAlarmSubscriber=true)
 *   npx cdk deploy -c tradeEventsEmail=me@example.com  adds a trade events topic, that address subscribed
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseAccountList } from '../shared/domain/account-config';
import { ConfigError } from '../shared/domain/errors';
import { OpsPipelineStack, type AccountDeployment } from '../lib/ops-pipeline-stack';

/** The stack's ID, and its CloudFormation name. */
const STACK_ID = 'OpsPipeline';

/** Deploy-time settings read from CDK context. */
export interface DeployContext {
  readonly accounts: readonly AccountDeployment[];
  readonly allowLive: boolean;
  readonly allowLiveIndicative: boolean;
  readonly alarmEmail?: string;
  readonly allowNoAlarmSubscriber: boolean;
  readonly tradeEventsEmail?: string;
  readonly positionsTableStream: boolean;
}

/**
 * Reads and validates the context: `accounts` (a list in cdk.json, or a JSON string from `-c`),
 * `allowLive`, `allowLiveIndicative`, `alarmEmail`, `allowNoAlarmSubscriber`, `tradeEventsEmail`, `positionsTableStream`. Throws {@link ConfigError} naming the bad value.
 */
function readDeployContext(app: App): DeployContext {
  let accounts: unknown = app.node.tryGetContext('accounts');
  if (typeof accounts === 'string') {
    try {
      accounts = JSON.parse(accounts);
    } catch (cause) {
      throw new ConfigError(`Invalid context "accounts": not JSON (${(cause as Error).message})`, { cause });
    }
  }
  const configs = parseAccountList(accounts, 'context "accounts"');
  const inputs = accounts as Array<Record<string, unknown>>;

  return {
    accounts: configs.map((config, i) => ({ config, input: inputs[i] })),
    allowLive: readBoolean(app, 'allowLive'),
    allowLiveIndicative: readBoolean(app, 'allowLiveIndicative'),
    alarmEmail: readString(app, 'alarmEmail'),
    allowNoAlarmSubscriber: readBoolean(app, 'allowNoAlarmSubscriber'),
    tradeEventsEmail: readString(app, 'tradeEventsEmail'),
    positionsTableStream: readBoolean(app, 'positionsTableStream'),
  };
}

/** An optional string (an empty one is absent); anything else is refused. */
function readString(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value !== undefined && typeof value !== 'string') {
    throw new ConfigError(`Invalid context "${key}": expected a string, got ${JSON.stringify(value)}`);
  }
  return value || undefined;
}

/** `-c key=true` arrives as the string "true", cdk.json gives a boolean: accept both, refuse anything else. */
function readBoolean(app: App, key: string): boolean {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new ConfigError(`Invalid context "${key}": expected true or false, got ${JSON.stringify(value)}`);
}

/** Builds the pipeline into `app`, with cdk-nag's AwsSolutions checks on everything in it. */
export function buildApp(app: App = new App()): OpsPipelineStack {
  const context = readDeployContext(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return new OpsPipelineStack(app, STACK_ID, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    accounts: context.accounts,
    allowLive: context.allowLive,
    allowLiveIndicative: context.allowLiveIndicative,
    alarmEmail: context.alarmEmail,
    allowNoAlarmSubscriber: context.allowNoAlarmSubscriber,
    tradeEventsEmail: context.tradeEventsEmail,
    positionsTableStream: context.positionsTableStream,
  });
}

if (require.main === module) {
  try {
    buildApp();
  } catch (err) {
    // A configuration mistake gets its message alone; anything else keeps its stack trace.
    if (!(err instanceof ConfigError)) throw err;
    console.error(`ops-pipeline: ${err.message}`);
    process.exit(1);
  }
}
