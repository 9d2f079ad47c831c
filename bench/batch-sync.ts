/**
 * `npm run bench -- --batch-sync [--sizes 1000000,10000000] [--label after] [--runtime cjs|tsx] [--timeline DIR]
 * [--cpu-prof DIR] [--repeat N] [--append] [--note TEXT] [--render-only] [--no-write] [--env NAME=VALUE ...] [--node-flag FLAG ...]`
 *
 * Batch Data Synchronization benchmark: the Bulk API 2.0 loader sends N catalog rows from SQLite to the Bulk API
 * 2.0 stand-in (`remote-system/test/stand-ins/bulk2.ts`) with the loader's default settings (only the poll pace and
 * work folder are set here). Three processes per size, so that each figure is about one thing:
 *
 * - this process seeds the catalog database (`bench/tmp/`, reused) and collects the figures;
 * - the **stand-in** runs in a child process (its CSV work does not count against the loader's memory, but it does
 *   share the machine's cores, as an org would not);
 * - the **loader** runs in a child process of its own, started fresh for each size, so its peak RSS is the kernel's
 *   high-water mark of exactly that run (`process.resourceUsage().maxRSS`), not a 50 ms sample that a long
 *   synchronous stretch could miss. By default it runs TypeScript through `tsx`'s CommonJS hooks only
 *   (`--require tsx/cjs`): the `tsx` command also starts an ESM loader thread (a second V8 isolate, ~30 MiB RSS)
 *   that the CommonJS project never needs. `--runtime tsx` measures the loader under the full `tsx` command line
 *   (`--require …/preflight.cjs --import …/loader.mjs`) for comparison.
 *
 * `--timeline DIR` writes, per size, the loader process's memory (`process.memoryUsage()` every 50 ms) and each
 * Bulk API request (start, end) as JSON, to see which phase holds memory and where the pipeline waits.
 * `--note TEXT` describes the run in the Markdown; `--render-only` rewrites the Markdown from the JSON (with
 * `--note` applied to the run of `--label`) without measuring.
 * `--append` adds the results to the run with the same `--label` instead of replacing it (alternate two labels
 * with it to compare them under the same machine load).
 * `--repeat N` runs every size N times, interleaved (the table keeps each run; the line under it the median).
 * `--cpu-prof DIR` writes a V8 CPU profile of the loader and of the stand-in process to DIR.
 * `--node-flag FLAG` starts the loader process with a Node/V8 flag (e.g. `--max-semi-space-size=4`).
 * `--env NAME=VALUE` passes a `BATCH_SYNC_*` setting to the loader (e.g. a job size to compare).
 *
 * Results: `bench/results/batch-sync.{md,json}`; a run replaces the earlier run with the same `--label` and keeps
 * the others, each with the machine's load average before and after (the machine is shared: other work running at
 * the same time shows there).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBatchSyncConfig } from '../remote-system/src/batch-sync/config';
import { Bulk2Client } from '../remote-system/src/batch-sync/bulk/client';
import { BulkLoader } from '../remote-system/src/batch-sync/bulk/loader';
import { ensureCatalogRows } from '../remote-system/src/batch-sync/bulk/source';
import { openDatabase } from '../remote-system/src/db';
import type { SalesforceAuth, SalesforceSession } from '../remote-system/src/salesforce/auth';
import { STAND_IN_TOKEN, startBulk2StandIn } from '../remote-system/test/stand-ins/bulk2';
import { collect, loadAverage } from './processes';

const ROOT = path.resolve(__dirname);
const TMP = path.join(ROOT, 'tmp');
const RESULTS = path.join(ROOT, 'results');
const CATALOG = path.join(TMP, 'batch-sync-catalog.sqlite');

interface Result {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** Kernel high-water mark of the loader process (whole process lifetime: startup + one load). */
  peakRssMiB: number;
  /** Highest of the 50 ms samples, and the V8 heap and off-heap (Buffers) at that moment. */
  sampledPeakRssMiB: number;
  jobs: number;
  mibSent: number;
  /** CPU seconds of the loader process (user + system) and of the stand-in process. */
  loaderCpuSeconds: number;
  standInCpuSeconds: number;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
}

interface Run {
  label: string;
  /** What the run compares, from `--note`. */
  note?: string;
  date: string;
  machine: string;
  runtime: string;
  settings: Record<string, string>;
  results: Result[];
}

