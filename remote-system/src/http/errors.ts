import { Type, type TUnsafe } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ref } from './schema';

/**
 * The one error shape of the whole service:
 * `{ "error": { "status", "code", "message", "fields"?: [{ "field", "reason" }] }, "correlationId" }`.
 * Client mistakes are always 4xx with a code a program can branch on; 5xx only when the ERP itself failed.
 */
export interface FieldProblem {
  readonly field: string;
  readonly reason: string;
}

export interface ErrorBody {
  readonly error: {
    readonly status: number;
    readonly code: string;
    readonly message: string;
    readonly fields?: readonly FieldProblem[];
  };
  readonly correlationId: string;
}

/** Codes used by the server itself; pattern modules may add their own (upper snake case). */
export const ERROR_CODES = {
  BAD_REQUEST: 'BAD_REQUEST',
  MALFORMED_JSON: 'MALFORMED_JSON',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  CONFLICT: 'CONFLICT',
  INJECTED_FAULT: 'INJECTED_FAULT',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL_ERROR'
} as const;

const errorBodyProperties = {
  error: Type.Object({
    status: Type.Integer(),
    code: Type.String(),
    message: Type.String(),
    fields: Type.Optional(Type.Array(Type.Object({ field: Type.String(), reason: Type.String() })))
  }),
  correlationId: Type.String()
};

/**
 * The shared error shape as a named schema (`$id: 'Error'`, `#/components/schemas/Error` in the OpenAPI
 * documents). The server registers it once (`app.addSchema`), so any route can answer with it through
 * {@link errorResponses} or `ref(ErrorBodySchema, description)`.
 */
export const ErrorBodySchema = Type.Object(errorBodyProperties, { $id: 'Error' });

/**
 * The same shape inline (no `$id`), for places outside a server, such as a test compiling it with its own Ajv.
 * Inside routes prefer {@link errorResponses}, which reference the one named component.
 */
export const errorBodySchema = Type.Object(errorBodyProperties);

/** What each error status means unless a route says otherwise (the OpenAPI response descriptions). */
export const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'The request is invalid; `error.fields` says which field and why.',
  401: 'Missing or wrong bearer secret.',
  403: 'Forbidden.',
  404: 'Not found.',
  409: 'Conflicts with the current state.',
  413: 'The request body is too large.',
  415: 'Unsupported Content-Type.',
  422: 'The request is valid but cannot be answered.',
  500: 'The ERP failed (or a fault was injected from the console).',
  503: 'The ERP is not available.'
};

/**
 * Response schemas for error statuses, each a reference to the shared error shape: pass the statuses with the
 * route's own description, or `undefined` for the default one.
 *
 * ```ts
 * response: { 200: ref(CreditCheck, 'The credit decision.'), ...errorResponses({ 400: undefined, 404: 'Unknown customer.' }) }
 * ```
 */
export function errorResponses(
  statuses: Readonly<Record<number, string | undefined>>
): Record<number, TUnsafe<ErrorBody>> {
  return Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [
      Number(status),
      ref(ErrorBodySchema, description ?? ERROR_DESCRIPTIONS[Number(status)] ?? 'Error.')
    ])
  ) as Record<number, TUnsafe<ErrorBody>>;
}

/** Throw from a route to answer with the shared error shape, for example `throw new HttpError(409, 'CONFLICT', …)`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: readonly FieldProblem[]
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function errorBody(
  status: number,
  code: string,
  message: string,
  correlationId: string,
  fields?: readonly FieldProblem[]
): ErrorBody {
  return {
    error: { status, code, message, ...(fields && fields.length > 0 ? { fields } : {}) },
    correlationId
  };
}

/** Sends the shared error shape; returns the reply so a handler can `return sendError(…)`. */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  fields?: readonly FieldProblem[]
): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(errorBody(status, code, message, request.id, fields));
}

