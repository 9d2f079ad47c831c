import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../http/schema';

/**
 * The request-and-reply API's shapes, defined once with TypeBox: Fastify validates requests and serialises replies
 * with them, the handler and service types are `Static<typeof …>` of them, `@fastify/swagger` turns them into the
 * OpenAPI document the External Service embeds (the named ones, with `$id`, become `#/components/schemas/<$id>`:
 * Salesforce names the Flow types after them), and the contract tests check the shared examples in
 * `force-app/main/request-reply/staticresources/` against them.
 *
 * Errors use the server's shared shape (`ErrorBodySchema` in `../http/errors`).
 *
 * Kept to the JSON Schema subset that OpenAPI 3.0 and Salesforce External Services accept (no `const`, no tuple
 * forms, `type` always a single string).
 */

export const CUSTOMER_NUMBER_PATTERN = '^C-[0-9]{6}$';
export const PRODUCT_CODE_PATTERN = '^P-[0-9]{5}$';
/** Upper bound of lines per stock or pricing request: an Opportunity rarely has more, and it bounds the reply size. */
export const MAX_LINES = 50;
export const MAX_QUANTITY = 100000;

const money = () => Type.Number({ description: 'Amount in currency units, two decimals.' });

export const creditParamsSchema = Type.Object(
  {
    customerNumber: Type.String({
      pattern: CUSTOMER_NUMBER_PATTERN,
      description: 'ERP customer number, e.g. C-000001.'
    })
  },
  { additionalProperties: false }
);

export const creditQuerySchema = Type.Object(
  {
    amount: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1000000000,
        description: 'Amount of the order about to be placed, in currency units; 0 when omitted.'
      })
    )
  },
  { additionalProperties: false }
);

export const creditResponseSchema = Type.Object(
  {
    customerNumber: Type.String(),
    customerName: Type.String(),
    currencyCode: Type.String({ description: 'ISO 4217 code of every amount in this reply.' }),
    creditLimit: money(),
    balance: money(),
    availableCredit: money(),
    requestedAmount: money(),
    riskRating: StringEnum(['A', 'B', 'C', 'D']),
    onHold: Type.Boolean(),
    decision: StringEnum(['APPROVED', 'REVIEW', 'DECLINED']),
    reason: Type.String()
  },
  { $id: 'CreditCheck', additionalProperties: false }
);

const orderLineSchema = Type.Object(
  {
    productCode: Type.String({
      pattern: PRODUCT_CODE_PATTERN,
      description: 'ERP product code, e.g. P-00001.'
    }),
    quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY })
  },
  { additionalProperties: false }
);

export const stockRequestSchema = Type.Object(
  { lines: Type.Array(orderLineSchema, { minItems: 1, maxItems: MAX_LINES }) },
  { $id: 'StockRequest', additionalProperties: false }
);

export const stockResponseSchema = Type.Object(
  {
    allAvailable: Type.Boolean({ description: 'True when every line can be shipped in full.' }),
    lines: Type.Array(
      Type.Object(
        {
          productCode: Type.String(),
          productName: Type.String(),
          requestedQuantity: Type.Integer(),
          onHand: Type.Integer(),
          reserved: Type.Integer(),
          available: Type.Integer({ description: 'On hand minus reserved, over all warehouses.' }),
          status: StringEnum(['IN_STOCK', 'PARTIAL', 'OUT_OF_STOCK']),
          warehouses: Type.Array(
            Type.Object(
              { warehouseCode: Type.String(), available: Type.Integer() },
              { additionalProperties: false }
            )
          )
        },
        { additionalProperties: false }
      )
    )
  },
  { $id: 'StockCheck', additionalProperties: false }
);

export const pricingRequestSchema = Type.Object(
  {
    customerNumber: Type.String({ pattern: CUSTOMER_NUMBER_PATTERN }),
    lines: Type.Array(orderLineSchema, { minItems: 1, maxItems: MAX_LINES })
  },
  { $id: 'PricingRequest', additionalProperties: false }
);

export const pricingResponseSchema = Type.Object(
  {
    customerNumber: Type.String(),
    currencyCode: Type.String(),
    subtotal: money(),
    discountTotal: money(),
    total: money(),
    lines: Type.Array(
      Type.Object(
        {
          productCode: Type.String(),
          productName: Type.String(),
          quantity: Type.Integer(),
          unitPrice: money(),
          discountPercent: Type.Number(),
          lineTotal: money()
        },
        { additionalProperties: false }
      )
    )
  },
  { $id: 'PriceQuote', additionalProperties: false }
);

/** The named shapes, registered with `app.addSchema` by the module (routes reference them with `ref`). */
export const NAMED_SCHEMAS = [
  creditResponseSchema,
  stockRequestSchema,
  stockResponseSchema,
  pricingRequestSchema,
  pricingResponseSchema
] as const;

export type OrderLine = Static<typeof orderLineSchema>;
export type CreditCheck = Static<typeof creditResponseSchema>;
export type StockRequest = Static<typeof stockRequestSchema>;
export type StockCheck = Static<typeof stockResponseSchema>;
export type PricingRequest = Static<typeof pricingRequestSchema>;
export type PriceQuote = Static<typeof pricingResponseSchema>;
