/**
 * The Alpaca simulator: an in-memory, loopback-only HTTP stand-in for Alpaca's trading and options
 * market-data APIs that implements the options order rules of /work/shared/ALPACA-OPTIONS.md.
 * Used by the integration tests and by local mode.
 */
export { startAlpacaSim } from './server';
export type { AlpacaSim, AlpacaSimOptions, FillMode, SimFault, SimRequestLogEntry } from './server';
export { ALPACA_CODES, inferIntent } from './engine';
export type { PositionIntent, SimAccountOptions, SimAccountSettings } from './engine';
export { blackScholes, mulberry32 } from './market';
export type {
  RandomWalkOptions,
  SimChainInput,
  SimContract,
  SimContractInput,
  SimMarket,
  SimQuote,
  SimQuoteInput,
} from './market';
