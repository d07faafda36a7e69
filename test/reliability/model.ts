/**
 * The reliability model (issue 6): random production days driven through the REAL handlers
 * (`createOpenOrderHandler` / `createExitEvaluatorHandler` with `overrides.deps`) against dynalite and the
 * Alpaca simulator over HTTP, with the invariants checked after every step.
 *
 * Shared by `model.test.ts` (bounded, part of `npm test`), `regressions.test.ts` (shrunk counter-examples
 * replayed as plain tests) and `scripts/soak.ts` (long runs, prints the figures).
 *
 * One simulator and one dynalite serve every run: each run gets a fresh account name (so a fresh key space
 * in the table and fresh client_order_ids) and `sim.reset()`.
 */
import './quiet';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { parseOcc, startAlpacaSim, type AlpacaSim } from '../../local/alpaca-sim';
import { createPositionsTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { AlpacaAdapter } from '../../shared/adapters/alpaca';
import { DynamoPositionStore } from '../../shared/adapters/dynamo-position-store';
import { BrokerRateLimiter } from '../../shared/adapters/rate-limiter';
import { createExitEvaluatorHandler } from '../../shared/handlers/exit-evaluator';
import { createOpenOrderHandler, type OpenOrderHandler } from '../../shared/handlers/open-order';
import { PipelineError } from '../../shared/domain/errors';
import { parseAccountConfig, type AccountConfig } from '../../shared/domain/account-config';
import { evaluateExit } from '../../shared/domain/exit-rules';
import { addDays, newYorkTime } from '../../shared/domain/market-time';
import { isTradingDay } from '../../shared/domain/trading-calendar';
import type { ExitReason, Position } from '../../shared/domain/position';
import type { Log } from '../../shared/observability';
import { POLL_END_MARGIN_MS } from '../../shared/use-cases/sweep/poll';
import type { PipelineDeps } from '../../shared/wiring';
import { toBrokerActivity } from '../../shared/adapters/alpaca-activities';
import type { BrokerActivity, BrokerOrder } from '../../shared/domain/broker-types';
import type { AccountingViolation } from '../../shared/domain/ledger-invariants';
import { contractFor, FAR_DAYS, RELIABILITY_CONTRACTS } from '../helpers/contracts';
import { DynamoSpreadStore } from '../../shared/adapters/dynamo-spread-store';
import {
  legAsPosition,
  legOrderView,
  legProjection,
  spreadBooks,
  type SpreadPosition,
} from '../../shared/domain/spread-position';
import { uncoveredShorts } from '../../shared/domain/spread-close';
import { checkBooksAndCount, checkDayTotal, emptyBooksFigures, type BooksFigures } from './books';
import type { DayPnl } from '../../shared/domain/daily-loss';

/** The contracts of the model. SELL recommendations only use the put (shorts are opened only there). */
export const SYMBOLS = RELIABILITY_CONTRACTS;
/** The contracts' underlying, and its price (the 340 call expires in the money, the others out of it). */
const UNDERLYING = 'GOOGL';
const UNDERLYING_PRICE = 345;
const PUT_INDEX = 2;
const START_MID = [2.0, 1.5, 3.0];
export const MODEL_SECRET = 'model-secret';

/**
 * The spreads' contracts: the 340/350 calls and a few puts and wings, on their own expiry (a week after the
 * single legs'), so a spread leg and a single-leg record never share a contract (the pipeline refuses that,
 * `contract_in_use`). Each contract is always held on one side: `long` or `short` below.
 */
const SPREAD_DAYS = FAR_DAYS + 7;
const spreadContract = (type: 'C' | 'P', strike: number) => contractFor('GOOGL', SPREAD_DAYS, type, strike);
/** A spread structure of the model: its legs (contract, side) and its start mids. */
interface SpreadStructure {
  readonly name: string;
  readonly legs: ReadonlyArray<{
    readonly symbol: string;
    readonly side: 'buy' | 'sell';
    readonly mid: number;
  }>;
}
export const SPREAD_STRUCTURES: readonly SpreadStructure[] = [
  {
    name: 'callDebitVertical',
    legs: [
      { symbol: spreadContract('C', 340), side: 'buy', mid: 3.0 },
      { symbol: spreadContract('C', 350), side: 'sell', mid: 1.5 },
    ],
  },
  {
    name: 'putCreditVertical',
    legs: [
      { symbol: spreadContract('P', 330), side: 'sell', mid: 1.4 },
      { symbol: spreadContract('P', 320), side: 'buy', mid: 0.8 },
    ],
  },
  {
    name: 'ironCondor',
    legs: [
      { symbol: spreadContract('P', 325), side: 'buy', mid: 1.0 },
      { symbol: spreadContract('P', 335), side: 'sell', mid: 1.7 },
      { symbol: spreadContract('C', 355), side: 'sell', mid: 1.1 },
      { symbol: spreadContract('C', 365), side: 'buy', mid: 0.6 },
    ],
  },
];
/** Every spread contract, and the side its leg holds (one side per contract, whatever the structure). */
export const SPREAD_SIDE: ReadonlyMap<string, 'long' | 'short'> = new Map(
  SPREAD_STRUCTURES.flatMap((st) =>
    st.legs.map((l) => [l.symbol, l.side === 'buy' ? 'long' : 'short'] as const),
  ),
);
const SPREAD_START_MID: ReadonlyMap<string, number> = new Map(
  SPREAD_STRUCTURES.flatMap((st) => st.legs.map((l) => [l.symbol, l.mid] as const)),
);
/** Every contract the model quotes: the single legs' and the spreads'. */
const QUOTED: readonly string[] = [...RELIABILITY_CONTRACTS, ...SPREAD_SIDE.keys()];
/** Close reasons of a spread the pipeline closed itself (flat on every leg when it says so). */
const SPREAD_PIPELINE_CLOSES: ReadonlySet<string> = new Set([
  'stop_loss',
  'take_profit',
  'max_hold',
  'expiry',
  'time_rule',
  'flatten',
  'orphan_unwind',
]);
/** Client order ids of changes made outside the pipeline through the simulator's HTTP API. */
const OUTSIDE_CID = /^(alpaca-liquidation|by-hand)-/;
/** Things done outside the pipeline to a spread's legs. */
export const SPREAD_OUTSIDE_KINDS = ['assignShortLeg', 'sellOffLeg', 'closeLegByHand'] as const;
/** Same value as the stack's RECOMMENDATIONS_MAX_RECEIVE_COUNT: receives before SQS moves a message to the DLQ. */
export const MAX_RECEIVE_COUNT = 3;
/** The max-hold rule some recommendations carry (minutes of the model's clock). */
const MAX_HOLD_MINUTES = 20;
/** Each step takes this long on the model's clock (so timestamps move on); a `tick` takes longer. */
const STEP_MS = 1_000;
/** The books' findings a world keeps for the soak to print. */
export const MAX_FINDINGS = 20;
/** Sweeps after the last fault within which every due stop must be flat (liveness, rule 7). */
export const LIVENESS_SWEEPS = 3;
/** A `tick` never moves the model's day past this New York minute (15:40): the session stays open. */
const LAST_TICK_MINUTE = 15 * 60 + 40;
/** Exit reasons that protect a position (the liveness invariant's "due stop, expiry or time rule"). */
const PROTECTIVE: ReadonlySet<ExitReason> = new Set([
  'stop_loss',
  'trailing_stop',
  'breakeven',
  'max_hold',
  'expiry',
  'time_rule',
]);
/** The model's adapter gives up on a reply after this long ("slow replies past the timeout"). */
const CLIENT_TIMEOUT_MS = 120;
/** A polling run's account polls every this many seconds, in a window this long after each full pass. */
const POLL_SECONDS = 10;
const POLL_WINDOW_MS = 25_000;
const SLOW_REPLY_MS = 200;

// ------------------------------------------------------------------------------------------------ actions

/** Broker fault kinds the model injects. */
export const FAULT_KINDS = ['http429', 'http5xx', 'http500AfterAction', 'lostReply', 'slowReply'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** Broker endpoints faults are aimed at. */
export const FAULT_TARGETS = [
  { method: 'POST', path: '/v2/orders' },
  { method: 'GET', path: '/v2/orders:by_client_order_id' },
  { method: 'GET', path: '/v2/positions' },
  { method: 'GET', path: '/v2/orders' },
  { method: 'GET', path: '/v2/account' },
  { method: 'GET', path: '/v2/clock' },
  { method: 'GET', path: '/v1beta1/options/snapshots' },
  { method: 'GET', path: '/v2/account/activities' },
  // Replacing and cancelling working orders (resting stops, repriced exits, timed-out opens).
  { method: 'PATCH', path: /^\/v2\/orders\/[^/:]+$/ },
  { method: 'DELETE', path: /^\/v2\/orders\/[^/:]+$/ },
] as const;

/** Things done outside the pipeline. */
export const OUTSIDE_KINDS = ['closeByHand', 'reduceByHand', 'expireContract', 'assignShort'] as const;

/** One step of a production day. Plain data, so a shrunk counter-example can be pasted into a test. */
export type Action =
  | {
      readonly t: 'recommend';
      readonly symbol: number;
      readonly action: 'BUY' | 'SELL';
      readonly qty: number;
      /** market, marketable limit (at the ask/bid), or a limit that rests. */
      readonly order: 'market' | 'limit' | 'restingLimit';
      readonly partial: boolean;
      /** Adds a max-hold rule (20 minutes of the model's clock) to the exit plan. */
      readonly maxHold?: boolean;
    }
  | { readonly t: 'duplicate'; readonly pick: number }
  /** The model's clock moves on (quotes are re-stamped: a market that keeps quoting). */
  | { readonly t: 'tick'; readonly minutes: number }
  | { readonly t: 'invalid'; readonly kind: number }
  | { readonly t: 'deliver'; readonly container: 0 | 1; readonly max: number }
  | { readonly t: 'deliverBoth'; readonly max: number }
  | { readonly t: 'sweep'; readonly concurrent: number }
  | { readonly t: 'price'; readonly symbol: number; readonly factor: number }
  | { readonly t: 'fillMode'; readonly manual: boolean }
  | { readonly t: 'fill'; readonly pick: number; readonly fraction: number }
  | { readonly t: 'expireOrder'; readonly pick: number }
  | { readonly t: 'fault'; readonly kind: FaultKind; readonly target: number; readonly times: number }
  | { readonly t: 'outside'; readonly kind: (typeof OUTSIDE_KINDS)[number]; readonly symbol: number }
  | { readonly t: 'killSwitch'; readonly enabled: boolean }
  | { readonly t: 'flatten'; readonly on: boolean }
  /** A spread recommendation (named legs, one of {@link SPREAD_STRUCTURES}), market or limit at the net. */
  | {
      readonly t: 'recommendSpread';
      readonly structure: number;
      readonly qty: number;
      readonly order: 'market' | 'limit' | 'restingLimit';
      readonly maxHold?: boolean;
    }
  /** A spread's long legs' mids times `factor`, its short legs' over it: its net value moves (TP / SL). */
  | { readonly t: 'spreadPrice'; readonly structure: number; readonly factor: number }
  /**
   * Outside events on one leg of a spread the broker holds: an early assignment of a short leg (`qty` of
   * it, 0 = all), Alpaca's sell-off of one leg (an intent-free order of the broker's own), a close by hand.
   */
  | {
      readonly t: 'spreadOutside';
      readonly kind: (typeof SPREAD_OUTSIDE_KINDS)[number];
      readonly structure: number;
      readonly leg: number;
      readonly qty: number;
    };

/** Invalid bodies the model mixes in (the full hostile corpus is bad-input.test.ts). */
const INVALID_BODIES: Array<(id: string) => string> = [
  () => '',
  () => '{"recommendation_id": ',
  (id) => JSON.stringify({ ...validRecommendation(id, 0, 'BUY', 1, 'market', false), num_contracts: -2 }),
  (id) => JSON.stringify({ ...validRecommendation(id, 0, 'BUY', 1, 'market', false), num_contracts: 1.5 }),
  (id) =>
    JSON.stringify({ ...validRecommendation(id, 0, 'BUY', 1, 'market', false), option_symbol: 'GOOGL' }),
  (id) =>
    JSON.stringify({
      ...validRecommendation(id, 0, 'BUY', 1, 'market', false),
      option_symbol: 'GOOGL200117C00340000',
    }),
  (id) => JSON.stringify({ ...validRecommendation(id, 0, 'BUY', 1, 'market', false), extra: true }),
  // A closing intent smuggled in as the action.
  (id) =>
    JSON.stringify({ ...validRecommendation(id, 0, 'BUY', 1, 'market', false), action: 'SELL_TO_CLOSE' }),
];

/** The arbitrary of one action, weighted towards what a day is made of. */
export function actionArbitrary(): fc.Arbitrary<Action> {
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record({
          symbol: fc.integer({ min: 0, max: SYMBOLS.length - 1 }),
          sell: fc.boolean(),
          qty: fc.integer({ min: 1, max: 5 }),
          order: fc.constantFrom('market', 'market', 'limit', 'restingLimit'),
          partial: fc.boolean(),
          maxHold: fc.boolean(),
        })
        .map(({ symbol, sell, qty, order, partial, maxHold }): Action => ({
          t: 'recommend',
          symbol: sell ? PUT_INDEX : symbol,
          action: sell ? 'SELL' : 'BUY',
          qty,
          order: order as 'market' | 'limit' | 'restingLimit',
          partial,
          maxHold,
        })),
    },
    { weight: 2, arbitrary: fc.constantFrom(1, 2, 5, 15).map((minutes): Action => ({ t: 'tick', minutes })) },
    { weight: 2, arbitrary: fc.nat({ max: 20 }).map((pick): Action => ({ t: 'duplicate', pick })) },
    {
      weight: 1,
      arbitrary: fc.nat({ max: INVALID_BODIES.length - 1 }).map((kind): Action => ({ t: 'invalid', kind })),
    },
    {
      weight: 6,
      arbitrary: fc
        .record({ container: fc.constantFrom<0 | 1>(0, 1), max: fc.integer({ min: 1, max: 10 }) })
        .map((a): Action => ({ t: 'deliver', ...a })),
    },
    {
      weight: 2,
      arbitrary: fc.integer({ min: 1, max: 10 }).map((max): Action => ({ t: 'deliverBoth', max })),
    },
    {
      weight: 6,
      arbitrary: fc.constantFrom(1, 1, 1, 2, 3).map((concurrent): Action => ({ t: 'sweep', concurrent })),
    },
    {
      weight: 5,
      arbitrary: fc
        .record({
          symbol: fc.integer({ min: 0, max: SYMBOLS.length - 1 }),
          factor: fc.constantFrom(0.5, 0.7, 0.85, 0.95, 1.05, 1.2, 1.4, 1.8),
        })
        .map((a): Action => ({ t: 'price', ...a })),
    },
    { weight: 1, arbitrary: fc.boolean().map((manual): Action => ({ t: 'fillMode', manual })) },
    {
      weight: 2,
      arbitrary: fc
        .record({ pick: fc.nat({ max: 20 }), fraction: fc.constantFrom(0.3, 0.5, 1) })
        .map((a): Action => ({ t: 'fill', ...a })),
    },
    { weight: 1, arbitrary: fc.nat({ max: 20 }).map((pick): Action => ({ t: 'expireOrder', pick })) },
    {
      weight: 5,
      arbitrary: fc
        .record({
          kind: fc.constantFrom(...FAULT_KINDS),
          target: fc.integer({ min: 0, max: FAULT_TARGETS.length - 1 }),
          times: fc.integer({ min: 1, max: 3 }),
        })
        .map((a): Action => ({ t: 'fault', ...a })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          kind: fc.constantFrom(...OUTSIDE_KINDS),
          symbol: fc.integer({ min: 0, max: SYMBOLS.length - 1 }),
        })
        .map((a): Action => ({ t: 'outside', ...a })),
    },
    { weight: 1, arbitrary: fc.boolean().map((enabled): Action => ({ t: 'killSwitch', enabled })) },
    { weight: 1, arbitrary: fc.boolean().map((on): Action => ({ t: 'flatten', on })) },
    {
      weight: 3,
      arbitrary: fc
        .record({
          structure: fc.integer({ min: 0, max: SPREAD_STRUCTURES.length - 1 }),
          qty: fc.integer({ min: 1, max: 4 }),
          order: fc.constantFrom('market', 'market', 'limit', 'restingLimit'),
          maxHold: fc.boolean(),
        })
        .map(({ structure, qty, order, maxHold }): Action => ({
          t: 'recommendSpread',
          structure,
          qty,
          order: order as 'market' | 'limit' | 'restingLimit',
          maxHold,
        })),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({
          structure: fc.integer({ min: 0, max: SPREAD_STRUCTURES.length - 1 }),
          factor: fc.constantFrom(0.4, 0.6, 0.8, 1.25, 1.6, 2.2),
        })
        .map((a): Action => ({ t: 'spreadPrice', ...a })),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({
          kind: fc.constantFrom(...SPREAD_OUTSIDE_KINDS),
          structure: fc.integer({ min: 0, max: SPREAD_STRUCTURES.length - 1 }),
          leg: fc.nat({ max: 3 }),
          qty: fc.constantFrom(0, 0, 1),
        })
        .map((a): Action => ({ t: 'spreadOutside', ...a })),
    },
  );
}

