/**
 * `npm run lab -- [options]`: replay trades under several exit plans through the sweep's own exit rules
 * and compare them. See the README's "Compare exit plans".
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseAccountConfig, type AccountConfig } from '../../shared/domain/account-config';
import { ConfigError } from '../../shared/domain/errors';
import { parseOccSymbol } from '../../shared/domain/occ';
import { OptionBarsFetcher, type BarsRequest } from '../../shared/adapters/alpaca-bars';
import { DynamoPositionStore } from '../../shared/adapters/dynamo-position-store';
import { BarsInputError, parseBarsResponses, type BarsBySymbol } from '../../shared/lab/bars';
import { formatLabTable, labJson } from '../../shared/lab/format';
import {
  LabInputError,
  parsePlans,
  parseTradesFile,
  spreadTradesFromRecords,
  tradesFromPositions,
} from '../../shared/lab/inputs';
import { DynamoSpreadStore } from '../../shared/adapters/dynamo-spread-store';
import type { FillMode, LabTrade } from '../../shared/lab/replay';
import type { LabSpreadTrade } from '../../shared/lab/spread-replay';
import { runLab } from '../../shared/lab/run-lab';
import { readCdkAccounts } from '../../local/accounts';
import { localDynamoClient } from '../../local/dynamo';
import { simulatorKeys } from '../../local/mode';
import {
  DEFAULT_STATE_DIR,
  readStateFile,
  STATE_FILE_NAME,
  type LocalStackState,
} from '../../local/state-file';
import { buildHtmlReport } from './report-html';

/** Where the outputs go by default: a git- and prettier-ignored folder, so `npm test` stays clean. */
export const DEFAULT_OUT_DIR = 'lab-out';
export const DEFAULT_JSON = `${DEFAULT_OUT_DIR}/out.json`;
export const DEFAULT_HTML = `${DEFAULT_OUT_DIR}/report.html`;

export const USAGE = `usage: npm run lab -- --plans plans.json (--trades trades.json | --from-table --from YYYY-MM-DD --to YYYY-MM-DD)
       [--bars bars.json ...] [--account NAME|account.json] [--timeframe 1Min] [--fill next_open|trigger]
       [--json FILE] [--html FILE] [--local | --table NAME [--endpoint URL]]
Outputs go to ${DEFAULT_OUT_DIR}/out.json and ${DEFAULT_OUT_DIR}/report.html (git-ignored) unless --json / --html name others.
Without --bars, bars are fetched from Alpaca with APCA_API_KEY_ID / APCA_API_SECRET_KEY and cached in .lab-cache/;
with --local (the running \`npm start\`), from the simulator: no keys, no network.`;

/** A problem with the command line or its files: printed without a stack, exit code 2. */
export class LabUsageError extends Error {}

interface Io {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  /** Builds the HTML report (tests inject one: Vega is an ES module jest cannot load). */
  html?: typeof buildHtmlReport;
  /** Where `--local` finds the running stack's state file. @default `.local/` at the repository root */
  stateDir?: string;
  /** The clock that says which day is today (still incomplete, never cached). @default the wall clock */
  now?: () => Date;
}

