import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SHIPMENT_INDEXES, migrate, openDatabase } from '../../src/db';
import { tempDir } from '../support';

describe('migrations', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  it('creates the shared schema and records each version once', () => {
    const file = path.join(dir.dir, 'nested', 'erp.sqlite');
    const db = openDatabase(file);
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual(
      expect.arrayContaining([
        'customers',
        'products',
        'inventory',
        'orders',
        'order_lines',
        'invoices',
        'shipments',
        'schema_migrations'
      ])
    );
    const shipmentColumns = db
      .prepare('SELECT name FROM pragma_table_info(?)')
      .pluck()
      .all('shipments');
    expect(shipmentColumns).toEqual([
      'shipment_number',
      'customer_number',
      'order_number',
      'carrier',
      'service_level',
      'status',
      'origin_warehouse',
      'destination_city',
      'destination_country',
      'weight_kg',
      'package_count',
      'declared_value',
      'shipped_at',
      'estimated_delivery',
      'delivered_at',
      'is_insured'
    ]);
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'shipments'")
      .pluck()
      .all();
    for (const index of SHIPMENT_INDEXES) expect(indexes).toContain(index.name);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();

    // Re-opening applies nothing new and keeps one row per version.
    const again = openDatabase(file);
    expect(migrate(again)).toEqual([]);
    const versions = again
      .prepare('SELECT version FROM schema_migrations ORDER BY version')
      .pluck()
      .all();
    expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
    again.close();
  });

  it('applies only the versions a database has not seen, in order', () => {
    const db = new Database(':memory:');
    expect(migrate(db, MIGRATIONS.slice(0, 1))).toEqual([1]);
    const calls: number[] = [];
    const later = [
      ...MIGRATIONS,
      { version: 99, name: 'test', up: () => calls.push(99) },
      { version: 50, name: 'test', up: () => calls.push(50) }
    ];
    expect(migrate(db, later)).toEqual([...MIGRATIONS.slice(1).map((m) => m.version), 50, 99]);
    expect(calls).toEqual([50, 99]);
    expect(migrate(db, later)).toEqual([]);
    db.close();
  });

  it('rolls back a failing migration so it is retried next time', () => {
    const db = new Database(':memory:');
    const failing = [
      {
        version: 1,
        name: 'half done',
        up: (d: Database.Database) => {
          d.exec('CREATE TABLE t (x INTEGER)');
          throw new Error('boom');
        }
      }
    ];
    expect(() => migrate(db, failing)).toThrow('boom');
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 't'").pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(0);
    db.close();
  });

  it('enforces the documented value domains', () => {
    const db = openDatabase(':memory:');
    const insert = db.prepare(
      `INSERT INTO customers VALUES (?, 'X', 'Retail', 'Lyon', 'France', 100, 0, ?, 0)`
    );
    expect(() => insert.run('C-000001', 'E')).toThrow(/CHECK constraint/);
    expect(() => insert.run('C-1', 'A')).toThrow(/CHECK constraint/);
    insert.run('C-000001', 'A');
    expect(() =>
      db
        .prepare(
          `INSERT INTO shipments (shipment_number, customer_number, status) VALUES ('SHP-0000000001', 'C-000001', 'Lost')`
        )
        .run()
    ).toThrow(/CHECK constraint/);
    db.close();
  });
});
