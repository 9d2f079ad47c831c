import { createHash } from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { SHIPMENT_INDEXES, isSeeded, openDatabase, seedDatabase } from '../../src/db';
import {
  customerAt,
  generateCustomers,
  mulberry32,
  productAt,
  salesforceSampleData
} from '../../src/db/sample-data';
import { parseSeedArgs } from '../../src/db/seed-cli';
import { tempDir } from '../support';

const OPTIONS = { customers: 40, products: 20, orders: 60, shipments: 1_500 } as const;
const TABLES = [
  'customers',
  'products',
  'inventory',
  'orders',
  'order_lines',
  'invoices',
  'shipments'
];

function digest(db: Database.Database): Record<string, string> {
  return Object.fromEntries(
    TABLES.map((table) => {
      const rows = db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all();
      return [table, createHash('sha256').update(JSON.stringify(rows)).digest('hex')];
    })
  );
}

function count(db: Database.Database, table: string): number {
  return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
}

describe('seedDatabase', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  it('gives the same rows for the same seed, in two separate database files', () => {
    const a = openDatabase(path.join(dir.dir, 'a.sqlite'));
    const b = openDatabase(path.join(dir.dir, 'b.sqlite'));
    seedDatabase(a, OPTIONS);
    seedDatabase(b, OPTIONS);
    expect(digest(a)).toEqual(digest(b));

    const c = openDatabase(path.join(dir.dir, 'c.sqlite'));
    seedDatabase(c, { ...OPTIONS, seed: 7 });
    const differing = Object.entries(digest(c)).filter(
      ([table, hash]) => digest(a)[table] !== hash
    );
    expect(differing.length).toBeGreaterThanOrEqual(5);
    for (const db of [a, b, c]) db.close();
  });

  it('writes the requested counts and a coherent data set', () => {
    const db = openDatabase(path.join(dir.dir, 'erp.sqlite'));
    expect(isSeeded(db)).toBe(false);
    const report = seedDatabase(db, OPTIONS);
    expect(isSeeded(db)).toBe(true);
    expect(report).toMatchObject({ customers: 40, products: 20, orders: 60, shipments: 1_500 });
    expect(count(db, 'customers')).toBe(40);
    expect(count(db, 'products')).toBe(20);
    expect(count(db, 'orders')).toBe(60);
    expect(count(db, 'shipments')).toBe(1_500);
    expect(count(db, 'order_lines')).toBe(report.orderLines);
    expect(count(db, 'invoices')).toBe(report.invoices);
    expect(count(db, 'inventory')).toBe(report.inventory);
    expect(report.inventory).toBeGreaterThan(0);
    expect(report.shipmentRowsPerSecond).toBeGreaterThan(0);

    // Keys follow the shared formats; every shipment belongs to a known customer.
    expect(
      db.prepare('SELECT min(customer_number), max(customer_number) FROM customers').raw().get()
    ).toEqual(['C-000001', 'C-000040']);
    expect(db.prepare('SELECT max(product_code) FROM products').pluck().get()).toBe('P-00020');
    expect(
      db.prepare('SELECT min(shipment_number), max(shipment_number) FROM shipments').raw().get()
    ).toEqual(['SHP-0000000001', 'SHP-0000001500']);
    expect(
      db
        .prepare(
          'SELECT count(*) FROM shipments s LEFT JOIN customers c USING (customer_number) WHERE c.name IS NULL'
        )
        .pluck()
        .get()
    ).toBe(0);
    // Order totals equal the sum of their lines.
    expect(
      db
        .prepare(
          `SELECT count(*) FROM orders o WHERE total_cents !=
             (SELECT sum(quantity * unit_price_cents) FROM order_lines l WHERE l.order_number = o.order_number)`
        )
        .pluck()
        .get()
    ).toBe(0);
    // Formats the OData producer and the org rely on.
    const shipment = db
      .prepare('SELECT * FROM shipments ORDER BY shipment_number DESC LIMIT 1')
      .get() as Record<string, unknown>;
    expect(shipment.shipped_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(shipment.estimated_delivery).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const statuses = db.prepare('SELECT DISTINCT status FROM shipments').pluck().all();
    for (const status of statuses) {
      expect([
        'Label Created',
        'In Transit',
        'Out for Delivery',
        'Delivered',
        'Exception',
        'Returned'
      ]).toContain(status);
    }
    expect(
      db
        .prepare(
          "SELECT count(*) FROM shipments WHERE status = 'Delivered' AND delivered_at IS NULL"
        )
        .pluck()
        .get()
    ).toBe(0);
    // Indexes are back after the bulk load.
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'shipments'")
      .pluck()
      .all();
    for (const index of SHIPMENT_INDEXES) expect(indexes).toContain(index.name);
    db.close();
  });

  it('refuses to seed twice unless asked to reset, and reset rebuilds the same rows', () => {
    const db = openDatabase(path.join(dir.dir, 'erp.sqlite'));
    seedDatabase(db, OPTIONS);
    const before = digest(db);
    expect(() => seedDatabase(db, OPTIONS)).toThrow(/already seeded/);
    seedDatabase(db, { ...OPTIONS, reset: true });
    expect(digest(db)).toEqual(before);
    db.close();
  });

  it('reports progress per committed chunk and validates counts', () => {
    const db = openDatabase(':memory:');
    const progress: number[] = [];
    seedDatabase(db, {
      ...OPTIONS,
      shipments: 2_500,
      chunkSize: 1_000,
      onProgress: (written) => progress.push(written)
    });
    expect(progress).toEqual([1_000, 2_000, 2_500]);
    expect(count(db, 'shipments')).toBe(2_500);
    expect(() => seedDatabase(db, { customers: 0, reset: true })).toThrow(/customers/);
    expect(() => seedDatabase(db, { shipments: 1.5, reset: true })).toThrow(/shipments/);
    db.close();
  });
});

