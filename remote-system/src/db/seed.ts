import type Database from 'better-sqlite3';
import {
  dropShipmentDateGaps,
  dropShipmentKeySubstringCounters,
  dropShipmentPerValueKeySubstringCounters,
  dropShipmentSubstringCounters,
  installShipmentDateGaps,
  installShipmentKeySubstringCounters,
  installShipmentPerValueKeySubstringCounters,
  installShipmentSubstringCounters,
  SHIPMENT_INDEXES
} from './migrations';
import {
  DEFAULT_SEED,
  Random,
  STREAM,
  WAREHOUSES,
  customerNumber,
  deriveSeed,
  generateCustomers,
  generateProducts,
  productCode,
  type Customer
} from './sample-data';

export interface SeedOptions {
  readonly seed?: number;
  readonly customers?: number;
  readonly products?: number;
  readonly orders?: number;
  readonly shipments?: number;
  /**
   * The "today" the data is generated around (ISO-8601). Fixed by default so the same seed always gives the
   * same rows; shipments spread over the five years before it, the newest still in transit.
   */
  readonly referenceDate?: string;
  /** Delete existing rows first. Without it, seeding a database that already holds customers throws. */
  readonly reset?: boolean;
  /** Shipments per transaction (default 100,000). */
  readonly chunkSize?: number;
  /** Called after each committed chunk of shipments. */
  readonly onProgress?: (shipmentsWritten: number, total: number) => void;
}

export interface SeedReport {
  readonly customers: number;
  readonly products: number;
  readonly inventory: number;
  readonly orders: number;
  readonly orderLines: number;
  readonly invoices: number;
  readonly shipments: number;
  readonly durationMs: number;
  readonly shipmentsMs: number;
  readonly indexMs: number;
  /** Shipment rows written per second, index build excluded. */
  readonly shipmentRowsPerSecond: number;
}

export const DEFAULT_REFERENCE_DATE = '2026-11-01T00:00:00Z';

const DAY_MS = 86_400_000;
const SHIPMENT_CHUNK = 100_000;
const ROWS_PER_INSERT = 200;
const SHIPMENT_COLUMNS = [
  'shipment_number',
  'customer_number',
  'order_number',
  'carrier',
  'service_level',
  'status',
  'origin_warehouse',
  'destination_city',
  'destination_country',
  'weight_kg',
  'package_count',
  'declared_value',
  'shipped_at',
  'estimated_delivery',
  'delivered_at',
  'is_insured'
] as const;

const CARRIERS = ['UPS', 'FedEx', 'DHL', 'USPS', 'DB Schenker'] as const;
const SERVICE_LEVELS = [
  ['Ground', 5],
  ['Express', 2],
  ['Overnight', 1],
  ['Freight', 8]
] as const;

type ShipmentRow = [
  string,
  string,
  string | null,
  string,
  string,
  string,
  string,
  string,
  string,
  number,
  number,
  number,
  string,
  string,
  string | null,
  number
];

/** True when the database already holds seeded customers. */
export function isSeeded(db: Database.Database): boolean {
  return (db.prepare('SELECT count(*) FROM customers').pluck().get() as number) > 0;
}

/**
 * Fills the database with the deterministic demo data set: the same options always give the same rows.
 * Shipments are bulk loaded (multi-row prepared inserts, one transaction per 100k rows, `synchronous=OFF`, the
 * shipment indexes and the key's substring counters dropped during the load and rebuilt after), which is what makes
 * 10M rows a matter of minutes.
 */
