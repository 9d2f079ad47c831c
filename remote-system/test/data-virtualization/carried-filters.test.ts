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
import { createShipmentDatabase, queryPlan } from './support';

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

const walked = (): boolean => queries.lastQueries.some((q) => q.sql.includes('walked_rowid'));

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

/** Out for Delivery by city, 5 a page: its 33 matches are rows 647–679 of 700 in city order (the far end). */
const OUT_FOR_DELIVERY_BY_CITY = {
  $filter: "Status eq 'Out for Delivery'",
  $orderby: 'DestinationCity',
  $top: '5'
};

/**
 * Runs `check` with Out for Delivery's 33 matches moved to rows 330–362 in city order (the middle: 335 entries from
 * the start, 370 from the end), then rolls the move back.
 */
function withMatchesInTheMiddle(check: () => void): void {
  const moved = db.transaction(() => {
    db.exec(`
      UPDATE shipments SET status = 'Delivered' WHERE status = 'Out for Delivery';
      UPDATE shipments SET status = 'Out for Delivery' WHERE rowid IN (
        SELECT rowid FROM shipments ORDER BY ${CITY_ORDER} LIMIT 33 OFFSET 330);
    `);
    check();
    throw new Error('rolled back');
  });
  expect(() => moved()).toThrow('rolled back');
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
  ["contains(Carrier,'S')", "instr(carrier, 'S') > 0"],
  ["Status eq 'Delivered' and Carrier eq 'UPS'", "status = 'Delivered' AND carrier = 'UPS'"],
  [
    "Status in ('In Transit', 'Delivered') and DestinationCity ne 'Zürich' and Carrier eq 'DHL'",
    "status IN ('In Transit', 'Delivered') AND destination_city IS NOT 'Zürich' AND carrier = 'DHL'"
  ]
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

  it('walks for several list-view filters under and when the order’s index carries them all', () => {
    const query = {
      $filter: "Status eq 'Delivered' and Carrier eq 'UPS'",
      $orderby: 'DestinationCity',
      $top: '5'
    };
    expect(allPages(query)).toEqual({
      rows: reference(
        "status = 'Delivered' AND carrier = 'UPS'",
        'destination_city, shipment_number',
        5
      ),
      walked: true
    });
    expect(queries.lastQueries.map((q) => q.sql).join('\n')).toContain(
      'INDEXED BY "shipments_by_destination_city"'
    );
    // No order index carries the customer: the walk reads the customer's own entries in the order, from the index
    // leading with it (each entry's row read for the status), fewer than the table's; the same rows.
    const customer = db.prepare('SELECT customer_number FROM shipments LIMIT 1').pluck().get();
    const withCustomer = `CustomerNumber eq '${String(customer)}' and Status eq 'Delivered'`;
    expect(allPages({ $filter: withCustomer, $orderby: 'DestinationCity', $top: '5' })).toEqual({
      rows: reference(
        `customer_number = '${String(customer)}' AND status = 'Delivered'`,
        'destination_city, shipment_number',
        5
      ),
      walked: true
    });
    expect(queries.lastQueries.map((q) => q.sql).join('\n')).toContain(
      'INDEXED BY "shipments_customer_by_destination_city" WHERE "customer_number" = ?'
    );
  });

  it("walks one customer's entries in the order, not the table's, when that reads fewer", () => {
    const customer = String(
      db
        .prepare('SELECT customer_number FROM shipments GROUP BY 1 ORDER BY count(*) DESC')
        .pluck()
        .get()
    );
    const where = `customer_number = '${customer}' AND status = 'Delivered'`;
    for (const [orderBy, order, index] of [
      [
        'ShippedAt desc',
        'shipped_at DESC, shipment_number DESC',
        'shipments_customer_by_shipped_at'
      ],
      ['DestinationCity', CITY_ORDER, 'shipments_customer_by_destination_city']
    ]) {
      // Every page by nextLink, and a page past $skip.
      const query = {
        $filter: `CustomerNumber eq '${customer}' and Status eq 'Delivered'`,
        $orderby: orderBy!
      };
      expect(allPages({ ...query, $top: '7' })).toEqual({
        rows: reference(where, order!, 7),
        walked: true
      });
      expect(allPages({ ...query })).toEqual({ rows: reference(where, order!), walked: true });
      const skipped = queries.page(
        parseQueryOptions({ ...query, $top: '5', $skip: '9' }, SHIPMENTS)
      );
      expect(skipped.rows.map((row) => row.ShipmentNumber)).toEqual(reference(where, order!, 5, 9));
      expect(queries.lastQueries.map((q) => q.sql).join('\n')).toContain(
        `INDEXED BY "${index}" WHERE "customer_number" = ?`
      );
      // Newest first, the customer's entries carry the status (migration 25): the walk reads no row to test it. The
      // other orders' customer indexes do not carry it, so each walked entry reads its row.
      const walk = queries.lastQueries.at(-1)!;
      const plan = queryPlan(db, walk);
      const covering = index === 'shipments_customer_by_shipped_at';
      expect(plan).toContain(
        `SEARCH shipments USING ${covering ? 'COVERING ' : ''}INDEX ${index} (customer_number=?)`
      );
    }
    // Where the table's order carries every column the filter reads (an entry costs 1, not a row), it is walked.
    const both = "status = 'Delivered' AND carrier = 'UPS'";
    expect(
      allPages({
        $filter: "Status eq 'Delivered' and Carrier eq 'UPS'",
        $orderby: 'ShippedAt desc',
        $top: '7'
      })
    ).toEqual({ rows: reference(both, 'shipped_at DESC, shipment_number DESC', 7), walked: true });
    expect(queries.lastQueries.map((q) => q.sql).join('\n')).toContain(
      'INDEXED BY "shipments_by_shipped_at" ORDER BY'
    );
  });

  it("reads the order's values a filter needs from the order's index, one branch each, when sorting would cost more", () => {
    const sqlOrder = 'status DESC, shipment_number DESC';
    const frequent = "Status in ('Delivered', 'Out for Delivery') and Carrier ne 'UPS'";
    const frequentSql = "status IN ('Delivered', 'Out for Delivery') AND carrier IS NOT 'UPS'";
    const page = queries.page(
      parseQueryOptions({ $filter: frequent, $orderby: 'Status desc', $top: '5' }, SHIPMENTS)
    );
    expect(page.rows.map((row) => row.ShipmentNumber)).toEqual(reference(frequentSql, sqlOrder, 5));
    // 'Out for Delivery' sorts first descending and holds the page: the other value's branch is not read.
    const read = queries.lastQueries.filter((q) =>
      q.sql.includes('INDEXED BY "shipments_by_status"')
    );
    expect(read.map((q) => q.params[0])).toEqual(['Out for Delivery']);
    expect(read[0]!.sql).toMatch(/WHERE "status" = \? AND .* ORDER BY .* LIMIT \?$/);
    expect(allPages({ $filter: frequent, $orderby: 'Status desc' }).rows).toEqual(
      reference(frequentSql, sqlOrder)
    );
    // A set alone: each branch is one of its values, with nothing else to test (the set left in, SQLite read a
    // branch through it, every value's entries, and sorted them).
    const set = "Status gt 'Delivered'";
    queries.page(
      parseQueryOptions({ $filter: set, $orderby: 'Status desc', $top: '5' }, SHIPMENTS)
    );
    const branches = queries.lastQueries.map((q) => q.sql).join('\n');
    expect(branches).toMatch(/WHERE "status" = \? ORDER BY /);
    expect(branches).not.toContain('"status" IN (');
    expect(allPages({ $filter: set, $orderby: 'Status desc' }).rows).toEqual(
      reference("status > 'Delivered'", sqlOrder)
    );
    // Three matches among the two statuses' 700 rows: sorted, as SQLite plans it.
    const rare = "Status in ('Delivered', 'Label Created') and Carrier eq null";
    queries.page(
      parseQueryOptions({ $filter: rare, $orderby: 'Status desc', $top: '5' }, SHIPMENTS)
    );
    expect(queries.lastQueries.some((q) => q.sql.includes('WHERE "status" = ?'))).toBe(false);
    expect(allPages({ $filter: rare, $orderby: 'Status desc' }).rows).toEqual(
      reference("status IN ('Delivered', 'Label Created') AND carrier IS NULL", sqlOrder)
    );
    // Matches the counters do not count (a key range beside them): as SQLite plans it.
    const uncounted =
      "Status in ('Delivered', 'Out for Delivery') and ShipmentNumber lt 'SHP-0000000300'";
    queries.page(
      parseQueryOptions({ $filter: uncounted, $orderby: 'Status desc', $top: '5' }, SHIPMENTS)
    );
    expect(queries.lastQueries.some((q) => q.sql.includes('WHERE "status" = ?'))).toBe(false);
    expect(allPages({ $filter: uncounted, $orderby: 'Status desc' }).rows).toEqual(
      reference(
        "status IN ('Delivered', 'Out for Delivery') AND shipment_number < 'SHP-0000000300'",
        sqlOrder
      )
    );
  });

  it('sorts the few matches of a rare value (SQLite’s plan)', () => {
    expect(
      allPages({ $filter: "Status eq 'Label Created'", $orderby: 'DestinationCity', $top: '5' })
    ).toEqual({
      rows: reference("status = 'Label Created'", 'destination_city, shipment_number', 5),
      walked: false
    });
  });

  it('reads a customer and a rare status through the index that seeks both, not one that carries the status', () => {
    // The customer's newest-first index carries the status (migration 25), so it too could serve the sort, testing
    // the status on each of the customer's entries; its status index seeks the few rows.
    const { customer, status } = db
      .prepare(
        `SELECT customer_number AS customer, status FROM shipments
           WHERE customer_number = (SELECT customer_number FROM shipments GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
           GROUP BY status HAVING count(*) > 1 ORDER BY count(*), status LIMIT 1`
      )
      .get() as { customer: string; status: string };
    const where = `customer_number = '${customer}' AND status = '${status}'`;
    const query = {
      $filter: `CustomerNumber eq '${customer}' and Status eq '${status}'`,
      $orderby: 'ShippedAt desc',
      $top: '5'
    };
    // Fewer matches than the page asks: the walk of the customer's entries gives up, and the matches are sorted.
    const matches = reference(where, 'shipped_at DESC, shipment_number DESC');
    expect(matches.length).toBeLessThan(5);
    expect(allPages(query).rows).toEqual(matches);
    const read = queries.lastQueries.at(-1)!;
    const plan = queryPlan(db, read);
    expect(plan[0]).toBe(
      'SEARCH shipments USING INDEX shipments_customer_by_status (customer_number=? AND status=?)'
    );
  });

  it('sorts the matches of counted columns read through an index that carries them all, the fewest rows first', () => {
    const filter = "Status eq 'Label Created' and DestinationCity ne 'Chicago' and Carrier ne null";
    const where =
      "status = 'Label Created' AND destination_city IS NOT 'Chicago' AND carrier IS NOT NULL";
    for (const [orderBy, sqlOrder] of [
      ['DeclaredValue', 'declared_value, shipment_number'],
      ['WeightKg desc', 'weight_kg DESC, shipment_number DESC']
    ] as const) {
      expect(allPages({ $filter: filter, $orderby: orderBy, $top: '2' }).rows).toEqual(
        reference(where, sqlOrder, 2)
      );
      // The status's three rows, not the city's: its index carries the city and the carrier.
      expect(queries.lastQueries.at(-1)!.sql).toContain('INDEXED BY "shipments_by_status" WHERE');
      expect(allPages({ $filter: filter, $orderby: orderBy }).rows).toEqual(
        reference(where, sqlOrder)
      );
    }
    // The most frequent status in a city where it is rare (so that a walk would cost more than a sort): the city's
    // index, which carries the status and the carrier.
    const city = db
      .prepare(
        `SELECT destination_city FROM shipments WHERE status = 'Delivered' AND carrier IS NOT 'UPS'
           GROUP BY destination_city ORDER BY count(*), destination_city LIMIT 1`
      )
      .pluck()
      .get() as string;
    const quoted = city.replace(/'/g, "''"); // as OData and SQL both quote
    const cityFilter = `DestinationCity eq '${quoted}' and Status eq 'Delivered' and Carrier ne 'UPS'`;
    const cityWhere = `destination_city = '${quoted}' AND status = 'Delivered' AND carrier IS NOT 'UPS'`;
    expect(
      queries
        .page(
          parseQueryOptions(
            { $filter: cityFilter, $orderby: 'DeclaredValue', $top: '2' },
            SHIPMENTS
          )
        )
        .rows.map((row) => row.ShipmentNumber)
    ).toEqual(reference(cityWhere, 'declared_value, shipment_number', 2));
    expect(queries.lastQueries.at(-1)!.sql).toContain(
      'INDEXED BY "shipments_by_destination_city" WHERE'
    );
    expect(allPages({ $filter: cityFilter, $orderby: 'DeclaredValue' }).rows).toEqual(
      reference(cityWhere, 'declared_value, shipment_number')
    );
    // A customer's entries in its date index, each reading its row for the status: the counters say sorting the
    // matches costs less, but that walk is SQLite's own plan and ends early when they are near its start, so it is
    // tried first, for twice the entries expected (here the customer's newest three shipments are not delivered).
    const small = db
      .prepare(
        'SELECT customer_number FROM shipments GROUP BY customer_number HAVING count(*) BETWEEN 8 AND 20 LIMIT 1'
      )
      .pluck()
      .get() as string;
    const newestFirst = db.transaction(() => {
      db.prepare("UPDATE shipments SET status = 'Delivered' WHERE customer_number = ?").run(small);
      db.prepare(
        `UPDATE shipments SET status = 'Exception' WHERE rowid IN (SELECT rowid FROM shipments
           WHERE customer_number = ? ORDER BY shipped_at DESC, shipment_number DESC LIMIT 3)`
      ).run(small);
      const fresh = new EntityQueries(db, SHIPMENTS, new PageTokens('newest'), 20, {
        minWalkBudget: 1
      });
      const query = {
        $filter: `CustomerNumber eq '${small}' and Status ne 'Delivered'`,
        $top: '1'
      };
      expect(
        fresh.page(parseQueryOptions(query, SHIPMENTS)).rows.map((row) => row.ShipmentNumber)
      ).toEqual(
        reference(
          `customer_number = '${small}' AND status <> 'Delivered'`,
          'shipped_at DESC, shipment_number DESC',
          1
        )
      );
      expect(fresh.lastQueries.at(-1)!.sql).toMatch(
        /walked_rowid.*INDEXED BY "shipments_customer_by_shipped_at"/
      );
      throw new Error('rolled back');
    });
    expect(() => newestFirst()).toThrow('rolled back');
    const customer = db
      .prepare('SELECT customer_number FROM shipments LIMIT 1')
      .pluck()
      .get() as string;
    // The customer alone (its related list): no walk is weighed, and SQLite reads the index leading with the customer
    // and the order, with no sort.
    const related = {
      $filter: `CustomerNumber eq '${customer}'`,
      $orderby: 'DeclaredValue',
      $top: '2'
    };
    expect(
      queries.page(parseQueryOptions(related, SHIPMENTS)).rows.map((row) => row.ShipmentNumber)
    ).toEqual(reference(`customer_number = '${customer}'`, 'declared_value, shipment_number', 2));
    expect(queries.lastQueries.at(-1)!.sql).not.toContain('INDEXED BY');
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

  it('walks from the other end when the matches sit at the far end of the order', () => {
    // Rows 647–679 of 700 in city order: a walk of 330 entries from the start meets none of them.
    for (const [top, skip] of [
      [5, 0],
      [3, 6]
    ] as const) {
      const query = {
        $filter: "Status eq 'Out for Delivery'",
        $orderby: 'DestinationCity',
        $top: String(top),
        $skip: String(skip)
      };
      const page = queries.page(parseQueryOptions(query, SHIPMENTS));
      expect(page.rows.map((row) => row.ShipmentNumber)).toEqual(
        reference("status = 'Out for Delivery'", CITY_ORDER, top, skip)
      );
      const ran = queries.lastQueries.map((q) => q.sql);
      // The walk that stops at its budget (the maintained count says so), then the walk from the other end.
      expect(ran).toHaveLength(2);
      expect(ran[0]).toContain('ORDER BY "destination_city", "shipment_number" LIMIT ?) WHERE');
      expect(ran[1]).toContain(
        'ORDER BY "destination_city" DESC, "shipment_number" DESC LIMIT ?) WHERE'
      );
    }
  });

  it('walks both ends for twice the entries expected first, when that is at most a quarter of the budget', () => {
    // A budget of 100,000 entries: 33 matches of 700 rows, 5 asked for, are expected within 106.1 entries (213 walked).
    const probing = new EntityQueries(db, SHIPMENTS, new PageTokens('probe'), 20, {
      minWalkBudget: 100_000
    });
    /** The page's keys, and each walk's direction and entries. */
    const read = (): { keys: unknown[]; walks: [boolean, unknown][] } => {
      const page = probing.page(parseQueryOptions(OUT_FOR_DELIVERY_BY_CITY, SHIPMENTS));
      return {
        keys: page.rows.map((row) => row.ShipmentNumber),
        walks: probing.lastQueries.map((q) => [
          q.sql.includes('"destination_city" DESC, "shipment_number" DESC LIMIT ?)'),
          q.params[0]
        ])
      };
    };
    // At the far end (rows 647–679 in city order): the walk from the start meets none, the one from the end has them.
    expect(read()).toEqual({
      keys: reference("status = 'Out for Delivery'", CITY_ORDER, 5),
      walks: [
        [false, 213],
        [true, 213]
      ]
    });
    // In the middle: both probes meet none, and the whole budget from the start finds them.
    withMatchesInTheMiddle(() => {
      expect(read()).toEqual({
        keys: reference("status = 'Out for Delivery'", CITY_ORDER, 5),
        walks: [
          [false, 213],
          [true, 213],
          [false, 100_000]
        ]
      });
    });
  });

  it('gives up at the budget when the matches sit in the middle, then sorts them read in key order', () => {
    const middle = new EntityQueries(db, SHIPMENTS, new PageTokens('middle'), 20, {
      minWalkBudget: 1
    });
    withMatchesInTheMiddle(() => {
      const page = middle.page(parseQueryOptions(OUT_FOR_DELIVERY_BY_CITY, SHIPMENTS));
      expect(page.rows.map((row) => row.ShipmentNumber)).toEqual(
        reference("status = 'Out for Delivery'", CITY_ORDER, 5)
      );
      const ran = middle.lastQueries.map((q) => q.sql);
      // The walk from the start, the walk from the end (half its budget), both stopped; then a sort.
      expect(ran).toHaveLength(3);
      expect(ran[1]).toContain('ORDER BY "destination_city" DESC, "shipment_number" DESC LIMIT ?)');
      expect(ran[2]).toContain('INDEXED BY "shipments_by_status" WHERE');
    });
  });

  it('gives up at the budget for several values, then merges each value’s first entries read in order', () => {
    // The returned ones have no delivery date: newest delivery first, they sort after every delivered row.
    const filter = "Status in ('Label Created', 'Returned')";
    const where = "status IN ('Label Created', 'Returned')";
    const order = 'delivered_at DESC, shipment_number DESC';
    expect(reference(where, order).length).toBeGreaterThan(15);
    for (const [top, skip] of [
      [5, 0],
      [3, 2]
    ] as const) {
      const query = {
        $filter: filter,
        $orderby: 'DeliveredAt desc',
        $top: String(top),
        $skip: String(skip)
      };
      expect(allPages(query).rows).toEqual(reference(where, order, top, skip));
      const merged = queries.lastQueries.at(-1)!;
      expect(merged.sql).toContain('UNION ALL');
      expect(merged.sql).toContain('INDEXED BY "shipments_status_by_delivered_at"');
      // Each value read from the index in the order and merged as read, up to the window's end: only the window's
      // rows are sorted, at the end (a branch with its own ORDER BY and LIMIT was read whole and sorted first).
      const plan = queryPlan(db, merged);
      expect(plan.filter((detail) => detail.includes('shipments_status_by_delivered_at'))).toEqual([
        'SEARCH shipments USING COVERING INDEX shipments_status_by_delivered_at (status=?)',
        'SEARCH shipments USING COVERING INDEX shipments_status_by_delivered_at (status=?)'
      ]);
      expect(plan.filter((detail) => detail.startsWith('USE TEMP B-TREE'))).toHaveLength(1);
    }
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

describe('a range of an indexed column (starts with, less than) sorted by another column', () => {
  const keys = createShipmentDatabase(ROWS);
  // The last 50 keys get the greatest weight, so a walk by weight meets them only at the end of the order.
  keys.exec("UPDATE shipments SET weight_kg = 99999 WHERE shipment_number >= 'SHP-0000000651'");
  afterAll(() => keys.close());
  const producer = (tuning = {}) =>
    new EntityQueries(keys, SHIPMENTS, new PageTokens('ranges'), 20, {
      minWalkBudget: 1,
      ...tuning
    });

  /** Every row through `nextLink` pages, with the SQL each page ran. */
  function pages(queries: EntityQueries, query: Record<string, string>) {
    const rows: string[] = [];
    const ran: string[][] = [];
    let token: string | undefined;
    do {
      const q: Record<string, string> = token ? { $skiptoken: token } : query;
      if (token)
        for (const name of ['$filter', '$orderby']) if (query[name]) q[name] = query[name]!;
      const page = queries.page(parseQueryOptions(q, SHIPMENTS));
      ran.push(queries.lastQueries.map((x) => x.sql));
      rows.push(...page.rows.map((row) => row.ShipmentNumber as string));
      token = page.nextToken;
    } while (token);
    return { rows, ran };
  }
  const inSql = (where: string, orderBy: string, top = -1, skip = 0): string[] =>
    keys
      .prepare(
        `SELECT shipment_number FROM shipments WHERE ${where} ORDER BY ${orderBy} LIMIT ? OFFSET ?`
      )
      .pluck()
      .all(top, skip) as string[];
  const walks = (ran: string[]): boolean => ran.some((sql) => sql.includes('walked_rowid'));

  const RANGES: [string, string][] = [
    ["startswith(ShipmentNumber,'SHP-00000001')", "shipment_number GLOB 'SHP-00000001*'"],
    ["ShipmentNumber lt 'SHP-0000000300'", "shipment_number < 'SHP-0000000300'"],
    [
      "ShipmentNumber ge 'SHP-0000000100' and ShipmentNumber le 'SHP-0000000600'",
      "shipment_number BETWEEN 'SHP-0000000100' AND 'SHP-0000000600'"
    ],
    ["ShipmentNumber gt 'SHP-0000000650'", "shipment_number > 'SHP-0000000650'"],
    ["'SHP-0000000695' lt ShipmentNumber", "shipment_number > 'SHP-0000000695'"],
    // Other indexed columns: no order index carries them, so a walk reads each entry's row. DeliveredAt is set on
    // few rows here, so its range reads them by key: the walk tests the filter as written.
    [
      'DeliveredAt le 2026-06-30T01:38:27Z',
      "delivered_at <= '2026-06-30T01:38:27Z' AND delivered_at IS NOT NULL"
    ],
    [
      'ShippedAt ge 2024-01-01T00:00:00Z and ShippedAt lt 2025-06-01T00:00:00Z',
      "shipped_at >= '2024-01-01T00:00:00Z' AND shipped_at < '2025-06-01T00:00:00Z'"
    ]
  ];
  const SORTS: [Record<string, string>, string][] = [
    [{}, 'shipped_at DESC, shipment_number DESC'],
    [{ $orderby: 'DestinationCity' }, 'destination_city, shipment_number'],
    [{ $orderby: 'WeightKg desc' }, 'weight_kg DESC, shipment_number DESC'],
    [{ $orderby: 'Status' }, 'status, shipment_number'],
    [{ $orderby: 'Status desc' }, 'status DESC, shipment_number DESC'],
    // Set on few rows: the rows without one come first ascending, last descending, in key order.
    [{ $orderby: 'DeliveredAt' }, 'delivered_at, shipment_number'],
    [{ $orderby: 'DeliveredAt desc' }, 'delivered_at DESC, shipment_number DESC']
  ];
  const cases = RANGES.flatMap(([filter, where]) =>
    SORTS.map(([order, sqlOrder]) => ({ filter, where, order, sqlOrder }))
  );

  it.each(cases)(
    '$filter by $sqlOrder equals SQL, exactly counted or not',
    ({ filter, where, order, sqlOrder }) => {
      for (const rangeProbe of [16_384, 30]) {
        const queries = producer({ rangeProbe });
        expect(pages(queries, { $filter: filter, ...order }).rows).toEqual(inSql(where, sqlOrder));
        for (const [top, skip] of [
          [5, 0],
          [7, 11]
        ] as const) {
          const query = { $filter: filter, ...order, $top: String(top), $skip: String(skip) };
          expect(pages(queries, query).rows).toEqual(inSql(where, sqlOrder, top, skip));
        }
      }
    }
  );

  it('walks the order’s index for a range of many rows, not for a few', () => {
    const queries = producer();
    const many = pages(queries, { $filter: "ShipmentNumber lt 'SHP-0000000300'", $top: '5' });
    expect(walks(many.ran[0]!)).toBe(true);
    expect(many.ran[0]!.join('\n')).toContain('INDEXED BY "shipments_by_shipped_at"');
    const few = pages(queries, { $filter: "ShipmentNumber gt 'SHP-0000000695'", $top: '5' });
    expect(few.rows).toHaveLength(5);
    expect(walks(few.ran[0]!)).toBe(false);
    // Sorted by a counted column (a few values, then the key), SQLite seeks the range value by value.
    const byCarrier = {
      $filter: "ShipmentNumber lt 'SHP-0000000300'",
      $orderby: 'Carrier',
      $top: '5'
    };
    const carrierPages = pages(queries, byCarrier);
    expect(carrierPages.rows).toEqual(
      inSql("shipment_number < 'SHP-0000000300'", 'carrier, shipment_number', 5)
    );
    expect(walks(carrierPages.ran[0]!)).toBe(false);
    // One branch per status (NULL too), each seeking the range within it: SQLite itself scans the index by status.
    for (const orderBy of ['Status', 'Status desc']) {
      const byStatus = pages(queries, {
        $filter: "ShipmentNumber gt 'SHP-0000000300'",
        $orderby: orderBy,
        $top: '5'
      });
      const sqlOrder =
        orderBy === 'Status' ? 'status, shipment_number' : 'status DESC, shipment_number DESC';
      expect(byStatus.rows).toEqual(inSql("shipment_number > 'SHP-0000000300'", sqlOrder, 5));
      // One branch per status the window reaches, each seeking the range within its value; ascending, the NULL
      // branch comes first, as SQLite sorts NULL.
      const branches = byStatus.ran[0]!.filter((sql) => sql.includes('INDEXED BY'));
      expect(branches.length).toBeGreaterThan(0);
      for (const sql of branches) expect(sql).toMatch(/"shipment_number" > \?/);
      expect(branches[0]!.includes('"status" IS NULL AND')).toBe(orderBy === 'Status');
    }
    // Not a substring of the key: no branch could seek it, each would test every entry of its value.
    const substring = pages(queries, {
      $filter: "contains(ShipmentNumber,'00000003')",
      $orderby: 'Status',
      $top: '5'
    });
    expect(substring.rows).toEqual(
      inSql("instr(shipment_number, '00000003') > 0", 'status, shipment_number', 5)
    );
    expect(substring.ran[0]!.some((sql) => sql.includes('UNION ALL'))).toBe(false);
    // Sorted by the key itself, the range is read in order: nothing to walk.
    const byKey = {
      $filter: "ShipmentNumber lt 'SHP-0000000300'",
      $orderby: 'ShipmentNumber',
      $top: '5'
    };
    expect(walks(pages(queries, byKey).ran[0]!)).toBe(false);
  });

  it("reads the branches' rowids from the index entries in the order's direction until the window is full, then the window's rows alone", () => {
    // A merge read every branch's first rows (each walking its value's entries until it had the window's) before it
    // could return one; before that, each branch read its rows: 25 of each of 21 cities for a page of 25 at 10M rows,
    // at random on a first visit. A branch now asks only for what the window still lacks.
    const queries = producer();
    const range = "shipment_number > 'SHP-0000000300'";
    for (const [orderBy, sqlOrder, direction] of [
      ['Status', 'status, shipment_number', 'ASC'],
      ['Status desc', 'status DESC, shipment_number DESC', 'DESC']
    ] as const) {
      // Each status the table holds (NULL too) with its rows in the range, in the order's direction (NULL first
      // ascending, last descending): one branch each, as the counters list them.
      const perValue = keys
        .prepare(
          `SELECT status, (SELECT count(*) FROM shipments WHERE status IS held.status AND ${range}) AS n ` +
            `FROM (SELECT DISTINCT status FROM shipments) AS held ORDER BY status ${direction}`
        )
        .all() as { status: string | null; n: number }[];
      expect(perValue.some(({ status }) => status === null)).toBe(true);
      // Within the first value holding rows, across its end, and from the third one's start.
      const [first, second] = perValue.filter(({ n }) => n > 0);
      if (!first || !second) throw new Error('the range holds rows of fewer than two statuses');
      for (const [top, skip] of [
        [5, 3],
        [5, first.n - 2],
        [4, first.n + second.n]
      ] as const) {
        const page = queries.page(
          parseQueryOptions(
            {
              $filter: "ShipmentNumber gt 'SHP-0000000300'",
              $orderby: orderBy,
              $top: String(top),
              $skip: String(skip)
            },
            SHIPMENTS
          )
        );
        expect(page.rows.map((row) => row.ShipmentNumber)).toEqual(
          inSql(range, sqlOrder, top, skip)
        );
        // The values whose rows the window ($top bounds it: no row past it is asked) reaches, and only those, read
        // in order; a value with no row in the range is still asked when the window reaches it.
        let before = 0;
        const reached = perValue.filter(({ n }) => {
          const reads = before < skip + top;
          before += n;
          return reads;
        });
        const branches = queries.lastQueries.filter((q) => q.sql.includes('INDEXED BY'));
        expect(branches.map((q) => (q.sql.includes('IS NULL') ? null : q.params[0]))).toEqual(
          reached.map(({ status }) => status)
        );
        for (const branch of branches) {
          const [detail] = queryPlan(keys, branch);
          expect(detail).toContain('USING COVERING INDEX shipments_by_status');
        }
        const rows = queries.lastQueries.at(-1)!;
        expect(queryPlan(keys, rows)[0]).toBe(
          'SEARCH shipments USING INTEGER PRIMARY KEY (rowid=?)'
        );
      }
    }
  });

  it('gives up at the budget when the range sits at the far end of the order, then reads it as SQLite plans', () => {
    const queries = producer({ rangeProbe: 30 });
    const query = {
      // No counter answers a startswith longer than the counted prefix: its rows are probed.
      $filter: "startswith(ShipmentNumber,'SHP-00000006') and ShipmentNumber gt 'SHP-0000000650'",
      $orderby: 'WeightKg',
      $top: '6'
    };
    const { rows, ran } = pages(queries, query);
    expect(rows).toEqual(
      inSql(
        "shipment_number GLOB 'SHP-00000006*' AND shipment_number > 'SHP-0000000650'",
        'weight_kg, shipment_number',
        6
      )
    );
    // The probe; the rows without a weight (none), walked from the key's bounds, and their walked entries counted;
    // the walk of the others that stops at its budget (310 entries, before the range), the count, SQLite's plan.
    expect(ran[0]).toHaveLength(6);
    expect(ran[0]![1]).toContain('("weight_kg" IS NULL) AND (("shipment_number" GLOB ?))');
    expect(ran[0]![3]).toContain('WHERE "weight_kg" IS NOT NULL ORDER BY');
    expect(walks(ran[0]!)).toBe(true);
    expect(ran[0]![5]).not.toContain('INDEXED BY');
  });

  it("reads the rows the order's column leaves NULL from the key's bounds: they are in key order in its index", () => {
    const queries = producer();
    for (const [filter, where] of [
      ["ShipmentNumber gt 'SHP-0000000650'", "shipment_number > 'SHP-0000000650'"],
      ["startswith(ShipmentNumber,'SHP-00000006')", "shipment_number GLOB 'SHP-00000006*'"]
    ]) {
      const { rows, ran } = pages(queries, {
        $filter: filter!,
        $orderby: 'DeliveredAt',
        $top: '5'
      });
      expect(rows).toEqual(inSql(where!, 'delivered_at, shipment_number', 5));
      // The count, then one walk, which seeks the bound and ends the page: from the lowest key, the 600 entries
      // before the range would exceed its budget, and it would give up and sort.
      const walk = ran[0]!.at(-1)!;
      expect(ran[0]!.filter((sql) => walks([sql]))).toEqual([walk]);
      expect(walk).toContain('WHERE ("delivered_at" IS NULL) AND (("shipment_number"');
    }
    // Not a bound under or: the walk tests it from the start of the order.
    const either = pages(queries, {
      $filter: "ShipmentNumber gt 'SHP-0000000650' or Status eq 'Exception'",
      $orderby: 'DeliveredAt',
      $top: '5'
    });
    expect(either.rows).toEqual(
      inSql(
        "shipment_number > 'SHP-0000000650' OR status = 'Exception'",
        'delivered_at, shipment_number',
        5
      )
    );
    expect(either.ran[0]!.join('\n')).not.toContain('IS NULL) AND');
  });
});
