import type { AccountConfig } from '../domain/account-config';
import { buildOpenOrder } from '../domain/orders';
import { brokerClockOffsetMs, onBrokerClock } from '../domain/market-time';
import { FRESH_EXIT_STATE, type OpenRefusal, type Position } from '../domain/position';
import { openOrderLearned, openRefused, rejectionLearned } from '../domain/position-lifecycle';
import type { Recommendation } from '../domain/recommendation';
import {
  checkContractLimits,
  checkDynamicLimits,
  checkMessageLimits,
  checkTradingWindow,
  premiumDollars,
} from '../domain/risk';
import {
  BrokerRejectedError,
  DuplicateClientOrderIdError,
  PipelineError,
  RecommendationRefusedError,
  RiskLimitError,
  TransientError,
} from '../domain/errors';
import type {
  Broker,
  BrokerOrder,
  Clock,
  MarketData,
  PositionStore,
  SpreadStore,
  TradeEvents,
} from '../ports';
import type { Log, MetricsSink } from '../observability';
import { Metric } from '../metric-names';
import type { BrokerSnapshot } from './broker-snapshot';
import { planFromClaim, planOpen, type PlannedOpen } from './plan-open';

/** The facts of one delivery of a recommendation (the queue's, not the message's). */
export interface Delivery {
  readonly messageId: string;
  /** 1 on the first delivery; SQS's ApproximateReceiveCount. */
  readonly receiveCount: number;
  /** When the queue first received the message (SentTimestamp), when known. */
  readonly sentAt?: Date;
  /** The handle a retry scheduler needs to bring the message back sooner. */
  readonly receiptHandle: string;
  /** The body's beginning, kept with a refusal for an operator. */
  readonly bodyExcerpt: string;
}

export interface OpenPositionDeps {
  readonly account: AccountConfig;
  readonly broker: Broker;
  readonly marketData: MarketData;
  readonly store: PositionStore;
  /** Spread records; absent: a spread recommendation is refused (`spreads_not_enabled`). */
  readonly spreads?: SpreadStore;
  /** Where opens and refusals are announced (best effort). @default none */
  readonly tradeEvents?: TradeEvents;
  readonly snapshot: BrokerSnapshot;
  readonly now: Clock;
  readonly log: Log;
  readonly metrics: MetricsSink;
  /**
   * How long a claim protects an order in flight. A claim younger than this belongs to a delivery that
   * may still be running (retry later); an older one was abandoned by a crash (look the order up, resume).
   * Must exceed the function timeout. @default 120000
   */
  readonly claimLeaseMs?: number;
}

export type OpenOutcome =
  | { readonly kind: 'opened'; readonly position: Position }
  | { readonly kind: 'recovered'; readonly position: Position }
  | { readonly kind: 'duplicate'; readonly position: Position };

/**
 * Turns one recommendation into at most one opening order and one position record.
 *
 * Idempotency (safety rule 4): a conditional write claims `recommendation_id` before anything is sent; a
 * redelivery finds the claim. If the claim never got its order recorded (crash, lost reply), the order is
 * looked up by its deterministic client_order_id before any resend, and the broker's uniqueness rule on
 * client_order_id backs that up.
 *
 * Throws a permanent PipelineError (dead-letter) or a transient one (retry).
 */
