/**
 * `npm run bench -- --data-virtualization-check [--sizes 1000000] [--every 1]`
 *
 * Checks the producer's answers at the benchmark's sizes against plain SQL. The tests check every way of reading a
 * query on small databases; at 1M or 10M rows the producer takes other paths (its budgets and costs are sized for
 * them), and the benchmark compares versions with each other, not with the truth. So for each shape this reads the
 * page and the count as the producer does (`EntityQueries.page`: counters, kept counts, candidates, walks, merges,
 * positions, whatever it chooses) and compares them with the same compiled `$filter` and `$search` that SQLite runs
 * on every row (`NOT INDEXED`, in the total order, with `LIMIT`/`OFFSET` and `count(*)`).
 *
 * The shapes: every list-view shape of the benchmark's audit (`--every N` keeps each N-th: at 10M rows each check
 * reads the table twice), 60 each of the benchmark's searches (a key's last 2, 4 and 7 digits, page 2 of 4 digits, a
 * customer with 4 digits) and of the Account page's search (a typical customer and the largest), and `$skip` to the
 * middle of five orders. The databases are the benchmark's (`bench/tmp/shipments-<N>.sqlite`, built when absent).
 * Results go to `bench/results/data-virtualization-check.{md,json}`; a mismatch is listed and fails the run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { SHIPMENTS } from '../remote-system/src/data-virtualization/entity';
import { PageTokens } from '../remote-system/src/data-virtualization/paging';
import {
  EntityQueries,
  parseQueryOptions,
  type QueryOptions,
  type RawQuery
} from '../remote-system/src/data-virtualization/query';
import { quoteIdentifier } from '../remote-system/src/data-virtualization/sql';
import { database, listViewFilterSweep, requestValues, SECRET } from './data-virtualization';
import { loadAverage, writeFormatted } from './processes';

const RESULTS = path.join(__dirname, 'results');
/** Rows a page may hold here (the benchmark's page size for deep pages). */
const PAGE_ROWS = 200;
/** Searches and Account page searches checked of each kind. */
const SEARCHES = 60;
const ACCOUNT_PAGE_FIELDS = [
  'ShipmentNumber',
  'OrderNumber',
  'Status',
  'Carrier',
  'DestinationCity'
] as const;

interface Options {
  sizes: number[];
  every: number;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { sizes: [1_000_000], every: 1 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = inline ?? argv[++i] ?? '';
    if (flag === '--sizes')
      options.sizes = value.split(',').map((v) => Number(v.replace(/_/g, '')));
    else if (flag === '--every') options.every = Number(value);
    else throw new Error(`unknown option ${flag}`);
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n < 1000)) throw new Error('bad --sizes');
  if (!Number.isInteger(options.every) || options.every < 1) throw new Error('bad --every');
  return options;
}

interface Mismatch {
  query: RawQuery;
  producer: { count?: number; keys: string[] };
  sqlite: { count?: number; keys: string[] };
}

interface SizeCheck {
  shipments: number;
  /** The day of the check (sizes may be checked on different days). */
  date: string;
  /** Each `every`-th list-view shape of the audit was checked. */
  every: number;
  shapes: number;
  mismatches: Mismatch[];
  seconds: number;
  load: { start: number[]; end: number[] };
}

/** The queries checked at one size (see the file's comment). */
function shapesOf(db: Database.Database, every: number): RawQuery[] {
  const values = requestValues(db);
  const { count, customers, keyAt, customerAt } = values;
  const sweep = listViewFilterSweep(db, values);
  // The requests the audit sends (its first index lies past every measured request's).
  const first = sweep.length * Math.ceil(1_000_000 / 2 / sweep.length);
  const queries = sweep.map((shape, k) => shape(first + k)).filter((_, k) => k % every === 0);
  const accountPageSearch = (customer: string, term: string): RawQuery => ({
    $filter:
      `CustomerNumber eq '${customer}' and (` +
      ACCOUNT_PAGE_FIELDS.map((field) => `contains(${field},'${term}')`).join(' or ') +
      ')',
    $orderby: 'ShippedAt desc',
    $top: '25',
    $count: 'true'
  });
  for (let i = 0; i < SEARCHES; i++) {
    const digits = (n: number): string => keyAt(i).slice(-n);
    for (const n of [2, 4, 7]) queries.push({ $search: digits(n), $top: '25', $count: 'true' });
    queries.push({ $search: digits(4), $top: '25', $skip: '25', $count: 'true' });
    queries.push({ $search: `${customerAt(i)} ${digits(4)}`, $top: '25', $count: 'true' });
    queries.push(accountPageSearch(customerAt(i), digits(4)));
    queries.push(accountPageSearch(customers[0]!, digits(4)));
  }
  const middle = String(Math.floor(count / 2));
  for (const $orderby of [
    undefined,
    'ShippedAt desc',
    'DestinationCity',
    'WeightKg desc',
    'Status'
  ]) {
    queries.push({ $top: String(PAGE_ROWS), $skip: middle, ...($orderby ? { $orderby } : {}) });
  }
  return queries;
}

