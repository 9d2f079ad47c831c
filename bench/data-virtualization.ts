/**
 * `npm run bench [-- --sizes 1000000,10000000 --requests 400 --before <checkout> --profile <dir> --drop-caches]`
 *
 * Data Virtualization benchmark: Salesforce Connect's query shapes against the OData producer through the real HTTP
 * server (the composition root, bearer auth included) in its own process on 127.0.0.1, each beside the same SQL run
 * directly on SQLite, with the server process's CPU time per request and its peak RSS (from /proc). Databases are
 * built once with the seed module under `bench/tmp/` (gitignored) and reused. Results go to
 * `bench/results/data-virtualization.{md,json}`. Not part of `npm test`: a 10M-row database takes minutes to build.
 *
 * `--before <checkout>` measures an older version in the same run, shape by shape and interleaved with the current
 * one (so both see the same machine load): `<checkout>` is a copy of the repository at the old commit (for example
 * `git archive <commit> | tar -x -C /tmp/before`, with `node_modules` linked), its server serving
 * `bench/tmp/shipments-<N>-before.sqlite` (a database its own code built). `--profile <dir>` runs the current
 * server under `node --cpu-prof --cpu-prof-dir=<dir>` (the profile is written when the run ends). `--drop-caches`
 * empties the operating system's page cache before each size's servers start (root only), so that neither version
 * starts with its database file cached by whatever ran before.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../remote-system/src/config';
import { createDataVirtualizationModule } from '../remote-system/src/data-virtualization';
import { loadDataVirtualizationConfig } from '../remote-system/src/data-virtualization/config';
import { SHIPMENTS } from '../remote-system/src/data-virtualization/entity';
import * as currentPaging from '../remote-system/src/data-virtualization/paging';
import { PageTokens } from '../remote-system/src/data-virtualization/paging';
import * as currentQuery from '../remote-system/src/data-virtualization/query';
import type { RawQuery } from '../remote-system/src/data-virtualization/query';
import { openDatabase, seedDatabase } from '../remote-system/src/db';
import { buildServer } from '../remote-system/src/server';
import { writeFormatted } from './processes';

/** The bench servers' shared secret (also the paging key, so a parent's deep link verifies in the child). */
export const SECRET = 'bench-secret-0123456789abcdef';
const ROOT = path.resolve(__dirname);
const TMP = path.join(ROOT, 'tmp');
const RESULTS = path.join(ROOT, 'results');
const PAGE_ROWS = 200;
const DEPTH = 500_000;
/** Requests for the cheap shapes whose server CPU is reported (the kernel counts CPU in 10 ms ticks). */
const CPU_REQUESTS = 5000;
/**
 * Warm-up requests before a fixed-cost shape is measured. A fresh server's CPU per key lookup falls from ~0.5 ms to
 * a plateau only after ~3,500 requests (V8 optimising the hot path, on other threads too, and SQLite's page cache
 * filling): with 300, the figure was mostly warm-up.
 */
const CPU_WARM_UP = 5000;

interface Options {
  sizes: number[];
  requests: number;
  concurrency: number;
  before?: string;
  profile?: string;
  shapes?: RegExp;
  /** Empty the operating system's page cache before each size's servers start (`--drop-caches`; needs root). */
  dropCaches?: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { sizes: [1_000_000, 10_000_000], requests: 400, concurrency: 4 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    if (flag === '--drop-caches') {
      options.dropCaches = true; // a switch: it takes no value
      continue;
    }
    const value = inline ?? argv[++i] ?? '';
    if (flag === '--sizes')
      options.sizes = value.split(',').map((v) => Number(v.replace(/_/g, '')));
    else if (flag === '--requests') options.requests = Number(value);
    else if (flag === '--concurrency') options.concurrency = Number(value);
    else if (flag === '--before') options.before = path.resolve(value);
    else if (flag === '--profile') options.profile = path.resolve(value);
    else if (flag === '--shapes') options.shapes = new RegExp(value, 'i');
    else throw new Error(`unknown option ${flag}`);
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n < 1000)) throw new Error('bad --sizes');
  if (!Number.isInteger(options.requests) || options.requests < 10)
    throw new Error('bad --requests');
  return options;
}

/** Opens (building if needed) a database with `shipments` rows; a `bench_meta` row marks a finished build. */
export function database(shipments: number): Database.Database {
  fs.mkdirSync(TMP, { recursive: true });
  const file = path.join(TMP, `shipments-${shipments}.sqlite`);
  if (fs.existsSync(file)) {
    const db = openDatabase(file);
    const done = db
      .prepare("SELECT count(*) FROM sqlite_master WHERE name = 'bench_meta'")
      .pluck()
      .get() as number;
    if (done === 1) return db;
    db.close();
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${file}${suffix}`, { force: true });
  }
  const db = openDatabase(file);
  const started = performance.now();
  let lastReport = 0;
  const report = seedDatabase(db, {
    shipments,
    onProgress: (written, total) => {
      if (written - lastReport >= 1_000_000 || written === total) {
        lastReport = written;
        console.log(`  seeded ${written.toLocaleString()} / ${total.toLocaleString()} shipments`);
      }
    }
  });
  db.exec('ANALYZE');
  db.exec(`CREATE TABLE bench_meta (built_at TEXT, build_ms INTEGER)`);
  db.prepare('INSERT INTO bench_meta VALUES (?, ?)').run(
    new Date().toISOString(),
    Math.round(performance.now() - started)
  );
  console.log(
    `  built ${file} in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
      `(${report.shipmentRowsPerSecond.toLocaleString()} rows/s, index ${report.indexMs} ms)`
  );
  return db;
}

interface Stats {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
  rps: number;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function stats(samples: number[], elapsedMs: number): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return {
    count: samples.length,
    p50: round2(at(0.5)),
    p99: round2(at(0.99)),
    max: round2(sorted[sorted.length - 1]!),
    mean: round2(samples.reduce((a, b) => a + b, 0) / samples.length),
    rps: Math.round((samples.length / elapsedMs) * 1000)
  };
}

/** Time budget per measurement: a shape that takes seconds (the "before" of a fixed one) stops early. */
const WARM_UP_BUDGET_MS = 3_000;
const MEASURE_BUDGET_MS = 15_000;
const MIN_SAMPLES = 3;

/** Most warm-up requests before a measurement. */
const WARM_UPS = 20;
/** The largest customers (the seed numbers them from the largest) a shape of list-view filters pairs with statuses. */
const LARGE_CUSTOMERS = 10;
/** Requests from this index on are never measured: the servers' first warm-up and the row count in the table. */
const UNMEASURED = 1_000_000;

/**
 * Runs `task` `count` times with `concurrency` workers (after up to WARM_UPS warm-up requests); per-call latency in
 * ms. Slow shapes stop after the time budget with at least MIN_SAMPLES samples (the table shows how many). The
 * requests measured are `first` … `first + count - 1` and the warm-ups the ones after them, so that no measured request
 * repeats one the server has seen (the producer keeps counts between requests).
 */
async function measure(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void> | void,
  /** Untimed work before each request (warm-up ones included). */
  prepare?: () => void,
  first = 0
): Promise<Stats & { warmUp: number }> {
  const warmUpStarted = performance.now();
  let warmUp = 0;
  while (
    warmUp < Math.min(WARM_UPS, count) &&
    performance.now() - warmUpStarted < WARM_UP_BUDGET_MS
  ) {
    prepare?.();
    await task(first + count + warmUp++);
  }
  const samples: number[] = [];
  const end = first + count;
  let next = first;
  const started = performance.now();
  const more = (): boolean =>
    next < end && (next - first < MIN_SAMPLES || performance.now() - started < MEASURE_BUDGET_MS);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (more()) {
        const i = next++;
        prepare?.();
        const t0 = performance.now();
        await task(i);
        samples.push(performance.now() - t0);
      }
    })
  );
  return { ...stats(samples, performance.now() - started), warmUp };
}

/**
 * `measure` at concurrency 1 for each variant at once: request by request, the variant sent it first alternating. A
 * request's first visit reads pages the other variant's visit then finds cached; measured one variant after the other,
 * the second met every page warm that the first had read (the "before" column went first, so "after" gained). A
 * variant stops, as in `measure`, once its own requests took MEASURE_BUDGET_MS with at least MIN_SAMPLES of them.
 */
