import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

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

/**
 * Security headers on every response (console, JSON API, errors, 404s), with `@fastify/helmet`:
 * Content-Security-Policy ({@link CONTENT_SECURITY_DIRECTIVES}), `X-Content-Type-Options: nosniff`,
 * `Referrer-Policy: no-referrer`, `Cross-Origin-Opener-Policy`/`-Resource-Policy: same-origin` and the rest of
 * helmet's defaults — plus `Cache-Control: no-store`, so no browser or proxy keeps an API answer (customer
 * balances, prices); the console's static files say `no-cache` instead and the event stream sets its own.
 *
 * Two helmet defaults are off, on purpose:
 * - `X-Frame-Options`: `frame-ancestors 'none'` says the same to every current browser, and helmet writes headers
 *   on the raw response, where a route that must be framed (the canvas page, framed by Salesforce) could not
 *   remove it; its own `frame-ancestors` replaces the CSP instead.
 * - `Strict-Transport-Security`: TLS ends at the tunnel or proxy in front of the ERP, which owns HSTS; over the
 *   plain-HTTP localhost the header means nothing.
 *
 * Registered before every other hook, so even a 401, 429 or 503 answered from a hook carries the headers.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: CONTENT_SECURITY_DIRECTIVES as Record<string, string[]>
    },
    frameguard: false,
    strictTransportSecurity: false
  });
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
}
