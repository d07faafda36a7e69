// The fauxqs process of local mode (see sqs-server.ts, which starts and stops it). A child process because
// fauxqs is an ES module that jest's CommonJS module system cannot load in-process.
//
// Bound to 127.0.0.1 with buildApp() + listen (its startFauxqs() binds 0.0.0.0), and its SqsStore built
// with host = undefined so queue URLs carry the address the client called (127.0.0.1:PORT), not a
// *.localhost name that does not resolve here.
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildApp } from 'fauxqs';

const dist = path.dirname(fileURLToPath(import.meta.resolve('fauxqs')));
const load = (rel) => import(pathToFileURL(path.join(dist, rel)).href);
const { SqsStore } = await load('sqs/sqsStore.js');
const { SnsStore } = await load('sns/snsStore.js');
const { S3Store } = await load('s3/s3Store.js');

const sqsStore = new SqsStore();
sqsStore.host = undefined;
const app = buildApp({
  logger: false,
  stores: { sqsStore, snsStore: new SnsStore(), s3Store: new S3Store() },
});
await app.listen({ port: Number(process.env.FAUXQS_PORT ?? 0), host: '127.0.0.1' });

let closing = null;
const shutdown = () => {
  closing ??= app.close().finally(() => process.exit(0));
  return closing;
};
// Ctrl-C reaches the whole process group: the parent decides when to stop us (it sends 'stop').
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => void shutdown());
process.on('message', (m) => m === 'stop' && void shutdown());
// The parent is gone (even killed with SIGKILL): stop listening.
process.on('disconnect', () => void shutdown());
process.send({ port: app.server.address().port });
