/**
 * Fixed days for the reliability model: the hard cases the random search exercises, pinned so they run on
 * every `npm test` whatever the seed, and the place where every shrunk counter-example the model or the
 * soak finds is pasted (as the JSON list of actions fast-check prints) before it is fixed.
 *
 * Plus the checker's own tests: the invariant checks must fail when the broker sees an unsafe order.
 */
import {
  MODEL_SECRET,
  MORNING,
  Run,
  SYMBOLS,
  runScenario,
  startWorld,
  type Action,
  type World,
} from './model';
import { SPREAD_STRUCTURES } from './model';
import type { AlpacaAdapter } from '../../shared/adapters/alpaca';
import { DynamoPositionStore } from '../../shared/adapters/dynamo-position-store';
import { DynamoSpreadStore } from '../../shared/adapters/dynamo-spread-store';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.close();
});

const DAYS: Record<string, Action[]> = {
  'a lost reply on the opening POST, the same recommendation delivered twice at once': [
    { t: 'recommend', symbol: 0, action: 'BUY', qty: 2, order: 'market', partial: false },
    { t: 'duplicate', pick: 3 },
    { t: 'fault', kind: 'lostReply', target: 0, times: 1 },
    { t: 'deliverBoth', max: 1 },
    { t: 'sweep', concurrent: 2 },
  ],
  'a slow opening reply past the timeout: the broker acts after the client gave up': [
    { t: 'recommend', symbol: 1, action: 'BUY', qty: 3, order: 'market', partial: false },
    { t: 'fault', kind: 'slowReply', target: 0, times: 2 },
    { t: 'deliver', container: 1, max: 10 },
    { t: 'deliver', container: 0, max: 10 },
    { t: 'sweep', concurrent: 1 },
  ],
  'an exit answered 500 after the broker placed it, then the position reduced by hand': [
    { t: 'price', symbol: 0, factor: 0.5 },
    { t: 'fault', kind: 'http500AfterAction', target: 0, times: 1 },
    { t: 'sweep', concurrent: 1 },
    { t: 'outside', kind: 'reduceByHand', symbol: 0 },
    { t: 'sweep', concurrent: 3 },
  ],
  'flatten while a short is assigned and a contract expires': [
    { t: 'outside', kind: 'assignShort', symbol: 2 },
    { t: 'outside', kind: 'expireContract', symbol: 1 },
    { t: 'flatten', on: true },
    { t: 'sweep', concurrent: 2 },
    { t: 'sweep', concurrent: 1 },
  ],
  'partial fills, an expired opening order, and a stop while the lookups are throttled': [
    { t: 'fillMode', manual: true },
    { t: 'recommend', symbol: 0, action: 'BUY', qty: 5, order: 'restingLimit', partial: true },
    { t: 'deliver', container: 0, max: 10 },
    { t: 'fill', pick: 0, fraction: 0.5 },
    { t: 'expireOrder', pick: 0 },
    { t: 'fault', kind: 'http429', target: 1, times: 3 },
    { t: 'price', symbol: 0, factor: 0.5 },
    { t: 'sweep', concurrent: 2 },
    { t: 'fillMode', manual: false },
    { t: 'sweep', concurrent: 1 },
  ],
  'kill switch between two deliveries of a batch with invalid messages': [
    { t: 'recommend', symbol: 2, action: 'SELL', qty: 1, order: 'limit', partial: false },
    { t: 'invalid', kind: 4 },
    { t: 'killSwitch', enabled: false },
    { t: 'deliver', container: 0, max: 10 },
    { t: 'killSwitch', enabled: true },
    { t: 'deliver', container: 1, max: 10 },
  ],
  'positions closed by hand while their exits rest': [
    { t: 'fillMode', manual: true },
    { t: 'price', symbol: 0, factor: 1.8 },
    { t: 'sweep', concurrent: 1 },
    { t: 'outside', kind: 'closeByHand', symbol: 0 },
    { t: 'outside', kind: 'closeByHand', symbol: 0 },
    { t: 'fillMode', manual: false },
    { t: 'sweep', concurrent: 2 },
  ],
};

