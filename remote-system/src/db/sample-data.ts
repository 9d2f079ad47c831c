/**
 * Deterministic sample data shared by both halves. The remote system's database and the Salesforce sample data
 * (`npm run org:setup`) are generated from the same functions and the same seed, so Account `C-000042` in the org
 * is customer `C-000042` in the ERP, with the same name, city and industry.
 *
 * Every customer and product is derived from its own index (not from a running random stream), so the first
 * 50 customers are the same whether 50 or 50,000 are generated.
 */

/** The fixed seed of the demo data set. Change it and both halves change together. */
export const DEFAULT_SEED = 20_260_101;

/** Warehouses inventory and shipments refer to. */
export const WAREHOUSES = ['WH-EAST', 'WH-WEST', 'WH-CENTRAL', 'WH-EU'] as const;

/** mulberry32: a tiny, fast 32-bit PRNG with good enough statistics for demo data; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Mixes a seed, a stream tag and an index into one 32-bit seed (murmur3 finaliser), so streams never overlap. */
export function deriveSeed(seed: number, stream: number, index: number): number {
  let h = (seed ^ Math.imul(stream, 0x9e3779b1) ^ Math.imul(index, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Small helpers over a random source. */
export class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  chance(probability: number): boolean {
    return this.next() < probability;
  }
}

export const STREAM = { customer: 1, product: 2, inventory: 3, order: 4, shipment: 5 } as const;

export interface Customer {
  readonly customerNumber: string;
  readonly name: string;
  readonly industry: string;
  readonly city: string;
  readonly country: string;
  readonly creditLimitCents: number;
  readonly balanceCents: number;
  readonly riskRating: 'A' | 'B' | 'C' | 'D';
  readonly onHold: boolean;
}

export interface Product {
  readonly productCode: string;
  readonly name: string;
  readonly family: string;
  readonly unitPriceCents: number;
  readonly currency: string;
  readonly active: boolean;
}

// Values of the standard Account.Industry picklist, so the records load into any org unchanged.
const INDUSTRIES = [
  'Agriculture',
  'Apparel',
  'Chemicals',
  'Construction',
  'Consulting',
  'Electronics',
  'Energy',
  'Engineering',
  'Food & Beverage',
  'Healthcare',
  'Hospitality',
  'Machinery',
  'Manufacturing',
  'Retail',
  'Shipping',
  'Technology',
  'Transportation',
  'Utilities'
] as const;

const PLACES: readonly (readonly [city: string, country: string])[] = [
  ['Chicago', 'United States'],
  ['Houston', 'United States'],
  ['Atlanta', 'United States'],
  ['Denver', 'United States'],
  ['Seattle', 'United States'],
  ['Boston', 'United States'],
  ['Toronto', 'Canada'],
  ['Montreal', 'Canada'],
  ['Mexico City', 'Mexico'],
  ['London', 'United Kingdom'],
  ['Manchester', 'United Kingdom'],
  ['Hamburg', 'Germany'],
  ['Munich', 'Germany'],
  ['Lyon', 'France'],
  ['Rotterdam', 'Netherlands'],
  ['Milan', 'Italy'],
  ['Barcelona', 'Spain'],
  ['Stockholm', 'Sweden'],
  ['Sydney', 'Australia'],
  ['Singapore', 'Singapore']
];

const NAME_FIRST = [
  'Acme',
  'Apex',
  'Atlas',
  'Beacon',
  'Blue Ridge',
  'Cascade',
  'Cedar',
  'Summit',
  'Everest',
  'Falcon',
  'Granite',
  'Harbor',
  'Ironwood',
  'Juniper',
  'Keystone',
  'Lakeside',
  'Meridian',
  'Northwind',
  'Oakridge',
  'Pinnacle',
  'Quarry',
  'Redwood',
  'Silverline',
  'Tidewater',
  'Union',
  'Vanguard',
  'Westfield',
  'Yellowstone'
] as const;

const NAME_SECOND = [
  'Industrial',
  'Supply',
  'Logistics',
  'Systems',
  'Foods',
  'Builders',
  'Energy',
  'Health',
  'Motors',
  'Textiles',
  'Components',
  'Labs',
  'Distribution',
  'Outfitters'
] as const;

const NAME_SUFFIX = ['Inc.', 'LLC', 'Ltd', 'GmbH', 'Group', 'Co.', 'Partners', 'Holdings'] as const;

const PRODUCT_FAMILIES = {
  Hardware: ['Bracket', 'Valve', 'Pump', 'Motor', 'Bearing', 'Sensor', 'Controller', 'Gearbox'],
  'Spare Parts': ['Gasket', 'Filter', 'Seal Kit', 'Belt', 'Fuse', 'Nozzle'],
  Consumables: ['Lubricant', 'Coolant', 'Cleaning Agent', 'Adhesive', 'Tape'],
  Software: ['Monitoring License', 'Analytics Module', 'Fleet Suite'],
  Services: ['Installation', 'Maintenance Plan', 'Training Day', 'Calibration']
} as const satisfies Record<string, readonly string[]>;

const PRODUCT_FAMILY_NAMES = Object.keys(PRODUCT_FAMILIES) as (keyof typeof PRODUCT_FAMILIES)[];
const PRODUCT_GRADES = ['Standard', 'Pro', 'Heavy Duty', 'Compact', 'Marine', 'Eco'] as const;

export function customerNumber(index: number): string {
  return `C-${String(index).padStart(6, '0')}`;
}

export function productCode(index: number): string {
  return `P-${String(index).padStart(5, '0')}`;
}

/** The customer at a 1-based index, the same for a given seed whatever the total count. */
export function customerAt(index: number, seed: number = DEFAULT_SEED): Customer {
  if (!Number.isInteger(index) || index < 1 || index > 999_999) {
    throw new RangeError(`customer index must be 1..999999, got ${index}`);
  }
  const r = new Random(deriveSeed(seed, STREAM.customer, index));
  const [city, country] = r.pick(PLACES);
  const riskRoll = r.next();
  const riskRating = riskRoll < 0.35 ? 'A' : riskRoll < 0.7 ? 'B' : riskRoll < 0.9 ? 'C' : 'D';
  const creditLimitCents = r.int(10, 500) * 100_000; // $1,000 steps between $10k and $500k
  // Most customers use part of their limit; a few (mostly weak ratings) are over it, so credit checks can fail.
  const utilisation = riskRating === 'D' ? 0.6 + r.next() * 0.6 : r.next() * 0.95;
  const balanceCents = Math.round((creditLimitCents * utilisation) / 100) * 100;
  const onHold = riskRating === 'D' ? r.chance(0.4) : r.chance(0.02);
  return {
    customerNumber: customerNumber(index),
    name: `${r.pick(NAME_FIRST)} ${r.pick(NAME_SECOND)} ${r.pick(NAME_SUFFIX)}`,
    industry: r.pick(INDUSTRIES),
    city,
    country,
    creditLimitCents,
    balanceCents,
    riskRating,
    onHold
  };
}

/** The product at a 1-based index, the same for a given seed whatever the total count. */
export function productAt(index: number, seed: number = DEFAULT_SEED): Product {
  if (!Number.isInteger(index) || index < 1 || index > 99_999) {
    throw new RangeError(`product index must be 1..99999, got ${index}`);
  }
  const r = new Random(deriveSeed(seed, STREAM.product, index));
  const family = r.pick(PRODUCT_FAMILY_NAMES);
  const item = r.pick(PRODUCT_FAMILIES[family]);
  const priceDollars =
    family === 'Software' || family === 'Services' ? r.int(200, 20_000) : r.int(2, 2_500);
  return {
    productCode: productCode(index),
    name: `${item} ${r.pick(PRODUCT_GRADES)} ${String.fromCharCode(65 + r.int(0, 25))}${r.int(100, 999)}`,
    family,
    unitPriceCents: priceDollars * 100 + r.pick([0, 49, 95, 99]),
    currency: 'USD',
    active: r.chance(0.95)
  };
}

export function generateCustomers(count: number, seed: number = DEFAULT_SEED): Customer[] {
  return Array.from({ length: count }, (_, i) => customerAt(i + 1, seed));
}

export function generateProducts(count: number, seed: number = DEFAULT_SEED): Product[] {
  return Array.from({ length: count }, (_, i) => productAt(i + 1, seed));
}

/** Plain Account records for the org, keyed by the External ID `ERP_Customer_Number__c`. */
export interface SalesforceAccountRecord {
  readonly Name: string;
  readonly ERP_Customer_Number__c: string;
  readonly Industry: string;
  readonly BillingCity: string;
  readonly BillingCountry: string;
  readonly Rating: 'Hot' | 'Warm' | 'Cold';
}

/** Plain Product2 records for the org, keyed by the External ID `ERP_Product_Code__c`. */
export interface SalesforceProductRecord {
  readonly Name: string;
  readonly ProductCode: string;
  readonly ERP_Product_Code__c: string;
  readonly Family: string;
  readonly IsActive: boolean;
  /** List price in the ERP's currency, for a standard price book entry. */
  readonly UnitPrice: number;
}

export interface SalesforceSampleData {
  readonly accounts: SalesforceAccountRecord[];
  readonly products: SalesforceProductRecord[];
}

/**
 * The Salesforce sample data matching the first `count` ERP customers and the first `productCount` ERP products
 * (same seed, same generators). Field names are Salesforce API names, ready for sObject Collections or Bulk API.
 */
export function salesforceSampleData(
  count: number,
  productCount: number = count,
  seed: number = DEFAULT_SEED
): SalesforceSampleData {
  const rating = { A: 'Hot', B: 'Warm', C: 'Cold', D: 'Cold' } as const;
  return {
    accounts: generateCustomers(count, seed).map((c) => ({
      Name: c.name,
      ERP_Customer_Number__c: c.customerNumber,
      Industry: c.industry,
      BillingCity: c.city,
      BillingCountry: c.country,
      Rating: rating[c.riskRating]
    })),
    products: generateProducts(productCount, seed).map((p) => ({
      Name: p.name,
      ProductCode: p.productCode,
      ERP_Product_Code__c: p.productCode,
      Family: p.family,
      IsActive: p.active,
      UnitPrice: p.unitPriceCents / 100
    }))
  };
}