async function measurePaired(
  count: number,
  tasks: readonly ((i: number) => Promise<void>)[],
  /** Untimed work before each variant's request (warm-up ones included). */
  prepares: readonly ((() => void) | undefined)[]
): Promise<(Stats & { warmUp: number })[]> {
  const warmUps = tasks.map(() => 0);
  const warmUpStarted = performance.now();
  for (
    let w = 0;
    w < Math.min(WARM_UPS, count) &&
    performance.now() - warmUpStarted < WARM_UP_BUDGET_MS * tasks.length;
    w++
  ) {
    for (const [k, task] of tasks.entries()) {
      prepares[k]?.();
      await task(count + w);
      warmUps[k]!++;
    }
  }
  const samples = tasks.map((): number[] => []);
  const spent = tasks.map(() => 0);
  for (let i = 0; i < count; i++) {
    let sent = false;
    for (const k of turnOrder(i, tasks.length)) {
      if (samples[k]!.length >= MIN_SAMPLES && spent[k]! >= MEASURE_BUDGET_MS) continue;
      prepares[k]?.();
      const t0 = performance.now();
      await tasks[k]!(i);
      const ms = performance.now() - t0;
      samples[k]!.push(ms);
      spent[k]! += ms;
      sent = true;
    }
    if (!sent) break;
  }
  return samples.map((taken, k) => ({ ...stats(taken, spent[k]!), warmUp: warmUps[k]! }));
}

/** The indexes of `variants` variants in the order request `i` is sent to them: the first alternates. */
function turnOrder(i: number, variants: number): number[] {
  const order = Array.from({ length: variants }, (_, k) => k);
  return i % 2 === 0 ? order : order.reverse();
}

/** CPU time (user + system, ms) and memory (kB) of a process, from /proc (Linux). */
export function processStats(pid: number): { cpuMs: number; rssKb: number; peakRssKb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat (utime, stime) in clock ticks of 10 ms; `fields` starts at field 3.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1]);
  return { cpuMs: ticks * 10, rssKb: kb('VmRSS'), peakRssKb: kb('VmHWM') };
}

interface Shape {
  readonly name: string;
  /** Whether an index answers it (the ≤ 20 ms goal applies); scans are measured with fewer requests. */
  readonly indexed: boolean;
  /**
   * At most this many measured requests: a shape with few distinct requests stops before they repeat, since a
   * repeated one would be answered from a count its server kept.
   */
  readonly maxRequests?: number;
  /** Cheap shapes whose per-request server CPU is the fixed cost: measured with more requests. */
  readonly cpu?: boolean;
  /**
   * Each request follows a write to `shipments` (a row inserted and deleted again, from this process and not timed),
   * which moves the versions the producer's cached `$skip` positions depend on: the cost of the first deep page after
   * a change (positions repaired from the change log now; forgotten and found again from the start before it).
   */
  readonly writeFirst?: boolean;
  /** Untimed work before the shape's first request (finding the next links it follows). */
  readonly setUp?: () => void;
  /**
   * A sweep of this many distinct kinds of request (`request(i)` takes kind `i % audit`): after the measurement, which
   * reaches only the first kinds, each kind is sent once more at concurrency 1 with no time budget, and the slowest
   * are listed (`SweepAudit`).
   */
  readonly audit?: number;
  request(i: number): { resource: string; query: RawQuery; maxPageSize?: number };
}

interface VariantResult {
  variant: 'before' | 'after';
  rows: number;
  http1: Stats;
  httpN: Stats;
  /** Server CPU per request at concurrency 1 (ms), from the process's CPU ticks. */
  cpuMsPerRequest: number;
  rssMb: number;
  peakRssMb: number;
  sqlite?: Stats;
  plan?: string;
}

interface ShapeResult {
  shape: string;
  indexed: boolean;
  variants: VariantResult[];
  audits?: SweepAudit[];
}

/** Each kind of a sweep's requests sent once through HTTP (`Shape.audit`), for one version. */
interface SweepAudit {
  variant: 'before' | 'after';
  http: Stats;
  /** How many took more than 20 ms. */
  over20ms: number;
  /** The slowest requests, slowest first: ms and the query. */
  slowest: { ms: number; query: RawQuery }[];
}

/** The slowest requests a sweep audit lists. */
const AUDIT_SLOWEST = 12;

function encodeQuery(query: RawQuery): string {
  return Object.entries(query)
    .map(([k, v]) =>
      k === '$skiptoken' ? `${k}=${String(v)}` : `${k}=${encodeURIComponent(String(v))}`
    )
    .join('&');
}

interface Variant {
  readonly name: 'before' | 'after';
  readonly db: Database.Database;
  readonly server: { url: string; child: ChildProcess };
  readonly queries: typeof currentQuery;
  readonly paging: typeof currentPaging;
  /** That version's entity description (its query module accepts only its own property objects). */
  readonly entity: typeof SHIPMENTS;
  /** A write to the variant's `shipments` that leaves its rows as they were (`Shape.writeFirst`). */
  readonly touch: () => void;
}

/**
 * The list-view filters a user can build on `Shipment__x` (its filterable fields: the key, customer, order number,
 * carrier, status, city, shipped date) with each operator a list view offers (equals, not equal, less/greater (or
 * equal), contains, does not contain, starts with) and a few of them combined, each newest first and by
 * DestinationCity, with and without the row count: request `i` of each shape takes its values from `i`, so that no
 * two requests of a run are the same query (the producer keeps counts between requests).
 */
export function listViewFilterSweep(
  db: Database.Database,
  at: Pick<RequestValues, 'keyAt' | 'customerAt' | 'dayAt' | 'carriers'>
): ((i: number) => RawQuery)[] {
  const cities = db
    .prepare(
      "SELECT substr(value, 3) FROM shipment_counts WHERE dimension = 'destination_city' AND value GLOB 'v:*'"
    )
    .pluck()
    .all() as string[];
  const orders = db
    .prepare('SELECT order_number FROM shipments WHERE order_number IS NOT NULL LIMIT 100')
    .pluck()
    .all() as string[];
  const statuses = [
    'Delivered',
    'Exception',
    'In Transit',
    'Label Created',
    'Out for Delivery',
    'Returned'
  ];
  const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;
  const quoted = (text: string): string => `'${text.replaceAll("'", "''")}'`;
  const daysAfter = (iso: string, days: number): string =>
    new Date(Date.parse(iso) + days * 86_400_000).toISOString().replace('.000Z', 'Z');
  // Per field: a value, a prefix and a substring for request i.
  const fields: [string, (i: number) => [string, string, string]][] = [
    ['ShipmentNumber', (i) => [at.keyAt(i), at.keyAt(i).slice(0, 8), at.keyAt(i).slice(-5)]],
    [
      'CustomerNumber',
      (i) => [at.customerAt(i), at.customerAt(i).slice(0, 6), at.customerAt(i).slice(-3)]
    ],
    [
      'OrderNumber',
      (i) => [pick(orders, i), pick(orders, i).slice(0, 6), pick(orders, i).slice(-2)]
    ],
    [
      'Carrier',
      (i) => [
        pick(at.carriers, i),
        pick(at.carriers, i).slice(0, 1),
        pick(at.carriers, i).slice(1, 3)
      ]
    ],
    [
      'Status',
      (i) => [pick(statuses, i), pick(statuses, i).slice(0, 3), pick(statuses, i).slice(2, 5)]
    ],
    [
      'DestinationCity',
      (i) => [pick(cities, i), pick(cities, i).slice(0, 1), pick(cities, i).slice(1, 3)]
    ]
  ];
  const filters: ((i: number) => string)[] = fields.flatMap(([field, values]) => [
    ...['eq', 'ne', 'lt', 'gt', 'le', 'ge'].map(
      (op) => (i: number) => `${field} ${op} ${quoted(values(i)[0])}`
    ),
    (i: number) => `contains(${field},${quoted(values(i)[2])})`,
    (i: number) => `not contains(${field},${quoted(values(i)[2])})`,
    (i: number) => `startswith(${field},${quoted(values(i)[1])})`
  ]);
  filters.push(
    ...['eq', 'ne', 'lt', 'gt', 'le', 'ge'].map(
      (op) => (i: number) => `ShippedAt ${op} ${at.dayAt(i)[0]}`
    ),
    (i) => `ShippedAt ge ${at.dayAt(i)[0]} and ShippedAt lt ${daysAfter(at.dayAt(i)[0], 30)}`,
    (i) => `Status eq ${quoted(pick(statuses, i))} and Carrier eq ${quoted(pick(at.carriers, i))}`,
    (i) => `Status eq ${quoted(pick(statuses, i))} or Carrier eq ${quoted(pick(at.carriers, i))}`,
    (i) =>
      `CustomerNumber eq ${quoted(at.customerAt(i))} and Status ne ${quoted(pick(statuses, i))}`,
    (i) =>
      `Status eq ${quoted(pick(statuses, i))} and DestinationCity eq ${quoted(pick(cities, i))} and ` +
      `Carrier ne ${quoted(pick(at.carriers, i))}`
  );
  const sorts = [undefined, ...SORTABLE.flatMap((field) => [field, `${field} desc`])];
  const all = filters.flatMap((filter) =>
    sorts.flatMap((orderBy) =>
      ['true', 'false'].map((count) => (i: number): RawQuery => ({
        $filter: filter(i),
        $top: '25',
        $count: count,
        ...(orderBy ? { $orderby: orderBy } : {})
      }))
    )
  );
  // In a spread order: any run of requests meets every filter, order and count in turn.
  return all.map((_, j) => all[(j * 7_919) % all.length]!);
}

