/**
 * The one check `npm start` makes before trading on Alpaca's paper API with the user's keys: the keys are
 * accepted and the host answers (GET /v2/account, then GET /v2/clock). Without it a bad key pair or no
 * network showed only as a sweep failing with `fetch failed` every few seconds.
 */
import { ALPACA_PAPER_TRADING_URL } from '../shared/adapters/alpaca-endpoints';
import { LocalModeError } from './mode';

/** What the check learned, for the start-up line. */
export interface PaperAccess {
  readonly accountNumber: string | null;
  readonly status: string | null;
  readonly marketOpen: boolean | null;
}

const FALLBACK =
  'Check APCA_API_KEY_ID / APCA_API_SECRET_KEY (paper keys, from the paper dashboard at app.alpaca.markets), ' +
  'or run on the local simulator: unset them, or pass --simulator.';

/**
 * Calls GET /v2/account and GET /v2/clock with the keys. Throws one {@link LocalModeError} saying what
 * failed (refused keys, unreachable host, another answer) and what to do.
 */
export async function checkPaperAccess(opts: {
  readonly keyId: string;
  readonly secretKey: string;
  readonly tradingBaseUrl?: string;
  readonly timeoutMs?: number;
}): Promise<PaperAccess> {
  const base = (opts.tradingBaseUrl ?? ALPACA_PAPER_TRADING_URL).replace(/\/+$/, '');
  const get = async (path: string): Promise<Record<string, unknown>> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        headers: { 'APCA-API-KEY-ID': opts.keyId, 'APCA-API-SECRET-KEY': opts.secretKey },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new LocalModeError(
        `cannot reach Alpaca's paper API at ${base} (GET ${path}: ${why}). Check your network or proxy. ` +
          FALLBACK,
      );
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) {
      throw new LocalModeError(
        `Alpaca's paper API refused your keys (${res.status} ${text.trim().slice(0, 200)} on GET ${path}). ` +
          FALLBACK,
      );
    }
    if (!res.ok) {
      throw new LocalModeError(
        `Alpaca's paper API answered ${res.status} to GET ${path} (${text.trim().slice(0, 200)}); try again later. ` +
          FALLBACK,
      );
    }
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new LocalModeError(`GET ${base}${path} did not answer JSON: is ${base} Alpaca's paper API?`);
    }
  };
  const account = await get('/v2/account');
  const clock = await get('/v2/clock');
  return {
    accountNumber: typeof account.account_number === 'string' ? account.account_number : null,
    status: typeof account.status === 'string' ? account.status : null,
    marketOpen: typeof clock.is_open === 'boolean' ? clock.is_open : null,
  };
}
