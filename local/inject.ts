/**
 * `npm run inject -- [files...] [--sample N] [--sample-spread] [--account NAME] [--queue-url URL] [--state PATH] [--send-invalid]`
 * `npm run inject -- --list-contracts [TICKER] [--type call|put] [--min-days N] [--plain]`
 * `npm run inject -- --rejections [--account NAME]`
 *
 * Validates recommendations with the schema the open-order function uses (`parseRecommendationMessage`:
 * single legs and spreads), reports every refused one with its reason, and sends the valid ones, 10 per
 * SendMessageBatch, to the account's queue of the running local stack (found through `.local/state.json`,
 * written by `npm start`) or to a real queue given with `--queue-url` (standard AWS credentials and region).
 *
 * Input: a file holding one JSON object, a JSON array of objects, or JSON lines (`-` reads stdin).
 * Exit status: 0 all sent; 1 some refused or not sent; 2 usage error or no stack to send to.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseRecommendationMessage } from '../shared/domain/recommendation';
import { PipelineError } from '../shared/domain/errors';
import { readCdkAccounts } from './accounts';
import { blackScholes, mulberry32 } from './alpaca-sim/market';
import { LOCAL_UNDERLYINGS } from './starting-market';
import { localSqsClient } from './sqs-server';
import {
  formatContracts,
  listLocalContracts,
  listLocalRejections,
  type ListedContract,
} from './inject-lookups';
import { adviseNodeVersion } from './node-version';
import { DEFAULT_STATE_DIR, readStateFile, STATE_FILE_NAME, type LocalStackState } from './state-file';

/** A message to validate and send, with where it came from (for the report). */
export interface InputMessage {
  /** `recs.json`, `recs.json[2]`, `recs.jsonl:5`, `sample 3`. */
  readonly source: string;
  readonly body: string;
}

/** A message the CLI did not send, and why. */
export interface Refusal {
  readonly source: string;
  readonly recommendationId?: string;
  readonly reason: string;
  readonly message: string;
}

/** What one run did. */
export interface InjectResult {
  readonly exitCode: number;
  readonly sent: ReadonlyArray<{ source: string; messageId: string }>;
  readonly refused: readonly Refusal[];
  readonly queueUrl: string | null;
}

interface InjectArgs {
  readonly files: string[];
  readonly sample: number;
  /** `--sample-spread`: also send one debit call vertical built from the local simulator's chain. */
  readonly sampleSpread: boolean;
  /** `--random-plans`: each sample carries a random exit_plan (default: none, the account's plan applies). */
  readonly randomPlans: boolean;
  readonly account: string;
  readonly queueUrl?: string;
  readonly statePath: string;
  readonly sendInvalid: boolean;
  readonly seed?: number;
  readonly help: boolean;
  /** `--list-contracts [TICKER]`: list instead of sending (ticker '' = every underlying). */
  readonly listContracts?: { ticker: string; type?: 'call' | 'put'; minDays?: number; plain: boolean };
  /** `--rejections`: print the account's rejections instead of sending. */
  readonly rejections: boolean;
}

