/**
 * The 1,000-recommendation burst (issue 6, "Rate limits"), shared by rate-limit.test.ts (scaled window) and
 * scripts/soak.ts (`--rate-window-ms 60000` for the unscaled figure).
 *
 * One account, the simulator with its rate limit ON (200 per window), two open-order containers and one
 * sweep container built by the REAL wiring from the environment (`BROKER_REQUESTS_PER_MINUTE` per function
 * from lib/broker-rate-budget.ts, `BROKER_RATE_WINDOW_MS` scaled with the simulator's window).
 */
import './quiet';
import type { SQSRecord } from 'aws-lambda';
import { LOCAL_AWS_ENV } from '../../local/accounts';
import { startAlpacaSim, type AlpacaSim } from '../../local/alpaca-sim';
import { createPositionsTable, startLocalDynamo } from '../../local/dynamo';
import { DynamoPositionStore } from '../../shared/adapters/dynamo-position-store';
import { createExitEvaluatorHandler } from '../../shared/handlers/exit-evaluator';
import { createOpenOrderHandler } from '../../shared/handlers/open-order';
import { loadRuntimeConfig } from '../../shared/config';
import { TransientError } from '../../shared/domain/errors';
import type { Broker } from '../../shared/ports';
import { buildPipelineDeps, lazy } from '../../shared/wiring';
import { brokerRequestBudgets, OPEN_ORDER_EVENT_SOURCE } from '../../lib/broker-rate-budget';
import { SILENT_LOG as SILENT } from '../../shared/observability';
import { RELIABILITY_CONTRACTS } from '../helpers/contracts';

const SYMBOLS = RELIABILITY_CONTRACTS;

/** Options of {@link runBurst}. */
export interface BurstOptions {
  readonly recommendations: number;
  /** The simulator's and the clients' rate window (60000 = Alpaca's real minute). */
  readonly windowMs: number;
  /** Sweeps run every this many ms during the burst. @default windowMs / 4 */
  readonly sweepEveryMs?: number;
}

/** What the burst measured. */
export interface BurstResult {
  readonly recommendations: number;
  readonly windowMs: number;
  readonly budgets: { readonly openOrder: number; readonly exitEvaluator: number };
  readonly requests: number;
  /** Most requests the simulator received in any window of `windowMs` (sliding, per request time). */
  readonly peakPerWindow: number;
  readonly answered429: number;
  readonly openingOrders: number;
  readonly positions: number;
  readonly rejections: number;
  readonly deadLettered: number;
  readonly lost: number;
  readonly sweeps: number;
  readonly elapsedMs: number;
}