/** The fields of `Shipment__x` a list view may sort by (the others are `isSortingDisabled`). */
const SORTABLE = [
  'ShipmentNumber',
  'Carrier',
  'DeclaredValue',
  'DeliveredAt',
  'DestinationCity',
  'EstimatedDelivery',
  'ShippedAt',
  'Status',
  'WeightKg'
];

/** See {@link requestValues}. */
export interface RequestValues {
  readonly count: number;
  readonly customers: readonly string[];
  readonly carriers: readonly string[];
  keyAt(i: number): string;
  customerAt(i: number): string;
  dayAt(i: number): [string, string];
}

/**
 * What the requests of a run are made of, read from the database: its row count, customers (the seed numbers them
 * from the largest), carriers (most rows first), and the i-th request's key, customer and one-day period, spread over
 * the data so that no two nearby requests ask for the same.
 */
export function requestValues(db: Database.Database): RequestValues {
  const count = db.prepare('SELECT count(*) FROM shipments').pluck().get() as number;
  const customers = db.prepare('SELECT customer_number FROM customers').pluck().all() as string[];
  const carriers = db
    .prepare(
      'SELECT carrier FROM shipments WHERE carrier IS NOT NULL GROUP BY carrier ORDER BY count(*) DESC'
    )
    .pluck()
    .all() as string[];
  const { minDay, maxDay } = db
    .prepare('SELECT min(shipped_at) AS minDay, max(shipped_at) AS maxDay FROM shipments')
    .get() as { minDay: string; maxDay: string };
  const firstDay = Date.parse(minDay);
  const days = Math.max(1, Math.floor((Date.parse(maxDay) - firstDay) / 86_400_000));
  return {
    count,
    customers,
    carriers,
    keyAt: (i) => `SHP-${String(1 + ((i * 7_919) % count)).padStart(10, '0')}`,
    customerAt: (i) => customers[(i * 31) % customers.length]!,
    dayAt: (i) => {
      const start = firstDay + ((i * 13) % days) * 86_400_000;
      const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
      return [iso(start), iso(start + 86_400_000)];
    }
  };
}

/**
 * How much of a database file the operating system's page cache holds (0–1), from util-linux's `fincore`; undefined
 * where it is missing. A first visit reads from the disk what the cache lacks: with both versions' 10M-row files
 * (28 GB) on a 23 GB machine, the I/O-bound shapes move between runs with it.
 */
function cachedShare(file: string): number | undefined {
  const run = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES,SIZE', file], {
    encoding: 'utf8'
  });
  const [cached, size] = run.status === 0 ? run.stdout.trim().split(/\s+/).map(Number) : [];
  return cached !== undefined && size ? Math.round((cached / size) * 100) / 100 : undefined;
}

/**
 * Writes the dirty pages out and empties the operating system's page cache (`/proc/sys/vm/drop_caches`, root only),
 * so that both versions start a size with none of their database file cached, whatever ran before.
 */
function dropPageCache(): void {
  spawnSync('sync');
  try {
    fs.writeFileSync('/proc/sys/vm/drop_caches', '1');
  } catch (error) {
    throw new Error(`--drop-caches needs root to write /proc/sys/vm/drop_caches: ${String(error)}`);
  }
}

/**
 * The machine's proactive reclaim, as the results state it: each running DAMON scheme (Linux's data access monitor,
 * `/sys/kernel/mm/damon`) that pages memory out once it has gone unused for a while, with memory free or not. On the
 * team's bench machine one drops file pages unused for 60 s, so a page one request read can be gone when the next
 * needs it a minute later, while a process's own memory (SQLite's page cache) stays. Undefined where there is none.
 */
