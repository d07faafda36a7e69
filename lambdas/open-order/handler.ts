/**
 * Open-order function: SQS recommendations → at most one opening order each → a position record.
 * Thin: parse the environment once, build adapters once per container, hand each record to the use case.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadRuntimeConfig } from '../../shared/config';
import { createLogger, createMetrics, metricsSink } from '../../shared/powertools';
import { buildPipelineDeps, lazy } from '../../shared/wiring';
import { BrokerSnapshot } from '../../shared/use-cases/broker-snapshot';
import {
  handleRecommendationRecord,
  symbolsOfBatch,
} from '../../shared/use-cases/handle-recommendation-record';

// Cold start: a bad environment or ACCOUNT_CONFIG fails here, loudly, naming the field.
const config = loadRuntimeConfig(process.env);
const logger = createLogger('open-order', config.accountName);
const metrics = createMetrics('open-order', config.accountName);
const sink = metricsSink(metrics);
const processor = new BatchProcessor(EventType.SQS);
const deps = lazy(() => buildPipelineDeps(process.env, config));

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const { broker, marketData, store } = await deps();
  const snapshot = new BrokerSnapshot(broker, marketData, symbolsOfBatch(event.Records));
  const recordHandler = (record: SQSRecord) =>
    handleRecommendationRecord(record, {
      account: config.account,
      broker,
      store,
      snapshot,
      now: () => new Date(),
      log: logger,
      metrics: sink,
      claimLeaseMs: config.claimLeaseMs,
    });
  try {
    return await processPartialResponse(event, recordHandler, processor, {
      context,
      // One at a time: the open-positions and buying-power checks then see the batch's earlier orders.
      processInParallel: false,
      // A batch of only bad messages is still a normal response listing every failure.
      throwOnFullBatchFailure: false,
    });
  } finally {
    metrics.publishStoredMetrics();
  }
};
