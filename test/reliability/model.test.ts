/**
 * Issue 6, bounded: the reliability model (model.ts) for a few hundred random days through the real
 * handlers, dynalite and the Alpaca simulator. `npm run soak` runs the same model for much longer.
 * Override with MODEL_RUNS / MODEL_MAX_COMMANDS / MODEL_SEED (fixed by default; the soak draws random seeds).
 */
import { checkModel, formatFigures, startWorld, type World } from './model';

// 80 days in `npm test` (a fixed seed, every fault kind and outside event covered); `npm run soak` runs thousands.
const RUNS = Number(process.env.MODEL_RUNS ?? 80);
const MAX_COMMANDS = Number(process.env.MODEL_MAX_COMMANDS ?? 25);
// A fixed seed by default: `npm test` checks the same days on every run, so a failure is this change's, not
// the luck of the draw. `npm run soak` (random seeds) explores; what it finds is pinned in regressions.test.ts.
// 20261130 since spreads joined the days (20261129's days found a single-leg bug, now fixed and pinned in
// regressions.test.ts: "two resting stops on one contract, reduced by hand").
const SEED = process.env.MODEL_SEED ? Number(process.env.MODEL_SEED) : 20261130;

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.close();
});

it(`holds every invariant over ${RUNS} random days of up to ${MAX_COMMANDS} steps`, async () => {
  const started = Date.now();
  await checkModel(world, { numRuns: RUNS, maxCommands: MAX_COMMANDS, seed: SEED });
  const f = world.figures;
  if (process.env.MODEL_PRINT) console.log(formatFigures(f, Date.now() - started));
  expect(f.runs).toBeGreaterThanOrEqual(RUNS);
  expect(f.steps).toBeGreaterThan(RUNS * 3);
  expect({
    duplicates: f.duplicates,
    oversells: f.oversells,
    unintendedShorts: f.unintendedShorts,
    intentViolations: f.intentViolations,
    lost: f.lost,
    divergences: f.divergences,
    liveness: f.liveness,
    holdingMismatches: f.holdingMismatches,
    realizedMismatches: f.realizedMismatches,
    reportsNotIdempotent: f.reportsNotIdempotent,
    dayPnlMismatches: f.dayPnlMismatches,
    spreadUnintendedPosition: f.spreadUnintendedPosition,
    nakedShortByPipeline: f.nakedShortByPipeline,
    spreadNotFlat: f.spreadNotFlat,
  }).toEqual({
    duplicates: 0,
    oversells: 0,
    unintendedShorts: 0,
    intentViolations: 0,
    lost: 0,
    divergences: 0,
    liveness: 0,
    holdingMismatches: 0,
    realizedMismatches: 0,
    reportsNotIdempotent: 0,
    dayPnlMismatches: 0,
    spreadUnintendedPosition: 0,
    nakedShortByPipeline: 0,
    spreadNotFlat: 0,
  });
  // Spreads were part of the days: opened as one mleg order, closed by an exit rule on the net value (one
  // mleg close), a short leg assigned early, one leg sold off alone by the broker, orphans unwound leg by
  // leg, and every pipeline order on their contracts checked for uncovering a short as it left.
  expect(f.spreadsOpened).toBeGreaterThan(0);
  expect(f.spreadsClosedByExit).toBeGreaterThan(0);
  expect(f.spreadClosingOrders).toBeGreaterThan(0);
  expect(f.spreadOutside.assignShortLeg).toBeGreaterThan(0);
  expect(f.spreadOutside.sellOffLeg).toBeGreaterThan(0);
  expect(f.spreadOutside.closeLegByHand).toBeGreaterThan(0);
  expect(f.spreadsUnwound).toBeGreaterThan(0);
  expect(f.spreadLegOrders).toBeGreaterThan(0);
  expect(f.spreadCoverChecks).toBeGreaterThan(0);
  // Polls acted on a spread's net value between full passes (one mleg close sent by a poll).
  expect(f.pollSpreadCloses).toBeGreaterThan(0);
  // The books were checked on real ledgers (issue 23): fills in parts, option events, reports applied again.
  expect(f.books.booksRecords).toBeGreaterThan(0);
  expect(f.books.holdingChecks).toBeGreaterThan(0);
  expect(f.books.reportsReapplied).toBeGreaterThan(0);
  expect(f.books.ledgerFills).toBeGreaterThan(0);
  expect(f.books.ledgerPartialFills).toBeGreaterThan(0);
  expect(f.books.ledgerOptionEvents).toBeGreaterThan(0);
  expect(f.books.dayTotalChecks).toBeGreaterThan(0);
  // The model really exercised what it claims to.
  expect(f.openingOrders).toBeGreaterThan(0);
  expect(f.closingOrders).toBeGreaterThan(0);
  // Stops resting at the broker (issue 14) were part of the days: placed, and replaced as prices moved.
  expect(f.brokerStopRuns).toBeGreaterThan(0);
  expect(f.restingStopsPlaced).toBeGreaterThan(0);
  expect(Object.values(f.faults).every((n) => n > 0)).toBe(true);
  // Assignments and expiries went through the simulator's activities, and delivered shares were flattened.
  expect(f.optionEvents).toBeGreaterThan(0);
  expect(f.sharesOrders).toBeGreaterThan(0);
  // Liveness was checked on real cases: stops due when the faults ended, and the model's clock moved.
  expect(f.dueAtFaultEnd).toBeGreaterThan(0);
  expect(f.clockTicks).toBeGreaterThan(0);
  // Polling (issue 15) ran in some of the days, and polls sent closing orders.
  expect(f.pollingRuns).toBeGreaterThan(0);
  expect(f.polls).toBeGreaterThan(0);
  expect(f.pollClosingOrders).toBeGreaterThan(0);
}, 600_000);