export function proactiveReclaim(): string | undefined {
  const root = '/sys/kernel/mm/damon/admin/kdamonds';
  const read = (file: string): string | undefined => {
    try {
      return fs.readFileSync(file, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const numbered = (dir: string): string[] => {
    try {
      return fs.readdirSync(dir).filter((name) => /^\d+$/.test(name));
    } catch {
      return [];
    }
  };
  const schemes: string[] = [];
  for (const kdamond of numbered(root)) {
    if (read(`${root}/${kdamond}/state`) !== 'on') continue;
    for (const context of numbered(`${root}/${kdamond}/contexts`)) {
      const dir = `${root}/${kdamond}/contexts/${context}`;
      const aggregationUs = Number(read(`${dir}/monitoring_attrs/intervals/aggr_us`));
      for (const scheme of numbered(`${dir}/schemes`)) {
        const at = `${dir}/schemes/${scheme}`;
        if (read(`${at}/action`) !== 'pageout') continue;
        const idleSeconds = (Number(read(`${at}/access_pattern/age/min`)) * aggregationUs) / 1e6;
        const quotaBytes = Number(read(`${at}/quotas/bytes`));
        const quotaMs = Number(read(`${at}/quotas/reset_interval_ms`));
        const keepsAnonymous = ['ops_filters', 'filters'].some((kind) =>
          numbered(`${at}/${kind}`).some(
            (f) =>
              read(`${at}/${kind}/${f}/type`) === 'anon' && read(`${at}/${kind}/${f}/allow`) === 'N'
          )
        );
        schemes.push(
          `pages unused for ${idleSeconds} s are paged out` +
            (quotaBytes > 0 ? `, up to ${quotaBytes / 1_048_576} MB every ${quotaMs} ms` : '') +
            (keepsAnonymous ? ', process memory (anonymous pages) excepted' : '')
        );
      }
    }
  }
  return schemes.length > 0 ? schemes.join('; ') : undefined;
}

async function runSize(shipments: number, options: Options): Promise<SizeResult> {
  console.log(`\n== ${shipments.toLocaleString()} shipments`);
  const loadBefore = os.loadavg();
  const db = database(shipments);
  const values = requestValues(db);
  const { count, customers, carriers, keyAt, customerAt, dayAt } = values;
  const largestCustomer = customers[0]!;

  // Next links deep in a sorted set: the token the producer issues after row `depth` of the order, signed with the
  // server's key (following 2,500 links to get there measures nothing new).
  const depth = Math.min(DEPTH, count - PAGE_ROWS - 1);
  const tokens = new PageTokens(SECRET);
  const deepToken = (orderBy: string, sql: string): string => {
    const after = db
      .prepare(`SELECT ${sql} LIMIT 1 OFFSET ?`)
      .raw()
      .get(depth - 1) as (string | number | null)[];
    return tokens.encode(
      { after, remaining: null },
      PageTokens.fingerprint([undefined, undefined, orderBy, undefined, 'false'])
    );
  };
  const deepByDate = deepToken(
    'ShippedAt desc',
    'shipped_at, shipment_number FROM shipments ORDER BY shipped_at DESC, shipment_number DESC'
  );
  const deepByCity = deepToken(
    'DestinationCity',
    'destination_city, shipment_number FROM shipments ORDER BY destination_city, shipment_number'
  );
  const rareCarrier = carriers[carriers.length - 1]!;
  // String functions: a customer-number prefix (the largest customer's but its last digit), the shipments with an
  // order number, the largest customer's rows, and the Account page's search as Connect sends its LIKEs.
  const customerPrefix = largestCustomer.slice(0, -1);
  const customersWithPrefix = customers.filter((c) => c.startsWith(customerPrefix)).length;
  // A city (the first shipment's), as a user would type it into global search.
  const searchedCity = (
    db
      .prepare('SELECT destination_city FROM shipments WHERE destination_city IS NOT NULL LIMIT 1')
      .pluck()
      .get() as string
  ).toLowerCase();
  // Global searches of two terms, as a user types them: a city and a status, each a phrase, every pair once.
  const valuesOf = (column: string): string[] =>
    db
      .prepare(
        'SELECT substr(value, 3) FROM shipment_counts WHERE dimension = ? AND value GLOB ? ORDER BY value'
      )
      .pluck()
      .all(column, 'v:*') as string[];
  const [cityNames, statusNames] = [valuesOf('destination_city'), valuesOf('status')];
  const cityAndStatus = (i: number): string =>
    `"${cityNames[i % cityNames.length]}" "${statusNames[Math.floor(i / cityNames.length) % statusNames.length]}"`.toLowerCase();
  const countWhere = (where: string, ...params: unknown[]): number =>
    db
      .prepare(`SELECT count(*) FROM shipments WHERE ${where}`)
      .pluck()
      .get(...params) as number;
  const rowsWithPrefix = countWhere('customer_number GLOB ?', `${customerPrefix}*`);
  const ordered = countWhere('order_number IS NOT NULL');
  const largestRows = countWhere('customer_number = ?', largestCustomer);
  const customerSearch = (customer: string, term: string): RawQuery => ({
    $filter:
      `CustomerNumber eq '${customer}' and (` +
      ['ShipmentNumber', 'OrderNumber', 'Status', 'Carrier', 'DestinationCity']
        .map((field) => `contains(${field},'${term}')`)
        .join(' or ') +
      ')',
    $orderby: 'ShippedAt desc'
  });
  /**
   * A global search (`$search`, with its count as Connect asks) for request i's key's last `digits` digits; past
   * `skip` rows, as client-driven paging asks for the next page.
   */
  const keyDigitsSearch =
    (digits: number, skip = 0) =>
    (i: number): { resource: string; query: RawQuery } => ({
      resource: 'Shipments',
      query: {
        $search: keyAt(i).slice(-digits),
        $top: '25',
        ...(skip ? { $skip: String(skip) } : {}),
        $count: 'true'
      }
    });
  /**
   * A global search's second page as server-driven paging asks for it: the next link of request i's first page
   * (`$search` of its key's last 4 digits, `$count=true`, 25 rows a page, as `keyDigitsSearch(4)`), found in this
   * process by `setUp` for every request index the bench sends (measured, warm-ups, the rows probe), so that no
   * request repeats another and none waits for its first page. The link carries the first page's count, which the
   * producer then does not count again.
   */
  const searchNextLinks = new Map<number, string>();
  const findSearchNextLinks = (): void => {
    const producer = new currentQuery.EntityQueries(db, SHIPMENTS, new PageTokens(SECRET), 2000);
    const measured = 2 * (options.requests + WARM_UPS);
    for (const i of [
      UNMEASURED - 1,
      UNMEASURED,
      ...Array.from({ length: measured }, (_, k) => k)
    ]) {
      const first = producer.page(
        currentQuery.parseQueryOptions({ $search: keyAt(i).slice(-4), $count: 'true' }, SHIPMENTS),
        25
      );
      if (!first.nextToken) throw new Error(`$search=${keyAt(i).slice(-4)} has no second page`);
      searchNextLinks.set(i, first.nextToken);
    }
  };
  // A fifth of the depth: each carrier has about a fifth of the rows.
  const filteredDepth = Math.floor(depth / 5);
  const listViewFilters = listViewFilterSweep(db, values);
  const page = (query: RawQuery) => () => ({
    resource: 'Shipments',
    query,
    maxPageSize: PAGE_ROWS
  });

  const allShapes: Shape[] = [
    {
      name: "key lookup: Shipments('…')",
      indexed: true,
      cpu: true,
      request: (i) => ({ resource: `Shipments('${keyAt(i)}')`, query: {} })
    },
    {
      name: "key lookup: $filter=ShipmentNumber eq '…'",
      indexed: true,
      cpu: true,
      request: (i) => ({
        resource: 'Shipments',
        query: { $filter: `ShipmentNumber eq '${keyAt(i)}'` }
      })
    },
    {
      name: "related list: CustomerNumber eq '…', $orderby=ShippedAt desc, $top=25, $count=true",
      indexed: true,
      request: (i) => ({
        resource: 'Shipments',
        query: {
          $filter: `CustomerNumber eq '${customerAt(i)}'`,
          $orderby: 'ShippedAt desc',
          $top: '25',
          $count: 'true'
        }
      })
    },
    {
      name: `related list of the largest customer (${largestCustomer}) sorted by a non-date column: $orderby=DestinationCity, $top=25, $count=true`,
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: {
          $filter: `CustomerNumber eq '${largestCustomer}'`,
          $orderby: 'DestinationCity',
          $top: '25',
          $count: 'true'
        }
      })
    },
    {
      name: "list-view filter: Status eq 'Exception', $top=100 (default order)",
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: { $filter: "Status eq 'Exception'", $top: '100' }
      })
    },
    {
      name: `list-view filter + sort + count: Carrier eq '${rareCarrier}', $orderby=ShippedAt desc, $top=25, $count=true`,
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: {
          $filter: `Carrier eq '${rareCarrier}'`,
          $orderby: 'ShippedAt desc',
          $top: '25',
          $count: 'true'
        }
      })
    },
    {
      name: "list-view filter + sort by another column: Status eq 'Exception', $orderby=DestinationCity, $top=25 (walks the city index, testing the status carried in it)",
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: { $filter: "Status eq 'Exception'", $orderby: 'DestinationCity', $top: '25' }
      })
    },
    {
      name: "list-view filter + sort by another column, a rare value: Status eq 'In Transit' (0.15 % of rows), $orderby=DestinationCity, $top=25",
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: { $filter: "Status eq 'In Transit'", $orderby: 'DestinationCity', $top: '25' }
      })
    },
    {
      name: "list-view filter + sort by a correlated column: Status eq 'Exception', $orderby=DeliveredAt desc, $top=25 (no exception has a delivery date, so all sort last: shipments_status_by_delivered_at serves it)",
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: { $filter: "Status eq 'Exception'", $orderby: 'DeliveredAt desc', $top: '25' }
      })
    },
    {
      name: 'one day of ShippedAt, $orderby=ShippedAt desc, $top=100',
      indexed: true,
      request: (i) => {
        const [from, to] = dayAt(i);
        return {
          resource: 'Shipments',
          query: {
            $filter: `ShippedAt ge ${from} and ShippedAt lt ${to}`,
            $orderby: 'ShippedAt desc',
            $top: '100'
          }
        };
      }
    },
    {
      name: `sorted by a non-date column, page 1: $orderby=DestinationCity desc (${PAGE_ROWS} rows)`,
      indexed: true,
      request: page({ $orderby: 'DestinationCity desc' })
    },
    {
      name: `sorted by a number, page 1: $orderby=WeightKg (${PAGE_ROWS} rows)`,
      indexed: true,
      request: page({ $orderby: 'WeightKg' })
    },
    {
      name: `server-driven paging, depth ${depth.toLocaleString()} via nextLink: $orderby=ShippedAt desc (${PAGE_ROWS} rows)`,
      indexed: true,
      request: page({ $orderby: 'ShippedAt desc', $skiptoken: deepByDate })
    },
    {
      name: `server-driven paging, depth ${depth.toLocaleString()} via nextLink: $orderby=DestinationCity (${PAGE_ROWS} rows)`,
      indexed: true,
      request: page({ $orderby: 'DestinationCity', $skiptoken: deepByCity })
    },
    {
      name: `client-driven paging: $orderby=ShippedAt desc, $top=${PAGE_ROWS}, $skip=${depth.toLocaleString()}`,
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: { $orderby: 'ShippedAt desc', $top: String(PAGE_ROWS), $skip: String(depth) }
      })
    },
    {
      name: `client-driven paging: $orderby=DestinationCity, $top=${PAGE_ROWS}, $skip=${depth.toLocaleString()}`,
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: { $orderby: 'DestinationCity', $top: String(PAGE_ROWS), $skip: String(depth) }
      })
    },
    {
      name: `client-driven paging, default order: $top=${PAGE_ROWS}, $skip=${depth.toLocaleString()}`,
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: { $top: String(PAGE_ROWS), $skip: String(depth) }
      })
    },
    {
      name: `client-driven paging, first request after a write: $orderby=DestinationCity, $top=${PAGE_ROWS}, $skip=${depth.toLocaleString()}`,
      indexed: true,
      writeFirst: true,
      request: () => ({
        resource: 'Shipments',
        query: { $orderby: 'DestinationCity', $top: String(PAGE_ROWS), $skip: String(depth) }
      })
    },
    {
      name: `client-driven paging of a list-view filter sorted by another column: Carrier eq '${rareCarrier}', $orderby=DestinationCity, $top=${PAGE_ROWS}, $skip=${filteredDepth.toLocaleString()}`,
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: {
          $filter: `Carrier eq '${rareCarrier}'`,
          $orderby: 'DestinationCity',
          $top: String(PAGE_ROWS),
          $skip: String(filteredDepth)
        }
      })
    },
    {
      name: 'Shipments/$count (whole table)',
      indexed: true,
      request: () => ({ resource: 'Shipments/$count', query: {} })
    },
    {
      name: "Shipments/$count?$filter=CustomerNumber eq '…'",
      indexed: true,
      request: (i) => ({
        resource: 'Shipments/$count',
        query: { $filter: `CustomerNumber eq '${customerAt(i)}'` }
      })
    },
    {
      name: "Shipments/$count?$filter=Status eq 'Delivered' (the most frequent status)",
      indexed: true,
      request: () => ({
        resource: 'Shipments/$count',
        query: { $filter: "Status eq 'Delivered'" }
      })
    },
    {
      name: "contains(DestinationCity,'ich'), $top=25 (read as the cities that contain it)",
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: { $filter: "contains(DestinationCity,'ich')", $top: '25' }
      })
    },
    {
      name: "a substring no city contains: contains(DestinationCity,'zzz'), $top=25, $count=true",
      indexed: true,
      request: page({ $filter: "contains(DestinationCity,'zzz')", $top: '25', $count: 'true' })
    },
    {
      name: `customers by prefix: startswith(CustomerNumber,'${customerPrefix}'), $top=25, $count=true (${customersWithPrefix} customers, ${rowsWithPrefix.toLocaleString()} rows)`,
      indexed: true,
      request: page({
        $filter: `startswith(CustomerNumber,'${customerPrefix}')`,
        $top: '25',
        $count: 'true'
      })
    },
    {
      name: `a sparse column: contains(OrderNumber,'99'), $top=25, $count=true (${ordered.toLocaleString()} shipments have an order number)`,
      indexed: true,
      request: page({ $filter: "contains(OrderNumber,'99')", $top: '25', $count: 'true' })
    },
    {
      name: "a substring of the key: contains(ShipmentNumber,'…' its last 7 digits), $top=25, $count=true (the key's trigram index)",
      indexed: true,
      request: (i) => ({
        resource: 'Shipments',
        query: {
          $filter: `contains(ShipmentNumber,'${keyAt(i).slice(-7)}')`,
          $top: '25',
          $count: 'true'
        }
      })
    },
    {
      name: "$search of a key's last 7 digits, $top=25, $count=true (each searchable column read through an index)",
      indexed: true,
      request: keyDigitsSearch(7)
    },
    {
      name: "$search of a key's last 4 digits, $top=25, $count=true (counted by the key's substring counter and the other columns' index reads; the page from the key's candidates, or from each column's first rows in the page's order)",
      indexed: true,
      request: keyDigitsSearch(4)
    },
    {
      name: "$search of a key's last 4 digits, client-driven page 2: $top=25, $skip=25, $count=true (as the first page; past $skip, up to sqrt(rows x 20) candidates are read before each column's first rows)",
      indexed: true,
      request: keyDigitsSearch(4, 25)
    },
    {
      name: "$search of a key's last 4 digits, server-driven page 2: its first page's nextLink ($count=true, 25 rows a page; read from each column's first rows after the link's position, its count carried in the link)",
      indexed: true,
      setUp: findSearchNextLinks,
      request: (i) => {
        const token = searchNextLinks.get(i);
        if (!token) throw new Error(`no next link was found for request ${i}`);
        return {
          resource: 'Shipments',
          query: { $search: keyAt(i).slice(-4), $count: 'true', $skiptoken: token },
          maxPageSize: 25
        };
      }
    },
    {
      name: "$search of a key's last 2 digits, $top=25, $count=true (counted from counters: the key's substrings, the customers', and the key substrings each customer's number holds; each of the 100 terms once, warm-ups included)",
      indexed: true,
      // keyAt's last two digits run through all 100 terms in 100 consecutive requests.
      maxRequests: 100 - WARM_UPS,
      request: keyDigitsSearch(2)
    },
    {
      name: `$search of a city: $search=${searchedCity}, $top=25, $count=true (read as the cities that contain it)`,
      indexed: true,
      request: page({ $search: searchedCity, $top: '25', $count: 'true' })
    },
    {
      name: `$search of a city and a status, each a phrase (${cityAndStatus(0)}), $top=25, $count=true (each term read as the values that hold it; counted by the tuple counters; every pair once, warm-ups included)`,
      indexed: true,
      maxRequests: cityNames.length * statusNames.length - WARM_UPS,
      request: (i) => ({
        resource: 'Shipments',
        query: { $search: cityAndStatus(i), $top: '25', $count: 'true' }
      })
    },
    {
      name: "$search of a customer number and a key's last 4 digits (the Account page's search as a global search), $top=25, $count=true (the customer's value, and the digits as contains() in each column beside it)",
      indexed: true,
      request: (i) => ({
        resource: 'Shipments',
        query: { $search: `${customerAt(i)} ${keyAt(i).slice(-4)}`, $top: '25', $count: 'true' }
      })
    },
    {
      name: "a frequent substring of the key, counted again: contains(ShipmentNumber,'000'), $top=25, $count=true (its substring counter; before, the count kept since its first request)",
      indexed: true,
      request: page({ $filter: "contains(ShipmentNumber,'000')", $top: '25', $count: 'true' })
    },
    {
      name: "a frequent substring of the key counted the first time: contains(ShipmentNumber,'…' 2 digits), $top=25, $count=true (its substring counter)",
      indexed: true,
      request: (i) => ({
        resource: 'Shipments',
        query: {
          $filter: `contains(ShipmentNumber,'${String((i * 7) % 100).padStart(2, '0')}')`,
          $top: '25',
          $count: 'true'
        }
      })
    },
    {
      name: "4 digits of the key counted the first time: contains(ShipmentNumber,'…' 4 digits), $top=25, $count=true (its substring counter)",
      indexed: true,
      request: (i) => ({
        resource: 'Shipments',
        query: {
          $filter: `contains(ShipmentNumber,'${String((i * 7_919) % 10_000).padStart(4, '0')}')`,
          $top: '25',
          $count: 'true'
        }
      })
    },
    {
      name: `list-view filters: every filterable field with each operator a list view offers, and two or three of them under and/or, with and without $count, newest first or sorted by any sortable field either way (${listViewFilters.length} shapes, $top=25: the measured requests take the first of them in turn; each is sent once in the audit below the table)`,
      indexed: true,
      audit: listViewFilters.length,
      request: (i) => ({
        resource: 'Shipments',
        query: listViewFilters[i % listViewFilters.length]!(i)
      })
    },
    {
      name: "the Account page's search of a typical customer: 5 text fields contain '…' (a key's last 4 digits), $count=true (read as the union of the fields' index reads, or the customer's rows tested)",
      indexed: true,
      request: (i) => ({
        resource: 'Shipments',
        query: { ...customerSearch(customerAt(i), keyAt(i).slice(-4)), $top: '25', $count: 'true' }
      })
    },
    {
      name: `the Account page's search of the largest customer (${largestCustomer}, ${largestRows.toLocaleString()} rows), $count=true (counted from its key-substring counters where it has them; the page walks its rows)`,
      indexed: true,
      request: (i) => ({
        resource: 'Shipments',
        query: {
          ...customerSearch(largestCustomer, keyAt(i).slice(-4)),
          $top: '25',
          $count: 'true'
        }
      })
    },
    {
      name: `list-view filters of a large customer and a status: CustomerNumber eq '…' and Status eq '…', $orderby=ShippedAt desc, $top=25, $count=true (the ${LARGE_CUSTOMERS} largest customers × each status, every pair once, warm-ups included; walks the customer's entries newest first, counted by its tuple)`,
      indexed: true,
      maxRequests: LARGE_CUSTOMERS * statusNames.length - WARM_UPS,
      request: (i) => ({
        resource: 'Shipments',
        query: {
          $filter: `CustomerNumber eq '${customers[i % LARGE_CUSTOMERS]!}' and Status eq '${statusNames[Math.floor(i / LARGE_CUSTOMERS) % statusNames.length]!}'`,
          $orderby: 'ShippedAt desc',
          $top: '25',
          $count: 'true'
        }
      })
    }
  ];
  const shapes = allShapes.filter((s) => !options.shapes || options.shapes.test(s.name));

  if (options.dropCaches) dropPageCache();
  // The servers run in their own processes (as in production), so the client's work does not stall their event loops.
  const variants: Variant[] = [];
  /** Extra connections to close at the end. */
  const connections: Database.Database[] = [];
  if (options.before) {
    const file = path.join(TMP, `shipments-${shipments}-before.sqlite`);
    if (!fs.existsSync(file)) throw new Error(`--before needs ${file} (built by that checkout)`);
    const beforeDb = openBeforeDatabase(file);
    const beforeWriter = openBeforeDatabase(file, { writable: true });
    connections.push(beforeWriter);
    variants.push({
      name: 'before',
      db: beforeDb,
      server: await startServerProcess(path.join(options.before, 'bench/run.ts'), [
        '--serve',
        file
      ]),
      queries: (await import(
        path.join(options.before, 'remote-system/src/data-virtualization/query')
      )) as typeof currentQuery,
      paging: (await import(
        path.join(options.before, 'remote-system/src/data-virtualization/paging')
      )) as typeof currentPaging,
      entity: (
        (await import(
          path.join(options.before, 'remote-system/src/data-virtualization/entity')
        )) as {
          SHIPMENTS: typeof SHIPMENTS;
        }
      ).SHIPMENTS,
      touch: shipmentToucher(beforeWriter)
    });
  }
  variants.push({
    name: 'after',
    db,
    touch: shipmentToucher(db),
    server: await startServerProcess(
      __filename,
      ['--serve', db.name],
      options.profile ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`] : []
    ),
    queries: currentQuery,
    paging: currentPaging,
    entity: SHIPMENTS
  });

  const cachedAtStart = variants.map((variant) => cachedShare(variant.db.name));

  // Warm each server up (JIT, statement cache) with every shape before anything is measured, so a CPU figure is not
  // the compiler's: the others once, then the fixed-cost shapes CPU_WARM_UP times, last, so that the garbage the
  // heavy shapes leave is not collected inside the key lookups' CPU window (they are measured first). The
  // fixed-cost shapes warm up on the very requests they then measure (CPU_WARM_UP = CPU_REQUESTS), so their pages are
  // cached at every size: warmed up from UNMEASURED on, 1M rows got the measured keys by the arithmetic of `keyAt`,
  // but 10M rows 5,000 other keys, and each measured lookup then read its pages from the OS, or from the disk once
  // the heavy shapes had pushed them out of the OS's cache.
  const warmUpOrder = [...shapes.filter((s) => !s.cpu), ...shapes.filter((s) => s.cpu)];
  for (const shape of shapes) shape.setUp?.();
  for (const variant of variants) {
    for (const shape of warmUpOrder) {
      for (let i = 0; i < (shape.cpu ? CPU_WARM_UP : 1); i++) {
        const { resource, query, maxPageSize } = shape.request(shape.cpu ? i : UNMEASURED + i);
        const qs = encodeQuery(query);
        const response = await fetch(
          `${variant.server.url}/data-virtualization/odata/${resource}${qs ? `?${qs}` : ''}`,
          {
            headers: {
              authorization: `Bearer ${SECRET}`,
              ...(maxPageSize ? { prefer: `odata.maxpagesize=${maxPageSize}` } : {})
            }
          }
        );
        await response.arrayBuffer();
      }
    }
  }

  const results: ShapeResult[] = [];
  let floor: SizeResult['floor'];
  try {
    const lookup = shapes.find((s) => s.cpu && s.request(0).resource.startsWith('Shipments('));
    if (lookup) floor = await measureFloor(variants.at(-1)!, lookup);
    if (floor) {
      console.log(
        `  floor (bare node:http, a key lookup's response): CPU ${floor.cpuMsPerRequest} ms/req, ` +
          `HTTP p50 ${floor.http1.p50} ms, p99 ${floor.http1.p99} ms`
      );
    }
    for (const shape of shapes) {
      const result: ShapeResult = { shape: shape.name, indexed: shape.indexed, variants: [] };
      // Scans are slow by nature at 10M rows: fewer samples keep the run bounded.
      const requests = Math.min(
        shape.cpu
          ? Math.max(options.requests, CPU_REQUESTS)
          : shape.indexed
            ? options.requests
            : Math.min(options.requests, 40),
        shape.maxRequests ?? Infinity
      );
      console.log(`  ${shape.name}`);
      const rowsOf: number[] = [];
      for (const variant of variants) rowsOf.push(await sendTo(variant, shape, UNMEASURED - 1));
      const cpuStarts = variants.map((variant) => processStats(variant.server.child.pid!).cpuMs);
      const tasks = variants.map((variant) => async (i: number) => {
        await sendTo(variant, shape, i);
      });
      const prepares = variants.map((variant) => (shape.writeFirst ? variant.touch : undefined));
      // Both variants in turn, request by request (see `measurePaired`); each server's CPU is its own process's. The
      // fixed-cost shapes, whose pages stay cached, are measured one variant after the other: a server whose requests
      // alternate with another process's spends more CPU on each (0.22 against 0.19 ms a key lookup, tried once).
      const http1s: (Stats & { warmUp: number })[] = [];
      if (shape.cpu) {
        for (const [k, task] of tasks.entries())
          http1s.push(await measure(requests, 1, task, prepares[k]));
      } else {
        http1s.push(...(await measurePaired(requests, tasks, prepares)));
      }
      // Includes the warm-up requests measure() and measurePaired() send first.
      const cpuMsOf = variants.map(
        (variant, k) => processStats(variant.server.child.pid!).cpuMs - cpuStarts[k]!
      );
      for (const [k, variant] of variants.entries()) {
        const rows = rowsOf[k]!;
        const http1 = http1s[k]!;
        const cpuMs = cpuMsOf[k]!;
        const served = http1.count + http1.warmUp;
        const httpN = await measure(
          requests,
          options.concurrency,
          tasks[k]!,
          prepares[k],
          requests + WARM_UPS
        );
        const memory = processStats(variant.server.child.pid!);
        const direct = directSqlite(variant, shape, requests);
        result.variants.push({
          variant: variant.name,
          rows,
          http1,
          httpN,
          cpuMsPerRequest: round2(cpuMs / served),
          rssMb: Math.round(memory.rssKb / 1024),
          peakRssMb: Math.round(memory.peakRssKb / 1024),
          ...(direct ?? {})
        });
        const v = result.variants[result.variants.length - 1]!;
        console.log(
          `    ${variant.name.padEnd(6)} HTTP p50 ${http1.p50} ms, p99 ${http1.p99} ms, ${httpN.rps} req/s (x${options.concurrency}); ` +
            `CPU ${v.cpuMsPerRequest} ms/req, RSS ${v.rssMb} MB (peak ${v.peakRssMb}); ` +
            `SQLite p50 ${v.sqlite?.p50 ?? '-'} ms, p99 ${v.sqlite?.p99 ?? '-'} ms`
        );
      }
      if (shape.audit) {
        result.audits = [];
        // A multiple of the kinds, far from the measured requests: each kind once, none repeating an earlier query.
        const base = shape.audit * Math.ceil(UNMEASURED / 2 / shape.audit);
        // Each shape to both variants in turn, the one sent it first alternating (see `measurePaired`).
        const sampled = variants.map((): { ms: number; query: RawQuery }[] => []);
        for (let k = 0; k < shape.audit; k++) {
          for (const v of turnOrder(k, variants.length)) {
            const t0 = performance.now();
            await sendTo(variants[v]!, shape, base + k);
            sampled[v]!.push({ ms: performance.now() - t0, query: shape.request(base + k).query });
          }
        }
        for (const [v, variant] of variants.entries()) {
          const samples = sampled[v]!;
          const http = stats(
            samples.map((x) => x.ms),
            samples.reduce((total, x) => total + x.ms, 0)
          );
          const slowest = [...samples].sort((a, b) => b.ms - a.ms).slice(0, AUDIT_SLOWEST);
          result.audits.push({
            variant: variant.name,
            http,
            over20ms: samples.filter((x) => x.ms > 20).length,
            slowest: slowest.map((x) => ({ ms: round2(x.ms), query: x.query }))
          });
          console.log(
            `    audit ${variant.name.padEnd(6)} each of ${shape.audit} once: p50 ${http.p50} ms, p99 ${http.p99} ms, ` +
              `max ${http.max} ms, ${result.audits.at(-1)!.over20ms} over 20 ms`
          );
        }
      }
      results.push(result);
    }
  } finally {
    for (const variant of variants) {
      await stopServer(variant.server.child);
      if (variant.db !== db) variant.db.close();
    }
  }
  for (const connection of connections) connection.close();
  const loadAfter = os.loadavg();
  const pageCache = variants.map((variant, k) => ({
    variant: variant.name,
    start: cachedAtStart[k],
    end: cachedShare(variant.db.name)
  }));
  const indexes = indexSizes(db);
  db.close();
  return {
    shipments,
    results,
    floor,
    load: { before: loadBefore, after: loadAfter },
    pageCache,
    indexes
  };
}