const USAGE = `Usage: npm run inject -- [FILE...] [--sample N [--random-plans]] [--sample-spread] [--seed S] [--account NAME] [--queue-url URL] [--state PATH] [--send-invalid]
       npm run inject -- --list-contracts [TICKER] [--type call|put] [--min-days N] [--plain] [--account NAME]
       npm run inject -- --rejections [--account NAME]

  FILE            a JSON object, a JSON array of objects, or JSON lines ("-" reads stdin)
  --sample N      also send N generated, valid recommendations (instrument_type + swing_trade profile);
                  they carry no exit_plan, so the account's exit plan applies (exit_defaults + profile)
  --random-plans  give each sample a random exit_plan instead (stop 20-40%, target 30-80%, a trail or not)
  --sample-spread also send one sample spread (local simulator only): a debit call vertical, long the call
                  nearest the money and short the call $5 higher, on the expiry nearest 37 days out,
                  1 spread, a limit at long ask - short bid, exit_plan stop 50% / take profit 50%
  --seed S        seed of --sample (default: the clock)
  --account NAME  the account whose queue receives them (default main)
  --queue-url URL send to this real SQS queue (AWS credentials and region from the environment)
                  instead of the local stack's
  --state PATH    the local stack's state file (default .local/state.json, written by npm start)
  --send-invalid  send refused messages too (to rehearse the DLQ path); they are still reported
  --help          this text

A message without created_at gets the time of sending. One older than the account's
max_recommendation_age_minutes is sent, with a warning: the function refuses it as stale.

Look-ups in the running local stack (nothing is sent):
  --list-contracts [TICKER]  the contracts the simulator lists (all underlyings: a summary), with quotes;
                             per expiry, calls then puts, nearest the money first
    --type call|put          only calls or puts
    --min-days N             only expiries at least N days away
    --plain                  one symbol per line (for scripts)
  --rejections               every refusal the pipeline recorded for --account (the view shows the newest 8)`;

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): InjectArgs {
  const files: string[] = [];
  let sample = 0;
  let sampleSpread = false;
  let randomPlans = false;
  let account = 'main';
  let queueUrl: string | undefined;
  let statePath = path.join(DEFAULT_STATE_DIR, STATE_FILE_NAME);
  let sendInvalid = false;
  let seed: number | undefined;
  let help = false;
  let listContracts: InjectArgs['listContracts'];
  let rejections = false;
  let type: 'call' | 'put' | undefined;
  let minDays: number | undefined;
  let plain = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--sample') {
      sample = Number(value());
      if (!Number.isInteger(sample) || sample < 1 || sample > 1000) {
        throw new UsageError('--sample needs a whole number from 1 to 1000');
      }
    } else if (a === '--sample-spread') sampleSpread = true;
    else if (a === '--random-plans') randomPlans = true;
    else if (a === '--seed') seed = Number(value());
    else if (a === '--account') account = value();
    else if (a === '--queue-url') queueUrl = value();
    else if (a === '--state') statePath = value();
    else if (a === '--send-invalid') sendInvalid = true;
    else if (a === '--help' || a === '-h') help = true;
    else if (a === '--list-contracts') {
      const next = argv[i + 1];
      const ticker = next !== undefined && !next.startsWith('-') ? (i++, next.toUpperCase()) : '';
      if (ticker && !/^[A-Z]{1,6}$/.test(ticker))
        throw new UsageError(`--list-contracts: "${next}" is not a ticker`);
      listContracts = { ticker, plain: false };
    } else if (a === '--type') {
      const v = value().toLowerCase();
      if (v !== 'call' && v !== 'put') throw new UsageError('--type needs call or put');
      type = v;
    } else if (a === '--min-days') {
      minDays = Number(value());
      if (!Number.isInteger(minDays) || minDays < 0)
        throw new UsageError('--min-days needs a whole number ≥ 0');
    } else if (a === '--plain') plain = true;
    else if (a === '--rejections') rejections = true;
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else files.push(a);
  }
  if (listContracts) {
    if (files.length > 0 || sample > 0 || sampleSpread || rejections)
      throw new UsageError('--list-contracts only lists: give no FILE, --sample or --rejections with it');
    listContracts = { ...listContracts, type, minDays, plain };
  } else if (type || minDays !== undefined || plain) {
    throw new UsageError('--type, --min-days and --plain go with --list-contracts');
  } else if (rejections && (files.length > 0 || sample > 0 || sampleSpread)) {
    throw new UsageError('--rejections only lists: give no FILE or --sample with it');
  }
  if (!help && !listContracts && !rejections && files.length === 0 && sample === 0 && !sampleSpread)
    throw new UsageError(
      'nothing to send: give a FILE, --sample N or --sample-spread (or --list-contracts, --rejections)',
    );
  if (sampleSpread && queueUrl)
    throw new UsageError("--sample-spread reads the local simulator's chain: it goes without --queue-url");
  if (randomPlans && sample === 0) throw new UsageError('--random-plans goes with --sample N');
  return {
    files,
    sample,
    sampleSpread,
    randomPlans,
    account,
    queueUrl,
    statePath,
    sendInvalid,
    seed,
    help,
    listContracts,
    rejections,
  };
}

