/**
 * cdk-nag's AwsSolutions pack, registered by bin/app.ts, runs at synth: no unacknowledged finding, and
 * every acknowledgment is deliberate and explained.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { build } from './synth';

/** `aws:cdk:acknowledged-rules` metadata: rule ID → reason, with the construct it was recorded on. */
function acknowledgments(root: App) {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding on the configured app', () => {
    const { app } = build();

    const assembly = app.synth(); // throws "Validation failed" with the report on any finding

    const report = JSON.parse(
      fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
    );
    expect(report.pluginReports.flatMap((r: { violations: unknown[] }) => r.violations)).toEqual([]);
  });

  it('reports no finding with three accounts, one of them live', () => {
    const accounts = JSON.stringify([
      { name: 'main', paper: false, market_data: { feed: 'opra' } },
      { name: 'tiny' },
      { name: 'third' },
    ]);
    const { app } = build({ accounts, allowLive: 'true', alarmEmail: 'ops@example.com' });

    expect(() => app.synth()).not.toThrow();
  });

  it('is really checking: a queue without a DLQ or TLS policy fails synth (control)', () => {
    const { app, stack } = build();
    new Queue(stack, 'Unprotected');

    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3|AwsSolutions-SQS4/);
  });

  it('acknowledges only the Node.js 22 runtime finding, on each function, with a reason', () => {
    const { app } = build();

    const found = acknowledgments(app);
    expect(found.map((a) => a.id)).toEqual(Array(4).fill(expect.stringMatching(/AwsSolutions-L1$/)));
    for (const { path: at, reason } of found) {
      expect(at).toMatch(/\/(OpenOrder|ExitEvaluator)\/Function$/);
      expect(reason.length).toBeGreaterThan(40);
      expect(reason).toMatch(/Node\.js 22/);
    }
  });
});
