/**
 * End-to-end harness: the real Lambda handler modules, configured through their public environment,
 * against dynalite and the Alpaca simulator over HTTP (through the real @alpacahq/alpaca-trade-api client).
 * Each `loadOpenOrderHandler()` call is a fresh module instance: a separate "container".
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { LOCAL_AWS_ENV } from '../../local/accounts';
import { startAlpacaSim, type AlpacaSim, type AlpacaSimOptions } from '../../local/alpaca-sim';
import { startTestTable, type TestTable } from './dynamo';
import type { SweepReport } from '../../shared/use-cases/sweep';
import type { ExitEvaluatorOverrides } from '../../shared/handlers/exit-evaluator';
import type { HandlerOverrides } from '../../shared/handlers/open-order';

import { KEY_ID, SECRET } from './alpaca-sim';

export { KEY_ID, SECRET };

export interface Pipeline {
  readonly sim: AlpacaSim;
  readonly table: TestTable;
  readonly account: string;
  /** Environment the handlers were given (for loading more "containers"). */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

export interface PipelineOptions {
  readonly account?: Record<string, unknown>;
  readonly claimLeaseSeconds?: number;
  readonly optionsBuyingPower?: number;
  /** The simulator's clock (a test on a clock of its own passes the same one to the handlers). */
  readonly now?: () => Date;
  /** More simulator options (e.g. `controlApi`). */
  readonly simOptions?: AlpacaSimOptions;
}

export async function startPipeline(opts: PipelineOptions = {}): Promise<Pipeline> {
  const sim = await startAlpacaSim({
    rateLimitPerMinute: null,
    ...opts.simOptions,
    ...(opts.now ? { now: opts.now } : {}),
  });
  sim.addAccount(KEY_ID, SECRET, { optionsBuyingPower: opts.optionsBuyingPower ?? 1_000_000 });
  const table = await startTestTable();
  const account = { name: 'main', ...(opts.account ?? {}) } as Record<string, unknown> & { name: string };
  const env: Record<string, string> = {
    ACCOUNT_NAME: account.name,
    ACCOUNT_CONFIG: JSON.stringify(account),
    POSITIONS_TABLE: table.tableName,
    APCA_API_KEY_ID: KEY_ID,
    APCA_API_SECRET_KEY: SECRET,
    APCA_API_BASE_URL: sim.url,
    APCA_API_DATA_URL: sim.url,
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
    ...LOCAL_AWS_ENV,
    POWERTOOLS_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    CLAIM_LEASE_SECONDS: String(opts.claimLeaseSeconds ?? 120),
  };
  return {
    sim,
    table,
    account: account.name,
    env,
    close: async () => {
      await sim.close();
      await table.close();
    },
  };
}

type OpenHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type SweepHandler = () => Promise<SweepReport>;
/** The exit-evaluator handler as the schedule calls it (an event, a Lambda-like context). */
export type ScheduledSweepHandler = (
  event?: unknown,
  context?: { getRemainingTimeInMillis(): number },
) => Promise<SweepReport>;

function loadModule<T>(path: string, env: Record<string, string>): T {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    let mod: T | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(path) as T;
    });
    return mod!;
  } finally {
    // Handlers read process.env lazily too (adapters are built on first invocation): keep ours in place
    // while tests run, restore the rest.
    for (const k of Object.keys(process.env)) if (!(k in saved) && !(k in env)) delete process.env[k];
  }
}

/** A fresh open-order handler module (a new container). */
export function loadOpenOrderHandler(p: Pipeline): OpenHandler {
  Object.assign(process.env, p.env);
  return loadModule<{ handler: OpenHandler }>('../../lambdas/open-order/handler', p.env).handler;
}

/** A fresh open-order container built by the handler factory with the test's seams (e.g. its clock). */
export function loadOpenOrderHandlerWith(p: Pipeline, overrides: HandlerOverrides): OpenHandler {
  Object.assign(process.env, p.env);
  const mod = loadModule<typeof import('../../shared/handlers/open-order')>(
    '../../shared/handlers/open-order',
    p.env,
  );
  const handler = mod.createOpenOrderHandler(p.env, overrides);
  return (event, context) => handler(event, context);
}

/** A fresh exit-evaluator handler module. */
export function loadSweepHandler(p: Pipeline): SweepHandler {
  Object.assign(process.env, p.env);
  return loadModule<{ handler: SweepHandler }>('../../lambdas/exit-evaluator/handler', p.env).handler;
}

/**
 * A fresh exit-evaluator container built by the handler factory with the test's seams (its clock `now`,
 * `pollSleep`, adapters `deps`): what the Lambda entry builds, on a clock the test moves.
 */
export function loadSweepHandlerWith(p: Pipeline, overrides: ExitEvaluatorOverrides): ScheduledSweepHandler {
  Object.assign(process.env, p.env);
  const mod = loadModule<typeof import('../../shared/handlers/exit-evaluator')>(
    '../../shared/handlers/exit-evaluator',
    p.env,
  );
  return mod.createExitEvaluatorHandler(p.env, overrides);
}

let msgSeq = 0;

/** An SQS record as Lambda's event source mapping delivers it. */
export function sqsRecord(
  body: string,
  o: { messageId?: string; receiveCount?: number; sentAt?: Date } = {},
): SQSRecord {
  return {
    messageId: o.messageId ?? `msg-${++msgSeq}`,
    receiptHandle: `rh-${msgSeq}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(o.receiveCount ?? 1),
      SentTimestamp: String((o.sentAt ?? new Date()).getTime()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:recommendations-main',
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

export const lambdaContext = {
  functionName: 'open-order',
  awsRequestId: 'req',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

/** Contracts of `symbol` the simulator's account holds now (0 when none). */
export function brokerQty(sim: AlpacaSim, symbol: string, keyId = KEY_ID): number {
  return Number(sim.positions(keyId).find((x) => x.symbol === symbol)?.qty ?? 0);
}

/** Orders the simulator received on POST /v2/orders, as the client SENT them (raw bodies). */
export function sentOrders(sim: AlpacaSim): Array<Record<string, unknown>> {
  return sim
    .requestsTo('POST', '/v2/orders')
    .map((r) => r.body as Record<string, unknown>)
    .filter(Boolean);
}
