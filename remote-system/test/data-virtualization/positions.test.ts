/**
 * Deep `$skip` pages start from cached positions (`SkipPositions`, migration 12's `table_versions`): every page equals
 * the same query written with a plain SQL OFFSET — across checkpoint boundaries, nullable and mixed-direction
 * orders, filters, past the end — the warm path steps over fewer than `stride` rows, and any write to `shipments`
 * makes the positions forgotten.
 */
import { SHIPMENTS } from '../../src/data-virtualization/entity';
import { PageTokens } from '../../src/data-virtualization/paging';
import { SkipPositions } from '../../src/data-virtualization/positions';
import { EntityQueries, parseQueryOptions } from '../../src/data-virtualization/query';
import { createShipmentDatabase } from './support';

const STRIDE = 16;
const db = createShipmentDatabase(700);
const queries = new EntityQueries(
  db,
  SHIPMENTS,
  new PageTokens('positions'),
  50,
  new SkipPositions(STRIDE)
);
afterAll(() => db.close());

/** The shipment numbers of one `$top`/`$skip` page through the producer. */
function page(query: Record<string, string>): string[] {
  const options = parseQueryOptions(query, SHIPMENTS);
  return queries.page(options).rows.map((row) => row.ShipmentNumber as string);
}

/** The same page as plain SQL (the reference: SQLite's own OFFSET over the same total order). */
function reference(where: string, orderBy: string, top: number, skip: number): string[] {
  return db
    .prepare(`SELECT shipment_number FROM shipments ${where} ORDER BY ${orderBy} LIMIT ? OFFSET ?`)
    .pluck()
    .all(top, skip) as string[];
}

/** OFFSETs the last page request passed to SQLite. */
function offsetsUsed(): number[] {
  return queries.lastQueries
    .filter((q) => q.sql.includes('OFFSET'))
    .map((q) => q.params[q.params.length - 1] as number);
}

const ORDERINGS: { name: string; query: Record<string, string>; where: string; orderBy: string }[] =
  [
    {
      name: 'default order (ShippedAt desc, nullable)',
      query: {},
      where: '',
      orderBy: 'shipped_at DESC, shipment_number DESC'
    },
    {
      name: 'DestinationCity ascending (nullable, NULLs first)',
      query: { $orderby: 'DestinationCity' },
      where: '',
      orderBy: 'destination_city, shipment_number'
    },
    {
      name: 'WeightKg descending (nullable, NULLs last)',
      query: { $orderby: 'WeightKg desc' },
      where: '',
      orderBy: 'weight_kg DESC, shipment_number DESC'
    },
    {
      name: 'mixed directions: Status asc, ShippedAt desc',
      query: { $orderby: 'Status asc,ShippedAt desc' },
      where: '',
      orderBy: 'status, shipped_at DESC, shipment_number DESC'
    },
    {
      name: "filtered: Carrier eq 'UPS' by DestinationCity desc",
      query: { $filter: "Carrier eq 'UPS'", $orderby: 'DestinationCity desc' },
      where: "WHERE carrier = 'UPS'",
      orderBy: 'destination_city DESC, shipment_number DESC'
    }
  ];

describe('a deep $skip page equals the plain OFFSET', () => {
  const skips = [15, 16, 17, 31, 32, 33, 47, 100, 255, 256, 257, 401, 650, 699, 700, 701, 2000];

  it.each(ORDERINGS)('$name, at every depth, cold and warm', ({ query, where, orderBy }) => {
    for (const pass of ['cold', 'warm']) {
      for (const skip of pass === 'cold' ? skips : [...skips].reverse()) {
        for (const top of [1, 7, 40]) {
          const got = page({ ...query, $top: String(top), $skip: String(skip) });
          expect({ pass, skip, top, got }).toEqual({
            pass,
            skip,
            top,
            got: reference(where, orderBy, top, skip)
          });
        }
      }
    }
  });
});

describe('the warm path', () => {
  it('steps over fewer rows than the stride once the depth is known', () => {
    const query = { $orderby: 'DeclaredValue', $top: '5', $skip: '600' };
    page(query);
    const cold = offsetsUsed();
    expect(cold.length).toBeGreaterThan(30); // the hops that found the positions on the way down
    page(query);
    const warm = offsetsUsed();
    expect(warm.every((offset) => offset < STRIDE)).toBe(true);
    expect(warm.length).toBeLessThanOrEqual(1);
  });
});

describe('writes make the positions forgotten', () => {
  it.each([
    [
      'an update of the sort column',
      "UPDATE shipments SET destination_city = 'ZZZ' WHERE rowid = ?"
    ],
    ['a delete', 'DELETE FROM shipments WHERE rowid = ?'],
    [
      'an insert',
      `INSERT INTO shipments (shipment_number, customer_number, destination_city)
         SELECT 'SHP-X' || ?, customer_number, 'AAA' FROM shipments LIMIT 1`
    ]
  ])('%s', (_name, write) => {
    const query = { $orderby: 'DestinationCity', $top: '10', $skip: '500' };
    const orderBy = 'destination_city, shipment_number';
    expect(page(query)).toEqual(reference('', orderBy, 10, 500));
    // A row near the start of the order moves, disappears or arrives: every later position shifts by one.
    const early = db
      .prepare(`SELECT rowid FROM shipments ORDER BY ${orderBy} LIMIT 1 OFFSET 20`)
      .pluck()
      .get() as number;
    db.prepare(write).run(early);
    expect(page(query)).toEqual(reference('', orderBy, 10, 500));
  });
});

describe('SkipPositions', () => {
  const hopper = (rows: number, stride: number) => {
    let calls = 0;
    const hop = (after: (string | number | null)[] | undefined, offset: number) => {
      calls++;
      const position = (after ? (after[0] as number) + 1 : 0) + offset;
      return position < rows ? [position] : undefined;
    };
    return { hop, calls: () => calls, stride };
  };

  it('finds each checkpoint once, and knows where the rows end', () => {
    const positions = new SkipPositions(10);
    const h = hopper(95, 10);
    expect(positions.locate('o', 1, 57, h.hop)).toEqual({ after: [49], offset: 7 });
    expect(h.calls()).toBe(5);
    expect(positions.locate('o', 1, 23, h.hop)).toEqual({ after: [19], offset: 3 });
    expect(h.calls()).toBe(5);
    expect(positions.locate('o', 1, 200, h.hop)).toBeUndefined();
    expect(h.calls()).toBe(10); // checkpoints 59..89, then a hop that finds nothing
    expect(positions.locate('o', 1, 300, h.hop)).toBeUndefined();
    expect(h.calls()).toBe(10);
    expect(positions.locate('o', 1, 9, h.hop)).toEqual({ offset: 9 });
  });

  it('forgets everything when the version moves', () => {
    const positions = new SkipPositions(10);
    const h = hopper(1000, 10);
    positions.locate('o', 1, 50, h.hop);
    expect(positions.known('o')).toBe(5);
    positions.locate('p', 2, 20, h.hop);
    expect(positions.known('o')).toBe(0);
    expect(positions.known('p')).toBe(2);
  });

  it('keeps at most maxOrderings orderings, dropping the least recently used', () => {
    const positions = new SkipPositions(10, 2);
    const h = hopper(1000, 10);
    positions.locate('a', 1, 20, h.hop);
    positions.locate('b', 1, 20, h.hop);
    positions.locate('a', 1, 20, h.hop);
    positions.locate('c', 1, 20, h.hop);
    expect([positions.known('a'), positions.known('b'), positions.known('c')]).toEqual([2, 0, 2]);
  });
});
