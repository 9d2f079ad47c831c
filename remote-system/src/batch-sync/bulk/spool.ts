import fs from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type Database from 'better-sqlite3';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { LOAD_SOURCES, type LoadSource } from './source';

/**
 * The loader's **spool**: the rows of a key range, read from SQLite in key order, turned into RFC 4180 CSV by
 * `csv-stringify` and written to a job file, cut before the upload limit or the row limit. This is most of the
 * loader's CPU work (SQLite reads and CSV encoding, about 3 µs a row; see `npm run bench -- --batch-sync
 * --cpu-prof DIR`). By default it runs in the main thread, yielding to the event loop after each block so that
 * uploads, polls and result reads go on meanwhile. With `BATCH_SYNC_SPOOL_WORKERS=N` it runs in N worker threads,
 * each spooling its own key range: more throughput where the host has idle cores, at the price of a thread start
 * and a second copy of the modules per worker (measured in `bench/results/batch-sync.md`).
 */

/** Rows stringified together; the size check works per block and falls back to single rows near the limit. */
const BLOCK_ROWS = 1_000;
/** Page cache of the spool's read connection, in KiB: a key-order scan reads each page once. */
const READ_CACHE_KIB = 2_048;
/** V8 young generation of a worker, in MiB: caps its heap growth (its garbage is short-lived rows and strings). */
const WORKER_YOUNG_GENERATION_MB = 16;

export class SpoolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpoolError';
  }
}

export interface SpoolLimits {
  readonly maxRowsPerJob: number;
  readonly maxUploadBytes: number;
}

export interface Spooled {
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
  readonly firstKey: string;
  readonly lastKey: string;
  /** Cut by a limit before the end of its range: rows after `lastKey` in the range are still to be spooled. */
  readonly cut: boolean;
}

/**
 * Writes one job file: rows after `after` up to `through` (inclusive), at most `maxRowsPerJob`, under
 * `maxUploadBytes`. Returns `undefined` (and no file) when the range holds no row. `pause` runs after each block.
 *
 * Each block's text is written with one synchronous `writeSync`: the string is encoded into a transient native
 * buffer and copied to the page cache, where a `WriteStream` would allocate a `Buffer` per block (garbage that only
 * a GC returns) and hop through the thread pool. A block is ~70 KiB.
 */
