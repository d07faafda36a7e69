/**
 * bin/app.ts: accounts come from context (cdk.json, overridable with -c), live trading needs an explicit
 * confirmation, and the number of accounts is configuration only.
 */
import type { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { ALPACA_LIVE_API_URL, ALPACA_PAPER_API_URL } from '../../lib/account-pipeline';
import { environmentOf, logicalId, pipelineOf, synthesize } from './synth';

const accountsJson = (...accounts: object[]): string => JSON.stringify(accounts);

describe('accounts from cdk.json', () => {
  const { stack, template } = synthesize();

  it('builds one pipeline per configured account (main, tiny) in one stack', () => {
    expect([...stack.pipelines.keys()]).toEqual(['main', 'tiny']);
    template.resourceCountIs('AWS::SQS::Queue', 4); // a queue and a DLQ each
    template.resourceCountIs('AWS::Lambda::Function', 4); // open-order and exit evaluator each
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.resourceCountIs('AWS::Events::Rule', 2);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 2);
    template.resourceCountIs('AWS::DynamoDB::Table', 1); // shared
    template.resourceCountIs('AWS::SNS::Topic', 1); // shared
  });

  it('passes each function its account object exactly as written in cdk.json', () => {
    const tiny = pipelineOf(stack, 'tiny');
    const written = (stack.node.tryGetContext('accounts') as Array<{ name: string }>).find(
      (a) => a.name === 'tiny',
    );
    for (const fn of [tiny.openOrderFunction, tiny.exitEvaluatorFunction]) {
      const env = environmentOf(template, logicalId(fn));
      expect(env.ACCOUNT_NAME).toBe('tiny');
      expect(JSON.parse(env.ACCOUNT_CONFIG as string)).toEqual(written);
    }
  });

  it('trades on the paper API: both accounts are paper', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ APCA_API_BASE_URL: ALPACA_PAPER_API_URL }) },
    });
  });
});

describe('accounts from -c accounts=<JSON>', () => {
  it('adds a third account with no code change: three pipelines, each complete', () => {
    const { stack, template } = synthesize({
      accounts: accountsJson(
        { name: 'main' },
        { name: 'tiny' },
        { name: 'third', sweep_interval_minutes: 5 },
      ),
    });

    expect([...stack.pipelines.keys()]).toEqual(['main', 'tiny', 'third']);
    template.resourceCountIs('AWS::SQS::Queue', 6);
    template.resourceCountIs('AWS::Lambda::Function', 6);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    template.resourceCountIs('AWS::Events::Rule', 3);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 3);
    const third = pipelineOf(stack, 'third');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(third.exitEvaluatorFunction), 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(third.queue), 'Arn'] },
      FunctionName: { Ref: logicalId(third.openOrderFunction) },
    });
  });

  it('replaces the accounts of cdk.json rather than adding to them', () => {
    const { stack, template } = synthesize({ accounts: accountsJson({ name: 'solo' }) });

    expect([...stack.pipelines.keys()]).toEqual(['solo']);
    template.resourceCountIs('AWS::Lambda::Function', 2);
  });

  it('defaults an account without "paper" to the paper API and its secret to ops-pipeline/alpaca/<name>', () => {
    const { stack, template } = synthesize({ accounts: accountsJson({ name: 'solo' }) });

    const env = environmentOf(template, logicalId(pipelineOf(stack, 'solo').openOrderFunction));
    expect(env.APCA_API_BASE_URL).toBe(ALPACA_PAPER_API_URL);
    expect(env.ALPACA_SECRET_ID).toBe('ops-pipeline/alpaca/solo');
  });

  it('refuses a value that is not JSON, saying so', () => {
    expect(() => synthesize({ accounts: '[{name: main}]' })).toThrow(/context "accounts": not JSON/);
  });

  it('refuses an invalid account, naming the account and the field', () => {
    expect(() => synthesize({ accounts: accountsJson({ name: 'main', sweep_interval_minutes: 0 }) })).toThrow(
      /"main".*sweep_interval_minutes/,
    );
  });

  it('refuses two accounts with the same name', () => {
    expect(() => synthesize({ accounts: accountsJson({ name: 'main' }, { name: 'main' }) })).toThrow(
      /"main" appears twice/,
    );
  });

  it('refuses an empty list', () => {
    expect(() => synthesize({ accounts: '[]' })).toThrow(/non-empty/);
  });
});

