/**
 * The whole pipeline on this machine: dynalite with the positions table (from the stack's schema), fauxqs
 * with a recommendations queue and DLQ per account (redrive as in the stack), the Alpaca simulator with a
 * moving market (or Alpaca's paper API), and per account the SAME handler factories Lambda runs: the
 * open-order function behind an SQS poller that behaves like Lambda's event source mapping, and the exit
 * evaluator on a timer. Everything listens on 127.0.0.1 only; `stop()` closes all of it.
 */
import * as path from 'node:path';
import { OPEN_ORDER_EVENT_SOURCE } from '../lib/broker-rate-budget';
import { OPEN_ORDER_TIMEOUT, RECOMMENDATIONS_MAX_RECEIVE_COUNT } from '../lib/account-pipeline';
import { DynamoPositionStore } from '../shared/adapters/dynamo-position-store';
import { systemClock } from '../shared/adapters/system-clock';
import type { AccountConfig } from '../shared/domain/account-config';
import { createExitEvaluatorHandler } from '../shared/handlers/exit-evaluator';
import { createOpenOrderHandler } from '../shared/handlers/open-order';
import type { Clock } from '../shared/ports';
import { accountEnvironment, LOCAL_AWS_ENV, readCdkAccounts } from './accounts';
import { startAlpacaSim, type AlpacaSim } from './alpaca-sim';
import { createPositionsTable, startLocalDynamo, type LocalDynamo } from './dynamo';
import { routeConsoleToLog } from './console-capture';
import { openFileLog, type FileLog } from './file-log';
import { seedLocalMarket } from './starting-market';
import { accountsToRun, brokerEnvironment, selectBrokerMode, simulatorKeys, type BrokerMode } from './mode';
import { checkPaperAccess } from './paper-check';
import { startLocalSqs, type LocalSqs } from './sqs-server';
import { startSqsRunner, type BatchResult, type SqsRunner } from './sqs-runner';
import {
  acquireStateDirLock,
  DEFAULT_STATE_DIR,
  removeStateFile,
  STATE_FILE_NAME,
  writeStateFile,
} from './state-file';
import { startSweepSchedule, type SweepSchedule } from './sweep-schedule';

/** The table's name in local mode. */
const LOCAL_TABLE_NAME = 'ops-pipeline-positions';

/** Options of {@link startLocalStack}; every one has a default suited to `npm start`. */
export interface LocalStackOptions {
  /** @default from the environment: {@link selectBrokerMode}(process.env) */
  readonly broker?: BrokerMode;
  /** Accounts (names from cdk.json) to run. @default all with the simulator, `main` on paper */
  readonly accounts?: readonly string[];
  /** Seed of the simulator's random walk. @default 1 */
  readonly seed?: number;
  /** Seconds between sweeps of each account. @default 5 */
  readonly sweepSeconds?: number;
  /**
   * Visibility timeout of the recommendations queues, seconds. The stack's is minutes (6 x the function
   * timeout); a short one lets a failed message come back, and reach the DLQ, in seconds. @default 10
   */
  readonly visibilityTimeoutSeconds?: number;
  /** Batching window, seconds. @default the stack's (OPEN_ORDER_EVENT_SOURCE.maxBatchingWindowSeconds) */
  readonly batchingWindowSeconds?: number;
  /** Long-poll wait of each receive, seconds. @default 20 (the stack's receiveMessageWaitTime) */
  readonly waitTimeSeconds?: number;
  /** CLAIM_LEASE_SECONDS of the handlers. @default 10 */
  readonly claimLeaseSeconds?: number;
  /** The simulator's random walk; `false` keeps prices still (the demo drives them). */
  readonly randomWalk?: false | { readonly intervalMs?: number; readonly volatility?: number };
  /** Where state.json and the log go. @default `<repo>/.local` */
  readonly stateDir?: string;
  /** Publish state.json for the inject CLI. @default true */
  readonly writeState?: boolean;
  /** Also print each log line (`--no-view`). */
  readonly echoLog?: (line: string) => void;
  /** @default `<repo>/cdk.json` */
  readonly cdkJsonPath?: string;
  /** Where the start-up check of paper keys goes (tests: a local server). @default Alpaca's paper host */
  readonly paperTradingUrl?: string;
  /** Latency the simulator adds to each request. @default 0 */
  readonly simulatorLatencyMs?: number;
  /**
   * Console methods whose output goes to the log file while the stack runs (`npm start`: warn, error,
   * info, debug; with the view also log). @default none
   */
  readonly consoleToLog?: ReadonlyArray<'log' | 'info' | 'warn' | 'error' | 'debug'>;
  /** The one clock of the stack: the handlers, the simulator's broker time and its listed expiries. @default the wall clock */
  readonly now?: Clock;
}

/** One running account pipeline. */
export interface LocalAccount {
  readonly name: string;
  readonly config: AccountConfig;
  /** The environment its handlers were created with. */
  readonly env: NodeJS.ProcessEnv;
  /** Its broker key (the simulated account's, or the user's paper key). */
  readonly keyId: string;
  readonly secretKey: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly store: DynamoPositionStore;
  readonly sweep: SweepSchedule;
  readonly openOrder: { invocations: number; records: number; failed: number };
}

