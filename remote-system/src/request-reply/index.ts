import Ajv from 'ajv';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PatternDependencies, PatternModule } from '../pattern-module';
import { MAX_FAULT_WAIT_MS, planFaults, wait, type FieldError } from './faults';
import { buildOpenApiDocument } from './openapi';
import {
  creditParamsSchema,
  creditQuerySchema,
  creditResponseSchema,
  errorResponseSchema,
  pricingRequestSchema,
  pricingResponseSchema,
  stockRequestSchema,
  stockResponseSchema
} from './schemas';
import { NotFoundError, RequestReplyService, UnprocessableError, type OrderLine } from './service';

export const PATTERN_NAME = 'request-reply';

/** Options for tests: pin the error-rate draw, shorten the hang ceiling. */
export interface RequestReplyOptions {
  random?: () => number;
  maxHangMs?: number;
}

type ErrorCode =
  'VALIDATION_FAILED' | 'NOT_FOUND' | 'UNPROCESSABLE' | 'INJECTED_FAULT' | 'INTERNAL_ERROR';

function correlationIdOf(request: FastifyRequest): string {
  const header = request.headers['x-correlation-id'];
  const value = Array.isArray(header) ? header[0] : header;
  return value && value.length > 0 ? value : request.id;
}

function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string,
  fieldErrors: FieldError[] = []
): FastifyReply {
  return reply
    .code(status)
    .send({ code, message, correlationId: correlationIdOf(request), fieldErrors });
}

/** The caller went away: take the reply from Fastify and free the socket; there is nobody to answer. */
function abandon(reply: FastifyReply): void {
  reply.hijack();
  reply.raw.destroy();
}

/** Turns Ajv errors (from Fastify's attached validation) into `field` paths a person can read: `lines[0].quantity`. */
function toFieldErrors(request: FastifyRequest): FieldError[] {
  const error = request.validationError as
    | (Error & {
        validation?: {
          instancePath?: string;
          message?: string;
          params?: Record<string, unknown>;
        }[];
        validationContext?: string;
      })
    | undefined;
  if (!error) {
    return [];
  }
  const context = error.validationContext ?? 'body';
  return (error.validation ?? []).map((issue) => {
    const segments = (issue.instancePath ?? '')
      .split('/')
      .filter((segment) => segment.length > 0)
      .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
      .join('');
    const missing = issue.params?.missingProperty;
    const extra = issue.params?.additionalProperty;
    const leaf =
      typeof missing === 'string' ? `.${missing}` : typeof extra === 'string' ? `.${extra}` : '';
    const field = `${context}${segments}${leaf}`.replace(
      /^(body|querystring|params|headers)\./,
      ''
    );
    let message = issue.message ?? 'is invalid';
    if (typeof missing === 'string') message = 'is required';
    if (typeof extra === 'string') message = 'is not a known field';
    return { field: field.length > 0 ? field : context, message };
  });
}

/**
 * The ERP's half of Request and Reply: credit, stock and pricing answers that Salesforce waits for (through an LWC
 * and an Apex Continuation) before a rep closes or quotes.
 */
export function createRequestReplyModule(options: RequestReplyOptions = {}): PatternModule {
  const maxHangMs = options.maxHangMs ?? MAX_FAULT_WAIT_MS;

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
      // first), numbers coerced from path and query strings.
      const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: false });
      app.setValidatorCompiler(({ schema }) => ajv.compile(schema));

      /** Applies the fault plan; returns true when the reply has been dealt with (error sent or client gone). */
      async function applyFaults(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
        const result = planFaults(deps.faults.get(PATTERN_NAME), request.headers, options.random);
        if (!result.ok) {
          sendError(
            request,
            reply,
            400,
            'VALIDATION_FAILED',
            'Invalid fault headers.',
            result.fieldErrors
          );
          return true;
        }
        const { plan } = result;
        if (!plan.hang && plan.latencyMs === 0 && plan.errorStatus === null) {
          return false;
        }
        const gone = new AbortController();
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) gone.abort();
        });
        if (plan.hang) {
          deps.traffic.note(PATTERN_NAME, 'Hanging until the caller gives up', {
            url: request.url
          });
          const elapsed = await wait(maxHangMs, gone.signal);
          if (!elapsed) {
            abandon(reply);
            return true;
          }
          sendError(
            request,
            reply,
            504,
            'INJECTED_FAULT',
            `Injected hang: no answer for ${maxHangMs} ms.`
          );
          return true;
        }
        if (plan.latencyMs > 0 && !(await wait(plan.latencyMs, gone.signal))) {
          abandon(reply);
          return true;
        }
        if (plan.errorStatus !== null) {
          deps.traffic.note(PATTERN_NAME, `Injected ${plan.errorStatus}`, { url: request.url });
          sendError(
            request,
            reply,
            plan.errorStatus,
            'INJECTED_FAULT',
            `Injected fault: HTTP ${plan.errorStatus}.`
          );
          return true;
        }
        return false;
      }

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
            return sendError(request, reply, 404, 'NOT_FOUND', error.message);
          }
          if (error instanceof UnprocessableError) {
            return sendError(request, reply, 422, 'UNPROCESSABLE', error.message);
          }
          throw error;
        }
      }

      const errorResponses = {
        400: errorResponseSchema,
        404: errorResponseSchema,
        422: errorResponseSchema
      };

      app.get<{ Params: { customerNumber: string }; Querystring: { amount?: number } }>(
        '/credit/:customerNumber',
        {
          attachValidation: true,
          schema: {
            params: creditParamsSchema,
            querystring: creditQuerySchema,
            response: { 200: creditResponseSchema, ...errorResponses }
          }
        },
        async (request, reply) => {
          if (await applyFaults(request, reply)) return reply;
          if (request.validationError) {
            return sendError(
              request,
              reply,
              400,
              'VALIDATION_FAILED',
              'Invalid credit check.',
              toFieldErrors(request)
            );
          }
          return answer(request, reply, () =>
            service.credit(request.params.customerNumber, request.query.amount ?? 0)
          );
        }
      );

      app.post<{ Body: { lines: OrderLine[] } }>(
        '/stock',
        {
          attachValidation: true,
          schema: {
            body: stockRequestSchema,
            response: { 200: stockResponseSchema, ...errorResponses }
          }
        },
        async (request, reply) => {
          if (await applyFaults(request, reply)) return reply;
          if (request.validationError) {
            return sendError(
              request,
              reply,
              400,
              'VALIDATION_FAILED',
              'Invalid stock check.',
              toFieldErrors(request)
            );
          }
          return answer(request, reply, () => service.stock(request.body.lines));
        }
      );

      app.post<{ Body: { customerNumber: string; lines: OrderLine[] } }>(
        '/pricing',
        {
          attachValidation: true,
          schema: {
            body: pricingRequestSchema,
            response: { 200: pricingResponseSchema, ...errorResponses }
          }
        },
        async (request, reply) => {
          if (await applyFaults(request, reply)) return reply;
          if (request.validationError) {
            return sendError(
              request,
              reply,
              400,
              'VALIDATION_FAILED',
              'Invalid pricing request.',
              toFieldErrors(request)
            );
          }
          return answer(request, reply, () =>
            service.pricing(request.body.customerNumber, request.body.lines)
          );
        }
      );

      app.get('/openapi.json', async (request) => {
        const host = request.headers.host;
        return buildOpenApiDocument(host ? `${request.protocol}://${host}` : '/');
      });
    }
  };
}

export const requestReplyModule: PatternModule = createRequestReplyModule();
export default requestReplyModule;
