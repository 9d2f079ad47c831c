/**
 * Deep `$skip` pages start from cached positions (`SkipPositions`, migration 12's `table_versions`): every page equals
 * the same query written with a plain SQL OFFSET — across checkpoint boundaries, nullable and mixed-direction
 * orders, filters, past the end — the warm path steps over fewer than `stride` rows, and writes to `shipments` are
 * repaired from its change log (migration 15) instead of starting over, or forgotten when they cannot be.
 */
import { SHIPMENTS } from '../../src/data-virtualization/entity';
import { PageTokens } from '../../src/data-virtualization/paging';
import {
  SkipPositions,
  type OrderingReader,
  type PageStart
} from '../../src/data-virtualization/positions';
import { EntityQueries, parseQueryOptions } from '../../src/data-virtualization/query';
import { createShipmentDatabase, trigramReads } from './support';

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

/** Whether the last page request stepped over fewer rows than the stride (it started from a kept checkpoint). */
function startedNearby(): boolean {
  return offsetsUsed().every((offset) => offset < STRIDE);
}

/** A `$search` of terms in SQL, joined by OR: any searchable column contains one, case-insensitively. */
function searchWhere(...terms: string[]): string {
  const columns = [
    'shipment_number',
    'customer_number',
    'order_number',
    'status',
    'destination_city'
  ];
  return `WHERE ${terms
    .flatMap((term) => columns.map((column) => `instr(lower(${column}), '${term}') > 0`))
    .join(' OR ')}`;
}

/** The rowid of the row at `position` of an ordering. */
function rowAt(where: string, orderBy: string, position: number): number {
  return db
    .prepare(`SELECT rowid FROM shipments ${where} ORDER BY ${orderBy} LIMIT 1 OFFSET ?`)
    .pluck()
    .get(position) as number;
}

