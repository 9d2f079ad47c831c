/**
 * `npx tsx bench/fire-and-forget.ts [--events 20000] [--runs 3] [--label after] [--baseline DIR --baseline-label
 * before] [--in-process] [--runtime cjs|tsx] [--cpu-prof DIR] [--no-write] [--env NAME=VALUE ...]`
 *
 * Fire and Forget benchmark: events per second end to end through the local Pub/Sub API stand-in (TLS gRPC, Avro)
 * into the invoicing consumer, with durable checkpoints and idempotent writes (per FetchResponse one SQLite
 * transaction holding the invoices, the event-id ledger and the replay checkpoint; WAL, a file on disk, the
 * database's own `synchronous` setting). The events are published before the subscriber starts (`EARLIEST`), so the
 * figure is the subscriber's drain rate, not the publisher's.
 *
 * Three processes per run, so that each figure is about one thing:
 *
 * - this process starts the others and collects the figures (load average before and after each run);
 * - the **stand-in** (`remote-system/test/stand-ins/pubsub-server.ts`) runs in a child process of its own, as the
 *   Pub/Sub API does in production: its gRPC framing, TLS and protobuf encoding do not run on the subscriber's event
 *   loop, but it does share the machine's two cores;
 * - the **subscriber** (`startInvoiceSubscriber`, exactly what `npm run subscribe` runs, write-back off) runs in a
 *   child process started fresh for each run, with a freshly seeded database.
 *
 * `--in-process` runs the stand-in inside the subscriber's process instead (the first version of this benchmark), to
 * show what sharing one event loop costs. Children run TypeScript through `tsx`'s CommonJS hooks only
 * (`node --require tsx/cjs`); `--runtime tsx` uses the full `tsx` command line (it adds an ESM loader thread).
 * `--cpu-prof DIR` writes a V8 CPU profile of each child to DIR. `--env NAME=VALUE` passes a setting to the
 * subscriber (for example `FIRE_AND_FORGET_BATCH_SIZE=50`, or `BENCH_SQLITE_SYNCHRONOUS=FULL` to measure an fsync per
 * commit). `--baseline DIR` compares with an earlier version: DIR is a checkout of it (`git worktree add DIR <commit>`,
 * or `git archive`, with `node_modules` linked) holding a copy of this file and `bench/processes.ts`; the runs alternate between the two, so
 * both see the same machine, and each is recorded under its own label. CPU seconds are user + system of each process over the
 * timed window (the stand-in's publishing and the subscriber's database seeding are outside it), which on a shared
 * machine says more than the wall clock: load average shows what else was running.
 *
 * Results: `bench/results/fire-and-forget.{md,json}`; a run replaces the earlier one with the same `--label` and
 * keeps the others (`--render` writes the Markdown again from the JSON). Not part of `npm test`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase, seedDatabase } from '../remote-system/src/db';
import { loadFireAndForgetConfig } from '../remote-system/src/fire-and-forget/config';
import { startInvoiceSubscriber } from '../remote-system/src/fire-and-forget/runner';
import {
  startPubSubStandIn,
  type PubSubStandIn
} from '../remote-system/test/stand-ins/pubsub-server';
import { collect, loadAverage } from './processes';

const CONTRACT = path.resolve(
  __dirname,
  '../force-app/main/fire-and-forget/staticresources/FireAndForgetContract.json'
);
const RESULTS = path.resolve(__dirname, 'results');
const TOPIC = '/event/Opportunity_Closed_Won__e';
const TOKEN = 'bench-token';

interface Contract {
  avroSchema: never;
  examples: { closedWon: Record<string, unknown> };
}

/** What the subscriber child reports. */
interface SubscriberReport {
  events: number;
  invoices: number;
  ledger: number;
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  /** Share of the timed window the event loop was not waiting for I/O (busy, or runnable but not scheduled). */
  eventLoopUtilization: number;
  /** Main thread: seconds on a CPU and seconds runnable but waiting for one (Linux schedstat; null elsewhere). */
  mainThreadCpuSeconds: number | null;
  runQueueSeconds: number | null;
  subscriberMaxOutstanding: number;
  fetchResponses: number;
  synchronous: number;
  journalMode: string;
  /** Only with --in-process: the stand-in's own statistics. */
  standInMaxOutstanding?: number;
}

