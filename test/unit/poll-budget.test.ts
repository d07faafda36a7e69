/**
 * Issue 15: the request arithmetic of the sweep's price-rule polls (shared/domain/poll-budget.ts) and how it
 * enters the stack's budget (lib/broker-rate-budget.ts), plus the `sweep_poll_seconds` field.
 */
import {
  ALPACA_REQUESTS_PER_MINUTE,
  brokerRequestBudgets,
  exitEvaluatorRequestsPerMinute,
  OPEN_ORDER_EVENT_SOURCE,
  sustainableRecommendationsPerMinute,
} from '../../lib/broker-rate-budget';
import { parseAccountConfig } from '../../shared/domain/account-config';
import { pollIntervalMs, pollRequests, pollRequestsPerMinute } from '../../shared/domain/poll-budget';
import { POLL_END_MARGIN_MS, pollWindowFor, REMAINING_MARGIN_MS } from '../../shared/use-cases/sweep/poll';

describe('poll budget arithmetic', () => {
  it('a poll costs ⌈N/100⌉ snapshot calls plus the 3 reads made when a rule fires', () => {
    expect(pollRequests(0)).toBe(4);
    expect(pollRequests(10)).toBe(4);
    expect(pollRequests(100)).toBe(4);
    expect(pollRequests(101)).toBe(5);
    expect(pollRequests(1000)).toBe(13);
  });

  it('the interval is sweep_poll_seconds up to 100 positions and stretches above, in proportion to the cost', () => {
    expect(pollIntervalMs(10, 5)).toBe(10_000);
    expect(pollIntervalMs(10, 100)).toBe(10_000);
    expect(pollIntervalMs(10, 200)).toBe(12_500);
    expect(pollIntervalMs(10, 1000)).toBe(32_500);
    expect(pollIntervalMs(30, 1000)).toBe(97_500);
  });

  it('polls never spend more a minute than at 100 positions, whatever the count', () => {
    for (const p of [2, 5, 10, 15, 30, 60]) {
      const at100 = pollRequestsPerMinute(p, 100);
      expect(at100).toBe(Math.floor(60 / p) * 4);
      for (let n = 0; n <= 5000; n += 37) expect(pollRequestsPerMinute(p, n)).toBeLessThanOrEqual(at100);
    }
    expect(pollRequestsPerMinute(10, 5)).toBe(24);
    expect(pollRequestsPerMinute(10, 1000)).toBe(13);
    expect(pollRequestsPerMinute(null, 1000)).toBe(0);
  });

  it('at the defaults (sweep every minute, polls every 10 s) an account stays under 200 a minute up to 100 positions', () => {
    // main: sweep 3 + 1 + 5 = 9, polls 24.
    expect(exitEvaluatorRequestsPerMinute(5, 1, 10)).toBe(33);
    expect(brokerRequestBudgets(5, 1, 10)).toEqual({ exitEvaluator: 33, openOrder: 73 });
    expect(exitEvaluatorRequestsPerMinute(100, 1, 10)).toBe(128);
    for (const n of [1, 5, 10, 50, 100]) {
      const b = brokerRequestBudgets(n, 1, 10);
      const sum = b.exitEvaluator + OPEN_ORDER_EVENT_SOURCE.maxConcurrency * b.openOrder;
      // The 10% margin of CLIENT_BUDGET_FRACTION: 180 of 200.
      expect(sum).toBeLessThanOrEqual(0.9 * ALPACA_REQUESTS_PER_MINUTE);
      expect(b.exitEvaluator).toBe(exitEvaluatorRequestsPerMinute(n, 1, 10));
      expect(b.openOrder).toBeGreaterThanOrEqual(25);
    }
    // Without polling the budget is what it was.
    expect(brokerRequestBudgets(5, 1, null)).toEqual({ exitEvaluator: 10, openOrder: 85 });
    // What `main` can absorb beside its sweep and polls: full batches, and every recommendation alone.
    expect(sustainableRecommendationsPerMinute(5, 1, 10, 10)).toBe(128);
    expect(sustainableRecommendationsPerMinute(5, 1, 1, 10)).toBe(41);
  });
});

describe('sweep_poll_seconds', () => {
  const parse = (v: unknown) => parseAccountConfig({ name: 'main', sweep_poll_seconds: v });
  it('defaults to 10; null turns polling off', () => {
    expect(parseAccountConfig({ name: 'main' }).sweep_poll_seconds).toBe(10);
    expect(parse(null).sweep_poll_seconds).toBeNull();
    expect(parse(30).sweep_poll_seconds).toBe(30);
  });
  it.each([0, 1, 1.5, 301, '10', -5])('refuses %p, naming the field', (v) => {
    expect(() => parse(v)).toThrow(/sweep_poll_seconds/);
  });
});

describe('pollWindowFor: when a sweep polls, and until when', () => {
  const account = parseAccountConfig({ name: 'main' });
  const at = Date.parse('2029-03-06T15:00:00Z');
  const event = (time: string) => ({ 'detail-type': 'Scheduled Event', time });

  it('a scheduled event: until 5 s before the next scheduled sweep (its time + the interval)', () => {
    expect(pollWindowFor(account, event('2029-03-06T15:00:00Z'), at + 800)).toEqual({
      deadlineMs: at + 60_000 - POLL_END_MARGIN_MS,
    });
    const every5 = parseAccountConfig({ name: 'main', sweep_interval_minutes: 5 });
    expect(pollWindowFor(every5, event('2029-03-06T15:00:00Z'), at)!.deadlineMs).toBe(at + 295_000);
  });

  it('never past the invocation’s remaining time less its margin (a late start, a short timeout)', () => {
    const w = pollWindowFor(account, event('2029-03-06T15:00:00Z'), at + 1_000, 20_000);
    expect(w).toEqual({ deadlineMs: at + 1_000 + 20_000 - REMAINING_MARGIN_MS });
    // The Lambda timeout (58 s) does not bind when the invocation starts on time: the schedule does.
    expect(pollWindowFor(account, event('2029-03-06T15:00:00Z'), at + 500, 58_000)).toEqual({
      deadlineMs: at + 55_000,
    });
  });

  it('one pass: polling off, a direct call, another event, a bad time', () => {
    const off = parseAccountConfig({ name: 'main', sweep_poll_seconds: null });
    expect(pollWindowFor(off, event('2029-03-06T15:00:00Z'), at)).toBeNull();
    expect(pollWindowFor(account, undefined, at)).toBeNull();
    expect(pollWindowFor(account, {}, at)).toBeNull();
    expect(pollWindowFor(account, { time: '2029-03-06T15:00:00Z' }, at)).toBeNull();
    expect(pollWindowFor(account, event('not a time'), at)).toBeNull();
  });
});
