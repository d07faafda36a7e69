/** Local mode's log: one file per start, the previous start's kept as `.1`. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openFileLog } from '../../local/file-log';

describe('the local log', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-log-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = async (file: string, message: string) => {
    const log = openFileLog(file);
    log.write('INFO', 'test', message);
    await log.close();
  };
  const messages = (file: string) =>
    fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { message: string }).message);

  it('each start writes a log of its own; the previous one is kept as .1, the one before dropped', async () => {
    const file = path.join(dir, 'sub', 'ops-pipeline.log');
    await run(file, 'first');
    expect(messages(file)).toEqual(['first']);
    expect(fs.existsSync(`${file}.1`)).toBe(false);
    await run(file, 'second');
    expect(messages(file)).toEqual(['second']);
    expect(messages(`${file}.1`)).toEqual(['first']);
    await run(file, 'third');
    expect(messages(file)).toEqual(['third']);
    expect(messages(`${file}.1`)).toEqual(['second']);
    expect(fs.readdirSync(path.dirname(file)).sort()).toEqual(['ops-pipeline.log', 'ops-pipeline.log.1']);
  });

  it('an empty previous log is not rotated over the last real one', async () => {
    const file = path.join(dir, 'ops-pipeline.log');
    await run(file, 'real');
    await openFileLog(file).close(); // a start that wrote nothing
    expect(messages(`${file}.1`)).toEqual(['real']);
    await openFileLog(file).close();
    expect(messages(`${file}.1`)).toEqual(['real']);
  });
});