/** Sends request `i` of `shape` to the variant's server: the rows of its page (1 for a count or an entity). */
async function sendTo(variant: Variant, shape: Shape, i: number): Promise<number> {
  const { resource, query, maxPageSize } = shape.request(i);
  const qs = encodeQuery(query);
  const url = `${variant.server.url}/data-virtualization/odata/${resource}${qs ? `?${qs}` : ''}`;
  const init = {
    headers: {
      authorization: `Bearer ${SECRET}`,
      ...(maxPageSize ? { prefer: `odata.maxpagesize=${maxPageSize}` } : {})
    }
  };
  // A kept-alive socket the server closed while the other version was measured: one retry on a new one.
  const response = await fetch(url, init).catch(() => fetch(url, init));
  const body = await response.text();
  if (response.status !== 200)
    throw new Error(`${shape.name} (${variant.name}): HTTP ${response.status} ${body}`);
  return resource.endsWith('$count') || resource.includes("('")
    ? Number(body.length > 0)
    : (JSON.parse(body) as { value: unknown[] }).value.length;
}

/** A write to `shipments` that leaves its rows as they were: one inserted and deleted again (`Shape.writeFirst`). */
function shipmentToucher(db: Database.Database): () => void {
  const customer = db.prepare('SELECT customer_number FROM shipments LIMIT 1').pluck().get();
  const insert = db.prepare(
    "INSERT INTO shipments (shipment_number, customer_number) VALUES ('SHP-BENCH-TOUCH', ?)"
  );
  const remove = db.prepare("DELETE FROM shipments WHERE shipment_number = 'SHP-BENCH-TOUCH'");
  return db.transaction(() => {
    insert.run(customer);
    remove.run();
  });
}

