/**
 * A list-view filter of a ShippedAt period sorted by DeliveredAt or EstimatedDelivery (migration 23): the counters
 * bound each delivery date less the shipping date, so the period bounds the order's column too and the walk of its
 * index starts there. The bounds only widen as rows are written, and a value not in the stored format unbounds them.
 * Every page, first, `$skip` and `nextLink` ones, equals the same query written in SQL, NULL dates included.
 */
import { SHIPMENTS } from '../../src/data-virtualization/entity';
import { PageTokens } from '../../src/data-virtualization/paging';
import { EntityQueries, parseQueryOptions } from '../../src/data-virtualization/query';
import {
  dateGapDimension,
  dropShipmentDateGaps,
  installShipmentDateGaps,
  SHIPMENT_DATE_GAPS,
  UNBOUNDED_GAP_SECONDS
} from '../../src/db/migrations';
import { createShipmentDatabase, queryPlan } from './support';

const db = createShipmentDatabase(800);
// The fixture's shipments made to tie on their shipping date were delivered before it: as if never delivered, so
// that the bounds are a few hours to days, as real data's are.
db.exec(`
  UPDATE shipments SET estimated_delivery = NULL, delivered_at = NULL
    WHERE shipped_at = '2024-03-01T12:00:00Z';
  -- Delivered 0.4 s before it was shipped, the smallest difference: its text sorts before the second it is in.
  UPDATE shipments SET shipped_at = '2023-05-05T10:00:00Z', delivered_at = '2023-05-05T09:59:59.600Z'
    WHERE shipment_number = 'SHP-0000000040';
`);
installShipmentDateGaps(db);
afterAll(() => db.close());
const [ESTIMATED, DELIVERED] = SHIPMENT_DATE_GAPS.map(dateGapDimension) as [string, string];

function bounds(dimension: string): { min?: number; max?: number } {
  const rows = db
    .prepare('SELECT value, n FROM shipment_counts WHERE dimension = ?')
    .raw()
    .all(dimension) as [string, number][];
  return Object.fromEntries(rows);
}

/** The difference `to` - `shipped_at` in seconds, smallest and largest, over the rows with both. */
function differences(to: string): { min: number; max: number } {
  return db
    .prepare(
      `SELECT min(d) AS min, max(d) AS max FROM (SELECT (julianday(${to}) - julianday(shipped_at)) * 86400 AS d
         FROM shipments WHERE ${to} IS NOT NULL AND shipped_at IS NOT NULL)`
    )
    .get() as { min: number; max: number };
}

/** Runs `change` and puts the rows and the bounds back afterwards. */
function keeping(change: () => void): void {
  const savepoint = db.transaction(() => {
    change();
    throw new Error('rolled back');
  });
  expect(() => savepoint()).toThrow('rolled back');
}

