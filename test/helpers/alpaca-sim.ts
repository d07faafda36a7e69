/**
 * Test harness around the Alpaca simulator: a started simulator with one account, the real SDK's API
 * classes pointed at it, and the project's adapter pointed at it.
 */
import { marketData, trading } from '@alpacahq/alpaca-trade-api/rest';
import {
  startAlpacaSim,
  type AlpacaSim,
  type AlpacaSimOptions,
  type SimRequestLogEntry,
} from '../../local/alpaca-sim';
import { AlpacaAdapter, type AlpacaAdapterOptions } from '../../shared/adapters/alpaca';
import { FUTURE_SYMBOL as CALL } from './recommendations';

/** The test account's key pair. */
export const KEY_ID = 'PKTEST0001';
export const SECRET = 'test-secret-0001';

/** Option symbols used across the tests (the same as the recommendation builders'). */
export { FUTURE_SYMBOL as CALL, FUTURE_PUT as PUT } from './recommendations';

/** Starts a simulator with the test account (100k cash) and a quote on CALL (bid 2.00 / ask 2.10). */
export async function startTestSim(opts: AlpacaSimOptions = {}): Promise<AlpacaSim> {
  const sim = await startAlpacaSim(opts);
  sim.addAccount(KEY_ID, SECRET, { cash: 100_000 });
  sim.setQuote(CALL, { bid: 2, ask: 2.1 });
  return sim;
}

/** The real SDK's API classes (no retries, no client-side rate limit) pointed at the simulator. */
export function sdkFor(sim: AlpacaSim, keyId = KEY_ID, secret = SECRET) {
  const cfg = { basePath: sim.url, keyId, secret, timeoutMs: 5000 };
  const t = new trading.Configuration(cfg);
  const d = new marketData.Configuration(cfg);
  return {
    orders: new trading.OrdersApi(t),
    positions: new trading.PositionsApi(t),
    accounts: new trading.AccountsApi(t),
    clock: new trading.ClockApi(t),
    calendar: new trading.CalendarApi(t),
    assets: new trading.AssetsApi(t),
    options: new marketData.OptionApi(d),
  };
}

/** The project's adapter pointed at the simulator for both trading and data. */
export function adapterFor(sim: AlpacaSim, opts: Partial<AlpacaAdapterOptions> = {}): AlpacaAdapter {
  return new AlpacaAdapter({
    keyId: KEY_ID,
    secretKey: SECRET,
    tradingBaseUrl: sim.url,
    dataBaseUrl: sim.url,
    timeoutMs: 3000,
    ...opts,
  });
}

/** A minimal market order body for the SDK's `postOrder`. */
export function orderBody(
  over: Partial<trading.PostOrderRequest> & Pick<trading.PostOrderRequest, 'side'>,
): trading.PostOrderRequest {
  return { symbol: CALL, qty: '1', type: 'market', timeInForce: 'day', ...over };
}

/** Awaits a promise that must reject and returns the error. */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, it succeeded');
}

/**
 * Calls `listener` with each request the simulator logs from now on, synchronously, as it arrives: before
 * the simulator acts on it or any `delayMs` fault holds it. A test acts at that instant (fills an order
 * while a cancel is on its way, reads what was answered by then) instead of sleeping and hoping. Returns
 * a function that stops listening.
 */
export function onRequest(
  sim: Pick<AlpacaSim, 'requests'>,
  listener: (entry: SimRequestLogEntry) => void,
): () => void {
  const log = sim.requests;
  const push = log.push.bind(log);
  let on = true;
  log.push = (...entries: SimRequestLogEntry[]) => {
    const n = push(...entries);
    if (on) for (const e of entries) listener(e);
    return n;
  };
  return () => {
    on = false;
  };
}
