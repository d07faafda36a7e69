/**
 * `npm run report -- [--account NAME] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|csv|json]`
 * `npm run report -- --position ID [--account NAME] [--format table|json]`
 *
 * The account's P&L journal from the positions table (shared/domain/pnl-report.ts): positions opened and
 * closed, realized P&L by New York trading day and by exit reason, win rate, average hold, largest loss,
 * fees (only those the broker books on option events, said so) and the open exposure now; every figure
 * from the records' ledgers. Spreads: one line each (structure, legs, multiple, net open, realized from the
 * legs' ledgers), the closed ones in the totals. With `--position ID`, that position's ledger: each order
 * and its fills, its option events and fees, and the books they project (one GetItem); for a spread, each
 * leg's.
 *
 * Where it reads: `--table NAME` or `POSITIONS_TABLE` → that DynamoDB table with the standard AWS
 * credentials, region and endpoint variables; otherwise the running local stack (`npm start`), found
 * through `.local/state.json`. It only reads: Queries of the account's partition (its positions, its
 * spreads), never a Scan.
 *
 * Exit status: 0 printed; 1 the table could not be read, or some records could not (the report then
 * leaves them out and says so on stderr); 2 usage error or no table to read.
 */
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoClient } from '../local/dynamo';
import { DEFAULT_STATE_DIR, readStateFile, STATE_FILE_NAME, type LocalStackState } from '../local/state-file';
import { DynamoPositionStore } from '../shared/adapters/dynamo-position-store';
import { DynamoSpreadStore } from '../shared/adapters/dynamo-spread-store';
import { UnreadableRecordsError } from '../shared/domain/errors';
import { newYorkTime } from '../shared/domain/market-time';
import {
  buildPnlReport,
  positionLedgerReport,
  spreadLedgerReport,
  type PnlReport,
  type PositionLedgerReport,
  type SpreadLedgerReport,
} from '../shared/domain/pnl-report';
import { LIVE_STATES, type Position } from '../shared/domain/position';
import { roundToCents } from '../shared/domain/money';
import { simulatorKeys } from '../local/mode';
import {
  money,
  REPORT_FORMATS,
  renderCsv,
  renderJson,
  renderPositionTable,
  renderSpreadTable,
  renderTable,
  type ReportFormat,
} from './report/format';

const USAGE = `Usage: npm run report -- [--account NAME] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|csv|json]
       npm run report -- --position ID [--account NAME] [--format table|json]

  --account NAME   the account to report on (default main)
  --from DAY       first New York trading day included (default: the first record)
  --to DAY         last New York trading day included (default: today in New York)
  --format F       table (default), csv (one row per position closed in the range) or json (everything)
  --position ID    that position's ledger instead: each order (role, client_order_id, status, qty, filled)
                   and its fills (qty, price per share, instant, trading day, source), its option events
                   and fees, then its books (held, entry, exit, realized, fees); a spread's: each leg's
  --table NAME     read this DynamoDB table (AWS credentials, region and endpoint from the environment);
                   default POSITIONS_TABLE, else the running local stack (npm start)
  --state PATH     the local stack's state file (default .local/state.json, written by npm start)
  --help           this text

Realized P&L (from each position's ledger) counts on the New York day a position closed, under its close
reason. Fees: only the broker's fees on assignments, exercises and expiries are booked (shown apart, and
after them); P&L is before trade commissions and regulatory fees.`;

/** A bad command line: the message says what, the usage follows. */
export class ReportUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportUsageError';
  }
}

/** Parsed command line. */
export interface ReportArgs {
  readonly account: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly format: ReportFormat;
  readonly table: string | null;
  readonly statePath: string;
  /** `--position ID`: print that position's ledger instead of the journal. */
  readonly position: string | null;
  readonly help: boolean;
}

/** `YYYY-MM-DD` that names a real calendar day. */
function isCalendarDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const [y, m, d] = s.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10) === s;
}

/**
 * Reads the command line; `env` supplies `POSITIONS_TABLE`.
 * @throws ReportUsageError naming the bad flag or value.
 */
