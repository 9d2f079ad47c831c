import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleepUnless } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import type { BulkLoaderSettings } from '../config';
import { TERMINAL_STATES, type Bulk2Client, type IngestJobInfo, type JobState } from './client';
import { LOAD_SOURCES, type LoadSource } from './source';
import { InlineSpooler, SpoolError, WorkerSpoolPool, type Spooled, type Spooler } from './spool';

/**
 * Record errors worth one more try in a new job: contention and transient platform trouble, not data problems.
 * (`UNABLE_TO_LOCK_ROW` is the classic one: parallel batches updating the same parent.)
 */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_LOCK_ROW',
  'API_TEMPORARILY_UNAVAILABLE',
  'SERVER_UNAVAILABLE',
  'REQUEST_RUNNING_TOO_LONG',
  'QUERY_TIMEOUT'
]);

export class LoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadError';
  }
}

export interface LoadRequest {
  readonly object: string;
  /** Rows to send (the first `rows` of the source in key order). */
  readonly rows: number;
  /** Continue this run instead of starting a new one. */
  readonly resumeRunId?: string;
}

export interface LoadProgress {
  readonly runId: string;
  readonly rowsTotal: number;
  /** Rows uploaded in closed jobs (this run, including before a resume). */
  readonly rowsSent: number;
  /** Rows whose job has ended and whose results were read. */
  readonly rowsDone: number;
  readonly jobsInFlight: number;
  readonly failed: number;
}

export interface JobSummary {
  readonly jobId: string;
  readonly kind: 'load' | 'retry';
  readonly state: string;
  readonly rows: number;
  readonly errorMessage?: string;
}

export interface LoadSummary {
  readonly runId: string;
  readonly object: string;
  readonly rowsSent: number;
  readonly bytesSent: number;
  readonly jobs: number;
  readonly succeeded: number;
  /** Rows that failed for good (not retryable, or failed again in the retry job). */
  readonly failed: number;
  /** Rows sent again in a retry job, and how many of those then succeeded. */
  readonly retried: number;
  readonly recovered: number;
  /** Rows never processed (aborted jobs; failed jobs' rows that the retry job did not process either). */
  readonly unprocessed: number;
  readonly abortedJobs: readonly JobSummary[];
  readonly failedJobs: readonly JobSummary[];
  /** Folder with `failed-<job>.csv` (sf__Error + the row) and `unprocessed-<job>.csv` per job. */
  readonly reportDir: string;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** True when every row was accepted. */
  readonly ok: boolean;
}

interface LedgerJob {
  job_id: string;
  seq: number;
  kind: 'load' | 'retry';
  first_key: string | null;
  last_key: string | null;
  row_count: number;
  byte_count: number;
  state: string;
  processed: number | null;
  failed: number | null;
  succeeded: number | null;
  unprocessed: number | null;
  retryable: number | null;
  error_message: string | null;
}

/**
 * The Bulk API 2.0 loader (ERP → Salesforce, millions of rows), in constant memory:
 *
 * 1. **Spool** (`spool.ts`): rows stream from SQLite in key order through `csv-stringify` into a job file, cut
 *    before the upload limit (`maxUploadBytes`, raw bytes: keep it at ¾ of the org's base64 limit) or
 *    `maxRowsPerJob`. This is most of the loader's CPU (about 3 µs a row, `bench/results/batch-sync.md`).
 * 2. **Send**: create a job (upsert by the External Id), record it in the ledger (`batch_sync_jobs`, with the key
 *    range it carries), upload the file as a stream, close it (`UploadComplete`). A pipeline: the next job is
 *    spooled while the previous one uploads and earlier ones run in the org, up to `maxJobsInFlight` jobs between
 *    creation and their results; uploads go one at a time, in key order.
 * 3. **Collect**: poll each job with exponential backoff until JobComplete / Failed / Aborted; stream its result
 *    files through `csv-parse`: successes are counted, failures with a retryable code (and a failed job's
 *    unprocessed rows) go to a retry file, the rest to `failed-<job>.csv`.
 * 4. **Retry once**: each retry file is sent as one new job (a subset of a job that fit, so it fits too); what
 *    fails there is final.
 *
 * **Constant memory**: one block of rows (1,000) in memory at a time, files on disk (at most the jobs in flight
 * plus the ranges spooled ahead), uploads and result files as streams; measured flat from 1M to 10M rows.
 *
 * **Resumable**: the ledger is written before each upload. A resumed run (`resumeRunId`) aborts a job it created
 * but never closed (its rows were never accepted) and sends that range again; it re-polls jobs that were closed
 * (the org keeps jobs for 7 days) and collects their results; it then continues after the highest key of the closed
 * jobs. Rows in a closed job are never sent again, except failed rows through the one retry.
 */
