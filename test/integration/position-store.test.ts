import { startTestTable, type TestTable } from '../helpers/dynamo';
import { ConcurrentUpdateError, UnreadableRecordsError } from '../../shared/domain/errors';
import { resolveExitPlan } from '../../shared/domain/exit-plan';
import type { Position } from '../../shared/domain/position';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { FUTURE_SYMBOL } from '../helpers/recommendations';

let t: TestTable;
beforeAll(async () => {
  t = await startTestTable();
});
afterAll(async () => {
  await t.close();
});

/** Writes a record the way the first release did: one attribute per field, no version, no newer fields. */
async function putLegacyItem(account: string, positionId: string, quantity: number): Promise<void> {
  await DynamoDBDocumentClient.from(t.client).send(
    new PutCommand({
      TableName: t.tableName,
      Item: {
        pk: `ACCT#${account}`,
        sk: `POS#${positionId}`,
        live_account: account,
        account,
        position_id: positionId,
        ticker: 'GOOGL',
        option_symbol: FUTURE_SYMBOL,
        side: 'long',
        state: 'open',
        quantity,
        entry_price: 2.5,
        exit_plan: { stop_loss_pct: 0.3 },
      },
    }),
  );
}

function position(id: string, o: Partial<Position> = {}): Position {
  const now = '2026-11-24T15:00:00.000Z';
  return {
    account: 'main',
    position_id: id,
    recommendation_id: id,
    ticker: 'GOOGL',
    option_symbol: FUTURE_SYMBOL,
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

  it('a warm read returns the unchanged positions it decoded before, frozen, and decodes a written one again', async () => {
    await t.store.claim(position('w1', { account: 'warm' }));
    await t.store.claim(position('w2', { account: 'warm' }));
    const byId = (ps: Position[]) => new Map(ps.map((p) => [p.position_id, p]));
    const first = byId(await t.store.listLive('warm'));
    const second = byId(await t.store.listLive('warm'));
    expect(second.get('w1')).toBe(first.get('w1'));
    expect(second.get('w2')).toBe(first.get('w2'));
    expect(Object.isFrozen(first.get('w1')) && Object.isFrozen(first.get('w1')!.flags)).toBe(true);
    const w2 = await t.store.replace(first.get('w2')!, { ...first.get('w2')!, peak_price: 2.75 });
    const third = byId(await t.store.listLive('warm'));
    expect(third.get('w1')).toBe(first.get('w1'));
    expect(third.get('w2')).not.toBe(first.get('w2'));
    expect(third.get('w2')).toEqual(w2);
    expect(third.get('w2')).toMatchObject({ peak_price: 2.75, version: first.get('w2')!.version + 1 });
  });

  it('reads a legacy record lacking newer fields with derived values', async () => {
    await putLegacyItem('legacy', 'old-1', 7);
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

  it('writes a position as one JSON record beside the keys, the version and a few copies for people', async () => {
    const p = position('f1', {
      state: 'open',
      // A rule turned off (null) must stay off: only top-level nulls are left out of the record.
      exit_plan: resolveExitPlan({ stop_loss_pct: null, partial_exits: [{ gain_pct: 0.5, fraction: 0.5 }] }),
      partial_exits_done: [0],
      peak_price: 2.4,
      open_limit_price: null,
      close_reason: null,
    });
    await t.store.claim(p);
    const doc = DynamoDBDocumentClient.from(t.client);
    const { Item } = await doc.send(
      new GetCommand({ TableName: t.tableName, Key: { pk: 'ACCT#main', sk: 'POS#f1' } }),
    );
    expect(Object.keys(Item!).sort()).toEqual(
      [
        'live_account',
        'option_symbol',
        'pk',
        'quantity',
        'record',
        'side',
        'sk',
        'state',
        'ticker',
        'updated_at',
        'version',
      ].sort(),
    );
    expect(Item).toMatchObject({ live_account: 'main', version: 0, state: 'open', quantity: 5 });
    const record = JSON.parse(Item!.record as string) as Record<string, unknown>;
    expect(record).not.toHaveProperty('open_limit_price');
    expect(record).not.toHaveProperty('close_reason');
    expect(record.exit_plan).toEqual(p.exit_plan);
    expect((record.exit_plan as Record<string, unknown>).stop_loss_pct).toBeNull();
    expect({ ...record, open_limit_price: null, close_reason: null }).toEqual(p);
    // Read back, every field round-trips (numbers exactly, nested plan and bookkeeping included).
    expect(await t.store.get('main', 'f1')).toMatchObject(p);
  });

  it('rewrites a legacy item (one attribute per field, no version) in the record format, conditionally', async () => {
    await putLegacyItem('legacy2', 'old-2', 3);
    const [legacy] = await t.store.listLive('legacy2');
    expect(legacy.version).toBe(0);
    const next = await t.store.replace(legacy, { ...legacy, peak_price: 2.7 });
    expect(next.version).toBe(1);
    const { Item } = await DynamoDBDocumentClient.from(t.client).send(
      new GetCommand({ TableName: t.tableName, Key: { pk: 'ACCT#legacy2', sk: 'POS#old-2' } }),
    );
    expect(typeof Item!.record).toBe('string');
    expect(Item!.exit_plan).toBeUndefined();
    const [reread] = await t.store.listLive('legacy2');
    expect(reread).toEqual(next);
    expect(reread.exit_plan.stop_loss_pct).toBe(0.3);
    // A stale writer still holding version 0 loses, in the new format as in the old.
    await expect(t.store.replace(legacy, { ...legacy, quantity: 1 })).rejects.toBeInstanceOf(
      ConcurrentUpdateError,
    );
  });

  it('refuses to guess at a record that is not JSON (a hand edit gone wrong), naming the item', async () => {
    const doc = DynamoDBDocumentClient.from(t.client);
    await doc.send(
      new PutCommand({
        TableName: t.tableName,
        Item: { pk: 'ACCT#broken', sk: 'POS#b1', live_account: 'broken', version: 3, record: '{"account":' },
      }),
    );
    await t.store.claim(position('fine', { account: 'broken' }));
    const err = await t.store.listLive('broken').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnreadableRecordsError);
    expect((err as UnreadableRecordsError<Position>).message).toContain(
      'position item ACCT#broken POS#b1: record is not valid JSON',
    );
    // The readable positions come with it, so a sweep can still manage them.
    expect((err as UnreadableRecordsError<Position>).readable.map((x) => x.position_id)).toEqual(['fine']);
  });

  it("listLive never returns another account's item that carries this account's live_account: it reports it", async () => {
    const doc = DynamoDBDocumentClient.from(t.client);
    await t.store.claim(position('mine', { account: 'victim' }));
    // Another account (IAM lets it write its own partition only) writes an item that the victim's index
    // partition returns: in its own partition, and one in the victim's naming another account's record.
    const intruder = position('planted', { account: 'intruder' });
    await doc.send(
      new PutCommand({
        TableName: t.tableName,
        Item: {
          pk: 'ACCT#intruder',
          sk: 'POS#planted',
          live_account: 'victim',
          version: 0,
          record: JSON.stringify(intruder),
        },
      }),
    );
    await doc.send(
      new PutCommand({
        TableName: t.tableName,
        Item: {
          pk: 'ACCT#victim',
          sk: 'POS#misfiled',
          live_account: 'victim',
          version: 0,
          record: JSON.stringify(position('misfiled', { account: 'intruder' })),
        },
      }),
    );
    const err = await t.store.listLive('victim').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnreadableRecordsError);
    const e = err as UnreadableRecordsError<Position>;
    expect(e.readable.map((x) => x.position_id)).toEqual(['mine']);
    expect(e.unreadable).toEqual([
      {
        key: 'ACCT#intruder POS#planted',
        reason: expect.stringContaining('foreign item: it is in partition ACCT#intruder, not ACCT#victim'),
      },
      {
        key: 'ACCT#victim POS#misfiled',
        reason: expect.stringContaining('its record belongs to account "intruder", not "victim"'),
      },
    ]);
    // The intruder's own read is unaffected.
    expect((await t.store.listLive('intruder')).map((x) => x.position_id)).toEqual([]);
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
    // One rejection by key (a redelivery's check), without the table's own keys; none for another key.
    expect(await t.store.getRejection('main', 'r1')).toEqual({
      account: 'main',
      key: 'r1',
      reason: 'schema',
      detail: 'num_contracts: too small',
      message_id: 'm1',
      body_excerpt: '{}',
      receive_count: 1,
      at: '2026-11-24T15:00:00Z',
    });
    expect(await t.store.getRejection('main', 'r2')).toBeNull();
    expect(await t.store.getRejection('tiny', 'r1')).toBeNull();
  });
});
