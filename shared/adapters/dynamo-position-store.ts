import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AccountControl, ClosedOutsideNote, PositionStore, RejectionRecord } from '../ports';
import { LIVE_STATES, normalizeStoredPosition, type Position } from '../domain/position';
import { readStoredExitPlan, type ExitPlan } from '../domain/exit-plan';
import { ConcurrentUpdateError, TransientError, UnreadableRecordsError } from '../domain/errors';
import { POSITIONS_TABLE_SCHEMA, liveIndexPk, positionPk, positionSk } from '../table-schema';

const CONTROL_SK = 'CONTROL';
/** The account's sweep lease: at most one sweep acts for an account at a time. */
const SWEEP_LEASE_SK = 'SWEEP_LEASE';
const REJECTION_PREFIX = 'REJ#';
/** The latest record closed as closed_outside_pipeline, per contract. */
const OUTSIDE_PREFIX = 'OUTSIDE#';
/** The sort key prefix of position items (`positionSk`). */
const POSITION_PREFIX = positionSk('');

/**
 * {@link PositionStore} on DynamoDB. Single-item conditional writes only (no transactions: they are
 * costlier on AWS and not available in the local stand-in).
 */
export class DynamoPositionStore implements PositionStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async claim(position: Position): Promise<{ claimed: true } | { claimed: false; existing: Position }> {
    try {
      await this.guard(
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toItem(position),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return { claimed: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const existing = await this.get(position.account, position.position_id);
      if (!existing)
        throw new ConcurrentUpdateError(`claim of ${position.position_id} failed, yet no record`);
      return { claimed: false, existing };
    }
  }

  async get(account: string, positionId: string): Promise<Position | null> {
    const out = await this.guard(
      this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: positionPk(account), sk: positionSk(positionId) },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? positionFromItem(out.Item) : null;
  }

  async replace(prev: Position, next: Position): Promise<Position> {
    const stored: Position = { ...next, version: prev.version + 1 };
    try {
      await this.guard(
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toItem(stored),
            // Records written before versioning have no `version` attribute: they read as version 0.
            ConditionExpression: prev.version === 0 ? '(attribute_not_exists(#v) OR #v = :v)' : '#v = :v',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':v': prev.version },
          }),
        ),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new ConcurrentUpdateError(
          `position ${prev.position_id} changed since version ${prev.version}; not overwritten`,
          { cause: err },
        );
      }
      throw err;
    }
    return stored;
  }

  /**
   * Every live position of the account: a query of the sparse live-positions index that asks only for the
   * record, its version and the keys (the sweep reads every live item every minute; the copies for people
   * are not decoded). Items in the older one-attribute-per-field format have no `record`: when the query
   * meets one, it is run again for whole items.
   * @throws UnreadableRecordsError when some items cannot be read, carrying those that could.
   */
  async listLive(account: string): Promise<Position[]> {
    const query: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: POSITIONS_TABLE_SCHEMA.liveIndex.indexName,
      KeyConditionExpression: 'live_account = :a',
      ExpressionAttributeValues: { ':a': liveIndexPk(account) },
    };
    let items = await this.queryAll({
      ...query,
      ProjectionExpression: 'pk, sk, #v, #r',
      ExpressionAttributeNames: { '#v': 'version', '#r': 'record' },
    });
    if (items.some((item) => typeof item.record !== 'string')) items = await this.queryAll(query);
    return readPositions(items);
  }

  /**
   * The account's position records, live and closed, for reports: one paged Query of the account's
   * partition (`pk = ACCT#<account>`, `sk` beginning `POS#`; its kill-switch, lease and rejection items
   * are not read). Never a Scan, and never another account's items.
   *
   * `closedSince` (an ISO instant) leaves out positions that closed before it, with a filter on the
   * item's `closed_at` copy (written once a position closes, {@link toItem}). DynamoDB still reads, and
   * bills, the whole partition (about one read unit per 8 KB, eventually consistent): the filter trims what
   * crosses the network and is parsed. Items written before the copy existed are returned whatever their
   * age; the caller filters by the record's own dates anyway.
   * @throws UnreadableRecordsError when some items cannot be read, carrying those that could.
   */
  async listPositions(account: string, opts: { closedSince?: string } = {}): Promise<Position[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :pos)',
      ...(opts.closedSince
        ? {
            // Items of the one-attribute-per-field format hold `closed_at: null` while open.
            FilterExpression:
              'attribute_not_exists(closed_at) OR attribute_type(closed_at, :null) OR closed_at >= :since',
            ExpressionAttributeValues: {
              ':pk': positionPk(account),
              ':pos': POSITION_PREFIX,
              ':null': 'NULL',
              ':since': opts.closedSince,
            },
          }
        : { ExpressionAttributeValues: { ':pk': positionPk(account), ':pos': POSITION_PREFIX } }),
    });
    return readPositions(items);
  }

  async countLive(account: string): Promise<number> {
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.guard(
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: POSITIONS_TABLE_SCHEMA.liveIndex.indexName,
            KeyConditionExpression: 'live_account = :a',
            ExpressionAttributeValues: { ':a': liveIndexPk(account) },
            Select: 'COUNT',
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      count += out.Count ?? 0;
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  async getControl(account: string): Promise<AccountControl | null> {
    const out = await this.guard(
      this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: positionPk(account), sk: CONTROL_SK },
          ConsistentRead: true,
        }),
      ),
    );
    if (!out.Item) return null;
    return {
      trading_enabled: out.Item.trading_enabled !== false,
      flatten: out.Item.flatten === true,
      updated_at: out.Item.updated_at as string | undefined,
      reason: out.Item.reason as string | undefined,
    };
  }

  async putControl(account: string, control: AccountControl): Promise<void> {
    await this.guard(
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: positionPk(account), sk: CONTROL_SK, ...control },
        }),
      ),
    );
  }

  async acquireSweepLease(account: string, owner: string, nowMs: number, untilMs: number): Promise<boolean> {
    try {
      await this.guard(
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              pk: positionPk(account),
              sk: SWEEP_LEASE_SK,
              owner,
              lease_until: untilMs,
              acquired_at: new Date(nowMs).toISOString(),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR lease_until < :now',
            ExpressionAttributeValues: { ':now': nowMs },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async releaseSweepLease(account: string, owner: string): Promise<void> {
    try {
      await this.guard(
        this.doc.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { pk: positionPk(account), sk: SWEEP_LEASE_SK },
            // OWNER is a DynamoDB reserved word.
            ConditionExpression: '#o = :o',
            ExpressionAttributeNames: { '#o': 'owner' },
            ExpressionAttributeValues: { ':o': owner },
          }),
        ),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async noteClosedOutside(account: string, note: ClosedOutsideNote): Promise<void> {
    await this.guard(
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: positionPk(account), sk: `${OUTSIDE_PREFIX}${note.symbol}`, ...note },
        }),
      ),
    );
  }

  async findClosedOutside(account: string, symbol: string): Promise<ClosedOutsideNote | null> {
    const out = await this.guard(
      this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: positionPk(account), sk: `${OUTSIDE_PREFIX}${symbol}` },
        }),
      ),
    );
    if (!out.Item) return null;
    const { symbol: sym, position_id, closed_at } = out.Item as Record<string, string>;
    return { symbol: sym, position_id, closed_at };
  }

  async recordRejection(rejection: RejectionRecord): Promise<void> {
    await this.guard(
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: positionPk(rejection.account),
            sk: `${REJECTION_PREFIX}${rejection.key}`,
            ...rejection,
          },
        }),
      ),
    );
  }

  async getRejection(account: string, key: string): Promise<RejectionRecord | null> {
    const out = await this.guard(
      this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: positionPk(account), sk: `${REJECTION_PREFIX}${key}` },
          ConsistentRead: true,
        }),
      ),
    );
    if (!out.Item) return null;
    const { pk: _pk, sk: _sk, ...rest } = out.Item;
    return rest as unknown as RejectionRecord;
  }

  async listRejections(account: string): Promise<RejectionRecord[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': positionPk(account), ':p': REJECTION_PREFIX },
    });
    return items.map(({ pk: _pk, sk: _sk, ...rest }) => rest as unknown as RejectionRecord);
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.guard(
        this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey })),
      );
      items.push(...((out.Items ?? []) as Record<string, unknown>[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  // Throttling and 5xx from DynamoDB are retried by the SDK; what still fails is transient for the caller.
  private async guard<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw err;
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode ?? 0;
      if (status >= 500 || /Throttl|ProvisionedThroughputExceeded|TimeoutError|ECONN/.test(String(e.name))) {
        throw new TransientError(`DynamoDB ${e.name ?? 'error'}`, {
          reason: 'dynamodb_transient',
          cause: err,
        });
      }
      throw err;
    }
  }
}

