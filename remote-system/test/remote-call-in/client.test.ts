import { OrgCaller, OrgCallError } from '../../src/remote-call-in/caller';
import { ORDERS_PATH, sendBatch, type WebOrder } from '../../src/remote-call-in/orders';
import { createSalesforceAuth } from '../../src/salesforce';
import { STAND_IN_ORG_ID, startSalesforceStandIn } from '../stand-ins/salesforce-rest';
import { addOrderApi } from './org-stand-in';
import { FAST, startOrg, type OrgHarness } from './support';

const order = (n: number, customerNumber = 'C-000001'): WebOrder => ({
  externalNumber: `WEB-T-${n}`,
  customerNumber,
  orderDate: '2026-11-01',
  currencyCode: 'EUR',
  lines: [{ productCode: 'P-00001', quantity: 2, unitPrice: 10.25 }]
});

describe('the order client against the stand-in of the org', () => {
  let org: OrgHarness;
  beforeEach(async () => {
    org = await startOrg();
  });
  afterEach(() => org.close());

  const orderRequests = () => org.standIn.requests.filter((r) => r.path === ORDERS_PATH);

  it('creates the orders of a batch with one call and reports them', async () => {
    const outcome = await sendBatch(org.caller(), [order(1), order(2, 'C-000002')], 'key-1');
    expect(outcome).toMatchObject({ status: 201, attempts: 1, replayed: false, errors: [] });
    expect(outcome.response).toMatchObject({ created: 2, existing: 0 });
    expect(outcome.response?.results.map((r) => r.totalAmount)).toEqual([20.5, 20.5]);
    expect(orderRequests()[0]?.headers['idempotency-key']).toBe('key-1');
  });

  it('5xx then success: retried with the same key, exactly one order created', async () => {
    org.standIn.failNext({ status: 503 });
    const outcome = await sendBatch(org.caller(), [order(1)], 'key-5xx');
    expect(outcome).toMatchObject({ status: 201, attempts: 2 });
    expect(org.orders.orders.size).toBe(1);
    expect(orderRequests().map((r) => [r.status, r.headers['idempotency-key']])).toEqual([
      [503, 'key-5xx'],
      [201, 'key-5xx']
    ]);
  });

  it('a lost answer: the retry with the same key is replayed, not written twice', async () => {
    org.standIn.failNext({ dropAnswer: true });
    const outcome = await sendBatch(org.caller(), [order(1), order(2)], 'key-lost');
    expect(outcome).toMatchObject({ status: 201, attempts: 2, replayed: true });
    expect(outcome.response).toMatchObject({ created: 2 });
    expect(org.orders.writes).toBe(1);
    expect(orderRequests().map((r) => r.body)).toEqual([
      orderRequests()[0]?.body,
      orderRequests()[0]?.body
    ]);
  });

  it('a timeout is retried with the same key and the same bytes', async () => {
    org.standIn.failNext({ hang: true });
    const outcome = await sendBatch(org.caller({ timeoutMs: 300 }), [order(1)], 'key-slow');
    expect(outcome).toMatchObject({ status: 201, attempts: 2 });
    const [first, second] = orderRequests();
    expect(first?.status).toBeUndefined();
    expect(second?.headers['idempotency-key']).toBe('key-slow');
    expect(second?.body).toBe(first?.body);
    expect(org.orders.orders.size).toBe(1);
  });

  it('a 400 is not retried', async () => {
    const outcome = await sendBatch(org.caller(), [order(1, 'C-999999')], 'key-400');
    expect(outcome).toMatchObject({
      status: 400,
      attempts: 1,
      errors: [{ path: 'orders[0].customerNumber', message: 'no customer C-999999' }]
    });
    expect(orderRequests()).toHaveLength(1);
  });

  it('a 401 refreshes the token once and sends again', async () => {
    const caller = org.caller();
    await sendBatch(caller, [order(1)], 'key-a');
    org.standIn.revokeTokens();
    const outcome = await sendBatch(caller, [order(2)], 'key-b');
    expect(outcome).toMatchObject({ status: 201, attempts: 2 });
    expect(org.standIn.tokenRequests).toHaveLength(2);
    expect(orderRequests().map((r) => r.status)).toEqual([201, 401, 201]);
  });

  it('a second 401 right after a refresh is returned, not looped on', async () => {
    org.standIn.failNext({ status: 401 }, 2);
    const outcome = await sendBatch(org.caller(), [order(1)], 'key-401');
    expect(outcome.status).toBe(401);
    expect(orderRequests()).toHaveLength(2);
    expect(org.standIn.tokenRequests).toHaveLength(2);
  });

  it('a fixed token that the org rejects ends the call with the reason', async () => {
    const standIn = await startSalesforceStandIn();
    addOrderApi(standIn, ['C-000001']);
    try {
      const auth = createSalesforceAuth({
        mode: 'token',
        instanceUrl: standIn.url,
        accessToken: `${STAND_IN_ORG_ID}!expired`,
        apiVersion: '67.0'
      });
      const outcome = await sendBatch(new OrgCaller(auth, FAST), [order(1)], 'key-fixed');
      expect(outcome.status).toBeUndefined();
      expect(outcome.errors[0]?.message).toMatch(/401 and .*fixed token cannot be refreshed/);
    } finally {
      await standIn.close();
    }
  });

  it('a 429 waits for Retry-After before the next attempt', async () => {
    org.standIn.failNext({ status: 429, retryAfter: '1' });
    const started = Date.now();
    const outcome = await sendBatch(org.caller(), [order(1)], 'key-429');
    expect(outcome).toMatchObject({ status: 201, attempts: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('a Retry-After beyond the longest allowed wait ends the retries with the 429', async () => {
    org.standIn.failNext({ status: 429, retryAfter: '120' });
    const outcome = await sendBatch(org.caller({ maxDelayMs: 1_000 }), [order(1)], 'key-long');
    expect(outcome).toMatchObject({ status: 429, attempts: 1 });
  });

  it('honours the attempt bound on 5xx', async () => {
    org.standIn.failNext({ status: 500 }, 10);
    const retries: number[] = [];
    const outcome = await sendBatch(
      org.caller({ maxAttempts: 3, onRetry: ({ attempt }) => retries.push(attempt) }),
      [order(1)],
      'key-bound'
    );
    expect(outcome).toMatchObject({ status: 500, attempts: 3 });
    expect(retries).toEqual([1, 2]);
    expect(orderRequests()).toHaveLength(3);
    expect(org.orders.orders.size).toBe(0);
  });

  it('honours the attempt bound on network errors, then says why', async () => {
    const caller = org.caller({ maxAttempts: 2 });
    await caller.call({ method: 'GET', path: `${ORDERS_PATH}/WEB-NONE` }); // a session first
    await org.standIn.close();
    await expect(caller.call({ method: 'GET', path: `${ORDERS_PATH}/WEB-NONE` })).rejects.toThrow(
      OrgCallError
    );
    await expect(caller.call({ method: 'GET', path: `${ORDERS_PATH}/WEB-NONE` })).rejects.toThrow(
      /gave up after 2 attempt\(s\): network error/
    );
  });
});
