/**
 * How a position is stored in a DynamoDB item: the item encoding ({@link toItem}) and decoding
 * ({@link positionFromItem}, {@link readPositions}).
 */
import { LIVE_STATES, normalizeStoredPosition, type Position } from '../domain/position';
import { readStoredExitPlan } from '../domain/exit-plan';
import { UnreadableRecordsError } from '../domain/errors';
import { liveIndexPk, positionPk, positionSk } from '../table-schema';

/**
 * The positions `items` hold.
 * @throws UnreadableRecordsError when some cannot be read, carrying those that could.
 */
export function readPositions(items: readonly Record<string, unknown>[]): Position[] {
  const readable: Position[] = [];
  const unreadable: Array<{ key: string; reason: string }> = [];
  for (const item of items) {
    try {
      readable.push(positionFromItem(item));
    } catch (err) {
      unreadable.push({ key: `${String(item.pk)} ${String(item.sk)}`, reason: (err as Error).message });
    }
  }
  if (unreadable.length) throw new UnreadableRecordsError(readable, unreadable);
  return readable;
}

/**
 * A position item: the whole record as one JSON string in `record`, beside what DynamoDB itself reads
 * (the keys; `live_account`, the sparse live-positions index key; `version`, the conditional writes'
 * guard) and copies of a few fields for people browsing the table (state, ticker, option_symbol, side,
 * quantity, updated_at, and closed_at once closed), rewritten with every write. Only `closed_at` is ever
 * read, by the report's filter (`DynamoPositionStore.listPositions`); the record stays the truth.
 *
 * Why one string: a sweep reads every live item every minute, and the SDK decodes one string attribute
 * about 2.5 times faster than forty typed ones (docs/BENCHMARKS.md). Items written before this format, one
 * attribute per field, are still read ({@link positionFromItem}) and take this format when next written.
 */
export function toItem(p: Position): Record<string, unknown> {
  return {
    pk: positionPk(p.account),
    sk: positionSk(p.position_id),
    // Present only while live: this is what keeps the live-positions index sparse.
    ...(LIVE_STATES.has(p.state) ? { live_account: liveIndexPk(p.account) } : {}),
    version: p.version,
    state: p.state,
    ticker: p.ticker,
    option_symbol: p.option_symbol,
    side: p.side,
    quantity: p.quantity,
    updated_at: p.updated_at,
    // Once closed: what the report's query filters on (listPositions), and a date to browse by.
    ...(p.state === 'closed' && p.closed_at ? { closed_at: p.closed_at } : {}),
    record: recordJson(p),
  };
}

/**
 * The record as JSON without its top-level nulls: a missing field reads back as null (see
 * normalizeStoredPosition), and a page of the live index then holds more positions. Nulls inside keep
 * their meaning (an exit plan's `null` turns a rule off, where a missing field takes the default).
 */
function recordJson(p: Position): string {
  return JSON.stringify(p, function (this: unknown, _key: string, value: unknown) {
    return this === p && value === null ? undefined : value;
  });
}

/**
 * The position an item holds, in either format: `record` (a JSON string, {@link toItem}) or one attribute
 * per field (items written before it). The item's `version` attribute wins: the conditional writes test it.
 * normalizeStoredPosition copies only the Position's own fields, so the key attributes are left behind.
 *
 * A `record` item is decoded once per content: a warm container's sweep reads the same unchanged items
 * every minute, so an item whose `record` string and `version` equal those last decoded under its keys
 * gets that same Position back. Such positions are deeply frozen: a position handed to two sweeps can
 * never carry one's changes into the other (a write makes a new record, which is decoded afresh).
 * @throws Error when `record` is not a JSON object (a hand edit gone wrong): never guessed around.
 */
export function positionFromItem(item: Record<string, unknown>): Position {
  const record = item.record;
  if (typeof record !== 'string') return normalizeStoredPosition(item, readStoredExitPlan);
  // By sort key alone (a flat string, cheaper to look up than a key built from both); the partition key is
  // compared with the rest, so another account's item with the same sort key only replaces the entry.
  const sk = String(item.sk);
  const last = decoded.get(sk);
  if (
    last &&
    last.record === record &&
    Object.is(last.version, item.version) &&
    Object.is(last.pk, item.pk)
  ) {
    return last.position;
  }
  const position = deepFreeze(decodeRecord(item, record));
  if (decoded.size >= DECODED_MAX) decoded.clear();
  decoded.set(sk, { pk: item.pk, record, version: item.version, position });
  return position;
}

/**
 * The last decoded Position of each item, by sort key, with what it was decoded from. Kept because it pays
 * (issue 22): without it a warm sweep of 1,000 took 17 ms more CPU (73 → 91 ms), docs/BENCHMARKS.md.
 */
const decoded = new Map<string, { pk: unknown; record: string; version: unknown; position: Position }>();
// A sweep of 1,000 keeps 1,000 entries (about 3 MB); past this bound the map starts again, never wrong.
const DECODED_MAX = 4096;

/** Decodes a `record` item (no cache). */
function decodeRecord(item: Record<string, unknown>, json: string): Position {
  let record: unknown;
  try {
    record = JSON.parse(json);
  } catch (err) {
    throw new Error(`position item ${String(item.pk)} ${String(item.sk)}: record is not valid JSON`, {
      cause: err,
    });
  }
  if (!record || typeof record !== 'object' || Array.isArray(record)) {
    throw new Error(`position item ${String(item.pk)} ${String(item.sk)}: record is not a JSON object`);
  }
  return normalizeStoredPosition({ ...record, version: item.version }, readStoredExitPlan);
}

/** Freezes `value` and every object and array within it (frozen ones, e.g. the exit plans as read, are left as they are). */
function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

/**
 * The positions of `account` among the items its live-positions index partition returned; an item in
 * another account's partition, or whose record names another account, is left out and reported (see
 * `DynamoPositionStore.listLive`).
 * @throws UnreadableRecordsError when some items cannot be read or are another account's.
 */
export function ownLivePositions(account: string, items: readonly Record<string, unknown>[]): Position[] {
  const own = positionPk(account);
  const foreign = items.filter((item) => item.pk !== own);
  let readable: Position[];
  const unreadable: Array<{ key: string; reason: string }> = [];
  try {
    readable = readPositions(foreign.length ? items.filter((item) => item.pk === own) : items);
  } catch (err) {
    if (!(err instanceof UnreadableRecordsError)) throw err;
    readable = err.readable as Position[];
    unreadable.push(...err.unreadable);
  }
  for (const item of foreign) {
    unreadable.push({
      key: `${String(item.pk)} ${String(item.sk)}`,
      reason:
        `foreign item: it is in partition ${String(item.pk)}, not ${own}, yet carries live_account ` +
        `"${account}"; account ${account} never manages it`,
    });
  }
  const mine = readable.filter((p) => p.account === account);
  for (const p of readable) {
    if (p.account === account) continue;
    unreadable.push({
      key: `${own} ${positionSk(p.position_id)}`,
      reason: `foreign item: its record belongs to account "${p.account}", not "${account}"; account ${account} never manages it`,
    });
  }
  if (unreadable.length) throw new UnreadableRecordsError(mine, unreadable);
  return mine;
}
