/** The command-line entry shared by `npm run bench:stops`, `bench:exits` and `bench:opens`. */
import { adviseNodeVersion } from '../../local/node-version';
import { parseSubBenchArgs, type SubBenchArgs, type SubBenchSpec } from './cli';

/**
 * Parses the bench's arguments; prints the usage and exits 0 on `--help`, exits 2 with the reason and the
 * usage on a bad one. Also replaces the AWS SDK's Node warning by one line (call before any SDK client).
 */
export function subBenchArgsOrExit(spec: SubBenchSpec, usage: string): SubBenchArgs {
  let args: SubBenchArgs;
  try {
    args = parseSubBenchArgs(process.argv.slice(2), spec, usage);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  if (args.help) {
    console.log(usage);
    process.exit(0);
  }
  adviseNodeVersion();
  return args;
}
