/**
 * The live view's table read with spread items in it (written through DynamoSpreadStore to dynalite): the
 * single-leg rows leave them out, and they come back as spread records for the view's spread rows.
 */
import { DynamoSpreadStore } from '../../shared/adapters/dynamo-spread-store';
import { listAllRecords, readerFor } from '../../local/view-data';
import { startAlpacaSim } from '../../local/alpaca-sim';
import { contractFor } from '../helpers/contracts';
import type { LocalStack } from '../../local/stack';
import { makePosition } from '../helpers/factories';
import { startTestTable, type TestTable } from '../helpers/dynamo';
import { bookedVertical, makeSpread } from '../helpers/spread-factories';

let t: TestTable;

beforeAll(async () => {
  t = await startTestTable();
  const spreads = new DynamoSpreadStore(t.client, t.tableName, t.store);
  const claimed = makeSpread({ position_id: 'sp-live', recommendation_id: 'sp-live' });
  await spreads.claimSpread(claimed);
  await spreads.replaceSpread(claimed, bookedVertical('sp-live', false));
  await t.store.claim(
    makePosition({ position_id: 'single-1', recommendation_id: 'single-1', state: 'open', version: 1 }),
  );
});
afterAll(async () => {
  await t.close();
});

describe('the live view reads spreads from the table', () => {
  it('decodes spread items as spreads and single-leg items as positions', async () => {
    // The view reads only the stack's table client and name.
    const stack = { dynamo: { client: t.client }, tableName: t.tableName } as unknown as LocalStack;

    const { positions, spreads } = await listAllRecords(stack, 'main');

    expect(positions.map((p) => p.position_id)).toEqual(['single-1']);
    expect(spreads.map((sp) => [sp.position_id, sp.version, sp.legs.length])).toEqual([['sp-live', 2, 2]]);
  });
});

describe("the live view's last orders", () => {
  it('names an mleg order by its legs, and its intent as the pipeline sent it: each leg on the open, none on the close', async () => {
    const sim = await startAlpacaSim({ rateLimitPerMinute: null });
    try {
      sim.addAccount('view-key', 'view-secret', { optionsBuyingPower: 100_000 });
      const long = contractFor('GOOGL', 60, 'C', 340);
      const short = contractFor('GOOGL', 60, 'C', 350);
      sim.setQuote(long, { bid: 5, ask: 5.2 });
      sim.setQuote(short, { bid: 2, ask: 2.1 });
      const post = (body: unknown) =>
        fetch(`${sim.url}/v2/orders`, {
          method: 'POST',
          headers: {
            'APCA-API-KEY-ID': 'view-key',
            'APCA-API-SECRET-KEY': 'view-secret',
            'Content-Type': 'application/json',
          },
          body: JSON.stringify(body),
        });
      await post({
        order_class: 'mleg',
        qty: '1',
        type: 'market',
        time_in_force: 'day',
        client_order_id: 'ops-main-o-sp',
        legs: [
          { symbol: long, ratio_qty: '1', side: 'buy', position_intent: 'buy_to_open' },
          { symbol: short, ratio_qty: '1', side: 'sell', position_intent: 'sell_to_open' },
        ],
      });
      await post({
        order_class: 'mleg',
        qty: '1',
        type: 'market',
        time_in_force: 'day',
        client_order_id: 'ops-main-x1-sp',
        legs: [
          { symbol: long, ratio_qty: '1', side: 'sell' },
          { symbol: short, ratio_qty: '1', side: 'buy' },
        ],
      });
      const stack = { sim } as unknown as LocalStack;
      const rows = await readerFor(stack, { keyId: 'view-key' } as never).recentOrders(5);
      expect(rows.map((r) => [r.clientOrderId, r.side, r.symbol, r.intent])).toEqual([
        ['ops-main-x1-sp', 'mleg', '2 legs', '—'],
        ['ops-main-o-sp', 'mleg', '2 legs', 'each leg'],
      ]);
    } finally {
      await sim.close();
    }
  });
});
