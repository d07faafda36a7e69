/**
 * The orders of a spread, as the pipeline sends them: one `mleg` order to open (every leg with its explicit
 * `position_intent`: safety rule 1, per leg), one `mleg` order to close the multiple the close planner
 * confirmed (no `position_intent` on any leg: rule 1 again, and rule 3 through the planner), and the single
 * legs of an unwind (built by `orders.ts` `buildCloseOrder`, which checks the broker's position again).
 * Every `client_order_id` is derived from what the order is for (rule 4). Pure.
 */
import type { BrokerPosition } from './broker-types';
import {
  MAX_CLIENT_ORDER_ID,
  buildCloseOrder,
  exitClientOrderId,
  openClientOrderId,
  type CloseOrderResult,
  type OpeningIntent,
} from './orders';
import type { MlegCloseStep, SingleCloseStep } from './spread-close';
import { MAX_SPREAD_LEGS, MIN_SPREAD_LEGS, type SpreadLeg } from './spread-types';

/** One leg of an mleg order. `position_intent` only ever on an opening order's legs (the type says so). */
export interface MlegLegRequest {
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  /** Whole contracts per multiple. */
  readonly ratio_qty: number;
  readonly position_intent?: OpeningIntent;
}

/** An mleg order: no symbol or side on the parent; `limit_price` is net per share (+ debit, - credit). */
export interface MlegOrderRequest {
  readonly order_class: 'mleg';
  /** The multiple. */
  readonly qty: number;
  readonly type: 'market' | 'limit';
  readonly time_in_force: 'day';
  readonly limit_price?: number;
  readonly client_order_id: string;
  readonly legs: readonly MlegLegRequest[];
}

/** An opening mleg order with its intents present on every leg. */
export type MlegOpenRequest = MlegOrderRequest & {
  readonly legs: ReadonlyArray<MlegLegRequest & { readonly position_intent: OpeningIntent }>;
};

/** A closing mleg order: no leg carries an intent. */
export type MlegCloseRequest = MlegOrderRequest & {
  readonly legs: ReadonlyArray<Omit<MlegLegRequest, 'position_intent'>>;
};

/** What the opening order is built from, once the legs and the multiple are known. */
export interface SpreadOpenInput {
  readonly recommendation_id: string;
  readonly legs: readonly Pick<SpreadLeg, 'option_symbol' | 'side' | 'ratio_qty'>[];
  readonly multiple: number;
  readonly order_type: 'market' | 'limit';
  readonly limit_price?: number | null;
}

/**
 * The opening mleg order: every leg `buy_to_open` / `sell_to_open`, the recommendation's deterministic
 * client_order_id (the same one a single leg gets: one recommendation, at most one opening order).
 */
export function buildSpreadOpenOrder(input: SpreadOpenInput, account: string): MlegOpenRequest {
  checkLegs(input.legs.length, input.multiple);
  const limit = input.order_type === 'limit' ? netLimit(input.limit_price) : null;
  return {
    order_class: 'mleg',
    qty: input.multiple,
    type: input.order_type,
    time_in_force: 'day',
    ...(limit === null ? {} : { limit_price: limit }),
    client_order_id: openClientOrderId(account, input.recommendation_id),
    legs: input.legs.map((l) => ({
      symbol: l.option_symbol,
      side: l.side,
      ratio_qty: l.ratio_qty,
      position_intent: l.side === 'buy' ? 'buy_to_open' : 'sell_to_open',
    })),
  };
}

/**
 * The closing mleg order of a planned step (`planSpreadClose`): each leg on the side that reduces it, for
 * the step's multiple, with no `position_intent`. `seq` counts the spread's exit steps.
 */
export function buildSpreadCloseOrder(args: {
  readonly account: string;
  readonly spreadId: string;
  readonly seq: number;
  readonly step: MlegCloseStep;
  /** Net per share (+ debit, - credit); absent = market. */
  readonly limitPrice?: number | null;
}): MlegCloseRequest {
  checkLegs(args.step.legs.length, args.step.multiple);
  const limit = args.limitPrice === undefined || args.limitPrice === null ? null : netLimit(args.limitPrice);
  return {
    order_class: 'mleg',
    qty: args.step.multiple,
    type: limit === null ? 'market' : 'limit',
    time_in_force: 'day',
    ...(limit === null ? {} : { limit_price: limit }),
    client_order_id: exitClientOrderId(args.account, args.spreadId, args.seq),
    legs: args.step.legs.map((l) => ({
      symbol: l.option_symbol,
      side: l.side === 'long' ? 'sell' : 'buy',
      ratio_qty: l.ratio_qty,
    })),
  };
}

/** Deterministic client_order_id of leg `legIndex`'s single-leg close in exit step `seq` of a spread. */
export function spreadLegExitClientOrderId(
  account: string,
  spreadId: string,
  seq: number,
  legIndex: number,
): string {
  const id = `ops-${account}-x${seq}l${legIndex}-${spreadId}`;
  if (id.length > MAX_CLIENT_ORDER_ID) throw new Error(`client_order_id longer than 128: ${id}`);
  return id;
}

/**
 * A planned single-leg step as an order, through `buildCloseOrder` (intent-free, the recorded symbol, at most
 * what the broker confirms now): the planner's sizing is checked once more against the position.
 */
export function buildSpreadLegCloseOrder(args: {
  readonly step: SingleCloseStep;
  readonly broker: BrokerPosition | undefined;
  readonly clientOrderId: string;
  readonly limitPrice?: number | null;
}): CloseOrderResult {
  return buildCloseOrder({
    position: { option_symbol: args.step.option_symbol, side: args.step.side === 'buy' ? 'short' : 'long' },
    wantedQty: args.step.qty,
    broker: args.broker,
    clientOrderId: args.clientOrderId,
    limitPrice: args.limitPrice ?? null,
  });
}

/**
 * The JSON body Alpaca receives for an mleg order: numbers as strings, the parent without symbol or side,
 * `position_intent` present only where the request has one.
 */
export function mlegOrderBody(order: MlegOrderRequest): Record<string, unknown> {
  return {
    order_class: 'mleg',
    qty: String(order.qty),
    type: order.type,
    time_in_force: order.time_in_force,
    ...(order.limit_price === undefined ? {} : { limit_price: order.limit_price.toFixed(2) }),
    client_order_id: order.client_order_id,
    legs: order.legs.map((l) => ({
      symbol: l.symbol,
      ratio_qty: String(l.ratio_qty),
      side: l.side,
      ...(l.position_intent ? { position_intent: l.position_intent } : {}),
    })),
  };
}

function checkLegs(count: number, multiple: number): void {
  if (count < MIN_SPREAD_LEGS || count > MAX_SPREAD_LEGS) {
    throw new Error(`an mleg order has ${MIN_SPREAD_LEGS}-${MAX_SPREAD_LEGS} legs, got ${count}`);
  }
  if (!Number.isInteger(multiple) || multiple < 1)
    throw new Error(`mleg qty ${multiple} is not a whole multiple`);
}

/** A net limit in whole cents (sign kept); 0 or not finite is a bug. */
function netLimit(price: number | null | undefined): number {
  if (price === null || price === undefined || !Number.isFinite(price) || price === 0) {
    throw new Error(`mleg limit_price ${price} is not a non-zero net price`);
  }
  return Math.round(price * 100) / 100;
}
