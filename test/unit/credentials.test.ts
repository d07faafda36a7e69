/**
 * loadAlpacaCredentials: environment first, then Secrets Manager (a fake client object: Secrets Manager
 * cannot run here), cached per container, with errors that name what is missing.
 */
import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  CREDENTIALS_CACHE_TTL_MS,
  clearAlpacaCredentialsCache,
  loadAlpacaCredentials,
  type SecretsClientLike,
} from '../../shared/adapters/credentials';
import { ConfigError, TransientError } from '../../shared/domain/errors';

/** A fake Secrets Manager: answers from a table, records the SecretIds asked for. */
function fakeSecrets(answer: (secretId: string) => { SecretString?: string } | Error): SecretsClientLike & {
  calls: string[];
} {
  const calls: string[] = [];
  return {
    calls,
    async send(command: GetSecretValueCommand) {
      const id = String(command.input.SecretId);
      calls.push(id);
      const out = answer(id);
      if (out instanceof Error) throw out;
      return out;
    },
  };
}

function awsError(name: string): Error {
  const err = new Error(`${name} happened`);
  err.name = name;
  return err;
}

const GOOD = JSON.stringify({ APCA_API_KEY_ID: 'PK123', APCA_API_SECRET_KEY: 'sk-456' });

beforeEach(() => clearAlpacaCredentialsCache());

describe('loadAlpacaCredentials', () => {
  it('uses APCA_API_KEY_ID and APCA_API_SECRET_KEY when both are set, without Secrets Manager', async () => {
    const secrets = fakeSecrets(() => ({ SecretString: GOOD }));
    const creds = await loadAlpacaCredentials(
      { APCA_API_KEY_ID: 'PKENV', APCA_API_SECRET_KEY: 'skenv', ALPACA_SECRET_ID: 'ignored' },
      secrets,
    );
    expect(creds).toEqual({ keyId: 'PKENV', secretKey: 'skenv' });
    expect(secrets.calls).toEqual([]);
  });

  it('names the missing half when only one of the pair is set', async () => {
    await expect(loadAlpacaCredentials({ APCA_API_KEY_ID: 'PK' })).rejects.toThrow(
      /APCA_API_SECRET_KEY is not set/,
    );
    await expect(loadAlpacaCredentials({ APCA_API_SECRET_KEY: 'sk' })).rejects.toThrow(
      /APCA_API_KEY_ID is not set/,
    );
  });

  it('says what to set when there is neither a key pair nor ALPACA_SECRET_ID', async () => {
    const err = await loadAlpacaCredentials({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/APCA_API_KEY_ID.*APCA_API_SECRET_KEY.*ALPACA_SECRET_ID/);
  });

  it('reads the secret named by ALPACA_SECRET_ID and caches it per container', async () => {
    const secrets = fakeSecrets(() => ({ SecretString: GOOD }));
    const env = { ALPACA_SECRET_ID: 'ops-pipeline/alpaca/main' };
    expect(await loadAlpacaCredentials(env, secrets)).toEqual({ keyId: 'PK123', secretKey: 'sk-456' });
    expect(await loadAlpacaCredentials(env, secrets)).toEqual({ keyId: 'PK123', secretKey: 'sk-456' });
    expect(secrets.calls).toEqual(['ops-pipeline/alpaca/main']);
  });

  it('reads the secret again once the cache entry is older than the TTL', async () => {
    const secrets = fakeSecrets(() => ({ SecretString: GOOD }));
    const env = { ALPACA_SECRET_ID: 's' };
    await loadAlpacaCredentials(env, secrets, () => 0);
    await loadAlpacaCredentials(env, secrets, () => CREDENTIALS_CACHE_TTL_MS + 1);
    expect(secrets.calls).toHaveLength(2);
  });

  it('does not cache a failed read', async () => {
    let fail = true;
    const secrets = fakeSecrets(() => (fail ? awsError('ThrottlingException') : { SecretString: GOOD }));
    const env = { ALPACA_SECRET_ID: 's' };
    const err = await loadAlpacaCredentials(env, secrets).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ reason: 'secrets_unavailable' });
    fail = false;
    await expect(loadAlpacaCredentials(env, secrets)).resolves.toEqual({
      keyId: 'PK123',
      secretKey: 'sk-456',
    });
  });

  it('turns a missing or forbidden secret into a ConfigError naming the secret', async () => {
    for (const name of ['ResourceNotFoundException', 'AccessDeniedException']) {
      clearAlpacaCredentialsCache();
      const err = await loadAlpacaCredentials(
        { ALPACA_SECRET_ID: 'nope' },
        fakeSecrets(() => awsError(name)),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('"nope"');
      expect((err as Error).message).toContain(name);
    }
  });

  it('names the missing fields of a malformed secret without printing its values', async () => {
    const partial = fakeSecrets(() => ({
      SecretString: JSON.stringify({ APCA_API_KEY_ID: 'PKSECRETVALUE' }),
    }));
    const err = await loadAlpacaCredentials({ ALPACA_SECRET_ID: 's' }, partial).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/lacks APCA_API_SECRET_KEY$/);
    expect((err as Error).message).not.toContain('PKSECRETVALUE');

    clearAlpacaCredentialsCache();
    const notJson = fakeSecrets(() => ({ SecretString: 'PK:sk' }));
    await expect(loadAlpacaCredentials({ ALPACA_SECRET_ID: 's' }, notJson)).rejects.toThrow(/is not JSON/);
  });
});
