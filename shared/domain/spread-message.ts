/**
 * The spread form of the recommendation message (docs/SPREADS.md): a message that names its legs
 * (`legs`) or asks a profile to build a structure from the chain (`spread`). Single-leg messages are parsed
 * by `recommendation.ts` exactly as before; {@link isSpreadMessage} tells the two apart by these two keys.
 */
import * as z from 'zod/mini';
import { formatZodError } from './zod';
import { exitPlanSchema } from './exit-plan';
import { parseOccSymbol } from './occ';
import { InvalidRecommendationError } from './errors';
import { daysUntil } from './market-time';
import {
  MAX_SPREAD_LEGS,
  MIN_SPREAD_LEGS,
  SPREAD_STRATEGIES,
  type SpreadLeg,
  type SpreadStrategy,
} from './spread-types';

const legSchema = z.strictObject({
  option_symbol: z.string().check(z.maxLength(32)),
  side: z.enum(['buy', 'sell']),
  /** Whole contracts of this leg per multiple of the spread; checked by hand for a specific error. */
  ratio_qty: z._default(z.number(), 1),
});

/** What a profile builds: the structure, its direction, and how its strikes and expiry are picked. */
const buildSchema = z.strictObject({
  strategy: z.enum(SPREAD_STRATEGIES),
  /** `buy` the structure (a net debit: a long vertical, straddle...) or `sell` it (a net credit). */
  side: z.enum(['buy', 'sell']),
  /** Verticals only: a call or a put spread. */
  type: z.optional(z.enum(['call', 'put'])),
  /** Dollars between the strikes of a vertical, or of the wings of an iron condor or butterfly. */
  width: z.optional(z.number().check(z.gt(0), z.lte(10_000))),
  /** The first strike (a vertical's near leg, a strangle's or condor's short strikes) by |delta| ... */
  delta: z.optional(z.number().check(z.gt(0), z.lt(1))),
  /** ... or by listed strikes away from the money (0 = at the money). */
  strikes_away: z.optional(z.int().check(z.gte(0), z.lte(50))),
  /** Target days to expiry: the listed expiry nearest to it (ties: the earlier). */
  days_to_expiry: z.int().check(z.gte(0), z.lte(3650)),
});

const spreadMessageSchema = z.strictObject({
  recommendation_id: z
    .string()
    .check(z.regex(/^[A-Za-z0-9._:-]{1,64}$/, 'expected 1-64 characters of A-Z a-z 0-9 . _ : -')),
  ticker: z.string().check(z.regex(/^[A-Z]{1,6}$/, 'expected 1-6 uppercase ASCII letters (the underlying)')),
  legs: z.optional(z.array(legSchema)),
  spread: z.optional(buildSchema),
  strategy: z.optional(
    z.string().check(z.regex(/^[a-z][a-z0-9_]{0,31}$/, 'expected a profile name (lowercase, digits, _)')),
  ),
  confidence: z.optional(z.nullable(z.number().check(z.gte(0), z.lte(1)))),
  /** The spread's multiple: every leg trades ratio_qty x num_contracts. Without it the profile sizes it. */
  num_contracts: z.optional(z.int().check(z.gte(1), z.lte(100_000))),
  order_type: z._default(z.enum(['market', 'limit']), 'market'),
  /** Net per share of the whole spread: positive = a debit you pay, negative = a credit you receive. */
  limit_price: z.optional(z.nullable(z.number().check(z.gte(-100_000), z.lte(100_000)))),
  exit_plan: z.optional(z.nullable(exitPlanSchema)),
  created_at: z.optional(z.nullable(z.string())),
});

type SpreadMessageInput = z.infer<typeof spreadMessageSchema>;

/** A structure a profile is asked to build. */
export type SpreadBuildRequest = z.infer<typeof buildSchema>;

/** A validated spread recommendation: named legs (`legs`) or a structure to build (`build`). */
export interface SpreadRecommendation {
  readonly kind: 'spread';
  readonly recommendation_id: string;
  readonly ticker: string;
  /** Named legs, validated (2-4, one underlying, distinct contracts, whole reduced ratios). */
  readonly legs?: readonly SpreadLeg[];
  readonly build?: SpreadBuildRequest & { readonly strategy: SpreadStrategy };
  readonly strategy?: string;
  readonly confidence?: number | null;
  readonly num_contracts?: number;
  readonly order_type: 'market' | 'limit';
  readonly limit_price?: number | null;
  readonly exit_plan?: SpreadMessageInput['exit_plan'];
  readonly created_at?: string | null;
}

