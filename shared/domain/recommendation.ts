import * as z from 'zod/mini';
import { formatZodError } from './zod';
import { exitPlanSchema } from './exit-plan';
import { parseOccSymbol, type OccSymbol } from './occ';
import { InvalidRecommendationError } from './errors';
import { daysUntil } from './market-time';
import { isSpreadMessage, parseSpreadMessage, type SpreadRecommendation } from './spread-message';

export type { SpreadRecommendation } from './spread-message';

/** Largest SQS body we accept; anything bigger is refused before JSON parsing. */
const MAX_BODY_BYTES = 64 * 1024;

const RECOMMENDATION_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

const CREATED_AT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const CREATED_AT_FORMAT = 'expected an ISO 8601 timestamp with a time zone, e.g. 2026-11-24T15:01:00Z';

/**
 * The recommendation message: one JSON object per SQS message body (the public contract, see README).
 * Unknown fields are refused so that a typo never silently drops a rule.
 */
const recommendationSchema = z
  .strictObject({
    recommendation_id: z
      .string()
      .check(z.regex(RECOMMENDATION_ID_RE, 'expected 1-64 characters of A-Z a-z 0-9 . _ : -')),
    ticker: z
      .string()
      .check(z.regex(/^[A-Z]{1,6}$/, 'expected 1-6 uppercase ASCII letters (the underlying)')),
    option_symbol: z.optional(z.string().check(z.maxLength(32))),
    /** Instead of option_symbol: the account picks a CALL or PUT contract with the strategy's profile. */
    instrument_type: z.optional(z.enum(['CALL', 'PUT'])),
    /** A builtin profile (day_trade, swing_trade, conservative) or one of the account's own. */
    strategy: z.optional(
      z.string().check(z.regex(/^[a-z][a-z0-9_]{0,31}$/, 'expected a profile name (lowercase, digits, _)')),
    ),
    /** 0-1; scales the size when the profile says so. */
    confidence: z.optional(z.nullable(z.number().check(z.gte(0), z.lte(1)))),
    action: z.enum(['BUY', 'SELL']),
    /** Optional: without it, the account sizes the position with the strategy's profile. */
    num_contracts: z.optional(z.int().check(z.gte(1), z.lte(100_000))),
    order_type: z._default(z.enum(['market', 'limit']), 'market'),
    limit_price: z.optional(z.nullable(z.number().check(z.gt(0), z.lte(100_000)))),
    exit_plan: z.optional(z.nullable(exitPlanSchema)),
    created_at: z.optional(
      z.nullable(
        z
          .string()
          .check(
            z.regex(CREATED_AT_RE, CREATED_AT_FORMAT),
            z.refine(isRealTimestamp, 'not a real date and time'),
          ),
      ),
    ),
  })
  .check(
    z.refine((r) => (r.option_symbol === undefined) !== (r.instrument_type === undefined), {
      message: 'exactly one of option_symbol or instrument_type must be present',
      path: ['option_symbol'],
    }),
    z.refine((r) => r.order_type !== 'limit' || (r.limit_price ?? null) !== null, {
      message: 'limit_price (> 0) is required when order_type is "limit"',
      path: ['limit_price'],
    }),
    z.refine((r) => r.order_type !== 'market' || (r.limit_price ?? null) === null, {
      message: 'limit_price must be null or absent for a market order',
      path: ['limit_price'],
    }),
  );

export type RecommendationInput = z.infer<typeof recommendationSchema>;

/** A validated recommendation; `occ` is the parsed option symbol when the message names one. */
export interface Recommendation extends RecommendationInput {
  readonly order_type: 'market' | 'limit';
  readonly occ?: OccSymbol;
}

/**
 * Parses and validates an SQS message body. Throws {@link InvalidRecommendationError} with a specific,
 * loggable reason. Checks that need the account (size, age, days to expiry) live in `risk.ts`.
 */
export function parseRecommendation(body: string | undefined | null, now: Date): Recommendation {
  const raw = parseBody(body);
  return parseSingleLeg(raw, now);
}

/** A recommendation of either form: a single leg, or a spread (`kind: 'spread'`). */
export type AnyRecommendation = Recommendation | SpreadRecommendation;

