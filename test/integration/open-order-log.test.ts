/**
 * The open-order function's log says only what matters: no Powertools "No application metrics to
 * publish" warning on a call that counted nothing, and a plain refusal (bad input, a limit) at WARN, not
 * ERROR (ERROR is for the unexpected).
 */
import { createOpenOrderHandler } from '../../shared/handlers/open-order';
import type { Log } from '../../shared/observability';
import { lambdaContext, sqsEvent, sqsRecord, startPipeline, type Pipeline } from '../helpers/pipeline';
import { recommendationBody } from '../helpers/recommendations';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => p.close());

function capture(): { log: Log; lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  const at = (level: string) => (message: string) => void lines.push([level, message]);
  return { log: { info: at('INFO'), warn: at('WARN'), error: at('ERROR') }, lines };
}

it('a call that counted no metric logs no "No application metrics" warning', async () => {
  const c = capture();
  const handler = createOpenOrderHandler({ ...p.env, POWERTOOLS_METRICS_DISABLED: 'false' }, { log: c.log });
  await handler(sqsEvent([]), lambdaContext);
  await handler(sqsEvent([]), lambdaContext);
  expect(c.lines.filter(([, m]) => /metrics/i.test(m))).toEqual([]);
  expect(c.lines.filter(([level]) => level !== 'INFO')).toEqual([]);
});

it('a plain refusal is a WARN, not an ERROR', async () => {
  const c = capture();
  const handler = createOpenOrderHandler(p.env, { log: c.log });
  const bad = recommendationBody({ recommendation_id: 'log-bad-1', action: 'HOLD' });
  await handler(sqsEvent([sqsRecord(bad)]), lambdaContext);
  const refused = c.lines.filter(([, m]) => m.startsWith('Recommendation refused'));
  expect(refused).toEqual([['WARN', expect.stringMatching(/^Recommendation refused \(schema\)/)]]);
  expect(c.lines.filter(([level]) => level === 'ERROR')).toEqual([]);
});