/** Whether a parsed JSON object is a spread message (it has `legs` or `spread`). */
export function isSpreadMessage(raw: object): boolean {
  return 'legs' in raw || 'spread' in raw;
}

/** Single-leg fields a spread message must not carry, with why. */
const SINGLE_LEG_ONLY: Record<string, string> = {
  option_symbol: 'a spread names its contracts in legs[].option_symbol',
  instrument_type: 'a spread to build says spread.strategy (and spread.type for a vertical)',
  action: 'each leg names its side (legs[].side), or spread.side says buy or sell the structure',
};

function refuse(message: string, id: string | undefined, reason: string): never {
  throw new InvalidRecommendationError(message, id, { reason });
}

/**
 * Validates a spread message (already a JSON object). `createdAtCheck` is the single-leg parser's own
 * `created_at` check, so both forms accept the same timestamps. Throws {@link InvalidRecommendationError}
 * with a specific reason: `schema`, `spread_form`, `spread_legs_count`, `spread_ratio_not_whole`,
 * `spread_ratio_not_reduced`, `spread_duplicate_contract`, `spread_mixed_underlyings`, `option_symbol`,
 * `ticker_mismatch`, `expired`, `spread_build`, `spread_limit_price`.
 */
export function parseSpreadMessage(
  raw: Record<string, unknown>,
  now: Date,
  idGuess: string | undefined,
  createdAtCheck: (createdAt: string) => string | null,
): SpreadRecommendation {
  for (const [key, why] of Object.entries(SINGLE_LEG_ONLY)) {
    if (key in raw) refuse(`schema: ${key}: not a field of a spread message (${why})`, idGuess, 'schema');
  }
  if ('legs' in raw && 'spread' in raw) {
    refuse('a spread message has legs or spread, not both', idGuess, 'spread_form');
  }
  if (Array.isArray(raw.legs) && (raw.legs.length < MIN_SPREAD_LEGS || raw.legs.length > MAX_SPREAD_LEGS)) {
    refuse(
      `legs: a spread has ${MIN_SPREAD_LEGS}-${MAX_SPREAD_LEGS} legs (Alpaca mleg), got ${raw.legs.length}`,
      idGuess,
      'spread_legs_count',
    );
  }
  const result = spreadMessageSchema.safeParse(raw);
  if (!result.success) refuse(`schema: ${formatZodError(result.error)}`, idGuess, 'schema');
  const msg = result.data;
  const id = msg.recommendation_id;

  if (msg.created_at !== undefined && msg.created_at !== null) {
    const bad = createdAtCheck(msg.created_at);
    if (bad) refuse(`schema: created_at: ${bad}`, id, 'schema');
    if (Date.parse(msg.created_at) > now.getTime() + 5 * 60_000) {
      refuse(`created_at ${msg.created_at} is in the future`, id, 'created_in_future');
    }
  }
  checkPrice(msg, id);

  const base = {
    kind: 'spread' as const,
    recommendation_id: id,
    ticker: msg.ticker,
    order_type: msg.order_type,
    ...(msg.strategy !== undefined ? { strategy: msg.strategy } : {}),
    ...(msg.confidence !== undefined ? { confidence: msg.confidence } : {}),
    ...(msg.num_contracts !== undefined ? { num_contracts: msg.num_contracts } : {}),
    ...(msg.limit_price !== undefined ? { limit_price: msg.limit_price } : {}),
    ...(msg.exit_plan !== undefined ? { exit_plan: msg.exit_plan } : {}),
    ...(msg.created_at !== undefined ? { created_at: msg.created_at } : {}),
  };
  if (msg.legs) return { ...base, legs: validateLegs(msg.legs, msg.ticker, id, now) };
  return { ...base, build: validateBuild(msg.spread!, id) };
}