interface RunResult {
  events: number;
  invoices: number;
  seconds: number;
  eventsPerSecond: number;
  subscriberCpuSeconds: number;
  /** Subscriber CPU seconds ÷ wall seconds: how much of one core it got. */
  subscriberCpuShare: number;
  /** Event loop utilization of the subscriber (1 = never waiting for the network or a timer). */
  subscriberEventLoopUtilization: number;
  /**
   * Where the subscriber's main thread spent the timed window, in seconds: running, runnable but waiting for a CPU
   * (other processes), idle in the event loop (waiting for the stand-in), and the rest, blocked in a system call
   * (the synchronous SQLite writes). Null without Linux schedstat.
   */
  mainThread: { running: number; waitingForCpu: number; idle: number; blocked: number } | null;
  /** CPU microseconds of the subscriber process per event. */
  subscriberCpuUsPerEvent: number;
  standInCpuSeconds: number | null;
  maxOutstanding: number;
  /** Journal mode and `synchronous` level of the subscriber's database connection. */
  sqlite: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
}

interface Run {
  label: string;
  date: string;
  machine: string;
  layout: 'stand-in in its own process' | 'stand-in in the subscriber process';
  runtime: string;
  /** Set when the subscriber ran from a baseline checkout (absent: this checkout); the label names its commit. */
  code?: string;
  settings: Record<string, string>;
  sqlite: string;
  results: RunResult[];
  median: { eventsPerSecond: number; subscriberCpuUsPerEvent: number };
}

async function publishAll(standIn: PubSubStandIn, events: number): Promise<void> {
  const contract = JSON.parse(fs.readFileSync(CONTRACT, 'utf8')) as Contract;
  for (let start = 0; start < events; start += 1000) {
    standIn.publish(
      TOPIC,
      Array.from({ length: Math.min(1000, events - start) }, (_, i) => ({
        ...contract.examples.closedWon,
        Opportunity_Id__c: `006${String(start + i).padStart(12, '0')}AAA`,
        Correlation_Id__c: `bench-${start + i}`
      }))
    );
  }
}

async function startStandIn(): Promise<PubSubStandIn> {
  const contract = JSON.parse(fs.readFileSync(CONTRACT, 'utf8')) as Contract;
  return startPubSubStandIn({
    topics: [{ topicName: TOPIC, schema: contract.avroSchema }],
    acceptedTokens: [TOKEN],
    maxEventsPerResponse: 100
  });
}

