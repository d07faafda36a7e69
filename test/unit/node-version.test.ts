/**
 * Node version (issue 18, point 3): Node 22 is recommended (Lambda runs it), Node 20.19+ keeps working
 * (CI runs 20), and our own engines field never makes `npm ci` warn EBADENGINE on either.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { nodeVersionNote } from '../../local/node-version';

// npm's own range semantics (semver is in the tree through many dependencies; it ships no types).
const semver = createRequire(__filename)('semver') as {
  satisfies(version: string, range: string): boolean;
};

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } }>;
};

describe('Node version', () => {
  it('engines accepts Node 22 and Node 20.19+ (CI), and the Node running the tests', () => {
    for (const v of ['22.0.0', '22.12.0', '24.1.0', '20.19.0', '20.20.2', process.version]) {
      expect([v, semver.satisfies(v, pkg.engines.node)]).toEqual([v, true]);
    }
    expect(semver.satisfies('18.20.0', pkg.engines.node)).toBe(false);
    // npm ci reads the root package's engines from the lock file: the two must agree.
    expect(lock.packages[''].engines?.node).toBe(pkg.engines.node);
  });

  it('.nvmrc recommends Node 22, the Lambda runtime', () => {
    expect(fs.readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim()).toBe('22');
    expect(fs.readFileSync(path.join(ROOT, 'lib', 'pipeline-function.ts'), 'utf8')).toMatch(/NODEJS_22_X/);
  });

  it('the CLIs print one line of advice below Node 22, nothing from 22 on', () => {
    expect(nodeVersionNote('v20.20.2')).toMatch(/^note: Node v20\.20\.2 works, but Node 22 is recommended/);
    expect(nodeVersionNote('v22.12.0')).toBeNull();
    expect(nodeVersionNote('v24.0.0')).toBeNull();
  });
});