/** The "before" database, opened without running this checkout's migrations on it (read-only unless asked). */
function openBeforeDatabase(file: string, mode = { writable: false }): Database.Database {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Sqlite = require('better-sqlite3') as typeof Database;
  return new Sqlite(file, { readonly: !mode.writable });
}

/** The SQL the variant's producer generates for each request, run straight on SQLite (prepared, not timed). */
function directSqlite(
  variant: Variant,
  shape: Shape,
  requests: number
): { sqlite: Stats; plan: string } | undefined {
  const { EntityQueries, parseQueryOptions } = variant.queries;
  const direct = new EntityQueries(
    variant.db,
    variant.entity,
    new variant.paging.PageTokens(SECRET),
    2000
  );
  // The SQL the producer ran for each request, found by sending it the same requests in the same order as the HTTP
  // measurement sent its server (warm-ups first): what it keeps between requests (positions, counts) is then the
  // same, and so is the SQL. A request that follows a write (`writeFirst`) has the write made before it.
  const sqlFor = (i: number): { sql: string; params: unknown[] }[] => {
    const { resource, query, maxPageSize } = shape.request(i);
    if (resource.startsWith('Shipments(')) {
      return [
        {
          sql: 'SELECT * FROM shipments WHERE shipment_number = ?',
          params: [resource.slice("Shipments('".length, -2)]
        }
      ];
    }
    const parsed = parseQueryOptions(query, variant.entity);
    if (shape.writeFirst) variant.touch();
    if (resource.endsWith('/$count')) direct.count(parsed);
    else direct.page(parsed, maxPageSize);
    return direct.lastQueries;
  };
  // Warm-ups as the HTTP measurement's, within the same budget (a scan's take seconds each).
  const warmUpStarted = performance.now();
  for (
    let w = 0;
    w < Math.min(WARM_UPS, requests) && performance.now() - warmUpStarted < WARM_UP_BUDGET_MS;
    w++
  ) {
    sqlFor(requests + w);
  }
  let first: { sql: string; params: unknown[] }[] = [];
  const statements = new Map<string, Database.Statement>();
  const samples: number[] = [];
  const started = performance.now();
  // Each request's SQL is found just before it is timed, within the budget: finding it runs the producer, which
  // takes as long as the SQL itself for a scan.
  for (let i = 0; i < requests; i++) {
    if (samples.length >= MIN_SAMPLES && performance.now() - started > MEASURE_BUDGET_MS) break;
    const ran = sqlFor(i);
    if (i === 0) first = ran;
    const steps = ran.map(({ sql, params }) => {
      let statement = statements.get(sql);
      if (!statement) {
        statement = variant.db.prepare(sql);
        statements.set(sql, statement);
      }
      return { statement, params };
    });
    const t0 = performance.now();
    for (const { statement, params } of steps) statement.raw().all(...params);
    samples.push(performance.now() - t0);
  }
  const plan = first
    .map(({ sql, params }) =>
      (
        variant.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as {
          detail: string;
        }[]
      )
        .map((r) => r.detail)
        .join('; ')
    )
    .join(' ⟶ ');
  return { sqlite: stats(samples, performance.now() - started), plan };
}