/** Nanoseconds the main thread ran and waited runnable for a CPU (`/proc/self/schedstat`), if Linux exposes them. */
function schedstat(): [number, number] | undefined {
  try {
    const [running, waiting] = fs
      .readFileSync('/proc/self/schedstat', 'utf8')
      .split(' ')
      .map(Number);
    return running === undefined || waiting === undefined ? undefined : [running, waiting];
  } catch {
    return undefined;
  }
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

/** Child mode: the stand-in with `events` events published; prints its endpoint, then its CPU use on SIGTERM. */
async function serveStandIn(events: number): Promise<void> {
  const standIn = await startStandIn();
  await publishAll(standIn, events);
  const ready = process.cpuUsage();
  process.stdout.write(
    `${JSON.stringify({ endpoint: standIn.endpoint, caPem: standIn.caPem, tenantId: standIn.tenantId })}\n`
  );
  process.once('SIGTERM', () => {
    process.stdout.write(
      `${JSON.stringify({
        cpuSeconds: cpuSeconds(process.cpuUsage(ready)),
        maxOutstanding: standIn.stats.maxOutstanding,
        delivered: standIn.stats.delivered
      })}\n`
    );
    void standIn.close().then(() => process.exit(0));
  });
}

/**
 * Child mode: seeds a fresh database, runs the Fire and Forget subscriber until `events` events are applied, prints
 * a {@link SubscriberReport}. Without `endpoint` it starts the stand-in in this process (`--in-process`).
 */
async function runSubscriber(
  events: number,
  endpoint: string | undefined,
  caPem: string | undefined,
  tenantId: string | undefined
): Promise<void> {
  let standIn: PubSubStandIn | undefined;
  if (!endpoint) {
    standIn = await startStandIn();
    await publishAll(standIn, events);
    endpoint = standIn.endpoint;
    caPem = standIn.caPem;
    tenantId = standIn.tenantId;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faf-bench-'));
  const caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, caPem!);
  const db = openDatabase(path.join(dir, 'erp.sqlite'));
  seedDatabase(db, { customers: 25, products: 12, orders: 0, shipments: 0 });
  // To measure what an fsync per commit costs (the project's connection keeps SQLite's WAL default, NORMAL).
  const synchronous = process.env.BENCH_SQLITE_SYNCHRONOUS;
  if (synchronous) {
    if (!/^(OFF|NORMAL|FULL|EXTRA)$/.test(synchronous)) throw new Error('BENCH_SQLITE_SYNCHRONOUS');
    db.pragma(`synchronous = ${synchronous}`);
  }
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('FIRE_AND_FORGET_') && value !== undefined) settings[name] = value;
  }
  const config = loadFireAndForgetConfig({
    ...settings,
    SF_PUBSUB_ENDPOINT: endpoint,
    SF_PUBSUB_CA_FILE: caFile,
    FIRE_AND_FORGET_WRITEBACK: 'false'
  });
  const session = {
    instanceUrl: 'https://bench.my.salesforce.com',
    accessToken: TOKEN,
    apiVersion: '67.0',
    orgId: tenantId!
  };
  let fetchResponses = 0;
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const schedBefore = schedstat();
  const started = process.hrtime.bigint();
  const running = startInvoiceSubscriber({
    config,
    db,
    auth: { session: async () => session, refresh: async () => session },
    onNotify: (notification) => {
      if (notification.kind === 'batch') fetchResponses += 1;
    }
  });
  await running.subscriber.waitFor((s) => s.applied >= events, 600_000);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuSeconds(process.cpuUsage(cpuBefore));
  const elu = performance.eventLoopUtilization(eluBefore).utilization;
  const schedAfter = schedstat();
  await running.stop();
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  const report: SubscriberReport = {
    events: running.subscriber.stats.applied,
    invoices: count("SELECT count(*) FROM invoices WHERE invoice_number LIKE 'INV-F%'"),
    ledger: count('SELECT count(*) FROM pubsub_processed_events'),
    seconds,
    cpuSeconds: cpu,
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    eventLoopUtilization: elu,
    mainThreadCpuSeconds: schedBefore && schedAfter ? (schedAfter[0] - schedBefore[0]) / 1e9 : null,
    runQueueSeconds: schedBefore && schedAfter ? (schedAfter[1] - schedBefore[1]) / 1e9 : null,
    subscriberMaxOutstanding: running.subscriber.stats.maxOutstanding,
    fetchResponses,
    synchronous: db.pragma('synchronous', { simple: true }) as number,
    journalMode: db.pragma('journal_mode', { simple: true }) as string,
    ...(standIn ? { standInMaxOutstanding: standIn.stats.maxOutstanding } : {})
  };
  db.close();
  await standIn?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** Set by `--cpu-prof DIR`: each child writes a V8 CPU profile there. */
let cpuProfileDir: string | undefined;

/** Argument list that runs `script` (this file, or its copy in a baseline checkout) in a child process. */
function childArgs(runtime: string, script: string, args: string[]): string[] {
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  if (runtime === 'tsx') {
    return [...profile, ...process.execArgv, script, ...args];
  }
  return [...profile, '--require', 'tsx/cjs', script, ...args];
}

interface Variant {
  readonly label: string;
  /** The harness the children run: this file, or its copy in a baseline checkout. */
  readonly script: string;
}