export class BulkLoader {
  /** Aborted when a run fails: jobs still being polled stop waiting (a `--resume` collects them). */
  private stop = new AbortController();

  constructor(
    private readonly db: Database.Database,
    private readonly client: Bulk2Client,
    private readonly settings: BulkLoaderSettings,
    private readonly onProgress: (progress: LoadProgress) => void = () => undefined
  ) {}

  async run(request: LoadRequest): Promise<LoadSummary> {
    const source = LOAD_SOURCES[request.object];
    if (!source) {
      throw new LoadError(
        `--object ${request.object} is not supported; supported: ${Object.keys(LOAD_SOURCES).join(', ')}`
      );
    }
    if (!Number.isInteger(request.rows) || request.rows < 1) {
      throw new LoadError('--rows must be a positive whole number');
    }
    if (request.rows > this.settings.maxRowsPerRun) {
      throw new LoadError(
        `--rows ${request.rows} is above BATCH_SYNC_MAX_ROWS_PER_RUN (${this.settings.maxRowsPerRun}); ` +
          'the org accepts 150,000,000 Bulk API records per rolling 24 hours'
      );
    }
    const started = performance.now();
    const runId = request.resumeRunId ?? randomUUID();
    const reportDir = path.join(this.settings.workDir, runId);
    fs.mkdirSync(reportDir, { recursive: true });
    if (request.resumeRunId === undefined) {
      this.db
        .prepare(
          `INSERT INTO batch_sync_runs (run_id, object, external_id, row_limit, status, started_at)
           VALUES (?, ?, ?, ?, 'running', ?)`
        )
        .run(runId, source.object, source.externalIdField, request.rows, new Date().toISOString());
    } else {
      const run = this.db
        .prepare('SELECT object, row_limit FROM batch_sync_runs WHERE run_id = ?')
        .get(runId) as { object: string; row_limit: number } | undefined;
      if (!run) throw new LoadError(`no run ${runId} to resume`);
      if (run.object !== source.object || run.row_limit !== request.rows) {
        throw new LoadError(
          `run ${runId} loaded ${run.row_limit} ${run.object} rows; resume it with the same --object and --rows`
        );
      }
      this.db.prepare("UPDATE batch_sync_runs SET status = 'running' WHERE run_id = ?").run(runId);
    }

    const state = new RunState(this.db, runId, request.rows, this.onProgress);
    const inFlight = new InFlight();
    this.stop = new AbortController();
    let spooler: Spooler | undefined;
    try {
      await this.abandonUnclosedJobs(state);
      for (const job of state.jobs()) {
        if (job.kind === 'load' && job.processed === null && job.state !== 'Abandoned') {
          inFlight.add(this.collect(source, state, job, reportDir));
        }
      }
      spooler = this.spooler(source);
      await this.sendRemaining(spooler, source, state, reportDir, inFlight);
      await inFlight.all();
      await this.retryFailedRows(source, state, reportDir);
      const summary = this.summarise(source, state, reportDir, started);
      this.db
        .prepare(
          "UPDATE batch_sync_runs SET status = 'completed', finished_at = ?, summary_json = ? WHERE run_id = ?"
        )
        .run(new Date().toISOString(), JSON.stringify(summary), runId);
      return summary;
    } catch (error) {
      // Stop the polls of jobs still in flight (they stay in the ledger for --resume) before giving up.
      this.stop.abort();
      await inFlight.settled();
      this.db
        .prepare("UPDATE batch_sync_runs SET status = 'failed', finished_at = ? WHERE run_id = ?")
        .run(new Date().toISOString(), runId);
      throw error;
    } finally {
      await spooler?.close();
    }
  }

