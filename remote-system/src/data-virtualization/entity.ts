/**
 * The one entity set this producer exposes: `Shipments`, over the ERP's `shipments` table. Every query option is
 * checked against this description, so a property that is not listed here can never reach SQL.
 */

import {
  SHIPMENT_COUNTED_COLUMNS,
  SHIPMENT_COUNTED_TUPLES,
  SHIPMENT_DATE_GAPS,
  SHIPMENT_PREFIX_COUNTED_COLUMNS,
  SHIPMENT_SUBSTRING_COUNTED_COLUMNS,
  SHIPMENT_KEY_SUBSTRING_COUNTED_COLUMNS,
  SHIPMENT_PER_VALUE_KEY_SUBSTRING_COUNTED_COLUMNS
} from '../db/migrations';

/** The Edm types used by the entity, mapped by Salesforce Connect to field types (see the README's Data Virtualization section). */
export type EdmType =
  | 'Edm.String'
  | 'Edm.Boolean'
  | 'Edm.Int32'
  | 'Edm.Double'
  | 'Edm.Decimal'
  | 'Edm.Date'
  | 'Edm.DateTimeOffset';

export interface PropertyDefinition {
  /** OData property name (PascalCase), also the `externalDeveloperName` of the external object's field. */
  readonly name: string;
  /** SQLite column. */
  readonly column: string;
  readonly type: EdmType;
  readonly nullable: boolean;
  readonly maxLength?: number;
  readonly precision?: number;
  readonly scale?: number;
  /** Included in `$search` (case-insensitive substring). */
  readonly searchable?: boolean;
  /**
   * An FTS5 `trigram` index of the column (`installSubstringIndex` in `db/migrations.ts`): `contains`/`endswith` and
   * `$search` terms of three characters or more read their candidate rows from it. Ignored when it does not exist.
   */
  readonly substringIndex?: string;
}

export interface EntitySetDefinition {
  readonly name: string;
  readonly entityType: string;
  readonly table: string;
  readonly key: PropertyDefinition;
  readonly properties: readonly PropertyDefinition[];
  /**
   * Order used when a request has no `$orderby` (OData leaves it to the service). Chosen so an index serves it for
   * every Salesforce Connect shape: newest first rides `shipments_by_shipped_at`, `shipments_customer_by_shipped_at`
   * for the related list and `shipments_<column>_newest` for a list-view filter, so a page stops reading after `$top`
   * rows instead of sorting every match (`SHIPMENT_INDEXES` in `db/migrations.ts`).
   */
  readonly defaultOrder: readonly { readonly name: string; readonly descending: boolean }[];
  /**
   * Row counts the database maintains (a table of `dimension`, `value`, `n` kept exact by triggers): `$count` of the
   * whole set or of one `eq` on `columns` reads one row; `prefixes` are columns counted by the first `length`
   * characters of their value (dimension `<column>/<length>`), for counts of a range; `tuples` are tuples of
   * `columns` counted by their values together in `tupleTable` (dimension `<a>|<b>|…`, key the JSON array of the
   * values), for counts of filters on several of them; `substrings` are columns counted by each substring of up to
   * `length` characters (dimension `<column>/substrings/<length>`, trusted while its row `''` is there), for counts
   * of a short `contains`; `keySubstrings` are columns counted by each substring of up to `length` characters of
   * their value that the row's `key` holds too, folded (dimension `<column>/key-substrings/<length>`, value the JSON
   * array of the value and the substring, trusted while its row `''` is there), for counts of a `$search` term both
   * hold; `perValueKeySubstrings` are columns whose values are counted by each substring of up to `length`
   * characters of their rows' `key`, as written (dimension `<column>/key-substrings-per-value/<length>`, value the
   * JSON array of the value and the substring, trusted for a value while its row `[value, ""]` is there: only values
   * with many rows have one), for counts of a `contains` of the key beside an `eq` of the value; `dateGaps` are pairs
   * of date-time columns whose difference `to` - `from`, in seconds, is bounded over every row with both (dimension
   * `<to>-<from>/seconds`, values `min` and `max`, trusted while both are there), for list views of a `from` period
   * sorted by `to`. Each is ignored when its table does not exist.
   */
  readonly counts?: {
    readonly table: string;
    readonly columns: readonly string[];
    readonly prefixes?: readonly { readonly column: string; readonly length: number }[];
    readonly substrings?: readonly { readonly column: string; readonly length: number }[];
    readonly keySubstrings?: readonly {
      readonly column: string;
      readonly key: string;
      readonly length: number;
    }[];
    readonly perValueKeySubstrings?: readonly {
      readonly column: string;
      readonly key: string;
      readonly length: number;
    }[];
    readonly tupleTable?: string;
    readonly tuples?: readonly (readonly string[])[];
    readonly dateGaps?: readonly { readonly from: string; readonly to: string }[];
  };
  /**
   * Versions of the table the database bumps on every write (a row `name` of `table` for the row set and one
   * `name.<column>` per column, kept by triggers), and the log of written rows (`changes`, migration 15): deep `$skip`
   * positions are cached while the versions an ordering depends on stand still, and repaired from the log when they
   * move (`SkipPositions`). Each is ignored when its table does not exist.
   */
  readonly version?: { readonly table: string; readonly name: string; readonly changes?: string };
}

