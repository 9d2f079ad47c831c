/**
 * Random query options over real HTTP: the producer answers 200 or a 400 with an OData error body, never a 500 and
 * never a partial result. Seeded, bounded runs keep the suite fast and reproducible.
 */
import type Database from 'better-sqlite3';
import fc from 'fast-check';
import { createShipmentDatabase, startServer, type TestServer, type TextResponse } from './support';

// Real HTTP servers and seeded databases on a shared, busy machine: generous per-test timeouts.
jest.setTimeout(60_000);

let db: Database.Database;
let server: TestServer;

beforeAll(async () => {
  db = createShipmentDatabase(300);
  server = await startServer(db, { pageSize: 50 });
});

afterAll(async () => {
  await server.close();
});

const FRAGMENTS = [
  'ShipmentNumber',
  'CustomerNumber',
  'Status',
  'WeightKg',
  'PackageCount',
  'IsInsured',
  'ShippedAt',
  'EstimatedDelivery',
  'Nope',
  ' eq ',
  ' ne ',
  ' gt ',
  ' le ',
  ' and ',
  ' or ',
  'not ',
  ' in ',
  ' add ',
  '(',
  ')',
  ',',
  "'",
  "'x'",
  "'it''s'",
  "''",
  '1',
  '-2.5',
  '1e308',
  '1e999',
  '9007199254740993',
  'null',
  'true',
  '2024-02-29',
  '2024-02-30',
  '2024-01-01T00:00:00Z',
  '2024-01-01T00:00:00.123456789012345Z',
  '2024-01-01T00:00:00+14:00',
  'contains(',
  'startswith(',
  'tolower(',
  '$it',
  '/',
  '%',
  '*',
  '\\',
  '"',
  ' ',
  '\u0000',
  '😀'
];

const tokenSoup = fc
  .array(fc.constantFrom(...FRAGMENTS), { minLength: 0, maxLength: 12 })
  .map((parts) => parts.join(''));

/** Near-valid comparisons joined by and/or: reaches the accepting paths more often than pure soup. */
const comparisons = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'Status',
        'WeightKg',
        'ShippedAt',
        'IsInsured',
        'EstimatedDelivery',
        'Carrier'
      ),
      fc.constantFrom(' eq ', ' ne ', ' gt ', ' lt ', ' in '),
      fc.constantFrom(
        "'UPS'",
        '5',
        'null',
        'true',
        '2024-01-01',
        '2024-01-01T00:00:00Z',
        "('a',null)"
      )
    ),
    { minLength: 1, maxLength: 4 }
  )
  .chain((parts) =>
    fc
      .array(fc.constantFrom(' and ', ' or ', ' and not '), {
        minLength: parts.length - 1,
        maxLength: parts.length - 1
      })
      .map((joins) => parts.map((p, i) => `${i > 0 ? joins[i - 1] : ''}${p.join('')}`).join(''))
  );

function assertWellBehaved(response: TextResponse, label: string): void {
  if (response.status === 200) {
    const body = response.json() as { value?: unknown[] };
    expect(Array.isArray(body.value)).toBe(true);
    return;
  }
  if (response.status !== 400) {
    throw new Error(`${label} → HTTP ${response.status}: ${response.body}`);
  }
  const body = response.json() as { error?: { code?: string; message?: string } };
  expect(body.error?.code).toBe('BadRequest');
  expect(typeof body.error?.message).toBe('string');
}

describe('fuzzing the query options', () => {
  it('$filter from grammar fragments and from arbitrary text: 200 or 400, never 500', async () => {
    let accepted = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(tokenSoup, comparisons, fc.string({ maxLength: 40 })),
        async (filter) => {
          const response = await server.get('Shipments', { $filter: filter, $top: '5' });
          assertWellBehaved(response, `$filter=${JSON.stringify(filter)}`);
          if (response.status === 200) accepted++;
          else rejected++;
        }
      ),
      { seed: 5, numRuns: 400 }
    );
    // Both outcomes occur: the generator reaches valid filters as well as broken ones.
    expect(accepted).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(100);
  });

  it('$orderby, $select, $search, $top, $skip and $skiptoken: 200 or 400, never 500', async () => {
    const option = fc.constantFrom(
      '$orderby',
      '$select',
      '$search',
      '$top',
      '$skip',
      '$skiptoken',
      '$count'
    );
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        'ShippedAt desc',
        'ShippedAt desc,',
        'ShippedAt up',
        'ShipmentNumber,Status',
        '*',
        '-1',
        '1.5',
        '99999999999999999999',
        'eyJhIjpbXX0.AAAA',
        '"unterminated',
        'NOT',
        '((a)',
        'a OR OR b'
      )
    );
    await fc.assert(
      fc.asyncProperty(option, value, async (name, text) => {
        const response = await server.get('Shipments', { [name]: text });
        assertWellBehaved(response, `${name}=${JSON.stringify(text)}`);
      }),
      { seed: 7, numRuns: 300 }
    );
  });

  it('SQL injection attempts are values, not SQL', async () => {
    const before = db.prepare('SELECT count(*) FROM shipments').pluck().get();
    for (const filter of [
      "Status eq 'x'' OR 1=1 --'",
      "Status eq 'x''); DROP TABLE shipments; --'",
      "contains(Status,'%') or contains(Status,'_')"
    ]) {
      const response = await server.get('Shipments', { $filter: filter });
      expect(response.status).toBe(200);
      expect((response.json() as { value: unknown[] }).value).toEqual([]);
    }
    const injected = await server.get('Shipments', { $orderby: 'ShippedAt; DROP TABLE shipments' });
    expect(injected.status).toBe(400);
    expect(db.prepare('SELECT count(*) FROM shipments').pluck().get()).toBe(before);
  });
});
