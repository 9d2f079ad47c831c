/**
 * The maintained row counts (`shipment_counts`, migration 8): `$count` of the whole table or of one `eq` filter on a
 * counted column reads one counter row, and every counter stays equal to `count(*)` through inserts, updates (of
 * counted and uncounted columns, to and from NULL) and deletes.
 */
import { SHIPMENT_COUNTED_COLUMNS } from '../../src/db/migrations';
import { SHIPMENTS } from '../../src/data-virtualization/entity';
import { PageTokens } from '../../src/data-virtualization/paging';
import { EntityQueries, parseQueryOptions } from '../../src/data-virtualization/query';
import { createShipmentDatabase } from './support';

const db = createShipmentDatabase(1500);
const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('counts'), 50);
afterAll(() => db.close());

/** Every counter against a fresh count(*) of what it counts. */
function driftedCounters(): string[] {
  const drifted: string[] = [];
  const total = db.prepare('SELECT count(*) FROM shipments').pluck().get() as number;
  const kept = db
    .prepare("SELECT n FROM shipment_counts WHERE dimension = '*'")
    .pluck()
    .get() as number;
  if (kept !== total) drifted.push(`* ${kept} != ${total}`);
  for (const column of SHIPMENT_COUNTED_COLUMNS) {
    const actual = db
      .prepare(
        `SELECT CASE WHEN ${column} IS NULL THEN 'null' ELSE 'v:' || ${column} END AS value, count(*) AS n
           FROM shipments GROUP BY 1`
      )
      .all() as { value: string; n: number }[];
    const counters = new Map(
      (
        db
          .prepare('SELECT value, n FROM shipment_counts WHERE dimension = ? AND n <> 0')
          .all(column) as { value: string; n: number }[]
      ).map((r) => [r.value, r.n])
    );
    for (const { value, n } of actual) {
      if (counters.get(value) !== n)
        drifted.push(`${column} ${value}: ${counters.get(value)} != ${n}`);
      counters.delete(value);
    }
    for (const [value, n] of counters) drifted.push(`${column} ${value}: ${n} != 0`);
  }
  return drifted;
}

function count(filter?: string): { n: number; sql: string } {
  const n = queries.count(parseQueryOptions(filter ? { $filter: filter } : {}, SHIPMENTS));
  return { n, sql: queries.lastQueries[0]!.sql };
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
    ["endswith(DestinationCity,'no such city')", '0']
  ])('$count with %s adds up counters and equals count(*)', (filter, where) => {
    const { n } = count(filter);
    expect(queries.lastQueries.every((q) => q.sql.includes('FROM "shipment_counts"'))).toBe(true);
    expect(n).toBe(sqlCount(where));
  });

  it('the whole table reads the counter; anything else is counted by SQL', () => {
    expect(count().sql).toMatch(/shipment_counts/);
    expect(count().n).toBe(sqlCount('1'));
    for (const filter of [
      "Status ne 'Exception'",
      "Status eq 'Exception' and Carrier eq 'DHL'",
      "OrderNumber eq 'SO-1'",
      "not startswith(Carrier,'D')"
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
      UPDATE shipments SET shipment_number = shipment_number || '-X' WHERE rowid % 17 = 0;
      DELETE FROM shipments WHERE rowid % 7 = 0;
    `);
    expect(driftedCounters()).toEqual([]);
    expect(count("Status eq 'Exception'").n).toBe(0);
    expect(count("Carrier eq 'DHL'").n).toBe(sqlCount("carrier = 'DHL'"));
    expect(count().n).toBe(sqlCount('1'));
  });
});

describe("a page's $count of a filter the counters do not answer", () => {
  // Page size 50; `contains(ShipmentNumber,'1')` matches hundreds of the rows.
  const filter = "contains(ShipmentNumber,'1')";
  const matches = (): number => sqlCount("instr(shipment_number, '1') > 0");
  /** The page's count, and whether it ran a count query. */
  function pageCount(query: Record<string, string>): { count: number; queried: boolean } {
    const page = queries.page(
      parseQueryOptions({ $filter: filter, $count: 'true', ...query }, SHIPMENTS)
    );
    return {
      count: page.count!,
      queried: queries.lastQueries.some((q) => q.sql.startsWith('SELECT count(*)'))
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
