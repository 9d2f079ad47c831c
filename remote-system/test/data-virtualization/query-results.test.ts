/**
 * The producer's answers checked against the same question asked another way on the same data: hand-written SQL for
 * the query shapes Salesforce Connect sends, and an independent in-memory evaluator of OData's semantics (null
 * handling, case-sensitive string functions) for randomly generated filters.
 */
import type Database from 'better-sqlite3';
import fc from 'fast-check';
import { SHIPMENTS } from '../../src/data-virtualization/entity';
import {
  allPages,
  createShipmentDatabase,
  startServer,
  type ODataCollection,
  type TestServer
} from './support';

// Real HTTP servers and seeded databases on a shared, busy machine: generous per-test timeouts.
jest.setTimeout(60_000);

type Row = Record<string, string | number | null>;

let db: Database.Database;
let server: TestServer;
let rows: Row[];

beforeAll(async () => {
  db = createShipmentDatabase(1500);
  server = await startServer(db, { pageSize: 97 });
  rows = db.prepare('SELECT * FROM shipments').all() as Row[];
});

afterAll(async () => {
  await server.close();
});

/** The producer's order when a request has no $orderby: newest first, ties by key. */
const NEWEST = 'shipped_at DESC, shipment_number DESC';

const keysOf = (pages: ODataCollection[]): string[] =>
  pages.flatMap((page) => page.value.map((entity) => entity.ShipmentNumber as string));

function sqlKeys(where: string, orderBy: string, params: unknown[] = []): string[] {
  return db
    .prepare(
      `SELECT shipment_number FROM shipments ${where ? `WHERE ${where}` : ''} ORDER BY ${orderBy}`
    )
    .pluck()
    .all(...params) as string[];
}

