import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type {
  SalesforceStandIn,
  StandInRequest,
  StandInResponse
} from '../stand-ins/salesforce-rest';

/**
 * The Remote Call-In order API (`WebOrderResource`, `WebOrderService`, `WebOrderValidator`) as a route of the
 * Salesforce stand-in, so the ERP's client can be tested against real HTTP on 127.0.0.1. It keeps the Apex
 * behaviour this pattern promises, rule for rule: the same checks in the same order with the same messages, the
 * same limits (read from the contract), idempotency keys with body hashes, all-or-nothing batches, `existing`
 * order numbers. `contract.test.ts` sends every example of `RemoteCallInContract.json` to it and expects the
 * example's answer, as the Apex tests do to the real class; what only the org proves (sharing, FLS, the
 * savepoint) is in the Apex tests.
 */

export const CONTRACT_FILE = path.resolve(
  __dirname,
  '../../../force-app/main/remote-call-in/staticresources/RemoteCallInContract.json'
);

export interface ContractExample {
  readonly description?: string;
  readonly after?: readonly string[];
  readonly generated?: string;
  readonly request: {
    readonly sameAs?: string;
    readonly method?: string;
    readonly path?: string;
    readonly headers?: Record<string, string>;
    readonly body?: unknown;
    readonly rawBody?: string;
  };
  readonly response: {
    readonly status: number;
    readonly headers?: Record<string, string>;
    readonly body: unknown;
  };
}

export interface Contract {
  readonly limits: {
    readonly maxOrdersPerRequest: number;
    readonly maxLinesPerOrder: number;
    readonly maxBodyBytes: number;
    readonly maxIdempotencyKeyLength: number;
    readonly idempotencyRetentionDays: number;
  };
  readonly customers: readonly string[];
  readonly examples: Readonly<Record<string, ContractExample>>;
}

export function readContract(): Contract {
  return JSON.parse(fs.readFileSync(CONTRACT_FILE, 'utf8')) as Contract;
}

interface StoredOrder {
  readonly id: string;
  readonly externalNumber: string;
  readonly customerNumber: string;
  readonly orderDate: string;
  readonly currencyCode: string;
  readonly status: string;
  readonly totalAmount: number;
  readonly lines: readonly { productCode: string; quantity: number; unitPrice: number }[];
}

export interface OrderApiState {
  /** Orders by upper-case order number. */
  readonly orders: Map<string, StoredOrder>;
  /** Stored answers by (case-sensitive) Idempotency-Key. */
  readonly keys: Map<string, { hash: string; status: number; body: string }>;
  /** Successful writes (one per batch that created anything): a replay must not add one. */
  writes: number;
}

type ApiError = { path: string; message: string };

const BASE = '/services/apexrest/v1/orders';