/**
 * Shrunk counter-examples found by the model or the soak. Each fails until the bug it shows is fixed.
 *
 * Found by `npx tsx scripts/soak.ts --runs 1500 --max-commands 40 --seed 20260601` (run 1146, shrunk 12
 * times), reproduces every time: the short put's exit POST is slow (the broker acts after the client's
 * timeout), the lookup right after finds nothing yet, and three concurrent sweeps (claim lease 0) each
 * resend the same exit step from `learnExit` without claiming the resend and against their sweep-start
 * broker snapshot. The first resend fills; the other two are sent while the broker holds nothing
 * (`closing buy 2 … while the broker holds 0`): only the broker's client_order_id uniqueness stops them.
 */
const SOAK_20261201: Action[] = [
  { t: 'expireOrder', pick: 12 },
  { t: 'fault', kind: 'lostReply', target: 5, times: 1 },
  { t: 'fault', kind: 'slowReply', target: 0, times: 1 },
  { t: 'fault', kind: 'http5xx', target: 4, times: 1 },
  { t: 'fill', pick: 1, fraction: 0.5 },
  { t: 'recommend', symbol: 2, action: 'SELL', qty: 4, order: 'limit', partial: true, maxHold: true },
  { t: 'deliver', container: 0, max: 2 },
  { t: 'duplicate', pick: 7 },
  { t: 'outside', kind: 'reduceByHand', symbol: 1 },
  { t: 'price', symbol: 2, factor: 1.05 },
  { t: 'killSwitch', enabled: false },
  { t: 'fault', kind: 'lostReply', target: 0, times: 3 },
  { t: 'outside', kind: 'closeByHand', symbol: 0 },
  { t: 'price', symbol: 0, factor: 0.85 },
  { t: 'price', symbol: 1, factor: 0.5 },
  { t: 'deliver', container: 0, max: 7 },
  { t: 'deliver', container: 1, max: 1 },
  { t: 'fault', kind: 'slowReply', target: 1, times: 1 },
  { t: 'fault', kind: 'http429', target: 3, times: 2 },
  { t: 'fault', kind: 'slowReply', target: 6, times: 3 },
];

const COUNTER_EXAMPLES: Record<string, Action[]> = {
  'soak seed 20260601: a slow exit POST, then three sweeps at once all resend the same step': [
    { t: 'price', symbol: 2, factor: 1.2 },
    { t: 'fault', kind: 'slowReply', target: 0, times: 1 },
    { t: 'fault', kind: 'lostReply', target: 5, times: 2 },
    { t: 'sweep', concurrent: 2 },
    { t: 'sweep', concurrent: 3 },
  ],
  'model seed -201173820: an opening order lands between the sweep reading the broker and its closed-order listing':
    [
      { t: 'fault', kind: 'slowReply', target: 3, times: 1 },
      { t: 'fault', kind: 'slowReply', target: 0, times: 1 },
      { t: 'recommend', symbol: 0, action: 'BUY', qty: 1, order: 'market', partial: false },
      { t: 'deliverBoth', max: 1 },
      { t: 'sweep', concurrent: 1 },
      { t: 'invalid', kind: 0 },
    ],
  'soak seed 20261127 (run 768): a second position on a held contract, one contract sold by hand, flatten, three sweeps at once':
    [
      { t: 'recommend', symbol: 2, action: 'SELL', qty: 1, order: 'market', partial: false },
      { t: 'recommend', symbol: 0, action: 'BUY', qty: 1, order: 'market', partial: false },
      { t: 'flatten', on: true },
      { t: 'deliver', container: 0, max: 2 },
      { t: 'outside', kind: 'reduceByHand', symbol: 0 },
      { t: 'outside', kind: 'reduceByHand', symbol: 2 },
      { t: 'sweep', concurrent: 3 },
    ],
  'CI seed 368320999: throttled and slow opening POSTs, a sweep, then the same recommendation delivered again':
    [
      { t: 'fault', kind: 'http429', target: 0, times: 3 },
      { t: 'fault', kind: 'slowReply', target: 0, times: 1 },
      { t: 'recommend', symbol: 0, action: 'BUY', qty: 1, order: 'market', partial: false, maxHold: false },
      { t: 'deliver', container: 0, max: 1 },
      { t: 'deliver', container: 0, max: 1 },
      { t: 'tick', minutes: 5 },
      { t: 'sweep', concurrent: 1 },
      { t: 'duplicate', pick: 0 },
    ],
};

