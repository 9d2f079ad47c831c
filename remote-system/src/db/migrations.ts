import type Database from 'better-sqlite3';

/**
 * Ordered, versioned schema migrations. Each runs once, inside a transaction, and is recorded in
 * `schema_migrations`; re-opening a database applies only the versions it has not seen. Never edit a shipped
 * migration: append a new one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: (db: Database.Database) => void;
}

/** One index on `shipments`: its name, its columns in order, and the statement that creates it. */
export interface ShipmentIndex {
  readonly name: string;
  readonly columns: readonly string[];
  readonly sql: string;
}

function shipmentIndex(name: string, columns: readonly string[]): ShipmentIndex {
  return {
    name,
    columns,
    sql: `CREATE INDEX IF NOT EXISTS ${name} ON shipments (${columns.join(', ')})`
  };
}

/**
 * data-virtualization: the columns Salesforce Connect may sort by (`Shipment__x` fields with
 * `isSortingDisabled=false`) and filter on (`isFilteringDisabled=false`). The producer's total order is
 * `<column> [DESC], shipment_number [DESC]`, and with no `$orderby` it is `shipped_at DESC, shipment_number DESC`;
 * `test/data-virtualization/index-coverage.test.ts` checks these lists against the field flags.
 */
const DV_SORTED = [
  'status',
  'carrier',
  'shipped_at',
  'estimated_delivery',
  'delivered_at',
  'destination_city',
  'weight_kg',
  'declared_value'
] as const;
const DV_FILTERED = [
  'customer_number',
  'status',
  'carrier',
  'destination_city',
  'order_number'
] as const;

/**
 * data-virtualization: pairs of date-time columns whose difference, `to` - `from` in whole seconds, `shipment_counts`
 * bounds over every row that has both (dimension `<to>-<from>/seconds`, values `min` and `max`), widened by each
 * insert or update and never narrowed (a delete leaves them: still bounds). A list-view filter of a `from` period
 * sorted by `to` then bounds `to` too, and the walk of `to`'s index starts there instead of at its end:
 * `ShippedAt le 2023-06-14T00:00:03Z` by DeliveredAt desc read the deliveries of the three years after it, one row each,
 * 25 s at 10M rows. A value that is not in the stored format (`YYYY-MM-DDTHH:MM:SS`, then `Z`) sets the bounds so
 * wide that no period is bounded by them. Cost: one counter upsert per insert that sets both columns.
 */
export const SHIPMENT_DATE_GAPS = [
  { from: 'shipped_at', to: 'estimated_delivery', toIsDate: true },
  { from: 'shipped_at', to: 'delivered_at', toIsDate: false }
] as const;

/**
 * The shipment indexes, kept here so the bulk seeder can drop them before a large load and rebuild them after
 * (migration 3 creates them on a new database, migration 8 on an existing one).
 *
 * Every one serves a Salesforce Connect query shape without sorting (data-virtualization, migration 8):
 * - `shipments_by_<c>` (c, shipment_number): `$orderby=<c> [desc]` over the whole table in both directions — page 1,
 *   a keyset `nextLink` page, and a deep `$skip` (the OFFSET walks index entries only; rows are read for the page);
 * - `shipments_<c>_newest` (c, shipped_at, shipment_number): a list-view filter `<c> eq …` in the default order,
 *   newest first, at any depth;
 * - `shipments_customer_by_<c>` (customer_number, c, shipment_number): the related list (`CustomerNumber eq …`)
 *   sorted by any sortable column, and in the default order (`c` = shipped_at).
 */
/**
 * Low-cardinality list-view filters carried at the end of every `shipments_by_<c>` index (migration 13): a filter
 * `<f> eq …` sorted by another column `c` then walks `shipments_by_<c>` in order and tests `f` on the index entry
 * itself (tens of nanoseconds), instead of reading each row or sorting every match — the producer picks that plan
 * from the maintained counts (see `EntityQueries`). One index per (filter, sort) pair would cost 3 × 9 more indexes.
 */
const DV_CARRIED_FILTERS = ['status', 'carrier', 'destination_city'] as const;

/**
 * `shipments_by_<c>`: the order `(c, shipment_number)`, then the carried filters that are not `c`, then, when `c` is
 * the `to` of a date gap, its `from` (migration 24). A list view of a shipping period sorted by `c` walks this index
 * from the period moved by the gap's bounds; the rows near that start were mostly shipped just outside the period, and
 * the walk tests the period on each entry it passes: with `shipped_at` carried, no row is read for that.
 */
const sortIndex = (c: string): ShipmentIndex =>
  shipmentIndex(`shipments_by_${c}`, [
    ...new Set([
      c,
      'shipment_number',
      ...DV_CARRIED_FILTERS.filter((f) => f !== c),
      ...SHIPMENT_DATE_GAPS.filter((gap) => gap.to === c).map((gap) => gap.from)
    ])
  ]);

/**
 * `shipments_customer_by_<c>`: a customer's rows in the order `(c, shipment_number)`. The related list's own order,
 * newest first (`c` = shipped_at), also carries the list-view filters (migration 25): a customer's shipments filtered
 * by status, carrier or city, newest first, then walk the customer's entries and test the filter on each entry, where
 * each entry walked read its row (`Status eq 'Returned'` beside the largest customer: about 830 rows at random for a
 * page of 25). Cost at 10M rows: 27 s to rebuild, the index 513 → 750 MiB. The other orders stay narrow: carrying the
 * filters in all nine would add about 2 GB.
 */
const customerIndex = (c: string): ShipmentIndex =>
  shipmentIndex(`shipments_customer_by_${c}`, [
    'customer_number',
    c,
    'shipment_number',
    ...(c === 'shipped_at' ? DV_CARRIED_FILTERS : [])
  ]);

/**
 * Filter-and-order pairs whose matches sit together at one end of the order, where a carried-filter walk would read
 * most of the index first: `delivered_at` is set only once a shipment is delivered, so every other status sorts last
 * by delivery date, descending. Each pair gets an index `(filter, order, shipment_number)` (migration 14).
 */
const DV_CORRELATED_PAIRS = [['status', 'delivered_at']] as const;

export const SHIPMENT_INDEXES: readonly ShipmentIndex[] = [
  ...DV_SORTED.map(sortIndex),
  sortIndex('shipment_number'),
  ...DV_FILTERED.filter((c) => c !== 'customer_number').map((c) =>
    shipmentIndex(`shipments_${c}_newest`, [c, 'shipped_at', 'shipment_number'])
  ),
  shipmentIndex('shipments_customer_by_shipment_number', ['customer_number', 'shipment_number']),
  ...DV_SORTED.map(customerIndex),
  ...DV_CORRELATED_PAIRS.map(([f, c]) =>
    shipmentIndex(`shipments_${f}_by_${c}`, [f, c, 'shipment_number'])
  )
];

/** Indexes of migrations 3 and 4 that migration 8 replaces (each is a prefix of a new one, or unused). */
const REPLACED_SHIPMENT_INDEXES = [
  'shipments_customer_shipped_at',
  'shipments_status',
  'shipments_shipped_at',
  'shipments_status_shipped_at'
];

/**
 * data-virtualization: columns whose row counts `shipment_counts` keeps, so `$count` of the whole table or of an
 * `eq` filter on one of them (a list view's or related list's row count) is one key lookup instead of counting
 * millions of index entries. Every write to `shipments` pays one counter update per column it changes.
 */
export const SHIPMENT_COUNTED_COLUMNS = [
  'customer_number',
  'status',
  'carrier',
  'destination_city'
] as const;

/**
 * data-virtualization: columns whose rows `shipment_counts` also counts by the first characters of their value
 * (dimension `<column>/<length>`, value `v:<prefix>` or `null`): `shipped_at` by day, and the key by `SHP-` and its
 * first 6 digits (10,000 shipment numbers each). A range of the column (a list view's "Shipped At before …" or
 * "Shipment Number starts with …", with its row count) is then counted as the prefixes wholly inside it, added up from
 * the counters, plus the rows of the two prefixes at its ends, read through the column's index: at 10M rows about
 * 2,000 counters and two days' rows, or 1,000 and 20,000 keys, where counting the range reads millions of index
 * entries. One more counter update per write that sets the column.
 */
export const SHIPMENT_PREFIX_COUNTED_COLUMNS = [
  { column: 'shipped_at', length: 10 },
  { column: 'shipment_number', length: 10 }
] as const;

type PrefixCountedColumn = (typeof SHIPMENT_PREFIX_COUNTED_COLUMNS)[number];

