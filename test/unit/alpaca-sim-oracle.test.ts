/**
 * The simulator is an independent oracle: it imports nothing from shared/, and where its own OCC and
 * New York time code could disagree with production's, these tests compare the two on the same inputs.
 * (The test may import both; the simulator itself may not, which eslint.config.mjs enforces too.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addDays as simAddDays, newYorkClock } from '../../local/alpaca-sim/clock';
import { formatOcc, parseOcc } from '../../local/alpaca-sim/occ';
import { addDays, newYorkTime } from '../../shared/domain/market-time';
import { formatOccSymbol, parseOccSymbol } from '../../shared/domain/occ';

const SIM_DIR = join(__dirname, '../../local/alpaca-sim');

/** Every module specifier of a TypeScript source: static imports/exports, `import()`, `require()`. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]);
  return out;
}

describe('the simulator imports nothing from shared/', () => {
  it('finds the specifiers it scans for (the scanner can fail)', () => {
    const planted = [
      "import { parseOccSymbol } from '../../shared/domain/occ';",
      "import type {\n  X,\n} from '../../shared/domain/ports';",
      "const m = await import('../../shared/domain/market-time');",
      "const r = require('../../shared/x');",
      "export * from '../../shared/y';",
    ].join('\n');
    expect(specifiers(planted).filter((s) => /(^|\/)shared(\/|$)/.test(s))).toHaveLength(5);
  });

  it('holds for every .ts file under local/alpaca-sim', () => {
    const files = readdirSync(SIM_DIR, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.ts'),
    );
    expect(files.length).toBeGreaterThanOrEqual(7);
    const offenders = files.flatMap((f) =>
      specifiers(readFileSync(join(SIM_DIR, f), 'utf8'))
        .filter((s) => /(^|\/)shared(\/|$)/.test(s) || /^\.\.\//.test(s))
        .map((s) => `${f}: ${s}`),
    );
    expect(offenders).toEqual([]);
  });
});

const SYMBOLS = [
  'GOOGL271217C00340000',
  'GOOGL1271217C00340000', // adjusted root
  'SPY271217P00600000',
  'SPXW271217P05000500', // fractional strike 5000.5
  'A271217C00001000', // one-letter root, strike 1
  'BRKB271217C00450000',
  'ABCDEF271217C00100000', // six letters
  'ABCDE1271217C00100000', // five letters + digit
  'ABCDEFG271217C00100000', // seven letters
  'ABCDEF1271217C00100000', // six letters + digit
  '1GOOG271217C00340000', // digit first
  'GO1OG271217C00340000', // digit inside
  '1271217C00340000', // digit-only root
  'GOOGL280229C00340000', // 2028 is a leap year
  'GOOGL270229C00340000', // 2027 is not
  'GOOGL271131C00340000', // 31 November
  'GOOGL271317C00340000', // month 13
  'GOOGL271200C00340000', // day 0
  'GOOGL271217C00000000', // zero strike
  'GOOGL271217X00340000', // neither C nor P
  'GOOGL271217C0034000', // 7 strike digits
  'GOOGL271217C003400000', // 9 strike digits
  'googl271217C00340000', // lower case
  'GOOGL',
  '',
  'GOOGL 271217C00340000',
];

describe('OCC symbols: the simulator and production agree', () => {
  it.each(SYMBOLS)('%s', (symbol) => {
    const prod = parseOccSymbol(symbol);
    const sim = parseOcc(symbol);
    expect(sim === null).toBe(!prod.ok);
    if (prod.ok && sim) {
      expect(sim).toEqual({
        symbol: prod.value.symbol,
        root: prod.value.root,
        underlying: prod.value.underlying,
        expiry: prod.value.expiry,
        type: prod.value.type,
        strike: prod.value.strike,
      });
    }
  });

  it('formats the same symbol from the same parts', () => {
    const parts = [
      { root: 'GOOGL', expiry: '2027-12-17', type: 'call' as const, strike: 340 },
      { root: 'GOOGL1', expiry: '2028-01-21', type: 'put' as const, strike: 12.5 },
      { root: 'SPXW', expiry: '2027-03-05', type: 'put' as const, strike: 5000.5 },
      { root: 'F', expiry: '2027-06-18', type: 'call' as const, strike: 0.5 },
    ];
    for (const p of parts) {
      const sim = formatOcc(p.root, p.expiry, p.type, p.strike);
      expect(sim).toBe(formatOccSymbol(p));
      expect(parseOcc(sim)).toMatchObject(p);
    }
  });
});

describe('New York time: the simulator and production agree', () => {
  // Around both 2027 DST changes (14 March, 7 November), midnight, the 15:30 cutoff and the close.
  const instants = [
    '2027-03-14T06:59:00Z',
    '2027-03-14T07:00:00Z',
    '2027-03-14T07:01:00Z',
    '2027-11-07T05:59:00Z',
    '2027-11-07T06:00:00Z',
    '2027-11-07T06:30:00Z',
    '2027-12-17T04:59:59Z',
    '2027-12-17T05:00:00Z',
    '2027-12-17T20:30:00Z',
    '2027-07-16T19:29:59Z',
    '2027-07-16T19:30:00Z',
    '2029-03-06T15:00:00Z',
    '2026-12-31T23:59:59.999Z',
  ];
  it.each(instants)('%s', (iso) => {
    const d = new Date(iso);
    expect(newYorkClock(d)).toEqual(newYorkTime(d));
  });

  it('adds days the same way across month, year and leap-day boundaries', () => {
    for (const [date, n] of [
      ['2027-12-31', 1],
      ['2028-02-28', 1],
      ['2027-02-28', 1],
      ['2027-03-01', -1],
      ['2027-01-15', 400],
      ['2027-11-06', 1],
    ] as const) {
      expect(simAddDays(date, n)).toBe(addDays(date, n));
    }
  });
});
