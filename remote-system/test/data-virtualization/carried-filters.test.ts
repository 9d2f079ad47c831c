/**
 * A list-view filter on one column sorted by another (`Status eq …` by city): when SQLite's plan would sort every
 * match, the producer walks the index that serves the order and tests the filter on its entries (migration 13
 * carries status, carrier and city in every `shipments_by_<c>` index), chosen from the maintained counts and bounded
 * by a budget. Every page, first and `nextLink` ones, equals the same query written in SQL; the walk is used when
 * it pays and not when it does not, and when the matches all sit past its budget SQLite's plan answers instead.
 */
import { SHIPMENTS } from '../../src/data-virtualization/entity';
import { PageTokens } from '../../src/data-virtualization/paging';
import { EntityQueries, parseQueryOptions } from '../../src/data-virtualization/query';
import { createShipmentDatabase } from './support';

const db = createShipmentDatabase(700);
const ROWS = 700;
// In DestinationCity order: rows 647–679 get a status of their own (past any walk of 330 entries); rows 0–20 and
// 680–699 another one (a next page walks from the 21st and meets its budget of 410 before row 680); 3 rows a third.
const CITY_ORDER = 'destination_city, shipment_number';
db.exec(`
  UPDATE shipments SET status = 'Delivered'
    WHERE status IN ('Out for Delivery', 'Label Created', 'In Transit');
  UPDATE shipments SET status = 'Out for Delivery' WHERE rowid IN (
    SELECT rowid FROM shipments ORDER BY ${CITY_ORDER} LIMIT 33 OFFSET ${ROWS - 53});
  UPDATE shipments SET status = 'In Transit' WHERE rowid IN (
    SELECT rowid FROM shipments ORDER BY ${CITY_ORDER} LIMIT 21);
  UPDATE shipments SET status = 'In Transit' WHERE rowid IN (
    SELECT rowid FROM shipments ORDER BY destination_city DESC, shipment_number DESC LIMIT 20);
  UPDATE shipments SET status = 'Label Created' WHERE rowid IN (SELECT rowid FROM shipments LIMIT 3 OFFSET 100);
`);
const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('carried'), 20, {
  minWalkBudget: 1
});
afterAll(() => db.close());

const walked = (): boolean => queries.lastQueries.some((q) => q.sql.includes('INDEXED BY'));

/** Every row of a query through the producer, following `nextLink` tokens; and whether any page walked. */
function allPages(query: Record<string, string>): { rows: string[]; walked: boolean } {
  const rows: string[] = [];
  let usedWalk = false;
  let token: string | undefined;
  do {
    const options = parseQueryOptions(token ? { ...query, $skiptoken: token } : query, SHIPMENTS);
    const page = queries.page(options);
    usedWalk ||= walked();
    rows.push(...page.rows.map((row) => row.ShipmentNumber as string));
    token = page.nextToken;
    if (token) {
      delete query.$top;
      delete query.$skip;
    }
  } while (token);
  return { rows, walked: usedWalk };
}

function reference(where: string, orderBy: string, top = -1, skip = 0): string[] {
  return db
    .prepare(
      `SELECT shipment_number FROM shipments WHERE ${where} ORDER BY ${orderBy} LIMIT ? OFFSET ?`
    )
    .pluck()
    .all(top, skip) as string[];
}

const FILTERS: [string, string][] = [
  ["Status eq 'Delivered'", "status = 'Delivered'"],
  ["Carrier eq 'UPS'", "carrier = 'UPS'"],
  ['Carrier eq null', 'carrier IS NULL'],
  ["DestinationCity eq 'Zürich'", "destination_city = 'Zürich'"],
  ["Status eq 'Out for Delivery'", "status = 'Out for Delivery'"],
  ["Status eq 'In Transit'", "status = 'In Transit'"],
  ["Status in ('In Transit', 'Label Created')", "status IN ('In Transit', 'Label Created')"],
  ["contains(Carrier,'S')", "instr(carrier, 'S') > 0"]
];
const ORDERS: [string, string][] = [
  ['DestinationCity', 'destination_city, shipment_number'],
  ['DestinationCity desc', 'destination_city DESC, shipment_number DESC'],
  ['WeightKg desc', 'weight_kg DESC, shipment_number DESC'],
  ['DeliveredAt', 'delivered_at, shipment_number'],
  ['ShipmentNumber desc', 'shipment_number DESC'],
  ['Status', 'status, shipment_number']
];

