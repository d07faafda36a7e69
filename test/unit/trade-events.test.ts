/**
 * Issue 16, part 4: the SNS publisher against a recorded client (the real SDK client; a middleware records
 * each request as it would go on the wire and answers in place of AWS), the subject lines, and the best-effort
 * wrapper: a failing or hanging publish is counted and never thrown.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import type { HttpRequest } from '@smithy/types';
import { SnsTradeEvents } from '../../shared/adapters/sns-trade-events';
import { tradeEventSubject, type TradeEvent } from '../../shared/domain/trade-events';
import { Metric } from '../../shared/metric-names';
import { SILENT_LOG, type MetricsSink } from '../../shared/observability';
import { emitTradeEvent, positionClosedEvent } from '../../shared/use-cases/emit-trade-event';
import { makePosition } from '../helpers/factories';
import { LEDGER_SYMBOL, minutesAfter, stoppedOutLedger } from '../helpers/ledger-factories';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:trade-events';
const AT = '2026-06-01T15:00:00.000Z';

const closed: TradeEvent = {
  type: 'position_closed',
  account: 'main',
  position_id: 'rec-1',
  option_symbol: 'GOOGL271217C00340000',
  reason: 'stop_loss',
  realized_pnl: -123.4,
  realized_cents: -12_340,
  fees_cents: 0,
  exit_price: 1.5,
  at: AT,
};

/** A real SNS client whose requests are recorded and answered here instead of by AWS. */
function recordedClient(answer: 'ok' | 'fail' | 'hang' = 'ok') {
  const requests: HttpRequest[] = [];
  const client = new SNSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    () => async (args) => {
      requests.push(args.request as HttpRequest);
      if (answer === 'fail')
        throw Object.assign(new Error('AuthorizationError'), { name: 'AuthorizationError' });
      if (answer === 'hang') await new Promise(() => undefined);
      return { response: { statusCode: 200, headers: {} }, output: { MessageId: 'm-1', $metadata: {} } };
    },
    { step: 'finalizeRequest', name: 'recordAndAnswer', priority: 'low' },
  );
  return { client, requests };
}

/** The form fields of a recorded request (SNS speaks the query protocol). */
function fieldsOf(req: HttpRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(String(req.body)));
}

describe('SnsTradeEvents', () => {
  it('publishes one JSON message with the subject line and type/account attributes to the topic', async () => {
    const { client, requests } = recordedClient();
    await new SnsTradeEvents(client, TOPIC).publish(closed);
    expect(requests).toHaveLength(1);
    const f = fieldsOf(requests[0]);
    expect(f.Action).toBe('Publish');
    expect(f.TopicArn).toBe(TOPIC);
    expect(f.Subject).toBe('[main] closed GOOGL271217C00340000 (stop_loss) -$123.40');
    expect(JSON.parse(String(f.Message))).toEqual(closed);
    expect(f).toMatchObject({
      'MessageAttributes.entry.1.Name': 'type',
      'MessageAttributes.entry.1.Value.StringValue': 'position_closed',
      'MessageAttributes.entry.2.Name': 'account',
      'MessageAttributes.entry.2.Value.StringValue': 'main',
    });
    // Signed for SNS in the client's region, one attempt only.
    expect(requests[0].headers.host).toBe('sns.us-east-1.amazonaws.com');
    expect(requests[0].headers['amz-sdk-request']).toBe('attempt=1; max=1');
  });

  it('rejects when SNS refuses (the caller counts it)', async () => {
    const { client } = recordedClient('fail');
    await expect(new SnsTradeEvents(client, TOPIC).publish(closed)).rejects.toThrow(/AuthorizationError/);
  });
});

