import { guardDynamo, queryAllPages } from './dynamo-calls';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AccountControl, ClosedOutsideNote, PositionStore, RejectionRecord, SweepLease } from '../ports';
import type { Position } from '../domain/position';
import { storedAtVersion } from '../domain/position-lifecycle';
import { ConcurrentUpdateError } from '../domain/errors';
import { ownLivePositions, positionFromItem, readPositions, toItem } from './position-item';
import { isSpreadItem, refuseSpreadItem } from './spread-item';
import type { DayBooks, StartMark, SwitchSetBy } from '../domain/daily-loss';
import {
  dayBooksFromItem,
  dayFigureUpdate,
  dayFiguresOf,
  startMarkAttr,
  startMarkFrom,
  startMarksUpdates,
} from './day-books-item';

/** Re-exported: local mode's viewer decodes items with it. */
export { positionFromItem } from './position-item';
import { POSITIONS_TABLE_SCHEMA, liveIndexPk, positionPk, positionSk } from '../table-schema';

const CONTROL_SK = 'CONTROL';
/** The account's sweep lease: at most one sweep acts for an account at a time. */
const SWEEP_LEASE_SK = 'SWEEP_LEASE';
const REJECTION_PREFIX = 'REJ#';
/** The latest record closed as closed_outside_pipeline, per contract. */
const OUTSIDE_PREFIX = 'OUTSIDE#';
/** The books of one New York trading day (`DAYPNL#YYYY-MM-DD`, see day-books-item.ts). */
const DAY_PNL_PREFIX = 'DAYPNL#';
/** The sort key prefix of position items (`positionSk`). */
const POSITION_PREFIX = positionSk('');

/**
 * {@link PositionStore} on DynamoDB. Single-item conditional writes only (no transactions: they are
 * costlier on AWS and not available in the local stand-in).
 */
export class DynamoPositionStore implements PositionStore, SweepLease {
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
    if (out.Item) refuseSpreadItem(out.Item, positionId);
    return out.Item ? positionFromItem(out.Item) : null;
  }

  async replace(prev: Position, next: Position): Promise<Position> {
    const stored = storedAtVersion(next, prev.version + 1);
    // The day's figures first: when this write fails, the record is not written either (nothing is stored
    // half; the next sweep books the same broker reports again). When the record's write fails after it,
    // the item holds a figure of a position still live, which readers skip (a live one's is its ledger's).
    await this.writeDayFigures(prev, stored);
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
   * Sets the position's absolute figures on the day item of each trading day that `next` books something new
   * on (a Saturday-read event dated Friday updates Friday's item) and, when it closes, today's
   * ({@link dayFiguresOf}). Setting an absolute value twice is the same as once, so a repeat (the next sweep
   * booking the same reports again after a failed write) is harmless.
   */
  async writeDayFigures(prev: Position, next: Position): Promise<void> {
    const figures = await dayFiguresOf(prev, next, (day) => this.startMarkOf(next, day));
    for (const f of figures) {
      const update = dayFigureUpdate(next.position_id, f, next.updated_at);
      await this.guard(
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: positionPk(next.account), sk: `${DAY_PNL_PREFIX}${f.day}` },
            ...update,
          }),
        ),
      );
    }
  }

  /** The start mark of `p`'s contract recorded on `day`, at its executable side; null when none. */
  private async startMarkOf(p: Position, day: string): Promise<number | null> {
    const out = await this.guard(
      this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: positionPk(p.account), sk: `${DAY_PNL_PREFIX}${day}` },
          ProjectionExpression: '#m',
          ExpressionAttributeNames: { '#m': startMarkAttr(p.option_symbol) },
          ConsistentRead: true,
        }),
      ),
    );
    const mark = startMarkFrom(out.Item?.[startMarkAttr(p.option_symbol)]);
    return mark ? (p.side === 'long' ? mark.bid : mark.ask) : null;
  }

  async getDayBooks(account: string, day: string): Promise<DayBooks> {
    const out = await this.guard(
      this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: positionPk(account), sk: `${DAY_PNL_PREFIX}${day}` },
          ConsistentRead: true,
        }),
      ),
    );
    return dayBooksFromItem(day, out.Item);
  }

  async recordStartMarks(account: string, day: string, marks: ReadonlyMap<string, StartMark>): Promise<void> {
    for (const update of startMarksUpdates(marks)) {
      await this.guard(
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: positionPk(account), sk: `${DAY_PNL_PREFIX}${day}` },
            ...update,
          }),
        ),
      );
    }
  }

  /**
   * Every live position of the account: a query of the sparse live-positions index that asks only for the
   * record, its version and the keys (the sweep reads every live item every minute; the copies for people
   * are not decoded). Items in the older one-attribute-per-field format have no `record`: when the query
   * meets one, it is run again for whole items.
   *
   * Defence in depth: IAM limits each account's writes to its own partition (`ACCT#<account>`), but cannot
   * stop another account from writing `live_account: "<account>"` into an item of its own partition, which
   * this index then returns. Such an item (partition, or the record's account, not this account's) is
   * never returned as a position: it is reported like an unreadable record, so the sweep skips it and
   * alerts `unreadable_record`, naming it.
   * @throws UnreadableRecordsError when some items cannot be read or are another account's, carrying the
   *   readable positions of this account.
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
      ProjectionExpression: 'pk, sk, #v, #r, #k',
      ExpressionAttributeNames: { '#v': 'version', '#r': 'record', '#k': 'kind' },
    });
    if (items.some((item) => typeof item.record !== 'string')) items = await this.queryAll(query);
    // Spread records share the index; the spread phase reads them (listLiveSpreads).
    return ownLivePositions(
      account,
      items.filter((item) => !isSpreadItem(item)),
    );
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
    return readPositions(items.filter((item) => !isSpreadItem(item)));
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
      ...(out.Item.set_by === 'daily_loss' || out.Item.set_by === 'operator'
        ? { set_by: out.Item.set_by as SwitchSetBy }
        : {}),
      ...(typeof out.Item.daily_loss_day === 'string' ? { daily_loss_day: out.Item.daily_loss_day } : {}),
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

  async replaceControl(account: string, prev: AccountControl | null, next: AccountControl): Promise<boolean> {
    // The item as read: absent, written without a stamp (by hand), or with the stamp it had.
    const condition =
      prev === null
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : prev.updated_at === undefined
          ? { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(updated_at)' }
          : {
              ConditionExpression: 'updated_at = :u',
              ExpressionAttributeValues: { ':u': prev.updated_at },
            };
    try {
      await this.guard(
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: positionPk(account), sk: CONTROL_SK, ...next },
            ...condition,
          }),
        ),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
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

  private queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    return queryAllPages(this.doc, input);
  }

  private guard<T>(request: Promise<T>): Promise<T> {
    return guardDynamo(request);
  }
}
