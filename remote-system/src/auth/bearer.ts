import { createHash, hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ERROR_CODES, sendError } from '../http/errors';

/**
 * Compares two secrets in constant time. Both sides are hashed first so the comparison always runs over two
 * equal-length 32-byte digests: neither the content nor the length of the expected secret leaks through timing.
 */
export function secretsMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * SHA-256 of a UTF-8 string. Node's one-shot `crypto.hash` (20.12+) is used when present: the same digest without
 * building a `Hash` object, which was most of the bearer check's cost per request.
 */
const digest: (value: string) => Buffer =
  typeof hash === 'function'
    ? (value) => hash('sha256', value, 'buffer')
    : (value) => createHash('sha256').update(value, 'utf8').digest();

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Checks a presented token against the accepted secrets — the current one first, then (during a rotation) the
 * previous one. The secrets' digests are computed once; each call hashes the token once and compares it with
 * **every** digest with `timingSafeEqual`, without stopping at the first match, so the time taken says neither
 * whether nor which secret matched. Returns the index of the matching secret, or -1.
 */
export function secretMatcher(secrets: readonly string[]): (presented: string) => number {
  if (secrets.length === 0) throw new Error('at least one secret is required');
  const digests = secrets.map(digest);
  return (presented) => {
    const candidate = digest(presented);
    let found = -1;
    for (let i = 0; i < digests.length; i++) {
      const equal = timingSafeEqual(candidate, digests[i]!);
      if (equal && found === -1) found = i;
    }
    return found;
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Set on a pattern route that a browser opens and that authenticates its caller itself, naming how (the UI
     * Integration canvas page: `'canvas-signed-request'`, an HMAC-signed POST from Salesforce verified by the route).
     * The bearer check skips such a route; every other route of every pattern stays behind it. Give the route
     * `schema: { hide: true }` too, so the OpenAPI documents (which describe the bearer-protected API) leave it out.
     * Rate limits still apply to it, per client address (see `src/auth/rate-limit.ts`).
     */
    readonly ownAuthentication?: string;
  }
}

/**
 * Who is calling a pattern route, as far as the request's headers tell before the body is read:
 * - `secret`: the bearer token matched the current (`ERP_SHARED_SECRET`) or the previous
 *   (`ERP_SHARED_SECRET_PREVIOUS`) secret;
 * - `own`: the route authenticates its caller itself (`config.ownAuthentication`), so only its address is known;
 * - `anonymous`: no token, or a wrong one.
 *
 * `key` is what rate limits count by: one bucket per secret (the org is one credential, however many users and
 * servers it calls from), one per client address for everything else, so a stranger without the secret can never
 * use up the org's allowance.
 */
export type Caller =
  | { readonly kind: 'secret'; readonly credential: 'current' | 'previous'; readonly key: string }
  | {
      readonly kind: 'own';
      readonly credential: string;
      readonly address: string;
      readonly key: string;
    }
  | {
      readonly kind: 'anonymous';
      readonly credential: 'missing' | 'invalid';
      readonly address: string;
      readonly key: string;
    };

/**
 * The client's address for per-address limits: the socket's peer, or — when the peer is this machine and the
 * request carries `X-Forwarded-For` (a tunnel such as cloudflared or ngrok running here) — the entry the tunnel
 * appended last, which a caller cannot forge. Used only to count requests, never to grant anything.
 */
export function clientAddress(request: FastifyRequest): string {
  const peer = request.socket.remoteAddress ?? 'unknown';
  if (!isLoopbackAddress(peer)) return peer;
  const forwarded = request.headers['x-forwarded-for'];
  const list = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
  if (list === undefined) return peer;
  const last = list.slice(list.lastIndexOf(',') + 1).trim();
  return last === '' ? peer : last;
}

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.x as socket addresses report them. */
export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * Identifies callers against the accepted secrets (`[current, previous?]`); the answer is remembered per request,
 * so the rate limit and the bearer check hash the token once between them.
 */
export function callerIdentifier(secrets: readonly string[]): (request: FastifyRequest) => Caller {
  const match = secretMatcher(secrets);
  const known = new WeakMap<FastifyRequest, Caller>();
  return (request) => {
    const cached = known.get(request);
    if (cached !== undefined) return cached;
    let caller: Caller;
    const own = request.routeOptions.config?.ownAuthentication;
    if (typeof own === 'string' && own !== '') {
      const address = clientAddress(request);
      caller = { kind: 'own', credential: own, address, key: `own:${own}:${address}` };
    } else {
      const token = bearerToken(request.headers.authorization);
      const index = token === undefined ? -1 : match(token);
      if (index >= 0) {
        const credential = index === 0 ? 'current' : 'previous';
        caller = { kind: 'secret', credential, key: `secret:${credential}` };
      } else {
        const address = clientAddress(request);
        caller = {
          kind: 'anonymous',
          credential: token === undefined ? 'missing' : 'invalid',
          address,
          key: `anonymous:${address}`
        };
      }
    }
    known.set(request, caller);
    return caller;
  };
}

/** Hooks for {@link bearerAuth}: what the security status on the console counts. */
export interface BearerAuthOptions {
  /** Identifies callers (shared with the rate limit so the token is hashed once); built from the secrets if absent. */
  readonly identify?: (request: FastifyRequest) => Caller;
  /** Called for each request let through with a secret (the console counts uses of the previous one). */
  readonly onAuthenticated?: (caller: Caller & { kind: 'secret' }) => void;
}

/**
 * `onRequest` hook guarding every pattern route: the org's External Credential (`ERP_Principal`, parameter
 * `ApiKey`) sends `Authorization: Bearer <secret>`; anything else gets a 401 in the shared error shape with a
 * `WWW-Authenticate` challenge, before the body is even read. `secrets` is the current secret, or
 * `[current, previous]` during a rotation (both accepted, both compared in constant time). A route whose
 * `config.ownAuthentication` names its own authentication is left to it (see that option).
 */
export function bearerAuth(secrets: string | readonly string[], options: BearerAuthOptions = {}) {
  const identify =
    options.identify ?? callerIdentifier(typeof secrets === 'string' ? [secrets] : secrets);
  // A callback hook (no promise per request): `done()` lets the request through; a 401 is sent instead of calling it.
  return function checkBearer(
    request: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction
  ): void {
    const caller = identify(request);
    if (caller.kind === 'own') {
      done();
      return;
    }
    if (caller.kind === 'secret') {
      options.onAuthenticated?.(caller);
      done();
      return;
    }
    if (caller.credential === 'missing') {
      reply.header('www-authenticate', 'Bearer realm="erp"');
      sendError(
        request,
        reply,
        401,
        ERROR_CODES.UNAUTHORIZED,
        'Missing bearer token: send Authorization: Bearer <ERP_SHARED_SECRET>.'
      );
      return;
    }
    reply.header('www-authenticate', 'Bearer realm="erp", error="invalid_token"');
    sendError(request, reply, 401, ERROR_CODES.UNAUTHORIZED, 'Invalid bearer token.');
  };
}
