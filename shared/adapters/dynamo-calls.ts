/**
 * What every DynamoDB store of the positions table does around its calls: the errors that are transient for
 * the caller, and a query read across all its pages.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../domain/errors';

/**
 * Throttling and 5xx from DynamoDB are retried by the SDK; what still fails is transient for the caller
 * (TransientError). A failed condition is rethrown as it is, for the store to name.
 */
export async function guardDynamo<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw err;
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode ?? 0;
    if (status >= 500 || /Throttl|ProvisionedThroughputExceeded|TimeoutError|ECONN/.test(String(e.name))) {
      throw new TransientError(`DynamoDB ${e.name ?? 'error'}`, { reason: 'dynamodb_transient', cause: err });
    }
    throw err;
  }
}

/** Every item a query returns, page after page. */
export async function queryAllPages(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await guardDynamo(doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey })));
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}