/**
 * data-virtualization: columns whose rows `shipment_counts` also counts by every substring of 1 to `length`
 * characters of their value (dimension `<column>/substrings/<length>`, value `v:<substring>`; a row counts once per
 * substring, however often its value holds it). A `$count` of `contains` with a text that short ("Shipment Number
 * contains 37", or 4 digits, with its row count) is then one counter. The key's trigram index cannot find a text
 * shorter than a trigram, and the rows of a short text are many, so their candidates are too: counting read every
 * key (405 ms at 10M rows for 2 digits) or tens of thousands of candidates (30–60 ms for 4 digits such as `0043`).
 * The length is 4 here, as shipment numbers are `SHP-` and digits: at most 4n - 6 substrings of an n-character
 * value, and about 11,100 counters at 100,000 or 10M rows. The counters number at most the distinct
 * characters to the power `length`: for keys of any letters and digits, keep it at 3. The row with value `''`
 * marks the counters complete (its `n` is the number of values counted): a bulk load drops the triggers and that
 * row (`dropShipmentSubstringCounters`) and installs them again after, and a reader trusts the counters only while
 * the row is there. Cost: an insert or delete updates up to 4n - 5 counters, which took a shipment insert from
 * about 108 to 167 µs with every other trigger (10,000 inserts into a seeded 100,000-row database); an update that
 * changes the value, twice that.
 */
export const SHIPMENT_SUBSTRING_COUNTED_COLUMNS = [
  { column: 'shipment_number', length: 4 }
] as const;

type SubstringCountedColumn = (typeof SHIPMENT_SUBSTRING_COUNTED_COLUMNS)[number];

/**
 * data-virtualization: counted columns whose rows `shipment_counts` also counts by each substring of 1 to `length`
 * characters of their value that the row's `key` holds too, both folded as SQLite's `lower` folds them (ASCII letters
 * alone): dimension `<column>/key-substrings/<length>`, value the JSON array of the value and the substring; a row
 * counts once per substring. A `$search` term's count is the rows where any searchable column holds it. The key's
 * substring counter counts the rows whose key holds it, a counted column's counters those whose value holds it, and
 * these counters the rows where both do, so their union is counted without reading a row: `$search=01` at 10M rows
 * (3.3 million rows, 2 million of them those of the 112 customers whose number holds `01`) read the customers' rows
 * through their index with the key's test (150 ms). Only the value's own substrings are counted, since only the
 * values that hold a term are asked about: at most 26 per customer number (`C-` and 6 digits), 18,186 counters for
 * 1,000 customers at 10M rows, filled in 16.5 s there. Cost: an insert or delete tests each of the value's
 * substrings on the key and updates a counter for each one held, about 22 µs a shipment insert (10,000 inserts into
 * a seeded 100,000-row database, with every other trigger: 103–114 µs without these, 125–137 with them).
 */
export const SHIPMENT_KEY_SUBSTRING_COUNTED_COLUMNS = [
  { column: 'customer_number', key: 'shipment_number', length: 4 }
] as const;

/**
 * data-virtualization: counted columns whose large values' rows `shipment_counts` also counts by each substring of 1
 * to `length` characters of their `key` (dimension `<column>/key-substrings-per-value/<length>`, value the JSON array
 * of the value and the substring, as written: `contains` is case-sensitive; a row counts once per substring). A value
 * is counted when it had at least `minRows` rows at install time; its row `[value, ""]` (`n` its rows) marks its
 * counters complete, and a value without that row is not counted. The Account page's search of a customer
 * (`CustomerNumber eq … and (contains(ShipmentNumber,'0057') or …)`, and the same as a global search) is then counted
 * from the customer's counter, where it walked every row of the customer testing the key: 18–19 ms of SQL for the
 * largest, 316,462 rows at 10M, and 95 ns a row for any other. 50,000 rows are about 5 ms of that walk. Up to 11,110
 * counters per value for keys of `SHP-` and digits (10,000 of 4 digits): at 10M rows, 10 customers (1.0 million rows)
 * and 111,270 counters, filled in 11.3 s. Cost: an insert or delete of a counted value's row updates a counter per
 * distinct substring of its key (up to 4n - 6 of an n-character key), and any other row's looks the value's marker up
 * once: 10,000 inserts into a seeded 100,000-row database with its largest customer counted took 427–479 µs each for
 * that customer's rows against 265–306 µs without these counters, and the same within the noise for another's.
 */
export const SHIPMENT_PER_VALUE_KEY_SUBSTRING_COUNTED_COLUMNS = [
  { column: 'customer_number', key: 'shipment_number', length: 4, minRows: 50_000 }
] as const;

/** A column whose values of at least `minRows` rows are counted by the substrings of the rows' `key`. */
interface PerValueKeySubstringCountedColumn {
  readonly column: string;
  readonly key: string;
  readonly length: number;
  readonly minRows: number;
}

/**
 * A pair of date-time columns whose difference is bounded (see SHIPMENT_DATE_GAPS); `to` may hold a date alone
 * (`YYYY-MM-DD`, midnight UTC).
 */
interface DateGap {
  readonly from: string;
  readonly to: string;
  readonly toIsDate: boolean;
}

/** The stored formats, as GLOB patterns: an `Edm.DateTimeOffset` (any fraction of a second) and an `Edm.Date`. */
const STORED_DATE_TIME =
  "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'";
const STORED_DATE = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'";

/** Seconds past which a date gap bounds no period: the bound a value not in the stored format sets. */
export const UNBOUNDED_GAP_SECONDS = 1e12;

/** The `shipment_counts` dimension of a pair of date-time columns' bounded difference. */
export const dateGapDimension = ({
  from,
  to
}: {
  readonly from: string;
  readonly to: string;
}): string => `${to}-${from}/seconds`;

const dateGapTriggers = ({ from, to }: DateGap): string[] =>
  ['insert', 'update'].map((event) => `shipment_counts_${to}_${from}_gap_${event}`);

/** Removes the bounds of `gaps` and their triggers, before a bulk load (see SHIPMENT_DATE_GAPS). */
export function dropShipmentDateGaps(
  db: Database.Database,
  gaps: readonly DateGap[] = SHIPMENT_DATE_GAPS
): void {
  for (const gap of gaps) dropCounters(db, dateGapDimension(gap), dateGapTriggers(gap));
}

/**
 * Bounds the difference of each pair of `gaps` over the rows present, then installs the triggers that widen the bounds
 * as rows are written (see SHIPMENT_DATE_GAPS). No bound is written while no row has both columns.
 */
export function installShipmentDateGaps(
  db: Database.Database,
  gaps: readonly DateGap[] = SHIPMENT_DATE_GAPS
): void {
  db.transaction(() => {
    dropShipmentDateGaps(db, gaps);
    for (const gap of gaps) {
      const dimension = dateGapDimension(gap);
      const toFormat = gap.toIsDate ? STORED_DATE : STORED_DATE_TIME;
      // Whole seconds, widened by one either way: a truncated fraction, in either direction, stays inside.
      const seconds = (row: string): string =>
        `CASE WHEN ${row}${gap.from} GLOB ${STORED_DATE_TIME} AND ${row}${gap.to} GLOB ${toFormat} ` +
        `THEN CAST((julianday(${row}${gap.to}) - julianday(${row}${gap.from})) * 86400 AS INTEGER) END`;
      const lower = (row: string): string =>
        `coalesce(${seconds(row)} - 1, -${UNBOUNDED_GAP_SECONDS})`;
      const upper = (row: string): string =>
        `coalesce(${seconds(row)} + 1, ${UNBOUNDED_GAP_SECONDS})`;
      // One scan, each row's difference computed once; no bound while no row has both columns, and none at all
      // (±UNBOUNDED_GAP_SECONDS) once one is not in the stored format.
      const [rows, min, max, unstored] = db
        .prepare(
          `SELECT count(*), min(g), max(g), count(*) - count(g) FROM (SELECT ${seconds('')} AS g
             FROM shipments WHERE ${gap.from} IS NOT NULL AND ${gap.to} IS NOT NULL)`
        )
        .raw()
        .get() as [number, number | null, number | null, number];
      if (rows > 0) {
        const insert = db.prepare(
          'INSERT INTO shipment_counts (dimension, value, n) VALUES (?, ?, ?)'
        );
        insert.run(dimension, 'min', unstored ? -UNBOUNDED_GAP_SECONDS : min! - 1);
        insert.run(dimension, 'max', unstored ? UNBOUNDED_GAP_SECONDS : max! + 1);
      }
      const widen = `
        INSERT INTO shipment_counts (dimension, value, n)
          VALUES ('${dimension}', 'min', ${lower('NEW.')}), ('${dimension}', 'max', ${upper('NEW.')})
          ON CONFLICT (dimension, value) DO UPDATE
            SET n = CASE value WHEN 'min' THEN min(n, excluded.n) ELSE max(n, excluded.n) END;`;
      const both = `NEW.${gap.from} IS NOT NULL AND NEW.${gap.to} IS NOT NULL`;
      const [onInsert, onUpdate] = dateGapTriggers(gap);
      db.exec(`
        CREATE TRIGGER ${onInsert} AFTER INSERT ON shipments WHEN ${both} BEGIN ${widen} END;
        CREATE TRIGGER ${onUpdate} AFTER UPDATE OF ${gap.from}, ${gap.to} ON shipments
          WHEN ${both} AND (OLD.${gap.from} IS NOT NEW.${gap.from} OR OLD.${gap.to} IS NOT NEW.${gap.to})
          BEGIN ${widen} END;
      `);
    }
  })();
}

