/**
 * `contains`, `startswith` and `endswith` on a counted column (what a list-view filter "contains", "starts with" sends
 * through Salesforce Connect) are read as `in` the column's values that satisfy them, from the maintained counts: the
 * results and counts equal the same filter written in SQL with `instr`/`substr` (an independent form), including
 * awkward values (wildcard characters, quotes, non-ASCII text, NULL), combined with other conditions, under `not`
 * (left as it is), and past the most values a function is read as (left as it is). Substrings of the key are read
 * through its trigram index (migration 16) and `$search` terms through indexes, with the same results and counts
 * as their tests written in SQL.
 */
import { SHIPMENTS } from '../../src/data-virtualization/entity';
import { PageTokens } from '../../src/data-virtualization/paging';
import { SkipPositions } from '../../src/data-virtualization/positions';
import {
  EntityQueries,
  parseQueryOptions,
  type QueryTuning
} from '../../src/data-virtualization/query';
import { parseSearch, writeSearch } from '../../src/data-virtualization/search';
import { trigramQueries } from '../../src/data-virtualization/sql';
import {
  dropShipmentSubstringCounters,
  installShipmentKeySubstringCounters,
  installShipmentSubstringCounters,
  installShipmentPerValueKeySubstringCounters,
  perValueKeySubstringDimension,
  SHIPMENT_PER_VALUE_KEY_SUBSTRING_COUNTED_COLUMNS,
  SHIPMENT_SUBSTRING_COUNTED_COLUMNS,
  substringDimension
} from '../../src/db/migrations';
import { createShipmentDatabase, isTrigramProbe, trigramReads } from './support';

const db = createShipmentDatabase(900);
/** The entity without its key-substring counters, to read a search's count from its columns' rows. */
const WITHOUT_KEY_SUBSTRINGS = {
  ...SHIPMENTS,
  counts: { ...SHIPMENTS.counts!, keySubstrings: undefined }
};
afterAll(() => db.close());
const COLUMNS: Record<string, string> = {
  DestinationCity: 'destination_city',
  Carrier: 'carrier',
  Status: 'status',
  CustomerNumber: 'customer_number'
};

function producer(tuning: QueryTuning = {}) {
  const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('substrings'), 100, tuning);
  return {
    queries,
    /** Every matching key, through `nextLink` pages, newest first, and the `$count` beside them. */
    read(filter: string | { $search: string }): { rows: string[]; count: number } {
      const rows: string[] = [];
      let token: string | undefined;
      let count = -1;
      do {
        const query: Record<string, string> = {
          ...(typeof filter === 'string' ? { $filter: filter } : filter),
          $count: 'true'
        };
        if (token) query.$skiptoken = token;
        const page = queries.page(parseQueryOptions(query, SHIPMENTS));
        count = page.count!;
        rows.push(...page.rows.map((row) => row.ShipmentNumber as string));
        token = page.nextToken;
      } while (token);
      return { rows, count };
    }
  };
}

/**
 * The queries a first page of `filter` ran, asked without `$count`: how the page alone is read (a count reads more
 * candidates, see `countingBudget`).
 */
function pageQueries(filter: string, tuning: QueryTuning = {}): EntityQueries {
  const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('substrings'), 100, tuning);
  queries.page(parseQueryOptions({ $filter: filter }, SHIPMENTS));
  return queries;
}

/** The same filter in SQL on `database`, newest first, with the count. */
function reference(
  where: string,
  params: unknown[] = [],
  database = db
): { rows: string[]; count: number } {
  const rows = database
    .prepare(
      `SELECT shipment_number FROM shipments WHERE ${where} ORDER BY shipped_at DESC, shipment_number DESC`
    )
    .pluck()
    .all(...params) as string[];
  return { rows, count: rows.length };
}

const sqlCountOf = (where: string): number =>
  db.prepare(`SELECT count(*) FROM shipments WHERE ${where}`).pluck().get() as number;

/** OData's string function in an SQL form that shares nothing with the producer's (no GLOB, no counts). */
function sqlFunction(name: string, column: string): string {
  if (name === 'contains') return `instr(${column}, @text) > 0`;
  if (name === 'startswith') return `substr(${column}, 1, length(@text)) = @text`;
  return `substr(${column}, length(${column}) - length(@text) + 1) = @text`;
}

