import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../../src/db';
import { startBackgroundCheckpoints } from '../../../src/salesforce/pubsub';

describe('startBackgroundCheckpoints', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-checkpoints-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('checkpoints a WAL database on a worker thread while the automatic checkpoint is off, then restores it', async () => {
    const db = openDatabase(path.join(dir, 'erp.sqlite'));
    const before = db.pragma('wal_autocheckpoint', { simple: true });
    db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
    const background = startBackgroundCheckpoints(db, { intervalMs: 20 });
    expect(background.active).toBe(true);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);

    const insert = db.prepare('INSERT INTO filler (text) VALUES (?)');
    for (let batch = 0; batch < 20; batch += 1) {
      db.transaction(() => {
        for (let row = 0; row < 200; row += 1) insert.run('x'.repeat(200));
      })();
    }
    for (
      let waited = 0;
      background.stats.framesCheckpointed === 0 && waited < 5_000;
      waited += 20
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(background.stats.framesCheckpointed).toBeGreaterThan(0);
    expect(background.stats.lastError).toBeUndefined();

    await background.stop();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(before);
    expect(db.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(4_000);
    db.close();
    // Another connection reads everything back from the files.
    const reopened = openDatabase(path.join(dir, 'erp.sqlite'));
    expect(reopened.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(4_000);
    reopened.close();
  });

  it('keeps a process alive until stop() has ended the worker (it is unreferenced while running)', () => {
    const module = path.resolve(__dirname, '../../../src/salesforce/pubsub/wal-checkpoints.ts');
    const dbModule = path.resolve(__dirname, '../../../src/db/index.ts');
    const script = `
      const { openDatabase } = require(${JSON.stringify(dbModule)});
      const { startBackgroundCheckpoints } = require(${JSON.stringify(module)});
      const db = openDatabase(${JSON.stringify(path.join(dir, 'alive.sqlite'))});
      const background = startBackgroundCheckpoints(db, { intervalMs: 50 });
      background.stop().then(() => { db.close(); process.stdout.write('stopped'); });
    `;
    const output = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000
    });
    expect(output).toBe('stopped');
  });

  it('restores the automatic checkpoint when the last of two sharing a connection stops', async () => {
    const db = openDatabase(path.join(dir, 'shared.sqlite'));
    db.pragma('wal_autocheckpoint = 500');
    const first = startBackgroundCheckpoints(db, { intervalMs: 50 });
    const second = startBackgroundCheckpoints(db, { intervalMs: 50 });
    await first.stop();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await second.stop();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(500);
    db.close();
  });

  it('does nothing for an in-memory database', async () => {
    const db = openDatabase(':memory:');
    const before = db.pragma('wal_autocheckpoint', { simple: true });
    const background = startBackgroundCheckpoints(db);
    expect(background.active).toBe(false);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(before);
    await background.stop();
    db.close();
  });
});
