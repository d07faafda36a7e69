/**
 * What the live view shows, read from the running stack: positions from the table (live and recently
 * closed), the live spreads with their legs and net value now, marks, quotes and recent orders from the
 * broker, queue and DLQ depths from SQS, rejections from the table. Pure reads: nothing here changes state.
 */
import { QueryCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { resolveAlpacaEndpoints } from '../shared/adapters/alpaca-endpoints';
import type { ExitPlan } from '../shared/domain/exit-plan';
import type { AccountControl } from '../shared/ports';
import { LIVE_STATES, type Position } from '../shared/domain/position';
import { roundToCents } from '../shared/domain/money';
import { positionFromItem } from '../shared/adapters/dynamo-position-store';
import { isSpreadItem, spreadFromItem } from '../shared/adapters/spread-item';
import { spreadBooks, type SpreadPosition } from '../shared/domain/spread-position';
import { netCloseValue, spreadGainFraction, type LegQuote } from '../shared/domain/spread-pricing';
import { positionPk } from '../shared/table-schema';
import type { AlpacaSim } from './alpaca-sim';
import type { SweepStats } from './sweep-schedule';
import type { LocalAccount, LocalStack } from './stack';

/** One row of the positions table. Prices per share; P&L in dollars. */
export interface PositionRow {
  readonly id: string;
  readonly symbol: string;
  readonly side: 'long' | 'short';
  readonly qty: number;
  readonly entry: number | null;
  readonly mark: number | null;
  /** Realized + unrealized (at the mark), dollars. */
  readonly pnl: number | null;
  /** The state, with the close reason once closed (`closed: stop_loss`). */
  readonly state: string;
  readonly rules: string;
  /** The protective stop resting at the broker (`stop 1.60 x2`), `—` when none. */
  readonly atBroker: string;
}

/** A leg of a spread row: its contract, held side, ratio per multiple and contracts held. */
export interface SpreadLegRow {
  readonly symbol: string;
  readonly side: 'long' | 'short';
  readonly ratio: number;
  readonly held: number;
}

/** One live spread: its multiple, net open and net executable value now (per share of one multiple). */
export interface SpreadRow {
  readonly id: string;
  readonly structure: string;
  /** Whole multiples every leg holds. */
  readonly multiple: number;
  /** + debit paid, − credit received. */
  readonly netOpen: number | null;
  /** What closing one multiple yields now (netCloseValue of the legs' quotes); null when a leg has none. */
  readonly netNow: number | null;
  /** (netNow − netOpen) × 100 × multiple, dollars. */
  readonly gain: number | null;
  /** The gain as the exit rules compare it with take_profit_pct / stop_loss_pct. */
  readonly gainPct: number | null;
  readonly state: string;
  readonly rules: string;
  readonly legs: readonly SpreadLegRow[];
}

/** One of the last orders at the broker. */
export interface OrderRow {
  /** ISO time the order was created. */
  readonly time: string;
  readonly side: string;
  readonly qty: number;
  readonly symbol: string;
  /** `position_intent` the pipeline sent, `—` for a close (sent without one). */
  readonly intent: string;
  readonly status: string;
  /** The order type, with its stop price for a resting stop (`stop 1.60`). */
  readonly type: string;
  readonly clientOrderId: string;
}

export interface RejectionRow {
  readonly at: string;
  readonly key: string;
  readonly reason: string;
  readonly detail: string;
}

/** Everything the view shows about one account. */
export interface AccountView {
  readonly name: string;
  readonly queue: { readonly visible: number; readonly inFlight: number };
  readonly dlq: number;
  readonly positions: readonly PositionRow[];
  /** The live spreads, each with its legs. */
  readonly spreads?: readonly SpreadRow[];
  readonly orders: readonly OrderRow[];
  /** The newest rejections (at most the view's limit), newest first. */
  readonly rejections: readonly RejectionRow[];
  /** How many rejections the table holds for the account in all. */
  readonly rejectionsTotal: number;
  /** The run-time kill switch (null: never set, trading enabled). */
  readonly control: AccountControl | null;
  readonly sweeps: Readonly<
    Pick<SweepStats, 'runs' | 'failures' | 'throttled' | 'lastDurationMs' | 'lastError'>
  >;
  readonly openOrder: { readonly invocations: number; readonly records: number; readonly failed: number };
  /** The last price of each underlying of the live positions (absent when the broker gave none). */
  readonly underlyings?: ReadonlyArray<{ readonly ticker: string; readonly price: number }>;
}

/** How the view reads a broker: the simulator in-process, or Alpaca's REST API. */
export interface BrokerReader {
  /** Mid prices per share of the symbols that have a quote. */
  marks(symbols: readonly string[]): Promise<Map<string, number>>;
  /** Best bid and ask per share of the symbols that have a quote (a spread's legs). */
  quotes(symbols: readonly string[]): Promise<Map<string, LegQuote>>;
  /** The most recent orders, newest first. */
  recentOrders(limit: number): Promise<OrderRow[]>;
  /** The last trade price per share of the stocks that have one. */
  stockPrices(tickers: readonly string[]): Promise<Map<string, number>>;
}

/** Reads the simulator directly (no requests, so the request log and rate limit stay the pipeline's). */
function simulatorReader(sim: AlpacaSim, keyId: string): BrokerReader {
  return {
    async marks(symbols) {
      const out = new Map<string, number>();
      for (const s of symbols) {
        const q = sim.market.quotes.get(s);
        if (q && q.ask > 0) out.set(s, (q.bid + q.ask) / 2);
      }
      return out;
    },
    async quotes(symbols) {
      const out = new Map<string, LegQuote>();
      for (const s of symbols) {
        const q = sim.market.quotes.get(s);
        if (q) out.set(s, { bid: q.bid, ask: q.ask });
      }
      return out;
    },
    async stockPrices(tickers) {
      const out = new Map<string, number>();
      for (const t of tickers) {
        const last = sim.market.stockPrices.get(t);
        if (last && last.price > 0) out.set(t, last.price);
      }
      return out;
    },
    async recentOrders(limit) {
      // The raw bodies the client sent, so the intent column shows what the pipeline SENT, not what
      // the broker inferred.
      const sent = new Map<string, Record<string, unknown>>();
      for (const r of sim.requestsTo('POST', '/v2/orders')) {
        const body = r.body as Record<string, unknown> | null;
        if (r.keyId === keyId && body && typeof body.client_order_id === 'string') {
          sent.set(body.client_order_id, body);
        }
      }
      return sim
        .orders(keyId)
        .slice(-limit)
        .reverse()
        .map((o) => {
          const cid = String(o.client_order_id);
          const body = sent.get(cid);
          return orderRow(o, body ? sentIntentOf(body) : null);
        });
    },
  };
}

/**
 * Reads Alpaca's REST API (paper mode), caching answers for `cacheMs` so a view refreshing every second
 * stays far inside the 200 requests/minute the pipeline needs. The intent column is derived from the
 * client_order_id (exits are `ops-<account>-x<n>-...` and are sent without intent).
 */
export function httpReader(
  env: NodeJS.ProcessEnv,
  credentials: { keyId: string; secretKey: string },
  cacheMs = 5000,
): BrokerReader {
  const endpoints = resolveAlpacaEndpoints(env, { paper: true });
  const headers = {
    'APCA-API-KEY-ID': credentials.keyId,
    'APCA-API-SECRET-KEY': credentials.secretKey,
  };
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();
  const get = <T>(url: string): Promise<T> => {
    const hit = cache.get(url);
    if (hit && Date.now() - hit.at < cacheMs) return hit.value as Promise<T>;
    const value = fetch(url, { headers, signal: AbortSignal.timeout(4000) }).then(async (res) => {
      if (!res.ok) throw new Error(`${res.status} from ${new URL(url).pathname}`);
      return (await res.json()) as T;
    });
    cache.set(url, { at: Date.now(), value });
    value.catch(() => cache.delete(url));
    return value;
  };
  const quotes = async (symbols: readonly string[]): Promise<Map<string, LegQuote>> => {
    const out = new Map<string, LegQuote>();
    if (symbols.length === 0) return out;
    const url = `${endpoints.dataBaseUrl}/v1beta1/options/snapshots?symbols=${[...symbols].sort().join(',')}`;
    const body = await get<{ snapshots?: Record<string, { latestQuote?: { bp?: number; ap?: number } }> }>(
      url,
    );
    for (const [s, snap] of Object.entries(body.snapshots ?? {})) {
      const bp = snap.latestQuote?.bp;
      const ap = snap.latestQuote?.ap;
      if (typeof bp === 'number' && typeof ap === 'number') out.set(s, { bid: bp, ask: ap });
    }
    return out;
  };
  return {
    async marks(symbols) {
      const out = new Map<string, number>();
      for (const [s, q] of await quotes(symbols)) if (q.ask > 0) out.set(s, (q.bid + q.ask) / 2);
      return out;
    },
    quotes,
    async stockPrices(tickers) {
      const out = new Map<string, number>();
      if (tickers.length === 0) return out;
      const url = `${endpoints.dataBaseUrl}/v2/stocks/trades/latest?symbols=${[...tickers].sort().join(',')}`;
      const body = await get<{ trades?: Record<string, { p?: number }> }>(url);
      for (const [t, trade] of Object.entries(body.trades ?? {})) {
        if (typeof trade.p === 'number' && trade.p > 0) out.set(t, trade.p);
      }
      return out;
    },
    async recentOrders(limit) {
      const url = `${endpoints.tradingBaseUrl}/v2/orders?status=all&direction=desc&limit=${limit}`;
      const orders = await get<Array<Record<string, unknown>>>(url);
      return orders.map((o) => orderRow(o, null));
    },
  };
}

/**
 * The intent a sent body carried: its own, or for an mleg order `each leg` when every leg carried one (an
 * opening spread) and `—` when none did (a close).
 */
function sentIntentOf(body: Record<string, unknown>): string {
  if (typeof body.position_intent === 'string') return body.position_intent;
  const legs = Array.isArray(body.legs) ? (body.legs as Array<Record<string, unknown>>) : [];
  if (legs.length && legs.every((l) => typeof l.position_intent === 'string')) return 'each leg';
  return '—';
}

// Exit steps (`x<n>`) and resting protective stops (`s<n>`) are sent without intent.
const EXIT_ORDER_ID = /^ops-[a-z0-9-]+-[xs]\d+-/;

function orderRow(o: Record<string, unknown>, sentIntent: string | null): OrderRow {
  const cid = String(o.client_order_id ?? '');
  const intent =
    sentIntent ??
    (EXIT_ORDER_ID.test(cid) ? '—' : typeof o.position_intent === 'string' ? o.position_intent : '—');
  return {
    time: String(o.created_at ?? ''),
    // An mleg parent has no side or symbol of its own: it names its legs.
    side: o.order_class === 'mleg' ? 'mleg' : String(o.side ?? ''),
    qty: Number(o.qty ?? 0),
    symbol:
      o.order_class === 'mleg' && Array.isArray(o.legs) ? `${o.legs.length} legs` : String(o.symbol ?? ''),
    intent,
    status: String(o.status ?? ''),
    type:
      o.stop_price != null && o.stop_price !== ''
        ? `${String(o.type)} ${Number(o.stop_price).toFixed(2)}`
        : String(o.type ?? ''),
    clientOrderId: cid,
  };
}

/** Every single-leg position record of an account, live and closed, newest first. */
export async function listAllPositions(stack: LocalStack, account: string): Promise<Position[]> {
  return (await listAllRecords(stack, account)).positions;
}

/** Every record of an account: the single-leg positions and the spreads, each newest first. */
export async function listAllRecords(
  stack: LocalStack,
  account: string,
): Promise<{ positions: Position[]; spreads: SpreadPosition[] }> {
  const doc = DynamoDBDocumentClient.from(stack.dynamo.client);
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :pos)',
        ExpressionAttributeValues: { ':pk': positionPk(account), ':pos': 'POS#' },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  const newest = <T extends { created_at: string }>(a: T, b: T) => b.created_at.localeCompare(a.created_at);
  return {
    positions: items
      .filter((i) => !isSpreadItem(i))
      .map(positionFromItem)
      .sort(newest),
    spreads: items.filter(isSpreadItem).map(spreadFromItem).sort(newest),
  };
}

