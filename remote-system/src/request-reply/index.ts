import Ajv from 'ajv';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PatternDependencies, PatternModule } from '../pattern-module';
import { applyFaults } from '../faults';
import { ERROR_CODES, errorBodySchema, sendError } from '../http/errors';
import { buildOpenApiDocument } from './openapi';
import {
  creditParamsSchema,
  creditQuerySchema,
  creditResponseSchema,
  pricingRequestSchema,
  pricingResponseSchema,
  stockRequestSchema,
  stockResponseSchema
} from './schemas';
import { NotFoundError, RequestReplyService, UnprocessableError, type OrderLine } from './service';

export const PATTERN_NAME = 'request-reply';
/** Error code of a valid request the ERP cannot answer (inactive product, mixed currencies). */
export const UNPROCESSABLE = 'UNPROCESSABLE';

/** Options for tests: pin the error-rate draw, shorten the hang ceiling. */
export interface RequestReplyOptions {
  random?: () => number;
  maxHangMs?: number;
}

/**
 * The ERP's half of Request and Reply: credit, stock and pricing answers that Salesforce waits for (through an LWC
 * and an Apex Continuation) before a rep closes or quotes.
 */
export function createRequestReplyModule(options: RequestReplyOptions = {}): PatternModule {
  return {
    name: PATTERN_NAME,
    title: 'Request and Reply',
    summary: 'Credit, stock and pricing checks Salesforce waits for through an Apex Continuation.',
    endpoints: [
      {
        method: 'GET',
        path: '/credit/:customerNumber',
        description: 'Credit decision (optional ?amount=)'
      },
      { method: 'POST', path: '/stock', description: 'Availability of order lines' },
      { method: 'POST', path: '/pricing', description: 'Customer-specific prices for order lines' },
      {
        method: 'GET',
        path: '/openapi.json',
        description: 'OpenAPI 3.0 document of these endpoints'
      }
    ],

    register(app: FastifyInstance, deps: PatternDependencies): void {
      const service = new RequestReplyService(deps.db);
      // Our own validator for this encapsulated context: every field error at once (Fastify's default stops at the
      // first), numbers coerced from path and query strings. Invalid requests then reach the server's error
      // handler, which answers 400 VALIDATION_FAILED listing each field.
      const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: false });
      app.setValidatorCompiler(({ schema }) => ajv.compile(schema));

      /** Console knobs and fault headers, through the server's shared helper; true when the reply is dealt with. */
      const faults = (request: FastifyRequest, reply: FastifyReply): Promise<boolean> =>
        applyFaults(PATTERN_NAME, request, reply, {
          faults: deps.faults,
          random: options.random,
          maxHangMs: options.maxHangMs
        });

      /** Runs the ERP logic and maps its domain errors to the shared error shape. */
      function answer(
        request: FastifyRequest,
        reply: FastifyReply,
        work: () => unknown
      ): FastifyReply {
        try {
          return reply.code(200).send(work());
        } catch (error) {
          if (error instanceof NotFoundError) {
            return sendError(request, reply, 404, ERROR_CODES.NOT_FOUND, error.message);
          }
          if (error instanceof UnprocessableError) {
            return sendError(request, reply, 422, UNPROCESSABLE, error.message);
          }
          throw error;
        }
      }

      const errorResponses = {
        400: errorBodySchema,
        404: errorBodySchema,
        422: errorBodySchema
      };

      app.get<{ Params: { customerNumber: string }; Querystring: { amount?: number } }>(
        '/credit/:customerNumber',
        {
          schema: {
            summary: 'Credit decision for a customer and an order amount',
            params: creditParamsSchema,
            querystring: creditQuerySchema,
            response: { 200: creditResponseSchema, ...errorResponses }
          }
        },
        async (request, reply) => {
          if (await faults(request, reply)) return reply;
          return answer(request, reply, () =>
            service.credit(request.params.customerNumber, request.query.amount ?? 0)
          );
        }
      );

      app.post<{ Body: { lines: OrderLine[] } }>(
        '/stock',
        {
          schema: {
            summary: 'Availability of order lines over all warehouses',
            body: stockRequestSchema,
            response: { 200: stockResponseSchema, ...errorResponses }
          }
        },
        async (request, reply) => {
          if (await faults(request, reply)) return reply;
          return answer(request, reply, () => service.stock(request.body.lines));
        }
      );

      app.post<{ Body: { customerNumber: string; lines: OrderLine[] } }>(
        '/pricing',
        {
          schema: {
            summary: 'Customer-specific prices for order lines',
            body: pricingRequestSchema,
            response: { 200: pricingResponseSchema, ...errorResponses }
          }
        },
        async (request, reply) => {
          if (await faults(request, reply)) return reply;
          return answer(request, reply, () =>
            service.pricing(request.body.customerNumber, request.body.lines)
          );
        }
      );

      // Hidden from the server-wide /openapi.json (which lists these routes from their schemas already); this one
      // carries operation ids and is the document the Salesforce External Service embeds.
      app.get('/openapi.json', { schema: { hide: true } }, async (request) => {
        const host = request.headers.host;
        return buildOpenApiDocument(host ? `${request.protocol}://${host}` : '/');
      });
    }
  };
}

export const requestReplyModule: PatternModule = createRequestReplyModule();
export default requestReplyModule;