  /** A job created but never closed holds no accepted rows: abort it in the org and send its range again. */
  private async abandonUnclosedJobs(state: RunState): Promise<void> {
    for (const job of state.jobs().filter((j) => j.state === 'Open')) {
      try {
        await this.client.setState(job.job_id, 'Aborted');
      } catch {
        // Already gone or already ended: either way it will not process these rows.
      }
      state.update(job.job_id, { state: 'Abandoned' });
    }
  }

  /**
   * Spools, creates, uploads and closes the remaining jobs as a pipeline. The rows still to send are planned as
   * consecutive key ranges of `maxRowsPerJob` rows; up to `spooler.parallelism` ranges are spooled at once (worker
   * threads), ahead of the uploads, while earlier jobs upload, run in the org and have their results read. Jobs are
   * created and uploaded strictly in key order, each closed before the next upload starts, so the closed jobs are
   * always a prefix of the key range (what `--resume` relies on). A job counts against `maxJobsInFlight` from its
   * creation until its results are read. On disk: the files of the ranges spooled ahead and of the jobs in flight.
   */
  private async sendRemaining(
    spooler: Spooler,
    source: LoadSource,
    state: RunState,
    reportDir: string,
    inFlight: InFlight
  ): Promise<void> {
    const loadJobs = state.jobs().filter((j) => j.kind === 'load' && j.state !== 'Abandoned');
    let after = loadJobs.reduce((max, j) => (j.last_key! > max ? j.last_key! : max), '');
    let toPlan = state.rowsTotal - loadJobs.reduce((sum, j) => sum + j.row_count, 0);
    let files = 0;
    const nextFile = () => path.join(reportDir, `upload-${++files}.csv`);
    const ahead: Promise<Spooled[]>[] = [];
    const planNext = (): boolean => {
      if (toPlan <= 0) return false;
      const range = spooler.rangeAfter(after, Math.min(toPlan, this.settings.maxRowsPerJob));
      if (range === undefined) {
        toPlan = 0; // the source has fewer rows than asked
        return false;
      }
      const task = this.spoolRange(spooler, after, range.lastKey, nextFile);
      task.catch(() => undefined); // observed when its turn comes
      ahead.push(task);
      after = range.lastKey;
      toPlan -= range.rows;
      return true;
    };
    let previousUpload: Promise<void> = Promise.resolve();
    // Files spooled but not yet given to a job (removed if the run stops before they are).
    let unsent: Spooled[] = [];
    try {
      for (;;) {
        while (ahead.length < spooler.parallelism && planNext());
        const next = ahead.shift();
        if (next === undefined) break;
        unsent = await next.catch((error: unknown) => {
          throw error instanceof SpoolError ? new LoadError(error.message) : error;
        });
        while (unsent.length > 0) {
          while (inFlight.size >= this.settings.maxJobsInFlight) await inFlight.any();
          inFlight.throwIfFailed();
          const spooled = unsent[0]!;
          const job = await this.client.createJob({
            object: source.object,
            operation: 'upsert',
            externalIdFieldName: source.externalIdField
          });
          state.insert({
            job_id: job.id,
            kind: 'load',
            first_key: spooled.firstKey,
            last_key: spooled.lastKey,
            row_count: spooled.rows,
            byte_count: spooled.bytes,
            state: 'Open'
          });
          unsent.shift();
          const uploaded = this.uploadAfter(previousUpload, state, job.id, spooled.file);
          previousUpload = uploaded;
          inFlight.add(
            uploaded.then(() => this.collect(source, state, state.job(job.id), reportDir))
          );
        }
      }
    } finally {
      // After a failure: files spooled ahead are never uploaded.
      for (const task of ahead.splice(0)) unsent.push(...(await task.catch(() => [] as Spooled[])));
      for (const spooled of unsent) await fs.promises.rm(spooled.file, { force: true });
    }
  }

