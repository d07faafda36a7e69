/**
 * Every DynamoDB request the position store makes for an account names only that account's keys: the
 * table partition `ACCT#<account>` and the live-positions index partition `<account>`. These are the
 * `dynamodb:LeadingKeys` values each function's role is limited to (lib/pipeline-function.ts, proven on the
 * template in test/infra/account-pipeline.test.ts), so no request the functions make is refused by them.
 * The functions reach the table only through DynamoPositionStore.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoClient } from '../../local/dynamo';
import { DynamoPositionStore } from '../../shared/adapters/dynamo-position-store';
import { POSITIONS_TABLE_SCHEMA, liveIndexPk, positionPk } from '../../shared/table-schema';
import { makePosition } from '../helpers/factories';
import { startTestTable, type TestTable } from '../helpers/dynamo';

interface Request {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/** A string attribute in either form (document client before marshalling, or `{ S: ... }`). */
function str(value: unknown): string {
  if (typeof value === 'string') return value;
  const s = (value as { S?: unknown } | undefined)?.S;
  if (typeof s === 'string') return s;
  throw new Error(`not a string attribute: ${JSON.stringify(value)}`);
}

/**
 * What IAM evaluates as `dynamodb:LeadingKeys` for a request, and on which resource: the item's partition
 * key, or the value a Query binds to the partition key of the table or index it reads.
 */
function leadingKeys(r: Request): { resource: 'table' | 'index'; keys: string[] } {
  const { partitionKey, liveIndex } = POSITIONS_TABLE_SCHEMA;
  const input = r.input;
  switch (r.command) {
    case 'GetItemCommand':
    case 'DeleteItemCommand':
    case 'UpdateItemCommand':
      return { resource: 'table', keys: [str((input.Key as Record<string, unknown>)[partitionKey.name])] };
    case 'PutItemCommand':
      return { resource: 'table', keys: [str((input.Item as Record<string, unknown>)[partitionKey.name])] };
    case 'QueryCommand': {
      const onIndex = input.IndexName === liveIndex.indexName;
      const attr = onIndex ? liveIndex.partitionKey.name : partitionKey.name;
      const placeholder = new RegExp(`\\b${attr}\\s*=\\s*(:\\w+)`).exec(String(input.KeyConditionExpression));
      if (!placeholder)
        throw new Error(`query without an equality on ${attr}: ${String(input.KeyConditionExpression)}`);
      const values = input.ExpressionAttributeValues as Record<string, unknown>;
      return { resource: onIndex ? 'index' : 'table', keys: [str(values[placeholder[1]])] };
    }
    default:
      throw new Error(`unexpected DynamoDB command ${r.command}: the policy's actions may not cover it`);
  }
}

function recordingClient(endpoint: string, into: Request[]): DynamoDBClient {
  const client = localDynamoClient(endpoint);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      into.push({ command: String(context.commandName), input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'recordRequests' },
  );
  return client;
}

let t: TestTable;
beforeAll(async () => {
  t = await startTestTable();
});
afterAll(async () => {
  await t.close();
});

/** Runs every method of the store for `account`, as the functions do over a position's life. */
async function exerciseStore(store: DynamoPositionStore, account: string): Promise<void> {
  const p = makePosition({ account, position_id: 'k1', recommendation_id: 'k1', state: 'submitting' });
  await store.claim(p);
  await store.claim(p); // the second claim reads the existing record back
  const claimed = (await store.get(account, 'k1'))!;
  const open = await store.replace(claimed, { ...claimed, state: 'open' });
  await store.listLive(account);
  await store.countLive(account);
  // A close also sets its figures on the day's books (their own item).
  await store.replace(open, { ...open, state: 'closed', close_reason: 'take_profit', realized_pnl: 10 });
  await store.getDayBooks(account, '2026-06-01');
  await store.recordStartMarks(account, '2026-06-01', new Map([['SYM', { bid: 1, ask: 1.1 }]]));
  await store.getControl(account);
  await store.putControl(account, { trading_enabled: false, flatten: false, reason: 'test' });
  await store.replaceControl(account, null, { trading_enabled: false, flatten: false }); // refused: exists
  await store.acquireSweepLease(account, 'owner-1', 1_000, 61_000);
  await store.acquireSweepLease(account, 'owner-2', 2_000, 62_000); // refused: held
  await store.releaseSweepLease(account, 'owner-1');
  await store.recordRejection({
    account,
    key: 'r1',
    reason: 'schema',
    detail: 'bad',
    message_id: 'm1',
    body_excerpt: '{}',
    receive_count: 1,
    at: '2026-06-01T15:00:00.000Z',
  });
  await store.listRejections(account);
}

/** The requests whose leading key is not `account`'s for the resource they reach. */
function violations(requests: readonly Request[], account: string): string[] {
  const allowed = { table: positionPk(account), index: liveIndexPk(account) };
  return requests.flatMap((r) => {
    const { resource, keys } = leadingKeys(r);
    return keys.filter((k) => k !== allowed[resource]).map((k) => `${r.command} ${resource} ${k}`);
  });
}

async function requestsOf(account: string): Promise<Request[]> {
  const requests: Request[] = [];
  const client = recordingClient(t.endpoint, requests);
  try {
    await exerciseStore(new DynamoPositionStore(client, t.tableName), account);
  } finally {
    client.destroy();
  }
  return requests;
}

describe('position store requests stay inside the account’s leading keys', () => {
  it.each(['main', 'tiny'])('names only %s’s keys, on the table and on the live index', async (account) => {
    const requests = await requestsOf(account);

    // Every kind of request the store makes was seen, so a new one cannot slip past this test.
    expect(new Set(requests.map((r) => r.command))).toEqual(
      new Set(['PutItemCommand', 'GetItemCommand', 'QueryCommand', 'DeleteItemCommand', 'UpdateItemCommand']),
    );
    expect(requests.some((r) => leadingKeys(r).resource === 'index')).toBe(true);
    expect(violations(requests, account)).toEqual([]);
  });

  it('would catch requests for another account (control: tiny’s requests under main’s policy)', async () => {
    const requests = await requestsOf('tiny');

    const found = violations(requests, 'main');
    expect(found).toHaveLength(requests.length);
    expect(found).toEqual(
      expect.arrayContaining(['QueryCommand index tiny', 'GetItemCommand table ACCT#tiny']),
    );
  });
});
