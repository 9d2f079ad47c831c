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
const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('positions'), 50, {
  positions: new SkipPositions(STRIDE)
});
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
    expect(cold).toEqual([600 - (600 % STRIDE) - 1, 600 % STRIDE]); // one hop to the block, then the rest
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

describe('writes that an ordering does not depend on keep its positions', () => {
  it('an update of a column it neither sorts nor filters by', () => {
    const query = { $orderby: 'EstimatedDelivery', $top: '10', $skip: '400' };
    const orderBy = 'estimated_delivery, shipment_number';
    expect(page(query)).toEqual(reference('', orderBy, 10, 400));
    db.prepare(
      "UPDATE shipments SET status = CASE status WHEN 'Delivered' THEN 'Returned' ELSE 'Delivered' END WHERE rowid = 30"
    ).run();
    expect(page(query)).toEqual(reference('', orderBy, 10, 400));
    expect(offsetsUsed().every((offset) => offset < STRIDE)).toBe(true);
  });

  it('but an update of its filter column forgets them', () => {
    const query = { $filter: "Carrier eq 'UPS'", $orderby: 'WeightKg', $top: '5', $skip: '40' };
    const [where, orderBy] = ["WHERE carrier = 'UPS'", 'weight_kg, shipment_number'];
    expect(page(query)).toEqual(reference(where, orderBy, 5, 40));
    const early = db
      .prepare(`SELECT rowid FROM shipments ${where} ORDER BY ${orderBy} LIMIT 1 OFFSET 3`)
      .pluck()
      .get() as number;
    db.prepare("UPDATE shipments SET carrier = 'DHL' WHERE rowid = ?").run(early);
    expect(page(query)).toEqual(reference(where, orderBy, 5, 40));
  });
});

describe('SkipPositions', () => {
  /** Rows 0 … rows - 1 whose sort key is their position. */
  const hopper = (rows: number) => ({
    hop: (after: (string | number | null)[] | undefined, offset: number) => {
      const position = (after ? (after[0] as number) + 1 : 0) + offset;
      return position < rows ? [position] : undefined;
    }
  });

  it('finds a block with one hop from the nearest known checkpoint, once, and remembers the end', () => {
    const positions = new SkipPositions(10);
    const h = hopper(95);
    const hops: number[] = [];
    const hop = (after: (string | number | null)[] | undefined, offset: number) => {
      hops.push(offset);
      return h.hop(after, offset);
    };
    expect(positions.locate('o', 'v1', 57, hop)).toEqual({ after: [49], offset: 7 });
    expect(positions.locate('o', 'v1', 23, hop)).toEqual({ after: [19], offset: 3 });
    expect(positions.locate('o', 'v1', 25, hop)).toEqual({ after: [19], offset: 5 });
    expect(positions.locate('o', 'v1', 81, hop)).toEqual({ after: [79], offset: 1 });
    expect(positions.locate('o', 'v1', 60, hop)).toEqual({ after: [59], offset: 0 });
    // From the start to 49, from the start to 19 (nothing known below), from 49 to 79, from 49 to 59.
    expect(hops).toEqual([49, 19, 29, 9]);
    expect(positions.locate('o', 'v1', 200, hop)).toBeUndefined();
    expect(positions.locate('o', 'v1', 300, hop)).toBeUndefined();
    expect(hops).toEqual([49, 19, 29, 9, 119]);
    expect(positions.locate('o', 'v1', 9, hop)).toEqual({ offset: 9 });
    expect(positions.known('o')).toBe(4);
  });

  it('forgets an ordering’s checkpoints when its versions move, and only its own', () => {
    const positions = new SkipPositions(10);
    const h = hopper(1000);
    positions.locate('o', 'v1', 50, h.hop);
    positions.locate('o', 'v1', 20, h.hop);
    positions.locate('p', 'v1', 20, h.hop);
    expect([positions.known('o'), positions.known('p')]).toEqual([2, 1]);
    positions.locate('o', 'v2', 30, h.hop);
    expect([positions.known('o'), positions.known('p')]).toEqual([1, 1]);
  });

  it('keeps at most maxOrderings orderings, dropping the least recently used', () => {
    const positions = new SkipPositions(10, 2);
    const h = hopper(1000);
    positions.locate('a', 'v1', 20, h.hop);
    positions.locate('b', 'v1', 20, h.hop);
    positions.locate('a', 'v1', 20, h.hop);
    positions.locate('c', 'v1', 20, h.hop);
    expect([positions.known('a'), positions.known('b'), positions.known('c')]).toEqual([1, 0, 1]);
  });
});