  /** Spools one planned key range into one job file, or several when a limit cuts it. */
  private async spoolRange(
    spooler: Spooler,
    after: string,
    through: string,
    nextFile: () => string
  ): Promise<Spooled[]> {
    const spooled: Spooled[] = [];
    let from = after;
    try {
      for (;;) {
        const part = await spooler.spool(from, through, nextFile());
        if (part === undefined) break;
        spooled.push(part);
        if (!part.cut) break;
        from = part.lastKey;
      }
    } catch (error) {
      for (const part of spooled) await fs.promises.rm(part.file, { force: true });
      throw error;
    }
    return spooled;
  }

  /** The spool of this run: the main thread, or worker threads when configured (not for an in-memory database). */
  private spooler(source: LoadSource): Spooler {
    const limits = {
      maxRowsPerJob: this.settings.maxRowsPerJob,
      maxUploadBytes: this.settings.maxUploadBytes
    };
    if (this.settings.spoolWorkers > 0 && !this.db.memory) {
      return new WorkerSpoolPool(this.settings.spoolWorkers, this.db.name, source, limits);
    }
    return new InlineSpooler(this.db, source, limits);
  }

  /**
   * Uploads and closes a job once the previous upload has closed its job (a failed one stops this one too: the job
   * stays Open in the ledger, for `--resume` to abort and send again). The file is removed either way.
   */
  private async uploadAfter(
    previous: Promise<void>,
    state: RunState,
    jobId: string,
    file: string
  ): Promise<void> {
    try {
      await previous;
      await this.client.upload(jobId, file);
      const closed = await this.client.setState(jobId, 'UploadComplete');
      state.update(jobId, { state: closed.state });
      state.report();
    } finally {
      await fs.promises.rm(file, { force: true });
    }
  }

  /** Waits for a job to end, then reads its three result files as streams. */
  private async collect(
    source: LoadSource,
    state: RunState,
    job: LedgerJob,
    reportDir: string
  ): Promise<void> {
    const info = await this.waitForEnd(job.job_id);
    const retryFile = path.join(reportDir, `retry-${job.job_id}.csv`);
    const failedFile = path.join(reportDir, `failed-${job.job_id}.csv`);
    const unprocessedFile = path.join(reportDir, `unprocessed-${job.job_id}.csv`);
    const retry = new CsvSink(retryFile, source.columns);
    const failed = new CsvSink(failedFile, ['sf__Error', ...source.columns]);
    const unprocessedOut = new CsvSink(unprocessedFile, source.columns);
    let succeeded = 0;
    let failedRows = 0;
    let failedFinal = 0;
    let retryable = 0;
    let unprocessed = 0;

    // Successes are only counted: a quote-aware record count, not a field parse (csv-parse is the slow part).
    succeeded = await countCsvRecords(await this.client.results(job.job_id, 'successfulResults'));
    await this.eachRow(job.job_id, 'failedResults', async (row, columns) => {
      failedRows++;
      const error = row[columns.indexOf('sf__Error')] ?? '';
      const values = source.columns.map((c) => row[columns.indexOf(c)] ?? '');
      const code = error.split(':', 1)[0]!;
      if (job.kind === 'load' && RETRYABLE_ERROR_CODES.has(code)) {
        retryable++;
        await retry.write(values);
      } else {
        failedFinal++;
        await failed.write([error, ...values]);
      }
    });
    await this.eachRow(job.job_id, 'unprocessedrecords', async (row, columns) => {
      const values = source.columns.map((c) => row[columns.indexOf(c)] ?? '');
      // A failed job's unprocessed rows get the one retry; an aborted job was stopped on purpose: report only.
      if (job.kind === 'load' && info.state === 'Failed') {
        retryable++;
        await retry.write(values);
      } else {
        unprocessed++;
        await unprocessedOut.write(values);
      }
    });
    await Promise.all([retry.close(), failed.close(), unprocessedOut.close()]);
    state.update(job.job_id, {
      state: info.state,
      processed: succeeded + failedRows,
      succeeded,
      failed: failedFinal,
      retryable,
      unprocessed,
      error_message: info.errorMessage ?? null
    });
    state.report();
  }

