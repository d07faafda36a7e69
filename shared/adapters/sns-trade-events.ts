/**
 * {@link TradeEvents} on an SNS topic: one JSON message per event, with a short human subject line and the
 * event's type and account as message attributes (for subscription filter policies). One attempt with a
 * short deadline: a notification is never worth holding up a trade (callers also bound and swallow it,
 * `emitTradeEvent`).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { tradeEventSubject, type TradeEvent } from '../domain/trade-events';
import type { TradeEvents } from '../ports';

/** How long one publish may take before it is abandoned. */
const SNS_PUBLISH_TIMEOUT_MS = 1_500;

export class SnsTradeEvents implements TradeEvents {
  constructor(
    private readonly client: Pick<SNSClient, 'send'>,
    private readonly topicArn: string,
    private readonly timeoutMs = SNS_PUBLISH_TIMEOUT_MS,
  ) {}

  async publish(event: TradeEvent): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: tradeEventSubject(event),
        Message: JSON.stringify(event),
        MessageAttributes: {
          type: { DataType: 'String', StringValue: event.type },
          account: { DataType: 'String', StringValue: event.account },
        },
      }),
      { abortSignal: AbortSignal.timeout(this.timeoutMs) },
    );
  }
}