describe('a closing order overtaken in flight by a hand close', () => {
  // Soak seed 20261127 (run 117): flatten sends an intent-free SELL for the 4 contracts the broker holds;
  // the request is slow (the broker acts on it 200 ms later, after the client gave up), the position is
  // closed by hand in between, and the SELL then opens a short. Sent for qty the broker confirmed; no
  // intent-free close can prevent it. The checker counts it apart, and still flags any other such order.
  it('is counted apart, not as a violation (the sweep is left alerting on the short)', async () => {
    const f = await runScenario(world, [
      { t: 'fault', kind: 'slowReply', target: 0, times: 1 },
      { t: 'flatten', on: true },
      { t: 'sweep', concurrent: 1 },
      { t: 'outside', kind: 'closeByHand', symbol: 0 },
      { t: 'fault', kind: 'http429', target: 0, times: 1 },
    ]);
    // runScenario throws on any violation. The race needs the hand close inside the order's 200 ms flight;
    // on a loaded machine the sweep may outlast it (the order lands first, nothing is raced): 0 or 1.
    expect(f.closesRacedByHand).toBeLessThanOrEqual(1);
    expect(f.unintendedShorts).toBe(0);
    expect(f.divergences).toBe(0);
  });
});

describe('a short gone while shares of its underlying are held (issue 26 item 3)', () => {
  // Model seed 20261129: the 340 call is expired in the money (exercised: shares delivered), then the short
  // P300 is closed by hand. An assignment could explain it (its OPASN may come the next trading day), so the
  // sweep waits (option_event_pending, no order); convergence moves the clock past the next trading day's
  // open, and the record is closed outside the pipeline: the table agrees with the broker.
  it('waits for the next trading day, then books it or closes it outside the pipeline', async () => {
    const f = await runScenario(
      world,
      [
        { t: 'recommend', symbol: 0, action: 'BUY', qty: 1, order: 'market', partial: false, maxHold: false },
        { t: 'deliver', container: 0, max: 1 },
        { t: 'outside', kind: 'expireContract', symbol: 1 },
        { t: 'fault', kind: 'http429', target: 0, times: 3 },
        { t: 'sweep', concurrent: 1 },
        { t: 'sweep', concurrent: 1 },
        { t: 'outside', kind: 'closeByHand', symbol: 0 },
        { t: 'deliver', container: 0, max: 1 },
      ],
      { polling: { moves: [0.8] }, brokerStop: 'stop_limit' },
    );
    expect(f.optionEventWaits).toBeGreaterThanOrEqual(1);
    expect(f.divergences).toBe(0);
  });
});

describe('shrunk counter-examples', () => {
  it.each(Object.entries(COUNTER_EXAMPLES))('%s', async (_name, actions) => {
    await runScenario(world, actions);
  });
});

