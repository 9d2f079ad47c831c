import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations';

export { migrate, MIGRATIONS, SHIPMENT_INDEXES } from './migrations';
export type { Migration } from './migrations';
export { seedDatabase, isSeeded } from './seed';
export type { SeedOptions, SeedReport } from './seed';

/**
 * Opens (creating if needed) the ERP database and brings its schema up to date. WAL lets the console and the
 * pattern routes read while a writer works; foreign keys are enforced for the tables that declare them.
 */
export function openDatabase(databasePath: string): Database.Database {
  if (databasePath !== ':memory:') {
    fs.mkdirSync(path.dirname(path.resolve(databasePath)), { recursive: true });
  }
  const db = new Database(databasePath);
  try {
    if (databasePath !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
