/**
 * How a spread record is stored: under the same key as a single-leg record (`POS#<recommendation_id>`, so
 * one recommendation has one record whatever its form, and one claim guards both), the whole record as
 * one JSON string in `record`, with `kind: "spread"` beside it so the single-leg reads leave it out.
 */
import { InvalidRecommendationError } from '../domain/errors';
import { LIVE_STATES } from '../domain/position';
import { isSpreadRecord, type SpreadPosition } from '../domain/spread-position';
import { liveIndexPk, positionPk, positionSk } from '../table-schema';

/** The item attribute that marks a spread record. */
export const SPREAD_KIND = 'spread';

/** Is this item a spread record? */
export function isSpreadItem(item: Record<string, unknown>): boolean {
  return item.kind === SPREAD_KIND;
}

/** Throws when a single-leg read meets a spread's item: one recommendation, one record, whatever its form. */
export function refuseSpreadItem(item: Record<string, unknown>, id: string): void {
  if (!isSpreadItem(item)) return;
  throw new InvalidRecommendationError(
    `recommendation_id ${id} is already a spread's: one recommendation, one record`,
    id,
    { reason: 'duplicate_recommendation_id' },
  );
}

export function toSpreadItem(sp: SpreadPosition): Record<string, unknown> {
  return {
    pk: positionPk(sp.account),
    sk: positionSk(sp.position_id),
    ...(LIVE_STATES.has(sp.state) ? { live_account: liveIndexPk(sp.account) } : {}),
    kind: SPREAD_KIND,
    version: sp.version,
    state: sp.state,
    ticker: sp.ticker,
    legs: sp.legs.map((l) => `${l.side} ${l.ratio_qty} ${l.option_symbol}`).join(', '),
    updated_at: sp.updated_at,
    ...(sp.state === 'closed' && sp.closed_at ? { closed_at: sp.closed_at } : {}),
    record: JSON.stringify(sp),
  };
}

/**
 * The spread record an item holds; the item's `version` wins (the conditional writes test it).
 * @throws Error naming the item when its record is not a spread record.
 */
export function spreadFromItem(item: Record<string, unknown>): SpreadPosition {
  const where = `${String(item.pk)} ${String(item.sk)}`;
  if (typeof item.record !== 'string') throw new Error(`spread item ${where} has no record`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(item.record);
  } catch (err) {
    throw new Error(`spread item ${where}: record is not valid JSON`, { cause: err });
  }
  if (!isSpreadRecord(parsed)) throw new Error(`spread item ${where}: record is not a spread record`);
  if (!Array.isArray(parsed.legs) || parsed.legs.length < 2) {
    throw new Error(`spread item ${where}: record has no legs`);
  }
  return { ...parsed, version: typeof item.version === 'number' ? item.version : parsed.version };
}