interface AjvIssue {
  readonly instancePath?: string;
  readonly message?: string;
  readonly keyword?: string;
  readonly params?: Record<string, unknown>;
}

/**
 * Turns Ajv issues into `{ field, reason }` with readable paths (`lines[0].quantity`, `query.amount`,
 * `header.x-fault-status`): what a Salesforce developer needs to fix the request.
 */
export function validationFields(
  issues: readonly AjvIssue[],
  context: string | undefined
): FieldProblem[] {
  const prefix =
    context === 'querystring'
      ? 'query.'
      : context === 'params'
        ? 'path.'
        : context === 'headers'
          ? 'header.'
          : '';
  return issues.map((issue) => {
    const segments = (issue.instancePath ?? '')
      .split('/')
      .filter((s) => s.length > 0)
      .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
      .join('');
    const missing = issue.params?.missingProperty;
    const extra = issue.params?.additionalProperty;
    const leaf = typeof missing === 'string' ? missing : typeof extra === 'string' ? extra : '';
    const path = [segments, leaf].filter((s) => s.length > 0).join(segments && leaf ? '.' : '');
    const field = `${prefix}${path}` || (context ?? 'body');
    let reason = issue.message ?? 'is invalid';
    if (typeof missing === 'string') reason = 'is required';
    else if (typeof extra === 'string') reason = 'is not a known field';
    return { field, reason };
  });
}

const FASTIFY_CODE_MAP: Readonly<
  Record<string, { status: number; code: string; message: string }>
> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: ERROR_CODES.MALFORMED_JSON,
    message: 'The request body is not valid JSON.'
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: ERROR_CODES.MALFORMED_JSON,
    message: 'The request declares a JSON body but sends none.'
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: ERROR_CODES.UNSUPPORTED_MEDIA_TYPE,
    message: 'Unsupported Content-Type; send application/json.'
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: ERROR_CODES.BAD_REQUEST,
    message: 'Content-Length does not match the body.'
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: ERROR_CODES.PAYLOAD_TOO_LARGE,
    message: 'The request body is larger than the server accepts.'
  }
};

/** Maps any error thrown while handling a request to the shared shape (installed by the composition root). */
export function toErrorBody(error: unknown, correlationId: string): ErrorBody {
  if (error instanceof HttpError) {
    return errorBody(error.status, error.code, error.message, correlationId, error.fields);
  }
  const fastifyError = error as Partial<FastifyError> & {
    validation?: AjvIssue[];
    validationContext?: string;
  };
  if (Array.isArray(fastifyError.validation)) {
    return errorBody(
      400,
      ERROR_CODES.VALIDATION_FAILED,
      'The request does not match the expected schema.',
      correlationId,
      validationFields(fastifyError.validation, fastifyError.validationContext)
    );
  }
  const mapped = fastifyError.code ? FASTIFY_CODE_MAP[fastifyError.code] : undefined;
  if (mapped) return errorBody(mapped.status, mapped.code, mapped.message, correlationId);
  // JSON.parse errors from other parsers, and any other error that carries a 4xx status.
  if (error instanceof SyntaxError) {
    return errorBody(
      400,
      ERROR_CODES.MALFORMED_JSON,
      'The request body is not valid JSON.',
      correlationId
    );
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return errorBody(
      status,
      status === 404 ? ERROR_CODES.NOT_FOUND : ERROR_CODES.BAD_REQUEST,
      fastifyError.message ?? 'Bad request.',
      correlationId
    );
  }
  if (typeof status === 'number' && status === 503) {
    return errorBody(
      503,
      ERROR_CODES.SERVICE_UNAVAILABLE,
      'The ERP is not available.',
      correlationId
    );
  }
  // Never leak internals: the details go to the log, keyed by the correlation id.
  return errorBody(
    500,
    ERROR_CODES.INTERNAL_ERROR,
    'The ERP failed to handle the request; quote the correlation id when reporting it.',
    correlationId
  );
}