describe('pages equal the same query in SQL', () => {
  const cases = FILTERS.flatMap(([filter, where]) =>
    ORDERS.map(([orderBy, sqlOrder]) => ({ filter, where, orderBy, sqlOrder }))
  );
  it.each(cases)('$filter by $orderBy', ({ filter, where, orderBy, sqlOrder }) => {
    expect(allPages({ $filter: filter, $orderby: orderBy }).rows).toEqual(
      reference(where, sqlOrder)
    );
    for (const [top, skip] of [
      [5, 0],
      [26, 0],
      [7, 11]
    ] as const) {
      const query = { $filter: filter, $orderby: orderBy, $top: String(top), $skip: String(skip) };
      expect(allPages(query).rows).toEqual(reference(where, sqlOrder, top, skip));
    }
  });
});

describe('the plan', () => {
  it('walks the order’s index for a frequent value', () => {
    expect(
      allPages({ $filter: "Carrier eq 'UPS'", $orderby: 'DestinationCity', $top: '5' })
    ).toEqual({
      rows: reference("carrier = 'UPS'", 'destination_city, shipment_number', 5),
      walked: true
    });
    expect(queries.lastQueries[0]!.sql).toContain('INDEXED BY "shipments_by_destination_city"');
  });

  it('walks for several values even when an index leads with the column and the order', () => {
    // `shipments_status_newest` reads each value in order, but two values would then be sorted together.
    const query = { $filter: "Status in ('Delivered', 'Exception')", $top: '5' };
    expect(allPages(query)).toEqual({
      rows: reference(
        "status IN ('Delivered', 'Exception')",
        'shipped_at DESC, shipment_number DESC',
        5
      ),
      walked: true
    });
    expect(allPages({ $filter: "Status in ('Delivered')", $top: '5' }).walked).toBe(false);
  });

  it('walks an order index that does not carry the column, reading rows, only for a frequent filter', () => {
    const customers = db
      .prepare('SELECT DISTINCT customer_number FROM shipments ORDER BY 1')
      .pluck()
      .all() as string[];
    // The most frequent customers but one (hundreds of rows), and the two least frequent (a few dozen).
    const list = (n: number): string =>
      (n > 0 ? customers.slice(0, n) : customers.slice(n)).map((c) => `'${c}'`).join(', ');
    for (const [n, walks] of [
      [customers.length - 1, true],
      [-2, false]
    ] as const) {
      const query = { $filter: `CustomerNumber in (${list(n)})`, $top: '5' };
      expect(allPages(query)).toEqual({
        rows: reference(
          `customer_number IN (${list(n)})`,
          'shipped_at DESC, shipment_number DESC',
          5
        ),
        walked: walks
      });
    }
  });

  it('sorts the few matches of a rare value (SQLite’s plan)', () => {
    expect(
      allPages({ $filter: "Status eq 'Label Created'", $orderby: 'DestinationCity', $top: '5' })
    ).toEqual({
      rows: reference("status = 'Label Created'", 'destination_city, shipment_number', 5),
      walked: false
    });
  });

  it('keeps SQLite’s plan when an index already has both columns (the related list)', () => {
    const customer = db
      .prepare('SELECT customer_number FROM shipments LIMIT 1')
      .pluck()
      .get() as string;
    expect(
      allPages({ $filter: `CustomerNumber eq '${customer}'`, $orderby: 'DestinationCity' }).walked
    ).toBe(false);
  });

  it('gives up at the budget when the matches sit at the far end, then sorts them read in key order', () => {
    const query = {
      $filter: "Status eq 'Out for Delivery'",
      $orderby: 'DestinationCity',
      $top: '5'
    };
    queries.page(parseQueryOptions(query, SHIPMENTS));
    const ran = queries.lastQueries.map((q) => q.sql);
    // From the start of the order the maintained count says the walk stopped at its budget: then a sort.
    expect(ran).toHaveLength(2);
    expect(ran[0]).toContain('INDEXED BY "shipments_by_destination_city"');
    expect(ran[1]).toContain('INDEXED BY "shipments_by_status" WHERE');
    expect(allPages(query).rows).toEqual(reference("status = 'Out for Delivery'", CITY_ORDER, 5));
  });

  it('a next page that meets its budget counts the walked entries, then sorts', () => {
    const query = { $filter: "Status eq 'In Transit'", $orderby: 'DestinationCity' };
    const first = queries.page(parseQueryOptions(query, SHIPMENTS));
    expect(walked()).toBe(true);
    expect(first.rows).toHaveLength(20);
    expect(first.nextToken).toBeDefined();
    const second = queries.page(
      parseQueryOptions({ ...query, $skiptoken: first.nextToken! }, SHIPMENTS)
    );
    const ran = queries.lastQueries.map((q) => q.sql);
    expect(ran).toHaveLength(3); // the walk, the count that finds its budget spent, the sort
    expect(ran[1]).toMatch(/^SELECT count\(\*\)/);
    expect(ran[2]).toContain('INDEXED BY "shipments_by_status" WHERE');
    expect([...first.rows, ...second.rows].map((row) => row.ShipmentNumber)).toEqual(
      reference("status = 'In Transit'", CITY_ORDER, 40)
    );
  });
});
