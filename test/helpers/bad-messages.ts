import { recommendationBody } from './recommendations';

/** A broken or hostile SQS body and the text its refusal must contain. */
export interface BadMessage {
  readonly name: string;
  readonly body: string;
  /** Substring (or pattern) the error message must contain: the refusal is specific. */
  readonly expect: string | RegExp;
}

/**
 * Messages that can never succeed. Each must be refused with a specific reason, place no order, and not
 * disturb the other records of its batch.
 */
export function badMessages(): BadMessage[] {
  const b = recommendationBody;
  return [
    { name: 'empty body', body: '', expect: 'empty message body' },
    { name: 'whitespace body', body: '   \n', expect: 'empty message body' },
    { name: 'not JSON', body: '{"recommendation_id": "x",', expect: 'not valid JSON' },
    { name: 'a JSON array', body: '[1,2]', expect: 'got an array' },
    { name: 'JSON null', body: 'null', expect: 'got null' },
    { name: 'a JSON string', body: '"BUY GOOGL"', expect: 'got string' },
    { name: 'missing recommendation_id', body: b({}, ['recommendation_id']), expect: 'recommendation_id' },
    {
      name: 'bad characters in recommendation_id',
      body: b({ recommendation_id: 'a b/c' }),
      expect: 'recommendation_id',
    },
    {
      name: 'recommendation_id over 64 chars',
      body: b({ recommendation_id: 'x'.repeat(65) }),
      expect: 'recommendation_id',
    },
    { name: 'unknown action', body: b({ action: 'SELL_TO_CLOSE' }), expect: 'action' },
    { name: 'lowercase action', body: b({ action: 'buy' }), expect: 'action' },
    { name: 'zero contracts', body: b({ num_contracts: 0 }), expect: 'num_contracts' },
    { name: 'negative contracts', body: b({ num_contracts: -3 }), expect: 'num_contracts' },
    { name: 'fractional contracts', body: b({ num_contracts: 1.5 }), expect: 'num_contracts' },
    { name: 'contracts as a string', body: b({ num_contracts: '10' }), expect: 'num_contracts' },
    { name: 'huge contracts', body: b({ num_contracts: 1e300 }), expect: 'num_contracts' },
    { name: 'NaN contracts (as null)', body: b({ num_contracts: NaN }), expect: 'num_contracts' },
    {
      name: 'underlying ticker as option_symbol',
      body: b({ option_symbol: 'GOOGL' }),
      expect: 'not an OCC option symbol',
    },
    {
      name: 'impossible expiry date',
      body: b({ option_symbol: 'GOOGL270230C00340000' }),
      expect: 'impossible expiry date',
    },
    {
      name: 'ticker does not match the symbol',
      body: b({ ticker: 'AAPL' }),
      expect: 'does not match the root',
    },
    { name: 'unicode look-alike in ticker', body: b({ ticker: 'GOОGL' }), expect: 'ticker' },
    {
      name: 'limit order without limit_price',
      body: b({ order_type: 'limit', limit_price: null }),
      expect: 'limit_price',
    },
    {
      name: 'negative limit_price',
      body: b({ order_type: 'limit', limit_price: -1 }),
      expect: 'limit_price',
    },
    { name: 'market order with a limit_price', body: b({ limit_price: 2.5 }), expect: 'limit_price' },
    { name: 'unsupported order_type', body: b({ order_type: 'stop' }), expect: 'order_type' },
    {
      name: 'unknown top-level field (typo)',
      body: b({ stop_loss: 0.2 }),
      expect: 'Unrecognized key: "stop_loss"',
    },
    {
      name: 'unknown exit_plan field (typo)',
      body: b({ exit_plan: { stop_los_pct: 0.2 } }),
      expect: 'stop_los_pct',
    },
    {
      name: 'stop_loss_pct above 1',
      body: b({ exit_plan: { stop_loss_pct: 1.5 } }),
      expect: 'exit_plan.stop_loss_pct',
    },
    {
      name: 'partial exit fraction 0',
      body: b({ exit_plan: { partial_exits: [{ gain_pct: 0.2, fraction: 0 }] } }),
      expect: 'fraction',
    },
    { name: '__proto__ key', body: b().replace('{', '{"__proto__":{"admin":true},'), expect: '__proto__' },
    { name: 'constructor key', body: b({ constructor: { prototype: {} } }), expect: 'constructor' },
    { name: 'created_at not a date', body: b({ created_at: 'yesterday' }), expect: 'created_at' },
    {
      name: 'created_at impossible date',
      body: b({ created_at: '2026-02-30T10:00:00Z' }),
      expect: 'created_at',
    },
    {
      name: 'created_at in the future',
      body: b({ created_at: '2099-01-01T00:00:00Z' }),
      expect: 'in the future',
    },
    { name: 'expired contract', body: b({ option_symbol: 'GOOGL200117C00340000' }), expect: 'expired' },
    {
      name: 'a 256 KB body',
      body: b({ recommendation_id: 'big', note: 'x'.repeat(256 * 1024) }),
      expect: 'bytes; at most',
    },
  ];
}