/**
 * The positions `items` hold.
 * @throws UnreadableRecordsError when some cannot be read, carrying those that could.
 */
function readPositions(items: readonly Record<string, unknown>[]): Position[] {
  const readable: Position[] = [];
  const unreadable: Array<{ key: string; reason: string }> = [];
  for (const item of items) {
    try {
      readable.push(positionFromItem(item));
    } catch (err) {
      unreadable.push({ key: `${String(item.pk)} ${String(item.sk)}`, reason: (err as Error).message });
    }
  }
  if (unreadable.length) throw new UnreadableRecordsError(readable, unreadable);
  return readable;
}

/**
 * A position item: the whole record as one JSON string in `record`, beside what DynamoDB itself reads
 * (the keys; `live_account`, the sparse live-positions index key; `version`, the conditional writes'
 * guard) and copies of a few fields for people browsing the table (state, ticker, option_symbol, side,
 * quantity, updated_at, and closed_at once closed), rewritten with every write. Only `closed_at` is ever
 * read, by the report's filter ({@link DynamoPositionStore.listPositions}); the record stays the truth.
 *
 * Why one string: a sweep reads every live item every minute, and the SDK decodes one string attribute
 * about 2.5 times faster than forty typed ones (docs/BENCHMARKS.md). Items written before this format, one
 * attribute per field, are still read ({@link positionFromItem}) and take this format when next written.
 */