/** Whether the last request tested the function's pattern on the rows themselves. */
const testsRows = (queries: EntityQueries): boolean =>
  queries.lastQueries.some(
    (q) => q.sql.includes('FROM "shipments"') && /GLOB|instr\("/.test(q.sql)
  );

/** Whether the last request read a sparse column's matching keys through its index. */
const readsSparseSet = (queries: EntityQueries): boolean =>
  queries.lastQueries.some((q) => q.sql.includes('IN (SELECT "shipment_number" FROM "shipments"'));

const odataString = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** The five fields the Account page's search looks in: OData property and column. */
const FIELDS: [string, string][] = [
  ['ShipmentNumber', 'shipment_number'],
  ['OrderNumber', 'order_number'],
  ['Status', 'status'],
  ['Carrier', 'carrier'],
  ['DestinationCity', 'destination_city']
];

const LITERALS: [string, string[]][] = [
  [
    'DestinationCity',
    ['ich', 'Zürich', 'ü', '*City', '[Main]?', "O'F", '100%', '_1', 'n', '', 'no such city']
  ],
  ['Carrier', ['UPS', 'S', 'x']],
  ['Status', ['Deliver', 'Transit', 'ed', ' ']],
  ['CustomerNumber', ['C-00001', '1', '00']]
];
const cases = LITERALS.flatMap(([property, texts]) =>
  ['contains', 'startswith', 'endswith'].flatMap((name) =>
    texts.map((text) => ({ property, name, text }))
  )
);

describe('a string function on a counted column equals it written in SQL', () => {
  const { queries, read } = producer();
  it.each(cases)('$name($property, $text)', ({ property, name, text }) => {
    const filter = `${name}(${property},${odataString(text)})`;
    expect(read(filter)).toEqual(reference(sqlFunction(name, COLUMNS[property]!), [{ text }]));
    // Read as a list of values from the counts: no row is tested with the function.
    expect(testsRows(queries)).toBe(false);
  });

  it.each([
    [
      "contains(DestinationCity,'a') and Status eq 'Delivered'",
      "instr(destination_city, 'a') > 0 AND status = 'Delivered'"
    ],
    [
      "startswith(Carrier,'U') or endswith(DestinationCity,'ich')",
      "substr(carrier, 1, 1) = 'U' OR substr(destination_city, -3) = 'ich'"
    ],
    [
      "contains(DestinationCity,'a') and contains(ShipmentNumber,'7')",
      "instr(destination_city, 'a') > 0 AND instr(shipment_number, '7') > 0"
    ]
  ])('combined: %s', (filter, where) => {
    expect(read(filter)).toEqual(reference(where, []));
  });

  it('counts from the maintained counts alone', () => {
    queries.count(parseQueryOptions({ $filter: "contains(DestinationCity,'a')" }, SHIPMENTS));
    expect(queries.lastQueries.every((q) => q.sql.includes('shipment_counts'))).toBe(true);
  });
});

describe('any other condition on one counted column is read as the values it holds for', () => {
  it.each([
    ["Status ge 'Delivered'", "status >= 'Delivered'"],
    ["not (Carrier lt 'UPS')", "carrier IS NULL OR carrier >= 'UPS'"],
    ["not contains(DestinationCity,'a')", "instr(destination_city, 'a') = 0"],
    [
      "not (DestinationCity eq 'Zürich' or startswith(DestinationCity,'A'))",
      "destination_city IS NOT 'Zürich' AND destination_city NOT GLOB 'A*'"
    ],
    [
      "CustomerNumber gt 'C-000010' and not endswith(CustomerNumber,'7')",
      "customer_number > 'C-000010' AND customer_number NOT GLOB '*7'"
    ],
    ["Carrier lt 'UPS' and Status eq 'Delivered'", "carrier < 'UPS' AND status = 'Delivered'"]
  ])('%s', (filter, where) => {
    const { queries, read } = producer();
    const result = read(filter);
    expect(result.count).toBeGreaterThan(0);
    expect(result).toEqual(reference(where, []));
    // Every page reads the rows of the listed values (`IN`), with the condition on them no more.
    const pages = queries.lastQueries.filter((q) => q.sql.startsWith('SELECT "shipment_number"'));
    expect(pages.length).toBeGreaterThan(0);
    expect(
      pages.every((q) => / IN \(/.test(q.sql) && !/[<>]=? \?|GLOB|instr|NOT \(/.test(q.sql))
    ).toBe(true);
  });
});

describe('left as written', () => {
  it('under not, where a NULL column must stay excluded', () => {
    const { read } = producer();
    // NULL cities: contains(null, …) is null, and not null is null, so they are not returned.
    expect(read("not contains(DestinationCity,'a')")).toEqual(
      reference("NOT (instr(destination_city, 'a') > 0)", [])
    );
  });

  it('past the most values a function is read as', () => {
    const { queries, read } = producer({ maxResolvedValues: 2 });
    expect(read("contains(DestinationCity,'a')")).toEqual(
      reference("instr(destination_city, 'a') > 0", [])
    );
    expect(testsRows(queries)).toBe(true);
  });

  it.each([
    ["contains(OrderNumber,'1')", "instr(order_number, '1') > 0", true],
    [
      "startswith(OrderNumber,'SO') and ShippedAt ge 2024-01-01T00:00:00Z",
      "substr(order_number, 1, 2) = 'SO' AND shipped_at >= '2024-01-01T00:00:00Z'",
      true
    ],
    [
      "contains(OrderNumber,'1') or Status eq 'Exception'",
      "instr(order_number, '1') > 0 OR status = 'Exception'",
      true
    ],
    [
      "CustomerNumber eq 'C-000001' and (contains(ShipmentNumber,'7') or contains(OrderNumber,'1'))",
      "customer_number = 'C-000001' AND (instr(shipment_number, '7') > 0 OR instr(order_number, '1') > 0)",
      true
    ],
    // Any condition on it alone that is not true where it is null: its rows are among the few it is set on.
    ["not contains(OrderNumber,'1')", "NOT (instr(order_number, '1') > 0)", true],
    ["OrderNumber gt 'SO-0000010'", "order_number > 'SO-0000010'", true],
    ["OrderNumber ne 'SO-0000001'", "order_number IS NOT 'SO-0000001'", false],
    [
      "not (OrderNumber lt 'SO-0000100')",
      "order_number IS NULL OR order_number >= 'SO-0000100'",
      false
    ]
  ])('on a sparse column: %s (read through its index: %s)', (filter, where, throughIndex) => {
    const { queries, read } = producer();
    const result = read(filter);
    expect(result.count).toBeGreaterThan(0);
    expect(result).toEqual(reference(where, []));
    expect(readsSparseSet(queries)).toBe(throughIndex);
  });

  it('asks whether a column is sparse again only after a write moves its rows or values', () => {
    const own = createShipmentDatabase(300);
    try {
      const queries = new EntityQueries(own, SHIPMENTS, new PageTokens('sparse'), 100, {
        maxSparseRows: 50
      });
      const probes = (): number =>
        queries.lastQueries.filter((q) => q.sql.includes('IS NOT NULL LIMIT ?')).length;
      const run = (): string[] =>
        queries
          .page(parseQueryOptions({ $filter: "contains(OrderNumber,'1')" }, SHIPMENTS))
          .rows.map((row) => row.ShipmentNumber as string);
      const inSql = (): string[] =>
        own
          .prepare(
            "SELECT shipment_number FROM shipments WHERE instr(order_number, '1') > 0 ORDER BY shipped_at DESC, shipment_number DESC"
          )
          .pluck()
          .all() as string[];
      expect(run()).toEqual(inSql());
      expect(probes()).toBe(1);
      expect(run()).toEqual(inSql());
      expect(probes()).toBe(0);
      own.exec("UPDATE shipments SET order_number = 'SO-0000001' WHERE rowid <= 100");
      expect(run()).toEqual(inSql());
      expect(probes()).toBe(1);
      expect(readsSparseSet(queries)).toBe(false);
    } finally {
      own.close();
    }
  });

  it('not on a column set on more rows than a sparse one', () => {
    const { queries, read } = producer({ maxSparseRows: 3 });
    expect(read("contains(OrderNumber,'1') or Status eq 'Exception'")).toEqual(
      reference("instr(order_number, '1') > 0 OR status = 'Exception'", [])
    );
    expect(readsSparseSet(queries)).toBe(false);
  });

  it('on a column without counts', () => {
    const { read } = producer();
    expect(read("contains(ShipmentNumber,'12')")).toEqual(
      reference("instr(shipment_number, '12') > 0", [])
    );
  });
});

/** The trigram queries the last request counted candidates of (`substringCandidates`' probes), in order. */
const probedTrigrams = (queries: EntityQueries): unknown[] =>
  queries.lastQueries.filter(isTrigramProbe).map((q) => q.params[0]);

/** Whether the last request read rows through candidates from the key's trigram index (not only counted them). */
const readsTrigrams = (queries: EntityQueries): boolean =>
  trigramReads(db, queries.lastQueries).length > 0;

/** Every column of shipments but the key (the first), to copy a row under another key. */
const otherColumns = (
  db.prepare("SELECT name FROM pragma_table_info('shipments')").pluck().all() as string[]
)
  .slice(1)
  .join(', ');

/** For the enclosing `describe`: copies of the first rows under `keys`, inserted before its tests, deleted after. */
function withKeys(keys: readonly string[]): void {
  beforeAll(() => {
    const copy = db.prepare(
      `INSERT INTO shipments SELECT ?, ${otherColumns} FROM shipments WHERE rowid = ?`
    );
    keys.forEach((key, i) => copy.run(key, i + 1));
  });
  afterAll(() => {
    db.prepare(`DELETE FROM shipments WHERE shipment_number IN (${keys.map(() => '?')})`).run(
      ...keys
    );
  });
}

describe('a substring of the key', () => {
  // Keys the generator never makes: lower case, quotes, wildcard characters, non-ASCII text.
  const ODD_KEYS = [
    'shp-odd-1',
    'SHP-"Q"-2',
    "SHP-O'K-3",
    'SHP-*[x]?-4',
    'SHP-Zürich-5',
    'SHP-ÜBER-6'
  ];
  withKeys(ODD_KEYS);

  it.each([
    ['contains', '0000000123'],
    ['contains', 'SHP-000000088'],
    ['endswith', '0777'],
    ['contains', '9999'],
    ['contains', 'shp-0000000123'],
    ['contains', 'shp-odd'],
    ['endswith', '"Q"-2'],
    ['contains', "O'K"],
    ['contains', '*[x]?'],
    ['contains', 'Zürich'],
    ['contains', 'über'],
    ['contains', 'ÜBER']
  ])('%s(ShipmentNumber, %s) reads the trigram index', (name, text) => {
    const { queries, read } = producer();
    expect(read(`${name}(ShipmentNumber,${odataString(text)})`)).toEqual(
      reference(sqlFunction(name, 'shipment_number'), [{ text }])
    );
    expect(readsTrigrams(queries)).toBe(true);
  });

  it.each([
    ["contains(ShipmentNumber,'12')", "instr(shipment_number, '12') > 0", {}],
    [
      "startswith(ShipmentNumber,'SHP-00000001')",
      "substr(shipment_number, 1, 12) = 'SHP-00000001'",
      {}
    ],
    [
      "not contains(ShipmentNumber,'0000000123')",
      "NOT (instr(shipment_number, '0000000123') > 0)",
      {}
    ],
    [
      "contains(ShipmentNumber,'SHP-')",
      "instr(shipment_number, 'SHP-') > 0",
      { maxSubstringCandidates: 50 }
    ]
  ])(
    '%s is tested on the rows (no trigram, a prefix, under not, too many candidates)',
    (filter, where, tuning) => {
      const { queries, read } = producer(tuning);
      expect(read(filter)).toEqual(reference(where, []));
      expect(readsTrigrams(queries)).toBe(false);
    }
  );

  it('a count reads more candidates than a page: while they are fewer than the rows / 30', () => {
    const tuning = { maxSubstringCandidates: 5 };
    /** A `$count` of `contains(ShipmentNumber, text)`, and whether it read rows through the trigram index. */
    const count = (text: string): { n: number; trigrams: boolean } => {
      const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('count'), 100, tuning);
      const filter = `contains(ShipmentNumber,'${text}')`;
      const n = queries.count(parseQueryOptions({ $filter: filter }, SHIPMENTS));
      return { n, trigrams: readsTrigrams(queries) };
    };
    const rows = sqlCountOf('1');
    // The rare trigram 012 is in 11 keys: more than a page reads, fewer than rows / 30.
    expect(sqlCountOf("instr(shipment_number, '012') > 0")).toBe(11);
    expect(rows / 30).toBeGreaterThan(11);
    expect(readsTrigrams(pageQueries("contains(ShipmentNumber,'SHP-0000000012')", tuning))).toBe(
      false
    );
    expect(count('SHP-0000000012')).toEqual({
      n: sqlCountOf("instr(shipment_number, 'SHP-0000000012') > 0"),
      trigrams: true
    });
    const negated = new EntityQueries(db, SHIPMENTS, new PageTokens('count'), 100, tuning);
    expect(
      negated.count(
        parseQueryOptions({ $filter: "not contains(ShipmentNumber,'SHP-0000000012')" }, SHIPMENTS)
      )
    ).toBe(sqlCountOf("instr(shipment_number, 'SHP-0000000012') = 0"));
    expect(readsTrigrams(negated)).toBe(true);
    // A first page with its count: its one row is found among those candidates, and the page read from it.
    const first = new EntityQueries(db, SHIPMENTS, new PageTokens('count'), 100, tuning);
    const page = first.page(
      parseQueryOptions(
        { $filter: "contains(ShipmentNumber,'SHP-0000000012')", $count: 'true' },
        SHIPMENTS
      )
    );
    expect([page.count, page.rows.map((r) => r.ShipmentNumber)]).toEqual([1, ['SHP-0000000012']]);
    expect(
      trigramReads(db, first.lastQueries, (q) => q.sql.startsWith('SELECT "shipments".rowid FROM'))
    ).not.toEqual([]);
    // Every key holds 000: more than rows / 30, so they are tested on the rows.
    expect(count('SHP-0000000')).toEqual({
      n: sqlCountOf("instr(shipment_number, 'SHP-0000000') > 0"),
      trigrams: false
    });
  });

  it('reads no candidates of a text its substring counter says more rows hold than the budget', () => {
    /** Whether a first page of `contains(ShipmentNumber, text)` counted trigram candidates. */
    const probes = (text: string, tuning: QueryTuning): boolean =>
      probedTrigrams(pageQueries(`contains(ShipmentNumber,'${text}')`, tuning)).length > 0;
    expect(sqlCountOf("instr(shipment_number, '0012') > 0")).toBe(11);
    expect(probes('0012', {})).toBe(true);
    expect(probes('0012', { maxSubstringCandidates: 10 })).toBe(false);
  });

  it("a page reads a key's candidates only while they cost less than walking the order to its last row", () => {
    // 0012 (11 keys, counted): a page of 100 walks the whole index (906 entries, worth 30 candidates' reads at 30
    // entries each), so its 11 candidates are read; a page of 2 walks to the 3rd key that holds it, about 3 × 906 / 11
    // entries, worth 8 candidates' reads: none is read, and the walk gives the same rows.
    const expected = reference("instr(shipment_number, '0012') > 0");
    for (const [top, probed] of [
      ['100', true],
      ['2', false]
    ] as const) {
      const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('walk'), 100);
      const page = queries.page(
        parseQueryOptions({ $filter: "contains(ShipmentNumber,'0012')", $top: top }, SHIPMENTS)
      );
      expect(page.rows.map((row) => row.ShipmentNumber)).toEqual(
        expected.rows.slice(0, Number(top))
      );
      expect(probedTrigrams(queries).length > 0).toBe(probed);
    }
  });

  it('counts a short substring by its counter, listing none of its candidates', () => {
    const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('counted'), 100);
    const n = queries.count(
      parseQueryOptions({ $filter: "contains(ShipmentNumber,'0012')" }, SHIPMENTS)
    );
    expect(n).toBe(sqlCountOf("instr(shipment_number, '0012') > 0"));
    expect(probedTrigrams(queries)).toEqual([]);
  });

  it('asks each trigram query once in a page and its count', () => {
    const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('once'), 100);
    queries.page(
      parseQueryOptions(
        { $filter: "contains(ShipmentNumber,'0000000123')", $count: 'true' },
        SHIPMENTS
      )
    );
    const asked = probedTrigrams(queries);
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked).size).toBe(asked.length);
    // The count's resolution read the same candidates: the page's one-pass read of its rows.
    expect(
      trigramReads(db, queries.lastQueries, (q) =>
        q.sql.startsWith('SELECT "shipments".rowid FROM')
      )
    ).not.toEqual([]);
  });

  it('asks for its trigrams as common as the substring counters say they are', () => {
    /** The trigram queries a first page of `contains(ShipmentNumber,'0000000012')` counted candidates of. */
    const asked = (): unknown[] =>
      probedTrigrams(pageQueries("contains(ShipmentNumber,'0000000012')"));
    // 000 is in every key, 001 in a tenth, 012 in 11 keys: the rare one is asked for alone.
    expect(asked()).toEqual(['"012"']);
    // Told by its counter that nearly every key holds 012, the plan keeps the least common trigram instead.
    const dimension = substringDimension(SHIPMENT_SUBSTRING_COUNTED_COLUMNS[0]);
    const counter = `dimension = '${dimension}' AND value = 'v:012'`;
    const n = db.prepare(`SELECT n FROM shipment_counts WHERE ${counter}`).pluck().get() as number;
    db.exec(`UPDATE shipment_counts SET n = 100000 WHERE ${counter}`);
    try {
      expect(asked()).toEqual(['"001"']);
      // Without the counters (the row that marks them complete gone), a sample of the keys tells it.
      db.prepare(
        "UPDATE shipment_counts SET value = 'aside' WHERE dimension = ? AND value = ''"
      ).run(dimension);
      expect(asked()).toEqual(['"012"']);
    } finally {
      db.prepare(`UPDATE shipment_counts SET n = ? WHERE ${counter}`).run(n);
      db.prepare(
        "UPDATE shipment_counts SET value = '' WHERE dimension = ? AND value = 'aside'"
      ).run(dimension);
    }
  });

  it('combined with other conditions', () => {
    const { queries, read } = producer();
    expect(
      read(
        "contains(ShipmentNumber,'00000001') and Status eq 'Delivered' or contains(ShipmentNumber,'odd')"
      )
    ).toEqual(
      reference(
        "instr(shipment_number, '00000001') > 0 AND status = 'Delivered' OR instr(shipment_number, 'odd') > 0",
        []
      )
    );
    expect(readsTrigrams(queries)).toBe(true);
  });

  it('follows inserted, renamed and deleted keys', () => {
    const { read } = producer();
    const found = (text: string): string[] => read(`contains(ShipmentNumber,'${text}')`).rows;
    db.prepare(
      `INSERT INTO shipments SELECT 'SHP-NEW-777', ${otherColumns} FROM shipments WHERE rowid = 9`
    ).run();
    expect(found('NEW-77')).toEqual(['SHP-NEW-777']);
    db.prepare(
      "UPDATE shipments SET shipment_number = 'SHP-RENAMED-1' WHERE shipment_number = 'SHP-NEW-777'"
    ).run();
    expect(found('NEW-77')).toEqual([]);
    expect(found('RENAMED')).toEqual(['SHP-RENAMED-1']);
    db.prepare("DELETE FROM shipments WHERE shipment_number = 'SHP-RENAMED-1'").run();
    expect(found('RENAMED')).toEqual([]);
  });
});