function checkPrice(msg: SpreadMessageInput, id: string): void {
  const price = msg.limit_price ?? null;
  if (msg.order_type === 'limit' && price === null) {
    refuse(
      'limit_price is required when order_type is "limit" (net per share: positive debit, negative credit)',
      id,
      'spread_limit_price',
    );
  }
  if (msg.order_type === 'limit' && price === 0) {
    refuse('limit_price 0: a net debit is positive, a net credit negative', id, 'spread_limit_price');
  }
  if (msg.order_type === 'market' && price !== null) {
    refuse('limit_price must be null or absent for a market order', id, 'spread_limit_price');
  }
}

function validateLegs(
  legs: ReadonlyArray<{ option_symbol: string; side: 'buy' | 'sell'; ratio_qty: number }>,
  ticker: string,
  id: string,
  now: Date,
): SpreadLeg[] {
  const out: SpreadLeg[] = [];
  const seen = new Map<string, number>();
  let underlying: string | null = null;
  legs.forEach((leg, i) => {
    const where = `legs[${i}]`;
    if (!Number.isInteger(leg.ratio_qty) || leg.ratio_qty < 1 || leg.ratio_qty > 100) {
      refuse(
        `${where}.ratio_qty: ${leg.ratio_qty} is not a whole number of contracts from 1 to 100`,
        id,
        'spread_ratio_not_whole',
      );
    }
    const occ = parseOccSymbol(leg.option_symbol);
    if (!occ.ok) refuse(`${where}.option_symbol: ${occ.error}`, id, 'option_symbol');
    const first = seen.get(leg.option_symbol);
    if (first !== undefined) {
      refuse(
        `${where}: ${leg.option_symbol} is also legs[${first}]; a spread has one leg per contract`,
        id,
        'spread_duplicate_contract',
      );
    }
    seen.set(leg.option_symbol, i);
    if (underlying !== null && occ.value.underlying !== underlying) {
      refuse(
        `${where}: ${leg.option_symbol} is on ${occ.value.underlying}, legs[0] on ${underlying}; a spread has one underlying`,
        id,
        'spread_mixed_underlyings',
      );
    }
    underlying = occ.value.underlying;
    if (occ.value.underlying !== ticker) {
      refuse(
        `ticker ${ticker} does not match the root of ${where}.option_symbol ${leg.option_symbol} (${occ.value.underlying})`,
        id,
        'ticker_mismatch',
      );
    }
    if (daysUntil(occ.value.expiry, now) < 0) {
      refuse(`${where}.option_symbol ${leg.option_symbol} expired on ${occ.value.expiry}`, id, 'expired');
    }
    out.push({ option_symbol: leg.option_symbol, side: leg.side, ratio_qty: leg.ratio_qty, occ: occ.value });
  });
  const divisor = out.map((l) => l.ratio_qty).reduce(gcd);
  if (divisor > 1) {
    refuse(
      `legs: ratios ${out.map((l) => l.ratio_qty).join(':')} are not in lowest terms; send ${out
        .map((l) => l.ratio_qty / divisor)
        .join(':')} and multiply num_contracts by ${divisor}`,
      id,
      'spread_ratio_not_reduced',
    );
  }
  return out;
}

function validateBuild(b: SpreadBuildRequest, id: string): SpreadBuildRequest {
  const bad = (message: string): never => refuse(`spread: ${message}`, id, 'spread_build');
  const needsWidth =
    b.strategy === 'vertical' || b.strategy === 'iron_condor' || b.strategy === 'iron_butterfly';
  if (b.strategy === 'vertical' && b.type === undefined) bad('type (call or put) is required for a vertical');
  if (b.strategy !== 'vertical' && b.type !== undefined) bad(`type is for a vertical, not a ${b.strategy}`);
  if (needsWidth && b.width === undefined)
    bad(`width (dollars between strikes) is required for a ${b.strategy}`);
  if (!needsWidth && b.width !== undefined) bad(`width does not apply to a ${b.strategy}`);
  if (b.delta !== undefined && b.strikes_away !== undefined) bad('give delta or strikes_away, not both');
  if (
    (b.strategy === 'straddle' || b.strategy === 'iron_butterfly') &&
    (b.delta ?? b.strikes_away) !== undefined
  ) {
    bad(`a ${b.strategy} is built at the money: delta and strikes_away do not apply`);
  }
  return b;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
