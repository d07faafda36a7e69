/**
 * The open-order function, as a factory of the environment: Lambda calls it with `process.env` (see
 * lambdas/open-order/handler.ts); local mode calls it once per account. Same code in both.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadRuntimeConfig } from '../config';
import { createLogger, createMetrics, metricsSink } from '../powertools';
import { buildPipelineDeps, lazy, type PipelineDeps } from '../wiring';
import { BrokerSnapshot } from '../use-cases/broker-snapshot';
import { handleRecommendationRecord, symbolsOfBatch } from './recommendation-record';
import type { RetryOptions } from '../use-cases/handle-recommendation';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsRetryScheduler } from '../adapters/sqs-retry-scheduler';
import type { Log } from '../observability';
import type { Clock } from '../ports';
import { systemClock } from '../adapters/system-clock';

export type OpenOrderHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

export interface HandlerOverrides {
  /** Adapters to use instead of building them from the environment (local mode's in-process stand-ins). */
  readonly deps?: () => Promise<PipelineDeps>;
  readonly log?: Log;
  /** The time every decision of this handler reads. @default the wall clock ({@link systemClock}) */
  readonly now?: Clock;
}

/** Parses the environment now (a bad one throws here, at cold start) and returns the handler. */
export function createOpenOrderHandler(
  env: NodeJS.ProcessEnv,
  overrides: HandlerOverrides = {},
): OpenOrderHandler {
  const config = loadRuntimeConfig(env);
  const logger = overrides.log ?? createLogger('open-order', config.accountName);
  const metrics = createMetrics('open-order', config.accountName, logger);
  const sink = metricsSink(metrics);
  const deps = overrides.deps ?? lazy(() => buildPipelineDeps(env, config));
  const now = overrides.now ?? systemClock;
  const retry: RetryOptions | undefined = config.recommendationsQueueUrl
    ? {
        scheduler: new SqsRetryScheduler(
          new SQSClient(env.AWS_ENDPOINT_URL_SQS ? { endpoint: env.AWS_ENDPOINT_URL_SQS } : {}),
          config.recommendationsQueueUrl,
        ),
        maxReceiveCount: config.maxReceiveCount,
      }
    : undefined;

  return async (event, context) => {
    // A BatchProcessor holds the batch it is working on: one per invocation, so concurrent invocations of
    // one handler instance (local mode's pollers) never mix their batchItemFailures.
    const processor = new BatchProcessor(EventType.SQS);
    const { broker, marketData, store, spreads, tradeEvents } = await deps();
    const symbols = symbolsOfBatch(event.Records);
    const snapshot = new BrokerSnapshot(broker, marketData, symbols);
    // A batch naming contracts is about to open them: its shared reads start at once, together.
    if (symbols.length > 0) snapshot.prefetch();
    const recordHandler = (record: SQSRecord) =>
      handleRecommendationRecord(
        record,
        {
          account: config.account,
          broker,
          marketData,
          store,
          ...(spreads ? { spreads } : {}),
          tradeEvents,
          snapshot,
          now,
          log: logger,
          metrics: sink,
          claimLeaseMs: config.claimLeaseMs,
        },
        retry,
      );
    try {
      return await processPartialResponse(event, recordHandler, processor, {
        ...(context ? { context } : {}),
        // One at a time: the open-positions and buying-power checks then see the batch's earlier orders.
        processInParallel: false,
        // A batch of only bad messages is still a normal response listing every failure.
        throwOnFullBatchFailure: false,
      });
    } finally {
      // Only when there is something to publish: Powertools warns "No application metrics to publish"
      // on every flush of an empty store.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