/** What {@link startLocalStack} started. */
export interface LocalStack {
  readonly broker: BrokerMode['kind'];
  /** The simulator, when trading with it. */
  readonly sim: AlpacaSim | null;
  readonly sqs: LocalSqs;
  readonly dynamo: LocalDynamo;
  readonly tableName: string;
  readonly accounts: readonly LocalAccount[];
  readonly log: FileLog;
  readonly statePath: string;
  /** Every port this stack listens on (all on 127.0.0.1). */
  readonly ports: readonly number[];
  readonly settings: {
    readonly seed: number;
    readonly sweepSeconds: number;
    readonly visibilityTimeoutSeconds: number;
    readonly batchingWindowSeconds: number;
    readonly maxReceiveCount: number;
  };
  account(name: string): LocalAccount;
  /** Stops pollers and timers, closes every server; idempotent. */
  stop(): Promise<void>;
}

/** Starts everything; on a failure part-way, closes what had started and rethrows. */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const broker = opts.broker ?? selectBrokerMode(process.env);
  const definitions = readCdkAccounts(opts.cdkJsonPath);
  const names = accountsToRun(
    broker,
    definitions.map((d) => d.name),
    opts.accounts ?? [],
  );
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const now = opts.now ?? systemClock;
  // Paper keys are checked once, before anything starts: a refused key or no network stops here with one
  // message instead of every sweep failing with `fetch failed`.
  const paperAccess =
    broker.kind === 'paper'
      ? await checkPaperAccess({ ...broker, tradingBaseUrl: opts.paperTradingUrl })
      : null;
  const settings = {
    seed: opts.seed ?? 1,
    sweepSeconds: opts.sweepSeconds ?? 5,
    visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds ?? 10,
    batchingWindowSeconds: opts.batchingWindowSeconds ?? OPEN_ORDER_EVENT_SOURCE.maxBatchingWindowSeconds,
    maxReceiveCount: RECOMMENDATIONS_MAX_RECEIVE_COUNT,
  };
  if (settings.batchingWindowSeconds >= settings.visibilityTimeoutSeconds) {
    throw new Error(
      `the batching window (${settings.batchingWindowSeconds} s) must be shorter than the visibility timeout ` +
        `(${settings.visibilityTimeoutSeconds} s), or messages reappear before their batch is handled`,
    );
  }

  // One stack per state directory: a second one would overwrite the first's state.json (which the inject
  // and control CLIs read) and interleave its log. Taken before anything starts; released by stop().
  const releaseLock = opts.writeState !== false ? acquireStateDirLock(stateDir) : () => undefined;

  // The handlers' DynamoDB clients take credentials and region from process.env. Metrics stay off so
  // Powertools prints no EMF JSON over the terminal; in its dev mode its warnings go through the global
  // console, which `consoleToLog` can route to the log file.
  Object.assign(process.env, LOCAL_AWS_ENV, { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_DEV: 'true' });

  const log = openFileLog(path.join(stateDir, 'ops-pipeline.log'), { echo: opts.echoLog });
  const stackLog = log.forService('local');
  const cleanups: Array<() => Promise<void>> = [async () => releaseLock()];
  if (opts.consoleToLog?.length) {
    const restore = routeConsoleToLog(log, opts.consoleToLog);
    cleanups.push(async () => restore());
  }
  const closeAll = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      await c().catch((err: unknown) => stackLog.warn(`Shutdown step failed: ${(err as Error).message}`));
    }
  };

  try {
    const dynamo = await startLocalDynamo();
    cleanups.push(() => dynamo.close());
    await createPositionsTable(dynamo.client, LOCAL_TABLE_NAME);

    const sqs = await startLocalSqs();
    cleanups.push(() => sqs.close());

    let sim: AlpacaSim | null = null;
    if (broker.kind === 'simulator') {
      const started = await startAlpacaSim({
        seed: settings.seed,
        marketOpen: true,
        latencyMs: opts.simulatorLatencyMs ?? 0,
        // `npm run fault` injects the runbook's faults over the simulator's loopback control routes.
        controlApi: true,
        now,
      });
      sim = started;
      cleanups.push(() => started.close());
      for (const name of names) {
        const keys = simulatorKeys(name);
        started.addAccount(keys.keyId, keys.secretKey, { cash: 100_000 });
      }
      seedLocalMarket(started, now());
      // The simulator logs every request (tests and the demo read it); in a long session keep the newest.
      const trim = setInterval(() => {
        if (started.requests.length > 20_000) started.requests.splice(0, started.requests.length - 10_000);
      }, 30_000);
      trim.unref();
      cleanups.push(async () => clearInterval(trim));
      if (opts.randomWalk !== false) {
        started.startRandomWalk({
          seed: settings.seed,
          intervalMs: opts.randomWalk?.intervalMs ?? 1000,
          volatility: opts.randomWalk?.volatility ?? 0.015,
        });
      }
    }

    const accounts: LocalAccount[] = [];
    for (const name of names) {
      const def = definitions.find((d) => d.name === name)!;
      const queues = await sqs.createAccountQueues(name, {
        visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
        maxReceiveCount: settings.maxReceiveCount,
      });
      const brokerEnv = brokerEnvironment(broker, name, sim?.url);
      const env = accountEnvironment({
        account: def,
        tableName: LOCAL_TABLE_NAME,
        dynamoEndpoint: dynamo.endpoint,
        broker: brokerEnv,
        claimLeaseSeconds: opts.claimLeaseSeconds ?? 10,
      });
      // One handler per concurrent batch, as Lambda runs each concurrent invocation in its own container.
      const openOrderHandlers = Array.from({ length: OPEN_ORDER_EVENT_SOURCE.maxConcurrency }, () =>
        createOpenOrderHandler(env, { log: log.forService('open-order', name), now }),
      );
      const exitEvaluator = createExitEvaluatorHandler(env, {
        log: log.forService('exit-evaluator', name),
        now,
      });
      const counters = { invocations: 0, records: 0, failed: 0 };
      const runner: SqsRunner = startSqsRunner({
        client: sqs.client,
        queueUrl: queues.queueUrl,
        queueArn: queues.queueArn,
        handlers: openOrderHandlers,
        functionName: `open-order-${name}`,
        log: log.forService('sqs-poller', name),
        batchSize: OPEN_ORDER_EVENT_SOURCE.batchSize,
        batchingWindowMs: settings.batchingWindowSeconds * 1000,
        waitTimeSeconds: opts.waitTimeSeconds ?? 20,
        timeoutMs: OPEN_ORDER_TIMEOUT.toMilliseconds(),
        onBatch: (r: BatchResult) => {
          counters.invocations += 1;
          counters.records += r.records;
          counters.failed += r.failed;
        },
      });
      cleanups.push(() => runner.stop());
      const sweepMs = settings.sweepSeconds * 1000;
      const sweep = startSweepSchedule({
        // As EventBridge and Lambda do: a scheduled event (its time) and the time left before the next
        // tick, so a sweep polls the price rules on this schedule's clock (sweep/poll.ts).
        handler: () => {
          const startedMs = Date.now();
          return exitEvaluator(
            { 'detail-type': 'Scheduled Event', time: now().toISOString() },
            { getRemainingTimeInMillis: () => Math.max(0, sweepMs - 1000 - (Date.now() - startedMs)) },
          );
        },
        intervalMs: sweepMs,
        log: log.forService('sweep-schedule', name),
      });
      cleanups.push(() => sweep.stop());
      accounts.push({
        name,
        config: def.config,
        env,
        keyId: brokerEnv.APCA_API_KEY_ID,
        secretKey: brokerEnv.APCA_API_SECRET_KEY,
        queueUrl: queues.queueUrl,
        queueArn: queues.queueArn,
        dlqUrl: queues.dlqUrl,
        store: new DynamoPositionStore(dynamo.client, LOCAL_TABLE_NAME),
        sweep,
        openOrder: counters,
      });
    }

    const statePath = path.join(stateDir, STATE_FILE_NAME);
    if (opts.writeState !== false) {
      writeStateFile(statePath, {
        pid: process.pid,
        startedAt: now().toISOString(),
        broker: broker.kind,
        sqsEndpoint: sqs.endpoint,
        dynamoEndpoint: dynamo.endpoint,
        simulatorUrl: sim?.url ?? null,
        tableName: LOCAL_TABLE_NAME,
        logPath: log.path,
        accounts: Object.fromEntries(
          accounts.map((a) => [a.name, { queueUrl: a.queueUrl, dlqUrl: a.dlqUrl }]),
        ),
      });
      cleanups.push(async () => removeStateFile(statePath));
    }
    stackLog.info('Local stack started', {
      broker: broker.kind,
      sqs: sqs.endpoint,
      dynamodb: dynamo.endpoint,
      simulator: sim?.url ?? null,
      accounts: names,
      ...(paperAccess ? { paperAccount: paperAccess } : {}),
      ...settings,
    });

    let stopping: Promise<void> | null = null;
    return {
      broker: broker.kind,
      sim,
      sqs,
      dynamo,
      tableName: LOCAL_TABLE_NAME,
      accounts,
      log,
      statePath,
      ports: [dynamo.endpoint, sqs.endpoint, ...(sim ? [sim.url] : [])].map((u) => Number(new URL(u).port)),
      settings,
      account(name) {
        const a = accounts.find((x) => x.name === name);
        if (!a) throw new Error(`account "${name}" is not running (running: ${names.join(', ')})`);
        return a;
      },
      stop() {
        stopping ??= (async () => {
          stackLog.info('Stopping the local stack');
          sim?.stopRandomWalk();
          await closeAll();
          await log.close();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await closeAll();
    await log.close();
    throw err;
  }
}
