/**
 * Exit-path harness shared by the sweep's end-to-end tests: a pipeline (dynalite + the Alpaca simulator),
 * positions opened through the real open-order handler, sweeps through the real exit-evaluator handler,
 * and the safety checks every closing order the client sent must pass.
 */
import {
  lambdaContext,
  loadOpenOrderHandler,
  loadOpenOrderHandlerWith,
  loadSweepHandler,
  loadSweepHandlerWith,
  sentOrders,
  sqsEvent,
  sqsRecord,
  startPipeline,
  KEY_ID,
  type Pipeline,
  type PipelineOptions,
} from './pipeline';
import { recommendationBody } from './recommendations';
import type { Position } from '../../shared/domain/position';
import type { SweepReport } from '../../shared/use-cases/sweep';
import type { TestClock } from './test-clock';

export interface ExitHarness {
  readonly p: Pipeline;
  /** Delivers a recommendation to a fresh open-order container; expects it accepted. */
  submit(o: Record<string, unknown>): Promise<void>;
  /** {@link submit}, then one sweep to learn the fill; expects the position open. */
  open(o: Record<string, unknown>): Promise<Position>;
  /** One sweep through a warm exit-evaluator container (a fresh one after {@link coldSweeps}). */
  sweep(): Promise<SweepReport>;
  /** The next sweep runs in a new container. */
  coldSweeps(): void;
  /** Sets a quote with the given mid and a 0.10 spread. */
  mid(symbol: string, m: number): void;
  /** Closing orders the client sent (raw bodies), oldest first. */
  exitOrders(): Array<Record<string, unknown>>;
  /** Contracts held at the broker (signed: negative is short). */
  brokerQty(symbol: string): number;
  get(id: string): Promise<Position | null>;
  /** Safety rules 1-3 on every closing order the client sent. */
  expectEveryCloseSafe(): void;
  /** No short position at the broker (for tests that open only longs). */
  expectNoShort(): void;
  close(): Promise<void>;
}

export const round2 = (x: number) => Math.round(x * 100) / 100;

/** The harness's options: the pipeline's, and optionally a test clock for the simulator and every handler. */
export interface ExitHarnessOptions extends Omit<PipelineOptions, 'now'> {
  /**
   * The clock of the simulator and of every handler the harness builds (their `now` override; polls sleep
   * on it): time moves only when the test advances it. @default the wall clock (the Lambda entries)
   */
  readonly clock?: TestClock;
}

export async function startExitHarness(opts: ExitHarnessOptions = {}): Promise<ExitHarness> {
  const { clock, ...pipelineOpts } = opts;
  const p = await startPipeline({ ...pipelineOpts, ...(clock ? { now: clock.now } : {}) });
  const openHandler = () =>
    clock ? loadOpenOrderHandlerWith(p, { now: clock.now }) : loadOpenOrderHandler(p);
  const newSweepHandler = () =>
    clock ? loadSweepHandlerWith(p, { now: clock.now, pollSleep: clock.sleep }) : loadSweepHandler(p);
  let sweepHandler: (() => Promise<SweepReport>) | undefined;
  const account = p.account;
  const exitPrefix = new RegExp(`^ops-${account}-x\\d+-`);
  const h: ExitHarness = {
    p,
    async submit(o) {
      const res = await openHandler()(sqsEvent([sqsRecord(recommendationBody(o))]), lambdaContext);
      expect(res.batchItemFailures).toEqual([]);
    },
    async open(o) {
      const id = String(o.recommendation_id);
      await h.submit(o);
      await h.sweep();
      const pos = await p.table.store.get(account, id);
      expect(pos).toMatchObject({ state: 'open' });
      return pos!;
    },
    sweep() {
      sweepHandler ??= newSweepHandler();
      return sweepHandler();
    },
    coldSweeps() {
      sweepHandler = undefined;
    },
    mid(symbol, m) {
      p.sim.setQuote(symbol, { bid: round2(m - 0.05), ask: round2(m + 0.05) });
    },
    exitOrders: () => sentOrders(p.sim).filter((o) => exitPrefix.test(String(o.client_order_id))),
    brokerQty: (symbol) => Number(p.sim.positions(KEY_ID).find((x) => x.symbol === symbol)?.qty ?? 0),
    get: (id) => p.table.store.get(account, id),
    expectEveryCloseSafe() {
      for (const o of h.exitOrders()) {
        const positionId = String(o.client_order_id).replace(exitPrefix, '');
        expect(o).not.toHaveProperty('position_intent');
        const opening = sentOrders(p.sim).find((x) => x.client_order_id === `ops-${account}-o-${positionId}`);
        expect(opening).toBeDefined();
        expect(o.symbol).toBe(opening!.symbol);
        expect(o.side).toBe(opening!.side === 'buy' ? 'sell' : 'buy');
      }
    },
    expectNoShort() {
      for (const pos of p.sim.positions(KEY_ID)) expect(Number(pos.qty)).toBeGreaterThanOrEqual(0);
    },
    close: () => p.close(),
  };
  return h;
}
