import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../http';

/**
 * Shapes of the paged customer API the Salesforce batch (`ErpCustomerSyncBatch`) calls, defined once: Fastify
 * validates and serialises with them, `Static<…>` gives the TypeScript types, the OpenAPI document lists them, and
 * the contract test checks `force-app/main/batch-sync/staticresources/BatchSyncContract.json` against them.
 */

export const CUSTOMER_NUMBER_PATTERN = '^C-[0-9]{6}$';

export const CustomersQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Customers per page (bounded by the server).' })
    ),
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description: 'Opaque `nextCursor` of the previous page; omit for the first page.'
      })
    ),
    numbers: Type.Optional(
      Type.String({
        minLength: 8,
        maxLength: 20_000,
        description:
          'Comma-separated customer numbers (C-000001,…): only these customers, still in key order and paged.'
      })
    )
  },
  { additionalProperties: false }
);
export type CustomersQuery = Static<typeof CustomersQuery>;

export const CustomerBalance = Type.Object(
  {
    customerNumber: Type.String({ pattern: CUSTOMER_NUMBER_PATTERN }),
    name: Type.String(),
    currencyCode: Type.String({ minLength: 3, maxLength: 3 }),
    creditLimit: Type.Number({ description: 'Currency units, two decimals.' }),
    balance: Type.Number({ description: 'Open balance, currency units, two decimals.' }),
    riskRating: StringEnum(['A', 'B', 'C', 'D']),
    onHold: Type.Boolean()
  },
  { additionalProperties: false }
);
export type CustomerBalance = Static<typeof CustomerBalance>;

export const CustomersPage = Type.Object(
  {
    items: Type.Array(CustomerBalance),
    /** Absent on the last page (OpenAPI 3.0 has no null unions, which External Services read). */
    nextCursor: Type.Optional(Type.String()),
    /**
     * Requested `numbers` inside the key range this page covers that the ERP does not know: the batch records
     * them as per-record failures instead of silently skipping them.
     */
    missing: Type.Array(Type.String())
  },
  { additionalProperties: false }
);
export type CustomersPage = Static<typeof CustomersPage>;