export function parseReportArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ReportArgs {
  let account = 'main';
  let from: string | null = null;
  let to: string | null = null;
  let format: ReportFormat = 'table';
  let table: string | null = env.POSITIONS_TABLE || null;
  let statePath = path.join(DEFAULT_STATE_DIR, STATE_FILE_NAME);
  let position: string | null = null;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new ReportUsageError(`${a} needs a value`);
      return v;
    };
    const day = (): string => {
      const v = value();
      if (!isCalendarDay(v)) throw new ReportUsageError(`${a} needs a day as YYYY-MM-DD, got "${v}"`);
      return v;
    };
    if (a === '--account') account = value();
    else if (a === '--from') from = day();
    else if (a === '--to') to = day();
    else if (a === '--format') {
      const v = value();
      if (!(REPORT_FORMATS as readonly string[]).includes(v)) {
        throw new ReportUsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}, got "${v}"`);
      }
      format = v as ReportFormat;
    } else if (a === '--table') table = value();
    else if (a === '--state') statePath = value();
    else if (a === '--position') position = value();
    else if (a === '--help' || a === '-h') help = true;
    else throw new ReportUsageError(`unknown argument "${a}"`);
  }
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(account)) {
    throw new ReportUsageError(`--account must be an account name (a-z, 0-9, -), got "${account}"`);
  }
  if (from && to && from > to) throw new ReportUsageError(`--from ${from} is after --to ${to}`);
  if (position !== null) {
    if (format === 'csv') throw new ReportUsageError('--position prints a table or json, not csv');
    if (from || to)
      throw new ReportUsageError('--position prints the whole ledger: --from and --to do not apply');
  }
  return { account, from, to, format, table, statePath, position, help };
}

/** Where the records are read: a store, a description for the report's header, and how to let go. */
interface Source {
  readonly store: DynamoPositionStore;
  /** The spread records, in the same table. */
  readonly spreads: DynamoSpreadStore;
  readonly description: string;
  /** Where the live positions' quotes come from (the local simulator, or Alpaca with keys), or null. */
  readonly quotes: QuoteSource | null;
  close(): void;
}

/** A market-data endpoint for the marks of the positions still open. */
interface QuoteSource {
  readonly dataUrl: string;
  readonly keyId: string;
  readonly secretKey: string;
  readonly description: string;
}

/** Alpaca's (or the simulator's) data API from the environment's keys, else null. */
function quotesFromEnv(env: NodeJS.ProcessEnv): QuoteSource | null {
  if (!env.APCA_API_KEY_ID || !env.APCA_API_SECRET_KEY) return null;
  return {
    dataUrl: (env.APCA_API_DATA_URL ?? 'https://data.alpaca.markets').replace(/\/+$/, ''),
    keyId: env.APCA_API_KEY_ID,
    secretKey: env.APCA_API_SECRET_KEY,
    description: 'Alpaca',
  };
}

/**
 * Unrealized P&L of the positions still open, dollars, at the mids of their latest quotes (one snapshots
 * request): per position (mark − entry) × qty × 100, signed for the side. Positions without a quote are
 * counted apart.
 */
export async function unrealizedPnl(
  positions: readonly Position[],
  quotes: QuoteSource,
): Promise<{ usd: number; priced: number; unpriced: number }> {
  const live = positions.filter(
    (p) => LIVE_STATES.has(p.state) && p.quantity > 0 && typeof p.entry_price === 'number',
  );
  if (live.length === 0) return { usd: 0, priced: 0, unpriced: 0 };
  const symbols = [...new Set(live.map((p) => p.option_symbol))].sort();
  const res = await fetch(`${quotes.dataUrl}/v1beta1/options/snapshots?symbols=${symbols.join(',')}`, {
    headers: { 'APCA-API-KEY-ID': quotes.keyId, 'APCA-API-SECRET-KEY': quotes.secretKey },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`${res.status} from ${quotes.description}'s option snapshots`);
  const body = (await res.json()) as {
    snapshots?: Record<string, { latestQuote?: { bp?: number; ap?: number } }>;
  };
  let usd = 0;
  let priced = 0;
  for (const p of live) {
    const q = body.snapshots?.[p.option_symbol]?.latestQuote;
    if (typeof q?.bp !== 'number' || typeof q.ap !== 'number' || !(q.ap > 0)) continue;
    const mark = (q.bp + q.ap) / 2;
    usd += (mark - p.entry_price!) * p.quantity * 100 * (p.side === 'long' ? 1 : -1);
    priced++;
  }
  return { usd: roundToCents(usd), priced, unpriced: live.length - priced };
}

function openSource(args: ReportArgs, env: NodeJS.ProcessEnv): Source {
  if (args.table) {
    // The SDK reads the region, credentials and AWS_ENDPOINT_URL_DYNAMODB from the environment itself.
    const client = new DynamoDBClient({});
    const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
    const store = new DynamoPositionStore(client, args.table);
    return {
      store,
      spreads: new DynamoSpreadStore(client, args.table, store),
      description: `table ${args.table}${endpoint ? ` at ${endpoint}` : ' (AWS)'}`,
      quotes: quotesFromEnv(env),
      close: () => client.destroy(),
    };
  }
  let state: LocalStackState;
  try {
    state = readStateFile(args.statePath);
  } catch (e) {
    throw new Error(
      'no positions table to read: set POSITIONS_TABLE (or pass --table) for a table in AWS, or start the ' +
        `local stack with \`npm start\` (${(e as Error).message.split(':')[0]})`,
      { cause: e },
    );
  }
  if (!state.accounts[args.account]) {
    throw new ReportUsageError(
      `the local stack runs no account "${args.account}" (it runs: ${Object.keys(state.accounts).join(', ')})`,
    );
  }
  const client = localDynamoClient(state.dynamoEndpoint);
  const store = new DynamoPositionStore(client, state.tableName);
  return {
    store,
    spreads: new DynamoSpreadStore(client, state.tableName, store),
    description: `the local stack (table ${state.tableName})`,
    quotes: state.simulatorUrl
      ? { dataUrl: state.simulatorUrl, ...simulatorKeys(args.account), description: 'the local simulator' }
      : quotesFromEnv(env),
    close: () => client.destroy(),
  };
}

