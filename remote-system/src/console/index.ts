import { readFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackAddress } from '../auth/bearer';
import type { SecurityStatus } from '../auth/status';
import { isLoopbackHost } from '../config';
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

/** Headers that proxies and tunnels (cloudflared, ngrok, nginx, load balancers) add; a browser never sends them. */
const PROXY_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'cf-connecting-ip',
  'true-client-ip',
  'x-client-ip',
  'via'
];

/**
 * A request from a browser on this machine, addressed to this machine: the peer is loopback, no proxy header is
 * present (a tunnel such as cloudflared or ngrok connects from loopback too, but adds them), and the `Host` header
 * names a loopback host — which also defeats DNS rebinding, where a web page on another site resolves its own name
 * to 127.0.0.1 to reach the console from the presenter's browser as if it were same-origin.
 */
export function isLocalConsoleRequest(request: FastifyRequest): boolean {
  if (!isLoopbackAddress(request.socket.remoteAddress ?? '')) return false;
  if (PROXY_HEADERS.some((name) => request.headers[name] !== undefined)) return false;
  const host = request.headers.host ?? '';
  const hostname = host.startsWith('[')
    ? host.slice(0, host.indexOf(']') + 1)
    : host.split(':')[0]!;
  return hostname !== '' && isLoopbackHost(hostname);
}

/**
 * The console: one static page (`public/`), its state API, the fault knobs and the live-traffic stream
 * (server-sent events). It has no login: by default (`CONSOLE_ACCESS=local`) it answers only browsers on this
 * machine ({@link isLocalConsoleRequest}), so nothing that reaches the server through a tunnel, a proxy or the
 * network can read the traffic or touch the knobs; `CONSOLE_ACCESS=open` serves it to anyone who reaches the server
 * (a container whose host browser connects over the bridge network). It shows request metadata only — never
 * bodies or secrets. Fault changes must be JSON (`PUT`, `application/json`): a cross-site form cannot send that
 * without a CORS preflight this server never grants, so another web page cannot flip the knobs through the
 * presenter's browser. Security headers (CSP without inline script, frame-ancestors 'none', nosniff) come from
 * the server-wide hook of `src/auth/headers.ts`.
 */
export async function registerConsole(
  app: FastifyInstance,
  { runtime, security }: { runtime: ErpRuntime; security?: SecurityStatus }
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
      if (!isLocalConsoleRequest(request)) {
        return sendError(
          request,
          reply,
          403,
          ERROR_CODES.FORBIDDEN,
          'The console is limited to this machine (CONSOLE_ACCESS=local): open it at ' +
            `http://localhost:${request.socket.localPort ?? config.port}/ on the machine running the ERP, or ` +
            'set CONSOLE_ACCESS=open to serve it to anyone who reaches the server.'
        );
      }
      return undefined;
    });
  }

  for (const [url, asset] of assets) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) =>
      reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body)
    );
  }

  const describe = () => ({
    service: 'ERP remote system',
    publicUrl: config.publicUrl,
    usingDefaultSecret: config.usingDefaultSecret,
    ...(security === undefined ? {} : { security: security.snapshot() }),
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
      // The hijacked stream writes its own head: keep the headers hooks set (security headers, correlation id).
      ...(reply.getHeaders() as OutgoingHttpHeaders),
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