interface LoaderReport {
  seconds: number;
  rowsPerSecond: number;
  jobs: number;
  bytesSent: number;
  maxRssKiB: number;
  sampledPeakRss: number;
  cpuSeconds: number;
}

const POLL_SETTINGS = {
  BATCH_SYNC_POLL_INITIAL_MS: '100',
  BATCH_SYNC_POLL_MAX_MS: '1000'
};

/** Child mode: serve the stand-in, print its URL; print its CPU time when told to stop. */
async function serveStandIn(): Promise<void> {
  const standIn = await startBulk2StandIn({ trackExisting: false });
  process.stdout.write(`${standIn.instanceUrl}\n`);
  process.on('SIGTERM', () => {
    const usage = process.resourceUsage();
    process.stdout.write(
      `${JSON.stringify({ cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 })}\n`
    );
    void standIn.close().then(() => process.exit(0));
  });
}

/** Child mode: one load of `rows` rows into the stand-in at `url`; prints a {@link LoaderReport}. */
async function runLoad(rows: number, url: string, timelineFile: string | undefined): Promise<void> {
  const db = openDatabase(CATALOG);
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
  const env: Record<string, string> = {
    ...POLL_SETTINGS,
    BATCH_SYNC_WORK_DIR: path.join(os.tmpdir(), 'batch-sync-bench')
  };
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('BATCH_SYNC_') && value !== undefined) env[name] = value;
  }
  const { bulk } = loadBatchSyncConfig(env);
  const started = performance.now();
  const samples: number[][] = [];
  const events: unknown[][] = [];
  let sampledPeak = 0;
  const sample = () => {
    const m = process.memoryUsage();
    sampledPeak = Math.max(sampledPeak, m.rss);
    if (timelineFile) {
      samples.push([
        Math.round(performance.now() - started),
        m.rss,
        m.heapUsed,
        m.external,
        m.arrayBuffers,
        m.heapTotal
      ]);
    }
  };
  const sampler = setInterval(sample, 50);
  const client = new Bulk2Client(auth);
  if (timelineFile) traceRequests(client, started, events);
  const summary = await new BulkLoader(db, client, bulk).run({ object: 'Product2', rows });
  sample();
  clearInterval(sampler);
  db.close();
  if (!summary.ok) throw new Error(`bench load not clean: ${JSON.stringify(summary)}`);
  if (timelineFile) {
    fs.writeFileSync(timelineFile, JSON.stringify({ rows, settings: bulk, samples, events }));
  }
  const usage = process.resourceUsage();
  const report: LoaderReport = {
    seconds: summary.seconds,
    rowsPerSecond: summary.rowsPerSecond,
    jobs: summary.jobs,
    bytesSent: summary.bytesSent,
    maxRssKiB: usage.maxRSS,
    sampledPeakRss: sampledPeak,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** Records the start and end of each Bulk API request the loader makes: `[ms, 'start'|'end', method, job]`. */
function traceRequests(client: Bulk2Client, started: number, events: unknown[][]): void {
  const target = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const method of ['createJob', 'upload', 'setState', 'info', 'results']) {
    const original = target[method]!.bind(client);
    target[method] = async (...args: unknown[]) => {
      const at = () => Math.round(performance.now() - started);
      const label = typeof args[0] === 'string' ? args[0].slice(-6) : '';
      const detail = typeof args[1] === 'string' ? args[1] : '';
      events.push([at(), 'start', method, label, detail]);
      try {
        return await original(...args);
      } finally {
        events.push([at(), 'end', method, label, detail]);
      }
    };
  }
}

/** Set by `--cpu-prof DIR`: each child writes a V8 CPU profile there (open it in Chrome DevTools). */
let cpuProfileDir: string | undefined;

/** Set by `--node-flag FLAG` (repeatable): Node/V8 flags for the loader process only. */
const loaderFlags: string[] = [];

/** Argument list that runs this file in a child process with the chosen TypeScript runtime. */
function childArgs(runtime: string, args: string[]): string[] {
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const flags = args[0] === '--run-load' ? loaderFlags : [];
  if (runtime === 'tsx') return [...profile, ...flags, ...process.execArgv, __filename, ...args];
  return [...profile, ...flags, '--require', 'tsx/cjs', __filename, ...args];
}

