import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../http/errors';
import type { Caller } from './bearer';

/** Error code of a 429 (the shared error shape). */
export const RATE_LIMITED = 'RATE_LIMITED';

/**
 * Thrown by the rate-limit hook: the composition root's error handler answers it in the shared shape (`429`,
 * `RATE_LIMITED`); a pattern with its own error handler (the canvas page renders HTML) sees `statusCode` 429.
 * `Retry-After` is already on the reply.
 */
export class RateLimitedError extends HttpError {
  readonly statusCode = 429;

  constructor(
    readonly retryAfterSeconds: number,
    message: string
  ) {
    super(429, RATE_LIMITED, message);
    this.name = 'RateLimitedError';
  }
}

export interface RateLimitSettings {
  /** Requests per window for each secret (and each own-authentication client); 0 = no rate limiting. */
  readonly max: number;
  /** Requests per window for each client address without a valid credential. */
  readonly anonymousMax: number;
  readonly windowSeconds: number;
}

export interface RateLimitEvents {
  /**
   * A request was refused with a 429. `firstInWindow` is true once per key and window, so a caller that keeps
   * hammering produces one console note, not thousands.
   */
  onLimited?(
    request: FastifyRequest,
    caller: Caller,
    retryAfterSeconds: number,
    firstInWindow: boolean
  ): void;
}

/** The `onRequest` hook that counts a pattern-route request and refuses it with a 429 past the limit. */
export type RateLimitHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Registers `@fastify/rate-limit` (not global: only pattern routes are limited, never the console, `/health` or the
 * OpenAPI documents) and returns the hook each pattern context adds, or undefined when `max` is 0.
 *
 * Counting is per caller key (see {@link Caller}): one bucket per secret, one per client address for requests
 * without a valid credential or on routes that authenticate themselves. The hook runs **before** the bearer check,
 * so a stream of wrong tokens is limited too (with the smaller anonymous allowance) and cannot touch the org's.
 * Every limited response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`; a refused
 * one also `Retry-After` (seconds), which Salesforce's callers honour (see docs/remote-system.md, Security).
 * The store is the plugin's in-memory LRU: limits hold per process, which is all a single ERP instance needs.
 */
export async function registerRateLimit(
  app: FastifyInstance,
  settings: RateLimitSettings,
  identify: (request: FastifyRequest) => Caller,
  events: RateLimitEvents = {}
): Promise<RateLimitHook | undefined> {
  if (settings.max === 0) return undefined;
  const timeWindow = settings.windowSeconds * 1000;
  await app.register(fastifyRateLimit, {
    global: false,
    max: settings.max,
    timeWindow,
    keyGenerator: (request) => identify(request).key
  });
  const credentialed = app.createRateLimit({ max: settings.max, timeWindow });
  const anonymous = app.createRateLimit({ max: settings.anonymousMax, timeWindow });
  /** Window end (ms) per key already reported as limited; bounded so a flood of addresses cannot grow it. */
  const reported = new Map<string, number>();

  return async function limitRate(request, reply) {
    const caller = identify(request);
    const result = await (caller.kind === 'anonymous' ? anonymous : credentialed)(request);
    if (result.isAllowed) return;
    reply.header('x-ratelimit-limit', String(result.max));
    reply.header('x-ratelimit-remaining', String(result.remaining));
    reply.header('x-ratelimit-reset', String(result.ttlInSeconds));
    if (!result.isExceeded) return;

    const retryAfter = Math.max(1, result.ttlInSeconds);
    reply.header('retry-after', String(retryAfter));
    const windowEnd = Math.round((Date.now() + result.ttl) / 1000);
    const firstInWindow = reported.get(caller.key) !== windowEnd;
    if (firstInWindow) {
      if (reported.size >= 1000) reported.clear();
      reported.set(caller.key, windowEnd);
    }
    events.onLimited?.(request, caller, retryAfter, firstInWindow);
    throw new RateLimitedError(
      retryAfter,
      `Too many requests from ${describeCaller(caller)}: at most ${result.max} per ` +
        `${settings.windowSeconds} s. Retry after ${retryAfter} s.`
    );
  };
}

/** How a caller is named in messages and on the console (never the token itself). */
export function describeCaller(caller: Caller): string {
  if (caller.kind === 'secret') return `the ${caller.credential} shared secret`;
  if (caller.kind === 'own') return `${caller.address} (${caller.credential})`;
  return `${caller.address} without a valid bearer token`;
}
