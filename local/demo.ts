/**
 * `npm start -- --demo`: a scripted session on the simulator, run by CI as a smoke test. It injects a few
 * recommendations for `main` and one for `tiny` plus one bad message, drives prices with the simulator's
 * control API so that a stop loss, a take profit, a trailing stop, a partial exit and a short's stop-out
 * each fire, waits (bounded) for each outcome, prints a summary table, and passes only if every outcome
 * happened, every opening order carried a `position_intent` and no closing order did (read from the
 * simulator's request log: the bodies the client actually sent).
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Position } from '../shared/domain/position';
import { roundToCents } from '../shared/domain/money';
import { localExpiries } from './starting-market';
import { sendMessages, validateMessage, type InputMessage } from './inject';
import type { LocalStack } from './stack';
import { textTable } from './view';

/** What the demo expects of one position. */
interface Scenario {
  readonly account: string;
  readonly id: string;
  readonly title: string;
  readonly rec: Record<string, unknown>;
  /** Mid prices (as multiples of the entry price) to set, in order; each step waits for `until`. */
  readonly steps: ReadonlyArray<{
    readonly mid: number;
    readonly until: (p: Position) => boolean;
    readonly what: string;
  }>;
  readonly expectedSide: 'long' | 'short';
}

/** One row of the summary. */
export interface DemoRow {
  readonly position: string;
  readonly account: string;
  readonly symbol: string;
  readonly side: string;
  readonly qty: string;
  readonly outcome: string;
  readonly pnl: string;
}

export interface DemoResult {
  readonly ok: boolean;
  readonly rows: readonly DemoRow[];
  /** What did not happen (empty when ok). */
  readonly missing: readonly string[];
  readonly durationMs: number;
}

const closedBy = (reason: string) => (p: Position) => p.state === 'closed' && p.close_reason === reason;

/** The scripted recommendations. Explicit contracts are quoted at a 2.00 mid before they are sent. */
function scenarios(contracts: { c1: string; c2: string; c3: string; put: string }): Scenario[] {
  const off = { stop_loss_pct: null, take_profit_pct: null, trailing_stop_pct: null, partial_exits: null };
  return [
    {
      account: 'main',
      id: 'demo-stop-loss',
      title: 'stop loss',
      rec: {
        ticker: 'GOOGL',
        option_symbol: contracts.c1,
        action: 'BUY',
        num_contracts: 2,
        exit_plan: { ...off, stop_loss_pct: 0.25 },
      },
      steps: [{ mid: 0.65, until: closedBy('stop_loss'), what: 'closed by stop_loss' }],
      expectedSide: 'long',
    },
    {
      account: 'main',
      id: 'demo-take-profit',
      title: 'take profit',
      rec: {
        ticker: 'GOOGL',
        option_symbol: contracts.c2,
        action: 'BUY',
        num_contracts: 2,
        exit_plan: { ...off, take_profit_pct: 0.5 },
      },
      steps: [{ mid: 1.6, until: closedBy('take_profit'), what: 'closed by take_profit' }],
      expectedSide: 'long',
    },
    {
      account: 'main',
      id: 'demo-trailing',
      title: 'trailing stop (contract chosen by the swing_trade profile)',
      rec: {
        ticker: 'SPY',
        instrument_type: 'CALL',
        strategy: 'swing_trade',
        action: 'BUY',
        exit_plan: { ...off, breakeven_at_pct: null, trailing_stop_pct: 0.2 },
      },
      steps: [
        {
          mid: 1.5,
          until: (p) =>
            p.state === 'open' &&
            (p.trailing_stop_price ?? 0) > 0 &&
            (p.peak_price ?? 0) >= (p.entry_price ?? Infinity) * 1.45,
          what: 'trail raised to the new peak',
        },
        { mid: 1.1, until: closedBy('trailing_stop'), what: 'closed by trailing_stop' },
      ],
      expectedSide: 'long',
    },
    {
      account: 'main',
      id: 'demo-partial',
      title: 'partial exit, then take profit',
      rec: {
        ticker: 'GOOGL',
        option_symbol: contracts.c3,
        action: 'BUY',
        num_contracts: 4,
        exit_plan: { ...off, partial_exits: [{ gain_pct: 0.4, fraction: 0.5 }], take_profit_pct: 1.0 },
      },
      steps: [
        {
          mid: 1.45,
          until: (p) => p.state === 'open' && p.partial_exits_done.includes(0) && p.quantity === 2,
          what: 'half closed by partial_exit',
        },
        { mid: 2.1, until: closedBy('take_profit'), what: 'rest closed by take_profit' },
      ],
      expectedSide: 'long',
    },
    {
      account: 'main',
      id: 'demo-short',
      title: 'short stopped out (intent-free BUY)',
      rec: {
        ticker: 'GOOGL',
        option_symbol: contracts.put,
        action: 'SELL',
        num_contracts: 2,
        exit_plan: { ...off, stop_loss_pct: 0.25 },
      },
      steps: [{ mid: 1.35, until: closedBy('stop_loss'), what: 'closed by stop_loss' }],
      expectedSide: 'short',
    },
    {
      account: 'tiny',
      id: 'demo-tiny',
      title: 'tiny: profile-chosen cheap call, stop loss',
      rec: {
        ticker: 'INTC',
        instrument_type: 'CALL',
        strategy: 'swing_trade',
        action: 'BUY',
        exit_plan: { ...off, stop_loss_pct: 0.3 },
      },
      steps: [{ mid: 0.6, until: closedBy('stop_loss'), what: 'closed by stop_loss' }],
      expectedSide: 'long',
    },
  ];
}