async function runSize(
  rows: number,
  runtime: string,
  env: Record<string, string>,
  timelineDir: string | undefined
): Promise<Result> {
  fs.mkdirSync(TMP, { recursive: true });
  const db = openDatabase(CATALOG);
  ensureCatalogRows(db, rows);
  db.close();

  const standIn = spawn(process.execPath, childArgs(runtime, ['--serve-stand-in']), {
    stdio: ['ignore', 'pipe', 'inherit']
  });
  const standInOut = collect(standIn);
  while (standInOut.lines.length === 0) {
    if (standIn.exitCode !== null) throw new Error(`stand-in exited with ${standIn.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const url = standInOut.lines[0]!;
  const timelineFile = timelineDir ? path.join(timelineDir, `batch-sync-${rows}.json`) : undefined;
  const loadAverageBefore = loadAverage();
  const loader = spawn(
    process.execPath,
    childArgs(runtime, ['--run-load', String(rows), url, ...(timelineFile ? [timelineFile] : [])]),
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } }
  );
  const loaderOut = collect(loader);
  const code = await loaderOut.exited;
  const loadAverageAfter = loadAverage();
  standIn.kill('SIGTERM');
  await standInOut.exited;
  if (code !== 0) throw new Error(`loader exited with ${code}`);
  const report = JSON.parse(loaderOut.lines.at(-1)!) as LoaderReport;
  const standInUsage = JSON.parse(standInOut.lines.at(-1) ?? '{"cpuSeconds":0}') as {
    cpuSeconds: number;
  };
  return {
    rows,
    seconds: Number(report.seconds.toFixed(1)),
    rowsPerSecond: report.rowsPerSecond,
    peakRssMiB: Math.round(report.maxRssKiB / 1024),
    sampledPeakRssMiB: Math.round(report.sampledPeakRss / 1024 / 1024),
    jobs: report.jobs,
    mibSent: Number((report.bytesSent / 1024 / 1024).toFixed(1)),
    loaderCpuSeconds: Number(report.cpuSeconds.toFixed(1)),
    standInCpuSeconds: Number(standInUsage.cpuSeconds.toFixed(1)),
    loadAverageBefore,
    loadAverageAfter
  };
}

function markdown(runs: readonly Run[]): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const parts = [
    '# batch-sync: Bulk API 2.0 loader → stand-in',
    '',
    'Written by `npm run bench -- --batch-sync`. Loader and stand-in each in a child process on the same shared',
    "2-core machine; peak RSS is the loader process's kernel high-water mark (`maxRSS`); CPU seconds are user +",
    'system of each process; load average (1, 5, 15 min) before → after the run shows what else the machine was doing.',
    ''
  ];
  for (const run of runs) {
    parts.push(
      `## ${run.label}`,
      '',
      ...(run.note ? [run.note, ''] : []),
      `${run.date} on ${run.machine}; loader runtime: ${run.runtime}; settings: ${
        Object.entries(run.settings)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ') || 'defaults'
      }.`,
      '',
      '| rows | seconds | rows/s | peak RSS (MiB) | jobs | MiB sent | loader CPU s (µs/row) | stand-in CPU s | load avg before → after |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ...run.results.map(
        (r) =>
          `| ${n(r.rows)} | ${r.seconds} | ${n(r.rowsPerSecond)} | ${r.peakRssMiB} | ${r.jobs} | ${r.mibSent} | ${r.loaderCpuSeconds} (${((r.loaderCpuSeconds / r.rows) * 1e6).toFixed(1)}) | ${r.standInCpuSeconds} | ${r.loadAverageBefore.join(', ')} → ${r.loadAverageAfter.join(', ')} |`
      ),
      ''
    );
    const sizes = [...new Set(run.results.map((r) => r.rows))];
    parts.push(
      sizes
        .map((rows) => {
          const of = run.results.filter((r) => r.rows === rows);
          const rates = of.map((r) => r.rowsPerSecond).sort((a, b) => a - b);
          const median = rates[Math.floor((rates.length - 1) / 2)]!;
          return `${n(rows)} rows: median ${n(median)} rows/s of ${of.length} (${n(rates[0]!)}–${n(rates.at(-1)!)}), highest peak RSS ${Math.max(...of.map((r) => r.peakRssMiB))} MiB.`;
        })
        .join(' '),
      ''
    );
  }
  return parts.join('\n');
}

