/**
 * The kill switch operator CLI (local/control.ts): argument parsing, and that a switch thrown through it
 * stops openings at once in every warm container, and that flatten closes through the guarded exit path.
 */
import '../reliability/quiet';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseControlArgs, runControl } from '../../local/control';
import {
  lambdaContext,
  loadOpenOrderHandler,
  loadSweepHandler,
  sentOrders,
  sqsEvent,
  sqsRecord,
  startPipeline,
  KEY_ID,
  type Pipeline,
} from '../helpers/pipeline';
import { FUTURE_SYMBOL, recommendationBody } from '../helpers/recommendations';

describe('parseControlArgs', () => {
  it('reads the account, the command and the table (flag or POSITIONS_TABLE)', () => {
    expect(
      parseControlArgs(['--account', 'main', '--disable', '--reason', 'halt'], { POSITIONS_TABLE: 't' }),
    ).toMatchObject({
      account: 'main',
      table: 't',
      reason: 'halt',
      command: 'disable',
    });
    expect(parseControlArgs(['--account', 'tiny', '--status', '--table', 'x'])).toMatchObject({
      table: 'x',
      command: 'status',
    });
  });

  it.each([
    [['--disable', '--table', 't'], '--account NAME is required'],
    [['--account', 'main', '--table', 't'], 'exactly one of'],
    [['--account', 'main', '--disable', '--enable', '--table', 't'], 'exactly one of'],
    [['--account', 'Main!', '--disable', '--table', 't'], '--account NAME is required'],
    [['--account', 'main', '--nuke', '--table', 't'], 'unknown argument --nuke'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseControlArgs(argv)).toThrow(message);
  });

  it('without --table or POSITIONS_TABLE leaves the table to the running local stack', () => {
    const args = parseControlArgs(['--account', 'main', '--disable'], {});
    expect(args).not.toHaveProperty('table');
    expect(args).toMatchObject({
      command: 'disable',
      statePath: expect.stringMatching(/\.local\/state\.json$/),
    });
  });

  it('--help asks for the usage, whatever else is given', () => {
    expect(parseControlArgs(['--help'])).toBe('help');
    expect(parseControlArgs(['--account', 'main', '-h'])).toBe('help');
  });
});

describe('the kill switch across containers', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({ account: { name: 'main', limits: { max_open_positions: 50 } } });
    p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
  });
  afterAll(async () => {
    await p.close();
  });

  const deliver = (h: ReturnType<typeof loadOpenOrderHandler>, id: string) =>
    h(
      sqsEvent([sqsRecord(recommendationBody({ recommendation_id: id }), { messageId: `m-${id}` })]),
      lambdaContext,
    );

  it('stops new openings at once in every warm container, and flatten closes everything', async () => {
    const a = loadOpenOrderHandler(p);
    const b = loadOpenOrderHandler(p);
    expect((await deliver(a, 'ks-1')).batchItemFailures).toEqual([]);
    expect((await deliver(b, 'ks-2')).batchItemFailures).toEqual([]);
    expect(sentOrders(p.sim)).toHaveLength(2);

    await runControl(p.table.store, { account: 'main', command: 'disable', reason: 'test' });
    expect((await deliver(a, 'ks-3')).batchItemFailures).toEqual([{ itemIdentifier: 'm-ks-3' }]);
    expect((await deliver(b, 'ks-4')).batchItemFailures).toEqual([{ itemIdentifier: 'm-ks-4' }]);
    expect(sentOrders(p.sim)).toHaveLength(2);
    const reasons = (await p.table.store.listRejections('main')).map((r) => [r.key, r.reason]);
    expect(reasons).toEqual(
      expect.arrayContaining([
        ['ks-3', 'risk_limit:kill_switch'],
        ['ks-4', 'risk_limit:kill_switch'],
      ]),
    );

    await runControl(p.table.store, { account: 'main', command: 'flatten' });
    const sweep = loadSweepHandler(p);
    await sweep(); // learns the fills, then flattens
    await sweep(); // learns the exits' fills
    expect(p.sim.positions(KEY_ID)).toEqual([]);
    expect(await p.table.store.get('main', 'ks-1')).toMatchObject({
      state: 'closed',
      close_reason: 'flatten',
    });
    const closes = sentOrders(p.sim).filter((o) => /^ops-main-x/.test(String(o.client_order_id)));
    expect(closes).toHaveLength(2);
    for (const o of closes) expect(o).not.toHaveProperty('position_intent');

    expect(await runControl(p.table.store, { account: 'main', command: 'enable' })).toMatchObject({
      trading_enabled: true,
      flatten: false,
    });
    expect((await deliver(a, 'ks-5')).batchItemFailures).toEqual([]);
  });

  it('works as a command against the table through the standard AWS endpoint variables', async () => {
    const run = (args: string[]) =>
      promisify(execFile)('npx', ['tsx', 'local/control.ts', '--account', 'main', ...args], {
        env: { ...process.env, ...p.env, POSITIONS_TABLE: p.table.tableName },
      });
    const out = await run(['--disable', '--reason', 'from the CLI']);
    expect(JSON.parse(out.stdout)).toMatchObject({
      account: 'main',
      trading_enabled: false,
      reason: 'from the CLI',
    });
    expect(await p.table.store.getControl('main')).toMatchObject({ trading_enabled: false });
    await expect(run(['--bogus'])).rejects.toThrow('unknown argument --bogus');
  }, 30_000);
});
