/**
 * Builds a spread's legs from an underlying's option chain for a structure a message asks for
 * (`spread.strategy`: vertical, straddle, strangle, iron_condor, iron_butterfly). Pure, like
 * `contract-selection.ts` for a single leg: the caller fetches the chain and passes `now`.
 *
 * - Expiry: the listed expiry nearest `days_to_expiry` (New York dates; ties go to the earlier), never one
 *   already past. Every leg comes from that one expiry: a missing strike is a refusal, not another expiry.
 * - At the money: the listed strike nearest the underlying's price (ties go to the lower); for a straddle
 *   and a butterfly, a strike listed for both calls and puts.
 * - The first strike (a vertical's near leg, a strangle's and a condor's short strikes) is `strikes_away`
 *   listed strikes out of the money from the money (calls up, puts down), or the contract whose |delta| is
 *   nearest `delta`. Defaults: 0 strikes away for a vertical, 1 for a strangle and a condor.
 * - The wing: exactly `width` dollars further out (a vertical: above for calls, below for puts).
 * - Sides: `buy` the structure takes the long side of its first strikes (a debit vertical, a long straddle,
 *   a long condor); `sell` the mirror (every side flipped).
 * - Every leg needs a usable quote: ask > 0, ask >= bid, and a bid > 0 for a leg sold.
 */
import type { ChainContract } from './contract-selection';
import { daysUntil } from './market-time';
import { parseOccSymbol } from './occ';
import type { SpreadBuildRequest } from './spread-message';
import type { SpreadLeg } from './spread-types';

/** Result of {@link buildSpreadLegs}. */
export type BuildResult =
  | {
      readonly ok: true;
      readonly legs: readonly SpreadLeg[];
      readonly expiry: string;
      readonly atTheMoney: number;
    }
  | { readonly ok: false; readonly reason: string };

/** Input of {@link buildSpreadLegs}. */
export interface BuildSpreadInput {
  readonly request: SpreadBuildRequest;
  readonly chain: readonly ChainContract[];
  /** Dollars per share. */
  readonly underlyingPrice: number;
  readonly now: Date;
}

type Type = 'call' | 'put';
type Pick = { contract: ChainContract; side: 'buy' | 'sell' };

class BuildRefusal extends Error {}
const refuse = (reason: string): never => {
  throw new BuildRefusal(reason);
};

/** The legs a structure asks for, or the reason it cannot be built from this chain. */
export function buildSpreadLegs(input: BuildSpreadInput): BuildResult {
  try {
    return build(input);
  } catch (err) {
    if (err instanceof BuildRefusal) return { ok: false, reason: err.message };
    throw err;
  }
}

function build({ request: r, chain, underlyingPrice, now }: BuildSpreadInput): BuildResult {
  if (!Number.isFinite(underlyingPrice) || underlyingPrice <= 0) {
    refuse(`underlying price ${underlyingPrice} is not a positive number`);
  }
  const expiry = nearestExpiry(chain, r.days_to_expiry, now);
  const at = chain.filter((c) => c.expiry === expiry);
  const find = (type: Type, strike: number): ChainContract =>
    at.find((c) => c.type === type && Math.abs(c.strike - strike) < 1e-6) ??
    refuse(`no ${type} at strike ${strike} expiring ${expiry}`);
  const both = r.strategy === 'straddle' || r.strategy === 'iron_butterfly';
  const atm = atTheMoney(at, underlyingPrice, both ? ['call', 'put'] : r.type ? [r.type] : ['call', 'put']);
  const width = r.width ?? 0;
  const out = (type: Type, k: number) => (type === 'call' ? k + width : k - width);
  const first = (type: Type, defaultAway: number) => firstStrike(at, type, atm, r, defaultAway);
  const mine: 'buy' | 'sell' = r.side;
  const theirs: 'buy' | 'sell' = r.side === 'buy' ? 'sell' : 'buy';

  // `mine` is the side of the first strikes (a condor's and a butterfly's body), `theirs` of the wings.
  let picks: Pick[];
  switch (r.strategy) {
    case 'vertical': {
      const type = r.type!;
      const k = first(type, 0);
      picks = [
        { contract: find(type, k), side: mine },
        { contract: find(type, out(type, k)), side: theirs },
      ];
      break;
    }
    case 'straddle':
      picks = [
        { contract: find('put', atm), side: mine },
        { contract: find('call', atm), side: mine },
      ];
      break;
    case 'strangle':
      picks = [
        { contract: find('put', first('put', 1)), side: mine },
        { contract: find('call', first('call', 1)), side: mine },
      ];
      break;
    case 'iron_condor': {
      const kp = first('put', 1);
      const kc = first('call', 1);
      if (kp >= kc) refuse(`the short put ${kp} is not below the short call ${kc}: that is not a condor`);
      picks = [
        { contract: find('put', out('put', kp)), side: theirs },
        { contract: find('put', kp), side: mine },
        { contract: find('call', kc), side: mine },
        { contract: find('call', out('call', kc)), side: theirs },
      ];
      break;
    }
    case 'iron_butterfly':
      picks = [
        { contract: find('put', out('put', atm)), side: theirs },
        { contract: find('put', atm), side: mine },
        { contract: find('call', atm), side: mine },
        { contract: find('call', out('call', atm)), side: theirs },
      ];
      break;
  }
  return { ok: true, legs: picks.map(toLeg), expiry, atTheMoney: atm };
}

