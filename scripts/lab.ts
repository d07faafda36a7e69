/** `npm run lab -- [options]`: the exit-plan lab (scripts/lab/cli.ts). */
import { runLabCli } from './lab/cli';

runLabCli(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