export async function spoolJobFile(
  reader: Database.Database,
  source: LoadSource,
  limits: SpoolLimits,
  after: string,
  through: string,
  file: string,
  pause: () => Promise<unknown> | undefined
): Promise<Spooled | undefined> {
  const fd = fs.openSync(file, 'w');
  let bytes = fs.writeSync(fd, stringifySync([source.columns as string[]]));
  let rows = 0;
  let firstKey: string | undefined;
  let lastKey = after;
  let cut = false;
  try {
    let cursor = after;
    while (!cut) {
      const left = limits.maxRowsPerJob - rows;
      if (left <= 0) {
        cut = source.rows(reader, cursor, through, 1).length > 0;
        break;
      }
      const block = source.rows(reader, cursor, through, Math.min(BLOCK_ROWS, left));
      if (block.length === 0) break;
      cursor = String(block[block.length - 1]![0]);
      let text = stringifySync(block);
      let size = Buffer.byteLength(text);
      let take = block;
      if (bytes + size > limits.maxUploadBytes) {
        // Near the limit: add single rows while they fit; the rest start the next job.
        cut = true;
        const parts: string[] = [];
        size = 0;
        take = [];
        for (const row of block) {
          const one = stringifySync([row]);
          const n = Buffer.byteLength(one);
          if (bytes + size + n > limits.maxUploadBytes) break;
          parts.push(one);
          size += n;
          take.push(row);
        }
        text = parts.join('');
        if (take.length === 0 && rows === 0) {
          throw new SpoolError(
            `row ${String(block[0]![0])} alone is larger than BATCH_SYNC_MAX_UPLOAD_BYTES (${limits.maxUploadBytes})`
          );
        }
      }
      if (take.length > 0) {
        firstKey ??= String(take[0]![0]);
        lastKey = String(take[take.length - 1]![0]);
        rows += take.length;
        bytes += fs.writeSync(fd, text);
      }
      await pause();
    }
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  if (rows === 0) {
    fs.rmSync(file, { force: true });
    return undefined;
  }
  return { file, rows, bytes, firstKey: firstKey!, lastKey, cut };
}

/** Opens the spool's own read-only connection to the database file, with a small page cache. */
function openReader(databaseFile: string): Database.Database {
  const reader = new BetterSqlite3(databaseFile, { readonly: true, fileMustExist: true });
  reader.pragma(`cache_size = -${READ_CACHE_KIB}`);
  return reader;
}

/** Where a loader gets its job files from: worker threads, or the main thread. */
export interface Spooler {
  /** Ranges it can spool at the same time. */
  readonly parallelism: number;
  /** The next range to spool (see {@link LoadSource.rangeAfter}), read through a small-cache connection. */
  rangeAfter(after: string, rows: number): { lastKey: string; rows: number } | undefined;
  spool(after: string, through: string, file: string): Promise<Spooled | undefined>;
  close(): Promise<void>;
}

/**
 * Spools in the calling thread, through a read-only connection of its own when the database is a file (the
 * loader's connection writes the ledger meanwhile), else through `db` itself.
 */
export class InlineSpooler implements Spooler {
  readonly parallelism = 1;
  private readonly reader: Database.Database;
  private readonly ownsReader: boolean;

  constructor(
    db: Database.Database,
    private readonly source: LoadSource,
    private readonly limits: SpoolLimits
  ) {
    this.ownsReader = !db.memory;
    this.reader = this.ownsReader ? openReader(db.name) : db;
  }

  rangeAfter(after: string, rows: number): { lastKey: string; rows: number } | undefined {
    return this.source.rangeAfter(this.reader, after, rows);
  }

  spool(after: string, through: string, file: string): Promise<Spooled | undefined> {
    return spoolJobFile(this.reader, this.source, this.limits, after, through, file, () =>
      yieldToEventLoop()
    );
  }

  async close(): Promise<void> {
    if (this.ownsReader) this.reader.close();
  }
}

/** Spools in `size` worker threads; each request goes to the worker with the fewest requests waiting. */
export class WorkerSpoolPool implements Spooler {
  private readonly workers: WorkerSpooler[];
  /** The main thread's connection for planning ranges. */
  private readonly planner: Database.Database;

  constructor(
    size: number,
    databaseFile: string,
    private readonly source: LoadSource,
    limits: SpoolLimits
  ) {
    this.planner = openReader(databaseFile);
    this.workers = Array.from(
      { length: size },
      () => new WorkerSpooler(databaseFile, source.object, limits)
    );
  }

  rangeAfter(after: string, rows: number): { lastKey: string; rows: number } | undefined {
    return this.source.rangeAfter(this.planner, after, rows);
  }

  get parallelism(): number {
    return this.workers.length;
  }

  spool(after: string, through: string, file: string): Promise<Spooled | undefined> {
    const idle = this.workers.reduce((best, w) => (w.pending < best.pending ? w : best));
    return idle.spool(after, through, file);
  }

  async close(): Promise<void> {
    this.planner.close();
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

interface WorkerSetup {
  readonly kind: 'batch-sync-spool';
  readonly databaseFile: string;
  readonly object: string;
  readonly limits: SpoolLimits;
}

interface SpoolRequest {
  readonly id: number;
  readonly after: string;
  readonly through: string;
  readonly file: string;
}

type SpoolReply =
  | { readonly id: number; readonly spooled: Spooled | null }
  | { readonly id: number; readonly error: string; readonly spoolError: boolean };

/**
 * Spools in a worker thread, one request at a time. The worker runs this file: when the loader itself
 * runs as TypeScript (`tsx`, Jest), the worker loads `tsx`'s CommonJS hooks to do the same, and nothing else.
 */
class WorkerSpooler {
  private readonly worker: Worker;
  private readonly waiting = new Map<
    number,
    { resolve: (s: Spooled | undefined) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(databaseFile: string, object: string, limits: SpoolLimits) {
    const setup: WorkerSetup = { kind: 'batch-sync-spool', databaseFile, object, limits };
    this.worker = new Worker(__filename, {
      workerData: setup,
      execArgv: __filename.endsWith('.ts') ? ['--require', require.resolve('tsx/cjs')] : [],
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
      stdout: false,
      stderr: false
    });
    this.worker.on('message', (reply: SpoolReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if ('error' in reply) {
        waiter.reject(reply.spoolError ? new SpoolError(reply.error) : new Error(reply.error));
      } else waiter.resolve(reply.spooled ?? undefined);
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (this.waiting.size > 0) fail(new Error(`the spool worker stopped (exit code ${code})`));
    });
  }

  get pending(): number {
    return this.waiting.size;
  }

  spool(after: string, through: string, file: string): Promise<Spooled | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const request: SpoolRequest = { id, after, through, file };
      this.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Worker side: one read-only connection, one request at a time (messages queue up in order). */
function serveSpoolRequests(setup: WorkerSetup): void {
  const source = LOAD_SOURCES[setup.object];
  const reader = openReader(setup.databaseFile);
  let queue = Promise.resolve();
  parentPort!.on('message', (request: SpoolRequest) => {
    queue = queue.then(async () => {
      try {
        if (!source) throw new SpoolError(`no load source for ${setup.object}`);
        const spooled = await spoolJobFile(
          reader,
          source,
          setup.limits,
          request.after,
          request.through,
          request.file,
          () => undefined
        );
        parentPort!.postMessage({ id: request.id, spooled: spooled ?? null } satisfies SpoolReply);
      } catch (error) {
        parentPort!.postMessage({
          id: request.id,
          error: error instanceof Error ? error.message : String(error),
          spoolError: error instanceof SpoolError
        } satisfies SpoolReply);
      }
    });
  });
}

if (!isMainThread && (workerData as WorkerSetup | undefined)?.kind === 'batch-sync-spool') {
  serveSpoolRequests(workerData as WorkerSetup);
}