async function runOnce(
  variant: Variant,
  events: number,
  inProcess: boolean,
  runtime: string,
  env: Record<string, string>
): Promise<RunResult> {
  const script = variant.script;
  let standIn: ChildProcess | undefined;
  let standInOut: ReturnType<typeof collect> | undefined;
  let target: string[] = [];
  if (!inProcess) {
    standIn = spawn(
      process.execPath,
      childArgs(runtime, script, ['--serve-stand-in', String(events)]),
      {
        stdio: ['ignore', 'pipe', 'inherit']
      }
    );
    standInOut = collect(standIn);
    while (standInOut.lines.length === 0) {
      if (standIn.exitCode !== null) throw new Error(`stand-in exited with ${standIn.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ready = JSON.parse(standInOut.lines[0]!) as {
      endpoint: string;
      caPem: string;
      tenantId: string;
    };
    target = [ready.endpoint, ready.caPem, ready.tenantId];
  }
  const loadAverageBefore = loadAverage();
  const subscriber = spawn(
    process.execPath,
    childArgs(runtime, script, ['--run-subscriber', String(events), ...target]),
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } }
  );
  const subscriberOut = collect(subscriber);
  const code = await subscriberOut.exited;
  const loadAverageAfter = loadAverage();
  let standInReport: { cpuSeconds: number; maxOutstanding: number } | undefined;
  if (standIn && standInOut) {
    standIn.kill('SIGTERM');
    await standInOut.exited;
    standInReport = JSON.parse(standInOut.lines.at(-1)!) as typeof standInReport;
  }
  if (code !== 0) throw new Error(`subscriber exited with ${code}`);
  const report = JSON.parse(subscriberOut.lines.at(-1)!) as SubscriberReport;
  if (report.invoices !== events || report.ledger !== events) {
    throw new Error(
      `expected ${events} invoices and ledger rows, got ${report.invoices} and ${report.ledger}`
    );
  }
  return {
    events,
    invoices: report.invoices,
    seconds: Number(report.seconds.toFixed(3)),
    eventsPerSecond: Math.round(events / report.seconds),
    subscriberCpuSeconds: Number(report.cpuSeconds.toFixed(2)),
    subscriberCpuShare: Number((report.cpuSeconds / report.seconds).toFixed(2)),
    subscriberEventLoopUtilization: Number(report.eventLoopUtilization.toFixed(2)),
    mainThread:
      report.mainThreadCpuSeconds === null || report.runQueueSeconds === null
        ? null
        : {
            running: Number(report.mainThreadCpuSeconds.toFixed(2)),
            waitingForCpu: Number(report.runQueueSeconds.toFixed(2)),
            idle: Number(((1 - report.eventLoopUtilization) * report.seconds).toFixed(2)),
            blocked: Number(
              Math.max(
                0,
                report.seconds * report.eventLoopUtilization -
                  report.mainThreadCpuSeconds -
                  report.runQueueSeconds
              ).toFixed(2)
            )
          },
    subscriberCpuUsPerEvent: Math.round((report.cpuSeconds * 1e6) / events),
    standInCpuSeconds: standInReport ? Number(standInReport.cpuSeconds.toFixed(2)) : null,
    maxOutstanding: Math.max(
      report.subscriberMaxOutstanding,
      standInReport?.maxOutstanding ?? report.standInMaxOutstanding ?? 0
    ),
    sqlite: `journal_mode=${report.journalMode}, synchronous=${['OFF', 'NORMAL', 'FULL', 'EXTRA'][report.synchronous] ?? report.synchronous}`,
    loadAverageBefore,
    loadAverageAfter
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

function markdown(runs: readonly Run[]): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const parts = [
    '# Fire and Forget benchmark',
    '',
    'Written by `npx tsx bench/fire-and-forget.ts`. Events published to the local Pub/Sub API stand-in (TLS gRPC,',
    'Avro) before the subscriber starts, then drained by the invoicing consumer: per FetchResponse one SQLite',
    'transaction with the invoices, the event-id ledger and the replay checkpoint (WAL, file on disk). Every run',
    'checks that each event made exactly one invoice and one ledger row. CPU seconds are user + system of each',
    'process over the timed window; load average (1, 5, 15 min) before → after shows what else the shared 2-core',
    'machine was doing. The goal is 5,000 events/s on 2 cores.',
    ''
  ];
  for (const run of runs) {
    parts.push(
      `## ${run.label}`,
      '',
      `${run.date} on ${run.machine}; ${run.layout}; ${run.code ? `code: ${run.code}; ` : ''}runtime: ${run.runtime}; SQLite: ${run.sqlite}; settings: ${
        Object.entries(run.settings)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ') || 'defaults'
      }. Median: **${n(run.median.eventsPerSecond)} events/s**, ${run.median.subscriberCpuUsPerEvent} µs of subscriber CPU per event.`,
      '',
      '| events | seconds | events/s | subscriber CPU s | µs CPU/event | main thread: running / waiting for a CPU / idle / blocked (s) | stand-in CPU s | max owed | load avg before → after |',
      '| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |',
      ...run.results.map(
        (r) =>
          `| ${n(r.events)} | ${r.seconds} | ${n(r.eventsPerSecond)} | ${r.subscriberCpuSeconds} | ${r.subscriberCpuUsPerEvent} | ${r.mainThread ? `${r.mainThread.running} / ${r.mainThread.waitingForCpu} / ${r.mainThread.idle} / ${r.mainThread.blocked}` : 'n/a'} | ${r.standInCpuSeconds ?? 'in the subscriber'} | ${r.maxOutstanding} | ${r.loadAverageBefore.join(', ')} → ${r.loadAverageAfter.join(', ')} |`
      ),
      ''
    );
  }
  return parts.join('\n');
}

export async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--serve-stand-in') return serveStandIn(Number(argv[1]));
  if (argv[0] === '--run-subscriber') {
    return runSubscriber(Number(argv[1]), argv[2], argv[3], argv[4]);
  }
  if (argv[0] === '--render') {
    // Writes the Markdown again from the JSON (after an edit of a label, say).
    const parsed = JSON.parse(
      fs.readFileSync(path.join(RESULTS, 'fire-and-forget.json'), 'utf8')
    ) as { runs: Run[] };
    fs.writeFileSync(path.join(RESULTS, 'fire-and-forget.md'), markdown(parsed.runs));
    return;
  }
  let events = 20_000;
  let runs = 3;
  let label = 'latest';
  let baseline: string | undefined;
  let baselineLabel = 'baseline';
  let runtime = 'cjs';
  let inProcess = false;
  let write = true;
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--events') events = Number(argv[++i]);
    else if (flag === '--runs') runs = Number(argv[++i]);
    else if (flag === '--label') label = argv[++i] ?? label;
    else if (flag === '--baseline') baseline = path.resolve(argv[++i] ?? '');
    else if (flag === '--baseline-label') baselineLabel = argv[++i] ?? baselineLabel;
    else if (flag === '--runtime') runtime = argv[++i] ?? runtime;
    else if (flag === '--in-process') inProcess = true;
    else if (flag === '--no-write') write = false;
    else if (flag === '--cpu-prof') cpuProfileDir = path.resolve(argv[++i] ?? 'bench/tmp/profiles');
    else if (flag === '--env') {
      const [name, value] = (argv[++i] ?? '').split('=', 2) as [string, string | undefined];
      if (!/^(FIRE_AND_FORGET|BENCH_SQLITE)_/.test(name) || value === undefined) {
        throw new Error('--env FIRE_AND_FORGET_NAME=value (or BENCH_SQLITE_SYNCHRONOUS=FULL)');
      }
      env[name] = value;
    } else throw new Error(`unknown option ${flag}`);
  }
  if (!['cjs', 'tsx'].includes(runtime)) throw new Error('--runtime cjs|tsx');
  if (!Number.isInteger(events) || events < 100) throw new Error('bad --events');
  if (!Number.isInteger(runs) || runs < 1) throw new Error('bad --runs');
  if (cpuProfileDir) fs.mkdirSync(cpuProfileDir, { recursive: true });

  // With --baseline, the runs alternate between the baseline checkout and this one, so both see the same machine.
  const variants: Variant[] = [
    ...(baseline
      ? [{ label: baselineLabel, script: path.join(baseline, 'bench', 'fire-and-forget.ts') }]
      : []),
    { label, script: __filename }
  ];
  for (const variant of variants) {
    if (!fs.existsSync(variant.script)) {
      throw new Error(`${variant.script} is missing: copy this harness into the baseline checkout`);
    }
  }
  const results = new Map<string, RunResult[]>(variants.map((v) => [v.label, []]));
  for (let i = 0; i < runs; i++) {
    for (const variant of variants) {
      const result = await runOnce(variant, events, inProcess, runtime, env);
      process.stdout.write(`${JSON.stringify({ label: variant.label, ...result })}\n`);
      results.get(variant.label)!.push(result);
    }
  }
  const date = new Date().toISOString();
  const measured: Run[] = variants.map((variant) => {
    const own = results.get(variant.label)!;
    return {
      label: variant.label,
      date,
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`,
      layout: inProcess ? 'stand-in in the subscriber process' : 'stand-in in its own process',
      runtime: runtime === 'tsx' ? 'tsx (CommonJS + ESM hooks)' : 'node --require tsx/cjs',
      ...(variant.script === __filename ? {} : { code: 'baseline checkout (--baseline)' }),
      settings: env,
      sqlite: own[0]!.sqlite,
      results: own,
      median: {
        eventsPerSecond: median(own.map((r) => r.eventsPerSecond)),
        subscriberCpuUsPerEvent: median(own.map((r) => r.subscriberCpuUsPerEvent))
      }
    };
  });
  for (const run of measured) {
    process.stdout.write(`${JSON.stringify({ label: run.label, median: run.median })}\n`);
  }
  if (!write) return;
  const jsonFile = path.join(RESULTS, 'fire-and-forget.json');
  let previous: Run[] = [];
  try {
    const parsed = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as { runs?: Run[] };
    const replaced = new Set(measured.map((r) => r.label));
    previous = (parsed.runs ?? []).filter((r) => !replaced.has(r.label));
  } catch {
    // first run, or the older single-run format: start over
  }
  const all = [...previous, ...measured];
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(jsonFile, `${JSON.stringify({ runs: all }, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS, 'fire-and-forget.md'), markdown(all));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