describe('sample data generators', () => {
  it('mulberry32 is deterministic and uniform enough', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const values = Array.from({ length: 10_000 }, () => a());
    expect(values.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });

  it('derives each record from its index, whatever the total count', () => {
    expect(generateCustomers(5)[4]).toEqual(generateCustomers(500)[4]);
    expect(customerAt(42)).toEqual(customerAt(42));
    expect(customerAt(42).customerNumber).toBe('C-000042');
    expect(productAt(7).productCode).toBe('P-00007');
    expect(customerAt(1)).not.toEqual(customerAt(1, 99));
    expect(() => customerAt(0)).toThrow(RangeError);
    expect(() => productAt(100_000)).toThrow(RangeError);
  });

  it('gives Salesforce the same customers and products as the ERP database', () => {
    const db = openDatabase(':memory:');
    seedDatabase(db, { ...OPTIONS, shipments: 0 });
    const sample = salesforceSampleData(40, 20);
    expect(sample.accounts).toHaveLength(40);
    expect(sample.products).toHaveLength(20);
    const rows = db
      .prepare('SELECT customer_number, name, industry, city, country FROM customers ORDER BY 1')
      .all() as {
      customer_number: string;
      name: string;
      industry: string;
      city: string;
      country: string;
    }[];
    rows.forEach((row, i) => {
      expect(sample.accounts[i]).toMatchObject({
        ERP_Customer_Number__c: row.customer_number,
        Name: row.name,
        Industry: row.industry,
        BillingCity: row.city,
        BillingCountry: row.country
      });
    });
    const product = db.prepare("SELECT * FROM products WHERE product_code = 'P-00003'").get() as {
      name: string;
      unit_price_cents: number;
    };
    expect(sample.products[2]).toMatchObject({
      ERP_Product_Code__c: 'P-00003',
      ProductCode: 'P-00003',
      Name: product.name,
      UnitPrice: product.unit_price_cents / 100
    });
    db.close();
  });
});

describe('seed CLI arguments', () => {
  it('reads flags, inline values and the environment', () => {
    expect(parseSeedArgs(['--shipments', '10_000_000', '--database=/tmp/x.sqlite'], {})).toEqual({
      databasePath: '/tmp/x.sqlite',
      seed: { shipments: 10_000_000 }
    });
    expect(parseSeedArgs([], { SEED_SHIPMENTS: '500', DATABASE_PATH: '/tmp/y.sqlite' })).toEqual({
      databasePath: '/tmp/y.sqlite',
      seed: { shipments: 500 }
    });
    expect(() => parseSeedArgs(['--shipments', 'many'], {})).toThrow(/whole number/);
    expect(() => parseSeedArgs(['--bogus', '1'], {})).toThrow(/unknown option/);
    expect(() => parseSeedArgs(['--customers'], {})).toThrow(/needs a value/);
  });
});
