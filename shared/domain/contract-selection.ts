/**
 * Picks the option contract a strategy profile asks for from an underlying's option chain. Pure: the
 * caller fetches the chain (snapshots for the underlying) and the broker's session close, and passes `now`.
 */
import { daysUntil, newYorkTime } from './market-time';
import type { ProfileSelection } from './strategy-profiles';

/** One contract of the chain, from the broker's snapshots. Prices are dollars per share. */
export interface ChainContract {
  /** OCC symbol, e.g. `XYZ260320C00203000`. */
  readonly symbol: string;
  /** Expiration date, `YYYY-MM-DD` (a New York date). */
  readonly expiry: string;
  readonly type: 'call' | 'put';
  /** Strike, dollars per share. */
  readonly strike: number;
  /** Best bid, dollars per share. */
  readonly bid: number;
  /** Best ask, dollars per share. */
  readonly ask: number;
  /** When the quote was made (ISO 8601); absent = age unknown, accepted. */
  readonly quoteTime?: string;
  /** Contracts traded today; absent = unknown. */
  readonly volume?: number;
  /** Open contracts; absent = unknown. */
  readonly openInterest?: number;
  /** Signed delta (calls positive, puts negative); absent = unknown. */
  readonly delta?: number;
}

/**
 * The filters, in the order they run. Each sees only the contracts every earlier filter let through.
 * - `type`: the requested call or put.
 * - `dte`: days to expiry (New York dates, {@link daysUntil}) within `dte_min..dte_max`; a contract
 *   expiring today is also excluded from 15:30 ET or 30 minutes before an earlier session close, when
 *   Alpaca refuses new openings in it.
 * - `quote`: a usable quote: finite, bid > 0 (someone to sell back to), ask >= bid, strike > 0, and not
 *   older than `maxQuoteAgeSeconds`.
 * - `min_mid`: mid (bid+ask)/2 >= `min_mid_price`.
 * - `spread`: (ask - bid) / mid <= `max_spread_pct_of_mid`.
 * - `volume`: volume >= `min_volume` (unknown volume fails unless `min_volume` is 0).
 * - `open_interest`: open interest >= `min_open_interest` (unknown fails unless the minimum is 0).
 * - `delta`: |delta| within `delta_min..delta_max` (unknown fails unless both are null).
 */
export const SELECTION_FILTERS = [
  'type',
  'dte',
  'quote',
  'min_mid',
  'spread',
  'volume',
  'open_interest',
  'delta',
] as const;

/** The name of one selection filter. */
export type SelectionFilter = (typeof SELECTION_FILTERS)[number];

/** Weights of the ranking score; see {@link selectContract}. */
const SCORE_WEIGHTS = Object.freeze({
  /** Points per percentage point of spot between the contract's moneyness and the target. */
  moneynessPerPctPoint: 1,
  /** Points per 100% of spread-to-mid (so a 10% spread costs 1 point). */
  spreadShare: 10,
  /** Points for a DTE at either end of the profile's range (0 at its midpoint, linear between). */
  dteAtRangeEdge: 0.5,
});

/** Why the winner won: the inputs of its score, recorded on the position. */
export interface SelectionWhy {
  readonly underlyingPricePerShare: number;
  readonly type: 'call' | 'put';
  readonly strike: number;
  readonly expiry: string;
  readonly dte: number;
  readonly dteRange: readonly [number, number];
  /** Signed, positive = out of the money. */
  readonly moneyness: number;
  readonly targetMoneyness: number;
  readonly bidPerShare: number;
  readonly askPerShare: number;
  readonly midPerShare: number;
  readonly spreadPctOfMid: number;
  readonly volume: number | null;
  readonly openInterest: number | null;
  readonly delta: number | null;
  /** The three weighted terms; their sum is the score. */
  readonly scoreTerms: { readonly moneyness: number; readonly spread: number; readonly dte: number };
  /** The second-best candidate, when there was one. */
  readonly runnerUp: { readonly symbol: string; readonly score: number } | null;
}

/** How many contracts each filter excluded (0 for filters that never ran). */
export type ExcludedCounts = Readonly<Record<SelectionFilter, number>>;

/** The result of {@link selectContract}. */
export type SelectionResult =
  | {
      readonly ok: true;
      readonly winner: ChainContract;
      /** Lower is better. */
      readonly score: number;
      /** Contracts that passed every filter and were ranked. */
      readonly candidatesConsidered: number;
      readonly why: SelectionWhy;
      readonly excludedCounts: ExcludedCounts;
    }
  | {
      readonly ok: false;
      /** One line, naming the filter and its threshold. */
      readonly reason: string;
      /** The filter that excluded the last remaining candidates (`empty_chain`: there were none). */
      readonly excludedBy: SelectionFilter | 'empty_chain' | 'underlying_price';
      readonly excludedCounts: ExcludedCounts;
    };

