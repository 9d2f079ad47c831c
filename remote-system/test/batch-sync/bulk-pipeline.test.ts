import fs from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { Bulk2Client } from '../../src/batch-sync/bulk/client';
import { loadBatchSyncConfig } from '../../src/batch-sync/config';
import { ConfigError } from '../../src/config';
import { BulkLoader } from '../../src/batch-sync/bulk/loader';
import { catalogRow, ensureCatalogRows, skuOf } from '../../src/batch-sync/bulk/source';
import { STAND_IN_TOKEN, startBulk2StandIn, type Bulk2StandIn } from '../stand-ins/bulk2';
import { tempDir } from '../support';
import { loaderFixture, TokenListAuth } from './support';

/**
 * The loader's pipeline: jobs overlap (spool, upload, processing, results) but stay within the configured bound,
 * uploads go one at a time in key order, the spool workers give the same jobs as the main thread, and an upload is
 * streamed from its file rather than read ahead into memory.
 */

const ROWS = 300;

/** Watches the Bulk API requests a loader makes: jobs between creation and their last result file, uploads. */
function watchRequests() {
  const created: string[] = [];
  const closedAt = new Map<string, number>();
  const uploadStartedAt = new Map<string, number>();
  let clock = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let uploading = 0;
  let maxUploading = 0;
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    const jobId = /\/jobs\/ingest\/([^/]+)/.exec(url)?.[1];
    if (method === 'PUT') {
      uploadStartedAt.set(jobId!, ++clock);
      maxUploading = Math.max(maxUploading, ++uploading);
    }
    try {
      const response = await fetch(input, init);
      if (method === 'POST' && response.ok) {
        const info = (await response.clone().json()) as { id: string };
        created.push(info.id);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
      }
      if (method === 'PATCH' && response.ok) closedAt.set(jobId!, ++clock);
      // The loader reads unprocessedrecords last: after it, the job no longer counts.
      if (method === 'GET' && url.includes('/unprocessedrecords')) inFlight--;
      return response;
    } finally {
      if (method === 'PUT') uploading--;
    }
  };
  return {
    fetchImpl,
    created,
    closedAt,
    uploadStartedAt,
    get maxInFlight() {
      return maxInFlight;
    },
    get maxUploading() {
      return maxUploading;
    }
  };
}

