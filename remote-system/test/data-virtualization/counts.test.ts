/**
 * The maintained row counts (`shipment_counts`, migrations 8, 17, 18, 20 and 21; `shipment_tuple_counts`, 19): `$count`
 * of the whole table, of filters on one counted column, of ranges of a column counted by prefix, of filters on
 * several counted columns and of a short substring of the key reads counters, and every counter stays equal to
 * `count(*)` through inserts, updates (of counted and uncounted columns, to and from NULL) and deletes. Negations are
 * the table less what they negate.
 */
import {
  installShipmentKeySubstringCounters,
  installShipmentPerValueKeySubstringCounters,
  installShipmentSubstringCounters,
  keySubstringDimension,
  perValueKeySubstringDimension,
  SHIPMENT_KEY_SUBSTRING_COUNTED_COLUMNS,
  SHIPMENT_PER_VALUE_KEY_SUBSTRING_COUNTED_COLUMNS,
  SHIPMENT_COUNTED_COLUMNS,
  SHIPMENT_COUNTED_TUPLES,
  SHIPMENT_PREFIX_COUNTED_COLUMNS,
  SHIPMENT_SUBSTRING_COUNTED_COLUMNS,
  substringDimension
} from '../../src/db/migrations';
import { SHIPMENTS } from '../../src/data-virtualization/entity';
import { KnownCounts, type CountReader } from '../../src/data-virtualization/known-counts';
import { PageTokens } from '../../src/data-virtualization/paging';
import { EntityQueries, parseQueryOptions } from '../../src/data-virtualization/query';
import { createShipmentDatabase, queryPlan } from './support';

const db = createShipmentDatabase(1500);
/** Per-value key-substring counters for the customers of 80 rows or more (3 of the 30 here: 291, 97 and 87 rows). */
const PER_VALUE_KEY_SUBSTRINGS = SHIPMENT_PER_VALUE_KEY_SUBSTRING_COUNTED_COLUMNS.map(
  (counted) => ({
    ...counted,
    minRows: 80
  })
);
installShipmentPerValueKeySubstringCounters(db, PER_VALUE_KEY_SUBSTRINGS);
const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('counts'), 50);
afterAll(() => db.close());

/**
 * How `dimension`'s counters differ from a fresh count of what they count: `actual` groups the rows as `counted`
 * reads the counters, each as `[key, n]`.
 */
function drift(dimension: string, actual: string, counted: string): string[] {
  const drifted: string[] = [];
  const counters = new Map(db.prepare(counted).raw().all(dimension) as [string, number][]);
  for (const [key, n] of db.prepare(actual).raw().all() as [string, number][]) {
    if (counters.get(key) !== n) drifted.push(`${dimension} ${key}: ${counters.get(key)} != ${n}`);
    counters.delete(key);
  }
  for (const [key, n] of counters) drifted.push(`${dimension} ${key}: ${n} != 0`);
  return drifted;
}

/** Every counter against a fresh count(*) of what it counts. */
function driftedCounters(): string[] {
  const total = db.prepare('SELECT count(*) FROM shipments').pluck().get() as number;
  const kept = db
    .prepare("SELECT n FROM shipment_counts WHERE dimension = '*'")
    .pluck()
    .get() as number;
  const dimensions: [string, string][] = [
    ...SHIPMENT_COUNTED_COLUMNS.map((c): [string, string] => [c, c]),
    ...SHIPMENT_PREFIX_COUNTED_COLUMNS.map(({ column, length }): [string, string] => [
      `${column}/${length}`,
      `substr(${column}, 1, ${length})`
    ])
  ];
  return [
    ...(kept === total ? [] : [`* ${kept} != ${total}`]),
    ...dimensions.flatMap(([dimension, expression]) =>
      drift(
        dimension,
        `SELECT CASE WHEN ${expression} IS NULL THEN 'null' ELSE 'v:' || ${expression} END, count(*)
           FROM shipments GROUP BY 1`,
        'SELECT value, n FROM shipment_counts WHERE dimension = ? AND n <> 0'
      )
    )
  ];
}

/**
 * Every substring counter against a fresh count(*) of the rows holding each substring, found here by a recursive
 * query (the counters are filled in JavaScript and kept by triggers), and the row that marks them complete against
 * the number of values.
 */
function driftedSubstrings(): string[] {
  return SHIPMENT_SUBSTRING_COUNTED_COLUMNS.flatMap(({ column, length }) => {
    const dimension = substringDimension({ column, length });
    return drift(
      dimension,
      `WITH RECURSIVE position (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM position WHERE i < 40),
         size (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM size WHERE n < ${length}),
         held AS (SELECT DISTINCT shipments.rowid, substr(${column}, i, n) AS substring
                  FROM shipments, position, size WHERE i + n - 1 <= length(${column}))
       SELECT 'v:' || substring, count(*) FROM held GROUP BY substring
       UNION ALL SELECT '', count(${column}) FROM shipments`,
      'SELECT value, n FROM shipment_counts WHERE dimension = ? AND n <> 0'
    );
  });
}

/**
 * Every key-substring counter against a fresh count(*) of the rows whose key holds each substring of their value,
 * both folded by SQLite's lower, found here by a recursive query, and the row that marks them complete against the
 * number of values.
 */
function driftedKeySubstrings(): string[] {
  return SHIPMENT_KEY_SUBSTRING_COUNTED_COLUMNS.flatMap((counted) => {
    const { column, key, length } = counted;
    return drift(
      keySubstringDimension(counted),
      `WITH RECURSIVE position (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM position WHERE i < 40),
         size (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM size WHERE n < ${length}),
         held AS (SELECT DISTINCT shipments.rowid, ${column} AS value, substr(lower(${column}), i, n) AS substring
                  FROM shipments, position, size
                  WHERE i + n - 1 <= length(${column}) AND instr(lower(${key}), substr(lower(${column}), i, n)) > 0)
       SELECT json_array(value, substring), count(*) FROM held GROUP BY value, substring
       UNION ALL SELECT '', count(${column}) FROM shipments`,
      'SELECT value, n FROM shipment_counts WHERE dimension = ? AND n <> 0'
    );
  });
}

