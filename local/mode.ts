/**
 * Which broker local mode trades with, decided from the environment and the command line, without any
 * network: the project's Alpaca simulator (default), or Alpaca's PAPER API with the user's own keys.
 * Local mode never trades live: accounts are forced to `paper: true`, no trading URL is passed to the
 * handlers in paper mode (so the adapter takes Alpaca's paper default), and a live URL in the shell is refused.
 */
import { ALPACA_LIVE_TRADING_URL, ALPACA_PAPER_TRADING_URL } from '../shared/adapters/alpaca-endpoints';

/** The simulator, or Alpaca's paper API with one key pair. */
export type BrokerMode =
  | { readonly kind: 'simulator' }
  | { readonly kind: 'paper'; readonly keyId: string; readonly secretKey: string };

/** A local-mode setup problem the user must fix (printed without a stack trace). */
export class LocalModeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalModeError';
  }
}

/**
 * Simulator unless both `APCA_API_KEY_ID` and `APCA_API_SECRET_KEY` are set and `--simulator` was not
 * given. Half a key pair is an error (a typo must not silently fall back to the simulator), and so is an
 * `APCA_API_BASE_URL` that is not Alpaca's paper host (local mode never reaches the live host).
 */
export function selectBrokerMode(
  env: NodeJS.ProcessEnv,
  flags: { readonly forceSimulator?: boolean } = {},
): BrokerMode {
  if (flags.forceSimulator) return { kind: 'simulator' };
  const keyId = env.APCA_API_KEY_ID?.trim();
  const secretKey = env.APCA_API_SECRET_KEY?.trim();
  if (!keyId && !secretKey) return { kind: 'simulator' };
  if (!keyId || !secretKey) {
    const missing = keyId ? 'APCA_API_SECRET_KEY' : 'APCA_API_KEY_ID';
    throw new LocalModeError(
      `${missing} is not set but ${keyId ? 'APCA_API_KEY_ID' : 'APCA_API_SECRET_KEY'} is: set both to trade on ` +
        "Alpaca's paper API, or neither (or pass --simulator) to use the local simulator",
    );
  }
  const base = env.APCA_API_BASE_URL?.trim();
  if (base && !sameOrigin(base, ALPACA_PAPER_TRADING_URL)) {
    throw new LocalModeError(
      `APCA_API_BASE_URL is "${base}": local mode trades only on Alpaca's paper API ` +
        `(${ALPACA_PAPER_TRADING_URL})${sameOrigin(base, ALPACA_LIVE_TRADING_URL) ? ', never live' : ''}. ` +
        'Unset it, or pass --simulator.',
    );
  }
  return { kind: 'paper', keyId, secretKey };
}

/** Where one account's handlers reach the broker (a type, not an interface, so it is a ProcessEnv). */
export type BrokerEnvironment = {
  readonly APCA_API_KEY_ID: string;
  readonly APCA_API_SECRET_KEY: string;
  readonly APCA_API_BASE_URL?: string;
  readonly APCA_API_DATA_URL?: string;
};

/**
 * The broker part of one account's handler environment. Simulator: the simulator's URL for trading and
 * data, and a key pair of the account's own (so each account has its own simulated broker account).
 * Paper: the user's keys and no URLs, so `resolveAlpacaEndpoints` picks Alpaca's paper hosts.
 */
export function brokerEnvironment(
  mode: BrokerMode,
  account: string,
  simulatorUrl?: string,
): BrokerEnvironment {
  if (mode.kind === 'paper') {
    return { APCA_API_KEY_ID: mode.keyId, APCA_API_SECRET_KEY: mode.secretKey };
  }
  if (!simulatorUrl) throw new Error('simulator mode needs the simulator URL');
  const keys = simulatorKeys(account);
  return {
    APCA_API_KEY_ID: keys.keyId,
    APCA_API_SECRET_KEY: keys.secretKey,
    APCA_API_BASE_URL: simulatorUrl,
    APCA_API_DATA_URL: simulatorUrl,
  };
}

/** The simulated broker account of a pipeline account. */
export function simulatorKeys(account: string): { keyId: string; secretKey: string } {
  return { keyId: `PKLOCAL${account.toUpperCase().replace(/-/g, '')}`, secretKey: `local-secret-${account}` };
}

/**
 * The accounts to run: every account in cdk.json with the simulator; with a single paper key pair only one
 * (default `main`), because two pipeline accounts sharing one broker account would each see the other's
 * positions as untracked.
 */
export function accountsToRun(
  mode: BrokerMode,
  available: readonly string[],
  requested: readonly string[],
): string[] {
  for (const name of requested) {
    if (!available.includes(name)) {
      throw new LocalModeError(`unknown account "${name}"; cdk.json has: ${available.join(', ')}`);
    }
  }
  if (mode.kind === 'paper') {
    if (requested.length > 1) {
      throw new LocalModeError(
        'paper mode trades one account with your one key pair: pass a single --account (default main)',
      );
    }
    const name = requested[0] ?? (available.includes('main') ? 'main' : available[0]);
    return [name];
  }
  return requested.length > 0 ? [...requested] : [...available];
}

function sameOrigin(raw: string, url: string): boolean {
  try {
    return new URL(raw).host === new URL(url).host;
  } catch {
    return false;
  }
}
