import { loadConfig, loadEnvFile } from '../config';
import { openDatabase } from '../db';
import { createSalesforceAuth } from '../salesforce/auth';
import { loadEventDrivenConfig } from './config';
import { startEventDrivenSubscribers } from './runner';
import { readStatus } from './status';

/**
 * `npm run event-driven:subscribe`: runs the configured consumers (`EVENT_DRIVEN_CONSUMERS`, default all three)
 * against the org in the `SF_*` settings (or a local stand-in through `SF_PUBSUB_ENDPOINT` + `SF_PUBSUB_CA_FILE`),
 * printing batches, retries, dead letters and reconnects, and each consumer's position every 10 seconds.
 */
async function main(): Promise<void> {
  loadEnvFile();
  const app = loadConfig();
  const config = loadEventDrivenConfig(app.env);
  const auth = createSalesforceAuth(app.salesforce);
  const db = openDatabase(app.databasePath);
  const print = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const totals = () => {
    for (const c of readStatus(db, config.topic).consumers) {
      print(
        `${c.name.padEnd(20)} handled ${c.eventsHandled} | behind ${c.eventsBehind} | dead letters ${c.deadLettersOpen} | re-syncs ${c.resyncRequestsOpen} | knob ${c.knob}`
      );
    }
  };
  print(
    `subscribing ${config.consumers.join(', ')} to ${config.topic} at ${config.pubsub.endpoint}`
  );
  const running = startEventDrivenSubscribers({
    config,
    db,
    auth,
    onNotify: (consumer, n) => {
      if (n.kind !== 'keepalive') print(`[${consumer}] [${n.kind}] ${n.message}`);
    }
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