/**
 * Every per-value key-substring counter against a fresh count(*) of the rows of each value that has the row marking it
 * complete whose key holds each substring, found here by a recursive query, and that row against the value's rows.
 */
function driftedPerValueKeySubstrings(): string[] {
  return PER_VALUE_KEY_SUBSTRINGS.flatMap((counted) => {
    const { column, key, length } = counted;
    const dimension = perValueKeySubstringDimension(counted);
    return drift(
      dimension,
      `WITH RECURSIVE position (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM position WHERE i < 40),
         size (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM size WHERE n < ${length}),
         counted AS (SELECT value ->> 0 AS value FROM shipment_counts
                     WHERE dimension = '${dimension}' AND value ->> 1 = ''),
         held AS (SELECT DISTINCT shipments.rowid, ${column} AS value, substr(${key}, i, n) AS substring
                  FROM shipments, position, size
                  WHERE ${column} IN (SELECT value FROM counted) AND i + n - 1 <= length(${key}))
       SELECT json_array(value, substring), count(*) FROM held GROUP BY value, substring
       UNION ALL SELECT json_array(value, ''), (SELECT count(*) FROM shipments WHERE ${column} = value) FROM counted`,
      'SELECT value, n FROM shipment_counts WHERE dimension = ? AND n <> 0'
    );
  });
}

/** Every tuple counter against a fresh count(*) of what it counts. */
function driftedTuples(): string[] {
  return SHIPMENT_COUNTED_TUPLES.flatMap((tuple) =>
    drift(
      tuple.join('|'),
      `SELECT json_array(${tuple.join(', ')}), count(*) FROM shipments GROUP BY ${tuple.join(', ')}`,
      'SELECT key, n FROM shipment_tuple_counts WHERE dimension = ? AND n <> 0'
    )
  );
}

/** A count by a fresh `EntityQueries` (so none is kept from an earlier one), with the SQL it ran, the count's last. */
function count(filter?: string): { n: number; sql: string; ran: string[] } {
  const fresh = new EntityQueries(db, SHIPMENTS, new PageTokens('counts'), 50);
  const n = fresh.count(parseQueryOptions(filter ? { $filter: filter } : {}, SHIPMENTS));
  const ran = fresh.lastQueries.map((q) => q.sql);
  return { n, sql: ran.at(-1)!, ran };
}

function sqlCount(where: string, ...params: unknown[]): number {
  return db
    .prepare(`SELECT count(*) FROM shipments WHERE ${where}`)
    .pluck()
    .get(...params) as number;
}

