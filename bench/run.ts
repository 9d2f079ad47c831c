/**
 * `npm run bench [-- --sizes 1000000,10000000 --requests 400]`
 *
 * Data Virtualization benchmark: Salesforce Connect's query shapes against the OData producer through the real HTTP
 * server (the composition root, bearer auth included) on 127.0.0.1, each beside the same SQL run directly on SQLite.
 * Databases are built once with the seed module under `bench/tmp/` (gitignored) and reused. Results go to
 * `bench/results/data-virtualization.{md,json}`. Not part of `npm test`: a 10M-row database takes minutes to build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import * as prettier from 'prettier';
import { loadConfig } from '../remote-system/src/config';
import { createDataVirtualizationModule } from '../remote-system/src/data-virtualization';
import { SHIPMENTS } from '../remote-system/src/data-virtualization/entity';
import { PageTokens } from '../remote-system/src/data-virtualization/paging';
import {
  EntityQueries,
  parseQueryOptions,
  type RawQuery
} from '../remote-system/src/data-virtualization/query';
import { openDatabase, seedDatabase } from '../remote-system/src/db';
import { buildServer } from '../remote-system/src/server';
import { main as batchSyncBench } from './batch-sync';
import { main as uiUpdateBench } from './ui-update';

const SECRET = 'bench-secret-0123456789abcdef';
const ROOT = path.resolve(__dirname);
const TMP = path.join(ROOT, 'tmp');
const RESULTS = path.join(ROOT, 'results');
const PAGE_ROWS = 200;

interface Options {
  sizes: number[];
  requests: number;
  concurrency: number;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { sizes: [1_000_000, 10_000_000], requests: 400, concurrency: 4 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = inline ?? argv[++i] ?? '';
    if (flag === '--sizes')
      options.sizes = value.split(',').map((v) => Number(v.replace(/_/g, '')));
    else if (flag === '--requests') options.requests = Number(value);
    else if (flag === '--concurrency') options.concurrency = Number(value);
    else throw new Error(`unknown option ${flag}`);
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n < 1000)) throw new Error('bad --sizes');
  if (!Number.isInteger(options.requests) || options.requests < 10)
    throw new Error('bad --requests');
  return options;
}

/** Opens (building if needed) a database with `shipments` rows; a `bench_meta` row marks a finished build. */
function database(shipments: number): Database.Database {
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

function stats(samples: number[], elapsedMs: number): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const round = (n: number): number => Math.round(n * 100) / 100;
  return {
    count: samples.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]!),
    mean: round(samples.reduce((a, b) => a + b, 0) / samples.length),
    rps: Math.round((samples.length / elapsedMs) * 1000)
  };
}

/** Runs `task` `count` times with `concurrency` workers (after a short warm-up); per-call latency in ms. */
async function measure(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void> | void
): Promise<Stats> {
  for (let i = 0; i < Math.min(20, count); i++) await task(i);
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        await task(i);
        samples.push(performance.now() - t0);
      }
    })
  );
  return stats(samples, performance.now() - started);
}

interface Shape {
  readonly name: string;
  readonly indexed: boolean;
  /** The OData request (path relative to the service root, query options, Prefer page size). */
  request(i: number): { resource: string; query: RawQuery; maxPageSize?: number };
}

interface ShapeResult {
  shape: string;
  indexed: boolean;
  rows: number;
  http1: Stats;
  httpN: Stats;
  sqlite: Stats;
  plan: string;
}

function encodeQuery(query: RawQuery): string {
  return Object.entries(query)
    .map(([k, v]) =>
      k === '$skiptoken' ? `${k}=${String(v)}` : `${k}=${encodeURIComponent(String(v))}`
    )
    .join('&');
}

