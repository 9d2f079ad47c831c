import { errorBodySchema } from '../http/errors';
import {
  creditParamsSchema,
  creditQuerySchema,
  creditResponseSchema,
  pricingRequestSchema,
  pricingResponseSchema,
  stockRequestSchema,
  stockResponseSchema
} from './schemas';

/**
 * OpenAPI 3.0 document of the request-and-reply API, generated from the same schema objects the routes validate
 * and serialise with. Version 3.0.x (not 3.1) because Salesforce External Services registers OpenAPI 3.0 schemas;
 * the External Service in `force-app/main/request-reply/externalServiceRegistrations/` embeds this very document
 * (a test fails when the two drift).
 */

export const OPENAPI_PATH = '/request-reply/openapi.json';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

const json = (schema: Schema, description: string): Schema => ({
  description,
  content: { 'application/json': { schema } }
});

const errors = (...statuses: string[]): Record<string, Schema> => {
  const descriptions: Record<string, string> = {
    '400': 'The request is invalid; `error.fields` says which field and why.',
    '401': 'Missing or wrong bearer secret.',
    '404': 'The customer or a product is not known to the ERP.',
    '422': 'The request is valid but cannot be answered (inactive product, mixed currencies).',
    '500': 'The ERP failed (or a fault was injected from the console).'
  };
  return Object.fromEntries(
    statuses.map((status) => [status, json(ref('Error'), descriptions[status] ?? 'Error')])
  );
};

/** Parameter objects derived from an object schema's properties. */
function parameters(schema: Schema, location: 'path' | 'query'): Schema[] {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: rest
    };
  });
}

export function buildOpenApiDocument(serverUrl = '/'): Schema {
  return {
    openapi: '3.0.3',
    info: {
      title: 'ERP request-and-reply API',
      version: '1.0.0',
      description:
        'Credit, stock and pricing answers Salesforce waits for before a rep closes or quotes. ' +
        'Every call needs `Authorization: Bearer <shared secret>` and may carry `X-Correlation-Id`.'
    },
    servers: [{ url: serverUrl }],
    paths: {
      '/request-reply/credit/{customerNumber}': {
        get: {
          operationId: 'checkCredit',
          summary: 'Credit decision for a customer and an order amount',
          parameters: [
            ...parameters(creditParamsSchema, 'path'),
            ...parameters(creditQuerySchema, 'query')
          ],
          responses: {
            '200': json(ref('CreditCheck'), 'The credit decision.'),
            ...errors('400', '401', '404', '500')
          }
        }
      },
      '/request-reply/stock': {
        post: {
          operationId: 'checkStock',
          summary: 'Availability of order lines over all warehouses',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref('StockRequest') } }
          },
          responses: {
            '200': json(ref('StockCheck'), 'Availability per line.'),
            ...errors('400', '401', '404', '500')
          }
        }
      },
      '/request-reply/pricing': {
        post: {
          operationId: 'quotePrices',
          summary: 'Customer-specific prices for order lines',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref('PricingRequest') } }
          },
          responses: {
            '200': json(ref('PriceQuote'), 'The quote.'),
            ...errors('400', '401', '404', '422', '500')
          }
        }
      }
    },
    components: {
      securitySchemes: { erpBearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        CreditCheck: creditResponseSchema,
        StockRequest: stockRequestSchema,
        StockCheck: stockResponseSchema,
        PricingRequest: pricingRequestSchema,
        PriceQuote: pricingResponseSchema,
        Error: errorBodySchema
      }
    },
    security: [{ erpBearer: [] }]
  };
}
