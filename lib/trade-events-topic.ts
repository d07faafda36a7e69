import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { EMAIL, notificationTopicKey } from './alarm-topic';

/** Properties of {@link TradeEventsTopic}. */
export interface TradeEventsTopicProps {
  /** An address subscribed to the topic (the recipient must confirm the subscription e-mail). */
  readonly email: string;
}

/**
 * The deployment's topic of trade events (positions opened and closed, recommendations refused, kill switch
 * changes): one JSON message per event with a short subject line, for e-mail, chat or another queue. Only
 * the pipeline's functions publish (their roles are granted); encrypted with its own key, TLS only.
 */
export class TradeEventsTopic extends Construct {
  /** The topic. */
  readonly topic: ITopic;
  /** The key the topic is encrypted with. */
  readonly key: IKey;

  constructor(scope: Construct, id: string, props: TradeEventsTopicProps) {
    super(scope, id);
    if (!EMAIL.test(props.email)) {
      throw new Error(`TradeEventsTopic: email must be an e-mail address, got "${props.email}"`);
    }
    const key = notificationTopicKey(this, 'Encrypts the ops-pipeline trade events topic');
    const topic = new Topic(this, 'Topic', {
      displayName: 'ops-pipeline trade events',
      masterKey: key,
      enforceSSL: true,
    });
    topic.addSubscription(new EmailSubscription(props.email));
    this.topic = topic;
    this.key = key;
  }

  /**
   * Lets `grantee` publish: `sns:Publish` on this topic and the two key actions SNS needs for a publisher
   * (named one by one: the topic's own `grantPublish` grants `kms:GenerateDataKey*`, a wildcard).
   */
  grantPublish(grantee: IGrantable): void {
    Grant.addToPrincipal({ grantee, actions: ['sns:Publish'], resourceArns: [this.topic.topicArn] });
    this.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
  }
}
