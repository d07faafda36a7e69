/**
 * Keeps stray console output off the terminal in local mode: libraries that print (Powertools' metrics
 * warns "No application metrics to publish" on every invocation without metrics) go to the log file.
 */
import { format } from 'node:util';
import type { FileLog } from './file-log';

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug';

/** Routes the given console methods to the log file; returns a function that restores them. */
export function routeConsoleToLog(log: FileLog, methods: readonly ConsoleMethod[]): () => void {
  const saved = new Map<ConsoleMethod, (...args: unknown[]) => void>();
  for (const m of methods) {
    saved.set(m, console[m]);
    console[m] = (...args: unknown[]) =>
      log.write(
        m === 'error' ? 'ERROR' : m === 'warn' ? 'WARN' : 'INFO',
        'console',
        format(...args),
        {},
        {
          echo: false,
        },
      );
  }
  return () => {
    for (const [m, fn] of saved) console[m] = fn;
  };
}
