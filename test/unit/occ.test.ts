import { formatOccSymbol, parseOccSymbol } from '../../shared/domain/occ';

describe('parseOccSymbol', () => {
  it('parses root, expiry, type and strike', () => {
    const r = parseOccSymbol('GOOGL271217C00340000');
    expect(r).toEqual({
      ok: true,
      value: {
        symbol: 'GOOGL271217C00340000',
        root: 'GOOGL',
        underlying: 'GOOGL',
        expiry: '2027-12-17',
        type: 'call',
        strike: 340,
      },
    });
  });

  it('parses puts and fractional strikes', () => {
    const r = parseOccSymbol('SPY270115P00412500');
    expect(r.ok && r.value).toMatchObject({ type: 'put', strike: 412.5, underlying: 'SPY' });
  });

  it('maps an adjusted root (trailing digit) to its underlying', () => {
    const r = parseOccSymbol('GOOGL1271217C00340000');
    expect(r.ok && r.value).toMatchObject({ root: 'GOOGL1', underlying: 'GOOGL' });
  });

  it.each([
    ['the underlying ticker alone', 'GOOGL'],
    ['lowercase', 'googl271217c00340000'],
    ['a 7-letter root', 'ABCDEFG271217C00340000'],
    ['a bad type letter', 'GOOGL271217X00340000'],
    ['a short strike', 'GOOGL271217C0034000'],
    ['whitespace', ' GOOGL271217C00340000'],
    ['a cyrillic look-alike O', 'GOОGL271217C00340000'],
  ])('rejects %s', (_name, symbol) => {
    const r = parseOccSymbol(symbol);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/not an OCC option symbol/);
  });

  it.each([
    ['February 30', 'GOOGL270230C00340000', '2027-02-30'],
    ['month 13', 'GOOGL271301C00340000', '2027-13-01'],
    ['day 00', 'GOOGL271200C00340000', '2027-12-00'],
    ['Feb 29 in a non-leap year', 'GOOGL270229C00340000', '2027-02-29'],
  ])('rejects an impossible date: %s', (_name, symbol, date) => {
    const r = parseOccSymbol(symbol);
    expect(!r.ok && r.error).toContain(`impossible expiry date ${date}`);
  });

  it('accepts Feb 29 in a leap year', () => {
    expect(parseOccSymbol('GOOGL280229C00340000').ok).toBe(true);
  });

  it('rejects a zero strike', () => {
    const r = parseOccSymbol('GOOGL271217C00000000');
    expect(!r.ok && r.error).toMatch(/zero strike/);
  });

  it('round-trips through formatOccSymbol', () => {
    const r = parseOccSymbol('AAPL280121P00187500');
    expect(r.ok && formatOccSymbol(r.value)).toBe('AAPL280121P00187500');
  });
});
