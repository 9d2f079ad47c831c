import os from 'node:os';
import path from 'node:path';
import { EnvReader, type Env } from '../config';

/**
 * Settings of the batch-sync pattern, read from `BATCH_SYNC_*` variables (see `.env.example`). Each value is
 * validated once; every bad variable is named in one {@link ConfigError}.
 */
export interface BatchSyncConfig {
  /** Customers per page of `GET /batch-sync/customers` when the caller gives no `limit`. */
  readonly defaultPageSize: number;
  /** Largest `limit` (and `numbers` count) a caller may ask for: bounds the reply a Batch Apex chunk parses. */
  readonly maxPageSize: number;
  readonly bulk: BulkLoaderSettings;
}

/** How the Bulk API 2.0 loader cuts, paces and retries its jobs. */
export interface BulkLoaderSettings {
  /**
   * Largest CSV upload per job, in bytes, before base64. Salesforce accepts 150 MB of base64-encoded content per
   * job and advises uploads of at most 100 MB raw (base64 grows data by a third to a half).
   */
  readonly maxUploadBytes: number;
  /**
   * Most rows per job (Salesforce processes a job in internal batches of 10,000 records). Smaller jobs let the
   * loader overlap spooling, upload, processing and result reading; each job costs a handful of API requests.
   */
  readonly maxRowsPerJob: number;
  /**
   * Jobs between creation and the end of their result reading at once: bounds the org's concurrent work for this
   * run and the spooled files on disk (at most this many, each under `maxUploadBytes`). Uploads still go one at a
   * time, in key order.
   */
  readonly maxJobsInFlight: number;
  /**
   * Worker threads that spool job files (SQLite → CSV, most of the loader's CPU work), each its own key range, while
   * the main thread uploads, polls and reads results. 0: the same work in the main thread, one job at a time.
   */
  readonly spoolWorkers: number;
  /** Most rows per run: the org's allocation is 150,000,000 Bulk API records per rolling 24 hours. */
  readonly maxRowsPerRun: number;
  /** First wait between two job-status polls, doubled after each poll up to `pollMaxMs`. */
  readonly pollInitialMs: number;
  readonly pollMaxMs: number;
  /** Give up waiting for one job after this long (the job keeps running in the org; `--resume` picks it up). */
  readonly jobTimeoutMs: number;
  /** Where the per-job CSV files are spooled before upload (removed after the upload succeeds). */
  readonly workDir: string;
}

/** 100 MiB: the raw upload size Salesforce advises so that base64 (+~50 %) stays under the 150 MB limit. */
export const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
/**
 * Rows per job by default: ten of the org's internal 10,000-record batches (a multiple, so no part-filled batch
 * counts against the 15,000 batches per 24 h), 1,500 jobs for a full daily allocation, and small enough that a load
 * of a million rows overlaps ten jobs (`bench/results/batch-sync.md`).
 */
export const DEFAULT_MAX_ROWS_PER_JOB = 100_000;
/**
 * No spool worker by default: on the shared 2-core benchmark machine one or two workers cost more CPU (thread start,
 * a second copy of the modules) and 6 to 55 MiB more RSS than they gained (`bench/results/batch-sync.md`). Worth
 * trying where the loader's host has idle cores of its own.
 */
export const DEFAULT_SPOOL_WORKERS = 0;
/** Jobs in flight by default. */
export const DEFAULT_MAX_JOBS_IN_FLIGHT = 3;
/** The Bulk API 2.0 allocation: 150,000,000 records per rolling 24 hours. */
export const DAILY_RECORD_ALLOCATION = 150_000_000;

/** Reads the `BATCH_SYNC_*` settings from `env` (`config.env` in `patternModules`); throws a `ConfigError`. */
export function loadBatchSyncConfig(env: Env): BatchSyncConfig {
  const reader = new EnvReader(env);
  const problems = reader.problems;
  const integer = (name: string, fallback: number, min: number, max: number): number =>
    reader.integer(name, fallback, min, max);

  const maxPageSize = integer('BATCH_SYNC_MAX_PAGE_SIZE', 500, 1, 2_000);
  const defaultPageSize = integer('BATCH_SYNC_PAGE_SIZE', 200, 1, 2_000);
  if (defaultPageSize > maxPageSize) {
    problems.push(
      `BATCH_SYNC_PAGE_SIZE (${defaultPageSize}) must not exceed BATCH_SYNC_MAX_PAGE_SIZE (${maxPageSize})`
    );
  }
  const pollInitialMs = integer('BATCH_SYNC_POLL_INITIAL_MS', 1_000, 1, 600_000);
  const pollMaxMs = integer('BATCH_SYNC_POLL_MAX_MS', 30_000, 1, 600_000);
  if (pollInitialMs > pollMaxMs) {
    problems.push('BATCH_SYNC_POLL_INITIAL_MS must not exceed BATCH_SYNC_POLL_MAX_MS');
  }
  const bulk: BulkLoaderSettings = {
    maxUploadBytes: integer(
      'BATCH_SYNC_MAX_UPLOAD_BYTES',
      DEFAULT_MAX_UPLOAD_BYTES,
      1_024,
      DEFAULT_MAX_UPLOAD_BYTES
    ),
    maxRowsPerJob: integer(
      'BATCH_SYNC_MAX_ROWS_PER_JOB',
      DEFAULT_MAX_ROWS_PER_JOB,
      1,
      DAILY_RECORD_ALLOCATION
    ),
    maxJobsInFlight: integer('BATCH_SYNC_MAX_JOBS_IN_FLIGHT', DEFAULT_MAX_JOBS_IN_FLIGHT, 1, 50),
    spoolWorkers: integer('BATCH_SYNC_SPOOL_WORKERS', DEFAULT_SPOOL_WORKERS, 0, 16),
    maxRowsPerRun: integer(
      'BATCH_SYNC_MAX_ROWS_PER_RUN',
      DAILY_RECORD_ALLOCATION,
      1,
      DAILY_RECORD_ALLOCATION
    ),
    pollInitialMs,
    pollMaxMs,
    jobTimeoutMs: integer('BATCH_SYNC_JOB_TIMEOUT_MS', 3_600_000, 1_000, 86_400_000),
    workDir: reader.string('BATCH_SYNC_WORK_DIR') ?? path.join(os.tmpdir(), 'erp-batch-sync')
  };
  reader.throwIfInvalid();
  return { defaultPageSize, maxPageSize, bulk };
}