function toItem(p: Position): Record<string, unknown> {
  return {
    pk: positionPk(p.account),
    sk: positionSk(p.position_id),
    // Present only while live: this is what keeps the live-positions index sparse.
    ...(LIVE_STATES.has(p.state) ? { live_account: liveIndexPk(p.account) } : {}),
    version: p.version,
    state: p.state,
    ticker: p.ticker,
    option_symbol: p.option_symbol,
    side: p.side,
    quantity: p.quantity,
    updated_at: p.updated_at,
    // Once closed: what the report's query filters on (listPositions), and a date to browse by.
    ...(p.state === 'closed' && p.closed_at ? { closed_at: p.closed_at } : {}),
    record: recordJson(p),
  };
}

/**
 * The record as JSON without its top-level nulls: a missing field reads back as null (see
 * normalizeStoredPosition), and a page of the live index then holds more positions. Nulls inside keep
 * their meaning (an exit plan's `null` turns a rule off, where a missing field takes the default).
 */
function recordJson(p: Position): string {
  return JSON.stringify(p, function (this: unknown, _key: string, value: unknown) {
    return this === p && value === null ? undefined : value;
  });
}

/**
 * The position an item holds, in either format: `record` (a JSON string, {@link toItem}) or one attribute
 * per field (items written before it). The item's `version` attribute wins: the conditional writes test it.
 * normalizeStoredPosition copies only the Position's own fields, so the key attributes are left behind.
 * @throws Error when `record` is not a JSON object (a hand edit gone wrong): never guessed around.
 */
export function positionFromItem(item: Record<string, unknown>): Position {
  if (typeof item.record !== 'string') return normalizeStoredPosition(item, readExitPlanCached);
  let record: unknown;
  try {
    record = JSON.parse(item.record);
  } catch (err) {
    throw new Error(`position item ${String(item.pk)} ${String(item.sk)}: record is not valid JSON`, {
      cause: err,
    });
  }
  if (!record || typeof record !== 'object' || Array.isArray(record)) {
    throw new Error(`position item ${String(item.pk)} ${String(item.sk)}: record is not a JSON object`);
  }
  return normalizeStoredPosition({ ...record, version: item.version }, (plan) =>
    readExitPlanCached(plan, true),
  );
}

/** Parsed exit plans by their stored JSON: a sweep reads many positions opened with the same plan. */
const planCache = new Map<string, ExitPlan>();
const PLAN_CACHE_MAX = 256;

/**
 * {@link readStoredExitPlan}, validated once per distinct stored plan. Its answer is frozen, so positions
 * opened with the same plan share one object.
 * `fromJson`: the plan was just parsed from JSON, so plain `JSON.stringify` identifies it exactly.
 */
function readExitPlanCached(stored: unknown, fromJson = false): ExitPlan {
  const key = fromJson ? (JSON.stringify(stored) ?? null) : plainJsonKey(stored);
  let plan = key === null ? undefined : planCache.get(key);
  if (!plan) {
    plan = readStoredExitPlan(stored);
    if (key === null) return plan;
    if (planCache.size >= PLAN_CACHE_MAX) planCache.clear();
    planCache.set(key, plan);
  }
  return plan;
}

/**
 * A key that identifies `value` exactly, or null when JSON would not (a Set, a non-finite number, ...):
 * such a value is parsed every time instead of risking two different values sharing a cache entry.
 */
function plainJsonKey(value: unknown): string | null {
  let plain = true;
  let key: string | undefined;
  try {
    key = JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) plain = false;
      else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) plain = false;
      } else if (typeof v === 'undefined' || typeof v === 'function' || typeof v === 'symbol') {
        plain = false;
      }
      return v;
    });
  } catch {
    return null;
  }
  return plain && key !== undefined ? key : null;
}
