/**
 * Operator CLI for an account's runtime controls (the kill switch), read by the functions at run time:
 *
 *   npx tsx local/control.ts --account main --status
 *   npx tsx local/control.ts --account main --disable [--reason "why"]   stop new openings at once
 *   npx tsx local/control.ts --account main --enable                     allow openings again (ends flatten)
 *   npx tsx local/control.ts --account main --flatten [--reason "why"]   stop openings AND close everything
 *                                                                        through the guarded exit path
 *
 * Which table: `--table` (or POSITIONS_TABLE) names a DynamoDB table reached with the standard AWS variables
 * (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_DYNAMODB); without either, the running `npm start` is used,
 * found through `.local/state.json` as `npm run inject` finds it.
 */
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoPositionStore } from '../shared/adapters/dynamo-position-store';
import type { AccountControl, PositionStore } from '../shared/ports';
import { NO_METRICS } from '../shared/observability';
import { emitTradeEvent, type TradeEventDeps } from '../shared/use-cases/emit-trade-event';
import { tradeEventsFromEnv } from '../shared/wiring';
import { LOCAL_AWS_ENV } from './accounts';
import { adviseNodeVersion } from './node-version';
import { DEFAULT_STATE_DIR, readStateFile, STATE_FILE_NAME } from './state-file';

export const CONTROL_USAGE = `Usage: npx tsx local/control.ts --account NAME (--status | --disable | --enable | --flatten)
                               [--reason TEXT] [--table TABLE | --state PATH]

  --status         print the account's switch (never set: trading enabled)
  --disable        stop new openings at once (the sweep keeps managing exits)
  --enable         allow openings again (also ends a flatten)
  --flatten        stop openings AND close every position through the guarded exit path
  --reason TEXT    stored with the switch, shown in the live view
  --table TABLE    a DynamoDB table (default POSITIONS_TABLE), with the standard AWS credentials and region;
                   without it (and without POSITIONS_TABLE) the running npm start's table is used
  --state PATH     the local stack's state file (default .local/state.json, written by npm start)`;

type Command = 'status' | 'disable' | 'enable' | 'flatten';

/** Parsed arguments: a named table, or the local stack (`table` absent). */
export interface ControlArgs {
  readonly account: string;
  readonly table?: string;
  readonly statePath: string;
  readonly reason?: string;
  readonly command: Command;
}

/**
 * Parsed arguments, or `'help'` for `--help`. Throws with the usage on anything unexpected. Without
 * `--table` and POSITIONS_TABLE, `table` is left out: the caller uses the running local stack.
 */