describe('the bounds', () => {
  it.each([
    ['estimated_delivery', ESTIMATED],
    ['delivered_at', DELIVERED]
  ])('of %s hold every row, within two seconds of the tightest', (to, dimension) => {
    const { min, max } = bounds(dimension);
    const actual = differences(to);
    expect(min).toBeLessThanOrEqual(actual.min);
    expect(min).toBeGreaterThanOrEqual(actual.min - 2);
    expect(max).toBeGreaterThanOrEqual(actual.max);
    expect(max).toBeLessThanOrEqual(actual.max + 2);
  });

  it('widen with an insert or an update, and stay with a delete', () => {
    keeping(() => {
      const before = bounds(DELIVERED);
      const estimated = bounds(ESTIMATED);
      db.prepare(
        'DELETE FROM shipments WHERE rowid IN (SELECT rowid FROM shipments LIMIT 100)'
      ).run();
      expect(bounds(DELIVERED)).toEqual(before);
      db.prepare(
        `INSERT INTO shipments (shipment_number, customer_number, shipped_at, delivered_at)
           VALUES ('SHP-GAP-1', 'C-000001', '2024-01-01T00:00:00Z', '2024-03-01T00:00:00.5Z')`
      ).run();
      expect(before.max).toBeLessThan(60 * 86_400);
      expect(bounds(DELIVERED)).toEqual({ min: before.min, max: 60 * 86_400 + 1 });
      db.prepare(
        "UPDATE shipments SET delivered_at = '2021-04-06T00:00:00Z' WHERE shipment_number = 'SHP-GAP-1'"
      ).run();
      expect(before.min).toBeGreaterThan(-1000 * 86_400);
      expect(bounds(DELIVERED)).toEqual({ min: -1000 * 86_400 - 1, max: 60 * 86_400 + 1 });
      // A NULL on either side bounds nothing.
      db.prepare(
        "UPDATE shipments SET delivered_at = NULL, shipped_at = '1990-01-01T00:00:00Z' WHERE shipment_number = 'SHP-GAP-1'"
      ).run();
      expect(bounds(DELIVERED)).toEqual({ min: -1000 * 86_400 - 1, max: 60 * 86_400 + 1 });
      // Neither this row's estimated delivery (none) nor its new shipping date touched the other pair's bounds.
      expect(bounds(ESTIMATED)).toEqual(estimated);
    });
  });

  it.each([
    ['delivered_at', '2024-03-01 00:00:00', DELIVERED],
    ['delivered_at', '2024-03-01T02:00:00+02:00', DELIVERED],
    ['estimated_delivery', '2024-03-01T00:00:00Z', ESTIMATED]
  ])('are unbounded by %s written as %j, not in the stored format', (column, value, dimension) => {
    keeping(() => {
      db.prepare(`UPDATE shipments SET ${column} = ? WHERE shipment_number = 'SHP-0000000030'`).run(
        value
      );
      expect(bounds(dimension)).toEqual({
        min: -UNBOUNDED_GAP_SECONDS,
        max: UNBOUNDED_GAP_SECONDS
      });
    });
  });

  it('are dropped with their triggers before a bulk load, and counted again after it', () => {
    keeping(() => {
      const before = bounds(DELIVERED);
      dropShipmentDateGaps(db);
      expect(bounds(DELIVERED)).toEqual({});
      db.prepare(
        "UPDATE shipments SET delivered_at = '2099-01-01T00:00:00Z' WHERE shipment_number = 'SHP-0000000031'"
      ).run();
      expect(bounds(DELIVERED)).toEqual({});
      installShipmentDateGaps(db);
      expect(bounds(DELIVERED).min).toBe(before.min);
      expect(bounds(DELIVERED).max).toBeGreaterThan(before.max!);
    });
  });
});

/** The first rows of a period's filter and an order, as SQL reads them. */
function reference(where: string, orderBy: string, limit = -1, offset = 0): string[] {
  return db
    .prepare(
      `SELECT shipment_number FROM shipments WHERE ${where} ORDER BY ${orderBy} LIMIT ? OFFSET ?`
    )
    .pluck()
    .all(limit, offset) as string[];
}

/** Every row through the producer's pages of 20 and their `nextLink`s, and the queries it ran. */
function pages(
  queries: EntityQueries,
  query: Record<string, string>
): { rows: string[]; sql: string[] } {
  const rows: string[] = [];
  const sql: string[] = [];
  let token: string | undefined;
  do {
    const asked = token ? { ...query, $skiptoken: token } : query;
    const page = queries.page(parseQueryOptions(asked, SHIPMENTS), 20);
    rows.push(...page.rows.map((row) => row.ShipmentNumber as string));
    sql.push(...queries.lastQueries.map((q) => q.sql));
    token = page.nextToken;
  } while (token);
  return { rows, sql };
}

/** A period's bounds: shipping dates of rows at a quarter and three quarters of the shipping order. */
const [EARLY, LATE] = [0.25, 0.75].map(
  (share) =>
    db
      .prepare(
        'SELECT shipped_at FROM shipments WHERE shipped_at IS NOT NULL ORDER BY shipped_at LIMIT 1 OFFSET ?'
      )
      .pluck()
      .get(Math.floor(800 * share)) as string
) as [string, string];

const PERIODS: [string, string][] = [
  [`ShippedAt le ${EARLY}`, `shipped_at <= '${EARLY}'`],
  [`ShippedAt gt ${LATE}`, `shipped_at > '${LATE}'`],
  [
    `ShippedAt ge ${EARLY} and ShippedAt lt ${LATE}`,
    `shipped_at >= '${EARLY}' AND shipped_at < '${LATE}'`
  ],
  [
    `Status eq 'Delivered' and ShippedAt lt ${LATE}`,
    `status = 'Delivered' AND shipped_at < '${LATE}'`
  ],
  // From the shipping date of the shipment delivered 0.4 s before it: first by delivery date.
  ['ShippedAt ge 2023-05-05T10:00:00Z', "shipped_at >= '2023-05-05T10:00:00Z'"],
  // A fraction of a second past a row's own shipping date: that row is in.
  [`ShippedAt le ${EARLY.replace('Z', '.5Z')}`, `shipped_at <= '${EARLY}'`]
];
const ORDERS: [string, string][] = [
  ['DeliveredAt desc', 'delivered_at DESC, shipment_number DESC'],
  ['DeliveredAt', 'delivered_at, shipment_number'],
  ['EstimatedDelivery', 'estimated_delivery, shipment_number'],
  ['EstimatedDelivery desc', 'estimated_delivery DESC, shipment_number DESC']
];