/**
 * Splits a file's text into message bodies: one JSON object → one message; a JSON array → one message per
 * element; otherwise JSON lines → one message per non-blank line (a line that is not JSON is still a
 * message, and validation refuses it with the parser's reason).
 */
export function readMessages(text: string, name: string): InputMessage[] {
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    return text
      .split(/\r?\n/)
      .map((line, i) => ({ source: `${name}:${i + 1}`, body: line.trim() }))
      .filter((m) => m.body !== '');
  }
  if (Array.isArray(whole)) {
    return whole.map((el, i) => ({ source: `${name}[${i}]`, body: JSON.stringify(el) ?? String(el) }));
  }
  return [{ source: name, body: JSON.stringify(whole) }];
}

/** Validates a message exactly as the open-order function's first step does. */
export function validateMessage(m: InputMessage, now: Date): Refusal | null {
  try {
    parseRecommendationMessage(m.body, now);
    return null;
  } catch (err) {
    const e = err as Error & { recommendationId?: string };
    return {
      source: m.source,
      ...(e.recommendationId ? { recommendationId: e.recommendationId } : {}),
      reason: err instanceof PipelineError ? err.reason : 'invalid',
      message: e.message,
    };
  }
}

/**
 * `n` valid recommendations that the account's strategy profile turns into contracts (instrument_type),
 * on underlyings whose near-the-money contracts fit `maxPremiumPerPosition` (dollars per position). They
 * carry no `exit_plan` (the account's plan applies, as for a producer that sends none) unless
 * `randomPlans`.
 */
export function sampleRecommendations(
  n: number,
  opts: { seed: number; now: Date; maxPremiumPerPosition?: number; randomPlans?: boolean },
): Array<Record<string, unknown>> {
  const rng = mulberry32(opts.seed);
  const fits = LOCAL_UNDERLYINGS.filter(
    (u) =>
      opts.maxPremiumPerPosition === undefined ||
      approxPremiumDollars(u.price, u.impliedVolatility) <= opts.maxPremiumPerPosition,
  );
  const universe = fits.length > 0 ? fits : LOCAL_UNDERLYINGS;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const stamp = opts.now.toISOString().replace(/\D/g, '').slice(0, 14);
  return Array.from({ length: n }, (_, i) => ({
    recommendation_id: `sample-${stamp}-${opts.seed % 100_000}-${i + 1}`,
    ticker: pick(universe).ticker,
    instrument_type: pick(['CALL', 'PUT'] as const),
    strategy: 'swing_trade',
    action: 'BUY',
    confidence: Math.round((0.5 + rng() * 0.5) * 100) / 100,
    ...(opts.randomPlans
      ? {
          exit_plan: {
            stop_loss_pct: pick([0.2, 0.3, 0.4]),
            take_profit_pct: pick([0.3, 0.5, 0.8]),
            trailing_stop_pct: pick([null, 0.15, 0.25]),
          },
        }
      : {}),
    created_at: opts.now.toISOString(),
  }));
}

/** Days to expiry a sample spread aims at (the middle of 30-45 days). */
const SPREAD_TARGET_DAYS = 37;
/** Strike distance of the sample spread's short call above its long call, dollars. */
const SPREAD_WIDTH = 5;

/**
 * One sample spread in the named-legs form (docs/SPREADS.md): a debit call vertical on the listed chain,
 * long the call nearest the money and short the call `SPREAD_WIDTH` dollars higher, same expiry (the one
 * nearest `SPREAD_TARGET_DAYS` days out among those at least 28 days out, else the farthest), both quoted;
 * 1 spread at a limit of long ask - short bid (to the cent), exit_plan stop 50% / take profit 50%. The
 * first underlying (alphabetically) with such a pair is used. Throws when no chain has one.
 */
