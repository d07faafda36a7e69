/**
 * Issue 26, the sweep's side: what real Alpaca accounts do that the sweep mishandled, each end to end (the
 * real exit-evaluator handler, dynalite, the Alpaca simulator over HTTP, the real SDK).
 */
import { createExitEvaluatorHandler } from '../../shared/handlers/exit-evaluator';
import { SILENT_LOG } from '../../shared/observability';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { FUTURE_SYMBOL } from '../helpers/recommendations';

let h: ExitHarness;
async function start(exec: Record<string, unknown> = {}, exitPlan: Record<string, unknown> = {}) {
  h = await startExitHarness({
    claimLeaseSeconds: 120,
    account: {
      name: 'main',
      limits: { max_open_positions: 100 },
      exit_defaults: { close_before_expiry_days: 1, take_profit_pct: null, ...exitPlan },
      exit_execution: { order_type: 'market', ...exec },
    },
  });
  h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
}
afterEach(async () => {
  if (!h) return;
  h.expectEveryCloseSafe();
  h.expectNoShort();
  await h.close();
});

describe('item 7: time rules and quote ages run on the broker clock', () => {
  it("a function clock 10 minutes ahead of the broker's does not make a fresh quote stale", async () => {
    await start({ max_quote_age_seconds: 120 });
    await h.open({
      recommendation_id: 'skew',
      num_contracts: 2,
      exit_plan: { take_profit_pct: 0.5, stop_loss_pct: null },
    });
    h.mid(FUTURE_SYMBOL, 4.0); // quoted now, on the broker's clock: take-profit is due
    const skewMs = 10 * 60_000;
    const sweep = createExitEvaluatorHandler(h.p.env, {
      log: SILENT_LOG,
      now: () => new Date(Date.now() + skewMs),
    });
    const report = await sweep({}, undefined);
    expect(report.held).not.toContainEqual(expect.objectContaining({ reason: 'stale_quote' }));
    expect(h.exitOrders()).toHaveLength(1);
    expect(await h.get('skew')).toMatchObject({ pending_exit: { reason: 'take_profit', qty: 2 } });
  });
});