/** Adds the order API to a stand-in; customers are the stand-in's Account records (plus `customers`). */
export function addOrderApi(
  standIn: SalesforceStandIn,
  customers: readonly string[] = []
): OrderApiState {
  const contract = readContract();
  const limits = contract.limits;
  const accounts = standIn.records.get('Account') ?? new Map<string, Record<string, unknown>>();
  standIn.records.set('Account', accounts);
  for (const number of customers) {
    accounts.set(number.toUpperCase(), {
      Id: `001${randomBytes(8).toString('hex').slice(0, 15)}`,
      Name: number,
      ERP_Customer_Number__c: number
    });
  }
  const state: OrderApiState = { orders: new Map(), keys: new Map(), writes: 0 };
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    headers,
    body: JSON.stringify(body)
  });
  const error = (status: number, at: string, message: string): StandInResponse =>
    json(status, { errors: [{ path: at, message }] });

  const post = (request: StandInRequest): StandInResponse => {
    const route = request.path.slice(BASE.length);
    const validateOnly = route === '/validate';
    if (!validateOnly && route !== '' && route !== '/') {
      return error(404, '', `no such resource: POST /v1/orders${route}`);
    }
    const contentType = String(request.headers['content-type'] ?? '');
    if (!contentType.trim().toLowerCase().startsWith('application/json')) {
      return error(415, 'Content-Type', 'must be application/json');
    }
    if (request.body.length > limits.maxBodyBytes) {
      return error(413, '', `must be at most ${limits.maxBodyBytes} bytes`);
    }
    const keyHeader = request.headers['idempotency-key'];
    const key = validateOnly || keyHeader === undefined ? undefined : String(keyHeader);
    if (key !== undefined && (key.length === 0 || key.length > limits.maxIdempotencyKeyLength)) {
      return error(
        400,
        'Idempotency-Key',
        `must be 1 to ${limits.maxIdempotencyKeyLength} characters`
      );
    }
    const hash = createHash('sha256').update(request.body).digest('hex');
    if (key !== undefined) {
      const stored = state.keys.get(key);
      if (stored !== undefined) {
        if (stored.hash !== hash) {
          return error(409, 'Idempotency-Key', 'was already used with a different request body');
        }
        return {
          status: stored.status,
          headers: { 'idempotent-replayed': 'true' },
          body: stored.body
        };
      }
    }
    const checked = validate(request.body.toString('utf8'), limits, accounts);
    if (checked.errors.length > 0) return json(400, { errors: checked.errors });
    const orders = checked.orders;
    if (validateOnly) return json(200, { valid: true, orders: orders.length });

    const results = orders.map((order) => {
      const known = state.orders.get(order.externalNumber.toUpperCase());
      if (known !== undefined) return { order: known, outcome: 'existing' as const };
      const totalCents = order.lines.reduce(
        (sum, line) => sum + Math.round(line.unitPrice * 100) * line.quantity,
        0
      );
      const stored: StoredOrder = {
        id: `a01${randomBytes(8).toString('hex').slice(0, 15)}`,
        externalNumber: order.externalNumber,
        customerNumber: String(
          accounts.get(order.customerNumber.toUpperCase())?.ERP_Customer_Number__c
        ),
        orderDate: order.orderDate,
        currencyCode: order.currencyCode,
        status: 'Received',
        totalAmount: totalCents / 100,
        lines: order.lines.map((l) => ({ ...l, unitPrice: Math.round(l.unitPrice * 100) / 100 }))
      };
      return { order: stored, outcome: 'created' as const };
    });
    const created = results.filter((r) => r.outcome === 'created');
    // All or nothing: nothing is stored until the whole batch is known to be good.
    for (const r of created) state.orders.set(r.order.externalNumber.toUpperCase(), r.order);
    if (created.length > 0) state.writes += 1;
    const status = created.length > 0 ? 201 : 200;
    const body = JSON.stringify({
      results: results.map((r) => ({
        externalNumber: r.order.externalNumber,
        id: r.order.id,
        outcome: r.outcome,
        status: r.order.status,
        totalAmount: r.order.totalAmount
      })),
      created: created.length,
      existing: results.length - created.length
    });
    if (key !== undefined) state.keys.set(key, { hash, status, body });
    return { status, headers: {}, body };
  };

  const get = (request: StandInRequest): StandInResponse => {
    const externalNumber = request.path.slice(BASE.length).replace(/^\//, '');
    if (externalNumber === '' || externalNumber.includes('/')) {
      return error(404, '', `no such resource: GET /v1/orders${request.path.slice(BASE.length)}`);
    }
    const order = state.orders.get(externalNumber.toUpperCase());
    if (order === undefined) return error(404, 'externalNumber', `no order ${externalNumber}`);
    return json(200, {
      externalNumber: order.externalNumber,
      id: order.id,
      status: order.status,
      customerNumber: order.customerNumber,
      orderDate: order.orderDate,
      currencyCode: order.currencyCode,
      totalAmount: order.totalAmount,
      lines: order.lines.map((l, i) => ({ lineNumber: i + 1, ...l }))
    });
  };

  for (const depth of [3, 4, 5, 6]) {
    const pattern = ['services', 'apexrest', 'v1', 'orders', ':a', ':b']
      .slice(0, depth + 1)
      .join('/');
    standIn.route('POST', pattern, post);
    standIn.route('GET', pattern, get);
  }
  return state;
}

interface ValidOrder {
  externalNumber: string;
  customerNumber: string;
  orderDate: string;
  currencyCode: string;
  lines: { productCode: string; quantity: number; unitPrice: number }[];
}

const ORDER_FIELDS = ['externalNumber', 'customerNumber', 'orderDate', 'currencyCode', 'lines'];
const LINE_FIELDS = ['productCode', 'quantity', 'unitPrice'];
const BAD_QUANTITY = 'must be a whole number from 1 to 99999999';
const BAD_PRICE = 'must be a number from 0 to 99999999999999.99';

