/**
 * `npm run fault -- …`: rehearse the runbook. Injects the faults docs/RUNBOOK.md covers into the running
 * `npm start` (found through `.local/state.json`, as `npm run inject` finds it), through the simulator's
 * loopback control routes (`/_sim/…`, local/alpaca-sim/README.md), so an operator watches each alert fire
 * and clear locally:
 *
 *   npm run fault -- --broker-5xx 60        the trading API answers 503 for 60 s
 *   npm run fault -- --broker-429 60        the trading API answers 429 (rate limited) for 60 s
 *   npm run fault -- --quotes-down 60       the option quote reads answer 503 for 60 s
 *   npm run fault -- --empty-positions 2    the next 2 positions reads answer [] (nothing held)
 *   npm run fault -- --market-closed 120    the market closes for 120 s, then reopens
 *   npm run fault -- --status | --clear     what is injected now / end every fault now
 *
 * Each fault ends by itself on the simulator's clock (a count for the positions read). Only the local
 * simulator has these routes: nothing here can reach Alpaca or the deployed stack.
 */
import * as path from 'node:path';
import { simulatorKeys } from './mode';
import { adviseNodeVersion } from './node-version';
import { DEFAULT_STATE_DIR, readStateFile, STATE_FILE_NAME } from './state-file';

export const FAULT_USAGE = `Usage: npm run fault -- (--broker-5xx SECONDS | --broker-429 SECONDS | --quotes-down SECONDS
                        | --empty-positions N | --market-closed SECONDS | --status | --clear)
                        [--account NAME] [--state PATH]

  --broker-5xx SECONDS     the trading API (orders, positions, account, clock) answers 503 for SECONDS
  --broker-429 SECONDS     the trading API answers 429 (rate limited, reset when it ends) for SECONDS
  --quotes-down SECONDS    the option quote reads (snapshots, latest quotes) answer 503 for SECONDS
  --empty-positions N      the next N reads of /v2/positions answer [] while the positions stay held
  --market-closed SECONDS  the market closes for SECONDS (the clock says is_open: false), then reopens
  --status                 the faults injected now, and the market switch
  --clear                  end every fault now (and reopen a market closed with --market-closed)
  --account NAME           only this account's broker key (default: every account of the stack)
  --state PATH             the local stack's state file (default .local/state.json, written by npm start)

Each fault ends by itself (on the simulator's clock); docs/RUNBOOK.md says what each alert means.`;

/** The faults the runbook covers. */
export type FaultKind = 'broker-5xx' | 'broker-429' | 'quotes-down' | 'empty-positions' | 'market-closed';

const KINDS: readonly FaultKind[] = [
  'broker-5xx',
  'broker-429',
  'quotes-down',
  'empty-positions',
  'market-closed',
];

/** Longest fault: a rehearsal, not a way to leave the stack broken by mistake. */
const MAX_SECONDS = 3600;
const MAX_READS = 100;

export type FaultCommand =
  | { readonly kind: FaultKind; readonly amount: number }
  | { readonly kind: 'status' }
  | { readonly kind: 'clear' };

export interface FaultArgs {
  readonly command: FaultCommand;
  readonly account?: string;
  readonly statePath: string;
}

