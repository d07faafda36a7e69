/**
 * SQS stand-in for local mode: fauxqs 1.9 on 127.0.0.1 only, with one recommendations queue and one
 * dead-letter queue per account, redriven as the CDK stack does (lib/account-pipeline.ts).
 *
 * fauxqs runs in a child process (sqs-server-child.mjs): it is an ES module, which jest's CommonJS module
 * system cannot load in-process, and one code path for `npm start` and the tests is worth ~0.3 s of
 * start-up. The child binds loopback and fixes the queue URLs' host (the two traps of
 * /work/shared/LOCAL-STANDINS.md), ignores Ctrl-C (this process stops it), and exits when this process
 * goes away, even when it is killed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';

/** One account's queues. */
export interface AccountQueues {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

/** Settings of the recommendations queue (the DLQ takes the defaults). */
export interface RecommendationsQueueSettings {
  /** Seconds a received message stays invisible. */
  readonly visibilityTimeoutSeconds: number;
  /** Receives before the queue moves a message to the DLQ. */
  readonly maxReceiveCount: number;
}

export interface LocalSqs {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly port: number;
  /** A client for this endpoint (dummy credentials; nothing leaves the machine). */
  readonly client: SQSClient;
  /** Creates `recommendations-<account>` and `recommendations-<account>-dlq` with the redrive policy. */
  createAccountQueues(account: string, settings: RecommendationsQueueSettings): Promise<AccountQueues>;
  /** Visible and in-flight messages of a queue. */
  depth(queueUrl: string): Promise<{ visible: number; inFlight: number }>;
  close(): Promise<void>;
}

/** Starts fauxqs on 127.0.0.1 (an ephemeral port unless `port` is given). */
export async function startLocalSqs(opts: { port?: number } = {}): Promise<LocalSqs> {
  const child = fork(path.join(__dirname, 'sqs-server-child.mjs'), [], {
    // Not the parent's loaders (tsx, jest): the child is plain JavaScript.
    execArgv: [],
    env: { ...process.env, FAUXQS_PORT: String(opts.port ?? 0) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const port = await childPort(child);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localSqsClient(endpoint);

  const attributes = async (queueUrl: string, names: QueueAttributeName[]) =>
    (await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names })))
      .Attributes ?? {};

  return {
    endpoint,
    port,
    client,
    async createAccountQueues(account, settings) {
      const dlq = await client.send(
        new CreateQueueCommand({
          QueueName: `recommendations-${account}-dlq`,
          Attributes: { MessageRetentionPeriod: String(14 * 86_400) },
        }),
      );
      const dlqArn = (await attributes(dlq.QueueUrl!, ['QueueArn'])).QueueArn!;
      const queue = await client.send(
        new CreateQueueCommand({
          QueueName: `recommendations-${account}`,
          Attributes: {
            VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: dlqArn,
              maxReceiveCount: settings.maxReceiveCount,
            }),
          },
        }),
      );
      const queueArn = (await attributes(queue.QueueUrl!, ['QueueArn'])).QueueArn!;
      return { queueUrl: queue.QueueUrl!, queueArn, dlqUrl: dlq.QueueUrl!, dlqArn };
    },
    async depth(queueUrl) {
      const a = await attributes(queueUrl, [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ]);
      return {
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    },
    async close() {
      client.destroy();
      // fauxqs cancels pending long polls in its preClose hook and force-closes connections.
      await stopChild(child);
    },
  };
}

/** Resolves with the port the child listens on, or rejects with what it printed before dying. */
function childPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fauxqs did not start within 15 s: ${stderr}`));
    }, 15_000);
    child.once('message', (m: { port?: number }) => {
      clearTimeout(timer);
      if (typeof m?.port === 'number') resolve(m.port);
      else reject(new Error(`fauxqs sent an unexpected message: ${JSON.stringify(m)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fauxqs exited with code ${code} before listening: ${stderr.trim()}`));
    });
  });
}

/** Asks the child to close its server and waits for it to exit (killing it after 5 s). */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send('stop');
    else child.kill('SIGTERM');
  });
}

/** An SQS client for a local endpoint (dummy credentials, fixed region). */
export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}
