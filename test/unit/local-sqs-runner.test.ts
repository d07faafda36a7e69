/** The Lambda-shaped SQS event the local poller builds, and which records it leaves on the queue. */
import type { SQSEvent } from 'aws-lambda';
import { failedMessageIds, toSqsEvent } from '../../local/sqs-runner';

const ARN = 'arn:aws:sqs:us-east-1:000000000000:recommendations-main';

function event(ids: string[]): SQSEvent {
  return toSqsEvent(
    ids.map((id) => ({ MessageId: id, ReceiptHandle: `rh-${id}`, Body: '{}', Attributes: {} })),
    ARN,
    'us-east-1',
  );
}

describe('toSqsEvent', () => {
  it("builds Lambda's record shape, with the receive count and sent time the handler reads", () => {
    const e = toSqsEvent(
      [
        {
          MessageId: 'm1',
          ReceiptHandle: 'rh1',
          Body: '{"x":1}',
          MD5OfBody: 'md5',
          Attributes: {
            ApproximateReceiveCount: '3',
            SentTimestamp: '1700000000000',
            SenderId: 'AID',
            ApproximateFirstReceiveTimestamp: '1700000000500',
          },
          MessageAttributes: { trace: { DataType: 'String', StringValue: 'abc' } },
        },
      ],
      ARN,
      'us-east-1',
    );

    expect(e.Records).toEqual([
      {
        messageId: 'm1',
        receiptHandle: 'rh1',
        body: '{"x":1}',
        attributes: {
          ApproximateReceiveCount: '3',
          SentTimestamp: '1700000000000',
          SenderId: 'AID',
          ApproximateFirstReceiveTimestamp: '1700000000500',
        },
        messageAttributes: {
          trace: {
            dataType: 'String',
            stringValue: 'abc',
            binaryValue: undefined,
            stringListValues: [],
            binaryListValues: [],
          },
        },
        md5OfBody: 'md5',
        eventSource: 'aws:sqs',
        eventSourceARN: ARN,
        awsRegion: 'us-east-1',
      },
    ]);
  });
});

describe('failedMessageIds', () => {
  it('leaves exactly the records named in batchItemFailures', () => {
    expect(
      failedMessageIds(event(['a', 'b', 'c']), { batchItemFailures: [{ itemIdentifier: 'b' }] }),
    ).toEqual(new Set(['b']));
  });

  it('leaves none when the response lists no failures (or is empty)', () => {
    expect(failedMessageIds(event(['a']), { batchItemFailures: [] })).toEqual(new Set());
    expect(failedMessageIds(event(['a']), undefined)).toEqual(new Set());
  });

  it('leaves the whole batch when a failure names no record of it, as Lambda does', () => {
    expect(failedMessageIds(event(['a', 'b']), { batchItemFailures: [{ itemIdentifier: 'zzz' }] })).toEqual(
      new Set(['a', 'b']),
    );
    expect(failedMessageIds(event(['a', 'b']), { batchItemFailures: [{ itemIdentifier: '' }] })).toEqual(
      new Set(['a', 'b']),
    );
  });
});
