/**
 * `npx tsx bench/fire-and-forget.ts [--events 20000]`
 *
 * Fire and Forget benchmark: events per second end to end through the local Pub/Sub API stand-in (TLS gRPC, Avro)
 * into the invoicing consumer, with durable checkpoints and idempotent writes (one SQLite transaction per
 * FetchResponse: invoice + ledger + checkpoint, WAL, file on disk). The events are published before the subscriber
 * starts (EARLIEST), so the figure is the subscriber's drain rate, not the publisher's. Results go to
 * `bench/results/fire-and-forget.{md,json}`. Not part of `npm test`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, seedDatabase } from '../remote-system/src/db';
import { loadFireAndForgetConfig } from '../remote-system/src/fire-and-forget/config';
import { startInvoiceSubscriber } from '../remote-system/src/fire-and-forget/runner';
import { startPubSubStandIn } from '../remote-system/test/stand-ins/pubsub-server';

const CONTRACT = path.resolve(
  __dirname,
  '../force-app/main/fire-and-forget/staticresources/FireAndForgetContract.json'
);
const TOPIC = '/event/Opportunity_Closed_Won__e';

async function main(): Promise<void> {
  const flag = process.argv.indexOf('--events');
  const events = flag >= 0 ? Number(process.argv[flag + 1]) : 20_000;
  const contract = JSON.parse(fs.readFileSync(CONTRACT, 'utf8')) as {
    avroSchema: never;
    examples: { closedWon: Record<string, unknown> };
  };
  const standIn = await startPubSubStandIn({
    topics: [{ topicName: TOPIC, schema: contract.avroSchema }],
    acceptedTokens: ['bench-token'],
    maxEventsPerResponse: 100
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faf-bench-'));
  const caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, standIn.caPem);
  const db = openDatabase(path.join(dir, 'erp.sqlite'));
  seedDatabase(db, { customers: 25, products: 12, orders: 0, shipments: 0 });
  for (let start = 0; start < events; start += 1000) {
    standIn.publish(
      TOPIC,
      Array.from({ length: Math.min(1000, events - start) }, (_, i) => ({
        ...contract.examples.closedWon,
        Opportunity_Id__c: `006${String(start + i).padStart(12, '0')}AAA`,
        Correlation_Id__c: `bench-${start + i}`
      }))
    );
  }
  const config = loadFireAndForgetConfig({
    SF_PUBSUB_ENDPOINT: standIn.endpoint,
    SF_PUBSUB_CA_FILE: caFile,
    FIRE_AND_FORGET_WRITEBACK: 'false'
  });
  const session = {
    instanceUrl: 'https://bench.my.salesforce.com',
    accessToken: 'bench-token',
    apiVersion: '67.0',
    orgId: standIn.tenantId
  };
  const started = process.hrtime.bigint();
  const running = startInvoiceSubscriber({
    config,
    db,
    auth: { session: async () => session, refresh: async () => session }
  });
  await running.subscriber.waitFor((s) => s.applied === events, 600_000);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await running.stop();
  const invoices = db
    .prepare("SELECT count(*) FROM invoices WHERE invoice_number LIKE 'INV-F%'")
    .pluck()
    .get();
  const result = {
    pattern: 'fire-and-forget',
    measuredAt: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    events,
    invoices,
    seconds: Number(seconds.toFixed(3)),
    eventsPerSecond: Math.round(events / seconds),
    batchSize: config.batchSize,
    standInMaxOutstanding: standIn.stats.maxOutstanding
  };
  db.close();
  await standIn.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const results = path.resolve(__dirname, 'results');
  fs.mkdirSync(results, { recursive: true });
  fs.writeFileSync(
    path.join(results, 'fire-and-forget.json'),
    `${JSON.stringify(result, null, 2)}\n`
  );
  fs.writeFileSync(
    path.join(results, 'fire-and-forget.md'),
    `# Fire and Forget benchmark\n\n${result.events} events through the local Pub/Sub API stand-in (TLS gRPC, Avro) ` +
      `into the invoicing consumer (invoice + event-id ledger + checkpoint in one SQLite transaction per batch of ` +
      `${result.batchSize}), ${result.cpus} CPUs, Node ${result.node}, ${result.measuredAt}:\n\n` +
      `| events | invoices | seconds | events/s |\n| --- | --- | --- | --- |\n` +
      `| ${result.events} | ${String(result.invoices)} | ${result.seconds} | ${result.eventsPerSecond} |\n\n` +
      `The stand-in and the subscriber share the machine's cores; flow control keeps at most ${result.batchSize} ` +
      `events owed (largest seen: ${result.standInMaxOutstanding}).\n`
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