/** Parsed arguments, or `'help'`. Throws with the usage on anything unexpected. */
export function parseFaultArgs(argv: readonly string[]): FaultArgs | 'help' {
  const commands: FaultCommand[] = [];
  let account: string | undefined;
  let statePath = path.join(DEFAULT_STATE_DIR, STATE_FILE_NAME);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value\n\n${FAULT_USAGE}`);
      return v;
    };
    if (a === '--help' || a === '-h') return 'help';
    else if (a === '--account') account = value();
    else if (a === '--state') statePath = value();
    else if (a === '--status') commands.push({ kind: 'status' });
    else if (a === '--clear') commands.push({ kind: 'clear' });
    else if (a.startsWith('--') && (KINDS as readonly string[]).includes(a.slice(2))) {
      const kind = a.slice(2) as FaultKind;
      const raw = value();
      const n = Number(raw);
      const reads = kind === 'empty-positions';
      const max = reads ? MAX_READS : MAX_SECONDS;
      if (!Number.isInteger(n) || n < 1 || n > max) {
        throw new Error(
          `${a} needs a whole number of ${reads ? 'reads' : 'seconds'} from 1 to ${max}, got "${raw}"`,
        );
      }
      commands.push({ kind, amount: n });
    } else throw new Error(`unknown argument ${a}\n\n${FAULT_USAGE}`);
  }
  if (commands.length !== 1) {
    throw new Error(`exactly one fault, --status or --clear\n\n${FAULT_USAGE}`);
  }
  if (account !== undefined && !/^[a-z][a-z0-9-]{0,31}$/.test(account)) {
    throw new Error(`--account needs an account name, got "${account}"`);
  }
  if (account !== undefined && commands[0].kind === 'market-closed') {
    throw new Error('--market-closed closes the one market every account trades in: drop --account');
  }
  return { command: commands[0], ...(account ? { account } : {}), statePath };
}

/** A fault in the control route's JSON (see `parseControlFault` in local/alpaca-sim/server.ts). */
export interface ControlFault {
  readonly status: number;
  readonly method?: string;
  readonly path?: string;
  readonly pathPattern?: string;
  readonly body?: unknown;
  readonly times?: number;
  readonly durationMs?: number;
  readonly keyId?: string;
}

/** What one fault injects, what it does, and what the operator should see (docs/RUNBOOK.md's names). */
export interface FaultPlan {
  readonly faults: readonly ControlFault[];
  /** The market switch (`POST /_sim/market`). */
  readonly market?: { readonly open: boolean; readonly durationMs: number };
  readonly does: string;
  readonly watch: readonly string[];
  readonly ends: string;
}

/** The trading API's paths on the simulator (Alpaca's data API shares the host: `/v2/stocks/` is data). */
export const TRADING_PATHS = '^/v[23]/(?!stocks/)';
/** The option quote reads the sweep prices with (not the bars the lab reads). */
export const QUOTE_PATHS = '^/v1beta1/options/(snapshots|quotes)';

/** The simulator faults for one kind; `keyId` limits them to one account's key. */
export function planFault(kind: FaultKind, amount: number, keyId?: string): FaultPlan {
  const key = keyId ? { keyId } : {};
  const durationMs = amount * 1000;
  const ends = `ends by itself in ${amount} s (npm run fault -- --clear ends it now)`;
  switch (kind) {
    case 'broker-5xx':
      return {
        faults: [{ status: 503, pathPattern: TRADING_PATHS, durationMs, ...key }],
        does: `the trading API answers 503 for ${amount} s`,
        watch: [
          'every sweep fails: the view\'s "last sweep error" (the log: "Sweep failed"); deployed, ExitEvaluatorErrorsAlarm',
          'openings fail and retry: DlqMessagesAlarm if a message outlasts its 3 receives',
          'when it ends: the next sweep succeeds and manages every position again (a due stop goes out then)',
        ],
        ends,
      };
    case 'broker-429':
      return {
        faults: [{ status: 429, pathPattern: TRADING_PATHS, durationMs, ...key }],
        does: `the trading API answers 429 (rate limit exceeded, reset when the fault ends) for ${amount} s`,
        watch: [
          'sweeps fail with 429: the view\'s "last sweep error"; deployed, ExitEvaluatorErrorsAlarm and SweepDurationAlarm',
          'openings wait and retry: OldestRecommendationAlarm (429 from Alpaca), DlqMessagesAlarm if it lasts',
          'when it ends: the next sweep succeeds',
        ],
        ends,
      };
    case 'quotes-down':
      return {
        faults: [{ status: 503, method: 'GET', pathPattern: QUOTE_PATHS, durationMs, ...key }],
        does: `the option quote reads (snapshots, latest quotes) answer 503 for ${amount} s`,
        watch: [
          '`ALERT quote_feed_down` every sweep with a live position (grep ALERT .local/ops-pipeline.log); deployed, QuoteFeedDownAlarm after 3 sweeps in a row',
          'price rules (stop, take profit, trail) wait; time rules (expiry, max hold) still act',
          'when it ends: the alert stops and a due stop goes out in the next sweep',
        ],
        ends,
      };
    case 'empty-positions':
      return {
        faults: [{ status: 200, method: 'GET', path: '/v2/positions', body: [], times: amount, ...key }],
        does: `the next ${amount} read(s) of /v2/positions answer [] while the broker still holds the positions`,
        watch: [
          '`ALERT broker_snapshot_suspect` (BrokerSnapshotSuspectAlarm) in each sweep that reads it, with at least one open position',
          'nothing is closed on it: the single-contract read finds each position held',
        ],
        ends: `ends after ${amount} read(s) (npm run fault -- --clear ends it now)`,
      };
    case 'market-closed':
      return {
        faults: [],
        market: { open: false, durationMs },
        does: `the market closes for ${amount} s (the broker clock says is_open: false)`,
        watch: [
          'due exits are not sent: the log says "Market closed: would close …; nothing sent" (the report\'s wouldClose)',
          'openings wait and retry (OldestRecommendationAlarm), DlqMessagesAlarm if one outlasts its 3 receives',
          'when it reopens: the next sweep sends the exits that are still due',
        ],
        ends: `reopens by itself in ${amount} s (npm run fault -- --clear reopens it now)`,
      };
  }
}

/** Where the faults go: the running stack's simulator, and its accounts' broker keys. */
export interface FaultTarget {
  readonly simulatorUrl: string;
  /** The broker key of an account of the stack; throws naming the accounts it runs. */
  keyOf(account: string): string;
}

/** The running `npm start`'s simulator; throws saying what to do when there is none. */
export function resolveFaultTarget(statePath: string): FaultTarget {
  const state = readStateFile(statePath, 'then inject faults into it');
  if (!state.simulatorUrl) {
    throw new Error(
      `the local stack (pid ${state.pid}) trades on Alpaca's paper API: faults are injected only into the ` +
        'local simulator (start it with `npm start -- --simulator`)',
    );
  }
  const accounts = Object.keys(state.accounts);
  return {
    simulatorUrl: state.simulatorUrl,
    keyOf(account) {
      if (!accounts.includes(account)) {
        throw new Error(`the local stack runs no account "${account}" (it runs: ${accounts.join(', ')})`);
      }
      return simulatorKeys(account).keyId;
    },
  };
}

