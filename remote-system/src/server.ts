import type Database from 'better-sqlite3';
import fastifySwagger from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions
} from 'fastify';
import { bearerAuth, callerIdentifier } from './auth/bearer';
import { registerSecurityHeaders } from './auth/headers';
import { redactUrl, redactingLoggerOptions, secretValuesOf } from './auth/log-redaction';
import { describeCaller, registerRateLimit } from './auth/rate-limit';
import { SecurityStatus } from './auth/status';
import { assertSafeExposure, type AppConfig } from './config';
import { registerConsole } from './console';
import { openDatabase } from './db';
import { InMemoryFaultSettings, applyFaults } from './faults';
import { CORRELATION_HEADER, correlationIdFor } from './http/correlation';
import {
  ERROR_CODES,
  ErrorBodySchema,
  errorResponses,
  sendError,
  toErrorBody
} from './http/errors';
import type { TypeBoxProvider } from './http/schema';
import { subsetDocument, swaggerOptions, type OpenApiDocument } from './openapi';
import type { EndpointDescription, PatternDependencies, PatternModule } from './pattern-module';
import { patternModules } from './patterns';
import type { ErpRuntime } from './runtime';
import { TrafficLog } from './traffic';

export type { ErpRuntime } from './runtime';

declare module 'fastify' {
  interface FastifyRequest {
    /** `performance.now()` when the request's first hook ran (0 before): the duration of a request the caller aborts. */
    receivedAt: number;
  }
}

export interface BuildOptions {
  /** Pattern modules to mount; defaults to `patternModules(config)` from `patterns.ts`. */
  readonly patterns?: readonly PatternModule[];
  /** An open database to use (the caller closes it); by default `config.databasePath` is opened and closed here. */
  readonly db?: Database.Database;
  /** Fastify logger options (tests pass a stream to read the log lines). Defaults to JSON lines on stdout. */
  readonly logger?: FastifyServerOptions['logger'];
  /** Size of the live-traffic ring buffer. */
  readonly trafficCapacity?: number;
}

/** Paths that stay open (no bearer): the console and its assets, health, the OpenAPI document. */
const OPEN_PREFIXES = ['/console', '/health', '/openapi.json'];

/**
 * The composition root: one Fastify instance with the shared cross-cutting behaviour (correlation ids, error shape,
 * content types, body limit, traffic recording), the open console/health/OpenAPI routes and every pattern module
 * mounted under `/<name>` behind the bearer check. It is not listening yet: `main.ts` listens on the configured
 * port, tests on 127.0.0.1 port 0.
 */