/** Input of {@link selectContract}. */
export interface SelectContractInput {
  /** The underlying's option chain (any mix of expiries and types). */
  readonly chain: readonly ChainContract[];
  /** The underlying's price now, dollars per share. */
  readonly underlyingPrice: number;
  readonly type: 'call' | 'put';
  readonly profile: { readonly selection: ProfileSelection };
  readonly now: Date;
  /** The broker's close of today's session (early closes count); absent = a 16:00 ET close is assumed. */
  readonly sessionClose?: Date | null;
  /** Quotes older than this are unusable. @default 120 */
  readonly maxQuoteAgeSeconds?: number;
}

/** Alpaca refuses openings in a contract expiring today from 15:30 ET (30 minutes before a 16:00 close). */
const EXPIRY_DAY_OPEN_CUTOFF_MINUTE_ET = 15 * 60 + 30;
const EXPIRY_DAY_OPEN_CUTOFF_BEFORE_CLOSE_MS = 30 * 60_000;

interface Candidate {
  readonly contract: ChainContract;
  readonly dte: number;
  readonly mid: number;
  readonly spreadPct: number;
  readonly moneyness: number;
}

/**
 * Picks the contract the profile asks for. Filters run in {@link SELECTION_FILTERS} order; the survivors
 * are ranked by a score, lower is better:
 *
 * ```
 * score = 1   x |moneyness - target| x 100         (percentage points of spot off the target)
 *       + 10  x (ask - bid) / mid                   (10% spread = 1 point)
 *       + 0.5 x |dte - mid(dte range)| / half-width (0 at the range's midpoint, 0.5 at its edges;
 *                                                    half-width taken as 1 for ranges narrower than 2)
 * ```
 * where moneyness = (strike - spot) / spot for a call and (spot - strike) / spot for a put (positive = out
 * of the money). Ties (scores equal to 1e-9) go to the alphabetically first symbol, so the result does
 * not depend on the chain's order. When no contract survives, the refusal names the filter that excluded
 * the last candidates and how many each filter excluded.
 */
export function selectContract(input: SelectContractInput): SelectionResult {
  const { chain, underlyingPrice, type, now } = input;
  const sel = input.profile.selection;
  const maxQuoteAgeMs = (input.maxQuoteAgeSeconds ?? 120) * 1000;
  const excluded: Record<SelectionFilter, number> = {
    type: 0,
    dte: 0,
    quote: 0,
    min_mid: 0,
    spread: 0,
    volume: 0,
    open_interest: 0,
    delta: 0,
  };
  if (!Number.isFinite(underlyingPrice) || underlyingPrice <= 0) {
    return {
      ok: false,
      reason: `underlying price ${underlyingPrice} is not a positive number`,
      excludedBy: 'underlying_price',
      excludedCounts: excluded,
    };
  }
  if (chain.length === 0) {
    return {
      ok: false,
      reason: 'the option chain is empty',
      excludedBy: 'empty_chain',
      excludedCounts: excluded,
    };
  }

  const toCandidate = (c: ChainContract): Candidate => {
    const mid = (c.bid + c.ask) / 2;
    const signed = (c.strike - underlyingPrice) / underlyingPrice;
    return {
      contract: c,
      dte: daysUntil(c.expiry, now),
      mid,
      spreadPct: mid > 0 ? (c.ask - c.bid) / mid : Number.POSITIVE_INFINITY,
      moneyness: c.type === 'call' ? signed : -signed,
    };
  };

  const tests = selectionFilters(input, sel, maxQuoteAgeMs);

  let remaining = chain.map(toCandidate);
  for (const [filter, passes, why] of tests) {
    const next = remaining.filter(passes);
    excluded[filter] = remaining.length - next.length;
    if (next.length === 0) {
      return {
        ok: false,
        reason: `no ${type} fits the profile: the ${filter} filter excluded the last ${remaining.length} candidate(s) (${why}); excluded per filter: ${SELECTION_FILTERS.map((f) => `${f} ${excluded[f]}`).join(', ')}`,
        excludedBy: filter,
        excludedCounts: excluded,
      };
    }
    remaining = next;
  }

  const ranked = rank(remaining, sel);
  return winnerOf(ranked, excluded, underlyingPrice, sel);
}

type FilterTest = [SelectionFilter, (k: Candidate) => boolean, string];