/** The control routes' state: the faults in force and the market switch. */
export interface SimControlState {
  readonly faults: ReadonlyArray<{
    readonly method: string | null;
    readonly path: string | null;
    readonly keyId: string | null;
    readonly status: number | null;
    readonly remaining: number | null;
    readonly until: string | null;
  }>;
  readonly market: {
    readonly open: boolean;
    readonly until: string | null;
    readonly thenOpen: boolean | null;
  };
}

async function call(target: FaultTarget, method: string, route: string, body?: unknown) {
  const url = new URL(route, target.simulatorUrl);
  // Loopback only: the simulator serves its control routes to 127.0.0.1, and so this never leaves the host.
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') {
    throw new Error(
      `refusing to send a fault to ${url.origin}: only the local simulator (127.0.0.1) takes them`,
    );
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new Error(
      `the simulator at ${url.origin} does not answer (${(err as Error).message}): is npm start running?`,
    );
  }
  const text = await res.text();
  if (!res.ok) {
    const why = res.status === 404 || res.status === 401 ? ' (a simulator without its control routes?)' : '';
    throw new Error(`${method} ${route} answered ${res.status}${why}: ${text}`);
  }
  return JSON.parse(text) as SimControlState;
}

/** Describes the control state in lines for the terminal. */
export function describeState(state: SimControlState): string[] {
  const lines = [
    `market ${state.market.open ? 'open' : 'CLOSED'}` +
      (state.market.until
        ? ` until ${state.market.until}, then ${state.market.thenOpen ? 'open' : 'closed'}`
        : ''),
  ];
  if (state.faults.length === 0) lines.push('no faults injected');
  for (const f of state.faults) {
    const ends = [
      f.remaining !== null ? `${f.remaining} more request(s)` : null,
      f.until ? `until ${f.until}` : null,
    ].filter(Boolean);
    lines.push(
      `fault: ${f.method ?? 'any'} ${f.path ?? 'any path'} → ${f.status}` +
        `${f.keyId ? ` (key ${f.keyId})` : ''}${ends.length ? `, ${ends.join(', ')}` : ''}`,
    );
  }
  return lines;
}

/** Applies one command to the simulator; prints what it did and what to watch; returns the state after. */
export async function runFault(
  args: FaultArgs,
  target: FaultTarget,
  out: (line: string) => void = console.log,
): Promise<SimControlState> {
  const { command } = args;
  if (command.kind === 'status') {
    const state = await call(target, 'GET', '/_sim/faults');
    for (const l of describeState(state)) out(l);
    return state;
  }
  if (command.kind === 'clear') {
    const state = await call(target, 'DELETE', '/_sim/faults');
    out('cleared: every fault ended');
    for (const l of describeState(state)) out(l);
    return state;
  }
  const keyId = args.account ? target.keyOf(args.account) : undefined;
  const plan = planFault(command.kind, command.amount, keyId);
  let state: SimControlState | null = null;
  for (const f of plan.faults) state = await call(target, 'POST', '/_sim/faults', f);
  if (plan.market) state = await call(target, 'POST', '/_sim/market', plan.market);
  out(`injected: ${plan.does}${args.account ? ` (account ${args.account})` : ' (every account)'}`);
  out('watch:');
  for (const w of plan.watch) out(`  - ${w}`);
  out(plan.ends);
  return state!;
}

async function main(): Promise<number> {
  const args = parseFaultArgs(process.argv.slice(2));
  if (args === 'help') {
    console.log(FAULT_USAGE);
    return 0;
  }
  await runFault(args, resolveFaultTarget(args.statePath));
  return 0;
}

if (require.main === module) {
  adviseNodeVersion(null);
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`fault: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
