import { runScenario, startWorld, type Action, type World } from './model';
let world: World;
beforeAll(async () => { world = await startWorld(); });
afterAll(async () => { await world?.close(); });
it('debug', async () => {
  const actions = JSON.parse(process.env.ACTIONS!) as Action[];
  await runScenario(world, actions, { brokerStop: process.env.MODE as 'stop' });
}, 120000);
