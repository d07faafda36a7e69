import { startTestTable, type TestTable } from '../helpers/dynamo';
import { ConcurrentUpdateError } from '../../shared/domain/errors';
import { resolveExitPlan } from '../../shared/domain/exit-plan';
import type { Position } from '../../shared/domain/position';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';

let t: TestTable;
beforeAll(async () => {
  t = await startTestTable();
});
afterAll(async () => {
  await t.close();
});

function position(id: string, o: Partial<Position> = {}): Position {
  const now = '2026-11-24T15:00:00.000Z';
  return {
    account: 'main',
    position_id: id,
    recommendation_id: id,
    ticker: 'GOOGL',
    option_symbol: 'GOOGL271217C00340000',
    side: 'long',
    state: 'open',
    quantity: 5,
    original_quantity: 5,
    requested_quantity: 5,
    open_client_order_id: `ops-main-o-${id}`,
    open_order_type: 'market',
    exit_plan: resolveExitPlan(),
    partial_exits_done: [],
    exit_seq: 0,
    realized_pnl: 0,
    flags: [],
    created_at: now,
    updated_at: now,
    version: 0,
    ...o,
  };
}

describe('DynamoPositionStore against dynalite', () => {
  it('claims once: a second claim returns the existing record', async () => {
    expect(await t.store.claim(position('c1', { state: 'submitting' }))).toEqual({ claimed: true });
    const second = await t.store.claim(position('c1', { quantity: 99 }));
    expect(second.claimed).toBe(false);
    expect(!second.claimed && second.existing).toMatchObject({ state: 'submitting', quantity: 5 });
  });

  it('replace is conditional on the version: the second of two writers loses', async () => {
    await t.store.claim(position('v1'));
    const v0 = (await t.store.get('main', 'v1'))!;
    const v1 = await t.store.replace(v0, { ...v0, quantity: 4 });
    expect(v1.version).toBe(1);
    await expect(t.store.replace(v0, { ...v0, quantity: 3 })).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect((await t.store.get('main', 'v1'))!.quantity).toBe(4);
  });

  it('listLive uses the sparse index: closed positions and other accounts are not returned', async () => {
    await t.store.claim(position('l1', { account: 'live-acct' }));
    await t.store.claim(position('l2', { account: 'live-acct', state: 'pending' }));
    await t.store.claim(position('l3', { account: 'live-acct' }));
    await t.store.claim(position('o1', { account: 'other-acct' }));
    const l3 = (await t.store.get('live-acct', 'l3'))!;
    await t.store.replace(l3, { ...l3, state: 'closed', close_reason: 'take_profit' });
    const live = await t.store.listLive('live-acct');
    expect(live.map((p) => p.position_id).sort()).toEqual(['l1', 'l2']);
    expect(await t.store.countLive('live-acct')).toBe(2);
    expect((await t.store.get('live-acct', 'l3'))!.state).toBe('closed');
  });

  it('reads a legacy record lacking newer fields with derived values', async () => {
    const doc = DynamoDBDocumentClient.from(t.client);
    await doc.send(
      new PutCommand({
        TableName: t.tableName,
        Item: {
          pk: 'ACCT#legacy',
          sk: 'POS#old-1',
          live_account: 'legacy',
          account: 'legacy',
          position_id: 'old-1',
          ticker: 'GOOGL',
          option_symbol: 'GOOGL271217C00340000',
          side: 'long',
          state: 'open',
          quantity: 7,
          entry_price: 2.5,
          exit_plan: { stop_loss_pct: 0.3 },
        },
      }),
    );
    const [p] = await t.store.listLive('legacy');
    expect(p).toMatchObject({
      quantity: 7,
      original_quantity: 7,
      peak_price: null,
      trailing_stop_price: null,
      entry_underlying_price: null,
      partial_exits_done: [],
      exit_seq: 0,
      version: 0,
    });
    expect(p.exit_plan.stop_loss_pct).toBe(0.3);
    expect(p.exit_plan.take_profit_pct).toBe(1);
  });

  it('stores the kill switch and rejections', async () => {
    expect(await t.store.getControl('main')).toBeNull();
    await t.store.putControl('main', { trading_enabled: false, flatten: false, reason: 'test' });
    expect(await t.store.getControl('main')).toMatchObject({ trading_enabled: false, flatten: false });
    await t.store.recordRejection({
      account: 'main',
      key: 'r1',
      reason: 'schema',
      detail: 'num_contracts: too small',
      message_id: 'm1',
      body_excerpt: '{}',
      receive_count: 1,
      at: '2026-11-24T15:00:00Z',
    });
    expect(await t.store.listRejections('main')).toEqual([
      expect.objectContaining({ key: 'r1', reason: 'schema' }),
    ]);
  });
});
