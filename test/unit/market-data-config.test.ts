/** Issue 26, item 4: `market_data.feed` in the account configuration. */
import { parseAccountConfig } from '../../shared/domain/account-config';
import { ConfigError } from '../../shared/domain/errors';

describe('market_data.feed', () => {
  it('defaults to indicative (what Alpaca serves without an OPRA subscription)', () => {
    expect(parseAccountConfig({ name: 'main' }).market_data).toEqual({ feed: 'indicative' });
    expect(parseAccountConfig({ name: 'main', market_data: {} }).market_data.feed).toBe('indicative');
  });

  it('accepts opra and indicative', () => {
    expect(parseAccountConfig({ name: 'main', market_data: { feed: 'opra' } }).market_data.feed).toBe('opra');
    expect(parseAccountConfig({ name: 'main', market_data: { feed: 'indicative' } }).market_data.feed).toBe(
      'indicative',
    );
  });

  it.each([
    [{ feed: 'sip' }, /market_data.feed/],
    [{ feed: 'OPRA' }, /market_data.feed/],
    [{ feed: null }, /market_data.feed/],
    [{ fed: 'opra' }, /market_data/],
  ])('refuses %j, naming the field', (market_data, field) => {
    expect(() => parseAccountConfig({ name: 'main', market_data })).toThrow(ConfigError);
    expect(() => parseAccountConfig({ name: 'main', market_data })).toThrow(field);
  });
});
