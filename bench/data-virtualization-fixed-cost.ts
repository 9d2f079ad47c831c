/**
 * `npm run bench -- --data-virtualization-fixed-cost [--rounds 6] [--requests 5000]`
 *
 * Where a key lookup's server CPU goes. The same lookup, `Shipments('…')` on the 1M-row bench database, is served by
 * six servers, each one layer closer to the real producer than the one before it, each in its own process on
 * 127.0.0.1. One client sends every server the same keys at concurrency 1, as `npm run bench` measures key lookups;
 * the servers take turns, round by round (the order reversed every other round), so that each sees the same machine
 * load. A server's CPU per request is its process's CPU time over the round's requests, from `/proc` (10 ms ticks);
 * each is warmed up first on the very keys it is then sent. Results go to
 * `bench/results/data-virtualization-fixed-cost.{md,json}`. The database is the one `npm run bench -- --sizes 1000000`
 * builds (built here when absent).
 *
 * Child-process mode: `<this file> --serve-step <step> <database file>` starts one step's server and prints
 * `LISTENING <url>`.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { securityHeaders } from '../remote-system/src/auth/headers';
import { SHIPMENTS } from '../remote-system/src/data-virtualization/entity';
import { toEntity } from '../remote-system/src/data-virtualization/query';
import type { SqlValue } from '../remote-system/src/data-virtualization/positions';
import { openDatabase } from '../remote-system/src/db';
import { CORRELATION_HEADER } from '../remote-system/src/http/correlation';
import type { PatternModule } from '../remote-system/src/pattern-module';
import { buildServer } from '../remote-system/src/server';
import {
  benchServerConfig,
  database,
  processStats,
  serve,
  SECRET,
  startServerProcess,
  stopServer
} from './data-virtualization';
import { loadAverage, writeFormatted } from './processes';

const RESULTS = path.join(__dirname, 'results');
const SHIPMENTS_IN_DATABASE = 1_000_000;
const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;charset=utf-8';

/** The layers, in order: each step serves the same lookup with one more part of the real producer. */
const STEPS = [
  {
    name: 'node-http-constant',
    adds: 'bare `node:http`, answering one fixed entity (no SQL): the floor'
  },
  {
    name: 'node-http-sql',
    adds: "the lookup's SQL (`SELECT` by key on the 64 MB page cache) and its JSON"
  },
  { name: 'fastify-sql', adds: 'Fastify, with no hook, instead of `node:http`' },
  {
    name: 'fastify-sql-headers',
    adds: "the real response's headers (security headers, correlation id, `OData-Version`)"
  },
  {
    name: 'composition-root',
    adds:
      'the composition root (`buildServer`): every hook a pattern route runs (security headers, correlation id, bearer ' +
      'check, traffic log, shutdown guard), around a handler that runs the same SQL'
  },
  {
    name: 'producer',
    adds:
      'the Data Virtualization module instead of that handler: fault knobs, OData path parsing, `EntityQueries.byKey`' +
      ' (what `npm run bench` measures)'
  }
] as const;

type StepName = (typeof STEPS)[number]['name'];

interface Options {
  rounds: number;
  requests: number;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { rounds: 6, requests: 5000 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = Number(inline ?? argv[++i]);
    if (flag === '--rounds') options.rounds = value;
    else if (flag === '--requests') options.requests = value;
    else throw new Error(`unknown option ${flag}`);
  }
  if (!Number.isInteger(options.rounds) || options.rounds < 1) throw new Error('bad --rounds');
  if (!Number.isInteger(options.requests) || options.requests < 100)
    throw new Error('bad --requests');
  return options;
}

/** The i-th key the client asks for (spread over the table, as the key lookups of `npm run bench`). */
const keyAt = (i: number): string =>
  `SHP-${String(1 + ((i * 7_919) % SHIPMENTS_IN_DATABASE)).padStart(10, '0')}`;

/** The key of a `…/Shipments('<key>')` URL (the bench's keys need no decoding). */
const keyOf = (url: string): string => url.slice(url.indexOf("('") + 2, url.lastIndexOf("')"));

/** A lookup's body as the producer writes it: the context URL, then the entity's properties. */
function lookupBody(host: string | undefined, row: SqlValue[] | undefined): string {
  return JSON.stringify({
    '@odata.context': `http://${host}/data-virtualization/odata/$metadata#Shipments/$entity`,
    ...(row && toEntity(SHIPMENTS.properties, row))
  });
}

