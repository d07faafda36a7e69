/**
 * `npm start [-- options]`: the whole pipeline on this machine (see docs/LOCAL-MODE.md).
 *
 *   npm start                          simulator, live view, sweep every 5 s
 *   npm start -- --demo                scripted session; exits 0 with a summary table (CI smoke test)
 *   npm start -- --no-view             plain log lines instead of the view
 *   APCA_API_KEY_ID=… APCA_API_SECRET_KEY=… npm start      Alpaca's PAPER API with your keys
 */
import { LocalModeError, selectBrokerMode } from './mode';
import { adviseNodeVersion, nodeVersionNote } from './node-version';
// The SDK's seven-line notice that its 2027 releases need Node 22 would print over the view; main() prints
// one line instead, before the view starts (so it is also there when the view ends).
adviseNodeVersion(null);
import { renderDemoSummary, runDemo } from './demo';
import { startLocalStack, type LocalStack, type LocalStackOptions } from './stack';
import { StackRunningError } from './state-file';
import { startLiveView } from './view';

/** Options of `npm start`, parsed. */
export interface StartArgs {
  readonly demo: boolean;
  readonly view: boolean;
  readonly simulator: boolean;
  readonly seed: number;
  readonly sweepSeconds?: number;
  readonly visibilitySeconds?: number;
  readonly batchWindowSeconds?: number;
  readonly volatility?: number;
  readonly accounts: string[];
  readonly stateDir?: string;
  readonly help: boolean;
}

export const START_USAGE = `Usage: npm start -- [--demo] [--no-view] [--simulator] [--seed N] [--sweep-seconds S]
                     [--visibility-seconds S] [--batch-window-seconds S] [--volatility V] [--account NAME]...
                     [--state-dir DIR]

  --demo                   scripted session on the simulator; exits 0 when every exit fired, else 1
  --no-view                print log lines instead of the live view (CI, scripts)
  --simulator              use the simulator even when APCA_API_KEY_ID/APCA_API_SECRET_KEY are set
  --seed N                 seed of the simulator's random walk (default 1)
  --sweep-seconds S        seconds between sweeps (default 5; the demo uses 0.5)
  --visibility-seconds S   visibility timeout of the recommendations queues (default 10)
  --batch-window-seconds S batching window of the SQS poller (default 0, as deployed)
  --volatility V           random-walk step of option mids (default 0.015 per second)
  --account NAME           run only this account (repeatable; paper mode runs one, default main)
  --state-dir DIR          where state.json (read by npm run inject) and ops-pipeline.log go (default .local)`;

/** Parses `npm start` arguments; throws {@link LocalModeError} on a bad one. */
export function parseStartArgs(argv: readonly string[]): StartArgs {
  const accounts: string[] = [];
  let demo = false;
  let view = true;
  let simulator = false;
  let help = false;
  let seed = 1;
  let sweepSeconds: number | undefined;
  let visibilitySeconds: number | undefined;
  let batchWindowSeconds: number | undefined;
  let volatility: number | undefined;
  let stateDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (min: number, max: number) => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < min || v > max) {
        throw new LocalModeError(`${a} needs a number from ${min} to ${max}, got "${argv[i] ?? ''}"`);
      }
      return v;
    };
    if (a === '--demo') demo = true;
    else if (a === '--no-view') view = false;
    else if (a === '--simulator') simulator = true;
    else if (a === '--help' || a === '-h') help = true;
    else if (a === '--seed') seed = num(0, 2 ** 32 - 1);
    else if (a === '--sweep-seconds') sweepSeconds = num(0.1, 3600);
    else if (a === '--visibility-seconds') visibilitySeconds = num(1, 43_200);
    else if (a === '--batch-window-seconds') batchWindowSeconds = num(0, 300);
    else if (a === '--volatility') volatility = num(0, 0.5);
    else if (a === '--state-dir') {
      stateDir = argv[++i];
      if (!stateDir) throw new LocalModeError('--state-dir needs a directory');
    } else if (a === '--account') {
      const name = argv[++i];
      if (!name) throw new LocalModeError('--account needs a name');
      accounts.push(name);
    } else throw new LocalModeError(`unknown option ${a}\n\n${START_USAGE}`);
  }
  return {
    demo,
    view: view && !demo,
    simulator,
    seed,
    sweepSeconds,
    visibilitySeconds,
    batchWindowSeconds,
    volatility,
    accounts,
    stateDir,
    help,
  };
}