/** A message no schema accepts: the underlying's ticker where an OCC contract symbol belongs. */
const BAD_MESSAGE = {
  recommendation_id: 'demo-bad',
  ticker: 'GOOGL',
  option_symbol: 'GOOGL',
  action: 'BUY',
  num_contracts: 1,
};

/** Runs the scripted session against a started stack (simulator, accounts main and tiny). */
export async function runDemo(
  stack: LocalStack,
  say: (line: string) => void,
  opts: { timeoutMs?: number } = {},
): Promise<DemoResult> {
  const started = Date.now();
  const deadline = started + (opts.timeoutMs ?? 50_000);
  const sim = stack.sim;
  if (!sim) throw new Error('the demo runs on the simulator');
  const missing: string[] = [];

  // Contracts: three calls and a put of GOOGL's ~3-week expiry, quoted at a 2.00 mid.
  const expiry = localExpiries(new Date())[1];
  const googl = [...sim.market.contracts.values()].filter(
    (c) => c.underlying === 'GOOGL' && c.expiry === expiry,
  );
  const call = (strike: number) => googl.find((c) => c.type === 'call' && c.strike === strike)!.symbol;
  const contracts = {
    c1: call(180),
    c2: call(185),
    c3: call(190),
    put: googl.find((c) => c.type === 'put' && c.strike === 175)!.symbol,
  };
  for (const s of Object.values(contracts)) sim.setQuote(s, { bid: 1.95, ask: 2.05 });

  const plan = scenarios(contracts);
  const messages = new Map<string, InputMessage[]>();
  for (const s of plan) {
    const body = JSON.stringify({ recommendation_id: s.id, ...s.rec, created_at: new Date().toISOString() });
    messages.set(s.account, [...(messages.get(s.account) ?? []), { source: s.id, body }]);
  }
  const bad: InputMessage = { source: 'demo-bad', body: JSON.stringify(BAD_MESSAGE) };
  const refusal = validateMessage(bad, new Date());
  say(`inject: the bad message is refused by the CLI's validation too: ${refusal?.message ?? 'NOT REFUSED'}`);
  messages.get('main')!.push(bad);
  for (const [account, list] of messages) {
    for (const m of list) {
      if (m !== bad && validateMessage(m, new Date())) throw new Error(`demo message ${m.source} is invalid`);
    }
    const { sent, failed } = await sendMessages(stack.sqs.client, stack.account(account).queueUrl, list);
    if (failed.length > 0) throw new Error(`could not send: ${JSON.stringify(failed)}`);
    say(`inject: sent ${sent.length} message(s) to ${account}'s queue`);
  }

  // Each scenario: wait for the open fill, then walk its price steps.
  const finals = new Map<string, Position | null>();
  const runScenario = async (s: Scenario) => {
    const store = stack.account(s.account).store;
    const opened = await waitFor(
      () => store.get(s.account, s.id),
      (p) => p?.state === 'open' && p.entry_price != null,
      deadline,
    );
    if (!opened) {
      const p = await store.get(s.account, s.id);
      missing.push(
        `${s.id}: never opened (state ${p?.state ?? 'no record'}${p?.close_reason ? `, ${p.close_reason}` : ''})`,
      );
      finals.set(s.id, p);
      return;
    }
    say(`${s.account}/${s.id}: open, ${opened.quantity} × ${opened.option_symbol} at ${opened.entry_price}`);
    let last: Position | null = opened;
    for (const step of s.steps) {
      const mid = roundToCents(opened.entry_price! * step.mid);
      sim.setQuote(opened.option_symbol, { bid: roundToCents(mid - 0.05), ask: roundToCents(mid + 0.05) });
      last = await waitFor(
        () => store.get(s.account, s.id),
        (p) => !!p && step.until(p),
        deadline,
      );
      if (!last) {
        const p = await store.get(s.account, s.id);
        missing.push(
          `${s.id}: not ${step.what} after the mid moved to ${mid} (state ${p?.state}, ${p?.close_reason ?? 'no close reason'})`,
        );
        finals.set(s.id, p);
        return;
      }
      say(`${s.account}/${s.id}: mid → ${mid}: ${step.what}`);
    }
    if (last.side !== s.expectedSide) missing.push(`${s.id}: side ${last.side}, expected ${s.expectedSide}`);
    finals.set(s.id, last);
  };

  // The bad message: refused on each receive, then moved to the DLQ by the queue's redrive policy.
  const main = stack.account('main');
  const dlqCheck = (async () => {
    const inDlq = await waitFor(
      () => stack.sqs.depth(main.dlqUrl),
      (d) => d.visible + d.inFlight >= 1,
      deadline,
    );
    if (!inDlq) {
      missing.push('demo-bad: not in the DLQ');
      return null;
    }
    const peek = await stack.sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: main.dlqUrl,
        MaxNumberOfMessages: 1,
        VisibilityTimeout: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const message = peek.Messages?.[0];
    const rejection = (await main.store.listRejections('main')).find(
      (r) => r.message_id === message?.MessageId,
    );
    if (!rejection) missing.push('demo-bad: in the DLQ but no rejection recorded for its message id');
    say(
      `main/demo-bad: in the DLQ after ${rejection?.receive_count ?? '?'} refused receives: ${rejection?.reason}`,
    );
    return rejection ?? null;
  })();

  await Promise.all(plan.map(runScenario));
  const rejection = await dlqCheck;

  // Safety rules on what the client actually sent.
  for (const account of stack.accounts) {
    for (const r of sim.requestsTo('POST', '/v2/orders').filter((x) => x.keyId === account.keyId)) {
      const body = (r.body ?? {}) as Record<string, unknown>;
      const cid = String(body.client_order_id ?? '');
      if (/^ops-[a-z0-9-]+-x\d+-/.test(cid) && 'position_intent' in body) {
        missing.push(`closing order ${cid} was sent WITH position_intent ${String(body.position_intent)}`);
      }
      if (/^ops-[a-z0-9-]+-o-/.test(cid) && typeof body.position_intent !== 'string') {
        missing.push(`opening order ${cid} was sent without position_intent`);
      }
    }
  }
  const closes = sim
    .requestsTo('POST', '/v2/orders')
    .filter((r) => /-x\d+-/.test(String((r.body as Record<string, unknown>)?.client_order_id)));
  if (closes.length < 7)
    missing.push(
      `expected at least 7 closing orders (one per exit, two for the partial), saw ${closes.length}`,
    );

  const rows: DemoRow[] = plan.map((s) => {
    const p = finals.get(s.id);
    const exits = p
      ? `${p.partial_exits_done.length ? 'partial_exit → ' : ''}${p.close_reason ?? p.state}`
      : 'missing';
    return {
      position: s.id,
      account: s.account,
      symbol: p?.option_symbol ?? '—',
      side: p?.side ?? '—',
      qty: p ? String(p.original_quantity) : '—',
      outcome: exits,
      pnl: p ? p.realized_pnl.toFixed(2) : '—',
    };
  });
  rows.push({
    position: BAD_MESSAGE.recommendation_id,
    account: 'main',
    symbol: BAD_MESSAGE.option_symbol,
    side: '—',
    qty: '—',
    outcome: rejection
      ? `DLQ after ${rejection.receive_count} refused receives: ${rejection.detail}`
      : 'NOT in the DLQ',
    pnl: '—',
  });
  return { ok: missing.length === 0, rows, missing, durationMs: Date.now() - started };
}

/** The summary table. */
export function renderDemoSummary(result: DemoResult): string {
  const lines = textTable(result.rows, [
    { title: 'POSITION', cell: (r) => r.position },
    { title: 'ACCOUNT', cell: (r) => r.account },
    { title: 'SYMBOL', cell: (r) => r.symbol },
    { title: 'SIDE', cell: (r) => r.side },
    { title: 'QTY', cell: (r) => r.qty, right: true },
    { title: 'P&L $', cell: (r) => r.pnl, right: true },
    { title: 'OUTCOME', cell: (r) => r.outcome },
  ]);
  const verdict = result.ok
    ? `demo passed in ${(result.durationMs / 1000).toFixed(1)} s: every exit fired, every open carried position_intent, no close did`
    : `demo FAILED after ${(result.durationMs / 1000).toFixed(1)} s:\n${result.missing.map((m) => `  - ${m}`).join('\n')}`;
  return `${lines.join('\n')}\n\n${verdict}`;
}

async function waitFor<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  deadline: number,
): Promise<T | null> {
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 100));
  }
}