describe('results equal the same query written in SQL', () => {
  const cases: [string, Record<string, string>, string, string, unknown[]?][] = [
    [
      'key lookup by filter',
      { $filter: "ShipmentNumber eq 'SHP-0000000042'" },
      "shipment_number = 'SHP-0000000042'",
      NEWEST
    ],
    [
      'indirect lookup shape: one customer, newest first',
      { $filter: "CustomerNumber eq 'C-000007'", $orderby: 'ShippedAt desc' },
      "customer_number = 'C-000007'",
      'shipped_at DESC, shipment_number DESC'
    ],
    [
      'customer and date window',
      {
        $filter:
          "CustomerNumber eq 'C-000003' and ShippedAt ge 2025-01-01T00:00:00Z and ShippedAt lt 2026-01-01T00:00:00Z"
      },
      "customer_number = 'C-000003' AND shipped_at >= '2025-01-01T00:00:00Z' AND shipped_at < '2026-01-01T00:00:00Z'",
      NEWEST
    ],
    [
      'status in list, sorted by two keys',
      { $filter: "Status in ('Delivered','Returned')", $orderby: 'Carrier,WeightKg desc' },
      "status IN ('Delivered', 'Returned')",
      'carrier, weight_kg DESC, shipment_number DESC'
    ],
    [
      'contains is case-sensitive',
      { $filter: "contains(DestinationCity,'on')" },
      "instr(destination_city, 'on') > 0",
      NEWEST
    ],
    [
      'contains with GLOB wildcards in the literal',
      { $filter: "contains(DestinationCity,'*City [')" },
      "instr(destination_city, '*City [') > 0",
      NEWEST
    ],
    [
      'startswith / endswith with a quote',
      { $filter: "startswith(DestinationCity,'O''F') or endswith(DestinationCity,'ich')" },
      "substr(destination_city, 1, 3) = 'O''F' OR substr(destination_city, -3) = 'ich'",
      NEWEST
    ],
    [
      'ne keeps nulls (OData: null ne x is true)',
      { $filter: "Carrier ne 'UPS'" },
      "carrier IS NULL OR carrier <> 'UPS'",
      NEWEST
    ],
    [
      'not over a comparison keeps rows whose column is null',
      { $filter: 'not (WeightKg gt 500)' },
      'weight_kg IS NULL OR weight_kg <= 500',
      NEWEST
    ],
    [
      'eq null / ne null',
      { $filter: 'ShippedAt eq null or DeliveredAt ne null' },
      'shipped_at IS NULL OR delivered_at IS NOT NULL',
      NEWEST
    ],
    [
      'Boolean property, negated: null stays out',
      { $filter: 'not IsInsured' },
      'is_insured = 0',
      NEWEST
    ],
    [
      'sort by a nullable column ascending: nulls first',
      { $orderby: 'ShippedAt' },
      '',
      'shipped_at, shipment_number'
    ],
    [
      'sort by a nullable column descending: nulls last',
      { $orderby: 'EstimatedDelivery desc', $filter: "Status ne 'Delivered'" },
      "status IS NULL OR status <> 'Delivered'",
      'estimated_delivery DESC, shipment_number DESC'
    ],
    [
      'mixed directions',
      { $orderby: 'Status asc, ShippedAt desc' },
      '',
      'status, shipped_at DESC, shipment_number DESC'
    ],
    [
      'fractional-second literal',
      { $filter: 'ShippedAt gt 2026-06-24T19:01:00.5Z and ShippedAt le 2026-07-01T00:00:00.999Z' },
      "shipped_at > '2026-06-24T19:01:00Z' AND shipped_at <= '2026-07-01T00:00:00Z'",
      NEWEST
    ],
    [
      'in with date-times: a fraction of a second never matches, null matches null',
      {
        $filter:
          'ShippedAt in (2024-03-01T12:00:00Z, 2024-03-01T12:00:00.5Z, null) or DeliveredAt in (2024-03-01T12:00:00.5Z)'
      },
      "shipped_at = '2024-03-01T12:00:00Z' OR shipped_at IS NULL",
      NEWEST
    ],
    [
      'offset literal',
      { $filter: 'ShippedAt lt 2025-01-01T02:00:00+02:00' },
      "shipped_at < '2025-01-01T00:00:00Z'",
      NEWEST
    ],
    [
      'numbers and dates',
      {
        $filter:
          'PackageCount ge 10 and DeclaredValue lt 5000.5 and EstimatedDelivery gt 2024-06-30'
      },
      "package_count >= 10 AND declared_value < 5000.5 AND estimated_delivery > '2024-06-30'",
      NEWEST
    ],
    [
      '$search: any searchable column, case-insensitive, with NOT',
      { $search: 'zÜrich OR (fallon NOT delivered)' },
      "lower(destination_city) LIKE '%zürich%' OR (lower(destination_city) LIKE '%fallon%' AND NOT (coalesce(lower(status), '') LIKE '%delivered%' OR shipment_number LIKE '%delivered%' OR customer_number LIKE '%delivered%' OR coalesce(order_number, '') LIKE '%delivered%' OR coalesce(lower(destination_city), '') LIKE '%delivered%'))",
      NEWEST
    ]
  ];

  it.each(cases)('%s', async (_name, query, where, orderBy) => {
    const pages = await allPages(server, query);
    const expected = sqlKeys(where, orderBy);
    expect(keysOf(pages)).toEqual(expected);
    // Every page but the last is full, and every page respects the limit.
    pages.forEach((page, i) => {
      expect(page.value.length).toBeLessThanOrEqual(97);
      if (i < pages.length - 1) expect(page.value).toHaveLength(97);
    });
  });

  it('$top and $skip across server-driven pages', async () => {
    const pages = await allPages(server, { $orderby: 'ShippedAt desc', $top: '250', $skip: '30' });
    expect(keysOf(pages)).toEqual(
      sqlKeys('', 'shipped_at DESC, shipment_number DESC').slice(30, 280)
    );
    expect(pages.map((p) => p.value.length)).toEqual([97, 97, 56]);
  });

  it('$top that ends exactly on a page boundary has no dangling next link', async () => {
    const pages = await allPages(server, { $top: '194' });
    expect(pages.map((p) => p.value.length)).toEqual([97, 97]);
    expect(pages[1]?.['@odata.nextLink']).toBeUndefined();
  });

  it('$top=0 returns no rows; $count=true counts all matches on every page', async () => {
    const none = await server.get('Shipments', { $top: '0', $count: 'true' });
    expect(none.json()).toMatchObject({ '@odata.count': 1500, value: [] });
    const pages = await allPages(server, { $filter: "Carrier eq 'UPS'", $count: 'true' });
    const expected = sqlKeys("carrier = 'UPS'", NEWEST).length;
    for (const page of pages) expect(page['@odata.count']).toBe(expected);
  });

  it('a key equality ($filter=ShipmentNumber eq …) is read by key, with every option still applied', async () => {
    const key = 'SHP-0000000042';
    const entity = (await server.get(`Shipments('${key}')`)).json() as Record<string, unknown>;
    delete entity['@odata.context'];
    const ask = async (query: Record<string, string>) =>
      (await server.get('Shipments', query)).json() as ODataCollection & Record<string, unknown>;
    expect((await ask({ $filter: `ShipmentNumber eq '${key}'` })).value).toEqual([entity]);
    expect(
      (await ask({ $filter: `'${key}' eq ShipmentNumber`, $orderby: 'WeightKg' })).value
    ).toEqual([entity]);
    const selected = await ask({
      $filter: `ShipmentNumber eq '${key}'`,
      $select: 'Status,WeightKg',
      $count: 'true'
    });
    expect(selected['@odata.count']).toBe(1);
    expect(selected.value).toEqual([{ Status: entity.Status, WeightKg: entity.WeightKg }]);
    expect((await ask({ $filter: `ShipmentNumber eq '${key}'`, $skip: '1' })).value).toEqual([]);
    expect(
      await ask({ $filter: `ShipmentNumber eq '${key}'`, $top: '0', $count: 'true' })
    ).toMatchObject({
      '@odata.count': 1,
      value: []
    });
    expect(
      await ask({ $filter: "ShipmentNumber eq 'SHP-9999999999'", $count: 'true' })
    ).toMatchObject({ '@odata.count': 0, value: [] });
  });

  it('/$count ignores $top and $skip', async () => {
    const response = await server.get('Shipments/$count', {
      $filter: "Status eq 'Delivered'",
      $top: '1',
      $skip: '5'
    });
    expect(response.status).toBe(200);
    expect(response.body).toBe(
      String(db.prepare("SELECT count(*) FROM shipments WHERE status = 'Delivered'").pluck().get())
    );
  });

  it('$select returns exactly the selected properties, typed as in $metadata', async () => {
    const response = await server.get('Shipments', {
      $select: 'ShipmentNumber,IsInsured,WeightKg,ShippedAt',
      $filter: "ShipmentNumber eq 'SHP-0000000003' or ShipmentNumber eq 'SHP-0000000002'"
    });
    expect(response.json()).toMatchObject({
      value: [
        {
          ShipmentNumber: 'SHP-0000000002',
          IsInsured: expect.any(Boolean),
          WeightKg: expect.any(Number),
          ShippedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
        },
        { ShipmentNumber: 'SHP-0000000003', IsInsured: null, WeightKg: null }
      ]
    });
    const [first] = (response.json() as ODataCollection).value;
    expect(Object.keys(first ?? {})).toEqual([
      'ShipmentNumber',
      'IsInsured',
      'WeightKg',
      'ShippedAt'
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Random filters against an independent evaluator of OData 4.0 semantics.

type Tri = boolean | null;
type Value = string | number | boolean | null;

interface Expr {
  odata: string;
  evalRow(row: Row): Value;
}

const PROPS = SHIPMENTS.properties;
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

function compareValues(a: Value, b: Value): number {
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(utf8(a), utf8(b));
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function literalArbitrary(type: string, column: string): fc.Arbitrary<Expr> {
  const observed = [...new Set(rows.map((r) => r[column]).filter((v) => v !== null))].slice(0, 40);
  const constant = (odata: string, value: Value): Expr => ({ odata, evalRow: () => value });
  switch (type) {
    case 'Edm.String':
      return fc
        .oneof(
          fc.constantFrom(...(observed as string[])),
          fc.constantFrom(
            "O'Fallon",
            'Star*City [Main]?',
            '*',
            '?',
            '[',
            '',
            'Zür',
            'on',
            '%',
            '_',
            'UPS'
          )
        )
        .map((s) => constant(quote(s), s));
    case 'Edm.Boolean':
      return fc.boolean().map((b) => constant(String(b), b));
    case 'Edm.Int32':
    case 'Edm.Double':
    case 'Edm.Decimal':
      return fc
        .oneof(fc.constantFrom(...(observed as number[])), fc.integer({ min: -5, max: 3000 }))
        .map((n) => constant(String(n), n));
    case 'Edm.Date':
      return fc.constantFrom(...(observed as string[])).map((d) => constant(d, d));
    default:
      // DateTimeOffset: an observed instant, sometimes with a fraction of a second.
      return fc
        .tuple(
          fc.constantFrom(...(observed as string[])),
          fc.constantFrom('', '.000', '.5', '.999')
        )
        .map(([instant, fraction]) => ({
          odata: fraction ? instant.replace('Z', `${fraction}Z`) : instant,
          evalRow: () => `${instant.slice(0, -1)}.${(fraction.slice(1) || '0').padEnd(12, '0')}`
        }));
  }
}

function propertyExpr(index: number): Expr {
  const p = PROPS[index]!;
  return {
    odata: p.name,
    evalRow: (row) => {
      const v = row[p.column] ?? null;
      if (v === null) return null;
      if (p.type === 'Edm.Boolean') return v === 1;
      if (p.type === 'Edm.DateTimeOffset') return `${(v as string).slice(0, -1)}.${'0'.repeat(12)}`;
      return v;
    }
  };
}

const comparison: fc.Arbitrary<Expr> = fc
  .tuple(
    fc.integer({ min: 0, max: PROPS.length - 1 }),
    fc.constantFrom('eq', 'ne', 'gt', 'ge', 'lt', 'le'),
    fc.boolean(),
    fc.integer({ min: 0, max: 9 })
  )
  .chain(([index, op, flip, nullChance]) => {
    const p = PROPS[index]!;
    const relational = op !== 'eq' && op !== 'ne';
    const usable = p.type === 'Edm.Boolean' && relational ? 'eq' : op;
    const literal =
      nullChance === 0
        ? fc.constant<Expr>({ odata: 'null', evalRow: () => null })
        : literalArbitrary(p.type, p.column);
    return literal.map((lit): Expr => {
      const prop = propertyExpr(index);
      const [left, right] = flip ? [lit, prop] : [prop, lit];
      return {
        odata: `${left.odata} ${usable} ${right.odata}`,
        evalRow: (row) => {
          const a = left.evalRow(row);
          const b = right.evalRow(row);
          if (usable === 'eq')
            return a === null || b === null ? a === b : compareValues(a, b) === 0;
          if (usable === 'ne')
            return a === null || b === null ? a !== b : compareValues(a, b) !== 0;
          if (a === null || b === null) return false;
          const c = compareValues(a, b);
          return usable === 'gt'
            ? c > 0
            : usable === 'ge'
              ? c >= 0
              : usable === 'lt'
                ? c < 0
                : c <= 0;
        }
      };
    });
  });

const stringProps = PROPS.map((p, i) => [p, i] as const).filter(([p]) => p.type === 'Edm.String');

const stringFunction: fc.Arbitrary<Expr> = fc
  .tuple(
    fc.constantFrom(...stringProps.map(([, i]) => i)),
    fc.constantFrom('contains', 'startswith', 'endswith'),
    fc.constantFrom(
      'on',
      'O',
      "O'F",
      '*',
      'City [',
      '?',
      '',
      'ich',
      'SHP-000000001',
      'Z',
      'UP',
      'x'
    )
  )
  .map(([index, name, text]): Expr => {
    const prop = propertyExpr(index);
    return {
      odata: `${name}(${prop.odata},${quote(text)})`,
      evalRow: (row) => {
        const v = prop.evalRow(row);
        if (v === null) return null;
        const s = v as string;
        return name === 'contains'
          ? s.includes(text)
          : name === 'startswith'
            ? s.startsWith(text)
            : s.endsWith(text);
      }
    };
  });

const inList: fc.Arbitrary<Expr> = fc
  .constantFrom(...stringProps.map(([, i]) => i))
  .chain((index) => {
    const p = PROPS[index]!;
    return fc
      .array(
        fc.oneof(
          literalArbitrary(p.type, p.column),
          fc.constant<Expr>({ odata: 'null', evalRow: () => null })
        ),
        {
          minLength: 1,
          maxLength: 4
        }
      )
      .map((items): Expr => {
        const prop = propertyExpr(index);
        return {
          odata: `${prop.odata} in (${items.map((i) => i.odata).join(',')})`,
          evalRow: (row) => {
            const v = prop.evalRow(row);
            return items.some((item) => {
              const w = item.evalRow(row);
              return v === null || w === null ? v === w : v === w;
            });
          }
        };
      });
  });

const booleanProperty: fc.Arbitrary<Expr> = fc.constant(
  propertyExpr(PROPS.findIndex((p) => p.type === 'Edm.Boolean'))
);

const filterExpr: fc.Memo<Expr> = fc.memo((depth) => {
  const leaf = fc.oneof(comparison, stringFunction, inList, booleanProperty);
  if (depth <= 1) return leaf;
  const sub = filterExpr(depth - 1);
  return fc.oneof(
    { weight: 2, arbitrary: leaf },
    {
      weight: 1,
      arbitrary: sub.map((e): Expr => ({
        odata: `not (${e.odata})`,
        evalRow: (row) => {
          const v = e.evalRow(row) as Tri;
          return v === null ? null : !v;
        }
      }))
    },
    {
      weight: 2,
      arbitrary: fc.tuple(sub, fc.constantFrom('and', 'or'), sub).map(([a, op, b]): Expr => ({
        odata: `(${a.odata}) ${op} (${b.odata})`,
        evalRow: (row) => {
          const x = a.evalRow(row) as Tri;
          const y = b.evalRow(row) as Tri;
          if (op === 'and')
            return x === false || y === false ? false : x === null || y === null ? null : true;
          return x === true || y === true ? true : x === null || y === null ? null : false;
        }
      }))
    }
  );
});

describe('random filters agree with an independent OData evaluator', () => {
  it('200 generated filters (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(filterExpr(3), async (expr) => {
        const response = await server.get('Shipments', {
          $filter: expr.odata,
          $select: 'ShipmentNumber',
          $top: '2000'
        });
        if (response.status !== 200)
          throw new Error(`${expr.odata} → ${response.status} ${response.body}`);
        const pages = await allPages(server, { $filter: expr.odata, $select: 'ShipmentNumber' });
        const actual = keysOf(pages).sort();
        const expected = rows
          .filter((row) => expr.evalRow(row) === true)
          .map((row) => row.shipment_number as string)
          .sort();
        expect(actual).toEqual(expected);
      }),
      { seed: 20261123, numRuns: 200 }
    );
  });
});
