import Ajv from 'ajv';
import { openDatabase, seedDatabase } from '../../src/db';
import type { ErrorBody } from '../../src/http';
import { send, startTestServer, stopTestServer, type TestServer } from './support';

const NO_FAULTS = { latencyMs: 0, errorRate: 0, errorStatus: 503, hang: false };

describe('request-reply routes (mounted in the real server)', () => {
  let server: TestServer;
  let draw = 0.5;
  beforeAll(async () => {
    server = await startTestServer({ random: () => draw, maxHangMs: 1_500 });
  });
  afterAll(async () => {
    await stopTestServer(server);
  });
  afterEach(() => {
    server.app.erp.faults.set('request-reply', NO_FAULTS);
    draw = 0.5;
  });

  const get = (path: string, headers?: Record<string, string>) =>
    send(server.baseUrl, { method: 'GET', path, headers });
  const post = (path: string, body: unknown, headers?: Record<string, string>) =>
    send(server.baseUrl, { method: 'POST', path, body, headers });
  const errorOf = (body: unknown): ErrorBody['error'] => (body as ErrorBody).error;

  it('refuses callers without the bearer secret', async () => {
    const response = await get('/request-reply/credit/C-000001', {
      authorization: 'Bearer wrong-secret-value'
    });
    expect(response.status).toBe(401);
  });

  describe('credit', () => {
    it.each([
      ['C-000001', 0, 'APPROVED'],
      ['C-000001', 30_000, 'APPROVED'],
      ['C-000001', 30_000.01, 'REVIEW'],
      ['C-000001', 37_500.01, 'DECLINED'],
      ['C-000002', 0, 'DECLINED'],
      ['C-000003', 10, 'REVIEW'],
      ['C-000004', 1_000.01, 'DECLINED']
    ])('%s ordering %d is %s', async (customer, amount, decision) => {
      const response = await get(`/request-reply/credit/${customer}?amount=${amount}`);
      expect(response.status).toBe(200);
      expect((response.body as { decision: string }).decision).toBe(decision);
    });

    it('is deterministic: the same question gets the same answer', async () => {
      const first = await get('/request-reply/credit/C-000004?amount=50');
      const second = await get('/request-reply/credit/C-000004?amount=50');
      expect(second.body).toEqual(first.body);
    });

    it('rejects a malformed customer number and a negative amount with field errors', async () => {
      const malformed = await get('/request-reply/credit/C-00001');
      expect(malformed.status).toBe(400);
      expect(errorOf(malformed.body).fields).toEqual([
        { field: 'path.customerNumber', reason: 'must match pattern "^C-[0-9]{6}$"' }
      ]);
      const negative = await get('/request-reply/credit/C-000001?amount=-5');
      expect(negative.status).toBe(400);
      expect(errorOf(negative.body).fields).toEqual([
        { field: 'query.amount', reason: 'must be >= 0' }
      ]);
    });

    it('answers 404 with the caller correlation id', async () => {
      const response = await get('/request-reply/credit/C-999999', {
        'X-Correlation-Id': 'corr-123'
      });
      expect(response.status).toBe(404);
      expect(response.headers.get('x-correlation-id')).toBe('corr-123');
      expect(response.body).toEqual({
        error: {
          status: 404,
          code: 'NOT_FOUND',
          message: 'Customer C-999999 is not known to the ERP.'
        },
        correlationId: 'corr-123'
      });
    });
  });

  describe('stock', () => {
    it('reports a partial line', async () => {
      const response = await post('/request-reply/stock', {
        lines: [{ productCode: 'P-00001', quantity: 46 }]
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        allAvailable: false,
        lines: [{ available: 45, status: 'PARTIAL' }]
      });
    });

    it('answers 404 naming every unknown product', async () => {
      const response = await post('/request-reply/stock', {
        lines: [
          { productCode: 'P-99998', quantity: 1 },
          { productCode: 'P-00001', quantity: 1 },
          { productCode: 'P-99999', quantity: 1 }
        ]
      });
      expect(response.status).toBe(404);
      expect(errorOf(response.body).message).toBe('Unknown product(s): P-99998, P-99999.');
    });

    it('lists every field error at once, with readable paths', async () => {
      const response = await post('/request-reply/stock', {
        lines: [{ productCode: 'X', quantity: 0 }, { quantity: 2 }],
        extra: true
      });
      expect(response.status).toBe(400);
      expect(errorOf(response.body).code).toBe('VALIDATION_FAILED');
      expect(errorOf(response.body).fields).toEqual(
        expect.arrayContaining([
          { field: 'extra', reason: 'is not a known field' },
          { field: 'lines[0].productCode', reason: 'must match pattern "^P-[0-9]{5}$"' },
          { field: 'lines[0].quantity', reason: 'must be >= 1' },
          { field: 'lines[1].productCode', reason: 'is required' }
        ])
      );
    });

    it('rejects an empty and an oversized order', async () => {
      expect((await post('/request-reply/stock', { lines: [] })).status).toBe(400);
      const lines = Array.from({ length: 51 }, () => ({ productCode: 'P-00001', quantity: 1 }));
      expect((await post('/request-reply/stock', { lines })).status).toBe(400);
    });
  });

  describe('pricing', () => {
    it('applies the risk-rating and volume discounts', async () => {
      const response = await post('/request-reply/pricing', {
        customerNumber: 'C-000004',
        lines: [{ productCode: 'P-00002', quantity: 100 }]
      });
      expect(response.status).toBe(200);
      // risk C = 2 %, 100 units = +5 %: 4,550.00 less 7 % = 4,231.50
      expect(response.body).toMatchObject({ subtotal: 4550, discountTotal: 318.5, total: 4231.5 });
    });

    it('refuses inactive products and mixed currencies with 422', async () => {
      const inactive = await post('/request-reply/pricing', {
        customerNumber: 'C-000001',
        lines: [{ productCode: 'P-00003', quantity: 1 }]
      });
      expect(inactive.status).toBe(422);
      const mixed = await post('/request-reply/pricing', {
        customerNumber: 'C-000001',
        lines: [
          { productCode: 'P-00001', quantity: 1 },
          { productCode: 'P-00004', quantity: 1 }
        ]
      });
      expect(mixed.status).toBe(422);
      expect(errorOf(mixed.body).code).toBe('UNPROCESSABLE');
    });

    it('answers 404 for an unknown customer', async () => {
      const response = await post('/request-reply/pricing', {
        customerNumber: 'C-999999',
        lines: [{ productCode: 'P-00001', quantity: 1 }]
      });
      expect(response.status).toBe(404);
    });
  });

  describe('fault knobs', () => {
    it('adds the console latency', async () => {
      server.app.erp.faults.set('request-reply', { latencyMs: 300 });
      const started = Date.now();
      const response = await get('/request-reply/credit/C-000001');
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('fails the share of requests set by the console error rate', async () => {
      server.app.erp.faults.set('request-reply', { errorRate: 0.25, errorStatus: 502 });
      draw = 0.2;
      const failed = await get('/request-reply/credit/C-000001');
      expect(failed.status).toBe(502);
      expect(errorOf(failed.body).code).toBe('INJECTED_FAULT');
      draw = 0.3;
      expect((await get('/request-reply/credit/C-000001')).status).toBe(200);
    });

    it('lets request headers force an error status and latency', async () => {
      const started = Date.now();
      const response = await post(
        '/request-reply/pricing',
        { customerNumber: 'C-000001', lines: [{ productCode: 'P-00001', quantity: 1 }] },
        { 'X-Fault-Status': '500', 'X-Fault-Latency-Ms': '200' }
      );
      expect(response.status).toBe(500);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    });

    it('rejects malformed fault headers', async () => {
      const response = await get('/request-reply/credit/C-000001', {
        'X-Fault-Status': '200',
        'X-Fault-Hang': 'maybe'
      });
      expect(response.status).toBe(400);
      expect(errorOf(response.body).fields).toHaveLength(2);
    });

    it('hangs until the client gives up, and sends nothing', async () => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 300);
      await expect(
        send(
          server.baseUrl,
          {
            method: 'GET',
            path: '/request-reply/credit/C-000001',
            headers: { 'X-Fault-Hang': 'true' }
          },
          controller.signal
        )
      ).rejects.toThrow(/abort/i);
      clearTimeout(timer);
      expect((await get('/request-reply/credit/C-000001')).status).toBe(200);
    });

    it('answers 504 if nobody gives up before the hang ceiling', async () => {
      server.app.erp.faults.set('request-reply', { hang: true });
      const response = await get('/request-reply/credit/C-000001');
      expect(response.status).toBe(504);
    });
  });

  describe('OpenAPI', () => {
    it('serves the pattern document with every operation', async () => {
      const response = await get('/request-reply/openapi.json');
      expect(response.status).toBe(200);
      const document = response.body as {
        openapi: string;
        paths: Record<string, Record<string, { operationId: string }>>;
      };
      expect(document.openapi).toBe('3.0.3');
      const operations = Object.values(document.paths).flatMap((item) =>
        Object.values(item).map((op) => op.operationId)
      );
      expect(operations.sort()).toEqual(['checkCredit', 'checkStock', 'quotePrices']);
    });

    it('lists the same operations in the server-wide /openapi.json', async () => {
      const pattern = (await get('/request-reply/openapi.json')).body as {
        paths: Record<string, Record<string, { operationId: string }>>;
      };
      const response = await send(server.baseUrl, { method: 'GET', path: '/openapi.json' });
      const all = (response.body as typeof pattern).paths;
      for (const [path, item] of Object.entries(pattern.paths)) {
        expect(all[path]).toEqual(item);
      }
    });

    it('has every $ref resolvable and every component a valid JSON Schema', async () => {
      const document = (await get('/request-reply/openapi.json')).body as {
        components: { schemas: Record<string, object> };
      };
      const text = JSON.stringify(document);
      const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]);
      const schemas = document.components.schemas;
      expect(refs.length).toBeGreaterThan(0);
      for (const name of refs) expect(schemas).toHaveProperty(name as string);
      const ajv = new Ajv({ strict: false });
      for (const schema of Object.values(schemas)) expect(() => ajv.compile(schema)).not.toThrow();
    });

    it('lists its routes in the console from their schema summaries', () => {
      expect(server.app.erp.endpoints.get('request-reply')).toEqual([
        {
          method: 'GET',
          path: '/credit/:customerNumber',
          description: 'Credit decision for a customer and an order amount'
        },
        {
          method: 'POST',
          path: '/stock',
          description: 'Availability of order lines over all warehouses'
        },
        {
          method: 'POST',
          path: '/pricing',
          description: 'Customer-specific prices for order lines'
        }
      ]);
    });
  });
});

describe('request-reply over the deterministic seed', () => {
  let server: TestServer;
  beforeAll(async () => {
    const db = openDatabase(':memory:');
    seedDatabase(db, { customers: 40, products: 25, orders: 0, shipments: 0 });
    server = await startTestServer({}, db);
  });
  afterAll(async () => {
    await stopTestServer(server);
  });

  it('answers for every seeded customer and product', async () => {
    const customers = server.db
      .prepare('SELECT customer_number FROM customers')
      .pluck()
      .all() as string[];
    const products = server.db
      .prepare('SELECT product_code FROM products WHERE active = 1')
      .pluck()
      .all() as string[];
    expect(customers.length).toBe(40);
    for (const customer of customers.slice(0, 10)) {
      const response = await send(server.baseUrl, {
        method: 'GET',
        path: `/request-reply/credit/${customer}?amount=100`
      });
      expect(response.status).toBe(200);
    }
    const lines = products.slice(0, 5).map((productCode) => ({ productCode, quantity: 2 }));
    const stock = await send(server.baseUrl, {
      method: 'POST',
      path: '/request-reply/stock',
      body: { lines }
    });
    expect(stock.status).toBe(200);
    expect((stock.body as { lines: unknown[] }).lines).toHaveLength(5);
  });
});
