/**
 * Issue 16, part 4: `-c tradeEventsEmail=...` adds an encrypted, TLS-only topic of trade events with that
 * address subscribed; both functions of every account may publish to it and are told its ARN. Without the
 * context there is no such topic and the functions have no TRADE_EVENTS_TOPIC_ARN.
 */
import {
  build,
  environmentOf,
  logicalId,
  pipelineOf,
  statementsOfRole,
  actionsOf,
  synthesize,
} from './synth';

const ADDRESS = 'trades@example.com';

describe('with -c tradeEventsEmail', () => {
  const { stack, template } = synthesize({ tradeEventsEmail: ADDRESS });
  const topics = template.findResources('AWS::SNS::Topic', {
    Properties: { DisplayName: 'ops-pipeline trade events' },
  });
  const topicId = Object.keys(topics)[0];

  it('adds one trade events topic beside the alarm topic, encrypted with its own key', () => {
    template.resourceCountIs('AWS::SNS::Topic', 2);
    expect(Object.keys(topics)).toHaveLength(1);
    const kms = (topics[topicId] as { Properties: { KmsMasterKeyId: unknown } }).Properties.KmsMasterKeyId;
    expect(kms).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^TradeEventsKey/), 'Arn'] });
  });

  it('subscribes the address by e-mail', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: ADDRESS,
      TopicArn: { Ref: topicId },
    });
  });

  it('refuses publishing without TLS', () => {
    const policies = template.findResources('AWS::SNS::TopicPolicy', {
      Properties: { Topics: [{ Ref: topicId }] },
    });
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties
          .PolicyDocument.Statement,
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('tells both functions of each account the topic and lets them publish to it (and use its key)', () => {
    for (const name of ['main', 'tiny']) {
      const pipeline = pipelineOf(stack, name);
      for (const fn of [pipeline.openOrderFunction, pipeline.exitEvaluatorFunction]) {
        expect(environmentOf(template, logicalId(fn))).toMatchObject({
          TRADE_EVENTS_TOPIC_ARN: { Ref: topicId },
        });
        const statements = statementsOfRole(template, logicalId(fn.role!));
        const publish = statements.find((s) => actionsOf(s).includes('sns:Publish'));
        expect(publish?.Resource).toEqual({ Ref: topicId });
        const key = statements.find((s) => actionsOf(s).includes('kms:GenerateDataKey'));
        expect(key?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^TradeEventsKey/), 'Arn'] });
      }
    }
  });

  it('outputs the topic ARN', () => {
    template.hasOutput('TradeEventsTopicArn', { Value: { Ref: topicId } });
  });

  it('keeps cdk-nag clean', () => {
    const { app } = build({ tradeEventsEmail: ADDRESS });
    expect(() => app.synth()).not.toThrow();
  });
});

describe('without it', () => {
  const { stack, template } = synthesize();

  it('has no trade events topic, no subscription, and the functions no topic ARN', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const main = pipelineOf(stack, 'main');
    for (const fn of [main.openOrderFunction, main.exitEvaluatorFunction]) {
      expect(environmentOf(template, logicalId(fn))).not.toHaveProperty('TRADE_EVENTS_TOPIC_ARN');
      const statements = statementsOfRole(template, logicalId(fn.role!));
      expect(statements.flatMap(actionsOf)).not.toContain('sns:Publish');
    }
  });

  it('refuses an address that is not one, and a value that is not a string', () => {
    expect(() => synthesize({ tradeEventsEmail: 'not-an-address' })).toThrow(/e-mail address/);
    expect(() => synthesize({ tradeEventsEmail: 42 })).toThrow(
      /context "tradeEventsEmail": expected a string/,
    );
  });
});