async function runSize(shipments: number, options: Options): Promise<ShapeResult[]> {
  console.log(`\n== ${shipments.toLocaleString()} shipments`);
  const db = database(shipments);
  const count = db.prepare('SELECT count(*) FROM shipments').pluck().get() as number;
  const customers = db.prepare('SELECT customer_number FROM customers').pluck().all() as string[];
  const { minDay, maxDay } = db
    .prepare('SELECT min(shipped_at) AS minDay, max(shipped_at) AS maxDay FROM shipments')
    .get() as { minDay: string; maxDay: string };
  const firstDay = Date.parse(minDay);
  const days = Math.max(1, Math.floor((Date.parse(maxDay) - firstDay) / 86_400_000));
  const keyAt = (i: number): string => `SHP-${String(1 + ((i * 7_919) % count)).padStart(10, '0')}`;
  const customerAt = (i: number): string => customers[(i * 31) % customers.length]!;
  const dayAt = (i: number): [string, string] => {
    const start = firstDay + ((i * 13) % days) * 86_400_000;
    const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
    return [iso(start), iso(start + 86_400_000)];
  };

  // A next link deep in the sorted set: the token the producer issues after row `depth` of
  // `$orderby=ShippedAt desc`, signed with the server's key (following 2,500 links to get there measures nothing new).
  const depth = Math.min(500_000, count - PAGE_ROWS - 1);
  const cursor = db
    .prepare(
      'SELECT shipped_at, shipment_number FROM shipments ORDER BY shipped_at DESC, shipment_number DESC LIMIT 1 OFFSET ?'
    )
    .raw()
    .get(depth - 1) as [string, string];
  const tokens = new PageTokens(SECRET);
  const deepToken = tokens.encode(
    { after: cursor, remaining: null },
    PageTokens.fingerprint([undefined, undefined, 'ShippedAt desc', undefined, 'false'])
  );

  const shapes: Shape[] = [
    {
      name: "key lookup: $filter=ShipmentNumber eq '…'",
      indexed: true,
      request: (i) => ({
        resource: 'Shipments',
        query: { $filter: `ShipmentNumber eq '${keyAt(i)}'` }
      })
    },
    {
      name: "key lookup: Shipments('…')",
      indexed: true,
      request: (i) => ({ resource: `Shipments('${keyAt(i)}')`, query: {} })
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
      name: 'indexed range, list-view shape: one day of ShippedAt, $orderby=ShippedAt desc, $top=100',
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
      name: 'indexed range without $orderby (default order: newest first), $top=100',
      indexed: true,
      request: (i) => {
        const [from, to] = dayAt(i);
        return {
          resource: 'Shipments',
          query: { $filter: `ShippedAt ge ${from} and ShippedAt lt ${to}`, $top: '100' }
        };
      }
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
      name: `sorted page, depth 1: $orderby=ShippedAt desc (${PAGE_ROWS} rows)`,
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: { $orderby: 'ShippedAt desc' },
        maxPageSize: PAGE_ROWS
      })
    },
    {
      name: `sorted page, depth ${depth.toLocaleString()} via nextLink (${PAGE_ROWS} rows)`,
      indexed: true,
      request: () => ({
        resource: 'Shipments',
        query: { $orderby: 'ShippedAt desc', $skiptoken: deepToken },
        maxPageSize: PAGE_ROWS
      })
    },
    {
      name: "contains(DestinationCity,'ich'), $top=25 (no index: substring)",
      indexed: false,
      request: () => ({
        resource: 'Shipments',
        query: { $filter: "contains(DestinationCity,'ich')", $top: '25' }
      })
    },
    {
      name: "$count with an indexed filter: Shipments/$count?$filter=CustomerNumber eq '…'",
      indexed: true,
      request: (i) => ({
        resource: 'Shipments/$count',
        query: { $filter: `CustomerNumber eq '${customerAt(i)}'` }
      })
    },
    {
      name: 'Shipments/$count (whole table)',
      indexed: false,
      request: () => ({ resource: 'Shipments/$count', query: {} })
    }
  ];

  // The server runs in its own process (as in production), so the client's work does not stall its event loop.
  const server = await startServerProcess(db.name);
  const base = server.url;
  const direct = new EntityQueries(db, SHIPMENTS, tokens, 2000);
  const results: ShapeResult[] = [];
  try {
    for (const shape of shapes) {
      const send = async (i: number): Promise<number> => {
        const { resource, query, maxPageSize } = shape.request(i);
        const qs = encodeQuery(query);
        const response = await fetch(
          `${base}/data-virtualization/odata/${resource}${qs ? `?${qs}` : ''}`,
          {
            headers: {
              authorization: `Bearer ${SECRET}`,
              ...(maxPageSize ? { prefer: `odata.maxpagesize=${maxPageSize}` } : {})
            }
          }
        );
        const body = await response.text();
        if (response.status !== 200)
          throw new Error(`${shape.name}: HTTP ${response.status} ${body}`);
        return resource.endsWith('$count') || resource.includes("('")
          ? 1
          : (JSON.parse(body) as { value: unknown[] }).value.length;
      };
      // Scans are slow by nature at 10M rows: fewer samples keep the run bounded.
      const requests = shape.indexed ? options.requests : Math.min(options.requests, 40);
      const rows = await send(0);
      const http1 = await measure(requests, 1, async (i) => {
        await send(i);
      });
      const httpN = await measure(requests, options.concurrency, async (i) => {
        await send(i);
      });

      // The same SQL the producer generates for each request, straight on SQLite: statements are prepared and the
      // SQL built before the clock starts, so only execution is timed.
      const planned = new Map<string, { sql: string; params: unknown[] }[]>();
      const sqlFor = (i: number): { sql: string; params: unknown[] }[] => {
        const request = shape.request(i);
        const key = JSON.stringify(request);
        const cached = planned.get(key);
        if (cached) return cached;
        const { resource, query, maxPageSize } = request;
        let built: { sql: string; params: unknown[] }[];
        if (resource.startsWith('Shipments(')) {
          built = [
            {
              sql: 'SELECT * FROM shipments WHERE shipment_number = ?',
              params: [resource.slice("Shipments('".length, -2)]
            }
          ];
        } else {
          const parsed = parseQueryOptions(query, SHIPMENTS);
          if (resource.endsWith('/$count')) direct.count(parsed);
          else direct.page(parsed, maxPageSize);
          built = direct.lastQueries;
        }
        planned.set(key, built);
        return built;
      };
      const statements = new Map<string, Database.Statement>();
      const workload = Array.from({ length: requests }, (_, i) =>
        sqlFor(i).map(({ sql, params }) => {
          let statement = statements.get(sql);
          if (!statement) {
            statement = db.prepare(sql);
            statements.set(sql, statement);
          }
          return { statement, params };
        })
      );
      const sqlite = await measure(requests, 1, (i) => {
        for (const { statement, params } of workload[i]!) statement.raw().all(...params);
      });
      const plans = sqlFor(0);
      const plan = plans
        .map(({ sql, params }) =>
          (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
            .map((r) => r.detail)
            .join('; ')
        )
        .join(' ⟶ ');
      results.push({ shape: shape.name, indexed: shape.indexed, rows, http1, httpN, sqlite, plan });
      console.log(
        `  ${shape.name}\n    HTTP p50 ${http1.p50} ms, p99 ${http1.p99} ms, ${httpN.rps} req/s (x${options.concurrency}); ` +
          `SQLite p50 ${sqlite.p50} ms, p99 ${sqlite.p99} ms`
      );
    }
  } finally {
    server.child.kill('SIGTERM');
    db.close();
  }
  return results;
}