/** The exit rules a position still has, in a few characters each. */
export function describeRules(
  plan: ExitPlan,
  p: Pick<Position, 'partial_exits_done' | 'trailing_stop_price' | 'breakeven_active'>,
): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const parts: string[] = [];
  if (plan.stop_loss_pct !== null)
    parts.push(`SL ${pct(plan.stop_loss_pct)}${p.breakeven_active ? ' (BE)' : ''}`);
  if (plan.take_profit_pct !== null) parts.push(`TP ${pct(plan.take_profit_pct)}`);
  if (plan.trailing_stop_pct !== null) {
    const at = p.trailing_stop_price ? ` @${p.trailing_stop_price.toFixed(2)}` : '';
    parts.push(`TRAIL ${pct(plan.trailing_stop_pct)}${at}`);
  }
  for (const [i, level] of (plan.partial_exits ?? []).entries()) {
    if (!p.partial_exits_done.includes(i)) parts.push(`PX +${pct(level.gain_pct)}:${pct(level.fraction)}`);
  }
  if (plan.breakeven_at_pct !== null && !p.breakeven_active) parts.push(`BE +${pct(plan.breakeven_at_pct)}`);
  if (plan.max_hold_minutes !== null) parts.push(`MAX ${plan.max_hold_minutes}m`);
  if (plan.close_before_expiry_days !== null) parts.push(`EXP-${plan.close_before_expiry_days}d`);
  return parts.join(' ');
}

