/**
 * DynamoDB stand-in for local mode and tests: dynalite in-process on loopback, the positions table created
 * from the same key schema the CDK stack uses (`shared/table-schema.ts`).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import { POSITIONS_TABLE_SCHEMA as S } from '../shared/table-schema';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (opts: {
  createTableMs?: number;
  path?: string;
}) => import('node:http').Server;

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  close(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1 (ephemeral port unless given), in memory unless `path` is given. */
export async function startLocalDynamo(opts: { port?: number; path?: string } = {}): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, ...(opts.path ? { path: opts.path } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = localDynamoClient(endpoint);
  return {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client for a local endpoint (dummy credentials; nothing leaves the machine). */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Creates the positions table with its sparse live-positions index. Idempotent. */
export async function createPositionsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const attrs = new Map<string, 'S'>([
    [S.partitionKey.name, S.partitionKey.type],
    [S.sortKey.name, S.sortKey.type],
    [S.liveIndex.partitionKey.name, S.liveIndex.partitionKey.type],
    [S.liveIndex.sortKey.name, S.liveIndex.sortKey.type],
  ]);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({
          AttributeName,
          AttributeType,
        })),
        KeySchema: [
          { AttributeName: S.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: S.sortKey.name, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: S.liveIndex.indexName,
            KeySchema: [
              { AttributeName: S.liveIndex.partitionKey.name, KeyType: 'HASH' },
              { AttributeName: S.liveIndex.sortKey.name, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
  }
}
