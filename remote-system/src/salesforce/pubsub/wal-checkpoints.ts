import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * WAL checkpoints on a worker thread, for a process whose event loop commits a transaction per event batch.
 *
 * In WAL mode a commit appends the changed pages to the `-wal` file; with SQLite's WAL default `synchronous = NORMAL`
 * it does not fsync, so it survives a crash of the process (the pages are in the operating system's cache) but not
 * necessarily a power loss. Every 1,000 pages (`wal_autocheckpoint`) the committing connection then *checkpoints*:
 * it copies the pages into the database file and fsyncs both files, synchronously, on the thread that committed. On
 * a busy disk those fsyncs took tens of milliseconds, during which the subscriber neither decoded nor committed
 * anything: measured, the drain rate of the Fire and Forget benchmark roughly halved against in-memory SQLite.
 *
 * This moves that work to a worker thread with its own connection running `PRAGMA wal_checkpoint(PASSIVE)` every
 * `intervalMs`, and turns the automatic checkpoint of the main connection off while it runs. What is durable does not
 * change: commits are the same WAL appends, checkpoints the same copy-and-fsync, just not on the event loop. A PASSIVE
 * checkpoint never blocks the writer (it copies what it can and returns), and the writer restarts the WAL file once a
 * checkpoint has caught up, as with automatic checkpoints. When the worker stops or fails, the main connection's
 * previous `wal_autocheckpoint` is restored (by the last of several sharing the connection), so the WAL never grows
 * without bound.
 *
 * Nothing happens for an in-memory database or one not in WAL mode.
 */
export interface BackgroundCheckpoints {
  /** False when the database is in memory or not in WAL mode (nothing was started). */
  readonly active: boolean;
  readonly stats: {
    /** Checkpoints the worker ran. */
    checkpoints: number;
    /** WAL frames (pages) they copied into the database file. */
    framesCheckpointed: number;
    lastError?: string;
  };
  /** Restores the automatic checkpoint, runs a last checkpoint on the worker and ends it. */
  stop(): Promise<void>;
}

/** The worker: plain CommonJS, so it runs the same under tsx, ts-jest and compiled code. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  const [result] = db.pragma('wal_checkpoint(PASSIVE)');
  parentPort.postMessage(result);
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  try {
    checkpoint();
  } finally {
    db.close();
    parentPort.close();
  }
});
`;

/** Per connection: how many background checkpointers run on it, and its `wal_autocheckpoint` before the first. */
const HOLDERS = new WeakMap<Database.Database, { count: number; previous: number }>();

export function startBackgroundCheckpoints(
  db: Database.Database,
  options: { intervalMs?: number } = {}
): BackgroundCheckpoints {
  const stats: BackgroundCheckpoints['stats'] = { checkpoints: 0, framesCheckpointed: 0 };
  const journal = db.memory ? 'memory' : String(db.pragma('journal_mode', { simple: true }));
  if (journal !== 'wal') return { active: false, stats, stop: async () => undefined };

  // Several subscribers may share one connection: the first to start turns the automatic checkpoint off and the
  // last to stop turns it back on, to the value it had before the first.
  let holders = HOLDERS.get(db);
  if (!holders) {
    holders = { count: 0, previous: Number(db.pragma('wal_autocheckpoint', { simple: true })) };
    HOLDERS.set(db, holders);
  }
  holders.count += 1;
  const held = holders;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      module: require.resolve('better-sqlite3'),
      file: db.name,
      intervalMs: options.intervalMs ?? 200
    }
  });
  worker.unref();
  db.pragma('wal_autocheckpoint = 0');

  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    held.count -= 1;
    if (held.count > 0) return;
    HOLDERS.delete(db);
    if (db.open) db.pragma(`wal_autocheckpoint = ${held.previous}`);
  };
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      restore();
      resolve();
    });
  });
  worker.on('message', (result: { busy: number; log: number; checkpointed: number }) => {
    stats.checkpoints += 1;
    stats.framesCheckpointed += Math.max(0, result.checkpointed);
  });
  worker.on('error', (error: Error) => {
    stats.lastError = error.message;
    restore();
  });

  return {
    active: true,
    stats,
    async stop() {
      restore();
      // Unreferenced, the worker would let the process end while this waits for it (an empty event loop).
      worker.ref();
      worker.postMessage('stop');
      await exited;
    }
  };
}