/** The table's line for the open positions' unrealized P&L (or why it is not shown). */
async function unrealizedLine(positions: readonly Position[], quotes: QuoteSource | null): Promise<string> {
  const label = 'Unrealized    ';
  if (!positions.some((p) => LIVE_STATES.has(p.state) && p.quantity > 0))
    return `${label}none (nothing open)`;
  if (!quotes)
    return `${label}not shown: no quotes (set APCA_API_KEY_ID / APCA_API_SECRET_KEY, or read the local stack)`;
  try {
    const u = await unrealizedPnl(positions, quotes);
    return (
      `${label}${money(u.usd)} on ${u.priced} open position(s) at the mid of their latest ` +
      `quotes (${quotes.description})${u.unpriced ? ` · ${u.unpriced} without a quote, not counted` : ''}`
    );
  } catch (e) {
    return `${label}not shown: ${(e as Error).message}`;
  }
}

/** What a run printed, for tests. */
export interface ReportRun {
  readonly exitCode: number;
  readonly report: PnlReport | null;
  /** `--position`: the position's (or the spread's) ledger as printed. */
  readonly position?: PositionLedgerReport | SpreadLedgerReport | null;
}

/** Runs the CLI; `out`/`err` receive its lines. Never calls process.exit. */
export async function runReport(
  argv: readonly string[],
  io: { out: (text: string) => void; err: (text: string) => void } = {
    out: (t) => console.log(t),
    err: (t) => console.error(t),
  },
  deps: { env?: NodeJS.ProcessEnv; now?: Date } = {},
): Promise<ReportRun> {
  const env = deps.env ?? process.env;
  const now = deps.now ?? new Date();
  let args: ReportArgs;
  let source: Source;
  try {
    args = parseReportArgs(argv, env);
    if (args.help) {
      io.out(USAGE);
      return { exitCode: 0, report: null };
    }
    source = openSource(args, env);
  } catch (e) {
    const usage = e instanceof ReportUsageError ? `\n\n${USAGE}` : '';
    io.err(`report: ${(e as Error).message}${usage}`);
    return { exitCode: 2, report: null };
  }

  if (args.position !== null) return await printPosition(args, args.position, source, io);

  let exitCode = 0;
  try {
    let positions: Position[];
    try {
      // Positions closed before the range are left out at the table; those of the day before `from` in
      // UTC terms still arrive and are dropped by the report's own New York day test.
      positions = await source.store.listPositions(args.account, {
        closedSince: args.from ? `${args.from}T00:00:00.000Z` : undefined,
      });
    } catch (e) {
      if (!(e instanceof UnreadableRecordsError)) throw e;
      io.err(`report: ${e.message}; the report leaves them out`);
      positions = e.readable as Position[];
      exitCode = 1;
    }
    const spreads = await source.spreads.listSpreads(args.account);
    const range = { from: args.from, to: args.to ?? newYorkTime(now).date };
    const report = buildPnlReport(args.account, positions, range, now, spreads);
    if (args.format === 'json') io.out(renderJson(report));
    else if (args.format === 'csv') io.out(renderCsv(report));
    else {
      io.out(renderTable(report, source.description));
      io.out(await unrealizedLine(positions, source.quotes));
    }
    return { exitCode, report };
  } catch (e) {
    io.err(`report: cannot read the positions table (${source.description}): ${(e as Error).message}`);
    return { exitCode: 1, report: null };
  } finally {
    source.close();
  }
}

/** `--position ID`: one GetItem; exit 2 when the account has no such position, 1 when it cannot be read. */
async function printPosition(
  args: ReportArgs,
  id: string,
  source: Source,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<ReportRun> {
  try {
    // A spread's record first: the single-leg read refuses a spread's item.
    const sp = await source.spreads.getSpread(args.account, id);
    if (sp) {
      const view = spreadLedgerReport(sp);
      io.out(
        args.format === 'json' ? JSON.stringify(view, null, 2) : renderSpreadTable(view, source.description),
      );
      return { exitCode: 0, report: null, position: view };
    }
    const p = await source.store.get(args.account, id);
    if (!p) {
      io.err(
        `report: account ${args.account} has no position "${id}" (${source.description}); ` +
          'position ids are the recommendation ids: `npm run report -- --format csv` lists those closed',
      );
      return { exitCode: 2, report: null, position: null };
    }
    const view = positionLedgerReport(p);
    io.out(
      args.format === 'json' ? JSON.stringify(view, null, 2) : renderPositionTable(view, source.description),
    );
    return { exitCode: 0, report: null, position: view };
  } catch (e) {
    io.err(`report: cannot read position ${id} (${source.description}): ${(e as Error).message}`);
    return { exitCode: 1, report: null, position: null };
  } finally {
    source.close();
  }
}

if (require.main === module) {
  // The SDK's notice that its 2027 releases need Node 22 is noise in a CLI's output (engines: Node 20).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  runReport(process.argv.slice(2)).then(
    (r) => {
      process.exitCode = r.exitCode;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