describe('resting stops at the broker (issue 14): shrunk counter-examples', () => {
  // Found by the model with `broker_stop` drawn per day; each failed before its fix.
  const cases: Array<[string, 'stop' | 'stop_limit', Action[]]> = [
    [
      'a hand close under a resting stop: the stop is cancelled, the record closed outside the pipeline',
      'stop_limit',
      [
        { t: 'outside', kind: 'closeByHand', symbol: 0 },
        { t: 'sweep', concurrent: 1 },
      ],
    ],
    [
      'a resting stop filled in part (by the model) is booked as it goes: the table follows the broker',
      'stop_limit',
      [{ t: 'fill', pick: 0, fraction: 0.3 }],
    ],
    [
      'a stop left by a position closed outside never holds the contracts a due stop needs',
      'stop_limit',
      [
        { t: 'outside', kind: 'closeByHand', symbol: 2 },
        { t: 'price', symbol: 2, factor: 1.4 },
        {
          t: 'recommend',
          symbol: 2,
          action: 'SELL',
          qty: 2,
          order: 'market',
          partial: false,
          maxHold: false,
        },
        { t: 'deliver', container: 0, max: 1 },
      ],
    ],
    [
      'a stop replaced after a hand reduction and a part fill is sized to what the broker holds (no 403)',
      'stop_limit',
      [
        { t: 'price', symbol: 1, factor: 1.2 },
        { t: 'outside', kind: 'reduceByHand', symbol: 1 },
        { t: 'fill', pick: 4, fraction: 0.5 },
        { t: 'sweep', concurrent: 1 },
      ],
    ],
  ];
  it.each(cases)('%s', async (_name, mode, actions) => {
    const f = await runScenario(world, actions, { brokerStop: mode });
    expect(f.brokerStopRuns).toBe(1);
    expect(f.restingStopsPlaced).toBeGreaterThan(0);
  });
});

describe('pinned days', () => {
  it.each(Object.entries(DAYS))('%s', async (_name, actions) => {
    const f = await runScenario(world, actions);
    expect(f.steps).toBeGreaterThanOrEqual(actions.length);
  });
});

describe('the checker can fail', () => {
  async function post(run: Run, order: Record<string, unknown>) {
    await fetch(`${world.sim.url}/v2/orders`, {
      method: 'POST',
      headers: {
        'APCA-API-KEY-ID': run.keyId,
        'APCA-API-SECRET-KEY': MODEL_SECRET,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ type: 'market', time_in_force: 'day', ...order }),
    });
  }

  /** An intent-free closing SELL of 1 with no long behind it: the checker must call it a short. */
  async function expectGhostSellFlagged(run: Run) {
    await post(run, {
      symbol: SYMBOLS[0],
      qty: '1',
      side: 'sell',
      client_order_id: `ops-${run.account}-x1-ghost`,
    });
    expect(() => run.checkInvariants()).toThrow(/short: closing order .* was taken as sell_to_open/);
  }

  it('flags an intent-free SELL with no long behind it (it opened a short)', async () => {
    const run = new Run(world);
    await expectGhostSellFlagged(run);
  });

  it('flags a SELL that opened a short even after a hand close, when the close was not in its flight', async () => {
    const run = new Run(world);
    world.sim.setPosition(run.keyId, SYMBOLS[0], 1, 2.0);
    await run.step({ t: 'outside', kind: 'closeByHand', symbol: 0 });
    expect(world.sim.positions(run.keyId)).toEqual([]);
    await expectGhostSellFlagged(run);
  });

  it('flags a closing order that carries a position_intent', async () => {
    const run = new Run(world);
    await post(run, {
      symbol: SYMBOLS[0],
      qty: '1',
      side: 'buy',
      position_intent: 'buy_to_close',
      client_order_id: `ops-${run.account}-x1-ghost`,
    });
    expect(() => run.checkInvariants()).toThrow(/intent: closing order .* carries position_intent/);
  });

  it('flags an order on the underlying ticker', async () => {
    const run = new Run(world);
    await post(run, { symbol: 'GOOGL', qty: '1', side: 'sell', client_order_id: `ops-${run.account}-x1-r1` });
    expect(() => run.checkInvariants()).toThrow(/closing order .* on GOOGL/);
  });

  it('flags shares the broker holds beyond what assignments and exercises delivered', async () => {
    const run = new Run(world);
    world.sim.setPosition(run.keyId, 'GOOGL', 100, 300);
    expect(() => run.checkInvariants()).toThrow(/broker holds 100 GOOGL shares; delivered: \+0 \/ -0/);
  });

  it('flags a table that disagrees with the broker after convergence', async () => {
    const run = new Run(world);
    world.sim.setPosition(run.keyId, SYMBOLS[1], 4, 1.5); // a position nobody recorded
    await expect(run.converge()).rejects.toThrow(
      new RegExp(`divergence: ${SYMBOLS[1]}\\|long: table tracks 0, broker holds 4`),
    );
  });
});

