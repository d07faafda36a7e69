/** `npm run lab -- [options]`: the exit-plan lab (scripts/lab/cli.ts). */
import { adviseNodeVersion } from '../local/node-version';
import { runLabCli } from './lab/cli';

// Before any AWS SDK client exists (--from-table): no seven-line SDK warning on Node 20 (as in inject and
// report; npm start prints the one line of advice).
adviseNodeVersion(null);

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