/** Disk used by the table and each index (MB), from SQLite's dbstat table. */
function indexSizes(db: Database.Database): { name: string; mb: number }[] {
  try {
    return (
      db
        .prepare(
          "SELECT name, sum(pgsize) AS bytes FROM dbstat WHERE name = 'shipments' OR name IN " +
            "(SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'shipments') " +
            'GROUP BY name ORDER BY bytes DESC'
        )
        .all() as { name: string; bytes: number }[]
    ).map((r) => ({ name: r.name, mb: Math.round(r.bytes / 1_048_576) }));
  } catch {
    return [];
  }
}

interface SizeResult {
  shipments: number;
  results: ShapeResult[];
  /** The floor under a key lookup's server CPU on this run's machine (see `measureFloor`). */
  floor?: { cpuMsPerRequest: number; http1: Stats };
  load: { before: number[]; after: number[] };
  /** Each version's database file's share in the OS page cache when the size started and ended (`cachedShare`). */
  pageCache?: { variant: string; start?: number; end?: number }[];
  indexes: { name: string; mb: number }[];
}

function markdown(all: SizeResult[], options: Options): string {
  const load = (l: number[]): string => l.map((n) => n.toFixed(1)).join(' / ');
  const lines = [
    '# Data Virtualization benchmark',
    '',
    `Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPU(s) ` +
      `(${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${options.requests} requests per shape ` +
      `(${CPU_REQUESTS} for the key lookups, 40 for the scans) after up to 20 warm-up requests (the key lookups ` +
      `first warm each server up with ${CPU_WARM_UP.toLocaleString('en-US')} more: a fresh server's CPU per request ` +
      'settles only after a few thousand); a shape still ' +
      `running after ${MEASURE_BUDGET_MS / 1000} s stops there (n = samples at concurrency 1). HTTP = the real server ` +
      '(composition root, bearer auth, JSON logs off, rate limiting off) in its own process on 127.0.0.1, the ' +
      `client in this one, with ${producerSettings()}; ` +
      `"x${options.concurrency}" = ${options.concurrency} concurrent clients. CPU = the server process's user + ` +
      'system CPU time per request at concurrency 1 (from /proc, 10 ms ticks, warm-up included); RSS = its ' +
      'resident set after the shape, peak = its high-water mark so far. SQLite = the SQL the producer generates for ' +
      'the same request, run directly (prepared). Latencies in ms.',
    ''
  ];
  const reclaim = proactiveReclaim();
  if (reclaim !== undefined || options.dropCaches) {
    lines.push(
      (reclaim === undefined
        ? ''
        : `This machine's kernel reclaims memory before it runs short (DAMON): ${reclaim}. A database page that the ` +
          'warm-up or an earlier request read can be gone from the page cache a minute later, so a first visit ' +
          "reads from the disk what the producer's own SQLite cache does not hold. ") +
        (options.dropCaches
          ? 'Each size started with the page cache emptied (`--drop-caches`), so both versions started with none ' +
            'of their database file cached.'
          : ''),
      ''
    );
  }
  if (options.before) {
    lines.push(
      '"before" = the previous version (its code and its database, with the indexes it had), measured in the same ' +
        'run with "after" (this version), so both saw the same machine load: at concurrency 1 and in the audits ' +
        'request by request, the one sent each request first alternating, so that neither finds the pages of ' +
        "the other's first visits cached more often (the key lookups, whose pages stay cached, one after the other).",
      ''
    );
  }
  for (const { shipments, results, floor, load: l, pageCache, indexes } of all) {
    lines.push(
      `## ${shipments.toLocaleString()} shipments`,
      '',
      `Load average (1 / 5 / 15 min) when this size started: ${load(l.before)}; when it ended: ${load(l.after)} ` +
        '(the machine is shared with other jobs).',
      ''
    );
    const share = (value: number | undefined): string =>
      value === undefined ? 'unknown' : `${Math.round(value * 100)} %`;
    if (pageCache?.some((c) => c.start !== undefined)) {
      lines.push(
        "Share of each database file in the operating system's page cache (`fincore`), when this size started → " +
          'when it ended (a first visit reads from the disk what it lacks): ' +
          pageCache.map((c) => `${c.variant} ${share(c.start)} → ${share(c.end)}`).join(', ') +
          '.',
        ''
      );
    }
    if (floor) {
      lines.push(
        `Floor under a key lookup's CPU on this run's machine: a bare \`node:http\` server answering every request ` +
          `with the "after" server's response to a key lookup (same headers and body, nothing read) took ` +
          `${floor.cpuMsPerRequest} ms of CPU a request (HTTP p50 ${floor.http1.p50} ms, p99 ${floor.http1.p99} ms), ` +
          `measured as the key lookups are.`,
        ''
      );
    }
    lines.push(
      `| query shape | version | rows | n | HTTP p50 | HTTP p99 | HTTP req/s (x1) | HTTP req/s (x${options.concurrency}) ` +
        '| server CPU ms/req | RSS MB (peak) | SQLite p50 | SQLite p99 | index |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'
    );
    for (const r of results) {
      for (const v of r.variants) {
        lines.push(
          `| ${r.shape.replace(/\|/g, '\\|')} | ${v.variant} | ${v.rows} | ${v.http1.count} | ${v.http1.p50} | ${v.http1.p99} | ` +
            `${v.http1.rps} | ${v.httpN.rps} | ${v.cpuMsPerRequest} | ${v.rssMb} (${v.peakRssMb}) | ` +
            `${v.sqlite?.p50 ?? '—'} | ${v.sqlite?.p99 ?? '—'} | ${r.indexed ? 'yes' : 'no'} |`
        );
      }
    }
    if (indexes.length > 0) {
      lines.push(
        '',
        'Disk (this version): ' + indexes.map((i) => `\`${i.name}\` ${i.mb} MB`).join(', ') + '.'
      );
    }
    for (const r of results) {
      for (const audit of r.audits ?? []) {
        lines.push(
          '',
          `Audit of "${r.shape.replace(/ \(.*$/, '')}" (${audit.variant}): each of its ${audit.http.count} ` +
            `shapes sent once through HTTP at concurrency 1: p50 ${audit.http.p50} ms, p99 ${audit.http.p99} ms, ` +
            `max ${audit.http.max} ms; ${audit.over20ms} over 20 ms. The slowest:`,
          '',
          ...audit.slowest.map(
            (x) =>
              `- ${x.ms} ms: \`${Object.entries(x.query)
                .map(([k, v]) => `${k}=${String(v)}`)
                .join('&')}\``
          )
        );
      }
    }
    lines.push('', '<details><summary>Query plans</summary>', '');
    for (const r of results) {
      for (const v of r.variants) {
        if (v.plan) lines.push(`- ${r.shape} (${v.variant}): \`${v.plan}\``);
      }
    }
    lines.push('', '</details>', '');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The producer's settings the "after" server reads from this process's environment (`serve` passes it on), as the
 * results state them. The "before" server reads the same environment, with its own version's defaults for what is
 * unset: a run with `DATA_VIRTUALIZATION_MMAP_MB` set measures memory-mapped reads in both versions.
 */
function producerSettings(): string {
  const { pageCacheMb, mmapMb } = loadDataVirtualizationConfig(process.env);
  const inEnvironment = ['DATA_VIRTUALIZATION_CACHE_MB', 'DATA_VIRTUALIZATION_MMAP_MB'].filter(
    (name) => process.env[name] !== undefined
  );
  return (
    `DATA_VIRTUALIZATION_CACHE_MB=${pageCacheMb} and DATA_VIRTUALIZATION_MMAP_MB=${mmapMb} ` +
    (inEnvironment.length === 0
      ? '(this version\'s defaults; "before" ran with its own)'
      : `(${inEnvironment.join(' and ')} set for both versions)`)
  );
}

/**
 * Starts `<entry> <args>` in a child process (`--serve <db>`, `--serve-floor <response file>`, or another bench's own
 * server mode) and waits for the URL it prints as `LISTENING <url>`.
 */
export function startServerProcess(
  entry: string,
  args: readonly string[],
  nodeArgs: readonly string[] = []
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...nodeArgs, ...process.execArgv, entry, ...args], {
    stdio: ['ignore', 'pipe', 'inherit']
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /LISTENING (\S+)/.exec(output);
      if (match) resolve({ url: match[1]!, child });
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
}

/** SIGTERM, then wait for the exit (a `--cpu-prof` profile is written on the way out). */
export function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A response as `measureFloor` captures it and `serveFloor` replays it. */
interface CapturedResponse {
  headers: Record<string, string>;
  body: string;
}

/**
 * Child-process mode: a bare `node:http` server answering every request with one captured response (its headers and
 * body), reading nothing: what a key lookup's CPU cannot go below on this machine with Node's HTTP server.
 */
function serveFloor(file: string): void {
  const { headers, body } = JSON.parse(fs.readFileSync(file, 'utf8')) as CapturedResponse;
  const server = http.createServer((request, response) => {
    request.resume();
    response.writeHead(200, headers).end(body);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address() as AddressInfo;
    process.stdout.write(`LISTENING http://127.0.0.1:${address.port}\n`);
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

/**
 * The floor under a key lookup's server CPU in this run: the "after" server's answer to one lookup (its headers and
 * body) replayed by a bare `node:http` server (`serveFloor`), sent the same requests by the same client, warmed up
 * and counted as the key lookups are. The machine's speed moves between runs (0.07–0.40 ms a key lookup for the
 * same code), so the lookup's CPU is read beside this.
 */
async function measureFloor(after: Variant, lookup: Shape): Promise<SizeResult['floor']> {
  const { resource } = lookup.request(UNMEASURED);
  const url = `${after.server.url}/data-virtualization/odata/${resource}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${SECRET}` } });
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name))
      headers[name] = value;
  });
  const file = path.join(TMP, 'floor-response.json');
  fs.writeFileSync(file, JSON.stringify({ headers, body: await response.text() }));
  const floor = await startServerProcess(__filename, ['--serve-floor', file]);
  try {
    const send = async (i: number): Promise<void> => {
      const answer = await fetch(
        `${floor.url}/data-virtualization/odata/${lookup.request(i).resource}`,
        {
          headers: { authorization: `Bearer ${SECRET}` }
        }
      );
      await answer.arrayBuffer();
    };
    for (let i = 0; i < CPU_WARM_UP; i++) await send(UNMEASURED + i);
    const cpuStart = processStats(floor.child.pid!).cpuMs;
    const http1 = await measure(CPU_REQUESTS, 1, send);
    const cpuMs = processStats(floor.child.pid!).cpuMs - cpuStart;
    return { cpuMsPerRequest: round2(cpuMs / (http1.count + http1.warmUp)), http1 };
  } finally {
    await stopServer(floor.child);
  }
}

