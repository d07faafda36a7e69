/**
 * Issue 22, "one name, one job": no two source files of one name in two folders of shared/ and local/, so a
 * name says which job it is (`broker-stop.ts` in the domain and the sweep did different things). A name
 * that two folders share for one job on purpose is listed below with the reason.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const LAYERS = ['shared', 'local'];
const SOURCE = /\.(ts|mts|cts|mjs|cjs|js)$/;

/** Names whose job is the same wherever they stand (a folder's entry point, its types). */
const SAME_JOB: Readonly<Record<string, string>> = {
  'index.ts': "a folder's public entry point",
  'types.ts': "a folder's shared types",
  // The simulator parses OCC symbols itself so it never shares a mistake with the production parser
  // (local/alpaca-sim/occ.ts says so; a test compares the two): one job, written twice on purpose.
  'occ.ts': 'OCC symbol parsing: the production parser and the simulator’s independent one',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return SOURCE.test(entry.name) ? [relative(ROOT, path).split('\\').join('/')] : [];
  });
}

/** Every name found in more than one folder, with its files; `skip` files are left out. */
function sharedNames(files: readonly string[], skip: readonly string[] = []): Record<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const file of files) {
    if (skip.includes(file)) continue;
    const name = file.slice(file.lastIndexOf('/') + 1);
    if (name in SAME_JOB) continue;
    byName.set(name, [...(byName.get(name) ?? []), file]);
  }
  return Object.fromEntries([...byName].filter(([, paths]) => paths.length > 1));
}

describe('one name, one job (issue 22)', () => {
  const files = LAYERS.flatMap((layer) => sourceFiles(join(ROOT, layer)));

  it('finds the source files it checks', () => {
    expect(files).toEqual(
      expect.arrayContaining(['shared/domain/position.ts', 'local/alpaca-sim/engine.ts']),
    );
  });

  it('no two folders of shared/ and local/ hold a file of the same name', () => {
    expect(sharedNames(files)).toEqual({});
  });

  it('would catch a name used twice (the check can fail)', () => {
    expect(sharedNames(['shared/domain/broker-stop.ts', 'shared/use-cases/sweep/broker-stop.ts'])).toEqual({
      'broker-stop.ts': ['shared/domain/broker-stop.ts', 'shared/use-cases/sweep/broker-stop.ts'],
    });
    expect(sharedNames(['shared/domain/index.ts', 'local/alpaca-sim/index.ts'])).toEqual({});
  });
});
