import type Database from 'better-sqlite3';

/**
 * The ERP's pricing tool, the screen the Canvas app shows: list prices from the ERP's `products` table and the ERP's
 * volume-discount rule. Prices are always computed here, on the server, from the product code and quantity; a price
 * sent by the browser is never trusted (the write-back recomputes it).
 */

/** Volume tiers: from `minQuantity` units on, `discountPercent` off the list price. */
export const VOLUME_TIERS: readonly { minQuantity: number; discountPercent: number }[] = [
  { minQuantity: 1, discountPercent: 0 },
  { minQuantity: 10, discountPercent: 5 },
  { minQuantity: 50, discountPercent: 8 },
  { minQuantity: 100, discountPercent: 12 }
];

export const MAX_QUANTITY = 100_000;
/** Products listed in the picker (the seeded catalog has 500; a real tool would search). */
export const PICKER_LIMIT = 200;

export interface ProductOption {
  readonly productCode: string;
  readonly name: string;
  readonly family: string;
  readonly unitPriceCents: number;
  readonly currency: string;
}

export interface Quote {
  readonly product: ProductOption;
  readonly quantity: number;
  readonly discountPercent: number;
  readonly listTotalCents: number;
  readonly totalCents: number;
  /** One line saying how the price was made, written to the Opportunity with it. */
  readonly basis: string;
}

/** Why a quote cannot be made (an unknown or inactive product, a bad quantity): a 422 page. */
export class PricingError extends Error {
  constructor(
    readonly code: 'UNKNOWN_PRODUCT' | 'INVALID_QUANTITY',
    message: string
  ) {
    super(message);
    this.name = 'PricingError';
  }
}

interface ProductRow {
  product_code: string;
  name: string;
  family: string;
  unit_price_cents: number;
  currency: string;
}

const toOption = (row: ProductRow): ProductOption => ({
  productCode: row.product_code,
  name: row.name,
  family: row.family,
  unitPriceCents: row.unit_price_cents,
  currency: row.currency
});

export class PricingTool {
  private readonly list: Database.Statement<[number], ProductRow>;
  private readonly one: Database.Statement<[string], ProductRow>;

  constructor(db: Database.Database) {
    this.list = db.prepare(
      `SELECT product_code, name, family, unit_price_cents, currency FROM products
        WHERE active = 1 ORDER BY family, name LIMIT ?`
    );
    this.one = db.prepare(
      `SELECT product_code, name, family, unit_price_cents, currency FROM products
        WHERE product_code = ? AND active = 1`
    );
  }

  /** Active products for the picker, by family and name. */
  products(): ProductOption[] {
    return this.list.all(PICKER_LIMIT).map(toOption);
  }

  /** The ERP's price for `quantity` units of `productCode`. */
  quote(productCode: string, quantity: number): Quote {
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
      throw new PricingError(
        'INVALID_QUANTITY',
        `The quantity must be a whole number from 1 to ${MAX_QUANTITY}.`
      );
    }
    const row = this.one.get(productCode);
    if (row === undefined) {
      throw new PricingError(
        'UNKNOWN_PRODUCT',
        `The ERP has no active product ${productCode}; pick one from the list.`
      );
    }
    const product = toOption(row);
    const tier = [...VOLUME_TIERS].reverse().find((t) => quantity >= t.minQuantity);
    const discountPercent = tier?.discountPercent ?? 0;
    const listTotalCents = product.unitPriceCents * quantity;
    const totalCents = Math.round((listTotalCents * (100 - discountPercent)) / 100);
    return {
      product,
      quantity,
      discountPercent,
      listTotalCents,
      totalCents,
      // The Opportunity field holds 255 characters.
      basis:
        `${product.productCode} ${product.name} x ${quantity} at ${formatMoney(product.unitPriceCents, product.currency)}, volume discount ${discountPercent}%`.slice(
          0,
          255
        )
    };
  }
}

/** `1,234.50 USD` (the page and the basis line; Salesforce stores the number). */
export function formatMoney(cents: number, currency: string): string {
  const units = (cents / 100).toLocaleString('en-US', {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2
  });
  return `${units} ${currency}`;
}