export function parseControlArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ControlArgs | 'help' {
  let account: string | undefined;
  let table = env.POSITIONS_TABLE || undefined;
  let statePath = path.join(DEFAULT_STATE_DIR, STATE_FILE_NAME);
  let reason: string | undefined;
  const commands: Command[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value\n\n${CONTROL_USAGE}`);
      return v;
    };
    if (a === '--help' || a === '-h') return 'help';
    else if (a === '--account') account = value();
    else if (a === '--table') table = value();
    else if (a === '--state') statePath = value();
    else if (a === '--reason') reason = value();
    else if (['--status', '--disable', '--enable', '--flatten'].includes(a))
      commands.push(a.slice(2) as Command);
    else throw new Error(`unknown argument ${a}\n\n${CONTROL_USAGE}`);
  }
  if (!account || !/^[a-z][a-z0-9-]{0,31}$/.test(account))
    throw new Error(`--account NAME is required\n\n${CONTROL_USAGE}`);
  if (commands.length !== 1)
    throw new Error(`exactly one of --status, --disable, --enable, --flatten\n\n${CONTROL_USAGE}`);
  return { account, ...(table ? { table } : {}), statePath, reason, command: commands[0] };
}

/** Where the command acts: a named table (AWS or a stand-in), or the running local stack's. */
export interface ControlTarget {
  readonly table: string;
  readonly client: DynamoDBClient;
  /** `AWS` or `local stack (pid N)`, for the report. */
  readonly where: string;
  /** Accounts the local stack runs (null for a named table: any account may have a switch). */
  readonly accounts: readonly string[] | null;
}

/** The table and client for parsed arguments; throws a message saying what to do when none is found. */
function resolveControlTarget(args: ControlArgs, env: NodeJS.ProcessEnv = process.env): ControlTarget {
  if (args.table) {
    const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
    return {
      table: args.table,
      client: new DynamoDBClient(endpoint ? { endpoint } : {}),
      where: endpoint ? endpoint : 'AWS',
      accounts: null,
    };
  }
  const state = readStateFile(
    args.statePath,
    "or, against AWS, give the table: --table TABLE (the stack's PositionsTableName output)",
  );
  return {
    table: state.tableName,
    // The local stand-in accepts any credentials; these keep the SDK from looking for real ones.
    client: new DynamoDBClient({
      endpoint: state.dynamoEndpoint,
      region: LOCAL_AWS_ENV.AWS_REGION,
      credentials: {
        accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
        secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
      },
    }),
    where: `local stack (pid ${state.pid})`,
    accounts: Object.keys(state.accounts),
  };
}

/**
 * Applies one command; returns the control as stored afterwards (null: never set, trading enabled). A change
 * is announced as a `kill_switch_changed` trade event when `events` has a topic (best effort).
 */
export async function runControl(
  store: PositionStore,
  args: { account: string; command: Command; reason?: string },
  now: Date = new Date(),
  events?: TradeEventDeps,
): Promise<AccountControl | null> {
  const current = await store.getControl(args.account);
  // The operator's switch: the daily loss breaker never turns it back on. The day the breaker last tripped
  // is kept, so an operator who re-enables after it tripped is not overruled again that day.
  const stamp = {
    updated_at: now.toISOString(),
    set_by: 'operator' as const,
    ...(current?.daily_loss_day ? { daily_loss_day: current.daily_loss_day } : {}),
    ...(args.reason ? { reason: args.reason } : {}),
  };
  switch (args.command) {
    case 'status':
      return current;
    case 'disable':
      await store.putControl(args.account, {
        trading_enabled: false,
        flatten: current?.flatten ?? false,
        ...stamp,
      });
      break;
    case 'enable':
      await store.putControl(args.account, { trading_enabled: true, flatten: false, ...stamp });
      break;
    case 'flatten':
      // Flattening while new positions keep opening would never end: it also stops openings.
      await store.putControl(args.account, { trading_enabled: false, flatten: true, ...stamp });
      break;
  }
  const stored = await store.getControl(args.account);
  if (stored && events) {
    await emitTradeEvent(events, {
      type: 'kill_switch_changed',
      account: args.account,
      trading_enabled: stored.trading_enabled,
      flatten: stored.flatten,
      set_by: 'operator',
      reason: stored.reason ?? `operator: ${args.command}`,
      at: stamp.updated_at,
    });
  }
  return stored;
}

async function main(): Promise<number> {
  const args = parseControlArgs(process.argv.slice(2), process.env);
  if (args === 'help') {
    console.log(CONTROL_USAGE);
    return 0;
  }
  const target = resolveControlTarget(args);
  if (target.accounts && !target.accounts.includes(args.account)) {
    throw new Error(
      `the local stack runs no account "${args.account}" (it runs: ${target.accounts.join(', ')})`,
    );
  }
  try {
    const store = new DynamoPositionStore(target.client, target.table);
    // TRADE_EVENTS_TOPIC_ARN (the stack's TradeEventsTopicArn output) announces the change on the topic.
    const events = { tradeEvents: tradeEventsFromEnv(process.env), log: console, metrics: NO_METRICS };
    const control = await runControl(store, args, new Date(), events);
    const shown = control ?? { trading_enabled: true, flatten: false, note: 'never set (defaults)' };
    console.log(
      JSON.stringify({ account: args.account, table: target.table, where: target.where, ...shown }, null, 2),
    );
    return 0;
  } finally {
    target.client.destroy();
  }
}

if (require.main === module) {
  // npm start gives the Node version advice once; the SDK's seven lines on every command are noise.
  adviseNodeVersion(null);
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`control: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
