/**
 * The producer's HTTP surface on a real server on 127.0.0.1: resources, errors in the OData shape, server-driven
 * paging tokens (signed, bound to their query, stable under concurrent inserts), Prefer, fault knobs, and the
 * query plans behind Salesforce Connect's query shapes.
 */
import type Database from 'better-sqlite3';
import { SHIPMENTS } from '../../src/data-virtualization/entity';
import { PageTokens } from '../../src/data-virtualization/paging';
import { EntityQueries, parseQueryOptions } from '../../src/data-virtualization/query';
import {
  allPages,
  createShipmentDatabase,
  fetchText,
  queryPlan,
  startServer,
  type ODataCollection,
  type TestServer
} from './support';

// Real HTTP servers and seeded databases on a shared, busy machine: generous per-test timeouts.
jest.setTimeout(60_000);

let db: Database.Database;
let server: TestServer;

beforeAll(async () => {
  db = createShipmentDatabase(600);
  server = await startServer(db, { pageSize: 50 });
});

afterAll(async () => {
  await server.close();
});

interface ODataError {
  error: { code: string; message: string; target?: string };
}

async function expectError(
  response: Promise<{ status: number; json: () => unknown }>,
  status: number,
  message: RegExp
): Promise<ODataError> {
  const result = await response;
  expect(result.status).toBe(status);
  const body = result.json() as ODataError;
  expect(body.error.message).toMatch(message);
  return body;
}

describe('resources', () => {
  it.each([
    ["Shipments('SHP-0000000010')"],
    ["Shipments(ShipmentNumber='SHP-0000000010')"],
    ['Shipments(%27SHP-0000000010%27)']
  ])('key lookup %s', async (resource) => {
    const response = await server.get(resource, { $select: 'ShipmentNumber,DestinationCity' });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({
      '@odata.context': `${server.baseUrl}/data-virtualization/odata/$metadata#Shipments/$entity`,
      ShipmentNumber: 'SHP-0000000010',
      DestinationCity: "O'Fallon"
    });
    expect(response.headers['odata-version']).toBe('4.0');
    expect(response.headers['content-type']).toMatch(/^application\/json;odata\.metadata=minimal/);
  });

  it('a bare key lookup (no query options) answers every property in entity order, as an empty query selects', async () => {
    const key = 'SHP-0000000042';
    const expected = new EntityQueries(db, SHIPMENTS, new PageTokens('test-secret')).byKey(
      key,
      parseQueryOptions({}, SHIPMENTS).select
    );
    expect(expected).toBeDefined();
    const response = await server.get(`Shipments('${key}')`);
    expect(response.status).toBe(200);
    const body = response.json() as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      '@odata.context',
      ...SHIPMENTS.properties.map((p) => p.name)
    ]);
    expect(body).toEqual({
      '@odata.context': `${server.baseUrl}/data-virtualization/odata/$metadata#Shipments/$entity`,
      ...expected
    });
    // Leading slashes after /odata and a percent-encoded key reach the same entity.
    for (const path of [
      `/data-virtualization/odata//Shipments('${key}')`,
      `/data-virtualization/odata/Shipments%28%27${key}%27%29`
    ]) {
      const other = await server.fetchPath(path);
      expect([path, other.status]).toEqual([path, 200]);
      expect(other.json()).toEqual(body);
    }
  });

  it('query options on a key lookup are still checked (the fast path is only for none at all)', async () => {
    const key = "Shipments('SHP-0000000042')";
    await expectError(server.get(key, { $expand: 'Customer' }), 400, /\$expand is not supported/);
    await expectError(server.get(key, { $select: 'Secret' }), 400, /Unknown property 'Secret'/);
    await expectError(server.get(key, { $format: 'xml' }), 400, /Only \$format=json/);
    const selected = await server.get(key, { $select: 'Status' });
    expect(Object.keys(selected.json() as object)).toEqual(['@odata.context', 'Status']);
  });

  it('unknown key → 404, malformed key → 400, unknown resource → 404', async () => {
    await expectError(server.get("Shipments('SHP-9999999999')"), 404, /No shipment/);
    await expectError(server.get('Shipments(42)'), 400, /one string literal/);
    await expectError(server.get("Shipments('a','b')"), 400, /one string literal/);
    await expectError(server.get('Orders'), 404, /No resource 'Orders'/);
    expect((await server.fetchPath('/data-virtualization/odata/%E0%A4%A')).status).toBe(400);
  });

  it('writes are refused with 405: the data source is read-only', async () => {
    for (const method of ['POST', 'PATCH', 'DELETE']) {
      const response = await server.fetchPath('/data-virtualization/odata/Shipments', {
        method,
        ...(method === 'DELETE'
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: '{}' })
      });
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET');
      expect((response.json() as ODataError).error.code).toBe('MethodNotAllowed');
    }
  });
});

