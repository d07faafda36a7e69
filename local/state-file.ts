/**
 * How the inject CLI finds a running `npm start`: the stack writes its endpoints and queue URLs to
 * `.local/state.json` (git-ignored) when it is ready and removes the file when it stops.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './accounts';

/** The default state directory: `.local/` at the repository root. */
export const DEFAULT_STATE_DIR = path.join(REPO_ROOT, '.local');
export const STATE_FILE_NAME = 'state.json';

/** What a running local stack publishes. */
export interface LocalStackState {
  readonly pid: number;
  readonly startedAt: string;
  readonly broker: 'simulator' | 'paper';
  readonly sqsEndpoint: string;
  readonly dynamoEndpoint: string;
  readonly simulatorUrl: string | null;
  readonly tableName: string;
  readonly logPath: string;
  readonly accounts: Readonly<Record<string, { readonly queueUrl: string; readonly dlqUrl: string }>>;
}

export function writeStateFile(file: string, state: LocalStackState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** Removes the state file if it is still the one this process wrote. */
export function removeStateFile(file: string, pid = process.pid): void {
  try {
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LocalStackState>;
    if (state.pid === pid) fs.unlinkSync(file);
  } catch {
    // Already gone, or not ours to remove.
  }
}

/**
 * Reads the state of a running stack. Throws with what to do when there is none, or when the process
 * that wrote it is gone (a stack killed with SIGKILL leaves its file behind).
 */
export function readStateFile(
  file: string,
  otherwise = 'or send to a real queue with --queue-url',
): LocalStackState {
  let state: LocalStackState;
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8')) as LocalStackState;
  } catch {
    throw new Error(
      `No running local stack found (${file} is missing): start one with \`npm start\`, ${otherwise}`,
    );
  }
  if (!isAlive(state.pid)) {
    throw new Error(
      `${file} was written by process ${state.pid}, which is no longer running: start \`npm start\` again`,
    );
  }
  return state;
}

/** The lock file one `npm start` holds in its state directory while it runs. */
export const LOCK_FILE_NAME = 'npm-start.pid';

/** Another `npm start` holds the state directory. */
export class StackRunningError extends Error {
  constructor(
    readonly pid: number,
    dir: string,
  ) {
    super(
      `another npm start is already running (pid ${pid}, state in ${dir}): stop it first (Ctrl-C in its ` +
        `terminal, or kill ${pid}), or give this one its own --state-dir DIR`,
    );
    this.name = 'StackRunningError';
  }
}

/**
 * Takes the state directory for this process: creates `npm-start.pid` exclusively, so two stacks started
 * at once cannot both win. A lock left by a process that is gone (SIGKILL) is taken over. Returns the
 * release function; throws {@link StackRunningError} naming the running process.
 */
export function acquireStateDirLock(dir: string, pid = process.pid): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${pid}\n`, { flag: 'wx' });
      return () => {
        try {
          if (Number(fs.readFileSync(file, 'utf8').trim()) === pid) fs.unlinkSync(file);
        } catch {
          // Already gone.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(fs.readFileSync(file, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) throw new StackRunningError(holder, dir);
    // Left by a process that died without cleaning up: take it over (once).
    fs.rmSync(file, { force: true });
  }
  throw new Error(`could not take ${file}: another npm start is starting at the same moment`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