describe('soak finding (seed 20261201): a resumed claim refused by the kill switch while its slow POST was in flight', () => {
  it('is left to the sweep, which finds the order that landed: the table tracks what the broker holds', async () => {
    // The opening POST of a SELL 4 is slow (the broker acts after the client gave up); the redelivery's
    // lookup comes too early to see it, and the kill switch refuses the resumed claim. Closing that claim
    // `not_sent` left the 4 contracts the order then opened untracked (table 2 short, broker 6).
    await expect(runScenario(world, SOAK_20261201)).resolves.toBeDefined();
  }, 120_000);
});

describe('the liveness checker', () => {
  it('does not count an exit step that fired in the last sweep of the window (its order filled) as stuck', async () => {
    // Shrunk by the soak (seed 20261201): a 20-minute max hold fires in the third liveness sweep; the market
    // order fills at once and the next sweep learns it. Only a step with no order after every sweep is stuck.
    const actions: Action[] = [
      { t: 'recommend', symbol: 0, action: 'BUY', qty: 1, order: 'market', partial: false, maxHold: true },
      { t: 'deliver', container: 0, max: 1 },
      { t: 'tick', minutes: 2 },
      { t: 'tick', minutes: 15 },
    ];
    await expect(runScenario(world, actions)).resolves.toBeDefined();
  }, 120_000);
});

describe('the liveness checker judges exposure, on the final record', () => {
  // Soak seed 20261202 and two days the broker-stop work found (seed 2026; its first draw): a due stop
  // whose contracts the broker no longer holds (closed by hand, the stop then buying back another
  // position's contract) leaves a record waiting for reconcile's confirming read; a partly filled open
  // whose rest fills at another price moves its entry, so the stop judged on the older record is not due.
  const DAYS_FLAT: Record<string, Action[]> = {
    'everything closed by hand, then a short opened on the same contract': [
      { t: 'outside', kind: 'closeByHand', symbol: 0 },
      { t: 'outside', kind: 'closeByHand', symbol: 0 },
      { t: 'outside', kind: 'closeByHand', symbol: 0 },
      { t: 'price', symbol: 2, factor: 1.8 },
      { t: 'recommend', symbol: 2, action: 'SELL', qty: 1, order: 'market', partial: false, maxHold: false },
    ],
    'a resting SELL filled in part by hand, then the price x1.8': [
      {
        t: 'recommend',
        symbol: 2,
        action: 'SELL',
        qty: 3,
        order: 'restingLimit',
        partial: false,
        maxHold: false,
      },
      { t: 'deliver', container: 0, max: 1 },
      { t: 'fill', pick: 0, fraction: 0.3 },
      { t: 'sweep', concurrent: 1 },
      { t: 'price', symbol: 2, factor: 1.8 },
      { t: 'price', symbol: 1, factor: 0.5 },
    ],
    'flatten, a short opened on the same contract, a hand close': [
      { t: 'flatten', on: true },
      { t: 'sweep', concurrent: 1 },
      { t: 'recommend', symbol: 2, action: 'SELL', qty: 2, order: 'market', partial: false, maxHold: false },
      { t: 'deliverBoth', max: 1 },
      { t: 'price', symbol: 2, factor: 1.8 },
      { t: 'outside', kind: 'closeByHand', symbol: 0 },
      { t: 'sweep', concurrent: 1 },
      { t: 'recommend', symbol: 2, action: 'SELL', qty: 1, order: 'market', partial: false, maxHold: false },
      { t: 'fill', pick: 0, fraction: 0.3 },
    ],
  };
  it.each(Object.entries(DAYS_FLAT))(
    '%s',
    async (_name, actions) => {
      await expect(runScenario(world, actions)).resolves.toBeDefined();
    },
    120_000,
  );

  it('still flags a due stop the broker holds and no sweep could send (every order POST refused)', async () => {
    const run = new Run(world);
    try {
      for (const a of MORNING) await run.step(a);
      await run.step({ t: 'price', symbol: 0, factor: 0.5 });
      world.sim.injectFault({ method: 'POST', path: '/v2/orders', status: 503, times: 1000 });
      await (run as unknown as { checkLiveness(): Promise<void> }).checkLiveness();
      expect(() => run.checkInvariants()).toThrow(/liveness: position rec-1 .* had a protective exit due/);
    } finally {
      world.sim.clearFaults();
      run.finish();
    }
  }, 120_000);
});