/** A column counted by its substrings that the row's `key` holds too, up to `length` characters. */
interface KeySubstringCountedColumn {
  readonly column: string;
  readonly key: string;
  readonly length: number;
}

/** The `shipment_counts` dimension of a column counted by the first `length` characters of its value. */
export const prefixDimension = ({
  column,
  length
}: {
  readonly column: string;
  readonly length: number;
}): string => `${column}/${length}`;

/** The `shipment_counts` dimension of a column counted by its substrings. */
export const substringDimension = ({
  column,
  length
}: {
  readonly column: string;
  readonly length: number;
}): string => `${column}/substrings/${length}`;

/** The `shipment_counts` dimension of a column whose values are counted by the substrings of their rows' keys. */
export const perValueKeySubstringDimension = ({
  column,
  length
}: {
  readonly column: string;
  readonly length: number;
}): string => `${column}/key-substrings-per-value/${length}`;

/** The `shipment_counts` dimension of a column counted by its substrings that the key holds too. */
export const keySubstringDimension = ({
  column,
  length
}: {
  readonly column: string;
  readonly length: number;
}): string => `${column}/key-substrings/${length}`;

/** A text folded as SQLite's `lower` folds it: ASCII letters alone. */
const foldAscii = (text: string): string => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * Calls `visit` with each substring of 1 to `length` characters of `value` (a substring held twice, twice), counting
 * characters as SQLite's `substr` does (code points: a character outside the Basic Multilingual Plane is one, not two
 * UTF-16 units).
 */
function forEachSubstring(value: string, length: number, visit: (substring: string) => void): void {
  const characters = /[\uD800-\uDFFF]/.test(value) ? Array.from(value) : undefined;
  const size = characters ? characters.length : value.length;
  for (let n = 1; n <= length; n++) {
    for (let i = 0; i + n <= size; i++) {
      visit(characters ? characters.slice(i, i + n).join('') : value.slice(i, i + n));
    }
  }
}

/** The triggers that keep a kind of counters (`name`: `<column>_substrings`, `<column>_key_substrings`). */
const counterTriggers = (name: string): string[] =>
  ['insert', 'delete', 'update'].map((event) => `shipment_counts_${name}_${event}`);

const substringTriggers = (counted: SubstringCountedColumn): string[] =>
  counterTriggers(`${counted.column}_substrings`);

const keySubstringTriggers = (counted: KeySubstringCountedColumn): string[] =>
  counterTriggers(`${counted.column}_key_substrings`);

/** Removes a dimension's counters (the row that marks them complete among them) and the triggers that keep them. */
function dropCounters(db: Database.Database, dimension: string, triggers: readonly string[]): void {
  db.prepare('DELETE FROM shipment_counts WHERE dimension = ?').run(dimension);
  for (const trigger of triggers) db.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
}

/**
 * Installs the triggers that keep a dimension's counters, `bump` writing a row's changes to them (`NEW` counted in
 * with `+`, `OLD` out with `-`), and the row that marks them complete (`n` the values counted, `values` of them).
 * An update that changes any of `columns` counts the old row out and the new one in.
 */
function installCounterTriggers(
  db: Database.Database,
  counted: { readonly dimension: string; readonly triggers: readonly string[] },
  columns: readonly string[],
  bump: (sign: '+' | '-', row: 'NEW' | 'OLD') => string,
  values: number
): void {
  const { dimension, triggers } = counted;
  const marker = (sign: '+' | '-', row: 'NEW' | 'OLD'): string => `
      INSERT INTO shipment_counts (dimension, value, n)
        SELECT '${dimension}', '', ${sign}1 WHERE ${row}.${columns[0]} IS NOT NULL
        ON CONFLICT (dimension, value) DO UPDATE SET n = n ${sign} 1;`;
  const both = (sign: '+' | '-', row: 'NEW' | 'OLD'): string =>
    `${bump(sign, row)}${marker(sign, row)}`;
  const [onInsert, onDelete, onUpdate] = triggers;
  db.exec(`
      CREATE TRIGGER ${onInsert} AFTER INSERT ON shipments BEGIN ${both('+', 'NEW')} END;
      CREATE TRIGGER ${onDelete} AFTER DELETE ON shipments BEGIN ${both('-', 'OLD')} END;
      CREATE TRIGGER ${onUpdate} AFTER UPDATE OF ${columns.join(', ')} ON shipments
        WHEN ${columns.map((c) => `OLD.${c} IS NOT NEW.${c}`).join(' OR ')} BEGIN
        ${both('-', 'OLD')}
        ${both('+', 'NEW')}
      END;
    `);
  db.prepare('INSERT INTO shipment_counts (dimension, value, n) VALUES (?, ?, ?)').run(
    dimension,
    '',
    values
  );
}

/**
 * Each substring of 1 to `length` characters of a row's `expression`, in SQL: the rows of a join of the value's
 * character positions, 0 to its length - 1 (the keys of a JSON array of that many zeros, since a trigger can use no
 * recursive query: zeroblob(n) is n zero bytes, whose hex is n times '00'), with the lengths 1 to `length`.
 */
const substringsOf = (
  expression: string,
  length: number
): { readonly from: string; readonly where: string; readonly substring: string } => ({
  from:
    `json_each('[' || rtrim(replace(hex(zeroblob(length(${expression}))), '00', '0,'), ',') || ']') AS p, ` +
    `json_each('[${Array.from({ length }, (_, i) => i + 1).join(',')}]') AS l`,
  where: `p.key + l.value <= length(${expression})`,
  substring: `substr(${expression}, p.key + 1, l.value)`
});

/**
 * Removes the substring counters of `columns`, the row that marks them complete and their triggers, before a bulk
 * load (see SHIPMENT_SUBSTRING_COUNTED_COLUMNS).
 */
export function dropShipmentSubstringCounters(
  db: Database.Database,
  columns: readonly SubstringCountedColumn[] = SHIPMENT_SUBSTRING_COUNTED_COLUMNS
): void {
  for (const counted of columns) {
    dropCounters(db, substringDimension(counted), substringTriggers(counted));
  }
}

/**
 * Counts the rows present by the substrings of `columns` (in JavaScript: grouping every substring in SQL sorts 4n
 * rows per value), then installs the triggers that keep the counters exact, and the row that marks them complete.
 */
export function installShipmentSubstringCounters(
  db: Database.Database,
  columns: readonly SubstringCountedColumn[] = SHIPMENT_SUBSTRING_COUNTED_COLUMNS
): void {
  // One transaction (a savepoint inside a migration's): the counters are written at once, and are all or none.
  db.transaction(() => {
    dropShipmentSubstringCounters(db, columns);
    for (const counted of columns) {
      const { column, length } = counted;
      const dimension = substringDimension(counted);
      // Per substring, the values that hold it, and the last of them (so that a value counts once).
      const counts = new Map<string, { n: number; last: number }>();
      let values = 0;
      const read = db
        .prepare(`SELECT ${column} FROM shipments WHERE ${column} IS NOT NULL`)
        .pluck();
      for (const value of read.iterate() as IterableIterator<string>) {
        const current = ++values;
        forEachSubstring(String(value), length, (substring) => {
          const count = counts.get(substring);
          if (!count) counts.set(substring, { n: 1, last: current });
          else if (count.last !== current) {
            count.n++;
            count.last = current;
          }
        });
      }
      const insert = db.prepare(
        'INSERT INTO shipment_counts (dimension, value, n) VALUES (?, ?, ?)'
      );
      for (const [substring, { n }] of counts) insert.run(dimension, `v:${substring}`, n);
      const bump = (sign: '+' | '-', row: 'NEW' | 'OLD'): string => {
        const { from, where, substring } = substringsOf(`${row}.${column}`, length);
        return `
      INSERT INTO shipment_counts (dimension, value, n)
        SELECT DISTINCT '${dimension}', 'v:' || ${substring}, ${sign}1 FROM ${from} WHERE ${where}
        ON CONFLICT (dimension, value) DO UPDATE SET n = n ${sign} 1;`;
      };
      installCounterTriggers(
        db,
        { dimension, triggers: substringTriggers(counted) },
        [column],
        bump,
        values
      );
    }
  })();
}

