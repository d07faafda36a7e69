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
    // Numbers JSON cannot carry, or carries badly.
    {
      name: 'NaN literal (not JSON)',
      body: b().replace('"num_contracts":2', '"num_contracts":NaN'),
      expect: 'not valid JSON',
    },
    {
      name: 'Infinity literal (not JSON)',
      body: b().replace('"num_contracts":2', '"num_contracts":Infinity'),
      expect: 'not valid JSON',
    },
    {
      name: 'contracts overflowing to Infinity (1e999)',
      body: b().replace('"num_contracts":2', '"num_contracts":1e999'),
      expect: 'num_contracts',
    },
    {
      name: 'contracts above the schema maximum',
      body: b({ num_contracts: 100_001 }),
      expect: 'num_contracts',
    },
    { name: 'contracts beyond 2^53', body: b({ num_contracts: 2 ** 60 }), expect: 'num_contracts' },
    { name: 'huge limit_price', body: b({ order_type: 'limit', limit_price: 1e308 }), expect: 'limit_price' },
    {
      name: 'limit_price as a string',
      body: b({ order_type: 'limit', limit_price: '2.50' }),
      expect: 'limit_price',
    },
    // Wrong types, field by field.
    {
      name: 'recommendation_id as a number',
      body: b({ recommendation_id: 12345 }),
      expect: 'recommendation_id',
    },
    { name: 'ticker as a number', body: b({ ticker: 42 }), expect: 'ticker' },
    { name: 'ticker lowercase', body: b({ ticker: 'googl' }), expect: 'ticker' },
    { name: 'option_symbol as a number', body: b({ option_symbol: 271217 }), expect: 'option_symbol' },
    {
      name: 'option_symbol as an array',
      body: b({ option_symbol: ['GOOGL271217C00340000'] }),
      expect: 'option_symbol',
    },
    { name: 'action as a boolean', body: b({ action: true }), expect: 'action' },
    { name: 'action null', body: b({ action: null }), expect: 'action' },
    { name: 'order_type as a number', body: b({ order_type: 1 }), expect: 'order_type' },
    { name: 'exit_plan as a string', body: b({ exit_plan: 'tight' }), expect: 'exit_plan' },
    { name: 'exit_plan as an array', body: b({ exit_plan: [0.25] }), expect: 'exit_plan' },
    {
      name: 'stop_loss_pct as a string',
      body: b({ exit_plan: { stop_loss_pct: '25%' } }),
      expect: 'stop_loss_pct',
    },
    { name: 'created_at as a number', body: b({ created_at: 1767225600 }), expect: 'created_at' },
    { name: 'confidence out of range', body: b({ confidence: 7 }), expect: 'confidence' },
    { name: 'strategy with path characters', body: b({ strategy: '../admin' }), expect: 'strategy' },
    // Symbols that only look right.
    {
      name: 'Cyrillic O in option_symbol',
      body: b({ option_symbol: 'GOОGL271217C00340000' }),
      expect: 'option_symbol',
    },
    {
      name: 'fullwidth digits in option_symbol',
      body: b({ option_symbol: 'GOOGL２７１２１７C00340000' }),
      expect: 'option_symbol',
    },
    {
      name: 'zero-width space in option_symbol',
      body: b({ option_symbol: 'GOOGL\u200b271217C00340000' }),
      expect: 'option_symbol',
    },
    {
      name: 'lowercase option_symbol',
      body: b({ option_symbol: 'googl271217c00340000' }),
      expect: 'option_symbol',
    },
    {
      name: 'impossible month in option_symbol',
      body: b({ option_symbol: 'GOOGL271317C00340000' }),
      expect: 'option_symbol',
    },
    {
      name: 'both option_symbol and instrument_type',
      body: b({ instrument_type: 'CALL' }),
      expect: 'exactly one of option_symbol or instrument_type',
    },
    // Prototype pollution and structure.
    {
      name: 'nested __proto__ in exit_plan',
      body: b().replace('"exit_plan":{', '"exit_plan":{"__proto__":{"polluted":true},'),
      expect: '__proto__',
    },
    { name: 'prototype key', body: b({ prototype: { admin: true } }), expect: 'prototype' },
    {
      name: 'duplicate keys, the last one negative',
      body: b().replace('"num_contracts":2', '"num_contracts":2,"num_contracts":-2'),
      expect: 'num_contracts',
    },
    { name: 'an empty object', body: '{}', expect: 'recommendation_id' },
    { name: 'a byte-order mark before the JSON', body: `\uFEFF${b()}`, expect: 'not valid JSON' },
    { name: 'deeply nested arrays', body: '['.repeat(5000) + ']'.repeat(5000), expect: 'got an array' },
    { name: 'two JSON objects in one body', body: `${b()}${b()}`, expect: 'not valid JSON' },
    {
      name: 'a 256 KB body',
      body: b({ recommendation_id: 'big', note: 'x'.repeat(256 * 1024) }),
      expect: 'bytes; at most',
    },
  ];
}
