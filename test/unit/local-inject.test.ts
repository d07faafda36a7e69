/** The inject CLI's input handling and validation, and the sample generator (pure; no queue). */
import {
  readMessages,
  runInject,
  sampleRecommendations,
  staleWarning,
  validateMessage,
  withCreatedAt,
} from '../../local/inject';
import { readCdkAccounts } from '../../local/accounts';
import { badMessages } from '../helpers/bad-messages';
import { recommendation } from '../helpers/recommendations';
import { contractFor, FAR_DAYS } from '../helpers/contracts';

const NOW = new Date('2026-11-24T15:00:00Z');

describe('readMessages', () => {
  it('reads one JSON object as one message', () => {
    expect(readMessages(JSON.stringify({ a: 1 }), 'one.json')).toEqual([
      { source: 'one.json', body: '{"a":1}' },
    ]);
  });

  it('reads a JSON array as one message per element', () => {
    const msgs = readMessages('[{"a":1}, {"b":2}]', 'list.json');
    expect(msgs).toEqual([
      { source: 'list.json[0]', body: '{"a":1}' },
      { source: 'list.json[1]', body: '{"b":2}' },
    ]);
  });

  it('reads JSON lines, skipping blank lines and keeping line numbers', () => {
    const msgs = readMessages('{"a":1}\n\n{"b":2}\r\n', 'recs.jsonl');
    expect(msgs).toEqual([
      { source: 'recs.jsonl:1', body: '{"a":1}' },
      { source: 'recs.jsonl:3', body: '{"b":2}' },
    ]);
  });

  it("keeps a broken line as a message, so validation refuses it with the parser's reason", () => {
    const [, broken] = readMessages('{"a":1}\n{"b":', 'recs.jsonl');
    expect(validateMessage(broken, NOW)).toMatchObject({ source: 'recs.jsonl:2', reason: 'invalid_json' });
  });
});

describe('validateMessage', () => {
  it('accepts a valid recommendation', () => {
    expect(validateMessage({ source: 's', body: JSON.stringify(recommendation()) }, NOW)).toBeNull();
  });

  it.each(badMessages().map((b) => [b.name, b] as const))(
    "refuses %s with the handler's reason",
    (_name, bad) => {
      const refusal = validateMessage({ source: 'x', body: bad.body }, NOW);
      expect(refusal).not.toBeNull();
      expect(refusal!.message).toMatch(bad.expect);
    },
  );

  it('parses a spread message as the handler does (its legs are not an unknown field); a bad one with its reason', () => {
    const legs = [
      { option_symbol: contractFor('SPY', FAR_DAYS, 'C', 500, NOW), side: 'buy', ratio_qty: 1 },
      { option_symbol: contractFor('SPY', FAR_DAYS, 'C', 505, NOW), side: 'sell', ratio_qty: 1 },
    ];
    const spread = { recommendation_id: 'sp-1', ticker: 'SPY', legs, num_contracts: 1, order_type: 'market' };
    expect(validateMessage({ source: 's', body: JSON.stringify(spread) }, NOW)).toBeNull();
    const twoOnOne = { ...spread, legs: [legs[0], { ...legs[0], side: 'sell' }] };
    expect(validateMessage({ source: 's', body: JSON.stringify(twoOnOne) }, NOW)).toMatchObject({
      recommendationId: 'sp-1',
    });
  });

  it('names the recommendation it refuses when the id is readable', () => {
    const body = JSON.stringify(recommendation({ recommendation_id: 'r-9', action: 'HOLD' }));
    expect(validateMessage({ source: 'f[0]', body }, NOW)).toMatchObject({
      recommendationId: 'r-9',
      reason: 'schema',
    });
  });
});

