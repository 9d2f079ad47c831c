/**
 * JSON Schemas of the request-and-reply API. One source for three uses: Fastify validates requests and serialises
 * responses with them, the OpenAPI document (`openapi.ts`) is generated from them, and the contract tests check the
 * shared examples in `force-app/main/request-reply/staticresources/` against them.
 *
 * Errors use the server's shared shape (`errorBodySchema` in `../http/errors`).
 *
 * Kept to the JSON Schema subset that OpenAPI 3.0 and Salesforce External Services accept (no `const`, no tuple
 * forms, `type` always a single string), so the same objects can be registered as an External Service.
 */

export const CUSTOMER_NUMBER_PATTERN = '^C-[0-9]{6}$';
export const PRODUCT_CODE_PATTERN = '^P-[0-9]{5}$';
/** Upper bound of lines per stock or pricing request: an Opportunity rarely has more, and it bounds the reply size. */
export const MAX_LINES = 50;
export const MAX_QUANTITY = 100000;

const money = { type: 'number', description: 'Amount in currency units, two decimals.' } as const;

export const creditParamsSchema = {
  type: 'object',
  required: ['customerNumber'],
  additionalProperties: false,
  properties: {
    customerNumber: {
      type: 'string',
      pattern: CUSTOMER_NUMBER_PATTERN,
      description: 'ERP customer number, e.g. C-000001.'
    }
  }
} as const;

export const creditQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    amount: {
      type: 'number',
      minimum: 0,
      maximum: 1000000000,
      description: 'Amount of the order about to be placed, in currency units; 0 when omitted.'
    }
  }
} as const;

export const creditResponseSchema = {
  type: 'object',
  required: [
    'customerNumber',
    'customerName',
    'currencyCode',
    'creditLimit',
    'balance',
    'availableCredit',
    'requestedAmount',
    'riskRating',
    'onHold',
    'decision',
    'reason'
  ],
  additionalProperties: false,
  properties: {
    customerNumber: { type: 'string' },
    customerName: { type: 'string' },
    currencyCode: { type: 'string', description: 'ISO 4217 code of every amount in this reply.' },
    creditLimit: money,
    balance: money,
    availableCredit: money,
    requestedAmount: money,
    riskRating: { type: 'string', enum: ['A', 'B', 'C', 'D'] },
    onHold: { type: 'boolean' },
    decision: { type: 'string', enum: ['APPROVED', 'REVIEW', 'DECLINED'] },
    reason: { type: 'string' }
  }
} as const;

const orderLineSchema = {
  type: 'object',
  required: ['productCode', 'quantity'],
  additionalProperties: false,
  properties: {
    productCode: {
      type: 'string',
      pattern: PRODUCT_CODE_PATTERN,
      description: 'ERP product code, e.g. P-00001.'
    },
    quantity: { type: 'integer', minimum: 1, maximum: MAX_QUANTITY }
  }
} as const;

export const stockRequestSchema = {
  type: 'object',
  required: ['lines'],
  additionalProperties: false,
  properties: {
    lines: { type: 'array', minItems: 1, maxItems: MAX_LINES, items: orderLineSchema }
  }
} as const;

export const stockResponseSchema = {
  type: 'object',
  required: ['allAvailable', 'lines'],
  additionalProperties: false,
  properties: {
    allAvailable: { type: 'boolean', description: 'True when every line can be shipped in full.' },
    lines: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'productCode',
          'productName',
          'requestedQuantity',
          'onHand',
          'reserved',
          'available',
          'status',
          'warehouses'
        ],
        additionalProperties: false,
        properties: {
          productCode: { type: 'string' },
          productName: { type: 'string' },
          requestedQuantity: { type: 'integer' },
          onHand: { type: 'integer' },
          reserved: { type: 'integer' },
          available: {
            type: 'integer',
            description: 'On hand minus reserved, over all warehouses.'
          },
          status: { type: 'string', enum: ['IN_STOCK', 'PARTIAL', 'OUT_OF_STOCK'] },
          warehouses: {
            type: 'array',
            items: {
              type: 'object',
              required: ['warehouseCode', 'available'],
              additionalProperties: false,
              properties: {
                warehouseCode: { type: 'string' },
                available: { type: 'integer' }
              }
            }
          }
        }
      }
    }
  }
} as const;

export const pricingRequestSchema = {
  type: 'object',
  required: ['customerNumber', 'lines'],
  additionalProperties: false,
  properties: {
    customerNumber: { type: 'string', pattern: CUSTOMER_NUMBER_PATTERN },
    lines: { type: 'array', minItems: 1, maxItems: MAX_LINES, items: orderLineSchema }
  }
} as const;

export const pricingResponseSchema = {
  type: 'object',
  required: ['customerNumber', 'currencyCode', 'lines', 'subtotal', 'discountTotal', 'total'],
  additionalProperties: false,
  properties: {
    customerNumber: { type: 'string' },
    currencyCode: { type: 'string' },
    subtotal: money,
    discountTotal: money,
    total: money,
    lines: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'productCode',
          'productName',
          'quantity',
          'unitPrice',
          'discountPercent',
          'lineTotal'
        ],
        additionalProperties: false,
        properties: {
          productCode: { type: 'string' },
          productName: { type: 'string' },
          quantity: { type: 'integer' },
          unitPrice: money,
          discountPercent: { type: 'number' },
          lineTotal: money
        }
      }
    }
  }
} as const;