export function sampleSpreadRecommendation(
  calls: readonly ListedContract[],
  opts: { now: Date },
): Record<string, unknown> {
  const quoted = calls.filter((c) => c.type === 'call' && c.bid !== null && c.ask !== null && c.ask > 0);
  const byUnderlying = [...new Set(quoted.map((c) => c.underlying))].sort();
  for (const u of byUnderlying) {
    const own = quoted.filter((c) => c.underlying === u);
    const days = [...new Set(own.map((c) => c.days))];
    const far = days.filter((d) => d >= 28);
    const pickDays = far.length
      ? far.sort((a, b) => Math.abs(a - SPREAD_TARGET_DAYS) - Math.abs(b - SPREAD_TARGET_DAYS))[0]
      : Math.max(...days);
    const chain = own.filter((c) => c.days === pickDays).sort((a, b) => a.distance - b.distance);
    for (const long of chain) {
      const short = chain.find((c) => Math.abs(c.strike - (long.strike + SPREAD_WIDTH)) < 1e-9);
      if (!short) continue;
      const limit = Math.round((long.ask! - short.bid!) * 100) / 100;
      if (!(limit > 0)) continue;
      const stamp = opts.now.toISOString().replace(/\D/g, '').slice(0, 14);
      return {
        recommendation_id: `sample-spread-${stamp}`,
        ticker: u,
        legs: [
          { option_symbol: long.symbol, side: 'buy', ratio_qty: 1 },
          { option_symbol: short.symbol, side: 'sell', ratio_qty: 1 },
        ],
        num_contracts: 1,
        order_type: 'limit',
        limit_price: limit,
        exit_plan: { stop_loss_pct: 0.5, take_profit_pct: 0.5 },
        created_at: opts.now.toISOString(),
      };
    }
  }
  throw new Error(
    `the local market lists no quoted call vertical $${SPREAD_WIDTH} wide to build a sample spread from`,
  );
}

/** Premium of one 1.5%-out-of-the-money, 3-week call, dollars: what the swing_trade profile would buy. */
function approxPremiumDollars(price: number, iv: number): number {
  return blackScholes('call', price, price * 1.015, 21 / 365, 0.04, iv).price * 100;
}

