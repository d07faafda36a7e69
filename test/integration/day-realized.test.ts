/**
 * Issue 23, the day item (docs/BOOKS.md "Wiring plan" section 4) on dynalite: a replace that books something
 * new on a record's ledger sets the position's ABSOLUTE figures of each trading day it touched, before the
 * record's own write; the read is one item whatever the closed history; start marks are kept once a day;
 * items of the older format (a sum and the ids it counted) still read.
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startTestTable, type TestTable } from '../helpers/dynamo';
import { makePosition } from '../helpers/factories';
import { makeOrderReport } from '../helpers/ledger-factories';
import { DynamoPositionStore } from '../../shared/adapters/dynamo-position-store';
import { bookOrder, booksOf } from '../../shared/domain/position-books';
import type { Position } from '../../shared/domain/position';

let t: TestTable;
beforeAll(async () => {
  t = await startTestTable();
});
afterAll(() => t.close());

let seq = 0;

/** A record of `account` opened (2 at 2.10) at `openedAt` through its ledger, claimed in the table. */
async function openOne(account: string, openedAt: string): Promise<Position> {
  const id = `p-${++seq}`;
  const base = makePosition({
    account,
    position_id: id,
    recommendation_id: id,
    open_client_order_id: `ops-${account}-o-${id}`,
    quantity: 2,
    entry_price: 2.1,
    entry_time: openedAt,
    created_at: openedAt,
    updated_at: openedAt,
    version: 0,
  });
  const open = makeOrderReport({
    id: `o-${id}`,
    client_order_id: `ops-${account}-o-${id}`,
    qty: 2,
    filled_qty: 2,
    filled_avg_price: 2.1,
    created_at: openedAt,
    filled_at: openedAt,
  });
  const p: Position = { ...base, ...booksOf(base, bookOrder(base, 'open', open, openedAt).ledger) };
  await t.store.claim(p);
  return p;
}

/** `p` closed by an exit that sold `qty` at `price` at `at` (the record's write at `writtenAt`). */
function closedBy(p: Position, price: number, at: string, writtenAt = at, qty = 2): Position {
  const exit = makeOrderReport({
    id: `x-${p.position_id}`,
    client_order_id: `ops-${p.account}-x1-${p.position_id}`,
    side: 'sell',
    position_intent: null,
    qty,
    filled_qty: qty,
    filled_avg_price: price,
    created_at: at,
    filled_at: at,
  });
  const books = booksOf(p, bookOrder(p, 'exit', exit, at).ledger);
  return {
    ...p,
    ...books,
    state: books.quantity === 0 ? 'closed' : p.state,
    close_reason: 'stop_loss',
    closed_at: writtenAt,
    updated_at: writtenAt,
  };
}

const doc = () => DynamoDBDocumentClient.from(t.client);
const dayItem = async (account: string, day: string) =>
  (
    await doc().send(
      new GetCommand({ TableName: t.tableName, Key: { pk: `ACCT#${account}`, sk: `DAYPNL#${day}` } }),
    )
  ).Item;

it('a close sets the position’s absolute figures on its New York trading day, in cents', async () => {
  // 01:00 UTC on the 2nd is 21:00 on the 1st in New York.
  const a = await openOne('a', '2026-06-01T15:00:00.000Z');
  await t.store.replace(a, closedBy(a, 1.6, '2026-06-02T01:00:00.000Z'));
  const b = await openOne('a', '2026-06-01T16:00:00.000Z');
  await t.store.replace(b, closedBy(b, 2.2, '2026-06-01T19:00:00.000Z'));
  const day = await t.store.getDayBooks('a', '2026-06-01');
  expect(Object.fromEntries(day.realized)).toEqual({ [a.position_id]: -10000, [b.position_id]: 2000 });
  expect(Object.fromEntries(day.day_pnl)).toEqual({ [a.position_id]: -10000, [b.position_id]: 2000 });
  expect(day.legacy_cents).toBe(0);
  expect((await t.store.getDayBooks('a', '2026-06-02')).day_pnl.size).toBe(0);
  // Another account's closes are its own.
  expect((await t.store.getDayBooks('b', '2026-06-01')).day_pnl.size).toBe(0);
});

it('sets a figure, never adds one: writing the same books again leaves the day as it was', async () => {
  const p = await openOne('c', '2026-06-01T15:00:00.000Z');
  const stored = await t.store.replace(p, closedBy(p, 1.85, '2026-06-01T16:00:00.000Z'));
  // A later write of the closed record (a note) books nothing new: the figure stays.
  await t.store.replace(stored, { ...stored, flags: ['note'] });
  expect((await t.store.getDayBooks('c', '2026-06-01')).day_pnl.get(p.position_id)).toBe(-5000);
});