export function seedDatabase(db: Database.Database, options: SeedOptions = {}): SeedReport {
  const started = performance.now();
  const seed = options.seed ?? DEFAULT_SEED;
  const customerCount = positive('customers', options.customers ?? 1_000, 999_999);
  const productCount = positive('products', options.products ?? 500, 99_999);
  const orderCount = nonNegative('orders', options.orders ?? 5_000);
  const shipmentCount = nonNegative('shipments', options.shipments ?? 100_000);
  const referenceMs = Date.parse(options.referenceDate ?? DEFAULT_REFERENCE_DATE);
  if (Number.isNaN(referenceMs)) throw new RangeError('referenceDate must be an ISO-8601 date');

  if (isSeeded(db)) {
    if (!options.reset)
      throw new Error('database is already seeded (pass reset: true to rebuild it)');
    db.transaction(() => {
      for (const table of [
        'shipments',
        'invoices',
        'order_lines',
        'orders',
        'inventory',
        'products',
        'customers'
      ]) {
        db.exec(`DELETE FROM ${table}`);
      }
    })();
  }

  const customers = generateCustomers(customerCount, seed);
  const products = generateProducts(productCount, seed);
  let inventoryRows = 0;
  let orderLineRows = 0;
  let invoiceRows = 0;

  const previousSync = db.pragma('synchronous', { simple: true });
  db.pragma('synchronous = OFF');
  try {
    db.transaction(() => {
      const insertCustomer = db.prepare(
        `INSERT INTO customers (customer_number, name, industry, city, country, credit_limit_cents,
           balance_cents, risk_rating, on_hold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
      );
      for (const c of customers) {
        insertCustomer.run(
          c.customerNumber,
          c.name,
          c.industry,
          c.city,
          c.country,
          c.creditLimitCents,
          c.balanceCents,
          c.riskRating,
          c.onHold ? 1 : 0
        );
      }
      const insertProduct = db.prepare(
        `INSERT INTO products (product_code, name, family, unit_price_cents, currency, active)
         VALUES (?, ?, ?, ?, ?, ?)`
      );
      const insertInventory = db.prepare(
        'INSERT INTO inventory (product_code, warehouse_code, on_hand, reserved) VALUES (?, ?, ?, ?)'
      );
      products.forEach((p, i) => {
        insertProduct.run(
          p.productCode,
          p.name,
          p.family,
          p.unitPriceCents,
          p.currency,
          p.active ? 1 : 0
        );
        if (p.family === 'Software' || p.family === 'Services') return; // nothing to stock
        const r = new Random(deriveSeed(seed, STREAM.inventory, i + 1));
        for (const warehouse of WAREHOUSES) {
          if (!r.chance(0.7)) continue;
          const onHand = r.chance(0.1) ? 0 : r.int(1, 2_000);
          insertInventory.run(p.productCode, warehouse, onHand, r.int(0, Math.floor(onHand / 4)));
          inventoryRows++;
        }
      });
    })();

    const orders = db.transaction(() =>
      insertOrders(db, seed, orderCount, customers, products, referenceMs)
    )();
    orderLineRows = orders.lines;
    invoiceRows = orders.invoices;

    const shipmentsStarted = performance.now();
    for (const index of SHIPMENT_INDEXES) db.exec(`DROP INDEX IF EXISTS ${index.name}`);
    dropShipmentSubstringCounters(db);
    dropShipmentKeySubstringCounters(db);
    dropShipmentPerValueKeySubstringCounters(db);
    dropShipmentDateGaps(db);
    insertShipments(db, seed, shipmentCount, customers, orders.shippable, referenceMs, options);
    const shipmentsMs = performance.now() - shipmentsStarted;
    const indexStarted = performance.now();
    for (const index of SHIPMENT_INDEXES) db.exec(index.sql);
    installShipmentSubstringCounters(db);
    installShipmentKeySubstringCounters(db);
    installShipmentPerValueKeySubstringCounters(db);
    installShipmentDateGaps(db);
    db.exec('ANALYZE');
    const indexMs = performance.now() - indexStarted;

    return {
      customers: customers.length,
      products: products.length,
      inventory: inventoryRows,
      orders: orderCount,
      orderLines: orderLineRows,
      invoices: invoiceRows,
      shipments: shipmentCount,
      durationMs: Math.round(performance.now() - started),
      shipmentsMs: Math.round(shipmentsMs),
      indexMs: Math.round(indexMs),
      shipmentRowsPerSecond:
        shipmentCount === 0 ? 0 : Math.round(shipmentCount / (shipmentsMs / 1000))
    };
  } finally {
    db.pragma(`synchronous = ${String(previousSync)}`);
  }
}

interface ShippableOrder {
  readonly orderNumber: string;
  readonly customer: Customer;
  readonly orderDateMs: number;
}

function insertOrders(
  db: Database.Database,
  seed: number,
  count: number,
  customers: readonly Customer[],
  products: ReturnType<typeof generateProducts>,
  referenceMs: number
): { lines: number; invoices: number; shippable: ShippableOrder[] } {
  const insertOrder = db.prepare(
    `INSERT INTO orders (order_number, customer_number, external_order_number, salesforce_order_id, status,
       order_date, currency, total_cents, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?, 'USD', ?, ?, ?)`
  );
  const insertLine = db.prepare(
    `INSERT INTO order_lines (order_number, line_number, product_code, quantity, unit_price_cents)
     VALUES (?, ?, ?, ?, ?)`
  );
  const insertInvoice = db.prepare(
    `INSERT INTO invoices (invoice_number, customer_number, order_number, salesforce_opportunity_id, status,
       issued_on, due_on, amount_cents, paid_cents, currency, created_at)
     VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, 'USD', ?)`
  );
  let lines = 0;
  let invoices = 0;
  const shippable: ShippableOrder[] = [];
  for (let i = 1; i <= count; i++) {
    const r = new Random(deriveSeed(seed, STREAM.order, i));
    const customer = customers[r.int(0, customers.length - 1)] as Customer;
    const orderNumber = `SO-${String(i).padStart(7, '0')}`;
    const orderDateMs = referenceMs - r.int(1, 730) * DAY_MS - r.int(0, 86_399) * 1000;
    const roll = r.next();
    const status =
      roll < 0.55
        ? 'Invoiced'
        : roll < 0.7
          ? 'Shipped'
          : roll < 0.85
            ? 'Booked'
            : roll < 0.9
              ? 'Draft'
              : 'Cancelled';
    const lineCount = r.int(1, 5);
    const lineValues: [number, string, number, number][] = [];
    let total = 0;
    for (let line = 1; line <= lineCount; line++) {
      const product = products[r.int(0, products.length - 1)];
      if (product === undefined) break;
      const quantity = r.int(1, 50);
      total += quantity * product.unitPriceCents;
      lineValues.push([line, product.productCode, quantity, product.unitPriceCents]);
    }
    const timestamp = isoSeconds(orderDateMs);
    insertOrder.run(
      orderNumber,
      customer.customerNumber,
      r.chance(0.4) ? `WEB-${String(i).padStart(7, '0')}` : null,
      status,
      timestamp.slice(0, 10),
      total,
      timestamp,
      timestamp
    );
    for (const [line, code, quantity, price] of lineValues) {
      insertLine.run(orderNumber, line, code, quantity, price);
      lines++;
    }
    if (status === 'Invoiced') {
      invoices++;
      const issuedMs = orderDateMs + 3 * DAY_MS;
      const dueMs = issuedMs + 30 * DAY_MS;
      const paid = dueMs < referenceMs && r.chance(0.85);
      const invoiceStatus = paid ? 'Paid' : dueMs < referenceMs ? 'Overdue' : 'Open';
      insertInvoice.run(
        `INV-${String(invoices).padStart(7, '0')}`,
        customer.customerNumber,
        orderNumber,
        invoiceStatus,
        isoSeconds(issuedMs).slice(0, 10),
        isoSeconds(dueMs).slice(0, 10),
        total,
        paid ? total : 0,
        isoSeconds(issuedMs)
      );
    }
    if (status === 'Invoiced' || status === 'Shipped') {
      shippable.push({ orderNumber, customer, orderDateMs });
    }
  }
  return { lines, invoices, shippable };
}

function insertShipments(
  db: Database.Database,
  seed: number,
  count: number,
  customers: readonly Customer[],
  shippable: readonly ShippableOrder[],
  referenceMs: number,
  options: SeedOptions
): void {
  if (count === 0) return;
  const placeholders = `(${SHIPMENT_COLUMNS.map(() => '?').join(', ')})`;
  const sql = (rows: number): string =>
    `INSERT INTO shipments (${SHIPMENT_COLUMNS.join(', ')}) VALUES ${Array(rows)
      .fill(placeholders)
      .join(', ')}`;
  const insertMany = db.prepare(sql(ROWS_PER_INSERT));
  const r = new Random(deriveSeed(seed, STREAM.shipment, 0));
  const fiveYearsMs = 5 * 365 * DAY_MS;
  const params: (string | number | null)[] = [];

  const generate = (i: number): ShipmentRow => {
    const order = i <= shippable.length ? shippable[i - 1] : undefined;
    // Skewed towards low customer numbers so a few accounts have very long shipment histories.
    const u = r.next();
    const customer =
      order?.customer ?? (customers[Math.floor(u * u * customers.length)] as Customer);
    const [serviceLevel, transitDays] = r.pick(SERVICE_LEVELS);
    const shippedMs =
      order !== undefined
        ? order.orderDateMs + r.int(1, 3) * DAY_MS
        : referenceMs - Math.floor(r.next() * fiveYearsMs);
    const ageDays = (referenceMs - shippedMs) / DAY_MS;
    const statusRoll = r.next();
    let status: string;
    if (ageDays < 1) status = statusRoll < 0.7 ? 'Label Created' : 'In Transit';
    else if (ageDays < transitDays)
      status =
        statusRoll < 0.8 ? 'In Transit' : statusRoll < 0.93 ? 'Out for Delivery' : 'Exception';
    else status = statusRoll < 0.94 ? 'Delivered' : statusRoll < 0.97 ? 'Returned' : 'Exception';
    const actualTransitMs = (transitDays + r.int(-1, 2)) * DAY_MS + r.int(3_600, 36_000) * 1000;
    const declaredValue = Math.round(r.next() * 25_000 * 100) / 100;
    return [
      `SHP-${String(i).padStart(10, '0')}`,
      customer.customerNumber,
      order?.orderNumber ?? null,
      r.pick(CARRIERS),
      serviceLevel,
      status,
      r.pick(WAREHOUSES),
      customer.city,
      customer.country,
      Math.round((0.2 + r.next() * 800) * 10) / 10,
      r.int(1, 20),
      declaredValue,
      isoSeconds(shippedMs),
      isoSeconds(shippedMs + transitDays * DAY_MS).slice(0, 10),
      status === 'Delivered' ? isoSeconds(shippedMs + Math.max(actualTransitMs, 3_600_000)) : null,
      declaredValue > 5_000 || r.chance(0.1) ? 1 : 0
    ];
  };

  const writeChunk = db.transaction((from: number, to: number) => {
    for (let i = from; i <= to; i++) {
      const row = generate(i);
      for (const value of row) params.push(value);
      if (params.length === ROWS_PER_INSERT * SHIPMENT_COLUMNS.length) {
        insertMany.run(params);
        params.length = 0;
      }
    }
    const remaining = params.length / SHIPMENT_COLUMNS.length;
    if (remaining > 0) {
      db.prepare(sql(remaining)).run(params);
      params.length = 0;
    }
  });

  const chunk = positive('chunkSize', options.chunkSize ?? SHIPMENT_CHUNK, 10_000_000);
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    writeChunk(from, to);
    options.onProgress?.(to, count);
  }
}

function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function positive(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be a whole number between 1 and ${max}, got ${value}`);
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 1_000_000_000) {
    throw new RangeError(`${name} must be a whole number >= 0, got ${value}`);
  }
  return value;
}

/** Customer number of a 1-based index (re-exported for tests and tools). */
export { customerNumber, productCode };