  private async waitForEnd(jobId: string): Promise<IngestJobInfo> {
    const deadline = Date.now() + this.settings.jobTimeoutMs;
    let wait = this.settings.pollInitialMs;
    for (;;) {
      const info = await this.client.info(jobId);
      if (TERMINAL_STATES.has(info.state)) return info;
      if (Date.now() + wait > deadline) {
        throw new LoadError(
          `job ${jobId} is still ${info.state} after ${this.settings.jobTimeoutMs} ms; it keeps running in the org: ` +
            'continue later with --resume'
        );
      }
      try {
        await sleepUnless(wait, this.stop.signal);
      } catch {
        throw new LoadError(`stopped waiting for job ${jobId}: the run failed`);
      }
      wait = Math.min(wait * 2, this.settings.pollMaxMs);
    }
  }

  private async eachRow(
    jobId: string,
    kind: 'successfulResults' | 'failedResults' | 'unprocessedrecords',
    onRow: (row: string[], columns: string[]) => void | Promise<void>
  ): Promise<void> {
    const body = await this.client.results(jobId, kind);
    let columns: string[] | undefined;
    const parser = body.pipe(parse({ relax_column_count: true }));
    for await (const record of parser as AsyncIterable<string[]>) {
      if (columns === undefined) columns = record;
      else await onRow(record, columns);
    }
  }

  /** One retry job per load job that left retryable rows. */
  private async retryFailedRows(
    source: LoadSource,
    state: RunState,
    reportDir: string
  ): Promise<void> {
    const retries = state.jobs().filter((j) => j.kind === 'retry');
    const pending: Promise<void>[] = [];
    for (const job of state.jobs().filter((j) => j.kind === 'load' && (j.retryable ?? 0) > 0)) {
      const existing = retries.find((r) => r.first_key === job.job_id && r.state !== 'Abandoned');
      if (existing) {
        if (existing.processed === null)
          pending.push(this.collect(source, state, existing, reportDir));
        continue;
      }
      const file = path.join(reportDir, `retry-${job.job_id}.csv`);
      const created = await this.client.createJob({
        object: source.object,
        operation: 'upsert',
        externalIdFieldName: source.externalIdField
      });
      state.insert({
        job_id: created.id,
        kind: 'retry',
        first_key: job.job_id, // the job whose rows it retries
        last_key: null,
        row_count: job.retryable ?? 0,
        byte_count: (await fs.promises.stat(file)).size,
        state: 'Open'
      });
      await this.client.upload(created.id, file);
      const closed = await this.client.setState(created.id, 'UploadComplete');
      state.update(created.id, { state: closed.state });
      pending.push(this.collect(source, state, state.job(created.id), reportDir));
    }
    await Promise.all(pending);
  }