describe('writes an ordering depends on repair its positions', () => {
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
    db.prepare(write).run(rowAt('', orderBy, 20));
    expect(page(query)).toEqual(reference('', orderBy, 10, 500));
    expect(startedNearby()).toBe(true);
  });

  it('rows entering and leaving a filter, and writes outside it', () => {
    const query = { $filter: "Carrier eq 'UPS'", $orderby: 'WeightKg', $top: '5', $skip: '40' };
    const [where, orderBy] = ["WHERE carrier = 'UPS'", 'weight_kg, shipment_number'];
    expect(page(query)).toEqual(reference(where, orderBy, 5, 40));
    // One row leaves before the checkpoint, one enters after it, and rows outside the filter move.
    const leaving = rowAt(where, orderBy, 3);
    const entering = rowAt("WHERE carrier IS NOT 'UPS'", orderBy, 0);
    db.prepare("UPDATE shipments SET carrier = 'DHL' WHERE rowid = ?").run(leaving);
    db.prepare("UPDATE shipments SET carrier = 'UPS', weight_kg = 99999 WHERE rowid = ?").run(
      entering
    );
    db.prepare(
      "UPDATE shipments SET weight_kg = 0.01 WHERE carrier IS NOT 'UPS' AND rowid < 100"
    ).run();
    expect(page(query)).toEqual(reference(where, orderBy, 5, 40));
    expect(startedNearby()).toBe(true);
    for (const skip of [20, 63]) {
      expect(page({ ...query, $skip: String(skip) })).toEqual(reference(where, orderBy, 5, skip));
    }
  });

  it('a filter read through a sparse column’s index (the log is read with the plain filter)', () => {
    const query = {
      $filter: "contains(OrderNumber,'SO') or Carrier eq 'UPS'",
      $orderby: 'WeightKg desc',
      $top: '5',
      $skip: '40'
    };
    const where = "WHERE instr(order_number, 'SO') > 0 OR carrier = 'UPS'";
    const orderBy = 'weight_kg DESC, shipment_number DESC';
    // A row with an order number and another carrier, made the heaviest: first in the order.
    const leaving = rowAt(
      "WHERE instr(order_number, 'SO') > 0 AND carrier IS NOT 'UPS'",
      orderBy,
      0
    );
    db.prepare('UPDATE shipments SET weight_kg = 99999 WHERE rowid = ?').run(leaving);
    const before = page(query);
    expect(before).toHaveLength(5);
    expect(before).toEqual(reference(where, orderBy, 5, 40));
    // It leaves the filter, before the checkpoint: every later position shifts by one.
    db.prepare('UPDATE shipments SET order_number = NULL WHERE rowid = ?').run(leaving);
    expect(page(query)).toEqual(reference(where, orderBy, 5, 40));
    expect(startedNearby()).toBe(true);
  });

  it('a $search read through indexes (the log is read with the plain search)', () => {
    const query = {
      $search: 'deliver OR 00000001',
      $orderby: 'WeightKg desc',
      $top: '5',
      $skip: '40'
    };
    const where = searchWhere('deliver', '00000001');
    const orderBy = 'weight_kg DESC, shipment_number DESC';
    const leaving = rowAt("WHERE status = 'Delivered'", orderBy, 0);
    expect(page(query)).toEqual(reference(where, orderBy, 5, 40));
    expect(trigramReads(db, queries.lastQueries)).not.toEqual([]);
    // It leaves the search, before the checkpoint: every later position shifts by one.
    db.prepare("UPDATE shipments SET status = 'Exception' WHERE rowid = ?").run(leaving);
    expect(page(query)).toEqual(reference(where, orderBy, 5, 40));
    expect(startedNearby()).toBe(true);
  });

  it.each([
    ["contains(DestinationCity,'olo')", "WHERE instr(destination_city, 'olo') > 0"],
    ['solo OR houston', searchWhere('solo', 'houston')]
  ])(
    '%s read as the values that hold it, when the last row of a value leaves (the log is read as asked)',
    (filter, where) => {
      const query = {
        ...(filter.includes('(') ? { $filter: filter } : { $search: filter }),
        $orderby: 'WeightKg desc',
        $top: '5',
        $skip: '20'
      };
      const orderBy = 'weight_kg DESC, shipment_number DESC';
      // A city no other row has, on the heaviest row: first in the order, and one of the values read.
      db.prepare(
        "INSERT INTO shipments (shipment_number, customer_number, destination_city, weight_kg) SELECT 'SHP-SOLO', customer_number, 'Solo Town', 1e9 FROM shipments LIMIT 1"
      ).run();
      expect(page(query)).toEqual(reference(where, orderBy, 5, 20));
      // It is deleted: the value is gone from the counts, so the query now reads as values without it. Its logged
      // removal still matches the query as asked, so every later position shifts by one.
      db.prepare("DELETE FROM shipments WHERE shipment_number = 'SHP-SOLO'").run();
      expect(page(query)).toEqual(reference(where, orderBy, 5, 20));
      expect(startedNearby()).toBe(true);
    }
  );

  it('a $search whose candidates change: a row written with the term in its key', () => {
    const query = { $search: '00000001', $orderby: 'WeightKg desc', $top: '5', $skip: '40' };
    const where = searchWhere('00000001');
    const orderBy = 'weight_kg DESC, shipment_number DESC';
    expect(page(query)).toEqual(reference(where, orderBy, 5, 40));
    expect(trigramReads(db, queries.lastQueries)).not.toEqual([]);
    // One more candidate, the heaviest: it sorts before the checkpoint, so every later position shifts by one. The
    // ordering is the search as asked, so its checkpoints are repaired, not found again from the start.
    db.prepare(
      "INSERT INTO shipments (shipment_number, customer_number, weight_kg, shipped_at) SELECT 'SHP-00000001-NEW', customer_number, 1e9, shipped_at FROM shipments LIMIT 1"
    ).run();
    try {
      expect(page(query)).toEqual(reference(where, orderBy, 5, 40));
      expect(startedNearby()).toBe(true);
    } finally {
      db.prepare("DELETE FROM shipments WHERE shipment_number = 'SHP-00000001-NEW'").run();
    }
  });

  it('a deep $search page reads as many candidates as cost what walking to it would', () => {
    // A search may read 5 candidates here. A page past a known position (a stride of 4) that reads 7 rows may read up
    // to 7 × 700 / 11 / 30 = 14: walking the order to the 7th of the 11 keys holding 0045 meets about 445 rows, and a
    // candidate costs 30 of them. So its 11 are read.
    const deep = new EntityQueries(db, SHIPMENTS, new PageTokens('deep'), 50, {
      positions: new SkipPositions(4),
      maxSubstringCandidates: 5,
      searchCandidateFactor: 0
    });
    const query = { $search: '0045', $orderby: 'WeightKg desc', $top: '2', $skip: '4' };
    const rows = deep.page(parseQueryOptions(query, SHIPMENTS)).rows;
    expect(rows.map((row) => row.ShipmentNumber)).toEqual(
      reference(searchWhere('0045'), 'weight_kg DESC, shipment_number DESC', 2, 4)
    );
    expect(trigramReads(db, deep.lastQueries)).not.toEqual([]);
  });

  it('two searches in one order keep their own positions', () => {
    const orderBy = 'weight_kg DESC, shipment_number DESC';
    for (const term of ['deliver', '00000001', 'deliver']) {
      const query = { $search: term, $orderby: 'WeightKg desc', $top: '5', $skip: '40' };
      expect(page(query)).toEqual(reference(searchWhere(term), orderBy, 5, 40));
    }
  });

  it('a row written and removed again in between', () => {
    const query = { $orderby: 'ShippedAt desc', $top: '3', $skip: '300' };
    const orderBy = 'shipped_at DESC, shipment_number DESC';
    expect(page(query)).toEqual(reference('', orderBy, 3, 300));
    db.transaction(() => {
      db.prepare(
        "INSERT INTO shipments (shipment_number, customer_number, shipped_at) SELECT 'SHP-TOUCH', customer_number, '2099-01-01T00:00:00Z' FROM shipments LIMIT 1"
      ).run();
      db.prepare("DELETE FROM shipments WHERE shipment_number = 'SHP-TOUCH'").run();
    })();
    expect(page(query)).toEqual(reference('', orderBy, 3, 300));
    expect(startedNearby()).toBe(true);
  });
});