describe('query options that are malformed or unsupported are a 400 in the OData error shape', () => {
  it.each([
    [{ $expand: 'Customer' }, /\$expand is not supported/],
    [{ $apply: 'groupby((Status))' }, /\$apply is not supported/],
    [{ $format: 'xml' }, /Only \$format=json/],
    [{ $top: '-1' }, /non-negative integer/],
    [{ $skip: 'ten' }, /non-negative integer/],
    [{ $count: 'yes' }, /true or false/],
    [{ $orderby: 'ShippedAt sideways' }, /Expected "Property \[asc\|desc\]"/],
    [{ $orderby: 'Nope' }, /Unknown property 'Nope'/],
    [{ $orderby: 'Status,Status desc' }, /sorted twice/],
    [{ $select: 'ShipmentNumber,Secret' }, /Unknown property 'Secret' in \$select/],
    [{ $search: '"open' }, /Unterminated phrase/],
    [{ $search: 'a OR' }, /Expected a search term/],
    [{ $filter: "Status eq 'x' and" }, /at position 17/]
  ])('%j', async (query, message) => {
    const body = await expectError(server.get('Shipments', query), 400, message);
    expect(body.error.code).toBe('BadRequest');
    expect(body.error.target).toBe(Object.keys(query)[0]);
  });

  it('a repeated query option is refused', async () => {
    await expectError(
      server.fetchPath('/data-virtualization/odata/Shipments?$top=1&$top=2'),
      400,
      /appears more than once/
    );
  });

  it('$format=json and custom (non-$) options are accepted', async () => {
    const response = await server.get('Shipments', { $format: 'json', $top: '1', mode: 'x' });
    expect(response.status).toBe(200);
  });
});

