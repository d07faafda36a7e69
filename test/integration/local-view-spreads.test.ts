/**
 * The live view's table read with spread items in it (written through DynamoSpreadStore to dynalite): the
 * single-leg rows leave them out, and they come back as spread records for the view's spread rows.
 */
import { DynamoSpreadStore } from '../../shared/adapters/dynamo-spread-store';
import { listAllRecords } from '../../local/view-data';
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
