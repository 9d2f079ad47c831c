import type Database from 'better-sqlite3';
import type { CreditCheck, OrderLine, PriceQuote, StockCheck } from './schemas';

/**
 * The ERP's answers to the three request-and-reply questions, computed only from the seeded tables `customers`,
 * `products` and `inventory`, so the same customer or product always gets the same answer (a demo and a test can
 * rely on them). Amounts are kept in integer cents and converted to currency units only on the way out.
 */

/** Currency of credit limits and balances; customers carry no currency column, the ERP keeps credit in one. */
export const CREDIT_CURRENCY = 'USD';
/** An order that would use more than this share of the remaining credit goes to a credit controller for review. */
export const REVIEW_THRESHOLD = 0.8;
/** Discount by risk rating, in percent: good payers get better prices. */
export const RISK_DISCOUNT: Readonly<Record<string, number>> = { A: 10, B: 5, C: 2, D: 0 };
/** Volume discount tiers, in percent, added to the risk discount: [minimum quantity, extra percent]. */
export const VOLUME_TIERS: readonly (readonly [number, number])[] = [
  [100, 5],
  [20, 2]
];

export class NotFoundError extends Error {}
export class UnprocessableError extends Error {}

interface CustomerRow {
  customer_number: string;
  name: string;
  credit_limit_cents: number;
  balance_cents: number;
  risk_rating: string;
  on_hold: number;
}

interface ProductRow {
  product_code: string;
  name: string;
  unit_price_cents: number;
  currency: string;
  active: number;
}

interface InventoryRow {
  product_code: string;
  warehouse_code: string;
  on_hand: number;
  reserved: number;
}

/** The reply shapes are the route schemas' types: one definition (`schemas.ts`) for validation, types and OpenAPI. */
export type CreditResult = CreditCheck;
export type CreditDecision = CreditCheck['decision'];
export type StockLine = StockCheck['lines'][number];
export type StockResult = StockCheck;
export type PricingLine = PriceQuote['lines'][number];
export type PricingResult = PriceQuote;
export type { OrderLine };

const toUnits = (cents: number): number => Math.round(cents) / 100;

/** Prepared statements over one database handle; create once per server. */
export class RequestReplyService {
  private readonly customerStmt: Database.Statement<[string], CustomerRow>;
  private readonly productStmt: Database.Statement<[string], ProductRow>;
  private readonly inventoryStmt: Database.Statement<[string], InventoryRow>;

  constructor(db: Database.Database) {
    this.customerStmt = db.prepare<[string], CustomerRow>(
      `SELECT customer_number, name, credit_limit_cents, balance_cents, risk_rating, on_hold
         FROM customers WHERE customer_number = ?`
    );
    this.productStmt = db.prepare<[string], ProductRow>(
      `SELECT product_code, name, unit_price_cents, currency, active FROM products WHERE product_code = ?`
    );
    this.inventoryStmt = db.prepare<[string], InventoryRow>(
      `SELECT product_code, warehouse_code, on_hand, reserved
         FROM inventory WHERE product_code = ? ORDER BY warehouse_code`
    );
  }

  /** Credit decision for an order of `amount` currency units (0 = "may this customer order at all?"). */
  credit(customerNumber: string, amount = 0): CreditResult {
    const row = this.customerStmt.get(customerNumber);
    if (!row) {
      throw new NotFoundError(`Customer ${customerNumber} is not known to the ERP.`);
    }
    const availableCents = row.credit_limit_cents - row.balance_cents;
    const requestedCents = Math.round(amount * 100);
    let decision: CreditDecision;
    let reason: string;
    if (row.on_hold === 1) {
      decision = 'DECLINED';
      reason = 'The customer account is on credit hold.';
    } else if (requestedCents > availableCents) {
      decision = 'DECLINED';
      reason = 'The order amount exceeds the available credit.';
    } else if (row.risk_rating === 'D') {
      decision = 'REVIEW';
      reason = 'Risk rating D: a credit controller must approve every order.';
    } else if (requestedCents > availableCents * REVIEW_THRESHOLD) {
      decision = 'REVIEW';
      reason = 'The order would use more than 80% of the available credit.';
    } else {
      decision = 'APPROVED';
      reason = 'Within the available credit.';
    }
    return {
      customerNumber: row.customer_number,
      customerName: row.name,
      currencyCode: CREDIT_CURRENCY,
      creditLimit: toUnits(row.credit_limit_cents),
      balance: toUnits(row.balance_cents),
      availableCredit: toUnits(availableCents),
      requestedAmount: toUnits(requestedCents),
      // The seed and migrations only write A-D (a CHECK constraint); the reply schema enforces it on the way out.
      riskRating: row.risk_rating as CreditCheck['riskRating'],
      onHold: row.on_hold === 1,
      decision,
      reason
    };
  }

