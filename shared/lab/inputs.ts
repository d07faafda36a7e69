/**
 * The exit-plan lab's other inputs: trades (a JSON list, or the positions the pipeline opened) and the
 * plans to compare, resolved exactly as the open path resolves a recommendation's `exit_plan`.
 */
import * as z from 'zod/mini';
import { formatZodError } from '../domain/zod';
import type { AccountConfig } from '../domain/account-config';
import { exitPlanSchema, type ExitPlan } from '../domain/exit-plan';
import { parseOccSymbol } from '../domain/occ';
import type { Position } from '../domain/position';
import { resolveProfile, type StrategyProfile } from '../domain/strategy-profiles';
import { openExitPlan } from '../use-cases/plan-open';
import type { LabTrade } from './replay';
import type { LabSpreadTrade } from './spread-replay';
import { MAX_SPREAD_LEGS, MIN_SPREAD_LEGS } from '../domain/spread-types';
import { spreadBooks, type SpreadPosition } from '../domain/spread-position';

/** Bad trades or plans input: the message names the file and the entry. */
export class LabInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabInputError';
  }
}

const isoWithZone = z
  .string()
  .check(
    z.refine(
      (s) => !Number.isNaN(Date.parse(s)) && /[zZ]|[+-]\d\d:?\d\d$/.test(s),
      'expected ISO 8601 with a zone',
    ),
  );

/** One entry of a `--trades` file. */
const labTradeSchema = z.strictObject({
  option_symbol: z.string(),
  side: z.enum(['long', 'short']),
  entry_time: isoWithZone,
  entry_price: z.optional(z.nullable(z.number().check(z.gt(0)))),
  qty: z.int().check(z.gte(1), z.lte(100_000)),
  /** The strategy profile it opened under (its exit-plan layer and time rules), as in a recommendation. */
  strategy: z.optional(z.nullable(z.string())),
});

/** A spread entry of a `--trades` file: its legs, its net open price and multiple. */
const labSpreadSchema = z.strictObject({
  legs: z
    .array(
      z.strictObject({
        option_symbol: z.string(),
        side: z.enum(['long', 'short']),
        ratio_qty: z.int().check(z.gte(1), z.lte(100)),
      }),
    )
    .check(z.minLength(MIN_SPREAD_LEGS), z.maxLength(MAX_SPREAD_LEGS)),
  /** Per share of one multiple: + debit paid, − credit received. */
  net_open_per_share: z.number(),
  max_loss_per_share: z.optional(z.nullable(z.number().check(z.gt(0)))),
  entry_time: isoWithZone,
  multiple: z.int().check(z.gte(1), z.lte(100_000)),
  strategy: z.optional(z.nullable(z.string())),
});

/**
 * Validates a `--trades` file's content: single-leg trades and spreads (an entry with `legs`), ids
 * `trade-<n>` by place in the file.
 */
export function parseTradesFile(
  raw: unknown,
  source: string,
): { trades: LabTrade[]; spreads: LabSpreadTrade[] } {
  if (!Array.isArray(raw)) throw new LabInputError(`${source}: expected a JSON array of trades`);
  const trades: LabTrade[] = [];
  const spreads: LabSpreadTrade[] = [];
  raw.forEach((entry, i) => {
    const isSpread = typeof entry === 'object' && entry !== null && 'legs' in entry;
    if (!isSpread) {
      trades.push(parseTrade(entry, source, i));
      return;
    }
    const where = `${source}: [${i}]`;
    const parsed = labSpreadSchema.safeParse(entry);
    if (!parsed.success) throw new LabInputError(`${where}: ${formatZodError(parsed.error)}`);
    for (const [j, leg] of parsed.data.legs.entries()) {
      const occ = parseOccSymbol(leg.option_symbol);
      if (!occ.ok) throw new LabInputError(`${where}: legs[${j}].option_symbol: ${occ.error}`);
    }
    spreads.push({
      id: `trade-${i + 1}`,
      ...parsed.data,
      max_loss_per_share: parsed.data.max_loss_per_share ?? null,
    });
  });
  return { trades, spreads };
}

/** Validates a `--trades` file's content (a JSON array); `source` names the file in errors. */
export function parseTrades(raw: unknown, source: string): LabTrade[] {
  if (!Array.isArray(raw)) throw new LabInputError(`${source}: expected a JSON array of trades`);
  return raw.map((entry, i) => parseTrade(entry, source, i));
}