export async function buildServer(
  config: AppConfig,
  options: BuildOptions = {}
): Promise<FastifyInstance> {
  // Never serve the published development secret to the outside, whichever entry point built the server.
  assertSafeExposure(config);
  const patterns = options.patterns ?? patternModules(config);
  assertUniqueNames(patterns);
  const ownsDatabase = options.db === undefined;
  const db = options.db ?? openDatabase(config.databasePath);

  const secrets = [
    config.sharedSecret,
    ...(config.previousSharedSecret === undefined ? [] : [config.previousSharedSecret])
  ];
  const app = Fastify({
    // Bearer values, OAuth tokens, signed requests and cookies never reach a log line (src/auth/log-redaction.ts).
    logger: redactingLoggerOptions(options.logger, config.logLevel, [
      ...secrets,
      ...secretValuesOf(config.env)
    ]),
    genReqId: correlationIdFor,
    // Every log line of a request carries `correlationId` (the same value as the X-Correlation-Id header).
    logController: new LogController({ requestIdLogLabel: 'correlationId' }),
    bodyLimit: config.bodyLimitBytes,
    // Leaves in-flight requests to finish on close; idle keep-alive sockets are closed at once.
    forceCloseConnections: 'idle',
    // Requests arriving on kept-alive sockets while closing get a 503 in the shared shape (hook below) instead of
    // Fastify's own body.
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true },
    // Report every schema violation at once, and reject unknown fields instead of silently dropping them
    // (Fastify's defaults stop at the first error and strip additional properties).
    ajv: { customOptions: { allErrors: true, removeAdditional: false } }
  });

  // Security headers first, so every answer carries them, including those sent from the hooks below.
  registerSecurityHeaders(app);

  const faults = new InMemoryFaultSettings();
  const traffic = new TrafficLog(options.trafficCapacity);
  const endpoints = new Map<string, EndpointDescription[]>(patterns.map((p) => [p.name, []]));
  const runtime: ErpRuntime = { config, db, faults, traffic, patterns, endpoints };
  app.decorate('erp', runtime);

  // Only JSON bodies are accepted by default; a pattern that needs another type (SOAP XML, CSV) adds its own
  // parser inside its encapsulated context. Without this, text/plain would reach JSON routes as a string.
  app.removeContentTypeParser('text/plain');

  // The hooks every request runs are callback hooks (`done`), not async ones: no promise and no extra microtask
  // each, which is measurable on a request as cheap as a key lookup.
  let closing = false;
  // When the request arrived, for the 499 below (a request property, not a WeakMap entry per request).
  app.decorateRequest('receivedAt', 0);
  app.addHook('onRequest', (request, reply, done) => {
    request.receivedAt = performance.now();
    reply.header(CORRELATION_HEADER, request.id);
    if (closing) {
      reply.header('retry-after', '5');
      sendError(
        request,
        reply,
        503,
        ERROR_CODES.SERVICE_UNAVAILABLE,
        'The ERP is shutting down; retry shortly.'
      );
      return;
    }
    done();
  });

  const patternNames = new Set(patterns.map((p) => p.name));
  app.addHook('onResponse', (request, reply, done) => {
    traffic.record({
      kind: 'request',
      pattern: patternOf(request.url, patternNames),
      method: request.method,
      path: trafficPath(request.url),
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      correlationId: request.id
    });
    done();
  });

  // A caller that gives up (a Salesforce callout timing out on an injected hang, a closed browser tab) never gets
  // an onResponse: record it with nginx's 499 "client closed request" so the console shows the timeout.
  app.addHook('onRequestAbort', async (request) => {
    if (request.url === '/console/events') return; // the stream records its own end
    const started = request.receivedAt > 0 ? request.receivedAt : performance.now();
    traffic.record({
      kind: 'request',
      pattern: patternOf(request.url, patternNames),
      method: request.method,
      path: trafficPath(request.url),
      status: 499,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      correlationId: request.id
    });
    request.log.info('caller closed the connection before the response');
  });

  app.setErrorHandler(async (error, request, reply) => {
    const body = toErrorBody(error, request.id);
    if (body.error.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.error.code }, body.error.message);
    return reply.code(body.error.status).type('application/json; charset=utf-8').send(body);
  });

  app.setNotFoundHandler(async (request, reply) =>
    sendError(
      request,
      reply,
      404,
      ERROR_CODES.NOT_FOUND,
      `No route ${request.method} ${request.url.split('?')[0]}.`
    )
  );

  // The one OpenAPI generator (see openapi.ts); named schemas are registered once, here, for every route.
  const isOpen = (url: string): boolean =>
    url === '/' || OPEN_PREFIXES.some((prefix) => url.startsWith(prefix));
  await app.register(fastifySwagger, swaggerOptions(config.publicUrl, isOpen));
  app.addSchema(ErrorBodySchema);

  // Route descriptions are written once, as the schema `summary`: the console and the start-up print list them.
  app.addHook('onRoute', (route) => {
    const pattern = patternOf(route.url, patternNames);
    const list = endpoints.get(pattern);
    const summary = route.schema?.summary;
    if (!list || route.schema?.hide === true || typeof summary !== 'string') return;
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      if (!ENDPOINT_METHODS.has(method)) continue;
      list.push({
        method: method as EndpointDescription['method'],
        path: route.url.slice(pattern.length + 1),
        description: summary
      });
    }
  });

  app.withTypeProvider<TypeBoxProvider>().get(
    '/health',
    {
      schema: {
        summary: 'Liveness and database check',
        response: {
          200: Type.Object({
            status: Type.String(),
            uptimeSeconds: Type.Number(),
            database: Type.String(),
            patterns: Type.Array(Type.String())
          }),
          ...errorResponses({ 503: undefined })
        }
      }
    },
    async (request, reply) => {
      try {
        db.prepare('SELECT 1').get();
      } catch (error) {
        request.log.error({ err: error }, 'database check failed');
        return sendError(
          request,
          reply,
          503,
          ERROR_CODES.SERVICE_UNAVAILABLE,
          'The database is not available.'
        );
      }
      return {
        status: 'ok',
        uptimeSeconds: Math.round(process.uptime()),
        database: 'ok',
        patterns: patterns.map((p) => p.name)
      };
    }
  );

  const document = (): OpenApiDocument => app.swagger() as unknown as OpenApiDocument;
  app.get('/openapi.json', { schema: { hide: true } }, async () => document());

  // Inbound protection of the pattern routes: who is calling (one token hash per request), per-credential rate
  // limits (src/auth/rate-limit.ts), then the bearer check; the console shows the counters.
  const security = new SecurityStatus(config);
  const identify = callerIdentifier(secrets);
  const limitRate = await registerRateLimit(app, config.rateLimit, identify, {
    onLimited(request, caller, retryAfterSeconds, firstInWindow) {
      security.recordLimited(describeCaller(caller));
      if (firstInWindow) {
        traffic.note(patternOf(request.url, patternNames), 'Rate limit reached: answering 429', {
          caller: describeCaller(caller),
          retryAfterSeconds
        });
      }
    }
  });
  const checkBearer = bearerAuth(secrets, {
    identify,
    onAuthenticated(caller) {
      if (caller.credential === 'previous') security.recordPreviousSecretUse();
    }
  });

  await app.register(registerConsole, { runtime, security });

  for (const pattern of patterns) {
    const deps: PatternDependencies = {
      db,
      faults,
      traffic,
      publicUrl: config.publicUrl,
      applyFaults: (request, reply, options) =>
        applyFaults(pattern.name, request, reply, { ...options, faults, traffic })
    };
    await app.register(
      async (scope) => {
        if (limitRate !== undefined) scope.addHook('onRequest', limitRate);
        scope.addHook('onRequest', checkBearer);
        await pattern.register(scope, deps);
        // Each pattern's own document: its routes only, served from where the caller reached the server.
        if (!scope.hasRoute({ method: 'GET', url: `/${pattern.name}/openapi.json` })) {
          const prefix = `/${pattern.name}/`;
          scope.get('/openapi.json', { schema: { hide: true } }, async (request) =>
            subsetDocument(document(), {
              include: (path) => path.startsWith(prefix),
              info: {
                title: `ERP ${pattern.title} API`,
                version: '1.0.0',
                description: pattern.summary
              },
              serverUrl: requestBaseUrl(request)
            })
          );
        }
      },
      { prefix: `/${pattern.name}` }
    );
  }

  // Graceful shutdown: Fastify stops accepting and waits for in-flight requests, but a keep-alive socket whose
  // request was in flight when close() began would stay open until its keep-alive timeout. Answering those
  // requests with `Connection: close` lets the socket end as soon as the response is written.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('preClose', async () => {
    closing = true;
    faults.releaseAll();
  });
  if (ownsDatabase) {
    app.addHook('onClose', async () => {
      db.close();
    });
  }
  return app;
}