/** The body of a spread recommendation on structure `st` (named legs; exit rules on the net value). */
function spreadRecommendation(
  id: string,
  st: SpreadStructure,
  qty: number,
  order: 'market' | 'limit',
  limitPrice: number | undefined,
  maxHold: boolean,
): Record<string, unknown> {
  return {
    recommendation_id: id,
    ticker: 'GOOGL',
    legs: st.legs.map((l) => ({ option_symbol: l.symbol, side: l.side, ratio_qty: 1 })),
    num_contracts: qty,
    order_type: order,
    ...(order === 'limit' ? { limit_price: limitPrice } : {}),
    exit_plan: {
      stop_loss_pct: 0.5,
      take_profit_pct: 0.5,
      ...(maxHold ? { max_hold_minutes: MAX_HOLD_MINUTES } : {}),
    },
  };
}

function validRecommendation(
  id: string,
  symbol: number,
  action: 'BUY' | 'SELL',
  qty: number,
  order: 'market' | 'limit',
  partial: boolean,
  limitPrice?: number,
  maxHold = false,
): Record<string, unknown> {
  return {
    recommendation_id: id,
    ticker: 'GOOGL',
    option_symbol: SYMBOLS[symbol],
    action,
    num_contracts: qty,
    order_type: order,
    limit_price: order === 'limit' ? limitPrice : null,
    exit_plan: {
      stop_loss_pct: 0.25,
      take_profit_pct: 0.6,
      trailing_stop_pct: 0.2,
      ...(partial ? { partial_exits: [{ gain_pct: 0.15, fraction: 0.5 }] } : {}),
      ...(maxHold ? { max_hold_minutes: MAX_HOLD_MINUTES } : {}),
    },
  };
}

// ------------------------------------------------------------------------------------------------ figures