/** Runs the burst to completion: every message is acknowledged or dead-lettered. */
export async function runBurst(opts: BurstOptions): Promise<BurstResult> {
  const sim = await startAlpacaSim({ rateLimitPerMinute: 200, rateWindowMs: opts.windowMs });
  const dynamo = await startLocalDynamo();
  const tableName = `burst-${process.pid}-${Date.now()}`;
  await createPositionsTable(dynamo.client, tableName);
  const keyId = 'PKBURST';
  sim.addAccount(keyId, 'burst-secret', { cash: 1e8, optionsBuyingPower: 1e8 });
  for (const s of SYMBOLS) sim.setQuote(s, { bid: 2.0, ask: 2.1 });
  // The deployed budgets of `main` (its sweep's share counts its price-rule polls, every 10 s).
  const budgets = brokerRequestBudgets(5, 1, 10);
  const base = {
    ACCOUNT_NAME: 'main',
    ACCOUNT_CONFIG: JSON.stringify({
      name: 'main',
      limits: { max_open_positions: 10_000, max_recommendation_age_minutes: 60 },
    }),
    POSITIONS_TABLE: tableName,
    APCA_API_KEY_ID: keyId,
    APCA_API_SECRET_KEY: 'burst-secret',
    APCA_API_BASE_URL: sim.url,
    APCA_API_DATA_URL: sim.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    ...LOCAL_AWS_ENV,
    BROKER_RATE_WINDOW_MS: String(opts.windowMs),
  };
  const openEnv = { ...base, BROKER_REQUESTS_PER_MINUTE: String(budgets.openOrder) };
  const sweepEnv = { ...base, BROKER_REQUESTS_PER_MINUTE: String(budgets.exitEvaluator) };
  // The AWS SDK reads its region and credentials from process.env itself (as in Lambda).
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  const started = Date.now();
  try {
    const containers = Array.from({ length: OPEN_ORDER_EVENT_SOURCE.maxConcurrency }, () =>
      createOpenOrderHandler(openEnv, { log: SILENT }),
    );
    // The sweep container, built by the same wiring. When the burst is over its Lambda "times out": calls
    // still to come fail at once (a sweep that learns 1,000 fills one lookup at a time needs far more than
    // its share of the minute; see RELIABILITY.md).
    let timedOut = false;
    const sweepDeps = lazy(() => buildPipelineDeps(sweepEnv, loadRuntimeConfig(sweepEnv)));
    const sweeper = createExitEvaluatorHandler(sweepEnv, {
      log: SILENT,
      deps: async () => {
        const d = await sweepDeps();
        const broker = new Proxy(d.broker, {
          get(target, prop, receiver) {
            const v = Reflect.get(target, prop, receiver) as unknown;
            if (typeof v !== 'function') return v;
            return (...args: unknown[]) => {
              if (timedOut) throw new TransientError('sweep timed out');
              return (v as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        }) as Broker;
        return { ...d, broker };
      },
    });

    // The queue: all messages at once; failures come back with receiveCount + 1, to the DLQ after 3.
    const queue: Array<{ id: string; body: string; receives: number }> = [];
    for (let i = 0; i < opts.recommendations; i++) {
      queue.push({
        id: `b-${i}`,
        body: JSON.stringify({
          recommendation_id: `burst-${i}`,
          ticker: 'GOOGL',
          option_symbol: SYMBOLS[i % SYMBOLS.length],
          action: 'BUY',
          num_contracts: 1,
          order_type: 'market',
          limit_price: null,
          exit_plan: { stop_loss_pct: 0.5 },
        }),
        receives: 0,
      });
    }
    const dead: string[] = [];
    const sentAt = String(Date.now());
    const worker = async (c: number) => {
      for (;;) {
        const batch = queue.splice(0, OPEN_ORDER_EVENT_SOURCE.batchSize);
        if (batch.length === 0) return;
        for (const m of batch) m.receives++;
        const records = batch.map((m): SQSRecord => ({
          messageId: m.id,
          receiptHandle: m.id,
          body: m.body,
          attributes: {
            ApproximateReceiveCount: String(m.receives),
            SentTimestamp: sentAt,
            SenderId: 'burst',
            ApproximateFirstReceiveTimestamp: sentAt,
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:recommendations-main',
          awsRegion: 'us-east-1',
        }));
        const res = await containers[c]({ Records: records });
        const failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
        for (const m of batch) {
          if (!failed.has(m.id)) continue;
          if (m.receives >= 3) dead.push(m.id);
          else queue.push(m);
        }
      }
    };
    let sweeps = 0;
    let burstDone = false;
    const sweeping = (async () => {
      while (!burstDone) {
        await new Promise((r) => setTimeout(r, opts.sweepEveryMs ?? opts.windowMs / 4));
        await sweeper().catch(() => undefined);
        sweeps++;
      }
    })();
    await Promise.all(containers.map((_, c) => worker(c)));
    burstDone = true;
    timedOut = true;
    await sweeping;

    const store = new DynamoPositionStore(dynamo.client, tableName);
    let positions = 0;
    let lost = 0;
    const rejections = await store.listRejections('main');
    const rejected = new Set(rejections.map((r) => r.key));
    const deadSet = new Set(dead);
    for (let i = 0; i < opts.recommendations; i++) {
      const p = await store.get('main', `burst-${i}`);
      if (p && p.open_order_id) positions++;
      else if (!rejected.has(`burst-${i}`) && !deadSet.has(`b-${i}`)) lost++;
    }
    const requests = sim.requests.filter((r) => r.keyId === keyId);
    return {
      recommendations: opts.recommendations,
      windowMs: opts.windowMs,
      budgets,
      requests: requests.length,
      peakPerWindow: peakInWindow(
        requests.map((r) => Date.parse(r.time)),
        opts.windowMs,
      ),
      answered429: requests.filter((r) => r.status === 429).length,
      openingOrders: sim.orders(keyId).length,
      positions,
      rejections: rejections.length,
      deadLettered: dead.length,
      lost,
      sweeps,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await sim.close();
    await dynamo.close();
  }
}

/** Most timestamps inside any half-open window [t, t + windowMs). */
export function peakInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] >= windowMs) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  return peak;
}

/** A sim the caller does not need: exported for the type only. */
export type { AlpacaSim };
