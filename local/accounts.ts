/**
 * The accounts local mode runs, read from the same `cdk.json` the stack deploys, and each account's handler
 * environment: the contract of shared/config.ts, filled with local stand-ins.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAccountList, type AccountConfig } from '../shared/domain/account-config';
import type { BrokerEnvironment } from './mode';

/** The repository root (local/ is one level down). */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** One account as cdk.json declares it, forced to paper. */
export interface LocalAccountDefinition {
  readonly name: string;
  /** The object handed to the handlers in ACCOUNT_CONFIG (as written in cdk.json, `paper: true`). */
  readonly input: Readonly<Record<string, unknown>>;
  /** The same, validated with its defaults filled in. */
  readonly config: AccountConfig;
}

/**
 * Reads and validates the `accounts` context of cdk.json with the schema the stack uses. Every account is
 * forced to `paper: true`: local mode never trades live.
 */
export function readCdkAccounts(cdkJsonPath = path.join(REPO_ROOT, 'cdk.json')): LocalAccountDefinition[] {
  const cdk = JSON.parse(fs.readFileSync(cdkJsonPath, 'utf8')) as { context?: { accounts?: unknown } };
  const raw = cdk.context?.accounts;
  if (!Array.isArray(raw)) throw new Error(`${cdkJsonPath}: context.accounts must be a list of accounts`);
  const inputs = raw.map((a) => ({ ...(a as Record<string, unknown>), paper: true }));
  const configs = parseAccountList(inputs, `${path.basename(cdkJsonPath)} context "accounts"`);
  return configs.map((config, i) => ({ name: config.name, input: inputs[i], config }));
}

/** What an account's handlers need besides the broker. */
export interface AccountEnvironmentInput {
  readonly account: LocalAccountDefinition;
  readonly tableName: string;
  readonly dynamoEndpoint: string;
  readonly broker: BrokerEnvironment;
  /** Seconds a claimed order step is protected (CLAIM_LEASE_SECONDS). */
  readonly claimLeaseSeconds: number;
}

/** The environment one account's handler factories are called with (never `process.env` itself). */
export function accountEnvironment(i: AccountEnvironmentInput): NodeJS.ProcessEnv {
  return {
    ACCOUNT_NAME: i.account.name,
    ACCOUNT_CONFIG: JSON.stringify(i.account.input),
    POSITIONS_TABLE: i.tableName,
    CLAIM_LEASE_SECONDS: String(i.claimLeaseSeconds),
    AWS_ENDPOINT_URL_DYNAMODB: i.dynamoEndpoint,
    AWS_REGION: LOCAL_AWS_ENV.AWS_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...i.broker,
  };
}

/**
 * Dummy credentials and region for the local stand-ins. The DynamoDB client the handlers build reads
 * credentials and region from `process.env`, so local mode sets these there (never the inject CLI when it
 * targets a real queue).
 */
export const LOCAL_AWS_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
} as const;
