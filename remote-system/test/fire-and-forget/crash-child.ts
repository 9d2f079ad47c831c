/**
 * A subscriber process for the crash test (`crash.test.ts`), started with `node --import tsx`. It runs the real
 * Fire and Forget subscriber (config from the environment, the database at CHILD_DATABASE_PATH) and reports over IPC.
 * With CRASH_AT=<correlation id>, once the invoicing consumer has written that event's invoice, and before the batch's
 * transaction (which holds the checkpoint) can commit, it tells the parent and blocks, so the parent can kill it there.
 */
import { openDatabase } from '../../src/db';
import { loadFireAndForgetConfig } from '../../src/fire-and-forget/config';
import { createInvoiceConsumer } from '../../src/fire-and-forget/invoicing';
import { startInvoiceSubscriber } from '../../src/fire-and-forget/runner';
import type { EventConsumer } from '../../src/salesforce/pubsub';

const send = (message: Record<string, unknown>) => process.send?.(message);
const config = loadFireAndForgetConfig();
const db = openDatabase(process.env.CHILD_DATABASE_PATH!);
const crashAt = process.env.CRASH_AT;
const invoicing = createInvoiceConsumer({
  name: config.consumerName,
  topic: config.topic,
  startFrom: config.startFrom
});
const consumer: EventConsumer = {
  ...invoicing,
  handle(event, database) {
    const outcome = invoicing.handle(event, database);
    if (crashAt !== undefined && event.payload.Correlation_Id__c === crashAt) {
      const written = database
        .prepare('SELECT count(*) FROM invoices WHERE salesforce_opportunity_id = ?')
        .pluck()
        .get(event.payload.Opportunity_Id__c);
      send({ kind: 'invoice-written', correlationId: crashAt, written });
      // Block this thread inside the open transaction until the parent kills the process.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    }
    return outcome;
  }
};
const session = {
  instanceUrl: 'https://stand-in.my.salesforce.com',
  accessToken: process.env.CHILD_TOKEN!,
  apiVersion: '67.0',
  orgId: '00D000000000001AAA'
};
const running = startInvoiceSubscriber({
  config,
  db,
  auth: {
    session: async () => session,
    refresh: async () => {
      throw new Error('the crash-test child has a fixed token');
    }
  },
  consumer,
  onNotify: (n) => {
    if (n.kind === 'batch') send({ kind: 'batch', applied: running.subscriber.stats.applied });
  }
});
send({ kind: 'started' });
process.on('message', (message: { kind?: string }) => {
  if (message.kind === 'stop') {
    void running.stop().then(() => {
      db.close();
      process.exit(0);
    });
  }
});