describe('maintained shipment counts', () => {
  it('start equal to count(*) for the table and every value of every counted column', () => {
    expect(driftedCounters()).toEqual([]);
    expect(driftedTuples()).toEqual([]);
    expect(driftedSubstrings()).toEqual([]);
    expect(driftedKeySubstrings()).toEqual([]);
    expect(driftedPerValueKeySubstrings()).toEqual([]);
  });

  it.each([
    ["CustomerNumber eq 'C-000003'", 'customer_number IS ?', 'C-000003'],
    ["'C-000003' eq CustomerNumber", 'customer_number IS ?', 'C-000003'],
    ["Status eq 'Exception'", 'status IS ?', 'Exception'],
    ['Status eq null', 'status IS ?', null],
    ["Carrier eq 'DHL'", 'carrier IS ?', 'DHL'],
    ["DestinationCity eq 'O''Fallon'", 'destination_city IS ?', "O'Fallon"],
    ["DestinationCity eq 'Nowhere'", 'destination_city IS ?', 'Nowhere']
  ])('$count with %s reads the counter and equals count(*)', (filter, where, value) => {
    const { n, sql } = count(filter);
    expect(sql).toMatch(/FROM "shipment_counts"/);
    expect(n).toBe(sqlCount(where, value));
  });

  it.each([
    ["Status in ('Exception', 'Delivered', 'Exception')", "status IN ('Exception', 'Delivered')"],
    ["Carrier in ('DHL', null)", "carrier = 'DHL' OR carrier IS NULL"],
    ["startswith(Carrier,'D')", "carrier GLOB 'D*'"],
    ["contains(DestinationCity,'o')", "instr(destination_city, 'o') > 0"],
    ["endswith(DestinationCity,'no such city')", '0'],
    // Negations: the table less the values (OData's ne and not keep the rows whose column is null).
    ["Status ne 'Exception'", "status IS NOT 'Exception'"],
    ["not (Carrier eq 'DHL')", "carrier IS NOT 'DHL'"],
    ['Carrier ne null', 'carrier IS NOT NULL'],
    ["not (Status in ('Exception'))", "status IS NOT 'Exception'"],
    [
      "not (Status in ('Exception', 'Delivered', null))",
      "status IS NOT NULL AND status NOT IN ('Exception', 'Delivered')"
    ],
    [
      "not (CustomerNumber in ('C-000001', 'C-000002'))",
      "customer_number NOT IN ('C-000001', 'C-000002')"
    ],
    ["not (Status ne 'Exception')", "status = 'Exception'"],
    // Any other condition on one counted column: the values it holds for, tested on each (NULL too).
    ["not startswith(Carrier,'D')", "carrier IS NOT NULL AND carrier NOT GLOB 'D*'"],
    ["Status ge 'Delivered'", "status >= 'Delivered'"],
    ["Carrier lt 'UPS'", "carrier < 'UPS'"],
    ["not (Carrier lt 'UPS')", "carrier IS NULL OR carrier >= 'UPS'"],
    [
      "DestinationCity ge 'M' and DestinationCity lt 'T'",
      "destination_city >= 'M' AND destination_city < 'T'"
    ],
    ["not contains(DestinationCity,'a')", "instr(destination_city, 'a') = 0"],
    [
      "CustomerNumber gt 'C-000500' or CustomerNumber eq 'C-000001'",
      "customer_number > 'C-000500' OR customer_number = 'C-000001'"
    ],
    ["Carrier eq 'UPS' or Carrier eq null", "carrier = 'UPS' OR carrier IS NULL"]
  ])('$count with %s adds up counters and equals count(*)', (filter, where) => {
    const { n, ran } = count(filter);
    expect(ran.every((sql) => sql.includes('FROM "shipment_counts"'))).toBe(true);
    expect(n).toBe(sqlCount(where));
  });

  it('the whole table reads the counter; anything else is counted by SQL', () => {
    expect(count().sql).toMatch(/shipment_counts/);
    expect(count().n).toBe(sqlCount('1'));
    for (const filter of [
      "OrderNumber eq 'SO-1'",
      "CustomerNumber eq 'C-000001' and Status eq 'Delivered' and Carrier eq 'UPS'"
    ]) {
      expect(count(filter).sql).toMatch(/^SELECT count\(\*\) FROM "shipments"/);
    }
    // A search found in one counted column alone is that column's values: counted by the counters.
    const searched = queries.count(parseQueryOptions({ $search: 'Exception' }, SHIPMENTS));
    expect(queries.lastQueries.at(-1)!.sql).toMatch(/shipment_counts/);
    expect(searched).toBe(sqlCount("status = 'Exception'"));
    // One found in a key too is counted by SQL.
    const keys = queries.count(parseQueryOptions({ $search: 'exception OR 0000000' }, SHIPMENTS));
    expect(queries.lastQueries.at(-1)!.sql).toMatch(/^SELECT count\(\*\) FROM "shipments"/);
    expect(keys).toBe(sqlCount("status = 'Exception' OR instr(shipment_number, '0000000') > 0"));
  });

  it('stay exact through inserts, updates to and from NULL, key changes and deletes', () => {
    db.exec(`
      INSERT INTO shipments (shipment_number, customer_number, status, carrier, destination_city)
        SELECT 'NEW-' || shipment_number, customer_number, status, carrier, destination_city
        FROM shipments WHERE rowid % 5 = 0;
      UPDATE shipments SET status = 'Delivered' WHERE status = 'Exception';
      UPDATE shipments SET carrier = NULL WHERE rowid % 11 = 0;
      UPDATE shipments SET carrier = 'DHL' WHERE carrier IS NULL AND rowid % 2 = 0;
      UPDATE shipments SET customer_number = 'C-000001', destination_city = 'Zürich' WHERE rowid % 13 = 0;
      UPDATE shipments SET weight_kg = 1 WHERE rowid % 3 = 0;
      UPDATE shipments SET shipped_at = '2025-12-31T23:59:59Z' WHERE rowid % 19 = 0;
      UPDATE shipments SET shipped_at = NULL WHERE rowid % 23 = 0;
      UPDATE shipments SET shipped_at = substr(shipped_at, 1, 11) || '00:00:00Z' WHERE rowid % 29 = 0;
      UPDATE shipments SET shipment_number = shipment_number || '-X' WHERE rowid % 17 = 0;
      INSERT INTO shipments (shipment_number, customer_number) VALUES ('SHP-😀😀1', 'C-000001'), ('ééé', 'C-000001');
      UPDATE shipments SET shipment_number = 'Zürich-😀' || rowid WHERE rowid % 31 = 0;
      UPDATE shipments SET customer_number = 'ZüRICH-' || (rowid % 3) WHERE rowid % 37 = 0;
      UPDATE shipments SET customer_number = 'C-😀😀1', shipment_number = 'X-😀😀' || rowid WHERE rowid % 41 = 0;
      DELETE FROM shipments WHERE rowid % 7 = 0;
    `);
    expect(driftedCounters()).toEqual([]);
    expect(driftedTuples()).toEqual([]);
    expect(driftedSubstrings()).toEqual([]);
    expect(driftedKeySubstrings()).toEqual([]);
    expect(driftedPerValueKeySubstrings()).toEqual([]);
    // Counted afresh in JavaScript (as after a bulk load), they are the same: folded and split as SQLite does.
    const keySubstringCounters = (): [string, number][] =>
      db
        .prepare(
          "SELECT value, n FROM shipment_counts WHERE dimension LIKE '%/key-substrings/%' AND n <> 0"
        )
        .raw()
        .all() as [string, number][];
    const kept = keySubstringCounters();
    installShipmentKeySubstringCounters(db);
    expect(driftedKeySubstrings()).toEqual([]);
    expect(keySubstringCounters()).toEqual(kept);
    expect(kept.some(([value]) => value.includes('😀😀'))).toBe(true);
    expect(kept.some(([value]) => value.includes('zür'))).toBe(true);
    // The per-value ones too, for the values counted both before and after (a value's rows may cross 80 either way).
    const perValueCounters = (): Map<string, [string, number][]> => {
      const byValue = new Map<string, [string, number][]>();
      const rows = db
        .prepare(
          "SELECT value, n FROM shipment_counts WHERE dimension LIKE '%/key-substrings-per-value/%' AND n <> 0"
        )
        .raw()
        .all() as [string, number][];
      for (const row of rows) {
        const value = (JSON.parse(row[0]) as string[])[0]!;
        byValue.set(value, [...(byValue.get(value) ?? []), row]);
      }
      return byValue;
    };
    const keptPerValue = perValueCounters();
    expect([...keptPerValue.keys()].sort()).toEqual(['C-000001', 'C-000002', 'C-000003']);
    expect(keptPerValue.get('C-000001')!.some(([value]) => value.includes('😀😀'))).toBe(true);
    installShipmentPerValueKeySubstringCounters(db, PER_VALUE_KEY_SUBSTRINGS);
    expect(driftedPerValueKeySubstrings()).toEqual([]);
    const recounted = perValueCounters();
    expect(recounted.has('C-000001')).toBe(true);
    for (const [value, counters] of recounted) {
      if (keptPerValue.has(value)) expect(counters).toEqual(keptPerValue.get(value));
    }
    expect(count("Status eq 'Exception'").n).toBe(0);
    expect(count("Carrier eq 'DHL'").n).toBe(sqlCount("carrier = 'DHL'"));
    expect(count().n).toBe(sqlCount('1'));
  });
});

