import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { openDatabase, seedDatabase } from '../../src/db';
import type { InMemoryFaultSettings } from '../../src/faults';
import {
  createDataVirtualizationModule,
  type DataVirtualizationOptions
} from '../../src/data-virtualization';
import { auth, startTestServer } from '../support';

/**
 * Data Virtualization's test fixtures: an awkward shipment database and OData request helpers. The server is the one
 * harness of `test/support.ts` (the real `buildServer` with bearer auth on 127.0.0.1); the helpers here send the
 * bearer secret the way the org's Named Credential does.
 */

/**
 * A real migrated database with the deterministic seed, plus rows made awkward on purpose: NULLs in every
 * nullable column, quotes, wildcard characters and non-ASCII text, and timestamps that tie.
 */
export function createShipmentDatabase(shipments = 1500): Database.Database {
  const db = openDatabase(':memory:');
  seedDatabase(db, { customers: 30, products: 20, orders: 20, shipments });
  db.exec(`
    UPDATE shipments SET carrier = NULL, is_insured = NULL, weight_kg = NULL
      WHERE shipment_number IN ('SHP-0000000003', 'SHP-0000000004', 'SHP-0000000050');
    UPDATE shipments SET shipped_at = NULL, estimated_delivery = NULL
      WHERE shipment_number IN ('SHP-0000000005', 'SHP-0000000006', 'SHP-0000000100');
    UPDATE shipments SET status = NULL, destination_city = NULL
      WHERE shipment_number IN ('SHP-0000000007', 'SHP-0000000200');
    UPDATE shipments SET destination_city = 'O''Fallon' WHERE shipment_number = 'SHP-0000000010';
    UPDATE shipments SET destination_city = 'Star*City [Main]?' WHERE shipment_number = 'SHP-0000000011';
    UPDATE shipments SET destination_city = 'Zürich' WHERE shipment_number = 'SHP-0000000012';
    UPDATE shipments SET destination_city = '100% Town_1' WHERE shipment_number = 'SHP-0000000013';
    UPDATE shipments SET shipped_at = '2024-03-01T12:00:00Z'
      WHERE shipment_number IN ('SHP-0000000020', 'SHP-0000000021', 'SHP-0000000022');
  `);
  return db;
}

/** A query the producer ran, as `EntityQueries.lastQueries` lists it. */
interface RanQuery {
  readonly sql: string;
  readonly params: unknown[];
}

/** SQLite's plan (`EXPLAIN QUERY PLAN`) of a query the producer ran, one detail per step, in order. */
export function queryPlan(db: Database.Database, { sql, params }: RanQuery): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map(
    (row) => row.detail
  );
}

/** Whether a query is one of `substringCandidates`' probes: it counts a trigram query's candidates and lists them. */
export const isTrigramProbe = (query: RanQuery): boolean =>
  query.sql.startsWith('SELECT count(*), json_group_array(rowid) FROM (SELECT rowid FROM');

/**
 * The trigram queries whose candidates the queries `ran` (in order, as `lastQueries` lists them) read rows through,
 * among those `read` picks (all by default): a probe lists its candidates' rowids, and a query reads them as that list,
 * one of its parameters. Each probe is run again on `db` for its list, so ask before the rows change.
 */
export function trigramReads(
  db: Database.Database,
  ran: readonly RanQuery[],
  read: (query: RanQuery) => boolean = () => true
): unknown[] {
  const lists = new Map<unknown, unknown>();
  for (const probe of ran.filter(isTrigramProbe)) {
    const [rows, rowids] = db
      .prepare(probe.sql)
      .raw()
      .get(...probe.params) as [number, string];
    // A probe past its budget stopped at one row more: its candidates are not read through that list.
    if (rows < (probe.params[1] as number)) lists.set(rowids, probe.params[0]);
  }
  return ran
    .filter((query) => !isTrigramProbe(query) && read(query))
    .flatMap((query) => query.params.filter((p) => lists.has(p)).map((p) => lists.get(p)));
}

export interface TestServer {
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly db: Database.Database;
  readonly faults: InMemoryFaultSettings;
  /** GET a path under /data-virtualization/odata/ with query options (values are URL-encoded here). */
  get(
    resource: string,
    query?: Record<string, string>,
    headers?: Record<string, string>
  ): Promise<TextResponse>;
  /** Any path on the server (already encoded); GET unless `init` says otherwise. */
  fetchPath(path: string, init?: RequestInit): Promise<TextResponse>;
  /** Stops the server and closes the database. */
  close(): Promise<void>;
}

/** The harness with only this pattern mounted, over `db` (closed by `close()`). */
export async function startServer(
  db: Database.Database,
  options: DataVirtualizationOptions = {}
): Promise<TestServer> {
  const server = await startTestServer({
    db,
    patterns: [createDataVirtualizationModule({ tokenSecret: 'test-secret', ...options })]
  });
  const { app, baseUrl, faults } = server;
  return {
    app,
    baseUrl,
    db,
    faults,
    close: () => server.close(),
    async get(resource, query = {}, headers = {}) {
      const search = Object.entries(query)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .join('&');
      const url = `/data-virtualization/odata/${resource}${search ? `?${search}` : ''}`;
      return fetchText(`${baseUrl}${url}`, headers);
    },
    fetchPath(path, init) {
      return fetchText(`${baseUrl}${path}`, {}, init);
    }
  };
}

export interface ODataCollection {
  '@odata.context': string;
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  value: Record<string, unknown>[];
}

/** Follows `@odata.nextLink` to the end; returns every page. */
export async function allPages(
  server: TestServer,
  query: Record<string, string>,
  headers: Record<string, string> = {}
): Promise<ODataCollection[]> {
  const pages: ODataCollection[] = [];
  let response = await server.get('Shipments', query, headers);
  for (;;) {
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${response.body}`);
    const page = response.json() as ODataCollection;
    pages.push(page);
    const next = page['@odata.nextLink'];
    if (!next) return pages;
    response = await fetchText(next, headers);
  }
}

export interface TextResponse {
  status: number;
  body: string;
  json: () => unknown;
  headers: Record<string, string>;
}

/**
 * A real HTTP request (GET unless `init` says otherwise) with the bearer secret unless `headers` or `init.headers`
 * set `authorization` (`''` sends none); the body is read as text once, parsed on demand.
 */
export async function fetchText(
  url: string,
  headers: Record<string, string> = {},
  init: RequestInit = {}
): Promise<TextResponse> {
  const merged = new Headers({ ...auth, ...headers });
  new Headers(init.headers).forEach((value, name) => merged.set(name, value));
  if (merged.get('authorization') === '') merged.delete('authorization');
  const response = await fetch(url, { ...init, headers: merged });
  const body = await response.text();
  return {
    status: response.status,
    body,
    json: () => JSON.parse(body) as unknown,
    headers: headersOf(response.headers)
  };
}

function headersOf(headers: Headers): Record<string, string> {
  const result: Record<string, string> = {};
  headers.forEach((value, name) => {
    result[name] = value;
  });
  return result;
}
