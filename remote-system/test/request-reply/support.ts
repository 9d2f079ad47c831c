import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type {
  FaultProfile,
  FaultSettings,
  PatternDependencies,
  TrafficRecorder
} from '../../src/pattern-module';
import { createRequestReplyModule, type RequestReplyOptions } from '../../src/request-reply';

/**
 * A small, hand-written data set with the shared column names of `customers`, `products` and `inventory`, so the
 * expected answers can be worked out by hand (and match the contract examples' values).
 */
export function createFixtureDatabase(): Database.Database {
  const db = new Database(':memory:');
  db.exec(`
    CREATE TABLE customers (customer_number TEXT PRIMARY KEY, name TEXT NOT NULL, industry TEXT, city TEXT,
      country TEXT, credit_limit_cents INTEGER NOT NULL, balance_cents INTEGER NOT NULL, risk_rating TEXT NOT NULL,
      on_hold INTEGER NOT NULL);
    CREATE TABLE products (product_code TEXT PRIMARY KEY, name TEXT NOT NULL, family TEXT,
      unit_price_cents INTEGER NOT NULL, currency TEXT NOT NULL, active INTEGER NOT NULL);
    CREATE TABLE inventory (product_code TEXT NOT NULL, warehouse_code TEXT NOT NULL, on_hand INTEGER NOT NULL,
      reserved INTEGER NOT NULL, PRIMARY KEY (product_code, warehouse_code));
  `);
  const customer = db.prepare(
    `INSERT INTO customers VALUES (?, ?, 'Wholesale', 'Lyon', 'FR', ?, ?, ?, ?)`
  );
  customer.run('C-000001', 'Acme Distribution', 5_000_000, 1_250_000, 'A', 0);
  customer.run('C-000002', 'Blocked Traders', 1_000_000, 100_000, 'B', 1);
  customer.run('C-000003', 'Risky Retail', 2_000_000, 0, 'D', 0);
  customer.run('C-000004', 'Busy Builders', 1_000_000, 900_000, 'C', 0);
  const product = db.prepare(`INSERT INTO products VALUES (?, ?, 'Fluid', ?, ?, ?)`);
  product.run('P-00001', 'Industrial Pump', 125_000, 'USD', 1);
  product.run('P-00002', 'Valve Kit', 4_550, 'USD', 1);
  product.run('P-00003', 'Legacy Gauge', 9_900, 'USD', 0);
  product.run('P-00004', 'Euro Fitting', 1_000, 'EUR', 1);
  const stock = db.prepare(`INSERT INTO inventory VALUES (?, ?, ?, ?)`);
  stock.run('P-00001', 'WH-EAST', 40, 5);
  stock.run('P-00001', 'WH-WEST', 10, 0);
  stock.run('P-00002', 'WH-EAST', 3, 3);
  stock.run('P-00004', 'WH-EAST', 7, 0);
  return db;
}

export class MemoryFaults implements FaultSettings {
  private readonly profiles = new Map<string, FaultProfile>();
  get(pattern: string): FaultProfile {
    return (
      this.profiles.get(pattern) ?? { latencyMs: 0, errorRate: 0, errorStatus: 500, hang: false }
    );
  }
  set(pattern: string, profile: Partial<FaultProfile>): FaultProfile {
    const next = { ...this.get(pattern), ...profile };
    this.profiles.set(pattern, next);
    return next;
  }
}

export class MemoryTraffic implements TrafficRecorder {
  readonly notes: { pattern: string; message: string }[] = [];
  note(pattern: string, message: string): void {
    this.notes.push({ pattern, message });
  }
}

export interface TestServer {
  app: FastifyInstance;
  db: Database.Database;
  faults: MemoryFaults;
  traffic: MemoryTraffic;
  baseUrl: string;
}

/** The module registered the way the composition root does it (prefix `/request-reply`), on 127.0.0.1. */
export async function startTestServer(options: RequestReplyOptions = {}): Promise<TestServer> {
  const db = createFixtureDatabase();
  const faults = new MemoryFaults();
  const traffic = new MemoryTraffic();
  const app = Fastify({ logger: false });
  const module = createRequestReplyModule(options);
  const deps: PatternDependencies = { db, faults, traffic };
  await app.register(
    async (scope) => {
      await module.register(scope, deps);
    },
    { prefix: `/${module.name}` }
  );
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, db, faults, traffic, baseUrl: address };
}

export async function stopTestServer(server: TestServer): Promise<void> {
  await server.app.close();
  server.db.close();
}

export interface ContractExample {
  request: {
    method: 'GET' | 'POST';
    path: string;
    headers?: Record<string, string>;
    body?: unknown;
  };
  status: number;
  body: unknown;
}

export const CONTRACT_PATH = path.resolve(
  __dirname,
  '../../../force-app/main/request-reply/staticresources/RequestReplyContract.json'
);

export function loadContract(): Record<string, ContractExample> {
  const document = JSON.parse(readFileSync(CONTRACT_PATH, 'utf8')) as {
    examples: Record<string, ContractExample>;
  };
  return document.examples;
}

export async function send(
  baseUrl: string,
  request: ContractExample['request'],
  signal?: AbortSignal
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: {
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(request.headers ?? {})
    },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    signal
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text.length > 0 ? JSON.parse(text) : undefined,
    headers: response.headers
  };
}
