import type Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../src/db';
import { createRequestReplyModule, type RequestReplyOptions } from '../../src/request-reply';
import { TEST_SECRET, auth, startTestServer as startHarness, type TestServer } from '../support';

/**
 * Request and Reply's test fixtures: a hand-checked data set, the shared contract examples and a request helper.
 * The server itself is the one harness of `test/support.ts` (the real `buildServer`, bearer auth, 127.0.0.1).
 */
export { TEST_SECRET };
export const AUTH = auth;
export type { TestServer };

/**
 * The real schema (migrations) with a small hand-written data set, so every expected answer can be worked out by
 * hand, and matches the contract examples value for value.
 */
export function createFixtureDatabase(): Database.Database {
  const db = openDatabase(':memory:');
  const customer = db.prepare(
    `INSERT INTO customers (customer_number, name, industry, city, country, credit_limit_cents, balance_cents,
       risk_rating, on_hold) VALUES (?, ?, 'Wholesale', 'Lyon', 'FR', ?, ?, ?, ?)`
  );
  customer.run('C-000001', 'Acme Distribution', 5_000_000, 1_250_000, 'A', 0);
  customer.run('C-000002', 'Blocked Traders', 1_000_000, 100_000, 'B', 1);
  customer.run('C-000003', 'Risky Retail', 2_000_000, 0, 'D', 0);
  customer.run('C-000004', 'Busy Builders', 1_000_000, 900_000, 'C', 0);
  const product = db.prepare(
    `INSERT INTO products (product_code, name, family, unit_price_cents, currency, active)
       VALUES (?, ?, 'Fluid', ?, ?, ?)`
  );
  product.run('P-00001', 'Industrial Pump', 125_000, 'USD', 1);
  product.run('P-00002', 'Valve Kit', 4_550, 'USD', 1);
  product.run('P-00003', 'Legacy Gauge', 9_900, 'USD', 0);
  product.run('P-00004', 'Euro Fitting', 1_000, 'EUR', 1);
  const stock = db.prepare(
    `INSERT INTO inventory (product_code, warehouse_code, on_hand, reserved) VALUES (?, ?, ?, ?)`
  );
  stock.run('P-00001', 'WH-EAST', 40, 5);
  stock.run('P-00001', 'WH-WEST', 10, 0);
  stock.run('P-00002', 'WH-EAST', 3, 3);
  stock.run('P-00004', 'WH-EAST', 7, 0);
  return db;
}

/** The harness with only this pattern mounted, over the fixture database (or `db`). */
export function startTestServer(
  options: RequestReplyOptions = {},
  db: Database.Database = createFixtureDatabase()
): Promise<TestServer> {
  return startHarness({ patterns: [createRequestReplyModule(options)], db });
}

export function stopTestServer(server: TestServer): Promise<void> {
  return server.close();
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

/** Sends a request with the bearer secret (unless `headers` overrides `authorization`). */
export async function send(
  baseUrl: string,
  request: ContractExample['request'],
  signal?: AbortSignal
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: {
      ...AUTH,
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
