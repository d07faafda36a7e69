/**
 * A single leg's `exit_plan.at_expiry` end to end: `close` (the expiry rule closes it, as before),
 * `exercise` and `do_not_exercise` (held into the expiry day, the instruction sent once from 15:00 New York
 * time, recorded on the position), and a refused or missed instruction alerted. Real open and sweep
 * handlers, dynalite, the Alpaca simulator over HTTP (its exercise and do-not-exercise endpoints and its
 * expiry processing), the real SDK, on a test clock. The plan's at_expiry comes from the account's
 * `exit_defaults`, so the message itself asks for none.
 */
import { KEY_ID } from '../helpers/pipeline';
import { adapterFor } from '../helpers/alpaca-sim';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { testClock, type TestClock } from '../helpers/test-clock';
import { BrokerRejectedError, TransientError } from '../../shared/domain/errors';
import type { SweepReport } from '../../shared/use-cases/sweep';

jest.setTimeout(60_000);

/**
 * Friday 2025-12-05, the contract's expiry day: 14:00, 15:00 and 16:05 New York (EST, UTC-5). A date before
 * any wall clock the suite runs at: the message's SQS timestamp (the wall clock) is then never too old.
 */
const AT_1400 = Date.parse('2025-12-05T19:00:00Z');
const AT_1500 = Date.parse('2025-12-05T20:00:00Z');
const AT_1605 = Date.parse('2025-12-05T21:05:00Z');
/** A GOOGL 340 call expiring that day; GOOGL at 345 puts it $5 in the money. */
const SYM = 'GOOGL251205C00340000';
/** No price rule fires while the test moves nothing. */
const NO_EXITS = { stop_loss_pct: null, take_profit_pct: null, trailing_stop_pct: null };

let h: ExitHarness;
let clock: TestClock;
let running = false;
async function start(atExpiry?: string) {
  clock = testClock(AT_1400);
  h = await startExitHarness({
    clock,
    claimLeaseSeconds: 120,
    account: {
      name: 'main',
      limits: { max_open_positions: 50, min_days_to_expiry: 0 },
      exit_defaults: { close_before_expiry_days: 1, ...(atExpiry ? { at_expiry: atExpiry } : {}) },
    },
  });
  running = true;
  h.p.sim.setQuote(SYM, { bid: 5.0, ask: 5.1 });
  h.p.sim.setStockPrice('GOOGL', 345);
}
afterEach(async () => {
  if (!running) return;
  running = false;
  h.expectEveryCloseSafe();
  await h.close();
});

const EXERCISE = /^\/v2\/positions\/[^/]+\/exercise$/;
const DNE = /^\/v2\/positions\/[^/]+\/do-not-exercise$/;
const exercises = () => h.p.sim.requestsTo('POST', EXERCISE);
const dnes = () => h.p.sim.requestsTo('POST', DNE);
const alertsOf = (reports: readonly SweepReport[], kind: string) =>
  reports.flatMap((r) => r.alerts).filter((a) => a.kind === kind);
const activityTypes = () => h.p.sim.activities(KEY_ID).map((a) => a.activity_type);
const to = (ms: number) => clock.advance(ms - clock.nowMs());
const openLong = (id: string) =>
  h.open({ recommendation_id: id, option_symbol: SYM, num_contracts: 1, exit_plan: NO_EXITS });

/** Sweeps until `id` is closed (at most 3), with the reports. */
async function sweepUntilClosed(id: string): Promise<SweepReport[]> {
  const reports: SweepReport[] = [];
  for (let i = 0; i < 3; i++) {
    reports.push(await h.sweep());
    if ((await h.get(id))?.state === 'closed') break;
  }
  return reports;
}

describe('at_expiry close (the default)', () => {
  it('the expiry rule closes the long on its expiry day, as before; no instruction is sent', async () => {
    await start();
    await h.submit({ recommendation_id: 'cl', option_symbol: SYM, num_contracts: 1, exit_plan: NO_EXITS });
    await sweepUntilClosed('cl'); // learns the fill, then the expiry rule (1 day ≥ 0 left) closes it
    await to(AT_1500);
    await h.sweep();
    expect(h.exitOrders()).toEqual([expect.objectContaining({ symbol: SYM, side: 'sell', qty: '1' })]);
    expect(exercises()).toEqual([]);
    expect(dnes()).toEqual([]);
    expect(await h.get('cl')).not.toHaveProperty('expiry_instruction');
  });
});