function toLeg({ contract: c, side }: Pick): SpreadLeg {
  const usable =
    Number.isFinite(c.bid) &&
    Number.isFinite(c.ask) &&
    c.ask > 0 &&
    c.ask >= c.bid &&
    (side === 'buy' || c.bid > 0);
  if (!usable) refuse(`${c.symbol} has no usable quote to ${side} (bid ${c.bid}, ask ${c.ask})`);
  const occ = parseOccSymbol(c.symbol);
  if (!occ.ok) return refuse(`chain contract ${c.symbol}: ${occ.error}`);
  return { option_symbol: c.symbol, side, ratio_qty: 1, occ: occ.value };
}

function nearestExpiry(chain: readonly ChainContract[], target: number, now: Date): string {
  const expiries = [...new Set(chain.map((c) => c.expiry))]
    .map((e) => ({ e, dte: daysUntil(e, now) }))
    .filter((x) => x.dte >= 0)
    .sort((a, b) => Math.abs(a.dte - target) - Math.abs(b.dte - target) || a.dte - b.dte);
  if (expiries.length === 0) refuse('the option chain has no expiry today or later');
  return expiries[0].e;
}

function strikesOf(at: readonly ChainContract[], type: Type): number[] {
  return [...new Set(at.filter((c) => c.type === type).map((c) => c.strike))].sort((a, b) => a - b);
}

function atTheMoney(at: readonly ChainContract[], spot: number, types: readonly Type[]): number {
  const sets = types.map((t) => new Set(strikesOf(at, t)));
  const common = [...sets[0]].filter((k) => sets.every((s) => s.has(k))).sort((a, b) => a - b);
  if (common.length === 0) refuse(`no strike listed for ${types.join(' and ')}`);
  return common.reduce((best, k) => (Math.abs(k - spot) < Math.abs(best - spot) - 1e-9 ? k : best));
}

function firstStrike(
  at: readonly ChainContract[],
  type: Type,
  atm: number,
  r: SpreadBuildRequest,
  defaultAway: number,
): number {
  if (r.delta !== undefined) {
    const target = r.delta;
    const withDelta = at
      .filter((c) => c.type === type && c.delta !== undefined && Number.isFinite(c.delta))
      .sort(
        (a, b) =>
          Math.abs(Math.abs(a.delta!) - target) - Math.abs(Math.abs(b.delta!) - target) ||
          (a.symbol < b.symbol ? -1 : 1),
      );
    if (withDelta.length === 0) refuse(`no ${type} with a known delta to match delta ${target}`);
    return withDelta[0].strike;
  }
  const away = r.strikes_away ?? defaultAway;
  const ladder = strikesOf(at, type);
  const i = ladder.indexOf(atm);
  const j = type === 'call' ? i + away : i - away;
  if (i < 0 || j < 0 || j >= ladder.length) {
    refuse(`no ${type} listed ${away} strike(s) out of the money from ${atm}`);
  }
  return ladder[j];
}
