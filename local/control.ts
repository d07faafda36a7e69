/**
 * Operator CLI for an account's runtime controls (the kill switch), read by the functions at run time:
 *
 *   npx tsx local/control.ts --account main --status  [--table T]
 *   npx tsx local/control.ts --account main --disable [--reason "why"]   stop new openings at once
 *   npx tsx local/control.ts --account main --enable                     allow openings again (ends flatten)
 *   npx tsx local/control.ts --account main --flatten [--reason "why"]   stop openings AND close everything
 *                                                                        through the guarded exit path
 *
 * The table comes from --table or POSITIONS_TABLE; the DynamoDB endpoint and credentials from the standard
 * AWS variables (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_DYNAMODB for a local stand-in).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoPositionStore } from '../shared/adapters/dynamo-position-store';
import type { AccountControl, PositionStore } from '../shared/ports';

const USAGE =
  'usage: control.ts --account NAME (--status | --disable | --enable | --flatten) [--reason TEXT] [--table TABLE]';

type Command = 'status' | 'disable' | 'enable' | 'flatten';

/** Parsed arguments. Throws with the usage on anything unexpected. */
export function parseControlArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}) {
  let account: string | undefined;
  let table = env.POSITIONS_TABLE;
  let reason: string | undefined;
  const commands: Command[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--account') account = value();
    else if (a === '--table') table = value();
    else if (a === '--reason') reason = value();
    else if (['--status', '--disable', '--enable', '--flatten'].includes(a))
      commands.push(a.slice(2) as Command);
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (!account || !/^[a-z][a-z0-9-]{0,31}$/.test(account))
    throw new Error(`--account NAME is required\n${USAGE}`);
  if (!table) throw new Error(`--table TABLE (or POSITIONS_TABLE) is required\n${USAGE}`);
  if (commands.length !== 1)
    throw new Error(`exactly one of --status, --disable, --enable, --flatten\n${USAGE}`);
  return { account, table, reason, command: commands[0] };
}

/** Applies one command; returns the control as stored afterwards (null: never set, trading enabled). */
export async function runControl(
  store: PositionStore,
  args: { account: string; command: Command; reason?: string },
  now: Date = new Date(),
): Promise<AccountControl | null> {
  const current = await store.getControl(args.account);
  const stamp = { updated_at: now.toISOString(), ...(args.reason ? { reason: args.reason } : {}) };
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
  return store.getControl(args.account);
}

async function main() {
  const args = parseControlArgs(process.argv.slice(2), process.env);
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL;
  const store = new DynamoPositionStore(new DynamoDBClient(endpoint ? { endpoint } : {}), args.table);
  const control = await runControl(store, args);
  const shown = control ?? { trading_enabled: true, flatten: false, note: 'never set (defaults)' };
  console.log(JSON.stringify({ account: args.account, table: args.table, ...shown }, null, 2));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