function markdown(all: { shipments: number; results: ShapeResult[] }[], options: Options): string {
  const lines = [
    '# Data Virtualization benchmark',
    '',
    `Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPU(s) ` +
      `(${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${options.requests} requests per shape ` +
      `after 20 warm-up requests. HTTP = the real server (composition root, bearer auth, JSON logs off) in its own ` +
      `process on 127.0.0.1, the client in this one; "x${options.concurrency}" = ${options.concurrency} concurrent ` +
      'clients. SQLite = the SQL the producer generates for the same request, run directly (prepared). ' +
      'Latencies in ms.',
    ''
  ];
  for (const { shipments, results } of all) {
    lines.push(
      `## ${shipments.toLocaleString()} shipments`,
      '',
      '| query shape | rows | HTTP p50 | HTTP p99 | HTTP req/s (x1) | HTTP req/s (x' +
        `${options.concurrency}) | SQLite p50 | SQLite p99 | index |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|---|'
    );
    for (const r of results) {
      lines.push(
        `| ${r.shape.replace(/\|/g, '\\|')} | ${r.rows} | ${r.http1.p50} | ${r.http1.p99} | ${r.http1.rps} | ` +
          `${r.httpN.rps} | ${r.sqlite.p50} | ${r.sqlite.p99} | ${r.indexed ? 'yes' : 'no'} |`
      );
    }
    lines.push('', '<details><summary>Query plans</summary>', '');
    for (const r of results) lines.push(`- ${r.shape}: \`${r.plan}\``);
    lines.push('', '</details>', '');
  }
  return `${lines.join('\n')}\n`;
}

/** Starts `run.ts --serve <db>` in a child process and waits for its URL. */
function startServerProcess(file: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, '--serve', file], {
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

/** Child-process mode: the real composition root over an existing bench database. */
async function serve(file: string): Promise<void> {
  const db = openDatabase(file);
  const config = loadConfig({
    ERP_SHARED_SECRET: SECRET,
    LOG_LEVEL: 'silent',
    PORT: '0',
    DATABASE_PATH: ':memory:'
  });
  // The module as patterns.ts registers it, with the paging key pinned so the parent's deep link verifies.
  const app: FastifyInstance = await buildServer(config, {
    db,
    logger: false,
    patterns: [createDataVirtualizationModule({ tokenSecret: SECRET })]
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

async function main(): Promise<void> {
  if (process.argv[2] === '--ui-update') {
    // UI Update: publishing throughput through the local Pub/Sub API (bench/ui-update.ts).
    await uiUpdateBench(process.argv.slice(3));
    return;
  }
  if (process.argv[2] === '--batch-sync') {
    // Batch Data Synchronization: the Bulk API 2.0 loader against the stand-in (bench/batch-sync.ts).
    await batchSyncBench(process.argv.slice(3));
    return;
  }
  if (process.argv[2] === '--serve') {
    await serve(process.argv[3] ?? '');
    return;
  }
  const options = parseArgs(process.argv.slice(2));
  const all: { shipments: number; results: ShapeResult[] }[] = [];
  for (const size of options.sizes) {
    all.push({ shipments: size, results: await runSize(size, options) });
  }
  fs.mkdirSync(RESULTS, { recursive: true });
  // Written through the project's prettier config so `npm test`'s format check accepts the committed results.
  const write = async (name: string, text: string): Promise<void> => {
    const filepath = path.join(RESULTS, name);
    const config = (await prettier.resolveConfig(filepath)) ?? {};
    fs.writeFileSync(filepath, await prettier.format(text, { ...config, filepath }));
  };
  await write(
    'data-virtualization.json',
    JSON.stringify({ generatedAt: new Date().toISOString(), options, runs: all }, null, 2)
  );
  await write('data-virtualization.md', markdown(all, options));
  console.log(`\nwrote ${path.relative(process.cwd(), RESULTS)}/data-virtualization.{md,json}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