export const NAMESPACE = 'ERP';
export const CONTAINER = 'ErpService';

const shipmentNumber: PropertyDefinition = {
  name: 'ShipmentNumber',
  column: 'shipment_number',
  type: 'Edm.String',
  nullable: false,
  maxLength: 20,
  searchable: true,
  substringIndex: 'shipments_shipment_number_trigrams'
};

export const SHIPMENTS: EntitySetDefinition = {
  name: 'Shipments',
  entityType: 'Shipment',
  table: 'shipments',
  key: shipmentNumber,
  defaultOrder: [{ name: 'ShippedAt', descending: true }],
  counts: {
    table: 'shipment_counts',
    columns: SHIPMENT_COUNTED_COLUMNS,
    prefixes: SHIPMENT_PREFIX_COUNTED_COLUMNS,
    substrings: SHIPMENT_SUBSTRING_COUNTED_COLUMNS,
    keySubstrings: SHIPMENT_KEY_SUBSTRING_COUNTED_COLUMNS,
    perValueKeySubstrings: SHIPMENT_PER_VALUE_KEY_SUBSTRING_COUNTED_COLUMNS,
    tupleTable: 'shipment_tuple_counts',
    tuples: SHIPMENT_COUNTED_TUPLES,
    dateGaps: SHIPMENT_DATE_GAPS
  },
  version: { table: 'table_versions', name: 'shipments', changes: 'shipments_changes' },
  properties: [
    shipmentNumber,
    {
      name: 'CustomerNumber',
      column: 'customer_number',
      type: 'Edm.String',
      nullable: false,
      maxLength: 20,
      searchable: true
    },
    {
      name: 'OrderNumber',
      column: 'order_number',
      type: 'Edm.String',
      nullable: true,
      maxLength: 20,
      searchable: true
    },
    { name: 'Carrier', column: 'carrier', type: 'Edm.String', nullable: true, maxLength: 40 },
    {
      name: 'ServiceLevel',
      column: 'service_level',
      type: 'Edm.String',
      nullable: true,
      maxLength: 40
    },
    {
      name: 'Status',
      column: 'status',
      type: 'Edm.String',
      nullable: true,
      maxLength: 40,
      searchable: true
    },
    {
      name: 'OriginWarehouse',
      column: 'origin_warehouse',
      type: 'Edm.String',
      nullable: true,
      maxLength: 20
    },
    {
      name: 'DestinationCity',
      column: 'destination_city',
      type: 'Edm.String',
      nullable: true,
      maxLength: 80,
      searchable: true
    },
    {
      name: 'DestinationCountry',
      column: 'destination_country',
      type: 'Edm.String',
      nullable: true,
      maxLength: 80
    },
    { name: 'WeightKg', column: 'weight_kg', type: 'Edm.Double', nullable: true },
    { name: 'PackageCount', column: 'package_count', type: 'Edm.Int32', nullable: true },
    {
      name: 'DeclaredValue',
      column: 'declared_value',
      type: 'Edm.Decimal',
      nullable: true,
      precision: 18,
      scale: 2
    },
    { name: 'ShippedAt', column: 'shipped_at', type: 'Edm.DateTimeOffset', nullable: true },
    { name: 'EstimatedDelivery', column: 'estimated_delivery', type: 'Edm.Date', nullable: true },
    { name: 'DeliveredAt', column: 'delivered_at', type: 'Edm.DateTimeOffset', nullable: true },
    { name: 'IsInsured', column: 'is_insured', type: 'Edm.Boolean', nullable: true }
  ]
};

const byName = new Map(SHIPMENTS.properties.map((p) => [p.name, p]));

/** Property lookup by its exact (case-sensitive, as OData requires) name. */
export function findProperty(name: string): PropertyDefinition | undefined {
  return byName.get(name);
}