/** Whether a parsed recommendation is the spread form. */
export function isSpreadRecommendation(rec: AnyRecommendation): rec is SpreadRecommendation {
  return (rec as { kind?: unknown }).kind === 'spread';
}

/**
 * Parses a message of either form: a body with `legs` or `spread` is a spread (docs/SPREADS.md), any other
 * is parsed exactly as {@link parseRecommendation} parses it. Throws {@link InvalidRecommendationError}.
 */
export function parseRecommendationMessage(body: string | undefined | null, now: Date): AnyRecommendation {
  const raw = parseBody(body);
  if (isSpreadMessage(raw)) {
    return parseSpreadMessage(raw as Record<string, unknown>, now, idOf(raw), createdAtProblem);
  }
  return parseSingleLeg(raw, now);
}

/** Why `s` is not an accepted `created_at`, or null. */
function createdAtProblem(s: string): string | null {
  if (!CREATED_AT_RE.test(s)) return CREATED_AT_FORMAT;
  return isRealTimestamp(s) ? null : 'not a real date and time';
}

/** The body as one JSON object, or the specific refusal. */
function parseBody(body: string | undefined | null): object {
  if (body === undefined || body === null || body.trim() === '') {
    throw new InvalidRecommendationError('empty message body', undefined, { reason: 'empty_body' });
  }
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    throw new InvalidRecommendationError(
      `message body is ${Buffer.byteLength(body, 'utf8')} bytes; at most ${MAX_BODY_BYTES} are accepted`,
      undefined,
      { reason: 'body_too_large' },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    throw new InvalidRecommendationError(`body is not valid JSON: ${(err as Error).message}`, undefined, {
      reason: 'invalid_json',
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidRecommendationError(
      `body must be one JSON object, got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`,
      undefined,
      { reason: 'not_an_object' },
    );
  }
  return raw;
}

function parseSingleLeg(raw: object, now: Date): Recommendation {
  const idGuess = idOf(raw);
  const result = recommendationSchema.safeParse(raw);
  if (!result.success) {
    throw new InvalidRecommendationError(`schema: ${formatZodError(result.error)}`, idGuess, {
      reason: 'schema',
    });
  }
  const rec = result.data;
  let parsed: OccSymbol | undefined;
  if (rec.option_symbol !== undefined) {
    const occ = parseOccSymbol(rec.option_symbol);
    if (!occ.ok) {
      throw new InvalidRecommendationError(`option_symbol: ${occ.error}`, rec.recommendation_id, {
        reason: 'option_symbol',
      });
    }
    if (occ.value.underlying !== rec.ticker) {
      throw new InvalidRecommendationError(
        `ticker ${rec.ticker} does not match the root of option_symbol ${rec.option_symbol} (${occ.value.underlying})`,
        rec.recommendation_id,
        { reason: 'ticker_mismatch' },
      );
    }
    if (daysUntil(occ.value.expiry, now) < 0) {
      throw new InvalidRecommendationError(
        `option_symbol ${rec.option_symbol} expired on ${occ.value.expiry}`,
        rec.recommendation_id,
        { reason: 'expired' },
      );
    }
    parsed = occ.value;
  }
  if (rec.created_at && Date.parse(rec.created_at) > now.getTime() + 5 * 60_000) {
    throw new InvalidRecommendationError(
      `created_at ${rec.created_at} is in the future`,
      rec.recommendation_id,
      { reason: 'created_in_future' },
    );
  }
  return { ...rec, order_type: rec.order_type, ...(parsed ? { occ: parsed } : {}) };
}

function idOf(raw: object): string | undefined {
  const id = (raw as Record<string, unknown>).recommendation_id;
  return typeof id === 'string' && RECOMMENDATION_ID_RE.test(id) ? id : undefined;
}

/** Date.parse is lenient (2026-02-30 becomes March 2): check the calendar fields round-trip. */
function isRealTimestamp(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(s);
  if (!m || Number.isNaN(Date.parse(s))) return false;
  const [, y, mo, d, h, mi] = m.map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h <= 23 && mi <= 59;
}
