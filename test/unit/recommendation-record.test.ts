import type { SQSRecord } from 'aws-lambda';
import { deliveryOf, symbolsOfBatch } from '../../shared/handlers/recommendation-record';

function record(
  o: Partial<Omit<SQSRecord, 'attributes'>> & { attributes?: Partial<SQSRecord['attributes']> } = {},
): SQSRecord {
  return {
    messageId: 'm-1',
    receiptHandle: 'rh-1',
    body: '{"recommendation_id":"r1"}',
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:recommendations-main',
    awsRegion: 'us-east-1',
    messageAttributes: {},
    ...o,
    attributes: {
      ApproximateReceiveCount: '3',
      SentTimestamp: '1780326000000',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '1780326000001',
      ...o.attributes,
    },
  };
}

describe('deliveryOf (the handler layer takes the SQS record apart)', () => {
  it('reads the message id, receive count, send time, receipt handle and a body excerpt', () => {
    expect(deliveryOf(record())).toEqual({
      messageId: 'm-1',
      receiveCount: 3,
      sentAt: new Date(1780326000000),
      receiptHandle: 'rh-1',
      bodyExcerpt: '{"recommendation_id":"r1"}',
    });
  });

  it('keeps the first 1,000 characters of a long body', () => {
    expect(deliveryOf(record({ body: 'x'.repeat(5000) })).bodyExcerpt).toHaveLength(1000);
  });

  it('treats a missing or unreadable receive count as the first delivery and drops an unreadable send time', () => {
    const d = deliveryOf(record({ attributes: { ApproximateReceiveCount: 'abc', SentTimestamp: '' } }));
    expect(d.receiveCount).toBe(1);
    expect(d).not.toHaveProperty('sentAt');
  });
});

describe('symbolsOfBatch', () => {
  it('collects the option symbols the bodies name, skipping bad bodies', () => {
    const records = [
      record({ body: '{"option_symbol":"GOOGL271217C00340000"}' }),
      record({ body: '{' }),
      record({ body: '{"option_symbol":"GOOGL271217C00340000"}' }),
      record({ body: '{"ticker":"GOOGL"}' }),
    ];
    expect(symbolsOfBatch(records)).toEqual(['GOOGL271217C00340000']);
  });
});
