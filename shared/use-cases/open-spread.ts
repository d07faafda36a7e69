/**
 * Turns one spread recommendation into at most one opening mleg order and one spread record, as
 * `openPosition` does for a single leg (docs/SPREADS.md): a conditional claim of the recommendation_id
 * before anything is sent, the deterministic client_order_id (`ops-<account>-o-<id>`, the one a single
 * leg would get, so a recommendation opens at most one order whatever its form), and a lookup by that id
 * before any resend. Every leg of the order carries its explicit opening intent (rule 1, per leg).
 */
import { brokerClockOffsetMs, onBrokerClock, newYorkTime, addDays } from '../domain/market-time';
import {
  BrokerRejectedError,
  DuplicateClientOrderIdError,
  InvalidRecommendationError,
  PipelineError,
  RecommendationRefusedError,
  RiskLimitError,
  TransientError,
} from '../domain/errors';
import { checkDynamicLimits, checkTradingWindow } from '../domain/risk';
import type { SpreadRecommendation } from '../domain/spread-message';
import { planSpreadOpen, type SpreadOpenPlan, type SpreadOpenPlanInput } from '../domain/spread-open';
import { newLegRecord, type SpreadPosition } from '../domain/spread-position';
import { bookMlegOrder } from '../domain/spread-position';
import { spreadOpenLearned, spreadOpenRefused } from '../domain/spread-lifecycle';
import { heldSideOf } from '../domain/spread-types';
import { resolveProfile } from '../domain/strategy-profiles';
import type { LegQuote } from '../domain/spread-pricing';
import { roundToCents } from '../domain/money';
import { Metric } from '../metric-names';
import type { BrokerOrder, SpreadStore } from '../ports';
import type { Delivery, OpenPositionDeps } from './open-position';
import { openExitPlan, toChainContract } from './plan-open';

/** What opening a spread needs beyond a single leg's dependencies: the spread records. */
export interface OpenSpreadDeps extends OpenPositionDeps {
  readonly spreads: SpreadStore;
}

export type SpreadOpenOutcome = {
  readonly kind: 'opened' | 'recovered' | 'duplicate';
  readonly spread: SpreadPosition;
};

/** Exit-plan fields a spread does not follow (its exits are on the net price, as one unit). */
const SINGLE_LEG_RULES = ['trailing_stop_pct', 'trail_activation_pct', 'partial_exits', 'breakeven_at_pct'];

/**
 * Opens a spread recommendation. Throws a permanent PipelineError (recorded, dead-lettered by the caller)
 * or a transient one (retried).
 */
export async function openSpread(
  rec: SpreadRecommendation,
  msg: Delivery,
  deps: OpenSpreadDeps,
): Promise<SpreadOpenOutcome> {
  const account = deps.account;
  const now = deps.now();
  const existing = await deps.spreads.getSpread(account.name, rec.recommendation_id);
  if (existing && existing.state !== 'submitting') return { kind: 'duplicate', spread: refused(existing) };
  if (!existing && msg.receiveCount > 1) await refuseIfRefusedBefore(rec.recommendation_id, deps);
  if (existing) {
    if (now.getTime() - Date.parse(existing.created_at) < (deps.claimLeaseMs ?? 120_000)) {
      throw new TransientError(
        `recommendation ${rec.recommendation_id} is being handled by another delivery; will retry`,
        { reason: 'claim_in_flight' },
      );
    }
    const found = await deps.broker.getOrderByClientOrderId(existing.open_client_order_id);
    if (found) return { kind: 'recovered', spread: refused(await recordOrder(existing, found, deps)) };
    await refuseIfRefusedBefore(rec.recommendation_id, deps);
  }

  const plan = await checkSpreadRisk(rec, msg, existing, deps, now);
  let claim = existing;
  if (!claim) {
    const fresh = newSpread(rec, plan, deps, now);
    const result = await deps.spreads.claimSpread(fresh);
    if (!result.claimed) {
      if (!result.existing) {
        throw new InvalidRecommendationError(
          `recommendation_id ${rec.recommendation_id} is already a single leg's record`,
          rec.recommendation_id,
          { reason: 'duplicate_recommendation_id' },
        );
      }
      if (result.existing.state !== 'submitting')
        return { kind: 'duplicate', spread: refused(result.existing) };
      throw new TransientError(
        `recommendation ${rec.recommendation_id} was claimed concurrently; will retry`,
        {
          reason: 'claim_in_flight',
        },
      );
    }
    claim = fresh;
  }

  deps.log.info(
    `Submitting ${plan.order.type} mleg order to open ${plan.multiple} x [${plan.order.legs
      .map((l) => `${l.side} ${l.ratio_qty} ${l.symbol} (${l.position_intent})`)
      .join(', ')}]`,
    { recommendation_id: rec.recommendation_id, client_order_id: plan.order.client_order_id },
  );
  let order: BrokerOrder;
  try {
    order = await deps.broker.submitMlegOrder(plan.order);
  } catch (err) {
    order = await afterFailedSubmit(err, claim, deps);
  }
  const spread = refused(await recordOrder(claim, order, deps));
  if (plan.netOpenPerShare > 0) deps.snapshot.spend(roundToCents(plan.netOpenPerShare * plan.multiple * 100));
  deps.metrics.count(Metric.OrdersOpened);
  return { kind: existing ? 'recovered' : 'opened', spread };
}