/** The bench servers' configuration: the bench's secret, logs off, and rate limiting off. */
export function benchServerConfig(): ReturnType<typeof loadConfig> {
  return loadConfig({
    ERP_SHARED_SECRET: SECRET,
    LOG_LEVEL: 'silent',
    PORT: '0',
    DATABASE_PATH: ':memory:',
    // One client sends thousands of requests a minute with one credential: per-credential limiting off.
    RATE_LIMIT_MAX: '0'
  });
}

/** Child-process mode: the real composition root over an existing bench database. */
export async function serve(file: string): Promise<void> {
  const db = openDatabase(file);
  const config = benchServerConfig();
  // The module as patterns.ts registers it, with the paging key pinned so the parent's deep link verifies.
  const app: FastifyInstance = await buildServer(config, {
    db,
    logger: false,
    patterns: [
      createDataVirtualizationModule({
        tokenSecret: SECRET,
        ...loadDataVirtualizationConfig(process.env)
      })
    ]
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`LISTENING ${url}\n`);
  process.once('SIGTERM', () => {
    void app.close().then(() => {
      db.close();
      process.exit(0);
    });
  });
}

export async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--serve') {
    await serve(argv[1] ?? '');
    return;
  }
  if (argv[0] === '--serve-floor') {
    serveFloor(argv[1] ?? '');
    return;
  }
  const options = parseArgs(argv);
  const all: SizeResult[] = [];
  for (const size of options.sizes) all.push(await runSize(size, options));
  // Sizes measured by an earlier run (in this format) stay in the results, so sizes can be run one at a time.
  const previous = path.join(RESULTS, 'data-virtualization.json');
  if (fs.existsSync(previous)) {
    const earlier = (JSON.parse(fs.readFileSync(previous, 'utf8')) as { runs?: SizeResult[] }).runs;
    for (const run of earlier ?? []) {
      if (run.load && !all.some((r) => r.shipments === run.shipments)) all.push(run);
    }
    all.sort((a, b) => a.shipments - b.shipments);
  }
  const write = (name: string, text: string): Promise<void> =>
    writeFormatted(path.join(RESULTS, name), text);
  await write(
    'data-virtualization.json',
    JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        options,
        proactiveReclaim: proactiveReclaim() ?? null,
        runs: all
      },
      null,
      2
    )
  );
  await write('data-virtualization.md', markdown(all, options));
  console.log(`\nwrote ${path.relative(process.cwd(), RESULTS)}/data-virtualization.{md,json}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