describe('a period sorted by a bounded column', () => {
  const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('gaps'), 100, {
    minWalkBudget: 1
  });

  describe.each(PERIODS)('%s', (filter, where) => {
    it.each(ORDERS)(
      'by %s: every page equals SQL, the order read within the bounds',
      (orderBy, sql) => {
        const all = reference(where, sql);
        expect(all.length).toBeGreaterThan(20);
        const read = pages(queries, { $filter: filter, $orderby: orderBy });
        expect(read.rows).toEqual(all);
        const column = orderBy.startsWith('Delivered') ? 'delivered_at' : 'estimated_delivery';
        expect(read.sql.some((q) => q.includes(`("${column}" IS NULL)`))).toBe(true);
        for (const skip of [0, 3, 30]) {
          const page = queries.page(
            parseQueryOptions(
              {
                $filter: filter,
                $orderby: orderBy,
                $top: '5',
                $skip: String(skip),
                $count: 'true'
              },
              SHIPMENTS
            )
          );
          expect(page.rows.map((row) => row.ShipmentNumber)).toEqual(
            reference(where, sql, 5, skip)
          );
          expect(page.count).toBe(all.length);
        }
      }
    );
  });

  it.each(ORDERS)(
    'by %s: the walk tests the period on the entries of the order index, which carry shipped_at (no row read)',
    (orderBy) => {
      const index = `shipments_by_${orderBy.startsWith('Delivered') ? 'delivered_at' : 'estimated_delivery'}`;
      for (const filter of [`ShippedAt le ${EARLY}`, `ShippedAt ge ${LATE}`]) {
        queries.page(
          parseQueryOptions({ $filter: filter, $orderby: orderBy, $top: '5' }, SHIPMENTS)
        );
        const walks = queries.lastQueries.filter((q) => q.sql.includes(`INDEXED BY "${index}"`));
        expect(walks).not.toHaveLength(0);
        for (const walk of walks) {
          expect(queryPlan(db, walk)).toContainEqual(
            expect.stringContaining(`USING COVERING INDEX ${index} `)
          );
        }
      }
    }
  );

  it('the rows whose order column is NULL come first ascending and last descending', () => {
    const delivered = pages(queries, {
      $filter: `ShippedAt le ${EARLY}`,
      $orderby: 'DeliveredAt'
    }).rows;
    const undelivered = reference(
      `shipped_at <= '${EARLY}' AND delivered_at IS NULL`,
      'shipment_number'
    );
    expect(undelivered.length).toBeGreaterThan(0);
    expect(delivered.slice(0, undelivered.length)).toEqual(undelivered);
  });

  it('the bounds are what keeps the walk short: bounds too narrow leave out rows', () => {
    const query = { $filter: `ShippedAt le ${EARLY}`, $orderby: 'DeliveredAt desc', $top: '5' };
    const first = (): unknown[] =>
      queries.page(parseQueryOptions(query, SHIPMENTS)).rows.map((row) => row.ShipmentNumber);
    const expected = reference(
      `shipped_at <= '${EARLY}'`,
      'delivered_at DESC, shipment_number DESC',
      5
    );
    expect(first()).toEqual(expected);
    keeping(() => {
      db.prepare("UPDATE shipment_counts SET n = 0 WHERE dimension = ? AND value = 'max'").run(
        DELIVERED
      );
      expect(first()).not.toEqual(expected);
    });
    expect(first()).toEqual(expected);
  });

  it('without bounds (dropped for a bulk load): the same pages, read without them', () => {
    keeping(() => {
      dropShipmentDateGaps(db);
      const read = pages(queries, {
        $filter: `ShippedAt le ${EARLY}`,
        $orderby: 'DeliveredAt desc'
      });
      expect(read.rows).toEqual(
        reference(`shipped_at <= '${EARLY}'`, 'delivered_at DESC, shipment_number DESC')
      );
      expect(read.sql.some((q) => q.includes('("delivered_at" IS NULL)'))).toBe(false);
    });
  });

  it.each([
    ['an equality', `ShippedAt eq ${EARLY}`],
    ['a period under or', `ShippedAt le ${EARLY} or Status eq 'Exception'`],
    ['a period under not', `not (ShippedAt le ${EARLY})`]
  ])('not for %s, which bounds no row', (_name, filter) => {
    const read = pages(queries, { $filter: filter, $orderby: 'DeliveredAt desc' });
    expect(read.sql.some((q) => q.includes('("delivered_at" IS NULL)'))).toBe(false);
  });
});