const ENDPOINT_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** The path the console's live traffic shows: credentials in the query redacted, at most 300 characters. */
function trafficPath(url: string): string {
  const path = redactUrl(url);
  return path.length > 300 ? `${path.slice(0, 297)}...` : path;
}

/** `http(s)://host[:port]` as the caller reached this server. */
function requestBaseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** The pattern a URL belongs to (its first path segment, when that names a pattern), else `system`. */
function patternOf(url: string, names: ReadonlySet<string>): string {
  // The text after the first `/` or `?` up to the next one (as `url.split(/[/?]/)[1]`, without the array).
  let start = 0;
  while (start < url.length && url[start] !== '/' && url[start] !== '?') start++;
  let end = ++start;
  while (end < url.length && url[end] !== '/' && url[end] !== '?') end++;
  const first = start > url.length ? '' : url.slice(start, end);
  return names.has(first) ? first : 'system';
}

function assertUniqueNames(patterns: readonly PatternModule[]): void {
  const seen = new Set<string>();
  for (const pattern of patterns) {
    if (!/^[a-z][a-z0-9-]*$/.test(pattern.name)) {
      throw new Error(`pattern name "${pattern.name}" must be a lower-case folder name`);
    }
    if (seen.has(pattern.name) || pattern.name === 'console' || pattern.name === 'health') {
      throw new Error(`pattern name "${pattern.name}" is used twice or reserved`);
    }
    seen.add(pattern.name);
  }
}