/** `WebOrderValidator.validate`, check for check. */
function validate(
  text: string,
  limits: Contract['limits'],
  accounts: Map<string, Record<string, unknown>>
): { errors: ApiError[]; orders: ValidOrder[] } {
  const errors: ApiError[] = [];
  const add = (at: string, message: string): void => {
    errors.push({ path: at, message });
  };
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    add('', 'is not valid JSON');
    return { errors, orders: [] };
  }
  if (!isObject(root) || !('orders' in root)) {
    add('', 'must be a JSON object with an orders array');
    return { errors, orders: [] };
  }
  for (const key of unknownKeys(root, ['orders'])) add(key, 'is not a known field');
  const orders = root.orders;
  if (!Array.isArray(orders) || orders.length === 0 || orders.length > limits.maxOrdersPerRequest) {
    add('orders', `must hold 1 to ${limits.maxOrdersPerRequest} orders`);
    return { errors, orders: [] };
  }
  const text_ = (owner: Record<string, unknown>, field: string, at: string, max: number) => {
    const value = owner[field];
    if (value === undefined || value === null) return void add(`${at}.${field}`, 'is required');
    if (typeof value !== 'string') return void add(`${at}.${field}`, 'must be a string');
    if (value.trim() === '' || value.length > max) {
      return void add(`${at}.${field}`, `must be 1 to ${max} characters`);
    }
    return value;
  };
  const seen = new Set<string>();
  const customerByOrder = new Map<number, string>();
  orders.forEach((item: unknown, i) => {
    const at = `orders[${i}]`;
    if (!isObject(item)) return void add(at, 'must be an object');
    for (const key of unknownKeys(item, ORDER_FIELDS)) add(`${at}.${key}`, 'is not a known field');
    const externalNumber = text_(item, 'externalNumber', at, 40);
    if (externalNumber !== undefined && seen.has(externalNumber.toUpperCase())) {
      add(`${at}.externalNumber`, 'appears more than once in this request');
    }
    if (externalNumber !== undefined) seen.add(externalNumber.toUpperCase());
    const customer = text_(item, 'customerNumber', at, 20);
    if (customer !== undefined) customerByOrder.set(i, customer);
    if (item.orderDate === undefined || item.orderDate === null)
      add(`${at}.orderDate`, 'is required');
    else if (typeof item.orderDate !== 'string' || !isIsoDate(item.orderDate)) {
      add(`${at}.orderDate`, 'must be a date (YYYY-MM-DD)');
    }
    if (item.currencyCode === undefined || item.currencyCode === null) {
      add(`${at}.currencyCode`, 'is required');
    } else if (typeof item.currencyCode !== 'string' || !/^[A-Z]{3}$/.test(item.currencyCode)) {
      add(`${at}.currencyCode`, 'must be a 3-letter ISO 4217 code');
    }
    const lines = item.lines;
    if (lines === undefined || lines === null) return void add(`${at}.lines`, 'is required');
    if (!Array.isArray(lines) || lines.length === 0 || lines.length > limits.maxLinesPerOrder) {
      return void add(`${at}.lines`, `must hold 1 to ${limits.maxLinesPerOrder} lines`);
    }
    lines.forEach((line: unknown, j) => {
      const lineAt = `${at}.lines[${j}]`;
      if (!isObject(line)) return void add(lineAt, 'must be an object');
      for (const key of unknownKeys(line, LINE_FIELDS))
        add(`${lineAt}.${key}`, 'is not a known field');
      text_(line, 'productCode', lineAt, 20);
      const quantity = line.quantity;
      if (quantity === undefined || quantity === null) add(`${lineAt}.quantity`, 'is required');
      else if (
        typeof quantity !== 'number' ||
        !Number.isInteger(quantity) ||
        quantity < 1 ||
        quantity > 99_999_999
      ) {
        add(`${lineAt}.quantity`, BAD_QUANTITY);
      }
      const price = line.unitPrice;
      if (price === undefined || price === null) add(`${lineAt}.unitPrice`, 'is required');
      else if (typeof price !== 'number' || price < 0 || price > 99_999_999_999_999.99) {
        add(`${lineAt}.unitPrice`, BAD_PRICE);
      }
    });
  });
  for (const [i, customer] of [...customerByOrder].sort((a, b) => a[0] - b[0])) {
    if (!accounts.has(customer.toUpperCase())) {
      add(`orders[${i}].customerNumber`, `no customer ${customer}`);
    }
  }
  return { errors, orders: errors.length === 0 ? (orders as ValidOrder[]) : [] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKeys(value: Record<string, unknown>, known: readonly string[]): string[] {
  return Object.keys(value)
    .filter((k) => !known.includes(k))
    .sort();
}

function isIsoDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return year >= 1700 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth;
}