export async function openPosition(
  rec: Recommendation,
  msg: Delivery,
  deps: OpenPositionDeps,
): Promise<OpenOutcome> {
  const now = deps.now();
  const account = deps.account;

  const existing = await deps.store.get(account.name, rec.recommendation_id);
  if (existing && existing.state !== 'submitting') return alreadyDecided(existing, msg.messageId, deps);
  // A redelivery of a recommendation refused before any claim (a risk limit, a contract not found) stays
  // refused even if the limit no longer applies: the refusal was reported; the message goes to the DLQ.
  if (!existing && msg.receiveCount > 1) await refuseIfRefusedBefore(rec.recommendation_id, deps);
  if (existing) {
    const claimedAt = Date.parse(existing.created_at);
    if (now.getTime() - claimedAt < (deps.claimLeaseMs ?? 120_000)) {
      throw new TransientError(
        `recommendation ${rec.recommendation_id} is being handled by another delivery (claimed ${existing.created_at}); will retry`,
        { reason: 'claim_in_flight' },
      );
    }
    const recovered = await recoverFromBroker(existing, deps);
    if (recovered) return { kind: 'recovered', position: refuseIfRefused(recovered) };
    // Refused on an earlier delivery: refused again, even if the limit no longer applies.
    await refuseIfRefusedBefore(rec.recommendation_id, deps);
  }

  // A resumed claim refused here stays `submitting`: its first POST may still be in flight (a slow request
  // the lookup above could not see yet), so only the sweep settles it (it looks the order up after the claim
  // lease, and closes it `not_sent` only after max age + lease). The refusal itself is recorded by the
  // handler, keyed by recommendation_id, so every later delivery is refused with it.
  const plan = await checkRisk(rec, msg, existing, deps, now);

  let claim = existing;
  if (!claim) {
    const fresh = newPosition(plan, account, now);
    const result = await deps.store.claim(fresh);
    if (!result.claimed) {
      // Another delivery claimed it between our read and our write.
      if (result.existing.state !== 'submitting') return alreadyDecided(result.existing, msg.messageId, deps);
      throw new TransientError(
        `recommendation ${rec.recommendation_id} was claimed concurrently; will retry`,
        {
          reason: 'claim_in_flight',
        },
      );
    }
    claim = fresh;
  }

  const order = buildOpenOrder(plan, account.name);
  deps.log.info(
    `Submitting ${order.type} order to open ${order.qty} contracts of ${order.symbol} (${order.position_intent})`,
    { recommendation_id: rec.recommendation_id, client_order_id: order.client_order_id, side: order.side },
  );
  let brokerOrder: BrokerOrder;
  try {
    brokerOrder = await deps.broker.submitOrder(order);
  } catch (err) {
    brokerOrder = await afterFailedSubmit(err, claim, deps);
  }
  const position = refuseIfRefused(await recordOrder(claim, brokerOrder, deps));
  if (plan.action === 'BUY') deps.snapshot.spend(premiumDollars(order.qty, plan.price_per_share));
  deps.metrics.count(Metric.OrdersOpened);
  return { kind: existing ? 'recovered' : 'opened', position };
}

/**
 * A delivery of a recommendation already decided. A refused one is refused again, with its first reason (so
 * the message reaches the dead-letter queue, never acknowledged as a duplicate); an accepted one is a
 * duplicate and acknowledged without a second order.
 */
async function alreadyDecided(
  existing: Position,
  messageId: string,
  deps: OpenPositionDeps,
): Promise<OpenOutcome> {
  const position = refuseIfRefused(await learnLateRejection(existing, deps));
  deps.log.info('Duplicate delivery: recommendation already handled', {
    recommendation_id: position.recommendation_id,
    state: position.state,
    message_id: messageId,
  });
  return { kind: 'duplicate', position };
}

/** Throws {@link RecommendationRefusedError} when an earlier delivery recorded a refusal of this recommendation. */
async function refuseIfRefusedBefore(recommendationId: string, deps: OpenPositionDeps): Promise<void> {
  const earlier = await deps.store.getRejection(deps.account.name, recommendationId);
  if (earlier) throw new RecommendationRefusedError(earlier.detail, recommendationId, earlier.reason);
}

/** Throws {@link RecommendationRefusedError} when `p` records a refused open; returns `p` otherwise. */
function refuseIfRefused(p: Position): Position {
  if (p.state !== 'closed' || (p.close_reason !== 'open_rejected' && p.close_reason !== 'not_sent')) return p;
  // Records closed before `refusal` existed, or by the sweep (a claim that never reached the broker).
  const refusal = p.refusal ?? {
    reason: p.close_reason === 'open_rejected' ? 'broker_rejected' : 'not_sent',
    detail: p.flags.at(-1) ?? `closed as ${p.close_reason}`,
  };
  throw new RecommendationRefusedError(refusal.detail, p.recommendation_id, refusal.reason);
}

