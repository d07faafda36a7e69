/**
 * Issue 16, part 1: the day's realized total the daily loss breaker reads. The store adds each filled
 * position to its New York day's item when a replace closes it, once; the read is one item whatever the
 * closed history (dynalite).
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { startTestTable, type TestTable } from '../helpers/dynamo';
import { makePosition } from '../helpers/factories';
import type { Position } from '../../shared/domain/position';

let t: TestTable;
beforeAll(async () => {
  t = await startTestTable();
});
afterAll(() => t.close());

let seq = 0;
/** Claims an open position of `account`, then closes it at `closedAt` having realized `pnl`. */
async function closeOne(account: string, pnl: number, closedAt: string, over: Partial<Position> = {}) {
  const id = `p-${++seq}`;
  const open = makePosition({ account, position_id: id, recommendation_id: id, version: 0, ...over });
  await t.store.claim(open);
  const closed: Position = {
    ...open,
    state: 'closed',
    quantity: 0,
    close_reason: 'stop_loss',
    realized_pnl: pnl,
    closed_at: closedAt,
    updated_at: closedAt,
  };
  return t.store.replace(open, closed);
}

it('sums the realized P&L of positions closed on each New York day, in cents', async () => {
  await closeOne('a', -50.1, '2026-06-01T15:00:00.000Z');
  await closeOne('a', 20.2, '2026-06-01T19:59:00.000Z');
  // 01:00 UTC on the 2nd is 21:00 on the 1st in New York.
  await closeOne('a', -0.1, '2026-06-02T01:00:00.000Z');
  await closeOne('a', -7, '2026-06-02T14:00:00.000Z');
  expect(await t.store.getDayRealized('a', '2026-06-01')).toBe(-30);
  expect(await t.store.getDayRealized('a', '2026-06-02')).toBe(-7);
  expect(await t.store.getDayRealized('a', '2026-06-03')).toBe(0);
  // Another account's closes are its own.
  expect(await t.store.getDayRealized('b', '2026-06-01')).toBe(0);
});

it('counts a close once: later writes of the closed record add nothing', async () => {
  const stored = await closeOne('c', -12.5, '2026-06-01T15:00:00.000Z');
  await t.store.replace(stored, { ...stored, flags: ['note'] });
  expect(await t.store.getDayRealized('c', '2026-06-01')).toBe(-12.5);
});

it('a record that never held anything (nothing realized) writes no day item', async () => {
  await closeOne('d', 0, '2026-06-01T15:00:00.000Z', { entry_price: null, quantity: 0 });
  const doc = DynamoDBDocumentClient.from(t.client);
  const key = { pk: 'ACCT#d', sk: 'DAYPNL#2026-06-01' };
  expect((await doc.send(new GetCommand({ TableName: t.tableName, Key: key }))).Item).toBeUndefined();
  // ...while a close that realized something does write it (the control of the line above).
  await closeOne('d', -1, '2026-06-01T15:00:00.000Z');
  expect((await doc.send(new GetCommand({ TableName: t.tableName, Key: key }))).Item).toMatchObject({
    realized_cents: -100,
  });
  // The day item is not a position: reports never see it.
  expect(await t.store.listPositions('d')).toHaveLength(2);
});