/** What the model tried and what held, accumulated over runs. */
export class Figures {
  runs = 0;
  steps = 0;
  invariantChecks = 0;
  faults: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0]));
  faultsByTarget: Record<string, number> = {};
  outside: Record<string, number> = Object.fromEntries(OUTSIDE_KINDS.map((k) => [k, 0]));
  actions: Record<string, number> = {};
  recommendations = 0;
  duplicatesDelivered = 0;
  invalidMessages = 0;
  concurrentSweeps = 0;
  failedSweeps = 0;
  openingOrders = 0;
  closingOrders = 0;
  partialFills = 0;
  brokerDedupedResends = 0;
  /** Closing orders a hand close overtook while they were in flight (see racedByHand). */
  closesRacedByHand = 0;
  /** Runs whose account kept stops at the broker (`broker_stop` stop / stop_limit), and those stops. */
  brokerStopRuns = 0;
  restingStopsPlaced = 0;
  restingStopReplacements = 0;
  deadLettered = 0;
  rejectionsRecorded = 0;
  /** Assignments, exercises and expiries the simulator booked (OPASN, OPEXC, OPEXP activities). */
  optionEvents = 0;
  /** Orders flattening delivered shares the broker accepted. */
  sharesOrders = 0;
  /** Spreads: recommended, opened (a fill learnt), closed by an exit rule / by the orphan unwind / otherwise. */
  spreadRecommendations = 0;
  spreadsOpened = 0;
  spreadsClosedByExit = 0;
  spreadsUnwound = 0;
  spreadsClosedOtherwise = 0;
  /** Spread mleg orders the broker accepted: opening / closing; single-leg unwind steps; shares orders. */
  spreadOpeningOrders = 0;
  spreadClosingOrders = 0;
  spreadLegOrders = 0;
  /** Outside events on spreads' legs. */
  spreadOutside: Record<string, number> = Object.fromEntries(SPREAD_OUTSIDE_KINDS.map((k) => [k, 0]));
  /** Pipeline closes on spread contracts whose effect on uncovered shorts was checked as they left. */
  spreadCoverChecks = 0;
  // Violations: every one must stay 0.
  duplicates = 0;
  oversells = 0;
  /** Closing resends that left after their first copy had landed: refused by the broker as duplicate ids. */
  resendsOfLandedIds = 0;
  unintendedShorts = 0;
  intentViolations = 0;
  lost = 0;
  divergences = 0;
  /** Positions whose protective exit was due when the last fault ended (liveness checked on each). */
  dueAtFaultEnd = 0;
  clockTicks = 0;
  /** Records that waited for option events at convergence (issue 26 item 3): the clock moved a day for them. */
  optionEventWaits = 0;
  liveness = 0;
  /** Runs whose account polls the price rules (sweep_poll_seconds), the polls made, and their closing orders. */
  pollingRuns = 0;
  polls = 0;
  pollClosingOrders = 0;
  /** Of those, spread closes (mleg). */
  pollSpreadCloses = 0;
  /**
   * The books at rest (issue 23; see books.ts): what was checked and what the records' ledgers booked,
   * and the day P&L identity (the last sweep's day P&L against the records' fills and marks).
   */
  books: BooksFigures = emptyBooksFigures();
  // Accounting violations: every one must stay 0.
  /** A contract and side whose live records' ledgers hold another quantity than the broker (or a closed record holding some). */
  holdingMismatches = 0;
  /** A record whose stored realized P&L, fees or quantity differ from its ledger's, or whose ledger does not add up. */
  realizedMismatches = 0;
  /** A broker report that, applied a second time, changed the ledger. */
  reportsNotIdempotent = 0;
  /** A day P&L the sweep reported that differs from the day's fills plus the marks' change. */
  dayPnlMismatches = 0;
  // Spread violations: every one must stay 0.
  /** A position on a spread contract no live spread record expects (more than its legs, or the other side). */
  spreadUnintendedPosition = 0;
  /** A pipeline order that would leave (more of) a spread's short legs uncovered. */
  nakedShortByPipeline = 0;
  /** A spread the pipeline closed that is not flat on every leg (broker or ledgers), or keeps delivered shares. */
  spreadNotFlat = 0;

  merge(o: Figures): void {
    for (const [k, v] of Object.entries(o) as Array<[keyof Figures, unknown]>) {
      if (typeof v === 'number') (this as unknown as Record<string, number>)[k] += v;
      else if (v && typeof v === 'object') {
        const mine = (this as unknown as Record<string, Record<string, number>>)[k];
        for (const [kk, vv] of Object.entries(v as Record<string, number>)) mine[kk] = (mine[kk] ?? 0) + vv;
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------ world

/** The servers shared by every run of a test file. */
export interface World {
  readonly sim: AlpacaSim;
  readonly dynamo: LocalDynamo;
  readonly tableName: string;
  readonly figures: Figures;
  /** What the counted (not violating) comparisons of the books saw, the first {@link MAX_FINDINGS}. */
  readonly findings: string[];
  /** The model's clock: handlers, use cases and the simulator all read it (a seed replays the same day). */
  readonly clock: { ms: number };
  readonly now: () => Date;
  runCounter: number;
  close(): Promise<void>;
}

/** Starts one simulator (no built-in rate limit: the model injects its own 429s) and one dynalite. */
export async function startWorld(): Promise<World> {
  const clock = { ms: modelDayStart() };
  const now = () => new Date(clock.ms);
  const sim = await startAlpacaSim({ rateLimitPerMinute: null, now });
  const dynamo = await startLocalDynamo();
  const tableName = `reliability-${process.pid}`;
  await createPositionsTable(dynamo.client, tableName);
  return {
    sim,
    dynamo,
    tableName,
    figures: new Figures(),
    findings: [],
    clock,
    now,
    runCounter: 0,
    close: async () => {
      await sim.close();
      await dynamo.close();
    },
  };
}

/**
 * 10:00 New York time on the first weekday from today (wall clock): every run starts its day there, so the
 * clock-dependent rules (max hold, the session's close) behave the same on every replay of a seed that day.
 */
export function modelDayStart(): number {
  let date = newYorkTime(new Date()).date;
  while ([0, 6].includes(new Date(`${date}T12:00:00Z`).getUTCDay())) date = addDays(date, 1);
  for (const offset of ['-04:00', '-05:00']) {
    const t = Date.parse(`${date}T10:00:00${offset}`);
    if (newYorkTime(new Date(t)).minuteOfDay === 600) return t;
  }
  throw new Error(`no 10:00 New York time on ${date}`);
}

class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  /** The recommendation id of a valid body (null for invalid ones). */
  readonly recId: string | null;
  receiveCount: number;
  readonly sentAt: Date;
}

/** A Log that keeps the last reason given for each SQS message (the DLQ's "why"). */
class CapturingLog implements Log {
  readonly reasonByMessage = new Map<string, string>();
  info(): void {}
  warn(message: string, ...extra: Record<string, unknown>[]): void {
    this.note(message, extra);
  }
  error(message: string, ...extra: Record<string, unknown>[]): void {
    this.note(message, extra);
  }
  private note(message: string, extra: Record<string, unknown>[]) {
    for (const e of extra) {
      if (typeof e?.message_id === 'string')
        this.reasonByMessage.set(e.message_id, `${e.reason}: ${message}`);
    }
  }
}

/**
 * One run: a fresh account, the real handlers wired to real adapters, an SQS queue model (at-least-once,
 * redelivery of failures, DLQ after {@link MAX_RECEIVE_COUNT} receives) and the invariant checks.
 */
export class Run {
  readonly account: string;
  readonly keyId: string;
  readonly figures = new Figures();
  private readonly deps: () => Promise<PipelineDeps>;
  private readonly openers: OpenOrderHandler[];
  private readonly env: Record<string, string>;
  private readonly log = new CapturingLog();
  private readonly store: DynamoPositionStore;
  private readonly spreads: DynamoSpreadStore;
  /** The spread recommendations sent (ids), apart from the single legs'. */
  private readonly spreadIds = new Set<string>();
  /** Each spread recommendation's leg contracts, by id. */
  private readonly spreadContracts = new Map<string, readonly string[]>();
  private outsideSeq = 0;
  /** Spreads already counted as opened / closed in the figures. */
  private readonly spreadsCounted = new Map<string, 'open' | 'closed'>();
  private queue: QueuedMessage[] = [];
  readonly dlq: QueuedMessage[] = [];
  private readonly recBodies: string[] = [];
  private readonly recIds = new Set<string>();
  private msgSeq = 0;
  private recSeq = 0;
  private checkedRequests = 0;
  private slowFaults = false;
  private pollMoves = 0;
  /** Convergence: no price moves between polls; `settling`: its last sweeps, single passes. */
  private converging = false;
  private settling = false;
  /**
   * Contracts a sweep alerted `option_event_pending` on (issue 26 item 3): gone at the broker, and an option
   * event could explain them; their records wait for the next trading day's activities.
   */
  private readonly eventsPending = new Set<string>();
  /** The simulator's request count when the running sweep first slept between polls. */
  private firstPollRequest: number | null = null;
  /** When each change outside the pipeline happened, and to which contract (wall time, ms). */
  private readonly outsideLog: Array<{ symbol: string; at: number }> = [];
  /** Closing orders already counted as raced by a hand close (checks run after every step). */
  private readonly racedCounted = new Map<string, { symbol: string; side: 'long' | 'short'; qty: number }>();
  private readonly violations: string[] = [];
  private readonly config: AccountConfig;
  private readonly broker: AlpacaAdapter;

  constructor(
    private readonly world: World,
    private readonly polling: RunPolling | null = null,
    /** The account's `exit_execution.broker_stop` (issue 14): drawn at random per run by the model. */
    readonly brokerStop: 'stop' | 'stop_limit' | null = null,
  ) {
    const n = ++world.runCounter;
    this.account = `r${n}`;
    this.keyId = `PKMODEL${n}`;
    const sim = world.sim;
    world.clock.ms = modelDayStart();
    sim.reset();
    sim.addAccount(this.keyId, MODEL_SECRET, { cash: 1_000_000, optionsBuyingPower: 1_000_000 });
    SYMBOLS.forEach((_s, i) => this.setMid(i, START_MID[i]));
    for (const [symbol, mid] of SPREAD_START_MID) this.setMidOf(symbol, mid);
    sim.setAccount(this.keyId, { optionsApprovedLevel: 3 }); // Level 3: spreads (mleg)
    // The underlying's price decides expiries (the 340 call in the money: exercised or assigned) and fills
    // the orders that flatten delivered shares.
    sim.setStockPrice(UNDERLYING, UNDERLYING_PRICE);
    sim.setQuote(UNDERLYING, { bid: UNDERLYING_PRICE - 0.05, ask: UNDERLYING_PRICE + 0.05 });
    this.store = new DynamoPositionStore(world.dynamo.client, world.tableName);
    this.spreads = new DynamoSpreadStore(world.dynamo.client, world.tableName, this.store);
    const limiter = new BrokerRateLimiter({ requestsPerWindow: null, jitterMs: 5 });
    const broker = new AlpacaAdapter({
      keyId: this.keyId,
      secretKey: MODEL_SECRET,
      tradingBaseUrl: sim.url,
      dataBaseUrl: sim.url,
      timeoutMs: CLIENT_TIMEOUT_MS,
      retryPolicy: { baseDelayMs: 2, maxDelayMs: 10, totalWaitMs: 60 },
      fetchImpl: this.checkingFetch(),
      rateLimiter: limiter,
    });
    this.broker = broker;
    const deps: PipelineDeps = {
      broker,
      marketData: broker,
      store: this.store,
      lease: this.store,
      spreads: this.spreads,
    };
    this.deps = async () => deps;
    this.env = {
      ACCOUNT_NAME: this.account,
      ACCOUNT_CONFIG: JSON.stringify({
        name: this.account,
        limits: {
          max_open_positions: 200,
          max_contracts_per_order: 10,
          max_premium_per_position: 100_000,
          max_risk_per_spread: 100_000,
          flatten_assigned_shares: true,
        },
        sweep_poll_seconds: polling ? POLL_SECONDS : null,
        exit_execution: { broker_stop: brokerStop },
      }),
      POSITIONS_TABLE: world.tableName,
      CLAIM_LEASE_SECONDS: '0',
    };
    this.config = parseAccountConfig(JSON.parse(this.env.ACCOUNT_CONFIG));
    if (brokerStop) this.figures.brokerStopRuns++;
    // Two open-order "containers" (the event source's maxConcurrency is 2).
    this.openers = [0, 1].map(() =>
      createOpenOrderHandler(this.env, { deps: this.deps, log: this.log, now: world.now }),
    );
  }

  private get sim(): AlpacaSim {
    return this.world.sim;
  }

  private setMid(i: number, mid: number) {
    this.setMidOf(SYMBOLS[i], mid);
  }

  private mid(i: number): number {
    const q = this.sim.market.quotes.get(SYMBOLS[i]);
    return q ? (q.bid + q.ask) / 2 : START_MID[i];
  }

  private setMidOf(symbol: string, mid: number) {
    const m = Math.max(0.1, Math.round(mid * 100) / 100);
    this.sim.setQuote(symbol, { bid: round2(m - 0.05), ask: round2(m + 0.05) });
  }

  private midOf(symbol: string): number {
    const q = this.sim.market.quotes.get(symbol);
    return q ? (q.bid + q.ask) / 2 : (SPREAD_START_MID.get(symbol) ?? 1);
  }

  /** The market keeps quoting: every contract's mid, stamped now. */
  private restamp() {
    for (const symbol of QUOTED) this.setMidOf(symbol, this.midOf(symbol));
  }

  /**
   * The adapter's fetch: at the instant a closing order leaves, compares its qty with what the broker holds
   * and has available on the side it reduces (invariant 2).
   */
  private checkingFetch(): typeof fetch {
    const checking: typeof fetch = async (input, init) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      if ((init?.method ?? 'GET').toUpperCase() === 'POST' && url.pathname === '/v2/orders') {
        const body = JSON.parse(String(init?.body ?? '{}')) as Record<string, unknown>;
        const opening = String(body.client_order_id ?? '').startsWith(`ops-${this.account}-o-`);
        if (body.order_class === 'mleg') {
          if (!opening) this.checkMlegClose(body);
        } else if (body.position_intent === undefined) {
          const pos = this.sim.positions(this.keyId).find((p) => p.symbol === body.symbol);
          const held = Number(pos?.qty ?? 0);
          const available = Math.abs(Number(pos?.qty_available ?? 0));
          const qty = Number(body.qty);
          const reduces = body.side === 'sell' ? held > 0 : held < 0;
          // A resend whose first copy landed after the sweep's lookup and fresh read (it was still in flight):
          // the broker already has this client_order_id and refuses the copy, so nothing is sold twice.
          const idTaken = this.sim.orders(this.keyId).some((o) => o.client_order_id === body.client_order_id);
          if (idTaken) this.figures.resendsOfLandedIds++;
          else if (!reduces || qty > Math.min(Math.abs(held), available)) {
            this.figures.oversells++;
            this.violations.push(
              `oversell: closing ${body.side} ${qty} ${String(body.symbol)} (${String(body.client_order_id)}) while the broker holds ${held} with ${available} available`,
            );
          }
          if (SPREAD_SIDE.has(String(body.symbol))) this.checkCover(body);
        }
      }
      return fetch(input, init);
    };
    return checking;
  }

  /** An mleg close as it leaves: every leg reduces what the broker holds and has available (invariant 2). */
  private checkMlegClose(body: Record<string, unknown>): void {
    const cid = String(body.client_order_id);
    if (this.sim.orders(this.keyId).some((o) => o.client_order_id === cid)) {
      this.figures.resendsOfLandedIds++;
      return;
    }
    for (const leg of (body.legs ?? []) as Array<Record<string, unknown>>) {
      const pos = this.sim.positions(this.keyId).find((p) => p.symbol === leg.symbol);
      const held = Number(pos?.qty ?? 0);
      const available = Math.abs(Number(pos?.qty_available ?? 0));
      const qty = Number(leg.ratio_qty ?? 1) * Number(body.qty);
      const reduces = leg.side === 'sell' ? held > 0 : held < 0;
      if (!reduces || qty > Math.min(Math.abs(held), available)) {
        this.figures.oversells++;
        this.violations.push(
          `oversell: mleg close ${cid} ${String(leg.side)} ${qty} ${String(leg.symbol)} while the broker holds ${held} with ${available} available`,
        );
      }
    }
    this.checkCover(body);
  }

  /**
   * `nakedShortByPipeline`, as a pipeline order on a spread's contracts leaves: filled in full, it must not
   * leave more of the spread's short legs uncovered (`uncoveredShorts` over the broker's holdings of the
   * spread's contracts) than the broker's holdings leave now. A partial fill sells less, so uncovers no more.
   */
  private checkCover(body: Record<string, unknown>): void {
    const cid = String(body.client_order_id ?? '');
    const id = new RegExp(`^ops-${this.account}-x\\d+(?:l\\d+)?-(.+)$`).exec(cid)?.[1];
    const contracts = id === undefined ? undefined : this.spreadContracts.get(id);
    if (!contracts) return;
    this.figures.spreadCoverChecks++;
    const now = new Map(
      this.sim.positions(this.keyId).map((p) => [String(p.symbol), Number(p.qty)] as const),
    );
    const after = new Map(now);
    const legs = (body.legs ?? [{ symbol: body.symbol, side: body.side, ratio_qty: 1 }]) as Array<
      Record<string, unknown>
    >;
    for (const l of legs) {
      const q = Number(l.ratio_qty ?? 1) * Number(body.qty);
      after.set(String(l.symbol), (after.get(String(l.symbol)) ?? 0) + (l.side === 'buy' ? q : -q));
    }
    const holdings = (m: ReadonlyMap<string, number>) =>
      contracts.map((symbol) => {
        const occ = parseOcc(symbol);
        const q = m.get(symbol) ?? 0;
        return {
          type: occ?.type ?? null,
          expiry: occ?.expiry ?? '',
          side: q < 0 ? 'short' : 'long',
          qty: Math.abs(q),
        } as const;
      });
    const before = uncoveredShorts(holdings(now));
    const left = uncoveredShorts(holdings(after));
    if (left > before) {
      this.figures.nakedShortByPipeline++;
      this.violations.push(
        `nakedShortByPipeline: ${cid} (${legs.map((l) => `${String(l.side)} ${String(l.symbol)}`).join(', ')} x${String(body.qty)}) would leave ${left} short contracts of spread ${id} uncovered (${before} now)`,
      );
    }
  }

  // ---------------------------------------------------------------------------------------------- apply

  /** Applies one action, then checks invariants 1-4. Throws {@link InvariantViolation}. */
  async step(a: Action): Promise<void> {
    this.figures.steps++;
    this.figures.actions[a.t] = (this.figures.actions[a.t] ?? 0) + 1;
    this.world.clock.ms += STEP_MS;
    await this.apply(a);
    this.checkInvariants();
    await this.checkSpreadInvariants();
  }

  private async apply(a: Action): Promise<void> {
    const sim = this.sim;
    switch (a.t) {
      case 'recommend': {
        const id = `rec-${++this.recSeq}`;
        const px = this.mid(a.symbol);
        const limit =
          a.order === 'market'
            ? undefined
            : a.order === 'limit'
              ? round2(a.action === 'BUY' ? px + 0.05 : px - 0.05)
              : round2(a.action === 'BUY' ? px * 0.7 : px * 1.3);
        const body = JSON.stringify(
          validRecommendation(
            id,
            a.symbol,
            a.action,
            a.qty,
            a.order === 'market' ? 'market' : 'limit',
            a.partial,
            limit,
            a.maxHold ?? false,
          ),
        );
        this.recBodies.push(body);
        this.recIds.add(id);
        this.enqueue(body, id);
        this.figures.recommendations++;
        return;
      }
      case 'recommendSpread': {
        const st = SPREAD_STRUCTURES[a.structure % SPREAD_STRUCTURES.length];
        const id = `sp-${++this.recSeq}`;
        // Net per share at the mids: + a debit, − a credit. A marketable limit gives up 5 cents a leg; a
        // resting one asks 30% better than the mids.
        const net = st.legs.reduce((n, l) => n + (l.side === 'buy' ? 1 : -1) * this.midOf(l.symbol), 0);
        const raw =
          a.order === 'limit'
            ? net + 0.05 * st.legs.length
            : a.order === 'restingLimit'
              ? net - Math.abs(net) * 0.3
              : 0;
        const limit = round2(raw) === 0 ? 0.01 : round2(raw);
        const body = JSON.stringify(
          spreadRecommendation(
            id,
            st,
            a.qty,
            a.order === 'market' ? 'market' : 'limit',
            a.order === 'market' ? undefined : limit,
            a.maxHold ?? false,
          ),
        );
        this.recBodies.push(body);
        this.spreadIds.add(id);
        this.spreadContracts.set(
          id,
          st.legs.map((l) => l.symbol),
        );
        this.enqueue(body, id);
        this.figures.spreadRecommendations++;
        return;
      }
      case 'spreadPrice': {
        const st = SPREAD_STRUCTURES[a.structure % SPREAD_STRUCTURES.length];
        for (const l of st.legs)
          this.setMidOf(l.symbol, this.midOf(l.symbol) * (l.side === 'buy' ? a.factor : 1 / a.factor));
        return;
      }
      case 'spreadOutside':
        await this.spreadOutside(a);
        return;
      case 'duplicate': {
        if (this.recBodies.length === 0) return;
        const body = this.recBodies[a.pick % this.recBodies.length];
        this.enqueue(body, (JSON.parse(body) as { recommendation_id: string }).recommendation_id);
        this.figures.duplicatesDelivered++;
        return;
      }
      case 'invalid':
        this.enqueue(INVALID_BODIES[a.kind % INVALID_BODIES.length](`bad-${++this.recSeq}`), null);
        this.figures.invalidMessages++;
        return;
      case 'deliver':
        await this.deliver(a.container, a.max);
        return;
      case 'deliverBoth': {
        // Two containers take disjoint batches at the same moment, as the event source does.
        const first = this.takeBatch(a.max);
        const second = this.takeBatch(a.max);
        await Promise.all([this.runBatch(0, first), this.runBatch(1, second)]);
        return;
      }
      case 'sweep': {
        if (a.concurrent > 1) this.figures.concurrentSweeps++;
        await Promise.all(Array.from({ length: a.concurrent }, () => this.sweepOnce()));
        return;
      }
      case 'price':
        this.setMid(a.symbol, this.mid(a.symbol) * a.factor);
        return;
      case 'tick': {
        const room = LAST_TICK_MINUTE - newYorkTime(this.world.now()).minuteOfDay;
        const minutes = Math.max(0, Math.min(a.minutes, room));
        if (minutes === 0) return;
        // Minutes pass: a slow request still held by the broker lands in them, before the clock moves (a
        // request acted on minutes after it was sent is not a broker's behaviour; found by CI seed 368320999).
        await this.sim.settleDelayed();
        this.world.clock.ms += minutes * 60_000;
        this.figures.clockTicks++;
        // The market keeps quoting: the same mids, stamped now.
        this.restamp();
        return;
      }
      case 'fillMode':
        sim.setFillMode(a.manual ? 'manual' : 'immediate');
        return;
      case 'fill': {
        const open = this.openSimOrders();
        if (open.length === 0) return;
        const o = open[a.pick % open.length];
        const rest = Number(o.qty) - Number(o.filled_qty);
        const qty = Math.max(1, Math.floor(rest * a.fraction));
        if (o.order_class === 'mleg') {
          // Every leg together, each at its side of the quote (multiples of the spread).
          sim.fillOrder(String(o.id), { qty });
          if (qty < rest) this.figures.partialFills++;
          return;
        }
        const q = sim.market.quotes.get(String(o.symbol));
        const price = o.limit_price != null ? Number(o.limit_price) : o.side === 'buy' ? q!.ask : q!.bid;
        sim.fillOrder(String(o.id), { qty, price });
        if (qty < rest) this.figures.partialFills++;
        return;
      }
      case 'expireOrder': {
        const open = this.openSimOrders();
        if (open.length === 0) return;
        sim.expireOrder(String(open[a.pick % open.length].id));
        return;
      }
      case 'fault': {
        const target = FAULT_TARGETS[a.target];
        this.figures.faults[a.kind]++;
        const key = `${target.method} ${target.path}`;
        this.figures.faultsByTarget[key] = (this.figures.faultsByTarget[key] ?? 0) + 1;
        const base = { method: target.method, path: target.path, times: a.times };
        switch (a.kind) {
          case 'http429':
            sim.injectFault({
              ...base,
              status: 429,
              headers: {
                'X-Ratelimit-Limit': '200',
                'X-Ratelimit-Remaining': '0',
                // Already reached: the clients may come back at once (plus jitter).
                'X-Ratelimit-Reset': String(Math.floor(Date.now() / 1000)),
              },
            });
            return;
          case 'http5xx':
            sim.injectFault({ ...base, status: 503 });
            return;
          case 'http500AfterAction':
            sim.injectFault({ ...base, status: 500, afterAction: true });
            return;
          case 'lostReply':
            sim.injectFault({ ...base, lostReply: true });
            return;
          case 'slowReply':
            this.slowFaults = true;
            sim.injectFault({ ...base, delayMs: SLOW_REPLY_MS });
            return;
        }
        return;
      }
      case 'outside': {
        // Aimed at an option contract the broker holds (the action's index picks which).
        const held_ = sim.positions(this.keyId).filter((p) => parseOcc(String(p.symbol)) !== null);
        if (held_.length === 0) return;
        const pos = held_[a.symbol % held_.length];
        const symbol = String(pos.symbol);
        const held = Number(pos.qty);
        this.figures.outside[a.kind]++;
        this.outsideLog.push({ symbol, at: Date.now() });
        switch (a.kind) {
          case 'closeByHand':
            sim.removePosition(this.keyId, symbol);
            return;
          case 'reduceByHand':
            sim.setPosition(this.keyId, symbol, held - Math.sign(held), Number(pos.avg_entry_price));
            return;
          case 'expireContract':
            // The OCC's expiry processing (OPEXP; in the money: OPEXC / OPASN with shares); the contract's
            // working orders end with it.
            sim.expireContract(this.keyId, symbol);
            return;
          case 'assignShort':
            if (held < 0) sim.assign(this.keyId, symbol); // OPASN, 100 shares a contract delivered
            return;
        }
        return;
      }
      case 'killSwitch': {
        const c = await this.store.getControl(this.account);
        await this.store.putControl(this.account, {
          flatten: c?.flatten ?? false,
          trading_enabled: a.enabled,
        });
        return;
      }
      case 'flatten': {
        const c = await this.store.getControl(this.account);
        await this.store.putControl(this.account, {
          trading_enabled: c?.trading_enabled ?? true,
          flatten: a.on,
        });
        return;
      }
    }
  }

  /** An outside event on one leg of a spread structure the broker holds (see the `spreadOutside` action). */
  private async spreadOutside(a: Extract<Action, { t: 'spreadOutside' }>): Promise<void> {
    const st = SPREAD_STRUCTURES[a.structure % SPREAD_STRUCTURES.length];
    const legs = a.kind === 'assignShortLeg' ? st.legs.filter((l) => l.side === 'sell') : st.legs;
    const leg = legs[a.leg % legs.length];
    const pos = this.sim.positions(this.keyId).find((p) => p.symbol === leg.symbol);
    const held = Number(pos?.qty ?? 0);
    if (held === 0) return;
    const qty = a.qty > 0 ? Math.min(a.qty, Math.abs(held)) : Math.abs(held);
    this.outsideLog.push({ symbol: leg.symbol, at: Date.now() });
    switch (a.kind) {
      case 'assignShortLeg':
        if (held > 0) return;
        this.sim.assign(this.keyId, leg.symbol, { qty }); // OPASN: 100 shares a contract delivered
        break;
      case 'closeLegByHand':
        this.sim.setPosition(
          this.keyId,
          leg.symbol,
          held - Math.sign(held) * qty,
          Number(pos?.avg_entry_price),
        );
        break;
      case 'sellOffLeg': {
        // Alpaca's own order (not the pipeline's id, no intent): it sells (buys back) the leg alone.
        // A fault the model injected on POST /v2/orders may take this request (a lost or failed reply).
        const res = await fetch(`${this.sim.url}/v2/orders`, {
          method: 'POST',
          signal: AbortSignal.timeout(2_000),
          headers: {
            'APCA-API-KEY-ID': this.keyId,
            'APCA-API-SECRET-KEY': MODEL_SECRET,
            'Content-Type': 'application/json',
          },
          body: JSON.stringify({
            symbol: leg.symbol,
            qty: String(qty),
            side: held > 0 ? 'sell' : 'buy',
            type: 'market',
            time_in_force: 'day',
            client_order_id: `alpaca-liquidation-${this.account}-${++this.outsideSeq}`,
          }),
        }).catch(() => null);
        // Refused when working orders hold the contracts (as Alpaca's would be): nothing happened.
        if (!res?.ok) return;
        const o = (await res.json()) as Record<string, unknown>;
        const now = this.sim.orders(this.keyId).find((x) => x.id === o.id);
        if (now && ['new', 'accepted', 'pending_new', 'partially_filled'].includes(String(now.status)))
          this.sim.fillOrder(String(o.id));
        break;
      }
    }
    this.figures.spreadOutside[a.kind]++;
  }

  private enqueue(body: string, recId: string | null) {
    this.queue.push({
      messageId: `m-${++this.msgSeq}`,
      body,
      recId,
      receiveCount: 0,
      sentAt: this.world.now(),
    });
  }

  private takeBatch(max: number): QueuedMessage[] {
    return this.queue.splice(0, max);
  }

  private async deliver(container: 0 | 1, max: number) {
    await this.runBatch(container, this.takeBatch(max));
  }

  /** One invocation of an open-order container: failures go back to the queue, or to the DLQ. */
  private async runBatch(container: 0 | 1, batch: QueuedMessage[]) {
    if (batch.length === 0) return;
    for (const m of batch) m.receiveCount++;
    const event: SQSEvent = { Records: batch.map(sqsRecordOf) };
    const res = await this.openers[container](event);
    const failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
    for (const m of batch) {
      if (!failed.has(m.messageId)) continue;
      if (m.receiveCount >= MAX_RECEIVE_COUNT) {
        this.dlq.push(m);
        this.figures.deadLettered++;
      } else this.queue.push(m);
    }
  }

  /** The day P&L the last sweep reported (the breaker's figure), for the books' day check at rest. */
  private lastDayPnl: DayPnl | null = null;

  private async sweepOnce() {
    // A fresh handler per sweep: concurrent sweeps are separate containers.
    const sweep = createExitEvaluatorHandler(this.env, {
      deps: this.deps,
      log: this.log,
      now: this.world.now,
      pollSleep: async (ms) => this.pollSleep(ms),
    });
    try {
      this.firstPollRequest = null;
      // The final sweeps of convergence are single passes: what they send is learned before the checks.
      const polls = this.polling && !this.settling;
      const report = polls ? await sweep(this.scheduledEvent()) : await sweep();
      this.lastDayPnl = report.dayPnl ?? null;
      this.figures.polls += report.polls ?? 0;
      for (const a of report.alerts ?? [])
        if (a.kind === 'option_event_pending') this.eventsPending.add(a.symbol);
      if (this.firstPollRequest !== null) {
        const exitRe = new RegExp(`^ops-${this.account}-x`);
        const sent = this.sim.requests
          .slice(this.firstPollRequest)
          .filter((r) => r.method === 'POST' && r.path === '/v2/orders' && r.status === 200)
          .filter((r) => exitRe.test(String((r.body as { client_order_id?: unknown })?.client_order_id)));
        this.figures.pollClosingOrders += sent.length;
        this.figures.pollSpreadCloses += sent.filter(
          (r) => (r.body as { order_class?: unknown })?.order_class === 'mleg',
        ).length;
      }
      // MODEL_DEBUG=1 prints every sweep report (replaying a counter-example with runScenario).
      if (process.env.MODEL_DEBUG) console.log(JSON.stringify(report));
    } catch (err) {
      // A sweep whose first reads failed (broker fault) ends; the schedule runs the next one. Anything but a
      // transient failure is a bug.
      if (!(err instanceof PipelineError && err.transient)) throw err;
      this.figures.failedSweeps++;
    }
  }

  /**
   * A schedule's event for a polling account, dated so that its window ends {@link POLL_WINDOW_MS} from now
   * (two polls at 10 s, not a minute of them: the model's steps stay short).
   */
  private scheduledEvent() {
    const time = this.world.now().getTime() - 60_000 + POLL_END_MARGIN_MS + POLL_WINDOW_MS;
    return { 'detail-type': 'Scheduled Event', time: new Date(time).toISOString() };
  }

  /** Between polls the model's clock moves on and one contract's price moves (the run's list, in turn). */
  private async pollSleep(ms: number): Promise<void> {
    this.firstPollRequest ??= this.sim.requests.length;
    await this.sim.settleDelayed();
    this.world.clock.ms += ms;
    const moves = this.polling!.moves;
    const k = this.pollMoves % SYMBOLS.length;
    // Prices stand still while the run converges (the faults have ended; nothing new should fall due).
    const factor = this.converging ? 1 : moves[this.pollMoves++ % moves.length];
    SYMBOLS.forEach((_s, i) => this.setMid(i, this.mid(i) * (i === k ? factor : 1)));
    // One spread structure's net value moves by the same factor (its longs' mids times it, its shorts'
    // over it), in turn: the polls' stop loss and take profit on the net value fire between full passes.
    const st = SPREAD_STRUCTURES[k % SPREAD_STRUCTURES.length];
    for (const symbol of SPREAD_SIDE.keys()) {
      const leg = st.legs.find((l) => l.symbol === symbol);
      const f = !leg ? 1 : leg.side === 'buy' ? factor : 1 / factor;
      this.setMidOf(symbol, this.midOf(symbol) * f);
    }
  }

  private openSimOrders(): Array<Record<string, unknown>> {
    return this.sim
      .orders(this.keyId)
      .filter((o) => ['new', 'accepted', 'pending_new', 'partially_filled'].includes(String(o.status)));
  }

  // ---------------------------------------------------------------------------------------------- invariants

  /** Invariants 1-4, on everything the broker received since the last check and on its current state. */
  checkInvariants(): void {
    this.figures.invariantChecks++;
    const sim = this.sim;
    const prefixOpen = `ops-${this.account}-o-`;
    const exitRe = new RegExp(`^ops-${this.account}-x(\\d+)-(.+)$`);
    const sharesRe = new RegExp(`^ops-${this.account}-sh-(.+)$`);
    // Protective stops resting at the broker (issue 14): closing orders too, under their own step.
    const stopRe = new RegExp(`^ops-${this.account}-s(\\d+)-(.+)$`);
    // A spread's single-leg unwind steps (`x<seq>l<leg>-`) and its delivered shares' orders (`x<seq>sh-`).
    const legRe = new RegExp(`^ops-${this.account}-x(\\d+)(l\\d+|sh)-(.+)$`);
    const requests = sim.requests;
    const openSymbolByRec = new Map<string, string>();
    for (const o of sim.orders(this.keyId)) {
      const cid = String(o.client_order_id);
      if (cid.startsWith(prefixOpen)) openSymbolByRec.set(cid.slice(prefixOpen.length), String(o.symbol));
    }
    const legsOf = (o: Record<string, unknown>) => (o.legs ?? []) as Array<Record<string, unknown>>;
    for (; this.checkedRequests < requests.length; this.checkedRequests++) {
      const r = requests[this.checkedRequests];
      if (r.method === 'PATCH' && r.keyId === this.keyId) {
        this.checkReplacement(r.rawBody, r.status, stopRe);
        continue;
      }
      if (r.method !== 'POST' || r.path !== '/v2/orders' || r.keyId !== this.keyId) continue;
      const body = (r.body ?? {}) as Record<string, unknown>;
      const cid = String(body.client_order_id ?? '');
      // Changes made outside the pipeline (Alpaca's sell-off of a leg): not the pipeline's orders.
      if (OUTSIDE_CID.test(cid)) continue;
      const spreadId =
        (cid.startsWith(prefixOpen)
          ? cid.slice(prefixOpen.length)
          : (legRe.exec(cid)?.[3] ?? exitRe.exec(cid)?.[2])) ?? '';
      const spreadLegs = this.spreadContracts.get(spreadId);
      // 1. Opening orders carry their explicit intent; closing orders carry none (key absent from the raw body).
      if (spreadLegs) {
        this.checkSpreadRequest(cid, body, r.rawBody, r.status, spreadLegs);
      } else if (cid.startsWith(prefixOpen)) {
        const want = body.side === 'buy' ? 'buy_to_open' : 'sell_to_open';
        if (body.position_intent !== want)
          this.violation('intent', `opening order ${cid} carries ${String(body.position_intent)}`);
        this.figures.openingOrders += r.status === 200 ? 1 : 0;
      } else if (exitRe.test(cid) || stopRe.test(cid)) {
        if ('position_intent' in body || /position_intent/.test(r.rawBody)) {
          this.violation('intent', `closing order ${cid} carries position_intent`);
        }
        if (stopRe.test(cid)) {
          this.figures.restingStopsPlaced += r.status === 200 ? 1 : 0;
          if (body.time_in_force !== 'gtc' || !['stop', 'stop_limit'].includes(String(body.type)))
            this.violation(
              'intent',
              `resting stop ${cid} is ${String(body.type)} ${String(body.time_in_force)}`,
            );
        }
        // Rule 2: the symbol recorded at open, never the ticker.
        const positionId = (exitRe.exec(cid) ?? stopRe.exec(cid))![2];
        if (openSymbolByRec.get(positionId) !== body.symbol) {
          this.violation(
            'intent',
            `closing order ${cid} on ${String(body.symbol)}, opened on ${openSymbolByRec.get(positionId)}`,
          );
        }
        this.figures.closingOrders += r.status === 200 ? 1 : 0;
        if (r.status === 403)
          this.violation('oversell', `closing order ${cid} refused by the broker: insufficient qty`);
      } else if (sharesRe.test(cid)) {
        // Shares an assignment or exercise delivered, flattened: intent-free, on the position's underlying.
        const opened = openSymbolByRec.get(sharesRe.exec(cid)![1]);
        if ('position_intent' in body || body.symbol !== (opened && parseOcc(opened)?.underlying)) {
          this.violation('intent', `shares order ${cid} on ${String(body.symbol)} (opened on ${opened})`);
        }
        if (r.status === 403)
          this.violation('oversell', `shares order ${cid} refused by the broker: insufficient qty`);
        this.figures.sharesOrders += r.status === 200 ? 1 : 0;
      } else {
        this.violation('intent', `order with a foreign client_order_id ${cid}`);
      }
      // A resend the broker refused because the order already exists (its uniqueness rule backing ours).
      if (r.status === 422 && sim.orders(this.keyId).some((o) => o.client_order_id === cid)) {
        this.figures.brokerDedupedResends++;
      }
    }
    // 4. At most one order per recommendation and per exit step (the broker also enforces uniqueness, so
    //    count what it holds by id, and count the resends it refused).
    const byCid = new Map<string, number>();
    for (const o of sim.orders(this.keyId))
      byCid.set(String(o.client_order_id), (byCid.get(String(o.client_order_id)) ?? 0) + 1);
    for (const [cid, n] of byCid)
      if (n > 1) this.violation('duplicate', `${n} orders with client_order_id ${cid}`);
    const opensByRec = new Map<string, number>();
    for (const cid of byCid.keys()) {
      if (!cid.startsWith(prefixOpen)) continue;
      const rec = cid.slice(prefixOpen.length);
      opensByRec.set(rec, (opensByRec.get(rec) ?? 0) + 1);
    }
    for (const [rec, n] of opensByRec)
      if (n > 1) this.violation('duplicate', `${n} opening orders for ${rec}`);
    // 3. No short the pipeline did not open as a short; nothing at all on the underlying's ticker.
    //    A closing order that a change made by hand overtook in flight (sent while the broker held the
    //    contract, reaching it after the hand close) is counted apart: no intent-free close can prevent
    //    that, and the sweep alerts on the short it leaves. Any other closing order taken as an opening
    //    one is a violation.
    const soldToOpen = new Map<string, number>();
    for (const o of sim.orders(this.keyId)) {
      const cid = String(o.client_order_id);
      if (o.order_class === 'mleg' || legRe.test(cid)) {
        // A spread's orders: shorts only from its opening legs sold to open; a close never opens anything.
        for (const l of o.order_class === 'mleg' ? legsOf(o) : [o]) {
          const symbol = String(l.symbol);
          if (cid.startsWith(prefixOpen) && l.position_intent === 'sell_to_open')
            soldToOpen.set(symbol, (soldToOpen.get(symbol) ?? 0) + Number(l.filled_qty));
          if (cid.startsWith(prefixOpen) || !String(l.position_intent).endsWith('_to_open')) continue;
          if (this.racedByHand(cid, symbol)) {
            soldToOpen.set(symbol, (soldToOpen.get(symbol) ?? 0) + Number(l.filled_qty));
            const key = `${cid}|${symbol}`;
            if (!this.racedCounted.has(key)) this.figures.closesRacedByHand++;
            const side = l.side === 'buy' ? 'long' : 'short';
            this.racedCounted.set(key, { symbol, side, qty: Number(l.filled_qty) });
          } else {
            this.violation(
              'short',
              `spread close ${cid} leg ${symbol} was taken as ${String(l.position_intent)}`,
            );
          }
        }
        continue;
      }
      if (cid.startsWith(prefixOpen) && o.position_intent === 'sell_to_open') {
        soldToOpen.set(String(o.symbol), (soldToOpen.get(String(o.symbol)) ?? 0) + Number(o.filled_qty));
      }
      if ((exitRe.test(cid) || stopRe.test(cid)) && String(o.position_intent).endsWith('_to_open')) {
        if (this.racedByHand(cid, String(o.symbol))) {
          soldToOpen.set(String(o.symbol), (soldToOpen.get(String(o.symbol)) ?? 0) + Number(o.filled_qty));
          if (!this.racedCounted.has(cid)) this.figures.closesRacedByHand++;
          // The overtaken close opened a position on its own side: a SELL a short, a BUY (closing a short) a long.
          const side = o.side === 'buy' ? 'long' : 'short';
          this.racedCounted.set(cid, { symbol: String(o.symbol), side, qty: Number(o.filled_qty) });
        } else {
          this.violation('short', `closing order ${cid} was taken as ${String(o.position_intent)}`);
        }
      }
    }
    // Shares exist only as delivered by assignments and exercises (OPTRD), and only ever shrink from there.
    const delivered = { long: 0, short: 0 };
    for (const a of sim.activities(this.keyId)) {
      if (a.activity_type !== 'OPTRD') continue;
      const q = Number(a.qty);
      if (q > 0) delivered.long += q;
      else delivered.short -= q;
    }
    for (const p of sim.positions(this.keyId)) {
      if (p.symbol === UNDERLYING) {
        const q = Number(p.qty);
        if (q > delivered.long || -q > delivered.short) {
          this.violation(
            'short',
            `broker holds ${q} ${UNDERLYING} shares; delivered: +${delivered.long} / -${delivered.short}`,
          );
        }
        continue;
      }
      if (!(SYMBOLS as readonly string[]).includes(String(p.symbol)) && !SPREAD_SIDE.has(String(p.symbol))) {
        this.violation('short', `position on ${String(p.symbol)}, not a contract the pipeline trades`);
      }
      const qty = Number(p.qty);
      if (qty < 0 && -qty > (soldToOpen.get(String(p.symbol)) ?? 0)) {
        this.violation(
          'short',
          `broker is short ${-qty} ${String(p.symbol)}; the pipeline sold ${soldToOpen.get(String(p.symbol)) ?? 0} to open`,
        );
      }
    }
    if (this.violations.length > 0) {
      throw new InvariantViolation(`[broker_stop ${this.brokerStop}] ${this.violations.join('\n')}`);
    }
  }

  /**
   * A spread's order as the broker received it (invariant 1 and rule 2 for spreads): the opening mleg order
   * carries its opening intent on every leg; a close (mleg, one leg of an unwind, delivered shares) carries
   * none anywhere, on the spread's own contracts (or its underlying, for shares).
   */
  private checkSpreadRequest(
    cid: string,
    body: Record<string, unknown>,
    rawBody: string,
    status: number,
    contracts: readonly string[],
  ): void {
    const ok = status === 200 ? 1 : 0;
    const legs = (body.legs ?? []) as Array<Record<string, unknown>>;
    if (cid.startsWith(`ops-${this.account}-o-`)) {
      if (body.order_class !== 'mleg' || legs.length !== contracts.length)
        this.violation(
          'intent',
          `spread opening order ${cid} is not one mleg order of ${contracts.length} legs`,
        );
      for (const l of legs) {
        const want = l.side === 'buy' ? 'buy_to_open' : 'sell_to_open';
        if (l.position_intent !== want)
          this.violation(
            'intent',
            `spread opening order ${cid} leg ${String(l.symbol)} carries ${String(l.position_intent)}`,
          );
      }
      this.figures.spreadOpeningOrders += ok;
      this.figures.openingOrders += ok;
      return;
    }
    if (/position_intent/.test(rawBody))
      this.violation('intent', `spread close ${cid} carries position_intent`);
    const symbols = legs.length ? legs.map((l) => String(l.symbol)) : [String(body.symbol)];
    const shares = new RegExp(`^ops-${this.account}-x\\d+sh-`).test(cid);
    for (const symbol of symbols) {
      const allowed = shares ? symbol === UNDERLYING : contracts.includes(symbol);
      if (!allowed)
        this.violation('intent', `spread close ${cid} on ${symbol}, not one of the spread's contracts`);
    }
    if (status === 403)
      this.violation('oversell', `spread close ${cid} refused by the broker: insufficient qty`);
    if (shares) this.figures.sharesOrders += ok;
    else if (body.order_class === 'mleg') this.figures.spreadClosingOrders += ok;
    else this.figures.spreadLegOrders += ok;
    this.figures.closingOrders += ok;
  }

  /**
   * The spread invariants on the broker's state now and every spread record (checked after every step):
   *
   * - `spreadUnintendedPosition`: on each spread contract the broker holds nothing on the side opposite
   *   its leg, and no more than the live spread records' leg ledgers hold plus what the pipeline's opening
   *   orders filled that their ledgers have not booked yet (orders in flight). Less is allowed between
   *   steps (a close filled and not yet learnt, a leg gone and not yet reconciled); after convergence the
   *   two are equal ({@link converge}).
   * - `spreadNotFlat`: a spread the pipeline closed (an exit reason or `orphan_unwind`) is flat on every
   *   leg's ledger, keeps no delivered shares, and the broker holds none of its contracts (unless a later
   *   live spread holds them now).
   */
  async checkSpreadInvariants(): Promise<void> {
    if (this.spreadIds.size === 0) return;
    const all = await this.spreads.listSpreads(this.account);
    this.countSpreads(all);
    const orders = new Map(this.sim.orders(this.keyId).map((o) => [String(o.client_order_id), o] as const));
    const held = new Map(
      this.sim.positions(this.keyId).map((p) => [String(p.symbol), Number(p.qty)] as const),
    );
    const raced = new Set([...this.racedCounted.values()].map((r) => r.symbol));
    const expected = new Map<string, number>();
    const liveOn = new Set<string>();
    for (const sp of all) {
      if (sp.state === 'closed') continue;
      const open = orders.get(sp.open_client_order_id);
      for (const leg of sp.legs) {
        liveOn.add(leg.option_symbol);
        const booked = leg.ledger.orders
          .filter((o) => o.client_order_id === sp.open_client_order_id)
          .reduce((n, o) => n + o.filled_qty, 0);
        const reported = ((open?.legs ?? []) as Array<Record<string, unknown>>).find(
          (l) => l.symbol === leg.option_symbol,
        );
        const inFlight = Math.max(0, Number(reported?.filled_qty ?? 0) - booked);
        expected.set(
          leg.option_symbol,
          (expected.get(leg.option_symbol) ?? 0) + legProjection(leg).held + inFlight,
        );
      }
    }
    for (const [symbol, side] of SPREAD_SIDE) {
      const q = held.get(symbol) ?? 0;
      if (q === 0 || raced.has(symbol)) continue;
      if (side === 'long' ? q < 0 : q > 0) {
        this.violation(
          'spreadUnintendedPosition',
          `the broker holds ${q} ${symbol}, a ${side} leg's contract`,
        );
      } else if (Math.abs(q) > (expected.get(symbol) ?? 0)) {
        this.violation(
          'spreadUnintendedPosition',
          `the broker holds ${q} ${symbol}; the live spreads' legs expect ${expected.get(symbol) ?? 0}`,
        );
      }
    }
    for (const sp of all) {
      if (sp.state !== 'closed' || !SPREAD_PIPELINE_CLOSES.has(String(sp.close_reason))) continue;
      const books = spreadBooks(sp);
      for (const [i, leg] of sp.legs.entries()) {
        const p = books.legs[i]!;
        const at = held.get(leg.option_symbol) ?? 0;
        if (p.held !== 0 || (p.shares?.shares ?? 0) !== 0 || (at !== 0 && !liveOn.has(leg.option_symbol))) {
          this.violation(
            'spreadNotFlat',
            `spread ${sp.position_id} closed (${sp.close_reason}): leg ${leg.option_symbol} books ${p.held} (shares ${p.shares?.shares ?? 0}), the broker holds ${at}`,
          );
        }
      }
    }
    if (this.violations.length > 0) {
      throw new InvariantViolation(`[broker_stop ${this.brokerStop}] ${this.violations.join('\n')}`);
    }
  }

  /** Counts each spread once as opened and once as closed (by how). */
  private countSpreads(all: readonly SpreadPosition[]): void {
    for (const sp of all) {
      const seen = this.spreadsCounted.get(sp.position_id);
      if (seen === 'closed') continue;
      const opened = spreadBooks(sp).opened_multiple > 0;
      if (!seen && opened) {
        this.figures.spreadsOpened++;
        this.spreadsCounted.set(sp.position_id, 'open');
      }
      if (sp.state !== 'closed') continue;
      if (!opened) {
        this.spreadsCounted.set(sp.position_id, 'closed');
        continue;
      }
      if (!this.spreadsCounted.has(sp.position_id)) this.figures.spreadsOpened++;
      this.spreadsCounted.set(sp.position_id, 'closed');
      if (sp.close_reason === 'orphan_unwind') this.figures.spreadsUnwound++;
      else if (SPREAD_PIPELINE_CLOSES.has(String(sp.close_reason))) this.figures.spreadsClosedByExit++;
      else this.figures.spreadsClosedOtherwise++;
    }
  }

  /** A PATCH of a resting stop: intent-free, a stop id, and never refused for insufficient qty. */
  private checkReplacement(rawBody: string, status: number, stopRe: RegExp): void {
    const body = JSON.parse(rawBody || '{}') as Record<string, unknown>;
    const cid = String(body.client_order_id ?? '');
    if (/position_intent/.test(rawBody))
      this.violation('intent', `replacement ${cid} carries position_intent`);
    if (!stopRe.test(cid)) this.violation('intent', `replacement with a foreign client_order_id ${cid}`);
    if (status === 403)
      this.violation('oversell', `replacement ${cid} refused by the broker: insufficient qty`);
    this.figures.restingStopReplacements += status === 200 ? 1 : 0;
  }

  private violation(
    kind:
      | 'intent'
      | 'duplicate'
      | 'short'
      | 'oversell'
      | 'lost'
      | 'divergence'
      | 'liveness'
      | 'holding'
      | 'realized'
      | 'idempotent'
      | 'day'
      | 'spreadUnintendedPosition'
      | 'spreadNotFlat',
    detail: string,
  ) {
    const key = {
      liveness: 'liveness',
      intent: 'intentViolations',
      duplicate: 'duplicates',
      short: 'unintendedShorts',
      oversell: 'oversells',
      lost: 'lost',
      divergence: 'divergences',
      holding: 'holdingMismatches',
      realized: 'realizedMismatches',
      idempotent: 'reportsNotIdempotent',
      day: 'dayPnlMismatches',
      spreadUnintendedPosition: 'spreadUnintendedPosition',
      spreadNotFlat: 'spreadNotFlat',
    }[kind] as 'duplicates';
    this.figures[key]++;
    this.violations.push(`${kind}: ${detail}`);
  }

  /**
   * Whether a change made by hand to `symbol` happened while the closing order `cid` was in flight: after
   * the broker received the request and before it acted on it (a slow-reply fault holds a request
   * SLOW_REPLY_MS before acting; any other request is acted on as it arrives, leaving no window).
   */
  private racedByHand(cid: string, symbol: string): boolean {
    const sent = this.sim.requests.find(
      (r) =>
        r.method === 'POST' &&
        r.path === '/v2/orders' &&
        r.status === 200 &&
        (r.body as Record<string, unknown> | undefined)?.client_order_id === cid,
    );
    if (!sent) return false;
    const from = Date.parse(sent.time);
    const to = from + (sent.faulted ? SLOW_REPLY_MS + 20 : 0);
    return this.outsideLog.some((x) => x.symbol === symbol && x.at >= from && x.at <= to);
  }

  /**
   * Invariant 5: faults stop, the queue drains (redeliveries, DLQ), the day's working orders end, a few
   * sweeps run; then the table agrees with the broker and every recommendation is a position or sits in the
   * DLQ / rejections with its reason.
   */
  async converge(): Promise<void> {
    const sim = this.sim;
    this.converging = true;
    sim.clearFaults();
    if (this.slowFaults) await sim.settleDelayed(); // let late broker actions land (every held request acts)
    sim.setFillMode('immediate');
    await this.store.putControl(this.account, { trading_enabled: true, flatten: false });
    for (let i = 0; i < 10 && this.queue.length > 0; i++) await this.deliver((i % 2) as 0 | 1, 10);
    await this.checkLiveness();
    sim.expireDayOrders();
    this.settling = true;
    await this.sweepOnce();
    await this.sweepOnce();
    await this.sweepOnce();
    await this.nextDayForPendingEvents();
    this.checkInvariants();
    await this.checkSpreadInvariants();
    this.figures.invariantChecks++;

    const positions = await this.allPositions();
    const spreads = new Map((await this.spreads.listSpreads(this.account)).map((sp) => [sp.position_id, sp]));
    const rejections = await this.store.listRejections(this.account);
    this.figures.rejectionsRecorded += rejections.length;
    const rejected = new Set(rejections.map((r) => r.key));
    const rejectedMsgs = new Set(rejections.map((r) => r.message_id));
    const dlqIds = new Set(this.dlq.map((m) => m.recId));

    // Every recommendation: a position, a recorded refusal, or a dead letter with its reason.
    for (const id of [...this.recIds, ...this.spreadIds]) {
      if (positions.has(id) || spreads.has(id) || rejected.has(id)) continue;
      const dead = this.dlq.find((m) => m.recId === id);
      if (dead && this.log.reasonByMessage.has(dead.messageId)) continue;
      this.violation('lost', `recommendation ${id} is neither a position, a rejection nor a dead letter`);
    }
    for (const m of this.dlq) {
      if (m.recId === null && !rejectedMsgs.has(m.messageId)) {
        this.violation('lost', `invalid message ${m.messageId} dead-lettered without a recorded reason`);
      }
    }
    if (this.queue.length > 0)
      this.violation('lost', `${this.queue.length} messages still queued after draining`);

    // The table agrees with the broker, per contract and side.
    const tracked = new Map<string, number>();
    for (const p of positions.values()) {
      if (p.state === 'closed') continue;
      if (p.state === 'submitting') {
        // Only a claim whose message is dead and whose order never reached the broker may stay.
        const placed = sim.orders(this.keyId).some((o) => o.client_order_id === p.open_client_order_id);
        if (placed || !dlqIds.has(p.recommendation_id)) {
          this.violation('divergence', `claim ${p.position_id} still submitting (order placed: ${placed})`);
        }
        continue;
      }
      if (p.state !== 'open') {
        this.violation('divergence', `position ${p.position_id} still ${p.state} after convergence`);
      }
      const k = `${p.option_symbol}|${p.side}`;
      tracked.set(k, (tracked.get(k) ?? 0) + p.quantity);
    }
    // Spreads: each live one open (nothing in flight after convergence), its legs' ledgers tracked.
    for (const sp of spreads.values()) {
      if (sp.state === 'closed') continue;
      if (sp.state === 'submitting') {
        const placed = sim.orders(this.keyId).some((o) => o.client_order_id === sp.open_client_order_id);
        if (placed || !dlqIds.has(sp.recommendation_id)) {
          this.violation(
            'divergence',
            `spread claim ${sp.position_id} still submitting (order placed: ${placed})`,
          );
        }
        continue;
      }
      if (sp.state !== 'open')
        this.violation('divergence', `spread ${sp.position_id} still ${sp.state} after convergence`);
      for (const [i, p] of spreadBooks(sp).legs.entries()) {
        const leg = sp.legs[i]!;
        const k = `${leg.option_symbol}|${leg.side}`;
        tracked.set(k, (tracked.get(k) ?? 0) + p.held);
      }
    }
    const held = new Map<string, number>();
    for (const b of sim.positions(this.keyId)) {
      // Per option contract: delivered shares are not positions the table tracks (invariant 3 bounds them).
      if (parseOcc(String(b.symbol)) === null) continue;
      const qty = Number(b.qty);
      held.set(`${String(b.symbol)}|${qty < 0 ? 'short' : 'long'}`, Math.abs(qty));
    }
    // A position left by a closing order a hand close overtook (a short from a SELL, a long from the BUY that
    // closed a short) is the operator's (the sweep alerts, never trades it): it is not the table's to track.
    for (const { symbol, side, qty } of this.racedCounted.values()) {
      const k = `${symbol}|${side}`;
      if (held.has(k)) held.set(k, Math.max(0, held.get(k)! - qty));
      if (held.get(k) === 0) held.delete(k);
    }
    for (const k of new Set([...tracked.keys(), ...held.keys()])) {
      if ((tracked.get(k) ?? 0) !== (held.get(k) ?? 0)) {
        // On a spread's contract: a position no live spread record expects (or one it expects, gone).
        this.violation(
          SPREAD_SIDE.has(k.split('|')[0]!) ? 'spreadUnintendedPosition' : 'divergence',
          `${k}: table tracks ${tracked.get(k) ?? 0}, broker holds ${held.get(k) ?? 0}`,
        );
      }
    }
    // Each spread leg is booked like a single leg (its own ledger): the books check it as one.
    const legViews = [...spreads.values()].flatMap((sp) => sp.legs.map((l) => legAsPosition(sp, l)));
    await this.checkBooksAtRest([...positions.values(), ...legViews], held);
    if (this.violations.length > 0)
      throw new InvariantViolation(`[broker_stop ${this.brokerStop}] ${this.violations.join('\n')}`);
  }

  /**
   * The accounting invariants (issue 23; books.ts) at rest, after convergence: each record's ledger against
   * what the broker holds, its stored figures against its ledger, and every broker report it booked
   * applied again. The orders are read through the model's own adapter (as the sweep reads them; no
   * faults remain), the activities parsed as the adapter parses them.
   */
  private async checkBooksAtRest(records: readonly Position[], held: ReadonlyMap<string, number>) {
    const reports = new Map<string, BrokerOrder | null>();
    for (const p of records) {
      for (const o of p.ledger?.orders ?? []) {
        if (o.status === 'legacy' || reports.has(o.client_order_id)) continue;
        // Reconcile's adjustments of a spread leg (`outside-...`) have no report at the broker.
        if (o.client_order_id.startsWith('outside-')) continue;
        reports.set(o.client_order_id, await this.broker.getOrderByClientOrderId(o.client_order_id));
      }
    }
    // An mleg order's report, read for one leg as the spread's ledgers book it (legOrderView).
    const reportFor = (cid: string, symbol: string): BrokerOrder | null => {
      const r = reports.get(cid) ?? null;
      if (!r?.legs) return r;
      const leg = r.legs.find((l) => l.symbol === symbol);
      return leg ? legOrderView(r, leg) : null;
    };
    const activities = new Map<string, BrokerActivity>();
    for (const raw of this.sim.activities(this.keyId)) {
      if (!['OPASN', 'OPEXC', 'OPEXP', 'FEE'].includes(String(raw.activity_type))) continue;
      const a = toBrokerActivity(raw);
      activities.set(a.id, a);
    }
    const shares = this.sim.positions(this.keyId).find((b) => b.symbol === UNDERLYING);
    const { violations: found, findings } = checkBooksAndCount(
      {
        records,
        held,
        orderReport: reportFor,
        activities,
        at: this.world.now().toISOString(),
        brokerShares: Number(shares?.qty ?? 0),
      },
      this.figures.books,
    );
    // The first few, with the run's account, for the soak to print (figures hold only counts).
    for (const f of findings)
      if (this.world.findings.length < MAX_FINDINGS) this.world.findings.push(`${this.account}: ${f}`);
    const KIND = {
      holding_matches_broker: 'holding',
      realized_equals_fills: 'realized',
      report_idempotent: 'idempotent',
      day_pnl_equals_fills_and_marks: 'day',
    } as const satisfies Record<AccountingViolation['invariant'], string>;
    for (const v of found) this.violation(KIND[v.invariant], `${v.invariant} ${v.subject}: ${v.detail}`);
    await this.checkDayAtRest(records);
  }

  /**
   * The day's P&L the last sweep reported (the breaker's figure) against the records' fills and marks
   * (books.ts invariant 4): marks from the simulator's quotes (prices stand still while the run converges),
   * start marks from the day item the sweep reads.
   */
  private async checkDayAtRest(records: readonly Position[]) {
    const rep = this.lastDayPnl;
    const starts = rep ? (await this.store.getDayBooks(this.account, rep.day)).start_marks : new Map();
    const quote = (symbol: string, side: Position['side']) => {
      const q = this.sim.market.quotes.get(symbol);
      return q ? (side === 'long' ? q.bid : q.ask) : null;
    };
    const found = checkDayTotal(
      {
        records,
        reported: rep
          ? { day: rep.day, cents: Math.round(rep.day_pnl_usd * 100), unpriced: rep.unpriced }
          : null,
        startMark: (symbol, side) => {
          const m = starts.get(symbol);
          return m ? (side === 'long' ? m.bid : m.ask) : null;
        },
        mark: quote,
      },
      this.figures.books,
    );
    for (const v of found) this.violation('day', `${v.invariant} ${v.subject}: ${v.detail}`);
  }

  /**
   * Records waiting for option events (issue 26 item 3): open, alerted `option_event_pending`, and the
   * broker holds none of their contract on their side. On paper the activities that explain them arrive
   * the next trading day, so the pipeline rightly waits; convergence moves the model's clock (which the
   * simulator reads too) past the next trading day's 09:30 New York open and sweeps again, so every such
   * record is booked from the activities or closed `closed_outside_pipeline` before the table is checked
   * against the broker. Returns how many records waited.
   */
  private async nextDayForPendingEvents(): Promise<number> {
    if (this.eventsPending.size === 0) return 0;
    const held = new Map(
      this.sim.positions(this.keyId).map((b) => [String(b.symbol), Number(b.qty)] as const),
    );
    const waiting = [...(await this.allPositions()).values()].filter((p) => {
      if (p.state !== 'open' || !p.missing_since || !this.eventsPending.has(p.option_symbol)) return false;
      const qty = held.get(p.option_symbol) ?? 0;
      return p.side === 'long' ? qty <= 0 : qty >= 0;
    });
    if (waiting.length === 0) return 0;
    this.figures.optionEventWaits += waiting.length;
    await this.sim.settleDelayed();
    let day = addDays(newYorkTime(this.world.now()).date, 1);
    while (!isTradingDay(day)) day = addDays(day, 1);
    // 09:45 New York on that day: its open has passed (optionEventsDue), its session is running.
    let t = this.world.clock.ms;
    while (newYorkTime(new Date(t)).date !== day || newYorkTime(new Date(t)).minuteOfDay < 9 * 60 + 45)
      t += 15 * 60_000;
    this.world.clock.ms = t;
    this.figures.clockTicks++;
    // The market quotes that morning: the same mids, stamped now.
    this.restamp();
    await this.sweepOnce();
    await this.sweepOnce();
    await this.sweepOnce();
    return waiting.length;
  }

  /**
   * Liveness (safety rule 7): the faults have ended and the market is open. Every position whose stop,
   * max hold, expiry or time rule is due now is closed within {@link LIVENESS_SWEEPS} sweeps (one sweep
   * interval apart on the model's clock), and no position is left `closing` without a working order.
   */
  /** Whether a protective exit (stop, max hold, expiry, time rule) is due for `p` at the simulator's quote. */
  private protectiveDue(p: Position, now: Date): boolean {
    const q = this.sim.market.quotes.get(p.option_symbol);
    const quote = q && {
      symbol: p.option_symbol,
      bid: q.bid,
      ask: q.ask,
      bidSize: 1,
      askSize: 1,
      quoteTime: now.toISOString(),
      lastPrice: null,
    };
    const ev = evaluateExit(
      { ...p, state: 'open', pending_exit: null },
      quote,
      now,
      this.config.exit_execution,
    );
    return ev.decision.action === 'close' && PROTECTIVE.has(ev.decision.reason);
  }

  private async checkLiveness(): Promise<void> {
    const now = this.world.now();
    const due: string[] = [];
    for (const p of (await this.allPositions()).values()) {
      if (!['open', 'closing', 'pending'].includes(p.state) || p.quantity < 1) continue;
      if (this.protectiveDue(p, now)) due.push(p.position_id);
    }
    this.figures.dueAtFaultEnd += due.length;
    // Exit steps `closing` with no working order at the broker, after each sweep of the window: one that is
    // so after every sweep is stuck (one whose order just filled or ended is learned by the next sweep).
    const noOrder: Array<Set<string>> = [];
    for (let i = 0; i < LIVENESS_SWEEPS; i++) {
      this.world.clock.ms += this.config.sweep_interval_minutes * 60_000;
      this.restamp();
      await this.sweepOnce();
      const working = new Set(this.openSimOrders().map((o) => String(o.client_order_id)));
      const now = new Set<string>();
      for (const p of (await this.allPositions()).values()) {
        const pe = p.pending_exit;
        if (p.state === 'closing' && !(pe && working.has(pe.client_order_id))) {
          now.add(`${p.position_id} step ${pe?.seq ?? '?'}`);
        }
      }
      noOrder.push(now);
    }
    const after = await this.allPositions();
    const heldNow = new Map(
      this.sim.positions(this.keyId).map((b) => [String(b.symbol), Number(b.qty)] as const),
    );
    for (const id of due) {
      const p = after.get(id);
      if (!p || p.state === 'closed') continue;
      // Nothing left to protect: the broker holds none of the contract on the position's side (the record
      // waits for reconcile's confirming read, which the divergence check after convergence covers).
      const held = heldNow.get(p.option_symbol) ?? 0;
      if (p.side === 'long' ? held <= 0 : held >= 0) continue;
      // Due on a record the window's sweeps then completed (a partly filled open whose rest filled at
      // another price moves its entry, and so its stop): judged on the final record at the same quotes.
      if (!this.protectiveDue(p, this.world.now())) continue;
      this.violation(
        'liveness',
        `position ${id} (${p.option_symbol}) had a protective exit due when the faults ended; still ${p.state} with ${p.quantity} after ${LIVENESS_SWEEPS} sweeps`,
      );
    }
    const stuck = [...(noOrder[0] ?? [])].filter((k) => noOrder.every((set) => set.has(k)));
    for (const k of stuck) {
      this.violation('liveness', `position ${k} closing with no working order for ${LIVENESS_SWEEPS} sweeps`);
    }
  }

  private async allPositions() {
    const out = new Map<string, Awaited<ReturnType<DynamoPositionStore['get']>> & object>();
    for (const id of this.recIds) {
      const p = await this.store.get(this.account, id);
      if (p) out.set(id, p);
    }
    return out;
  }

  /** Folds this run's figures into the world's. */
  finish(): void {
    this.figures.runs = 1;
    this.figures.optionEvents = this.sim
      .activities(this.keyId)
      .filter((a) => ['OPASN', 'OPEXC', 'OPEXP'].includes(String(a.activity_type))).length;
    this.figures.pollingRuns = this.polling ? 1 : 0;
    this.world.figures.merge(this.figures);
  }
}

function sqsRecordOf(m: QueuedMessage): SQSRecord {
  return {
    messageId: m.messageId,
    receiptHandle: `rh-${m.messageId}-${m.receiveCount}`,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt.getTime()),
      SenderId: 'model',
      ApproximateFirstReceiveTimestamp: String(m.sentAt.getTime()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:recommendations',
    awsRegion: 'us-east-1',
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

// ------------------------------------------------------------------------------------------------ running

/**
 * How every generated day starts (checked like any other steps): three positions opened and their fills
 * learned, so the random part has something to close, reduce, expire and fault around.
 */
export const MORNING: readonly Action[] = [
  { t: 'recommend', symbol: 0, action: 'BUY', qty: 4, order: 'market', partial: true },
  { t: 'recommend', symbol: 1, action: 'BUY', qty: 3, order: 'market', partial: false },
  { t: 'recommend', symbol: 2, action: 'SELL', qty: 2, order: 'market', partial: false },
  { t: 'deliver', container: 0, max: 10 },
  { t: 'sweep', concurrent: 1 },
];

/** {@link MORNING} with a spread recommended before the delivery (the generated days' morning). */
export function spreadDayMorning(structure: number, qty: number): Action[] {
  const spread: Action = { t: 'recommendSpread', structure, qty, order: 'market' };
  return [...MORNING.slice(0, 3), spread, ...MORNING.slice(3)];
}

/** Runs one scenario from the start: fresh account, every action with its checks, then convergence. */
export async function runScenario(
  world: World,
  actions: readonly Action[],
  opts: {
    morning?: boolean;
    polling?: RunPolling | null;
    brokerStop?: 'stop' | 'stop_limit' | null;
  } = {},
): Promise<Figures> {
  const run = new Run(world, opts.polling ?? null, opts.brokerStop ?? null);
  try {
    if (opts.morning ?? true) for (const a of MORNING) await run.step(a);
    for (const a of actions) await run.step(a);
    await run.converge();
    return run.figures;
  } finally {
    run.finish();
  }
}

/** A run whose account polls: the price moves applied between its polls, in turn. */
export interface RunPolling {
  readonly moves: readonly number[];
}

/** Half the runs poll (sweep_poll_seconds 10), each with its own price moves between polls. */
function runPollingArbitrary(): fc.Arbitrary<RunPolling | null> {
  const moves = fc.array(fc.constantFrom(0.5, 0.8, 0.95, 1.1, 1.3, 1.7), { minLength: 1, maxLength: 4 });
  return fc.option(
    moves.map((m) => ({ moves: m })),
    { freq: 2 },
  );
}

/** The `broker_stop` of a day, a function of its actions (FNV-1a of their text): null, stop or stop_limit. */
export function brokerStopFor(actionsText: string): 'stop' | 'stop_limit' | null {
  let h = 0x811c9dc5;
  for (let i = 0; i < actionsText.length; i++) h = Math.imul(h ^ actionsText.charCodeAt(i), 0x01000193);
  return ([null, 'stop', 'stop_limit'] as const)[(h >>> 0) % 3];
}

/** fast-check command wrapping one {@link Action}. */
class ActionCommand implements fc.AsyncCommand<object, Run> {
  constructor(readonly action: Action) {}
  check(): boolean {
    return true;
  }
  async run(_m: object, r: Run): Promise<void> {
    await r.step(this.action);
  }
  toString(): string {
    return JSON.stringify(this.action);
  }
}

/** Options of {@link checkModel}. */
export interface ModelOptions {
  readonly numRuns: number;
  readonly maxCommands: number;
  readonly seed?: number;
  /** Stop at the first failure without shrinking (soak). @default false */
  readonly endOnFailure?: boolean;
}

/**
 * The property: for every generated day (a `fc.commands` sequence run with `fc.asyncModelRun`), invariants
 * 1-4 hold after every step and invariant 5 after convergence. Throws fast-check's report (with the
 * shrunk counter-example as a JSON list of actions) on failure.
 */
export async function checkModel(world: World, opts: ModelOptions): Promise<void> {
  // Every generated day also opens a spread in its morning (one of the structures, a random multiple).
  const spreadMorning = fc.record({
    structure: fc.integer({ min: 0, max: SPREAD_STRUCTURES.length - 1 }),
    qty: fc.integer({ min: 1, max: 4 }),
  });
  const commands = fc.commands(
    [actionArbitrary().map((a) => new ActionCommand(a) as fc.AsyncCommand<object, Run>)],
    { maxCommands: opts.maxCommands, size: 'max' },
  );
  await fc.assert(
    fc.asyncProperty(commands, runPollingArbitrary(), spreadMorning, async (cmds, polling, sm) => {
      let run: Run | undefined;
      // Each day's account keeps its stops at the broker or not (issue 14): drawn from the day's actions,
      // so a seed generates the same days as before the draw existed, and a day always runs the same way.
      const mode = brokerStopFor([...cmds].map(String).join(','));
      try {
        await fc.asyncModelRun(async () => {
          run = new Run(world, polling, mode);
          for (const a of spreadDayMorning(sm.structure, sm.qty)) await run.step(a);
          return { model: {}, real: run };
        }, cmds);
        await run!.converge();
      } finally {
        run?.finish();
      }
    }),
    {
      numRuns: opts.numRuns,
      ...(opts.seed === undefined ? {} : { seed: opts.seed }),
      endOnFailure: opts.endOnFailure ?? false,
    },
  );
}

/** The figures as the Markdown table RELIABILITY.md shows. */
export function formatFigures(f: Figures, elapsedMs: number): string {
  const lines = [
    `| runs | ${f.runs} |`,
    `| steps (actions) | ${f.steps} |`,
    `| invariant checks | ${f.invariantChecks} |`,
    `| recommendations / duplicate deliveries / invalid messages | ${f.recommendations} / ${f.duplicatesDelivered} / ${f.invalidMessages} |`,
    `| opening orders accepted / closing orders accepted | ${f.openingOrders} / ${f.closingOrders} |`,
    `| partial fills / concurrent sweep steps / sweeps ended by a fault | ${f.partialFills} / ${f.concurrentSweeps} / ${f.failedSweeps} |`,
    ...FAULT_KINDS.map((k) => `| faults: ${k} | ${f.faults[k]} |`),
    ...OUTSIDE_KINDS.map((k) => `| outside the pipeline: ${k} | ${f.outside[k]} |`),
    `| dead-lettered messages / rejections recorded | ${f.deadLettered} / ${f.rejectionsRecorded} |`,
    `| resends refused by the broker as duplicate client_order_id | ${f.brokerDedupedResends} |`,
    `| closing orders overtaken in flight by a hand close (a short, alerted) | ${f.closesRacedByHand} |`,
    `| closing resends that left after their first copy landed (refused as duplicate ids) | ${f.resendsOfLandedIds} |`,
    `| assignments, exercises and expiries booked / orders flattening delivered shares | ${f.optionEvents} / ${f.sharesOrders} |`,
    `| spreads recommended / opened / closed by an exit rule / unwound (orphan leg) / closed otherwise | ${f.spreadRecommendations} / ${f.spreadsOpened} / ${f.spreadsClosedByExit} / ${f.spreadsUnwound} / ${f.spreadsClosedOtherwise} |`,
    `| spread orders accepted: mleg opens / mleg closes / single-leg unwind steps | ${f.spreadOpeningOrders} / ${f.spreadClosingOrders} / ${f.spreadLegOrders} |`,
    ...SPREAD_OUTSIDE_KINDS.map(
      (k) => `| outside the pipeline, on a spread's leg: ${k} | ${f.spreadOutside[k]} |`,
    ),
    `| pipeline orders on spread contracts checked for uncovering a short as they left | ${f.spreadCoverChecks} |`,
    `| runs with stops resting at the broker / stops placed / replaced (PATCH) | ${f.brokerStopRuns} / ${f.restingStopsPlaced} / ${f.restingStopReplacements} |`,
    `| **duplicates** | ${f.duplicates} |`,
    `| **oversells** | ${f.oversells} |`,
    `| **unintended shorts** | ${f.unintendedShorts} |`,
    `| **intent violations** | ${f.intentViolations} |`,
    `| **messages lost** | ${f.lost} |`,
    `| **table/broker divergences after convergence** | ${f.divergences} |`,
    `| positions with a protective exit due when the faults ended / model clock ticks | ${f.dueAtFaultEnd} / ${f.clockTicks} |`,
    `| records that waited for option events (the clock moved to the next trading day) | ${f.optionEventWaits} |`,
    `| runs with price-rule polling / polls / closing orders sent by polls (of them spread mleg closes) | ${f.pollingRuns} / ${f.polls} / ${f.pollClosingOrders} (${f.pollSpreadCloses}) |`,
    `| **liveness violations** (a due stop not flat within ${LIVENESS_SWEEPS} sweeps, or closing with no working order) | ${f.liveness} |`,
    `| books at rest: records checked (without a stored ledger) / holdings compared / broker reports applied again | ${f.books.booksRecords} (${f.books.booksLegacyRecords}) / ${f.books.holdingChecks} / ${f.books.reportsReapplied} |`,
    `| books at rest: fills booked / of them partial / option events booked / fees booked | ${f.books.ledgerFills} / ${f.books.ledgerPartialFills} / ${f.books.ledgerOptionEvents} / ${f.books.ledgerFees} |`,
    `| books at rest: reports the ledger had not booked yet (first re-application booked something) | ${f.books.reportsAheadOfLedger} |`,
    `| books at rest, counted (not violations yet): runs whose delivered shares differ from the ledgers' / of those compared | ${f.books.sharesMismatches} / ${f.books.sharesChecks} |`,
    `| books at rest, counted: option events at the broker booked on no record / exercises and assignments booked without the underlying's price | ${f.books.optionEventsUnbooked} / ${f.books.optionEventsAtStrike} |`,
    `| **ledger holding ≠ broker** (per contract and side; a closed record still holding) | ${f.holdingMismatches} |`,
    `| **stored P&L, fees or quantity ≠ ledger, or realized ≠ fills** (to the cent) | ${f.realizedMismatches} |`,
    `| **a broker report applied twice changed the books** | ${f.reportsNotIdempotent} |`,
    `| day P&L identity: runs checked / skipped (a mark unknown, delivered shares) | ${f.books.dayTotalChecks} / ${f.books.dayTotalSkipped} |`,
    `| **the sweep's day P&L ≠ the day's fills + the marks' change** (to the cent) | ${f.dayPnlMismatches} |`,
    `| **spreadUnintendedPosition** (a spread contract held beyond, or opposite to, the live spreads' legs) | ${f.spreadUnintendedPosition} |`,
    `| **nakedShortByPipeline** (a pipeline order leaving a spread's short leg uncovered) | ${f.nakedShortByPipeline} |`,
    `| **spreadNotFlat** (a spread the pipeline closed, not flat on every leg) | ${f.spreadNotFlat} |`,
    `| wall time | ${(elapsedMs / 1000).toFixed(1)} s |`,
  ];
  return ['| figure | value |', '| --- | --- |', ...lines].join('\n');
}
