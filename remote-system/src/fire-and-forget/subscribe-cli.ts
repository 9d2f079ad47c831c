import { loadConfig, loadEnvFile } from '../config';
import { openDatabase } from '../db';
import { createSalesforceAuth } from '../salesforce/auth';
import { loadFireAndForgetConfig } from './config';
import { startInvoiceSubscriber } from './runner';
import { readStatus } from './status';

/**
 * `npm run subscribe`: runs the Fire and Forget subscriber against the org in the `SF_*` settings (or a local
 * stand-in through `SF_PUBSUB_ENDPOINT` + `SF_PUBSUB_CA_FILE`), printing each batch, dead letter, reconnect and
 * write-back, and the totals every 10 seconds and on Ctrl+C.
 */
async function main(): Promise<void> {
  loadEnvFile();
  const app = loadConfig();
  const config = loadFireAndForgetConfig();
  const auth = createSalesforceAuth(app.salesforce);
  const db = openDatabase(app.databasePath);
  const print = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const totals = () => {
    const s = readStatus(db, config.consumerName, config.topic);
    print(
      `events received ${s.eventsReceived} | invoices created ${s.invoicesCreated} | duplicates ignored ` +
        `${s.duplicatesIgnored} (+${s.alreadyInvoiced} already invoiced) | dead letters open ${s.deadLetters.open} | ` +
        `write-back pending ${s.writeBack.pending} failed ${s.writeBack.failed}`
    );
  };
  print(`subscribing ${config.consumerName} to ${config.topic} at ${config.pubsub.endpoint}`);
  const running = startInvoiceSubscriber({
    config,
    db,
    auth,
    onNotify: (n) => {
      if (n.kind !== 'keepalive') print(`[${n.kind}] ${n.message}`);
    },
    onWriteBack: (r) => print(`[write-back] ${r.succeeded}/${r.sent} Opportunities updated`)
  });
  const timer = setInterval(totals, 10_000);
  const shutdown = async () => {
    clearInterval(timer);
    await running.stop();
    totals();
    db.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