describe('a negation of a condition that is never null', () => {
  /** Whether a count ran with a negation in its SQL (walking every row). */
  const countsNegation = (ran: string[]): boolean =>
    ran.some((sql) => sql.startsWith('SELECT count(*)') && /NOT \(|IS NOT \?/.test(sql));

  it.each([
    ["ShipmentNumber ne 'SHP-0000000005'", "shipment_number <> 'SHP-0000000005'"],
    ["not contains(ShipmentNumber,'0000000123')", "instr(shipment_number, '0000000123') = 0"],
    ["not startswith(ShipmentNumber,'SHP-00000001')", "shipment_number NOT LIKE 'SHP-00000001%'"],
    ["not (ShipmentNumber lt 'SHP-0000000100')", "shipment_number >= 'SHP-0000000100'"],
    [
      "not (ShipmentNumber eq 'SHP-0000000005' or contains(ShipmentNumber,'77'))",
      "shipment_number <> 'SHP-0000000005' AND instr(shipment_number, '77') = 0"
    ],
    // Comparisons are never null (eq and ne are null-safe, the others guard a null column): nullable ones too.
    ["OrderNumber ne 'SO-0000001'", "order_number IS NOT 'SO-0000001'"],
    ['ShippedAt ne 2024-06-01T00:00:00Z', "shipped_at IS NOT '2024-06-01T00:00:00Z'"],
    ['not (WeightKg gt 10)', 'weight_kg IS NULL OR weight_kg <= 10'],
    [
      "not (ShipmentNumber eq 'SHP-0000000005' or Carrier eq 'DHL')",
      "shipment_number <> 'SHP-0000000005' AND carrier IS NOT 'DHL'"
    ],
    ['not (ShipmentNumber eq null)', '1']
  ])('%s is the table less its condition', (filter, where) => {
    const { n, ran } = count(filter);
    expect(n).toBe(sqlCount(where));
    expect(countsNegation(ran)).toBe(false);
  });

  it.each([
    ["not contains(OrderNumber,'1')", "instr(order_number, '1') = 0"],
    [
      "not (contains(OrderNumber,'1') or Carrier eq 'DHL')",
      "NOT (instr(order_number, '1') > 0 OR carrier IS 'DHL')"
    ]
  ])('%s (a string function of a nullable column) is counted as written', (filter, where) => {
    const { n, ran } = count(filter);
    expect(n).toBe(sqlCount(where));
    expect(countsNegation(ran)).toBe(true);
  });
});

describe('filters on several counted columns are counted by their tuples of values', () => {
  it.each([
    ["Status eq 'Exception' and Carrier eq 'DHL'", "status = 'Exception' AND carrier = 'DHL'"],
    ["Status eq 'Delivered' or Carrier eq 'UPS'", "status = 'Delivered' OR carrier = 'UPS'"],
    ["Status ge 'Delivered' and Carrier lt 'UPS'", "status >= 'Delivered' AND carrier < 'UPS'"],
    [
      "CustomerNumber eq 'C-000001' and Status ne 'Delivered'",
      "customer_number = 'C-000001' AND status IS NOT 'Delivered'"
    ],
    ['Status eq null or Carrier eq null', 'status IS NULL OR carrier IS NULL'],
    [
      "not (contains(DestinationCity,'a') and startswith(CustomerNumber,'C-00001'))",
      "NOT (instr(destination_city, 'a') > 0 AND customer_number GLOB 'C-00001*')"
    ],
    ["Carrier eq 'DHL' and Carrier eq 'UPS' or Status eq 'Returned'", "status = 'Returned'"],
    // One column twice: no tuple's one counter, the tuples tested.
    ["CustomerNumber eq 'C-000001' and Status eq 'Returned' and Status eq 'Delivered'", '0'],
    [
      "Status eq 'Delivered' and DestinationCity eq 'Zürich' and Carrier ne 'UPS'",
      "status = 'Delivered' AND destination_city = 'Zürich' AND carrier IS NOT 'UPS'"
    ],
    [
      "Status in ('Delivered', 'Exception') or DestinationCity eq null or Carrier lt 'E'",
      "status IN ('Delivered', 'Exception') OR destination_city IS NULL OR carrier < 'E'"
    ]
  ])('%s', (filter, where) => {
    const { n, ran } = count(filter);
    expect(n).toBe(sqlCount(where));
    expect(ran.some((sql) => sql.includes('FROM "shipment_tuple_counts"'))).toBe(true);
    expect(ran.some((sql) => sql.startsWith('SELECT count(*)'))).toBe(false);
  });

  it.each([
    [
      "CustomerNumber eq 'C-000002' and Status eq 'Delivered'",
      "customer_number = 'C-000002' AND status = 'Delivered'"
    ],
    [
      "Status eq 'Exception' and CustomerNumber eq 'C-000003'",
      "status = 'Exception' AND customer_number = 'C-000003'"
    ],
    [
      "CustomerNumber eq 'C-000001' and DestinationCity eq 'Zürich'",
      "customer_number = 'C-000001' AND destination_city = 'Zürich'"
    ],
    [
      "DestinationCity eq 'O''Fallon' and CustomerNumber eq 'C-000001'",
      "destination_city = 'O''Fallon' AND customer_number = 'C-000001'"
    ],
    [
      "Status eq 'Delivered' and Carrier eq 'DHL' and DestinationCity eq 'Star*City [Main]?'",
      "status = 'Delivered' AND carrier = 'DHL' AND destination_city = 'Star*City [Main]?'"
    ],
    ["CustomerNumber eq 'C-000001' and Carrier eq 'No such carrier'", '0']
  ])('%s: the tuple of its values looked up', (filter, where) => {
    const { n, ran } = count(filter);
    expect(n).toBe(sqlCount(where));
    expect(ran.filter((sql) => sql.includes('FROM "shipment_tuple_counts"'))).toEqual([
      expect.stringContaining('AND key = json_array(')
    ]);
  });
});

describe('a range of ShippedAt is counted by day', () => {
  const AT = '2024-03-01T12:00:00Z'; // three shipments share it (the fixture's tie)
  it.each([
    [`ShippedAt lt ${AT}`, `shipped_at < '${AT}'`],
    [`ShippedAt le ${AT}`, `shipped_at <= '${AT}'`],
    [`ShippedAt gt ${AT}`, `shipped_at > '${AT}'`],
    [`ShippedAt ge ${AT}`, `shipped_at >= '${AT}'`],
    [`${AT} lt ShippedAt`, `shipped_at > '${AT}'`],
    [`${AT} ge ShippedAt`, `shipped_at <= '${AT}'`],
    [
      'ShippedAt ge 2024-01-01T00:00:00Z and ShippedAt lt 2024-02-01T00:00:00Z',
      "shipped_at >= '2024-01-01T00:00:00Z' AND shipped_at < '2024-02-01T00:00:00Z'"
    ],
    [
      `ShippedAt ge 2024-03-01T00:00:00Z and ShippedAt le ${AT}`,
      `shipped_at >= '2024-03-01T00:00:00Z' AND shipped_at <= '${AT}'`
    ],
    [
      'ShippedAt gt 2024-03-01T12:00:00.5Z and ShippedAt lt 2025-01-01T00:00:00Z and ShippedAt lt 2024-09-01T00:00:00Z',
      `shipped_at > '${AT}' AND shipped_at < '2024-09-01T00:00:00Z'`
    ],
    ['ShippedAt gt 2025-01-01T00:00:00Z and ShippedAt lt 2024-01-01T00:00:00Z', '0'],
    [
      'ShippedAt gt 2024-01-01T00:00:00Z and ShippedAt ge 2024-06-01T00:00:00Z',
      "shipped_at >= '2024-06-01T00:00:00Z'"
    ],
    [`not (ShippedAt lt ${AT})`, `shipped_at IS NULL OR shipped_at >= '${AT}'`]
  ])('%s', (filter, where) => {
    const { n, ran } = count(filter);
    expect(n).toBe(sqlCount(where));
    expect(n).toBeGreaterThanOrEqual(0);
    // The days wholly inside from the counters, the rows of the days at the ends through the index.
    expect(
      ran.some((sql) => sql.startsWith('SELECT coalesce(sum(n), 0) FROM "shipment_counts"'))
    ).toBe(true);
    expect(
      ran
        .filter((sql) => sql.startsWith('SELECT count(*) FROM "shipments" WHERE'))
        .every((sql) => sql.includes('GLOB'))
    ).toBe(true);
  });

  it('not a range of a column counted by value alone, or with a bound shorter than a day', () => {
    for (const filter of [
      "Carrier ge 'D' and Carrier lt 'U' and Status eq 'Delivered'",
      'ShippedAt ne 2024-03-01T12:00:00Z'
    ]) {
      const prefixes = (sql: string): boolean =>
        sql.includes('FROM "shipment_counts" WHERE dimension = ? AND value');
      expect(count(filter).ran.some(prefixes)).toBe(false);
    }
  });
});

describe('a range of ShipmentNumber is counted by its first 10 characters', () => {
  it.each([
    ["startswith(ShipmentNumber,'SHP-0')", "shipment_number GLOB 'SHP-0*'"],
    ["startswith(ShipmentNumber,'SHP-000000')", "shipment_number GLOB 'SHP-000000*'"],
    ["startswith(ShipmentNumber,'NEW-')", "shipment_number GLOB 'NEW-*'"],
    ["startswith(ShipmentNumber,'shp')", '0'],
    ["ShipmentNumber lt 'SHP-0000000500'", "shipment_number < 'SHP-0000000500'"],
    [
      "ShipmentNumber ge 'SHP-0000000500' and ShipmentNumber le 'SHP-0000001000'",
      "shipment_number BETWEEN 'SHP-0000000500' AND 'SHP-0000001000'"
    ],
    ["not startswith(ShipmentNumber,'SHP-00')", "shipment_number NOT GLOB 'SHP-00*'"]
  ])('%s', (filter, where) => {
    const { n, ran } = count(filter);
    expect(n).toBe(sqlCount(where));
    expect(
      ran.some((sql) => sql.startsWith('SELECT coalesce(sum(n), 0) FROM "shipment_counts"'))
    ).toBe(true);
  });

  it('a prefix longer than the counted one is counted through the index', () => {
    const { n, ran } = count("startswith(ShipmentNumber,'SHP-00000001')");
    expect(n).toBe(sqlCount("shipment_number GLOB 'SHP-00000001*'"));
    expect(ran.some((sql) => sql.includes('coalesce(sum(n)'))).toBe(false);
  });

  it("the rows at a range's ends are read through an index that leads with the key, whatever the statistics", () => {
    // With some of the 10M-row benchmark's statistics, SQLite reads `shipment_number GLOB 'SHP-000000*' AND
    // shipment_number > ?` by a skip-scan of an index that leads with a counted column (a seek per value: at 10M rows,
    // 1,000 customers' for `ShipmentNumber gt 'SHP-0007777053'`, 0.16–0.55 s on a first visit).
    const own = createShipmentDatabase(300);
    try {
      own.exec('ANALYZE');
      const update = own.prepare(
        "UPDATE sqlite_stat1 SET stat = ? WHERE tbl = 'shipments' AND idx = ?"
      );
      update.run('10000000 10000 1', 'shipments_customer_by_shipment_number');
      update.run('10000000 1 1 1 1', 'shipments_by_shipment_number');
      update.run('10000000 1', 'sqlite_autoindex_shipments_1');
      own.exec('ANALYZE sqlite_schema');
      const end =
        "SELECT count(*) FROM shipments WHERE shipment_number GLOB 'SHP-000000*' AND shipment_number > 'SHP-0000000123'";
      const plan = (sql: string, params: unknown[] = []): string =>
        queryPlan(own, { sql, params }).join(' | ');
      expect(plan(end)).toMatch(/ANY\(/);
      const counting = new EntityQueries(own, SHIPMENTS, new PageTokens('ends'), 50);
      const n = counting.count(
        parseQueryOptions({ $filter: "ShipmentNumber gt 'SHP-0000000123'" }, SHIPMENTS)
      );
      expect(n).toBe(
        own
          .prepare("SELECT count(*) FROM shipments WHERE shipment_number > 'SHP-0000000123'")
          .pluck()
          .get()
      );
      const ends = counting.lastQueries.filter((q) => q.sql.includes(' GLOB ? AND '));
      expect(ends).toHaveLength(1);
      expect(plan(ends[0]!.sql, ends[0]!.params)).toMatch(
        /^SEARCH shipments USING COVERING INDEX shipments_by_shipment_number \(shipment_number>\? AND shipment_number<\?\)$/
      );
    } finally {
      own.close();
    }
  });
});

describe('a short substring of ShipmentNumber is counted by its substring counters', () => {
  const KEY_SUBSTRINGS = substringDimension(SHIPMENT_SUBSTRING_COUNTED_COLUMNS[0]);
  /** Whether a count read the substring counters, and whether it counted rows of the table. */
  const reads = (ran: string[]): { counters: boolean; rows: boolean } => ({
    counters: ran.some((sql) =>
      /FROM "shipment_counts" WHERE dimension = \? AND value = ''/.test(sql)
    ),
    rows: ran.some((sql) => /^SELECT count\(\*\) FROM "shipments"/.test(sql))
  });

  it.each([
    ["contains(ShipmentNumber,'1')", "instr(shipment_number, '1') > 0"],
    ["contains(ShipmentNumber,'37')", "instr(shipment_number, '37') > 0"],
    ["contains(ShipmentNumber,'000')", "instr(shipment_number, '000') > 0"],
    ["contains(ShipmentNumber,'0001')", "instr(shipment_number, '0001') > 0"],
    ["contains(ShipmentNumber,'P-0')", "instr(shipment_number, 'P-0') > 0"],
    // Case-sensitive, as OData's contains and SQLite's instr are.
    ["contains(ShipmentNumber,'shp')", "instr(shipment_number, 'shp') > 0"],
    ["contains(ShipmentNumber,'😀')", "instr(shipment_number, '😀') > 0"],
    ["contains(ShipmentNumber,'😀😀1')", "instr(shipment_number, '😀😀1') > 0"],
    ["contains(ShipmentNumber,'-😀😀1')", "instr(shipment_number, '-😀😀1') > 0"],
    ["contains(ShipmentNumber,'é')", "instr(shipment_number, 'é') > 0"],
    // The table less the counter.
    ["not contains(ShipmentNumber,'37')", "instr(shipment_number, '37') = 0"]
  ])('%s', (filter, where) => {
    const { n, ran } = count(filter);
    expect(n).toBe(sqlCount(where));
    expect(reads(ran)).toEqual({ counters: true, rows: false });
  });

  it.each([
    ["contains(ShipmentNumber,'00001')", "instr(shipment_number, '00001') > 0"],
    [
      "contains(ShipmentNumber,'37') and Carrier eq 'UPS'",
      "instr(shipment_number, '37') > 0 AND carrier = 'UPS'"
    ],
    ["contains(CustomerNumber,'00')", "instr(customer_number, '00') > 0"]
  ])('not %s: a longer text, another condition beside it, another column', (filter, where) => {
    // The substring counter may still be read, to tell whether the text's candidates are few: not as the count.
    const { n, sql } = count(filter);
    expect(n).toBe(sqlCount(where));
    expect(reads([sql]).counters).toBe(false);
  });

  it('not while the row that marks them complete is missing (during a bulk load), and again once reinstalled', () => {
    const marker = `dimension = '${KEY_SUBSTRINGS}' AND value = ''`;
    const where = "instr(shipment_number, '37') > 0";
    db.exec(
      `UPDATE shipment_counts SET n = n + 1 WHERE dimension = '${KEY_SUBSTRINGS}' AND value = 'v:37'`
    );
    db.exec(`DELETE FROM shipment_counts WHERE ${marker}`);
    try {
      const { n, ran } = count("contains(ShipmentNumber,'37')");
      expect(n).toBe(sqlCount(where));
      expect(reads(ran).rows).toBe(true);
    } finally {
      installShipmentSubstringCounters(db);
    }
    expect(driftedSubstrings()).toEqual([]);
    expect(count("contains(ShipmentNumber,'37')").n).toBe(sqlCount(where));
  });
});

describe("a page's $count of a filter the counters do not answer", () => {
  // Page size 50; `endswith(ShipmentNumber,'1')` matches 150 of the rows.
  const filter = "endswith(ShipmentNumber,'1')";
  const matches = (): number => sqlCount("shipment_number GLOB '*1'");
  /**
   * The page's count, and whether it ran a count query. A fresh `EntityQueries` (no count kept from an earlier page)
   * that reads the page and its count in one pass for at most 100 matching rows, fewer than match here.
   */
  function pageCount(query: Record<string, string>): { count: number; queried: boolean } {
    const fresh = new EntityQueries(db, SHIPMENTS, new PageTokens('counts'), 50, {
      maxSubstringCandidates: 100
    });
    const page = fresh.page(
      parseQueryOptions({ $filter: filter, $count: 'true', ...query }, SHIPMENTS)
    );
    return {
      count: page.count!,
      queried: fresh.lastQueries.some((q) => q.sql.startsWith('SELECT count(*)'))
    };
  }

  it.each([
    ['the last rows', (m: number) => ({ $skip: String(m - 7) }), false],
    // One row more than a page is asked for: a full page that ends at the last row still proves it.
    ['a page that ends exactly at the last row', (m: number) => ({ $skip: String(m - 50) }), false],
    [
      'rows past a $top that ends at the last row',
      (m: number) => ({ $top: '7', $skip: String(m - 7) }),
      true
    ],
    ['a $top shorter than the rest', (m: number) => ({ $top: '7', $skip: String(m - 9) }), true],
    ['a $skip past the end', (m: number) => ({ $skip: String(m + 5) }), true],
    ['more than a page', () => ({}), true]
  ])('%s', (_name, query, queried) => {
    const m = matches();
    expect(m).toBeGreaterThan(100);
    expect(pageCount(query(m))).toEqual({ count: m, queried });
  });

  it('no match at all, without a count query', () => {
    const page = queries.page(
      parseQueryOptions(
        { $filter: "contains(ShipmentNumber,'no such key')", $count: 'true' },
        SHIPMENTS
      )
    );
    expect(page.count).toBe(0);
    expect(
      queries.lastQueries.some((q) => q.sql.startsWith('SELECT count(*) FROM "shipments"'))
    ).toBe(false);
  });
});

describe('a first page and its count in one pass, when few rows match', () => {
  const reads = (queries: EntityQueries, start: string): boolean =>
    queries.lastQueries.some((q) => q.sql.startsWith(start));
  it.each([
    ["contains(ShipmentNumber,'00001')", {}],
    ["contains(ShipmentNumber,'00001')", { $top: '7', $skip: '20' }],
    ["contains(ShipmentNumber,'00001')", { $skip: '570', $orderby: 'DestinationCity desc' }],
    ["contains(ShipmentNumber,'00001')", { $skip: '1000' }],
    ["Status eq 'Delivered' and contains(ShipmentNumber,'7')", { $orderby: 'WeightKg' }],
    ["contains(ShipmentNumber,'no such key')", {}]
  ])(
    '%s %j: the rowids read once are the count, and the page is read from them',
    (filter, extra) => {
      const fresh = new EntityQueries(db, SHIPMENTS, new PageTokens('one-pass'), 50);
      const query = { $filter: filter, $count: 'true', ...extra };
      const page = fresh.page(parseQueryOptions(query, SHIPMENTS));
      expect(reads(fresh, 'SELECT "shipments".rowid FROM')).toBe(true);
      expect(reads(fresh, 'SELECT count(*) FROM "shipments"')).toBe(false);
      // The same page and count from a producer that reads them apart.
      const apart = new EntityQueries(db, SHIPMENTS, new PageTokens('one-pass'), 50, {
        maxSubstringCandidates: 0
      });
      const expected = apart.page(parseQueryOptions(query, SHIPMENTS));
      expect(reads(apart, 'SELECT count(*) FROM "shipments"') || expected.rows.length < 50).toBe(
        true
      );
      expect({ rows: page.rows, count: page.count }).toEqual({
        rows: expected.rows,
        count: expected.count
      });
      expect(page.count).toBe(
        new EntityQueries(db, SHIPMENTS, new PageTokens('x'), 50).count(
          parseQueryOptions({ $filter: filter }, SHIPMENTS)
        )
      );
    }
  );

  it('a $search too, and the count is then kept for the next pages', () => {
    const fresh = new EntityQueries(db, SHIPMENTS, new PageTokens('one-pass'), 50);
    const query = { $search: 'DHL OR 12', $count: 'true' };
    const first = fresh.page(parseQueryOptions(query, SHIPMENTS));
    expect(reads(fresh, 'SELECT "shipments".rowid FROM')).toBe(true);
    const second = fresh.page(parseQueryOptions({ ...query, $skip: '50' }, SHIPMENTS));
    expect(reads(fresh, 'SELECT "shipments".rowid FROM')).toBe(false);
    expect(reads(fresh, 'SELECT count(*) FROM "shipments"')).toBe(false);
    const counted = new EntityQueries(db, SHIPMENTS, new PageTokens('x'), 50).count(
      parseQueryOptions({ $search: query.$search }, SHIPMENTS)
    );
    expect([first.count, second.count]).toEqual([counted, counted]);
  });
});

describe('a count the counters cannot answer is kept, and repaired from the change log', () => {
  const kept = new EntityQueries(db, SHIPMENTS, new PageTokens('kept'), 50);
  /** The kept count, and whether it was counted now (else kept or repaired). */
  function keptCount(query: Record<string, string>): { n: number; counted: boolean } {
    const n = kept.count(parseQueryOptions(query, SHIPMENTS));
    return {
      n,
      counted: kept.lastQueries.some((q) => q.sql.startsWith('SELECT count(*) FROM "shipments"'))
    };
  }
  /** What a fresh `EntityQueries` counts now. */
  function freshCount(query: Record<string, string>): number {
    return new EntityQueries(db, SHIPMENTS, new PageTokens('fresh'), 50).count(
      parseQueryOptions(query, SHIPMENTS)
    );
  }
  const filtered = { $filter: "contains(ShipmentNumber,'1') and Status ne 'Exception'" };
  const searched = { $search: 'DHL OR 12' };
  const firstWithOne = (): number =>
    db
      .prepare(
        "SELECT rowid FROM shipments WHERE instr(shipment_number, '1') > 0 AND status IS NOT 'Exception' LIMIT 1"
      )
      .pluck()
      .get() as number;

  it('is counted once while nothing it reads changes, whatever else is written', () => {
    for (const query of [filtered, searched]) {
      const n = freshCount(query);
      expect(n).toBeGreaterThan(0);
      expect(keptCount(query)).toEqual({ n, counted: true });
      expect(keptCount(query)).toEqual({ n, counted: false });
      db.prepare('UPDATE shipments SET weight_kg = weight_kg + 1 WHERE rowid % 9 = 0').run();
      expect(keptCount(query)).toEqual({ n, counted: false });
    }
    // Each query as asked is kept apart: another search, the filter with a search.
    for (const query of [{ $search: 'UPS OR 13' }, { ...filtered, ...searched }]) {
      expect(keptCount(query)).toEqual({ n: freshCount(query), counted: true });
    }
  });

  it.each([
    [
      'an insert that matches, and one that does not',
      "INSERT INTO shipments (shipment_number, customer_number, status, carrier) VALUES ('K-12-DHL', 'C-1', 'Delivered', 'DHL'), ('K-0', 'C-1', 'Exception', 'UPS')"
    ],
    ['a row that leaves the filter', "UPDATE shipments SET status = 'Exception' WHERE rowid = (?)"],
    [
      'rows that enter it',
      "UPDATE shipments SET status = 'Delivered', carrier = 'DHL' WHERE status = 'Exception' AND rowid % 4 = 0"
    ],
    [
      'a key that loses its match',
      "UPDATE shipments SET shipment_number = 'K-' || rowid * 0 || '-' || rowid || 'x' WHERE rowid = (?)"
    ],
    ['a delete of matching rows', 'DELETE FROM shipments WHERE rowid IN (?, ? + 10, ? + 20)']
  ])('follows %s without counting again', (_name, write) => {
    for (const query of [filtered, searched]) keptCount(query);
    const row = firstWithOne();
    const statement = db.prepare(write);
    statement.run(...Array<number>(statement.source.split('?').length - 1).fill(row));
    for (const query of [filtered, searched]) {
      expect(keptCount(query)).toEqual({ n: freshCount(query), counted: false });
    }
  });

  it('is counted afresh when the log no longer holds every change since', () => {
    keptCount(filtered);
    db.prepare("UPDATE shipments SET status = 'Exception' WHERE rowid = ?").run(firstWithOne());
    // Enough writes to a row outside the filter for the log to prune the change above.
    const outside = db
      .prepare("SELECT rowid FROM shipments WHERE status = 'Exception' LIMIT 1")
      .pluck()
      .get() as number;
    const touch = db.prepare('UPDATE shipments SET package_count = ? WHERE rowid = ?');
    db.transaction(() => {
      for (let i = 0; i < 3000; i++) touch.run(i, outside);
    })();
    expect(keptCount(filtered)).toEqual({ n: freshCount(filtered), counted: true });
  });
});

describe('KnownCounts', () => {
  it('keeps at most maxFilters counts, dropping the least recently used', () => {
    const known = new KnownCounts(2);
    const counted: string[] = [];
    const reader = (filter: string, n: number): CountReader => ({
      count: () => {
        counted.push(filter);
        return n;
      }
    });
    const v1 = { stamp: 'v1' };
    expect(known.count('a', v1, reader('a', 1))).toBe(1);
    expect(known.count('b', v1, reader('b', 2))).toBe(2);
    expect(known.count('a', v1, reader('a', 1))).toBe(1);
    expect(known.count('c', v1, reader('c', 3))).toBe(3);
    expect([known.has('a'), known.has('b'), known.has('c')]).toEqual([true, false, true]);
    expect(counted).toEqual(['a', 'b', 'c']);
  });

  it('counts afresh when the versions move and there is no log, and repairs from it when there is', () => {
    const known = new KnownCounts();
    let rows = 10;
    const reader: CountReader = { count: () => rows };
    expect(known.count('f', { stamp: 'v1' }, reader)).toBe(10);
    rows = 12;
    expect(known.count('f', { stamp: 'v1' }, reader)).toBe(10);
    expect(known.count('f', { stamp: 'v2' }, reader)).toBe(12);
    const since: number[] = [];
    const logged: CountReader = {
      count: () => 100,
      changes: (seq) => {
        since.push(seq);
        return seq === 5 ? -3 : undefined;
      }
    };
    expect(known.count('g', { stamp: 'v1', seq: 5 }, logged)).toBe(100);
    expect(known.count('g', { stamp: 'v2', seq: 8 }, logged)).toBe(97);
    expect(known.count('g', { stamp: 'v2', seq: 9 }, logged)).toBe(97);
    expect(known.count('g', { stamp: 'v3', seq: 12 }, logged)).toBe(100);
    expect(since).toEqual([5, 9]);
  });
});
