import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { Bulk2Client, BulkAuthError } from '../../src/batch-sync/bulk/client';
import {
  BulkLoader,
  countCsvRecords,
  LoadError,
  type LoadProgress
} from '../../src/batch-sync/bulk/loader';
import { catalogRow, ensureCatalogRows, skuOf } from '../../src/batch-sync/bulk/source';
import { STAND_IN_TOKEN, startBulk2StandIn, type Bulk2StandIn } from '../stand-ins/bulk2';
import { loaderFixture, TokenListAuth } from './support';

const ROWS = 300;

describe('Bulk API 2.0 loader against the stand-in', () => {
  let fixture: ReturnType<typeof loaderFixture>;
  let standIn: Bulk2StandIn | undefined;

  beforeEach(() => {
    fixture = loaderFixture();
    ensureCatalogRows(fixture.db, ROWS);
  });
  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
    fixture.cleanup();
  });

  const loader = (
    s: Bulk2StandIn,
    options: { tokens?: string[]; fetch?: typeof fetch; progress?: LoadProgress[] } = {}
  ) => {
    const auth = new TokenListAuth(s.instanceUrl, options.tokens ?? [STAND_IN_TOKEN]);
    const client = new Bulk2Client(auth, {
      retryDelayMs: 1,
      ...(options.fetch ? { fetch: options.fetch } : {})
    });
    return {
      auth,
      loader: new BulkLoader(fixture.db, client, fixture.settings, (p) => options.progress?.push(p))
    };
  };

  it('splits the rows into jobs below the upload limit and loads every row once', async () => {
    const seen = new Map<string, number>();
    standIn = await startBulk2StandIn({
      maxUploadBytes: 8000, // base64 of the loader's 6000-byte cap fits; more would be rejected
      decide: (row) => {
        seen.set(row.ERP_Product_Code__c!, (seen.get(row.ERP_Product_Code__c!) ?? 0) + 1);
        return undefined;
      }
    });
    const progress: LoadProgress[] = [];
    const summary = await loader(standIn, { progress }).loader.run({
      object: 'Product2',
      rows: ROWS
    });

    expect(summary).toMatchObject({
      rowsSent: ROWS,
      succeeded: ROWS,
      failed: 0,
      unprocessed: 0,
      ok: true
    });
    expect(summary.jobs).toBeGreaterThan(3);
    expect(standIn.requests.uploadRejected ?? 0).toBe(0);
    expect(standIn.rowsPerJob().reduce((a, b) => a + b, 0)).toBe(ROWS);
    const ledger = fixture.db
      .prepare('SELECT byte_count, first_key, last_key FROM batch_sync_jobs ORDER BY seq')
      .all() as { byte_count: number; first_key: string; last_key: string }[];
    for (const job of ledger) expect(job.byte_count).toBeLessThanOrEqual(6000);
    // Contiguous key ranges: each job starts right after the previous one.
    for (let i = 1; i < ledger.length; i++)
      expect(ledger[i]!.first_key > ledger[i - 1]!.last_key).toBe(true);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(seen.size).toBe(ROWS);
    expect(progress.at(-1)).toMatchObject({
      rowsTotal: ROWS,
      rowsSent: ROWS,
      rowsDone: ROWS,
      jobsInFlight: 0
    });
  });

  it('the stand-in rejects an upload above its limit, and the loader says so', async () => {
    standIn = await startBulk2StandIn({ maxUploadBytes: 4000 });
    await expect(loader(standIn).loader.run({ object: 'Product2', rows: ROWS })).rejects.toThrow(
      /413 REQUEST_ENTITY_TOO_LARGE/
    );
    expect(standIn.requests.uploadRejected).toBe(1);
  });

  it('keeps quotes, commas, line breaks and non-ASCII text intact through the round trip', async () => {
    const received = new Map<string, Record<string, string>>();
    standIn = await startBulk2StandIn({
      decide: (row) => {
        received.set(row.ERP_Product_Code__c!, { ...row });
        return undefined;
      }
    });
    await loader(standIn).loader.run({ object: 'Product2', rows: 100 });
    for (const n of [7, 11, 13, 77, 91]) {
      const [sku, name, family, description, , active] = catalogRow(n);
      expect(received.get(sku)).toEqual({
        ERP_Product_Code__c: sku,
        Name: name,
        ProductCode: sku,
        Family: family,
        IsActive: active === 1 ? 'true' : 'false',
        Description: description ?? ''
      });
    }
    expect(received.get(skuOf(13))!.Name).toContain('東京');
    expect(received.get(skuOf(11))!.Description).toContain('\n');
    expect(received.get(skuOf(7))!.Name).toContain('"Pro",');
  });

  it('retries retryable failures once in a new job and reports the rest with their errors', async () => {
    const attempts = new Map<string, number>();
    standIn = await startBulk2StandIn({
      decide: (row) => {
        const sku = row.ERP_Product_Code__c!;
        const n = Number(sku.slice(4));
        const attempt = (attempts.get(sku) ?? 0) + 1;
        attempts.set(sku, attempt);
        if (n % 10 === 0)
          return 'REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --';
        if (n % 25 === 1 && attempt === 1)
          return 'UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--';
        if (n === 51)
          return 'UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--'; // twice
        return undefined;
      }
    });
    const summary = await loader(standIn).loader.run({ object: 'Product2', rows: ROWS });

    const lockRows = Array.from({ length: ROWS }, (_, i) => i + 1).filter(
      (n) => n % 25 === 1
    ).length;
    expect(summary.retried).toBe(lockRows);
    expect(summary.recovered).toBe(lockRows - 1); // row 51 failed again
    expect(summary.failed).toBe(ROWS / 10 + 1);
    expect(summary.succeeded).toBe(ROWS - ROWS / 10 - 1);
    expect(summary.ok).toBe(false);
    expect(attempts.get(skuOf(51))).toBe(2); // retried once, never a third time
    expect(attempts.get(skuOf(10))).toBe(1); // not retryable: sent once
    // The report files carry the error and the row as sent.
    const failedRows = fs
      .readdirSync(summary.reportDir)
      .filter((f) => f.startsWith('failed-'))
      .flatMap(
        (f) =>
          parse(fs.readFileSync(path.join(summary.reportDir, f)), { columns: true }) as Record<
            string,
            string
          >[]
      );
    expect(failedRows).toHaveLength(summary.failed);
    expect(failedRows.find((r) => r.ERP_Product_Code__c === skuOf(51))!.sf__Error).toMatch(
      /^UNABLE_TO_LOCK_ROW/
    );
    expect(failedRows.find((r) => r.ERP_Product_Code__c === skuOf(20))!.sf__Error).toMatch(
      /^REQUIRED_FIELD_MISSING/
    );
  });

  it('reports an aborted job and its unprocessed rows without sending them again', async () => {
    standIn = await startBulk2StandIn({ abortJob: (job) => (job.sequence === 2 ? 10 : undefined) });
    const summary = await loader(standIn).loader.run({ object: 'Product2', rows: ROWS });
    expect(summary.abortedJobs).toHaveLength(1);
    const aborted = summary.abortedJobs[0]!;
    expect(aborted.state).toBe('Aborted');
    expect(summary.unprocessed).toBe(aborted.rows - 10);
    expect(summary.succeeded).toBe(ROWS - summary.unprocessed);
    expect(summary.ok).toBe(false);
    expect(fs.existsSync(path.join(summary.reportDir, `unprocessed-${aborted.jobId}.csv`))).toBe(
      true
    );
  });

  it("sends a failed job's unprocessed rows once more in a retry job", async () => {
    standIn = await startBulk2StandIn({
      failJob: (job) =>
        job.sequence === 1
          ? { afterRows: 5, message: 'InvalidBatch : Failed to process query' }
          : undefined
    });
    const summary = await loader(standIn).loader.run({ object: 'Product2', rows: ROWS });
    expect(summary.failedJobs).toEqual([
      expect.objectContaining({
        state: 'Failed',
        errorMessage: 'InvalidBatch : Failed to process query'
      })
    ]);
    expect(summary.retried).toBe(summary.failedJobs[0]!.rows - 5);
    expect(summary.recovered).toBe(summary.retried);
    expect(summary).toMatchObject({ succeeded: ROWS, failed: 0, unprocessed: 0, ok: true });
  });

  it('renews the session once after a 401, and gives a clear error when the org keeps rejecting it', async () => {
    standIn = await startBulk2StandIn({ tokens: ['second-token'] });
    const renewed = loader(standIn, { tokens: ['expired-token', 'second-token'] });
    const summary = await renewed.loader.run({ object: 'Product2', rows: 20 });
    expect(summary.ok).toBe(true);
    expect(renewed.auth.refreshes).toBe(1);

    const bad = loader(standIn, { tokens: ['wrong-token'] });
    await expect(bad.loader.run({ object: 'Product2', rows: 20 })).rejects.toThrow(BulkAuthError);
    await expect(bad.loader.run({ object: 'Product2', rows: 20 })).rejects.toThrow(
      /rejected the session .*INVALID_SESSION_ID.*SF_\*/
    );
  });

  it('resumes an interrupted run without re-sending rows already accepted', async () => {
    const seen = new Map<string, number>();
    standIn = await startBulk2StandIn({
      queueDelayMs: 5,
      decide: (row) => {
        seen.set(row.ERP_Product_Code__c!, (seen.get(row.ERP_Product_Code__c!) ?? 0) + 1);
        return undefined;
      }
    });
    let puts = 0;
    const crashOnThirdUpload: typeof fetch = (input, init) => {
      if (init?.method === 'PUT' && ++puts === 3)
        return Promise.reject(new Error('connection reset'));
      return fetch(input, init);
    };
    await expect(
      loader(standIn, { fetch: crashOnThirdUpload }).loader.run({ object: 'Product2', rows: ROWS })
    ).rejects.toThrow(/connection reset/);
    const runId = fixture.db.prepare('SELECT run_id FROM batch_sync_runs').pluck().get() as string;
    // The job whose upload failed is Open; the pipeline may already have created the next one (spooled meanwhile).
    const open = fixture.db
      .prepare("SELECT job_id FROM batch_sync_jobs WHERE state = 'Open'")
      .pluck()
      .all() as string[];
    expect(open.length).toBeGreaterThanOrEqual(1);
    expect(open.length).toBeLessThanOrEqual(fixture.settings.maxJobsInFlight);

    const summary = await loader(standIn).loader.run({
      object: 'Product2',
      rows: ROWS,
      resumeRunId: runId
    });
    expect(summary).toMatchObject({ runId, rowsSent: ROWS, succeeded: ROWS, ok: true });
    expect(seen.size).toBe(ROWS);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    const abandoned = fixture.db
      .prepare("SELECT job_id FROM batch_sync_jobs WHERE state = 'Abandoned'")
      .pluck()
      .all() as string[];
    expect(abandoned.sort()).toEqual(open.sort());
    for (const jobId of abandoned) expect(standIn.jobs.get(jobId)!.state).toBe('Aborted');
  });

  it('refuses unknown objects and row counts above the daily allocation', async () => {
    standIn = await startBulk2StandIn();
    const { loader: l } = loader(standIn);
    await expect(l.run({ object: 'Contact', rows: 10 })).rejects.toThrow(LoadError);
    await expect(l.run({ object: 'Product2', rows: 150_000_001 })).rejects.toThrow(/150,000,000/);
    expect(standIn.requests.create ?? 0).toBe(0);
  });
});

describe('countCsvRecords', () => {
  it('counts records, not lines, and agrees with csv-parse', async () => {
    const csv = 'a,b\n1,"two\nlines"\n"x ""quoted"", y",2\n3,4';
    const count = await countCsvRecords([Buffer.from(csv.slice(0, 9)), Buffer.from(csv.slice(9))]);
    expect(count).toBe((parse(csv) as unknown[]).length - 1);
    expect(await countCsvRecords([Buffer.from('a,b\n')])).toBe(0);
    expect(await countCsvRecords([])).toBe(0);
  });
});
