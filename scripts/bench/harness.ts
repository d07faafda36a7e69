/**
 * One benchmark environment: the Alpaca simulator (with injected latency), dynalite with the positions
 * table, and the real handler factories wired through `overrides.deps` to the real adapters — the store on
 * a DynamoDB client whose calls are counted, the Alpaca adapter over HTTP to the simulator.
 */
import { DynamoSpreadStore } from '../../shared/adapters/dynamo-spread-store';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { LOCAL_AWS_ENV } from '../../local/accounts';
import { startAlpacaSim, type AlpacaSim } from '../../local/alpaca-sim';
import {
  createPositionsTable,
  localDynamoClient,
  startLocalDynamo,
  type LocalDynamo,
} from '../../local/dynamo';
import { AlpacaAdapter } from '../../shared/adapters/alpaca';
import { DynamoPositionStore } from '../../shared/adapters/dynamo-position-store';
import { createExitEvaluatorHandler } from '../../shared/handlers/exit-evaluator';
import { createOpenOrderHandler } from '../../shared/handlers/open-order';
import { SILENT_LOG } from '../../shared/observability';
import type { SweepReport } from '../../shared/use-cases/sweep';
import {
  brokerCallCursor,
  countTableCalls,
  type BrokerCalls,
  type TableCallCounter,
  type TableCalls,
} from './counters';

/** Drops every log line (the benchmark measures the work, not the logging). */

export const BENCH_KEY_ID = 'PKBENCH';
export const BENCH_SECRET = 'bench-secret';

export interface BenchEnvOptions {
  /** Simulator latency per request, ms. @default 0 */
  readonly latencyMs?: number;
  /** Simulator rate limit per key and minute (Alpaca's is 200); null disables it. @default 200 */
  readonly rateLimitPerMinute?: number | null;
  /** Account configuration (merged over the benchmark's defaults). */
  readonly account?: Record<string, unknown>;
  /**
   * Run dynalite in its own process (as DynamoDB is another machine on AWS), so that its CPU time does not
   * land on the event loop being measured. @default false (in-process, like the tests)
   */
  readonly dynamoInChildProcess?: boolean;
  /** The simulator's clock (a bench on a scaled clock passes its own). @default the wall clock */
  readonly now?: () => Date;
}

/** What one sweep did and cost. */
export interface MeasuredSweep {
  readonly report: SweepReport;
  readonly wallMs: number;
  readonly broker: BrokerCalls;
  readonly table: TableCalls;
}

/** What one open-order invocation did and cost. */
export interface MeasuredOpen {
  readonly response: SQSBatchResponse;
  readonly wallMs: number;
  readonly broker: BrokerCalls;
  readonly table: TableCalls;
}

export interface BenchEnv {
  readonly sim: AlpacaSim;
  readonly dynamo: LocalDynamo;
  readonly tableName: string;
  readonly account: string;
  readonly keyId: string;
  /** The store on the counted client (seeding through it is counted too: reset before measuring). */
  readonly store: DynamoPositionStore;
  /** The Alpaca adapter on the simulator (for a bench that builds its own handler). */
  readonly alpaca: AlpacaAdapter;
  readonly tableCalls: TableCallCounter;
  /** The Lambda environment of this account (for running a built bundle in a child process). */
  readonly lambdaEnv: Readonly<Record<string, string>>;
  /** One sweep through the exit-evaluator handler, measured. */
  sweep(): Promise<MeasuredSweep>;
  /** One SQS batch through the open-order handler, measured. */
  open(event: SQSEvent): Promise<MeasuredOpen>;
  close(): Promise<void>;
}

const ROOT = resolve(__dirname, '../..');
let tableSeq = 0;

