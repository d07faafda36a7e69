/**
 * Local mode's broker selection, without network: which environment leads to the simulator, to Alpaca's
 * paper API, or to a refusal — and which endpoints the handlers then resolve (never the live host).
 */
import {
  resolveAlpacaEndpoints,
  ALPACA_DATA_URL,
  ALPACA_PAPER_TRADING_URL,
} from '../../shared/adapters/alpaca-endpoints';
import { accountEnvironment, readCdkAccounts } from '../../local/accounts';
import { accountsToRun, brokerEnvironment, LocalModeError, selectBrokerMode } from '../../local/mode';
import { parseStartArgs, stackOptionsFor } from '../../local/start';
import { loadRuntimeConfig } from '../../shared/config';

const KEYS = { APCA_API_KEY_ID: 'PKUSER', APCA_API_SECRET_KEY: 'user-secret' };
const SIM = 'http://127.0.0.1:4567';

describe('selectBrokerMode', () => {
  it('uses the simulator when no Alpaca keys are set', () => {
    expect(selectBrokerMode({})).toEqual({ kind: 'simulator' });
  });

  it("uses Alpaca's paper API with the user's keys when both are set", () => {
    expect(selectBrokerMode(KEYS)).toEqual({ kind: 'paper', keyId: 'PKUSER', secretKey: 'user-secret' });
  });

  it('uses the simulator when --simulator is given, even with keys set', () => {
    expect(selectBrokerMode(KEYS, { forceSimulator: true })).toEqual({ kind: 'simulator' });
  });

  it('refuses half a key pair, naming the missing variable', () => {
    expect(() => selectBrokerMode({ APCA_API_KEY_ID: 'PKUSER' })).toThrow(/APCA_API_SECRET_KEY is not set/);
    expect(() => selectBrokerMode({ APCA_API_SECRET_KEY: 's' })).toThrow(/APCA_API_KEY_ID is not set/);
  });

  it('refuses an APCA_API_BASE_URL pointing at the live host', () => {
    expect(() => selectBrokerMode({ ...KEYS, APCA_API_BASE_URL: 'https://api.alpaca.markets' })).toThrow(
      /never live/,
    );
  });

  it('refuses an APCA_API_BASE_URL that is not the paper host', () => {
    expect(() => selectBrokerMode({ ...KEYS, APCA_API_BASE_URL: 'https://example.com' })).toThrow(
      LocalModeError,
    );
  });

  it('accepts the paper host spelled out in APCA_API_BASE_URL', () => {
    expect(selectBrokerMode({ ...KEYS, APCA_API_BASE_URL: 'https://paper-api.alpaca.markets/v2' }).kind).toBe(
      'paper',
    );
  });
});

describe('the endpoints the handlers resolve in each mode', () => {
  it("paper mode: no URL is passed, so the adapter takes Alpaca's paper trading host and the data host", () => {
    const env = brokerEnvironment(selectBrokerMode(KEYS), 'main');

    expect(env).toEqual(KEYS);
    expect(resolveAlpacaEndpoints(env, { paper: true })).toEqual({
      tradingBaseUrl: ALPACA_PAPER_TRADING_URL,
      dataBaseUrl: ALPACA_DATA_URL,
      paper: true,
    });
  });

  it('simulator mode: trading and data go to the simulator, with a key pair per account', () => {
    const main = brokerEnvironment({ kind: 'simulator' }, 'main', SIM);
    const tiny = brokerEnvironment({ kind: 'simulator' }, 'tiny', SIM);

    expect(resolveAlpacaEndpoints(main, { paper: true })).toMatchObject({
      tradingBaseUrl: SIM,
      dataBaseUrl: SIM,
    });
    expect(main.APCA_API_KEY_ID).not.toBe(tiny.APCA_API_KEY_ID);
  });

  it('every account from cdk.json runs as paper, whatever cdk.json says', () => {
    const accounts = readCdkAccounts();
    expect(accounts.map((a) => a.name)).toEqual(['main', 'tiny']);
    expect(accounts.every((a) => a.config.paper && a.input.paper === true)).toBe(true);
  });

  it("an account's environment satisfies the handlers' contract (shared/config.ts)", () => {
    const [main] = readCdkAccounts();
    const env = accountEnvironment({
      account: main,
      tableName: 'positions',
      dynamoEndpoint: 'http://127.0.0.1:1',
      broker: brokerEnvironment(selectBrokerMode(KEYS), 'main'),
      claimLeaseSeconds: 10,
    });

    const config = loadRuntimeConfig(env);

    expect(config).toMatchObject({ accountName: 'main', positionsTable: 'positions', claimLeaseMs: 10_000 });
    expect(config.account.paper).toBe(true);
    expect(env.APCA_API_BASE_URL).toBeUndefined();
  });
});

describe('accountsToRun', () => {
  it('runs every account with the simulator', () => {
    expect(accountsToRun({ kind: 'simulator' }, ['main', 'tiny'], [])).toEqual(['main', 'tiny']);
  });

  it('runs only main with one paper key pair', () => {
    expect(accountsToRun(selectBrokerMode(KEYS), ['main', 'tiny'], [])).toEqual(['main']);
    expect(accountsToRun(selectBrokerMode(KEYS), ['main', 'tiny'], ['tiny'])).toEqual(['tiny']);
  });

  it('refuses two accounts on one paper key pair, and unknown accounts', () => {
    expect(() => accountsToRun(selectBrokerMode(KEYS), ['main', 'tiny'], ['main', 'tiny'])).toThrow(
      /one account/,
    );
    expect(() => accountsToRun({ kind: 'simulator' }, ['main'], ['nope'])).toThrow(/unknown account "nope"/);
  });
});

describe('npm start arguments', () => {
  it('with keys and no --simulator, trades on paper', () => {
    expect(stackOptionsFor(parseStartArgs([]), KEYS).broker).toEqual({
      kind: 'paper',
      keyId: 'PKUSER',
      secretKey: 'user-secret',
    });
  });

  it('--simulator wins over keys', () => {
    expect(stackOptionsFor(parseStartArgs(['--simulator']), KEYS).broker).toEqual({ kind: 'simulator' });
  });

  it('--demo always runs on the simulator, without the view and with prices held still', () => {
    const args = parseStartArgs(['--demo']);
    const opts = stackOptionsFor(args, KEYS);

    expect(args.view).toBe(false);
    expect(opts).toMatchObject({
      broker: { kind: 'simulator' },
      randomWalk: false,
      accounts: ['main', 'tiny'],
    });
  });

  it('refuses unknown options and out-of-range numbers', () => {
    expect(() => parseStartArgs(['--nope'])).toThrow(/unknown option --nope/);
    expect(() => parseStartArgs(['--sweep-seconds', '0'])).toThrow(/--sweep-seconds needs a number/);
  });
});