describe("an or of string functions (the Account page's search) is read as one set of rows", () => {
  /** The term in any of the five fields, as OData and as SQL written with `instr`. */
  const anyField = (term: string): [string, string] => [
    `(${FIELDS.map(([p]) => `contains(${p},${odataString(term)})`).join(' or ')})`,
    `(${FIELDS.map(([, c]) => `instr(${c}, @text) > 0`).join(' OR ')})`
  ];
  /** Whether the last page read its rows from the union of the functions' rows (the key's, the order number's…). */
  const readsUnion = (queries: EntityQueries): boolean =>
    trigramReads(
      db,
      queries.lastQueries,
      (q) =>
        q.sql.startsWith('SELECT "') &&
        /"shipments"\.rowid IN \(SELECT value FROM json_each\(\?\) UNION ALL SELECT rowid FROM "shipments" WHERE "order_number" IS NOT NULL/.test(
          q.sql
        )
    ).length > 0;

  it.each(
    [undefined, 'C-000001', 'C-000027'].flatMap((customer) =>
      [
        '0000001',
        '00000012',
        'shp-0000000',
        'SO-00000',
        'DHL',
        'Deliver',
        'ich',
        "O'F",
        'no such text'
      ].map((term) => [customer, term])
    )
  )('the shipments of %s with the term %s in any of five fields', (customer, term) => {
    const { queries, read } = producer();
    const [odata, sql] = anyField(term!);
    const [filter, where] = customer
      ? [
          `CustomerNumber eq '${customer}' and ${odata}`,
          `customer_number = '${customer}' AND ${sql}`
        ]
      : [odata, sql];
    expect(read(filter)).toEqual(reference(where, [{ text: term }]));
    // Alone, every term here has fewer rows than the default limit; beside a customer, see below.
    if (!customer) expect(readsUnion(queries)).toBe(true);
  });

  it.each([
    ['a term without a trigram', 'SH', {}],
    ['more candidates than allowed', '0000001', { maxSubstringCandidates: 3 }],
    ['more rows of a counted column than allowed', 'Deliver', { maxSubstringCandidates: 50 }]
  ])('left as it is: %s', (_name, term, tuning) => {
    const { queries, read } = producer(tuning);
    const [odata, sql] = anyField(term);
    expect(read(odata)).toEqual(reference(sql, [{ text: term }]));
    expect(readsUnion(queries)).toBe(false);
  });

  it("beside a counted condition on few rows, they are walked instead (a small customer's search)", () => {
    // 61 rows: reading more than two candidates costs more than testing them all.
    const [odata, sql] = anyField('0000001');
    const alone = producer();
    expect(alone.read(odata)).toEqual(reference(sql, [{ text: '0000001' }]));
    expect(readsUnion(alone.queries)).toBe(true);
    expect(sqlCountOf("customer_number = 'C-000002'")).toBe(61);
    const beside = producer();
    expect(beside.read(`CustomerNumber eq 'C-000002' and ${odata}`)).toEqual(
      reference(`customer_number = 'C-000002' AND ${sql}`, [{ text: '0000001' }])
    );
    expect(readsUnion(beside.queries)).toBe(false);
  });

  it('beside a counted condition on many rows, more candidates pay than alone', () => {
    // Every carrier: hundreds of rows, so reading a few dozen candidates costs less than walking them.
    const carriers = "Carrier in ('DB Schenker','DHL','FedEx','UPS','USPS')";
    const [odata, sql] = anyField('00000010');
    const tuning = { maxSubstringCandidates: 5 };
    expect(producer(tuning).read(odata)).toEqual(reference(sql, [{ text: '00000010' }]));
    expect(readsUnion(pageQueries(odata, tuning))).toBe(false);
    expect(producer(tuning).read(`${carriers} and ${odata}`)).toEqual(
      reference(`carrier IS NOT NULL AND ${sql}`, [{ text: '00000010' }])
    );
    expect(readsUnion(pageQueries(`${carriers} and ${odata}`, tuning))).toBe(true);
  });
});

describe("an or with a sparse column's function beside others, needed true, is counted in two parts", () => {
  /**
   * 300 rows where IsInsured or an order number holding 'X1' decide: order numbers on rows insured (counted by the
   * first part, and not again by the second), not insured, and with IsInsured null (the others are null, not false:
   * the second part counts them), and a row insured with no order number.
   */
  const own = createShipmentDatabase(300);
  afterAll(() => own.close());
  own.exec(`
    UPDATE shipments SET order_number = 'SO-X1', is_insured = 1 WHERE shipment_number = 'SHP-0000000021';
    UPDATE shipments SET order_number = 'SO-X1', is_insured = 0 WHERE shipment_number = 'SHP-0000000030';
    UPDATE shipments SET order_number = 'SO-X12' WHERE shipment_number IN ('SHP-0000000003', 'SHP-0000000004');
    UPDATE shipments SET order_number = NULL, is_insured = 1 WHERE shipment_number = 'SHP-0000000040';
  `);
  const inSql = (where: string): { rows: string[]; count: number } => reference(where, [], own);
  /** The page of every matching key and its count (`page`), and the count alone (`count`), by the producer. */
  const byProducer = (filter: string) => {
    // Two producers: the first keeps the count it read with the page.
    const paging = new EntityQueries(own, SHIPMENTS, new PageTokens('parts'), 2000);
    const counting = new EntityQueries(own, SHIPMENTS, new PageTokens('parts'), 2000);
    const page = paging.page(parseQueryOptions({ $filter: filter, $count: 'true' }, SHIPMENTS));
    const count = counting.count(parseQueryOptions({ $filter: filter }, SHIPMENTS));
    return {
      page: { rows: page.rows.map((row) => row.ShipmentNumber as string), count: page.count },
      pageInParts: readInParts(paging),
      count,
      countInParts: readInParts(counting)
    };
  };
  /** Whether the last request read the sparse column's rows apart, where the others are not true. */
  const readInParts = (queries: EntityQueries): boolean =>
    queries.lastQueries.some((q) => q.sql.includes(' AND NOT coalesce('));

  it.each([
    [
      "IsInsured or contains(OrderNumber,'X1')",
      true,
      "is_insured = 1 OR instr(order_number, 'X1') > 0"
    ],
    [
      "(contains(OrderNumber,'X1') or IsInsured) and CustomerNumber ne 'C-000002'",
      true,
      "(instr(order_number, 'X1') > 0 OR is_insured = 1) AND customer_number <> 'C-000002'"
    ],
    [
      "CustomerNumber eq 'C-000001' and (contains(ShipmentNumber,'7') or contains(OrderNumber,'1'))",
      true,
      "customer_number = 'C-000001' AND (instr(shipment_number, '7') > 0 OR instr(order_number, '1') > 0)"
    ],
    // Under a top-level or, the parts would count a row the other side matches twice.
    [
      "contains(ShipmentNumber,'9') or (IsInsured and (contains(ShipmentNumber,'7') or contains(OrderNumber,'X1')))",
      false,
      "instr(shipment_number, '9') > 0 OR (is_insured = 1 AND (instr(shipment_number, '7') > 0 OR instr(order_number, 'X1') > 0))"
    ],
    // Under not, a null is not false.
    [
      "not (IsInsured or contains(OrderNumber,'X1'))",
      false,
      "NOT (is_insured = 1 OR instr(order_number, 'X1') > 0)"
    ],
    // The sparse column's rows alone: nothing else to walk.
    [
      "contains(OrderNumber,'X1') or contains(OrderNumber,'SO-X12')",
      false,
      "instr(order_number, 'X1') > 0 OR instr(order_number, 'SO-X12') > 0"
    ]
  ])('%s (in parts: %s)', (filter, inParts, where) => {
    const expected = inSql(where);
    expect(expected.count).toBeGreaterThan(0);
    const { page, pageInParts, count, countInParts } = byProducer(filter);
    expect(page).toEqual(expected);
    expect(count).toBe(expected.count);
    expect([pageInParts, countInParts]).toEqual([inParts, inParts]);
  });
});

describe("the Account page's search of a customer counted by its key's substrings is counted from them", () => {
  /**
   * 600 rows, and counters for the customers of 35 rows or more (118, 38 and 38 rows; the next have 30); order numbers
   * on two of the largest customer's rows, one holding the term where the key does not and one where it does too (the
   * sparse part counts only the first).
   */
  const own = createShipmentDatabase(600);
  afterAll(() => own.close());
  const COUNTED = SHIPMENT_PER_VALUE_KEY_SUBSTRING_COUNTED_COLUMNS.map((c) => ({
    ...c,
    minRows: 35
  }));
  installShipmentPerValueKeySubstringCounters(own, COUNTED);
  own.exec(`
    UPDATE shipments SET order_number = 'SO-X7', customer_number = 'C-000001'
      WHERE shipment_number IN ('SHP-0000000001', 'SHP-0000000007');
  `);
  const counted = (): string[] =>
    (
      own
        .prepare(
          "SELECT value ->> 0 FROM shipment_counts WHERE dimension LIKE '%/key-substrings-per-value/%' AND value ->> 1 = ''"
        )
        .pluck()
        .all() as string[]
    ).sort();
  const inSql = (where: string, params: unknown[] = []): { rows: string[]; count: number } =>
    reference(where, params, own);
  /** Every row of the query (a page of 2,000) with its count, and the count alone, each by a fresh producer. */
  const byProducer = (query: Record<string, string>): { rows: string[]; counts: number[] } => {
    const paging = new EntityQueries(own, SHIPMENTS, new PageTokens('per-value'), 2000);
    const counting = new EntityQueries(own, SHIPMENTS, new PageTokens('per-value'), 2000);
    const page = paging.page(parseQueryOptions({ ...query, $count: 'true' }, SHIPMENTS));
    return {
      rows: page.rows.map((row) => row.ShipmentNumber as string),
      counts: [page.count!, counting.count(parseQueryOptions(query, SHIPMENTS))]
    };
  };
  const DIMENSION = perValueKeySubstringDimension(COUNTED[0]!);
  /**
   * `byProducer` with the customer's counter of `term` 1,000 too high: a count read from it is 1,000 more than the
   * rows.
   */
  const withCounterOff = (query: Record<string, string>, customer: string, term: string) => {
    const bump = (n: number): void => {
      own
        .prepare(
          `INSERT INTO shipment_counts (dimension, value, n) VALUES (?, json_array(?, ?), ?)
             ON CONFLICT (dimension, value) DO UPDATE SET n = n + excluded.n`
        )
        .run(DIMENSION, customer, term, n);
    };
    bump(1000);
    try {
      return byProducer(query);
    } finally {
      bump(-1000);
    }
  };
  const anyField = (customer: string, term: string): [string, string] => [
    `CustomerNumber eq '${customer}' and (${FIELDS.map(([p]) => `contains(${p},${odataString(term)})`).join(' or ')})`,
    `customer_number = '${customer}' AND (${FIELDS.map(([, c]) => `instr(${c}, @text) > 0`).join(' OR ')})`
  ];
  const sqlCountIn = (where: string): number =>
    own.prepare(`SELECT count(*) FROM shipments WHERE ${where}`).pluck().get() as number;

  it('counts the customers of 35 rows or more', () => {
    expect(counted()).toEqual(['C-000001', 'C-000002', 'C-000005']);
    expect(sqlCountIn("customer_number = 'C-000004'")).toBe(30);
    // The bound itself is in: C-000002 and C-000005 have 38 rows each.
    try {
      for (const [minRows, customers] of [
        [38, ['C-000001', 'C-000002', 'C-000005']],
        [39, ['C-000001']]
      ] as const) {
        installShipmentPerValueKeySubstringCounters(own, [{ ...COUNTED[0]!, minRows }]);
        expect(counted()).toEqual(customers);
      }
    } finally {
      installShipmentPerValueKeySubstringCounters(own, COUNTED);
    }
  });

  it.each([
    ['C-000001', '7'],
    ['C-000001', 'X7'],
    ['C-000001', '000'],
    ['C-000005', 'SHP-'],
    // Case-sensitive, as contains is: no key holds it.
    ['C-000001', 'shp']
  ])("%s's rows with %s in any of five fields, counted from the counter", (customer, term) => {
    const [filter, where] = anyField(customer, term);
    const expected = inSql(where, [{ text: term }]);
    expect(byProducer({ $filter: filter })).toEqual({
      rows: expected.rows,
      counts: [expected.count, expected.count]
    });
    expect(withCounterOff({ $filter: filter }, customer, term).counts).toEqual([
      expected.count + 1000,
      expected.count + 1000
    ]);
  });

  it("reads a first page from the customer's rows in the order, not by walking the whole table's order", () => {
    // Half the rows the largest customer's for this test: enough matches that walking the table's order newest first
    // would look cheaper than sorting them, had its cost model been given their count.
    const moved = own
      .prepare(
        "SELECT rowid, customer_number FROM shipments WHERE rowid % 2 = 0 AND customer_number <> 'C-000001'"
      )
      .raw()
      .all() as [number, string][];
    const move = own.prepare('UPDATE shipments SET customer_number = ? WHERE rowid = ?');
    own.transaction(() => moved.forEach(([rowid]) => move.run('C-000001', rowid)))();
    try {
      const [filter, where] = anyField('C-000001', '000');
      const paging = new EntityQueries(own, SHIPMENTS, new PageTokens('per-value'), 25);
      const page = paging.page(
        parseQueryOptions({ $filter: filter, $count: 'true', $top: '25' }, SHIPMENTS)
      );
      const expected = inSql(where, [{ text: '000' }]);
      expect(expected.count).toBeGreaterThan(300);
      expect(page.rows.map((row) => row.ShipmentNumber)).toEqual(expected.rows.slice(0, 25));
      expect(page.count).toBe(expected.count);
      expect(paging.lastQueries.some((q) => q.sql.includes('walked_rowid'))).toBe(false);
    } finally {
      own.transaction(() => moved.forEach(([rowid, customer]) => move.run(customer, rowid)))();
    }
  });

  it('the order numbers holding the term where the key does not are counted apart, once', () => {
    const [filter, where] = anyField('C-000001', '7');
    const keys = sqlCountIn("customer_number = 'C-000001' AND instr(shipment_number, '7') > 0");
    const orders = sqlCountIn(
      "customer_number = 'C-000001' AND instr(order_number, '7') > 0 AND instr(shipment_number, '7') = 0"
    );
    expect([keys > 0, orders]).toEqual([true, 1]);
    expect(inSql(where, [{ text: '7' }]).count).toBe(keys + orders);
    expect(byProducer({ $filter: filter }).counts).toEqual([keys + orders, keys + orders]);
  });

  it('the key alone beside the customer, in either order', () => {
    const expected = inSql("instr(shipment_number, '07') > 0 AND customer_number = 'C-000002'");
    expect(expected.count).toBeGreaterThan(0);
    for (const filter of [
      "contains(ShipmentNumber,'07') and CustomerNumber eq 'C-000002'",
      "CustomerNumber eq 'C-000002' and contains(ShipmentNumber,'07')"
    ]) {
      expect(byProducer({ $filter: filter })).toEqual({
        rows: expected.rows,
        counts: [expected.count, expected.count]
      });
      expect(withCounterOff({ $filter: filter }, 'C-000002', '07').counts).toEqual([
        expected.count + 1000,
        expected.count + 1000
      ]);
    }
  });

  it.each([
    ['a customer with fewer rows', 'C-000004', '7'],
    ['a text longer than the counters', 'C-000001', 'SHP-0'],
    ['a text a status holds too', 'C-000001', 'e'],
    ['a text a city holds too', 'C-000002', '1'],
    ['a text of few candidates, read through them', 'C-000001', '0234']
  ])('not %s: counted from the rows', (_name, customer, term) => {
    const [filter, where] = anyField(customer, term);
    const expected = inSql(where, [{ text: term }]);
    expect(withCounterOff({ $filter: filter }, customer, term)).toEqual({
      rows: expected.rows,
      counts: [expected.count, expected.count]
    });
  });

  it("reads a term's candidates only while they cost less than walking the customer's rows to the page's end", () => {
    // 0007: 11 keys, 2 of them the customer's; its page walks all 120 of the customer's rows, which cost less than
    // reading 11 candidates (a candidate costs 20 entries walked). 0234: one key, the customer's, read as a candidate,
    // unless intersecting its trigrams is told to cost more than the walk (an index entry as much as 1,000 candidates).
    expect([
      sqlCountIn("instr(shipment_number, '0007') > 0"),
      sqlCountIn("instr(shipment_number, '0234') > 0")
    ]).toEqual([11, 1]);
    for (const [term, candidates, tuning] of [
      ['0007', false, {}],
      ['0234', true, {}],
      ['0234', false, { trigramEntriesPerCandidate: 0.001 }]
    ] as const) {
      const [filter, where] = anyField('C-000001', term);
      const paging = new EntityQueries(own, SHIPMENTS, new PageTokens('per-value'), 2000, tuning);
      const page = paging.page(parseQueryOptions({ $filter: filter, $count: 'true' }, SHIPMENTS));
      const expected = inSql(where, [{ text: term }]);
      expect([page.rows.map((row) => row.ShipmentNumber), page.count]).toEqual([
        expected.rows,
        expected.count
      ]);
      expect(trigramReads(own, paging.lastQueries).length > 0).toBe(candidates);
    }
  });

  it('not a text of another column beside the customer', () => {
    const expected = inSql("customer_number = 'C-000001' AND instr(order_number, '7') > 0");
    expect(expected.count).toBe(2);
    expect(
      withCounterOff(
        { $filter: "CustomerNumber eq 'C-000001' and contains(OrderNumber,'7')" },
        'C-000001',
        '7'
      )
    ).toEqual({ rows: expected.rows, counts: [2, 2] });
  });

  it('the empty text: every row of the customer, from the row that marks it complete', () => {
    const rows = sqlCountIn("customer_number = 'C-000002'");
    const filter = "CustomerNumber eq 'C-000002' and contains(ShipmentNumber,'')";
    expect(byProducer({ $filter: filter }).counts).toEqual([rows, rows]);
    expect(withCounterOff({ $filter: filter }, 'C-000002', '').counts).toEqual([
      rows + 1000,
      rows + 1000
    ]);
  });

  it('the same as a global search: the customer number and a term with no letter', () => {
    const expected = inSql(
      `customer_number = 'C-000001' AND (${FIELDS.map(([, c]) => `instr(${c}, '7') > 0`).join(' OR ')})`
    );
    expect(byProducer({ $search: 'C-000001 7' })).toEqual({
      rows: expected.rows,
      counts: [expected.count, expected.count]
    });
    expect(withCounterOff({ $search: 'C-000001 7' }, 'C-000001', '7').counts).toEqual([
      expected.count + 1000,
      expected.count + 1000
    ]);
  });

  it("the same as a global search: a term the key's counters say keys hold lists none of their candidates", () => {
    // 11 keys hold 0007: the page and the count walk the customer's rows (above); knowing that the term is not in
    // counted columns alone (the search then reads as a filter) takes the counter, not a list of those keys.
    const expected = inSql(
      `customer_number = 'C-000001' AND (${FIELDS.map(([, c]) => `instr(${c}, '0007') > 0`).join(' OR ')})`
    );
    const paging = new EntityQueries(own, SHIPMENTS, new PageTokens('global'), 2000);
    const page = paging.page(
      parseQueryOptions({ $search: 'C-000001 0007', $count: 'true' }, SHIPMENTS)
    );
    expect([page.rows.map((row) => row.ShipmentNumber), page.count]).toEqual([
      expected.rows,
      expected.count
    ]);
    expect(expected.count).toBeGreaterThan(0);
    expect(paging.lastQueries.filter(isTrigramProbe)).toEqual([]);
  });

  it.each([
    ['as a global search', { $search: 'C-000004 060' }],
    [
      'as a filter of five fields',
      {
        $filter: `CustomerNumber eq 'C-000004' and (${FIELDS.map(([p]) => `contains(${p},'060')`).join(' or ')})`
      }
    ]
  ])(
    "%s, beside a customer not counted so: a term's candidates cost 20 of its rows' index entries when only the key is read",
    (_name, query) => {
      // C-000004 (30 rows, with one moved to it) is walked through an index that carries the key; 2 keys hold 060.
      // The other fields hold none of it (OrderNumber is sparse, read as its few rows): the walk tests the key on the
      // entries alone, for less than 2 candidates' rows (reading a row of each, it would cost 5 a candidate).
      const moved = 'SHP-0000000060';
      const owner = own
        .prepare('SELECT customer_number FROM shipments WHERE shipment_number = ?')
        .pluck()
        .get(moved);
      own
        .prepare("UPDATE shipments SET customer_number = 'C-000004' WHERE shipment_number = ?")
        .run(moved);
      try {
        const expected = inSql(
          `customer_number = 'C-000004' AND (${FIELDS.map(([, c]) => `instr(${c}, '060') > 0`).join(' OR ')})`
        );
        expect([expected.rows, sqlCountIn("instr(shipment_number, '060') > 0")]).toEqual([
          [moved],
          2
        ]);
        const paging = new EntityQueries(own, SHIPMENTS, new PageTokens('beside'), 2000);
        const page = paging.page(parseQueryOptions({ ...query, $count: 'true' }, SHIPMENTS));
        expect([page.rows.map((row) => row.ShipmentNumber), page.count]).toEqual([[moved], 1]);
        expect(paging.lastQueries.filter(isTrigramProbe)).toEqual([]);
      } finally {
        own
          .prepare('UPDATE shipments SET customer_number = ? WHERE shipment_number = ?')
          .run(owner, moved);
      }
    }
  );

  it('not while the row that marks the customer complete is missing, and again once reinstalled', () => {
    const [filter, where] = anyField('C-000001', '7');
    const expected = inSql(where, [{ text: '7' }]).count;
    own.exec(
      `DELETE FROM shipment_counts WHERE dimension = '${DIMENSION}' AND value = '["C-000001",""]'`
    );
    try {
      expect(withCounterOff({ $filter: filter }, 'C-000001', '7').counts).toEqual([
        expected,
        expected
      ]);
    } finally {
      installShipmentPerValueKeySubstringCounters(own, COUNTED);
    }
    expect(withCounterOff({ $filter: filter }, 'C-000001', '7').counts).toEqual([
      expected + 1000,
      expected + 1000
    ]);
  });

  it('follow inserted, moved and deleted rows', () => {
    own.exec(`
      INSERT INTO shipments (shipment_number, customer_number, status)
        VALUES ('SHP-7777777777', 'C-000001', 'Delivered');
      UPDATE shipments SET customer_number = 'C-000004' WHERE shipment_number = 'SHP-0000000017';
      UPDATE shipments SET customer_number = 'C-000001' WHERE shipment_number = 'SHP-0000000027';
      UPDATE shipments SET shipment_number = 'SHP-X' WHERE shipment_number = 'SHP-0000000037';
      DELETE FROM shipments WHERE shipment_number = 'SHP-0000000047';
    `);
    for (const customer of ['C-000001', 'C-000002', 'C-000004', 'C-000005']) {
      const [filter, where] = anyField(customer, '7');
      const expected = inSql(where, [{ text: '7' }]).count;
      expect(byProducer({ $filter: filter }).counts).toEqual([expected, expected]);
    }
  });
});

/**
 * Whether the last request's page and count queries read rows through indexes: none tests a term on every row (no
 * `instr(…)`, with or without `lower`, without the term's candidate rows).
 */
const searchesThroughIndexes = (queries: EntityQueries): boolean =>
  queries.lastQueries
    .filter((q) => /^SELECT ("|count\(\*\) FROM "shipments")/.test(q.sql))
    .every((q) => !q.sql.includes('instr(') || q.sql.includes('"shipments".rowid IN ('));

describe('$search read through indexes', () => {
  /** A term's own test in SQL: any searchable column contains it, case-insensitively (NULL columns: false). */
  const term = (text: string): string =>
    `coalesce(${['shipment_number', 'customer_number', 'order_number', 'status', 'destination_city']
      .map((column) => `instr(lower(${column}), '${text}') > 0`)
      .join(' OR ')}, 0)`;

  it.each([
    ['0000000123', term('0000000123')],
    ['zürich', term('zürich')],
    // Its one ASCII letter is the last of the alphabet: still tested with lower (Zürich).
    ['zü', term('zü')],
    ['Deliver', term('deliver')],
    ['c-000001', term('c-000001')],
    ['so-', term('so-')],
    ['nothing-like-this', term('nothing-like-this')],
    ['NOT deliver', `NOT ${term('deliver')}`],
    [
      'zürich OR (fallon NOT delivered)',
      `${term('zürich')} OR (${term('fallon')} AND NOT ${term('delivered')})`
    ],
    ['"0000000123" OR "0000000456"', `${term('0000000123')} OR ${term('0000000456')}`]
  ])('%s', (search, where) => {
    const { queries, read } = producer();
    const result = read({ $search: search });
    expect(result).toEqual(reference(where, []));
    expect(searchesThroughIndexes(queries)).toBe(true);
  });

  it.each([
    // Read from candidates, then with walks and tests of every row (no candidate is read past a budget of 5).
    ['-00000001', {}],
    ['-00000001', { maxSubstringCandidates: 5, searchCandidateFactor: 0 }],
    ['00', { maxSubstringCandidates: 5, searchCandidateFactor: 0 }],
    ['0 OR -', { maxSubstringCandidates: 5, searchCandidateFactor: 0 }]
  ])(
    'tests a term with no letter without lower(), and finds the same rows: %s %j',
    (search, tuning) => {
      const { queries, read } = producer(tuning);
      const terms = search.split(' OR ');
      const result = read({ $search: search });
      expect(result).toEqual(reference(terms.map(term).join(' OR '), []));
      const tests = queries.lastQueries.filter((q) => q.sql.includes('instr('));
      expect(tests.length).toBeGreaterThan(0);
      expect(tests.filter((q) => q.sql.includes('lower('))).toEqual([]);
    }
  );

  it.each([
    ['zürich', "destination_city = 'Zürich'"],
    ['DELIVER', "status = 'Delivered'"],
    ['c-00000', "customer_number GLOB 'C-00000*'"],
    ['nothing-like-this', '0']
  ])(
    'one term in one counted column alone is that filter, counted by the counters: %s',
    (search, where) => {
      const { queries, read } = producer();
      expect(read({ $search: search })).toEqual(reference(where, []));
      expect(
        queries.lastQueries.some(
          (q) => /^SELECT ("|count\(\*\) FROM "shipments")/.test(q.sql) && q.sql.includes('instr(')
        )
      ).toBe(false);
      queries.count(parseQueryOptions({ $search: search }, SHIPMENTS));
      expect(queries.lastQueries.at(-1)!.sql).toMatch(/shipment_counts/);
    }
  );

  it.each([
    ['a first page', 0],
    ['a page past $skip', 3]
  ])(
    '%s lists no candidate of a term whose trigrams cost more to intersect than walking the order',
    (_name, skip) => {
      /** The page's keys and the trigram queries it listed candidates of. */
      const ask = (tuning: QueryTuning) => {
        const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('weighed'), 100, tuning);
        const query = { $search: '-00000001', $top: '5', ...(skip ? { $skip: String(skip) } : {}) };
        const page = queries.page(parseQueryOptions(query, SHIPMENTS));
        return {
          keys: page.rows.map((row) => row.ShipmentNumber),
          probes: probedTrigrams(queries)
        };
      };
      const usual = ask({});
      // A trigram index entry told to cost as much as 1,000 candidates: every intersection costs more than the walk.
      const weighed = ask({ trigramEntriesPerCandidate: 0.001 });
      expect(usual.keys).toEqual(reference(term('-00000001'), []).rows.slice(skip, skip + 5));
      expect(weighed.keys).toEqual(usual.keys);
      expect(usual.probes.length).toBeGreaterThan(0);
      expect(weighed.probes).toEqual([]);
    }
  );

  it('one term in two counted columns reads both', () => {
    const { queries, read } = producer();
    const city = db.prepare('SELECT destination_city FROM shipments WHERE rowid = 5').pluck().get();
    db.prepare("UPDATE shipments SET destination_city = 'Exceptionville' WHERE rowid = 5").run();
    try {
      expect(read({ $search: 'exception' })).toEqual(reference(term('exception'), []));
      expect(searchesThroughIndexes(queries)).toBe(true);
    } finally {
      db.prepare('UPDATE shipments SET destination_city = ? WHERE rowid = 5').run(city);
    }
  });

  it.each([
    // No key holds `deli` (nor `zür`, `noth`) in any case: the key's trigram index is not read.
    [['delivered'], false],
    [['zürich', 'delivered'], false],
    [['nothing-like-this'], false],
    // Each of its 4-character substrings is held by some key, `shp-` as `SHP-` only: its candidates are read.
    [['shp-0000000012'], true],
    [['0000000123'], true]
  ])(
    "a term longer than the key's counted substrings, %j: its candidates are read only if each substring is held (%s)",
    (terms, readsCandidates) => {
      const { queries, read } = producer();
      const search = terms.map((text) => `"${text}"`).join(' ');
      expect(read({ $search: search })).toEqual(reference(terms.map(term).join(' AND '), []));
      expect(queries.lastQueries.some(isTrigramProbe)).toBe(readsCandidates);
    }
  );

  it("not while the key's substring counters are incomplete (dropped before a bulk load): candidates are read", () => {
    dropShipmentSubstringCounters(db);
    try {
      for (const text of ['0000000123', 'zürich']) {
        const { queries, read } = producer();
        expect(read({ $search: `"${text}"` })).toEqual(reference(term(text), []));
        expect(queries.lastQueries.some(isTrigramProbe)).toBe(true);
      }
    } finally {
      installShipmentSubstringCounters(db);
    }
  });

  describe('a term with more rows than its candidates may be is counted from its columns apart', () => {
    /** Whether the last request counted the term by testing it on every row. */
    const countsEveryRow = (queries: EntityQueries): boolean =>
      queries.lastQueries.some(
        (q) =>
          q.sql.startsWith('SELECT count(*) FROM "shipments" WHERE') &&
          q.sql.includes('(coalesce(instr(') &&
          !q.sql.includes('rowid IN')
      );
    /** Whether it counted some columns' rows apart, each part leaving out the rows of the columns before it. */
    const countsParts = (queries: EntityQueries): boolean =>
      queries.lastQueries.some(
        (q) =>
          q.sql.startsWith('SELECT (SELECT count(*) FROM "shipments" WHERE') &&
          q.sql.includes('AND NOT coalesce(')
      );

    it.each([
      // Too short for trigrams: the key's substring counter, and the other columns' rows.
      ['5', {}, true],
      ['37', {}, false],
      // Every key holds it: the table's rows.
      ['00', {}, false],
      // The key's candidates (with their own test: some hold every trigram but not the term) are read, as they are
      // more than the 5 a page may read (with no more for a search) but within the count's 30.
      ['shp-0000000012', { maxSubstringCandidates: 5, searchCandidateFactor: 0 }, true],
      ['0000000012', { maxSubstringCandidates: 5, searchCandidateFactor: 0 }, true]
    ])('%s', (text, tuning, parts) => {
      const expected = reference(term(text), []);
      expect(expected.count).toBeGreaterThan(0);
      expect(producer(tuning).read({ $search: text })).toEqual(expected);
      const counting = producer(tuning).queries;
      expect(counting.count(parseQueryOptions({ $search: text }, SHIPMENTS))).toBe(expected.count);
      expect([countsEveryRow(counting), countsParts(counting)]).toEqual([false, parts]);
      // A first page's count too, with no rowids read for it: the page is the order's walk.
      const first = producer(tuning).queries;
      const page = first.page(parseQueryOptions({ $search: text, $count: 'true' }, SHIPMENTS));
      expect(page.count).toBe(expected.count);
      expect(page.rows.map((row) => row.ShipmentNumber)).toEqual(expected.rows.slice(0, 100));
      expect(countsEveryRow(first)).toBe(false);
      expect(first.lastQueries.some((q) => q.sql.startsWith('SELECT "shipments".rowid'))).toBe(
        false
      );
    });

    it("leaves unread the column whose rows cost the most to read: the key's fewer ones, counted by its counter", () => {
      // `0013`: 11 keys hold it, and the numbers of customers with 28 rows. A key's candidate costs about five of a
      // customer's rows (read through an index leading with the customer, which carries the key its test reads), so
      // without the key-substring counters (below) the key is counted and the customers' rows are read, though they
      // are more.
      expect(
        ["instr(shipment_number, '0013') > 0", "instr(customer_number, '0013') > 0"].map(sqlCountOf)
      ).toEqual([11, 28]);
      const counting = new EntityQueries(db, WITHOUT_KEY_SUBSTRINGS, new PageTokens('parts'), 100);
      expect(counting.count(parseQueryOptions({ $search: '0013' }, SHIPMENTS))).toBe(
        reference(term('0013'), []).count
      );
      const parts = counting.lastQueries.filter((q) =>
        q.sql.startsWith('SELECT (SELECT count(*) FROM "shipments" WHERE')
      );
      expect(
        parts.map((q) => [
          q.sql.includes('"customer_number" IN ('),
          trigramReads(db, counting.lastQueries, (read) => read === q).length > 0
        ])
      ).toEqual([[true, false]]);
    });

    it('not when its candidates are few and no counter spares reading them: one pass reads the page and its count', () => {
      const { queries } = producer();
      const page = queries.page(
        parseQueryOptions({ $search: '0000000123', $count: 'true' }, SHIPMENTS)
      );
      expect(page.count).toBe(reference(term('0000000123'), []).count);
      expect(queries.lastQueries.some((q) => q.sql.startsWith('SELECT "shipments".rowid'))).toBe(
        true
      );
      expect(countsParts(queries)).toBe(false);
    });

    it.each([
      // Two terms with no counted column's values beside them (see below for those with).
      ['1 2', {}, `${term('1')} AND ${term('2')}`]
    ])('tested on every row when its columns cannot be read apart: %s', (text, extra, where) => {
      const expected = reference(where, []);
      expect(expected.count).toBeGreaterThan(0);
      const counting = producer().queries;
      expect(counting.count(parseQueryOptions({ $search: text, ...extra }, SHIPMENTS))).toBe(
        expected.count
      );
      expect(countsEveryRow(counting)).toBe(true);
    });

    it.each([
      // Every key holds `P-`: the count is the table's rows.
      ['p-', []],
      // No key holds `ab`, `aB`, `Ab` or `AB`: the other columns' rows alone.
      ['ab', []],
      // Nor `de` in any case: the statuses and the city that hold it are counted by the tuple counters.
      ['de', []]
    ])(
      'a term too short for a trigram, counted in the key by its counters in each case: %s',
      (text, reads) => {
        const expected = reference(term(text), []);
        const counting = producer({ maxSubstringCandidates: 5 }).queries;
        expect(counting.count(parseQueryOptions({ $search: text }, SHIPMENTS))).toBe(
          expected.count
        );
        expect(countsEveryRow(counting)).toBe(false);
        const parts = counting.lastQueries.filter((q) =>
          q.sql.startsWith('SELECT (SELECT count(*) FROM "shipments" WHERE')
        );
        expect(
          parts.flatMap((q) =>
            ['"status" IN (', '"destination_city" IN ('].filter((read) => q.sql.includes(read))
          )
        ).toEqual(reads);
        // Its pages: the key is not walked for a term no key holds.
        const paging = producer({ maxSubstringCandidates: 5, searchCandidateFactor: 0 });
        expect(paging.read({ $search: text })).toEqual(expected);
        expect(
          paging.queries.lastQueries.some((q) =>
            /part_rowid, [^)]* FROM "shipments" WHERE coalesce\(instr\(lower\("shipment_number"\)/.test(
              q.sql
            )
          )
        ).toBe(text === 'p-');
      }
    );

    it.each([
      // One key written in lower case: `p-` is in it and, as `P-`, in the 99 others, which its counters cannot add up
      // (a key may hold both): every row is tested.
      ['in lower case', 'lower(shipment_number)', true],
      // One key holding both: every key holds `P-`, so every row holds the term whatever else they hold.
      ['holding both', "shipment_number || 'p-'", false]
    ])(
      'a term too short for a trigram that one key holds in two cases: one %s',
      (_name, key, everyRow) => {
        const small = createShipmentDatabase(100);
        try {
          small.prepare(`UPDATE shipments SET shipment_number = ${key} WHERE rowid = 1`).run();
          const queries = new EntityQueries(small, SHIPMENTS, new PageTokens('small'), 100, {
            maxSubstringCandidates: 5
          });
          expect(queries.count(parseQueryOptions({ $search: 'p-' }, SHIPMENTS))).toBe(100);
          expect(countsEveryRow(queries)).toBe(everyRow);
        } finally {
          small.close();
        }
      }
    );

    it("reads a counted column's rows through an index that carries the tests before them, past the rows / 5", () => {
      // 900 rows: more than 180 have a customer number holding '1'. The key is counted; the customers' rows are
      // index entries tested for the key (a fifth of a candidate each), so reading them costs less than the rows.
      expect(sqlCountOf("instr(customer_number, '1') > 0")).toBeGreaterThan(180);
      const counting = producer({ maxSubstringCandidates: 5 }).queries;
      expect(counting.count(parseQueryOptions({ $search: '1' }, SHIPMENTS))).toBe(
        reference(term('1'), []).count
      );
      expect([countsEveryRow(counting), countsParts(counting)]).toEqual([false, true]);
    });

    it("not past the table's rows in reads, where a row an index does not carry the earlier tests for is read", () => {
      // 100 rows, where '1' is in 20 keys, the customer numbers of 46 rows, 8 order numbers and the city of 11 rows
      // (10 set here). The key is counted; the customers' rows are index entries tested for the key (46), but no index
      // that leads with the city carries the customer number, and the order numbers' rows are read too: 19 rows at a
      // candidate's cost, 5 each. 141 in all, more than the 100 rows: every row is tested instead.
      const small = createShipmentDatabase(100);
      try {
        small
          .prepare("UPDATE shipments SET destination_city = '100% Town_1' WHERE rowid <= 10")
          .run();
        const holding = (column: string): number =>
          small
            .prepare(`SELECT count(*) FROM shipments WHERE instr(${column}, '1') > 0`)
            .pluck()
            .get() as number;
        expect(
          ['shipment_number', 'customer_number', 'order_number', 'destination_city'].map(holding)
        ).toEqual([20, 46, 8, 11]);
        const queries = new EntityQueries(
          small,
          WITHOUT_KEY_SUBSTRINGS,
          new PageTokens('small'),
          100,
          { maxSubstringCandidates: 5 }
        );
        expect(queries.count(parseQueryOptions({ $search: '1' }, SHIPMENTS))).toBe(
          small
            .prepare(`SELECT count(*) FROM shipments WHERE ${term('1')}`)
            .pluck()
            .get()
        );
        expect([countsEveryRow(queries), countsParts(queries)]).toEqual([true, false]);
      } finally {
        small.close();
      }
    });
  });

  it('reads more candidates than a filter may: up to √(rows × 20)', () => {
    // 11 candidates, 1 match: more than the 5 a filter's page may read, fewer than √(900 × 20) = 134.
    const search = { $search: 'shp-0000000012' };
    const expected = reference(term('shp-0000000012'), []);
    /** Whether the last page was read from each column's first rows (see the next test) rather than candidates. */
    const readsFirstRows = (queries: EntityQueries): boolean =>
      queries.lastQueries.some((q) => q.sql.includes('part_rowid'));
    const wider = producer({ maxSubstringCandidates: 5 });
    expect(wider.read(search)).toEqual(expected);
    expect([searchesThroughIndexes(wider.queries), readsFirstRows(wider.queries)]).toEqual([
      true,
      false
    ]);
    const narrow = producer({ maxSubstringCandidates: 5, searchCandidateFactor: 0 });
    expect(narrow.read(search)).toEqual(expected);
    expect(readsFirstRows(narrow.queries)).toBe(true);
  });

  describe('a search of several terms, or beside a filter, reads some of them as filters', () => {
    /** Whether any query tested a search term (`compileSearch`'s test, as opposed to a filter's functions). */
    const testsSearch = (queries: EntityQueries): boolean =>
      queries.lastQueries.some((q) => q.sql.includes('coalesce(instr('));

    it.each([
      // Terms found in counted columns alone: a city and a status, combined any way.
      ['denver exception', {}, `${term('denver')} AND ${term('exception')}`, false],
      ['delivered OR exception', {}, `${term('delivered')} OR ${term('exception')}`, false],
      ['NOT delivered', {}, `NOT ${term('delivered')}`, false],
      ['NOT (denver OR houston)', {}, `NOT (${term('denver')} OR ${term('houston')})`, false],
      [
        '(denver OR houston) returned',
        {},
        `(${term('denver')} OR ${term('houston')}) AND ${term('returned')}`,
        false
      ],
      [
        '"star*city [main]?" delivered',
        {},
        `${term('star*city [main]?')} AND ${term('delivered')}`,
        false
      ],
      // A term nothing holds.
      ['denver zzzz', {}, `${term('denver')} AND ${term('zzzz')}`, false],
      // Terms with no letter beside a counted column's values (from another term, or the $filter): `contains`.
      ['C-000001 13', {}, `${term('c-000001')} AND ${term('13')}`, false],
      // Under NOT, a letterless term stays a search: OData's `contains` is null on a null column.
      ['houston NOT 1', {}, `${term('houston')} AND NOT ${term('1')}`, true],
      ['13', { $filter: "Carrier eq 'UPS'" }, `carrier = 'UPS' AND ${term('13')}`, false],
      ['"C-000002" (1 OR 2)', {}, `${term('c-000002')} AND (${term('1')} OR ${term('2')})`, false],
      // A term with letters that order numbers hold stays a search, beside the filter the others read as.
      ['denver so-', {}, `${term('denver')} AND ${term('so-')}`, true],
      // Under an OR with such a term, none of it is a filter.
      ['denver OR so-', {}, `${term('denver')} OR ${term('so-')}`, true],
      ['so- OR denver', {}, `${term('so-')} OR ${term('denver')}`, true]
    ])('%s %j', (text, extra, where, searched) => {
      const expected = reference(where, []);
      const paging = producer();
      expect(paging.read({ $search: text, ...extra } as { $search: string })).toEqual(expected);
      expect(testsSearch(paging.queries)).toBe(searched);
      const counting = producer().queries;
      expect(counting.count(parseQueryOptions({ $search: text, ...extra }, SHIPMENTS))).toBe(
        expected.count
      );
      expect(testsSearch(counting)).toBe(searched);
    });

    it.each([
      ['shp 12', `${term('shp')} AND ${term('12')}`],
      ['c- 13', `${term('c-')} AND ${term('13')}`],
      ['shp c-', `${term('shp')} AND ${term('c-')}`]
    ])(
      '%s: a term every row holds is left out, and the one left counted as a search of it',
      (text, where) => {
        const expected = reference(where, []);
        const paging = producer();
        expect(paging.read({ $search: text })).toEqual(expected);
        const counting = producer().queries;
        expect(counting.count(parseQueryOptions({ $search: text }, SHIPMENTS))).toBe(
          expected.count
        );
        // No row is tested for `shp` (or `c-`): it is in no query of the rows, only of the counters.
        const dropped = text.split(' ').filter((word) => /[a-z]/.test(word));
        expect(
          counting.lastQueries.some(
            (q) =>
              q.sql.includes('FROM "shipments"') && dropped.some((word) => q.params.includes(word))
          )
        ).toBe(false);
      }
    );

    it("a term found in one value is that value's eq, as a list view sends it", () => {
      const { queries } = producer();
      queries.page(parseQueryOptions({ $search: 'denver exception', $top: '5' }, SHIPMENTS));
      const last = queries.lastQueries.at(-1)!.sql;
      expect([last.includes('"destination_city" IS ?'), last.includes('"status" IS ?')]).toEqual([
        true,
        true
      ]);
    });

    it('what is left a search is written back as a search that parses the same', () => {
      for (const text of ['a "b c" NOT (d OR "e\\"f\\\\g")', 'x', '(a OR b) (c NOT "AND")']) {
        const tree = parseSearch(text);
        expect(parseSearch(writeSearch(tree))).toEqual(tree);
      }
    });

    it('beside a customer, a letterless term is not looked for in other customers', () => {
      // `0001` is in C-000001's number; `13` in C-000013's, whose rows cannot be C-000001's.
      const queries = producer().queries;
      queries.count(parseQueryOptions({ $search: 'C-000001 13' }, SHIPMENTS));
      expect(queries.lastQueries.some((q) => q.params.includes('C-000013'))).toBe(false);
      queries.count(parseQueryOptions({ $search: 'C-000001 0001' }, SHIPMENTS));
      expect(queries.lastQueries.some((q) => q.params.includes('0001'))).toBe(true);
    });
  });

  describe('a term that several columns hold is counted from the counters of their union', () => {
    /**
     * The columns whose rows a count read apart, whether it counted rows of the table at all, and whether it read the
     * key-substring or the tuple counters.
     */
    function reads(queries: EntityQueries): {
      parts: string[];
      rows: boolean;
      keySubstrings: boolean;
      tuples: boolean;
    } {
      const parts = queries.lastQueries.filter((q) =>
        q.sql.startsWith('SELECT (SELECT count(*) FROM "shipments" WHERE')
      );
      return {
        parts: ['customer_number', 'status', 'destination_city'].filter((column) =>
          parts.some((q) => q.sql.includes(`"${column}" IN (`))
        ),
        rows: queries.lastQueries.some((q) => q.sql.includes('count(*) FROM "shipments"')),
        keySubstrings: queries.lastQueries.some((q) => q.sql.includes('json_array(value, ?)')),
        tuples: queries.lastQueries.some((q) => q.sql.includes('"shipment_tuple_counts"'))
      };
    }
    const both = (text: string): number =>
      sqlCountOf(`instr(shipment_number, '${text}') > 0 AND instr(customer_number, '${text}') > 0`);

    it.each(['1', '01', '5', '13', '0013'])(
      "%s: the key's counter and the customers', less the rows where both hold it (key-substring counters)",
      (text) => {
        const expected = reference(term(text), []);
        const counting = producer().queries;
        expect(counting.count(parseQueryOptions({ $search: text }, SHIPMENTS))).toBe(
          expected.count
        );
        // (A city holds `1`: its rows are read.)
        expect(reads(counting).parts).not.toContain('customer_number');
        expect(reads(counting).keySubstrings).toBe(true);
        // The same count from the columns' rows, which reads the customers'.
        const parts = new EntityQueries(db, WITHOUT_KEY_SUBSTRINGS, new PageTokens('parts'), 100);
        expect(parts.count(parseQueryOptions({ $search: text }, SHIPMENTS))).toBe(expected.count);
        expect(reads(parts).parts).toContain('customer_number');
        expect(reads(parts).keySubstrings).toBe(false);
      }
    );

    it('where both hold it in some rows', () => {
      expect(['1', '01', '5', '13', '0013'].map(both)).toEqual([123, 53, 27, 1, 0]);
    });

    it.each(['de', 'er'])(
      '%s: the statuses and the cities that hold it, from the tuple counters',
      (text) => {
        expect(
          [`instr(lower(status), '${text}') > 0`, `instr(lower(destination_city), '${text}') > 0`]
            .map(sqlCountOf)
            .every((n) => n > 0)
        ).toBe(true);
        const counting = producer().queries;
        expect(counting.count(parseQueryOptions({ $search: text }, SHIPMENTS))).toBe(
          reference(term(text), []).count
        );
        // No row is read: not even the candidates of the key, which holds it in no case.
        expect(reads(counting)).toEqual({
          parts: [],
          rows: false,
          keySubstrings: false,
          tuples: true
        });
      }
    );

    it('with values and keys in either case, kept by the triggers as rows are written', () => {
      // Customer numbers with letters, some keys holding them in upper case: folded as SQLite's lower folds them.
      const small = createShipmentDatabase(100);
      try {
        small.exec(`
          UPDATE shipments SET customer_number = 'Cust-' || (rowid % 4) || 'b';
          UPDATE shipments SET shipment_number = 'CUST-' || rowid WHERE rowid % 3 = 0;
          DELETE FROM shipments WHERE rowid % 7 = 0;
        `);
        const queries = new EntityQueries(small, SHIPMENTS, new PageTokens('small'), 100);
        for (const text of ['st-1', 'cust', 't-2', '-1']) {
          const expected = small
            .prepare(`SELECT count(*) FROM shipments WHERE ${term(text)}`)
            .pluck()
            .get() as number;
          const counted = queries.count(parseQueryOptions({ $search: text }, SHIPMENTS));
          expect([text, counted, reads(queries).keySubstrings]).toEqual([text, expected, true]);
        }
        // Counters of shorter substrings count no longer term: with substrings of up to 2 characters, `st-` (in every
        // customer number, and in the keys written in upper case) is counted from the rows, and `-1` from them.
        const shorter = { column: 'customer_number', key: 'shipment_number', length: 2 } as const;
        installShipmentKeySubstringCounters(small, [shorter]);
        const short = new EntityQueries(
          small,
          { ...SHIPMENTS, counts: { ...SHIPMENTS.counts!, keySubstrings: [shorter] } },
          new PageTokens('short'),
          100
        );
        for (const [text, used] of [
          ['st-', false],
          ['-1', true]
        ] as const) {
          const counted = short.count(parseQueryOptions({ $search: text }, SHIPMENTS));
          expect([text, counted, reads(short).keySubstrings]).toEqual([
            text,
            small
              .prepare(`SELECT count(*) FROM shipments WHERE ${term(text)}`)
              .pluck()
              .get(),
            used
          ]);
        }
        // Not trusted while the row that marks them complete is missing (during a bulk load).
        small.exec(`
          UPDATE shipment_counts SET n = n + 5 WHERE dimension LIKE 'customer_number/key-substrings/%'
            AND value <> '';
          DELETE FROM shipment_counts WHERE dimension LIKE 'customer_number/key-substrings/%' AND value = '';
        `);
        const untrusted = new EntityQueries(small, SHIPMENTS, new PageTokens('untrusted'), 100);
        expect(untrusted.count(parseQueryOptions({ $search: 'st-' }, SHIPMENTS))).toBe(
          small
            .prepare(`SELECT count(*) FROM shipments WHERE ${term('st-')}`)
            .pluck()
            .get()
        );
      } finally {
        small.close();
      }
    });
  });

  describe("a frequent term's page is read from each column's first rows in the page's order", () => {
    const readsFirstRows = (queries: EntityQueries): boolean =>
      queries.lastQueries.some((q) => q.sql.includes('part_rowid'));
    /** The first `top` keys of `$search=text` in `orderBy` (SQL), and the count. */
    const firstKeys = (text: string, orderBy: string, top: number) => {
      const rows = db
        .prepare(
          `SELECT shipment_number FROM shipments WHERE ${term(text)} ORDER BY ${orderBy} LIMIT ?`
        )
        .pluck()
        .all(top) as string[];
      return { rows, count: sqlCountOf(term(text)) };
    };

    it.each([
      // Keys, customer numbers and order numbers hold them, in rows that overlap.
      ['5', undefined, 'shipped_at DESC, shipment_number DESC'],
      ['00', undefined, 'shipped_at DESC, shipment_number DESC'],
      ['37', 'DestinationCity desc', 'destination_city DESC, shipment_number DESC'],
      ['1', 'ShippedAt', 'shipped_at, shipment_number'],
      ['37', 'Status', 'status, shipment_number'],
      // Cities and statuses: several values of two counted columns, each read through an index leading with it and
      // the date.
      ['e', undefined, 'shipped_at DESC, shipment_number DESC']
    ])('%s by %s', (text, orderBy, sqlOrder) => {
      const { queries } = producer({ maxSubstringCandidates: 5, searchCandidateFactor: 0 });
      const page = queries.page(
        parseQueryOptions(
          { $search: text, $top: '10', $count: 'true', ...(orderBy ? { $orderby: orderBy } : {}) },
          SHIPMENTS
        )
      );
      expect({ rows: page.rows.map((row) => row.ShipmentNumber), count: page.count }).toEqual(
        firstKeys(text, sqlOrder, 10)
      );
      expect(readsFirstRows(queries)).toBe(true);
    });

    it.each([
      ['5', undefined, 'shipped_at DESC, shipment_number DESC'],
      ['5', 'ShippedAt', 'shipped_at, shipment_number'],
      ['37', 'DestinationCity desc', 'destination_city DESC, shipment_number DESC'],
      ['e', undefined, 'shipped_at DESC, shipment_number DESC']
    ])('and each next page, after its link: %s by %s', (text, orderBy, sqlOrder) => {
      // Pages of 7: nulls among the sort keys (the shipped date, the city) fall inside pages and at their edges, so
      // the keyset's null segments are read too.
      const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('pages'), 7, {
        maxSubstringCandidates: 5,
        searchCandidateFactor: 0
      });
      const keys: string[] = [];
      let token: string | undefined;
      let nextPagesInParts = 0;
      do {
        const query: Record<string, string> = { $search: text };
        if (orderBy) query.$orderby = orderBy;
        if (token) query.$skiptoken = token;
        const page = queries.page(parseQueryOptions(query, SHIPMENTS));
        if (token && readsFirstRows(queries)) nextPagesInParts++;
        keys.push(...page.rows.map((row) => row.ShipmentNumber as string));
        token = page.nextToken;
      } while (token);
      const all = firstKeys(text, sqlOrder, 100_000).rows;
      expect(keys).toEqual(all);
      expect(nextPagesInParts).toBe(Math.ceil(all.length / 7) - 1);
    });

    it.each([
      ['5', undefined, 'shipped_at DESC, shipment_number DESC'],
      ['37', 'DestinationCity desc', 'destination_city DESC, shipment_number DESC'],
      ['e', undefined, 'shipped_at DESC, shipment_number DESC']
    ])(
      'and each page past $skip, up to where known positions start it: %s by %s',
      (text, orderBy, sqlOrder) => {
        // Positions every 50 rows: a page past 50 skipped rows starts from the nearest one (see `SkipPositions`).
        const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('skips'), 100, {
          maxSubstringCandidates: 5,
          searchCandidateFactor: 0,
          positions: new SkipPositions(50)
        });
        const all = firstKeys(text, sqlOrder, 100_000).rows;
        const pages = [1, 7, 20, 49, 50].map((skip) => {
          const query: Record<string, string> = {
            $search: text,
            $top: '7',
            $skip: String(skip),
            $count: 'true'
          };
          if (orderBy) query.$orderby = orderBy;
          const page = queries.page(parseQueryOptions(query, SHIPMENTS));
          return {
            skip,
            rows: page.rows.map((row) => row.ShipmentNumber),
            count: page.count,
            firstRows: readsFirstRows(queries)
          };
        });
        expect(pages).toEqual(
          [1, 7, 20, 49, 50].map((skip) => ({
            skip,
            rows: all.slice(skip, skip + 7),
            count: all.length,
            firstRows: skip < 50
          }))
        );
      }
    );

    it.each([
      ['beside a filter', { $search: '5', $filter: "Carrier eq 'UPS'" }],
      // No index leads with the origin warehouse: the keys' first rows would sort every key that holds the term.
      ['an order no index serves', { $search: '37', $orderby: 'OriginWarehouse' }],
      // No index leads with the status and the carrier.
      ['an order no counted column has an index for', { $search: 'e', $orderby: 'Carrier' }]
    ])('not for %s', (_name, query) => {
      const { queries } = producer({ maxSubstringCandidates: 5, searchCandidateFactor: 0 });
      queries.page(parseQueryOptions(query, SHIPMENTS));
      expect(readsFirstRows(queries)).toBe(false);
    });
  });

  it("reads a page from each column's first rows rather than more candidates than a filter's", () => {
    // `0012`: more candidates than the 5 a filter may read, fewer than √(900 × 20); its counter counts it.
    const readsFirstRows = (queries: EntityQueries): boolean =>
      queries.lastQueries.some((q) => q.sql.includes('part_rowid'));
    const alone = producer({ maxSubstringCandidates: 5 });
    const expected = reference(term('0012'), []);
    const first = (top: string): { rows: unknown[]; count: number | undefined } => {
      const page = alone.queries.page(
        parseQueryOptions({ $search: '0012', $top: top, $count: 'true' }, SHIPMENTS)
      );
      return { rows: page.rows.map((row) => row.ShipmentNumber), count: page.count };
    };
    const keyCandidatesRead = (): unknown[] =>
      trigramReads(db, alone.queries.lastQueries, (q) => q.sql.includes('part_rowid'));
    // A page of 2: walking the order's index to the 3rd of the 11 keys holding 0012 costs about 3 × 900 / 11 entries,
    // 8 candidates' reads at 30 entries each, fewer than its 11. So the key's first rows come from the walk.
    expect(first('2')).toEqual({ rows: expected.rows.slice(0, 2), count: expected.count });
    expect(readsFirstRows(alone.queries)).toBe(true);
    expect(keyCandidatesRead()).toEqual([]);
    // A page of 25: the walk to the 26th would meet every row (900 / 30 = 30 reads), so they come from its candidates.
    expect(first('25')).toEqual({ rows: expected.rows.slice(0, 25), count: expected.count });
    expect(readsFirstRows(alone.queries)).toBe(true);
    expect(keyCandidatesRead()).not.toEqual([]);
    // Beside a filter the parts do not apply: the candidates, up to √(rows × 20), are read instead.
    const beside = producer({ maxSubstringCandidates: 5 });
    const filtered = { $search: '0012', $filter: 'PackageCount ge 1' };
    expect(beside.read(filtered)).toEqual(reference(`package_count >= 1 AND ${term('0012')}`, []));
    expect([readsFirstRows(beside.queries), searchesThroughIndexes(beside.queries)]).toEqual([
      false,
      true
    ]);
  });

  it("a first page reads a term's candidates only while they cost less than the walk, however many a filter may", () => {
    // `0012` (11 keys) with the default budget of a filter's candidates (4,096): a page of 2 walks to the 3rd key that
    // holds it, about 3 × 900 / 11 entries, 8 candidates' reads at 30 entries each, fewer than its 11.
    const { queries } = producer();
    const expected = reference(term('0012'), []);
    const page = queries.page(
      parseQueryOptions({ $search: '0012', $top: '2', $count: 'true' }, SHIPMENTS)
    );
    expect({ rows: page.rows.map((row) => row.ShipmentNumber), count: page.count }).toEqual({
      rows: expected.rows.slice(0, 2),
      count: expected.count
    });
    expect(queries.lastQueries.some((q) => q.sql.includes('part_rowid'))).toBe(true);
    expect(trigramReads(db, queries.lastQueries, (q) => q.sql.includes('part_rowid'))).toEqual([]);
  });

  it('past $skip, reads up to √(rows × 20) candidates before the first rows, whose walk grows with the skipped rows', () => {
    // `0012` as above: past the 5 candidates a filter may read, within √(900 × 20) = 134.
    const readsFirstRows = (queries: EntityQueries): boolean =>
      queries.lastQueries.some((q) => q.sql.includes('part_rowid'));
    const expected = reference(term('0012'), []);
    const { queries } = producer({ maxSubstringCandidates: 5 });
    const page = queries.page(
      parseQueryOptions({ $search: '0012', $top: '3', $skip: '2', $count: 'true' }, SHIPMENTS)
    );
    expect({ rows: page.rows.map((row) => row.ShipmentNumber), count: page.count }).toEqual({
      rows: expected.rows.slice(2, 5),
      count: expected.count
    });
    expect([readsFirstRows(queries), searchesThroughIndexes(queries)]).toEqual([false, true]);
  });

  it("reads a term's sources once for a page and its count", () => {
    const { queries } = producer();
    const cityValues = (): number =>
      queries.lastQueries.filter(
        (q) =>
          /instr\((lower\()?substr\(value, 3\)/.test(q.sql) && q.params[0] === 'destination_city'
      ).length;
    for (const search of ['0000000123', '37']) {
      queries.page(parseQueryOptions({ $search: search, $count: 'true' }, SHIPMENTS));
      expect(cityValues()).toBe(1);
    }
    // And the key's substring counters of each spelling (see `foldedSubstringCounter`), in one read, once.
    const { queries: paging } = producer({ maxSubstringCandidates: 5, searchCandidateFactor: 0 });
    paging.page(parseQueryOptions({ $search: 'de', $count: 'true' }, SHIPMENTS));
    const spellingsAsked = paging.lastQueries
      .map((q) => q.params[2])
      .filter((value) => typeof value === 'string' && /^\[.*"de"/i.test(value));
    expect(spellingsAsked.map((list) => (JSON.parse(list as string) as string[]).sort())).toEqual([
      ['DE', 'De', 'dE', 'de']
    ]);
  });

  it("a page lists a term's candidates only up to its own budget, more the deeper it reads", () => {
    // A first page may read 5 candidates, a page past $skip √(900 × 20) = 134, and either as many as cost what walking
    // the order to its last row costs: rows read × 900 / the 11 keys holding 0012, capped at 900, / 30 a candidate.
    // Only then are they listed (0012's other rows are customer C-000012's, read through its index).
    const { queries } = producer({ maxSubstringCandidates: 5 });
    const read = (query: Record<string, string>): { rows: string[]; count: number } => {
      const page = queries.page(
        parseQueryOptions({ $search: '0012', $count: 'true', ...query }, SHIPMENTS)
      );
      return { rows: page.rows.map((row) => row.ShipmentNumber as string), count: page.count! };
    };
    const limits = (): unknown[] =>
      queries.lastQueries.filter(isTrigramProbe).map((q) => q.params[1]);
    const expected = reference(term('0012'), []);
    const rows = sqlCountOf('1');
    // 3 rows read: 3 × rows / 11 / 30 = 8 candidates, fewer than the key's 11 (its counter says): none listed.
    expect(read({ $top: '2' })).toEqual({ rows: expected.rows.slice(0, 2), count: expected.count });
    expect(limits()).toEqual([]);
    // 101 rows read: the whole index, rows / 30 candidates.
    expect(read({})).toEqual(expected);
    expect(limits()).toEqual([Math.floor(rows / 30) + 1, Math.floor(rows / 30) + 1]);
    expect(read({ $skip: '3', $top: '4' })).toEqual({
      rows: expected.rows.slice(3, 7),
      count: expected.count
    });
    expect(limits()).toEqual([135, 135]);
  });

  it('a search read as a filter still binds its next link to the search', () => {
    const { queries } = producer();
    const first = queries.page(parseQueryOptions({ $search: 'deliver' }, SHIPMENTS));
    expect(first.nextToken).toBeDefined();
    // Neither on a request without the search (which the filter it is read as would otherwise look like).
    for (const query of [{}, { $filter: "Status in ('Delivered')" }]) {
      const reused = { ...query, $skiptoken: first.nextToken! };
      expect(() => queries.page(parseQueryOptions(reused, SHIPMENTS))).toThrow(/\$skiptoken/);
    }
    const next = { $search: 'deliver', $skiptoken: first.nextToken! };
    expect(queries.page(parseQueryOptions(next, SHIPMENTS)).rows.length).toBeGreaterThan(0);
  });

  it('a term too short for a trigram that no key holds, by its counters, through the other columns', () => {
    const { queries, read } = producer();
    expect(read({ $search: 'ab' })).toEqual(reference(term('ab'), []));
    expect(searchesThroughIndexes(queries)).toBe(true);
  });

  it.each([
    [
      'terms on more rows than the indexes are read for',
      'deliver OR 0000000',
      { maxSubstringCandidates: 50 }
    ]
  ])('tested on every row: %s', (_name, search, tuning) => {
    const { queries, read } = producer(tuning);
    const where = search
      .split(' OR ')
      .map((text) => term(text))
      .join(' OR ');
    expect(read({ $search: search })).toEqual(reference(where, []));
    expect(searchesThroughIndexes(queries)).toBe(false);
  });
});

describe('trigramQueries', () => {
  /** The FTS5 queries alone. */
  const matches = (...args: Parameters<typeof trigramQueries>): string[] =>
    trigramQueries(...args).map((query) => query.match);

  it('asks for every distinct trigram, quoted, and for nothing below three characters', () => {
    expect(matches('ab')).toEqual([]);
    expect(matches('a"bca"b')).toEqual(['"a""b" AND """bc" AND "bca" AND "ca"""']);
    expect(matches('Zürich')).toEqual(['"Zür" AND "üri" AND "ric" AND "ich"']);
  });

  it('leaves out the trigrams nearly every value holds, keeping the rarest when all are', () => {
    const shares: Record<string, number> = {
      shp: 1,
      'hp-': 1,
      'p-0': 0.95,
      '-00': 0.5,
      '000': 0.9,
      '001': 0.1
    };
    const share = (trigram: string): number => shares[trigram] ?? 0;
    expect(matches('SHP-0001', share)).toEqual(['"-00" AND "001"']);
    expect(matches('SHP-0', share)).toEqual(['"P-0"']);
  });

  it('asks for the rare trigrams first, and then with the common ones too', () => {
    const shares: Record<string, number> = { '000': 1, '001': 0.11, '015': 0.01, '158': 0.049 };
    const share = (trigram: string): number => shares[trigram] ?? 0;
    expect(matches('0015839', share)).toEqual([
      '"015" AND "158" AND "583" AND "839"',
      '"001" AND "015" AND "158" AND "583" AND "839"'
    ]);
    expect(matches('0001', share)).toEqual(['"001"']);
    expect(matches('5839', share)).toEqual(['"583" AND "839"']);
  });
});

describe('a substring of the key whose rare trigrams are not enough', () => {
  // Keys holding each rare trigram of QQQ001 (qqq, qq0, q00) apart, the common one (001) in three of them.
  const KEYS = Array.from(
    { length: 24 },
    (_, i) => `SHP-QQQ-Q00-QQ0-${i < 3 ? '001' : '7'}-${i}`
  ).concat('SHP-QQQ001');
  withKeys(KEYS);
  /** The trigram queries the last request's rows were read with. */
  const matched = (queries: EntityQueries): unknown[] =>
    trigramReads(db, queries.lastQueries, (q) => q.sql.includes('FROM "shipments"'));

  it('reads the candidates of every narrowing trigram when the rare ones give too many', () => {
    const tuning = { maxSubstringCandidates: 10 };
    expect(producer(tuning).read("contains(ShipmentNumber,'QQQ001')")).toEqual(
      reference("instr(shipment_number, 'QQQ001') > 0", [])
    );
    expect(matched(pageQueries("contains(ShipmentNumber,'QQQ001')", tuning))).toEqual([
      '"QQQ" AND "QQ0" AND "Q00" AND "001"'
    ]);
  });

  it('a count reads the fewest candidates within its budget, when the first query gives more than a page', () => {
    // A count's budget is the rows / 30 (over 30 here): the rare trigrams' 25 candidates are within it, but more than
    // the page's 10, so the query that adds the common one (4 candidates) is asked too, and read.
    const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('fewest'), 100, {
      maxSubstringCandidates: 10
    });
    const n = queries.count(
      parseQueryOptions({ $filter: "contains(ShipmentNumber,'QQQ001')" }, SHIPMENTS)
    );
    expect(n).toBe(1);
    expect(matched(queries)).toEqual(['"QQQ" AND "QQ0" AND "Q00" AND "001"']);
  });

  it('reads the candidates of the rare ones alone when they are few enough', () => {
    const { queries, read } = producer();
    expect(read("contains(ShipmentNumber,'QQQ001')")).toEqual(
      reference("instr(shipment_number, 'QQQ001') > 0", [])
    );
    expect(matched(queries)).toEqual(['"QQQ" AND "QQ0" AND "Q00"']);
  });
});

describe('a substring of the key whose one rare trigram has too many rows', () => {
  // 01Z alone is rare (20 keys), 001 common (about 120 of the 921) and 000 in every key: 0001Z's first query is of
  // 01Z alone, its second of 001 and 01Z (one key).
  withKeys([...Array.from({ length: 20 }, (_, i) => `SHP-01Z-${i}`), 'SHP-0001Z']);

  it.each([
    // Its substring counter says 20 keys hold 01Z: past a budget of 10, its candidates are not listed.
    [10, ['"001" AND "01Z"']],
    [30, ['"01Z"']]
  ])('with a budget of %i candidates, asks %j', (budget, asked) => {
    const queries = pageQueries("contains(ShipmentNumber,'0001Z')", {
      maxSubstringCandidates: budget
    });
    expect(probedTrigrams(queries)).toEqual(asked);
    expect(
      producer({ maxSubstringCandidates: budget }).read("contains(ShipmentNumber,'0001Z')")
    ).toEqual(reference("instr(shipment_number, '0001Z') > 0", []));
  });
});