/** One row of the positions table of the view. */
export function positionRow(p: Position, mark: number | null): PositionRow {
  const live = LIVE_STATES.has(p.state);
  const entry = p.entry_price ?? null;
  const sign = p.side === 'long' ? 1 : -1;
  const unrealized = live && entry !== null && mark !== null ? (mark - entry) * p.quantity * 100 * sign : 0;
  const pnl = entry === null ? null : roundToCents(p.realized_pnl + unrealized);
  return {
    id: p.position_id,
    symbol: p.option_symbol,
    side: p.side,
    qty: live ? p.quantity : p.original_quantity,
    entry,
    mark: live ? mark : (p.exit_price ?? null),
    pnl,
    state: p.state === 'closed' ? `closed: ${p.close_reason ?? '?'}` : p.state,
    rules: live ? describeRules(p.exit_plan, p) : '',
    atBroker:
      live && p.broker_stop
        ? `${p.broker_stop.type} ${p.broker_stop.stop_price.toFixed(2)} x${p.broker_stop.qty}`
        : '—',
  };
}

/** One live spread's row: net executable value now from its legs' quotes, and its legs beneath. */
export function spreadRow(sp: SpreadPosition, quotes: ReadonlyMap<string, LegQuote>): SpreadRow {
  const books = spreadBooks(sp);
  const value = netCloseValue(sp.legs, quotes);
  const netNow = value.ok ? value.perShare : null;
  const netOpen = books.net_open_per_share;
  const priced = netNow !== null && netOpen !== null;
  return {
    id: sp.position_id,
    structure: sp.structure,
    multiple: books.multiple,
    netOpen,
    netNow,
    gain: priced ? roundToCents((netNow - netOpen) * 100 * books.multiple) : null,
    gainPct: priced
      ? spreadGainFraction({
          netOpenPerShare: netOpen,
          closeValuePerShare: netNow,
          maxLossPerShare: sp.max_loss_per_share,
        })
      : null,
    state: sp.pending_exit ? `${sp.state}: exit ${sp.pending_exit.reason}` : sp.state,
    rules: describeRules(sp.exit_plan, { partial_exits_done: [] }),
    legs: sp.legs.map((l, i) => ({
      symbol: l.option_symbol,
      side: l.side,
      ratio: l.ratio_qty,
      held: books.legs[i]!.held,
    })),
  };
}

