/**
 * Which Alpaca hosts an account talks to. Safety rule 6: live trading happens only when the account's
 * configuration says `paper: false`; a paper account can never be pointed at the live trading host.
 */
import { ConfigError } from '../domain/errors';

/** Alpaca's paper trading host. */
export const ALPACA_PAPER_TRADING_URL = 'https://paper-api.alpaca.markets';
/** Alpaca's live trading host: real money. */
export const ALPACA_LIVE_TRADING_URL = 'https://api.alpaca.markets';
/** Alpaca's market-data host (the same for paper and live). */
export const ALPACA_DATA_URL = 'https://data.alpaca.markets';

/** Base URLs (no trailing slash, no `/v2`) the adapter builds its API classes with. */
export interface AlpacaEndpoints {
  readonly tradingBaseUrl: string;
  readonly dataBaseUrl: string;
  readonly paper: boolean;
}

const LIVE_HOST = new URL(ALPACA_LIVE_TRADING_URL).host;

function normalise(raw: string, variable: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch (err) {
    throw new ConfigError(`${variable} is not a valid URL: "${raw}"`, { cause: err });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${variable} must be an http(s) URL, got "${raw}"`);
  }
  // The SDK's paths already start with /v2, /v1beta1...: a base ending in /v2 (the old SDK convention)
  // would produce /v2/v2/orders.
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v2$/, '');
  return `${url.origin}${path}`;
}

/**
 * Resolves the trading and data base URLs of an account from Alpaca's documented variables
 * `APCA_API_BASE_URL` and `APCA_API_DATA_URL` (the SDK itself ignores them), defaulting to the paper
 * host for paper accounts and the live host for `paper: false` accounts.
 * Throws {@link ConfigError} when a paper account would reach the live trading host.
 */
export function resolveAlpacaEndpoints(
  env: NodeJS.ProcessEnv,
  account: { readonly paper: boolean } = { paper: true },
): AlpacaEndpoints {
  const paper = account.paper !== false;
  const tradingRaw = env.APCA_API_BASE_URL?.trim();
  const dataRaw = env.APCA_API_DATA_URL?.trim();
  const tradingBaseUrl = tradingRaw
    ? normalise(tradingRaw, 'APCA_API_BASE_URL')
    : paper
      ? ALPACA_PAPER_TRADING_URL
      : ALPACA_LIVE_TRADING_URL;
  const dataBaseUrl = dataRaw ? normalise(dataRaw, 'APCA_API_DATA_URL') : ALPACA_DATA_URL;
  if (paper && new URL(tradingBaseUrl).host === LIVE_HOST) {
    throw new ConfigError(
      `APCA_API_BASE_URL points a paper account at the LIVE trading host ${ALPACA_LIVE_TRADING_URL}; ` +
        'live trading requires "paper": false in the account configuration',
    );
  }
  return { tradingBaseUrl, dataBaseUrl, paper };
}