/** Throws the refusal a closed record keeps (open_rejected, not_sent); returns it otherwise. */
function refused(sp: SpreadPosition): SpreadPosition {
  if (sp.state !== 'closed' || (sp.close_reason !== 'open_rejected' && sp.close_reason !== 'not_sent'))
    return sp;
  const r = sp.refusal ?? { reason: 'broker_rejected', detail: `closed as ${sp.close_reason}` };
  throw new RecommendationRefusedError(r.detail, sp.recommendation_id, r.reason);
}

async function refuseIfRefusedBefore(id: string, deps: OpenSpreadDeps): Promise<void> {
  const earlier = await deps.store.getRejection(deps.account.name, id);
  if (earlier) throw new RecommendationRefusedError(earlier.detail, id, earlier.reason);
}

/**
 * Every limit: the message's age and the trading window on the broker's clock, the exit plan, the legs
 * (named or built), the trading level, the spread's risk and size, the kill switch, open positions and
 * buying power (the debit, or a credit spread's maximum loss).
 */
async function checkSpreadRisk(
  rec: SpreadRecommendation,
  msg: Delivery,
  existing: SpreadPosition | null,
  deps: OpenSpreadDeps,
  localNow: Date,
): Promise<SpreadOpenPlan> {
  const account = deps.account;
  const id = rec.recommendation_id;
  const clock = await deps.snapshot.clock();
  const now = onBrokerClock(localNow, brokerClockOffsetMs(clock, deps.now()));
  if (!account.limits.trading_enabled) {
    throw new RiskLimitError(
      `trading is disabled for account ${account.name} (limits.trading_enabled)`,
      'trading_disabled',
      id,
    );
  }
  const created = rec.created_at ? Date.parse(rec.created_at) : (msg.sentAt?.getTime() ?? NaN);
  const age = (now.getTime() - created) / 60_000;
  if (Number.isFinite(age) && age > account.limits.max_recommendation_age_minutes) {
    throw new RiskLimitError(
      `recommendation is ${age.toFixed(1)} minutes old; max_recommendation_age_minutes is ${account.limits.max_recommendation_age_minutes}`,
      'max_age',
      id,
    );
  }
  checkTradingWindow(account, clock.isOpen, now);
  const asked = SINGLE_LEG_RULES.filter((k) => {
    const v = (rec.exit_plan as Record<string, unknown> | null | undefined)?.[k];
    return v !== undefined && v !== null;
  });
  if (asked.length) {
    throw new InvalidRecommendationError(
      `exit_plan.${asked.join(', ')}: a spread exits as one unit on its net price; trailing, partial and breakeven rules are single-leg only`,
      id,
      { reason: 'spread_exit_plan' },
    );
  }
  const brokerAccount = await deps.snapshot.account();
  const input = await planInput(rec, deps, now, brokerAccount.optionsTradingLevel ?? null);
  let plan = planSpreadOpen(input);
  if (rec.num_contracts === undefined)
    plan = planSpreadOpen({ ...input, sizedMultiple: sizedMultiple(plan, deps) });
  await refuseContractsInUse(plan, deps, id);
  const [live, control] = await Promise.all([
    deps.store.countLive(account.name),
    deps.store.getControl(account.name),
  ]);
  const debit = Math.max(0, plan.netOpenPerShare);
  checkDynamicLimits({
    rec: { recommendation_id: id, action: 'BUY', num_contracts: plan.multiple },
    account,
    livePositions: live - (existing ? 1 : 0),
    controlTradingEnabled: control?.trading_enabled,
    controlSetBy: control?.set_by,
    // A debit pays its net; a credit spread holds its maximum loss as buying power.
    pricePerShare: debit > 0 ? debit : 0,
    optionsBuyingPower: brokerAccount.optionsBuyingPower,
  });
  if (
    debit === 0 &&
    Number.isFinite(plan.risk.maxLoss) &&
    plan.risk.maxLoss > brokerAccount.optionsBuyingPower
  ) {
    throw new RiskLimitError(
      `the credit spread's maximum loss $${plan.risk.maxLoss.toFixed(2)} exceeds options buying power $${brokerAccount.optionsBuyingPower.toFixed(2)}`,
      'options_buying_power',
      id,
    );
  }
  return plan;
}

