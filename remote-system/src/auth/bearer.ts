import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, sendError } from '../http/errors';

/**
 * Compares two secrets in constant time. Both sides are hashed first so the comparison always runs over two
 * equal-length 32-byte digests: neither the content nor the length of the expected secret leaks through timing.
 */
export function secretsMatch(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Set on a pattern route that a browser opens and that authenticates its caller itself, naming how (the UI
     * Integration canvas page: `'canvas-signed-request'`, an HMAC-signed POST from Salesforce verified by the route).
     * The bearer check skips such a route; every other route of every pattern stays behind it. Give the route
     * `schema: { hide: true }` too, so the OpenAPI documents (which describe the bearer-protected API) leave it out.
     */
    readonly ownAuthentication?: string;
  }
}

/**
 * `onRequest` hook guarding every pattern route: the org's External Credential (`ERP_Principal`, parameter
 * `ApiKey`) sends `Authorization: Bearer <secret>`; anything else gets a 401 in the shared error shape with a
 * `WWW-Authenticate` challenge, before the body is even read. A route whose `config.ownAuthentication` names its own
 * authentication is left to it (see that option).
 */
export function bearerAuth(secret: string) {
  return async function checkBearer(
    request: FastifyRequest,
    reply: FastifyReply
  ): Promise<FastifyReply | undefined> {
    const own = request.routeOptions.config?.ownAuthentication;
    if (typeof own === 'string' && own !== '') return undefined;
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      reply.header('www-authenticate', 'Bearer realm="erp"');
      return sendError(
        request,
        reply,
        401,
        ERROR_CODES.UNAUTHORIZED,
        'Missing bearer token: send Authorization: Bearer <ERP_SHARED_SECRET>.'
      );
    }
    if (!secretsMatch(token, secret)) {
      reply.header('www-authenticate', 'Bearer realm="erp", error="invalid_token"');
      return sendError(request, reply, 401, ERROR_CODES.UNAUTHORIZED, 'Invalid bearer token.');
    }
    return undefined;
  };
}