describe('writes that cannot be repaired forget the positions, and pages stay right', () => {
  it('more matching changes than a repair takes', () => {
    const query = { $orderby: 'DeclaredValue desc', $top: '4', $skip: '450' };
    const orderBy = 'declared_value DESC, shipment_number DESC';
    expect(page(query)).toEqual(reference('', orderBy, 4, 450));
    db.prepare('UPDATE shipments SET declared_value = declared_value + 1 WHERE rowid <= 65').run();
    expect(page(query)).toEqual(reference('', orderBy, 4, 450));
    expect(startedNearby()).toBe(false);
  });

  it('a change the log no longer holds', () => {
    const query = {
      $filter: "Carrier eq 'FedEx'",
      $orderby: 'PackageCount',
      $top: '4',
      $skip: '40'
    };
    const [where, orderBy] = ["WHERE carrier = 'FedEx'", 'package_count, shipment_number'];
    expect(page(query)).toEqual(reference(where, orderBy, 4, 40));
    // A matching row moves to the front; then enough other writes for the log to prune that entry.
    db.prepare('UPDATE shipments SET package_count = -1 WHERE rowid = ?').run(
      rowAt(where, orderBy, 60)
    );
    const outside = rowAt("WHERE carrier IS NOT 'FedEx'", orderBy, 0);
    const touch = db.prepare('UPDATE shipments SET package_count = ? WHERE rowid = ?');
    db.transaction(() => {
      for (let i = 0; i < 3000; i++) touch.run(1000 + i, outside);
    })();
    expect(page(query)).toEqual(reference(where, orderBy, 4, 40));
    expect(startedNearby()).toBe(false);
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
    expect(startedNearby()).toBe(true);
  });
});

