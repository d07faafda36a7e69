import { createPositionsTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { DynamoPositionStore } from '../../shared/adapters/dynamo-position-store';

export interface TestTable extends LocalDynamo {
  readonly tableName: string;
  readonly store: DynamoPositionStore;
}

let counter = 0;

/** dynalite on an ephemeral loopback port with a fresh positions table. Close it in afterAll. */
export async function startTestTable(): Promise<TestTable> {
  const dynamo = await startLocalDynamo();
  const tableName = `positions-test-${process.pid}-${++counter}`;
  await createPositionsTable(dynamo.client, tableName);
  return { ...dynamo, tableName, store: new DynamoPositionStore(dynamo.client, tableName) };
}