/**
 * Removes the key-substring counters of `columns`, the row that marks them complete and their triggers, before a
 * bulk load (see SHIPMENT_KEY_SUBSTRING_COUNTED_COLUMNS).
 */
export function dropShipmentKeySubstringCounters(
  db: Database.Database,
  columns: readonly KeySubstringCountedColumn[] = SHIPMENT_KEY_SUBSTRING_COUNTED_COLUMNS
): void {
  for (const counted of columns) {
    dropCounters(db, keySubstringDimension(counted), keySubstringTriggers(counted));
  }
}

/**
 * Counts the rows present by each substring of their value that their key holds too (in JavaScript, each distinct
 * value's substrings found once), then installs the triggers that keep the counters exact, and the row that marks
 * them complete (see SHIPMENT_KEY_SUBSTRING_COUNTED_COLUMNS).
 */
export function installShipmentKeySubstringCounters(
  db: Database.Database,
  columns: readonly KeySubstringCountedColumn[] = SHIPMENT_KEY_SUBSTRING_COUNTED_COLUMNS
): void {
  db.transaction(() => {
    dropShipmentKeySubstringCounters(db, columns);
    for (const counted of columns) {
      const { column, key, length } = counted;
      const dimension = keySubstringDimension(counted);
      // Per value, its distinct folded substrings, and how many rows' keys hold each.
      const counts = new Map<string, { substrings: string[]; held: number[] }>();
      let values = 0;
      const read = db
        .prepare(`SELECT ${column}, ${key} FROM shipments WHERE ${column} IS NOT NULL`)
        .raw();
      for (const [value, keyValue] of read.iterate() as IterableIterator<[unknown, unknown]>) {
        values++;
        const text = String(value);
        let count = counts.get(text);
        if (!count) {
          const distinct = new Set<string>();
          forEachSubstring(foldAscii(text), length, (substring) => distinct.add(substring));
          count = { substrings: [...distinct], held: Array<number>(distinct.size).fill(0) };
          counts.set(text, count);
        }
        if (keyValue === null) continue;
        const folded = foldAscii(String(keyValue));
        count.substrings.forEach((substring, i) => {
          if (folded.includes(substring)) count.held[i]!++;
        });
      }
      const insert = db.prepare(
        'INSERT INTO shipment_counts (dimension, value, n) VALUES (?, json_array(?, ?), ?)'
      );
      for (const [value, { substrings, held }] of counts) {
        substrings.forEach((substring, i) => {
          if (held[i]! > 0) insert.run(dimension, value, substring, held[i]);
        });
      }
      const bump = (sign: '+' | '-', row: 'NEW' | 'OLD'): string => {
        const { from, where, substring } = substringsOf(`lower(${row}.${column})`, length);
        return `
      INSERT INTO shipment_counts (dimension, value, n)
        SELECT DISTINCT '${dimension}', json_array(${row}.${column}, ${substring}), ${sign}1 FROM ${from}
        WHERE ${where} AND instr(lower(${row}.${key}), ${substring}) > 0
        ON CONFLICT (dimension, value) DO UPDATE SET n = n ${sign} 1;`;
      };
      installCounterTriggers(
        db,
        { dimension, triggers: keySubstringTriggers(counted) },
        [column, key],
        bump,
        values
      );
    }
  })();
}

const perValueKeySubstringTriggers = (counted: PerValueKeySubstringCountedColumn): string[] =>
  counterTriggers(`${counted.column}_per_value_key_substrings`);

/**
 * Removes the per-value key-substring counters of `columns`, the rows that mark them complete and their triggers,
 * before a bulk load (see SHIPMENT_PER_VALUE_KEY_SUBSTRING_COUNTED_COLUMNS).
 */
export function dropShipmentPerValueKeySubstringCounters(
  db: Database.Database,
  columns: readonly PerValueKeySubstringCountedColumn[] = SHIPMENT_PER_VALUE_KEY_SUBSTRING_COUNTED_COLUMNS
): void {
  for (const counted of columns) {
    dropCounters(db, perValueKeySubstringDimension(counted), perValueKeySubstringTriggers(counted));
  }
}

/**
 * Counts the rows of each value of `columns` with at least `minRows` rows by the distinct substrings of their key (in
 * JavaScript, reading the value's rows through its index), writes the row that marks each value complete, then
 * installs the triggers that keep them exact (see SHIPMENT_PER_VALUE_KEY_SUBSTRING_COUNTED_COLUMNS).
 */
export function installShipmentPerValueKeySubstringCounters(
  db: Database.Database,
  columns: readonly PerValueKeySubstringCountedColumn[] = SHIPMENT_PER_VALUE_KEY_SUBSTRING_COUNTED_COLUMNS
): void {
  db.transaction(() => {
    dropShipmentPerValueKeySubstringCounters(db, columns);
    for (const counted of columns) {
      const { column, key, length, minRows } = counted;
      const dimension = perValueKeySubstringDimension(counted);
      const large = db
        .prepare(
          `SELECT ${column} FROM shipments WHERE ${column} IS NOT NULL GROUP BY ${column} HAVING count(*) >= ?`
        )
        .pluck()
        .all(minRows) as unknown[];
      const keys = db.prepare(`SELECT ${key} FROM shipments WHERE ${column} = ?`).pluck();
      const insert = db.prepare(
        'INSERT INTO shipment_counts (dimension, value, n) VALUES (?, json_array(?, ?), ?)'
      );
      for (const value of large) {
        const held = new Map<string, number>();
        let rows = 0;
        for (const keyValue of keys.iterate(value) as IterableIterator<unknown>) {
          rows++;
          if (keyValue === null) continue;
          const distinct = new Set<string>();
          forEachSubstring(String(keyValue), length, (substring) => distinct.add(substring));
          for (const substring of distinct) held.set(substring, (held.get(substring) ?? 0) + 1);
        }
        for (const [substring, n] of held) insert.run(dimension, value, substring, n);
        insert.run(dimension, value, '', rows);
      }
      const marker = (row: 'NEW' | 'OLD'): string =>
        `SELECT 1 FROM shipment_counts WHERE dimension = '${dimension}' AND value = json_array(${row}.${column}, '')`;
      // A row of a value without its marker changes nothing: the value is not counted.
      const bump = (sign: '+' | '-', row: 'NEW' | 'OLD'): string => {
        const { from, where, substring } = substringsOf(`${row}.${key}`, length);
        return `
      INSERT INTO shipment_counts (dimension, value, n)
        SELECT DISTINCT '${dimension}', json_array(${row}.${column}, ${substring}), ${sign}1 FROM ${from}
        WHERE ${where} AND EXISTS (${marker(row)})
        ON CONFLICT (dimension, value) DO UPDATE SET n = n ${sign} 1;
      UPDATE shipment_counts SET n = n ${sign} 1
        WHERE dimension = '${dimension}' AND value = json_array(${row}.${column}, '');`;
      };
      const [onInsert, onDelete, onUpdate] = perValueKeySubstringTriggers(counted);
      db.exec(`
      CREATE TRIGGER ${onInsert} AFTER INSERT ON shipments WHEN EXISTS (${marker('NEW')})
        BEGIN ${bump('+', 'NEW')} END;
      CREATE TRIGGER ${onDelete} AFTER DELETE ON shipments WHEN EXISTS (${marker('OLD')})
        BEGIN ${bump('-', 'OLD')} END;
      CREATE TRIGGER ${onUpdate} AFTER UPDATE OF ${column}, ${key} ON shipments
        WHEN (OLD.${column} IS NOT NEW.${column} OR OLD.${key} IS NOT NEW.${key})
          AND (EXISTS (${marker('OLD')}) OR EXISTS (${marker('NEW')}))
        BEGIN ${bump('-', 'OLD')} ${bump('+', 'NEW')} END;
    `);
    }
  })();
}

/** The counter key of a column value (NULL has its own key). */
const counterValue = (ref: string): string =>
  `CASE WHEN ${ref} IS NULL THEN 'null' ELSE 'v:' || ${ref} END`;

/**
 * Creates `shipment_counts` (`dimension` = a column of SHIPMENT_COUNTED_COLUMNS, or `*` for the table; `value` =
 * `v:<value>` or `null`), fills it from the rows present and installs the triggers that keep it exact.
 */
