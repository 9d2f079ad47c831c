import path from 'node:path';
import type Database from 'better-sqlite3';
import { loadBatchSyncConfig, type BulkLoaderSettings } from '../../src/batch-sync/config';
import { openDatabase } from '../../src/db';
import type { SalesforceAuth, SalesforceSession } from '../../src/salesforce/auth';
import { tempDir } from '../support';

/**
 * A {@link SalesforceAuth} over a list of tokens: `session()` gives the first, each `refresh()` the next one, and
 * past the end refresh fails like a fixed token that cannot be renewed. (The project's `createSalesforceAuth`
 * covers the real modes; the loader only needs the interface.)
 */
export class TokenListAuth implements SalesforceAuth {
  refreshes = 0;
  private index = 0;

  constructor(
    private readonly instanceUrl: string,
    private readonly tokens: readonly string[]
  ) {}

  async session(): Promise<SalesforceSession> {
    return this.current();
  }

  async refresh(rejected: SalesforceSession): Promise<SalesforceSession> {
    this.refreshes++;
    if (rejected.accessToken === this.tokens[this.index]) this.index++;
    if (this.index >= this.tokens.length) {
      throw new Error('the access token was rejected and a fixed token cannot be renewed');
    }
    return this.current();
  }

  private current(): SalesforceSession {
    return {
      instanceUrl: this.instanceUrl,
      accessToken: this.tokens[Math.min(this.index, this.tokens.length - 1)]!,
      apiVersion: '67.0'
    };
  }
}

/** A migrated temp-file database and loader settings sized for tests (small jobs, fast polls). */
export function loaderFixture(overrides: Record<string, string> = {}): {
  db: Database.Database;
  settings: BulkLoaderSettings;
  cleanup: () => void;
} {
  const { dir, cleanup } = tempDir('batch-sync-');
  const db = openDatabase(path.join(dir, 'erp.sqlite'));
  const { bulk } = loadBatchSyncConfig({
    BATCH_SYNC_MAX_UPLOAD_BYTES: '6000',
    BATCH_SYNC_POLL_INITIAL_MS: '2',
    BATCH_SYNC_POLL_MAX_MS: '40',
    BATCH_SYNC_WORK_DIR: path.join(dir, 'work'),
    ...overrides
  });
  return {
    db,
    settings: bulk,
    cleanup: () => {
      db.close();
      cleanup();
    }
  };
}
