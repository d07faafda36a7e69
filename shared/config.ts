/**
 * The functions' environment, parsed once at cold start. A bad or missing variable fails loudly, naming it.
 * Public contract (README "Environment"): ACCOUNT_NAME, ACCOUNT_CONFIG, POSITIONS_TABLE, ALPACA_SECRET_ID or
 * APCA_API_KEY_ID + APCA_API_SECRET_KEY, APCA_API_BASE_URL, APCA_API_DATA_URL. AWS endpoints come only from
 * the SDK's own AWS_ENDPOINT_URL* variables.
 */
import { parseAccountConfig, type AccountConfig } from './domain/account-config';
import { ConfigError } from './domain/errors';

export interface RuntimeConfig {
  readonly accountName: string;
  readonly account: AccountConfig;
  readonly positionsTable: string;
  /**
   * How long a claimed order step is protected before a retry may resume it (`CLAIM_LEASE_SECONDS`,
   * default 120). Must exceed the function timeout; the queue's visibility timeout exceeds both.
   */
  readonly claimLeaseMs: number;
  /**
   * The recommendations queue (`RECOMMENDATIONS_QUEUE_URL`, optional): when set, the open-order function
   * brings transiently failed messages back on a schedule that fits the recommendation's age limit.
   */
  readonly recommendationsQueueUrl: string | null;
  /** The queue's redrive maxReceiveCount (`RECOMMENDATIONS_MAX_RECEIVE_COUNT`, default 3). */
  readonly maxReceiveCount: number;
}

/** Parses the shared part of the environment. Throws {@link ConfigError} naming the bad variable. */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv): RuntimeConfig {
  const accountName = required(env, 'ACCOUNT_NAME');
  const positionsTable = required(env, 'POSITIONS_TABLE');
  const rawConfig = env.ACCOUNT_CONFIG?.trim() ? env.ACCOUNT_CONFIG : JSON.stringify({ name: accountName });
  let raw: unknown;
  try {
    raw = JSON.parse(rawConfig);
  } catch (err) {
    throw new ConfigError(`ACCOUNT_CONFIG is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const account = parseAccountConfig(raw, 'ACCOUNT_CONFIG');
  if (account.name !== accountName) {
    throw new ConfigError(
      `ACCOUNT_CONFIG.name "${account.name}" does not match ACCOUNT_NAME "${accountName}"`,
    );
  }
  const leaseRaw = env.CLAIM_LEASE_SECONDS?.trim();
  const lease = leaseRaw ? Number(leaseRaw) : 120;
  if (!Number.isFinite(lease) || lease < 0 || lease > 3600) {
    throw new ConfigError(
      `CLAIM_LEASE_SECONDS must be a number of seconds from 0 to 3600, got "${leaseRaw}"`,
    );
  }
  const receivesRaw = env.RECOMMENDATIONS_MAX_RECEIVE_COUNT?.trim();
  const maxReceiveCount = receivesRaw ? Number(receivesRaw) : 3;
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw new ConfigError(
      `RECOMMENDATIONS_MAX_RECEIVE_COUNT must be a whole number from 1 to 1000, got "${receivesRaw}"`,
    );
  }
  return {
    accountName,
    account,
    positionsTable,
    claimLeaseMs: lease * 1000,
    recommendationsQueueUrl: env.RECOMMENDATIONS_QUEUE_URL?.trim() || null,
    maxReceiveCount,
  };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name]?.trim();
  if (!v) throw new ConfigError(`environment variable ${name} is required`);
  return v;
}