export function installShipmentCounters(db: Database.Database): void {
  const bump = (sign: '+' | '-', row: 'NEW' | 'OLD', column: string): string =>
    `INSERT INTO shipment_counts (dimension, value, n) VALUES ('${column}', ${counterValue(`${row}.${column}`)}, ${sign}1)
       ON CONFLICT (dimension, value) DO UPDATE SET n = n ${sign} 1;`;
  db.exec(`
    CREATE TABLE IF NOT EXISTS shipment_counts (
      dimension TEXT NOT NULL,
      value     TEXT NOT NULL,
      n         INTEGER NOT NULL,
      PRIMARY KEY (dimension, value)
    ) WITHOUT ROWID;
    DELETE FROM shipment_counts;
    INSERT INTO shipment_counts (dimension, value, n) SELECT '*', '', count(*) FROM shipments;
    ${SHIPMENT_COUNTED_COLUMNS.map(
      (c) =>
        `INSERT INTO shipment_counts (dimension, value, n)
           SELECT '${c}', ${counterValue(c)}, count(*) FROM shipments GROUP BY ${c};`
    ).join('\n')}
    CREATE TRIGGER IF NOT EXISTS shipment_counts_insert AFTER INSERT ON shipments BEGIN
      INSERT INTO shipment_counts (dimension, value, n) VALUES ('*', '', 1)
        ON CONFLICT (dimension, value) DO UPDATE SET n = n + 1;
      ${SHIPMENT_COUNTED_COLUMNS.map((c) => bump('+', 'NEW', c)).join('\n')}
    END;
    CREATE TRIGGER IF NOT EXISTS shipment_counts_delete AFTER DELETE ON shipments BEGIN
      UPDATE shipment_counts SET n = n - 1 WHERE dimension = '*';
      ${SHIPMENT_COUNTED_COLUMNS.map((c) => bump('-', 'OLD', c)).join('\n')}
    END;
    ${SHIPMENT_COUNTED_COLUMNS.map(
      (
        c
      ) => `CREATE TRIGGER IF NOT EXISTS shipment_counts_update_${c} AFTER UPDATE OF ${c} ON shipments
        WHEN OLD.${c} IS NOT NEW.${c} BEGIN
        ${bump('-', 'OLD', c)}
        ${bump('+', 'NEW', c)}
      END;`
    ).join('\n')}
  `);
}

/**
 * Adds to `shipment_counts` the counts by prefix of `columns` (of SHIPMENT_PREFIX_COUNTED_COLUMNS), from the rows
 * present, and the triggers that keep them exact.
 */
export function installShipmentPrefixCounters(
  db: Database.Database,
  columns: readonly PrefixCountedColumn[]
): void {
  for (const counted of columns) {
    const { column, length } = counted;
    const dimension = prefixDimension(counted);
    const value = (row: string): string => counterValue(`substr(${row}${column}, 1, ${length})`);
    const bump = (sign: '+' | '-', row: 'NEW' | 'OLD'): string =>
      `INSERT INTO shipment_counts (dimension, value, n) VALUES ('${dimension}', ${value(`${row}.`)}, ${sign}1)
         ON CONFLICT (dimension, value) DO UPDATE SET n = n ${sign} 1;`;
    const trigger = `shipment_counts_${column}_${length}`;
    db.exec(`
      DELETE FROM shipment_counts WHERE dimension = '${dimension}';
      INSERT INTO shipment_counts (dimension, value, n)
        SELECT '${dimension}', ${value('')}, count(*) FROM shipments GROUP BY 2;
      CREATE TRIGGER IF NOT EXISTS ${trigger}_insert AFTER INSERT ON shipments BEGIN ${bump('+', 'NEW')} END;
      CREATE TRIGGER IF NOT EXISTS ${trigger}_delete AFTER DELETE ON shipments BEGIN ${bump('-', 'OLD')} END;
      CREATE TRIGGER IF NOT EXISTS ${trigger}_update AFTER UPDATE OF ${column} ON shipments
        WHEN substr(OLD.${column}, 1, ${length}) IS NOT substr(NEW.${column}, 1, ${length}) BEGIN
        ${bump('-', 'OLD')}
        ${bump('+', 'NEW')}
      END;
    `);
  }
}

/**
 * data-virtualization: tuples of counted columns whose rows `shipment_tuple_counts` counts by their values together
 * (dimension `<a>|<b>|…`, key the JSON array of the values, NULL as `null`): the three with few values (status,
 * carrier, city: 6 × 5 × 20 at 10M rows) as one tuple, and the customer with each of them. A count of filters on
 * several of those columns (`Status eq … or Carrier eq …`, a customer's shipments not yet delivered) is then the sum
 * over the tuples of values it holds for, where counting the rows reads millions of index entries (1.8 s for
 * `Status eq 'Delivered' or Carrier eq 'UPS'` at 10M rows). About 12,000 counters at 10M rows; one more counter
 * update per tuple for every inserted or deleted row, and two per tuple whose values an update changes.
 */
export const SHIPMENT_COUNTED_TUPLES = [
  ['status', 'carrier', 'destination_city'],
  ['customer_number', 'status'],
  ['customer_number', 'carrier'],
  ['customer_number', 'destination_city']
] as const satisfies readonly (readonly (typeof SHIPMENT_COUNTED_COLUMNS)[number][])[];

/** Creates `shipment_tuple_counts` for SHIPMENT_COUNTED_TUPLES, fills it from the rows present, and its triggers. */
export function installShipmentTupleCounters(db: Database.Database): void {
  const dimension = (tuple: readonly string[]): string => tuple.join('|');
  const key = (tuple: readonly string[], row: string): string =>
    `json_array(${tuple.map((c) => `${row}${c}`).join(', ')})`;
  const bump = (sign: '+' | '-', row: 'NEW' | 'OLD', tuple: readonly string[]): string =>
    `INSERT INTO shipment_tuple_counts (dimension, key, n)
       VALUES ('${dimension(tuple)}', ${key(tuple, `${row}.`)}, ${sign}1)
       ON CONFLICT (dimension, key) DO UPDATE SET n = n ${sign} 1;`;
  db.exec(`
    CREATE TABLE IF NOT EXISTS shipment_tuple_counts (
      dimension TEXT NOT NULL,
      key       TEXT NOT NULL,
      n         INTEGER NOT NULL,
      PRIMARY KEY (dimension, key)
    ) WITHOUT ROWID;
    DELETE FROM shipment_tuple_counts;
    ${SHIPMENT_COUNTED_TUPLES.map(
      (tuple) =>
        `INSERT INTO shipment_tuple_counts (dimension, key, n)
           SELECT '${dimension(tuple)}', ${key(tuple, '')}, count(*) FROM shipments GROUP BY ${tuple.join(', ')};`
    ).join('\n')}
    CREATE TRIGGER IF NOT EXISTS shipment_tuple_counts_insert AFTER INSERT ON shipments BEGIN
      ${SHIPMENT_COUNTED_TUPLES.map((tuple) => bump('+', 'NEW', tuple)).join('\n')}
    END;
    CREATE TRIGGER IF NOT EXISTS shipment_tuple_counts_delete AFTER DELETE ON shipments BEGIN
      ${SHIPMENT_COUNTED_TUPLES.map((tuple) => bump('-', 'OLD', tuple)).join('\n')}
    END;
    ${SHIPMENT_COUNTED_TUPLES.map(
      (tuple) => `CREATE TRIGGER IF NOT EXISTS shipment_tuple_counts_update_${tuple.join('_')}
        AFTER UPDATE OF ${tuple.join(', ')} ON shipments
        WHEN ${tuple.map((c) => `OLD.${c} IS NOT NEW.${c}`).join(' OR ')} BEGIN
        ${bump('-', 'OLD', tuple)}
        ${bump('+', 'NEW', tuple)}
      END;`
    ).join('\n')}
  `);
}

/**
 * Creates `table_versions` and the triggers that keep the versions of `table`: the row `<table>` counts inserts and
 * deletes (the set of rows changed), and a row `<table>.<column>` per column counts the updates that changed that
 * column's value. A reader compares the versions it depends on in one small query (data-virtualization keeps deep
 * `$skip` positions of an ordering while the row set and the columns it sorts and filters by stay unchanged, so the
 * ui-update simulator's status changes do not forget the positions of a city order). A column added later needs its
 * own trigger. Cost: one tiny-row update per written row and per changed column; a rolled-back write rolls its
 * bumps back too.
 */