describe('SkipPositions', () => {
  /** Rows 0 … rows - 1 whose sort key is their position. */
  const hopper = (rows: number): OrderingReader => ({
    hop: (after, offset) => {
      const position = (after ? (after[0] as number) + 1 : 0) + offset;
      return position < rows ? [position] : undefined;
    }
  });
  const v1 = { stamp: 'v1' };

  it('finds a block with one hop from the nearest known checkpoint, once, and remembers the end', () => {
    const positions = new SkipPositions(10);
    const h = hopper(95);
    const hops: number[] = [];
    const reader: OrderingReader = {
      hop: (after, offset) => {
        hops.push(offset);
        return h.hop(after, offset);
      }
    };
    expect(positions.locate('o', v1, 57, reader)).toEqual({ after: [49], offset: 7 });
    expect(positions.locate('o', v1, 23, reader)).toEqual({ after: [19], offset: 3 });
    expect(positions.locate('o', v1, 25, reader)).toEqual({ after: [19], offset: 5 });
    expect(positions.locate('o', v1, 81, reader)).toEqual({ after: [79], offset: 1 });
    expect(positions.locate('o', v1, 60, reader)).toEqual({ after: [59], offset: 0 });
    // From the start to 49, from the start to 19 (nothing known below), from 49 to 79, from 49 to 59.
    expect(hops).toEqual([49, 19, 29, 9]);
    expect(positions.locate('o', v1, 200, reader)).toBeUndefined();
    expect(positions.locate('o', v1, 300, reader)).toBeUndefined();
    expect(hops).toEqual([49, 19, 29, 9, 119]);
    expect(positions.locate('o', v1, 9, reader)).toEqual({ offset: 9 });
    expect(positions.known('o')).toBe(4);
  });

  it('forgets an ordering’s checkpoints when its versions move and there is no log, and only its own', () => {
    const positions = new SkipPositions(10);
    const h = hopper(1000);
    positions.locate('o', v1, 50, h);
    positions.locate('o', v1, 20, h);
    positions.locate('p', v1, 20, h);
    expect([positions.known('o'), positions.known('p')]).toEqual([2, 1]);
    positions.locate('o', { stamp: 'v2' }, 30, h);
    expect([positions.known('o'), positions.known('p')]).toEqual([1, 1]);
  });

  it('keeps at most maxOrderings orderings, dropping the least recently used', () => {
    const positions = new SkipPositions(10, 2);
    const h = hopper(1000);
    positions.locate('a', v1, 20, h);
    positions.locate('b', v1, 20, h);
    positions.locate('a', v1, 20, h);
    positions.locate('c', v1, 20, h);
    expect([positions.known('a'), positions.known('b'), positions.known('c')]).toEqual([1, 0, 1]);
  });

  /**
   * A sorted set of distinct numbers with a change log, read the way `EntityQueries` reads the table: the model the
   * repair is checked against.
   */
  function loggedRows(initial: number[], retained = Infinity) {
    const rows = [...initial].sort((a, b) => a - b);
    const log: { seq: number; sign: 1 | -1; value: number }[] = [];
    let seq = 0;
    let hops = 0;
    const write = (value: number, sign: 1 | -1): void => {
      if (sign > 0) rows.splice(rows.findIndex((r) => r > value) >>> 0, 0, value);
      else rows.splice(rows.indexOf(value), 1);
      log.push({ seq: ++seq, sign, value });
      while (log.length > retained) log.shift();
    };
    const reader: OrderingReader = {
      hop: (after, offset) => {
        hops++;
        const start = after ? rows.filter((r) => r <= (after[0] as number)).length : 0;
        const value = rows[start + offset];
        return value === undefined ? undefined : [value];
      },
      changes: (since, limit) =>
        log.length > 0 && log[0]!.seq > since + 1
          ? undefined
          : log.filter((c) => c.seq > since).slice(0, limit),
      follows: (change, key) => log.find((c) => c.seq === change.seq)!.value > (key[0] as number)
    };
    return {
      rows,
      reader,
      write,
      version: () => ({ stamp: `v${seq}`, seq }),
      hops: () => hops,
      /** The position a located start points at. */
      positionOf: (start: PageStart) =>
        (start.after ? rows.filter((r) => r <= (start.after![0] as number)).length : 0) +
        start.offset
    };
  }

  it('repairs checkpoints from the log through random inserts and deletes, without hopping again', () => {
    let state = 7;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    const table = loggedRows(Array.from({ length: 1000 }, (_, i) => i * 10));
    const positions = new SkipPositions(16);
    for (let skip = 16; skip < 1000; skip += 16)
      positions.locate('o', table.version(), skip, table.reader);
    const warmHops = table.hops();
    for (let round = 0; round < 300; round++) {
      for (let writes = 1 + random(3); writes > 0; writes--) {
        if (random(2) === 0) {
          let value = random(20000);
          while (table.rows.includes(value)) value = random(20000);
          table.write(value, 1);
        } else {
          table.write(table.rows[random(table.rows.length)]!, -1);
        }
      }
      const skip = 16 + random(table.rows.length - 16);
      const start = positions.locate('o', table.version(), skip, table.reader);
      expect({ round, skip, at: start && table.positionOf(start) }).toEqual({
        round,
        skip,
        at: skip
      });
      expect(start!.offset).toBeLessThan(16 * 2);
    }
    // Checkpoints drift with the writes: a few blocks need a new one, but nothing is found twice from the start.
    expect(table.hops() - warmHops).toBeLessThan(60);
    expect(positions.known('o')).toBeGreaterThanOrEqual(62);
  });

  it('forgets instead when the log no longer reaches back, or more changes match than a repair takes', () => {
    for (const [retained, writes, maxRepairs] of [
      [3, 4, 64],
      [Infinity, 5, 4]
    ] as const) {
      const table = loggedRows(
        Array.from({ length: 200 }, (_, i) => i * 10),
        retained
      );
      const positions = new SkipPositions(10, 32, maxRepairs);
      for (const skip of [50, 100, 150]) positions.locate('o', table.version(), skip, table.reader);
      for (let i = 0; i < writes; i++) table.write(i * 10 + 5, 1);
      const start = positions.locate('o', table.version(), 120, table.reader)!;
      expect(table.positionOf(start)).toBe(120);
      expect(positions.known('o')).toBe(1);
    }
  });
});
