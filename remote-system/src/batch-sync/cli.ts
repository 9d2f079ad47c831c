/**
 * `npm run sync:bulk -- --object Product2 --rows 1000000 [--resume <runId>]`: loads ERP rows into Salesforce with
 * the Bulk API 2.0 loader. The target is the org of the documented `SF_*` settings (or any server speaking the
 * Bulk API 2.0 REST contract at `SF_INSTANCE_URL`); the source is the ERP database (`DATABASE_PATH`), whose catalog
 * export is generated up to `--rows` rows when it holds fewer. Exit code 0 when every row was accepted, 1 otherwise.
 */
import { SingleBar, Presets } from 'cli-progress';
import { loadConfig, loadEnvFile } from '../config';
import { openDatabase } from '../db';
import { createSalesforceAuth } from '../salesforce/auth';
import { loadBatchSyncConfig } from './config';
import { Bulk2Client } from './bulk/client';
import { BulkLoader, type LoadSummary } from './bulk/loader';
import { ensureCatalogRows, LOAD_SOURCES } from './bulk/source';

interface Arguments {
  object: string;
  rows: number;
  resume?: string;
}

export function parseArguments(argv: readonly string[]): Arguments {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!;
    if (!['--object', '--rows', '--resume'].includes(name)) {
      throw new Error(
        `unknown argument ${name}; usage: --object Product2 --rows N [--resume <runId>]`
      );
    }
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
    values.set(name, value);
  }
  const rowsText = values.get('--rows') ?? '';
  if (!/^\d+$/.test(rowsText.replace(/_/g, '')))
    throw new Error('--rows must be a whole number, e.g. --rows 1000000');
  const object = values.get('--object') ?? 'Product2';
  if (!LOAD_SOURCES[object]) {
    throw new Error(
      `--object ${object} is not supported; supported: ${Object.keys(LOAD_SOURCES).join(', ')}`
    );
  }
  return {
    object,
    rows: Number(rowsText.replace(/_/g, '')),
    ...(values.has('--resume') ? { resume: values.get('--resume')! } : {})
  };
}

export function formatSummary(s: LoadSummary): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const lines = [
    `run ${s.runId} (${s.object}) ${s.ok ? 'completed: every row accepted' : 'completed WITH PROBLEMS'}`,
    `  rows sent        ${n(s.rowsSent)} in ${n(s.jobs)} jobs (${(s.bytesSent / 1024 / 1024).toFixed(1)} MiB)`,
    `  accepted         ${n(s.succeeded)}`,
    `  retried once     ${n(s.retried)} (recovered ${n(s.recovered)})`,
    `  failed           ${n(s.failed)}`,
    `  unprocessed      ${n(s.unprocessed)}`,
    `  time             ${s.seconds.toFixed(1)} s, ${n(s.rowsPerSecond)} rows/s`
  ];
  for (const job of s.abortedJobs) lines.push(`  ABORTED job ${job.jobId} (${n(job.rows)} rows)`);
  for (const job of s.failedJobs)
    lines.push(`  FAILED job ${job.jobId}: ${job.errorMessage ?? 'no message'}`);
  if (!s.ok) lines.push(`  row-level reports: ${s.reportDir}`);
  if (!s.ok)
    lines.push(
      `  continue an interrupted run with: npm run sync:bulk -- --object ${s.object} --rows <same> --resume ${s.runId}`
    );
  return lines.join('\n');
}

async function main(): Promise<number> {
  loadEnvFile();
  const args = parseArguments(process.argv.slice(2));
  const config = loadConfig();
  const settings = loadBatchSyncConfig(config.env);
  const db = openDatabase(config.databasePath);
  try {
    const added = ensureCatalogRows(db, args.rows);
    if (added > 0) console.log(`catalog export: generated ${added.toLocaleString('en-US')} rows`);
    const client = new Bulk2Client(createSalesforceAuth(config.salesforce));
    const bar = new SingleBar(
      {
        format:
          'rows {bar} {percentage}% | sent {value}/{total} | results read {done} | jobs running {jobs} | failed {failed}',
        hideCursor: true
      },
      Presets.shades_classic
    );
    bar.start(args.rows, 0, { done: 0, jobs: 0, failed: 0 });
    const loader = new BulkLoader(db, client, settings.bulk, (p) =>
      bar.update(p.rowsSent, { done: p.rowsDone, jobs: p.jobsInFlight, failed: p.failed })
    );
    let summary: LoadSummary;
    try {
      summary = await loader.run({
        object: args.object,
        rows: args.rows,
        ...(args.resume ? { resumeRunId: args.resume } : {})
      });
    } finally {
      bar.stop();
    }
    console.log(formatSummary(summary));
    return summary.ok ? 0 : 1;
  } finally {
    db.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`sync:bulk failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  );
}
