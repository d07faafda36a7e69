/**
 * Alpaca's non-trade activities (`GET /v2/account/activities`) as {@link BrokerActivity} values: the
 * listing the sweep reads when an option contract disappeared (assignment, exercise, expiry) and its fees.
 * Each entry is checked with zod; a malformed one is a transient bad response (the next sweep reads again).
 */
import * as z from 'zod/mini';
import type { trading } from '@alpacahq/alpaca-trade-api/rest';
import { TransientError } from '../domain/errors';
import { formatZodError } from '../domain/zod';
import { OPTION_ACTIVITY_TYPES, type BrokerActivity } from '../domain/broker-types';

/** Page size of the listing (Alpaca's maximum) and the most pages one listing reads. */
const ACTIVITY_PAGE_SIZE = 100;
const MAX_ACTIVITY_PAGES = 5;

const decimal = z.string().check(z.regex(/^-?\d+(\.\d+)?$/, 'expected a decimal string'));

// The SDK keeps the raw snake_case fields beside its own (and turns `date` into a Date).
const activitySchema = z.object({
  id: z.string().check(z.minLength(1)),
  activity_type: z.enum(OPTION_ACTIVITY_TYPES),
  date: z.union([z.date(), z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}/, 'expected YYYY-MM-DD'))]),
  symbol: z.optional(z.nullable(z.string())),
  qty: z.optional(z.nullable(decimal)),
  net_amount: z.optional(z.nullable(decimal)),
});

/** One entry of the listing; throws TransientError (`broker_bad_response`) naming the bad field. */
export function toBrokerActivity(raw: unknown): BrokerActivity {
  const r = activitySchema.safeParse(raw);
  if (!r.success) {
    throw new TransientError(`Alpaca sent a malformed activity: ${formatZodError(r.error)}`, {
      reason: 'broker_bad_response',
    });
  }
  const a = r.data;
  return {
    id: a.id,
    type: a.activity_type,
    date: a.date instanceof Date ? a.date.toISOString().slice(0, 10) : a.date.slice(0, 10),
    symbol: a.symbol ?? null,
    qty: a.qty ? Number(a.qty) : 0,
    net_amount: a.net_amount ? Number(a.net_amount) : 0,
  };
}

const WANTED_TYPES: ReadonlySet<string> = new Set(OPTION_ACTIVITY_TYPES);

/** True for an entry of a type the listing asked for; false for one the filter should have excluded. */
function isWantedType(raw: unknown): boolean {
  const t = (raw as { activity_type?: unknown; activityType?: unknown } | null)?.activity_type;
  return typeof t === 'string' && WANTED_TYPES.has(t);
}

/** The id of a raw entry (the next page starts after it), or undefined. */
function rawId(raw: unknown): string | undefined {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** A listing of activities with the count of entries it skipped (non-enumerable; read with `skippedOf`). */
export type ActivityListing = BrokerActivity[] & { readonly skipped?: number };

/**
 * Every page of the option activities after `afterIso`, oldest first (`direction=asc`, the next page from
 * the last id), at most {@link MAX_ACTIVITY_PAGES}: activities past them are absent, so callers treat a
 * missing activity as "unknown", never as "none happened". An entry of a type the filter should have
 * excluded (FILL, DIV, ...) is skipped and counted in `skipped`, never failing the listing; a malformed
 * entry of a wanted type still fails it (TransientError): booking it wrong would be worse than waiting.
 */
export async function listOptionActivities(
  afterIso: string,
  page: (q: trading.GetAccountActivitiesRequest) => Promise<unknown[]>,
): Promise<ActivityListing> {
  const out: BrokerActivity[] = [];
  let skipped = 0;
  let pageToken: string | undefined;
  for (let i = 0; i < MAX_ACTIVITY_PAGES; i++) {
    const list = await page({
      activityTypes: [...OPTION_ACTIVITY_TYPES],
      after: new Date(afterIso),
      direction: 'asc',
      pageSize: ACTIVITY_PAGE_SIZE,
      ...(pageToken ? { pageToken } : {}),
    });
    for (const raw of list) {
      if (isWantedType(raw)) out.push(toBrokerActivity(raw));
      else skipped++;
    }
    const last = list.length ? rawId(list[list.length - 1]) : undefined;
    if (list.length < ACTIVITY_PAGE_SIZE || last === undefined) break;
    pageToken = last;
  }
  Object.defineProperty(out, 'skipped', { value: skipped, enumerable: false });
  return out as ActivityListing;
}