/** Runs the CLI; `out`/`err` receive its report lines. Never calls process.exit. */
export async function runInject(
  argv: readonly string[],
  io: { out: (line: string) => void; err: (line: string) => void; stdin?: () => Promise<string> } = {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
  },
): Promise<InjectResult> {
  const nothing = (exitCode: number): InjectResult => ({ exitCode, sent: [], refused: [], queueUrl: null });
  let args: InjectArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err(`inject: ${(e as Error).message}\n\n${USAGE}`);
    return nothing(2);
  }
  if (args.help) {
    io.out(USAGE);
    return nothing(0);
  }
  if (args.listContracts || args.rejections) return lookUp(args, io);

  // Where to send: a real queue, or the running local stack's queue for the account.
  let queueUrl: string;
  let client: SQSClient;
  let target: string;
  let state: LocalStackState | null = null;
  if (args.queueUrl) {
    queueUrl = args.queueUrl;
    client = new SQSClient({});
    target = 'AWS';
  } else {
    try {
      state = readStateFile(args.statePath);
      const q = state.accounts[args.account];
      if (!q) {
        throw new Error(
          `the local stack runs no account "${args.account}" (it runs: ${Object.keys(state.accounts).join(', ')})`,
        );
      }
      queueUrl = q.queueUrl;
      client = localSqsClient(state.sqsEndpoint);
      target = 'local stack';
    } catch (e) {
      io.err(`inject: ${(e as Error).message}`);
      return nothing(2);
    }
  }

  try {
    const messages: InputMessage[] = [];
    for (const file of args.files) {
      let text: string;
      try {
        text = file === '-' ? await (io.stdin ?? readStdin)() : fs.readFileSync(file, 'utf8');
      } catch (e) {
        io.err(`inject: cannot read ${file}: ${(e as Error).message}`);
        return nothing(2);
      }
      messages.push(...readMessages(text, file === '-' ? 'stdin' : path.basename(file)));
    }
    if (args.sample > 0) {
      const limit = readCdkAccounts().find((a) => a.name === args.account)?.config.limits
        .max_premium_per_position;
      const samples = sampleRecommendations(args.sample, {
        seed: args.seed ?? Date.now(),
        now: new Date(),
        maxPremiumPerPosition: limit,
        randomPlans: args.randomPlans,
      });
      samples.forEach((s, i) => messages.push({ source: `sample ${i + 1}`, body: JSON.stringify(s) }));
    }
    if (args.sampleSpread) {
      const now = new Date();
      const calls = await listLocalContracts(state!, args.account, { type: 'call' }, now);
      const spread = sampleSpreadRecommendation(calls, { now });
      messages.push({ source: 'sample spread', body: JSON.stringify(spread) });
    }

    const now = new Date();
    const refused: Refusal[] = [];
    const toSend: InputMessage[] = [];
    const maxAge = readCdkAccounts().find((a) => a.name === args.account)?.config.limits
      .max_recommendation_age_minutes;
    const warnings: string[] = [];
    for (const original of messages) {
      const m = withCreatedAt(original, now);
      const r = validateMessage(m, now);
      if (r) refused.push(r);
      else {
        const stale = staleWarning(m, now, maxAge, args.account);
        if (stale) warnings.push(stale);
      }
      if (!r || args.sendInvalid) toSend.push(m);
    }
    io.out(
      `${messages.length} message(s): ${messages.length - refused.length} valid, ${refused.length} refused` +
        (refused.length && args.sendInvalid ? ' (sent anyway: --send-invalid)' : ''),
    );
    for (const r of refused) {
      io.out(`  refused ${r.source}${r.recommendationId ? ` (${r.recommendationId})` : ''}: ${r.message}`);
    }
    for (const w of warnings) io.out(`  warning ${w}`);

    const { sent, failed } = await sendMessages(client, queueUrl, toSend);
    for (const f of failed) io.err(`  not sent ${f.source}: ${f.error}`);
    io.out(`sent ${sent.length} to ${queueUrl} (account ${args.account}, ${target})`);
    const shown = 20;
    for (const m of sent.slice(0, shown)) {
      const id = recommendationIdOf(toSend.find((x) => x.source === m.source)?.body);
      io.out(`  sent ${m.source}${id ? ` (${id})` : ''}: message ${m.messageId}`);
    }
    if (sent.length > shown) io.out(`  … and ${sent.length - shown} more`);
    if (sent.length > 0 && target === 'local stack') {
      io.out(
        `the pipeline's own refusals (risk limits, age, no contract) show in the live view, and all of them with: ` +
          `npm run inject -- --rejections${args.account === 'main' ? '' : ` --account ${args.account}`}`,
      );
    }
    return { exitCode: refused.length > 0 || failed.length > 0 ? 1 : 0, sent, refused, queueUrl };
  } catch (e) {
    io.err(`inject: ${(e as Error).message}`);
    return nothing(1);
  } finally {
    client.destroy();
  }
}

/**
 * The message with `created_at` set to `now` when it is a JSON object without one, so its age is the
 * time of sending (as the function would take from SQS) and is visible in the message.
 */
export function withCreatedAt(m: InputMessage, now: Date): InputMessage {
  try {
    const obj = JSON.parse(m.body) as unknown;
    if (obj && typeof obj === 'object' && !Array.isArray(obj) && !('created_at' in obj)) {
      return { ...m, body: JSON.stringify({ ...obj, created_at: now.toISOString() }) };
    }
  } catch {
    // Not JSON: validation reports it.
  }
  return m;
}

/** A warning when the message's created_at is older than the account accepts (the function refuses it). */
export function staleWarning(
  m: InputMessage,
  now: Date,
  maxAgeMinutes: number | undefined,
  account: string,
): string | null {
  if (maxAgeMinutes === undefined) return null;
  try {
    const { created_at, recommendation_id } = JSON.parse(m.body) as Record<string, unknown>;
    const at = typeof created_at === 'string' ? Date.parse(created_at) : NaN;
    const ageMinutes = (now.getTime() - at) / 60_000;
    if (!(ageMinutes > maxAgeMinutes)) return null;
    const age = ageMinutes < 120 ? `${Math.round(ageMinutes)} min` : `${Math.round(ageMinutes / 60)} h`;
    return (
      `${m.source}${typeof recommendation_id === 'string' ? ` (${recommendation_id})` : ''}: created_at is ${age} old; ` +
      `account ${account} refuses recommendations older than ${maxAgeMinutes} min (remove created_at to send it as new)`
    );
  } catch {
    return null;
  }
}

