/**
 * Local mode's log: JSON lines written to a file (`.local/ops-pipeline.log`, one per start; the previous
 * start's kept as `.local/ops-pipeline.log.1`), so nothing prints over the live view. With `echo`, a short human-readable line also goes to stdout (`--no-view`, CI, tests).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../shared/observability';

export type LogLevel = 'INFO' | 'WARN' | 'ERROR';

export interface FileLog {
  readonly path: string;
  /** A {@link Log} for one component (e.g. `open-order`) of one account; handed to the handler factories. */
  forService(service: string, account?: string): Log;
  /** Appends a line; `echo: false` keeps it out of the echo (library chatter captured from the console). */
  write(
    level: LogLevel,
    service: string,
    message: string,
    extra?: Record<string, unknown>,
    opts?: { echo?: boolean },
  ): void;
  close(): Promise<void>;
}

/**
 * Starts a fresh log file for this run, creating its directory: the previous run's log is kept as
 * `<file>.1` (the one before that is dropped), so each `npm start` has one log of its own.
 */
export function openFileLog(filePath: string, opts: { echo?: (line: string) => void } = {}): FileLog {
  fs.mkdirSync(path.dirname(filePath), { recursive: true });
  rotate(filePath);
  const stream = fs.createWriteStream(filePath, { flags: 'w' });
  let closed = false;
  const write: FileLog['write'] = (level, service, message, extra = {}, writeOpts = {}) => {
    if (closed) return;
    const at = new Date().toISOString();
    stream.write(`${safeJson({ timestamp: at, level, service, message, ...extra })}\n`);
    if (opts.echo && writeOpts.echo !== false) {
      const account = typeof extra.account === 'string' ? ` [${extra.account}]` : '';
      opts.echo(`${at.slice(11, 23)} ${level.padEnd(5)} ${service}${account}: ${message}`);
    }
  };
  return {
    path: filePath,
    write,
    forService(service, account) {
      const base = account ? { account } : {};
      const at =
        (level: LogLevel) =>
        (message: string, ...extra: Record<string, unknown>[]) =>
          write(level, service, message, Object.assign({}, base, ...extra));
      return { info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        stream.end(() => resolve());
      }),
  };
}

/** Moves `file` to `file.1` (replacing it) when it exists and is not empty. */
export function rotate(file: string): void {
  try {
    if (fs.statSync(file).size === 0) return;
  } catch {
    return; // no previous log
  }
  fs.renameSync(file, `${file}.1`);
}

/** JSON that survives errors, bigints and cycles (a log line must never throw). */
function safeJson(value: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Error) return { name: v.name, message: v.message };
    if (typeof v === 'bigint') return v.toString();
    if (v && typeof v === 'object') {
      if (seen.has(v)) return '[circular]';
      seen.add(v);
    }
    return v;
  });
}