  private summarise(
    source: LoadSource,
    state: RunState,
    reportDir: string,
    started: number
  ): LoadSummary {
    const jobs = state.jobs().filter((j) => j.state !== 'Abandoned');
    const loads = jobs.filter((j) => j.kind === 'load');
    const retries = jobs.filter((j) => j.kind === 'retry');
    const sum = (list: LedgerJob[], pick: (j: LedgerJob) => number | null) =>
      list.reduce((total, j) => total + (pick(j) ?? 0), 0);
    const retried = sum(loads, (j) => j.retryable);
    const retryAccepted = sum(retries, (j) => j.succeeded);
    // Retryable rows whose retry job did not run them are still unprocessed.
    const notRetried = retried - sum(retries, (j) => j.row_count);
    const describe = (j: LedgerJob): JobSummary => ({
      jobId: j.job_id,
      kind: j.kind,
      state: j.state,
      rows: j.row_count,
      ...(j.error_message ? { errorMessage: j.error_message } : {})
    });
    const failed = sum(jobs, (j) => j.failed);
    // A failed load job's unprocessed rows were counted as retryable: add back only those without a retry.
    const unprocessed = sum(jobs, (j) => j.unprocessed) + Math.max(0, notRetried);
    const seconds = (performance.now() - started) / 1000;
    const rowsSent = sum(loads, (j) => j.row_count);
    return {
      runId: state.runId,
      object: source.object,
      rowsSent,
      bytesSent: sum(jobs, (j) => j.byte_count),
      jobs: jobs.length,
      succeeded: sum(loads, (j) => j.succeeded) + retryAccepted,
      failed,
      retried,
      recovered: retryAccepted,
      unprocessed,
      abortedJobs: jobs.filter((j) => j.state === 'Aborted').map(describe),
      failedJobs: jobs.filter((j) => j.state === 'Failed').map(describe),
      reportDir,
      seconds,
      rowsPerSecond: seconds > 0 ? Math.round(rowsSent / seconds) : rowsSent,
      ok: failed === 0 && unprocessed === 0 && rowsSent === state.rowsTotal
    };
  }
}

/** The ledger of one run (`batch_sync_jobs`) and its progress reporting. */
class RunState {
  constructor(
    private readonly db: Database.Database,
    readonly runId: string,
    readonly rowsTotal: number,
    private readonly onProgress: (progress: LoadProgress) => void
  ) {}

  jobs(): LedgerJob[] {
    return this.db
      .prepare('SELECT * FROM batch_sync_jobs WHERE run_id = ? ORDER BY seq')
      .all(this.runId) as LedgerJob[];
  }

  job(jobId: string): LedgerJob {
    return this.db
      .prepare('SELECT * FROM batch_sync_jobs WHERE job_id = ?')
      .get(jobId) as LedgerJob;
  }

  nextSeq(): number {
    return (
      (this.db
        .prepare('SELECT coalesce(max(seq), 0) FROM batch_sync_jobs WHERE run_id = ?')
        .pluck()
        .get(this.runId) as number) + 1
    );
  }