describe('the checker: a BUY that closed a short, overtaken in flight by a hand close', () => {
  it('counts the long it leaves apart (the operator’s, alerted), not as a divergence', async () => {
    // Found by `npm test` (seed 1819607828): the short put's stop sends an intent-free BUY that is slow; the
    // short is closed by hand meanwhile and the BUY opens a long of 2. Only shorts were exempted before.
    const actions: Action[] = [
      { t: 'fault', kind: 'slowReply', target: 0, times: 1 },
      { t: 'price', symbol: 2, factor: 1.8 },
      { t: 'sweep', concurrent: 1 },
      { t: 'outside', kind: 'closeByHand', symbol: 2 },
      { t: 'killSwitch', enabled: false },
    ];
    // The hand close must land inside the 200 ms flight for the race to happen; on a loaded machine it may
    // not: then nothing is overtaken. Either way the day must hold every invariant.
    await expect(runScenario(world, actions)).resolves.toBeDefined();
  }, 120_000);
});

describe("the broker's own events (issue 16): assignment and expiry through the simulator's activities", () => {
  it('a short call assigned in the money and a long expiring: booked, the short shares bought back once', async () => {
    const run = new Run(world);
    try {
      const day: Action[] = [
        { t: 'recommend', symbol: 0, action: 'SELL', qty: 2, order: 'market', partial: false },
        { t: 'recommend', symbol: 1, action: 'BUY', qty: 3, order: 'market', partial: false },
        { t: 'deliver', container: 0, max: 10 },
        { t: 'sweep', concurrent: 1 },
        // The option holdings are [340 call short 2, 350 call long 3]: the first assigned, then the other expires.
        { t: 'outside', kind: 'assignShort', symbol: 0 },
        { t: 'outside', kind: 'expireContract', symbol: 0 },
        { t: 'sweep', concurrent: 2 },
        { t: 'sweep', concurrent: 1 },
      ];
      for (const a of day) await run.step(a);
      await run.converge();
      const types = world.sim.activities(run.keyId).map((a) => [a.activity_type, a.qty]);
      expect(types).toEqual([
        ['OPASN', '2'],
        ['OPTRD', '-200'],
        ['OPEXP', '-3'],
      ]);
      const shares = world.sim.orders(run.keyId).filter((o) => /-sh-/.test(String(o.client_order_id)));
      expect(shares.map((o) => [o.symbol, o.side, o.qty, o.status])).toEqual([
        ['GOOGL', 'buy', '200', 'filled'],
      ]);
      expect(world.sim.positions(run.keyId)).toEqual([]);
    } finally {
      run.finish();
    }
  });
});

describe('pinned from the soak (seed 20261203)', () => {
  it('a sell_to_open limit working beside a long on the same contract holds none of it: the long’s trailing stop still closes it', async () => {
    // The exit budget once counted every open order on the reducing side as holding the long's contracts,
    // an opening order included: the due trailing stop was blocked (close_blocked) sweep after sweep.
    const actions: Action[] = [
      { t: 'price', symbol: 1, factor: 0.5 },
      { t: 'outside', kind: 'closeByHand', symbol: 0 },
      { t: 'sweep', concurrent: 1 },
      { t: 'sweep', concurrent: 1 },
      {
        t: 'recommend',
        symbol: 2,
        action: 'BUY',
        qty: 1,
        order: 'restingLimit',
        partial: true,
        maxHold: false,
      },
      { t: 'recommend', symbol: 2, action: 'SELL', qty: 1, order: 'limit', partial: false, maxHold: true },
      { t: 'deliverBoth', max: 4 },
    ];
    const f = await runScenario(world, actions, { polling: { moves: [0.5, 1.3] }, brokerStop: 'stop' });
    expect(f.liveness).toBe(0);
  });
});

