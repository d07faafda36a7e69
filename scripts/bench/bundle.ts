/**
 * Builds the Lambda handlers with esbuild exactly as the stack does (lib/pipeline-function.ts's
 * PIPELINE_BUNDLING), measures them and times loading them in fresh Node processes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { PIPELINE_BUNDLING } from '../../lib/pipeline-function';

const ROOT = resolve(__dirname, '../..');

/** The functions the stack deploys, by entry. */
export const HANDLER_ENTRIES = {
  'open-order': 'lambdas/open-order/handler.ts',
  'exit-evaluator': 'lambdas/exit-evaluator/handler.ts',
} as const;
export type HandlerName = keyof typeof HANDLER_ENTRIES;

/** One built bundle. */
export interface BuiltBundle {
  readonly name: HandlerName;
  /** Absolute path of the minified `index.js`. */
  readonly file: string;
  readonly bytes: number;
  /** Largest contributors (packages, or our own directories), bytes in the output. */
  readonly top: ReadonlyArray<{ readonly source: string; readonly bytes: number }>;
}

/** The stack's NodejsFunction bundling options as esbuild build options (fails on an option it can't map). */
export function esbuildOptionsOfStack(): BuildOptions {
  const { minify, sourceMap, target, format, externalModules, esbuildArgs, ...rest } = PIPELINE_BUNDLING;
  const alias: Record<string, string> = {};
  for (const [arg, value] of Object.entries(esbuildArgs)) {
    const m = /^--alias:(.+)$/.exec(arg);
    if (!m) throw new Error(`bench: map the esbuild argument ${arg} first`);
    alias[m[1]] = String(value);
  }
  if (Object.keys(rest).length) {
    throw new Error(`bench: map these bundling options to esbuild first: ${Object.keys(rest).join(', ')}`);
  }
  return {
    bundle: true,
    platform: 'node',
    minify,
    sourcemap: sourceMap,
    target,
    format: (format as OutputFormat) === OutputFormat.ESM ? 'esm' : 'cjs',
    external: [...externalModules],
    alias,
  };
}

/** Builds every handler into `outDir/<name>/index.js`. */
export async function buildBundles(outDir: string): Promise<BuiltBundle[]> {
  const out: BuiltBundle[] = [];
  for (const [name, entry] of Object.entries(HANDLER_ENTRIES) as Array<[HandlerName, string]>) {
    const dir = join(outDir, name);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'index.js');
    const result = await build({
      ...esbuildOptionsOfStack(),
      absWorkingDir: ROOT,
      entryPoints: [entry],
      outfile: file,
      metafile: true,
      logLevel: 'error',
    });
    out.push({ name, file, bytes: statSync(file).size, top: topContributors(result.metafile, 8) });
  }
  return out;
}

/** The external `@aws-sdk/*` packages a bundle requires (left to the Lambda runtime). */
export function externalSdkModules(file: string): string[] {
  const code = readFileSync(file, 'utf8');
  return [...new Set([...code.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]))].sort();
}

/** Bytes in the output per npm package (or per directory of our own code), largest first. */
export function topContributors(meta: Metafile, n: number): Array<{ source: string; bytes: number }> {
  const by = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    if (!output.entryPoint) continue;
    for (const [path, input] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const key = pkg ? pkg[1] : path.split('/').slice(0, 2).join('/');
      by.set(key, (by.get(key) ?? 0) + input.bytesInOutput);
    }
  }
  return [...by]
    .map(([source, bytes]) => ({ source, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, n);
}

/**
 * Milliseconds to `require` the bundle (and so build its handler: the environment is parsed at load) in a
 * fresh `node` process, once per run. `NODE_PATH` lets the external `@aws-sdk/*` resolve from this repo, as
 * the Lambda runtime provides them.
 */
export function timeRequire(
  file: string,
  env: Readonly<Record<string, string>>,
  runs: number,
  preload: readonly string[] = [],
): number[] {
  // `preload`: modules loaded before the clock starts (to split the bundle's own share from theirs).
  const script =
    'for(const m of JSON.parse(process.argv[2]))require(m);' +
    'const t=process.hrtime.bigint();require(process.argv[1]);' +
    'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['-e', script, file, JSON.stringify(preload)], {
      env: { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules'), ...env },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`loading ${file} failed: ${r.stderr}`);
    times.push(Number(r.stdout));
  }
  return times;
}

/** Milliseconds to `require` these modules (from this repo's node_modules) in a fresh `node`, once per run. */
export function timeRequireModules(modules: readonly string[], runs: number): number[] {
  const script =
    'const t=process.hrtime.bigint();for(const m of JSON.parse(process.argv[1]))require(m);' +
    'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['-e', script, JSON.stringify(modules)], {
      env: { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules') },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`loading ${modules.join(', ')} failed: ${r.stderr}`);
    times.push(Number(r.stdout));
  }
  return times;
}