describe('at_expiry exercise', () => {
  it('held into expiry (no close sent); POST .../exercise sent once from 15:00; the OPEXC booked as exercised', async () => {
    await start('exercise');
    await openLong('ex');
    await h.sweep(); // 14:00: before the window, nothing sent
    expect(exercises()).toEqual([]);
    await to(AT_1500);
    const sent = await h.sweep();
    expect(exercises()).toHaveLength(1);
    expect(exercises()[0].path).toBe(`/v2/positions/${SYM}/exercise`);
    expect(await h.get('ex')).toMatchObject({
      expiry_instruction: { instruction: 'exercise', outcome: 'sent' },
    });
    expect(alertsOf([sent], 'expiry_instruction_failed')).toEqual([]);
    const reports = await sweepUntilClosed('ex');
    expect(await h.get('ex')).toMatchObject({ state: 'closed', close_reason: 'exercised', exit_price: 5 });
    expect(activityTypes()).toEqual(['OPEXC', 'OPTRD']);
    expect(h.brokerQty('GOOGL')).toBe(100);
    expect(alertsOf(reports, 'assignment_shares')).toHaveLength(1);
    await h.sweep();
    expect(exercises()).toHaveLength(1); // never again
    expect(h.exitOrders()).toEqual([]); // no closing order, ever
    expect(dnes()).toEqual([]);
  });

  it('refused by the broker: alerted once, recorded, not sent again, no close sent; the broker auto-exercises at the close', async () => {
    await start('exercise');
    await openLong('rf');
    await to(AT_1500);
    h.p.sim.injectFault({
      method: 'POST',
      path: EXERCISE,
      status: 403,
      body: { code: 40310000, message: 'exercise not allowed' },
    });
    const first = await h.sweep();
    expect(alertsOf([first], 'expiry_instruction_failed')).toEqual([
      expect.objectContaining({
        symbol: SYM,
        detail: expect.stringMatching(/refused at_expiry exercise \(403/),
      }),
    ]);
    expect(await h.get('rf')).toMatchObject({
      state: 'open',
      expiry_instruction: { instruction: 'exercise', outcome: 'refused' },
    });
    const again = await h.sweep();
    expect(alertsOf([again], 'expiry_instruction_failed')).toEqual([]);
    expect(exercises()).toHaveLength(1);
    expect(h.exitOrders()).toEqual([]);
    await to(AT_1605);
    h.p.sim.setMarketOpen(false);
    h.p.sim.expireDayOrders(); // the close: $5 in the money, exercised automatically
    await sweepUntilClosed('rf');
    expect(await h.get('rf')).toMatchObject({ state: 'closed', close_reason: 'exercised' });
  });
});

describe('at_expiry do_not_exercise', () => {
  it('POST .../do-not-exercise sent once before 16:00; the in-the-money contract then expires worthless (OPEXP)', async () => {
    await start('do_not_exercise');
    await openLong('dne');
    await to(AT_1500);
    await h.sweep();
    await clock.advance(60_000);
    await h.sweep(); // 15:01: recorded, not sent again
    expect(dnes()).toHaveLength(1);
    expect(dnes()[0].path).toBe(`/v2/positions/${SYM}/do-not-exercise`);
    expect(await h.get('dne')).toMatchObject({
      state: 'open',
      expiry_instruction: { instruction: 'do_not_exercise', outcome: 'sent' },
    });
    expect(h.brokerQty(SYM)).toBe(1); // still held until the close
    await to(AT_1605);
    h.p.sim.setMarketOpen(false);
    h.p.sim.expireDayOrders(); // the close: $5 in the money, but not exercised
    await sweepUntilClosed('dne');
    expect(activityTypes()).toEqual(['OPEXP']);
    expect(await h.get('dne')).toMatchObject({
      state: 'closed',
      close_reason: 'expired',
      realized_pnl: -510,
    });
    expect(h.brokerQty('GOOGL')).toBe(0);
    expect(h.exitOrders()).toEqual([]);
    expect(exercises()).toEqual([]);
    expect(dnes()).toHaveLength(1);
  });

  it('the close passed before it was sent (no sweep in the window): alerted once as missed, nothing sent', async () => {
    await start('do_not_exercise');
    await openLong('late');
    await to(AT_1605);
    h.p.sim.setMarketOpen(false);
    const first = await h.sweep();
    expect(alertsOf([first], 'expiry_instruction_failed')).toEqual([
      expect.objectContaining({ detail: expect.stringMatching(/was not sent before the close/) }),
    ]);
    expect(await h.get('late')).toMatchObject({
      expiry_instruction: { instruction: 'do_not_exercise', outcome: 'missed' },
    });
    const again = await h.sweep();
    expect(alertsOf([again], 'expiry_instruction_failed')).toEqual([]);
    expect(dnes()).toEqual([]);
    expect(h.exitOrders()).toEqual([]);
  });
});

describe("the simulator's endpoints through the adapter", () => {
  it('refuses both between the close and midnight (422) and without a held long (403); a 5xx is transient and not retried; exercise acts at once', async () => {
    await start();
    const broker = adapterFor(h.p.sim);
    h.p.sim.setPosition(KEY_ID, SYM, 2, 5);
    h.p.sim.setPosition(KEY_ID, 'GOOGL270115C00340000', -1, 5);
    await to(Date.parse('2025-12-05T21:30:00Z')); // 16:30 New York
    for (const send of [() => broker.exerciseOption(SYM), () => broker.doNotExercise(SYM)]) {
      const err = await send().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerRejectedError);
      expect(err).toMatchObject({
        status: 422,
        message: expect.stringMatching(/between the market close and midnight/),
      });
    }
    await to(Date.parse('2025-12-06T19:00:00Z')); // Saturday 14:00: no session, no window
    const short = await broker.exerciseOption('GOOGL270115C00340000').catch((e: unknown) => e);
    expect(short).toMatchObject({ status: 403 });
    const none = await broker.doNotExercise('GOOGL270115P00300000').catch((e: unknown) => e);
    expect(none).toMatchObject({ status: 403 });
    h.p.sim.setPosition(KEY_ID, 'GOOGL270115C00340000', 1, 5);
    // A 5xx is a TransientError, never retried (the exercise may have acted): one request.
    h.p.sim.injectFault({ method: 'POST', path: EXERCISE, status: 503, afterAction: false });
    const before = exercises().length;
    const down = await broker.exerciseOption('GOOGL270115C00340000').catch((e: unknown) => e);
    expect(down).toBeInstanceOf(TransientError);
    expect(exercises().length - before).toBe(1);
    await broker.exerciseOption('GOOGL270115C00340000');
    expect(h.brokerQty('GOOGL270115C00340000')).toBe(0);
    expect(activityTypes().slice(-2)).toEqual(['OPEXC', 'OPTRD']);
  });
});
