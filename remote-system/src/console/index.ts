import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { faultProfileProblems } from '../faults';
import { ERROR_CODES, sendError } from '../http/errors';
import type { FaultProfile } from '../pattern-module';
import type { ErpRuntime } from '../runtime';
import type { TrafficEvent } from '../traffic';

const PUBLIC_DIR = path.join(__dirname, 'public');

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/console/styles.css': { file: 'styles.css', type: 'text/css; charset=utf-8' }
};

/** The page loads only its own script and stylesheet and talks only to this server. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Bytes an event stream may have queued for a slow reader before it is dropped. */
const MAX_BUFFERED_BYTES = 1_048_576;

const faultBodySchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    latencyMs: { type: 'integer', minimum: 0, maximum: 130_000 },
    errorRate: { type: 'number', minimum: 0, maximum: 1 },
    errorStatus: { type: 'integer', minimum: 400, maximum: 599 },
    hang: { type: 'boolean' }
  }
} as const;

function isLoopback(ip: string): boolean {
  return ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';
}

/**
 * The console: one static page (`public/`), its state API, the fault knobs and the live-traffic stream
 * (server-sent events). Open by default because it is a local demo tool that shows only request metadata — never
 * bodies or secrets — and whose knobs only slow down or fail demo requests. `CONSOLE_ACCESS=local` restricts it to
 * browsers on this machine (and refuses anything that came through a proxy or tunnel) when the server is exposed.
 * Fault changes must be JSON (`PUT`, `application/json`): a cross-site form cannot send that without a CORS
 * preflight this server never grants, so another web page cannot flip the knobs through the presenter's browser.
 */
export async function registerConsole(
  app: FastifyInstance,
  { runtime }: { runtime: ErpRuntime }
): Promise<void> {
  const { config, faults, traffic, patterns, endpoints } = runtime;
  const assets = new Map(
    Object.entries(ASSETS).map(([url, asset]) => [
      url,
      { body: readFileSync(path.join(PUBLIC_DIR, asset.file)), type: asset.type }
    ])
  );
  const streams = new Set<() => void>();

  if (config.consoleAccess === 'local') {
    app.addHook('onRequest', async (request, reply) => {
      const consoleRoute = request.url === '/' || request.url.startsWith('/console');
      if (!consoleRoute) return undefined;
      const proxied =
        request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined;
      if (proxied || !isLoopback(request.socket.remoteAddress ?? '')) {
        return sendError(
          request,
          reply,
          403,
          ERROR_CODES.FORBIDDEN,
          'The console is limited to this machine (CONSOLE_ACCESS=local).'
        );
      }
      return undefined;
    });
  }

  for (const [url, asset] of assets) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type(asset.type)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .send(asset.body)
    );
  }

  const describe = () => ({
    service: 'ERP remote system',
    publicUrl: config.publicUrl,
    usingDefaultSecret: config.usingDefaultSecret,
    patterns: patterns.map((p) => ({
      name: p.name,
      title: p.title,
      summary: p.summary,
      endpoints: (endpoints.get(p.name) ?? []).map((e) => ({ ...e, path: `/${p.name}${e.path}` })),
      faults: faults.get(p.name)
    }))
  });

  app.get('/console/api/state', { schema: { hide: true } }, async () => describe());

  app.put<{ Params: { pattern: string }; Body: Partial<FaultProfile> }>(
    '/console/api/faults/:pattern',
    { schema: { hide: true, body: faultBodySchema } },
    async (request, reply) => {
      const { pattern } = request.params;
      if (!patterns.some((p) => p.name === pattern)) {
        return sendError(request, reply, 404, ERROR_CODES.NOT_FOUND, `No pattern "${pattern}".`);
      }
      const problems = faultProfileProblems(request.body);
      if (problems.length > 0) {
        return sendError(
          request,
          reply,
          400,
          ERROR_CODES.VALIDATION_FAILED,
          'Invalid fault settings.',
          problems
        );
      }
      const profile = faults.set(pattern, request.body);
      traffic.note(pattern, 'Fault knobs changed', { ...profile });
      return { pattern, faults: profile };
    }
  );

  app.get('/console/events', { schema: { hide: true } }, (request, reply) =>
    streamEvents(request, reply)
  );

  function streamEvents(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const res = reply.raw;
    const started = performance.now();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-correlation-id': request.id
    });
    const send = (event: string, data: unknown, id?: number): void => {
      // A client that stops reading must not make the server buffer events without bound: drop it; its browser
      // reconnects and replays from Last-Event-ID.
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        close();
        return;
      }
      res.write(
        `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
      );
    };
    res.write('retry: 2000\n\n');
    const lastId = Number(request.headers['last-event-id']);
    send('state', describe());
    for (const event of traffic.recent(Number.isInteger(lastId) ? lastId : 0)) {
      send('traffic', event, event.id);
    }
    const unsubscribeTraffic = traffic.subscribe((event: TrafficEvent) =>
      send('traffic', event, event.id)
    );
    const unsubscribeFaults = faults.onChange((pattern, profile) =>
      send('faults', { pattern, faults: profile })
    );
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribeTraffic();
      unsubscribeFaults();
      streams.delete(close);
      if (!res.writableEnded) res.end();
      traffic.record({
        kind: 'request',
        pattern: 'system',
        method: 'GET',
        path: '/console/events',
        status: 200,
        durationMs: Math.round(performance.now() - started),
        correlationId: request.id
      });
    };
    streams.add(close);
    request.raw.on('close', close);
    res.on('error', close);
  }

  // Streams never end on their own: end them when the server closes so in-flight requests are all that is awaited.
  app.addHook('preClose', async () => {
    for (const close of [...streams]) close();
  });
}
