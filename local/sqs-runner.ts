/**
 * What Lambda's SQS event source mapping does, for local mode: long-poll the queue, gather a batch (up to
 * `batchSize`, waiting at most the batching window), hand the handler an `SQSEvent` shaped exactly like
 * Lambda's, delete the records that succeeded, and leave those in `batchItemFailures` (or the whole batch,
 * when the handler throws) to reappear after the visibility timeout — so the queue's own redrive policy
 * moves them to the DLQ after maxReceiveCount receives.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { Log } from '../shared/observability';

export type SqsBatchHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

export interface SqsRunnerOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  /**
   * One handler per concurrent poller, each from its own factory call: like Lambda's containers, which
   * never run two invocations at once (the factory's batch processor keeps per-invocation state).
   * Their number is the event source's maxConcurrency.
   */
  readonly handlers: readonly SqsBatchHandler[];
  /** Names the poller in logs and in the Lambda context (`open-order-<account>`). */
  readonly functionName: string;
  readonly log: Log;
  /** Records per invocation (Lambda's BatchSize). @default 10 */
  readonly batchSize?: number;
  /** How long a batch may wait to fill once its first message arrived (MaximumBatchingWindowInSeconds). */
  readonly batchingWindowMs: number;
  /** Long-poll wait of each receive, seconds (0-20). @default 20 */
  readonly waitTimeSeconds?: number;
  readonly region?: string;
  /** The function timeout the Lambda context reports (getRemainingTimeInMillis). @default 30000 */
  readonly timeoutMs?: number;
  /** Called after each invocation (the live view counts them). */
  readonly onBatch?: (result: BatchResult) => void;
}

/** What one invocation did. */
export interface BatchResult {
  readonly records: number;
  readonly failed: number;
  /** The handler threw: every record of the batch returns to the queue. */
  readonly threw: boolean;
  readonly durationMs: number;
}

export interface SqsRunner {
  /** Stops receiving, waits for the invocations in progress to finish. */
  stop(): Promise<void>;
}

/** Starts one poller per handler on the queue. */
export function startSqsRunner(opts: SqsRunnerOptions): SqsRunner {
  if (opts.handlers.length === 0) throw new Error('startSqsRunner needs at least one handler');
  const abort = new AbortController();
  const loops = opts.handlers.map((handler, i) => pollLoop(opts, handler, abort.signal, i));
  return {
    async stop() {
      abort.abort();
      await Promise.all(loops);
    },
  };
}

async function pollLoop(
  opts: SqsRunnerOptions,
  handler: SqsBatchHandler,
  signal: AbortSignal,
  poller: number,
): Promise<void> {
  const batchSize = opts.batchSize ?? 10;
  let invocation = 0;
  while (!signal.aborted) {
    try {
      const batch = await receive(opts, batchSize, opts.waitTimeSeconds ?? 20, signal);
      if (batch.length === 0) continue;
      const deadline = Date.now() + opts.batchingWindowMs;
      while (batch.length < batchSize && Date.now() < deadline && !signal.aborted) {
        const more = await receive(opts, batchSize - batch.length, 0, signal);
        if (more.length > 0) batch.push(...more);
        else await sleep(Math.min(100, deadline - Date.now()), signal);
      }
      // Received but not yet handled when stopping: they reappear after the visibility timeout.
      if (signal.aborted) break;
      invocation += 1;
      await invoke(opts, handler, batch, `${opts.functionName}-${poller}-${invocation}`);
    } catch (err) {
      if (signal.aborted) break;
      opts.log.error(`${opts.functionName}: polling failed: ${(err as Error).message}`, { error: err });
      await sleep(1000, signal);
    }
  }
}

async function receive(
  opts: SqsRunnerOptions,
  max: number,
  waitTimeSeconds: number,
  signal: AbortSignal,
): Promise<Message[]> {
  const out = await opts.client.send(
    new ReceiveMessageCommand({
      QueueUrl: opts.queueUrl,
      MaxNumberOfMessages: Math.min(10, max),
      WaitTimeSeconds: waitTimeSeconds,
      // What Lambda's poller asks for: ApproximateReceiveCount and SentTimestamp reach the handler.
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
    { abortSignal: signal },
  );
  return out.Messages ?? [];
}

async function invoke(
  opts: SqsRunnerOptions,
  handler: SqsBatchHandler,
  batch: Message[],
  requestId: string,
): Promise<void> {
  const event = toSqsEvent(batch, opts.queueArn, opts.region ?? 'us-east-1');
  const started = Date.now();
  let failedIds: Set<string>;
  let threw = false;
  try {
    const response = await handler(
      event,
      lambdaContext(opts.functionName, requestId, opts.timeoutMs ?? 30_000),
    );
    failedIds = failedMessageIds(event, response);
  } catch (err) {
    threw = true;
    failedIds = new Set(event.Records.map((r) => r.messageId));
    opts.log.error(`${opts.functionName}: invocation failed; the whole batch returns to the queue`, {
      error: err,
      records: event.Records.length,
    });
  }
  const succeeded = batch.filter((m) => !failedIds.has(m.MessageId!));
  for (let i = 0; i < succeeded.length; i += 10) {
    const chunk = succeeded.slice(i, i + 10);
    const res = await opts.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: opts.queueUrl,
        Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    for (const f of res.Failed ?? []) {
      opts.log.warn(`${opts.functionName}: could not delete a handled message`, { failure: f });
    }
  }
  const result: BatchResult = {
    records: batch.length,
    failed: failedIds.size,
    threw,
    durationMs: Date.now() - started,
  };
  opts.log.info(`${opts.functionName}: batch of ${result.records}, ${result.failed} returned to the queue`, {
    ...result,
  });
  opts.onBatch?.(result);
}

/**
 * The records Lambda leaves on the queue: those named in `batchItemFailures`; all of them when a failure
 * names no record of the batch (Lambda treats an invalid response as a failure of the whole batch).
 */
export function failedMessageIds(event: SQSEvent, response: SQSBatchResponse | void | null): Set<string> {
  const ids = new Set(event.Records.map((r) => r.messageId));
  const failures = response?.batchItemFailures ?? [];
  const failed = new Set<string>();
  for (const f of failures) {
    if (!f.itemIdentifier || !ids.has(f.itemIdentifier)) return ids;
    failed.add(f.itemIdentifier);
  }
  return failed;
}

/** The event Lambda's SQS integration builds from received messages. */
export function toSqsEvent(messages: readonly Message[], queueArn: string, region: string): SQSEvent {
  return {
    Records: messages.map((m): SQSRecord => {
      const a = m.Attributes ?? {};
      return {
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body ?? '',
        attributes: {
          ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
          SentTimestamp: a.SentTimestamp ?? String(Date.now()),
          SenderId: a.SenderId ?? 'local',
          ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
          ...(a.AWSTraceHeader ? { AWSTraceHeader: a.AWSTraceHeader } : {}),
        },
        messageAttributes: toLambdaMessageAttributes(m.MessageAttributes),
        md5OfBody: m.MD5OfBody ?? '',
        ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: region,
      };
    }),
  };
}

function toLambdaMessageAttributes(attrs: Message['MessageAttributes']): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, v] of Object.entries(attrs ?? {})) {
    out[name] = {
      dataType: v.DataType ?? 'String',
      stringValue: v.StringValue,
      binaryValue: v.BinaryValue ? Buffer.from(v.BinaryValue).toString('base64') : undefined,
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  return out;
}

function lambdaContext(functionName: string, awsRequestId: string, timeoutMs: number): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