describe('sampleRecommendations', () => {
  it('generates valid recommendations with unique ids', () => {
    const samples = sampleRecommendations(50, { seed: 3, now: NOW });
    for (const s of samples)
      expect(validateMessage({ source: 's', body: JSON.stringify(s) }, NOW)).toBeNull();
    expect(new Set(samples.map((s) => s.recommendation_id)).size).toBe(50);
  });

  it("carries no exit_plan by default (the account's plan applies); random plans only with randomPlans", () => {
    const plain = sampleRecommendations(10, { seed: 4, now: NOW });
    expect(plain.every((s) => !('exit_plan' in s))).toBe(true);
    const random = sampleRecommendations(10, { seed: 4, now: NOW, randomPlans: true });
    for (const s of random) {
      expect(s.exit_plan).toEqual({
        stop_loss_pct: expect.any(Number),
        take_profit_pct: expect.any(Number),
        trailing_stop_pct: s.exit_plan && (s.exit_plan as { trailing_stop_pct: unknown }).trailing_stop_pct,
      });
      expect(validateMessage({ source: 's', body: JSON.stringify(s) }, NOW)).toBeNull();
    }
  });

  it('is deterministic for a seed', () => {
    expect(sampleRecommendations(5, { seed: 9, now: NOW })).toEqual(
      sampleRecommendations(5, { seed: 9, now: NOW }),
    );
  });

  it("keeps to underlyings whose contracts fit the account's premium limit (tiny: $300)", () => {
    const tiny = readCdkAccounts().find((a) => a.name === 'tiny')!;
    const samples = sampleRecommendations(20, {
      seed: 1,
      now: NOW,
      maxPremiumPerPosition: tiny.config.limits.max_premium_per_position,
    });
    expect(new Set(samples.map((s) => s.ticker))).toEqual(new Set(['INTC']));
  });
});

describe('created_at', () => {
  it('is filled in with the time of sending when absent, and kept when present', () => {
    const filled = withCreatedAt({ source: 'a.json', body: '{"recommendation_id":"r"}' }, NOW);
    expect(JSON.parse(filled.body)).toEqual({ recommendation_id: 'r', created_at: NOW.toISOString() });
    const kept = { source: 'b.json', body: '{"created_at":"2026-11-24T14:59:00Z"}' };
    expect(withCreatedAt(kept, NOW)).toBe(kept);
    const notJson = { source: 'c.json', body: 'nope' };
    expect(withCreatedAt(notJson, NOW)).toBe(notJson);
  });

  it('older than the account accepts gives a warning naming the age and the limit', () => {
    const old = { source: 'r.json', body: '{"recommendation_id":"r1","created_at":"2026-11-24T14:00:00Z"}' };
    expect(staleWarning(old, NOW, 5, 'main')).toBe(
      'r.json (r1): created_at is 60 min old; account main refuses recommendations older than 5 min (remove created_at to send it as new)',
    );
    expect(staleWarning(old, NOW, 90, 'main')).toBeNull();
  });
});

describe('inject arguments', () => {
  const run = async (argv: string[]) => {
    const lines: string[] = [];
    const r = await runInject(argv, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
    return { code: r.exitCode, text: lines.join('\n') };
  };

  it.each([
    [['--list-contracts', 'GOOGL', 'recs.json'], '--list-contracts only lists'],
    [['--plain', '--sample', '1'], '--type, --min-days and --plain go with --list-contracts'],
    [['--list-contracts', '--type', 'straddle'], '--type needs call or put'],
    [['--rejections', '--sample', '2'], '--rejections only lists'],
    [['--random-plans', 'recs.json'], '--random-plans goes with --sample N'],
    [[], 'nothing to send'],
  ])('refuses %j with a usage error (exit 2)', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.text).toContain(message);
    expect(r.text).toContain('Usage: npm run inject');
  });

  it('says no stack runs when listing contracts without npm start', async () => {
    const r = await run(['--list-contracts', '--state', '/nonexistent/state.json']);
    expect(r.code).toBe(2);
    expect(r.text).toContain('No running local stack found');
  });
});
