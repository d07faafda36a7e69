/**
 * Alpaca API credentials: from `APCA_API_KEY_ID` + `APCA_API_SECRET_KEY` when both are set (local mode,
 * CI), otherwise from the Secrets Manager secret named by `ALPACA_SECRET_ID` (deployed functions),
 * cached per container so warm invocations do not call Secrets Manager again.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, TransientError } from '../domain/errors';

/** An Alpaca key pair. */
export interface AlpacaCredentials {
  readonly keyId: string;
  readonly secretKey: string;
}

/** The part of `SecretsManagerClient` this module uses (a test hands in a fake). */
export interface SecretsClientLike {
  send(command: GetSecretValueCommand): Promise<{ SecretString?: string }>;
}

/** How long a secret read from Secrets Manager is reused (key rotation is picked up after this). */
export const CREDENTIALS_CACHE_TTL_MS = 15 * 60 * 1000;

const cache = new Map<string, { at: number; value: Promise<AlpacaCredentials> }>();
let defaultClient: SecretsManagerClient | undefined;

/** Forgets cached secrets (tests; or after the broker answered 401/403 with cached keys). */
export function clearAlpacaCredentialsCache(): void {
  cache.clear();
}

// Errors after which retrying the same read can never succeed: the configuration is wrong.
const PERMANENT_SECRETS_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'DecryptionFailure',
  'InvalidRequestException',
  'InvalidParameterException',
]);

/**
 * Loads the Alpaca key pair. Throws {@link ConfigError} naming what is missing (never the secret's
 * values), or {@link TransientError} when Secrets Manager is unavailable (throttled, network).
 */
export async function loadAlpacaCredentials(
  env: NodeJS.ProcessEnv,
  secretsClient?: SecretsClientLike,
  now: () => number = Date.now,
): Promise<AlpacaCredentials> {
  const keyId = env.APCA_API_KEY_ID?.trim();
  const secretKey = env.APCA_API_SECRET_KEY?.trim();
  if (keyId && secretKey) return { keyId, secretKey };
  if (keyId || secretKey) {
    const missing = keyId ? 'APCA_API_SECRET_KEY' : 'APCA_API_KEY_ID';
    const present = keyId ? 'APCA_API_KEY_ID' : 'APCA_API_SECRET_KEY';
    throw new ConfigError(
      `${missing} is not set but ${present} is: set both, or neither and ALPACA_SECRET_ID`,
    );
  }
  const secretId = env.ALPACA_SECRET_ID?.trim();
  if (!secretId) {
    throw new ConfigError(
      'No Alpaca credentials: set APCA_API_KEY_ID and APCA_API_SECRET_KEY, or ALPACA_SECRET_ID (a Secrets Manager secret)',
    );
  }
  const cached = cache.get(secretId);
  if (cached && now() - cached.at < CREDENTIALS_CACHE_TTL_MS) return cached.value;
  const client = secretsClient ?? (defaultClient ??= new SecretsManagerClient({}));
  const value = readSecret(client, secretId);
  cache.set(secretId, { at: now(), value });
  // A failed read must not stay cached: the next invocation tries again.
  value.catch(() => {
    if (cache.get(secretId)?.value === value) cache.delete(secretId);
  });
  return value;
}

async function readSecret(client: SecretsClientLike, secretId: string): Promise<AlpacaCredentials> {
  let text: string | undefined;
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    text = out.SecretString;
  } catch (err) {
    const name = (err as { name?: string } | undefined)?.name ?? 'Error';
    if (PERMANENT_SECRETS_ERRORS.has(name)) {
      throw new ConfigError(`Cannot read Alpaca secret "${secretId}" (ALPACA_SECRET_ID): ${name}`, {
        cause: err,
      });
    }
    throw new TransientError(`Secrets Manager failed reading "${secretId}": ${name}`, {
      reason: 'secrets_unavailable',
      cause: err,
    });
  }
  if (!text) throw new ConfigError(`Alpaca secret "${secretId}" has no SecretString`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(
      `Alpaca secret "${secretId}" is not JSON; expected {"APCA_API_KEY_ID": "...", "APCA_API_SECRET_KEY": "..."}`,
    );
  }
  const obj = (parsed ?? {}) as Record<string, unknown>;
  const id = typeof obj.APCA_API_KEY_ID === 'string' ? obj.APCA_API_KEY_ID.trim() : '';
  const secret = typeof obj.APCA_API_SECRET_KEY === 'string' ? obj.APCA_API_SECRET_KEY.trim() : '';
  const missing = [!id && 'APCA_API_KEY_ID', !secret && 'APCA_API_SECRET_KEY'].filter(Boolean);
  if (missing.length > 0) {
    throw new ConfigError(`Alpaca secret "${secretId}" lacks ${missing.join(' and ')}`);
  }
  return { keyId: id, secretKey: secret };
}
