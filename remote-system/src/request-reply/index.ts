import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, errorResponses, sendError } from '../http/errors';
import { ref, type TypeBoxProvider } from '../http/schema';
import type { PatternDependencies, PatternModule } from '../pattern-module';
import { REQUEST_REPLY_EXTERNAL_SERVICE } from './external-service';
import {
  NAMED_SCHEMAS,
  creditParamsSchema,
  creditQuerySchema,
  creditResponseSchema,
  pricingRequestSchema,
  pricingResponseSchema,
  stockRequestSchema,
  stockResponseSchema
} from './schemas';
import { NotFoundError, RequestReplyService, UnprocessableError } from './service';

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
    externalServices: [REQUEST_REPLY_EXTERNAL_SERVICE],

    register(app: FastifyInstance, deps: PatternDependencies): void {
      const service = new RequestReplyService(deps.db);
      for (const schema of NAMED_SCHEMAS) app.addSchema(schema);
      const routes = app.withTypeProvider<TypeBoxProvider>();

      /** Console knobs and fault headers, through the server's shared helper; true when the reply is dealt with. */
      const faults = (request: FastifyRequest, reply: FastifyReply): Promise<boolean> =>
        deps.applyFaults(request, reply, { random: options.random, maxHangMs: options.maxHangMs });

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

      const unknown = 'The customer or a product is not known to the ERP.';

      routes.get(
        '/credit/:customerNumber',
        {
          schema: {
            operationId: 'checkCredit',
            summary: 'Credit decision for a customer and an order amount',
            params: creditParamsSchema,
            querystring: creditQuerySchema,
            response: {
              200: ref(creditResponseSchema, 'The credit decision.'),
              ...errorResponses({ 400: undefined, 404: unknown, 500: undefined })
            }
          }
        },
        async (request, reply) => {
          if (await faults(request, reply)) return reply;
          return answer(request, reply, () =>
            service.credit(request.params.customerNumber, request.query.amount ?? 0)
          );
        }
      );

      routes.post(
        '/stock',
        {
          schema: {
            operationId: 'checkStock',
            summary: 'Availability of order lines over all warehouses',
            body: ref(stockRequestSchema),
            response: {
              200: ref(stockResponseSchema, 'Availability per line.'),
              ...errorResponses({ 400: undefined, 404: unknown, 500: undefined })
            }
          }
        },
        async (request, reply) => {
          if (await faults(request, reply)) return reply;
          return answer(request, reply, () => service.stock(request.body.lines));
        }
      );

      routes.post(
        '/pricing',
        {
          schema: {
            operationId: 'quotePrices',
            summary: 'Customer-specific prices for order lines',
            body: ref(pricingRequestSchema),
            response: {
              200: ref(pricingResponseSchema, 'The quote.'),
              ...errorResponses({
                400: undefined,
                404: unknown,
                422: 'The request is valid but cannot be answered (inactive product, mixed currencies).',
                500: undefined
              })
            }
          }
        },
        async (request, reply) => {
          if (await faults(request, reply)) return reply;
          return answer(request, reply, () =>
            service.pricing(request.body.customerNumber, request.body.lines)
          );
        }
      );
    }
  };
}

export const requestReplyModule: PatternModule = createRequestReplyModule();
export default requestReplyModule;