/**
 * A record closed unfilled may hide an order the broker rejected after accepting the POST (the sweep records
 * any unfilled end as `not_filled`): look the order up once and record the rejection as a refusal.
 */
async function learnLateRejection(p: Position, deps: OpenPositionDeps): Promise<Position> {
  if (p.state !== 'closed' || p.close_reason !== 'not_filled' || p.quantity !== 0) return p;
  const order = await deps.broker.getOrderByClientOrderId(p.open_client_order_id);
  if (order?.status !== 'rejected') return p;
  return deps.store.replace(p, rejectionLearned(p, rejectedRefusal(order), deps.now().toISOString()));
}

/** The refusal of an order the broker answered with status `rejected`. */
function rejectedRefusal(order: BrokerOrder): OpenRefusal {
  return { reason: 'broker_rejected', detail: `the broker rejected order ${order.id} (status rejected)` };
}

/**
 * Every risk limit, cheapest first, around the plan (contract and size). A claim being resumed keeps its
 * plan; a fresh recommendation is planned here. Returns the plan the order will be built from.
 */
async function checkRisk(
  rec: Recommendation,
  msg: Delivery,
  existing: Position | null,
  deps: OpenPositionDeps,
  localNow: Date,
): Promise<PlannedOpen> {
  const account = deps.account;
  // The recommendation's age, the trading window, quote ages and days to expiry are judged on the
  // broker's clock (read once per batch: its offset is off by at most the batch's age).
  const clock = await deps.snapshot.clock();
  const now = onBrokerClock(localNow, brokerClockOffsetMs(clock, deps.now()));
  checkMessageLimits({ rec, account, now, sentAt: msg.sentAt });
  checkTradingWindow(account, clock.isOpen, now);
  const plan = existing
    ? await planFromClaim(existing, rec, deps.snapshot)
    : await planOpen(rec, { account, marketData: deps.marketData, snapshot: deps.snapshot, now, clock });
  checkContractLimits(plan, account, now);
  await refuseSpreadContract(plan, deps);
  const [live, control, brokerAccount] = await Promise.all([
    deps.store.countLive(account.name),
    deps.store.getControl(account.name),
    deps.snapshot.account(),
  ]);
  checkDynamicLimits({
    rec: plan,
    account,
    // A resumed claim is itself in the live index: don't count it against its own limit.
    livePositions: live - (existing ? 1 : 0),
    controlTradingEnabled: control?.trading_enabled,
    controlSetBy: control?.set_by,
    pricePerShare: plan.price_per_share,
    optionsBuyingPower: brokerAccount.optionsBuyingPower,
  });
  return plan;
}

/**
 * A contract a live spread holds as a leg is refused (`contract_in_use`): each contract is one record's, so
 * the spread's reconcile and closes never count this position's contracts as its own.
 */
async function refuseSpreadContract(plan: PlannedOpen, deps: OpenPositionDeps): Promise<void> {
  if (!deps.spreads) return;
  const spreads = await deps.spreads.listLiveSpreads(deps.account.name);
  const holder = spreads.find((sp) => sp.legs.some((l) => l.option_symbol === plan.option_symbol));
  if (holder) {
    throw new RiskLimitError(
      `${plan.option_symbol} is a leg of live spread ${holder.position_id}: one live record per contract`,
      'contract_in_use',
      plan.recommendation_id,
    );
  }
}

/**
 * After submitOrder threw: a duplicate client_order_id means the order exists (find it); a transient
 * failure may still have placed it (lost reply) — look it up once, else let the retry look again.
 */
