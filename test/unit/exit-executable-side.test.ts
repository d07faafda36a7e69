/**
 * Issue 12 item 4: no exit fires on a price the position cannot realize. Take profit, partial exits, the
 * trailing peak and breakeven activation are judged on the executable side (bid for a long, ask for a short)
 * whatever `exit_execution.mark` says; the stop loss keeps firing on the mark (protection first). And the
 * rules that need no price act without a usable quote.
 */
import { evaluateExit, type ExitEvaluation, type MarkMode } from '../../shared/domain/exit-rules';
import type { ExitPlan } from '../../shared/domain/exit-plan';
import { formatOccSymbol } from '../../shared/domain/occ';
import type { Position, PositionSide } from '../../shared/domain/position';
import { BUILTIN_PROFILES } from '../../shared/domain/strategy-profiles';
import type { OptionQuote } from '../../shared/ports';
import { FACTORY_NOW, makeExitPlan, makePosition, makeQuote } from '../helpers/factories';

const NOW = FACTORY_NOW;

function position(side: PositionSide, entry: number, plan: Partial<ExitPlan>, o: Partial<Position> = {}) {
  return makePosition({ side, entry_price: entry, exit_plan: makeExitPlan(plan), ...o });
}

function summary(e: ExitEvaluation): string {
  return e.decision.action === 'close'
    ? `close ${e.decision.qty} ${e.decision.reason}`
    : `hold ${e.decision.reason}`;
}

const wideLong = makeQuote({ bid: 0.5, ask: 16.0 }); // mid 8.25: +106% on a 4.00 entry; bid: -87.5%
// For a short entered at 4.00: mid 1.80 looks like +55%, but buying back at the ask (3.50) gains 12.5%.
const wideShort = makeQuote({ bid: 0.1, ask: 3.5 });

describe('profit rules are judged on the executable side, whatever the mark', () => {
  it.each<MarkMode>(['mid', 'bid_ask'])(
    'the regression: entry 4.00 long, quote 0.50 / 16.00 does not take profit (mark %s)',
    (mark) => {
      const result = evaluateExit(position('long', 4.0, { take_profit_pct: 1.0 }), wideLong, NOW, { mark });
      expect(summary(result)).toBe('hold no_rule_fired');
    },
  );

  it('a short does not take profit on a mid it cannot buy back at', () => {
    const result = evaluateExit(position('short', 4.0, { take_profit_pct: 0.5 }), wideShort, NOW);
    expect(summary(result)).toBe('hold no_rule_fired');
  });

  it('takes profit when the executable side reaches it (bid for a long, ask for a short)', () => {
    const long = evaluateExit(
      position('long', 4.0, { take_profit_pct: 0.5 }),
      makeQuote({ bid: 6.0, ask: 9.0 }),
      NOW,
    );
    const short = evaluateExit(
      position('short', 4.0, { take_profit_pct: 0.5 }),
      makeQuote({ bid: 1.0, ask: 2.0 }),
      NOW,
    );
    expect(summary(long)).toBe('close 10 take_profit');
    expect(summary(short)).toBe('close 10 take_profit');
  });

  it('does not take a partial exit on the mid', () => {
    const plan = { partial_exits: [{ gain_pct: 0.5, fraction: 0.5 }] };
    expect(summary(evaluateExit(position('long', 4.0, plan), wideLong, NOW))).toBe('hold no_rule_fired');
    expect(summary(evaluateExit(position('short', 4.0, plan), wideShort, NOW))).toBe('hold no_rule_fired');
  });

  it('keeps the trailing peak at what the position can realize (bid high-water mark / ask low-water mark)', () => {
    const plan = { trailing_stop_pct: 0.2 };
    const long = evaluateExit(position('long', 4.0, plan), wideLong, NOW);
    expect(long.state.peak_price).toBe(4.0); // the bid (0.50) is below entry: the entry stays the peak
    expect(long.state.trailing_stop_price).toBe(3.2);
    const tight = evaluateExit(position('long', 4.0, plan), makeQuote({ bid: 5.0, ask: 6.0 }), NOW);
    expect(tight.state.peak_price).toBe(5.0);
    const short = evaluateExit(position('short', 4.0, plan), wideShort, NOW);
    expect(short.state.peak_price).toBe(3.5); // the ask, not the mid 1.80
  });

  it('does not arm the trail activation on the mid', () => {
    const plan = { trailing_stop_pct: 0.2, trail_activation_pct: 0.5 };
    const result = evaluateExit(position('long', 4.0, plan), wideLong, NOW);
    expect(result.state.trailing_stop_price).toBeNull();
  });

  it('does not arm breakeven on the mid', () => {
    const plan = { breakeven_at_pct: 0.5 };
    expect(evaluateExit(position('long', 4.0, plan), wideLong, NOW).state.breakeven_active).toBe(false);
    expect(evaluateExit(position('short', 4.0, plan), wideShort, NOW).state.breakeven_active).toBe(false);
    const armed = evaluateExit(position('long', 4.0, plan), makeQuote({ bid: 6.0, ask: 6.2 }), NOW);
    expect(armed.state.breakeven_active).toBe(true);
  });

  it('the stop loss still fires on the mark (protection first), not on the executable side', () => {
    // Mid 2.95 is -26% (past a 25% stop) whatever the bid; the bid alone would not decide it.
    const fires = evaluateExit(
      position('long', 4.0, { stop_loss_pct: 0.25 }),
      makeQuote({ bid: 2.9, ask: 3.0 }),
      NOW,
    );
    expect(summary(fires)).toBe('close 10 stop_loss');
    // A wide spread whose bid is -87.5% but whose mid is +106%: the mark decides, no stop.
    const wide = evaluateExit(position('long', 4.0, { stop_loss_pct: 0.25 }), wideLong, NOW);
    expect(summary(wide)).toBe('hold no_rule_fired');
  });

  it('reports the executable price it judged on', () => {
    const result = evaluateExit(position('long', 4.0, { take_profit_pct: 1.0 }), wideLong, NOW);
    expect(result.executable).toBe(0.5);
    expect(result.mark).toBe(8.25);
  });
});

