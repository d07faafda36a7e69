// Bundle-only stand-in for '@alpacahq/alpaca-trade-api/rest' (the stack's esbuild aliases it; tests and
// local mode use the package entry itself). The SDK's /rest entry is one pre-bundled file esbuild cannot
// trim (341 KB); these are the same classes from the SDK's own sources, so only the APIs the adapter uses are
// bundled. test/integration/bundle.test.ts runs both built handlers against the simulator to prove it.
// Keep in step with shared/adapters/alpaca.ts and alpaca-retry.ts: every runtime member they use must be here.
import { Configuration as TradingConfiguration } from '../../node_modules/@alpacahq/alpaca-trade-api/src/trading/runtime';
import { OrdersApi } from '../../node_modules/@alpacahq/alpaca-trade-api/src/trading/apis/OrdersApi';
import { PositionsApi } from '../../node_modules/@alpacahq/alpaca-trade-api/src/trading/apis/PositionsApi';
import { AccountsApi } from '../../node_modules/@alpacahq/alpaca-trade-api/src/trading/apis/AccountsApi';
import { ClockApi } from '../../node_modules/@alpacahq/alpaca-trade-api/src/trading/apis/ClockApi';
import { AssetsApi } from '../../node_modules/@alpacahq/alpaca-trade-api/src/trading/apis/AssetsApi';
import { AccountActivitiesApi } from '../../node_modules/@alpacahq/alpaca-trade-api/src/trading/apis/AccountActivitiesApi';
import { Configuration as DataConfiguration } from '../../node_modules/@alpacahq/alpaca-trade-api/src/market-data/runtime';
import { OptionApi } from '../../node_modules/@alpacahq/alpaca-trade-api/src/market-data/apis/OptionApi';
import { StockApi } from '../../node_modules/@alpacahq/alpaca-trade-api/src/market-data/apis/StockApi';
import { OptionSnapshotsRespFromJSON } from '../../node_modules/@alpacahq/alpaca-trade-api/src/market-data/models/OptionSnapshotsResp';
import { ApiError } from '../../node_modules/@alpacahq/alpaca-trade-api/src/errors';

export const trading = {
  Configuration: TradingConfiguration,
  OrdersApi,
  PositionsApi,
  AccountsApi,
  ClockApi,
  AssetsApi,
  AccountActivitiesApi,
};
export const marketData = {
  Configuration: DataConfiguration,
  OptionApi,
  StockApi,
  OptionSnapshotsRespFromJSON,
};
export const errors = { ApiError };