describe('server-driven paging', () => {
  async function firstPage(query: Record<string, string>): Promise<ODataCollection> {
    const response = await server.get('Shipments', query);
    expect(response.status).toBe(200);
    return response.json() as ODataCollection;
  }

  const tokenOf = (link: string): string => new URL(link).searchParams.get('$skiptoken') ?? '';

  it('next links keep the query options, encode spaces as %20 and carry an opaque token', async () => {
    const page = await firstPage({ $filter: "Status ne 'In Transit'", $orderby: 'ShippedAt desc' });
    const link = page['@odata.nextLink'] ?? '';
    expect(link).toContain(`${server.baseUrl}/`);
    expect(link.startsWith(`${server.baseUrl}/data-virtualization/odata/Shipments?`)).toBe(true);
    expect(link).not.toContain('+');
    const params = new URL(link).searchParams;
    expect(params.get('$filter')).toBe("Status ne 'In Transit'");
    expect(params.get('$orderby')).toBe('ShippedAt desc');
    expect(tokenOf(link)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('a tampered, foreign, re-targeted or combined token is a 400', async () => {
    const query = { $orderby: 'ShippedAt desc' };
    const link = (await firstPage(query))['@odata.nextLink'] ?? '';
    const token = tokenOf(link);
    const [body, signature] = token.split('.') as [string, string];

    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as { r: unknown };
    payload.r = 5;
    const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
    await expectError(server.get('Shipments', { ...query, $skiptoken: forged }), 400, /Invalid/);

    const flipped = `${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    await expectError(server.get('Shipments', { ...query, $skiptoken: flipped }), 400, /Invalid/);

    await expectError(
      server.get('Shipments', { $orderby: 'ShippedAt asc', $skiptoken: token }),
      400,
      /does not belong to this query/
    );
    await expectError(
      server.get('Shipments', { ...query, $skiptoken: token, $top: '5' }),
      400,
      /cannot be combined/
    );
    await expectError(server.get('Shipments', { ...query, $skiptoken: 'abc' }), 400, /Malformed/);

    const other = await startServer(db, { pageSize: 50, tokenSecret: 'another-secret' });
    try {
      await expectError(other.get('Shipments', { ...query, $skiptoken: token }), 400, /Invalid/);
    } finally {
      await other.app.close();
    }
  });

  it('a token signed with the same secret survives a restart', async () => {
    const link = (await firstPage({ $orderby: 'WeightKg desc' }))['@odata.nextLink'] ?? '';
    const again = await startServer(db, { pageSize: 50 });
    try {
      const response = await again.get('Shipments', {
        $orderby: 'WeightKg desc',
        $skiptoken: tokenOf(link)
      });
      expect(response.status).toBe(200);
    } finally {
      await again.app.close();
    }
  });

  it('keyset pages neither skip nor repeat rows when rows are inserted before the cursor', async () => {
    const scratch = createShipmentDatabase(200);
    const local = await startServer(scratch, { pageSize: 40 });
    try {
      const first = await local.get('Shipments', { $orderby: 'ShippedAt desc' });
      const page1 = first.json() as ODataCollection;
      // A new shipment sorts first; with OFFSET paging every later page would repeat a row.
      scratch
        .prepare(
          `INSERT INTO shipments (shipment_number, customer_number, shipped_at)
           VALUES ('SHP-9000000000', 'C-000001', '2099-01-01T00:00:00Z')`
        )
        .run();
      const rest: string[] = [];
      let link = page1['@odata.nextLink'];
      while (link) {
        const page = (await fetchText(link)).json() as ODataCollection;
        rest.push(...page.value.map((v) => v.ShipmentNumber as string));
        link = page['@odata.nextLink'];
      }
      const seen = [...page1.value.map((v) => v.ShipmentNumber as string), ...rest];
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toHaveLength(200);
      expect(seen).not.toContain('SHP-9000000000');
    } finally {
      await local.app.close();
      scratch.close();
    }
  });

  it('Prefer: odata.maxpagesize sets smaller pages and is capped at the producer limit', async () => {
    const small = await server.get('Shipments', {}, { prefer: 'odata.maxpagesize=7' });
    expect((small.json() as ODataCollection).value).toHaveLength(7);
    expect(small.headers['preference-applied']).toBe('odata.maxpagesize=7');
    const pages = await allPages(server, { $top: '20' }, { prefer: 'odata.maxpagesize=7' });
    expect(pages.map((p) => p.value.length)).toEqual([7, 7, 6]);
    const big = await server.get('Shipments', {}, { prefer: 'odata.maxpagesize=5000' });
    expect((big.json() as ODataCollection).value).toHaveLength(50);
    expect(big.headers['preference-applied']).toBe('odata.maxpagesize=50');
  });

  it('links use PUBLIC_URL when configured, else the forwarded host of a tunnel', async () => {
    const pub = await startServer(db, { pageSize: 10, publicUrl: 'https://erp.example.test/' });
    try {
      const page = (await pub.get('Shipments')).json() as ODataCollection;
      expect(page['@odata.nextLink']).toMatch(
        /^https:\/\/erp\.example\.test\/data-virtualization\/odata\/Shipments\?\$skiptoken=/
      );
      expect(page['@odata.context']).toBe(
        'https://erp.example.test/data-virtualization/odata/$metadata#Shipments'
      );
    } finally {
      await pub.app.close();
    }
    const forwarded = await server.get(
      'Shipments',
      {},
      { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'tunnel.example.test' }
    );
    expect((forwarded.json() as ODataCollection)['@odata.nextLink']).toMatch(
      /^https:\/\/tunnel\.example\.test\//
    );
  });
});

describe('fault knobs', () => {
  it('the console profile for data-virtualization injects errors and latency', async () => {
    server.faults.set('data-virtualization', { errorRate: 1, errorStatus: 503 });
    try {
      const response = await server.get('Shipments', { $top: '1' });
      expect(response.status).toBe(503);
    } finally {
      server.faults.set('data-virtualization', { errorRate: 0 });
    }
    const started = Date.now();
    const slow = await server.get('Shipments', { $top: '1' }, { 'x-fault-latency-ms': '150' });
    expect(slow.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('query plans: Salesforce Connect query shapes use indexes at any page depth', () => {
  const queries = new EntityQueries(
    createShipmentDatabase(2000),
    SHIPMENTS,
    new PageTokens('plan'),
    20
  );
  const planDb = (queries as unknown as { db: Database.Database }).db;

  function plansFor(query: Record<string, string>): string[] {
    const first = queries.page(parseQueryOptions(query, SHIPMENTS));
    const plans = [...queries.lastQueries];
    expect(first.nextToken).toBeDefined();
    queries.page(parseQueryOptions({ ...query, $skiptoken: first.nextToken ?? '' }, SHIPMENTS));
    plans.push(...queries.lastQueries);
    return plans.map((ran) => queryPlan(planDb, ran).join(' | '));
  }

  it('key lookup searches the primary key', () => {
    queries.page(parseQueryOptions({ $filter: "ShipmentNumber eq 'SHP-0000000042'" }, SHIPMENTS));
    const plan = queryPlan(planDb, queries.lastQueries[0]!).join(' | ');
    expect(plan).toMatch(
      /SEARCH shipments USING INDEX sqlite_autoindex_shipments_1 \(shipment_number=\?\)/
    );
  });

  it('a key lookup by filter runs without a transaction; with its count, both in one snapshot', () => {
    const source = createShipmentDatabase(50);
    const snapshots: string[] = [];
    // The database as EntityQueries sees it, with each snapshot it opens recorded.
    const watched = Object.create(source) as Database.Database;
    watched.transaction = ((body: (...args: unknown[]) => unknown) => {
      const inTransaction = source.transaction(body);
      return (...args: unknown[]) => {
        snapshots.push('snapshot');
        return inTransaction(...args);
      };
    }) as unknown as Database.Database['transaction'];
    const lookups = new EntityQueries(watched, SHIPMENTS, new PageTokens('lookup'), 20);
    const key = "ShipmentNumber eq 'SHP-0000000042'";
    const alone = lookups.page(parseQueryOptions({ $filter: key, $top: '5' }, SHIPMENTS));
    expect(alone.rows.map((row) => row.ShipmentNumber)).toEqual(['SHP-0000000042']);
    expect(alone.nextToken).toBeUndefined();
    expect(
      lookups.page(parseQueryOptions({ $filter: "ShipmentNumber eq 'SHP-X'" }, SHIPMENTS)).rows
    ).toEqual([]);
    expect(snapshots).toEqual([]);
    const counted = lookups.page(parseQueryOptions({ $filter: key, $count: 'true' }, SHIPMENTS));
    expect(counted).toEqual({ rows: alone.rows, count: 1 });
    expect(lookups.page(parseQueryOptions({ $filter: key, $skip: '1' }, SHIPMENTS)).rows).toEqual(
      []
    );
    expect(snapshots).toEqual(['snapshot', 'snapshot']);
  });

  it.each([
    [
      { $filter: "CustomerNumber eq 'C-000007'", $orderby: 'ShippedAt desc' },
      /shipments_customer_by_shipped_at \(customer_number=\? AND \(shipped_at,shipment_number\)<\(\?,\?\)\)/
    ],
    [
      { $orderby: 'ShippedAt desc' },
      /shipments_by_shipped_at \(\(shipped_at,shipment_number\)<\(\?,\?\)\)/
    ],
    [
      { $orderby: 'ShippedAt' },
      /shipments_by_shipped_at \(\(shipped_at,shipment_number\)>\(\?,\?\)\)/
    ],
    [{}, /shipments_by_shipped_at \(\(shipped_at,shipment_number\)<\(\?,\?\)\)/],
    [
      { $filter: "Status eq 'Delivered'" },
      /shipments_status_newest \(status=\? AND \(shipped_at,shipment_number\)<\(\?,\?\)\)/
    ]
  ])('%j: later pages SEARCH an index from the cursor', (query, expected) => {
    const plans = plansFor(query);
    for (const plan of plans) expect(plan).toMatch(/USING (COVERING )?INDEX/);
    expect(plans.slice(1).join('\n')).toMatch(expected);
  });
});
