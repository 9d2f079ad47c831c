import { loadConfig, loadEnvFile } from '../config';
import { openDatabase } from '../db';
import { createSalesforceAuth } from '../salesforce/auth';
import { loadUiUpdateConfig } from './config';
import { UiUpdateService } from './service';

/**
 * `npm run simulate:shipments -- [--rate N] [--duration S]`: moves ERP shipments through their statuses at N changes
 * per second (default `UI_UPDATE_RATE`) and publishes each change to the org in the `SF_*` settings (or a local
 * stand-in through `SF_PUBSUB_ENDPOINT` + `SF_PUBSUB_CA_FILE`). Prints every retry, rejection and failure as it
 * happens, the totals every 5 seconds, and a summary on Ctrl+C or after `--duration` seconds.
 */
function parseArgs(
  argv: readonly string[],
  fallbackRate: number
): { rate: number; durationS?: number } {
  let rate = fallbackRate;
  let durationS: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = Number(inline ?? argv[++i]);
    if (flag === '--rate' && Number.isInteger(value) && value >= 1 && value <= 1000) rate = value;
    else if (flag === '--duration' && Number.isFinite(value) && value > 0) durationS = value;
    else
      throw new Error(
        `usage: simulate:shipments [--rate 1..1000] [--duration seconds] (bad ${argv[i - 1] ?? flag})`
      );
  }
  return { rate: rate || 1, ...(durationS === undefined ? {} : { durationS }) };
}

async function main(): Promise<void> {
  loadEnvFile();
  const app = loadConfig();
  const config = loadUiUpdateConfig();
  const args = parseArgs(process.argv.slice(2), config.ratePerSecond);
  const auth = createSalesforceAuth(app.salesforce);
  const db = openDatabase(app.databasePath);
  const print = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const service = new UiUpdateService({
    db,
    config,
    auth: () => auth,
    note: (message, details) => print(details ? `${message} ${JSON.stringify(details)}` : message)
  });
  const totals = () => {
    const s = service.status();
    print(
      `changes ${s.changes} | published ${s.outbox.published} | pending ${s.outbox.pending} | rejected ` +
        `${s.outbox.rejected} | failed ${s.outbox.failed} | requests ${s.publisher?.requests ?? 0}`
    );
  };
  print(
    `publishing to ${config.topic} at ${config.pubsub.endpoint} over ${config.transport}, ${args.rate} changes/s`
  );
  service.start(args.rate);
  const timer = setInterval(totals, 5_000);
  const shutdown = async () => {
    clearInterval(timer);
    service.stop();
    await service.drain();
    await service.close();
    totals();
    db.close();
    process.exit(0);
  };
  if (args.durationS !== undefined) setTimeout(() => void shutdown(), args.durationS * 1000);
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
