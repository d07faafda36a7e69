/**
 * The Alpaca simulator: an in-memory, loopback-only HTTP stand-in for Alpaca's trading and options
 * market-data APIs that implements the options order rules of the team's ALPACA-OPTIONS.md (README.md
 * here lists each rule with its source). Self-contained: it imports nothing from the project's shared/.
 * Used by the integration tests and by local mode.
 */
export { parseControlFault, startAlpacaSim } from './server';
export type {
  AlpacaSim,
  AlpacaSimOptions,
  CancelMode,
  OptionEventsSync,
  ReplaceMode,
  FillMode,
  OptionEventOptions,
  SimActiveFault,
  SimFault,
  SimMarketState,
  SimRequestLogEntry,
} from './server';
export { expiryCloseMs } from './activities';
export { DEFAULT_LIQUIDATION_MINUTE } from './liquidation';
export type { ExpiryDayLiquidation, LiquidationSelection } from './liquidation';
export type { SimActivityType } from './activities';
export { ALPACA_CODES, inferIntent } from './engine';
export type { PositionIntent, SimAccountOptions, SimAccountSettings } from './engine';
export { blackScholes, mulberry32 } from './market';
export { formatOcc, parseOcc } from './occ';
export type { SimOccSymbol } from './occ';
export { coreClose, isTradingDay } from './calendar';
export type { SimOrderType, SimTimeInForce } from './order-terms';
export type {
  RandomWalkOptions,
  SimChainInput,
  SimContract,
  SimContractInput,
  SimMarket,
  SimQuote,
  SimQuoteInput,
} from './market';
