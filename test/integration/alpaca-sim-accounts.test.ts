/**
 * What local/alpaca-sim/README.md says about keys and the standalone CLI's market holds: with
 * `autoCreateAccounts` a key id is accepted on first use and keeps the secret it came with; without it an
 * unknown key is refused; the CLI quotes one SPY chain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startAlpacaSim, type AlpacaSim } from '../../local/alpaca-sim';

let sim: AlpacaSim | undefined;
let cli: ChildProcess | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
  if (cli && cli.exitCode === null) {
    const exited = new Promise((resolve) => cli!.once('exit', resolve));
    cli.kill('SIGTERM');
    await exited;
  }
  cli = undefined;
});

async function get(url: string, keyId: string, secret: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url, { headers: { 'APCA-API-KEY-ID': keyId, 'APCA-API-SECRET-KEY': secret } });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

describe('keys', () => {
  it('autoCreateAccounts: a new key id is accepted with any secret, which then sticks', async () => {
    sim = await startAlpacaSim({ autoCreateAccounts: { cash: 100_000 } });
    const first = await get(`${sim.url}/v2/account`, 'PKANY1', 'first-secret');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ cash: '100000.00', status: 'ACTIVE' });
    expect((await get(`${sim.url}/v2/account`, 'PKANY1', 'first-secret')).status).toBe(200);
    const other = await get(`${sim.url}/v2/account`, 'PKANY1', 'another-secret');
    // A wrong secret: 401 `unauthorized.` on trading paths too (fixture user-401-wrong-secret).
    expect(other).toEqual({ status: 401, body: { message: 'unauthorized.' } });
    const data = await get(`${sim.url}/v1beta1/options/snapshots?symbols=X`, 'PKANY1', 'another-secret');
    expect(data).toEqual({ status: 401, body: { message: 'unauthorized.' } });
    expect((await get(`${sim.url}/v2/account`, 'PKANY2', 'x')).status).toBe(200);
  });

  it('without autoCreateAccounts an unknown key is refused', async () => {
    sim = await startAlpacaSim();
    sim.addAccount('PKKNOWN', 's');
    expect((await get(`${sim.url}/v2/account`, 'PKKNOWN', 's')).status).toBe(200);
    expect(await get(`${sim.url}/v2/account`, 'PKUNKNOWN', 's')).toEqual({
      status: 401,
      body: { message: 'unauthorized.' },
    });
  });
});

it('the standalone CLI accepts a new key pair and quotes one SPY chain', async () => {
  const root = join(__dirname, '../..');
  cli = spawn(
    process.execPath,
    ['--import', 'tsx', 'local/alpaca-sim/main.ts', '--port', '0', '--walk-ms', '60000'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    cli!.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m) resolve(m[0]);
    });
    cli!.once('exit', (code) => reject(new Error(`CLI exited ${code} before printing its URL`)));
  });
  const contracts = await get(`${url}/v2/options/contracts?limit=1000`, 'PKNEW', 'whatever');
  expect(contracts.status).toBe(200);
  const list = (contracts.body as { option_contracts: { underlying_symbol: string }[] }).option_contracts;
  expect(list.length).toBe(10);
  expect(new Set(list.map((c) => c.underlying_symbol))).toEqual(new Set(['SPY']));
}, 20_000);