export async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--serve-stand-in') return serveStandIn();
  if (argv[0] === '--run-load') return runLoad(Number(argv[1]), argv[2]!, argv[3]);
  let sizes = [1_000_000, 10_000_000];
  let label = 'latest';
  let runtime = 'cjs';
  let timelineDir: string | undefined;
  let write = true;
  let repeat = 1;
  let append = false;
  let note: string | undefined;
  let renderOnly = false;
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--sizes')
      sizes = (argv[++i] ?? '').split(',').map((v) => Number(v.replace(/_/g, '')));
    else if (flag === '--label') label = argv[++i] ?? label;
    else if (flag === '--runtime') runtime = argv[++i] ?? runtime;
    else if (flag === '--timeline') timelineDir = argv[++i];
    else if (flag === '--no-write') write = false;
    else if (flag === '--append') append = true;
    else if (flag === '--note') note = argv[++i];
    else if (flag === '--render-only') renderOnly = true;
    else if (flag === '--repeat') repeat = Number(argv[++i]);
    else if (flag === '--node-flag') loaderFlags.push(argv[++i] ?? '');
    else if (flag === '--cpu-prof') cpuProfileDir = path.resolve(argv[++i] ?? 'bench/tmp/profiles');
    else if (flag === '--env') {
      const [name, value] = (argv[++i] ?? '').split('=', 2) as [string, string | undefined];
      if (!name.startsWith('BATCH_SYNC_') || value === undefined)
        throw new Error('--env BATCH_SYNC_NAME=value');
      env[name] = value;
    } else throw new Error(`unknown option ${flag}`);
  }
  if (!['cjs', 'tsx'].includes(runtime)) throw new Error('--runtime cjs|tsx');
  if (sizes.some((s) => !Number.isInteger(s) || s < 1)) throw new Error('bad --sizes');
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('bad --repeat');
  if (renderOnly) {
    // Rewrites the Markdown from the JSON, with `--note` set on the run labelled `--label`.
    const jsonFile = path.join(RESULTS, 'batch-sync.json');
    const { runs } = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as { runs: Run[] };
    const run = runs.find((r) => r.label === label);
    if (run && note !== undefined) run.note = note;
    fs.writeFileSync(jsonFile, `${JSON.stringify({ runs }, null, 2)}\n`);
    fs.writeFileSync(path.join(RESULTS, 'batch-sync.md'), markdown(runs));
    return;
  }
  if (timelineDir) fs.mkdirSync(timelineDir, { recursive: true });
  const results: Result[] = [];
  // Rounds interleave the sizes, so that a busy minute on the shared machine does not land on one size only.
  for (let round = 0; round < repeat; round++) {
    for (const rows of sizes) {
      const result = await runSize(rows, runtime, env, timelineDir);
      console.log(JSON.stringify(result));
      results.push(result);
    }
  }
  if (!write) return;
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`;
  const run: Run = {
    label,
    ...(note ? { note } : {}),
    date: new Date().toISOString(),
    machine,
    runtime: runtime === 'tsx' ? 'tsx (CommonJS + ESM hooks)' : 'node --require tsx/cjs',
    settings: {
      ...POLL_SETTINGS,
      ...env,
      ...(loaderFlags.length ? { nodeFlags: loaderFlags.join(' ') } : {})
    },
    results
  };
  const jsonFile = path.join(RESULTS, 'batch-sync.json');
  let runs: Run[] = [];
  try {
    const previous = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as { runs?: Run[] };
    runs = previous.runs ?? [];
  } catch {
    // first run, or the older single-run format: start over
  }
  const earlier = runs.findIndex((r) => r.label === label);
  if (append && earlier >= 0) {
    const kept = runs[earlier]!;
    runs[earlier] = {
      ...kept,
      date: `${kept.date.split(' … ')[0]} … ${run.date}`,
      results: [...kept.results, ...results]
    };
  } else {
    runs = runs.filter((r) => r.label !== label);
    runs.push(run);
  }
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(jsonFile, `${JSON.stringify({ runs }, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS, 'batch-sync.md'), markdown(runs));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
