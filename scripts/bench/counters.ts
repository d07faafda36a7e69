/**
 * Call counters for the benchmark and the call-count test. They observe the system from the outside:
 * DynamoDB through a middleware on the client's own stack (every command the store sends, by name), the
 * broker through the simulator's request log (by method and path). Nothing in the use case is instrumented.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AlpacaSim } from '../../local/alpaca-sim';

/** DynamoDB commands that read items (each request is counted once, every page separately). */
const READ_COMMANDS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand']);
/** DynamoDB commands that write items. */
const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

/** What the table saw between two `reset()` calls. */
export interface TableCalls {
  /** Requests per command name (`QueryCommand`, `GetItemCommand`, `PutItemCommand`, ...). */
  readonly byCommand: Readonly<Record<string, number>>;
  /** Read requests (Query and Scan pages, GetItem, BatchGetItem). */
  readonly reads: number;
  /** Write requests. */
  readonly writes: number;
  /** Items the reads examined: Query/Scan `ScannedCount` plus one per GetItem (what read capacity pays for). */
  readonly itemsRead: number;
}

/** A live counter on one DynamoDB client. */
export interface TableCallCounter {
  /** Counts so far. */
  snapshot(): TableCalls;
  reset(): void;
}

/**
 * Adds a counting middleware to `client` (the SDK's middleware stack, `initialize` step). The document
 * client built on it shares the stack, so its commands are counted under the low-level names.
 */
export function countTableCalls(client: DynamoDBClient): TableCallCounter {
  let byCommand: Record<string, number> = {};
  let itemsRead = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      byCommand[name] = (byCommand[name] ?? 0) + 1;
      const result = await next(args);
      const out = result.output as { ScannedCount?: number; Item?: unknown; Responses?: unknown };
      if (name === 'QueryCommand' || name === 'ScanCommand') itemsRead += out.ScannedCount ?? 0;
      else if (name === 'GetItemCommand') itemsRead += 1;
      return result;
    },
    { step: 'initialize', name: 'benchTableCallCounter', override: true },
  );
  return {
    snapshot() {
      const entries = Object.entries(byCommand);
      return {
        byCommand: { ...byCommand },
        reads: entries.filter(([n]) => READ_COMMANDS.has(n)).reduce((s, [, c]) => s + c, 0),
        writes: entries.filter(([n]) => WRITE_COMMANDS.has(n)).reduce((s, [, c]) => s + c, 0),
        itemsRead,
      };
    },
    reset() {
      byCommand = {};
      itemsRead = 0;
    },
  };
}

/** Broker requests of one API key, by `METHOD /path`, from a point in the simulator's request log. */
export interface BrokerCalls {
  readonly total: number;
  readonly byPath: Readonly<Record<string, number>>;
}

/** A cursor on the simulator's request log: `take()` returns what one key sent since the last take. */
export function brokerCallCursor(sim: AlpacaSim, keyId: string): { take(): BrokerCalls } {
  let from = sim.requests.length;
  return {
    take() {
      const entries = sim.requests.slice(from).filter((r) => r.keyId === keyId);
      from = sim.requests.length;
      const byPath: Record<string, number> = {};
      for (const r of entries) byPath[`${r.method} ${r.path}`] = (byPath[`${r.method} ${r.path}`] ?? 0) + 1;
      return { total: entries.length, byPath };
    },
  };
}

/** The paths of the calls a sweep cannot avoid. */
export const SWEEP_PATHS = {
  positions: 'GET /v2/positions',
  openOrders: 'GET /v2/orders',
  clock: 'GET /v2/clock',
  snapshots: 'GET /v1beta1/options/snapshots',
  submitOrder: 'POST /v2/orders',
} as const;

/**
 * The floor of broker calls for one sweep of `openPositions` positions on distinct contracts that sends
 * `ordersSent` orders: positions + open orders + clock + one snapshot call per 100 symbols + the orders.
 */
export function sweepBrokerFloor(openPositions: number, ordersSent: number): number {
  return 3 + Math.ceil(openPositions / 100) + ordersSent;
}