it('a close read on a Saturday lands on Friday, the trading day it belongs to (case 7)', async () => {
  // 2026-06-05 is a Friday; the record's write happens on Saturday the 6th.
  const p = await openOne('w', '2026-06-05T15:00:00.000Z');
  await t.store.replace(p, closedBy(p, 1.6, '2026-06-05T19:30:00.000Z', '2026-06-06T15:00:00.000Z'));
  expect((await t.store.getDayBooks('w', '2026-06-05')).realized.get(p.position_id)).toBe(-10000);
  expect(await dayItem('w', '2026-06-06')).toBeUndefined();
});

it('when the day write fails the record is not written: nothing is stored half (case 5)', async () => {
  const p = await openOne('f', '2026-06-01T15:00:00.000Z');
  const failing = new DynamoPositionStore(t.client, t.tableName);
  const client = (failing as unknown as { doc: DynamoDBDocumentClient }).doc;
  const send = client.send.bind(client);
  client.send = ((cmd: { input: { Key?: { sk?: string } } }) => {
    if (String(cmd.input.Key?.sk).startsWith('DAYPNL#')) return Promise.reject(new Error('throttled'));
    return send(cmd as never);
  }) as typeof client.send;
  await expect(failing.replace(p, closedBy(p, 1.6, '2026-06-01T16:00:00.000Z'))).rejects.toThrow('throttled');
  expect(await t.store.get('f', p.position_id)).toMatchObject({ state: 'open', version: 0 });
  // The next attempt (the next sweep books the same reports) writes both.
  await t.store.replace(
    (await t.store.get('f', p.position_id))!,
    closedBy(p, 1.6, '2026-06-01T16:00:00.000Z'),
  );
  expect((await t.store.getDayBooks('f', '2026-06-01')).day_pnl.get(p.position_id)).toBe(-10000);
  expect(await t.store.get('f', p.position_id)).toMatchObject({ state: 'closed' });
});

it('a partial fill of a live position books its day too; a record that never filled writes no day item', async () => {
  const p = await openOne('g', '2026-06-01T15:00:00.000Z');
  await t.store.replace(p, closedBy(p, 1.6, '2026-06-01T16:00:00.000Z', '2026-06-01T16:00:00.000Z', 1));
  expect((await t.store.getDayBooks('g', '2026-06-01')).realized.get(p.position_id)).toBe(-5000);

  const never = makePosition({ account: 'h', position_id: 'n', recommendation_id: 'n', version: 0 });
  const unfilled: Position = { ...never, quantity: 0, entry_price: null, state: 'submitting' };
  await t.store.claim(unfilled);
  await t.store.replace(unfilled, {
    ...unfilled,
    state: 'closed',
    close_reason: 'open_rejected',
    closed_at: '2026-06-01T15:00:00.000Z',
    updated_at: '2026-06-01T15:00:00.000Z',
  });
  expect(await dayItem('h', '2026-06-01')).toBeUndefined();
  // The day item is not a position: reports never see it.
  expect(await t.store.listPositions('g')).toHaveLength(1);
});

it('records a start mark once a day: the first stands', async () => {
  await t.store.recordStartMarks('m', '2026-06-01', new Map([['SYM', { bid: 1, ask: 1.1 }]]));
  await t.store.recordStartMarks(
    'm',
    '2026-06-01',
    new Map([
      ['SYM', { bid: 2, ask: 2.1 }],
      ['OTHER', { bid: 3, ask: 3.1 }],
    ]),
  );
  const day = await t.store.getDayBooks('m', '2026-06-01');
  expect(Object.fromEntries(day.start_marks)).toEqual({
    SYM: { bid: 1, ask: 1.1 },
    OTHER: { bid: 3, ask: 3.1 },
  });
});

it('records the start marks of many contracts, in writes DynamoDB accepts (4 KB an update expression)', async () => {
  const marks = new Map(
    Array.from({ length: 95 }, (_, i) => [
      `GOOGL261218C00${String(300 + i).padStart(3, '0')}000`,
      { bid: i, ask: i + 0.1 },
    ]),
  );
  await t.store.recordStartMarks('many', '2026-06-01', marks);
  expect((await t.store.getDayBooks('many', '2026-06-01')).start_marks).toEqual(marks);
});

it('reads an item of the older format as its sum and the ids it counted; a new close beside it adds its own', async () => {
  await doc().send(
    new PutCommand({
      TableName: t.tableName,
      Item: {
        pk: 'ACCT#l',
        sk: 'DAYPNL#2026-06-01',
        realized_cents: -3000,
        position_ids: new Set(['old-1', 'old-2']),
      },
    }),
  );
  const p = await openOne('l', '2026-06-01T15:00:00.000Z');
  await t.store.replace(p, closedBy(p, 2.2, '2026-06-01T16:00:00.000Z'));
  const day = await t.store.getDayBooks('l', '2026-06-01');
  expect(day.legacy_cents).toBe(-3000);
  expect([...day.legacy_ids].sort()).toEqual(['old-1', 'old-2']);
  expect(day.day_pnl.get(p.position_id)).toBe(2000);
});