describe('rules that need no price act without a usable quote', () => {
  // June 2026: New York is UTC-4. 2026-06-02 is a Tuesday.
  const tuesday = (hhmmUtc: string) => new Date(`2026-06-02T${hhmmUtc}:00Z`);
  const symbolExpiring = (date: string) =>
    formatOccSymbol({ root: 'GOOGL', expiry: date, type: 'call', strike: 340 });

  const quotes: Array<[string, (now: Date, symbol?: string) => OptionQuote | undefined, string]> = [
    ['no quote', () => undefined, 'no_quote'],
    [
      'a stale quote',
      (now, symbol) =>
        makeQuote({
          quoteTime: new Date(now.getTime() - 600_000).toISOString(),
          ...(symbol ? { symbol } : {}),
        }),
      'stale_quote',
    ],
    [
      'a crossed quote',
      (now, symbol) =>
        makeQuote({ bid: 2.5, ask: 2.0, quoteTime: now.toISOString(), ...(symbol ? { symbol } : {}) }),
      'crossed_quote',
    ],
  ];

  describe.each(quotes)('with %s', (_name, quoteAt, problem) => {
    it('closes for expiry (close_before_expiry_days)', () => {
      const now = tuesday('15:00');
      const p = position(
        'long',
        2.0,
        { close_before_expiry_days: 2 },
        {
          option_symbol: symbolExpiring('2026-06-03'),
          entry_time: tuesday('14:00').toISOString(),
        },
      );
      const result = evaluateExit(p, quoteAt(now, p.option_symbol), now);
      expect(summary(result)).toBe('close 10 expiry');
      expect(result.decision.detail).toContain(problem);
    });

    it('closes for max hold', () => {
      const now = tuesday('15:00');
      const p = position(
        'long',
        2.0,
        { max_hold_minutes: 30 },
        { entry_time: tuesday('14:00').toISOString() },
      );
      expect(summary(evaluateExit(p, quoteAt(now), now))).toBe('close 10 max_hold');
    });

    it('closes a day trade at the end of the day (profile time rule)', () => {
      const now = tuesday('19:56'); // 15:56 ET
      const p = position(
        'long',
        2.0,
        {},
        {
          time_rules: BUILTIN_PROFILES.day_trade.time_rules,
          entry_time: tuesday('14:00').toISOString(),
        },
      );
      expect(summary(evaluateExit(p, quoteAt(now), now))).toBe('close 10 time_rule');
    });

    it('closes on expiry day after the cutoff (profile time rule)', () => {
      const now = tuesday('19:15'); // 15:15 ET, past 15:10 on the expiry date
      const p = position(
        'long',
        2.0,
        {},
        {
          option_symbol: symbolExpiring('2026-06-02'),
          time_rules: BUILTIN_PROFILES.swing_trade.time_rules,
          entry_time: '2026-05-20T14:00:00Z',
        },
      );
      const result = evaluateExit(p, quoteAt(now, p.option_symbol), now);
      expect(summary(result)).toBe('close 10 time_rule');
      expect(result.decision.detail).toContain('expiry');
    });

    it(`holds the price rules with reason ${problem}`, () => {
      const now = tuesday('15:00');
      const p = position(
        'long',
        2.0,
        { stop_loss_pct: 0.01, take_profit_pct: 0.01, trailing_stop_pct: 0.01, breakeven_at_pct: 0.01 },
        { entry_time: tuesday('14:00').toISOString() },
      );
      const result = evaluateExit(p, quoteAt(now), now);
      expect(summary(result)).toBe(`hold ${problem}`);
      expect(result.stateChanged).toBe(false);
    });
  });
});
