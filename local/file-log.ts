/**
 * Local mode's log: JSON lines appended to a file (`.local/ops-pipeline.log`), so nothing prints over the
 * live view. With `echo`, a short human-readable line also goes to stdout (`--no-view`, CI, tests).
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

/** Opens (appends to) the log file, creating its directory. */
export function openFileLog(filePath: string, opts: { echo?: (line: string) => void } = {}): FileLog {
  fs.mkdirSync(path.dirname(filePath), { recursive: true });
  const stream = fs.createWriteStream(filePath, { flags: 'a' });
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