export function installTableVersions(db: Database.Database, table: string): void {
  const columns = (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
  const bump = (name: string): string =>
    `UPDATE table_versions SET version = version + 1 WHERE name = '${name}';`;
  db.exec(`
    CREATE TABLE IF NOT EXISTS table_versions (
      name    TEXT PRIMARY KEY,
      version INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO table_versions (name, version) VALUES
      ${[table, ...columns.map((c) => `${table}.${c}`)].map((n) => `('${n}', 0)`).join(', ')};
    CREATE TRIGGER IF NOT EXISTS ${table}_version_insert AFTER INSERT ON ${table} BEGIN ${bump(table)} END;
    CREATE TRIGGER IF NOT EXISTS ${table}_version_delete AFTER DELETE ON ${table} BEGIN ${bump(table)} END;
    ${columns
      .map(
        (c) => `CREATE TRIGGER IF NOT EXISTS ${table}_version_${c} AFTER UPDATE OF ${c} ON ${table}
      WHEN OLD.${c} IS NOT NEW.${c} BEGIN ${bump(`${table}.${c}`)} END;`
      )
      .join('\n')}
  `);
}

/**
 * Creates `<table>_changes`, a short log of the rows written to `table`: an insert logs the new row with sign +1, a
 * delete the old row with -1, an update that changes any column both (-1 old, +1 new). Each entry is a full row image
 * under the table's own column names and types, so any condition written for the table also reads the log: a reader
 * that knows how many rows of a filtered order lie before some key can bring that number up to date by counting the
 * logged rows that match and sort before it (data-virtualization repairs its deep `$skip` positions this way instead
 * of forgetting them after every write). Entries are numbered by `change_seq`; the oldest are pruned once
 * `retained` more have been written (every 1,024th entry deletes a block), so readers must check that the log still
 * reaches back to where they last read. Cost: one log row per inserted or deleted row, two per updated row.
 */
export function installChangeLog(db: Database.Database, table: string, retained = 4096): void {
  const columns = db.pragma(`table_info(${table})`) as { name: string; type: string }[];
  const log = `${table}_changes`;
  const names = columns.map((c) => c.name).join(', ');
  const image = (row: 'NEW' | 'OLD'): string => columns.map((c) => `${row}.${c.name}`).join(', ');
  const entry = (sign: 1 | -1, row: 'NEW' | 'OLD'): string =>
    `INSERT INTO ${log} (change_sign, ${names}) VALUES (${sign}, ${image(row)});`;
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${log} (
      change_seq  INTEGER PRIMARY KEY,
      change_sign INTEGER NOT NULL CHECK (change_sign IN (-1, 1)),
      ${columns.map((c) => `${c.name} ${c.type}`).join(',\n      ')}
    );
    CREATE TRIGGER IF NOT EXISTS ${log}_insert AFTER INSERT ON ${table} BEGIN ${entry(1, 'NEW')} END;
    CREATE TRIGGER IF NOT EXISTS ${log}_delete AFTER DELETE ON ${table} BEGIN ${entry(-1, 'OLD')} END;
    CREATE TRIGGER IF NOT EXISTS ${log}_update AFTER UPDATE ON ${table}
      WHEN ${columns.map((c) => `OLD.${c.name} IS NOT NEW.${c.name}`).join(' OR ')} BEGIN
      ${entry(-1, 'OLD')}
      ${entry(1, 'NEW')}
    END;
    CREATE TRIGGER IF NOT EXISTS ${log}_prune AFTER INSERT ON ${log} WHEN NEW.change_seq % 1024 = 0 BEGIN
      DELETE FROM ${log} WHERE change_seq <= NEW.change_seq - ${retained};
    END;
  `);
}

/**
 * Creates `<table>_<column>_trigrams`, an FTS5 `trigram` index of one text column, kept by triggers: a substring of
 * three characters or more is then found among millions of values by reading the index entries of its trigrams
 * instead of testing every value (`contains`/`endswith` on a key at 10M rows: an index walk of seconds otherwise).
 * The index holds no copy of the text (`content=` the table itself), no positions (`detail=none`) and no value
 * sizes (`columnsize=0`: nothing here ranks), so it answers "rows holding every one of these trigrams", case-folded:
 * a superset a reader narrows with its own exact test. It is built and then merged into one segment (`optimize`,
 * a quarter less to read per query). It is kept by the table's rowids, which a `VACUUM` of a table with no
 * `INTEGER PRIMARY KEY` may renumber; after one, rebuild it (`INSERT INTO <name>(<name>) VALUES ('rebuild')`).
 * Cost: about 13 MB per million 14-character values, and one index insert (and delete) per written value. Returns
 * the index's name.
 */
export function installSubstringIndex(
  db: Database.Database,
  table: string,
  column: string
): string {
  const index = `${table}_${column}_trigrams`;
  const remove = `INSERT INTO ${index} (${index}, rowid, ${column}) VALUES ('delete', OLD.rowid, OLD.${column});`;
  const add = `INSERT INTO ${index} (rowid, ${column}) VALUES (NEW.rowid, NEW.${column});`;
  db.exec(`
    CREATE VIRTUAL TABLE IF NOT EXISTS ${index} USING fts5(
      ${column}, content = '${table}', content_rowid = 'rowid', tokenize = 'trigram', detail = 'none',
      columnsize = 0
    );
    INSERT INTO ${index} (${index}) VALUES ('rebuild');
    INSERT INTO ${index} (${index}) VALUES ('optimize');
    CREATE TRIGGER IF NOT EXISTS ${index}_insert AFTER INSERT ON ${table} BEGIN ${add} END;
    CREATE TRIGGER IF NOT EXISTS ${index}_delete AFTER DELETE ON ${table} BEGIN ${remove} END;
    CREATE TRIGGER IF NOT EXISTS ${index}_update AFTER UPDATE OF ${column} ON ${table}
      WHEN OLD.${column} IS NOT NEW.${column} BEGIN ${remove} ${add} END;
  `);
  return index;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'customers, products and inventory',
    up: (db) => {
      db.exec(`
        CREATE TABLE customers (
          customer_number    TEXT PRIMARY KEY CHECK (customer_number GLOB 'C-[0-9][0-9][0-9][0-9][0-9][0-9]'),
          name               TEXT NOT NULL,
          industry           TEXT NOT NULL,
          city               TEXT NOT NULL,
          country            TEXT NOT NULL,
          credit_limit_cents INTEGER NOT NULL CHECK (credit_limit_cents >= 0),
          balance_cents      INTEGER NOT NULL CHECK (balance_cents >= 0),
          risk_rating        TEXT NOT NULL CHECK (risk_rating IN ('A', 'B', 'C', 'D')),
          on_hold            INTEGER NOT NULL DEFAULT 0 CHECK (on_hold IN (0, 1))
        ) WITHOUT ROWID;

        CREATE TABLE products (
          product_code     TEXT PRIMARY KEY CHECK (product_code GLOB 'P-[0-9][0-9][0-9][0-9][0-9]'),
          name             TEXT NOT NULL,
          family           TEXT NOT NULL,
          unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
          currency         TEXT NOT NULL CHECK (length(currency) = 3),
          active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
        ) WITHOUT ROWID;

        CREATE TABLE inventory (
          product_code   TEXT NOT NULL REFERENCES products (product_code),
          warehouse_code TEXT NOT NULL,
          on_hand        INTEGER NOT NULL CHECK (on_hand >= 0),
          reserved       INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
          PRIMARY KEY (product_code, warehouse_code)
        ) WITHOUT ROWID;
      `);
    }
  },
  {
    version: 2,
    name: 'orders, order lines and invoices',
    up: (db) => {
      db.exec(`
        CREATE TABLE orders (
          order_number            TEXT PRIMARY KEY,
          customer_number         TEXT NOT NULL REFERENCES customers (customer_number),
          external_order_number   TEXT UNIQUE,
          salesforce_order_id     TEXT,
          status                  TEXT NOT NULL
                                  CHECK (status IN ('Draft', 'Booked', 'Shipped', 'Invoiced', 'Cancelled')),
          order_date              TEXT NOT NULL,
          currency                TEXT NOT NULL CHECK (length(currency) = 3),
          total_cents             INTEGER NOT NULL CHECK (total_cents >= 0),
          created_at              TEXT NOT NULL,
          updated_at              TEXT NOT NULL
        );
        CREATE INDEX orders_customer ON orders (customer_number, order_date);

        CREATE TABLE order_lines (
          order_number     TEXT NOT NULL REFERENCES orders (order_number) ON DELETE CASCADE,
          line_number      INTEGER NOT NULL CHECK (line_number > 0),
          product_code     TEXT NOT NULL REFERENCES products (product_code),
          quantity         INTEGER NOT NULL CHECK (quantity > 0),
          unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
          PRIMARY KEY (order_number, line_number)
        ) WITHOUT ROWID;

        -- salesforce_opportunity_id is UNIQUE so a redelivered "closed won" event cannot create a second invoice.
        CREATE TABLE invoices (
          invoice_number            TEXT PRIMARY KEY,
          customer_number           TEXT NOT NULL REFERENCES customers (customer_number),
          order_number              TEXT REFERENCES orders (order_number),
          salesforce_opportunity_id TEXT UNIQUE,
          status                    TEXT NOT NULL CHECK (status IN ('Open', 'Paid', 'Overdue', 'Void')),
          issued_on                 TEXT NOT NULL,
          due_on                    TEXT NOT NULL,
          amount_cents              INTEGER NOT NULL CHECK (amount_cents >= 0),
          paid_cents                INTEGER NOT NULL DEFAULT 0 CHECK (paid_cents >= 0),
          currency                  TEXT NOT NULL CHECK (length(currency) = 3),
          created_at                TEXT NOT NULL
        );
        CREATE INDEX invoices_customer ON invoices (customer_number, issued_on);
      `);
    }
  },
  {
    version: 3,
    name: 'shipments',
    up: (db) => {
      db.exec(`
        CREATE TABLE shipments (
          shipment_number     TEXT PRIMARY KEY,
          customer_number     TEXT NOT NULL,
          order_number        TEXT,
          carrier             TEXT,
          service_level       TEXT,
          status              TEXT CHECK (status IN ('Label Created', 'In Transit', 'Out for Delivery',
                                                     'Delivered', 'Exception', 'Returned')),
          origin_warehouse    TEXT,
          destination_city    TEXT,
          destination_country TEXT,
          weight_kg           REAL,
          package_count       INTEGER,
          declared_value      REAL,
          shipped_at          TEXT,
          estimated_delivery  TEXT,
          delivered_at        TEXT,
          is_insured          INTEGER CHECK (is_insured IN (0, 1))
        );
      `);
      for (const index of SHIPMENT_INDEXES) db.exec(index.sql);
    }
  },
  {
    version: 4,
    name: 'shipments (status, shipped_at) index for data-virtualization',
    up: (db) => {
      db.exec(
        'CREATE INDEX IF NOT EXISTS shipments_status_shipped_at ON shipments (status, shipped_at)'
      );
    }
  },
  {
    version: 6,
    name: 'Pub/Sub consumer checkpoints, processed events, dead letters; fire-and-forget invoice requests',
    up: (db) => {
      // Shared by every Pub/Sub consumer (src/salesforce/pubsub): one checkpoint per named consumer, the ledger of
      // handled event ids, and the dead letters. fire_and_forget_invoice_requests links each "closed won" event to
      // the invoice it created and is the outbox of the invoice number's write-back to Salesforce.
      db.exec(`
        CREATE TABLE pubsub_checkpoints (
          consumer           TEXT PRIMARY KEY,
          topic              TEXT NOT NULL,
          replay_id          TEXT NOT NULL,
          updated_at         TEXT NOT NULL,
          events_received    INTEGER NOT NULL DEFAULT 0,
          duplicates_ignored INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;

        CREATE TABLE pubsub_processed_events (
          consumer     TEXT NOT NULL,
          event_id     TEXT NOT NULL,
          replay_id    TEXT NOT NULL,
          outcome      TEXT NOT NULL CHECK (outcome IN ('applied', 'duplicate', 'dead-lettered')),
          processed_at TEXT NOT NULL,
          PRIMARY KEY (consumer, event_id)
        ) WITHOUT ROWID;

        CREATE TABLE pubsub_dead_letters (
          id           INTEGER PRIMARY KEY,
          consumer     TEXT NOT NULL,
          topic        TEXT NOT NULL,
          event_id     TEXT NOT NULL,
          replay_id    TEXT NOT NULL,
          schema_id    TEXT NOT NULL,
          payload_json TEXT,
          payload_avro BLOB NOT NULL,
          error        TEXT NOT NULL,
          attempts     INTEGER NOT NULL CHECK (attempts > 0),
          status       TEXT NOT NULL CHECK (status IN ('open', 'replayed', 'discarded')),
          created_at   TEXT NOT NULL,
          resolved_at  TEXT
        );
        CREATE INDEX pubsub_dead_letters_consumer ON pubsub_dead_letters (consumer, status, id);

        CREATE TABLE fire_and_forget_invoice_requests (
          id                 INTEGER PRIMARY KEY,
          event_id           TEXT NOT NULL UNIQUE,
          replay_id          TEXT NOT NULL,
          opportunity_id     TEXT NOT NULL,
          invoice_number     TEXT NOT NULL REFERENCES invoices (invoice_number),
          correlation_id     TEXT,
          line_summary       TEXT,
          outcome            TEXT NOT NULL CHECK (outcome IN ('created', 'already-invoiced')),
          received_at        TEXT NOT NULL,
          writeback_status   TEXT NOT NULL CHECK (writeback_status IN ('pending', 'done', 'failed')),
          writeback_attempts INTEGER NOT NULL DEFAULT 0,
          writeback_error    TEXT,
          next_attempt_at    TEXT
        );
        CREATE INDEX fire_and_forget_writeback ON fire_and_forget_invoice_requests (writeback_status, next_attempt_at);
      `);
    }
  },
  {
    version: 7,
    name: 'batch-sync: catalog export, Bulk API 2.0 load runs and jobs',
    up: (db) => {
      // The catalog export the Bulk API 2.0 loader reads in key order (millions of rows: the products table's
      // P-00000 codes stop at 99,999), and the ledger that makes an interrupted load resumable: every job with
      // the key range it carries, so a resumed run re-polls open jobs and sends only rows after the last range.
      db.exec(`
        CREATE TABLE batch_sync_catalog (
          sku              TEXT PRIMARY KEY,
          name             TEXT NOT NULL,
          family           TEXT NOT NULL,
          description      TEXT,
          unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
          active           INTEGER NOT NULL CHECK (active IN (0, 1))
        ) WITHOUT ROWID;

        CREATE TABLE batch_sync_runs (
          run_id        TEXT PRIMARY KEY,
          object        TEXT NOT NULL,
          external_id   TEXT NOT NULL,
          row_limit     INTEGER NOT NULL,
          status        TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
          started_at    TEXT NOT NULL,
          finished_at   TEXT,
          summary_json  TEXT
        );

        CREATE TABLE batch_sync_jobs (
          job_id        TEXT PRIMARY KEY,
          run_id        TEXT NOT NULL REFERENCES batch_sync_runs (run_id),
          seq           INTEGER NOT NULL,
          kind          TEXT NOT NULL CHECK (kind IN ('load', 'retry')),
          first_key     TEXT,
          last_key      TEXT,
          row_count     INTEGER NOT NULL,
          byte_count    INTEGER NOT NULL,
          state         TEXT NOT NULL,
          processed     INTEGER,
          failed        INTEGER,
          succeeded     INTEGER,
          unprocessed   INTEGER,
          retryable     INTEGER,
          error_message TEXT,
          updated_at    TEXT NOT NULL,
          UNIQUE (run_id, seq)
        );
      `);
    }
  },
  {
    version: 8,
    name: 'data-virtualization: shipment indexes for every sortable and filterable Shipment__x field',
    up: (db) => {
      // Replaces the four indexes of migrations 3 and 4 with ones that end in the key, so every order the producer
      // sends to SQLite is read from an index in both directions with no sort step (see SHIPMENT_INDEXES). On an
      // existing 10M-row database this builds 21 indexes: minutes, and GBs of disk (the pattern's docs page).
      for (const name of REPLACED_SHIPMENT_INDEXES) db.exec(`DROP INDEX IF EXISTS ${name}`);
      for (const index of SHIPMENT_INDEXES) db.exec(index.sql);
      installShipmentCounters(db);
      db.exec('ANALYZE shipments');
    }
  },
  {
    version: 9,
    name: 'ui-update: shipment status events outbox',
    up: (db) => {
      // A status change and its event commit together (a transactional outbox): the publisher drains pending rows
      // to the Pub/Sub API and records each PublishResult, so no change is lost between the database and Salesforce
      // and every rejected or failed event stays visible until it is re-queued.
      db.exec(`
        CREATE TABLE ui_update_outbox (
          event_id        TEXT PRIMARY KEY,
          shipment_number TEXT NOT NULL,
          customer_number TEXT NOT NULL,
          status          TEXT NOT NULL,
          previous_status TEXT,
          payload_json    TEXT NOT NULL,
          state           TEXT NOT NULL CHECK (state IN ('pending', 'published', 'rejected', 'failed')),
          attempts        INTEGER NOT NULL DEFAULT 0,
          replay_id       TEXT,
          error_code      TEXT,
          error_message   TEXT,
          created_at      TEXT NOT NULL,
          updated_at      TEXT NOT NULL
        );
        CREATE INDEX ui_update_outbox_state ON ui_update_outbox (state, created_at);
      `);
    }
  },
  {
    version: 11,
    name: 'event-driven: customer change consumers (links, segments, change history, resync requests, positions, knobs)',
    up: (db) => {
      // Three independent consumers of one Account change stream, each with its own tables (their checkpoints,
      // ledgers and dead letters are the shared pubsub_* tables of migration 6, keyed by consumer name).
      db.exec(`
        CREATE TABLE event_driven_customer_links (
          account_id            TEXT PRIMARY KEY,
          customer_number       TEXT NOT NULL,
          deleted               INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
          last_commit_timestamp INTEGER NOT NULL,
          source                TEXT NOT NULL CHECK (source IN ('event', 're-read')),
          updated_at            TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE event_driven_segment_members (
          account_id            TEXT PRIMARY KEY,
          industry              TEXT,
          annual_revenue        REAL,
          employees             INTEGER,
          country               TEXT,
          segment               TEXT NOT NULL,
          deleted               INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
          last_commit_timestamp INTEGER NOT NULL,
          updated_at            TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE event_driven_change_history (
          event_id         TEXT NOT NULL,
          record_id        TEXT NOT NULL,
          change_type      TEXT NOT NULL,
          changed_fields   TEXT NOT NULL,
          nulled_fields    TEXT NOT NULL,
          commit_timestamp INTEGER NOT NULL,
          transaction_key  TEXT NOT NULL,
          received_at      TEXT NOT NULL,
          PRIMARY KEY (event_id, record_id)
        ) WITHOUT ROWID;

        CREATE TABLE event_driven_change_counts (
          day         TEXT NOT NULL,
          change_type TEXT NOT NULL,
          events      INTEGER NOT NULL,
          records     INTEGER NOT NULL,
          PRIMARY KEY (day, change_type)
        ) WITHOUT ROWID;

        CREATE TABLE event_driven_resync_requests (
          id               INTEGER PRIMARY KEY,
          consumer         TEXT NOT NULL,
          entity           TEXT NOT NULL,
          reason           TEXT NOT NULL,
          event_id         TEXT NOT NULL,
          commit_timestamp INTEGER NOT NULL,
          status           TEXT NOT NULL CHECK (status IN ('open', 'done')),
          requested_at     TEXT NOT NULL,
          UNIQUE (consumer, event_id)
        );

        CREATE TABLE event_driven_positions (
          consumer              TEXT PRIMARY KEY,
          last_event_id         TEXT NOT NULL,
          last_change_type      TEXT NOT NULL,
          last_commit_timestamp INTEGER NOT NULL,
          updated_at            TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE event_driven_knobs (
          consumer TEXT PRIMARY KEY,
          mode     TEXT NOT NULL CHECK (mode IN ('throw', 'hang')),
          set_at   TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE event_driven_replay_requests (
          dead_letter_id INTEGER PRIMARY KEY REFERENCES pubsub_dead_letters (id),
          consumer       TEXT NOT NULL,
          requested_at   TEXT NOT NULL,
          outcome        TEXT,
          error          TEXT,
          done_at        TEXT
        );
      `);
    }
  },
  {
    version: 12,
    name: 'data-virtualization: write versions of shipments (rows, and each column), for caching deep $skip positions',
    up: (db) => installTableVersions(db, 'shipments')
  },
  {
    version: 13,
    name: 'data-virtualization: sort indexes carry the list-view filter columns',
    up: (db) => {
      // Rebuilds each shipments_by_<c> with status, carrier and destination_city after the key (same name, same
      // order served), and adds shipments_by_shipment_number. At 10M rows: minutes, and about 250 MB per index.
      for (const index of SHIPMENT_INDEXES.filter((i) => i.name.startsWith('shipments_by_'))) {
        db.exec(`DROP INDEX IF EXISTS ${index.name}`);
        db.exec(index.sql);
      }
      db.exec('ANALYZE shipments');
    }
  },
  {
    version: 14,
    name: 'data-virtualization: an index for each correlated filter-and-order pair (status by delivered_at)',
    up: (db) => {
      const pairs = DV_CORRELATED_PAIRS.map(([f, c]) => `shipments_${f}_by_${c}`);
      for (const index of SHIPMENT_INDEXES.filter((i) => pairs.includes(i.name)))
        db.exec(index.sql);
      db.exec('ANALYZE shipments');
    }
  },
  {
    version: 15,
    name: 'data-virtualization: a short log of written shipments, to repair deep $skip positions',
    up: (db) => installChangeLog(db, 'shipments')
  },
  {
    version: 16,
    name: 'data-virtualization: a trigram index of shipment numbers, for substrings of the key',
    up: (db) => {
      installSubstringIndex(db, 'shipments', 'shipment_number');
    }
  },
  {
    version: 17,
    name: 'data-virtualization: shipments counted by day shipped, for counts of a ShippedAt range',
    up: (db) =>
      installShipmentPrefixCounters(
        db,
        SHIPMENT_PREFIX_COUNTED_COLUMNS.filter((c) => c.column === 'shipped_at')
      )
  },
  {
    version: 18,
    name: 'data-virtualization: shipments counted by the first 10 characters of their number, for counts of a key range',
    up: (db) =>
      installShipmentPrefixCounters(
        db,
        SHIPMENT_PREFIX_COUNTED_COLUMNS.filter((c) => c.column === 'shipment_number')
      )
  },
  {
    version: 19,
    name: 'data-virtualization: shipments counted by tuples of counted columns, for counts of several list-view filters',
    up: (db) => installShipmentTupleCounters(db)
  },
  {
    version: 20,
    name: 'data-virtualization: shipments counted by each substring of up to 4 characters of their number, for counts of a short substring',
    up: (db) => installShipmentSubstringCounters(db)
  },
  {
    version: 21,
    name: 'data-virtualization: shipments counted by each customer number and its substrings of up to 4 characters that their number holds too, for counts of a search term both hold',
    up: (db) => installShipmentKeySubstringCounters(db)
  },
  {
    version: 22,
    name: 'data-virtualization: the shipments of each customer number with 50,000 or more counted by each substring of up to 4 characters of their number, for counts of the Account page search of a large customer',
    up: (db) => installShipmentPerValueKeySubstringCounters(db)
  },
  {
    version: 23,
    name: "data-virtualization: bounds of each shipment's estimated and actual delivery less its shipping, in seconds, for list views of a shipping period sorted by either",
    up: (db) => installShipmentDateGaps(db)
  },
  {
    version: 24,
    name: 'data-virtualization: the sort indexes of estimated and actual delivery carry the shipping date, for list views of a shipping period sorted by either',
    up: (db) => {
      // shipments_by_estimated_delivery and shipments_by_delivered_at gain shipped_at last. At 10M rows: 50 s, and
      // 410 MB more for the two.
      rebuildShipmentIndexes(
        db,
        SHIPMENT_DATE_GAPS.map((gap) => `shipments_by_${gap.to}`)
      );
    }
  },
  {
    version: 25,
    name: "data-virtualization: the related list's index in its default order carries the list-view filters, for a customer's shipments filtered by status, carrier or city, newest first",
    up: (db) => {
      // shipments_customer_by_shipped_at gains status, carrier and destination_city last. At 10M rows: 27 s, and
      // 248 MB more file.
      rebuildShipmentIndexes(db, ['shipments_customer_by_shipped_at']);
    }
  }
];

/**
 * Drops the named shipment indexes and creates them again as SHIPMENT_INDEXES declares them (same name, same order
 * served, more columns carried), then analyses only them: a migration that widens an index on an existing database.
 */
function rebuildShipmentIndexes(db: Database.Database, names: readonly string[]): void {
  for (const name of names) {
    const index = SHIPMENT_INDEXES.find((i) => i.name === name);
    if (!index) throw new Error(`no shipment index named ${name}`);
    db.exec(`DROP INDEX IF EXISTS ${index.name}`);
    db.exec(index.sql);
    db.exec(`ANALYZE ${index.name}`);
  }
}

/** Applies every migration the database has not recorded yet; returns the versions applied now. */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS
): number[] {
  db.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )
  `);
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations')
      .pluck()
      .all()
      .map((v) => Number(v))
  );
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)'
  );
  const done: number[] = [];
  for (const migration of ordered) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      migration.up(db);
      record.run(migration.version, migration.name, new Date().toISOString());
    })();
    done.push(migration.version);
  }
  return done;
}
