/**
 * Transient failures come back on a schedule that fits the recommendation's age limit, through a real queue
 * (fauxqs): the open-order function shortens the failed message's visibility (SQS ChangeMessageVisibility)
 * instead of leaving it invisible for the queue's full timeout.
 */
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startLocalSqs, type AccountQueues, type LocalSqs } from '../../local/sqs-server';
import { toSqsEvent } from '../../local/sqs-runner';
import { createOpenOrderHandler } from '../../shared/handlers/open-order';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { FUTURE_SYMBOL, recommendationBody } from '../helpers/recommendations';

let p: Pipeline;
let sqs: LocalSqs;
let queues: AccountQueues;

beforeEach(async () => {
  // 12 s of useful life: 2 attempts left after the first -> back in 5 s.
  p = await startPipeline({ account: { name: 'main', limits: { max_recommendation_age_minutes: 0.2 } } });
  p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
  p.sim.setMarketOpen(false); // a transient refusal: the recommendation waits
  sqs = await startLocalSqs();
  queues = await sqs.createAccountQueues('main', { visibilityTimeoutSeconds: 185, maxReceiveCount: 3 });
  Object.assign(process.env, p.env);
});
afterEach(async () => {
  await sqs.close();
  await p.close();
});

async function receive(waitSeconds: number) {
  const out = await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: queues.queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return out.Messages ?? [];
}

async function deliverOnce(env: Record<string, string>) {
  await sqs.client.send(
    new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: recommendationBody() }),
  );
  const first = await receive(1);
  expect(first).toHaveLength(1);
  const res = await createOpenOrderHandler(env)(toSqsEvent(first, queues.queueArn, 'us-east-1'));
  expect(res.batchItemFailures).toEqual([{ itemIdentifier: first[0].MessageId }]);
}

describe('retry schedule of transiently failed recommendations', () => {
  it('comes back within the age limit when the function knows its queue', async () => {
    await deliverOnce({
      ...p.env,
      RECOMMENDATIONS_QUEUE_URL: queues.queueUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    });
    expect(await receive(2)).toEqual([]); // invisible for now
    // Back within the two receives' waits (2 s + 10 s: the 12 s age limit): 5 s scheduled, far below the
    // queue's 185 s. The bound is the queue's own long-poll wait, not the machine's speed.
    const again = await receive(10);
    expect(again).toHaveLength(1);
    expect(again[0].Attributes?.ApproximateReceiveCount).toBe('2');
  }, 30_000);

  it('without it, the message stays invisible for the queue visibility timeout (the old behaviour)', async () => {
    await deliverOnce(p.env);
    expect(await receive(8)).toEqual([]);
  }, 30_000);
});