/**
 * A leg on a contract another live record holds (a single leg, or another spread's leg) is refused
 * (`contract_in_use`): each contract the broker holds is one record's, so its reconcile and its closes
 * never count another record's contracts as its own.
 */
async function refuseContractsInUse(plan: SpreadOpenPlan, deps: OpenSpreadDeps, id: string): Promise<void> {
  const [singles, spreads] = await Promise.all([
    deps.store.listLive(deps.account.name).catch(() => []),
    deps.spreads.listLiveSpreads(deps.account.name),
  ]);
  const inUse = new Map<string, string>();
  for (const p of singles) inUse.set(p.option_symbol, p.position_id);
  for (const sp of spreads) {
    if (sp.position_id === id) continue;
    for (const l of sp.legs) inUse.set(l.option_symbol, sp.position_id);
  }
  const taken = plan.legs.filter((l) => inUse.has(l.option_symbol));
  if (taken.length) {
    throw new RiskLimitError(
      `leg ${taken.map((l) => `${l.option_symbol} is held by live record ${inUse.get(l.option_symbol)}`).join('; ')}: one live record per contract`,
      'contract_in_use',
      id,
    );
  }
}

/** The multiple a profile sizes when the message has none: as many as max_risk_per_spread allows. */
function sizedMultiple(perOne: SpreadOpenPlan, deps: OpenSpreadDeps): number {
  const limits = deps.account.limits;
  const lossOfOne = perOne.risk.maxLoss;
  const byRisk =
    Number.isFinite(lossOfOne) && lossOfOne > 0 ? Math.floor(limits.max_risk_per_spread / lossOfOne) : 1;
  const largest = Math.max(...perOne.legs.map((l) => l.ratio_qty));
  return Math.max(1, Math.min(byRisk, Math.floor(limits.max_contracts_per_order / largest)));
}

