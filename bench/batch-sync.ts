/**
 * `npm run bench -- --batch-sync [--sizes 1000000,10000000]`
 *
 * Batch Data Synchronization benchmark: the Bulk API 2.0 loader sends N catalog rows from SQLite to the Bulk API
 * 2.0 stand-in (`remote-system/test/stand-ins/bulk2.ts`, run in a child process so its CSV parsing does not count
 * against the loader), with the default 100 MiB upload cut. Measures rows/s end to end (spool, upload, server-side
 * processing, result download) and the loader process's peak RSS (sampled every 50 ms). Databases are built once
 * under `bench/tmp/` and reused. Results: `bench/results/batch-sync.{md,json}`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBatchSyncConfig } from '../remote-system/src/batch-sync/config';
import { Bulk2Client } from '../remote-system/src/batch-sync/bulk/client';
import { BulkLoader, type LoadSummary } from '../remote-system/src/batch-sync/bulk/loader';
import { ensureCatalogRows } from '../remote-system/src/batch-sync/bulk/source';
import { openDatabase } from '../remote-system/src/db';
import type { SalesforceAuth, SalesforceSession } from '../remote-system/src/salesforce/auth';
import { STAND_IN_TOKEN, startBulk2StandIn } from '../remote-system/test/stand-ins/bulk2';

const ROOT = path.resolve(__dirname);
const TMP = path.join(ROOT, 'tmp');
const RESULTS = path.join(ROOT, 'results');

interface Result {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMiB: number;
  jobs: number;
  mibSent: number;
  seedSeconds: number;
}

/** Child mode: serve the stand-in and print its URL. */
async function serveStandIn(): Promise<void> {
  const standIn = await startBulk2StandIn({ trackExisting: false });
  process.stdout.write(`${standIn.instanceUrl}\n`);
  process.on('SIGTERM', () => void standIn.close().then(() => process.exit(0)));
}

function startStandInProcess(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, '--serve-stand-in'], {
    stdio: ['ignore', 'pipe', 'inherit']
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (data: Buffer) => resolve({ url: data.toString().trim(), child }));
    child.once('exit', (code) => reject(new Error(`stand-in exited with ${code}`)));
  });
}

async function runSize(rows: number): Promise<Result> {
  fs.mkdirSync(TMP, { recursive: true });
  const db = openDatabase(path.join(TMP, 'batch-sync-catalog.sqlite'));
  const seedStarted = performance.now();
  ensureCatalogRows(db, rows);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const { url, child } = await startStandInProcess();
  const session: SalesforceSession = {
    instanceUrl: url,
    accessToken: STAND_IN_TOKEN,
    apiVersion: '67.0'
  };
  const auth: SalesforceAuth = {
    session: async () => session,
    refresh: async () => {
      throw new Error('fixed token');
    }
  };
  const { bulk } = loadBatchSyncConfig({
    BATCH_SYNC_POLL_INITIAL_MS: '100',
    BATCH_SYNC_POLL_MAX_MS: '1000',
    BATCH_SYNC_WORK_DIR: path.join(os.tmpdir(), 'batch-sync-bench')
  });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  let summary: LoadSummary;
  try {
    summary = await new BulkLoader(db, new Bulk2Client(auth), bulk).run({
      object: 'Product2',
      rows
    });
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    db.close();
  }
  if (!summary.ok) throw new Error(`bench load not clean: ${JSON.stringify(summary)}`);
  return {
    rows,
    seconds: Number(summary.seconds.toFixed(1)),
    rowsPerSecond: summary.rowsPerSecond,
    peakRssMiB: Math.round(peak / 1024 / 1024),
    jobs: summary.jobs,
    mibSent: Number((summary.bytesSent / 1024 / 1024).toFixed(1)),
    seedSeconds: Number(seedSeconds.toFixed(1))
  };
}

export async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--serve-stand-in') return serveStandIn();
  let sizes = [1_000_000, 10_000_000];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--sizes')
      sizes = (argv[++i] ?? '').split(',').map((v) => Number(v.replace(/_/g, '')));
    else throw new Error(`unknown option ${argv[i]}`);
  }
  const results: Result[] = [];
  for (const rows of sizes) {
    const result = await runSize(rows);
    console.log(JSON.stringify(result));
    results.push(result);
  }
  fs.mkdirSync(RESULTS, { recursive: true });
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`;
  fs.writeFileSync(
    path.join(RESULTS, 'batch-sync.json'),
    `${JSON.stringify({ date: new Date().toISOString(), machine, results }, null, 2)}\n`
  );
  const table = [
    '| rows | seconds | rows/s | peak RSS (MiB) | jobs | MiB sent |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.rows.toLocaleString('en-US')} | ${r.seconds} | ${r.rowsPerSecond.toLocaleString('en-US')} | ${r.peakRssMiB} | ${r.jobs} | ${r.mibSent} |`
    )
  ];
  fs.writeFileSync(
    path.join(RESULTS, 'batch-sync.md'),
    `# batch-sync: Bulk API 2.0 loader → stand-in\n\n${new Date().toISOString()} on ${machine} (shared machine).\n\n${table.join('\n')}\n`
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