/** Child-process mode: one step's server over `file`. */
async function serveStep(step: StepName, file: string): Promise<void> {
  if (step === 'producer') {
    await serve(file);
    return;
  }
  const db = openDatabase(file);
  db.pragma('cache_size = -65536');
  const byKey = db.prepare('SELECT * FROM shipments WHERE shipment_number = ?').raw();
  const row = (url: string): SqlValue[] | undefined =>
    byKey.get(keyOf(url)) as SqlValue[] | undefined;
  const listening = (port: number): void => {
    process.stdout.write(`LISTENING http://127.0.0.1:${port}\n`);
  };
  if (step === 'node-http-constant' || step === 'node-http-sql') {
    const fixed = lookupBody('127.0.0.1', row(`Shipments('${keyAt(0)}')`));
    const server = http.createServer((request, response) => {
      request.resume();
      const body =
        step === 'node-http-sql' ? lookupBody(request.headers.host, row(request.url!)) : fixed;
      response.writeHead(200, { 'content-type': ODATA_JSON }).end(body);
    });
    server.listen(0, '127.0.0.1', () => listening((server.address() as AddressInfo).port));
    return;
  }
  const send = (request: FastifyRequest, reply: FastifyReply): FastifyReply =>
    reply.type(ODATA_JSON).send(lookupBody(request.headers.host, row(request.url)));
  if (step === 'fastify-sql' || step === 'fastify-sql-headers') {
    const app = Fastify({ logger: false });
    const headers = { ...securityHeaders(), 'cache-control': 'no-store' };
    app.get('/data-virtualization/odata/*', (request, reply) => {
      if (step === 'fastify-sql-headers') {
        reply
          .headers(headers)
          .header(CORRELATION_HEADER, randomUUID())
          .header('OData-Version', '4.0');
      }
      void send(request, reply);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    listening((app.server.address() as AddressInfo).port);
    return;
  }
  // composition-root: the real server with a pattern module whose one route runs the same SQL.
  const sqlOnly: PatternModule = {
    name: 'data-virtualization',
    title: 'Key lookup, SQL only',
    summary: 'The lookup of the fixed-cost bench, without the OData module',
    register(scope) {
      scope.get('/odata/*', async (request, reply) =>
        send(request, reply.header('OData-Version', '4.0'))
      );
    }
  };
  const app = await buildServer(benchServerConfig(), { db, logger: false, patterns: [sqlOnly] });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  listening(Number(new URL(url).port));
}

interface StepResult {
  step: StepName;
  adds: string;
  /** Server CPU per request in each round, ms. */
  cpuMsPerRequest: number[];
  median: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round3 = (value: number): number => Math.round(value * 1000) / 1000;

async function measureSteps(file: string, options: Options): Promise<StepResult[]> {
  const servers = new Map<StepName, { url: string; child: ChildProcess }>();
  try {
    for (const { name } of STEPS)
      servers.set(name, await startServerProcess(__filename, ['--serve-step', name, file]));
    // Every step but the floor must answer with the key's own entity: a step that answered wrongly would measure less.
    const lookup = async (step: StepName, i: number): Promise<void> => {
      const response = await fetch(
        `${servers.get(step)!.url}/data-virtualization/odata/Shipments('${keyAt(i)}')`,
        { headers: { authorization: `Bearer ${SECRET}` } }
      );
      const body = await response.text();
      if (!response.ok || (step !== 'node-http-constant' && !body.includes(keyAt(i)))) {
        throw new Error(`${step}: ${response.status} for ${keyAt(i)}`);
      }
    };
    for (const { name } of STEPS) {
      for (let i = 0; i < options.requests; i++) await lookup(name, i);
    }
    const perRound = new Map<StepName, number[]>(STEPS.map(({ name }) => [name, []]));
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? STEPS : [...STEPS].reverse();
      for (const { name } of order) {
        const { child } = servers.get(name)!;
        const before = processStats(child.pid!).cpuMs;
        for (let i = 0; i < options.requests; i++) await lookup(name, i);
        perRound
          .get(name)!
          .push(round3((processStats(child.pid!).cpuMs - before) / options.requests));
      }
      console.log(
        `  round ${round + 1}: ` +
          STEPS.map(({ name }) => `${name} ${perRound.get(name)!.at(-1)}`).join(', ')
      );
    }
    return STEPS.map(({ name, adds }) => {
      const cpu = perRound.get(name)!;
      return { step: name, adds, cpuMsPerRequest: cpu, median: round3(median(cpu)) };
    });
  } finally {
    for (const { child } of servers.values()) await stopServer(child);
  }
}

function markdown(results: readonly StepResult[], options: Options, load: number[][]): string {
  const rows = results.map((result, i) => {
    const added = i === 0 ? '' : round3(result.median - results[i - 1]!.median).toFixed(3);
    const range = `${Math.min(...result.cpuMsPerRequest).toFixed(3)}–${Math.max(...result.cpuMsPerRequest).toFixed(3)}`;
    return `| ${i + 1}. \`${result.step}\`: ${result.adds} | ${result.median.toFixed(3)} | ${range} | ${added} |`;
  });
  return [
    "# Data Virtualization: where a key lookup's server CPU goes",
    '',
    `Generated by \`npm run bench -- --data-virtualization-fixed-cost\` on ${new Date().toISOString().slice(0, 10)}: ` +
      `${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ` +
      `${SHIPMENTS_IN_DATABASE.toLocaleString('en-US')} shipments. Each server got ${options.requests.toLocaleString('en-US')} ` +
      `lookups per round at concurrency 1 (the same keys every round, after as many warm-ups on them), ` +
      `${options.rounds} rounds, the servers taking turns. Load average (1 / 5 / 15 min) at the start: ` +
      `${load[0]!.join(' / ')}; at the end: ${load[1]!.join(' / ')}.`,
    '',
    '| step: what it adds to the one before | server CPU per lookup, median (ms) | rounds (ms) | added (ms) |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    ''
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--serve-step') {
    await serveStep(argv[1] as StepName, argv[2] ?? '');
    return;
  }
  const options = parseArgs(argv);
  const db: Database.Database = database(SHIPMENTS_IN_DATABASE);
  const file = db.name;
  db.close();
  const load = [loadAverage()];
  console.log(`== key lookup, ${STEPS.length} servers, ${options.rounds} rounds`);
  const results = await measureSteps(file, options);
  load.push(loadAverage());
  const write = (name: string, text: string): Promise<void> =>
    writeFormatted(path.join(RESULTS, name), text);
  await write(
    'data-virtualization-fixed-cost.json',
    JSON.stringify({ generatedAt: new Date().toISOString(), options, load, results }, null, 2)
  );
  await write('data-virtualization-fixed-cost.md', markdown(results, options, load));
  for (const result of results) console.log(`  ${result.step}: ${result.median} ms`);
  console.log(
    `\nwrote ${path.relative(process.cwd(), RESULTS)}/data-virtualization-fixed-cost.{md,json}`
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