/** The planner's input: the legs' quotes (named legs) or the chain and the underlying (a build). */
async function planInput(
  rec: SpreadRecommendation,
  deps: OpenSpreadDeps,
  now: Date,
  tradingLevel: number | null,
): Promise<SpreadOpenPlanInput> {
  const base = { rec, account: deps.account, tradingLevel, now, sizedMultiple: 1 };
  if (rec.legs) {
    const quotes = await deps.marketData.getOptionQuotes(rec.legs.map((l) => l.option_symbol));
    const legQuotes = new Map<string, LegQuote>([...quotes].map(([s, q]) => [s, { bid: q.bid, ask: q.ask }]));
    return { ...base, quotes: legQuotes };
  }
  const dte = rec.build!.days_to_expiry;
  const today = newYorkTime(now).date;
  const [chain, underlyingPrice] = await Promise.all([
    deps.marketData.getOptionChain(rec.ticker, {
      expirationDateGte: addDays(today, Math.max(0, Math.floor(dte / 2))),
      expirationDateLte: addDays(today, Math.ceil(dte * 1.5) + 7),
    }),
    deps.marketData.getLatestStockPrice(rec.ticker),
  ]);
  return { ...base, quotes: new Map(), chain: chain.map(toChainContract), underlyingPrice };
}

/** After submitMlegOrder threw: find a lost reply's order, or close the claim on a refusal. */
async function afterFailedSubmit(
  err: unknown,
  claim: SpreadPosition,
  deps: OpenSpreadDeps,
): Promise<BrokerOrder> {
  if (err instanceof DuplicateClientOrderIdError || (err instanceof PipelineError && err.transient)) {
    const found = await deps.broker.getOrderByClientOrderId(claim.open_client_order_id).catch(() => null);
    if (found) return found;
    throw err instanceof DuplicateClientOrderIdError
      ? new TransientError(`client_order_id ${claim.open_client_order_id} exists but lookup failed`, {
          cause: err,
        })
      : err;
  }
  if (err instanceof BrokerRejectedError) {
    deps.metrics.count(Metric.BrokerRejections);
    const refusal = { reason: err.reason, detail: err.message.slice(0, 1000) };
    await deps.spreads
      .replaceSpread(claim, spreadOpenRefused(claim, 'open_rejected', refusal, deps.now().toISOString()))
      .catch((e) => deps.log.warn('Could not close the spread claim', { error: String(e) }));
  }
  throw err;
}

/** Records the broker's order on the claim: its legs' fills on their ledgers, the state they give. */
async function recordOrder(
  claim: SpreadPosition,
  order: BrokerOrder,
  deps: OpenSpreadDeps,
): Promise<SpreadPosition> {
  const at = deps.now().toISOString();
  const booked = bookMlegOrder(claim, 'open', order, at);
  return deps.spreads.replaceSpread(claim, spreadOpenLearned(claim, order, booked.legs, at));
}

function newSpread(
  rec: SpreadRecommendation,
  plan: SpreadOpenPlan,
  deps: OpenSpreadDeps,
  now: Date,
): SpreadPosition {
  const account = deps.account;
  const profileName = rec.strategy ?? null;
  const profile = profileName ? resolveProfile(profileName, account.strategy_profiles) : null;
  const iso = now.toISOString();
  const perShare = (dollars: number) =>
    Number.isFinite(dollars) ? roundToCents(dollars / plan.multiple / 100) : null;
  return {
    kind: 'spread',
    account: account.name,
    position_id: rec.recommendation_id,
    recommendation_id: rec.recommendation_id,
    ticker: rec.ticker,
    state: 'submitting',
    structure: rec.build?.strategy ?? 'legs',
    strategy: profileName,
    legs: plan.legs.map((l) =>
      newLegRecord({ option_symbol: l.option_symbol, side: heldSideOf(l.side), ratio_qty: l.ratio_qty }),
    ),
    requested_multiple: plan.multiple,
    open_client_order_id: plan.order.client_order_id,
    open_order_id: null,
    open_order_type: plan.order.type,
    open_limit_price: plan.order.limit_price ?? null,
    max_loss_per_share: perShare(plan.risk.maxLoss),
    max_profit_per_share: perShare(plan.risk.maxProfit),
    exit_plan: openExitPlan(account, profile, rec.exit_plan),
    exit_seq: 0,
    pending_exit: null,
    exit_reprices: 0,
    orphaned_at: null,
    entry_time: null,
    close_reason: null,
    closed_at: null,
    refusal: null,
    flags: [],
    created_at: iso,
    updated_at: iso,
    version: 0,
  };
}
