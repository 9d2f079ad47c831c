import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Header carrying the correlation id in both directions (Salesforce's `IntegrationLog` sends and logs it). */
export const CORRELATION_HEADER = 'x-correlation-id';

/**
 * Accepted ids: 1–128 characters of letters, digits and `-_.:` — UUIDs, Salesforce request ids and most tracing
 * ids fit; anything else (spaces, quotes, control characters that could forge log lines) is replaced by a UUID.
 */
const VALID_ID = /^[A-Za-z0-9\-_.:]{1,128}$/;

export function isValidCorrelationId(value: string): boolean {
  return VALID_ID.test(value);
}

/** Fastify `genReqId`: the caller's id when valid, a new UUID otherwise. The id is `request.id` everywhere. */
export function correlationIdFor(request: IncomingMessage): string {
  const header = request.headers[CORRELATION_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && isValidCorrelationId(value) ? value : randomUUID();
}