describe('found by the spread model (seed 20261129, a single-leg case): two resting stops on one contract, reduced by hand', () => {
  // Two single-leg records on one call (rec-4: 1, rec-5: 2), each with its stop resting at the broker
  // (broker_stop: stop); the broker's position is reduced by hand from 3 to 2. The sweep used to PATCH
  // rec-4's stop (qty 1, new stop price) while rec-5's stop still held 2 of the 2 contracts left: the broker
  // refused it 403 (insufficient qty), a replacement sent for contracts the broker did not confirm available.
  // Fixed in protective-stops.ts: replacements that shrink a stop go first, before the others.
  it('no replacement is refused for insufficient qty', async () => {
    const actions: Action[] = [
      { t: 'recommend', symbol: 0, action: 'BUY', qty: 1, order: 'market', partial: false, maxHold: false },
      { t: 'sweep', concurrent: 1 },
      { t: 'sweep', concurrent: 1 },
      { t: 'recommend', symbol: 0, action: 'BUY', qty: 2, order: 'market', partial: false, maxHold: false },
      { t: 'deliverBoth', max: 6 },
      { t: 'sweep', concurrent: 1 },
      { t: 'outside', kind: 'reduceByHand', symbol: 2 },
      { t: 'sweep', concurrent: 1 },
    ];
    await runScenario(world, actions, { polling: { moves: [1.3] }, brokerStop: 'stop' });
  });
});