async function afterFailedSubmit(
  err: unknown,
  claim: Position,
  deps: OpenPositionDeps,
): Promise<BrokerOrder> {
  if (err instanceof DuplicateClientOrderIdError || (err instanceof PipelineError && err.transient)) {
    const found = await deps.broker.getOrderByClientOrderId(claim.open_client_order_id).catch(() => null);
    if (found) {
      deps.log.warn('Order found at the broker after a failed submit (lost reply); not sending again', {
        client_order_id: claim.open_client_order_id,
        order_id: found.id,
      });
      return found;
    }
    throw err instanceof DuplicateClientOrderIdError
      ? new TransientError(`client_order_id ${claim.open_client_order_id} exists but lookup failed`, {
          cause: err,
        })
      : err;
  }
  if (err instanceof BrokerRejectedError) {
    deps.metrics.count(Metric.BrokerRejections);
    await closeClaim(claim, 'open_rejected', err, deps);
  }
  throw err;
}

/** Resumes an abandoned claim: if the broker has the order, record it; otherwise report nothing found. */
async function recoverFromBroker(claim: Position, deps: OpenPositionDeps): Promise<Position | null> {
  const found = await deps.broker.getOrderByClientOrderId(claim.open_client_order_id);
  if (!found) return null;
  deps.log.warn('Recovered an order placed by an earlier delivery; not sending again', {
    recommendation_id: claim.recommendation_id,
    order_id: found.id,
  });
  return recordOrder(claim, found, deps);
}

/**
 * Records the broker's order on the claim through the lifecycle; an order the broker rejected after
 * accepting the POST is a refusal like a 4xx, not an unfilled accepted order.
 */
async function recordOrder(claim: Position, order: BrokerOrder, deps: OpenPositionDeps): Promise<Position> {
  const now = deps.now().toISOString();
  if (order.status === 'rejected' && order.filled_qty === 0) {
    deps.metrics.count(Metric.BrokerRejections);
    const refusal = rejectedRefusal(order);
    const fields = { open_order_id: order.id, quantity: 0 };
    return deps.store.replace(
      claim,
      openRefused(claim, 'open_rejected', refusal, refusal.detail, now, fields),
    );
  }
  return deps.store.replace(claim, openOrderLearned(claim, order, now));
}

/** Closes a claim whose open was refused, keeping the refusal for every later delivery. */
async function closeClaim(
  claim: Position,
  reason: 'not_sent' | 'open_rejected',
  err: PipelineError,
  deps: OpenPositionDeps,
) {
  const now = deps.now().toISOString();
  const refusal = { reason: err.reason, detail: err.message.slice(0, 1000) };
  try {
    await deps.store.replace(claim, openRefused(claim, reason, refusal, err.message.slice(0, 200), now));
  } catch (e) {
    deps.log.warn('Could not close the claim', { error: String(e) });
  }
}

function newPosition(plan: PlannedOpen, account: AccountConfig, now: Date): Position {
  const order = buildOpenOrder(plan, account.name);
  const rec = plan;
  const iso = now.toISOString();
  return {
    account: account.name,
    position_id: rec.recommendation_id,
    recommendation_id: rec.recommendation_id,
    ticker: rec.ticker,
    option_symbol: rec.option_symbol,
    side: rec.action === 'BUY' ? 'long' : 'short',
    state: 'submitting',
    quantity: 0,
    original_quantity: rec.num_contracts,
    requested_quantity: rec.num_contracts,
    open_client_order_id: order.client_order_id,
    open_order_id: null,
    open_order_type: rec.order_type,
    open_limit_price: rec.limit_price ?? null,
    entry_price: null,
    entry_time: null,
    entry_underlying_price: plan.underlying_price,
    exit_plan: plan.exit_plan,
    strategy: plan.strategy,
    selection: plan.selection,
    sizing: plan.sizing,
    time_rules: plan.time_rules,
    ...FRESH_EXIT_STATE,
    created_at: iso,
    updated_at: iso,
    version: 0,
  };
}
