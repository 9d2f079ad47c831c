import type Database from 'better-sqlite3';

/**
 * What the loader can send, per Salesforce object: the SQLite query that reads the ERP side in key order and the
 * CSV columns (Salesforce field API names) it maps to. The key column comes first and is the upsert External Id.
 */
export interface LoadSource {
  readonly object: string;
  readonly externalIdField: string;
  readonly columns: readonly string[];
  /**
   * At most `limit` rows with a key after `afterKey` and up to `throughKey` (inclusive) in key order, as arrays in
   * `columns` order; the key is element 0. Read with `.all()` one block at a time (no iterator stays open across an
   * `await`: better-sqlite3 refuses writes on a connection with an open iterator).
   */
  rows(db: Database.Database, afterKey: string, throughKey: string, limit: number): unknown[][];
  /**
   * The key range of the next `rows` rows after `afterKey`: its last key and how many rows it holds (fewer at the
   * end of the source), or `undefined` when no row follows. Lets the loader hand consecutive ranges to several
   * spool workers at once.
   */
  rangeAfter(
    db: Database.Database,
    afterKey: string,
    rows: number
  ): { lastKey: string; rows: number } | undefined;
  /** Rows available to send. */
  count(db: Database.Database): number;
}

/** One prepared statement per connection and SQL text: a load reads thousands of blocks with the same query. */
const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function prepared(db: Database.Database, sql: string): Database.Statement {
  let byText = statements.get(db);
  if (byText === undefined) statements.set(db, (byText = new Map()));
  let statement = byText.get(sql);
  if (statement === undefined) byText.set(sql, (statement = db.prepare(sql).raw(true)));
  return statement;
}

const PRODUCT2_ROWS = `SELECT sku, name, sku, family, CASE active WHEN 1 THEN 'true' ELSE 'false' END,
       coalesce(description, '')
  FROM batch_sync_catalog WHERE sku > ? AND sku <= ? ORDER BY sku LIMIT ?`;
/** Walks the primary key only: no row is decoded into JavaScript values. */
const PRODUCT2_RANGE = `SELECT count(*), max(sku)
  FROM (SELECT sku FROM batch_sync_catalog WHERE sku > ? ORDER BY sku LIMIT ?)`;

const product2: LoadSource = {
  object: 'Product2',
  externalIdField: 'ERP_Product_Code__c',
  columns: ['ERP_Product_Code__c', 'Name', 'ProductCode', 'Family', 'IsActive', 'Description'],
  rows(db, afterKey, throughKey, limit) {
    return prepared(db, PRODUCT2_ROWS).all(afterKey, throughKey, limit) as unknown[][];
  },
  rangeAfter(db, afterKey, rows) {
    const [count, lastKey] = prepared(db, PRODUCT2_RANGE).get(afterKey, rows) as [
      number,
      string | null
    ];
    return count > 0 && lastKey !== null ? { lastKey, rows: count } : undefined;
  },
  count(db) {
    return db.prepare('SELECT count(*) FROM batch_sync_catalog').pluck().get() as number;
  }
};

export const LOAD_SOURCES: Readonly<Record<string, LoadSource>> = { Product2: product2 };

const FAMILIES = ['Hardware', 'Spare Parts', 'Consumables', 'Tools', 'Safety'] as const;
const NOUNS = [
  'Pump',
  'Valve',
  'Gasket',
  'Bearing',
  'Filter',
  'Hose',
  'Coupling',
  'Sensor'
] as const;

/** The SKU of the `n`-th catalog row (1-based): fixed width, so text order is numeric order. */
export function skuOf(n: number): string {
  return `SKU-${String(n).padStart(10, '0')}`;
}

/**
 * One deterministic catalog row. Every 7th name carries quotes and a comma, every 11th description a line break,
 * every 13th non-ASCII text, so a load exercises RFC 4180 quoting and UTF-8 end to end.
 */
export function catalogRow(n: number): [string, string, string, string | null, number, number] {
  const noun = NOUNS[n % NOUNS.length]!;
  let name = `${noun} ${n}`;
  if (n % 7 === 0) name = `${noun} "Pro", ${n % 50} mm`;
  if (n % 13 === 0) name = `Überdruck-${noun} ø${n % 90} – 東京`;
  const description =
    n % 11 === 0 ? `Line one of ${n}\nline two, "quoted"` : n % 3 === 0 ? null : `Item ${n}`;
  return [
    skuOf(n),
    name,
    FAMILIES[n % FAMILIES.length]!,
    description,
    100 + ((n * 37) % 99_900),
    n % 17 === 0 ? 0 : 1
  ];
}

/**
 * Fills `batch_sync_catalog` up to `rows` rows (generated, deterministic), in transactions of 50,000 rows; rows
 * already present are kept. Returns the number added.
 */
export function ensureCatalogRows(db: Database.Database, rows: number): number {
  const have = db.prepare('SELECT count(*) FROM batch_sync_catalog').pluck().get() as number;
  if (have >= rows) return 0;
  const insert = db.prepare(
    `INSERT OR IGNORE INTO batch_sync_catalog (sku, name, family, description, unit_price_cents, active)
     VALUES (?, ?, ?, ?, ?, ?)`
  );
  const batch = db.transaction((from: number, to: number) => {
    for (let n = from; n <= to; n++) insert.run(...catalogRow(n));
  });
  for (let from = have + 1; from <= rows; from += 50_000)
    batch(from, Math.min(rows, from + 49_999));
  return rows - have;
}
