/**
 * Builds the real adapters from the environment: Alpaca (credentials from the environment or Secrets
 * Manager, base URLs from APCA_API_BASE_URL / APCA_API_DATA_URL with the paper/live guard) and DynamoDB
 * (endpoint from the SDK's own AWS_ENDPOINT_URL_DYNAMODB when set). Called once per container.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { AlpacaAdapter } from './adapters/alpaca';
import { resolveAlpacaEndpoints } from './adapters/alpaca-endpoints';
import { loadAlpacaCredentials } from './adapters/credentials';
import { DynamoPositionStore } from './adapters/dynamo-position-store';
import { rateLimiterFromEnv } from './adapters/rate-limiter';
import type { RuntimeConfig } from './config';
import { SnsTradeEvents } from './adapters/sns-trade-events';
import { DynamoSpreadStore } from './adapters/dynamo-spread-store';
import type {
  Broker,
  MarketData,
  PositionStore,
  RequestBudget,
  SpreadStore,
  SweepLease,
  TradeEvents,
} from './ports';

export interface PipelineDeps {
  readonly broker: Broker;
  readonly marketData: MarketData;
  readonly store: PositionStore;
  /** The sweep lease (the DynamoDB store keeps it in the positions table). */
  readonly lease: SweepLease;
  /** Spread records (the DynamoDB store keeps them in the positions table); absent: spreads are refused. */
  readonly spreads?: SpreadStore;
  /** Where trade events go; absent: nowhere (no TRADE_EVENTS_TOPIC_ARN). */
  readonly tradeEvents?: TradeEvents;
  /** This container's broker request budget (the sweep never waits on it past its deadline). */
  readonly requestBudget?: RequestBudget;
}

/** The trade events topic named by TRADE_EVENTS_TOPIC_ARN, or undefined when there is none. */
export function tradeEventsFromEnv(env: NodeJS.ProcessEnv): TradeEvents | undefined {
  const arn = env.TRADE_EVENTS_TOPIC_ARN;
  if (!arn) return undefined;
  // One attempt: a notification that fails is counted and dropped, never retried at a trade's expense.
  return new SnsTradeEvents(new SNSClient({ maxAttempts: 1 }), arn);
}

export async function buildPipelineDeps(
  env: NodeJS.ProcessEnv,
  config: RuntimeConfig,
): Promise<PipelineDeps> {
  const endpoints = resolveAlpacaEndpoints(env, config.account);
  const credentials = await loadAlpacaCredentials(env);
  const rateLimiter = rateLimiterFromEnv(env);
  const alpaca = new AlpacaAdapter({
    keyId: credentials.keyId,
    secretKey: credentials.secretKey,
    tradingBaseUrl: endpoints.tradingBaseUrl,
    dataBaseUrl: endpoints.dataBaseUrl,
    // One limiter per container (this runs once per container): BROKER_REQUESTS_PER_MINUTE is this
    // function's share of the account's 200/min (lib/broker-rate-budget.ts).
    rateLimiter,
    optionFeed: config.account.market_data.feed,
  });
  // The SDK reads AWS_ENDPOINT_URL_DYNAMODB from process.env itself; reading it from `env` too lets local
  // mode build one set of adapters per account from per-account environments in one process.
  const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  const dynamo = new DynamoDBClient(endpoint ? { endpoint } : {});
  const store = new DynamoPositionStore(dynamo, config.positionsTable);
  return {
    broker: alpaca,
    marketData: alpaca,
    store,
    lease: store,
    spreads: new DynamoSpreadStore(dynamo, config.positionsTable, store),
    tradeEvents: tradeEventsFromEnv(env),
    requestBudget: rateLimiter,
  };
}

/** Memoises an async factory; a failure is not cached (the next invocation tries again). */
export function lazy<T>(factory: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= factory().catch((err) => {
      p = undefined;
      throw err;
    });
    return p;
  };
}