/** Runs the CLI; returns the exit code (0 ok, 2 bad input, 1 anything else). Never calls process.exit. */
export async function runLabCli(argv: readonly string[], io: Io): Promise<number> {
  try {
    await main(argv, io);
    return 0;
  } catch (err) {
    if (
      err instanceof LabUsageError ||
      err instanceof LabInputError ||
      err instanceof BarsInputError ||
      err instanceof ConfigError
    ) {
      io.err(`lab: ${err.message}`);
      return 2;
    }
    io.err(`lab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}

async function main(argv: readonly string[], io: Io): Promise<void> {
  const { values: a } = parseCommandLine(argv);
  if (a.help) return io.out(USAGE);
  if (!a.plans) throw new LabUsageError(`--plans is required\n${USAGE}`);
  if (!a.trades === !a['from-table'])
    throw new LabUsageError(`give exactly one of --trades and --from-table\n${USAGE}`);
  if (a.fill !== 'next_open' && a.fill !== 'trigger')
    throw new LabUsageError(`--fill must be next_open or trigger`);
  if (!/^\d+(Min|T|Hour|H|Day|D|Week|W|Month|M)$/.test(a.timeframe))
    throw new LabUsageError(`--timeframe must look like 1Min, 5Min, 1Hour, 1Day`);

  const account = loadAccount(a.account);
  const plans = parsePlans(readJson(a.plans), a.plans);
  // --local: the running `npm start` (its state file names the table and the simulator).
  const local = a.local ? localStack(io.stateDir ?? DEFAULT_STATE_DIR) : null;
  const { trades, spreads } = a.trades
    ? parseTradesFile(readJson(a.trades), a.trades)
    : await tableTrades(account, a, io.env, local);
  const simulator = !a.bars?.length && local?.simulatorUrl ? local.simulatorUrl : null;
  const bars = a.bars?.length
    ? parseBarsResponses(a.bars.map((f) => ({ source: f, raw: readJson(f) })))
    : await fetchBars(
        [...trades, ...spreads.flatMap(spreadLegTrades)],
        a.timeframe,
        io,
        simulator ? { url: simulator, account: account.name } : null,
      );

  const result = runLab({ account, trades, plans, bars, fill: a.fill as FillMode, spreads });
  io.out(
    `account ${account.name} · ${trades.length} trade(s)${spreads.length ? ` · ${spreads.length} spread(s)` : ''} · ${plans.length} plan(s) · ` +
      (a.bars?.length
        ? `bars from ${a.bars.length} file(s)`
        : `${a.timeframe} bars from ${simulator ? 'the local simulator' : 'Alpaca'}`),
  );
  io.out(formatLabTable(result));
  const json = a.json ?? DEFAULT_JSON;
  const html = a.html ?? DEFAULT_HTML;
  writeOutput(json, `${JSON.stringify(labJson(result), null, 2)}\n`);
  io.out(`wrote ${json}`);
  const build = io.html ?? buildHtmlReport;
  writeOutput(html, await build(result, bars, `Exit-plan lab · ${account.name}`));
  io.out(`wrote ${html}`);
}

/** A spread's legs as the bars fetch reads trades: each leg's symbol from the spread's entry. */
function spreadLegTrades(sp: LabSpreadTrade): Array<Pick<LabTrade, 'option_symbol' | 'entry_time'>> {
  return sp.legs.map((l) => ({ option_symbol: l.option_symbol, entry_time: sp.entry_time }));
}

function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        trades: { type: 'string' },
        'from-table': { type: 'boolean', default: false },
        from: { type: 'string' },
        to: { type: 'string' },
        bars: { type: 'string', multiple: true },
        plans: { type: 'string' },
        account: { type: 'string' },
        timeframe: { type: 'string', default: '1Min' },
        fill: { type: 'string', default: 'next_open' },
        json: { type: 'string' },
        html: { type: 'string' },
        table: { type: 'string' },
        endpoint: { type: 'string' },
        local: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    });
  } catch (err) {
    // Unknown options and missing values: a usage problem, not a crash.
    throw new LabUsageError(`${(err as Error).message}\n${USAGE}`);
  }
}

/** `--account`: a name from cdk.json (default `main`), or a JSON file with one account object. */
function loadAccount(arg: string | undefined): AccountConfig {
  if (arg && arg.endsWith('.json')) return parseAccountConfig(readJson(arg), arg);
  const name = arg ?? 'main';
  const found = readCdkAccounts().find((x) => x.name === name);
  if (!found) throw new LabUsageError(`--account ${name}: no such account in cdk.json`);
  return found.config;
}

async function tableTrades(
  account: AccountConfig,
  a: { from?: string; to?: string; table?: string; endpoint?: string; local?: boolean },
  env: NodeJS.ProcessEnv,
  local: LocalStackState | null,
): Promise<{ trades: LabTrade[]; spreads: LabSpreadTrade[] }> {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (!a.from || !a.to || !day.test(a.from) || !day.test(a.to)) {
    throw new LabUsageError('--from-table needs --from YYYY-MM-DD and --to YYYY-MM-DD');
  }
  const table = a.table ?? local?.tableName ?? env.POSITIONS_TABLE;
  if (!table) throw new LabUsageError('--from-table needs --table NAME (or POSITIONS_TABLE), or --local');
  const endpoint = a.endpoint ?? local?.dynamoEndpoint ?? env.AWS_ENDPOINT_URL_DYNAMODB;
  const client = local
    ? localDynamoClient(local.dynamoEndpoint)
    : new DynamoDBClient(endpoint ? { endpoint } : {});
  const store = new DynamoPositionStore(client, table);
  const spreads = new DynamoSpreadStore(client, table, store);
  return {
    trades: tradesFromPositions(await store.listPositions(account.name), a.from, a.to),
    spreads: spreadTradesFromRecords(await spreads.listSpreads(account.name), a.from, a.to),
  };
}

/**
 * Each trade's symbol from its entry day to its expiry (or today): from Alpaca through the on-disk cache,
 * or (`simulator`) from the running local stack's simulator, with its keys for the account and no cache
 * (another local run quotes the same symbols and days differently).
 */
async function fetchBars(
  trades: ReadonlyArray<Pick<LabTrade, 'option_symbol' | 'entry_time'>>,
  timeframe: string,
  io: Io,
  simulator: { url: string; account: string } | null,
): Promise<BarsBySymbol> {
  const keys = simulator ? simulatorKeys(simulator.account) : null;
  const keyId = keys?.keyId ?? io.env.APCA_API_KEY_ID;
  const secretKey = keys?.secretKey ?? io.env.APCA_API_SECRET_KEY;
  if (!keyId || !secretKey) {
    throw new LabUsageError(
      'without --bars the lab fetches bars from Alpaca: set APCA_API_KEY_ID and APCA_API_SECRET_KEY ' +
        '(or --local, for the running `npm start` with its simulator)',
    );
  }
  const requests = new Map<string, BarsRequest>();
  for (const t of trades) {
    const occ = parseOccSymbol(t.option_symbol);
    if (!occ.ok) continue;
    const from = t.entry_time.slice(0, 10);
    const prev = requests.get(t.option_symbol);
    requests.set(t.option_symbol, {
      symbol: t.option_symbol,
      from: prev && prev.from < from ? prev.from : from,
      to: occ.value.expiry,
    });
  }
  const scratch = simulator ? fs.mkdtempSync(path.join(os.tmpdir(), 'lab-local-bars-')) : null;
  try {
    const dataUrl = simulator?.url ?? io.env.APCA_API_DATA_URL;
    const fetcher = new OptionBarsFetcher({
      keyId,
      secretKey,
      ...(dataUrl ? { dataBaseUrl: dataUrl } : {}),
      cacheDir: scratch ?? path.resolve('.lab-cache'),
      ...(io.now ? { now: io.now } : {}),
    });
    const pages = await fetcher.fetch([...requests.values()], timeframe);
    io.out(
      simulator
        ? `bars: ${pages.length} symbol-day(s), ${fetcher.requests} request(s) to the local simulator`
        : `bars: ${pages.length} symbol-day(s), ${fetcher.requests} request(s) to Alpaca (the rest from .lab-cache/)`,
    );
    return parseBarsResponses(pages);
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function localStack(dir: string): LocalStackState {
  const file = path.join(dir, STATE_FILE_NAME);
  if (!fs.existsSync(file))
    throw new LabUsageError(`--local: no running local stack (${file} is missing): start \`npm start\``);
  try {
    return readStateFile(file);
  } catch (err) {
    throw new LabUsageError(`--local: ${(err as Error).message}`);
  }
}

function writeOutput(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, text);
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new LabUsageError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new LabUsageError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}