/** The filters in {@link SELECTION_FILTERS} order: each with its test and the why a refusal names. */
function selectionFilters(
  input: SelectContractInput,
  sel: ProfileSelection,
  maxQuoteAgeMs: number,
): FilterTest[] {
  const { type, now } = input;
  const ny = newYorkTime(now);
  const sessionClose = input.sessionClose ?? null;
  const expiringTodayClosed =
    ny.minuteOfDay >= EXPIRY_DAY_OPEN_CUTOFF_MINUTE_ET ||
    (sessionClose !== null &&
      now.getTime() >= sessionClose.getTime() - EXPIRY_DAY_OPEN_CUTOFF_BEFORE_CLOSE_MS);

  return [
    ['type', (k) => k.contract.type === type, `not a ${type}`],
    [
      'dte',
      (k) => k.dte >= sel.dte_min && k.dte <= sel.dte_max && !(k.dte === 0 && expiringTodayClosed),
      `days to expiry outside ${sel.dte_min}-${sel.dte_max}${
        expiringTodayClosed ? ' (contracts expiring today are closed to new positions now)' : ''
      }`,
    ],
    ['quote', (k) => quoteIsUsable(k.contract, now, maxQuoteAgeMs), 'no usable quote'],
    ['min_mid', (k) => k.mid >= sel.min_mid_price, `mid below $${sel.min_mid_price.toFixed(2)}`],
    [
      'spread',
      (k) => k.spreadPct <= sel.max_spread_pct_of_mid,
      `spread wider than ${pct(sel.max_spread_pct_of_mid)} of mid`,
    ],
    [
      'volume',
      (k) => atLeast(k.contract.volume, sel.min_volume),
      `volume below ${sel.min_volume} (or unknown)`,
    ],
    [
      'open_interest',
      (k) => atLeast(k.contract.openInterest, sel.min_open_interest),
      `open interest below ${sel.min_open_interest} (or unknown)`,
    ],
    [
      'delta',
      (k) => deltaInRange(k.contract.delta, sel.delta_min, sel.delta_max),
      `|delta| outside ${sel.delta_min ?? 0}-${sel.delta_max ?? 1} (or unknown)`,
    ],
  ];
}

interface Ranked {
  readonly k: Candidate;
  readonly terms: { readonly moneyness: number; readonly spread: number; readonly dte: number };
  readonly score: number;
}

/** The survivors by score, lowest first; equal scores by symbol. */
function rank(remaining: readonly Candidate[], sel: ProfileSelection): Ranked[] {
  const dteMid = (sel.dte_min + sel.dte_max) / 2;
  const dteHalfWidth = Math.max(1, (sel.dte_max - sel.dte_min) / 2);
  return remaining
    .map((k) => {
      const terms = {
        moneyness: SCORE_WEIGHTS.moneynessPerPctPoint * Math.abs(k.moneyness - sel.moneyness) * 100,
        spread: SCORE_WEIGHTS.spreadShare * k.spreadPct,
        dte: (SCORE_WEIGHTS.dteAtRangeEdge * Math.abs(k.dte - dteMid)) / dteHalfWidth,
      };
      return { k, terms, score: terms.moneyness + terms.spread + terms.dte };
    })
    .sort((a, b) =>
      Math.abs(a.score - b.score) > 1e-9
        ? a.score - b.score
        : a.k.contract.symbol < b.k.contract.symbol
          ? -1
          : a.k.contract.symbol > b.k.contract.symbol
            ? 1
            : 0,
    );
}

/** The winning contract's result, with the inputs and score terms that chose it. */
function winnerOf(
  ranked: readonly Ranked[],
  excluded: Record<SelectionFilter, number>,
  underlyingPrice: number,
  sel: ProfileSelection,
): SelectionResult {
  const best = ranked[0];
  const c = best.k.contract;
  return {
    ok: true,
    winner: c,
    score: best.score,
    candidatesConsidered: ranked.length,
    excludedCounts: excluded,
    why: {
      underlyingPricePerShare: underlyingPrice,
      type: c.type,
      strike: c.strike,
      expiry: c.expiry,
      dte: best.k.dte,
      dteRange: [sel.dte_min, sel.dte_max],
      moneyness: best.k.moneyness,
      targetMoneyness: sel.moneyness,
      bidPerShare: c.bid,
      askPerShare: c.ask,
      midPerShare: best.k.mid,
      spreadPctOfMid: best.k.spreadPct,
      volume: c.volume ?? null,
      openInterest: c.openInterest ?? null,
      delta: c.delta ?? null,
      scoreTerms: best.terms,
      runnerUp: ranked.length > 1 ? { symbol: ranked[1].k.contract.symbol, score: ranked[1].score } : null,
    },
  };
}

function quoteIsUsable(c: ChainContract, now: Date, maxAgeMs: number): boolean {
  if (![c.bid, c.ask, c.strike].every(Number.isFinite)) return false;
  if (c.bid <= 0 || c.ask < c.bid || c.strike <= 0) return false;
  if (c.quoteTime !== undefined) {
    const t = Date.parse(c.quoteTime);
    if (Number.isNaN(t) || now.getTime() - t > maxAgeMs) return false;
  }
  return true;
}

function atLeast(value: number | undefined, min: number): boolean {
  if (min <= 0) return true;
  return value !== undefined && Number.isFinite(value) && value >= min;
}

function deltaInRange(delta: number | undefined, min: number | null, max: number | null): boolean {
  if (min === null && max === null) return true;
  if (delta === undefined || !Number.isFinite(delta)) return false;
  const abs = Math.abs(delta);
  return (min === null || abs >= min) && (max === null || abs <= max);
}

function pct(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))}%`;
}
