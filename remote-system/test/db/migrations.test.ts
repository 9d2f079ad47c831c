import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SHIPMENT_INDEXES, migrate, openDatabase } from '../../src/db';
import { installChangeLog, installSubstringIndex } from '../../src/db/migrations';
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
    for (const index of SHIPMENT_INDEXES) {
      expect(indexes).toContain(index.name);
      expect(indexColumns(db, index.name)).toEqual(index.columns);
    }
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

  /**
   * A database migrated to just before `version`, with `indexes` rebuilt as that version found them on a database
   * created earlier (the migrations before it now create them as they are), then migrated to the latest: every index
   * then has the columns SHIPMENT_INDEXES declares. Returns the database and the versions applied.
   */
  function upgradedFrom(version: number, indexes: Record<string, readonly string[]>) {
    const db = new Database(':memory:');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version < version)
    );
    for (const [name, columns] of Object.entries(indexes)) {
      db.exec(`DROP INDEX ${name}`);
      db.exec(`CREATE INDEX ${name} ON shipments (${columns.join(', ')})`);
    }
    const applied = migrate(db);
    for (const index of SHIPMENT_INDEXES)
      expect(indexColumns(db, index.name)).toEqual(index.columns);
    return { db, applied };
  }
  const CARRIED = ['status', 'carrier', 'destination_city'];

  it('rebuilds the delivery date sort indexes of a database from before version 24 to carry shipped_at', () => {
    // As version 13 left them on a database created before version 24.
    const { db, applied } = upgradedFrom(24, {
      shipments_by_estimated_delivery: ['estimated_delivery', 'shipment_number', ...CARRIED],
      shipments_by_delivered_at: ['delivered_at', 'shipment_number', ...CARRIED]
    });
    expect(applied).toEqual([24, 25]);
    for (const column of ['estimated_delivery', 'delivered_at']) {
      expect(indexColumns(db, `shipments_by_${column}`)).toEqual([
        column,
        'shipment_number',
        ...CARRIED,
        'shipped_at'
      ]);
    }
    db.close();
  });

  it("rebuilds the related list's newest-first index of a database from before version 25 to carry the list-view filters", () => {
    // As migration 8 left it on a database created before version 25.
    const { db, applied } = upgradedFrom(25, {
      shipments_customer_by_shipped_at: ['customer_number', 'shipped_at', 'shipment_number']
    });
    expect(applied).toEqual([25]);
    expect(indexColumns(db, 'shipments_customer_by_shipped_at')).toEqual([
      'customer_number',
      'shipped_at',
      'shipment_number',
      ...CARRIED
    ]);
    db.close();
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

/** An index's columns, in order. */
function indexColumns(db: Database.Database, index: string): unknown[] {
  return db.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').pluck().all(index);
}

describe('installChangeLog', () => {
  /** A table with a log that keeps the last `retained` entries, and a reader of the log. */
  function loggedTable(retained: number) {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE parcels (code TEXT PRIMARY KEY, city TEXT, weight REAL)');
    installChangeLog(db, 'parcels', retained);
    const log = () =>
      db
        .prepare(
          'SELECT change_seq, change_sign, code, city, weight FROM parcels_changes ORDER BY 1'
        )
        .raw()
        .all();
    return { db, log };
  }

  it('logs each inserted, deleted and changed row as signed full images, and no unchanged update', () => {
    const { db, log } = loggedTable(4096);
    db.exec(`
      INSERT INTO parcels VALUES ('A', 'Lyon', 1.5), ('B', NULL, 2);
      UPDATE parcels SET city = 'Oslo' WHERE code = 'B';
      UPDATE parcels SET weight = 1.5 WHERE code = 'A';
      DELETE FROM parcels WHERE code = 'A';
    `);
    expect(log()).toEqual([
      [1, 1, 'A', 'Lyon', 1.5],
      [2, 1, 'B', null, 2],
      [3, -1, 'B', null, 2],
      [4, 1, 'B', 'Oslo', 2],
      [5, -1, 'A', 'Lyon', 1.5]
    ]);
    // The images keep the table's types, so conditions written for the table read the log alike.
    expect(
      db.prepare('SELECT typeof(weight) FROM parcels_changes WHERE change_seq = 2').pluck().get()
    ).toBe('real');
    db.close();
  });

  it('rolls its entries back with the write', () => {
    const { db, log } = loggedTable(4096);
    const failing = db.transaction(() => {
      db.exec("INSERT INTO parcels VALUES ('A', 'Lyon', 1)");
      throw new Error('abandoned');
    });
    expect(() => failing()).toThrow('abandoned');
    expect(log()).toEqual([]);
    db.close();
  });

  it('prunes the oldest entries and keeps the newest, numbered without gaps', () => {
    const { db } = loggedTable(1024);
    const insert = db.prepare('INSERT INTO parcels VALUES (?, NULL, NULL)');
    db.transaction(() => {
      for (let i = 0; i < 5000; i++) insert.run(`P${i}`);
    })();
    const [first, last, entries] = db
      .prepare('SELECT min(change_seq), max(change_seq), count(*) FROM parcels_changes')
      .raw()
      .get() as number[];
    expect(last).toBe(5000);
    expect(entries).toBe(last! - first! + 1);
    expect(entries).toBeGreaterThanOrEqual(1024);
    expect(entries).toBeLessThan(1024 + 1024);
    db.close();
  });
});

describe('installSubstringIndex', () => {
  it('indexes the rows already there and follows every write, NULLs included', () => {
    const db = new Database(':memory:');
    db.exec(
      "CREATE TABLE parcels (code TEXT PRIMARY KEY, label TEXT); INSERT INTO parcels VALUES ('A', 'Lyon-North')"
    );
    const index = installSubstringIndex(db, 'parcels', 'label');
    expect(index).toBe('parcels_label_trigrams');
    const labelsHolding = (text: string): string[] =>
      db
        .prepare(
          `SELECT label FROM parcels WHERE rowid IN (SELECT rowid FROM ${index} WHERE ${index} MATCH ?) ORDER BY 1`
        )
        .pluck()
        .all(`"${text}"`) as string[];
    expect(labelsHolding('nor')).toEqual(['Lyon-North']);
    db.exec(`
      INSERT INTO parcels VALUES ('B', 'Oslo-North'), ('C', NULL), ('D', 'Bergen');
      UPDATE parcels SET label = 'Lyon-South' WHERE code = 'A';
      UPDATE parcels SET label = 'Narvik-North' WHERE code = 'C';
      UPDATE parcels SET code = 'E' WHERE code = 'D';
      DELETE FROM parcels WHERE code = 'B';
    `);
    expect(labelsHolding('nor')).toEqual(['Narvik-North']);
    expect(labelsHolding('sou')).toEqual(['Lyon-South']);
    expect(labelsHolding('rge')).toEqual(['Bergen']);
    // FTS5's own check of the index against the table's current values (rank 1: an external-content table).
    expect(() =>
      db.prepare(`INSERT INTO ${index} (${index}, rank) VALUES ('integrity-check', 1)`).run()
    ).not.toThrow();
    db.close();
  });
});