/** `--list-contracts` and `--rejections`: read the running local stack, print, send nothing. */
async function lookUp(
  args: InjectArgs,
  io: { out: (line: string) => void; err: (line: string) => void },
): Promise<InjectResult> {
  const done = (exitCode: number): InjectResult => ({ exitCode, sent: [], refused: [], queueUrl: null });
  try {
    const state = readStateFile(args.statePath);
    if (!state.accounts[args.account]) {
      throw new Error(
        `the local stack runs no account "${args.account}" (it runs: ${Object.keys(state.accounts).join(', ')})`,
      );
    }
    if (args.rejections) {
      for (const line of await listLocalRejections(state, args.account)) io.out(line);
      return done(0);
    }
    const l = args.listContracts!;
    const contracts = await listLocalContracts(state, args.account, {
      ...(l.ticker ? { ticker: l.ticker } : {}),
      type: l.type,
      minDays: l.minDays,
    });
    if (l.ticker || l.plain) {
      if (l.ticker && contracts.length === 0 && !l.type && l.minDays === undefined) {
        io.err(
          `inject: the local market lists no contracts on ${l.ticker}; npm run inject -- --list-contracts shows the underlyings`,
        );
        return done(1);
      }
      for (const line of formatContracts(contracts, l.plain)) io.out(line);
      return done(0);
    }
    for (const line of summarizeUnderlyings(contracts)) io.out(line);
    return done(0);
  } catch (e) {
    io.err(`inject: ${(e as Error).message}`);
    return done(2);
  }
}

/** Without a ticker: per underlying, its expiries, strike range and count (the full list is long). */
function summarizeUnderlyings(
  contracts: readonly { underlying: string; expiry: string; days: number; strike: number }[],
): string[] {
  const by = new Map<string, typeof contracts>();
  for (const c of contracts) by.set(c.underlying, [...(by.get(c.underlying) ?? []), c]);
  const lines = [...by].map(([u, cs]) => {
    const expiries = [...new Set(cs.map((c) => `${c.expiry} (${c.days} d)`))].join(', ');
    const strikes = cs.map((c) => c.strike);
    return `  ${u.padEnd(6)} ${cs.length} contracts · strikes ${Math.min(...strikes)}–${Math.max(...strikes)} · expiries ${expiries}`;
  });
  return [
    'the local market lists:',
    ...lines,
    'every contract of one: npm run inject -- --list-contracts TICKER [--type call|put] [--min-days N] [--plain]',
  ];
}

function recommendationIdOf(body: string | undefined): string | undefined {
  try {
    const id = (JSON.parse(body ?? '') as { recommendation_id?: unknown }).recommendation_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Sends messages in batches of 10 (SendMessageBatch); reports each message sent or not. */
export async function sendMessages(
  client: SQSClient,
  queueUrl: string,
  messages: readonly InputMessage[],
): Promise<{
  sent: Array<{ source: string; messageId: string }>;
  failed: Array<{ source: string; error: string }>;
}> {
  const sent: Array<{ source: string; messageId: string }> = [];
  const failed: Array<{ source: string; error: string }> = [];
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const res = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, j) => ({ Id: `m${j}`, MessageBody: m.body })),
      }),
    );
    for (const ok of res.Successful ?? []) {
      sent.push({ source: chunk[Number(ok.Id!.slice(1))].source, messageId: ok.MessageId! });
    }
    for (const f of res.Failed ?? []) {
      failed.push({
        source: chunk[Number(f.Id!.slice(1))].source,
        error: `${f.Code} ${f.Message ?? ''}`.trim(),
      });
    }
  }
  return { sent, failed };
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

if (require.main === module) {
  // npm start gives the Node version advice once; the SDK's seven lines on every command are noise.
  adviseNodeVersion(null);
  // `| head -1` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  runInject(process.argv.slice(2)).then(
    (r) => {
      process.exitCode = r.exitCode;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
