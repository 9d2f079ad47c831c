import type Database from 'better-sqlite3';
import { loadConfig, loadEnvFile, type AppConfig } from '../../config';
import { openDatabase } from '../../db';
import { createSalesforceAuth, type SalesforceAuth } from '../auth';

/** What a pattern's subscriber command gets: the validated settings, the org session, the database, a printer. */
export interface SubscriberCliContext {
  readonly app: AppConfig;
  readonly auth: SalesforceAuth;
  readonly db: Database.Database;
  /** Writes one timestamped line to stdout. */
  readonly print: (line: string) => void;
}

/** A started subscriber, as the command drives it. */
export interface SubscriberCliRun {
  readonly running: { stop(): Promise<void> };
  /** Prints the pattern's totals: every 10 seconds, and once more after stopping. */
  readonly totals: () => void;
}

/**
 * The body every pattern's subscribe command shares (`npm run subscribe`, `npm run event-driven:subscribe`): `.env`
 * and the settings loaded and validated (the server's, then the pattern's by `configure`, both before anything is
 * opened), the database opened, the pattern's subscriber started by `start`, its totals printed every 10 seconds,
 * and on SIGINT/SIGTERM a graceful stop, the last totals and exit 0. A start-up error prints its message and
 * exits 1.
 */
export function runSubscriberCli<Settings>(
  configure: (app: AppConfig) => Settings,
  start: (context: SubscriberCliContext, settings: Settings) => SubscriberCliRun
): void {
  const main = async (): Promise<void> => {
    loadEnvFile();
    const app = loadConfig();
    const settings = configure(app);
    const auth = createSalesforceAuth(app.salesforce);
    const db = openDatabase(app.databasePath);
    const print = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    const { running, totals } = start({ app, auth, db, print }, settings);
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
  };
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