  insert(
    job: Pick<
      LedgerJob,
      'job_id' | 'kind' | 'first_key' | 'last_key' | 'row_count' | 'byte_count'
    > & {
      state: JobState | 'Abandoned';
    }
  ): void {
    this.db
      .prepare(
        `INSERT INTO batch_sync_jobs (job_id, run_id, seq, kind, first_key, last_key, row_count, byte_count, state,
           updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        job.job_id,
        this.runId,
        this.nextSeq(),
        job.kind,
        job.first_key,
        job.last_key,
        job.row_count,
        job.byte_count,
        job.state,
        new Date().toISOString()
      );
  }

  update(jobId: string, values: Partial<Omit<LedgerJob, 'job_id'>>): void {
    const names = Object.keys(values);
    if (names.length === 0) return;
    this.db
      .prepare(
        `UPDATE batch_sync_jobs SET ${names.map((n) => `${n} = @${n}`).join(', ')}, updated_at = @updated_at
          WHERE job_id = @job_id`
      )
      .run({ ...values, updated_at: new Date().toISOString(), job_id: jobId });
  }

  report(): void {
    const row = this.db
      .prepare(
        `SELECT coalesce(sum(CASE WHEN kind = 'load' AND state != 'Open' AND state != 'Abandoned' THEN row_count END), 0) AS sent,
                coalesce(sum(CASE WHEN kind = 'load' AND processed IS NOT NULL THEN row_count END), 0) AS done,
                coalesce(sum(CASE WHEN processed IS NULL AND state != 'Abandoned' THEN 1 END), 0) AS inflight,
                coalesce(sum(failed), 0) AS failed
           FROM batch_sync_jobs WHERE run_id = ?`
      )
      .get(this.runId) as { sent: number; done: number; inflight: number; failed: number };
    this.onProgress({
      runId: this.runId,
      rowsTotal: this.rowsTotal,
      rowsSent: row.sent,
      rowsDone: row.done,
      jobsInFlight: row.inflight,
      failed: row.failed
    });
  }
}

/**
 * Data records (header excluded) in an RFC 4180 CSV stream: line breaks outside quoted fields end a record (a
 * doubled quote inside a field toggles the state twice). Constant memory, no field parsing: the scan jumps from
 * quote to quote and line break to line break with `Buffer.indexOf` (native), instead of a JavaScript loop over
 * every byte.
 */
export async function countCsvRecords(
  stream: AsyncIterable<Buffer | string> | Iterable<Buffer | string>
): Promise<number> {
  const QUOTE = 0x22;
  const LF = 0x0a;
  let quoted = false;
  let lines = 0;
  let last = LF;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (bytes.length === 0) continue;
    let i = 0;
    while (i < bytes.length) {
      const quote = bytes.indexOf(QUOTE, i);
      if (quoted) {
        if (quote < 0) break; // the rest of the chunk is inside a quoted field
        quoted = false;
        i = quote + 1;
        continue;
      }
      const end = quote < 0 ? bytes.length : quote;
      for (let lf = bytes.indexOf(LF, i); lf >= 0 && lf < end; lf = bytes.indexOf(LF, lf + 1)) {
        lines++;
      }
      if (quote < 0) break;
      quoted = true;
      i = quote + 1;
    }
    last = bytes[bytes.length - 1]!;
  }
  if (last !== LF) lines++; // no line break after the last record
  return Math.max(0, lines - 1);
}

/**
 * Jobs between creation and the end of their result reading. `any()` waits for one to end; the first failure is
 * kept, surfaces from `any()`, `all()` and `throwIfFailed()`, and stops the loader from starting more work.
 */
export class InFlight {
  private readonly pending = new Set<Promise<void>>();
  private readonly every: Promise<void>[] = [];
  private failure: { error: unknown } | undefined;

  get size(): number {
    return this.pending.size;
  }

  add(task: Promise<void>): void {
    const tracked = task.then(
      () => {
        this.pending.delete(tracked);
      },
      (error: unknown) => {
        this.pending.delete(tracked);
        this.failure ??= { error };
        throw error;
      }
    );
    tracked.catch(() => undefined); // observed through any()/all(); avoids an unhandled-rejection crash meanwhile
    this.pending.add(tracked);
    this.every.push(tracked);
  }

  any(): Promise<void> {
    return Promise.race(this.pending);
  }

  all(): Promise<void> {
    return Promise.all(this.every).then(() => undefined);
  }

  /** Waits until nothing runs any more, whatever the outcome. */
  settled(): Promise<void> {
    return Promise.allSettled(this.every).then(() => undefined);
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}

/** A CSV file written through `csv-stringify` with backpressure; the file is only created on the first row. */
class CsvSink {
  private stringifier: ReturnType<typeof stringify> | undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly columns: readonly string[]
  ) {}

  async write(values: string[]): Promise<void> {
    if (this.stringifier === undefined) {
      this.stringifier = stringify({ header: true, columns: [...this.columns] });
      this.done = pipeline(this.stringifier, fs.createWriteStream(this.file));
    }
    if (!this.stringifier.write(values)) await once(this.stringifier, 'drain');
  }

  async close(): Promise<void> {
    if (this.stringifier === undefined) {
      await fs.promises.rm(this.file, { force: true });
      return;
    }
    this.stringifier.end();
    await this.done;
  }
}
