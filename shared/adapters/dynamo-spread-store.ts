/**
 * {@link SpreadStore} on DynamoDB: spread records in the positions table, under the single-leg keys
 * (spread-item.ts). A replace writes each leg's day figures first (through the position store, each leg
 * seen as the position its ledger is), then the record, conditional on its version.
 */
import { guardDynamo, queryAllPages } from './dynamo-calls';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConcurrentUpdateError } from '../domain/errors';
import type { Position } from '../domain/position';
import { legAsPosition, type SpreadPosition } from '../domain/spread-position';
import type { SpreadStore } from '../ports';
import { POSITIONS_TABLE_SCHEMA, liveIndexPk, positionPk, positionSk } from '../table-schema';
import { isSpreadItem, spreadFromItem, toSpreadItem } from './spread-item';

/** What the spread store needs of the position store: the day figures of a position's change. */
export interface DayFigureWriter {
  writeDayFigures(prev: Position, next: Position): Promise<void>;
}

export class DynamoSpreadStore implements SpreadStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly days: DayFigureWriter,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async claimSpread(
    sp: SpreadPosition,
  ): Promise<{ claimed: true } | { claimed: false; existing: SpreadPosition | null }> {
    try {
      await this.guard(
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toSpreadItem(sp),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return { claimed: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      return { claimed: false, existing: await this.getSpread(sp.account, sp.position_id) };
    }
  }

  async getSpread(account: string, id: string): Promise<SpreadPosition | null> {
    const out = await this.guard(
      this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: positionPk(account), sk: positionSk(id) },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item && isSpreadItem(out.Item) ? spreadFromItem(out.Item) : null;
  }

  async replaceSpread(prev: SpreadPosition, next: SpreadPosition): Promise<SpreadPosition> {
    const stored: SpreadPosition = { ...next, version: prev.version + 1 };
    // Each leg's day figures first: when one fails, the record is not written (the next sweep books again).
    for (const [i, leg] of stored.legs.entries()) {
      const before = prev.legs[i] ?? leg;
      await this.days.writeDayFigures(legAsPosition(prev, before), legAsPosition(stored, leg));
    }
    try {
      await this.guard(
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toSpreadItem(stored),
            ConditionExpression: '#v = :v',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':v': prev.version },
          }),
        ),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new ConcurrentUpdateError(
          `spread ${prev.position_id} changed since version ${prev.version}; not overwritten`,
          { cause: err },
        );
      }
      throw err;
    }
    return stored;
  }

  async listLiveSpreads(account: string): Promise<SpreadPosition[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: POSITIONS_TABLE_SCHEMA.liveIndex.indexName,
      KeyConditionExpression: 'live_account = :a',
      FilterExpression: '#k = :k',
      ExpressionAttributeNames: { '#k': 'kind' },
      ExpressionAttributeValues: { ':a': liveIndexPk(account), ':k': 'spread' },
    });
    return items
      .filter((item) => item.pk === positionPk(account))
      .map(spreadFromItem)
      .filter((sp) => sp.account === account);
  }

  async listSpreads(account: string): Promise<SpreadPosition[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :pos)',
      FilterExpression: '#k = :k',
      ExpressionAttributeNames: { '#k': 'kind' },
      ExpressionAttributeValues: { ':pk': positionPk(account), ':pos': positionSk(''), ':k': 'spread' },
    });
    return items.map(spreadFromItem);
  }

  private queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    return queryAllPages(this.doc, input);
  }

  private guard<T>(request: Promise<T>): Promise<T> {
    return guardDynamo(request);
  }
}