/** The stack options `npm start` uses for its arguments (the demo: fast sweeps, prices held still). */
export function stackOptionsFor(args: StartArgs, env: NodeJS.ProcessEnv): LocalStackOptions {
  if (args.demo) {
    return {
      broker: { kind: 'simulator' },
      seed: args.seed,
      sweepSeconds: args.sweepSeconds ?? 0.5,
      visibilityTimeoutSeconds: args.visibilitySeconds ?? 2,
      batchingWindowSeconds: args.batchWindowSeconds ?? 0.3,
      waitTimeSeconds: 1,
      claimLeaseSeconds: 5,
      randomWalk: false,
      writeState: false,
      accounts: ['main', 'tiny'],
      stateDir: args.stateDir,
    };
  }
  return {
    broker: selectBrokerMode(env, { forceSimulator: args.simulator }),
    seed: args.seed,
    sweepSeconds: args.sweepSeconds,
    visibilityTimeoutSeconds: args.visibilitySeconds,
    batchingWindowSeconds: args.batchWindowSeconds,
    randomWalk: { volatility: args.volatility },
    accounts: args.accounts,
    stateDir: args.stateDir,
  };
}

async function main(): Promise<number> {
  const args = parseStartArgs(process.argv.slice(2));
  if (args.help) {
    console.log(START_USAGE);
    return 0;
  }
  const options = stackOptionsFor(args, process.env);
  const note = nodeVersionNote();
  if (note) console.log(note);
  if (args.demo && process.env.APCA_API_KEY_ID) {
    console.log('--demo always runs on the local simulator; your APCA_* keys are not used.');
  }
  const stack = await startLocalStack({
    ...options,
    ...(args.view || args.demo ? {} : { echoLog: (line: string) => console.log(line) }),
    consoleToLog: args.view ? ['log', 'info', 'warn', 'error', 'debug'] : ['info', 'warn', 'debug'],
  });

  if (args.demo) {
    const onSignal = () => void stack.stop().then(() => process.exit(130));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      console.log(`demo: local stack up (simulator ${stack.sim?.url}); logs in ${stack.log.path}`);
      const result = await runDemo(stack, (line) => console.log(`demo: ${line}`));
      console.log(`\n${renderDemoSummary(result)}`);
      return result.ok ? 0 : 1;
    } finally {
      await stack.stop();
    }
  }

  printReady(stack, args.view);
  const view = args.view ? startLiveView(stack) : null;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        // A second Ctrl-C while shutting down: give up waiting.
        process.exit(1);
      }
      stopping = true;
      void (async () => {
        await view?.stop();
        // Not console.log: while the stack runs, the console goes to the log file.
        process.stdout.write(`${signal}: stopping…\n`);
        await stack.stop();
        console.log('stopped: nothing is listening any more.');
        resolve(0);
      })();
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    // The terminal went away: stop as cleanly as for Ctrl-C.
    process.on('SIGHUP', () => stop('SIGHUP'));
  });
}

function printReady(stack: LocalStack, view: boolean): void {
  if (view) return;
  console.log(
    [
      `local stack ready (${stack.broker}${stack.sim ? ` ${stack.sim.url}` : ''}):`,
      `  SQS ${stack.sqs.endpoint} · DynamoDB ${stack.dynamo.endpoint} · table ${stack.tableName}`,
      ...stack.accounts.map((a) => `  ${a.name}: queue ${a.queueUrl} · DLQ ${a.dlqUrl}`),
      `  state ${stack.statePath} · logs ${stack.log.path}`,
      `  inject: npm run inject -- --sample 3 [--account tiny]`,
    ].join('\n'),
  );
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
      // Everything is closed by now; if a stray handle kept the process alive, do not hang CI.
      setTimeout(() => process.exit(code), 3000).unref();
    },
    (err: unknown) => {
      const known = err instanceof LocalModeError || err instanceof StackRunningError;
      console.error(known ? `npm start: ${err.message}` : err);
      process.exitCode = 1;
      setTimeout(() => process.exit(1), 3000).unref();
    },
  );
}