/** Starts the simulator and dynalite on loopback and builds both handlers for one account. */
export async function startBenchEnv(opts: BenchEnvOptions = {}): Promise<BenchEnv> {
  // Powertools reads these when the handlers build their Logger/Metrics; nothing should reach stdout.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

  const sim = await startAlpacaSim({
    latencyMs: opts.latencyMs ?? 0,
    rateLimitPerMinute: opts.rateLimitPerMinute === undefined ? 200 : opts.rateLimitPerMinute,
    ...(opts.now ? { now: opts.now } : {}),
  });
  sim.addAccount(BENCH_KEY_ID, BENCH_SECRET, { cash: 1e9, optionsBuyingPower: 1e9 });
  const dynamo = opts.dynamoInChildProcess ? await startDynaliteProcess() : await startLocalDynamo();
  const tableName = `positions-bench-${process.pid}-${++tableSeq}`;
  await createPositionsTable(dynamo.client, tableName);
  const tableCalls = countTableCalls(dynamo.client);
  const store = new DynamoPositionStore(dynamo.client, tableName);
  const alpaca = new AlpacaAdapter({
    keyId: BENCH_KEY_ID,
    secretKey: BENCH_SECRET,
    tradingBaseUrl: sim.url,
    dataBaseUrl: sim.url,
  });
  const accountConfig = {
    name: 'bench',
    limits: { max_open_positions: 10_000 },
    // Quotes are set once while seeding; a long run must not turn them stale.
    exit_execution: { max_quote_age_seconds: 86_400 },
    ...(opts.account ?? {}),
  };
  const lambdaEnv: Record<string, string> = {
    ACCOUNT_NAME: String(accountConfig.name),
    ACCOUNT_CONFIG: JSON.stringify(accountConfig),
    POSITIONS_TABLE: tableName,
    APCA_API_KEY_ID: BENCH_KEY_ID,
    APCA_API_SECRET_KEY: BENCH_SECRET,
    APCA_API_BASE_URL: sim.url,
    APCA_API_DATA_URL: sim.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    ...LOCAL_AWS_ENV,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  // As deployed: the spread store too (its live-spreads query is one more read per sweep).
  const spreads = new DynamoSpreadStore(dynamo.client, tableName, store);
  const deps = async () => ({ broker: alpaca, marketData: alpaca, store, lease: store, spreads });
  const sweepHandler = createExitEvaluatorHandler(lambdaEnv, { deps, log: SILENT_LOG });
  const openHandler = createOpenOrderHandler(lambdaEnv, { deps, log: SILENT_LOG });
  const broker = brokerCallCursor(sim, BENCH_KEY_ID);

  return {
    sim,
    dynamo,
    tableName,
    account: String(accountConfig.name),
    keyId: BENCH_KEY_ID,
    store,
    alpaca,
    tableCalls,
    lambdaEnv,
    async sweep() {
      broker.take();
      tableCalls.reset();
      const t0 = performance.now();
      const report = await sweepHandler();
      const wallMs = performance.now() - t0;
      return { report, wallMs, broker: broker.take(), table: tableCalls.snapshot() };
    },
    async open(event) {
      broker.take();
      tableCalls.reset();
      const t0 = performance.now();
      const response = await openHandler(event);
      const wallMs = performance.now() - t0;
      return { response, wallMs, broker: broker.take(), table: tableCalls.snapshot() };
    },
    async close() {
      await sim.close();
      await dynamo.close();
    },
  };
}

/** dynalite in a child process on an ephemeral loopback port (in memory). */
export async function startDynaliteProcess(): Promise<LocalDynamo> {
  const script =
    "const s=require('dynalite')({createTableMs:0});" +
    "s.listen(0,'127.0.0.1',()=>process.stdout.write('PORT '+s.address().port+'\\n'))";
  const child = spawn(process.execPath, ['-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite exited ${code} before listening`)));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolvePort(Number(m[1]));
    });
  });
  // Never leave it behind, even when the benchmark fails.
  const killOnExit = () => child.kill();
  process.once('exit', killOnExit);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  return {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      child.removeAllListeners('exit');
      process.removeListener('exit', killOnExit);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill();
      await exited;
    },
  };
}
