import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { OrgAnswer, OrgCaller } from './caller';

/** Path of the order API below the instance URL (the Apex class `WebOrderResource`). */
export const ORDERS_PATH = '/services/apexrest/v1/orders';

/** A web-shop order as `POST /v1/orders` takes it (`WebOrderApi.OrderInput`). */
export interface WebOrder {
  readonly externalNumber: string;
  readonly customerNumber: string;
  /** YYYY-MM-DD */
  readonly orderDate: string;
  readonly currencyCode: string;
  readonly lines: readonly WebOrderLine[];
}

export interface WebOrderLine {
  readonly productCode: string;
  readonly quantity: number;
  readonly unitPrice: number;
}

/** `WebOrderApi.OrderResult`. */
export interface OrderResult {
  readonly externalNumber: string;
  readonly id: string;
  readonly outcome: 'created' | 'existing';
  readonly status: string;
  readonly totalAmount: number;
}

/** `WebOrderApi.CreateResponse`. */
export interface CreateResponse {
  readonly results: OrderResult[];
  readonly created: number;
  readonly existing: number;
}

/** `WebOrderApi.ApiError`. */
export interface ApiError {
  readonly path: string;
  readonly message: string;
}

/** What became of one batch. */
export interface BatchOutcome {
  readonly key: string;
  readonly orders: readonly WebOrder[];
  readonly status: number | undefined;
  readonly attempts: number;
  /** The org answered with the stored result of an earlier try (`Idempotent-Replayed: true`). */
  readonly replayed: boolean;
  readonly response?: CreateResponse;
  /** The API's problems (4xx), or one line saying why the batch got no answer. */
  readonly errors: readonly ApiError[];
}

/**
 * Sends one batch under one Idempotency-Key (a new UUID unless given): every retry of the batch sends the same key
 * and the same bytes, so an attempt that reached the org before its answer was lost is replayed, not repeated.
 */
export async function sendBatch(
  caller: OrgCaller,
  orders: readonly WebOrder[],
  key: string = randomUUID(),
  correlationId: string = randomUUID()
): Promise<BatchOutcome> {
  let answer: OrgAnswer;
  try {
    answer = await caller.call({
      method: 'POST',
      path: ORDERS_PATH,
      body: JSON.stringify({ orders }),
      headers: { 'idempotency-key': key, 'x-correlation-id': correlationId }
    });
  } catch (error) {
    return {
      key,
      orders,
      status: undefined,
      attempts: (error as { attempts?: number }).attempts ?? 0,
      replayed: false,
      errors: [{ path: '', message: (error as Error).message }]
    };
  }
  const base = {
    key,
    orders,
    status: answer.status,
    attempts: answer.attempts,
    replayed: answer.headers.get('idempotent-replayed') === 'true'
  };
  if (answer.status === 200 || answer.status === 201) {
    return { ...base, response: answer.json as CreateResponse, errors: [] };
  }
  return { ...base, errors: errorsOf(answer) };
}

/** The `{errors: [...]}` of the order API, or Salesforce's own `[{message, errorCode}]`, or the raw text. */
export function errorsOf(answer: OrgAnswer): ApiError[] {
  const json = answer.json as { errors?: unknown } | unknown[] | undefined;
  if (json !== undefined && !Array.isArray(json) && Array.isArray(json.errors)) {
    return json.errors as ApiError[];
  }
  if (Array.isArray(json)) {
    return json.map((e) => {
      const item = e as { message?: string; errorCode?: string };
      return { path: '', message: `${item.errorCode ?? 'ERROR'}: ${item.message ?? ''}` };
    });
  }
  return [{ path: '', message: `HTTP ${answer.status}: ${answer.text.slice(0, 200)}` }];
}

/**
 * `count` web-shop orders built from the ERP's customers and active products, numbered `<prefix>-00001` on.
 * Deterministic for a given `random`, so a test can predict them.
 */
export function generateOrders(
  db: Database.Database,
  count: number,
  prefix: string,
  random: () => number = Math.random,
  orderDate: string = new Date().toISOString().slice(0, 10)
): WebOrder[] {
  const customers = db
    .prepare('SELECT customer_number FROM customers ORDER BY customer_number')
    .pluck()
    .all() as string[];
  const products = db
    .prepare(
      'SELECT product_code, unit_price_cents, currency FROM products WHERE active = 1 ORDER BY product_code'
    )
    .all() as { product_code: string; unit_price_cents: number; currency: string }[];
  if (customers.length === 0 || products.length === 0) {
    throw new Error('the ERP database has no customers or products: run `npm run seed` first');
  }
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  return Array.from({ length: count }, (_, i) => {
    const lineCount = 1 + Math.floor(random() * 3);
    const first = pick(products);
    const sameCurrency = products.filter((p) => p.currency === first.currency);
    return {
      externalNumber: `${prefix}-${String(i + 1).padStart(5, '0')}`,
      customerNumber: pick(customers),
      orderDate,
      currencyCode: first.currency,
      lines: Array.from({ length: lineCount }, (_, j) => {
        const product = j === 0 ? first : pick(sameCurrency);
        return {
          productCode: product.product_code,
          quantity: 1 + Math.floor(random() * 5),
          unitPrice: product.unit_price_cents / 100
        };
      })
    };
  });
}
