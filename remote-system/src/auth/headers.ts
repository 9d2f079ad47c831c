import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * The Content-Security-Policy of every response: the console page loads only its own script and stylesheet (no
 * inline script or style, no CDN) and talks only to this server; nothing may frame it. JSON answers carry it too,
 * so a response opened directly in a browser can run nothing. A route that must be framed (the UI Integration
 * canvas page) sets its own policy in its own context, which replaces this one.
 */
export const CONTENT_SECURITY_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"]
};

/** The helmet options of the server-wide policy. */
export const HELMET_OPTIONS: Parameters<typeof helmet>[0] = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: CONTENT_SECURITY_DIRECTIVES as Record<string, string[]>
  },
  frameguard: { action: 'deny' },
  // TLS ends at the tunnel or proxy in front of the ERP, which owns HSTS; over plain-HTTP localhost it means nothing.
  strictTransportSecurity: false
};

/**
 * The headers helmet writes for {@link HELMET_OPTIONS}: its middleware run once against a response that records
 * them. Nothing in the policy depends on the request, so once is enough.
 */
export function securityHeaders(): Readonly<Record<string, string>> {
  const written: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: unknown) {
      written[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete written[name.toLowerCase()];
    }
  };
  helmet(HELMET_OPTIONS)({} as IncomingMessage, recorder as unknown as ServerResponse, (error) => {
    if (error) throw error;
  });
  return written;
}

/**
 * Security headers on every response (console, JSON API, errors, 404s): helmet's Content-Security-Policy
 * ({@link CONTENT_SECURITY_DIRECTIVES}), `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
 * `Referrer-Policy: no-referrer`, `Cross-Origin-Opener-Policy`/`-Resource-Policy: same-origin` and the rest of
 * its defaults — plus `Cache-Control: no-store`, so no browser or proxy keeps an API answer (customer balances,
 * prices); the console's static files say `no-cache` instead.
 *
 * **Computed once, set through Fastify** (helmet itself, not the `@fastify/helmet` plugin): that plugin rebuilds
 * helmet's middleware on every request and writes on the raw response; measured on the 2-core VM (server CPU per cheap request, 20,000
 * keep-alive requests): ~37 µs without headers, ~82 µs with the plugin global, ~60 µs with it registered
 * `global: false` (its per-request hooks alone), ~40 µs with the headers below. So the policy is computed once
 * ({@link securityHeaders}) and set on every reply through Fastify's header map, first of all hooks: an early
 * answer from a hook (401, 429, 503) carries them too, and a route can replace or remove any of them in its own
 * context — the canvas page, which Salesforce frames, sets its own CSP `frame-ancestors` and removes
 * `X-Frame-Options`.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const headers = Object.freeze({ ...securityHeaders(), 'cache-control': 'no-store' });
  // A callback hook, not an async one: no promise and no extra microtask on every request.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}