describe('spreads in the model', () => {
  const CALL_LONG = SPREAD_STRUCTURES[0]!.legs[0]!.symbol;
  const CALL_SHORT = SPREAD_STRUCTURES[0]!.legs[1]!.symbol;
  const SPREAD_DAYS: Record<string, Action[]> = {
    // A credit spread's stop is a share of its maximum loss (9.50 here), its take profit of its credit.
    'a debit call vertical stopped out on its net value, a credit put vertical taken profit': [
      { t: 'recommendSpread', structure: 0, qty: 2, order: 'market' },
      { t: 'recommendSpread', structure: 1, qty: 3, order: 'limit' },
      { t: 'deliver', container: 0, max: 10 },
      { t: 'sweep', concurrent: 1 },
      { t: 'spreadPrice', structure: 0, factor: 0.4 },
      { t: 'spreadPrice', structure: 1, factor: 1.6 },
      { t: 'sweep', concurrent: 2 },
      { t: 'sweep', concurrent: 1 },
    ],
    "an iron condor's short put assigned early (one of two), then its long call sold off alone by the broker":
      [
        { t: 'recommendSpread', structure: 2, qty: 2, order: 'market' },
        { t: 'deliver', container: 1, max: 10 },
        { t: 'sweep', concurrent: 1 },
        { t: 'spreadOutside', kind: 'assignShortLeg', structure: 2, leg: 0, qty: 1 },
        { t: 'spreadOutside', kind: 'sellOffLeg', structure: 2, leg: 3, qty: 0 },
        { t: 'sweep', concurrent: 1 },
        { t: 'sweep', concurrent: 2 },
        { t: 'sweep', concurrent: 1 },
        { t: 'sweep', concurrent: 1 },
      ],
    "a vertical's short leg closed by hand while its close limit rests, faults on the order POSTs": [
      { t: 'recommendSpread', structure: 0, qty: 3, order: 'market' },
      { t: 'deliver', container: 0, max: 10 },
      { t: 'sweep', concurrent: 1 },
      { t: 'fillMode', manual: true },
      { t: 'spreadPrice', structure: 0, factor: 2.2 },
      { t: 'fault', kind: 'http500AfterAction', target: 0, times: 1 },
      { t: 'sweep', concurrent: 1 },
      { t: 'spreadOutside', kind: 'closeLegByHand', structure: 0, leg: 1, qty: 1 },
      { t: 'fillMode', manual: false },
      { t: 'sweep', concurrent: 3 },
      { t: 'sweep', concurrent: 1 },
    ],
  };
  it.each(Object.entries(SPREAD_DAYS))('%s', async (_name, actions) => {
    const f = await runScenario(world, actions);
    expect(f.spreadsOpened).toBeGreaterThan(0);
    expect([f.spreadUnintendedPosition, f.nakedShortByPipeline, f.spreadNotFlat]).toEqual([0, 0, 0]);
  });

  it('the pinned days exercise an exit, an assignment, a sell-off and an unwind', async () => {
    const f = await runScenario(world, Object.values(SPREAD_DAYS)[0]!);
    expect(f.spreadsClosedByExit).toBe(2);
    expect(f.spreadClosingOrders).toBeGreaterThanOrEqual(2);
    const g = await runScenario(world, Object.values(SPREAD_DAYS)[1]!);
    expect(g.spreadOutside).toMatchObject({ assignShortLeg: 1, sellOffLeg: 1 });
    expect(g.spreadsUnwound + g.spreadsClosedOtherwise).toBe(1);
  });

  /** A run with a debit call vertical of 2 open and learnt (spread `sp-1`). */
  async function openVertical(): Promise<Run> {
    const run = new Run(world);
    for (const a of [
      { t: 'recommendSpread', structure: 0, qty: 2, order: 'market' },
      { t: 'deliver', container: 0, max: 10 },
      { t: 'sweep', concurrent: 1 },
    ] as Action[])
      await run.step(a);
    expect(world.sim.positions(run.keyId).map((p) => [p.symbol, Number(p.qty)])).toEqual([
      [CALL_LONG, 2],
      [CALL_SHORT, -2],
    ]);
    return run;
  }

  it('the checker flags a position on the side opposite a leg (spreadUnintendedPosition)', async () => {
    const run = await openVertical();
    world.sim.setPosition(run.keyId, CALL_SHORT, 1, 1.5);
    await expect(run.checkSpreadInvariants()).rejects.toThrow(
      /spreadUnintendedPosition: the broker holds 1 .* a short leg's contract/,
    );
  });

  it('the checker flags a leg held beyond what the live spreads expect (spreadUnintendedPosition)', async () => {
    const run = await openVertical();
    world.sim.setPosition(run.keyId, CALL_LONG, 3, 3.0);
    await expect(run.checkSpreadInvariants()).rejects.toThrow(
      /spreadUnintendedPosition: the broker holds 3 .* the live spreads' legs expect 2/,
    );
  });

  it('the checker flags a pipeline order selling the long leg while the short is held (nakedShortByPipeline)', async () => {
    const run = await openVertical();
    const broker = (run as unknown as { broker: AlpacaAdapter }).broker;
    await broker.submitOrder({
      symbol: CALL_LONG,
      qty: 2,
      side: 'sell',
      type: 'market',
      time_in_force: 'day',
      client_order_id: `ops-${run.account}-x1l0-sp-1`,
    });
    expect(() => run.checkInvariants()).toThrow(
      /nakedShortByPipeline: .* would leave 2 short contracts of spread sp-1 uncovered \(0 now\)/,
    );
  });

  it('the checker flags a spread closed by an exit whose legs still hold (spreadNotFlat)', async () => {
    const run = await openVertical();
    const positions = new DynamoPositionStore(world.dynamo.client, world.tableName);
    const spreads = new DynamoSpreadStore(world.dynamo.client, world.tableName, positions);
    const sp = (await spreads.getSpread(run.account, 'sp-1'))!;
    await spreads.replaceSpread(sp, {
      ...sp,
      state: 'closed',
      close_reason: 'take_profit',
      closed_at: world.now().toISOString(),
    });
    await expect(run.checkSpreadInvariants()).rejects.toThrow(
      /spreadNotFlat: spread sp-1 closed \(take_profit\): leg .* books 2 \(shares 0\), the broker holds 2/,
    );
  });
});