/** The page's keys and count that SQLite gives for `options` when it tests every row. */
function plainAnswer(
  db: Database.Database,
  options: QueryOptions
): { count?: number; keys: string[] } {
  const conditions = [options.filter, options.search].filter((part) => part !== undefined);
  const where = conditions.length ? conditions.map((part) => `(${part.sql})`).join(' AND ') : '1';
  const params = conditions.flatMap((part) => part.params);
  const orderBy = options.sort
    .map((key) => `${quoteIdentifier(key.property.column)}${key.descending ? ' DESC' : ''}`)
    .join(', ');
  const keys = db
    .prepare(
      `SELECT shipment_number FROM shipments NOT INDEXED WHERE ${where} ORDER BY ${orderBy} LIMIT ? OFFSET ?`
    )
    .pluck()
    .all(...params, Math.min(options.top ?? PAGE_ROWS, PAGE_ROWS), options.skip ?? 0) as string[];
  if (!options.count) return { keys };
  const count = db
    .prepare(`SELECT count(*) FROM shipments NOT INDEXED WHERE ${where}`)
    .pluck()
    .get(...params) as number;
  return { count, keys };
}

function checkSize(shipments: number, every: number): SizeCheck {
  console.log(`\n== ${shipments.toLocaleString('en-US')} shipments`);
  const start = loadAverage();
  const started = performance.now();
  const db = database(shipments);
  try {
    const queries = shapesOf(db, every);
    const producer = new EntityQueries(db, SHIPMENTS, new PageTokens(SECRET), PAGE_ROWS);
    const mismatches: Mismatch[] = [];
    queries.forEach((query, i) => {
      const options = parseQueryOptions(query, SHIPMENTS);
      const page = producer.page(options, PAGE_ROWS);
      const answer = {
        ...(options.count ? { count: page.count } : {}),
        keys: page.rows.map((row) => row.ShipmentNumber as string)
      };
      const truth = plainAnswer(db, options);
      if (JSON.stringify(answer) !== JSON.stringify(truth)) {
        mismatches.push({ query, producer: answer, sqlite: truth });
        console.log(`  MISMATCH ${JSON.stringify(query)}`);
      }
      if ((i + 1) % 250 === 0 || i + 1 === queries.length) {
        const seconds = Math.round((performance.now() - started) / 1000);
        console.log(
          `  ${i + 1} / ${queries.length} checked, ${mismatches.length} mismatches, ${seconds} s`
        );
      }
    });
    const seconds = Math.round((performance.now() - started) / 1000);
    return {
      shipments,
      date: new Date().toISOString().slice(0, 10),
      every,
      shapes: queries.length,
      mismatches,
      seconds,
      load: { start, end: loadAverage() }
    };
  } finally {
    db.close();
  }
}

function markdown(checks: readonly SizeCheck[]): string {
  const lines = [
    "# Data Virtualization: the producer's answers against plain SQL",
    '',
    `Generated by \`npm run bench -- --data-virtualization-check\` on ` +
      `${os.cpus().length} CPU(s), Node ${process.version}. The list-view shapes of the benchmark's audit (every one, ` +
      'or each N-th), its searches and Account page searches, and deep `$skip`s: each page and count as the producer ' +
      'reads it, compared with SQLite testing every row.',
    '',
    '| shipments | checked on | audit shapes | shapes checked | mismatches | time (s) |',
    '| ---: | --- | ---: | ---: | ---: | ---: |',
    ...checks.map(
      (c) =>
        `| ${c.shipments.toLocaleString('en-US')} | ${c.date} | ${c.every === 1 ? 'all' : `each ${c.every}th`} | ${c.shapes} | ` +
        `${c.mismatches.length} | ${c.seconds} |`
    )
  ];
  for (const check of checks) {
    for (const mismatch of check.mismatches.slice(0, 20)) {
      lines.push(
        '',
        `- ${check.shipments.toLocaleString('en-US')} rows: \`${JSON.stringify(mismatch.query)}\``
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function main(argv: readonly string[]): Promise<void> {
  const options = parseArgs(argv);
  const checks = options.sizes.map((shipments) => checkSize(shipments, options.every));
  // Sizes checked by an earlier run stay in the results, so sizes can be checked one at a time.
  const file = path.join(RESULTS, 'data-virtualization-check.json');
  const earlier = fs.existsSync(file)
    ? ((JSON.parse(fs.readFileSync(file, 'utf8')) as { checks?: SizeCheck[] }).checks ?? [])
    : [];
  const all = [
    ...checks,
    ...earlier.filter((e) => !checks.some((c) => c.shipments === e.shipments))
  ].sort((a, b) => a.shipments - b.shipments);
  await writeFormatted(
    file,
    JSON.stringify({ generatedAt: new Date().toISOString(), checks: all }, null, 2)
  );
  await writeFormatted(path.join(RESULTS, 'data-virtualization-check.md'), markdown(all));
  console.log(
    `\nwrote ${path.relative(process.cwd(), RESULTS)}/data-virtualization-check.{md,json}`
  );
  if (checks.some((check) => check.mismatches.length > 0)) {
    throw new Error('the producer and plain SQL disagree (listed above)');
  }
}