describe('Bulk API 2.0 loader pipeline', () => {
  let standIn: Bulk2StandIn | undefined;
  const cleanups: (() => void)[] = [];

  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  const fixture = (overrides: Record<string, string>) => {
    const f = loaderFixture({ BATCH_SYNC_MAX_UPLOAD_BYTES: '1048576', ...overrides });
    cleanups.push(f.cleanup);
    ensureCatalogRows(f.db, ROWS);
    return f;
  };

  it.each([
    ['main thread', '0'],
    ['two spool workers', '2']
  ])(
    'overlaps jobs up to BATCH_SYNC_MAX_JOBS_IN_FLIGHT and uploads them one at a time in key order (%s)',
    async (_name, workers) => {
      const seen = new Map<string, number>();
      standIn = await startBulk2StandIn({
        queueDelayMs: 40, // jobs stay in the org long enough for the next ones to be sent
        decide: (row) => {
          seen.set(row.ERP_Product_Code__c!, (seen.get(row.ERP_Product_Code__c!) ?? 0) + 1);
          return undefined;
        }
      });
      const f = fixture({
        BATCH_SYNC_MAX_ROWS_PER_JOB: '25',
        BATCH_SYNC_MAX_JOBS_IN_FLIGHT: '3',
        BATCH_SYNC_SPOOL_WORKERS: workers
      });
      const watch = watchRequests();
      const client = new Bulk2Client(new TokenListAuth(standIn.instanceUrl, [STAND_IN_TOKEN]), {
        fetch: watch.fetchImpl
      });
      const summary = await new BulkLoader(f.db, client, f.settings).run({
        object: 'Product2',
        rows: ROWS
      });

      expect(summary).toMatchObject({ rowsSent: ROWS, succeeded: ROWS, jobs: 12, ok: true });
      expect(watch.maxInFlight).toBe(3); // the bound is reached (jobs overlap) and never passed
      expect(watch.maxUploading).toBe(1);
      // Each upload starts after the previous job was closed, in the order the jobs were created.
      for (let i = 1; i < watch.created.length; i++) {
        const previous = watch.created[i - 1]!;
        expect(watch.uploadStartedAt.get(watch.created[i]!)!).toBeGreaterThan(
          watch.closedAt.get(previous)!
        );
      }
      const ledger = f.db
        .prepare(
          "SELECT job_id, first_key, last_key, row_count FROM batch_sync_jobs WHERE kind = 'load' ORDER BY seq"
        )
        .all() as { job_id: string; first_key: string; last_key: string; row_count: number }[];
      expect(ledger.map((j) => j.job_id)).toEqual(watch.created);
      expect(ledger.map((j) => j.row_count)).toEqual(Array(12).fill(25));
      expect(ledger[0]!.first_key).toBe(skuOf(1));
      for (let i = 1; i < ledger.length; i++) {
        expect(ledger[i]!.first_key).toBe(skuOf(Number(ledger[i - 1]!.last_key.slice(4)) + 1));
      }
      expect(seen.size).toBe(ROWS);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      // Spooled files are removed once uploaded.
      expect(fs.readdirSync(summary.reportDir).filter((f) => f.startsWith('upload-'))).toEqual([]);
    }
  );

  it('spool workers cut jobs below the upload limit exactly as the main thread does', async () => {
    standIn = await startBulk2StandIn({ maxUploadBytes: 8000 });
    const cuts: number[][] = [];
    for (const workers of ['0', '2']) {
      const f = fixture({
        BATCH_SYNC_MAX_UPLOAD_BYTES: '6000',
        BATCH_SYNC_MAX_ROWS_PER_JOB: '120',
        BATCH_SYNC_SPOOL_WORKERS: workers
      });
      const client = new Bulk2Client(new TokenListAuth(standIn.instanceUrl, [STAND_IN_TOKEN]));
      const summary = await new BulkLoader(f.db, client, f.settings).run({
        object: 'Product2',
        rows: ROWS
      });
      expect(summary).toMatchObject({ rowsSent: ROWS, succeeded: ROWS, ok: true });
      const ledger = f.db
        .prepare('SELECT row_count, byte_count FROM batch_sync_jobs ORDER BY seq')
        .all() as { row_count: number; byte_count: number }[];
      for (const job of ledger) expect(job.byte_count).toBeLessThanOrEqual(6000);
      cuts.push(ledger.map((j) => j.row_count));
    }
    expect(cuts[1]).toEqual(cuts[0]);
    expect(cuts[0]!.length).toBeGreaterThan(ROWS / 120 + 1); // ranges of 120 rows were cut by size too
    expect(standIn.requests.uploadRejected ?? 0).toBe(0);
  });

  it('stops at the first failed upload: no later job is uploaded, its spooled files are removed', async () => {
    standIn = await startBulk2StandIn({ queueDelayMs: 5 });
    const f = fixture({ BATCH_SYNC_MAX_ROWS_PER_JOB: '25', BATCH_SYNC_MAX_JOBS_IN_FLIGHT: '3' });
    let puts = 0;
    const failSecondUpload: typeof fetch = (input, init) => {
      if (init?.method === 'PUT' && ++puts === 2)
        return Promise.reject(new Error('connection reset'));
      return fetch(input, init);
    };
    const client = new Bulk2Client(new TokenListAuth(standIn.instanceUrl, [STAND_IN_TOKEN]), {
      fetch: failSecondUpload
    });
    await expect(
      new BulkLoader(f.db, client, f.settings).run({ object: 'Product2', rows: ROWS })
    ).rejects.toThrow(/connection reset/);
    expect(puts).toBe(2);
    const runId = f.db.prepare('SELECT run_id FROM batch_sync_runs').pluck().get() as string;
    const reportDir = path.join(f.settings.workDir, runId);
    expect(fs.readdirSync(reportDir).filter((name) => name.startsWith('upload-'))).toEqual([]);
    expect(
      f.db
        .prepare(
          "SELECT count(*) FROM batch_sync_jobs WHERE state = 'UploadComplete' OR state = 'JobComplete'"
        )
        .pluck()
        .get()
    ).toBe(1);
  });

  it.each([
    ['main thread', '0'],
    ['two spool workers', '2']
  ])(
    'resumes a pipelined run cut by a failed upload without re-sending accepted rows (%s)',
    async (_name, workers) => {
      const seen = new Map<string, number>();
      standIn = await startBulk2StandIn({
        queueDelayMs: 5,
        decide: (row) => {
          seen.set(row.ERP_Product_Code__c!, (seen.get(row.ERP_Product_Code__c!) ?? 0) + 1);
          return undefined;
        }
      });
      const f = fixture({
        BATCH_SYNC_MAX_ROWS_PER_JOB: '20',
        BATCH_SYNC_MAX_JOBS_IN_FLIGHT: '4',
        BATCH_SYNC_SPOOL_WORKERS: workers
      });
      let puts = 0;
      const failFifthUpload: typeof fetch = (input, init) => {
        if (init?.method === 'PUT' && ++puts === 5) {
          return Promise.reject(new Error('connection reset'));
        }
        return fetch(input, init);
      };
      const auth = new TokenListAuth(standIn.instanceUrl, [STAND_IN_TOKEN]);
      await expect(
        new BulkLoader(f.db, new Bulk2Client(auth, { fetch: failFifthUpload }), f.settings).run({
          object: 'Product2',
          rows: ROWS
        })
      ).rejects.toThrow(/connection reset/);
      const runId = f.db.prepare('SELECT run_id FROM batch_sync_runs').pluck().get() as string;

      const summary = await new BulkLoader(f.db, new Bulk2Client(auth), f.settings).run({
        object: 'Product2',
        rows: ROWS,
        resumeRunId: runId
      });
      expect(summary).toMatchObject({ rowsSent: ROWS, succeeded: ROWS, ok: true });
      expect(seen.size).toBe(ROWS);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      // The four jobs closed before the failure were kept; the rest of the range was sent again in new jobs.
      const kept = f.db
        .prepare(
          "SELECT count(*) FROM batch_sync_jobs WHERE kind = 'load' AND state = 'JobComplete' AND seq <= 4"
        )
        .pluck()
        .get();
      expect(kept).toBe(4);
    }
  );

  it.each([
    ['main thread', '0'],
    ['two spool workers', '2']
  ])(
    'refuses a row larger than the upload cut with a clear error and leaves no spooled file (%s)',
    async (_name, workers) => {
      standIn = await startBulk2StandIn();
      const f = fixture({
        BATCH_SYNC_MAX_UPLOAD_BYTES: '1024',
        BATCH_SYNC_MAX_ROWS_PER_JOB: '10',
        BATCH_SYNC_SPOOL_WORKERS: workers
      });
      f.db
        .prepare('UPDATE batch_sync_catalog SET description = ? WHERE sku = ?')
        .run('y'.repeat(2000), skuOf(25));
      const client = new Bulk2Client(new TokenListAuth(standIn.instanceUrl, [STAND_IN_TOKEN]));
      await expect(
        new BulkLoader(f.db, client, f.settings).run({ object: 'Product2', rows: ROWS })
      ).rejects.toThrow(
        new RegExp(`row ${skuOf(25)} alone is larger than BATCH_SYNC_MAX_UPLOAD_BYTES \\(1024\\)`)
      );
      const runId = f.db.prepare('SELECT run_id FROM batch_sync_runs').pluck().get() as string;
      const reportDir = path.join(f.settings.workDir, runId);
      expect(fs.readdirSync(reportDir).filter((name) => name.startsWith('upload-'))).toEqual([]);
      // The jobs before that row were sent; none after it.
      const lastKeys = f.db
        .prepare("SELECT last_key FROM batch_sync_jobs WHERE kind = 'load' ORDER BY seq")
        .pluck()
        .all() as string[];
      expect(lastKeys.at(-1)).toBe(skuOf(20));
    }
  );

  it('streams an upload from its file: memory does not grow with the file while the server reads slowly', async () => {
    const { dir, cleanup } = tempDir('bulk-upload-');
    cleanups.push(cleanup);
    const file = path.join(dir, 'job.csv');
    const line = `${'x'.repeat(1023)}\n`;
    fs.writeFileSync(file, line.repeat(48 * 1024)); // 48 MiB
    let before = 0;
    let during = 0;
    let received = 0;
    const server = http.createServer(async (req, res) => {
      // Take the first chunk, then let the client run for a while with the request paused.
      req.pause();
      await new Promise((resolve) => setTimeout(resolve, 300));
      during = process.memoryUsage().arrayBuffers;
      for await (const chunk of req as AsyncIterable<Buffer>) received += chunk.length;
      res.writeHead(201).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => server.close());
    const { port } = server.address() as { port: number };
    const client = new Bulk2Client(new TokenListAuth(`http://127.0.0.1:${port}`, ['t']));
    before = process.memoryUsage().arrayBuffers;
    await client.upload('750000000000001', file);
    expect(received).toBe(48 * 1024 * 1024);
    // Read ahead would hold most of the 48 MiB file; streaming holds socket-sized chunks.
    expect(during - before).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('Bulk API 2.0 stand-in: the benchmark path', () => {
  it('answers the same successful results as the full path, record for record', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => catalogRow(i + 1));
    const csv = [
      'ERP_Product_Code__c,Name,Description',
      ...rows.map(([sku, name, , description]) =>
        [sku, name, description ?? '']
          .map((v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v))
          .join(',')
      )
    ].join('\n'); // no line break after the last record
    const results: string[][][] = [];
    for (const trackExisting of [false, true]) {
      const standIn = await startBulk2StandIn({ trackExisting });
      try {
        const client = new Bulk2Client(new TokenListAuth(standIn.instanceUrl, [STAND_IN_TOKEN]));
        const { dir, cleanup } = tempDir('bulk-bench-path-');
        try {
          const file = path.join(dir, 'data.csv');
          fs.writeFileSync(file, csv);
          const job = await client.createJob({
            object: 'Product2',
            operation: 'upsert',
            externalIdFieldName: 'ERP_Product_Code__c'
          });
          await client.upload(job.id, file);
          await client.setState(job.id, 'UploadComplete');
          let info = await client.info(job.id);
          while (info.state !== 'JobComplete') {
            await new Promise((resolve) => setTimeout(resolve, 5));
            info = await client.info(job.id);
          }
          expect(info.numberRecordsProcessed).toBe(rows.length);
          const chunks: Buffer[] = [];
          for await (const chunk of await client.results(job.id, 'successfulResults'))
            chunks.push(chunk as Buffer);
          results.push(parse(Buffer.concat(chunks)) as string[][]);
        } finally {
          cleanup();
        }
      } finally {
        await standIn.close();
      }
    }
    const [fast, full] = results as [string[][], string[][]];
    expect(fast[0]).toEqual([
      'sf__Id',
      'sf__Created',
      'ERP_Product_Code__c',
      'Name',
      'Description'
    ]);
    expect(fast).toHaveLength(rows.length + 1);
    // Ids differ per stand-in instance; everything after them is the record as sent.
    expect(fast.map((r) => r.slice(1))).toEqual(full.map((r) => r.slice(1)));
    expect(fast[13]!.slice(2)).toEqual([skuOf(13), catalogRow(13)[1], catalogRow(13)[3] ?? '']);
    expect(fast[11]![4]).toContain('\n');
  });
});

describe('loader pipeline settings', () => {
  it('defaults to jobs of 100,000 rows (ten internal batches), 3 in flight, the spool in the main thread', () => {
    const { bulk } = loadBatchSyncConfig({});
    expect(bulk).toMatchObject({ maxRowsPerJob: 100_000, maxJobsInFlight: 3, spoolWorkers: 0 });
  });

  it('names each out-of-range setting', () => {
    expect(() =>
      loadBatchSyncConfig({ BATCH_SYNC_MAX_JOBS_IN_FLIGHT: '0', BATCH_SYNC_SPOOL_WORKERS: '-1' })
    ).toThrow(ConfigError);
    expect(() =>
      loadBatchSyncConfig({ BATCH_SYNC_MAX_JOBS_IN_FLIGHT: '0', BATCH_SYNC_SPOOL_WORKERS: '-1' })
    ).toThrow(/BATCH_SYNC_MAX_JOBS_IN_FLIGHT[\s\S]*BATCH_SYNC_SPOOL_WORKERS/);
  });
});