/** Reads what the view shows about one account. */
export async function collectAccountView(
  stack: LocalStack,
  account: LocalAccount,
  reader: BrokerReader,
  limits: { positions: number; orders: number; rejections: number } = {
    positions: 10,
    orders: 6,
    rejections: 8,
  },
): Promise<AccountView> {
  const [records, queue, dlq, rejections, orders, control] = await Promise.all([
    listAllRecords(stack, account.name),
    stack.sqs.depth(account.queueUrl),
    stack.sqs.depth(account.dlqUrl),
    account.store.listRejections(account.name),
    reader.recentOrders(limits.orders).catch(() => [] as OrderRow[]),
    account.store.getControl(account.name),
  ]);
  const all = records.positions;
  const liveSpreads = records.spreads.filter((sp) => LIVE_STATES.has(sp.state));
  const live = all.filter((p) => LIVE_STATES.has(p.state));
  const closed = all
    .filter((p) => !LIVE_STATES.has(p.state))
    .sort((a, b) => (b.closed_at ?? b.updated_at).localeCompare(a.closed_at ?? a.updated_at));
  const shown = [...live, ...closed].slice(0, Math.max(limits.positions, live.length));
  const tickers = [...new Set([...live, ...liveSpreads].map((p) => p.ticker))].sort();
  const legSymbols = [...new Set(liveSpreads.flatMap((sp) => sp.legs.map((l) => l.option_symbol)))];
  const [marks, stocks, legQuotes] = await Promise.all([
    reader.marks([...new Set(live.map((p) => p.option_symbol))]).catch(() => new Map<string, number>()),
    reader.stockPrices(tickers).catch(() => new Map<string, number>()),
    reader.quotes(legSymbols).catch(() => new Map<string, LegQuote>()),
  ]);
  return {
    name: account.name,
    queue,
    dlq: dlq.visible + dlq.inFlight,
    positions: shown.map((p) => positionRow(p, marks.get(p.option_symbol) ?? null)),
    spreads: liveSpreads.map((sp) => spreadRow(sp, legQuotes)),
    orders,
    rejections: [...rejections]
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, limits.rejections)
      .map((r) => ({ at: r.at, key: r.key, reason: r.reason, detail: r.detail })),
    rejectionsTotal: rejections.length,
    control,
    sweeps: { ...account.sweep.stats },
    openOrder: { ...account.openOrder },
    underlyings: tickers.flatMap((ticker) => {
      const price = stocks.get(ticker);
      return price === undefined ? [] : [{ ticker, price }];
    }),
  };
}

/** The reader for an account of the stack. */
export function readerFor(stack: LocalStack, account: LocalAccount): BrokerReader {
  return stack.sim
    ? simulatorReader(stack.sim, account.keyId)
    : httpReader(account.env, { keyId: account.keyId, secretKey: account.secretKey });
}