  /** Availability of each line over all warehouses; unknown products fail the whole request (404). */
  stock(lines: readonly OrderLine[]): StockResult {
    const unknown = lines.filter((line) => !this.productStmt.get(line.productCode));
    if (unknown.length > 0) {
      throw new NotFoundError(
        `Unknown product(s): ${unknown.map((line) => line.productCode).join(', ')}.`
      );
    }
    const result: StockLine[] = lines.map((line) => {
      const product = this.productStmt.get(line.productCode) as ProductRow;
      const rows = this.inventoryStmt.all(line.productCode);
      const onHand = rows.reduce((sum, row) => sum + row.on_hand, 0);
      const reserved = rows.reduce((sum, row) => sum + row.reserved, 0);
      const available = Math.max(0, onHand - reserved);
      const status =
        available >= line.quantity ? 'IN_STOCK' : available > 0 ? 'PARTIAL' : 'OUT_OF_STOCK';
      return {
        productCode: product.product_code,
        productName: product.name,
        requestedQuantity: line.quantity,
        onHand,
        reserved,
        available,
        status,
        warehouses: rows.map((row) => ({
          warehouseCode: row.warehouse_code,
          available: Math.max(0, row.on_hand - row.reserved)
        }))
      };
    });
    return { allAvailable: result.every((line) => line.status === 'IN_STOCK'), lines: result };
  }

  /** Customer-specific prices: list price less the risk-rating discount and a volume discount per line. */
  pricing(customerNumber: string, lines: readonly OrderLine[]): PricingResult {
    const customer = this.customerStmt.get(customerNumber);
    if (!customer) {
      throw new NotFoundError(`Customer ${customerNumber} is not known to the ERP.`);
    }
    const products = lines.map((line) => ({
      line,
      product: this.productStmt.get(line.productCode)
    }));
    const unknown = products
      .filter((entry) => !entry.product)
      .map((entry) => entry.line.productCode);
    if (unknown.length > 0) {
      throw new NotFoundError(`Unknown product(s): ${unknown.join(', ')}.`);
    }
    const inactive = products
      .filter((entry) => entry.product?.active !== 1)
      .map((entry) => entry.line.productCode);
    if (inactive.length > 0) {
      throw new UnprocessableError(`Product(s) no longer sold: ${inactive.join(', ')}.`);
    }
    const currencies = new Set(products.map((entry) => (entry.product as ProductRow).currency));
    if (currencies.size > 1) {
      throw new UnprocessableError(
        'The products are priced in different currencies; quote them separately.'
      );
    }
    const riskDiscount = RISK_DISCOUNT[customer.risk_rating] ?? 0;
    let subtotalCents = 0;
    let totalCents = 0;
    const priced: PricingLine[] = products.map(({ line, product }) => {
      const row = product as ProductRow;
      const volume = VOLUME_TIERS.find(([minimum]) => line.quantity >= minimum)?.[1] ?? 0;
      const discountPercent = riskDiscount + volume;
      const grossCents = row.unit_price_cents * line.quantity;
      const netCents = Math.round((grossCents * (100 - discountPercent)) / 100);
      subtotalCents += grossCents;
      totalCents += netCents;
      return {
        productCode: row.product_code,
        productName: row.name,
        quantity: line.quantity,
        unitPrice: toUnits(row.unit_price_cents),
        discountPercent,
        lineTotal: toUnits(netCents)
      };
    });
    return {
      customerNumber: customer.customer_number,
      currencyCode: [...currencies][0] ?? CREDIT_CURRENCY,
      lines: priced,
      subtotal: toUnits(subtotalCents),
      discountTotal: toUnits(subtotalCents - totalCents),
      total: toUnits(totalCents)
    };
  }
}