/** One single-leg entry, the `i`th of the file. */
function parseTrade(entry: unknown, source: string, i: number): LabTrade {
  const where = `${source}: [${i}]`;
  const parsed = labTradeSchema.safeParse(entry);
  if (!parsed.success) throw new LabInputError(`${where}: ${formatZodError(parsed.error)}`);
  const occ = parseOccSymbol(parsed.data.option_symbol);
  if (!occ.ok) throw new LabInputError(`${where}: option_symbol: ${occ.error}`);
  return { id: `trade-${i + 1}`, ...parsed.data };
}

/**
 * The positions the pipeline actually opened (any state, with an entry price and time), entered between
 * `from` and `to` (New York calendar days are approximated by UTC dates of `entry_time`), as lab trades.
 */
export function tradesFromPositions(positions: readonly Position[], from: string, to: string): LabTrade[] {
  return positions
    .filter((p) => p.entry_time && typeof p.entry_price === 'number' && p.entry_price > 0)
    .filter((p) => p.entry_time!.slice(0, 10) >= from && p.entry_time!.slice(0, 10) <= to)
    .sort((a, b) => a.entry_time!.localeCompare(b.entry_time!))
    .map((p) => ({
      id: p.position_id,
      option_symbol: p.option_symbol,
      side: p.side,
      entry_time: p.entry_time!,
      entry_price: p.entry_price,
      qty: Math.max(p.original_quantity, p.quantity),
      strategy: p.strategy ?? null,
      time_rules: p.time_rules ?? null,
    }));
}

/**
 * The spreads the pipeline actually opened (any state, with a fill), entered between `from` and `to` (UTC
 * dates of `entry_time`, as for single legs), as lab spreads: their net open price and multiple from their
 * legs' fills.
 */
export function spreadTradesFromRecords(
  spreads: readonly SpreadPosition[],
  from: string,
  to: string,
): LabSpreadTrade[] {
  return spreads
    .filter((sp) => sp.entry_time && sp.entry_time.slice(0, 10) >= from && sp.entry_time.slice(0, 10) <= to)
    .flatMap((sp) => {
      const books = spreadBooks(sp);
      if (books.net_open_per_share === null || books.opened_multiple === 0) return [];
      return [
        {
          id: sp.position_id,
          legs: sp.legs.map((l) => ({
            option_symbol: l.option_symbol,
            side: l.side,
            ratio_qty: l.ratio_qty,
          })),
          net_open_per_share: books.net_open_per_share,
          max_loss_per_share: sp.max_loss_per_share,
          entry_time: sp.entry_time!,
          multiple: books.opened_multiple,
          strategy: sp.strategy,
        },
      ];
    })
    .sort((a, b) => a.entry_time.localeCompare(b.entry_time));
}

/** A `--plans` entry: its name and its `exit_plan` input, validated with the recommendation's schema. */
export interface LabPlanInput {
  readonly name: string;
  readonly exit_plan: z.infer<typeof exitPlanSchema>;
}

/** Validates a `--plans` file: `{ "name": exit_plan, ... }`; an unknown field names the plan and field. */
export function parsePlans(raw: unknown, source: string): LabPlanInput[] {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new LabInputError(`${source}: expected an object { "plan name": exit_plan, ... }`);
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) throw new LabInputError(`${source}: no plans`);
  return entries.map(([name, plan]) => {
    const parsed = exitPlanSchema.safeParse(plan);
    if (!parsed.success)
      throw new LabInputError(`${source}: plan "${name}": ${formatZodError(parsed.error)}`);
    return { name, exit_plan: parsed.data };
  });
}

/**
 * The plan a trade replays under: `plan` over the trade's strategy profile (when it has one) over the
 * account's `exit_defaults` over the system defaults — the open path's own merge ({@link openExitPlan}).
 */
export function resolveLabPlan(
  account: AccountConfig,
  trade: Pick<LabTrade, 'id' | 'strategy'>,
  plan: LabPlanInput,
): ExitPlan {
  return openExitPlan(account, profileOf(account, trade), plan.exit_plan);
}

/** The profile's time rules a trade from a trades file gets (a position from the table carries its own). */
export function labTimeRules(account: AccountConfig, trade: LabTrade): LabTrade['time_rules'] {
  if (trade.time_rules !== undefined) return trade.time_rules;
  return profileOf(account, trade)?.time_rules ?? null;
}

function profileOf(account: AccountConfig, trade: Pick<LabTrade, 'id' | 'strategy'>): StrategyProfile | null {
  if (!trade.strategy) return null;
  try {
    return resolveProfile(trade.strategy, account.strategy_profiles);
  } catch (err) {
    throw new LabInputError(`${trade.id}: strategy "${trade.strategy}": ${(err as Error).message}`);
  }
}
