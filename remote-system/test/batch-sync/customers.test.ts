import { createBatchSyncModule } from '../../src/batch-sync';
import { loadBatchSyncConfig } from '../../src/batch-sync/config';
import type { CustomersPage } from '../../src/batch-sync/schemas';
import type { ErrorBody } from '../../src/http';
import { auth, getJson, startServer, TEST_SECRET, type RunningServer } from '../support';

describe('batch-sync customer pages (real server, real SQLite)', () => {
  let server: RunningServer;
  const config = loadBatchSyncConfig({
    BATCH_SYNC_PAGE_SIZE: '10',
    BATCH_SYNC_MAX_PAGE_SIZE: '50'
  });

  beforeAll(async () => {
    server = await startServer({
      patterns: [createBatchSyncModule({ tokenSecret: TEST_SECRET, config })]
    });
  });
  afterAll(() => server.close());

  const page = async (query: string) => {
    const res = await getJson(`${server.baseUrl}/batch-sync/customers${query}`, { headers: auth });
    return res as { status: number; body: CustomersPage & ErrorBody };
  };

  it('walks every customer once, in key order, in bounded pages', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await page(cursor === undefined ? '?limit=7' : `?limit=7&cursor=${cursor}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(7);
      seen.push(...res.body.items.map((c) => c.customerNumber));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== undefined && pages < 20);
    const all = server.db
      .prepare('SELECT customer_number FROM customers ORDER BY customer_number')
      .pluck()
      .all();
    expect(seen).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 7));
  });

  it('stays stable while customers are inserted and updated between pages', async () => {
    const first = await page('?limit=5');
    const lastOfFirst = first.body.items.at(-1)!.customerNumber;
    // An insert behind the cursor and an update of a row ahead of it, between two page reads.
    server.db
      .prepare(
        `INSERT INTO customers (customer_number, name, industry, city, country, credit_limit_cents, balance_cents,
           risk_rating, on_hold) VALUES ('C-000000', 'Inserted Behind', 'Retail', 'Oslo', 'NO', 100, 0, 'A', 0)`
      )
      .run();
    const ahead = server.db
      .prepare('SELECT customer_number FROM customers WHERE customer_number > ? ORDER BY 1 LIMIT 1')
      .pluck()
      .get(lastOfFirst) as string;
    server.db
      .prepare('UPDATE customers SET balance_cents = 12345 WHERE customer_number = ?')
      .run(ahead);
    const second = await page(`?limit=5&cursor=${first.body.nextCursor}`);
    expect(second.body.items[0]!.customerNumber).toBe(ahead);
    expect(second.body.items[0]!.balance).toBe(123.45);
    expect(second.body.items.map((c) => c.customerNumber)).not.toContain('C-000000');
    server.db.prepare("DELETE FROM customers WHERE customer_number = 'C-000000'").run();
  });

  it('answers a chunk of numbers in one page and names the unknown ones', async () => {
    const res = await page('?numbers=C-000003,C-000001,C-999999,C-000002&limit=10');
    expect(res.status).toBe(200);
    expect(res.body.items.map((c) => c.customerNumber)).toEqual([
      'C-000001',
      'C-000002',
      'C-000003'
    ]);
    expect(res.body.missing).toEqual(['C-999999']);
    expect(res.body.nextCursor).toBeUndefined();
    const c = res.body.items[0]!;
    expect(c.currencyCode).toBe('USD');
    expect(typeof c.creditLimit).toBe('number');
  });

  it('pages a numbers filter too, reporting missing numbers only for the range each page covers', async () => {
    const first = await page('?numbers=C-000001,C-000002,C-000100,C-000003&limit=2');
    expect(first.body.items.map((c) => c.customerNumber)).toEqual(['C-000001', 'C-000002']);
    expect(first.body.missing).toEqual([]);
    const second = await page(
      `?numbers=C-000001,C-000002,C-000100,C-000003&limit=2&cursor=${first.body.nextCursor}`
    );
    expect(second.body.items.map((c) => c.customerNumber)).toEqual(['C-000003']);
    expect(second.body.missing).toEqual(['C-000100']);
    expect(second.body.nextCursor).toBeUndefined();
  });

  it.each([
    ['a forged cursor', '?cursor=eyJhIjoiQy0wMDAwMDUiLCJxIjoiKiJ9.AAAA', 'INVALID_CURSOR'],
    ['a malformed cursor', '?cursor=not-a-cursor', 'INVALID_CURSOR'],
    ['a page above the bound', '?limit=51', 'PAGE_TOO_LARGE'],
    ['a bad customer number', '?numbers=C-1,C-000002', 'VALIDATION_FAILED']
  ])('answers 400 for %s', async (_name, query, code) => {
    const res = await page(query);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.fields?.[0]?.field).toMatch(/^query\./);
  });

  it('rejects a cursor issued for another numbers filter', async () => {
    const first = await page('?limit=2');
    const res = await page(`?numbers=C-000001,C-000002&cursor=${first.body.nextCursor}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_CURSOR');
  });

  it('requires the bearer secret', async () => {
    const res = await getJson(`${server.baseUrl}/batch-sync/customers`);
    expect(res.status).toBe(401);
  });
});
