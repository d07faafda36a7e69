import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Properties of {@link AlarmTopic}. */
export interface AlarmTopicProps {
  /**
   * An address subscribed to the topic (the recipient must confirm the subscription e-mail).
   * @default - no subscription; subscribe after the deploy (see the README)
   */
  readonly email?: string;
}

/** A plausible e-mail address; the real check is the confirmation mail. */
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The KMS key of one of the stack's notification topics (`Key` under `scope`), rotated. */
export function notificationTopicKey(scope: Construct, description: string): Key {
  return new Key(scope, 'Key', {
    description,
    enableKeyRotation: true,
    // The key protects notifications in transit through SNS, not stored data: nothing to keep.
    removalPolicy: RemovalPolicy.DESTROY,
    pendingWindow: Duration.days(7),
  });
}

/**
 * The SNS topic every alarm notifies. Encrypted with its own KMS key, because CloudWatch cannot publish
 * to a topic encrypted with the AWS-managed `alias/aws/sns` key; the key and the topic policy both let
 * CloudWatch (and only CloudWatch, of the AWS services) publish.
 */
export class AlarmTopic extends Construct {
  /** The topic. */
  readonly topic: ITopic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    if (props.email !== undefined && !EMAIL.test(props.email)) {
      throw new Error(`AlarmTopic: email must be an e-mail address, got "${props.email}"`);
    }

    const key = notificationTopicKey(this, 'Encrypts the ops-pipeline alarm topic');
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        // As on the topic policy: only alarms of this AWS account (no confused deputy).
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );

    const topic = new Topic(this, 'Topic', {
      displayName: 'ops-pipeline alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one, so CloudWatch needs an explicit grant.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    if (props.email) topic.addSubscription(new EmailSubscription(props.email));

    this.topic = topic;
  }
}