describe("positionClosedEvent (the ledger's figures, issue 23)", () => {
  /** A long of 2 bought at 2.10 whose resting stop filled 1 at 1.60, then 1 at 1.50, with a $0.65 fee. */
  function stoppedOut() {
    const l = stoppedOutLedger();
    // The record's own fields are stale on purpose: the event must read the ledger, not them.
    return makePosition({
      state: 'closed',
      quantity: 0,
      ledger: l,
      realized_pnl: -105,
      exit_price: 1.55,
      fees: 0,
      close_reason: 'stop_loss',
    });
  }

  it('carries realized_cents after fees, fees_cents and exit_price from the ledger; realized_pnl agrees', () => {
    const e = positionClosedEvent(stoppedOut(), 'stop_loss', AT);
    expect(e).toEqual({
      type: 'position_closed',
      account: 'main',
      position_id: expect.any(String),
      option_symbol: LEDGER_SYMBOL,
      reason: 'stop_loss',
      // Each part at its own price: (160 + 150 − 2 × 210) × 100 = −$110 before fees, not the average's −$105.
      realized_pnl: -110,
      realized_cents: -11_065,
      fees_cents: 65,
      exit_price: 1.55,
      at: AT,
    });
    if (e.type !== 'position_closed') throw new Error('not a close');
    expect(e.realized_pnl * 100).toBe(e.realized_cents + e.fees_cents);
    expect(tradeEventSubject(e)).toBe(`[main] closed ${LEDGER_SYMBOL} (stop_loss) -$110.00, fees $0.65`);
  });

  it('reads a record written before the ledger through the ledger its fields imply', () => {
    const legacy = makePosition({
      state: 'closed',
      quantity: 0,
      original_quantity: 2,
      entry_price: 2.1,
      exit_price: 2.5,
      realized_pnl: 80,
      fees: 0.1,
      closed_at: minutesAfter(30),
      close_reason: 'take_profit',
    });
    expect(legacy.ledger).toBeUndefined();
    expect(positionClosedEvent(legacy, 'take_profit', AT)).toMatchObject({
      realized_pnl: 80,
      realized_cents: 7_990,
      fees_cents: 10,
      exit_price: 2.5,
    });
  });
});

describe('tradeEventSubject', () => {
  it('names the event in a line of at most 100 printable characters', () => {
    const subjects = [
      tradeEventSubject({
        type: 'position_opened',
        account: 'main',
        position_id: 'r',
        option_symbol: 'SPY261218P00400000',
        side: 'short',
        qty: 3,
        price: 1.5,
        at: AT,
      }),
      tradeEventSubject({
        type: 'recommendation_refused',
        account: 'main',
        key: 'x'.repeat(200),
        reason: 'risk_limit:daily_loss',
        detail: 'd',
        at: AT,
      }),
      tradeEventSubject({
        type: 'kill_switch_changed',
        account: 'main',
        trading_enabled: false,
        flatten: true,
        set_by: 'daily_loss',
        reason: 'r\nx',
        at: AT,
      }),
    ];
    expect(subjects[0]).toBe('[main] opened short 3 SPY261218P00400000 @ 1.50');
    expect(subjects[1]).toHaveLength(100);
    expect(subjects[2]).toBe('[main] openings OFF + flatten by daily_loss');
    for (const s of subjects) expect(s).toMatch(/^[\x20-\x7e]{1,100}$/);
  });
});

describe('emitTradeEvent (best effort)', () => {
  function counting() {
    const counts: Record<string, number> = {};
    const metrics: MetricsSink = {
      count: (name, value = 1) => void (counts[name] = (counts[name] ?? 0) + value),
      durationMs: () => undefined,
      gauge: () => undefined,
    };
    return { counts, metrics };
  }

  it('a refused publish resolves, counted in trade_events_failed', async () => {
    const { counts, metrics } = counting();
    const { client } = recordedClient('fail');
    await expect(
      emitTradeEvent({ tradeEvents: new SnsTradeEvents(client, TOPIC), log: SILENT_LOG, metrics }, closed),
    ).resolves.toBeUndefined();
    expect(counts[Metric.TradeEventsFailed]).toBe(1);
  });

  it('a publish that never answers is abandoned after the timeout (2 s by default), counted', async () => {
    // On jest's clock: the timeout fires when the test moves time, whatever the machine's speed.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const { counts, metrics } = counting();
      const { client, requests } = recordedClient('hang');
      let done = false;
      const emitted = emitTradeEvent(
        { tradeEvents: new SnsTradeEvents(client, TOPIC, 60_000), log: SILENT_LOG, metrics },
        closed,
      ).then(() => (done = true));
      await jest.advanceTimersByTimeAsync(1_999);
      expect(requests).toHaveLength(1); // sent, no answer
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await emitted;
      expect(done).toBe(true);
      expect(counts[Metric.TradeEventsFailed]).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a publish that throws synchronously is a failure too; no port at all is nothing to do', async () => {
    const { counts, metrics } = counting();
    const throwing = {
      publish: (): Promise<void> => {
        throw new Error('bad adapter');
      },
    };
    await emitTradeEvent({ tradeEvents: throwing, log: SILENT_LOG, metrics }, closed);
    await emitTradeEvent({ log: SILENT_LOG, metrics }, closed);
    expect(counts).toEqual({ [Metric.TradeEventsFailed]: 1 });
  });

  it('a publish that succeeds counts nothing', async () => {
    const { counts, metrics } = counting();
    const { client, requests } = recordedClient();
    await emitTradeEvent(
      { tradeEvents: new SnsTradeEvents(client, TOPIC), log: SILENT_LOG, metrics },
      closed,
    );
    expect(requests).toHaveLength(1);
    expect(counts).toEqual({});
  });
});
