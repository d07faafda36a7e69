/**
 * Issue 26, item 4: the adapter sends the account's `market_data.feed` as `feed` on every option quote read
 * (snapshots and chain), checked on the requests the simulator received.
 */
import type { AlpacaSim } from '../../local/alpaca-sim';
import { CALL, adapterFor, startTestSim } from '../helpers/alpaca-sim';
import { contractFor, expiryIn } from '../helpers/contracts';

let sim: AlpacaSim;

beforeEach(async () => {
  sim = await startTestSim();
});

afterEach(async () => {
  await sim.close();
});

describe('feed on option quote reads', () => {
  it('sends feed=opra on the snapshots read of an account on opra', async () => {
    const quotes = await adapterFor(sim, { optionFeed: 'opra' }).getOptionQuotes([CALL]);
    expect(quotes.get(CALL)).toMatchObject({ bid: 2, ask: 2.1 });
    const reqs = sim.requestsTo('GET', '/v1beta1/options/snapshots');
    expect(reqs.map((r) => r.query.feed)).toEqual(['opra']);
  });

  it("sends feed=indicative by default (Alpaca's own default without an OPRA subscription)", async () => {
    await adapterFor(sim).getOptionQuotes([CALL]);
    expect(sim.requestsTo('GET', '/v1beta1/options/snapshots').map((r) => r.query.feed)).toEqual([
      'indicative',
    ]);
  });

  it('sends the feed on every page of every chunk, and on the chain', async () => {
    sim.setDataPageSize(1);
    const symbols = [CALL, contractFor('SPY', 30, 'P', 600)];
    sim.setQuote(symbols[1], { bid: 1, ask: 1.1 });
    const adapter = adapterFor(sim, { optionFeed: 'opra' });
    expect((await adapter.getOptionQuotes(symbols)).size).toBe(2);
    sim.addChain({ underlying: 'SPY', underlyingPrice: 600, expiries: [expiryIn(30)], strikes: [595, 600] });
    await adapter.getOptionChain('SPY');
    const snapshots = sim.requestsTo('GET', '/v1beta1/options/snapshots');
    const chain = sim.requestsTo('GET', '/v1beta1/options/snapshots/SPY');
    expect(snapshots.length).toBe(2);
    expect(chain.length).toBeGreaterThan(1);
    for (const r of [...snapshots, ...chain]) expect(r.query.feed).toBe('opra');
  });

  it('the simulator refuses a feed Alpaca does not serve', async () => {
    const res = await fetch(`${sim.url}/v1beta1/options/snapshots?symbols=${CALL}&feed=sip`, {
      headers: { 'APCA-API-KEY-ID': 'PKTEST0001', 'APCA-API-SECRET-KEY': 'test-secret-0001' },
    });
    expect(res.status).toBe(400);
  });
});