describe('live trading', () => {
  // On the opra feed: a live account on the default indicative feed needs its own confirmation
  // (test/infra/market-data-feed.test.ts).
  const live = accountsJson({ name: 'main', paper: false, market_data: { feed: 'opra' } }, { name: 'tiny' });

  it('fails synth for a live account without -c allowLive=true, naming the account and the flag', () => {
    expect(() => synthesize({ accounts: live })).toThrow(
      /Account "main" has "paper": false.*-c allowLive=true/,
    );
  });

  it('fails synth with allowLive=false as well', () => {
    expect(() => synthesize({ accounts: live, allowLive: 'false' })).toThrow(/allowLive=true/);
  });

  it('deploys the live account against the live API once confirmed, leaving paper accounts on paper', () => {
    const { stack, template } = synthesize({
      accounts: live,
      allowLive: 'true',
      alarmEmail: 'ops@example.com',
    });

    const main = pipelineOf(stack, 'main');
    for (const fn of [main.openOrderFunction, main.exitEvaluatorFunction]) {
      expect(environmentOf(template, logicalId(fn)).APCA_API_BASE_URL).toBe(ALPACA_LIVE_API_URL);
    }
    const tiny = pipelineOf(stack, 'tiny');
    expect(environmentOf(template, logicalId(tiny.openOrderFunction)).APCA_API_BASE_URL).toBe(
      ALPACA_PAPER_API_URL,
    );
  });

  it('accepts the boolean form of the confirmation (cdk.json) too', () => {
    expect(() =>
      synthesize({ accounts: live, allowLive: true, alarmEmail: 'ops@example.com' }),
    ).not.toThrow();
  });

  it('refuses a confirmation that is neither true nor false', () => {
    expect(() => synthesize({ accounts: live, allowLive: 'yes' })).toThrow(
      /context "allowLive": expected true or false, got "yes"/,
    );
  });
});

describe('an alarm topic nobody reads', () => {
  const live = accountsJson({ name: 'main', paper: false, market_data: { feed: 'opra' } }, { name: 'tiny' });
  const noSubscriberWarnings = (stack: Stack) =>
    Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('alarm topic has no subscriber'));

  it('warns at synth without -c alarmEmail (paper accounts), naming the flag', () => {
    const { stack } = synthesize();
    const warnings = noSubscriberWarnings(stack);
    expect(warnings.map((w) => w.id)).toEqual(['/OpsPipeline']);
    expect(warnings[0].entry.data).toMatch(/-c alarmEmail=/);
  });

  it('does not warn with -c alarmEmail', () => {
    expect(noSubscriberWarnings(synthesize({ alarmEmail: 'ops@example.com' }).stack)).toEqual([]);
  });

  it('refuses a live account without a subscriber, naming the account and both ways out', () => {
    expect(() => synthesize({ accounts: live, allowLive: 'true' })).toThrow(
      /Account "main" trades real money \("paper": false\), but the alarm topic has no subscriber.*-c alarmEmail=.*-c allowNoAlarmSubscriber=true/,
    );
    expect(() => synthesize({ accounts: live, allowLive: 'true', allowNoAlarmSubscriber: 'false' })).toThrow(
      /allowNoAlarmSubscriber=true/,
    );
  });

  it('asks for -c allowLive=true first: the live confirmation comes before the subscriber', () => {
    expect(() => synthesize({ accounts: live })).toThrow(/-c allowLive=true/);
  });

  it('accepts a live account without a subscriber with -c allowNoAlarmSubscriber=true, and still warns', () => {
    const { stack } = synthesize({ accounts: live, allowLive: 'true', allowNoAlarmSubscriber: 'true' });
    expect(noSubscriberWarnings(stack)).toHaveLength(1);
  });

  it('refuses an override that is neither true nor false', () => {
    expect(() => synthesize({ accounts: live, allowLive: 'true', allowNoAlarmSubscriber: 'yes' })).toThrow(
      /context "allowNoAlarmSubscriber": expected true or false, got "yes"/,
    );
  });
});

describe('optional context', () => {
  it('subscribes -c alarmEmail to the alarm topic', () => {
    const { template } = synthesize({ alarmEmail: 'ops@example.com' });

    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('adds no subscription by default', () => {
    synthesize().template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('turns the table stream on with -c positionsTableStream=true', () => {
    const { template } = synthesize({ positionsTableStream: 'true' });

    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });
});
